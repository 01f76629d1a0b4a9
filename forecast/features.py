"""A title's features from the warehouse: warehouse/queries/title_forecast_features.sql's sums, turned
into rates (pure) — the same for the live scorer and the evaluation.

    title_forecast_features.sql (as_of, hours) ──rows──► `vector` ──► FEATURES, in order

Rates, not totals, wherever they can be: a real app's audience is not the simulator's sample, and
nothing a simulator adds (sim_*) is ever read. Volumes are per hour since launch, on a log scale.
"""
from __future__ import annotations

import math
from pathlib import Path

QUERY = Path(__file__).resolve().parents[1] / "warehouse" / "queries" / "title_forecast_features.sql"

FEATURES = (
    "log_hours",                # how long the title has been seen
    "log_cost",                 # production cost, known at launch (episode_released)
    "log_viewers_per_hour", "log_installs_per_hour", "log_impressions_per_hour",
    "hook_rate", "ctr", "installs_per_click",                         # distribute
    "completion", "starts_per_viewer", "free_reach",                 # feedback: viewing
    "pay_through", "log_revenue_per_viewer", "log_revenue_per_hour",   # feedback: the paywall, money
    "likes_per_viewer", "shares_per_viewer", "comments_per_viewer",  # feedback: engagement
    "startup_s", "rebuffer_per_minute",                              # QoE
    "viewers_late_share", "installs_late_share", "revenue_late_share",  # how fast each is changing
    "log_early_roas",
)


def _ratio(a, b, empty: float = 0.0) -> float:
    return a / b if b else empty


def vector(row: dict) -> list[float]:
    """FEATURES of one row of title_forecast_features.sql (a column → value dict)."""
    n = {k: (v or 0) for k, v in row.items()}          # a title with nothing seen yet: zeros (LEFT JOIN)
    hours = max(float(n["hours_since_launch"]), 1 / 60)
    revenue = float(n["iap_revenue"]) + float(n["ad_revenue"])
    viewers = n["viewers"]
    return [
        math.log(hours), math.log1p(float(n["production_cost"])),
        math.log1p(viewers / hours), math.log1p(n["installs"] / hours), math.log1p(n["impressions"] / hours),
        _ratio(n["hooks"], n["views"]), _ratio(n["clicks"], n["impressions"]), _ratio(n["installs"], n["clicks"]),
        _ratio(n["completes"], n["starts"]), _ratio(n["starts"], viewers),
        _ratio(n["free_completes"], n["first_starts"]),
        _ratio(n["paywall_unlocks_first"], n["paywall_shown_first"]),
        math.log1p(_ratio(revenue, viewers)), math.log1p(revenue / hours),
        _ratio(n["likes"], viewers), _ratio(n["shares"], viewers), _ratio(n["comments"], viewers),
        _ratio(n["startup_ms"], n["starts"]) / 1000, _ratio(n["rebuffer_ms"] / 1000, n["watch_seconds"] / 60),
        _ratio(n["viewers_late"], viewers, 0.5), _ratio(n["installs_late"], n["installs"], 0.5),
        _ratio(n["revenue_late"], revenue, 0.5),
        math.log1p(_ratio(revenue, float(n["ad_spend"]))),
    ]


def read(client, as_of, hours: float) -> list[dict]:
    """The query's rows (column → value) for titles launched in the 7 days before `as_of`."""
    rows, columns = client.execute(QUERY.read_text(), {"as_of": as_of, "hours": hours}, with_column_types=True)
    return [dict(zip([c for c, _ in columns], row)) for row in rows]
