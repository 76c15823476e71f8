"""The plan file: all 17 indicators with the registry's ids, and validation that names the culprit."""

from __future__ import annotations

import copy

import pytest

from geo_coverage.errors import PlanError
from geo_coverage.io import read_yaml
from geo_coverage.plan import available_plans, default_plan, load_plan

REGISTRY_IDS = [
    "elderly_beds_per_1000", "nursing_bed_share", "eldercare_medical_integration",
    "neonatal_centres_per_district", "child_welfare_institutions", "childcare_places_per_1000",
    "mother_baby_room_venue_share", "mother_baby_room_access", "children_home_coverage",
    "minor_protection_station_per_street", "social_worker_per_street",
    "child_service_org_per_district", "paediatric_beds_per_1000_children",
    "paediatricians_per_1000_children", "chsc_child_health_doctors",
    "inclusive_kindergarten_share", "parent_school_share",
]


@pytest.fixture(scope="module")
def raw_plan():
    return read_yaml(available_plans()["beijing_2021_2025"])


def test_all_17_registry_indicators_in_order():
    plan = default_plan()
    assert [i.id for i in plan.indicators] == REGISTRY_IDS
    for ind in plan.indicators:
        assert ind.name_zh and ind.name_en and ind.clause and ind.levels


def test_targets_and_levels_follow_the_registry():
    plan = default_plan()
    beds = plan.indicator("elderly_beds_per_1000")
    assert (beds.type, beds.layer, beds.target_at("street"), beds.scale) == ("ratio", "elderly_care", 7, 1000)
    assert plan.indicator("child_welfare_institutions").target_at("city") == 20
    assert plan.indicator("child_welfare_institutions").target_at("district") == 1
    assert plan.indicator("neonatal_centres_per_district").levels == ("district",)
    assert plan.indicator("minor_protection_station_per_street").levels == ("street",)
    childcare = plan.indicator("childcare_places_per_1000")
    assert childcare.target_is_default and childcare.target_at("city") == 4.5
    assert not beds.target_is_default
    # GB 50180-2018 life circles: 15 min ≈ 1,000 m, 5 min ≈ 300 m.
    assert plan.indicator("mother_baby_room_access").catchment_m() == 1000
    assert plan.indicator("children_home_coverage").catchment_m() == 300
    assert plan.indicator("parent_school_share").strata_targets == {"urban": 96, "rural": 86}


def test_companions_follow_their_indicator():
    plan = default_plan()
    companion = plan.indicator("elderly_beds_accessible_per_1000")
    assert companion.type == "accessible_ratio" and companion.companion_of == "elderly_beds_per_1000"
    assert companion.numerator.sum == "beds"
    assert len(plan.all_indicators) == len(plan.indicators) + len(plan.companions)


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p["indicators"][0].update(type="ratioo"), "elderly_beds_per_1000.*unknown type 'ratioo'"),
    (lambda p: p["indicators"][1].update(layer="nursing"), "nursing_bed_share.*unknown layer 'nursing'"),
    (lambda p: p["indicators"][3].update(levels=["province"]), "neonatal_centres_per_district.*unknown level"),
    (lambda p: p["indicators"][5].pop("target"), "childcare_places_per_1000.*no target"),
    (lambda p: p["indicators"][2].update(id="elderly_beds_per_1000"), "elderly_beds_per_1000.*defined twice"),
    (lambda p: p["indicators"][0].update(population="everyone"), "unknown population group"),
    (lambda p: p["indicators"][0].update(comparator="=>"), "unknown comparator"),
    (lambda p: p["indicators"][0].update(target="seven"), "not a number"),
    (lambda p: p["indicators"][0]["numerator"].update(sum="bedz"), "no attribute 'bedz'"),
    (lambda p: p["indicators"][7].update(life_circle="20min"), "unknown life circle"),
])
def test_invalid_plans_name_the_indicator(raw_plan, mutate, message):
    data = copy.deepcopy(raw_plan)
    mutate(data)
    with pytest.raises(PlanError, match=message):
        load_plan(data)


def test_a_second_plan_needs_no_code(tmp_path):
    text = """
id: small_city_plan
levels: [city, district]
populations: {all: {column: pop_total}}
kinds: {library: {attributes: {seats: number}}}
indicators:
  - id: library_seats_per_1000
    type: ratio
    layer: library
    numerator: {sum: seats}
    population: all
    scale: 1000
    target: 30
    levels: [city, district]
    clause: "§3"
"""
    path = tmp_path / "other.yaml"
    path.write_text(text, encoding="utf-8")
    plan = load_plan(path)
    assert plan.indicator("library_seats_per_1000").target_at("district") == 30


def test_unknown_indicator_lookup_lists_the_known_ones():
    with pytest.raises(PlanError, match="Unknown indicator 'beds'.*elderly_beds_per_1000"):
        default_plan().indicator("beds")


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("id: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    with pytest.raises(PlanError.__mro__[1], match="Invalid YAML"):
        load_plan(path)
