"""Superset on the simulated namespace: a chart's numbers through the chart data API equal SQL
written by hand on the warehouse; the viewer role sees dashboards but not SQL Lab; and the
security defaults (CSP, CSRF, no default password) hold."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from dashboards import api
from warehouse.client import connect


@pytest.fixture(scope="module")
def admin(loop_namespace):
    return api.session(loop_namespace, loop_namespace.superset_admin_user, loop_namespace.superset_admin_password)


def dashboard_charts(session, settings, slug: str) -> dict[str, dict]:
    response = session.get(f"{settings.superset_url}/api/v1/dashboard/{slug}-{settings.namespace}/charts", timeout=30)
    assert response.status_code == 200, response.text
    return {chart["slice_name"]: chart for chart in response.json()["result"]}


def chart_data(session, settings, dataset_id: int, metrics: list[str], since: datetime, until: datetime,
               grain: str | None = "PT1M") -> list[dict]:
    columns = [{"timeGrain": grain, "columnType": "BASE_AXIS", "sqlExpression": "window_start",
                "label": "window_start", "expressionType": "SQL"}] if grain else []
    query = {"datasource": {"id": dataset_id, "type": "table"}, "force": True, "result_format": "json",
             "result_type": "full", "queries": [{
                 "columns": columns, "metrics": metrics, "row_limit": 10000, "orderby": [],
                 "filters": [{"col": "window_start", "op": "TEMPORAL_RANGE",
                              "val": f"{since:%Y-%m-%dT%H:%M:%S} : {until:%Y-%m-%dT%H:%M:%S}"}]}]}
    response = session.post(f"{settings.superset_url}/api/v1/chart/data", json=query, timeout=60)
    assert response.status_code == 200, response.text[:1000]
    return response.json()["result"][0]["data"]


def test_loop_health_revenue_and_paywall_conversion_equal_the_sql_on_the_warehouse(loop_namespace, admin):
    settings = loop_namespace
    charts = dashboard_charts(admin, settings, "loop-health")
    dataset_id = int(charts["Feedback · revenue per minute, IAP and ads"]["form_data"]["datasource"].split("__")[0])
    until = datetime.now(timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
    since = until - timedelta(minutes=60)

    per_minute = chart_data(admin, settings, dataset_id, ["iap_usd", "ad_usd"], since, until)
    from_api = {datetime.fromtimestamp(row["window_start"] / 1000, timezone.utc).replace(tzinfo=None):
                (row["iap_usd"], row["ad_usd"]) for row in per_minute}
    client = connect(settings)
    rows = client.execute(
        "SELECT window_start, sum(iap_revenue_usd), sum(ad_revenue_usd) FROM title_metrics_1m "
        "WHERE window_start >= %(since)s AND window_start < %(until)s GROUP BY window_start",
        {"since": since, "until": until})
    from_sql = {minute: (iap, ad) for minute, iap, ad in rows}
    assert len(from_sql) >= 30, "the simulator's last hour should fill most minutes"
    assert from_api.keys() == from_sql.keys()
    for minute, (iap, ad) in from_sql.items():
        assert from_api[minute] == pytest.approx((iap, ad), abs=1e-6), minute

    [conversion] = chart_data(admin, settings, dataset_id, ["paywall_conversion"], since, until, grain=None)
    [(expected,)] = client.execute(
        "SELECT sum(unlocks_coins + unlocks_subscription + unlocks_rewarded_ad) / sum(paywalls_shown) "
        "FROM title_metrics_1m WHERE window_start >= %(since)s AND window_start < %(until)s",
        {"since": since, "until": until})
    # Not bounded by 1: metrics-v1 divides every unlock by the paywalls shown, and a subscriber or a payer
    # with coins unlocks later episodes without a paywall (1.11 in one full run's hour).
    assert expected > 0 and conversion["paywall_conversion"] == pytest.approx(expected, abs=1e-9)


@pytest.fixture(scope="module")
def viewer(loop_namespace, viewer_login):
    return api.session(loop_namespace, *viewer_login)


def test_the_viewer_sees_the_dashboards_and_their_data_but_not_sql_lab(loop_namespace, admin, viewer):
    settings = loop_namespace
    listed = viewer.get(f"{settings.superset_url}/api/v1/dashboard/", timeout=30,
                        params={"q": "(page_size:100)"}).json()["result"]
    slugs = {d["slug"] for d in listed}
    assert {f"{s}-{settings.namespace}" for s in ("loop-health", "monetization", "content", "study-model",
                                                  "distribution")} <= slugs
    charts = dashboard_charts(viewer, settings, "loop-health")
    dataset_id = int(charts["Feedback · revenue per minute, IAP and ads"]["form_data"]["datasource"].split("__")[0])
    until = datetime.now(timezone.utc).replace(tzinfo=None)
    assert chart_data(viewer, settings, dataset_id, ["starts"], until - timedelta(hours=2), until, grain=None)

    database_id = admin.get(f"{settings.superset_url}/api/v1/database/", timeout=30, params={
        "q": f"(filters:!((col:database_name,opr:eq,value:{settings.clickhouse_db})))"}).json()["result"][0]["id"]
    sql = {"database_id": database_id, "sql": "SELECT count() FROM events_raw", "runAsync": False}
    as_admin = admin.post(f"{settings.superset_url}/api/v1/sqllab/execute/", json=sql, timeout=60)
    assert as_admin.status_code == 200, as_admin.text[:500]        # the endpoint works …
    as_viewer = viewer.post(f"{settings.superset_url}/api/v1/sqllab/execute/", json=sql, timeout=60)
    assert as_viewer.status_code in (401, 403), as_viewer.text[:500]  # … but not for the viewer
    page = viewer.get(f"{settings.superset_url}/sqllab/", timeout=30, allow_redirects=False)
    assert page.status_code in (302, 401, 403), page.status_code


def test_security_defaults(loop_namespace):
    """A content security policy on every page, CSRF on, and no default admin password."""
    settings = loop_namespace
    page = requests.get(f"{settings.superset_url}/login/", timeout=30)
    policy = page.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "script-src 'self'" in policy, policy
    # CSRF: a logged-in session that changes something without the CSRF token is refused
    session = api.session(settings, settings.superset_admin_user, settings.superset_admin_password)
    del session.headers["X-CSRFToken"]
    refused = session.post(f"{settings.superset_url}/api/v1/dashboard/", json={"dashboard_title": "csrf"}, timeout=30)
    assert refused.status_code == 400 and "CSRF token is missing" in refused.text, refused.text[:300]
    # No default password: admin/admin does not log in; the generated one does
    assert settings.superset_admin_password not in ("admin", "")
    wrong = requests.post(f"{settings.superset_url}/api/v1/security/login", timeout=30, json={
        "username": settings.superset_admin_user, "password": "admin", "provider": "db"})
    assert wrong.status_code == 401


def test_the_demo_has_a_read_only_login_that_sees_the_dashboards_but_not_sql_lab(stack):
    """`make dashboards` (run by make up and make demo) makes the viewer login that make demo prints."""
    settings = stack
    assert settings.superset_viewer_password, "no viewer password was generated"
    viewer = api.session(settings, settings.superset_viewer_user, settings.superset_viewer_password)
    listed = viewer.get(f"{settings.superset_url}/api/v1/dashboard/", timeout=30,
                        params={"q": "(page_size:100)"}).json()["result"]
    assert "loop-health" in {d["slug"] for d in listed}
    database_id = api.session(settings).get(f"{settings.superset_url}/api/v1/database/", timeout=30, params={
        "q": f"(filters:!((col:database_name,opr:eq,value:{settings.clickhouse_db})))"}).json()["result"][0]["id"]
    refused = viewer.post(f"{settings.superset_url}/api/v1/sqllab/execute/", timeout=60, json={
        "database_id": database_id, "sql": "SELECT 1", "runAsync": False})
    assert refused.status_code in (401, 403), refused.text[:500]
