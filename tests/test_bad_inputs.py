"""The catalogue of bad inputs (docs/bad-inputs.md): every one is a test.

Each case builds its files in tmp_path, runs ``geo-coverage validate`` and ``geo-coverage import``
(or, for plan/scenario YAML, the verb or function that reads it), and checks the exit code, that
the output names the problem, the file and (where it applies) the row and column, that there is no
traceback, that no file was changed, and that a failed import wrote nothing.
"""

from __future__ import annotations

import hashlib
import io as _io
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from json import dumps as json_dumps
from json import loads as json_loads
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from geo_coverage import datum
from geo_coverage.cli import main
from geo_coverage.errors import DataError, DataWarning, PlanError

from .conftest import METRIC, X0, Y0, write_tiny_city

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "bad-inputs.md"


def lonlat(x_km, y_km=0.5):
    """WGS84 lon/lat of a point x_km east, y_km north of the tiny city's south-west corner."""
    point = gpd.GeoSeries([Point(X0 + x_km * 1000, Y0 + y_km * 1000)], crs=METRIC).to_crs(4326).iloc[0]
    return point.x, point.y


def register(rows=None, **columns) -> pd.DataFrame:
    """A small valid elderly-care register in the tiny city (one home per street)."""
    if rows is None:
        coords = [lonlat(x) for x in (0.5, 1.5, 2.5)]
        rows = {"编号": ["E01", "E02", "E03"], "名称": ["甲", "乙", "丙"],
                "经度": [c[0] for c in coords], "纬度": [c[1] for c in coords], "床位数": ["10", "20", "30"]}
    frame = pd.DataFrame(rows)
    for key, values in columns.items():
        frame[key] = values
    return frame


def csv_bytes(frame, encoding="utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def streets_frame():
    squares = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(4)]
    return gpd.GeoDataFrame({"code": ["110001001", "110001002", "110002001", "110002002"],
                             "name": ["甲一街道", "甲二街道", "乙一街道", "乙二街道"],
                             "parent_code": ["110001", "110001", "110002", "110002"],
                             "pop_total": [1000.0, 2000.0, 3000.0, 0.0]}, geometry=squares, crs=METRIC)


def geojson_bytes(frame) -> bytes:
    return frame.to_json(drop_id=True).encode()


@dataclass(frozen=True)
class Case:
    """One bad input: what it is, how to build it, what the tool must say."""

    id: str
    role: str  # facilities | boundaries | population | plan
    filename: str
    build: Callable[[Path], None]
    expect: str  # a regular expression the output must contain
    exit_code: int = 2
    extra: tuple = ()  # extra CLI arguments
    row: int | None = None  # the row the message must name
    column: str | None = None  # the column the message must name
    check: Callable | None = None  # extra check on the imported folder (exit 0 cases)
    args_for: dict = field(default_factory=dict)


def write(data: bytes):
    def build(path: Path):
        path.write_bytes(data)
    return build


def write_frame_xlsx(frame):
    def build(path: Path):
        # A frame with a RangeIndex of columns is a raw grid: written without a header row.
        frame.to_excel(path, index=False, header=not isinstance(frame.columns, pd.RangeIndex))
    return build


def write_vector(frame, driver="GeoJSON"):
    def build(path: Path):
        frame.to_file(path, driver=driver)
    return build


def gbk_register() -> bytes:
    return csv_bytes(register(), "gbk")


def swapped() -> bytes:
    frame = register()
    frame["经度"], frame["纬度"] = frame["纬度"].copy(), frame["经度"].copy()
    return csv_bytes(frame)


def gcj_register() -> bytes:
    # Street centres shifted into GCJ-02 (about 540 m east here): with 1 km streets the
    # shift puts points into the next street, which the register's street column contradicts.
    xs = np.array([0.45, 0.55, 1.45, 1.55, 2.45, 2.55, 0.5, 1.5])
    ys = np.array([0.3, 0.7, 0.3, 0.7, 0.3, 0.7, 0.5, 0.5])
    lon, lat = np.array([lonlat(x, y) for x, y in zip(xs, ys)]).T
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    streets = ["110001001", "110001001", "110001002", "110001002", "110002001", "110002001",
               "110001001", "110001002"]
    return csv_bytes(pd.DataFrame({"编号": [f"E{i}" for i in range(8)], "名称": list("abcdefgh"),
                                   "经度": glon, "纬度": glat, "床位数": 10, "所属街道": streets}))


def with_cell(column, row_index, value):
    frame = register()
    frame[column] = frame[column].astype(object)
    frame.loc[row_index, column] = value
    return csv_bytes(frame)


def bowtie():
    polygon = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    frame = streets_frame()
    frame.loc[1, "geometry"] = polygon
    return frame.to_crs(4326)


def mixed():
    frame = streets_frame()
    frame.loc[2, "geometry"] = Point(X0 + 2500, Y0 + 500)
    return frame.to_crs(4326)


def shapefile_parts(tmp: Path, frame, *, prj=True) -> dict[str, bytes]:
    folder = tmp / "shp-build"
    folder.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # field names cut to 10 characters: the reader knows the cut names
        frame.to_file(folder / "streets.shp", encoding="utf-8")
    parts = {p.name: p.read_bytes() for p in folder.iterdir()}
    if not prj:
        parts.pop("streets.prj")
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()
    return parts


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def shapefile_zip_without_dbf(path: Path):
    parts = shapefile_parts(path.parent, streets_frame().to_crs(4326))
    parts.pop("streets.dbf")
    path.write_bytes(zipped(parts))


def shapefile_without_prj(path: Path):
    parts = shapefile_parts(path.parent, streets_frame().to_crs(4326), prj=False)
    for name, data in parts.items():
        (path.parent / name).write_bytes(data)


def escaping_zip(path: Path):
    path.write_bytes(zipped({"../../evil.geojson": geojson_bytes(streets_frame().to_crs(4326))}))


def absolute_zip(path: Path):
    path.write_bytes(zipped({"/tmp/evil.geojson": geojson_bytes(streets_frame().to_crs(4326))}))


def oversized(path: Path):
    with open(path, "wb") as handle:  # sparse: takes no disk space
        handle.truncate(201 * 1024 * 1024)


def population(rows) -> bytes:
    return csv_bytes(pd.DataFrame(rows))


GOOD_POP = {"区划代码": ["110001001", "110001002", "110002001", "110002002"],
            "常住人口": ["1100", "2100", "3100", "10"]}


def pop_with(column, index, value):
    rows = {k: list(v) for k, v in GOOD_POP.items()}
    rows[column][index] = value
    return population(rows)


def wrong_crs():
    frame = streets_frame()  # metres, declared as degrees
    return frame.set_crs(4326, allow_override=True)


def no_leading_zero_loss(folder: Path):
    layer = gpd.read_file(folder / "layers" / "elderly_care.geojson")
    assert layer["id"].tolist() == ["007", "0001", "010"]


def codes_from_excel(folder: Path):
    streets = gpd.read_file(folder / "boundaries" / "streets.geojson")
    assert streets.set_index("code").loc["110001001", "pop_total"] == 1100


def leading_zero_register() -> bytes:
    frame = register()
    frame["编号"] = ["007", "0001", "010"]
    return csv_bytes(frame)


# --- helpers of the adversarial-audit cases ------------------------------------------------------


def register_grid(frame=None) -> list[list[str]]:
    """The register as a grid of text cells, header first."""
    frame = register() if frame is None else frame
    return [list(frame.columns)] + frame.astype(str).values.tolist()


def grid_text(grid, sep=",") -> str:
    return "\n".join(sep.join(row) for row in grid) + "\n"


def decimal_comma_register() -> bytes:
    # A European-locale Excel export: ';' between cells, ',' as the decimal separator.
    grid = register_grid()
    return grid_text([row[:2] + [cell.replace(".", ",") for cell in row[2:4]] + row[4:] for row in grid], ";").encode()


def blank_lines_register() -> bytes:
    grid = register_grid(register().assign(床位数=["10", "20", "三十"]))
    # rows: 1 header, 2 E01, 3-4 blank, 5 E02, 6 E03 (as Excel numbers them)
    return (grid_text(grid[:2]) + "\n\n" + grid_text(grid[2:])).encode()


def xlsx_grid(*sheets, merged=()):
    """A workbook of (sheet name, rows) built cell by cell (blank rows stay blank)."""
    def build(path: Path):
        from openpyxl import Workbook

        book = Workbook()
        book.remove(book.active)
        for name, rows in sheets:
            sheet = book.create_sheet(name)
            for row in rows:
                sheet.append(row)
        for cells in merged:
            book.worksheets[0].merge_cells(cells)
        book.save(path)
    return build


def numeric_rows(frame=None) -> list[list]:
    frame = register() if frame is None else frame
    return [[r["编号"], r["名称"], float(r["经度"]), float(r["纬度"]), r["床位数"]] for _, r in frame.iterrows()]


def ole2(encrypted: bool) -> bytes:
    """The start of an OLE2 compound file: an encrypted .xlsx (its EncryptedPackage stream) or an .xls."""
    body = b"\0" * 504 + ("EncryptedPackage".encode("utf-16-le") if encrypted else b"Workbook") + b"\0" * 1000
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + body


def xlsx_named_csv(path: Path):
    write_frame_xlsx(register())(path.with_suffix(".xlsx"))
    path.with_suffix(".xlsx").rename(path)


def make_folder(path: Path):
    path.mkdir()


def feature_collection(edit) -> bytes:
    import json

    data = json.loads(geojson_bytes(streets_frame().to_crs(4326)))
    edit(data)
    return json.dumps(data, ensure_ascii=False).encode()


def swap_xy(data):
    for feature in data["features"]:
        feature["geometry"]["coordinates"] = [[[y, x] for x, y in ring] for ring in feature["geometry"]["coordinates"]]


def add_heights(data):
    for feature in data["features"]:
        rings = feature["geometry"]["coordinates"]
        feature["geometry"]["coordinates"] = [[[x, y, 50.0] for x, y in ring] for ring in rings]


def two_layer_geopackage(path: Path):
    frame = streets_frame().to_crs(4326)
    frame.to_file(path, driver="GPKG", layer="districts_old")
    frame.iloc[:2].to_file(path, driver="GPKG", layer="streets")


def encrypted_zip(path: Path):
    data = zipped({"streets.geojson": geojson_bytes(streets_frame().to_crs(4326))})
    # Set the 'encrypted' flag of the member (local header and central directory), as a password zip has.
    data = data.replace(b"PK\x03\x04\x14\x00\x00\x00", b"PK\x03\x04\x14\x00\x01\x00", 1)
    data = data.replace(b"PK\x01\x02\x14\x03\x14\x00\x00\x00", b"PK\x01\x02\x14\x03\x14\x00\x01\x00", 1)
    path.write_bytes(data)


def nested_zip(path: Path):
    parts = shapefile_parts(path.parent, streets_frame().assign(pop_total=[1.0, -5.0, 3.0, 4.0]).to_crs(4326))
    path.write_bytes(zipped({f"导出/第二层/{name}": data for name, data in parts.items()}))


def unreadable_member_zip(path: Path):
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("streets.geojson", b" " * (4 << 20))  # 4 MB of spaces: ratio ~1000:1, not GeoJSON
    path.write_bytes(buffer.getvalue())


def outlines_are_2d(folder: Path):
    streets = gpd.read_file(folder / "boundaries" / "streets.geojson")
    assert not streets.geometry.has_z.any()
    assert sorted(streets["code"]) == ["110001001", "110001002", "110002001", "110002002"]


def gcj_points_in_named_streets(folder: Path):
    layer = gpd.read_file(folder / "layers" / "elderly_care.geojson")
    streets = gpd.read_file(folder / "boundaries" / "streets.geojson")
    joined = gpd.sjoin(layer, streets[["code", "geometry"]], predicate="within")
    expected = dict(zip([f"E{i}" for i in range(8)], ["110001001", "110001001", "110001002", "110001002",
                                                      "110002001", "110002001", "110001001", "110001002"]))
    assert dict(zip(joined["id"], joined["code"])) == expected
    assert layer["name"].tolist() == list("abcdefgh")


def symlink_zip(path: Path):
    """A zipped Shapefile whose .prj is a symlink entry pointing at /etc/passwd (Unix mode bits)."""
    parts = shapefile_parts(path.parent, streets_frame().to_crs(4326), prj=False)
    link = zipfile.ZipInfo("streets.prj")
    link.create_system = 3  # Unix
    link.external_attr = 0o120777 << 16  # a symbolic link
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        archive.writestr(link, "/etc/passwd")
    path.write_bytes(buffer.getvalue())


def two_shapefiles_zip(path: Path):
    parts = shapefile_parts(path.parent, streets_frame().to_crs(4326))
    path.write_bytes(zipped({**parts, **{"old/" + k.replace("streets", "streets_2019"): v for k, v in parts.items()}}))


def pop_grid(edit=None, sep=",", header=("区划代码", "常住人口")) -> bytes:
    rows = [list(header)] + [list(r) for r in zip(GOOD_POP["区划代码"], GOOD_POP["常住人口"])]
    if edit:
        edit(rows)
    return grid_text(rows, sep).encode()


CASES = [
    # --- facility registers -----------------------------------------------------------------
    Case("gbk-read-as-utf8", "facilities", "reg.csv", write(gbk_register()), r"not utf-8 text.*reads as gbk",
         extra=("--encoding", "utf-8")),
    Case("mojibake", "facilities", "reg.csv", write(csv_bytes(register(名称=["锟斤拷", "b", "c"]))),
         r"replacement characters"),
    Case("swapped-lat-lon", "facilities", "reg.csv", write(swapped()), r"look swapped", row=2, column="经度"),
    Case("gcj02-undeclared", "facilities", "reg.csv", write(gcj_register()),
         r"fit the units better read as gcj02.*--datum gcj02"),
    Case("outside-city", "facilities", "reg.csv", write(with_cell("经度", 1, "116.9")),
         r"outside every unit", row=3, column="经度"),
    Case("outside-china", "facilities", "reg.csv", write(with_cell("纬度", 0, "-39.9")),
         r"outside China", row=2),
    Case("projected-metres-as-degrees", "facilities", "reg.csv", write(with_cell("经度", 2, "440500")),
         r"not longitude/latitude", row=4),
    Case("empty-file", "facilities", "reg.csv", write(b""), r"empty"),
    Case("header-only", "facilities", "reg.csv", write("编号,名称,经度,纬度\n".encode()), r"no data rows"),
    Case("duplicate-ids", "facilities", "reg.csv", write(with_cell("编号", 2, "E01")),
         r"Duplicate id 'E01' \(first on row 2\)", row=4, column="编号"),
    Case("leading-zero-ids", "facilities", "reg.csv", write(leading_zero_register()), r"no problems|Wrote",
         exit_code=0, check=no_leading_zero_loss),
    Case("missing-coordinates", "facilities", "reg.csv", write(csv_bytes(register().drop(columns=["纬度"]))),
         r"No coordinate columns: found no lat"),
    Case("non-numeric-capacity", "facilities", "reg.csv", write(with_cell("床位数", 1, "十张")),
         r"'十张' is not a number", row=3, column="床位数"),
    Case("negative-capacity", "facilities", "reg.csv", write(with_cell("床位数", 0, "-5")),
         r"beds is negative", row=2, column="床位数"),
    Case("non-numeric-coordinate", "facilities", "reg.csv", write(with_cell("纬度", 1, "北纬39度")),
         r"'北纬39度' is not a number", row=3, column="纬度"),
    Case("blank-coordinate", "facilities", "reg.csv", write(with_cell("经度", 2, "")),
         r"coordinate is blank", row=4, column="经度"),
    Case("unknown-kind", "facilities", "reg.csv", write(csv_bytes(register())), r"Unknown facility kind 'old_people'",
         args_for={"kind": "old_people"}),
    Case("csv-renamed-xlsx", "facilities", "reg.xlsx", write(csv_bytes(register())), r"not an Excel .xlsx"),
    Case("old-xls", "facilities", "reg.xls", write(b"\xd0\xcf\x11\xe0" + b"\0" * 100), r"Unknown table format '.xls'"),
    Case("binary-garbage", "facilities", "reg.csv", write(bytes(range(128, 256)) * 4), r"not text in UTF-8, GBK"),
    Case("wkt-polygon", "facilities", "reg.csv",
         write(csv_bytes(pd.DataFrame({"id": ["A"], "name": ["x"],
                                       "wkt": [f"POLYGON (({lonlat(0.5)[0]} {lonlat(0.5)[1]}, 116 40, 116 39, "
                                               f"{lonlat(0.5)[0]} {lonlat(0.5)[1]}))"]}))),
         r"must be a point, not a Polygon", row=2, column="wkt"),
    Case("unreadable-wkt", "facilities", "reg.csv",
         write(csv_bytes(pd.DataFrame({"id": ["A"], "name": ["x"], "wkt": ["POINT (116.4"]}))),
         r"Not readable as WKT", row=2),
    Case("unknown-status", "facilities", "reg.csv", write(csv_bytes(register(状态=["在营", "关停", "规划"]))),
         r"Unknown status '关停'", row=3, column="状态"),
    Case("malformed-csv", "facilities", "reg.csv", write('编号,名称,经度,纬度\n"E1,甲,116.4,39.9\n'.encode()),
         r"Malformed CSV: a quoted cell opened on row 2 is never closed", row=2),
    Case("bad-yes-no", "facilities", "reg.csv", write(csv_bytes(register(医养结合=["是", "也许", "否"]))),
         r"'也许' is not yes or no", row=3, column="医养结合"),
    Case("mapped-column-absent", "facilities", "reg.csv", write(csv_bytes(register())),
         r"mapped column '东经' \(for lon\) is not in the file", extra=("--column-map", "lon=东经")),
    Case("file-not-found", "facilities", "missing.csv", lambda path: None, r"File not found"),
    Case("oversized-upload", "facilities", "huge.csv", oversized, r"more than the .* MB allowed"),
    Case("declared-encoding-unknown", "facilities", "reg.csv", write(csv_bytes(register())),
         r"Unknown encoding 'latin-9'", extra=("--encoding", "latin-9")),
    Case("duplicate-headers", "facilities", "reg.csv",
         write("编号,名称,经度,经度,纬度\nE1,a,116.3,116.3,39.9\n".encode()),
         r"header '经度' appears more than once", row=1, column="经度"),
    Case("title-row-above-header", "facilities", "reg.xlsx", write_frame_xlsx(pd.DataFrame(
        [["北京市养老机构名录（2024）", "", "", "", ""], list(register().columns)]
        + register().astype(str).assign(床位数=["10", "二十", "30"]).values.tolist())),
         r"'二十' is not a number", row=4, column="床位数"),
    # --- boundaries -----------------------------------------------------------------------------
    Case("self-intersecting-polygon", "boundaries", "streets.geojson", write_vector(bowtie()),
         r"Invalid polygon: Self-intersection", row=2, column="geometry"),
    Case("mixed-geometry-types", "boundaries", "streets.geojson", write_vector(mixed()),
         r"must be a polygon, not a Point \(the file mixes geometry types\)", row=3),
    Case("shapefile-without-prj", "boundaries", "streets.shp", shapefile_without_prj,
         r"declares no coordinate reference system"),
    Case("wrong-crs-declared", "boundaries", "streets.geojson", write(geojson_bytes(wrong_crs())),
         r"declared CRS is probably wrong"),
    Case("zip-missing-dbf", "boundaries", "streets.zip", shapefile_zip_without_dbf, r"has no \.dbf"),
    Case("zip-path-escapes", "boundaries", "streets.zip", escaping_zip, r"would be written outside the folder"),
    Case("zip-absolute-path", "boundaries", "streets.zip", absolute_zip, r"would be written outside the folder"),
    Case("not-a-zip", "boundaries", "streets.zip", write(b"PK\x03\x04 broken"), r"Not a readable zip"),
    Case("duplicate-unit-codes", "boundaries", "streets.geojson",
         write_vector(streets_frame().assign(code=["110001001", "110001001", "110002001", "110002002"]).to_crs(4326)),
         r"Duplicate unit code '110001001'", row=2, column="code"),
    Case("missing-code-column", "boundaries", "streets.geojson",
         write_vector(streets_frame().drop(columns=["code"]).to_crs(4326)), r"No 'code' column"),
    Case("nan-population-boundaries", "boundaries", "streets.geojson",
         write_vector(streets_frame().assign(pop_total=[1.0, np.nan, 3.0, 4.0]).to_crs(4326)),
         r"population is blank \(NaN\)", row=2, column="pop_total"),
    Case("boundaries-elsewhere", "boundaries", "streets.geojson",
         write_vector(gpd.GeoDataFrame({"code": ["310101001"], "name": ["外滩街道"]},
                                       geometry=[box(121.48, 31.23, 121.50, 31.25)], crs=4326)),
         r"outside the city's districts", row=1),
    Case("unknown-parent-district", "boundaries", "streets.geojson",
         write_vector(streets_frame().assign(parent_code=["110001", "110001", "110009", "110002"]).to_crs(4326)),
         r"parent code '110009' is not a district code", row=3),
    Case("garbage-geojson", "boundaries", "streets.geojson", write(b'{"type": "FeatureCollection", "feat'),
         r"Cannot read as a vector file"),
    Case("no-features", "boundaries", "streets.geojson", write(b'{"type": "FeatureCollection", "features": []}'),
         r"no features"),
    Case("table-as-boundaries", "boundaries", "streets.csv", write(b"code,name\n110001001,a\n"),
         r"no geometry \(a table, not outlines\)"),
    Case("facility-layer-null-geometry", "facilities", "homes.geojson",
         write(geojson_bytes(gpd.GeoDataFrame({"id": ["E1", "E2"], "name": ["a", "b"]},
                                              geometry=[Point(*lonlat(0.5)), None], crs=4326))),
         r"geometry is blank", row=2, column="wkt"),
    # --- population tables ------------------------------------------------------------------------
    Case("unmatched-unit-codes", "population", "pop.csv", write(pop_with("区划代码", 2, "110003001")),
         r"code '110003001' matches no unit", row=4, column="区划代码"),
    Case("nan-population", "population", "pop.csv", write(pop_with("常住人口", 1, "")),
         r"population is blank", row=3, column="常住人口"),
    Case("non-numeric-population", "population", "pop.csv", write(pop_with("常住人口", 0, "约两千")),
         r"'约两千' is not a number", row=2, column="常住人口"),
    Case("negative-population", "population", "pop.csv", write(pop_with("常住人口", 3, "-1")),
         r"Negative population", row=5, column="常住人口"),
    Case("duplicate-population-codes", "population", "pop.csv", write(pop_with("区划代码", 3, "110001001")),
         r"Duplicate unit code '110001001'", row=5),
    Case("no-population-column", "population", "pop.csv",
         write(population({"区划代码": GOOD_POP["区划代码"], "备注": ["", "", "", ""]})), r"No population column"),
    Case("excel-number-codes", "population", "pop.xlsx",
         write_frame_xlsx(pd.DataFrame({"区划代码": [110001001.0, 110001002.0, 110002001.0, 110002002.0],
                                        "常住人口": [1100, 2100, 3100, 10]})),
         r"no problems|Wrote", exit_code=0, check=codes_from_excel),
    # --- adversarial audit (2026-11): inputs a reviewer's held-back set is likely to hold --------------
    Case("decimal-comma-coordinates", "facilities", "reg.csv", write(decimal_comma_register()),
         r"'116,\d+' has a decimal comma.*Write a decimal point \(116\.\d+\)", row=2, column="经度"),
    Case("utf16-without-bom", "facilities", "reg.csv", write(csv_bytes(register()).decode().encode("utf-16-le")),
         r"UTF-16 text without a byte-order mark"),
    Case("html-saved-as-csv", "facilities", "reg.csv",
         write("<!DOCTYPE html><html><body><table><tr><td>编号</td><td>经度</td></tr></table></body></html>".encode()),
         r"web page \(HTML/XML\), not a CSV table"),
    Case("xlsx-named-csv", "facilities", "reg.csv", xlsx_named_csv, r"Excel workbook .*not CSV text.*real suffix"),
    Case("password-protected-xlsx", "facilities", "reg.xlsx", write(ole2(encrypted=True)),
         r"password-protected.*remove the password"),
    Case("xls-named-xlsx", "facilities", "reg.xlsx", write(ole2(encrypted=False)),
         r"old Excel \.xls workbook .*named \.xlsx"),
    Case("two-row-merged-header", "facilities", "reg.xlsx", xlsx_grid(
        ("名录", [["编号", "名称", "坐标", None, "床位数"], [None, None, "经度", "纬度", None]] + numeric_rows()),
        merged=("C1:D1", "A1:A2", "B1:B2", "E1:E2")), r"header spans two rows.*经度, 纬度.*unmerge", row=2),
    Case("blank-lines-keep-row-numbers", "facilities", "reg.csv", write(blank_lines_register()),
         r"'三十' is not a number", row=6, column="床位数"),
    Case("data-on-second-sheet-with-blank-rows", "facilities", "reg.xlsx", xlsx_grid(
        ("空白", []), ("名录", [["养老机构名录"], [], list(register().columns)] + numeric_rows()[:1] + [[], []]
                     + numeric_rows(register().assign(床位数=["10", "20", "三十"]))[2:])),
         r"'三十' is not a number", row=7, column="床位数"),
    Case("fullwidth-duplicate-ids", "facilities", "reg.csv", write(with_cell("编号", 2, "Ｅ０１")),
         r"Duplicate id 'Ｅ０１' \(first on row 2 as 'E01'\)", row=4, column="编号"),
    Case("bom-only", "facilities", "reg.csv", write(b"\xef\xbb\xbf\r\n"), r"The file is empty"),
    Case("degrees-minutes-seconds", "facilities", "reg.csv", write(with_cell("经度", 0, "116°18'13\"E")),
         r"'116°18'13\"E' is not a number.*decimal degrees", row=2, column="经度"),
    Case("chinese-name-with-spaces", "facilities", "养老 机构 名录.csv",
         write(csv_bytes(register().assign(床位数=["十", "20", "30"]), "gbk")), r"'十' is not a number", row=2),
    Case("csv-title-line-without-delimiters", "facilities", "reg.csv",
         write("北京市养老机构名录（2024）\n".encode() + with_cell("床位数", 1, "二十")),
         r"'二十' is not a number", row=4, column="床位数"),
    Case("fullwidth-comma-separator", "facilities", "reg.csv",
         write(grid_text(register_grid(), "，").encode()), r"separated by full-width commas", row=1),
    Case("ragged-row", "facilities", "reg.csv",
         write(csv_bytes(register()) + f"E04,丁,{lonlat(3.5)[0]},{lonlat(3.5)[1]},10,多余,多余\n".encode()),
         r"row 5 has 7 cells where the header has 5", row=5),
    Case("cr-only-line-ends", "facilities", "reg.csv",
         write(csv_bytes(register().assign(床位数=["10", "20", "三十"])).replace(b"\n", b"\r")),
         r"'三十' is not a number", row=4, column="床位数"),
    Case("bare-point-register", "facilities", "homes.geojson",
         write(f'{{"type": "Point", "coordinates": [{lonlat(0.5)[0]}, {lonlat(0.5)[1]}]}}'.encode()),
         r"geometry only, no attributes"),
    Case("infinite-coordinate", "facilities", "reg.csv", write(with_cell("经度", 1, "inf")),
         r"'inf' is not a number", row=3, column="经度"),
    Case("trailing-delimiters", "facilities", "reg.csv",
         write(b"".join(line + b",\n" for line in with_cell("床位数", 1, "x").splitlines())),
         r"'x' is not a number", row=3, column="床位数"),
    Case("folder-as-register", "facilities", "reg.csv", make_folder, r"folder, not a file"),
    Case("gbk-gcj02-register", "facilities", "登记表.csv", write(gcj_register().decode().encode("gbk")),
         r"no problems|Wrote", exit_code=0, extra=("--datum", "gcj02"), check=gcj_points_in_named_streets),
    Case("geopackage-two-layers", "boundaries", "streets.gpkg", two_layer_geopackage,
         r"holds 2 layers \(districts_old, streets\)"),
    Case("encrypted-zip", "boundaries", "streets.zip", encrypted_zip, r"member 'streets.geojson' is encrypted"),
    Case("zip-nested-folders", "boundaries", "streets.zip", nested_zip, r"Negative population", row=2,
         column="pop_total"),
    Case("zip-member-unreadable", "boundaries", "streets.zip", unreadable_member_zip,
         r"Cannot read as a vector file.*\(zip member 'streets.geojson'\)"),
    Case("gbk-geojson", "boundaries", "streets.geojson",
         write(streets_frame().to_crs(4326).to_json(drop_id=True, ensure_ascii=False).encode("gbk")),
         r"GeoJSON is not UTF-8 text \(it reads as gbk\)"),
    Case("overlapping-units", "boundaries", "streets.geojson",
         write(feature_collection(lambda d: d["features"][1].update(geometry=d["features"][0]["geometry"]))),
         r"overlaps unit '110001001' \(row 1\) over 100%", row=2, column="geometry"),
    Case("street-in-wrong-district", "boundaries", "streets.geojson",
         write(feature_collection(lambda d: d["features"][0]["properties"].update(parent_code="110002"))),
         r"lies in district '110001', not in its parent '110002'", row=1, column="parent_code"),
    Case("bare-geometry-outline", "boundaries", "streets.geojson",
         write(json_dumps(json_loads(geojson_bytes(streets_frame().to_crs(4326)))["features"][0]["geometry"]).encode()),
         r"No 'code' column \(the columns are: none\)"),
    Case("empty-coordinates-outline", "boundaries", "streets.geojson",
         write(feature_collection(lambda d: d["features"][2]["geometry"].update(coordinates=[]))),
         r"feature has no geometry", row=3, column="geometry"),
    Case("antimeridian-outline", "boundaries", "streets.geojson", write(feature_collection(
        lambda d: d["features"][0]["geometry"].update(coordinates=[[[179.9, 0], [-179.9, 0], [-179.9, 1], [179.9, 1],
                                                                   [179.9, 0]]]))), r"outside China"),
    Case("huge-coordinates-outline", "boundaries", "streets.geojson", write(feature_collection(
        lambda d: d["features"][1]["geometry"]["coordinates"][0].__setitem__(1, [1e308, 1e308]))),
         r"fall at 116.\d+,39.\d+ \.\. 1e\+308,1e\+308, outside China"),
    Case("zip-two-layers", "boundaries", "streets.zip", two_shapefiles_zip,
         r"several vector files: streets.shp, streets_2019.shp"),
    Case("empty-zip", "boundaries", "streets.zip", write(zipped({})), r"holds no vector file"),
    Case("zip-symlink-member", "boundaries", "streets.zip", symlink_zip, r"declares no coordinate reference system"),
    Case("folder-as-boundaries", "boundaries", "streets.geojson", make_folder, r"folder, not a file"),
    Case("kml-without-layers", "boundaries", "streets.kml", write(b"<kml><Document></Document></kml>"),
         r"holds no layers"),
    Case("latlon-swapped-outlines", "boundaries", "streets.geojson", write(feature_collection(swap_xy)),
         r"latitude, longitude \(swapped\)"),
    Case("geometrycollection-unit", "boundaries", "streets.geojson", write(feature_collection(
        lambda d: d["features"][0].update(geometry={"type": "GeometryCollection",
                                                    "geometries": [d["features"][0]["geometry"]]}))),
         r"not a GeometryCollection", row=1, column="geometry"),
    Case("unclosed-ring", "boundaries", "streets.geojson",
         write(feature_collection(lambda d: d["features"][0]["geometry"]["coordinates"][0].pop())),
         r"do not form a closed linestring"),
    Case("scientific-notation-unit-codes", "boundaries", "streets.geojson", write(feature_collection(
        lambda d: d["features"][1]["properties"].update(code="1.10001E+08"))),
         r"code '1.10001E\+08' is in scientific notation", row=2, column="code"),
    Case("3d-outlines", "boundaries", "streets.geojson", write(feature_collection(add_heights)),
         r"no problems|Wrote", exit_code=0, check=outlines_are_2d),
    Case("misplaced-thousands-separator", "population", "pop.csv",
         write(pop_grid(lambda rows: rows[2].__setitem__(1, '"2,1"'))),
         r"'2,1' is not a number \(a comma is read only as a thousands separator", row=3, column="常住人口"),
    Case("population-decimal-comma", "population", "pop.csv",
         write(pop_grid(lambda rows: rows[1].__setitem__(1, "1100,5"), sep=";")),
         r"'1100,5' is not a number", row=2, column="常住人口"),
    Case("fractional-population", "population", "pop.csv",
         write(pop_grid(lambda rows: rows[1].__setitem__(1, "1100.5"))),
         r"not a whole number \(1100.5\)", row=2, column="常住人口"),
    Case("population-in-ten-thousands", "population", "pop.csv",
         write(pop_grid(lambda rows: [r.__setitem__(1, str(int(r[1]) / 1e4)) for r in rows[1:]],
                        header=("区划代码", "常住人口（万人）"))),
         r"is not a head count", row=1, column="常住人口（万人）"),
    Case("implausible-population", "population", "pop.csv",
         write(pop_grid(lambda rows: rows[1].__setitem__(1, "1e30"))), r"Implausible population", row=2),
    Case("totals-row", "population", "pop.csv", write(pop_grid(lambda rows: rows.append(["合计", "6310"]))),
         r"totals row", row=6, column="区划代码"),
    Case("scientific-notation-codes", "population", "pop.csv",
         write(pop_grid(lambda rows: rows[1].__setitem__(0, "1.10001E+08"))),
         r"'1.10001E\+08' is in scientific notation", row=2, column="区划代码"),
    Case("apostrophe-text-codes", "population", "pop.csv",
         write(pop_grid(lambda rows: [r.__setitem__(0, "'" + r[0]) for r in rows[1:]])),
         r"no problems|Wrote", exit_code=0, check=codes_from_excel),
    Case("population-unknown-format", "population", "pop.json", write(b'{"110001001": 1100}'),
         r"Unknown table format '.json'"),
    # --- plans and scenarios -----------------------------------------------------------------------
    Case("yaml-python-tag", "plan", "plan.yaml", write(b"id: !!python/object/apply:os.system ['echo hi']\n"),
         r"Invalid YAML.*Python tags"),
    Case("scenario-python-tag", "plan", "scenario.yaml",
         write(b"name: x\nedits: !!python/object/apply:os.system ['touch pwned']\n"), r"Invalid YAML.*Python tags",
         row=2, args_for={"scenario": True}),
    Case("plan-unknown-indicator-type", "plan", "plan.yaml",
         write(b"id: p\nkinds: {elderly_care: {attributes: {beds: number}}}\nindicators:\n"
               b"  - {id: x, type: magic, layer: elderly_care, target: {city: 1}}\n"), r"unknown type 'magic'"),
    Case("plan-unknown-layer", "plan", "plan.yaml",
         write(b"id: p\nkinds: {elderly_care: {attributes: {beds: number}}}\nindicators:\n"
               b"  - {id: x, type: count, layer: nowhere, target: {city: 1}}\n"), r"unknown layer 'nowhere'"),
    Case("report-unknown-indicator-id", "plan", "plan.yaml", write(b""), r"no_such_indicator",
         args_for={"indicator": "no_such_indicator"}),
]


def _digests(root: Path) -> dict[str, tuple[str, float]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.stat().st_size < 1e8 else "big",
                                       p.stat().st_mtime)
            for p in sorted(root.rglob("*")) if p.is_file()}


def _commands(case: Case, path: Path, base: Path, out: Path) -> list[list[str]]:
    if case.role == "plan":
        if "scenario" in case.args_for:
            return [["scenario", "run", str(path), "--data", str(base)]]
        if "indicator" in case.args_for:
            return [["report", "--data", str(base), "--indicator", case.args_for["indicator"]]]
        return [["report", "--data", str(base), "--plan", str(path)]]
    common = ["--base", str(base), *case.extra]
    if case.role == "facilities":
        kind = case.args_for.get("kind", "elderly_care")
        return [["validate", str(path), "--as", "facilities", "--kind", kind, *common],
                ["import", "--facilities", str(path), "--kind", kind, "--out", str(out), *common]]
    return [["validate", str(path), "--as", case.role, *common],
            ["import", f"--{case.role}", str(path), "--out", str(out), *common]]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return write_tiny_city(tmp_path_factory.mktemp("base") / "tiny")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path, tiny_base, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    path = inputs / case.filename
    case.build(path)
    out = tmp_path / "out"
    # An existing data folder must survive a failed import untouched.
    (out / "boundaries").mkdir(parents=True)
    (out / "boundaries" / "keep.txt").write_text("previous import")
    before_inputs, before_out, before_base = _digests(inputs), _digests(out), _digests(tiny_base)
    for argv in _commands(case, path, tiny_base, out):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code = main(argv)
        # Python prints these to a user's terminal with library source lines: not a message.
        noise = [f"{w.category.__name__}: {w.message}" for w in caught
                 if issubclass(w.category, (RuntimeWarning, UserWarning, FutureWarning))
                 and not issubclass(w.category, DataWarning)]
        assert noise == [], noise
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert code == case.exit_code, (argv[0], text)
        assert "Traceback" not in text
        assert re.search(case.expect, text, flags=re.IGNORECASE | re.DOTALL), text
        if case.exit_code == 2:
            error_lines = [line for line in text.splitlines() if "error:" in line]
            assert error_lines and all(line.startswith("geo-coverage:") for line in error_lines), text
            if case.role != "plan" or "indicator" not in case.args_for:
                assert path.name in text, text
            matching = [line for line in error_lines if re.search(case.expect, line, flags=re.IGNORECASE)]
            if case.row is not None:
                assert any(f"row {case.row}" in line for line in matching), text
            if case.column is not None:
                assert any(f"column '{case.column}'" in line for line in matching), text
            if argv[0] == "import" or argv[0] == "validate":
                assert "Fix:" in text
    assert _digests(inputs) == before_inputs
    assert _digests(tiny_base) == before_base
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert leftovers == []
    if case.exit_code == 2:
        assert _digests(out) == before_out
    else:
        case.check(out)
        assert not (out / "boundaries" / "keep.txt").exists()  # replaced as a whole


def test_yaml_python_tags_are_a_data_error(tmp_path):
    from geo_coverage.io import parse_yaml, read_yaml

    file = tmp_path / "scenario.yaml"
    file.write_text("edits: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(DataError, match="Python tags"):
        read_yaml(file)
    with pytest.raises(DataError):
        parse_yaml("a: !!python/name:os.system\n")
    assert not (tmp_path / "pwned").exists()


def test_plan_errors_are_plan_errors(tmp_path):
    from geo_coverage.plan import load_plan

    file = tmp_path / "plan.yaml"
    file.write_bytes(CASES[[c.id for c in CASES].index("plan-unknown-layer")].build.__closure__[0].cell_contents)
    with pytest.raises(PlanError, match="unknown layer 'nowhere'"):
        load_plan(file)


def test_catalogue_is_documented():
    """Every case has a row in docs/bad-inputs.md, and the table has at least 30 rows."""
    text = DOC.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    documented = {re.match(r"\| `([^`]+)`", line).group(1) for line in rows}
    assert {case.id for case in CASES} <= documented
    assert len(CASES) >= 30


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_import_cleans_what_a_killed_import_left(tmp_path, tiny_base, capsys):
    """A killed import (SIGKILL: no cleanup possible) leaves .out.building-PID-* beside its target;
    the next import of that target removes it, even when the import itself fails, and leaves the
    folders of running imports and of other targets alone."""
    import os

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "reg.csv").write_bytes(csv_bytes(register()))
    out = tmp_path / "out"
    assert main(["import", "--facilities", str(inputs / "reg.csv"), "--kind", "elderly_care", "--out", str(out),
                 "--base", str(tiny_base)]) == 0
    dead = _dead_pid()
    stale = [tmp_path / f".out.building-{dead}-abc123", tmp_path / ".out.building-k2j3_x",  # an older version's name
             tmp_path / f".out.old-{dead}-q1w2"]
    alive = [tmp_path / f".out.building-{os.getpid()}-live", tmp_path / f".other.building-{dead}-zz"]
    for folder in stale + alive:
        (folder / "layers").mkdir(parents=True)
        (folder / "layers" / "half.geojson").write_text("{")
    (inputs / "bad.csv").write_bytes(with_cell("床位数", 0, "-5"))
    code = main(["import", "--facilities", str(inputs / "bad.csv"), "--kind", "elderly_care", "--out", str(out),
                 "--base", str(tiny_base)])
    assert code == 2 and "beds is negative" in capsys.readouterr().err
    assert [p.exists() for p in stale] == [False, False, False]
    assert all(p.exists() for p in alive)
    assert (out / "layers" / "elderly_care.geojson").exists()  # the previous import is intact


def test_import_killed_between_its_renames_gets_the_previous_folder_back(tmp_path, tiny_base):
    """Killed after moving the old folder aside and before renaming the new one in: the target is
    missing and the previous folder waits in .out.old-PID-*/previous; the next run puts it back."""
    from geo_coverage import io

    out = tmp_path / "out"
    previous = tmp_path / f".out.old-{_dead_pid()}-x9" / "previous"
    (previous / "boundaries").mkdir(parents=True)
    (previous / "dataset.yaml").write_text("name: out\n")
    removed = io.clean_stale_builds(out)
    assert [p.name for p in removed] == [previous.parent.name]
    assert (out / "dataset.yaml").read_text() == "name: out\n" and not previous.parent.exists()


def test_sigterm_during_import_unwinds_like_ctrl_c():
    """`kill PID` (SIGTERM) during an import raises KeyboardInterrupt, so the building folder's
    `finally` runs (Python's default SIGTERM ends the process without it); the handler is restored."""
    import os
    import signal
    import time

    from geo_coverage.cli.data import _terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), _terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this at once
    assert signal.getsignal(signal.SIGTERM) == before


def test_unreadable_file_names_the_file_and_permissions(tmp_path, tiny_base, capsys, monkeypatch):
    """A file without read permission (simulated: the tests may run as root, who reads anything)."""
    path = tmp_path / "reg.csv"
    path.write_bytes(csv_bytes(register()))
    real = Path.read_bytes

    def refuse(self):
        if self.name == "reg.csv":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    code = main(["validate", str(path), "--as", "facilities", "--kind", "elderly_care", "--base", str(tiny_base)])
    text = capsys.readouterr().out
    assert code == 2 and "Traceback" not in text
    assert "reg.csv: error: Cannot read the file (Permission denied)." in text and "permissions" in text


def test_an_unforeseen_failure_is_a_message_naming_the_file(tmp_path, tiny_base, capsys, monkeypatch):
    """The net under the readers: any exception (here a library bug stand-in) becomes exit 2 and a
    line naming the file, for validate and for import, and the import writes nothing."""
    from geo_coverage.importers import population as population_importer

    def broken(*args, **kwargs):
        raise KeyError("a library bug")

    monkeypatch.setattr(population_importer, "parse_table", broken)
    path = tmp_path / "pop.csv"
    path.write_bytes(population(GOOD_POP))
    out = tmp_path / "out"
    for argv in (["validate", str(path), "--as", "population"],
                 ["import", "--population", str(path), "--out", str(out)]):
        code = main([*argv, "--base", str(tiny_base)])
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert code == 2 and "Traceback" not in text, text
        assert "pop.csv: error: Cannot read the file (KeyError: 'a library bug')." in text
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["pop.csv"]
