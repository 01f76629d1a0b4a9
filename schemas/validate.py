"""The validator: a message's bytes and topic → an accepted event, or one reason code.

Reason codes and their precedence are those of events-v1.md ("Bad input"): when several rules
fail, the first in REASONS is reported. `validate` never raises. The bounds are events-v1.md's
("Bounds"): every field's own in schemas/events.py, and here the message's size, U+0000 in any
string, and the event time's window (2000-01-01 up to FUTURE_SLACK past the receiver's clock).
A rejection's detail quotes at most QUOTE_MAX characters of the value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson

from schemas.events import EVENT_TYPES, SCHEMA_VERSION, FieldSpec, field_specs

REASONS = ("not_json", "not_object", "unsupported_version", "unknown_event_type", "wrong_topic",
           "missing_field", "invalid_field", "bad_event_time", "processing_error")
MAX_MESSAGE_BYTES = 64 * 1024            # a larger message is invalid_field; its first 64 KiB are kept
EARLIEST = datetime(2000, 1, 1)          # event_time bounds, naive UTC
FUTURE_SLACK = timedelta(minutes=5)      # how far ahead of the receiving worker's clock an event may be
QUOTE_MAX = 200                          # characters of a value a rejection's detail quotes
NUL_ESCAPE = b"\\u0000"                  # how U+0000 can appear in valid JSON (a raw NUL byte is not JSON)

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")
SPECS: dict[str, tuple[FieldSpec, ...]] = {name: field_specs(cls) for name, cls in EVENT_TYPES.items()}
TOPIC_OF = {name: cls.TOPIC for name, cls in EVENT_TYPES.items()}


@dataclass(frozen=True, slots=True)
class Accepted:
    event: dict                 # the parsed object, unknown extra fields kept
    event_time: datetime        # UTC, naive
    topic: str


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str                 # one of REASONS
    detail: str                 # for people: which field and why


def quote(value) -> str:
    """repr(value), cut to QUOTE_MAX characters: a dead letter is never much larger than its input."""
    text = repr(value)
    return text if len(text) <= QUOTE_MAX else f"{text[:QUOTE_MAX]}… ({len(text)} characters)"


def _kind_ok(spec: FieldSpec, value) -> bool:
    kind = type(value)
    if spec.kind is bool:
        return kind is bool
    if spec.kind is int:
        return kind is int
    if spec.kind is float:
        return kind is int or kind is float
    return kind is spec.kind


def field_problem(spec: FieldSpec, value) -> str | None:
    """Why a present, non-null value breaks its field's rule; None when it is valid."""
    b = spec.bounds
    if not _kind_ok(spec, value):
        if spec.kind is int and type(value) is float and b.maximum is not None and abs(value) > b.maximum:
            # orjson reads an integer beyond 64 bits as a float: it is out of range, not of the wrong type
            return f"{spec.name} must be ≤ {b.maximum:,.0f}; got {quote(value)}"
        expected = spec.kind.__name__ if spec.kind is not float else "a number"
        return f"{spec.name} must be {expected}, got {type(value).__name__}"
    if spec.choices and value not in spec.choices:
        return f"{spec.name} must be one of {', '.join(map(str, spec.choices))}; got {quote(value)}"
    if b.minimum is not None and (value <= b.minimum if b.exclusive_minimum else value < b.minimum):
        return f"{spec.name} must be {'>' if b.exclusive_minimum else '≥'} {b.minimum:g}; got {quote(value)}"
    if b.maximum is not None and value > b.maximum:
        return f"{spec.name} must be ≤ {b.maximum:,.0f}; got {quote(value)}"
    if b.min_length is not None and len(value) < b.min_length:
        return f"{spec.name} must not be empty"
    if b.max_length is not None and len(value) > b.max_length:
        return f"{spec.name} is {len(value)} characters; at most {b.max_length}"
    if b.pattern and b.pattern != "rfc3339" and not re.match(b.pattern, value):
        return f"{spec.name} {quote(value)} does not match {b.pattern}"
    return None


def cross_field_problem(event: dict) -> str | None:
    """Rules that tie two fields together (events-v1.md, paywall)."""
    etype = event["event_type"]
    if etype == "episode_unlocked" and event["method"] != "coins" and event["coins_spent"] != 0:
        return f"coins_spent must be 0 when method is {event['method']}"
    if etype == "purchase" and event["product"] != "coins_pack" and event["coins"] != 0:
        return f"coins must be 0 for a {event['product']}"
    return None


def has_nul(value) -> bool:
    """U+0000 in any string of a parsed JSON value, keys included."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(has_nul, value))
    return False


def parse_event_time(text: str) -> datetime | None:
    """RFC 3339 with a zone, up to microseconds → naive UTC datetime; None if not so (or if it
    lies outside the years 1..9999 once converted to UTC)."""
    if not RFC3339.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def validate(raw: bytes, topic: str | None, now: datetime | None = None) -> Accepted | Rejected:
    """Check one message against events-v1.md; `topic` is the contract topic it arrived on (no
    namespace), or None when it did not arrive on a topic (HTTP): it then goes to its type's.
    `now` is the receiver's clock (naive UTC; the current time if None): an event_time more than
    FUTURE_SLACK past it is bad_event_time."""
    try:
        event = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError):
        return Rejected("not_json", "the value is not UTF-8 JSON (NaN, Infinity, a number beyond a double "
                                    "and a lone surrogate are not JSON either)")
    if not isinstance(event, dict):
        return Rejected("not_object", f"the JSON is {type(event).__name__}, not an object")
    version = event.get("schema_version")
    if version is not None and (type(version) is not int or version != SCHEMA_VERSION):
        return Rejected("unsupported_version", f"schema_version {quote(version)}; this platform reads {SCHEMA_VERSION}")
    etype = event.get("event_type")
    specs = SPECS.get(etype) if isinstance(etype, str) else None
    if specs is None:
        return Rejected("unknown_event_type", f"event_type {quote(etype)} is not in events-v1")
    if topic is not None and TOPIC_OF[etype] != topic:
        return Rejected("wrong_topic", f"{etype} belongs on {TOPIC_OF[etype]}, not {topic}")
    for spec in specs:
        if spec.required and event.get(spec.name) is None:
            return Rejected("missing_field", f"{etype} needs {spec.name}")
    if len(raw) > MAX_MESSAGE_BYTES:
        return Rejected("invalid_field", f"the message is {len(raw):,} bytes; at most {MAX_MESSAGE_BYTES:,} "
                                         f"(64 KiB). Its first 64 KiB are kept here")
    for spec in specs:
        value = event.get(spec.name)
        if value is not None:
            problem = field_problem(spec, value)
            if problem:
                return Rejected("invalid_field", problem)
    if NUL_ESCAPE in raw and has_nul(event):
        return Rejected("invalid_field", "a string holds U+0000 (NUL), which no string may")
    problem = cross_field_problem(event)
    if problem:
        return Rejected("invalid_field", problem)
    event_time = parse_event_time(event["event_time"])
    if event_time is None:
        return Rejected("bad_event_time", f"event_time {quote(event['event_time'])} is not RFC 3339 with a zone")
    if event_time < EARLIEST:
        return Rejected("bad_event_time", f"event_time {quote(event['event_time'])} is before 2000-01-01T00:00:00Z")
    latest = (now or utc_now()) + FUTURE_SLACK
    if event_time > latest:
        return Rejected("bad_event_time", f"event_time {quote(event['event_time'])} is more than 5 minutes ahead "
                                          f"of the receiver's clock ({latest - FUTURE_SLACK:%Y-%m-%dT%H:%M:%SZ}); "
                                          f"check the sender's clock")
    return Accepted(event, event_time, TOPIC_OF[etype])
