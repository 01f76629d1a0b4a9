"""The golden set (../shared/golden/v1) replayed into the real stack: every row, every column."""
import json
import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from producer import EventProducer
from schemas.events import EpisodeComplete, EpisodeStart, Purchase, ScriptCreated
from tests import golden
from tests.conftest import wait_for
from warehouse.client import connect


def test_the_golden_replay_matches_expected_exactly(pipeline):
    settings = pipeline()
    client = connect(settings)
    golden.replay(settings, client)
    assert golden.differences(client) == []


def ratio(num: float, den: float):
    return None if den == 0 else num / den


def test_kpi_views_are_ratios_of_sums_not_averages_of_ratios(pipeline):
    settings = pipeline()
    client = connect(settings)
    golden.replay(settings, client)
    want = golden.expected()
    sums: dict = {}
    for row in want["title_metrics_1m"]:
        day = sums.setdefault(row["title_id"], {})
        for column, value in row.items():
            if isinstance(value, (int, float)):
                day[column] = day.get(column, 0) + value
    found = {r[0]: r[1:] for r in client.execute(
        "SELECT title_id, completion_rate, hook_rate, roas, rebuffer_ms_sum_ratio FROM "
        "(SELECT title_id, completion_rate, hook_rate, roas, rebuffer_ratio AS rebuffer_ms_sum_ratio "
        "FROM title_kpis_1d)")}
    for title, s in sums.items():
        expected = (ratio(s["episode_completes"], s["episode_starts"]), ratio(s["hook_views"], s["teaser_impressions"]),
                    ratio(s["iap_revenue_usd"] + s["ad_revenue_usd"], s["ad_spend_usd"]),
                    ratio(s["rebuffer_ms_sum"], 1000 * s["watch_seconds"] + s["rebuffer_ms_sum"]))
        assert all(golden._same(a, b) for a, b in zip(found[title], expected)), (title, found[title], expected)
    revenue = {t: s["iap_revenue_usd"] + s["ad_revenue_usd"] for t, s in sums.items()}
    for title_id, roi in client.execute("SELECT title_id, roi FROM title_roi"):
        cost = next(t["production_cost_usd"] for t in want["titles"] if t["title_id"] == title_id)
        assert golden._same(roi, revenue.get(title_id, 0.0) / cost)

    # adaptation_kpis and cultural_discount (0005_kpi_views.sql), against metrics-v1.md: completion rate
    # is the ratio of title_metrics_1m's sums (late events are in no window, so in no KPI); payer rate is
    # distinct payers ÷ distinct viewers of the adaptation's titles; discount = 1 − native ÷ localized.
    adaptation = {t["title_id"]: t["adaptation"] for t in want["titles"]}
    starters, payers = audience(want)
    expected = adaptation_kpis(adaptation, sums, starters, payers)
    assert_adaptation_kpis(client, expected)
    # The golden set has no native title: the native KPIs are 0/0, so is the discount (NULL, not 1.0).
    assert cultural_discount(client) == discount(expected) == (None, None)

    # A native title (the golden set has none), so the discount has something to compare.
    native = [ScriptCreated(event_id="n-script", event_time="2026-01-05T12:05:00Z", app_id="studio", title_id="n-t0",
                            trope="hidden_ceo", genre="romance", origin="human", adaptation="native")]
    at = dict(event_time="2026-01-05T12:06:00Z", app_id="app-reel", title_id="n-t0")
    for n in range(4):                                  # 4 viewers, 5 starts, 3 completes, 1 payer
        user = dict(at, user_id=f"n-u{n}", session_id=f"n-s{n}")
        native.append(EpisodeStart(event_id=f"n-start-{n}", episode=1, startup_ms=900, **user))
        if n < 3:
            native.append(EpisodeComplete(event_id=f"n-complete-{n}", episode=1, watch_s=80.0, rebuffer_ms=0, **user))
    native.append(EpisodeStart(event_id="n-start-4", episode=2, startup_ms=900, **dict(at, user_id="n-u0",
                                                                                       session_id="n-s0")))
    native.append(Purchase(event_id="n-buy-0", product="coins_pack", amount_usd=4.99, coins=500,
                           **dict(at, user_id="n-u0")))
    with EventProducer(settings) as events:
        for event in native:
            events.send(event)
    total = len(golden.messages()) + len(native)
    assert wait_for(lambda: golden.settled(client, total), True, timeout=60), "the native title was not processed"
    adaptation["n-t0"] = "native"
    sums["n-t0"] = {"episode_starts": 5, "episode_completes": 3}
    starters["native"], payers["native"] = {f"n-u{n}" for n in range(4)}, {"n-u0"}
    expected = adaptation_kpis(adaptation, sums, starters, payers)
    assert expected["native"] == (3 / 5, 1 / 4)
    assert_adaptation_kpis(client, expected)
    completion, payer = cultural_discount(client)
    assert discount(expected) == (1 - (3 / 5) / expected["localized"][0], 1 - (1 / 4) / expected["localized"][1])
    assert golden._same(completion, discount(expected)[0]) and golden._same(payer, discount(expected)[1]), (
        (completion, payer), discount(expected))


# --- the KPIs by adaptation, computed without the warehouse ----------------------------------------
TOPIC_OF = {"episode_start": "drama.viewing", "episode_complete": "drama.viewing", "purchase": "drama.paywall"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
ALLOWED_LATENESS = timedelta(seconds=3600)


def audience(want: dict) -> tuple[dict, dict]:
    """adaptation → distinct users with an on-time episode_start, and with an on-time purchase, from
    messages.jsonl: first copy of each event_id, the malformed ones left out by plain rules, the late
    ones (over ALLOWED_LATENESS before the set's first window) apart. Checked against expected.json's
    counts and each window's unique_viewers, so the rules cannot silently drift from the golden set."""
    events, seen = [], set()
    for message in golden.messages():
        try:
            event = json.loads(message["raw"])
        except ValueError:
            continue
        if not isinstance(event, dict) or event.get("event_id") in seen:
            continue
        kind = event.get("event_type")
        if kind not in TOPIC_OF or message["topic"] != TOPIC_OF[kind] or event.get("schema_version") != 1:
            continue
        if kind != "purchase" and not (type(event.get("episode")) is int and event["episode"] >= 1
                                       and isinstance(event.get("session_id"), str)):
            continue
        if not RFC3339.match(str(event.get("event_time"))):
            continue
        seen.add(event["event_id"])
        event["at"] = datetime.fromisoformat(event["event_time"]).astimezone(timezone.utc).replace(tzinfo=None)
        events.append(event)
    assert {k: sum(e["event_type"] == k for e in events) for k in TOPIC_OF} == {
        k: want["events_raw_by_type"][k] for k in TOPIC_OF}
    first_window = datetime.fromisoformat(want["base"]).astimezone(timezone.utc).replace(tzinfo=None)
    on_time = [e for e in events if e["at"] >= first_window - ALLOWED_LATENESS]
    assert len(events) - len(on_time) == want["late"]
    by_window = defaultdict(set)
    for e in on_time:
        if e["event_type"] == "episode_start":
            by_window[(f"{e['at']:%Y-%m-%d %H:%M}:00", e["title_id"])].add(e["user_id"])
    assert {k: len(v) for k, v in by_window.items()} == {(r["window_start"], r["title_id"]): r["unique_viewers"]
                                                         for r in want["title_metrics_1m"] if r["unique_viewers"]}
    adaptation = {t["title_id"]: t["adaptation"] for t in want["titles"]}
    starters, payers = defaultdict(set), defaultdict(set)
    for e in on_time:
        if e["event_type"] != "episode_complete":
            (starters if e["event_type"] == "episode_start" else payers)[adaptation[e["title_id"]]].add(e["user_id"])
    return starters, payers


def adaptation_kpis(adaptation: dict, sums: dict, starters: dict, payers: dict) -> dict:
    """adaptation → (completion rate, payer rate), for each adaptation with viewing or paying."""
    starts, completes = defaultdict(int), defaultdict(int)
    for title, s in sums.items():
        starts[adaptation[title]] += s["episode_starts"]
        completes[adaptation[title]] += s["episode_completes"]
    return {a: (ratio(completes[a], starts[a]), ratio(len(payers[a]), len(starters[a])))
            for a in set(starts) | set(payers) if starts[a] or payers[a]}


def discount(kpis: dict) -> tuple:
    """1 − KPI(native) ÷ KPI(localized), per KPI; None where either side is undefined or localized is 0."""
    native, localized = kpis.get("native", (None, None)), kpis.get("localized", (None, None))
    return tuple(None if n is None or not loc else 1 - n / loc for n, loc in zip(native, localized))


def assert_adaptation_kpis(client, expected: dict) -> None:
    found = {a: (c, p) for a, c, p in client.execute(
        "SELECT adaptation, completion_rate, payer_rate FROM adaptation_kpis")}
    assert found.keys() == expected.keys() and all(
        golden._same(f, e) for a in expected for f, e in zip(found[a], expected[a])), (found, expected)


def cultural_discount(client) -> tuple:
    (row,) = client.execute("SELECT completion_rate_discount, payer_rate_discount FROM cultural_discount")
    return row
