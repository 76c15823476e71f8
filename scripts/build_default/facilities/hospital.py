"""Hospitals with paediatrics: concentrated in the core, so outer districts fall short."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "hospital"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~120 hospitals, at least one per district, with paediatric beds and paediatricians."""
    streets, districts, c = context.streets, context.districts, context.calibration
    rng = np.random.default_rng(SEEDS[KIND])
    children = streets["pop_0_14"].to_numpy(float)
    weight = children * rng.gamma(0.8, 1 / 0.8, len(streets)) * np.where(context.is_core, 2.0, 1.0)
    # Every district has at least one hospital with a paediatric ward.
    first = np.array(
        [rng.choice(np.flatnonzero(context.district_of == code)) for code in districts["code"]]
    )
    counts = rng.multinomial(c.hospitals - len(first), weight / weight.sum())
    np.add.at(counts, first, 1)
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source(
            "assumed 2.1 paediatric beds and 0.8 paediatricians per 1,000 children", KIND
        ),
        district_names=context.district_names,
        kind_name="医院",
    )
    city_children = float(context.city["pop_0_14"].iloc[0])
    size = rng.lognormal(0.0, 0.8, len(frame))
    beds = size / size.sum() * c.paediatric_beds_per_1000_children * city_children / 1000
    frame["paediatric_beds"] = np.maximum(5, np.round(beds)).astype(np.int64)
    doctors = size * rng.lognormal(0.0, 0.3, len(frame))
    doctors = doctors / doctors.sum() * c.paediatricians_per_1000_children * city_children / 1000
    frame["paediatricians"] = np.maximum(2, np.round(doctors)).astype(np.int64)
    return frame
