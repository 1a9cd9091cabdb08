"""Street networks from OpenStreetMap extracts (``.osm.pbf``): read, build per travel mode, cache.

A network is built from the ``highway=*`` ways of an extract the user already has
(Geofabrik, BBBike), read with pyosmium. Every way is cut into segments between its
consecutive nodes; a segment's length is the great-circle distance between them (metres,
mean Earth radius) and its travel time that length at the speed of the way's road class
for the mode (:data:`SPEEDS_KMH`), or at its tagged ``maxspeed`` when driving.

* **drive**: the classes of :data:`SPEEDS_KMH` ["drive"]; one-way streets (``oneway=yes``,
  ``oneway=-1``, roundabouts and motorways unless ``oneway=no``) only in their direction;
  ways closed to motor vehicles (``access``/``vehicle``/``motor_vehicle``/``motorcar`` =
  ``no`` or ``private``) left out.
* **walk**: every class except motorways and ways under construction or closed to people
  on foot, both directions.
* **bike**: roads, cycleways, paths and tracks (footways and pedestrian streets only when
  ``bicycle=yes``/``designated``), one-way streets obeyed unless ``oneway:bicycle=no`` or
  a contraflow ``cycleway=opposite*``.

Nodes outside a clipped extract have no location: segments touching them are left out.
Components of fewer than :data:`MIN_COMPONENT_NODES` nodes (a clipped stub, a private
car park's aisle) are dropped, so nothing snaps to them; larger ones, such as an island's
own roads, stay and are simply unreachable from the mainland.

The built networks of all three modes are cached together as one ``.npz`` file per
extract in a folder (a workspace's ``networks/``), named by the extract's SHA-256, so a
changed file is rebuilt and an unchanged one is read back in milliseconds.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from errors import ImportFileError
from i18n import Message

MODES = ("drive", "walk", "bike")
EARTH_RADIUS_M = 6_371_008.8
BUILD_VERSION = 1
"""Bumped whenever the way a network is built changes, so older caches are rebuilt."""
MIN_COMPONENT_NODES = 10
"""Connected pieces of the network with fewer nodes than this are dropped (see the module docstring)."""

SPEEDS_KMH: dict[str, dict[str, float]] = {
    # Untagged speeds, km/h: typical European free-flow driving speeds per class; a way's
    # numeric ``maxspeed`` replaces them when driving.
    "drive": {
        "motorway": 110, "motorway_link": 60, "trunk": 90, "trunk_link": 50,
        "primary": 70, "primary_link": 50, "secondary": 60, "secondary_link": 40,
        "tertiary": 50, "tertiary_link": 40, "unclassified": 40, "residential": 30,
        "living_street": 10, "service": 15, "road": 30,
    },
    # Walking: 5 km/h on the flat; steps at half that.
    "walk": {"default": 5.0, "steps": 2.5},
    # Cycling: 15 km/h on made-up ways, 12 km/h on tracks and paths.
    "bike": {"default": 15.0, "track": 12.0, "path": 12.0, "bridleway": 12.0},
}
_NOT_WAYS = {"construction", "proposed", "planned", "abandoned", "razed", "disused", "platform", "raceway",
             "bus_guideway", "bus_stop", "elevator", "rest_area", "services", "emergency_bay", "no"}
_NO_WALK = {"motorway", "motorway_link"}
_NO_BIKE = {"motorway", "motorway_link", "steps", "corridor"}
_BIKE_ONLY_IF_ALLOWED = {"footway", "pedestrian"}
_CLOSED = {"no", "private"}
_OPEN = {"yes", "designated", "permissive", "destination", "customers", "delivery"}
_YES = {"yes", "true", "1"}
_REVERSE = {"-1", "reverse"}


@dataclass
class RoadNetwork:
    """A directed street network for one travel mode, as plain arrays (the model of `analysis.travel`).

    Attributes
    ----------
    mode
        ``drive``, ``walk`` or ``bike``.
    node_id, lon, lat
        Per node: OpenStreetMap node id, longitude and latitude (degrees, EPSG:4326).
    tail, head, seconds, metres
        Per directed edge: from-node and to-node (rows of the node arrays), travel time in
        seconds and length in metres. A two-way street is two edges.
    source
        What it was built from: ``file``, ``sha256``, ``build_seconds``, ``dropped_nodes``
        (in pieces smaller than `MIN_COMPONENT_NODES`), ``cache`` (``built`` or ``cached``).
    """

    mode: str
    node_id: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_id)

    @property
    def edges(self) -> int:
        """Number of directed edges."""
        return len(self.tail)

    def assumptions(self) -> dict[str, Any]:
        """Return the speeds and rules this network was built with (see `assumptions`)."""
        return assumptions(self.mode)


def assumptions(mode: str) -> dict[str, Any]:
    """Return the stated assumptions of a travel mode, for a report or a page to show.

    ``speeds_kmh`` per road class (``default`` for every other class), whether tagged
    ``maxspeed`` is used, whether one-way streets are obeyed, and the classes left out.
    """
    _check_mode(mode)
    return {
        "mode": mode,
        "speeds_kmh": dict(SPEEDS_KMH[mode]),
        "maxspeed_used": mode == "drive",
        "oneway_obeyed": mode in ("drive", "bike"),
        "excluded_classes": sorted(_NOT_WAYS | ({"footway", "path", "cycleway", "pedestrian", "steps",
                                                 "track", "bridleway", "corridor"} if mode == "drive"
                                                else _NO_WALK if mode == "walk" else _NO_BIKE)),
        "min_component_nodes": MIN_COMPONENT_NODES,
    }


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ImportFileError(Message(
            "travel mode '{mode}' is not known; use one of {modes}.", mode=mode, modes=", ".join(MODES)))


# -- reading the extract -------------------------------------------------------------------------
def _maxspeed_kmh(text: str | None) -> float:
    """Return a numeric ``maxspeed`` in km/h, or NaN when absent or not a number ("none", "FI:urban")."""
    if not text:
        return math.nan
    first = text.split(";")[0].strip().lower()
    if first == "walk":
        return 6.0
    factor = 1.609344 if first.endswith("mph") else 1.0
    number = first.removesuffix("mph").removesuffix("km/h").strip()
    try:
        value = float(number) * factor
    except ValueError:
        return math.nan
    return value if 0 < value <= 200 else math.nan


def _rules(tags: dict[str, str]) -> tuple[tuple[bool, int, float], ...]:
    """Per mode (drive, walk, bike): allowed, direction (1 forward, -1 backward, 0 both), speed km/h."""
    highway = tags.get("highway", "")
    access = tags.get("access", "")
    closed = access in _CLOSED
    area = tags.get("area") in _YES
    oneway = tags.get("oneway", "")
    if oneway in _YES:
        direction = 1
    elif oneway in _REVERSE:
        direction = -1
    elif oneway == "no":
        direction = 0
    else:
        direction = 1 if tags.get("junction") in ("roundabout", "circular") or highway == "motorway" else 0

    drive_speed = SPEEDS_KMH["drive"].get(highway)
    motor = tags.get("motorcar") or tags.get("motor_vehicle") or tags.get("vehicle") or ""
    drive_ok = (drive_speed is not None and not area and motor not in _CLOSED
                and (not closed or motor in _OPEN))
    tagged = _maxspeed_kmh(tags.get("maxspeed"))
    drive = (drive_ok, direction, tagged if np.isfinite(tagged) else float(drive_speed or 0.0))

    foot = tags.get("foot", "")
    walk_ok = (highway not in _NO_WALK and highway not in _NOT_WAYS and foot not in _CLOSED
               and (not closed or foot in _OPEN))
    walk = (walk_ok, 0, SPEEDS_KMH["walk"].get(highway, SPEEDS_KMH["walk"]["default"]))

    bicycle = tags.get("bicycle", "")
    bike_ok = (highway not in _NO_BIKE and highway not in _NOT_WAYS and not area and bicycle not in _CLOSED
               and (highway not in _BIKE_ONLY_IF_ALLOWED or bicycle in _OPEN)
               and (not closed or bicycle in _OPEN))
    bike_direction = direction
    if tags.get("oneway:bicycle") == "no" or tags.get("cycleway", "").startswith("opposite"):
        bike_direction = 0
    bike = (bike_ok, bike_direction, SPEEDS_KMH["bike"].get(highway, SPEEDS_KMH["bike"]["default"]))
    return drive, walk, bike


_TAGS = ("highway", "access", "area", "oneway", "junction", "motorcar", "motor_vehicle", "vehicle", "maxspeed",
         "foot", "bicycle", "oneway:bicycle", "cycleway")


def _read_ways(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """Return flat node refs, lon, lat, the way of each ref, and per way its `_rules`."""
    import osmium

    processor = (osmium.FileProcessor(str(path)).with_locations()
                 .with_filter(osmium.filter.KeyFilter("highway").enable_for(osmium.osm.WAY))
                 .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)))
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    lengths: list[int] = []
    rules: list = []
    nan = math.nan
    for way in processor:
        tags = way.tags
        rules.append(_rules({key: tags.get(key, "") for key in _TAGS}))
        count = 0
        for node in way.nodes:
            location = node.location
            refs.append(node.ref)
            if location.valid():
                lons.append(location.lon)
                lats.append(location.lat)
            else:
                lons.append(nan)
                lats.append(nan)
            count += 1
        lengths.append(count)
    way_of = np.repeat(np.arange(len(lengths), dtype=np.int64), np.asarray(lengths, dtype=np.int64))
    return (np.asarray(refs, dtype=np.int64), np.asarray(lons, dtype=float), np.asarray(lats, dtype=float),
            way_of, rules)


def _metres(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle metres between paired points (haversine, mean Earth radius)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _build_mode(mode: str, refs, lons, lats, way_of, rules, min_component_nodes: int) -> RoadNetwork:
    """Build one mode's network from the flat arrays of `_read_ways`."""
    from scipy import sparse
    from scipy.sparse import csgraph

    k = MODES.index(mode)
    allowed = np.array([r[k][0] for r in rules], dtype=bool)
    direction = np.array([r[k][1] for r in rules], dtype=np.int8)
    speed = np.array([r[k][2] for r in rules], dtype=float)
    # Segments: consecutive refs of the same way, both ends located, way allowed for the mode.
    same = way_of[1:] == way_of[:-1]
    located = np.isfinite(lons) & np.isfinite(lats)
    seg = np.flatnonzero(same & located[1:] & located[:-1] & allowed[way_of[:-1]] & (refs[1:] != refs[:-1]))
    a, b, way = seg, seg + 1, way_of[seg]
    metres = _metres(lons[a], lats[a], lons[b], lats[b])
    seconds = metres / (speed[way] / 3.6)
    forward = direction[way] >= 0
    backward = direction[way] <= 0
    tail_ref = np.concatenate([refs[a][forward], refs[b][backward]])
    head_ref = np.concatenate([refs[b][forward], refs[a][backward]])
    secs = np.concatenate([seconds[forward], seconds[backward]])
    lengths = np.concatenate([metres[forward], metres[backward]])
    node_id, inverse = np.unique(np.concatenate([tail_ref, head_ref]), return_inverse=True)
    tail, head = inverse[:len(tail_ref)], inverse[len(tail_ref):]
    # Node locations: the first occurrence of each id among the refs.
    ref_order = np.argsort(refs, kind="stable")
    first = ref_order[np.searchsorted(refs[ref_order], node_id)]
    lon, lat = lons[first], lats[first]
    # Parallel edges (a way mapped twice, a loop's closing pair): keep the fastest.
    order = np.lexsort((secs, head, tail))
    tail, head, secs, lengths = tail[order], head[order], secs[order], lengths[order]
    keep = np.ones(len(tail), dtype=bool)
    keep[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head, secs, lengths = tail[keep], head[keep], secs[keep], lengths[keep]
    dropped = 0
    n = len(node_id)
    if n:
        graph = sparse.csr_matrix((np.ones(len(tail)), (tail, head)), shape=(n, n))
        _, label = csgraph.connected_components(graph, directed=True, connection="weak")
        size = np.bincount(label)
        big = size[label] >= min_component_nodes
        dropped = int((~big).sum())
        if dropped:
            new_index = np.cumsum(big) - 1
            edge_keep = big[tail]
            tail, head = new_index[tail[edge_keep]], new_index[head[edge_keep]]
            secs, lengths = secs[edge_keep], lengths[edge_keep]
            node_id, lon, lat = node_id[big], lon[big], lat[big]
    # A zero weight would read as "no edge" to some solvers: coincident nodes cost a millisecond.
    secs = np.maximum(secs, 1e-3)
    return RoadNetwork(mode, node_id, lon, lat, tail.astype(np.int32), head.astype(np.int32), secs, lengths,
                       {"dropped_nodes": dropped})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(path: Path) -> None:
    """Refuse what cannot be an OSM PBF extract before the reader sees it, with a one-line message."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise ImportFileError(Message(
            "{file}: cannot be opened ({reason}). Check the path to the .osm.pbf extract.", file=path.name,
            reason=exc.strerror)) from None
    if not head:
        raise ImportFileError(Message(
            "{file}: the file is empty. Download the region's .osm.pbf extract again (Geofabrik or BBBike).",
            file=path.name))
    # A PBF starts with a 4-byte big-endian header length, then a BlobHeader whose type is "OSMHeader".
    if len(head) < 16 or b"OSMHeader" not in head[4:20]:
        raise ImportFileError(Message(
            "{file}: not an OpenStreetMap PBF file (expected an .osm.pbf extract as Geofabrik or BBBike provide). "
            "Check you gave the .osm.pbf, not a .osm or .zip.", file=path.name))


def build_networks(path: str | Path, *, min_component_nodes: int = MIN_COMPONENT_NODES) -> dict[str, RoadNetwork]:
    """Read an ``.osm.pbf`` extract and build the networks of every mode (see the module docstring).

    Raises
    ------
    ImportFileError
        When the file is missing, empty, not a PBF, damaged, or holds no roads.
    """
    path = Path(path)
    _check_file(path)
    started = time.perf_counter()
    try:
        refs, lons, lats, way_of, rules = _read_ways(path)
    except RuntimeError as exc:  # libosmium's own errors (a damaged or truncated PBF)
        raise ImportFileError(Message(
            "{file}: cannot be read as an OpenStreetMap PBF ({reason}). Download the extract again.", file=path.name,
            reason=str(exc))) from None
    networks = {mode: _build_mode(mode, refs, lons, lats, way_of, rules, min_component_nodes) for mode in MODES}
    if all(net.edges == 0 for net in networks.values()):
        raise ImportFileError(Message(
            "{file}: holds no roads (no highway=* ways with located nodes). Check the extract covers the region and "
            "was not filtered.", file=path.name))
    seconds = time.perf_counter() - started
    for net in networks.values():
        net.source.update({"file": path.name, "build_seconds": round(seconds, 3), "cache": "built"})
    return networks


_ARRAYS = ("node_id", "lon", "lat", "tail", "head", "seconds", "metres")


def _cache_path(cache_dir: Path, path: Path, digest: str) -> Path:
    stem = path.name.removesuffix(".pbf").removesuffix(".osm")
    return cache_dir / f"{stem}-{digest[:16]}-v{BUILD_VERSION}.npz"


def load_network(path: str | Path, mode: str, *, cache_dir: str | Path | None = None) -> RoadNetwork:
    """Return the network of `mode` for an extract, built once and cached in `cache_dir`.

    Parameters
    ----------
    path
        The ``.osm.pbf`` extract.
    mode
        ``drive``, ``walk`` or ``bike``.
    cache_dir
        A folder to keep built networks in (e.g. a workspace's ``networks/``); the cache
        file is named by the extract's SHA-256, so a changed extract is rebuilt and older
        builds of the same extract are removed. None builds without caching.

    Raises
    ------
    ImportFileError
        For an unknown mode or a file that is not a usable extract.
    """
    _check_mode(mode)
    path = Path(path)
    _check_file(path)
    digest = _sha256(path)
    if cache_dir is not None:
        cache_dir = Path(cache_dir)
        cached = _cache_path(cache_dir, path, digest)
        if cached.exists():
            with np.load(cached, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                net = RoadNetwork(mode, *(data[f"{mode}_{name}"] for name in _ARRAYS),
                                  source=dict(meta["modes"][mode]))
            net.source.update({"file": path.name, "sha256": digest, "cache": "cached",
                               "build_seconds": meta["build_seconds"]})
            return net
    networks = build_networks(path)
    for net in networks.values():
        net.source["sha256"] = digest
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        stem = cached.name.split(f"-{digest[:16]}")[0]
        for old in cache_dir.glob(f"{stem}-{'?' * 16}-v*.npz"):  # earlier builds of a file since changed
            old.unlink()
        arrays = {f"{m}_{name}": getattr(net, name) for m, net in networks.items() for name in _ARRAYS}
        meta = {"file": path.name, "sha256": digest, "version": BUILD_VERSION,
                "build_seconds": networks[mode].source["build_seconds"],
                "modes": {m: {"dropped_nodes": net.source["dropped_nodes"]} for m, net in networks.items()}}
        partial = cached.with_suffix(".partial.npz")
        np.savez(partial, meta=np.array(json.dumps(meta)), **arrays)
        partial.replace(cached)  # readers never see a half-written cache
    return networks[mode]
