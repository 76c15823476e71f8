"""`geo-coverage optimize`: JSON / CSV on a hand-checked instance, one-line errors, exit 2."""

from __future__ import annotations

import io as stdlib_io
import json

import pandas as pd
import pytest

from geo_coverage.cli import main


@pytest.fixture
def tables(tmp_path):
    # Demand a (10), b (20), c (5) with ids kept as text ("007" must stay "007"); candidates X and
    # 007; costs a–X 1, b–X 3, b–007 1, c–007 2.  Radius 1.5, one site: X covers a (10), 007
    # covers b (20) → 007, 20 of 35.
    (tmp_path / "demand.csv").write_text("id,pop\na,10\nb,20\nc,5\n", encoding="utf-8")
    (tmp_path / "candidates.csv").write_text("site\nX\n007\n", encoding="utf-8")
    (tmp_path / "costs.csv").write_text(
        "from,to,metres\na,X,1\nb,X,3\nb,007,1\nc,007,2\n", encoding="utf-8"
    )
    return tmp_path


def run(tables, *extra):
    argv = [
        "optimize",
        "--demand",
        str(tables / "demand.csv"),
        "--candidates",
        str(tables / "candidates.csv"),
        "--costs",
        str(tables / "costs.csv"),
        "--demand-weight",
        "pop",
        "--candidate-id",
        "site",
        "--cost-origin",
        "from",
        "--cost-destination",
        "to",
        "--cost-value",
        "metres",
        *extra,
    ]
    return main(argv)


def test_mclp_json(tables, capsys):
    assert (
        run(tables, "--model", "mclp", "--max-cost", "1.5", "--facilities", "1", "--format", "json")
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "mclp" and result["selected"] == ["007"]
    assert result["objective"] == 20 and result["covered_weight"] == 20
    assert result["coverage_share"] == pytest.approx(20 / 35)
    assert result["status"] == "optimal" and result["gap"] == 0
    assert result["solve_seconds"] >= 0


def test_lscp_and_pmedian_and_pcenter(tables, capsys):
    # Radius 2: a needs X, b and c are covered by 007 → both sites.
    assert run(tables, "--model", "lscp", "--max-cost", "2") == 0
    assert sorted(json.loads(capsys.readouterr().out)["selected"]) == ["007", "X"]
    # p-median, one site (only given pairs allowed): a has only X, c only 007 → infeasible with
    # one site; two sites cost 10·1 + 20·1 + 5·2 = 40.
    assert run(tables, "--model", "pmedian", "--facilities", "2") == 0
    assert json.loads(capsys.readouterr().out)["objective"] == pytest.approx(40)
    # p-centre with both: largest nearest cost is c–007 = 2.
    assert run(tables, "--model", "pcenter", "--facilities", "2") == 0
    assert json.loads(capsys.readouterr().out)["objective"] == pytest.approx(2)


def test_csv_to_file(tables, capsys):
    out = tables / "sites.csv"
    assert (
        run(
            tables,
            "--model",
            "mclp",
            "--max-cost",
            "2",
            "--facilities",
            "2",
            "--format",
            "csv",
            "--out",
            str(out),
        )
        == 0
    )
    frame = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert sorted(frame["candidate_id"]) == ["007", "X"]
    # Nearest open site: a → X; b → 007 (1 < 3); c → 007.
    assert frame.set_index("candidate_id")["demand_served"].to_dict() == {"X": "1", "007": "2"}


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            {"costs.csv": "from,to,metres\na,X,1\nb,Q,3\n"},
            "costs.csv, row 3, column 'to': Unknown candidate id 'Q'",
        ),
        ({"costs.csv": "from,to,metres\na,X,1\nb,X,far\n"}, "costs.csv, row 3, column 'metres'"),
        (
            {"demand.csv": "id,people\na,1\n"},
            "demand.csv, column 'pop': The column 'pop' is missing",
        ),
        ({"demand.csv": "id,pop\na,1\nb,-2\n"}, "demand.csv, row 3, column 'pop'"),
    ],
)
def test_bad_input_is_one_line_exit_2(tables, capsys, change, expected):
    for name, text in change.items():
        (tables / name).write_text(text, encoding="utf-8")
    assert run(tables, "--model", "mclp", "--max-cost", "2", "--facilities", "1") == 2
    error = capsys.readouterr().err
    assert expected in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_missing_facilities_for_mclp(tables, capsys):
    assert run(tables, "--model", "mclp", "--max-cost", "2") == 2
    error = capsys.readouterr().err
    assert "--facilities is required" in error and "Traceback" not in error


def test_missing_file(tables, capsys):
    (tables / "costs.csv").unlink()
    assert run(tables, "--model", "mclp", "--max-cost", "2", "--facilities", "1") == 2
    assert "costs.csv: File not found" in capsys.readouterr().err


def test_stdout_is_pure_json_in_a_fresh_process(tables):
    # HiGHS prints a banner from C++ the first time a solver is made in a process; piped JSON
    # must not start with it.
    import subprocess
    import sys

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo_coverage",
            "optimize",
            "--model",
            "mclp",
            "--max-cost",
            "1.5",
            "--facilities",
            "1",
            "--demand",
            str(tables / "demand.csv"),
            "--candidates",
            str(tables / "candidates.csv"),
            "--costs",
            str(tables / "costs.csv"),
            "--demand-weight",
            "pop",
            "--candidate-id",
            "site",
            "--cost-origin",
            "from",
            "--cost-destination",
            "to",
            "--cost-value",
            "metres",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(completed.stdout)["selected"] == ["007"]


def test_costs_feed_optimize_and_access_with_default_columns(tmp_path, capsys):
    """The planner's chain: `costs` writes an OD table whose columns `optimize` and `access` read
    without any --cost-* option; the optimum is re-checked from the OD table itself."""
    from pathlib import Path

    network = Path(__file__).parent / "data" / "tiny.osm"
    (tmp_path / "homes.csv").write_text(
        "id,lon,lat,population\n001,116.38,39.88,100\n002,116.40,39.88,300\n003,116.42,39.92,50\n",
        encoding="utf-8",
    )
    (tmp_path / "sites.csv").write_text(
        "id,lon,lat,beds\nw,116.38,39.88,60\ne,116.42,39.92,30\n", encoding="utf-8"
    )
    od = tmp_path / "od.csv"
    assert (
        main(
            [
                "costs",
                "--network",
                str(network),
                "--origins",
                str(tmp_path / "homes.csv"),
                "--destinations",
                str(tmp_path / "sites.csv"),
                "--max-cost",
                "30",
                "--mode",
                "walk",
                "--out",
                str(od),
            ]
        )
        == 0
    )
    pairs = pd.read_csv(od, dtype={"origin_id": str, "destination_id": str})
    assert list(pairs.columns) == ["origin_id", "destination_id", "cost"] and len(pairs)
    capsys.readouterr()
    assert (
        main(
            [
                "optimize",
                "--model",
                "mclp",
                "--demand",
                str(tmp_path / "homes.csv"),
                "--candidates",
                str(tmp_path / "sites.csv"),
                "--costs",
                str(od),
                "--max-cost",
                "30",
                "--facilities",
                "1",
                "--demand-weight",
                "population",
                "--format",
                "json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    weights = {"001": 100, "002": 300, "003": 50}
    covered = {
        site: sum(weights[o] for o in group["origin_id"])
        for site, group in pairs.groupby("destination_id")
    }
    assert result["objective"] == max(covered.values())
    assert result["selected"] == [max(covered, key=covered.get)]
    assert (
        main(
            [
                "access",
                "--demand",
                str(tmp_path / "homes.csv"),
                "--supply",
                str(tmp_path / "sites.csv"),
                "--costs",
                str(od),
                "--max-cost",
                "30",
                "--demand-value",
                "population",
                "--supply-value",
                "beds",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    values = pd.read_csv(
        stdlib_io.StringIO(capsys.readouterr().out.lstrip("\ufeff")), dtype={"id": str}
    )
    # By hand: w (60 beds) is reached by 001 and 002 (400 people), e (30) by 003 (50 people).
    assert covered == {"w": 400, "e": 50}
    assert dict(zip(values["id"], values["accessibility"], strict=True)) == pytest.approx(
        {"001": 60 / 400, "002": 60 / 400, "003": 30 / 50}
    )
