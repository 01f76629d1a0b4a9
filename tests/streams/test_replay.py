"""python -m streams.replay: the golden set's metrics, lost from the parts and rollups, rebuilt
from events_raw to exactly what the stream wrote (expected.json)."""
from __future__ import annotations

import pytest

from streams.replay import replay
from tests import golden
from warehouse.client import connect

VIEWS = ["title_metrics_1m", "title_metrics_1h", "title_metrics_1d", "episode_metrics_1m", "episode_metrics_1d",
         "segment_metrics_1m", "segment_metrics_1d", "kpis_1d"]


def snapshot(client) -> dict:
    return {view: sorted(client.execute(f"SELECT * FROM {view}"), key=repr) for view in VIEWS}


def same(a: dict, b: dict) -> bool:
    """Equal rows, floats to 1e-6 relative (sums in another order differ in the last digits)."""
    return all(len(a[v]) == len(b[v]) and all(len(x) == len(y) and all(golden._same(p, q) for p, q in zip(x, y))
                                               for x, y in zip(a[v], b[v])) for v in VIEWS)


def test_a_replay_rebuilds_lost_days_exactly_as_the_stream_wrote_them(pipeline):
    settings = pipeline()
    client = connect(settings)
    golden.replay(settings, client)
    as_streamed = snapshot(client)
    with pytest.raises(RuntimeError, match="workers are running"):
        replay(settings)
    for worker in pipeline.workers:
        worker.down()
    days = [p for (p,) in client.execute("SELECT DISTINCT partition FROM system.parts WHERE database = "
                                         "currentDatabase() AND table = 'title_metrics_1m_parts' AND active")]
    for day in days:                                   # the metrics are lost (a bad deploy, say)
        for table in ("title_metrics_1m_parts", "segment_metrics_1m_parts", "title_metrics_1h_rollup",
                      "segment_metrics_1m_rollup", "episode_metrics_1d_rollup"):
            client.execute(f"ALTER TABLE {table} DROP PARTITION {day}")
    assert not same(snapshot(client), as_streamed)

    result = replay(settings, say=lambda _: None)

    assert result["events"] == golden.expected()["events_raw_total"]
    assert same(snapshot(client), as_streamed)
    assert golden.differences(client) == []
    replay(settings, say=lambda _: None)               # twice changes nothing
    assert same(snapshot(client), as_streamed)
