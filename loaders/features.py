"""The canonical feature schema and the result every loader returns."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from loaders.layers import (
    ALL_LAYERS,
    EXISTING,
    STATUSES,
    layer_from_name,
    status_from_text,
)

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
MAX_TEXT_CHARS = 100_000
"""Longest text a canonical field (name, description …) may hold; a longer one rejects its row."""
MAX_ATTRIBUTES_CHARS = 1_000_000
"""Longest a row's other fields may be together (as JSON); more rejects the row."""


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
    notes: list[str] = field(default_factory=list)  # file-level remarks, e.g. sheets skipped

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
            "notes": list(self.notes),
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


def clean_text(value: Any) -> str | None:
    """Return a field's value as the text to store: None when empty, else as written.

    Only trailing white space is trimmed. Leading white space is the user's and is kept
    (``" =1"`` and ``"\t=1"`` stay so: exporters neutralise formulas, loaders never turn a
    value into one by trimming). Blank text is empty. Numbers become their text; a list
    (a GeoJSON array) becomes its items joined with ``"; "``. Matching of layers, statuses
    and headers folds case and white space on its own (`loaders.layers.fold`).
    """
    if value is None:
        return None
    if value.__class__ is str:
        value = value.rstrip()
        return value or None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, (list, tuple)):
        value = "; ".join(t for t in (clean_text(v) for v in value) if t)
    text = str(value).rstrip()
    return text or None


_clean = clean_text


def _key_text(value: Any) -> str | None:
    """A layer or status as hashable text (a number or list from a loose source included)."""
    return value if value is None or value.__class__ is str else clean_text(value)


def _geometry_keys(geometries: list[Any]) -> list[str]:
    # One vectorised call: per-geometry to_wkt dominated the import time of large files.
    present = [i for i, g in enumerate(geometries) if g is not None and not g.is_empty]
    keys = [""] * len(geometries)
    if present:
        wkt = shapely.to_wkt(np.array([geometries[i] for i in present], dtype=object), rounding_precision=6, trim=True)
        for i, text in zip(present, wkt):
            keys[i] = text
    return keys


def _hash_id(source_file: str, name: str | None, geometry_key: str, layer: str = "", group: str = "") -> str:
    # The layer and the group (folder or sheet, as written) are part of the key: one
    # organisation may be listed both as a hub and as a training provider at the same
    # address, or in two My Maps layers that map to the same canonical layer, and each
    # entry is real. Exact repeats inside one folder or sheet stay duplicates.
    parts = [source_file, layer] + ([group] if group else []) + [name or "", geometry_key]
    key = "|".join(parts)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def make_feature_id(
    source_file: str, name: str | None, geometry: Any, own_id: str | None = None, *, layer: str = ""
) -> str:
    """Return a stable id: ``source_file#own_id`` when the source has an id, else a hash.

    The hash covers the source file name, the canonical layer, the name and the
    coordinates rounded to 6 decimals, so re-importing the same file gives the same ids.
    Loaders add the folder or sheet as written (``group``) through `build_features`.
    """
    if own_id:
        return f"{source_file}#{own_id}"
    return _hash_id(source_file, name, _geometry_keys([geometry])[0], layer)


_encode_attributes = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode


def _attributes_text(attributes: dict[str, Any] | None) -> str:
    if not attributes:
        return "{}"
    for key in attributes:
        if key.__class__ is not str:  # a number or None as a key is stored as its text
            return _encode_attributes({str(k): v for k, v in attributes.items()})
    return _encode_attributes(attributes)


def build_features(
    records: list[dict[str, Any]], source_file: str
) -> tuple[gpd.GeoDataFrame, list[Rejected]]:
    """Turn loader records into the canonical GeoDataFrame.

    Parameters
    ----------
    records
        One dict per accepted row or placemark with canonical keys (missing keys are
        empty), ``geometry`` (shapely, lon/lat) and optionally ``own_id`` (the source's
        id) or ``feature_id`` (taken verbatim, for files we exported ourselves), and
        ``group``: the folder or sheet as written, so that one place listed in two
        folders stays two features.
        ``layer`` may be any alias; ``status`` any alias (default existing);
        ``attributes`` a dict of every other source field.
    source_file
        File name recorded as provenance.

    Returns
    -------
    The features, and the records rejected as exact duplicates of an earlier one
    (same id): kept out so that a workspace never holds one id twice.
    """
    geometries = [rec.get("geometry") for rec in records]
    geometry_keys = _geometry_keys(geometries)
    # Column by column: list comprehensions are several times faster than a dict per row.
    columns: dict[str, list[Any]] = {
        name: [
            value if value is None else (value.rstrip() or None) if value.__class__ is str else _clean(value)
            for value in [rec.get(name) for rec in records]
        ]
        for name in TEXT_FIELDS
    }
    too_long: dict[int, str] = {}
    for name in TEXT_FIELDS:
        values = columns[name]
        if max(map(len, filter(None, values)), default=0) > MAX_TEXT_CHARS:
            for i, value in enumerate(values):
                if value is not None and len(value) > MAX_TEXT_CHARS and i not in too_long:
                    too_long[i] = (
                        f"field '{name}' is {len(value):,} characters long (limit {MAX_TEXT_CHARS:,}); "
                        "the entry was not imported. Shorten it (keep long texts in a linked document) "
                        "and import the file again."
                    )
    layers = [_key_text(rec.get("layer")) for rec in records]
    layer_of = {}
    for value in set(layers):
        layer_of[value] = value if value in ALL_LAYERS else layer_from_name(value)
    columns["layer"] = [layer_of[value] for value in layers]
    statuses = [_key_text(rec.get("status")) for rec in records]
    status_of = {}
    for value in set(statuses):
        status_of[value] = value if value in STATUSES else (status_from_text(value) or EXISTING)
    columns["status"] = [status_of[value] for value in statuses]
    columns["location_source"] = [
        source if (source := rec.get("location_source")) in LOCATION_SOURCES
        else ("coordinates" if g is not None else "none")
        for rec, g in zip(records, geometries)
    ]
    columns["source_file"] = [source_file] * len(records)
    columns["source_ref"] = [rec.get("source_ref") or "" for rec in records]
    columns["attributes"] = [_attributes_text(rec.get("attributes")) for rec in records]
    for i, text in enumerate(columns["attributes"]):
        if len(text) > MAX_ATTRIBUTES_CHARS and i not in too_long:
            too_long[i] = (
                f"its other fields hold {len(text):,} characters together (limit {MAX_ATTRIBUTES_CHARS:,}); "
                "the entry was not imported. Remove the largest fields (embedded images, pasted documents) "
                "and import the file again."
            )
    ids = []
    for rec, name, key, layer in zip(records, columns["name"], geometry_keys, columns["layer"]):
        own_id = _clean(rec.get("own_id"))
        given = rec.get("feature_id")
        if given and given.__class__ is not str:
            given = _clean(given)
        ids.append(given or (
            f"{source_file}#{own_id}" if own_id else _hash_id(source_file, name, key, layer, rec.get("group") or "")
        ))
    columns["feature_id"] = ids

    keep: list[int] = []
    rejected: list[Rejected] = []
    seen: dict[str, str] = {}
    for i, feature_id in enumerate(ids):
        ref = columns["source_ref"][i]
        if i in too_long:
            rejected.append(Rejected(ref, too_long[i], {c: (columns[c][i] or "")[:500] for c in ("name", "layer")}))
            continue
        if feature_id in seen:
            rejected.append(Rejected(
                ref,
                f"duplicate of {seen[feature_id]} (same id, or same folder/sheet, name and coordinates); "
                "the first one was kept. Remove the repeated entry or give it its own name.",
                {c: columns[c][i] for c in COLUMNS if c != "attributes"},
            ))
            continue
        seen[feature_id] = ref
        keep.append(i)
    if not keep:
        return empty_features(), rejected
    if len(keep) < len(ids):
        columns = {c: [values[i] for i in keep] for c, values in columns.items()}
        geometries = [geometries[i] for i in keep]
    frame = pd.DataFrame({c: pd.Series(columns[c], dtype="object") for c in COLUMNS})
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
