"""Headless Chromium and a local Streamlit server: shared by the browser test, the UI bench and the screenshots."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# Debian's chromium as root in a sandbox with no outside network (see the machine notes).
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage")

# -- finding Chromium and chromedriver (scripts/test.sh runs the same lookup: `python tests/browser.py`) --
CHROMIUM_ENV, CHROMEDRIVER_ENV = "ATLAS_CHROMIUM", "ATLAS_CHROMEDRIVER"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMEDRIVER_NAMES = ("chromedriver",)
# Where Debian and Ubuntu put them when /usr/bin is not on PATH (or holds only a snap launcher).
CHROMIUM_PLACES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_PLACES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
INSTALL_HINT = "sudo apt-get install chromium chromium-driver"


class BrowserMissing(RuntimeError):
    """Chromium or its chromedriver cannot be found; the message says what to install."""


def find_program(env: str, names: tuple[str, ...], places: tuple[str, ...], *,
                 environ: dict[str, str] | None = None) -> str:
    """Return the path of a program: `env` when set, else the first of `names` on PATH, else of `places`.

    Raises
    ------
    BrowserMissing
        When `env` names no executable file, or nothing is found.
    """
    environ = os.environ if environ is None else environ
    chosen = environ.get(env)
    if chosen:
        if os.path.isfile(chosen) and os.access(chosen, os.X_OK):
            return chosen
        raise BrowserMissing(f"{env}={chosen} is not an executable file; point it at {names[0]} or unset it.")
    for name in names:
        found = shutil.which(name, path=environ.get("PATH", os.defpath))
        if found:
            return found
    for place in places:
        if os.path.isfile(place) and os.access(place, os.X_OK):
            return place
    raise BrowserMissing(f"{names[0]} was found neither on PATH nor in {', '.join(places)}.")


def chromium_paths(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """Return (chromium, chromedriver): ATLAS_CHROMIUM / ATLAS_CHROMEDRIVER, else PATH, else Debian's places.

    Raises
    ------
    BrowserMissing
        Naming each missing program and the packages to install.
    """
    found, problems = [], []
    for env, names, places in ((CHROMIUM_ENV, CHROMIUM_NAMES, CHROMIUM_PLACES),
                               (CHROMEDRIVER_ENV, CHROMEDRIVER_NAMES, CHROMEDRIVER_PLACES)):
        try:
            found.append(find_program(env, names, places, environ=environ))
        except BrowserMissing as exc:
            problems.append(str(exc))
    if problems:
        raise BrowserMissing(" ".join(problems) + f" Install them with: {INSTALL_HINT} "
                             f"(or set {CHROMIUM_ENV} and {CHROMEDRIVER_ENV}).")
    return found[0], found[1]


def free_port() -> int:
    """Return a free localhost TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(width: int = 1600, height: int = 1400, *, log_network: bool = False) -> webdriver.Chrome:
    """Start headless Chromium (found by `chromium_paths`) through its chromedriver.

    With `log_network`, the DevTools performance log (network events) is on.
    """
    chromium, chromedriver = chromium_paths()
    options = webdriver.ChromeOptions()
    for arg in CHROMIUM_ARGS + (f"--window-size={width},{height}",):
        options.add_argument(arg)
    options.binary_location = chromium
    if log_network:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(chromedriver))


def set_viewport(driver: webdriver.Chrome, width: int, height: int) -> None:
    """Make the page's viewport exactly `width` x `height` CSS px (a full-screen projector, no window frame).

    ``--window-size`` sets the window, and headless Chromium keeps part of it for a frame,
    so innerHeight would be smaller than the screen being tested.
    """
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


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


# -- requests made by the page ------------------------------------------------------------------
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# Schemes that never leave the machine: the bytes are in the page (data:, blob:) or nowhere (about:).
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def streamlit_server(*options: str, env: dict[str, str] | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Run ``streamlit run app.py`` headless on a free port and yield its URL.

    On leaving, the server is stopped; when the block ran through, its stderr must hold no
    traceback (a page that failed on the server shows here even if the browser looked fine).
    """
    port = free_port()
    url = f"http://{host}:{port}/"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         *options],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_for_server(url, server)
        yield url
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert b"Traceback" not in stderr, stderr.decode(errors="replace")[-3000:]


def logging_browser(width: int = 1600, height: int = 1400) -> webdriver.Chrome:
    """Start headless Chromium as `browser` does, with the DevTools performance log (network events) on."""
    return browser(width, height, log_network=True)


def requests_seen(driver: webdriver.Chrome) -> list[tuple[str, str]]:
    """Return (url, where from) for every request the page made, as far as the browser tells.

    Three sources, so that one blind spot does not hide a request: the DevTools
    ``Network.requestWillBeSent`` and ``Network.webSocketCreated`` events (drained from the
    performance log: call this once per page, before navigating on), the page's
    ``performance.getEntriesByType('resource')`` and the favicon the page asks for (headless
    Chromium may not fetch it, a desktop browser does). `driver` must come from `logging_browser`.
    """
    seen = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            initiator = params.get("initiator", {})
            frames = initiator.get("stack", {}).get("callFrames", [])
            origin = initiator.get("url") or (frames[0]["url"] if frames else "") or params.get("documentURL", "")
            seen.append((params["request"]["url"], f"{initiator.get('type', '?')} from {origin}"))
        elif message.get("method") == "Network.webSocketCreated":
            seen.append((params["url"], "websocket from " + params.get("initiator", {}).get("url", "")))
    page = driver.current_url
    for name, kind in driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => [e.name, e.initiatorType])"):
        seen.append((name, f"resource ({kind}) of {page}"))
    for href in driver.execute_script(
            "return [...document.querySelectorAll(\"link[rel~='icon']\")].map(l => l.href)"):
        seen.append((href, f"favicon of {page}"))
    return seen


def outside(requests: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the requests whose host is not this machine (data:, blob: and about: URLs stay local)."""
    found = []
    for url, where in requests:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if (parts.hostname or "") not in LOCAL_HOSTS:
            found.append((url, where))
    return found


if __name__ == "__main__":
    # scripts/test.sh: print the two paths, or say what is missing and exit 1.
    import sys

    try:
        print("\n".join(chromium_paths()))
    except BrowserMissing as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)


# Text cut short: an element holding text that is wider inside than its box shows, and hides the
# rest (Streamlit's labels end in an ellipsis when their column is too narrow).
TRUNCATED_JS = """
const out = [];
for (const root of document.querySelectorAll(arguments[0])) {
  for (const el of root.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (el.textContent.trim() && el.scrollWidth > el.clientWidth + 1
        && (style.overflow !== 'visible' || style.textOverflow === 'ellipsis'))
      out.push(el.textContent.trim().slice(0, 60));
  }
}
return out;
"""
