"""Shared Streamlit pieces: page set-up, the sidebar with the navigation, session-state keys, cached data.

Every page starts with ``ctx = ui.start("Title")``: Streamlit runs the script of ``pages/``
(or app.py for Home) that the URL names, so a deep link such as ``/present`` works on a
fresh server with no routing of our own.

Cached functions are keyed on the workspace's GeoPackage path and modification time
plus simple parameters (region id, radii, flags), never on frames, so a change to the
workspace (an import, an edit, a suggested site saved) invalidates them at once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import streamlit as st

import access
import i18n
from errors import AtlasError
from geography.boundaries import Boundary, boundary_for
from geography.regions import Region, Registry, load_regions
from i18n import N_
from i18n import gettext as _
from maps.text import code_span, markdown_text
from workspace import Workspace

ROOT = Path(__file__).resolve().parent
# ATLAS_WORKSPACE picks the folder the app opens with (the demo workspace by default).
DEFAULT_WORKSPACE = Path(os.environ.get("ATLAS_WORKSPACE") or ROOT / "geodata" / "demo_workspace")
# ATLAS_CONFIG turns on shared mode: named workspaces, signed-in users with roles (see access/).
CONFIG_ENV = "ATLAS_CONFIG"
SESSION_COOKIE = "atlas_session"

# Session-state keys, defined once.
WORKSPACE = "atlas.workspace"        # text: workspace folder (local mode) or configured name (shared mode)
REGION = "atlas.region"              # region id
POPULATION = "atlas.population"      # demand: "geonames" or a population layer stored in the workspace
USER = "atlas.user"                  # shared mode: the signed-in access.User
TOKEN = "atlas.token"                # shared mode: the signed session token kept in the cookie
SIGNED_OUT = "atlas.signed_out"      # shared mode: the user just signed out (clear the cookie)
URL_STATE = "atlas.url"              # the query parameters this session last wrote
LANGUAGE = "atlas.lang"              # the UI language: a key of i18n.LANGUAGES (URL ?lang=, else the browser's)
ONLINE = "atlas.online"              # bool: basemap tiles + official boundary downloads
PRESENT_STEP = "present.step"        # int: current step of the meeting story
PRESENT_URL = "present.url"          # text: the ?step= value Present last wrote (a new one in the URL is applied)
PRESENT_AUTO = "present.auto"        # bool: auto-advance the story (a stand at an event)
PRESENT_INTERVAL = "present.interval"  # int: seconds per step when auto-advancing
PRESENT_SHOWN = "present.shown"      # (step index, time.monotonic() s) when that step was first shown
SAVED_SITE = "gaps.saved_site"       # message after saving a suggested site
# Data page
UPLOADS = "data.uploads"             # the file_uploader (its key ends in the round below)
UPLOADS_ROUND = "data.uploads_round"  # int: raised after each import, so the uploader comes back empty
REPORT = "data.report"               # list of report dicts of the last import (see `import_uploads`)
MESSAGE = "data.message"             # one-off success message shown after a rerun
ASSIGN_IDS = "data.assign_ids"       # features picked for a layer
ASSIGN_LAYER = "data.assign_layer"   # the layer to give them
ASSIGN_FOLDER = "data.assign_folder_pick"        # the folder/sheet whose unclassified features get a layer
ASSIGN_FOLDER_LAYER = "data.assign_folder_layer"  # the layer to give them
EDIT_ID = "data.edit_id"             # feature open in the edit form
EDIT_PENDING = "data.edit_pending"   # {"fid", "values"}: an edit of the town, waiting to hear where the point goes
EDIT_PLACE = "data.edit_place"       # int: the GeoNames id picked for the new town (0: the point stays)
EDIT_NOTE = "data.edit_note"         # one-off warning after a save: the new town has no place, the point stayed
REJECTED_ID = "data.rejected_id"     # int: the stored rejected row open in the fix-and-accept form
REJECTED_PLACE = "data.rejected_place"  # prefix (".<rejected id>"): the GeoNames id picked for its town (0: typed)
REVERT_ID = "data.revert_id"         # change picked to undo
# Data page, Geography: each uploader's key ends in its round ("data.demand_file.0"), bumped after an
# import so the uploader comes back empty and the same file is not imported twice.
DEMAND_FILE = "data.demand_file"     # population-layer uploader (key prefix)
DEMAND_NAME = "data.demand_name"     # its optional layer name (key prefix, same round)
DEMAND_ROUND = "data.demand_round"   # int: the round of the population-layer uploader
DEMAND_REMOVE = "data.demand_remove"  # stored population layer picked to remove
AREAS_FILE = "data.areas_file"       # area-file uploader (key prefix)
AREAS_COUNTRY = "data.areas_country"  # ISO country of areas when the file has none
AREAS_ROUND = "data.areas_round"     # int: the round of the area-file uploader
AREAS_REMOVE = "data.areas_remove"   # imported area file picked to remove
GEO_MESSAGE = "data.geo_message"     # list of lines: what the last geography import or removal did
NETWORK_FILE = "data.network_file"   # street-network (.osm.pbf) uploader (key prefix, same rounds as above)
NETWORK_ROUND = "data.network_round"  # int: the round of the street-network uploader
NETWORK_REMOVE = "data.network_remove"  # stored street network picked to remove
# Travel time, when the workspace holds a street network for the region (shared by Gaps, Map and Present).
MEASURE = "travel.measure"           # "km" (great-circle distance) or "minutes" (travel time on the network)
TRAVEL_MODE = "travel.mode"          # "drive", "walk" or "bike"


def field_key(feature_id: str, name: str) -> str:
    """Session-state key of one field of the Data page's edit form (per feature, so switching resets it)."""
    return f"data.edit.{feature_id}.{name}"


# The project's own errors: pages show these with st.error, anything else propagates.
USER_ERRORS = AtlasError
BOUNDARY_TIMEOUT_S = 3.0
ONLINE_TTL_S = 600  # retry the network after this long when a download failed


@dataclass
class Context:
    """What every page needs: the workspace, its change stamp, the region, the online flag and who is signed in.

    ``user`` is None in local mode (one person on their own machine, who may do anything);
    in shared mode it is the signed-in `access.User`, and `can` answers for their role.
    """

    workspace: Workspace
    stamp: int
    registry: Registry | None
    region: Region | None
    online: bool
    problem: str | None = None
    user: access.User | None = None
    config: access.Config | None = None
    workspace_name: str = ""
    population: str = "geonames"

    @property
    def path(self) -> str:
        """The workspace's location (folder or database URL): the key of every cached result."""
        return self.workspace.location

    def can(self, action: str) -> bool:
        """Whether the signed-in user may take `action` (an `access` action); always True in local mode."""
        return self.user is None or access.can(self.user.role, action)

    def key(self) -> tuple[str, int, str, bool, str]:
        """The cache key of everything derived from this workspace, region and demand layer."""
        return (self.path, self.stamp, self.region.id if self.region else "", self.online, self.population)


def stamp(workspace: Workspace) -> int:
    """Return a number that changes with every change to the workspace (0 when there is none).

    The workspace's last change id, plus the modification time of a folder workspace's
    regions.json, so editing that file refreshes every page too.
    """
    changes = workspace.stamp()
    if not changes or workspace.path is None:
        return changes
    try:
        return changes + os.stat(workspace.path / "regions.json").st_mtime_ns
    except OSError:
        return changes


# -- cached data ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=8)
def features(path: str, stamp: int) -> gpd.GeoDataFrame:
    """All features of the workspace (EPSG:4326, edits applied)."""
    return Workspace(path).features()


MAP_COLUMNS = ("feature_id", "name", "layer", "kind", "status", "sectors", "town", "website")


@st.cache_data(show_spinner=False, max_entries=8)
def facilities(path: str, stamp: int, sector: str = "") -> gpd.GeoDataFrame:
    """The columns maps and analyses need (ids, names, layer, kind, status, sectors, town, website, geometry).

    With `sector` only the facilities serving that creative sector (`analysis.coverage.facilities_in_sector`).

    Text is held as pandas ``str`` columns (missing = NaN): a cache hit then costs a
    buffer copy instead of re-creating a Python string per cell, about 0.15 s instead of
    0.7 s for 100,000 features. Use `features` for the full canonical records.
    """
    if sector:
        from analysis.coverage import facilities_in_sector

        return facilities_in_sector(facilities(path, stamp), sector)
    # Read the workspace directly rather than through `features`: on a first open that
    # saves pickling (and later unpickling) the full table just to slim it.
    frame = Workspace(path).features()
    slim = frame[list(MAP_COLUMNS) + ["geometry"]].copy()
    for column in MAP_COLUMNS:
        slim[column] = slim[column].astype("str")
    return slim


@st.cache_data(show_spinner=False, max_entries=8)
def registry(path: str, stamp: int) -> Registry:
    """The regions available in the workspace (shipped + the workspace's regions.json)."""
    return load_regions(path)


def geo_stamp(path: str) -> int:
    """A cache key for what depends on the region's geography only: boundary changes and regions.json."""
    workspace = Workspace(path)
    total = workspace.stamp(actions=("boundary",))
    if workspace.path is not None:
        try:
            total += os.stat(workspace.path / "regions.json").st_mtime_ns
        except OSError:
            pass
    return total


def boundary(path: str, stamp: int, region_id: str, online: bool, population: str) -> Boundary:
    """The region's boundary: imported, official (downloaded with a short timeout) or approximate.

    Cached on the workspace's boundary changes only, so an import or an edit of features
    (`stamp`) does not make every session compute the boundary again.
    """
    return _boundary(path, geo_stamp(path), region_id, online)


@st.cache_data(show_spinner=False, max_entries=32, ttl=ONLINE_TTL_S)
def _boundary(path: str, geo: int, region_id: str, online: bool) -> Boundary:
    workspace = Workspace(path)
    found = boundary_for(load_regions(path).get(region_id), workspace, online=online, timeout_s=BOUNDARY_TIMEOUT_S)
    found.area_km2()  # measured once here and cached with it: reports need it on every rerun
    return found


def demand(path: str, stamp: int, region_id: str, online: bool, population: str) -> gpd.GeoDataFrame:
    """The demand inside the region's boundary and countries: GeoNames settlements (500+) or a stored layer.

    Cached like `boundary`: importing a population layer is a geography change too.
    """
    return _demand(path, geo_stamp(path), region_id, online, population)


# Shared, not copied: a cache hit of a frame of grid cells would otherwise be unpickled on every
# rerun (0.1-0.2 s for 20,000 cells). Callers never modify these frames and results.
@st.cache_resource(show_spinner=False, max_entries=32)
def _demand(path: str, geo: int, region_id: str, online: bool, population: str) -> gpd.GeoDataFrame:
    from geography.demand_layers import GEONAMES, demand_for
    from geography.settlements import settlements

    region = load_regions(path).get(region_id)
    geometry = _boundary(path, geo, region_id, online).geometry
    if population == GEONAMES:
        return settlements(geometry, countries=region.countries)
    frame, _, _ = demand_for(Workspace(path), population, geometry, region.countries)
    return frame


def towns(path: str, stamp: int, region_id: str, online: bool, population: str) -> gpd.GeoDataFrame:
    """GeoNames settlements of the region, for the map's town labels whatever the demand layer."""
    return _demand(path, geo_stamp(path), region_id, online, "geonames")


GEONAMES_LABEL = N_("GeoNames settlements of 500+ (built in)")


@st.cache_data(show_spinner=False, max_entries=8)
def population_layers(path: str, geo: int) -> dict[str, str]:
    """The demand choices of the workspace: id -> label (GeoNames first, then the stored layers)."""
    from geography.demand_layers import GEONAMES, demand_layers

    choices = {GEONAMES: GEONAMES_LABEL}  # English in the cache; translated where shown
    choices.update({layer.name: layer.label() for layer in demand_layers(Workspace(path))})
    return choices


@st.cache_data(show_spinner=False, max_entries=8)
def summary(path: str, stamp: int) -> dict:
    """What the sidebar and filters need from the whole workspace, computed in one pass.

    ``count`` (features), ``present`` (layer ids used), ``options`` (kinds, sectors,
    statuses for the filters) and ``default_region`` (the region holding the most located
    features, judged on offline boundaries; else the first region).
    """
    import numpy as np
    import shapely

    from loaders.layers import ALL_LAYERS
    from maps.filters import filter_options

    frame = facilities(path, stamp)
    found = set(frame["layer"].dropna().unique())
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms):
        kind = shapely.get_type_id(geoms)
        geoms[kind != 0] = shapely.point_on_surface(geoms[kind != 0])  # lines, areas: a point on them
    xy = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)]) if len(geoms) else np.empty((0, 2))
    regions = registry(path, stamp)
    best, best_count = None, -1
    for region in regions:
        try:
            geometry = boundary_for(region, Workspace(path), online=False).geometry
        except USER_ERRORS:
            continue
        shapely.prepare(geometry)
        count = int(shapely.intersects_xy(geometry, xy[:, 0], xy[:, 1]).sum()) if len(xy) else 0
        if count > best_count:
            best, best_count = region.id, count
    return {
        "count": len(frame),
        "present": tuple(layer for layer in ALL_LAYERS if layer in found),
        "options": filter_options(frame),
        "default_region": best or next((r.id for r in regions), None),
    }


@st.cache_data(show_spinner=False, max_entries=32)
def facility_counts(path: str, stamp: int, region_id: str, online: bool, population: str) -> dict[str, dict[str, int]]:
    """Existing and planned facilities per layer inside the region's boundary."""
    from atlas.dashboard import facility_counts as counts

    return counts(facilities(path, stamp), boundary(path, stamp, region_id, online, population).geometry)


def facility_map(path: str, stamp: int, region_id: str, online: bool, population: str, layers: tuple[str, ...],
                 kinds: tuple[str, ...] = (), sectors: tuple[str, ...] = (), statuses: tuple[str, ...] = (),
                 radius: tuple[tuple[str, float], ...] | None = None, include_planned: bool = False,
                 scale: float = 1.0, view_px: tuple[int, int] | None = None, sector: str = ""):
    """The facility layers of a map for these filters (and discs with `radius`), built once per language.

    Pages draw from this rather than from the full feature frame, so a rerun of a
    100,000-feature workspace moves kilobytes of hexagons, not the whole table. With
    `view_px` (the canvas's width and height in px, as given to `maps.atlas_deck`), points
    that would overlap at the zoom the map opens at are spread apart for display. The
    tooltips speak the reader's language, so the language is part of the cache key.
    """
    return _facility_map(path, stamp, region_id, online, population, layers, kinds, sectors, statuses, radius,
                         include_planned, scale, view_px, sector, i18n.current())


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, not copied (see `_demand`)
def _facility_map(path: str, stamp: int, region_id: str, online: bool, population: str, layers: tuple[str, ...],
                  kinds: tuple[str, ...], sectors: tuple[str, ...], statuses: tuple[str, ...],
                  radius: tuple[tuple[str, float], ...] | None, include_planned: bool, scale: float,
                  view_px: tuple[int, int] | None, sector: str, lang: str):
    import maps
    from maps.records import bounds_of

    geometry = boundary(path, stamp, region_id, online, population).geometry
    bounds = bounds_of([geometry])
    zoom = maps.fit_view(bounds, width_px=view_px[0], height_px=view_px[1]).zoom if view_px else None
    return maps.facility_map(
        facilities(path, stamp, sector), layers=layers, kinds=kinds, sectors=sectors, statuses=statuses,
        radius_km=dict(radius) if radius else None, include_planned=include_planned, scale=scale,
        bounds=bounds, boundary=geometry, spread_zoom=zoom,
    )


@st.cache_data(show_spinner=False, max_entries=64)
def feature_record(path: str, stamp: int, feature_id: str):
    """One feature's full record (field, value) for the map's details panel."""
    from maps.filters import feature_record as record

    return record(features(path, stamp), feature_id)


@st.cache_resource(show_spinner=False, max_entries=16)  # shared like `_demand`
def nearest(path: str, stamp: int, region_id: str, online: bool, population: str, include_planned: bool = False,
            towns_only: bool = False, sector: str = ""):
    """The nearest facility of every layer for each demand point (or town): what no radius changes."""
    from analysis.coverage import nearest_facilities
    from loaders.layers import LAYERS

    frame = towns(path, stamp, region_id, online, population) if towns_only else demand(
        path, stamp, region_id, online, population)
    return nearest_facilities(frame, facilities(path, stamp, sector), LAYERS, include_planned=include_planned)


@st.cache_resource(show_spinner=False, max_entries=64)  # shared like `_demand`
def coverage(path: str, stamp: int, region_id: str, online: bool, population: str, radius: tuple[tuple[str, float], ...],
             include_planned: bool = False, sector: str = ""):
    """Coverage of the region's settlements by every workspace facility (`radius`: (layer, km) pairs)."""
    from analysis.coverage import compute

    return compute(demand(path, stamp, region_id, online, population), facilities(path, stamp, sector),
                   radius_km=dict(radius), include_planned=include_planned,
                   nearest=nearest(path, stamp, region_id, online, population, include_planned, sector=sector))


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, not copied (see `_demand`)
def report(path: str, stamp: int, region_id: str, online: bool, population: str,
           radius: tuple[tuple[str, float], ...], include_planned: bool = False, sector: str = "") -> dict:
    """The analysis report (as ``atlas analyze --json``, without the gap list): figures, facilities inside,
    boundary, demand and its share of the official population, notes."""
    from atlas.analyze import report as build_report

    inp = _report_inputs(path, stamp, region_id, online, population, radius, sector)
    return build_report(inp, coverage(path, stamp, region_id, online, population, radius, include_planned, sector),
                        include_planned=include_planned, max_gaps=0, count_facilities=False)


def _report_inputs(path: str, stamp: int, region_id: str, online: bool, population: str,
                   radius: tuple[tuple[str, float], ...] | None, sector: str):
    """The resolved `atlas.analyze.AnalysisInputs` of a dashboard report, from the cached boundary and demand."""
    import dataclasses

    from atlas.analyze import in_sector, inputs
    from geography.demand_layers import GEONAMES, KIND_POINTS, get_layer

    bound = boundary(path, stamp, region_id, online, population)
    workspace = Workspace(path)
    # The demand is already inside the boundary and countries; the pages take areas from `areas`.
    inp = inputs(workspace=workspace, region=region_id, facilities=facilities(path, stamp), boundary=bound,
                 demand=demand(path, stamp, region_id, online, population),
                 radius_km=dict(radius) if radius else None, online=False,
                 registry=registry(path, stamp), areas=False, demand_inside=True)
    inp = in_sector(inp, sector)
    if population == GEONAMES:
        from geography.settlements import SETTLEMENT_CAVEAT

        inp = dataclasses.replace(inp, demand_source=GEONAMES, notes=[*inp.notes, SETTLEMENT_CAVEAT])
    else:
        layer = get_layer(workspace, population)
        inp = dataclasses.replace(inp, demand_source=layer.name, demand_kind=KIND_POINTS.get(layer.kind, "points"),
                                  notes=[*inp.notes, *(n for n in layer.notes if "cell centres" in n)])
    return inp


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, not copied (see `_demand`)
def areas(path: str, stamp: int, region_id: str, online: bool, population: str,
          radius: tuple[tuple[str, float], ...], include_planned: bool = False, sector: str = ""):
    """The region's figures per area (imported areas, else NUTS 3), as a frame with polygons; None without areas."""
    from analysis.by_area import by_area

    found, source, assigned = _region_areas(path, stamp, region_id, online, population)
    if found is None:
        return None, ""
    result = coverage(path, stamp, region_id, online, population, radius, include_planned, sector)
    return by_area(result, found, facilities(path, stamp, sector), assigned=assigned).frame(), source


@st.cache_resource(show_spinner=False, max_entries=16)
def _region_areas(path: str, stamp: int, region_id: str, online: bool, population: str):
    """The region's areas, where they come from, and which area each demand point is in (no radius involved)."""
    from analysis.base import lonlat
    from analysis.by_area import assign_areas
    from geography.areas import region_areas

    bound = boundary(path, stamp, region_id, online, population)
    found, source = region_areas(registry(path, stamp).get(region_id), bound.geometry, Workspace(path))
    if found is None:
        return None, "", None
    points = demand(path, stamp, region_id, online, population)
    return found, source, assign_areas(lonlat(points.geometry), found.geometry.to_numpy())


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, not copied (see `_demand`)
def gap_areas(path: str, stamp: int, region_id: str, online: bool, population: str, radius: tuple[tuple[str, float], ...],
              include_planned: bool, layer: str, sector: str = "") -> gpd.GeoDataFrame:
    """Parts of the region beyond reach of `layer` (one polygon per gap), with area and population."""
    from analysis.gaps import gap_areas as build

    result = coverage(path, stamp, region_id, online, population, radius, include_planned, sector)
    return build(result, facilities(path, stamp, sector), boundary(path, stamp, region_id, online, population).geometry,
                 layers=[layer], explode=True)


@st.cache_data(show_spinner=False, max_entries=16)
def h3_grid(path: str, stamp: int, region_id: str, online: bool, population: str, include_planned: bool) -> gpd.GeoDataFrame:
    """H3 cells over the region with the distance (km) to the nearest facility of each layer."""
    from analysis.gaps import h3_grid as build

    return build(boundary(path, stamp, region_id, online, population).geometry, facilities(path, stamp), resolution=None,
                 include_planned=include_planned)


@st.cache_data(show_spinner=False, max_entries=16)
def catchments(path: str, stamp: int, region_id: str, online: bool, population: str, layer: str,
               include_planned: bool) -> gpd.GeoDataFrame:
    """Voronoi catchments of `layer`'s facilities clipped to the region, with population served."""
    from analysis.catchments import catchment_polygons

    return catchment_polygons(facilities(path, stamp), boundary(path, stamp, region_id, online, population).geometry,
                              layer=layer, include_planned=include_planned,
                              demand=demand(path, stamp, region_id, online, population))


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, not copied (see `_demand`)
def siting(path: str, stamp: int, region_id: str, online: bool, population: str, layer: str, radius_km: float, k: int,
           include_planned: bool, sector: str = ""):
    """Best `k` new sites of `layer` for the region's demand (greedy, with the optimum when small).

    Candidate sites are the region's towns (GeoNames settlements): with a population grid
    that keeps the search to places a hub could open, and names each site after a town.
    """
    from analysis.siting import site

    return site(demand(path, stamp, region_id, online, population), facilities(path, stamp, sector), layer=layer,
                radius_km=radius_km, k=k, include_planned=include_planned, time_limit_s=2.0,
                candidates=None if population == "geonames" else towns(path, stamp, region_id, online, population))


@st.cache_resource(show_spinner=False, max_entries=64)  # shared like `_demand`
def town_coverage(path: str, stamp: int, region_id: str, online: bool, population: str,
                  radius: tuple[tuple[str, float], ...], include_planned: bool = False, sector: str = ""):
    """Coverage of the region's towns (GeoNames settlements), for "towns beyond reach" whatever the demand layer."""
    if population == "geonames":
        return coverage(path, stamp, region_id, online, population, radius, include_planned, sector)
    from analysis.coverage import compute

    return compute(towns(path, stamp, region_id, online, population), facilities(path, stamp, sector),
                   radius_km=dict(radius), include_planned=include_planned,
                   nearest=nearest(path, stamp, region_id, online, population, include_planned, towns_only=True,
                                   sector=sector))


@st.cache_data(show_spinner=False, max_entries=8)
def comparison(path: str, stamp: int, online: bool, include_planned: bool = False):
    """The comparison table across every region, and per region its boundary source and notes."""
    from atlas.analyze import compare_regions

    return compare_regions(path, include_planned=include_planned, online=online, timeout_s=BOUNDARY_TIMEOUT_S)


def radius_items(ctx: Context) -> tuple[tuple[str, float], ...]:
    """The region's default radius per layer as hashable (layer, km) pairs."""
    return tuple(ctx.registry.radius_km(ctx.region).items())


# -- travel time on a street network stored in the workspace ----------------------------------------
# The cached results below are keyed like the km ones plus the extract's SHA-256 and the travel mode
# (and the minutes per layer); the built graph itself is cached by the engine in the workspace's
# networks/ folder, and the prepared Router per process here.
def network_folder(path: str) -> str:
    """Where the workspace's extracts and built graphs live: its ``networks/`` folder, or (PostGIS) a private one."""
    from atlas.data_ops import network_folder as folder

    found = folder(Workspace(path))
    return str(found) if found is not None else _private_network_folder()


@st.cache_resource(show_spinner=False)
def _private_network_folder() -> str:
    """A folder of this process for a PostGIS workspace's extracts (it has no folder of its own)."""
    import tempfile

    return tempfile.mkdtemp(prefix="atlas-networks-")


@st.cache_data(show_spinner=False, max_entries=32)
def street_network(path: str, stamp: int, region_id: str, online: bool, population: str) -> dict | None:
    """The stored street network that covers the region most (``file``, ``sha256``, ``counts``), or None."""
    from geography.network_files import network_for
    from maps.records import bounds_of

    bound = boundary(path, stamp, region_id, online, population)
    entry = network_for(Workspace(path), bounds_of([bound.geometry]))
    return None if entry is None else {"file": entry.file, "sha256": entry.sha256, "counts": entry.counts}


@st.cache_resource(show_spinner=False, max_entries=6)
def router(path: str, sha256: str, mode: str):
    """The `analysis.travel.Router` of the stored extract `sha256` for `mode` (one per process)."""
    from analysis.travel import Router
    from geography.network_files import get_network, load_stored

    workspace = Workspace(path)
    return Router(load_stored(workspace, get_network(workspace, sha256), mode, folder=network_folder(path)))


@st.cache_resource(show_spinner=False, max_entries=16)  # shared like `_demand`
def travel_nearest(path: str, stamp: int, region_id: str, online: bool, population: str, sha256: str, mode: str,
                   include_planned: bool = False, towns_only: bool = False, sector: str = ""):
    """Minutes to the nearest facility of every layer for each demand point (or town): what no slider changes."""
    from analysis.travel import nearest_facilities
    from loaders.layers import LAYERS

    frame = towns(path, stamp, region_id, online, population) if towns_only else demand(
        path, stamp, region_id, online, population)
    return nearest_facilities(router(path, sha256, mode), frame, facilities(path, stamp, sector), LAYERS,
                              include_planned=include_planned)


@st.cache_resource(show_spinner=False, max_entries=64)  # shared like `_demand`
def travel_coverage(path: str, stamp: int, region_id: str, online: bool, population: str, sha256: str, mode: str,
                    minutes: tuple[tuple[str, float], ...], include_planned: bool = False, sector: str = "",
                    towns_only: bool = False):
    """Coverage in minutes of travel (`minutes`: (layer, minutes) pairs) of the demand, or of the towns."""
    from analysis import travel

    towns_only = towns_only and population != "geonames"  # with GeoNames demand the towns are the demand
    frame = towns(path, stamp, region_id, online, population) if towns_only else demand(
        path, stamp, region_id, online, population)
    return travel.coverage(router(path, sha256, mode), frame, facilities(path, stamp, sector), minutes=dict(minutes),
                           include_planned=include_planned,
                           nearest=travel_nearest(path, stamp, region_id, online, population, sha256, mode,
                                                  include_planned, towns_only, sector))


@st.cache_resource(show_spinner=False, max_entries=64)  # shared, not copied (see `_demand`)
def travel_report(path: str, stamp: int, region_id: str, online: bool, population: str, sha256: str, mode: str,
                  minutes: tuple[tuple[str, float], ...], include_planned: bool = False, sector: str = "") -> dict:
    """The report of `report` in minutes of travel (``measure``, ``mode``, ``minutes``, ``off_network``, ``network``)."""
    from atlas.analyze import report as build_report

    inp = _report_inputs(path, stamp, region_id, online, population, None, sector)
    return build_report(inp, travel_coverage(path, stamp, region_id, online, population, sha256, mode, minutes,
                                             include_planned, sector),
                        include_planned=include_planned, max_gaps=0, count_facilities=False)


@st.cache_resource(show_spinner=False, max_entries=32)  # shared, not copied (see `_demand`)
def travel_siting(path: str, stamp: int, region_id: str, online: bool, population: str, sha256: str, mode: str,
                  layer: str, minutes: float, k: int, include_planned: bool, sector: str = ""):
    """Best `k` new sites of `layer` within `minutes` of travel (greedy, with the optimum when small); as `siting`."""
    from analysis.travel import site

    return site(router(path, sha256, mode), demand(path, stamp, region_id, online, population),
                facilities(path, stamp, sector), layer=layer, minutes=minutes, k=k, include_planned=include_planned,
                time_limit_s=2.0,
                candidates=None if population == "geonames" else towns(path, stamp, region_id, online, population))


@st.cache_resource(show_spinner=False, max_entries=16)  # shared, not copied (see `_demand`)
def travel_catchments(path: str, stamp: int, region_id: str, online: bool, population: str, sha256: str, mode: str,
                      layer: str, include_planned: bool) -> gpd.GeoDataFrame:
    """Catchments of `layer` by travel time: the demand's cells merged by the facility each reaches first."""
    from atlas.travel_views import catchment_polygons

    found = travel_nearest(path, stamp, region_id, online, population, sha256, mode, include_planned)
    return catchment_polygons(found.layers[layer][1], demand(path, stamp, region_id, online, population),
                              facilities(path, stamp), boundary(path, stamp, region_id, online, population).geometry,
                              layer=layer)


@st.cache_data(show_spinner=False, max_entries=32)
def travel_facilities_off(path: str, stamp: int, region_id: str, online: bool, population: str, sha256: str,
                          mode: str, include_planned: bool = False, sector: str = ""):
    """The region's facilities off the `mode` network (name, layer, km to the network): they serve nobody."""
    from atlas.travel_views import off_network_facilities

    return off_network_facilities(router(path, sha256, mode), facilities(path, stamp, sector),
                                  boundary(path, stamp, region_id, online, population).geometry,
                                  include_planned=include_planned)


@st.cache_resource(show_spinner=False, max_entries=32)  # shared, not copied (see `_demand`)
def isochrones(path: str, stamp: int, sha256: str, mode: str, layer: str, minutes: float,
               include_planned: bool = False, sector: str = "") -> gpd.GeoDataFrame:
    """The area each facility of `layer` is reached from within `minutes` (facilities on the network only)."""
    from analysis.travel import isochrones as build

    shapes = build(router(path, sha256, mode), facilities(path, stamp, sector), minutes=minutes, layer=layer,
                   include_planned=include_planned)
    return shapes[shapes["nodes"] > 0].reset_index(drop=True)


def travel_choice(ctx: Context) -> tuple[dict | None, str, str]:
    """Draw the km/minutes switch and (in minutes) the mode choice when the region has a street network.

    Returns (the network or None, the measure ``km``/``minutes``, the mode). Without a
    network nothing is drawn and the measure is km. The choice is kept in session state, so
    Gaps, Map and Present follow it.
    """
    from atlas.travel_views import KM, MEASURES, MINUTES, MODE_LABELS

    network = street_network(*ctx.key())
    if network is None:
        return None, KM, "drive"
    if st.session_state.get(MEASURE) not in MEASURES:
        st.session_state[MEASURE] = KM
    if st.session_state.get(TRAVEL_MODE) not in MODE_LABELS:
        st.session_state[TRAVEL_MODE] = "drive"
    from loaders.layers import LAYERS

    for key in (MEASURE, TRAVEL_MODE, *(minutes_key(ctx, layer) for layer in LAYERS)):
        if key in st.session_state:  # kept when the user moves to another page (see `sidebar`)
            st.session_state[key] = st.session_state[key]
    measure = st.segmented_control(_("Measure"), list(MEASURES), key=MEASURE, format_func=lambda m: _(MEASURES[m]),
                                   help=_("Straight-line km, or minutes of travel on the street network {file}.").format(
                                       file=network["file"])) or KM
    mode = "drive"
    if measure == MINUTES:
        mode = st.segmented_control(_("Travel by"), list(MODE_LABELS), key=TRAVEL_MODE,
                                    format_func=lambda m: _(MODE_LABELS[m])) or "drive"
    return network, measure, mode


def chosen_travel(ctx: Context) -> tuple[dict | None, str]:
    """The network and mode when this session chose minutes (on Gaps or Map) and the region has one; else (None, "")."""
    if st.session_state.get(MEASURE) != "minutes":
        return None, ""
    network = street_network(*ctx.key())
    return (network, st.session_state.get(TRAVEL_MODE) or "drive") if network is not None else (None, "")


def travel_minutes(ctx: Context) -> tuple[tuple[str, float], ...]:
    """The minutes per layer this session set on Gaps (30 each until moved), as hashable (layer, minutes) pairs."""
    from atlas.travel_views import DEFAULT_MINUTES
    from loaders.layers import LAYERS

    return tuple((layer, float(st.session_state.get(minutes_key(ctx, layer), DEFAULT_MINUTES))) for layer in LAYERS)


def minutes_key(ctx: Context, layer: str) -> str:
    """Session-state key of Gaps' minutes slider of `layer` for the region (read by Map and Present)."""
    return f"gaps.minutes.{ctx.region.id}.{layer}"


# -- page set-up and sidebar -------------------------------------------------------------------
# The navigation, drawn by `sidebar` (page file, label, icon); Streamlit's own list of
# pages/ is hidden (.streamlit/config.toml) so that the labels are ours.
# Labels are English here and translated where drawn; a page's title passed to `start` is one of them.
NAVIGATION = (
    ("app.py", N_("Home"), ":material/home:"),
    ("pages/map.py", N_("Map"), ":material/map:"),
    ("pages/gaps.py", N_("Gaps"), ":material/travel_explore:"),
    ("pages/compare.py", N_("Compare"), ":material/compare_arrows:"),
    ("pages/data.py", N_("Data"), ":material/upload_file:"),
    ("pages/export.py", N_("Export"), ":material/download:"),
    ("pages/present.py", N_("Present"), ":material/slideshow:"),
)
# An emoji favicon is drawn by the browser itself; a :material: one would be fetched from Google.
PAGE_ICON = "🗺️"


def start(title: str) -> Context:
    """Set up a page (language, browser title, wide layout), sign in (shared mode), draw the sidebar; return the Context.

    The language is set first, for this run's thread: every `i18n.gettext` below, in pages and in
    the packages they call, then speaks it. `title` is English (a `NAVIGATION` label).
    """
    i18n.set_language(language())
    st.set_page_config(page_title=f"{_(title)} · Creative Atlas" if title != "Home" else "Creative Atlas",
                       page_icon=PAGE_ICON, layout="wide", initial_sidebar_state="expanded")
    config = shared_config()
    user = signed_in(config) if config is not None else None
    return sidebar(config, user)


def browser_language() -> str:
    """The language the browser prefers among `i18n.LANGUAGES` (navigator.language, else Accept-Language)."""
    preferred = st.context.locale or (st.context.headers.get("Accept-Language") if st.context.headers else None)
    return i18n.negotiate(preferred)


def language() -> str:
    """This run's language: a new ``?lang=`` in the URL (a link, a reload), else the session's, else the browser's."""
    value = st.query_params.get("lang")
    if value is not None and value != st.session_state.get(URL_STATE, {}).get("lang"):
        try:
            st.session_state[LANGUAGE] = i18n.check_language(value)
        except AtlasError:
            pass  # an unknown ?lang= keeps the language this session had (the URL is then rewritten)
    if st.session_state.get(LANGUAGE) not in i18n.LANGUAGES:
        st.session_state[LANGUAGE] = browser_language()
    return st.session_state[LANGUAGE]


# -- shared mode: configuration, sign-in, session cookie ------------------------------------------
def shared_config() -> access.Config | None:
    """The deployment's config when ATLAS_CONFIG is set (shared mode), else None (local mode)."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        return None
    try:
        return _config(path, os.stat(path).st_mtime_ns)
    except OSError as exc:
        st.error(_("{env}={path}: the config file cannot be read ({problem}). Create it with: python -m atlas "
                   "config init FILE").format(env=CONFIG_ENV, path=path, problem=exc.strerror), icon=":material/error:")
    except AtlasError as exc:
        st.error(markdown_text(str(exc)), icon=":material/error:")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=4)
def _config(path: str, mtime_ns: int) -> access.Config:
    """The parsed config, read again when the file changes (its mtime is part of the key)."""
    return access.load_config(path)


_COOKIE_JS = """
export default function(component) {
  const { data } = component;
  if (!data || !data.name) return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${data.name}=${data.value}; Path=/; Max-Age=${data.max_age}; SameSite=Strict${secure}`;
}
"""
_cookie_component = st.components.v2.component("atlas_session_cookie", js=_COOKIE_JS)


def _set_cookie(value: str, max_age_s: int) -> None:
    """Set (or, with max_age_s=0, delete) the session cookie in the browser."""
    _cookie_component(data={"name": SESSION_COOKIE, "value": value, "max_age": int(max_age_s)},
                      key="atlas.session_cookie")


def signed_in(config: access.Config) -> access.User:
    """Return the signed-in user, from this session or the signed cookie; else show the sign-in form and stop."""
    token = st.session_state.get(TOKEN)
    # The token is read again on every run: a role changed or a user removed takes effect at once.
    user = access.read_token(config, token) if token and st.session_state.get(USER) is not None else None
    if user is not None:
        _set_cookie(token, int(config.session_hours * 3600))
        return user
    if not st.session_state.get(SIGNED_OUT):
        cookie = st.context.cookies.get(SESSION_COOKIE) if st.context.cookies else None
        user = access.read_token(config, cookie) if cookie else None
        if user is not None:
            st.session_state[USER], st.session_state[TOKEN] = user, cookie
            return user
    _sign_in_form(config)
    st.stop()


def _sign_in_form(config: access.Config) -> None:
    if st.session_state.pop(SIGNED_OUT, False):
        _set_cookie("", 0)
    st.session_state.pop(USER, None)
    st.session_state.pop(TOKEN, None)
    st.title("Creative Atlas")
    st.caption(_("This atlas is shared by an alliance: sign in to see its maps."))
    with st.form("atlas.sign_in"):
        name = st.text_input(_("User name"), key="atlas.sign_in.name")
        password = st.text_input(_("Password"), type="password", key="atlas.sign_in.password")
        submitted = st.form_submit_button(_("Sign in"), type="primary")
    if submitted:
        user = access.verify_password(config, name.strip(), password)
        if user is None:
            st.error(_("The user name or password is not right. Ask an admin of the alliance if you have none."))
        else:
            token = access.issue_token(config, user.name)
            st.session_state[USER], st.session_state[TOKEN] = user, token
            st.rerun()


def sign_out() -> None:
    """Forget the signed-in user of this session and clear the cookie on the next run."""
    st.session_state.pop(USER, None)
    st.session_state.pop(TOKEN, None)
    st.session_state[SIGNED_OUT] = True


# -- sidebar ------------------------------------------------------------------------------------
def _apply_url(config: access.Config | None) -> str | None:
    """Take workspace and region from the URL when it names them anew (a link, a reload); return a problem."""
    written = st.session_state.get(URL_STATE, {})
    problem = None
    for param, key in (("workspace", WORKSPACE), ("region", REGION), ("population", POPULATION)):
        value = st.query_params.get(param)
        if value is None or value == written.get(param):
            continue
        if param == "workspace" and config is not None and value not in config.workspaces:
            problem = _("'{name}' is not a workspace of this atlas; showing '{shown}'. Its workspaces: {names}.").format(
                name=value[:60], shown=st.session_state.get(WORKSPACE) or next(iter(config.workspaces), ""),
                names=", ".join(config.workspaces) or _("none yet"))
            continue
        st.session_state[key] = value
    return problem


def _write_url(ctx: Context) -> None:
    """Put the workspace and region in the URL, so a reload or a shared link opens the same view."""
    wanted = {}
    if ctx.workspace_name or Path(ctx.path) != DEFAULT_WORKSPACE:
        wanted["workspace"] = ctx.workspace_name or ctx.path
    if ctx.region is not None:
        wanted["region"] = ctx.region.id
    if ctx.population != "geonames":
        wanted["population"] = ctx.population
    lang = st.session_state.get(LANGUAGE, i18n.DEFAULT)
    if lang != i18n.DEFAULT or browser_language() != i18n.DEFAULT:
        wanted["lang"] = lang  # a link or a reload keeps a language the browser would not pick by itself
    for param in ("workspace", "region", "population", "lang"):
        if param not in wanted and param in st.query_params:
            del st.query_params[param]
        elif param in wanted and st.query_params.get(param) != wanted[param]:
            st.query_params[param] = wanted[param]
    st.session_state[URL_STATE] = wanted


def query(ctx: Context) -> dict[str, str]:
    """The query parameters that keep this view when following a link to another page."""
    return dict(st.session_state.get(URL_STATE, {}))


def sidebar(config: access.Config | None = None, user: access.User | None = None) -> Context:
    """Draw the shared sidebar (navigation, workspace, region, online, who is signed in); return the Context."""
    if config is not None:
        names = list(config.workspaces)
        if st.session_state.get(WORKSPACE) not in names:
            st.session_state[WORKSPACE] = names[0] if names else ""
    else:
        st.session_state.setdefault(WORKSPACE, str(DEFAULT_WORKSPACE))
    st.session_state.setdefault(ONLINE, False)
    url_problem = _apply_url(config)
    for key in (WORKSPACE, REGION, POPULATION, ONLINE, LANGUAGE):
        # Each page draws its own sidebar widgets; handing the value over as plain session
        # state keeps it when the user moves to another page.
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    with st.sidebar:
        nav = st.container()
        st.divider()
        if config is not None:
            if not config.workspaces:
                st.error(_("No workspace is configured yet. An admin adds one with: "
                           "python -m atlas config add-workspace NAME LOCATION --config FILE"))
                st.stop()
            st.selectbox(_("Workspace"), list(config.workspaces), key=WORKSPACE)
            name = st.session_state[WORKSPACE]
            workspace = Workspace(access.workspace_location(config, name), user=user.name, role=user.role)
        else:
            st.text_input(_("Workspace folder"), key=WORKSPACE,
                          help=_("A folder holding atlas.gpkg (or a postgresql:// URL). The demo workspace opens "
                                 "by default."))
            name = ""
            location = str(st.session_state[WORKSPACE]).strip()
            workspace = Workspace(location if location.startswith("postgresql://")
                                  else Path(location or ".").expanduser())
        ctx = Context(workspace, 0, None, None, bool(st.session_state[ONLINE]), user=user, config=config,
                      workspace_name=name)
        try:
            ctx.stamp = stamp(workspace)
        except AtlasError as exc:
            ctx.problem = str(exc)
        if ctx.stamp == 0 and ctx.problem is None:
            where = f"'{name}'" if name else workspace.where
            ctx.problem = (_("No workspace at {where} yet (nothing imported). Import KMZ/KML, XLSX/CSV or GeoJSON "
                             "files on the Data page.") if name else
                           _("No workspace at {where} yet (nothing imported). Import KMZ/KML, XLSX/CSV or GeoJSON "
                             "files on the Data page, or enter the folder of an existing workspace.")).format(where=where)
        elif ctx.problem is None:
            try:
                ctx.registry = registry(ctx.path, ctx.stamp)
            except AtlasError as exc:
                ctx.problem = str(exc)
        if ctx.registry is not None and len(ctx.registry):
            ids = list(ctx.registry.regions)
            if st.session_state.get(REGION) not in ids:
                st.session_state[REGION] = summary(ctx.path, ctx.stamp)["default_region"] or ids[0]
            st.selectbox(_("Region"), ids, key=REGION, format_func=lambda i: ctx.registry.regions[i].name)
            ctx.region = ctx.registry.regions[st.session_state[REGION]]
            layers = population_layers(ctx.path, geo_stamp(ctx.path))
            if st.session_state.get(POPULATION) not in layers:
                st.session_state[POPULATION] = "geonames"
            if len(layers) > 1:
                st.selectbox(_("Population"), list(layers), key=POPULATION,
                             format_func=lambda k: _(layers[k]) if layers[k] == GEONAMES_LABEL else layers[k],
                             help=_("Whose people the figures count: the built-in GeoNames settlements, or a "
                                    "population layer imported on the Data page (a 1 km grid counts everyone)."))
            ctx.population = st.session_state[POPULATION]
        st.toggle(_("Online (basemap tiles, official boundaries)"), key=ONLINE,
                  help=_("Off: maps draw without tiles and boundaries come from the workspace cache or the "
                         "approximate outline, so nothing waits on the network."))
        st.selectbox(_("Language"), list(i18n.LANGUAGES), key=LANGUAGE, format_func=i18n.LANGUAGES.get,
                     help=_("The language of the pages and of exported reports. Your data is never translated."))
        if user is not None:
            st.caption(_("Signed in as **{name}** ({role})").format(name=markdown_text(user.name), role=_(user.role)))
            st.button(_("Sign out"), key="atlas.sign_out", on_click=sign_out, icon=":material/logout:")
        _write_url(ctx)
        params = query(ctx)
        with nav:
            for page, label, icon in NAVIGATION:
                st.page_link(page, label=_(label), icon=icon, query_params=params)
    if url_problem:
        st.warning(markdown_text(url_problem), icon=":material/warning:")
    return ctx


# What `empty_state` names, as pages pass it (English, translated when shown), and the roles shown
# beside a signed-in user: marked here so that the catalogues hold them.
EMPTY_WHAT = (N_("this page"), N_("Home"), N_("the map"), N_("the gap analysis"), N_("the comparison"),
              N_("the export"), N_("the presentation"))
ROLES = (N_("viewer"), N_("editor"), N_("admin"))


def empty_state(ctx: Context, what: str = "this page") -> bool:
    """Show a helpful message and return True when there is nothing to show yet (`what` in English, e.g. "the map")."""
    if ctx.problem:
        st.info(markdown_text(ctx.problem), icon=":material/folder_open:")
        st.page_link("pages/data.py", query_params=query(ctx), label=_("Go to Data to import files"),
                     icon=":material/upload:")
        return True
    if ctx.region is None:
        st.info(_("No regions are defined. Add one to regions.json in the workspace folder."))
        return True
    if summary(ctx.path, ctx.stamp)["count"] == 0:
        st.info(_("The workspace {workspace} holds no features yet, so {what} has nothing to show. Import the "
                  "alliance's My Maps export (KMZ/KML) or audit sheet (XLSX/CSV) on the Data page.").format(
                    workspace=code_span(ctx.workspace.where), what=_(what)),
                icon=":material/folder_open:")
        st.page_link("pages/data.py", query_params=query(ctx), label=_("Go to Data to import files"),
                     icon=":material/upload:")
        return True
    return False
