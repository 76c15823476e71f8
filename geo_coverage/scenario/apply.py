"""Checking a scenario against the data and the plan, and applying it to a new dataset.

The base dataset is never changed: only the layers and unit levels an edit touches are copied.
Added points are converted from their datum, projected and assigned to units on their own;
population growth is pushed up so streets still add up to their district and the city.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..dataset import POPULATION_COLUMNS, Dataset, assign_points
from ..datum import to_wgs84
from ..plan import Plan
from .model import AddFacility, ChangeFacility, PopulationChange, RemoveFacility, Scenario, _fail, facility_id

__all__ = ["validate", "apply"]

# Appended to the pop_source of a unit whose population a scenario changed.
_GROWN = "+scenario"


@dataclass(frozen=True)
class _Prepared:
    """What validation worked out, so applying does not redo it."""

    additions: Mapping[str, gpd.GeoDataFrame]   # kind -> new points, projected and assigned
    ids: Mapping[str, set]                      # kind -> ids after the edits


def validate(scenario: Scenario, dataset: Dataset, plan: Plan) -> None:
    """Check every edit against the data and the plan.

    Parameters
    ----------
    scenario, dataset, plan
        The scenario, the data it edits and the plan naming kinds, attributes and indicators.

    Raises
    ------
    ScenarioError
        Unknown kind, id, unit code or indicator; a point outside every unit; a non-numeric or
        negative value of a numeric attribute; a duplicate id.
    """
    _prepare(scenario, dataset, plan)


def _check_values(edit, attributes: Mapping, plan: Plan, origin: str) -> None:
    declared = plan.kinds[edit.kind].attributes
    for name, value in attributes.items():
        if name == "source" or value is None:
            continue
        if name not in declared and edit.kind in plan.kinds:
            _fail(f"'{edit.kind}' has no attribute '{name}'.", origin=origin, edit=edit, position=edit.position,
                  fix=f"Use one of: {', '.join(sorted(declared)) or '(none)'}.")
        if declared.get(name) == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _fail(f"'{name}' must be a number, not {value!r}.", origin=origin, edit=edit,
                      position=edit.position, fix="Write a plain number such as 300.")
            if value < 0:
                _fail(f"'{name}' is negative ({value:g}).", origin=origin, edit=edit, position=edit.position,
                      fix="Capacities are zero or more.")
        elif declared.get(name) == "bool" and not isinstance(value, bool):
            _fail(f"'{name}' must be true or false, not {value!r}.", origin=origin, edit=edit,
                  position=edit.position)


def _prepare(scenario: Scenario, dataset: Dataset, plan: Plan) -> _Prepared:
    origin = scenario.origin
    known_indicators = {ind.id for ind in plan.all_indicators}
    for indicator in scenario.targets:
        if indicator not in known_indicators:
            _fail(f"Target for unknown indicator '{indicator}'.", origin=origin,
                  fix=f"Use one of: {', '.join(sorted(known_indicators))}.")
    ids: dict[str, set] = {}
    new_points: dict[str, list[AddFacility]] = {}

    def layer_ids(kind: str) -> set:
        if kind not in ids:
            frame = dataset.layer(kind)
            ids[kind] = set() if frame is None else set(frame["id"].astype(str))
        return ids[kind]

    for edit in scenario.edits:
        where: dict[str, Any] = {"origin": origin, "edit": edit, "position": edit.position}
        if isinstance(edit, PopulationChange):
            units = dataset.units.get(edit.level)
            if units is None or edit.code not in units.index:
                _fail(f"unknown {edit.level} code '{edit.code}'.", **where,
                      fix=f"Use a code from the {edit.level} boundaries (see `geo-coverage report --level "
                          f"{edit.level}`).")
            continue
        if edit.kind not in plan.kinds:
            _fail(f"unknown kind '{edit.kind}'.", **where, fix=f"Use one of: {', '.join(sorted(plan.kinds))}.")
        present = layer_ids(edit.kind)
        if isinstance(edit, AddFacility):
            _check_values(edit, edit.attributes, plan, origin)
            if edit.id is not None and edit.id in present:
                _fail(f"the id '{edit.id}' is already used in '{edit.kind}'.", **where,
                      fix="Give the new facility its own id, or leave 'id' out.")
            new_points.setdefault(edit.kind, []).append(edit)
            present.add(edit.id if edit.id is not None else facility_id(edit))
        elif edit.id not in present:
            _fail(f"no facility with id '{edit.id}' in '{edit.kind}'.", **where,
                  fix="Use an id from the layer (ids are text: keep leading zeros).")
        elif isinstance(edit, RemoveFacility):
            present.discard(edit.id)
        else:
            _check_values(edit, edit.attributes, plan, origin)

    additions = {}
    for kind, edits in new_points.items():
        lon, lat = _wgs84(edits)
        frame = gpd.GeoDataFrame({
            "id": [e.id if e.id is not None else facility_id(e) for e in edits],
            "kind": kind,
            "name": [e.name for e in edits],
            "status": [e.status for e in edits],
            "source": [_source(scenario, e) for e in edits],
            "location_quality": "exact",
        }, geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(dataset.crs)
        for name in sorted({name for e in edits for name in e.attributes if name != "source"}):
            frame[name] = [e.attributes.get(name) for e in edits]
        street, district = assign_points(frame.geometry.values, dataset.units)
        outside = np.flatnonzero(district == "")
        if len(outside):
            edit = edits[int(outside[0])]
            _fail("the point is outside every unit of the dataset.", origin=origin, edit=edit,
                  position=edit.position,
                  fix="Check lon/lat order and the datum (Amap and Tencent use gcj02, Baidu bd09).")
        frame["street_code"] = street
        frame["district_code"] = district
        frame["_position"] = [e.position for e in edits]
        additions[kind] = frame
    return _Prepared(additions=MappingProxyType(additions), ids=MappingProxyType(ids))


def _wgs84(edits: list[AddFacility]) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 coordinates of added points, each converted from its own datum (one call per datum)."""
    lon = np.array([e.lon for e in edits], dtype=float)
    lat = np.array([e.lat for e in edits], dtype=float)
    datums = np.array([e.datum for e in edits])
    for datum in set(datums) - {"wgs84"}:
        chosen = datums == datum
        lon[chosen], lat[chosen] = to_wgs84(lon[chosen], lat[chosen], datum)
    return lon, lat



def _source(scenario: Scenario, edit: AddFacility) -> str:
    detail = edit.attributes.get("source")
    label = scenario.source_label
    if detail and str(detail) != label:
        detail = str(detail)
        detail = detail[len("scenario:"):].strip() if detail.startswith("scenario:") else detail
        return f"{label}; {detail}"
    return label


def apply(scenario: Scenario, dataset: Dataset, plan: Plan) -> Dataset:
    """A new dataset with the scenario's edits; ``dataset`` is never changed.

    Only the layers and unit levels an edit touches are copied; the rest are shared with the base.
    Added points are assigned to units on their own (the base's assignments are kept).

    Parameters
    ----------
    scenario, dataset, plan
        As for :func:`validate`.

    Returns
    -------
    Dataset
        Named ``'<base> + <scenario>'``; added facilities are ``planned`` unless they say
        otherwise, grown units' ``pop_source`` ends in ``+scenario``.

    Raises
    ------
    ScenarioError
        If an edit does not fit the data or the plan (see :func:`validate`).
    """
    prepared = _prepare(scenario, dataset, plan)
    layers = dict(dataset.layers)
    edited: dict[str, gpd.GeoDataFrame] = {}

    def editable(kind: str) -> gpd.GeoDataFrame:
        if kind not in edited:
            base = layers.get(kind)
            edited[kind] = (base.copy() if base is not None
                            else gpd.GeoDataFrame({"id": pd.Series(dtype=object)}, geometry=[], crs=dataset.crs))
        return edited[kind]

    population = [edit for edit in scenario.edits if isinstance(edit, PopulationChange)]
    # Additions go in first so later edits (change, remove) can refer to them.
    for kind, frame in prepared.additions.items():
        edited[kind] = pd.concat([editable(kind), frame.drop(columns="_position")], ignore_index=True)
    for edit in scenario.edits:
        if isinstance(edit, RemoveFacility):
            frame = editable(edit.kind)
            edited[edit.kind] = frame[frame["id"].astype(str) != edit.id].reset_index(drop=True)
        elif isinstance(edit, ChangeFacility):
            frame = editable(edit.kind)
            rows = (frame["id"].astype(str) == edit.id).to_numpy()
            for name, value in edit.attributes.items():
                if name == "source":
                    continue
                if name not in frame:
                    frame[name] = None
                if isinstance(value, (int, float)) and not isinstance(value, bool) \
                        and not pd.api.types.is_numeric_dtype(frame[name]):
                    frame[name] = frame[name].astype(object)
                frame.loc[rows, name] = value
    for kind, frame in edited.items():
        layers[kind] = gpd.GeoDataFrame(frame, geometry="geometry", crs=dataset.crs)
    result = replace(dataset, layers=MappingProxyType(layers), name=f"{dataset.name} + {scenario.name}")
    if population:
        result = _grow_population(result, population)
    return result


def _grow_population(dataset: Dataset, changes: list[PopulationChange]) -> Dataset:
    """Scale populations; differences are pushed up so streets add up to districts and the city.

    The arithmetic runs on float arrays, written back once per column at the end (pandas' ``.loc``
    assignment costs milliseconds a call)."""
    units = {level: frame.copy() for level, frame in dataset.units.items()}
    values = {level: {c: frame[c].to_numpy(dtype=float, copy=True) for c in POPULATION_COLUMNS if c in frame}
              for level, frame in units.items()}
    grown = {level: np.zeros(len(frame), dtype=bool) for level, frame in units.items()}
    streets = units.get("street")
    for change in changes:
        factor = change.effective_factor
        own = values[change.level]
        at = units[change.level].index.get_loc(change.code)
        delta = {column: column_values[at] * (factor - 1.0) for column, column_values in own.items()}
        for column_values in own.values():
            column_values[at] = column_values[at] * factor
        grown[change.level][at] = True
        if change.level == "district":
            if streets is not None:
                inside = (streets["parent_code"] == change.code).to_numpy()
                for column in delta:
                    if column in values["street"]:
                        values["street"][column][inside] = values["street"][column][inside] * factor
                grown["street"] |= inside
        else:
            parent = units["street"]["parent_code"].to_numpy()[at]
            if "district" in units and parent in units["district"].index:
                up = units["district"].index.get_loc(parent)
                for column, change_in in delta.items():
                    if column in values["district"]:
                        values["district"][column][up] += change_in
                grown["district"][up] = True
        if "city" in units:
            for column, change_in in delta.items():
                if column in values["city"]:
                    values["city"][column] += change_in
            grown["city"][:] = True
    for level, frame in units.items():
        if not grown[level].any():
            continue
        for column, column_values in values[level].items():
            frame[column] = column_values
        if "pop_source" in frame:
            sources = frame["pop_source"].astype(str).to_numpy(dtype=object)
            sources[grown[level]] = [source if source.endswith(_GROWN) else source + _GROWN
                                     for source in sources[grown[level]]]
            frame["pop_source"] = pd.Series(sources, index=frame.index).astype(frame["pop_source"].dtype)
    return replace(dataset, units=MappingProxyType(units))

