"""The compiled happy path (schemas/compiled.py) agrees with the precise validator: whatever it
accepts, the precise one accepts with the same fields and event time; every valid event takes
the fast path; and whatever it leaves is decided by the precise one, reason codes unchanged."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import msgspec
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.compiled import STRUCTS, TYPE_OF, accept, accept_all, event_micros
from schemas.events import EVENT_TYPES, field_specs
from schemas.topics import INPUT_TOPICS
from schemas.validate import Accepted, parse_event_time, validate
from tests.schemas.strategies import valid_events

EPOCH = datetime(1970, 1, 1)
TOPICS = st.sampled_from([*INPUT_TOPICS, None])


def agree(raw: bytes, topic: str | None) -> bool:
    """The property: an accepted message is accepted by both, with the same event and time."""
    fast = accept(raw, topic)
    if fast is None:
        return False
    struct, micros = fast
    precise = validate(raw, topic)
    assert isinstance(precise, Accepted), (raw, precise)
    assert TYPE_OF[type(struct)] == precise.event["event_type"]
    for name in struct.__struct_fields__:
        assert getattr(struct, name) == precise.event.get(name), (name, raw)
    assert micros == (precise.event_time - EPOCH) // timedelta(microseconds=1)
    return True


@settings(max_examples=400)
@given(valid_events())
def test_every_valid_event_takes_the_fast_path_and_both_agree(event):
    assert agree(orjson.dumps(event), EVENT_TYPES[event["event_type"]].TOPIC)
    assert agree(orjson.dumps(event), None)


WRONG = st.one_of(st.none(), st.booleans(), st.integers(-2, 10**20), st.floats(allow_nan=False),
                  st.text(max_size=8), st.lists(st.integers(-5, 5), max_size=2), st.just({}),
                  st.sampled_from(["2026-01-05 12:00:00Z", "2026-01-05T12:00:00.1234567Z", "2026-01-05T12:00:00+0100",
                                   "2026-01-05T12:00Z", "2026-01-05T12:00:00", "US\n", "", "x" * 65]))


@settings(max_examples=300)
@given(valid_events(), st.data(), WRONG, TOPICS)
def test_one_corrupted_field_never_makes_the_paths_disagree(event, data, wrong, topic):
    names = [s.name for s in field_specs(EVENT_TYPES[event["event_type"]])] + ["event_type", "schema_version"]
    name = data.draw(st.sampled_from(names))
    if data.draw(st.booleans()):
        event.pop(name, None)
    else:
        event[name] = wrong
    agree(json.dumps(event).encode(), topic)   # if the fast path accepts, so does the precise one, identically


@given(st.binary(max_size=200), TOPICS)
def test_arbitrary_bytes_never_raise_and_never_disagree(raw, topic):
    agree(raw, topic)


def test_what_the_fast_path_leaves_keeps_its_precise_reason():
    good = {"event_id": "e", "event_type": "episode_start", "event_time": "2026-01-05T12:00:00Z", "app_id": "a",
            "user_id": "u", "title_id": "t", "schema_version": 1, "episode": 1, "session_id": "s", "startup_ms": 1}
    cases = [b"\xff", b"[1]", orjson.dumps({**good, "schema_version": 2}), orjson.dumps({**good, "event_type": "x"}),
             orjson.dumps({k: v for k, v in good.items() if k != "schema_version"}),
             orjson.dumps({**good, "startup_ms": 1.5}), orjson.dumps({**good, "event_time": "2026-01-05 12:00:00Z"})]
    events, _, kept = accept_all(cases + [orjson.dumps(good)], "drama.viewing")
    assert kept == [len(cases)]
    assert [validate(c, "drama.viewing").reason for c in cases] == [
        "not_json", "not_object", "unsupported_version", "unknown_event_type", "missing_field", "invalid_field",
        "bad_event_time"]


@given(st.sampled_from(["2026-01-05T12:00:00Z", "2026-01-05t12:00:00.5z", "2026-01-05T23:59:59.999999+05:30",
                        "2026-01-05T00:00:00-00:00", "2026-01-05T12:00:00.123Z"]))
def test_event_time_in_microseconds_matches_the_precise_parse_even_from_the_caches(text):
    for _ in range(2):                                   # the second time comes from the caches
        assert event_micros(text) == (parse_event_time(text) - EPOCH) // timedelta(microseconds=1)


def test_every_event_type_has_its_struct_with_the_same_fields():
    for name, cls in EVENT_TYPES.items():
        assert set(STRUCTS[name].__struct_fields__) == {s.name for s in field_specs(cls)}
        assert msgspec.json.decode(orjson.dumps({"event_type": name}), type=object)["event_type"] == name


# A batch takes the column-at-a-time path when its event times are in UTC ("Z") and seen before.
UTC_TIMES = st.sampled_from(["2026-01-05T12:00:00Z", "2026-01-05T12:00:00.350Z", "2026-01-05T12:00:01.5z"])


def in_utc(events):
    return st.tuples(events, UTC_TIMES).map(lambda et: {**et[0], "event_time": et[1]})


# valid events, bytes, a wrong event time, and paywall events that break a cross-field rule
MESSAGES = st.one_of(
    in_utc(valid_events()).map(orjson.dumps), valid_events().map(orjson.dumps), st.binary(max_size=40),
    st.tuples(valid_events(), WRONG).map(lambda ew: json.dumps({**ew[0], "event_time": ew[1]}).encode()),
    in_utc(valid_events("episode_unlocked")).map(lambda e: orjson.dumps({**e, "method": "rewarded_ad",
                                                                         "coins_spent": 5})),
    in_utc(valid_events("purchase")).map(lambda e: orjson.dumps({**e, "product": "weekly_sub", "coins": 5})))


@settings(max_examples=300)
@given(st.lists(MESSAGES, max_size=6), TOPICS)
def test_a_batch_is_accepted_exactly_as_its_messages_one_at_a_time(values, topic):
    """accept_all checks a clean batch a column at a time: the same verdicts as `accept` on each
    message (called twice: the second time every event time it has seen is known)."""
    expected = [(n, verdict) for n, verdict in ((n, accept(v, topic)) for n, v in enumerate(values)) if verdict]
    for _ in range(2):
        events, micros, kept = accept_all(values, topic)
        assert kept == [n for n, _ in expected]
        assert list(zip(events, micros)) == [verdict for _, verdict in expected]
