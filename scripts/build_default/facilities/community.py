"""Communities and villages: urban communities follow the urban population; villages sit in towns
and townships (镇/乡/地区), mostly in the outer districts, spread by area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_coverage import io

from ..common import METRIC_CRS, largest_remainder
from .base import SEEDS, BuildContext, facilities, source

KIND = "community"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~3,300 urban communities and ~3,800 villages with parents' schools and children's homes."""
    streets, districts, c = context.streets, context.districts, context.calibration
    district_of = context.district_of
    rng = np.random.default_rng(SEEDS[KIND])
    census = io.read_csv(context.shared.facts / "districts_census2020.csv").set_index("adcode")
    rural_pop = census.loc[districts["code"], "rural_pop"].astype(float).to_numpy()
    rural_units = streets["name"].str.endswith(("镇", "乡", "地区")).to_numpy()
    area = streets.to_crs(METRIC_CRS).area.to_numpy()
    village_counts = np.zeros(len(streets), dtype=np.int64)
    district_villages = largest_remainder(rural_pop, c.villages)
    for position, code in enumerate(districts["code"]):
        rows = np.flatnonzero((district_of == code) & rural_units)
        if district_villages[position] and len(rows):
            share = area[rows] * rng.gamma(2.0, 0.5, len(rows))
            village_counts[rows] = rng.multinomial(district_villages[position], share / share.sum())
    urban_weight = (
        context.population * np.where(rural_units, 0.5, 1.0) * rng.gamma(4.0, 0.25, len(streets))
    )
    urban_counts = 1 + largest_remainder(urban_weight, c.urban_communities - len(streets))
    communities = facilities(
        KIND,
        streets,
        urban_counts + village_counts,
        rng,
        source=source("~3,300 urban communities and ~3,800 villages", KIND),
        district_names=context.district_names,
        kind_name="社区",
        name_suffix="",
    )
    rows = communities.attrs["street_rows"]
    order_in_street = pd.Series(rows).groupby(rows).cumcount().to_numpy()
    is_village = order_in_street >= urban_counts[rows]
    street_names = streets["name"].to_numpy()[rows]
    communities["name"] = [
        f"{street}第{number + 1}{'村' if village else '社区'}（合成）"
        for street, number, village in zip(street_names, order_in_street, is_village, strict=True)
    ]
    communities["community_type"] = np.where(is_village, "rural", "urban")
    # Parents' schools: district levels vary around the plan's 96 % (urban) and 86 % (rural).
    urban_rate = dict(zip(districts["code"], rng.uniform(0.90, 1.0, len(districts)), strict=True))
    rural_rate = dict(zip(districts["code"], rng.uniform(0.75, 0.97, len(districts)), strict=True))
    community_district = district_of[rows]
    rate = np.where(
        is_village,
        [rural_rate[d] for d in community_district],
        [urban_rate[d] for d in community_district],
    )
    communities["has_parent_school"] = rng.random(len(communities)) < rate
    home_rate = np.clip(rng.normal(c.children_home_share, 0.12, len(streets)), 0.3, 1.0)
    communities["has_children_home"] = rng.random(len(communities)) < home_rate[rows]
    return communities
