"""Access indicators: 2SFCA by hand and against PySAL access; coverage per unit by recomputation."""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from shapely.geometry import Point

from geo_coverage.access import (
    AccessSettings,
    coverage_within,
    decay_from_name,
    enhanced_two_step_fca,
    gaussian_decay,
    gravity_decay,
    point_measures,
    step_decay,
    two_step_fca,
    unit_measures,
)
from geo_coverage.catchment import CostTable, network_from_graph
from geo_coverage.coverage import evaluate
from geo_coverage.plan import default_plan
from geo_coverage.population import demand_points

from .conftest import METRIC, X0, Y0

logging.getLogger("access").setLevel(logging.WARNING)


@pytest.fixture(scope="module")
def plan():
    return default_plan()


# --- 2SFCA by hand ------------------------------------------------------------------------------


def test_two_step_fca_three_by_three_by_hand():
    # Demand P = [100, 200, 300]; supply S = [10, 20, 30]; costs (∞ = out of reach, max 10):
    #            s0   s1   s2
    #   d0        2    8    ∞
    #   d1        5    ∞    ∞
    #   d2        ∞   12    4        (d2–s1 at 12 is beyond the catchment)
    # Step 1, people competing for each facility:
    #   s0: d0 + d1 = 300 → R0 = 10/300;  s1: d0 = 100 → R1 = 20/100;  s2: d2 = 300 → R2 = 30/300
    # Step 2, supply per person reachable:
    #   A0 = R0 + R1 = 1/30 + 1/5 = 7/30;  A1 = R0 = 1/30;  A2 = R2 = 1/10
    costs = CostTable.from_arrays([0, 0, 1, 2, 2], [0, 1, 0, 1, 2], [2, 8, 5, 12, 4],
                                  n_origins=3, n_destinations=3)
    result = two_step_fca([100, 200, 300], [10, 20, 30], costs, max_cost=10)
    np.testing.assert_allclose(result, [7 / 30, 1 / 30, 1 / 10])
    # Supply is conserved: Σ P_i A_i = Σ S_j over facilities someone reaches.
    assert np.dot([100, 200, 300], result) == pytest.approx(60.0)


def test_enhanced_two_step_fca_by_hand():
    # Same layout, E2SFCA weights in thirds of 9: ≤3 → 1, ≤6 → 0.68, ≤9 → 0.22.
    # Costs d0–s0 = 2 (w 1), d1–s0 = 5 (w .68), d0–s1 = 8 (w .22).
    #   s0 competing: 100·1 + 200·0.68 = 236 → R0 = 10/236;  s1: 100·0.22 = 22 → R1 = 20/22
    #   A0 = 1·R0 + 0.22·R1 = 10/236 + 0.2;  A1 = 0.68·R0 = 6.8/236
    costs = CostTable.from_arrays([0, 0, 1], [0, 1, 0], [2, 8, 5], n_origins=2, n_destinations=2)
    result = enhanced_two_step_fca([100, 200], [10, 20], costs, max_cost=9)
    np.testing.assert_allclose(result, [10 / 236 + 0.2, 6.8 / 236])


def test_decay_factories_match_their_formulas():
    step = step_decay({10: 1, 20: 0.68, 30: 0.22})
    np.testing.assert_allclose(step(np.array([0, 10, 10.5, 20, 29, 30, 31])), [1, 1, .68, .68, .22, .22, 0])
    np.testing.assert_allclose(gaussian_decay(20)(np.array([0, 20, 40])), np.exp([0, -0.5, -2]))
    np.testing.assert_allclose(gravity_decay(20, -2, min_cost=1)(np.array([0, 2, 40])), [400, 100, 0.25])
    np.testing.assert_allclose(decay_from_name("step", max_cost=5)(np.array([5, 5.1])), [1, 0])


# --- agreement with PySAL access -------------------------------------------------------------------


def _random_case(seed=21, n_demand=150, n_supply=20):
    rng = np.random.default_rng(seed)
    demand_xy = rng.uniform(0, 10, size=(n_demand, 2))
    supply_xy = rng.uniform(0, 10, size=(n_supply, 2))
    population = rng.integers(0, 2000, size=n_demand).astype(float)
    supply = rng.integers(1, 50, size=n_supply).astype(float)
    full = cdist(demand_xy, supply_xy) * 6.0  # "minutes"
    origin, destination = np.nonzero(full <= 40.0)
    costs = CostTable.from_arrays(origin, destination, full[origin, destination],
                                  n_origins=n_demand, n_destinations=n_supply, unit="min")
    return population, supply, costs


def _pysal(population, supply, costs, *, max_cost, weight_fn, enhanced):
    from access import Access

    demand_frame = pd.DataFrame({"geoid": [f"d{i:03d}" for i in range(len(population))],
                                 "pop": population})
    supply_frame = pd.DataFrame({"geoid": [f"s{j:03d}" for j in range(len(supply))], "beds": supply})
    cost_frame = pd.DataFrame({"origin": demand_frame.geoid.to_numpy()[costs.origins],
                               "dest": supply_frame.geoid.to_numpy()[costs.destinations],
                               "cost": costs.costs})
    model = Access(demand_df=demand_frame, demand_index="geoid", demand_value="pop",
                   supply_df=supply_frame, supply_index="geoid", supply_value="beds",
                   cost_df=cost_frame, cost_origin="origin", cost_dest="dest", cost_name="cost")
    if enhanced:
        out = model.enhanced_two_stage_fca(name="x", max_cost=max_cost, weight_fn=weight_fn)
    else:
        out = model.two_stage_fca(name="x", max_cost=max_cost, weight_fn=weight_fn)
    return out["x_beds"].reindex(demand_frame.geoid).fillna(0.0).to_numpy()


def test_two_step_fca_agrees_with_pysal_access():
    population, supply, costs = _random_case()
    mine = two_step_fca(population, supply, costs, max_cost=30)
    theirs = _pysal(population, supply, costs, max_cost=30, weight_fn=None, enhanced=False)
    assert (mine > 0).sum() > 50
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["e2sfca-steps", "gaussian", "gravity"])
def test_enhanced_two_step_fca_agrees_with_pysal_access(name):
    from access import weights

    population, supply, costs = _random_case(seed=22)
    if name == "e2sfca-steps":
        mine_decay, theirs_decay = None, weights.step_fn({10: 1, 20: 0.68, 30: 0.22})
    elif name == "gaussian":
        mine_decay, theirs_decay = gaussian_decay(15), weights.gaussian(15)
    else:
        mine_decay, theirs_decay = gravity_decay(30, -1, min_cost=3), weights.gravity(30, -1, 3)
    mine = enhanced_two_step_fca(population, supply, costs, max_cost=30, decay=mine_decay)
    theirs = _pysal(population, supply, costs, max_cost=30, weight_fn=theirs_decay, enhanced=True)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


# --- per unit, on the tiny city ----------------------------------------------------------------------


def _with_layer(dataset, kind, points, **attributes):
    frame = gpd.GeoDataFrame({"id": [f"{kind}{i}" for i in range(len(points))], "name": "",
                              **attributes},
                             geometry=[Point(X0 + x, Y0 + y) for x, y in points], crs=METRIC)
    return dataset.with_layer(kind, frame)


def test_access_counts_residents_within_the_walk_by_independent_recomputation(tiny_city, plan):
    city = _with_layer(tiny_city, "mother_baby_room", [(500, 500), (2950, 100)])
    indicator = plan.indicator("mother_baby_room_access")  # 15-minute life circle: 1,000 m walk
    result = unit_measures(city, indicator, plan=plan)
    # Recompute: 100 m cells of each street, 1/100 of its population each, covered when within
    # 1,000 m ÷ 1.3 of a room as the crow flies.
    radius = 1000 / 1.3
    centres = np.arange(50, 4000, 100)
    cx, cy = np.meshgrid(centres, np.arange(50, 1000, 100))
    cx, cy = cx.ravel(), cy.ravel()
    near = cdist(np.column_stack([cx, cy]), [(500, 500), (2950, 100)]).min(axis=1) <= radius
    street = (cx // 1000).astype(int)
    populations = np.array([1000, 2000, 3000, 0])
    expected = np.bincount(street, weights=near * populations[street] / 100, minlength=4)
    codes = ["110001001", "110001002", "110002001", "110002002"]
    np.testing.assert_allclose(result.loc[codes, "numerator"], expected, rtol=1e-12)
    np.testing.assert_allclose(result.loc[codes, "denominator"], populations)
    assert 0 < expected[1] < 2000  # A2 is partly covered

    table = evaluate(city, plan, indicators=["mother_baby_room_access"])
    district = table[(table.level == "district") & (table.unit_code == "110001")].iloc[0]
    assert district.numerator == pytest.approx(expected[:2].sum())
    assert district.value == pytest.approx(expected[:2].sum() / 3000 * 100)
    assert district.shortfall == np.ceil(3000 - expected[:2].sum() - 1e-9)
    empty = table[(table.level == "street") & (table.unit_code == "110002002")].iloc[0]
    assert empty.status == "no_data" and empty.shortfall == 0


def test_catchment_overrides_change_the_life_circle(tiny_city, plan):
    city = _with_layer(tiny_city, "mother_baby_room", [(500, 500)])
    indicator = plan.indicator("mother_baby_room_access")
    wide = unit_measures(city, indicator, plan=plan,
                         settings=AccessSettings(catchments={"mother_baby_room_access": 5000}))
    # 5,000 m ÷ 1.3 = 3,846 m covers the first three streets entirely.
    np.testing.assert_allclose(wide["numerator"].to_numpy(), [1000, 2000, 3000, 0])


def test_accessible_ratio_conserves_supply_and_weights_by_population(tiny_city, plan):
    city = _with_layer(tiny_city, "childcare", [(500, 500), (3000, 500), (3900, 900)],
                       places=[30, 60, 15], inclusive_places=[0, 0, 0])
    indicator = plan.indicator("childcare_places_accessible_per_1000")
    result = unit_measures(city, indicator, plan=plan)
    # Every facility has residents within 769 m except the one at 3.9 km (B2 is empty and the
    # nearest populated cell centre, B1's (2950, 950), is 950 m away): 30 + 60 places are shared.
    assert result["numerator"].sum() == pytest.approx(90.0)
    # The first facility (reach to x = 1,269 m) serves only A1 and A2, the second (from 2,231 m)
    # only B1: each street group gets exactly its facility's places.
    assert result.loc["110001001", "numerator"] + result.loc["110001002", "numerator"] == pytest.approx(30.0)
    assert result.loc["110002001", "numerator"] == pytest.approx(60.0)
    table = evaluate(city, plan, indicators=["childcare_places_accessible_per_1000"], levels=["city"])
    assert table.iloc[0].value == pytest.approx(90.0 / 6000 * 1000)


def test_wide_2sfca_catchments_use_a_coarser_grid_with_the_same_totals(tiny_city, plan):
    city = _with_layer(tiny_city, "elderly_care", [(500, 500)], beds=[40], nursing_beds=[0],
                       medical_integration=[False])
    indicator = plan.indicator("elderly_beds_accessible_per_1000")  # 30 minutes' drive
    points, population, numerator = point_measures(city, indicator, plan=plan)
    assert points.resolution_m == 500  # 15 km ÷ 1.3 ÷ 20 → 500 m squares
    assert population.sum() == pytest.approx(6000) and numerator.sum() == pytest.approx(40)


def test_network_settings_cover_what_networkx_says_is_within_reach(tiny_city, plan):
    # A 100 m street grid over the tiny city, shifted (30 m, 20 m) so every cell centre has one
    # nearest node; lengths are the straight lines.
    graph = nx.MultiDiGraph(crs=METRIC)
    xs, ys = np.arange(30, 4001, 100), np.arange(20, 1001, 100)
    for x in xs:
        for y in ys:
            graph.add_node((x, y), x=X0 + x, y=Y0 + y)
            for dx, dy in ((100, 0), (0, 100)):
                if x + dx <= 4000 and y + dy <= 1000:
                    graph.add_edge((x, y), (x + dx, y + dy), length=100.0)
    network = network_from_graph(graph)
    room = (1530, 520)  # on a node
    city = _with_layer(tiny_city, "mother_baby_room", [room])
    indicator = plan.indicator("mother_baby_room_access")
    settings = AccessSettings(network=network)
    demand = demand_points(city)
    covered = coverage_within(demand.xy, np.array([[X0 + room[0], Y0 + room[1]]]), max_cost=1000,
                              weight="length", settings=settings)
    # networkx: path length from the room's node to each cell's nearest node + the snap walk.
    local = np.column_stack([demand.x - X0, demand.y - Y0])
    lengths = nx.single_source_dijkstra_path_length(graph.to_undirected(), room, weight="length")
    node_xy = np.array(list(lengths.keys()), dtype=float)
    node_cost = np.array(list(lengths.values()))
    nearest = cdist(local, node_xy).argmin(axis=1)
    expected = node_cost[nearest] + np.hypot(*(local - node_xy[nearest]).T) <= 1000
    np.testing.assert_array_equal(covered, expected)
    assert 50 < covered.sum() < 250
    result = unit_measures(city, indicator, plan=plan, settings=settings, demand=demand)
    assert result["numerator"].sum() == pytest.approx(demand.weight("pop_total")[expected].sum())


def test_catchment_outlines_are_discs_or_reached_nodes(tiny_city, plan):
    from geo_coverage.access import catchment_outlines

    city = _with_layer(tiny_city, "mother_baby_room", [(500, 500), (2500, 500)])
    indicator = plan.indicator("mother_baby_room_access")
    discs = catchment_outlines(city, indicator, facility_ids=["mother_baby_room1"])
    assert discs["id"].tolist() == ["mother_baby_room1"]
    assert discs.geometry.iloc[0].area == pytest.approx(np.pi * (1000 / 1.3) ** 2, rel=0.01)

    graph = nx.MultiDiGraph(crs=METRIC)
    for k in range(11):  # one east–west street of 100 m blocks through the first room
        graph.add_node(k, x=X0 + k * 100, y=Y0 + 500)
        if k:
            graph.add_edge(k - 1, k, length=100.0)
    settings = AccessSettings(network=network_from_graph(graph))
    outline = catchment_outlines(city, indicator, facility_ids=["mother_baby_room0"],
                                 settings=settings).geometry.iloc[0]
    # Nodes 0–10 are within 1,000 m of the room at node 5 (500 m each way): a 1 km line, widened.
    assert outline.bounds == pytest.approx((X0 - 50, Y0 + 450, X0 + 1050, Y0 + 550))


def test_a_network_in_another_crs_is_refused(tiny_city, plan):
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    graph.add_node(1, x=116.4, y=39.9)
    graph.add_node(2, x=116.41, y=39.9)
    graph.add_edge(1, 2, length=850.0)
    city = _with_layer(tiny_city, "mother_baby_room", [(500, 500)])
    settings = AccessSettings(network=network_from_graph(graph, crs="EPSG:3857"))
    with pytest.raises(ValueError, match="road network is in"):
        unit_measures(city, plan.indicator("mother_baby_room_access"), plan=plan, settings=settings)


def test_demand_is_shared_by_datasets_that_differ_only_in_facilities(tiny_city):
    from geo_coverage.access import cached_demand_points

    first = cached_demand_points(tiny_city)
    edited = _with_layer(tiny_city, "mother_baby_room", [(500, 500)])
    assert cached_demand_points(edited) is first
    grown = tiny_city.with_units("street", tiny_city.units["street"].assign(
        pop_total=tiny_city.units["street"]["pop_total"] * 2))
    doubled = cached_demand_points(grown)
    assert doubled is not first
    assert doubled.weight("pop_total").sum() == pytest.approx(2 * first.weight("pop_total").sum())


def test_districts_only_datasets_measure_per_district(tiny_city, plan):
    from geo_coverage.dataset import Dataset

    districts_only = Dataset(units={k: v for k, v in tiny_city.units.items() if k != "street"},
                             layers=dict(tiny_city.layers), crs=tiny_city.crs)
    city = _with_layer(districts_only, "mother_baby_room", [(500, 500)])
    result = unit_measures(city, plan.indicator("mother_baby_room_access"), plan=plan)
    assert result.index.tolist() == ["110001", "110002"]
    # District A's 3,000 residents are spread evenly over 2 km²: 15 people per 100 m cell.
    np.testing.assert_allclose(result["denominator"], [3000, 3000])
    radius = 1000 / 1.3
    cx, cy = np.meshgrid(np.arange(50, 2000, 100), np.arange(50, 1000, 100))
    near = np.hypot(cx - 500, cy - 500) <= radius
    assert result.loc["110001", "numerator"] == pytest.approx(near.sum() * 15)
    assert result.loc["110002", "numerator"] == 0


def test_accessible_ratio_on_a_network_conserves_the_reachable_supply(tiny_city, plan):
    graph = nx.MultiDiGraph(crs=METRIC)
    for k in range(41):  # one east–west street along the middle of the four streets
        graph.add_node(k, x=X0 + 30 + k * 100, y=Y0 + 520)
        if k:
            graph.add_edge(k - 1, k, length=100.0)
    settings = AccessSettings(network=network_from_graph(graph))
    city = _with_layer(tiny_city, "childcare", [(530, 520), (3930, 520)], places=[30, 15],
                       inclusive_places=[0, 0])
    indicator = plan.indicator("childcare_places_accessible_per_1000")
    result = unit_measures(city, indicator, plan=plan, settings=settings)
    # The first centre reaches A1 and A2 cells within 1,000 m along the street (plus the walk to
    # it); the second sits at the east end of the empty street B2, and B1's nearest cell centre,
    # (2,950, 550), snaps to the node at 2,930 m: 1,000 m along the street plus a 36 m walk, out.
    assert result["numerator"].sum() == pytest.approx(30.0)
    assert result.loc[["110002001", "110002002"], "numerator"].sum() == 0
