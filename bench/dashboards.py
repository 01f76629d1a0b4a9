"""Many ops screens on Loop health: does each one hit ClickHouse?

    python -m bench.dashboards [--screens 20] [--rounds 3]   (make bench runs it; needs `make up`)

Each "screen" asks Superset's chart data API for four of Loop health's charts (revenue per
minute, starts of the top titles, events in per minute, freshness), as a dashboard does on each
10 s refresh (`DASHBOARD_AUTO_REFRESH_MODE = "fetch"`: through the cache). All screens ask within
one refresh; ClickHouse's own counters (system.events) say how many SELECTs reached it and how
many table marks (8,192 rows each) they read. (Each request, cached or not, opens a connection,
and the driver asks the server two small questions on it: 2 SELECTs that read no table.)
Each round runs three times: as the cache expires (every screen at once: the worst case), again
while it is warm, and with `force` (what an uncached refresh would do), the peer. Each run reports p50/p95 of
the chart time and the chart queries that reached ClickHouse (its SELECTs less the driver's 2 per
request): ideally one per distinct chart as the cache expires, whatever the number of screens.
Reads the demo's database; writes nothing but bench/results/dashboards-<UTC>.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests

from dashboards import api
from infra.settings import load
from warehouse.client import connect

RESULTS = Path(__file__).resolve().parent / "results"
AXIS = {"timeGrain": "PT1M", "columnType": "BASE_AXIS", "sqlExpression": "window_start", "label": "window_start",
        "expressionType": "SQL"}
LAST_HOUR = 'DATEADD(DATETIME("now"), -60, minute) : now'
CHARTS = {   # dataset → (columns, metrics), as Loop health's charts ask
    "live_titles_1m": [([AXIS], ["iap_usd", "ad_usd"]), ([AXIS, "title_top"], ["starts"])],
    "pipeline_1m": [([AXIS], ["events_in", "duplicates", "late"])],
    "freshness": [([], ["freshness_s"])],
}


def queries(settings, admin: requests.Session) -> list[dict]:
    out = []
    for name, charts in CHARTS.items():
        found = admin.get(f"{settings.superset_url}/api/v1/dataset/", timeout=30, params={
            "q": f"(filters:!((col:table_name,opr:eq,value:{name})))"}).json()["result"]
        if not found:
            raise SystemExit(f"no dataset {name}: run `make up` (it provisions the dashboards)")
        for columns, metrics in charts:
            filters = [{"col": "window_start", "op": "TEMPORAL_RANGE", "val": LAST_HOUR}] if columns else []
            out.append({"datasource": {"id": found[0]["id"], "type": "table"}, "result_format": "json",
                        "result_type": "full", "queries": [{"columns": columns, "metrics": metrics, "filters": filters,
                                                            "row_limit": 10000, "orderby": []}]})
    return out


def counters(client) -> dict[str, int]:
    return dict(client.execute("SELECT event, value FROM system.events "
                               "WHERE event IN ('SelectQuery', 'SelectedMarks')"))


def one_round(settings, screens: list[requests.Session], asks: list[dict], force: bool, client) -> dict:
    resets = []

    def post(s: requests.Session, ask: dict) -> requests.Response:
        """A kept-alive connection the server closed as the request left is reset: asked again once, counted."""
        try:
            return s.post(f"{settings.superset_url}/api/v1/chart/data", json={**ask, "force": force}, timeout=120)
        except requests.ConnectionError:
            resets.append(1)
            return s.post(f"{settings.superset_url}/api/v1/chart/data", json={**ask, "force": force}, timeout=120)

    def screen(s: requests.Session) -> list[float]:
        took = []
        for ask in asks:
            started = time.perf_counter()
            post(s, ask).raise_for_status()
            took.append(time.perf_counter() - started)
        return took

    before = counters(client)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(screens)) as pool:
        latencies = sorted(t for took in pool.map(screen, screens) for t in took)
    wall = time.perf_counter() - started
    after = counters(client)
    selects = after["SelectQuery"] - before["SelectQuery"] - 1   # less the counters' own
    return {"force": force, "screens": len(screens), "charts_per_screen": len(asks), "requests": len(latencies),
            "clickhouse_selects": selects,
            # less the driver's 2 questions per request: the charts' queries that reached ClickHouse
            "chart_queries": selects - 2 * len(latencies), "connection_resets": len(resets),
            "clickhouse_marks_read": after.get("SelectedMarks", 0) - before.get("SelectedMarks", 0),
            "wall_s": round(wall, 2),
            "p50_s": round(statistics.median(latencies), 3),
            "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dashboards", description=__doc__.split("\n\n")[0])
    p.add_argument("--screens", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-save", action="store_true")
    p.add_argument("--label", default="", help="what was measured, kept in the results (e.g. the Superset set-up)")
    args = p.parse_args(argv)
    settings = load()
    client = connect(settings, "default")
    admin = api.session(settings)
    asks = queries(settings, admin)
    screens = [api.session(settings) for _ in range(args.screens)]
    runs = []
    for _ in range(args.rounds):
        # a refresh as it comes (the cache expired), the same again while it is warm, then forced
        for force, cache in ((False, "cold"), (False, "warm"), (True, "forced")):
            runs.append({"cache": cache, **one_round(settings, screens, asks, force, client)})
            print(json.dumps(runs[-1]), flush=True)
        time.sleep(11)                              # the next refresh: the cache (10 s) has expired
    summary = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "label": args.label,
               "superset_workers": settings.superset_workers, "runs": runs}
    for cache in ("cold", "warm", "forced"):
        summary[f"{cache}_selects_per_round"] = [r["clickhouse_selects"] for r in runs if r["cache"] == cache]
        summary[f"{cache}_marks_read_per_round"] = [r["clickhouse_marks_read"] for r in runs if r["cache"] == cache]
        summary[f"{cache}_chart_queries_per_round"] = [r["chart_queries"] for r in runs if r["cache"] == cache]
        summary[f"{cache}_p50_s"] = [r["p50_s"] for r in runs if r["cache"] == cache]
        summary[f"{cache}_p95_s"] = [r["p95_s"] for r in runs if r["cache"] == cache]
    print(f"{args.screens} screens × {len(asks)} charts per refresh. ClickHouse SELECTs: "
          f"{summary['cold_selects_per_round']} as the cache expires, {summary['warm_selects_per_round']} while "
          f"it is warm, {summary['forced_selects_per_round']} forced; table marks read (8,192 rows each): "
          f"{summary['cold_marks_read_per_round']}, {summary['warm_marks_read_per_round']}, "
          f"{summary['forced_marks_read_per_round']}")
    print(f"chart queries reaching ClickHouse per refresh ({len(asks)} distinct charts): "
          f"{summary['cold_chart_queries_per_round']} as the cache expires, {summary['warm_chart_queries_per_round']} "
          f"warm, {summary['forced_chart_queries_per_round']} forced; chart time p50/p95 (s): as it expires "
          f"{summary['cold_p50_s']}/{summary['cold_p95_s']}, warm {summary['warm_p50_s']}/{summary['warm_p95_s']}, "
          f"forced {summary['forced_p50_s']}/{summary['forced_p95_s']}")
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"dashboards-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
        path.write_text(json.dumps(summary, indent=2))
        print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
