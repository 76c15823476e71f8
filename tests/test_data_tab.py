"""The app's upload page: every problem listed; the session's dataset replaced only on success."""

from __future__ import annotations

import pytest

from geo_coverage.dataset import load_dataset
from geo_coverage.importers import load_upload
from geo_coverage.plan import default_plan
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
    assert len(dataset.layer("elderly_care")) == 3  # the session's data is untouched


def test_a_good_gbk_register_replaces_the_layer_in_a_new_dataset(tiny):
    dataset, plan, root = tiny
    lon, lat = _centre_of_first_street(dataset)
    register = f"编号,名称,经度,纬度,床位,护理型床位,医养结合\nX1,新机构,{lon},{lat},50,40,是\n"
    before = sorted(p.name for p in (root / "layers").iterdir())
    result, changed = load_upload(dataset, plan, what="facilities", name="reg.csv",
                                  payload=register.encode("gbk"), kind="elderly_care",
                                  datum="wgs84")
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
                                  kind="elderly_care", datum="wgs84")
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
