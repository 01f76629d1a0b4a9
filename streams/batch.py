"""Pure helpers that turn one batch of Kafka messages into warehouse rows.

No I/O here: the agents (streams/ingest.py) read, call these, and write. Tested alone.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Iterable, NamedTuple

from schemas.validate import Accepted, Rejected, validate


class Message(NamedTuple):
    topic: str          # the Kafka topic as read (namespace included)
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class Valid(NamedTuple):
    message: Message
    event: dict
    event_time: datetime  # UTC, naive, microseconds kept


class Invalid(NamedTuple):
    message: Message
    reason: str
    detail: str


def contract_topic(topic: str, namespace: str) -> str:
    """`ns.drama.viewing` → `drama.viewing` (the name events-v1.md uses)."""
    return topic[len(namespace) + 1:] if namespace and topic.startswith(namespace + ".") else topic


def sort_out(messages: Iterable[Message], namespace: str = "") -> tuple[list[Valid], list[Invalid]]:
    """Validate every message; keep the valid ones' parsed events, the others' reasons."""
    valid, invalid = [], []
    for message in messages:
        result = validate(message.value, contract_topic(message.topic, namespace))
        if isinstance(result, Accepted):
            valid.append(Valid(message, result.event, result.event_time))
        else:
            invalid.append(Invalid(message, result.reason, result.detail))
    return valid, invalid


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


def title_start_rows(valid: Iterable[Valid]) -> list[dict]:
    """episode_start counts per (topic, partition, window, title), stamped with the offset range."""
    counts: Counter = Counter()
    spans: dict[tuple, list[int]] = {}
    for v in valid:
        m = v.message
        span = spans.setdefault((m.topic, m.partition), [m.offset, m.offset])
        span[0], span[1] = min(span[0], m.offset), max(span[1], m.offset)
        if v.event["event_type"] == "episode_start":
            counts[(m.topic, m.partition, v.event_time.replace(second=0, microsecond=0), v.event["title_id"])] += 1
    return [{"window_start": window, "title_id": title, "episode_starts": n, "src_topic": topic,
             "src_partition": partition, "src_first_offset": spans[(topic, partition)][0],
             "src_last_offset": spans[(topic, partition)][1]}
            for (topic, partition, window, title), n in counts.items()]
