"""Pure helpers that turn one fetch of Kafka messages into warehouse columns.

No I/O here: the worker's state (streams/memory.py) and writer (streams/writer.py) read, call
these, and write. The one question classification has for ClickHouse, whether a remembered id is
stored (a digest match confirmed), is handed in as `confirm`. Tested alone.

    one partition's messages ──classify (validate, de-duplicate, lateness, segment)──► Part
        Part + a table's high-water mark ──<table>_columns(…)──► columns in warehouse/tables.py order
                                                                 ──► one insert per table

A Part keeps its accepted events in parallel lists (offsets, events, types, µs, late, segment)
and, per event type, the indices of its events, so each table's builder visits only the types
it counts. A table's high-water mark cuts a Part to a suffix (`Part.cut`): offsets are sorted.
Aggregates are plain lists keyed by tuples; columns are built directly, no dict per row.
"""
from __future__ import annotations

import bisect
from itertools import compress
from datetime import datetime, timedelta
from operator import attrgetter
from types import SimpleNamespace
from typing import Callable, Iterable, NamedTuple

import numpy as np
import orjson

from schemas.compiled import STRUCTS, TYPE_OF, accept_all
from schemas.validate import MAX_MESSAGE_BYTES, Accepted, quote, utc_now, validate
from streams.dedup import digests
from streams.state import MINUTE_US, UNKNOWN_SEGMENT, PartitionMemory
from warehouse.metrics import title_rules
from warehouse.payload import pack
from warehouse.tables import EPISODE_COUNTERS, TITLE_COUNTERS

ALLOWED_LATENESS = timedelta(seconds=3600)
HOOK_MS = 3000           # the "golden three seconds" of a teaser
EPOCH = datetime(1970, 1, 1)
CONTENT_TYPES = ("script_created", "episode_released", "title_launched")
SEGMENT_TYPES = frozenset(("episode_start", "purchase", "ad_impression"))


class Message(NamedTuple):
    """A Kafka message as the batch functions need it (aiokafka's ConsumerRecord fits too)."""
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class Invalid(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    reason: str
    detail: str


class Part:
    """One partition's share of a batch, classified; accepted events in parallel lists."""

    def __init__(self, topic: str, partition: int, offsets: list[int]):
        self.topic, self.partition = topic, partition
        self.offsets = offsets                     # every message, ascending
        self.first, self.last = offsets[0], offsets[-1]
        self.accepted: list[int] = []              # offsets of accepted first sightings
        self.events: list = []                     # their decoded events (attribute access)
        self.types: list[str] = []                 # their event types
        self.micros: list[int] = []                # event time, µs since the epoch, UTC
        self.late: list[bool] = []
        self.segments: dict = {}                   # index → (gender, age_band, country), SEGMENT_TYPES only
        self.values: list[bytes] = []              # the original bytes
        self.by_type: dict[str, list[int]] = {}    # event type → indices into the lists above
        self.invalid: list[Invalid] = []
        self.duplicates: list[int] = []            # offsets of resent events

    def subset(self, keep: list[int], refused: Iterable["Invalid"] = ()) -> "Part":
        """The same partition's share with only the accepted events at indices `keep` (in order),
        and `refused` added to its rejected messages: how one event's processing_error is taken out."""
        part = Part(self.topic, self.partition, self.offsets)
        part.invalid = sorted([*self.invalid, *refused], key=lambda i: i.offset)
        part.duplicates = self.duplicates
        for name in ("accepted", "events", "types", "micros", "late", "values"):
            column = getattr(self, name)
            setattr(part, name, [column[n] for n in keep])
        part.segments = {k: self.segments[n] for k, n in enumerate(keep) if n in self.segments}
        for k, etype in enumerate(part.types):
            part.by_type.setdefault(etype, []).append(k)
        return part

    def cut(self, high_water: dict) -> int:
        """Index of the first accepted event past a table's mark for this partition."""
        mark = high_water.get((self.topic, self.partition), -1)
        return 0 if mark < self.first else bisect.bisect_right(self.accepted, mark)

    def fresh(self, high_water: dict) -> bool:
        return high_water.get((self.topic, self.partition), -1) < self.last


def contract_topic(topic: str, namespace: str) -> str:
    """`ns.drama.viewing` → `drama.viewing` (the name events-v1.md uses)."""
    return topic[len(namespace) + 1:] if namespace and topic.startswith(namespace + ".") else topic


_FIELDS = {name: tuple(struct.__struct_fields__) for name, struct in STRUCTS.items()}


def _as_event(event: dict):
    """An event the precise validator accepted but msgspec did not (e.g. `"schema_version": null`),
    with the same attributes as its Struct."""
    fields = _FIELDS[event["event_type"]]
    return SimpleNamespace(**{name: event.get(name) for name in fields})


def classify(topic: str, partition: int, messages: list, memory: PartitionMemory, profiles: dict,
             namespace: str = "", confirm: Callable[[list[str]], set] | None = None,
             lateness: timedelta = ALLOWED_LATENESS, now: datetime | None = None, commit: bool = True) -> Part:
    """Validate, de-duplicate and window-check one partition's messages, in offset order.

    memory: the partition's watermark and remembered ids; profiles: user_id → segment (from
    user_profile events as they pass); confirm(ids) → the ids among them that events_raw holds for
    this partition (a digest match is a duplicate only if confirmed; without confirm, as in the
    replay, which reads events_raw itself, every digest match is one); now: the worker's clock
    (naive UTC), which no event time may pass by more than 5 minutes.

    memory and profiles change only at the very end, once everything else has succeeded, and not
    at all with commit=False (a dry run: which messages can be classified?). A classification
    that raises leaves them as they were."""
    part = Part(topic, partition, list(map(_OFFSET, messages)))
    wanted = contract_topic(topic, namespace)
    now = now or utc_now()
    # 1. Every field rule, compiled; what the fast path leaves, the precise validator decides.
    raw = list(map(_VALUE, messages))
    events, micros, kept = accept_all(raw, wanted, (now - EPOCH) // timedelta(microseconds=1))
    types = list(map(TYPE_OF.__getitem__, map(type, events)))
    if len(kept) < len(messages):
        events, micros, kept, types = _precise(part, messages, wanted, events, micros, kept, types, now)
    if not kept:
        return part
    # 2. Remembered digests, all at once; a match is confirmed against events_raw.
    ids = list(map(_ID, events))
    found = memory.table.find(digests(ids))
    suspects = np.flatnonzero(found >= memory.cutoff)
    if suspects.size:
        asked = [ids[i] for i in suspects]
        held = confirm(asked) if confirm else set(asked)
        for i in suspects:
            if ids[i] not in held:                       # a digest collision: a new id after all
                found[i] = -1
    known = found.tolist()
    # 3. In offset order, as the spec reads: duplicate, late, and the watermark.
    lateness_us = lateness // timedelta(microseconds=1)
    horizon_us = memory.horizon_us
    watermark = memory.watermark if memory.watermark is not None else NO_WATERMARK
    cutoff = memory.cutoff
    batch_ids: dict[str, int] = {}
    duplicates, late = [], []
    get = batch_ids.get
    for n, event_id in enumerate(ids):
        if get(event_id, known[n]) >= cutoff:
            duplicates.append(n)
            continue
        at = micros[n]
        minute = at // MINUTE_US
        batch_ids[event_id] = minute if minute > cutoff else cutoff
        if watermark - at > lateness_us:
            late.append(n)
        elif at > watermark:
            watermark = at
            if (at - horizon_us) // MINUTE_US > cutoff:
                cutoff = (at - horizon_us) // MINUTE_US
    stamps = np.fromiter(batch_ids.values(), np.int64, len(batch_ids))
    alive = stamps >= cutoff
    remembered = digests(list(batch_ids))[alive], stamps[alive].astype(np.int32), cutoff
    # 4. The accepted first sightings, in parallel lists.
    if len(kept) == len(messages):
        offsets, values = part.offsets, raw
    else:
        offsets, values = [part.offsets[n] for n in kept], [raw[n] for n in kept]
    flags = [False] * len(kept)
    for n in late:
        flags[n] = True
    if duplicates:
        part.duplicates = [offsets[n] for n in duplicates]
        keep = [True] * len(kept)
        for n in duplicates:
            keep[n] = False
        offsets, values, events, micros, types, flags = (
            list(compress(column, keep)) for column in (offsets, values, events, micros, types, flags))
    part.accepted, part.values, part.events, part.micros, part.late = offsets, values, events, micros, flags
    part.types = types
    if len(set(types)) == 1:
        part.by_type[types[0]] = list(range(len(types)))
    else:
        for n, etype in enumerate(types):
            part.by_type.setdefault(etype, []).append(n)
    profiled = {}
    for n in part.by_type.get("user_profile", ()):
        e = events[n]
        profiled[e.user_id] = (e.gender, e.age_band, e.country)
    for etype in SEGMENT_TYPES:
        for n in part.by_type.get(etype, ()):
            user = events[n].user_id
            part.segments[n] = profiled.get(user) or profiles.get(user, UNKNOWN_SEGMENT)
    # 5. Everything computed: only now does the partition's state move.
    if commit:
        memory.table.add(*remembered)
        memory.watermark = None if watermark == NO_WATERMARK else watermark
        memory.cutoff = cutoff
        profiles.update(profiled)
    return part


NO_WATERMARK = -(1 << 62)
_OFFSET, _VALUE, _ID, _USER, _TITLE, _APP, _TIME = (
    attrgetter(name) for name in ("offset", "value", "event_id", "user_id", "title_id", "app_id", "event_time"))


def _or_empty(column: list) -> list:
    """None → "" (ClickHouse's String has no NULL), without a Python step per value when none is None."""
    return [v or "" for v in column] if None in column else column


def _precise(part: Part, messages: list, wanted: str, events, micros, kept, types, now: datetime):
    """The messages the compiled path left: rejected with their reason, or accepted after all."""
    fast = set(kept)
    merged = list(zip(kept, events, micros, types))
    for n, m in enumerate(messages):
        if n in fast:
            continue
        verdict = validate(m.value, wanted, now)
        if isinstance(verdict, Accepted):
            merged.append((n, _as_event(verdict.event), (verdict.event_time - EPOCH) // timedelta(microseconds=1),
                           verdict.event["event_type"]))
        else:
            part.invalid.append(Invalid(part.topic, part.partition, m.offset, m.key, m.value or b"", verdict.reason,
                                        verdict.detail))
    merged.sort(key=lambda row: row[0])
    if not merged:
        return [], [], [], []
    kept, events, micros, types = (list(column) for column in zip(*merged))
    return events, micros, kept, types


def isolate(parts: list[Part], build: Callable[[list[Part], dict], object]) -> list[Part]:
    """The parts without the accepted events whose own columns cannot be built: each such event
    becomes a processing_error with the exception it raised. `build(parts, marks)` is what raised
    for the whole; it is tried on each event alone (slow, and only after a failure)."""
    out = []
    for p in parts:
        keep, refused = [], []
        for n in range(len(p.accepted)):
            try:
                build([p.subset([n])], {})
            except Exception as error:  # noqa: BLE001 - this event's own effect cannot be computed
                refused.append(processing_error(p.topic, p.partition, p.accepted[n], None, p.values[n], error))
            else:
                keep.append(n)
        out.append(p.subset(keep, refused) if refused else p)
    return out


# --- columns ---------------------------------------------------------------------------------------
def _stamp(part: Part, n: int) -> list[list]:
    # the topic as bytes: clickhouse-driver writes bytes as they are, and encodes each str
    return [[part.topic.encode()] * n, [part.partition] * n, [part.first] * n, [part.last] * n]


def _extend(columns: list[list] | None, more: list) -> list[list]:
    if columns is None:
        return [list(c) for c in more]
    for column, values in zip(columns, more):
        column.extend(values)
    return columns


def raw_columns(parts: Iterable[Part], high_water: dict) -> list[list] | None:
    """events_raw: every accepted first sighting."""
    out = None
    for p in parts:
        c = p.cut(high_water)
        events, micros = p.events[c:], p.micros[c:]
        if not events:
            continue
        types = p.types[c:]
        n = len(events)
        seconds, fractions = np.divmod(np.array(micros, dtype=np.int64), 1_000_000)
        ids, users = list(map(_ID, events)), list(map(_USER, events))
        packed = list(map(pack, p.values[c:], ids, map(_TIME, events), users))    # the bytes read, packed
        out = _extend(out, [
            ids, types, seconds.tolist(), fractions.tolist(), list(map(_APP, events)), _or_empty(users),
            _or_empty(list(map(_TITLE, events))), [p.topic.encode()] * n, [p.partition] * n, p.accepted[c:], packed])
    return out


def rejected_columns(parts: Iterable[Part], high_water: dict) -> tuple[list[Invalid], list[list] | None]:
    """events_rejected (and drama.dlq): the rejected messages past the table's mark."""
    fresh = [i for p in parts for i in p.invalid if i.offset > high_water.get((i.topic, i.partition), -1)]
    return fresh, rejected_rows(fresh)


def rejected_rows(invalid: list[Invalid]) -> list[list] | None:
    """events_rejected's columns for these rejected messages."""
    if not invalid:
        return None
    return [[i.topic for i in invalid], [i.partition for i in invalid], [i.offset for i in invalid],
            [i.reason for i in invalid], [i.detail for i in invalid],
            [dlq_value(i).decode("utf-8", "replace") for i in invalid]]


# the tables whose rows come from accepted events: by their own place, or by their window of a partition
BY_PLACE = frozenset(("events_raw", "title_events"))
BY_WINDOW = frozenset(("title_metrics_1m_parts", "episode_metrics_1m_parts", "segment_metrics_1m_parts"))


def refused_events(parts: Iterable[Part], rows: list[tuple[str, dict, str]]) -> list[Invalid]:
    """The accepted events behind rows that ClickHouse refused ((table, row, why), from
    warehouse/sink.py's `refused`), as processing_error: by (topic, partition, offset) in a table of
    one row per event, else every event of the row's partition in its minute (and of its title,
    where the row has one). Rows of other tables (rejects, pipeline health, first views) have no
    event of their own."""
    by_place = {(p.topic, p.partition): p for p in parts}
    out: dict = {}
    for table, row, why in rows:
        if table not in BY_PLACE and table not in BY_WINDOW:
            continue
        place = (row["topic"], row["partition"]) if table in BY_PLACE else (row["src_topic"], row["src_partition"])
        p = by_place.get((place[0].decode() if isinstance(place[0], bytes) else place[0], place[1]))
        if p is None:
            continue
        if table in BY_PLACE:
            found = [p.accepted.index(row["offset"])] if row["offset"] in p.accepted else []
        else:
            window = row["window_start"]
            minute = (window if isinstance(window, int) else int(window.timestamp())) // 60
            title = row.get("title_id")
            found = [n for n in range(len(p.accepted)) if p.micros[n] // MINUTE_US == minute
                     and (title is None or getattr(p.events[n], "title_id", None) == title)]
        for n in found:
            error = RefusedRow(f"ClickHouse refused a row of {table} it counts in: {why}")
            out[(p.topic, p.partition, p.accepted[n])] = processing_error(p.topic, p.partition, p.accepted[n], None,
                                                                          p.values[n], error)
    return list(out.values())


class RefusedRow(Exception):
    """ClickHouse would not store a row this event contributes to (a data error, not a passing one)."""


def dlq_headers(invalid: Invalid) -> list[tuple[str, bytes]]:
    """Where a rejected message came from and why, as Kafka headers on its drama.dlq copy."""
    headers = [("source_topic", invalid.topic.encode()), ("source_partition", str(invalid.partition).encode()),
               ("source_offset", str(invalid.offset).encode()), ("reason", invalid.reason.encode()),
               ("detail", invalid.detail.encode())]
    if len(invalid.value) > MAX_MESSAGE_BYTES:
        headers.append(("truncated_from", str(len(invalid.value)).encode()))
    return headers


def dlq_value(invalid: Invalid) -> bytes:
    """The bytes a dead letter carries: the original, cut to its first 64 KiB when larger (events-v1:
    a larger message is refused and its first 64 KiB kept), so a dead letter always fits the producer."""
    return invalid.value[:MAX_MESSAGE_BYTES]


def processing_error(topic: str, partition: int, offset: int, key: bytes | None, value: bytes,
                     error: BaseException) -> Invalid:
    """A message that passed every rule and still could not be computed or stored (events-v1)."""
    return Invalid(topic, partition, offset, key, value, "processing_error",
                   f"{type(error).__name__}: {quote(str(error))}")


# --- title_metrics_1m ------------------------------------------------------------------------------
_T = {name: n for n, name in enumerate(TITLE_COUNTERS)}
# event type → (the counter it counts, (counter, attribute summed) …): from the declaration, warehouse/metrics.py
TITLE_RULES = title_rules()
_TITLE_RULES = {etype: (None if count is None else _T[count], tuple((_T[c], attrgetter(a)) for c, a in sums))
                for etype, (count, sums) in TITLE_RULES.items()}
_HOOK, _UNLOCK = _T["hook_views"], {m: _T["unlocks_" + m] for m in ("coins", "subscription", "rewarded_ad")}
_ZEROS = [0] * len(TITLE_COUNTERS)


def title_columns(parts: Iterable[Part], high_water: dict) -> list[list] | None:
    """Counters per (window, title), and one row per (window, title, viewer) for unique_viewers."""
    out = None
    for p in parts:
        c = p.cut(high_water)
        sums: dict = {}
        viewers: set = set()
        late, micros, events = p.late, p.micros, p.events
        for etype, indices in p.by_type.items():
            rule = _TITLE_RULES.get(etype)
            if rule is None:
                continue
            count, adds = rule
            for i in indices:
                if i < c or late[i]:
                    continue
                e = events[i]
                key = (micros[i] // MINUTE_US, e.title_id)
                row = sums.get(key)
                if row is None:
                    row = sums[key] = _ZEROS[:]
                if count is not None:
                    row[count] += 1
                for column, get in adds:
                    row[column] += get(e)
                if etype == "teaser_view":
                    row[_HOOK] += e.watch_ms >= HOOK_MS
                elif etype == "episode_unlocked":
                    row[_UNLOCK[e.method]] += 1
                elif etype == "episode_start":
                    viewers.add(key + (e.user_id,))
        if not sums:
            continue
        keys = list(sums) + sorted(viewers)
        n, summed = len(keys), len(sums)
        counters = [list(col) + [0] * (n - summed) for col in zip(*sums.values())]
        out = _extend(out, [[k[0] * 60 for k in keys], [k[1] for k in keys],
                            [""] * summed + [k[2] for k in keys[summed:]], *counters, *_stamp(p, n)])
    return out


# --- episode_metrics_1m ----------------------------------------------------------------------------
_EPISODE = {"episode_start": 0, "episode_complete": 1, "episode_exit": 2, "paywall_shown": 3, "episode_unlocked": 4}


def episode_columns(parts: Iterable[Part], high_water: dict) -> list[list] | None:
    out = None
    for p in parts:
        c = p.cut(high_water)
        sums: dict = {}
        for etype, column in _EPISODE.items():
            for i in p.by_type.get(etype, ()):
                if i < c or p.late[i]:
                    continue
                e = p.events[i]
                key = (p.micros[i] // MINUTE_US, e.title_id, e.episode)
                row = sums.get(key)
                if row is None:
                    row = sums[key] = [0] * len(EPISODE_COUNTERS)
                row[column] += 1
        if sums:
            n = len(sums)
            out = _extend(out, [[k[0] * 60 for k in sums], [k[1] for k in sums], [k[2] for k in sums],
                                *map(list, zip(*sums.values())), *_stamp(p, n)])
    return out


# --- segment_metrics_1m ----------------------------------------------------------------------------
def segment_columns(parts: Iterable[Part], high_water: dict) -> list[list] | None:
    """Money per (window, segment), and one row per (window, segment, user) that viewed or paid."""
    out = None
    for p in parts:
        c = p.cut(high_water)
        sums: dict = {}                 # (minute, segment) → [purchases, iap, ads]
        users: dict = {}                # (minute, segment, user) → [viewer, payer]
        for etype in SEGMENT_TYPES:
            for i in p.by_type.get(etype, ()):
                if i < c or p.late[i]:
                    continue
                e = p.events[i]
                key = (p.micros[i] // MINUTE_US, p.segments[i])
                if etype != "episode_start":
                    row = sums.get(key)
                    if row is None:
                        row = sums[key] = [0, 0.0, 0.0]
                    if etype == "purchase":
                        row[0] += 1
                        row[1] += e.amount_usd
                    else:
                        row[2] += e.revenue_usd
                if etype != "ad_impression":
                    flags = users.setdefault(key + (e.user_id,), [0, 0])
                    flags[etype == "purchase"] = 1
        keys = list(sums) + list(users)
        if not keys:
            continue
        n, summed = len(keys), len(sums)
        money = list(sums.values()) + [[0, 0.0, 0.0]] * (n - summed)
        flags = [[0, 0]] * summed + list(users.values())
        out = _extend(out, [[k[0] * 60 for k in keys], [k[1][0] for k in keys], [k[1][1] for k in keys],
                            [k[1][2] for k in keys], [""] * summed + [k[2] for k in keys[summed:]],
                            [f[0] for f in flags], [f[1] for f in flags], [m[0] for m in money],
                            [m[1] for m in money], [m[2] for m in money], *_stamp(p, n)])
    return out


# --- titles and the loop ---------------------------------------------------------------------------
def title_event_columns(parts: Iterable[Part], high_water: dict) -> list[list] | None:
    """One row per content event (late or not: a title's facts are not windowed)."""
    rows = []
    for p in parts:
        c = p.cut(high_water)
        for etype in CONTENT_TYPES:
            for i in p.by_type.get(etype, ()):
                if i < c:
                    continue
                e, micros = p.events[i], p.micros[i]
                rows.append((e.title_id, etype, micros // 1_000_000, micros / 1_000_000,
                             getattr(e, "trope", "") or "", getattr(e, "genre", "") or "",
                             getattr(e, "origin", "") or "", getattr(e, "adaptation", None) or "",
                             getattr(e, "parent_title_id", None) or "", getattr(e, "signal_id", None) or "",
                             getattr(e, "episode", 0) or 0, getattr(e, "production_cost_usd", 0.0) or 0.0,
                             int(bool(getattr(e, "virtual_actors", False))), getattr(e, "episodes_total", 0) or 0,
                             getattr(e, "free_episodes", 0) or 0, p.topic, p.partition, p.accepted[i],
                             getattr(e, "title_name", None) or "",
                             audience_scale(p.values[i]) if etype == "script_created" else 1.0))
    return [list(col) for col in zip(*rows)] if rows else None


def audience_scale(value: bytes) -> float:
    """The share of the audience its titles are made for that a producer's events cover: the extra
    field `sim_audience_scale` of script_created (the simulator's), 1 when absent or not a positive number."""
    try:
        scale = orjson.loads(value).get("sim_audience_scale")
    except (orjson.JSONDecodeError, AttributeError):
        return 1.0
    ok = isinstance(scale, (int, float)) and not isinstance(scale, bool) and 0 < scale < float("inf")
    return float(scale) if ok else 1.0


def first_view_columns(parts: Iterable[Part], high_water: dict) -> list[list] | None:
    """The earliest episode_start per title in the batch (late ones too: a view is a view)."""
    out = None
    for p in parts:
        c = p.cut(high_water)
        first: dict = {}
        for i in p.by_type.get("episode_start", ()):
            if i >= c:
                title, micros = p.events[i].title_id, p.micros[i]
                if micros < first.get(title, micros + 1):
                    first[title] = micros
        if first:
            out = _extend(out, [list(first), [t / 1_000_000 for t in first.values()], *_stamp(p, len(first))])
    return out


# --- pipeline_health_1m ----------------------------------------------------------------------------
def health_columns(parts: Iterable[Part], high_water: dict, now: datetime) -> list[list] | None:
    """Per partition: what came in and what became of it, in the minute it was processed."""
    now_us = (now - EPOCH) // timedelta(microseconds=1)
    rows = []
    for p in parts:
        mark = high_water.get((p.topic, p.partition), -1)
        if mark >= p.last:
            continue
        c = p.cut(high_water)
        events_in = len(p.offsets) - bisect.bisect_right(p.offsets, mark)
        oldest = min(p.micros[c:], default=None)
        rows.append((now_us // MINUTE_US * 60, events_in, len(p.accepted) - c,
                     sum(1 for o in p.duplicates if o > mark), sum(1 for i in p.invalid if i.offset > mark),
                     sum(p.late[c:]), 0.0 if oldest is None else (now_us - oldest) / 1_000_000,
                     p.topic, p.partition, p.first, p.last))
    return [list(col) for col in zip(*rows)] if rows else None


# --- feedback for the re-create loop ---------------------------------------------------------------
FEEDBACK_WEIGHTS = {"episode_start": 1.0, "episode_complete": 1.0, "like": 3.0, "share": 5.0, "comment": 2.0,
                    "episode_unlocked": 3.0, "purchase": 5.0}
GOOD_RATING = 4          # a rating of 4 or 5 stars counts like a like


def feedback_scores(parts: Iterable[Part], high_water: dict) -> dict:
    """(title_id, minute) → (score increment, the latest event time of it), from the batch's
    accepted, on-time events past the title_metrics mark (what this batch adds to the windows).
    The event time is the signal's clock (streams/trends.py): a replayed past stays in the past."""
    scores: dict = {}
    latest: dict = {}
    for p in parts:
        c = p.cut(high_water)
        for etype, indices in p.by_type.items():
            weight = FEEDBACK_WEIGHTS.get(etype, 0.0)
            if etype != "rating" and not weight:
                continue
            for i in indices:
                if i < c or p.late[i]:
                    continue
                e = p.events[i]
                w = (FEEDBACK_WEIGHTS["like"] if e.stars >= GOOD_RATING else 0.0) if etype == "rating" else weight
                if w:
                    at = p.micros[i]
                    key = (e.title_id, at // MINUTE_US)
                    scores[key] = scores.get(key, 0.0) + w
                    if at > latest.get(key, 0):
                        latest[key] = at
    return {(title, EPOCH + timedelta(minutes=minute)): (score, EPOCH + timedelta(microseconds=latest[title, minute]))
            for (title, minute), score in scores.items()}
