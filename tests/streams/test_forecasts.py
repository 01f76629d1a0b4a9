"""The live hit forecast (streams/forecasts.py) on the real warehouse: a simulated slate loaded in two
parts through the worker's writes; the scorer writes title_forecasts for every moment due, re-scores
a title whose feedback jumps at the next moment, and sends each hit_forecast signal once."""
from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from forecast.features import FEATURES
from forecast.model import Forecast
from infra.settings import load
from simulator.world import World
from streams.forecasts import Scorer
from streams.load import load_file
from warehouse.client import connect
from warehouse.migrate import migrate

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
SPLIT = START + timedelta(hours=6, minutes=5)      # the first part ends here, off the 10-minute grid
MIDDLE = SPLIT + timedelta(minutes=12)             # the second part ends here, the third at END
END = SPLIT + timedelta(minutes=22)
PERIOD = timedelta(minutes=10)


def write(path, emissions) -> None:
    with open(path, "wb") as out:
        out.writelines(e.line() for e in emissions)


def jump(path, title_id: str, at: datetime, buyers: int = 400) -> None:
    """A title's feedback jumps: `buyers` yearly subscriptions in four minutes."""
    with open(path, "ab") as out:
        for n in range(buyers):
            moment = (at + timedelta(seconds=n * 240 / buyers)).replace(tzinfo=None).isoformat() + "Z"
            value = {"event_id": f"jump-{n}", "event_type": "purchase", "event_time": moment, "schema_version": 1,
                     "app_id": "reelshort-like", "user_id": f"jump-u{n}", "title_id": title_id,
                     "product": "yearly_sub", "amount_usd": 49.99, "coins": 0}
            out.write(orjson.dumps({"topic": "drama.paywall", "key": f"jump-u{n}",
                                    "value": orjson.dumps(value).decode()}) + b"\n")


@pytest.fixture
def warehouse(stack, run_id, tmp_path):
    """A database of its own with the first part of a slate loaded; `more(path)` loads another part."""
    settings = load(namespace=f"fcl{run_id}", forecast_period_s=600)
    migrate(settings)
    world = World(seed=5, start=START, users_per_day=3000, slate_per_day=16, slate_until=START + timedelta(hours=5))
    emissions = list(world.stream(END))
    first, second, third = (tmp_path / f"{n}.ndjson" for n in ("first", "second", "third"))
    write(first, [e for e in emissions if e.emit_time < SPLIT])
    write(second, [e for e in emissions if SPLIT <= e.emit_time < MIDDLE])
    write(third, [e for e in emissions if e.emit_time >= MIDDLE])
    offsets: dict = {}

    def more(path) -> None:
        assert asyncio.run(load_file(str(path), settings, say=lambda *a, **k: None, offsets=offsets))["rejected"] == 0

    more(first)
    try:
        yield settings, more, second, third
    finally:
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")


def revenue(client, title: str, at) -> float:
    return client.execute("SELECT revenue_usd FROM title_forecasts WHERE title_id = %(t)s AND as_of = %(at)s",
                          {"t": title, "at": at})[0][0]


def forecasts(client) -> dict:
    """(title_id, as_of) → (hours, p_payback, p_hit, hit_signal), from the contract's view."""
    return {(t, at): rest for t, at, *rest in client.execute(
        "SELECT title_id, as_of, hours_since_launch, p_payback, p_hit, hit_signal FROM title_forecasts")}


def test_new_titles_are_scored_every_period_and_a_jump_within_one(warehouse):
    settings, more, second, third = warehouse
    client = connect(settings)
    scorer = Scorer(settings, Forecast.load(), lambda: connect(settings))
    sent: list = []
    moments: list = []
    while found := scorer.check(sent.append):             # a long past is scored in steps
        moments += found
    # Every moment of the first part, the last the newest whole one before the split, 10 minutes apart.
    assert moments[-1] == (SPLIT - timedelta(minutes=5)).replace(tzinfo=None)
    assert all(b - a == PERIOD for a, b in zip(moments, moments[1:])) and len(moments) > 30
    rows = forecasts(client)
    launched = dict(client.execute("SELECT title_id, assumeNotNull(launched_at) FROM titles "
                                   "WHERE parent_title_id = '' AND launched_at IS NOT NULL"))
    last = moments[-1]
    slate = {t for t, at in launched.items() if START.replace(tzinfo=None) < at <= last}
    assert len(slate) >= 3
    for title in slate:          # each new title, at every moment since its launch, with its age
        scored = sorted(at for t, at in rows if t == title)
        assert scored == [m for m in moments if m >= launched[title]]
        hours, p_payback, p_hit, _ = rows[(title, last)]
        assert hours == pytest.approx((last - launched[title]).total_seconds() / 3600)
        assert 0 <= p_payback <= 1 and 0 <= p_hit <= 1
    # The model's signals so far: exactly the titles whose P(hit) reached its threshold.
    assert {s["title_id"] for s in sent} == {t for (t, _), (_, _, p_hit, _) in rows.items()
                                             if p_hit >= scorer.forecast.threshold}
    sent.clear()

    # The title with the least revenue so far: its feedback jumps just after the split.
    target = min(slate, key=lambda t: revenue(client, t, last))
    before = rows[(target, last)]
    jump(second, target, SPLIT + timedelta(minutes=1))
    # From now on the model's hit regression is on revenue per hour alone, at 0.5 above every title's
    # so far (on its log scale), so that only a jump crosses it.
    spec = dict(Forecast.load().spec)
    j = FEATURES.index("log_revenue_per_hour")
    highest = max(math.log1p(revenue(client, t, at) / max(hours, 1 / 60)) for (t, at), (hours, *_) in rows.items())
    coef = [0.0] * len(FEATURES)
    coef[j] = 4.0
    intercept = -4.0 * (highest + 0.5 - spec["mean"][j]) / spec["scale"][j]
    scorer.forecast = Forecast({**spec, "hit": {"coef": coef, "intercept": intercept}, "hit_threshold": 0.5})
    more(second)
    moments = scorer.check(sent.append)
    assert moments == [last + PERIOD]                        # the next moment: within one period
    rows = forecasts(client)
    after = rows[(target, last + PERIOD)]
    assert revenue(client, target, last + PERIOD) >= revenue(client, target, last) + 400 * 49.99 - 0.01
    assert after[1] != before[1]                              # scored again from what it has seen since
    threshold = 0.5

    # Its hit_forecast signal: once, at the moment it crossed, marked on that row.
    signals = {s["title_id"]: s for s in sent}
    assert len(signals) == len(sent) and target in signals
    signal = signals[target]
    assert signal["kind"] == "hit_forecast" and signal["signal_id"] == f"hit-{target}"
    assert signal["as_of"] == (last + PERIOD).isoformat() + "Z" and signal["p_hit"] >= threshold
    assert signal["p_payback"] == pytest.approx(after[1])
    for title, s in signals.items():
        crossed = sorted(at for (t, at), (_, _, p_hit, _) in rows.items() if t == title and p_hit is not None
                         and p_hit >= threshold)
        assert s["as_of"] == crossed[0].isoformat() + "Z" and rows[(title, crossed[0])][3] == 1
    # A scorer that starts again goes on from the newest moment scored, and sends no signal again,
    # though the title is still above the threshold.
    restarted = Scorer(settings, scorer.forecast, lambda: connect(settings))
    assert restarted.check(sent.append) == []
    more(third)
    assert restarted.check(sent.append) == [last + 2 * PERIOD]
    rows = forecasts(client)
    assert rows[(target, last + 2 * PERIOD)][2] >= threshold and rows[(target, last + 2 * PERIOD)][3] == 0
    assert len(sent) == len(signals)
