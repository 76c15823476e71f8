"""A plan as data: indicators with targets, populations, facility kinds and clause references.

A plan file is YAML (read with a safe loader) and is validated when loaded: an unknown type,
layer or level, a missing target or a duplicate id is a :class:`~geo_coverage.errors.PlanError`
that names the indicator.  A second plan needs a second file, never code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import PlanError

__all__ = [
    "INDICATOR_TYPES",
    "LEVELS",
    "COMPARATORS",
    "Measure",
    "Indicator",
    "Kind",
    "Monitoring",
    "Plan",
    "load_plan",
    "default_plan",
    "available_plans",
    "PLAN_DIR",
]

INDICATOR_TYPES = ("ratio", "share", "count", "access", "accessible_ratio")
LEVELS = ("city", "district", "street")
COMPARATORS = (">=", ">", "<=", "<", "==")
DECAYS = ("step", "gaussian", "gravity")
MODES = ("walk", "drive")
_OPS = (">=", ">", "<=", "<", "==", "!=")
PLAN_DIR = Path(__file__).resolve().parent / "plans"
DEFAULT_PLAN_ID = "beijing_2021_2025"

# Travel speeds turn a time catchment into a distance for straight-line costs (km/h).
DEFAULT_SPEED_KMH = MappingProxyType({"walk": 4.0, "drive": 30.0})


@dataclass(frozen=True)
class Measure:
    """How to aggregate one side of an indicator over a unit's facilities.

    ``count`` counts facilities (optionally those where ``where`` holds); ``sum`` adds an attribute.
    """

    sum: str | None = None
    count: bool = False
    where_attribute: str | None = None
    where_op: str = "=="
    where_value: Any = None

    @property
    def attributes(self) -> tuple[str, ...]:
        names = [n for n in (self.sum, self.where_attribute) if n]
        return tuple(names)

    def describe(self) -> str:
        base = f"sum({self.sum})" if self.sum else "count"
        if self.where_attribute:
            base += f" where {self.where_attribute} {self.where_op} {self.where_value!r}"
        return base


@dataclass(frozen=True)
class Kind:
    """A facility kind: one layer."""

    id: str
    name_zh: str
    name_en: str
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class Indicator:
    """One mandate, evaluated per unit.

    ``target`` maps each level to its target; ``strata`` (for shares) holds per-stratum targets.
    For access types, ``max_distance_m`` or ``max_minutes`` with ``mode`` define the catchment.
    """

    id: str
    name_zh: str
    name_en: str
    type: str
    layer: str
    levels: tuple[str, ...]
    target: Mapping[str, float]
    comparator: str
    clause: str
    group: str = ""
    numerator: Measure | None = None
    denominator: Measure | None = None
    population: str | None = None
    scale: float = 1.0
    unit_zh: str = ""
    unit_en: str = ""
    shortfall_unit: str = ""
    target_is_default: bool = False
    target_note: str = ""
    note: str = ""
    strata_attribute: str | None = None
    strata_targets: Mapping[str, float] = field(default_factory=dict)
    life_circle: str | None = None
    max_distance_m: float | None = None
    max_minutes: float | None = None
    mode: str = "walk"
    decay: str = "step"
    companion_of: str | None = None

    def target_at(self, level: str) -> float:
        """The target at ``level`` (falls back to the only target given)."""
        if level in self.target:
            return self.target[level]
        if len(set(self.target.values())) == 1:
            return next(iter(self.target.values()))
        raise PlanError(f"Indicator '{self.id}' has no target for level '{level}'.")

    def catchment_m(self, *, speed_kmh: Mapping[str, float] = DEFAULT_SPEED_KMH) -> float:
        """The catchment as a travel distance in metres (minutes are turned into metres by speed)."""
        if self.max_distance_m is not None:
            return float(self.max_distance_m)
        if self.max_minutes is not None:
            return float(self.max_minutes) / 60.0 * float(speed_kmh[self.mode]) * 1000.0
        raise PlanError(f"Indicator '{self.id}' has no catchment (max_distance_m or max_minutes).")


@dataclass(frozen=True)
class Monitoring:
    """How a plan's yearly series is judged (plan §五; ``monitoring:`` in the plan file).

    Attributes
    ----------
    start_year, end_year
        The plan's period; targets are due in ``end_year``.
    baseline_year
        The year whose figures the plan starts from; projections fit points from it on.
    warning_margin
        ``at_risk`` when the projection falls short of the target by at most this share of it.
    volatility_threshold
        ``volatile`` when a year-on-year relative change exceeds this share.
    midterm_year, final_year
        The years of the mid-term and final assessments.
    """

    start_year: int
    end_year: int
    baseline_year: int
    warning_margin: float = 0.10
    volatility_threshold: float = 0.20
    midterm_year: int | None = None
    final_year: int | None = None


@dataclass(frozen=True)
class Plan:
    """A validated plan: its indicators (plan mandates and their analytic companions)."""

    id: str
    name_zh: str
    name_en: str
    levels: tuple[str, ...]
    populations: Mapping[str, Mapping[str, str]]
    kinds: Mapping[str, Kind]
    indicators: tuple[Indicator, ...]
    companions: tuple[Indicator, ...] = ()
    life_circles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""
    monitoring: Monitoring | None = None
    groups: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def all_indicators(self) -> tuple[Indicator, ...]:
        """The plan's indicators followed by their companions (e.g. 2SFCA beside a plain ratio)."""
        return self.indicators + self.companions

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.all_indicators:
            if ind.id == indicator_id:
                return ind
        known = ", ".join(i.id for i in self.all_indicators)
        raise PlanError(
            f"Unknown indicator '{indicator_id}' in plan '{self.id}'.",
            fix=f"Use one of: {known} (see `geo-coverage indicators`).",
        )

    def monitoring_rules(self) -> Monitoring:
        """The plan's monitoring rules; a plan file without ``period`` cannot be monitored."""
        if self.monitoring is None:
            raise PlanError(f"Plan '{self.id}' has no 'period', so it cannot be monitored.",
                            file=self.source,
                            fix="Add 'period: [FIRST_YEAR, END_YEAR]' to the plan file.")
        return self.monitoring

    def group_name(self, group: str, lang: str = "zh") -> str:
        """A group's name in ``lang`` (the id itself when the plan names none)."""
        names = self.groups.get(group, {})
        return str(names.get(f"name_{lang}", group or "—"))

    def population_column(self, group: str) -> str:
        return self.populations[group]["column"]

    def indicators_for(self, ids=None, *, include_companions: bool = True) -> tuple[Indicator, ...]:
        if ids:
            return tuple(self.indicator(i) for i in ids)
        return self.all_indicators if include_companions else self.indicators


def available_plans() -> dict[str, Path]:
    """Plan files shipped with the package, by file stem."""
    return {p.stem: p for p in sorted(PLAN_DIR.glob("*.yaml"))}


def default_plan() -> Plan:
    return load_plan(available_plans()[DEFAULT_PLAN_ID])


def load_plan(source: str | Path | Mapping) -> Plan:
    """Load and validate a plan from a YAML file, a shipped plan id, or an already-parsed mapping."""
    if isinstance(source, Mapping):
        return _parse_plan(source, origin="<plan>")
    text_source = str(source)
    plans = available_plans()
    path = plans[text_source].resolve() if text_source in plans else Path(text_source)
    from . import io  # local: io is the only module that reads files

    data = io.read_yaml(path)
    return _parse_plan(data, origin=str(path))


# --- validation -------------------------------------------------------------------------------


def _need(mapping: Mapping, key: str, where: str, origin: str):
    if key not in mapping or mapping[key] is None or mapping[key] == "":
        raise PlanError(f"{where} has no '{key}'.", file=origin, fix=f"Add '{key}' to {where}.")
    return mapping[key]


def _number(value, where: str, origin: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PlanError(f"{where}: '{value}' is not a number.", file=origin) from None
    if not math.isfinite(number):
        raise PlanError(f"{where}: '{value}' is not a finite number.", file=origin)
    return number


def _measure(spec, where: str, origin: str, kind: Kind) -> Measure:
    if not isinstance(spec, Mapping):
        raise PlanError(f"{where} must be a mapping like {{sum: beds}} or {{count: true}}.",
                        file=origin)
    unknown = set(spec) - {"sum", "count", "where"}
    if unknown:
        raise PlanError(f"{where} has unknown keys {sorted(unknown)}.", file=origin,
                        fix="Use 'sum: ATTRIBUTE' or 'count: true', optionally with 'where'.")
    total = spec.get("sum")
    count = bool(spec.get("count", False))
    if bool(total) == count:
        raise PlanError(f"{where} needs exactly one of 'sum' or 'count: true'.", file=origin)
    where_spec = spec.get("where") or {}
    attr = where_spec.get("attribute") if where_spec else None
    op = where_spec.get("op", "==") if where_spec else "=="
    if op not in _OPS:
        raise PlanError(f"{where}: unknown operator '{op}'.", file=origin, fix=f"Use one of {_OPS}.")
    for name in (total, attr):
        if name and name not in kind.attributes:
            raise PlanError(f"{where}: layer '{kind.id}' has no attribute '{name}'.", file=origin,
                            fix=f"Use one of {sorted(kind.attributes)} or declare it under kinds.")
    return Measure(sum=total, count=count, where_attribute=attr, where_op=op,
                   where_value=where_spec.get("value") if where_spec else None)


def _parse_plan(data: Mapping, *, origin: str) -> Plan:
    if not isinstance(data, Mapping):
        raise PlanError("A plan file must be a mapping with 'id', 'kinds' and 'indicators'.",
                        file=origin)
    plan_id = str(_need(data, "id", "The plan", origin))
    levels = tuple(data.get("levels", LEVELS))
    for level in levels:
        if level not in LEVELS:
            raise PlanError(f"The plan names unknown level '{level}'.", file=origin,
                            fix=f"Use levels from {LEVELS}.")
    populations = {}
    for key, spec in (data.get("populations") or {}).items():
        if isinstance(spec, str):
            spec = {"column": spec}
        populations[str(key)] = MappingProxyType({
            "column": str(_need(spec, "column", f"Population group '{key}'", origin)),
            "name_zh": str(spec.get("name_zh", key)),
            "name_en": str(spec.get("name_en", key)),
        })
    kinds = {}
    for key, spec in (_need(data, "kinds", "The plan", origin) or {}).items():
        spec = spec or {}
        attrs = spec.get("attributes") or {}
        kinds[str(key)] = Kind(str(key), str(spec.get("name_zh", key)), str(spec.get("name_en", key)),
                               MappingProxyType({str(k): str(v) for k, v in attrs.items()}))
    life_circles = {str(k): MappingProxyType(dict(v)) for k, v in (data.get("life_circles") or {}).items()}

    indicators: list[Indicator] = []
    companions: list[Indicator] = []
    seen: set[str] = set()
    raw_indicators = _need(data, "indicators", "The plan", origin)
    if not isinstance(raw_indicators, list):
        raise PlanError("'indicators' must be a list.", file=origin)
    for position, spec in enumerate(raw_indicators, start=1):
        ind = _parse_indicator(spec, position, origin, plan_levels=levels, populations=populations,
                               kinds=kinds, life_circles=life_circles, seen=seen)
        indicators.append(ind)
        for companion_spec in spec.get("companions") or []:
            merged = {k: v for k, v in spec.items() if k not in ("companions", "id", "target",
                                                                  "target_is_default", "comparator",
                                                                  "shortfall_unit", "note")}
            merged.update(companion_spec)
            merged.setdefault("target", spec.get("target"))
            merged.setdefault("target_is_default", True)
            merged.setdefault("target_note", "Uses the plain ratio's target for reachable supply.")
            merged.setdefault("comparator", spec.get("comparator", ">="))
            merged.setdefault("shortfall_unit", spec.get("shortfall_unit", ""))
            merged["companion_of"] = ind.id
            companions.append(_parse_indicator(merged, position, origin, plan_levels=levels,
                                               populations=populations, kinds=kinds,
                                               life_circles=life_circles, seen=seen))
    monitoring = _monitoring(data, origin)
    groups = {str(k): MappingProxyType({"name_zh": str((v or {}).get("name_zh", k)),
                                        "name_en": str((v or {}).get("name_en", k))})
              for k, v in (data.get("groups") or {}).items()}
    named = {ind.group for ind in indicators if ind.group}
    unknown_groups = sorted(named - set(groups)) if groups else []
    if unknown_groups:
        raise PlanError(f"Indicators name group(s) {unknown_groups} that 'groups' does not list.",
                        file=origin, fix=f"Add them under 'groups' or use one of {sorted(groups)}.")
    return Plan(
        id=plan_id,
        name_zh=str(data.get("name_zh", plan_id)),
        name_en=str(data.get("name_en", plan_id)),
        levels=levels,
        populations=MappingProxyType(populations),
        kinds=MappingProxyType(kinds),
        indicators=tuple(indicators),
        companions=tuple(companions),
        life_circles=MappingProxyType(life_circles),
        source=origin,
        monitoring=monitoring,
        groups=MappingProxyType(groups),
    )


def _year(value, where: str, origin: str) -> int:
    number = _number(value, where, origin)
    if number != int(number) or not 1900 <= number <= 2200:
        raise PlanError(f"{where}: '{value}' is not a year.", file=origin,
                        fix="Write a year such as 2025.")
    return int(number)


def _monitoring(data: Mapping, origin: str) -> Monitoring | None:
    """The ``period`` and ``monitoring`` sections, checked (``None`` without a period)."""
    period = data.get("period")
    spec = data.get("monitoring") or {}
    if period is None:
        if spec:
            raise PlanError("The plan has a 'monitoring' section but no 'period'.", file=origin,
                            fix="Add 'period: [FIRST_YEAR, END_YEAR]'.")
        return None
    if not isinstance(period, (list, tuple)) or len(period) != 2:
        raise PlanError(f"'period' must be [FIRST_YEAR, END_YEAR], not {period!r}.", file=origin,
                        fix="Write e.g. period: [2021, 2025].")
    start, end = (_year(v, "period", origin) for v in period)
    if end < start:
        raise PlanError(f"'period' ends ({end}) before it starts ({start}).", file=origin)
    if not isinstance(spec, Mapping):
        raise PlanError("'monitoring' must be a mapping.", file=origin,
                        fix="Write e.g. monitoring: {warning_margin: 0.1}.")
    known = {"baseline_year", "warning_margin", "volatility_threshold", "midterm_year",
             "final_year"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise PlanError(f"'monitoring' has unknown key(s) {unknown}.", file=origin,
                        fix=f"Use {sorted(known)}.")
    baseline = _year(spec.get("baseline_year", start - 1), "monitoring baseline_year", origin)
    if baseline > start:
        raise PlanError(f"monitoring baseline_year {baseline} is after the period starts "
                        f"({start}).",
                        file=origin, fix="Use the year before the period, or its first year.")
    shares: dict[str, float] = {}
    for key, default in (("warning_margin", 0.10), ("volatility_threshold", 0.20)):
        share = _number(spec.get(key, default), f"monitoring {key}", origin)
        if not 0 <= share <= 5:
            raise PlanError(f"monitoring {key} {share:g} is not a share.", file=origin,
                            fix="Write a share such as 0.1 for 10 %.")
        shares[key] = share
    stage_years: dict[str, int | None] = {}
    for key in ("midterm_year", "final_year"):
        if spec.get(key) is None:
            stage_years[key] = None
            continue
        year = _year(spec[key], f"monitoring {key}", origin)
        if not start <= year <= end:
            raise PlanError(f"monitoring {key} {year} is outside the period {start}–{end}.",
                            file=origin)
        stage_years[key] = year
    return Monitoring(start_year=start, end_year=end, baseline_year=baseline,
                      warning_margin=shares["warning_margin"],
                      volatility_threshold=shares["volatility_threshold"],
                      midterm_year=stage_years["midterm_year"], final_year=stage_years["final_year"])


def _parse_indicator(spec: Any, position: int, origin: str, *, plan_levels: tuple[str, ...],
                     populations: Mapping[str, Mapping[str, str]], kinds: Mapping[str, Kind],
                     life_circles: Mapping[str, Mapping[str, Any]], seen: set[str]) -> Indicator:
    if not isinstance(spec, Mapping):
        raise PlanError(f"Indicator #{position} is not a mapping.", file=origin)
    ind_id = str(_need(spec, "id", f"Indicator #{position}", origin))
    where = f"Indicator '{ind_id}'"
    if ind_id in seen:
        raise PlanError(f"{where} is defined twice.", file=origin, fix="Give every indicator its own id.")
    seen.add(ind_id)
    ind_type = str(_need(spec, "type", where, origin))
    if ind_type not in INDICATOR_TYPES:
        raise PlanError(f"{where} has unknown type '{ind_type}'.", file=origin,
                        fix=f"Use one of {INDICATOR_TYPES}.")
    layer = str(_need(spec, "layer", where, origin))
    if layer not in kinds:
        raise PlanError(f"{where} names unknown layer '{layer}'.", file=origin,
                        fix=f"Use one of {sorted(kinds)} or declare the kind under 'kinds'.")
    kind = kinds[layer]
    levels = tuple(_need(spec, "levels", where, origin))
    for level in levels:
        if level not in LEVELS or level not in plan_levels:
            raise PlanError(f"{where} names unknown level '{level}'.", file=origin,
                            fix=f"Use levels from {plan_levels}.")
    if "target" not in spec or spec["target"] is None:
        raise PlanError(f"{where} has no target.", file=origin,
                        fix="Add 'target:' (mark it 'target_is_default: true' if the plan gives no number).")
    raw_target = spec["target"]
    if isinstance(raw_target, Mapping):
        target = {}
        for level, value in raw_target.items():
            if level not in LEVELS:
                raise PlanError(f"{where}: target for unknown level '{level}'.", file=origin)
            target[level] = _number(value, f"{where} target at {level}", origin)
        missing = [lv for lv in levels if lv not in target]
        if missing:
            raise PlanError(f"{where} has no target for level(s) {missing}.", file=origin)
    else:
        value = _number(raw_target, f"{where} target", origin)
        target = dict.fromkeys(levels, value)
    comparator = str(spec.get("comparator", ">="))
    if comparator not in COMPARATORS:
        raise PlanError(f"{where} has unknown comparator '{comparator}'.", file=origin,
                        fix=f"Use one of {COMPARATORS}.")

    numerator = denominator = None
    population = spec.get("population")
    if ind_type in ("ratio", "share", "count", "accessible_ratio"):
        # For accessible_ratio the numerator is each facility's supply (capacity).
        numerator = _measure(_need(spec, "numerator", where, origin), f"{where} numerator", origin, kind)
    if ind_type == "share":
        denominator = _measure(_need(spec, "denominator", where, origin), f"{where} denominator",
                               origin, kind)
    if ind_type in ("ratio", "access", "accessible_ratio"):
        population = str(_need(spec, "population", where, origin))
        if population not in populations:
            raise PlanError(f"{where} names unknown population group '{population}'.", file=origin,
                            fix=f"Use one of {sorted(populations)} or declare it under 'populations'.")
    scale = _number(spec.get("scale", 1000 if ind_type == "accessible_ratio" else 1), f"{where} scale", origin)

    strata_attribute = None
    strata_targets: dict[str, float] = {}
    if spec.get("strata"):
        if ind_type != "share":
            raise PlanError(f"{where}: only 'share' indicators may have strata.", file=origin)
        strata = spec["strata"]
        strata_attribute = str(_need(strata, "attribute", f"{where} strata", origin))
        if strata_attribute not in kind.attributes:
            raise PlanError(f"{where}: layer '{layer}' has no attribute '{strata_attribute}'.", file=origin)
        strata_targets = {str(k): _number(v, f"{where} stratum {k}", origin)
                          for k, v in (_need(strata, "targets", f"{where} strata", origin)).items()}

    life_circle = spec.get("life_circle")
    max_distance = spec.get("max_distance_m")
    max_minutes = spec.get("max_minutes")
    mode = str(spec.get("mode", "walk"))
    decay = str(spec.get("decay", "step"))
    if ind_type in ("access", "accessible_ratio"):
        if life_circle is not None:
            if life_circle not in life_circles:
                raise PlanError(f"{where} names unknown life circle '{life_circle}'.", file=origin,
                                fix=f"Use one of {sorted(life_circles)}.")
            max_distance = life_circles[life_circle].get("max_distance_m", max_distance)
        if max_distance is None and max_minutes is None:
            raise PlanError(f"{where} needs a catchment: 'life_circle', 'max_distance_m' or 'max_minutes'.",
                            file=origin)
        if mode not in MODES:
            raise PlanError(f"{where} has unknown mode '{mode}'.", file=origin, fix=f"Use one of {MODES}.")
        if decay not in DECAYS:
            raise PlanError(f"{where} has unknown decay '{decay}'.", file=origin, fix=f"Use one of {DECAYS}.")

    return Indicator(
        id=ind_id,
        name_zh=str(spec.get("name_zh", ind_id)),
        name_en=str(spec.get("name_en", ind_id)),
        type=ind_type,
        layer=layer,
        levels=levels,
        target=MappingProxyType(target),
        comparator=comparator,
        clause=str(spec.get("clause", "")),
        group=str(spec.get("group", "")),
        numerator=numerator,
        denominator=denominator,
        population=population,
        scale=scale,
        unit_zh=str(spec.get("unit_zh", "")),
        unit_en=str(spec.get("unit_en", "")),
        shortfall_unit=str(spec.get("shortfall_unit", "")),
        target_is_default=bool(spec.get("target_is_default", False)),
        target_note=str(spec.get("target_note", "")),
        note=str(spec.get("note", "")),
        strata_attribute=strata_attribute,
        strata_targets=MappingProxyType(strata_targets),
        life_circle=None if life_circle is None else str(life_circle),
        max_distance_m=None if max_distance is None else _number(max_distance, f"{where} max_distance_m", origin),
        max_minutes=None if max_minutes is None else _number(max_minutes, f"{where} max_minutes", origin),
        mode=mode,
        decay=decay,
        companion_of=spec.get("companion_of"),
    )
