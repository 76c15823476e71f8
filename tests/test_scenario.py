"""Scenarios on the tiny city: every change below is worked out by hand, and the incremental
re-evaluation is checked against the engine run from scratch on the edited data."""

from __future__ import annotations

import contextlib
import copy
import io as stdlib_io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from geo_coverage import scenario as sc
from geo_coverage.coverage import evaluate
from geo_coverage.errors import GeoCoverageError, ScenarioError
from geo_coverage.plan import default_plan

from .conftest import METRIC, X0, Y0

A1, A2, B1, B2 = "110001001", "110001002", "110002001", "110002002"
DISTRICT_A, DISTRICT_B, CITY = "110001", "110002", "110000"


@pytest.fixture(scope="module")
def plan():
    return default_plan()


def lon_lat(x_km, y_km=0.5):
    """WGS84 of a point ``x_km`` east of the tiny city's origin (see conftest)."""
    point = gpd.GeoSeries.from_xy([X0 + x_km * 1000], [Y0 + y_km * 1000], crs=METRIC).to_crs(4326)
    return float(point.x.iloc[0]), float(point.y.iloc[0])


def add(kind, x_km, name="new", **attributes):
    lon, lat = lon_lat(x_km)
    return {"action": "add", "kind": kind, "lon": lon, "lat": lat, "datum": "wgs84", "attributes": attributes}


def row(table, level, code, indicator):
    hit = table[(table.level == level) & (table.unit_code == code) & (table.indicator == indicator)]
    assert len(hit) == 1, (level, code, indicator, len(hit))
    return hit.iloc[0]


def make(*edits, targets=None, name="test"):
    return sc.parse_scenario({"name": name, "edits": list(edits), "targets": targets or {}})


# --- applying ---------------------------------------------------------------------------------------


def test_adding_beds_changes_exactly_that_units_ratio(tiny_city, plan):
    before = evaluate(tiny_city, plan)
    scenario = make(add("elderly_care", 1.5, beds=12))  # inside street A2 (2,000 residents)
    after = evaluate(sc.apply(scenario, tiny_city, plan), plan)
    ratio = "elderly_beds_per_1000"
    # 12 beds ÷ 2,000 × 1,000 = 6 per 1,000 in A2; over district A's 3,000: 4; over the city's 6,000: 2.
    expected = {("street", A2): 6.0, ("district", DISTRICT_A): 4.0, ("city", CITY): 2.0}
    for (level, code), delta in expected.items():
        assert row(after, level, code, ratio).value - row(before, level, code, ratio).value == pytest.approx(delta)
    # A2 had 5 beds (2.5 per 1,000, 9 short of 14); now 17 beds = 8.5 per 1,000 ≥ 7: met.
    assert row(after, "street", A2, ratio).status == "met" and row(before, "street", A2, ratio).status == "gap"
    others = (after.indicator == ratio) & ~after.set_index(["level", "unit_code"]).index.isin(list(expected))
    figures = ["value", "target", "status", "shortfall", "numerator", "denominator"]
    assert_frame_equal(after.loc[others, figures], before.loc[others, figures])
    # The layer now mixes scenario and synthetic facilities, and says so.
    assert (after.loc[after.indicator == ratio, "provenance"].str.endswith("scenario+synthetic")).all()
    # Indicators of other layers do not move at all.
    untouched = ~after.indicator.isin(sc.touched_indicators(scenario, plan))
    assert_frame_equal(after[untouched], before[untouched])


def test_removing_the_only_neonatal_centre_flips_the_district(tiny_city, plan):
    before = evaluate(tiny_city, plan)
    scenario = make({"action": "remove", "kind": "neonatal_centre", "id": "N1"})
    new = sc.apply(scenario, tiny_city, plan)
    after = sc.evaluate_scenario(before, tiny_city, new, plan, scenario)
    indicator = "neonatal_centres_per_district"
    assert row(before, "district", DISTRICT_B, indicator).status == "met"
    flipped = row(after, "district", DISTRICT_B, indicator)
    assert flipped.status == "gap" and flipped.shortfall == 1 and flipped.numerator == 0
    comparison = sc.compare(before, after)
    flips = comparison.flipped(sc.MET_TO_GAP)
    flipped = list(zip(flips.level, flips.unit_code, flips.indicator, strict=True))
    assert flipped == [("district", DISTRICT_B, indicator)]
    closed = comparison.closed.set_index(["indicator", "level"]).loc[(indicator, "district")]
    # District A was already one short; now both are: the gap widened by one centre.
    assert closed.shortfall_before == 1 and closed.shortfall_after == 2 and closed.shortfall_closed == -1
    assert closed.units_met_to_gap == 1 and closed.units_gap_to_met == 0


def every_kind_of_edit():
    return make(
        add("elderly_care", 1.5, beds=20, nursing_beds=15, medical_integration=True),
        add("mother_baby_room", 0.5, venue_type="mall"),
        {"action": "remove", "kind": "neonatal_centre", "id": "N1"},
        {"action": "change", "kind": "elderly_care", "id": "E3", "attributes": {"beds": 50}},
        {"action": "population", "level": "district", "code": DISTRICT_A, "factor": 1.1},
        {"action": "population", "level": "street", "code": B1, "year": 2025, "annual_growth": 0.02},
        targets={"elderly_beds_per_1000": 8, "nursing_bed_share": 50},
    )


def test_the_base_dataset_is_never_touched(tiny_city, plan):
    units = {level: frame.copy(deep=True) for level, frame in tiny_city.units.items()}
    layers = {kind: frame.copy(deep=True) for kind, frame in tiny_city.layers.items()}
    new = sc.apply(every_kind_of_edit(), tiny_city, plan)
    assert set(tiny_city.units) == set(units) and set(tiny_city.layers) == set(layers)
    for level, frame in units.items():
        assert_geodataframe_equal(tiny_city.units[level], frame)
    for kind, frame in layers.items():
        assert_geodataframe_equal(tiny_city.layers[kind], frame)
    # Layers the scenario did not edit are shared, not copied.
    assert new.layers["community"] is tiny_city.layers["community"]
    assert new.layers["elderly_care"] is not tiny_city.layers["elderly_care"]


def test_added_facilities_are_planned_assigned_and_sourced(tiny_city, plan):
    new = sc.apply(every_kind_of_edit(), tiny_city, plan)
    care = new.layer("elderly_care").set_index("id")
    added = care.loc["scenario-1"]
    assert added.status == "planned" and added.source == "scenario: test"
    assert added.street_code == A2 and added.district_code == DISTRICT_A and added.beds == 20
    assert care.loc["E3", "beds"] == 50 and "N1" not in set(new.layer("neonatal_centre")["id"])
    assert new.layer("mother_baby_room").iloc[0].street_code == A1


def test_population_growth_scales_denominators_exactly(tiny_city, plan):
    scenario = make({"action": "population", "level": "district", "code": DISTRICT_A, "factor": 1.1},
                    {"action": "population", "level": "street", "code": B1, "year": 2025,
                     "annual_growth": 0.02})
    new = sc.apply(scenario, tiny_city, plan)
    grown = 3000 * 1.02 ** 5  # B1's 3,000 residents compounded over 2020→2025
    streets = new.units["street"]["pop_total"]
    assert streets[A1] == pytest.approx(1100) and streets[A2] == pytest.approx(2200)
    assert streets[B1] == pytest.approx(grown) and streets[B2] == 0
    assert new.units["street"]["pop_0_14"][A2] == pytest.approx(220)
    districts = new.units["district"]["pop_total"]
    assert districts[DISTRICT_A] == pytest.approx(3300) and districts[DISTRICT_B] == pytest.approx(grown)
    assert new.units["city"]["pop_total"].iloc[0] == pytest.approx(3300 + grown)
    table = evaluate(new, plan, indicators=["elderly_beds_per_1000"])
    assert row(table, "street", A2, "elderly_beds_per_1000").denominator == pytest.approx(2200)
    # 5 beds over 2,200 residents instead of 2,000.
    assert row(table, "street", A2, "elderly_beds_per_1000").value == pytest.approx(5 / 2200 * 1000)
    # Street figures still add up to their district, and districts to the city.
    for column in ("pop_total", "pop_0_14"):
        by_district = new.units["street"].groupby("parent_code")[column].sum()
        assert np.allclose(by_district.reindex(new.units["district"].index), new.units["district"][column])
        assert new.units["district"][column].sum() == pytest.approx(new.units["city"][column].iloc[0])
    assert new.units["street"].loc[A1, "pop_source"] == "estimate+scenario"
    assert new.units["street"].loc[B2, "pop_source"] == "estimate"


def test_incremental_evaluation_equals_the_engine_from_scratch(tiny_city, plan):
    scenario = every_kind_of_edit()
    base = evaluate(tiny_city, plan)
    new = sc.apply(scenario, tiny_city, plan)
    incremental = sc.evaluate_scenario(base, tiny_city, new, plan, scenario)
    full = evaluate(new, plan, target_overrides=dict(scenario.targets))
    assert_frame_equal(incremental, full, check_exact=False, rtol=1e-9, atol=1e-9)
    # Something did change, and the override is visible.
    assert not incremental["numerator"].equals(base["numerator"])
    assert (incremental.loc[incremental.indicator == "elderly_beds_per_1000", "target"] == 8).all()


def test_incremental_without_population_change_matches_too(tiny_city, plan):
    # Facility edits only: the 2SFCA delta path (no grid rebuild) must agree with the engine.
    scenario = make(add("childcare", 0.5, places=40, inclusive_places=10),
                    add("elderly_care", 3.5, beds=100),
                    {"action": "change", "kind": "elderly_care", "id": "E1", "attributes": {"beds": 0}},
                    {"action": "remove", "kind": "elderly_care", "id": "E2"})
    base = evaluate(tiny_city, plan)
    new = sc.apply(scenario, tiny_city, plan)
    incremental = sc.evaluate_scenario(base, tiny_city, new, plan, scenario)
    assert_frame_equal(incremental, evaluate(new, plan), check_exact=False, rtol=1e-9, atol=1e-9)
    assert set(sc.touched_indicators(scenario, plan)) == {
        "elderly_beds_per_1000", "nursing_bed_share", "eldercare_medical_integration",
        "elderly_beds_accessible_per_1000", "childcare_places_per_1000", "childcare_places_accessible_per_1000"}


def test_reach_changes_only_near_the_changed_facilities(tiny_city, plan):
    # A base with three rooms (a scenario applied to the tiny city), then rooms added and removed:
    # the local update of residents within reach must equal the engine from scratch.
    with_rooms = sc.apply(make(*(dict(add("mother_baby_room", x), id=f"R{i}") for i, x in
                                 enumerate((0.2, 1.9, 3.1)))), tiny_city, plan)
    scenario = make(add("mother_baby_room", 2.6), {"action": "remove", "kind": "mother_baby_room", "id": "R1"})
    base = evaluate(with_rooms, plan)
    new = sc.apply(scenario, with_rooms, plan)
    incremental = sc.evaluate_scenario(base, with_rooms, new, plan, scenario)
    assert_frame_equal(incremental, evaluate(new, plan), check_exact=False, rtol=1e-9, atol=1e-9)
    access = incremental[incremental.indicator == "mother_baby_room_access"]
    assert not np.allclose(access.numerator, base.loc[access.index, "numerator"])


def _with_access_layers(tiny_city, plan):
    """The tiny city with mother-baby rooms, children's homes and childcare: every access
    indicator (reach and 2SFCA) has a layer, so growth goes through the cached catchments."""
    rooms = [dict(add("mother_baby_room", x), id=f"R{i}") for i, x in enumerate((0.2, 1.9, 3.1))]
    homes = [dict(add("children_home", x), id=f"H{i}") for i, x in enumerate((0.5, 1.5, 2.4))]
    care = [dict(add("childcare", x, places=p), id=f"K{i}") for i, (x, p) in enumerate(((0.8, 30), (2.2, 60)))]
    return sc.apply(make(*rooms, *homes, *care), tiny_city, plan)


REACH = ("mother_baby_room_access", "children_home_coverage")
TWO_STEP = ("elderly_beds_accessible_per_1000", "childcare_places_accessible_per_1000")


def test_growing_one_street_reuses_the_base_catchments_and_scales_its_reach(tiny_city, plan, monkeypatch):
    from geo_coverage import access

    data = _with_access_layers(tiny_city, plan)
    base = evaluate(data, plan)  # measures every catchment once
    scenario = make({"action": "population", "level": "street", "code": A2, "factor": 1.5})
    new = sc.apply(scenario, data, plan)

    def recomputed(*args, **kwargs):
        raise AssertionError("population growth recomputed a catchment")

    monkeypatch.setattr(access, "coverage_within", recomputed)
    monkeypatch.setattr(access, "pair_costs", recomputed)
    incremental = sc.evaluate_scenario(base, data, new, plan, scenario)
    monkeypatch.undo()
    assert_frame_equal(incremental, evaluate(new, plan), check_exact=False, rtol=1e-9, atol=1e-9)
    # By hand: growth within one street moves nobody, so A2 has 1.5 times the residents within
    # reach, A1 and district B as many as before, district A the sum of its streets.
    for indicator in REACH:
        a1, a2, b = (row(base, level, code, indicator).numerator
                     for level, code in (("street", A1), ("street", A2), ("district", DISTRICT_B)))
        assert a2 > 0
        assert row(incremental, "street", A2, indicator).numerator == pytest.approx(1.5 * a2)
        assert row(incremental, "street", A1, indicator).numerator == pytest.approx(a1)
        assert row(incremental, "district", DISTRICT_A, indicator).numerator == pytest.approx(a1 + 1.5 * a2)
        assert row(incremental, "district", DISTRICT_B, indicator).numerator == pytest.approx(b)
        expected = row(base, "street", A2, indicator).value
        assert row(incremental, "street", A2, indicator).value == pytest.approx(expected)
    # 2SFCA: more residents compete for the same places, so accessibility falls wherever A2's
    # residents reach a facility (A2 grows by 1,000 residents).
    for indicator in TWO_STEP:
        assert row(incremental, "street", A2, indicator).denominator == pytest.approx(3000)
        assert row(incremental, "city", CITY, indicator).value < row(base, "city", CITY, indicator).value


def test_growth_with_facility_edits_never_reuses_a_stale_catchment(tiny_city, plan):
    # Growth alone reuses the base's covered masks and catchment matrices; with the same growth and
    # moved facilities it must measure the new layers (a cache keyed by layer kind, or by the grid
    # alone, would hand back the base's).  Run both orders, and a resize that keeps the matrix.
    data = _with_access_layers(tiny_city, plan)
    base = evaluate(data, plan)
    grow = {"action": "population", "level": "district", "code": DISTRICT_A, "factor": 1.2}
    edited = make(add("mother_baby_room", 1.0), {"action": "remove", "kind": "mother_baby_room", "id": "R1"},
                  add("children_home", 2.8), {"action": "remove", "kind": "children_home", "id": "H1"},
                  add("childcare", 3.2, places=20), add("elderly_care", 0.1, beds=40), grow)
    resized = make({"action": "change", "kind": "childcare", "id": "K0", "attributes": {"places": 90}},
                   {"action": "change", "kind": "elderly_care", "id": "E3", "attributes": {"beds": 5}}, grow)
    tables = {}
    for name, scenario in (("edited", edited), ("growth", make(grow)), ("resized", resized),
                           ("edited again", edited)):
        new = sc.apply(scenario, data, plan)
        tables[name] = sc.evaluate_scenario(base, data, new, plan, scenario)
        assert_frame_equal(tables[name], evaluate(new, plan), check_exact=False, rtol=1e-9, atol=1e-9)
    assert_frame_equal(tables["edited"], tables["edited again"])
    # The edits changed what every access indicator measures (else a stale entry could pass).
    for indicator in REACH + TWO_STEP:
        for other in ("growth", "resized"):
            chosen = tables["edited"].indicator == indicator
            assert not np.allclose(tables["edited"].loc[chosen, "numerator"], tables[other].loc[chosen, "numerator"])


def test_a_layer_the_base_lacks_is_evaluated_from_scratch(tmp_path, plan):
    from geo_coverage.dataset import load_dataset

    from .conftest import write_tiny_city

    dataset = load_dataset(write_tiny_city(tmp_path / "t", with_neonatal=False), crs=METRIC)
    scenario = make(add("neonatal_centre", 0.5, level="city"))
    base = evaluate(dataset, plan)
    new = sc.apply(scenario, dataset, plan)
    incremental = sc.evaluate_scenario(base, dataset, new, plan, scenario)
    assert_frame_equal(incremental, evaluate(new, plan), check_exact=False, rtol=1e-9)
    assert row(incremental, "district", DISTRICT_A, "neonatal_centres_per_district").status == "met"
    assert row(base, "district", DISTRICT_A, "neonatal_centres_per_district").status == "no_data"


def test_gcj02_points_are_converted(tiny_city, plan):
    from geo_coverage.datum import wgs84_to_gcj02

    lon, lat = lon_lat(2.5)
    gcj_lon, gcj_lat = wgs84_to_gcj02(lon, lat)
    scenario = make({"action": "add", "kind": "elderly_care", "lon": float(gcj_lon), "lat": float(gcj_lat),
                     "datum": "gcj02", "attributes": {"beds": 1}})
    added = sc.apply(scenario, tiny_city, plan).layer("elderly_care").iloc[-1]
    assert added.street_code == B1
    assert added.geometry.distance(gpd.points_from_xy([X0 + 2500], [Y0 + 500])[0]) < 0.05


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("edit, message", [
    ({"action": "add", "kind": "hotel", "lon": 116.3, "lat": 39.9}, r"Edit #2 \(add hotel.*unknown kind 'hotel'"),
    ({"action": "remove", "kind": "neonatal_centre", "id": "N9"},
     r"Edit #2 \(remove neonatal_centre 'N9'\): no facility with id 'N9'"),
    ({"action": "change", "kind": "elderly_care", "id": "E1", "attributes": {"beds": -5}},
     r"Edit #2 \(change elderly_care 'E1'.*'beds' is negative"),
    ({"action": "change", "kind": "elderly_care", "id": "E1", "attributes": {"beds": "many"}},
     r"Edit #2 .*'beds' must be a number"),
    ({"action": "add", "kind": "elderly_care", "lon": 100.0, "lat": 30.0, "attributes": {"beds": 5}},
     r"Edit #2 \(add elderly_care at 100, 30 \(wgs84\)\): the point is outside every unit"),
    ({"action": "population", "level": "street", "code": "999", "factor": 1.1},
     r"Edit #2 \(population of street '999' ×1.1\): unknown street code '999'"),
    ({"action": "change", "kind": "elderly_care", "id": "E1", "attributes": {"stars": 5}},
     r"Edit #2 .*'elderly_care' has no attribute 'stars'"),
    ({"action": "add", "kind": "elderly_care", "id": "E1", "lon": 116.3, "lat": 39.9},
     r"Edit #2 .*id 'E1' is already used"),
])
def test_invalid_edits_name_the_edit(tiny_city, plan, edit, message):
    scenario = make({"action": "remove", "kind": "elderly_care", "id": "E2"}, edit)
    with pytest.raises(ScenarioError, match=message):
        sc.apply(scenario, tiny_city, plan)


@pytest.mark.parametrize("text, message", [
    ("name: x\nedits:\n  - {action: build}\n", r"Edit #1 .*unknown action 'build'"),
    ("name: x\nedits:\n  - {action: add, kind: elderly_care, lon: east, lat: 39}\n", r"'lon' must be a number"),
    ("name: x\nedits:\n  - {action: add, kind: k, lon: 116, lat: 39, datum: baidu}\n", r"unknown datum 'baidu'"),
    ("name: x\nedits:\n  - {action: population, level: district, code: '1'}\n", r"needs 'factor'"),
    ("name: x\nedits:\n  - {action: remove, kind: k, id: 1, beds: 2}\n", r"unknown key\(s\) \['beds'\]"),
    ("name: x\nedits: {action: remove}\n", r"'edits' must be a list"),
    ("edits: []\n", r"'name' is missing"),
    ("name: x\ntargets: {a: high}\n", r"target of 'a' must be a number"),
    ("!!python/object/apply:os.system ['echo unsafe']\n", r"Invalid YAML"),
    ("name: x\nedits: [\n", r"Invalid YAML"),
])
def test_malformed_scenarios_are_scenario_errors(text, message):
    with pytest.raises(ScenarioError, match=message):
        sc.scenario_from_yaml(text)


def test_unknown_target_indicator(tiny_city, plan):
    with pytest.raises(ScenarioError, match="unknown indicator 'beds_per_cat'"):
        sc.validate(make(targets={"beds_per_cat": 3}), tiny_city, plan)


_KEYS = ["action", "kind", "lon", "lat", "datum", "id", "attributes", "level", "code", "factor", "year",
         "annual_growth", "name", "edits", "targets", "base", "plan", "description", "beds", "status"]
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=8), st.sampled_from(["add", "remove", "change", "population", "wgs84",
                                                           "gcj02", "district", "street", "elderly_care"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=5)),
    max_leaves=20)


# Near-valid scenarios too, so the round trip below is exercised, not only the error paths.
_EDIT = st.fixed_dictionaries({"action": st.sampled_from(["add", "remove", "change", "population", "x"])},
                              optional={key: _SCALARS | st.floats(-200, 200) for key in _KEYS[1:12]}
                              | {"attributes": st.dictionaries(st.text(max_size=5), _SCALARS, max_size=3)})
_NEAR_VALID = st.fixed_dictionaries({"name": st.text(min_size=1, max_size=6)},
                                    optional={"edits": st.lists(_EDIT, max_size=3),
                                              "targets": st.dictionaries(st.text(max_size=4), _SCALARS, max_size=2)})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6) | _NEAR_VALID)
@example(data={"name": "0\x850"})  # NEL: PyYAML's single-quoted style folds it into a space
@example(data={"name": "a\u2028b", "description": "\u2029"})
def test_parser_never_crashes_with_anything_but_our_errors(data):
    try:
        scenario = sc.parse_scenario(data)
    except GeoCoverageError:
        return
    # What parses round-trips through YAML unchanged.
    again = sc.scenario_from_yaml(sc.scenario_to_yaml(scenario))
    assert sc.scenario_to_dict(again) == sc.scenario_to_dict(scenario)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_yaml_text_never_crashes_with_anything_but_our_errors(text):
    with contextlib.suppress(GeoCoverageError):
        sc.scenario_from_yaml(text)


# --- YAML, optimiser edits, comparison exports -------------------------------------------------------


def test_yaml_round_trip(tmp_path):
    scenario = every_kind_of_edit()
    path = sc.save_scenario(scenario, tmp_path / "s.yaml")
    again = sc.load_scenario(path)
    assert sc.scenario_to_dict(again) == sc.scenario_to_dict(scenario)
    assert again.edits == scenario.edits and again.targets == scenario.targets
    assert again.origin == str(path)


def test_a_solution_becomes_a_scenario_in_one_call(tiny_city, plan):
    from geo_coverage.optimize import MCLP, grid_candidates, solution_to_edits, straight_line_costs

    # Demand at the four street centres (weights = population), candidates on a 500 m grid:
    # within 400 m a site reaches at most one centre (they are 1 km apart), so the best single
    # site is one on B1's centre (3,000 people).
    streets = tiny_city.units["street"]
    centres = streets.geometry.centroid.to_numpy()
    candidates = grid_candidates(streets, spacing=500)
    costs = straight_line_costs(centres, candidates.geometry.to_numpy(), max_cost=400)
    solution = MCLP.from_cost_matrix(costs, streets["pop_total"].to_numpy(), max_cost=400, facilities=1,
                                     candidate_ids=candidates["id"].tolist()).solve()
    edits = solution_to_edits(solution, candidates, kind="mother_baby_room", attributes={"venue_type": "mall"})
    scenario = sc.scenario_from_edits("optimised rooms", edits)
    new = sc.apply(scenario, tiny_city, plan)
    added = new.layer("mother_baby_room")
    assert solution.covered_weight == 3000
    assert len(added) == 1 and added.iloc[0].street_code == B1
    assert added.iloc[0].source.startswith("scenario: optimised rooms; mclp optimiser")


def test_a_new_home_without_nursing_figures_leaves_the_nursing_share_alone(tiny_city, plan):
    """Adding 12 beds in A2 with no nursing-bed figure: beds per 1,000 rise by 12 / 2,000 × 1,000
    = 6, while the nursing share stays 1 of 5 (its denominator counts homes whose nursing beds
    are known); the incremental table equals a full evaluation."""
    from geo_coverage.coverage import evaluate

    base = evaluate(tiny_city, plan)
    scenario = sc.scenario_from_edits("no nursing figure", [
        {"action": "add", "kind": "elderly_care", "lon": lon_lat(1.5, 0.2)[0], "lat": lon_lat(1.5, 0.2)[1],
         "attributes": {"beds": 12}}])
    new = sc.apply(scenario, tiny_city, plan)
    after = sc.evaluate_scenario(base, tiny_city, new, plan, scenario)
    full = evaluate(new, plan)

    def value(table, level, code, indicator):
        hit = table[(table.level == level) & (table.unit_code == code) & (table.indicator == indicator)]
        return float(hit.value.iloc[0])

    assert value(after, "street", "110001002", "elderly_beds_per_1000") == pytest.approx(2.5 + 6.0)
    assert value(after, "street", "110001002", "nursing_bed_share") == pytest.approx(20.0)
    assert value(after, "district", "110001", "eldercare_medical_integration") == pytest.approx(50.0)
    pd.testing.assert_series_equal(after["value"], full["value"], check_names=False)
    assert list(after["status"]) == list(full["status"])


def test_comparison_exports(tiny_city, plan):
    before = evaluate(tiny_city, plan)
    scenario = make({"action": "remove", "kind": "neonatal_centre", "id": "N1"},
                    add("elderly_care", 1.5, beds=12))
    after = sc.evaluate_scenario(before, tiny_city, sc.apply(scenario, tiny_city, plan), plan, scenario)
    comparison = sc.compare(before, after)
    assert set(comparison.flips.flip) == {sc.GAP_TO_MET, sc.MET_TO_GAP}
    csv = sc.comparison_export_bytes(comparison, "csv", plan=plan)
    assert csv.startswith(b"\xef\xbb\xbf") and len(pd.read_csv(stdlib_io.BytesIO(csv))) == len(comparison.table)
    workbook = pd.read_excel(stdlib_io.BytesIO(sc.comparison_export_bytes(comparison, "xlsx", plan=plan,
                                                                          dataset=tiny_city, scenario=scenario)),
                             sheet_name=None)
    flips = workbook["达标变化 Flips"]
    assert "情景状态 Status after" in flips.columns and "单位代码 Unit code" in flips.columns
    assert len(flips) == len(comparison.flips)
    geojson = json.loads(sc.comparison_export_bytes(comparison, "geojson", plan=plan, dataset=tiny_city))
    assert len(geojson["features"]) == len(comparison.flips)
    assert {f["properties"]["flip"] for f in geojson["features"]} == {sc.GAP_TO_MET, sc.MET_TO_GAP}
    with pytest.raises(ScenarioError, match="Unknown export format"):
        sc.comparison_export_bytes(comparison, "pdf", plan=plan)


def test_scenario_objects_are_immutable():
    scenario = every_kind_of_edit()
    with pytest.raises(AttributeError):  # dataclasses.FrozenInstanceError
        scenario.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        scenario.targets["x"] = 1  # type: ignore[index]
    shorter = scenario.without_edit(1)
    assert len(shorter.edits) == len(scenario.edits) - 1 and shorter.edits[0].position == 1
    longer = shorter.with_edits([copy.deepcopy(scenario.edits[0].to_dict())])
    assert len(longer.edits) == len(scenario.edits)
