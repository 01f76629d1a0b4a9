"""The demo's past: `make demo` sends DEMO_HISTORY_DAYS simulated days ending now through Kafka
and the worker, exactly as live traffic goes, and opens the dashboards only once it has landed.

    simulator (--history-days: the past at full speed, the studio answering signals, then live)
        ──Kafka──► worker ──► ClickHouse ──maintenance once (rollups, reach of the closed days)──► dashboards

The simulator keeps its progress in a JSON file (infra.services.Simulator.progress_file); this
module draws it as a bar, then waits until the worker's lag is zero, then closes the days.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from infra import services
from infra.process import ServiceError, tail
from infra.settings import Settings

LANDING_TIMEOUT_S = 1800.0


def has_events(settings: Settings) -> bool:
    """Whether the warehouse already holds events (a second `make demo` sends no past again)."""
    from warehouse.client import connect

    client = connect(settings)
    try:
        (count,), = client.execute("SELECT count() FROM events_raw")
        return count > 0
    finally:
        client.disconnect()


def bar(done: float, width: int = 30) -> str:
    filled = round(max(0.0, min(done, 1.0)) * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


class Line:
    """One line redrawn in place on a terminal; a line every ten seconds in a log."""

    def __init__(self):
        self.tty = sys.stdout.isatty()
        self.shown = 0.0

    def show(self, text: str, final: bool = False) -> None:
        now = time.monotonic()
        if self.tty:
            print("\r" + text.ljust(110), end="\n" if final else "", flush=True)
        elif final or now - self.shown >= 10.0:
            print(text, flush=True)
            self.shown = now


def load_history(settings: Settings, report: Callable[[str], None] = print,
                 timeout_s: float = LANDING_TIMEOUT_S) -> dict:
    """Wait for the simulator to send the past and for the worker to write it; then run the
    warehouse's maintenance once so that the daily rollups and the closed days' reach are there
    when the dashboards open. Returns what was sent and how long each part took."""
    from warehouse import maintain, reach

    simulator, worker = services.Simulator(settings), services.Worker(settings)
    started, line = time.monotonic(), Line()
    deadline = started + timeout_s
    progress: dict = {}
    while not progress or progress["phase"] == "history":
        if simulator.pid() is None:
            raise ServiceError(f"the simulator stopped while sending the past:\n{tail(simulator.log, 20)}")
        if time.monotonic() > deadline:
            raise ServiceError(f"the past was not sent in {timeout_s:.0f}s; see {simulator.log}")
        try:
            progress = json.loads(simulator.progress_file.read_text())
        except (OSError, ValueError):
            progress = {}
        if progress:
            done = progress["done"]
            line.show(f"the past: {bar(done)} {done:4.0%}  {progress['sent']:,} events sent, "
                      f"simulated {progress['simulated'][:16]}Z, {progress['sequels']} sequels, "
                      f"{time.monotonic() - started:.0f}s")
        time.sleep(0.5)
    sent_s = time.monotonic() - started
    line.show(f"the past: {bar(1)} 100%  {progress['sent']:,} events sent in {sent_s:.0f}s", final=True)
    sent = progress["sent"]
    while True:
        health = worker.health() or {}
        landed = health.get("messages", 0)
        if health.get("lag") == 0 and not health.get("in_flight") and health.get("lag_checked_at"):
            checked = _seconds(health["lag_checked_at"])
            if checked > time.time() - 6:                 # a lag measured after the past was sent
                break
        if time.monotonic() > deadline:
            raise ServiceError(f"the worker had not written the past after {timeout_s:.0f}s "
                               f"(lag {health.get('lag', '?')}); see `make status` and {worker.log}")
        line.show(f"landing:  {bar(landed / sent)} {min(landed / sent, 1):4.0%}  {landed:,} of {sent:,} "
                  f"written by the worker, lag {health.get('lag', '?')}")
        time.sleep(1)
    landed_s = time.monotonic() - started
    line.show(f"landing:  {bar(1)} 100%  written by the worker {landed_s - sent_s:.0f}s after the last was sent",
              final=True)
    rebuilt = maintain.reconcile(settings, None, say=lambda _: None)
    closed = reach.close(settings, say=lambda _: None)
    report(f"the past: {sum(map(len, rebuilt.values()))} daily rollup(s) reconciled, "
           f"{sum(map(len, closed.values()))} reach window(s) computed")
    scored = wait_for_forecasts(settings, deadline, line)
    report(f"the past: new titles scored up to {scored} (title_forecasts, Hit watch)")
    return {"sent": sent, "sent_s": sent_s, "landed_s": landed_s, "total_s": time.monotonic() - started}


def wait_for_forecasts(settings: Settings, deadline: float, line: Line):
    """Wait for the worker's hit forecast (streams/forecasts.py) to score the past: until the newest
    moment scored is within a period and half an hour of the newest metrics. Returns that moment."""
    behind_s = settings.forecast_period_s + 1800
    from warehouse.client import connect

    client = connect(settings)
    try:
        while True:
            newest, scored = client.execute(
                "SELECT (SELECT max(window_start) FROM title_metrics_1m_parts), max(as_of) FROM title_forecasts_log")[0]
            if scored.year > 2000 and (newest - scored).total_seconds() <= behind_s:
                line.show(f"forecast: {bar(1)} 100%  scored up to {scored:%Y-%m-%d %H:%M}", final=True)
                return scored
            if time.monotonic() > deadline:
                raise ServiceError(f"the worker had not scored the new titles of the past (newest moment scored: "
                                   f"{scored}, newest metrics {newest}); see {services.Worker(settings).log}")
            line.show(f"forecast: scoring the past's new titles, up to {scored:%Y-%m-%d %H:%M} of "
                      f"{newest:%Y-%m-%d %H:%M}")
            time.sleep(1)
    finally:
        client.disconnect()


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
