"""A region's boundary: imported by the user, official GISCO NUTS (cached), or an approximate outline."""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geography._cache import (
    APPROXIMATE,
    CRS,
    IMPORTED,
    METRIC_CRS,
    NONE,
    OFFICIAL,
    BoundaryUnavailable,
    concat_frames,
    now_utc,
    read_cached,
)
from geography.boundary_files import polygonal, read_boundary_bytes, read_boundary_file
from geography.gisco import (
    GISCO_ATTRIBUTION,
    GISCO_NUTS_URL,
    NUTS_CACHE,
    NUTS_COLUMNS,
    gisco_url,
    official_boundary,
)
from geography.outlines import (
    APPROXIMATE_LABEL,
    MAX_OUTLINE_VERTICES,
    approximate_outline,
    outline_feature_collection,
    outline_from_settlements,
    write_outline_files,
)
from geography.regions import Region

__all__ = [
    "APPROXIMATE", "APPROXIMATE_LABEL", "BOUNDARIES", "BOUNDARY_COLUMNS", "CRS", "GISCO_ATTRIBUTION",
    "GISCO_NUTS_URL", "IMPORTED", "MAX_OUTLINE_VERTICES", "METRIC_CRS", "NONE", "NUTS_CACHE", "NUTS_COLUMNS",
    "OFFICIAL", "Boundary", "BoundaryUnavailable", "approximate_outline", "boundary_for", "gisco_url",
    "import_boundary", "imported_boundary", "official_boundary", "outline_feature_collection",
    "outline_from_settlements", "read_boundary_bytes", "read_boundary_file", "remove_imported_boundary",
    "write_outline_files",
]

BOUNDARIES = "boundaries"              # workspace table: region_id, source, file, fetched_at, geometry
BOUNDARY_COLUMNS = ("region_id", "source", "file", "fetched_at")


@dataclass
class Boundary:
    """A region's boundary as one (multi)polygon in EPSG:4326, with where it came from.

    Attributes
    ----------
    geometry
        Polygon or MultiPolygon, lon/lat (EPSG:4326).
    source
        ``imported`` (a file the user gave), ``official`` (Eurostat GISCO NUTS 2021) or
        ``approximate`` (the outline shipped in ``geodata/``, or official parts completed
        with it).
    label
        One line saying what it is, for reports and map legends.
    attribution
        Copyright notice to show with the map, or "".
    notes
        Why a preferred source was not used (e.g. offline), for the report.
    network_failed
        True when a download failed for lack of a connection (callers looping over
        regions then stop trying).
    """

    geometry: BaseGeometry
    source: str
    label: str
    attribution: str = ""
    notes: list[str] = field(default_factory=list)
    network_failed: bool = False

    def area_km2(self) -> float:
        """Area in km², computed in EPSG:3035 (equal-area)."""
        return float(gpd.GeoSeries([self.geometry], crs=CRS).to_crs(METRIC_CRS).area.iloc[0] / 1e6)


def import_boundary(workspace, region_id: str, data: bytes, name: str, *, nuts: tuple[str, ...] = ()) -> Boundary:
    """Store a boundary file the user gives for a region in the workspace and return it.

    The file is dissolved to one (multi)polygon in EPSG:4326 and replaces any boundary
    imported for that region before. It then takes precedence over official and
    approximate boundaries in `boundary_for`.
    """
    geometry, described = read_boundary_bytes(data, name, nuts=nuts)
    table = read_cached(workspace, BOUNDARIES, BOUNDARY_COLUMNS)
    table = table[~((table["region_id"] == region_id) & (table["source"] == IMPORTED))]
    row = gpd.GeoDataFrame(
        {"region_id": [region_id], "source": [IMPORTED], "file": [name], "fetched_at": [now_utc()]},
        geometry=[geometry], crs=CRS,
    )
    workspace.write_tables({BOUNDARIES: concat_frames(table, row)},
                           summary=f"imported boundary {name} for region {region_id}")
    return Boundary(geometry, IMPORTED, f"imported boundary: {described}")


def remove_imported_boundary(workspace, region_id: str) -> bool:
    """Forget the boundary imported for a region; return True when there was one."""
    table = read_cached(workspace, BOUNDARIES, BOUNDARY_COLUMNS)
    keep = ~((table["region_id"] == region_id) & (table["source"] == IMPORTED))
    if keep.all():
        return False
    workspace.write_tables({BOUNDARIES: gpd.GeoDataFrame(table[keep], geometry="geometry", crs=CRS)},
                           summary=f"removed the imported boundary of region {region_id}")
    return True


def imported_boundary(workspace, region_id: str) -> Boundary | None:
    """Return the boundary imported for a region, or None."""
    table = read_cached(workspace, BOUNDARIES, BOUNDARY_COLUMNS)
    rows = table[(table["region_id"] == region_id) & (table["source"] == IMPORTED)]
    if rows.empty:
        return None
    row = rows.iloc[-1]
    return Boundary(row.geometry, IMPORTED, f"imported boundary: {row['file']} (imported {row['fetched_at']})")


# -- the chain ---------------------------------------------------------------------------
def _as_region(region: Region | str, workspace) -> Region:
    if isinstance(region, Region):
        return region
    from geography.regions import load_regions

    return load_regions(workspace).get(region)


def boundary_for(
    region: Region | str, workspace=None, *, online: bool = True, timeout_s: float = 5,
    url_template: str | None = None,
) -> Boundary:
    """Return a region's boundary from the best source available.

    Order: a boundary file imported for the region into the workspace; the official
    Eurostat GISCO NUTS 2021 boundary (union of the region's NUTS codes), from the
    workspace cache or downloaded with `timeout_s` when `online`; the approximate outline
    shipped in ``geodata/outlines`` (works offline). A region that only partly covers a
    NUTS code (``nuts_partial``) gets its official parts completed with the outline
    clipped to that code, and is reported as ``approximate``. ``notes`` says why a
    preferred source was skipped.

    Parameters
    ----------
    region
        A Region or its id (looked up with the workspace's regions).
    workspace
        A Workspace, or None (no imported boundaries, no cache).
    online
        Whether to try downloading official boundaries that are not cached.
    timeout_s
        Seconds to wait for the GISCO server per request.
    url_template
        Download address with ``{nuts_id}``; default `GISCO_NUTS_URL` or the
        ``ATLAS_GISCO_NUTS_URL`` environment variable.
    """
    region = _as_region(region, workspace)
    if workspace is not None:
        imported = imported_boundary(workspace, region.id)
        if imported is not None:
            return imported
    notes: list[str] = []
    official: dict[str, BaseGeometry] = {}
    network_failed = False
    codes = region.nuts + region.nuts_partial
    if codes:
        try:
            official, _ = official_boundary(codes, workspace, online=online, timeout_s=timeout_s,
                                            url_template=url_template)
        except BoundaryUnavailable as exc:
            network_failed = exc.network
            notes.append(f"{exc}; using the approximate outline instead. "
                         "Connect to the internet and run again, or import a boundary file for the region.")
    if official and region.official_is_exact:
        geometry = shapely.union_all([official[c] for c in region.nuts])
        return Boundary(geometry, OFFICIAL, f"official boundary: NUTS 2021 {' + '.join(region.nuts)} (Eurostat GISCO)",
                        GISCO_ATTRIBUTION, notes)
    try:
        outline = approximate_outline(region)
    except BoundaryUnavailable as exc:
        raise BoundaryUnavailable(f"{exc}. {' '.join(notes)}".strip()) from None
    if official:
        pieces = [official[c] for c in region.nuts]
        clip = shapely.union_all([official[c] for c in region.nuts_partial])
        pieces.append(shapely.intersection(outline, clip))
        geometry = polygonal(shapely.union_all(pieces)) or outline
        exact = f"NUTS 2021 {' + '.join(region.nuts)} official and " if region.nuts else ""
        label = (f"approximate: {exact}the rest from the approximate outline clipped to "
                 f"{' + '.join(region.nuts_partial)} (Eurostat GISCO); not an official boundary of the whole region")
        return Boundary(geometry, APPROXIMATE, label, GISCO_ATTRIBUTION, notes)
    return Boundary(outline, APPROXIMATE, APPROXIMATE_LABEL, "GeoNames (CC BY 4.0)", notes, network_failed)


if __name__ == "__main__":
    # The rebuild entry lives in geography.outlines; this keeps the documented command working.
    from geography.outlines import main

    main()
