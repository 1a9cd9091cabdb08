"""Take the README screenshots (Map, Gaps, Present) in headless Chromium: ``python docs/make_screenshots.py``.

Starts ``streamlit run app.py`` on a free port with the demo workspace, opens each page,
waits for the map canvas and saves ``docs/screenshot_<page>.png``; then Present on a
projector's screen, ``docs/present_1280x720.png`` and ``docs/present_1920x1080.png``.
``python docs/make_screenshots.py present`` takes only those two.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maps.story import STEPS  # noqa: E402
from tests.browser import browser, free_port, set_viewport, wait_for_server  # noqa: E402

OUT = ROOT / "docs"
PAGES = {"map": "map", "gaps": "gaps", "present": "present", "home": "", "compare": "compare"}
PROJECTOR_SIZES = ((1280, 720), (1920, 1080))  # Present full screen (viewport, no window frame)


def settle(driver: webdriver.Chrome, timeout_s: float = 90) -> None:
    """Wait for a map canvas and for the app to stop running."""
    WebDriverWait(driver, timeout_s).until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas")))
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'):
            break
        time.sleep(0.3)
    time.sleep(2.5)  # let deck.gl draw and fonts settle


def present_screens(driver: webdriver.Chrome, url: str) -> None:
    """Save Present's last step (suggested sites) at each projector size as ``docs/present_<w>x<h>.png``."""
    for width, height in PROJECTOR_SIZES:
        set_viewport(driver, width, height)
        driver.get(url + f"present?step={len(STEPS)}")
        settle(driver)
        target = OUT / f"present_{width}x{height}.png"
        driver.save_screenshot(str(target))
        print(target.relative_to(ROOT))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def main(only_present: bool = False) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--client.toolbarMode", "minimal"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    driver = None
    try:
        wait_for_server(url)
        driver = browser()
        for name, path in ({} if only_present else PAGES).items():
            driver.get(url + path)
            settle(driver)
            if name == "map":  # show the hub coverage discs too
                driver.find_element(By.XPATH, "//label[.//p[contains(., 'Coverage discs')]]").click()
                time.sleep(1.0)
                settle(driver)
            if name == "present":
                for _ in range(5):  # step to the suggested sites
                    driver.find_element(By.XPATH, "//button[.//p[contains(., 'Next')]]").click()
                    time.sleep(1.0)
                    settle(driver)
            target = OUT / f"screenshot_{name}.png"
            driver.save_screenshot(str(target))
            print(target.relative_to(ROOT))
        present_screens(driver, url)
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main(only_present=sys.argv[1:] == ["present"])
