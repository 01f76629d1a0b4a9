"""The cluster mode's services (`make up CLUSTER=1`, `python -m launcher up --cluster`): ZooKeeper,
three KRaft brokers and ClickHouse as shards × replicas, each its own process, ports and data
directory under .state/cluster/, on loopback. The topology is the settings' (infra/settings.py:
Settings.kafka_brokers, Settings.clickhouse_nodes); the configs that work, and the pitfalls
they avoid, are in ../shared/notes/cluster-on-one-machine.md and infra/SCALING.md.

Superset, Postgres and Redis are the single-node stack's (infra/services.py), pointed at the
first ClickHouse server, where every Distributed table answers for the whole cluster.
"""
from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path

from infra import services
from infra.process import ServiceError, run
from infra.services import INFRA, ClickHouse, Kafka, Service, make_secrets, maven_install, render
from infra.settings import Settings
from schemas.topics import ALL_TOPICS


def home(settings: Settings) -> Path:
    return settings.state_dir / "cluster"


class ZooKeeper(Service):
    """One ZooKeeper server, for ClickHouse's replication (infra/SCALING.md: why production runs three)."""
    name = "zookeeper"

    @property
    def home(self) -> Path:
        return home(self.settings) / "zookeeper"

    def ports(self):
        return [(self.settings.zookeeper_host, self.settings.zookeeper_port)]

    def installed(self) -> bool:
        libs = self.home / "libs"
        return libs.is_dir() and any(libs.glob("zookeeper-3*.jar"))

    def install(self) -> None:
        maven_install(self, INFRA / "zookeeper", self.home / "libs", "ZooKeeper")

    def prepare(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        render(INFRA / "zookeeper" / "zoo.cfg", self.home / "zoo.cfg", self.settings,
               DATA_DIR=str(self.home / "data"))

    def argv(self):
        return ["java", "-Xmx256m", "-Xms64m", "-cp", str(self.home / "libs" / "*"),
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(self.home / "zoo.cfg")]

    def healthy(self) -> bool:
        """Serving sessions, not only running: `ruok` answers imok while the server still loads its
        data, and a ClickHouse server started then cannot attach its Replicated tables and exits."""
        return "Mode: " in self.four_letters("srvr")

    def four_letters(self, word: str) -> str:
        """A ZooKeeper four-letter command's answer ('' when it does not answer)."""
        import socket
        try:
            with socket.create_connection((self.settings.zookeeper_host, self.settings.zookeeper_port), 1) as s:
                s.sendall(word.encode())
                s.settimeout(2)
                chunks = []
                while chunk := s.recv(4096):
                    chunks.append(chunk)
                return b"".join(chunks).decode(errors="replace")
        except OSError:
            return ""


class ClickHouseNode(ClickHouse):
    """One ClickHouse server of the cluster: the single server's config.xml and users.xml, on its
    own ports and data directory, plus config.d/cluster.xml (its shard and replica, the cluster's
    servers, ZooKeeper, ON CLUSTER DDL)."""
    index = 0

    def __init__(self, settings: Settings):
        self.node = settings.clickhouse_nodes[self.index - 1]
        self.name = self.node.name
        self.node_settings = dataclasses.replace(settings, state_dir=home(settings) / self.name)
        object.__setattr__(self.node_settings, "clickhouse_port", self.node.port)   # past __post_init__
        object.__setattr__(self.node_settings, "clickhouse_http_port", self.node.http_port)
        super().__init__(settings)

    def ports(self):
        return [(self.node.host, self.node.port), (self.node.host, self.node.http_port)]

    def prepare(self) -> None:
        conf = self.node_settings.state_dir / "clickhouse"
        for sub in ("data", "tmp", "user_files", "format_schemas", "config.d"):
            (conf / sub).mkdir(parents=True, exist_ok=True)
        self.node_settings.log_dir.mkdir(parents=True, exist_ok=True)
        make_secrets(self.settings)          # one writer and analyst password for every server
        render(INFRA / "clickhouse" / "config.xml", conf / "config.xml", self.node_settings)
        render(INFRA / "clickhouse" / "users.xml", conf / "users.xml", self.settings)
        render(INFRA / "clickhouse" / "cluster.xml", conf / "config.d" / "cluster.xml", self.settings,
               INTERSERVER_PORT=str(self.node.interserver_port), SHARD=f"{self.node.shard:02d}",
               REPLICA=f"r{self.node.replica}", CLUSTER_NAME=self.settings.CLUSTER_NAME,
               SHARDS=remote_servers(self.settings))

    def argv(self):
        return [*self.binary(), f"--config-file={self.node_settings.state_dir / 'clickhouse' / 'config.xml'}"]

    def status(self) -> str:
        """The service's line, with its replicated tables' state: how far behind (absolute_delay),
        read-only ones (ZooKeeper lost), and parts waiting to be fetched."""
        line = super().status()
        if self.pid() is None:
            return line
        try:
            from clickhouse_driver import Client
            client = Client(self.node.host, port=self.node.port, user=self.settings.clickhouse_user,
                            password=self.settings.clickhouse_password, connect_timeout=2, send_receive_timeout=5)
            tables, delay, readonly, queue = client.execute(
                "SELECT count(), max(absolute_delay), sum(is_readonly), sum(queue_size) FROM system.replicas")[0]
        except Exception as error:  # noqa: BLE001 - status says it, whatever it is
            return f"{line}  replicas: unknown ({type(error).__name__})"
        return (f"{line}  shard {self.node.shard} replica {self.node.replica}: {tables} replicated tables, "
                f"absolute_delay {delay}s, {readonly} read-only, {queue} queued")

    def healthy(self) -> bool:
        from infra.process import http_ok, port_open
        return http_ok(f"http://{self.node.host}:{self.node.http_port}/ping", "Ok") and \
            port_open(self.node.host, self.node.port)


def remote_servers(settings: Settings) -> str:
    """The <shard> elements of the cluster's remote_servers entry."""
    out = []
    for shard in range(1, settings.cluster_shards + 1):
        replicas = "".join(f"<replica><host>{n.host}</host><port>{n.port}</port></replica>"
                           for n in settings.shard_nodes(shard))
        out.append(f"            <shard><internal_replication>true</internal_replication>{replicas}</shard>")
    return "\n".join(out)


class KafkaBroker(Kafka):
    """One of three KRaft brokers, each a controller voter; formatted once with the cluster's id."""
    index = 0
    start_timeout = 120.0

    def __init__(self, settings: Settings):
        self.broker = settings.kafka_brokers[self.index - 1]
        self.name = f"kafka-{self.index}"
        super().__init__(settings)

    @property
    def home(self) -> Path:
        return home(self.settings) / self.name

    @property
    def libs(self) -> Path:
        return self.settings.state_dir / "kafka" / "libs"        # the single broker's jars, resolved once

    def ports(self):
        return [(self.broker.host, self.broker.port)]

    def installed(self) -> bool:
        return self.libs.is_dir() and any(self.libs.glob("kafka_2.13-*.jar"))

    def install(self) -> None:
        Kafka(self.settings).install()

    def java(self, main: str, *args: str, heap: str = "") -> list[str]:
        argv = super().java(main, *args, heap=heap)
        argv[argv.index("-cp") + 1] = str(self.libs / "*")
        return argv

    def cluster_id(self) -> str:
        """One id for the three brokers' storage, made by the first that formats."""
        path = home(self.settings) / "kafka-cluster-id"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(subprocess.check_output(self.java("kafka.tools.StorageTool", "random-uuid"),
                                                    text=True).strip().splitlines()[-1])
        return path.read_text().strip()

    def prepare(self) -> None:
        voters = ",".join(f"{b.node_id}@{b.host}:{b.controller_port}" for b in self.settings.kafka_brokers)
        props = render(INFRA / "kafka" / "cluster-broker.properties", self.home / "server.properties", self.settings,
                       NODE_ID=str(self.broker.node_id), VOTERS=voters, BROKER_PORT=str(self.broker.port),
                       CONTROLLER_PORT=str(self.broker.controller_port), DATA_DIR=str(self.home / "data"))
        if not (self.home / "data" / "meta.properties").exists():
            run(self.java("kafka.tools.StorageTool", "format", "-t", self.cluster_id(), "-c", str(props)),
                "formatting the broker's storage", self.log,
                fix=f"If {home(self.settings)} holds an older cluster, remove it (`make clean`).")

    def up(self) -> str:
        """A broker listens once a quorum of the voters elected a controller: the others are
        started (not waited for) first, so that the first one's wait can end."""
        for b in self.settings.kafka_brokers:
            if b.node_id != self.broker.node_id:
                numbered(KafkaBroker, b.node_id)(self.settings).start()
        return super().up()


def numbered(base: type, index: int) -> type:
    """`base` for its `index`-th server (ClickHouseNode, KafkaBroker), as the stack lists kinds."""
    return type(f"{base.__name__}{index}", (base,), {"index": index})


def stack(settings: Settings) -> tuple[type[Service], ...]:
    """The cluster's services in start order, then Superset's (the single-node stack's)."""
    nodes = tuple(numbered(ClickHouseNode, n.index) for n in settings.clickhouse_nodes)
    brokers = tuple(numbered(KafkaBroker, b.node_id) for b in settings.kafka_brokers)
    rest = tuple(kind for kind in services.STACK if kind not in (ClickHouse, Kafka))
    return (ZooKeeper, *nodes, *brokers, *rest)


def wait_replicated(settings: Settings, timeout: float = 60.0) -> None:
    """Until every server sees ZooKeeper (system.zookeeper answers): before ON CLUSTER DDL."""
    from clickhouse_driver import Client
    started = time.monotonic()
    for node in settings.clickhouse_nodes:
        client = Client(node.host, port=node.port, user=settings.clickhouse_user,
                        password=settings.clickhouse_password)
        while True:
            try:
                client.execute("SELECT count() FROM system.zookeeper WHERE path = '/'")
                break
            except Exception as error:  # noqa: BLE001 - retried until the timeout, then said
                if time.monotonic() - started > timeout:
                    raise ServiceError(f"{node.name} does not reach ZooKeeper after {timeout:.0f}s ({error}); "
                                       f"see {home(settings) / node.name / 'logs'}") from None
                time.sleep(1)


def in_sync_replicas(settings: Settings) -> list[str]:
    """One line per topic of the settings' namespace: its partitions' in-sync replicas, under-replicated ones named."""
    from kafka import KafkaAdminClient
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="drama-status",
                                 request_timeout_ms=5000)
    except Exception as error:  # noqa: BLE001 - status says it
        return [f"kafka ISR: unknown ({type(error).__name__}: {error})"]
    try:
        return isr_lines(admin.describe_topics(), {settings.topic(name) for name in ALL_TOPICS})
    finally:
        admin.close()


def isr_lines(topics: list[dict], names: set[str]) -> list[str]:
    """`make status`'s lines from kafka-python's describe_topics(): for each of `names` (the
    namespace's topics), the in-sync replicas of each partition, under-replicated ones named."""
    lines = []
    for topic in sorted(topics, key=lambda t: t["name"]):
        if topic["name"] not in names:
            continue
        partitions = sorted(topic["partitions"], key=lambda p: p["partition_index"])
        short = [f"{p['partition_index']} ({len(p['isr_nodes'])} of {len(p['replica_nodes'])})"
                 for p in partitions if len(p["isr_nodes"]) < len(p["replica_nodes"])]
        isr = ",".join(str(len(p["isr_nodes"])) for p in partitions)
        lines.append(f"kafka ISR  {topic['name']:<24} in sync per partition: {isr}"
                     + (f"  UNDER-REPLICATED: {', '.join(short)}" if short else ""))
    return lines
