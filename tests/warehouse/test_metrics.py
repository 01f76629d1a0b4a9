"""Each title metric is declared once (warehouse/metrics.py); everything else is checked against it.

- the schema all the migrations produce (chdb): the parts table and its probe, each rollup, each
  rollup's materialized view (its SELECT, column for column, as warehouse.maintain re-runs it into
  the rollup by position) and each title_metrics_* view, with the declared type and aggregate, and
  no counter that is not declared;
- `python -m warehouse new-metric`'s migration: applied after the others for a metric declared
  last, the same checks hold and the metric reaches the views;
- the row builder (streams/batch.py): TITLE_RULES is the declaration's, every attribute a metric
  sums is a field of its event, and each rule fills its counter;
- the contract: every counter of metrics-v1.md's title_metrics_1m is declared (the project may add more).
"""
from __future__ import annotations

import re
from datetime import datetime

import orjson
import pytest

from schemas.compiled import STRUCTS
from schemas.examples import EXAMPLES
from streams import batch
from streams.state import PartitionMemory
from tests.warehouse import current
from warehouse import dictionary, metrics
from warehouse.metrics import DISTINCT, GRAINS, PARTS, TITLE_METRICS, VIEWERS_AFTER, Metric
from warehouse.tables import TABLES, TITLE_COUNTERS

session = pytest.importorskip("chdb.session", reason="chdb is in the test extras: `make install`")

KEYS = [("window_start", "DateTime"), ("title_id", "String")]
NOT_COUNTERS = {"window_start", "title_id", "user_id", "src_topic", "src_partition", "src_first_offset",
                "src_last_offset", "written_at"}
EXTRA = Metric("test_extra_sum", "Float64", (("purchase", "coins"),))   # what a new metric looks like


@pytest.fixture(scope="module")
def chdb(tmp_path_factory):
    s = session.Session(str(tmp_path_factory.mktemp("chdb") / "data"))
    yield s
    s.close()


def problems(s, database: str, declared=TITLE_METRICS) -> list[str]:
    """Where the schema in `database` disagrees with the declaration."""
    found = []

    def expect(what, got, wanted):
        if got == wanted:
            return
        have, want = dict(got), dict(wanted)
        missing = {n: t for n, t in want.items() if have.get(n) != t}
        extra = {n: t for n, t in have.items() if want.get(n) != t}
        found.append(f"{what}: lacks {missing}, has undeclared {extra}" if missing or extra else
                     f"{what}: column order {list(have)} where the declaration gives {list(want)}")

    parts = current.columns(s, database, PARTS)
    expect(f"{PARTS} counters", dict(c for c in parts if c[0] not in NOT_COUNTERS),   # inserted by name
           {m.name: m.type for m in declared})
    expect(f"{PARTS}_probe", current.columns(s, database, f"{PARTS}_probe"), parts)
    distinct, agg, args, _ = DISTINCT
    rollup = [*KEYS, ("parts_rows", "AggregateFunction(count)"),
              *((m.name, f"AggregateFunction({m.aggregate}, {m.type})") for m in declared),
              (distinct, f"AggregateFunction({agg}, {args})")]
    view = [*KEYS]
    for m in declared:
        view += [(m.name, m.type)] + ([(distinct, "UInt64")] if m.name == VIEWERS_AFTER else [])
    for grain in GRAINS:
        table = f"title_metrics_{grain}_rollup"
        expect(table, current.columns(s, database, table), rollup)
        select = current.as_select(s, database, f"{table}_mv")
        expect(f"{table}_mv's SELECT", [tuple(r[:2]) for r in current.rows(s, f"DESCRIBE TABLE ({select})")], rollup)
        expect(f"title_metrics_{grain}", current.columns(s, database, f"title_metrics_{grain}"), view)
        merged = current.as_select(s, database, f"title_metrics_{grain}")
        for m in declared:
            if not re.search(rf"\b{m.aggregate}Merge\({m.name}\) AS {m.name}\b", merged):
                found.append(f"title_metrics_{grain} does not read {m.name} with {m.aggregate}Merge")
    return found


def test_the_migrations_schema_is_the_declarations(chdb):
    current.migrate(chdb, "drama_declared")
    found = problems(chdb, "drama_declared")
    assert not found, "the schema the migrations produce is not the declaration's:\n" + "\n".join(found)


def test_new_metric_writes_a_migration_that_makes_the_schema_the_declarations(chdb):
    declared = (*TITLE_METRICS, EXTRA)
    current.migrate(chdb, "drama_new_metric")
    current.run(chdb, metrics.migration([EXTRA.name], declared))
    found = problems(chdb, "drama_new_metric", declared)
    assert not found, "new-metric's migration does not give the declaration's schema:\n" + "\n".join(found)
    columns = [*TABLES[PARTS].columns, EXTRA.name]
    row = {"window_start": "2026-01-05 12:00:00", "title_id": "t", "purchases": 1, EXTRA.name: 2.5}
    chdb.query(f"INSERT INTO {PARTS} ({', '.join(columns)}) VALUES ("
               + ", ".join(repr(row.get(c, 0 if c not in ("user_id", "src_topic") else "")) for c in columns) + ")")
    for grain in GRAINS:
        assert current.rows(chdb, f"SELECT purchases, {EXTRA.name} FROM title_metrics_{grain}") == [["1", "2.5"]]
    with pytest.raises(ValueError, match="last metrics declared"):
        metrics.migration(["likes"], declared)
    with pytest.raises(ValueError, match="declare"):
        metrics.migration(["nothing_declared"], declared)


def test_the_row_builder_counts_what_the_declaration_says():
    assert TITLE_COUNTERS == metrics.COUNTERS
    assert batch.TITLE_RULES == metrics.title_rules()
    examples = {e.to_dict()["event_type"]: e for e in EXAMPLES}
    for m in TITLE_METRICS:
        for event, attribute in m.sources:
            assert event in STRUCTS, (m.name, event)
            assert attribute is None or attribute in STRUCTS[event].__struct_fields__, (m.name, event, attribute)
            if m.where:             # streams/batch.py title_columns applies the condition itself
                continue
            example = examples[event]
            part = batch.classify(example.TOPIC, 0, [batch.Message(example.TOPIC, 0, 0, None,
                                                                   orjson.dumps(example.to_dict()))],
                                  PartitionMemory(), {}, now=datetime(2026, 1, 5, 12, 1))
            built = batch.title_columns([part], {})
            value = built[3 + TITLE_COUNTERS.index(m.name)][0]
            assert value == (1 if attribute is None else getattr(example, attribute)), (m.name, event, value)
    with pytest.raises(ValueError, match="one counter per event type"):
        metrics.title_rules((*TITLE_METRICS, Metric("ratings_again", "UInt64", (("rating", None),))))


def test_every_counter_of_the_contract_is_declared_and_described():
    contract = dictionary.CONTRACT.read_text()
    section = contract.split("### `title_metrics_1m`", 1)[1].split("\n### ", 1)[0]
    named = {name for line in section.splitlines() if line.startswith("|")
             for name in re.findall(r"`(\w+)`", line.split("|")[2])}
    assert named - {DISTINCT[0]} <= set(metrics.METRICS)     # the project may count more than the contract asks
    assert "unlocks_rewarded_ad" in named
    assert metrics.meaning(metrics.METRICS["rating_stars_sum"]) == "sum of `stars` of `rating`"
    assert metrics.meaning(metrics.METRICS["unlocks_coins"]) == "count of `episode_unlocked` with `method` = coins"
