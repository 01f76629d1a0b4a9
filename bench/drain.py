"""Worker drain: the topics are pre-loaded, then N workers start on the namespace.

start-up = from starting the worker processes to the first rows visible
           (`SELECT sum(events_in) FROM pipeline_health_1m` > 0) or, with several workers,
           to the end of the last rebalance (the last "Worker ready" in their logs), whichever
           is later: process start, group join, state restored from ClickHouse, first batch;
drain    = events processed from that moment until the sum reaches the number of messages,
           divided by that time.
"""
from __future__ import annotations

import re
import time
from datetime import datetime

from bench.load import preload
from bench.peer import read_metrics
from bench.stack import Namespace, cpu_seconds
from infra import services
from infra.process import ServiceError
from infra.settings import Settings
from warehouse.client import connect

POLL_S = 0.1


READY = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\].*Worker ready", re.M)


def last_ready(workers) -> float | None:
    """Wall-clock time of the last "Worker ready" (a rebalance completed) in the workers' logs."""
    times = [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
             for w in workers if w.log.exists() for m in READY.finditer(w.log.read_text(errors="replace"))]
    return max(times, default=None)


def events_in(client) -> int:
    return client.execute("SELECT sum(events_in) FROM pipeline_health_1m")[0][0] or 0


def cpu_figures(total: int, first_done: int, first: tuple, end: tuple, clickhouse_before: float) -> dict:
    worker, clickhouse = end[0], end[1] - clickhouse_before
    in_drain = (end[0] - first[0]) + (end[1] - first[1])
    return {"worker_s": round(worker, 2), "clickhouse_s": round(clickhouse, 2),
            "msgs_per_cpu_s": round(total / (worker + clickhouse)) if worker + clickhouse else None,
            "drain_worker_s": round(end[0] - first[0], 2), "drain_clickhouse_s": round(end[1] - first[1], 2),
            "drain_msgs_per_cpu_s": round((total - first_done) / in_drain) if in_drain else None}


def run(base: Settings, messages, workers: int, say=print, timeout: float = 900.0) -> dict:
    total = len(messages)
    with Namespace(base, f"drain-{workers}", say) as ns:
        loaded = preload(ns.settings, messages)
        say(f"[drain-{workers}] pre-loaded {total:,} messages in {loaded['seconds']:.1f}s; "
            f"starting {workers} worker(s)")
        client = connect(ns.settings)
        clickhouse = services.ClickHouse(base).pid()
        clickhouse_before = cpu_seconds(clickhouse)
        started = time.monotonic()
        ns.start_workers(workers)
        pids = [w.pid() for w in ns.workers]
        healthy = time.monotonic() - started
        first = None
        series = []                                   # (wall clock, monotonic, events in)
        next_report = time.monotonic() + 10
        while True:
            done = events_in(client)
            now = time.monotonic()
            series.append((time.time(), now, done))
            if first is None and done > 0:
                first = (now, done)
                cpu_first = (sum(map(cpu_seconds, pids)), cpu_seconds(clickhouse))
                say(f"[drain-{workers}] first rows visible {now - started:.1f}s after the start ({done:,} events)")
            if done >= total:
                cpu_end = (sum(map(cpu_seconds, pids)), cpu_seconds(clickhouse))
                break
            if now - started > timeout:
                raise ServiceError(f"drain with {workers} worker(s): {done:,} of {total:,} after {timeout:.0f}s")
            if now > next_report:
                say(f"[drain-{workers}] {done:,} / {total:,} events")
                next_report = now + 10
                ns.check_workers()
            time.sleep(POLL_S)
        first_at, first_done = first
        ready = last_ready(ns.workers)
        if ready is not None and workers > 1:         # the group settled after the first rows
            after = [(m, d) for wall, m, d in series if wall >= ready]
            if after and after[0][0] > first_at and after[0][1] < total:
                first_at, first_done = after[0]
        seconds = now - first_at
        result = {
            "workers": workers, "namespace": ns.namespace, "messages": total, "preload": loaded,
            "healthy_s": round(healthy, 2),
            "startup_s": round(first_at - started, 2),
            "first_visible_events": first_done,
            "drain_s": round(seconds, 2),
            "msgs_per_s": round((total - first_done) / seconds) if seconds > 0 else None,
            "total_s": round(now - started, 2),
            "end_to_end_msgs_per_s": round(total / (now - started)),
            "events_in": done,
            # CPU seconds (utime+stime, /proc/<pid>/stat) of the worker process(es) and clickhouse-server:
            # whole = worker start → all visible (the workers' start-up included); drain = the drain window
            "cpu": cpu_figures(total, first_done, cpu_first, cpu_end, clickhouse_before),
        }
        health = client.execute("SELECT sum(accepted), sum(duplicates), sum(rejected), sum(late) "
                                "FROM pipeline_health_1m")[0]
        result.update(dict(zip(("accepted", "duplicates", "rejected", "late"), health)))
        if workers == 1:   # for the peer's comparison; not written to the JSON
            result["_metrics"] = read_metrics(client)
        client.disconnect()
        if result["msgs_per_s"] is None:
            raise ServiceError(f"drain with {workers} worker(s): all {total:,} events became visible at once "
                               f"(one batch); pre-load more messages (--messages) to see a drain rate")
        say(f"[drain-{workers}] {result['msgs_per_s']:,} msg/s after a start-up of {result['startup_s']:.1f}s")
        return result
