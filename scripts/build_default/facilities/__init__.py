"""One generator per facility kind of the default plan.

Each module holds ``KIND``, optionally ``DEPENDS_ON`` (layers it reads) and
``generate(context, layers) -> GeoDataFrame`` in WGS84.  Every synthetic kind draws from its own
fixed seed (``base.SEEDS``), so changing one layer never changes another, and the order below only
has to put a layer after the layers it depends on.
"""

from __future__ import annotations

import geopandas as gpd

from geo_coverage.plan import default_plan

from . import (
    child_service_org,
    child_welfare,
    childcare,
    children_home,
    community,
    community_health_centre,
    elderly_care,
    hospital,
    kindergarten,
    minor_protection_station,
    mother_baby_room,
    neonatal_centre,
    public_venue,
)
from .base import SEEDS, BuildContext, Calibration, order_columns, random_points_in

GENERATORS = {
    module.KIND: module.generate
    for module in (
        neonatal_centre,
        elderly_care,
        child_welfare,
        childcare,
        public_venue,
        mother_baby_room,
        community,
        children_home,
        minor_protection_station,
        child_service_org,
        hospital,
        community_health_centre,
        kindergarten,
    )
}

__all__ = ["GENERATORS", "SEEDS", "BuildContext", "Calibration", "build_layers", "random_points_in"]


def build_layers(context: BuildContext) -> dict[str, gpd.GeoDataFrame]:
    """Every facility layer of the default plan by kind, in WGS84, columns in contract order."""
    plan = default_plan()
    missing = sorted(set(plan.kinds) - set(GENERATORS))
    if missing:
        raise KeyError(
            f"No generator for the plan's kinds {missing}: "
            "add a module to scripts/build_default/facilities/"
        )
    layers: dict[str, gpd.GeoDataFrame] = {}
    for kind, generate in GENERATORS.items():
        layers[kind] = generate(context, layers)
    return {kind: order_columns(layers[kind], kind, plan) for kind in plan.kinds}
