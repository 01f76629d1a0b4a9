"""A ClickHouse sink: `setup()` once, then `write(columns)` as one columnar insert per batch.

Columns come in the order warehouse/tables.py declares for the table.
"""
from __future__ import annotations

from typing import Sequence

from infra.settings import Settings
from warehouse.client import connect
from warehouse.tables import TABLES


class ClickHouseSink:
    def __init__(self, settings: Settings, table: str):
        self.settings = settings
        self.table = table
        self.columns = TABLES[table].columns
        self.client = None
        self._insert = f"INSERT INTO {table} ({', '.join(self.columns)}) VALUES"

    def setup(self) -> None:
        self.client = connect(self.settings)
        self.client.execute(f"SELECT {', '.join(self.columns)} FROM {self.table} LIMIT 0")

    def write(self, columns: Sequence[list]) -> int:
        """Insert one block: a list per column, all of one length. Whole or not at all."""
        if not columns or not columns[0]:
            return 0
        if len(columns) != len(self.columns):
            raise ValueError(f"{self.table} takes {len(self.columns)} columns ({', '.join(self.columns)}); "
                             f"got {len(columns)}")
        if self.client is None:
            self.setup()
        try:
            self.client.execute(self._insert, columns, columnar=True, types_check=False)
        except Exception:
            # A broken connection is rebuilt on the next write; the caller retries.
            self.client.disconnect()
            self.client = None
            raise
        return len(columns[0])
