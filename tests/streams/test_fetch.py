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
