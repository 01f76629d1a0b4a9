"""The producer library: events-v1 events to Kafka, for the simulator and for real producers.

    from producer import EventProducer
    from schemas.events import EpisodeStart

    with EventProducer() as events:
        events.send(EpisodeStart(event_id=..., event_time=..., app_id=..., user_id=..., title_id=...,
                                 episode=1, session_id=..., startup_ms=420))
        failures = events.flush()        # [] when Kafka acknowledged every event

Each event goes to its type's topic, keyed by `user_id` (`title_id` for content events), with
`acks=all` and an idempotent, batching producer. Nothing is sent that the validator would
reject unless `send_raw` is used (the simulator uses it to inject faults).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from infra.settings import Settings, load
from schemas.events import EVENT_TYPES, Event
from schemas.topics import CONTENT

DELIVERY_TIMEOUT_S = 120        # how long an event may wait for Kafka, queued or not yet queued


@dataclass(frozen=True)
class Failure:
    event_id: str
    topic: str
    error: str


def key_of(event: dict, topic: str) -> bytes | None:
    key = event.get("title_id") if topic == CONTENT else event.get("user_id")
    return key.encode() if isinstance(key, str) else None


class EventProducer:
    def __init__(self, settings: Settings | None = None, *, linger_ms: int = 20, batch_size: int = 256 * 1024,
                 max_block_ms: int = 10_000, delivery_timeout_s: float = DELIVERY_TIMEOUT_S):
        self.settings = settings or load()
        self.delivery_timeout_s = delivery_timeout_s     # how long an event may wait for Kafka before it fails
        self._kafka = KafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap, acks="all",
                                    enable_idempotence=True, linger_ms=linger_ms, batch_size=batch_size,
                                    retries=2**31 - 1, delivery_timeout_ms=int(delivery_timeout_s * 1000),
                                    # a request may not outlast its delivery (kafka-python's rule; 30 s default)
                                    request_timeout_ms=min(30_000, int(delivery_timeout_s * 1000) - linger_ms - 1),
                                    max_block_ms=max_block_ms,
                                    client_id="drama-producer")
        self._failures: list[Failure] = []
        self.sent = 0

    def send(self, event: Event | dict) -> None:
        """Queue one event for its topic; its outcome is known after flush()."""
        body = event.to_dict() if isinstance(event, Event) else event
        topic = EVENT_TYPES[body["event_type"]].TOPIC
        self.send_raw(topic, key_of(body, topic), orjson.dumps(body), body.get("event_id", ""))

    def send_raw(self, topic: str, key: bytes | None, value: bytes, event_id: str = "") -> None:
        """Queue bytes as they are (contract topic name; the settings' namespace is applied).

        While Kafka is away, a send blocks for max_block_ms (no metadata, or a full buffer) and is
        tried again, for as long as a queued event would be (delivery_timeout_s): an outage shorter
        than that costs time, not events."""
        deadline = time.monotonic() + self.delivery_timeout_s
        while True:
            try:
                future = self._kafka.send(self.settings.topic(topic), key=key, value=value)
                break
            except KafkaTimeoutError as error:
                if time.monotonic() < deadline:
                    continue
                self._failures.append(Failure(event_id, topic, repr(error)))
                return
            except KafkaError as error:
                self._failures.append(Failure(event_id, topic, repr(error)))
                return
        future.add_errback(lambda error: self._failures.append(Failure(event_id, topic, repr(error))))
        self.sent += 1

    def flush(self, timeout: float | None = None) -> list[Failure]:
        """Wait until every queued event is acknowledged or failed; return (and forget) the failures."""
        self._kafka.flush(timeout)
        failures, self._failures = self._failures, []
        return failures

    def close(self) -> None:
        self._kafka.close()

    def __enter__(self) -> "EventProducer":
        return self

    def __exit__(self, *exc) -> None:
        self.flush()
        self.close()
