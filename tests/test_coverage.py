"""The coverage engine on the tiny city: every figure below is worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo_coverage.coverage import TABLE_COLUMNS, evaluate
from geo_coverage.plan import default_plan


@pytest.fixture(scope="module")
def plan():
    return default_plan()


def row(table, level, code, indicator):
    hit = table[(table.level == level) & (table.unit_code == code) & (table.indicator == indicator)]
    assert len(hit) == 1, (level, code, indicator, len(hit))
    return hit.iloc[0]


def test_columns_are_the_contract(tiny_city, plan):
    table = evaluate(tiny_city, plan)
    assert list(table.columns) == TABLE_COLUMNS
    assert table["unit_code"].map(type).eq(str).all()


def test_ratio_beds_per_1000(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["elderly_beds_per_1000"])
    # A1: 10 beds / 1,000 residents = 10 per 1,000 ≥ 7 → met, nothing short.
    a1 = row(t, "street", "110001001", "elderly_beds_per_1000")
    assert a1.value == pytest.approx(10.0) and a1.status == "met" and a1.shortfall == 0
    # A2: 5 / 2,000 × 1,000 = 2.5; needs 7 × 2 = 14 beds → 9 beds short.
    a2 = row(t, "street", "110001002", "elderly_beds_per_1000")
    assert a2.value == pytest.approx(2.5) and a2.status == "gap" and a2.shortfall == 9
    assert a2.numerator == 5 and a2.denominator == 2000
    # B2: nobody lives there → no data, never met, shortfall 0.
    b2 = row(t, "street", "110002002", "elderly_beds_per_1000")
    assert b2.status == "no_data" and math.isnan(b2.value) and b2.met is None and b2.shortfall == 0
    # District A: 15 / 3,000 × 1,000 = 5; needs 21 → 6 short.  District B: 30 / 3,000 = 10, met.
    da = row(t, "district", "110001", "elderly_beds_per_1000")
    assert da.value == pytest.approx(5.0) and da.shortfall == 6 and da.status == "gap"
    assert row(t, "district", "110002", "elderly_beds_per_1000").status == "met"
    # City: 45 / 6,000 × 1,000 = 7.5 ≥ 7.
    city = t[(t.level == "city")].iloc[0]
    assert city.value == pytest.approx(7.5) and city.status == "met"


def test_share_nursing_beds(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["nursing_bed_share"])
    # A2: 1 nursing of 5 beds = 20 %; 60 % of 5 = 3 → 2 nursing beds short.
    a2 = row(t, "street", "110001002", "nursing_bed_share")
    assert a2.value == pytest.approx(20.0) and a2.shortfall == 2 and a2.status == "gap"
    # B2 has no beds at all: nothing to measure → no data.
    assert row(t, "street", "110002002", "nursing_bed_share").status == "no_data"
    # District A: 7 / 15 = 46.7 %; 0.6 × 15 = 9 → 2 short.  City: 27 / 45 = 60 % → met exactly.
    da = row(t, "district", "110001", "nursing_bed_share")
    assert da.value == pytest.approx(700 / 15) and da.shortfall == 2
    city = t[t.level == "city"].iloc[0]
    assert city.value == pytest.approx(60.0) and city.status == "met"


def test_unrecorded_attributes_are_unknown_not_zero(tiny_city, plan):
    """A register without a nursing-bed column: the beds still count, the nursing share has no
    data (with a note), nothing raises.  A home whose nursing beds are blank leaves the share's
    denominator: E2 (5 beds, 1 nursing) blanked leaves district A with E1 alone, 6 of 10 = 60 %."""
    homes = tiny_city.layer("elderly_care")
    without = tiny_city.with_layer("elderly_care", homes.drop(columns=["nursing_beds"]))
    t = evaluate(without, plan, indicators=["elderly_beds_per_1000", "nursing_bed_share",
                                            "eldercare_medical_integration"])
    assert row(t, "street", "110001002", "elderly_beds_per_1000").value == pytest.approx(2.5)
    share = t[t.indicator == "nursing_bed_share"]
    assert set(share.status) == {"no_data"} and share.shortfall.isna().all()
    assert share.note.str.contains("no 'nursing_beds' attribute").all()
    assert row(t, "district", "110001", "eldercare_medical_integration").value == pytest.approx(50.0)
    blank = homes.copy()
    blank["nursing_beds"] = blank["nursing_beds"].astype(float).where(blank["id"] != "E2")
    t = evaluate(tiny_city.with_layer("elderly_care", blank), plan, indicators=["nursing_bed_share"])
    da = row(t, "district", "110001", "nursing_bed_share")
    assert (da.numerator, da.denominator, da.value) == (6, 10, pytest.approx(60.0))
    assert row(t, "street", "110001002", "nursing_bed_share").status == "no_data"


def test_share_of_counts_medical_integration(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["eldercare_medical_integration"])
    # District A: 1 of 2 institutions integrated = 50 % → 1 institution short of 100 %.
    da = row(t, "district", "110001", "eldercare_medical_integration")
    assert da.value == pytest.approx(50.0) and da.shortfall == 1
    # Levels named by the plan only: no street rows.
    assert set(t.level) == {"city", "district"}


def test_count_per_district_and_missing_layer(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["neonatal_centres_per_district",
                                              "child_welfare_institutions"])
    assert row(t, "district", "110001", "neonatal_centres_per_district").shortfall == 1
    assert row(t, "district", "110002", "neonatal_centres_per_district").status == "met"
    # No child_welfare layer at all: no data at every level, never zero, never met.
    cw = t[t.indicator == "child_welfare_institutions"]
    assert (cw.status == "no_data").all() and cw.value.isna().all() and cw.shortfall.isna().all()


def test_count_of_a_sum_social_workers(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["social_worker_per_street",
                                              "minor_protection_station_per_street"])
    assert row(t, "street", "110001001", "social_worker_per_street").value == 2
    # B1 has a station but no social worker: the station is there, the worker is not.
    assert row(t, "street", "110002001", "minor_protection_station_per_street").status == "met"
    assert row(t, "street", "110002001", "social_worker_per_street").shortfall == 1
    assert row(t, "street", "110001002", "minor_protection_station_per_street").shortfall == 1


def test_share_with_strata_urban_rural(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["parent_school_share"])
    a1 = row(t, "street", "110001001", "parent_school_share")
    # 2 of 3 communities have a parents' school (66.7 %).  Target blends 2 urban at 96 % and
    # 1 rural at 86 %: (2 × 96 + 86) / 3 = 92.67 %.  Urban: 1 of 2, need 1.92 → 1 short (whole
    # communities); rural: 1 of 1, met.  Any stratum short → gap.
    assert a1.value == pytest.approx(200 / 3)
    assert a1.target == pytest.approx((2 * 96 + 86) / 3)
    assert a1.shortfall == 1 and a1.status == "gap"


def test_access_types_are_no_data_until_computed_never_zero(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["mother_baby_room_access"])
    assert (t.status == "no_data").all()
    assert not (t.value == 0).any()


def test_additivity_streets_to_districts_to_city(tiny_city, plan):
    t = evaluate(tiny_city, plan)
    for ind in ("elderly_beds_per_1000", "nursing_bed_share"):
        s = t[(t.indicator == ind) & (t.level == "street")]
        d = t[(t.indicator == ind) & (t.level == "district")]
        c = t[(t.indicator == ind) & (t.level == "city")]
        by_district = s.groupby("parent_code")[["numerator", "denominator"]].sum()
        d = d.set_index("unit_code")
        np.testing.assert_allclose(by_district.loc[d.index, "numerator"], d["numerator"])
        np.testing.assert_allclose(by_district.loc[d.index, "denominator"], d["denominator"])
        assert c["numerator"].iloc[0] == pytest.approx(d["numerator"].sum())


def test_target_override_changes_status(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["elderly_beds_per_1000"],
                 target_overrides={"elderly_beds_per_1000": 12})
    city = t[t.level == "city"].iloc[0]
    # 7.5 per 1,000 against 12: needs 72 beds, has 45 → 27 short.
    assert city.status == "gap" and city.shortfall == 27


def test_provenance_names_sources(tiny_city, plan):
    t = evaluate(tiny_city, plan, indicators=["elderly_beds_per_1000"])
    street = row(t, "street", "110001001", "elderly_beds_per_1000")
    assert "estimate" in street.provenance and "synthetic" in street.provenance
    assert "census" in row(t, "district", "110001", "elderly_beds_per_1000").provenance
