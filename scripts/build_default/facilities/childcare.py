"""Childcare (under-3s): places follow the 0-2 population times an uneven propensity."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "childcare"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~1,100 institutions with ~67,000 places, ~31,000 of them inclusive."""
    streets, c = context.streets, context.calibration
    rng = np.random.default_rng(SEEDS[KIND])
    institutions = int(round(c.childcare_places / c.childcare_mean_places))
    weight = streets["pop_0_2"].to_numpy(float) * rng.gamma(0.8, 1 / 0.8, len(streets))
    counts = rng.multinomial(institutions, weight / weight.sum())
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("~67,000 places, ~31,000 inclusive (2024)", KIND),
        district_names=context.district_names,
        kind_name="托育机构",
    )
    places = rng.lognormal(0.0, 0.6, len(frame))
    places = np.maximum(10, np.round(places / places.sum() * c.childcare_places)).astype(np.int64)
    inclusive = rng.random(len(frame)) < c.childcare_inclusive_places / c.childcare_places
    frame["places"] = places
    frame["inclusive_places"] = np.where(inclusive, places, 0)
    return frame
