"""The canonical feature schema and the result every loader returns."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from loaders.layers import ALL_LAYERS, EXISTING, UNCLASSIFIED, layer_from_name, status_from_text

CRS = "EPSG:4326"
TEXT_FIELDS: tuple[str, ...] = (
    "name", "kind", "sectors", "helix", "address", "town", "country",
    "website", "contact", "description",
)
COLUMNS: tuple[str, ...] = (
    "feature_id", "name", "layer", "kind", "status", "sectors", "helix",
    "address", "town", "country", "website", "contact", "description",
    "location_source", "source_file", "source_ref", "attributes",
)
LOCATION_SOURCES: tuple[str, ...] = ("coordinates", "gazetteer", "none")


@dataclass
class Rejected:
    """One row or placemark we could not turn into a feature, with where and why."""

    where: str
    reason: str
    raw: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "reason": self.reason}


@dataclass
class LoadResult:
    """What a loader read from one file: features, rejected entries and the rows read."""

    file: str
    features: gpd.GeoDataFrame
    rejected: list[Rejected]
    rows_read: int

    @property
    def accepted(self) -> int:
        return len(self.features)

    def summary(self) -> dict[str, Any]:
        """Return the per-file import report (the ``files`` entries of ``atlas import --json``)."""
        by_layer = {layer: 0 for layer in ALL_LAYERS}
        by_layer.update(self.features["layer"].value_counts().to_dict())
        sources = self.features["location_source"].value_counts().to_dict()
        return {
            "file": self.file,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "rejected": [r.to_dict() for r in self.rejected],
            "by_layer": {k: int(v) for k, v in by_layer.items()},
            "location_source": {
                "coordinates": int(sources.get("coordinates", 0)),
                "gazetteer": int(sources.get("gazetteer", 0)),
            },
        }


def empty_features() -> gpd.GeoDataFrame:
    """Return an empty frame with the canonical columns, in EPSG:4326."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v).strip() for v in value if str(v).strip())
    text = str(value).strip()
    return text or None


def _geometry_key(geometry: Any) -> str:
    if geometry is None or geometry.is_empty:
        return ""
    return shapely.to_wkt(geometry, rounding_precision=6, trim=True)


def make_feature_id(source_file: str, name: str | None, geometry: Any, own_id: str | None = None) -> str:
    """Return a stable id: ``source_file#own_id`` when the source has an id, else a hash.

    The hash covers the source file name, the name and the coordinates rounded to
    6 decimals, so re-importing the same file gives the same ids.
    """
    if own_id:
        return f"{source_file}#{own_id}"
    key = f"{source_file}|{name or ''}|{_geometry_key(geometry)}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def build_features(
    records: list[dict[str, Any]], source_file: str
) -> tuple[gpd.GeoDataFrame, list[Rejected]]:
    """Turn loader records into the canonical GeoDataFrame.

    Parameters
    ----------
    records
        One dict per accepted row or placemark with canonical keys (missing keys are
        empty), ``geometry`` (shapely, lon/lat) and optionally ``own_id`` (the source's
        id) or ``feature_id`` (taken verbatim, for files we exported ourselves).
        ``layer`` may be any alias; ``status`` any alias (default existing);
        ``attributes`` a dict of every other source field.
    source_file
        File name recorded as provenance.

    Returns
    -------
    The features, and the records rejected as exact duplicates of an earlier one
    (same id): kept out so that a workspace never holds one id twice.
    """
    rows: list[dict[str, Any]] = []
    geometries = []
    rejected: list[Rejected] = []
    seen: dict[str, str] = {}
    for rec in records:
        geometry = rec.get("geometry")
        row = {name: _clean(rec.get(name)) for name in TEXT_FIELDS}
        layer = rec.get("layer")
        row["layer"] = layer if layer in ALL_LAYERS else layer_from_name(layer)
        status = rec.get("status")
        row["status"] = status if status in ("existing", "planned") else (status_from_text(status) or EXISTING)
        row["location_source"] = rec.get("location_source") or ("coordinates" if geometry is not None else "none")
        row["source_file"] = source_file
        row["source_ref"] = rec.get("source_ref") or ""
        attributes = rec.get("attributes") or {}
        row["attributes"] = json.dumps(
            {str(k): v for k, v in attributes.items()}, ensure_ascii=False, sort_keys=True, default=str
        )
        feature_id = rec.get("feature_id") or make_feature_id(
            source_file, row["name"], geometry, _clean(rec.get("own_id"))
        )
        if feature_id in seen:
            rejected.append(Rejected(
                row["source_ref"],
                f"duplicate of {seen[feature_id]} (same id or same name and coordinates); "
                "the first one was kept. Remove the repeated entry or give it its own name.",
                {k: v for k, v in row.items() if k != "attributes"},
            ))
            continue
        seen[feature_id] = row["source_ref"]
        row["feature_id"] = feature_id
        rows.append(row)
        geometries.append(geometry)
    if not rows:
        return empty_features(), rejected
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).astype("object")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries, crs=CRS), crs=CRS), rejected


def make_result(
    file: str, records: list[dict[str, Any]], rejected: list[Rejected], rows_read: int
) -> LoadResult:
    """Build a LoadResult and check that nothing read was lost."""
    features, duplicates = build_features(records, file)
    rejected = rejected + duplicates
    if len(features) + len(rejected) != rows_read:
        raise AssertionError(
            f"{file}: {len(features)} accepted + {len(rejected)} rejected != {rows_read} read"
        )
    return LoadResult(file, features, rejected, rows_read)
