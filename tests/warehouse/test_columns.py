"""Every table the worker writes has exactly the columns its rows carry (PostHog's check)."""
from datetime import datetime

import orjson

from schemas.examples import EXAMPLES
from streams import batch
from streams.ingest import COLUMNS
from streams.state import PartitionState
from streams.trends import Signal, signal_row
from warehouse.client import connect

BUILT = {
    "events_rejected": lambda sorted_out, span: batch.rejected_rows(sorted_out.invalid),
    "events_raw": lambda sorted_out, span: batch.raw_rows(sorted_out.valid),
    "title_events": lambda sorted_out, span: batch.title_event_rows(sorted_out.valid),
    "title_metrics_1m_parts": lambda sorted_out, span: batch.title_rows(sorted_out.valid, span),
    "episode_metrics_1m_parts": lambda sorted_out, span: batch.episode_rows(sorted_out.valid, span),
    "segment_metrics_1m_parts": lambda sorted_out, span: batch.segment_rows(sorted_out.valid, span),
    "title_first_views_parts": lambda sorted_out, span: batch.first_view_rows(sorted_out.valid, span),
    "pipeline_health_1m_parts": lambda sorted_out, span: batch.health_rows(sorted_out, messages(), span, {}, datetime(2026, 1, 5)),
}


def messages():
    out = [batch.Message(e.TOPIC, 0, n, None, orjson.dumps(e.to_dict())) for n, e in enumerate(EXAMPLES)]
    return out + [batch.Message("drama.viewing", 0, len(out), None, b"not json")]


def test_each_row_builder_fills_exactly_its_tables_columns():
    states = {(t, 0): PartitionState() for t in {m.topic for m in messages()}}
    sorted_out = batch.classify(messages(), states, {})
    span = batch.spans(messages())
    for table, build in BUILT.items():
        rows = build(sorted_out, span)
        assert rows, table
        assert all(set(row) == set(COLUMNS[table]) for row in rows), (table, set(rows[0]) ^ set(COLUMNS[table]))
    signal = Signal("s", "t", 40.0, 8.0, datetime(2026, 1, 5, 12))
    assert set(signal_row(signal, "trope", datetime(2026, 1, 5, 12, 0, 3))) == set(COLUMNS["recreate_signals_log"])


def test_each_table_in_clickhouse_has_every_column_the_worker_writes(stack):
    client = connect(stack)
    for table, columns in COLUMNS.items():
        present = {name for name, *_ in client.execute(f"DESCRIBE TABLE {table}")}
        assert set(columns) <= present, (table, set(columns) - present)
