"""Print and share in the app (ui/share.py): a link's query parameters restore the view, the
address bar follows the view, and the Coverage tab's print buttons give the print renderer's
PNG and PDF of the map shown."""

from __future__ import annotations

import io
import os
import re
import subprocess

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from geo_coverage import scenario as sc
from geo_coverage.store import STORE_ENV, open_store

from .conftest import poppler
from .test_app import APP, TIMEOUT, _gap_table, _RecordingManager

pytestmark = pytest.mark.slow


def _run(monkeypatch, **params) -> AppTest:
    monkeypatch.setattr(app_test_module, "MediaFileManager", _RecordingManager)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_link_restores_language_indicator_level_and_district(monkeypatch):
    at = _run(monkeypatch, lang="en", indicator="childcare_places_per_1000", level="street",
              district="110105")
    assert at.radio(key="language").value == "en"
    assert at.selectbox(key="indicator.en").value == "childcare_places_per_1000"
    assert at.radio(key="level").value == "street"
    assert at.selectbox(key="district_filter").value == "110105"
    gaps = _gap_table(at)  # English headers, only Chaoyang's streets
    assert len(gaps) > 0 and set(gaps["District"]) == {"Chaoyang District"}
    # The address bar holds the view (and keeps it when the planner changes it).
    assert at.query_params == {"lang": "en", "plan": "beijing_2021_2025",
                               "indicator": "childcare_places_per_1000", "level": "street",
                               "district": "110105"}
    at.radio(key="level").set_value("district").run()
    assert at.query_params["level"] == "district" and "district" not in at.query_params


def test_a_bad_link_falls_back_to_the_defaults(monkeypatch):
    at = _run(monkeypatch, lang="fr", indicator="no_such_indicator", level="city",
              district="999999", scenario="nobody@v3")
    assert at.radio(key="language").value == "zh"
    assert at.selectbox(key="indicator").value == "elderly_beds_per_1000"
    assert at.radio(key="level").value == "street"
    assert at.selectbox(key="district_filter").value == ""
    assert any("nobody@v3" in w.value and "未打开" in w.value for w in at.warning)
    assert at.query_params["indicator"] == "elderly_beds_per_1000"
    assert "scenario" not in at.query_params


def test_a_link_opens_a_store_scenario(monkeypatch):
    with open_store(os.environ[STORE_ENV]) as store:
        add = sc.AddFacility(position=1, kind="elderly_care", lon=116.55, lat=39.96,
                             attributes={"beds": 200})
        first = sc.Scenario(name="东坝养老", edits=(add,))
        store.save_scenario(first, message="v1", author="测试")
        again = sc.AddFacility(position=2, kind="elderly_care", lon=116.56, lat=39.96,
                               attributes={"beds": 100})
        second = sc.Scenario(name="东坝养老", edits=(add, again))
        store.save_scenario(second, message="v2", base_version=1, author="测试")
    at = _run(monkeypatch, scenario="东坝养老@v1")
    assert any("东坝养老 第 1 版" in i.value for i in at.info)
    opened = at.session_state["scenario_current"]
    assert opened.name == "东坝养老" and len(opened.edits) == 1
    assert at.query_params["scenario"] == "东坝养老@v1"


def _print(at, fmt: str) -> bytes:
    protos = [b.proto for b in at.get("download_button") if b.proto.id.endswith(f"print_map_{fmt}")]
    assert protos, f"no print {fmt} button"
    manager = _RecordingManager.latest
    url = manager.execute_deferred(protos[0].deferred_file_id)
    return manager.storage.get_file(url.rsplit("/", 1)[1]).content


def test_print_buttons_give_the_map_as_png_and_pdf(monkeypatch, tmp_path):
    at = _run(monkeypatch, indicator="childcare_places_per_1000", level="street",
              district="110105")
    png = _print(at, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    assert Image.open(io.BytesIO(png)).size[0] == int(27.7 / 2.54 * 200)
    pdf = tmp_path / "map.pdf"
    pdf.write_bytes(_print(at, "pdf"))
    text = re.sub(r"\s+", "", subprocess.run([poppler("pdftotext"), str(pdf), "-"],
                                             capture_output=True, text=True, check=True).stdout)
    assert "每千人口拥有3岁以下婴幼儿托位数" in text
    assert "朝阳区·街道/乡镇" in text  # the district chosen in the gap list
    assert "设施（托育机构）：合成演示数据，并非真实统计，不可作为正式依据。" in text
