"""Rebalances in both directions under load: two workers in one group, one stopped and started
again during the stream, then a third joining mid-stream. The partitions move each time; the
ledger finds 0 lost and 0 double-counted."""
from __future__ import annotations

import time

import pytest

from tests.conftest import wait_for
from tests.reliability.ledger import FULL, ends, simulate, verdict, wait_until_committed
from warehouse.client import connect

RATE = 2000
SECONDS = 90 if FULL else 50


@pytest.mark.skipif(not FULL, reason="make test-reliability only, for make test's time (tests/reliability/README.md)")
def test_a_worker_leaving_coming_back_and_a_third_joining_change_nothing(pipeline):
    settings = pipeline()
    pipeline()                                                   # the second worker of the group
    first, second = pipeline.workers
    client = connect(settings)
    simulator = simulate(settings, RATE, SECONDS, "--duplicates", "0.005", "--seed", "37")
    moves = []
    try:
        wait_for(lambda: client.execute("SELECT count() FROM events_raw")[0][0] > RATE * 5, True, timeout=60)
        moves.append(("second stops", second.down()))
        time.sleep(SECONDS / 5)
        moves.append(("second comes back", second.up()))
        time.sleep(SECONDS / 5)
        pipeline()                                               # a third joins mid-stream
        moves.append(("third joins", pipeline.workers[2].name))
        assert simulator.wait(timeout=300) == 0, simulator.log.read_text()[-2000:]
    finally:
        if simulator.poll() is None:
            simulator.kill()
    ended = time.monotonic()
    assert wait_until_committed(settings, timeout=300), "the group did not drain"
    assert all(w.pid() is not None and w.healthy() for w in (first, second, pipeline.workers[2]))
    result = verdict(settings, "rebalances_both_ways")
    result.produced = result.acknowledged = sum(ends(settings).values())
    result.recovery_s = round(time.monotonic() - ended, 1)
    result.notes = {"moves": [m for m, _ in moves], "rate": RATE, "seconds": SECONDS}
    result.save()
    assert result.problems() == [], result
    (stored,), = client.execute("SELECT count() FROM events_raw WHERE event_type = 'episode_start'")
    (counted,), = client.execute("SELECT sum(episode_starts) FROM title_metrics_1m")
    assert counted == stored
