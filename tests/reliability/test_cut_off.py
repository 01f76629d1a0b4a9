"""A worker cut off from the group for longer than its session timeout (10 s), under load: frozen
with SIGSTOP, so it misses every heartbeat as a partitioned host would, then let go. It rejoins
by itself, without a restart, and the ledger finds 0 lost and 0 double-counted.

(A TCP proxy cannot cut a worker off here: Kafka's clients connect to the broker's advertised
address after the bootstrap, so a proxy in front of the bootstrap port sees only the first call.)"""
from __future__ import annotations

import os
import signal
import time

from tests.conftest import wait_for
from tests.reliability.ledger import FULL, child_of, ends, simulate, verdict, wait_until_committed
from warehouse.client import connect

RATE = 2000
CUT_S = 25 if FULL else 15          # the session times out after 10 s


def test_a_worker_cut_off_past_its_session_timeout_rejoins_by_itself(pipeline):
    settings = pipeline()
    worker = pipeline.workers[0]
    client = connect(settings)
    simulator = simulate(settings, RATE, CUT_S + 30, "--duplicates", "0.005", "--seed", "31")
    try:
        wait_for(lambda: client.execute("SELECT count() FROM events_raw")[0][0] > RATE * 5, True, timeout=60)
        target = child_of(worker.pid())
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
    result = verdict(settings, "cut_off_past_session_timeout")
    result.produced = result.acknowledged = sum(ends(settings).values())
    result.recovery_s = round(time.monotonic() - resumed, 1)
    result.notes = {"cut_s": CUT_S, "rate": RATE}
    result.save()
    assert result.problems() == [], result
    (stored,), = client.execute("SELECT count() FROM events_raw WHERE event_type = 'episode_start'")
    (counted,), = client.execute("SELECT sum(episode_starts) FROM title_metrics_1m")
    assert counted == stored
