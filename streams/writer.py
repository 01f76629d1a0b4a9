"""A batch's I/O: classified into columns (`prepare`), then written and committed (`finish`).

    fetch ──prepare: restore what is missing, classify (streams/memory.py), build columns──► Batch
    Batch ──finish──► drama.dlq (rejected) ──► events_rejected, events_raw, title_events
                  ──► the metric tables ──► pipeline_health_1m_parts ──► commit ──► feedback

Every table is written only past its own high-water mark (the last offset it holds per
topic-partition), and its marks move once its insert succeeded, so a replayed message is never
written twice; a batch's offsets are committed only after all its writes succeeded, and a row
ClickHouse refuses is dead-lettered before the commit. See streams/README.md.

`Writer` is handed everything it writes to (the sinks, the dead-letter topic, the feedback queue)
where the worker starts (streams/__main__.py): nothing here is built at import time, and a test
hands in fakes (tests/streams/test_writer.py).
"""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timezone
from typing import NamedTuple

from infra.settings import Settings
from streams import batch as columns
from streams.fetch import Fetches
from streams.memory import Memory
from streams.progress import in_thread, progress, retry
from warehouse.sink import ClickHouseSink, ShardedSink
from warehouse.tables import HIGH_WATER

log = logging.getLogger(__name__)
TRACE = os.environ.get("DRAMA_TRACE_BATCHES") == "1"    # each batch's places and commits, in the worker's log


def build_sinks(settings: Settings) -> dict:
    """A sink per table the worker writes with high-water marks (warehouse/sink.py): table → sink;
    on the cluster, each routes a partition's rows to its shard (ShardedSink)."""
    kind = ShardedSink if settings.cluster else ClickHouseSink
    return {table: kind(settings, table) for table in HIGH_WATER}


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


class Writer:
    """Prepares fetches into Batches and writes them, with what it is handed:

    memory: the worker's state (streams/memory.py), whose marks move as tables are written;
    sinks: table → a sink with `write(columns)` and `refused` (warehouse/sink.py ClickHouseSink);
    dead_letters: a topic with Faust's `send(key=, value=, headers=)` (drama.dlq);
    fetches: where batches are counted done (streams/fetch.py); feedback: the re-create loop's
    queue (streams/trends.py); pause_s: tests only, hold a batch half written."""

    def __init__(self, memory: Memory, sinks: dict, dead_letters, fetches: Fetches, feedback: asyncio.Queue,
                 pause_s: float = 0.0):
        self.memory = memory
        self.sinks = sinks
        self.dead_letters = dead_letters
        self.fetches = fetches
        self.feedback = feedback
        self.pause_s = pause_s

    async def prepare(self, fetched: dict, writing: asyncio.Future | None) -> Batch:
        """Classify a fetch and build its columns, while the previous batch may still be writing."""
        memory = self.memory
        firsts = {(tp.topic, tp.partition): records[0].offset for tp, records in fetched.items()}
        if writing is not None and memory.missing(firsts):
            await writing                       # a restore reads ClickHouse: everything before it must be there
        await retry("restoring state from ClickHouse", in_thread(memory.ensure, firsts))
        parts = await in_thread(memory.classify, fetched)()
        offsets = {tp: records[-1].offset + 1 for tp, records in fetched.items()}
        count = sum(map(len, fetched.values()))
        if TRACE:
            marks = memory.high_water.get("events_raw", {})
            log.info("prepared: %s", "; ".join(
                f"{p.topic}[{p.partition}] {p.first}..{p.last} accepted {len(p.accepted)} duplicates "
                f"{len(p.duplicates)} events_raw mark {marks.get((p.topic, p.partition))} cuts {p.cut(marks)}"
                for p in parts))
        try:
            return build_batch(parts, memory.high_water, offsets, count)
        except Exception:  # noqa: BLE001 - contained: the events that cause it are dead-lettered
            log.exception("building a batch's columns raised; isolating the event(s) that cause it")
            parts = columns.isolate(parts, build_batch)
            memory.last_parts = {(p.topic, p.partition): p for p in parts}    # a refused event was never seen as stored
            return build_batch(parts, memory.high_water, offsets, count)

    async def finish(self, batch: Batch, consumer) -> None:
        """Write a prepared batch, then commit its offsets (`consumer.commit_written`, streams/fetch.py):
        never committed before written."""
        try:
            if batch.invalid:
                log.info("%d messages rejected; first: %s", len(batch.invalid), batch.invalid[0].detail)
                await retry("sending dead letters", lambda: self.send_dead_letters(batch.invalid))
            # Three stages, each table of a stage written at once on its own connection: events_raw
            # before the metric tables (it is what de-duplication is rebuilt from after a restart),
            # pipeline health last (it says the batch is complete).
            refused = await asyncio.gather(*(self.write(table, table_columns, batch.lasts)
                                             for table, table_columns in batch.stage_1))
            if self.pause_s:
                await asyncio.sleep(self.pause_s)      # tests only: hold the batch half written
            refused += await asyncio.gather(*(self.write(table, table_columns, batch.lasts)
                                              for table, table_columns in batch.stage_2))
            refused.append(await self.write("pipeline_health_1m_parts", batch.health, batch.lasts))
            if any(refused):
                await self.dead_letter_refused(batch, [row for rows in refused for row in rows])
            if TRACE:
                log.info("batch done: %s; committing %s", "; ".join(
                    f"{p.topic}[{p.partition}] {p.first}..{p.last} accepted {len(p.accepted)} "
                    f"duplicates {len(p.duplicates)} invalid {len(p.invalid)}" for p in batch.parts),
                    {f"{tp.topic}[{tp.partition}]": o for tp, o in batch.offsets.items()})
            await consumer.commit_written(batch.offsets)
            progress.batch_done(batch.count)
            if batch.scores:
                await self.feedback.put(batch.scores)
        finally:
            self.fetches.done()

    async def send_dead_letters(self, invalid) -> None:
        """Send every rejected message to drama.dlq and wait until Kafka acknowledged each."""
        pending = [await self.dead_letters.send(key=i.key, value=columns.dlq_value(i), headers=columns.dlq_headers(i))
                   for i in invalid]
        for future in pending:
            await future

    async def write(self, table: str, table_columns: list | None, lasts: dict) -> list:
        """One insert; then the table's marks move to the batch's last offset of each partition:
        the table now holds all it ever will up to there (its rows were cut to what it lacked).
        Returns the rows that ClickHouse refused with a data error (warehouse/sink.py), if any."""
        if not table_columns:
            return []
        sink = self.sinks[table]
        await retry(f"writing {len(table_columns[0])} rows to {table}", in_thread(sink.write, table_columns))
        marks = self.memory.high_water.setdefault(table, {})
        for tp, last in lasts.items():
            if marks.get(tp, -1) < last:
                marks[tp] = last
        if sink.refused:
            log.error("%s refused %d row(s) with a data error; first: %s", table, len(sink.refused),
                      sink.refused[0][1])
        return [(table, row, why) for row, why in sink.refused]

    async def dead_letter_refused(self, batch: Batch, refused: list) -> None:
        """The events behind refused rows go where every reject goes: drama.dlq and events_rejected."""
        invalid = columns.refused_events(batch.parts, refused)
        if invalid:
            await retry("sending dead letters", lambda: self.send_dead_letters(invalid))
            await retry(f"writing {len(invalid)} rows to events_rejected",
                        in_thread(self.sinks["events_rejected"].write, columns.rejected_rows(invalid)))
