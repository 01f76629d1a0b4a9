"""Closing the loop: a surging title gets a re-create signal within seconds, a steady one none,
and the studio's derived title fills its loop_cycles row."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import orjson
from kafka import KafkaConsumer

from infra.settings import load
from producer import EventProducer
from schemas.events import EpisodeStart, Like, ScriptCreated, TitleLaunched
from schemas.topics import SIGNALS
from streams.trends import SurgeDetector
from tests.conftest import wait_for
from warehouse.client import connect

T0 = datetime(2026, 1, 5, 12, 0)


def test_the_rule_fires_on_a_surge_above_the_titles_own_baseline_and_not_on_a_steady_title():
    detector = SurgeDetector(load())
    at = lambda minute, second: T0 + timedelta(minutes=minute, seconds=second)  # noqa: E731
    for minute in range(10):
        assert detector.observe({("steady", T0 + timedelta(minutes=minute)): (20.0, at(minute, 50)),
                                 ("surging", T0 + timedelta(minutes=minute)): (8.0, at(minute, 50))}) == []
    now = T0 + timedelta(minutes=10)
    assert detector.observe({("steady", now): (25.0, at(10, 20)), ("surging", now): (20.0, at(10, 20))}) == []
    (signal,) = detector.observe({("surging", now): (10.0, at(10, 7))})                # 30 ≥ 3 × 8
    assert (signal.title_id, signal.score, signal.baseline) == ("surging", 30.0, 8.0)
    assert signal.signal_id == "sig-surging-20260105T1210"
    # Its clock is the events': the latest feedback of the minute seen when it fired (an earlier batch's
    # 12:10:20, not this late-arriving batch's 12:10:07), whatever the wall clock says.
    assert signal.at == at(10, 20)
    assert detector.observe({("surging", now): (50.0, at(10, 30))}) == []               # cooldown


def viewing(title: str, user: str, n: int, at: datetime) -> list:
    base = dict(event_time=at.isoformat(timespec="milliseconds") + "Z", app_id="a", user_id=user, title_id=title)
    return [EpisodeStart(event_id=f"{title}-{user}-{n}-s", episode=1, session_id="s", startup_ms=300, **base),
            Like(event_id=f"{title}-{user}-{n}-l", episode=1, **base)]


def test_a_surge_is_signalled_within_seconds_and_its_derived_title_closes_the_loop(pipeline):
    settings = pipeline()
    client = connect(settings)
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    with EventProducer(settings) as events:
        for minute in range(10, 0, -1):              # ten steady minutes for both titles: score 8 a minute
            for n in range(2):
                for event in viewing("steady", f"u{n}", minute, now - timedelta(minutes=minute)) + \
                        viewing("surging", f"u{n}", minute, now - timedelta(minutes=minute)):
                    events.send(event)
        for n in range(2):                           # the steady one goes on as before
            for event in viewing("steady", f"u{n}", 0, now):
                events.send(event)
    sent = time.monotonic()
    sent_at = datetime.now(timezone.utc).replace(tzinfo=None)   # the signal is emitted after this …
    with EventProducer(settings) as events:          # the surging one: 40 viewers in a minute
        for n in range(40):
            for event in viewing("surging", f"v{n}", 0, now):
                events.send(event)

    signals = lambda: client.execute("SELECT signal_id, title_id, reason FROM recreate_signals")  # noqa: E731
    found = wait_for(lambda: [s[1] for s in signals()], ["surging"], timeout=30)
    assert found == ["surging"], signals()
    seen_at = datetime.now(timezone.utc).replace(tzinfo=None)   # … and before this (the worker's clock is ours)
    print(f"signal after {time.monotonic() - sent:.1f}s")
    consumer = KafkaConsumer(settings.topic(SIGNALS), bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000, group_id=None)
    (message,) = [orjson.loads(m.value) for m in consumer]
    consumer.close()
    signal_id = message["signal_id"]
    assert message["title_id"] == "surging" and "baseline" in message["reason"]

    # The studio answers: a derived script, a launch 90 s later, a first view 45 s after that.
    script_at = now + timedelta(seconds=5)
    stamp = lambda t: t.isoformat() + "Z"  # noqa: E731
    with EventProducer(settings) as events:
        events.send(ScriptCreated(event_id="d-1", event_time=stamp(script_at), app_id="studio", title_id="derived",
                                  trope="x", genre="romance", origin="ai", parent_title_id="surging",
                                  signal_id=signal_id))
        events.send(TitleLaunched(event_id="d-2", event_time=stamp(script_at + timedelta(seconds=90)), app_id="studio",
                                  title_id="derived", episodes_total=60, free_episodes=5))
        events.send(EpisodeStart(event_id="d-3", event_time=stamp(script_at + timedelta(seconds=135)), app_id="a",
                                 user_id="u1", title_id="derived", episode=1, session_id="s", startup_ms=200))
    cycle = lambda: client.execute(  # noqa: E731
        "SELECT parent_title_id, signal_id, signal_time IS NOT NULL, script_to_launch_s, launch_to_first_view_s "
        "FROM loop_cycles WHERE title_id = 'derived'")
    assert wait_for(cycle, [("surging", signal_id, 1, 90.0, 45.0)], timeout=30) == [
        ("surging", signal_id, 1, 90.0, 45.0)]
    # When the signal was emitted: emitted_at, event time (the surge's latest feedback: `now`), whole seconds, in
    # recreate_signals and on drama.signals; detected_at, the worker's wall clock, between sending and seeing it.
    (emitted_at, detected_at), = client.execute(
        "SELECT emitted_at, detected_at FROM recreate_signals WHERE signal_id = %(s)s", {"s": signal_id})
    assert message["emitted_at"] == stamp(emitted_at) and message["kind"] == "recreate"
    assert emitted_at == now
    assert sent_at.replace(microsecond=0) <= detected_at <= seen_at
    assert message["detected_at"] == stamp(detected_at)
    (row,) = client.execute(
        "SELECT title_id, parent_title_id, signal_id, signal_time, script_created_time, launched_time, "
        "first_view_time, signal_to_script_s, script_to_launch_s, launch_to_first_view_s FROM loop_cycles")
    *named, gap, to_launch, to_view = row
    assert named == ["derived", "surging", signal_id, emitted_at, script_at, script_at + timedelta(seconds=90),
                     script_at + timedelta(seconds=135)]
    assert (to_launch, to_view) == (90.0, 45.0)
    # signal_to_script_s is script time − the signal's event time (the surge's feedback at `now`, exactly).
    assert gap == (script_at - now).total_seconds() == 5.0, gap
