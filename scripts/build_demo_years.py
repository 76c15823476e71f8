"""Build the embedded demo years 2021–2024 (synthetic) as edits to the 2020 baseline.

    python scripts/build_demo_years.py            # writes layers/demo_years/*.csv

The years are stored as what happened since 2020, each event once: ``population.csv`` (factor per
district and year, relative to the 2020 census), ``additions.csv`` (facilities opened, with the
year), ``changes.csv`` (an attribute's new value from a year on) and ``removals.csv`` (closed, or
restored), instead of four more 12 MB copies of the city.  ``geo_coverage.monitor.demo`` turns
them into a dataset per year.  Deterministic: one ``numpy.random.default_rng(SEED)`` drives
every draw, years are simulated in order from the baseline, and rerunning writes the same bytes.

Everything here is an assumption (stated in ``ASSUMPTIONS`` and layers/demo_years/README.md) except
one public figure: about 110,000 elderly-care beds around 2021 (facts/README.md), which the
baseline already holds, so 2021 keeps the beds of 2020.  The childcare baseline is calibrated to
the 2024 public figure (~67,000 places); the demo grows it anyway and says so.  The real neonatal
centres are never changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geo_coverage import io  # noqa: E402
from geo_coverage.dataset import load_dataset  # noqa: E402

SEED = 2021_2024
YEARS = (2021, 2022, 2023, 2024)
CORE = ("110101", "110102")
INNER = ("110105", "110106", "110107", "110108")
NEW_TOWNS = ("110111", "110112", "110113", "110114", "110115")
# 门头沟 closes its largest care home for renovation in 2022, reopens it in 2023: a volatile series.
RENOVATED_DISTRICT = "110109"
ASSUMPTIONS = {
    "population": (
        "each district's population (every age column alike) changes by a fixed rate a year "
        "from the 2020 census: core (东城, 西城) −1.0 %, "
        "inner (朝阳, 丰台, 石景山, 海淀) −0.3 %, new "
        "towns (房山, 通州, 顺义, 昌平, 大兴) +1.0 %, "
        "ecological districts +0.3 %; streets move with "
        "their district"
    ),
    "elderly_care": (
        "beds of 2021 as in 2020 (public: ~110,000 around 2021); from 2022 each district adds"
        " beds at its own rate drawn from N(6 %, 5 %) a year (clipped to −1 %…18 %) as new "
        "homes (lognormal, median 150 beds, 70 % nursing beds); 6 % of homes without "
        "integrated medical care gain it each year; 门头沟's largest home closes in 2022 and "
        "reopens in 2023"
    ),
    "childcare": (
        "places grow per district at N(8 %, 4 %) a year (0…18 %) as new centres (median 70 "
        "places, inclusive with probability 0.6); the baseline already holds the 2024 public "
        "figure, so the demo's 2024 total is above it"
    ),
    "hospital": (
        "paediatric beds +N(2 %, 2 %) and paediatricians +N(4 %, 2 %) a year per district"
    ),
    "kindergarten": (
        "each year a district share U(5 %, 35 %) of its non-inclusive kindergartens becomes "
        "inclusive"
    ),
    "public_venue": (
        "each year a district share U(10 %, 40 %) of venues without a mother-baby room gets "
        "one (a room is added at the venue)"
    ),
    "community": (
        "each year a district share U(10 %, 30 %) of communities without a parents' school "
        "opens one, and 15 % of those without a children's home get one (added at the "
        "community)"
    ),
    "minor_protection_station": (
        "8 streets without a station get one each year (1 social worker); 15 % of stations "
        "without a social worker get one"
    ),
    "community_health_centre": (
        "each year 30 % of centres with fewer than 2 child-health doctors gain one"
    ),
    "child_service_org": (
        "8 new organisations a year by children 0–14; 门头沟 gets its first in 2023, 延庆 none"
    ),
    "child_welfare": (
        "one district institution opens in 2023 in a district without one"
    ),
}


def _growth(rng, codes, mean, sd, low, high) -> dict[str, float]:
    return {code: float(np.clip(rng.normal(mean, sd), low, high)) for code in codes}


def _population_rate(code: str) -> float:
    if code in CORE:
        return -0.010
    if code in INNER:
        return -0.003
    if code in NEW_TOWNS:
        return 0.010
    return 0.003


class _Sim:
    """The state of every layer, year by year, with new facilities' points drawn in streets."""

    def __init__(self, dataset, rng):
        self.rng = rng
        self.units = dataset.units
        self.layers = {
            kind: frame.drop(columns="geometry").assign(
                x=frame.geometry.x.to_numpy(), y=frame.geometry.y.to_numpy(), year_added=0
            )
            for kind, frame in dataset.layers.items()
        }
        self.crs = dataset.crs
        self.counter: dict[tuple[str, int], int] = {}

    def point_in(self, street_code: str) -> tuple[float, float]:
        polygon = self.units["street"].geometry.loc[street_code]
        minx, miny, maxx, maxy = polygon.bounds
        for _ in range(1000):
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            if polygon.contains(shapely.Point(x, y)):
                return x, y
        point = polygon.representative_point()
        return point.x, point.y

    def streets_of(self, district: str, weight_column: str) -> tuple[np.ndarray, np.ndarray]:
        streets = self.units["street"]
        inside = streets[streets["parent_code"] == district]
        weights = inside[weight_column].to_numpy(dtype=float)
        return inside.index.to_numpy(), weights / weights.sum()

    def add(
        self, kind: str, year: int, street: str, attributes: dict, *, label: str, at=None
    ) -> None:
        prefix = str(self.layers[kind]["id"].iloc[0])[:2]
        n = self.counter.get((kind, year), 0) + 1
        self.counter[(kind, year)] = n
        x, y = at if at is not None else self.point_in(street)
        district = self.units["street"].loc[street, "parent_code"]
        name = f"{self.units['street'].loc[street, 'name']}{label}{year}-{n}（合成）"
        row = {
            "id": f"{prefix}-{year}-{n:04d}",
            "kind": kind,
            "name": name,
            "x": x,
            "y": y,
            "street_code": street,
            "district_code": district,
            "year_added": year,
            **attributes,
        }
        self.layers[kind] = pd.concat([self.layers[kind], pd.DataFrame([row])], ignore_index=True)


def simulate(dataset) -> dict[int, dict]:
    """Each demo year's state: {'population': {district: factor}, 'layers': {kind: frame}}."""
    rng = np.random.default_rng(SEED)
    sim = _Sim(dataset, rng)
    districts = list(dataset.units["district"].index)
    elderly_rate = _growth(rng, districts, 0.06, 0.05, -0.01, 0.18)
    childcare_rate = _growth(rng, districts, 0.08, 0.04, 0.0, 0.18)
    beds_rate = _growth(rng, districts, 0.02, 0.02, -0.02, 0.06)
    doctors_rate = _growth(rng, districts, 0.04, 0.02, 0.0, 0.09)
    kindergarten_rate = {d: rng.uniform(0.05, 0.35) for d in districts}
    venue_rate = {d: rng.uniform(0.10, 0.40) for d in districts}
    school_rate = {d: rng.uniform(0.10, 0.30) for d in districts}
    hospitals0 = sim.layers["hospital"][["paediatric_beds", "paediatricians"]].astype(float).copy()
    renovated = None
    states = {}
    for year in YEARS:
        t = year - 2020
        # Elderly care: district bed totals follow their rate from 2021's (= 2020's) beds.
        if year == 2023 and renovated is not None:  # reopens before the year's growth is counted
            sim.layers["elderly_care"] = pd.concat(
                [sim.layers["elderly_care"], renovated.to_frame().T], ignore_index=True
            )
        homes = sim.layers["elderly_care"]
        if year >= 2022:
            for district in districts:
                current = homes.loc[homes["district_code"] == district, "beds"].sum()
                base = (
                    dataset.layers["elderly_care"].query("district_code == @district")["beds"].sum()
                )
                wanted = base * (1 + elderly_rate[district]) ** (year - 2021)
                streets, weights = sim.streets_of(district, "pop_60_plus")
                while current < wanted - 75:
                    beds = int(np.clip(round(rng.lognormal(np.log(150), 0.5)), 30, 600))
                    street = rng.choice(streets, p=weights)
                    sim.add(
                        "elderly_care",
                        year,
                        street,
                        {
                            "beds": beds,
                            "nursing_beds": int(round(beds * 0.7)),
                            "medical_integration": bool(rng.random() < 0.9),
                            "status": "existing",
                        },
                        label="新建养老机构",
                    )
                    current += beds
                homes = sim.layers["elderly_care"]
        lacking = homes["medical_integration"].astype(str).str.lower() != "true"
        flips = lacking & (rng.random(len(homes)) < 0.06)
        homes.loc[flips, "medical_integration"] = True
        if year == 2022:
            in_district = homes[homes["district_code"] == RENOVATED_DISTRICT]
            renovated = homes.loc[in_district["beds"].idxmax()].copy()
            homes = homes.drop(index=in_district["beds"].idxmax())
        sim.layers["elderly_care"] = homes.reset_index(drop=True)

        # Childcare: new centres until each district reaches its rate.
        for district in districts:
            centres = sim.layers["childcare"]
            current = centres.loc[centres["district_code"] == district, "places"].sum()
            base = dataset.layers["childcare"].query("district_code == @district")["places"].sum()
            wanted = base * (1 + childcare_rate[district]) ** t
            streets, weights = sim.streets_of(district, "pop_0_2")
            while current < wanted - 35:
                places = int(np.clip(round(rng.lognormal(np.log(70), 0.5)), 15, 300))
                inclusive = places if rng.random() < 0.6 else 0
                sim.add(
                    "childcare",
                    year,
                    rng.choice(streets, p=weights),
                    {"places": places, "inclusive_places": inclusive, "status": "existing"},
                    label="新建托育机构",
                )
                current += places

        hospitals = sim.layers["hospital"]
        bed_factor = hospitals["district_code"].map(lambda d, t=t: (1 + beds_rate[d]) ** t)
        doctor_factor = hospitals["district_code"].map(lambda d, t=t: (1 + doctors_rate[d]) ** t)
        hospitals["paediatric_beds"] = (
            (hospitals0["paediatric_beds"] * bed_factor).round().astype(int)
        )
        hospitals["paediatricians"] = (
            (hospitals0["paediatricians"] * doctor_factor).round().astype(int)
        )

        kindergartens = sim.layers["kindergarten"]
        closed = kindergartens["inclusive_places"] < kindergartens["places"]
        chance = kindergartens["district_code"].map(kindergarten_rate)
        opened = closed & (rng.random(len(kindergartens)) < chance)
        kindergartens.loc[opened, "inclusive_places"] = kindergartens.loc[opened, "places"]

        venues = sim.layers["public_venue"]
        without = venues["has_mother_baby_room"].astype(str).str.lower() != "true"
        fitted = without & (rng.random(len(venues)) < venues["district_code"].map(venue_rate))
        venues.loc[fitted, "has_mother_baby_room"] = True
        for _, venue in venues[fitted].iterrows():
            sim.add(
                "mother_baby_room",
                year,
                venue["street_code"],
                {"venue_type": venue["venue_type"], "status": "existing"},
                label="母婴室",
                at=(venue["x"], venue["y"]),
            )

        communities = sim.layers["community"]
        no_school = communities["has_parent_school"].astype(str).str.lower() != "true"
        schools = no_school & (
            rng.random(len(communities)) < communities["district_code"].map(school_rate)
        )
        communities.loc[schools, "has_parent_school"] = True
        no_home = communities["has_children_home"].astype(str).str.lower() != "true"
        homes_new = no_home & (rng.random(len(communities)) < 0.15)
        communities.loc[homes_new, "has_children_home"] = True
        for _, community in communities[homes_new].iterrows():
            sim.add(
                "children_home",
                year,
                community["street_code"],
                {"community_code": community["id"], "status": "existing"},
                label="儿童之家",
                at=(community["x"], community["y"]),
            )

        stations = sim.layers["minor_protection_station"]
        covered = set(stations["street_code"])
        open_streets = [s for s in dataset.units["street"].index if s not in covered]
        for street in rng.choice(open_streets, size=min(8, len(open_streets)), replace=False):
            sim.add(
                "minor_protection_station",
                year,
                street,
                {"social_workers": 1, "child_supervisors": 2, "status": "existing"},
                label="未成年人保护工作站",
            )
        stations = sim.layers["minor_protection_station"]
        hires = (stations["social_workers"].astype(float) == 0) & (rng.random(len(stations)) < 0.15)
        stations.loc[hires, "social_workers"] = 1

        centres = sim.layers["community_health_centre"]
        short = (centres["child_health_doctors"].astype(float) < 2) & (
            rng.random(len(centres)) < 0.3
        )
        centres.loc[short, "child_health_doctors"] = centres.loc[short, "child_health_doctors"] + 1

        streets = dataset.units["street"]
        eligible = streets[streets["parent_code"] != "110119"]
        eligible = eligible[(eligible["parent_code"] != RENOVATED_DISTRICT) | (year >= 2023)]
        weights = eligible["pop_0_14"].to_numpy(dtype=float)
        for street in rng.choice(
            eligible.index.to_numpy(), size=8, replace=False, p=weights / weights.sum()
        ):
            sim.add(
                "child_service_org", year, street, {"status": "existing"}, label="儿童服务社会组织"
            )
        if year == 2023:
            welfare = sim.layers["child_welfare"]
            missing = [d for d in districts if d not in set(welfare["district_code"])]
            district = missing[0]
            streets_in, weights_in = sim.streets_of(district, "pop_0_14")
            sim.add(
                "child_welfare",
                year,
                streets_in[int(np.argmax(weights_in))],
                {"level": "district", "beds": 60, "status": "existing"},
                label="儿童福利机构",
            )

        states[year] = {
            "population": {d: (1 + _population_rate(d)) ** t for d in districts},
            "layers": {kind: frame.copy() for kind, frame in sim.layers.items()},
        }
    return states


def _plain(value):
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return int(number) if number.is_integer() else round(number, 3)
    return str(value)


def _text(value) -> str:
    value = _plain(value)
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _same(a, b) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return _plain(a) == _plain(b)


def events(dataset, states: dict[int, dict], crs) -> dict[str, pd.DataFrame]:
    """What happened each year, each event once: additions, attribute changes, removals and
    restorations, and population factors (relative to 2020)."""
    population = pd.DataFrame(
        [
            {"year": year, "district_code": code, "factor": f"{factor:.6f}"}
            for year, state in states.items()
            for code, factor in state["population"].items()
        ]
    )
    added, changed, removed = [], [], []
    previous = {
        kind: frame.assign(x=frame.geometry.x, y=frame.geometry.y).drop(columns="geometry")
        for kind, frame in dataset.layers.items()
    }
    for year, state in states.items():
        for kind in sorted(state["layers"]):
            now, before = state["layers"][kind], previous[kind]
            attributes = [
                a
                for a in dataset.layers[kind].columns
                if a
                not in (
                    "id",
                    "kind",
                    "name",
                    "status",
                    "source",
                    "location_quality",
                    "geometry",
                    "street_code",
                    "district_code",
                )
            ]
            new_rows = now[~now["id"].isin(before["id"])]
            ever = set(dataset.layers[kind]["id"]) | {r["id"] for r in added if r["kind"] == kind}
            fresh = new_rows[~new_rows["id"].isin(ever)]
            restored = new_rows[new_rows["id"].isin(ever)]
            if len(fresh):
                lonlat = gpd.GeoSeries(gpd.points_from_xy(fresh["x"], fresh["y"]), crs=crs).to_crs(
                    4326
                )
                for (_, row), point in zip(fresh.iterrows(), lonlat, strict=True):
                    added.append(
                        {
                            "kind": kind,
                            "id": row["id"],
                            "year": year,
                            "name": row["name"],
                            "lon": f"{point.x:.6f}",
                            "lat": f"{point.y:.6f}",
                            **{a: _text(row[a]) for a in attributes if pd.notna(row.get(a))},
                        }
                    )
            for facility_id in restored["id"]:
                removed.append({"kind": kind, "id": facility_id, "year": year, "event": "restore"})
            for facility_id in before.loc[~before["id"].isin(now["id"]), "id"]:
                removed.append({"kind": kind, "id": facility_id, "year": year, "event": "remove"})
            kept = now[now["id"].isin(before["id"])].set_index("id")
            then = before.set_index("id").loc[kept.index]
            for attribute in attributes:
                differs = [
                    not _same(a, b) for a, b in zip(kept[attribute], then[attribute], strict=True)
                ]
                for facility_id, value in kept.loc[differs, attribute].items():
                    changed.append(
                        {
                            "kind": kind,
                            "id": facility_id,
                            "year": year,
                            "attribute": attribute,
                            "value": _text(value),
                        }
                    )
            previous[kind] = now
    return {
        "population": population,
        "additions": pd.DataFrame(added),
        "changes": pd.DataFrame(changed),
        "removals": pd.DataFrame(removed),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "layers" / "demo_years"))
    args = parser.parse_args(argv)
    dataset = load_dataset(REPO)
    states = simulate(dataset)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in events(dataset, states, dataset.crs).items():
        io.write_csv(table, out / f"{name}.csv")
        print(f"{name}.csv: {len(table)} rows", table.groupby("year").size().to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
