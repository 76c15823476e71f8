"""The command starts light: heavy libraries load only in the verbs that use them.

No timing here (start-up times are measured in benchmarks/bench_cli_startup.py); these tests
check *which* modules a fresh interpreter has loaded after a verb, which does not depend on the
machine's load.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("geopandas", "scipy", "shapely", "pyproj", "highspy", "folium", "rasterio", "osmnx",
         "pyogrio", "networkx", "openpyxl", "streamlit")
# Parsing arguments and printing help needs nothing beyond the standard library.
SCIENTIFIC = ("numpy", "pandas", "yaml")


def loaded_after(argv: list[str]) -> set[str]:
    """Top-level modules of HEAVY + SCIENTIFIC loaded by a fresh interpreter running ``argv``."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from geo_coverage.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        f"print(json.dumps([code, sorted(m for m in {HEAVY + SCIENTIFIC!r} if m in sys.modules)]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True,
                            timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    code, modules = json.loads(result.stdout)
    assert code == 0, (argv, code)
    return set(modules)


def verb_paths() -> list[list[str]]:
    """Every verb and sub-verb the parser knows, e.g. ``["scenario", "run"]`` (``[]``: the command)."""
    from geo_coverage.cli import build_parser

    paths: list[list[str]] = [[]]

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    paths.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(build_parser(), [])
    return paths


def test_every_verb_is_walked():
    names = {" ".join(p) for p in verb_paths()}
    assert {"report", "indicators", "optimize", "scenario run", "validate", "fetch-osm"} <= names


@pytest.mark.parametrize("path", verb_paths(), ids=lambda p: " ".join(p) or "geo-coverage")
def test_help_imports_no_library(path):
    assert loaded_after([*path, "--help"]) == set()


def test_indicators_reads_the_plan_without_the_engine():
    """Listing the plan reads one YAML file: PyYAML is all it loads (no numpy, no pandas)."""
    assert loaded_after(["indicators"]) == {"yaml"}


def test_names_the_parsers_spell_out_match_the_library():
    """The CLI lists some choices itself so that --help stays light; they must not drift."""
    from geo_coverage import datum, gaps, siting
    from geo_coverage.cli import data, optimize, report, scenario

    assert report.GAP_FORMATS == gaps.EXPORT_FORMATS
    assert scenario.SITING_MODELS == siting.MODELS
    assert data.DATUMS == datum.DATUMS
    assert set(optimize.MODEL_NAMES) == set(siting.POINT_MODELS)
    for name in optimize.MODEL_NAMES:
        assert optimize._model(name) is siting.POINT_MODELS[name]


def test_indicators_table_is_what_pandas_prints():
    """`indicators` formats its table without pandas; the text is pandas' to_string, byte for byte."""
    pd = pytest.importorskip("pandas")
    from geo_coverage.cli.report import text_table

    rows = [{"id": "a", "名称": "甲乙", "target": ">= 7 (default)", "clause": ""},
            {"id": "longer_id", "名称": "", "target": ">= 100", "clause": "W5.m5"},
            {"id": " x ", "名称": "丙", "target": "None", "clause": "第三条"}]
    assert text_table(rows) == pd.DataFrame(rows).to_string(index=False)
