"""warehouse/queries/: every documented analyst query, on a small set with a known answer.

Each test writes a handful of rows through the real inserts (events_raw with its payloads, the
parts tables the worker writes, so the rollups' views fire) into a fresh database, runs the
query file as an analyst would, and compares with the answer worked out by hand in the test.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from warehouse import reach
from warehouse.tables import TABLES

QUERIES = Path(__file__).resolve().parents[2] / "warehouse" / "queries"
NOW = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
DAY0 = (NOW - timedelta(days=40)).replace(hour=12, minute=0, second=0)
STAMP = {"src_topic": "drama.viewing", "src_partition": 0, "src_first_offset": 1, "src_last_offset": 1}


@pytest.fixture
def db(database):
    return database[1]


def query(client, name: str, params: dict | None = None) -> list[tuple]:
    return client.execute((QUERIES / f"{name}.sql").read_text(), params)


def named(client, name: str, params: dict) -> list[dict]:
    """A query's rows as column → value."""
    rows, columns = client.execute((QUERIES / f"{name}.sql").read_text(), params, with_column_types=True)
    return [dict(zip([c for c, _ in columns], row)) for row in rows]


def insert(client, table: str, rows: list[dict]) -> None:
    """Rows of the columns the worker writes; a column a row leaves out gets its type's zero."""
    columns = TABLES[table].columns
    types = {name: kind for name, kind, *_ in client.execute(f"DESCRIBE TABLE {table}")}
    zero = {"String": "", "Float64": 0.0, "DateTime": DAY0}
    client.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES",
                   [tuple(r.get(c, zero.get(types[c], 0)) for c in columns) for r in rows])


def raw(client, events: list[dict]) -> None:
    """events_raw rows as the worker writes them: typed columns and the payload."""
    rows = []
    for n, e in enumerate(events):
        body = {k: v for k, v in e.items() if k != "at"}
        rows.append({"event_id": f"e{n}", "event_type": e["event_type"], "event_time": e["at"], "event_time_us": 0,
                     "app_id": e.get("app_id", "app"), "user_id": e.get("user_id", ""),
                     "title_id": e.get("title_id", ""),
                     "topic": "drama.viewing", "partition": 0, "offset": n,
                     "payload_packed": orjson.dumps(body).decode()})     # a whole text is a packed one too
    insert(client, "events_raw", rows)


def close(a, b) -> bool:
    return a == b if not isinstance(a, float) and not isinstance(b, float) else abs(a - b) < 1e-9


def test_dropoff_and_pay_through(db):
    at = NOW - timedelta(hours=2)
    insert(db, "episode_metrics_1m_parts", [
        {"window_start": at, "title_id": "tA", "episode": 1, "starts": 10, "completes": 8, **STAMP},
        {"window_start": at, "title_id": "tA", "episode": 2, "starts": 5, "completes": 5, **STAMP},
        {"window_start": at + timedelta(minutes=1), "title_id": "tA", "episode": 6, "starts": 4, "paywalls_shown": 4,
         "unlocks": 1, **STAMP}])
    rows = {r[1]: r for r in query(db, "dropoff_and_pay_through")}
    assert rows[2][6] == 0.5 and rows[1][7] == 0.8           # reach of episode 2; completion of episode 1
    assert rows[6][8] == 0.25 and rows[1][8] is None          # pay-through where the paywall was shown
    assert {r[9] for r in rows.values()} == {"tA"}            # no script_created: the id stands in


def test_unlock_funnel(db):
    def path(user, *steps):
        return [{"event_type": t, "user_id": user, "title_id": "tA", "at": DAY0 + timedelta(hours=h)} for t, h in steps]
    raw(db, path("u1", ("episode_start", 0), ("paywall_shown", 1), ("episode_unlocked", 2))
        + path("u2", ("episode_start", 0), ("paywall_shown", 1))
        + path("u3", ("episode_start", 0))
        + path("u4", ("episode_start", 0), ("paywall_shown", 30), ("episode_unlocked", 31)))   # paywall a day late
    assert query(db, "unlock_funnel") == [(4, 2, 1, 0.5)]


def test_unlocks_by_method_and_coins(db):
    insert(db, "title_metrics_1m_parts", [{"window_start": DAY0, "title_id": "tA", "user_id": "", "unlocks_coins": 2,
                                           "unlocks_rewarded_ad": 1, "coins_spent": 120, **STAMP}])
    raw(db, [{"event_type": "purchase", "user_id": "u1", "title_id": "tA", "coins": 1100, "amount_usd": 9.99,
              "at": DAY0}])
    assert query(db, "unlocks_by_method") == [(DAY0.date(), 2, 0, 1, 120, 1100, DAY0.replace(hour=0, minute=0))]


def test_retention_by_cohort_and_channel(db):
    def ev(user, days, etype="episode_start", **extra):
        return {"event_type": etype, "user_id": user, "title_id": "tA", "at": DAY0 + timedelta(days=days), **extra}
    raw(db, [ev("u1", 0, "install", channel="tiktok"), ev("u1", 1), ev("u1", 7),
             ev("u2", 0, "install", channel="tiktok"), ev("u2", 30),
             ev("u3", 0, "install", channel="youtube")])
    rows = [r[:6] for r in query(db, "retention_by_cohort")]
    assert rows == [(DAY0.date(), "tiktok", 2, 1, 1, 1), (DAY0.date(), "youtube", 1, 0, 0, 0)]


def test_roas_and_cpi_by_campaign(db):
    teaser = {"event_type": "teaser_impression", "user_id": "u1", "title_id": "tA", "channel": "tiktok",
              "campaign_id": "c1", "cost_usd": 0.5, "at": DAY0}
    user = {"user_id": "u1", "title_id": "tA"}
    raw(db, [teaser] * 4 + [
        {"event_type": "install", **user, "channel": "tiktok", "campaign_id": "c1", "at": DAY0},
        {"event_type": "purchase", **user, "amount_usd": 9.99, "at": DAY0 + timedelta(hours=1)},
        {"event_type": "ad_impression", **user, "revenue_usd": 0.01, "at": DAY0 + timedelta(days=3)},
        {"event_type": "purchase", **user, "amount_usd": 5.0, "at": DAY0 + timedelta(days=9)}])   # after D7
    [row] = query(db, "roas_cpi_by_campaign")
    expected = ("tiktok", "c1", 2.0, 1, 2.0, 9.99, 10.0, 9.99 / 2.0, 10.0 / 2.0)
    assert all(close(a, b) for a, b in zip(row, expected)), row


def test_roas_by_install_cohort_d0_d7_d30_and_none_before_a_cohort_is_that_old(db):
    """DAY0 is 40 days ago: all three returns are there; a cohort of yesterday has D0 only (NULL after)."""
    def cohort(user: str, at: datetime, spend: float) -> list[dict]:
        return [{"event_type": "teaser_impression", "user_id": user, "channel": "tiktok", "cost_usd": spend, "at": at},
                {"event_type": "install", "user_id": user, "channel": "tiktok", "at": at}]
    yesterday = (NOW - timedelta(days=1)).replace(hour=0, minute=30, second=0)
    raw(db, cohort("u1", DAY0, 2.0) + cohort("u2", DAY0, 2.0) + cohort("u3", yesterday, 1.0) + [
        {"event_type": "purchase", "user_id": "u1", "amount_usd": 4.99, "at": DAY0 + timedelta(hours=2)},     # D0
        {"event_type": "ad_impression", "user_id": "u2", "revenue_usd": 0.5, "at": DAY0 + timedelta(days=3)},  # D7
        {"event_type": "purchase", "user_id": "u1", "amount_usd": 9.99, "at": DAY0 + timedelta(days=20)},     # D30
        {"event_type": "purchase", "user_id": "u1", "amount_usd": 19.99, "at": DAY0 + timedelta(days=35)},    # none
        {"event_type": "purchase", "user_id": "u3", "amount_usd": 4.99, "at": yesterday + timedelta(hours=1)}])
    rows = query(db, "roas_by_cohort")
    assert [r[1:] for r in rows] == [("tiktok", 4.0, 2, 4.99, 4.99 + 0.5, 4.99 + 0.5 + 9.99),
                                     ("tiktok", 1.0, 1, 4.99, None, None)], rows
    assert [r[0] for r in rows] == [DAY0.date(), yesterday.date()]


def test_rewarded_ad_cannibalisation(db):
    """u1 unlocks with an ad then pays; u2 paid only before its ad unlock; u3 never used an ad and paid;
    u4 saw a paywall and did neither."""
    def unlock(user: str, method: str, hours: int) -> dict:
        return {"event_type": "episode_unlocked", "user_id": user, "method": method,
                "at": DAY0 + timedelta(hours=hours)}
    paywall = [{"event_type": "paywall_shown", "user_id": u, "at": DAY0} for u in ("u1", "u2", "u3", "u4")]
    raw(db, paywall + [unlock("u1", "rewarded_ad", 1), unlock("u1", "coins", 2), unlock("u2", "subscription", 1),
                       unlock("u2", "rewarded_ad", 2), unlock("u3", "coins", 1)])
    assert query(db, "rewarded_ad_cannibalisation") == [("never unlocked with an ad", 2, 1),
                                                         ("unlocked with an ad", 2, 1)]


def test_payers_by_segment(db):
    at = NOW - timedelta(hours=1)
    seg = {"window_start": at, "gender": "female", "age_band": "45-54", "country": "US", **STAMP}
    insert(db, "segment_metrics_1m_parts", [
        {**seg, "user_id": "", "purchases": 2, "iap_revenue_usd": 30.0},
        {**seg, "user_id": "u1", "viewer": 1, "payer": 1}, {**seg, "user_id": "u2", "viewer": 1, "payer": 1},
        {**seg, "user_id": "u3", "viewer": 1}, {**seg, "user_id": "u4", "viewer": 1}])
    raw(db, [{"event_type": "user_profile", "user_id": u, "gender": "female", "age_band": "45-54", "country": "US",
              "at": at} for u in ("u1", "u2", "u3", "u4")]
        + [{"event_type": "purchase", "user_id": "u1", "title_id": "tA", "amount_usd": 20.0, "at": at},
           {"event_type": "purchase", "user_id": "u2", "title_id": "tA", "amount_usd": 10.0, "at": at}])
    [row] = query(db, "payers_by_segment")
    # 4 viewers, 2 payers, $30: rate 0.5, ARPPU $15; the top 5% of 2 payers is 1 payer, $20 of $30
    assert row[:6] == ("female", "45-54", "US", 4, 2, 30.0) and row[6:8] == (0.5, 15.0)
    assert close(row[8], 20.0 / 30.0)


def test_roi_by_origin(db):
    insert(db, "title_events", [
        {"title_id": "tA", "event_type": "script_created", "event_time": DAY0, "origin": "ai", "topic": "c",
         "audience_scale": 0.5},                      # a sample of half the audience tA is made for
        {"title_id": "tA", "event_type": "episode_released", "event_time": DAY0, "episode": 1,
         "production_cost_usd": 1000.0, "topic": "c"},
        {"title_id": "tH", "event_type": "script_created", "event_time": DAY0, "origin": "human", "topic": "c"},
        {"title_id": "tH", "event_type": "episode_released", "event_time": DAY0, "episode": 1,
         "production_cost_usd": 4000.0, "topic": "c"}])
    insert(db, "title_metrics_1m_parts", [
        {"window_start": DAY0, "title_id": "tA", "user_id": "", "iap_revenue_usd": 400.0, "ad_revenue_usd": 100.0,
         **STAMP},
        {"window_start": DAY0, "title_id": "tH", "user_id": "", "iap_revenue_usd": 1000.0, **STAMP}])
    assert query(db, "roi_by_origin") == [("ai", 1, 1000.0, 1000.0, 1.0), ("human", 1, 4000.0, 1000.0, 0.25)]


def test_recreate_loop_cycle_times_and_revenue_against_the_parent(db):
    signal_at = DAY0.replace(tzinfo=timezone.utc).timestamp()
    insert(db, "recreate_signals_log", [{"signal_id": "s1", "title_id": "tA", "trope": "revenge", "score": 9.0,
                                         "reason": "surge", "emitted_at": DAY0, "emitted_ts": signal_at,
                                         "window_start": DAY0, "window_end": DAY0}])
    insert(db, "title_events", [
        {"title_id": "tB", "event_type": "script_created", "event_time": DAY0, "event_ts": signal_at + 600,
         "origin": "ai", "parent_title_id": "tA", "signal_id": "s1", "topic": "c"},
        {"title_id": "tB", "event_type": "title_launched", "event_time": DAY0, "event_ts": signal_at + 1800,
         "topic": "c"}])
    insert(db, "title_first_views_parts", [{"title_id": "tB", "first_view_ts": signal_at + 1900, **STAMP}])
    insert(db, "title_metrics_1m_parts", [
        {"window_start": DAY0, "title_id": "tA", "user_id": "", "iap_revenue_usd": 500.0, **STAMP},
        {"window_start": DAY0, "title_id": "tB", "user_id": "", "iap_revenue_usd": 100.0, **STAMP}])
    [row] = query(db, "recreate_loop")
    assert row[:6] == ("tB", "tA", "s1", 600.0, 1200.0, 100.0) and row[6:9] == (100.0, 500.0, 0.2), row
    assert row[9:] == ("tB", "tA"), row   # no title_name sent: the ids stand in


def test_rejects_last_hour(db):
    insert(db, "events_rejected", [
        {"topic": "drama.viewing", "partition": 0, "offset": n, "reason": "invalid_field", "detail": "x", "raw": "{}"}
        for n in range(2)] + [
        {"topic": "drama.ads", "partition": 0, "offset": 9, "reason": "not_json", "detail": "x", "raw": "?"}])
    assert [r[:3] for r in query(db, "rejects_last_hour")] == [("drama.viewing", "invalid_field", 2),
                                                                 ("drama.ads", "not_json", 1)]


def test_active_users(db):
    today = NOW.replace(hour=0, minute=0, second=1)
    raw(db, [{"event_type": "like", "user_id": u, "title_id": "tA", "app_id": "a", "at": today + timedelta(days=-d)}
             for u, d in (("u1", 0), ("u2", 0), ("u3", 3), ("u4", 20), ("u5", 40))])
    assert query(db, "active_users") == [("a", 2, 3, 4)]


YESTERDAY = (NOW - timedelta(days=1)).replace(hour=12, minute=0, second=0)


def test_titles_30d(database):
    settings, db = database
    insert(db, "title_events", [{"title_id": "tA", "event_type": "script_created", "event_time": DAY0,
                                 "title_name": "The Heiress", "topic": "c"}])
    insert(db, "title_metrics_1m_parts", [
        {"window_start": YESTERDAY, "title_id": "tA", "user_id": "", "episode_starts": 3, "iap_revenue_usd": 2.0,
         **STAMP},
        {"window_start": YESTERDAY, "title_id": "tA", "user_id": "u1", **STAMP},
        {"window_start": YESTERDAY - timedelta(days=5), "title_id": "tA", "user_id": "u1", **STAMP},
        {"window_start": YESTERDAY - timedelta(days=5), "title_id": "tA", "user_id": "u2", **STAMP},
        {"window_start": YESTERDAY - timedelta(days=5), "title_id": "tB", "user_id": "", "episode_starts": 1,
         **STAMP},
        {"window_start": YESTERDAY - timedelta(days=5), "title_id": "tB", "user_id": "u1", **STAMP},
        {"window_start": YESTERDAY - timedelta(days=40), "title_id": "tA", "user_id": "u3", "episode_starts": 9,
         **STAMP},                                                      # before the 30 days
        {"window_start": NOW, "title_id": "tA", "user_id": "u4", "episode_starts": 9, **STAMP}])   # today: open
    reach.close(settings)
    assert query(db, "titles_30d") == [("tA", "The Heiress", YESTERDAY.date(), 2, 3, 2.0),
                                       ("tB", "tB", YESTERDAY.date(), 1, 1, 0.0)]


def test_active_users_closed(database):
    settings, db = database
    raw(db, [{"event_type": "like", "user_id": u, "title_id": "tA", "app_id": "a", "at": YESTERDAY - timedelta(days=d)}
             for u, d in (("u1", -1), ("u2", 0), ("u2", 3), ("u3", 3), ("u4", 20), ("u5", 40))])
    reach.close(settings)
    assert query(db, "active_users_closed") == [("a", YESTERDAY.date(), 1, 2, 3)]


def test_adaptation_30d(database):
    settings, db = database
    insert(db, "title_events", [
        {"title_id": t, "event_type": "script_created", "event_time": DAY0, "adaptation": a, "topic": "c"}
        for t, a in (("tN", "native"), ("tL", "localized"), ("tL2", "localized"))])
    insert(db, "title_metrics_1m_parts", [
        {"window_start": YESTERDAY, "title_id": t, "user_id": "", "episode_starts": s, "episode_completes": c,
         **STAMP} for t, s, c in (("tN", 4, 1), ("tL", 4, 3), ("tL2", 2, 0))])
    raw(db, [{"event_type": e, "user_id": u, "title_id": t, "at": YESTERDAY}
             for e, u, t in (("episode_start", "u1", "tN"), ("episode_start", "u2", "tN"), ("purchase", "u1", "tN"),
                             ("episode_start", "u1", "tL"), ("episode_start", "u1", "tL2"),
                             ("purchase", "u1", "tL2"), ("episode_start", "u3", "tL2"))])
    reach.close(settings)
    assert query(db, "adaptation_30d") == [("localized", YESTERDAY.date(), 0.5, 0.5),   # u1 once across titles
                                           ("native", YESTERDAY.date(), 0.25, 0.5)]


def _titles(db, specs: list[tuple]) -> None:
    """(title_id, origin, parent, [episode costs], audience_scale[, created]) → the content rows the worker writes."""
    rows = []
    for title_id, origin, parent, costs, scale, *created in specs:
        rows.append({"title_id": title_id, "event_type": "script_created", "event_time": (created or [DAY0])[0],
                     "origin": origin,
                     "parent_title_id": parent, "audience_scale": scale, "topic": "c"})
        rows += [{"title_id": title_id, "event_type": "episode_released", "event_time": DAY0, "episode": n + 1,
                  "production_cost_usd": cost, "topic": "c"} for n, cost in enumerate(costs)]
        rows.append({"title_id": title_id, "event_type": "title_launched", "event_time": DAY0, "free_episodes": 5,
                     "episodes_total": len(costs), "topic": "c"})
    insert(db, "title_events", rows)


def test_study_money(db):
    profile = lambda u, g, a, c: {"event_type": "user_profile", "user_id": u, "gender": g, "age_band": a,  # noqa
                                  "country": c, "at": DAY0}
    raw(db, [{"event_type": "purchase", "user_id": "u1", "title_id": "t", "amount_usd": 20.0, "at": DAY0},
             {"event_type": "purchase", "user_id": "u1", "title_id": "t", "amount_usd": 10.0,
              "at": DAY0 + timedelta(days=1)},                  # the same payer a day later; before the profile:
             profile("u1", "female", "45-54", "US"),            # the latest profile decides, whatever the order
             profile("u2", "male", "25-34", "GB"), profile("u3", "female", "55+", "US"),
             {"event_type": "purchase", "user_id": "u2", "title_id": "t", "amount_usd": 10.0, "at": DAY0},
             {"event_type": "ad_impression", "user_id": "u3", "title_id": "t", "revenue_usd": 2.0, "at": DAY0},
             {"event_type": "purchase", "user_id": "u4", "title_id": "t", "amount_usd": 8.0, "at": DAY0}])  # no profile
    [(us_share, women_share, payers, revenue, se)] = query(db, "study_money")
    assert (payers, revenue) == (3, 50.0) and close(us_share, 32 / 50) and close(women_share, 1 / 3)
    # users' revenue × (is US − share): u1 30 × .36, u2 10 × −.64, u3 2 × .36, u4 8 × −.64
    assert close(se, ((30 * .36) ** 2 + (10 * .64) ** 2 + (2 * .36) ** 2 + (8 * .64) ** 2) ** 0.5 / 50)


def test_study_paying_within_7_days(db):
    h = timedelta(hours=1)
    profile = lambda u, g, a, at: {"event_type": "user_profile", "user_id": u, "gender": g, "age_band": a,  # noqa
                                   "country": "US", "at": at}
    raw(db, [profile("u1", "female", "45-54", DAY0), {"event_type": "paywall_shown", "user_id": "u1", "at": DAY0 + h},
             {"event_type": "purchase", "user_id": "u1", "amount_usd": 5.0, "at": DAY0 + timedelta(days=3)},
             profile("u2", "female", "55+", DAY0 + 2 * h), {"event_type": "paywall_shown", "user_id": "u2",
                                                             "at": DAY0 + 3 * h},
             {"event_type": "purchase", "user_id": "u2", "amount_usd": 5.0, "at": DAY0 + timedelta(days=8)},  # late
             profile("u3", "male", "25-34", DAY0 + h), {"event_type": "paywall_shown", "user_id": "u3",
                                                         "at": DAY0 + 2 * h},
             {"event_type": "purchase", "user_id": "u3", "amount_usd": 5.0, "at": DAY0 + timedelta(days=1)},
             profile("u4", "female", "45-54", DAY0 + timedelta(days=2)),        # not a first-day newcomer
             {"event_type": "paywall_shown", "user_id": "u4", "at": DAY0 + timedelta(days=2, hours=1)},
             profile("u5", "female", "45-54", DAY0 + h)])                        # never reached a paywall
    assert query(db, "study_paying_within_7_days") == [("women 45+", 2, 1, 0.5, 7.0), ("everyone else", 1, 1, 1.0, 7.0)]


def test_study_catalog(db):
    _titles(db, [("tH", "human", "", [100_000.0, 100_000.0], 0.01), ("tA1", "ai", "", [50_000.0, 50_000.0], 0.01),
                 ("tA2", "ai", "", [40_000.0], 0.01), ("tS", "ai", "tA1", [12_500.0, 12_500.0], 0.01),
                 ("tM", "human", "", [4_700.0, 4_700.0], 0.01), ("tY", "hybrid", "", [30_000.0], 0.01)])
    insert(db, "title_events", [{"title_id": "tN", "event_type": "script_created", "event_time": DAY0, "origin": "ai",
                                 "parent_title_id": "tA2", "topic": "c"}])       # a sequel not launched yet
    insert(db, "title_metrics_1m_parts", [{"window_start": DAY0, "title_id": t, "user_id": "", "iap_revenue_usd": usd,
                                           **STAMP} for t, usd in (("tH", 50.0), ("tA1", 10.0), ("tS", 1.0))])
    insert(db, "episode_metrics_1m_parts", [{"window_start": DAY0, "title_id": "tA1", "episode": e,
                                             "paywalls_shown": n, "starts": 1, **STAMP}
                                            for e, n in ((3, 0), (6, 1), (7, 2))])
    [row] = query(db, "study_catalog")
    assert row[:3] == (7, 4 / 7, 2) and close(row[3], 140_000 / 3) and row[4:] == (4700.0, "tH", 200_000.0, 5, 5, 6)


def test_study_marketing_share(db):
    year = 365 * 86400
    last = DAY0 + timedelta(seconds=year // 10)                               # the data spans a tenth of a year
    _titles(db, [("tA", "ai", "", [1_000_000.0], 0.01, DAY0 - timedelta(days=2)),      # made before the data
                 ("tB", "ai", "", [400_000.0], 0.01, DAY0 + timedelta(seconds=year // 20))])  # made half-way
    raw(db, [{"event_type": "like", "user_id": "u1", "title_id": "tA", "at": DAY0},
             {"event_type": "like", "user_id": "u1", "title_id": "tA", "at": last}])
    insert(db, "title_metrics_1m_parts", [{"window_start": DAY0, "title_id": "tA", "user_id": "",
                                           "ad_spend_usd": 2_800.0, **STAMP}])
    [(spend_full, amortized, share, days)] = query(db, "study_marketing_share")
    # tA: a tenth of a year of its 1M; tB: a twentieth of its 400k; spend at the full audience: 2,800 ÷ 0.01
    assert (spend_full, days) == (280_000.0, 36.5) and close(amortized, 120_000.0) and close(share, 0.7)


def test_study_hit_lifetime(db):
    base = NOW - timedelta(days=400)
    _titles(db, [("tH", "human", "", [1000.0], 0.5), ("tX", "ai", "", [10.0], 0.5)])
    insert(db, "title_metrics_1m_parts", [{"window_start": DAY0, "title_id": t, "user_id": "", "iap_revenue_usd": usd,
                                           **STAMP} for t, usd in (("tH", 100.0), ("tX", 1.0))])
    profile = lambda u, at: {"event_type": "user_profile", "user_id": u, "gender": "female", "age_band": "55+",  # noqa
                             "country": "US", "at": at}
    raw(db, [profile("u0", base), {"event_type": "purchase", "user_id": "u0", "title_id": "tH", "amount_usd": 10.0,
                                   "at": base + timedelta(hours=1)},
             {"event_type": "purchase", "user_id": "u0", "title_id": "tX", "amount_usd": 5.0, "at": base},  # not hit
             profile("u1", base + timedelta(days=1)),
             {"event_type": "ad_impression", "user_id": "u1", "title_id": "tH", "revenue_usd": 4.0,
              "at": base + timedelta(days=30)},                 # a newcomer's later spending counts for their day
             profile("u2", base + timedelta(days=365))])        # a day whose newcomers the hit earned nothing from
    assert query(db, "study_hit_lifetime") == [(0, 10.0, 1000.0, 0.5, "tH"), (1, 4.0, 1000.0, 0.5, "tH"),
                                               (365, 0.0, 0.0, 0.0, "")]


def script(title: str, name: str = "", parent: str = "", at: datetime = DAY0, **extra) -> dict:
    return {"title_id": title, "event_type": "script_created", "event_time": at, "title_name": name, "topic": "c",
            "trope": "revenge", "origin": "ai", "adaptation": "native", "parent_title_id": parent,
            "audience_scale": 1.0, **extra}


def test_live_titles_1m_names_titles_and_folds_all_but_the_top_8_into_others(db):
    insert(db, "title_events", [script("t0", "The Heiress")])
    minute = NOW.replace(second=0) - timedelta(minutes=5)
    insert(db, "title_metrics_1m_parts", [
        {"window_start": minute, "title_id": f"t{n}", "user_id": "", "episode_starts": 20 - n, **STAMP}
        for n in range(10)] + [
        {"window_start": minute - timedelta(hours=25), "title_id": "t0", "user_id": "", "episode_starts": 5, **STAMP}])
    rows = query(db, "live_titles_1m")
    assert sorted((r[1], r[2], r[3], r[6], r[13]) for r in rows) == sorted(
        [("t0", "The Heiress", "revenge", "The Heiress", 20)]
        + [(f"t{n}", f"t{n}", "unknown", f"t{n}", 20 - n) for n in range(1, 8)]    # no script_created: the id
        + [("t8", "t8", "unknown", "others", 12), ("t9", "t9", "unknown", "others", 11)])   # 24 h and older: out


def test_titles_1d_days_since_launch_and_lineage(db):
    launched = (NOW - timedelta(days=2)).replace(hour=6, minute=0, second=0)
    insert(db, "title_events", [script("tA", "The Heiress"), script("tB", parent="tA"),
                                {"title_id": "tA", "event_type": "title_launched", "event_time": launched,
                                 "topic": "c"}])
    insert(db, "title_metrics_1m_parts", [
        {"window_start": launched + timedelta(hours=1), "title_id": "tA", "user_id": "", "episode_starts": 3, **STAMP},
        {"window_start": NOW, "title_id": "tA", "user_id": "", "episode_starts": 4, **STAMP},
        {"window_start": NOW, "title_id": "tB", "user_id": "", "episode_starts": 1, **STAMP}])
    rows = sorted((r[1], r[2], r[6], r[7], r[14]) for r in query(db, "titles_1d"))
    assert rows == [("tA", "The Heiress", "original", 0, 3), ("tA", "The Heiress", "original", 2, 4),
                    ("tB", "tB", "derived", None, 1)]


def test_pipeline_1m_and_rejects_24h_keep_the_last_day(db):
    insert(db, "pipeline_health_1m_parts", [
        {"window_start": NOW.replace(second=0), "events_in": 10, "rejected": 1, "max_event_lag_s": 2.5, **STAMP},
        {"window_start": NOW.replace(second=0) - timedelta(days=2), "events_in": 7, **STAMP}])
    assert [r[1:6] + r[6:] for r in query(db, "pipeline_1m")] == [(10, 0, 0, 1, 0, 2.5)]
    db.execute("INSERT INTO events_rejected (topic, partition, offset, reason, detail, raw, rejected_at) VALUES",
               [("drama.ads", 0, 1, "not_json", "x", "?", NOW), ("drama.ads", 0, 2, "not_json", "x", "?",
                                                                  NOW - timedelta(days=2))])
    assert [r[1:3] for r in query(db, "rejects_24h")] == [("drama.ads", "not_json")]


def test_freshness_is_the_age_of_the_newest_event(db):
    assert query(db, "freshness")[0][1] == 3600                # nothing in the last hour
    raw(db, [{"event_type": "like", "user_id": "u1", "title_id": "tA", "at": NOW - timedelta(seconds=40)},
             {"event_type": "like", "user_id": "u1", "title_id": "tA", "at": NOW - timedelta(seconds=400)}])
    (checked_at, freshness), = query(db, "freshness")
    assert 40 <= freshness <= 40 + (checked_at - NOW).total_seconds() + 1


def test_signals_named(db):
    insert(db, "title_events", [script("tA", "The Heiress")])
    insert(db, "recreate_signals_log", [{"signal_id": "s1", "title_id": "tA", "trope": "x", "score": 30.0,
                                         "reason": "surge", "emitted_at": NOW, "window_start": NOW,
                                         "window_end": NOW}])
    assert [r[:6] for r in query(db, "signals_named")] == [("s1", "tA", "The Heiress", "revenge", 30.0, "surge")]


def test_distribution_1d(db):
    def ev(etype, **extra):
        return {"event_type": etype, "user_id": "u1", "title_id": "tA", "at": NOW - timedelta(hours=1),
                "channel": "tiktok", "campaign_id": "c1", **extra}
    raw(db, [ev("teaser_impression", cost_usd=0.5), ev("teaser_impression", cost_usd=0.25),
             ev("teaser_view", watch_ms=3000), ev("teaser_view", watch_ms=2999), ev("teaser_click"), ev("install"),
             {**ev("install"), "at": NOW - timedelta(days=100)}])       # older than 90 days
    assert [r[1:] for r in query(db, "distribution_1d")] == [("app", "tiktok", "c1", 2, 1, 1, 1, 0.75)]


def test_titles_catalog_lineage_and_parent_name(db):
    insert(db, "title_events", [script("tA", "The Heiress"), script("tB", parent="tA")] + [
        {"title_id": title, "event_type": "episode_released", "event_time": DAY0, "episode": 1,
         "production_cost_usd": cost, "topic": "c"} for title, cost in (("tA", 1000.0), ("tB", 200.0))])
    insert(db, "title_metrics_1m_parts", [{"window_start": NOW, "title_id": "tA", "user_id": "",
                                           "iap_revenue_usd": 50.0, **STAMP}])
    rows = sorted(query(db, "titles_catalog"))
    assert [(r[0], r[1], r[5], r[7], r[11], r[12]) for r in rows] == [
        ("tA", "The Heiress", "original", "", 1000.0, 50.0), ("tB", "tB", "derived", "The Heiress", 200.0, 0.0)]


def test_every_query_file_has_a_test_here():
    tested = set(re.findall(r'query\(db, "(\w+)"', Path(__file__).read_text()))
    assert tested == {path.stem for path in QUERIES.glob("*.sql")}


def test_events_raw_has_typed_columns_for_the_common_fields(db):
    raw(db, [{"event_type": "purchase", "user_id": "u1", "title_id": "tA", "product": "coins_pack",
              "amount_usd": 9.99, "coins": 1100, "at": DAY0},
             {"event_type": "episode_exit", "user_id": "u1", "title_id": "tA", "episode": 7, "session_id": "s-1",
              "position_s": 12.5, "rebuffer_ms": 40, "at": DAY0},
             {"event_type": "teaser_impression", "user_id": "u1", "title_id": "tA", "channel": "tiktok",
              "campaign_id": "c1", "cost_usd": 0.02, "at": DAY0}])
    rows = db.execute("SELECT event_type, product, amount_usd, coins, episode, session_id, position_s, rebuffer_ms, "
                      "channel, campaign_id, cost_usd FROM events_raw ORDER BY event_type")
    assert rows == [("episode_exit", "", 0.0, 0, 7, "s-1", 12.5, 40, "", "", 0.0),
                    ("purchase", "coins_pack", 9.99, 1100, 0, "", 0.0, 0, "", "", 0.0),
                    ("teaser_impression", "", 0.0, 0, 0, "", 0.0, 0, "tiktok", "c1", 0.02)]


def test_title_forecast_features_see_each_original_title_up_to_its_cutoff(db):
    """tA launched 2 days ago, seen 12 hours in (hours=12): what it did before launch + 12 h, its
    second half (6-12 h) apart, its first paywall (episode 6: free 5); tB (derived) and tC (launched
    9 days ago) are not scored; tD launched 3 hours ago is seen 3 hours in (as_of comes first)."""
    launched = (NOW - timedelta(days=2)).replace(minute=0, second=0)
    recent = (NOW - timedelta(hours=3)).replace(second=0)
    insert(db, "title_events", [
        script("tA", "The Heiress"), script("tB", parent="tA"), script("tC"), script("tD", origin="human"),
        {"title_id": "tA", "event_type": "title_launched", "event_time": launched, "topic": "c", "free_episodes": 5,
         "episodes_total": 80},
        {"title_id": "tA", "event_type": "episode_released", "event_time": launched, "topic": "c",
         "production_cost_usd": 50000.0, "episode": 1},
        {"title_id": "tB", "event_type": "title_launched", "event_time": launched, "topic": "c"},
        {"title_id": "tC", "event_type": "title_launched", "event_time": NOW - timedelta(days=9), "topic": "c"},
        {"title_id": "tD", "event_type": "title_launched", "event_time": recent, "topic": "c", "free_episodes": 5}])
    insert(db, "title_metrics_1m_parts", [
        {"window_start": launched + timedelta(hours=1), "title_id": "tA", "user_id": "u1", "teaser_impressions": 100,
         "teaser_views": 50, "hook_views": 20, "teaser_clicks": 4, "installs": 2, "ad_spend_usd": 1.8,
         "episode_starts": 10, "episode_completes": 8, "likes": 3, "iap_revenue_usd": 4.99, **STAMP},
        {"window_start": launched + timedelta(hours=1), "title_id": "tA", "user_id": "u2", "episode_starts": 5,
         **STAMP},
        {"window_start": launched + timedelta(hours=7), "title_id": "tA", "user_id": "u1", "episode_starts": 2,
         "installs": 1, "ad_revenue_usd": 0.5, "shares": 1, **STAMP},
        {"window_start": launched + timedelta(hours=7), "title_id": "tA", "user_id": "u3", "episode_starts": 1,
         **STAMP},
        {"window_start": launched + timedelta(hours=12), "title_id": "tA", "user_id": "u4", "episode_starts": 99,
         "iap_revenue_usd": 100.0, **STAMP},                                    # at the cutoff: not seen
        {"window_start": launched + timedelta(hours=1), "title_id": "tB", "user_id": "u9", "episode_starts": 7,
         **STAMP},
        {"window_start": recent + timedelta(hours=1), "title_id": "tD", "user_id": "u5", "episode_starts": 4,
         **STAMP}])
    insert(db, "episode_metrics_1m_parts", [
        {"window_start": launched + timedelta(hours=2), "title_id": "tA", "episode": 1, "starts": 6, **STAMP},
        {"window_start": launched + timedelta(hours=2), "title_id": "tA", "episode": 5, "completes": 3, **STAMP},
        {"window_start": launched + timedelta(hours=3), "title_id": "tA", "episode": 6, "paywalls_shown": 3,
         "unlocks": 1, **STAMP},
        {"window_start": launched + timedelta(hours=13), "title_id": "tA", "episode": 6, "paywalls_shown": 9,
         "unlocks": 9, **STAMP}])
    assert [r[0] for r in query(db, "title_forecast_features", {"as_of": NOW, "hours": 12})] == ["tA", "tD"]
    found = {r["title_id"]: r for r in named(db, "title_forecast_features", {"as_of": NOW, "hours": 12})}
    assert set(found) == {"tA", "tD"}
    a = found["tA"]
    assert a["hours_since_launch"] == 12 and a["origin"] == "ai" and a["free"] == 5
    assert (a["impressions"], a["views"], a["hooks"], a["clicks"], a["installs"]) == (100, 50, 20, 4, 3)
    assert (a["starts"], a["completes"], a["likes"], a["shares"], a["viewers"]) == (18, 8, 3, 1, 3)
    assert abs(a["iap_revenue"] - 4.99) < 1e-9 and abs(a["ad_revenue"] - 0.5) < 1e-9
    assert (a["starts_late"], a["installs_late"], a["viewers_late"]) == (3, 1, 2)
    assert abs(a["revenue_late"] - 0.5) < 1e-9
    assert (a["first_starts"], a["free_completes"]) == (6, 3)
    assert (a["paywall_shown_first"], a["paywall_unlocks_first"]) == (3, 1)
    assert abs(a["production_cost"] - 50000.0) < 1e-9
    d = found["tD"]
    assert abs(d["hours_since_launch"] - (NOW - recent).total_seconds() / 3600) < 1e-9
    assert d["starts"] == 4 and d["origin"] == "human"


def test_hit_watch_and_hit_outcomes(db):
    """tA launched 40 days ago at half the audience: its forecast at 24 h (the first score from 24 h on)
    said it would not pay back; its first 30 days' revenue at the full audience (110 ÷ 0.5) covers its
    cost and teaser spend (30 + 20 ÷ 0.5), later revenue not counted: a miss. tB launched 2 days ago:
    open, and the only title on the newest moment scored."""
    launched_a, launched_b = DAY0, (NOW - timedelta(days=2)).replace(second=0)
    insert(db, "title_events", [
        script("tA", "The Heiress", audience_scale=0.5), script("tB", at=launched_b),
        {"title_id": "tA", "event_type": "title_launched", "event_time": launched_a, "topic": "c"},
        {"title_id": "tA", "event_type": "episode_released", "event_time": launched_a, "topic": "c",
         "production_cost_usd": 30.0, "episode": 1},
        {"title_id": "tB", "event_type": "title_launched", "event_time": launched_b, "topic": "c"}])
    insert(db, "title_metrics_1m_parts", [
        {"window_start": launched_a + timedelta(days=1), "title_id": "tA", "user_id": "u1", "iap_revenue_usd": 100.0,
         "ad_revenue_usd": 10.0, "ad_spend_usd": 20.0, **STAMP},
        {"window_start": launched_a + timedelta(days=31), "title_id": "tA", "user_id": "u1",
         "iap_revenue_usd": 1000.0, **STAMP},                                     # after its 30 days
        {"window_start": NOW - timedelta(hours=2), "title_id": "tB", "user_id": "u2", "episode_starts": 1, **STAMP}])
    score = lambda t, at, hours, p: {"title_id": t, "as_of": at, "hours_since_launch": hours,  # noqa: E731
                                     "p_payback": p, "p_hit": None, "model_version": "v", "viewers": 1}
    insert(db, "title_forecasts_log", [
        score("tA", launched_a + timedelta(hours=12), 12.0, 0.9),
        score("tA", launched_a + timedelta(hours=24), 24.0, 0.3),
        score("tA", launched_a + timedelta(hours=25), 25.0, 0.8), score("tB", NOW - timedelta(hours=1), 47.0, 0.6)])
    assert len(query(db, "hit_watch")) == 4 and len(query(db, "hit_outcomes")) == 2
    watch = named(db, "hit_watch", {})
    assert sorted((r["title_name"], r["hours_since_launch"], r["latest"]) for r in watch) == [
        ("The Heiress", 12.0, 0), ("The Heiress", 24.0, 0), ("The Heiress", 25.0, 0), ("tB", 47.0, 1)]
    outcomes = {r["title_id"]: r for r in named(db, "hit_outcomes", {})}
    assert set(outcomes) == {"tA", "tB"}
    a, b = outcomes["tA"], outcomes["tB"]
    assert (a["p_payback_24h"], a["forecast_pays_back"], a["cost_usd"]) == (0.3, 0, 30.0)
    assert close(a["revenue_full_usd"], 220.0) and close(a["spend_full_usd"], 40.0)
    assert (a["paid_back"], a["outcome_known"], a["verdict"]) == (1, 1, "miss")
    assert (b["p_payback_24h"], b["outcome_known"], b["verdict"]) == (0.6, 0, "open")
