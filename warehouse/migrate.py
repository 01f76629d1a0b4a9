"""Apply warehouse/migrations/NNNN_*.sql in order, once each, to the settings' database.

Each file holds statements separated by `;` at the end of a line. Applied versions are
recorded in `schema_migrations`. Every statement must run on ClickHouse 18.16 and on current
releases (see warehouse/README.md).
"""
from __future__ import annotations

import sys
from pathlib import Path

from infra.settings import Settings, load
from warehouse.client import connect

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def statements(sql: str) -> list[str]:
    """Split a migration file into statements, dropping `--` comment lines."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";\n") if part.strip().rstrip(";").strip()]


def pending(applied: set[str]) -> list[Path]:
    return [path for path in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")) if path.stem not in applied]


def migrate(settings: Settings) -> list[str]:
    """Create the database if needed and apply what is pending; return the versions applied."""
    connect(settings, "default").execute(f"CREATE DATABASE IF NOT EXISTS `{settings.clickhouse_db}`")
    client = connect(settings)
    client.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version String, applied_at DateTime DEFAULT now()) "
                   "ENGINE = MergeTree() ORDER BY version")
    applied = {row[0] for row in client.execute("SELECT version FROM schema_migrations")}
    done = []
    for path in pending(applied):
        for statement in statements(path.read_text()):
            client.execute(statement.rstrip(";"))
        client.execute("INSERT INTO schema_migrations (version) VALUES", [(path.stem,)])
        done.append(path.stem)
    return done


if __name__ == "__main__":
    print(migrate(load()) or "nothing to apply", file=sys.stdout)
