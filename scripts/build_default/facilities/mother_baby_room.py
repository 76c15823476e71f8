"""Mother-baby rooms: one at every public venue that has one, plus standalone rooms (workplaces,
community centres) spread by population."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from ..common import WGS84
from .base import SEEDS, BuildContext, facilities, source

KIND = "mother_baby_room"
DEPENDS_ON = ("public_venue",)


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The rooms of the venues flagged ``has_mother_baby_room`` and ~300 standalone rooms."""
    streets, c = context.streets, context.calibration
    rng = np.random.default_rng(SEEDS[KIND])
    venues = layers["public_venue"]
    at_venues = venues[venues["has_mother_baby_room"]]
    weight = context.population * rng.gamma(1.0, 1.0, len(streets))
    counts = rng.multinomial(c.standalone_mother_baby_rooms, weight / weight.sum())
    standalone = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("an assumed ~2,500 rooms", KIND),
        district_names=context.district_names,
        kind_name="母婴室",
    )
    standalone["venue_type"] = rng.choice(
        np.array(["workplace", "community_centre"]), len(standalone)
    )
    rooms = gpd.GeoDataFrame(
        {
            "kind": KIND,
            "name": [
                name.replace("公共场所（合成）", "公共场所母婴室（合成）")
                for name in at_venues["name"]
            ],
            "status": "existing",
            "source": source("an assumed ~2,500 rooms", KIND),
            "location_quality": "synthetic",
            "venue_type": at_venues["venue_type"].to_numpy(),
        },
        geometry=at_venues.geometry.values,
        crs=WGS84,
    )
    rooms = pd.concat([rooms, standalone.drop(columns="id")], ignore_index=True)
    rooms.insert(0, "id", [f"MB{number:04d}" for number in range(1, len(rooms) + 1)])
    return gpd.GeoDataFrame(rooms, geometry="geometry", crs=WGS84)
