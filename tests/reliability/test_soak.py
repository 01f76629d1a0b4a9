"""The soak (opt-in: `make soak`, DRAMA_SOAK_MINUTES=60 by default): an hour of simulator traffic
with its fault injection on (duplicates, late and out-of-order events, malformed messages), three
simulated hours an hour, so the de-duplication horizon (an hour of event time) fills in the first
twenty minutes. Sampled every minute: the worker's RSS, its lag, and the size of its
de-duplication state; over the last half they stay flat. The ledger at the end: 0 lost, 0 doubled."""
from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.reliability.ledger import (RESULTS, child_of, committed, ends, memory_mib, simulate, verdict,
                                      wait_until_committed)

MINUTES = float(os.environ.get("DRAMA_SOAK_MINUTES", "60"))
RATE = 800
SPEED = 3                                         # simulated hours per wall-clock hour

pytestmark = pytest.mark.skipif(os.environ.get("DRAMA_SOAK") != "1", reason="opt-in: make soak")


def test_an_hour_at_a_steady_rate_keeps_memory_lag_and_dedup_state_flat(pipeline):
    settings = pipeline()
    worker = pipeline.workers[0]
    start = datetime.now(timezone.utc) - timedelta(hours=MINUTES / 60 * SPEED)
    simulator = simulate(settings, RATE, int(MINUTES * 60), "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "--day-minutes", str(1440 / SPEED), "--duplicates", "0.005", "--late", "0.001",
                         "--out-of-order", "0.01", "--malformed", "0.002", "--seed", "41")
    samples, began = [], time.monotonic()
    try:
        while simulator.poll() is None and time.monotonic() - began < MINUTES * 60 + 600:
            time.sleep(60)
            health = worker.health() or {}
            lag = sum(ends(settings).values()) - sum(committed(settings).values())
            samples.append({"minute": round((time.monotonic() - began) / 60, 1), "rss_mib": round(memory_mib(
                child_of(worker.pid())), 1), "lag": lag, "dedup_mib": round(health.get("dedup_bytes", 0) / 2**20, 1),
                "status": health.get("status")})
            print(json.dumps(samples[-1]), flush=True)
        assert simulator.wait(timeout=600) == 0, simulator.log.read_text()[-2000:]
    finally:
        if simulator.poll() is None:
            simulator.kill()
    assert wait_until_committed(settings, timeout=600)
    result = verdict(settings, "soak")
    result.produced = result.acknowledged = sum(ends(settings).values())
    result.notes = {"minutes": MINUTES, "rate": RATE, "speed": SPEED, "samples": samples}
    result.save()
    (RESULTS / "soak-samples.json").write_text(json.dumps(samples, indent=1))
    assert result.problems() == [], result
    half = samples[len(samples) // 2:]
    for key, slack in (("rss_mib", 1.15), ("dedup_mib", 1.15)):
        assert max(s[key] for s in half) <= slack * half[0][key] + 1, (key, half)
    assert max(s["lag"] for s in half) < RATE * 30, half                # never more than 30 s behind
    assert all(s["status"] == "ok" for s in samples), samples
