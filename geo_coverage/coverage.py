"""Evaluate a plan's indicators for every unit at every level into one long table.

The table has one row per unit × indicator with the columns of the data contract
(docs/architecture.md).  Facility measures are aggregated once per layer with ``np.bincount`` over
the street (or district) each facility falls in, so street numerators add up to their district and
districts to the city by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import access
from .dataset import Dataset, source_class
from .errors import DataError
from .measures import COUNTED_STATUSES, facility_values, missing_attributes
from .plan import Indicator, Plan

__all__ = ["evaluate", "TABLE_COLUMNS", "COUNTED_STATUSES", "compare", "facility_values", "rolled_up_value",
           "layer_provenance", "missing_attributes", "shortfall_of"]

TABLE_COLUMNS = [
    "level", "unit_code", "unit_name", "parent_code", "indicator", "value", "target", "comparator",
    "met", "status", "shortfall", "shortfall_unit", "numerator", "denominator",
    "indicator_type", "provenance", "note",
]
_EPS = 1e-9


def compare(value, target, comparator: str):
    """Vectorised ``value <comparator> target``; NaN values give NaN (no data)."""
    value = np.asarray(value, dtype=float)
    ops: dict[str, Callable[..., Any]] = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal,
                                          "<": np.less, "==": np.isclose}
    result = ops[comparator](value + (_EPS if comparator in (">=", "==") else 0.0), target) \
        if comparator != "==" else np.isclose(value, target)
    out = result.astype(object)
    out[np.isnan(value)] = None
    return out


class _Aggregator:
    """Sums per-facility values to every unit level with one bincount per level."""

    def __init__(self, dataset: Dataset, frame: pd.DataFrame):
        self.dataset = dataset
        self.codes = {}
        for level in dataset.levels:
            units = dataset.units[level]
            if level == "city":
                inside = (frame["district_code"].to_numpy(dtype=object) != "")
                codes = np.where(inside, 0, -1)
            else:
                column = "street_code" if level == "street" else "district_code"
                codes = units.index.get_indexer(frame[column].astype(str)).astype(np.int64)
            self.codes[level] = (codes, len(units))

    def sum(self, level: str, values: np.ndarray) -> np.ndarray:
        codes, n = self.codes[level]
        keep = codes >= 0
        return np.bincount(codes[keep], weights=values[keep], minlength=n).astype(float)


def evaluate(
    dataset: Dataset,
    plan: Plan,
    *,
    levels: Iterable[str] | None = None,
    indicators: Iterable[str] | None = None,
    include_companions: bool = True,
    access_settings=None,
    target_overrides: Mapping[str, float] | None = None,
    engine=None,
    access_parts: Mapping[str, pd.DataFrame | None] | None = None,
    layer_sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Evaluate indicators into the long coverage table.

    Parameters
    ----------
    dataset, plan
        What to evaluate and against which mandates.
    levels
        Levels to report (default: every level each indicator names that the dataset has).
    indicators
        Indicator ids (default: all of the plan's, with companions if ``include_companions``).
    access_settings
        :class:`geo_coverage.access.AccessSettings` for ``access`` / ``accessible_ratio`` types;
        without it they are computed with the defaults.
    target_overrides
        ``indicator id -> target`` replacing the plan's target at every level (what-if).
    engine
        Where to compute: ``None`` here, in this process; an engine object such as
        :class:`geo_coverage.engine.DaskEngine` evaluates partition by partition on its cluster
        and returns the same table (``geo_coverage.engine.evaluate(..., engine="dask")`` takes
        the engine by name).
    access_parts, layer_sources
        For engines: access measures per finest unit already computed (``indicator id ->``
        frame of ``numerator``, ``denominator`` or ``None``), and each layer's provenance when
        ``dataset`` is a piece of a larger one.

    Returns
    -------
    pandas.DataFrame
        One row per unit × indicator, columns :data:`TABLE_COLUMNS`.
    """
    if engine is not None:
        return engine.evaluate(dataset, plan, levels=levels, indicators=indicators,
                               include_companions=include_companions, access_settings=access_settings,
                               target_overrides=target_overrides)
    wanted_levels = tuple(levels) if levels else dataset.levels
    for level in wanted_levels:
        if level not in ("city", "district", "street"):
            raise DataError(f"Unknown level '{level}'.", fix="Use city, district or street.")
    chosen = plan.indicators_for(list(indicators) if indicators else None,
                                 include_companions=include_companions)
    overrides = dict(target_overrides or {})
    provenance = {kind: layer_provenance(frame) for kind, frame in dataset.layers.items()}
    provenance.update(layer_sources or {})
    aggregators: dict[str, _Aggregator] = {}
    parent_of = (dataset.units["street"]["parent_code"].to_dict() if "street" in dataset.units else {})
    pieces = []
    for indicator in chosen:
        frame = dataset.layer(indicator.layer)
        counted = None
        if frame is not None:
            counted = frame[frame["status"].isin(COUNTED_STATUSES)] if "status" in frame else frame
            if indicator.layer not in aggregators:
                aggregators[indicator.layer] = _Aggregator(dataset, counted)
        parts = None
        lacking = missing_attributes(counted, indicator)
        if indicator.type in ("access", "accessible_ratio") and frame is not None and not lacking:
            if access_parts is not None and indicator.id in access_parts:
                parts = access_parts[indicator.id]
            else:
                parts = _access_measures(dataset, indicator, plan, settings=access_settings)
        for level in indicator.levels:
            if level not in wanted_levels or level not in dataset.units:
                continue
            units = dataset.units[level]
            target = float(overrides.get(indicator.id, indicator.target_at(level)))
            pieces.append(_evaluate_level(indicator, plan, level, units, counted,
                                          aggregators.get(indicator.layer), parts, target,
                                          provenance.get(indicator.layer, ""), parent_of,
                                          lacking=lacking))
    if not pieces:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table = pd.concat(pieces, ignore_index=True)
    return table[TABLE_COLUMNS]


def layer_provenance(frame: pd.DataFrame) -> str:
    """The classes of a layer's ``source`` texts, e.g. ``real+synthetic``."""
    if "source" not in frame or frame.empty:
        return "unknown"
    return "+".join(sorted({source_class(s) for s in frame["source"].astype(str).unique()}))


def _evaluate_level(indicator: Indicator, plan: Plan, level: str, units, facilities, aggregator,
                    access_parts, target: float, layer_source: str,
                    parent_of: Mapping[str, str], lacking: Sequence[str] = ()) -> pd.DataFrame:
    n = len(units)
    nothing = np.full(n, np.nan)
    numerator, denominator, value, shortfall = nothing, nothing.copy(), nothing.copy(), nothing.copy()
    row_target = np.full(n, target, dtype=float)
    met_strata = None
    note = np.full(n, "", dtype=object)
    pop_source = units["pop_source"].astype(str).to_numpy() if "pop_source" in units else np.full(n, "")
    kind_type = indicator.type
    uses_population = kind_type in ("ratio", "access", "accessible_ratio")

    if facilities is None:
        note[:] = f"no '{indicator.layer}' layer in this dataset"
    elif lacking:
        note[:] = f"the '{indicator.layer}' layer has no {', '.join(repr(a) for a in lacking)} attribute"
    elif kind_type in ("ratio", "share", "count"):
        numerator, denominator, value, shortfall, row_target, met_strata = _facility_level(
            indicator, plan, level, units, facilities, aggregator, target, note)
    elif access_parts is None:  # access / accessible_ratio
        note[:] = "access not computed"
    else:
        numerator, denominator = _rollup(access_parts, parent_of, units, level)
        scale = 100.0 if kind_type == "access" else indicator.scale
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(denominator > 0, numerator / denominator * scale, np.nan)
        shortfall = shortfall_of(target * denominator / scale, numerator, indicator.comparator)
        note[~(denominator > 0)] = "no residents in this group"

    met = compare(value, row_target, indicator.comparator)
    if indicator.strata_attribute and facilities is not None and not lacking and kind_type == "share":
        met = np.asarray(np.where(np.isnan(value), None, met_strata)).astype(object)
    status = np.where(pd.isna(met), "no_data", np.where(met == True, "met", "gap"))  # noqa: E712
    shortfall = np.where(np.isnan(value), np.where(np.isnan(shortfall), np.nan, 0.0), shortfall)
    shortfall = np.where(status == "met", 0.0, shortfall)
    if facilities is None or lacking or (kind_type in ("access", "accessible_ratio") and access_parts is None):
        shortfall = np.full(n, np.nan)
    if uses_population:
        provenance = np.char.add(np.char.add("population: ", pop_source.astype(str)),
                                 f"; facilities: {layer_source}")
    else:
        provenance = np.full(n, f"facilities: {layer_source}")
    return pd.DataFrame({
        "level": level,
        "unit_code": units.index.astype(str),
        "unit_name": units["name"].astype(str).to_numpy(),
        "parent_code": units["parent_code"].astype(str).to_numpy(),
        "indicator": indicator.id,
        "value": value,
        "target": row_target,
        "comparator": indicator.comparator,
        "met": met,
        "status": status,
        "shortfall": shortfall,
        "shortfall_unit": indicator.shortfall_unit,
        "numerator": numerator,
        "denominator": denominator,
        "indicator_type": kind_type,
        "provenance": provenance if facilities is not None else np.full(n, "no data"),
        "note": note,
    })


def _facility_level(indicator: Indicator, plan: Plan, level: str, units, facilities, aggregator,
                    target: float, note: np.ndarray):
    """Numerator, denominator, value, shortfall, targets and per-stratum verdicts of a ratio,
    share or count at one level; notes are written into ``note``."""
    n = len(units)
    denominator, value, shortfall = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    row_target, met_strata = np.full(n, target, dtype=float), None
    numerator = aggregator.sum(level, facility_values(facilities, indicator.numerator))
    if indicator.type == "ratio":
        column = plan.population_column(indicator.population)
        if column not in units:
            note[:] = f"no population column '{column}'"
            numerator[:] = np.nan
        else:
            denominator = units[column].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(denominator > 0, numerator / denominator * indicator.scale, np.nan)
            need = target * denominator / indicator.scale
            shortfall = shortfall_of(need, numerator, indicator.comparator)
            note[denominator <= 0] = "no residents in this group"
    elif indicator.type == "share":
        denominator = aggregator.sum(level, facility_values(facilities, indicator.denominator,
                                                            recorded_for=indicator.numerator))
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(denominator > 0, numerator / denominator * 100.0, np.nan)
        if indicator.strata_attribute:
            row_target, shortfall, met_strata = _strata(indicator, facilities, aggregator, level,
                                                        denominator)
        else:
            shortfall = shortfall_of(target / 100.0 * denominator, numerator, indicator.comparator)
        note[~(denominator > 0)] = "no facilities to measure in this unit"
    else:  # count
        value = numerator.copy()
        shortfall = shortfall_of(np.full(n, target), numerator, indicator.comparator)
    return numerator, denominator, value, shortfall, row_target, met_strata


def shortfall_of(need: np.ndarray, have: np.ndarray, comparator: str) -> np.ndarray:
    """Items short of the need, rounded up to whole items (a 0.2-bed gap is still one bed)."""
    if comparator in (">=", ">", "=="):
        gap = need - have
    else:  # an upper limit: the excess is the shortfall
        gap = have - need
    gap = np.where(np.isnan(gap), np.nan, np.maximum(gap, 0.0))
    return np.ceil(gap - 1e-9).clip(min=0.0)


def _strata(indicator: Indicator, facilities, aggregator, level, denominator):
    """Per-stratum targets (e.g. urban 96 %, rural 86 %): blended target, summed shortfall."""
    strata = facilities[indicator.strata_attribute].astype(str).to_numpy()
    num_all = facility_values(facilities, indicator.numerator)
    den_all = facility_values(facilities, indicator.denominator, recorded_for=indicator.numerator)
    need_total = np.zeros_like(denominator)
    shortfall = np.zeros_like(denominator)
    met = np.ones(len(denominator), dtype=bool)
    for stratum, stratum_target in indicator.strata_targets.items():
        inside = strata == stratum
        num = aggregator.sum(level, np.where(inside, num_all, 0.0))
        den = aggregator.sum(level, np.where(inside, den_all, 0.0))
        need = stratum_target / 100.0 * den
        need_total += need
        shortfall += shortfall_of(need, num, indicator.comparator)
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = np.where(den > 0, num / den * 100.0 + _EPS >= stratum_target, True)
        met &= ok
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(denominator > 0, need_total / denominator * 100.0, indicator.target_at(level))
    return target, shortfall, met


def _rollup(finest: pd.DataFrame, parent_of: Mapping[str, str], units, level: str):
    """Sum access numerators/denominators from the finest units up to ``level``.

    ``finest`` is indexed by the finest unit codes (streets, or districts when there are none);
    ``parent_of`` maps a street code to its district code.
    """
    finest = finest[["numerator", "denominator"]]
    if level == "city":
        total = finest.sum()
        return (np.full(len(units), total["numerator"]), np.full(len(units), total["denominator"]))
    if finest.index.isin(units.index).all():
        aligned = finest.groupby(level=0).sum().reindex(units.index, fill_value=0.0)
    else:
        parents = finest.index.map(lambda code: parent_of.get(code, ""))
        aligned = finest.groupby(parents).sum().reindex(units.index, fill_value=0.0)
    return aligned["numerator"].to_numpy(dtype=float), aligned["denominator"].to_numpy(dtype=float)


def _access_measures(dataset: Dataset, indicator: Indicator, plan: Plan, *, settings):
    """Numerators and denominators of an access indicator at the finest unit level.

    Returns ``None`` when access cannot be computed (the group's population column is missing),
    which the table reports as ``no_data``.
    """
    settings = settings if settings is not None else access.AccessSettings()
    column = plan.population_column(indicator.population)
    finest = dataset.units["street" if "street" in dataset.units else "district"]
    if column not in finest:
        return None
    # Demand points are memoised per dataset object, so the indicators share one grid.
    demand = access.cached_demand_points(dataset, settings=settings)
    return access.unit_measures(dataset, indicator, settings=settings, demand=demand, plan=plan)


def rolled_up_value(table: pd.DataFrame, indicator: Indicator, *, level: str = "district") -> float | None:
    """The indicator's value over every unit of ``level`` together: Σ numerators ÷ Σ denominators
    (× the type's scale), for a plan that names no city level.  ``None`` for counts (a count per
    district has no city-wide value) and when nothing was measured."""
    if indicator.type == "count":
        return None
    rows = table[(table["level"] == level) & (table["indicator"] == indicator.id)]
    numerator, denominator = rows["numerator"].sum(min_count=1), rows["denominator"].sum(min_count=1)
    if not (denominator > 0):
        return None
    scale = 100.0 if indicator.type in ("share", "access") else indicator.scale
    return float(numerator / denominator * scale)
