"""A ClickHouse sink: `setup()` once, then `write(rows)` as one columnar insert per batch."""
from __future__ import annotations

from typing import Sequence

from infra.settings import Settings
from warehouse.client import connect


def columnar(rows: Sequence[dict], columns: Sequence[str]) -> list[list]:
    """Rows as dicts → one list per column, the shape clickhouse-driver inserts fastest."""
    return [[row[name] for row in rows] for name in columns]


class ClickHouseSink:
    def __init__(self, settings: Settings, table: str, columns: Sequence[str]):
        self.settings = settings
        self.table = table
        self.columns = tuple(columns)
        self.client = None
        self._insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES"

    def setup(self) -> None:
        self.client = connect(self.settings)
        self.client.execute(f"SELECT {', '.join(self.columns)} FROM {self.table} LIMIT 0")

    def write(self, rows: Sequence[dict]) -> int:
        if not rows:
            return 0
        if self.client is None:
            self.setup()
        try:
            self.client.execute(self._insert, columnar(rows, self.columns), columnar=True)
        except Exception:
            # A broken connection is rebuilt on the next write; the caller retries.
            self.client.disconnect()
            self.client = None
            raise
        return len(rows)
