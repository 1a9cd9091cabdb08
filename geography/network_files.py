"""Street-network extracts (``.osm.pbf``) kept in the workspace: imported once, listed, removed, reverted.

The extract's bytes are stored in the workspace itself (both backends), as a side table
``network/<sha16>`` of base64 chunks, listed in the table ``street_networks`` (file,
sha256, bytes, node and edge counts per mode, lon/lat bounds, imported_at). Importing or
removing an extract is a recorded change, so it appears in the history and can be
reverted like a population layer.

Routing needs the extract as a file (pyosmium reads files): it is written once into a
folder — a GeoPackage workspace's ``networks/``, where `geography.network` also caches
the built graphs by the file's SHA-256 — and read back from there afterwards.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from errors import ImportFileError, UsageError
from geography._cache import now_utc
from geography.network import MODES, RoadNetwork, load_network
from i18n import Message

INDEX = "street_networks"
PREFIX = "network/"
INDEX_COLUMNS = ("file", "sha256", "bytes", "counts", "bounds", "imported_at")
CHUNK_BYTES = 1 << 20
"""Raw bytes per stored row (about 1.4 MB of base64 text)."""


@dataclass
class StoredNetwork:
    """One street-network extract kept in the workspace.

    Attributes
    ----------
    file
        The uploaded file's name (``west-ireland.osm.pbf``).
    sha256
        SHA-256 of its bytes (the key of the built graphs' cache).
    bytes
        Its size in bytes.
    counts
        Per mode (``drive``, ``walk``, ``bike``): ``{"nodes": n, "edges": n}`` of the built network.
    bounds
        (west, south, east, north) of the network's nodes, degrees (EPSG:4326).
    """

    file: str
    sha256: str
    bytes: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    imported_at: str = ""

    @property
    def table(self) -> str:
        """The side table holding the extract's bytes."""
        return PREFIX + self.sha256[:16]

    @property
    def extract_name(self) -> str:
        """The extract's file name in a networks folder (named by its hash: one file per content)."""
        return f"{self.sha256[:16]}.osm.pbf"


def stored_networks(workspace) -> list[StoredNetwork]:
    """The street-network extracts stored in the workspace, in import order."""
    index = workspace.read_table(INDEX) if workspace is not None else None
    if index is None or index.empty:
        return []
    return [StoredNetwork(str(r["file"]), str(r["sha256"]), int(r["bytes"]), dict(json.loads(r["counts"] or "{}")),
                          tuple(json.loads(r["bounds"] or "[0, 0, 0, 0]")), str(r["imported_at"] or ""))
            for r in index.to_dict("records")]


def _index_frame(entries: list[StoredNetwork]) -> pd.DataFrame:
    return pd.DataFrame([{"file": e.file, "sha256": e.sha256, "bytes": e.bytes, "counts": json.dumps(e.counts),
                          "bounds": json.dumps(list(e.bounds)), "imported_at": e.imported_at} for e in entries],
                        columns=list(INDEX_COLUMNS))


def _chunks(data: bytes) -> pd.DataFrame:
    return pd.DataFrame({"b64": [base64.b64encode(data[i:i + CHUNK_BYTES]).decode("ascii")
                                 for i in range(0, len(data), CHUNK_BYTES)]})


def _write_extract(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    partial = folder / f"{name}.partial"
    partial.write_bytes(data)
    partial.replace(target)  # a reader never sees half a file
    return target


def import_network(workspace, data: bytes, file: str, *, folder: str | Path) -> StoredNetwork:
    """Check and build an ``.osm.pbf`` extract, then keep it in the workspace (replacing one of the same name).

    Parameters
    ----------
    data, file
        The extract's bytes and file name.
    folder
        Where the extract is written for routing and its built graphs cached (a GeoPackage
        workspace's ``networks/``; any private folder for PostGIS).

    Raises
    ------
    ImportFileError
        When the file is empty, not a PBF, damaged or holds no roads (one line, from
        `geography.network`).
    """
    name = Path(file).name
    if not data:
        raise ImportFileError(Message(
            "{file}: the file is empty. Download the region's .osm.pbf extract again (Geofabrik or BBBike).", file=name))
    digest = hashlib.sha256(data).hexdigest()
    entry = StoredNetwork(name, digest, len(data), imported_at=now_utc())
    path = _write_extract(Path(folder), entry.extract_name, data)
    try:
        networks = {mode: load_network(path, mode, cache_dir=folder) for mode in MODES}
    except ImportFileError as exc:
        path.unlink(missing_ok=True)
        message = exc.args[0]  # about the copy written for routing: name the user's file instead
        if isinstance(message, Message) and message.params.get("file") == entry.extract_name:
            message = Message(message.template, **{**message.params, "file": name})
        raise ImportFileError(message) from None
    entry.counts = {mode: {"nodes": net.nodes, "edges": net.edges} for mode, net in networks.items()}
    lon = np.concatenate([net.lon for net in networks.values()])
    lat = np.concatenate([net.lat for net in networks.values()])
    entry.bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    others = [e for e in stored_networks(workspace) if e.file != name]
    replaced = [e for e in stored_networks(workspace) if e.file == name and e.sha256[:16] != digest[:16]]
    tables = {entry.table: _chunks(data), INDEX: _index_frame(others + [entry])}
    tables.update({e.table: pd.DataFrame() for e in replaced if all(o.sha256 != e.sha256 for o in others)})
    drive = entry.counts["drive"]
    workspace.write_tables(tables, summary=f"imported street network {name} ({len(data):,} bytes; drive "
                                           f"{drive['nodes']:,} nodes, {drive['edges']:,} edges)")
    return entry


def remove_network(workspace, file: str) -> bool:
    """Forget the stored extract called `file` (a recorded, revertable change); return whether there was one."""
    entries = stored_networks(workspace)
    gone = [e for e in entries if e.file == file]
    if not gone:
        return False
    kept = [e for e in entries if e.file != file]
    tables = {e.table: pd.DataFrame() for e in gone if all(k.sha256 != e.sha256 for k in kept)}
    tables[INDEX] = _index_frame(kept)
    workspace.write_tables(tables, summary=f"removed street network {file}")
    return True


def get_network(workspace, sha256: str) -> StoredNetwork:
    """The stored extract with this SHA-256; UsageError when the workspace no longer holds it."""
    for entry in stored_networks(workspace):
        if entry.sha256 == sha256:
            return entry
    raise UsageError(Message("the street network is no longer in this workspace (removed meanwhile). Reload the "
                             "page, or import the .osm.pbf extract again on the Data page."))


def extract_path(workspace, entry: StoredNetwork, folder: str | Path) -> Path:
    """The extract as a file in `folder`, written from the workspace when it is not there yet."""
    path = Path(folder) / entry.extract_name
    if path.exists() and path.stat().st_size == entry.bytes:
        return path
    stored = workspace.read_table(entry.table)
    if stored is None or stored.empty:
        raise UsageError(Message("street network {file}: its stored extract is missing; import it again on the Data "
                                 "page.", file=entry.file))
    data = b"".join(base64.b64decode(chunk) for chunk in stored["b64"].tolist())
    return _write_extract(Path(folder), entry.extract_name, data)


def load_stored(workspace, entry: StoredNetwork, mode: str, *, folder: str | Path) -> RoadNetwork:
    """The `mode` network of a stored extract, built once and cached in `folder` (see `geography.network`)."""
    network = load_network(extract_path(workspace, entry, folder), mode, cache_dir=folder)
    network.source["file"] = entry.file
    return network


def network_for(workspace, bounds: tuple[float, float, float, float]) -> StoredNetwork | None:
    """The stored extract overlapping `bounds` (west, south, east, north, degrees) the most, or None."""
    best, best_area = None, 0.0
    west, south, east, north = bounds
    for entry in stored_networks(workspace):
        w, s, e, n = entry.bounds
        area = max(0.0, min(east, e) - max(west, w)) * max(0.0, min(north, n) - max(south, s))
        if area > best_area:
            best, best_area = entry, area
    return best


def describe(entry: StoredNetwork) -> dict[str, Any]:
    """One row for a table: file, size in MB, nodes and edges per mode, imported."""
    row: dict[str, Any] = {"file": entry.file, "MB": round(entry.bytes / 1e6, 2)}
    for mode in MODES:
        counts = entry.counts.get(mode, {})
        row[f"{mode} nodes"] = int(counts.get("nodes", 0))
        row[f"{mode} edges"] = int(counts.get("edges", 0))
    row["imported"] = entry.imported_at
    return row
