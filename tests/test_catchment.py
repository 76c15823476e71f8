"""Travel costs: straight line against brute force, road networks against hand-made and networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from geo_coverage import io
from geo_coverage.catchment import (
    CostTable,
    bounded_shortest_paths,
    covered_by_any,
    nearest_distance,
    network_costs,
    network_from_csv,
    network_from_file,
    network_from_graph,
    network_nearest_cost,
    straight_line_costs,
)
from geo_coverage.errors import DataError

from .conftest import METRIC, X0, Y0, shared_path

OSM_XML = ("data", "beijing", "raw", "facilities", "summit_beijing_osm", "beijing.osm")


# --- straight line ------------------------------------------------------------------------------


def test_straight_line_costs_match_brute_force_with_detour_and_speed():
    rng = np.random.default_rng(3)
    origins = rng.uniform(0, 3000, size=(400, 2))
    facilities = rng.uniform(0, 3000, size=(30, 2))
    table = straight_line_costs(origins, facilities, max_cost=10.0, detour_factor=1.3, speed_kmh=4.0)
    # 10 minutes at 4 km/h is 666.7 m of travel: 512.8 m as the crow flies with a 1.3 detour.
    minutes = cdist(origins, facilities) * 1.3 / (4000.0 / 60.0)
    expected = {(i, j): minutes[i, j] for i, j in zip(*np.nonzero(minutes <= 10.0))}
    got = {(o, d): c for o, d, c in zip(table.origins, table.destinations, table.costs)}
    assert got.keys() == expected.keys() and len(got) > 100
    assert all(abs(got[k] - expected[k]) < 1e-9 for k in got)
    assert table.unit == "min" and table.n_origins == 400 and table.n_destinations == 30


def test_straight_line_costs_every_pair_manhattan_and_point_geometries():
    """The siting models' uses: all pairs (max_cost=None), a street-grid metric, shapely points."""
    import shapely

    # Origins (0, 0) and (3, 4); destinations (0, 0) and (6, 8).  Euclidean: 0, 10 / 5, 5;
    # Manhattan: 0, 14 / 7, 7.  A zero distance stays a pair.
    origins = shapely.points([[0, 0], [3, 4]])
    destinations = np.array([[0.0, 0.0], [6.0, 8.0]])
    table = straight_line_costs(origins, destinations, max_cost=None, detour_factor=1.5)
    triples = zip(table.origins, table.destinations, table.costs, strict=True)
    got = {(o, d): c for o, d, c in triples}
    assert got == {(0, 0): 0.0, (0, 1): 15.0, (1, 0): 7.5, (1, 1): 7.5}
    assert (table.n_origins, table.n_destinations, table.unit) == (2, 2, "m")
    manhattan = straight_line_costs(origins, destinations, max_cost=7.0, metric="manhattan")
    assert sorted(zip(manhattan.origins, manhattan.destinations, manhattan.costs, strict=True)) == [
        (0, 0, 0.0), (1, 0, 7.0), (1, 1, 7.0)]
    with pytest.raises(DataError, match="Unknown metric 'chebyshev'"):
        straight_line_costs(origins, destinations, max_cost=None, metric="chebyshev")
    with pytest.raises(DataError, match="Detour factor nan is below 1"):
        straight_line_costs(origins, destinations, max_cost=None, detour_factor=float("nan"))
    many = np.zeros((5_000, 2))
    with pytest.raises(DataError, match="too many without max_cost"):
        straight_line_costs(many, many, max_cost=None)


def test_nearest_distance_and_coverage_match_brute_force():
    rng = np.random.default_rng(4)
    origins = rng.uniform(0, 5000, size=(1000, 2))
    facilities = rng.uniform(0, 5000, size=(12, 2))
    full = cdist(origins, facilities)
    distance, index = nearest_distance(origins, facilities)
    np.testing.assert_allclose(distance, full.min(axis=1))
    np.testing.assert_array_equal(index, full.argmin(axis=1))
    covered = covered_by_any(cKDTree(origins), facilities, radius=600.0)
    np.testing.assert_array_equal(covered, full.min(axis=1) <= 600.0)
    far, none = nearest_distance(origins, facilities, max_distance=10.0)
    assert np.isinf(far[none < 0]).all() and (none >= 0).sum() == (full.min(axis=1) <= 10.0).sum()


def test_cost_table_keeps_zero_costs_as_entries():
    table = CostTable.from_arrays([0, 1], [1, 0], [0.0, 5.0], n_origins=2, n_destinations=2)
    matrix = table.to_sparse()
    assert matrix.nnz == 2 and matrix[0, 1] == 0.0 and matrix[1, 0] == 5.0
    assert len(table.within(1.0)) == 1
    frame = table.to_frame(["a", "b"], ["x", "y"])
    assert frame.to_dict("records")[0] == {"origin_id": "a", "destination_id": "y", "cost": 0.0}


# --- a hand-made grid network ----------------------------------------------------------------------


def _grid_csv(tmp_path, *, size=4, spacing=100.0, oneway_first_row=False):
    """A size × size grid of 100 m streets written as node/edge CSV files (WGS84 nodes)."""
    to_lonlat = Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)
    ids, xs, ys = [], [], []
    for row in range(size):
        for col in range(size):
            ids.append(f"n{row}{col}")
            xs.append(X0 + col * spacing)
            ys.append(Y0 + row * spacing)
    lon, lat = to_lonlat.transform(xs, ys)
    nodes = pd.DataFrame({"id": ids, "lon": lon, "lat": lat})
    edges = []
    for row in range(size):
        for col in range(size):
            if col + 1 < size:  # eastwards
                edges.append({"u": f"n{row}{col}", "v": f"n{row}{col + 1}", "length": spacing,
                              "oneway": "true" if (oneway_first_row and row == 0) else "false"})
            if row + 1 < size:  # northwards
                edges.append({"u": f"n{row}{col}", "v": f"n{row + 1}{col}", "length": spacing,
                              "oneway": "false"})
    io.write_csv(nodes, tmp_path / "nodes.csv")
    io.write_csv(pd.DataFrame(edges), tmp_path / "edges.csv")
    return tmp_path / "nodes.csv", tmp_path / "edges.csv"


def test_grid_graph_shortest_paths_are_manhattan_distances(tmp_path):
    nodes, edges = _grid_csv(tmp_path)
    network = network_from_csv(nodes, edges, crs=METRIC)
    assert network.n_nodes == 16 and network.n_edges == 48  # 24 streets, both directions
    graph = network.graph(weight="length", mode="walk")
    corner = int(np.flatnonzero(network.node_ids == "n00")[0])
    source, node, cost = bounded_shortest_paths(graph, [corner], limit=250.0)
    reached = dict(zip(network.node_ids[node], cost))
    # Within 250 m of the south-west corner: itself, 1 block east/north, 2 blocks (3 nodes).
    assert reached == {"n00": 0.0, "n01": 100.0, "n10": 100.0, "n02": 200.0, "n11": 200.0,
                       "n20": 200.0}
    # Walking 10 minutes at 4 km/h is 666.7 m: the far corner (600 m) is in, its neighbours too.
    _, node, minutes = bounded_shortest_paths(network.graph(weight="time", mode="walk"), [corner],
                                              limit=10.0)
    far = dict(zip(network.node_ids[node], minutes))
    assert far["n33"] == pytest.approx(600.0 / (4000.0 / 60.0)) and len(far) == 16


def test_network_costs_add_the_snap_walk_and_respect_one_way_streets_when_driving(tmp_path):
    nodes, edges = _grid_csv(tmp_path, oneway_first_row=True)
    network = network_from_csv(nodes, edges, crs=METRIC)
    # A home 10 m south of n01, a facility 20 m north of n03 (both off the network).
    home = np.array([[X0 + 100, Y0 - 10]])
    facility = np.array([[X0 + 300, Y0 + 20]])
    walk = network_costs(network, home, facility, max_cost=1000, weight="length", mode="walk")
    assert walk.costs.tolist() == pytest.approx([10 + 200 + 20])  # n01 → n02 → n03
    # Driving west to east along the one-way first row is allowed; back east to west is not.
    drive = network_costs(network, home, facility, max_cost=1000, weight="length", mode="drive")
    assert drive.costs.tolist() == pytest.approx([230.0])
    back = network_costs(network, facility, home, max_cost=1000, weight="length", mode="drive")
    assert back.costs.tolist() == pytest.approx([20 + 100 + 200 + 100 + 10])  # up, across, down
    walk_back = network_costs(network, facility, home, max_cost=1000, weight="length", mode="walk")
    assert walk_back.costs.tolist() == pytest.approx([230.0])
    assert len(network_costs(network, home, facility, max_cost=229, weight="length")) == 0


def test_edge_file_errors_name_the_row_and_column(tmp_path):
    nodes, edges = _grid_csv(tmp_path)
    frame = io.read_csv(edges)
    frame.loc[3, "v"] = "nowhere"
    io.write_csv(frame, tmp_path / "bad.csv")
    with pytest.raises(ValueError, match=r"bad.csv, row 5, column 'v': Unknown node id 'nowhere'"):
        network_from_csv(nodes, tmp_path / "bad.csv")


# --- agreement with networkx on a random graph --------------------------------------------------------


def _random_graph(seed=11, n=1500, extent=12000.0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, extent, size=(n, 2))
    graph = nx.MultiDiGraph(crs=METRIC)
    for i, (x, y) in enumerate(xy):
        graph.add_node(i, x=x, y=y)
    for a, b in cKDTree(xy).query_pairs(550.0, output_type="ndarray"):
        length = float(np.hypot(*(xy[a] - xy[b])) * rng.uniform(1.0, 1.4))
        graph.add_edge(int(a), int(b), length=length, travel_time=length / rng.uniform(5, 15))
        if rng.random() < 0.7:  # some one-way streets
            graph.add_edge(int(b), int(a), length=length, travel_time=length / rng.uniform(5, 15))
    return graph, xy


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_network_costs_agree_with_networkx(mode):
    graph, _ = _random_graph()
    network = network_from_graph(graph)
    rng = np.random.default_rng(12)
    origins = rng.uniform(0, 12000, size=(300, 2))
    facilities = rng.uniform(0, 12000, size=(25, 2))
    max_cost = {"walk": 15.0, "drive": 8.0}[mode]  # minutes (snap distances are walked)
    table = network_costs(network, origins, facilities, max_cost=max_cost, weight="time", mode=mode)
    assert table.unit == "min" and len(table) > 50

    # networkx: the same edge minutes (walking ignores direction; driving uses travel_time).
    walk_minutes = 1000.0 * 4.0 / 60.0
    reference = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        cost = data["travel_time"] / 60.0 if mode == "drive" else data["length"] / walk_minutes
        pairs = [(u, v)] if mode == "drive" else [(u, v), (v, u)]
        for a, b in pairs:
            if not reference.has_edge(a, b) or reference[a][b]["w"] > cost:
                reference.add_edge(a, b, w=cost)
    nodes_xy = np.column_stack([network.x, network.y])
    origin_snap, origin_node = cKDTree(nodes_xy).query(origins)
    facility_snap, facility_node = cKDTree(nodes_xy).query(facilities)
    expected = {}
    reverse = reference.reverse()
    for j, node in enumerate(facility_node):
        lengths = nx.single_source_dijkstra_path_length(reverse, int(node), cutoff=max_cost, weight="w")
        for i, start in enumerate(origin_node):
            if int(start) in lengths:
                total = origin_snap[i] / walk_minutes + lengths[int(start)] + facility_snap[j] / walk_minutes
                if total <= max_cost:
                    expected[(i, j)] = total
    got = {(o, d): c for o, d, c in zip(table.origins, table.destinations, table.costs)}
    assert got.keys() == expected.keys()
    assert max(abs(got[k] - expected[k]) for k in got) < 1e-9

    nearest = network_nearest_cost(network, origins, facilities, max_cost=max_cost, weight="time", mode=mode)
    best = np.full(len(origins), np.inf)
    np.minimum.at(best, table.origins, table.costs)
    np.testing.assert_allclose(nearest, best)


def test_tiled_and_whole_graph_searches_agree():
    graph, _ = _random_graph(seed=5, n=2500, extent=30000.0)
    network = network_from_graph(graph)
    matrix = network.graph(weight="length", mode="drive")
    sources = np.random.default_rng(6).choice(network.n_nodes, size=80, replace=False)
    ratio = network.reach_ratio(weight="length", mode="drive")
    assert 0.7 < ratio <= 1.0  # lengths are 1–1.4 × the straight line
    tiled = bounded_shortest_paths(matrix, sources, limit=2500.0, x=network.x, y=network.y,
                                   reach_ratio=ratio)
    whole = bounded_shortest_paths(matrix, sources, limit=2500.0)
    as_dict = [{(s, n): c for s, n, c in zip(*result)} for result in (tiled, whole)]
    assert as_dict[0].keys() == as_dict[1].keys() and len(as_dict[0]) > 500
    assert all(abs(as_dict[0][k] - as_dict[1][k]) < 1e-9 for k in as_dict[0])


# --- real files ------------------------------------------------------------------------------------


def test_real_osm_xml_loads_through_the_planners_path_and_matches_networkx(tmp_path):
    path = shared_path(*OSM_XML)
    assert path.stat().st_size < 5_000_000  # small enough to load in a unit test
    network = network_from_file(path)
    assert network.crs.to_epsg() == 32650  # the UTM zone of central Beijing
    graph = io.read_road_graph(path)
    assert network.n_nodes == graph.number_of_nodes() > 100
    assert network.n_edges == graph.number_of_edges()
    assert (network.length_m > 0).all()

    # Driving distances to one node agree with networkx on osmnx's own edge lengths.
    source = int(network.node_ids[0])
    position = {int(n): i for i, n in enumerate(network.node_ids)}
    others = [n for n in graph.nodes if n != source]
    others_xy = np.array([[network.x[position[n]], network.y[position[n]]] for n in others])
    source_xy = np.array([[network.x[0], network.y[0]]])
    table = network_costs(network, others_xy, source_xy, max_cost=800.0, weight="length", mode="drive")
    expected = nx.single_source_dijkstra_path_length(graph.reverse(), source, cutoff=800.0,
                                                     weight="length")
    got = {others[o]: c for o, c in zip(table.origins, table.costs)}
    assert len(got) > 3
    # Every node snaps onto itself (zero snap walk) unless another node shares its position.
    same_place = {n for n in others
                  if np.sum((network.x == network.x[position[n]]) & (network.y == network.y[position[n]])) > 1}
    checked = [n for n in got if n not in same_place]
    assert set(checked) == {n for n in expected if n != source and n not in same_place}
    assert max(abs(got[n] - expected[n]) for n in checked) < 1e-6


def test_graphml_round_trip_gives_the_same_network(tmp_path):
    osmnx = pytest.importorskip("osmnx")
    path = shared_path(*OSM_XML)
    graph = io.read_road_graph(path)
    osmnx.save_graphml(graph, tmp_path / "beijing.graphml")
    from_xml = network_from_file(path)
    from_graphml = network_from_file(tmp_path / "beijing.graphml")
    assert from_graphml.n_nodes == from_xml.n_nodes and from_graphml.n_edges == from_xml.n_edges
    np.testing.assert_allclose(np.sort(from_graphml.length_m), np.sort(from_xml.length_m))
