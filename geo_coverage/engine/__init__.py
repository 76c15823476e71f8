"""Where evaluation runs: this process (``local``) or a Dask cluster (``dask``), same table.

``evaluate(dataset, plan, engine="dask")`` is :func:`geo_coverage.coverage.evaluate` on a
LocalCluster sized to the machine (or ``scheduler="tcp://host:8786"``), partitioned by the unit
hierarchy with halos for catchments (docs/engine.md).  :class:`LocalEngine` runs the same
partitions one after another in this process, for tests and for memory-bounded runs without
dask.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..coverage import evaluate as _evaluate_local
from .partition import Partition, hilbert_order, partition_dataset
from .partitioned import PartitionJob, PartitionResult, evaluate_partitioned, run_partition

__all__ = ["ENGINES", "LocalEngine", "DaskEngine", "make_engine", "evaluate", "Partition",
           "partition_dataset", "evaluate_partitioned", "hilbert_order"]

ENGINES = ("local", "dask")


class LocalEngine:
    """This process.  ``partitions=None``: the plain one-machine evaluation; a number: the same
    partitions the Dask engine would run, one after another (the answer does not change)."""

    name = "local"

    def __init__(self, *, partitions: int | None = None):
        self.partitions = partitions
        self.stats: list[dict] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def close(self) -> None:
        return None

    @staticmethod
    def run_all(jobs: list[PartitionJob]) -> Iterator[PartitionResult]:
        for job in jobs:
            yield run_partition(job)

    def evaluate(self, dataset, plan, **options):
        if self.partitions is None:
            return _evaluate_local(dataset, plan, **options)
        self.stats = []
        return evaluate_partitioned(dataset, plan, run_all=self.run_all, partitions=self.partitions,
                                    stats=self.stats, **options)


def make_engine(name: str = "local", *, scheduler: str | None = None, n_workers: int | None = None,
                memory_limit=None, partitions: int | None = None, progress: bool = True,
                dashboard: bool = True):
    """An engine by name (``local`` | ``dask``); ``scheduler`` implies ``dask``."""
    from ..errors import DataError

    if scheduler and name == "local":
        raise DataError("--scheduler needs --engine dask.", fix="Add --engine dask.")
    if name == "local":
        return LocalEngine(partitions=partitions)
    if name == "dask":
        from .dask import DaskEngine  # dask is imported only when the engine is asked for

        return DaskEngine(scheduler=scheduler, n_workers=n_workers, memory_limit=memory_limit,
                          partitions=partitions, progress=progress, dashboard=dashboard)
    raise DataError(f"Unknown engine '{name}'.", fix=f"Use one of {', '.join(ENGINES)}.")


def evaluate(dataset, plan, *, engine="local", scheduler: str | None = None, **options):
    """:func:`geo_coverage.coverage.evaluate` on an engine given by name or object.

    ``engine="dask"`` starts a LocalCluster (or connects to ``scheduler``) for this call and
    closes it afterwards; pass a started :class:`DaskEngine` to reuse one cluster.
    """
    if isinstance(engine, str):
        with make_engine(engine, scheduler=scheduler, progress=False) as running:
            return running.evaluate(dataset, plan, **options)
    return engine.evaluate(dataset, plan, **options)


def __getattr__(name):  # DaskEngine without importing dask until it is used
    if name == "DaskEngine":
        from .dask import DaskEngine

        return DaskEngine
    raise AttributeError(name)
