"""Create the contract's topics with explicit partition counts (auto-creation is off)."""
from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from infra.process import ServiceError
from infra.settings import Settings
from schemas.topics import ALL_TOPICS


def admin(settings: Settings, timeout: float = 30.0) -> KafkaAdminClient:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="drama-infra",
                                    request_timeout_ms=10000)
        except KafkaError as error:
            if time.monotonic() > deadline:
                raise ServiceError(f"kafka: no broker answers at {settings.kafka_bootstrap} ({error}). "
                                   f"Start it with `make up`; `make logs` shows why it is down.") from error
            time.sleep(0.5)


def list_groups(client: KafkaAdminClient, timeout: float = 60.0) -> list[dict]:
    """The cluster's consumer groups. A broker just started answers COORDINATOR_LOAD_IN_PROGRESS
    while it reads `__consumer_offsets` back; that and other retriable errors are asked again
    until `timeout`, and only then raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.list_groups()
        except KafkaError as error:
            if not error.retriable or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def create_topics(settings: Settings) -> list[str]:
    """Create every contract topic in the settings' namespace; return their names."""
    names = [settings.topic(name) for name in ALL_TOPICS]
    client = admin(settings)
    try:
        existing = set(client.list_topics())
        configs = {"min.insync.replicas": "2"} if settings.topic_replicas >= 3 else {}
        wanted = [NewTopic(name, num_partitions=settings.topic_partitions, replication_factor=settings.topic_replicas,
                           topic_configs=configs) for name in names if name not in existing]
        if wanted:
            try:
                client.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        client.close()
    return names
