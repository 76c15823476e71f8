"""Scenario edits described fully (issue 12 §3.3): capacity in its unit with the right plural,
the street and district the site stands in rather than its coordinates, no capacity for kinds
that have none — in the Scenario tab's form too."""

from __future__ import annotations

import geopandas as gpd
import pytest

from geo_coverage import datum
from geo_coverage import scenario as sc
from geo_coverage.plan import default_plan
from ui.edits import describe_edit, place_of, quantity


@pytest.fixture
def plan():
    return default_plan()


def _centre(tiny_city, code):
    point = tiny_city.units["street"].geometry[code].centroid
    lonlat = gpd.GeoSeries([point], crs=tiny_city.crs).to_crs(4326)
    return float(lonlat.x.iloc[0]), float(lonlat.y.iloc[0])


def test_quantities_say_their_unit_and_plural():
    assert quantity("beds", 200, "zh") == "200 床"
    assert quantity("beds", 1, "en") == "1 bed"
    assert quantity("beds", 2, "en") == "2 beds"
    assert quantity("places", 1_250, "en") == "1,250 places"
    assert quantity("social_workers", 1, "en") == "1 social worker"
    assert quantity("paediatricians", 3, "zh") == "3 名儿科医生"


def test_an_added_home_is_named_by_its_capacity_and_street(tiny_city, plan):
    lon, lat = _centre(tiny_city, "110001002")  # 甲二街道 in 甲区
    add = sc.AddFacility(position=1, kind="elderly_care", lon=lon, lat=lat,
                         attributes={"beds": 200.0})
    assert describe_edit(add, plan, "zh", tiny_city) == "新增养老机构 200 床 · 甲二街道（甲区）"
    one = sc.AddFacility(position=1, kind="elderly_care", lon=lon, lat=lat,
                         attributes={"beds": 1.0})
    # The fixture has no English names: the Chinese ones stand in.
    assert describe_edit(one, plan, "en", tiny_city) == (
        "add an elderly-care institution with 1 bed · 甲二街道 (甲区)")


def test_a_site_given_in_gcj02_is_placed_after_conversion(tiny_city, plan):
    lon, lat = _centre(tiny_city, "110002001")
    glon, glat = (float(v) for v in datum.wgs84_to_gcj02(lon, lat))
    assert place_of(tiny_city, glon, glat, "gcj02", "zh") == "乙一街道（乙区）"
    # Read as WGS84 the same numbers are ~500 m off: still inside the 1 km street here, but
    # outside the city they are not placed at all and the coordinates are shown.
    far = sc.AddFacility(position=1, kind="mother_baby_room", lon=100.0, lat=30.0)
    assert describe_edit(far, plan, "zh", tiny_city) == "新增母婴室 · 100.00000, 30.00000（wgs84）"


def test_kinds_without_capacity_show_none_and_flags_are_words(tiny_city, plan):
    lon, lat = _centre(tiny_city, "110001001")
    room = sc.AddFacility(position=1, kind="mother_baby_room", lon=lon, lat=lat,
                          attributes={"venue_type": "mall"})
    assert describe_edit(room, plan, "en", tiny_city) == "add a mother-baby room · 甲一街道 (甲区)"
    home = sc.AddFacility(position=2, kind="elderly_care", lon=lon, lat=lat,
                          attributes={"beds": 80.0, "nursing_beds": 1.0})
    assert describe_edit(home, plan, "en", tiny_city) == (
        "add an elderly-care institution with 80 beds, 1 nursing bed · 甲一街道 (甲区)")


def test_changes_and_removals_name_the_facility_and_its_street(tiny_city, plan):
    change = sc.ChangeFacility(position=1, kind="elderly_care", id="E3", attributes={"beds": 45.0})
    assert describe_edit(change, plan, "zh", tiny_city) == (
        "调整养老机构「b1」为 45 床 · 乙一街道（乙区）")
    remove = sc.RemoveFacility(position=2, kind="elderly_care", id="E2")
    assert describe_edit(remove, plan, "en", tiny_city) == (
        "remove the elderly-care institution 'a2' · 甲二街道 (甲区)")
    unknown = sc.RemoveFacility(position=3, kind="elderly_care", id="NOPE")
    assert describe_edit(unknown, plan, "zh", tiny_city) == "撤除养老机构「NOPE」"


def test_the_form_shows_no_capacity_for_a_mother_baby_room_and_lists_edits_fully(tmp_path,
                                                                                monkeypatch):
    from streamlit.testing.v1 import AppTest

    from .conftest import write_tiny_city
    from .test_scenario_tab import APP, TIMEOUT, K

    monkeypatch.setenv("SCENARIO_TAB_DATA", str(write_tiny_city(tmp_path / "tiny")))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any(n.key == "scenario_add_capacity" for n in at.number_input)  # care home: beds
    at.selectbox(key=K("scenario_add_kind")).set_value("mother_baby_room").run()
    assert not any(n.key == "scenario_add_capacity" for n in at.number_input)
    assert any("no capacity" in c.value for c in at.caption)
    at.selectbox(key=K("scenario_add_kind")).set_value("elderly_care").run()
    at.number_input(key="scenario_add_capacity").set_value(1.0)
    from .test_scenario import lon_lat

    lon, lat = lon_lat(0.5)  # inside 甲一街道
    at.number_input(key="scenario_lon").set_value(lon)
    at.number_input(key="scenario_lat").set_value(lat)
    at.button(key="scenario_add").click().run()
    assert not at.exception
    edits = [df.value for df in at.dataframe if "Edit" in df.value.columns]
    assert edits and edits[0]["Edit"].tolist() == [
        "add an elderly-care institution with 1 bed · 甲一街道 (甲区)"]
