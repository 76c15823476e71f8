"""The Dask engine against one machine: every county of China, and 2SFCA on demand grids.

    python -m benchmarks.bench_engine [--data build/china_2020_county] [--part counties|fca|oom|all]

Needs the national dataset (``make national-data``; SYNTHETIC facilities, census population).

* ``counties``: every ratio / share / count indicator of the plan for every province and county,
  one machine against a LocalCluster of 1 and 2 workers (cluster start-up timed apart).
* ``fca``: 2SFCA (30-minute drive, straight line × 1.3, step decay) on a population grid read by
  windows from a GeoTIFF, at several cell sizes over a province-sized subset: the one-machine
  path in a child process (its peak RSS), and 2 Dask workers (each worker's peak RSS).
* ``oom``: a grid too fine for the one-machine path under an address-space limit (setrlimit in
  the child: it fails with MemoryError instead of swapping) completes on 2 workers whose memory
  limits are below that limit, with partitions sized to them.

Results in benchmarks/results/engine.json.  The machine is shared (2 cores): run with nice.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import write_results
from geo_coverage.engine.partitioned import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
FCA = "elderly_beds_accessible_per_1000"
PLAIN = ("ratio", "share", "count")


def _subset(dataset, provinces):
    """The dataset cut to some provinces (their counties and the facilities inside)."""
    from types import MappingProxyType

    from geo_coverage.dataset import Dataset

    districts = dataset.units["district"].loc[list(provinces)]
    streets = dataset.units["street"]
    streets = streets[streets["parent_code"].isin(provinces)]
    layers = {k: f[f["district_code"].isin(provinces)].reset_index(drop=True)
              for k, f in dataset.layers.items()}
    city = dataset.units["city"].copy()
    city["pop_total"] = float(districts["pop_total"].sum())
    return Dataset(units=MappingProxyType({"city": city, "district": districts, "street": streets}),
                   layers=MappingProxyType(layers), crs=dataset.crs, name="subset")


def _subset_dir(data: Path, provinces, tmp: Path) -> Path:
    """A data folder of some provinces (written once), so runs load only what they use."""
    from geo_coverage import io

    if list(provinces) == ["all"]:
        return data
    target = tmp / ("subset_" + "_".join(provinces))
    if (target / "dataset.yaml").exists():
        return target
    dataset = _subset(_load(data)[0], provinces)
    (target / "boundaries").mkdir(parents=True, exist_ok=True)
    (target / "layers").mkdir(exist_ok=True)
    for level, name in (("city", "city"), ("district", "districts"), ("street", "streets")):
        io.write_bytes(io.dataframe_to_geojson_bytes(dataset.units[level].to_crs(4326)),
                       target / "boundaries" / f"{name}.geojson")
    for kind, frame in dataset.layers.items():
        frame = frame.drop(columns=["street_code", "district_code"]).to_crs(4326)
        io.write_bytes(io.dataframe_to_geojson_bytes(frame), target / "layers" / f"{kind}.geojson")
    io.write_yaml({"name": "subset " + ",".join(provinces), "crs": str(dataset.crs)},
                  target / "dataset.yaml")
    return target


def _load(data: Path):
    from geo_coverage.dataset import load_dataset

    start = time.perf_counter()
    dataset = load_dataset(data)
    return dataset, time.perf_counter() - start


def bench_counties(data: Path) -> dict:
    from geo_coverage.coverage import evaluate
    from geo_coverage.engine import make_engine
    from geo_coverage.plan import default_plan

    dataset, load_s = _load(data)
    plan = default_plan()
    ids = [i.id for i in plan.all_indicators if i.type in PLAIN]
    options = {"levels": ["district", "street"], "indicators": ids}
    start = time.perf_counter()
    local = evaluate(dataset, plan, **options)
    local_s = time.perf_counter() - start
    out = {"units": {k: len(v) for k, v in dataset.units.items()},
           "facilities": int(sum(len(f) for f in dataset.layers.values())),
           "indicators": len(ids), "rows": len(local), "load_seconds": round(load_s, 1),
           "local_seconds": round(local_s, 2)}
    for workers in (1, 2):
        with make_engine("dask", n_workers=workers, memory_limit="4GB", progress=False) as engine:
            start = time.perf_counter()
            engine.start()
            startup = time.perf_counter() - start
            start = time.perf_counter()
            table = engine.evaluate(dataset, plan, **options)
            seconds = time.perf_counter() - start
        same = table.to_json() == local.to_json()
        out[f"dask_{workers}_workers"] = {"startup_seconds": round(startup, 1),
                                          "seconds": round(seconds, 2), "identical": same}
    return out


def _fca_settings(resolution: float, raster: Path):
    from geo_coverage.access import AccessSettings

    return AccessSettings(resolution_m=resolution, raster=str(raster))


def _write_raster(dataset, resolution: float, target: Path) -> Path:
    """The units' populations as a GeoTIFF at ``resolution`` (the demand source of every run)."""
    from geo_coverage.population import write_population_raster

    if not target.exists():
        write_population_raster(dataset, target, resolution_m=resolution)
    return target


def child_local(args) -> None:
    """One-machine 2SFCA in this (child) process; prints seconds, peak RSS, the numerators."""
    if args.limit_gb:
        limit = int(args.limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from geo_coverage.coverage import evaluate
    from geo_coverage.plan import default_plan

    dataset = _load(args.data)[0]
    start = time.perf_counter()
    try:
        table = evaluate(dataset, default_plan(), levels=["street"], indicators=[FCA],
                         include_companions=True,
                         access_settings=_fca_settings(args.resolution, Path(args.raster)))
    except MemoryError:
        print(json.dumps({"error": "MemoryError", "seconds": time.perf_counter() - start,
                          "peak_rss_mb": peak_rss_mb()}))
        return
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "peak_rss_mb": peak_rss_mb(),
                      "numerator": table["numerator"].tolist()}))


def _run_local(data, provinces, resolution, raster, limit_gb=None) -> dict:
    command = [sys.executable, "-m", "benchmarks.bench_engine", "--child-local", "--data", str(data),
               "--resolution", str(resolution),
               "--raster", str(raster)]
    if limit_gb:
        command += ["--limit-gb", str(limit_gb)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(lines[-1])


def _run_dask(dataset, resolution, raster, *, workers=2, memory="4GB", partitions=None) -> dict:
    from geo_coverage.engine import make_engine
    from geo_coverage.plan import default_plan

    with make_engine("dask", n_workers=workers, memory_limit=memory, partitions=partitions,
                     progress=False) as engine:
        engine.start()
        start = time.perf_counter()
        table = engine.evaluate(dataset, default_plan(), levels=["street"], indicators=[FCA],
                                access_settings=_fca_settings(resolution, raster))
        seconds = time.perf_counter() - start
        stats = engine.stats
    peaks: dict = {}
    for s in stats:
        peaks[s["pid"]] = max(peaks.get(s["pid"], 0.0), s["peak_rss_mb"])
    return {"seconds": round(seconds, 1), "partitions": len(stats), "worker_memory_limit": memory,
            "worker_peak_rss_mb": sorted(round(v) for v in peaks.values()),
            "demand_cells": int(sum(s["demand_cells"] for s in stats)),
            "numerator": table["numerator"].tolist()}


def _compare(local: dict, dask: dict) -> float | None:
    if "numerator" not in local:
        return None
    a, b = np.asarray(local["numerator"], float), np.asarray(dask["numerator"], float)
    return float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(a), 1.0)))


def bench_fca(data: Path, provinces, resolutions, *, tmp: Path) -> dict:
    data = _subset_dir(data, provinces, tmp)
    dataset = _load(data)[0]
    rows = []
    for resolution in resolutions:
        raster = _write_raster(dataset, resolution, tmp / f"pop_{'_'.join(provinces)}_{int(resolution)}.tif")
        local = _run_local(data, provinces, resolution, raster)
        dask = _run_dask(dataset, resolution, raster)
        rows.append({"resolution_m": resolution, "counties": len(dataset.units["street"]),
                     "local_seconds": round(local.get("seconds", float("nan")), 1),
                     "local_peak_rss_mb": round(local.get("peak_rss_mb", float("nan"))),
                     "dask_2_workers_seconds": dask["seconds"], "dask_partitions": dask["partitions"],
                     "dask_worker_peak_rss_mb": dask["worker_peak_rss_mb"],
                     "dask_demand_cells_incl_halo": dask["demand_cells"],
                     "max_relative_difference": _compare(local, dask), "local_error": local.get("error")})
        print(json.dumps(rows[-1]), flush=True)
    return {"provinces": provinces, "catchment": "30 min drive at 30 km/h, straight line ÷ 1.3 "
            "(11.5 km), step decay", "rows": rows}


def bench_oom(data: Path, provinces, resolution, *, limit_gb: float, worker_memory: str,
              tmp: Path) -> dict:
    data = _subset_dir(data, provinces, tmp)
    dataset = _load(data)[0]
    raster = _write_raster(dataset, resolution, tmp / f"pop_{'_'.join(provinces)}_{int(resolution)}.tif")
    local = _run_local(data, provinces, resolution, raster, limit_gb=limit_gb)
    dask = _run_dask(dataset, resolution, raster, memory=worker_memory)
    dask.pop("numerator")
    local.pop("numerator", None)
    return {"provinces": provinces, "resolution_m": resolution,
            "local_address_space_limit_gb": limit_gb, "local": local, "dask_2_workers": dask}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT / "build" / "china_2020_county")
    parser.add_argument("--part", default="all", choices=("counties", "fca", "oom", "all"))
    parser.add_argument("--provinces", default="410000",
                        help="subset for fca/oom (河南 by default; 'all': the whole country)")
    parser.add_argument("--resolutions", default="2000,1000")
    parser.add_argument("--fine", type=float, default=250.0)
    parser.add_argument("--limit-gb", type=float, default=None)
    parser.add_argument("--worker-memory", default="1.5GB")
    parser.add_argument("--child-local", action="store_true")
    parser.add_argument("--resolution", type=float)
    parser.add_argument("--raster")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    if args.child_local:
        child_local(args)
        return
    if not (args.data / "boundaries" / "streets.geojson").exists():
        print(f"skipped: {args.data} missing (make national-data)")
        return
    tmp = ROOT / "build" / "bench_engine"
    tmp.mkdir(parents=True, exist_ok=True)
    results_path = ROOT / "benchmarks" / "results" / "engine.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    provinces = args.provinces.split(",")
    if args.part in ("counties", "all"):
        results["counties"] = bench_counties(args.data)
        print(json.dumps(results["counties"]), flush=True)
    if args.part in ("fca", "all"):
        results["fca"] = bench_fca(args.data, provinces,
                                   [float(r) for r in args.resolutions.split(",")], tmp=tmp)
    if args.part in ("oom", "all"):
        results["oom"] = bench_oom(args.data, provinces, args.fine, limit_gb=args.limit_gb or 3.0,
                                   worker_memory=args.worker_memory, tmp=tmp)
        print(json.dumps(results["oom"]), flush=True)
    results.pop("machine", None)
    results.pop("python", None)
    write_results("engine", results)


if __name__ == "__main__":
    main()
