"""Rebuild the minute-level metrics and their rollups for a range of days from events_raw.

    python -m streams.replay [--since 2026-01-05] [--until 2026-01-06]   (workers stopped)

    events_raw (in processing order) ──streams.batch.classify (today's rules)──► title, episode and
        segment parts of the chosen days ──INSERT (the rollups' views fire)──► *_1m_parts, *_rollup
        ──warehouse.reach.close──► *_reach of the closed days rebuilt

For after a bug fix or a rule change: the days' rows of title_metrics_1m_parts,
episode_metrics_1m_parts and segment_metrics_1m_parts, and the same days of every rollup fed
from them, are dropped and written again from the accepted events, classified by the code as
it is now. Each partition is read from its first offset (the watermark that decides what is
late depends on everything before), in the order the worker processed it: by `ingested_at`,
profiles first, then offset. What it cannot know is the order in which the worker interleaved
different partitions within one second; it only matters for the segment of a user whose
profile changed in that second. events_raw, the rejects, titles, first views and pipeline
health are not touched. The high-water marks a replay leaves are at or below the stream's,
which is harmless: the worker resumes from its committed offsets, which are past them.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from itertools import compress, groupby

from infra.process import running_workers
from infra.settings import Settings, load
from schemas.topics import USERS
from streams import batch as columns
from streams.state import PartitionMemory
from warehouse import reach
from warehouse.client import connect
from warehouse.maintain import rollups
from warehouse.sink import ClickHouseSink, utc_day

CHUNK = 50_000                  # messages classified together (like one of the worker's batches)
TABLES = {"title_metrics_1m_parts": columns.title_columns, "episode_metrics_1m_parts": columns.episode_columns,
          "segment_metrics_1m_parts": columns.segment_columns}


def _keep(table_columns: list[list] | None, days: set[int]) -> list[list] | None:
    """The rows whose window falls on one of `days`."""
    if not table_columns:
        return None
    keep = [utc_day(w) in days for w in table_columns[0]]
    if not any(keep):
        return None
    return [list(compress(column, keep)) for column in table_columns]


def replay(settings: Settings, since: date | None = None, until: date | None = None, say=print) -> dict:
    """Rebuild the days in [since, until] (every day events_raw holds when both are None)."""
    live = running_workers(settings)
    if live:
        raise RuntimeError(f"workers are running on {settings.clickhouse_db} ({', '.join(live)}): stop them "
                           f"(make down) before a replay, or they would write while the days are rebuilt")
    client = connect(settings)
    started = time.monotonic()
    bounds = [f"toDate(event_time) >= toDate('{since}')" if since else "", f"toDate(event_time) <= toDate('{until}')"
              if until else ""]
    where = " AND ".join(b for b in bounds if b)
    days = {int(d.strftime("%Y%m%d")) for (d,) in client.execute(
        f"SELECT DISTINCT toDate(event_time) FROM events_raw{' WHERE ' + where if where else ''}")}
    if not days:
        say("replay: events_raw holds no event in that range; nothing to do")
        return {"days": [], "events": 0, "rows": {}}
    # 1. The days go, from the parts and from every rollup they feed (the views refill those).
    for table in TABLES:
        for day in sorted(days):
            client.execute(f"ALTER TABLE {table} DROP PARTITION {day}")
    for rollup in rollups(client, settings.clickhouse_db):
        if rollup.source in TABLES:
            for day in sorted(days):
                client.execute(f"ALTER TABLE {rollup.table} DROP PARTITION {day}")
    # 2. Every accepted event in processing order, classified again, in chunks.
    sinks = {table: ClickHouseSink(settings, table) for table in TABLES}
    users = settings.topic(USERS)
    memory: dict = {}
    profiles: dict = {}
    written = dict.fromkeys(TABLES, 0)
    events = 0
    rows = client.execute_iter(
        f"SELECT topic, partition, offset, payload FROM events_raw "
        f"ORDER BY ingested_at, topic != '{users}', topic, partition, offset", settings={"max_block_size": CHUNK})
    chunk: list = []

    def flush() -> None:
        parts = []
        ordered = sorted(chunk, key=lambda m: (m.topic != users, m.topic, m.partition, m.offset))
        for (topic, partition), messages in groupby(ordered, key=lambda m: (m.topic, m.partition)):
            state = memory.setdefault((topic, partition), PartitionMemory())
            parts.append(columns.classify(topic, partition, list(messages), state, profiles, settings.namespace))
        for table, build in TABLES.items():
            kept = _keep(build(parts, {}), days)
            if kept:
                written[table] += sinks[table].write(kept)
        chunk.clear()

    for topic, partition, offset, payload in rows:
        chunk.append(columns.Message(topic, partition, offset, None, payload.encode()))
        events += 1
        if len(chunk) >= CHUNK:
            flush()
            say(f"replay: {events:,} events classified")
    if chunk:
        flush()
    client.disconnect()
    # 3. The reach of the closed days rebuilt (and of the windows over them) is computed again.
    closed = reach.close(settings, say=say)
    result = {"days": sorted(days), "events": events, "rows": written, "reach": sum(map(len, closed.values())),
              "seconds": round(time.monotonic() - started, 1)}
    say(f"replay: {len(days)} day(s) rebuilt from {events:,} events in {result['seconds']}s: {written}")
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.replay", description=__doc__.split("\n\n")[0])
    p.add_argument("--since", type=date.fromisoformat, help="first day to rebuild (YYYY-MM-DD, UTC)")
    p.add_argument("--until", type=date.fromisoformat, help="last day to rebuild (YYYY-MM-DD, UTC)")
    args = p.parse_args(argv)
    try:
        replay(load(), args.since, args.until)
    except RuntimeError as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
