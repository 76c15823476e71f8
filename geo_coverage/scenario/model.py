"""The scenario as data: its edits and the checks that build them from plain mappings.

Structure is checked here, when a scenario is parsed; everything that needs the data and the plan
(kinds, ids, unit codes, points inside the city, attribute types, indicator ids) when it is
validated or applied (:mod:`geo_coverage.scenario.apply`).  Every error is a
:class:`~geo_coverage.errors.ScenarioError` naming the edit by position and content.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from ..dataset import MAX_FACILITY_ATTRIBUTE
from ..datum import DATUMS
from ..errors import ScenarioError
from ..measures import COUNTED_STATUSES

__all__ = ["ACTIONS", "BASE_YEAR", "AddFacility", "RemoveFacility", "ChangeFacility", "PopulationChange",
           "Edit", "Scenario", "facility_id"]

ACTIONS = ("add", "remove", "change", "population")
# Population figures of the default data are the 2020 census; growth is compounded from it.
BASE_YEAR = 2020
# Population edits: a rate of at most ±50 % a year, and at most a hundredfold overall (a unit
# growing beyond that is a typing error; 1e308 a year to 2100 overflowed).
MAX_ANNUAL_GROWTH = 0.5
MAX_POPULATION_FACTOR = 100.0
_POPULATION_LEVELS = ("district", "street")
# Columns every facility has; they cannot be set as attributes.
_RESERVED = ("id", "kind", "status", "source", "street_code", "district_code", "geometry")


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
        """The edit in a few words, for messages and lists."""
        label = f" '{self.id}'" if self.id else ""
        return f"add {self.kind}{label} at {self.lon:g}, {self.lat:g} ({self.datum})"

    def to_dict(self) -> dict:
        """The edit as it is written in a scenario file."""
        out: dict[str, Any] = {"action": "add", "kind": self.kind, "lon": self.lon, "lat": self.lat,
                               "datum": self.datum}
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
        """The edit in a few words, for messages and lists."""
        return f"remove {self.kind} '{self.id}'"

    def to_dict(self) -> dict:
        """The edit as it is written in a scenario file."""
        return {"action": "remove", "kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class ChangeFacility:
    """New attribute values for a facility (e.g. ``beds``), existing or added earlier."""

    position: int
    kind: str
    id: str
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """The edit in a few words, for messages and lists."""
        values = ", ".join(f"{k}={v!r}" for k, v in self.attributes.items())
        return f"change {self.kind} '{self.id}' ({values})"

    def to_dict(self) -> dict:
        """The edit as it is written in a scenario file."""
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
        """The factor applied to every population column of the unit."""
        if self.factor is not None:
            return float(self.factor)
        if self.annual_growth is None or self.year is None:
            raise ScenarioError(f"Edit #{self.position}: needs 'factor', or 'year' with 'annual_growth'.")
        return float((1.0 + float(self.annual_growth)) ** (int(self.year) - BASE_YEAR))

    def describe(self) -> str:
        """The edit in a few words, for messages and lists."""
        how = (f"×{self.factor:g}" if self.factor is not None
               else f"{self.annual_growth:+.2%}/year to {self.year}")
        return f"population of {self.level} '{self.code}' {how}"

    def to_dict(self) -> dict:
        """The edit as it is written in a scenario file."""
        out: dict[str, Any] = {"action": "population", "level": self.level, "code": self.code}
        if self.factor is not None:
            out["factor"] = self.factor
        else:
            out["year"] = self.year
            out["annual_growth"] = self.annual_growth
        return out


Edit = AddFacility | RemoveFacility | ChangeFacility | PopulationChange
EDIT_TYPES = (AddFacility, RemoveFacility, ChangeFacility, PopulationChange)


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
        """What an added facility's ``source`` starts with: ``scenario: <name>``."""
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



def facility_id(edit: AddFacility | RemoveFacility | ChangeFacility) -> str:
    """The id of the facility an edit touches; an added facility without one is
    ``scenario-<position>``."""
    return edit.id if edit.id is not None else f"scenario-{edit.position}"


# --- building edits from mappings ---------------------------------------------------------------


def _fail(message: str, *, origin: str, edit: Mapping | Edit | None = None, position: int | None = None,
          fix: str | None = None) -> NoReturn:
    if position is not None:
        label = edit.describe() if isinstance(edit, EDIT_TYPES) else _short(edit)
        message = f"Edit #{position} ({label}): {message}"
    raise ScenarioError(message, file=origin, fix=fix)


def _short(value) -> str:
    text = repr(dict(value)) if isinstance(value, Mapping) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _optional_text(value, what: str, *, origin, edit=None, position=None) -> str | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
        _fail(f"'{what}' must be text, not {type(value).__name__} {value!r}.", origin=origin, edit=edit,
              position=position, fix="Quote codes and ids, e.g. \"110105\".")
    text = None if value is None else str(value).strip()
    return text or None


def _text(value, what: str, *, origin, edit=None, position=None) -> str:
    text = _optional_text(value, what, origin=origin, edit=edit, position=position)
    if text is None:
        _fail(f"'{what}' is missing.", origin=origin, edit=edit, position=position, fix=f"Add '{what}'.")
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
        if isinstance(item, (int, float)) and not isinstance(item, bool) and item > MAX_FACILITY_ATTRIBUTE:
            # (a negative value is refused when the edit is applied, scenario.apply)
            _fail(f"attribute '{name}' is {item:g}; a facility holds at most {MAX_FACILITY_ATTRIBUTE:,.0f}.",
                  origin=origin, edit=edit, position=position,
                  fix="Check the digits and the unit (beds, places, staff of this one facility).")
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
    common: dict[str, Any] = {"origin": origin, "edit": spec, "position": position}
    if action == "population":
        return _population_edit(spec, position, common)
    kind = _text(spec.get("kind"), "kind", **common)
    if action == "add":
        return _add_edit(spec, position, kind, common)
    facility = _text(spec.get("id"), "id", **common)
    if action == "remove":
        return RemoveFacility(position, kind, facility)
    attributes = _attributes(spec.get("attributes"), **common)
    if not attributes:
        _fail("'attributes' is empty: nothing to change.", **common, fix="Add e.g. attributes: {beds: 80}.")
    return ChangeFacility(position, kind, facility, MappingProxyType(attributes))


def _population_edit(spec: Mapping, position: int, common: dict[str, Any]) -> PopulationChange:
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
        if factor > MAX_POPULATION_FACTOR:
            _fail(f"the factor {factor:g} is more than {MAX_POPULATION_FACTOR:g}.", **common,
                  fix="Use e.g. 1.08 for +8 %.")
        return PopulationChange(position, level, code, factor=factor)
    if year is None or growth is None:
        _fail("needs 'factor', or 'year' with 'annual_growth'.", **common,
              fix="Write factor: 1.08, or year: 2025 with annual_growth: 0.015.")
    year_number = _number(year, "year", **common)
    if year_number != int(year_number) or not BASE_YEAR <= year_number <= 2100:
        _fail(f"the year {year!r} must be a whole year from {BASE_YEAR} to 2100.", **common)
    growth = _number(growth, "annual_growth", **common)
    if not -MAX_ANNUAL_GROWTH <= growth <= MAX_ANNUAL_GROWTH:
        _fail(f"the annual growth {growth:g} is outside -{MAX_ANNUAL_GROWTH:.0%} to "
              f"+{MAX_ANNUAL_GROWTH:.0%} a year.", **common,
              fix="Give a rate such as 0.015 for 1.5 % a year.")
    if (1.0 + growth) ** (int(year_number) - BASE_YEAR) > MAX_POPULATION_FACTOR:
        _fail(f"the annual growth {growth:g} to {int(year_number)} multiplies the population by more "
              f"than {MAX_POPULATION_FACTOR:g}.", **common, fix="Check the rate (0.015 is 1.5 % a year).")
    return PopulationChange(position, level, code, year=int(year_number), annual_growth=growth)


def _add_edit(spec: Mapping, position: int, kind: str, common: dict[str, Any]) -> AddFacility:
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
                       id=_optional_text(spec.get("id"), "id", **common),
                       name=_optional_text(spec.get("name"), "name", **common) or "",
                       attributes=MappingProxyType(_attributes(spec.get("attributes"), **common)),
                       status=status)


def _parse_edits(specs, *, origin: str) -> tuple[Edit, ...]:
    if specs is None:
        return ()
    if not isinstance(specs, list):
        _fail(f"'edits' must be a list, not {type(specs).__name__}.", origin=origin,
              fix="Write each edit as a '- action: ...' item.")
    return tuple(_parse_edit(spec, position, origin=origin) for position, spec in enumerate(specs, start=1))

