"""Scenario edits on the embedded default: the incremental path against a full re-evaluation.

The target case is the planner's everyday question: one new 300-bed care home, with every
indicator of the whole city in the result, in under 300 ms.  The incremental path recomputes only
the elderly-care indicators, and of those only what the new home changes (its street, district and
city numerators; the 2SFCA accessibility it adds).  Two more edits are timed for the record: a
mother-baby room (a reach indicator, updated only near the room) and Tongzhou's population +8 %
(every population-based indicator: the base's demand points rescaled per unit, its cached covered
masks and 2SFCA catchment matrices reused).  Each pair of tables is checked equal, and the target
holds when every edit's median is under 300 ms.  "Full" is ``evaluate`` of the edited dataset
(which reuses the access module's demand grid when the units are unchanged).

Run: ``.venv/bin/python -m benchmarks.bench_scenario``
"""

from __future__ import annotations

import numpy as np

from geo_coverage.coverage import evaluate
from geo_coverage.dataset import load_dataset
from geo_coverage.plan import default_plan
from geo_coverage.scenario import apply, evaluate_scenario, scenario_from_edits, touched_indicators

from .common import best_of, write_results

TARGET_SECONDS = 0.3


def _lon_lat(point, crs):
    import geopandas as gpd

    return gpd.GeoSeries([point], crs=crs).to_crs(4326).iloc[0].coords[0]


def _tongzhou_centre(dataset):
    """The representative point of Tongzhou's most populous street (a plausible site)."""
    streets = dataset.units["street"]
    street = streets[streets["parent_code"] == "110112"].sort_values("pop_total").iloc[-1]
    return _lon_lat(street.geometry.representative_point(), dataset.crs)


def cases(dataset):
    """The edits timed: the target case first, then two that touch other machinery."""
    lon, lat = _tongzhou_centre(dataset)
    return {
        "care_home": ("add one 300-bed care home (elderly_care) in Tongzhou", scenario_from_edits("one care home", [{
            "action": "add", "kind": "elderly_care", "lon": lon, "lat": lat, "datum": "wgs84", "id": "bench-1",
            "name": "新建养老院", "attributes": {"beds": 300, "nursing_beds": 200, "medical_integration": True}}])),
        "mother_baby_room": ("add one mother-baby room in Tongzhou (a reach indicator)", scenario_from_edits(
            "one room", [{"action": "add", "kind": "mother_baby_room", "lon": lon, "lat": lat, "datum": "wgs84",
                          "id": "bench-2", "attributes": {"venue_type": "mall"}}])),
        "population": ("Tongzhou population +8 % (every population-based indicator)", scenario_from_edits(
            "growth", [{"action": "population", "level": "district", "code": "110112", "factor": 1.08}])),
    }


def main() -> None:
    dataset = load_dataset()
    plan = default_plan()
    base = evaluate(dataset, plan)
    results = {"rows": int(len(base)), "indicators_total": len(plan.all_indicators),
               "target_seconds": TARGET_SECONDS}
    edits = cases(dataset)
    for name, (label, scenario) in edits.items():
        def incremental(scenario=scenario):
            new = apply(scenario, dataset, plan)
            return evaluate_scenario(base, dataset, new, plan, scenario)

        def full(scenario=scenario):
            new = apply(scenario, dataset, plan)
            return evaluate(new, plan)

        incremental()  # warm the base's demand grid and its coarsened copy (built once per base)
        inc_best, inc_median, inc_table = best_of(incremental, repeat=5)
        full_best, full_median, full_table = best_of(full, repeat=2)
        numeric = ["value", "shortfall", "numerator", "denominator"]
        difference = float(np.nanmax(np.abs(inc_table[numeric].to_numpy(float)
                                            - full_table[numeric].to_numpy(float))))
        results[name] = {
            "edit": label,
            "indicators_recomputed": len(touched_indicators(scenario, plan)),
            "incremental_seconds_best": round(inc_best, 4),
            "incremental_seconds_median": round(inc_median, 4),
            "full_seconds_best": round(full_best, 4),
            "speedup": round(full_best / inc_best, 1),
            "max_difference_vs_full": difference,
            "statuses_identical": bool((inc_table["status"].to_numpy() == full_table["status"].to_numpy()).all()),
        }
    results["meets_target"] = all(results[name]["incremental_seconds_median"] < TARGET_SECONDS
                                  for name in edits)
    path = write_results("scenario", results)
    for key, value in results.items():
        print(f"{key}: {value}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
