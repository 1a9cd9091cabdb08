"""Offline first: every page of `streamlit run app.py`, opened in headless Chromium, requests nothing but localhost."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from apptest_helpers import demo_copy
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import logging_browser, outside, requests_seen, streamlit_server

ROOT = Path(__file__).resolve().parents[1]
# Every page, and whether it draws a map (then it is finished only once the canvas is there).
PAGES = (("", True), ("map", True), ("gaps", True), ("compare", False), ("data", False), ("export", False),
         ("present", True))
PAGE_TIMEOUT_S = 120


_STATE_JS = """
const app = document.querySelector('[data-testid="stApp"]');
return [app && app.dataset.testScriptState, app && app.dataset.testConnectionState,
        document.querySelector('[data-testid="stStatusWidget"]')?.innerText ?? null,
        document.querySelectorAll('canvas').length, performance.getEntriesByType('resource').length];
"""


def wait_until_done(driver, *, has_map: bool, timeout_s: float = PAGE_TIMEOUT_S) -> None:
    """Wait until the page has finished running (and drawn its map), then until no new resource loads for 1 s."""
    deadline = time.monotonic() + timeout_s
    count, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        script, connection, status_widget, canvases, resources = driver.execute_script(_STATE_JS)
        if resources != count:
            count, quiet_since = resources, time.monotonic()
        done = script == "notRunning" and connection == "CONNECTED" and status_widget is None
        # Quiet for a second after the run: late loads (fonts, chunks, a favicon swap) have been requested.
        if done and (canvases or not has_map) and time.monotonic() - quiet_since >= 1.0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{driver.current_url} did not finish within {timeout_s} s: script {script}, "
                         f"connection {connection}, status widget {status_widget!r}, {canvases} canvas(es)")


@pytest.fixture
def server(tmp_path):
    """`streamlit run app.py` on a free port, on a copy of the demo workspace; yields its URL."""
    # Usage statistics are left to .streamlit/config.toml on purpose: this test checks that file too.
    # No file watcher: an edit of the sources during the test would show the "Source file changed"
    # prompt in the status widget, and the page would never look finished.
    with streamlit_server("--server.fileWatcherType", "none", env={"ATLAS_WORKSPACE": str(demo_copy(tmp_path))},
                          host="localhost") as url:
        yield url


def test_no_page_requests_anything_outside_this_machine(server):
    driver = logging_browser(1400, 1000)
    seen: list[tuple[str, str]] = []
    try:
        for path, has_map in PAGES:
            start = time.perf_counter()
            driver.get(server + path)
            wait_until_done(driver, has_map=has_map)
            # The toolbar is minimal (.streamlit/config.toml): no Streamlit "Deploy" button.
            assert not driver.find_elements(By.XPATH, "//*[normalize-space(text())='Deploy']"), path
            page = requests_seen(driver)
            print(f"/{path}: finished in {time.perf_counter() - start:.1f} s, {len(page)} requests recorded")
            seen += [(url, f"/{path}: {where}") for url, where in page]
    finally:
        driver.quit()

    assert any(url.startswith(server) for url, _ in seen), "the recorder saw not even the app's own requests"
    found = outside(seen)
    assert not found, "requests left the machine:\n" + "\n".join(
        f"  {url}\n      {where}" for url, where in sorted(set(found)))


def test_the_recorder_catches_a_request_to_an_outside_host():
    """Not vacuous: an outside image and favicon are reported, by each source that can see them."""
    driver = logging_browser(800, 600)
    try:
        driver.get('data:text/html,<html><head><link rel="icon" href="http://example.invalid/icon.png"></head>'
                   '<body><img src="http://example.invalid/x.png"></body></html>')
        WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState === 'complete'"))
        found = outside(requests_seen(driver))
    finally:
        driver.quit()
    assert {url for url, _ in found} <= {"http://example.invalid/x.png", "http://example.invalid/icon.png"}, found
    sources = {(url.rsplit("/", 1)[-1], where.split(" ", 1)[0]) for url, where in found}
    # DevTools saw the parser fetch the image, the page listed it as a resource, and the favicon link is read.
    assert {("x.png", "parser"), ("x.png", "resource"), ("icon.png", "favicon")} <= sources, found
