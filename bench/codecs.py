"""The same warehouse on ClickHouse 18.16 and on current ClickHouse (chdb), table by table and
column by column: what per-column codecs buy where the server has them.

    python -m bench.codecs --keep NAMESPACE [--events 10000000]

NAMESPACE is a database `python -m bench.warehouse --keep NAMESPACE` filled on the 18.16 server
(filled here first if it holds fewer than `--events` events). Every MergeTree table of it is copied,
its stored columns in Native format, into two databases of an in-process current ClickHouse (chdb):

- `same`: the schema warehouse/migrations/ give 18.16, on current ClickHouse's defaults (LZ4);
- `codecs`: the same, then warehouse/migrations/current/ (what docker-compose's release gets):
  LowCardinality, DoubleDelta, T64, ZSTD levels per column.

The materialized views are dropped in both first (the rollups are copied, not fed twice), and every
table is merged to one part per partition on all three (OPTIMIZE … FINAL), so each holds the same
rows in the same number of parts. Prints bytes per event per table and, for events_raw, per column;
writes bench/results/codecs-<UTC>.json.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import report
from infra.settings import load
from warehouse.client import connect
from warehouse.migrate import files, migrate, statements

LAYOUTS = {"same": False, "codecs": True}       # chdb database → with migrations/current/


def rows(s, sql: str) -> list[list[str]]:
    """chdb's answer as rows of text."""
    return [line.split("\t") for line in s.query(sql, "TSV").data().split("\n") if line]


def tables(client) -> list[str]:
    return [name for (name,) in client.execute(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' "
        "AND name != 'schema_migrations' ORDER BY name")]


def stored_columns(client, table: str) -> list[str]:
    """The columns an INSERT may write (not MATERIALIZED or ALIAS: those are computed again)."""
    return [name for name, kind in client.execute(
        "SELECT name, default_kind FROM system.columns WHERE database = currentDatabase() AND table = %(t)s",
        {"t": table}) if kind in ("", "DEFAULT")]


def sizes_18(client, events: int) -> tuple[dict, dict]:
    by_table = dict(client.execute(
        "SELECT table, sum(bytes_on_disk) FROM system.parts WHERE database = currentDatabase() AND active "
        "GROUP BY table"))
    by_column = dict(client.execute(
        "SELECT name, data_compressed_bytes FROM system.columns WHERE database = currentDatabase() "
        "AND table = 'events_raw'"))
    return ({t: round(b / events, 2) for t, b in by_table.items()},
            {c: round(b / events, 2) for c, b in by_column.items() if b})


def sizes_chdb(s, database: str, events: int) -> tuple[dict, dict]:
    by_table = {t: int(b) for t, b in rows(
        s, f"SELECT table, sum(bytes_on_disk) FROM system.parts WHERE database = '{database}' AND active "
           f"GROUP BY table")}
    by_column = {c: int(b) for c, b in rows(
        s, f"SELECT name, data_compressed_bytes FROM system.columns WHERE database = '{database}' "
           f"AND table = 'events_raw'")}
    return ({t: round(b / events, 2) for t, b in by_table.items()},
            {c: round(b / events, 2) for c, b in by_column.items() if b})


def export(settings, table: str, columns: list[str], path: Path) -> None:
    """The table's stored columns, as the 18.16 server writes them in Native format."""
    with path.open("wb") as out:
        subprocess.run(["clickhouse-client", "--host", settings.clickhouse_host, "--port",
                        str(settings.clickhouse_port), "--database", settings.clickhouse_db, "--query",
                        f"SELECT {', '.join(columns)} FROM {table} FORMAT Native"], stdout=out, check=True)


def run(namespace: str, events: int, say=print, only: tuple[str, ...] = (),
        layouts: tuple[str, ...] = tuple(LAYOUTS)) -> dict:
    from chdb import session

    settings = load(namespace=namespace)
    migrate(settings)
    client = connect(settings)
    (held,), = client.execute("SELECT count() FROM events_raw")
    if held < events:
        from bench import warehouse
        say(f"[codecs] {settings.clickhouse_db} holds {held:,} events: filling {events:,} (bench.warehouse)")
        warehouse.run(events, 30, 1, say=say, keep=namespace)
        (held,), = client.execute("SELECT count() FROM events_raw")
    work = Path(tempfile.mkdtemp(prefix="bench-codecs-"))
    s = session.Session(str(work / "chdb"))
    try:
        for database, codecs in ((d, LAYOUTS[d]) for d in layouts):
            s.query(f"CREATE DATABASE {database}")
            s.query(f"USE {database}")
            for path in files(codecs=codecs).values():
                for statement in statements(path.read_text()):
                    s.query(statement.rstrip(";"))
            for (view,) in rows(s, f"SELECT name FROM system.tables WHERE database = '{database}' "
                                           f"AND engine = 'MaterializedView'"):
                s.query(f"DROP TABLE {database}.`{view}`")
        names = [t for t in tables(client) if not only or t in only]
        merger = connect(settings)
        merger.connection.send_receive_timeout = 3600       # a merge of gigabytes takes minutes
        started = time.monotonic()
        for table in names:
            (several,), = client.execute(
                "SELECT count() > 0 FROM (SELECT partition FROM system.parts WHERE database = currentDatabase() "
                "AND table = %(t)s AND active GROUP BY partition HAVING count() > 1)", {"t": table})
            if several:             # 18.16 rewrites even a lone part on FINAL: minutes at 100M events
                merger.execute(f"OPTIMIZE TABLE `{table}` FINAL")
            columns = stored_columns(client, table)
            native = work / f"{table}.native"
            export(settings, table, columns, native)
            for database in layouts:
                s.query(f"INSERT INTO {database}.`{table}` ({', '.join(columns)}) "
                        f"SELECT * FROM file('{native}', Native)")
                s.query(f"OPTIMIZE TABLE {database}.`{table}` FINAL")
            native.unlink()
            say(f"[codecs] {table}: copied and merged ({time.monotonic() - started:.0f}s)")
        result = {"namespace": namespace, "events": held, "tables": {}, "events_raw_columns": {}}
        measured = {"clickhouse_18": sizes_18(client, held)}
        for database in layouts:
            measured[f"current_{database}"] = sizes_chdb(s, database, held)
        for label, (by_table, by_column) in measured.items():
            result["tables"][label] = {t: by_table.get(t, 0.0) for t in names}
            result["events_raw_columns"][label] = by_column
            result[f"{label}_bytes_per_event"] = round(sum(by_table.get(t, 0.0) for t in names), 2)
        (version,), = client.execute("SELECT version()")
        result["servers"] = {"clickhouse_18": version,
                             "current": rows(s, "SELECT version()")[0][0]}
        return result
    finally:
        s.close()
        shutil.rmtree(work, ignore_errors=True)


def table(result: dict) -> str:
    labels = [label for label in ("clickhouse_18", "current_same", "current_codecs") if label in result["tables"]]
    names = {"clickhouse_18": f"ClickHouse {result['servers']['clickhouse_18']}",
             "current_same": f"current ({result['servers']['current']}), same layout",
             "current_codecs": f"current ({result['servers']['current']}), migrations/current/"}
    lines = [f"| bytes per event at {result['events']:,} events | " + " | ".join(names[x] for x in labels) + " |",
             "|---" * (len(labels) + 1) + "|"]
    tables_ = result["tables"]
    for name in sorted(tables_["clickhouse_18"], key=lambda t: -tables_["clickhouse_18"][t]):
        if any(tables_[label][name] >= 0.01 for label in labels):
            lines.append(f"| {name} | " + " | ".join(f"{tables_[label][name]:.2f}" for label in labels) + " |")
    lines.append("| **all tables** | " + " | ".join(f"**{result[f'{label}_bytes_per_event']:.2f}**"
                                                    for label in labels) + " |")
    columns = result["events_raw_columns"]
    lines += ["", "| events_raw column | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for name in sorted(columns["clickhouse_18"], key=lambda c: -columns["clickhouse_18"][c]):
        lines.append(f"| {name} | " + " | ".join(f"{columns[label].get(name, 0.0):.2f}" for label in labels) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.codecs", description=__doc__.split("\n\n")[0])
    p.add_argument("--keep", metavar="NAMESPACE", required=True,
                   help="the 18.16 namespace to read (filled by bench.warehouse if it holds too few events)")
    p.add_argument("--events", type=int, default=10_000_000, help="events it must hold (default 10M)")
    p.add_argument("--tables", default="", help="only these tables, comma-separated (default: every MergeTree table)")
    p.add_argument("--layouts", default=",".join(LAYOUTS),
                   help=f"the chdb layouts to load, comma-separated (default {','.join(LAYOUTS)})")
    p.add_argument("--no-save", action="store_true", help="do not write bench/results/codecs-<UTC>.json")
    args = p.parse_args(argv)
    result = run(args.keep, args.events, only=tuple(t for t in args.tables.split(",") if t),
                 layouts=tuple(x for x in args.layouts.split(",") if x))
    result["measured_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(table(result))
    if not args.no_save:
        path = report.save(result, "codecs")
        print(f"\nwritten to {path.relative_to(report.RESULTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
