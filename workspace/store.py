"""The workspace: a folder holding one GeoPackage with features, rejected rows and the import log."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from errors import UsageError
from loaders import read_bytes
from loaders.errors import ImportFileError
from loaders.features import COLUMNS, CRS, LoadResult, empty_features

GPKG_NAME = "atlas.gpkg"
FEATURES, REJECTED, IMPORTS, EDITS = "features", "rejected", "import_log", "edits"
REJECTED_COLUMNS = ("source_file", "where", "reason", "raw", "import_id")
IMPORT_COLUMNS = ("import_id", "file", "sha256", "imported_at", "rows_read", "accepted", "rejected")
EDIT_COLUMNS = ("feature_id", "field", "value", "edited_at")
EDITABLE = tuple(c for c in COLUMNS if c not in ("feature_id", "source_file", "source_ref", "location_source"))


def sha256(data: bytes) -> str:
    """Return the hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


class Workspace:
    """A folder with ``atlas.gpkg``: the tables ``features``, ``rejected``, ``import_log``, ``edits``.

    Every change is written to a copy of the GeoPackage which then replaces the original
    in one rename, so a crash mid-import leaves the previous workspace intact. Other
    modules may keep their own tables here with `read_table` / `write_tables`.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.gpkg = self.path / GPKG_NAME

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    # -- reading ---------------------------------------------------------------------
    def exists(self) -> bool:
        return self.gpkg.exists()

    def tables(self) -> list[str]:
        """Names of the tables in the GeoPackage (empty when there is none yet)."""
        if not self.exists():
            return []
        return [str(name) for name, _ in pyogrio.list_layers(self.gpkg)]

    def read_table(self, name: str) -> pd.DataFrame | gpd.GeoDataFrame | None:
        """Read one table, or None when it does not exist."""
        if name not in self.tables():
            return None
        frame = pyogrio.read_dataframe(self.gpkg, layer=name, use_arrow=True)
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is None:
            frame = frame.set_crs(CRS)
        return frame

    def base_features(self) -> gpd.GeoDataFrame:
        """Features as imported, before the user's edits."""
        frame = self.read_table(FEATURES)
        if frame is None or frame.empty:
            return empty_features()
        for column in COLUMNS:
            if column not in frame:
                frame[column] = None
        frame = frame[list(COLUMNS) + ["geometry"]]
        text = frame[list(COLUMNS)].astype("object")
        frame = gpd.GeoDataFrame(text.where(text.notna(), None), geometry=frame.geometry, crs=CRS)
        return frame

    def features(self) -> gpd.GeoDataFrame:
        """All features in EPSG:4326 with the user's edits applied (layer assignments, fixes)."""
        frame = self.base_features()
        edits = self.edits()
        if frame.empty or edits.empty:
            return frame
        frame = frame.set_index("feature_id", drop=False)
        for row in edits.itertuples(index=False):
            if row.feature_id in frame.index and row.field in frame.columns:
                frame.at[row.feature_id, row.field] = row.value
        return frame.reset_index(drop=True)

    def _frame(self, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        frame = self.read_table(name)
        if frame is None:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        return pd.DataFrame(frame)[list(columns)]

    def rejected(self) -> pd.DataFrame:
        """Rejected rows: source file, where, reason, the raw values (JSON) and the import id."""
        return self._frame(REJECTED, REJECTED_COLUMNS)

    def imports(self) -> pd.DataFrame:
        """The import log: one row per import of a file, with its SHA-256, time and counts."""
        return self._frame(IMPORTS, IMPORT_COLUMNS)

    def edits(self) -> pd.DataFrame:
        """Field edits made in the app, applied on top of the imported features."""
        return self._frame(EDITS, EDIT_COLUMNS)

    # -- writing ---------------------------------------------------------------------
    def write_tables(self, tables: dict[str, pd.DataFrame]) -> None:
        """Replace the given tables in one atomic step (copy, write, rename)."""
        self.path.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=".atlas-", suffix=".gpkg", dir=self.path)
        os.close(handle)
        tmp = Path(tmp_name)
        try:
            if self.exists():
                shutil.copyfile(self.gpkg, tmp)
            else:
                tmp.unlink()
            for name, frame in tables.items():
                if isinstance(frame, gpd.GeoDataFrame):
                    pyogrio.write_dataframe(
                        frame, tmp, layer=name, driver="GPKG", geometry_type="Unknown",
                        use_arrow=True, promote_to_multi=False,
                    )
                else:
                    pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=name, driver="GPKG", use_arrow=True)
            os.replace(tmp, self.gpkg)
        finally:
            if tmp.exists():
                tmp.unlink()

    def add_results(self, results: list[tuple[LoadResult, str]]) -> None:
        """Store loader results, each with its file's SHA-256, in one atomic write.

        A file imported again under the same name replaces what that file gave before
        (features and rejected rows), so re-importing never duplicates features; the
        user's edits are kept because they live in their own table keyed by feature_id.
        """
        if not results:
            return
        names = {result.file for result, _ in results}
        features = self.base_features()
        features = features[~features["source_file"].isin(names)]
        rejected = self.rejected()
        rejected = rejected[~rejected["source_file"].isin(names)]
        log = self.imports()
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        new_rejected, new_log = [], []
        for result, digest in results:
            import_id = f"{now}|{result.file}"
            new_rejected += [
                {"source_file": result.file, "where": r.where, "reason": r.reason,
                 "raw": json.dumps(r.raw, ensure_ascii=False, default=str), "import_id": import_id}
                for r in result.rejected
            ]
            new_log.append({
                "import_id": import_id, "file": result.file, "sha256": digest, "imported_at": now,
                "rows_read": result.rows_read, "accepted": result.accepted, "rejected": len(result.rejected),
            })
        frames = [f for f in [features] + [r.features for r, _ in results] if not f.empty]
        merged = pd.concat(frames, ignore_index=True) if frames else empty_features()
        merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=CRS)
        merged = merged.drop_duplicates("feature_id", keep="last")
        self.write_tables({
            FEATURES: merged,
            REJECTED: _concat(rejected, new_rejected, REJECTED_COLUMNS),
            IMPORTS: _concat(log, new_log, IMPORT_COLUMNS),
        })

    def import_files(self, paths: list[str | Path], *, country: str | None = None) -> list[LoadResult]:
        """Read every file, then store them all in one atomic write.

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

    def edit_features(self, changes: dict[str, dict[str, object]]) -> None:
        """Record field edits: ``{feature_id: {field: value}}`` (e.g. assign a layer)."""
        bad = {f for fields in changes.values() for f in fields if f not in EDITABLE}
        if bad:
            raise UsageError(f"fields {sorted(bad)} cannot be edited; editable: {', '.join(EDITABLE)}")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rows = [
            {"feature_id": fid, "field": field, "value": None if value is None else str(value), "edited_at": now}
            for fid, fields in changes.items() for field, value in fields.items()
        ]
        self.write_tables({EDITS: _concat(self.edits(), rows, EDIT_COLUMNS)})

    def add_features(self, features: gpd.GeoDataFrame) -> None:
        """Add features made in the app (e.g. a suggested site saved as planned)."""
        base = self.base_features()
        merged = pd.concat([f for f in (base, features[list(COLUMNS) + ["geometry"]]) if not f.empty], ignore_index=True)
        merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=CRS).drop_duplicates("feature_id", keep="last")
        self.write_tables({FEATURES: merged})


def _concat(old: pd.DataFrame, rows: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    new = pd.DataFrame(rows, columns=list(columns))
    parts = [f for f in (old, new) if not f.empty]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(parts, ignore_index=True)[list(columns)]
