"""python -m warehouse forget-user on the golden set: one payer forgotten leaves every metric view
exactly as a run of the golden set without that payer's messages gives it, nothing with their id,
and one audit row that names no id."""
from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from infra import services
from infra.settings import ROOT, load
from launcher import bring_up
from tests import golden
from tests.conftest import drop_namespace, free_port, wait_for
from warehouse.client import connect
from warehouse.forget import forget_user, user_hash

VIEWS = ["title_metrics_1m", "title_metrics_1h", "title_metrics_1d", "episode_metrics_1m", "episode_metrics_1d",
         "segment_metrics_1m", "segment_metrics_1d", "kpis_1d", "title_kpis_1d", "titles", "loop_cycles"]


def snapshot(client) -> dict:
    return {view: sorted(client.execute(f"SELECT * FROM {view}"), key=repr) for view in VIEWS}


def differences(a: dict, b: dict) -> list[str]:
    out = []
    for view in VIEWS:
        if len(a[view]) != len(b[view]) or not all(
                len(x) == len(y) and all(golden._same(p, q) for p, q in zip(x, y)) for x, y in zip(a[view], b[view])):
            out.append(f"{view}: {len(a[view])} rows against {len(b[view])}")
    return out


def user_of(message: dict) -> str | None:
    try:
        return orjson.loads(message["raw"]).get("user_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None


def a_payer() -> str:
    """A user of the golden set with a profile and a purchase (so segments and money both change)."""
    events = [orjson.loads(m["raw"]) for m in golden.messages() if user_of(m)]
    profiled = {e["user_id"] for e in events if e.get("event_type") == "user_profile"}
    payers = sorted({e["user_id"] for e in events if e.get("event_type") == "purchase"} & profiled)
    return payers[0]


def test_forgetting_a_payer_gives_what_a_run_without_them_gives(pipeline, run_id):
    payer = a_payer()
    settings = pipeline()
    client = connect(settings)
    golden.replay(settings, client)
    with pytest.raises(RuntimeError, match="workers are running"):
        forget_user(settings, payer)
    for worker in pipeline.workers:
        worker.down()
    before = snapshot(client)

    # the same golden set, without the payer's messages, through a worker of its own
    without = load(namespace=f"f{run_id}", worker_web_port=free_port())
    worker = services.Worker(without)
    try:
        bring_up(without, stack=(), apps=(services.Worker,), report=lambda _: None)
        other = connect(without)
        kept = [m for m in golden.messages() if user_of(m) != payer]
        golden.produce(without, [m for m in kept if m["phase"] == 1])
        wait_for(lambda: other.execute("SELECT count() FROM events_raw WHERE event_type = 'user_profile'")[0][0],
                 sum(m["phase"] == 1 for m in kept), timeout=120)
        golden.produce(without, [m for m in kept if m["phase"] != 1])
        wait_for(lambda: other.execute("SELECT sum(events_in) FROM pipeline_health_1m")[0][0], len(kept), timeout=120)
        expected = snapshot(other)
    finally:
        drop_namespace(without, [worker])
    assert differences(before, expected), "the payer changed nothing: the test would prove nothing"

    result = forget_user(settings, payer, say=lambda _: None)

    assert result["rows"]["events_raw"] > 0 and result["days"]
    assert differences(snapshot(client), expected) == []
    assert client.execute("SELECT count() FROM events_raw WHERE user_id = %(u)s", {"u": payer}) == [(0,)]
    for table in ("title_metrics_1m_parts", "segment_metrics_1m_parts"):
        assert client.execute(f"SELECT count() FROM {table} WHERE user_id = %(u)s", {"u": payer}) == [(0,)], table
    assert client.execute("SELECT count() FROM events_rejected WHERE position(raw, %(u)s) > 0 AND "
                          "visitParamExtractString(raw, 'user_id') = %(u)s", {"u": payer}) == [(0,)]
    audit = client.execute("SELECT user_hash, rows_affected, tables FROM forget_requests")
    assert audit == [(user_hash(payer), sum(result["rows"].values()), audit[0][2])]
    assert payer not in repr(audit)


def test_forget_user_asks_for_confirmation(stack):
    done = subprocess.run([sys.executable, "-m", "warehouse", "forget-user", "nobody-at-all"], cwd=ROOT,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 2 and "add --yes" in done.stderr, done.stderr
