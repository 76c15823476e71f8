"""The indicators / report / gaps verbs, including bad input (one line, exit 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from geo_coverage.cli import main
from tests.test_plan import REGISTRY_IDS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_indicators_json_lists_the_17_ids(capsys):
    code, out, _ = run(capsys, "indicators", "--format", "json")
    assert code == 0
    assert [r["id"] for r in json.loads(out)] == REGISTRY_IDS


def test_indicators_table_and_companions(capsys):
    code, out, _ = run(capsys, "indicators", "--with-companions")
    assert code == 0 and "elderly_beds_accessible_per_1000" in out and "千人常住人口养老床位数" in out


def test_report_json_rows_have_the_contract_columns(capsys, tiny_city_dir):
    code, out, _ = run(capsys, "report", "--data", str(tiny_city_dir), "--level", "street",
                       "--indicator", "elderly_beds_per_1000", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 4
    assert set(rows[0]) >= {"level", "unit_code", "unit_name", "parent_code", "indicator", "value",
                            "target", "comparator", "met", "status", "shortfall", "shortfall_unit",
                            "numerator", "denominator"}
    a2 = next(r for r in rows if r["unit_code"] == "110001002")
    assert a2["value"] == 2.5 and a2["shortfall"] == 9 and a2["status"] == "gap"
    empty = next(r for r in rows if r["unit_code"] == "110002002")
    assert empty["value"] is None and empty["status"] == "no_data"


def test_report_csv_keeps_codes_as_text(capsys, tiny_city_dir, tmp_path):
    out_file = tmp_path / "r.csv"
    code, _, _ = run(capsys, "report", "--data", str(tiny_city_dir), "--format", "csv",
                     "--out", str(out_file))
    assert code == 0
    raw = out_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese names
    frame = pd.read_csv(out_file, dtype=str, encoding="utf-8-sig")
    assert "110001001" in set(frame["unit_code"]) and "甲一街道" in set(frame["unit_name"])


def test_gaps_xlsx_has_chinese_headers_summary_and_frozen_header(capsys, tiny_city_dir, tmp_path):
    out_file = tmp_path / "gaps.xlsx"
    code, _, err = run(capsys, "gaps", "--data", str(tiny_city_dir), "--level", "street",
                       "--out", str(out_file))
    assert code == 0, err
    book = openpyxl.load_workbook(out_file)
    assert book.sheetnames == ["汇总", "缺口", "说明"]
    gaps = book["缺口"]
    headers = [c.value for c in gaps[1]]
    assert "单位名称" in headers and "缺口" in headers and "指标名称" in headers
    assert gaps.freeze_panes == "A2"
    frame = pd.read_excel(out_file, sheet_name="缺口", dtype={"单位代码": str})
    # Ranked by shortfall: the first row is the largest gap (A2 misses 9 beds).
    assert frame["缺口"].is_monotonic_decreasing or frame["排名"].iloc[0] == 1
    first = frame.iloc[0]
    assert first["单位代码"] == "110001002" and first["缺口"] == 9


def test_a_district_gap_list_summarises_that_district_only(capsys, tiny_city_dir, tmp_path):
    """District A (streets A1, A2) for beds per 1,000: A1 met, A2 9 beds short — the summary
    counts those two streets, not the city's four, and the About sheet names the scope."""
    out_file = tmp_path / "a.xlsx"
    code, _, err = run(capsys, "gaps", "--data", str(tiny_city_dir), "--level", "street", "--indicator",
                       "elderly_beds_per_1000", "--district", "110001", "--out", str(out_file))
    assert code == 0, err
    book = pd.read_excel(out_file, sheet_name=None)
    (summary,) = book["汇总"].to_dict("records")
    assert (summary["单位数"], summary["达标数"], summary["未达标数"], summary["无数据"],
            summary["缺口合计"]) == (2, 1, 1, 0, 9)
    about = dict(zip(book["说明"].iloc[:, 0], book["说明"].iloc[:, 1]))
    assert about["范围"] == "甲区 110001 · 街道/乡镇"


def test_gaps_geojson_has_outlines_and_attributes(capsys, tiny_city_dir, tmp_path):
    out_file = tmp_path / "gaps.geojson"
    code, _, _ = run(capsys, "gaps", "--data", str(tiny_city_dir), "--level", "street",
                     "--indicator", "elderly_beds_per_1000", "--out", str(out_file))
    assert code == 0
    frame = gpd.read_file(out_file)
    assert list(frame["单位代码"]) == ["110001002"]
    assert frame.crs.to_epsg() == 4326 and frame.geometry.iloc[0].geom_type == "Polygon"


@pytest.mark.parametrize("argv, message", [
    (["report", "--indicator", "no_such_indicator"], "Unknown indicator 'no_such_indicator'"),
    (["report", "--data", "/nonexistent/folder"], "Data folder not found"),
    (["gaps", "--out", "x.pdf"], "Cannot tell the format"),
    (["report", "--format", "xlsx"], "XLSX needs a file"),
    (["report", "--level", "province"], "invalid choice"),
])
def test_user_errors_exit_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_bad_data_file_names_the_file(capsys, tiny_city_dir):
    (tiny_city_dir / "layers" / "elderly_care.geojson").write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "report", "--data", str(tiny_city_dir))
    assert code == 2 and "elderly_care.geojson" in err


def test_console_script_runs_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "geo_coverage", "report", "--indicator", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "nope" in proc.stderr


def test_catchment_override_changes_access_coverage(capsys, tiny_city_dir, tmp_path):
    """A mother-baby room at x = 2.2 km in street B1 (2–3 km, district B's only residents): a
    1,000 m walk (≈770 m straight at detour 1.3) reaches most of B1; a 100 m walk very little."""
    import shutil

    shutil.copy(tiny_city_dir / "layers" / "neonatal_centre.geojson",
                tiny_city_dir / "layers" / "mother_baby_room.geojson")
    args = ["report", "--data", str(tiny_city_dir), "--level", "district", "--indicator",
            "mother_baby_room_access", "--format", "json", "--resolution", "50"]
    code, wide, _ = run(capsys, *args)
    code2, narrow, _ = run(capsys, *args, "--catchment", "mother_baby_room_access=100")
    assert code == code2 == 0
    wide_b = next(r for r in json.loads(wide) if r["unit_code"] == "110002")
    narrow_b = next(r for r in json.loads(narrow) if r["unit_code"] == "110002")
    assert narrow_b["value"] < wide_b["value"]
    code, _, err = run(capsys, *args, "--catchment", "oops")
    assert code == 2 and "--catchment" in err
    # A typo in the id, a ratio indicator, or a catchment of zero: errors, not a silent default.
    for bad, said in (("mother_baby_room_acess=500", "not an access indicator"),
                      ("elderly_beds_per_1000=500", "not an access indicator"),
                      ("mother_baby_room_access=0", "positive")):
        code, _, err = run(capsys, *args, "--catchment", bad)
        assert code == 2 and said in err and "Traceback" not in err, (bad, err)
