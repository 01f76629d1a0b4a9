"""Hypothesis strategies for valid events, built from the records in schemas/events.py, and for
the edges of events-v1's bounds (`edge_values`, `edge_messages`)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from schemas.events import EVENT_TYPES, FieldSpec, field_specs


# valid strings hold no U+0000 and no lone surrogate (events-v1, Bounds)
NO_NUL = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
LATEST_VALID = datetime(2026, 1, 1)      # valid event times end before today: none lies in the future


@st.composite
def rfc3339(draw, min_value=datetime(2000, 1, 2), max_value=LATEST_VALID) -> str:
    moment = draw(st.datetimes(min_value=min_value, max_value=max_value))
    offset = draw(st.sampled_from([None, 0, 8 * 60, -5 * 60, 5 * 60 + 30, 14 * 60, -14 * 60]))
    text = moment.replace(tzinfo=timezone(timedelta(minutes=offset or 0))).isoformat(
        timespec=draw(st.sampled_from(["seconds", "milliseconds", "microseconds"])))
    return text.replace("+00:00", "Z") if offset is None else text


def value_of(spec: FieldSpec) -> st.SearchStrategy:
    b = spec.bounds
    if spec.choices:
        return st.sampled_from(spec.choices)
    if b.pattern == "rfc3339":
        return rfc3339()
    if b.pattern:
        return st.from_regex(r"\A[A-Z]{2}\Z")
    if spec.kind is str:
        return st.text(NO_NUL, min_size=b.min_length or 0, max_size=min(b.max_length or 40, 140))
    if spec.kind is bool:
        return st.booleans()
    if spec.kind is int:
        return st.integers(min_value=int(b.minimum) if b.minimum is not None else None,
                           max_value=int(b.maximum) if b.maximum is not None else 10**12)
    low = b.minimum if b.minimum is not None else -1e9
    high = b.maximum if b.maximum is not None else 1e9
    return st.floats(min_value=low, max_value=high, exclude_min=b.exclusive_minimum,
                     allow_nan=False, allow_infinity=False) | st.integers(min_value=int(low) + 1, max_value=int(high))


@st.composite
def valid_events(draw, event_type: str | None = None) -> dict:
    etype = event_type or draw(st.sampled_from(sorted(EVENT_TYPES)))
    event = {"event_type": etype}
    for spec in field_specs(EVENT_TYPES[etype]):
        if spec.required or draw(st.booleans()):
            event[spec.name] = draw(value_of(spec))
    if etype == "episode_unlocked" and event["method"] != "coins":
        event["coins_spent"] = 0
    if etype == "purchase" and event["product"] != "coins_pack":
        event["coins"] = 0
    if draw(st.booleans()):
        event["x_extra"] = draw(st.text(NO_NUL, max_size=10))   # producers may add fields
    return event


# --- the edges of the bounds: what a real app may send, valid or not ---------------------------------
class Literal(str):
    """A JSON token written as it is (NaN, Infinity, 1e400, 2^70 …) by `to_json`."""


EDGE_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([2**63 - 1, 2**63, 2**64, 2**64 + 1, -1, 0]),
    st.floats(min_value=-1e308, max_value=1e308, allow_nan=False),
    st.sampled_from([Literal("NaN"), Literal("Infinity"), Literal("-Infinity"), Literal("1e400"), Literal("-1e309"),
                     Literal("1" * 310), Literal("1e-400"), Literal("2.5E+10"), Literal("1e0400")]))
EDGE_TIMES = st.one_of(
    rfc3339(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z",
                     "1900-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z",
                     "1999-12-31T20:00:00-04:00", "2999-01-01T00:00:00Z"]))
EDGE_TEXT = st.one_of(
    st.text(max_size=300), st.text(alphabet=st.sampled_from("a\x00é😀"), min_size=1, max_size=130),
    st.integers(0, 100_000).map(lambda n: "x" * n), st.sampled_from(["\ud800", "a\udc00b", "\x00", "\ud83d\ude00"]))
EDGE_VALUES = st.one_of(EDGE_NUMBERS, EDGE_TIMES, EDGE_TEXT, st.none(), st.booleans())


def to_json(value) -> str:
    """JSON with the edges a real sender can produce: Literal tokens as they are, lone surrogates as
    `\\udXXX` escapes (json.dumps with ensure_ascii writes them so)."""
    if isinstance(value, Literal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(to_json, value)) + "]"
    return json.dumps(value)


@st.composite
def edge_messages(draw) -> bytes:
    """A valid event with one field (or an extra one) set to an edge value, or made over 64 KiB."""
    event = draw(valid_events())
    names = [s.name for s in field_specs(EVENT_TYPES[event["event_type"]])] + ["x_extra"]
    choice = draw(st.integers(0, 9))
    if choice == 0:
        event["x_padding"] = "p" * draw(st.integers(64 * 1024 - 400, 64 * 1024 + 100))
    else:
        event[draw(st.sampled_from(names))] = draw(EDGE_VALUES)
    return to_json(event).encode()
