"""What-if scenarios: edits to a dataset (add, remove, resize facilities; grow population; change
targets), applied without touching the base, re-evaluated incrementally, and compared.

A scenario file is YAML (read with the safe loader)::

    name: 通州养老床位 2025
    description: Two 300-bed care homes; Tongzhou grows 8 % by 2025.
    base: default                 # or a data folder (relative to the scenario file)
    plan: beijing_2021_2025       # optional; a shipped plan id or a plan file
    edits:
      - {action: add, kind: elderly_care, lon: 116.66, lat: 39.91, datum: wgs84,
         id: new-1, name: 新建养老院, attributes: {beds: 300, nursing_beds: 200}}
      - {action: remove, kind: neonatal_centre, id: N1}
      - {action: change, kind: elderly_care, id: E2, attributes: {beds: 80}}
      - {action: population, level: district, code: "110112", factor: 1.08}
      - {action: population, level: street, code: "110112001", year: 2025, annual_growth: 0.015}
    targets:                      # indicator id -> target at every level
      elderly_beds_per_1000: 7.5

Structure is checked when a scenario is parsed (:func:`parse_scenario`); everything that needs the
data and the plan (kinds, ids, unit codes, points inside the city, attribute types, indicator ids)
when it is validated or applied (:func:`validate`, :func:`apply`).  Every error is a
:class:`~geo_coverage.errors.ScenarioError` naming the edit by position and content.

:func:`evaluate_scenario` re-evaluates only the indicators an edit touched: ratio, share and count
numerators change by the added, removed or resized facilities alone; 2SFCA accessibility is a sum
over facilities, so its change is the accessibility of the changed facilities alone; reach
("access") indicators change only at demand points within a catchment of a changed facility.
After population growth the base's demand points are rescaled unit by unit (never rebuilt; same
positions), so the covered masks and 2SFCA catchment matrices the access module cached for the base
are reused: reach numerators scale with their unit, 2SFCA redoes two sparse products on the new
weights, and ratio denominators are the grown populations.  Everything else is the base table's
rows, reused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io
from .coverage import COUNTED_STATUSES, evaluate, facility_values, missing_attributes
from .coverage import shortfall_of  # the engine's rounding rule, shared on purpose
from .coverage import compare as compare_values
from .dataset import POPULATION_COLUMNS, Dataset, assign_points, source_class
from .datum import DATUMS, to_wgs84
from .errors import GeoCoverageError, ScenarioError
from .plan import Indicator, Plan

__all__ = [
    "ACTIONS",
    "BASE_YEAR",
    "AddFacility",
    "RemoveFacility",
    "ChangeFacility",
    "PopulationChange",
    "Scenario",
    "Comparison",
    "parse_scenario",
    "scenario_from_yaml",
    "scenario_to_yaml",
    "scenario_to_dict",
    "scenario_from_edits",
    "load_scenario",
    "save_scenario",
    "validate",
    "apply",
    "touched_indicators",
    "evaluate_scenario",
    "compare",
    "comparison_export_bytes",
    "COMPARISON_HEADERS",
]

ACTIONS = ("add", "remove", "change", "population")
# Population figures of the default data are the 2020 census; growth is compounded from it.
BASE_YEAR = 2020
_POPULATION_LEVELS = ("district", "street")
# Columns every facility has; they cannot be set as attributes.
_GROWN = "+scenario"
_RESERVED = ("id", "kind", "status", "source", "street_code", "district_code", "geometry")


# --- the scenario -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddFacility:
    """A new facility at ``lon``/``lat`` in ``datum``; it counts as ``planned`` supply."""

    position: int
    kind: str
    lon: float
    lat: float
    datum: str = "wgs84"
    id: str | None = None
    name: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    status: str = "planned"

    def describe(self) -> str:
        label = f" '{self.id}'" if self.id else ""
        return f"add {self.kind}{label} at {self.lon:g}, {self.lat:g} ({self.datum})"

    def to_dict(self) -> dict:
        out = {"action": "add", "kind": self.kind, "lon": self.lon, "lat": self.lat, "datum": self.datum}
        if self.id is not None:
            out["id"] = self.id
        if self.name:
            out["name"] = self.name
        out["attributes"] = dict(self.attributes)
        if self.status != "planned":
            out["status"] = self.status
        return out


@dataclass(frozen=True)
class RemoveFacility:
    """Take an existing facility out (it closes, or the planner asks "what if it were not there")."""

    position: int
    kind: str
    id: str

    def describe(self) -> str:
        return f"remove {self.kind} '{self.id}'"

    def to_dict(self) -> dict:
        return {"action": "remove", "kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class ChangeFacility:
    """New attribute values for a facility (e.g. ``beds``), existing or added earlier."""

    position: int
    kind: str
    id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.attributes.items())
        return f"change {self.kind} '{self.id}' ({values})"

    def to_dict(self) -> dict:
        return {"action": "change", "kind": self.kind, "id": self.id, "attributes": dict(self.attributes)}


@dataclass(frozen=True)
class PopulationChange:
    """Scale every population column of a district or street.

    Either ``factor`` directly, or ``year`` with ``annual_growth`` (a rate, 0.015 for 1.5 %):
    ``factor = (1 + annual_growth) ** (year - 2020)``.  A district's streets are scaled by the
    same factor, so streets still add up to their district; a street's change is added to its
    district's and the city's totals.
    """

    position: int
    level: str
    code: str
    factor: float | None = None
    year: int | None = None
    annual_growth: float | None = None

    @property
    def effective_factor(self) -> float:
        if self.factor is not None:
            return float(self.factor)
        return float((1.0 + float(self.annual_growth)) ** (int(self.year) - BASE_YEAR))

    def describe(self) -> str:
        how = (f"×{self.factor:g}" if self.factor is not None
               else f"{self.annual_growth:+.2%}/year to {self.year}")
        return f"population of {self.level} '{self.code}' {how}"

    def to_dict(self) -> dict:
        out = {"action": "population", "level": self.level, "code": self.code}
        if self.factor is not None:
            out["factor"] = self.factor
        else:
            out["year"] = self.year
            out["annual_growth"] = self.annual_growth
        return out


Edit = AddFacility | RemoveFacility | ChangeFacility | PopulationChange


@dataclass(frozen=True)
class Scenario:
    """A named set of edits to a base dataset, and target overrides.  Immutable.

    Attributes
    ----------
    name, description
        What the scenario is, for people.
    base
        ``"default"`` (the embedded data) or a data folder.
    plan
        A shipped plan id or plan file; ``None`` for the default plan.
    edits
        The edits in the order they are applied.
    targets
        ``indicator id -> target`` replacing the plan's target at every level.
    origin
        Where it was read from (for messages and relative paths).
    """

    name: str
    description: str = ""
    base: str = "default"
    plan: str | None = None
    edits: tuple[Edit, ...] = ()
    targets: Mapping[str, float] = field(default_factory=dict)
    origin: str = "<scenario>"

    def __post_init__(self):
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))
        object.__setattr__(self, "edits", tuple(self.edits))

    @property
    def source_label(self) -> str:
        return f"scenario: {self.name}"

    def base_folder(self) -> Path | None:
        """The data folder (``None`` for the embedded default), relative paths from the file."""
        if self.base in ("", "default"):
            return None
        path = Path(self.base)
        if not path.is_absolute() and self.origin not in ("<scenario>", "<yaml>"):
            path = Path(self.origin).resolve().parent / path
        return path

    def with_edits(self, edits: Iterable[Mapping | Edit]) -> Scenario:
        """A new scenario with ``edits`` appended (plain dicts like the YAML, or edit objects)."""
        current = [edit.to_dict() for edit in self.edits]
        current += [edit.to_dict() if hasattr(edit, "to_dict") else dict(edit) for edit in edits]
        return replace(self, edits=_parse_edits(current, origin=self.origin))

    def without_edit(self, position: int) -> Scenario:
        """A new scenario without the edit at ``position`` (1-based); later edits renumbered."""
        kept = [edit.to_dict() for edit in self.edits if edit.position != position]
        return replace(self, edits=_parse_edits(kept, origin=self.origin))


# --- parsing ------------------------------------------------------------------------------------


def _fail(message: str, *, origin: str, edit: Mapping | Edit | None = None, position: int | None = None,
          fix: str | None = None):
    if position is not None:
        label = edit.describe() if hasattr(edit, "describe") else _short(edit)
        message = f"Edit #{position} ({label}): {message}"
    raise ScenarioError(message, file=origin, fix=fix)


def _short(value) -> str:
    text = repr(dict(value)) if isinstance(value, Mapping) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _text(value, what: str, *, origin, edit=None, position=None, required=True) -> str | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        _fail(f"'{what}' must be text, not {type(value).__name__} {value!r}.", origin=origin, edit=edit,
              position=position, fix="Quote codes and ids, e.g. \"110105\".")
    text = None if value is None else str(value).strip()
    if not text:
        if required:
            _fail(f"'{what}' is missing.", origin=origin, edit=edit, position=position,
                  fix=f"Add '{what}'.")
        return None
    return text


def _number(value, what: str, *, origin, edit=None, position=None) -> float:
    label = what if "'" in what else f"'{what}'"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(f"{label} must be a number, not {value!r}.", origin=origin, edit=edit, position=position,
              fix="Write a plain number.")
    number = float(value)
    if not math.isfinite(number):
        _fail(f"{label} must be a finite number, not {value!r}.", origin=origin, edit=edit,
              position=position)
    return number


def _attributes(value, *, origin, edit, position) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        _fail(f"'attributes' must be a mapping like {{beds: 300}}, not {value!r}.", origin=origin,
              edit=edit, position=position)
    out = {}
    for key, item in value.items():
        name = _text(key, "attribute name", origin=origin, edit=edit, position=position)
        if name in _RESERVED and name != "source":
            _fail(f"'{name}' cannot be set as an attribute.", origin=origin, edit=edit, position=position,
                  fix="Give the id with 'id:' beside 'attributes'.")
        if item is not None and not isinstance(item, (str, int, float, bool)):
            _fail(f"attribute '{name}' must be a number, text or true/false, not {item!r}.", origin=origin,
                  edit=edit, position=position)
        if isinstance(item, float) and not math.isfinite(item):
            _fail(f"attribute '{name}' must be finite, not {item!r}.", origin=origin, edit=edit,
                  position=position)
        out[name] = item
    return out


_KEYS = {
    "add": {"action", "kind", "lon", "lat", "datum", "id", "name", "attributes", "status"},
    "remove": {"action", "kind", "id"},
    "change": {"action", "kind", "id", "attributes"},
    "population": {"action", "level", "code", "factor", "year", "annual_growth"},
}


def _parse_edit(spec, position: int, *, origin: str) -> Edit:
    if not isinstance(spec, Mapping):
        _fail(f"an edit must be a mapping with 'action', not {spec!r}.", origin=origin, edit=spec,
              position=position, fix="Write e.g. {action: add, kind: elderly_care, lon: ..., lat: ...}.")
    action = spec.get("action")
    if action not in ACTIONS:
        _fail(f"unknown action {action!r}.", origin=origin, edit=spec, position=position,
              fix=f"Use one of {', '.join(ACTIONS)}.")
    unknown = sorted(str(key) for key in spec if key not in _KEYS[action])
    if unknown:
        _fail(f"unknown key(s) {unknown} for '{action}'.", origin=origin, edit=spec, position=position,
              fix=f"Use {sorted(_KEYS[action])}.")
    common = {"origin": origin, "edit": spec, "position": position}
    if action == "population":
        level = _text(spec.get("level"), "level", **common)
        if level not in _POPULATION_LEVELS:
            _fail(f"population changes apply to a district or a street, not '{level}'.", **common,
                  fix="Use level: district or level: street.")
        code = _text(spec.get("code"), "code", **common)
        factor, year, growth = spec.get("factor"), spec.get("year"), spec.get("annual_growth")
        if factor is not None:
            if year is not None or growth is not None:
                _fail("give either 'factor' or 'year' with 'annual_growth', not both.", **common)
            factor = _number(factor, "factor", **common)
            if factor < 0:
                _fail(f"the factor {factor:g} is negative.", **common, fix="Use e.g. 1.08 for +8 %.")
            return PopulationChange(position, level, code, factor=factor)
        if year is None or growth is None:
            _fail("needs 'factor', or 'year' with 'annual_growth'.", **common,
                  fix="Write factor: 1.08, or year: 2025 with annual_growth: 0.015.")
        year_number = _number(year, "year", **common)
        if year_number != int(year_number) or not BASE_YEAR <= year_number <= 2100:
            _fail(f"the year {year!r} must be a whole year from {BASE_YEAR} to 2100.", **common)
        growth = _number(growth, "annual_growth", **common)
        if growth <= -1:
            _fail(f"the annual growth {growth:g} is -100 % or less.", **common,
                  fix="Give a rate such as 0.015 for 1.5 % a year.")
        return PopulationChange(position, level, code, year=int(year_number), annual_growth=growth)
    kind = _text(spec.get("kind"), "kind", **common)
    if action == "add":
        lon = _number(spec.get("lon"), "lon", **common)
        lat = _number(spec.get("lat"), "lat", **common)
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            _fail(f"{lon:g}, {lat:g} is not a longitude, latitude in degrees.", **common)
        datum = _text(spec.get("datum", "wgs84"), "datum", **common).lower()
        if datum not in DATUMS:
            _fail(f"unknown datum '{datum}'.", **common,
                  fix="Use wgs84 (GPS), gcj02 (Amap, Tencent) or bd09 (Baidu).")
        status = _text(spec.get("status", "planned"), "status", **common)
        if status not in COUNTED_STATUSES:
            _fail(f"status '{status}' would not count as supply.", **common,
                  fix=f"Use one of {', '.join(COUNTED_STATUSES)}.")
        # Seven decimals of a degree are about a centimetre: enough, and the file stays readable.
        return AddFacility(position, kind, round(lon, 7), round(lat, 7), datum=datum,
                           id=_text(spec.get("id"), "id", **common, required=False),
                           name=_text(spec.get("name"), "name", **common, required=False) or "",
                           attributes=MappingProxyType(_attributes(spec.get("attributes"), **common)),
                           status=status)
    facility_id = _text(spec.get("id"), "id", **common)
    if action == "remove":
        return RemoveFacility(position, kind, facility_id)
    attributes = _attributes(spec.get("attributes"), **common)
    if not attributes:
        _fail("'attributes' is empty: nothing to change.", **common, fix="Add e.g. attributes: {beds: 80}.")
    return ChangeFacility(position, kind, facility_id, MappingProxyType(attributes))


def _parse_edits(specs, *, origin: str) -> tuple[Edit, ...]:
    if specs is None:
        return ()
    if not isinstance(specs, list):
        _fail(f"'edits' must be a list, not {type(specs).__name__}.", origin=origin,
              fix="Write each edit as a '- action: ...' item.")
    return tuple(_parse_edit(spec, position, origin=origin) for position, spec in enumerate(specs, start=1))


def parse_scenario(data, *, origin: str = "<scenario>") -> Scenario:
    """Build a :class:`Scenario` from a parsed YAML mapping, checking its structure.

    Raises
    ------
    ScenarioError
        Anything malformed, naming the edit by position and content.
    """
    if not isinstance(data, Mapping):
        _fail("A scenario must be a mapping with 'name' and 'edits'.", origin=origin,
              fix="Start the file with 'name:' and list the changes under 'edits:'.")
    unknown = sorted(str(key) for key in data if key not in
                     ("name", "description", "base", "plan", "edits", "targets"))
    if unknown:
        _fail(f"Unknown key(s) {unknown}.", origin=origin,
              fix="Use name, description, base, plan, edits and targets.")
    name = _text(data.get("name"), "name", origin=origin)
    description = data.get("description") or ""
    if not isinstance(description, str):
        _fail("'description' must be text.", origin=origin)
    base = _text(data.get("base", "default"), "base", origin=origin, required=False) or "default"
    plan = _text(data.get("plan"), "plan", origin=origin, required=False)
    targets_spec = data.get("targets") or {}
    if not isinstance(targets_spec, Mapping):
        _fail("'targets' must map indicator ids to numbers.", origin=origin,
              fix="Write e.g. targets: {elderly_beds_per_1000: 7.5}.")
    targets = {}
    for key, value in targets_spec.items():
        indicator = _text(key, "indicator id", origin=origin)
        targets[indicator] = _number(value, f"target of '{indicator}'", origin=origin)
    return Scenario(name=name, description=description.strip(), base=base, plan=plan,
                    edits=_parse_edits(data.get("edits"), origin=origin), targets=targets, origin=origin)


def scenario_from_yaml(text: str, *, origin: str = "<yaml>") -> Scenario:
    """Parse a scenario from YAML text (safe loader: Python tags are refused)."""
    try:
        data = io.parse_yaml(text, origin=origin)
    except ScenarioError:
        raise
    except GeoCoverageError as exc:  # the YAML itself is broken: still a scenario problem
        raise ScenarioError(exc.message, file=exc.file, row=exc.row, fix=exc.fix) from None
    return parse_scenario(data, origin=origin)


def scenario_to_dict(scenario: Scenario) -> dict:
    """The scenario as plain data, in the file's key order."""
    out: dict[str, Any] = {"name": scenario.name}
    if scenario.description:
        out["description"] = scenario.description
    out["base"] = scenario.base
    if scenario.plan:
        out["plan"] = scenario.plan
    out["edits"] = [edit.to_dict() for edit in scenario.edits]
    if scenario.targets:
        out["targets"] = dict(scenario.targets)
    return out


def scenario_to_yaml(scenario: Scenario) -> str:
    """YAML text that :func:`scenario_from_yaml` reads back into an equal scenario."""
    return io.dump_yaml(scenario_to_dict(scenario))


def scenario_from_edits(name: str, edits: Iterable[Mapping], *, description: str = "",
                        base: str = "default", plan: str | None = None) -> Scenario:
    """A scenario from edit dicts, e.g. :func:`geo_coverage.optimize.solution_to_edits`'s output."""
    return parse_scenario({"name": name, "description": description, "base": base, "plan": plan,
                           "edits": [dict(edit) for edit in edits]})


def load_scenario(path: str | Path) -> Scenario:
    """Read and parse a scenario YAML file."""
    path = Path(path)
    try:
        data = io.read_yaml(path)
    except ScenarioError:
        raise
    except GeoCoverageError as exc:
        raise ScenarioError(exc.message, file=exc.file, row=exc.row, fix=exc.fix) from None
    return parse_scenario(data, origin=str(path))


def save_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write the scenario as YAML (atomically)."""
    return io.write_text(scenario_to_yaml(scenario), path)


# --- validation and application -------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    """What validation worked out, so applying does not redo it."""

    additions: Mapping[str, gpd.GeoDataFrame]   # kind -> new points, projected and assigned
    ids: Mapping[str, set]                      # kind -> ids after the edits


def validate(scenario: Scenario, dataset: Dataset, plan: Plan) -> None:
    """Check every edit against the data and the plan.

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
        where = {"origin": origin, "edit": edit, "position": edit.position}
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
            present.add(edit.id if edit.id is not None else _generated_id(edit))
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
            "id": [e.id if e.id is not None else _generated_id(e) for e in edits],
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


def _generated_id(edit: AddFacility) -> str:
    return f"scenario-{edit.position}"


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
            parent = streets["parent_code"].to_numpy()[at]
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


# --- incremental evaluation -----------------------------------------------------------------------


def touched_indicators(scenario: Scenario, plan: Plan) -> tuple[str, ...]:
    """Ids of the indicators an edit can change: those of an edited layer, those divided by (or
    reaching) population when population changes, and those with a new target."""
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


def _has_population(rows, indicator: Indicator, plan: Plan, dataset: Dataset) -> bool:
    column = plan.population_column(indicator.population)
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
            ids.add(edit.id if edit.id is not None else _generated_id(edit))
    before, after = {}, {}
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
            denominator = _population(rows, new, plan.population_column(indicator.population))
        return numerator, denominator
    from . import access

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
    from . import access

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
        frame = dataset.layer(indicator.layer)
        frame = frame[frame["status"].isin(COUNTED_STATUSES)]
        return access.coverage_within(xy, access.facility_points(frame)[0], max_cost=max_cost, weight=weight,
                                      mode=indicator.mode, settings=settings)

    population = demand.weight(plan.population_column(indicator.population))[points]
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
    from . import access

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
    frame = dataset.layer(indicator.layer)
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


# --- comparison -----------------------------------------------------------------------------------


COMPARISON_HEADERS = {
    "value_before": ("现状值", "Value before"),
    "value_after": ("情景值", "Value after"),
    "value_change": ("变化", "Change in value"),
    "shortfall_before": ("现状缺口", "Shortfall before"),
    "shortfall_after": ("情景缺口", "Shortfall after"),
    "shortfall_change": ("缺口变化", "Change in shortfall"),
    "status_before": ("现状状态", "Status before"),
    "status_after": ("情景状态", "Status after"),
    "flip": ("达标变化", "Flip"),
    "shortfall_closed": ("已弥补缺口", "Shortfall closed"),
    "units_gap_to_met": ("转为达标数", "Units gap → met"),
    "units_met_to_gap": ("转为未达标数", "Units met → gap"),
}
GAP_TO_MET = "gap→met"
MET_TO_GAP = "met→gap"


@dataclass(frozen=True)
class Comparison:
    """Before/after coverage of a scenario.

    Attributes
    ----------
    table
        One row per unit × indicator: ``level, unit_code, unit_name, parent_code, indicator,
        value_before, value_after, value_change, shortfall_before, shortfall_after,
        shortfall_change, status_before, status_after, flip`` (``gap→met``, ``met→gap`` or '').
    flips
        The rows whose status flipped between gap and met.
    closed
        Per indicator × level: summed shortfall before and after, ``shortfall_closed`` (before −
        after, negative when the scenario widens the gap), and how many units flipped each way.
    """

    table: pd.DataFrame
    flips: pd.DataFrame
    closed: pd.DataFrame

    def flipped(self, direction: str = GAP_TO_MET) -> pd.DataFrame:
        return self.flips[self.flips["flip"] == direction]


def compare(before_table: pd.DataFrame, after_table: pd.DataFrame) -> Comparison:
    """Deltas of value, shortfall and status per unit × indicator between two coverage tables."""
    keys = ["level", "unit_code", "indicator"]
    left = before_table[keys + ["unit_name", "parent_code", "value", "shortfall", "status", "shortfall_unit"]]
    right = after_table[keys + ["value", "shortfall", "status"]]
    merged = left.merge(right, on=keys, how="outer", suffixes=("_before", "_after"), sort=False)
    if merged["unit_name"].isna().any():  # rows only the scenario has (a layer it added)
        names = after_table.set_index(keys)[["unit_name", "parent_code", "shortfall_unit"]]
        fill = names.reindex(pd.MultiIndex.from_frame(merged[keys]))
        for column in ("unit_name", "parent_code", "shortfall_unit"):
            merged[column] = merged[column].fillna(pd.Series(fill[column].to_numpy(), index=merged.index))
    for column in ("status_before", "status_after"):
        merged[column] = merged[column].fillna("no_data")
    merged["value_change"] = merged["value_after"] - merged["value_before"]
    merged["shortfall_change"] = merged["shortfall_after"] - merged["shortfall_before"]
    before, after = merged["status_before"].to_numpy(), merged["status_after"].to_numpy()
    merged["flip"] = np.where((before == "gap") & (after == "met"), GAP_TO_MET,
                              np.where((before == "met") & (after == "gap"), MET_TO_GAP, ""))
    table = merged[["level", "unit_code", "unit_name", "parent_code", "indicator", "value_before",
                    "value_after", "value_change", "shortfall_before", "shortfall_after", "shortfall_change",
                    "shortfall_unit", "status_before", "status_after", "flip"]]
    flips = table[table["flip"] != ""].reset_index(drop=True)
    grouped = table.groupby(["indicator", "level"], sort=False)
    closed = pd.DataFrame({
        "shortfall_before": grouped["shortfall_before"].sum(min_count=1),
        "shortfall_after": grouped["shortfall_after"].sum(min_count=1),
        "units_gap_to_met": grouped["flip"].apply(lambda s: int((s == GAP_TO_MET).sum())),
        "units_met_to_gap": grouped["flip"].apply(lambda s: int((s == MET_TO_GAP).sum())),
        "shortfall_unit": grouped["shortfall_unit"].first(),
    }).reset_index()
    closed.insert(4, "shortfall_closed", closed["shortfall_before"] - closed["shortfall_after"])
    return Comparison(table=table, flips=flips, closed=closed)


def _bilingual(frame: pd.DataFrame) -> pd.DataFrame:
    from .gaps import bilingual

    return bilingual(frame.rename(columns={c: f"{zh} {en}" for c, (zh, en) in COMPARISON_HEADERS.items()}))


def comparison_export_bytes(comparison: Comparison, fmt: str, *, plan: Plan, dataset: Dataset | None = None,
                            scenario: Scenario | None = None) -> bytes:
    """The comparison as file bytes, like the gap list: ``csv`` (every row, UTF-8 with BOM),
    ``xlsx`` (summary, flips and every row; Chinese + English headers) or ``geojson`` (the flipped
    units with their outlines, WGS84)."""
    from .gaps import gap_geoframe, provenance_notes

    fmt = fmt.lower().lstrip(".")
    if fmt == "csv":
        return io.dataframe_to_csv_bytes(comparison.table)
    if fmt == "xlsx":
        names = {ind.id: ind.name_zh for ind in plan.all_indicators}
        summary = comparison.closed.copy()
        summary.insert(1, "indicator_name_zh", summary["indicator"].map(names))
        notes = provenance_notes(dataset, plan)
        if scenario is not None:
            notes["情景 Scenario"] = f"{scenario.name}: {scenario.description}".strip(": ")
        sheets = {"汇总 Summary": _bilingual(summary), "达标变化 Flips": _bilingual(comparison.flips),
                  "对比 Comparison": _bilingual(comparison.table)}
        return io.dataframe_to_xlsx_bytes(sheets, notes=notes)
    if fmt == "geojson":
        if dataset is None:
            raise ScenarioError("GeoJSON export needs the dataset for the unit outlines.")
        pieces = [gap_geoframe(rows, dataset, level=level)
                  for level, rows in comparison.flips.groupby("level", sort=False)]
        if not pieces:
            frame = gpd.GeoDataFrame(comparison.flips.copy(), geometry=[], crs=4326)
        else:
            frame = pd.concat(pieces, ignore_index=True)
        return io.dataframe_to_geojson_bytes(gpd.GeoDataFrame(frame, geometry="geometry", crs=4326))
    raise ScenarioError(f"Unknown export format '{fmt}'.", fix="Use csv, xlsx or geojson.")
