"""Approximate region outlines built from GeoNames settlements, and the rebuild of ``geodata/outlines/``."""
from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from errors import UsageError
from geography._cache import APPROXIMATE, CRS, METRIC_CRS, BoundaryUnavailable
from geography.boundary_files import read_boundary_file
from geography.regions import Region
from i18n import Message, Text

APPROXIMATE_LABEL = Text(
    "approximate outline (buffered concave hull of the region's GeoNames settlements), "
    "not an official boundary"
)
MAX_OUTLINE_VERTICES = 40


@lru_cache(maxsize=1)
def _place_arrays() -> dict[str, np.ndarray]:
    from loaders.gazetteer import place_table

    table = place_table()
    return {column: table[column].to_numpy() for column in ("name", "country", "admin1", "population", "lat", "lon")}


@lru_cache(maxsize=2)
def _transformer(source: str, target: str) -> Transformer:
    # Built on first use: PROJ's set-up costs ~0.3 s that commands without outlines need not pay.
    return Transformer.from_crs(source, target, always_xy=True)


def _town(name: str, countries: list[str]) -> tuple[float, float]:
    """Return (lat, lon) of the most populous GeoNames place of that name in the countries."""
    arrays = _place_arrays()
    mask = (arrays["name"] == name) & np.isin(arrays["country"], countries)
    if not mask.any():
        raise UsageError(Message(
            "outline_from: no GeoNames place named '{name}' in {countries}; check the spelling (names as GeoNames "
            "writes them, with diacritics).", name=name, countries=", ".join(countries)))
    i = np.flatnonzero(mask)[np.argmax(arrays["population"][mask])]
    return float(arrays["lat"][i]), float(arrays["lon"][i])


def _select(selector: dict[str, Any]) -> np.ndarray:
    """Return the indices of the GeoNames places a selector picks."""
    arrays = _place_arrays()
    countries = list(selector["countries"])
    mask = np.isin(arrays["country"], countries)
    if selector.get("admin1"):
        mask &= np.isin(arrays["admin1"], list(selector["admin1"]))
    if selector.get("names"):
        mask &= np.isin(arrays["name"], list(selector["names"]))
    if selector.get("bbox"):
        x0, y0, x1, y1 = selector["bbox"]
        mask &= (arrays["lon"] >= x0) & (arrays["lon"] <= x1) & (arrays["lat"] >= y0) & (arrays["lat"] <= y1)
    x, y = _transformer(CRS, METRIC_CRS).transform(arrays["lon"][mask], arrays["lat"][mask])
    index = np.flatnonzero(mask)
    keep = np.ones(len(index), dtype=bool)
    if selector.get("near"):
        near = np.zeros(len(index), dtype=bool)
        for town, km in selector["near"]:
            lat, lon = _town(town, countries)
            cx, cy = _transformer(CRS, METRIC_CRS).transform(lon, lat)
            near |= np.hypot(x - cx, y - cy) <= km * 1000
        keep &= near
    anchors_in = [_town(t, countries) for t in selector.get("keep_nearest_to") or []]
    anchors_out = [_town(t, countries) for t in selector.get("drop_nearest_to") or []]
    if anchors_in and anchors_out:
        # Each place goes with its nearest anchor town: a coarse way to follow county lines.
        def distances(anchors):
            ax, ay = _transformer(CRS, METRIC_CRS).transform([a[1] for a in anchors], [a[0] for a in anchors])
            return np.min(np.hypot(x[:, None] - np.asarray(ax)[None, :], y[:, None] - np.asarray(ay)[None, :]), axis=1)

        keep &= distances(anchors_in) <= distances(anchors_out)
    return index[keep]


def _simplify(geometry: BaseGeometry, max_vertices: int) -> BaseGeometry:
    """Simplify each polygon part until it has at most `max_vertices` vertices."""
    parts = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
    out = []
    for part in parts:
        tolerance = 100.0
        simple = part
        while shapely.get_num_coordinates(simple) - 1 > max_vertices:
            simple = shapely.simplify(part, tolerance, preserve_topology=True)
            tolerance *= 1.3
        out.append(shapely.Polygon(simple.exterior))
    return shapely.union_all(out)


def outline_from_settlements(selectors: list[dict[str, Any]] | tuple[dict[str, Any], ...]) -> BaseGeometry:
    """Build an approximate outline from GeoNames settlements, in EPSG:4326.

    For each selector (a part of the region): pick GeoNames places of 500+ by country,
    GeoNames admin1 code, explicit names, a bbox, distance from a town (``near``:
    ``[[town, km], ...]``) and nearest-anchor-town rules (``keep_nearest_to`` /
    ``drop_nearest_to``: a place stays when its nearest listed town is a "keep" one);
    take their concave hull in EPSG:3035 (``concavity``, 0 = tightest, 1 = convex;
    default 0.3), grow it by ``buffer_km`` (default 5) and simplify it to at most
    40 vertices. The parts are then united.
    """
    parts = []
    arrays = _place_arrays()
    for selector in selectors:
        index = _select(selector)
        if len(index) == 0:
            raise UsageError(Message(
                "outline_from part {selector} picks no GeoNames settlement; widen it.", selector=repr(selector)))
        x, y = _transformer(CRS, METRIC_CRS).transform(arrays["lon"][index], arrays["lat"][index])
        points = shapely.multipoints(np.column_stack([x, y]))
        hull = shapely.concave_hull(points, ratio=float(selector.get("concavity", 0.3)))
        buffered = shapely.buffer(hull, float(selector.get("buffer_km", 5)) * 1000, quad_segs=4)
        parts.append(_simplify(buffered, MAX_OUTLINE_VERTICES))
    metric = shapely.union_all(parts)
    return shapely.transform(metric, lambda xy: np.column_stack(_transformer(METRIC_CRS, CRS).transform(xy[:, 0], xy[:, 1])))


def approximate_outline(region: Region) -> BaseGeometry:
    """Return the region's approximate outline: its outline file, else built from its selectors.

    Raises BoundaryUnavailable when the region has neither.
    """
    if region.outline is not None:
        geometry, _ = read_boundary_file(region.outline)
        return geometry
    if region.outline_from:
        return outline_from_settlements(region.outline_from)
    raise BoundaryUnavailable(Message(
        "region '{region}' has no approximate outline: add \"outline\" (a GeoJSON file) or "
        "\"outline_from\" (settlement selectors) to its entry, or import a boundary file", region=region.id)
    )


def outline_feature_collection(region: Region, geometry: BaseGeometry) -> dict[str, Any]:
    """Return the GeoJSON FeatureCollection written to ``geodata/outlines/<id>.geojson``."""
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "properties": {
                "region_id": region.id, "name": region.name, "source": APPROXIMATE,
                "label": APPROXIMATE_LABEL, "method": "outline_from in geodata/regions.json",
            },
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geometry, 1e-4))),
        }],
    }


def write_outline_files(regions_file: str | Path | None = None) -> list[Path]:
    """Rebuild every region's outline file from its ``outline_from`` selectors.

    Reads the regions file as plain JSON (so outlines can be built before they exist) and
    writes ``<folder of the file>/<outline>`` for each region that has both fields.
    Run ``python -m geography.boundaries [regions.json]`` after changing a selector.
    """
    from geography.regions import SHIPPED

    path = Path(regions_file or SHIPPED)
    doc = json.loads(path.read_text(encoding="utf-8"))
    written = []
    for entry in doc.get("regions", []):
        if not entry.get("outline") or not entry.get("outline_from"):
            continue
        region = Region(entry["id"], entry["name"], tuple(entry.get("countries", ())))
        geometry = outline_from_settlements(entry["outline_from"])
        target = path.parent / entry["outline"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(outline_feature_collection(region, geometry), ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    """Rebuild the outline files and print their paths (``python -m geography.outlines [regions.json]``)."""
    argv = sys.argv[1:] if argv is None else argv
    for written_path in write_outline_files(argv[0] if argv else None):
        print(written_path)


if __name__ == "__main__":
    main()
