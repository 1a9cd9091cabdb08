"""Headless Chromium and a local Streamlit server: shared by the browser test, the UI bench and the screenshots."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# Debian's chromium as root in a sandbox with no outside network (see the machine notes).
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage")


def free_port() -> int:
    """Return a free localhost TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(width: int = 1600, height: int = 1400) -> webdriver.Chrome:
    """Start Debian's headless Chromium (/usr/bin/chromium) through its chromedriver."""
    options = webdriver.ChromeOptions()
    for arg in CHROMIUM_ARGS + (f"--window-size={width},{height}",):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def wait_for_server(url: str, server: subprocess.Popen | None = None, timeout_s: float = 60) -> None:
    """Wait until Streamlit's health endpoint at `url` answers; fail if `server` exits first."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError("streamlit exited early")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer at {url} within {timeout_s} s")
