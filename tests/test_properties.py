"""Property tests: whatever bytes a planner uploads as a facility register, the reader either
returns its problems or raises one of the project's own errors - never anything else."""

from __future__ import annotations

import contextlib
import io

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo_coverage.errors import GeoCoverageError
from geo_coverage.importers import SEVERITIES, ImportResult, Problem, parse_facilities, parse_table

from .conftest import METRIC, X0, Y0
from .strategies import csv_bytes, raw_bytes, registers, tables, xlsx_bytes

ATTRIBUTES = {"beds": "number", "nursing_beds": "number", "medical_integration": "bool", "level": "text"}
UNITS = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["a", "b"]},
                         geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
                         crs=METRIC).to_crs(4326)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes, name: str, **options) -> str:
    try:
        result = parse_facilities(data, name=name, kind="elderly_care", attributes=ATTRIBUTES, **options)
    except GeoCoverageError:
        return "raised a GeoCoverageError"
    assert isinstance(result, ImportResult)
    assert all(isinstance(p, Problem) and p.severity in SEVERITIES for p in result.problems)
    if result.ok:
        assert result.frame is not None and len(result.frame) == result.report["rows"]
        assert result.frame["id"].map(type).eq(str).all()
    return "read, no errors" if result.ok else "read, with problems"


@FUZZ
@given(data=csv_bytes(), datum=st.sampled_from([None, "wgs84", "gcj02", "bd09"]),
       encoding=st.sampled_from([None, None, "utf-8", "gbk", "gb18030"]), with_units=st.booleans())
def test_random_csv_never_crashes(data, datum, encoding, with_units):
    event(check(data, "r.csv", datum=datum, encoding=encoding, units=UNITS if with_units else None))


@FUZZ
@given(data=xlsx_bytes(), with_units=st.booleans())
def test_random_xlsx_never_crashes(data, with_units):
    event(check(data, "r.xlsx", units=UNITS if with_units else None))


@FUZZ
@given(data=raw_bytes, name=st.sampled_from(["r.csv", "r.xlsx", "r.tsv", "r.txt"]))
def test_random_bytes_never_crash(data, name):
    event(check(data, name))


@FUZZ
@given(table=tables(), mapping=st.dictionaries(st.sampled_from(["lon", "lat", "id", "name", "beds"]),
                                                st.text(max_size=6), max_size=3))
def test_random_column_maps_never_crash(table, mapping):
    event(check(table.to_csv(index=False).encode(), "r.csv", column_map=mapping))


@FUZZ
@given(table=registers(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
       suffix=st.sampled_from([".csv", ".xlsx"]), with_units=st.booleans())
def test_nearly_valid_registers_never_crash(table, encoding, suffix, with_units):
    if suffix == ".csv":
        data = table.to_csv(index=False).encode(encoding, errors="replace")
    else:
        buffer = io.BytesIO()
        table.map(lambda v: "".join(ch for ch in str(v) if ch >= " ")).to_excel(buffer, index=False)
        data = buffer.getvalue()
    event(check(data, "r" + suffix, units=UNITS if with_units else None))


@FUZZ
@given(data=raw_bytes)
def test_parse_table_raises_only_data_errors(data):
    for name in ("t.csv", "t.xlsx"):
        with contextlib.suppress(GeoCoverageError):
            parse_table(data, name=name)


@pytest.mark.parametrize("data", [b"a,b\n1,2\n" * 3, "经度,纬度\n116.4,39.9\n".encode("utf-16")])
def test_known_corner_cases(data):
    check(data, "r.csv")
