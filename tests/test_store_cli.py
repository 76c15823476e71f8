"""The store from the command line, with real processes: the lead's checks, kill -9 during
`snapshot add`, two processes saving from the same version, and bad input (exit 2, one line,
nothing changed, no password printed)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from geo_coverage.cli import main
from geo_coverage.dataset import default_data_dir, read_dataset_frames
from geo_coverage.store import open_store
from tests.conftest import write_tiny_city

REPO = Path(__file__).resolve().parents[1]


def cli(*argv, env=None, **kwargs) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GEO_COVERAGE_AUTHOR": "tester",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "geo_coverage", *map(str, argv)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
        **kwargs,
    )


def _location(backend: str, tmp_path, request) -> str:
    if backend == "geopackage":
        return str(tmp_path / "s.gpkg")
    return request.getfixturevalue("postgres_url")


def run_main(capsys, *argv) -> tuple[int, str, str]:
    """The CLI in this process (exit code, stdout, stderr): wherever a process of its own is not
    the point (a launch costs seconds of imports on a loaded machine).  ``capsys`` may be
    ``capfd`` where output written by C libraries must be seen too."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_lead_checks_embedded_store(tmp_path, saved_beijing, capsys, monkeypatch):
    monkeypatch.setenv("GEO_COVERAGE_AUTHOR", "tester")
    # the default added as 2020 through the CLI: the session's save (tests/store_support.py),
    # copied, so that this test adds 2023 to a store of its own
    store = saved_beijing.copy_to(tmp_path / "plan.gpkg")
    changed = tmp_path / "d2023"
    for part in ("boundaries", "layers"):
        (changed / part).mkdir(parents=True)
        for file in (default_data_dir() / part).glob("*.parquet"):  # the default is GeoParquet
            (changed / part / file.name).write_bytes(file.read_bytes())
    care = gpd.read_parquet(changed / "layers" / "elderly_care.parquet")
    care["beds"] = care["beds"] * 2  # a changed copy: twice the beds everywhere
    care.to_parquet(changed / "layers" / "elderly_care.parquet")
    code, _, err = run_main(
        capsys,
        "snapshot",
        "add",
        "--store",
        store,
        "--year",
        2023,
        "--label",
        "2023 mid-term",
        changed,
    )
    assert code == 0, err
    code, listing, err = run_main(capsys, "snapshot", "list", "--store", store, "--format", "json")
    assert code == 0, err
    rows = json.loads(listing)["snapshots"]
    assert [(r["year"], r["label"], r["author"]) for r in rows] == [
        (2020, "2020 census baseline", "tester"),
        (2023, "2023 mid-term", "tester"),
    ]
    table = run_main(capsys, "snapshot", "list", "--store", store)[1]
    assert "2020 census baseline" in table and "2023 mid-term" in table
    code_store, from_store, err = run_main(
        capsys, "report", "--store", store, "--snapshot", 2023, "--format", "json"
    )
    code_folder, from_folder, _ = run_main(capsys, "report", "--data", changed, "--format", "json")
    assert code_store == 0 == code_folder, err
    assert from_store == from_folder
    code, baseline, err = run_main(
        capsys,
        "report",
        "--store",
        store,
        "--snapshot",
        "2020 census baseline",
        "--level",
        "city",
        "--indicator",
        "elderly_beds_per_1000",
        "--format",
        "json",
    )
    assert code == 0, err
    doubled = [
        r
        for r in json.loads(from_store)
        if r["level"] == "city" and r["indicator"] == "elderly_beds_per_1000"
    ]
    assert doubled[0]["numerator"] == 2 * json.loads(baseline)[0]["numerator"]


@pytest.mark.parametrize("victim", ["geopackage", "postgis"])
def test_kill_9_during_snapshot_add_leaves_store_as_before(victim, tmp_path, request, capsys):
    location = _location(victim, tmp_path, request)
    tiny = write_tiny_city(tmp_path / "tiny")
    code, _, err = run_main(
        capsys, "snapshot", "add", "--store", location, "--year", 2020, "--label", "tiny", tiny
    )
    assert code == 0, err
    history = ("snapshot", "list", "--store", location, "--history", "--format", "json")
    code, before, err = run_main(capsys, *history)
    assert code == 0, err
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "geo_coverage",
            "snapshot",
            "add",
            "--store",
            location,
            "--year",
            "2020",
            "--label",
            "default",
            "--replace",
            str(default_data_dir()),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    seen = []
    for line in process.stderr:  # the add reports each part as it writes it inside its transaction
        seen.append(line)
        if "writing layer.community " in line:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    assert any(
        "replaced" in line for line in seen
    )  # it had already retired the old 2020 in its transaction
    code, after, err = run_main(capsys, *history)  # the killed process is the real one
    assert code == 0, err
    assert after == before
    with open_store(location, create=False) as store:
        frames = store.load_snapshot_frames(2020)[0]
        assert sorted(frames.layers) == sorted(read_dataset_frames(tiny).layers)
        with store._read() as connection:  # no orphan rows of the killed write
            stored = len(connection.execute(store.tables.facilities.select()).all())
        assert stored == sum(len(layer) for layer in frames.layers.values())
    if victim == "geopackage":
        import sqlite3

        with sqlite3.connect(location) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("backend", ["geopackage", "postgis"])
def test_two_processes_save_from_the_same_version(backend, tmp_path, request, capsys, monkeypatch):
    location = _location(backend, tmp_path, request)
    first = tmp_path / "v1.yaml"
    first.write_text(
        "name: 通州\nedits:\n  - {action: population, level: district, code: '110112', factor: "
        "1.05}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GEO_COVERAGE_AUTHOR", "tester")
    code, _, err = run_main(capsys, "scenario", "save", first, "-m", "start", "--store", location)
    assert code == 0, err
    edits = []
    for who, factor in (("alice", 1.08), ("bob", 1.10)):
        path = tmp_path / f"{who}.yaml"
        path.write_text(
            f"name: 通州\nedits:\n  - {{action: population, level: district, code: '110112', "
            f"factor: {factor}}}\n",
            encoding="utf-8",
        )
        edits.append((who, path))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "geo_coverage",
                "scenario",
                "save",
                str(path),
                "-m",
                f"{who}'s growth",
                "--base-version",
                "1",
                "--store",
                location,
                "--author",
                who,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for who, path in edits
    ]
    results = [(process.wait(timeout=300), *process.communicate()) for process in processes]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    winner = next(who for (who, _), (code, _, _) in zip(edits, results, strict=True) if code == 0)
    loser_err = next(err for code, _, err in results if code == 2)
    assert (
        f"v2 by {winner}" in loser_err
        and "Nothing was saved" in loser_err
        and "Traceback" not in loser_err
    )
    with open_store(location, create=False) as store:
        history = store.scenario_history("通州")
    assert [(v.version, v.author) for v in history] == [(1, "tester"), (2, winner)]


def test_scenario_show_edit_save_uses_the_shown_version(tmp_path, capsys):
    store = str(tmp_path / "s.gpkg")
    path = tmp_path / "s.yaml"
    path.write_text("name: A\nedits: []\n", encoding="utf-8")
    assert main(["scenario", "save", str(path), "-m", "empty", "--store", store]) == 0
    assert (
        main(["scenario", "show", "A", "--store", store, "--out", str(tmp_path / "shown.yaml")])
        == 0
    )
    shown = (tmp_path / "shown.yaml").read_text(encoding="utf-8")
    assert "# base-version: 1" in shown
    (tmp_path / "shown.yaml").write_text(
        shown.replace("edits: []", "targets: {elderly_beds_per_1000: 8}"), encoding="utf-8"
    )
    assert (
        main(["scenario", "save", str(tmp_path / "shown.yaml"), "-m", "target 8", "--store", store])
        == 0
    )
    capsys.readouterr()
    assert main(["scenario", "diff", "A", "1", "2", "--store", store]) == 0
    assert "~ targets: None -> {'elderly_beds_per_1000': 8.0}" in capsys.readouterr().out
    assert (
        main(["scenario", "save", str(tmp_path / "shown.yaml"), "-m", "again", "--store", store])
        == 2
    )
    assert "changed since v1" in capsys.readouterr().err


def test_bad_input_exit_2_nothing_changed(tmp_path, postgres_server, capfd, monkeypatch):
    # capfd, not capsys: whatever a C library (libpq) writes to the streams is seen too
    capsys = capfd
    tiny = write_tiny_city(tmp_path / "tiny")
    store = tmp_path / "s.gpkg"
    code, _, err = run_main(
        capsys, "snapshot", "add", "--store", store, "--year", 2020, "--label", "tiny", tiny
    )
    assert code == 0, err
    half = tmp_path / "half"
    (half / "boundaries").mkdir(parents=True)
    (half / "boundaries" / "districts.geojson").write_bytes(
        (tiny / "boundaries" / "districts.geojson").read_bytes()
    )
    cases = {
        "half-filled folder": (
            ["snapshot", "add", "--store", store, "--year", 2021, "--label", "x", half],
            "no facility layers",
        ),
        "duplicate year": (
            ["snapshot", "add", "--store", store, "--year", 2020, "--label", "again", tiny],
            "already has 2020",
        ),
        "unknown district": (
            ["snapshot", "add", "--store", store, "--year", 2021, "--district", "110099", tiny],
            "District code '110099' is not in the boundaries",
        ),
        "empty folder": (
            [
                "snapshot",
                "add",
                "--store",
                store,
                "--year",
                2021,
                "--label",
                "x",
                tmp_path / "none",
            ],
            "Data folder not found",
        ),
        "unknown snapshot": (
            ["report", "--store", store, "--snapshot", 2019],
            "No current snapshot for '2019'",
        ),
        "missing store": (
            ["snapshot", "list", "--store", tmp_path / "nope.gpkg"],
            "No store at this path",
        ),
    }
    (tmp_path / "empty").mkdir()
    cases["empty dir"] = (
        ["snapshot", "add", "--store", store, "--year", 2021, "--label", "x", tmp_path / "empty"],
        "The data folder is empty",
    )
    for name, (argv, message) in cases.items():
        code, _, err = run_main(capsys, *argv)
        assert code == 2 and message in err, (name, err)
    assert not (tmp_path / "nope.gpkg").exists()
    # the embedded store's content is unchanged (its WAL may be checkpointed; compare the content)
    with open_store(store, create=False) as opened:
        assert [(s.year, s.label) for s in opened.list_snapshots(history=True)] == [(2020, "tiny")]
    # PostgreSQL: nobody answers; wrong credentials (the password is never printed)
    secret = "s3cret-Pa55"
    for url, message in (
        (f"postgresql://postgres:{secret}@127.0.0.1:{_closed_port()}/x", "does not answer"),
        (postgres_server.url("postgres", password=secret), "refused the credentials"),
    ):
        code, out, err = run_main(capsys, "snapshot", "list", "--store", url)
        assert code == 2 and message in err, err
        assert secret not in err + out and "Traceback" not in err
    monkeypatch.setenv("GEO_COVERAGE_STORE", f"mysql://u:{secret}@h/db")
    code, out, err = run_main(capsys, "snapshot", "list")
    assert code == 2 and "only PostgreSQL" in err and secret not in err + out


def _closed_port() -> int:
    from tests.store_support import _free_port

    return _free_port()


def test_foreign_corrupt_and_newer_files_left_untouched(tmp_path, tiny_city_dir, capsys):
    foreign = tmp_path / "qgis.gpkg"
    gpd.read_file(tiny_city_dir / "boundaries" / "districts.geojson").to_file(
        foreign, driver="GPKG"
    )
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database", encoding="utf-8")
    store = tmp_path / "s.gpkg"
    assert run_main(capsys, "store", "init", "--store", store)[0] == 0
    corrupt = tmp_path / "corrupt.gpkg"
    data = bytearray(store.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    corrupt.write_bytes(bytes(data))
    newer = tmp_path / "newer.gpkg"
    newer.write_bytes(store.read_bytes())
    import sqlite3

    with sqlite3.connect(newer) as connection:
        connection.execute("INSERT INTO gc_schema_version VALUES (2, '2027-06-01', '9.9')")
    connection.close()
    for path, message in (
        (foreign, "without the store's tables"),
        (text, "not a SQLite/GeoPackage database"),
        (corrupt, "damaged"),
        (newer, "written by a newer geo-coverage (schema version 2"),
    ):
        before = _sha(path)
        for argv in (
            ("snapshot", "list"),
            ("snapshot", "add", "--year", 2020, "--label", "x", tiny_city_dir),
            ("scenario", "list"),
        ):
            code, _, err = run_main(capsys, *argv, "--store", path)
            assert code == 2 and message in err, (path.name, err)
        assert _sha(path) == before, path.name
    code, _, err = run_main(capsys, "snapshot", "list", "--store", newer)
    assert code == 2 and "newer geo-coverage" in err and "Traceback" not in err


def test_newer_schema_refused_on_postgis(postgres_url):
    import sqlalchemy as sa

    from geo_coverage.store import StoreVersionError

    with open_store(postgres_url) as store, store._write() as connection:
        connection.execute(
            sa.insert(store.tables.schema_version),
            {"version": 2, "applied_at": "2027-06-01", "tool_version": "9.9"},
        )
    with pytest.raises(
        StoreVersionError, match="schema version 2; this geo-coverage .* reads up to 1"
    ):
        open_store(postgres_url)
