"""Worker throughput and freshness on the real stack: `make bench` (or python -m bench.throughput).

Two runs on fresh namespaces, each with a simulated stream:
- drain: the stream is in Kafka before the worker starts; how fast one worker brings it all
  into ClickHouse (its throughput, without a producer competing for the 2 cores);
- live: the worker runs while the stream is produced as fast as kafka-python can; how long
  after being sent the last event is in ClickHouse.
"""
from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime, timedelta, timezone

from kafka import KafkaProducer

from infra import services
from infra.process import ServiceError
from infra.settings import load
from infra.topics import admin, create_topics
from simulator.world import World
from warehouse.client import connect
from warehouse.migrate import migrate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput")
    parser.add_argument("--hours", type=float, default=2.0, help="simulated hours of traffic (default 2)")
    parser.add_argument("--users-per-day", type=float, default=20_000)
    args = parser.parse_args(argv)
    base = load()
    for kind in services.STACK[:2]:
        print(kind(base).up())
    stream = None
    for mode in ("drain", "live"):
        settings = load(namespace=f"bench{uuid.uuid4().hex[:6]}", worker_web_port=6099)
        create_topics(settings)
        migrate(settings)
        if stream is None:
            world = World(seed=99, start=datetime(2026, 1, 5, tzinfo=timezone.utc), users_per_day=args.users_per_day)
            stream = list(world.stream(world.start + timedelta(hours=args.hours)))
            print(f"{len(stream):,} messages simulated")
        worker = services.Worker(settings)
        client = connect(settings)
        try:
            if mode == "live":
                print(worker.up())
                time.sleep(8)  # the worker joins its group
            producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20,
                                     batch_size=512 * 1024)
            started = time.monotonic()
            for e in stream:
                producer.send(settings.topic(e.topic), key=e.key, value=e.value)
            producer.flush()
            produced = time.monotonic() - started
            print(f"{mode}: produced in {produced:.1f}s ({len(stream) / produced:,.0f} msg/s)")
            if mode == "drain":
                print(worker.up())
                started = time.monotonic()
            while (client.execute("SELECT sum(events_in) FROM pipeline_health_1m")[0][0] or 0) < len(stream):
                if time.monotonic() - started > 900:
                    raise ServiceError(f"{mode}: not all of {len(stream)} processed after 15 minutes")
                time.sleep(0.2)
            total = time.monotonic() - started
            if mode == "drain":
                print(f"drain: {len(stream):,} events into ClickHouse in {total:.1f}s from the worker's start: "
                      f"{len(stream) / total:,.0f} events/s for one worker (start-up and group join included)")
            else:
                print(f"live: the last event reached ClickHouse {total - produced:.1f}s after it was sent "
                      f"({len(stream) / total:,.0f} events/s end to end)")
        finally:
            print(worker.down())
            connect(base, "default").execute(f"DROP DATABASE IF EXISTS `{settings.clickhouse_db}`")
            kafka = admin(base)
            kafka.delete_topics([t for t in kafka.list_topics() if t.startswith(settings.namespace)])
            kafka.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
