"""How long a worker takes to rebuild a partition's de-duplication memory after a restart or a
rebalance: `python -m bench.restore` (default: an hour at 10,000 events/s on 4 partitions,
so 9M ids for the partition rebuilt; the worker does this for each partition it takes).

events_raw is filled server-side (INSERT … SELECT FROM numbers) for one partition of a fresh
namespace; then streams.state.restore_partition reads the ids back in blocks and builds the
digest table. Prints the time, the ids per second, and the table's bytes per id.
"""
from __future__ import annotations

import argparse
import resource
import time
import uuid

from infra.settings import load
from streams.state import restore_partition
from warehouse.client import connect
from warehouse.migrate import migrate

START = 1_767_600_000          # 2026-01-05 08:00:00 UTC


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.restore")
    parser.add_argument("--rate", type=int, default=10_000, help="events/s of the whole app (default 10,000)")
    parser.add_argument("--seconds", type=int, default=3600, help="event time covered (default one hour)")
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)
    base = load()
    settings = load(namespace=f"restore{uuid.uuid4().hex[:6]}")
    migrate(settings)
    client = connect(settings)
    ids = args.rate * args.seconds // args.partitions
    per_second = max(1, args.rate // args.partitions)
    topic = settings.topic("drama.distribution")
    try:
        started = time.monotonic()
        client.execute(
            "INSERT INTO events_raw (event_id, event_type, event_time, event_time_us, app_id, user_id, title_id, "
            "topic, partition, offset, payload_packed) "
            "SELECT concat('evt-', toString(number), '-', toString(cityHash64(number) "
            "%% 1000000)), 'teaser_impression', toDateTime(%(start)s + intDiv(number, %(per)s)), 0, 'app', 'u', 't', "
            "%(topic)s, 0, number, '' FROM numbers(%(n)s)",
            {"start": START, "per": per_second, "topic": topic, "n": ids})
        print(f"events_raw: {ids:,} ids of one partition written in {time.monotonic() - started:.1f}s", flush=True)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        memory = restore_partition(client, topic, 0, ids)
        took = time.monotonic() - started
        result = {"ids": ids, "seconds": round(took, 2), "ids_per_s": round(ids / took),
                  "table_bytes_per_id": round(memory.nbytes() / ids, 1),
                  "peak_rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024)}
        print(f"restore: {ids:,} ids ({args.seconds} s at {args.rate:,} events/s over {args.partitions} partitions) "
              f"rebuilt in {took:.1f}s ({ids / took:,.0f} ids/s), {result['table_bytes_per_id']} bytes/id in the "
              f"table, peak RSS +{result['peak_rss_growth_mb']} MB", flush=True)
        return result
    finally:
        connect(base, "default").execute(f"DROP DATABASE IF EXISTS `{settings.clickhouse_db}`")


if __name__ == "__main__":
    main()
