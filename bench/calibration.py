"""`python -m bench.calibration`: the study's figures with the re-create loop on, seed by seed.

    python -m bench.calibration                  # seeds 31 37 41 43 47: a day through the stack, a week
                                                 # and a sampled year in-process
    python -m bench.calibration --stack 1 7      # the week through the stack too (about 15 min a seed)
    python -m bench.calibration --seeds 31 --in-process --no-lifetime
    python -m bench.calibration --stack --slate-per-day 3 --no-lifetime   # a week in-process, slate on

Through the stack, a run is the issue's trial: a fresh namespace with its own worker;
`python -m simulator` with the studio on (it answers the worker's re-create signals with
sequels) at 10,000 new users a simulated day; then `python -m simulator report` on that
namespace's warehouse. The simulator sends about 9k messages a second through kafka-python, so
a week (7.7M messages) takes about 15 minutes a seed that way.

In-process, the same World runs with the platform's own surge rule (streams.trends.SurgeDetector,
on the worker's feedback weights) and the studio answering each signal at once, and the report's
figures come from `simulator.report.figures`, the Python definitions that
tests/simulator/test_cli.py holds equal to the warehouse's SQL. A seed's sampled year
(`python -m simulator lifetime`, 2,000 new users a day) gives hit_lifetime_return the same way.

The seeds are not those the defaults were tuned on (7, 11-18, 23). Results:
bench/results/calibration-<time>.json; the exit code is 1 if a report failed.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

from bench.stack import Namespace
from infra.settings import ROOT, Settings, load
from simulator import report
from simulator.__main__ import horizon
from simulator.world import World
from streams.batch import FEEDBACK_WEIGHTS, GOOD_RATING
from streams.trends import SurgeDetector
from warehouse.client import connect

RESULTS = Path(__file__).resolve().parent / "results"
SEEDS = (31, 37, 41, 43, 47)
START = "2026-01-06T00:00:00Z"
BATCH = 2000                # emissions per surge check in-process (the worker checks on every batch)


def simulate(settings: Settings, args: list[str], timeout: float) -> int:
    """`python -m simulator <args>` on the namespace; the number of messages it sent."""
    env = {**settings.as_env(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"python -m simulator {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    last = done.stdout.strip().splitlines()[-1]
    return int(re.search(r"([\d,]+) messages", last).group(1).replace(",", ""))


def wait_landed(settings: Settings, sent: int, timeout: float, say) -> float:
    """Until events_raw holds every message (the runs inject no faults); seconds waited."""
    client, started, seen = connect(settings), time.monotonic(), -1
    while time.monotonic() - started < timeout:
        seen = client.execute("SELECT count() FROM events_raw")[0][0]
        if seen == sent:
            return time.monotonic() - started
        time.sleep(2)
    raise RuntimeError(f"events_raw holds {seen:,} of {sent:,} messages after {timeout:.0f} s")


def result(seed: int, days: float | None, how: str, found: dict, messages: int, signals: int, say, seconds: float,
           note: str = "") -> dict:
    shown = report.render(found)
    say(f"[seed {seed}, {how}] {messages:,} messages, {signals} re-create signals, {found.get('sequels', 0)} "
        f"sequels, {seconds:.0f} s{note}\n{shown}")
    return {"seed": seed, "days": days, "how": how, "messages": messages, "signals": signals,
            "passed": report.passed(found), "report": shown, "figures": dict(found),
            "checks": [{"figure": ref.name, "value": value, "reference": ref.value, "tolerance": tolerance,
                        "ok": ok, "not_checked": why} for ref, value, ok, tolerance, why in report.check(found)]}


def through_stack(base: Settings, seed: int, days: float, users_per_day: float, day_minutes: float, say=print) -> dict:
    how = f"{days:g} day(s) through the stack"
    with Namespace(base, f"calibration seed {seed}, {how}", say) as ns:
        ns.start_workers(1)
        started = time.monotonic()
        sent = simulate(ns.settings, ["--hours", str(24 * days), "--start", START, "--users-per-day",
                                      str(users_per_day), "--day-minutes", str(day_minutes), "--seed", str(seed)],
                        timeout=7200)
        waited = wait_landed(ns.settings, sent, timeout=1800, say=say)
        found = report.from_warehouse(ns.settings)
        [(signals,)] = connect(ns.settings).execute("SELECT count() FROM recreate_signals")
        return result(seed, days, how, found, sent, signals, say, time.monotonic() - started,
                      f" (landed {waited:.0f} s after the simulator ended)")


def in_process(base: Settings, seed: int, days: float, users_per_day: float, say=print,
               slate_per_day: float = 0.0) -> dict:
    """The World with the platform's surge rule and the studio answering at once, no Kafka; with
    `slate_per_day`, new original titles launched all through (the release slate, docs/forecast.md)."""
    started = time.monotonic()
    world = World(seed=seed, start=datetime.fromisoformat(START.replace("Z", "+00:00")), users_per_day=users_per_day,
                  slate_per_day=slate_per_day)
    detector, events, pending, signals = SurgeDetector(base), [], {}, 0
    for n, emission in enumerate(world.stream(world.start + timedelta(days=days)), 1):
        event = orjson.loads(emission.value)
        events.append(event)
        etype = event["event_type"]
        weight = FEEDBACK_WEIGHTS.get(etype, 0.0) if etype != "rating" else \
            FEEDBACK_WEIGHTS["like"] * (event["stars"] >= GOOD_RATING)
        if weight:
            minute = datetime.fromisoformat(event["event_time"].replace("Z", "")).replace(second=0, microsecond=0)
            at = datetime.fromisoformat(event["event_time"].replace("Z", ""))
            score, latest = pending.get((event["title_id"], minute), (0.0, at))
            pending[(event["title_id"], minute)] = (score + weight, max(latest, at))
        if n % BATCH == 0:
            for signal in detector.observe(pending):
                signals += 1
                world.answer_signal(signal.title_id, signal.signal_id)
            pending = {}
    how = f"{days:g} day(s) in-process" + (f", slate {slate_per_day:g} a day" if slate_per_day else "")
    return result(seed, days, how, report.figures(events), len(events), signals, say,
                  time.monotonic() - started)


def lifetime(seed: int, users_per_day: float, say=print) -> dict:
    """A sampled year (`python -m simulator lifetime`), its hit_lifetime_return by report.hit_lifetime_rows."""
    started = time.monotonic()
    events = [orjson.loads(e.value) for e in horizon(seed, datetime(2025, 1, 1, tzinfo=timezone.utc), users_per_day,
                                                     "reelshort-like")]
    rows = report.hit_lifetime_rows(events)
    value = report.lifetime_return(rows)
    found = {"hit_lifetime_return": value, "lifetime": value is not None, "days": rows[-1]["age_days"] if rows else 0}
    return result(seed, None, f"a sampled year at {users_per_day:g} new users a day, in-process", found, len(events),
                  0, say, time.monotonic() - started)


def arguments(argv):
    p = argparse.ArgumentParser(prog="python -m bench.calibration", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    p.add_argument("--stack", type=float, nargs="*", default=[1],
                   help="simulated days of each run through the stack (default: 1)")
    p.add_argument("--in-process", type=float, nargs="*", default=[7],
                   help="simulated days of each in-process run (default: 7)")
    p.add_argument("--users-per-day", type=float, default=10_000)
    p.add_argument("--day-minutes", type=float, default=0.5,
                   help="wall-clock minutes per simulated day through the stack (default 0.5: as fast as it sends)")
    p.add_argument("--lifetime-users-per-day", type=float, default=2_000)
    p.add_argument("--no-lifetime", action="store_true", help="skip each seed's sampled year")
    p.add_argument("--slate-per-day", type=float, default=0.0,
                   help="in-process runs: new original titles a day beside the catalog (the release slate)")
    p.add_argument("--out", type=Path, default=None,
                   help="the JSON file (default bench/results/calibration-<time>.json)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = arguments(argv)
    base = load()
    runs = []
    for seed in args.seeds:
        runs += [through_stack(base, seed, days, args.users_per_day, args.day_minutes) for days in args.stack]
        runs += [in_process(base, seed, days, args.users_per_day, slate_per_day=args.slate_per_day)
                 for days in args.in_process]
        if not args.no_lifetime:
            runs.append(lifetime(seed, args.lifetime_users_per_day))
    print("\nseed  run                                              passed  failing figures")
    for r in runs:
        failing = [c["figure"] for c in r["checks"] if c["ok"] is False]
        print(f"{r['seed']:<5} {r['how']:<48} {'yes' if r['passed'] else 'NO':<7} {', '.join(failing) or '—'}")
    out = args.out or RESULTS / f"calibration-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"users_per_day": args.users_per_day, "day_minutes": args.day_minutes,
                               "runs": runs}, indent=1, default=str))
    print(f"results: {out}")
    return 0 if all(r["passed"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
