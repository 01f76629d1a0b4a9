"""A worker cut off from the group for longer than its session timeout (10 s), under load, then let
back. It rejoins by itself, without a restart, and the ledger finds 0 lost and 0 double-counted.

Two ways to cut it off:
- `network`: every connection of the worker to Kafka crosses a TCP proxy that the test controls
  (tests/reliability/proxy.py). The broker's PROXIED listener advertises the proxy's port, so the
  worker, bootstrapped there, reaches the broker only through it. The proxy becomes a black hole
  (requests time out, as on a partitioned host) while the worker runs on, with ClickHouse still
  in reach.
- `frozen` (make test-reliability only): SIGSTOP, as a long pause of the process would.
"""
from __future__ import annotations

import os
import signal
import time

import pytest

from tests.conftest import wait_for
from tests.reliability.ledger import FULL, child_of, committed, ends, simulate, verdict, wait_until_committed
from tests.reliability.proxy import Proxy
from warehouse.client import connect

RATE = 2000
CUT_S = 25 if FULL else 15          # the session times out after 10 s


@pytest.mark.parametrize("how", ["network"] + (["frozen"] if FULL else []))
def test_a_worker_cut_off_past_its_session_timeout_rejoins_by_itself(pipeline, how):
    settings = pipeline.settings                # the test's own clients reach Kafka directly
    proxy = Proxy(settings.kafka_proxy_port, settings.kafka_proxied_port) if how == "network" else None
    try:
        pipeline(kafka_port=proxy.listen_port) if proxy else pipeline()
        cut_off(pipeline, proxy)
    finally:
        if proxy is not None:
            proxy.close()


def cut_off(pipeline, proxy: Proxy | None) -> None:
    how = "network" if proxy else "frozen"
    settings = pipeline.settings
    worker = pipeline.workers[0]
    client = connect(settings)
    simulator = simulate(settings, RATE, CUT_S + 30, "--duplicates", "0.005", "--seed", "31")
    try:
        wait_for(lambda: client.execute("SELECT count() FROM events_raw")[0][0] > RATE * 5, True, timeout=60)
        target = child_of(worker.pid())
        if proxy:
            connections = proxy.connections
            assert connections > 0, "the worker does not reach Kafka through the proxy"
            proxy.cut()
            time.sleep(2)                       # a commit already on its way may still land
            before = committed(settings)
            time.sleep(CUT_S - 2)
            assert committed(settings) == before, "the worker still committed: the proxy did not cut it off"
            proxy.heal()
        else:
            os.kill(target, signal.SIGSTOP)
            time.sleep(CUT_S)
            os.kill(target, signal.SIGCONT)
        resumed = time.monotonic()
        assert simulator.wait(timeout=300) == 0, simulator.log.read_text()[-2000:]
    finally:
        if simulator.poll() is None:
            simulator.kill()
    assert wait_until_committed(settings, timeout=300), "the worker did not rejoin and drain"
    assert child_of(worker.pid()) == target, "the worker was restarted: it should have rejoined by itself"
    if proxy:
        assert proxy.connections > connections, "the worker did not reconnect through the proxy"
    result = verdict(settings, f"cut_off_past_session_timeout_{how}")
    result.produced = result.acknowledged = sum(ends(settings).values())
    result.recovery_s = round(time.monotonic() - resumed, 1)
    result.notes = {"cut_s": CUT_S, "rate": RATE, "how": how}
    if proxy:
        result.notes["proxy_connections"] = proxy.connections
    result.save()
    assert result.problems() == [], result
    (stored,), = client.execute("SELECT count() FROM events_raw WHERE event_type = 'episode_start'")
    (counted,), = client.execute("SELECT sum(episode_starts) FROM title_metrics_1m")
    assert counted == stored
