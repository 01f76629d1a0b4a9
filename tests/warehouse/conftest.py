"""Fixtures of the warehouse tests: a fresh, migrated database on the running ClickHouse."""
from __future__ import annotations

import pytest

from infra.settings import load
from warehouse.client import connect
from warehouse.migrate import migrate


@pytest.fixture
def database(stack, run_id):
    """(settings, admin client) of a migrated database of its own, dropped afterwards."""
    settings = load(namespace=f"wh{run_id}")
    migrate(settings)
    client = connect(settings)
    try:
        yield settings, client
    finally:
        client.disconnect()
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")
