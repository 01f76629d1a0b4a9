"""Apply warehouse/migrations/NNNN_*.sql in order, once each, to the settings' database.

    python -m warehouse.migrate        (also `make migrate`, and `make up`)

Each file holds statements separated by `;` at the end of a line. `migrations/current/NNNN_*.sql`
are applied after them, and only on a server with per-column codecs and LowCardinality (19.1 and
later: docker-compose's current release, not Debian's 18.16): they give the same tables a smaller
layout (warehouse/README.md, "Storage"), recorded in the ledger as `current/NNNN_name`. The ledger
`schema_migrations` keeps each applied version with the sha256 of its file. Before applying
anything, the ledger is checked: a version this code does not know (the database was migrated
by a newer release) or an applied file whose text changed since is refused, with what to do.
Versions applied before checksums were kept get the current file's checksum on their first
check. Every statement must run on ClickHouse 18.16 and on current releases (see
warehouse/README.md). Run it with the workers stopped (`make up` does).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from clickhouse_driver.errors import NetworkError

from infra.settings import Settings, load
from warehouse.client import connect

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CURRENT = MIGRATIONS / "current"        # only where the server has per-column codecs
CODECS_SINCE = (19, 1)
LEDGER = "schema_migrations"
PATTERN = "[0-9][0-9][0-9][0-9]_*.sql"


class MigrationError(RuntimeError):
    """The database's ledger does not match this code's migrations; the message says what to do."""


def statements(sql: str) -> list[str]:
    """Split a migration file into statements, dropping `--` comment lines."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";\n") if part.strip().rstrip(";").strip()]


def files(codecs: bool = False) -> dict[str, Path]:
    """version → file, in the order they apply: the common ones, then (codecs) the current-only ones."""
    found = {path.stem: path for path in sorted(MIGRATIONS.glob(PATTERN))}
    if codecs:
        found.update({f"{CURRENT.name}/{path.stem}": path for path in sorted(CURRENT.glob(PATTERN))})
    return found


def has_codecs(client) -> bool:
    """Whether the server takes CODEC(...) and LowCardinality (19.1 and later)."""
    (version,), = client.execute("SELECT version()")
    return tuple(int(part) for part in version.split(".")[:2]) >= CODECS_SINCE


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ledger(client) -> dict[str, str]:
    """version → checksum ('' when applied before checksums were kept)."""
    client.execute(f"CREATE TABLE IF NOT EXISTS {LEDGER} (version String, applied_at DateTime DEFAULT now()) "
                   f"ENGINE = MergeTree() ORDER BY version")
    if not client.execute(f"SELECT name FROM system.columns WHERE database = currentDatabase() "
                          f"AND table = '{LEDGER}' AND name = 'checksum'"):
        client.execute(f"ALTER TABLE {LEDGER} ADD COLUMN checksum String DEFAULT ''")
    return dict(client.execute(f"SELECT version, max(checksum) FROM {LEDGER} GROUP BY version"))


def check(client, known: dict[str, Path]) -> dict[str, str]:
    """The ledger, refused if it holds unknown versions or changed files; legacy rows get checksums."""
    applied = ledger(client)
    unknown = sorted(set(applied) - set(known))
    if unknown:
        raise MigrationError(
            f"the database holds migration(s) this code does not know: {', '.join(unknown)}. It was migrated "
            f"by a newer release of drama-loop: run that release's code against it (or restore a backup taken "
            f"before); nothing was changed.")
    changed = [v for v, sum_ in applied.items() if sum_ and sum_ != checksum(known[v])]
    if changed:
        raise MigrationError(
            f"migration file(s) changed since they were applied: {', '.join(sorted(changed))} "
            f"(warehouse/migrations/). An applied file is never edited: restore it (git checkout) and put the "
            f"change in a new NNNN_*.sql; nothing was changed.")
    legacy = [v for v, sum_ in applied.items() if not sum_]
    if legacy:
        client.execute(f"INSERT INTO {LEDGER} (version, checksum) VALUES",
                       [(v, checksum(known[v])) for v in legacy])
    return applied


def migrate(settings: Settings) -> list[str]:
    """Create the database if needed, check the ledger and apply what is pending; return the versions applied."""
    if settings.cluster:
        return migrate_cluster(settings)
    connect(settings, "default").execute(f"CREATE DATABASE IF NOT EXISTS `{settings.clickhouse_db}`")
    client = connect(settings)
    known = files(codecs=has_codecs(client))
    applied = check(client, known)
    done = []
    for version, path in known.items():
        if version in applied:
            continue
        for statement in statements(path.read_text()):
            client.execute(statement.rstrip(";"))
        client.execute(f"INSERT INTO {LEDGER} (version, checksum) VALUES", [(version, checksum(path))])
        done.append(version)
    return done


def migrate_cluster(settings: Settings) -> list[str]:
    """The cluster's migrate (warehouse/cluster.py): the pending migrations into <db>_shard with
    Replicated engines, one migration at a time on every server (each keeps its own ledger there),
    so that a replica never creates a table in a shape its shard's ZooKeeper entry has outgrown.
    Statements that replication carries (data statements, ALTERs of a Replicated table) run on one
    replica of each shard only; then <db>'s Distributed tables and views."""
    from warehouse import cluster
    from warehouse.client import node_client

    local = cluster.shard_database(settings)
    movers = {node.index for node in cluster.first_replicas(settings)}
    clients, pending = {}, {}
    for node in settings.clickhouse_nodes:
        node_client(settings, node, None).execute(f"CREATE DATABASE IF NOT EXISTS `{local}`")
        client = clients[node.index] = node_client(settings, node, local)
        known = files(codecs=has_codecs(client))
        applied = check(client, known)
        pending[node.index] = {version: path for version, path in known.items() if version not in applied}
    done: set[str] = set()
    for version in sorted({v for versions in pending.values() for v in versions}):
        for node in settings.clickhouse_nodes:
            path = pending[node.index].get(version)
            if path is None:
                continue
            client = clients[node.index]
            for statement in statements(path.read_text()):
                if node.index not in movers and cluster.replication_carries(client, statement):
                    continue        # the shard's first replica ran it; replication brings it here
                client.execute(cluster.replicated(statement, local, version).rstrip(";"))
            client.execute(f"INSERT INTO {LEDGER} (version, checksum) VALUES", [(version, checksum(path))])
            done.add(version)
    cluster.front(settings)
    return sorted(done)


def main() -> int:
    settings = load()
    try:
        done = migrate(settings)
    except MigrationError as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 2
    except (NetworkError, OSError, EOFError) as error:
        print(f"ERROR ClickHouse is not reachable at {settings.clickhouse_host}:{settings.clickhouse_port} "
              f"({error}): start it with `make up`", file=sys.stderr)
        return 1
    print(f"database {settings.clickhouse_db}: " + (f"applied {', '.join(done)}" if done else "nothing to apply"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
