"""Memos of immutable access results: demand grids per unit frame, catchments per layer.

Memos, not settings: each keeps the last few results of pure functions, keyed so that a stale
entry can never be returned (weak references guard against a recycled ``id``; facility
coordinates are compared in full on every hit).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from ..dataset import Dataset
from ..population import DemandPoints, demand_points, finest_level
from .settings import AccessSettings

__all__ = ["cached_demand_points", "CoveredPoints", "CATCHMENT_MEMO"]


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


class _DemandMemo:
    """Demand points of the last few unit frames, keyed by the finest units' frame and the grid.

    Demand depends only on the finest units (and the raster), so a scenario that adds or removes
    facilities (a new dataset sharing the same unit frames) reuses it, while grown population (a
    new unit frame) gets a new one.  A weak reference guards against a recycled ``id``; at most a
    few entries are kept.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self.entries: dict = {}
        self.lock = threading.Lock()

    def get(self, dataset: Dataset, settings: AccessSettings) -> DemandPoints:
        """The demand points of ``dataset``'s finest units at ``settings``' grid, built once."""
        units = dataset.units_at(finest_level(dataset))
        key = (id(units), float(settings.resolution_m), str(settings.raster), str(dataset.crs))
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry[0]() is units:
                return entry[1]
        demand = demand_points(dataset, resolution_m=settings.resolution_m, raster=settings.raster)
        with self.lock:
            self.entries[key] = (weakref.ref(units), demand)
            while len(self.entries) > self.size:
                self.entries.pop(next(iter(self.entries)))
        return demand


_DEMAND_MEMO = _DemandMemo()


def cached_demand_points(dataset: Dataset, *, settings: AccessSettings | None = None) -> DemandPoints:
    """:func:`~geo_coverage.population.demand_points` for ``settings``, built once per unit frame.

    Parameters
    ----------
    dataset
        Datasets that differ only in facilities share the result.
    settings
        The grid's resolution and raster (default :class:`AccessSettings`).

    Returns
    -------
    DemandPoints
        Immutable; its KD-tree and coarser grids are memoised with it.
    """
    return _DEMAND_MEMO.get(dataset, settings or AccessSettings())


class CatchmentMemo:
    """Covered masks (``access``) and catchment matrices (2SFCA) of the last few evaluations.

    Both depend on positions alone, never on population: the demand points' (keyed by
    :attr:`~geo_coverage.population.DemandPoints.geometry` through a weak reference, as for
    demand, so a rescaled copy after population growth shares its base's entries), the
    facilities' (keyed by their coordinates, compared in full on every hit, so an edited layer
    never reuses another layer's entry) and the catchment (``params``: indicator type, cost, unit,
    mode, decay, detour, speeds, road network).  Supply enters 2SFCA after the matrix, so resized
    facilities reuse it too.  Least recently used entries go first beyond ``size`` entries or
    ``max_bytes`` (a 30-minute drive over Beijing is about 14 MB).
    """

    def __init__(self, size: int = 24, max_bytes: float = 192e6):
        self.size, self.max_bytes = size, max_bytes
        self.entries: dict = {}
        self.lock = threading.Lock()

    def get(self, points: DemandPoints, facility_xy: np.ndarray, params: tuple, build):
        """The entry for these points, facilities and ``params``; ``build()`` makes it if absent
        (its result needs an ``nbytes``)."""
        owner = points.geometry
        facility_xy = np.ascontiguousarray(facility_xy, dtype=float)
        key = (id(owner), params, facility_xy.shape, hash(facility_xy.tobytes()))
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry[0]() is owner and np.array_equal(entry[1], facility_xy):
                self.entries[key] = self.entries.pop(key)  # most recently used last
                return entry[2]
        value = build()
        with self.lock:
            self.entries.pop(key, None)
            self.entries[key] = (weakref.ref(owner), facility_xy.copy(), value, value.nbytes)
            for stale in [k for k, e in self.entries.items() if e[0]() is None]:
                del self.entries[stale]
            while len(self.entries) > 1 and (
                    len(self.entries) > self.size
                    or sum(e[3] for e in self.entries.values()) > self.max_bytes):
                self.entries.pop(next(iter(self.entries)))
        return value

    def clear(self) -> None:
        """Forget every entry."""
        with self.lock:
            self.entries.clear()


CATCHMENT_MEMO = CatchmentMemo()


class CoveredPoints:
    """Which demand points are within the catchment of some facility (read-only), and per
    population column each unit's covered population at the weights of the points' geometry
    (:attr:`~geo_coverage.population.DemandPoints.geometry`), summed once."""

    def __init__(self, mask: np.ndarray):
        self.mask = _read_only(np.asarray(mask, dtype=bool))
        self._sums: dict[str, np.ndarray] = {}
        self.nbytes = int(self.mask.nbytes)

    def unit_sums(self, points: DemandPoints, column: str) -> np.ndarray:
        """Covered population of ``column`` per unit of ``points`` (a rescaled copy scales the
        geometry's sums unit by unit, as its weights are scaled)."""
        geometry = points.geometry
        sums = self._sums.get(column)
        if sums is None:
            covered = np.flatnonzero(self.mask)
            sums = _read_only(np.bincount(geometry.unit_index[covered],
                                          weights=geometry.weight(column)[covered],
                                          minlength=len(geometry.unit_codes)))
            self._sums[column] = sums
        return sums * points.unit_factors(column)
