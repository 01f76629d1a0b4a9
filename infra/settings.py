"""Every address, port, path and credential the platform uses, read from the environment.

The native stack (`python -m infra`), docker-compose.yml, the workers, the simulator and the
tests all read these names, so they agree. Defaults listen on loopback only.

DRAMA_NAMESPACE isolates a run: it prefixes every topic and suffixes the database, so a test
can replay the golden set on a stack that is already in use.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer; unset it or give a number") from None


@dataclass(frozen=True)
class Settings:
    state_dir: Path = field(default_factory=lambda: Path(_env("DRAMA_STATE_DIR", str(ROOT / ".state"))))
    namespace: str = field(default_factory=lambda: _env("DRAMA_NAMESPACE", ""))

    kafka_host: str = field(default_factory=lambda: _env("KAFKA_HOST", "127.0.0.1"))
    kafka_port: int = field(default_factory=lambda: _int("KAFKA_PORT", 9092))
    kafka_controller_port: int = field(default_factory=lambda: _int("KAFKA_CONTROLLER_PORT", 9093))
    kafka_heap: str = field(default_factory=lambda: _env("KAFKA_HEAP", "512m"))
    topic_partitions: int = field(default_factory=lambda: _int("DRAMA_TOPIC_PARTITIONS", 4))

    clickhouse_host: str = field(default_factory=lambda: _env("CLICKHOUSE_HOST", "127.0.0.1"))
    clickhouse_port: int = field(default_factory=lambda: _int("CLICKHOUSE_PORT", 9000))
    clickhouse_http_port: int = field(default_factory=lambda: _int("CLICKHOUSE_HTTP_PORT", 8123))
    clickhouse_user: str = field(default_factory=lambda: _env("CLICKHOUSE_USER", "default"))
    # Empty by default: the native server listens on loopback only. Set it for anything else.
    clickhouse_password: str = field(default_factory=lambda: os.environ.get("CLICKHOUSE_PASSWORD", ""))
    clickhouse_db_base: str = field(default_factory=lambda: _env("CLICKHOUSE_DB", "drama"))

    superset_host: str = field(default_factory=lambda: _env("SUPERSET_HOST", "127.0.0.1"))
    superset_port: int = field(default_factory=lambda: _int("SUPERSET_PORT", 8088))
    superset_admin_user: str = field(default_factory=lambda: _env("SUPERSET_ADMIN_USER", "admin"))

    worker_web_port: int = field(default_factory=lambda: _int("WORKER_WEB_PORT", 6066))

    # --- derived names -------------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    @property
    def clickhouse_db(self) -> str:
        return f"{self.clickhouse_db_base}_{self.namespace}" if self.namespace else self.clickhouse_db_base

    def topic(self, name: str) -> str:
        """The Kafka topic for a contract name such as `drama.viewing`, in this namespace."""
        return f"{self.namespace}.{name}" if self.namespace else name

    @property
    def superset_url(self) -> str:
        return f"http://{self.superset_host}:{self.superset_port}"

    @property
    def superset_admin_password(self) -> str:
        """From SUPERSET_ADMIN_PASSWORD, else the one generated at install (see infra.superset)."""
        from_env = os.environ.get("SUPERSET_ADMIN_PASSWORD")
        if from_env:
            return from_env
        path = self.state_dir / "superset" / "admin_password"
        return path.read_text().strip() if path.exists() else ""

    @property
    def clickhouse_sqlalchemy_uri(self) -> str:
        return (f"clickhouse+native://{self.clickhouse_user}:{self.clickhouse_password}"
                f"@{self.clickhouse_host}:{self.clickhouse_port}/{self.clickhouse_db}")

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pid_dir(self) -> Path:
        return self.state_dir / "pids"


def load() -> Settings:
    return Settings()
