"""`python -m simulator`: a steady stream of episode_start events to drama.viewing.

The walking skeleton's simulator: a handful of titles, users keyed by user_id, event time now.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import datetime, timezone

import orjson
from kafka import KafkaProducer

from infra.settings import load
from schemas.topics import VIEWING

TITLES = ("t-billionaire-heiress", "t-marriage-before-love", "t-werewolf-vows",
          "t-inheritance-war", "t-cinderella-revenge", "t-white-house-bride")


def episode_start(rng: random.Random, now: datetime) -> dict:
    user = f"u-{rng.randrange(5000)}"
    return {"event_id": str(uuid.UUID(int=rng.getrandbits(128))), "event_type": "episode_start",
            "event_time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "schema_version": 1,
            "app_id": "demo-app", "user_id": user, "title_id": rng.choice(TITLES),
            "episode": rng.randint(1, 12), "session_id": f"s-{user}-{now:%H}", "startup_ms": rng.randint(150, 1800)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--count", type=int, default=0, help="stop after this many events (0: run until stopped)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    settings = load()
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20)
    rng, topic, sent, started = random.Random(args.seed), settings.topic(VIEWING), 0, time.monotonic()
    try:
        while args.count == 0 or sent < args.count:
            event = episode_start(rng, datetime.now(timezone.utc))
            producer.send(topic, key=event["user_id"].encode(), value=orjson.dumps(event))
            sent += 1
            lag = sent / args.rate - (time.monotonic() - started)
            if lag > 0:
                time.sleep(lag)
            if sys.stdout.isatty() and sent % max(1, int(args.rate)) == 0:
                print(f"\r{sent} events sent, {sent / (time.monotonic() - started):.0f}/s", end="", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        producer.flush()
        producer.close()
    print(f"\n{sent} events sent to {topic}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
