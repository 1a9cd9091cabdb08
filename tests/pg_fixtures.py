"""Pytest fixtures for tests against PostgreSQL + PostGIS: one throwaway cluster per session.

Import both fixtures into a test module (or into ``conftest.py``) to use them::

    from pg_fixtures import postgis_cluster, postgis_url  # noqa: F401

    def test_something(postgis_url):
        ...  # postgis_url is postgresql://postgres@127.0.0.1:PORT/<fresh database with postgis>

``postgis_cluster`` (session scope) starts the cluster of ``tests/pg_cluster.py`` on first
use and stops and deletes it at the end of the session. ``postgis_url`` (function scope)
gives each test its own new database, dropped after the test.

When the server binaries are not installed the tests skip with a message saying what to
install, unless the environment sets ``ATLAS_REQUIRE_POSTGIS=1`` (as ``scripts/test.sh``
does), where they fail instead: in CI a PostGIS test never silently skips.
"""
from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import MISSING_MESSAGE, PgCluster, find_binaries, throwaway_cluster

REQUIRE_ENV = "ATLAS_REQUIRE_POSTGIS"
"""Environment variable: ``1`` turns a missing PostgreSQL/PostGIS into a failure, not a skip."""

_counter = itertools.count(1)


def _database_name(nodename: str) -> str:
    """A unique database name for the test ``nodename``: ``t<n>_<slug of the test name>``.

    Parameters
    ----------
    nodename : str
        The test's name, e.g. ``test_roundtrip[kml]``.

    Returns
    -------
    str
        Lower-case letters, digits and underscores, at most 63 characters.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", nodename.lower()).strip("_")
    return f"t{next(_counter)}_{slug}"[:63]


def require_postgis() -> Path:
    """Return the PostgreSQL ``bin`` folder, or skip the test (fail under ``ATLAS_REQUIRE_POSTGIS=1``).

    For tests that start their own cluster with ``throwaway_cluster`` instead of using
    the fixtures; the fixtures call it too.

    Returns
    -------
    Path
        What :func:`pg_cluster.find_binaries` found.
    """
    bindir = find_binaries()
    if bindir is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{MISSING_MESSAGE} ({REQUIRE_ENV}=1 forbids skipping)", pytrace=False)
        pytest.skip(MISSING_MESSAGE)
    return bindir


@pytest.fixture(scope="session")
def postgis_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster with PostGIS, started once per test session.

    Yields
    ------
    PgCluster
        ``.url`` is a database with postgis; ``.new_database(name)`` makes another.
    """
    bindir = require_postgis()
    with throwaway_cluster(bindir=bindir) as cluster:
        yield cluster


@pytest.fixture
def postgis_url(postgis_cluster: PgCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh database with postgis, for this test only; dropped afterwards.

    Yields
    ------
    str
        ``postgresql://postgres@127.0.0.1:PORT/t<n>_<test name>``.
    """
    name = _database_name(request.node.name)
    url = postgis_cluster.new_database(name)
    yield url
    postgis_cluster.drop_database(name)  # WITH (FORCE): connections a test left open are closed


@pytest.fixture(params=["gpkg", "postgis"])
def location(request, tmp_path) -> str:
    """A workspace location that does not exist yet: a folder, or an empty PostGIS database.

    Tests taking it run on both backends of the workspace store.
    """
    if request.param == "gpkg":
        return str(tmp_path / "ws")
    return request.getfixturevalue("postgis_url")
