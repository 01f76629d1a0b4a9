"""Session fixtures for the real services.

The stack (ClickHouse, Kafka, Superset) is reused when `make up` already runs it; otherwise the
session starts it and stops it afterwards. The same holds for the Faust worker.
"""
from __future__ import annotations

import time
import uuid

import pytest
import requests

from infra import services
from infra.settings import Settings, load


def _ensure(service: services.Service, started: list) -> None:
    already = service.pid() is not None and service.healthy()
    print(service.up())
    if not already:
        started.append(service)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load()


@pytest.fixture(scope="session")
def stack(settings):
    """ClickHouse, Kafka and Superset up, topics created, schema migrated, dashboards imported."""
    from dashboards.provision import provision
    from infra.topics import create_topics
    from warehouse.migrate import migrate

    started: list = []
    try:
        for kind in services.STACK:
            _ensure(kind(settings), started)
        create_topics(settings)
        migrate(settings)
        provision(settings)
        yield settings
    finally:
        for service in reversed(started):
            print(service.down())


@pytest.fixture(scope="session")
def worker(stack):
    """The Faust worker consuming the default namespace."""
    started: list = []
    try:
        _ensure(services.Worker(stack), started)
        yield stack
    finally:
        for service in started:
            print(service.down())


@pytest.fixture
def run_id() -> str:
    """A fresh id for the rows a test creates, so tests never see each other's data."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def clickhouse(stack):
    from warehouse.client import connect
    client = connect(stack)
    yield client
    client.disconnect()


@pytest.fixture(scope="session")
def superset(stack) -> requests.Session:
    """A logged-in session on Superset's REST API (bearer token and CSRF token)."""
    session = requests.Session()
    url = stack.superset_url
    login = session.post(f"{url}/api/v1/security/login", timeout=30, json={
        "username": stack.superset_admin_user, "password": stack.superset_admin_password,
        "provider": "db", "refresh": True})
    login.raise_for_status()
    session.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    session.headers["X-CSRFToken"] = session.get(f"{url}/api/v1/security/csrf_token/", timeout=30).json()["result"]
    session.headers["Referer"] = url
    session.base = url
    return session


def wait_for(fetch, expected, timeout: float = 60.0, interval: float = 0.5):
    """Poll fetch() until it returns expected; return the last value either way."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while value != expected and time.monotonic() < deadline:
        time.sleep(interval)
        value = fetch()
    return value


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pipeline(stack, run_id):
    """A fresh namespace (its own topics and database) with its own worker running.

    Yields a factory: pipeline(**overrides) → Settings, so a test can also ask for a second
    worker on the same namespace. Everything is stopped and dropped afterwards.
    """
    from infra.topics import admin, create_topics
    from warehouse.client import connect
    from warehouse.migrate import migrate

    settings = load(namespace=f"t{run_id}")
    create_topics(settings)
    migrate(settings)
    workers: list = []

    def start_worker(**overrides) -> Settings:
        worker_settings = load(namespace=settings.namespace, worker_web_port=free_port(), **overrides)
        worker = services.Worker(worker_settings)
        worker.name = f"{worker.name}-{len(workers)}"
        worker.pidfile = type(worker.pidfile)(worker_settings.pid_dir / f"{worker.name}.pid")
        worker.log = worker_settings.log_dir / f"{worker.name}.log"
        print(worker.up())
        workers.append(worker)
        return worker_settings

    start_worker.settings = settings
    start_worker.workers = workers
    try:
        yield start_worker
    finally:
        for worker in workers:
            print(worker.down())
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS `{settings.clickhouse_db}`")
        client = admin(stack)
        try:
            names = [t for t in client.list_topics() if t.startswith(settings.namespace + ".")
                     or t.startswith(f"drama-loop-{settings.namespace}")]
            client.delete_topics(names)
        finally:
            client.close()


def read_topic(settings: Settings, topic: str) -> list:
    """Every message on a contract topic of these settings' namespace, from the beginning."""
    from kafka import KafkaConsumer
    consumer = KafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None)
    try:
        return list(consumer)
    finally:
        consumer.close()
