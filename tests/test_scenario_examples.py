"""The example scenarios load, validate and apply on the embedded default data, and do what their
descriptions say."""

from __future__ import annotations

from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal

from geo_coverage import scenario as sc
from geo_coverage.coverage import evaluate
from geo_coverage.dataset import load_dataset
from geo_coverage.plan import default_plan

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
EXAMPLES = ("neonatal_centre_every_district", "elderly_beds_2025", "mother_baby_rooms_walk")


@pytest.fixture(scope="module")
def default():
    if not (SCENARIOS.parent / "boundaries" / "districts.parquet").exists():
        pytest.skip("the embedded default data is not built")
    return load_dataset(), default_plan()


@pytest.fixture(scope="module")
def base_table(default):
    dataset, plan = default
    return evaluate(dataset, plan, levels=["city", "district"])


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_loads_validates_and_applies(default, name):
    dataset, plan = default
    scenario = sc.load_scenario(SCENARIOS / f"{name}.yaml")
    assert scenario.base == "default" and scenario.description
    sc.validate(scenario, dataset, plan)
    new = sc.apply(scenario, dataset, plan)
    added = [e for e in scenario.edits if isinstance(e, sc.AddFacility)]
    for kind in {e.kind for e in added}:
        grown = len(new.layer(kind)) - len(dataset.layer(kind))
        assert grown == sum(e.kind == kind for e in added)
        new_rows = new.layer(kind).iloc[-grown:]
        assert (new_rows["source"].str.startswith(f"scenario: {scenario.name}")).all()
        assert (new_rows["district_code"] != "").all() and (new_rows["street_code"] != "").all()


def test_every_district_gets_a_neonatal_centre(default, base_table):
    dataset, plan = default
    scenario = sc.load_scenario(SCENARIOS / "neonatal_centre_every_district.yaml")
    after = sc.evaluate_scenario(base_table, dataset, sc.apply(scenario, dataset, plan), plan, scenario)
    rows = after[(after.indicator == "neonatal_centres_per_district") & (after.level == "district")]
    assert (rows.status == "met").all()
    before = base_table[(base_table.indicator == "neonatal_centres_per_district") & (base_table.level == "district")]
    # One centre per district that had none: exactly the former gaps flip.
    assert len(scenario.edits) == int((before.status == "gap").sum())


@pytest.mark.slow
def test_elderly_beds_2025_closes_district_and_city_gaps(default, base_table):
    dataset, plan = default
    scenario = sc.load_scenario(SCENARIOS / "elderly_beds_2025.yaml")
    new = sc.apply(scenario, dataset, plan)
    after = sc.evaluate_scenario(base_table, dataset, new, plan, scenario)
    beds = after[after.indicator == "elderly_beds_per_1000"]
    assert (beds.status == "met").all()
    # Tongzhou grew by 8 % (1.015511 a year over five years).
    tongzhou = new.units["district"].loc["110112", "pop_total"] / dataset.units["district"].loc["110112", "pop_total"]
    assert tongzhou == pytest.approx(1.08, abs=1e-5)
    # The incremental path (scaled demand grid, reused rows) agrees with the engine from scratch.
    full = evaluate(new, plan, levels=["city", "district"])
    assert_frame_equal(after, full, check_exact=False, rtol=1e-9, atol=1e-6)
