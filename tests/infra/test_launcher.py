"""The launcher: idempotent `up`, health in `status`, and clear errors instead of hangs."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from infra import services
from infra.process import ServiceError
from infra.settings import ROOT, load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_up_twice_keeps_the_running_services(stack):
    for kind in services.STACK:
        service = kind(stack)
        pid = service.pid()
        assert service.up().endswith(f"already running (pid {pid}) on {service.address()}")
        assert service.pid() == pid


def test_status_reports_each_service_healthy(stack):
    out = subprocess.run([sys.executable, "-m", "launcher", "status"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    for name in ("clickhouse", "kafka", "superset"):
        line = next(line for line in out.stdout.splitlines() if line.startswith(name))
        assert " healthy " in f"{line} "


def test_a_taken_port_is_named_in_the_error(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = load(state_dir=tmp_path, clickhouse_port=port, clickhouse_http_port=free_port())
        with pytest.raises(ServiceError, match=f"127.0.0.1:{port} is already taken"):
            services.ClickHouse(settings).up()
    assert services.ClickHouse(settings).pid() is None


def test_missing_java_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no java, no mvn
    settings = load(state_dir=tmp_path, kafka_port=free_port())
    with pytest.raises(ServiceError, match="Java is missing.*apt-get install openjdk-17-jre-headless"):
        services.Kafka(settings).up()


@pytest.mark.stack  # runs the ClickHouse server binary (installed by the stack's first start)
def test_a_service_that_dies_at_start_shows_its_log(tmp_path):
    # A user name that is not valid XML makes the server reject its configuration and exit.
    settings = load(state_dir=tmp_path, clickhouse_port=free_port(), clickhouse_http_port=free_port(),
                    clickhouse_user="no<such>user")
    with pytest.raises(ServiceError, match="exited while starting") as error:
        services.ClickHouse(settings).up()
    assert "Last lines" in str(error.value) or "last lines" in str(error.value)
    assert services.ClickHouse(settings).pid() is None


class Sleeper(services.App):
    """A stand-in app: a process that only runs, healthy while it does."""
    name = "sleeper"

    def argv(self):
        return ["sleep", "300"]

    def healthy(self) -> bool:
        return self.pid() is not None


def test_bring_up_returns_only_what_it_started(stack, run_id):
    from launcher import bring_down, bring_up
    from tests.conftest import drop_namespace

    settings = load(namespace=f"t{run_id}")
    started = []
    try:
        # ClickHouse and Kafka already run (the `stack` fixture): nothing to stop later. (Superset is left out
        # only because re-importing the dashboards takes a while; the fixture's own bring_up did that.)
        assert bring_up(stack, stack=services.STACK[:2]) == []
        assert bring_up(settings, stack=(), apps=(Sleeper,), started=started) is started
        assert [service.name for service in started] == [f"sleeper-{settings.namespace}"]
        assert bring_up(settings, stack=(), apps=(Sleeper,)) == []
    finally:
        bring_down(started)
        drop_namespace(settings)
    assert all(service.pid() is None for service in started)


def test_a_test_namespace_leaves_no_topic_database_or_directory(stack, run_id):
    """What the `pipeline` fixture does afterwards: a worker's namespace, and the leader topic and
    data directory Faust made for it, are gone once drop_namespace returns."""
    from infra.topics import admin
    from launcher import bring_up
    from tests.conftest import drop_namespace, faust_dirs, namespace_topics

    settings = load(namespace=f"t{run_id}", worker_web_port=free_port())
    leader = f"{settings.faust_app_id}-__assignor-__leader"
    started = []
    kafka = admin(settings)
    try:
        bring_up(settings, stack=(), apps=(services.Worker,), started=started)
        deadline = time.monotonic() + 30
        while leader not in kafka.list_topics() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert leader in namespace_topics(kafka, settings)
        assert any(path.exists() for path in faust_dirs(settings))
    finally:
        drop_namespace(settings, started)                 # raises if anything is left
    try:
        assert [t for t in kafka.list_topics() if settings.namespace in t] == []
        assert not any(path.exists() for path in faust_dirs(settings))
    finally:
        kafka.close()
