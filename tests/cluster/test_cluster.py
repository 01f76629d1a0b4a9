"""The platform on the cluster mode's engines (issue 22; infra/SCALING.md): 3 KRaft brokers,
ZooKeeper, ClickHouse 2 shards × 2 replicas, all native on loopback. `make test-cluster` runs
these; they start what is not running and stop what they started.
"""
from __future__ import annotations

import datetime
import os
import time

import pytest

from infra import services
from tests import golden
from warehouse.client import node_client

pytestmark = [pytest.mark.cluster,
              pytest.mark.skipif(not os.environ.get("DRAMA_CLUSTER_TESTS"),
                                 reason="the cluster suite runs with `make test-cluster` (DRAMA_CLUSTER_TESTS=1)")]


def test_every_server_holds_replicated_tables_behind_the_contracts_distributed_names(namespace):
    from warehouse.client import node_client
    namespace, _ = namespace
    for node in namespace.clickhouse_nodes:
        client = node_client(namespace, node, None)
        engines = dict(client.execute("SELECT name, engine FROM system.tables WHERE database = %(d)s",
                                      {"d": namespace.clickhouse_db + "_shard"}))
        assert engines["events_raw"] == "ReplicatedMergeTree"
        assert engines["title_metrics_1m_rollup"] == "ReplicatedAggregatingMergeTree"
        front = dict(client.execute("SELECT name, engine FROM system.tables WHERE database = %(d)s",
                                    {"d": namespace.clickhouse_db}))
        assert front["events_raw"] == front["title_metrics_1m_rollup"] == "Distributed"
        assert front["title_metrics_1m"] == "View"
        macros = dict(client.execute("SELECT macro, substitution FROM system.macros"))
        assert macros == {"shard": f"{node.shard:02d}", "replica": f"r{node.replica}"}


def test_the_golden_replay_on_the_cluster_is_exact(namespace):
    from warehouse.client import connect
    namespace, _ = namespace
    worker = services.Worker(namespace)
    try:
        print(worker.up())
        client = connect(namespace)
        golden.replay(namespace, client)
        assert golden.differences(client) == []
        shards = {shard: connect_shard(namespace, shard).execute("SELECT count() FROM events_raw")[0][0]
                  for shard in (1, 2)}
        assert all(shards.values()), shards          # the partitions' rows are spread over both shards
        # ... and distinct viewers merged across shards: title-minutes whose viewers are on both shards
        # (their uniqExact states are unioned through the Distributed table) are among expected.json's
        on_shard = [set(connect_shard(namespace, shard).execute(
            "SELECT DISTINCT window_start, title_id FROM title_metrics_1m_rollup")) for shard in (1, 2)]
        assert on_shard[0] & on_shard[1], on_shard
    finally:
        print(worker.down())


def connect_shard(settings, shard: int):
    from warehouse.cluster import shard_client
    return shard_client(settings, shard)


INSERT_REJECTED = "INSERT INTO events_rejected (topic, partition, offset, reason, detail, raw, rejected_at) VALUES"
REJECTED_AT = datetime.datetime(2026, 12, 7, 12, 0, 0)


def rejected_block(first_offset: int, rows: int = 3, at: datetime.datetime = REJECTED_AT) -> list[tuple]:
    """A block of events_rejected rows (topic, partition, offset, reason, detail, raw, rejected_at).
    rejected_at is given: left to its DEFAULT now(), a retry in a later second is another block."""
    return [("t", 0, first_offset + n, "invalid_json", "a test block", b"{", at) for n in range(rows)]


def test_a_retried_block_counts_once_on_either_replica_if_identical_and_within_the_last_100(namespace):
    """The second safety net (warehouse/README.md, "On a cluster"): an INSERT whose answer was lost
    (a replica killed mid-insert, a quorum's 319 "unknown status") is sent again, to the same replica
    or the shard's other one; ReplicatedMergeTree drops the identical block by its checksum in
    ZooKeeper. Identical means to the byte, defaults included: the same rows a second later (what
    rejected_at's DEFAULT now() gives a later retry) count again, which is why the worker's
    high-water rule is the first net, and this only the retry's. The window is the table's last 100
    blocks, trimmed every 30-40 s: a block sent again after 100 others and a trim counts again."""
    settings, _ = namespace
    first, second = (node_client(settings, n, settings.clickhouse_db + "_shard") for n in settings.shard_nodes(1))
    block = rejected_block(0)
    first.execute(INSERT_REJECTED, block)
    second.execute(INSERT_REJECTED, block)              # the retry, on the other replica
    first.execute(INSERT_REJECTED, block)               # and on the first again
    second.execute("SYSTEM SYNC REPLICA events_rejected")
    assert [c.execute("SELECT count() FROM events_rejected")[0][0] for c in (first, second)] == [3, 3]

    first.execute(INSERT_REJECTED, rejected_block(0, at=REJECTED_AT + datetime.timedelta(seconds=1)))
    second.execute("SYSTEM SYNC REPLICA events_rejected")
    assert [c.execute("SELECT count() FROM events_rejected WHERE offset < 3")[0][0]
            for c in (first, second)] == [6, 6]

    # the window: 100 other blocks, then the cleanup thread (every 30-40 s on 18.16) trims the
    # checksums to the last 100, and the first block sent again counts
    for n in range(1, 101):
        first.execute(INSERT_REJECTED, rejected_block(n * 10))
    kept = dedup_checksums(first, "events_rejected")
    deadline = time.monotonic() + 90
    while kept() > 100 and time.monotonic() < deadline:
        time.sleep(1)
    assert kept() == 100
    second.execute(INSERT_REJECTED, block)
    second.execute("SYSTEM SYNC REPLICA events_rejected")
    (copies,), = second.execute("SELECT count() FROM events_rejected WHERE offset < 3")
    assert copies == 9, copies


def dedup_checksums(client, table: str):
    """How many block checksums the table's ZooKeeper entry keeps (its de-duplication window)."""
    (path,), = client.execute("SELECT zookeeper_path FROM system.replicas WHERE database = currentDatabase() "
                              "AND table = %(t)s", {"t": table})
    return lambda: client.execute("SELECT count() FROM system.zookeeper WHERE path = %(p)s",
                                  {"p": path + "/blocks"})[0][0]


def test_a_replica_that_lags_is_not_read(namespace):
    """A replica whose replication stopped (SYSTEM STOP FETCHES: what a replica restarted inside its
    ZooKeeper session looks like) falls behind while it looks healthy; past 10 s of delay
    (max_replica_delay_for_distributed_queries, infra/clickhouse/users.xml) readers of the
    Distributed tables get the other replica's rows, never its stale ones: from the stale server
    itself (which would read locally), its shard's other one, and the other shard's servers."""

    settings, _ = namespace
    db = settings.clickhouse_db + "_shard"
    stale, fresh = (node_client(settings, n, db) for n in settings.shard_nodes(1))
    stale.execute("SYSTEM STOP FETCHES events_rejected")
    try:
        fresh.execute(INSERT_REJECTED, rejected_block(0))
        time.sleep(2)
        fresh.execute(INSERT_REJECTED, rejected_block(10))
        time.sleep(12)
        (delay,), = stale.execute("SELECT absolute_delay FROM system.replicas WHERE database = currentDatabase() "
                                   "AND table = 'events_rejected'")
        assert delay > 10, delay
        assert stale.execute("SELECT count() FROM events_rejected")[0][0] == 0   # it really is stale
        counts = {}
        for node in settings.clickhouse_nodes:
            reader = node_client(settings, node, settings.clickhouse_db)     # the admin: the same profile settings
            counts[node.name] = {reader.execute("SELECT count() FROM events_rejected")[0][0] for _ in range(10)}
        assert all(seen == {6} for seen in counts.values()), counts
    finally:
        stale.execute("SYSTEM START FETCHES events_rejected")


def test_a_worker_taking_a_partition_over_reads_its_marks_where_they_were_written(namespace):
    """Through the Distributed tables a random replica answers, and one a few seconds behind
    (under max_replica_delay_for_distributed_queries) would give a worker that takes a partition
    over an old high-water mark: it would write rows again. streams.memory.ShardedReads asks the
    shard's replica the sink writes to. Shard 2's second replica is held back; the Distributed
    path misses the mark at least once in 12 reads (each 1 in 2), ShardedReads never."""
    from streams.memory import Memory, Reads, ShardedReads
    from warehouse.client import connect
    from warehouse.cluster import shard_of

    settings, _ = namespace
    topic = settings.topic("drama.viewing")
    partition = next(p for p in range(8) if shard_of(settings, topic, p) == 2)
    writes_to, behind = (node_client(settings, n, settings.clickhouse_db + "_shard") for n in settings.shard_nodes(2))
    behind.execute("SYSTEM STOP FETCHES events_rejected")
    try:
        writes_to.execute(INSERT_REJECTED, [(topic, partition, n, "invalid_json", "", b"{", REJECTED_AT)
                                            for n in range(10)])
        started = time.monotonic()

        def mark(reads) -> int | None:
            memory = Memory(reads)
            reads.restore(memory, {})
            return memory.high_water["events_rejected"].get((topic, partition))
        through_distributed = [mark(Reads(lambda: connect(settings))) for _ in range(12)]
        from_the_shard = [mark(ShardedReads(settings)) for _ in range(5)]
        assert time.monotonic() - started < 10          # all within the delay a Distributed read still accepts
    finally:
        behind.execute("SYSTEM START FETCHES events_rejected")
    assert from_the_shard == [9] * 5, from_the_shard
    assert None in through_distributed, through_distributed        # the hazard is real: the old path missed it
