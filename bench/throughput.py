"""Worker throughput and freshness on the real stack: `make bench` (or python -m bench.throughput).

Writes a simulated stream to a fresh namespace's topics as fast as kafka-python can, with one
worker already consuming, and reports: producer rate, the worker's end-to-end rate (first
message produced → last message in ClickHouse), and how far behind the worker ran.
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
    settings = load(namespace=f"bench{uuid.uuid4().hex[:6]}", worker_web_port=6099)
    create_topics(settings)
    migrate(settings)
    world = World(seed=99, start=datetime(2026, 1, 5, tzinfo=timezone.utc), users_per_day=args.users_per_day)
    stream = list(world.stream(world.start + timedelta(hours=args.hours)))
    print(f"{len(stream):,} messages simulated")
    worker = services.Worker(settings)
    print(worker.up())
    client = connect(settings)
    try:
        time.sleep(8)  # the worker joins its group
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20,
                                 batch_size=512 * 1024)
        started = time.monotonic()
        for e in stream:
            producer.send(settings.topic(e.topic), key=e.key, value=e.value)
        producer.flush()
        produced = time.monotonic() - started
        print(f"produced in {produced:.1f}s ({len(stream) / produced:,.0f} msg/s)")
        lag_samples = []
        while True:
            done = client.execute("SELECT sum(events_in) FROM pipeline_health_1m")[0][0] or 0
            lag_samples.append(len(stream) - done)
            if done >= len(stream):
                break
            if time.monotonic() - started > 900:
                raise ServiceError(f"only {done} of {len(stream)} processed after 15 minutes")
            time.sleep(0.5)
        total = time.monotonic() - started
        print(f"all {len(stream):,} in ClickHouse {total:.1f}s after the first was sent: "
              f"{len(stream) / total:,.0f} events/s end to end for one worker")
        print(f"the last message reached ClickHouse {total - produced:.1f}s after it was sent")
    finally:
        print(worker.down())
        connect(base, "default").execute(f"DROP DATABASE IF EXISTS `{settings.clickhouse_db}`")
        kafka = admin(base)
        kafka.delete_topics([t for t in kafka.list_topics() if t.startswith(settings.namespace)])
        kafka.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
