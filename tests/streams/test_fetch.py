"""streams/fetch.py's cheaper records: what aiokafka's own unpacking gives, field for field."""
from __future__ import annotations

import dataclasses

import pytest
from aiokafka.consumer.fetcher import READ_COMMITTED, READ_UNCOMMITTED, PartitionRecords
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import TopicPartition

from streams.fetch import Record, _unpack_plain_records, _unpack_records

TP = TopicPartition("ns.drama.viewing", 3)


def fetched(batches: list[list[tuple]]) -> bytes:
    """Record batches as a fetch response holds them: (offset, key, value, headers) each."""
    out = b""
    for batch in batches:
        builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0, producer_id=-1,
                                            producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
        for offset, key, value, headers in batch:
            builder.append(offset, timestamp=1_700_000_000_000 + offset, key=key, value=value, headers=headers)
        out += bytes(builder.build())
    return out


def unpack(unpacker, data: bytes, fetch_offset: int, isolation=READ_UNCOMMITTED, stop_after: int | None = None):
    records = PartitionRecords(TP, MemoryRecords(data), [], fetch_offset, None, None, True, isolation)
    out = []
    for record in unpacker(records):
        out.append(record)
        if len(out) == stop_after:
            break
    return out, records.next_fetch_offset


BATCHES = [[(0, b"u1", b'{"a":1}', []), (1, None, b'{"b":2}', [("h", b"v")])],
           [(0, b"u2", b"", []), (1, b"u3", b'{"c":3}', [])]]


@pytest.mark.parametrize("fetch_offset", [0, 1, 2, 3])
@pytest.mark.parametrize("stop_after", [None, 1, 2])
def test_plain_records_are_aiokafkas_records_field_for_field(fetch_offset, stop_after):
    # base offsets 0 and 2: the second batch holds offsets 2 and 3
    data = fetched(BATCHES[:1]) + fetched([[(2 + o, k, v, h) for o, k, v, h in BATCHES[1]]])
    theirs, their_next = unpack(_unpack_records, data, fetch_offset, stop_after=stop_after)
    ours, our_next = unpack(_unpack_plain_records, data, fetch_offset, stop_after=stop_after)
    assert [dataclasses.astuple(r) for r in theirs] == [tuple(r) for r in ours]
    assert all(type(r) is Record for r in ours) and our_next == their_next      # the position after a stop too
    assert ours


def test_anything_but_a_plain_read_is_left_to_aiokafka():
    ours, _ = unpack(_unpack_plain_records, fetched(BATCHES[:1]), 0, isolation=READ_COMMITTED)
    assert ours and not any(type(r) is Record for r in ours)


# --- the drain loop in a rebalance: records that are not processed are read again ------------------
class FakeThread:
    """The consumer thread's side of a partition: its position, which a fetch advances."""

    def __init__(self, positions: dict, assigned: set):
        self.positions, self.assigned, self.seeks = positions, assigned, []

    async def seek_wait(self, offsets: dict) -> None:
        from aiokafka.errors import IllegalStateError
        if set(offsets) - self.assigned:
            raise IllegalStateError(f"not assigned: {set(offsets) - self.assigned}")
        self.seeks.append(dict(offsets))
        self.positions.update(offsets)


class RebalancingConsumer:
    """BatchConsumer's drain loop and rewind on a scripted consumer: each step says whether the flow
    is on when a fetch returns and how many records each partition's fetch holds (from its position)."""
    from streams.fetch import BatchConsumer
    _drain_messages = BatchConsumer._drain_messages
    rewind = BatchConsumer.rewind
    consumer_stopped_errors = ()

    def __init__(self, steps: list, positions: dict, assigned: set, fetches):
        import asyncio
        self.steps, self.fetches, self.should_stop, self.flow_active = steps, fetches, False, True
        self._thread = FakeThread(positions, assigned)
        self._read_offset: dict = {}
        self._stopped = asyncio.Event()

    def assignment(self):
        return self._thread.assigned

    async def _wait_next_records(self, timeout):
        if not self.steps:
            self._stopped.set()
            return {}, None
        flow, counts = self.steps.pop(0)
        self.flow_active = flow
        records = {}
        for tp, n in counts.items():
            first = self._thread.positions[tp]
            records[tp] = [Record(tp.topic, tp.partition, o, 0, 0, None, b"{}", None, -1, 2, ())
                           for o in range(first, first + n)]
            self._thread.positions[tp] = first + n
        return records, None


def drain(steps, positions, assigned):
    import asyncio
    from types import SimpleNamespace

    from streams.fetch import Fetches

    async def run():
        fetches = Fetches([TP.topic], maxsize=100)
        consumer = RebalancingConsumer(steps, positions, assigned, fetches)
        await consumer._drain_messages(SimpleNamespace(_stopped=asyncio.Event()))
        taken = []
        while not fetches.queue.empty():
            taken.append(await fetches.take(1))
        return taken, consumer._thread.seeks
    return asyncio.run(run())


def test_a_fetch_that_returns_while_the_flow_is_stopped_is_read_again_not_skipped():
    """What a worker-kill run on the cluster lost 401 events to: a fetch waiting when the rebalance
    began returned offsets 82..482 after Faust's seek to the committed offset 82 and before the flow
    resumed; they were dropped with the position past them, and the next fetch began at 483."""
    steps = [(False, {TP: 401}),            # 82..482 after the seek, the flow still stopped
             (True, {TP: 53})]              # the flow on: the next fetch
    taken, seeks = drain(steps, {TP: 82}, {TP})
    assert seeks == [{TP: 82}]
    assert [[r.offset for r in fetch[TP]][:1] for fetch in taken] == [[82]]
    assert [len(fetch[TP]) for fetch in taken] == [53]


def test_a_partition_no_longer_assigned_is_left_to_its_next_owner():
    other = TopicPartition(TP.topic, 1)
    steps = [(False, {TP: 10, other: 5}), (True, {TP: 3})]
    taken, seeks = drain(steps, {TP: 0, other: 0}, {TP})
    assert seeks == [{TP: 0}]
    assert [[r.offset for r in fetch[TP]] for fetch in taken] == [[0, 1, 2]]
