"""Minor-protection stations: in ~90 % of streets, 0-3 social workers each."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "minor_protection_station"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """At most one station per street, named after its street."""
    streets, c = context.streets, context.calibration
    rng = np.random.default_rng(SEEDS[KIND])
    counts = (rng.random(len(streets)) < c.minor_station_share).astype(np.int64)
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("an assumed ~90 % of streets with a station", KIND),
        district_names=context.district_names,
        kind_name="未成年人保护工作站",
    )
    street_names = streets["name"].to_numpy()[frame.attrs["street_rows"]]
    frame["name"] = [f"{street}未成年人保护工作站（合成）" for street in street_names]
    frame["social_workers"] = rng.choice(4, len(frame), p=[0.15, 0.4, 0.3, 0.15])
    frame["child_supervisors"] = rng.integers(1, 4, len(frame))
    return frame
