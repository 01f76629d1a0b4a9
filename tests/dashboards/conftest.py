"""A namespace with a day and more of simulated traffic and its own copy of the five dashboards.

The simulator sends 30 simulated hours, ending now, into the namespace's topics (a simulated day
per 1.5 wall-clock minutes, the studio answering signals, a little of every fault); the namespace's
worker writes them to its own database; the day that closed is finalized (reach), as the
`maintain` service does; then the dashboards are provisioned for the namespace. Nothing is
written to the demo's database, and everything is removed afterwards.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.calibration import simulate as run_simulator
from infra.settings import ROOT, Settings, load
from tests.conftest import drop_namespace, free_port

HOURS = 30


def simulate(settings: Settings) -> int:
    """HOURS simulated hours ending now, a simulated day per 1.5 wall-clock minutes; messages sent."""
    start = (datetime.now(timezone.utc) - timedelta(hours=HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return run_simulator(settings, ["--seed", "5", "--start", start, "--hours", str(HOURS), "--day-minutes", "1.5",
                                    "--users-per-day", "2000", "--rate", "100000", "--malformed", "0.002",
                                    "--duplicates", "0.002"], timeout=900)


def drained(settings: Settings, quiet_s: float = 8.0, timeout: float = 300.0) -> int:
    """Wait until the worker has written everything: events_raw stops growing for quiet_s."""
    from warehouse.client import connect

    client = connect(settings)
    try:
        deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            (count,), = client.execute("SELECT count() FROM events_raw")
            if count != last:
                last, since = count, time.monotonic()
            elif count and time.monotonic() - since >= quiet_s:
                return count
            time.sleep(1)
        raise AssertionError(f"the worker was still writing after {timeout:.0f}s ({last} events)")
    finally:
        client.disconnect()


@pytest.fixture(scope="package")
def loop_namespace(stack):
    """Settings of a namespace with simulated traffic, its worker running, and its dashboards."""
    from dashboards.provision import provision, unprovision
    from infra import services
    from launcher import bring_up
    from warehouse import reach

    settings = load(namespace=f"d{os.getpid()}", worker_web_port=free_port())
    worker = services.Worker(settings)
    try:
        bring_up(settings, stack=(), apps=(services.Worker,))
        sent = simulate(settings)
        print(f"{sent} messages sent, {drained(settings)} events in {settings.clickhouse_db}")
        reach.close(settings, say=print)
        print(provision(settings))
        yield settings
    finally:
        try:
            unprovision(settings)
        finally:
            drop_namespace(settings, [worker], wait=False)


@pytest.fixture(scope="session")
def test_output() -> Path:
    """Where tests leave files for people to look at (screenshots): DRAMA_TEST_OUTPUT, or .state/test-output."""
    path = Path(os.environ.get("DRAMA_TEST_OUTPUT", ROOT / ".state" / "test-output"))
    path.mkdir(parents=True, exist_ok=True)
    return path
