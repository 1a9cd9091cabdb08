"""Small pure helpers behind the dashboard pages (no Streamlit): counts, sentences, tables, new sites."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from analysis.base import lonlat
from i18n import N_, formats
from i18n import gettext as _
from loaders.features import COLUMNS, CRS, make_feature_id
from loaders.layers import LAYERS, PLANNED
from maps.style import layer_label

SUGGESTED_SOURCE = "atlas (suggested site)"
SITE_PREFIX = {"hubs": "Suggested hub", "training": "Suggested training", "networks": "Suggested network"}
# The layers' short names in running text and table columns ("hubs 20 km", "hubs per 100k").
LAYER_SHORT: dict[str, str] = {"hubs": N_("hubs"), "training": N_("training"), "networks": N_("networks")}


def layer_short(layer: str) -> str:
    """A layer's short name in the current language ("hubs", "nav", "huby"); other ids as they are."""
    return _(LAYER_SHORT[layer]) if layer in LAYER_SHORT else str(layer)


def is_demo(path: str | Path | None) -> bool:
    """True for the shipped demo workspace (its figures are illustrative); False for a database."""
    return path is not None and Path(path).resolve().name == "demo_workspace"


def inside(features: gpd.GeoDataFrame, boundary: BaseGeometry | None) -> np.ndarray:
    """Return a boolean mask of features located inside `boundary` (all located ones without one)."""
    points = lonlat(features.geometry)
    located = np.isfinite(points).all(axis=1)
    if boundary is None or boundary.is_empty:
        return located
    mask = np.zeros(len(features), dtype=bool)
    mask[located] = shapely.intersects_xy(boundary, points[located, 0], points[located, 1])
    return mask


def facility_counts(features: gpd.GeoDataFrame, boundary: BaseGeometry | None) -> dict[str, dict[str, int]]:
    """Return ``{layer: {"existing": n, "planned": n}}`` for facilities inside the boundary."""
    chosen = features[inside(features, boundary)]
    out = {}
    for layer in LAYERS:
        mine = chosen[chosen["layer"] == layer]
        planned = int((mine["status"] == PLANNED).sum())
        out[layer] = {"existing": len(mine) - planned, "planned": planned}
    return out


def share_text(share: float | None) -> str:
    """A share as shown on the pages: "86%" ("86 %" in Swedish), or "—" when the analysis cannot tell."""
    return formats.percent(share)


def area_table(areas: pd.DataFrame, layers: list[str]) -> pd.DataFrame:
    """The by-area table as shown: area, people, share within reach per layer (%), full support, facilities per 100,000."""
    table = pd.DataFrame({_("Area"): areas["name"], _("People"): areas["population"]})
    for layer in layers:
        if f"coverage_share_{layer}" in areas:
            table[_("{layer} within reach (%)").format(layer=layer_label(layer))] = (
                areas[f"coverage_share_{layer}"] * 100).round(0)
    table[_("Full support (%)")] = (areas["full_support_share"] * 100).round(0)
    for layer in layers:
        if f"per_100k_{layer}" in areas:
            table[_("{layer} per 100,000").format(layer=layer_label(layer))] = areas[f"per_100k_{layer}"].round(1)
    return table


def coverage_sentence(radius_km: dict[str, float]) -> str:
    """Return the one line saying what the coverage figures mean."""
    parts = ", ".join(f"{layer_short(layer)} {formats.km(km)}" for layer, km in radius_km.items())
    return _("**Coverage** is the share of the region's population living in a settlement that has an existing "
             "facility of that layer within reach in a straight line ({radii}); **full support** means within "
             "reach of all three at once.").format(radii=parts)


def uncovered_table(uncovered: pd.DataFrame, *, layer: str | None = None, unit: str = "km") -> pd.DataFrame:
    """Flatten an uncovered-towns frame into a display table: town, population, missing, distance per layer.

    `uncovered` is `analysis.gaps.uncovered` (``unit="km"``: great-circle km per layer) or
    `analysis.travel.uncovered` (``unit="min"``: minutes of travel per layer, NaN where no
    facility can be reached by road, plus ``on network``). With `layer`, keep only the towns
    beyond reach of that layer.
    """
    rows = uncovered
    if layer is not None:
        rows = rows[rows["missing"].map(lambda m: layer in m)]
    table = pd.DataFrame({
        "town": rows["name"].to_numpy(dtype=object),
        "population": rows["population"].to_numpy(dtype=np.int64),
        "missing": [", ".join(m) for m in rows["missing"]],
    })
    nearest = rows["nearest_km" if unit == "km" else "nearest_minutes"]
    for name in LAYERS:
        table[f"{name} {unit}"] = [_round_km(d.get(name)) if isinstance(d, dict) else np.nan for d in nearest]
    if "on_network" in rows:
        table["on network"] = rows["on_network"].to_numpy(dtype=bool)
    return table.reset_index(drop=True)


def _round_km(value: Any) -> float:
    if value is None:
        return math.nan
    value = float(value)
    return round(value, 1) if math.isfinite(value) else math.nan


def suggested_site_feature(site: dict[str, Any], *, layer: str, country: str | None = None) -> gpd.GeoDataFrame:
    """Return a canonical one-row frame for a suggested site, saved as a planned facility.

    The name says what it is ("Suggested hub near Tuam"); the id is stable for the same
    place and layer, so saving the same suggestion twice keeps one feature.
    """
    name = f"{SITE_PREFIX.get(layer, 'Suggested site')} near {site['name']}"
    geometry = shapely.Point(round(float(site["lon"]), 6), round(float(site["lat"]), 6))
    row = {column: None for column in COLUMNS}
    row.update({
        "feature_id": make_feature_id(SUGGESTED_SOURCE, f"{layer}|{name}", geometry),
        "name": name, "layer": layer, "status": PLANNED, "town": str(site["name"]), "country": country,
        "description": f"Suggested by the atlas: would bring {int(site.get('added_population') or 0):,} more "
                       "people within reach.",
        "location_source": "coordinates", "source_file": SUGGESTED_SOURCE,
        "source_ref": f"siting, {layer}", "attributes": "{}",
    })
    frame = pd.DataFrame([row], columns=list(COLUMNS)).astype("object")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([geometry], crs=CRS), crs=CRS)


def siting_sentence(siting: Any) -> str:
    """Return one line on how good the suggested sites are (greedy vs the proven optimum)."""
    n = formats.number
    added = siting.covered_after - siting.covered_before
    text = _("Together they bring {added} more people within reach ({before} → {after}).").format(
        added=n(added), before=n(siting.covered_before), after=n(siting.covered_after))
    if siting.optimum is not None:
        if siting.gap_to_optimum:
            text += " " + _("The best possible with {k} sites adds {optimum}: these picks are {gap} short of it.").format(
                k=siting.k, optimum=n(siting.optimum), gap=formats.percent(siting.gap_to_optimum, 1))
        else:
            text += " " + _("No choice of {k} sites does better (checked exactly).").format(k=siting.k)
    return text


def site_key(site: dict[str, Any]) -> str:
    """A suggested site's identity, whatever its rank: its town and position ("Gort@53.06650,-8.81800")."""
    return f"{site['name']}@{float(site['lat']):.5f},{float(site['lon']):.5f}"


def planned_near(sites: list[dict[str, Any]], facilities: gpd.GeoDataFrame, layer: str,
                 radius_km: float) -> list[str | None]:
    """Per site, the name of a planned facility of `layer` within `radius_km` of it, or None.

    A site next to a planned hub is worth a word: the plan may already fill that gap.
    """
    from analysis.distance import nearest_km

    planned = facilities[(facilities["layer"] == layer) & (facilities["status"] == PLANNED)]
    if not sites or planned.empty:
        return [None] * len(sites)
    points = lonlat(planned.geometry)
    located = np.isfinite(points).all(axis=1)
    planned, points = planned[located], points[located]
    if planned.empty:
        return [None] * len(sites)
    km, index = nearest_km(np.array([[float(s["lon"]), float(s["lat"])] for s in sites]), points)
    names = planned["name"].astype(str).to_numpy()
    return [str(names[i]) if i >= 0 and d <= radius_km else None for d, i in zip(km, index)]


def sites_table(sites: list[dict[str, Any]], planned: list[str | None] | None = None) -> pd.DataFrame:
    """Return suggested sites as a table: number, near (town), added population, lat, lon, planned nearby."""
    table = pd.DataFrame({
        "#": list(range(1, len(sites) + 1)),
        "near": [str(s["name"]) for s in sites],
        "adds people": [int(s["added_population"]) for s in sites],
        "lat": [round(float(s["lat"]), 5) for s in sites],
        "lon": [round(float(s["lon"]), 5) for s in sites],
    })
    if planned is not None and any(planned):
        table["planned nearby"] = [p or "" for p in planned]
    return table


def comparison_views(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Split the comparison table into what the Compare page shows.

    Column names are in the current language (English: ``"hubs coverage %"``). Returns
    ``table`` (readable column names, shares in %), ``coverage`` (coverage share
    % per layer and full support, indexed by region name) and ``per_100k`` (facilities
    per 100,000 inhabitants per layer, indexed by region name).
    """
    names = table["region_name"].astype(str)
    region, short = _("region"), {layer: layer_short(layer) for layer in LAYERS}
    coverage_name = {layer: _("{layer} coverage %").format(layer=short[layer]) for layer in LAYERS}
    per_100k_name = {layer: _("{layer} per 100k").format(layer=short[layer]) for layer in LAYERS}
    full = _("full support %")
    display = pd.DataFrame({region: names, _("population"): table["population"].astype("Int64")})
    # Reach first: on a 1400 px screen the coverage columns must not start off screen.
    for layer in LAYERS:
        display[coverage_name[layer]] = (pd.to_numeric(table[f"coverage_share_{layer}"], errors="coerce") * 100).round(0)
    display[full] = (pd.to_numeric(table["full_support_share"], errors="coerce") * 100).round(0)
    display[_("median km to hub")] = pd.to_numeric(table["median_km_hubs"], errors="coerce").round(1)
    for layer in LAYERS:
        display[short[layer]] = table[f"facilities_{layer}"].astype("Int64")
        display[per_100k_name[layer]] = pd.to_numeric(table[f"per_100k_{layer}"], errors="coerce").round(1)
    display[_("largest town lacking a layer")] = table["largest_uncovered_name"]
    display[_("its population")] = table["largest_uncovered_population"]
    coverage = pd.DataFrame(
        {short[layer]: display[coverage_name[layer]].to_numpy() for layer in LAYERS}
        | {_("full support"): display[full].to_numpy()},
        index=pd.Index(names, name=region),
    )
    per_100k = pd.DataFrame({short[layer]: display[per_100k_name[layer]].to_numpy() for layer in LAYERS},
                            index=pd.Index(names, name=region))
    return {"table": display, "coverage": coverage, "per_100k": per_100k}
