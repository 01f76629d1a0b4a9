"""One stream end to end: kafka-python → drama.viewing → Faust → ClickHouse, on the session worker's
namespace. The same numbers through Superset: tests/dashboards/test_superset.py."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import orjson
from kafka import KafkaProducer

from schemas.topics import VIEWING
from tests.conftest import wait_for


def viewing_event(run_id: str, n: int, event_type: str, title: str, at: datetime, zone_hours: int) -> dict:
    local = at.astimezone(timezone(timedelta(hours=zone_hours)))
    event = {"event_id": f"{run_id}-{n}", "event_type": event_type,
             "event_time": local.isoformat(timespec="microseconds"),
             "schema_version": 1, "app_id": "e2e", "user_id": f"u-{n % 7}", "title_id": title,
             "episode": 1 + n % 5, "session_id": f"s-{n % 3}"}
    if event_type == "episode_start":
        event["startup_ms"] = 300
    else:
        event.update(watch_s=61.5, rebuffer_ms=0)
    return event


def test_episode_starts_reach_clickhouse_exactly(worker, worker_clickhouse, run_id):
    clickhouse = worker_clickhouse
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    # Two titles over two minutes; times written in three zones, counted in UTC minutes.
    plan = [(f"e2e-{run_id}-a", now - timedelta(minutes=2), 7), (f"e2e-{run_id}-a", now - timedelta(minutes=1), 5),
            (f"e2e-{run_id}-b", now - timedelta(minutes=2), 3)]
    events, expected = [], Counter()
    for title, minute, starts in plan:
        for i in range(starts):
            at = minute + timedelta(seconds=59, microseconds=999_999) if i == 0 else minute + timedelta(seconds=i * 7)
            events.append(viewing_event(run_id, len(events), "episode_start", title, at, (0, 8, -5)[i % 3]))
            expected[(minute.replace(tzinfo=None), title)] += 1
        # Completions travel on the same topic and must not be counted as starts.
        events.append(viewing_event(run_id, len(events), "episode_complete", title, minute, 0))

    producer = KafkaProducer(bootstrap_servers=worker.kafka_bootstrap, acks="all")
    for event in events:
        producer.send(worker.topic(VIEWING), key=event["user_id"].encode(), value=orjson.dumps(event))
    producer.flush()
    producer.close()

    titles = sorted({title for title, _, _ in plan})

    def warehouse_counts():
        rows = clickhouse.execute("SELECT window_start, title_id, episode_starts FROM title_metrics_1m "
                                  "WHERE title_id IN %(titles)s", {"titles": tuple(titles)})
        return {(window, title): n for window, title, n in rows}

    assert wait_for(warehouse_counts, dict(expected)) == dict(expected)
