"""A region's boundary: imported by the user, official GISCO NUTS (shipped, cached or downloaded), or approximate."""
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
from geography.areas import areas, find_municipality, import_areas
from geography.boundary_files import polygonal, read_boundary_bytes, read_boundary_file
from geography.gisco import (
    GISCO_ATTRIBUTION,
    GISCO_NUTS_URL,
    GISCO_SCALE,
    NUTS_CACHE,
    NUTS_COLUMNS,
    cached_boundaries,
    gisco_url,
    official_boundary,
)
from geography.nuts_files import SHIPPED_ATTRIBUTION, SHIPPED_SCALE, shipped_boundaries
from geography.outlines import (
    APPROXIMATE_LABEL,
    MAX_OUTLINE_VERTICES,
    approximate_outline,
    outline_feature_collection,
    outline_from_settlements,
    write_outline_files,
)
from geography.regions import Region
from i18n import Message, Text

__all__ = [
    "APPROXIMATE", "APPROXIMATE_LABEL", "BOUNDARIES", "BOUNDARY_COLUMNS", "CRS", "GISCO_ATTRIBUTION",
    "GISCO_NUTS_URL", "IMPORTED", "MAX_OUTLINE_VERTICES", "METRIC_CRS", "NONE", "NUTS_CACHE", "NUTS_COLUMNS",
    "OFFICIAL", "SHIPPED_ATTRIBUTION", "Boundary", "BoundaryUnavailable", "approximate_outline", "boundary_for",
    "boundary_frame", "gisco_url", "import_areas", "import_boundary", "imported_boundary", "official_boundary",
    "outline_feature_collection",
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
        ``imported`` (a file the user gave, or official parts completed with imported
        municipality areas), ``official`` (Eurostat GISCO NUTS 2021) or ``approximate``
        (the outline shipped in ``geodata/``, or other parts completed with it).
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
    _area_km2: float | None = field(default=None, repr=False, compare=False)

    def area_km2(self) -> float:
        """Area in km², computed in EPSG:3035 (equal-area) once and kept with the boundary.

        Kept because a projection is slow to set up in each new thread (every Streamlit
        rerun is one): about 0.1 s, against 1 ms for the sum itself.
        """
        if self._area_km2 is None:
            self._area_km2 = float(gpd.GeoSeries([self.geometry], crs=CRS).to_crs(METRIC_CRS).area.iloc[0] / 1e6)
        return self._area_km2


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
    return Boundary(geometry, IMPORTED, Text("imported boundary: {what}", what=described))


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
    return Boundary(row.geometry, IMPORTED, Text("imported boundary: {file} (imported {when})", file=row["file"],
                                                 when=row["fetched_at"]))


_PLUS = "{a} + {b}"  # not a sentence: no entry in the catalogues


def _plus(parts: list) -> str:
    """Parts of a label joined with " + ", each still translatable (`i18n.Text`)."""
    out = parts[0]
    for part in parts[1:]:
        out = Text(_PLUS, a=out, b=part)
    return out


# -- the chain ---------------------------------------------------------------------------
def _as_region(region: Region | str, workspace) -> Region:
    if isinstance(region, Region):
        return region
    from geography.regions import load_regions

    return load_regions(workspace).get(region)


def _gisco_attribution(scales: set[str]) -> str:
    if scales == {SHIPPED_SCALE}:
        return SHIPPED_ATTRIBUTION
    if scales == {GISCO_SCALE}:
        return GISCO_ATTRIBUTION
    return ("© EuroGeographics for the administrative boundaries (Eurostat GISCO, NUTS 2021, "
            f"{' and '.join(sorted(scales))})")


def _official_parts(
    codes: tuple[str, ...], workspace, *, online: bool, timeout_s: float, url_template: str | None,
) -> tuple[dict[str, BaseGeometry], dict[str, str], list[str], bool]:
    """Official geometry per code: workspace cache (1:1 million), shipped files (1:20 million), then download.

    Returns the geometries found, the scale of each, notes on what is missing, and whether
    a download failed for lack of a connection.
    """
    found = cached_boundaries(codes, workspace)
    scale = {code: GISCO_SCALE for code in found}
    shipped = shipped_boundaries([c for c in codes if c not in found])
    found.update(shipped)
    scale.update({code: SHIPPED_SCALE for code in shipped})
    missing = tuple(c for c in codes if c not in found)
    notes: list[str] = []
    network_failed = False
    if missing:
        try:
            fetched, _ = official_boundary(missing, workspace, online=online, timeout_s=timeout_s,
                                           url_template=url_template)
            found.update(fetched)
            scale.update({code: GISCO_SCALE for code in fetched})
        except BoundaryUnavailable as exc:
            network_failed = exc.network
            notes.append(Text("{problem}; using the approximate outline instead. Connect to the internet and run "
                              "again, or import a boundary file for the region.", problem=exc.args[0]))
    return found, scale, notes, network_failed


def _municipality_parts(region: Region, workspace) -> tuple[list[BaseGeometry], list[str], list[str]]:
    """Shapes of the region's municipalities found among the imported areas, what they are, and the names missing."""
    if not region.municipalities:
        return [], [], []
    table = areas(workspace) if workspace is not None else None
    shapes, missing = [], []
    by_file: dict[str, list[str]] = {}
    for municipality in region.municipalities:
        match = find_municipality(table, municipality)
        if match is None:
            missing.append(municipality.name)
        else:
            shapes.append(match[0])
            by_file.setdefault(match[2], []).append(match[1])
    described = [Text("{names} from {file}", names=", ".join(names), file=file) for file, names in by_file.items()]
    return shapes, described, missing


def boundary_for(
    region: Region | str, workspace=None, *, online: bool = True, timeout_s: float = 5,
    url_template: str | None = None,
) -> Boundary:
    """Return a region's boundary from the best source available.

    Order: a boundary file imported for the region into the workspace; the official
    Eurostat GISCO NUTS 2021 boundary (union of the region's NUTS codes), from the
    workspace cache (1:1 million, downloaded before), the files shipped in
    ``geodata/nuts`` (1:20 million, offline) or downloaded with `timeout_s` when `online`;
    the approximate outline shipped in ``geodata/outlines`` (works offline).

    A region of mixed parts combines its official NUTS codes with its municipalities,
    whose shapes come from the areas imported into the workspace (`geography.areas`). A
    part nothing official or imported covers (a municipality not imported, a partly
    covered code without municipalities) is the approximate outline clipped to the
    region's ``nuts_partial`` codes; the label names each part. The boundary's source is
    its weakest part: ``official`` < ``imported`` < ``approximate``. ``notes`` says why a
    preferred source was skipped.

    Parameters
    ----------
    region
        A Region or its id (looked up with the workspace's regions).
    workspace
        A Workspace, or None (no imported boundaries or areas, no cache).
    online
        Whether to try downloading official boundaries that are neither shipped nor cached.
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
    codes = region.nuts + region.nuts_partial
    official, scale, notes, network_failed = ({}, {}, [], False) if not codes else _official_parts(
        codes, workspace, online=online, timeout_s=timeout_s, url_template=url_template)
    whole = all(c in official for c in region.nuts)
    official_label = ""
    if region.nuts and whole:
        scales = ", ".join(sorted({scale[c] for c in region.nuts}))
        official_label = f"NUTS 2021 {' + '.join(region.nuts)} (Eurostat GISCO, {scales})"
        if region.official_is_exact:
            geometry = shapely.union_all([official[c] for c in region.nuts])
            attribution = _gisco_attribution({scale[c] for c in region.nuts})
            return Boundary(geometry, OFFICIAL, Text("official boundary: {what}", what=official_label), attribution,
                            notes)
    shapes, found, missing = _municipality_parts(region, workspace) if whole else ([], [], [])
    pieces = [official[c] for c in region.nuts] if whole else []
    labels = [Text("official {what}", what=official_label)] if official_label else []
    used_scales = {scale[c] for c in region.nuts} if whole else set()
    if found:
        pieces.extend(shapes)
        labels.append(Text("{areas} (imported areas)", areas=_plus(found)) if len(shapes) > 1
                      else Text("{areas} (imported area)", areas=_plus(found)))
    if whole and (region.nuts or found) and not missing and not (region.nuts_partial and not region.municipalities):
        geometry = polygonal(shapely.union_all(pieces))
        if geometry is not None:
            attribution = _gisco_attribution(used_scales) if used_scales else ""
            return Boundary(geometry, IMPORTED, _plus(labels), attribution, notes)
    try:
        outline = approximate_outline(region)
    except BoundaryUnavailable as exc:
        raise BoundaryUnavailable(Message(_PLUS.replace(" + ", ". "), a=exc.args[0], b=notes[0]) if notes
                                  else exc.args[0]) from None
    partial = [c for c in region.nuts_partial if c in official]
    if not whole or not (pieces or partial):
        return Boundary(outline, APPROXIMATE, APPROXIMATE_LABEL, "GeoNames (CC BY 4.0)", notes, network_failed)
    if partial:
        rest = shapely.intersection(outline, shapely.union_all([official[c] for c in partial]))
        used_scales |= {scale[c] for c in partial}
        how = Text("the approximate outline clipped to {codes} (Eurostat GISCO)", codes=" + ".join(partial))
    else:
        rest = shapely.difference(outline, shapely.union_all(pieces))
        how = Text("the approximate outline outside the parts above")
    if len(missing) == 1:
        what = Text("approximate {names} (municipality not imported: {how})", names=missing[0], how=how)
        notes.append(Text("Municipality {name} is not among the areas imported into the workspace, so that part "
                          "of the {region} boundary is approximate. Import a municipality boundary file (GeoJSON, "
                          "TopoJSON, GeoPackage …) to replace it.", name=missing[0], region=region.name))
    elif missing:
        what = Text("approximate {names} (municipalities not imported: {how})", names=", ".join(missing), how=how)
        notes.append(Text("Municipalities {names} are not among the areas imported into the workspace, so that "
                          "part of the {region} boundary is approximate. Import a municipality boundary file "
                          "(GeoJSON, TopoJSON, GeoPackage …) to replace it.", names=", ".join(missing),
                          region=region.name))
    else:
        what = Text("approximate rest of the region ({how})", how=how)
    geometry = polygonal(shapely.union_all(pieces + [rest])) or outline
    attribution = "; ".join(a for a in (_gisco_attribution(used_scales) if used_scales else "",
                                        "outline from GeoNames (CC BY 4.0)") if a)
    label = Text("approximate boundary: {parts}; not an official boundary of the whole region",
                 parts=_plus(labels + [what]))
    return Boundary(geometry, APPROXIMATE, label, attribution, notes, network_failed)


def boundary_frame(boundary: Boundary, region_id: str = "", region_name: str = "") -> gpd.GeoDataFrame:
    """Return a region's boundary as a one-row frame for maps and exports (EPSG:4326).

    Columns: ``region_id``, ``name`` (the region's name), ``source``, ``label``,
    ``attribution`` (the copyright notice to show with it), ``area_km2`` (EPSG:3035),
    ``description`` (label and attribution in one line, for KML pop-ups) and the geometry.
    """
    description = ". ".join(t for t in (boundary.label, boundary.attribution) if t)
    return gpd.GeoDataFrame(
        {"region_id": [region_id], "name": [region_name], "source": [boundary.source],
         "label": [boundary.label], "attribution": [boundary.attribution],
         "area_km2": [round(boundary.area_km2(), 3)], "description": [description]},
        geometry=gpd.GeoSeries([boundary.geometry], crs=CRS), crs=CRS,
    )


if __name__ == "__main__":
    # The rebuild entry lives in geography.outlines; this keeps the documented command working.
    from geography.outlines import main

    main()
