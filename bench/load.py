"""The bench's traffic: simulated messages, pre-loaded into a namespace's topics as fast as
aiokafka's producer goes, or sent at a steady rate (kafka-python's producer tops out near 6k
msg/s on the 2-core machine; aiokafka's reached ~27k)."""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from datetime import datetime, timezone

from aiokafka import AIOKafkaProducer

from infra.settings import Settings
from simulator.world import Emission, Faults, World

START = datetime(2026, 1, 5, tzinfo=timezone.utc)


class _FreshTopicRetries(logging.Filter):
    """A topic just created may answer NotLeaderForPartition to its first produce requests even
    after its leaders show in the metadata; aiokafka retries them, and every send is awaited (a
    failure raises), so these warnings are only counted."""

    count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "NotLeaderForPartitionError" in record.getMessage():
            _FreshTopicRetries.count += 1
            return False
        return True


logging.getLogger("aiokafka.producer.sender").addFilter(_FreshTopicRetries())


def simulate(count: int, seed: int = 99, users_per_day: float = 20_000.0,
             faults: Faults | None = None) -> list[Emission]:
    """The first `count` messages of a simulated world (no injected faults unless given: every one valid)."""
    world = World(seed=seed, start=START, users_per_day=users_per_day, faults=faults or Faults())
    return list(itertools.islice(world.stream(), count))


class Simulated:
    """The first `count` messages of a simulated world (as `simulate` gives them), generated again
    on each pass rather than held: 10M Emissions held at once took 21 GB here and the kernel killed
    the bench, where the world streams 1M messages in 7 s in 45 MB. The same seed gives the same
    messages on every pass."""

    def __init__(self, count: int, seed: int = 99, users_per_day: float = 20_000.0, faults: Faults | None = None):
        self.count, self.seed, self.users_per_day, self.faults = count, seed, users_per_day, faults or Faults()

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        world = World(seed=self.seed, start=START, users_per_day=self.users_per_day, faults=self.faults)
        return itertools.islice(world.stream(), self.count)

    def __getitem__(self, key):
        if isinstance(key, slice) and key.start in (None, 0) and key.step is None:
            return list(itertools.islice(iter(self), min(self.count, key.stop or self.count)))
        if isinstance(key, int) and 0 <= key < self.count:
            return next(itertools.islice(iter(self), key, None))
        raise TypeError(f"Simulated takes an index or a leading slice, not {key!r}")


def by_topic(messages) -> dict[str, int]:
    return dict(Counter(m.topic for m in messages).most_common())


def producer(settings: Settings, linger_ms: int = 20) -> AIOKafkaProducer:
    # request_timeout_ms: at 10M pre-loaded messages the single broker, writing a second 3 GB beside
    # the first, took over aiokafka's default 40 s to answer a produce request and failed the stage
    return AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=linger_ms,
                            max_batch_size=512 * 1024, request_timeout_ms=180_000)


async def _send_all(settings: Settings, messages) -> float:
    out = producer(settings)
    await out.start()
    try:
        started = time.monotonic()
        pending = [await out.send(settings.topic(m.topic), m.value, key=m.key) for m in messages]
        await asyncio.gather(*pending)
        return time.monotonic() - started
    finally:
        await out.stop()


def preload(settings: Settings, messages) -> dict:
    """Send every message to the namespace's topics and wait for all acknowledgements."""
    retried = _FreshTopicRetries.count
    seconds = asyncio.run(_send_all(settings, messages))
    return {"messages": len(messages), "seconds": round(seconds, 3), "msgs_per_s": round(len(messages) / seconds),
            "not_leader_retries": _FreshTopicRetries.count - retried}


class Clock:
    """The simulated time of the newest message sent: probes carry it as their event time, so the
    worker never takes them for late (late = over an hour behind its partition's newest)."""

    def __init__(self, moment: datetime):
        self.now = moment


async def paced(out: AIOKafkaProducer, settings: Settings, messages, rate: float, count: int, clock: Clock) -> dict:
    """Send `count` messages from the iterator at `rate` a second, then wait for every
    acknowledgement. achieved_per_s = messages ÷ the time taken to hand them all to the producer
    (below the target when the generator could not keep pace); acked_per_s = acknowledged ÷ first
    send → last acknowledgement; ack_tail_s = how long the last acknowledgement came after the last send."""
    loop = asyncio.get_running_loop()
    acked = {"n": 0, "last": 0.0}

    def on_ack(future):
        if not future.cancelled() and future.exception() is None:
            acked["n"] += 1
            acked["last"] = time.monotonic()

    started = time.monotonic()
    begin = loop.time()
    sent = 0
    pending = []
    while sent < count:
        due = min(count, int((loop.time() - begin) * rate) + 1)
        while sent < due:
            m = next(messages)
            future = await out.send(settings.topic(m.topic), m.value, key=m.key)
            future.add_done_callback(on_ack)
            pending.append(future)
            clock.now = m.emit_time
            sent += 1
        await asyncio.sleep(0.002)
    send_seconds = time.monotonic() - started
    await asyncio.gather(*pending, return_exceptions=True)
    seconds = max(acked["last"] - started, 1e-9)
    return {"target_per_s": rate, "messages": count, "acked": acked["n"], "send_seconds": round(send_seconds, 3),
            "achieved_per_s": round(count / send_seconds), "seconds": round(seconds, 3),
            "acked_per_s": round(acked["n"] / seconds), "ack_tail_s": round(max(0.0, seconds - send_seconds), 3)}
