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

``model``         the edits and :class:`Scenario`, built from plain mappings
``yaml``          scenario files: parse, load, save
``apply``         :func:`validate` and :func:`apply` against a dataset and a plan
``incremental``   :func:`evaluate_scenario`: only what the edits touched is recomputed
``compare``       before / after deltas and their exports

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

from .apply import apply, validate
from .compare import COMPARISON_HEADERS, GAP_TO_MET, MET_TO_GAP, Comparison, compare, comparison_export_bytes
from .incremental import evaluate_scenario, touched_indicators
from .model import (
    ACTIONS,
    BASE_YEAR,
    AddFacility,
    ChangeFacility,
    Edit,
    PopulationChange,
    RemoveFacility,
    Scenario,
)
from .yaml import (
    load_scenario,
    parse_scenario,
    save_scenario,
    scenario_from_edits,
    scenario_from_yaml,
    scenario_to_dict,
    scenario_to_yaml,
)

__all__ = [
    "ACTIONS",
    "BASE_YEAR",
    "AddFacility",
    "RemoveFacility",
    "ChangeFacility",
    "PopulationChange",
    "Edit",
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
    "GAP_TO_MET",
    "MET_TO_GAP",
]
