"""CLI start-up per verb: what each `geo-coverage` verb pays in imports, against a baseline commit.

Every verb runs for real on small inputs (the embedded default for the verbs that evaluate it,
a few-row CSV instance for costs / access / optimize), once with ``python -X importtime`` to sum
the import time of its top-level imports, and ``--repeat`` times for the wall time (best). The
same runs are made on a baseline commit (``git archive`` into a temporary folder, run with
``PYTHONPATH`` pointing there) so the figures compare like with like on this machine's load.

    .venv/bin/python -m benchmarks.bench_cli_startup [--baseline REV] [--repeat N] [--verbs a,b]

Writes ``benchmarks/results/cli_startup.json``.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_results

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BASELINE = "8fd5d12"  # main before issue 9's split (every verb imported everything)

# Two tiny points in central Beijing and a 3-node road between them (WGS84).
_NODES = [("n1", 116.3970, 39.9080), ("n2", 116.4000, 39.9080), ("n3", 116.4030, 39.9080)]


def _write_inputs(folder: Path) -> None:
    def rows(name, header, data):
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(data)

    rows("nodes.csv", ["id", "lon", "lat"], _NODES)
    rows("edges.csv", ["u", "v"], [("n1", "n2"), ("n2", "n3")])
    rows("origins.csv", ["id", "lon", "lat"], [("h1", 116.3971, 39.9081), ("h2", 116.4029, 39.9079)])
    rows("destinations.csv", ["id", "lon", "lat"], [("s1", 116.4001, 39.9081)])
    rows("demand.csv", ["id", "population"], [("h1", 100), ("h2", 300)])
    rows("supply.csv", ["id", "supply"], [("s1", 2), ("s2", 1)])
    rows("candidates.csv", ["id"], [("s1",), ("s2",)])
    rows("costs.csv", ["origin_id", "destination_id", "cost"],
         [("h1", "s1", 3.0), ("h2", "s1", 7.0), ("h2", "s2", 2.0)])
    rows("population.csv", ["code", "pop_total"], [("110101", 709000)])


def verbs(folder: Path) -> dict[str, list[str]]:
    """verb -> argv, run with ``folder`` (the inputs) as the working directory."""
    scenario = "SCENARIOS/neonatal_centre_every_district.yaml"
    return {
        "--help": ["--help"],
        "indicators": ["indicators"],
        "report": ["report", "--level", "district", "--indicator", "elderly_beds_per_1000",
                   "--format", "json"],
        "gaps": ["gaps", "--level", "district", "--indicator", "elderly_beds_per_1000",
                 "--out", "gaps.csv"],
        "costs": ["costs", "--network", "nodes.csv", "--edges", "edges.csv", "--origins",
                  "origins.csv", "--destinations", "destinations.csv", "--max-cost", "10"],
        "access": ["access", "--demand", "demand.csv", "--supply", "supply.csv", "--costs",
                   "costs.csv", "--max-cost", "5"],
        "optimize": ["optimize", "--model", "mclp", "--demand", "demand.csv", "--candidates",
                     "candidates.csv", "--costs", "costs.csv", "--max-cost", "5", "--facilities", "1"],
        "scenario run": ["scenario", "run", scenario, "--level", "city", "--indicator",
                         "neonatal_centres_per_district", "--format", "json"],
        "scenario optimize": ["scenario", "optimize", "--indicator", "elderly_beds_per_1000",
                              "--new-sites", "1", "--capacity", "100", "--units", "110101",
                              "--time-limit", "5"],
        "validate": ["validate", "population.csv", "--as", "population", "--level", "district"],
        "fetch-osm --help": ["fetch-osm", "--help"],
    }


def _import_seconds(stderr: str) -> float:
    """Sum of the cumulative times of the top-level imports in ``-X importtime`` output."""
    total = 0
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\S.*)$", line)
        if match:  # no leading spaces before the name: a top-level import
            total += int(match.group(2))
    return total / 1e6


def measure(tree: Path, folder: Path, names: list[str], repeat: int) -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(tree)
    results = {}
    for name in names:
        argv = [a.replace("SCENARIOS", str(tree / "scenarios")) for a in verbs(folder)[name]]
        command = [sys.executable, "-m", "geo_coverage", *argv]
        traced = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], cwd=folder,
                                env=env, capture_output=True, text=True)
        if traced.returncode != 0:
            raise SystemExit(f"{name} failed on {tree}:\n{traced.stderr[-2000:]}")
        walls = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(command, cwd=folder, env=env, capture_output=True, check=True)
            walls.append(time.perf_counter() - start)
        heavy = sorted({m for m in ("pandas", "geopandas", "scipy", "highspy", "folium", "rasterio",
                                     "osmnx", "shapely", "pyproj", "numpy")
                        if re.search(rf"\|\s+{m}$", traced.stderr, re.M)})
        results[name] = {"imports_s": round(_import_seconds(traced.stderr), 3),
                         "wall_s": round(min(walls), 3), "heavy_imports": heavy}
        print(f"  {name:<18} imports {results[name]['imports_s']:6.3f} s   wall {results[name]['wall_s']:6.3f} s"
              f"   {' '.join(heavy)}", flush=True)
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verbs", help="comma-separated subset (default: all)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder, base = Path(tmp) / "inputs", Path(tmp) / "baseline"
        folder.mkdir()
        base.mkdir()
        _write_inputs(folder)
        names = args.verbs.split(",") if args.verbs else list(verbs(folder))
        archive = subprocess.run(["git", "archive", args.baseline], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        print(f"baseline {args.baseline}:")
        before = measure(base, folder, names, args.repeat)
        print("this tree:")
        after = measure(REPO, folder, names, args.repeat)
    rows = {name: {"before": before[name], "after": after[name],
                   "imports_ratio": round(before[name]["imports_s"] / max(after[name]["imports_s"], 1e-6), 1)}
            for name in names}
    path = write_results("cli_startup", {"baseline": args.baseline, "repeat": args.repeat,
                                         "method": "python -X importtime (sum of top-level cumulative "
                                                   "times) and best wall time of N runs, same machine, "
                                                   "baseline first", "verbs": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
