"""docker-compose.yml agrees with the native launcher: the same versions where the launcher
installs one (or a difference written down here, with its reason), the same host ports as the
settings' defaults, and only variables the settings read. Runs everywhere (no Docker needed)."""
from __future__ import annotations

import re

import pytest
import yaml

from infra.settings import ENV, ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]

# The one deliberate difference: natively, Debian's package (18.16, all this machine has); under
# Docker, the current release (the project supports both: warehouse/README.md, "Running on
# ClickHouse 18.16 and on current releases"; migrations/current/ applies only there).
DIFFERENT = {"clickhouse/clickhouse-server": "Debian's 18.16 natively, the current release under Docker"}


def tag(service: str) -> tuple[str, str]:
    image, _, version = SERVICES[service]["image"].partition(":")
    return image, version


def native_kafka() -> str:
    return re.search(r"<kafka.version>([^<]+)<", (ROOT / "infra/kafka/pom.xml").read_text()).group(1)


def native_superset() -> str:
    return re.search(r"^apache-superset==(\S+)", (ROOT / "infra/superset/requirements.txt").read_text(), re.M).group(1)


@pytest.mark.parametrize("service", [s for s in SERVICES if SERVICES[s].get("image", "").startswith("apache/kafka")])
def test_kafka_images_are_the_version_the_launcher_installs(service):
    assert tag(service)[1] == native_kafka(), (service, tag(service), native_kafka())


@pytest.mark.parametrize("service", [s for s in SERVICES if SERVICES[s].get("image", "").startswith("apache/superset")])
def test_superset_images_are_the_version_the_launcher_installs(service):
    assert tag(service)[1] == native_superset(), (service, tag(service), native_superset())


def test_postgres_is_debians_major_version():
    from infra.services import Postgres
    assert tag("postgres")[1].split(".")[0] == Postgres.BIN.parent.name        # /usr/lib/postgresql/15/bin


def test_every_image_is_pinned_and_clickhouse_alone_differs_on_purpose():
    for name, service in SERVICES.items():
        if "image" not in service:
            assert "build" in service, name
            continue
        image, version = tag(name)
        assert version and version != "latest", f"{name}: pin {image} to a version"
    assert {tag(s)[0] for s in SERVICES if tag_is(s, "clickhouse")} <= set(DIFFERENT)


def tag_is(service: str, word: str) -> bool:
    return word in SERVICES[service].get("image", "")


def published(service: str) -> dict[int, str]:
    """container port → the host address:port it is published on."""
    out = {}
    for mapping in SERVICES[service].get("ports", ()):
        host, port, inside = mapping.rsplit(":", 2)
        out[int(inside)] = f"{host}:{port}"
    return out


def test_host_ports_are_the_settings_defaults_on_loopback():
    expected = {"kafka": {9092: f"127.0.0.1:{ENV['KAFKA_PORT']}"},
                "clickhouse": {9000: f"127.0.0.1:{ENV['CLICKHOUSE_PORT']}",
                               8123: f"127.0.0.1:{ENV['CLICKHOUSE_HTTP_PORT']}"},
                "superset": {8088: f"127.0.0.1:{ENV['SUPERSET_PORT']}"},
                "collector": {8090: f"127.0.0.1:{ENV['COLLECTOR_PORT']}"}}
    for service, ports in expected.items():
        assert published(service) == ports, service
    for name in SERVICES:
        for address in published(name).values():
            assert address.startswith("127.0.0.1:"), f"{name} publishes {address} beyond loopback"


def test_the_apps_environment_names_only_variables_the_settings_read():
    from infra.settings import Settings
    from dataclasses import fields
    read = set(ENV) | {f.metadata["env"] for f in fields(Settings) if "env" in f.metadata}
    superset_config = (ROOT / "infra/superset/superset_config.py").read_text()
    # read by Superset's config (infra/superset/superset_config.py), Superset itself, or the service's command
    infra_only = {*re.findall(r"os\.environ(?:\.get\(|\[)\"(\w+)\"", superset_config),
                  "SUPERSET_CONFIG_PATH", "SIMULATOR_RATE"}
    for name in ("worker", "maintain", "collector", "simulator", "superset"):
        env = SERVICES[name].get("environment", {})
        unknown = {k for k in env if k not in read and k not in infra_only}
        assert not unknown, f"{name}: {sorted(unknown)} are read by nothing in infra/settings.py"
