"""The project store on both backends: save and load the Beijing default, and many writers.

1. Save the embedded Beijing default as a snapshot (a fresh store each time) and load it back,
   on the GeoPackage file and on PostGIS (a throw-away PostgreSQL 15 server started here with
   fsync on), against today's way of reading the data: ``load_dataset`` on the GeoJSON folder.
   Loads are timed twice: the frames alone (``load_snapshot_frames`` vs ``read_dataset_frames``)
   and the whole ``Dataset`` (projection and point assignment included, the same code for both).
   Each loaded dataset is checked to give the same coverage table as the folder.
2. 8 writer processes × 50 scenario saves each, in parallel, twice: all on one scenario (each save
   names the version it builds on; a save refused because another writer got in first is counted
   as a conflict and retried on top of the version the refusal names), then each writer on its
   own scenario (no conflicts: the write throughput).  Checked: versions 1..N with no gap or
   duplicate and every writer's 50 messages present exactly once.

Run: ``.venv/bin/python -m benchmarks.bench_store`` (about five minutes on two cores).
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from geo_coverage.coverage import evaluate
from geo_coverage.dataset import default_data_dir, load_dataset, read_dataset_frames
from geo_coverage.plan import default_plan

from .common import write_results

WRITERS = 8
SAVES = 50
REPEAT_SAVE = 3
REPEAT_LOAD = 7
SCENARIO = "bench: 通州养老"


def _folder_bytes(root: Path) -> int:
    return sum(
        f.stat().st_size
        for part in ("boundaries", "layers")
        for pattern in ("*.geojson", "*.parquet")  # the embedded default is GeoParquet
        for f in (root / part).glob(pattern)
    )


def _fresh_location(backend: str, folder: Path, server, counter: list) -> str:
    counter.append(1)
    if backend == "geopackage":
        return str(folder / f"store{len(counter)}.gpkg")
    return server.create_database(f"bench_{len(counter)}")


def _save_load(backend: str, folder: Path, server, reference: pd.DataFrame, plan) -> dict:
    from geo_coverage.store import open_store

    counter: list = []
    saves = []
    location = None
    for _ in range(REPEAT_SAVE):
        location = _fresh_location(backend, folder, server, counter)
        with open_store(location) as store:
            start = time.perf_counter()
            store.add_snapshot(
                default_data_dir(), year=2020, label="2020 census baseline", author="bench"
            )
            saves.append(time.perf_counter() - start)
    with open_store(location) as store:
        if backend == "geopackage":
            import sqlite3

            with sqlite3.connect(location) as connection:  # the file as it rests, log folded in
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
        size = store.info()["size_bytes"]
        frames = _paired(
            lambda: store.load_snapshot_frames(2020),
            lambda: read_dataset_frames(default_data_dir()),
        )
        whole = _paired(lambda: store.load_snapshot(2020), lambda: load_dataset())
        dataset = store.load_snapshot(2020)
    table = evaluate(dataset, plan)
    pd.testing.assert_frame_equal(reference, table, check_exact=True)
    return {
        "save_s_best": round(min(saves), 3),
        "save_s_median": round(statistics.median(saves), 3),
        "size_bytes": size,
        "load_frames": frames,
        "load_dataset": whole,
        "coverage_rows_equal": len(table),
    }


def _paired(store_load, folder_load) -> dict:
    """Store and folder loads timed in alternation (the machine is shared: its load drifts), with
    the median of the per-round ratios folder ÷ store (> 1: the store is faster)."""
    store_times, folder_times = [], []
    for _ in range(REPEAT_LOAD):
        for load, times in ((store_load, store_times), (folder_load, folder_times)):
            start = time.perf_counter()
            load()
            times.append(time.perf_counter() - start)
    ratios = [f / s for f, s in zip(folder_times, store_times, strict=True)]
    return {
        "store_s_best": round(min(store_times), 3),
        "store_s_median": round(statistics.median(store_times), 3),
        "geojson_s_best": round(min(folder_times), 3),
        "geojson_s_median": round(statistics.median(folder_times), 3),
        "geojson_over_store_median_ratio": round(statistics.median(ratios), 2),
    }


def _writer(location: str, writer: int, shared: bool, barrier, queue) -> None:
    from geo_coverage.scenario import scenario_from_edits
    from geo_coverage.store import ConflictError, open_store

    name = SCENARIO if shared else f"{SCENARIO} {writer}"
    conflicts = 0
    with open_store(location, create=False) as store:
        barrier.wait()
        latest = store.get_scenario(name).version
        for i in range(SAVES):
            edit = {
                "action": "population",
                "level": "district",
                "code": "110112",
                "factor": 1 + (writer * SAVES + i) / 1e4,
            }
            scenario = scenario_from_edits(name, [edit])
            while True:
                try:
                    latest = store.save_scenario(
                        scenario,
                        message=f"w{writer}-{i}",
                        base_version=latest,
                        author=f"writer{writer}",
                    ).version
                    break
                except ConflictError as refused:  # someone got in first: retry on top of theirs
                    conflicts += 1
                    latest = refused.latest
    queue.put((writer, conflicts))


def _writers(location: str, *, shared: bool) -> dict:
    """8 processes x 50 saves: on one shared scenario (conflicts), or each on its own."""
    from geo_coverage.scenario import scenario_from_edits
    from geo_coverage.store import open_store

    names = [SCENARIO] if shared else [f"{SCENARIO} {w}" for w in range(WRITERS)]
    with open_store(location) as store:
        for name in names:
            store.save_scenario(scenario_from_edits(name, []), message="start", author="bench")
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(WRITERS + 1), context.Queue()
    processes = [
        context.Process(target=_writer, args=(location, w, shared, barrier, queue))
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    results = [queue.get(timeout=900) for _ in processes]
    seconds = time.perf_counter() - start
    for process in processes:
        process.join(timeout=60)
    with open_store(location, create=False) as store:
        histories = [store.scenario_history(name) for name in names]
    messages = [v.message for history in histories for v in history[1:]]
    expected = {f"w{w}-{i}" for w in range(WRITERS) for i in range(SAVES)}
    lost = len(expected - set(messages))
    duplicated = len(messages) - len(set(messages))
    for history in histories:
        assert [v.version for v in history] == list(range(1, len(history) + 1)), "version gap"
    assert lost == 0 and duplicated == 0, (lost, duplicated)
    return {
        "scenarios": len(names),
        "writers": WRITERS,
        "saves_each": SAVES,
        "versions": sum(len(h) for h in histories),
        "lost": lost,
        "duplicated": duplicated,
        "conflicts_refused_and_retried": sum(c for _, c in results),
        "seconds": round(seconds, 2),
        "saves_per_second": round(WRITERS * SAVES / seconds, 1),
    }


def main() -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.store_support import PostgresServer

    plan = default_plan()
    reference = evaluate(load_dataset(), plan)
    out = {
        "dataset": "embedded Beijing default (348 units, 22,649 facilities in 13 layers)",
        "geojson_folder_bytes": _folder_bytes(default_data_dir()),
    }
    server = PostgresServer(durable=True)
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
            for backend in ("geopackage", "postgis"):
                result = _save_load(backend, Path(folder), server, reference, plan)
                location = (
                    str(Path(folder) / "writers.gpkg")
                    if backend == "geopackage"
                    else server.create_database("bench_writers")
                )
                result["parallel_saves_one_scenario"] = _writers(location, shared=True)
                result["parallel_saves_own_scenarios"] = _writers(location, shared=False)
                out[backend] = result
                print(backend, result, flush=True)
    finally:
        server.stop()
    out["notes"] = (
        "load_*: the store and the GeoJSON folder timed in alternation; ratio > 1: the store "
        "is that many times faster (load_frames: the saved frames vs read_dataset_frames; "
        "load_dataset: the whole Dataset vs load_dataset, the same projection and point "
        "assignment in both); PostgreSQL 15 + PostGIS 3 on the same machine over TCP, fsync "
        "on; the GeoPackage in WAL mode with synchronous=FULL; size = the file after a "
        "checkpoint / the gc_ tables with indexes and TOAST"
    )
    path = write_results("store", out)
    print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
