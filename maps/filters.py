"""Pure helpers behind the map's filters and its "click a feature" panel."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd
import shapely

from loaders.features import COLUMNS
from maps.features import FEATURE_ID_FIELD

_SPLIT = re.compile(r"\s*[;,/|]\s*")
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?>", re.IGNORECASE)


def sectors_of(value: object) -> list[str]:
    """Return the sectors listed in one ``sectors`` cell ("design; games" → ["design", "games"])."""
    if not isinstance(value, str):
        return []
    return [s.strip().lower() for s in _SPLIT.split(value) if s.strip()]


def filter_options(features: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """Return the distinct kinds, sectors and statuses present, sorted, for filter widgets."""
    # Distinct cells first: a workspace repeats the same few kinds and sector lists.
    kinds = sorted({str(k).strip() for k in features["kind"].dropna().unique() if str(k).strip()}, key=str.casefold)
    sectors = sorted({s for v in features["sectors"].dropna().unique() for s in sectors_of(v)})
    statuses = sorted({str(s) for s in features["status"].dropna().unique()})
    return {"kind": kinds, "sectors": sectors, "status": statuses}


def filter_features(
    features: gpd.GeoDataFrame,
    *,
    layers: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    sectors: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Return the features passing every filter; an empty or None filter passes everything.

    A feature passes the sector filter when any of its sectors is selected.
    """
    keep = pd.Series(True, index=features.index)
    if layers:
        keep &= features["layer"].isin(list(layers))
    if kinds:
        wanted = {k.strip() for k in kinds}
        keep &= features["kind"].map(lambda v: isinstance(v, str) and v.strip() in wanted)
    if sectors:
        wanted = set(sectors)
        keep &= features["sectors"].map(lambda v: bool(wanted.intersection(sectors_of(v))))
    if statuses:
        keep &= features["status"].isin(list(statuses))
    return features[keep.to_numpy(dtype=bool)]


def selected_feature_ids(selection: Mapping | None) -> list[str]:
    """Return the feature ids of the objects picked on the map (a pydeck selection state)."""
    if not selection:
        return []
    objects = selection.get("objects") or {}
    found = []
    for picked in objects.values():
        for obj in picked or []:
            fid = obj.get(FEATURE_ID_FIELD) if isinstance(obj, Mapping) else None
            if fid and fid not in found:
                found.append(fid)
    return found


def plain_text(html: object) -> str:
    """Return My Maps description HTML as plain text (tags dropped, breaks kept); never rendered as HTML."""
    if not isinstance(html, str):
        return ""
    text = _BREAK.sub("\n", html)
    text = _TAG.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def feature_record(features: gpd.GeoDataFrame, feature_id: str) -> pd.DataFrame:
    """Return one feature's full record as a two-column table (field, value).

    Every canonical column is listed, then each source attribute (``attributes`` JSON)
    as ``attributes.<name>``, then the geometry as WKT (rounded). Empty when the id is unknown.
    """
    rows = features[features["feature_id"] == feature_id]
    if rows.empty:
        return pd.DataFrame({"field": pd.Series(dtype=str), "value": pd.Series(dtype=str)})
    row = rows.iloc[0]
    out = []
    for column in COLUMNS:
        if column == "attributes":
            continue
        value = row.get(column)
        out.append((column, plain_text(value) if column == "description" else ("" if value is None else str(value))))
    try:
        attributes = json.loads(row.get("attributes") or "{}")
    except (TypeError, json.JSONDecodeError):
        attributes = {"(raw)": row.get("attributes")}
    for key, value in (attributes or {}).items():
        out.append((f"attributes.{key}", plain_text(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)))
    geometry = row.geometry
    wkt = "" if geometry is None else shapely.to_wkt(geometry, rounding_precision=5)
    if len(wkt) > 300:
        wkt = f"{geometry.geom_type} with {shapely.get_num_coordinates(geometry)} vertices"
    out.append(("geometry", wkt))
    return pd.DataFrame(out, columns=["field", "value"])


def map_caption(facilities, total: int, boundary_source: str, radius: Iterable[tuple[str, float]], *,
                inside: int | None = None, region: str = "") -> str:
    """Return the line under the map: what is drawn, what is left out and why.

    With `inside` (facilities of the three layers inside the region's boundary) the line
    starts with the region's own count, so it differs from region to region.
    """
    parts = []
    if inside is not None:
        parts.append(f"{inside:,} facilit{'y' if inside == 1 else 'ies'} inside {region or 'the region'}; ")
    parts.append(f"showing {facilities.drawn:,} of the workspace's {total:,} features" if inside is not None
                 else f"Showing {facilities.drawn:,} of {total:,} features")
    if facilities.unlocated:
        parts.append(f" ({facilities.unlocated} without a location are not drawn)")
    if facilities.aggregated:
        parts.append(" as H3 hexagons counting facilities (too many points to draw one by one)")
    if facilities.discs_skipped:
        parts.append("; coverage discs are left out above 50,000 facilities")
    parts.append(f" · boundary: {boundary_source} · radii: " + ", ".join(f"{k} {v:g} km" for k, v in radius))
    parts.append(". Click a facility for its full record.")
    return "".join(parts)
