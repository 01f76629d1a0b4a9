"""The launcher: idempotent `up`, health in `status`, and clear errors instead of hangs."""
from __future__ import annotations

import socket
import subprocess
import sys

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
    out = subprocess.run([sys.executable, "-m", "infra", "status"], cwd=ROOT, capture_output=True, text=True, check=True)
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


def test_a_service_that_dies_at_start_shows_its_log(tmp_path):
    # A user name that is not valid XML makes the server reject its configuration and exit.
    settings = load(state_dir=tmp_path, clickhouse_port=free_port(), clickhouse_http_port=free_port(),
                    clickhouse_user="no<such>user")
    with pytest.raises(ServiceError, match="exited while starting") as error:
        services.ClickHouse(settings).up()
    assert "Last lines" in str(error.value) or "last lines" in str(error.value)
    assert services.ClickHouse(settings).pid() is None
