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
before it.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Iterable

from faust.transport.drivers import aiokafka as faust_aiokafka

log = logging.getLogger(__name__)


class Fetches:
    """Fetched record maps on their way to the agent, and the batch the agent is writing."""

    def __init__(self, topics: Iterable[str] = (), maxsize: int = 4):
        self.topics = frozenset(topics)
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=maxsize)
        self.epoch = 0                      # bumped on every revocation: older fetches are void
        self.busy = 0                       # batches taken and not yet written and committed
        self.idle = asyncio.Event()         # set while busy is 0
        self.idle.set()

    async def put(self, records: dict, epoch: int) -> None:
        """Queue a fetch (waiting while the queue is full: Faust then stops fetching). A fetch
        voided by a revocation meanwhile is dropped by `take`: the rebalance's seek to the
        committed offsets reads it again."""
        await self.queue.put((epoch, records))

    async def take(self, most: int) -> dict:
        """Wait for a fetch, then add whatever else is already fetched, up to `most` records.
        The batch counts as busy until `done()`."""
        while True:
            epoch, records = await self.queue.get()
            if epoch == self.epoch:
                break
        merged = {tp: list(rs) for tp, rs in records.items()}
        count = sum(map(len, merged.values()))
        while count < most and not self.queue.empty():
            epoch, more = self.queue.get_nowait()
            if epoch != self.epoch:
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
            self.queue.get_nowait()
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
                    # Between a revocation and the seek that ends the rebalance: Faust seeks every
                    # partition back to its committed offset before it resumes the flow.
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
                    await fetches.put(batch, epoch)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise

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
