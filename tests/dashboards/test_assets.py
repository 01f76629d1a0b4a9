"""The assets under dashboards/assets/ are Superset's export format, linked by UUID."""
from pathlib import Path

import yaml

from dashboards.provision import ASSETS, render_assets
from infra.settings import load


def load_all(kind: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted((ASSETS / kind).rglob("*.yaml"))]


def test_every_link_resolves_and_every_dashboard_chart_has_a_uuid():
    databases = {d["uuid"] for d in load_all("databases")}
    datasets = load_all("datasets")
    charts = load_all("charts")
    assert all(d["database_uuid"] in databases for d in datasets)
    assert all(c["dataset_uuid"] in {d["uuid"] for d in datasets} for c in charts)
    for dashboard in load_all("dashboards"):
        nodes = [n for n in dashboard["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"]
        assert nodes and all(n["meta"]["uuid"] in {c["uuid"] for c in charts} for n in nodes)
        # Superset's importer maps charts through meta.chartId and silently skips a dashboard without it.
        assert all(isinstance(n["meta"].get("chartId"), int) for n in nodes)


def test_the_database_uri_is_rendered_from_settings_and_never_committed(tmp_path: Path):
    committed = (ASSETS / "databases" / "drama.yaml").read_text()
    assert "${SQLALCHEMY_URI}" in committed and "clickhouse+native://" not in committed
    settings = load(clickhouse_analyst_password_env="s3cret", clickhouse_port=9999)
    rendered = yaml.safe_load((render_assets(settings, tmp_path / "a") / "databases" / "drama.yaml").read_text())
    # Superset connects as the read-only analyst, never as the admin
    assert rendered["sqlalchemy_uri"] == "clickhouse+native://drama_analyst:s3cret@127.0.0.1:9999/drama"


def test_provisioning_creates_the_dashboard_with_its_charts(superset):
    response = superset.get(f"{superset.base}/api/v1/dashboard/drama-loop/charts", timeout=30)
    assert response.status_code == 200, response.text
    names = {chart["slice_name"] for chart in response.json()["result"]}
    assert names == {chart["slice_name"] for chart in load_all("charts")}
