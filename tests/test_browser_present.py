"""Present in a real browser at a projector's 1280x720: controls on screen, keys and clicker, big type."""
from __future__ import annotations

import time

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from maps.story import STEPS
from tests.browser import browser, set_viewport, streamlit_server

WIDTH, HEIGHT = 1280, 720
MIN_FONT_PX = 24
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# The map drawn for a 1280x720 room (a second one, drawn for large screens, is hidden there).
MAP = '.st-key-present-map-room [data-testid="stDeckGlJsonChart"]'

# Every element on the slide (the page minus the fixed bar) that holds text of its own, with its
# computed font size and whether it is visible at all.
SLIDE_TEXTS = """
const bar = document.querySelector('.st-key-present-bar');
const found = [];
for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
  if ((bar && bar.contains(el)) || el.closest('.st-key-present-keys, script, style')) continue;
  const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join(' ').trim();
  if (!own) continue;
  const box = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  const visible = box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
  if (visible) found.push([own.slice(0, 60), parseFloat(style.fontSize)]);
}
return found;
"""


def rect(driver: webdriver.Chrome, css: str) -> dict:
    """Bounding rect of the first element matching `css`, with the viewport's size."""
    return driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, w: innerWidth, h: innerHeight};", css)


def in_viewport(box: dict) -> bool:
    return box["top"] >= 0 and box["left"] >= 0 and box["bottom"] <= box["h"] and box["right"] <= box["w"]


def title(driver: webdriver.Chrome) -> str:
    """The slide's title ("" while Streamlit redraws it)."""
    return driver.execute_script("return document.querySelector('.atlas-present h1')?.textContent || ''")


def wait_for_step(driver: webdriver.Chrome, index: int, timeout_s: float = 60) -> None:
    """Wait until the slide shows step `index` and the app has finished running."""
    wanted = STEPS[index].title
    WebDriverWait(driver, timeout_s).until(
        lambda d: title(d).endswith(wanted)
        and d.find_elements(By.CSS_SELECTOR, "canvas")
        and not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'),
        message=f"step {index + 1} ({wanted}) did not show")
    time.sleep(0.8)  # the scroll-to-top runs again 150 and 600 ms after the step is drawn


def press(driver: webdriver.Chrome, key: str) -> None:
    ActionChains(driver).send_keys(key).perform()


def scroll_down(driver: webdriver.Chrome) -> None:
    """Scroll the page as far down as it goes (Streamlit scrolls its main section, not the window)."""
    driver.execute_script(
        "for (const el of document.querySelectorAll('[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"]'))"
        " el.scrollTo(0, el.scrollHeight); window.scrollTo(0, document.body.scrollHeight);")
    time.sleep(0.3)


def check_slide(driver: webdriver.Chrome, index: int) -> None:
    """The controls, the title and the demo line are on screen; every text on the slide is big enough."""
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS), driver.find_element(By.CSS_SELECTOR, ERRORS).text
    for css in (".st-key-present-next button", ".st-key-present-prev button", ".atlas-present h1", ".atlas-demo"):
        box = rect(driver, css)
        assert in_viewport(box), (STEPS[index].title, css, box)
    bar = rect(driver, ".st-key-present-bar")
    for css in (".atlas-present h1", ".atlas-demo", MAP):
        assert rect(driver, css)["bottom"] <= bar["top"], (css, "hidden under the bar")
    assert driver.find_element(By.CSS_SELECTOR, ".atlas-demo").text.startswith("Illustrative data")
    texts = driver.execute_script(SLIDE_TEXTS)
    joined = " ".join(text for text, _ in texts)
    for expected in (STEPS[index].title, f"Step {index + 1} of {len(STEPS)}", "Illustrative data",
                     "Region boundary", "EuroGeographics"):
        assert expected in joined, (expected, texts)  # so the size check below covers them
    small = [(text, size) for text, size in texts if size < MIN_FONT_PX]
    assert not small, small
    # Nothing on the slide stays under the bar: scrolled to the end, the last line clears it.
    scroll_down(driver)
    assert rect(driver, ".atlas-meta")["bottom"] <= rect(driver, ".st-key-present-bar")["top"]


def test_present_fits_a_projector_and_answers_keys_and_a_clicker():
    with streamlit_server("--browser.gatherUsageStats", "false") as url:
        driver = browser(WIDTH, HEIGHT)
        try:
            set_viewport(driver, WIDTH, HEIGHT)
            driver.get(url + "present")
            assert driver.execute_script("return [innerWidth, innerHeight]") == [WIDTH, HEIGHT]
            wait_for_step(driver, 0, timeout_s=180)
            check_slide(driver, 0)
            assert "step=1" in driver.current_url

            # Arrow key, clicker (PageDown) and Space each advance one step, and each step starts at the top,
            # also when the page was scrolled down before the key.
            for index, key in enumerate((Keys.ARROW_RIGHT, Keys.PAGE_DOWN, Keys.SPACE, Keys.ARROW_RIGHT,
                                         Keys.PAGE_DOWN)):
                scroll_down(driver)
                if index == 3:
                    assert not in_viewport(rect(driver, ".atlas-present h1")), "the page did not scroll"
                press(driver, key)
                wait_for_step(driver, index + 1)
                assert in_viewport(rect(driver, ".atlas-present h1")), (key, "title out of view")
                assert f"step={index + 2}" in driver.current_url
                check_slide(driver, index + 1)

            press(driver, Keys.PAGE_UP)
            wait_for_step(driver, 4)
            press(driver, Keys.ARROW_LEFT)
            wait_for_step(driver, 3)
            press(driver, Keys.HOME)
            wait_for_step(driver, 0)
            press(driver, Keys.END)
            wait_for_step(driver, len(STEPS) - 1)

            # A mouse click leaves the focus on a button: Space then still moves one step, not two.
            driver.find_element(By.CSS_SELECTOR, ".st-key-present-first button").click()
            wait_for_step(driver, 0)
            press(driver, Keys.SPACE)
            wait_for_step(driver, 1)
            time.sleep(1.5)
            assert title(driver).endswith(STEPS[1].title)

            # Keys typed into the interval field stay there.
            field = driver.find_element(By.CSS_SELECTOR, ".st-key-present-bar input[type=number]")
            field.click()
            press(driver, Keys.ARROW_RIGHT)
            press(driver, Keys.END)
            time.sleep(2.0)
            assert title(driver).endswith(STEPS[1].title)

            # A reload keeps the slide (the step is in the URL).
            driver.get(driver.current_url)
            wait_for_step(driver, 1, timeout_s=120)
        finally:
            driver.quit()


def test_present_auto_advances_and_wraps_round():
    with streamlit_server("--browser.gatherUsageStats", "false") as url:
        driver = browser(WIDTH, HEIGHT)
        try:
            set_viewport(driver, 1920, 1080)  # a large screen shows the large map, also above the bar
            driver.get(url + f"present?step={len(STEPS)}")
            wait_for_step(driver, len(STEPS) - 1, timeout_s=180)
            shown = driver.execute_script(
                "return [...document.querySelectorAll('[data-testid=\"stDeckGlJsonChart\"]')]"
                ".filter(e => e.getBoundingClientRect().height > 0).map(e => e.getBoundingClientRect().toJSON())")
            assert len(shown) == 1 and shown[0]["height"] > 600, shown
            assert shown[0]["bottom"] <= rect(driver, ".st-key-present-bar")["top"]
            field = driver.find_element(By.CSS_SELECTOR, ".st-key-present-bar input[type=number]")
            field.send_keys(Keys.CONTROL, "a")
            field.send_keys("10", Keys.ENTER)
            time.sleep(2.0)
            driver.find_element(By.XPATH, "//label[.//p[contains(., 'Auto-advance')]]").click()
            started = time.monotonic()
            wait_for_step(driver, 0, timeout_s=40)  # the last step wraps round to the first
            waited = time.monotonic() - started
            assert 8 <= waited <= 30, waited
            wait_for_step(driver, 1, timeout_s=40)
            driver.find_element(By.XPATH, "//label[.//p[contains(., 'Auto-advance')]]").click()
            time.sleep(14)  # longer than the interval: turned off, it stays
            assert title(driver).endswith(STEPS[1].title)
        finally:
            driver.quit()


def test_the_bar_stays_one_row_in_swedish_and_polish():
    """Longer words must not wrap the bar onto a second row, which would cover the slide's last line."""
    with streamlit_server("--browser.gatherUsageStats", "false") as url:
        driver = browser(WIDTH, HEIGHT)
        try:
            set_viewport(driver, WIDTH, HEIGHT)
            for lang, demo in (("sv", "Illustrativa data"), ("pl", "Dane poglądowe")):
                driver.get(url + f"present?lang={lang}&step={len(STEPS)}")
                WebDriverWait(driver, 180).until(
                    lambda d: title(d) and d.find_elements(By.CSS_SELECTOR, "canvas")
                    and not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'),
                    message=f"Present did not show in {lang}")
                time.sleep(0.8)
                assert not driver.find_elements(By.CSS_SELECTOR, ERRORS)
                bar = rect(driver, ".st-key-present-bar")
                assert bar["bottom"] - bar["top"] <= 80, (lang, "the bar wrapped", bar)
                for css in (".st-key-present-next button", ".st-key-present-prev button"):
                    assert in_viewport(rect(driver, css)), (lang, css)
                for css in (".atlas-present h1", ".atlas-demo", MAP):
                    assert rect(driver, css)["bottom"] <= bar["top"], (lang, css, "hidden under the bar")
                assert driver.find_element(By.CSS_SELECTOR, ".atlas-demo").text.startswith(demo)
                small = [(text, size) for text, size in driver.execute_script(SLIDE_TEXTS) if size < MIN_FONT_PX]
                assert not small, (lang, small)
                scroll_down(driver)
                assert rect(driver, ".atlas-meta")["bottom"] <= rect(driver, ".st-key-present-bar")["top"], lang
        finally:
            driver.quit()
