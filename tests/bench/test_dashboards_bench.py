"""`python -m bench.dashboards` on the real stack: screens through Superset's warm chart-data cache
read nothing from ClickHouse; forced refreshes query it for every chart."""
from __future__ import annotations

import json

from bench import dashboards


def test_screens_through_the_cache_reach_clickhouse_less_than_forced_ones(stack, capsys):
    assert dashboards.main(["--screens", "4", "--rounds", "1", "--no-save"]) == 0
    out = capsys.readouterr().out
    runs = {r["cache"]: r for r in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}
    warm, forced = runs["warm"], runs["forced"]
    # a warm cache: each request costs only the driver's 2 connection questions (2 more SELECTs allowed for
    # whatever else runs on the server meanwhile); forced, each chart's query comes on top of them
    assert warm["clickhouse_selects"] <= 2 * warm["requests"] + 2, runs
    assert forced["clickhouse_selects"] >= 3 * forced["requests"], runs
