"""Exports in one language at a time (issue 12 §3.5): every header and cell a planner reads —
status, level, unit, provenance, outline quality, indicator and unit names — in Chinese for
`--lang zh` (the default) and in English for `--lang en`, by export path: the gap list as CSV,
XLSX and GeoJSON, and the coverage report as XLSX, CSV and GeoJSON."""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest

from geo_coverage import gaps
from geo_coverage.cli import main
from geo_coverage.coverage import evaluate
from geo_coverage.plan import default_plan

# tiny city, beds per 1,000 at street level: A1 10 beds / 1,000 (met), A2 5 / 2,000 = 2.5 (gap,
# 9 beds short), B1 30 / 3,000 = 10 (met), B2 nobody (no data).
ZH_CELLS = {"状态": "未达标", "层级": "街道/乡镇", "单位": "张/千人", "缺口单位": "张床位",
            "指标名称": "千人常住人口养老床位数", "数据来源": "人口：估算；设施：合成",
            "所属区": "甲区", "单位名称": "甲二街道"}
EN_CELLS = {"Status": "gap", "Level": "street / township",
            "Unit of measure": "beds per 1,000 residents",
            "Shortfall unit": "beds", "Indicator": "Elderly-care beds per 1,000 residents",
            "Data source": "population: estimate; facilities: synthetic", "District": "甲区"}


def _gaps(tmp_path, tiny_city_dir, fmt: str, *lang: str):
    out = tmp_path / f"gaps{'_'.join(lang)}.{fmt}"
    assert main(["gaps", "--data", str(tiny_city_dir), "--level", "street", "--indicator",
                 "elderly_beds_per_1000", "--out", str(out), *lang]) == 0
    return out


@pytest.mark.parametrize("lang, cells", [((), ZH_CELLS), (("--lang", "en"), EN_CELLS)])
def test_gap_list_csv_is_in_one_language(tmp_path, tiny_city_dir, lang, cells):
    frame = pd.read_csv(_gaps(tmp_path, tiny_city_dir, "csv", *lang), dtype=str,
                        encoding="utf-8-sig")
    (row,) = frame.to_dict("records")  # A2 is the only gap
    for column, value in cells.items():
        assert row[column] == value, column
    other = "Status" if not lang else "状态"
    assert other not in frame.columns
    assert float(row["缺口" if not lang else "Shortfall"]) == 9


def test_gap_list_xlsx_in_english_has_english_sheets_notes_and_cells(tmp_path, tiny_city_dir):
    out = _gaps(tmp_path, tiny_city_dir, "xlsx", "--lang", "en")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Summary", "Gaps", "About"]
    frame = pd.read_excel(out, sheet_name=None, dtype=str)
    (row,) = frame["Gaps"].to_dict("records")
    for column, value in EN_CELLS.items():
        assert row[column] == value, column
    (summary,) = frame["Summary"].to_dict("records")
    assert summary["Level"] == "street / township" and summary["Indicator"] == EN_CELLS["Indicator"]
    about = dict(zip(frame["About"]["Item"], frame["About"]["Note"], strict=True))
    assert about["Warning"] == "Some facility layers are SYNTHETIC demo data, not official records."
    assert about["population (street / township)"] == "estimate"
    assert about["facilities: elderly-care institutions"] == "synthetic"
    assert about["Scope"] == "whole city · street / township"
    text = " ".join(str(c.value) for sheet in book for r in sheet.iter_rows() for c in r
                    if c.value is not None)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text.replace("甲", "").replace("乙", "")
                   .replace("二", "").replace("一", "").replace("区", "").replace("街道", ""))


def test_gap_list_xlsx_in_chinese_notes(tmp_path, tiny_city_dir):
    out = _gaps(tmp_path, tiny_city_dir, "xlsx")
    frame = pd.read_excel(out, sheet_name="说明", dtype=str)
    about = dict(zip(frame["项目"], frame["说明"], strict=True))
    assert about["注意"] == "部分设施数据为合成演示数据，并非真实统计。"
    assert about["人口（街道/乡镇）"] == "估算"
    assert about["设施：养老机构"] == "合成"
    assert about["范围"] == "全市 · 街道/乡镇"


@pytest.mark.parametrize("lang, status, level", [("zh", "未达标", "街道/乡镇"),
                                                  ("en", "gap", "street / township")])
def test_gap_list_geojson_properties_follow_the_language(tmp_path, tiny_city_dir, lang, status,
                                                          level):
    out = _gaps(tmp_path, tiny_city_dir, "geojson", "--lang", lang)
    (feature,) = json.loads(out.read_text(encoding="utf-8"))["features"]
    properties = feature["properties"]
    assert properties["状态" if lang == "zh" else "Status"] == status
    assert properties["层级" if lang == "zh" else "Level"] == level
    assert feature["geometry"]["type"] == "Polygon"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_xlsx_is_in_one_language(tmp_path, tiny_city_dir, lang):
    out = tmp_path / f"report_{lang}.xlsx"
    assert main(["report", "--data", str(tiny_city_dir), "--level", "street", "--indicator",
                 "elderly_beds_per_1000", "--format", "xlsx", "--lang", lang,
                 "--out", str(out)]) == 0
    sheet = "覆盖" if lang == "zh" else "Coverage"
    frame = pd.read_excel(out, sheet_name=sheet, dtype={"单位代码": str, "Unit code": str})
    code = "单位代码" if lang == "zh" else "Unit code"
    status = "状态" if lang == "zh" else "Status"
    met = "是否达标" if lang == "zh" else "Met"
    by_code = frame.set_index(code)
    assert by_code.loc["110001001", status] == ("达标" if lang == "zh" else "met")
    assert by_code.loc["110001001", met] == ("是" if lang == "zh" else "yes")
    assert by_code.loc["110002002", status] == ("无数据" if lang == "zh" else "no data")
    assert by_code.loc["110001002", "缺口" if lang == "zh" else "Shortfall"] == 9


def test_report_csv_stays_the_data_contract_unless_a_language_is_asked(tmp_path, tiny_city_dir):
    plain, chinese = tmp_path / "r.csv", tmp_path / "r_zh.csv"
    base = ["report", "--data", str(tiny_city_dir), "--level", "street", "--indicator",
            "elderly_beds_per_1000", "--format", "csv"]
    assert main([*base, "--out", str(plain)]) == 0
    assert main([*base, "--lang", "zh", "--out", str(chinese)]) == 0
    contract = pd.read_csv(plain, dtype=str, encoding="utf-8-sig")
    assert set(contract["status"]) == {"met", "gap", "no_data"}
    localised = pd.read_csv(chinese, dtype=str, encoding="utf-8-sig")
    assert set(localised["状态"]) == {"达标", "未达标", "无数据"}


def test_export_numbers_have_fixed_decimals(tiny_city):
    plan = default_plan()
    table = evaluate(tiny_city, plan, levels=["street"], indicators=["elderly_beds_per_1000"])
    table.loc[table["unit_code"] == "110001001", "value"] = 10.000000000000002
    shown = gaps.localise(table, "en", plan=plan)
    assert shown.loc[table["unit_code"] == "110001001", "Value"].item() == 10.0
    csv = gaps.export_bytes(gaps.gap_list(table, plan, level="street", include_met=True), "csv",
                            plan=plan, language="en").decode("utf-8-sig")
    assert "10.000000000000002" not in csv


def test_unknown_language_is_refused(tiny_city):
    plan = default_plan()
    table = evaluate(tiny_city, plan, levels=["street"], indicators=["elderly_beds_per_1000"])
    with pytest.raises(ValueError, match="Use zh or en"):
        gaps.localise(table, "fr")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_scenario_comparison_is_in_one_language(tiny_city, language):
    """Remove the newborn centre N1 (乙区 loses its only one: met → gap) and add 12 beds to 甲二
    街道 (5 + 12 = 17 beds for 2,000 residents = 8.5 per 1,000 ≥ 7: gap → met)."""
    from geo_coverage import scenario as sc

    from .test_scenario import add, make

    plan = default_plan()
    before = evaluate(tiny_city, plan)
    scenario = make({"action": "remove", "kind": "neonatal_centre", "id": "N1"},
                    add("elderly_care", 1.5, beds=12))
    after = sc.evaluate_scenario(before, tiny_city, sc.apply(scenario, tiny_city, plan), plan,
                                 scenario)
    comparison = sc.compare(before, after)
    data = sc.comparison_export_bytes(comparison, "xlsx", plan=plan, dataset=tiny_city,
                                      scenario=scenario, language=language)
    book = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype={"单位代码": str,
                                                                   "Unit code": str})
    zh = language == "zh"
    assert list(book) == (["汇总", "达标变化", "对比", "说明"] if zh
                          else ["Summary", "Flips", "Comparison", "About"])
    flips = book["达标变化" if zh else "Flips"].set_index("单位代码" if zh else "Unit code")
    flip, after_status, value_after = (("达标变化", "情景状态", "情景值") if zh
                                       else ("Flip", "Status after", "Value after"))
    assert flips.loc["110001002", flip] == ("转为达标" if zh else "gap → met")
    assert flips.loc["110001002", after_status] == ("达标" if zh else "met")
    assert flips.loc["110001002", value_after] == 8.5
    assert flips.loc["110002", flip] == ("转为未达标" if zh else "met → gap")
    about = book["说明" if zh else "About"]
    assert ("情景" if zh else "Scenario") in set(about.iloc[:, 0])
