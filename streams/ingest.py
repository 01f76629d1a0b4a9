"""Every input topic → validate, de-duplicate, window → the loop's metrics in ClickHouse.

    drama.content … drama.users ──whole fetches (streams/fetch.py), ≤ BATCH_MAX──► ingest_events
        ├─ rejected ──► drama.dlq (original bytes + source headers), events_rejected
        └─ accepted ──► events_raw, title_events, title_metrics_1m_parts, episode_metrics_1m_parts,
                        segment_metrics_1m_parts, title_first_views_parts   (+ pipeline_health_1m_parts)
                   └──► feedback per (title, minute) ──► streams/trends.py

At least once in, exactly once out: every table is written only past its own high-water mark
(the last offset it holds per topic-partition), so a replayed message is never written twice;
a batch's offsets are committed only after all its writes succeeded. See streams/README.md.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import datetime, timezone
from typing import NamedTuple

from schemas.topics import DLQ, INPUT_TOPICS, USERS
from schemas.validate import utc_now
from streams import batch as columns
from streams.app import FETCHES, SETTINGS, app
from streams.progress import in_thread, progress, retry, retry_blocking
from streams.state import held_ids, restore_high_water, restore_partition, restore_profiles
from streams.trends import FEEDBACK
from warehouse.client import connect
from warehouse.sink import ClickHouseSink
from warehouse.tables import HIGH_WATER

BATCH_MAX = 50_000          # records taken at most per batch (several fetches merged)
LAG_EVERY_S = 5.0           # how often Kafka's end offsets are compared with the group's commits
LAG_TIMEOUT_S = 10.0        # an answer later than this counts as none
AGENT_FAILED = 70           # the worker's exit status when its agent failed (EX_SOFTWARE)
log = logging.getLogger(__name__)
input_topics = app.topic(*[SETTINGS.topic(name) for name in INPUT_TOPICS],
                         key_type=bytes, value_type=bytes, value_serializer="raw")
dead_letters = app.topic(SETTINGS.topic(DLQ), key_type=bytes, value_type=bytes, value_serializer="raw")
SINKS = {table: ClickHouseSink(SETTINGS, table) for table in HIGH_WATER}


@app.page("/health")
async def health(web, request):
    """Liveness beyond the open port: batches done, the batch in flight, what is being retried.
    HTTP 503 when stalled: messages in flight and no batch finished for 30 s."""
    state = progress.as_dict()
    state["dedup_bytes"] = sum(p.nbytes() for p in list(memory.partitions.values()))   # the soak watches it
    return web.json(state, status=503 if state["status"] == "stalled" else 200)


@app.timer(LAG_EVERY_S)
async def measure_lag() -> None:
    """Kafka's end offsets against the group's commits, over this worker's input partitions, for
    /health: a consumer that stopped fetching while its topics grow has nothing in flight, and
    would look idle without this. Asked of Kafka itself, not of the fetches the consumer made."""
    consumer = app.consumer
    assigned = [tp for tp in consumer.assignment() if tp.topic in FETCHES.topics]
    committed = {tp: consumer._committed_offset.get(tp) for tp in assigned}   # Faust's record of the commits
    never = [tp for tp, offset in committed.items() if offset is None]
    try:
        ends = await asyncio.wait_for(consumer.highwaters(*assigned), LAG_TIMEOUT_S) if assigned else {}
        firsts = await asyncio.wait_for(consumer.earliest_offsets(*never), LAG_TIMEOUT_S) if never else {}
    except Exception as error:  # noqa: BLE001 - shown on /health, asked again next time
        progress.lag_failed(f"reading Kafka's end offsets: {type(error).__name__}: {error}")
        return
    progress.lag_measured(sum(max(0, ends.get(tp, 0) - (offset if offset is not None else firsts.get(tp, 0)))
                              for tp, offset in committed.items()))


class Memory:
    """The worker's state: per-partition memory (streams/state.py), profiles, high-water marks."""

    def __init__(self):
        self.partitions: dict = {}
        self.profiles: dict | None = None
        self.high_water: dict | None = None
        self.client = None
        self.last_parts: dict = {}          # the latest batch's Parts: it may still be being written

    def forget(self, partitions) -> None:
        """Partitions moved away: rebuild from ClickHouse if they come back."""
        for tp in partitions:
            self.partitions.pop((tp.topic, tp.partition), None)
        self.high_water = None
        self.last_parts = {}

    def missing(self, firsts: dict) -> dict:
        """The partitions of a batch to rebuild from ClickHouse: not in memory, or fetched from
        before where their memory ends (tp → first offset)."""
        return {tp: first for tp, first in firsts.items()
                if tp not in self.partitions or first < (self.partitions[tp].next_offset or 0)}

    def ensure(self, firsts: dict) -> None:
        """Rebuild what `missing` names, and the profiles and marks if gone (blocking)."""
        missing = self.missing(firsts)
        if not missing and self.profiles is not None and self.high_water is not None:
            return
        client = connect(SETTINGS)
        try:
            if self.profiles is None:
                self.profiles = restore_profiles(client)
            if self.high_water is None or missing:
                self.high_water = restore_high_water(client)
            for (topic, partition), first in missing.items():
                started = time.monotonic()
                self.partitions[(topic, partition)] = restore_partition(client, topic, partition, first)
                log.info("restored %s[%d] from ClickHouse before offset %d in %.2fs", topic, partition, first,
                         time.monotonic() - started)
        finally:
            client.disconnect()

    def confirm(self, topic: str, partition: int, ids: list[str]) -> set:
        """The ids seen before in this partition (a digest match confirmed): in the previous
        batch, which may still be being written, or in events_raw (retried until it answers)."""
        previous = self.last_parts.get((topic, partition))
        seen = {e.event_id for e in previous.events} & set(ids) if previous is not None else set()
        ids = [i for i in ids if i not in seen]
        if not ids:
            return seen
        return seen | retry_blocking("confirming duplicates in events_raw", lambda: self._held(topic, partition, ids))

    def _held(self, topic: str, partition: int, ids: list[str]) -> set:
        if self.client is None:
            self.client = connect(SETTINGS)
        try:
            return held_ids(self.client, topic, partition, ids)
        except Exception:
            self.client.disconnect()      # rebuilt on the next attempt
            self.client = None
            raise

    def classify(self, fetched: dict) -> list:
        """The fetch's partitions, profiles first (a profile and its user's events fetched
        together: the profile counts), each classified in offset order."""
        users = SETTINGS.topic(USERS)
        now = utc_now()
        parts = []
        for tp in sorted(fetched, key=lambda tp: (tp.topic != users, tp.topic, tp.partition)):
            state = self.partitions[(tp.topic, tp.partition)]
            parts.append(self.classify_partition(tp.topic, tp.partition, fetched[tp], state, now))
            state.next_offset = fetched[tp][-1].offset + 1
        self.last_parts = {(p.topic, p.partition): p for p in parts}
        return parts

    def classify_partition(self, topic: str, partition: int, messages: list, state, now) -> columns.Part:
        """columns.classify, with one event's exception contained: the messages whose own
        classification raises are processing_error, the others are classified as if they were
        not there (classify changes no state when it raises)."""
        def run(some, commit=True):
            return columns.classify(topic, partition, some, state, self.profiles, SETTINGS.namespace,
                                    confirm=lambda ids: self.confirm(topic, partition, ids), now=now, commit=commit)
        try:
            return run(messages)
        except Exception:  # noqa: BLE001 - contained: the events that cause it are dead-lettered
            log.exception("classifying %d message(s) of %s[%d] raised; isolating the one(s) that cause it",
                          len(messages), topic, partition)
            refused = []
            for m in messages:
                try:
                    run([m], commit=False)
                except Exception as own:  # noqa: BLE001
                    refused.append(columns.processing_error(topic, partition, m.offset, m.key, m.value, own))
            bad = {i.offset for i in refused}
            rest = [m for m in messages if m.offset not in bad]
            try:
                part = run(rest) if refused and rest else None
            except Exception as again:  # noqa: BLE001 - only together: every one is dead-lettered, none lost
                error, part = again, None
            if part is None:
                refused = refused if rest == [] else [columns.processing_error(topic, partition, m.offset, m.key,
                                                                                m.value, error) for m in messages]
                part = columns.Part(topic, partition, [m.offset for m in messages])
            offsets = [m.offset for m in messages]
            part.offsets, part.first, part.last = offsets, offsets[0], offsets[-1]
            part.invalid = sorted([*part.invalid, *refused], key=lambda i: i.offset)
            return part


memory = Memory()


@app.on_partitions_revoked.connect
async def forget_revoked(app, revoked, **kwargs) -> None:  # noqa: ARG001
    """Inside Faust's revocation: void queued fetches and let the batch in progress finish
    writing before the group moves on (streams/fetch.py)."""
    await FETCHES.revoke()
    memory.forget(revoked)


async def send_dead_letters(invalid) -> None:
    """Send every rejected message to drama.dlq and wait until Kafka acknowledged each."""
    pending = [await dead_letters.send(key=i.key, value=columns.dlq_value(i), headers=columns.dlq_headers(i))
               for i in invalid]
    for future in pending:
        await future


async def write(table: str, table_columns: list | None, lasts: dict) -> list:
    """One insert; then the table's marks move to the batch's last offset of each partition:
    the table now holds all it ever will up to there (its rows were cut to what it lacked).
    Returns the rows that ClickHouse refused with a data error (warehouse/sink.py), if any."""
    if not table_columns:
        return []
    sink = SINKS[table]
    await retry(f"writing {len(table_columns[0])} rows to {table}", in_thread(sink.write, table_columns))
    marks = memory.high_water.setdefault(table, {})
    for tp, last in lasts.items():
        if marks.get(tp, -1) < last:
            marks[tp] = last
    if sink.refused:
        log.error("%s refused %d row(s) with a data error; first: %s", table, len(sink.refused), sink.refused[0][1])
    return [(table, row, why) for row, why in sink.refused]


async def dead_letter_refused(batch: "Batch", refused: list) -> None:
    """The events behind refused rows go where every reject goes: drama.dlq and events_rejected."""
    invalid = columns.refused_events(batch.parts, refused)
    if invalid:
        await retry("sending dead letters", lambda: send_dead_letters(invalid))
        await retry(f"writing {len(invalid)} rows to events_rejected",
                    in_thread(SINKS["events_rejected"].write, columns.rejected_rows(invalid)))


class Batch(NamedTuple):
    """A fetch, classified, with the columns of every table: what is left is I/O."""
    offsets: dict           # tp → next offset to commit
    lasts: dict             # (topic, partition) → last offset of the batch: where marks move to
    count: int
    invalid: list
    stage_1: tuple          # (table, columns) written together: events_raw first of all
    stage_2: tuple          # the metric tables
    health: list | None     # pipeline_health_1m_parts, last: the batch is complete
    scores: dict            # feedback for the re-create loop
    parts: list             # the classified partitions: whose events a refused row came from


async def prepare(fetched: dict, writing: asyncio.Future | None) -> Batch:
    """Classify a fetch and build its columns, while the previous batch may still be writing."""
    firsts = {(tp.topic, tp.partition): records[0].offset for tp, records in fetched.items()}
    if writing is not None and memory.missing(firsts):
        await writing                       # a restore reads ClickHouse: everything before it must be there
    await retry("restoring state from ClickHouse", in_thread(memory.ensure, firsts))
    parts = await in_thread(memory.classify, fetched)()
    offsets = {tp: records[-1].offset + 1 for tp, records in fetched.items()}
    count = sum(map(len, fetched.values()))
    try:
        return build_batch(parts, memory.high_water, offsets, count)
    except Exception:  # noqa: BLE001 - contained: the events that cause it are dead-lettered
        log.exception("building a batch's columns raised; isolating the event(s) that cause it")
        parts = columns.isolate(parts, build_batch)
        memory.last_parts = {(p.topic, p.partition): p for p in parts}    # a refused event was never seen as stored
        return build_batch(parts, memory.high_water, offsets, count)


def build_batch(parts: list, marks: dict, offsets: dict | None = None, count: int = 0) -> Batch:
    """Every table's columns for classified parts, cut to what each table lacks (pure)."""
    invalid, rejected = columns.rejected_columns(parts, marks.get("events_rejected", {}))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return Batch(
        offsets=offsets or {}, lasts={(p.topic, p.partition): p.last for p in parts}, count=count, invalid=invalid,
        stage_1=(("events_rejected", rejected),
                 ("events_raw", columns.raw_columns(parts, marks.get("events_raw", {}))),
                 ("title_events", columns.title_event_columns(parts, marks.get("title_events", {})))),
        stage_2=tuple((table, build(parts, marks.get(table, {}))) for table, build in (
            ("title_metrics_1m_parts", columns.title_columns),
            ("episode_metrics_1m_parts", columns.episode_columns),
            ("segment_metrics_1m_parts", columns.segment_columns),
            ("title_first_views_parts", columns.first_view_columns))),
        health=columns.health_columns(parts, marks.get("pipeline_health_1m_parts", {}), now),
        scores=columns.feedback_scores(parts, marks.get("title_metrics_1m_parts", {})), parts=parts)


async def finish(batch: Batch, consumer) -> None:
    """Write a prepared batch, then commit its offsets: never committed before written."""
    try:
        if batch.invalid:
            log.info("%d messages rejected; first: %s", len(batch.invalid), batch.invalid[0].detail)
            await retry("sending dead letters", lambda: send_dead_letters(batch.invalid))
        # Three stages, each table of a stage written at once on its own connection: events_raw
        # before the metric tables (it is what de-duplication is rebuilt from after a restart),
        # pipeline health last (it says the batch is complete).
        refused = await asyncio.gather(*(write(table, table_columns, batch.lasts)
                                         for table, table_columns in batch.stage_1))
        if SETTINGS.fault_pause_s:
            await asyncio.sleep(SETTINGS.fault_pause_s)      # tests only: hold the batch half written
        refused += await asyncio.gather(*(write(table, table_columns, batch.lasts)
                                          for table, table_columns in batch.stage_2))
        refused.append(await write("pipeline_health_1m_parts", batch.health, batch.lasts))
        if any(refused):
            await dead_letter_refused(batch, [row for rows in refused for row in rows])
        await consumer.commit_written(batch.offsets)
        progress.batch_done(batch.count)
        if batch.scores:
            await FEEDBACK.put(batch.scores)
    finally:
        FETCHES.done()


@app.agent(input_topics)
async def ingest_events(stream):  # noqa: ARG001 - the stream subscribes the topics; fetches come whole
    """Batches in a two-step pipeline: while one batch is written (I/O, mostly waiting on
    ClickHouse), the next is classified. Writes and commits stay in fetch order."""
    consumer = app.consumer
    writing: asyncio.Future | None = None
    clock = time.monotonic
    try:
        while True:
            started = clock()
            fetched = await FETCHES.take(BATCH_MAX)
            taken = clock()
            progress.in_flight += sum(map(len, fetched.values()))
            batch = await prepare(fetched, writing)
            prepared = clock()
            if writing is not None:
                await writing
            progress.spent(waiting_for_fetches=taken - started, preparing=prepared - taken,
                           waiting_for_writes=clock() - prepared)
            writing = asyncio.ensure_future(finish(batch, consumer))
    except asyncio.CancelledError:
        if FETCHES.busy:
            # Stopped in the middle of a batch (e.g. during a ClickHouse outage): leave as a
            # kill -9 would; what is not written is not committed, the next start replays it.
            log.warning("stopped with %d batch(es) in flight; exiting without committing them", FETCHES.busy)
            logging.shutdown()
            os._exit(3)
        raise
    except BaseException:
        # Never let Faust's supervisor restart the agent: the next batch's commit would move past
        # this one, which is not written. Exit instead; the launcher restarts the worker, which
        # resumes from the last commit (what one event's own failure cannot cause: it is contained).
        log.critical("the agent failed; the worker exits without committing the batch in flight", exc_info=True)
        logging.shutdown()
        os._exit(AGENT_FAILED)
