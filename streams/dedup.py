"""De-duplication memory: the event ids of one topic-partition's last hour, in 12 bytes a slot.

    batch's ids ──hash──► 64-bit digests ──DigestTable.stamps (numpy, all at once)──► stamp or −1
               └─ new ids of the batch ──DigestTable.add (numpy)──► the table

A slot holds a digest (uint64) and a stamp (int32: the minute of event time the id expires
after, see `PartitionMemory`); the table is open addressing with linear probing, kept between
1/2 and 3/4 full (rebuilt to 1/2, live ids only, when it passes 3/4), so an id costs 16–24
bytes (`measure_bytes_per_id`). Ids are forgotten by
stamp, not removed: a slot whose stamp fell below the cutoff is free to take. A digest is not
an id: when a batch's id matches a remembered digest, the caller confirms it against
`events_raw` before calling the event a duplicate (streams/memory.py), so a collision never
drops a real event. Digests are Python's own string hash (SipHash, per process): nothing here
is stored, the table is rebuilt from `events_raw` after a restart or a rebalance.
"""
from __future__ import annotations

import numpy as np

EMPTY = np.uint64(0)
MIN_CAPACITY = 1024
MAX_LOAD = 0.75           # a table fuller than this is rebuilt …
REBUILT_LOAD = 0.5        # … to this load, with only its live ids


def digests(ids) -> np.ndarray:
    """Event ids → non-zero uint64 digests (0 marks an empty slot)."""
    out = np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids)).view(np.uint64)
    out[out == EMPTY] = 1
    return out


class DigestTable:
    """digest → stamp, for many digests at once."""

    def __init__(self, capacity: int = MIN_CAPACITY):
        capacity = max(MIN_CAPACITY, int(capacity))
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.stamps = np.zeros(capacity, dtype=np.int32)
        self.used = 0                                   # slots ever taken (live or expired)

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return (keys % np.uint64(len(self.keys))).astype(np.int64)

    def _next(self, slots: np.ndarray) -> np.ndarray:
        slots += 1
        slots[slots == len(self.keys)] = 0
        return slots

    def nbytes(self) -> int:
        return self.keys.nbytes + self.stamps.nbytes

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The stamp of each digest, −1 where it is not in the table."""
        found = np.full(len(keys), -1, dtype=np.int64)
        slot = self._slots(keys)
        pending = np.arange(len(keys))
        while pending.size:
            at = slot[pending]
            held = self.keys[at]
            hit = held == keys[pending]
            found[pending[hit]] = self.stamps[at[hit]]
            pending = pending[~hit & (held != EMPTY)]
            slot[pending] = self._next(slot[pending])
        return found

    def add(self, keys: np.ndarray, stamps: np.ndarray, cutoff: int) -> None:
        """Remember distinct `keys` with their stamps; slots stamped below `cutoff` are reused."""
        if not len(keys):
            return
        if self.used + len(keys) > MAX_LOAD * len(self.keys):
            self._rebuild(cutoff, len(keys))
        slot = self._slots(keys)
        pending = np.arange(len(keys))
        while pending.size:
            at = slot[pending]
            held = self.keys[at]
            wanted = keys[pending]
            free = (held == EMPTY) | (held == wanted) | (self.stamps[at] < cutoff)
            self.keys[at[free]] = wanted[free]                  # several may claim one slot:
            won = free & (self.keys[at] == wanted)              # the last write wins it
            self.used += int(np.count_nonzero(won & (held == EMPTY)))
            self.stamps[at[won]] = stamps[pending[won]]
            pending = pending[~won]
            slot[pending] = self._next(slot[pending])

    def _rebuild(self, cutoff: int, incoming: int) -> None:
        """Only the live ids, in a table of REBUILT_LOAD once `incoming` are added."""
        live = (self.keys != EMPTY) & (self.stamps >= cutoff)
        keys, stamps = self.keys[live], self.stamps[live]
        capacity = max(MIN_CAPACITY, int((len(keys) + incoming) / REBUILT_LOAD) + 1)
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.stamps = np.zeros(capacity, dtype=np.int32)
        self.used = 0
        if len(keys):
            self.add(keys, stamps, cutoff)


def measure_bytes_per_id(count: int = 1_000_000, per_minute: int = 10_000) -> float:
    """tracemalloc's view of the memory a partition's table needs per remembered id, after
    `count` ids arriving `per_minute` a minute of event time (all within the horizon)."""
    import tracemalloc

    ids = [f"evt-{n:012d}-{n * 7919 % 1000003:07d}" for n in range(count)]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    table = DigestTable()
    for start in range(0, count, per_minute):
        chunk = ids[start:start + per_minute]
        minute = 29_000_000 + start // per_minute
        table.add(digests(chunk), np.full(len(chunk), minute, dtype=np.int32), cutoff=0)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del table
    return grown / count
