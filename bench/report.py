"""The machine the figures come from, and the one table `make bench` prints."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from bench.peer import excl_text
from infra.settings import ROOT
from schemas.topics import INPUT_TOPICS

DRAIN_TARGET = 0.5          # worker drain ≥ 50% of the ceiling
P99_TARGET_S = 2.0          # p99 freshness < 2 s on every topic …
P99_TARGET_RATE = 5000      # … at 5k events/s
PRODUCER_SHORT = 0.95       # a freshness run whose producer sent under 95% of its target rate is flagged
RESULTS = Path(__file__).resolve().parent / "results"


def save(result: dict, name: str, results_dir: Path = RESULTS) -> Path:
    """Write a run's figures to <results_dir>/<name>-<UTC time>.json; returns the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=1))
    return path


def code_version() -> dict:
    """The commit the figures were measured on (the worker changes often), read-only git calls."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    try:
        return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.SubprocessError):
        return {}


def machine() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    memory_kb = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory_kb = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:")), 0)
    except OSError:
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "cpu_model": model, "memory_gib": round(memory_kb / 1024 ** 2, 1),
            "python": platform.python_version(), "kernel": platform.release()}


def num(value, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}{unit}"


def pct(part, whole) -> str:
    return f"{100 * part / whole:.0f}%" if part is not None and whole else "—"


def met(ok) -> str:
    return "—" if ok is None else ("met" if ok else "NOT met")


def targets(results: dict) -> dict:
    """The two targets, judged from the figures of this run."""
    out = {}
    ceiling = (results.get("ceiling") or {}).get("bare", {}).get("msgs_per_s")
    one = (results.get("drain") or {}).get("1") or {}
    drain = one.get("msgs_per_s")
    ratio = one.get("median_ratio") or (round(drain / ceiling, 3) if drain and ceiling else None)
    out["drain_ge_50pct_ceiling"] = {
        "target": f"1-worker drain ≥ {DRAIN_TARGET:.0%} of the ceiling (aiokafka + orjson), the median over "
                  f"rounds of the drain ÷ the ceiling read in the same round",
        "value": ratio, "met": ratio >= DRAIN_TARGET if ratio else None}
    runs = (results.get("freshness") or {}).get("rates", [])
    at = next((r for r in runs if r["target_per_s"] == P99_TARGET_RATE), None)
    if at is None:
        out["p99_lt_2s_at_5k"] = {"target": f"p99 freshness < {P99_TARGET_S:g} s on every topic at "
                                            f"{P99_TARGET_RATE:,} events/s", "value": None, "met": None}
    else:
        worst = max((t.get("p99_s", float("inf")) if not t["missing"] else float("inf"))
                    for t in at["topics"].values())
        out["p99_lt_2s_at_5k"] = {"target": f"p99 freshness < {P99_TARGET_S:g} s on every topic at "
                                            f"{P99_TARGET_RATE:,} events/s",
                                  "value": worst if worst != float("inf") else None, "met": worst < P99_TARGET_S}
    return out


def exactness_row(name: str, r: dict) -> tuple[str, str, str]:
    """A bench.exactness result: exact or not, and how far off."""
    vs, ep = r["title_vs_messages"], r["episode_vs_messages"]
    detail = (f"{vs['differing_cells']:,} cells of {vs['expected_rows']:,} rows differ, {vs['missing_rows']} "
              f"missing, {vs['extra_rows']} extra; episode_metrics exact: {ep['equal']}")
    if vs["differing_totals"]:
        detail += "; totals (got, exact): " + ", ".join(
            f"{c} {a:,} vs {b:,}" for c, (a, b) in list(vs["differing_totals"].items())[:6])
    if r["settled"]["timed_out"]:
        detail += f"; NOT SETTLED after {r['settled']['settled_s']}s"
    return name, f"title_metrics exact: {vs['equal']}", detail


def freshness_rows(results: dict, design: str, key: str, goals: dict | None) -> list[tuple[str, str, str]]:
    """The rows of one design's freshness run (the worker's carries the p99 target)."""
    rows: list[tuple[str, str, str]] = []
    fresh = results.get(key) or {}
    errors = results.get("errors", {})
    stage = key.replace("_", "-")
    if not fresh and stage in errors:
        rows.append((f"freshness, {design}", "failed", errors[stage]))
    for r in fresh.get("rates", []):
        produced = r["producer"]
        head = (f"{design} freshness @ {r['label']}: producer sent {num(produced['achieved_per_s'])}/s "
                f"(target {num(r['target_per_s'])}/s) for {produced['send_seconds']:.0f}s")
        rss = r.get("worker_rss") or {}
        notes = [f"all acknowledged {produced['ack_tail_s']:.2f}s after the last send"]
        if produced["achieved_per_s"] < PRODUCER_SHORT * r["target_per_s"]:
            notes.append(f"PRODUCER BELOW TARGET: the load generator (on the same cores) set this rate, "
                         f"not the {design}")
        if goals and r["target_per_s"] == P99_TARGET_RATE:
            notes.append("target p99 < 2 s on every topic: " + met(goals["p99_lt_2s_at_5k"]["met"]))
        if r["drain_after"]["timed_out"]:
            notes.append("NOT DRAINED after the run")
        whose = "worker" if fresh.get("rss_of", "worker") == "worker" else "ClickHouse"
        rows.append((head, f"{whose} RSS {rss.get('end_mb', '—')} MB (max {rss.get('max_mb', '—')})",
                     "; ".join(notes)))
        for topic, t in r["topics"].items():
            if "p50_s" in t:
                value = f"p50 {t['p50_s']:.2f} · p95 {t['p95_s']:.2f} · p99 {t['p99_s']:.2f} · max {t['max_s']:.2f} s"
            else:
                value = "no probe seen"
            rows.append((f"  {topic} → {t['visible_in']}", value,
                         f"{t['seen']} probes" + (f", {t['missing']} NOT visible" if t["missing"] else "")))
    return rows


def table(results: dict) -> str:
    """One Markdown table: every figure of the run, with its reference and target beside it."""
    m = results["machine"]
    rows: list[tuple[str, str, str]] = []
    errors = results.get("errors", {})
    ceiling = results.get("ceiling") or {}
    bare = ceiling.get("bare", {}).get("msgs_per_s")
    validated = ceiling.get("validated", {}).get("msgs_per_s")
    large = ceiling.get("large", {}).get("msgs_per_s")
    n = results["messages"]
    goals = results.get("targets", {})

    if ceiling:
        runs = ceiling["bare"].get("all_msgs_per_s", [])
        rows.append(("ceiling: bare aiokafka getmany (all partitions, no group) + orjson.loads",
                     f"{num(bare)} msg/s", f"{n:,} msgs in {ceiling['bare']['seconds']:.1f}s; median of "
                     f"{len(runs)} reads ({', '.join(num(r) for r in runs)})"))
        if large:
            runs = ceiling["large"].get("all_msgs_per_s", [])
            rows.append(("ceiling, large fetches: the same getmany loop, 16 MiB a partition and 64 MiB a fetch",
                         f"{num(large)} msg/s", f"{pct(large, bare)} of the default-fetch ceiling; median of "
                         f"{len(runs)} reads ({', '.join(num(r) for r in runs)})"))
        short = ceiling["validated"]["validator"].split("(")[0].rsplit(".", 1)[-1] + "()"
        rows.append((f"ceiling with validation: same loop + {short}",
                     f"{num(validated)} msg/s" if validated else "failed",
                     f"{ceiling['validated']['validator']}; "
                     + (f"{pct(validated, bare)} of the ceiling; median of "
                        f"{len(ceiling['validated']['all_msgs_per_s'])} reads" if validated
                        else ceiling["validated"]["error"])))
    else:
        rows.append(("ceiling", "failed", errors.get("ceiling", "")))
    drains = results.get("drain") or {}
    for workers in ("1", "2"):
        d = drains.get(workers)
        name = f"worker drain, {workers} worker{'s' if workers == '2' else ''}"
        if not d:
            rows.append((name, "failed", errors.get(f"drain-{workers}", "")))
            continue
        detail = (f"{pct(d['msgs_per_s'], bare)} of the ceiling, "
                  + (f"{pct(d['msgs_per_s'], large)} of the large-fetch ceiling, " if large else "")
                  + f"{pct(d['msgs_per_s'], validated)} of ceiling+validation; "
                  f"start-up to first rows {d['startup_s']:.1f}s, drain {d['drain_s']:.1f}s")
        if workers == "1":
            goal = goals.get("drain_ge_50pct_ceiling", {})
            if d.get("ratios"):
                detail += (f"; ÷ the same round's ceiling: {', '.join(f'{r:.0%}' for r in d['ratios'])} "
                           f"(median {d['median_ratio']:.0%})")
            detail += f"; target ≥ 50% of the ceiling: {met(goal.get('met'))}"
        elif drains.get("ratio_2_vs_1"):
            detail += (f"; 2-vs-1 per round: {', '.join(f'{r:.2f}×' for r in d.get('ratios', []))} "
                       f"(median {drains['ratio_2_vs_1']:.2f}×)")
        cpu = d.get("cpu") or {}
        if cpu:
            detail += (f"; CPU worker {cpu['worker_s']}s + ClickHouse {cpu['clickhouse_s']}s = "
                       f"{num(cpu['msgs_per_cpu_s'])} msgs/CPU-s (drain window only: "
                       f"{num(cpu['drain_msgs_per_cpu_s'])})")
        rows.append((name, f"{num(d['msgs_per_s'])} msg/s", detail))
    p = results.get("peer")
    if p:
        one = (drains.get("1") or {}).get("cpu") or {}
        rows.append((f"peer: Kafka engine table per input topic → MVs → SummingMergeTree, title_metrics_1m + "
                     f"episode_metrics_1m ({p['messages']:,} msgs)",
                     f"{num(p['rows_per_s_incl_flush'])} rows/s incl. flush; {excl_text(p)} excl.",
                     f"CREATE → all counted {p['seconds_incl_flush']:.2f}s, {len(p['flushes'])} insert(s); excl.: "
                     f"{p['excl_short']}; ClickHouse CPU {p['clickhouse_cpu_s']}s = {num(p['msgs_per_cpu_s'])} "
                     f"msgs/CPU-s (1 worker: {num(one.get('msgs_per_cpu_s'))} msgs/CPU-s, worker "
                     f"{one.get('worker_s')}s + ClickHouse {one.get('clickhouse_s')}s); title_metrics = messages "
                     f"{p['title_vs_messages']['equal']}, = worker's {(p['title_vs_worker'] or {}).get('equal')}; "
                     f"episode_metrics = messages {p['episode_vs_messages']['equal']}, = worker's "
                     f"{(p['episode_vs_worker'] or {}).get('equal')}"))
    elif "peer" in errors:
        rows.append(("peer: ClickHouse Kafka engine", "failed", errors["peer"]))
    f = results.get("faults")
    if f:
        vs = f["title_vs_messages"]
        rows.append((f"peer on faults: {f['resent']:,} of {f['messages']:,} msgs resent, some out of order",
                     f"title_metrics exact: {vs['equal']}",
                     f"{vs['differing_cells']:,} cells of {vs['expected_rows']:,} rows differ; totals (peer, exact): "
                     + ", ".join(f"{c} {a:,} vs {b:,}" for c, (a, b) in list(vs["differing_totals"].items())[:6])))
    elif "faults" in errors:
        rows.append(("peer on faults", "failed", errors["faults"]))
    fw = results.get("faults_worker")
    if fw:
        rows.append(exactness_row(f"worker on the same faults, sent at {num(fw['rate'])}/s", fw))
    elif "faults-worker" in errors:
        rows.append(("worker on faults", "failed", errors["faults-worker"]))
    for design, c in (results.get("crash") or {}).items():
        name = f"{design} after kill -9 of ClickHouse"
        if c:
            rows.append(exactness_row(f"{name} at {c['kill_at']:.0%} of {c['messages']:,} msgs sent at "
                                      f"{num(c['rate'])}/s (back in {c['killed']['away_s']}s)", c))
        elif f"crash-{design}" in errors:
            rows.append((name, "failed", errors[f"crash-{design}"]))
    for design, key in (("worker", "freshness"), ("peer", "freshness_peer")):
        rows += freshness_rows(results, design, key, goals if design == "worker" else None)
    dedup = results.get("dedup") or {}
    rows.append(("de-duplication memory per remembered event id",
                 f"{dedup['bytes_per_id']:.1f} bytes" if dedup.get("bytes_per_id") is not None
                 else dedup.get("error", "—"),
                 f"streams.dedup.measure_bytes_per_id({dedup['ids']:,})" if dedup.get("ids") else ""))
    if results.get("retried"):
        rows.append(("stages run again (ClickHouse or Kafka restarted under them)", ", ".join(results["retried"]),
                     "; ".join(f"{k}: {v}" for k, v in results["retried"].items())))
    left = results.get("leftovers")
    rows.append(("left behind (topics, groups, databases, data dirs)", "nothing" if left == [] else str(left), ""))

    width = [max(len(r[i]) for r in rows + [("figure", "result", "detail")]) for i in range(3)]
    git = results.get("git") or {}
    header = (f"drama-loop bench, {results['started_at']} — {m['nproc']} × {m['cpu_model']}, {m['memory_gib']} GiB — "
              f"{n:,} simulated messages on {len(INPUT_TOPICS)} topics × {results['partitions']} partitions — "
              f"code {git.get('commit', '?')}{' + uncommitted changes' if git.get('dirty') else ''}")
    loads = [x for pair in (results.get("load_average") or {}).values() for x in pair if x is not None]
    if loads:
        header += f" — 1-min load average {min(loads):.1f}–{max(loads):.1f} during the run"
    lines = [header, "",
             "| " + " | ".join(h.ljust(w) for h, w in zip(("figure", "result", "detail"), width)) + " |",
             "|" + "|".join("-" * (w + 2) for w in width) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, width)) + " |" for r in rows]
    return "\n".join(lines)
