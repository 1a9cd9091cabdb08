"""Pure helpers behind the map's filters and its "click a feature" panel."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd
import shapely

from i18n import N_, formats, ngettext
from i18n import gettext as _
from loaders.features import COLUMNS
from maps.features import FEATURE_ID_FIELD
from maps.style import (
    boundary_source_label,
    kind_label,
    layer_short_label,
    sector_label,
    status_label,
)

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


# The canonical columns as readers see them (the XLSX report's headers use the same words), and the record
# table's own two columns.
FIELD_LABELS: dict[str, str] = {
    "feature_id": N_("feature_id"), "name": N_("name"), "layer": N_("layer"), "kind": N_("kind"),
    "status": N_("status"), "sectors": N_("sectors"), "helix": N_("helix"), "address": N_("address"),
    "town": N_("town"), "country": N_("country"), "website": N_("website"), "contact": N_("contact"),
    "description": N_("description"), "location_source": N_("location_source"), "source_file": N_("source_file"),
    "source_ref": N_("source_ref"), "geometry": N_("geometry"),
}
RECORD_HEADERS = {"field": N_("field"), "value": N_("value")}


def field_label(name: str) -> str:
    """A canonical column's name in the reader's language ("Ort" for ``town``); other names as they are."""
    found = FIELD_LABELS.get(name)
    return _(found) if found else name


def record_for_display(record: pd.DataFrame) -> pd.DataFrame:
    """`feature_record` as readers see it: field names, layer, status, kind and sectors in their language.

    Only canonical values are translated (layer ids, statuses, the shared vocabulary's kinds and
    sectors); names, towns and everything else a user typed, and the source's own attribute keys,
    stay as written.
    """
    values = {
        "layer": layer_short_label, "status": status_label, "kind": kind_label,
        "sectors": lambda v: "; ".join(sector_label(s) for s in sectors_of(v)) if v else v,
    }
    shown = [values[f](v) if f in values and v else v for f, v in zip(record["field"], record["value"])]
    return pd.DataFrame({_(RECORD_HEADERS["field"]): [field_label(f) for f in record["field"]],
                         _(RECORD_HEADERS["value"]): shown})


def map_caption(facilities, total: int, boundary_source: str, radius: Iterable[tuple[str, float]], *,
                region: str = "") -> str:
    """Return the line under the map, in the current language: what is drawn, what is left out and why.

    Parameters
    ----------
    facilities
        The `maps.FacilityMap` drawn. When it was built with the region's boundary, the
        line counts the region's facilities (drawn of those inside, the ones hidden by the
        toggles and filters, how many more lie outside) and says so plainly when the region
        has none; otherwise it counts the workspace's features.
    total
        Features in the workspace.
    boundary_source, radius
        Where the boundary came from, and the radius per layer in km.
    region
        The region's name.
    """
    n = formats.number
    where = region or _("the region")
    parts = []
    unlocated = facilities.unlocated
    if facilities.region_total is None:
        parts.append(ngettext("Showing {drawn} of {total} feature", "Showing {drawn} of {total} features",
                              total).format(drawn=n(facilities.drawn), total=n(total)))
        if unlocated:
            parts.append(ngettext(" ({count} without a location is not drawn)",
                                  " ({count} without a location are not drawn)", unlocated).format(count=n(unlocated)))
    elif facilities.region_total == 0:
        located = (_("all {count} located features of the workspace lie outside it").format(
                       count=n(facilities.outside)) if facilities.outside
                   else _("the workspace has no located features"))
        parts.append(_("No facilities in {region} yet: {located}. Import the region's files on the Data page, "
                       "or pick another region in the sidebar").format(region=where, located=located))
    else:
        parts.append(ngettext("Showing {drawn} of the {total} facility in {region}",
                              "Showing {drawn} of the {total} facilities in {region}", facilities.region_total).format(
            drawn=n(facilities.region_drawn), total=n(facilities.region_total), region=where))
        hidden = facilities.region_total - facilities.region_drawn
        if hidden:
            parts.append(_(" ({count} hidden by the layer toggles and filters)").format(count=n(hidden)))
        elsewhere = ([_("{count} more lie outside the region").format(count=n(facilities.outside))]
                     if facilities.outside else []) + (
            [ngettext("{count} has no location", "{count} have no location", unlocated).format(count=n(unlocated))]
            if unlocated else [])
        if elsewhere:
            parts.append("; " + ", ".join(elsewhere))
    if facilities.aggregated:
        parts.append(_(", drawn as H3 hexagons counting facilities (too many points to draw one by one)"))
    if facilities.discs_skipped:
        parts.append(_("; coverage discs are left out above {count} facilities").format(count=n(50_000)))
    radii = ", ".join(f"{layer_short_label(k)} {formats.km(v)}" for k, v in radius)
    parts.append(_(". Boundary: {source} · radii: {radii}.").format(source=boundary_source_label(boundary_source),
                                                                     radii=radii))
    return "".join(parts)
