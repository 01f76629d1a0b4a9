"""Every address, port, path and credential the platform uses, read from the environment.

The native stack (`python -m launcher`), docker-compose.yml, the workers, the simulator and the
tests all read the variables in ENV, so they agree. Defaults listen on loopback only.

DRAMA_NAMESPACE isolates a run: it prefixes every topic and suffixes the database, so a test
can replay the golden set on a stack that is already in use.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

# Variable → default. The only place a default address, port or credential is written.
ENV = {
    "DRAMA_STATE_DIR": str(ROOT / ".state"),
    "DRAMA_NAMESPACE": "",
    "DRAMA_TOPIC_PARTITIONS": "4",
    # Where each Faust worker keeps its data directory (<this>/<faust_app_id>); empty: <DRAMA_STATE_DIR>/faust.
    "DRAMA_FAUST_DATA_DIR": "",
    # "1": the cluster mode (`make up CLUSTER=1`): 3 KRaft brokers, ZooKeeper, and ClickHouse as
    # CLUSTER_SHARDS shards × CLUSTER_REPLICAS replicas, each on its own ports from the bases below
    # (Settings.kafka_brokers, Settings.clickhouse_nodes: the topology, in this one place).
    "DRAMA_CLUSTER": "",
    "CLUSTER_KAFKA_PORT": "19092",              # broker N (1..3) at this + N - 1
    "CLUSTER_KAFKA_CONTROLLER_PORT": "19192",
    "CLUSTER_CLICKHOUSE_PORT": "9101",          # server N (1..shards × replicas) at this + N - 1
    "CLUSTER_CLICKHOUSE_HTTP_PORT": "8201",
    "CLUSTER_CLICKHOUSE_INTERSERVER_PORT": "9201",
    "CLUSTER_SHARDS": "2",
    "CLUSTER_REPLICAS": "2",
    # Elsewhere than on one machine (docker-compose's cluster profile, Kubernetes: infra/k8s/), the
    # servers' own addresses, host:port comma-separated, instead of the loopback ports above: the
    # brokers (a bootstrap list), and the ClickHouse servers shard by shard (shard 1's replicas
    # first), native port.
    "CLUSTER_KAFKA_HOSTS": "",
    "CLUSTER_CLICKHOUSE_HOSTS": "",
    "ZOOKEEPER_HOST": "127.0.0.1",
    "ZOOKEEPER_PORT": "2281",
    "KAFKA_HOST": "127.0.0.1",
    "KAFKA_PORT": "9092",
    "KAFKA_CONTROLLER_PORT": "9093",
    # A second listener for fault tests (tests/reliability/test_cut_off.py): it advertises
    # KAFKA_PROXY_PORT, where a test's TCP proxy forwards to KAFKA_PROXIED_PORT, so a client that
    # bootstraps through the proxy reaches the broker only through it. Loopback like the rest.
    "KAFKA_PROXIED_PORT": "9094",
    "KAFKA_PROXY_PORT": "9095",
    "KAFKA_HEAP": "512m",
    "CLICKHOUSE_HOST": "127.0.0.1",
    "CLICKHOUSE_PORT": "9000",
    "CLICKHOUSE_HTTP_PORT": "8123",
    "CLICKHOUSE_USER": "default",
    # Empty by default: the native server listens on loopback only. Set it for anything else.
    "CLICKHOUSE_PASSWORD": "",
    "CLICKHOUSE_DB": "drama",
    # Two more ClickHouse users beside the admin above (warehouse/README.md, "Roles"): the workers'
    # writer (INSERT and SELECT on the project's database, no DDL) and the read-only analyst
    # Superset connects as (quotas and limits). Empty passwords: generated at install into
    # .state/clickhouse/secrets/ (the server's users file holds only their sha256).
    "CLICKHOUSE_WRITER_USER": "drama_writer",
    "CLICKHOUSE_WRITER_PASSWORD": "",
    "CLICKHOUSE_ANALYST_USER": "drama_analyst",
    "CLICKHOUSE_ANALYST_PASSWORD": "",
    "SUPERSET_HOST": "127.0.0.1",
    "SUPERSET_PORT": "8088",
    "SUPERSET_ADMIN_USER": "admin",
    # Empty: generated at install into .state/superset/admin_password and printed once.
    "SUPERSET_ADMIN_PASSWORD": "",
    # The demo's read-only login (role "Drama viewer": dashboards, no SQL Lab), made by `make dashboards`.
    # Its password: SUPERSET_VIEWER_PASSWORD, else generated into .state/superset/viewer_password.
    "SUPERSET_VIEWER_USER": "viewer",
    "SUPERSET_VIEWER_PASSWORD": "",
    # Gunicorn workers serving Superset (gthread, 4 threads each). 0: one per core, at least 2, at most 8
    # (each worker holds ~300 MB; Settings.superset_workers says why not 2 × cores + 1).
    "SUPERSET_WORKERS": "0",
    # Postgres (Debian's postgresql-15): Superset's metadata database, so the web workers, the Celery
    # worker and provisioning write at once (SQLite had one writer at a time). Its password: POSTGRES_PASSWORD,
    # else generated into .state/postgres/password. SUPERSET_DATABASE_URI, if set, overrides the whole URI.
    "POSTGRES_HOST": "127.0.0.1",
    "POSTGRES_PORT": "5433",
    "POSTGRES_USER": "superset",
    "POSTGRES_PASSWORD": "",
    "POSTGRES_DB": "superset",
    "SUPERSET_DATABASE_URI": "",
    # Redis (Debian's redis-server): Superset's Celery broker for Alerts & Reports, and its results
    # and chart-data cache, so many open dashboards refreshing every 10 s do not each hit ClickHouse.
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": "6379",
    # Where the alerts (dashboards/alerts.py) post. Empty: they are provisioned inactive.
    # Superset accepts https only, except to a receiver on loopback (http://127.0.0.1:...).
    "DRAMA_ALERT_WEBHOOK_URL": "",
    "WORKER_WEB_PORT": "6066",
    # The interface the worker's /health listens on (Faust binds every interface unless told).
    "WORKER_WEB_BIND": "127.0.0.1",
    # Days of minute-level parts (the *_parts tables) kept; rollups and events_raw are kept whole.
    "DRAMA_PARTS_RETENTION_DAYS": "7",
    # Seconds between two passes of rollup reconciliation and retention (python -m warehouse.maintain).
    "DRAMA_MAINTAIN_EVERY_S": "300",
    # Tests only: seconds a worker holds each batch half written (after events_raw, before the
    # metric tables), so a fault test can kill it at that moment. 0 in production.
    "DRAMA_FAULT_PAUSE_S": "0",
    # Tests only: the worker's consumer hangs after this many fetches, as a consumer that stopped
    # fetching would (its lag grows with nothing in flight: /health must say stalled). 0 in production.
    "DRAMA_FAULT_STOP_FETCHING_AFTER": "0",
    # The re-create rule (streams/trends.py): a title's feedback score in a minute of event time
    # surges when it is at least TREND_SURGE_RATIO × its mean over the previous
    # TREND_BASELINE_MINUTES (floored at TREND_MIN_BASELINE) and at least TREND_MIN_SCORE.
    "TREND_SURGE_RATIO": "3.0",
    "TREND_MIN_SCORE": "30",
    "TREND_MIN_BASELINE": "5",
    "TREND_BASELINE_MINUTES": "10",
    "TREND_COOLDOWN_MINUTES": "30",
    # The hit forecast (streams/forecasts.py): every new title in its first 7 days is scored every
    # FORECAST_PERIOD_S of event time; the worker looks for moments due every FORECAST_CHECK_S.
    "FORECAST_PERIOD_S": "600",
    "FORECAST_CHECK_S": "10",
    # The demo's past (`make demo`): this many simulated days ending now are sent through Kafka and
    # the worker before it goes live (0: none), at this many new users a simulated day, which the
    # live traffic keeps (one world throughout: the same sample of the audience).
    "DEMO_HISTORY_DAYS": "32",
    "DEMO_USERS_PER_DAY": "800",
    "DEMO_SLATE_PER_DAY": "2",          # new original titles a day in the demo (the hit forecast's; 0: none)
    "COLLECTOR_HOST": "127.0.0.1",
    "COLLECTOR_PORT": "8090",
    "COLLECTOR_MAX_BODY_BYTES": str(1024 * 1024),
    "COLLECTOR_MAX_EVENTS": "1000",
    "COLLECTOR_MAX_IN_FLIGHT": "20000",
    # Seconds a request may take to send its body: a slow-drip client is answered 408 after that.
    "COLLECTOR_BODY_TIMEOUT_S": "30",
    # A shared token the collector asks of every POST (header `Authorization: Bearer <token>`);
    # empty: no token is asked (the collector listens on loopback by default).
    "COLLECTOR_TOKEN": "",
}



def kept_secret(path: Path, nbytes: int = 12) -> str:
    """The secret kept in `path`, generated there first (readable by this user only) if it is not."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def _env_or_kept(value: str, path: Path) -> str:
    """A secret the environment gives, else the one kept in `path`, else empty."""
    return value or (path.read_text().strip() if path.exists() else "")

def env(name: str) -> str:
    value = os.environ.get(name)
    return ENV[name] if value is None or (value == "" and name != "CLICKHOUSE_PASSWORD") else value


def env_int(name: str) -> int:
    raw = env(name)
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer; unset it or give a number") from None


def _str(name: str, **kwargs):
    return field(default_factory=lambda: env(name), metadata={"env": name}, **kwargs)


def _int(name: str):
    return field(default_factory=lambda: env_int(name), metadata={"env": name})


def _addresses(value: str, name: str) -> list[tuple[str, int]]:
    """host:port, comma-separated → [(host, port)]; a clear error for anything else."""
    out = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{name}={value!r}: {item!r} is not host:port (e.g. clickhouse-1:9000)")
        out.append((host, int(port)))
    return out


class Broker(NamedTuple):
    node_id: int
    host: str
    port: int
    controller_port: int


class Node(NamedTuple):
    """One ClickHouse server of the cluster."""
    index: int          # 1.. in shard order
    shard: int
    replica: int
    host: str
    port: int           # native protocol
    http_port: int
    interserver_port: int

    @property
    def name(self) -> str:
        return f"clickhouse-{self.index}"


@dataclass(frozen=True)
class Settings:
    state_dir: Path = field(default_factory=lambda: Path(env("DRAMA_STATE_DIR")), metadata={"env": "DRAMA_STATE_DIR"})
    namespace: str = _str("DRAMA_NAMESPACE")
    topic_partitions: int = _int("DRAMA_TOPIC_PARTITIONS")
    # None (the variable empty) becomes state_dir / "faust" in __post_init__.
    faust_data_dir: Path | None = field(default_factory=lambda: Path(env("DRAMA_FAUST_DATA_DIR"))
                                        if env("DRAMA_FAUST_DATA_DIR") else None,
                                        metadata={"env": "DRAMA_FAUST_DATA_DIR"})

    cluster: bool = field(default_factory=lambda: env("DRAMA_CLUSTER") not in ("", "0"),
                          metadata={"env": "DRAMA_CLUSTER"})
    cluster_kafka_port: int = _int("CLUSTER_KAFKA_PORT")
    cluster_kafka_controller_port: int = _int("CLUSTER_KAFKA_CONTROLLER_PORT")
    cluster_clickhouse_port: int = _int("CLUSTER_CLICKHOUSE_PORT")
    cluster_clickhouse_http_port: int = _int("CLUSTER_CLICKHOUSE_HTTP_PORT")
    cluster_clickhouse_interserver_port: int = _int("CLUSTER_CLICKHOUSE_INTERSERVER_PORT")
    cluster_shards: int = _int("CLUSTER_SHARDS")
    cluster_replicas: int = _int("CLUSTER_REPLICAS")
    cluster_kafka_hosts: str = _str("CLUSTER_KAFKA_HOSTS")
    cluster_clickhouse_hosts: str = _str("CLUSTER_CLICKHOUSE_HOSTS")
    zookeeper_host: str = _str("ZOOKEEPER_HOST")
    zookeeper_port: int = _int("ZOOKEEPER_PORT")

    kafka_host: str = _str("KAFKA_HOST")
    kafka_port: int = _int("KAFKA_PORT")
    kafka_controller_port: int = _int("KAFKA_CONTROLLER_PORT")
    kafka_proxied_port: int = _int("KAFKA_PROXIED_PORT")
    kafka_proxy_port: int = _int("KAFKA_PROXY_PORT")
    kafka_heap: str = _str("KAFKA_HEAP")

    clickhouse_host: str = _str("CLICKHOUSE_HOST")
    clickhouse_port: int = _int("CLICKHOUSE_PORT")
    clickhouse_http_port: int = _int("CLICKHOUSE_HTTP_PORT")
    clickhouse_user: str = _str("CLICKHOUSE_USER")
    clickhouse_password: str = _str("CLICKHOUSE_PASSWORD", repr=False)
    clickhouse_db_base: str = _str("CLICKHOUSE_DB")
    clickhouse_writer_user: str = _str("CLICKHOUSE_WRITER_USER")
    clickhouse_writer_password_env: str = _str("CLICKHOUSE_WRITER_PASSWORD", repr=False)
    clickhouse_analyst_user: str = _str("CLICKHOUSE_ANALYST_USER")
    clickhouse_analyst_password_env: str = _str("CLICKHOUSE_ANALYST_PASSWORD", repr=False)

    superset_host: str = _str("SUPERSET_HOST")
    superset_port: int = _int("SUPERSET_PORT")
    superset_admin_user: str = _str("SUPERSET_ADMIN_USER")
    superset_viewer_user: str = _str("SUPERSET_VIEWER_USER")
    superset_workers_env: int = _int("SUPERSET_WORKERS")
    superset_database_uri_env: str = _str("SUPERSET_DATABASE_URI", repr=False)
    postgres_host: str = _str("POSTGRES_HOST")
    postgres_port: int = _int("POSTGRES_PORT")
    postgres_user: str = _str("POSTGRES_USER")
    postgres_password_env: str = _str("POSTGRES_PASSWORD", repr=False)
    postgres_db: str = _str("POSTGRES_DB")
    redis_host: str = _str("REDIS_HOST")
    redis_port: int = _int("REDIS_PORT")
    alert_webhook_url: str = _str("DRAMA_ALERT_WEBHOOK_URL")

    worker_web_port: int = _int("WORKER_WEB_PORT")
    worker_web_bind: str = _str("WORKER_WEB_BIND")
    parts_retention_days: int = _int("DRAMA_PARTS_RETENTION_DAYS")
    maintain_every_s: int = _int("DRAMA_MAINTAIN_EVERY_S")
    fault_pause_s: float = field(default_factory=lambda: float(env("DRAMA_FAULT_PAUSE_S")),
                                 metadata={"env": "DRAMA_FAULT_PAUSE_S"})
    fault_stop_fetching_after: int = _int("DRAMA_FAULT_STOP_FETCHING_AFTER")   # tests: the consumer hangs

    trend_surge_ratio: float = field(default_factory=lambda: float(env("TREND_SURGE_RATIO")),
                                     metadata={"env": "TREND_SURGE_RATIO"})
    trend_min_score: int = _int("TREND_MIN_SCORE")
    trend_min_baseline: int = _int("TREND_MIN_BASELINE")
    trend_baseline_minutes: int = _int("TREND_BASELINE_MINUTES")
    trend_cooldown_minutes: int = _int("TREND_COOLDOWN_MINUTES")
    forecast_period_s: int = _int("FORECAST_PERIOD_S")
    forecast_check_s: int = _int("FORECAST_CHECK_S")

    demo_history_days: int = _int("DEMO_HISTORY_DAYS")
    demo_users_per_day: int = _int("DEMO_USERS_PER_DAY")
    demo_slate_per_day: float = field(default_factory=lambda: float(env("DEMO_SLATE_PER_DAY")),
                                      metadata={"env": "DEMO_SLATE_PER_DAY"})

    collector_host: str = _str("COLLECTOR_HOST")
    collector_port: int = _int("COLLECTOR_PORT")
    collector_max_body_bytes: int = _int("COLLECTOR_MAX_BODY_BYTES")
    collector_max_events: int = _int("COLLECTOR_MAX_EVENTS")
    collector_max_in_flight: int = _int("COLLECTOR_MAX_IN_FLIGHT")
    collector_token: str = _str("COLLECTOR_TOKEN", repr=False)
    collector_body_timeout_s: int = _int("COLLECTOR_BODY_TIMEOUT_S")

    def __post_init__(self) -> None:
        if self.faust_data_dir is None:
            object.__setattr__(self, "faust_data_dir", Path(self.state_dir) / "faust")
        if self.cluster:    # readers (Superset, queries, the launcher) talk to the first server
            first = self.clickhouse_nodes[0]
            object.__setattr__(self, "clickhouse_host", first.host)
            object.__setattr__(self, "clickhouse_port", first.port)
            if not self.cluster_clickhouse_hosts:       # elsewhere, CLICKHOUSE_HTTP_PORT is every server's
                object.__setattr__(self, "clickhouse_http_port", first.http_port)

    def as_env(self) -> dict[str, str]:
        """These settings as environment variables, for a child process to read back."""
        values = {f.metadata["env"]: str(getattr(self, f.name)) for f in fields(self)}
        values["DRAMA_CLUSTER"] = "1" if self.cluster else ""
        return values

    # --- the cluster's topology (DRAMA_CLUSTER=1) -----------------------------------------
    CLUSTER_NAME = "drama"          # remote_servers' name, ON CLUSTER's and Distributed's

    @property
    def kafka_brokers(self) -> list[Broker]:
        """The cluster's KRaft brokers (each a controller voter too); the single broker otherwise."""
        if not self.cluster:
            return [Broker(1, self.kafka_host, self.kafka_port, self.kafka_controller_port)]
        if self.cluster_kafka_hosts:
            return [Broker(n, host, port, 0) for n, (host, port) in
                    enumerate(_addresses(self.cluster_kafka_hosts, "CLUSTER_KAFKA_HOSTS"), 1)]
        return [Broker(n, self.kafka_host, self.cluster_kafka_port + n - 1, self.cluster_kafka_controller_port + n - 1)
                for n in (1, 2, 3)]

    @property
    def clickhouse_nodes(self) -> list[Node]:
        """The cluster's ClickHouse servers, shard by shard (server N is shard (N-1) // replicas + 1)."""
        nodes = []
        given = _addresses(self.cluster_clickhouse_hosts, "CLUSTER_CLICKHOUSE_HOSTS")
        if given and len(given) != self.cluster_shards * self.cluster_replicas:
            raise ValueError(f"CLUSTER_CLICKHOUSE_HOSTS names {len(given)} servers; CLUSTER_SHARDS × CLUSTER_REPLICAS "
                             f"is {self.cluster_shards * self.cluster_replicas}: list every replica, shard by shard")
        for shard in range(1, self.cluster_shards + 1):
            for replica in range(1, self.cluster_replicas + 1):
                n = len(nodes) + 1
                host, port = given[n - 1] if given else (self.clickhouse_host, self.cluster_clickhouse_port + n - 1)
                nodes.append(Node(n, shard, replica, host, port, self.cluster_clickhouse_http_port + n - 1,
                                  self.cluster_clickhouse_interserver_port + n - 1))
        return nodes

    def shard_nodes(self, shard: int) -> list[Node]:
        return [node for node in self.clickhouse_nodes if node.shard == shard]


    # --- derived names -------------------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        """Every broker's address, comma-separated (what Kafka clients take)."""
        return ",".join(f"{b.host}:{b.port}" for b in self.kafka_brokers)

    @property
    def faust_broker(self) -> str:
        """The brokers as Faust's `broker` setting takes several: URLs separated by `;`."""
        return ";".join(f"kafka://{b.host}:{b.port}" for b in self.kafka_brokers)

    @property
    def topic_replicas(self) -> int:
        """Each topic's replication factor: 3 on the cluster (written while 2 are in sync), else 1."""
        return len(self.kafka_brokers)

    @property
    def clickhouse_db(self) -> str:
        return f"{self.clickhouse_db_base}_{self.namespace}" if self.namespace else self.clickhouse_db_base

    def topic(self, name: str) -> str:
        """The Kafka topic for a contract name such as `drama.viewing`, in this namespace."""
        return f"{self.namespace}.{name}" if self.namespace else name

    @property
    def faust_app_id(self) -> str:
        """The Faust app's id in this namespace: its consumer group, and the prefix of the topics
        Faust creates itself (`<id>-__assignor-__leader`)."""
        return f"drama-loop-{self.namespace}" if self.namespace else "drama-loop"

    @property
    def faust_app_dir(self) -> Path:
        """The Faust app's `datadir`: under the state directory, never the working directory."""
        return self.faust_data_dir / self.faust_app_id

    @property
    def superset_url(self) -> str:
        return f"http://{self.superset_host}:{self.superset_port}"

    @property
    def superset_admin_password(self) -> str:
        """From SUPERSET_ADMIN_PASSWORD, else the one generated at install (see infra.services)."""
        return _env_or_kept(env("SUPERSET_ADMIN_PASSWORD"), self.state_dir / "superset" / "admin_password")

    @property
    def superset_viewer_password(self) -> str:
        """From SUPERSET_VIEWER_PASSWORD, else the one `make dashboards` generated (dashboards.provision)."""
        return _env_or_kept(env("SUPERSET_VIEWER_PASSWORD"), self.state_dir / "superset" / "viewer_password")

    @property
    def superset_workers(self) -> int:
        """SUPERSET_WORKERS, else one per core (at least 2, at most 8). Measured on 2 cores (bench.dashboards,
        20 screens): gunicorn's usual 2 × cores + 1 made 5 workers miss an expiring cache together, which
        tripled ClickHouse's chart queries and the p95; a worker per core serves the threads' I/O waits."""
        return self.superset_workers_env or min(max(os.cpu_count() or 1, 2), 8)

    @property
    def postgres_password(self) -> str:
        """From POSTGRES_PASSWORD, else the one generated at install (infra.services.Postgres)."""
        return _env_or_kept(self.postgres_password_env, self.state_dir / "postgres" / "password")

    @property
    def superset_database_uri(self) -> str:
        """Superset's metadata database: SUPERSET_DATABASE_URI, else the launcher's Postgres."""
        return self.superset_database_uri_env or (
            f"postgresql+psycopg2://{self.postgres_user}:{self.postgres_password}"
            f"@{self.postgres_host}:{self.postgres_port}/{self.postgres_db}")

    def _secret(self, env_value: str, role: str) -> str:
        return _env_or_kept(env_value, self.state_dir / "clickhouse" / "secrets" / role)

    @property
    def clickhouse_writer_password(self) -> str:
        """From CLICKHOUSE_WRITER_PASSWORD, else the one generated at install (infra.services.ClickHouse)."""
        return self._secret(self.clickhouse_writer_password_env, "writer")

    @property
    def clickhouse_analyst_password(self) -> str:
        """From CLICKHOUSE_ANALYST_PASSWORD, else the one generated at install."""
        return self._secret(self.clickhouse_analyst_password_env, "analyst")

    @property
    def clickhouse_sqlalchemy_uri(self) -> str:
        """Superset's connection: the read-only analyst. A namespace's database (tests, benchmarks)
        comes and goes with the admin, and the analyst's grant names the project's database only,
        so a namespace's dashboards read it as the admin."""
        if self.namespace:
            return (f"clickhouse+native://{self.clickhouse_user}:{self.clickhouse_password}"
                    f"@{self.clickhouse_host}:{self.clickhouse_port}/{self.clickhouse_db}")
        return (f"clickhouse+native://{self.clickhouse_analyst_user}:{self.clickhouse_analyst_password}"
                f"@{self.clickhouse_host}:{self.clickhouse_port}/{self.clickhouse_db}")

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pid_dir(self) -> Path:
        return self.state_dir / "pids"


def load(**overrides) -> Settings:
    """Settings from the environment; keyword overrides win (tests use them)."""
    return Settings(**overrides)
