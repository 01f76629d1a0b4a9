"""The shared golden set (../shared/golden/v1): its messages and how to replay them into Kafka."""
from __future__ import annotations

import json

from kafka import KafkaProducer

from infra.settings import ROOT, Settings

GOLDEN = ROOT.parent / "shared" / "golden" / "v1"


def messages(phase: int | None = None) -> list[dict]:
    """Messages in file order, each with `raw` (the value's bytes)."""
    out = []
    for line in (GOLDEN / "messages.jsonl").read_text().splitlines():
        message = json.loads(line)
        message["raw"] = bytes.fromhex(message["value_hex"]) if "value_hex" in message else message["value"].encode()
        if phase is None or message["phase"] == phase:
            out.append(message)
    return out


def expected() -> dict:
    return json.loads((GOLDEN / "expected.json").read_text())


def produce(settings: Settings, batch: list[dict]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    for message in batch:
        key = message["key"].encode() if message["key"] is not None else None
        producer.send(settings.topic(message["topic"]), key=key, value=message["raw"])
    producer.flush()
    producer.close()


# --- comparing the warehouse with expected.json ----------------------------------------------------
WINDOWED = {
    "title_metrics_1m": ("window_start", "title_id"),
    "episode_metrics_1m": ("window_start", "title_id", "episode"),
    "segment_metrics_1m": ("window_start", "gender", "age_band", "country"),
    "titles": ("title_id",),
    "loop_cycles": ("title_id",),
}


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-9)
    return a == b


def table_differences(client, name: str, rows: list[dict]) -> list[str]:
    """Every row and listed column of expected.json against the warehouse; [] when equal."""
    key = WINDOWED[name]
    columns = sorted(rows[0]) if rows else list(key)
    selected = ", ".join(f"toString({c})" if c == "window_start" else c for c in columns)
    found = {tuple(dict(zip(columns, r))[k] for k in key): dict(zip(columns, r))
             for r in client.execute(f"SELECT {selected} FROM {name}")}
    wanted = {tuple(r[k] for k in key): r for r in rows}
    problems = [f"{name}: missing row {k}" for k in wanted if k not in found]
    problems += [f"{name}: unexpected row {k}: {found[k]}" for k in found if k not in wanted]
    for k, row in wanted.items():
        if k in found:
            problems += [f"{name} {k}: {c} is {found[k][c]!r}, expected {v!r}"
                         for c, v in row.items() if not _same(found[k][c], v)]
    return problems


def differences(client) -> list[str]:
    """The whole of expected.json against the warehouse."""
    want = expected()
    problems = []
    for name in WINDOWED:
        problems += table_differences(client, name, want[name])
    by_type = dict(client.execute("SELECT event_type, count() FROM events_raw GROUP BY event_type"))
    if by_type != want["events_raw_by_type"]:
        problems.append(f"events_raw by type: {by_type} != {want['events_raw_by_type']}")
    ids = client.execute("SELECT count(), uniqExact(event_id) FROM events_raw")[0]
    if ids != (want["events_raw_total"], want["events_raw_total"]):
        problems.append(f"events_raw rows, distinct ids: {ids}; expected {want['events_raw_total']} each")
    rejected = dict(client.execute("SELECT reason, count() FROM events_rejected GROUP BY reason"))
    if rejected != want["rejected_by_reason"]:
        problems.append(f"events_rejected: {rejected} != {want['rejected_by_reason']}")
    health = client.execute(
        "SELECT sum(events_in), sum(duplicates), sum(late), sum(rejected) FROM pipeline_health_1m")[0]
    if health[1:] != (want["duplicates"], want["late"], sum(want["rejected_by_reason"].values())):
        problems.append(f"pipeline_health_1m duplicates, late, rejected: {health[1:]}")
    signal_time = client.execute("SELECT signal_time FROM loop_cycles")
    if signal_time != [(None,)] * len(want["loop_cycles"]):
        problems.append(f"loop_cycles.signal_time should be null: {signal_time}")
    return problems


def settled(client, total_messages: int) -> bool:
    """Every message of the replay has reached the last table a batch writes."""
    return client.execute("SELECT sum(events_in) FROM pipeline_health_1m")[0][0] == total_messages


def replay_profiles(settings, client, timeout: float = 120.0) -> None:
    """Phase 1 of README.md (the user profiles), and wait until it is processed."""
    import time
    profiles = len(messages(1))
    produce(settings, messages(1))
    deadline = time.monotonic() + timeout
    while client.execute("SELECT count() FROM events_raw WHERE event_type = 'user_profile'")[0][0] < profiles:
        assert time.monotonic() < deadline, "phase 1 was not processed in time"
        time.sleep(0.2)


def replay(settings, client, timeout: float = 120.0) -> None:
    """The replay of README.md: phase 1, wait for it, then phases 2 and 3; wait until all is in."""
    replay_profiles(settings, client, timeout)
    produce(settings, messages(2) + messages(3))
    wait_settled(client, timeout)


def wait_settled(client, timeout: float = 120.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    total = len(messages())
    while not settled(client, total):
        done = client.execute("SELECT sum(events_in) FROM pipeline_health_1m")
        assert time.monotonic() < deadline, f"not settled: {done} of {total}"
        time.sleep(0.3)
