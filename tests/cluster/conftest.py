"""The cluster suite's fixtures: the cluster's engines (started when not running, stopped after
when this session started them), and a fresh namespace on them with its workers."""
from __future__ import annotations

import pytest

from infra import cluster, services
from infra.settings import load
from launcher import bring_down, bring_up
from tests.conftest import another_worker, free_port

@pytest.fixture(scope="session")
def cluster_up():
    settings = load(cluster=True)
    started: list = []
    engines = tuple(kind for kind in cluster.stack(settings) if kind not in services.STACK)
    try:
        bring_up(settings, stack=engines, started=started)
        yield settings
    finally:
        if started:             # every engine: a broker starts its siblings, which `started` does not list
            bring_down([kind(settings) for kind in engines])


@pytest.fixture
def namespace(cluster_up, run_id):
    """A fresh namespace on the cluster: its topics (RF 3) and its databases on every server,
    dropped afterwards. `namespace.workers` starts a worker on it (`start_worker()`)."""
    settings = load(cluster=True, namespace=f"c{run_id}", worker_web_port=free_port())
    bring_up(settings, stack=())
    workers: list = []
    try:
        yield settings, workers
    finally:
        for worker in workers:
            print(worker.down())
        from infra.topics import admin
        from warehouse.client import node_client
        for node in settings.clickhouse_nodes:
            for database in (settings.clickhouse_db, settings.clickhouse_db + "_shard"):
                drop(lambda node=node: node_client(settings, node, None), database)
        kafka = admin(settings)
        try:
            kafka.delete_topics([t for t in kafka.list_topics() if t.startswith(settings.topic(""))])
        finally:
            kafka.close()


def drop(client_of, database: str, attempts: int = 3) -> None:
    """DROP DATABASE, again on a timeout: dropping Replicated tables waits on ZooKeeper, which a
    fault test may have just restarted (a timed-out DROP was seen on a loaded machine)."""
    for attempt in range(attempts):
        client = client_of()
        try:
            client.execute(f"DROP DATABASE IF EXISTS `{database}`")
            return
        except (TimeoutError, OSError, EOFError):
            if attempt == attempts - 1:
                raise
        finally:
            client.disconnect()


def start_worker(settings, workers: list):
    """One more worker of the namespace's consumer group on the cluster."""
    return another_worker(load(cluster=True, namespace=settings.namespace, worker_web_port=free_port()), workers)
