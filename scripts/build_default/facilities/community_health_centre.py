"""Community health service centres: one per street, extra ones in the most populous."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "community_health_centre"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~350 centres; child-health doctors staffed at a rate that varies by district."""
    streets, districts, c = context.streets, context.districts, context.calibration
    population = context.population
    rng = np.random.default_rng(SEEDS[KIND])
    counts = np.ones(len(streets), dtype=np.int64) + rng.multinomial(
        c.community_health_centres - len(streets), population / population.sum()
    )
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("~350 community health service centres", KIND),
        district_names=context.district_names,
        kind_name="社区卫生服务中心",
    )
    staffed = dict(
        zip(
            districts["code"],
            rng.choice([1.0, 0.9, 0.75, 0.6], len(districts), p=[0.2, 0.3, 0.3, 0.2]),
            strict=True,
        )
    )
    rate = np.array([staffed[d] for d in context.district_of[frame.attrs["street_rows"]]])
    frame["child_health_doctors"] = np.where(
        rng.random(len(frame)) < rate,
        rng.integers(2, 5, len(frame)),
        rng.integers(0, 2, len(frame)),
    )
    return frame
