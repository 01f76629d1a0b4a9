"""kill -9 of the worker ten times in a row (four in the short version) under simulator load (≥ 2k events/s, with its
duplicates on): the supervisor starts it again each time, and the ledger finds nothing lost and
nothing counted twice. At least three kills land while an INSERT of the worker's is running in
ClickHouse (system.processes, read just before the signal)."""
from __future__ import annotations

import os
import random
import signal
import time

from infra.supervise import read_restarts
from tests.conftest import wait_for
from tests.reliability.ledger import FULL, child_of, ends, simulate, verdict, wait_until_committed
from warehouse.client import client_name, connect

KILLS = 10 if FULL else 4
RATE = 2500                 # events per second the simulator sends
SECONDS = 150 if FULL else 60   # of simulated traffic: as long as the kills take
MID_INSERT_AT_LEAST = 3


def inserting(client, settings) -> bool:
    """An INSERT of one of this namespace's connections is running in ClickHouse."""
    rows = client.execute("SELECT count() FROM system.processes WHERE query LIKE 'INSERT INTO%%' "
                          "AND endsWith(client_name, %(name)s)", {"name": client_name(settings)})
    return rows[0][0] > 0


def test_ten_kill_minus_9_under_load_lose_nothing_and_count_nothing_twice(pipeline):
    settings = pipeline()
    worker = pipeline.workers[0]
    client = connect(settings)
    simulator = simulate(settings, RATE, SECONDS, "--duplicates", "0.01", "--seed", "19")
    rng = random.Random(19)
    moments, started = [], time.monotonic()
    try:
        for _ in range(KILLS):
            supervisor = worker.pid()
            # the restarted worker rejoins (its predecessor's session lapses in 10 s), then works through its backlog
            wait_for(lambda: worker.healthy(), True, timeout=60, interval=0.2)
            deadline = time.monotonic() + rng.uniform(11.0, 14.0)
            seen = False
            while time.monotonic() < deadline:
                if time.monotonic() > deadline - 4.0 and inserting(client, settings):
                    seen = True        # an INSERT of this namespace's worker is running now: kill inside it
                    break
                time.sleep(0.003)
            target = child_of(supervisor)
            assert target is not None, "the supervisor runs no worker"
            os.kill(target, signal.SIGKILL)
            moments.append("mid-insert" if seen else "random")
            wait_for(lambda s=supervisor, t=target: child_of(s) not in (None, t), True, timeout=30, interval=0.2)
        kill_seconds = time.monotonic() - started
        assert simulator.wait(timeout=SECONDS + 120) == 0, simulator.log.read_text()[-2000:]
    finally:
        if simulator.poll() is None:
            simulator.kill()
    sent = sum(ends(settings).values())
    assert sent >= 0.9 * RATE * SECONDS
    recovered_at = time.monotonic()
    assert wait_until_committed(settings, timeout=300), "the worker did not drain its backlog"
    restarts, _, status = read_restarts(worker.restarts_file)
    result = verdict(settings, "kill_9_under_load")
    result.produced = result.acknowledged = sent
    result.recovery_s = round(time.monotonic() - recovered_at, 1)
    result.notes = {"kills": moments, "restarts": restarts, "last_exit_status": status,
                    "kill_phase_s": round(kill_seconds, 1), "rate": RATE}
    result.save()
    print("kills:", moments)
    assert restarts == KILLS and status == -signal.SIGKILL
    assert moments.count("mid-insert") >= MID_INSERT_AT_LEAST, moments
    assert result.problems() == [], result
    assert result.duplicated > 0, "the simulator's duplicates were not seen: the ledger proved nothing about them"
    # counted once: every stored episode_start is in its minute's window, once
    (stored,), = client.execute("SELECT count() FROM events_raw WHERE event_type = 'episode_start'")
    (counted,), = client.execute("SELECT sum(episode_starts) FROM title_metrics_1m")
    assert counted == stored
