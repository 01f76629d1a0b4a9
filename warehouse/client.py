"""Connections to ClickHouse over the native protocol (clickhouse-driver; works on 18.16)."""
from __future__ import annotations

from clickhouse_driver import Client

from infra.settings import Node, Settings


def connect(settings: Settings, database: str | None = None) -> Client:
    """A client on the settings' database (or `database`, e.g. "default" before it exists)."""
    return Client(host=settings.clickhouse_host, port=settings.clickhouse_port,
                  user=settings.clickhouse_user, password=settings.clickhouse_password,
                  database=database or settings.clickhouse_db,
                  connect_timeout=5, send_receive_timeout=60, settings={"use_numpy": False},
                  client_name=client_name(settings))


def node_client(settings: Settings, node: Node, database: str | None = "") -> Client:
    """A client on one server of the cluster (settings.clickhouse_nodes): on `database`, on the
    settings' database when it is "", on none ("default") when None."""
    return Client(host=node.host, port=node.port, user=settings.clickhouse_user, password=settings.clickhouse_password,
                  database=settings.clickhouse_db if database == "" else (database or "default"),
                  connect_timeout=5, send_receive_timeout=60, settings={"use_numpy": False},
                  client_name=client_name(settings))


def client_name(settings: Settings) -> str:
    """How the project's connections name themselves to ClickHouse (system.processes.client_name)."""
    return f"drama-loop {settings.clickhouse_db}"


def swap_partition(client, table: str, partition: str, insert_select: str) -> None:
    """Write `insert_select` (a column list and a SELECT) into a stage copy of `table`, then swap it
    in as `partition` with REPLACE PARTITION: readers see the old rows or the new ones, never a mix.
    `client` is anything with `execute(sql)`."""
    stage = f"{table}_stage"
    client.execute(f"DROP TABLE IF EXISTS {stage}")
    client.execute(f"CREATE TABLE {stage} AS {table}")
    try:
        client.execute(f"INSERT INTO {stage} {insert_select}")
        client.execute(f"ALTER TABLE {table} REPLACE PARTITION {partition} FROM {stage}")
    finally:
        client.execute(f"DROP TABLE IF EXISTS {stage}")
