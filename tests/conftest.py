"""Session fixtures for the real services.

The stack (ClickHouse, Kafka, Superset) is reused when `make up` already runs it; otherwise the
session starts it and stops it afterwards. The same holds for the Faust worker. Both go through
launcher.bring_up, as `make up` does.

A test that uses any of STACK_FIXTURES is marked `stack` here; a test that reaches the services
another way carries the marker itself. `make check` runs the rest (`-m "not stack"`).
"""
from __future__ import annotations

import re

import shutil
import time
import uuid

import pytest
import requests

from infra import services
from infra.settings import ROOT, Settings, load
from launcher import bring_down, bring_up

STACK_FIXTURES = {"stack", "worker", "worker_clickhouse", "pipeline", "clickhouse", "superset", "loop_namespace"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if STACK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.stack)
    # The reliability suite last: its scenarios stop ClickHouse and Kafka and fill them under load,
    # which the other tests should not share.
    items.sort(key=lambda item: "/tests/reliability/" in str(item.fspath))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load()


def pytest_addoption(parser):
    parser.addoption("--stack", choices=("native", "containers"), default="native",
                     help="native (default): the launcher's services on this machine; containers: docker-compose.yml's "
                          "images through testcontainers (needs a Docker engine; skipped with the reason otherwise)")


COMPOSE_STACK = ("kafka", "clickhouse", "postgres", "redis", "superset", "superset-worker", "superset-beat")


def docker_engine_missing() -> str:
    """Why no Docker engine answers here ('' when one does)."""
    import subprocess
    docker = shutil.which("docker")
    if docker is None:
        return "no docker command on PATH"
    try:
        info = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"`docker info` failed: {error}"
    return "" if info.returncode == 0 else f"`docker info` failed: {(info.stderr or info.stdout).strip()[:300]}"


def containers(settings: Settings):
    """docker-compose.yml's engines and Superset through testcontainers, on the settings' default ports
    (the compose file publishes them on loopback), then the topics and the schema as `make up` makes them."""
    import os

    from testcontainers.compose import DockerCompose

    missing = docker_engine_missing()
    if missing:
        pytest.skip(f"--stack=containers starts docker-compose.yml's images through testcontainers and needs a "
                    f"Docker engine: {missing}. Without --stack the tests use the native launcher (make test).")
    from infra.services import Superset
    from infra.settings import kept_secret
    superset_home = Superset(settings).home
    superset_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("POSTGRES_PASSWORD", settings.postgres_password)
    os.environ.setdefault("SUPERSET_ADMIN_PASSWORD", settings.superset_admin_password
                          or kept_secret(superset_home / "admin_password"))
    os.environ.setdefault("SUPERSET_SECRET_KEY", kept_secret(superset_home / "secret_key", 48))
    compose = DockerCompose(ROOT, compose_file_name="docker-compose.yml", services=list(COMPOSE_STACK), wait=True)
    with compose:
        bring_up(settings, stack=())
        yield settings


@pytest.fixture(scope="session")
def stack(settings, request):
    """ClickHouse, Kafka and Superset up, topics created, schema migrated, dashboards imported."""
    if request.config.getoption("--stack") == "containers":
        yield from containers(settings)
        return
    started: list = []
    try:
        bring_up(settings, started=started)
        yield settings
    finally:
        settle_drops()          # namespaces' databases dropped in the background, while ClickHouse is up
        bring_down(started)


@pytest.fixture(scope="session")
def worker(stack):
    """A Faust worker on a namespace of the session's own (its topics and database), never the
    demo's: tests that share one worker tell their rows apart by run_id. Dropped afterwards."""
    import os

    settings = load(namespace=f"s{os.getpid()}", worker_web_port=free_port())
    worker = services.Worker(settings)
    try:
        bring_up(settings, stack=(), apps=(services.Worker,))
        yield settings
    finally:
        drop_namespace(settings, [worker], wait=False)


@pytest.fixture(scope="session")
def worker_clickhouse(worker):
    """A client on the shared worker's database."""
    from warehouse.client import connect
    client = connect(worker)
    yield client
    client.disconnect()


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
    from dashboards import api
    session = api.session(stack)
    session.base = stack.superset_url
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
    worker on the same namespace. Everything is stopped and dropped afterwards, and checked gone.
    """
    settings = load(namespace=f"t{run_id}")
    workers: list = []

    def start_worker(**overrides) -> Settings:
        worker_settings = load(namespace=settings.namespace, worker_web_port=free_port(), **overrides)
        another_worker(worker_settings, workers)
        return worker_settings

    start_worker.settings = settings
    start_worker.workers = workers
    try:
        bring_up(settings, stack=())  # the namespace's topics and database, on the running stack
        yield start_worker
    finally:
        drop_namespace(settings, workers, wait=False)


def another_worker(worker_settings: Settings, workers: list) -> services.Worker:
    """One more worker of the namespace's consumer group (its own web port, PID file and log),
    started and added to `workers`."""
    worker = services.Worker(worker_settings)
    worker.name = f"{worker.name}-{len(workers)}"
    worker.pidfile = type(worker.pidfile)(worker_settings.pid_dir / f"{worker.name}.pid")
    worker.log = worker_settings.log_dir / f"{worker.name}.log"
    workers.append(worker)
    print(worker.up())
    return worker


@pytest.fixture
def collector_for(pipeline):
    """Start a collector process on the test's namespace, with settings overrides; its URL.
    `collector_for.settings` is the namespace's settings, `collector_for.services` what it started."""
    started = []

    def start(**overrides):
        settings = load(namespace=pipeline.settings.namespace, collector_port=free_port(), **overrides)
        service = services.Collector(settings)
        print(service.up())
        started.append(service)
        return f"http://127.0.0.1:{settings.collector_port}"

    start.settings = pipeline.settings
    start.services = started
    yield start
    for service in started:
        print(service.down())


def namespace_topics(client, settings: Settings) -> list[str]:
    """The namespace's topics: the contract's (`<ns>.drama.*`) and those its Faust workers create
    themselves (`<app id>-__assignor-__leader`, and changelogs if a table is ever added)."""
    return sorted(t for t in client.list_topics()
                  if t.startswith(f"{settings.namespace}.") or t.startswith(f"{settings.faust_app_id}-"))


def faust_dirs(settings: Settings) -> list:
    """Where the namespace's Faust workers keep data: settings.faust_app_dir, and Faust's own default
    `<app id>-data` in the workers' working directory (the checkout) for an app that sets no datadir."""
    return [settings.faust_app_dir, ROOT / f"{settings.faust_app_id}-data"]


# Databases being dropped in the background (drop_namespace(..., wait=False)): name → thread. A
# DROP DATABASE of a loaded namespace takes 18.16 minutes of file removal; the next tests need not
# wait for it. `dropped_databases` (session end) and `settle_drops` (before an outage) wait for all.
DROPPING: dict = {}
DROP_PROBLEMS: list[str] = []


def drop_database(settings: Settings, deadline_s: float = 900.0) -> str | None:
    """Drop the namespace's database and wait until it is gone; what is wrong if it is not. The DROP
    is asked again only if it failed to reach the server (an outage test may have stopped it)."""
    from warehouse.client import connect

    deadline, last = time.monotonic() + deadline_s, None
    while time.monotonic() < deadline:
        try:
            client = connect(settings, "default")
            try:
                client.execute(f"DROP DATABASE IF EXISTS `{settings.clickhouse_db}`")
            except TimeoutError:
                pass   # a day of parts can take 18.16 longer than the driver's 60 s; the server goes on dropping
            client = connect(settings, "default")
            gone = lambda client=client: client.execute(  # noqa: E731
                "SELECT count() FROM system.databases WHERE name = %(db)s", {"db": settings.clickhouse_db})
            if wait_for(gone, [(0,)], timeout=max(1.0, deadline - time.monotonic()), interval=2) == [(0,)]:
                return None
        except Exception as error:  # noqa: BLE001 - ClickHouse away or restarting: ask again
            last = error
            time.sleep(2)
    return f"database {settings.clickhouse_db} is still there ({last!r})"


def settle_drops() -> None:
    """Wait for every background drop (e.g. before a test stops ClickHouse)."""
    for thread in list(DROPPING.values()):
        thread.join()


@pytest.fixture(scope="session", autouse=True)
def dropped_databases():
    """At the end of the session, every namespace's database dropped in the background is gone."""
    yield
    settle_drops()
    assert not DROP_PROBLEMS, "namespaces left databases behind:\n" + "\n".join(DROP_PROBLEMS)


def drop_namespace(settings: Settings, workers=(), timeout: float = 30.0, wait: bool = True) -> None:
    """Stop the namespace's workers, then drop its database, topics and Faust data directories,
    and check that they are gone. Each step is tried even if one before failed; raises
    AssertionError naming whatever is left. With wait=False the database is dropped in the
    background and checked at the end of the session (`dropped_databases`)."""
    import threading

    from infra.process import pid_alive
    from infra.topics import admin

    assert settings.namespace, "drop_namespace never touches the default namespace"
    problems: list[str] = []

    def attempt(what: str, step) -> None:
        try:
            step()
        except Exception as error:  # reported below, once the other steps ran
            problems.append(f"{what}: {error!r}")

    pids = {worker.name: worker.pid() for worker in workers}
    for worker in workers:
        attempt(f"stopping {worker.name}", lambda worker=worker: print(worker.down()))
    # Only a stopped worker cannot create its leader topic again after it was deleted.
    running = [name for name, pid in pids.items() if pid is not None and pid_alive(pid)]
    if running:
        problems.append(f"workers still running: {running}")

    def drop_now() -> None:
        if problem := drop_database(settings):
            problems.append(problem)

    def drop_later() -> None:
        def run() -> None:
            if problem := drop_database(settings):
                DROP_PROBLEMS.append(problem)
        DROPPING[settings.clickhouse_db] = threading.Thread(target=run, name=f"drop {settings.clickhouse_db}")
        DROPPING[settings.clickhouse_db].start()

    def delete_topics() -> None:
        # A delete is asynchronous in Kafka: ask again until the broker's metadata no longer lists them
        # (asking again also catches a topic whose creation was still propagating at the first listing).
        kafka = admin(settings)
        try:
            deadline = time.monotonic() + timeout
            left = namespace_topics(kafka, settings)
            while left and time.monotonic() < deadline:
                kafka.delete_topics(left, raise_errors=False)
                time.sleep(0.5)
                left = namespace_topics(kafka, settings)
        finally:
            kafka.close()
        if left:
            problems.append(f"topics still listed {timeout:.0f}s after their deletion: {left}")

    def remove_faust_dirs() -> None:
        for path in faust_dirs(settings):
            shutil.rmtree(path, ignore_errors=True)
        left = [str(path) for path in faust_dirs(settings) if path.exists()]
        if left:
            problems.append(f"directories still there: {left}")

    attempt("dropping the database", drop_now if wait else drop_later)
    attempt("deleting the topics", delete_topics)
    attempt("removing the Faust data directories", remove_faust_dirs)
    assert not problems, f"namespace {settings.namespace} left things behind:\n" + "\n".join(problems)


def read_topic(settings: Settings, topic: str) -> list:
    """Every message on a contract topic of these settings' namespace, from the beginning."""
    from kafka import KafkaConsumer
    consumer = KafkaConsumer(settings.topic(topic), bootstrap_servers=settings.kafka_bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None)
    try:
        return list(consumer)
    finally:
        consumer.close()


# values for the parameters a documented query takes (%(name)s, as clickhouse-driver fills them in)
QUERY_PARAMETERS = {"as_of": "'2026-01-20 00:00:00'", "hours": "24"}


def fill_parameters(sql: str) -> str:
    """A documented query with its %(name)s parameters filled with example values (QUERY_PARAMETERS)."""
    return re.sub(r"%\((\w+)\)s", lambda m: QUERY_PARAMETERS[m.group(1)], sql)
