"""Rebuild the example scenarios in scenarios/ from the embedded default data (deterministic).

Run: ``.venv/bin/python scripts/build_example_scenarios.py``

* ``neonatal_centre_every_district.yaml``: one critical-newborn rescue centre in every district
  that has none, at the representative point of the district's most populous street (a stand-in
  for "a large hospital in the district's population centre"; a planner replaces it with the
  host hospital's coordinates).
* ``elderly_beds_2025.yaml``: population growth to 2025 (Tongzhou +8 %, as the sub-centre grows;
  Daxing and Changping +5 %) and enough 400-bed care homes in every district still short of
  7 beds per 1,000 after growth to close its gap, placed one per street from the most populous.
* ``mother_baby_rooms_walk.yaml``: ten mother-baby rooms in Shijingshan's public venues, chosen
  by the maximal-coverage model for the 15-minute walk (1,000 m).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo_coverage.coverage import evaluate  # noqa: E402
from geo_coverage.dataset import load_dataset  # noqa: E402
from geo_coverage.plan import default_plan  # noqa: E402
from geo_coverage.scenario import apply, parse_scenario, save_scenario, scenario_to_dict  # noqa: E402
from geo_coverage.siting import propose_sites  # noqa: E402

OUT = ROOT / "scenarios"
HOME_BEDS = 400
GROWTH = {"110112": ("通州区", 1.08), "110115": ("大兴区", 1.05), "110114": ("昌平区", 1.05)}


def lon_lat(points, crs) -> list[tuple[float, float]]:
    wgs = gpd.GeoSeries(points, crs=crs).to_crs(4326)
    return [(round(float(p.x), 6), round(float(p.y), 6)) for p in wgs]


def streets_by_population(dataset, district: str):
    streets = dataset.units["street"]
    inside = streets[streets["parent_code"] == district].reset_index(drop=True)
    return inside.sort_values(["pop_total", "code"], ascending=[False, True], kind="mergesort")


def neonatal(dataset, plan):
    table = evaluate(dataset, plan, indicators=["neonatal_centres_per_district"], include_companions=False)
    lacking = table[(table.level == "district") & (table.numerator == 0)].unit_code.tolist()
    names = dataset.units["district"]["name"]
    edits = []
    for code in lacking:
        street = streets_by_population(dataset, code).iloc[0]
        (lon, lat), = lon_lat([street.geometry.representative_point()], dataset.crs)
        edits.append({"action": "add", "kind": "neonatal_centre", "id": f"NC-{code}",
                      "name": f"{names[code]}危重新生儿救治中心（拟建）", "lon": lon, "lat": lat, "datum": "wgs84",
                      "attributes": {"level": "district",
                                     "host_hospital": f"待定：{street['name']}附近的综合医院"}})
    return {
        "name": "每区一个危重新生儿救治中心",
        "description": (f"A critical-newborn rescue centre in each of the {len(edits)} districts that have "
                        "none (plan: at least one per district). Each is placed at the representative point "
                        "of the district's most populous street as a stand-in for a host hospital in its "
                        "population centre; replace the coordinates with the chosen hospital's."),
        "base": "default",
        "edits": edits,
    }


def elderly(dataset, plan):
    growth = [{"action": "population", "level": "district", "code": code, "year": 2025,
               "annual_growth": round(factor ** (1 / 5) - 1, 6)} for code, (_, factor) in GROWTH.items()]
    grown = apply(parse_scenario({"name": "growth", "edits": growth}), dataset, plan)
    table = evaluate(grown, plan, levels=["district"], indicators=["elderly_beds_per_1000"],
                     include_companions=False)
    short = table[table.status == "gap"].sort_values("unit_code")
    names = dataset.units["district"]["name"]
    edits = list(growth)
    homes = 0
    for code, shortfall in zip(short.unit_code, short.shortfall, strict=True):
        count = math.ceil(shortfall / HOME_BEDS)
        streets = streets_by_population(dataset, code)
        places = lon_lat(streets.geometry.representative_point().to_numpy()[np.arange(count) % len(streets)],
                         dataset.crs)
        for number, (lon, lat) in enumerate(places, start=1):
            edits.append({"action": "add", "kind": "elderly_care", "id": f"EC2025-{code}-{number:02d}",
                          "name": f"{names[code]}新建养老院{number}", "lon": lon, "lat": lat, "datum": "wgs84",
                          "attributes": {"beds": HOME_BEDS, "nursing_beds": int(HOME_BEDS * 0.6),
                                         "medical_integration": True}})
        homes += count
    grown_text = ", ".join(f"{name} ×{factor:g}" for name, factor in GROWTH.values())
    return {
        "name": "2025年养老床位达标",
        "description": (f"Population grows to 2025 ({grown_text}, written as annual rates from the 2020 "
                        f"census); {homes} new {HOME_BEDS}-bed care homes (60 % nursing beds, with medical "
                        "care) close the gap to 7 beds per 1,000 residents in every district and the city. "
                        "Homes go one per street from each district's most populous, so individual streets "
                        "can still fall short."),
        "base": "default",
        "edits": edits,
    }


def rooms(dataset, plan):
    proposal = propose_sites(dataset, plan, indicator="mother_baby_room_access", new_sites=10,
                             candidates="layer:public_venue", units=["110107"], time_limit=120)
    solution = proposal.solution
    edits = []
    for edit in proposal.edits:
        edit = dict(edit)
        edit["attributes"] = {"venue_type": "public venue"}
        edit["lon"], edit["lat"] = round(edit["lon"], 6), round(edit["lat"], 6)
        edits.append(edit)
    return {
        "name": "石景山母婴室步行覆盖",
        "description": (f"Ten mother-baby rooms in Shijingshan's public venues, chosen by the maximal-coverage "
                        f"model (HiGHS, {solution.status}, gap {solution.gap:.2%}) to reach the most residents "
                        f"within the 15-minute walk (1,000 m of travel) on top of the existing rooms; "
                        f"{solution.coverage_share:.1%} of the district's residents are then within reach. "
                        "Reproduce with: geo-coverage scenario optimize --indicator mother_baby_room_access "
                        "--new-sites 10 --candidates layer:public_venue --units 110107"),
        "base": "default",
        "edits": edits,
    }


def main() -> None:
    dataset = load_dataset()
    plan = default_plan()
    for name, build in (("neonatal_centre_every_district", neonatal), ("elderly_beds_2025", elderly),
                        ("mother_baby_rooms_walk", rooms)):
        scenario = parse_scenario(build(dataset, plan), origin=str(OUT / f"{name}.yaml"))
        path = save_scenario(scenario, OUT / f"{name}.yaml")
        print(f"{path}: {len(scenario_to_dict(scenario)['edits'])} edits")


if __name__ == "__main__":
    main()
