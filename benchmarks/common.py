"""Small helpers shared by the benchmark scripts: timing, peak memory, writing results."""

from __future__ import annotations

import json
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(fn, *, repeat: int = 5):
    """Run ``fn`` ``repeat`` times; return (best seconds, median seconds, last result)."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def peak_memory_mb(fn):
    """Peak Python-allocated memory (tracemalloc, includes numpy buffers) while ``fn`` runs."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6, result


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data = {"machine": platform.machine(), "python": platform.python_version(), **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
