"""The schema the migrations produce, on current ClickHouse in-process (chdb), for the unit tier.

chdb allows one session per process at a time: a test module opens one (a module-scoped fixture)
and closes it before the next module's. The migrations run as tests/warehouse/test_current_clickhouse.py
runs them: every statement as written (18.16 syntax runs unchanged on current releases).
"""
from __future__ import annotations

from warehouse.migrate import files, statements


def migrate(s, database: str) -> None:
    """Create `database` and apply every migration to it, in order: the common ones, then those for
    servers with codecs (migrations/current/), as `python -m warehouse.migrate` does on current releases."""
    s.query(f"CREATE DATABASE {database}")
    s.query(f"USE {database}")
    for path in files(codecs=True).values():
        run(s, path.read_text())


def run(s, sql: str) -> None:
    for statement in statements(sql):
        s.query(statement.rstrip(";"))


def rows(s, sql: str) -> list[list[str]]:
    return [line.split("\t") for line in s.query(sql, "TSV").data().split("\n") if line]


def columns(s, database: str, table: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind in rows(
        s, f"SELECT name, type FROM system.columns WHERE database = '{database}' AND table = '{table}' "
           f"ORDER BY position")]


def as_select(s, database: str, table: str) -> str:
    return raw(s, f"SELECT as_select FROM system.tables WHERE database = '{database}' AND name = '{table}'")


def raw(s, sql: str) -> str:
    """One value, as the server writes it (no escaping)."""
    return s.query(sql, "RawBLOB").data()
