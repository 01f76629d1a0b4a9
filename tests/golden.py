"""The shared golden set (../shared/golden/v1): its messages and how to replay them into Kafka."""
from __future__ import annotations

import json
from pathlib import Path

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
