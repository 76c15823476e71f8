"""Kindergartens: by children; the inclusive share varies by district around 88 %."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "kindergarten"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~2,000 kindergartens of ~280 places; a whole kindergarten is inclusive or not."""
    streets, districts, c = context.streets, context.districts, context.calibration
    rng = np.random.default_rng(SEEDS[KIND])
    children = streets["pop_0_14"].to_numpy(float)
    weight = children * rng.gamma(1.5, 1 / 1.5, len(streets))
    counts = rng.multinomial(c.kindergartens, weight / weight.sum())
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("an assumed ~2,000 kindergartens, ~88 % inclusive places", KIND),
        district_names=context.district_names,
        kind_name="幼儿园",
    )
    places = rng.lognormal(np.log(c.kindergarten_mean_places) - 0.08, 0.4, len(frame))
    frame["places"] = np.maximum(30, np.round(places / 10) * 10).astype(np.int64)
    inclusive_share = np.clip(
        rng.normal(c.kindergarten_inclusive_share - 0.01, 0.05, len(districts)), 0.7, 1.0
    )
    share = dict(zip(districts["code"], inclusive_share, strict=True))
    rate = np.array([share[d] for d in context.district_of[frame.attrs["street_rows"]]])
    frame["inclusive_places"] = np.where(rng.random(len(frame)) < rate, frame["places"], 0)
    return frame
