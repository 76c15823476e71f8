"""What `pip install .` gives a planner: every package, the plans, and the Beijing default.

The wheel is built from a copy of the sources (the checkout is never written to) and installed into
a temporary virtual environment that holds nothing else. That environment sees the test's own
dependencies through one ``.pth`` line naming the running interpreter's site-packages: a path line,
not a site directory, so the ``.pth`` hooks there — among them the editable install of this very
checkout — are not run, and ``geo_coverage`` can only come from the wheel. This works offline and
takes seconds; installing the dependencies afresh would need the network and minutes. The
command then runs from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
# What the build reads: the metadata, the package and the folders pyproject maps into it.
BUILD_INPUTS = ("pyproject.toml", "README.md", "geo_coverage", "boundaries", "layers", "scenarios")


def test_every_package_folder_is_listed_in_pyproject():
    """setuptools is given the packages one by one; a forgotten folder would miss from the wheel."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {".".join(f.parent.relative_to(REPO).parts) for f in (REPO / "geo_coverage").rglob("*.py")}
    missing = sorted(on_disk - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    for package, folder in mapped.items():
        assert package in listed and (REPO / folder).is_dir(), (package, folder)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run(args, *, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=_clean_env(), capture_output=True,
                            timeout=timeout)
    assert result.returncode == 0, (args, result.stderr.decode("utf-8", "replace")[-3000:])
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the freshly built wheel installed; returns its ``bin`` folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "--wheel-dir", work / "dist", source], cwd=work)
    wheels = list((work / "dist").glob("geo_coverage-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=work)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=work).stdout.decode().strip()
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "_test_dependencies.pth").write_text("\n".join(sorted(outer)) + "\n")
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheels[0]], cwd=work)
    return bin_dir


@pytest.mark.slow
def test_installed_wheel_carries_the_default_and_its_plans(installed, tmp_path):
    probe = ("import json, geo_coverage, geo_coverage.dataset as d, geo_coverage.data as data;"
             "from geo_coverage.plan import available_plans;"
             "print(json.dumps([geo_coverage.__file__, str(d.default_data_dir()),"
             " {name: sorted(str(p.relative_to(data.folder(name))) for p in data.folder(name).rglob('*')"
             "  if p.is_file()) for name in data.FOLDERS}, sorted(available_plans())]))")
    module, data_dir, files, plans = json.loads(_run([installed / "python", "-c", probe], cwd=tmp_path).stdout)
    venv = installed.parent.resolve()
    assert Path(module).resolve().is_relative_to(venv), module
    assert Path(data_dir).resolve() == Path(module).resolve().parent / "data"
    # Every file of the three folders travels (a new kind of file needs its pattern in package-data).
    for name, shipped in files.items():
        here = sorted(str(p.relative_to(REPO / name)) for p in (REPO / name).rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts)
        assert shipped == here, name
    assert plans == sorted(p.stem for p in (REPO / "geo_coverage" / "plans").glob("*.yaml"))


@pytest.mark.slow
def test_installed_wheel_reports_the_16_districts_from_another_folder(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    table = _run([installed / "geo-coverage", "report", "--level", "district"], cwd=elsewhere)
    assert table.stdout.strip(), table.stderr
    out = _run([installed / "geo-coverage", "report", "--level", "district", "--format", "json"],
               cwd=elsewhere).stdout
    rows = json.loads(out)
    # The districts, read independently from the checkout's own file.
    import pyarrow.parquet as pq  # the default ships as GeoParquet

    districts = pq.read_table(REPO / "boundaries" / "districts.parquet", columns=["code", "name"])
    expected = dict(zip(districts.column("code").to_pylist(), districts.column("name").to_pylist(),
                        strict=True))
    assert len(expected) == 16
    assert {r["level"] for r in rows} == {"district"}
    assert {r["unit_code"]: r["unit_name"] for r in rows} == expected
    # Same bytes as the command run from the checkout: the wheel changes where, not what.
    here = subprocess.run([sys.executable, "-m", "geo_coverage", "report", "--level", "district",
                           "--format", "json"], cwd=REPO, capture_output=True, timeout=300,
                          env={**_clean_env(), "PYTHONPATH": str(REPO)})
    assert here.returncode == 0, here.stderr[-2000:]
    assert out == here.stdout
    assert not any(elsewhere.iterdir())  # nothing written where it ran
