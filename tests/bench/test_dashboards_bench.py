"""`python -m bench.dashboards` on the real stack: with the warm-up on (Celery beat, every 10 s), no screen
misses Superset's cache and ClickHouse answers fewer chart queries than when every screen is forced;
the unwarmed peer's queries miss the expired cache."""
from __future__ import annotations

import json

from bench import dashboards


def test_warmed_screens_never_miss_and_reach_clickhouse_less_than_forced_ones(stack, capsys):
    assert dashboards.main(["--screens", "4", "--cycles", "1", "--no-save"]) == 0
    out = capsys.readouterr().out
    runs = {r["phase"]: r for r in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}
    warmed, unwarmed, forced = runs["warmed"], runs["unwarmed"], runs["forced"]
    assert warmed["misses"] == 0, runs
    assert unwarmed["misses"] >= unwarmed["charts_per_screen"], runs       # the first ask of each chart at least
    assert forced["chart_queries"] >= forced["requests"], runs
    assert warmed["chart_queries"] < forced["chart_queries"], runs
