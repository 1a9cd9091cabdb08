"""What every exporter shares: feature selection, layer titles, table naming and the result type."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from errors import ExportError
from i18n import N_, gettext
from loaders.features import COLUMNS, CRS
from loaders.layers import ALL_LAYERS, HUBS, NETWORKS, STATUSES, TRAINING, UNCLASSIFIED

# Folder, sheet and legend titles: the CCIC toolkit's names, which the layer alias table maps
# back to the same ids, so an exported KML re-imports into the same layers (in every language:
# tests/test_export_lang.py). English here; `layer_title` gives them in the current language.
LAYER_TITLES: dict[str, str] = {
    HUBS: N_("Creative Industries Hubs & Infrastructure"),
    TRAINING: N_("Creative Industries Training & Supports"),
    NETWORKS: N_("Creative Industries Networks"),
    UNCLASSIFIED: N_("Unclassified"),
}
# Analysis results that are map layers, in the order they are written; titles for readers.
ANALYSIS_TITLES: dict[str, str] = {
    "region_boundary": N_("Region boundary"),
    "coverage_discs": N_("Coverage discs"),
    "gap_areas": N_("Gap areas"),
    "uncovered_settlements": N_("Uncovered settlements"),
    "suggested_sites": N_("Suggested sites"),
    "catchments": N_("Catchments"),
    "h3_grid": N_("H3 distance grid"),
    "area_coverage": N_("Coverage by area"),
}


@dataclass
class ExportResult:
    """The files an export wrote, in order, and one message for the user."""

    files: list[Path]
    message: str
    notes: list[str] = field(default_factory=list)


def round6(values: Any, decimals: int = 6) -> np.ndarray:
    """Round degrees to `decimals` (6: about 0.1 m) giving the double nearest each decimal value.

    ``rint(x * 10**d) / 10**d``: the division of an integer is correctly rounded, so the
    result prints (``repr``) with at most `decimals` decimals; ``np.round`` does not promise that.
    """
    scale = 10.0 ** decimals
    return np.rint(np.asarray(values, dtype=float) * scale) / scale


def layer_title(layer: str) -> str:
    """Return the reader-facing title of a layer id (or analysis result name) in the current language."""
    title = LAYER_TITLES.get(layer) or ANALYSIS_TITLES.get(layer)
    return gettext(title) if title else str(layer)


def layer_order(layers: Iterable[Any]) -> list[str]:
    """Return the distinct layer ids in `layers`: canonical ones in schema order, then others sorted."""
    values = pd.unique(pd.Series(layers, dtype=object))
    present = {str(layer) for layer in values if layer is not None and layer == layer}
    return [l for l in ALL_LAYERS if l in present] + sorted(present - set(ALL_LAYERS))


def table_name(name: str) -> str:
    """Return `name` as a safe lower-case table/file name part (letters, digits, underscores)."""
    cleaned = re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower()
    return cleaned or "layer"


def parse_layers(text: str | Iterable[str] | None) -> list[str] | None:
    """Turn ``"hubs,training"`` (or a list) into layer ids; None means every layer.

    Raises ValueError naming the unknown ids and the known ones.
    """
    if text is None:
        return None
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text)]
    items = [t for t in items if t]
    if not items:
        return None
    unknown = [t for t in items if t not in ALL_LAYERS]
    if unknown:
        raise ExportError(
            f"unknown layer(s) {', '.join(unknown)}: use a comma-separated list of "
            f"{', '.join(ALL_LAYERS)} (e.g. --layers hubs,training)."
        )
    return items


def select_features(
    features: gpd.GeoDataFrame,
    *,
    layers: Iterable[str] | None = None,
    status: str | None = None,
    boundary: Any = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Return the features to export and notes on what was left out.

    Parameters
    ----------
    features
        Canonical features (any CRS; returned in EPSG:4326).
    layers
        Layer ids to keep; None keeps every layer.
    status
        ``"existing"`` or ``"planned"`` to keep only those; None keeps both.
    boundary
        A shapely geometry in EPSG:4326 (the region). Features that intersect it are kept
        whole (never clipped, so they round-trip unchanged); features without a location
        cannot be placed in a region and are left out, with a note.
    """
    frame = features.to_crs(CRS) if features.crs is not None and features.crs != CRS else features
    notes: list[str] = []
    if layers is not None:
        frame = frame[frame["layer"].isin(list(layers))]
    if status is not None:
        if status not in STATUSES:
            raise ExportError(f"status '{status}' is not one of {', '.join(STATUSES)}.")
        frame = frame[frame["status"] == status]
    if boundary is not None:
        geoms = frame.geometry.values
        located = ~(geoms.isna() | geoms.is_empty)
        unlocated = int((~located).sum())
        inside = np.zeros(len(frame), dtype=bool)
        if located.any():
            inside[located] = geoms[located].intersects(boundary)
        frame = frame[inside]
        if unlocated:
            notes.append(gettext(
                "{count} feature(s) without a location (e.g. online networks) left out: "
                "they cannot be placed inside a region. Export without a region to include them."
            ).format(count=unlocated))
    frame = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry="geometry", crs=CRS)
    return frame, notes


def plain(value: Any) -> Any:
    """Return `value` as a JSON-ready Python value: NaN/NaT → None, numpy scalars → Python."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and value != value else value
    if isinstance(value, (pd.Timestamp,)):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def attributes_object(text: Any) -> Any:
    """Return the ``attributes`` JSON text as an object; text that is not a JSON object stays text."""
    if text is None or (isinstance(text, float) and text != text):
        return {}
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    return value if isinstance(value, dict) else str(text)


def property_columns(frame: pd.DataFrame) -> list[str]:
    """Columns written as properties: canonical ones first (in schema order), then the rest."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    canonical = [c for c in COLUMNS if c in frame.columns]
    return canonical + [c for c in frame.columns if c not in canonical and c != geometry]
