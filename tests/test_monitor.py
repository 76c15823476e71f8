"""Monitoring: series → trajectories, checked against figures worked out by hand.

The hand series: three districts × 2021–2023 of two indicators of a small plan (baseline 2020, end
2025, warning margin 10 %, volatility threshold 20 %).  x = year − 2020, so the three years are
x = 1, 2, 3 and the end year is x = 5.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geo_coverage.coverage import TABLE_COLUMNS, evaluate
from geo_coverage.dataset import load_dataset
from geo_coverage.errors import DataError, PlanError
from geo_coverage.monitor import (
    MONITOR_COLUMNS,
    parse_year_dirs,
    series_from_datasets,
    series_from_tables,
    trajectories,
    warnings,
)
from geo_coverage.plan import load_plan

PLAN = {
    "id": "hand",
    "period": [2021, 2025],
    "monitoring": {"baseline_year": 2020, "warning_margin": 0.1, "volatility_threshold": 0.2},
    "levels": ["district"],
    "populations": {"all": {"column": "pop_total"}},
    "kinds": {"home": {"attributes": {"beds": "number", "waits": "number"}}},
    "groups": {"women": {"name_zh": "妇女", "name_en": "Women"}},
    "indicators": [
        {
            "id": "beds",
            "type": "ratio",
            "layer": "home",
            "numerator": {"sum": "beds"},
            "population": "all",
            "scale": 1000,
            "target": 7,
            "comparator": ">=",
            "levels": ["district"],
            "group": "women",
        },
        {
            "id": "waits",
            "type": "count",
            "layer": "home",
            "numerator": {"sum": "waits"},
            "target": 10,
            "comparator": "<=",
            "levels": ["district"],
            "group": "women",
        },
    ],
}
NAN = float("nan")
# indicator -> unit -> values in 2021, 2022, 2023
VALUES = {
    "beds": {
        "U1": [5.0, 6.0, 6.5],  # rising, not yet met: on track
        "U2": [10.0, 6.0, 6.6],  # met in 2021, then lost: off track, volatile (−40 %)
        "U3": [NAN, NAN, 7.2],
    },  # one year only: no data
    "waits": {
        "U1": [14.0, 12.0, 11.0],  # "at most" 10, falling: on track
        "U2": [10.2, NAN, 10.4],  # middle year missing: at risk
        "U3": [8.0, 12.0, 9.0],
    },  # meets it now, but +50 % in 2022: met and volatile
}


def _table(year: int) -> pd.DataFrame:
    rows = []
    for indicator, units in VALUES.items():
        comparator, target = (">=", 7.0) if indicator == "beds" else ("<=", 10.0)
        for unit, values in units.items():
            value = values[year - 2021]
            met = (
                None
                if math.isnan(value)
                else (value >= target if comparator == ">=" else value <= target)
            )
            rows.append(
                {
                    "level": "district",
                    "unit_code": unit,
                    "unit_name": f"{unit}区",
                    "parent_code": "C",
                    "indicator": indicator,
                    "value": value,
                    "target": target,
                    "comparator": comparator,
                    "met": met,
                    "status": "no_data" if met is None else ("met" if met else "gap"),
                    "shortfall": 0.0,
                    "shortfall_unit": "",
                    "numerator": value,
                    "denominator": 1.0,
                    "indicator_type": "ratio",
                    "provenance": "facilities: synthetic",
                    "note": "",
                }
            )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


@pytest.fixture(scope="module")
def monitored():
    series = series_from_tables({year: _table(year) for year in (2021, 2022, 2023)})
    return trajectories(series, load_plan(PLAN)).set_index(["indicator", "unit_code"])


def test_columns_are_the_contract_first(monitored):
    assert list(monitored.reset_index()[MONITOR_COLUMNS].columns) == MONITOR_COLUMNS
    assert len(monitored) == 6


def test_rising_unit_is_on_track(monitored):
    row = monitored.loc[("beds", "U1")]
    # ȳ = 35/6, Sxy = (−1)(−5/6) + (1)(4/6) = 1.5, Sxx = 2: slope 0.75; at x = 5: 35/6 + 0.75 × 3
    assert row["observed_per_year"] == pytest.approx(0.75)
    assert row["projected"] == pytest.approx(35 / 6 + 2.25)
    assert row["projected_year"] == 2025
    assert row["needed_per_year"] == pytest.approx((7 - 6.5) / 2)
    assert (row["year_first"], row["value_first"], row["year_last"], row["value_last"]) == (
        2021,
        5.0,
        2023,
        6.5,
    )
    assert row["status"] == "on_track"
    assert not row["volatile"]  # +20 % exactly is not above the threshold; then +8 %


def test_met_early_then_lost(monitored):
    row = monitored.loc[("beds", "U2")]
    # ȳ = 22.6/3, Sxy = (−1)(2.4667) + (1)(−0.9333) = −3.4: slope −1.7; at x = 5: 7.5333 − 5.1
    assert row["observed_per_year"] == pytest.approx(-1.7)
    assert row["projected"] == pytest.approx(22.6 / 3 - 5.1)
    assert row["status"] == "off_track"
    assert row["gap_ratio"] == pytest.approx((7 - (22.6 / 3 - 5.1)) / 7)
    assert row["volatile"]  # 10 → 6 is −40 %
    assert row["max_yearly_change"] == pytest.approx(0.4)
    assert row["needed_per_year"] == pytest.approx(0.2)


def test_one_year_is_no_data(monitored):
    row = monitored.loc[("beds", "U3")]
    assert row["status"] == "no_data"
    assert row["n_points"] == 1
    assert math.isnan(row["projected"]) and math.isnan(row["observed_per_year"])
    assert (row["year_first"], row["year_last"], row["value_last"]) == (2023, 2023, 7.2)
    assert not row["volatile"]
    assert row["needed_per_year"] == 0.0  # 7.2 already meets 7


def test_at_most_target_falling_is_on_track(monitored):
    row = monitored.loc[("waits", "U1")]
    # ȳ = 37/3, Sxy = (−1)(5/3) + (1)(−4/3) = −3: slope −1.5; at x = 5: 37/3 − 4.5 = 7.83 ≤ 10
    assert row["observed_per_year"] == pytest.approx(-1.5)
    assert row["projected"] == pytest.approx(37 / 3 - 4.5)
    assert row["status"] == "on_track"
    assert row["needed_per_year"] == pytest.approx((10 - 11) / 2)  # must fall by 0.5 a year
    assert not row["volatile"]


def test_missing_middle_year(monitored):
    row = monitored.loc[("waits", "U2")]
    # Two points, (1, 10.2) and (3, 10.4): slope 0.1; at x = 5: 10.6, 6 % above 10: at risk
    assert row["n_points"] == 2
    assert row["observed_per_year"] == pytest.approx(0.1)
    assert row["projected"] == pytest.approx(10.6)
    assert row["gap_ratio"] == pytest.approx(0.06)
    assert row["status"] == "at_risk"
    # 10.2 → 10.4 over two years: (0.2 / 10.2) / 2 a year, far below 20 %
    assert row["max_yearly_change"] == pytest.approx(0.2 / 10.2 / 2)
    assert not row["volatile"]
    assert row["needed_per_year"] == pytest.approx(-0.2)


def test_at_most_met_but_volatile(monitored):
    row = monitored.loc[("waits", "U3")]
    # ȳ = 29/3, Sxy = (−1)(−5/3) + (1)(−2/3) = 1: slope 0.5; projection 29/3 + 1.5 = 11.17 > 10,
    # but the latest value (9) meets the target, and that decides first
    assert row["projected"] == pytest.approx(29 / 3 + 1.5)
    assert row["status"] == "met"
    assert row["volatile"]  # 8 → 12 is +50 %
    assert row["needed_per_year"] == 0.0


def test_warnings_rank_furthest_behind_first(monitored):
    listed = warnings(monitored.reset_index())
    assert list(zip(listed["indicator"], listed["unit_code"], strict=True)) == [
        ("beds", "U2"),
        ("waits", "U2"),
        ("waits", "U3"),
    ]


def test_the_rules_come_from_the_plan():
    spec = {
        **PLAN,
        "monitoring": {**PLAN["monitoring"], "warning_margin": 0.05, "volatility_threshold": 0.6},
    }
    series = series_from_tables({year: _table(year) for year in (2021, 2022, 2023)})
    out = trajectories(series, load_plan(spec)).set_index(["indicator", "unit_code"])
    assert out.loc[("waits", "U2"), "status"] == "off_track"  # 6 % is beyond a 5 % margin
    assert not out["volatile"].any()  # nothing changes by more than 60 % a year


def test_end_year_value_replaces_the_projection():
    series = series_from_tables(
        {year: _table(2021 + i) for i, year in enumerate((2023, 2024, 2025))}
    )
    out = trajectories(series, load_plan(PLAN)).set_index(["indicator", "unit_code"])
    row = out.loc[("beds", "U1")]
    assert row["projected"] == 6.5 and math.isnan(row["needed_per_year"])
    assert row["status"] == "at_risk"  # 6.5 is 7.1 % short of 7


@pytest.mark.parametrize(
    "monitoring, message",
    [
        ({"warning_margin": "ten"}, "not a number"),
        ({"baseline_year": 2023}, "after the period starts"),
        ({"midterm_year": 2030}, "outside the period"),
        ({"alarm": 1}, "unknown key"),
    ],
)
def test_bad_monitoring_section_is_a_plan_error(monitoring, message):
    with pytest.raises(PlanError, match=message):
        load_plan({**PLAN, "monitoring": monitoring})


def test_plan_without_period_cannot_be_monitored():
    spec = {k: v for k, v in PLAN.items() if k not in ("period", "monitoring")}
    with pytest.raises(PlanError, match="no 'period'"):
        trajectories(series_from_tables({2021: _table(2021)}), load_plan(spec))


def test_beijing_plan_carries_its_rules():
    from geo_coverage.plan import default_plan

    rules = default_plan().monitoring_rules()
    assert (rules.start_year, rules.end_year, rules.baseline_year) == (2021, 2025, 2020)
    assert (rules.warning_margin, rules.volatility_threshold) == (0.1, 0.2)
    assert (rules.midterm_year, rules.final_year) == (2023, 2025)
    assert default_plan().group_name("children") == "儿童"


def test_bad_snapshot_dirs(tmp_path):
    with pytest.raises(DataError, match="YEAR=DIR"):
        parse_year_dirs(["2021"])
    with pytest.raises(DataError, match="not a snapshot year"):
        parse_year_dirs([f"twenty={tmp_path}"])
    with pytest.raises(DataError, match="does not exist"):
        parse_year_dirs([f"2021={tmp_path / 'nope'}"])
    with pytest.raises(DataError, match="twice"):
        parse_year_dirs([f"2021={tmp_path}", f"2021={tmp_path}"])


def test_series_from_snapshots_equals_report_each_year(tiny_city_dir, tmp_path):
    """The series of two folders holds, for each year, exactly the table `evaluate` gives."""
    from geo_coverage.plan import default_plan

    plan = default_plan()
    first = load_dataset(tiny_city_dir)
    frame = first.layers["elderly_care"].copy()
    frame["beds"] = frame["beds"] * 2
    second = first.with_layer("elderly_care", frame)
    series = series_from_datasets({2021: first, 2023: second}, plan)
    assert sorted(series["year"].unique()) == [2021, 2023]
    for year, dataset in ((2021, first), (2023, second)):
        expected = evaluate(dataset, plan)
        got = series[series["year"] == year].drop(columns="year").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))
    beds = series[
        (series["indicator"] == "elderly_beds_per_1000") & (series["level"] == "district")
    ]
    by_year = beds.pivot(index="unit_code", columns="year", values="value")
    np.testing.assert_allclose(by_year[2023], by_year[2021] * 2)


def test_projection_stays_within_what_a_share_can_be():
    rows = []
    for year, value in ((2021, 94.0), (2022, 97.0), (2023, 99.5)):
        table = _table(year)
        table.loc[0, ["value", "indicator_type", "target", "status"]] = [
            value,
            "share",
            100.0,
            "gap",
        ]
        rows.append((year, table))
    out = trajectories(series_from_tables(dict(rows)), load_plan(PLAN)).set_index(
        ["indicator", "unit_code"]
    )
    row = out.loc[("beds", "U1")]
    # the line (slope 2.75) would reach 96.83 + 2.75 × 3 = 105.08 in 2025; a share stops at 100
    assert row["observed_per_year"] == pytest.approx(2.75)
    assert row["projected"] == 100.0 and row["status"] == "on_track"
