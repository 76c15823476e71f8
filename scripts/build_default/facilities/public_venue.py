"""Public venues that should have a mother-baby room (the rooms are their own layer)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "public_venue"
VENUE_TYPES = (
    "shopping_mall",
    "transport_hub",
    "hospital",
    "park",
    "tourist_site",
    "government_service_hall",
    "library_or_museum",
)


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~2,600 venues; two districts have a room in every venue, elsewhere rooms miss at random."""
    streets, districts, c = context.streets, context.districts, context.calibration
    rng = np.random.default_rng(SEEDS[KIND])
    weight = context.population * rng.gamma(1.5, 1 / 1.5, len(streets))
    counts = rng.multinomial(c.public_venues, weight / weight.sum())
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("an assumed ~2,600 venues, ~85 % with a room", KIND),
        district_names=context.district_names,
        kind_name="公共场所",
    )
    frame["venue_type"] = rng.choice(
        np.array(VENUE_TYPES), len(frame), p=[0.3, 0.15, 0.15, 0.15, 0.08, 0.1, 0.07]
    )
    # Two districts have finished the job; elsewhere rooms are missing at random, more so in
    # some streets than others.
    finished = set(rng.choice(districts["code"].to_numpy(), size=2, replace=False))
    street_share = rng.beta(5, 1, len(streets))
    street_share = np.where(np.isin(context.district_of, list(finished)), 1.0, street_share)
    rows = frame.attrs["street_rows"]
    frame["has_mother_baby_room"] = rng.random(len(frame)) < street_share[rows]
    return frame
