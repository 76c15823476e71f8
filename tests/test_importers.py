"""Importers: encodings, headers, datums, formats, CRSs, population joins, atomic data folders."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo_coverage import datum, importers
from geo_coverage import io as gio
from geo_coverage.cli import main
from geo_coverage.dataset import default_data_dir, load_dataset
from geo_coverage.errors import DataError, DataWarning

from .conftest import METRIC, write_tiny_city
from .test_bad_inputs import lonlat, register, streets_frame

ELDERLY = {"beds": "number", "nursing_beds": "number", "medical_integration": "bool"}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the planner's real case: a GBK register with Chinese headers and GCJ-02 coordinates -----


@pytest.fixture(scope="module")
def default_streets():
    file = default_data_dir() / "boundaries" / "streets.parquet"
    if not file.exists():
        pytest.skip("the embedded default street outlines are not built yet")
    return gpd.read_parquet(file)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_gbk_register_in_gcj02_lands_in_its_streets(suffix, default_streets, tmp_path, capsys):
    streets = default_streets.iloc[::11].reset_index(drop=True)  # 31 streets across the city
    points = streets.to_crs(METRIC).representative_point().to_crs(4326)
    glon, glat = datum.wgs84_to_gcj02(points.x.to_numpy(), points.y.to_numpy())
    table = pd.DataFrame({"机构编号": [f"{i:04d}" for i in range(len(streets))],
                          "机构名称": [f"{name}养老照料中心" for name in streets["name"]],
                          "经度": np.round(glon, 7), "纬度": np.round(glat, 7),
                          "床位数（张）": np.arange(len(streets)) + 10, "医养结合": ["是", "否"] * 15 + ["是"]})
    register_file = tmp_path / f"养老机构{suffix}"
    if suffix == ".csv":
        register_file.write_bytes(table.to_csv(index=False).encode("gbk"))
    else:
        table.to_excel(register_file, index=False)
    before = sha(register_file)
    out = tmp_path / "mydata"
    code = main(["import", "--facilities", str(register_file), "--kind", "elderly_care", "--datum", "gcj02",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr()
    assert sha(register_file) == before
    dataset = load_dataset(out)
    layer = dataset.layer("elderly_care").set_index("id")
    assert list(layer.index) == list(table["机构编号"])  # leading zeros kept
    assert layer["street_code"].tolist() == streets["code"].tolist()
    assert layer["beds"].tolist() == list(range(10, 10 + len(streets)))
    assert layer["medical_integration"].tolist() == [True, False] * 15 + [True]
    assert set(layer["source"]) == {f"imported: {register_file.name}"}
    # Read as WGS84 the same points would sit ~500 m off: the conversion really happened.
    back = layer.to_crs(4326).geometry
    assert np.allclose(back.x, points.x, atol=1e-6) and np.allclose(back.y, points.y, atol=1e-6)
    # The other layers of the embedded default came along unchanged.
    assert set(dataset.layers) == {p.stem for p in (default_data_dir() / "layers").glob("*.parquet")} | {"elderly_care"}


# --- text encodings and headers -----------------------------------------------------------------


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                ("gbk", "gbk"), ("gb18030", "gb18030")])
def test_encodings_are_detected(encoding, expected):
    text = "编号,名称\n001,朝阳区𠀀养老院\n" if encoding == "gb18030" else "编号,名称\n001,朝阳区养老院\n"
    data = text.encode(encoding)
    decoded, used = importers.decode_text(data)
    assert used == expected and decoded.lstrip("\ufeff") == text
    frame, info = importers.parse_table(data, name="r.csv")
    assert frame.columns.tolist() == ["编号", "名称"] and frame["编号"].tolist() == ["001"]


def test_declared_encoding_is_used_and_checked():
    data = "名称\n养老院\n".encode("gbk")
    assert importers.decode_text(data, encoding="GBK")[0] == "名称\n养老院\n"
    with pytest.raises(DataError, match="reads as gbk"):
        importers.decode_text(data, encoding="utf-8")


@pytest.mark.parametrize("headers", [("lng", "lat"), ("Longitude", "Latitude"), ("x", "y"),
                                     ("经度(°)", "纬度(°)"), ("LON", "LAT")])
def test_coordinate_headers_are_recognised(headers):
    (x1, y1), (x2, y2) = lonlat(0.5), lonlat(2.5)
    data = pd.DataFrame({"name": ["a", "b"], headers[0]: [x1, x2], headers[1]: [y1, y2]}).to_csv(index=False).encode()
    result = importers.parse_facilities(data, name="r.csv", kind="childcare")
    assert result.ok, result.problems
    assert np.allclose(result.frame.geometry.x, [x1, x2]) and np.allclose(result.frame.geometry.y, [y1, y2])


def test_column_map_and_unknown_headers():
    (x, y) = lonlat(1.5)
    data = pd.DataFrame({"单位": ["a"], "东经度": [x], "北纬度": [y], "托位": ["12"]}).to_csv(index=False).encode()
    unmapped = importers.parse_facilities(data, name="r.csv", kind="childcare", attributes={"places": "number"})
    assert not unmapped.ok and "No coordinate columns" in str(unmapped.errors[0])
    mapped = importers.parse_facilities(data, name="r.csv", kind="childcare", attributes={"places": "number"},
                                        column_map="lon=东经度,lat=北纬度,name=单位")
    assert mapped.ok, mapped.problems
    assert mapped.frame["places"].tolist() == [12.0] and mapped.frame["name"].tolist() == ["a"]
    assert mapped.report["column_map"]["places"] == "托位"


def test_wkt_register():
    (x, y) = lonlat(2.5)
    data = pd.DataFrame({"id": ["k1"], "名称": ["幼儿园"], "WKT": [f"POINT ({x} {y})"]}).to_csv(index=False).encode()
    result = importers.parse_facilities(data, name="k.csv", kind="kindergarten")
    assert result.ok and result.frame.geometry.iloc[0].equals_exact(gpd.points_from_xy([x], [y])[0], 1e-12)


def test_bd09_is_converted_to_wgs84():
    lon, lat = np.array([116.3975, 116.46]), np.array([39.9087, 39.95])
    blon, blat = datum.from_wgs84(lon, lat, "bd09")
    data = pd.DataFrame({"name": ["a", "b"], "lng": blon, "lat": blat}).to_csv(index=False).encode()
    frame = importers.parse_facilities(data, name="b.csv", kind="hospital", datum="bd09").frame
    assert np.abs(frame.geometry.x - lon).max() < 1e-7 and np.abs(frame.geometry.y - lat).max() < 1e-7


def test_every_problem_is_reported_not_only_the_first():
    frame = register().astype(str)
    frame.loc[0, "床位数"] = "x"
    frame.loc[1, "经度"] = ""
    frame.loc[2, "编号"] = "E01"
    result = importers.parse_facilities(frame.to_csv(index=False).encode(), name="r.csv", kind="elderly_care",
                                        attributes=ELDERLY)
    located = {(p.row, p.column) for p in result.errors}
    assert located == {(2, "床位数"), (3, "经度"), (4, "编号")}


def test_contradicted_declared_datum_is_a_warning_with_evidence(tiny_city_dir):
    from .test_bad_inputs import gcj_register

    units = gpd.read_file(tiny_city_dir / "boundaries" / "streets.geojson")
    with pytest.warns(DataWarning, match="gcj02"):
        result = importers.parse_facilities(gcj_register(), name="g.csv", kind="elderly_care", datum="wgs84",
                                            units=units, attributes=ELDERLY)
    warning = [p for p in result.problems if "better read as gcj02" in p.message]
    assert warning and warning[0].severity == "warning" and result.ok
    evidence = result.report["datum_evidence"]
    assert evidence["as_declared"]["in_named_unit"] == 3 and evidence["as_gcj02"]["in_named_unit"] == 8
    # Declared correctly, nothing to report.
    right = importers.parse_facilities(gcj_register(), name="g.csv", kind="elderly_care", datum="gcj02",
                                       units=units, attributes=ELDERLY)
    assert right.problems == () and right.report["datum_evidence"]["suggested_datum"] is None


def test_problem_is_frozen_and_printable():
    problem = importers.Problem("error", "Bad.", file="f.csv", row=3, column="床位数", fix="Fix it.")
    assert str(problem) == "f.csv, row 3, column '床位数': error: Bad. Fix: Fix it."
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.row = 4
    with pytest.raises(ValueError):
        importers.Problem("fatal", "x")


# --- boundaries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["geojson-4490", "gpkg-utm", "shp-zip", "parquet", "shp"])
def test_boundaries_in_any_format_and_crs(fmt, tmp_path):
    frame = streets_frame().rename(columns={"code": "区划代码", "name": "街道名称", "parent_code": "上级代码",
                                            "pop_total": "常住人口"})
    if fmt == "geojson-4490":
        path = tmp_path / "s.geojson"
        frame.to_crs(4490).to_file(path)
    elif fmt == "gpkg-utm":
        path = tmp_path / "s.gpkg"
        frame.to_file(path, driver="GPKG")
    elif fmt == "parquet":
        path = tmp_path / "s.parquet"
        frame.to_crs(4326).to_parquet(path)
    else:
        folder = tmp_path / "shp"
        folder.mkdir()
        # Chinese GIS exports write the .dbf in GBK (UTF-8 names would not fit 10 bytes), often without .cpg.
        frame.to_crs(4490).to_file(folder / "s.shp", encoding="gbk")
        (folder / "s.cpg").unlink(missing_ok=True)
        path = folder / "s.shp"
        if fmt == "shp-zip":
            path = tmp_path / "s.zip"
            with zipfile.ZipFile(path, "w") as archive:
                for part in folder.iterdir():
                    archive.write(part, f"outlines/{part.name}")
    result = importers.import_boundaries(path, level="street")
    assert result.ok, result.problems
    out = result.frame
    assert out.crs.to_epsg() == 4326
    assert out["code"].tolist() == ["110001001", "110001002", "110002001", "110002002"]
    assert out["name"].tolist() == ["甲一街道", "甲二街道", "乙一街道", "乙二街道"]
    assert out["parent_code"].tolist() == ["110001", "110001", "110002", "110002"]
    assert out["pop_total"].tolist() == [1000, 2000, 3000, 0]
    expected = streets_frame().to_crs(4326).geometry
    assert all(a.equals_exact(b, 1e-6) for a, b in zip(out.geometry.normalize(), expected.normalize()))
    assert set(out["source"]) == {f"imported: {path.name}"}


def test_zip_bomb_and_size_caps(tmp_path):
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("s.geojson", b" " * 5_000_000)
    with pytest.raises(DataError, match="unpacks to 5.0 MB"):
        gio.read_vector_upload(path, max_unpacked_bytes=1_000_000)
    with pytest.raises(DataError, match="MB allowed"):
        gio.read_vector_upload(path, max_bytes=100)


def test_missing_parent_codes_are_found_spatially(tiny_city_dir):
    districts = gpd.read_file(tiny_city_dir / "boundaries" / "districts.geojson")
    result = importers.check_boundaries(streets_frame().drop(columns=["parent_code"]), name="s.geojson",
                                        districts=districts)
    assert result.ok and result.frame["parent_code"].tolist() == ["110001", "110001", "110002", "110002"]
    assert [p.column for p in result.warnings] == ["parent_code"]


# --- population --------------------------------------------------------------------------------


def test_population_join_reports_unmatched_codes(tiny_city_dir):
    units = gpd.read_file(tiny_city_dir / "boundaries" / "streets.geojson")
    table = pd.DataFrame({"区划代码": ["110001001", "110001002", "999"], "常住人口": ["10", "20", "30"],
                          "0-14岁": ["1", "2", "3"]})
    bad = importers.join_population(units, table, name="p.csv")
    assert bad.report["unmatched_codes"] == ["999"]
    assert bad.report["units_without_rows"] == ["110002001", "110002002"]
    assert [(p.row, p.column) for p in bad.errors] == [(4, "区划代码")]
    good = importers.join_population(units, table.iloc[:2], name="p.csv")
    assert good.ok
    frame = good.frame.set_index("code")
    assert frame["pop_total"].tolist() == [10, 20, 3000, 0]  # unlisted units keep theirs
    assert frame["pop_0_14"].tolist() == [1, 2, 300, 0]
    assert frame["pop_source"].tolist() == ["imported: p.csv", "imported: p.csv", "estimate", "estimate"]


# --- whole folders ------------------------------------------------------------------------------


def test_import_all_three_into_a_folder_atomically(tmp_path, capsys):
    base = write_tiny_city(tmp_path / "base")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    streets = streets_frame().rename(columns={"code": "区划代码", "name": "名称"}).drop(columns=["pop_total"])
    streets.to_crs(4490).to_file(inputs / "streets.gpkg", driver="GPKG")
    pd.DataFrame({"code": ["110001001", "110001002", "110002001", "110002002"],
                  "pop_total": [5, 6, 7, 8], "pop_60_plus": [1, 1, 1, 1]}).to_excel(inputs / "pop.xlsx", index=False)
    (inputs / "homes.csv").write_bytes(register().to_csv(index=False).encode("gb18030"))
    hashes = {p.name: sha(p) for p in inputs.iterdir()}
    out = tmp_path / "mydata"
    argv = ["import", "--boundaries", str(inputs / "streets.gpkg"), "--population", str(inputs / "pop.xlsx"),
            "--facilities", str(inputs / "homes.csv"), "--kind", "elderly_care", "--out", str(out),
            "--base", str(base), "--column-map", "code=区划代码"]
    assert main(argv) == 0, capsys.readouterr()
    dataset = load_dataset(out)
    streets_loaded = dataset.units_at("street")
    assert streets_loaded["pop_total"].tolist() == [5, 6, 7, 8]
    assert set(streets_loaded["pop_source"]) == {"imported: pop.xlsx"}
    assert dataset.layer("elderly_care")["street_code"].tolist() == ["110001001", "110001002", "110002001"]
    assert set(dataset.layers) == {"elderly_care", "neonatal_centre", "minor_protection_station", "community"}
    assert {p.name: sha(p) for p in inputs.iterdir()} == hashes
    # A second import that fails leaves the first folder exactly as it was.
    written = {p: sha(p) for p in out.rglob("*") if p.is_file()}
    (inputs / "broken.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["import", "--facilities", str(inputs / "broken.csv"), "--kind", "childcare",
                 "--out", str(out), "--base", str(base)]) == 2
    assert {p: sha(p) for p in out.rglob("*") if p.is_file()} == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base", "inputs", "mydata"]


def test_import_refuses_to_replace_a_folder_holding_its_inputs(tmp_path, capsys):
    base = write_tiny_city(tmp_path / "base")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "homes.csv").write_bytes(register().to_csv(index=False).encode())
    code = main(["import", "--facilities", str(tmp_path / "work" / "homes.csv"), "--kind", "elderly_care",
                 "--out", str(tmp_path / "work"), "--base", str(base)])
    assert code == 2 and "inside the output folder" in capsys.readouterr().err
    assert (tmp_path / "work" / "homes.csv").exists()


def test_validate_prints_every_problem_and_exits_zero_on_warnings(tmp_path, capsys):
    base = write_tiny_city(tmp_path / "base")
    frame = register().drop(columns=["编号"]).astype(str)
    frame.loc[1, "床位数"] = ""
    (tmp_path / "r.csv").write_bytes(frame.to_csv(index=False).encode())
    code = main(["validate", str(tmp_path / "r.csv"), "--as", "facilities", "--kind", "elderly_care",
                 "--base", str(base)])
    out = capsys.readouterr().out
    assert code == 0
    assert "r.csv, column 'id': warning: No id column" in out
    assert "r.csv, row 3, column '床位数': warning: beds is blank" in out
    assert out.strip().endswith("r.csv: 0 errors, 2 warnings.")


def test_point_layers_are_registers_too(tmp_path, tiny_city_dir):
    """A GeoPackage of points in UTM is converted to degrees, then the declared datum applies."""
    from shapely.geometry import Point

    lon, lat = lonlat(1.5)
    glon, glat = datum.wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    frame = gpd.GeoDataFrame({"编号": ["0042"], "名称": ["托育"], "托位数": [25]},
                             geometry=[Point(glon[0], glat[0])], crs=4326).to_crs(METRIC)
    frame.to_file(tmp_path / "c.gpkg", driver="GPKG")
    units = gpd.read_file(tiny_city_dir / "boundaries" / "streets.geojson")
    result = importers.import_facilities(tmp_path / "c.gpkg", kind="childcare", attributes={"places": "number"},
                                         datum="gcj02", units=units)
    assert result.ok, result.problems
    point = result.frame.geometry.iloc[0]
    assert abs(point.x - lon) < 1e-7 and abs(point.y - lat) < 1e-7
    assert result.frame["id"].tolist() == ["0042"] and result.frame["places"].tolist() == [25]


def test_utf16_unicode_text_export_is_read():
    data = "编号\t名称\t经度\t纬度\n001\t甲\t116.4\t39.9\n".encode("utf-16")
    frame, info = importers.parse_table(data, name="r.txt")
    assert info["encoding"] == "utf-16" and frame.loc[0, "名称"] == "甲" and frame.loc[0, "编号"] == "001"


@pytest.mark.parametrize("codes, keeps_streets", [(["110001", "110002"], True), (["A", "B"], False)])
def test_district_import_keeps_streets_only_when_they_still_belong(codes, keeps_streets, tmp_path):
    base = write_tiny_city(tmp_path / "base")
    districts = gpd.read_file(base / "boundaries" / "districts.geojson").assign(code=codes)
    districts.to_file(tmp_path / "d.geojson")
    result = importers.import_folder(tmp_path / "out", boundaries=tmp_path / "d.geojson", level="district", base=base)
    assert result.ok, result.problems
    dataset = load_dataset(tmp_path / "out")
    assert ("street" in dataset.units) is keeps_streets
    assert list(dataset.units_at("district")["code"]) == codes
    assert [p.message for p in result.warnings] == ([] if keeps_streets else
                                                    ["The base streets do not belong to the imported districts "
                                                     "and are left out."])


def test_population_of_the_other_level_is_named(tmp_path):
    base = write_tiny_city(tmp_path / "base")
    (tmp_path / "p.csv").write_text("code,pop_total\n110001,5\n110002,6\n")
    result = importers.check_import(population=tmp_path / "p.csv", level="street", base=base)
    assert "Import this table with --level district." in [p.fix for p in result.errors]
    assert importers.check_import(population=tmp_path / "p.csv", level="district", base=base).ok
