"""The title metrics (metrics-v1.md, title_metrics_1m), each declared once, here.

A metric is a counter column of title_metrics_1m_parts: its ClickHouse type, the events it counts
or the event attribute it sums, and how the rollups aggregate it. Everything else follows:

- `warehouse/tables.py` TITLE_COUNTERS (the worker's insert order) is `COUNTERS`;
- `streams/batch.py` TITLE_RULES (which event type counts into which counter, which attribute it
  sums) is `title_rules()`;
- the data dictionary (warehouse/dictionary.py) gives `meaning()` where the contract has none;
- the DDL of a metric added later is `migration(names)`: `python -m warehouse new-metric NAME …`
  writes it as the next warehouse/migrations/NNNN_*.sql (migrations are history: the earlier ones
  are never regenerated). tests/warehouse/test_metrics.py checks every declared metric against
  the schema all the migrations produce, on chdb: the parts table and its probe, the 1m/1h/1d
  rollups and their views' SELECT, and the title_metrics_* views, with the right type and
  aggregate, and nothing undeclared.

Adding a metric: append a `Metric` below (it must be last: columns are added after the previous
one), run `python -m warehouse new-metric NAME`, `python -m warehouse.dictionary`, and update the
schema snapshot (`UPDATE_SNAPSHOTS=1 pytest tests/warehouse/test_schema.py`).
"""
from __future__ import annotations

import sys
from typing import NamedTuple


class Metric(NamedTuple):
    name: str
    type: str                                   # of the parts column: UInt64 (counts) or Float64 (money, seconds)
    sources: tuple[tuple[str, str | None], ...]  # (event type, the attribute summed; None: each event counts 1)
    where: str = ""         # a condition streams/batch.py title_columns applies itself (the rule only routes the event)
    aggregate: str = "sum"  # the rollups keep `<aggregate>State`, the views read `<aggregate>Merge`


def count(event: str) -> tuple:
    return (event, None),


TITLE_METRICS: tuple[Metric, ...] = (
    Metric("teaser_impressions", "UInt64", count("teaser_impression")),
    Metric("teaser_views", "UInt64", count("teaser_view")),
    Metric("hook_views", "UInt64", count("teaser_view"), where="`watch_ms` ≥ 3000 (HOOK_MS)"),
    Metric("teaser_clicks", "UInt64", count("teaser_click")),
    Metric("installs", "UInt64", count("install")),
    Metric("ad_spend_usd", "Float64", (("teaser_impression", "cost_usd"),)),
    Metric("episode_starts", "UInt64", count("episode_start")),
    Metric("episode_completes", "UInt64", count("episode_complete")),
    Metric("episode_exits", "UInt64", count("episode_exit")),
    Metric("watch_seconds", "Float64", (("episode_complete", "watch_s"), ("episode_exit", "position_s"))),
    Metric("startup_ms_sum", "UInt64", (("episode_start", "startup_ms"),)),
    Metric("rebuffer_ms_sum", "UInt64", (("episode_complete", "rebuffer_ms"), ("episode_exit", "rebuffer_ms"))),
    Metric("paywalls_shown", "UInt64", count("paywall_shown")),
    Metric("unlocks_coins", "UInt64", count("episode_unlocked"), where="`method` = coins"),
    Metric("unlocks_subscription", "UInt64", count("episode_unlocked"), where="`method` = subscription"),
    Metric("unlocks_rewarded_ad", "UInt64", count("episode_unlocked"), where="`method` = rewarded_ad"),
    Metric("coins_spent", "UInt64", (("episode_unlocked", "coins_spent"),)),
    Metric("purchases", "UInt64", count("purchase")),
    Metric("iap_revenue_usd", "Float64", (("purchase", "amount_usd"),)),
    Metric("ad_impressions", "UInt64", count("ad_impression")),
    Metric("ad_clicks", "UInt64", count("ad_click")),
    Metric("ad_revenue_usd", "Float64", (("ad_impression", "revenue_usd"),)),
    Metric("likes", "UInt64", count("like")),
    Metric("shares", "UInt64", count("share")),
    Metric("comments", "UInt64", count("comment")),
    Metric("ratings", "UInt64", count("rating")),
    Metric("rating_stars_sum", "UInt64", (("rating", "stars"),)),
)
METRICS = {m.name: m for m in TITLE_METRICS}
COUNTERS = tuple(METRICS)

# Not a counter of the parts: a distinct count over their per-viewer rows (user_id set, counters 0).
# The rollups keep it last; the title_metrics_* views show it after VIEWERS_AFTER, as metrics-v1 lists it.
# Its states hold 8-byte hashes of the user ids (the first half of the 16-byte hash uniqExact of a String
# keeps, so migration 0017 converted the earlier states exactly): half the bytes (warehouse/README.md, "Storage").
USER_HASH = "reinterpretAsUInt64(sipHash128(user_id))"
DISTINCT = ("unique_viewers", "uniqExactIf", "UInt64, UInt8", f"{USER_HASH}, user_id != ''")
VIEWERS_AFTER = "rebuffer_ms_sum"
PARTS, GRAINS = "title_metrics_1m_parts", {"1m": "window_start", "1h": "toStartOfHour(window_start)",
                                           "1d": "toStartOfDay(window_start)"}


def title_rules(metrics=TITLE_METRICS) -> dict[str, tuple[str | None, tuple[tuple[str, str], ...]]]:
    """event type → (the counter it counts or None, ((counter, attribute summed), …)): streams/batch.py's
    TITLE_RULES. An event type a `where` metric reads is routed even when nothing else counts it."""
    rules: dict[str, list] = {}
    for m in metrics:
        for event, attribute in m.sources:
            rule = rules.setdefault(event, [None, []])
            if m.where:
                continue
            if attribute is not None:
                rule[1].append((m.name, attribute))
            elif rule[0] is not None:
                raise ValueError(f"{event} counts into {rule[0]} and {m.name}: one counter per event type "
                                 f"(give the second a `where` and fill it in streams/batch.py)")
            else:
                rule[0] = m.name
    return {event: (counted, tuple(sums)) for event, (counted, sums) in rules.items()}


def meaning(m: Metric) -> str:
    """What the data dictionary says of a metric the contract does not define."""
    parts = [f"count of `{e}`" if a is None else f"sum of `{a}` of `{e}`" for e, a in m.sources]
    return " + ".join(parts) + (f" with {m.where}" if m.where else "")


# --- DDL ------------------------------------------------------------------------------------------
def _select(grain: str, metrics) -> str:
    name, agg, _, args = DISTINCT
    return "\n".join([f"SELECT {GRAINS[grain] + ' AS window_start' if grain != '1m' else 'window_start'}, title_id,",
                      "    countState() AS parts_rows,",
                      *(f"    {m.aggregate}State({m.name}) AS {m.name}," for m in metrics),
                      f"    {agg}State({args}) AS {name}",
                      f"FROM {PARTS}", "GROUP BY window_start, title_id"])


def _view(grain: str, metrics) -> str:
    name, agg, _, _ = DISTINCT
    merged = []
    for m in metrics:
        merged.append(f"{m.aggregate}Merge({m.name}) AS {m.name}")
        if m.name == VIEWERS_AFTER:
            merged.append(f"{agg}Merge({name}) AS {name}")
    return "\n".join([f"CREATE VIEW IF NOT EXISTS title_metrics_{grain} AS", "SELECT window_start, title_id,",
                      ",\n".join(f"    {line}" for line in merged),
                      f"FROM title_metrics_{grain}_rollup", "GROUP BY window_start, title_id"])


def migration(names: list[str], metrics=TITLE_METRICS) -> str:
    """The migration that adds the declared metrics `names` (the last ones declared) to a schema that
    has the ones before: the column on the parts table and each rollup, the parts' probe and the
    views re-created from the declaration (18.16 has no CREATE OR REPLACE)."""
    order = [m.name for m in metrics]
    unknown = [n for n in names if n not in order]
    if unknown or not names:
        raise ValueError(f"declare {', '.join(unknown) or 'a metric'} in warehouse/metrics.py TITLE_METRICS first")
    if sorted(order.index(n) for n in names) != list(range(len(order) - len(names), len(order))):
        raise ValueError(f"{', '.join(names)} must be the last metrics declared (columns go after the previous one)")
    new = [m for m in metrics if m.name in names]
    out = [f"-- Title metric(s) {', '.join(names)} (warehouse/metrics.py), by `python -m warehouse new-metric`.",
           "-- The column on the parts table (and its probe) and on each rollup, after the previous metric;",
           "-- the rollups' materialized views and the title_metrics_* views re-created from the declaration.",
           "-- Rows written before hold 0: `python -m streams.replay` (workers stopped) recounts past days.",
           f"ALTER TABLE {PARTS}",
           ",\n".join(f"    ADD COLUMN {m.name} {m.type} DEFAULT 0 AFTER {order[order.index(m.name) - 1]}"
                      for m in new) + ";",
           f"DROP TABLE IF EXISTS {PARTS}_probe;",
           f"CREATE TABLE IF NOT EXISTS {PARTS}_probe AS {PARTS} ENGINE = Null;"]
    for grain in GRAINS:
        out += ["", f"ALTER TABLE title_metrics_{grain}_rollup",
                ",\n".join(f"    ADD COLUMN {m.name} AggregateFunction({m.aggregate}, {m.type}) "
                           f"AFTER {order[order.index(m.name) - 1]}" for m in new) + ";",
                f"DROP TABLE IF EXISTS title_metrics_{grain}_rollup_mv;",
                f"CREATE MATERIALIZED VIEW IF NOT EXISTS title_metrics_{grain}_rollup_mv "
                f"TO title_metrics_{grain}_rollup AS", _select(grain, metrics) + ";",
                f"DROP TABLE IF EXISTS title_metrics_{grain};", _view(grain, metrics) + ";"]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    """`python -m warehouse new-metric NAME …`: write the next migration for metrics declared above."""
    from warehouse.migrate import MIGRATIONS, files     # not at the top: warehouse/tables.py imports this module
    if not argv or argv[0].startswith("-"):
        print("usage: python -m warehouse new-metric NAME … (declared last in warehouse/metrics.py)", file=sys.stderr)
        return 2
    try:
        sql = migration(argv)
    except ValueError as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 2
    number = int(max(files()).split("_")[0]) + 1
    path = MIGRATIONS / f"{number:04d}_metric_{'_'.join(argv)}.sql"
    path.write_text(sql)
    print(f"wrote {path.relative_to(MIGRATIONS.parent.parent)}")
    return 0
