"""Pure helpers that turn one batch of Kafka messages into warehouse rows.

No I/O here: the agent (streams/ingest.py) reads, calls these, and writes. Tested alone.

    messages ──classify (validate, de-duplicate, lateness, segment)──► Valid / Invalid
             ──fresh(…, table's high-water mark)──► rows_for_<table>(…) ──► one insert per table
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Iterable, NamedTuple

from schemas.validate import Accepted, validate
from streams.state import UNKNOWN_SEGMENT, PartitionState

ALLOWED_LATENESS = timedelta(seconds=3600)
HOOK_MS = 3000  # the "golden three seconds" of a teaser


class Message(NamedTuple):
    topic: str          # the Kafka topic as read (namespace included)
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class Valid(NamedTuple):
    message: Message
    event: dict
    event_time: datetime   # UTC, naive, microseconds kept
    late: bool             # too late for its window: in events_raw, not in the windows
    segment: tuple         # (gender, age_band, country) of the user when it was processed


class Invalid(NamedTuple):
    message: Message
    reason: str
    detail: str


class Sorted(NamedTuple):
    valid: list            # accepted, first sightings (late ones included)
    invalid: list          # rejected, with their reasons
    duplicates: list       # messages whose event_id was first seen at another offset


def contract_topic(topic: str, namespace: str) -> str:
    """`ns.drama.viewing` → `drama.viewing` (the name events-v1.md uses)."""
    return topic[len(namespace) + 1:] if namespace and topic.startswith(namespace + ".") else topic


def classify(messages: Iterable[Message], states: dict, profiles: dict, namespace: str = "",
             lateness: timedelta = ALLOWED_LATENESS) -> Sorted:
    """Validate, de-duplicate and window-check each message, in order, updating the states.

    states: (topic, partition) → PartitionState; profiles: user_id → segment (updated by
    user_profile events as they are processed)."""
    out = Sorted([], [], [])
    for m in messages:
        verdict = validate(m.value, contract_topic(m.topic, namespace))
        if not isinstance(verdict, Accepted):
            out.invalid.append(Invalid(m, verdict.reason, verdict.detail))
            continue
        state: PartitionState = states[(m.topic, m.partition)]
        event, moment = verdict.event, verdict.event_time
        if not state.first_sighting(event["event_id"], m.offset, moment):
            out.duplicates.append(m)
            continue
        late = state.watermark is not None and state.watermark - moment > lateness
        state.advance(moment)
        if event["event_type"] == "user_profile":
            profiles[event["user_id"]] = (event["gender"], event["age_band"], event["country"])
        segment = profiles.get(event.get("user_id"), UNKNOWN_SEGMENT)
        out.valid.append(Valid(m, event, moment, late, segment))
    return out


def fresh(items: Iterable, high_water: dict) -> list:
    """Only what lies past a table's high-water mark: what a replay must not write again."""
    return [i for i in items if i.message.offset > high_water.get((i.message.topic, i.message.partition), -1)]


def spans(messages: Iterable[Message]) -> dict:
    """(topic, partition) → (first offset, last offset) of a batch."""
    out: dict = {}
    for m in messages:
        first, last = out.get((m.topic, m.partition), (m.offset, m.offset))
        out[(m.topic, m.partition)] = (min(first, m.offset), max(last, m.offset))
    return out


def _stamped(rows: dict, span: dict) -> list[dict]:
    """Aggregates keyed (topic, partition, …) → rows carrying the batch's offset range."""
    out = []
    for (topic, partition, *_), row in rows.items():
        first, last = span[(topic, partition)]
        out.append({**row, "src_topic": topic, "src_partition": partition, "src_first_offset": first,
                    "src_last_offset": last})
    return out


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


# --- events_raw, events_rejected, drama.dlq -----------------------------------------------------
def raw_rows(valid: Iterable[Valid]) -> list[dict]:
    return [{"event_id": v.event["event_id"], "event_type": v.event["event_type"],
             "event_time": v.event_time.replace(microsecond=0), "event_time_us": v.event_time.microsecond,
             "app_id": v.event["app_id"], "user_id": v.event.get("user_id") or "",
             "title_id": v.event.get("title_id") or "", "topic": v.message.topic,
             "partition": v.message.partition, "offset": v.message.offset,
             "payload": v.message.value.decode()} for v in valid]


def rejected_rows(invalid: Iterable[Invalid]) -> list[dict]:
    return [{"topic": i.message.topic, "partition": i.message.partition, "offset": i.message.offset,
             "reason": i.reason, "detail": i.detail, "raw": i.message.value.decode("utf-8", "replace")}
            for i in invalid]


def dlq_headers(invalid: Invalid) -> list[tuple[str, bytes]]:
    """Where a rejected message came from and why, as Kafka headers on its drama.dlq copy."""
    m = invalid.message
    return [("source_topic", m.topic.encode()), ("source_partition", str(m.partition).encode()),
            ("source_offset", str(m.offset).encode()), ("reason", invalid.reason.encode()),
            ("detail", invalid.detail.encode())]


# --- title_metrics_1m ------------------------------------------------------------------------------
TITLE_COUNTERS = ("teaser_impressions", "teaser_views", "hook_views", "teaser_clicks", "installs", "ad_spend_usd",
                  "episode_starts", "episode_completes", "episode_exits", "watch_seconds", "startup_ms_sum",
                  "rebuffer_ms_sum", "paywalls_shown", "unlocks_coins", "unlocks_subscription",
                  "unlocks_rewarded_ad", "coins_spent", "purchases", "iap_revenue_usd", "ad_impressions",
                  "ad_clicks", "ad_revenue_usd", "likes", "shares", "comments", "ratings", "rating_stars_sum")
_COUNT = {"teaser_impression": "teaser_impressions", "teaser_view": "teaser_views", "teaser_click": "teaser_clicks",
          "install": "installs", "episode_start": "episode_starts", "episode_complete": "episode_completes",
          "episode_exit": "episode_exits", "paywall_shown": "paywalls_shown", "purchase": "purchases",
          "ad_impression": "ad_impressions", "ad_click": "ad_clicks", "like": "likes", "share": "shares",
          "comment": "comments", "rating": "ratings"}


def title_rows(valid: Iterable[Valid], span: dict) -> list[dict]:
    """Counters per (window, title), and one row per (window, title, viewer) for unique_viewers."""
    sums: dict = {}
    viewers: dict = {}
    for v in valid:
        e, m = v.event, v.message
        etype = e["event_type"]
        if v.late or (etype not in _COUNT and etype != "episode_unlocked"):
            continue
        key = (m.topic, m.partition, minute(v.event_time), e["title_id"])
        row = sums.get(key)
        if row is None:
            row = sums[key] = {"window_start": key[2], "title_id": key[3], "user_id": "",
                               **dict.fromkeys(TITLE_COUNTERS, 0)}
        if etype in _COUNT:
            row[_COUNT[etype]] += 1
        if etype == "teaser_impression":
            row["ad_spend_usd"] += e["cost_usd"]
        elif etype == "teaser_view":
            row["hook_views"] += e["watch_ms"] >= HOOK_MS
        elif etype == "episode_start":
            row["startup_ms_sum"] += e["startup_ms"]
            vkey = key + (e["user_id"],)
            if vkey not in viewers:
                viewers[vkey] = {"window_start": key[2], "title_id": key[3], "user_id": e["user_id"],
                                 **dict.fromkeys(TITLE_COUNTERS, 0)}
        elif etype == "episode_complete":
            row["watch_seconds"] += e["watch_s"]
            row["rebuffer_ms_sum"] += e["rebuffer_ms"]
        elif etype == "episode_exit":
            row["watch_seconds"] += e["position_s"]
            row["rebuffer_ms_sum"] += e["rebuffer_ms"]
        elif etype == "episode_unlocked":
            row["unlocks_" + e["method"]] += 1
            row["coins_spent"] += e["coins_spent"]
        elif etype == "purchase":
            row["iap_revenue_usd"] += e["amount_usd"]
        elif etype == "ad_impression":
            row["ad_revenue_usd"] += e["revenue_usd"]
        elif etype == "rating":
            row["rating_stars_sum"] += e["stars"]
    return _stamped(sums, span) + _stamped(viewers, span)


# --- episode_metrics_1m ----------------------------------------------------------------------------
_EPISODE = {"episode_start": "starts", "episode_complete": "completes", "episode_exit": "exits",
            "paywall_shown": "paywalls_shown", "episode_unlocked": "unlocks"}


def episode_rows(valid: Iterable[Valid], span: dict) -> list[dict]:
    sums: dict = {}
    for v in valid:
        column = _EPISODE.get(v.event["event_type"])
        if column is None or v.late:
            continue
        m = v.message
        key = (m.topic, m.partition, minute(v.event_time), v.event["title_id"], v.event["episode"])
        row = sums.get(key)
        if row is None:
            row = sums[key] = {"window_start": key[2], "title_id": key[3], "episode": key[4], "starts": 0,
                               "completes": 0, "exits": 0, "paywalls_shown": 0, "unlocks": 0}
        row[column] += 1
    return _stamped(sums, span)


# --- segment_metrics_1m ----------------------------------------------------------------------------
def segment_rows(valid: Iterable[Valid], span: dict) -> list[dict]:
    """Money per (window, segment), and one row per (window, segment, user) that viewed or paid."""
    sums: dict = {}
    users: dict = {}
    for v in valid:
        etype = v.event["event_type"]
        if v.late or etype not in ("episode_start", "purchase", "ad_impression"):
            continue
        m = v.message
        key = (m.topic, m.partition, minute(v.event_time)) + v.segment
        base = {"window_start": key[2], "gender": key[3], "age_band": key[4], "country": key[5]}
        if etype in ("purchase", "ad_impression"):
            row = sums.get(key)
            if row is None:
                row = sums[key] = {**base, "user_id": "", "viewer": 0, "payer": 0, "purchases": 0,
                                   "iap_revenue_usd": 0.0, "ad_revenue_usd": 0.0}
            if etype == "purchase":
                row["purchases"] += 1
                row["iap_revenue_usd"] += v.event["amount_usd"]
            else:
                row["ad_revenue_usd"] += v.event["revenue_usd"]
        if etype in ("episode_start", "purchase"):
            ukey = key + (v.event["user_id"],)
            row = users.get(ukey)
            if row is None:
                row = users[ukey] = {**base, "user_id": v.event["user_id"], "viewer": 0, "payer": 0, "purchases": 0,
                                     "iap_revenue_usd": 0.0, "ad_revenue_usd": 0.0}
            row["viewer" if etype == "episode_start" else "payer"] = 1
    return _stamped(sums, span) + _stamped(users, span)


# --- titles and the loop ---------------------------------------------------------------------------
def title_event_rows(valid: Iterable[Valid]) -> list[dict]:
    """One row per content event (late or not: a title's facts are not windowed)."""
    rows = []
    for v in valid:
        e = v.event
        if e["event_type"] not in ("script_created", "episode_released", "title_launched"):
            continue
        rows.append({"title_id": e["title_id"], "event_type": e["event_type"],
                     "event_time": v.event_time.replace(microsecond=0), "event_ts": epoch(v.event_time),
                     "trope": e.get("trope", ""), "genre": e.get("genre", ""), "origin": e.get("origin", ""),
                     "adaptation": e.get("adaptation") or "", "parent_title_id": e.get("parent_title_id") or "",
                     "signal_id": e.get("signal_id") or "", "episode": e.get("episode", 0),
                     "production_cost_usd": e.get("production_cost_usd", 0.0),
                     "virtual_actors": int(e.get("virtual_actors", False)),
                     "episodes_total": e.get("episodes_total", 0), "free_episodes": e.get("free_episodes", 0),
                     "topic": v.message.topic, "partition": v.message.partition, "offset": v.message.offset})
    return rows


def first_view_rows(valid: Iterable[Valid], span: dict) -> list[dict]:
    """The earliest episode_start per title in the batch (late ones too: a view is a view)."""
    first: dict = {}
    for v in valid:
        if v.event["event_type"] != "episode_start":
            continue
        key = (v.message.topic, v.message.partition, v.event["title_id"])
        ts = epoch(v.event_time)
        if key not in first or ts < first[key]["first_view_ts"]:
            first[key] = {"title_id": key[2], "first_view_ts": ts}
    return _stamped(first, span)


def epoch(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds()


EPOCH = datetime(1970, 1, 1)


# --- pipeline_health_1m ----------------------------------------------------------------------------
def health_rows(batch: Sorted, messages: list[Message], span: dict, high_water: dict, now: datetime) -> list[dict]:
    """Per partition: what came in and what became of it, in the minute it was processed."""
    window = minute(now)
    rows: dict = defaultdict(lambda: {"window_start": window, "events_in": 0, "accepted": 0, "duplicates": 0,
                                      "rejected": 0, "late": 0, "max_event_lag_s": 0.0})

    def counts(m: Message):
        return rows[(m.topic, m.partition)] if m.offset > high_water.get((m.topic, m.partition), -1) else None

    for m in messages:
        if (row := counts(m)) is not None:
            row["events_in"] += 1
    for v in batch.valid:
        if (row := counts(v.message)) is not None:
            row["accepted"] += 1
            row["late"] += v.late
            row["max_event_lag_s"] = max(row["max_event_lag_s"], (now - v.event_time).total_seconds())
    for i in batch.invalid:
        if (row := counts(i.message)) is not None:
            row["rejected"] += 1
    for m in batch.duplicates:
        if (row := counts(m)) is not None:
            row["duplicates"] += 1
    return _stamped({key + (0,): row for key, row in rows.items()}, span)
