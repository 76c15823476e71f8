"""The Scenario tab driven by widget key with AppTest on the tiny city: add, remove, resize,
optimise, accept, save, download, upload — and each session keeps its own scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo_coverage import scenario as sc
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


def flips(at):
    """The flip table, its (English) headers mapped back to the comparison's column names."""
    from geo_coverage.gaps import HEADERS

    names = {en: column for column, (_, en) in {**HEADERS, **sc.COMPARISON_HEADERS}.items()}
    tables = [df.value for df in at.dataframe if "Flip" in df.value.columns]
    return tables[0].rename(columns=names) if tables else None


def test_add_a_facility_flips_the_street(app):
    lon, lat = lon_lat(1.5)  # street A2: 5 beds for 2,000 residents, 9 short of 7 per 1,000
    app.selectbox(key="scenario_add_kind").set_value("elderly_care")
    app.number_input(key="scenario_add_capacity").set_value(12.0)
    app.number_input(key="scenario_lon").set_value(lon)
    app.number_input(key="scenario_lat").set_value(lat)
    app.button(key="scenario_add").click().run()
    assert not app.exception, [e.message for e in app.exception]
    (edit,) = current(app).edits
    assert edit.kind == "elderly_care" and edit.attributes == {"beds": 12.0}
    table = flips(app)
    assert table is not None
    hit = table[(table.unit_code == "110001002") & (table.indicator == "elderly_beds_per_1000")]
    assert list(hit.flip) == [sc.GAP_TO_MET]


def test_remove_resize_and_drop(app):
    app.selectbox(key="scenario_edit_kind").set_value("neonatal_centre").run()
    app.selectbox(key="scenario_edit_id").set_value("N1")
    app.button(key="scenario_remove").click().run()
    assert [type(e) for e in current(app).edits] == [sc.RemoveFacility]
    table = flips(app)
    assert ((table.unit_code == "110002") & (table.flip == sc.MET_TO_GAP)).any()
    app.selectbox(key="scenario_edit_kind").set_value("elderly_care").run()
    app.selectbox(key="scenario_edit_id").set_value("E2")
    app.number_input(key="scenario_edit_capacity").set_value(40.0)
    app.button(key="scenario_resize").click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert current(app).edits[1].attributes == {"beds": 40.0}
    app.selectbox(key="scenario_drop_pick").set_value(1)
    app.button(key="scenario_drop").click().run()
    assert [type(e) for e in current(app).edits] == [sc.ChangeFacility]


def test_population_change_flips_the_street(app):
    # Street A2: 5 beds for 2,000 residents (2.5 per 1,000).  −65 % leaves 700 residents:
    # 5 / 700 × 1,000 = 7.14 per 1,000, over the target of 7.
    app.selectbox(key="scenario_pop_level").set_value("street").run()
    app.selectbox(key="scenario_pop_unit").set_value("110001002")
    app.number_input(key="scenario_pop_percent").set_value(-65.0)
    app.button(key="scenario_population").click().run()
    assert not app.exception, [e.message for e in app.exception]
    (edit,) = current(app).edits
    assert isinstance(edit, sc.PopulationChange) and edit.level == "street" and edit.code == "110001002"
    assert edit.factor == pytest.approx(0.35)
    table = flips(app)
    hit = table[(table.unit_code == "110001002") & (table.indicator == "elderly_beds_per_1000")]
    assert list(hit.flip) == [sc.GAP_TO_MET]
    assert hit.value_before.iloc[0] == pytest.approx(2.5)
    assert hit.value_after.iloc[0] == pytest.approx(5 / 700 * 1000)


def test_comparison_tables_speak_chinese(tiny_folder, monkeypatch):
    monkeypatch.setenv("SCENARIO_TAB_DATA", str(tiny_folder))
    monkeypatch.setenv("SCENARIO_TAB_LANGUAGE", "zh")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.selectbox(key="scenario_edit_kind").set_value("neonatal_centre").run()
    at.selectbox(key="scenario_edit_id").set_value("N1")
    at.button(key="scenario_remove").click().run()
    assert not at.exception, [e.message for e in at.exception]
    headers = [list(df.value.columns) for df in at.dataframe]
    assert any("达标变化" in h and "现状缺口" in h for h in headers)
    assert not any("flip" in h or "shortfall_before" in h for h in headers)
    edits = [df.value for df in at.dataframe if "修改" in df.value.columns]
    assert list(edits[0]["修改"]) == ["撤除危重新生儿救治中心「N1」"]
    # The tiny city's facilities are synthetic: the tab says so, in Chinese.
    assert any("合成演示数据" in warning.value for warning in at.warning)


def test_optimise_accept_some_and_save(app):
    app.selectbox(key="scenario_opt_indicator").set_value("mother_baby_room_access").run()
    app.number_input(key="scenario_opt_sites").set_value(2)
    app.number_input(key="scenario_opt_spacing").set_value(250.0)
    app.button(key="scenario_optimise").click().run()
    assert not app.exception, [e.message for e in app.exception]
    proposal = app.session_state[scenario_tab.PROPOSAL]
    assert proposal["solution"]["model"] == "mclp" and len(proposal["edits"]) == 2
    first = proposal["edits"][0]["id"]
    app.multiselect(key="scenario_accept_pick").set_value([first])
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
    first.selectbox(key="scenario_edit_kind").set_value("neonatal_centre").run()
    first.selectbox(key="scenario_edit_id").set_value("N1")
    first.button(key="scenario_remove").click().run()
    second.run()
    assert len(current(first).edits) == 1 and current(second).edits == ()
    # The cached dataset still has its centre: the edit lives only in the first session's scenario.
    second.selectbox(key="scenario_edit_kind").set_value("neonatal_centre").run()
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
    from geo_coverage.siting import propose_sites

    dataset, plan = load_dataset(tiny_folder, crs="EPSG:32650"), default_plan()
    streets = dataset.units["street"]
    centres = streets.geometry.centroid.to_crs(4326)
    lon, lat = datum_module.wgs84_to_gcj02(centres.x.to_numpy(), centres.y.to_numpy())
    rows = "\n".join(f"C{i},候选{i},{x:.7f},{y:.7f}" for i, (x, y) in enumerate(zip(lon, lat, strict=True)))
    payload = ("编号,名称,经度,纬度\n" + rows + "\n").encode("gbk")
    result = scenario_tab.read_candidates(dataset, "mother_baby_room", name="候选点.csv", payload=payload,
                                          datum="gcj02")
    assert result.ok, result.problems
    assert sorted(result.frame["id"]) == [f"C{i}" for i in range(len(streets))]
    proposal = propose_sites(dataset, plan, indicator="mother_baby_room_access", new_sites=1,
                             candidates=result.frame, model="mclp")
    (edit,) = proposal.edits
    best = int(streets["pop_total"].to_numpy().argmax())
    assert edit["lon"] == pytest.approx(centres.x.iloc[best], abs=1e-5)
    assert edit["lat"] == pytest.approx(centres.y.iloc[best], abs=1e-5)
    # A register without coordinates is a listed problem, not a crash.
    bad = scenario_tab.read_candidates(dataset, "mother_baby_room", name="bad.csv",
                                       payload="编号,名称\nC1,x\n".encode("gbk"), datum="wgs84")
    assert not bad.ok and bad.errors


def test_upload_choice_waits_for_a_file(app):
    app.selectbox(key="scenario_opt_candidates").set_value(scenario_tab.UPLOAD).run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.button(key="scenario_optimise").disabled
    assert scenario_tab.PROPOSAL not in app.session_state
