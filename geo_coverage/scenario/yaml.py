"""Scenario files: YAML read with the safe loader, checked as it is parsed, written atomically.

The format (name, description, base, plan, edits, targets) is shown in :mod:`geo_coverage.scenario`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import io
from ..errors import GeoCoverageError, ScenarioError
from .model import Scenario, _fail, _number, _optional_text, _parse_edits, _text

__all__ = ["parse_scenario", "scenario_from_yaml", "scenario_to_dict", "scenario_to_yaml",
           "scenario_from_edits", "load_scenario", "save_scenario"]


def parse_scenario(data, *, origin: str = "<scenario>") -> Scenario:
    """Build a :class:`Scenario` from a parsed YAML mapping, checking its structure.

    Parameters
    ----------
    data
        The mapping (``name``, ``description``, ``base``, ``plan``, ``edits``, ``targets``).
    origin
        The file it came from, for messages and relative paths.

    Returns
    -------
    Scenario

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
    base = _optional_text(data.get("base", "default"), "base", origin=origin) or "default"
    plan = _optional_text(data.get("plan"), "plan", origin=origin)
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
    """A scenario from edit dicts, e.g. :func:`geo_coverage.optimize.solution_to_edits`'s output.

    Parameters
    ----------
    name, description, base, plan
        As in a scenario file.
    edits
        Mappings like the file's edits.

    Returns
    -------
    Scenario
    """
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

