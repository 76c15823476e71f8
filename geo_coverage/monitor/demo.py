"""The embedded demo years: the 2020 baseline and synthetic snapshots for 2021–2024.

``layers/demo_years/`` holds what happened since 2020, each event once (built by
``scripts/build_demo_years.py`` from stated growth assumptions, see its README):
``population.csv`` (a factor per district and year, relative to the 2020 census; streets move with
their district), ``additions.csv`` (facilities opened, with the year), ``changes.csv`` (an
attribute's value from a year on) and ``removals.csv`` (closed or restored).  A year's dataset is
the baseline with every event up to that year.  Everything the demo adds is labelled synthetic:
the population's ``pop_source``, the new facilities' ``source`` and ``location_quality``.

A demo year is also a scenario of the baseline (:func:`demo_scenario`), so its coverage table comes
from :func:`geo_coverage.scenario.evaluate_scenario`: only what changed is recomputed, with the
baseline's demand grid and catchments (equal to a full evaluation to rounding; tested).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from .. import io
from ..coverage import evaluate
from ..dataset import POPULATION_COLUMNS, Dataset, assign_points, default_data_dir, load_dataset
from ..errors import DataError
from ..plan import Plan, default_plan
from ..scenario import (
    AddFacility,
    ChangeFacility,
    PopulationChange,
    RemoveFacility,
    Scenario,
    evaluate_scenario,
)
from .series import LazyDatasets

__all__ = [
    "BASELINE_YEAR",
    "DemoEvents",
    "demo_events",
    "demo_dataset",
    "demo_scenario",
    "demo_years",
    "demo_tables",
]

BASELINE_YEAR = 2020
DEMO_ORIGIN = "embedded demo years 2020–2024 (2020 baseline; later years SYNTHETIC)"
_FILES = ("population", "additions", "changes", "removals")


@dataclass(frozen=True)
class DemoEvents:
    """The four event tables of ``layers/demo_years/`` (all text, as read)."""

    population: pd.DataFrame
    additions: pd.DataFrame
    changes: pd.DataFrame
    removals: pd.DataFrame
    folder: Path

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(sorted({int(y) for y in self.population["year"]}))


def demo_events(root: Path | None = None) -> DemoEvents:
    """Read the demo years' event tables (``root``: a folder with ``layers/demo_years/``)."""
    folder = (root or default_data_dir()) / "layers" / "demo_years"
    tables = {name: io.read_csv(folder / f"{name}.csv") for name in _FILES}
    for name, table in tables.items():
        if "year" not in table:
            raise DataError(
                "The demo-year table has no 'year' column.",
                file=folder / f"{name}.csv",
                fix="Rebuild it with `python scripts/build_demo_years.py`.",
            )
        table["year"] = table["year"].astype(int)
    return DemoEvents(**tables, folder=folder)


def _typed(values: pd.Series, kind_type: str) -> pd.Series:
    if kind_type == "number":
        return pd.to_numeric(values, errors="coerce")
    if kind_type == "bool":
        return values.str.lower().map({"true": True, "false": False})
    return values


def _latest(table: pd.DataFrame, year: int, keys: list[str]) -> pd.DataFrame:
    upto = table[table["year"] <= year]
    return upto.sort_values("year", kind="stable").groupby(keys, sort=False).tail(1)


def _grown_units(base: Dataset, factors: pd.Series, label: str) -> dict[str, gpd.GeoDataFrame]:
    """Districts × their factor, streets × their district's, the city = Σ districts."""
    units: dict[str, gpd.GeoDataFrame] = {}
    for level in sorted(base.units, key=("district", "street", "city").index):
        frame = base.units[level].copy()
        if level == "district":
            factor = factors.reindex(frame.index).fillna(1.0).to_numpy()
        elif level == "street":
            factor = factors.reindex(frame["parent_code"].astype(str)).fillna(1.0).to_numpy()
        else:
            factor = None
        for column in POPULATION_COLUMNS:
            if column not in frame:
                continue
            if factor is not None:
                frame[column] = frame[column].to_numpy(dtype=float) * factor
            elif "district" in units and column in units["district"]:
                frame[column] = float(units["district"][column].sum())
        if "pop_source" in frame:
            frame["pop_source"] = label
        units[level] = frame
    return units


def demo_dataset(year: int, base: Dataset, events: DemoEvents, plan: Plan | None = None) -> Dataset:
    """The demo snapshot of ``year``: the baseline with every event up to it, labelled synthetic."""
    if year == BASELINE_YEAR:
        return base
    if year not in events.years:
        raise DataError(
            f"There is no demo year {year}.", fix=f"Use one of {[BASELINE_YEAR, *events.years]}."
        )
    plan = plan or default_plan()
    population = events.population[events.population["year"] == year]
    factors = pd.Series(
        population["factor"].astype(float).to_numpy(), index=population["district_code"].astype(str)
    )
    units = _grown_units(
        base, factors, f"synthetic: demo year {year} (2020 census × assumed growth)"
    )
    units = {level: units[level] for level in base.units}  # the baseline's level order
    layers = dict(base.layers)
    removed = _latest(events.removals, year, ["kind", "id"])
    removed = removed[removed["event"] == "remove"]
    changes = _latest(events.changes, year, ["kind", "id", "attribute"])
    additions = events.additions[events.additions["year"] <= year]
    source = f"synthetic: demo year {year} (scripts/build_demo_years.py)"
    for kind in sorted(set(additions["kind"]) | set(changes["kind"]) | set(removed["kind"])):
        declared = plan.kinds[kind].attributes
        frame = layers[kind].copy()
        ids = frame["id"].astype(str)
        for attribute, rows in changes[changes["kind"] == kind].groupby("attribute"):
            values = pd.Series(rows["value"].to_numpy(), index=rows["id"].to_numpy())
            new = _typed(ids.map(values), declared.get(attribute, "text"))
            frame[attribute] = (
                frame[attribute].where(new.isna().to_numpy(), new.to_numpy())
                if attribute in frame
                else new.to_numpy()
            )
        frame = frame[~ids.isin(removed.loc[removed["kind"] == kind, "id"]).to_numpy()]
        added = additions[additions["kind"] == kind]
        if len(added):
            points = gpd.GeoSeries(
                gpd.points_from_xy(added["lon"].astype(float), added["lat"].astype(float)), crs=4326
            ).to_crs(base.crs)
            new_rows = gpd.GeoDataFrame(
                {
                    "id": added["id"].to_numpy(),
                    "kind": kind,
                    "name": added["name"].to_numpy(),
                    "status": "existing",
                    "source": source,
                    "location_quality": "synthetic",
                    **{a: _typed(added[a], declared[a]).to_numpy() for a in declared if a in added},
                },
                geometry=points.to_numpy(),
                crs=base.crs,
            )
            street, district = assign_points(new_rows.geometry.values, units)
            new_rows["street_code"], new_rows["district_code"] = street, district
            frame = pd.concat(
                [frame, new_rows[[c for c in new_rows if c in frame or c in declared]]],
                ignore_index=True,
            )
        layers[kind] = gpd.GeoDataFrame(frame, geometry="geometry", crs=base.crs)
    return replace(
        base,
        units=MappingProxyType(units),
        layers=MappingProxyType(layers),
        name=f"北京 {year}（合成演示 synthetic demo）",
    )


def demo_scenario(year: int, events: DemoEvents) -> Scenario:
    """The demo year as edits to the baseline (what :func:`evaluate_scenario` needs to know)."""
    edits: list = []
    population = events.population[events.population["year"] == year]
    for code, factor in zip(population["district_code"], population["factor"], strict=True):
        edits.append(PopulationChange(len(edits) + 1, "district", str(code), factor=float(factor)))
    for row in events.additions[events.additions["year"] <= year].itertuples():
        edits.append(
            AddFacility(
                len(edits) + 1,
                row.kind,
                float(row.lon),
                float(row.lat),
                id=row.id,
                status="existing",
            )
        )
    changes = _latest(events.changes, year, ["kind", "id", "attribute"])
    for (kind, facility_id), rows in changes.groupby(["kind", "id"], sort=False):
        edits.append(
            ChangeFacility(
                len(edits) + 1,
                kind,
                facility_id,
                dict(zip(rows["attribute"], rows["value"], strict=True)),
            )
        )
    removed = _latest(events.removals, year, ["kind", "id"])
    for row in removed[removed["event"] == "remove"].itertuples():
        edits.append(RemoveFacility(len(edits) + 1, row.kind, row.id))
    return Scenario(
        name=f"demo year {year}",
        description="synthetic",
        edits=tuple(edits),
        origin=str(events.folder),
    )


def demo_years(
    *, base: Dataset | None = None, plan: Plan | None = None, years: Iterable[int] | None = None
) -> Mapping[int, Dataset]:
    """``year -> Dataset`` for the baseline (2020) and every demo year, built when read.

    Parameters
    ----------
    base
        The 2020 baseline (default: the embedded Beijing data, loaded once when first needed).
    plan
        The plan whose kinds type the attributes (default: Beijing 2021–2025).
    years
        Only these years (default: all).
    """
    state: dict[str, object] = {}

    def parts() -> tuple[Dataset, DemoEvents]:
        if "base" not in state:
            state["base"] = base if base is not None else load_dataset()
            state["events"] = demo_events()
        return state["base"], state["events"]  # type: ignore[return-value]

    wanted = None if years is None else {int(y) for y in years}
    chosen = [y for y in (BASELINE_YEAR, *demo_events().years) if wanted is None or y in wanted]

    def load(year: int) -> Dataset:
        return demo_dataset(year, *parts(), plan)

    return LazyDatasets({year: functools.partial(load, year) for year in chosen})


def demo_tables(
    plan: Plan | None = None,
    *,
    levels=None,
    indicators=None,
    access_settings=None,
    base: Dataset | None = None,
    years: Iterable[int] | None = None,
) -> dict[int, pd.DataFrame]:
    """The coverage table of every demo year: the baseline evaluated once, each later year
    re-evaluated incrementally from it (only what that year's events touched).

    Returns
    -------
    dict
        ``year -> coverage table`` with the baseline's rows.
    """
    plan = plan or default_plan()
    base = base if base is not None else load_dataset()
    events = demo_events()
    wanted = None if years is None else {int(y) for y in years}
    base_table = evaluate(
        base, plan, levels=levels, indicators=indicators, access_settings=access_settings
    )
    tables = {}
    for year in (BASELINE_YEAR, *events.years):
        if wanted is not None and year not in wanted:
            continue
        if year == BASELINE_YEAR:
            tables[year] = base_table
            continue
        dataset = demo_dataset(year, base, events, plan)
        tables[year] = evaluate_scenario(
            base_table,
            base,
            dataset,
            plan,
            demo_scenario(year, events),
            access_settings=access_settings,
        )
    return tables
