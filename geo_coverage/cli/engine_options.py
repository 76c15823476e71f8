"""``--engine local|dask`` and its options, shared by the verbs that evaluate.

The engine module (and dask) is imported only when a verb runs, never for ``--help``.
"""

from __future__ import annotations

__all__ = ["add_engine_options", "engine_from_args"]


def add_engine_options(parser) -> None:
    """--engine, --scheduler, --workers, --worker-memory, --partitions."""
    group = parser.add_argument_group("engine (where to compute)")
    group.add_argument("--engine", choices=("local", "dask"), default="local",
                       help="local: this process (default); dask: a Dask cluster, same results")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                            "(default: a local cluster sized to this machine)")
    group.add_argument("--workers", type=int, metavar="N",
                       help="local cluster workers (default: one per core)")
    group.add_argument("--worker-memory", metavar="SIZE",
                       help="memory limit of each local worker, e.g. 4GB "
                            "(default: memory ÷ workers)")
    group.add_argument("--partitions", type=int, metavar="N",
                       help="partitions of the unit hierarchy (default: sized to worker memory)")


def engine_from_args(args):
    """The engine the options name (a context manager: it closes a cluster it started)."""
    from ..engine import make_engine
    from ..errors import DataError

    engine = getattr(args, "engine", "local") or "local"
    for option in ("workers", "partitions"):
        value = getattr(args, option, None)
        if value is not None and value < 1:
            raise DataError(f"--{option} {value} must be 1 or more.")
    if engine == "local" and any(getattr(args, o, None) for o in ("workers", "worker_memory")):
        raise DataError("--workers and --worker-memory size a Dask cluster.",
                        fix="Add --engine dask.")
    return make_engine(engine, scheduler=getattr(args, "scheduler", None),
                       n_workers=getattr(args, "workers", None),
                       memory_limit=getattr(args, "worker_memory", None),
                       partitions=getattr(args, "partitions", None))
