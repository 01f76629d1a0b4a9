"""The dashboards as code render into Superset's import format, linked by UUID, one copy per namespace."""
from pathlib import Path

import pytest
import yaml

from dashboards import datasets, screens
from dashboards.alerts import check_webhook, definitions
from dashboards.layout import FILTER_COLUMNS, chart_sql, object_uuid
from dashboards.provision import render_assets
from infra.settings import load

# Columns as the warehouse returns them; enough for rendering (provision reads the real ones).
COLUMNS = {d.name: [("window_start", "DateTime"), ("title_name", "String"), ("trope", "String")]
           if d.time_column else [("title_name", "String")] for d in datasets.ALL}


def load_all(root: Path, kind: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted((root / kind).rglob("*.yaml"))]


@pytest.fixture
def rendered(tmp_path):
    def render(**overrides) -> Path:
        settings = load(clickhouse_analyst_password_env="s3cret", clickhouse_port=9999, **overrides)
        return render_assets(settings, tmp_path / (settings.namespace or "default"), COLUMNS)
    return render


def test_six_dashboards_every_link_resolves_and_every_chart_has_a_uuid(rendered):
    root = rendered()
    databases = {d["uuid"] for d in load_all(root, "databases")}
    found = load_all(root, "datasets")
    charts = load_all(root, "charts")
    dashboards = load_all(root, "dashboards")
    assert {d["slug"] for d in dashboards} == {"loop-health", "monetization", "content", "study-model", "distribution",
                                                  "hit-watch"}
    assert all(d["database_uuid"] in databases for d in found)
    assert all(c["dataset_uuid"] in {d["uuid"] for d in found} for c in charts)
    for dashboard in dashboards:
        nodes = [n for n in dashboard["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"]
        assert nodes and all(n["meta"]["uuid"] in {c["uuid"] for c in charts} for n in nodes)
        # Superset's importer maps charts through meta.chartId and silently skips a dashboard without it.
        assert all(isinstance(n["meta"].get("chartId"), int) for n in nodes)
        assert sum(n["meta"]["width"] for n in nodes) <= 12 * len(dashboard["position"]["GRID_ID"]["children"])
    loop = next(d for d in dashboards if d["slug"] == "loop-health")
    assert loop["metadata"]["refresh_frequency"] == 10
    time_filter = loop["metadata"]["native_filter_configuration"][0]
    assert time_filter["filterType"] == "filter_time" and "-60, minute" in time_filter["defaultDataMask"][
        "filterState"]["value"]


def test_each_dashboard_opens_with_a_text_that_says_how_to_read_it(rendered):
    by_slug = {d.slug: d for d in screens.ALL}
    for dashboard in load_all(rendered(), "dashboards"):
        position = dashboard["position"]
        first_row = position[position["GRID_ID"]["children"][0]]
        (intro,) = [position[child] for child in first_row["children"]]
        assert intro["type"] == "MARKDOWN" and intro["meta"]["code"] == by_slug[dashboard["slug"]].description
        assert len(intro["meta"]["code"]) > 100, dashboard["slug"]


def test_each_dashboard_filters_on_the_columns_its_datasets_have(rendered):
    root = rendered()
    for dashboard in load_all(root, "dashboards"):
        filters = {f["name"]: f for f in dashboard["metadata"]["native_filter_configuration"]}
        # COLUMNS gives every dataset title_name, and trope to the time-keyed ones only
        assert {"Time range", "Title", "Trope"} == set(filters), (dashboard["slug"], set(filters))
        assert not set(filters) - {"Time range", *(label for _, label in FILTER_COLUMNS)}
        # a filter leaves out the charts whose dataset lacks its column
        assert filters["Title"]["scope"]["excluded"] == []


def test_the_database_uri_is_rendered_from_settings_and_never_committed(rendered):
    rendered_db = load_all(rendered(), "databases")[0]
    # Superset connects as the read-only analyst, never as the admin
    assert rendered_db["sqlalchemy_uri"] == "clickhouse+native://drama_analyst:s3cret@127.0.0.1:9999/drama"
    assert "s3cret" not in "".join(p.read_text() for p in Path(datasets.__file__).parent.glob("*.py"))


def test_a_namespace_gets_its_own_objects_and_database(rendered):
    default, ns = rendered(), rendered(namespace="t1")
    uuids = lambda root: {x["uuid"] for kind in ("charts", "datasets", "dashboards", "databases")  # noqa: E731
                          for x in load_all(root, kind)}
    assert not uuids(default) & uuids(ns)
    assert {d["slug"] for d in load_all(ns, "dashboards")} >= {"loop-health-t1"}
    assert load_all(ns, "databases")[0]["database_name"] == "drama_t1"
    assert uuids(default) == uuids(rendered())   # the same code renders the same objects: imports update in place
    assert object_uuid("", "chart", "x") != object_uuid("t1", "chart", "x")


def test_every_ratio_metric_divides_sums_and_parenthesizes_its_numerator():
    for dataset in datasets.ALL:
        for metric in dataset.metrics:
            if "nullIf(" in metric.expression:
                numerator = metric.expression.split(" / nullIf(")[0]
                assert numerator.startswith("(") and numerator.endswith(")"), (dataset.name, metric.name)


def test_every_chart_has_sql_that_reproduces_it():
    for dashboard in screens.ALL:
        for chart in dashboard.charts:
            sql = chart_sql(chart, dashboard)
            assert chart.dataset.sql in sql or chart.dataset.sql.splitlines()[0] in sql
            for name in chart.metrics:
                assert chart.dataset.metric(name).expression in sql


def test_alerts_post_over_https_or_to_this_machine():
    assert check_webhook("https://hooks.example.com/x") and check_webhook("http://127.0.0.1:9/x")
    with pytest.raises(ValueError, match="https"):
        check_webhook("http://hooks.example.com/x")
    inactive = definitions(load(namespace="t2", alert_webhook_url=""))
    assert len(inactive) == 5 and all(a["name"].endswith("[t2]") and not a["active"] for a in inactive)
    active = definitions(load(alert_webhook_url="https://hooks.example.com/x"))
    assert all(a["active"] and a["webhook"] == "https://hooks.example.com/x" for a in active)


def test_every_chart_is_saved_with_the_query_its_dashboard_asks_for_and_a_cache_lifetime(rendered):
    """The warm-up runs each chart's saved query context; a live dashboard's charts outlive its refresh."""
    import json

    from dashboards.layout import cache_timeout, chart_query

    charts = {c["uuid"]: c for c in load_all(rendered(), "charts")}
    for dashboard in screens.ALL:
        for chart in dashboard.charts:
            saved = charts[object_uuid("", "chart", chart.key)]
            assert json.loads(saved["query_context"])["queries"] == [chart_query(chart, dashboard)]
            assert saved["cache_timeout"] == cache_timeout(dashboard)
            assert saved["cache_timeout"] > (dashboard.refresh_s or 300)


def test_celery_beat_warms_every_tag_a_dashboard_gets():
    from dashboards.layout import WARM_TAGS, warm_tag

    config = (Path(__file__).resolve().parents[2] / "infra" / "superset" / "superset_config.py").read_text()
    for dashboard in screens.ALL:
        assert f'"tags": ["{warm_tag(dashboard)}"]' in config, warm_tag(dashboard)
    assert "timedelta(seconds=10)" in config and 'crontab(minute="*/5")' in config, WARM_TAGS
