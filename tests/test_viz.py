"""Maps: offline assets, hand-checked colours, legend, facilities and the GCJ-02 shift for Amap."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer

from geo_coverage import coverage, viz
from geo_coverage.dataset import load_dataset
from geo_coverage.plan import default_plan

from .conftest import write_tiny_city

CDN_HOSTS = ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "unpkg.com",
             "netdna.bootstrapcdn.com", "d3js.org", "raw.githubusercontent.com")
INDICATOR = "elderly_beds_per_1000"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = write_tiny_city(tmp_path_factory.mktemp("tiny"))
    dataset = load_dataset(root)
    plan = default_plan()
    return dataset, plan, coverage.evaluate(dataset, plan, indicators=[INDICATOR])


def _js(text: str) -> str:
    """How a string appears inside the page's script (folium escapes non-ASCII as JSON)."""
    return json.dumps(text)[1:-1]


def _geojson_layers(fmap) -> list[dict]:
    """The FeatureCollections drawn on the map, in drawing order (layer groups included)."""
    found = []

    def walk(element):
        data = getattr(element, "data", None)
        if isinstance(data, dict) and data.get("type") == "FeatureCollection":
            found.append(data)
        for child in element._children.values():
            walk(child)

    walk(fmap)
    return found


def test_map_html_is_offline_and_holds_every_unit_and_the_legend(tiny):
    dataset, plan, table = tiny
    html = viz.map_html(viz.coverage_map(table, dataset, plan, indicator=INDICATOR,
                                           level="street"))
    assert not any(host in html for host in CDN_HOSTS)
    # No script or stylesheet is fetched from anywhere: every asset is an inline data: URI.
    assert not re.search(r"""(?:src|href)=["']https?://""", html)
    assert re.search(r"""<script src="data:text/javascript;base64,""", html)
    for code in ("110001001", "110001002", "110002001", "110002002"):
        assert f'"{code}"' in html
    assert "geo-coverage-legend" in html
    assert _js("千人常住人口养老床位数") in html and _js("张/千人") in html


def test_fill_colours_follow_value_over_target_by_hand(tiny):
    dataset, plan, table = tiny
    fmap = viz.coverage_map(table, dataset, plan, indicator=INDICATOR, level="street")
    units = _geojson_layers(fmap)[0]
    fill = {f["id"]: f["properties"]["fill"] for f in units["features"]}
    # Target 7 beds per 1,000: A1 10 beds/1,000 people → 10 (ratio 1.43: met, 1.25–2 class);
    # A2 5 beds/2,000 → 2.5 (ratio 0.36: worst gap class); B1 30/3,000 → 10 (met, 1.25–2);
    # B2 has nobody living in it → no data.
    assert fill == {"110001001": viz.MET_COLOURS[1], "110001002": viz.GAP_COLOURS[0],
                    "110002001": viz.MET_COLOURS[1], "110002002": viz.NO_DATA_COLOUR}
    tooltip = {f["id"]: f["properties"] for f in units["features"]}["110001002"]
    assert tooltip["value_text"] == "2.50 张/千人"
    # need 7 × 2,000 / 1,000 = 14 beds, have 5: short by 9
    assert tooltip["shortfall_text"] == "9 张床位"


def test_gap_ratio_is_centred_on_one_for_lower_and_upper_limits():
    ratio = viz.gap_ratio([14.0, 3.5, np.nan], 7.0, ">=")
    assert ratio[:2].tolist() == [2.0, 0.5] and np.isnan(ratio[2])
    # An upper limit: half the allowed value is twice as good.
    assert viz.gap_ratio([5.0, 20.0], 10.0, "<=").tolist() == [2.0, 0.5]
    assert viz.gap_ratio([0.0, 3.0], 0.0, ">=").tolist() == [1.0, np.inf]


def test_legend_speaks_the_chosen_language_and_says_outlines_are_approximate(tiny):
    dataset, plan, table = tiny
    streets = dataset.units["street"].assign(outline_quality="approximate")
    approximate = dataset.with_units("street", streets)
    zh = viz.map_html(viz.coverage_map(table, approximate, plan, indicator=INDICATOR,
                                         level="street", language="zh"))
    en = viz.map_html(viz.coverage_map(table, approximate, plan, indicator=INDICATOR,
                                         level="street", language="en"))
    assert _js("街道边界为近似") in zh and _js("目标") in zh
    assert "Street outlines are approximate" in en and "Target" in en
    assert "beds per 1,000 residents" in en
    plain = viz.map_html(viz.coverage_map(table, dataset, plan, indicator=INDICATOR,
                                            level="street"))
    assert _js("街道边界为近似") not in plain  # the tiny city's outlines are not marked approximate


def test_facility_popups_carry_attributes_and_source(tiny):
    dataset, plan, _ = tiny
    facilities = viz.facility_rows(dataset, plan, "elderly_care", language="zh")
    assert len(facilities["rows"]) == len(dataset.layer("elderly_care")) == 3
    assert facilities["labels"][:4] == ["ID", "beds", "nursing_beds", "medical_integration"]
    assert facilities["sources"] == [["合成（演示）", viz.SOURCE_COLOURS["synthetic"],
                                      "synthetic: test fixture"]]
    by_id = {row[4]: row for row in facilities["rows"]}
    assert by_id["E3"][3] == "b1" and by_id["E3"][5] == "30"


def test_amap_shifts_every_vector_layer_to_gcj02(tiny):
    dataset, plan, table = tiny
    plain = viz.coverage_map(table, dataset, plan, indicator=INDICATOR, level="street")
    shifted = viz.coverage_map(table, dataset, plan, indicator=INDICATOR, level="street",
                                base_map="amap")
    before = np.asarray(_geojson_layers(plain)[0]["features"][0]["geometry"]["coordinates"][0])
    after = np.asarray(_geojson_layers(shifted)[0]["features"][0]["geometry"]["coordinates"][0])
    _, _, metres = Geod(ellps="WGS84").inv(before[:, 0], before[:, 1], after[:, 0], after[:, 1])
    # GCJ-02 moves central Beijing by roughly 400–700 m.
    assert np.all((metres > 300) & (metres < 800)), metres
    rows_plain = viz.facility_rows(dataset, plan, "elderly_care")["rows"]
    rows_shifted = viz.facility_rows(dataset, plan, "elderly_care", datum="gcj02")["rows"]
    plain_xy, shifted_xy = np.asarray([r[:2] for r in rows_plain]), np.asarray(
        [r[:2] for r in rows_shifted])
    _, _, moved = Geod(ellps="WGS84").inv(plain_xy[:, 1], plain_xy[:, 0], shifted_xy[:, 1],
                                          shifted_xy[:, 0])
    assert np.all((moved > 300) & (moved < 800)), moved
    html = viz.map_html(shifted)
    assert "autonavi.com" in html  # the tile source itself is the only remote URL


def test_tianditu_is_offered_only_with_a_configured_token():
    assert "tianditu" not in viz.base_maps()
    choices = viz.base_maps(tianditu_token="abc123")
    assert choices["tianditu"].tiles.endswith("tk=abc123")
    assert choices["tianditu"].datum == "wgs84"


def test_unknown_choices_are_clear_errors(tiny):
    dataset, plan, table = tiny
    with pytest.raises(Exception, match="Unknown base map"):
        viz.coverage_map(table, dataset, plan, indicator=INDICATOR, level="street",
                          base_map="google")
    with pytest.raises(Exception, match="No rows"):
        viz.coverage_map(table, dataset, plan, indicator=INDICATOR, level="city_block")


def test_format_number_one_way_in_both_languages():
    # Thousands separators and a fixed number of decimals; no 万 in Chinese (issue 12 §3.7).
    assert viz.format_number(1234.5, language="en") == "1,234.5"
    assert viz.format_number(2_345_678, language="zh", digits=0) == "2,345,678"
    assert viz.format_number(2_345_678, language="en", digits=0) == "2,345,678"
    assert viz.format_number(7, language="zh", digits=2) == "7.00"  # beside 8.75, not "7"
    assert viz.format_number(-0.001, digits=2) == "0.00"
    assert viz.format_number(float("nan")) == "—"


def test_each_indicator_has_its_decimals():
    plan = default_plan()
    assert viz.decimals_for(plan.indicator("elderly_beds_per_1000")) == 2  # per 1,000
    assert viz.decimals_for(plan.indicator("nursing_bed_share")) == 1  # %
    assert viz.decimals_for(plan.indicator("neonatal_centres_per_district")) == 0  # count
    beds = plan.indicator("elderly_beds_per_1000")
    labels = [text for _, text in viz.legend_classes(beds, 7.0, language="zh")]
    assert labels == ["< 3.50", "3.50 – 5.60", "5.60 – 7.00", "7.00 – 8.75", "8.75 – 14.00",
                      "≥ 14.00"]


@pytest.mark.slow
def test_default_street_map_is_complete_and_light():
    dataset = load_dataset()
    plan = default_plan()
    table = coverage.evaluate(dataset, plan, indicators=[INDICATOR])
    fmap = viz.coverage_map(table, dataset, plan, indicator=INDICATOR, level="street")
    units = _geojson_layers(fmap)
    assert len(units[0]["features"]) == len(dataset.units["street"]) == 331
    assert len(units[1]["features"]) == 16  # district outlines drawn over the streets
    html = viz.map_html(fmap)
    # Simplified (30 m, edge by edge), rounded outlines keep the page light: measured 1.92 MB
    # incl. ~0.25 MB of inlined Leaflet for the real street outlines (162,000 vertices raw).
    assert len(html.encode("utf-8")) < 2_000_000
    assert _js("街道边界为近似") not in html  # the default's street outlines are real
    rounded = json.dumps(units[0]["features"][0]["geometry"])
    assert not re.search(r"\.\d{6,}", rounded)


def test_uncovered_heat_sums_residents_left_out_per_display_cell():
    # Three 100 m cells: two in one 500 m display cell (10 and 30 residents not covered), one
    # fully covered.  One heat point, at the weighted centre of the two, at full weight.
    xy = np.array([[440_050.0, 4_420_050.0], [440_150.0, 4_420_050.0], [441_250.0, 4_420_050.0]])
    population = np.array([10.0, 40.0, 25.0])
    covered = np.array([0.0, 10.0, 25.0])
    heat = viz.uncovered_heat(xy, population, covered, crs="EPSG:32650", cell_m=500.0)
    assert len(heat.data) == 1 and heat.data[0][2] == 1.0
    # The weighted centre is (440 125, 4 420 050) in UTM 50N.
    lon, lat = Transformer.from_crs(32650, 4326, always_xy=True).transform(440_125.0, 4_420_050.0)
    _, _, metres = Geod(ellps="WGS84").inv(lon, lat, heat.data[0][1], heat.data[0][0])
    assert metres < 2.0
    assert viz.uncovered_heat(xy, population, population, crs="EPSG:32650") is None


def test_access_layers_stay_offline(tiny):
    dataset, plan, table = tiny
    heat = viz.uncovered_heat(np.array([[440_500.0, 4_420_500.0]]), np.array([5.0]),
                               np.array([0.0]), crs="EPSG:32650")
    html = viz.map_html(viz.coverage_map(table, dataset, plan, indicator=INDICATOR,
                                           level="street", extra_layers=[heat],
                                           focus="110001002"))
    assert not any(host in html for host in CDN_HOSTS)
    assert "L.heatLayer" in html


def test_legend_leaves_out_classes_no_value_can_reach():
    """Classes stay centred on the target, but a share cannot pass 100 % and a count is whole."""
    plan = default_plan()
    gap, met = list(viz.GAP_COLOURS), list(viz.MET_COLOURS)

    def legend(indicator: str, target: float) -> list[tuple[str, str]]:
        return viz.legend_classes(plan.indicator(indicator), target, language="en")

    # 7 beds per 1,000 is open-ended: all six classes, edges 0.5/0.8/1/1.25/2 × 7.
    # (a rate per 1,000 is written with two decimals throughout: 7.00 beside 8.75)
    assert [text for _, text in legend("elderly_beds_per_1000", 7.0)] == [
        "< 3.50", "3.50 – 5.60", "5.60 – 7.00", "7.00 – 8.75", "8.75 – 14.00", "≥ 14.00"]
    # A 60 % share: 1.25 × 60 = 75 %, and 2 × 60 = 120 % is out of reach, so the last class is 75–100 %.
    assert legend("nursing_bed_share", 60.0) == list(zip(
        gap + met[:2], ["< 30.0%", "30.0% – 48.0%", "48.0% – 60.0%", "60.0% – 75.0%",
                        "75.0% – 100.0%"], strict=True))
    # A 100 % target: meeting it means exactly 100 %, one blue class (also for "% of residents").
    assert legend("mother_baby_room_venue_share", 100.0) == list(zip(
        gap + met[:1], ["< 50.0%", "50.0% – 80.0%", "80.0% – 100.0%", "100.0%"], strict=True))
    assert [t for _, t in legend("mother_baby_room_access", 100.0)][-1] == "100.0%"
    # One centre per district: 0 (gap), 1 (met) or 2 and more — never 0.5–0.8, 0.8–1 or 1.25–2.
    assert legend("neonatal_centres_per_district", 1.0) == [(gap[0], "0"), (met[0], "1"), (met[2], "≥ 2")]
    # Twenty institutions for the city: whole numbers in [0, 10), [10, 16), [16, 20), [20, 25), [25, 40).
    assert [t for _, t in legend("child_welfare_institutions", 20.0)] == [
        "0 – 9", "10 – 15", "16 – 19", "20 – 24", "25 – 39", "≥ 40"]
    # The colours a map gives such units are exactly the ones the legend lists.
    rows = pd.DataFrame({"value": [0.0, 1.0, 2.0, 3.0], "target": 1.0, "comparator": ">=",
                         "status": ["gap", "met", "met", "met"]})
    assert list(viz.fill_colours(rows)) == [gap[0], met[0], met[2], met[2]]
    shares = pd.DataFrame({"value": [100.0, 99.0], "target": 100.0, "comparator": ">=",
                           "status": ["met", "gap"]})
    assert list(viz.fill_colours(shares)) == [met[0], gap[2]]


def test_without_folium_the_maps_say_which_extra_to_install():
    import subprocess
    import sys

    # A fresh interpreter in which folium cannot be imported (as after `pip install geo-coverage`).
    code = ("import sys; sys.modules['folium'] = None\n"
            "import geo_coverage.viz as viz\n"
            "print(viz.format_number(1234.5, language='en'))\n"  # the legend's numbers need no folium
            "try:\n    viz.coverage_map\nexcept ImportError as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == "1,234.5"
    assert "pip install 'geo-coverage[app]'" in lines[1] and "folium" in lines[1]
