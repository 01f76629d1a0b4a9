"""Connections to ClickHouse over the native protocol (clickhouse-driver; works on 18.16)."""
from __future__ import annotations

from clickhouse_driver import Client

from infra.settings import Settings


def connect(settings: Settings, database: str | None = None) -> Client:
    """A client on the settings' database (or `database`, e.g. "default" before it exists)."""
    return Client(host=settings.clickhouse_host, port=settings.clickhouse_port,
                  user=settings.clickhouse_user, password=settings.clickhouse_password,
                  database=database or settings.clickhouse_db,
                  connect_timeout=5, send_receive_timeout=60, settings={"use_numpy": False})
