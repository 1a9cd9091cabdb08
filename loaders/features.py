"""The canonical feature schema and the result every loader returns."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from i18n import Text
from i18n.formats import Figure
from loaders.layers import (
    ALL_LAYERS,
    EXISTING,
    STATUSES,
    layer_from_name,
    status_from_text,
)
from loaders.vocabulary import kind_of, sectors_of, unify_unknown

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


def _geometry_keys(geometries: Sequence[Any]) -> list[str]:
    # One vectorised call: per-geometry to_wkt dominated the import time of large files.
    array = np.empty(len(geometries), dtype=object)
    array[:] = geometries
    present = ~(shapely.is_missing(array) | shapely.is_empty(array))
    if present.all():
        return shapely.to_wkt(array, rounding_precision=6, trim=True).tolist()
    keys = [""] * len(geometries)
    if present.any():
        wkt = shapely.to_wkt(array[present], rounding_precision=6, trim=True)
        for i, text in zip(np.flatnonzero(present).tolist(), wkt.tolist()):
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
try:
    # The C encoder `_encode_attributes` builds anew for every call, made once with the same
    # settings: a quarter of the time of a small dict. It skips the check for circular
    # references, which only `_encode_attributes` then reports (as ValueError).
    from _json import make_encoder as _make_c_encoder

    _encode_chunks = _make_c_encoder(None, str, json.encoder.encode_basestring, None, ": ", ", ", True, False, True)
except (ImportError, TypeError):  # a Python without the C accelerator, or one that changed it
    _encode_chunks = None


def _attributes_text(attributes: dict[str, Any] | None) -> str:
    if not attributes:
        return "{}"
    for key in attributes:
        if key.__class__ is not str:  # a number or None as a key is stored as its text
            return _encode_attributes({str(k): v for k, v in attributes.items()})
    if _encode_chunks is not None:
        try:
            return "".join(_encode_chunks(attributes, 0))
        except RecursionError:
            pass
    return _encode_attributes(attributes)


_RECORD_KEYS: tuple[str, ...] = (
    *TEXT_FIELDS, "layer", "status", "location_source", "source_ref", "attributes", "own_id", "feature_id",
    "group", "geometry",
)


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
    # Column by column: list comprehensions are several times faster than a dict per row.
    columns = {key: [rec.get(key) for rec in records] for key in _RECORD_KEYS}
    return build_features_from_columns(columns, len(records), source_file)


def build_features_from_columns(
    columns: dict[str, Sequence[Any]], count: int, source_file: str
) -> tuple[gpd.GeoDataFrame, list[Rejected]]:
    """Turn loader columns into the canonical GeoDataFrame: `build_features` for a loader that reads column-wise.

    Parameters
    ----------
    columns
        The record keys of `build_features` (``name``, ``layer``, ``geometry``, ``group`` …),
        each with `count` values in row order; a key left out is empty in every row.
    count
        The number of rows.
    source_file
        File name recorded as provenance.
    """
    def column(key: str) -> Sequence[Any]:
        values = columns.get(key)
        return [None] * count if values is None else values

    geometries = column("geometry")
    geometry_keys = _geometry_keys(geometries)
    text: dict[str, list[Any]] = {
        name: [None] * count if name not in columns else [
            value if value is None else (value.rstrip() or None) if value.__class__ is str else _clean(value)
            for value in columns[name]
        ]
        for name in TEXT_FIELDS
    }
    too_long: dict[int, str] = {}
    for name in TEXT_FIELDS:
        values = text[name]
        if max(map(len, filter(None, values)), default=0) > MAX_TEXT_CHARS:
            for i, value in enumerate(values):
                if value is not None and len(value) > MAX_TEXT_CHARS and i not in too_long:
                    too_long[i] = Text(
                        "field '{field}' is {size} characters long (limit {limit}); "
                        "the entry was not imported. Shorten it (keep long texts in a linked document) "
                        "and import the file again.", field=name, size=Figure(len(value)), limit=Figure(MAX_TEXT_CHARS))
    for name, normalise, sectors in (("kind", kind_of, False), ("sectors", sectors_of, True)):
        text[name] = _in_vocabulary(text[name], normalise, sectors=sectors)
    layers = [_key_text(value) for value in column("layer")]
    layer_of = {}
    for value in set(layers):
        layer_of[value] = value if value in ALL_LAYERS else layer_from_name(value)
    text["layer"] = [layer_of[value] for value in layers]
    statuses = [_key_text(value) for value in column("status")]
    status_of = {}
    for value in set(statuses):
        status_of[value] = value if value in STATUSES else (status_from_text(value) or EXISTING)
    text["status"] = [status_of[value] for value in statuses]
    text["location_source"] = [
        source if source in LOCATION_SOURCES else ("coordinates" if g is not None else "none")
        for source, g in zip(column("location_source"), geometries)
    ]
    text["source_file"] = [source_file] * count
    text["source_ref"] = [ref or "" for ref in column("source_ref")]
    text["attributes"] = [_attributes_text(attributes) for attributes in column("attributes")]
    for i, value in enumerate(text["attributes"]):
        if len(value) > MAX_ATTRIBUTES_CHARS and i not in too_long:
            too_long[i] = Text(
                "its other fields hold {size} characters together (limit {limit}); "
                "the entry was not imported. Remove the largest fields (embedded images, pasted documents) "
                "and import the file again.", size=Figure(len(value)), limit=Figure(MAX_ATTRIBUTES_CHARS))
    text["feature_id"] = ids = _feature_ids(
        source_file, column("own_id"), column("feature_id"), text["name"], geometry_keys, text["layer"],
        column("group"),
    )

    if not too_long and len(set(ids)) == count:
        rejected: list[Rejected] = []
        if not count:
            return empty_features(), rejected
    else:
        keep, rejected = _unique_rows(ids, text, too_long)
        if not keep:
            return empty_features(), rejected
        if len(keep) < len(ids):
            text = {c: [values[i] for i in keep] for c, values in text.items()}
            geometries = [geometries[i] for i in keep]
    frame = pd.DataFrame({c: pd.Series(text[c], dtype="object") for c in COLUMNS})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries, crs=CRS), crs=CRS), rejected


def _in_vocabulary(values: list[str | None], normalise: Any, *, sectors: bool) -> list[str | None]:
    """A ``kind`` or ``sectors`` column in the shared vocabulary (`loaders.vocabulary`).

    Each distinct cell is normalised once (a file repeats a handful), and unknown values
    that fold alike are written the first way seen. Loaders keep the text as written in
    ``attributes`` themselves, under the field's own name.
    """
    distinct = dict.fromkeys(values)
    distinct.pop(None, None)
    if not distinct:
        return values
    canonical = {value: normalise(value) for value in distinct}
    unified = unify_unknown(canonical.values(), sectors=sectors)
    if unified:
        canonical = {value: unified.get(found, found) for value, found in canonical.items()}
    return [None if value is None else canonical[value] for value in values]


def _feature_ids(
    source_file: str, own_ids: Sequence[Any], given_ids: Sequence[Any], names: list[str | None],
    geometry_keys: list[str], layers: list[str], groups: Sequence[Any],
) -> list[str]:
    """Each row's id: as given, else ``source_file#own_id``, else the hash of `_hash_id`."""
    if all(value is None for value in own_ids) and all(value is None for value in given_ids):
        # Most files carry no ids: `_hash_id` written out in one comprehension.
        sha1 = hashlib.sha1
        return [
            sha1("|".join(
                (source_file, layer, group, name or "", key) if group else (source_file, layer, name or "", key)
            ).encode("utf-8")).hexdigest()[:16]
            for name, key, layer, group in zip(names, geometry_keys, layers, groups)
        ]
    ids = []
    for own, given, name, key, layer, group in zip(own_ids, given_ids, names, geometry_keys, layers, groups):
        own_id = _clean(own)
        if given and given.__class__ is not str:
            given = _clean(given)
        ids.append(given or (
            f"{source_file}#{own_id}" if own_id else _hash_id(source_file, name, key, layer, group or "")
        ))
    return ids


def _unique_rows(
    ids: list[str], columns: dict[str, list[Any]], too_long: dict[int, str]
) -> tuple[list[int], list[Rejected]]:
    """The rows to keep (the first of each id, none too long) and the Rejected for the others."""
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
                Text(
                    "duplicate of {seen} (same id, or same folder/sheet, name and coordinates); the first one was "
                    "kept. Remove the repeated entry or give it its own name.", seen=seen[feature_id]),
                {c: columns[c][i] for c in COLUMNS if c != "attributes"},
            ))
            continue
        seen[feature_id] = ref
        keep.append(i)
    return keep, rejected


def make_result(
    file: str, records: list[dict[str, Any]], rejected: list[Rejected], rows_read: int
) -> LoadResult:
    """Build a LoadResult and check that nothing read was lost."""
    return _checked_result(file, build_features(records, file), rejected, rows_read)


def make_result_from_columns(
    file: str, columns: dict[str, Sequence[Any]], count: int, rejected: list[Rejected], rows_read: int
) -> LoadResult:
    """`make_result` for a loader that reads column-wise (see `build_features_from_columns`)."""
    return _checked_result(file, build_features_from_columns(columns, count, file), rejected, rows_read)


def _checked_result(
    file: str, built: tuple[gpd.GeoDataFrame, list[Rejected]], rejected: list[Rejected], rows_read: int
) -> LoadResult:
    features, duplicates = built
    rejected = rejected + duplicates
    if len(features) + len(rejected) != rows_read:
        raise AssertionError(
            f"{file}: {len(features)} accepted + {len(rejected)} rejected != {rows_read} read"
        )
    return LoadResult(file, features, rejected, rows_read)
