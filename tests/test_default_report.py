"""The engine on the embedded Beijing default, checked against an independent recomputation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo_coverage.coverage import evaluate
from geo_coverage.dataset import default_data_dir, load_dataset
from geo_coverage.plan import default_plan

ROOT = default_data_dir()
pytestmark = pytest.mark.skipif(not (ROOT / "boundaries" / "streets.parquet").exists(),
                                reason="the embedded default has not been built")


@pytest.fixture(scope="module")
def table():
    return evaluate(load_dataset(), default_plan())


def test_every_indicator_evaluates_at_every_level_it_names(table):
    plan = default_plan()
    counts = {"city": 1, "district": 16, "street": 331}
    for ind in plan.all_indicators:
        for level in ind.levels:
            rows = table[(table.indicator == ind.id) & (table.level == level)]
            assert len(rows) == counts[level], (ind.id, level)
    assert table[table.level == "district"].unit_code.nunique() == 16
    assert table[table.level == "street"].unit_code.nunique() == 331


def _features(path):
    """A GeoParquet file as GeoJSON-like features: pyarrow for the columns, shapely for the WKB."""
    import pyarrow.parquet as pq

    frame = pq.read_table(path)
    assert json.loads(frame.schema.metadata[b"geo"])["columns"]["geometry"]["encoding"] == "WKB"
    geometries = shapely.from_wkb(frame.column("geometry").to_numpy(zero_copy_only=False))
    properties = frame.drop_columns(["geometry"]).to_pylist()
    return {"features": [{"properties": props, "geometry": shapely.geometry.mapping(geometry)}
                         for props, geometry in zip(properties, geometries, strict=True)]}


def test_beds_per_1000_recomputed_from_the_files(table):
    """Read the GeoParquet files with pyarrow + shapely alone and redo beds per 1,000 per district."""
    districts = _features(ROOT / "boundaries" / "districts.parquet")
    care = _features(ROOT / "layers" / "elderly_care.parquet")
    # Point-in-polygon in a metric CRS, as the engine does, so edge cases resolve alike.
    to_metric = Transformer.from_crs(4326, 32650, always_xy=True)
    polys = [shapely.transform(shapely.geometry.shape(f["geometry"]),
                               lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1])))
             for f in districts["features"]]
    xy = np.array([f["geometry"]["coordinates"] for f in care["features"]])
    px, py = to_metric.transform(xy[:, 0], xy[:, 1])
    points = shapely.points(px, py)
    beds = np.array([f["properties"]["beds"] for f in care["features"]], dtype=float)
    status = [f["properties"].get("status", "existing") for f in care["features"]]
    counted = np.array([s in ("existing", "planned") for s in status])
    for feature, poly in zip(districts["features"], polys):
        inside = shapely.contains(poly, points) & counted
        expected = beds[inside].sum() / feature["properties"]["pop_total"] * 1000
        got = table[(table.level == "district") & (table.indicator == "elderly_beds_per_1000")
                    & (table.unit_code == str(feature["properties"]["code"]))]
        assert got.value.iloc[0] == pytest.approx(expected, rel=1e-3)


def test_city_population_is_the_census_total(table):
    city = table[(table.level == "city") & (table.indicator == "elderly_beds_per_1000")].iloc[0]
    assert city.denominator == 21893095


def test_some_units_meet_and_some_miss_each_plain_indicator(table):
    plan = default_plan()
    for ind in plan.indicators:
        if ind.type not in ("ratio", "share") or "street" not in ind.levels and "district" not in ind.levels:
            continue
        level = "street" if "street" in ind.levels else "district"
        statuses = set(table[(table.indicator == ind.id) & (table.level == level)].status)
        assert {"met", "gap"} <= statuses, (ind.id, statuses)
