"""The 16 districts (cnmaps outlines, GCJ-02 → WGS84) and the city, with 2020 census population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo_coverage import datum, io
from geo_coverage.errors import DataError

from .common import GRID_SIZE, WGS84, SharedPaths, largest_remainder
from .partition import snap_partition

DISTRICT_NAMES_EN = {
    "110101": "Dongcheng",
    "110102": "Xicheng",
    "110105": "Chaoyang",
    "110106": "Fengtai",
    "110107": "Shijingshan",
    "110108": "Haidian",
    "110109": "Mentougou",
    "110111": "Fangshan",
    "110112": "Tongzhou",
    "110113": "Shunyi",
    "110114": "Changping",
    "110115": "Daxing",
    "110116": "Huairou",
    "110117": "Pinggu",
    "110118": "Miyun",
    "110119": "Yanqing",
}


def build_districts(shared: SharedPaths) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The 16 districts (GCJ-02 → WGS84, exact tiling) and the city, with census population."""
    census = io.read_csv(shared.facts / "districts_census2020.csv")
    codes = [code for code in census["adcode"] if code != "110000"]
    outlines = []
    for code in codes:
        frame = io.read_vector(shared.district_outlines / f"{code}.geojson")
        outlines.append(shapely.union_all(frame.geometry.values))
    converted = datum.transform_geometry(
        np.array(outlines, dtype=object), source="gcj02", target="wgs84"
    )
    geometries = snap_partition(converted)
    for code, geometry in zip(codes, geometries, strict=True):
        if not shapely.is_valid(geometry) or shapely.is_empty(geometry):
            raise DataError(
                f"District {code} is not a valid polygon after conversion.",
                fix="Inspect the cnmaps outline.",
            )

    numbers = census.set_index("adcode")[
        ["name", "pop_total", "age_0", "age_1_4", "age_0_14", "age_60_plus", "age_65_plus"]
    ]
    numbers[numbers.columns[1:]] = numbers[numbers.columns[1:]].astype(np.int64)
    city_row = numbers.loc["110000"]
    districts_numbers = numbers.loc[codes]
    for column in ("pop_total", "age_0", "age_1_4", "age_0_14", "age_60_plus", "age_65_plus"):
        if int(districts_numbers[column].sum()) != int(city_row[column]):
            raise DataError(
                f"Census districts do not sum to the city for {column}.",
                file=shared.facts / "districts_census2020.csv",
                column=column,
            )
    # Ages 0-2 are not in the census tables: age 0 plus half of ages 1-4 (ages 1 and 2), an
    # estimate.  The city figure is exact arithmetic on the city row; districts are rounded by
    # largest remainder so they still add up to it.
    city_0_2 = float(city_row["age_0"]) + 0.5 * float(city_row["age_1_4"])
    district_0_2 = districts_numbers["age_0"].to_numpy(float) + 0.5 * districts_numbers[
        "age_1_4"
    ].to_numpy(float)
    district_0_2 = largest_remainder(district_0_2, int(round(city_0_2)))

    districts = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": districts_numbers["name"].tolist(),
            "name_en": [f"{DISTRICT_NAMES_EN[c]} District" for c in codes],
            "level": "district",
            "parent_code": "110000",
            "pop_total": districts_numbers["pop_total"].to_numpy(),
            "pop_0_2": district_0_2,
            "pop_0_14": districts_numbers["age_0_14"].to_numpy(),
            "pop_60_plus": districts_numbers["age_60_plus"].to_numpy(),
            "pop_65_plus": districts_numbers["age_65_plus"].to_numpy(),
            "pop_source": "census; 0-2 estimated",
            "outline_quality": "official",
        },
        geometry=list(geometries),
        crs=WGS84,
    )
    city = gpd.GeoDataFrame(
        {
            "code": ["110000"],
            "name": [city_row["name"]],
            "name_en": ["Beijing"],
            "level": ["city"],
            "parent_code": [""],
            "pop_total": [int(city_row["pop_total"])],
            "pop_0_2": [int(district_0_2.sum())],
            "pop_0_14": [int(city_row["age_0_14"])],
            "pop_60_plus": [int(city_row["age_60_plus"])],
            "pop_65_plus": [int(city_row["age_65_plus"])],
            "pop_source": ["census; 0-2 estimated"],
            "outline_quality": ["official"],
        },
        geometry=[shapely.union_all(geometries, grid_size=GRID_SIZE)],
        crs=WGS84,
    )
    return city, districts


def outlines_from_streets(
    city: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, streets: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """District and city outlines rebuilt as unions of the streets: all three levels nest exactly.

    The city-wide noding of the streets moves district edges by at most the grid (~0.1 m), so the
    rebuilt districts are the converted real outlines to that precision.
    """
    districts = districts.copy()
    parents = streets["parent_code"].to_numpy()
    districts["geometry"] = [
        shapely.union_all(streets.geometry.values[parents == code], grid_size=GRID_SIZE)
        for code in districts["code"]
    ]
    city = city.copy()
    city["geometry"] = [shapely.union_all(districts.geometry.values, grid_size=GRID_SIZE)]
    return city, districts
