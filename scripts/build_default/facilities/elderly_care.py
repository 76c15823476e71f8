"""Elderly care: beds follow the 60+ population times an uneven street propensity; outer districts
get more (cheaper land), so some streets reach 7 per 1,000 and many do not."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from .base import SEEDS, BuildContext, facilities, source

KIND = "elderly_care"


def generate(context: BuildContext, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """~570 institutions with ~110,000 beds, nursing beds and medical integration by district."""
    streets, districts, c = context.streets, context.districts, context.calibration
    district_of = context.district_of
    rng = np.random.default_rng(SEEDS[KIND])
    weight = (
        streets["pop_60_plus"].to_numpy(float)
        * rng.gamma(1.6, 1 / 1.6, len(streets))
        * np.where(context.is_core, 0.8, 1.4)
    )
    # Most streets have a care home or day-care centre with beds; the rest follow the weight.
    counts = (rng.random(len(streets)) < 0.85).astype(np.int64)
    counts += rng.multinomial(c.elderly_institutions - counts.sum(), weight / weight.sum())
    frame = facilities(
        KIND,
        streets,
        counts,
        rng,
        source=source("~570 institutions / ~110,000 beds (2021)", KIND),
        district_names=context.district_names,
        kind_name="养老机构",
    )
    beds = rng.lognormal(0.0, 0.7, len(frame))
    beds = np.maximum(10, np.round(beds / beds.sum() * c.elderly_beds)).astype(np.int64)
    district_nursing = dict(
        zip(districts["code"], rng.uniform(0.45, 0.72, len(districts)), strict=True)
    )
    facility_district = district_of[frame.attrs["street_rows"]]
    nursing_share = np.clip(
        rng.normal(np.array([district_nursing[d] for d in facility_district]), 0.15), 0, 1
    )
    integration = dict(
        zip(
            districts["code"],
            rng.choice([1.0, 0.95, 0.85, 0.7], len(districts), p=[0.2, 0.3, 0.3, 0.2]),
            strict=True,
        )
    )
    frame["beds"] = beds
    frame["nursing_beds"] = np.round(beds * nursing_share).astype(np.int64)
    frame["medical_integration"] = rng.random(len(frame)) < np.array(
        [integration[d] for d in facility_district]
    )
    return frame
