"""Every input topic → validate, de-duplicate, window → the loop's metrics in ClickHouse.

    drama.content … drama.users ──take_events(≤ BATCH_MAX, ≤ BATCH_SECONDS)──► ingest_events
        ├─ rejected ──► drama.dlq (original bytes + source headers), events_rejected
        └─ accepted ──► events_raw, title_events, title_metrics_1m_parts, episode_metrics_1m_parts,
                        segment_metrics_1m_parts, title_first_views_parts   (+ pipeline_health_1m_parts)

At least once in, exactly once out: every table is written only past its own high-water mark
(the last offset it holds per topic-partition), so a replayed message is never written twice;
a batch is acknowledged only after all its writes succeeded. See streams/README.md.
"""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timezone

from schemas.topics import DLQ, INPUT_TOPICS
from streams import batch as rows
from streams.app import SETTINGS, app
from streams.state import HIGH_WATER, restore_high_water, restore_partition, restore_profiles
from streams.trends import FEEDBACK, feedback_scores
from warehouse.client import connect
from warehouse.sink import ClickHouseSink

BATCH_MAX = 10_000
BATCH_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0

log = logging.getLogger(__name__)
input_topics = app.topic(*[SETTINGS.topic(name) for name in INPUT_TOPICS],
                         key_type=bytes, value_type=bytes, value_serializer="raw")
dead_letters = app.topic(SETTINGS.topic(DLQ), key_type=bytes, value_type=bytes, value_serializer="raw")

STAMP = ("src_topic", "src_partition", "src_first_offset", "src_last_offset")
COLUMNS = {
    "events_rejected": ("topic", "partition", "offset", "reason", "detail", "raw"),
    "events_raw": ("event_id", "event_type", "event_time", "event_time_us", "app_id", "user_id", "title_id",
                   "topic", "partition", "offset", "payload"),
    "title_events": ("title_id", "event_type", "event_time", "event_ts", "trope", "genre", "origin", "adaptation",
                     "parent_title_id", "signal_id", "episode", "production_cost_usd", "virtual_actors",
                     "episodes_total", "free_episodes", "topic", "partition", "offset"),
    "title_metrics_1m_parts": ("window_start", "title_id", "user_id", *rows.TITLE_COUNTERS, *STAMP),
    "episode_metrics_1m_parts": ("window_start", "title_id", "episode", "starts", "completes", "exits",
                                 "paywalls_shown", "unlocks", *STAMP),
    "segment_metrics_1m_parts": ("window_start", "gender", "age_band", "country", "user_id", "viewer", "payer",
                                 "purchases", "iap_revenue_usd", "ad_revenue_usd", *STAMP),
    "title_first_views_parts": ("title_id", "first_view_ts", *STAMP),
    "pipeline_health_1m_parts": ("window_start", "events_in", "accepted", "duplicates", "rejected", "late",
                                 "max_event_lag_s", *STAMP),
    "recreate_signals_log": ("signal_id", "title_id", "trope", "score", "reason", "emitted_at", "emitted_ts",
                             "window_start", "window_end"),
}
SINKS = {table: ClickHouseSink(SETTINGS, table, columns) for table, columns in COLUMNS.items()}


class Progress:
    """What the worker has done, for GET /health (and `make status`)."""

    def __init__(self):
        self.started = datetime.now(timezone.utc)
        self.batches = 0
        self.messages = 0
        self.last_batch_at: datetime | None = None
        self.retrying: str = ""

    def as_dict(self) -> dict:
        return {"status": "retrying" if self.retrying else "ok", "retrying": self.retrying,
                "started": self.started.isoformat(), "batches": self.batches, "messages": self.messages,
                "last_batch_at": self.last_batch_at.isoformat() if self.last_batch_at else None}


progress = Progress()


@app.page("/health")
async def health(web, request):
    """Liveness beyond the open port: batches done, and what is being retried if anything."""
    return web.json(progress.as_dict())


class Memory:
    """The worker's state: per-partition de-duplication and watermarks, profiles, high-water marks."""

    def __init__(self):
        self.states: dict = {}
        self.profiles: dict | None = None
        self.high_water: dict | None = None

    def forget(self, partitions) -> None:
        """Partitions moved away: rebuild from ClickHouse if they come back."""
        for tp in partitions:
            self.states.pop((tp.topic, tp.partition), None)
        self.high_water = None

    def ensure(self, messages) -> None:
        """Rebuild what is missing for this batch's partitions from ClickHouse (blocking)."""
        missing = {}
        for m in messages:
            if (m.topic, m.partition) not in self.states and (m.topic, m.partition) not in missing:
                missing[(m.topic, m.partition)] = m.offset
        if not missing and self.profiles is not None and self.high_water is not None:
            return
        client = connect(SETTINGS)
        try:
            if self.profiles is None:
                self.profiles = restore_profiles(client)
            if self.high_water is None or missing:
                self.high_water = restore_high_water(client)
            for (topic, partition), first in missing.items():
                self.states[(topic, partition)] = restore_partition(client, topic, partition, first)
                log.info("restored %s[%d] from ClickHouse before offset %d", topic, partition, first)
        finally:
            client.disconnect()


memory = Memory()


@app.on_partitions_revoked.connect
async def forget_revoked(app, revoked, **kwargs) -> None:  # noqa: ARG001
    memory.forget(revoked)


async def retry(what: str, attempt):
    """Await attempt() until it succeeds, backing off up to RETRY_MAX_SECONDS: nothing is skipped."""
    delay = 0.5
    while True:
        try:
            result = await attempt()
            progress.retrying = ""
            return result
        except Exception as error:  # noqa: BLE001 - every failure is retried, never acknowledged
            progress.retrying = f"{what}: {error}"
            log.warning("%s failed (%s); retrying in %.1fs", what, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)


def in_thread(blocking, *args):
    """An attempt for retry(): a blocking call (clickhouse-driver) run off the event loop."""
    return lambda: asyncio.get_running_loop().run_in_executor(None, blocking, *args)


async def send_dead_letters(invalid) -> None:
    """Send every rejected message to drama.dlq and wait until Kafka acknowledged each."""
    pending = [await dead_letters.send(key=i.message.key, value=i.message.value, headers=rows.dlq_headers(i))
               for i in invalid]
    for future in pending:
        await future


async def write(table: str, table_rows: list[dict]) -> None:
    if table_rows:
        await retry(f"writing {len(table_rows)} rows to {table}", in_thread(SINKS[table].write, table_rows))
        marks = memory.high_water.setdefault(table, {})
        topic, partition, offset = HIGH_WATER[table]
        for row in table_rows:
            tp = (row[topic], row[partition])
            marks[tp] = max(marks.get(tp, -1), row[offset])


async def process(messages: list) -> None:
    await retry("restoring state from ClickHouse", in_thread(memory.ensure, messages))
    sorted_out = rows.classify(messages, memory.states, memory.profiles, SETTINGS.namespace)
    marks = memory.high_water
    span = rows.spans(messages)
    invalid = rows.fresh(sorted_out.invalid, marks.get("events_rejected", {}))
    if invalid:
        log.info("%d of %d messages rejected; first: %s", len(invalid), len(messages), invalid[0].detail)
        await retry("sending dead letters", lambda: send_dead_letters(invalid))
    health = rows.health_rows(sorted_out, messages, span, marks.get("pipeline_health_1m_parts", {}),
                              datetime.now(timezone.utc).replace(tzinfo=None))
    valid = sorted_out.valid
    windowed = rows.fresh(valid, marks.get("title_metrics_1m_parts", {}))
    # Three stages, each table of a stage written at once on its own connection: events_raw
    # before the metric tables (it is what de-duplication is rebuilt from after a restart),
    # pipeline health last (it says the batch is complete).
    await asyncio.gather(
        write("events_rejected", rows.rejected_rows(invalid)),
        write("events_raw", rows.raw_rows(rows.fresh(valid, marks.get("events_raw", {})))),
        write("title_events", rows.title_event_rows(rows.fresh(valid, marks.get("title_events", {})))))
    await asyncio.gather(
        write("title_metrics_1m_parts", rows.title_rows(windowed, span)),
        *(write(table, build(rows.fresh(valid, marks.get(table, {})), span))
          for table, build in (("episode_metrics_1m_parts", rows.episode_rows),
                               ("segment_metrics_1m_parts", rows.segment_rows),
                               ("title_first_views_parts", rows.first_view_rows))))
    await write("pipeline_health_1m_parts", health)
    scores = feedback_scores(windowed)
    if scores:
        await FEEDBACK.put(scores)


@app.agent(input_topics)
async def ingest_events(stream):
    async for events in stream.take_events(BATCH_MAX, within=BATCH_SECONDS):
        messages = [rows.Message(e.message.topic, e.message.partition, e.message.offset, e.message.key, e.value)
                    for e in events]
        try:
            await process(messages)
            progress.batches += 1
            progress.messages += len(messages)
            progress.last_batch_at = datetime.now(timezone.utc)
        except asyncio.CancelledError:
            # take_events would acknowledge this unwritten batch on the way out: leave as a
            # kill -9 would, so the next start replays it (and writes only what is missing).
            log.warning("stopped in the middle of a batch of %d; exiting without acknowledging it", len(messages))
            logging.shutdown()
            os._exit(3)
