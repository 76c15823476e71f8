"""What the facility generators share: seeds, id prefixes, calibration totals, the build context
and the one way a synthetic point set is drawn and named."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_coverage.errors import DataError

from ..common import GRID_SIZE, WGS84, SharedPaths

# Districts of the urban core and the inner suburbs; the rest hold most of the villages.
CORE_DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108")

SEEDS = {
    "elderly_care": 1101,
    "child_welfare": 1102,
    "childcare": 1103,
    "public_venue": 1104,
    "mother_baby_room": 1105,
    "minor_protection_station": 1107,
    "child_service_org": 1108,
    "hospital": 1109,
    "community_health_centre": 1110,
    "kindergarten": 1111,
    "community": 1112,
}
ID_PREFIXES = {
    "elderly_care": "EC",
    "neonatal_centre": "NC",
    "child_welfare": "CW",
    "childcare": "CC",
    "mother_baby_room": "MB",
    "public_venue": "PV",
    "children_home": "CH",
    "minor_protection_station": "MP",
    "child_service_org": "CS",
    "hospital": "HO",
    "community_health_centre": "HC",
    "kindergarten": "KG",
    "community": "CM",
}


@dataclass(frozen=True)
class Calibration:
    """Totals the synthetic layers are calibrated to (public figures or stated assumptions)."""

    elderly_institutions: int = 570  # public: ~570 institutions around 2021
    elderly_beds: int = 110_000  # public: ~110,000 beds
    childcare_places: int = 67_000  # public: ~67,000 places for under-3s (2024)
    childcare_inclusive_places: int = 31_000  # public: ~31,000 of them inclusive
    childcare_mean_places: float = 60.0  # assumption: places per childcare institution
    community_health_centres: int = 350  # public: ~350 centres
    urban_communities: int = 3_300  # public: ~3,300 urban communities
    villages: int = 3_800  # public: ~3,800 villages
    child_welfare_institutions: int = 18  # assumption: below the plan's 20
    districts_with_child_welfare: int = 13  # assumption: district-level ones in 13 of 16 districts
    paediatric_beds_per_1000_children: float = 2.1  # assumption: near the 2.2 target, below it
    paediatricians_per_1000_children: float = 0.8  # assumption: near the 0.85 target, below it
    hospitals: int = 120  # assumption: hospitals with a paediatric ward
    kindergartens: int = 2_000  # assumption
    kindergarten_mean_places: float = 280.0  # assumption
    kindergarten_inclusive_share: float = 0.88  # assumption: ~88 % of places inclusive
    public_venues: int = 2_600  # assumption
    venue_room_share: float = 0.85  # assumption: ~85 % of venues have a room
    standalone_mother_baby_rooms: int = 300  # assumption: rooms outside the listed venues
    children_home_share: float = 0.80  # assumption: children's homes in ~80 % of communities
    minor_station_share: float = 0.90  # assumption: stations in ~90 % of streets
    child_service_orgs: int = 160  # assumption
    districts_without_child_service_org: tuple[str, ...] = ("110109", "110119")


def random_points_in(
    polygons: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``counts[i]`` uniform random points in ``polygons[i]`` (rejection sampling), as (n, 2)."""
    out = np.empty((int(counts.sum()), 2))
    position = 0
    bounds = shapely.bounds(polygons)
    for polygon, count, (minx, miny, maxx, maxy) in zip(polygons, counts, bounds, strict=True):
        if count == 0:
            continue
        shapely.prepare(polygon)
        edge = shapely.boundary(polygon)
        shapely.prepare(edge)
        taken = np.empty((0, 2))
        while len(taken) < count:
            draws = max(64, 4 * int(count))
            # Test the coordinates as they will be written, and keep clear of the edge so that
            # no re-projection can move a point into the neighbouring street.
            candidates = np.round(
                np.column_stack([rng.uniform(minx, maxx, draws), rng.uniform(miny, maxy, draws)]), 6
            )
            keep = shapely.contains_xy(polygon, candidates[:, 0], candidates[:, 1])
            keep[keep] = ~shapely.dwithin(edge, shapely.points(candidates[keep]), 5 * GRID_SIZE)
            taken = np.vstack([taken, candidates[keep]])
        out[position : position + count] = taken[:count]
        position += count
    return np.round(out, 6)


def facilities(
    kind: str,
    streets: gpd.GeoDataFrame,
    per_street: np.ndarray,
    rng: np.random.Generator,
    *,
    source: str,
    district_names: dict[str, str],
    kind_name: str,
    name_suffix: str = "（合成）",
) -> gpd.GeoDataFrame:
    """Points for ``per_street[i]`` facilities in each street, with id, name and provenance."""
    per_street = np.asarray(per_street, dtype=np.int64)
    xy = random_points_in(streets.geometry.values, per_street, rng)
    street_rows = np.repeat(np.arange(len(streets)), per_street)
    district_codes = streets["parent_code"].to_numpy()[street_rows]
    serial = pd.Series(district_codes).groupby(district_codes).cumcount().to_numpy() + 1
    names = [
        f"{district_names[code]}第{number}{kind_name}{name_suffix}"
        for code, number in zip(district_codes, serial, strict=True)
    ]
    total = len(street_rows)
    width = max(4, len(str(total)))
    frame = gpd.GeoDataFrame(
        {
            "id": [f"{ID_PREFIXES[kind]}{number:0{width}d}" for number in range(1, total + 1)],
            "kind": kind,
            "name": names,
            "status": "existing",
            "source": source,
            "location_quality": "synthetic",
        },
        geometry=shapely.points(xy),
        crs=WGS84,
    )
    frame.attrs["street_rows"] = street_rows
    return frame


def source(fact: str, kind: str) -> str:
    return f"synthetic: calibrated to {fact}, seed {SEEDS[kind]}"


@dataclass(frozen=True)
class BuildContext:
    """The units every generator draws into (WGS84), the inputs folder and the calibration."""

    shared: SharedPaths
    city: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    calibration: Calibration = Calibration()

    @cached_property
    def district_names(self) -> dict[str, str]:
        return dict(zip(self.districts["code"], self.districts["name"], strict=True))

    @cached_property
    def district_of(self) -> np.ndarray:
        """The district code of each street, in street order."""
        return self.streets["parent_code"].to_numpy()

    @cached_property
    def is_core(self) -> np.ndarray:
        return self.streets["parent_code"].isin(CORE_DISTRICTS).to_numpy()

    @cached_property
    def population(self) -> np.ndarray:
        return self.streets["pop_total"].to_numpy(float)


def order_columns(frame: gpd.GeoDataFrame, kind: str, plan) -> gpd.GeoDataFrame:
    """The layer's columns in contract order: id, kind, name, the kind's attributes, provenance."""
    attributes = list(plan.kinds[kind].attributes)
    columns = ["id", "kind", "name", *attributes, "status", "source", "location_quality"]
    missing = [column for column in columns if column not in frame]
    if missing:
        raise DataError(f"Layer {kind} lacks {missing}.")
    return gpd.GeoDataFrame(
        frame[columns].reset_index(drop=True), geometry=frame.geometry.values, crs=WGS84
    )
