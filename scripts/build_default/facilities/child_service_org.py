"""Child-service social organisations: by children, absent from two districts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "child_service_org"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~160 organisations spread by the 0-14 population, none in 门头沟 and 延庆."""
    streets, c = context.streets, context.calibration
    rng = np.random.default_rng(SEEDS[KIND])
    weight = streets["pop_0_14"].to_numpy(float) * rng.gamma(0.7, 1 / 0.7, len(streets))
    weight = np.where(
        np.isin(context.district_of, c.districts_without_child_service_org), 0.0, weight
    )
    counts = rng.multinomial(c.child_service_orgs, weight / weight.sum())
    return facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("an assumed ~160 organisations, none in 2 districts", KIND),
        district_names=context.district_names,
        kind_name="儿童服务类社会组织",
    )
