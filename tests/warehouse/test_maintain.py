"""Rollup reconciliation and parts retention (warehouse/maintain.py), on a fresh database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from warehouse import maintain
from warehouse.tables import TABLES

PARTS = "title_metrics_1m_parts"
TITLE_MVS = [f"title_metrics_{grain}_rollup_mv" for grain in ("1m", "1h", "1d")]


def insert_parts(client, at: datetime, title: str, starts: int, users: list[str], offset: int) -> None:
    """One block as the worker writes it: a counter row and one row per viewer, stamped."""
    columns = TABLES[PARTS].columns
    rows = []
    for user, count in [("", starts)] + [(u, 0) for u in users]:
        row = dict.fromkeys(columns, 0)
        row.update(window_start=at, title_id=title, user_id=user, episode_starts=count, ad_spend_usd=0.0,
                   watch_seconds=0.0, iap_revenue_usd=0.0, ad_revenue_usd=0.0, src_topic="drama.viewing",
                   src_partition=0, src_first_offset=offset, src_last_offset=offset)
        rows.append(tuple(row[c] for c in columns))
    client.execute(f"INSERT INTO {PARTS} ({', '.join(columns)}) VALUES", rows)


def views(client) -> dict:
    return {grain: sorted(client.execute(f"SELECT toString(window_start), title_id, episode_starts, unique_viewers "
                                         f"FROM title_metrics_{grain}")) for grain in ("1m", "1h", "1d")}


def from_parts(client) -> dict:
    """What the rollups must say, aggregated straight from the parts."""
    out = {}
    for grain, bucket in (("1m", "window_start"), ("1h", "toStartOfHour(window_start)"),
                          ("1d", "toStartOfDay(window_start)")):
        out[grain] = sorted(client.execute(
            f"SELECT toString(t), title_id, sum(episode_starts), uniqExactIf(user_id, user_id != '') "
            f"FROM (SELECT {bucket} AS t, title_id, episode_starts, user_id FROM {PARTS}) GROUP BY t, title_id"))
    return out


def test_a_block_the_rollups_missed_is_found_and_folded_in_again(database):
    settings, client = database
    now = datetime.now(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    insert_parts(client, now - timedelta(minutes=3), "t-1", 5, ["u1", "u2"], offset=10)
    assert views(client) == from_parts(client)
    # The server "dies" between the parts block and its views' blocks: the views miss this one.
    for mv in TITLE_MVS:
        client.execute(f"DETACH TABLE {mv}")
    insert_parts(client, now - timedelta(minutes=2), "t-1", 7, ["u2", "u3"], offset=11)
    for mv in TITLE_MVS:
        client.execute(f"ATTACH TABLE {mv}")
    assert views(client) != from_parts(client)

    rebuilt = maintain.reconcile(settings, since=timedelta(hours=1))

    today = int(now.strftime("%Y%m%d"))
    assert {t: days for t, days in rebuilt.items() if t.startswith("title_metrics")} == \
        {f"title_metrics_{grain}_rollup": [today] for grain in ("1m", "1h", "1d")}
    assert views(client) == from_parts(client)
    assert maintain.reconcile(settings, since=None) == {}          # nothing left to repair


def test_a_block_folded_twice_is_found_too(database):
    settings, client = database
    now = datetime.now(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    insert_parts(client, now - timedelta(minutes=1), "t-2", 4, ["u9"], offset=3)
    select = next(r for r in maintain.rollups(client, settings.clickhouse_db) if r.table == "title_metrics_1h_rollup")
    client.execute(f"INSERT INTO title_metrics_1h_rollup {select.select}")     # the block, folded a second time
    assert views(client)["1h"] != from_parts(client)["1h"]
    assert maintain.reconcile(settings, since=None).get("title_metrics_1h_rollup") == [int(now.strftime("%Y%m%d"))]
    assert views(client) == from_parts(client)


def test_retention_drops_old_days_of_parts_and_keeps_rollups_and_raw(database):
    settings, client = database
    today = datetime.now(timezone.utc).date()
    old = datetime.combine(today - timedelta(days=10), datetime.min.time()) + timedelta(hours=9)
    recent = datetime.combine(today, datetime.min.time())
    insert_parts(client, old, "t-3", 6, ["u1"], offset=1)
    insert_parts(client, recent, "t-3", 2, ["u2"], offset=2)
    rollups_before = views(client)

    dropped = maintain.drop_expired(settings, horizon_days=7, today=today)

    assert dropped == {PARTS: [int(old.strftime("%Y%m%d"))]}
    assert client.execute(f"SELECT toDate(window_start) AS d, sum(episode_starts) FROM {PARTS} GROUP BY d") == \
        [(recent.date(), 2)]
    assert views(client) == rollups_before                       # the rollups keep the old day
    assert maintain.reconcile(settings, since=None) == {}          # and reconciliation does not wipe it
    assert views(client) == rollups_before
    with pytest.raises(ValueError, match="at least 1 day"):
        maintain.drop_expired(settings, horizon_days=0)


def test_every_rollup_is_found_with_its_source_and_a_select_for_one_day(database):
    settings, client = database
    found = maintain.rollups(client, settings.clickhouse_db)
    assert {r.table for r in found} == {
        f"{family}_{grain}_rollup" for family in ("title_metrics", "episode_metrics", "segment_metrics")
        for grain in ("1m", "1h", "1d")} | {"title_users_1d_rollup", "active_users_1d_rollup"}
    for rollup in found:
        sql = rollup.select_day(settings.clickhouse_db, 20260105)
        assert " WHERE toYYYYMMDD(" in sql and ") = 20260105 " in sql, sql
        client.execute(sql)                                        # valid on the server


def test_a_filter_outside_a_view_is_pushed_in_and_answers_the_same(database):
    """The server's default profile pushes predicates into views (18.16 does not by default); a
    filter on an aggregate's name must still apply after the aggregation."""
    settings, client = database
    assert client.execute("SELECT value FROM system.settings WHERE name = 'enable_optimize_predicate_expression'") \
        == [("1",)]
    now = datetime.now(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    for minute, parts in ((5, (3, 4)), (4, (2,)), (3, (6, 1))):       # minute 5 sums to 7, 3 to 7, 4 to 2
        for n, starts in enumerate(parts):
            insert_parts(client, now - timedelta(minutes=minute), "t-4", starts, [f"u{n}"], offset=10 * minute + n)
    since = now - timedelta(minutes=4)
    found = client.execute("SELECT toString(window_start), episode_starts FROM title_metrics_1m "
                           "WHERE window_start >= %(since)s AND episode_starts > 5", {"since": since})
    assert found == [(str(now - timedelta(minutes=3)), 7)]
