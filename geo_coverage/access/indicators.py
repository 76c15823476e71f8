"""Access indicators of a dataset: the coverage engine's hook and the maps' per-cell view.

* ``access``: the share of a population group living within a catchment of the nearest facility.
* ``accessible_ratio``: population-weighted 2SFCA / E2SFCA accessibility (supply per person).

Both are measured on demand points (:mod:`geo_coverage.population`) and summed to the finest
units, so streets add up to districts and districts to the city.  What depends on positions alone
(covered masks, catchment matrices) is kept in :data:`~geo_coverage.access.memo.CATCHMENT_MEMO`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..catchment import (
    CostTable,
    covered_by_any,
    network_costs,
    network_nearest_cost,
    straight_line_costs,
)
from ..dataset import Dataset
from ..errors import DataError
from ..measures import COUNTED_STATUSES, facility_values
from ..plan import Indicator, Plan, default_plan
from ..population import DemandPoints, demand_points
from .decay import decay_from_name
from .fca import SparseCatchment
from .memo import CATCHMENT_MEMO, CoveredPoints
from .settings import AccessSettings

__all__ = ["pair_costs", "coverage_within", "facility_points", "unit_measures", "point_measures",
           "catchment_outlines"]


# The defaults of the functions below (settings are frozen: one instance serves every call).
DEFAULT_SETTINGS = AccessSettings()


def pair_costs(origins, destinations, *, max_cost: float, weight: str = "length", mode: str = "walk",
               settings: AccessSettings = DEFAULT_SETTINGS) -> CostTable:
    """Origin–destination costs within ``max_cost``: on ``settings.network``, else straight line.

    Parameters
    ----------
    origins
        ``(n, 2)`` metric coordinates, or a KD-tree of them (straight-line case).
    destinations
        ``(m, 2)`` metric coordinates.
    max_cost
        Metres for ``weight='length'``, minutes for ``'time'``.
    mode, settings
        Travel mode, and the network, detour and speeds to measure with.

    Returns
    -------
    CostTable
        The pairs within ``max_cost``.
    """
    if settings.network is not None:
        xy = origins.data if hasattr(origins, "query_ball_point") else origins
        return network_costs(settings.network, xy, destinations, max_cost=max_cost, weight=weight,
                             mode=mode, speed_kmh=settings.speed_kmh)
    speed = None if weight == "length" else settings.speed_kmh[mode]
    return straight_line_costs(origins, destinations, max_cost=max_cost,
                               detour_factor=settings.detour_factor, speed_kmh=speed)


def coverage_within(origins, destinations, *, max_cost: float, weight: str = "length",
                    mode: str = "walk", settings: AccessSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Whether each origin is within ``max_cost`` of its nearest destination.

    Straight line: one ball query around the destinations with radius ``max_cost`` ÷ detour
    (``origins`` may be a prebuilt KD-tree).  Network: one multi-source Dijkstra.

    Parameters
    ----------
    origins, destinations, max_cost, weight, mode, settings
        As for :func:`pair_costs`.

    Returns
    -------
    numpy.ndarray
        Boolean, one per origin.
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
    """Coordinates of a layer's facilities that have a location.

    Parameters
    ----------
    frame
        A facility layer (points; any other geometry counts by a point on its surface).

    Returns
    -------
    tuple
        ``(xy, positions)``: ``(n, 2)`` coordinates, and the frame rows they come from.
    """
    geometries = np.asarray(frame.geometry.values, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geometries) | shapely.is_empty(geometries)))
    points = geometries[present]
    not_point = shapely.get_type_id(points) != 0
    if not_point.any():
        points = points.copy()
        points[not_point] = shapely.point_on_surface(points[not_point])
    return np.column_stack([shapely.get_x(points), shapely.get_y(points)]), present


@dataclass(frozen=True)
class _Measured:
    """An access indicator measured on ``points``: for ``access`` the covered mask; for 2SFCA the
    points some facility reaches (``reached``, ``None`` without facilities) and population ×
    accessibility there (``values``)."""

    points: DemandPoints
    column: str
    covered: CoveredPoints | None = None
    reached: np.ndarray | None = None
    values: np.ndarray | None = None


def _check_network_crs(settings: AccessSettings, dataset: Dataset) -> None:
    if settings.network is not None and \
            CRS.from_user_input(settings.network.crs) != CRS.from_user_input(dataset.crs):
        raise DataError(f"The road network is in {settings.network.crs}, the dataset in {dataset.crs}.",
                        fix="Load the network with crs=dataset.crs (e.g. network_from_file(path, crs=dataset.crs)).")


def _measure(dataset: Dataset, indicator: Indicator, *, settings: AccessSettings | None,
             demand: DemandPoints | None, plan: Plan | None) -> _Measured:
    settings = settings or AccessSettings()
    if indicator.type not in ("access", "accessible_ratio"):
        raise DataError(f"Indicator '{indicator.id}' is of type '{indicator.type}', not an access type.")
    if indicator.population is None:
        raise DataError(f"Indicator '{indicator.id}' names no population group.",
                        fix="Give it 'population' in the plan.")
    column = (plan if plan is not None else default_plan()).population_column(indicator.population)
    if demand is None:
        demand = demand_points(dataset, resolution_m=settings.resolution_m, raster=settings.raster)
    catchment = settings.catchment(indicator)
    _check_network_crs(settings, dataset)
    frame = dataset.layer(indicator.layer)
    if frame is not None and "status" in frame:
        frame = frame[frame["status"].isin(COUNTED_STATUSES)]
    measure = _measure_reach if indicator.type == "access" else _measure_two_step
    return measure(frame, indicator, settings, catchment, demand, column)


def _located(frame) -> tuple[np.ndarray, np.ndarray]:
    if frame is None:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    return facility_points(frame)


def _measure_reach(frame, indicator: Indicator, settings: AccessSettings,
                   catchment: tuple[float, str], demand: DemandPoints, column: str) -> _Measured:
    facility_xy, _ = _located(frame)
    max_cost, weight = catchment
    if column not in demand.weights:
        demand.weight(column)  # (the error naming the column, even where nobody is covered)
    origins = demand.tree() if settings.network is None else demand.xy
    covered = CATCHMENT_MEMO.get(
        demand, facility_xy, ("access", max_cost, weight, indicator.mode, *settings.travel_key()),
        lambda: CoveredPoints(coverage_within(origins, facility_xy, max_cost=max_cost, weight=weight,
                                              mode=indicator.mode, settings=settings)))
    return _Measured(demand, column, covered=covered)


def _measure_two_step(frame, indicator: Indicator, settings: AccessSettings,
                      catchment: tuple[float, str], demand: DemandPoints, column: str) -> _Measured:
    facility_xy, present = _located(frame)
    max_cost, weight = catchment
    if indicator.numerator is None:
        raise DataError(f"Indicator '{indicator.id}' names no supply to share.",
                        fix="Give it a 'numerator' (a facility count or attribute) in the plan.")
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
        return SparseCatchment(costs, max_cost=max_cost, decay=decay_from_name(decay_name, max_cost=max_cost))

    params = ("2sfca", max_cost, weight, indicator.mode, decay_name, *settings.travel_key())
    weights = CATCHMENT_MEMO.get(points, facility_xy, params, build)
    reached_population = population[weights.reached]
    accessibility = weights.two_step(reached_population, supply)
    return _Measured(points, column, reached=weights.reached,
                     values=reached_population * accessibility)


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


def point_measures(dataset: Dataset, indicator: Indicator, *, settings: AccessSettings | None = None,
                   demand: DemandPoints | None = None, plan: Plan | None = None
                   ) -> tuple[DemandPoints, np.ndarray, np.ndarray]:
    """Per demand point: the group's population and its share of the numerator.

    Parameters
    ----------
    dataset, indicator, settings, demand, plan
        As for :func:`unit_measures`.

    Returns
    -------
    tuple
        ``(points, population, numerator)``.  For ``access`` the numerator of a point is its
        population if covered, else 0; for ``accessible_ratio`` population × 2SFCA accessibility.
        The points are those used (a coarser grid for wide 2SFCA catchments).  Maps use this to
        show who is not covered.
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


def catchment_outlines(dataset: Dataset, indicator: Indicator, *, facility_ids=None,
                       settings: AccessSettings | None = None) -> gpd.GeoDataFrame:
    """The catchment of each facility of the indicator's layer as a polygon (for maps).

    Straight line: a disc of the catchment ÷ detour.  Road network: the convex hull of the nodes
    within the catchment from the facility (snap walk included), widened by half a block (50 m) so
    a single street stays visible.

    Parameters
    ----------
    dataset, indicator, settings
        As for :func:`unit_measures`.
    facility_ids
        Only these facilities (default: all of the layer).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id`` and geometry in the dataset's CRS, one row per facility found.
    """
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
    if not len(xy):
        return gpd.GeoDataFrame({"id": ids}, geometry=[], crs=dataset.crs)
    network = settings.network
    node_xy = np.column_stack([network.x, network.y])
    costs = network_costs(network, node_xy, xy, max_cost=max_cost, weight=weight, mode=indicator.mode,
                          speed_kmh=settings.speed_kmh)
    geometries = []
    for position in range(len(xy)):
        reached = costs.origins[costs.destinations == position]
        points = shapely.multipoints(np.vstack([node_xy[reached], xy[position:position + 1]]))
        geometries.append(shapely.buffer(shapely.convex_hull(points), 50.0))
    return gpd.GeoDataFrame({"id": ids}, geometry=geometries, crs=dataset.crs)
