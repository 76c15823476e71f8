"""Access indicators: who lives within reach of a facility, and how much capacity each can reach.

* ``access``: the share of a population group living within a catchment (a walking distance such
  as the 300 / 500 / 1,000 m life circles of GB 50180-2018, or minutes by a mode) of the nearest
  facility of a kind.
* ``accessible_ratio``: the two-step floating catchment area (2SFCA, Luo & Wang 2003) and its
  enhanced form with distance decay (E2SFCA, Luo & Qi 2009): each facility's supply is shared by
  everyone within its catchment, and each resident's accessibility is the sum of the shares of the
  facilities they can reach (supply per person).  Reported per 1,000, population-weighted.

Both are measured on demand points (population cells, :mod:`geo_coverage.population`) and summed
to the finest units, so streets add up to districts and districts to the city.

Decay functions are small factories returning vectorised ``cost -> weight`` functions, as in PySAL
``access``; they can be swapped freely.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import shapely

from .catchment import (
    CostTable,
    RoadNetwork,
    covered_by_any,
    network_costs,
    network_nearest_cost,
    straight_line_costs,
)
from .dataset import Dataset
from .errors import DataError
from .plan import DEFAULT_SPEED_KMH, DECAYS, Indicator, Plan
from .population import DemandPoints, demand_points

__all__ = [
    "AccessSettings",
    "Decay",
    "step_decay",
    "gaussian_decay",
    "gravity_decay",
    "decay_from_name",
    "two_step_fca",
    "enhanced_two_step_fca",
    "coverage_within",
    "pair_costs",
    "facility_points",
    "unit_measures",
    "point_measures",
    "cached_demand_points",
    "accessibility_from_tables",
    "catchment_outlines",
]

Decay = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class AccessSettings:
    """How access is measured.  Immutable; build a new one to change anything.

    Attributes
    ----------
    resolution_m
        Cell size of the population grid built from unit populations (when ``raster`` is None).
    detour_factor
        Travel distance per straight-line metre when no road network is given.  1.3 is the
        circuity commonly measured for urban street networks (network ÷ straight-line distance
        between random origin–destination pairs is about 1.2–1.4), and Beijing's large gated
        blocks push walking routes towards the upper end; the plan's catchments are travel
        distances, so a 1,000 m walk reaches about 770 m as the crow flies.
    walk_speed_kmh, drive_speed_kmh
        Turn minutes into distances (defaults: :data:`geo_coverage.plan.DEFAULT_SPEED_KMH`).
    network
        A :class:`~geo_coverage.catchment.RoadNetwork` in the dataset's CRS; ``None`` for straight
        lines with the detour factor.
    catchments
        ``indicator id -> catchment`` overriding the plan, in the indicator's own unit: metres for
        distance catchments (life circles), minutes for ``max_minutes`` ones.
    decays
        ``indicator id -> decay name`` (step | gaussian | gravity) overriding the plan.
    raster
        A population GeoTIFF; ``None`` spreads unit populations evenly.
    demand_cells_per_radius
        For 2SFCA, demand cells are merged into squares no wider than the catchment radius
        divided by this (a 30-minute drive uses 500 m squares, a walk keeps the 100 m grid).
    """

    resolution_m: float = 100.0
    detour_factor: float = 1.3
    walk_speed_kmh: float = DEFAULT_SPEED_KMH["walk"]
    drive_speed_kmh: float = DEFAULT_SPEED_KMH["drive"]
    network: RoadNetwork | None = None
    catchments: Mapping[str, float] = field(default_factory=dict)
    decays: Mapping[str, str] = field(default_factory=dict)
    raster: str | Path | None = None
    demand_cells_per_radius: float = 20.0

    def __post_init__(self):
        object.__setattr__(self, "catchments",
                           MappingProxyType({str(k): float(v) for k, v in self.catchments.items()}))
        object.__setattr__(self, "decays", MappingProxyType({str(k): str(v) for k, v in self.decays.items()}))
        for name, decay in self.decays.items():
            if decay not in DECAYS:
                raise DataError(f"Unknown decay '{decay}' for '{name}'.", fix=f"Use one of {DECAYS}.")
        for name, value in (("resolution_m", self.resolution_m), ("walk_speed_kmh", self.walk_speed_kmh),
                            ("drive_speed_kmh", self.drive_speed_kmh)):
            if not value > 0:
                raise DataError(f"{name} must be positive, not {value}.")
        if self.detour_factor < 1:
            raise DataError(f"Detour factor {self.detour_factor} is below 1.", fix="Use 1 or more, e.g. 1.3.")
        for name, value in self.catchments.items():
            if not value > 0:
                raise DataError(f"Catchment {value} for '{name}' is not positive.")

    @property
    def speed_kmh(self) -> Mapping[str, float]:
        return MappingProxyType({"walk": float(self.walk_speed_kmh), "drive": float(self.drive_speed_kmh)})

    def catchment(self, indicator: Indicator) -> tuple[float, str]:
        """``(max_cost, weight)``: metres with ``'length'`` or minutes with ``'time'``."""
        override = self.catchments.get(indicator.id)
        if indicator.max_distance_m is not None:
            return (override if override is not None else float(indicator.max_distance_m)), "length"
        if indicator.max_minutes is not None:
            return (override if override is not None else float(indicator.max_minutes)), "time"
        raise DataError(f"Indicator '{indicator.id}' has no catchment.",
                        fix="Give it 'life_circle', 'max_distance_m' or 'max_minutes' in the plan.")

    def decay(self, indicator: Indicator) -> str:
        return self.decays.get(indicator.id, indicator.decay)

    def straight_radius_m(self, max_cost: float, *, weight: str, mode: str) -> float:
        """The straight-line radius equivalent to a catchment (travel metres ÷ detour)."""
        metres = max_cost if weight == "length" else max_cost / 60.0 * self.speed_kmh[mode] * 1000.0
        return metres / self.detour_factor


# --- decay functions ------------------------------------------------------------------------------


def step_decay(steps: Mapping[float, float] | None = None, *, max_cost: float | None = None) -> Decay:
    """Weights by cost band: ``{upper bound: weight}``, 0 beyond the last bound.

    ``step_decay(max_cost=30)`` is plain 2SFCA (weight 1 inside the catchment); PySAL's E2SFCA
    default is ``{10: 1, 20: 0.68, 30: 0.22}``.
    """
    if steps is None:
        if max_cost is None:
            raise DataError("A step decay needs its steps or a max_cost.")
        steps = {float(max_cost): 1.0}
    bounds = np.array(sorted(float(k) for k in steps), dtype=float)
    values = np.array([float(steps[k]) for k in sorted(steps)], dtype=float)
    if (values < 0).any():
        raise DataError("Step weights must not be negative.")
    with_zero = np.append(values, 0.0)

    def weight(cost):
        # The first bound at or above the cost (a cost equal to a bound belongs to that band).
        return with_zero[np.searchsorted(bounds, np.asarray(cost, dtype=float), side="left")]

    return weight


def gaussian_decay(sigma: float) -> Decay:
    """``exp(-cost² / 2σ²)`` (1 at zero cost; no normalisation, as in PySAL)."""
    if sigma == 0:
        raise DataError("The Gaussian width must not be zero.")
    sigma = float(sigma)
    return lambda cost: np.exp(-np.square(np.asarray(cost, dtype=float)) / (2.0 * sigma * sigma))


def gravity_decay(scale: float, alpha: float, *, min_cost: float = 0.0) -> Decay:
    """``(max(cost, min_cost) / scale) ** alpha`` (give a negative ``alpha`` for decay)."""
    scale, alpha, min_cost = float(scale), float(alpha), float(min_cost)
    return lambda cost: np.power(np.maximum(np.asarray(cost, dtype=float), min_cost) / scale, alpha)


def decay_from_name(name: str, *, max_cost: float) -> Decay:
    """The plan's decay names with defaults scaled to the catchment.

    ``step``: 1 inside the catchment (plain 2SFCA).  ``gaussian``: σ = half the catchment (the
    edge weighs e⁻² ≈ 0.14).  ``gravity``: inverse cost, ``(max(c, catchment/10) / catchment)⁻¹``
    (the floor keeps a facility on one's doorstep from dominating).
    """
    if name == "step":
        return step_decay(max_cost=max_cost)
    if name == "gaussian":
        return gaussian_decay(max_cost / 2.0)
    if name == "gravity":
        return gravity_decay(max_cost, -1.0, min_cost=max_cost / 10.0)
    raise DataError(f"Unknown decay '{name}'.", fix=f"Use one of {DECAYS}.")


def _e2sfca_steps(max_cost: float) -> dict[float, float]:
    # PySAL's default {10: 1, 20: 0.68, 30: 0.22} for 30 minutes, in thirds of any catchment.
    return {max_cost / 3.0: 1.0, 2.0 * max_cost / 3.0: 0.68, float(max_cost): 0.22}


# --- floating catchments --------------------------------------------------------------------------


def two_step_fca(demand, supply, costs: CostTable, *, max_cost: float, decay: Decay | None = None
                 ) -> np.ndarray:
    """Two-step floating catchment accessibility of every demand location.

    With weights ``w(c)`` (1 for plain 2SFCA) over pairs with ``c ≤ max_cost``::

        R_j = S_j / Σ_i w(c_ij) P_i          (supply per person competing for facility j)
        A_i = Σ_j w(c_ij) R_j                (supply per person reachable from i)

    Parameters
    ----------
    demand
        Population ``P_i`` of each origin of ``costs``.
    supply
        Supply ``S_j`` of each destination (beds, places, or 1 per facility).
    costs
        Origin (demand) × destination (supply) costs.
    max_cost, decay
        Catchment and weight function (default: step, 1 within the catchment).

    Returns
    -------
    numpy.ndarray
        ``A_i`` for every origin; 0 where nothing is in reach.  A facility nobody can reach
        serves nobody (``R_j = 0``).
    """
    demand = np.asarray(demand, dtype=float)
    supply = np.asarray(supply, dtype=float)
    if len(demand) != costs.n_origins or len(supply) != costs.n_destinations:
        raise DataError(f"{len(demand)} demand and {len(supply)} supply values do not match the "
                        f"cost table's {costs.n_origins} origins and {costs.n_destinations} destinations.")
    inside = costs.costs <= max_cost
    origin, destination = costs.origins[inside], costs.destinations[inside]
    weight = (np.ones(int(inside.sum())) if decay is None
              else np.asarray(decay(costs.costs[inside]), dtype=float))
    competing = np.bincount(destination, weights=weight * demand[origin], minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(competing > 0, supply / competing, 0.0)
    return np.bincount(origin, weights=weight * ratio[destination], minlength=len(demand))


def enhanced_two_step_fca(demand, supply, costs: CostTable, *, max_cost: float,
                          decay: Decay | None = None) -> np.ndarray:
    """E2SFCA: :func:`two_step_fca` with a distance decay.

    The default decay is PySAL's E2SFCA step weights scaled to the catchment: 1 in the first
    third, 0.68 in the second, 0.22 in the last.  Pass :func:`gaussian_decay` or
    :func:`gravity_decay` (or any vectorised function) to swap it.
    """
    if decay is None:
        decay = step_decay(_e2sfca_steps(max_cost))
    return two_step_fca(demand, supply, costs, max_cost=max_cost, decay=decay)


# --- costs between demand and facilities -------------------------------------------------------


def pair_costs(origins, destinations, *, max_cost: float, weight: str = "length", mode: str = "walk",
               settings: AccessSettings = AccessSettings()) -> CostTable:
    """Origin–destination costs within ``max_cost``: on ``settings.network``, else straight line.

    ``origins`` may be a KD-tree of the origins (straight-line case).  Costs are metres for
    ``weight='length'`` and minutes for ``'time'``.
    """
    if settings.network is not None:
        xy = origins.data if hasattr(origins, "query_ball_point") else origins
        return network_costs(settings.network, xy, destinations, max_cost=max_cost, weight=weight,
                             mode=mode, speed_kmh=settings.speed_kmh)
    speed = None if weight == "length" else settings.speed_kmh[mode]
    return straight_line_costs(origins, destinations, max_cost=max_cost,
                               detour_factor=settings.detour_factor, speed_kmh=speed)


def coverage_within(origins, destinations, *, max_cost: float, weight: str = "length",
                    mode: str = "walk", settings: AccessSettings = AccessSettings()) -> np.ndarray:
    """Whether each origin is within ``max_cost`` of its nearest destination.

    Straight line: one ball query around the destinations with radius ``max_cost`` ÷ detour
    (``origins`` may be a prebuilt KD-tree).  Network: one multi-source Dijkstra.
    """
    destinations = np.asarray(destinations, dtype=float).reshape(-1, 2)
    if settings.network is not None:
        xy = origins.data if hasattr(origins, "query_ball_point") else origins
        cost = network_nearest_cost(settings.network, xy, destinations, max_cost=max_cost,
                                    weight=weight, mode=mode, speed_kmh=settings.speed_kmh)
        return np.isfinite(cost)
    radius = settings.straight_radius_m(max_cost, weight=weight, mode=mode)
    return covered_by_any(origins, destinations, radius=radius)


def facility_points(frame) -> tuple[np.ndarray, np.ndarray]:
    """``(xy, positions)`` of a layer's facilities that have a location (points; else a point on
    the surface), positions indexing the frame's rows."""
    geometries = np.asarray(frame.geometry.values, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geometries) | shapely.is_empty(geometries)))
    points = geometries[present]
    not_point = shapely.get_type_id(points) != 0
    if not_point.any():
        points = points.copy()
        points[not_point] = shapely.point_on_surface(points[not_point])
    return np.column_stack([shapely.get_x(points), shapely.get_y(points)]), present


# --- the coverage engine's hook ------------------------------------------------------------------


class _DemandMemo:
    """Demand points of the last few unit frames, keyed by the finest units' frame and the grid.

    A memo of immutable results, not a setting.  Demand depends only on the finest units (and
    the raster), so a scenario that adds or removes facilities (a new dataset sharing the same
    unit frames) reuses it, while grown population (a new unit frame) gets a new one.  A weak
    reference guards against a recycled ``id``; at most a few entries are kept.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self.entries: dict = {}
        self.lock = threading.Lock()

    def get(self, dataset: Dataset, settings: AccessSettings) -> DemandPoints:
        from .population import finest_level

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


class _CatchmentMemo:
    """Covered masks (``access``) and catchment matrices (2SFCA) of the last few evaluations.

    A memo of immutable results.  Both depend on positions alone, never on population: the demand
    points' (keyed by :attr:`~geo_coverage.population.DemandPoints.geometry` through a weak
    reference, as for demand, so a rescaled copy after population growth shares its base's
    entries), the facilities' (keyed by their coordinates, compared in full on every hit, so an
    edited layer never reuses another layer's entry) and the catchment (``params``: indicator
    type, cost, unit, mode, decay, detour, speeds, road network).  Supply enters 2SFCA after the
    matrix, so resized facilities reuse it too.  Least recently used entries go first beyond
    ``size`` entries or ``max_bytes`` (a 30-minute drive over Beijing is about 14 MB).
    """

    def __init__(self, size: int = 24, max_bytes: float = 192e6):
        self.size, self.max_bytes = size, max_bytes
        self.entries: dict = {}
        self.lock = threading.Lock()

    def get(self, points: DemandPoints, facility_xy: np.ndarray, params: tuple, build):
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
        with self.lock:
            self.entries.clear()


_CATCHMENT_MEMO = _CatchmentMemo()


def cached_demand_points(dataset: Dataset, *, settings: AccessSettings | None = None) -> DemandPoints:
    """:func:`~geo_coverage.population.demand_points` for ``settings``, built once per unit frame
    (datasets that differ only in facilities share it)."""
    return _DEMAND_MEMO.get(dataset, settings or AccessSettings())


def point_measures(dataset: Dataset, indicator: Indicator, *, settings: AccessSettings | None = None,
                   demand: DemandPoints | None = None, plan: Plan | None = None
                   ) -> tuple[DemandPoints, np.ndarray, np.ndarray]:
    """Per demand point: ``(points, population of the group, numerator share)``.

    For ``access`` the numerator per point is its population if covered, else 0; for
    ``accessible_ratio`` it is population × 2SFCA accessibility.  The points are those used (a
    coarser grid for wide 2SFCA catchments).  Maps use this to show who is not covered.
    """
    measured = _measure(dataset, indicator, settings=settings, demand=demand, plan=plan)
    points = measured.points
    population = points.weight(measured.column)
    if measured.covered is not None:
        return points, population, np.where(measured.covered.mask, population, 0.0)
    numerator = np.zeros(len(points))
    if measured.reached is not None:
        numerator[measured.reached] = measured.values
    return points, population, numerator


@dataclass(frozen=True)
class _Measured:
    """An access indicator measured on ``points``: for ``access`` the covered mask; for 2SFCA the
    points some facility reaches (``reached``, ``None`` without facilities) and population ×
    accessibility there (``values``)."""

    points: DemandPoints
    column: str
    covered: "_Covered | None" = None
    reached: np.ndarray | None = None
    values: np.ndarray | None = None


def _measure(dataset: Dataset, indicator: Indicator, *, settings: AccessSettings | None,
             demand: DemandPoints | None, plan: Plan | None) -> _Measured:
    from .coverage import COUNTED_STATUSES, facility_values

    settings = settings or AccessSettings()
    if indicator.type not in ("access", "accessible_ratio"):
        raise DataError(f"Indicator '{indicator.id}' is of type '{indicator.type}', not an access type.")
    if plan is None:
        from .plan import default_plan

        plan = default_plan()
    column = plan.population_column(indicator.population)
    if demand is None:
        demand = demand_points(dataset, resolution_m=settings.resolution_m, raster=settings.raster)
    max_cost, weight = settings.catchment(indicator)
    _check_network_crs(settings, dataset)
    frame = dataset.layer(indicator.layer)
    if frame is not None and "status" in frame:
        frame = frame[frame["status"].isin(COUNTED_STATUSES)]
    facility_xy, present = (facility_points(frame) if frame is not None
                            else (np.zeros((0, 2)), np.zeros(0, dtype=np.int64)))

    if indicator.type == "access":
        if column not in demand.weights:
            demand.weight(column)  # (the error naming the column, even where nobody is covered)
        origins = demand.tree() if settings.network is None else demand.xy
        covered = _CATCHMENT_MEMO.get(
            demand, facility_xy, ("access", max_cost, weight, indicator.mode, *_travel(settings)),
            lambda: _Covered(coverage_within(origins, facility_xy, max_cost=max_cost, weight=weight,
                                             mode=indicator.mode, settings=settings)))
        return _Measured(demand, column, covered=covered)

    supply = facility_values(frame.iloc[present], indicator.numerator) if frame is not None \
        else np.zeros(0)
    useful = supply > 0
    facility_xy, supply = facility_xy[useful], supply[useful]
    radius = settings.straight_radius_m(max_cost, weight=weight, mode=indicator.mode)
    steps = int(radius / (settings.demand_cells_per_radius * demand.resolution_m))
    points = demand.coarsened(steps * demand.resolution_m) if steps >= 2 else demand
    population = points.weight(column)
    if len(facility_xy) == 0:
        return _Measured(points, column)
    decay_name = settings.decay(indicator)

    def build():
        costs = pair_costs(points.tree() if settings.network is None else points.xy, facility_xy,
                           max_cost=max_cost, weight=weight, mode=indicator.mode, settings=settings)
        decay = decay_from_name(decay_name, max_cost=max_cost)
        return _Catchment(costs, max_cost=max_cost, decay=decay)

    params = ("2sfca", max_cost, weight, indicator.mode, decay_name, *_travel(settings))
    catchment = _CATCHMENT_MEMO.get(points, facility_xy, params, build)
    reached_population = population[catchment.reached]
    accessibility = catchment.two_step(reached_population, supply)
    return _Measured(points, column, reached=catchment.reached,
                     values=reached_population * accessibility)


class _Covered:
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


class _Catchment:
    """The demand × facility weights ``w(c_ij)`` of the pairs within the catchment, kept for the
    demand points that reach some facility only (``reached``, their positions; the matrix rows
    follow them).  Read-only; population and supply enter only in :meth:`two_step`."""

    def __init__(self, costs: CostTable, *, max_cost: float, decay: Decay):
        from scipy import sparse

        inside = costs.costs <= max_cost
        origins = costs.origins[inside]
        reached = np.flatnonzero(np.bincount(origins, minlength=costs.n_origins))  # (no sort)
        row_of = np.zeros(costs.n_origins, dtype=np.int64)
        row_of[reached] = np.arange(len(reached))
        weights = np.asarray(decay(costs.costs[inside]), dtype=float)
        self.reached = _read_only(reached)
        self.matrix = sparse.csr_matrix((weights, (row_of[origins], costs.destinations[inside])),
                                        shape=(len(reached), costs.n_destinations))
        for array in (self.matrix.data, self.matrix.indices, self.matrix.indptr):
            array.setflags(write=False)
        self.nbytes = int(self.reached.nbytes + self.matrix.data.nbytes + self.matrix.indices.nbytes
                          + self.matrix.indptr.nbytes)

    def two_step(self, demand: np.ndarray, supply: np.ndarray) -> np.ndarray:
        """:func:`two_step_fca` at the reached points (``demand`` is theirs): ``R = S / (Wᵀ P)``
        (0 where no one competes), ``A = W R``: two sparse products."""
        competing = self.matrix.T @ np.asarray(demand, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(competing > 0, np.asarray(supply, dtype=float) / competing, 0.0)
        return self.matrix @ ratio


def _travel(settings: AccessSettings) -> tuple:
    """What, besides the catchment, decides costs: detour, speeds, the road network (by identity)."""
    return (float(settings.detour_factor), float(settings.walk_speed_kmh),
            float(settings.drive_speed_kmh), settings.network)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _check_network_crs(settings: AccessSettings, dataset: Dataset) -> None:
    from pyproj import CRS

    if settings.network is not None and CRS.from_user_input(settings.network.crs) != CRS.from_user_input(dataset.crs):
        raise DataError(f"The road network is in {settings.network.crs}, the dataset in {dataset.crs}.",
                        fix="Load the network with crs=dataset.crs (e.g. network_from_file(path, crs=dataset.crs)).")


def catchment_outlines(dataset: Dataset, indicator: Indicator, *, facility_ids=None,
                       settings: AccessSettings | None = None):
    """The catchment of each facility of the indicator's layer as a polygon (for maps).

    Straight line: a disc of the catchment ÷ detour.  Road network: the convex hull of the nodes
    within the catchment from the facility (snap walk included), widened by half a block (50 m) so
    a single street stays visible.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id`` and geometry in the dataset's CRS, one row per facility found.
    """
    import geopandas as gpd

    settings = settings or AccessSettings()
    max_cost, weight = settings.catchment(indicator)
    frame = dataset.layer(indicator.layer)
    if frame is None:
        return gpd.GeoDataFrame({"id": []}, geometry=[], crs=dataset.crs)
    if facility_ids is not None:
        frame = frame[frame["id"].isin([str(i) for i in facility_ids])]
    xy, present = facility_points(frame)
    ids = frame["id"].to_numpy(dtype=object)[present]
    if settings.network is None:
        radius = settings.straight_radius_m(max_cost, weight=weight, mode=indicator.mode)
        geometries = shapely.buffer(shapely.points(xy), radius) if len(xy) else np.zeros(0, dtype=object)
        return gpd.GeoDataFrame({"id": ids}, geometry=geometries, crs=dataset.crs)
    _check_network_crs(settings, dataset)
    network = settings.network
    node_xy = np.column_stack([network.x, network.y])
    costs = network_costs(network, node_xy, xy, max_cost=max_cost, weight=weight, mode=indicator.mode,
                          speed_kmh=settings.speed_kmh) if len(xy) else None
    geometries = []
    for position in range(len(xy)):
        reached = costs.origins[costs.destinations == position]
        points = shapely.multipoints(np.vstack([node_xy[reached], xy[position:position + 1]]))
        geometries.append(shapely.buffer(shapely.convex_hull(points), 50.0))
    return gpd.GeoDataFrame({"id": ids}, geometry=geometries, crs=dataset.crs)


def unit_measures(dataset: Dataset, indicator: Indicator, *, settings: AccessSettings | None = None,
                  demand: DemandPoints | None = None, plan: Plan | None = None) -> pd.DataFrame:
    """Numerator and denominator of an access indicator for every finest unit.

    Parameters
    ----------
    dataset
        Units and facility layers (metric CRS).
    indicator
        An ``access`` or ``accessible_ratio`` indicator.
    settings
        :class:`AccessSettings` (default: straight line × 1.3, 100 m grid).
    demand
        Demand points to reuse (cache them per dataset); built from ``settings`` if ``None``.
    plan
        The plan naming the indicator's population column (default: the shipped plan).

    Returns
    -------
    pandas.DataFrame
        Indexed by the finest units' codes (streets, else districts), columns ``numerator`` and
        ``denominator``.  ``access``: residents of the group within the catchment of the nearest
        facility, and the group's population.  ``accessible_ratio``: Σ population × 2SFCA
        accessibility (supply per person) and the group's population, so numerator ÷ denominator
        × 1,000 is the population-weighted reachable supply per 1,000.  Both add up across units.
    """
    measured = _measure(dataset, indicator, settings=settings, demand=demand, plan=plan)
    points, column = measured.points, measured.column
    n_units = len(points.unit_codes)
    if measured.covered is not None:
        numerator = measured.covered.unit_sums(points, column)
    elif measured.reached is not None:
        numerator = np.bincount(points.unit_index[measured.reached], weights=measured.values,
                                minlength=n_units)
    else:
        numerator = np.zeros(n_units)
    return pd.DataFrame({"numerator": numerator, "denominator": points.unit_sums(column)},
                        index=pd.Index(points.unit_codes, name="code"))


# --- bring-your-own-matrix ------------------------------------------------------------------------


def _id_column(frame: pd.DataFrame, column: str, origin) -> np.ndarray:
    if column not in frame:
        raise DataError(f"Missing column '{column}'.", file=origin, column=column,
                        fix=f"Name the id column with the matching option (columns: {', '.join(map(str, frame.columns))}).")
    ids = frame[column].astype(str).str.strip().to_numpy(dtype=object)
    blank = ids == ""
    if blank.any():
        raise DataError("Empty id.", file=origin, row=int(np.flatnonzero(blank)[0]) + 2, column=column)
    return ids


def _value_column(frame: pd.DataFrame, column: str, origin) -> np.ndarray:
    if column not in frame:
        raise DataError(f"Missing column '{column}'.", file=origin, column=column,
                        fix=f"Name the value column with the matching option (columns: {', '.join(map(str, frame.columns))}).")
    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"'{frame[column].iloc[row]}' is not a number of zero or more.", file=origin,
                        row=row + 2, column=column, fix="Use plain non-negative numbers (a dot for decimals).")
    return values


def _positions(ids: np.ndarray, known: pd.Index, *, origin, column: str, what: str) -> np.ndarray:
    found = known.get_indexer(ids)
    if (found < 0).any():
        row = int(np.flatnonzero(found < 0)[0])
        raise DataError(f"Unknown {what} id '{ids[row]}'.", file=origin, row=row + 2, column=column,
                        fix=f"Every {what} id in the costs must appear in the {what} file.")
    return found


def _unique_index(ids: np.ndarray, *, origin, column: str) -> pd.Index:
    duplicated = pd.Series(ids).duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise DataError(f"Duplicate id '{ids[row]}'.", file=origin, row=row + 2, column=column,
                        fix="Give every location one row.")
    return pd.Index(ids)


def accessibility_from_tables(demand: pd.DataFrame, supply: pd.DataFrame, costs: pd.DataFrame, *,
                              method: str = "2sfca", max_cost: float, decay: str | None = None,
                              demand_id: str = "id", demand_value: str = "population",
                              supply_id: str = "id", supply_value: str = "supply",
                              cost_origin: str = "origin_id", cost_destination: str = "destination_id",
                              cost_value: str = "cost", origins: Mapping[str, object] | None = None
                              ) -> pd.DataFrame:
    """2SFCA / E2SFCA from text tables (a planner's own travel-time matrix).

    Parameters
    ----------
    demand, supply, costs
        Tables read as text (ids keep leading zeros).  Costs are long form, origin = demand id,
        destination = supply id; pairs absent are out of reach.
    method
        ``2sfca`` (decay default ``step``: 1 within ``max_cost``) or ``e2sfca`` (default: PySAL's
        stepped weights scaled to ``max_cost``).
    decay
        ``step`` | ``gaussian`` | ``gravity`` (see :func:`decay_from_name`), overriding the default.
    origins
        ``{'demand': path, 'supply': path, 'costs': path}`` for error messages.

    Returns
    -------
    pandas.DataFrame
        ``id, accessibility``: one row per demand id in file order, 0 where nothing is in reach.
    """
    where = dict(origins or {})
    if method not in ("2sfca", "e2sfca"):
        raise DataError(f"Unknown method '{method}'.", fix="Use 2sfca or e2sfca.")
    if not (np.isfinite(max_cost) and max_cost > 0):
        raise DataError(f"--max-cost {max_cost} must be a positive number.")
    demand_ids = _id_column(demand, demand_id, where.get("demand"))
    demand_index = _unique_index(demand_ids, origin=where.get("demand"), column=demand_id)
    population = _value_column(demand, demand_value, where.get("demand"))
    supply_ids = _id_column(supply, supply_id, where.get("supply"))
    supply_index = _unique_index(supply_ids, origin=where.get("supply"), column=supply_id)
    capacity = _value_column(supply, supply_value, where.get("supply"))
    origin = _positions(_id_column(costs, cost_origin, where.get("costs")), demand_index,
                        origin=where.get("costs"), column=cost_origin, what="demand")
    destination = _positions(_id_column(costs, cost_destination, where.get("costs")), supply_index,
                             origin=where.get("costs"), column=cost_destination, what="supply")
    cost = _value_column(costs, cost_value, where.get("costs"))
    table = CostTable.from_arrays(origin, destination, cost, n_origins=len(demand_ids),
                                  n_destinations=len(supply_ids))
    if decay is not None:
        weight = decay_from_name(decay, max_cost=max_cost)
    elif method == "e2sfca":
        weight = step_decay(_e2sfca_steps(max_cost))
    else:
        weight = None
    values = two_step_fca(population, capacity, table, max_cost=max_cost, decay=weight)
    return pd.DataFrame({"id": demand_ids, "accessibility": values})
