"""Partitions of a dataset by its unit hierarchy, with halos for catchments.

A partition is a set of whole units at the *partition level* (districts of a city, provinces or
counties of a country; the finest units when more partitions are asked for than there are
districts).  Its *core* is the finest units inside them.  Everything a core unit's figures depend
on travels with it:

* ratios, shares and counts: the facilities located in the core units (one unit, one partition);
* ``access`` (nearest facility within the catchment): the facilities within the catchment radius
  ``r`` of the core;
* 2SFCA: the facilities within ``r`` of the core and the demand within ``2 r`` of it, because a
  facility's supply ratio ``R_j = S_j / Σ_i w_ij P_i`` counts everyone within ``r`` of the
  facility, who may live up to ``2 r`` from the core.

So a partition's core figures are computed from exactly the demand and supply they would see on
one machine, whichever way the units are grouped (docs/engine.md gives the argument).  Only whole
units travel: a halo unit brings all its demand cells, so the per-unit renormalisation of the
population grid is the same as on one machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from ..dataset import Dataset
from ..errors import DataError
from ..population import finest_level

__all__ = ["Partition", "partition_dataset", "hilbert_order", "halo_units", "facilities_near"]


@dataclass(frozen=True)
class Partition:
    """One piece of a dataset.

    Attributes
    ----------
    index
        Position among the partitions (0-based).
    level
        The partition level: ``district`` (whole districts in each partition) or the finest level.
    whole
        Codes of the ``level`` units in this partition.
    core
        Codes of the finest units in this partition (streets, or districts without streets).
    """

    index: int
    level: str
    whole: tuple[str, ...]
    core: tuple[str, ...]


def hilbert_order(x: np.ndarray, y: np.ndarray, *, bits: int = 16) -> np.ndarray:
    """Positions sorting points along a Hilbert curve (neighbours in space stay neighbours)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    side = (1 << bits) - 1
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    xi = ((x - x.min()) / span * side).astype(np.int64)
    yi = ((y - y.min()) / span * side).astype(np.int64)
    d = np.zeros(len(x), dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # Rotate the quadrant so the curve stays continuous.
        flip = ~ry
        swap_x = np.where(flip & rx, side - xi, xi)
        swap_y = np.where(flip & rx, side - yi, yi)
        xi, yi = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return np.argsort(d, kind="stable")


def _split_by_weight(weights: np.ndarray, n: int) -> list[np.ndarray]:
    """Cut positions 0..len-1 (already ordered) into ``n`` contiguous non-empty runs of about
    equal total weight."""
    total = float(weights.sum()) or 1.0
    cumulative = np.cumsum(weights) / total
    # The run of each item: the share of the weight before its middle, times n.
    middle = cumulative - weights / total / 2.0
    wanted = np.minimum((middle * n).astype(np.int64), n - 1)
    # Every run non-empty and contiguous: an item joins the previous run or opens the next one,
    # and opens it anyway when the items left are just enough for the runs left.
    run = np.empty(len(weights), dtype=np.int64)
    previous = -1
    for k, target in enumerate(wanted):
        current = min(max(int(target), previous), previous + 1)
        current = max(current, n - (len(weights) - k))
        run[k] = previous = current
    return [np.flatnonzero(run == i) for i in range(n)]


def partition_dataset(dataset: Dataset, n: int) -> list[Partition]:
    """Cut the dataset into ``n`` partitions of whole units, contiguous in space.

    Districts are ordered along a Hilbert curve of their representative points and cut into runs
    of about equal area (demand cells, hence work, grow with area).  When ``n`` exceeds the
    number of districts the finest units are cut instead; ``n`` is capped at the number of finest
    units.
    """
    if n < 1:
        raise DataError(f"{n} partitions asked for.", fix="Use 1 or more partitions.")
    finest = finest_level(dataset)
    finest_units = dataset.units_at(finest)
    districts = dataset.units_at("district")
    n = min(int(n), len(finest_units))
    level = "district" if (finest == "district" or n <= len(districts)) else finest
    items = dataset.units_at(level)
    anchor = shapely.point_on_surface(items.geometry.values)
    order = hilbert_order(shapely.get_x(anchor), shapely.get_y(anchor))
    area = shapely.area(items.geometry.values)[order]
    runs = _split_by_weight(np.asarray(area, dtype=float) + 1.0, n)
    codes = items.index.to_numpy(dtype=object)[order]
    if level == finest:
        return [Partition(i, level, tuple(codes[run]), tuple(codes[run]))
                for i, run in enumerate(runs)]
    parent = finest_units["parent_code"].astype(str)
    finest_codes = finest_units.index.to_numpy(dtype=object)
    orphans = ~parent.isin(items.index).to_numpy()
    partitions = []
    for i, run in enumerate(runs):
        whole = codes[run]
        inside = parent.isin(whole).to_numpy().copy()
        if i == len(runs) - 1:
            inside |= orphans  # finest units whose parent is not a district ride with the last run
        partitions.append(Partition(i, level, tuple(whole), tuple(finest_codes[inside])))
    return partitions


def halo_units(units: gpd.GeoDataFrame, core: Iterable[str], *, distance_m: float) -> np.ndarray:
    """Positions (sorted) of the units within ``distance_m`` of any core unit, core included."""
    core_positions = units.index.get_indexer(list(core))
    if (core_positions < 0).any():
        raise DataError("A partition names a unit the dataset does not have.")
    if distance_m <= 0:
        return np.sort(core_positions)
    tree = shapely.STRtree(units.geometry.values)
    _, found = tree.query(units.geometry.values[core_positions], predicate="dwithin",
                          distance=float(distance_m))
    return np.unique(np.concatenate([core_positions, found]))


def facilities_near(frame: gpd.GeoDataFrame, core_geometries, *, distance_m: float) -> np.ndarray:
    """Positions (sorted) of the facilities within ``distance_m`` of any of ``core_geometries``."""
    if len(frame) == 0:
        return np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(np.asarray(core_geometries, dtype=object))
    geometries = frame.geometry.values
    present = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    found, _ = tree.query(np.where(present, geometries, None), predicate="dwithin",
                          distance=float(distance_m))
    return np.unique(found)


def core_facilities(frame: gpd.GeoDataFrame, partition: Partition, level_codes: Mapping[str, set]
                    ) -> np.ndarray:
    """Positions of the facilities located in the partition's units (by their street / district
    code, as assigned once at load), in the layer's order."""
    # pandas' hashed isin: numpy's isin on text (object) arrays compares every pair.
    inside = frame["street_code"].isin(level_codes.get("street", ())).to_numpy().copy() \
        if "street" in level_codes else np.zeros(len(frame), dtype=bool)
    inside |= frame["district_code"].isin(level_codes.get("district", ())).to_numpy()
    return np.flatnonzero(inside)
