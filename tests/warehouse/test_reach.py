"""The reach of closed days and windows (warehouse/reach.py, migration 0011): exact, and never stale."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from warehouse import reach
from warehouse.tables import TABLES

TODAY = datetime.now(timezone.utc).replace(tzinfo=None, hour=12, minute=0, second=0, microsecond=0)
# (days ago, title, users who viewed it, segment of all of them, users who paid)
VIEWS = [(3, "t-1", ["u1", "u2"], ["u1"]), (2, "t-1", ["u2", "u3"], []), (2, "t-2", ["u1"], ["u1"]),
         (1, "t-1", ["u4"], ["u4"]), (0, "t-1", ["u5", "u1"], ["u5"])]


def insert(client, table: str, rows: list[dict], offset: int) -> None:
    columns = TABLES[table].columns
    stamp = {"src_topic": "drama.viewing", "src_partition": 0, "src_first_offset": offset, "src_last_offset": offset}
    client.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES",
                   [tuple({**dict.fromkeys(columns, 0), **stamp, **row}[c] for c in columns) for row in rows])


def view(client, days_ago: int, title: str, users: list[str], payers: list[str], offset: int) -> None:
    """One block of each parts table, as the worker writes a minute where `users` watch `title`."""
    at = TODAY - timedelta(days=days_ago)
    money = {"ad_spend_usd": 0.0, "watch_seconds": 0.0, "iap_revenue_usd": 0.0, "ad_revenue_usd": 0.0}
    insert(client, "title_metrics_1m_parts", [{"window_start": at, "title_id": title, "user_id": u, **money}
                                              for u in users], offset)
    insert(client, "segment_metrics_1m_parts",
           [{"window_start": at, "gender": "female", "age_band": "45-54", "country": "US", "user_id": u,
             "viewer": 1, "payer": int(u in payers), "iap_revenue_usd": 1.0 * (u in payers), "ad_revenue_usd": 0.0}
            for u in users], offset)


def truth(days_ago: range) -> tuple[dict, set, set]:
    """Per title the distinct viewers, and all viewers and payers, over those days (from VIEWS)."""
    titles: dict = {}
    viewers, payers = set(), set()
    for ago, title, users, paid in VIEWS:
        if ago in days_ago:
            titles.setdefault(title, set()).update(users)
            viewers.update(users)
            payers.update(paid)
    return {t: len(u) for t, u in titles.items()}, viewers, payers


def latest(client, table: str) -> dict:
    return {(days, key): viewers for days, key, viewers in client.execute(
        f"SELECT days, title_id, viewers FROM {table}_latest")} if table == "title_reach" else {}


def kpis(client) -> dict:
    return {day: (v, p) for day, v, p in client.execute("SELECT day, viewers, payers FROM kpis_1d")}


def expected_kpis() -> dict:
    out = {}
    for ago in range(4):
        _, viewers, payers = truth(range(ago, ago + 1))
        out[(TODAY - timedelta(days=ago)).date()] = (len(viewers), len(payers))
    return out


def test_closed_days_and_windows_are_finalized_exactly_and_today_is_left_to_the_rollups(database):
    settings, client = database
    for n, (ago, title, users, paid) in enumerate(VIEWS):
        view(client, ago, title, users, paid, offset=n)

    done = reach.close(settings)

    yesterday = (TODAY - timedelta(days=1)).date()
    assert sorted(done["title_reach"]) == [(yesterday - timedelta(days=n), 1) for n in (2, 1)] + \
        [(yesterday, 1), (yesterday, 7), (yesterday, 30)]
    titles_7, viewers_7, payers_7 = truth(range(1, 8))
    assert latest(client, "title_reach") == {**{(7, t): n for t, n in titles_7.items()},
                                             **{(30, t): n for t, n in titles_7.items()},
                                             **{(1, t): n for t, n in truth(range(1, 2))[0].items()}}
    assert client.execute("SELECT days, viewers, payers FROM viewer_reach_latest ORDER BY days") == \
        [(1, 1, 1), (7, len(viewers_7), len(payers_7)), (30, len(viewers_7), len(payers_7))]
    assert client.execute("SELECT count() FROM title_reach WHERE as_of >= today()") == [(0,)]
    assert kpis(client) == expected_kpis()                 # closed days from the reach, today from the states
    assert reach.close(settings) == {}                     # nothing due twice


def test_a_late_event_in_a_closed_day_never_shows_a_stale_count_and_the_next_pass_recomputes(database):
    settings, client = database
    for n, (ago, title, users, paid) in enumerate(VIEWS):
        view(client, ago, title, users, paid, offset=n)
    reach.close(settings)

    late = (2, "t-1", ["u9"], ["u9"])                      # two days late: lands in a closed day
    view(client, *late, offset=99)
    VIEWS.append(late)
    try:
        assert kpis(client) == expected_kpis()             # that day now read from the states, exactly
        titles_7, _, _ = truth(range(1, 8))
        shown = latest(client, "title_reach")
        assert all(n == titles_7[t] for (days, t), n in shown.items() if days == 7)   # absent or exact
        assert (7, "t-1") not in shown                     # its window is stale, and no older one exists

        recomputed = reach.close(settings)

        yesterday = (TODAY - timedelta(days=1)).date()
        assert sorted(recomputed["title_reach"]) == [((TODAY - timedelta(days=2)).date(), 1), (yesterday, 7),
                                                     (yesterday, 30)]
        assert latest(client, "title_reach")[(7, "t-1")] == titles_7["t-1"] == 5
        assert kpis(client) == expected_kpis()
    finally:
        VIEWS.remove(late)


def test_due_asks_for_closed_days_the_newest_windows_and_stale_ones_only():
    d = date(2026, 11, 20)
    daily = {d: 5, d + timedelta(days=1): 3, d + timedelta(days=2): 4}        # the last one is today
    today = d + timedelta(days=2)
    assert reach.due(daily, {}, today) == [(d, 1), (d + timedelta(days=1), 1), (d + timedelta(days=1), 7),
                                           (d + timedelta(days=1), 30)]
    current = {(d, 1): 5, (d + timedelta(days=1), 1): 3, (d + timedelta(days=1), 7): 8,
               (d + timedelta(days=1), 30): 8}
    assert reach.due(daily, current, today) == []
    assert reach.due({**daily, d: 6}, current, today) == [(d, 1), (d + timedelta(days=1), 7),
                                                          (d + timedelta(days=1), 30)]
