"""The app's upload page: every problem listed; the session's dataset replaced only on success."""

from __future__ import annotations

import pytest

from geo_coverage import importers
from geo_coverage.dataset import load_dataset
from geo_coverage.importers import load_upload
from geo_coverage.plan import default_plan
from ui import data_tab
from ui.data_tab import problems_frame

from .conftest import write_tiny_city


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = write_tiny_city(tmp_path_factory.mktemp("tiny"))
    return load_dataset(root), default_plan(), root


def _centre_of_first_street(dataset):
    point = dataset.units["street"].geometry.iloc[0].centroid
    lonlat = type(dataset.units["street"].geometry)([point], crs=dataset.crs).to_crs(4326)
    return float(lonlat.x.iloc[0]), float(lonlat.y.iloc[0])


def test_a_bad_register_lists_every_problem_and_loads_nothing(tiny):
    dataset, plan, _ = tiny
    lon, lat = _centre_of_first_street(dataset)
    register = (f"编号,名称,经度,纬度,床位,护理型床位,医养结合\n"
                f"X1,新机构,{lon},{lat},50,40,是\nX2,坏,abc,{lat},-3,1,否\n").encode("gbk")
    result, changed = load_upload(dataset, plan, what="facilities", name="reg.csv",
                                  payload=register, kind="elderly_care", datum="wgs84")
    assert changed is None
    table = problems_frame(result.problems, "en")
    # Both mistakes of row 3 (the header is row 1), each with its column and a fix.
    assert table[["Row", "Column"]].astype(str).values.tolist() == [["3", "经度"], ["3", "床位"]]
    assert table["Fix"].str.len().gt(0).all()
    assert set(table["Severity"]) == {"error"}
    assert set(problems_frame(result.problems, "zh")["级别"]) == {"错误"}  # one language
    assert len(dataset.layer("elderly_care")) == 3  # the session's data is untouched


def test_a_good_gbk_register_replaces_the_layer_in_a_new_dataset(tiny):
    dataset, plan, root = tiny
    lon, lat = _centre_of_first_street(dataset)
    register = f"编号,名称,经度,纬度,床位,护理型床位,医养结合\nX1,新机构,{lon},{lat},50,40,是\n"
    before = sorted(p.name for p in (root / "layers").iterdir())
    result, changed = load_upload(dataset, plan, what="facilities", name="reg.csv",
                                  payload=register.encode("gbk"), kind="elderly_care",
                                  datum="wgs84", replace="layer")
    assert result.ok and changed is not dataset
    layer = changed.layer("elderly_care")
    assert layer["id"].tolist() == ["X1"] and layer["street_code"].tolist() == ["110001001"]
    assert layer["source"].iloc[0] == "imported: reg.csv"
    assert len(dataset.layer("elderly_care")) == 3
    assert sorted(p.name for p in (root / "layers").iterdir()) == before  # nothing written


def test_population_join_reports_unknown_codes_and_updates_only_listed_units(tiny):
    dataset, plan, _ = tiny
    result, changed = load_upload(dataset, plan, what="population", name="pop.csv",
                                  payload=b"code,pop_total\n110001001,5000\n999,3\n")
    assert changed is None
    assert [p.row for p in result.errors] == [3]
    result, changed = load_upload(dataset, plan, what="population", name="pop.csv",
                                  payload=b"code,pop_total\n110001001,5000\n")
    assert result.ok and [p.severity for p in result.problems] == ["warning"]
    assert changed.units["street"]["pop_total"].tolist() == [5000.0, 2000.0, 3000.0, 0.0]
    assert changed.units["street"]["pop_source"].iloc[0] == "imported: pop.csv"
    # Facilities are re-assigned to the replaced units, so evaluation still finds them.
    assert changed.layer("elderly_care")["street_code"].tolist() == ["110001001", "110001002",
                                                                     "110002001"]


def test_a_register_without_nursing_beds_says_what_it_cannot_measure(tiny):
    """The reviewer's crash: 编号,名称,经度,纬度,床位 only.  It loads (beds count), says how many
    homes it replaced, warns that the nursing and medical-integration shares get no data, and
    every indicator then evaluates without raising."""
    from geo_coverage.coverage import evaluate

    dataset, plan, _ = tiny
    lon, lat = _centre_of_first_street(dataset)
    register = f"编号,名称,经度,纬度,床位\nX1,新机构,{lon},{lat},50\n".encode("gbk")
    result, changed = load_upload(dataset, plan, what="facilities", name="reg.csv", payload=register,
                                  kind="elderly_care", datum="wgs84", replace="layer")
    assert result.ok and result.report["replaced"] == (3, 1)
    warned = {p.column: p.message for p in result.warnings}
    assert "nursing_bed_share" in warned["nursing_beds"]
    assert "eldercare_medical_integration" in warned["medical_integration"]
    table = evaluate(changed, plan)
    share = table[table.indicator == "nursing_bed_share"]
    assert set(share.status) == {"no_data"}
    beds = table[(table.indicator == "elderly_beds_per_1000") & (table.unit_code == "110001001")]
    assert float(beds.value.iloc[0]) == 50.0  # 50 beds for 1,000 residents


def test_an_unforeseen_library_failure_is_a_problem_not_a_traceback(tiny, monkeypatch):
    from geo_coverage.importers import uploads

    def explode(*args, **kwargs):
        raise RuntimeError("zlib: invalid distance\ntoo far back")

    monkeypatch.setattr(uploads, "import_boundaries", explode)
    dataset, plan, _ = tiny
    result, changed = load_upload(dataset, plan, what="boundaries", name="streets.zip", payload=b"PK\x03\x04")
    assert changed is None and not result.ok
    (problem,) = result.errors
    assert problem.file == "streets.zip" and "RuntimeError: zlib: invalid distance" in problem.message


def test_one_districts_register_replaces_only_that_district(tiny):
    """District A (110001) sends its register of one home; district B keeps E3 (30 beds), so
    B1's 10 beds per 1,000 are unchanged and A now has the register's home alone."""
    from geo_coverage.coverage import evaluate

    dataset, plan, _ = tiny
    lon, lat = _centre_of_first_street(dataset)
    register = f"编号,名称,经度,纬度,床位,护理型床位,医养结合\nX1,新机构,{lon},{lat},50,40,是\n"
    result, changed = load_upload(dataset, plan, what="facilities", name="reg.csv",
                                  payload=register.encode(), kind="elderly_care", datum="wgs84")
    assert result.ok
    layer = changed.layer("elderly_care").set_index("id")
    assert sorted(layer.index) == ["E3", "X1"]
    assert layer.loc["E3", "district_code"] == "110002"
    assert layer.loc["X1", "district_code"] == "110001"
    assert result.report["districts"] == ["110001"]
    assert result.report["replaced"] == (2, 1) and result.report["kept"] == 1
    table = evaluate(changed, plan, levels=["street"], indicators=["elderly_beds_per_1000"])
    value = table.set_index("unit_code")["value"]
    assert value["110002001"] == 30 / 3000 * 1000  # B1 kept its 30 beds
    assert value["110001001"] == 50 / 1000 * 1000  # A1: the register's 50 beds
    assert value["110001002"] == 0  # A2's 5-bed home was A's, and A's register does not list it
    summary = data_tab.register_summary(result.report, plan.kinds["elderly_care"], dataset, "zh")
    assert "甲区的 2 处设施（现为 1 处）" in summary and "其他各区的 1 处设施保留不变" in summary
    assert "坐标为 WGS84，未转换" in summary


def test_a_clashing_id_is_an_error_naming_the_district_that_keeps_it(tiny):
    dataset, plan, _ = tiny
    lon, lat = _centre_of_first_street(dataset)
    register = f"编号,名称,经度,纬度,床位\nE3,重号,{lon},{lat},50\n".encode()
    result, changed = load_upload(dataset, plan, what="facilities", name="reg.csv",
                                  payload=register, kind="elderly_care", datum="wgs84")
    assert changed is None
    (error,) = result.errors
    assert "Id 'E3'" in error.message and "乙区 (110002)" in error.message
    assert "replace the whole layer" in error.fix


def test_the_datum_conversion_and_its_measured_shift_are_said(tiny):
    """A register in GCJ-02 (Amap coordinates): converted to WGS84 and the mean shift measured;
    here recomputed by the haversine formula on the sphere of the mean Earth radius, which
    agrees with the ellipsoidal distance within 0.5 %."""
    import math

    from geo_coverage import datum

    dataset, plan, _ = tiny
    lon, lat = _centre_of_first_street(dataset)
    glon, glat = (float(v) for v in datum.wgs84_to_gcj02(lon, lat))
    register = f"编号,名称,经度,纬度,床位\nX1,新机构,{glon},{glat},50\n".encode()
    result, changed = load_upload(dataset, plan, what="facilities", name="reg.csv",
                                  payload=register, kind="elderly_care", datum="gcj02")
    assert result.ok
    p1, p2 = math.radians(glat), math.radians(lat)
    dphi, dlambda = p2 - p1, math.radians(lon - glon)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlambda / 2) ** 2
    haversine = 2 * 6_371_008.8 * math.asin(math.sqrt(a))
    assert 300 < haversine < 800  # GCJ-02 is a few hundred metres off in Beijing
    assert result.report["datum_shift_m"] == pytest.approx(haversine, rel=0.005)
    shift = f"{result.report['datum_shift_m']:,.0f}"
    assert importers.datum_note(result.report, "zh") == (
        f"坐标转换：GCJ-02 → WGS84，平均偏移 {shift} 米")
    assert importers.datum_note(result.report, "en") == (
        f"datum conversion: GCJ-02 → WGS84, mean shift {shift} m")
    summary = data_tab.register_summary(result.report, plan.kinds["elderly_care"], dataset, "en")
    assert "the other districts keep their 1" in summary and "mean shift" in summary
