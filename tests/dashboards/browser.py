"""Superset in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver (`make chromium` installs both)."""
from __future__ import annotations

import time
from pathlib import Path

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Without the background-networking flags Chromium keeps calling Google's hosts, which a closed
# network refuses; --no-sandbox because CI runs as root.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1600,1000")
CHART = '[data-test="chart-grid-component"]'

# What each chart shows, decided in the page from its body alone (the chart container under the
# header, whose icons are svgs too), by the DOM rather than by its words:
#   error    an alert of any kind (Superset's ErrorAlert is an antd Alert: role="alert", .ant-alert-*)
#   loading  a loading indicator, or no body yet
#   empty    the empty state (antd Empty), a big number that says "No data", a table with no rows or
#            whose every number is N/A or zero, a canvas or svg chart with no mark drawn
#   ok       anything else
# A mark is ink of a series' colour: a canvas (ECharts) pixel, or an svg shape's fill or stroke, whose
# channels differ by more than INK_SATURATION (axes, grid lines and labels are grey).
CHART_STATE_JS = """
const node = arguments[0], ink = arguments[1];
const body = node.querySelector('.dashboard-chart');   // under the header: the chart, or what stands for it
const text = el => (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
if (!body) return ['loading', ''];
const alert = body.querySelector('[role="alert"], .ant-alert, [data-test="error-message"], .alert-danger');
if (alert) return ['error', text(body)];
if (body.querySelector('[data-test="loading-indicator"], .loading, .ant-spin-spinning')) return ['loading', ''];
if (body.querySelector('.ant-empty, [data-test="empty-state"]')) return ['empty', text(body)];
const bigNumber = body.querySelector('.header-line');
if (bigNumber) {
  const value = text(bigNumber);
  return /^(No data|N\\/A|NaN|)$/.test(value) ? ['empty', 'big number: ' + value] : ['ok', value];
}
const cells = [...body.querySelectorAll('tbody td')].map(text);
if (body.querySelector('table')) {
  if (!cells.length) return ['empty', 'a table with no rows'];
  const numbers = cells.filter(c => /^(N\\/A|NaN|null|[-+$]?[\\d.,]+\\s*[%×x]?[kMGTBnµmp]?)$/.test(c));
  const zero = c => /^(N\\/A|NaN|null|[-+$]?[0.,]+\\s*[%×x]?)$/.test(c);
  if (numbers.length && numbers.every(zero)) return ['empty', 'every number in the table is N/A or zero'];
  return ['ok', cells.slice(0, 6).join(' | ')];
}
const saturated = (r, g, b) => Math.max(r, g, b) - Math.min(r, g, b) > ink;
let marks = 0, drawn = false;
for (const canvas of body.querySelectorAll('canvas')) {
  drawn = true;
  if (!canvas.width || !canvas.height) continue;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 128 && saturated(data[i], data[i + 1], data[i + 2])) marks++;
  }
}
for (const shape of body.querySelectorAll('svg path, svg rect, svg circle, svg polyline')) {
  drawn = true;
  const style = getComputedStyle(shape);
  for (const paint of [style.fill, style.stroke]) {
    const rgb = (paint.match(/rgba?\\(([^)]+)\\)/) || [, ''])[1].split(',').map(Number);
    if (rgb.length >= 3 && (rgb.length < 4 || rgb[3] > 0.5) && saturated(rgb[0], rgb[1], rgb[2])) { marks++; break; }
  }
}
if (drawn) return marks > 0 ? ['ok', marks + ' marks'] : ['empty', 'a chart with no marks'];
return text(body) ? ['ok', text(body).slice(0, 80)] : ['loading', ''];
"""
INK_SATURATION = 60


# Each chart data answer the page receives: its chart (the slice_id in the request's form_data) and
# whether Superset served it from its cache (is_cached is true only then). Installed through the
# DevTools protocol before any script of a page runs, so it sees a dashboard's first requests.
RECORD_CHART_DATA_JS = """
window.__chartData = [];
const fetchFirst = window.fetch;
window.fetch = async function (input, init) {
  const url = new URL(typeof input === 'string' ? input : input.url, location.href);
  const answer = await fetchFirst.apply(this, arguments);
  if (url.pathname.startsWith('/api/v1/chart/data')) {
    const formData = JSON.parse(url.searchParams.get('form_data') || '{}');
    answer.clone().json().then(
      body => window.__chartData.push({chart: formData.slice_id || null, status: answer.status,
                                       cached: (body.result || []).map(r => r.is_cached === true)}),
      error => window.__chartData.push({chart: formData.slice_id || null, status: answer.status,
                                        error: String(error)}));
  }
  return answer;
};
"""


def record_chart_data(driver) -> None:
    """From the next page on, record each chart data answer (chart_data_answers reads them)."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_CHART_DATA_JS})


def chart_data_answers(driver) -> list[dict]:
    """The current page's chart data answers so far: [{chart, status, cached: [bool per query]}]."""
    return driver.execute_script("return window.__chartData || []")


def chromium(user_data_dir: Path):
    """A fresh headless Chromium with its own profile directory."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def login(driver, base_url: str, username: str, password: str, timeout: float = 60) -> str:
    """Log in through Superset's own login form; returns the page it lands on. A form that does not
    let go within `timeout` raises with what the page says (once, in CI, 30 s were not enough)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/login/")
    wait = WebDriverWait(driver, timeout)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, '[data-test="username-input"]')))
    driver.find_element(By.CSS_SELECTOR, '[data-test="username-input"]').send_keys(username)
    driver.find_element(By.CSS_SELECTOR, '[data-test="password-input"]').send_keys(password)
    driver.find_element(By.CSS_SELECTOR, '[data-test="login-button"]').click()
    started = time.monotonic()
    try:
        wait.until(lambda d: "/login" not in d.current_url)
    except TimeoutException:
        text = driver.execute_script("return document.body ? document.body.innerText : ''") or ""
        raise TimeoutException(f"still on {driver.current_url} {time.monotonic() - started:.0f} s after logging in "
                               f"as {username!r}; the page says: {text[:600]!r}") from None
    return driver.current_url


def chart_states(driver) -> dict[str, str]:
    """Each chart on the page by name: 'loading', 'ok', 'empty: …' or 'error: …' (CHART_STATE_JS)."""
    from selenium.webdriver.common.by import By

    states = {}
    for node in driver.find_elements(By.CSS_SELECTOR, CHART):
        name = node.get_attribute("data-test-chart-name") or node.text.split("\n", 1)[0]
        state, detail = driver.execute_script(CHART_STATE_JS, node, INK_SATURATION)
        states[name] = state if state in ("ok", "loading") else f"{state}: {detail[:400]}"
    return states


def cut_titles(driver) -> list[str]:
    """The charts whose title the page cuts off: the header's title box (which clips what overflows it,
    beside the header's icons) holds more than it shows."""
    from selenium.webdriver.common.by import By

    return [node.get_attribute("data-test-chart-name") for node in driver.find_elements(By.CSS_SELECTOR, CHART)
            if driver.execute_script(
                "const t = arguments[0].querySelector('.header-title');"
                "return !!t && (t.scrollWidth > t.clientWidth + 1 || t.scrollHeight > t.clientHeight + 1);", node)]


def intro_text(driver) -> str:
    """The text of the dashboard's Markdown components (its intro), as the page shows it."""
    from selenium.webdriver.common.by import By

    return " ".join(node.text for node in driver.find_elements(By.CSS_SELECTOR, ".dashboard-markdown"))


def open_dashboard(driver, url: str, charts: int, timeout: float = 120) -> dict[str, str]:
    """Open a dashboard and wait until each of its `charts` has rendered, failed or come back empty."""
    driver.set_window_size(1600, 3000)   # every chart in view: Superset renders charts as they scroll in
    driver.get(url)
    deadline = time.monotonic() + timeout
    states = chart_states(driver)
    while time.monotonic() < deadline and (len(states) < charts or "loading" in states.values()):
        time.sleep(1)
        states = chart_states(driver)
    return states


def screenshot(driver, path: Path) -> Path:
    """The whole page as a PNG (the window grows to the page's height first)."""
    height = driver.execute_script("return Math.max(document.body.scrollHeight, "
                                   "document.documentElement.scrollHeight)")
    driver.set_window_size(1600, min(max(height + 100, 1000), 6000))
    time.sleep(1.5)   # charts re-lay out to the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
