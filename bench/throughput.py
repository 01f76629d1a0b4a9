"""Throughput and freshness on the real stack, with the references measured in the same run:
`make bench` (python -m bench.throughput; --smoke for a quick run; --help for the sizes).

Stages, each on a fresh namespace removed afterwards (topics, Faust's own topics, consumer
groups, database, Faust data directory):

1. ceiling       bare aiokafka getmany + orjson.loads over the pre-loaded topics, with default and with
                 large fetches; the same (default fetches) + validation
2. drain-1/-2    the topics pre-loaded, then 1 (and 2) workers: start-up and drain rate separately
3. peer          the ClickHouse-only design: a Kafka engine table per input topic → MVs → SummingMergeTree,
                 computing title_metrics_1m and episode_metrics_1m (bench/peer.py); rate, CPU, exactness
3b. faults       the peer on messages with the simulator's resent and out-of-order events, against the
                 exact figures (the engine is at-least-once and does not de-duplicate)
4. freshness     one worker under steady load at each rate; probes on every input topic every 250 ms;
                 the worker's RSS
5. dedup         streams.dedup.measure_bytes_per_id (bytes of de-duplication memory per remembered id)

Prints one table and writes it all to <results-dir>/<UTC timestamp>.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from bench import ceiling, drain, exactness, freshness, peer, report, stack
from bench.load import Simulated, by_topic, preload, simulate
from infra import services
from infra.settings import load
from simulator.world import Faults

RESULTS = Path(__file__).resolve().parent / "results"


def say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


def parse(argv) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true",
                   help="small sizes (80,000 messages, one rate of 2,000/s for 3 s, 100,000 ids): checks the harness")
    p.add_argument("--messages", type=int, help="simulated messages pre-loaded for the ceiling, drain and peer "
                                                "(default 1,000,000: at issue 7's 300,000 a ceiling read lasts "
                                                "2 s and two reads a minute apart differ up to 2×; smoke 80,000)")
    p.add_argument("--users-per-day", type=float, default=20_000.0, help="the simulator's audience (default 20,000)")
    p.add_argument("--rates", help="freshness rates in events/s, comma-separated (default 2000,5000,10000; smoke 2000)")
    p.add_argument("--no-half-max", action="store_true",
                   help="skip the freshness run at 50%% of the measured 1-worker drain (on by default, off in smoke)")
    p.add_argument("--duration", type=float, help="seconds of load per freshness rate (default 25; smoke 3)")
    p.add_argument("--repeat", type=int, default=3,
                   help="rounds of (ceiling read, ceiling+validation read, 1-worker drain, 2-worker drain), "
                        "interleaved so that each ratio compares figures taken a minute apart; every figure "
                        "is the median of its rounds, each ratio the median of the rounds' ratios (default 3; "
                        "smoke 1)")
    p.add_argument("--retries", type=int, default=1,
                   help="runs more of a stage that failed while ClickHouse or Kafka restarted (default 1)")
    p.add_argument("--dedup-ids", type=int, help="ids for measure_bytes_per_id (default 1,000,000; smoke 100,000)")
    p.add_argument("--fault-messages", type=int,
                   help="messages for the faults stage (default 300,000; smoke 40,000)")
    p.add_argument("--crash-messages", type=int,
                   help="messages each design gets in the crash stage, kill -9 of ClickHouse after 40%% of them "
                        "(default 300,000; smoke 20,000)")
    p.add_argument("--paced-rate", type=float,
                   help="events/s at which the crash stage and the worker's faults run send (default 10,000; "
                        "smoke 4,000)")
    p.add_argument("--duplicates", type=float, default=0.05,
                   help="share of events the simulator resends in the faults stage (default 0.05; "
                        "as many more held back up to ten minutes)")
    p.add_argument("--results-dir", type=Path, default=RESULTS, help=f"where the JSON goes (default {RESULTS})")
    p.add_argument("--clean", action="store_true",
                   help="only remove what earlier runs left behind (namespaces bench<8 hex digits>), then exit")
    p.add_argument("--skip", default="",
                   help="stages to leave out, comma-separated: ceiling,drain,peer,faults,crash,freshness,dedup")
    args = p.parse_args(argv)
    args.messages = args.messages or (80_000 if args.smoke else 1_000_000)
    args.duration = args.duration or (3.0 if args.smoke else 25.0)
    args.fault_messages = args.fault_messages or (40_000 if args.smoke else 300_000)
    args.crash_messages = args.crash_messages or (20_000 if args.smoke else 300_000)
    args.paced_rate = args.paced_rate or (4_000.0 if args.smoke else 10_000.0)
    args.dedup_ids = args.dedup_ids or (100_000 if args.smoke else 1_000_000)
    args.rates = [float(r) for r in (args.rates or ("2000" if args.smoke else "2000,5000,10000")).split(",") if r]
    args.half_max = not (args.no_half_max or args.smoke)
    args.repeat = 1 if args.smoke else max(1, args.repeat)
    args.skip = {s for s in args.skip.split(",") if s}
    return args


def load_average() -> float | None:
    """The 1-minute load average: how busy the 2 cores were (other sessions share them)."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


STACK = (services.ClickHouse, services.Kafka)


def stack_pids(base) -> tuple:
    return tuple(kind(base).pid() for kind in STACK)


def restarted(base, before: tuple, wait: float = 180.0) -> bool:
    """After a failed stage: True if ClickHouse or Kafka stopped or restarted since it began (their
    PIDs changed) and both answer again within `wait` seconds; then the stage is worth another run."""
    if stack_pids(base) == before and None not in before:
        return False
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if None not in stack_pids(base) and all(kind(base).healthy() for kind in STACK):
            time.sleep(5)  # settled, not just listening
            return True
        time.sleep(2)
    return False


def rate_label(rate: float) -> str:
    return f"{rate / 1000:g}k/s" if rate >= 1000 and rate % 100 == 0 else f"{rate:,.0f}/s"


def ensure_stack(base) -> list:
    """ClickHouse and Kafka up (reused when running, as `make up` leaves them); returns what was started."""
    started = []
    for kind in STACK:
        service = kind(base)
        already = service.pid() is not None and service.healthy()
        say(service.up())
        if not already:
            started.append(service)
    return started


def dedup_figure(ids: int) -> dict:
    try:
        from streams.dedup import measure_bytes_per_id
    except ImportError as error:
        return {"ids": ids, "bytes_per_id": None, "error": f"not available: {error!r}"}
    started = time.monotonic()
    value = measure_bytes_per_id(ids)
    return {"ids": ids, "bytes_per_id": round(value, 2), "seconds": round(time.monotonic() - started, 1)}


def combine_rounds(rounds: list[dict], loaded: dict | None, namespace: str) -> tuple[dict | None, dict]:
    """The rounds as the report reads them: each ceiling the median of its reads; each drain the
    round whose ratio (drain ÷ that round's ceiling, or 2 workers ÷ 1 worker) is the median."""
    bare = [r["ceiling"]["bare"] for r in rounds if r["ceiling"]]
    validated = [r["ceiling"]["validated"] for r in rounds
                 if r["ceiling"] and r["ceiling"]["validated"].get("msgs_per_s")]
    ceiling_out = None
    if bare:
        checked = ceiling.median_of(validated) if validated else \
            {"msgs_per_s": None, "error": rounds[0]["ceiling"]["validated"].get("error")}
        ceiling_out = {"bare": ceiling.median_of(bare), "preload": loaded, "namespace": namespace,
                       "validated": {**checked, "validator": ceiling.validator_name()}}
        large = [r["ceiling"]["large"] for r in rounds if r["ceiling"] and r["ceiling"].get("large")]
        if large:
            ceiling_out["large"] = {**ceiling.median_of(large), "fetch": ceiling.LARGE_FETCH}
    drains: dict = {"rounds": []}
    for r in rounds:
        c = r["ceiling"]["bare"]["msgs_per_s"] if r["ceiling"] else None
        one, two = (r[w]["msgs_per_s"] if r[w] else None for w in ("1", "2"))
        drains["rounds"].append({"ceiling": c, "1": one, "2": two,
                                 "1_vs_ceiling": round(one / c, 3) if one and c else None,
                                 "2_vs_1": round(two / one, 3) if one and two else None})
    for workers, key in (("1", "1_vs_ceiling"), ("2", "2_vs_1")):
        scored = sorted(((row[key], r[workers]) for row, r in zip(drains["rounds"], rounds) if row[key] is not None),
                        key=lambda scored_run: scored_run[0])         # equal ratios: never compare the runs
        if scored:
            ratio, run = scored[len(scored) // 2]
            drains[workers] = {**run, "median_ratio": ratio, "ratios": [x for x, _ in scored]}
        else:
            anyrun = next((r[workers] for r in rounds if r[workers]), None)
            if anyrun:
                drains[workers] = anyrun
    if drains.get("2", {}).get("median_ratio"):
        drains["ratio_2_vs_1"] = drains["2"]["median_ratio"]
    return ceiling_out, drains


def public(value):
    """The results without their private parts (keys starting with _), JSON-ready."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [public(v) for v in value]
    return value


def main(argv=None) -> int:
    args = parse(argv)
    base = load()
    if args.clean:
        ours = ensure_stack(base)
        try:
            left = stack.remove_stray(base, say)
        finally:
            for service in reversed(ours):
                say(service.down())
        say("nothing left" if not left else f"LEFT: {left}")
        return 1 if left else 0
    started_at = datetime.now(timezone.utc)
    results: dict = {
        "started_at": started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m bench.throughput " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": report.machine(), "git": report.code_version(),
        "messages": args.messages, "partitions": base.topic_partitions,
        "options": {"smoke": args.smoke, "users_per_day": args.users_per_day, "rates": args.rates,
                    "half_max": args.half_max, "duration_s": args.duration, "dedup_ids": args.dedup_ids,
                    "fault_messages": args.fault_messages, "duplicates": args.duplicates,
                    "skip": sorted(args.skip), "repeat": args.repeat,
                    "retries": args.retries},
        "errors": {}, "load_average": {},
    }
    say(f"machine: {results['machine']}")
    ours = ensure_stack(base)
    earlier = stack.stray(base)
    if earlier:
        say(f"left by earlier runs (not touched): {earlier}; when no other bench runs, "
            f"`python -m bench.throughput --clean` removes them")
    stack.CREATED.clear()
    results["namespaces"] = stack.CREATED

    def stage(name: str, body):
        if name.split("-")[0] in args.skip:
            return None
        for attempt in range(args.retries + 1):
            say(f"=== {name}" + (f" (attempt {attempt + 1})" if attempt else ""))
            t = time.monotonic()
            before = load_average()
            pids = stack_pids(base)
            try:
                value = body()
                say(f"=== {name} done in {time.monotonic() - t:.0f}s")
                return value
            except Exception as error:  # noqa: BLE001 - one stage failing does not lose the others' figures
                say(f"=== {name} FAILED: {error}\n{traceback.format_exc()}")
                if attempt == args.retries or not restarted(base, pids):
                    results["errors"][name] = f"{type(error).__name__}: {error}"
                    return None
                results.setdefault("retried", {})[name] = f"{type(error).__name__}: {error}"
                say(f"=== {name}: ClickHouse or Kafka restarted during the stage (another session's outage "
                    f"test?); both answer again, so the stage runs once more")
            finally:
                results["load_average"][name] = [before, load_average()]

    try:
        say(f"simulating {args.messages:,} messages")
        messages = Simulated(args.messages, users_per_day=args.users_per_day)     # generated on each pass
        results["by_topic"] = by_topic(messages)

        ceiling_ns = stack.Namespace(base, "ceiling", say)

        def load_ceiling():
            ceiling_ns.__enter__()
            opened.append(ceiling_ns)
            loaded = preload(ceiling_ns.settings, messages)
            say(f"[ceiling] pre-loaded {len(messages):,} messages in {loaded['seconds']:.1f}s "
                f"({loaded['msgs_per_s']:,}/s); read once per round")
            return loaded

        def read_ceiling():
            out = ceiling.measure(ceiling_ns.settings, len(messages), repeat=1)
            if out["validated"].get("error"):
                results["errors"]["ceiling-validated"] = out["validated"]["error"]
            say(f"[ceiling] bare {out['bare']['msgs_per_s']:,} msg/s; with validation "
                f"{out['validated']['msgs_per_s'] or out['validated'].get('error')} msg/s")
            return out

        # Rounds: the machine's speed drifts over minutes (other tenants), so each ratio compares a
        # drain with the ceiling read just before it, and the figures are medians over rounds.
        rounds, opened = [], []
        try:
            loaded = stage("ceiling", load_ceiling)
            for n in range(args.repeat):
                say(f"--- round {n + 1} of {args.repeat}")
                row = {"ceiling": stage("ceiling", read_ceiling) if loaded else None}
                for workers in (1, 2):
                    row[str(workers)] = stage(f"drain-{workers}",
                                              lambda workers=workers: drain.run(base, messages, workers, say))
                rounds.append(row)
        finally:
            for ns in opened:
                problems = ns.close()
                if problems:
                    results["errors"]["ceiling-cleanup"] = "; ".join(problems)
        results["ceiling"], results["drain"] = combine_rounds(rounds, loaded, ceiling_ns.namespace)
        drains = results["drain"]
        worker_metrics = drains.get("1", {}).get("_metrics")
        results["peer"] = stage("peer", lambda: peer.run(base, messages, worker_metrics, say))
        fault_messages = simulate(args.fault_messages, users_per_day=args.users_per_day,
                                  faults=Faults(duplicates=args.duplicates, out_of_order=args.duplicates))
        results["faults"] = stage("faults", lambda: peer.run_faults(base, fault_messages, say))
        results["faults_worker"] = stage("faults-worker", lambda: exactness.run(
            base, fault_messages, "worker", args.paced_rate, kill=False, say=say))
        crash_messages = messages[:args.crash_messages]
        results["crash"] = {design: stage(f"crash-{design}", lambda design=design: exactness.run(
            base, crash_messages, design, args.paced_rate, kill=True, say=say)) for design in exactness.DESIGNS}

        rates = [(rate_label(r), r) for r in args.rates]
        one_worker = drains.get("1", {}).get("msgs_per_s")
        if args.half_max:
            if one_worker:
                rates.append((f"50% of 1-worker max ({one_worker / 2:,.0f}/s)", round(one_worker / 2)))
            else:
                results["errors"]["freshness-half-max"] = "no 1-worker drain figure to take 50% of"
        results["freshness"] = stage("freshness", lambda: freshness.run(base, rates, args.duration, say,
                                                                         users_per_day=args.users_per_day))
        results["freshness_peer"] = stage("freshness-peer", lambda: freshness.run(
            base, rates, args.duration, say, users_per_day=args.users_per_day, design="peer"))
        results["dedup"] = stage("dedup", lambda: dedup_figure(args.dedup_ids)) or (
            {"error": results["errors"].get("dedup", "skipped")})
    finally:
        results["leftovers"] = stack.leftovers(base, stack.CREATED)
        for service in reversed(ours):
            say(service.down())

    results["finished_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results["targets"] = report.targets(results)
    text = report.table(results)
    results["table"] = text
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(public(results), indent=2, default=str) + "\n")
    print()
    print(text)
    print(f"\nwritten to {path}")
    if results["errors"] or results["leftovers"]:
        print(f"errors: {results['errors']}; left behind: {results['leftovers']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
