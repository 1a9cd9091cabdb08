"""Read the files alliances really have (KMZ/KML, XLSX/CSV, GeoJSON) into canonical features."""
from __future__ import annotations

from itertools import repeat
from pathlib import Path

from i18n import Message, Text
from loaders.errors import ImportFileError, UnsupportedFileError
from loaders.features import COLUMNS, LoadResult, Rejected

SUPPORTED = (".kmz", ".kml", ".xlsx", ".xlsm", ".csv", ".txt", ".geojson", ".json", ".gpkg")

__all__ = ["COLUMNS", "ImportFileError", "LoadResult", "Rejected", "SUPPORTED", "read_bytes", "read_file"]


def read_bytes(data: bytes, name: str, *, country: str | None = None) -> LoadResult:
    """Read one file's bytes, picking the loader from the file name's extension.

    Parameters
    ----------
    data
        The file content.
    name
        The file name (provenance, and the extension picks the format).
    country
        ISO alpha-2 code preferred when geocoding town names (the region's country).
    """
    suffix = Path(name).suffix.lower()
    if suffix == ".kmz":
        from loaders.kml import features_from_kmz

        return _restored(features_from_kmz(data, name))
    if suffix == ".kml":
        from loaders.kml import features_from_kml

        return _restored(features_from_kml(data, name))
    if suffix in (".xlsx", ".xlsm"):
        from loaders.sheets import features_from_xlsx

        return features_from_xlsx(data, name, country=country)
    if suffix in (".csv", ".txt"):
        from loaders.sheets import features_from_csv

        return features_from_csv(data, name, country=country)
    if suffix in (".geojson", ".json"):
        from loaders.geojson import features_from_geojson

        return features_from_geojson(data, name)
    if suffix == ".gpkg":
        from loaders.gpkg import features_from_gpkg

        return features_from_gpkg(data, name)
    raise UnsupportedFileError(
        Message("{file}: '{suffix}' files are not imported. Use one of {supported} (export My Maps layers as KMZ/KML).",
                file=name, suffix=suffix or Text("no extension"), supported=", ".join(SUPPORTED)))


def _restored(result: LoadResult) -> LoadResult:
    """`loaders.roundtrip.restore_exported`, skipped when no feature's fields mention ``feature_id``.

    It would find that out itself with pandas (``astype(str).str.contains``), which copies
    every attributes text: 0.1 s for 100,000 placemarks of a file we did not export.
    """
    from loaders.roundtrip import restore_exported

    texts = result.features["attributes"].tolist()
    try:
        marked = any(map(str.__contains__, texts, repeat('"feature_id"')))
    except TypeError:  # not all text: let restore_exported look
        marked = True
    return restore_exported(result) if marked else result


def read_file(path: str | Path, *, country: str | None = None) -> LoadResult:
    """Read one file from disk (see `read_bytes`)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(Message("{file}: cannot be opened ({reason}). Check the path.", file=path.name,
                                      reason=exc.strerror)) from None
    return read_bytes(data, path.name, country=country)
