"""The simulator's stream: deterministic, valid by the contract, faults injected as asked."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from schemas.validate import Accepted, Rejected, parse_event_time, validate
from simulator import report
from simulator.world import ALLOWED_LATENESS_S, Faults, World

START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def run(hours: float, **kwargs) -> list:
    world = World(start=START, **kwargs)
    return list(world.stream(START + timedelta(hours=hours)))


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
    assert all(key and key.startswith(b"sim3-u") for _, key in keys)       # keyed by user_id


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
    failures = [(ref.name, value, ref.value, ref.tolerance) for ref, value, ok in report.check(found) if not ok]
    assert not failures, report.render(found)
    assert found["payers"] > 400


def test_the_studio_answer_is_a_derived_title_carrying_its_signal():
    world = World(seed=1, start=START, users_per_day=1000)
    stream = world.stream(START + timedelta(hours=1))
    next(stream)
    title = world.add_derived_title(world.titles[2].title_id, "sig-42")
    rest = [validate(e.value, e.topic).event for e in stream]
    script = next(e for e in rest if e["event_type"] == "script_created" and e["title_id"] == title.title_id)
    assert (script["parent_title_id"], script["signal_id"]) == (world.titles[2].title_id, "sig-42")
    assert any(e["event_type"] == "title_launched" and e["title_id"] == title.title_id for e in rest)
