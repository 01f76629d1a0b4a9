"""The warehouse at a real app's scale: dashboard and analyst queries over 100M events, 30 days.

    python -m bench.warehouse [--events 100000000] [--days 30] [--repeat 20]   (make bench runs it)

A fresh namespace's database is filled inside ClickHouse (`INSERT … SELECT … FROM numbers()`)
in the shape and row ratios the worker writes: `events_raw` one row per event, the minute-level
parts with their per-user rows (0.23 rows per event in title_metrics_1m_parts, as measured at
low rates), 300 titles with a power-law popularity, 2M users. Every row goes through the real
feeding path: the parts and events_raw inserts fire the rollups' materialized views. Then every
query behind the dashboards is timed `--repeat` times (p50, p95, wall clock through
clickhouse-driver), beside the same questions asked the old way (a view that groups all the
parts), and the disk bytes per event of every table are reported. Targets: p95 < 100 ms per
dashboard query; ≤ 40 bytes per event on disk across all tables.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone

import requests

from bench import report
from bench.stack import Namespace
from dashboards import api
from infra.settings import load
from warehouse import reach
from warehouse.client import connect
from warehouse.maintain import SOURCES, drop_expired
from warehouse.migrate import MIGRATIONS, migrate, statements
from warehouse.tables import EPISODE_COUNTERS, TABLES, TITLE_COUNTERS

QUERIES = MIGRATIONS.parent / "queries"         # the documented analyst queries
TITLES, USERS = 300, 2_000_000
CHUNK = 5_000_000                   # rows per INSERT … SELECT (the views aggregate one block at a time)
P95_TARGET_S, SUPERSET_P95_TARGET_S, BYTES_TARGET = 0.100, 0.500, 40.0
FED = (("title_metrics_1d_rollup", "title_metrics_1m_parts"), ("segment_metrics_1h_rollup", "segment_metrics_1m_parts"),
       ("active_users_1d_rollup", "events_raw"))       # rollups checked to hold every row of their source
# Rows per event in each parts table, as the worker writes them at low rates (notes: 0.23 for titles).
RATIOS = {"title_counters": 0.08, "title_viewers": 0.15, "episode": 0.05, "segment_counters": 0.01,
          "segment_users": 0.03, "health": 0.0005}
FLOATS = {"ad_spend_usd", "watch_seconds", "iap_revenue_usd", "ad_revenue_usd"}
# The simulator's mix (a 200,000-message sample): distribution events are most of the traffic.
EVENT_TYPES = [("teaser_impression", 0.578), ("teaser_view", 0.3168), ("episode_start", 0.0266),
               ("episode_complete", 0.0221), ("teaser_click", 0.0172), ("user_profile", 0.0088),
               ("ad_impression", 0.0058), ("install", 0.0057), ("episode_exit", 0.0042), ("paywall_shown", 0.0031),
               ("like", 0.0024), ("episode_unlocked", 0.0021), ("rating", 0.0007), ("share", 0.0005),
               ("comment", 0.0005), ("purchase", 0.0003), ("ad_click", 0.0001)]

# --- what a dashboard asks, per grain (after), and the same question on the parts (before) -------------
def documented(name: str) -> str:
    return statements((QUERIES / f"{name}.sql").read_text())[0]


_TITLES_30D = "titles at a glance, last 30 closed days (title_reach: exact viewers)"
DASHBOARD = {
    "starts per minute by title, last 60 min":
        "SELECT window_start, title_id, episode_starts FROM title_metrics_1m WHERE window_start >= now() - 3600",
    "revenue and spend per minute, last 60 min":
        "SELECT window_start, sum(iap_revenue_usd) AS iap, sum(ad_revenue_usd) AS ads, sum(ad_spend_usd) AS spend "
        "FROM title_metrics_1m WHERE window_start >= now() - 3600 GROUP BY window_start",
    "titles at a glance, today (day rollup, exact viewers)":
        "SELECT title_id, sumMerge(episode_starts) AS starts, uniqExactIfMerge(unique_viewers) AS viewers, "
        "sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue FROM title_metrics_1d_rollup "
        "WHERE window_start >= toStartOfDay(now()) GROUP BY title_id ORDER BY starts DESC LIMIT 50",
    _TITLES_30D: documented("titles_30d"),
    "title_kpis_1d, 30 days": "SELECT * FROM title_kpis_1d WHERE day >= today() - 30",
    "kpis_1d (closed days from viewer_reach, today from the states)": "SELECT * FROM kpis_1d",
    "title_roi": "SELECT * FROM title_roi",
    "completion and payer rate by adaptation, last 30 closed days (adaptation_reach)": documented("adaptation_30d"),
    "segment payer rate, last 30 closed days (segment_reach: exact)":
        "SELECT gender, age_band, country, payers / nullIf(viewers, 0) AS payer_rate FROM segment_reach_latest "
        "WHERE days = 30",
    "DAU, WAU, MAU by app, newest closed day (app_reach)": documented("active_users_closed"),
    "drop-off curve per episode, 30 days":
        "SELECT title_id, episode, sumMerge(starts) AS starts, sumMerge(completes) AS completes "
        "FROM episode_metrics_1d_rollup WHERE window_start >= now() - 30 * 86400 GROUP BY title_id, episode",
    "pipeline health, last 60 min": "SELECT * FROM pipeline_health_1m WHERE window_start >= now() - 3600",
}
# Analyst questions over the same data: timed, without the dashboards' 100 ms target. These merge
# the uniqExact states over any range (today included), which is what the reach tables save.
ANALYST = {
    "titles over the trailing 24 h (24 hour states merged per title)":
        "SELECT title_id, sumMerge(episode_starts) AS starts, uniqExactIfMerge(unique_viewers) AS viewers, "
        "sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue FROM title_metrics_1h_rollup "
        "WHERE window_start >= now() - 86400 GROUP BY title_id ORDER BY starts DESC LIMIT 50",
    "DAU, WAU, MAU by app as of today (states merged, 2M users)": documented("active_users"),
    "DAU by day, 30 days (active_users_1d: today from the states)":
        "SELECT window_start, app_id, users FROM active_users_1d "
        "WHERE window_start >= toStartOfDay(now()) - 29 * 86400",
    "titles over any 30 days, today included (day states merged)":
        "SELECT title_id, sumMerge(episode_starts) AS starts, uniqExactIfMerge(unique_viewers) AS viewers, "
        "sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue FROM title_metrics_1d_rollup "
        "WHERE window_start >= now() - 30 * 86400 GROUP BY title_id ORDER BY starts DESC LIMIT 50",
    "segment payer rate over any 30 days (day states merged)":
        "SELECT gender, age_band, country, uniqExactIfMerge(payers) / uniqExactIfMerge(viewers) AS payer_rate "
        "FROM segment_metrics_1d_rollup WHERE window_start >= now() - 30 * 86400 "
        "GROUP BY gender, age_band, country",
    "adaptation_kpis and cultural_discount, all time (states merged)": "SELECT * FROM cultural_discount",
}
_OLD_TITLE_VIEW = ("(SELECT window_start, title_id, sum(episode_starts) AS episode_starts, "
                   "sum(iap_revenue_usd) AS iap_revenue_usd, sum(ad_revenue_usd) AS ad_revenue_usd, "
                   "uniqExactIf(user_id, user_id != '') AS unique_viewers "
                   "FROM title_metrics_1m_parts GROUP BY window_start, title_id)")
BEFORE = {   # the views as they were (0003): GROUP BY over every part, then the filter
    "starts per minute by title, last 60 min":
        f"SELECT window_start, title_id, episode_starts FROM {_OLD_TITLE_VIEW} WHERE window_start >= now() - 3600",
    _TITLES_30D:
        f"SELECT title_id, sum(episode_starts) AS starts, sum(iap_revenue_usd) + sum(ad_revenue_usd) AS revenue "
        f"FROM {_OLD_TITLE_VIEW} WHERE window_start >= now() - 30 * 86400 GROUP BY title_id "
        f"ORDER BY starts DESC LIMIT 50",
}


def _insert(table: str) -> str:
    """`INSERT INTO table (its columns, as the worker writes them) SELECT`."""
    return f"INSERT INTO {table} ({', '.join(TABLES[table].columns)}) SELECT"


def _rand(seed: int) -> str:
    return f"(rand({seed}) / 4294967295.0)"


def _title(seed: int) -> str:
    """A title id with power-law popularity (a few titles take most of the traffic)."""
    return f"concat('sim7-t', toString(toUInt32({TITLES} * pow({_rand(seed)}, 3))))"


def _user(seed: int) -> str:
    return f"concat('sim7-u', toString(toUInt32({USERS} * pow({_rand(seed)}, 2))))"


def _minute(days: int, seed: int) -> str:
    return f"toStartOfMinute(toDateTime(toUInt32(now()) - toUInt32({days * 86400} * {_rand(seed)})))"


def fills(events: int, days: int) -> list[tuple[str, int, str]]:
    """(table, rows, INSERT … SELECT over numbers(rows) with `{offset}`) for every table the worker writes."""
    span = days * 86400
    types = "".join(f"{_rand(1)} < {sum(w for _, w in EVENT_TYPES[:n + 1]):.4f}, '{t}', "
                    for n, (t, _) in enumerate(EVENT_TYPES[:-1])) + f"'{EVENT_TYPES[-1][0]}'"
    raw = f"""{_insert('events_raw')} event_id, event_type, toDateTime(at) AS event_time,
       toUInt32((100 + rand(4) % 900) * 1000) AS event_time_us, app_id, user_id, title_id,
       'drama.viewing' AS topic, toUInt32(n % 4) AS partition, n AS offset,
       concat('{{"event_id":\\0,"event_type":"', event_type, '","event_time":\\0,"schema_version":1,"app_id":"',
              app_id, '","user_id":\\0,',
              if(event_type LIKE 'teaser%' OR event_type = 'install',
                 concat('"cost_usd":0.0', toString(10 + rand(5) % 30), ',"title_id":"', title_id, '","channel":"',
                        channel, '","campaign_id":"', title_id, '-', channel, '"}}'),
                 concat('"episode":', toString(1 + rand(6) % 60), ',"session_id":"', user_id, '-s',
                        toString(rand(7) % 20), '","title_id":"', title_id, '"}}'))) AS payload_packed
FROM (SELECT number + {{offset}} AS n, concat('sim7-', toString(10000000000 + n)) AS event_id,
             multiIf({types}) AS event_type, toUInt32(now()) - {span} + toUInt32(n * {span} / {events}) AS at,
             if(rand(3) % 10 = 0, 'dramabox-like', 'reelshort-like') AS app_id, {_user(2)} AS user_id,
             {_title(10)} AS title_id,
             ['tiktok', 'instagram', 'youtube', 'facebook', 'other'][1 + rand(8) % 5] AS channel
      FROM numbers({{rows}}))"""

    def counters(names, zero: bool) -> str:
        return ", ".join(("0" if zero else (f"(rand({20 + n}) % 2000) / 100.0" if c in FLOATS
                                             else f"rand({20 + n}) % 20")) + f" AS {c}" for n, c in enumerate(names))

    stamp = "'drama.distribution' AS src_topic, toUInt32(number % 4) AS src_partition, " \
            "number + {offset} AS src_first_offset, number + {offset} AS src_last_offset"
    title = (f"{_insert('title_metrics_1m_parts')} {_minute(days, 11)} AS window_start, "
             f"{_title(12)} AS title_id, {{user}} AS user_id, {{counters}}, {stamp} FROM numbers({{rows}})")
    episode = (f"{_insert('episode_metrics_1m_parts')} {_minute(days, 13)} AS window_start, "
               f"{_title(14)} AS title_id, toUInt32(1 + 80 * pow({_rand(15)}, 2)) AS episode, "
               f"{counters(EPISODE_COUNTERS, False)}, {stamp} FROM numbers({{rows}})")
    segment = (f"{_insert('segment_metrics_1m_parts')} {_minute(days, 16)} AS window_start, "
               f"['female', 'male', 'other', 'unknown'][1 + rand(17) % 4] AS gender, "
               f"['18-24', '25-34', '35-44', '45-54', '55+', 'unknown'][1 + rand(18) % 6] AS age_band, "
               f"['US', 'GB', 'CA', 'AU', 'PH', 'IN', 'ZZ'][1 + rand(19) % 7] AS country, {{segment}}, {stamp} "
               f"FROM numbers({{rows}})")
    health = (f"{_insert('pipeline_health_1m_parts')} {_minute(days, 30)} AS window_start, "
              f"2000 AS events_in, 1990 AS accepted, 5 AS duplicates, 4 AS rejected, 1 AS late, "
              f"(rand(31) % 300) / 100.0 AS max_event_lag_s, {stamp} FROM numbers({{rows}})")
    title_events = (
        f"{_insert('title_events')} concat('sim7-t', toString(intDiv(number, 62))) AS title_id, "
        f"multiIf(number % 62 = 0, 'script_created', number % 62 = 61, 'title_launched', 'episode_released') "
        f"AS event_type, toDateTime(toUInt32(now()) - {span + 86400}) AS event_time, toFloat64(toUInt32(event_time)) "
        f"AS event_ts, ['hidden_heiress', 'revenge', 'werewolf', 'ceo_romance'][1 + intDiv(number, 62) % 4] AS trope, "
        f"'romance' AS genre, ['ai', 'human', 'hybrid'][1 + intDiv(number, 62) % 3] AS origin, "
        f"['native', 'localized', 'western'][1 + intDiv(number, 62) % 3] AS adaptation, '' AS parent_title_id, "
        f"'' AS signal_id, toUInt32(number % 62) AS episode, if(event_type = 'episode_released', 4000.0, 0) "
        f"AS production_cost_usd, toUInt8(number % 2) AS virtual_actors, 60 AS episodes_total, 5 AS free_episodes, "
        f"'drama.content' AS topic, toUInt32(0) AS partition, number AS offset, "
        f"concat('Title ', toString(intDiv(number, 62))) AS title_name, 1.0 AS audience_scale "
        f"FROM numbers({{rows}})")
    title_counters = title.replace("{user}", "''").replace("{counters}", counters(TITLE_COUNTERS, False))
    title_viewers = title.replace("{user}", _user(40)).replace("{counters}", counters(TITLE_COUNTERS, True))
    segment_money = ("'' AS user_id, 0 AS viewer, 0 AS payer, rand(41) % 5 AS purchases, "
                     "(rand(42) % 5000) / 100.0 AS iap_revenue_usd, (rand(43) % 300) / 100.0 AS ad_revenue_usd")
    segment_users = (f"{_user(44)} AS user_id, 1 AS viewer, toUInt8(rand(45) % 20 = 0) AS payer, 0 AS purchases, "
                     f"0 AS iap_revenue_usd, 0 AS ad_revenue_usd")
    return [("events_raw", events, raw),
            ("title_metrics_1m_parts", int(events * RATIOS["title_counters"]), title_counters),
            ("title_metrics_1m_parts", int(events * RATIOS["title_viewers"]), title_viewers),
            ("episode_metrics_1m_parts", int(events * RATIOS["episode"]), episode),
            ("segment_metrics_1m_parts", int(events * RATIOS["segment_counters"]), segment.replace("{segment}",
                                                                                                segment_money)),
            ("segment_metrics_1m_parts", int(events * RATIOS["segment_users"]), segment.replace("{segment}",
                                                                                             segment_users)),
            ("pipeline_health_1m_parts", max(1, int(events * RATIOS["health"])), health),
            ("title_events", TITLES * 62, title_events)]


def fill(client, events: int, days: int, say=print) -> dict:
    seconds: dict = {}
    for table, rows, sql in fills(events, days):
        started = time.monotonic()
        for offset in range(0, rows, CHUNK):
            n = min(CHUNK, rows - offset)
            client.execute(sql.replace("{rows}", str(n)).replace("{offset}", str(offset)),
                           settings={"max_memory_usage": 8_000_000_000})
            say(f"[warehouse] {table}: {offset + n:,} of {rows:,} rows ({time.monotonic() - started:.0f}s)")
        seconds[table] = round(seconds.get(table, 0) + time.monotonic() - started, 1)
    return seconds


def settle(client, timeout: float = 300.0) -> float:
    """Wait until the background merges of the fill are done (as they would be on a live server)."""
    started = time.monotonic()
    while client.execute("SELECT count() FROM system.merges WHERE database = currentDatabase()")[0][0]:
        if time.monotonic() - started > timeout:
            break
        time.sleep(1)
    return round(time.monotonic() - started, 1)


def timed(client, sql: str, repeat: int) -> dict:
    """p50/p95 of `repeat` runs after one warm-up run; a query the server refuses is reported, not raised."""
    try:
        client.execute(sql)                                         # once to warm the caches, not counted
    except Exception as error:  # noqa: BLE001 - e.g. the profile's memory limit: the figure is the refusal
        return {"error": str(error).split("Stack trace")[0].strip()[:300], "runs": 0}
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = client.execute(sql)
        times.append(time.perf_counter() - started)
    times.sort()
    return {"p50_s": round(statistics.median(times), 4),
            "p95_s": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 4),
            "rows": len(rows), "runs": repeat}


def superset_session(settings) -> requests.Session:
    """A logged-in session on Superset's REST API (bearer and CSRF tokens), as the dashboards' browser has."""
    return api.session(settings)


def through_superset(settings, queries: dict, repeat: int) -> dict:
    """p50/p95 of each query through Superset's chart data API (`force`: no cache), as a chart of a
    virtual dataset on the namespace's database. The connection (the admin user: the analyst may
    only read the demo's database) and the datasets exist for the run only."""
    url = settings.superset_url
    session = superset_session(settings)
    uri = (f"clickhouse+native://{settings.clickhouse_user}:{settings.clickhouse_password}"
           f"@{settings.clickhouse_host}:{settings.clickhouse_port}/{settings.clickhouse_db}")
    made = session.post(f"{url}/api/v1/database/", timeout=60, json={
        "database_name": f"bench {settings.clickhouse_db}", "sqlalchemy_uri": uri, "expose_in_sqllab": False})
    if made.status_code != 201:
        return {name: {"error": f"Superset refused the connection: {made.text[:200]}", "runs": 0} for name in queries}
    database, datasets, out = made.json()["id"], [], {}
    try:
        for n, (name, sql) in enumerate(queries.items()):
            created = session.post(f"{url}/api/v1/dataset/", timeout=120, json={
                "database": database, "schema": settings.clickhouse_db, "table_name": f"bench_{n}", "sql": sql})
            if created.status_code != 201:
                out[name] = {"error": f"dataset refused: {created.text[:200]}", "runs": 0}
                continue
            datasets.append(created.json()["id"])
            columns = [c["column_name"] for c in created.json()["data"]["columns"]]
            query = {"datasource": {"id": datasets[-1], "type": "table"}, "force": True, "result_format": "json",
                     "result_type": "full", "queries": [{"columns": columns, "row_limit": 50_000}]}
            times, rows = [], 0
            for attempt in range(repeat + 1):                       # the first one warms up, not counted
                started = time.perf_counter()
                response = session.post(f"{url}/api/v1/chart/data", json=query, timeout=120)
                if response.status_code != 200:
                    out[name] = {"error": response.text[:300], "runs": 0}
                    break
                if attempt:
                    times.append(time.perf_counter() - started)
                rows = response.json()["result"][0]["rowcount"]
            else:
                times.sort()
                out[name] = {"p50_s": round(statistics.median(times), 4),
                             "p95_s": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 4),
                             "rows": rows, "runs": repeat}
    finally:
        for dataset in datasets:
            session.delete(f"{url}/api/v1/dataset/{dataset}", timeout=60)
        session.delete(f"{url}/api/v1/database/{database}", timeout=60)
    return out


def disk(client, events: int) -> dict:
    rows = client.execute("SELECT table, sum(bytes_on_disk), sum(rows) FROM system.parts "
                          "WHERE database = currentDatabase() AND active GROUP BY table ORDER BY table")
    per_table = {t: {"bytes": b, "rows": r, "bytes_per_event": round(b / events, 2)} for t, b, r in rows}
    return {"tables": per_table, "bytes_per_event": round(sum(b for _, b, _ in rows) / events, 2)}


def run(events: int, days: int, repeat: int, say=print, keep: str | None = None) -> dict:
    """Fill a fresh namespace, measure, and remove it. keep: use (and keep) that namespace instead,
    filled only if it does not already hold `events` events, so one fill can be timed many times."""
    if keep:
        settings = load(namespace=keep)
        migrate(settings)
        return measure(settings, events, days, repeat, say)
    with Namespace(load(), "warehouse", say) as ns:
        return measure(ns.settings, events, days, repeat, say)


def measure(settings, events: int, days: int, repeat: int, say=print) -> dict:
    client = connect(settings)
    started = time.monotonic()
    held = client.execute("SELECT count() FROM events_raw")[0][0]
    seconds = fill(client, events, days, say) if held != events else {"reused": held}
    say(f"[warehouse] filled in {time.monotonic() - started:.0f}s; waiting for merges")
    merges_s = settle(client)
    say("[warehouse] computing the reach of the closed days (what `make up`'s maintain service does)")
    started = time.monotonic()
    closed = reach.close(settings, say=say)
    reach_s = round(time.monotonic() - started, 1)
    fed = {table: client.execute(  # the days the source still holds (retention drops old days of the parts)
        f"SELECT countMerge(parts_rows) FROM {table} WHERE toDate(window_start) IN "
        f"(SELECT DISTINCT toDate({SOURCES[source][0]}) FROM {source})")[0][0]
        == client.execute(f"SELECT count() FROM {source}")[0][0] for table, source in FED}
    after = {name: timed(client, sql, repeat) for name, sql in DASHBOARD.items()}
    analyst = {name: timed(client, sql, max(3, repeat // 5)) for name, sql in ANALYST.items()}
    before = {name: timed(client, sql, max(3, repeat // 5)) for name, sql in BEFORE.items()}
    say("[warehouse] the same dashboard queries through Superset's chart data API")
    superset = through_superset(settings, DASHBOARD, max(3, repeat // 2))
    say("[warehouse] the maintain service's retention pass (minute-level parts keep "
        f"{settings.parts_retention_days} days), then disk")
    full = disk(client, events)
    dropped = drop_expired(settings, say=say)
    storage = disk(client, events)
    storage["before_retention_bytes_per_event"] = full["bytes_per_event"]
    storage["retention_days"] = settings.parts_retention_days
    storage["days_dropped"] = sum(map(len, dropped.values()))
    client.disconnect()
    return {"events": events, "days": days, "repeat": repeat, "namespace": settings.namespace, "fill_s": seconds,
            "merges_s": merges_s, "reach_s": reach_s, "reach_windows": sum(map(len, closed.values())),
            "rollups_fed": fed,
            "queries": after, "analyst": analyst, "before": before, "superset": superset, "disk": storage,
            "targets": {"p95_s": P95_TARGET_S, "superset_p95_s": SUPERSET_P95_TARGET_S, "bytes_per_event": BYTES_TARGET,
                        "p95_met": all(q.get("p95_s", float("inf")) < P95_TARGET_S for q in after.values()),
                        "superset_p95_met": all(q.get("p95_s", float("inf")) < SUPERSET_P95_TARGET_S
                                                for q in superset.values()),
                        "bytes_met": storage["bytes_per_event"] <= BYTES_TARGET}}


def ms(q: dict, key: str) -> str:
    return f"{q[key] * 1000:,.0f} ms" if key in q else f"refused: {q.get('error', '?')[:80]}"


def table(result: dict) -> str:
    lines = [f"warehouse at {result['events']:,} events over {result['days']} days "
             f"({result['repeat']} runs per query, wall clock through clickhouse-driver); the reach of the "
             f"closed days ({result.get('reach_windows', 0)} windows) computed once in {result.get('reach_s', 0)} s",
             "",
             "| dashboard query | p50 | p95 | rows | Superset chart data API: p50 | p95 "
             "| before (view over the parts): p50 |", "|---|---|---|---|---|---|---|"]
    for name, q in result["queries"].items():
        old, api = result["before"].get(name), result.get("superset", {}).get(name, {})
        lines.append(f"| {name} | {ms(q, 'p50_s')} | {ms(q, 'p95_s')} | {q.get('rows', 0):,} | "
                     f"{ms(api, 'p50_s')} | {ms(api, 'p95_s')} | " + (ms(old, "p50_s") if old else "—") + " |")
    lines += ["", "| analyst query (no latency target) | p50 | p95 | rows |", "|---|---|---|---|"]
    for name, q in result["analyst"].items():
        lines.append(f"| {name} | {ms(q, 'p50_s')} | {ms(q, 'p95_s')} | {q.get('rows', 0):,} |")
    t = result["targets"]
    lines += ["", f"target p95 < {t['p95_s'] * 1000:.0f} ms on every query: {'met' if t['p95_met'] else 'NOT met'}",
              f"target p95 < {t.get('superset_p95_s', 0.5) * 1000:.0f} ms through Superset's chart data API: "
              f"{'met' if t.get('superset_p95_met') else 'NOT met'}",
              "", "| table | bytes on disk | rows | bytes per event |", "|---|---|---|---|"]
    for name, d in sorted(result["disk"]["tables"].items(), key=lambda kv: -kv[1]["bytes"]):
        lines.append(f"| {name} | {d['bytes']:,} | {d['rows']:,} | {d['bytes_per_event']} |")
    d = result["disk"]
    if "before_retention_bytes_per_event" in d:
        lines.append(f"\nafter the retention pass (minute-level parts kept {d['retention_days']} days, "
                     f"{d['days_dropped']} table-days dropped); before it: {d['before_retention_bytes_per_event']} "
                     f"bytes per event")
    lines.append(f"\nall tables: {result['disk']['bytes_per_event']} bytes per event "
                 f"(target ≤ {t['bytes_per_event']:.0f}: {'met' if t['bytes_met'] else 'NOT met'})")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.warehouse", description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=100_000_000, help="events the warehouse holds (default 100M)")
    p.add_argument("--days", type=int, default=30, help="days they span, ending now (default 30)")
    p.add_argument("--repeat", type=int, default=20, help="timed runs per query (default 20)")
    p.add_argument("--no-save", action="store_true", help="do not write bench/results/warehouse-<UTC>.json")
    p.add_argument("--keep", metavar="NAMESPACE", help="fill this namespace once and keep it (a second run with "
                   "the same --keep and --events times the same data again; drop it with DROP DATABASE drama_<it>)")
    args = p.parse_args(argv)
    result = run(args.events, args.days, args.repeat, keep=args.keep)
    result["measured_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(table(result))
    if not args.no_save:
        path = report.save(result, "warehouse")
        print(f"\nwritten to {path.relative_to(report.RESULTS.parent.parent)}")
    return 0 if result["targets"]["p95_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
