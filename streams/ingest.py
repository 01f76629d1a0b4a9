"""Every input topic → validate → accepted to events_raw and the metrics, rejected to drama.dlq
and events_rejected.

    drama.content … drama.users ──take_events(≤ BATCH_MAX, ≤ BATCH_SECONDS)──► ingest_events
        ├─ invalid ──► drama.dlq (original bytes + source headers), events_rejected
        └─ valid ────► events_raw, title_metrics_1m_parts

A batch is acknowledged only after every write of it succeeded: ClickHouse writes are retried
with backoff inside the loop (never raised out of it, since take_events acknowledges in a
`finally`), so while ClickHouse is down the agent stops consuming instead of buffering.
"""
from __future__ import annotations

import asyncio
import logging

from schemas.topics import DLQ, INPUT_TOPICS
from streams.app import SETTINGS, app
from streams.batch import Message, dlq_headers, raw_rows, rejected_rows, sort_out, title_start_rows
from warehouse.sink import ClickHouseSink

BATCH_MAX = 10_000
BATCH_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0

log = logging.getLogger(__name__)
input_topics = app.topic(*[SETTINGS.topic(name) for name in INPUT_TOPICS],
                         key_type=bytes, value_type=bytes, value_serializer="raw")
dead_letters = app.topic(SETTINGS.topic(DLQ), key_type=bytes, value_type=bytes, value_serializer="raw")

events_raw = ClickHouseSink(SETTINGS, "events_raw", (
    "event_id", "event_type", "event_time", "event_time_us", "app_id", "user_id", "title_id",
    "topic", "partition", "offset", "payload"))
events_rejected = ClickHouseSink(SETTINGS, "events_rejected", (
    "topic", "partition", "offset", "reason", "detail", "raw"))
title_metrics = ClickHouseSink(SETTINGS, "title_metrics_1m_parts", (
    "window_start", "title_id", "episode_starts", "src_topic", "src_partition", "src_first_offset",
    "src_last_offset"))


async def retry(what: str, action, *args) -> None:
    """Run a blocking write in a thread until it succeeds, backing off up to RETRY_MAX_SECONDS."""
    delay = 0.5
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, action, *args)
            return
        except Exception as error:  # noqa: BLE001 - every failure is retried, never acknowledged
            log.warning("%s failed (%s); retrying in %.1fs", what, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)


async def send_dead_letters(invalid) -> None:
    """Send every rejected message to drama.dlq and wait until Kafka acknowledged each."""
    pending = [await dead_letters.send(key=i.message.key, value=i.message.value, headers=dlq_headers(i))
               for i in invalid]
    for future in pending:
        await future


@app.agent(input_topics)
async def ingest_events(stream):
    async for events in stream.take_events(BATCH_MAX, within=BATCH_SECONDS):
        messages = [Message(e.message.topic, e.message.partition, e.message.offset, e.message.key, e.value)
                    for e in events]
        valid, invalid = sort_out(messages, SETTINGS.namespace)
        if invalid:
            log.info("%d of %d messages rejected; first: %s", len(invalid), len(messages), invalid[0].detail)
            while True:
                try:
                    await send_dead_letters(invalid)
                    break
                except Exception as error:  # noqa: BLE001
                    log.warning("sending %d dead letters failed (%s); retrying", len(invalid), error)
                    await asyncio.sleep(1.0)
            await retry("writing events_rejected", events_rejected.write, rejected_rows(invalid))
        await retry("writing events_raw", events_raw.write, raw_rows(valid))
        await retry("writing title_metrics_1m_parts", title_metrics.write, title_start_rows(valid))
