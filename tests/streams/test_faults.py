"""Exactness under faults, on the real services: kill -9 mid-batch, a ClickHouse outage, a Kafka
restart, and a second worker joining and leaving. Each ends with the golden comparison."""
from __future__ import annotations

import os
import signal
import time

import requests
from kafka.admin import KafkaAdminClient

from infra import services
from tests import golden
from tests.conftest import settle_drops
from warehouse.client import connect

CHUNKS = 5


def chunks(items: list, n: int) -> list[list]:
    size = -(-len(items) // n)
    return [items[i:i + size] for i in range(0, len(items), size)]


def kill_mid_batch(worker: services.Service, client, patience: float = 2.0, produce=None) -> str:
    """kill -9 the worker while a batch is half written (events_raw ahead of pipeline health),
    or after `patience` seconds if no such moment shows; say which. "mid-batch" only when no batch
    was left half written before (the predecessor's was finished) and one is still half written
    once the worker is dead: the kill landed inside a batch of its own."""
    raw_ahead = ("SELECT (SELECT count() FROM events_raw) + (SELECT count() FROM events_rejected) "
                 "> (SELECT sum(accepted) + sum(rejected) FROM pipeline_health_1m_parts)")
    settle = time.monotonic() + 60
    while (left_half_written := client.execute(raw_ahead)[0][0]) and time.monotonic() < settle:
        time.sleep(0.05)   # a restarted worker first finishes the batch its predecessor left half written
    if produce:
        produce()
    deadline = time.monotonic() + patience
    seen = False
    while time.monotonic() < deadline:
        if client.execute(raw_ahead)[0][0]:
            seen = True
            break
        time.sleep(0.002)
    os.killpg(worker.pid(), signal.SIGKILL)
    time.sleep(0.2)
    worker.pidfile.clear()
    return "mid-batch" if seen and not left_half_written and client.execute(raw_ahead)[0][0] else "between batches"


# The worker sleeps this long between writing events_raw and the metric tables of every batch
# (DRAMA_FAULT_PAUSE_S), so a batch stays half written long enough to be seen and killed in.
FAULT_PAUSE_S = 1.5


def test_kill_minus_9_several_times_mid_stream_changes_nothing(pipeline):
    settings = pipeline(fault_pause_s=FAULT_PAUSE_S)
    worker = pipeline.workers[0]
    client = connect(settings)
    golden.replay_profiles(settings, client)
    moments = []
    for part in chunks(golden.messages(2) + golden.messages(3), CHUNKS):
        # patience: a restarted worker may sit in a rebalance (broker_session_timeout 10 s) first.
        moments.append(kill_mid_batch(worker, client, patience=30.0,
                                      produce=lambda part=part: golden.produce(settings, part)))
        worker.up()
    print("kills:", moments)
    assert moments == ["mid-batch"] * CHUNKS, "a kill did not land inside a batch: it tested nothing"
    golden.wait_settled(client)
    assert golden.differences(client) == []


def committed(settings, group: str) -> dict:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        offsets = admin.list_group_offsets(group)[group]
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
    finally:
        admin.close()


def test_a_clickhouse_outage_blocks_nothing_and_loses_nothing(pipeline, stack):
    settle_drops()                  # no background DROP DATABASE across the outage
    settings = pipeline()
    client = connect(settings)
    golden.replay_profiles(settings, client)
    # A first part while ClickHouse is up, so the worker holds every partition's memory and the
    # outage hits the writes themselves, not only the first restore from ClickHouse.
    first, rest = chunks(golden.messages(2) + golden.messages(3), 2)
    golden.produce(settings, first)
    wait = time.monotonic() + 120
    while (client.execute("SELECT sum(events_in) FROM pipeline_health_1m")[0][0] or 0) < \
            len(golden.messages(1)) + len(first):
        assert time.monotonic() < wait, "the first part was not processed in time"
        time.sleep(0.2)
    clickhouse = services.ClickHouse(stack)
    group = f"drama-loop-{settings.namespace}"
    try:
        clickhouse.down()
        before = committed(settings, group)
        golden.produce(settings, rest)
        time.sleep(8)                                   # the worker retries with backoff meanwhile
        assert pipeline.workers[0].pid() is not None, "the worker died while ClickHouse was down"
        port = pipeline.workers[0].settings.worker_web_port
        health = requests.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
        assert health["status"] == "retrying" and health["retrying"], health
        assert committed(settings, group) == before, "offsets were committed for events never written"
    finally:
        clickhouse.up()
    client = connect(settings)
    golden.wait_settled(client, timeout=180)
    assert golden.differences(client) == []


def test_a_kafka_restart_is_ridden_out(pipeline, stack):
    settle_drops()                  # no background DROP DATABASE across the outage
    settings = pipeline()
    client = connect(settings)
    golden.replay_profiles(settings, client)
    kafka = services.Kafka(stack)
    kafka.down()
    time.sleep(3)
    kafka.up()
    golden.produce(settings, golden.messages(2) + golden.messages(3))
    golden.wait_settled(client, timeout=180)
    assert golden.differences(client) == []


def test_two_workers_split_the_partitions_and_one_leaving_changes_nothing(pipeline):
    settings = pipeline()
    pipeline()                                            # a second worker joins the group
    client = connect(settings)
    golden.replay_profiles(settings, client)
    parts = chunks(golden.messages(2) + golden.messages(3), 4)
    for n, part in enumerate(parts):
        golden.produce(settings, part)
        if n == 1:
            kill_mid_batch(pipeline.workers[1], client, patience=1.0)   # one leaves, hard
    golden.wait_settled(client, timeout=180)
    assert golden.differences(client) == []
