"""`python -m bench.throughput --smoke` on the real stack: every figure is there and sane, and the
run leaves nothing behind (topics, consumer groups, databases, Faust data directories)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.settings import ROOT, load
from infra.topics import admin, list_groups
from schemas.topics import INPUT_TOPICS, USERS
from warehouse.client import connect


@pytest.mark.stack
def test_smoke_run_reports_every_figure_and_leaves_nothing(stack, tmp_path):
    log = tmp_path / "bench.log"      # a run that hangs still shows how far it got
    with log.open("w") as out:
        try:
            run = subprocess.run([sys.executable, "-m", "bench.throughput", "--smoke", "--results-dir", str(tmp_path)],
                                 cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True, timeout=400)
        except subprocess.TimeoutExpired:
            pytest.fail("the smoke bench took more than 400 s; its output so far:\n" + log.read_text()[-5000:])
    output = log.read_text()
    run.stdout = output
    written = sorted(tmp_path.glob("*.json"))
    assert len(written) == 1, output[-5000:]
    r = json.loads(written[0].read_text())
    assert run.returncode == 0, f"errors: {r['errors']}\n{output[-5000:]}"
    assert r["errors"] == {}

    # the machine, in the JSON and in the table's header
    assert r["machine"]["nproc"] >= 1 and r["machine"]["cpu_model"] and r["machine"]["memory_gib"] > 0
    assert "| figure" in run.stdout and r["machine"]["cpu_model"] in run.stdout

    # 1. the ceilings
    n = r["messages"]
    assert r["ceiling"]["bare"]["messages"] == n and r["ceiling"]["bare"]["msgs_per_s"] > 0
    assert r["ceiling"]["large"]["messages"] == n and r["ceiling"]["large"]["msgs_per_s"] > 0
    assert r["ceiling"]["validated"]["messages"] == n and r["ceiling"]["validated"]["msgs_per_s"] > 0

    # 2. worker drain, 1 and 2 workers: start-up apart from the drain rate, every event counted once
    for workers in ("1", "2"):
        d = r["drain"][workers]
        assert d["msgs_per_s"] > 0 and d["startup_s"] > 0 and d["drain_s"] > 0, d
        assert d["events_in"] == n and d["accepted"] == n and d["rejected"] == 0, d
        assert d["cpu"]["worker_s"] > 0 and d["cpu"]["clickhouse_s"] > 0 and d["cpu"]["msgs_per_cpu_s"] > 0, d
    assert r["drain"]["ratio_2_vs_1"] > 0

    # 3. the peer computes what the messages (and the worker's title_metrics_1m, episode_metrics_1m) say
    p = r["peer"]
    assert p["rows_per_s_incl_flush"] > 0 and p["seconds_incl_flush"] > 0 and p["msgs_per_cpu_s"] > 0, p
    for table in ("title", "episode"):
        assert p[f"{table}_vs_messages"]["equal"] is True and p[f"{table}_vs_worker"]["equal"] is True, p
        assert p[f"{table}_vs_messages"]["rows"] > 0
    # 3b. on resent events it is not exact (at-least-once, no de-duplication), and the bench says so
    f = r["faults"]
    assert f["resent"] > 0 and f["title_vs_messages"]["equal"] is False and f["title_vs_messages"]["differing_totals"]

    # 3c. the worker on the same resent and late events is exact; after kill -9 of ClickHouse mid-stream
    # its views are exact once maintain's reconcile ran (a kill between a parts insert and its views can
    # leave a rollup short until then), and the peer's figures are compared (it may re-read a block)
    assert r["faults_worker"]["title_vs_messages"]["equal"] is True, r["faults_worker"]["title_vs_messages"]
    assert r["faults_worker"]["episode_vs_messages"]["equal"] is True
    for design in ("worker", "peer"):
        c = r["crash"][design]
        assert c["killed"]["away_s"] > 0 and not c["settled"]["timed_out"], c
        assert c["messages"] == sum(part["messages"] for part in c["sent"]), c["sent"]
        assert c["title_vs_messages"]["rows"] > 0, c
    repaired = r["crash"]["worker"]["after_reconcile"]
    assert repaired["title_vs_messages"]["equal"] is True and repaired["episode_vs_messages"]["equal"] is True, \
        repaired

    # 4. freshness of both designs: percentiles on every topic each computes, none lost, the producer measured
    for key, topics in (("freshness", set(INPUT_TOPICS)), ("freshness_peer", set(INPUT_TOPICS) - {USERS})):
        rates = r[key]["rates"]
        assert rates
        for rate in rates:
            assert rate["producer"]["achieved_per_s"] > 0 and rate["producer"]["acked"] == rate["producer"]["messages"]
            assert not rate["drain_after"]["timed_out"]
            assert set(rate["topics"]) == topics
            for topic, t in rate["topics"].items():
                assert t["seen"] > 0 and t["missing"] == 0, (topic, t)
                assert 0 < t["p50_s"] <= t["p95_s"] <= t["p99_s"] <= t["max_s"], (topic, t)
            # 5. the worker's (or ClickHouse's) RSS during the run
            assert rate["worker_rss"]["max_mb"] > 0
        assert r[key]["worker_rss"]["max_mb"] > 0
    dedup = r["dedup"]
    assert (dedup.get("bytes_per_id") or 0) > 0 or dedup["error"].startswith("not available"), dedup
    assert set(r["targets"]) == {"drain_ge_50pct_ceiling", "p99_lt_2s_at_5k"}

    # nothing left of the namespaces it used (checked here, not only by the harness itself)
    namespaces = r["namespaces"]
    assert len(namespaces) == 10 and r["leftovers"] == []
    kafka = admin(stack)
    try:
        topics = [t for t in kafka.list_topics() if any(ns in t for ns in namespaces)]
        groups = [g["group_id"] for g in list_groups(kafka) if any(ns in g["group_id"] for ns in namespaces)]
    finally:
        kafka.close()
    databases = [db for (db,) in connect(stack, "default").execute("SHOW DATABASES")
                 if any(ns in db for ns in namespaces)]
    in_checkout = [p.name for p in ROOT.iterdir() if any(ns in p.name for ns in namespaces)]
    faust_dirs = [str(d) for ns in namespaces for d in (getattr(load(namespace=ns), "faust_app_dir", None),) if d
                  and d.exists()]
    assert (topics, groups, databases, in_checkout, faust_dirs) == ([], [], [], [], [])


@pytest.mark.stack
def test_the_calibration_bench_reports_every_figure_for_each_way_of_running(stack, tmp_path):
    out = tmp_path / "calibration.json"
    run = subprocess.run([sys.executable, "-m", "bench.calibration", "--seeds", "3", "--stack", "0.05", "--in-process",
                          "0.05", "--users-per-day", "2000", "--lifetime-users-per-day", "40", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.exists(), (run.stdout + run.stderr)[-5000:]
    runs = json.loads(out.read_text())["runs"]
    assert [r["how"] for r in runs] == ["0.05 day(s) through the stack", "0.05 day(s) in-process",
                                        "a sampled year at 40 new users a day, in-process"]
    stack, in_process, year = runs
    assert stack["messages"] == in_process["messages"] > 1000
    # the same stream: the warehouse's SQL and the Python definitions give the same figures
    for figure in ("us_revenue_share", "female_45plus_payer_share", "marketing_share", "ai_script_share", "payers"):
        assert abs(stack["figures"][figure] - in_process["figures"][figure]) < 1e-9, figure
    assert {c["figure"] for c in stack["checks"]} == {c["figure"] for c in year["checks"]}
    assert year["figures"]["hit_lifetime_return"] > 0 and [c["ok"] for c in year["checks"]].count(None) == \
        len(year["checks"]) - 1                                  # a year checks its one figure, not a run's
    assert run.returncode == (0 if all(r["passed"] for r in runs) else 1)
