"""`python -m bench.dashboards` on the real stack: many screens through Superset's chart-data cache
reach ClickHouse far less often than forced refreshes do."""
from __future__ import annotations

import json

from bench import dashboards


def test_screens_through_the_cache_reach_clickhouse_less_than_forced_ones(stack, capsys):
    assert dashboards.main(["--screens", "4", "--rounds", "1", "--no-save"]) == 0
    out = capsys.readouterr().out
    runs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    cached, forced = (next(r for r in runs if r["force"] is f) for f in (False, True))
    assert forced["clickhouse_selects"] >= forced["requests"]        # every forced request is a query
    assert cached["clickhouse_selects"] < forced["clickhouse_selects"], runs
    assert cached["clickhouse_marks_read"] <= forced["clickhouse_marks_read"], runs
