"""Gaps in a real browser on a laptop and a projector: no label, figure or choice cut short."""
from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import TRUNCATED_JS, browser, set_viewport, streamlit_server


def test_no_gaps_control_or_figure_is_cut_short_at_1280_or_1400_px():
    with streamlit_server("--browser.gatherUsageStats", "false") as url:
        driver = browser(1400, 900)
        try:
            for width, height in ((1280, 720), (1400, 900)):
                set_viewport(driver, width, height)
                driver.get(url + "gaps")
                WebDriverWait(driver, 180).until(
                    EC.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="stDeckGlJsonChart"] canvas')))
                WebDriverWait(driver, 120).until(
                    lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
                time.sleep(1.5)
                labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]')]
                assert "Hubs coverage" in labels, labels
                cut = driver.execute_script(TRUNCATED_JS, '[data-testid="stMain"]')
                assert not cut, (width, cut)
        finally:
            driver.quit()
