"""Neonatal centres: the 7 real city-level critical-newborn rescue centres (no district-level
ones are public)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo_coverage import io

from ..common import WGS84
from .base import BuildContext

KIND = "neonatal_centre"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The real centres of ``facts/neonatal_centres_city_level.csv`` (coordinates approximate)."""
    centres = io.read_csv(context.shared.facts / "neonatal_centres_city_level.csv")
    return gpd.GeoDataFrame(
        {
            "id": [f"NC{number:04d}" for number in range(1, len(centres) + 1)],
            "kind": KIND,
            "name": centres["name"].to_numpy(),
            "level": centres["level"].to_numpy(),
            "host_hospital": centres["name"].to_numpy(),
            "status": "existing",
            "source": "real: public reports (secondary source), coordinates approximate",
            "location_quality": "approximate",
        },
        geometry=shapely.points(np.round(centres[["lon", "lat"]].astype(float).to_numpy(), 6)),
        crs=WGS84,
    )
