"""The five dashboards in a real browser, after the simulator has run: log in through Superset's
form, open each dashboard, wait for every chart, fail on a chart that errs or shows no data, and
save a PNG of each (under the test output directory; README's screenshot is Loop health's)."""
from __future__ import annotations

import pytest

from dashboards import screens
from tests.dashboards import browser


@pytest.fixture
def chromium(tmp_path):
    driver = browser.chromium(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()


def test_every_dashboard_renders_every_chart_with_data(loop_namespace, chromium, test_output):
    settings = loop_namespace
    landed = browser.login(chromium, settings.superset_url, settings.superset_admin_user,
                           settings.superset_admin_password)
    assert "/login" not in landed
    failures = {}
    for dashboard in screens.ALL:
        url = f"{settings.superset_url}/superset/dashboard/{dashboard.slug}-{settings.namespace}/"
        states = browser.open_dashboard(chromium, url, charts=len(dashboard.charts))
        png = browser.screenshot(chromium, test_output / "dashboards" / f"{dashboard.slug}.png")
        print(f"{dashboard.title}: {len(states)} charts, {png}")
        assert set(states) == {chart.title for chart in dashboard.charts}, (dashboard.slug, set(states))
        intro = browser.intro_text(chromium).replace("\n", " ")
        assert dashboard.description.replace("**", "")[:60] in intro, (dashboard.slug, intro)
        failures.update({f"{dashboard.title} / {name}": state for name, state in states.items() if state != "ok"})
    assert not failures, "\n".join(f"{name}: {state}" for name, state in failures.items())


def test_a_wrong_password_stays_on_the_login_form(loop_namespace, chromium):
    from selenium.common.exceptions import TimeoutException

    with pytest.raises(TimeoutException):
        browser.login(chromium, loop_namespace.superset_url, loop_namespace.superset_admin_user, "not-the-password",
                      timeout=5)
    assert "/login" in chromium.current_url
