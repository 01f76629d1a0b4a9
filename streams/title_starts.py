"""episode_start events → starts per title per one-minute window of event time → ClickHouse.

drama.viewing ──take_events(≤ BATCH_MAX, ≤ BATCH_SECONDS)──► count_title_starts
    ──one columnar insert per batch──► title_metrics_1m_parts ──view──► title_metrics_1m
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime, timezone

import orjson

from schemas.topics import VIEWING
from streams.app import SETTINGS, app
from warehouse.sink import ClickHouseSink

BATCH_MAX = 10_000
BATCH_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
COLUMNS = ("window_start", "title_id", "episode_starts",
           "src_topic", "src_partition", "src_first_offset", "src_last_offset")

log = logging.getLogger(__name__)
viewing = app.topic(SETTINGS.topic(VIEWING), key_type=bytes, value_type=bytes, value_serializer="raw")
title_starts_sink = ClickHouseSink(SETTINGS, "title_metrics_1m_parts", COLUMNS)


def minute_of(event_time: str) -> datetime:
    """The UTC minute an RFC 3339 time with a zone falls in (naive datetime, UTC)."""
    moment = datetime.fromisoformat(event_time).astimezone(timezone.utc)
    return moment.replace(second=0, microsecond=0, tzinfo=None)


def count_starts(messages) -> list[dict]:
    """(topic, partition, offset, value bytes) → one row per (partition, window, title)."""
    counts: Counter = Counter()
    ranges: dict[tuple, list[int]] = {}
    for topic, partition, offset, value in messages:
        span = ranges.setdefault((topic, partition), [offset, offset])
        span[0], span[1] = min(span[0], offset), max(span[1], offset)
        try:
            event = orjson.loads(value)
            if event.get("event_type") != "episode_start":
                continue
            counts[(topic, partition, minute_of(event["event_time"]), event["title_id"])] += 1
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
            continue  # validation and the dead-letter path belong to schemas/ (issue 3)
    return [{"window_start": window, "title_id": title, "episode_starts": n, "src_topic": topic,
             "src_partition": partition, "src_first_offset": ranges[(topic, partition)][0],
             "src_last_offset": ranges[(topic, partition)][1]}
            for (topic, partition, window, title), n in counts.items()]


async def write_with_retry(sink: ClickHouseSink, rows: list[dict]) -> None:
    """Retry with backoff until ClickHouse takes the batch: the agent stops consuming meanwhile."""
    delay = 0.5
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, sink.write, rows)
            return
        except Exception as error:  # noqa: BLE001 - any failure is retried, never acknowledged
            log.warning("ClickHouse write of %d rows failed (%s); retrying in %.1fs", len(rows), error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)


@app.agent(viewing)
async def count_title_starts(stream):
    async for events in stream.take_events(BATCH_MAX, within=BATCH_SECONDS):
        rows = count_starts((e.message.topic, e.message.partition, e.message.offset, e.value) for e in events)
        await write_with_retry(title_starts_sink, rows)
