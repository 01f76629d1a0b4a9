"""What a worker remembers per topic-partition, and how it gets it back from ClickHouse.

Exactness does not depend on this memory surviving a crash: after a restart (or when a
partition moves to another worker) it is rebuilt from what ClickHouse holds, the moment the
partition's first message arrives (streams/README.md, "Exactly once, by construction").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson

UNKNOWN_SEGMENT = ("unknown", "unknown", "ZZ")
DEDUP_HORIZON = timedelta(hours=1)   # ids are remembered this far behind the newest event time (metrics-v1: ≥ 1 h)

# table → (topic column, partition column, offset column) that say how far it was written
HIGH_WATER = {
    "events_raw": ("topic", "partition", "offset"),
    "events_rejected": ("topic", "partition", "offset"),
    "title_events": ("topic", "partition", "offset"),
    "title_metrics_1m_parts": ("src_topic", "src_partition", "src_last_offset"),
    "episode_metrics_1m_parts": ("src_topic", "src_partition", "src_last_offset"),
    "segment_metrics_1m_parts": ("src_topic", "src_partition", "src_last_offset"),
    "title_first_views_parts": ("src_topic", "src_partition", "src_last_offset"),
    "pipeline_health_1m_parts": ("src_topic", "src_partition", "src_last_offset"),
}


EPOCH = datetime(1970, 1, 1)


def minute_number(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


@dataclass
class PartitionState:
    """De-duplication memory and event-time watermark of one topic-partition."""
    watermark: datetime | None = None
    seen: dict = field(default_factory=dict)           # event_id → offset where it was first seen
    _by_minute: dict = field(default_factory=dict)      # minute of event time → [event_id, ...]
    _cutoff: int = -1                                   # minutes below this are forgotten

    def first_sighting(self, event_id: str, offset: int, moment: datetime) -> bool:
        """True for an event_id not seen before, or seen at this very offset (a replay)."""
        known = self.seen.get(event_id)
        if known is not None:
            return known == offset
        self.seen[event_id] = offset
        minute = minute_number(moment)
        bucket = self._by_minute.get(minute)
        if bucket is None:
            bucket = self._by_minute[minute] = []
        bucket.append(event_id)
        return True

    def advance(self, moment: datetime) -> None:
        if self.watermark is None or moment > self.watermark:
            self.watermark = moment
            cutoff = minute_number(moment - DEDUP_HORIZON)
            if cutoff > self._cutoff:  # at most once per minute of event time
                self._cutoff = cutoff
                for minute in [m for m in self._by_minute if m < cutoff]:
                    for event_id in self._by_minute.pop(minute):
                        self.seen.pop(event_id, None)


def restore_high_water(client, tables=tuple(HIGH_WATER)) -> dict:
    """table → {(topic, partition): last offset written}."""
    marks = {}
    for table in tables:
        topic, partition, offset = HIGH_WATER[table]
        rows = client.execute(f"SELECT {topic}, {partition}, max({offset}) FROM {table} GROUP BY {topic}, {partition}")
        marks[table] = {(t, p): o for t, p, o in rows}
    return marks


def restore_partition(client, topic: str, partition: int, first_offset: int) -> PartitionState:
    """The state a worker had just before `first_offset`, rebuilt from events_raw."""
    params = {"t": topic, "p": partition, "o": first_offset}
    (newest,), = client.execute(
        "SELECT max(toUInt64(event_time) * 1000000 + event_time_us) FROM events_raw "
        "WHERE topic = %(t)s AND partition = %(p)s AND offset < %(o)s", params)
    state = PartitionState()
    if not newest:
        return state
    state.watermark = datetime.utcfromtimestamp(newest // 1_000_000).replace(microsecond=newest % 1_000_000)
    params["since"] = state.watermark - DEDUP_HORIZON
    rows = client.execute(
        "SELECT event_id, offset, event_time, event_time_us FROM events_raw "
        "WHERE topic = %(t)s AND partition = %(p)s AND event_time >= %(since)s "
        "ORDER BY event_time, event_time_us", params)
    for event_id, offset, moment, micros in rows:
        state.first_sighting(event_id, offset, moment.replace(microsecond=micros))
    return state


def restore_profiles(client) -> dict:
    """user_id → segment, from the newest user_profile of each user in events_raw."""
    rows = client.execute(
        "SELECT user_id, argMax(payload, toUInt64(event_time) * 1000000 + event_time_us) FROM events_raw "
        "WHERE event_type = 'user_profile' GROUP BY user_id")
    out = {}
    for user_id, payload in rows:
        profile = orjson.loads(payload)
        out[user_id] = (profile["gender"], profile["age_band"], profile["country"])
    return out
