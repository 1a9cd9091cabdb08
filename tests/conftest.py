"""Shared test helpers: paths to fixtures and to the real public exports, a cache of the tests' own.

Two environment variables decide what the session may skip and where caches go:

- ``ATLAS_REALDATA``: the folder of real public exports (see its MANIFEST.md). Without it,
  ``../shared/realdata`` beside the checkout, else ``/work/shared/realdata``. When the folder
  is missing, tests that need it skip with the reason, or **fail** when
  ``ATLAS_REQUIRE_REALDATA=1`` (CI): in CI a real-data test never silently skips.
- ``ATLAS_CACHE_DIR`` is set, for this process and every process it starts, to a new
  temporary folder removed at the end of the session: the tests never read or write the
  user's cache (``~/.cache/creative-atlas``), so every session builds the gazetteer from
  the code under test.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"

REALDATA_ENV = "ATLAS_REALDATA"
"""Environment variable: the folder of the real public exports."""
REQUIRE_REALDATA_ENV = "ATLAS_REQUIRE_REALDATA"
"""Environment variable: ``1`` turns a missing real-data folder (or file) into a failure, not a skip."""
REALDATA_PLACES = (ROOT.parent / "shared" / "realdata", Path("/work/shared/realdata"))
"""Where the real exports are looked for when ``ATLAS_REALDATA`` is not set, in order."""
CACHE_ENV = "ATLAS_CACHE_DIR"  # read by loaders/gazetteer.py


def find_realdata() -> tuple[Path | None, str]:
    """Return (the real-data folder or None, where it was looked for)."""
    named = os.environ.get(REALDATA_ENV)
    if named:  # an explicit setting is used as given, never replaced by a default
        folder = Path(named).expanduser()
        return (folder if folder.is_dir() else None), f"{REALDATA_ENV}={named}"
    for folder in REALDATA_PLACES:
        if folder.is_dir():
            return folder, str(folder)
    return None, " or ".join(str(p) for p in REALDATA_PLACES)


def realdata_required() -> bool:
    """True in CI (``ATLAS_REQUIRE_REALDATA=1``): real-data tests must run, not skip."""
    return os.environ.get(REQUIRE_REALDATA_ENV, "").strip() == "1"


def missing_realdata(what: str) -> None:
    """Skip the running test because `what` is missing, or fail it in CI; never returns."""
    fix = (f"Put the real public exports there (see MANIFEST.md of the shared realdata folder) or point "
           f"{REALDATA_ENV} at them.")
    if realdata_required():
        pytest.fail(f"{what} is missing and {REQUIRE_REALDATA_ENV}=1 (CI) forbids skipping. {fix}", pytrace=False)
    pytest.skip(f"{what} is missing on this machine (set {REQUIRE_REALDATA_ENV}=1 to make this a failure). {fix}")


@pytest.fixture
def realdata() -> Path:
    """The folder of real public exports; skips with the reason when it is absent, fails in CI."""
    folder, looked = find_realdata()
    if folder is None:
        missing_realdata(f"the real-data folder ({looked})")
    return folder


def _about_realdata(report) -> bool:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return "realdata" in reason.lower()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI, a skip about the real data is a failure, wherever it was raised.

    Some modules look for the folder or one of its files on their own
    (``tests/test_kml_realdata.py``, ``tests/test_roundtrip.py``); their skips name
    "realdata", and under ``ATLAS_REQUIRE_REALDATA=1`` they fail here like the fixture does.
    """
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and realdata_required() and _about_realdata(report):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"{reason}\n{REQUIRE_REALDATA_ENV}=1 (CI): a test that needs the real data may not skip. "
                           f"Put the real exports in place or point {REALDATA_ENV} at them.")


# -- the tests' own cache ------------------------------------------------------------------------
# Set when this module is imported, before any test module (or the gazetteer) is: every
# process the tests start inherits it. The folder's name holds the session's process id,
# so the folder of a session that was killed (and could not clean up) is removed by the next.
_CACHE_PREFIX = "atlas-test-cache-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _remove_orphaned_caches() -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{_CACHE_PREFIX}*-*"):
        pid = folder.name[len(_CACHE_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


_remove_orphaned_caches()
_USER_CACHE = os.environ.get(CACHE_ENV)
_TEST_CACHE = tempfile.mkdtemp(prefix=f"{_CACHE_PREFIX}{os.getpid()}-")
os.environ[CACHE_ENV] = _TEST_CACHE


def pytest_unconfigure(config):
    """Remove the session's cache folder and give back the user's setting."""
    shutil.rmtree(_TEST_CACHE, ignore_errors=True)
    if _USER_CACHE is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = _USER_CACHE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def gisco(tmp_path):
    """A local stand-in for the GISCO server serving ``<NUTS_ID>.geojson`` from a folder."""
    folder = tmp_path / "gisco"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/{{nuts_id}}.geojson"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# PostGIS: a throwaway cluster per session and a fresh database per test (tests/pg_fixtures.py).
from pg_fixtures import location, postgis_cluster, postgis_url  # noqa: E402, F401
