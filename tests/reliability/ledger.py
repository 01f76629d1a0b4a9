"""The reliability suite's ledger: what was sent and acknowledged, against what the warehouse holds.

    Sender ──send(topic, key, value)──► Kafka ──acknowledged (topic, partition, offset)──► Sender.acked
    verdict(settings) ── every offset below the group's commit, in each input partition ──►
        stored (events_raw) · rejected (events_rejected, by reason) · duplicate (its event_id stored
        at another offset) · lost (none of these)

A scenario passes only with 0 lost and 0 double-counted (`Verdict.problems`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from dataclasses import asdict, dataclass, field

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from infra.settings import ROOT, Settings
from schemas.topics import INPUT_TOPICS
from warehouse.client import connect

RESULTS = ROOT / ".state" / "reliability"
# `make test-reliability` runs every scenario in full (DRAMA_RELIABILITY=full); `make test`, a short version.
FULL = os.environ.get("DRAMA_RELIABILITY") == "full"


def simulate(settings: Settings, rate: int, seconds: int, *args: str) -> subprocess.Popen:
    """Simulator traffic on the namespace, in the background: `rate` events/s for `seconds`."""
    env = {**os.environ, **settings.as_env(), "PYTHONPATH": str(ROOT)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / f"simulator-{settings.namespace}.log"
    with open(log, "wb") as out:               # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "simulator", "--rate", str(rate), "--events",
                                 str(rate * seconds), "--no-studio", *args], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    proc.log = log
    return proc


def child_of(pid: int) -> int | None:
    """The process a supervisor runs (its only child): the worker itself."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def memory_mib(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory from /proc (VmRSS now, VmHWM its peak so far), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib(pid: int) -> float:
    return memory_mib(pid, "VmHWM")


class Sender:
    """A producer that remembers what Kafka acknowledged, message by message."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.kafka = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5,
                                   max_request_size=2 * 1024 * 1024)
        self.produced = 0
        self.acked: dict[tuple[str, int, int], bytes] = {}    # (topic, partition, offset) → value
        self.failed: list[str] = []

    def send(self, topic: str, key: str | None, value: bytes) -> None:
        self.produced += 1
        future = self.kafka.send(self.settings.topic(topic), key=key.encode() if key else None, value=value)
        future.add_callback(lambda meta, value=value: self.acked.__setitem__(
            (meta.topic, meta.partition, meta.offset), value))
        future.add_errback(lambda error: self.failed.append(repr(error)))

    def flush(self) -> None:
        self.kafka.flush(60)

    def close(self) -> None:
        self.kafka.close()


def committed(settings: Settings) -> dict[tuple[str, int], int]:
    """The worker group's committed offset (the next to read) per input topic-partition."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="drama-ledger")
    try:
        offsets = admin.list_group_offsets({settings.faust_app_id: None})[settings.faust_app_id]
    finally:
        admin.close()
    inputs = {settings.topic(t) for t in INPUT_TOPICS}
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if tp.topic in inputs}


def ends(settings: Settings) -> dict[tuple[str, int], int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None)
    try:
        tps = [TopicPartition(settings.topic(t), p) for t in INPUT_TOPICS
               for p in sorted(consumer.partitions_for_topic(settings.topic(t)) or ())]
        return {(tp.topic, tp.partition): o for tp, o in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()


def wait_until_committed(settings: Settings, timeout: float = 120.0) -> bool:
    """True once the group has committed every input partition up to its end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        target = {tp: end for tp, end in ends(settings).items() if end > 0}
        done = committed(settings)
        if all(done.get(tp, -1) >= end for tp, end in target.items()):
            return True
        time.sleep(1.0)
    return False


def read_event_ids(settings: Settings, places: set) -> dict:
    """(topic, partition, offset) → event_id of those messages, read back from Kafka."""
    wanted: dict = {}
    for topic, partition, offset in places:
        wanted.setdefault((topic, partition), set()).add(offset)
    out: dict = {}
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    try:
        for (topic, partition), offsets in wanted.items():
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, min(offsets))
            while offsets - {o for (t, p, o) in out if (t, p) == (topic, partition)}:
                batch = consumer.poll(timeout_ms=2000)
                if not batch:
                    break
                for record in batch.get(tp, ()):
                    if record.offset in offsets:
                        try:
                            event_id = json.loads(record.value).get("event_id")
                        except (ValueError, AttributeError):
                            event_id = None
                        out[(topic, partition, record.offset)] = event_id
    finally:
        consumer.close()
    return out


@dataclass
class Verdict:
    scenario: str
    produced: int = 0
    acknowledged: int = 0
    below_commit: int = 0
    accepted: int = 0                 # distinct event ids stored
    stored: int = 0                   # rows of events_raw (one per first sighting)
    rejected: dict = field(default_factory=dict)
    duplicated: int = 0               # offsets whose event_id is stored at another offset
    lost: int = 0                     # below the commit (or acknowledged) and neither stored, rejected nor a duplicate
    double_counted: int = 0           # event ids stored more than once
    lost_places: list = field(default_factory=list)   # the first 20 lost: topic, partition, offset, event_id
    recovery_s: float = 0.0
    notes: dict = field(default_factory=dict)

    def problems(self) -> list[str]:
        out = []
        if self.lost:
            out.append(f"{self.lost} lost")
        if self.double_counted:
            out.append(f"{self.double_counted} double-counted")
        return out

    def save(self) -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{self.scenario}.json").write_text(json.dumps(asdict(self), indent=1, default=str))
        print(json.dumps(asdict(self), default=str))


def verdict(settings: Settings, scenario: str, sender: Sender | None = None) -> Verdict:
    """The ledger over every input partition of the settings' namespace (see the module's docstring)."""
    client = connect(settings)
    try:
        commits = committed(settings)
        stored = {(t, p, o): e for t, p, o, e in client.execute(
            "SELECT topic, partition, offset, event_id FROM events_raw")}
        rejected = {(t, p, o): r for t, p, o, r in client.execute(
            "SELECT topic, partition, offset, reason FROM events_rejected")}
        (rows, ids), = client.execute("SELECT count(), uniqExact(event_id) FROM events_raw")
    finally:
        client.disconnect()
    below = {(t, p, o) for (t, p), end in commits.items() for o in range(end)}
    if sender is not None:
        below |= set(sender.acked)
    missing = {place for place in below if place not in stored and place not in rejected}
    stored_ids = set(stored.values())
    ids_of_missing = read_event_ids(settings, missing) if missing else {}
    duplicates = {place for place in missing if ids_of_missing.get(place) in stored_ids}
    reasons: dict = {}
    for reason in rejected.values():
        reasons[reason] = reasons.get(reason, 0) + 1
    lost = sorted(missing - duplicates)
    return Verdict(scenario, produced=sender.produced if sender else 0, acknowledged=len(sender.acked) if sender else 0,
                   below_commit=len(below), accepted=ids, stored=len(stored), rejected=reasons,
                   duplicated=len(duplicates), lost=len(lost), double_counted=rows - ids,
                   lost_places=[[t, p, o, ids_of_missing.get((t, p, o))] for t, p, o in lost[:20]])
