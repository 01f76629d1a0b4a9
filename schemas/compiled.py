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
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal, Optional, Union

import msgspec

from schemas.events import EVENT_TYPES, SCHEMA_VERSION, FieldSpec, field_specs
from schemas.validate import RFC3339, cross_field_problem

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MICROSECOND = timedelta(microseconds=1)
ZERO = timedelta(0)


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
    required = [(s.name, _annotation(s)) for s in specs if s.required]
    optional = [(s.name, _annotation(s), None) for s in specs if not s.required and s.name != "schema_version"]
    version = ("schema_version", Literal[SCHEMA_VERSION], SCHEMA_VERSION)
    return msgspec.defstruct(event_type, [*required, *optional, version], tag_field="event_type", tag=event_type,
                             kw_only=True, frozen=True, gc=False)


STRUCTS: dict[str, type[msgspec.Struct]] = {name: _struct(name, field_specs(cls)) for name, cls in EVENT_TYPES.items()}
TYPE_OF: dict[type, str] = {struct: name for name, struct in STRUCTS.items()}
TOPIC_OF: dict[type, str] = {STRUCTS[name]: cls.TOPIC for name, cls in EVENT_TYPES.items()}
CROSS_FIELD = frozenset(STRUCTS[name] for name in ("episode_unlocked", "purchase"))
DECODE = msgspec.json.Decoder(Union[tuple(STRUCTS.values())]).decode


_SECONDS: dict[str, int] = {}   # "YYYY-MM-DDTHH:MM:SS" already checked → seconds since the epoch
_SECONDS_KEPT = 100_000


def event_micros(text: str) -> int | None:
    """RFC 3339 with a zone (the precise validator's pattern) → µs since the epoch, UTC.

    Events of one second share their first 19 characters: those are checked and converted once,
    then only the fraction and the zone are read (`Z` or `.digitsZ`; other zones take the
    general path)."""
    seconds = _SECONDS.get(text[:19])
    if seconds is not None:
        tail = text[19:]
        if tail == "Z" or tail == "z":
            return seconds * 1_000_000
        digits = tail[1:-1]
        if tail[:1] == "." and tail[-1] in "Zz" and 0 < len(digits) <= 6 and digits.isascii() and digits.isdigit():
            return seconds * 1_000_000 + int(digits.ljust(6, "0"))
    if not RFC3339.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    micros = (moment - EPOCH) // ONE_MICROSECOND
    if moment.utcoffset() == ZERO:
        if len(_SECONDS) >= _SECONDS_KEPT:
            _SECONDS.clear()
        _SECONDS[text[:19]] = micros // 1_000_000
    return micros


def accept(raw: bytes, topic: str | None):
    """(struct, event time in µs) when `raw` is a valid event for `topic`; None for anything else.

    None does not mean invalid: it means "ask schemas.validate.validate", which decides."""
    try:
        event = DECODE(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    kind = type(event)
    if topic is not None and TOPIC_OF[kind] != topic:
        return None
    if kind in CROSS_FIELD and cross_field_problem({**msgspec.structs.asdict(event), "event_type": TYPE_OF[kind]}):
        return None
    micros = event_micros(event.event_time)
    if micros is None:
        return None
    return event, micros
