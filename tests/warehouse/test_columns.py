"""Every table the worker writes has exactly the columns its builders fill (PostHog's check),
and warehouse/tables.py, the registry they all read, agrees with the DDL in ClickHouse."""
from datetime import datetime

import orjson

from forecast.features import FEATURES
from streams.forecasts import forecast_row

from schemas.examples import EXAMPLES
from streams import batch
from streams.state import PartitionMemory
from streams.trends import Signal, signal_row
from warehouse.client import connect
from warehouse.tables import TABLES

NOW = datetime(2026, 1, 5)
BUILT = {
    "events_rejected": lambda parts: batch.rejected_columns(parts, {})[1],
    "events_raw": lambda parts: batch.raw_columns(parts, {}),
    "title_events": lambda parts: batch.title_event_columns(parts, {}),
    "title_metrics_1m_parts": lambda parts: batch.title_columns(parts, {}),
    "episode_metrics_1m_parts": lambda parts: batch.episode_columns(parts, {}),
    "segment_metrics_1m_parts": lambda parts: batch.segment_columns(parts, {}),
    "title_first_views_parts": lambda parts: batch.first_view_columns(parts, {}),
    "pipeline_health_1m_parts": lambda parts: batch.health_columns(parts, {}, NOW),
}


def parts() -> list:
    """Every example event on its own topic, plus one message that is not JSON."""
    by_topic: dict = {}
    for e in EXAMPLES:
        by_topic.setdefault(e.TOPIC, []).append(orjson.dumps(e.to_dict()))
    by_topic["drama.viewing"].append(b"not json")
    return [batch.classify(topic, 0, [batch.Message(topic, 0, n, None, v) for n, v in enumerate(values)],
                           PartitionMemory(), {}) for topic, values in sorted(by_topic.items())]


def test_each_builder_fills_exactly_its_tables_columns():
    built = parts()
    assert set(BUILT) | {"recreate_signals_log", "title_forecasts_log"} == set(TABLES)
    for table, build in BUILT.items():
        columns = build(built)
        assert columns, table
        assert len(columns) == len(TABLES[table].columns), (table, len(columns), TABLES[table].columns)
        assert len({len(c) for c in columns}) == 1, (table, [len(c) for c in columns])
    signal = Signal("s", "t", 40.0, 8.0, datetime(2026, 1, 5, 12), datetime(2026, 1, 5, 12, 0, 41))
    row = signal_row(signal, "trope", datetime(2026, 1, 5, 12, 0, 3))
    assert set(row) == set(TABLES["recreate_signals_log"].columns)
    seen = {"title_id": "t", "hours_since_launch": 3.5, "viewers": 10, "iap_revenue": 4.99, "ad_revenue": None}
    row = forecast_row(seen, [0.0] * len(FEATURES), datetime(2026, 1, 5, 12), 0.2, None, "v", False)
    assert set(row) == set(TABLES["title_forecasts_log"].columns)


def test_each_table_in_clickhouse_has_the_registry_columns_and_defaults_for_the_rest(stack):
    client = connect(stack)
    for table, spec in TABLES.items():
        described = {name: default_kind for name, _, default_kind, *_ in client.execute(f"DESCRIBE TABLE {table}")}
        assert set(spec.columns) <= set(described), (table, set(spec.columns) - set(described))
        unfed = {name for name, default_kind in described.items() if name not in spec.columns and not default_kind}
        assert not unfed, (table, "columns nothing writes and nothing defaults", unfed)


def test_builders_fill_columns_clickhouse_accepts(stack):
    """One insert per table of the builders' columns, into a scratch copy of each table."""
    client = connect(stack)
    built = parts()
    for table, build in BUILT.items():
        scratch = f"scratch_{table}"
        client.execute(f"DROP TABLE IF EXISTS {scratch}")
        client.execute(f"CREATE TABLE {scratch} AS {table}")
        try:
            columns = build(built)
            client.execute(f"INSERT INTO {scratch} ({', '.join(TABLES[table].columns)}) VALUES", columns,
                           columnar=True)
            assert client.execute(f"SELECT count() FROM {scratch}")[0][0] == len(columns[0])
        finally:
            client.execute(f"DROP TABLE IF EXISTS {scratch}")
