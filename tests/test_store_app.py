"""The store in the app (AppTest on the tiny city): pick a snapshot year, save scenarios for
everyone with author and time, a stale save refused naming who saved, open and fork."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest

from geo_coverage.store import open_store
from ui import scenario_tab, store_panel

from .conftest import write_tiny_city

APP = Path(__file__).resolve().parent / "store_panel_app.py"
TIMEOUT = 120


@pytest.fixture
def filled(tmp_path, monkeypatch):
    tiny = write_tiny_city(tmp_path / "tiny")
    later = write_tiny_city(tmp_path / "tiny2023")
    care = gpd.read_file(later / "layers" / "elderly_care.geojson")
    care["beds"] = care["beds"] + 100  # 45 beds in 2020, 345 in 2023
    care.to_file(later / "layers" / "elderly_care.geojson", driver="GeoJSON")
    location = tmp_path / "shared.gpkg"
    with open_store(location) as store:
        store.add_snapshot(tiny, year=2020, label="tiny 2020")
        store.add_snapshot(later, year=2023, label="tiny 2023")
    monkeypatch.setenv("SCENARIO_TAB_DATA", str(tiny))
    monkeypatch.setenv("GEO_COVERAGE_STORE", str(location))
    return location


def session() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def listing(at):
    """The shared-scenarios table (found by its columns)."""
    return next(df.value for df in at.dataframe if "Saved by" in df.value.columns)


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_snapshot_picker_switches_the_year(filled):
    at = session()
    assert at.selectbox(key=store_panel.PICK).options == [
        "Embedded / uploaded data",
        "2020 · tiny 2020",
        "2023 · tiny 2023",
    ]
    assert "dataset beds: 45" in text(at)
    at.selectbox(key=store_panel.PICK).set_value("2023").run()
    assert "dataset beds: 345" in text(at)
    at.selectbox(key=store_panel.PICK).set_value("2020").run()
    assert "dataset beds: 45" in text(at)


def test_two_sessions_share_scenarios_and_a_stale_save_is_refused(filled):
    first, second = session(), session()
    # A name is asked for before the first save, then kept for the browser session.
    first.text_input(key="scenario_name").set_value("共享情景").run()
    first.button(key="store_save").click().run()
    assert any("Enter your name" in w.value for w in first.warning)
    first.text_input(key=store_panel.AUTHOR).set_value("甲").run()
    first.text_input(key="store_message").set_value("first").run()
    first.button(key="store_save").click().run()
    assert any("Saved: 共享情景 v1" in s.value for s in first.success)
    # The second planner sees it (author and time), opens v1 and edits from there.
    second.run()
    table = listing(second)
    assert table.iloc[0]["Scenario"] == "共享情景" and table.iloc[0]["Saved by"] == "甲"
    assert table.iloc[0]["Saved at"].startswith("20")
    second.selectbox(key="store_pick").set_value("共享情景")
    second.button(key="store_open").click().run()
    assert second.session_state[scenario_tab.STATE].name == "共享情景"
    assert second.session_state[store_panel.BASE] == ("共享情景", 1)
    second.text_input(key=store_panel.AUTHOR).set_value("乙").run()
    # Meanwhile the first saves v2 ...
    first.text_input(key="scenario_description").set_value("more beds").run()
    first.text_input(key="store_message").set_value("second").run()
    first.button(key="store_save").click().run()
    assert any("v2" in s.value for s in first.success)
    # ... so the second's save from v1 is refused, naming who saved what.
    second.text_input(key="scenario_description").set_value("fewer beds").run()
    second.text_input(key="store_message").set_value("mine").run()
    second.button(key="store_save").click().run()
    errors = " ".join(e.value for e in second.error)
    assert "Not saved" in errors and "v2 by 甲" in errors and "second" in errors
    with open_store(filled) as store:
        assert [(v.version, v.author) for v in store.scenario_history("共享情景")] == [
            (1, "甲"),
            (2, "甲"),
        ]
    # The second forks instead: a new scenario of its own, listed for everyone.
    second.text_input(key="store_fork_name").set_value("共享情景 乙").run()
    second.button(key="store_fork").click().run()
    assert second.session_state[scenario_tab.STATE].name == "共享情景 乙"
    first.run()
    names = set(listing(first)["Scenario"])
    assert names == {"共享情景", "共享情景 乙"}
