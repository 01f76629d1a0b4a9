"""Many ops screens on Loop health: does each one hit ClickHouse?

    python -m bench.dashboards [--screens 20] [--cycles 6]   (make bench runs it; needs `make demo`)

Each "screen" asks Superset's chart data API for every chart of Loop health, with each chart's saved
query context: the query the dashboard's frontend sends, and the one Celery beat's warm-up re-runs
into the cache every 10 s (dashboards/warmup.py; tests/dashboards/test_browser.py holds the two
equal). All screens ask at once, every 10 s, as on the dashboard's refresh with
`DASHBOARD_AUTO_REFRESH_MODE = "fetch"` (through the cache): the worst case.

Three phases, one after the other, in the same run:
  warmed    the dashboard's own queries, kept warm by the warm-up: none should miss;
  unwarmed  the peer: the same queries made distinct (a `1 = 1` condition) and without their chart,
            so the warm-up never touches them and they live Superset's default 10 s: what every screen
            met before the warm-up, as the cache expires;
  forced    `force`: what an uncached refresh would do.
Per 10 s cycle: the screens' answers not served from Superset's cache (misses), and the chart
queries ClickHouse answered for Superset (system.query_log, the analyst's queries less the driver's
`select version()` and `select currentDatabase()` on each connection; read after SYSTEM FLUSH LOGS):
the screens' misses plus the warm-up's runs. Ideally the 13 distinct charts, whatever the number of
screens.
Reads the demo's database; writes nothing but bench/results/dashboards-<UTC>.json.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import requests

from bench import report
from dashboards import api, screens as dashboards, warmup
from dashboards.layout import slug
from infra.settings import load
from warehouse.client import connect

CYCLE_S = 10        # Loop health's refresh, and its warm-up's period


def queries(settings, admin: requests.Session) -> list[dict]:
    """Loop health's charts as its frontend asks for them: each chart's saved query context."""
    out = []
    for chart in warmup.dashboard_charts(settings, admin, slug(dashboards.LOOP_HEALTH, settings.namespace)):
        saved = admin.get(f"{settings.superset_url}/api/v1/chart/{chart['id']}", timeout=30).json()["result"]
        if not saved.get("query_context"):
            raise SystemExit(f"chart {chart['slice_name']} has no saved query context: run `make dashboards`")
        out.append(json.loads(saved["query_context"]))
    return out


def unwarmed(asks: list[dict]) -> list[dict]:
    """The same queries under keys no warm-up fills, each kept Superset's default 10 s (no chart)."""
    twins = copy.deepcopy(asks)
    for ask in twins:
        ask["form_data"].pop("slice_id", None)
        for query in ask["queries"]:
            where = query["extras"].get("where") or ""
            query["extras"]["where"] = f"{where} AND (1 = 1)" if where else "(1 = 1)"
    return twins


DRIVER_QUERIES = ("select version()", "select currentDatabase()")


def chart_queries(client, analyst: str) -> int:
    """How many queries of Superset's (the analyst's) ClickHouse has finished, less the driver's own."""
    client.execute("SYSTEM FLUSH LOGS")
    return client.execute("SELECT count() FROM system.query_log WHERE type = 2 AND user = %(user)s "
                          "AND query NOT IN %(driver)s", {"user": analyst, "driver": DRIVER_QUERIES})[0][0]


def one_cycle(settings, screens: list[requests.Session], asks: list[dict], force: bool, client) -> dict:
    """Every screen asks for every chart at once; the counters span the whole cycle (warm-ups included)."""
    resets, answers = [], []

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
            answer = post(s, ask)
            answer.raise_for_status()
            took.append(time.perf_counter() - started)
            answers.append(all(r.get("is_cached") is True for r in answer.json()["result"]))
        return took

    before = chart_queries(client, settings.clickhouse_analyst_user)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(screens)) as pool:
        latencies = sorted(t for took in pool.map(screen, screens) for t in took)
    busy = time.perf_counter() - started
    time.sleep(max(0.0, CYCLE_S - busy))          # the rest of the cycle: the warm-up's run falls in it
    cycle = time.perf_counter() - started
    queried = chart_queries(client, settings.clickhouse_analyst_user) - before
    return {"force": force, "screens": len(screens), "charts_per_screen": len(asks), "requests": len(latencies),
            "misses": answers.count(False), "chart_queries": queried, "connection_resets": len(resets),
            "busy_s": round(busy, 2), "cycle_s": round(cycle, 2),
            "p50_s": round(statistics.median(latencies), 3),
            "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3)}


PHASES = ("warmed", "unwarmed", "forced")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dashboards", description=__doc__.split("\n\n")[0])
    p.add_argument("--screens", type=int, default=20)
    p.add_argument("--cycles", type=int, default=4, help="refresh cycles (10 s each) per phase")
    p.add_argument("--no-save", action="store_true")
    p.add_argument("--label", default="", help="what was measured, kept in the results (e.g. the Superset set-up)")
    args = p.parse_args(argv)
    settings = load()
    client = connect(settings, "default")
    admin = api.session(settings)
    asks = queries(settings, admin)
    screens = [api.session(settings) for _ in range(args.screens)]
    runs = []
    for phase in PHASES:
        for _ in range(args.cycles):
            ask = unwarmed(asks) if phase == "unwarmed" else asks
            runs.append({"phase": phase, **one_cycle(settings, screens, ask, phase == "forced", client)})
            print(json.dumps(runs[-1]), flush=True)
    summary = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "label": args.label,
               "superset_workers": settings.superset_workers, "screens": args.screens, "distinct_charts": len(asks),
               "runs": runs}
    for phase in PHASES:
        mine = [r for r in runs if r["phase"] == phase]
        for key in ("misses", "chart_queries", "cycle_s", "p50_s", "p95_s"):
            summary[f"{phase}_{key}"] = [r[key] for r in mine]
    print(f"{args.screens} screens × {len(asks)} charts (Loop health) every {CYCLE_S} s. "
          f"ClickHouse chart queries per cycle: warmed {summary['warmed_chart_queries']}, "
          f"unwarmed {summary['unwarmed_chart_queries']}, forced {summary['forced_chart_queries']}; "
          f"answers not from the cache: warmed {summary['warmed_misses']}, unwarmed {summary['unwarmed_misses']}")
    print("chart time p50/p95 (s): " + ", ".join(
        f"{phase} {summary[f'{phase}_p50_s']}/{summary[f'{phase}_p95_s']}" for phase in PHASES))
    if not args.no_save:
        path = report.save(summary, "dashboards")
        print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
