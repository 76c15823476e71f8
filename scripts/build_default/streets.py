"""The 331 street/township units of ``facts/streets_2020.csv``: codes, names, people, outlines."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_coverage import io
from geo_coverage.errors import DataError

from .common import WGS84, SharedPaths, largest_remainder
from .constructed_outlines import PowerDiagramSettings, constructed_street_outlines
from .names import street_name_en
from .official_outlines import OUTLINE_QUALITY as OFFICIAL_QUALITY
from .official_outlines import official_street_outlines

POPULATION_ESTIMATES = {
    "pop_total": "pop_est_2020",
    "pop_0_2": "age_0_2_est",
    "pop_0_14": "age_0_14_est",
    "pop_60_plus": "age_60_plus_est",
    "pop_65_plus": "age_65_plus_est",
}


def read_street_table(shared: SharedPaths) -> pd.DataFrame:
    """``streets_2020.csv`` with numbers parsed and a ``code`` for every unit.

    ``code`` is the official 2023 code where one matches; the seven units without one get a
    provisional code: district code + ``9`` + a two-digit serial (``code_status`` says which).
    """
    table = io.read_csv(shared.facts / "streets_2020.csv")
    table["lon"] = table["lon"].astype(float)
    table["lat"] = table["lat"].astype(float)
    table["area_km2"] = table["area_km2"].astype(float)
    missing = table["code_2023"] == ""
    table["code_status"] = np.where(missing, "provisional", "official")
    serial = table[missing].groupby("district_code").cumcount() + 1
    provisional = table.loc[missing, "district_code"] + "9" + serial.map("{:02d}".format)
    table["code"] = table["code_2023"].where(~missing, provisional)
    if table["code"].duplicated().any():
        raise DataError(
            "Street codes are not unique.",
            file=shared.facts / "streets_2020.csv",
            column="code_2023",
        )
    return table


def street_populations(table: pd.DataFrame, districts: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """The csv estimates rescaled per district (largest remainder) to sum to the census exactly."""
    district_index = districts.set_index("code")
    populations = {column: np.zeros(len(table), dtype=np.int64) for column in POPULATION_ESTIMATES}
    for code in districts["code"]:
        rows = np.flatnonzero((table["district_code"] == code).to_numpy())
        for column, source in POPULATION_ESTIMATES.items():
            populations[column][rows] = largest_remainder(
                table.iloc[rows][source].astype(float).to_numpy(),
                int(district_index.loc[code, column]),
            )
    return populations


def build_streets(
    shared: SharedPaths,
    districts: gpd.GeoDataFrame,
    *,
    outlines: str = "official",
    settings: PowerDiagramSettings | None = None,
) -> gpd.GeoDataFrame:
    """The 331 streets with their outlines and populations that add up to the census.

    Parameters
    ----------
    shared
        The inputs folder.
    districts
        The district outlines the streets tile.
    outlines
        ``"official"``: the mosstool polygons fitted to the districts (``official_outlines``);
        ``"constructed"``: the power-diagram fallback built from points and areas alone.
    settings
        How the constructed outlines are fitted (ignored for official ones).
    """
    table = read_street_table(shared)
    if outlines == "official":
        geometry = official_street_outlines(shared, table, districts)
        quality = OFFICIAL_QUALITY
    elif outlines == "constructed":
        geometry = constructed_street_outlines(
            table, districts, settings=settings or PowerDiagramSettings()
        )
        quality = "approximate"
    else:
        raise ValueError(f"outlines must be 'official' or 'constructed', not {outlines!r}")
    streets = gpd.GeoDataFrame(
        {
            "code": table["code"].to_numpy(),
            "name": table["street_name"].to_numpy(),
            "name_en": [street_name_en(name) for name in table["street_name"]],
            "level": "street",
            "parent_code": table["district_code"].to_numpy(),
            **street_populations(table, districts),
            "pop_source": "estimate",
            "outline_quality": quality,
            "code_status": table["code_status"].to_numpy(),
            "area_km2_reference": table["area_km2"].to_numpy(),
            "lon_reference": table["lon"].to_numpy(),
            "lat_reference": table["lat"].to_numpy(),
        },
        geometry=list(geometry),
        crs=WGS84,
    )
    return streets
