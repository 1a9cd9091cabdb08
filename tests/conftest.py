"""Shared test helpers: paths to fixtures and to the real public exports."""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """The folder of real public exports; tests using it skip only when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is not present on this machine")
    return REALDATA


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
from pg_fixtures import postgis_cluster, postgis_url  # noqa: E402, F401
