"""Languages in a real browser: ``?lang=`` gives translated navigation and figures written for the language; a reload keeps it."""
from __future__ import annotations

import re

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import browser, streamlit_server

NBSP = "\u00a0"
NAV = {"sv": ["Start", "Karta", "Luckor", "Jämför", "Data", "Exportera", "Presentera"],
       "pl": ["Start", "Mapa", "Luki", "Porównaj", "Dane", "Eksport", "Prezentacja"]}
LINKS = '[data-testid="stSidebar"] [data-testid="stPageLink"] a'
MAIN = '[data-testid="stMain"]'
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def navigation(driver: webdriver.Chrome) -> list[str]:
    """The sidebar's page links as the reader sees them (without their icons' ligature names)."""
    return [link.text.split("\n")[-1] for link in driver.find_elements(By.CSS_SELECTOR, LINKS)]


def settled(driver: webdriver.Chrome, nav: list[str], wanted: str, timeout_s: float = 180) -> str:
    """Wait until the sidebar shows `nav` and the page a text matching `wanted` (a regex); return the page's text."""
    found: dict[str, str] = {}

    def ready(d: webdriver.Chrome) -> bool:
        if d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]') or navigation(d)[-7:] != nav:
            return False
        found["text"] = d.find_element(By.CSS_SELECTOR, MAIN).get_attribute("innerText")
        return re.search(wanted, found["text"]) is not None

    WebDriverWait(driver, timeout_s, poll_frequency=0.5).until(ready, message=f"{nav} / {wanted!r} never showed")
    assert not driver.find_elements(By.CSS_SELECTOR, ERRORS), driver.find_element(By.CSS_SELECTOR, ERRORS).text
    return found["text"]


def test_a_link_with_lang_speaks_swedish_and_polish_and_a_reload_keeps_it():
    with streamlit_server("--browser.gatherUsageStats", "false") as url:
        driver = browser(1400, 1000)
        try:
            # Swedish Home: the population with a no-break space between thousands, shares as "86 %".
            driver.get(url + "?lang=sv")
            text = settled(driver, NAV["sv"], rf"Befolkning \(orter med 500\+\)\s*\d{{1,3}}{NBSP}\d{{3}}")
            assert re.search(rf"Fullt stöd\s*\d{{1,3}}{NBSP}%", text), text[:2000]
            assert "Full support" not in text and "Population" not in text.split("CSO")[0]
            assert "lang=sv" in driver.current_url
            driver.refresh()  # a reload keeps the language
            settled(driver, NAV["sv"], r"Fullt stöd")

            # Polish Map: Polish navigation and the map's line in Polish; the radii with the distances.
            driver.get(url + "map?lang=pl")
            text = settled(driver, NAV["pl"], r"Widoczne \d+ z \d+")
            assert re.search(r"promienie: huby \d+ km", text), text[:2000]
            assert "lang=pl" in driver.current_url and "/map" in driver.current_url
            driver.refresh()
            settled(driver, NAV["pl"], r"Widoczne \d+ z \d+")
            # From the Map, the sidebar's Start keeps Polish: the population in Polish grouping, "68%" without a space.
            start = next(link for link in driver.find_elements(By.CSS_SELECTOR, LINKS) if link.text.endswith("Start"))
            start.click()
            text = settled(driver, NAV["pl"], rf"Ludność \(miejscowości 500\+\)\s*\d{{1,3}}{NBSP}\d{{3}}")
            assert re.search(r"Pełne wsparcie\s*\d{1,3}%", text), text[:2000]
            assert "lang=pl" in driver.current_url
        finally:
            driver.quit()
