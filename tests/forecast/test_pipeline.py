"""The forecast's data path on the real warehouse: a simulated slate loaded through the worker's writes
(streams.load), read back by warehouse/queries/title_forecast_features.sql (forecast.features)."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

import orjson
import pytest

from forecast import features
from infra.settings import ROOT, load
from streams.load import load_file
from warehouse.client import connect
from warehouse.migrate import migrate


@pytest.fixture
def slate(tmp_path):
    """A day's slate at 300 new users a day: its events file and its truth."""
    events, truth = tmp_path / "slate.ndjson", tmp_path / "truth.json"
    subprocess.run([sys.executable, "-m", "simulator", "slate", "--seed", "9", "--slate-days", "1",
                    "--slate-per-day", "4", "--users-per-day", "300", "--file", str(events), "--truth", str(truth)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return events, orjson.loads(truth.read_bytes())


def loaded(stack, run_id, name: str, path) -> list[tuple]:
    """The file loaded into a database of its own; every title's features at 24 hours."""
    settings = load(namespace=f"fc{name}{run_id}")
    migrate(settings)
    try:
        assert asyncio.run(load_file(str(path), settings, say=lambda *a, **k: None))["rejected"] == 0
        client = connect(settings)
        launched = client.execute("SELECT title_id, assumeNotNull(launched_at) FROM titles "
                                  "WHERE launched_at IS NOT NULL")
        out = []
        for title_id, at in sorted(launched):
            rows = [r for r in features.read(client, at + timedelta(hours=24), 24) if r["title_id"] == title_id]
            out.append((title_id, features.vector(rows[0])))
        return out
    finally:
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")


def test_the_scores_read_no_simulator_field(stack, run_id, slate, tmp_path):
    """Every sim_* field stripped from the events, the features (and so the scores) are identical
    (to the last bits of a floating sum, whose parts merge in any order); and they are not empty:
    the slate's titles were seen."""
    events, truth = slate
    stripped = tmp_path / "stripped.ndjson"
    with open(events, "rb") as source, open(stripped, "wb") as out:
        for line in source:
            message = orjson.loads(line)
            value = orjson.loads(message["value"])
            message["value"] = orjson.dumps({k: v for k, v in value.items() if not k.startswith("sim_")}).decode()
            out.write(orjson.dumps(message) + b"\n")
    assert b"sim_" in events.read_bytes() and b"sim_" not in stripped.read_bytes()
    with_sim, without = loaded(stack, run_id, "a", events), loaded(stack, run_id, "b", stripped)
    assert [t for t, _ in with_sim] == [t for t, _ in without]
    for (_, a), (_, b) in zip(with_sim, without):          # floating sums merge in any order: to 1e-9
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    assert len(with_sim) >= 2 and {t for t, _ in with_sim} == {t["title_id"] for t in truth["titles"]}
    viewers = features.FEATURES.index("log_viewers_per_hour")
    assert all(vector[viewers] > 0 for _, vector in with_sim)
