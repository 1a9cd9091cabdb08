"""The two databases a workspace can live in, behind the few operations the store needs.

`GeoPackage` is SQLite with the OGC GeoPackage tables (so QGIS and GDAL read the
workspace as they read any .gpkg), opened in WAL mode: readers never wait for a writer
and writers from other processes queue for `WRITE_TIMEOUT_S`. `PostGIS` is PostgreSQL
with geometry in EPSG:4326 and GiST indexes. SQL is written once with ``?`` placeholders;
`PostGIS` turns them into psycopg's ``%s``.
"""
from __future__ import annotations

import sqlite3
import struct
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import shapely

from access import redact_url
from errors import WorkspaceError

SCHEMA_VERSION = 2
WRITE_TIMEOUT_S = 30.0
SRID = 4326
# Canonical text columns of a feature row, besides feature_id and the geometry.
META_COLUMNS = ("version", "import_id", "original", "updated_at", "updated_by")
# Tables that keep the side-table rows a recorded change replaced. Added after schema 2 and
# created when first needed (`add_side_history`), so version-2 workspaces open unchanged.
SIDE_HISTORY = ("side_writes", "side_versions")

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10400


def _text_columns(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}" TEXT' for c in columns)


def schema_statements(columns: Sequence[str], *, geometry: str, serial: str, blob: str) -> list[str]:
    """CREATE statements of every workspace table (both databases), given their type names."""
    feature_cols = _text_columns([c for c in columns if c != "feature_id"])
    meta = 'version INTEGER NOT NULL DEFAULT 1, import_id TEXT, original TEXT, updated_at TEXT, updated_by TEXT'
    return [
        f"CREATE TABLE features (fid {serial}, geom {geometry}, feature_id TEXT NOT NULL UNIQUE, "
        f"{feature_cols}, {meta})",
        "CREATE INDEX features_source_file ON features (source_file)",
        "CREATE INDEX features_import_id ON features (import_id)",
        f"CREATE TABLE feature_versions (fid {serial}, geom {geometry}, feature_id TEXT NOT NULL, "
        f"{feature_cols}, {meta}, retired_by TEXT NOT NULL, retired_at TEXT)",
        "CREATE INDEX feature_versions_retired_by ON feature_versions (retired_by)",
        "CREATE INDEX feature_versions_feature_id ON feature_versions (feature_id)",
        f"CREATE TABLE rejected (fid {serial}, source_file TEXT, \"where\" TEXT, reason TEXT, raw TEXT, "
        "import_id TEXT, retired_by TEXT)",
        "CREATE INDEX rejected_source_file ON rejected (source_file)",
        f"CREATE TABLE import_log (fid {serial}, import_id TEXT NOT NULL UNIQUE, file TEXT, sha256 TEXT, "
        "imported_at TEXT, rows_read INTEGER, accepted INTEGER, rejected INTEGER, user_name TEXT, reverted_by TEXT)",
        f"CREATE TABLE changes (change_id {serial}, at TEXT NOT NULL, user_name TEXT, action TEXT NOT NULL, "
        "summary TEXT, import_id TEXT, reverts INTEGER, reverted_by INTEGER)",
        "CREATE TABLE change_rows (change_id INTEGER NOT NULL, feature_id TEXT, field TEXT, old TEXT, new TEXT)",
        "CREATE INDEX change_rows_change ON change_rows (change_id)",
        "CREATE INDEX change_rows_feature ON change_rows (feature_id)",
        f"CREATE TABLE side_rows (fid {serial}, table_name TEXT NOT NULL, row_index INTEGER NOT NULL, "
        f"data TEXT NOT NULL, geom_wkb {blob})",
        "CREATE INDEX side_rows_table ON side_rows (table_name)",
        *side_history_statements(serial=serial, blob=blob),
        "CREATE TABLE atlas_meta (key TEXT PRIMARY KEY, value TEXT)",
    ]


def side_history_statements(*, serial: str, blob: str) -> list[str]:
    """CREATE statements of the side-table history (both databases; harmless when the tables exist).

    ``side_writes`` has one row per table a recorded change wrote, with ``content_of``: the
    change whose rows the table holds after it (a revert gives back an earlier change's
    rows; 0 is the table as it was before its first recorded change). ``side_versions``
    keeps the rows each change replaced.
    """
    return [
        f"CREATE TABLE IF NOT EXISTS side_writes (fid {serial}, change_id INTEGER NOT NULL, "
        "table_name TEXT NOT NULL, content_of INTEGER NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS side_writes_change ON side_writes (change_id, table_name)",
        "CREATE INDEX IF NOT EXISTS side_writes_table ON side_writes (table_name, change_id)",
        f"CREATE TABLE IF NOT EXISTS side_versions (fid {serial}, change_id INTEGER NOT NULL, "
        f"table_name TEXT NOT NULL, row_index INTEGER NOT NULL, data TEXT NOT NULL, geom_wkb {blob})",
        "CREATE INDEX IF NOT EXISTS side_versions_change ON side_versions (change_id, table_name)",
    ]


def locked_message(where: str) -> str:
    return (f"workspace {where} is busy: another import, edit or revert has held it for more than "
            f"{WRITE_TIMEOUT_S:.0f} s. Nothing was changed; try again in a moment.")


# -- GeoPackage ------------------------------------------------------------------------------------
def gpkg_blobs(geoms: np.ndarray) -> list[bytes | None]:
    """Encode shapely geometries as GeoPackage blobs (little-endian header, no envelope, EPSG:4326)."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[bytes | None] = [None] * len(geoms)
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return out
    empty = shapely.is_empty(geoms) & present
    wkb = shapely.to_wkb(geoms[present], byte_order=1, flavor="iso").tolist()
    full = b"GP\x00\x01" + struct.pack("<i", SRID)
    hollow = b"GP\x00\x11" + struct.pack("<i", SRID)  # bit 4: empty geometry
    if len(wkb) == len(out) and not empty.any():  # the usual case, without a numpy scalar per row
        return [full + blob for blob in wkb]
    for i, blob, is_empty in zip(np.flatnonzero(present).tolist(), wkb, empty[present].tolist()):
        out[i] = (hollow if is_empty else full) + blob
    return out


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def geoms_from_gpkg(blobs: Iterable[bytes | None]) -> np.ndarray:
    """Decode GeoPackage geometry blobs (any envelope) into shapely geometries; None stays None."""
    wkb = []
    for blob in blobs:
        if blob is None:
            wkb.append(None)
            continue
        flags = blob[3]
        wkb.append(bytes(blob[8 + _ENVELOPE_BYTES.get((flags >> 1) & 0x07, 0):]))
    return shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="ignore")


class GeoPackage:
    """A workspace folder's ``atlas.gpkg``: SQLite in WAL mode with the GeoPackage tables."""

    param = "?"
    kind = "GeoPackage"

    def __init__(self, file: Path):
        self.file = file

    def where(self) -> str:
        return str(self.file.parent)

    def exists(self) -> bool:
        return self.file.exists()

    def connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.file, timeout=WRITE_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise WorkspaceError(f"{self.file}: cannot be opened as a workspace ({exc}). "
                                 "Check the path, or restore the folder from a backup.") from None
        return conn

    def begin_write(self, conn: sqlite3.Connection) -> None:
        """Start a write transaction, waiting for other writers (then failing with a clear message)."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise WorkspaceError(locked_message(self.where())) from None
            raise

    def has_table(self, conn, name: str) -> bool:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return row is not None

    def create_schema(self, conn, columns: Sequence[str]) -> None:
        """Create a new GeoPackage workspace (inside the caller's write transaction)."""
        for statement in _GPKG_CORE:
            conn.execute(statement)
        conn.executemany(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", _GPKG_SRS)
        for statement in schema_statements(columns, geometry="BLOB", serial="INTEGER PRIMARY KEY AUTOINCREMENT",
                                           blob="BLOB"):
            conn.execute(statement)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, "
                     "srs_id) VALUES ('features', 'features', 'features', 'Creative Atlas features', ?, ?)",
                     (now, SRID))
        conn.execute("INSERT INTO gpkg_geometry_columns VALUES ('features', 'geom', 'GEOMETRY', ?, 0, 0)", (SRID,))
        for table in ("feature_versions", "rejected", "import_log", "changes", "change_rows", "side_rows",
                      *SIDE_HISTORY):
            conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) "
                         "VALUES (?, 'attributes', ?, ?)", (table, table, now))

    def add_side_history(self, conn) -> None:
        """Create the side-table history in a workspace made before it (inside the caller's write transaction)."""
        if all(self.has_table(conn, table) for table in SIDE_HISTORY):
            return
        for statement in side_history_statements(serial="INTEGER PRIMARY KEY AUTOINCREMENT", blob="BLOB"):
            conn.execute(statement)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        conn.executemany("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, last_change) "
                         "VALUES (?, 'attributes', ?, ?)", [(table, table, now) for table in SIDE_HISTORY])

    def set_wal(self, conn) -> None:
        """Mark the file as a GeoPackage and turn on WAL (outside any transaction, once).

        Two processes making the same new workspace can meet here: switching the journal
        needs the file to itself, and SQLite answers "locked" at once rather than wait (its
        busy handler would deadlock), so wait and try again, up to `WRITE_TIMEOUT_S`.
        """
        deadline = time.monotonic() + WRITE_TIMEOUT_S
        while True:
            try:
                if conn.execute("PRAGMA application_id").fetchall()[0][0] != _GPKG_APPLICATION_ID:
                    # Written before WAL is on, so the file header itself says GeoPackage (GDAL reads it there).
                    conn.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
                conn.execute("PRAGMA journal_mode = WAL").fetchall()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise WorkspaceError(locked_message(self.where())) from None
                time.sleep(0.05)

    def encode(self, geoms: np.ndarray) -> list:
        return gpkg_blobs(geoms)

    def decode(self, values: Iterable[Any]) -> np.ndarray:
        return geoms_from_gpkg(values)

    geom_select = "geom"

    def insert_rows(self, conn, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def sql(self, text: str) -> str:
        return text

    def insert_returning_id(self, conn, sql: str, params: tuple, id_column: str) -> int:
        return int(conn.execute(sql + f" RETURNING {id_column}", params).fetchone()[0])


_GPKG_CORE = [
    "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, "
    "organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, "
    "description TEXT)",
    "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, "
    "identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT "
    "(strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, "
    "srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
    "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
    "geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, "
    "CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
    "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
    "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
]
_WGS84_WKT = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
              'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
              'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],'
              'AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]')
_GPKG_SRS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
    ("WGS 84 geodetic", SRID, "EPSG", SRID, _WGS84_WKT, "longitude/latitude coordinates in decimal degrees"),
]


# -- PostGIS ---------------------------------------------------------------------------------------
class PostGIS:
    """A ``postgresql://`` workspace: PostgreSQL + PostGIS, geometry(Geometry, 4326) with GiST indexes."""

    param = "%s"
    kind = "PostGIS"

    def __init__(self, url: str):
        self.url = url

    def where(self) -> str:
        return redact_url(self.url)

    def connect(self):
        import psycopg

        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WorkspaceError(f"{self.where()}: cannot connect to the database ({first}). "
                                 "Check the URL, that PostgreSQL is running and that the user may log in.") from None
        return conn

    def exists(self) -> bool:
        conn = self.connect()
        try:
            return self.has_table(conn, "atlas_meta")
        finally:
            conn.close()

    def begin_write(self, conn) -> None:
        import psycopg

        try:
            conn.execute("BEGIN")
            conn.execute(f"SET LOCAL lock_timeout = '{int(WRITE_TIMEOUT_S * 1000)}ms'")
            # One writer at a time per workspace: imports replace whole files, so they must not interleave.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('creative-atlas-workspace'))")
        except psycopg.errors.LockNotAvailable:
            conn.execute("ROLLBACK")
            raise WorkspaceError(locked_message(self.where())) from None

    def has_table(self, conn, name: str) -> bool:
        # Not to_regclass: it resolves names through the backend's catalog cache, which keeps
        # "no such table" from before this transaction waited for the write lock, so a second
        # process creating a workspace at the same time missed the tables the first had just
        # committed and failed on CREATE TABLE. A plain query of pg_tables sees every commit.
        row = conn.execute("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                           "AND tablename = %s", (name,)).fetchone()
        return row is not None

    def create_schema(self, conn, columns: Sequence[str]) -> None:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        for statement in schema_statements(columns, geometry=f"geometry(Geometry, {SRID})",
                                           serial="BIGSERIAL PRIMARY KEY", blob="BYTEA"):
            conn.execute(statement)
        conn.execute("CREATE INDEX features_geom ON features USING GIST (geom)")
        conn.execute("CREATE INDEX feature_versions_geom ON feature_versions USING GIST (geom)")

    def add_side_history(self, conn) -> None:
        """Create the side-table history in a workspace made before it (inside the caller's write transaction)."""
        if all(self.has_table(conn, table) for table in SIDE_HISTORY):
            return
        for statement in side_history_statements(serial="BIGSERIAL PRIMARY KEY", blob="BYTEA"):
            conn.execute(statement)

    def set_wal(self, conn) -> None:
        pass

    def encode(self, geoms: np.ndarray) -> list:
        geoms = np.asarray(geoms, dtype=object)
        out: list[str | None] = [None] * len(geoms)
        present = ~shapely.is_missing(geoms)
        if present.any():
            # Hex EWKB with the SRID spliced into each header (as gpkg_blobs does): set_srid copied
            # every geometry and GEOS's hex writer is slow; this takes 0.13 s, not 0.31 s, per 100,000.
            srid, word = struct.pack("<I", SRID), struct.Struct("<I")
            wkb = shapely.to_wkb(geoms[present], byte_order=1, flavor="extended")
            for i, blob in zip(np.flatnonzero(present).tolist(), wkb):
                out[i] = (blob[:1] + word.pack(word.unpack_from(blob, 1)[0] | 0x20000000) + srid + blob[5:]).hex()
        return out

    def decode(self, values: Iterable[Any]) -> np.ndarray:
        return shapely.from_wkb(np.array([None if v is None else bytes(v) for v in values], dtype=object),
                                on_invalid="ignore")

    geom_select = "ST_AsBinary(geom)"

    def insert_rows(self, conn, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        with conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def insert_returning_id(self, conn, sql: str, params: tuple, id_column: str) -> int:
        return int(conn.execute(self.sql(sql) + f" RETURNING {id_column}", params).fetchone()[0])
