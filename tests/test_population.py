"""Demand points: rasterised unit populations and foreign-CRS rasters with nodata."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Transformer
from shapely.geometry import box

from geo_coverage import io
from geo_coverage.dataset import Dataset, prepare_units
from geo_coverage.population import demand_points, rasterise_population, unit_totals, write_population_raster

from .conftest import METRIC, X0, Y0


def _dataset(streets: gpd.GeoDataFrame) -> Dataset:
    districts = gpd.GeoDataFrame(
        {"code": ["110001"], "name": ["区"], "parent_code": ["110000"],
         "pop_total": [streets["pop_total"].sum()], "pop_0_14": [streets["pop_0_14"].sum()]},
        geometry=[shapely.union_all(streets.geometry.values)], crs=METRIC)
    units = prepare_units({"district": districts, "street": streets}, crs=METRIC)
    return Dataset(units=units, layers={}, crs=METRIC)


def _street_frame(rows):
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[0] for r in rows],
         "parent_code": ["110001"] * len(rows), "pop_total": [r[1] for r in rows],
         "pop_0_14": [r[2] for r in rows]},
        geometry=[r[3] for r in rows], crs=METRIC)


def test_rasterised_units_spread_evenly_and_sum_to_each_unit(tiny_city):
    demand = demand_points(tiny_city, resolution_m=100)
    # Three populated 1 km² streets of 100 cells each; the empty street B2 gives no points.
    assert len(demand) == 300
    assert demand.unit_level == "street"
    for column in ("pop_total", "pop_0_14"):
        totals = unit_totals(demand, demand.weight(column))
        expected = tiny_city.units["street"][column]
        np.testing.assert_allclose(totals.reindex(expected.index), expected, rtol=1e-12, atol=0)
    a1 = demand.street_code == "110001001"
    # 1,000 people over 100 cells: 10 each; 100 children: 1 each.
    np.testing.assert_allclose(demand.weight("pop_total")[a1], 10.0)
    np.testing.assert_allclose(demand.weight("pop_0_14")[a1], 1.0)
    # Cell centres sit 50 m inside the 100 m grid lines.
    np.testing.assert_allclose(np.mod(demand.x - X0, 100.0), 50.0)
    np.testing.assert_allclose(np.mod(demand.y - Y0, 100.0), 50.0)
    assert set(demand.district_code[demand.street_code == "110002001"]) == {"110002"}
    assert "110002002" not in set(demand.street_code)


def test_population_raster_round_trips_through_a_geotiff(tiny_city, tmp_path):
    target = write_population_raster(tiny_city, tmp_path / "pop.tif", resolution_m=200)
    values, _ = rasterise_population(tiny_city, resolution_m=200)
    window = io.read_raster_window(target)
    np.testing.assert_allclose(np.nan_to_num(window.values, nan=-1.0), values)
    # 25 cells of 200 m per 1 km² street: 1,000 / 25 = 40 people each in A1.
    assert np.isclose(values[values > 0].min(), 40.0)
    from_file = demand_points(tiny_city, raster=target)
    np.testing.assert_allclose(unit_totals(from_file, from_file.weight("pop_total")).sum(), 6000.0)


def test_units_smaller_than_a_cell_get_one_point_at_their_representative_point():
    tiny = box(X0 + 1000, Y0, X0 + 1040, Y0 + 40)  # 40 m square: no 100 m cell centre inside
    big = box(X0, Y0, X0 + 1000, Y0 + 1000)
    dataset = _dataset(_street_frame([("S1", 500, 50, big), ("S2", 7, 3, tiny)]))
    demand = demand_points(dataset, resolution_m=100)
    lonely = demand.street_code == "S2"
    assert lonely.sum() == 1
    assert demand.weight("pop_total")[lonely][0] == 7 and demand.weight("pop_0_14")[lonely][0] == 3
    assert tiny.contains(shapely.points(demand.x[lonely], demand.y[lonely])[0])


def test_raster_in_another_crs_with_nodata_sums_exactly_and_matches_an_independent_count(tmp_path):
    # Two streets side by side in UTM 50N; the raster is in WGS84 degrees and larger than them.
    s1 = box(X0, Y0, X0 + 1000, Y0 + 1000)
    s2 = box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
    dataset = _dataset(_street_frame([("S1", 1234, 200, s1), ("S2", 4321, 700, s2)]))
    to_lonlat = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_lonlat.transform(X0 - 3000, Y0 - 3000)
    lon1, lat1 = to_lonlat.transform(X0 + 5000, Y0 + 4000)
    step = 0.002  # ~170 m × 220 m cells
    width, height = int(np.ceil((lon1 - lon0) / step)), int(np.ceil((lat1 - lat0) / step))
    rng = np.random.default_rng(7)
    values = rng.uniform(0, 50, size=(height, width)).astype("float32")
    values[rng.random(values.shape) < 0.2] = -9999.0  # nodata cells count as nobody
    transform = Affine(step, 0, lon0, 0, -step, lat0 + height * step)
    path = io.write_raster(values, tmp_path / "worldpop.tif", transform=transform, crs="EPSG:4326",
                           nodata=-9999.0)

    window = io.read_raster_window(path, bounds=tuple(dataset.units["street"].total_bounds),
                                   bounds_crs=METRIC)
    assert window.values.size < values.size  # only the window around the units was read

    demand = demand_points(dataset, raster=path)
    totals = unit_totals(demand, demand.weight("pop_total"))
    np.testing.assert_allclose(totals[["S1", "S2"]], [1234, 4321], rtol=1e-12, atol=0)
    np.testing.assert_allclose(unit_totals(demand, demand.weight("pop_0_14"))[["S1", "S2"]], [200, 700],
                               rtol=1e-12, atol=0)

    # Independent recomputation: every cell centre projected to UTM, located with shapely.
    rows, cols = np.mgrid[0:height, 0:width]
    lon = lon0 + (cols.ravel() + 0.5) * step
    lat = transform.f - (rows.ravel() + 0.5) * step
    x, y = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True).transform(lon, lat)
    flat = values.ravel().astype(float)
    flat[flat == -9999.0] = 0.0
    for code, outline, population in (("S1", s1, 1234), ("S2", s2, 4321)):
        inside = shapely.contains_xy(outline, x, y) & (flat > 0)
        expected = np.sort(flat[inside] / flat[inside].sum() * population)
        mine = np.sort(demand.weight("pop_total")[demand.street_code == code])
        np.testing.assert_allclose(mine, expected, rtol=1e-9)


def test_a_unit_the_raster_calls_empty_is_spread_evenly(tmp_path):
    s1 = box(X0, Y0, X0 + 1000, Y0 + 1000)
    dataset = _dataset(_street_frame([("S1", 900, 90, s1)]))
    values = np.full((10, 10), -1.0, dtype="float32")  # all nodata
    path = io.write_raster(values, tmp_path / "empty.tif",
                           transform=Affine(100, 0, X0, 0, -100, Y0 + 1000), crs=METRIC, nodata=-1.0)
    demand = demand_points(dataset, raster=path)
    assert len(demand) == 100
    np.testing.assert_allclose(demand.weight("pop_total"), 9.0)


def test_coarsened_points_keep_every_unit_total(tiny_city):
    demand = demand_points(tiny_city, resolution_m=100)
    coarse = demand.coarsened(500)
    assert len(coarse) == 12  # four 500 m squares in each of the three populated streets
    for column in ("pop_total", "pop_0_14"):
        np.testing.assert_allclose(unit_totals(coarse, coarse.weight(column)),
                                   unit_totals(demand, demand.weight(column)), rtol=1e-12)
    # Weighted centres of even cells are the square centres: 250 m and 750 m into each street.
    assert set(np.round(np.mod(coarse.x - X0, 1000.0), 6)) == {250.0, 750.0}
    assert coarse.coarsened(500) is coarse and demand.coarsened(50) is demand


def test_raster_outside_the_units_is_a_data_error(tiny_city, tmp_path):
    values = np.ones((5, 5), dtype="float32")
    path = io.write_raster(values, tmp_path / "far.tif", transform=Affine(0.01, 0, 10.0, 0, -0.01, 10.0),
                           crs="EPSG:4326")
    with pytest.raises(ValueError, match="does not overlap"):
        demand_points(tiny_city, raster=path)


def test_rescaled_points_equal_the_grid_of_grown_units_and_share_its_positions(tiny_city):
    # A street grown by 1.5 and another shrunk by half, by hand on the units: the rescaled copy's
    # weights (and its coarser cells) must equal the demand built from scratch on the grown units,
    # while positions, KD-tree and coarse cell centres are the base's own objects.
    from dataclasses import replace
    from types import MappingProxyType

    demand = demand_points(tiny_city, resolution_m=100)
    by_unit = {"110001001": 1.5, "110002001": 0.5}
    factors = np.array([by_unit.get(code, 1.0) for code in demand.unit_codes])
    streets = tiny_city.units["street"].copy()
    for code, factor in by_unit.items():
        streets.loc[code, ["pop_total", "pop_0_14"]] = streets.loc[code, ["pop_total", "pop_0_14"]] * factor
    grown = replace(tiny_city, units=MappingProxyType({**tiny_city.units, "street": streets}))
    fresh = demand_points(grown, resolution_m=100)

    scaled = demand.rescaled({"pop_total": factors, "pop_0_14": factors})
    assert np.array_equal(scaled.xy, fresh.xy)
    for column in ("pop_total", "pop_0_14"):
        assert np.allclose(scaled.weight(column), fresh.weight(column), rtol=1e-12, atol=0)
        assert np.allclose(scaled.unit_sums(column), streets[column].reindex(demand.unit_codes), rtol=1e-12)
    assert scaled.geometry is demand and scaled.tree() is demand.tree() and scaled.x is demand.x
    coarse, fresh_coarse = scaled.coarsened(500), fresh.coarsened(500)
    assert coarse.x is demand.coarsened(500).x
    assert np.allclose(coarse.xy, fresh_coarse.xy, rtol=0, atol=1e-6)
    assert np.allclose(coarse.weight("pop_total"), fresh_coarse.weight("pop_total"), rtol=1e-12, atol=0)
    # Scaling twice multiplies the factors; the geometry stays the first points'.
    twice = scaled.rescaled({"pop_total": factors})
    assert twice.geometry is demand
    assert np.allclose(twice.weight("pop_total"), demand.weight("pop_total") * factors[demand.unit_index] ** 2)
    assert np.array_equal(twice.weight("pop_0_14"), scaled.weight("pop_0_14"))
