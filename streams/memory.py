"""The worker's state between batches, and the reads of ClickHouse that rebuild it or confirm a duplicate.

    Memory ── partitions (streams/state.py PartitionMemory), profiles, the tables' high-water marks,
              the latest batch's Parts
       ├─ ensure(firsts): rebuild what is missing ──► Reads.restore ──► ClickHouse
       └─ classify(fetched): streams/batch.classify per partition, with the one question to
          ClickHouse (are these ids stored?) handed in as `confirm` ──► Reads.held

`Reads` is the only place here that talks to ClickHouse; it is built where the worker starts
(streams/__main__.py) with a client factory and handed to `Memory`: a test hands in a fake.
Both run in a thread (streams/writer.py): they block.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from schemas.topics import USERS
from schemas.validate import utc_now
from streams import batch as columns
from streams.progress import retry_blocking
from streams.state import held_ids, restore_high_water, restore_partition, restore_profiles

log = logging.getLogger(__name__)


class Reads:
    """What the worker asks ClickHouse (blocking): its state before an offset, and which ids
    events_raw holds. `connect()` returns a clickhouse-driver client (warehouse/client.py)."""

    def __init__(self, connect: Callable[[], object]):
        self.connect = connect
        self.client = None                  # kept for `held`, asked whenever a digest matches

    def restore(self, memory: "Memory", missing: dict) -> None:
        """Rebuild the profiles and marks if gone, and the partitions `missing` names (tp → first offset)."""
        client = self.connect()
        try:
            if memory.profiles is None:
                memory.profiles = restore_profiles(client)
            if memory.high_water is None or missing:
                memory.high_water = restore_high_water(client)
            for (topic, partition), first in missing.items():
                started = time.monotonic()
                memory.partitions[(topic, partition)] = restore_partition(client, topic, partition, first)
                log.info("restored %s[%d] from ClickHouse before offset %d in %.2fs", topic, partition, first,
                         time.monotonic() - started)
        finally:
            client.disconnect()

    def held(self, topic: str, partition: int, ids: list[str]) -> set:
        """The ids among `ids` that events_raw holds for this partition (one attempt)."""
        if self.client is None:
            self.client = self.connect()
        try:
            return held_ids(self.client, topic, partition, ids)
        except Exception:
            self.client.disconnect()      # rebuilt on the next attempt
            self.client = None
            raise


class ShardedReads(Reads):
    """The cluster's Reads (warehouse/cluster.py): each question goes to the shard that holds the
    partition's rows, on the replica its sink writes to (the first that answers), through the
    shard's own tables. Through the Distributed tables a random replica answers, and one up to
    10 s behind (max_replica_delay_for_distributed_queries) would give a worker that takes a
    partition over marks and remembered ids from before the last writes."""

    def __init__(self, settings):
        from warehouse import cluster
        self.shard_of = lambda topic, partition: cluster.shard_of(settings, topic, partition)
        self.connect_shard = lambda shard: cluster.shard_client(settings, shard)
        self.connect_shards = lambda: cluster.shard_clients(settings)
        self.clients: dict = {}

    def restore(self, memory: "Memory", missing: dict) -> None:
        with self.connect_shards() as clients:
            if memory.profiles is None:         # a user's profiles are one partition's: on one shard
                memory.profiles = {}
                for client in clients.values():
                    memory.profiles.update(restore_profiles(client))
            if memory.high_water is None or missing:
                marks: dict = {}
                for client in clients.values():     # each partition's marks live on one shard
                    for table, by_partition in restore_high_water(client).items():
                        marks.setdefault(table, {}).update(by_partition)
                memory.high_water = marks
            for (topic, partition), first in missing.items():
                started = time.monotonic()
                client = clients[self.shard_of(topic, partition)]
                memory.partitions[(topic, partition)] = restore_partition(client, topic, partition, first)
                log.info("restored %s[%d] from its shard before offset %d in %.2fs", topic, partition, first,
                         time.monotonic() - started)

    def held(self, topic: str, partition: int, ids: list[str]) -> set:
        shard = self.shard_of(topic, partition)
        if shard not in self.clients:
            self.clients[shard] = self.connect_shard(shard)
        try:
            return held_ids(self.clients[shard], topic, partition, ids)
        except Exception:
            self.clients.pop(shard).disconnect()      # another replica, maybe, on the next attempt
            raise


class Memory:
    """The worker's state: per-partition memory (streams/state.py), profiles, high-water marks."""

    def __init__(self, reads: Reads | None, namespace: str = "", users_topic: str = USERS):
        self.reads = reads
        self.namespace = namespace
        self.users_topic = users_topic
        self.partitions: dict = {}
        self.profiles: dict | None = None
        self.high_water: dict | None = None
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
        self.reads.restore(self, missing)

    def confirm(self, topic: str, partition: int, ids: list[str]) -> set:
        """The ids seen before in this partition (a digest match confirmed): in the previous
        batch, which may still be being written, or in events_raw (retried until it answers)."""
        previous = self.last_parts.get((topic, partition))
        seen = {e.event_id for e in previous.events} & set(ids) if previous is not None else set()
        ids = [i for i in ids if i not in seen]
        if not ids:
            return seen
        return seen | retry_blocking("confirming duplicates in events_raw",
                                     lambda: self.reads.held(topic, partition, ids))

    def classify(self, fetched: dict) -> list:
        """The fetch's partitions, profiles first (a profile and its user's events fetched
        together: the profile counts), each classified in offset order."""
        users = self.users_topic
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
            return columns.classify(topic, partition, some, state, self.profiles, self.namespace,
                                    confirm=lambda ids: self.confirm(topic, partition, ids), now=now, commit=commit)
        try:
            return run(messages)
        except Exception as whole:  # noqa: BLE001 - contained: the events that cause it are dead-lettered
            error = whole       # what every message gets if none raises alone (they fail only together)
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
