"""Hypothesis strategies for valid events, built from the records in schemas/events.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from schemas.events import EVENT_TYPES, FieldSpec, field_specs


@st.composite
def rfc3339(draw) -> str:
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)))
    offset = draw(st.sampled_from([None, 0, 8 * 60, -5 * 60, 5 * 60 + 30]))
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
        return st.text(min_size=b.min_length or 0, max_size=b.max_length or 40)
    if spec.kind is bool:
        return st.booleans()
    if spec.kind is int:
        return st.integers(min_value=int(b.minimum) if b.minimum is not None else None,
                           max_value=int(b.maximum) if b.maximum is not None else 10**12)
    low = b.minimum if b.minimum is not None else -1e9
    return st.floats(min_value=low, max_value=1e9, exclude_min=b.exclusive_minimum,
                     allow_nan=False, allow_infinity=False) | st.integers(min_value=int(low) + 1, max_value=10**9)


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
        event["x_extra"] = draw(st.text(max_size=10))   # producers may add fields
    return event
