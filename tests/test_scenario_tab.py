"""The Scenario tab driven by widget key with AppTest on the tiny city: add, remove, resize,
optimise, accept, save, download, upload — and each session keeps its own scenario."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from shapely.geometry import Point
from streamlit.testing.v1 import AppTest

from geo_coverage import scenario as sc
from geo_coverage.plan import default_plan
from ui import scenario_tab

from .conftest import write_tiny_city
from .test_scenario import lon_lat

APP = Path(__file__).resolve().parent / "scenario_tab_app.py"
TIMEOUT = 120


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return write_tiny_city(tmp_path_factory.mktemp("tab") / "tiny")


@pytest.fixture
def app(tiny_folder, monkeypatch):
    monkeypatch.setenv("SCENARIO_TAB_DATA", str(tiny_folder))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def current(at) -> sc.Scenario:
    return at.session_state[scenario_tab.STATE]


def K(base: str, language: str = "en") -> str:
    """The key of a widget whose option labels follow the language."""
    return scenario_tab.lang_key(base, language)


PLAN = default_plan()


def flips(at):
    """The flip table, its (English) headers mapped back to the comparison's column names."""
    from geo_coverage.gaps import HEADERS

    names = {en: column for column, (_, en) in {**HEADERS, **sc.COMPARISON_HEADERS}.items()}
    names.update({"Unit": "unit_name", "Indicator": "indicator_name", "Code": "unit_code"})
    tables = [df.value for df in at.dataframe if {"Flip", "Indicator"} <= set(df.value.columns)]
    return tables[0].rename(columns=names) if tables else None


def name_en(indicator: str) -> str:
    return PLAN.indicator(indicator).name_en


def test_add_a_facility_flips_the_street(app):
    lon, lat = lon_lat(1.5)  # street A2: 5 beds for 2,000 residents, 9 short of 7 per 1,000
    app.selectbox(key=K("scenario_add_kind")).set_value("elderly_care")
    app.number_input(key="scenario_add_capacity").set_value(12.0)
    app.number_input(key="scenario_lon").set_value(lon)
    app.number_input(key="scenario_lat").set_value(lat)
    app.button(key="scenario_add").click().run()
    assert not app.exception, [e.message for e in app.exception]
    (edit,) = current(app).edits
    assert edit.kind == "elderly_care" and edit.attributes == {"beds": 12.0}
    table = flips(app)
    assert table is not None
    hit = table[(table.unit_code == "110001002") & (table.indicator_name == name_en("elderly_beds_per_1000"))]
    assert list(hit.flip) == ["gap → met"]
    # (5 + 12) beds for 2,000 residents: 8.5 per 1,000, shortfall 9 before, none after.
    assert hit.value_after.iloc[0] == pytest.approx(8.5) and hit.shortfall_before.iloc[0] == pytest.approx(9.0)
    assert list(hit.unit_name) == ["甲二街道"] and list(hit.level) == ["Street / township"]
    # The columns a planner reads first, in the UI language.
    assert list(table.columns[:5]) == ["unit_name", "indicator_name", "status_before", "status_after", "flip"]
    assert (list(hit.status_before), list(hit.status_after)) == (["gap"], ["met"])
    closed = [df.value for df in app.dataframe if "Shortfall closed" in df.value.columns][0]
    row = closed[closed["Indicator"] == name_en("elderly_beds_per_1000")]
    # The street closes 9; its district 甲区 had 15 beds for 3,000 residents (21 needed, 6 short) and
    # now has 27: 6 closed.  The city (45 beds for 6,000, 42 needed) met the target before: no row.
    assert sorted(row["Level"]) == ["District", "Street / township"]
    assert row.loc[row["Level"] == "Street / township", "Shortfall closed"].iloc[0] == pytest.approx(9.0)
    assert row.loc[row["Level"] == "District", "Shortfall closed"].iloc[0] == pytest.approx(6.0)
    assert set(row["Shortfall unit"]) == {"beds"}


def test_adding_a_facility_lists_the_units_it_changed_with_scenario_values(app):
    """The changed-units table: the indicator and level the tab shows, in the indicator's units;
    the After map's tooltip calls the figure the scenario value, not today's."""
    lon, lat = lon_lat(1.5)  # street A2: 5 beds for 2,000 residents
    app.selectbox(key=K("scenario_indicator")).set_value("elderly_beds_per_1000")
    app.radio(key=K("scenario_level")).set_value("street")
    app.selectbox(key=K("scenario_add_kind")).set_value("elderly_care")
    app.number_input(key="scenario_add_capacity").set_value(12.0)
    app.number_input(key="scenario_lon").set_value(lon)
    app.number_input(key="scenario_lat").set_value(lat)
    app.button(key="scenario_add").click().run()
    assert not app.exception, [e.message for e in app.exception]
    (table,) = [df.value for df in app.dataframe if "Scenario value (beds per 1,000 residents)" in df.value.columns]
    # Only street A2 moved: 5 → 17 beds for 2,000 residents, 2.5 → 8.5 per 1,000; 9 short → 0.
    assert table["Unit"].tolist() == ["甲二街道"]
    row = table.iloc[0]
    assert row["Value before (beds per 1,000 residents)"] == pytest.approx(2.5)
    assert row["Scenario value (beds per 1,000 residents)"] == pytest.approx(8.5)
    shortfall = [c for c in table.columns if c.startswith("Shortfall before")]
    assert shortfall and row[shortfall[0]] == pytest.approx(9.0)
    assert row["Flip"] == "gap → met"
    html = " ".join(str(getattr(e, "proto", "")) for e in app.get("iframe"))
    assert "Scenario value" in html and "Value:" not in html
    # The browser asks before leaving a page whose scenario has edits.
    assert any("onbeforeunload = function" in str(e.proto) for e in app.get("iframe"))


def test_remove_resize_and_drop(app):
    app.selectbox(key=K("scenario_edit_kind")).set_value("neonatal_centre").run()
    app.selectbox(key="scenario_edit_id").set_value("N1")
    app.button(key="scenario_remove").click().run()
    assert [type(e) for e in current(app).edits] == [sc.RemoveFacility]
    table = flips(app)
    assert ((table.unit_code == "110002") & (table.flip == "met → gap")).any()
    app.selectbox(key=K("scenario_edit_kind")).set_value("elderly_care").run()
    app.selectbox(key="scenario_edit_id").set_value("E2").run()
    # "New capacity" starts at E2's 5 beds (the conftest register), labelled with the attribute's name.
    assert app.number_input(key="scenario_edit_capacity").value == 5.0
    assert app.number_input(key="scenario_edit_capacity").label == "New capacity (beds)"
    app.selectbox(key="scenario_edit_id").set_value("E3").run()
    assert app.number_input(key="scenario_edit_capacity").value == 30.0
    app.selectbox(key="scenario_edit_id").set_value("E2").run()
    app.number_input(key="scenario_edit_capacity").set_value(40.0)
    app.button(key="scenario_resize").click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert current(app).edits[1].attributes == {"beds": 40.0}
    assert app.selectbox(key=K("scenario_drop_pick")).options == [  # named, with its street
        "#1 remove the critical-newborn rescue centre '乙医院' · 乙一街道 (乙区)",
        "#2 change the elderly-care institution 'a2' to 40 beds · 甲二街道 (甲区)"]
    app.selectbox(key=K("scenario_drop_pick")).set_value(1)
    app.button(key="scenario_drop").click().run()
    assert [type(e) for e in current(app).edits] == [sc.ChangeFacility]


def test_population_change_flips_the_street(app):
    # Street A2: 5 beds for 2,000 residents (2.5 per 1,000).  −65 % leaves 700 residents:
    # 5 / 700 × 1,000 = 7.14 per 1,000, over the target of 7.
    assert app.selectbox(key=K("scenario_pop_level")).options == ["District", "Street / township"]
    app.selectbox(key=K("scenario_pop_level")).set_value("street").run()
    app.selectbox(key="scenario_pop_unit").set_value("110001002")
    app.number_input(key="scenario_pop_percent").set_value(-65.0)
    app.button(key="scenario_population").click().run()
    assert not app.exception, [e.message for e in app.exception]
    (edit,) = current(app).edits
    assert isinstance(edit, sc.PopulationChange) and edit.level == "street" and edit.code == "110001002"
    assert edit.factor == pytest.approx(0.35)
    table = flips(app)
    hit = table[(table.unit_code == "110001002") & (table.indicator_name == name_en("elderly_beds_per_1000"))]
    assert list(hit.flip) == ["gap → met"]
    assert hit.value_before.iloc[0] == pytest.approx(2.5)
    # Shown to 2 decimals: 5 / 700 × 1,000 = 7.142857…
    assert hit.value_after.iloc[0] == 7.14
    # The edit names the street, not only its code.
    assert app.selectbox(key=K("scenario_drop_pick")).options == [
        "#1 population of street / township 甲二街道 (110001002) ×0.35"]


def test_comparison_tables_speak_chinese(tiny_folder, monkeypatch):
    monkeypatch.setenv("SCENARIO_TAB_DATA", str(tiny_folder))
    monkeypatch.setenv("SCENARIO_TAB_LANGUAGE", "zh")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.selectbox(key=K("scenario_edit_kind", "zh")).set_value("neonatal_centre").run()
    at.selectbox(key="scenario_edit_id").set_value("N1")
    at.button(key="scenario_remove").click().run()
    assert not at.exception, [e.message for e in at.exception]
    headers = [list(df.value.columns) for df in at.dataframe]
    assert any("达标变化" in h and "现状缺口" in h for h in headers)
    assert not any("flip" in h or "shortfall_before" in h for h in headers)
    (flip,) = [df.value for df in at.dataframe if "达标变化" in df.value.columns]
    # District 乙区 loses its only critical-newborn centre: 1 → 0 against a target of 1.
    assert list(flip.columns[:5]) == ["单元", "指标", "现状状态", "情景状态", "达标变化"]
    row = flip[flip["单元"] == "乙区"].iloc[0]
    assert (row["指标"], row["现状状态"], row["情景状态"], row["达标变化"], row["层级"], row["缺口单位"]) == (
        PLAN.indicator("neonatal_centres_per_district").name_zh, "达标", "未达标", "转为未达标", "区", "个中心")
    assert (row["现状值"], row["情景值"], row["情景缺口"]) == (1.0, 0.0, 1.0)
    (closed,) = [df.value for df in at.dataframe if "已弥补缺口" in df.value.columns]
    assert closed.iloc[0]["已弥补缺口"] == -1.0 and closed.iloc[0]["转为未达标数"] == 1
    cells = {str(v) for table in (flip, closed) for v in table.to_numpy().ravel()}
    assert not cells & {"street", "district", "gap", "met", sc.GAP_TO_MET, sc.MET_TO_GAP, "beds", "centres"}
    # The tab's widgets speak Chinese too.
    assert at.number_input(key="scenario_add_capacity").label == "规模（床位）"
    assert at.selectbox(key=K("scenario_pop_level", "zh")).options == ["区", "街道/乡镇"]
    assert at.selectbox(key=K("scenario_opt_indicator", "zh")).label == "优化指标"
    assert at.selectbox(key=K("scenario_opt_model", "zh")).options == ["容量缺口 capacity gap"]
    edits = [df.value for df in at.dataframe if "修改" in df.value.columns]
    assert list(edits[0]["修改"]) == ["撤除危重新生儿救治中心「乙医院」 · 乙一街道（乙区）"]
    # The tiny city's facilities are synthetic: the tab says so, in Chinese.
    assert any("合成演示数据" in warning.value for warning in at.warning)


def test_optimise_accept_some_and_save(app, tiny_folder):
    app.selectbox(key=K("scenario_opt_indicator")).set_value("mother_baby_room_access").run()
    app.number_input(key="scenario_opt_sites").set_value(2)
    app.number_input(key="scenario_opt_spacing").set_value(250.0)
    app.button(key="scenario_optimise").click().run()
    assert not app.exception, [e.message for e in app.exception]
    proposal = app.session_state[scenario_tab.PROPOSAL]
    assert proposal["solution"]["model"] == "mclp" and len(proposal["edits"]) == 2
    first = proposal["edits"][0]["id"]
    # Each suggestion is labelled with the street and district it lies in (located independently here).
    from geo_coverage.dataset import load_dataset

    dataset = load_dataset(tiny_folder, crs="EPSG:32650")
    streets = dataset.units["street"].to_crs(4326)
    districts = dict(zip(dataset.units["district"].index, dataset.units["district"]["name"], strict=True))
    expected = []
    for edit in proposal["edits"]:
        (street,) = [code for code, shape in streets.geometry.items()
                     if shape.contains(Point(edit["lon"], edit["lat"]))]
        expected.append(f"{streets.at[street, 'name']} · {districts[streets.at[street, 'parent_code']]} "
                        f"({edit['id']})")
    assert app.multiselect(key=K("scenario_accept_pick")).options == expected
    caption = " ".join(c.value for c in app.caption)
    assert "solver status: optimal" in caption and "coverage" in caption
    app.multiselect(key=K("scenario_accept_pick")).set_value([first])
    app.button(key="scenario_accept").click().run()
    assert not app.exception, [e.message for e in app.exception]
    (edit,) = current(app).edits
    assert edit.kind == "mother_baby_room" and edit.id == first
    app.text_input(key="scenario_name").set_value("rooms").run()
    app.button(key="scenario_save").click().run()
    saved = app.session_state[scenario_tab.SAVED]
    assert list(saved) == ["rooms"]
    assert sc.scenario_from_yaml(saved["rooms"]).edits == current(app).edits
    # A new blank scenario, then the saved one loaded back.
    app.button(key="scenario_new").click().run()
    assert current(app).edits == () and app.text_input(key="scenario_name").value != "rooms"
    app.button(key="scenario_load").click().run()
    assert current(app).name == "rooms" and len(current(app).edits) == 1
    assert app.text_input(key="scenario_name").value == "rooms"


def test_sessions_do_not_share_scenarios(tiny_folder, monkeypatch):
    monkeypatch.setenv("SCENARIO_TAB_DATA", str(tiny_folder))
    first = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    second = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    first.selectbox(key=K("scenario_edit_kind")).set_value("neonatal_centre").run()
    first.selectbox(key="scenario_edit_id").set_value("N1")
    first.button(key="scenario_remove").click().run()
    second.run()
    assert len(current(first).edits) == 1 and current(second).edits == ()
    # The cached dataset still has its centre: the edit lives only in the first session's scenario.
    second.selectbox(key=K("scenario_edit_kind")).set_value("neonatal_centre").run()
    assert "N1 · 乙医院" in second.selectbox(key="scenario_edit_id").options


def test_uploaded_candidates_feed_the_optimiser(tiny_folder):
    """A GBK register of candidate sites with Chinese headers in GCJ-02: read like a facility
    register, and the optimiser chooses among exactly those sites, one per street centre.  The
    1,000 m walk is 769 m straight (detour 1.3): a centre reaches its whole 1 km street (corners
    707 m) and a strip of about 0.18 km² of each neighbour, so B1's centre reaches about
    3,000 + 0.18 × 2,000 = 3,360 residents and A2's about 2,000 + 0.18 × (1,000 + 3,000) = 2,720:
    B1, the most populous street, wins."""
    from geo_coverage import datum as datum_module
    from geo_coverage.dataset import load_dataset
    from geo_coverage.plan import default_plan
    from geo_coverage.siting import propose_sites, read_candidates

    dataset, plan = load_dataset(tiny_folder, crs="EPSG:32650"), default_plan()
    streets = dataset.units["street"]
    centres = streets.geometry.centroid.to_crs(4326)
    lon, lat = datum_module.wgs84_to_gcj02(centres.x.to_numpy(), centres.y.to_numpy())
    rows = "\n".join(f"C{i},候选{i},{x:.7f},{y:.7f}" for i, (x, y) in enumerate(zip(lon, lat, strict=True)))
    payload = ("编号,名称,经度,纬度\n" + rows + "\n").encode("gbk")
    result = read_candidates(payload, name="候选点.csv", dataset=dataset, kind="mother_baby_room", datum="gcj02")
    assert result.ok, result.problems
    assert sorted(result.frame["id"]) == [f"C{i}" for i in range(len(streets))]
    proposal = propose_sites(dataset, plan, indicator="mother_baby_room_access", new_sites=1,
                             candidates=result.frame, model="mclp")
    (edit,) = proposal.edits
    best = int(streets["pop_total"].to_numpy().argmax())
    assert edit["lon"] == pytest.approx(centres.x.iloc[best], abs=1e-5)
    assert edit["lat"] == pytest.approx(centres.y.iloc[best], abs=1e-5)
    # A register without coordinates is a listed problem, not a crash.
    bad = read_candidates("编号,名称\nC1,x\n".encode("gbk"), name="bad.csv", dataset=dataset,
                          kind="mother_baby_room", datum="wgs84")
    assert not bad.ok and bad.errors


def test_upload_choice_waits_for_a_file(app):
    app.selectbox(key=K("scenario_opt_candidates")).set_value(scenario_tab.UPLOAD).run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.button(key="scenario_optimise").disabled
    assert scenario_tab.PROPOSAL not in app.session_state


def test_capacity_gap_reports_the_shortfall_closed(app):
    """The capacity-gap model's share is of the total shortfall: street A2 is 9 beds short of 7 per
    1,000 (the only street short), so one 300-bed site closes all 9 of 9 — 100 %."""
    app.selectbox(key=K("scenario_opt_indicator")).set_value("elderly_beds_per_1000").run()
    assert app.selectbox(key=K("scenario_opt_model")).value == "capacity_gap"
    assert app.selectbox(key=K("scenario_opt_indicator")).label == "Indicator to improve"
    app.number_input(key="scenario_opt_sites").set_value(1)
    app.button(key="scenario_optimise").click().run()
    assert not app.exception, [e.message for e in app.exception]
    solution = app.session_state[scenario_tab.PROPOSAL]["solution"]
    assert solution["objective"] == pytest.approx(9.0) and solution["coverage_share"] == pytest.approx(1.0)
    caption = " ".join(c.value for c in app.caption)
    assert "shortfall closed 9, 100.0% of the total shortfall, solver status: optimal" in caption
    assert scenario_tab.solution_text({**solution, "status": "time_limit"}, "zh").startswith(
        "弥补缺口 9，占总缺口 100.0%，求解状态：达到时限（当前最好解）")


def test_flip_table_uses_english_unit_names_when_the_data_has_them(tiny_folder):
    """In English a flipped unit is named by its ``name_en`` (the embedded Beijing streets have one);
    units without one keep their name; in Chinese the Chinese name stays."""
    from geo_coverage.dataset import load_dataset

    dataset = load_dataset(tiny_folder, crs="EPSG:32650")
    streets = dataset.units["street"].assign(name_en=["Jia-1", "Jia-2", "", "Yi-2"])
    dataset = dataset.with_units("street", streets)
    flips = sc.compare(
        pd.DataFrame({"level": "street", "unit_code": ["110001002", "110002001"], "unit_name": ["甲二街道", "乙一街道"],
                      "parent_code": ["110001", "110002"], "indicator": "elderly_beds_per_1000",
                      "value": [2.5, 10.0], "shortfall": [9.0, 0.0], "status": ["gap", "met"],
                      "shortfall_unit": "beds"}),
        pd.DataFrame({"level": "street", "unit_code": ["110001002", "110002001"], "indicator": "elderly_beds_per_1000",
                      "value": [8.5, 5.0], "shortfall": [0.0, 6.0], "status": ["met", "gap"]})).flips
    english = scenario_tab.flips_frame(flips, PLAN, "en", dataset)
    assert english["Unit"].tolist() == ["Jia-2", "乙一街道"]
    assert english["Flip"].tolist() == ["gap → met", "met → gap"]
    chinese = scenario_tab.flips_frame(flips, PLAN, "zh", dataset)
    assert chinese["单元"].tolist() == ["甲二街道", "乙一街道"]
    assert chinese["达标变化"].tolist() == ["转为达标", "转为未达标"]


def test_after_map_follows_the_scenario_and_not_stale_cache(app):
    """The After map's HTML is cached per scenario: it changes when an edit is added, and is the
    same (not rebuilt) when only a coordinate field changes."""
    def after_html(at):
        return at.get("iframe")[-1].proto.srcdoc

    empty = after_html(app)
    assert "Facilities (3)" in empty
    app.number_input(key="scenario_lon").set_value(lon_lat(1.5)[0]).run()
    assert after_html(app) == empty
    lon, lat = lon_lat(1.5)
    app.selectbox(key=K("scenario_add_kind")).set_value("elderly_care")
    app.number_input(key="scenario_lat").set_value(lat)
    app.button(key="scenario_add").click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert "Facilities (4)" in after_html(app)
    app.selectbox(key=K("scenario_drop_pick")).set_value(1)
    app.button(key="scenario_drop").click().run()
    assert after_html(app) == empty
