"""titles.title_name (metrics-v1.md): the name script_created sent, the title_id when it sent none."""
from __future__ import annotations

from datetime import datetime, timezone

import orjson
from kafka import KafkaProducer

from schemas.topics import CONTENT
from tests.conftest import wait_for


def script_created(run_id: str, title: str, **extra) -> dict:
    return {"event_id": f"{run_id}-{title}", "event_type": "script_created", "schema_version": 1,
            "event_time": datetime.now(timezone.utc).isoformat(), "app_id": "names", "title_id": title,
            "trope": "hidden_heiress", "genre": "romance", "origin": "ai", **extra}


def test_titles_show_the_name_sent_and_fall_back_to_the_id(worker, clickhouse, run_id):
    named, unnamed, too_long = (f"names-{run_id}-{k}" for k in ("named", "unnamed", "long"))
    events = [script_created(run_id, named, title_name="The Heiress Returns"),
              script_created(run_id, unnamed),
              script_created(run_id, too_long, title_name="x" * 201)]
    producer = KafkaProducer(bootstrap_servers=worker.kafka_bootstrap, acks="all")
    for event in events:
        producer.send(worker.topic(CONTENT), key=event["title_id"].encode(), value=orjson.dumps(event))
    producer.flush()
    producer.close()

    def names():
        return dict(clickhouse.execute("SELECT title_id, title_name FROM titles WHERE title_id IN %(ids)s",
                                       {"ids": (named, unnamed, too_long)}))

    assert wait_for(names, {named: "The Heiress Returns", unnamed: unnamed}) == \
        {named: "The Heiress Returns", unnamed: unnamed}
    def rejected():
        return clickhouse.execute("SELECT reason, detail FROM events_rejected WHERE position(raw, %(id)s) > 0",
                                  {"id": too_long})

    wait_for(lambda: bool(rejected()), True, timeout=30)
    rejected = rejected()
    assert [reason for reason, _ in rejected] == ["invalid_field"], rejected
    assert "title_name" in rejected[0][1]
