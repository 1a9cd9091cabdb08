"""End to end: `streamlit run app.py` headless, opened in Debian's headless Chromium via Selenium."""
from __future__ import annotations

import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import browser, streamlit_server

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def wait_until_idle(driver: webdriver.Chrome, timeout_s: float = 120) -> None:
    """Wait for a map canvas, then for the app to finish running the script."""
    WebDriverWait(driver, timeout_s).until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas")))
    WebDriverWait(driver, timeout_s).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
    time.sleep(1.0)


def test_app_renders_the_map_without_errors_in_a_real_browser():
    with streamlit_server("--browser.gatherUsageStats", "false") as url:
        driver = browser(1400, 1100)
        try:
            driver.get(url)
            wait_until_idle(driver)
            ARTIFACTS.mkdir(exist_ok=True)
            driver.save_screenshot(str(ARTIFACTS / "e2e_home.png"))

            assert "Creative Atlas" in driver.title or driver.find_element(By.TAG_NAME, "h1").text == "Creative Atlas"
            assert not driver.find_elements(By.CSS_SELECTOR, ERRORS), driver.find_element(By.CSS_SELECTOR, ERRORS).text
            metrics = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricValue"]')
            assert len(metrics) == 8 and metrics[0].text.replace(",", "").isdigit()
            canvas = driver.find_element(By.CSS_SELECTOR, "canvas")
            assert canvas.size["width"] > 300 and canvas.size["height"] > 200
            # Offline first: nothing was fetched from a tile server.
            resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
            assert not [r for r in resources if "cartocdn" in r or "mapbox" in r]

            driver.find_element(By.CSS_SELECTOR, 'a[href="map"], a[href^="map?"], a[href$="/map"]').click()
            WebDriverWait(driver, 60).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Map"))
            wait_until_idle(driver)
            assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)
            assert driver.find_elements(By.CSS_SELECTOR, '[data-testid="stPydeckChart"] canvas, canvas')
            driver.save_screenshot(str(ARTIFACTS / "e2e_map.png"))
        finally:
            driver.quit()
