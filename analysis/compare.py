"""Region-against-region comparison: one row of headline figures per region."""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.base import lonlat, select_facilities
from analysis.coverage import CoverageResult
from loaders.layers import LAYERS, PLANNED


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Return the smallest value at which the cumulative weight reaches half the total.

    With zero total weight, the plain median of the values. NaN when there are no values.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if len(values) == 0:
        return float("nan")
    if weights.sum() <= 0:
        return float(np.median(values))
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def compare_row(
    region_id: str, region_name: str, result: CoverageResult, facilities: gpd.GeoDataFrame
) -> dict[str, Any]:
    """Return one region's headline figures for the comparison table.

    Parameters
    ----------
    region_id, region_name
        How the region is identified and shown.
    result
        The region's coverage result.
    facilities
        The facilities the result was computed from; counted per layer under the same
        scenario (existing, plus planned when the result includes them), located only.

    Returns
    -------
    dict with ``region_id``, ``region_name``, ``population``, ``settlements``; per layer
    ``facilities_<layer>``, ``planned_<layer>`` (located planned facilities, counted in
    ``facilities_<layer>`` only when the result includes planned ones),
    ``per_100k_<layer>`` (facilities per 100,000 inhabitants, None with no population),
    ``coverage_share_<layer>`` (None for a layer the result did not analyse);
    ``full_support_share``; ``median_km_hubs`` (population-weighted median distance to the
    nearest hub: half the population lives at most this far, None when there is no hub
    or hubs were not analysed); ``largest_uncovered`` (``{"name", "population"}`` of the
    largest settlement lacking at least one layer, or None); ``include_planned``,
    ``circuity``.
    """
    settlements = result.settlements
    population = result.population
    row: dict[str, Any] = {
        "region_id": region_id,
        "region_name": region_name,
        "population": int(population),
        "settlements": int(len(settlements)),
    }
    for layer in LAYERS:
        chosen = select_facilities(facilities, layer, include_planned=True)
        located = np.isfinite(lonlat(chosen.geometry)).all(axis=1)
        planned = (chosen["status"] == PLANNED).to_numpy(dtype=bool) & located
        counted = int(located.sum()) if result.include_planned else int((located & ~planned).sum())
        row[f"facilities_{layer}"] = counted
        row[f"planned_{layer}"] = int(planned.sum())
        row[f"per_100k_{layer}"] = counted / population * 100_000 if population else None
        row[f"coverage_share_{layer}"] = (
            result.layers[layer]["coverage_share"] if layer in result.layers else None
        )
    row["full_support_share"] = result.full_support_share
    if "hubs" in result.radius_km and len(settlements):
        row["median_km_hubs"] = _finite_or_none(weighted_median(
            settlements["nearest_km_hubs"].to_numpy(dtype=float),
            settlements["population"].to_numpy(dtype=float),
        ))
    else:
        row["median_km_hubs"] = None
    lacking = settlements.loc[~settlements["full_support"].to_numpy(dtype=bool)]
    if len(lacking):
        order = np.lexsort((lacking["name"].astype(str).to_numpy(), -lacking["population"].to_numpy(dtype=np.int64)))
        top = lacking.iloc[order[0]]
        row["largest_uncovered"] = {"name": top["name"], "population": int(top["population"])}
    else:
        row["largest_uncovered"] = None
    row["include_planned"] = result.include_planned
    row["circuity"] = result.circuity
    return row


def compare(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return the comparison table, one row per region in the order given.

    ``largest_uncovered`` is split into ``largest_uncovered_name`` and
    ``largest_uncovered_population`` so that the table holds only plain values.
    """
    flat = []
    for row in rows:
        item = {key: value for key, value in row.items() if key != "largest_uncovered"}
        top = row.get("largest_uncovered")
        item["largest_uncovered_name"] = top["name"] if top else None
        item["largest_uncovered_population"] = top["population"] if top else None
        flat.append(item)
    table = pd.DataFrame(flat)
    if "largest_uncovered_population" in table:
        table["largest_uncovered_population"] = table["largest_uncovered_population"].astype("Int64")
    return table
