"""Propose sites for new facilities of a plan's indicator on a dataset, as scenario edits.

This is the glue between the coverage engine and :mod:`geo_coverage.optimize`: it turns an
indicator into a siting instance (who needs what, where the candidates are, what already exists)
and the solution into "add facility" edits a planner can accept into a scenario
(:func:`solution_to_edits`).

* ``access`` indicators (share of residents within a catchment) use the point models: demand is the
  population grid of the indicator's group (merged to a quarter of the catchment radius), costs are
  straight-line distances within the catchment, and existing facilities are already open.
  Default model: maximal coverage.
* ``ratio`` and ``count`` indicators use capacity-gap siting: the need of each unit is its
  shortfall in the current table, and a new facility adds its capacity to the unit it stands in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .access import AccessSettings, cached_demand_points
from .coverage import COUNTED_STATUSES, evaluate
from .dataset import Dataset, assign_points
from .errors import ScenarioError
from .importers import ImportResult, parse_facilities
from .optimize import (
    LSCP,
    MCLP,
    CapacityGap,
    PCenter,
    PMedian,
    Solution,
    grid_candidates,
    layer_candidates,
    solution_to_edits,
    table_candidates,
)
from .optimize.base import SitingModel
from .plan import Indicator, Plan

__all__ = [
    "Proposal",
    "propose_sites",
    "candidate_sites",
    "read_candidates",
    "solution_to_edits",
    "MODELS",
    "POINT_MODELS",
]

POINT_MODELS: dict[str, type[SitingModel]] = {
    "mclp": MCLP,
    "lscp": LSCP,
    "pmedian": PMedian,
    "pcenter": PCenter,
}
MODELS = tuple(POINT_MODELS) + ("capacity_gap",)


@dataclass(frozen=True)
class Proposal:
    """A solved siting instance and the edits it suggests.

    Attributes
    ----------
    solution
        The optimiser's frozen :class:`~geo_coverage.optimize.Solution`.
    candidates
        The candidate sites it chose from (dataset CRS), ``id`` column.
    edits
        One ``{"action": "add", ...}`` dict per chosen site (see
        :func:`scenario.scenario_from_edits`).
    model, indicator, kind
        What was solved.
    """

    solution: Solution
    candidates: gpd.GeoDataFrame
    edits: tuple
    model: str
    indicator: str
    kind: str


def _unit_filter(dataset: Dataset, codes) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Street codes and district codes chosen by a mix of street and district codes."""
    if not codes:
        return None, None
    codes = [str(code) for code in codes]
    districts = dataset.units_at("district").index
    streets = dataset.units["street"].index if "street" in dataset.units else pd.Index([])
    unknown = [code for code in codes if code not in districts and code not in streets]
    if unknown:
        raise ScenarioError(
            f"Unknown unit code '{unknown[0]}'.",
            fix="Give district or street codes (see `geo-coverage report --level street`).",
        )
    return (
        np.array([c for c in codes if c in streets], dtype=object),
        np.array([c for c in codes if c in districts], dtype=object),
    )


def _inside(frame: pd.DataFrame, streets, districts) -> np.ndarray:
    if streets is None:
        return np.ones(len(frame), dtype=bool)
    return np.isin(frame["street_code"].astype(str).to_numpy(), streets) | np.isin(
        frame["district_code"].astype(str).to_numpy(), districts
    )


def _grid_sites(dataset: Dataset, streets, districts, *, spacing: float) -> gpd.GeoDataFrame:
    """A grid inside the finest units, only in the chosen ones."""
    level = "street" if "street" in dataset.units else "district"
    frame = dataset.units[level]
    chosen = None
    if streets is not None:
        chosen = frame.index[
            _inside(
                frame.assign(
                    street_code=frame.index if level == "street" else "",
                    district_code=frame["parent_code"] if level == "street" else frame.index,
                ),
                streets,
                districts,
            )
        ]
    return grid_candidates(frame, spacing=spacing, unit_codes=chosen)


def _off_edges(
    dataset: Dataset, sites: gpd.GeoDataFrame, street: np.ndarray, district: np.ndarray
) -> np.ndarray:
    """Sites more than a metre from the edge of the unit they fall in.

    A site within a metre of a unit edge could land in either unit once written as lon/lat and
    read back; such sites are left out so a proposal is counted where the optimiser credited it.
    """
    level, codes = ("street", street) if "street" in dataset.units else ("district", district)
    outlines = dataset.units[level].geometry.reindex(codes).to_numpy()
    known = pd.notna(outlines)
    edge = np.zeros(len(sites), dtype=bool)
    edge[known] = (
        shapely.distance(sites.geometry.to_numpy()[known], shapely.boundary(outlines[known])) < 1.0
    )
    return ~edge


def candidate_sites(
    dataset: Dataset, *, candidates="grid", units=None, spacing: float = 500.0
) -> gpd.GeoDataFrame:
    """Candidate sites for new facilities, inside the chosen units.

    Sites outside every unit, or within a metre of a unit's edge (ambiguous), are left out.

    Parameters
    ----------
    dataset
        The data (its CRS is used).
    candidates
        ``"grid"`` (a regular grid inside the units), ``"layer:KIND"`` (a layer's points, e.g.
        public venues), a GeoDataFrame of points, or a DataFrame with ``id``, ``lon``, ``lat``
        (WGS84).
    units
        District and/or street codes to keep candidates in (default: everywhere).
    spacing
        Grid spacing in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``street_code``, ``district_code`` and point geometry in the dataset's CRS.

    Raises
    ------
    ScenarioError
        An unknown unit code, candidate layer or kind of candidates.
    """
    streets, districts = _unit_filter(dataset, units)
    if isinstance(candidates, str) and candidates == "grid":
        sites = _grid_sites(dataset, streets, districts, spacing=spacing)
    elif isinstance(candidates, str) and candidates.startswith("layer:"):
        kind = candidates.split(":", 1)[1]
        layer = dataset.layer(kind)
        if layer is None:
            raise ScenarioError(
                f"No '{kind}' layer to take candidates from.",
                fix=f"Use one of: {', '.join(sorted(dataset.layers))}.",
            )
        sites = layer_candidates(layer[_inside(layer, streets, districts)])
        return sites[["id", "street_code", "district_code", "geometry"]]
    elif isinstance(candidates, gpd.GeoDataFrame):
        sites = layer_candidates(candidates, crs=dataset.crs)
    elif isinstance(candidates, pd.DataFrame):
        sites = table_candidates(candidates, crs=dataset.crs)
    else:
        raise ScenarioError(
            f"Unknown candidates {candidates!r}.",
            fix="Use 'grid', 'layer:KIND' or a table with id, lon and lat.",
        )
    street, district = assign_points(sites.geometry.values, dataset.units)
    sites = sites.assign(street_code=street, district_code=district)
    keep = (district != "") & _inside(sites, streets, districts)
    keep[keep] = _off_edges(dataset, sites[keep], street[keep], district[keep])
    return sites[keep].reset_index(drop=True)


def read_candidates(
    payload: bytes, *, name: str, dataset: Dataset, kind: str, datum: str | None = None
) -> ImportResult:
    """Candidate sites from an uploaded CSV/XLSX, checked like a facility register of ``kind``.

    Parameters
    ----------
    payload
        The file's bytes (id, lon/lat or 经度/纬度…, UTF-8 or GBK).
    name
        The file name, for messages and the format.
    dataset
        The data the sites are for (its districts locate them).
    kind
        The facility kind the sites are for.
    datum
        The coordinates' datum (``"wgs84"``, ``"gcj02"``, ``"bd09"``); guessed when ``None``.

    Returns
    -------
    ImportResult
        Its frame (WGS84 points) is what :func:`propose_sites` takes as ``candidates``; its
        problems name rows and columns.  A missing name column is no problem here (candidates
        need no names).
    """
    result = parse_facilities(
        payload,
        name=name,
        kind=kind,
        attributes={},
        datum=datum,
        units=dataset.units.get("district"),
    )
    kept = tuple(p for p in result.problems if not (p.severity == "warning" and p.column == "name"))
    return ImportResult(result.frame, kept, result.report)


def _capacity_gap(
    dataset: Dataset,
    plan: Plan,
    ind: Indicator,
    sites: gpd.GeoDataFrame,
    *,
    capacity: float,
    new_sites: int,
    streets,
    districts,
    time_limit: float | None,
) -> Solution:
    """Capacity-gap siting: a unit's shortfall is its need; a site serves the unit it is in."""
    level = "street" if "street" in ind.levels and "street" in dataset.units else "district"
    table = evaluate(dataset, plan, levels=[level], indicators=[ind.id], include_companions=False)
    unit_frame = dataset.units[level]
    need = table.set_index("unit_code")["shortfall"].reindex(unit_frame.index).fillna(0.0)
    # Each candidate serves the unit the scenario will count it in (assign_points), so a site on
    # a shared edge is credited where it will be counted.
    column = "street_code" if level == "street" else "district_code"
    unit_of_site = unit_frame.index.get_indexer(sites[column].astype(str))
    keep = unit_of_site >= 0
    if streets is not None:
        parents = (
            unit_frame["parent_code"]
            if level == "street"
            else pd.Series(unit_frame.index, unit_frame.index)
        )
        chosen = np.isin(unit_frame.index.to_numpy(dtype=object), streets) | np.isin(
            parents.to_numpy(dtype=object), districts
        )
        keep &= chosen[np.clip(unit_of_site, 0, None)]
    pairs = (
        unit_of_site[keep].astype(np.int64),
        np.flatnonzero(keep).astype(np.int64),
        np.zeros(int(keep.sum())),
    )
    model = CapacityGap.from_cost_matrix(
        pairs,
        need.to_numpy(dtype=float),
        capacity=float(capacity),
        facilities=int(new_sites),
        demand_ids=list(unit_frame.index.astype(str)),
        candidate_ids=list(sites["id"].astype(str)),
    )
    return model.solve(time_limit=time_limit)


def _point_model(
    dataset: Dataset,
    plan: Plan,
    ind: Indicator,
    sites: gpd.GeoDataFrame,
    *,
    model: str,
    new_sites: int,
    settings: AccessSettings,
    streets,
    districts,
    time_limit: float | None,
) -> Solution:
    """A point model: demand is the group's population grid, existing facilities are open."""
    if ind.type != "access":
        raise ScenarioError(
            f"The {model} model needs an access indicator; '{ind.id}' is {ind.type}.",
            fix="Use --model capacity_gap for ratio and count indicators.",
        )
    if ind.population is None:  # load_plan requires one; an Indicator built in code may lack it
        raise ScenarioError(
            f"Indicator '{ind.id}' names no population group to serve.",
            fix="Give the indicator a population group (see the plan's populations).",
        )
    max_cost, weight = settings.catchment(ind)
    radius = settings.straight_radius_m(max_cost, weight=weight, mode=ind.mode)
    points = cached_demand_points(dataset, settings=settings)
    points = points.coarsened(max(points.resolution_m, radius / 4.0))
    population = points.weight(plan.population_column(ind.population))
    demand = gpd.GeoDataFrame(
        {
            "id": np.arange(len(points)).astype(str),
            "street_code": points.street_code,
            "district_code": points.district_code,
            "weight": population,
        },
        geometry=gpd.points_from_xy(points.x, points.y),
        crs=dataset.crs,
    )
    demand = demand[_inside(demand, streets, districts) & (population > 0)]
    layer = dataset.layer(ind.layer)
    existing = None
    if layer is not None and len(layer):
        counted = layer[layer["status"].isin(COUNTED_STATUSES)]
        existing = gpd.GeoDataFrame(
            {"id": "existing:" + counted["id"].astype(str)},
            geometry=counted.geometry.values,
            crs=dataset.crs,
        )
    options: dict[str, Any] = {} if model == "lscp" else {"facilities": int(new_sites)}
    return (
        POINT_MODELS[model]
        .from_geodataframes(
            demand,
            sites,
            weight_column="weight",
            max_cost=radius,
            existing=existing,
            demand_id_column="id",
            candidate_id_column="id",
            **options,
        )
        .solve(time_limit=time_limit)
    )


def _checked_capacity(ind: Indicator, capacity: float | None) -> float:
    if ind.type not in ("ratio", "count"):
        raise ScenarioError(
            f"Capacity-gap siting needs a ratio or count indicator; '{ind.id}' is {ind.type}.",
            fix="Use --model mclp for access indicators.",
        )
    if capacity is None:
        if ind.type == "ratio":
            raise ScenarioError(
                f"Give the capacity of one new facility for '{ind.id}' ({ind.shortfall_unit}).",
                fix="Add --capacity, e.g. 300.",
            )
        capacity = 1.0
    if not np.isfinite(capacity) or capacity <= 0:
        raise ScenarioError(f"The capacity must be a positive number, not {capacity!r}.")
    return capacity


def _checked_request(
    plan: Plan, indicator: str, *, kind: str | None, new_sites: int, model: str | None
) -> tuple[Indicator, str, str]:
    """The indicator, the kind (its layer) and the model (default by the indicator's type)."""
    ind = plan.indicator(indicator)
    kind = kind or ind.layer
    if kind != ind.layer:
        raise ScenarioError(
            f"Indicator '{ind.id}' counts '{ind.layer}', not '{kind}'.",
            fix=f"Use --kind {ind.layer}, or an indicator of '{kind}'.",
        )
    if isinstance(new_sites, bool) or int(new_sites) != new_sites or new_sites < 1:
        raise ScenarioError(
            f"The number of new sites must be a whole number ≥ 1, not {new_sites!r}."
        )
    model = model or ("mclp" if ind.type == "access" else "capacity_gap")
    if model not in MODELS:
        raise ScenarioError(f"Unknown model '{model}'.", fix=f"Use one of: {', '.join(MODELS)}.")
    return ind, kind, model


def propose_sites(
    dataset: Dataset,
    plan: Plan,
    *,
    indicator: str,
    new_sites: int,
    kind: str | None = None,
    capacity: float | None = None,
    candidates="grid",
    units=None,
    model: str | None = None,
    spacing: float = 500.0,
    access_settings: AccessSettings | None = None,
    time_limit: float | None = 60.0,
    attributes=None,
) -> Proposal:
    """Where to put ``new_sites`` facilities to serve ``indicator`` best.

    Parameters
    ----------
    dataset, plan
        The base data and plan.
    indicator
        The indicator to improve (its layer is the kind added).
    new_sites
        How many new facilities.
    kind
        The facility kind (default: the indicator's layer; anything else is an error).
    capacity
        Capacity of each new facility for capacity-gap siting (e.g. 300 beds); default 1 for
        count indicators.  Written into the edits as the indicator's summed attribute.
    candidates, units, spacing
        Where new sites may go (see :func:`candidate_sites`).
    model
        One of :data:`MODELS`; default ``mclp`` for access indicators, ``capacity_gap`` otherwise.
    access_settings
        :class:`~geo_coverage.access.AccessSettings` (catchments, detour, grid).
    time_limit
        Seconds HiGHS may take; the best solution so far is returned after that.
    attributes
        Extra attributes for every new facility.

    Returns
    -------
    Proposal
        The solution, the candidates and one "add" edit per chosen site.

    Raises
    ------
    ScenarioError
        The kind, model, number of sites, capacity or units do not fit the indicator, or no
        candidate lies inside the chosen units.
    OptimizationError
        The model has no feasible solution (e.g. too few sites for p-median within reach).
    """
    ind, kind, model = _checked_request(
        plan, indicator, kind=kind, new_sites=new_sites, model=model
    )
    values = dict(attributes or {})
    sites = candidate_sites(dataset, candidates=candidates, units=units, spacing=spacing)
    if sites.empty:
        raise ScenarioError(
            "No candidate sites inside the chosen units.",
            fix="Choose other units, a finer grid or another candidate layer.",
        )
    streets, districts = _unit_filter(dataset, units)
    if model == "capacity_gap":
        capacity = _checked_capacity(ind, capacity)
        solved = _capacity_gap(
            dataset,
            plan,
            ind,
            sites,
            capacity=capacity,
            new_sites=new_sites,
            streets=streets,
            districts=districts,
            time_limit=time_limit,
        )
        if ind.numerator is not None and ind.numerator.sum:
            values.setdefault(ind.numerator.sum, float(capacity))
    else:
        solved = _point_model(
            dataset,
            plan,
            ind,
            sites,
            model=model,
            new_sites=new_sites,
            settings=access_settings or AccessSettings(),
            streets=streets,
            districts=districts,
            time_limit=time_limit,
        )
    edits = solution_to_edits(solved, sites, kind=kind, attributes=values)
    return Proposal(
        solution=solved,
        candidates=sites,
        edits=tuple(edits),
        model=model,
        indicator=ind.id,
        kind=kind,
    )
