"""Monitoring on the embedded default: 5 years × every indicator × street level, and a district's
mid-term report end to end.

1. The series.  Each demo year is evaluated once; 2021–2024 are re-evaluated incrementally from the
   2020 table (``demo_tables``: only what the year's events touched, with the baseline's demand grid
   and catchments).  The peer is what a planner would otherwise do: a full ``evaluate`` of every
   year's dataset (the same tables, checked equal).  Times are cumulative over 1…5 years, so the
   growth with years shows.
2. The trajectories over the 5-year series (every unit × indicator at every level): our grouped
   sums against the obvious pandas way, ``groupby(...).apply`` with ``numpy.polyfit`` per unit ×
   indicator (same slopes, checked).
3. ``geo-coverage assess --stage midterm --year 2023 --district 110105`` as a fresh process, to
   .docx and to .pdf (imports, data, series, report): wall seconds and CPU seconds (the machine is
   shared, so CPU time is the steadier figure).

Run: ``.venv/bin/python -m benchmarks.bench_monitor``
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo_coverage.coverage import evaluate
from geo_coverage.dataset import load_dataset
from geo_coverage.monitor import series_from_tables, trajectories
from geo_coverage.monitor.demo import demo_dataset, demo_events, demo_scenario
from geo_coverage.plan import default_plan
from geo_coverage.scenario import evaluate_scenario

from .common import best_of, write_results

REPO = Path(__file__).resolve().parents[1]


def _polyfit_slopes(series: pd.DataFrame) -> pd.Series:
    points = series[series["value"].notna()]

    def slope(group):
        return np.polyfit(group["year"], group["value"], 1)[0] if len(group) >= 2 else np.nan

    return points.groupby(["level", "unit_code", "indicator"]).apply(slope, include_groups=False)


def _series_times(plan, base, events) -> dict:
    years = [2020, *events.years]
    out = {"years": years, "incremental_cumulative_s": [], "full_cumulative_s": []}
    start = time.perf_counter()
    base_table = evaluate(base, plan)  # first call: builds the demand grid and catchments
    out["baseline_first_evaluation_s"] = round(time.perf_counter() - start, 2)
    incremental_total = full_total = 0.0
    for year in years:
        if year == 2020:
            seconds, _, table = best_of(lambda: evaluate(base, plan), repeat=1)
            incremental_total += seconds
            full_total += seconds
        else:
            dataset = demo_dataset(year, base, events, plan)
            scenario = demo_scenario(year, events)
            seconds, _, table = best_of(lambda d=dataset, s=scenario: evaluate_scenario(
                base_table, base, d, plan, s), repeat=1)
            incremental_total += seconds
            seconds_full, _, full = best_of(lambda d=dataset: evaluate(d, plan), repeat=1)
            full_total += seconds_full
            pd.testing.assert_frame_equal(table.reset_index(drop=True), full.reset_index(drop=True),
                                          check_exact=False, rtol=1e-9, atol=1e-9)
        out["incremental_cumulative_s"].append(round(incremental_total, 2))
        out["full_cumulative_s"].append(round(full_total, 2))
    out["rows_per_year"] = len(base_table)
    return out


def _trajectory_times(plan, base, events) -> dict:
    from geo_coverage.monitor.demo import demo_tables

    tables = demo_tables(plan, base=base)
    series = series_from_tables(tables)
    ours, _, monitored = best_of(lambda: trajectories(series, plan), repeat=3)
    peer, _, slopes = best_of(lambda: _polyfit_slopes(series), repeat=1)
    check = monitored.set_index(["level", "unit_code", "indicator"])["observed_per_year"]
    np.testing.assert_allclose(check.reindex(slopes.index).to_numpy(dtype=float), slopes.to_numpy(dtype=float),
                               rtol=1e-6, atol=1e-9)
    return {"series_rows": len(series), "units_x_indicators": len(monitored), "ours_s": round(ours, 3),
            "groupby_apply_polyfit_s": round(peer, 3), "ratio": round(peer / ours, 1)}


def _report_times() -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for suffix in ("docx", "pdf"):
            target = Path(folder) / f"chaoyang.{suffix}"
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "geo_coverage", "assess", "--stage", "midterm", "--year", "2023",
                            "--district", "110105", "--out", str(target)], check=True, cwd=REPO,
                           capture_output=True)
            out[f"{suffix}_s"] = round(time.perf_counter() - start, 1)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            out[f"{suffix}_cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)
            out[f"{suffix}_bytes"] = target.stat().st_size
    return out


def main() -> None:
    plan = default_plan()
    base = load_dataset()
    events = demo_events()
    series = _series_times(plan, base, events)
    print("series (street level, every indicator): years", series["years"])
    print("  incremental cumulative s", series["incremental_cumulative_s"])
    print("  full evaluation cumulative s", series["full_cumulative_s"])
    trajectory = _trajectory_times(plan, base, events)
    print("trajectories", trajectory)
    reports = _report_times()
    print("mid-term report of 110105, fresh process", reports)
    write_results("monitor", {"series": series, "trajectories": trajectory, "report_midterm_110105": reports,
                              "note": "2 cores shared with other work; wall-clock seconds, one run each"})


if __name__ == "__main__":
    main()
