"""`geo-coverage monitor` on three year-folders with trajectories worked out by hand, and the
embedded demo years (synthetic, labelled so, evaluated incrementally = evaluated in full)."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pandas as pd
import pytest

from geo_coverage.cli import main
from geo_coverage.coverage import evaluate
from geo_coverage.dataset import load_dataset
from geo_coverage.monitor.demo import demo_dataset, demo_events, demo_tables
from geo_coverage.plan import default_plan

from .conftest import write_tiny_city

# Beds of E1 (street 甲一, district 甲区), E2 (甲二, 甲区), E3 (乙一, 乙区); both districts hold
# 3,000 residents, so beds per 1,000 = beds ÷ 3:  甲区 5.0, 6.0, 6.5;  乙区 10.0, 6.0, 6.6.
BEDS = {2021: (10, 5, 30), 2022: (12, 6, 18), 2023: (13, 6.5, 19.8)}


@pytest.fixture(scope="module")
def year_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("years")
    template = write_tiny_city(root / "template")
    folders = {}
    for year, beds in BEDS.items():
        folder = root / str(year)
        shutil.copytree(template, folder)
        path = folder / "layers" / "elderly_care.geojson"
        frame = gpd.read_file(path)
        frame["beds"] = list(beds)
        frame.to_file(path, driver="GeoJSON")
        folders[year] = folder
    return folders


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_monitor_json_gives_the_hand_figures(year_dirs, capsys):
    args = [
        item
        for year, folder in year_dirs.items()
        for item in ("--snapshot-dir", f"{year}={folder}")
    ]
    code, out, err = _run(
        capsys,
        "monitor",
        *args,
        "--level",
        "district",
        "--indicator",
        "elderly_beds_per_1000",
        "--format",
        "json",
    )
    assert code == 0, err
    rows = {row["unit_name"]: row for row in json.loads(out)}
    assert list(next(iter(rows.values())))[:15] == [
        "level",
        "unit_code",
        "unit_name",
        "indicator",
        "year_first",
        "value_first",
        "year_last",
        "value_last",
        "target",
        "projected",
        "projected_year",
        "needed_per_year",
        "observed_per_year",
        "status",
        "volatile",
    ]
    jia, yi = rows["甲区"], rows["乙区"]
    # 甲区: slope 0.75, line through (1, 5), (2, 6), (3, 6.5) at x = 5: 35/6 + 0.75 × 3
    assert jia["projected"] == pytest.approx(35 / 6 + 2.25)
    assert jia["observed_per_year"] == pytest.approx(0.75)
    assert jia["needed_per_year"] == pytest.approx(0.25)
    assert (jia["status"], jia["volatile"], jia["projected_year"]) == ("on_track", False, 2025)
    # 乙区: met in 2021, lost since; slope −1.7, at x = 5: 22.6/3 − 5.1; 10 → 6 is −40 %
    assert yi["projected"] == pytest.approx(22.6 / 3 - 5.1)
    assert (yi["status"], yi["volatile"]) == ("off_track", True)
    assert (yi["year_first"], yi["value_first"], yi["value_last"]) == (
        2021,
        10.0,
        pytest.approx(6.6),
    )


def test_monitor_csv_and_xlsx(year_dirs, tmp_path, capsys):
    args = [
        item
        for year, folder in year_dirs.items()
        for item in ("--snapshot-dir", f"{year}={folder}")
    ]
    out = tmp_path / "m.xlsx"
    code, _, err = _run(capsys, "monitor", *args, "--format", "xlsx", "--out", str(out))
    assert code == 0, err
    sheets = pd.read_excel(out, sheet_name=None)
    assert {"监测 Monitoring", "预警 Warnings", "序列 Series", "说明 About"} <= set(sheets)
    about = " ".join(sheets["说明 About"].astype(str).to_numpy().ravel())
    assert "2021, 2022, 2023" in about and "SYNTHETIC" in about


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--snapshot-dir", "2021"], "YEAR=DIR"),
        (["--snapshot-dir", "2021=/nonexistent/folder"], "does not exist"),
        (["--indicator", "no_such_indicator"], "Unknown indicator"),
        (["--format", "xlsx"], "XLSX needs a file"),
        (["--level", "street", "--indicator", "neonatal_centres_per_district"], "Nothing to monitor"),
    ],
)
def test_monitor_bad_input_exits_2(argv, message, capsys):
    code, _, err = _run(capsys, "monitor", *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_monitor_never_writes_onto_an_input(year_dirs, tmp_path, capsys):
    """--out onto a year folder's layer (or into a missing folder) is refused before anything is
    evaluated, and the layer keeps its bytes."""
    args = [
        item
        for year, folder in year_dirs.items()
        for item in ("--snapshot-dir", f"{year}={folder}")
    ]
    layer = year_dirs[2023] / "layers" / "elderly_care.geojson"
    before = layer.read_bytes()
    for out, message in ((layer, "would write into the input"),
                         (tmp_path / "missing" / "m.csv", "does not exist")):
        code, _, err = _run(capsys, "monitor", *args, "--format", "csv", "--out", str(out))
        assert code == 2 and message in err and "Traceback" not in err, err
    assert layer.read_bytes() == before and not (tmp_path / "missing").exists()


def test_demo_years_are_synthetic_and_grow_from_2020():
    base = load_dataset()
    events = demo_events()
    assert events.years == (2021, 2022, 2023, 2024)
    dataset = demo_dataset(2023, base, events)
    for frame in dataset.units.values():
        assert frame["pop_source"].str.startswith("synthetic: demo year 2023").all()
    homes = dataset.layers["elderly_care"]
    added = homes[~homes["id"].isin(base.layers["elderly_care"]["id"])]
    assert len(added) and added["source"].str.startswith("synthetic: demo year 2023").all()
    assert (added["location_quality"] == "synthetic").all()
    # the city is the sum of its districts, which grew by their stated factors
    factors = events.population[events.population["year"] == 2023].set_index("district_code")[
        "factor"
    ]
    districts = dataset.units["district"]
    expected = base.units["district"]["pop_total"] * factors.astype(float).reindex(districts.index)
    pd.testing.assert_series_equal(districts["pop_total"], expected, check_names=False)
    assert dataset.units["city"]["pop_total"].iloc[0] == pytest.approx(districts["pop_total"].sum())
    # the real neonatal centres are never touched
    assert dataset.layers["neonatal_centre"] is base.layers["neonatal_centre"]


def test_demo_series_equals_report_on_each_year():
    """Incremental evaluation of a demo year = a full evaluation of that year's dataset."""
    plan = default_plan()
    base = load_dataset()
    tables = demo_tables(plan, base=base, levels=["city", "district"], years=[2020, 2022])
    full = evaluate(
        demo_dataset(2022, base, demo_events(), plan), plan, levels=["city", "district"]
    )
    pd.testing.assert_frame_equal(
        tables[2022].reset_index(drop=True),
        full.reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
        atol=1e-9,
    )
    pd.testing.assert_frame_equal(tables[2020], evaluate(base, plan, levels=["city", "district"]))


def test_monitor_from_store_snapshots_equals_folders(year_dirs, tmp_path, capsys):
    """The same three years saved as store snapshots give the same monitoring table."""
    from geo_coverage.store import open_store

    store_path = tmp_path / "plan.gpkg"
    with open_store(store_path) as store:
        for year, folder in year_dirs.items():
            store.add_snapshot(folder, year=year, label=f"{year} test", author="test")
    folders = [item for year, folder in year_dirs.items() for item in ("--snapshot-dir", f"{year}={folder}")]
    code, from_folders, err = _run(capsys, "monitor", *folders, "--format", "json")
    assert code == 0, err
    code, from_store, err = _run(capsys, "monitor", "--store", str(store_path), "--snapshot", "2021",
                                 "--snapshot", "2022 test", "--snapshot", "2023", "--format", "json")
    assert code == 0, err
    assert "store snapshots" in err
    assert json.loads(from_store) == json.loads(from_folders)
    code, every_year, _ = _run(capsys, "monitor", "--store", str(store_path), "--format", "json")
    assert code == 0 and json.loads(every_year) == json.loads(from_folders)
    code, _, err = _run(capsys, "monitor", "--store", str(store_path), "--snapshot", "2021",
                        "--snapshot", "2021 test")
    assert code == 2 and "twice" in err


@pytest.mark.slow
def test_demo_years_rebuild_byte_for_byte(tmp_path):
    """scripts/build_demo_years.py is deterministic: a rebuild equals the committed event tables."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(repo / "scripts" / "build_demo_years.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, cwd=repo)
    committed = demo_events().folder
    for name in ("population", "additions", "changes", "removals"):
        assert (tmp_path / f"{name}.csv").read_bytes() == (committed / f"{name}.csv").read_bytes(), name


def test_series_rows_are_the_bytes_report_prints(year_dirs, capsys):
    """Each year of the series, written as CSV, is byte for byte what `geo-coverage report --data`
    prints for that year's folder."""
    from geo_coverage import io
    from geo_coverage.monitor import datasets_from_dirs, series_from_datasets

    series = series_from_datasets(datasets_from_dirs(year_dirs), default_plan())
    for year, folder in year_dirs.items():
        assert main(["report", "--data", str(folder), "--format", "csv"]) == 0
        printed = capsys.readouterr().out.encode("utf-8")
        rows = series[series["year"] == year].drop(columns="year").reset_index(drop=True)
        assert printed.count(b"\n") == len(rows) + 1 > 20
        assert io.dataframe_to_csv_bytes(rows) == printed, year
