"""The warehouse's SQL on current ClickHouse (chdb: ClickHouse 26.x in-process), beside 18.16.

Every migration is applied in order, a few rows go through the real inserts (so the rollups'
views fire), and every view, every documented query (warehouse/queries/) and every query
`make bench` times must answer. 26.x has a
stricter analyzer than 18.16 (a JOIN's subqueries need aliases, for one): this is where that
shows, without a current server on this machine.
"""
from __future__ import annotations


from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from bench.warehouse import ANALYST, BEFORE, DASHBOARD
from tests.conftest import fill_parameters
from warehouse import reach
from warehouse.migrate import MIGRATIONS, files, statements
from warehouse.tables import TABLES

pytestmark = pytest.mark.slow
session = pytest.importorskip("chdb.session", reason="chdb is in the test extras: `make install`")


@pytest.fixture(scope="module")
def current(tmp_path_factory):
    s = session.Session(str(tmp_path_factory.mktemp("chdb") / "data"))
    s.query("CREATE DATABASE drama")
    s.query("USE drama")
    yield s
    s.close()


def values(row: dict, columns) -> str:
    def literal(v):
        if isinstance(v, str):
            return "'" + v.replace("'", "\\'") + "'"
        if isinstance(v, datetime):
            return f"toDateTime('{v:%Y-%m-%d %H:%M:%S}')"
        return repr(v)
    return "(" + ", ".join(literal(row.get(c, 0)) for c in columns) + ")"


def insert(s, table: str, rows: list[dict]) -> None:
    columns = TABLES[table].columns
    s.query(f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(values(r, columns) for r in rows))


def test_every_migration_applies_on_current_clickhouse(current):
    applied = 0
    for path in files(codecs=True).values():
        for statement in statements(path.read_text()):
            try:
                current.query(statement.rstrip(";"))
            except Exception as error:  # noqa: BLE001 - the file and statement, then the server's reason
                pytest.fail(f"{path.name}: {statement[:120]!r} fails on current ClickHouse: {error}")
            applied += 1
    assert applied > 50


def test_rollups_fire_and_every_view_and_benchmarked_query_answers(current):
    now = datetime.utcnow().replace(second=0, microsecond=0)
    stamp = {"src_topic": "drama.viewing", "src_partition": 0, "src_first_offset": 1, "src_last_offset": 1}
    insert(current, "title_metrics_1m_parts", [
        {"window_start": now - timedelta(minutes=2), "title_id": "t1", "user_id": "", "episode_starts": 3,
         "ad_spend_usd": 0.0, "watch_seconds": 0.0, "iap_revenue_usd": 1.5, "ad_revenue_usd": 0.0, **stamp},
        {"window_start": now - timedelta(minutes=2), "title_id": "t1", "user_id": "u1", "ad_spend_usd": 0.0,
         "watch_seconds": 0.0, "iap_revenue_usd": 0.0, "ad_revenue_usd": 0.0, **stamp}])
    insert(current, "segment_metrics_1m_parts", [
        {"window_start": now - timedelta(minutes=2), "gender": "female", "age_band": "45-54", "country": "US",
         "user_id": "u1", "viewer": 1, "payer": 1, "iap_revenue_usd": 0.0, "ad_revenue_usd": 0.0, **stamp}])
    insert(current, "events_raw", [
        {"event_id": "e1", "event_type": "episode_start", "event_time": now - timedelta(minutes=2), "app_id": "a",
         "user_id": "u1", "title_id": "t1", "topic": "drama.viewing", "payload_packed": "{}"}])
    insert(current, "title_events", [
        {"title_id": "t1", "event_type": "script_created", "event_time": now - timedelta(days=1), "event_ts": 1.0,
         "trope": "revenge", "genre": "romance", "origin": "ai", "adaptation": "native", "parent_title_id": "",
         "signal_id": "", "production_cost_usd": 0.0, "topic": "drama.content", "title_name": "Revenge"}])
    assert current.query("SELECT episode_starts, unique_viewers FROM title_metrics_1h", "CSV").data() == "3,1\n"
    assert current.query("SELECT viewers, payers FROM kpis_1d", "CSV").data() == "1,1\n"
    assert current.query("SELECT title_name FROM titles", "CSV").data() == '"Revenge"\n'
    views = [name for (name,) in (line.split(",") for line in current.query(
        "SELECT name FROM system.tables WHERE database = 'drama' AND engine = 'View'", "CSV").data().split())]
    assert len(views) >= 19
    for view in views:
        current.query(f"SELECT * FROM {view.strip(chr(34))} LIMIT 1")
    documented = {path.name: path.read_text() for path in sorted((MIGRATIONS.parent / "queries").glob("*.sql"))}
    assert len(documented) >= 10
    for name, sql in {**DASHBOARD, **ANALYST, **BEFORE, **documented}.items():
        try:
            [statement] = statements(sql)               # comment lines dropped, one statement per query
            current.query(fill_parameters(statement))
        except Exception as error:  # noqa: BLE001
            pytest.fail(f"{name!r} fails on current ClickHouse: {error}")


def test_the_reach_is_computed_swapped_in_and_read_on_current_clickhouse(current):
    """warehouse.reach's SELECT, stage table and REPLACE PARTITION, then the views that read them."""
    today = current.query("SELECT today()", "CSV").data().strip().strip('"')
    as_of = datetime.strptime(today, "%Y-%m-%d").date()        # today's rows: the SQL is what is proven here
    for r in reach.REACHES:
        reach._store(SimpleNamespace(execute=current.query), r, as_of, 1)
    assert current.query("SELECT days, title_id, viewers FROM title_reach_latest", "CSV").data() == '1,"t1",1\n'
    assert current.query("SELECT days, app_id, users FROM app_reach_latest", "CSV").data() == '1,"a",1\n'
    assert current.query("SELECT viewers, payers FROM kpis_1d", "CSV").data() == "1,1\n"
    assert current.query("SELECT users FROM active_users_1d", "CSV").data() == "1\n"


def test_0017_converts_the_viewer_states_on_current_clickhouse_too(current):
    """Migration 0017 reads each 16-byte-hash state as a String and keeps the first 8 bytes of each
    hash: the serialized state and CAST must agree on current ClickHouse as they do on 18.16."""
    current.query("CREATE DATABASE conv")
    current.query("USE conv")
    try:
        for version, path in files().items():
            if version < "0017":
                for statement in statements(path.read_text()):
                    current.query(statement.rstrip(";"))

        def feed(first: int, count: int) -> None:
            current.query(f"INSERT INTO title_metrics_1m_parts (window_start, title_id, user_id) SELECT "
                          f"toDateTime('2026-12-01 10:00:00'), 't', concat('u', toString(number)) "
                          f"FROM numbers({first}, {count})")

        feed(0, 3000)
        for statement in statements((MIGRATIONS / "0017_rollups_hashed_viewers.sql").read_text()):
            current.query(statement.rstrip(";"))
        feed(2000, 3000)                                  # 2000–2999 counted before the conversion
        for grain in ("1m", "1h", "1d"):
            viewers = current.query(f"SELECT unique_viewers FROM title_metrics_{grain}", "TSV").data().strip()
            assert viewers == "5000", grain
    finally:
        current.query("USE drama")
        current.query("DROP DATABASE conv")
