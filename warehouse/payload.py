"""events_raw's payload, stored packed: the original JSON text without the values its own columns
already hold, rebuilt byte for byte when read.

    the message's bytes ──pack()──► events_raw.payload_packed ──the `payload` ALIAS (migration 0016)──► the bytes

`pack` replaces the first `"event_id":"<value>"` (or `"event_id": "<value>"`, as json.dumps writes
it; the same for event_time and user_id) with `"event_id":` (or `"event_id": `) and a NUL
byte, but only where the text holds the column's value exactly: the value as the column stores it,
between plain quotes. The ALIAS splits the packed text at each NUL
and puts `"<column value>"` back after the key each piece ends with. Valid JSON never holds a raw
NUL (a string writes it `\\u0000`, and the validator refuses anything else), so every NUL is one of
ours, and a value written any other way (escaped, another time format) simply stays in the text.

event_time is packed only in the form the ALIAS writes back, `YYYY-MM-DDTHH:MM:SS.mmmZ` (what the
simulator and most SDKs send): its text is then a function of event_time and event_time_us.

Those three values are most of the payload's compressed size: 15.9 B/event on the demo's data
(zstd), 4.9 with them out (warehouse/README.md, "Storage"). title_id would take 0.45 B more for
a fourth search per event; event_type, app_id and schema_version compress to almost nothing.
tests/warehouse/test_payload.py round-trips the golden set and the simulator's output through
ClickHouse.
"""
from __future__ import annotations

MARK = b"\0"
PACKED = ("event_id", "event_time", "user_id")      # in the ALIAS's order too


def _is_packable_time(text: str) -> bool:
    # the one shape the ALIAS writes back; a parsed event_time of this shape re-formats to itself
    return len(text) == 24 and text[10] == "T" and text[19] == "." and text[23] == "Z" and text.isascii()


def pack(value: bytes, event_id: str, event_time: str, user_id: str | None) -> bytes:
    """The payload as events_raw stores it (see the module's docstring). The values are the ones
    the row's columns hold (None: the event has no user_id). About 1.5 µs an event: the worker's
    one per-event step here, so it is written for speed (bytes.replace returns the very object it
    was given when it finds nothing)."""
    text = event_id.encode()
    packed = value.replace(b'"event_id":"' + text + b'"', b'"event_id":\0', 1)
    if packed is value:
        packed = value.replace(b'"event_id": "' + text + b'"', b'"event_id": \0', 1)
    if _is_packable_time(event_time):
        value, text = packed, event_time.encode()
        packed = value.replace(b'"event_time":"' + text + b'"', b'"event_time":\0', 1)
        if packed is value:
            packed = value.replace(b'"event_time": "' + text + b'"', b'"event_time": \0', 1)
    if user_id is not None:
        value, text = packed, user_id.encode()
        packed = value.replace(b'"user_id":"' + text + b'"', b'"user_id":\0', 1)
        if packed is value:
            packed = value.replace(b'"user_id": "' + text + b'"', b'"user_id": \0', 1)
    return packed


def unpack(packed: bytes, event_id: str, event_time: str, user_id: str) -> bytes:
    """What the `payload` ALIAS computes, in Python (for tests and tools that read payload_packed):
    each piece before a NUL ends with the key (and its `:` or `: `) whose value goes back."""
    values = {b"event_id": event_id, b"event_time": event_time, b"user_id": user_id}
    pieces = packed.split(MARK)
    out = []
    for piece in pieces[:-1]:
        head = piece.rstrip(b" ")[:-2]                  # up to the key's closing quote
        key = head[head.rindex(b'"') + 1:]
        out.append(piece + b'"%s"' % values[key].encode())
    out.append(pieces[-1])
    return b"".join(out)
