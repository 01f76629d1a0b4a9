"""Finalize the exact distinct counts of closed days, and of the 7- and 30-day windows ending with them.

    <metric>_1d_rollup (uniqExact states, per day) ──close()──► <name>_reach (as_of, days, keys, counts)

Merging thirty days of uniqExact states per title costs seconds at 100M events (every distinct
user of every day is read and hashed again), so a dashboard that refreshes every 10 s cannot do
it. A closed day does not change, except when a late event or a repair lands in it, so its counts
and those of the windows ending with it are computed once, here, and stored with the number of
source rows they fold (`source_rows`). The `*_reach_latest`, `kpis_1d` and `active_users_1d`
views (warehouse/migrations/0011_reach.sql) use a stored count only while its window still folds
that many rows, so they stay exact between two passes. `python -m warehouse.maintain` calls
`close()` on every pass: it computes what is missing and recomputes what went stale.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import NamedTuple

from infra.settings import Settings
from warehouse.client import connect, swap_partition

log = logging.getLogger(__name__)
WINDOWS = (1, 7, 30)                # days per window; 1 for every closed day, 7 and 30 for the newest
RECHECK_DAYS = 40                   # stored windows older than this are history: no longer re-checked
_ADAPTATION = ("(SELECT window_start, parts_rows, viewers, payers, adaptation FROM title_users_1d_rollup "
               "ANY INNER JOIN (SELECT title_id, adaptation FROM titles) AS title_adaptation USING title_id)")


class Reach(NamedTuple):
    table: str
    source: str                     # a day rollup (or a subquery over one) with window_start and parts_rows
    keys: tuple[str, ...]
    values: tuple[tuple[str, str], ...]     # (column, the merge that finalizes it)

    def select(self, as_of: date, days: int) -> str:
        """The reach of the `days` days that end with `as_of`, as rows of this table."""
        keys = "".join(f", {k}" for k in self.keys)
        values = ", ".join(f"{merge} AS {column}" for column, merge in self.values)
        group = f" GROUP BY {', '.join(self.keys)}" if self.keys else ""
        return (f"SELECT toDate('{as_of.isoformat()}') AS as_of, toUInt16({int(days)}) AS days{keys}, {values}, "
                f"countMerge(parts_rows) AS source_rows FROM {self.source} "
                f"WHERE {window('toDate(window_start)', as_of, days)}{group}")

    @property
    def columns(self) -> list[str]:
        return ["as_of", "days", *self.keys, *(c for c, _ in self.values), "source_rows"]


_VIEWERS_PAYERS = (("viewers", "uniqExactIfMerge(viewers)"), ("payers", "uniqExactIfMerge(payers)"))
REACHES = (
    Reach("title_reach", "title_metrics_1d_rollup", ("title_id",),
          (("viewers", "uniqExactIfMerge(unique_viewers)"), ("starts", "sumMerge(episode_starts)"),
           ("completes", "sumMerge(episode_completes)"),
           ("revenue_usd", "sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd)"))),
    Reach("segment_reach", "segment_metrics_1d_rollup", ("gender", "age_band", "country"), _VIEWERS_PAYERS),
    Reach("viewer_reach", "segment_metrics_1d_rollup", (), _VIEWERS_PAYERS),
    Reach("app_reach", "active_users_1d_rollup", ("app_id",), (("users", "uniqExactIfMerge(users)"),)),
    Reach("adaptation_reach", _ADAPTATION, ("adaptation",), _VIEWERS_PAYERS),
)


def window(day_column: str, as_of: date, days: int) -> str:
    """SQL: `day_column` lies in the `days` days that end with `as_of`."""
    first = as_of - timedelta(days=days - 1)
    return f"{day_column} >= toDate('{first.isoformat()}') AND {day_column} <= toDate('{as_of.isoformat()}')"


def window_rows(daily: dict[date, int], as_of: date, days: int) -> int:
    """The source rows a window folds, from the rows each day folds."""
    return sum(daily.get(as_of - timedelta(days=n), 0) for n in range(days))


def due(daily: dict[date, int], stored: dict[tuple[date, int], int], today: date) -> list[tuple[date, int]]:
    """The (as_of, days) windows to compute: every closed day, the 7 and 30 days ending with the
    newest closed day, and every stored window still re-checked, when what it stored differs
    from what its window folds now."""
    closed = sorted(d for d, rows in daily.items() if d < today and rows)
    if not closed:
        return []
    wanted = {(d, 1) for d in closed} | {(closed[-1], w) for w in WINDOWS if w > 1}
    wanted |= {(a, w) for (a, w) in stored if a < today and a >= today - timedelta(days=RECHECK_DAYS)}
    return sorted((a, w) for a, w in wanted if stored.get((a, w)) != window_rows(daily, a, w)
                  and window_rows(daily, a, w) > 0)


def _store(client, reach: Reach, as_of: date, days: int) -> None:
    """Compute one window and swap it in as its partition."""
    swap_partition(client, reach.table, f"({as_of:%Y%m%d}, {int(days)})",
                   f"({', '.join(reach.columns)}) {reach.select(as_of, days)}")


def close(settings: Settings, say=log.info) -> dict:
    """Compute every reach that is due; returns {table: [(as_of, days) computed]}."""
    client = connect(settings)
    done: dict = {}
    try:
        today = client.execute("SELECT today()")[0][0]
        for reach in REACHES:
            daily = dict(client.execute(f"SELECT toDate(window_start) AS day, countMerge(parts_rows) "
                                        f"FROM {reach.source} GROUP BY day"))
            stored = {(a, w): rows for a, w, rows in client.execute(
                f"SELECT as_of, days, sum(source_rows) FROM {reach.table} GROUP BY as_of, days")}
            for as_of, days in due(daily, stored, today):
                _store(client, reach, as_of, days)
                done.setdefault(reach.table, []).append((as_of, days))
            if reach.table in done:
                say(f"{reach.table}: {len(done[reach.table])} window(s) computed, newest "
                    f"{max(done[reach.table])[0]}")
    finally:
        client.disconnect()
    return done
