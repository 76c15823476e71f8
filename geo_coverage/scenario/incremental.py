"""Re-evaluating a scenario by recomputing only what its edits touched.

Ratio, share and count numerators change by the added, removed or resized facilities alone;
2SFCA accessibility is a sum over facilities, so its change is the accessibility of the changed
facilities alone; reach ("access") indicators change only at demand points within a catchment of a
changed facility.  After population growth the base's demand points are rescaled unit by unit
(never rebuilt; same positions), so the covered masks and 2SFCA catchment matrices the access
module cached for the base are reused: reach numerators scale with their unit, 2SFCA redoes two
sparse products on the new weights, and ratio denominators are the grown populations.  Everything
else is the base table's rows, reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import access
from ..coverage import compare as compare_values
from ..coverage import evaluate, shortfall_of  # the engine's rounding rule, shared on purpose
from ..dataset import Dataset, source_class
from ..errors import DataError
from ..measures import COUNTED_STATUSES, facility_values, missing_attributes
from ..plan import Indicator, Plan
from .model import PopulationChange, Scenario, facility_id

__all__ = ["touched_indicators", "evaluate_scenario"]


def touched_indicators(scenario: Scenario, plan: Plan) -> tuple[str, ...]:
    """Ids of the indicators an edit can change: those of an edited layer, those divided by (or
    reaching) population when population changes, and those with a new target.

    Parameters
    ----------
    scenario, plan
        The edits and the indicators they may touch.

    Returns
    -------
    tuple of str
    """
    kinds = {edit.kind for edit in scenario.edits if not isinstance(edit, PopulationChange)}
    grows = any(isinstance(edit, PopulationChange) for edit in scenario.edits)
    return tuple(ind.id for ind in plan.all_indicators
                 if ind.layer in kinds or ind.id in scenario.targets
                 or (grows and ind.type in ("ratio", "access", "accessible_ratio")))


def evaluate_scenario(base_table: pd.DataFrame, base_dataset: Dataset, new_dataset: Dataset, plan: Plan,
                      scenario: Scenario, *, access_settings=None) -> pd.DataFrame:
    """The coverage table after ``scenario``, recomputing only what its edits touched.

    Parameters
    ----------
    base_table
        :func:`geo_coverage.coverage.evaluate` of ``base_dataset`` (any levels and indicators;
        the result has the same rows).
    base_dataset, new_dataset
        The data before and after :func:`apply`.
    plan, scenario
        The plan evaluated and the scenario applied.
    access_settings
        The :class:`~geo_coverage.access.AccessSettings` the base table was computed with.

    Returns
    -------
    pandas.DataFrame
        Equal (to floating-point rounding) to ``evaluate(new_dataset, plan,
        target_overrides=scenario.targets)`` restricted to the base table's rows.
    """
    table = base_table.copy()
    touched = set(touched_indicators(scenario, plan))
    if not touched:
        return table
    grows = any(isinstance(edit, PopulationChange) for edit in scenario.edits)
    changed = _changed_facilities(scenario, base_dataset, new_dataset)
    positions = table.groupby("indicator", sort=False).indices
    demand = None
    columns: dict[str, np.ndarray] = {}  # updated columns, written back once (cheaper than iloc per block)
    inputs = table[["level", "unit_code", "target", "numerator", "denominator"]]
    for indicator_id, rows_at in positions.items():
        if indicator_id not in touched:
            continue
        indicator = plan.indicator(indicator_id)
        rows = inputs.iloc[rows_at]
        target = scenario.targets.get(indicator_id)
        base_layer, new_layer = base_dataset.layer(indicator.layer), new_dataset.layer(indicator.layer)
        if (indicator.strata_attribute or base_layer is None or new_layer is None
                or missing_attributes(base_layer, indicator) or missing_attributes(new_layer, indicator)
                or (indicator.type == "ratio" and not _has_population(rows, indicator, plan, new_dataset))):
            fresh = _fresh_rows(rows, indicator, new_dataset, plan, target, access_settings)
        else:
            if indicator.type in ("access", "accessible_ratio") and demand is None:
                demand = _demand(base_dataset, new_dataset, grows, access_settings)
            numerator, denominator = _measures(rows, indicator, plan, base_dataset, new_dataset, changed,
                                               grows=grows, demand=demand, settings=access_settings)
            fresh = _refresh(rows, indicator, new_dataset, numerator, denominator, target)
        for column in fresh.columns:
            if column not in columns:
                numeric = pd.api.types.is_float_dtype(table[column].dtype)
                columns[column] = table[column].to_numpy(dtype=float if numeric else object, copy=True)
            columns[column][rows_at] = fresh[column].to_numpy()
    for column, values in columns.items():
        table[column] = pd.Series(values, index=table.index).astype(table[column].dtype)
    return table


def _population_column(plan: Plan, indicator: Indicator) -> str:
    """The population column of a ratio or access indicator (the plan check requires one)."""
    if indicator.population is None:
        raise DataError(f"Indicator '{indicator.id}' names no population group.",
                        fix="Give it 'population' in the plan.")
    return plan.population_column(indicator.population)


def _has_population(rows, indicator: Indicator, plan: Plan, dataset: Dataset) -> bool:
    column = _population_column(plan, indicator)
    return all(column in dataset.units_at(level) for level in set(rows["level"]))


@dataclass(frozen=True)
class _Changed:
    """Per kind, the counted facilities an edit replaced (before) and their replacements (after)."""

    before: Mapping[str, gpd.GeoDataFrame]
    after: Mapping[str, gpd.GeoDataFrame]


def _changed_facilities(scenario: Scenario, base: Dataset, new: Dataset) -> _Changed:
    edited: dict[str, set] = {}
    for edit in scenario.edits:
        if not isinstance(edit, PopulationChange):
            ids = edited.setdefault(edit.kind, set())
            ids.add(facility_id(edit))
    before: dict[str, gpd.GeoDataFrame] = {}
    after: dict[str, gpd.GeoDataFrame] = {}
    for kind, ids in edited.items():
        for side, dataset in ((before, base), (after, new)):
            frame = dataset.layer(kind)
            if frame is not None:
                chosen = frame["id"].astype(str).isin(ids) & frame["status"].isin(COUNTED_STATUSES)
                side[kind] = frame[chosen.to_numpy()]
    return _Changed(MappingProxyType(before), MappingProxyType(after))


def _unit_sums(frame: pd.DataFrame, values: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    """Sum facility values onto the rows' units (each row's level decides street/district/city)."""
    out = np.zeros(len(rows))
    levels = rows["level"].to_numpy()
    for level in np.unique(levels):
        at = levels == level
        if level == "city":
            inside = frame["district_code"].astype(str).to_numpy() != ""
            out[at] = values[inside].sum()
            continue
        column = "street_code" if level == "street" else "district_code"
        sums = pd.Series(values).groupby(frame[column].astype(str).to_numpy()).sum()
        out[at] = sums.reindex(rows["unit_code"].to_numpy()[at], fill_value=0.0).to_numpy()
    return out


def _facility_delta(rows, measure, changed: _Changed, kind: str, *, recorded_for=None) -> np.ndarray:
    delta = np.zeros(len(rows))
    for sign, side in ((1.0, changed.after), (-1.0, changed.before)):
        frame = side.get(kind)
        if frame is not None and len(frame):
            values = facility_values(frame, measure, recorded_for=recorded_for)
            delta += sign * _unit_sums(frame, values, rows)
    return delta


def _population(rows: pd.DataFrame, dataset: Dataset, column: str) -> np.ndarray:
    out = np.full(len(rows), np.nan)
    levels = rows["level"].to_numpy()
    for level in np.unique(levels):
        at = levels == level
        units = dataset.units_at(level)
        out[at] = units[column].reindex(rows["unit_code"].to_numpy()[at]).to_numpy(dtype=float)
    return out


def _measures(rows, indicator: Indicator, plan: Plan, base: Dataset, new: Dataset, changed: _Changed, *,
              grows: bool, demand, settings) -> tuple[np.ndarray, np.ndarray]:
    numerator = rows["numerator"].to_numpy(dtype=float).copy()
    denominator = rows["denominator"].to_numpy(dtype=float).copy()
    edited = indicator.layer in changed.before or indicator.layer in changed.after
    if indicator.type in ("ratio", "share", "count"):
        if edited:
            numerator += _facility_delta(rows, indicator.numerator, changed, indicator.layer)
            if indicator.type == "share":
                denominator += _facility_delta(rows, indicator.denominator, changed, indicator.layer,
                                               recorded_for=indicator.numerator)
        if indicator.type == "ratio" and grows:
            denominator = _population(rows, new, _population_column(plan, indicator))
        return numerator, denominator
    if indicator.type == "accessible_ratio" and not grows:
        # 2SFCA is a sum over facilities, each one's ratio depending only on its own supply and
        # the (unchanged) population: the change is the accessibility of the changed ones alone.
        if edited:
            delta = None
            for sign, side, dataset in ((1.0, changed.after, new), (-1.0, changed.before, base)):
                frame = side.get(indicator.layer)
                if frame is None or not len(frame):
                    continue
                alone = replace(dataset, layers=MappingProxyType({indicator.layer: frame}))
                part = access.unit_measures(alone, indicator, settings=settings, demand=demand, plan=plan)
                delta = sign * part["numerator"] if delta is None else delta + sign * part["numerator"]
            if delta is not None:
                numerator += _roll_up(delta, rows, new)
        return numerator, denominator
    if indicator.type == "access" and not grows:
        if edited:
            numerator += _roll_up(_reach_delta(indicator, plan, base, new, changed, demand, settings), rows, new)
        return numerator, denominator
    finest = access.unit_measures(new, indicator, settings=settings, demand=demand, plan=plan)
    return _roll_up(finest["numerator"], rows, new), _roll_up(finest["denominator"], rows, new)


def _reach_delta(indicator: Indicator, plan: Plan, base: Dataset, new: Dataset, changed: _Changed, demand,
                 settings) -> pd.Series:
    """Change in residents within reach, per finest unit, from the demand points near the changed
    facilities only: a point further than the catchment from every added or removed facility is
    covered exactly as before."""
    settings = settings or access.AccessSettings()
    frames = [side[indicator.layer] for side in (changed.before, changed.after) if indicator.layer in side]
    changed_xy = np.concatenate([access.facility_points(frame)[0] for frame in frames]) if frames \
        else np.zeros((0, 2))
    out = pd.Series(0.0, index=pd.Index(demand.unit_codes, name="code"))
    if not len(changed_xy):
        return out
    max_cost, weight = settings.catchment(indicator)
    # The travel distance itself bounds the straight-line reach on roads and with the detour.
    reach = settings.straight_radius_m(max_cost, weight=weight, mode=indicator.mode) * settings.detour_factor
    near = demand.tree().query_ball_point(changed_xy, reach, return_sorted=False)
    points = np.unique(np.concatenate([np.asarray(hit, dtype=np.int64) for hit in near]))
    if not len(points):
        return out
    xy = demand.xy[points]

    def covered(dataset: Dataset) -> np.ndarray:
        frame = dataset.layers[indicator.layer]
        frame = frame[frame["status"].isin(COUNTED_STATUSES)]
        return access.coverage_within(xy, access.facility_points(frame)[0], max_cost=max_cost, weight=weight,
                                      mode=indicator.mode, settings=settings)

    population = demand.weight(_population_column(plan, indicator))[points]
    delta = population * (covered(new).astype(float) - covered(base).astype(float))
    out[:] = np.bincount(demand.unit_index[points], weights=delta, minlength=len(demand.unit_codes))
    return out


def _roll_up(finest: pd.Series, rows: pd.DataFrame, dataset: Dataset) -> np.ndarray:
    """Sum values of the finest units (streets, else districts) onto the rows' units."""
    out = np.zeros(len(rows))
    levels = rows["level"].to_numpy()
    codes = rows["unit_code"].to_numpy()
    values = finest.to_numpy(dtype=float)
    finest_level = "street" if "street" in dataset.units else "district"
    for level in np.unique(levels):
        at = levels == level
        if level == "city":
            out[at] = float(finest.sum())
            continue
        if level == finest_level:
            found = finest.index.get_indexer(codes[at])
            sums = values
        else:
            parents = dataset.units["street"]["parent_code"].reindex(finest.index).fillna("").to_numpy()
            groups, inverse = np.unique(parents.astype(str), return_inverse=True)
            sums = np.bincount(inverse.ravel(), weights=values, minlength=len(groups))
            found = pd.Index(groups).get_indexer(codes[at])
        out[at] = np.where(found >= 0, sums[found] if len(sums) else 0.0, 0.0)
    return out


def _demand(base: Dataset, new: Dataset, grows: bool, settings):
    """The base's demand points; after population growth, a copy with their weights scaled unit by
    unit (the weights are renormalised to each unit's population, so scaling the unit scales them
    exactly).  The copy keeps the base's positions, so the covered masks and catchment matrices the
    access module cached for the base are reused: only the population-weighted sums are redone."""
    demand = access.cached_demand_points(base, settings=settings)
    if not grows:
        return demand
    before = base.units[demand.unit_level].reindex(demand.unit_codes)
    after = new.units[demand.unit_level].reindex(demand.unit_codes)
    factors = {}
    for column in demand.weights:
        old, now = before[column].to_numpy(dtype=float), after[column].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            factors[column] = np.where(old > 0, now / old, 1.0)
    return demand.rescaled(factors)


def _refresh(rows: pd.DataFrame, indicator: Indicator, dataset: Dataset, numerator: np.ndarray,
             denominator: np.ndarray, target: float | None) -> pd.DataFrame:
    """Value, shortfall, status, note and provenance from new numerators and denominators, by the
    engine's arithmetic (docs/architecture.md)."""
    targets = rows["target"].to_numpy(dtype=float) if target is None else np.full(len(rows), float(target))
    kind = indicator.type
    scale = {"share": 100.0, "count": None, "access": 100.0}.get(kind, indicator.scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "count":
            value = numerator.copy()
            need = targets
        else:
            value = np.where(denominator > 0, numerator / denominator * scale, np.nan)
            need = targets * denominator / scale
    shortfall = shortfall_of(need, numerator, indicator.comparator)
    met = compare_values(value, targets, indicator.comparator)
    status = np.where(pd.isna(met), "no_data", np.where(met == True, "met", "gap"))  # noqa: E712
    shortfall = np.where(np.isnan(value), np.where(np.isnan(shortfall), np.nan, 0.0), shortfall)
    shortfall = np.where(status == "met", 0.0, shortfall)
    note = np.full(len(rows), "", dtype=object)
    if kind == "ratio":
        note[denominator <= 0] = "no residents in this group"
    elif kind == "share":
        note[~(denominator > 0)] = "no facilities to measure in this unit"
    elif kind != "count":
        note[~(denominator > 0)] = "no residents in this group"
    frame = dataset.layers[indicator.layer]
    layer_source = "+".join(sorted({source_class(s) for s in frame["source"].astype(str).unique()})) \
        if "source" in frame and len(frame) else "unknown"
    if kind in ("ratio", "access", "accessible_ratio"):
        pop_source = np.full(len(rows), "nan", dtype=object)  # (a unit the data lacks, as pandas prints it)
        levels, codes = rows["level"].to_numpy(), rows["unit_code"].to_numpy()
        for level in np.unique(levels):
            at = np.flatnonzero(levels == level)
            units = dataset.units_at(level)
            found = units.index.get_indexer(codes[at])
            known = found >= 0
            pop_source[at[known]] = units["pop_source"].astype(str).to_numpy(dtype=object)[found[known]]
        suffix = f"; facilities: {layer_source}"
        provenance = np.array(["population: " + source + suffix for source in pop_source], dtype=object)
    else:
        provenance = np.full(len(rows), f"facilities: {layer_source}", dtype=object)
    return pd.DataFrame({"value": value, "target": targets, "met": met, "status": status,
                         "shortfall": shortfall, "numerator": numerator, "denominator": denominator,
                         "provenance": provenance, "note": note}, index=rows.index)


def _fresh_rows(rows, indicator: Indicator, dataset: Dataset, plan: Plan, target, settings) -> pd.DataFrame:
    """The engine's rows for one indicator (layers added or emptied, per-stratum targets)."""
    levels = [level for level in indicator.levels if level in set(rows["level"])]
    overrides = {indicator.id: target} if target is not None else None
    fresh = evaluate(dataset, plan, levels=levels, indicators=[indicator.id], include_companions=False,
                     access_settings=settings, target_overrides=overrides)
    fresh = fresh.set_index(["level", "unit_code"]).reindex(
        pd.MultiIndex.from_arrays([rows["level"], rows["unit_code"]]))
    fresh.index = rows.index
    return fresh[["value", "target", "met", "status", "shortfall", "numerator", "denominator",
                  "provenance", "note"]]

