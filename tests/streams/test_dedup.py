"""De-duplication memory (streams/dedup.py, streams/state.py) alone: exact lookups however the
digests collide in the table, expiry an hour behind the newest event time, ≤ 32 bytes an id."""
import numpy as np

from streams.batch import Message, classify
from streams.dedup import MIN_CAPACITY, DigestTable, digests, measure_bytes_per_id
from streams.state import PartitionMemory
from tests.streams.test_batch import start


def test_lookups_are_exact_when_many_digests_share_a_slot_and_the_table_grows():
    table = DigestTable()
    keys = np.arange(1, 5000, dtype=np.uint64) * np.uint64(MIN_CAPACITY)     # all start at slot 0 of a fresh table
    for chunk in np.array_split(keys, 7):
        table.add(chunk, np.full(len(chunk), 10, np.int32), cutoff=0)
    assert (table.find(keys) == 10).all()
    absent = keys + np.uint64(1)
    assert (table.find(absent) == -1).all()
    assert table.used == len(keys) and len(table.keys) >= len(keys) / 0.75


def test_expired_slots_are_reused_and_a_rebuild_keeps_only_live_ids():
    table = DigestTable()
    old = np.arange(1, 701, dtype=np.uint64)
    table.add(old, np.full(700, 5, np.int32), cutoff=0)
    new = np.arange(10_001, 10_701, dtype=np.uint64)
    table.add(new, np.full(700, 9, np.int32), cutoff=6)                     # the old ones expired at 6
    assert (table.find(new) == 9).all()
    assert len(table.keys) < 4 * MIN_CAPACITY


def test_ids_are_forgotten_an_hour_of_event_time_behind_the_newest():
    memory = PartitionMemory()
    for n in range(180):                                                      # one id a minute for three hours
        minute = f"2026-01-05T{12 + n // 60:02d}:{n % 60:02d}:00Z"
        part = classify("drama.viewing", 0, [Message("drama.viewing", 0, n, None, start("a", minute, f"id-{n}"))],
                        memory, {}, confirm=lambda ids: set(ids))
        assert part.accepted == [n]
    remembered = [n for n in range(180) if memory.table.find(digests([f"id-{n}"]))[0] >= memory.cutoff]
    assert remembered == list(range(179 - 60, 180))                           # the last hour, nothing older
    again = classify("drama.viewing", 0, [Message("drama.viewing", 0, 999, None, start("a", "2026-01-05T12:00:00Z",
                                                                                      "id-170"))],
                     memory, {}, confirm=lambda ids: set(ids))
    assert again.duplicates == [999]                                          # still a duplicate inside the hour


def test_an_id_costs_at_most_32_bytes():
    assert measure_bytes_per_id(1_000_000) <= 32


def test_without_a_confirm_a_remembered_id_is_a_duplicate():
    """The replay classifies without asking events_raw: an id seen in an earlier batch is still a
    duplicate (before, every digest match counted as a collision there, and was counted again)."""
    memory = PartitionMemory()

    def one(offset: int, at: str):
        message = Message("drama.viewing", 0, offset, None, start("a", at, "x"))
        return classify("drama.viewing", 0, [message], memory, {})

    first, again = one(0, "2026-01-05T12:00:00Z"), one(1, "2026-01-05T12:00:01Z")
    assert first.accepted == [0] and again.duplicates == [1] and again.accepted == []
