"""Shared mode in a real browser: sign in, reload without signing out, a shared link keeps the view, sign out."""
from __future__ import annotations

import shutil
import time

from argon2 import PasswordHasher
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import access
from tests.browser import browser, streamlit_server
from tests.conftest import ROOT

DEMO = ROOT / "geodata" / "demo_workspace"
IDLE = '[data-testid="stStatusWidget"]'


def _idle(driver, timeout_s: float = 90) -> None:
    time.sleep(1.0)
    WebDriverWait(driver, timeout_s).until(lambda d: not d.find_elements(By.CSS_SELECTOR, IDLE))
    time.sleep(0.5)


def _text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def test_sign_in_survives_a_reload_and_a_link_keeps_the_view(tmp_path):
    config = tmp_path / "atlas.json"
    access.init_config(config)
    for name in ("north", "west"):
        shutil.copytree(DEMO, tmp_path / name)
        access.add_workspace(config, name, str(tmp_path / name))
    access.add_user(config, "ed", role="editor", password="editor-pass-1",
                    hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    with streamlit_server(env={"ATLAS_CONFIG": str(config)}) as url:
        driver = browser(1400, 1000)
        try:
            driver.get(url + "present?workspace=west&region=lodz")
            WebDriverWait(driver, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'input[type="password"]')))
            assert "canvas" not in driver.page_source and "Łódź" not in _text(driver)  # nothing before signing in
            driver.find_element(By.CSS_SELECTOR, 'input[aria-label="User name"]').send_keys("ed")
            password = driver.find_element(By.CSS_SELECTOR, 'input[type="password"]')
            password.send_keys("editor-pass-1")
            password.send_keys(Keys.ENTER)
            WebDriverWait(driver, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas")))
            _idle(driver)
            assert "Łódź" in _text(driver) and "workspace: west" in _text(driver)
            assert "workspace=west" in driver.current_url and "region=lodz" in driver.current_url
            cookies = {c["name"]: c for c in driver.get_cookies()}
            assert "atlas_session" in cookies and "editor-pass-1" not in cookies["atlas_session"]["value"]

            driver.refresh()  # a projector's reload: same page, same view, still signed in
            WebDriverWait(driver, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas")))
            _idle(driver)
            assert "Łódź" in _text(driver) and "workspace: west" in _text(driver)
            assert not driver.find_elements(By.CSS_SELECTOR, 'input[type="password"]')

            driver.get(url + "data?workspace=north")
            _idle(driver)
            driver.find_element(By.XPATH, '//button[.//p[text()="Sign out"]]').click()
            WebDriverWait(driver, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'input[type="password"]')))
            _idle(driver)
            driver.refresh()  # signed out stays signed out
            WebDriverWait(driver, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, 'input[type="password"]')))
            assert "Changes" not in _text(driver)
        finally:
            driver.quit()
