"""Bad input on real Kafka: each malformed golden message reaches drama.dlq and events_rejected
with its reason, and the valid events around it all flow."""
from __future__ import annotations

from collections import Counter

import orjson
from kafka import KafkaConsumer

from schemas.topics import DLQ
from tests import golden
from tests.conftest import wait_for
from warehouse.client import connect


def test_golden_bad_messages_are_dead_lettered_and_good_ones_flow(pipeline):
    settings = pipeline()
    clickhouse = connect(settings)
    expected = golden.expected()
    golden.produce(settings, golden.messages(1))
    golden.produce(settings, golden.messages(2) + golden.messages(3))
    # A valid event behind the malformed ones must not be held up by them.
    trailer = {**orjson.loads(golden.messages(2)[-1]["raw"]), "event_id": "g-after-the-bad-ones"}
    golden.produce(settings, [{"topic": golden.messages(2)[-1]["topic"], "key": "g-u1", "raw": orjson.dumps(trailer)}])

    def rejected():
        return dict(clickhouse.execute("SELECT reason, count() FROM events_rejected GROUP BY reason"))

    assert wait_for(rejected, expected["rejected_by_reason"]) == expected["rejected_by_reason"]
    distinct = lambda: clickhouse.execute("SELECT uniqExact(event_id) FROM events_raw")[0][0]  # noqa: E731
    assert wait_for(distinct, expected["events_raw_total"] + 1) == expected["events_raw_total"] + 1

    consumer = KafkaConsumer(settings.topic(DLQ), bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000, group_id=None)
    letters = [m for m in consumer]
    consumer.close()
    sources = {(m["topic"], m["raw"]) for m in golden.messages(3)}
    reasons = Counter()
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers}
        assert (headers["source_topic"].split(".", 1)[1], letter.value) in sources  # original bytes kept
        assert int(headers["source_offset"]) >= 0 and headers["detail"]
        reasons[headers["reason"]] += 1
    assert dict(reasons) == expected["rejected_by_reason"]
