"""The workspace store: features, rejected rows, the import log and the history of every change.

A workspace lives in a folder (one GeoPackage, ``atlas.gpkg``: the embedded default) or in
a PostgreSQL/PostGIS database (a ``postgresql://`` URL, for a shared deployment); both sit
behind `Workspace`. Every import, edit (a moved point too), assignment, accepted rejected row
and revert is one database transaction of row inserts, updates and deletes, recorded in
``changes`` (who, when, what) and ``change_rows`` (feature, field, old value -> new value;
the geometry as WKT). Rows an import replaces, or a
revert removes, move to ``feature_versions`` (side-table rows a recorded change replaces,
to ``side_versions``), so nothing is ever lost and every change can be reverted. Features
carry a ``version``: an edit based on an older version is refused with a `ConflictError`
naming who changed what.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import repeat
from pathlib import Path
from typing import Any, Iterable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from access.roles import EDIT, IMPORT, REVERT, SAVE_SITE, require
from errors import ConflictError, ImportFileError, UsageError, WorkspaceError
from loaders import read_bytes
from loaders.features import COLUMNS, CRS, LOCATION_SOURCES, LoadResult, empty_features
from loaders.layers import ALL_LAYERS, STATUSES, UNCLASSIFIED
from workspace._sql import SCHEMA_VERSION, SIDE_HISTORY, GeoPackage, PostGIS

GPKG_NAME = "atlas.gpkg"
FEATURES, REJECTED, IMPORTS, EDITS = "features", "rejected", "import_log", "edits"
REJECTED_COLUMNS = ("source_file", "where", "reason", "raw", "import_id")
IMPORT_COLUMNS = ("import_id", "file", "sha256", "imported_at", "rows_read", "accepted", "rejected")
EDIT_COLUMNS = ("feature_id", "field", "value", "edited_at")
HISTORY_COLUMNS = ("change_id", "at", "user", "action", "summary", "import_id", "reverts", "reverted_by")
EDITABLE = tuple(c for c in COLUMNS if c not in ("feature_id", "source_file", "source_ref", "location_source"))
# Actions recorded in the history.
IMPORT_ACTION, EDIT_ACTION, ASSIGN_ACTION, ADD_ACTION, REVERT_ACTION = "import", "edit", "assign", "add", "revert"
BOUNDARY_ACTION, UPGRADE_ACTION, ACCEPT_ACTION = "boundary", "upgrade", "accept"
# Changes that bring in features as a unit (their import id is their change id) and are undone whole.
_IMPORT_LIKE = (IMPORT_ACTION, ADD_ACTION, ACCEPT_ACTION)
GEOMETRY = "geometry"
"""The field name of a geometry change: recorded in ``change_rows`` as WKT (EPSG:4326), old → new."""
# Besides the EDITABLE text fields, an edit may move a feature (its geometry) and say where the
# new location comes from; neither is offered as a text field of the edit form.
_FIX_FIELDS = (GEOMETRY, "location_source")
_TEXT = [c for c in COLUMNS if c != "feature_id"]
_ROW_COLUMNS = ["geom", "feature_id", *_TEXT, "version", "import_id", "original", "updated_at", "updated_by"]
_KNOWN_TABLES = ("features", "feature_versions", "rejected", "import_log", "changes", "change_rows", "side_rows",
                 *SIDE_HISTORY, "atlas_meta")


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.split("://", 1)[0] in ("postgresql", "postgres")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


_STR_OR_NONE = frozenset((str, type(None)))


def _texts(values: list[Any]) -> list[str | None]:
    """`_text` of every value; a column of str and None (what loaders give) is returned as it is."""
    # Types are collected in C: a test per value in Python (1.7 million for 100,000 features)
    # cost as much as the database write.
    if _STR_OR_NONE.issuperset(map(type, values)):
        return values
    return [v if v is None or v.__class__ is str else _text(v) for v in values]


class Workspace:
    """A workspace: a folder holding ``atlas.gpkg``, or a ``postgresql://`` database URL.

    Parameters
    ----------
    location
        A folder (created on the first import) or a PostgreSQL URL.
    user
        Who makes the changes, recorded in the history; by default the operating-system
        login (local mode).
    role
        ``viewer``, ``editor`` or ``admin`` in shared mode: a viewer may read but every
        write is refused with `access.AccessDenied`. None (local mode) allows everything.
    """

    def __init__(self, location: str | Path, *, user: str | None = None, role: str | None = None):
        self.location = str(location)
        self.user = user or _login()
        self.role = role
        if _is_url(location):
            self.path: Path | None = None
            self.gpkg: Path | None = None
            self._db: GeoPackage | PostGIS = PostGIS(str(location))
        else:
            self.path = Path(location)
            self.gpkg = self.path / GPKG_NAME
            self._db = GeoPackage(self.gpkg)
        self._conn = None
        self._ready = False

    def __repr__(self) -> str:
        return f"Workspace({self._db.where()!r})"

    @property
    def name(self) -> str:
        """A short name to show: the folder's name, or the database's."""
        if self.path is not None:
            return self.path.name
        return self.location.rsplit("/", 1)[-1].split("?", 1)[0] or "postgresql"

    @property
    def where(self) -> str:
        """The location to show a user: the folder, or the URL without its password."""
        return self._db.where()

    def create(self) -> None:
        """Create the workspace (empty) if it does not exist yet."""
        self._transaction_check(EDIT)
        self._connection(create=True)

    @property
    def backend(self) -> str:
        """``GeoPackage`` or ``PostGIS``."""
        return self._db.kind

    # -- connection and schema ---------------------------------------------------------------------
    def close(self) -> None:
        """Close the database connection (a new one is opened when needed)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._ready = False

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001  (interpreter shutdown: nothing to report to)
            pass

    def exists(self) -> bool:
        """True when the workspace has been created (a first import or change was made)."""
        if isinstance(self._db, GeoPackage):
            return self._db.exists()
        return self._ready or self._db.exists()

    def _connection(self, *, create: bool = False):
        """The open connection, with the schema current; None when there is no workspace and not `create`."""
        if self._conn is not None and self._ready:
            return self._conn
        if isinstance(self._db, GeoPackage):
            if not self._db.exists():
                if not create:
                    return None
                self._create_folder()
        self._conn = self._conn or self._db.connect()
        try:
            self._ensure_schema(create=create)
        except BaseException:
            self.close()
            raise
        return self._conn if self._ready else None

    def _create_folder(self) -> None:
        assert self.path is not None
        if self.path.exists() and not self.path.is_dir():
            raise WorkspaceError(f"{self.path} is a file, not a folder: a workspace is a folder holding "
                                 f"{GPKG_NAME}. Give a folder instead.")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create the workspace folder {self.path} ({exc.strerror}). "
                                 "Choose a folder you may write to.") from None

    def _ensure_schema(self, *, create: bool) -> None:
        conn, db = self._conn, self._db
        if self._has_current_schema(conn):
            self._ready = True
            return
        if not create and not db.has_table(conn, "features"):
            return
        legacy = None
        if isinstance(db, GeoPackage):
            if db.has_table(conn, "features"):
                # GDAL reads the old layout. It must not share the file with an open connection of
                # ours: its own SQLite would drop our locks when it closes (POSIX lock semantics).
                self._conn.close()
                self._conn = None
                legacy = _read_legacy(self)
                self._conn = conn = db.connect()
            db.set_wal(conn)
        with self._write() as conn:
            if self._has_current_schema(conn):  # another process made it while we waited
                pass
            else:
                if legacy is not None:
                    _drop_legacy(conn, legacy)
                db.create_schema(conn, COLUMNS)
                conn.execute(db.sql("INSERT INTO atlas_meta (key, value) VALUES (?, ?)"),
                             ("schema_version", str(SCHEMA_VERSION)))
                if legacy is not None:
                    self._load_legacy(conn, legacy)
        self._ready = True

    def _has_current_schema(self, conn) -> bool:
        if not self._db.has_table(conn, "atlas_meta"):
            return False
        row = conn.execute("SELECT value FROM atlas_meta WHERE key = 'schema_version'").fetchone()
        return row is not None and int(row[0]) >= SCHEMA_VERSION

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        conn = self._conn
        self._db.begin_write(conn)
        try:
            yield conn
        except BaseException:
            self._rollback(conn)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback(conn)
                raise WorkspaceError(f"workspace {self._db.where()}: the change could not be saved ({exc}). "
                                     "Nothing was changed; check the disk has free space.") from None

    @staticmethod
    def _rollback(conn) -> None:
        # SQLite has already rolled back after some errors (a full disk): then there is nothing to undo.
        if isinstance(conn, sqlite3.Connection) and not conn.in_transaction:
            return
        conn.execute("ROLLBACK")

    def _transaction_check(self, action: str) -> None:
        if self.role is not None:
            require(_Actor(self.user, self.role), action)

    @contextmanager
    def _transaction(self, action: str, *, create: bool = True) -> Iterator[Any]:
        """A write transaction for `action`, after checking the role allows it.

        With ``create=False`` (edits, reverts) a workspace that does not exist yet is an
        error rather than created empty.
        """
        self._transaction_check(action)
        if self._connection(create=create) is None:
            raise WorkspaceError(f"there is no workspace at {self.where} yet. Import files into it first: "
                                 f"python -m atlas import FILE --workspace LOCATION")
        try:
            with self._write() as conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            if "full" in str(exc):
                raise WorkspaceError(f"workspace {self._db.where()}: the disk is full ({exc}). Nothing was changed; "
                                     "free some space and try again.") from None
            raise WorkspaceError(f"workspace {self._db.where()}: the database refused the change ({exc}). "
                                 "Nothing was changed. If this repeats, restore the workspace from a backup.") from None

    def _q(self, sql: str) -> str:
        return self._db.sql(sql)

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self._connection()
        if conn is None:
            return []
        try:
            return conn.execute(self._q(sql), params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise WorkspaceError(f"{self._db.where()}: the workspace cannot be read ({exc}). "
                                 "Restore it from a backup, or import the files again into a new folder.") from None

    # -- reading -----------------------------------------------------------------------------------
    def stamp(self, *, actions: tuple[str, ...] | None = None) -> int:
        """A number that changes with every change to the workspace (0 when there is none): a cache key.

        With `actions`, only changes of those kinds count (e.g. ``("boundary",)``).
        """
        if actions:
            marks = ", ".join("?" * len(actions))
            rows = self._rows(f"SELECT max(change_id) FROM changes WHERE action IN ({marks})", tuple(actions))
        else:
            rows = self._rows("SELECT max(change_id) FROM changes")
        return int(rows[0][0] or 0) + 1 if rows else 0

    def tables(self) -> list[str]:
        """Names of the workspace's tables (empty when there is no workspace yet)."""
        if self._connection() is None:
            return []
        side = [r[0] for r in self._rows("SELECT DISTINCT table_name FROM side_rows ORDER BY table_name")]
        return ["features", "rejected", "import_log", "changes", *side]

    def _feature_frame(self, rows: list[tuple]) -> gpd.GeoDataFrame:
        if not rows:
            return empty_features()
        columns = list(zip(*rows))
        geoms = self._db.decode(columns[0])
        data = {"feature_id": pd.Series(columns[1], dtype=object)}
        for i, name in enumerate(_TEXT, start=2):
            data[name] = pd.Series(columns[i], dtype=object)
        frame = pd.DataFrame(data)[list(COLUMNS)]
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)

    def _select_features(self, extra: str = "") -> list[tuple]:
        names = ", ".join(f'"{c}"' for c in _TEXT)
        return self._rows(f"SELECT {self._db.geom_select}, feature_id, {names}{extra} FROM features ORDER BY fid")

    def features(self) -> gpd.GeoDataFrame:
        """All current features in EPSG:4326 (edits, layer assignments and fixes included)."""
        return self._feature_frame(self._select_features())

    def base_features(self) -> gpd.GeoDataFrame:
        """Current features with every edited field back at its imported value (a moved point too)."""
        rows = self._select_features(", original")
        frame = self._feature_frame([r[:-1] for r in rows])
        for i, row in enumerate(rows):
            if row[-1]:
                for field, value in json.loads(row[-1]).items():
                    if field == GEOMETRY:
                        value = None if value is None else shapely.from_wkt(value)
                    frame.iat[i, frame.columns.get_loc(field)] = value
        return frame

    def count(self) -> int:
        """How many current features the workspace holds (0 when there is none)."""
        rows = self._rows("SELECT count(*) FROM features")
        return int(rows[0][0]) if rows else 0

    def versions(self, feature_ids: Iterable[str] | None = None) -> dict[str, int]:
        """The current version of each feature (all, or those in `feature_ids`)."""
        if feature_ids is None:
            return {fid: int(v) for fid, v in self._rows("SELECT feature_id, version FROM features")}
        # Looked up by the unique index, a few hundred ids a query: reading every row to pick one
        # (the Data page opening a feature) cost 130 ms of CPU on a 100,000-feature workspace.
        wanted, out = list(dict.fromkeys(feature_ids)), {}
        for start in range(0, len(wanted), 500):
            chunk = tuple(wanted[start:start + 500])
            marks = ", ".join("?" * len(chunk))
            out.update((fid, int(v)) for fid, v in self._rows(
                f"SELECT feature_id, version FROM features WHERE feature_id IN ({marks})", chunk))
        return out

    def _frame(self, sql: str, columns: tuple[str, ...]) -> pd.DataFrame:
        rows = self._rows(sql)
        if not rows:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        return pd.DataFrame(rows, columns=list(columns))

    def rejected(self) -> pd.DataFrame:
        """Rejected rows of the current imports: source file, where, reason, raw values (JSON), import id.

        ``rejected_id`` names a row for `accept_rejected`.
        """
        return self._frame('SELECT source_file, "where", reason, raw, import_id, fid FROM rejected '
                           "WHERE retired_by IS NULL ORDER BY fid", REJECTED_COLUMNS + ("rejected_id",))

    def imports(self) -> pd.DataFrame:
        """The import log, oldest first: file, SHA-256, time, counts, who, and the revert if any."""
        return self._frame("SELECT import_id, file, sha256, imported_at, rows_read, accepted, rejected, user_name, "
                           "reverted_by FROM import_log ORDER BY fid",
                           IMPORT_COLUMNS + ("user", "reverted_by"))

    def edits(self) -> pd.DataFrame:
        """Field edits in effect (made in the app or the command line, not reverted), oldest first."""
        return self._frame(
            "SELECT r.feature_id, r.field, r.new, c.at FROM change_rows r JOIN changes c ON c.change_id = r.change_id "
            f"WHERE c.action IN ('{EDIT_ACTION}', '{ASSIGN_ACTION}') AND c.reverted_by IS NULL "
            "ORDER BY c.change_id", EDIT_COLUMNS)

    def history(self, *, feature_id: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Every change, newest first: id, when, who, action, summary, import id, what it reverts or was reverted by.

        With `feature_id`, only the changes that touched that feature.
        """
        where, params = "", ()
        if feature_id is not None:
            imports = ("SELECT import_id FROM features WHERE feature_id = ? "
                       "UNION SELECT import_id FROM feature_versions WHERE feature_id = ?")
            where = ("WHERE change_id IN (SELECT change_id FROM change_rows WHERE feature_id = ?) "
                     f"OR import_id IN ({imports}) "
                     f"OR reverts IN (SELECT change_id FROM changes WHERE import_id IN ({imports}))")
            params = (feature_id, feature_id, feature_id, feature_id, feature_id)
        tail = f" LIMIT {int(limit)}" if limit else ""
        rows = self._rows(f"SELECT change_id, at, user_name, action, summary, import_id, reverts, reverted_by "
                          f"FROM changes {where} ORDER BY change_id DESC{tail}", params)
        # Plain Python values (ints, str, None), not NaN-filled floats: callers print and compare them.
        return pd.DataFrame({c: pd.Series([r[i] for r in rows], dtype="object")
                             for i, c in enumerate(HISTORY_COLUMNS)})

    def change_rows(self, change_id: int) -> pd.DataFrame:
        """What one change did, field by field: feature id, field, old value, new value."""
        rows = self._rows("SELECT feature_id, field, old, new FROM change_rows WHERE change_id = ? "
                          "ORDER BY feature_id, field", (int(change_id),))
        return pd.DataFrame(rows, columns=["feature_id", "field", "old", "new"])

    # -- side tables (boundaries, cached downloads) -------------------------------------------------
    def read_table(self, name: str) -> pd.DataFrame | gpd.GeoDataFrame | None:
        """Read a side table other modules keep here (e.g. boundaries), or None when it has no rows."""
        rows = self._rows("SELECT data, geom_wkb FROM side_rows WHERE table_name = ? ORDER BY row_index", (name,))
        if not rows:
            return None
        frame = pd.DataFrame([json.loads(r[0]) for r in rows])
        if all(r[1] is None for r in rows) and "__geometry__" not in frame:
            return frame
        frame = frame.drop(columns="__geometry__", errors="ignore")
        geoms = shapely.from_wkb(np.array([None if r[1] is None else bytes(r[1]) for r in rows], dtype=object))
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=CRS), crs=CRS)

    def write_tables(self, tables: dict[str, pd.DataFrame], *, summary: str | None = None) -> int | None:
        """Replace side tables in one transaction; return the change id, or None for a cache write.

        With `summary` the change is recorded in the history and the rows it replaces are
        kept (``side_versions``), so `revert` can bring them back. Without it (a cache, e.g.
        downloaded boundaries) nothing is recorded or kept.
        """
        with self._transaction(EDIT if summary else _CACHE) as conn:
            change = None
            if summary:
                self._db.add_side_history(conn)
                change = self._record(conn, BOUNDARY_ACTION, summary)
            for name, frame in tables.items():
                if change is None:
                    conn.execute(self._q("DELETE FROM side_rows WHERE table_name = ?"), (name,))
                else:
                    self._retire_side(conn, name, change, content_of=change)
                self._write_side(conn, name, frame)
        return change

    def _retire_side(self, conn, name: str, change: int, *, content_of: int) -> None:
        """Move side table `name`'s rows to side_versions as replaced by `change`, and log the write."""
        conn.execute(self._q("INSERT INTO side_writes (change_id, table_name, content_of) VALUES (?, ?, ?)"),
                     (change, name, content_of))
        conn.execute(self._q("INSERT INTO side_versions (change_id, table_name, row_index, data, geom_wkb) "
                             "SELECT ?, table_name, row_index, data, geom_wkb FROM side_rows WHERE table_name = ?"),
                     (change, name))
        conn.execute(self._q("DELETE FROM side_rows WHERE table_name = ?"), (name,))

    def _side_writes(self, conn, change_id: int) -> list[tuple[str, int]]:
        """The side tables `change_id` wrote, each with the change whose rows it left there."""
        if not self._db.has_table(conn, "side_writes"):  # a workspace no recorded side write has touched yet
            return []
        return conn.execute(self._q("SELECT table_name, content_of FROM side_writes WHERE change_id = ? "
                                    "ORDER BY table_name"), (change_id,)).fetchall()

    # -- writing: imports ----------------------------------------------------------------------------
    def _record(self, conn, action: str, summary: str, *, import_id: str | None = None,
                reverts: int | None = None) -> int:
        return self._db.insert_returning_id(
            conn, "INSERT INTO changes (at, user_name, action, summary, import_id, reverts) VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), self.user, action, summary, import_id, reverts), "change_id")

    def _retire(self, conn, where: str, params: tuple, retired_by: str) -> None:
        """Move current feature rows matching `where` to feature_versions (never deleted)."""
        cols = ", ".join(f'"{c}"' for c in _ROW_COLUMNS)
        conn.execute(self._q(f"INSERT INTO feature_versions ({cols}, retired_by, retired_at) "
                             f"SELECT {cols}, ?, ? FROM features WHERE {where}"), (retired_by, _now(), *params))
        conn.execute(self._q(f"DELETE FROM features WHERE {where}"), params)

    def _restore(self, conn, retired_by: str) -> int:
        """Bring back the feature rows retired by change `retired_by`; return how many."""
        cols = ", ".join(f'"{c}"' for c in _ROW_COLUMNS)
        clash = conn.execute(self._q(
            "SELECT v.feature_id FROM feature_versions v JOIN features f ON f.feature_id = v.feature_id "
            "WHERE v.retired_by = ?"), (retired_by,)).fetchall()
        if clash:
            raise ConflictError(
                f"{len(clash)} feature(s) replaced by this change are in the workspace again from another file "
                f"(e.g. {clash[0][0]}), so they cannot be brought back. Revert that later import first.")
        moved = conn.execute(self._q(f"INSERT INTO features ({cols}) SELECT {cols} FROM feature_versions "
                                     "WHERE retired_by = ?"), (retired_by,)).rowcount
        conn.execute(self._q("DELETE FROM feature_versions WHERE retired_by = ?"), (retired_by,))
        return moved

    def _insert_features(self, conn, frame: gpd.GeoDataFrame, import_id: str, carried: dict[str, dict]) -> None:
        if frame.empty:
            return
        count = len(frame)
        shapes = np.asarray(frame.geometry.values, dtype=object)
        text = {c: _texts(frame[c].tolist()) for c in COLUMNS}
        fids = text["feature_id"]
        versions = carried.get("__versions__", {})
        values: dict[str, Any] = {"feature_id": fids, **{c: text[c] for c in _TEXT}}
        constants: dict[str, Any] = {"import_id": import_id, "updated_at": _now(), "updated_by": self.user}
        if versions:
            values["version"] = [versions.get(fid, 0) + 1 for fid in fids]
        else:
            constants["version"] = 1
        if any(key != "__versions__" for key in carried) or versions:
            # The user's edits of retired rows, applied again: the imported value is kept in "original".
            originals: list[str | None] = [None] * count
            own_shapes = False
            for i, fid in enumerate(fids):
                edits = carried.get(fid)
                if edits:
                    kept = {}
                    for field, value in edits.items():
                        if field == GEOMETRY:  # a moved point stays moved
                            kept[field] = _wkt(shapes[i])
                            if not own_shapes:  # the caller's frame keeps its geometries
                                shapes, own_shapes = shapes.copy(), True
                            shapes[i] = None if value is None else shapely.from_wkt(value)
                            continue
                        kept[field] = text[field][i]
                        text[field][i] = value
                    originals[i] = json.dumps(kept, ensure_ascii=False)
            values["original"] = originals
        # A column that is empty in every row is left out of the INSERT (it is NULL all the
        # same): Python's sqlite3 binds None through its adapter lookup, which costs as much
        # as the row write itself when a third of the columns are empty.
        present = ~shapely.is_missing(shapes)
        columns = [c for c in _ROW_COLUMNS if c in constants or (
            present.any() if c == "geom" else c in values and values[c].count(None) < count)]

        # A generator, not a list, encoding 5,000 rows at a time: PostgreSQL ingests the COPY
        # while the next rows are encoded and built.
        def rows() -> Iterator[tuple]:
            for start in range(0, count, 5_000):
                block = slice(start, start + 5_000)
                yield from zip(*(
                    self._db.encode(shapes[block]) if c == "geom"
                    else repeat(constants[c]) if c in constants else values[c][block]
                    for c in columns
                ))

        self._db.insert_rows(conn, "features", columns, rows())

    def _carried_edits(self, conn, import_id: str) -> dict[str, Any]:
        """Edits of the rows an import just retired, to apply again to their new rows (by feature id)."""
        carried: dict[str, Any] = {"__versions__": {}}
        names = ", ".join(f'"{c}"' for c in _TEXT)
        for row in conn.execute(self._q(f"SELECT feature_id, version, original, {self._db.geom_select}, {names} "
                                        "FROM feature_versions WHERE retired_by = ?"), (import_id,)).fetchall():
            fid, version, original = row[0], int(row[1]), row[2]
            carried["__versions__"][fid] = max(version, carried["__versions__"].get(fid, 0))
            if original:
                current = dict(zip(_TEXT, row[4:]))
                fields = json.loads(original)
                if GEOMETRY in fields:
                    current[GEOMETRY] = _wkt(self._db.decode([row[3]])[0])
                carried[fid] = {field: current[field] for field in fields}
        return carried

    def add_results(self, results: list[tuple[LoadResult, str]]) -> list[str]:
        """Store loader results, each with its file's SHA-256, in one transaction; return the import ids.

        A file imported again under the same name replaces what that file gave before
        (its features and rejected rows move to the history, so the import can be
        reverted); the user's edits of those features are applied again to the new rows.
        """
        if not results:
            return []
        ids = []
        with self._transaction(IMPORT) as conn:
            for result, digest in results:
                summary = (f"{result.file}: {result.accepted} feature(s), {len(result.rejected)} rejected "
                           f"of {result.rows_read} read")
                import_id = str(self._record(conn, IMPORT_ACTION, summary))
                conn.execute(self._q("UPDATE changes SET import_id = ? WHERE change_id = ?"),
                             (import_id, int(import_id)))
                self._store_result(conn, result, digest, import_id)
                ids.append(import_id)
        return ids

    def _store_result(self, conn, result: LoadResult, digest: str, import_id: str) -> None:
        frame = result.features
        if not frame["feature_id"].is_unique:
            frame = frame.drop_duplicates("feature_id", keep="last")
        self._retire(conn, "source_file = ?", (result.file,), import_id)
        # The same id from another file: the newer import wins. Looked up by index, so a small file
        # imported into a large workspace does not read every id there (nor any into an empty one).
        if conn.execute("SELECT 1 FROM features LIMIT 1").fetchone() is not None:
            for fid in self.versions(frame["feature_id"]):
                self._retire(conn, "feature_id = ?", (fid,), import_id)
        self._insert_features(conn, frame, import_id, self._carried_edits(conn, import_id))
        conn.execute(self._q("UPDATE rejected SET retired_by = ? WHERE source_file = ? AND retired_by IS NULL"),
                     (import_id, result.file))
        rejected_rows = [(result.file, r.where, r.reason, json.dumps(r.raw, ensure_ascii=False, default=str),
                          import_id, None) for r in result.rejected]
        fixes = self._accepted_fixes(conn, import_id)
        if fixes:
            # A row accepted with a fix and rejected again (same raw values) keeps its fix: the accepted
            # feature stays, as part of this import, rather than the row going back to the rejected list.
            kept = []
            for i, row in enumerate(rejected_rows):
                if fixes.get(row[3]):
                    kept.append(fixes[row[3]].pop(0))
                    rejected_rows[i] = None
            rejected_rows = [r for r in rejected_rows if r is not None]
            self._keep_accepted(conn, import_id, kept)
            if kept:
                result.notes.append(f"{len(kept)} rejected row(s) were accepted earlier with a fix; "
                                    "those fixes are kept.")
        self._db.insert_rows(conn, "rejected", ("source_file", "where", "reason", "raw", "import_id", "retired_by"),
                             rejected_rows)
        conn.execute(self._q("INSERT INTO import_log (import_id, file, sha256, imported_at, rows_read, accepted, "
                             "rejected, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                     (import_id, result.file, digest, _now(), result.rows_read, result.accepted,
                      len(result.rejected), self.user))

    def import_files(self, paths: list[str | Path], *, country: str | None = None) -> list[LoadResult]:
        """Read every file, then store them all in one transaction.

        Raises ImportFileError for the first file that cannot be read at all; nothing is
        written in that case.
        """
        loaded = []
        for path in paths:
            path = Path(path)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ImportFileError(f"{path.name}: cannot be opened ({exc.strerror}). Check the path.") from None
            loaded.append((read_bytes(data, path.name, country=country), sha256(data)))
        self.add_results(loaded)
        return [result for result, _ in loaded]

    def import_bytes(self, data: bytes, name: str, *, country: str | None = None) -> LoadResult:
        """Read and store one uploaded file given as bytes."""
        result = read_bytes(data, name, country=country)
        self.add_results([(result, sha256(data))])
        return result

    def add_features(self, features: gpd.GeoDataFrame, *, summary: str | None = None) -> int:
        """Add features made in the app (e.g. a suggested site saved as planned); return the change id."""
        frame = gpd.GeoDataFrame(features[list(COLUMNS) + ["geometry"]], geometry="geometry", crs=CRS)
        frame = frame.drop_duplicates("feature_id", keep="last")
        names = ", ".join(str(n) for n in frame["name"].head(3))
        with self._transaction(SAVE_SITE) as conn:
            change = self._record(conn, ADD_ACTION, summary or f"added {len(frame)} feature(s): {names}")
            import_id = str(change)
            conn.execute(self._q("UPDATE changes SET import_id = ? WHERE change_id = ?"), (import_id, change))
            for fid in frame["feature_id"]:
                self._retire(conn, "feature_id = ?", (fid,), import_id)
            self._insert_features(conn, frame, import_id, self._carried_edits(conn, import_id))
        return change

    # -- writing: a rejected row accepted with a fix ----------------------------------------------------
    def accept_rejected(self, rejected_id: int, values: dict[str, Any], geometry: Any, *,
                        location_source: str = "coordinates") -> tuple[int, str]:
        """Turn one rejected row into a feature with the user's fix, in one transaction; return (change id, feature id).

        Parameters
        ----------
        rejected_id
            The row, as ``rejected_id`` in `rejected`.
        values
            The feature's fields (any of `EDITABLE`; layer defaults to ``unclassified``, status
            to ``existing``, attributes to the row's raw values).
        geometry
            Where it is: a shapely geometry or WKT in EPSG:4326 (lon/lat). Required.
        location_source
            ``gazetteer`` (a place picked for its town) or ``coordinates`` (typed in).

        The feature keeps the row's file and place (``source_file``, ``source_ref``) and is
        recorded as an ``accept`` change (who, when, every field ``None`` → value), which
        `revert` undoes: the feature leaves and the row is rejected again. A row accepted
        or replaced meanwhile (another user, a re-import) is refused with `ConflictError`
        and nothing changes. A later re-import of the file that rejects the same row again
        (same raw values) keeps the accepted feature instead (see `add_results`).
        """
        unknown = sorted(set(values) - set(EDITABLE))
        if unknown:
            raise UsageError(f"fields {unknown} cannot be set; settable: {', '.join(EDITABLE)}")
        wkt = _wkt(geometry)
        if wkt is None:
            raise UsageError("the row has no location yet: pick a place for its town or type latitude and "
                             "longitude. Nothing was changed.")
        _check_values({**values, GEOMETRY: wkt, "location_source": location_source})
        with self._transaction(EDIT, create=False) as conn:
            sql = 'SELECT source_file, "where", raw, retired_by FROM rejected WHERE fid = ?'
            row = conn.execute(self._q(sql + (" FOR UPDATE" if isinstance(self._db, PostGIS) else "")),
                               (int(rejected_id),)).fetchone()
            if row is None:
                raise UsageError(f"rejected row {rejected_id} is not in this workspace. "
                                 "Pick a row from the list of rejected rows.")
            file, where, raw, retired_by = row
            if retired_by is not None:
                raise ConflictError(self._gone_message(conn, file, where, retired_by))
            fid = _accepted_id(file, where, raw)
            if conn.execute(self._q("SELECT 1 FROM features WHERE feature_id = ?"), (fid,)).fetchone():
                raise ConflictError(f"{file}, {where}: a feature accepted from this row is already in the workspace "
                                    f"('{fid}'). Nothing was changed.")
            record: dict[str, Any] = {c: None for c in COLUMNS}
            record.update({k: _text(v) for k, v in values.items()})
            record.update(feature_id=fid, source_file=file, source_ref=where, location_source=location_source,
                          layer=record["layer"] or UNCLASSIFIED, status=record["status"] or STATUSES[0],
                          attributes=record["attributes"] or raw)
            name = record["name"] or "(no name)"
            change = self._record(conn, ACCEPT_ACTION, f"accepted rejected row {file} {where} as {name} "
                                                       f"({record['layer']}) at {_where(wkt)}")
            import_id = str(change)
            conn.execute(self._q("UPDATE changes SET import_id = ? WHERE change_id = ?"), (import_id, change))
            frame = gpd.GeoDataFrame(pd.DataFrame([record], columns=list(COLUMNS), dtype=object),
                                     geometry=gpd.GeoSeries([shapely.from_wkt(wkt)], crs=CRS), crs=CRS)
            self._insert_features(conn, frame, import_id, {})
            conn.execute(self._q("UPDATE rejected SET retired_by = ? WHERE fid = ?"), (import_id, int(rejected_id)))
            log = [(change, fid, field, None, value) for field, value in record.items()
                   if field != "feature_id" and value is not None] + [(change, fid, GEOMETRY, None, wkt)]
            self._db.insert_rows(conn, "change_rows", ("change_id", "feature_id", "field", "old", "new"), log)
        return change, fid

    def _gone_message(self, conn, file: str, where: str, retired_by: str) -> str:
        """Why a rejected row is no longer there to accept: who accepted it, or which change replaced it."""
        row = conn.execute(self._q("SELECT change_id, action, user_name, at, summary FROM changes "
                                   "WHERE change_id = ?"), (int(retired_by),)).fetchone()
        if row is not None and row[1] == ACCEPT_ACTION:
            return (f"{file}, {where} was already accepted by {row[2]} at {row[3]} (change {row[0]}). "
                    "Nothing was changed; see the list of changes.")
        what = f"change {row[0]} ({row[4]})" if row is not None else f"change {retired_by}"
        return (f"{file}, {where} is no longer a rejected row: {what} replaced it. Nothing was changed; "
                "pick the row again from the list of rejected rows.")

    def _accepted_fixes(self, conn, import_id: str) -> dict[str, list[str]]:
        """Accepted rows among the features import `import_id` just retired: ``{raw values (JSON): [feature id]}``."""
        # Driven from the accept changes (few), not from the retired rows (the whole file).
        rows = conn.execute(self._q(
            "SELECT DISTINCT w.feature_id, r.raw FROM changes c "
            "JOIN change_rows w ON w.change_id = c.change_id AND w.field = 'source_file' "
            "JOIN rejected r ON r.retired_by = CAST(c.change_id AS TEXT) "
            "WHERE c.action = ? AND c.reverted_by IS NULL AND EXISTS (SELECT 1 FROM feature_versions v "
            "WHERE v.feature_id = w.feature_id AND v.retired_by = ?) ORDER BY w.feature_id"),
            (ACCEPT_ACTION, import_id)).fetchall()
        out: dict[str, list[str]] = {}
        for fid, raw in rows:
            out.setdefault(raw, []).append(fid)
        return out

    def _keep_accepted(self, conn, import_id: str, fids: list[str]) -> None:
        """Bring accepted features the import retired back as part of it (next version, this import's id)."""
        cols = [c for c in _ROW_COLUMNS if c not in ("import_id", "version")]
        names = ", ".join(f'"{c}"' for c in cols)
        sql = self._q(f'INSERT INTO features ({names}, import_id, version) SELECT {names}, ?, version + 1 '
                      "FROM feature_versions WHERE retired_by = ? AND feature_id = ?")
        for fid in fids:
            conn.execute(sql, (import_id, import_id, fid))

    # -- writing: edits ---------------------------------------------------------------------------------
    def edit_features(self, changes: dict[str, dict[str, object]], *, versions: dict[str, int] | None = None,
                      action: str = EDIT_ACTION, summary: str | None = None) -> int | None:
        """Change fields of features in one transaction: ``{feature_id: {field: value}}``.

        Parameters
        ----------
        changes
            New values (None clears a field); values equal to the current ones are skipped.
            ``geometry`` moves a feature (a shapely geometry or WKT, EPSG:4326 lon/lat), and
            ``location_source`` says where the new location comes from.
        versions
            The version of each feature the change is based on (as read by the caller).
            When a feature has changed since, nothing is saved and `ConflictError` names
            who changed what.
        action
            ``edit`` or ``assign`` (a layer given to unclassified features), for the history.

        Returns
        -------
        The change id, or None when nothing changed.
        """
        bad = {f for fields in changes.values() for f in fields if f not in EDITABLE + _FIX_FIELDS}
        if bad:
            raise UsageError(f"fields {sorted(bad)} cannot be edited; editable: {', '.join(EDITABLE)}")
        for values in changes.values():
            _check_values(values)
        if not changes:
            return None
        with self._transaction(EDIT, create=False) as conn:
            fields = sorted({f for values in changes.values() for f in values})
            current = self._current(conn, list(changes), fields)
            missing = [fid for fid in changes if fid not in current]
            if missing:
                raise UsageError(f"feature '{missing[0]}' is not in the workspace (it may have been re-imported, "
                                 f"reverted or removed){f' — and {len(missing) - 1} more' if len(missing) > 1 else ''}.")
            stale = [fid for fid in changes if versions and fid in versions
                     and int(current[fid]["version"]) != int(versions[fid])]
            if stale:
                raise ConflictError(self._conflict_message(conn, stale[0], changes[stale[0]]))
            diffs = {}
            for fid, values in changes.items():
                row = current[fid]
                diff = {f: (row[f], _stored(f, v)) for f, v in values.items() if _stored(f, v) != row[f]}
                if diff:
                    diffs[fid] = diff
            if not diffs:
                return None
            change = self._record(conn, action, summary or _edit_summary(action, diffs, current))
            self._apply(conn, current, diffs, change)
        return change

    def _current(self, conn, feature_ids: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        """The current values of `fields` (the geometry as WKT) with version, original and name, by feature id."""
        cols = ["feature_id", "version", "original", "name", *[f for f in fields if f != "name"]]
        sql = (f"SELECT {', '.join(self._db.geom_select if c == GEOMETRY else repr_col(c) for c in cols)} "
               "FROM features WHERE feature_id = ?")
        if isinstance(self._db, PostGIS):
            sql += " FOR UPDATE"
        out = {}
        q = self._q(sql)
        for fid in dict.fromkeys(feature_ids):
            row = conn.execute(q, (fid,)).fetchone()
            if row is not None:
                out[fid] = dict(zip(cols, row))
                if GEOMETRY in out[fid]:
                    out[fid][GEOMETRY] = _wkt(self._db.decode([out[fid][GEOMETRY]])[0])
        return out

    def _apply(self, conn, current: dict[str, dict[str, Any]], diffs: dict[str, dict[str, tuple]],
               change: int) -> None:
        now = _now()
        log = []
        for fid, diff in diffs.items():
            original = json.loads(current[fid]["original"] or "{}")
            for field, (old, new) in diff.items():
                original.setdefault(field, old)
                log.append((change, fid, field, old, new))
            sets = ", ".join(f"{'geom' if f == GEOMETRY else repr_col(f)} = ?" for f in diff)
            new_values = [self._db.encode(np.array([None if new is None else shapely.from_wkt(new)], dtype=object))[0]
                          if f == GEOMETRY else new for f, (_, new) in diff.items()]
            conn.execute(self._q(f"UPDATE features SET {sets}, version = version + 1, original = ?, "
                                 "updated_at = ?, updated_by = ? WHERE feature_id = ?"),
                         (*new_values, json.dumps(original, ensure_ascii=False), now, self.user, fid))
        self._db.insert_rows(conn, "change_rows", ("change_id", "feature_id", "field", "old", "new"), log)

    def _conflict_message(self, conn, feature_id: str, wanted: dict[str, object]) -> str:
        last = conn.execute(self._q("SELECT max(change_id) FROM change_rows WHERE feature_id = ?"),
                            (feature_id,)).fetchone()[0]
        rows = conn.execute(self._q(
            "SELECT c.user_name, c.at, r.field, r.old, r.new FROM change_rows r JOIN changes c "
            "ON c.change_id = r.change_id WHERE r.feature_id = ? AND r.change_id = ? ORDER BY r.field"),
            (feature_id, last)).fetchall() if last is not None else []
        yours = ", ".join(f"{f} → {_shown(_text(v))}" for f, v in wanted.items())
        if not rows:
            who = "it was re-imported"
        else:
            fields = "; ".join(f"{field} from {_shown(old)} to {_shown(new)}" for _, _, field, old, new in rows)
            who = f"{rows[0][0]} changed {fields} at {rows[0][1]}"
        return (f"feature '{feature_id}' changed after you opened it ({who}). Your change ({yours}) was not "
                "saved: reload the feature and apply it again.")

    # -- writing: reverts ---------------------------------------------------------------------------------
    def revert(self, change_id: int) -> int:
        """Undo one change (an import, edit, assignment, added feature or side-table change); return the new id.

        An import is undone whole: its features and rejected rows leave, and whatever it
        replaced comes back. An edit is undone field by field, and only if nobody has
        changed those fields since (else `ConflictError`). A side-table change (a boundary,
        area file or population layer imported or removed) gives its tables back the rows
        it replaced, and only if no later change has written them since (else
        `ConflictError`). The revert is itself a change in the history.
        """
        with self._transaction(REVERT, create=False) as conn:
            row = conn.execute(self._q("SELECT action, summary, import_id, reverted_by FROM changes "
                                       "WHERE change_id = ?"), (int(change_id),)).fetchone()
            if row is None:
                raise UsageError(f"change {change_id} is not in this workspace's history. "
                                 "List the changes with: python -m atlas history --workspace LOC")
            action, summary, import_id, reverted_by = row
            if reverted_by is not None:
                raise ConflictError(f"change {change_id} ({summary}) was already reverted by change {reverted_by}.")
            side = self._side_writes(conn, int(change_id)) if action in (BOUNDARY_ACTION, REVERT_ACTION) else []
            if side:
                new = self._revert_side(conn, int(change_id), action, summary, side)
            elif action == BOUNDARY_ACTION:
                raise UsageError(f"change {change_id} ({summary}) was made before the workspace kept the rows such "
                                 "changes replace, so it cannot be reverted here; make the opposite change instead.")
            elif action in _IMPORT_LIKE:
                new = self._revert_import(conn, int(change_id), action, summary, import_id)
            elif action == REVERT_ACTION and (undone := self._reverts_import(conn, int(change_id))):
                if undone == ACCEPT_ACTION:
                    raise UsageError(f"change {change_id} undid an accepted row; to bring it back, accept the row "
                                     "again from the list of rejected rows.")
                raise UsageError(f"change {change_id} undid an import; to bring it back, import the file again.")
            elif action in (EDIT_ACTION, ASSIGN_ACTION, REVERT_ACTION):
                new = self._revert_edit(conn, int(change_id), action, summary)
            else:
                raise UsageError(f"change {change_id} ({action}: {summary}) cannot be reverted here; "
                                 "make the opposite change instead.")
            conn.execute(self._q("UPDATE changes SET reverted_by = ? WHERE change_id = ?"), (new, int(change_id)))
        return new

    def _reverts_import(self, conn, change_id: int) -> str | None:
        """The action (import, add, accept) that revert `change_id` undid, or None when it undid something else."""
        row = conn.execute(self._q("SELECT t.action FROM changes c JOIN changes t ON t.change_id = c.reverts "
                                   "WHERE c.change_id = ?"), (change_id,)).fetchone()
        return row[0] if row is not None and row[0] in _IMPORT_LIKE else None

    def revert_import(self, import_id: str) -> int:
        """Undo one import (by its import id, as in `imports`); return the new change id."""
        rows = self._rows("SELECT change_id FROM changes WHERE import_id = ? AND action = ?",
                          (str(import_id), IMPORT_ACTION))
        if not rows:
            raise UsageError(f"import {import_id} is not in this workspace's import log. "
                             "List the imports with: python -m atlas history --workspace LOC")
        return self.revert(int(rows[0][0]))

    def _revert_import(self, conn, change_id: int, action: str, summary: str, import_id: str) -> int:
        later = conn.execute(self._q(
            "SELECT c.change_id, c.summary FROM feature_versions v JOIN changes c "
            "ON CAST(c.change_id AS TEXT) = v.retired_by WHERE v.import_id = ? AND c.action = ? LIMIT 1"),
            (import_id, IMPORT_ACTION)).fetchone()
        if later is not None:
            raise ConflictError(f"change {change_id} ({summary}) was replaced by the later import {later[0]} "
                                f"({later[1]}); revert import {later[0]} first.")
        new = self._record(conn, REVERT_ACTION, f"reverted {action} {change_id}: {summary}", reverts=change_id)
        self._retire(conn, "import_id = ?", (import_id,), str(new))
        self._restore(conn, import_id)
        conn.execute(self._q("UPDATE rejected SET retired_by = ? WHERE import_id = ? AND retired_by IS NULL"),
                     (str(new), import_id))
        conn.execute(self._q("UPDATE rejected SET retired_by = NULL WHERE retired_by = ?"), (import_id,))
        conn.execute(self._q("UPDATE import_log SET reverted_by = ? WHERE import_id = ?"), (str(new), import_id))
        return new

    def _revert_side(self, conn, change_id: int, action: str, summary: str, writes: list[tuple[str, int]]) -> int:
        """Give the side tables `change_id` wrote back the rows it replaced (kept as versions of the revert)."""
        latest = self._q("SELECT w.change_id, w.content_of, c.summary FROM side_writes w JOIN changes c "
                         "ON c.change_id = w.change_id WHERE w.table_name = ? ORDER BY w.change_id DESC LIMIT 1")
        for table, content_of in writes:
            last, now_of, last_summary = conn.execute(latest, (table,)).fetchone()
            # Compared by whose rows the table holds, not by who wrote it last: after a later change
            # and its revert, the table holds this change's rows again and it may be undone.
            if int(now_of) != int(content_of):
                raise ConflictError(f"change {change_id} ({summary}) wrote '{table}', which the later change "
                                    f"{last} ({last_summary}) changed again; revert change {last} first. "
                                    "Nothing was changed.")
        before = self._q("SELECT content_of FROM side_writes WHERE table_name = ? AND change_id < ? "
                         "ORDER BY change_id DESC LIMIT 1")
        new = self._record(conn, REVERT_ACTION, f"reverted {action} {change_id}: {summary}", reverts=change_id)
        for table, _ in writes:
            row = conn.execute(before, (table, change_id)).fetchone()
            self._retire_side(conn, table, new, content_of=int(row[0]) if row else 0)
            conn.execute(self._q("INSERT INTO side_rows (table_name, row_index, data, geom_wkb) "
                                 "SELECT table_name, row_index, data, geom_wkb FROM side_versions "
                                 "WHERE change_id = ? AND table_name = ? ORDER BY row_index"), (change_id, table))
            conn.execute(self._q("DELETE FROM side_versions WHERE change_id = ? AND table_name = ?"),
                         (change_id, table))
        return new

    def _revert_edit(self, conn, change_id: int, action: str, summary: str) -> int:
        log = conn.execute(self._q("SELECT feature_id, field, old, new FROM change_rows WHERE change_id = ?"),
                           (change_id,)).fetchall()
        fields = sorted({r[1] for r in log})
        current = self._current(conn, [r[0] for r in log], fields)
        diffs: dict[str, dict[str, tuple]] = {}
        for fid, field, old, new in log:
            if fid not in current:
                raise ConflictError(f"feature '{fid}' of change {change_id} is no longer in the workspace "
                                    "(re-imported or reverted), so the change cannot be undone.")
            if current[fid][field] != new:
                raise ConflictError(
                    f"{field} of '{current[fid]['name'] or fid}' has changed since change {change_id} "
                    f"(it is now {current[fid][field]!r}, not {new!r}); undo the later change first. "
                    "Nothing was changed.")
            diffs.setdefault(fid, {})[field] = (new, old)
        new_change = self._record(conn, REVERT_ACTION, f"reverted {action} {change_id}: {summary}",
                                  reverts=change_id)
        self._apply(conn, current, diffs, new_change)
        return new_change

    # -- upgrade of workspaces written before the history existed ----------------------------------------
    def _load_legacy(self, conn, legacy: dict[str, Any]) -> None:
        change = self._record(conn, UPGRADE_ACTION, "workspace upgraded: imports and edits kept, history starts here")
        base: gpd.GeoDataFrame = legacy["features"]
        log: pd.DataFrame = legacy["import_log"]
        by_file = {}
        for row in log.itertuples(index=False):
            by_file[row.file] = str(row.import_id)
        if len(base):
            for file, group in base.groupby(base["source_file"].fillna(""), sort=False):
                self._insert_features(conn, group, by_file.get(file, str(change)), {})
        for row in log.itertuples(index=False):
            conn.execute(self._q("INSERT INTO import_log (import_id, file, sha256, imported_at, rows_read, accepted, "
                                 "rejected, user_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
                         (str(row.import_id), row.file, row.sha256, row.imported_at, int(row.rows_read),
                          int(row.accepted), int(row.rejected), "(before history)"))
            conn.execute(self._q("INSERT INTO changes (at, user_name, action, summary, import_id) "
                                 "VALUES (?, ?, ?, ?, ?)"),
                         (row.imported_at, "(before history)", IMPORT_ACTION,
                          f"{row.file}: {row.accepted} feature(s), {row.rejected} rejected of {row.rows_read} read",
                          str(row.import_id)))
        rejected: pd.DataFrame = legacy["rejected"]
        self._db.insert_rows(conn, "rejected", ("source_file", "where", "reason", "raw", "import_id", "retired_by"),
                             [(*[_text(v) for v in r], None) for r in rejected[list(REJECTED_COLUMNS)].itertuples(
                                 index=False)])
        edits: pd.DataFrame = legacy["edits"]
        if len(edits):
            known = set(base["feature_id"])
            grouped: dict[str, dict[str, Any]] = {}
            for row in edits.itertuples(index=False):
                if row.feature_id in known and row.field in EDITABLE:
                    grouped.setdefault(row.feature_id, {})[row.field] = row.value
            fields = sorted({f for v in grouped.values() for f in v})
            current = self._current(conn, list(grouped), fields)
            diffs = {fid: {f: (current[fid][f], _text(v)) for f, v in values.items() if _text(v) != current[fid][f]}
                     for fid, values in grouped.items()}
            diffs = {k: v for k, v in diffs.items() if v}
            if diffs:
                edit = self._record(conn, EDIT_ACTION, f"edits made before the history: {len(diffs)} feature(s)")
                self._apply(conn, current, diffs, edit)
        for name, frame in legacy["side"].items():
            self._write_side(conn, name, frame)

    def _write_side(self, conn, name: str, frame: pd.DataFrame) -> None:
        is_geo = isinstance(frame, gpd.GeoDataFrame)
        plain = pd.DataFrame(frame.drop(columns=frame.geometry.name) if is_geo else frame)
        records = json.loads(plain.to_json(orient="records", date_format="iso", force_ascii=False))
        wkb = shapely.to_wkb(np.asarray(frame.geometry.values, dtype=object)) if is_geo else [None] * len(records)
        if is_geo:
            for record in records:
                record["__geometry__"] = True
        rows = [(name, i, json.dumps(rec, ensure_ascii=False), None if w is None else bytes(w))
                for i, (rec, w) in enumerate(zip(records, wkb))]
        self._db.insert_rows(conn, "side_rows", ("table_name", "row_index", "data", "geom_wkb"), rows)


_CACHE = "view"  # writing a cache (a downloaded boundary) is allowed to every role


def _edit_summary(action: str, diffs: dict[str, dict[str, tuple]], current: dict[str, dict[str, Any]]) -> str:
    """'edited town, kind of Hub A', or 'assigned layer of 12 feature(s)', for the history.

    A moved point says from where to where: 'edited geometry, town of Hub A (moved from
    53.71111, -8.40972 to 53.88508, -9.54526)' (lat, lon).
    """
    verb = "assigned" if action == ASSIGN_ACTION else "edited"
    fields = ", ".join(sorted({field for diff in diffs.values() for field in diff}))
    if len(diffs) > 1:
        return f"{verb} {fields} of {len(diffs)} feature(s)"
    fid = next(iter(diffs))
    text = f"{verb} {fields} of {current[fid]['name'] or fid}"
    if GEOMETRY in diffs[fid]:
        old, new = diffs[fid][GEOMETRY]
        text += f" (moved from {_where(old)} to {_where(new)})"
    return text


def _accepted_id(file: str, where: str, raw: str | None) -> str:
    """The feature id of a rejected row accepted with a fix: stable for the same file, place and raw values."""
    key = "|".join((file or "", "accepted", where or "", raw or ""))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _where(wkt: str | None) -> str:
    """A stored geometry for a history line: 'lat, lon' of a point, else its type; '(no location)' when none."""
    if wkt is None:
        return "(no location)"
    shape = shapely.from_wkt(wkt)
    if shape.geom_type == "Point":
        return f"{shape.y:.5f}, {shape.x:.5f}"
    return f"a {shape.geom_type}"


def _wkt(geometry: Any) -> str | None:
    """A geometry (shapely or WKT) as full-precision WKT, as kept in the history; None when missing or empty."""
    if geometry is None or (isinstance(geometry, float) and geometry != geometry):
        return None
    if isinstance(geometry, str):
        try:
            geometry = shapely.from_wkt(geometry)
        except shapely.errors.GEOSException:
            raise UsageError(f"{geometry[:60]!r} is not a geometry (expected WKT such as 'POINT (lon lat)').") from None
    if geometry.is_empty:
        return None
    return shapely.to_wkt(geometry, rounding_precision=-1)


def _stored(field: str, value: Any) -> str | None:
    """A field's new value as stored and compared: text, or WKT for the geometry."""
    return _wkt(value) if field == GEOMETRY else _text(value)


def _check_values(values: dict[str, Any]) -> None:
    """Refuse a layer, status, location source or point the workspace cannot hold (one-line `UsageError`)."""
    for field, allowed in (("layer", ALL_LAYERS), ("status", STATUSES), ("location_source", LOCATION_SOURCES)):
        if field in values and _text(values[field]) not in allowed:
            raise UsageError(f"{field} must be one of {', '.join(allowed)}, not {_text(values[field])!r}.")
    wkt = _wkt(values.get(GEOMETRY))
    if wkt is not None:
        shape = shapely.from_wkt(wkt)
        xmin, ymin, xmax, ymax = shape.bounds
        if not (-90 <= ymin <= ymax <= 90 and -180 <= xmin <= xmax <= 180):
            raise UsageError(f"the location ({_where(wkt)}) is outside latitude −90…90 / longitude −180…180. "
                             "Check that latitude and longitude are not swapped.")


def _shown(value: str | None) -> str:
    """A field value in a message: quoted text, or (empty)."""
    return "(empty)" if value is None else repr(value)


def repr_col(name: str) -> str:
    return f'"{name}"'


class _Actor:
    """The name and role `access.require` checks (the workspace holds no User object)."""

    def __init__(self, name: str, role: str):
        self.name, self.role = name, role


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "local"


def _read_legacy(workspace: Workspace) -> dict[str, Any]:
    """Read a GeoPackage written before the history existed (GDAL tables), to upgrade it in place."""
    import pyogrio

    file = workspace.gpkg
    names = [str(n) for n, _ in pyogrio.list_layers(file)]

    def read(name: str):
        if name not in names:
            return None
        frame = pyogrio.read_dataframe(file, layer=name, use_arrow=True)
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None:
            frame = frame.set_crs(CRS)
        return frame

    features = read("features")
    if features is None or features.empty:
        features = empty_features()
    for column in COLUMNS:
        if column not in features:
            features[column] = None
    features = gpd.GeoDataFrame(features[list(COLUMNS)].astype(object), geometry=features.geometry, crs=CRS)

    def table(name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        frame = read(name)
        if frame is None:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        return pd.DataFrame(frame)[list(columns)]

    side = {n: read(n) for n in names if n not in ("features", "rejected", "import_log", "edits")}
    return {"names": names, "features": features, "rejected": table("rejected", REJECTED_COLUMNS),
            "import_log": table("import_log", IMPORT_COLUMNS), "edits": table("edits", EDIT_COLUMNS),
            "side": {k: v for k, v in side.items() if v is not None and len(v)}}


def _drop_legacy(conn, legacy: dict[str, Any]) -> None:
    """Drop GDAL's tables, triggers and spatial indexes of the old layout (inside the upgrade transaction)."""
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rtree_%' "
                                "AND sql LIKE '%VIRTUAL%'").fetchall():
        conn.execute(f'DROP TABLE IF EXISTS "{name}"')
    for name in legacy["names"]:
        conn.execute(f'DROP TABLE IF EXISTS "{name}"')
        for meta in ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents"):
            exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (meta,)).fetchone()
            if exists:
                conn.execute(f"DELETE FROM {meta} WHERE lower(table_name) = lower(?)", (name,))
    for name in _KNOWN_TABLES:
        conn.execute(f'DROP TABLE IF EXISTS "{name}"')
