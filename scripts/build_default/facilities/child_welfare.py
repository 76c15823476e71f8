"""Child welfare: a few city-level institutions and one (rarely two) per district, with some
districts having none, so the plan's 20 is not reached."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "child_welfare"
CITY_LEVEL = 3


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """18 institutions: 3 city-level in the core, the rest district-level in 13 districts."""
    streets, districts, c = context.streets, context.districts, context.calibration
    district_of = context.district_of
    rng = np.random.default_rng(SEEDS[KIND])
    district_level = c.child_welfare_institutions - CITY_LEVEL
    district_counts = np.zeros(len(districts), dtype=np.int64)
    chosen = rng.choice(len(districts), size=c.districts_with_child_welfare, replace=False)
    district_counts[chosen] = 1
    extra = rng.choice(chosen, size=district_level - c.districts_with_child_welfare, replace=False)
    district_counts[extra] += 1
    counts = np.zeros(len(streets), dtype=np.int64)
    for position, code in enumerate(districts["code"]):
        rows = np.flatnonzero(district_of == code)
        picks = rng.choice(rows, size=district_counts[position], replace=True)
        np.add.at(counts, picks, 1)
    central = rng.choice(np.flatnonzero(context.is_core), size=CITY_LEVEL, replace=False)
    np.add.at(counts, central, 1)
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("an assumed 18 institutions (plan target 20)", KIND),
        district_names=context.district_names,
        kind_name="儿童福利机构",
    )
    levels = np.full(len(frame), "district", dtype=object)
    rows = frame.attrs["street_rows"]
    for street in central:
        hit = np.flatnonzero(rows == street)
        levels[hit[-1]] = "city"
    frame["level"] = levels
    frame["beds"] = np.where(
        levels == "city", rng.integers(150, 400, len(frame)), rng.integers(20, 120, len(frame))
    )
    return frame
