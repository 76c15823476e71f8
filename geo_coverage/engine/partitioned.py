"""The coverage table computed partition by partition, on any executor, equal to one machine's.

Each partition evaluates the rows of the units it holds whole (its districts and their streets)
with :func:`geo_coverage.coverage.evaluate` itself, on a sub-dataset of those units and the
facilities located in them; access indicators are measured on the core units plus their halo
(see :mod:`geo_coverage.engine.partition`).  Rows of levels above the partition level (the city,
or districts when partitions cut across them) are evaluated on the caller's side from the whole
dataset and the partitions' access measures: they are sums over every facility (cheap), while the
demand grid and the catchments, the part that does not fit one machine, never leave the workers.

Ratios, shares and counts are bit-for-bit those of one machine: a unit's numerator is a
``bincount`` over the same facilities in the same order.  Access measures sum the same terms in
another order and agree to floating-point tolerance.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .. import access
from ..coverage import (
    COUNTED_STATUSES,
    TABLE_COLUMNS,
    evaluate,
    layer_provenance,
    missing_attributes,
)
from ..dataset import UNIT_LEVELS, Dataset
from ..errors import DataError
from ..plan import Indicator, Plan
from ..population import demand_points, finest_level
from .partition import Partition, core_facilities, facilities_near, halo_units, partition_dataset

__all__ = ["PartitionJob", "PartitionResult", "build_jobs", "run_partition", "evaluate_partitioned",
           "halo_radius_m", "ACCESS_TYPES"]

ACCESS_TYPES = ("access", "accessible_ratio")


@dataclass(frozen=True)
class PartitionJob:
    """Everything one partition needs, and nothing more (plain dicts: it is pickled to a worker)."""

    partition: Partition
    units: dict            # level -> units held whole (rows are reported for these)
    layers: dict           # kind -> facilities located in those units
    halo_units: Any        # finest units of the core and its halo (demand for access)
    halo_layers: dict      # kind -> facilities within the catchment radius of the core
    crs: Any
    name: str
    plan: Plan
    levels: tuple
    indicator_ids: tuple
    include_companions: bool
    settings: Any
    target_overrides: dict
    layer_provenance: dict
    access_ids: tuple


@dataclass(frozen=True)
class PartitionResult:
    """A partition's rows, its core units' access measures, and what it cost."""

    index: int
    table: pd.DataFrame
    access_parts: dict
    stats: dict = field(default_factory=dict)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM (Linux; unlike ``ru_maxrss`` it is not
    inherited across exec from the process that started this one), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def halo_radius_m(chosen: Iterable[Indicator], settings) -> float:
    """The widest straight-line radius of the access indicators (0 without any).

    Straight lines: the catchment ÷ detour.  On a road network a route is never shorter than the
    straight line, so the catchment's metres (minutes at the mode's speed) bound it.
    """
    radius = 0.0
    for indicator in chosen:
        if indicator.type not in ACCESS_TYPES:
            continue
        max_cost, weight = settings.catchment(indicator)
        r = settings.straight_radius_m(max_cost, weight=weight, mode=indicator.mode)
        if settings.network is not None:
            r *= settings.detour_factor
        radius = max(radius, r)
    return radius


def _access_indicators(dataset: Dataset, plan: Plan, chosen: Iterable[Indicator]
                       ) -> tuple[str, ...]:
    """Access indicators that :func:`evaluate` would measure (layer present with its attributes)."""
    ids = []
    for indicator in chosen:
        frame = dataset.layer(indicator.layer)
        if indicator.type not in ACCESS_TYPES or frame is None:
            continue
        counted = frame[frame["status"].isin(COUNTED_STATUSES)] if "status" in frame else frame
        if not missing_attributes(counted, indicator):
            ids.append(indicator.id)
    return tuple(ids)


def build_jobs(dataset: Dataset, plan: Plan, partitions: list[Partition], *, levels, indicators,
               include_companions: bool, settings, target_overrides) -> list[PartitionJob]:
    """One :class:`PartitionJob` per partition: its whole units, their facilities, and the halo."""
    chosen = plan.indicators_for(list(indicators) if indicators else None,
                                 include_companions=include_companions)
    access_ids = _access_indicators(dataset, plan, chosen)
    radius = halo_radius_m([ind for ind in chosen if ind.id in access_ids], settings)
    finest = finest_level(dataset)
    finest_units = dataset.units_at(finest)
    access_kinds = sorted({plan.indicator(i).layer for i in access_ids})
    provenance = {kind: layer_provenance(frame) for kind, frame in dataset.layers.items()}
    jobs = []
    for partition in partitions:
        codes: dict[str, set] = {finest: set(partition.core)}
        if partition.level == "district":
            codes["district"] = set(partition.whole)
        # The rows need attributes and codes, never outlines or points: geometry stays home
        # (the national county outlines alone are ~200 MB).
        units = {level: _without_geometry(_in_order(dataset.units[level], codes[level]))
                 for level in UNIT_LEVELS if level in codes}
        layers = {kind: _without_geometry(frame.iloc[core_facilities(frame, partition, codes)])
                  for kind, frame in dataset.layers.items()}
        halo_units_frame, halo_layers = finest_units.iloc[0:0], {}
        if access_ids:
            # Demand within 2r (a reachable facility's competitors), facilities within r.
            positions = halo_units(finest_units, partition.core, distance_m=2.0 * radius)
            halo_units_frame = finest_units.iloc[positions]
            core_geometries = finest_units.loc[list(partition.core)].geometry.values
            halo_layers = {kind: dataset.layers[kind].iloc[
                facilities_near(dataset.layers[kind], core_geometries, distance_m=radius)]
                for kind in access_kinds}
        jobs.append(PartitionJob(
            partition=partition, units=units, layers=layers, halo_units=halo_units_frame,
            halo_layers=halo_layers, crs=dataset.crs, name=dataset.name, plan=plan,
            levels=tuple(levels), indicator_ids=tuple(indicators or ()),
            include_companions=include_companions, settings=settings,
            target_overrides=dict(target_overrides or {}), layer_provenance=provenance,
            access_ids=access_ids))
    return jobs


def _without_geometry(frame) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns=[frame.geometry.name]))


def _in_order(units, codes: set):
    """The units named in ``codes``, in the dataset's order."""
    return units[units.index.isin(list(codes))]


def run_partition(job: PartitionJob) -> PartitionResult:
    """Evaluate one partition (runs on a worker)."""
    start = time.perf_counter()
    settings = job.settings if job.settings is not None else access.AccessSettings()
    parts: dict[str, pd.DataFrame | None] = {}
    cells = 0
    if job.access_ids:
        finest = job.halo_units["level"].iloc[0] if len(job.halo_units) else "street"
        halo = Dataset(units=MappingProxyType({finest: job.halo_units}),
                       layers=MappingProxyType(dict(job.halo_layers)), crs=job.crs, name=job.name)
        # Built for this task only (not memoised): a worker keeps no partition's grid after it.
        demand = demand_points(halo, resolution_m=settings.resolution_m, raster=settings.raster)
        cells = len(demand)
        core = list(job.partition.core)
        for indicator_id in job.access_ids:
            indicator = job.plan.indicator(indicator_id)
            if (indicator.population is None
                    or job.plan.population_column(indicator.population) not in job.halo_units):
                parts[indicator_id] = None
                continue
            measures = access.unit_measures(halo, indicator, settings=settings, demand=demand,
                                            plan=job.plan)
            parts[indicator_id] = measures.reindex(core, fill_value=0.0)
    table = pd.DataFrame(columns=TABLE_COLUMNS)
    wanted = [level for level in job.levels if level in job.units]
    if wanted:
        sub = Dataset(units=MappingProxyType(dict(job.units)),
                      layers=MappingProxyType(dict(job.layers)), crs=job.crs, name=job.name)
        table = evaluate(sub, job.plan, levels=wanted, indicators=job.indicator_ids or None,
                         include_companions=job.include_companions, access_settings=settings,
                         target_overrides=job.target_overrides, access_parts=parts,
                         layer_sources=job.layer_provenance)
    stats = {"partition": job.partition.index, "units": len(job.partition.core),
             "halo_units": len(job.halo_units), "demand_cells": cells,
             "facilities": int(sum(len(f) for f in job.layers.values())),
             "seconds": time.perf_counter() - start,
             "peak_rss_mb": peak_rss_mb(),
             "pid": os.getpid()}
    return PartitionResult(job.partition.index, table, parts, stats)


def evaluate_partitioned(dataset: Dataset, plan: Plan, *, run_all: Callable[[list[PartitionJob]],
                         Iterator[PartitionResult]], partitions: int, levels=None, indicators=None,
                         include_companions: bool = True, access_settings=None,
                         target_overrides: Mapping[str, float] | None = None,
                         stats: list | None = None) -> pd.DataFrame:
    """The coverage table of :func:`geo_coverage.coverage.evaluate`, computed in ``partitions``
    pieces by ``run_all`` (an executor: it takes the jobs and yields their results in any order).

    ``stats``, if given, receives one dict per partition (time, demand cells, worker peak RSS).
    """
    settings = access_settings if access_settings is not None else access.AccessSettings()
    wanted = tuple(levels) if levels else dataset.levels
    for level in wanted:
        if level not in UNIT_LEVELS:
            raise DataError(f"Unknown level '{level}'.", fix="Use city, district or street.")
    pieces = partition_dataset(dataset, partitions)
    partition_level = pieces[0].level
    below = UNIT_LEVELS[UNIT_LEVELS.index(partition_level):]
    inside_levels = tuple(level for level in wanted if level in below)
    outside_levels = tuple(level for level in wanted if level not in below)
    jobs = build_jobs(dataset, plan, pieces, levels=inside_levels, indicators=indicators,
                      include_companions=include_companions, settings=settings,
                      target_overrides=target_overrides)
    results = sorted(run_all(jobs), key=lambda r: r.index)
    if stats is not None:
        stats.extend(r.stats for r in results)
    finest_units = dataset.units_at(finest_level(dataset))
    merged: dict[str, pd.DataFrame | None] = {}
    for indicator_id in (jobs[0].access_ids if jobs else ()):
        frames = [r.access_parts[indicator_id] for r in results]
        merged[indicator_id] = (None if any(f is None for f in frames)
                                else pd.concat(frames).reindex(finest_units.index, fill_value=0.0))
    outside = (evaluate(dataset, plan, levels=outside_levels, indicators=indicators,
                        include_companions=include_companions, access_settings=settings,
                        target_overrides=target_overrides, access_parts=merged)
               if outside_levels else None)
    return _assemble(dataset, plan, wanted, indicators, include_companions,
                     [r.table for r in results], outside)


def _assemble(dataset, plan, wanted, indicators, include_companions, inside_tables, outside):
    """Rows in the order one machine gives: indicator by indicator, level by level, unit order."""
    inside = pd.concat([t for t in inside_tables if len(t)], ignore_index=True) \
        if any(len(t) for t in inside_tables) else pd.DataFrame(columns=TABLE_COLUMNS)
    groups = dict(list(inside.groupby(["indicator", "level"], sort=False)))  # a GroupBy is no mapping
    if outside is not None:
        groups.update(dict(list(outside.groupby(["indicator", "level"], sort=False))))
    chosen = plan.indicators_for(list(indicators) if indicators else None,
                                 include_companions=include_companions)
    ordered = []
    for indicator in chosen:
        for level in indicator.levels:
            if level not in wanted or level not in dataset.units:
                continue
            rows = groups.get((indicator.id, level))
            units = dataset.units[level]
            if rows is None or len(rows) != len(units):
                raise DataError(f"Partitioned evaluation lost rows of {indicator.id} at {level} "
                                f"({0 if rows is None else len(rows)} of {len(units)}).")
            position = units.index.get_indexer(rows["unit_code"].to_numpy(dtype=object))
            ordered.append(rows.iloc[np.argsort(position, kind="stable")])
    if not ordered:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    return pd.concat(ordered, ignore_index=True)[TABLE_COLUMNS]
