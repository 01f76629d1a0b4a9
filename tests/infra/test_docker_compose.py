"""docker-compose.yml cannot run here (no Docker engine); it must still agree with the settings."""
from __future__ import annotations

import yaml

from infra.settings import ENV, ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_defines_the_platform_services():
    assert set(COMPOSE["services"]) == {"kafka", "clickhouse", "redis", "postgres", "superset", "superset-worker",
                                       "superset-beat", "worker", "collector", "simulator", "maintain"}


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
