"""docker-compose.yml cannot run here (no Docker engine); it must still agree with the native launcher:
the settings' ports and variables, the versions it installs (or a difference written down here, with
its reason), and in its cluster profile, the settings' cluster topology."""
from __future__ import annotations

import pytest
import yaml

from infra.settings import ENV, ROOT, load
from tests.infra import native

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_it_defines_the_platform_services():
    always = {name for name, service in SERVICES.items() if "profiles" not in service}
    assert always == {"kafka", "clickhouse", "redis", "postgres", "superset", "superset-worker", "superset-beat",
                      "worker", "collector", "simulator", "maintain"}


def test_published_ports_are_the_settings_defaults_on_loopback():
    published = {name: sorted(spec.get("ports", [])) for name, spec in COMPOSE["services"].items()}
    assert published["kafka"] == [f"127.0.0.1:{ENV['KAFKA_PORT']}:9092"]
    assert published["clickhouse"] == sorted([f"127.0.0.1:{ENV['CLICKHOUSE_PORT']}:9000",
                                              f"127.0.0.1:{ENV['CLICKHOUSE_HTTP_PORT']}:8123"])
    assert published["superset"] == [f"127.0.0.1:{ENV['SUPERSET_PORT']}:8088"]
    assert published["collector"] == [f"127.0.0.1:{ENV['COLLECTOR_PORT']}:8090"]


def test_the_apps_read_only_variables_the_settings_module_knows():
    for name in ("worker", "collector", "simulator", "superset", "superset-worker", "superset-beat", "maintain"):
        environment = COMPOSE["services"][name]["environment"]
        prefixes = {"KAFKA", "CLICKHOUSE", "DRAMA", "SUPERSET", "WORKER", "COLLECTOR", "REDIS"}
        ours = {key for key in environment if key.split("_")[0] in prefixes}
        unknown = ours - set(ENV) - {"SUPERSET_CONFIG_PATH", "SUPERSET_SECRET_KEY"}
        assert not unknown, f"{name} sets {unknown}, which infra/settings.py does not read"
        for key in ("KAFKA_HOST", "KAFKA_PORT", "CLICKHOUSE_HOST", "CLICKHOUSE_PORT", "CLICKHOUSE_DB"):
            assert key in environment, f"{name} does not set {key}"
        assert environment["CLICKHOUSE_DB"] == ENV["CLICKHOUSE_DB"]


def test_superset_keeps_its_metadata_in_postgres():
    """Every Superset process reads the same metadata database: the postgres service, never SQLite."""
    postgres = COMPOSE["services"]["postgres"]
    assert postgres["image"].startswith("postgres:15") and "ports" not in postgres   # not published
    for name in ("superset", "superset-worker", "superset-beat"):
        uri = COMPOSE["services"][name]["environment"]["SUPERSET_DATABASE_URI"]
        assert uri.startswith("postgresql+psycopg2://") and "@postgres:5432/" in uri, (name, uri)
    assert COMPOSE["services"]["superset"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


# The one deliberate difference: natively, Debian's package (18.16, all this machine has); under
# Docker, the current release (the project supports both: warehouse/README.md, "Running on
# ClickHouse 18.16 and on current releases"; migrations/current/ applies only there).
DIFFERENT = {"clickhouse/clickhouse-server": "Debian's 18.16 natively, the current release under Docker"}


def tag(service: str) -> tuple[str, str]:
    image, _, version = SERVICES[service]["image"].partition(":")
    return image, version


@pytest.mark.parametrize("service", [s for s in SERVICES if SERVICES[s].get("image", "").startswith("apache/kafka")])
def test_kafka_images_are_the_version_the_launcher_installs(service):
    assert tag(service)[1] == native.kafka_version(), (service, tag(service), native.kafka_version())


@pytest.mark.parametrize("service", [s for s in SERVICES if SERVICES[s].get("image", "").startswith("apache/superset")])
def test_superset_images_are_the_version_the_launcher_installs(service):
    assert tag(service)[1] == native.superset_version(), (service, tag(service), native.superset_version())


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


CLUSTER = {name: s for name, s in SERVICES.items() if "cluster" in s.get("profiles", ())}


def cluster_env() -> dict[str, str]:
    lines = (ROOT / "infra/compose/cluster.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_cluster_profile_is_the_settings_topology(monkeypatch):
    for name, value in cluster_env().items():
        monkeypatch.setenv(name, value)
    settings = load()
    assert settings.cluster
    brokers = sorted(n for n in CLUSTER if n.startswith("kafka-"))
    assert [f"{b.host}:{b.port}" for b in settings.kafka_brokers] == [f"{n}:19092" for n in brokers]
    for n, name in enumerate(brokers, 1):
        env = SERVICES[name]["environment"]
        assert env["KAFKA_NODE_ID"] == n and env["KAFKA_ADVERTISED_LISTENERS"] == f"INTERNAL://{name}:19092"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == ",".join(f"{i}@{b}:9093" for i, b in enumerate(brokers, 1))
        assert (env["KAFKA_MIN_INSYNC_REPLICAS"], env["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == \
            (2, settings.topic_replicas)
    for node in settings.clickhouse_nodes:       # each server's macros: its place in the settings' layout
        env = SERVICES[node.host]["environment"]
        assert (env["CLICKHOUSE_SHARD"], env["CLICKHOUSE_REPLICA"]) == (f"{node.shard:02d}", f"r{node.replica}")
    assert set(CLUSTER) == {"zookeeper", *brokers, *(n.host for n in settings.clickhouse_nodes)}


def test_the_cluster_profiles_clickhouse_config_names_every_server_of_its_shard():
    import xml.etree.ElementTree as ET
    config = ET.parse(ROOT / "infra/compose/clickhouse-cluster.xml").getroot()
    shards = [[r.findtext("host") for r in shard.findall("replica")] for shard in config.find("remote_servers/drama")]
    assert shards == [["clickhouse-1", "clickhouse-2"], ["clickhouse-3", "clickhouse-4"]]
    profiles = ET.parse(ROOT / "infra/compose/clickhouse-profiles.xml").getroot().find("profiles/default")
    default = native.default_profile()
    for setting in profiles:
        assert default.findtext(setting.tag) == setting.text, setting.tag


def test_zookeeper_is_the_version_the_launcher_installs():
    assert tag("zookeeper")[1] == native.zookeeper_version()
