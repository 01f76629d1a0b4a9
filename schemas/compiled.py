"""The happy path of the validator, compiled: msgspec Structs generated from schemas/events.py.

    raw bytes ──DECODE (msgspec, C)──► a Struct of its event type ──accept()──► (struct, µs since epoch)
                    └─ anything msgspec refuses, or a rule it cannot express ──► None: ask validate()

One tagged union (tag `event_type`) decodes and checks every field rule of events-v1 at C
speed: types (a bool is not an int, an int is a number), required fields, `Literal` choices,
bounds, lengths and patterns. What msgspec cannot say is checked here in a few lines: the
topic, the two cross-field rules, and `event_time`, which msgspec parses more leniently than
RFC 3339 (a space for `T`, seven fraction digits, `+0100`), so it stays a string and is checked
with the precise validator's own pattern. Whatever this path does not accept goes to
`schemas.validate.validate`, which gives the reason code with the spec's precedence; property
tests (tests/schemas/test_compiled.py) show that the two agree on everything this path accepts.

The bounds msgspec cannot say either are checked on the bytes, once per batch in C: a message over
64 KiB, a `\\u0000` escape, or a number that may overflow a double (an exponent of 10 or more, or
300 digits in a row, in any field, extra ones too: msgspec skips an unknown field's number unread,
orjson refuses it) go to the precise validator; so does an event time outside its window.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from itertools import compress
from operator import attrgetter, itemgetter
from typing import Annotated, Literal, Optional, Union

import msgspec

from schemas.events import EVENT_TYPES, FieldSpec, field_specs
from schemas.validate import EARLIEST, FUTURE_SLACK, MAX_MESSAGE_BYTES, NUL_ESCAPE, RFC3339, cross_field_problem

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MICROSECOND = timedelta(microseconds=1)
ZERO = timedelta(0)
EARLIEST_US = (EARLIEST.replace(tzinfo=timezone.utc) - EPOCH) // ONE_MICROSECOND
SLACK_US = FUTURE_SLACK // ONE_MICROSECOND
# A JSON number (after `:`, `[` or `,`) that may overflow a double: an exponent of 10 or more, or 300
# digits before the point. Text inside strings rarely looks so ("S01E10" does not); if it does, the
# precise path only takes longer.
HUGE_NUMBER = re.compile(rb"[:\[,]\s*-?[0-9]+(?:\.[0-9]+)?[eE]\+?0*[1-9][0-9]|[:\[,]\s*-?[0-9]{300}")


def now_us() -> int:
    return (datetime.now(timezone.utc) - EPOCH) // ONE_MICROSECOND


def suspect(raw: bytes) -> bool:
    """A bound that only the bytes show may be broken: the precise validator decides."""
    return len(raw) > MAX_MESSAGE_BYTES or NUL_ESCAPE in raw or HUGE_NUMBER.search(raw) is not None


def _annotation(spec: FieldSpec):
    """A FieldSpec as the msgspec type that enforces the same rule."""
    if spec.choices:
        kind = Literal[spec.choices]                                     # type: ignore[valid-type]
    else:
        b = spec.bounds
        meta = {}
        if b.minimum is not None:
            meta["gt" if b.exclusive_minimum else "ge"] = b.minimum if spec.kind is float else int(b.minimum)
        if b.maximum is not None:
            meta["le"] = b.maximum if spec.kind is float else int(b.maximum)
        if b.min_length is not None:
            meta["min_length"] = b.min_length
        if b.max_length is not None:
            meta["max_length"] = b.max_length
        if b.pattern and b.pattern != "rfc3339":
            meta["pattern"] = b.pattern
        kind = Annotated[spec.kind, msgspec.Meta(**meta)] if meta else spec.kind
    return kind if spec.required else Optional[kind]


def _struct(event_type: str, specs: tuple[FieldSpec, ...]) -> type[msgspec.Struct]:
    required = [(s.name, _annotation(s)) for s in specs if s.required]     # schema_version among them
    optional = [(s.name, _annotation(s), None) for s in specs if not s.required]
    return msgspec.defstruct(event_type, [*required, *optional], tag_field="event_type", tag=event_type,
                             kw_only=True, frozen=True, gc=False)


STRUCTS: dict[str, type[msgspec.Struct]] = {name: _struct(name, field_specs(cls)) for name, cls in EVENT_TYPES.items()}
TYPE_OF: dict[type, str] = {struct: name for name, struct in STRUCTS.items()}
TOPIC_OF: dict[type, str] = {STRUCTS[name]: cls.TOPIC for name, cls in EVENT_TYPES.items()}
CROSS_FIELD = frozenset(STRUCTS[name] for name in ("episode_unlocked", "purchase"))
DECODE = msgspec.json.Decoder(Union[tuple(STRUCTS.values())]).decode


_SECONDS: dict[str, int] = {}   # "YYYY-MM-DDTHH:MM:SS" already checked → seconds since the epoch
_TAILS: dict[str, int] = {"Z": 0, "z": 0}   # ".350Z" already checked → microseconds
_KEPT = 100_000


def event_micros(text: str) -> int | None:
    """RFC 3339 with a zone (the precise validator's pattern) → µs since the epoch, UTC.

    Events of one second share their first 19 characters, and events of one millisecond their
    tail (`.350Z`): each part is checked and converted once and then looked up; other zones
    than Z take the general path every time."""
    seconds = _SECONDS.get(text[:19])
    if seconds is not None:
        fraction = _TAILS.get(text[19:])
        if fraction is not None:
            return seconds * 1_000_000 + fraction
    if not RFC3339.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    micros = (moment - EPOCH) // ONE_MICROSECOND
    if moment.utcoffset() == ZERO:
        if len(_SECONDS) >= _KEPT:
            _SECONDS.clear()
        _SECONDS[text[:19]] = micros // 1_000_000
        if text[19:20] == "." and text[-1] in "Zz":
            if len(_TAILS) >= _KEPT:
                _TAILS.clear()
                _TAILS.update(Z=0, z=0)
            _TAILS[text[19:]] = micros % 1_000_000
    return micros


def accept(raw: bytes, topic: str | None, now: int | None = None):
    """(struct, event time in µs) when `raw` is a valid event for `topic`; None for anything else.
    `now`: the receiver's clock in µs since the epoch (the current time if None).

    None does not mean invalid: it means "ask schemas.validate.validate", which decides."""
    if suspect(raw):
        return None
    try:
        event = DECODE(raw)
    except DECODE_ERRORS:
        return None
    return _checked(event, topic, now_us() if now is None else now)


def _checked(event, topic: str | None, now: int):
    """The rules msgspec cannot express, one event at a time: (event, µs) or None."""
    kind = type(event)
    if topic is not None and TOPIC_OF[kind] != topic:
        return None
    if kind in CROSS_FIELD and not _cross_fields_agree(event):
        return None
    at = event_micros(event.event_time)
    return None if at is None or not EARLIEST_US <= at <= now + SLACK_US else (event, at)


def _cross_fields_agree(event) -> bool:
    """The precise validator's cross-field rules (paywall types), on a decoded struct."""
    return not cross_field_problem({**msgspec.structs.asdict(event), "event_type": TYPE_OF[type(event)]})


DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError)
TYPES_OF_TOPIC: dict[str, frozenset] = {topic: frozenset(k for k, t in TOPIC_OF.items() if t == topic)
                                        for topic in set(TOPIC_OF.values())}
_TIME, _HEAD, _TAIL = attrgetter("event_time"), itemgetter(slice(None, 19)), itemgetter(slice(19, None))


def accept_all(values: list[bytes], topic: str | None, now: int | None = None) -> tuple[list, list[int], list[int]]:
    """`accept` over many messages: (structs, their µs, their positions in `values`). A position
    missing from the last list is for schemas.validate.validate to decide.

    Each rule is checked a column at a time (map over the batch, in C), and only the events it
    concerns take a Python step: the types of another topic, the two types with a cross-field
    rule, and event times whose second or fraction has not been seen before."""
    now = now_us() if now is None else now
    if None in values:                       # a message without a value (a tombstone): the precise path says why
        values = [b"" if raw is None else raw for raw in values]
    events = []
    append, decode = events.append, DECODE
    failed = False
    blob = b"\n".join(values)
    if NUL_ESCAPE in blob or HUGE_NUMBER.search(blob) or max(map(len, values), default=0) > MAX_MESSAGE_BYTES:
        values = [b"" if suspect(raw) else raw for raw in values]        # b"" fails to decode: precise path
    for raw in values:
        try:
            append(decode(raw))
        except DECODE_ERRORS:
            append(None)
            failed = True
    positions = range(len(values))
    if failed:
        positions = [n for n, event in enumerate(events) if event is not None]
        events = [events[n] for n in positions]
    kinds = set(map(type, events))
    if topic is not None and not kinds <= TYPES_OF_TOPIC.get(topic, frozenset()):
        events, positions = _keep(events, positions, [TOPIC_OF[type(e)] == topic for e in events])
    if kinds & CROSS_FIELD:
        events, positions = _keep(events, positions,
                                  [type(e) not in CROSS_FIELD or _cross_fields_agree(e) for e in events])
    texts = list(map(_TIME, events))
    seconds = list(map(_SECONDS.get, map(_HEAD, texts)))
    fractions = list(map(_TAILS.get, map(_TAIL, texts)))
    if None in seconds or None in fractions:
        micros = [event_micros(t) if s is None or f is None else s * 1_000_000 + f
                  for s, f, t in zip(seconds, fractions, texts)]
        if None in micros:
            keep = [m is not None for m in micros]
            micros = list(compress(micros, keep))
            events, positions = _keep(events, positions, keep)
    else:
        micros = [s * 1_000_000 + f for s, f in zip(seconds, fractions)]
    if micros and (min(micros) < EARLIEST_US or max(micros) > now + SLACK_US):
        keep = [EARLIEST_US <= m <= now + SLACK_US for m in micros]
        micros = list(compress(micros, keep))
        events, positions = _keep(events, positions, keep)
    return events, micros, list(positions)


def _keep(events: list, positions, keep: list[bool]) -> tuple[list, list[int]]:
    return list(compress(events, keep)), list(compress(positions, keep))
