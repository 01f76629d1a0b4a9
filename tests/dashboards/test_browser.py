"""The six dashboards in a real browser, on the demo's past: log in through Superset's form, open
each dashboard, wait for every chart, fail on a chart that errs, shows no data or no marks, or whose
title is cut off, and save a PNG of each (under the test output directory; README's screenshot is
Loop health's).

Then the test of the test: each class of failure a newcomer met is injected in turn, and the same
check must report it on the chart it hit: a dataset whose SQL Superset cannot parse, ClickHouse
stopped, a dataset over a table that does not exist, an empty table, and a chart the viewer role
may not see. Each injection is undone before the next."""
from __future__ import annotations

import pytest

from dashboards import api, screens, warmup
from infra import services
from tests.dashboards import browser
from warehouse.client import connect


@pytest.fixture
def chromium(tmp_path):
    driver = browser.chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


def problems(driver, settings, dashboard, force: bool = False) -> dict[str, str]:
    """What the browser test reports on one dashboard: each chart that is not 'ok', and each chart
    whose title is cut off at the demo's window size."""
    url = f"{settings.superset_url}/superset/dashboard/{dashboard.slug}-{settings.namespace}/"
    states = browser.open_dashboard(driver, url + ("?force=true" if force else ""), charts=len(dashboard.charts))
    assert set(states) == {chart.title for chart in dashboard.charts}, (dashboard.slug, set(states))
    found = {name: state for name, state in states.items() if state != "ok"}
    driver.set_window_size(1600, 1000)
    found.update({name: "title cut off" for name in browser.cut_titles(driver) if name not in found})
    return found


def test_every_dashboard_renders_every_chart_with_data(loop_namespace, chromium, test_output):
    settings = loop_namespace
    landed = browser.login(chromium, settings.superset_url, settings.superset_admin_user,
                           settings.superset_admin_password)
    assert "/login" not in landed
    failures = {}
    for dashboard in screens.ALL:
        found = problems(chromium, settings, dashboard)
        png = browser.screenshot(chromium, test_output / "dashboards" / f"{dashboard.slug}.png")
        print(f"{dashboard.title}: {len(dashboard.charts)} charts, {png}")
        intro = browser.intro_text(chromium).replace("\n", " ")
        assert dashboard.description.replace("**", "")[:60] in intro, (dashboard.slug, intro)
        failures.update({f"{dashboard.title} / {name}": state for name, state in found.items()})
    assert not failures, "\n".join(f"{name}: {state}" for name, state in failures.items())


def test_every_chart_opens_from_the_cache_its_warm_up_filled(loop_namespace, chromium):
    """dashboards/warmup.py asks for each chart's saved query context (dashboards/layout.py:
    chart_query); a dashboard's frontend builds its own. Unless the two agree to the cache key, the
    warm-up warms entries no screen reads. So: warm a dashboard, open it, and every chart's first
    answer must come from Superset's cache."""
    settings = loop_namespace
    browser.record_chart_data(chromium)
    browser.login(chromium, settings.superset_url, settings.superset_admin_user, settings.superset_admin_password)
    admin = api.session(settings)
    missed = {}
    for dashboard in screens.ALL:
        slug = f"{dashboard.slug}-{settings.namespace}"
        titles = {c["id"]: c["slice_name"] for c in warmup.dashboard_charts(settings, admin, slug)}
        warmed = warmup.warm(settings, [dashboard.slug])
        assert not warmed["failed"], warmed
        browser.open_dashboard(chromium, f"{settings.superset_url}/superset/dashboard/{slug}/",
                               charts=len(dashboard.charts))
        first = {}
        for answer in browser.chart_data_answers(chromium):
            if answer["chart"] in titles:
                first.setdefault(answer["chart"], answer)
        assert set(first) == set(titles), (dashboard.slug, set(titles) - set(first))
        missed.update({f"{dashboard.title} / {titles[chart]}": answer for chart, answer in first.items()
                       if answer.get("status") != 200 or not answer["cached"] or not all(answer["cached"])})
    assert not missed, "\n".join(f"{name}: {answer}" for name, answer in missed.items())


def test_a_wrong_password_stays_on_the_login_form(loop_namespace, chromium):
    from selenium.common.exceptions import TimeoutException

    with pytest.raises(TimeoutException) as refused:
        browser.login(chromium, loop_namespace.superset_url, loop_namespace.superset_admin_user, "not-the-password",
                      timeout=5)
    assert "/login" in chromium.current_url
    assert "/login" in refused.value.msg and "the page says" in refused.value.msg     # where it stuck, and why


# --- the test of the test: each failure class injected, and reported ---------------------------------

@pytest.fixture
def admin(loop_namespace):
    return api.session(loop_namespace)


def dataset(admin, settings, name: str) -> dict:
    found = admin.get(f"{settings.superset_url}/api/v1/dataset/", timeout=30, params={
        "q": f"(filters:!((col:table_name,opr:eq,value:{name}_{settings.namespace})))"}).json()["result"]
    assert found, name
    return admin.get(f"{settings.superset_url}/api/v1/dataset/{found[0]['id']}", timeout=30).json()["result"]


def chart_id(admin, settings, dashboard, title: str) -> int:
    charts = admin.get(f"{settings.superset_url}/api/v1/dashboard/{dashboard.slug}-{settings.namespace}/charts",
                       timeout=30).json()["result"]
    return next(c["id"] for c in charts if c["slice_name"] == title)


def put(admin, url: str, body: dict) -> None:
    response = admin.put(url, json=body, timeout=30)
    assert response.status_code == 200, response.text[:500]


RETENTION = next(c for c in screens.DISTRIBUTION.charts if c.key == "dist_retention")
REJECTED = next(c for c in screens.LOOP_HEALTH.charts if c.key == "live_rejected")


def test_it_reports_a_dataset_whose_sql_superset_cannot_parse(loop_namespace, chromium, admin):
    settings = loop_namespace
    browser.login(chromium, settings.superset_url, settings.superset_admin_user, settings.superset_admin_password)
    found = dataset(admin, settings, RETENTION.dataset.name)
    url = f"{settings.superset_url}/api/v1/dataset/{found['id']}"
    # ClickHouse's ANY … JOIN in the form Superset's parser refused (issue 20: 6 queries did)
    put(admin, url, {"sql": f"SELECT * FROM ({found['sql']}) AS r ANY INNER JOIN (SELECT 1 AS x) AS o USING x"})
    try:
        reported = problems(chromium, settings, screens.DISTRIBUTION)
    finally:
        put(admin, url, {"sql": found["sql"]})
    assert reported.get(RETENTION.title, "").startswith("error"), reported


def test_it_reports_clickhouse_stopped(stack, loop_namespace, chromium):
    settings = loop_namespace
    browser.login(chromium, settings.superset_url, settings.superset_admin_user, settings.superset_admin_password)
    # The stack's own settings: ClickHouse writes its users' grants (the project's database) at start,
    # so starting it again with the namespace's settings would leave the demo's database out.
    clickhouse = services.ClickHouse(stack)
    print(clickhouse.down())
    try:
        reported = problems(chromium, settings, screens.DISTRIBUTION, force=True)
    finally:
        print(clickhouse.up())
    assert all(reported.get(chart.title, "").startswith("error") for chart in screens.DISTRIBUTION.charts), reported


def swap_table(settings, table: str, empty: bool):
    """Hide `table` (renamed); with `empty`, an empty table of the same columns takes its place."""
    client = connect(settings)
    client.execute(f"RENAME TABLE {table} TO {table}_hidden")
    if empty:
        client.execute(f"CREATE TABLE {table} AS {table}_hidden")

    def restore():
        client.execute(f"DROP TABLE IF EXISTS {table}")
        client.execute(f"RENAME TABLE {table}_hidden TO {table}")
        client.disconnect()
    return restore


@pytest.mark.parametrize("empty", [False, True], ids=["a-table-that-does-not-exist", "an-empty-table"])
def test_it_reports_a_missing_table_as_an_error_and_an_empty_one_as_empty(loop_namespace, chromium, empty):
    settings = loop_namespace
    browser.login(chromium, settings.superset_url, settings.superset_admin_user, settings.superset_admin_password)
    restore = swap_table(settings, "events_rejected", empty)     # what "rejected by reason" reads
    try:
        reported = problems(chromium, settings, screens.LOOP_HEALTH, force=True)
    finally:
        restore()
    assert reported.get(REJECTED.title, "").startswith("empty" if empty else "error"), reported


def test_it_reports_a_chart_the_viewer_may_not_see(loop_namespace, chromium, admin, viewer_login):
    """The chart is moved onto a dataset of a second database entry (the same warehouse), which the
    viewer role has no access to; the viewer opens the dashboard."""
    settings = loop_namespace
    base = settings.superset_url
    found = dataset(admin, settings, RETENTION.dataset.name)
    database = admin.post(f"{base}/api/v1/database/", timeout=60, json={
        "database_name": f"hidden_{settings.namespace}", "sqlalchemy_uri": settings.clickhouse_sqlalchemy_uri})
    assert database.status_code == 201, database.text[:500]
    hidden = admin.post(f"{base}/api/v1/dataset/", timeout=60, json={
        "database": database.json()["id"], "schema": settings.clickhouse_db, "sql": found["sql"],
        "table_name": f"hidden_{settings.namespace}"})
    assert hidden.status_code == 201, hidden.text[:500]
    chart = chart_id(admin, settings, screens.DISTRIBUTION, RETENTION.title)
    put(admin, f"{base}/api/v1/chart/{chart}", {"datasource_id": hidden.json()["id"], "datasource_type": "table"})
    try:
        browser.login(chromium, base, *viewer_login)
        reported = problems(chromium, settings, screens.DISTRIBUTION, force=True)
    finally:
        put(admin, f"{base}/api/v1/chart/{chart}", {"datasource_id": found["id"], "datasource_type": "table"})
        admin.delete(f"{base}/api/v1/dataset/{hidden.json()['id']}", timeout=30)
        admin.delete(f"{base}/api/v1/database/{database.json()['id']}", timeout=30)
    assert reported.get(RETENTION.title, "").startswith("error"), reported
