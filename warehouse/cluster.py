"""The warehouse on a sharded, replicated ClickHouse (`make up CLUSTER=1`; infra/SCALING.md).

Two databases on every server:

    <db>_shard   the migrations' tables as written, each MergeTree family engine made its
                 Replicated twin (ZooKeeper path per shard, migration and table), with their
                 materialized views: what the worker inserts into, on the shard its partition
                 maps to (`shard_of`), and what the views fold locally;
    <db>         the contract's names for readers: a Distributed table over every table of
                 <db>_shard, and every plain view again, reading those. Superset, alerts, the
                 documented queries and analysts read here, unchanged.

`migrate` applies each pending migration's DDL on every server (each keeps its own ledger), its
data statements (INSERT … SELECT, OPTIMIZE, ALTER … DELETE) on one replica of each shard, whose
replication carries them to the other, then makes <db> match <db>_shard.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from infra.settings import Node, Settings
from warehouse.client import node_client

SHARD_SUFFIX = "_shard"
_ENGINE = re.compile(r"ENGINE\s*=\s*(MergeTree|AggregatingMergeTree|SummingMergeTree|ReplacingMergeTree)\(([^)]*)\)",
                     re.I)
_CREATE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?", re.I)
_ALTER = re.compile(r"^\s*ALTER\s+TABLE\s+`?(\w+)`?", re.I)
_DATA = re.compile(r"^\s*(INSERT|OPTIMIZE|ALTER\s+TABLE\s+\S+\s+(DELETE|UPDATE))\b", re.I)


def shard_database(settings: Settings) -> str:
    return settings.clickhouse_db + SHARD_SUFFIX


def replicated(statement: str, database: str, version: str) -> str:
    """A migration statement with its MergeTree family engine made Replicated: the same engine
    and parameters, kept in ZooKeeper under the shard, the database, the migration and the table
    (a table made as `x_new` and renamed keeps its path, so the next `x_new` must not meet it;
    18.16 has no {database} or {table} macro)."""
    created = _CREATE.match(statement)
    if not created:
        return statement

    def swap(match: re.Match) -> str:
        path = f"'/clickhouse/tables/{{shard}}/{database}/{version}/{created.group(1)}', '{{replica}}'"
        params = match.group(2).strip()
        return f"ENGINE = Replicated{match.group(1)}({path}{', ' + params if params else ''})"
    return _ENGINE.sub(swap, statement)


def is_data(statement: str) -> bool:
    """Whether the statement moves rows (run on one replica per shard) rather than the schema (every server)."""
    return bool(_DATA.match(statement))


def replication_carries(client, statement: str) -> bool:
    """Whether a statement run on one replica of a shard reaches the others through ZooKeeper:
    a data statement, or an ALTER of a Replicated table (run again there, it would fail or
    apply twice). Everything else (CREATE, DROP, RENAME, views) is each server's own."""
    if is_data(statement):
        return True
    altered = _ALTER.match(statement)
    if not altered:
        return False
    engine = client.execute("SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = %(t)s",
                            {"t": altered.group(1)})
    return bool(engine) and engine[0][0].startswith("Replicated")


def shard_of(settings: Settings, topic: str, partition: int) -> int:
    """The shard a topic-partition's rows go to: fixed by the pair alone, so its high-water marks
    live on exactly one shard whichever worker holds it; a topic's partitions take the shards in
    turn (from one its name picks), so each shard gets an even share of every topic."""
    return (zlib.crc32(topic.encode()) + partition) % settings.cluster_shards + 1


def shard_client(settings: Settings, shard: int):
    """A client on <db>_shard of the shard's first replica that answers (the next when one is down)."""
    errors = []
    for node in settings.shard_nodes(shard):
        client = node_client(settings, node, shard_database(settings))
        try:
            client.execute("SELECT 1")
            return client
        except Exception as error:  # noqa: BLE001 - the next replica; all down: raised below
            errors.append(f"{node.name}: {error}")
            client.disconnect()
    raise ConnectionError(f"no replica of shard {shard} answers: {'; '.join(errors)}")


@contextmanager
def shard_clients(settings: Settings) -> Iterator[dict]:
    """shard → `shard_client`, for every shard; all disconnected afterwards (those already open
    too when a later shard has no replica that answers)."""
    clients: dict = {}
    try:
        for shard in range(1, settings.cluster_shards + 1):
            clients[shard] = shard_client(settings, shard)
        yield clients
    finally:
        for client in clients.values():
            client.disconnect()


def first_replicas(settings: Settings) -> list[Node]:
    return [settings.shard_nodes(shard)[0] for shard in range(1, settings.cluster_shards + 1)]


def front(settings: Settings) -> list[str]:
    """Make <db> match <db>_shard on every server: a Distributed table per stored table (made again
    when its columns changed), every plain view again over them. Returns what it made."""
    made = []
    local = shard_database(settings)
    for node in settings.clickhouse_nodes:
        client = node_client(settings, node, database=None)
        client.execute(f"CREATE DATABASE IF NOT EXISTS `{settings.clickhouse_db}`")
        stored = client.execute("SELECT name, engine, create_table_query FROM system.tables WHERE database = %(d)s",
                                {"d": local})
        columns = _columns(client, local)
        there = _columns(client, settings.clickhouse_db)
        views = []
        for name, engine, query in stored:
            if engine.startswith("Replicated"):
                if there.get(name) != columns[name]:
                    client.execute(f"DROP TABLE IF EXISTS `{settings.clickhouse_db}`.`{name}`")
                    client.execute(f"CREATE TABLE `{settings.clickhouse_db}`.`{name}` AS `{local}`.`{name}` "
                                   f"ENGINE = Distributed({settings.CLUSTER_NAME}, `{local}`, `{name}`, rand())")
                    made.append(f"{node.name}: {name} (Distributed)")
            elif engine == "View":
                views.append((name, query.replace(f"{local}.", f"{settings.clickhouse_db}.")))
        for name in set(there) - set(columns):
            client.execute(f"DROP TABLE IF EXISTS `{settings.clickhouse_db}`.`{name}`")
        # views read other views: make them in rounds until none is left that can be made
        pending = [(n, q) for n, q in views]
        while pending:
            left = []
            for name, query in pending:
                client.execute(f"DROP TABLE IF EXISTS `{settings.clickhouse_db}`.`{name}`")
                try:
                    client.execute(query)
                    made.append(f"{node.name}: {name} (view)")
                except Exception:  # noqa: BLE001 - a view over one not made yet: the next round
                    left.append((name, query))
            if len(left) == len(pending):
                raise RuntimeError(f"views that cannot be made on {node.name}: {', '.join(n for n, _ in left)}")
            pending = left
    return made


def _columns(client, database: str) -> dict[str, list]:
    rows = client.execute("SELECT table, name, type FROM system.columns WHERE database = %(d)s", {"d": database})
    out: dict[str, list] = {}
    for table, name, kind in rows:
        out.setdefault(table, []).append((name, kind))
    return out
