"""Children's homes: one at every community flagged ``has_children_home``."""

from __future__ import annotations

import geopandas as gpd

from ..common import WGS84
from .base import BuildContext, source

KIND = "children_home"
DEPENDS_ON = ("community",)


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """A home at its community's point; ``community_code`` is the community's id."""
    communities = layers["community"]
    hosts = communities[communities["has_children_home"].to_numpy()]
    return gpd.GeoDataFrame(
        {
            "id": [f"CH{number:04d}" for number in range(1, len(hosts) + 1)],
            "kind": KIND,
            "name": [name.replace("（合成）", "儿童之家（合成）") for name in hosts["name"]],
            "community_code": hosts["id"].to_numpy(),
            "status": "existing",
            # Drawn with the communities (their has_children_home flag), hence the community seed.
            "source": source("an assumed ~80 % of communities with a children's home", "community"),
            "location_quality": "synthetic",
        },
        geometry=hosts.geometry.values,
        crs=WGS84,
    )
