"""The Streamlit app driven by widget key with AppTest, on the embedded Beijing default.

The downloads are taken from the app itself (the deferred download callables registered with
Streamlit's media manager) and compared with what `geo-coverage gaps` writes for the same choice.
"""

from __future__ import annotations

import io as _io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from geo_coverage.cli import main as cli_main
from geo_coverage.plan import default_plan

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 180


class _RecordingManager(MediaFileManager):
    """The media manager AppTest makes for each run, kept so a test can fetch downloads."""

    latest: _RecordingManager | None = None

    def __init__(self, storage):
        super().__init__(storage)
        self.storage = storage
        _RecordingManager.latest = self


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setattr(app_test_module, "MediaFileManager", _RecordingManager)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _table_with(at, column: str) -> pd.DataFrame:
    tables = [df.value for df in at.dataframe if column in df.value.columns]
    return tables[0] if tables else pd.DataFrame()


def _gap_table(at) -> pd.DataFrame:
    """The ranked gap table (its first column is the rank in either language)."""
    table = _table_with(at, "排名")
    return table if not table.empty else _table_with(at, "Rank")


def _download(at, fmt: str) -> bytes:
    button = at.get("download_button")
    protos = [b.proto for b in button if b.proto.id.endswith(f"download_{fmt}")]
    assert protos, f"no {fmt} download button"
    manager = _RecordingManager.latest
    url = manager.execute_deferred(protos[0].deferred_file_id)
    return manager.storage.get_file(url.rsplit("/", 1)[1]).content


def test_indicator_level_district_and_language_change_the_table(app):
    at = app
    assert at.selectbox(key="indicator").value == "elderly_beds_per_1000"
    assert at.radio(key="level").value == "street"
    streets = _gap_table(at)
    # Every street below 7 beds per 1,000 residents, ranked by shortfall.
    assert len(streets) > 50 and streets["排名"].tolist() == list(range(1, len(streets) + 1))
    assert any("合成演示数据" in w.value for w in at.warning)  # provenance on screen

    at.selectbox(key="indicator").set_value("childcare_places_per_1000").run()
    assert not at.exception
    childcare = _gap_table(at)
    assert set(childcare["缺口单位"]) == {"个托位"}
    assert childcare["代码"].tolist() != streets["代码"].tolist()

    at.radio(key="level").set_value("district").run()
    districts = _gap_table(at)
    assert 0 < len(districts) <= 16 and districts["代码"].str.len().eq(6).all()

    at.radio(key="level").set_value("street").run()
    at.selectbox(key="district_filter").set_value("110108").run()
    haidian = _gap_table(at)
    assert len(haidian) < len(childcare) and set(haidian["所属区"]) == {"海淀区"}
    # Data source and outline quality in Chinese on screen (streets: estimated population,
    # synthetic childcare register, the real c. 2015 outlines); the downloads keep the CLI's words.
    assert set(haidian["数据来源"]) == {"人口：估算；设施：合成"}
    assert set(haidian["边界精度"]) == {"官方（约2015年区划）"}

    at.radio(key="language").set_value("en").run()
    assert not at.exception
    english = _gap_table(at)
    assert {"Rank", "District", "Unit", "Shortfall"} <= set(english.columns)
    assert set(english["District"]) == {"Haidian District"} and len(english) == len(haidian)
    # The units' English names (the embedded streets all have one), in the same order.
    from geo_coverage.dataset import load_dataset

    streets = load_dataset().units["street"]
    assert english["Unit"].tolist() == streets.loc[haidian["代码"], "name_en"].tolist()
    assert set(english["Data source"]) == {"population: estimate; facilities: synthetic"}
    assert set(english["Outline"]) == {"official (c. 2015 division)"}
    assert any("SYNTHETIC" in w.value for w in at.warning)
    # The sidebar in English: English labels (widgets keyed per language keep the choice).
    plan = default_plan()
    clause = plan.indicator("childcare_places_per_1000").clause
    from geo_coverage.plan import available_plans

    assert at.selectbox(key="plan.en").value == list(available_plans())[0]
    assert at.selectbox(key="plan.en").options[0] == plan.name_en  # the embedded plan, listed first
    indicator = at.selectbox(key="indicator.en")
    assert indicator.value == "childcare_places_per_1000"
    assert (f"[Children] Childcare places for under-3s per 1,000 residents ({clause})"
            in indicator.options)
    assert at.selectbox(key="base_map.en").options[0] == "None (offline)"
    assert at.sidebar.caption[0].value == f"Childcare places for under-3s per 1,000 residents ({clause})"
    # Back in Chinese the choice is kept and the labels are Chinese first again.
    at.selectbox(key="indicator.en").set_value("elderly_beds_per_1000").run()
    at.radio(key="language").set_value("zh").run()
    assert at.selectbox(key="indicator").value == "elderly_beds_per_1000"
    assert at.selectbox(key="indicator").options[0].startswith("【妇女 Women】千人常住人口养老床位数 · ")


def test_downloads_are_the_bytes_the_cli_writes(app, tmp_path):
    at = app
    at.selectbox(key="indicator").set_value("childcare_places_per_1000").run()
    at.selectbox(key="district_filter").set_value("110105").run()
    assert not at.exception
    for fmt in ("csv", "geojson", "xlsx"):
        out = tmp_path / f"gaps.{fmt}"
        assert cli_main(["gaps", "--level", "street", "--indicator", "childcare_places_per_1000",
                         "--district", "110105", "--out", str(out)]) == 0
        assert _download(at, fmt) == out.read_bytes(), fmt
    rows = pd.read_csv(_io.BytesIO(_download(at, "csv")), dtype={"单位代码": str})
    assert len(rows) == len(_gap_table(at)) and rows["单位代码"].str.startswith("110105").all()
    assert set(rows["状态"]) == {"未达标"} and set(rows["层级"]) == {"街道/乡镇"}
    # In English the app's files are the CLI's --lang en files, in English throughout.
    at.radio(key="language").set_value("en").run()
    assert not at.exception
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"gaps_en.{fmt}"
        assert cli_main(["gaps", "--level", "street", "--indicator", "childcare_places_per_1000",
                         "--district", "110105", "--lang", "en", "--out", str(out)]) == 0
        assert _download(at, fmt) == out.read_bytes(), fmt
    rows = pd.read_csv(_io.BytesIO(_download(at, "csv")), dtype={"Unit code": str})
    assert set(rows["Status"]) == {"gap"} and set(rows["District"]) == {"Chaoyang District"}
    assert set(rows["Unit of measure"]) == {"places per 1,000 residents"}


def test_unit_card_shows_every_indicator_and_population(app):
    at = app
    at.selectbox(key="unit_pick").set_value("110101001").run()
    assert not at.exception
    card = _table_with(at, "条款")
    # Every indicator evaluated at street level, for this street.
    assert len(card) == sum("street" in ind.levels for ind in default_plan().all_indicators) == 12
    text = " ".join(m.value for m in at.markdown)
    # 东华门街道's figures with their Chinese names and sources, no column ids.
    assert "常住人口 116,777" in text and "0–2 岁 2,835" in text  # one number format (no 万)
    assert "人口来源：**估算**" in text and "边界：**官方（约2015年区划）**" in text
    assert not {"pop_total", "pop_0_2", "estimate", "approximate"} & set(text.replace("*", " ").split())
    assert card["目标"].str.startswith("≥ ").all() and not card["目标"].str.contains(">=").any()
    beds = card[card["指标"] == default_plan().indicator("elderly_beds_per_1000").name_zh]
    assert beds["目标"].tolist() == ["≥ 7.00"]  # a rate per 1,000: two decimals everywhere


def test_walk_access_headline_is_the_districts_summed_and_its_target_a_default(app):
    """mother_baby_room_access names no city level: the headline is Σ residents within reach ÷
    Σ residents over the 16 districts (recomputed here from the table), and the page says the
    100 % target is the tool's default, not the plan's number."""
    from geo_coverage.coverage import evaluate
    from geo_coverage.dataset import load_dataset
    from geo_coverage.plan import default_plan

    at = app
    at.selectbox(key="indicator").set_value("mother_baby_room_access").run()
    assert not at.exception, [e.message for e in at.exception]
    table = evaluate(load_dataset(), default_plan(), indicators=["mother_baby_room_access"], levels=["district"])
    expected = table["numerator"].sum() / table["denominator"].sum() * 100
    (headline,) = [m for m in at.metric if "各区汇总" in m.label]
    assert headline.value == f"{expected:,.1f}%"  # a percentage: one decimal, as everywhere
    assert 50 < expected < 60  # 54.3 % on the default data
    assert any("目标为默认值" in w.value for w in at.warning)
