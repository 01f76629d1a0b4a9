"""ClickHouse stopped for 60 s, and Kafka for 30 s, under simulator load (2,000 events/s; half as
long in the short version): no offset is committed while ClickHouse is down, the worker's memory
stays bounded, everything resumes by itself, and the ledger finds 0 lost and 0 double-counted."""
from __future__ import annotations

import time

from infra import services
from tests.conftest import wait_for
from tests.reliability.ledger import (FULL, child_of, committed, ends, peak_rss_mib, simulate, verdict,
                                      wait_until_committed)
from warehouse.client import connect

RATE = 2000
CLICKHOUSE_DOWN_S = 60 if FULL else 30
KAFKA_DOWN_S = 30 if FULL else 15
RSS_LIMIT_MIB = 1024


def counted_once(client) -> None:
    (stored,), = client.execute("SELECT count() FROM events_raw WHERE event_type = 'episode_start'")
    (counted,), = client.execute("SELECT sum(episode_starts) FROM title_metrics_1m")
    assert counted == stored, (counted, stored)


def test_clickhouse_stopped_under_load_commits_nothing_meanwhile_and_loses_nothing(pipeline, stack):
    settings = pipeline()
    worker = pipeline.workers[0]
    client = connect(settings)
    simulator = simulate(settings, RATE, CLICKHOUSE_DOWN_S + 40, "--duplicates", "0.005", "--seed", "23")
    clickhouse = services.ClickHouse(stack)
    try:
        wait_for(lambda: client.execute("SELECT count() FROM events_raw")[0][0] > RATE * 5, True, timeout=60)
        time.sleep(2)
        clickhouse.down()
        down_at = time.monotonic()
        before = committed(settings)
        commits_moved, statuses = [], set()
        while time.monotonic() - down_at < CLICKHOUSE_DOWN_S:
            time.sleep(5)
            now = committed(settings)
            commits_moved += [tp for tp, offset in now.items() if offset != before.get(tp)]
            statuses.add((worker.health() or {}).get("status"))
        peak = peak_rss_mib(child_of(worker.pid()))
    finally:
        clickhouse.up()
    up_at = time.monotonic()
    assert simulator.wait(timeout=300) == 0, simulator.log.read_text()[-2000:]
    assert wait_until_committed(settings, timeout=300), "the backlog did not drain"
    result = verdict(settings, "clickhouse_down_under_load")
    result.produced = result.acknowledged = sum(ends(settings).values())
    result.recovery_s = round(time.monotonic() - up_at, 1)
    result.notes = {"down_s": CLICKHOUSE_DOWN_S, "rate": RATE, "peak_rss_mib": round(peak),
                    "health_while_down": sorted(map(str, statuses)), "commits_while_down": len(commits_moved)}
    result.save()
    assert commits_moved == [], f"offsets were committed while ClickHouse was down: {commits_moved[:5]}"
    assert statuses & {"retrying", "stalled"} and "ok" not in statuses, statuses
    assert peak < RSS_LIMIT_MIB, f"the worker's peak RSS was {peak:.0f} MiB"
    assert result.problems() == [], result
    counted_once(connect(settings))


def test_kafka_stopped_under_load_is_ridden_out_by_producers_and_workers(pipeline, stack):
    settings = pipeline()
    worker = pipeline.workers[0]
    client = connect(settings)
    simulator = simulate(settings, RATE, KAFKA_DOWN_S + 40, "--seed", "29")
    kafka = services.Kafka(stack)
    try:
        wait_for(lambda: client.execute("SELECT count() FROM events_raw")[0][0] > RATE * 5, True, timeout=60)
        kafka.down()
        time.sleep(KAFKA_DOWN_S)
    finally:
        kafka.up()
    up_at = time.monotonic()
    # the simulator exits non-zero if Kafka failed to acknowledge any of its events (send errors)
    assert simulator.wait(timeout=300) == 0, simulator.log.read_text()[-2000:]
    assert wait_until_committed(settings, timeout=300), "the worker did not carry on by itself"
    assert worker.pid() is not None and worker.healthy()
    result = verdict(settings, "kafka_down_under_load")
    result.produced = result.acknowledged = sum(ends(settings).values())
    result.recovery_s = round(time.monotonic() - up_at, 1)
    result.notes = {"down_s": KAFKA_DOWN_S, "rate": RATE}
    result.save()
    assert result.acknowledged >= 0.95 * RATE * (KAFKA_DOWN_S + 40)
    assert result.problems() == [], result
    counted_once(client)
