"""The simulator's command line on the real stack: Kafka in, the warehouse's report out."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import orjson

from infra.settings import ROOT
from simulator import report
from simulator.world import World
from tests.conftest import wait_for
from warehouse.client import connect

START = "2026-01-06T00:00:00Z"


def test_file_mode_writes_the_golden_format_and_is_deterministic(tmp_path):
    outputs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.ndjson"
        subprocess.run([sys.executable, "-m", "simulator", "--file", str(path), "--hours", "1", "--start", START,
                        "--users-per-day", "2000", "--malformed", "0.01"], cwd=ROOT, check=True, capture_output=True)
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]
    first = orjson.loads(outputs[0].splitlines()[0])
    assert set(first) >= {"topic", "key"} and ("value" in first or "value_hex" in first)


def test_the_report_on_the_warehouse_shows_what_the_stream_held(pipeline):
    settings = pipeline()
    env = {**settings.as_env(), "PYTHONPATH": str(ROOT)}
    sim = subprocess.run([sys.executable, "-m", "simulator", "--hours", "3", "--start", START, "--users-per-day",
                          "3000", "--day-minutes", "0.01", "--no-studio", "--seed", "21"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert sim.returncode == 0, sim.stderr
    world = World(seed=21, start=datetime(2026, 1, 6, tzinfo=timezone.utc), users_per_day=3000)
    events = [orjson.loads(e.value) for e in world.stream(world.start + timedelta(hours=3))]
    clickhouse = connect(settings)
    count = lambda: clickhouse.execute("SELECT count() FROM events_raw")[0][0]  # noqa: E731
    assert wait_for(count, len(events), timeout=120) == len(events)
    assert report.from_warehouse(settings) == report.figures(events)
    shown = subprocess.run([sys.executable, "-m", "simulator", "report"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert "us_revenue_share" in shown.stdout and "marketing_share" in shown.stdout


def test_the_studio_answers_a_signal_on_kafka_with_a_derived_title(pipeline):
    import time

    from kafka import KafkaConsumer, KafkaProducer
    settings = pipeline.settings
    env = {**settings.as_env(), "PYTHONPATH": str(ROOT)}
    sim = subprocess.Popen([sys.executable, "-m", "simulator", "--rate", "100", "--seed", "4"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        parent = World(seed=4).titles[1].title_id
        signal = {"signal_id": "sig-studio-1", "title_id": parent, "trope": "x", "score": 9.0, "reason": "test"}
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        consumer = KafkaConsumer(settings.topic("drama.content"), bootstrap_servers=settings.kafka_bootstrap,
                                 auto_offset_reset="earliest", consumer_timeout_ms=1000, group_id=None)
        derived, deadline = None, time.monotonic() + 60
        while derived is None and time.monotonic() < deadline:
            producer.send(settings.topic("drama.signals"), orjson.dumps(signal)).get(10)  # until the studio listens
            for message in consumer:
                event = orjson.loads(message.value)
                if event.get("signal_id") == "sig-studio-1" and event["event_type"] == "script_created":
                    derived = event
                    break
        consumer.close()
        producer.close()
        assert derived is not None, "no derived title within 60 s"
        assert derived["parent_title_id"] == parent
    finally:
        sim.terminate()
        sim.wait(30)
