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
