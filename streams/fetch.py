"""Whole fetches from Faust's consumer, below its per-message path.

    Faust's Fetcher ──Consumer._drain_messages──► (per message: Message, Event, stream queue, ack)
                                    └─ BatchConsumer: the fetch as aiokafka returned it ──► Fetches ──► agent

Faust's consumer reads with aiokafka's `getmany` and then, per message, builds a Message and
an Event, runs its conductor, queues the event for the agent's stream, tracks and acknowledges
it: at tens of thousands of messages a second that machinery, not the work, is the worker's
cost. `BatchConsumer` keeps everything else of Faust's consumer (group membership, the
rebalance protocol and callbacks, flow control, pause/seek, commits) and replaces only the
drain loop: each fetch of the agent's topics is handed over whole, a topic-partition → records
map, through `Fetches`, a small bounded queue. Topics that nobody reads in batches keep Faust's
per-message path.

Offsets: nothing here acknowledges anything. The agent calls `BatchConsumer.commit_written`
with the next offset of each partition once its batch is in ClickHouse (streams/README.md).
On a rebalance, `Fetches.revoke` drops every fetch not yet taken (the partitions will be read
again from their committed offsets by whoever owns them next) and waits until the batch in
progress is written, inside Faust's revocation callback, so the group does not move on
before it. A fetch that returns while the flow is stopped is not processed, and its partitions
are sought back to its first records (`BatchConsumer.rewind`): the position never passes a record
that was neither processed nor left to a seek to the committed offset.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Iterable, NamedTuple

from aiokafka.consumer import fetcher as aiokafka_fetcher
from aiokafka.errors import CorruptRecordException, IllegalStateError
from aiokafka.structs import ConsumerRecord
from faust.transport.drivers import aiokafka as faust_aiokafka

log = logging.getLogger(__name__)
TRACE = os.environ.get("DRAMA_TRACE_BATCHES") == "1"    # every fetch dropped or voided, in the worker's log


def _ranges(records: dict) -> str:
    return "; ".join(f"{tp.topic}[{tp.partition}] {rs[0].offset}..{rs[-1].offset}" for tp, rs in records.items() if rs)


class Fetches:
    """Fetched record maps on their way to the agent, and the batch the agent is writing."""

    def __init__(self, topics: Iterable[str] = (), maxsize: int = 4, stop_after: int = 0):
        self.topics = frozenset(topics)
        self.stop_after = stop_after        # tests only: the consumer hangs after this many fetches
        self.puts = 0
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        self.epoch = 0                      # bumped on every revocation: older fetches are void
        self.busy = 0                       # batches taken and not yet written and committed
        self.idle = asyncio.Event()         # set while busy is 0
        self.idle.set()

    async def put(self, records: dict, epoch: int) -> None:
        """Queue a fetch (waiting while the queue is full: Faust then stops fetching). A fetch
        voided by a revocation meanwhile is dropped by `take`: the rebalance's seek to the
        committed offsets reads it again."""
        if self.stop_after:                 # tests only (DRAMA_FAULT_STOP_FETCHING_AFTER)
            self.puts += 1
            if self.puts > self.stop_after:
                log.warning("fault injected: the consumer stops fetching")
                await asyncio.Event().wait()
        await self.queue.put((epoch, records))

    async def take(self, most: int) -> dict:
        """Wait for a fetch, then add whatever else is already fetched, up to `most` records.
        The batch counts as busy until `done()`."""
        while True:
            epoch, records = await self.queue.get()
            if epoch == self.epoch:
                break
            if TRACE:
                log.info("fetch voided (epoch %d, now %d): %s", epoch, self.epoch, _ranges(records))
        merged = {tp: list(rs) for tp, rs in records.items()}
        count = sum(map(len, merged.values()))
        while count < most and not self.queue.empty():
            epoch, more = self.queue.get_nowait()
            if epoch != self.epoch:
                if TRACE:
                    log.info("fetch voided (epoch %d, now %d): %s", epoch, self.epoch, _ranges(more))
                continue
            for tp, rs in more.items():
                merged.setdefault(tp, []).extend(rs)
                count += len(rs)
        self.busy += 1
        self.idle.clear()
        return merged

    def done(self) -> None:
        self.busy -= 1
        if not self.busy:
            self.idle.set()

    async def revoke(self) -> None:
        """Partitions are being taken away: void what is queued, wait for the batches in progress."""
        self.epoch += 1
        while not self.queue.empty():
            epoch, records = self.queue.get_nowait()
            if TRACE:
                log.info("fetch voided by a revocation (epoch %d): %s", epoch, _ranges(records))
        await self.idle.wait()


class BatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, handing whole fetches of `fetches.topics` to `fetches`."""

    fetches: Fetches        # given by batch_transport()

    async def _drain_messages(self, fetcher) -> None:  # pragma: no cover - exercised on Kafka
        fetches = self.fetches
        stopping = (self._stopped.is_set, fetcher._stopped.is_set)
        try:
            while not any(stop() for stop in stopping):
                records, _ = await self._wait_next_records(1.0)
                if not records or self.should_stop or not self.flow_active:
                    # A rebalance is on: these are not processed, and their partitions are sought
                    # back to them (`rewind`), whether they came before Faust's seek to the
                    # committed offsets or after it.
                    if records and not self.should_stop:
                        await self.rewind(records)
                    continue
                # The flow is on, so these records come after that seek (aiokafka drops fetches
                # made for a position that a seek changed): they belong to the current epoch.
                epoch = fetches.epoch
                batch = {tp: rs for tp, rs in records.items() if tp.topic in fetches.topics}
                for tp, rs in records.items():
                    self._read_offset[tp] = rs[-1].offset
                    if tp.topic not in fetches.topics:      # Faust's own path for anything else
                        for record in rs:
                            await self.callback(self._to_message(tp, record))
                if batch:
                    if TRACE:
                        log.info("fetched (epoch %d): %s", epoch, _ranges(batch))
                    await fetches.put(batch, epoch)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise

    async def rewind(self, records: dict) -> None:
        """Seek the assigned partitions of records not processed back to their first offset.

        A fetch that was waiting when a rebalance began may return after Faust's seek to the
        committed offsets, with the first records of the new position, while the flow is still
        stopped: dropped as they are, the position would have passed them, and the next batch's
        commit would pass them too (issue 22: a worker-kill run lost 401 events that way). Sought
        back, they are read again; a record read again is cut by the tables' high-water marks.
        Done before the next fetch, so nothing later is read first. A partition no longer
        assigned is left to its next owner, who starts from the committed offset."""
        assigned = self.assignment()
        back = {tp: rs[0].offset for tp, rs in records.items() if rs and tp in assigned}
        if TRACE:
            log.info("fetch not processed (rebalancing), sought back: %s", _ranges(records))
        if back:
            try:
                await self._thread.seek_wait(back)
            except IllegalStateError:       # unassigned meanwhile: its next owner reads from the commit
                log.info("rewind skipped: %d partition(s) no longer assigned", len(back))

    async def commit_written(self, offsets: dict) -> bool:
        """Commit `offsets` (tp → next offset to read) for the partitions still assigned."""
        try:
            return await self._commit_offsets(offsets)
        except Exception as error:  # noqa: BLE001 - a commit that fails only means a replay
            log.warning("commit of %d partition(s) failed (%s); they will be replayed from the last commit",
                        len(offsets), error)
            return False


def batch_transport(fetches: Fetches) -> type[faust_aiokafka.Transport]:
    """Faust's aiokafka transport, with a consumer that hands whole fetches to `fetches`."""
    consumer = type("BatchConsumer", (BatchConsumer,), {"fetches": fetches})
    return type("BatchTransport", (faust_aiokafka.Transport,), {"Consumer": consumer})


# --- aiokafka's records, built cheaper --------------------------------------------------------------
class Record(NamedTuple):
    """aiokafka's ConsumerRecord as a tuple: the same fields in the same order (tested), a third of
    the cost to build (it is a generic dataclass), read the same way by Faust and by us."""
    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    checksum: int | None
    serialized_key_size: int
    serialized_value_size: int
    headers: tuple


_unpack_records = aiokafka_fetcher.PartitionRecords._unpack_records


def _unpack_plain_records(self):
    """aiokafka's PartitionRecords._unpack_records (aiokafka 0.14, read uncommitted, no
    deserializers: how Faust's consumer reads) with each record built as a `Record`. Anything
    else goes to aiokafka's own."""
    if self._isolation_level != aiokafka_fetcher.READ_UNCOMMITTED or self._key_deserializer \
            or self._value_deserializer:
        yield from _unpack_records(self)
        return
    topic, partition = self._tp.topic, self._tp.partition
    records, new = self._records, tuple.__new__
    while records.has_next():
        batch = records.next_batch()
        if self._check_crcs and not batch.validate_crc():
            raise CorruptRecordException(f"Invalid CRC - {self._tp}")
        if not batch.is_control_batch:
            for r in batch:
                if r.offset < self.next_fetch_offset:       # part of a batch already read
                    continue
                key, value = r.key, r.value
                self.next_fetch_offset = r.offset + 1       # where the position is if the caller stops here
                yield new(Record, (topic, partition, r.offset, r.timestamp, r.timestamp_type, key, value, r.checksum,
                                   -1 if key is None else len(key), -1 if value is None else len(value),
                                   tuple(r.headers)))
        self.next_fetch_offset = batch.next_offset


def build_plain_records() -> None:
    """Make aiokafka build `Record`s (the worker calls this once, before its consumer starts)."""
    if tuple(ConsumerRecord.__dataclass_fields__) != Record._fields:
        raise RuntimeError("aiokafka's ConsumerRecord changed: update streams/fetch.py Record "
                           f"(it has {tuple(ConsumerRecord.__dataclass_fields__)})")
    aiokafka_fetcher.PartitionRecords._unpack_records = _unpack_plain_records
