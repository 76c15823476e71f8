"""The costs and access verbs: OD tables from a network file, 2SFCA from a planner's own matrix."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from pyproj import Transformer

from geo_coverage import io
from geo_coverage.cli import main

from .conftest import METRIC, X0, Y0
from .test_catchment import _grid_csv


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _points_csv(path, rows):
    to_lonlat = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform([X0 + r[1] for r in rows], [Y0 + r[2] for r in rows])
    io.write_csv(pd.DataFrame({"id": [r[0] for r in rows], "lon": lon, "lat": lat}), path)
    return path


def test_costs_verb_writes_the_long_table_with_text_ids(tmp_path, capsys):
    nodes, edges = _grid_csv(tmp_path)
    origins = _points_csv(tmp_path / "homes.csv", [("007", 100, -10), ("008", 300, 300)])
    destinations = _points_csv(tmp_path / "rooms.csv", [("01", 300, 20)])
    out = tmp_path / "od.csv"
    code, _, err = run(capsys, "costs", "--network", nodes, "--edges", edges, "--origins", origins,
                       "--destinations", destinations, "--max-cost", 300, "--metric", "length",
                       "--out", out)
    assert code == 0, err
    table = io.read_csv(out)
    assert list(table.columns) == ["origin_id", "destination_id", "cost"]
    costs = {(r.origin_id, r.destination_id): float(r.cost) for r in table.itertuples()}
    # 007: 10 m to n01, 200 m east to n03, 20 m north to the room.  008 sits on n33: 300 m
    # south to n03, then 20 m: 320 m is beyond 300, so it is not listed.
    assert costs.keys() == {("007", "01")}
    assert costs[("007", "01")] == pytest.approx(230.0, abs=1e-3)
    # In minutes on foot (default --metric time, 4 km/h): 230 m is 3.45 minutes.
    code, out_text, _ = run(capsys, "costs", "--network", nodes, "--edges", edges, "--origins", origins,
                            "--destinations", destinations, "--max-cost", 10)
    lines = out_text.lstrip("\ufeff").splitlines()
    assert code == 0 and lines[0] == "origin_id,destination_id,cost" and len(lines) == 3
    assert float(lines[1].split(",")[2]) == pytest.approx(230.0 / (4000 / 60), abs=1e-4)


def _matrix_files(tmp_path):
    # The 3×3 hand case of test_access: demand 001–003, supply A–C; 003 reaches nothing.
    demand = pd.DataFrame({"zone": ["001", "002", "003"], "pop": ["100", "200", "300"]})
    supply = pd.DataFrame({"site": ["A", "B", "C"], "beds": ["10", "20", "30"]})
    costs = pd.DataFrame({"from": ["001", "001", "002", "003"], "to": ["A", "B", "A", "B"],
                          "minutes": ["2", "8", "5", "12"]})
    paths = {}
    for name, frame in (("demand", demand), ("supply", supply), ("costs", costs)):
        paths[name] = io.write_csv(frame, tmp_path / f"{name}.csv")
    return paths


COLUMNS = ("--demand-id", "zone", "--demand-value", "pop", "--supply-id", "site", "--supply-value",
           "beds", "--cost-origin", "from", "--cost-destination", "to", "--cost-value", "minutes")


def test_access_verb_gives_one_value_per_demand_id_and_zero_out_of_reach(tmp_path, capsys):
    paths = _matrix_files(tmp_path)
    code, out, err = run(capsys, "access", "--method", "2sfca", "--demand", paths["demand"],
                         "--supply", paths["supply"], "--costs", paths["costs"], "--max-cost", 10,
                         *COLUMNS, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    # A: 001 + 002 = 300 people → 10/300; B: 001 → 20/100; C: nobody.  003–B is 12 > 10.
    assert [r["id"] for r in rows] == ["001", "002", "003"]
    assert [r["accessibility"] for r in rows] == pytest.approx([1 / 30 + 1 / 5, 1 / 30, 0.0])

    out_path = tmp_path / "access.csv"
    code, _, _ = run(capsys, "access", "--method", "e2sfca", "--demand", paths["demand"], "--supply",
                     paths["supply"], "--costs", paths["costs"], "--max-cost", 9, *COLUMNS,
                     "--out", out_path)
    frame = io.read_csv(out_path)
    # E2SFCA thirds of 9 (see test_access): 001 → 10/236 + 0.2, 002 → 6.8/236, 003 → 0.
    assert code == 0 and frame["id"].tolist() == ["001", "002", "003"]
    assert frame["accessibility"].astype(float).tolist() == pytest.approx([10 / 236 + 0.2, 6.8 / 236, 0])


@pytest.mark.parametrize("edit, message", [
    (("costs", "minutes", 2, "soon"), r"costs.csv, row 4, column 'minutes': 'soon' is not a number"),
    (("costs", "to", 1, "Z"), r"costs.csv, row 3, column 'to': Unknown supply id 'Z'"),
    (("costs", "from", 0, "999"), r"costs.csv, row 2, column 'from': Unknown demand id '999'"),
    (("demand", "pop", 1, "-5"), r"demand.csv, row 3, column 'pop'"),
    (("supply", "drop", "beds", None), r"supply.csv, column 'beds': Missing column 'beds'"),
])
def test_bad_matrix_input_is_one_line_naming_file_row_and_column(tmp_path, capsys, edit, message):
    paths = _matrix_files(tmp_path)
    name, column, row, value = edit
    frame = io.read_csv(paths[name])
    if column == "drop":
        frame = frame.drop(columns=[row])
    else:
        frame.loc[row, column] = value
    io.write_csv(frame, paths[name])
    code, out, err = run(capsys, "access", "--demand", paths["demand"], "--supply", paths["supply"],
                         "--costs", paths["costs"], "--max-cost", 10, *COLUMNS)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert re.search(message, err), err


def test_costs_verb_reports_a_missing_network_file(tmp_path, capsys):
    origins = _points_csv(tmp_path / "o.csv", [("1", 0, 0)])
    code, _, err = run(capsys, "costs", "--network", tmp_path / "none.osm", "--origins", origins,
                       "--destinations", origins, "--max-cost", 5)
    assert code == 2 and "none.osm: File not found." in err


def test_costs_verb_on_the_real_osm_file_matches_the_library(tmp_path, capsys):
    from geo_coverage.catchment import network_costs, network_from_file

    from .conftest import shared_path
    from .test_catchment import OSM_XML

    path = shared_path(*OSM_XML)
    graph = io.read_road_graph(path)
    nodes = list(graph.nodes(data=True))[:40]
    points = pd.DataFrame({"id": [f"0{n}" for n, _ in nodes], "lon": [d["x"] for _, d in nodes],
                           "lat": [d["y"] for _, d in nodes]})
    io.write_csv(points.iloc[:30], tmp_path / "o.csv")
    io.write_csv(points.iloc[30:], tmp_path / "d.csv")
    out = tmp_path / "od.csv"
    code, _, err = run(capsys, "costs", "--network", path, "--origins", tmp_path / "o.csv",
                       "--destinations", tmp_path / "d.csv", "--max-cost", 3, "--mode", "drive",
                       "--out", out)
    assert code == 0, err
    table = io.read_csv(out)
    network = network_from_file(path)
    to_metric = Transformer.from_crs("EPSG:4326", network.crs, always_xy=True)
    xy = pd.DataFrame(to_metric.transform(points.lon.to_numpy(), points.lat.to_numpy())).T.to_numpy()
    expected = network_costs(network, xy[:30], xy[30:], max_cost=3, weight="time", mode="drive")
    assert len(table) == len(expected) > 0
    assert table["origin_id"].str.startswith("0").all()  # ids stay text
    got = sorted(zip(table.origin_id, table.destination_id, table.cost.astype(float)))
    want = sorted(zip(points.id.to_numpy()[expected.origins], points.id.to_numpy()[30 + expected.destinations],
                      expected.costs))
    assert [g[:2] for g in got] == [w[:2] for w in want]
    assert [g[2] for g in got] == pytest.approx([w[2] for w in want])
