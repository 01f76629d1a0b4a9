"""The simulator's stream: deterministic, valid by the contract, faults injected as asked."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from schemas.validate import Accepted, Rejected, parse_event_time, validate
from simulator import calibration as cal
from simulator import report
from simulator.world import ALLOWED_LATENESS_S, Faults, World

START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def run(hours: float, **kwargs) -> list:
    world = World(start=START, **kwargs)
    return list(world.stream(START + timedelta(hours=hours)))


@pytest.mark.slow   # seconds each: make test runs it, make check does not
def test_the_same_seed_and_start_give_the_same_stream_byte_for_byte():
    faults = Faults(duplicates=0.02, late=0.01, out_of_order=0.03, malformed=0.01)
    first = run(3, seed=11, users_per_day=3000, faults=faults)
    assert first == run(3, seed=11, users_per_day=3000, faults=faults)
    assert first != run(3, seed=12, users_per_day=3000, faults=faults)


def test_without_faults_every_message_is_valid_and_on_its_topic():
    stream = run(2, seed=3, users_per_day=4000)
    verdicts = [validate(e.value, e.topic) for e in stream]
    assert all(isinstance(v, Accepted) for v in verdicts), [v for v in verdicts if isinstance(v, Rejected)][:3]
    types = Counter(v.event["event_type"] for v in verdicts)
    assert {"script_created", "episode_released", "title_launched", "teaser_impression", "install", "user_profile",
            "episode_start", "episode_complete", "paywall_shown", "episode_unlocked", "ad_impression"} <= set(types)
    keys = {(e.topic, e.key) for e in stream if e.topic == "drama.viewing"}
    assert all(key and key.startswith(b"sim3-") and b"-u" in key for _, key in keys)   # keyed by user_id


@pytest.mark.slow   # seconds each: make test runs it, make check does not
def test_faults_are_injected_at_their_rates():
    stream = run(4, seed=5, users_per_day=4000,
                 faults=Faults(duplicates=0.02, late=0.01, out_of_order=0.0, malformed=0.01))
    events = [e for e in stream if e.event_type]
    malformed = [e for e in stream if not e.event_type]
    ids = Counter(validate(e.value, e.topic).event["event_id"] for e in events)
    duplicates = sum(n - 1 for n in ids.values())
    assert 0.015 < duplicates / len(ids) < 0.025
    assert 0.007 < len(malformed) / len(ids) < 0.013
    reasons = Counter(validate(e.value, e.topic).reason for e in malformed)
    assert set(reasons) == {"not_json", "not_object", "unsupported_version", "unknown_event_type", "wrong_topic",
                            "missing_field", "invalid_field", "bad_event_time"}
    # a late event is emitted more than ALLOWED_LATENESS after its own event time
    late = [e for e in events if (e.emit_time.replace(tzinfo=None)
                                  - parse_event_time(validate(e.value, e.topic).event["event_time"])).total_seconds()
            > ALLOWED_LATENESS_S]
    assert 0.006 < len(late) / len(ids) < 0.014


@pytest.mark.slow
def test_a_simulated_day_meets_every_calibration_figure_within_its_tolerance():
    import orjson
    world = World(seed=7, start=START, users_per_day=10_000)
    found = report.figures(orjson.loads(e.value) for e in world.stream(START + timedelta(days=1)))
    failures = [(ref.name, value, ref.value, tolerance) for ref, value, ok, tolerance, _ in report.check(found)
                if ok is False]
    assert not failures, report.render(found)
    assert found["payers"] > 400


def test_the_studio_answer_is_a_cheap_sequel_carrying_its_signal():
    world = World(seed=1, start=START, users_per_day=1000)
    stream = world.stream(START + timedelta(hours=1))
    next(stream)
    parent = world.titles[2]
    title = world.answer_signal(parent.title_id, "sig-42")
    rest = [validate(e.value, e.topic).event for e in stream]
    script = next(e for e in rest if e["event_type"] == "script_created" and e["title_id"] == title.title_id)
    assert (script["parent_title_id"], script["signal_id"]) == (parent.title_id, "sig-42")
    assert any(e["event_type"] == "title_launched" and e["title_id"] == title.title_id for e in rest)
    costs = [e["production_cost_usd"] for e in rest if e["event_type"] == "episode_released"
             and e["title_id"] == title.title_id]
    assert len(costs) == title.episodes and cal.SEQUEL_EPISODES[0] <= title.episodes <= cal.SEQUEL_EPISODES[1]
    virtual = cal.VIRTUAL_ACTOR_EPISODE_USD * cal.SEQUEL_COST_SHARE      # the parent's cast, storyboarded by AI
    assert max(costs) == virtual and sum(costs) < 0.25 * cal.VIRTUAL_ACTOR_EPISODE_USD * parent.episodes


@pytest.mark.slow   # seconds each: make test runs it, make check does not
def test_the_studio_makes_one_sequel_per_title_a_week_and_keeps_the_ai_share():
    world = World(seed=2, start=START, users_per_day=1000)
    stream = world.stream(None)
    for _ in stream:
        if world.now > START + timedelta(hours=1):
            break
    first = world.answer_signal(world.titles[1].title_id, "sig-1")
    assert first is not None and world.answer_signal(world.titles[1].title_id, "sig-2") is None
    assert world.answer_signal(first.title_id, "sig-on-the-sequel") is None          # in its first week
    for n in range(3, 12):                                     # a sequel for every other original
        world.answer_signal(world.titles[n].title_id, f"sig-{n}")
    ai = sum(t.origin == "ai" for t in world.titles) / len(world.titles)
    assert abs(ai - cal.ORIGINS[0][1]) <= 1 / len(world.titles)
    for _ in stream:                                           # a week on, the title may have another
        if world.now > START + timedelta(days=7, hours=2):
            break
    assert world.answer_signal(world.titles[1].title_id, "sig-3") is not None
    assert world.answer_signal(first.title_id, "sig-4") is not None


def test_a_catalog_of_any_size_keeps_the_industry_mix_with_a_human_shot_title_besides_the_hit():
    for seed in range(20):
        titles = World(seed=seed, start=START).titles
        origins = Counter(t.origin for t in titles[1:])
        assert origins["ai"] == round(cal.ORIGINS[0][1] * len(titles)) and origins["human"] >= 1
        assert titles[0].hit and titles[0].origin == "human"


def test_a_sampled_year_shares_the_catalog_and_keeps_every_id_apart():
    from simulator.world import Cohort
    plain = World(seed=3, start=START)
    first = World(seed=3, start=START, cohort=Cohort("a0", 0, catalog=True, days=0.02))
    later = World(seed=3, start=START + timedelta(days=90), cohort=Cohort("a90", 90, days=0.02))
    assert [(t.title_id, t.origin, t.episodes) for t in first.titles] == \
        [(t.title_id, t.origin, t.episodes) for t in plain.titles] == [(t.title_id, t.origin, t.episodes)
                                                                         for t in later.titles]
    assert later.titles[0].weight < first.titles[0].weight == plain.titles[0].weight   # the hit has aged
    a = [validate(e.value, e.topic).event for e in first.stream()]
    b = [validate(e.value, e.topic).event for e in later.stream()]
    assert {e["event_type"] for e in a} >= {"script_created", "purchase"} and "script_created" not in \
        {e["event_type"] for e in b}
    assert not {e["event_id"] for e in a} & {e["event_id"] for e in b}
    assert not {e.get("user_id") for e in a} - {None} & {e.get("user_id") for e in b}
    arrivals = [parse_event_time(e["event_time"]) for e in b if e["event_type"] == "user_profile"]
    assert max(arrivals) < (START + timedelta(days=90.03)).replace(tzinfo=None)       # newcomers of that day only
    assert max(parse_event_time(e["event_time"]) for e in b) > max(arrivals)         # followed after it


def slate_run(days: float = 2.0, seed: int = 11):
    """A small world with the release slate on: its events (decoded) and the world."""
    import orjson
    world = World(seed=seed, start=START, users_per_day=600, slate_per_day=6)
    events = [orjson.loads(e.value) for e in world.stream(START + timedelta(days=days)) if e.event_type]
    return world, events


def test_the_slate_launches_new_titles_all_through_the_run_and_sends_no_appeal_or_label():
    world, events = slate_run()
    launched = {e["title_id"]: e["event_time"] for e in events if e["event_type"] == "title_launched"}
    slate = [t for t in world.titles if t.slate]
    assert 4 <= len(slate) <= 24                                  # 6 a day over 2 days, Poisson: 12 ± 3.5
    assert all(t.title_id in launched for t in slate if t.launched_at < START + timedelta(days=2))
    assert len({launched[t.title_id][:13] for t in slate if t.title_id in launched}) > 3   # spread over hours
    assert not any(k.startswith("sim_") and k != "sim_audience_scale" for e in events for k in e)
    assert not any("appeal" in e or "hit" in e for e in events)
    assert len({round(t.appeal, 3) for t in slate}) == len(slate)   # drawn, each its own


def test_the_truth_is_each_slate_titles_own_revenue_and_teaser_spend_at_the_full_audience():
    world, events = slate_run()
    until = START + timedelta(days=2)
    truth = {t["title_id"]: t for t in world.truth(until)}
    assert truth and not any(t["complete"] for t in truth.values())        # none has had 30 days
    for title_id, t in truth.items():
        revenue = sum(e.get("amount_usd", e.get("revenue_usd", 0)) for e in events
                      if e.get("title_id") == title_id and e["event_type"] in ("purchase", "ad_impression"))
        spend = sum(e["cost_usd"] for e in events
                    if e.get("title_id") == title_id and e["event_type"] == "teaser_impression")
        assert t["revenue_30d_full_usd"] == pytest.approx(revenue / world.audience_scale, abs=0.02)
        assert t["teaser_spend_full_usd"] == pytest.approx(spend / world.audience_scale, abs=0.02)
        assert t["pays_back"] == (t["revenue_30d_full_usd"] >= t["production_cost_usd"] + t["teaser_spend_full_usd"])


def test_appeal_works_through_behaviour_with_noise():
    """Viewers per title rise with appeal, as do the rates it moves, but not in lockstep."""
    import math
    import statistics
    world, events = slate_run(days=3, seed=5)
    slate = {t.title_id: t for t in world.titles if t.slate}
    viewers: dict = {}
    for e in events:
        if e["event_type"] == "episode_start" and e["title_id"] in slate:
            viewers.setdefault(e["title_id"], set()).add(e["user_id"])
    titles = [t for t in slate if len(viewers.get(t, ())) >= 1]
    assert len(titles) >= 8
    r = statistics.correlation([math.log(slate[t].appeal) for t in titles],
                               [math.log(len(viewers[t])) for t in titles])
    assert 0.3 < r < 0.99, r


def test_the_studio_spends_by_the_forecast_on_the_same_slate():
    """Two runs of one seed: in the second the studio stops buying installs for the first new title (a
    likely loss) and triples the second's budget (a likely payer) as they are made. The slate is the
    same; the stopped title gets no paid install, the boosted one more, and the budget stays the same."""
    import orjson

    def paid_installs(decide: bool):
        world = World(seed=4, start=START, users_per_day=3000, slate_per_day=8, slate_until=START + timedelta(days=1))
        installs: Counter = Counter()
        decided: list = []
        for e in world.stream(START + timedelta(days=2)):
            if decide and len(decided) < 2 and len(world.slate_titles) > len(decided):
                title = list(world.slate_titles)[len(decided)]
                decided.append((title, world.answer_forecast(title, 0.01 if not decided else 0.9, None, 0.5)))
            if e.event_type == "install":
                installs[orjson.loads(e.value)["title_id"]] += 1
        slate = [(t.title_id, round(t.appeal, 6), t.launched_at) for t in world.slate_titles.values()]
        return installs, slate, decided

    before, slate, _ = paid_installs(False)
    after, slate_again, decided = paid_installs(True)
    assert slate == slate_again and len(slate) >= 4
    (stopped, budget_stopped), (boosted, budget_boosted) = decided
    assert (budget_stopped, budget_boosted) == (0.0, cal.STUDIO_BOOST)
    assert before[stopped] > 0 and after[stopped] == 0
    assert after[boosted] > 1.5 * before[boosted]
    assert abs(sum(after.values()) - sum(before.values())) < 0.05 * sum(before.values())


def test_word_of_mouth_grows_with_appeal_and_stops_at_the_titles_market():
    """Each share brings WORD_OF_MOUTH × appeal^APPEAL_WOM organic installs on average, fewer as the
    title's market (WOM_MARKET_DAYS of new users) is reached, none once it is (Bass diffusion)."""
    world = World(seed=7, start=START, users_per_day=100_000, slate_per_day=0)   # a market of 2M installs
    market = cal.WOM_MARKET_DAYS * world.users_per_day
    plain, gripping = (world._new_title(START) for _ in range(2))
    plain.appeal, gripping.appeal = 1.0, 4.0

    def installs_per_share(title, shares=4000) -> float:
        queued, reached = len(world._queue), title.reached
        for _ in range(shares):
            world._word_of_mouth(title, START)
        brought = len(world._queue) - queued
        assert brought == title.reached - reached                  # every install counted against the market
        return brought / shares

    assert installs_per_share(plain) == pytest.approx(cal.WORD_OF_MOUTH, rel=0.1)
    assert installs_per_share(gripping) == pytest.approx(cal.WORD_OF_MOUTH * 4.0 ** cal.APPEAL_WOM, rel=0.1)
    gripping.reached = int(market * 0.75)                             # a quarter of its market left
    assert installs_per_share(gripping) == pytest.approx(cal.WORD_OF_MOUTH * 4.0 * 0.25, rel=0.15)
    gripping.reached = int(market)
    assert installs_per_share(gripping, 500) == 0
