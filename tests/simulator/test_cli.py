"""The simulator's command line on the real stack: Kafka in, the warehouse's report out."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from infra.settings import ROOT
from simulator import report
from simulator.calibration import LIFETIME_SAMPLE_AGES
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


def test_a_past_goes_with_a_live_run_only_and_says_so():
    ran = subprocess.run([sys.executable, "-m", "simulator", "--history-days", "2", "--file", "/dev/null"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode != 0 and "--history-days goes with a live run" in ran.stderr, ran.stderr


def simulate(settings, *args: str, timeout: float = 600) -> int:
    """Run `python -m simulator` on these settings; the number of messages it sent."""
    env = {**settings.as_env(), "PYTHONPATH": str(ROOT)}
    sim = subprocess.run([sys.executable, "-m", "simulator", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert sim.returncode == 0, sim.stderr + sim.stdout
    return int(re.search(r"([\d,]+) messages", sim.stdout.strip().splitlines()[-1]).group(1).replace(",", ""))


def landed(settings, count: int, timeout: float = 300) -> None:
    """Wait until events_raw holds `count` events (the stream had no faults: each message is one)."""
    clickhouse = connect(settings)
    rows = lambda: clickhouse.execute("SELECT count() FROM events_raw")[0][0]  # noqa: E731
    assert wait_for(rows, count, timeout=timeout) == count


def report_cli(settings) -> subprocess.CompletedProcess:
    env = {**settings.as_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "simulator", "report"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def same_figures(sql: dict, python: dict) -> list[str]:
    """The keys on which the warehouse's SQL and the Python definitions disagree (beyond 1e-9 relative)."""
    def differ(a, b) -> bool:
        if isinstance(a, float) or isinstance(b, float):
            return a is None or b is None or abs(a - b) > 1e-9 * max(1.0, abs(a), abs(b))
        return a != b
    return [k for k in python if differ(sql.get(k), python[k])]


def test_the_report_reads_the_warehouse_with_the_documented_queries(pipeline):
    settings = pipeline()
    sent = simulate(settings, "--hours", "3", "--start", START, "--users-per-day", "3000", "--day-minutes", "0.01",
                    "--no-studio", "--seed", "21")
    world = World(seed=21, start=datetime(2026, 1, 6, tzinfo=timezone.utc), users_per_day=3000)
    events = [orjson.loads(e.value) for e in world.stream(world.start + timedelta(hours=3))]
    assert sent == len(events)
    landed(settings, len(events))
    python, sql = report.figures(events), report.from_warehouse(settings)
    assert python["payers"] > 5 and python["sequels"] == 0
    assert not same_figures(sql, python), {k: (sql.get(k), python[k]) for k in same_figures(sql, python)}
    shown = report_cli(settings)
    assert "us_revenue_share" in shown.stdout and "female_45plus_paid_7d" in shown.stdout
    assert "not checked: needs 6.9 days of data" in shown.stdout             # three hours cannot show a week


@pytest.mark.slow
def test_a_simulated_day_with_the_studio_answering_signals_meets_the_study(pipeline):
    """The issue's trial, on a seed the defaults were not tuned on: one simulated day at 10,000 new
    users, the studio on, through Kafka and the worker; the report reads the warehouse."""
    settings = pipeline()
    sent = simulate(settings, "--hours", "24", "--start", START, "--users-per-day", "10000", "--day-minutes", "2",
                    "--seed", "29", timeout=1200)
    landed(settings, sent, timeout=600)
    clickhouse = connect(settings)
    [(signals,)] = clickhouse.execute("SELECT count() FROM recreate_signals")
    found = report.from_warehouse(settings)
    assert signals > 0 and found["sequels"] > 0, "the loop did not turn: no signal or no sequel"
    # A past (January) replayed now: the loop's cycle times are on one clock, event time, so none is
    # negative, and every sequel's signal is known (signal_time from recreate_signals_log).
    [(cycles, negative, unknown)] = clickhouse.execute(
        "SELECT count(), countIf(signal_to_script_s < 0 OR script_to_launch_s < 0 OR launch_to_first_view_s < 0), "
        "countIf(signal_time IS NULL) FROM loop_cycles")
    assert cycles == found["sequels"] and negative == 0 and unknown == 0, (cycles, negative, unknown)
    shown = report_cli(settings)
    assert shown.returncode == 0, shown.stdout
    assert found["payers"] > 400


def test_a_sampled_year_shows_the_hit_s_lifetime_return(pipeline):
    settings = pipeline()
    sent = simulate(settings, "lifetime", "--users-per-day", "120", "--seed", "5", "--start", "2025-01-01T00:00:00Z")
    from simulator.__main__ import horizon
    year = horizon(5, datetime(2025, 1, 1, tzinfo=timezone.utc), 120, "reelshort-like")
    events = [orjson.loads(e.value) for e in year]
    assert sent == len(events)
    landed(settings, sent)
    # the same year, worked out in Python: the hit's revenue by its newcomers' first day
    first_day, hit = {}, "sim5-t0"
    by_day: dict = {}
    for e in events:
        if e["event_type"] == "user_profile":
            first_day.setdefault(e["user_id"], e["event_time"][:10])
            by_day.setdefault(e["event_time"][:10], 0.0)
        elif e["event_type"] in ("purchase", "ad_impression") and e["title_id"] == hit:
            by_day[first_day[e["user_id"]]] += e.get("amount_usd", 0.0) + e.get("revenue_usd", 0.0)
    days = sorted(by_day)
    ages = [(datetime.fromisoformat(d) - datetime.fromisoformat(days[0])).days for d in days]
    assert ages == list(LIFETIME_SAMPLE_AGES)
    earned = sum((by_day[a] + by_day[b]) / 2 * (y - x) for a, b, x, y in zip(days, days[1:], ages, ages[1:]))
    scale = next(e["sim_audience_scale"] for e in events if e["event_type"] == "script_created")
    cost = sum(e["production_cost_usd"] for e in events
               if e["event_type"] == "episode_released" and e["title_id"] == hit)
    assert abs(cost - 200_000) < 1
    found = report.from_warehouse(settings)
    assert found["lifetime"] and abs(found["hit_lifetime_return"] - earned / scale / cost) < 1e-6
    assert abs(report.lifetime_return(report.hit_lifetime_rows(events)) - found["hit_lifetime_return"]) < 1e-6
    shown = report_cli(settings).stdout
    assert "hit_lifetime_return" in shown and "not checked: a run, not a sampled year" in shown


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
