"""`python -m bench.warehouse` at a tiny size: the fill goes through the rollups' views, every
dashboard query is timed and answers, disk is reported, and the namespace is gone afterwards."""
from __future__ import annotations

from bench import warehouse
from bench.stack import leftovers


def test_a_tiny_warehouse_run_times_every_query_and_leaves_nothing(stack):
    lines: list[str] = []
    result = warehouse.run(events=30_000, days=3, repeat=2, say=lines.append)
    assert set(result["queries"]) == set(warehouse.DASHBOARD)
    for name, q in result["queries"].items():
        assert 0 < q["p50_s"] <= q["p95_s"] and q["runs"] == 2, (name, q)
    assert result["queries"]["starts per minute by title, last 60 min"]["rows"] > 0
    assert result["queries"][warehouse._TITLES_30D]["rows"] > 0          # the closed days' reach was computed
    assert result["reach_windows"] > 0
    assert set(result["before"]) <= set(result["queries"])
    assert set(result["superset"]) == set(warehouse.DASHBOARD)          # every query, as a Superset chart
    for name, q in result["superset"].items():
        assert "error" not in q and 0 < q["p50_s"] <= q["p95_s"], (name, q)
    assert result["superset"][warehouse._TITLES_30D]["rows"] == result["queries"][warehouse._TITLES_30D]["rows"]
    assert result["rollups_fed"] and all(result["rollups_fed"].values()), result["rollups_fed"]
    assert result["disk"]["tables"]["events_raw"]["rows"] == 30_000
    assert result["disk"]["bytes_per_event"] > 0
    table = warehouse.table(result)
    assert "| starts per minute by title, last 60 min |" in table and "bytes per event" in table
    assert "through Superset's chart data API" in table
    assert leftovers(stack, [result["namespace"]]) == []
