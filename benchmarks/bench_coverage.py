"""All indicators at all levels on the embedded default, against the geopandas way.

The peer is what an analyst would write by hand with geopandas: for each indicator and level,
``sjoin`` the facility layer onto the unit polygons, ``groupby`` the unit, sum, divide.  Both
give the same numerators (checked below); the ratio is peer time ÷ ours.

Run: ``.venv/bin/python -m benchmarks.bench_coverage``
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo_coverage.coverage import COUNTED_STATUSES, evaluate, facility_values
from geo_coverage.dataset import load_dataset
from geo_coverage.plan import default_plan

from .common import best_of, write_results


def geopandas_way(dataset, plan):
    """Numerators per (indicator, level, unit) by sjoin + groupby, per indicator and level."""
    out = {}
    for ind in plan.indicators:
        if ind.type not in ("ratio", "share", "count"):
            continue
        layer = dataset.layer(ind.layer)
        if layer is None:
            continue
        points = layer[layer["status"].isin(COUNTED_STATUSES)].drop(
            columns=["street_code", "district_code"])
        points = points.assign(_value=facility_values(points, ind.numerator))
        for level in ind.levels:
            units = dataset.units[level][["code", "geometry"]].reset_index(drop=True)
            joined = gpd.sjoin(points, units, predicate="within", how="inner")
            out[(ind.id, level)] = joined.groupby("code")["_value"].sum()
    return out


def main() -> None:
    dataset = load_dataset()
    plan = default_plan()
    plain = [i.id for i in plan.all_indicators if i.type in ("ratio", "share", "count")]
    ours_best, ours_median, table = best_of(lambda: evaluate(dataset, plan, indicators=plain), repeat=7)
    all_best, all_median, _ = best_of(lambda: evaluate(dataset, plan), repeat=3)
    peer_best, peer_median, peer = best_of(lambda: geopandas_way(dataset, plan), repeat=3)
    # Same numerators (points on shared edges aside, which sjoin may count twice).
    worst = 0.0
    for (ind, level), series in peer.items():
        rows = table[(table.indicator == ind) & (table.level == level)].set_index("unit_code")
        theirs = series.reindex(rows.index).fillna(0.0).to_numpy()
        worst = max(worst, float(np.max(np.abs(theirs - rows["numerator"].to_numpy()))))
    results = {
        "units": {level: len(frame) for level, frame in dataset.units.items()},
        "facilities": int(sum(len(f) for f in dataset.layers.values())),
        "rows": int(len(table)),
        "ours_ratio_share_count_seconds_best": round(ours_best, 4),
        "ours_all_indicators_seconds_best": round(all_best, 4),
        "ours_all_indicators_seconds_median": round(all_median, 4),
        "geopandas_sjoin_groupby_seconds_best": round(peer_best, 4),
        "speedup_vs_geopandas": round(peer_best / ours_best, 1),
        "max_numerator_difference": worst,
    }
    path = write_results("coverage", results)
    for key, value in results.items():
        print(f"{key}: {value}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
