"""Every table the worker writes: its columns, in insert order, and the columns that say how far
it was written (its high-water mark). The one place this is declared: the sinks, the row
builders (streams/batch.py builds columns in this order), the state restore
(streams/state.py) and tests/warehouse/test_columns.py all read it. The DDL is in
warehouse/migrations/; test_columns checks that each table there has exactly these columns
(plus defaults such as `written_at`). The title counters come from warehouse/metrics.py.
"""
from __future__ import annotations

from typing import NamedTuple

from warehouse.metrics import COUNTERS

# Counters of title_metrics_1m_parts, in column order: declared once, in warehouse/metrics.py.
TITLE_COUNTERS = COUNTERS
EPISODE_COUNTERS = ("starts", "completes", "exits", "paywalls_shown", "unlocks")
SEGMENT_VALUES = ("viewer", "payer", "purchases", "iap_revenue_usd", "ad_revenue_usd")
HEALTH_COUNTERS = ("events_in", "accepted", "duplicates", "rejected", "late", "max_event_lag_s")

# Aggregate rows carry the batch's offset range of their partition.
STAMP = ("src_topic", "src_partition", "src_first_offset", "src_last_offset")
SOURCE = ("topic", "partition", "offset")          # raw rows carry their own message's place


class Table(NamedTuple):
    name: str
    columns: tuple[str, ...]
    high_water: tuple[str, str, str] | None       # (topic, partition, offset) columns, or None


def _table(name: str, *columns: str, high_water=None) -> Table:
    return Table(name, tuple(columns), high_water)


TABLES: dict[str, Table] = {t.name: t for t in (
    _table("events_rejected", *SOURCE, "reason", "detail", "raw", high_water=SOURCE),
    _table("events_raw", "event_id", "event_type", "event_time", "event_time_us", "app_id", "user_id", "title_id",
           *SOURCE, "payload_packed", high_water=SOURCE),
    _table("title_events", "title_id", "event_type", "event_time", "event_ts", "trope", "genre", "origin",
           "adaptation", "parent_title_id", "signal_id", "episode", "production_cost_usd", "virtual_actors",
           "episodes_total", "free_episodes", *SOURCE, "title_name", "audience_scale", high_water=SOURCE),
    _table("title_metrics_1m_parts", "window_start", "title_id", "user_id", *TITLE_COUNTERS, *STAMP,
           high_water=STAMP[:2] + STAMP[3:]),
    _table("episode_metrics_1m_parts", "window_start", "title_id", "episode", *EPISODE_COUNTERS, *STAMP,
           high_water=STAMP[:2] + STAMP[3:]),
    _table("segment_metrics_1m_parts", "window_start", "gender", "age_band", "country", "user_id", *SEGMENT_VALUES,
           *STAMP, high_water=STAMP[:2] + STAMP[3:]),
    _table("title_first_views_parts", "title_id", "first_view_ts", *STAMP, high_water=STAMP[:2] + STAMP[3:]),
    _table("pipeline_health_1m_parts", "window_start", *HEALTH_COUNTERS, *STAMP, high_water=STAMP[:2] + STAMP[3:]),
    _table("recreate_signals_log", "signal_id", "title_id", "trope", "score", "reason", "emitted_at", "emitted_ts",
           "window_start", "window_end", "detected_at"),
    _table("title_forecasts_log", "title_id", "as_of", "hours_since_launch", "p_payback", "p_hit", "model_version",
           "viewers", "revenue_usd", "hook_rate", "completion", "pay_through", "hit_signal"),
)}

HIGH_WATER = {name: t.high_water for name, t in TABLES.items() if t.high_water}
