"""The validator against events-v1.md: every valid event accepted, every single-field
corruption rejected with the code the spec prescribes, and no input makes it raise."""
from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.events import EVENT_TYPES, EpisodeStart, field_specs
from schemas.topics import INPUT_TOPICS
from schemas.validate import Accepted, Rejected, parse_event_time, validate
from tests.schemas.strategies import valid_events

GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "golden" / "v1"


def check(event: dict, topic: str | None = None):
    return validate(orjson.dumps(event), topic or EVENT_TYPES[event["event_type"]].TOPIC)


@settings(max_examples=500)
@given(valid_events())
def test_every_valid_event_is_accepted_with_its_extra_fields(event):
    result = check(event)
    assert isinstance(result, Accepted), result
    assert result.event == event


# --- single-field corruptions ----------------------------------------------------------
WRONG_TYPES = st.sampled_from([[], {}, [1], {"a": 1}])


def expected_for_missing(name: str) -> str:
    return "unknown_event_type" if name == "event_type" else "missing_field"


@settings(max_examples=300)
@given(valid_events(), st.data(), st.booleans())
def test_a_required_field_absent_or_null_is_missing_field(event, data, as_null):
    etype = event["event_type"]
    required = ["event_type"] + [s.name for s in field_specs(EVENT_TYPES[etype]) if s.required]
    name = data.draw(st.sampled_from(required))
    corrupt = dict(event)
    if as_null:
        corrupt[name] = None
    else:
        del corrupt[name]
    result = validate(orjson.dumps(corrupt), EVENT_TYPES[etype].TOPIC)
    assert isinstance(result, Rejected) and result.reason == expected_for_missing(name), (name, result)


@settings(max_examples=300)
@given(valid_events(), st.data(), WRONG_TYPES)
def test_a_field_of_the_wrong_type_gets_its_code(event, data, wrong):
    etype = event["event_type"]
    name = data.draw(st.sampled_from(["event_type"] + [s.name for s in field_specs(EVENT_TYPES[etype])]))
    corrupt = {**event, name: wrong}
    expected = {"event_type": "unknown_event_type", "schema_version": "unsupported_version"}.get(name, "invalid_field")
    result = validate(orjson.dumps(corrupt), EVENT_TYPES[etype].TOPIC)
    assert isinstance(result, Rejected) and result.reason == expected, (name, result)


@settings(max_examples=300)
@given(valid_events(), st.data())
def test_a_value_out_of_range_or_outside_its_set_is_invalid_field(event, data):
    etype = event["event_type"]
    bounded = [s for s in field_specs(EVENT_TYPES[etype])
               if s.name != "schema_version" and (s.choices or s.bounds.minimum is not None
                                                 or s.bounds.maximum is not None or s.bounds.min_length)]
    spec = data.draw(st.sampled_from(bounded))
    b = spec.bounds
    if spec.choices:
        bad = "not-" + str(spec.choices[0])
    elif b.min_length:
        bad = ""
    elif b.maximum is not None and data.draw(st.booleans()):
        bad = int(b.maximum) + data.draw(st.integers(1, 100))
    else:
        bad = b.minimum if b.exclusive_minimum else int(b.minimum) - data.draw(st.integers(1, 100))
    result = check({**event, spec.name: bad})
    assert isinstance(result, Rejected) and result.reason == "invalid_field", (spec.name, bad, result)


@given(valid_events(), st.sampled_from(["yesterday", "2026-01-05T12:03:00", "2026-01-05", "2026-13-05T12:00:00Z",
                                        "2026-01-05T12:00:00.1234567Z", "2026-01-05 12:00:00Z", "12:00:00Z"]))
def test_an_unparseable_or_zoneless_event_time_is_bad_event_time(event, bad):
    result = check({**event, "event_time": bad})
    assert isinstance(result, Rejected) and result.reason == "bad_event_time", result


@given(valid_events(), st.sampled_from(INPUT_TOPICS))
def test_a_known_type_on_another_topic_is_wrong_topic(event, topic):
    result = check(event, topic)
    if topic == EVENT_TYPES[event["event_type"]].TOPIC:
        assert isinstance(result, Accepted)
    else:
        assert isinstance(result, Rejected) and result.reason == "wrong_topic"


@given(valid_events(), st.sampled_from([2, 0, "1", 1.0, True]))
def test_a_schema_version_other_than_the_integer_1_is_unsupported(event, version):
    result = check({**event, "schema_version": version})
    assert isinstance(result, Rejected) and result.reason == "unsupported_version"


def test_precedence_reports_the_first_failing_rule():
    base = EpisodeStart(event_id="e", event_time="yesterday", app_id="a", user_id="u", title_id="t",
                        episode=0, session_id="s", startup_ms=1).to_dict()
    assert check(base).reason == "invalid_field"                          # before bad_event_time
    assert check({**base, "session_id": None}).reason == "missing_field"  # before invalid_field
    assert check(base, "drama.ads").reason == "wrong_topic"               # before missing_field
    assert check({**base, "schema_version": 2, "event_type": "x"}, "drama.viewing").reason == "unsupported_version"
    assert check({**base, "event_type": "x"}, "drama.viewing").reason == "unknown_event_type"
    assert validate(b"\xff\xfe", "drama.viewing").reason == "not_json"
    assert validate(b"[1]", "drama.viewing").reason == "not_object"


def test_cross_field_rules_of_the_paywall():
    unlocked = {"event_id": "e", "event_type": "episode_unlocked", "event_time": "2026-01-05T12:00:00Z",
                "schema_version": 1, "app_id": "a", "user_id": "u", "title_id": "t", "episode": 6}
    assert isinstance(check({**unlocked, "method": "coins", "coins_spent": 60}), Accepted)
    assert check({**unlocked, "method": "rewarded_ad", "coins_spent": 60}).reason == "invalid_field"


@settings(max_examples=1000)
@given(st.binary(max_size=200) | st.builds(lambda v: json.dumps(v).encode(), st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6))),
    st.sampled_from(INPUT_TOPICS + ("elsewhere", None)))
def test_the_validator_never_raises(raw, topic):
    assert isinstance(validate(raw, topic), (Accepted, Rejected))


def test_event_time_is_converted_to_utc():
    assert str(parse_event_time("2026-01-05T20:00:00.123456+08:00")) == "2026-01-05 12:00:00.123456"


@pytest.mark.skipif(not GOLDEN.exists(), reason="shared/golden/v1 is not beside the checkout")
def test_the_golden_set_is_rejected_exactly_as_expected():
    expected = json.loads((GOLDEN / "expected.json").read_text())
    reasons: dict = {}
    accepted = 0
    for line in (GOLDEN / "messages.jsonl").read_text().splitlines():
        message = json.loads(line)
        raw = bytes.fromhex(message["value_hex"]) if "value_hex" in message else message["value"].encode()
        result = validate(raw, message["topic"])
        if isinstance(result, Accepted):
            accepted += 1
        else:
            reasons[result.reason] = reasons.get(result.reason, 0) + 1
    assert reasons == expected["rejected_by_reason"]
    assert accepted == expected["events_raw_total"] + expected["duplicates"]
