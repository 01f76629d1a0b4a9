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
LOADING = '[data-test="loading-indicator"], .loading'
ERROR_TEXT = ("Data error", "Unexpected error", "Error:", "error occurred")
EMPTY_TEXT = ("No results were returned", "No data")
RENDERED = "svg, canvas, table, .header-line, .big-number"


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


def login(driver, base_url: str, username: str, password: str, timeout: float = 30) -> str:
    """Log in through Superset's own login form; returns the page it lands on."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/login/")
    wait = WebDriverWait(driver, timeout)
    wait.until(ready.presence_of_element_located((By.CSS_SELECTOR, '[data-test="username-input"]')))
    driver.find_element(By.CSS_SELECTOR, '[data-test="username-input"]').send_keys(username)
    driver.find_element(By.CSS_SELECTOR, '[data-test="password-input"]').send_keys(password)
    driver.find_element(By.CSS_SELECTOR, '[data-test="login-button"]').click()
    wait.until(lambda d: "/login" not in d.current_url)
    return driver.current_url


def chart_states(driver) -> dict[str, str]:
    """Each chart on the page by name: 'loading', 'ok', 'empty: …' or 'error: …'."""
    from selenium.webdriver.common.by import By

    states = {}
    for node in driver.find_elements(By.CSS_SELECTOR, CHART):
        name = node.get_attribute("data-test-chart-name") or node.text.split("\n", 1)[0]
        text = node.text
        if any(marker in text for marker in ERROR_TEXT):
            states[name] = "error: " + " ".join(text.split())[:400]
        elif any(marker in text for marker in EMPTY_TEXT):
            states[name] = "empty: " + " ".join(text.split())[:200]
        elif node.find_elements(By.CSS_SELECTOR, LOADING) or not node.find_elements(By.CSS_SELECTOR, RENDERED):
            states[name] = "loading"
        else:
            states[name] = "ok"
    return states


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
