"""Faults on the cluster under simulator load (issue 22): a Kafka broker (the active controller),
a ClickHouse replica, a whole shard, ZooKeeper and a worker, each killed with -9 and (but the
worker) started again. Every scenario ends with the reliability suite's ledger verdict over
every input partition: 0 lost and 0 double-counted, and the rollups count each stored event once.
"""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from infra import cluster
from infra.process import pid_alive, port_open
from tests.cluster.conftest import start_worker
from tests.conftest import wait_for
from tests.reliability.ledger import FULL, child_of, ends, simulate, verdict, wait_until_committed
from warehouse.client import connect, node_client

pytestmark = [pytest.mark.cluster,
              pytest.mark.skipif(not os.environ.get("DRAMA_CLUSTER_TESTS"),
                                 reason="the cluster suite runs with `make test-cluster` (DRAMA_CLUSTER_TESTS=1)")]

RATE = 1000
LOAD_S = 90 if FULL else 60


def kill(service) -> int:
    """kill -9 of a service's process; returns once its ports are closed."""
    pid = service.pid()
    assert pid, f"{service.name} is not running"
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid) and not any(port_open(h, p) for h, p in service.ports()), True, timeout=30)
    service.pidfile.clear()
    return pid


def under_load(settings, workers: list, scenario: str, fault, seed: int, n_workers: int = 2):
    """`n_workers` workers and the simulator at RATE on the namespace; `fault()` once rows arrive;
    then the backlog drained and the ledger's verdict, which must find nothing lost or doubled."""
    for _ in range(n_workers):
        start_worker(settings, workers)
    client = connect(settings)
    simulator = simulate(settings, RATE, LOAD_S, "--duplicates", "0.005", "--seed", str(seed))
    try:
        wait_for(lambda: client.execute("SELECT count() FROM events_raw")[0][0] > RATE * 5, True, timeout=120)
        notes = fault() or {}
    finally:
        assert simulator.wait(timeout=600) == 0, simulator.log.read_text()[-2000:]
    recovered = time.monotonic()
    assert wait_until_committed(settings, timeout=300), "the backlog did not drain"
    caught_up(settings)
    result = verdict(settings, f"cluster_{scenario}")
    result.produced = result.acknowledged = sum(ends(settings).values())
    result.recovery_s = round(time.monotonic() - recovered, 1)
    result.notes = notes
    result.save()
    assert result.problems() == [], result
    assert result.stored > RATE * 10, result
    (stored,), = client.execute("SELECT count() FROM events_raw WHERE event_type = 'episode_start'")
    (counted,), = client.execute("SELECT sum(episode_starts) FROM title_metrics_1m")
    assert counted == stored, (counted, stored)
    return result


def caught_up(settings) -> None:
    """Every replica holds what its shard was sent (SYSTEM SYNC REPLICA), so that the ledger, which reads
    through the Distributed tables (any replica), judges what is stored, not how far a replica got."""
    for node in settings.clickhouse_nodes:
        client = node_client(settings, node, settings.clickhouse_db + "_shard")
        for table in ("events_raw", "events_rejected", "title_metrics_1m_rollup"):
            client.execute(f"SYSTEM SYNC REPLICA {table}")
        client.disconnect()


def service(settings, base, index):
    return cluster.numbered(base, index)(settings)


def active_controller(settings) -> int:
    """The KRaft quorum's leader, as the brokers' quorum-state files say."""
    for broker in settings.kafka_brokers:
        state = cluster.home(settings) / f"kafka-{broker.node_id}" / "data" / "__cluster_metadata-0" / "quorum-state"
        try:
            leader = json.loads(state.read_text()).get("leaderId", -1)
        except (OSError, ValueError):
            continue
        if leader > 0:
            return leader
    raise AssertionError("no broker names a quorum leader")


def test_the_active_controller_killed_and_restarted(namespace):
    settings, workers = namespace

    def fault():
        leader = active_controller(settings)
        broker = service(settings, cluster.KafkaBroker, leader)
        kill(broker)
        time.sleep(15)
        print(broker.up())
        return {"killed_broker": leader, "new_controller": active_controller(settings)}
    result = under_load(settings, workers, "controller_killed", fault, seed=31)
    assert result.notes["new_controller"] > 0


def test_a_clickhouse_replica_killed_and_restarted_catches_up(namespace):
    settings, workers = namespace
    node = settings.shard_nodes(1)[0]          # the replica the shard's writes go to first

    def fault():
        replica = service(settings, cluster.ClickHouseNode, node.index)
        kill(replica)
        time.sleep(20)
        print(replica.up())
    under_load(settings, workers, "replica_killed", fault, seed=37)
    counts = []
    for replica in settings.shard_nodes(1):
        client = node_client(settings, replica, settings.clickhouse_db + "_shard")
        client.execute("SYSTEM SYNC REPLICA events_raw")
        counts.append(client.execute("SELECT count() FROM events_raw")[0][0])
    assert counts[0] == counts[1] > 0, counts      # the restarted replica caught up with the other


def test_a_whole_shard_down_for_30_s(namespace):
    settings, workers = namespace

    def fault():
        replicas = [service(settings, cluster.ClickHouseNode, n.index) for n in settings.shard_nodes(2)]
        for replica in replicas:
            kill(replica)
        time.sleep(30)
        for replica in replicas:
            print(replica.up())
    under_load(settings, workers, "shard_down", fault, seed=41)


def test_zookeeper_down_past_the_session_timeout(namespace):
    settings, workers = namespace

    def fault():
        zookeeper = cluster.ZooKeeper(settings)
        kill(zookeeper)
        time.sleep(40)
        print(zookeeper.up())
    under_load(settings, workers, "zookeeper_down", fault, seed=43)


def test_a_worker_killed_the_other_takes_its_partitions(namespace):
    settings, workers = namespace

    def fault():
        victim = workers[0]
        supervisor = victim.pid()
        child = child_of(supervisor)
        os.kill(supervisor, signal.SIGKILL)           # the supervisor first, so nothing starts the worker again
        if child:
            os.kill(child, signal.SIGKILL)
        victim.pidfile.clear()
        return {"killed": victim.name}
    under_load(settings, workers, "worker_killed", fault, seed=47)
