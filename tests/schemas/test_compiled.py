"""The compiled happy path (schemas/compiled.py) agrees with the precise validator: whatever it
accepts, the precise one accepts with the same fields and event time; every valid event takes
the fast path; and whatever it leaves is decided by the precise one, reason codes unchanged."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.compiled import STRUCTS, TYPE_OF, accept, accept_all, event_micros
from schemas.events import EVENT_TYPES, field_specs
from schemas.topics import INPUT_TOPICS
from schemas.validate import Accepted, parse_event_time, validate
from tests.schemas.strategies import edge_messages, valid_events

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


@settings(max_examples=300)
@given(edge_messages(), TOPICS)
def test_the_edges_of_the_bounds_never_make_the_paths_disagree(raw, topic):
    """Integers to 2^70 and below 0, floats to 1e308, NaN and Infinity, years 1–9999 at ±14:00,
    strings to 100k characters with U+0000 and lone surrogates, messages around 64 KiB: in any
    field, extra ones too. Whatever the fast path accepts, alone or in a batch, the precise one
    accepts the same way; and the precise one accepts nothing outside the bounds."""
    agree(raw, topic)
    events, micros, kept = accept_all([raw, raw], topic)
    assert kept == ([0, 1] if accept(raw, topic) else [])
    verdict = validate(raw, topic)
    if isinstance(verdict, Accepted):
        assert len(raw) <= 64 * 1024 and b"\\u0000" not in raw
        assert datetime(2000, 1, 1) <= verdict.event_time
    else:
        assert len(verdict.detail) < 400, verdict.detail        # a dead letter never much larger than its input


@pytest.mark.parametrize("field, value, reason", [
    ("startup_ms", 2**64, "invalid_field"), ("startup_ms", 2**70, "invalid_field"), ("episode", 2**40, "invalid_field"),
    ("startup_ms", 86_400_001, "invalid_field"), ("event_time", "9999-12-31T23:59:59Z", "bad_event_time"),
    ("event_time", "1900-01-01T00:00:00Z", "bad_event_time"),
    ("event_time", "9999-12-31T23:59:59-14:00", "bad_event_time"),
    ("session_id", "s" * 129, "invalid_field"), ("session_id", "a\x00b", "invalid_field"),
    ("x_extra", "1e400", "not_json"), ("x_extra", "NaN", "not_json")])
def test_the_issue_s_poison_events_are_refused_by_both_paths(field, value, reason):
    good = {"event_id": "e", "event_type": "episode_start", "event_time": "2026-01-05T12:00:00Z", "app_id": "a",
            "user_id": "u", "title_id": "t", "schema_version": 1, "episode": 1, "session_id": "s", "startup_ms": 1}
    raw = json.dumps({**good, field: value}).encode()
    if value in ("1e400", "NaN"):
        raw = raw.replace(f'"{value}"'.encode(), value.encode())
    assert accept(raw, "drama.viewing") is None and accept_all([raw], "drama.viewing")[2] == []
    assert validate(raw, "drama.viewing").reason == reason


def test_an_event_more_than_five_minutes_ahead_of_the_receiver_is_bad_event_time():
    now = datetime(2026, 1, 5, 12, 0, 0)
    good = {"event_id": "e", "event_type": "like", "app_id": "a", "user_id": "u", "title_id": "t",
            "schema_version": 1, "episode": 1}
    now_us = (now - EPOCH) // timedelta(microseconds=1)
    for offset, ok in ((timedelta(minutes=4, seconds=59), True), (timedelta(minutes=5, seconds=1), False),
                       (timedelta(days=1), False)):
        raw = orjson.dumps({**good, "event_time": (now + offset).isoformat() + "Z"})
        assert (accept(raw, None, now=now_us) is not None) is ok
        assert isinstance(validate(raw, None, now=now), Accepted) is ok
        if not ok:
            assert validate(raw, None, now=now).reason == "bad_event_time"


def test_a_rejection_quotes_at_most_200_characters_of_the_value():
    raw = orjson.dumps({"event_id": "e", "event_type": "user_profile", "event_time": "2026-01-05T12:00:00Z",
                        "app_id": "a", "user_id": "u", "schema_version": 1, "gender": "female", "age_band": "55+",
                        "country": "U" * 60_000})
    verdict = validate(raw, "drama.users")
    assert verdict.reason == "invalid_field" and len(verdict.detail) < 300, len(verdict.detail)


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
