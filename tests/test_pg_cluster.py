"""The throwaway PostgreSQL + PostGIS cluster of the tests works: connect, PostGIS, isolation."""
from __future__ import annotations

import psycopg
import pytest
from pg_cluster import ClusterError, throwaway_cluster
from pg_fixtures import require_postgis


def test_url_connects_to_the_throwaway_cluster(postgis_cluster, postgis_url):
    with psycopg.connect(postgis_url) as conn:
        user, addr, port, datadir = conn.execute(
            "SELECT current_user, host(inet_server_addr()), inet_server_port(), "
            "current_setting('data_directory')"
        ).fetchone()
    assert user == "postgres"
    assert addr == "127.0.0.1"
    assert port == postgis_cluster.port and postgis_url.startswith(f"postgresql://postgres@127.0.0.1:{port}/")
    assert datadir == str(postgis_cluster.datadir)  # our own server, not a system cluster


def test_postgis_is_installed(postgis_url):
    with psycopg.connect(postgis_url) as conn:
        (version,) = conn.execute("SELECT PostGIS_Version()").fetchone()
    assert version.split()[0][0].isdigit()  # e.g. "3.3 USE_GEOS=1 USE_PROJ=1 USE_STATS=1"


def test_point_table_with_gist_index_answers_dwithin(postgis_url):
    with psycopg.connect(postgis_url) as conn:
        conn.execute("CREATE TABLE site (id serial PRIMARY KEY, name text, geom geometry(Point, 4326))")
        conn.execute("CREATE INDEX site_geom_idx ON site USING gist (geom)")
        conn.cursor().executemany(
            "INSERT INTO site (name, geom) VALUES (%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
            [("Galway", -9.0568, 53.2707), ("Oranmore", -8.9289, 53.2681), ("Dublin", -6.2603, 53.3498)],
        )
        conn.execute("ANALYZE site")
        # Within 15 km of Galway city centre (geography: metres on the spheroid).
        near = conn.execute(
            "SELECT name FROM site WHERE ST_DWithin(geom::geography, "
            "ST_SetSRID(ST_MakePoint(-9.0568, 53.2707), 4326)::geography, 15000) ORDER BY name"
        ).fetchall()
        assert [n for (n,) in near] == ["Galway", "Oranmore"]
        # The geometry form (degrees) can use the GiST index.
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            row for (row,) in conn.execute(
                "EXPLAIN SELECT name FROM site WHERE ST_DWithin(geom, "
                "ST_SetSRID(ST_MakePoint(-9.0568, 53.2707), 4326), 0.2)"
            ).fetchall()
        )
        assert "site_geom_idx" in plan
        (srid,) = conn.execute("SELECT Find_SRID('public', 'site', 'geom')").fetchone()
        assert srid == 4326


def test_new_databases_are_independent(postgis_cluster):
    first = postgis_cluster.new_database("independent_a")
    second = postgis_cluster.new_database("independent_b")
    try:
        assert first != second
        with psycopg.connect(first) as conn:
            conn.execute("CREATE TABLE only_here (geom geometry(Point, 4326))")
            conn.execute("INSERT INTO only_here VALUES ('SRID=4326;POINT(-9 53)')")
        with psycopg.connect(second) as conn:
            (found,) = conn.execute("SELECT to_regclass('public.only_here')").fetchone()
            assert found is None
            (version,) = conn.execute("SELECT PostGIS_Version()").fetchone()
            assert version
        with psycopg.connect(first) as conn:
            assert conn.execute("SELECT count(*) FROM only_here").fetchone() == (1,)
        with pytest.raises(psycopg.errors.DuplicateDatabase):
            postgis_cluster.new_database("independent_a")
    finally:
        postgis_cluster.drop_database("independent_a")
        postgis_cluster.drop_database("independent_b")


def test_each_test_gets_its_own_database(postgis_cluster, postgis_url):
    assert postgis_url != postgis_cluster.url
    with psycopg.connect(postgis_url) as conn:
        (name,) = conn.execute("SELECT current_database()").fetchone()
    assert name.startswith("t") and "test_each_test_gets_its_own_database" in name


def test_database_names_are_checked(postgis_cluster):
    with pytest.raises(ValueError):
        postgis_cluster.new_database('x"; DROP DATABASE postgres; --')


def test_cluster_stops_and_its_folder_is_removed():
    bindir = require_postgis()
    with throwaway_cluster("stopcheck", bindir=bindir) as cluster:
        url, root = cluster.url, cluster.root
        with psycopg.connect(url) as conn:
            conn.execute("SELECT 1")
        assert (root / "data" / "postmaster.pid").exists()
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3).close()


def test_missing_binaries_raise_a_clear_error(tmp_path):
    with (
        pytest.raises(ClusterError, match="apt-get install postgresql postgis"),
        throwaway_cluster(bindir=tmp_path),
    ):
        pass
