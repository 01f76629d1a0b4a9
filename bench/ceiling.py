"""The ceiling: what a bare aiokafka consumer in one Python process reads from the same
pre-loaded topics (AIOKafkaConsumer, `getmany` of all partitions, no group, from the earliest
offset), parsing every value with orjson; and the same loop also validating every message.

Two ways: with aiokafka's default fetch sizes (1 MiB per partition a fetch: what the worker's
consumer uses today), and with large fetches (LARGE_FETCH: 16 MiB per partition, 64 MiB a fetch),
which fewer, fuller fetches make the cheaper read of the two."""
from __future__ import annotations

import asyncio
import time

import orjson
from aiokafka import AIOKafkaConsumer

from infra.settings import Settings
from schemas.compiled import accept_all
from schemas.topics import INPUT_TOPICS
from schemas.validate import validate

LARGE_FETCH = {"max_partition_fetch_bytes": 16 << 20, "fetch_max_bytes": 64 << 20}


def validator_name() -> str:
    return ("schemas.compiled.accept_all(values, topic) per fetched batch (the worker's compiled path), "
            "schemas.validate.validate for what it leaves")


def validate_values(values: list[bytes], topic: str) -> int:
    """The validator as the worker runs it, the one place to change when its API does: the
    compiled path over the batch, the precise validator for what it leaves. `topic` is the
    contract topic (no namespace). Returns how many the compiled path accepted."""
    _, _, kept = accept_all(values, topic)
    if len(kept) < len(values):
        fast = set(kept)
        for n, value in enumerate(values):
            if n not in fast:
                validate(value, topic)
    return len(kept)


def parse_only(values: list[bytes], topic: str) -> None:  # noqa: ARG001 - same signature as with_validation
    loads = orjson.loads
    for value in values:
        loads(value)


def with_validation(values: list[bytes], topic: str) -> None:
    parse_only(values, topic)
    validate_values(values, topic)


async def _consume(settings: Settings, expected: int, handle, timeout: float, fetch: dict | None = None) -> dict:
    contract = {settings.topic(name): name for name in INPUT_TOPICS}
    consumer = AIOKafkaConsumer(*contract, bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False, **(fetch or {}))
    begin = time.monotonic()
    await consumer.start()
    try:
        started = time.monotonic()
        seen = 0
        while seen < expected:
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"read {seen} of {expected} messages in {timeout:.0f}s")
            batches = await consumer.getmany(timeout_ms=1000)
            for tp, records in batches.items():
                handle([r.value for r in records], contract[tp.topic])
                seen += len(records)
        seconds = time.monotonic() - started
    finally:
        await consumer.stop()
    return {"messages": seen, "seconds": round(seconds, 3), "msgs_per_s": round(seen / seconds),
            "start_seconds": round(started - begin, 3)}


def median_of(runs: list[dict]) -> dict:
    """The run with the median rate (a short read is easily disturbed on a shared 2-core machine),
    with every run's rate beside it."""
    ordered = sorted(runs, key=lambda run: run["msgs_per_s"])
    return {**ordered[len(ordered) // 2], "runs": len(runs), "all_msgs_per_s": [run["msgs_per_s"] for run in runs]}


def measure(settings: Settings, expected: int, repeat: int = 3, timeout: float = 600.0) -> dict:
    """Both ceilings over the namespace's pre-loaded input topics, each read `repeat` times
    (alternating); each figure is the median run."""
    bare, large, validated, error = [], [], [], None
    for _ in range(repeat):
        bare.append(asyncio.run(_consume(settings, expected, parse_only, timeout)))
        large.append(asyncio.run(_consume(settings, expected, parse_only, timeout, LARGE_FETCH)))
        if error is None:
            try:
                validated.append(asyncio.run(_consume(settings, expected, with_validation, timeout)))
            except Exception as failure:  # noqa: BLE001 - e.g. a validator whose API changed: the bare figure stands
                error = f"{type(failure).__name__}: {failure}"
    checked = median_of(validated) if validated and error is None else {"msgs_per_s": None, "error": error}
    checked["validator"] = validator_name()
    return {"bare": median_of(bare), "large": {**median_of(large), "fetch": LARGE_FETCH}, "validated": checked}
