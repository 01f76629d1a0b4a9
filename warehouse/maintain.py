"""Keep the rollups equal to their sources, and the minute-level parts within their horizon.

    *_parts, events_raw ──(each rollup's own materialized view)──► *_rollup
         │                                                          ▲
         └── reconcile: per day, count() of the source rows = countMerge(parts_rows)?
                        if not, that day of the rollup is rebuilt from the source (REPLACE PARTITION)
    *_parts older than the horizon ── drop_expired: ALTER TABLE … DROP PARTITION (rollups, events_raw kept)
    *_1d_rollup, closed days ── reach.close: exact distinct counts of closed days and windows (warehouse/reach.py)

A materialized view writes its block in the same INSERT as the source block, but not atomically:
if the server dies between the two, the parts hold a block the rollup lacks (and the worker,
seeing the block in the parts, never writes it again). Every rollup row carries `parts_rows`,
the number of source rows folded into it, so such a day shows up as a count that differs, and is
rebuilt from the source with the view's own SELECT (read from the server, so it is declared
once, in warehouse/migrations/). A rebuild races with inserts arriving meanwhile, so each day is
checked again after it, until the counts agree.

    python -m warehouse.maintain                 # reconcile the days written in the last hour, retention, reach
    python -m warehouse.maintain --all           # reconcile every day the sources still hold
    python -m warehouse.maintain --every 300     # forever, every 5 minutes (what `make up` starts)
"""
from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from infra.settings import Settings, load
from warehouse import reach
from warehouse.client import connect, swap_partition

log = logging.getLogger(__name__)
REBUILD_ATTEMPTS = 3
# The sources rollups are fed from: (event-time column, insert-time column).
SOURCES = {"title_metrics_1m_parts": ("window_start", "written_at"),
           "episode_metrics_1m_parts": ("window_start", "written_at"),
           "segment_metrics_1m_parts": ("window_start", "written_at"),
           "events_raw": ("event_time", "ingested_at")}
EXPIRING = ("title_metrics_1m_parts", "episode_metrics_1m_parts", "segment_metrics_1m_parts")


def first_kept_day(horizon_days: int, today: date | None = None) -> int:
    """YYYYMMDD of the oldest day the minute-level parts keep with this horizon."""
    today = today or datetime.now(timezone.utc).date()
    return int((today - timedelta(days=horizon_days - 1)).strftime("%Y%m%d"))


class Rollup(NamedTuple):
    table: str
    source: str
    select: str                 # the materialized view's SELECT, as the server holds it

    def select_day(self, database: str, day: int) -> str:
        """The view's SELECT over one day of its source (YYYYMMDD)."""
        time_column = SOURCES[self.source][0]
        source = f"FROM {database}.{self.source} "
        if source not in self.select:
            raise ValueError(f"{self.table}: its view does not read {source.strip()} ({self.select[:120]}…)")
        return self.select.replace(source, f"{source}WHERE toYYYYMMDD({time_column}) = {int(day)} ", 1)


def rollups(client, database: str) -> list[Rollup]:
    """Every `<name>_rollup` table with its `<name>_rollup_mv`, from system.tables."""
    found = []
    for name, query in client.execute(
            "SELECT name, create_table_query FROM system.tables WHERE database = %(db)s AND name LIKE '%%_rollup_mv'",
            {"db": database}):
        match = re.search(r"\bAS (SELECT .*)$", query, re.S)
        source = re.search(rf"\bFROM {re.escape(database)}\.(\w+)", query)
        if match is None or source is None or source.group(1) not in SOURCES:
            raise ValueError(f"{name}: cannot read its SELECT and source from {query[:200]}…")
        found.append(Rollup(name[:-len("_mv")], source.group(1), match.group(1)))
    return sorted(found)


def _counts(client, rollup: Rollup, days: list[int] | None) -> tuple[dict, dict]:
    time_column = SOURCES[rollup.source][0]
    where = "" if days is None else f" WHERE day IN ({', '.join(map(str, days)) or '0'})"
    source = dict(client.execute(f"SELECT toYYYYMMDD({time_column}) AS day, count() FROM {rollup.source}{where} "
                                 f"GROUP BY day"))
    folded = dict(client.execute(f"SELECT toYYYYMMDD(window_start) AS day, countMerge(parts_rows) FROM {rollup.table}"
                                 f"{where} GROUP BY day"))
    return source, folded


def _rebuild(client, database: str, rollup: Rollup, day: int) -> None:
    swap_partition(client, rollup.table, str(int(day)), rollup.select_day(database, day))


def reconcile(settings: Settings, since: timedelta | None = timedelta(hours=1), horizon_days: int | None = None,
              say=log.info) -> dict:
    """Rebuild every day of every rollup whose folded row count differs from its source's.
    since: only the days the sources were written to in that long (None: every day they hold).
    Days older than the parts' horizon are left alone when the source is a parts table (what
    retention dropped cannot be folded again). Returns {rollup: [days rebuilt]}."""
    oldest = first_kept_day(settings.parts_retention_days if horizon_days is None else horizon_days)
    rebuilt: dict = {}
    with stores(settings) as where:
        for client, database in where:
            _reconcile_one(client, database, since, oldest, rebuilt, say)
    return rebuilt


@contextmanager
def stores(settings: Settings) -> Iterator[list[tuple]]:
    """Where the rollups and their sources are stored, as (client, database): the one database on a
    single server; on the cluster, <db>_shard on a live replica of each shard (warehouse/cluster.py:
    the views fold each shard's rows there, and a Replicated table's REPLACE PARTITION and DROP
    PARTITION reach the other replica through ZooKeeper). Disconnected afterwards."""
    if settings.cluster:
        from warehouse import cluster
        with cluster.shard_clients(settings) as clients:
            yield [(client, cluster.shard_database(settings)) for client in clients.values()]
        return
    client = connect(settings)
    try:
        yield [(client, settings.clickhouse_db)]
    finally:
        client.disconnect()


def _reconcile_one(client, database: str, since: timedelta | None, oldest: int, rebuilt: dict, say) -> None:
    for rollup in rollups(client, database):
        time_column, written = SOURCES[rollup.source]
        days = None
        if since is not None:
            days = [d for (d,) in client.execute(
                f"SELECT DISTINCT toYYYYMMDD({time_column}) FROM {rollup.source} "
                f"WHERE {written} >= now() - {int(since.total_seconds())}")]
        for attempt in range(REBUILD_ATTEMPTS + 1):
            source, folded = _counts(client, rollup, days)
            wrong = sorted(d for d in set(source) | set(folded) if source.get(d, 0) != folded.get(d, 0)
                           and (rollup.source not in EXPIRING or d >= oldest) and source.get(d, 0) > 0)
            if not wrong:
                break
            if attempt == REBUILD_ATTEMPTS:
                say(f"{rollup.table}: days {wrong} still differ after {REBUILD_ATTEMPTS} rebuilds (inserts "
                    f"racing them); the next pass tries again")
                break
            for day in wrong:
                say(f"{rollup.table}: day {day} folds {folded.get(day, 0):,} source rows, "
                    f"{rollup.source} holds {source.get(day, 0):,}: rebuilding it")
                _rebuild(client, database, rollup, day)
                rebuilt.setdefault(rollup.table, []).append(day)


def drop_expired(settings: Settings, horizon_days: int | None = None, today: date | None = None,
                 say=log.info) -> dict:
    """Drop the day partitions of the minute-level parts older than the horizon (the rollups and
    events_raw are kept). Returns {table: [days dropped]}."""
    horizon_days = settings.parts_retention_days if horizon_days is None else horizon_days
    if horizon_days < 1:
        raise ValueError(f"the parts' horizon must be at least 1 day (got {horizon_days})")
    oldest = first_kept_day(horizon_days, today)
    dropped: dict = {}
    with stores(settings) as where:
        for client, database in where:
            for table in EXPIRING:
                days = sorted({int(p) for (p,) in client.execute(
                    "SELECT DISTINCT partition FROM system.parts WHERE database = %(db)s AND table = %(t)s AND active",
                    {"db": database, "t": table}) if int(p) < oldest})
                for day in days:
                    client.execute(f"ALTER TABLE {table} DROP PARTITION {day}")
                    dropped.setdefault(table, []).append(day)
                if days:
                    say(f"{database}.{table}: dropped {len(days)} day(s) before {oldest} (horizon {horizon_days} days)")
    return dropped


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m warehouse.maintain", description=__doc__.split("\n\n")[0])
    p.add_argument("--all", action="store_true", help="reconcile every day the sources hold, not the last hour's")
    p.add_argument("--retention-days", type=int, default=None,
                   help="days of minute-level parts kept (default: DRAMA_PARTS_RETENTION_DAYS, 7)")
    p.add_argument("--every", type=float, default=0,
                   help="repeat every this many seconds (0: once; the launcher uses DRAMA_MAINTAIN_EVERY_S)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = load()
    while True:
        started = time.monotonic()
        try:
            rebuilt = reconcile(settings, None if args.all else timedelta(hours=1), args.retention_days, say=print)
            dropped = drop_expired(settings, args.retention_days, say=print)
            # On the cluster the reach tables are not finalized (yet): their views then count every
            # window from the rollups' exact states, which is exact too, only slower for old windows.
            closed = {} if settings.cluster else reach.close(settings, say=print)
            print(f"reconciled ({sum(map(len, rebuilt.values()))} day(s) rebuilt), "
                  f"retention ({sum(map(len, dropped.values()))} day(s) dropped), "
                  f"reach ({sum(map(len, closed.values()))} window(s) computed) in {time.monotonic() - started:.1f}s",
                  flush=True)
        except Exception as error:  # noqa: BLE001 - a maintenance pass that fails is retried on the next one
            if not args.every:
                raise
            print(f"maintenance failed ({error}); next attempt in {args.every:.0f}s", file=sys.stderr, flush=True)
        if not args.every:
            return 0
        time.sleep(args.every)


if __name__ == "__main__":
    raise SystemExit(main())
