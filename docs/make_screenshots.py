"""Take the README screenshots in headless Chromium: ``python docs/make_screenshots.py``.

Starts ``streamlit run app.py`` on a free port with the demo workspace and saves every page
(Home, Map, Gaps, Compare, Present) at a projector's 1280x720 and a full-HD 1920x1080
viewport as ``docs/<page>_<w>x<h>.png``, after the map canvas is drawn. The Map shows the
hub coverage discs; Present shows its last step (suggested sites).
``python docs/make_screenshots.py present`` takes only Present's two.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maps.story import STEPS  # noqa: E402
from tests.browser import browser, set_viewport, streamlit_server  # noqa: E402

OUT = ROOT / "docs"
PAGES = {"home": "", "map": "map", "gaps": "gaps", "compare": "compare", "present": f"present?step={len(STEPS)}"}
SIZES = ((1280, 720), (1920, 1080))  # a common projector, full HD (viewport, no window frame)


def settle(driver: webdriver.Chrome, timeout_s: float = 90) -> None:
    """Wait for a canvas (a map, a chart) and for the app to stop running."""
    WebDriverWait(driver, timeout_s).until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas")))
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'):
            break
        time.sleep(0.3)
    time.sleep(2.5)  # let deck.gl draw and fonts settle


def show_discs(driver: webdriver.Chrome) -> None:
    """Turn on the Map's coverage discs (inside the "Analysis overlays" popover), then close the popover."""
    driver.find_element(By.XPATH, "//button[.//p[contains(., 'Analysis overlays')]]").click()
    time.sleep(0.8)
    driver.find_element(By.XPATH, "//label[.//p[contains(., 'Coverage discs')]]").click()
    time.sleep(1.0)
    settle(driver)
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    time.sleep(0.8)


@contextmanager
def demo_app() -> Iterator[tuple[webdriver.Chrome, str]]:
    """A headless Chromium and the app on the demo workspace (usage statistics off, no Deploy button)."""
    with streamlit_server("--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal") as url:
        driver = browser()
        try:
            yield driver, url
        finally:
            driver.quit()


def save(driver: webdriver.Chrome, name: str) -> None:
    target = OUT / f"{name}.png"
    driver.save_screenshot(str(target))
    print(target.relative_to(ROOT))


def main(pages: tuple[str, ...] = tuple(PAGES)) -> None:
    """Save each of `pages` at every size in `SIZES` as ``docs/<page>_<w>x<h>.png``."""
    with demo_app() as (driver, url):
        for width, height in SIZES:
            set_viewport(driver, width, height)
            for name in pages:
                driver.get(url + PAGES[name])
                settle(driver)  # every page draws a canvas: deck.gl maps, Compare's charts
                if name == "map":
                    show_discs(driver)
                save(driver, f"{name}_{width}x{height}")


LANGUAGE_SHOTS = ("sv", "pl")  # Present in Swedish and Polish at 1280x720: docs/present_<lang>.png


def language_screens(langs: tuple[str, ...] = LANGUAGE_SHOTS) -> None:
    """Save Present's last step in each of `langs` at a projector's 1280x720 as ``docs/present_<lang>.png``."""
    with demo_app() as (driver, url):
        set_viewport(driver, 1280, 720)
        for lang in langs:
            driver.get(url + f"present?step={len(STEPS)}&lang={lang}")
            settle(driver)
            save(driver, f"present_{lang}")


if __name__ == "__main__":
    if sys.argv[1:] == ["languages"]:  # python docs/make_screenshots.py languages
        language_screens()
    else:
        main(tuple(sys.argv[1:]) or tuple(PAGES))
