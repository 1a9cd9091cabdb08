"""Recognise placemarks that Creative Atlas exported itself and restore their fields exactly.

`exporters.kml` writes the schema's fields as ExtendedData (``feature_id``, ``layer``,
``status`` … by their column names) and every attribute as its own field, prefixing with
``attributes.`` a key that would collide. The KML reader keeps every ExtendedData field in
``attributes`` and fills columns through its alias table. For a placemark that carries
``feature_id``, ``layer`` and ``status`` fields (our export's signature) this step undoes
that: columns come from the fields named exactly like them (absent means empty), the
feature id is taken verbatim, the reader's own ``styleUrl``/``folder`` notes and the old
provenance are dropped, and prefixed keys lose their prefix. Anything else is untouched.
"""
from __future__ import annotations

import json

import geopandas as gpd

from i18n import Text
from loaders.features import COLUMNS, LoadResult, Rejected

SIGNATURE = ("feature_id", "layer", "status")
PREFIX = "attributes."
_NOT_RESTORED = ("feature_id", "name", "description", "source_file", "source_ref", "attributes")
_RESTORED = tuple(c for c in COLUMNS if c not in _NOT_RESTORED)
_READER_KEYS = ("styleUrl", "folder")


def _restore(row: dict, attributes: dict) -> dict:
    row["feature_id"] = str(attributes.pop("feature_id"))
    for column in _RESTORED:
        value = attributes.pop(column, None)
        row[column] = value if value not in ("", None) else None
    for key in ("source_file", "source_ref") + _READER_KEYS:
        attributes.pop(key, None)
    kept = {}
    for key, value in attributes.items():
        kept[key[len(PREFIX):] if key.startswith(PREFIX) else key] = value
    row["attributes"] = json.dumps(kept, ensure_ascii=False, sort_keys=True, default=str)
    return row


def restore_exported(result: LoadResult) -> LoadResult:
    """Return `result` with the features our own KML/KMZ export wrote restored field by field.

    Features whose restored ``feature_id`` repeats an earlier one are moved to the rejected
    list (so ``accepted + rejected == rows_read`` still holds).
    """
    frame = result.features
    if frame.empty:
        return result
    marked = frame["attributes"].astype(str).str.contains('"feature_id"', regex=False)
    if not marked.any():
        return result
    frame = frame.copy()
    for index in frame.index[marked.to_numpy()]:
        attributes = json.loads(frame.at[index, "attributes"])
        if not all(key in attributes for key in SIGNATURE) or not attributes.get("feature_id"):
            continue
        row = _restore(frame.loc[index, list(COLUMNS)].to_dict(), attributes)
        for column, value in row.items():
            frame.at[index, column] = value
    duplicated = frame["feature_id"].duplicated(keep="first")
    rejected = list(result.rejected)
    if duplicated.any():
        first = dict(zip(frame.loc[~duplicated, "feature_id"], frame.loc[~duplicated, "source_ref"]))
        for _, row in frame[duplicated].iterrows():
            rejected.append(Rejected(
                row["source_ref"],
                Text(
                    "same feature_id '{id}' as {first}; the first one was kept. Remove the repeated placemark.",
                    id=row["feature_id"], first=first.get(row["feature_id"], Text("an earlier placemark"))),
                {"name": row["name"], "feature_id": row["feature_id"]},
            ))
        frame = frame[~duplicated]
    features = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=result.features.crs)
    return LoadResult(result.file, features, rejected, result.rows_read, list(result.notes))
