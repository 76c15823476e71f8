"""The Dask engine: partitions evaluated on a ``dask.distributed`` cluster.

By default a :class:`distributed.LocalCluster` sized to the machine (one single-threaded worker
process per core, each with an equal share of the memory); ``scheduler=ADDRESS`` uses a cluster a
bureau already runs (``tcp://host:8786``).  dask is imported only here, and only when the engine
starts.

Memory bound: every worker has ``memory_limit`` bytes (the nanny pauses a worker at 80 % and
restarts it at 95 %), and partitions are sized so that one partition's demand grid and catchment
fit a quarter of it (:func:`auto_partitions`); no task ever holds the whole country's grid.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import shapely

from .._compat import require
from ..errors import DataError
from ..population import finest_level
from .partitioned import (
    ACCESS_TYPES,
    PartitionJob,
    PartitionResult,
    evaluate_partitioned,
    halo_radius_m,
    run_partition,
)

__all__ = ["DaskEngine", "auto_partitions", "BYTES_PER_DEMAND_CELL"]

# Measured on the Beijing default (benchmarks/bench_engine.py): demand points with five
# population columns, their KD-tree, the rasterised grid and a 2SFCA catchment cost about this
# much per 100 m cell of a partition's core and halo.
BYTES_PER_DEMAND_CELL = 400.0


def _require_dask():
    needs = {"message": "The Dask engine needs dask.distributed.",
             "fix": "pip install 'geo-coverage[dask]' (or use --engine local).", "error": DataError}
    require("dask", **needs)
    return require("distributed", **needs)


def _parse_memory(value) -> int | None:
    if value is None or value == "auto":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    from dask.utils import parse_bytes

    try:
        return int(parse_bytes(str(value)))
    except ValueError:
        raise DataError(f"Bad memory size '{value}'.", fix="Write it like 4GB or 512MiB.") from None


def auto_partitions(dataset, plan, *, indicators=None, include_companions=True, settings=None,
                    n_workers: int, memory_limit: int) -> int:
    """Partitions enough for every worker to have work and for one partition's demand grid (core
    and halo, at ``settings.resolution_m``) to take at most a quarter of a worker's memory."""
    from ..access import AccessSettings

    settings = settings or AccessSettings()
    chosen = plan.indicators_for(list(indicators) if indicators else None,
                                 include_companions=include_companions)
    n = max(1, n_workers)
    if not any(ind.type in ACCESS_TYPES for ind in chosen):
        return n
    units = dataset.units_at(finest_level(dataset))
    radius = halo_radius_m(chosen, settings)
    area = float(shapely.area(units.geometry.values).sum())
    cells = area / settings.resolution_m ** 2
    budget = memory_limit / 4.0
    # Each partition also carries a halo of width 2r around it; a square partition of side s
    # holds (s + 4r)² of grid.  Solve for the number of partitions whose grid fits the budget.
    side_budget = math.sqrt(budget / BYTES_PER_DEMAND_CELL) * settings.resolution_m - 4.0 * radius
    if side_budget <= 0:
        return len(units)
    return max(n, math.ceil(cells * settings.resolution_m ** 2 / side_budget ** 2))


class DaskEngine:
    """Evaluate on a Dask cluster.  Use as a context manager (it closes what it started), or
    call :meth:`close`; the cluster starts on first use.

    Parameters
    ----------
    scheduler
        Address of a running scheduler; ``None`` starts a LocalCluster.
    n_workers
        LocalCluster workers (default: the machine's cores).
    memory_limit
        Per-worker memory for the LocalCluster, e.g. ``"4GB"`` (default: the machine's memory
        divided among the workers).
    partitions
        Number of partitions (default: :func:`auto_partitions`).
    progress
        Print the dashboard link and a progress bar on standard error.
    dashboard
        Serve the dashboard (a LocalCluster picks a free port).
    connect_timeout
        How long to try reaching ``scheduler``.
    """

    name = "dask"

    def __init__(self, *, scheduler: str | None = None, n_workers: int | None = None,
                 memory_limit=None, partitions: int | None = None, progress: bool = True,
                 dashboard: bool = True, stream=None, connect_timeout: str = "20s"):
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.memory_limit = _parse_memory(memory_limit)
        self.partitions = partitions
        self.progress = progress
        self.dashboard = dashboard
        self.stream = stream if stream is not None else sys.stderr
        self.connect_timeout = connect_timeout
        # A distributed.Client / LocalCluster once started (distributed is imported only then).
        self.client: Any = None
        self.cluster: Any = None
        self.stats: list[dict] = []

    # --- the cluster ----------------------------------------------------------------------------

    def start(self):
        """Connect to the scheduler or start the LocalCluster (once)."""
        if self.client is not None:
            return self.client
        distributed = _require_dask()
        if self.scheduler:
            try:
                self.client = distributed.Client(self.scheduler, timeout=self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise DataError(f"Cannot reach the Dask scheduler at {self.scheduler}: {exc}",
                                fix="Check the address (tcp://host:8786) and that the scheduler "
                                    "runs, or leave out --scheduler for a local cluster.") from None
        else:
            n_workers = self.n_workers or os.cpu_count() or 1
            memory = self.memory_limit or "auto"
            self.cluster = distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, memory_limit=memory,
                # A free port always (several people may run clusters on one machine).
                dashboard_address=":0",
                scheduler_kwargs={} if self.dashboard else {"dashboard": False})
            self.client = distributed.Client(self.cluster)
        if self.progress:
            workers = self.worker_memory()
            limits = ", ".join(f"{m / 2**30:.1f} GiB" for m in workers.values())
            link = self.client.dashboard_link if self.dashboard or self.scheduler else "(off)"
            print(f"Dask: {len(workers)} workers (memory limit each: {limits}); dashboard {link}",
                  file=self.stream)
        return self.client

    def worker_memory(self) -> dict:
        """``worker address -> memory_limit`` in bytes (0 when unlimited)."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {address: int(w.get("memory_limit") or 0) for address, w in info.items()}

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None

    def __enter__(self):  # the cluster starts when first needed (start() or evaluate())
        return self

    def __exit__(self, *exc):
        self.close()

    # --- evaluation -----------------------------------------------------------------------------

    def run_all(self, jobs: list[PartitionJob]) -> Iterator[PartitionResult]:
        """Run the jobs, yield results as they finish.  Each job travels inside its task (not
        scattered): a worker the nanny restarts for exceeding its memory loses nothing, the
        scheduler runs the task again elsewhere."""
        distributed = _require_dask()
        client = self.start()
        start = time.perf_counter()
        futures = [client.submit(run_partition, job, pure=False) for job in jobs]
        done = 0
        self._bar(done, len(futures), start)
        try:
            for future in distributed.as_completed(futures):
                result = future.result()
                done += 1
                self._bar(done, len(futures), start)
                future.release()
                yield result
        finally:
            if self.progress:
                print(file=self.stream)

    def _bar(self, done: int, total: int, start: float) -> None:
        if not self.progress:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        print(f"\rpartitions [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
              f"{time.perf_counter() - start:6.1f} s", end="", file=self.stream, flush=True)

    def evaluate(self, dataset, plan, *, levels=None, indicators=None, include_companions=True,
                 access_settings=None, target_overrides=None):
        """:func:`geo_coverage.coverage.evaluate`, partition by partition on the cluster."""
        self.start()
        partitions = self.partitions
        if partitions is None:
            memory = [m for m in self.worker_memory().values() if m > 0]
            partitions = auto_partitions(
                dataset, plan, indicators=indicators, include_companions=include_companions,
                settings=access_settings, n_workers=len(self.worker_memory()),
                memory_limit=min(memory) if memory else 4 * 2**30)
        self.stats = []
        return evaluate_partitioned(
            dataset, plan, run_all=self.run_all, partitions=partitions, levels=levels,
            indicators=indicators, include_companions=include_companions,
            access_settings=access_settings, target_overrides=target_overrides, stats=self.stats)
