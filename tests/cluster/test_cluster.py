"""The platform on the cluster mode's engines (issue 22; infra/SCALING.md): 3 KRaft brokers,
ZooKeeper, ClickHouse 2 shards × 2 replicas, all native on loopback. `make test-cluster` runs
these; they start what is not running and stop what they started.
"""
from __future__ import annotations

import os

import pytest

from infra import cluster, services
from infra.settings import load
from launcher import bring_down, bring_up
from tests import golden
from tests.conftest import free_port

pytestmark = [pytest.mark.cluster,
              pytest.mark.skipif(not os.environ.get("DRAMA_CLUSTER_TESTS"),
                                 reason="the cluster suite runs with `make test-cluster` (DRAMA_CLUSTER_TESTS=1)")]


@pytest.fixture(scope="module")
def cluster_up():
    settings = load(cluster=True)
    started: list = []
    engines = tuple(kind for kind in cluster.stack(settings) if kind not in services.STACK)
    try:
        bring_up(settings, stack=engines, started=started)
        yield settings
    finally:
        bring_down(started)


@pytest.fixture
def namespace(cluster_up, run_id):
    settings = load(cluster=True, namespace=f"c{run_id}", worker_web_port=free_port())
    bring_up(settings, stack=())
    try:
        yield settings
    finally:
        from warehouse.client import node_client
        for node in settings.clickhouse_nodes:
            client = node_client(settings, node, None)
            client.execute(f"DROP DATABASE IF EXISTS `{settings.clickhouse_db}`")
            client.execute(f"DROP DATABASE IF EXISTS `{settings.clickhouse_db}_shard`")


def test_every_server_holds_replicated_tables_behind_the_contracts_distributed_names(namespace):
    from warehouse.client import node_client
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
    worker = services.Worker(namespace)
    try:
        print(worker.up())
        client = connect(namespace)
        golden.replay(namespace, client)
        assert golden.differences(client) == []
        shards = {shard: connect_shard(namespace, shard).execute("SELECT count() FROM events_raw")[0][0]
                  for shard in (1, 2)}
        assert all(shards.values()), shards          # the partitions' rows are spread over both shards
    finally:
        print(worker.down())


def connect_shard(settings, shard: int):
    from warehouse.cluster import shard_client
    return shard_client(settings, shard)
