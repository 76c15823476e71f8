"""A synthetic province whose catchments cross partition borders, checkable by hand.

::

    8 × 6 townships of 1 km² (the contract's `street` level), grouped 2 × 2 into 12 counties
    (`district`).  Township (i, j) — column i east, row j north of (X0, Y0) — has
    1,000 × (1 + (i + j) % 3) residents, spread evenly over its 100 cells of 100 m.

    Elderly homes:  F1 120 beds at (2 km, 2 km), the corner of four counties;
                    F2  60 beds at (6.5 km, 4.5 km), inside one township.
    Mother-baby rooms: R1 at (4 km, 3 km) on a county border, R2 at (0.5 km, 0.5 km).

With a straight line (detour 1), 60 km/h and the 2SFCA catchment set to 1.5 min (1,500 m), F1's
catchment reaches townships of four counties; the mother-baby room catchment is set to 800 m.
No cell centre (at 50 m + k × 100 m) lies exactly on either circle, so the cells in reach are
unambiguous.  All labelled synthetic.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import Point, box

from geo_coverage.access import AccessSettings
from geo_coverage.dataset import Dataset, prepare_layer, prepare_units

METRIC = "EPSG:32650"
X0, Y0 = 440000.0, 4420000.0
COLUMNS, ROWS = 8, 6
RADIUS_2SFCA_M = 1500.0
RADIUS_ACCESS_M = 800.0
ELDERLY = [("F1", 2.0, 2.0, 120), ("F2", 6.5, 4.5, 60)]
ROOMS = [("R1", 4.0, 3.0), ("R2", 0.5, 0.5)]
SETTINGS = AccessSettings(detour_factor=1.0, drive_speed_kmh=60.0,
                          catchments={"elderly_beds_accessible_per_1000": RADIUS_2SFCA_M / 1000.0,
                                      "mother_baby_room_access": RADIUS_ACCESS_M})
INDICATORS = ["elderly_beds_per_1000", "elderly_beds_accessible_per_1000",
              "mother_baby_room_access"]


def township_code(i: int, j: int) -> str:
    return f"99{i // 2:02d}{j // 2:02d}{i:02d}{j:02d}"


def county_code(i: int, j: int) -> str:
    return f"99{i // 2:02d}{j // 2:02d}"


def township_population(i: int, j: int) -> float:
    return 1000.0 * (1 + (i + j) % 3)


def province() -> Dataset:
    rows = []
    for i in range(COLUMNS):
        for j in range(ROWS):
            pop = township_population(i, j)
            rows.append({"code": township_code(i, j), "name": f"合成乡{i}-{j}",
                         "parent_code": county_code(i, j), "pop_total": pop,
                         "pop_60_plus": pop / 5, "pop_0_14": pop / 10, "pop_source": "synthetic",
                         "geometry": box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000,
                                         Y0 + (j + 1) * 1000)})
    streets = gpd.GeoDataFrame(rows, crs=METRIC)
    counties = streets.dissolve(by="parent_code", aggfunc="sum", numeric_only=True).reset_index()
    counties = counties.rename(columns={"parent_code": "code"})
    counties["name"] = "合成县" + counties["code"]
    counties["parent_code"] = "990000"
    counties["pop_source"] = "synthetic"
    units = prepare_units({"district": counties, "street": streets}, crs=METRIC)

    def layer(kind, records):
        points = [Point(X0 + r.pop("x") * 1000, Y0 + r.pop("y") * 1000) for r in records]
        frame = gpd.GeoDataFrame(records, geometry=points, crs=METRIC)
        frame["source"] = "synthetic: partition-invariance test"
        return prepare_layer(frame, kind=kind, units=units, crs=METRIC)

    layers = {
        "elderly_care": layer("elderly_care", [
            {"id": f, "name": f, "x": x, "y": y, "beds": beds, "nursing_beds": beds // 2,
             "medical_integration": True} for f, x, y, beds in ELDERLY]),
        "mother_baby_room": layer("mother_baby_room", [
            {"id": r, "name": r, "x": x, "y": y} for r, x, y in ROOMS]),
    }
    return Dataset(units=units, layers=layers, crs=METRIC, name="synthetic province")


def cells():
    """Every 100 m cell centre (km from X0, Y0), its township code and its residents."""
    centres = (np.arange(10) + 0.5) / 10.0
    xs, ys, codes, pops = [], [], [], []
    for i in range(COLUMNS):
        for j in range(ROWS):
            gx, gy = np.meshgrid(i + centres, j + centres)
            xs.append(gx.ravel())
            ys.append(gy.ravel())
            codes += [township_code(i, j)] * 100
            pops.append(np.full(100, township_population(i, j) / 100.0))
    codes_array = np.array(codes, dtype=object)
    return np.concatenate(xs), np.concatenate(ys), codes_array, np.concatenate(pops)


def expected_by_brute_force() -> dict[str, dict[str, float]]:
    """Township numerators recomputed cell by cell, without the library: residents within 800 m
    of a mother-baby room; and 2SFCA with one catchment per home (F1 and F2 are 5 km apart, so
    no cell reaches both): each home's beds shared among the cells in reach by population."""
    x, y, codes, pops = cells()
    covered = np.zeros(len(x), dtype=bool)
    for _, rx, ry in ROOMS:
        covered |= np.hypot(x - rx, y - ry) * 1000.0 <= RADIUS_ACCESS_M
    beds = np.zeros(len(x))
    for _, fx, fy, supply in ELDERLY:
        reach = np.hypot(x - fx, y - fy) * 1000.0 <= RADIUS_2SFCA_M
        beds[reach] += supply * pops[reach] / pops[reach].sum()
    access, accessible = {}, {}
    for code in np.unique(codes):
        mine = codes == code
        access[code] = float(pops[mine & covered].sum())
        accessible[code] = float(beds[mine].sum())
    return {"mother_baby_room_access": access, "elderly_beds_accessible_per_1000": accessible}
