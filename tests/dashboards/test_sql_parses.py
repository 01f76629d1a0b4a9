"""Every piece of SQL that Superset parses passes Superset's own parser: sqlglot with the ClickHouse
dialect (superset/sql/parse.py, SQLStatement._parse), at the version Superset 6.1.0 installs. Each
dataset's query (native filters read the same datasets), the SQL that reproduces each chart, and
each alert's SQL, and every other documented query (SQL Lab parses too). No services: `make check` runs it.

A query that fails here shows in Superset as "Unable to parse SQL" in place of its chart."""
from __future__ import annotations

from importlib.metadata import version

import pytest
import sqlglot
from sqlglot.dialects.dialect import Dialects

from dashboards import alerts, datasets, screens
from dashboards.datasets import QUERIES
from dashboards.layout import chart_sql
from infra.settings import ROOT
from tests.conftest import fill_parameters

SUPERSET_VENV = ROOT / ".state" / "superset-venv"


def superset_sql() -> list[tuple[str, str]]:
    found = [(f"dataset {d.name}", d.sql) for d in datasets.ALL]
    found += [(f"chart {board.slug} / {chart.title}", chart_sql(chart, board))
              for board in screens.ALL for chart in board.charts]
    found += [(f"alert {alert['name']}", alert["sql"]) for alert in alerts.ALERTS]
    # the documented queries that no dataset reads yet: analysts paste them into SQL Lab, which parses too
    read = {d.query for d in datasets.ALL}
    found += [(f"query {path.stem}", fill_parameters(path.read_text().strip().rstrip(";")))
              for path in sorted(QUERIES.glob("*.sql")) if path.stem not in read]
    return found


@pytest.mark.parametrize(("name", "sql"), superset_sql(), ids=lambda v: v if len(v) < 80 else None)
def test_superset_parses_it_and_parses_what_it_renders(name, sql):
    try:
        statements = sqlglot.parse(sql, dialect=Dialects.CLICKHOUSE)
    except sqlglot.ParseError as error:
        pytest.fail(f"{name}: Superset would answer 'Unable to parse SQL': {str(error).splitlines()[0]}")
    assert len(statements) == 1, f"{name}: {len(statements)} statements; a dataset is one SELECT"
    rendered = statements[0].sql(dialect=Dialects.CLICKHOUSE)        # what Superset sends, wrapped
    sqlglot.parse(rendered, dialect=Dialects.CLICKHOUSE)              # and parses again as a subquery


def test_a_join_form_superset_cannot_parse_is_caught():
    """The test's own check: the form six queries used (ANY INNER JOIN) fails, the one they use passes."""
    with pytest.raises(sqlglot.ParseError):
        sqlglot.parse("SELECT a FROM t ANY INNER JOIN u USING a", dialect=Dialects.CLICKHOUSE)
    sqlglot.parse("SELECT a FROM t ANY JOIN u USING a", dialect=Dialects.CLICKHOUSE)


def test_the_parser_is_the_version_superset_runs():
    installed = list(SUPERSET_VENV.glob("lib/python*/site-packages/sqlglot-*.dist-info"))
    if not installed:
        pytest.skip("Superset's venv is not installed here (make up installs it)")
    assert installed[0].name.removesuffix(".dist-info").split("-")[1] == version("sqlglot")
