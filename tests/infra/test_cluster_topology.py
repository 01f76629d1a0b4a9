"""The cluster mode's topology and its configs, from the settings alone (no services)."""
from __future__ import annotations

import pytest

import xml.etree.ElementTree as ET

from infra.cluster import ClickHouseNode, KafkaBroker, numbered, stack
from infra.settings import load
from warehouse.cluster import is_data, replicated, shard_of


def test_the_cluster_is_three_brokers_and_two_shards_of_two_replicas_on_their_own_ports():
    s = load(cluster=True)
    assert s.kafka_bootstrap == "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
    assert s.faust_broker == "kafka://127.0.0.1:19092;kafka://127.0.0.1:19093;kafka://127.0.0.1:19094"
    assert [(n.shard, n.replica, n.port) for n in s.clickhouse_nodes] == [(1, 1, 9101), (1, 2, 9102),
                                                                          (2, 1, 9103), (2, 2, 9104)]
    assert s.clickhouse_port == 9101 and s.topic_replicas == 3                 # readers: the first server
    single = load(cluster=False)
    assert single.kafka_bootstrap == "127.0.0.1:9092" and single.clickhouse_port == 9000 and single.topic_replicas == 1
    assert load(cluster=True).as_env()["DRAMA_CLUSTER"] == "1" and single.as_env()["DRAMA_CLUSTER"] == ""


def test_each_clickhouse_server_gets_its_shard_replica_and_the_whole_cluster(tmp_path):
    s = load(cluster=True, state_dir=tmp_path)
    node = numbered(ClickHouseNode, 3)(s)
    node.prepare()
    conf = tmp_path / "cluster" / "clickhouse-3" / "clickhouse"
    cluster = ET.parse(conf / "config.d" / "cluster.xml").getroot()
    assert (cluster.findtext("macros/shard"), cluster.findtext("macros/replica")) == ("02", "r1")
    shards = cluster.findall("remote_servers/drama/shard")
    assert [[int(r.findtext("port")) for r in sh.findall("replica")] for sh in shards] == [[9101, 9102], [9103, 9104]]
    assert cluster.findtext("zookeeper/node/port") == "2281"
    main = ET.parse(conf / "config.xml").getroot()
    assert (main.findtext("tcp_port"), main.findtext("http_port")) == ("9103", "8203")
    assert main.findtext("path").startswith(str(conf))


def test_the_brokers_are_each_others_voters(tmp_path, monkeypatch):
    s = load(cluster=True, state_dir=tmp_path)
    broker = numbered(KafkaBroker, 2)(s)
    monkeypatch.setattr(broker, "cluster_id", lambda: "x")
    (broker.home / "data").mkdir(parents=True)
    (broker.home / "data" / "meta.properties").write_text("")                # formatted already
    broker.prepare()
    props = dict(line.split("=", 1) for line in (broker.home / "server.properties").read_text().splitlines()
                 if line and not line.startswith("#"))
    assert props["node.id"] == "2" and props["listeners"].startswith("PLAINTEXT://127.0.0.1:19093")
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19192,2@127.0.0.1:19193,3@127.0.0.1:19194"
    assert (props["min.insync.replicas"], props["unclean.leader.election.enable"]) == ("2", "false")
    names = [kind(s).name for kind in stack(s)][:8]
    assert names == ["zookeeper", "clickhouse-1", "clickhouse-2", "clickhouse-3", "clickhouse-4",
                     "kafka-1", "kafka-2", "kafka-3"]


def test_migrations_get_replicated_engines_with_a_path_per_shard_migration_and_table():
    sql = "CREATE TABLE IF NOT EXISTS t_new (a UInt8) ENGINE = AggregatingMergeTree()\nORDER BY a"
    assert replicated(sql, "drama_shard", "0017_x") == (
        "CREATE TABLE IF NOT EXISTS t_new (a UInt8) ENGINE = ReplicatedAggregatingMergeTree("
        "'/clickhouse/tables/{shard}/drama_shard/0017_x/t_new', '{replica}')\nORDER BY a")
    assert replicated("CREATE TABLE p AS t ENGINE = Null", "d", "v") == "CREATE TABLE p AS t ENGINE = Null"
    assert replicated("CREATE MATERIALIZED VIEW m TO t AS SELECT 1", "d", "v") == \
        "CREATE MATERIALIZED VIEW m TO t AS SELECT 1"
    assert [is_data(q) for q in ("INSERT INTO t SELECT 1", "OPTIMIZE TABLE t FINAL", "ALTER TABLE t DELETE WHERE 1",
                                 "ALTER TABLE t ADD COLUMN b UInt8", "RENAME TABLE a TO b")] == \
        [True, True, True, False, False]


def test_a_partition_always_maps_to_the_same_shard_and_both_shards_get_some():
    s = load(cluster=True)
    shards = [shard_of(s, f"drama.{t}", p) for t in ("viewing", "ads", "paywall", "distribution") for p in range(4)]
    assert shards == [shard_of(s, f"drama.{t}", p) for t in ("viewing", "ads", "paywall", "distribution")
                      for p in range(4)]
    assert set(shards) == {1, 2}


class FakeShard:
    def __init__(self, fail: bool = False):
        self.blocks, self.fail, self.uncertain, self.refused = [], fail, False, []

    def write(self, columns):
        if self.fail:
            raise ConnectionError("injected: the shard is down")
        self.blocks.append(columns)
        return len(columns[0])


def test_the_sharded_sink_sends_each_partitions_rows_to_its_shard_and_a_failure_makes_every_shard_ask():
    from warehouse.sink import ShardedSink
    from warehouse.tables import TABLES

    s = load(cluster=True)
    sink = ShardedSink(s, "events_raw")
    sink.shards = {1: FakeShard(), 2: FakeShard()}
    at = {c: n for n, c in enumerate(TABLES["events_raw"].columns)}
    rows = [("drama.viewing", p, o) for p in range(4) for o in range(3)]
    columns = [[0] * len(rows) for _ in at]
    for n, (t, p, o) in enumerate(rows):
        columns[at["topic"]][n], columns[at["partition"]][n], columns[at["offset"]][n] = t, p, o
    assert sink.write(columns) == 12
    for shard, fake in sink.shards.items():
        got = {(t, p) for block in fake.blocks for t, p in zip(block[at["topic"]], block[at["partition"]])}
        assert got and all(shard_of(s, t, p) == shard for t, p in got)
    sink.shards = {1: FakeShard(), 2: FakeShard(fail=True)}
    try:
        sink.write(columns)
    except ConnectionError:
        pass
    assert all(fake.uncertain for fake in sink.shards.values())       # the retry asks each what landed


def test_launcher_down_names_the_cluster_services_too_when_nothing_runs(tmp_path, monkeypatch, capsys):
    """`make down` stops whichever mode started (a single-node shell must reach the cluster's PID files)."""
    from launcher.__main__ import main

    monkeypatch.setenv("DRAMA_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("DRAMA_CLUSTER", raising=False)
    assert main(["down"]) == 0
    said = capsys.readouterr().out
    assert "kafka-3: not running" in said and "clickhouse-4: not running" in said and "zookeeper: not running" in said


def test_servers_elsewhere_are_named_by_address_shard_by_shard():
    settings = load(cluster=True, cluster_kafka_hosts="kafka-0:9092, kafka-1:9092,kafka-2:9092",
                    cluster_clickhouse_hosts="ch-0-0:9000,ch-0-1:9000,ch-1-0:9000,ch-1-1:9000")
    assert settings.kafka_bootstrap == "kafka-0:9092,kafka-1:9092,kafka-2:9092"
    assert (settings.clickhouse_host, settings.clickhouse_port) == ("ch-0-0", 9000)     # readers: the first
    assert [(n.shard, n.replica, n.host, n.port) for n in settings.clickhouse_nodes] == [
        (1, 1, "ch-0-0", 9000), (1, 2, "ch-0-1", 9000), (2, 1, "ch-1-0", 9000), (2, 2, "ch-1-1", 9000)]


def test_a_wrong_list_of_servers_says_what_is_expected():
    with pytest.raises(ValueError, match="names 3 servers.*is 4"):
        assert load(cluster=True, cluster_clickhouse_hosts="a:1,b:2,c:3").clickhouse_nodes
    with pytest.raises(ValueError, match="not host:port"):
        assert load(cluster=True, cluster_kafka_hosts="kafka-0").kafka_brokers


def test_one_mode_at_a_time_the_other_running_is_refused(tmp_path, monkeypatch, capsys):
    """The modes share Superset: `make up CLUSTER=1` beside a running single-node stack (or the
    reverse) would point the dashboards at the other warehouse, so it stops and says so."""
    import os

    from infra import services
    from launcher.__main__ import main

    monkeypatch.setenv("DRAMA_STATE_DIR", str(tmp_path))
    def start_nothing(*args, **kwargs):
        raise AssertionError("the guard let `up` start the stack")
    monkeypatch.setattr("launcher.__main__.bring_up", start_nothing)
    monkeypatch.setenv("DRAMA_CLUSTER", "")          # main(--cluster) sets it; monkeypatch puts it back
    single = load()
    services.ClickHouse(single).pidfile.write(os.getpid())        # a live process in its PID file
    assert main(["up", "--cluster"]) == 1
    assert "the single-node stack runs (clickhouse)" in capsys.readouterr().err
    services.ClickHouse(single).pidfile.clear()
    monkeypatch.setenv("DRAMA_CLUSTER", "")
    numbered(KafkaBroker, 2)(load(cluster=True)).pidfile.write(os.getpid())
    assert main(["up"]) == 1
    assert "the cluster mode runs (kafka-2)" in capsys.readouterr().err


def test_status_names_each_topics_in_sync_replicas_and_the_partitions_short_of_them():
    from infra.cluster import isr_lines

    def partition(index, isr):
        return {"error_code": 0, "partition_index": index, "leader_id": 1, "replica_nodes": [1, 2, 3],
                "isr_nodes": isr, "offline_replicas": []}
    described = [   # kafka-python 3.x's describe_topics(), as a broker answered it
        {"error_code": 0, "name": "drama.viewing", "is_internal": False,
         "partitions": [partition(1, [1, 3]), partition(0, [1, 2, 3])]},
        {"error_code": 0, "name": "drama.ads", "is_internal": False, "partitions": [partition(0, [1, 2, 3])]},
        {"error_code": 0, "name": "t1.drama.viewing", "is_internal": False, "partitions": [partition(0, [1])]},
        {"error_code": 0, "name": "__consumer_offsets", "is_internal": True, "partitions": [partition(0, [1])]}]
    lines = isr_lines(described, {"drama.viewing", "drama.ads"})
    assert len(lines) == 2 and lines[0].split()[2] == "drama.ads"
    assert lines[1].endswith("in sync per partition: 3,2  UNDER-REPLICATED: 1 (2 of 3)"), lines[1]


def test_zookeeper_is_healthy_only_once_it_serves_sessions():
    """ClickHouse started while ZooKeeper still loads its data cannot attach its Replicated tables and
    exits (seen on `make up CLUSTER=1` after a restart): `ruok` says imok then, `srvr` does not."""
    import socketserver
    import threading

    from infra.cluster import ZooKeeper

    answers = {b"ruok": b"imok", b"srvr": b"This ZooKeeper instance is not currently serving requests\n"}

    class FourLetters(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(answers[self.request.recv(4)])

    with socketserver.TCPServer(("127.0.0.1", 0), FourLetters) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        zookeeper = ZooKeeper(load(cluster=True, zookeeper_port=server.server_address[1]))
        assert zookeeper.four_letters("ruok") == "imok" and not zookeeper.healthy()
        answers[b"srvr"] = b"Zookeeper version: 3.9.3\nMode: standalone\nNode count: 5\n"
        assert zookeeper.healthy()
        server.shutdown()
