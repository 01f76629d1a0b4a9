"""What a worker remembers per topic-partition, and how it gets it back from ClickHouse.

Exactness does not depend on this memory surviving a crash: after a restart, a rebalance, or
a fetch that goes back in a partition, it is rebuilt from what ClickHouse holds before the
first offset about to be processed (streams/README.md, "Exactly once, by construction").
"""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import orjson

from streams.dedup import REBUILT_LOAD, DigestTable, digests
from warehouse.tables import HIGH_WATER

UNKNOWN_SEGMENT = ("unknown", "unknown", "ZZ")
DEDUP_HORIZON = timedelta(hours=1)   # ids are remembered this far behind the newest event time (metrics-v1: ≥ 1 h)
MINUTE_US = 60_000_000
RESTORE_BLOCK = 200_000              # ids read back from ClickHouse at a time


class PartitionMemory:
    """De-duplication memory and event-time watermark of one topic-partition.

    An id is remembered with a stamp, the minute of its event time (or the cutoff when it
    arrived, if that was later: a late event's id is kept until the cutoff next moves, as a
    per-minute expiry would). It is forgotten once the cutoff (the minute an hour of event time
    behind the watermark) passes its stamp."""

    def __init__(self, horizon: timedelta = DEDUP_HORIZON):
        self.horizon_us = horizon // timedelta(microseconds=1)
        self.watermark: int | None = None     # newest event time seen, µs since the epoch
        self.cutoff = 0                       # ids stamped below this minute are forgotten
        self.next_offset: int | None = None   # where the next fetch should start; else rebuild
        self.table = DigestTable()

    def nbytes(self) -> int:
        return self.table.nbytes()


def restore_high_water(client, tables=tuple(HIGH_WATER)) -> dict:
    """table → {(topic, partition): last offset written}."""
    marks = {}
    for table in tables:
        topic, partition, offset = HIGH_WATER[table]
        rows = client.execute(f"SELECT {topic}, {partition}, max({offset}) FROM {table} GROUP BY {topic}, {partition}")
        marks[table] = {(t, p): o for t, p, o in rows}
    return marks


def restore_partition(client, topic: str, partition: int, first_offset: int) -> PartitionMemory:
    """The memory a worker had just before `first_offset`, rebuilt from events_raw, streamed in
    blocks: only digests are kept, never the hour of ids as Python objects."""
    params = {"t": topic, "p": partition, "o": first_offset}
    (newest,), = client.execute(
        "SELECT max(toUInt64(event_time) * 1000000 + event_time_us) FROM events_raw "
        "WHERE topic = %(t)s AND partition = %(p)s AND offset < %(o)s", params)
    memory = PartitionMemory()
    memory.next_offset = first_offset
    if not newest:
        return memory
    memory.watermark = newest
    memory.cutoff = (newest - memory.horizon_us) // MINUTE_US
    params["since"] = memory.cutoff * 60
    where = "topic = %(t)s AND partition = %(p)s AND offset < %(o)s AND event_time >= %(since)s"
    (count,), = client.execute(f"SELECT count() FROM events_raw WHERE {where}", params)
    memory.table = DigestTable(int(count / REBUILT_LOAD) + 1)      # sized once: no rebuild while filling
    rows = client.execute_iter(
        f"SELECT event_id, toUInt32(toUInt32(event_time) / 60) FROM events_raw WHERE {where}",
        params, settings={"max_block_size": RESTORE_BLOCK})
    block: list = []
    for row in rows:
        block.append(row)
        if len(block) == RESTORE_BLOCK:
            _remember(memory, block)
            block = []
    _remember(memory, block)
    return memory


def _remember(memory: PartitionMemory, rows: list) -> None:
    if rows:
        ids, minutes = zip(*rows)
        memory.table.add(digests(ids), np.fromiter(minutes, np.int32, len(minutes)), memory.cutoff)


def held_ids(client, topic: str, partition: int, ids: list[str]) -> set:
    """The ids among `ids` that events_raw holds for this partition: confirms a digest match."""
    rows = client.execute("SELECT DISTINCT event_id FROM events_raw WHERE topic = %(t)s AND partition = %(p)s "
                          "AND event_id IN %(ids)s", {"t": topic, "p": partition, "ids": tuple(ids)})
    return {r[0] for r in rows}


def restore_profiles(client) -> dict:
    """user_id → segment, from the newest user_profile of each user in events_raw."""
    rows = client.execute(
        "SELECT user_id, argMax(payload, toUInt64(event_time) * 1000000 + event_time_us) FROM events_raw "
        "WHERE event_type = 'user_profile' GROUP BY user_id")
    out = {}
    for user_id, payload in rows:
        profile = orjson.loads(payload)
        out[user_id] = (profile["gender"], profile["age_band"], profile["country"])
    return out

