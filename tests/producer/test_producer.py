"""The producer library on real Kafka: events land on their topic, keyed; failures are reported."""
import orjson

from producer import EventProducer
from schemas.events import EpisodeReleased, EpisodeStart
from schemas.topics import CONTENT, VIEWING
from tests.conftest import read_topic


def test_events_go_to_their_topic_keyed_and_acknowledged(pipeline):
    settings = pipeline.settings
    with EventProducer(settings) as events:
        events.send(EpisodeStart(event_id="p-1", event_time="2026-01-05T12:00:00Z", app_id="a", user_id="u-9",
                                 title_id="t-1", episode=1, session_id="s", startup_ms=10))
        events.send(EpisodeReleased(event_id="p-2", event_time="2026-01-05T12:00:00Z", app_id="a", title_id="t-1",
                                    episode=1, production_cost_usd=1.0, virtual_actors=False))
        assert events.flush() == []
    (start,) = read_topic(settings, VIEWING)
    (released,) = read_topic(settings, CONTENT)
    assert (start.key, orjson.loads(start.value)["event_id"]) == (b"u-9", "p-1")
    assert (released.key, orjson.loads(released.value)["event_id"]) == (b"t-1", "p-2")


def test_a_send_that_kafka_cannot_take_is_reported_per_event(pipeline):
    with EventProducer(pipeline.settings, max_block_ms=2000, delivery_timeout_s=6) as events:
        events.send_raw("no.such.topic", b"k", b"{}", "p-lost")     # topics are never auto-created
        failures = events.flush()
    assert [(f.event_id, f.topic) for f in failures] == [("p-lost", "no.such.topic")]
