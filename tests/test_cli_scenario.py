"""The ``scenario`` verbs on the tiny city: run, compare, export, optimise, and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo_coverage import scenario as sc
from geo_coverage.cli import main

from .test_scenario import B1, DISTRICT_B, lon_lat


@pytest.fixture
def scenario_file(tiny_city_dir, tmp_path):
    lon, lat = lon_lat(1.5)
    path = tmp_path / "s.yaml"
    path.write_text(f"""
name: 试验
description: remove B's neonatal centre, add 12 beds in A2
base: {tiny_city_dir}
edits:
  - {{action: remove, kind: neonatal_centre, id: N1}}
  - {{action: add, kind: elderly_care, lon: {lon}, lat: {lat}, attributes: {{beds: 12}}}}
""", encoding="utf-8")
    return path


def test_run_compare_json(scenario_file, capsys):
    assert main(["scenario", "run", str(scenario_file), "--compare", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"] == "试验"
    flips = {(f["level"], f["unit_code"], f["indicator"], f["flip"]) for f in out["flips"]}
    assert ("district", DISTRICT_B, "neonatal_centres_per_district", sc.MET_TO_GAP) in flips
    assert ("street", "110001002", "elderly_beds_per_1000", sc.GAP_TO_MET) in flips
    closed = {(c["indicator"], c["level"]): c for c in out["closed"]}
    # A2 was 9 beds short; 12 beds close all 9.  District A was 6 short and is now met.
    assert closed[("elderly_beds_per_1000", "street")]["shortfall_closed"] == 9
    assert closed[("elderly_beds_per_1000", "district")]["shortfall_closed"] == 6


def test_run_table_and_csv(scenario_file, tmp_path, capsys):
    assert main(["scenario", "run", str(scenario_file), "--indicator", "neonatal_centres_per_district"]) == 0
    printed = capsys.readouterr().out
    assert "neonatal_centres_per_district" in printed and "elderly" not in printed
    out = tmp_path / "after.csv"
    assert main(["scenario", "run", str(scenario_file), "--format", "csv", "--out", str(out),
                 "--level", "district"]) == 0
    table = pd.read_csv(out, dtype={"unit_code": str}, encoding="utf-8-sig")
    assert set(table.level) == {"district"}
    row = table[(table.unit_code == DISTRICT_B) & (table.indicator == "neonatal_centres_per_district")].iloc[0]
    assert row.status == "gap"
    xlsx = tmp_path / "cmp.xlsx"
    assert main(["scenario", "run", str(scenario_file), "--compare", "--format", "xlsx", "--out", str(xlsx)]) == 0
    assert "达标变化" in pd.read_excel(xlsx, sheet_name=None)  # one language: Chinese by default


@pytest.mark.parametrize("body, message", [
    ("name: x\nedits:\n  - {action: remove, kind: neonatal_centre, id: N9}\n", "Edit #1 (remove neonatal_centre 'N9')"),
    ("name: x\nedits:\n  - !!python/object/apply:os.system ['echo unsafe']\n", "Invalid YAML"),
    ("name: x\nedits:\n  - {action: add, kind: elderly_care, lon: 100, lat: 30}\n", "outside every unit"),
])
def test_bad_scenario_is_one_line_and_exit_2(tiny_city_dir, tmp_path, capsys, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body + f"base: {tiny_city_dir}\n", encoding="utf-8")
    assert main(["scenario", "run", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_optimize_writes_a_scenario_that_runs(tiny_city_dir, tmp_path, capsys):
    out = tmp_path / "proposed.yaml"
    assert main(["scenario", "optimize", "--indicator", "elderly_beds_per_1000", "--new-sites", "1",
                 "--capacity", "20", "--data", str(tiny_city_dir), "--spacing", "250",
                 "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().err.splitlines()[0])
    # Only street A2 is short (9 beds), so one 20-bed home closes all 9 there.
    assert summary["model"] == "capacity_gap" and summary["objective"] == 9
    scenario = sc.load_scenario(out)
    (edit,) = scenario.edits
    assert edit.kind == "elderly_care" and edit.attributes["beds"] == 20
    assert main(["scenario", "run", str(out), "--compare", "--format", "json",
                 "--indicator", "elderly_beds_per_1000"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {(f["unit_code"], f["flip"]) for f in result["flips"]} >= {("110001002", sc.GAP_TO_MET)}


def test_optimize_access_with_mclp(tiny_city_dir, capsys):
    assert main(["scenario", "optimize", "--indicator", "mother_baby_room_access", "--new-sites", "1",
                 "--data", str(tiny_city_dir), "--units", B1, "--spacing", "250"]) == 0
    captured = capsys.readouterr()
    scenario = sc.scenario_from_yaml(captured.out)
    assert len(scenario.edits) == 1 and scenario.edits[0].kind == "mother_baby_room"
    assert json.loads(captured.err.splitlines()[0])["model"] == "mclp"


def test_optimize_errors_are_one_line(tiny_city_dir, capsys):
    assert main(["scenario", "optimize", "--indicator", "elderly_beds_per_1000", "--new-sites", "1",
                 "--data", str(tiny_city_dir)]) == 2
    assert "Give the capacity" in capsys.readouterr().err
    assert main(["scenario", "optimize", "--indicator", "elderly_beds_per_1000", "--new-sites", "1",
                 "--capacity", "5", "--units", "999", "--data", str(tiny_city_dir)]) == 2
    assert "Unknown unit code '999'" in capsys.readouterr().err


def test_a_relative_base_is_read_beside_the_scenario_file(tiny_city_dir, capsys):
    path = tiny_city_dir.parent / "relative.yaml"
    path.write_text(f"name: relative\nbase: {tiny_city_dir.name}\nedits:\n"
                    "  - {action: remove, kind: neonatal_centre, id: N1}\n", encoding="utf-8")
    assert sc.load_scenario(path).base_folder() == tiny_city_dir.resolve()
    assert main(["scenario", "run", str(path), "--compare", "--format", "json",
                 "--indicator", "neonatal_centres_per_district"]) == 0
    flips = json.loads(capsys.readouterr().out)["flips"]
    assert [(f["unit_code"], f["flip"]) for f in flips] == [(DISTRICT_B, sc.MET_TO_GAP)]


def test_optimize_from_an_uploaded_candidate_list(tiny_city_dir, tmp_path, capsys):
    # Two candidate sites: one in street A2 (9 beds short), one in B2 (nobody lives there).
    rows = [("site-a2", *lon_lat(1.5, 0.3)), ("site-b2", *lon_lat(3.5, 0.3))]
    table = tmp_path / "candidates.csv"
    table.write_text("id,lon,lat\n" + "".join(f"{i},{x},{y}\n" for i, x, y in rows), encoding="utf-8")
    assert main(["scenario", "optimize", "--indicator", "elderly_beds_per_1000", "--new-sites", "1",
                 "--capacity", "30", "--candidates", str(table), "--data", str(tiny_city_dir)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.err.splitlines()[0])["selected"] == ["site-a2"]
    (edit,) = sc.scenario_from_yaml(captured.out).edits
    assert edit.id == "capacity_gap-site-a2" and edit.attributes["beds"] == 30


def test_optimize_candidates_in_gbk_with_chinese_headers_and_gcj02(tiny_city_dir, tmp_path, capsys):
    """The same two sites as a civil-affairs bureau would send them: GBK, 编号/经度/纬度, GCJ-02."""
    from geo_coverage.datum import wgs84_to_gcj02

    rows = [("site-a2", *lon_lat(1.5, 0.3)), ("site-b2", *lon_lat(3.5, 0.3))]
    table = tmp_path / "候选点.csv"
    lines = []
    for i, x, y in rows:
        gx, gy = wgs84_to_gcj02(x, y)
        lines.append(f"{i},{float(gx):.7f},{float(gy):.7f}\n")
    table.write_bytes(("编号,经度,纬度\n" + "".join(lines)).encode("gbk"))
    before = table.read_bytes()
    argv = ["scenario", "optimize", "--indicator", "elderly_beds_per_1000", "--new-sites", "1",
            "--capacity", "30", "--candidates", str(table), "--datum", "gcj02", "--data", str(tiny_city_dir)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.err.splitlines()[-1])["selected"] == ["site-a2"]
    (edit,) = sc.scenario_from_yaml(captured.out).edits
    # Written back in WGS84, within a few centimetres of where the site really is.
    assert (edit.lon, edit.lat) == pytest.approx(lon_lat(1.5, 0.3), abs=1e-6)
    # A row without coordinates: every problem listed with its row, exit 2, the file untouched.
    table.write_bytes(before + "site-x,,\n".encode("gbk"))
    broken = table.read_bytes()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "row 4" in err and "Traceback" not in err
    assert table.read_bytes() == broken
