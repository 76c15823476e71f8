"""Siting models: hand-checked optima, agreement with PySAL spopt, the shared model shape."""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sparse
import shapely
from pyproj import Transformer

from geo_coverage.catchment import CostTable, straight_line_costs
from geo_coverage.datum import to_wgs84
from geo_coverage.errors import DataError
from geo_coverage.optimize import (
    LSCP,
    MCLP,
    CapacityGap,
    PCenter,
    PMedian,
    Solution,
    grid_candidates,
    solution_to_edits,
    table_candidates,
    unit_needs,
)

CRS = "EPSG:32650"

# PuLP (used by spopt, the peer) warns about its own API on every variable it creates.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp")


def line_costs(demand_x, candidate_x):
    """Dense |x_i − x_j| costs for points on a line."""
    return np.abs(np.subtract.outer(np.asarray(demand_x, float), np.asarray(candidate_x, float)))


# --- hand-checked optima ------------------------------------------------------------------------


def test_lscp_line_needs_three_sites():
    # Seven demand points at x = 0…6, candidates at the same places, radius 1: a site covers
    # itself and its two neighbours (3 points), so 7 points need at least ceil(7/3) = 3 sites,
    # and 3 suffice ({1, 4, 6} or {1, 4, 5}…); everything is covered.
    x = np.arange(7)
    solution = LSCP.from_cost_matrix(line_costs(x, x), max_cost=1).solve()
    assert solution.objective == 3 and len(solution.selected) == 3
    assert solution.coverage_share == 1.0 and solution.status == "optimal"
    covered = {int(d) for s in solution.selected for d in x if abs(d - int(s)) <= 1}
    assert covered == set(range(7))


def test_lscp_coverage_target_and_existing():
    # Weights 1, 1, 1, 1, 1, 1, 94 at x = 0…6 (total 100): covering 95 % needs the heavy point
    # (94) and one more, which one site next to it does (site 5 covers 4, 5, 6 → 96) → 1 site.
    x = np.arange(7)
    weights = np.array([1, 1, 1, 1, 1, 1, 94])
    solution = LSCP.from_cost_matrix(
        line_costs(x, x), weights, max_cost=1, coverage_target=0.95
    ).solve()
    assert solution.objective == 1 and solution.covered_weight >= 95
    # With site 1 already open (covering 0, 1, 2), full cover needs 2 new sites (e.g. 4 and 6,
    # or 4 and 5), and the existing site is reported, not counted.
    solution = LSCP.from_cost_matrix(line_costs(x, x), weights, max_cost=1, existing=["1"]).solve()
    assert solution.objective == 2 and solution.existing == ("1",) and "1" not in solution.selected
    assert solution.coverage_share == 1.0


def test_lscp_reports_unreachable_demand_instead_of_failing():
    # Demand at x = 0, 1 and 50; candidates at 0 and 1; radius 1: x = 50 is out of every reach,
    # so one site covers all reachable demand and the share is 2 of 3.
    solution = LSCP.from_cost_matrix(line_costs([0, 1, 50], [0, 1]), max_cost=1).solve()
    assert solution.objective == 1
    assert solution.coverage_share == pytest.approx(2 / 3)


def mclp_instance():
    # Demand a (10), b (20), c (5); pairs a–X 1, b–X 3, b–Y 1, c–Y 2 (long form).
    pairs = (np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1]), np.array([1.0, 3.0, 1.0, 2.0]))
    return pairs, np.array([10.0, 20.0, 5.0])


def test_mclp_by_hand():
    pairs, weights = mclp_instance()
    ids = {"demand_ids": ["a", "b", "c"], "candidate_ids": ["X", "Y"]}
    # Radius 1.5: X covers a (10), Y covers b (20). One site → Y, 20 of 35.
    solution = MCLP.from_cost_matrix(pairs, weights, max_cost=1.5, facilities=1, **ids).solve()
    assert solution.selected == ("Y",) and solution.objective == 20
    assert solution.coverage_share == pytest.approx(20 / 35)
    # Radius 2: Y also covers c → 25. Two sites → a, b, c all covered → 35.
    assert (
        MCLP.from_cost_matrix(pairs, weights, max_cost=2, facilities=1, **ids).solve().objective
        == 25
    )
    assert (
        MCLP.from_cost_matrix(pairs, weights, max_cost=2, facilities=2, **ids).solve().objective
        == 35
    )
    # Y already open (covers b, c at radius 2); one new site → X, adding a: 35 in total.
    solution = MCLP.from_cost_matrix(
        pairs, weights, max_cost=2, facilities=1, existing=["Y"], **ids
    ).solve()
    assert solution.selected == ("X",) and solution.objective == 35 and solution.existing == ("Y",)
    assignment = solution.assignment.set_index("demand_id")["candidate_id"].to_dict()
    assert assignment == {"a": "X", "b": "Y", "c": "Y"}  # b is nearer Y (1) than X (3)


def test_pmedian_by_hand():
    # Demand at 0 (weight 1), 1 (3), 10 (2), 11 (1); candidates at 0, 0.5, 1, 10, 10.5, 11; p = 2.
    # Left cluster: site 1 costs 1·1 = 1, site 0.5 costs 0.5 + 1.5 = 2, site 0 costs 3.
    # Right cluster: site 10 costs 1·1 = 1, site 10.5 costs 1 + 0.5 = 1.5, site 11 costs 2.
    # One site per cluster is best (one site for both would cost ≥ 9 × 1 for the far pair), so
    # {1, 10} with total 2.
    demand, candidates = [0, 1, 10, 11], [0, 0.5, 1, 10, 10.5, 11]
    solution = PMedian.from_cost_matrix(
        line_costs(demand, candidates),
        [1, 3, 2, 1],
        facilities=2,
        candidate_ids=["0", "0.5", "1", "10", "10.5", "11"],
    ).solve()
    assert set(solution.selected) == {"1", "10"}
    assert solution.objective == pytest.approx(2.0)
    assert solution.assignment["candidate_id"].tolist() == ["1", "1", "10", "10"]


def test_pcenter_by_hand():
    # Demand at 0, 2, 10, 14; candidates at 1, 6, 12; p = 2.
    # {1, 12}: largest distance max(1, 1, 2, 2) = 2; {1, 6}: 14 → 6 = 8; {6, 12}: 0 → 6 = 6.
    solution = PCenter.from_cost_matrix(
        line_costs([0, 2, 10, 14], [1, 6, 12]), facilities=2, candidate_ids=["1", "6", "12"]
    ).solve()
    assert set(solution.selected) == {"1", "12"} and solution.objective == pytest.approx(2.0)


def test_capacity_gap_by_hand():
    # Beds per 1,000 with target 4.5: U1 has 50,000 people and 125 beds → needs 225 − 125 = 100;
    # U2 20,000 people, 50 beds → 90 − 50 = 40; U3 10,000 people, 60 beds → 45 − 60 < 0 → 0.
    need = unit_needs([50_000, 20_000, 10_000], [125, 50, 60], target=4.5, scale=1000)
    assert need.tolist() == pytest.approx([100, 40, 0])
    # Candidates A (in U1, 70 beds), B (U2, 70), C (U1, 50), D (U3, 70); two facilities, each
    # serving only its own unit: A+B closes 70 + 40 = 110, A+C 100 (U1 is capped at its need),
    # B+C 40 + 50 = 90, anything with D adds 0 → A+B, 110 of 140.
    pairs = (np.array([0, 1, 0, 2]), np.array([0, 1, 2, 3]), np.zeros(4))
    model = CapacityGap.from_cost_matrix(
        pairs,
        need,
        capacity=[70, 70, 50, 70],
        facilities=2,
        demand_ids=["U1", "U2", "U3"],
        candidate_ids=list("ABCD"),
    )
    solution = model.solve()
    assert set(solution.selected) == {"A", "B"}
    assert solution.objective == pytest.approx(110)
    assert solution.coverage_share == pytest.approx(110 / 140)
    amounts = solution.assignment.set_index("candidate_id")["amount"]
    assert amounts["A"] == pytest.approx(70) and amounts["B"] == pytest.approx(40)


def test_capacity_gap_from_polygons_serves_own_unit_or_units_in_reach():
    # Two 1 km squares side by side; U1 needs 100, U2 needs 30; one candidate in each, 80 beds.
    units = gpd.GeoDataFrame(
        {"code": ["U1", "U2"], "need": [100.0, 30.0]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        crs=CRS,
    )
    candidates = gpd.GeoDataFrame(
        {"id": ["in1", "in2"]}, geometry=shapely.points([[500, 500], [1900, 500]]), crs=CRS
    )
    # Own unit only, one facility: in1 closes 80 (U1 needs 100), in2 closes 30 → in1.
    solution = CapacityGap.from_geodataframes(
        units, candidates, weight_column="need", capacity=80, facilities=1, candidate_id_column="id"
    ).solve()
    assert solution.selected == ("in1",) and solution.objective == pytest.approx(80)
    # in1 (500, 500) is 500 m from U2; in2 (1900, 500) is 900 m from U1.  Within 600 m, in2
    # still reaches only U2: two facilities close 80 (in1 → U1) + 30 (in2 → U2) = 110.
    two = {"weight_column": "need", "capacity": 80, "facilities": 2, "candidate_id_column": "id"}
    assert CapacityGap.from_geodataframes(
        units, candidates, max_cost=600, **two
    ).solve().objective == pytest.approx(110)
    # Within 1,000 m in2 also reaches U1 and gives it its spare 50: all 130 of need is closed.
    assert CapacityGap.from_geodataframes(
        units, candidates, max_cost=1000, **two
    ).solve().objective == pytest.approx(130)


# --- agreement with PySAL spopt on seeded random instances ---------------------------------------


def random_instance(seed, demand=40, candidates=12):
    rng = np.random.default_rng(seed)
    demand_xy = rng.uniform(0, 10, size=(demand, 2))
    candidate_xy = rng.uniform(0, 10, size=(candidates, 2))
    weights = rng.integers(1, 20, size=demand).astype(float)
    # Every pair (max_cost=None), as the dense matrix spopt takes.
    return straight_line_costs(
        demand_xy, candidate_xy, max_cost=None
    ).to_sparse().toarray(), weights


@pytest.fixture(scope="module")
def spopt():
    locate = pytest.importorskip("spopt.locate")
    pulp = pytest.importorskip("pulp")
    solver = (
        pulp.HiGHS(msg=False)
        if "HiGHS" in pulp.listSolvers(onlyAvailable=True)
        else pulp.PULP_CBC_CMD(msg=False)
    )
    return locate, pulp, solver


@pytest.mark.parametrize("seed", [1, 2])
def test_mclp_agrees_with_spopt(spopt, seed):
    locate, pulp, solver = spopt
    costs, weights = random_instance(seed)
    ours = MCLP.from_cost_matrix(costs, weights, max_cost=2.5, facilities=3).solve(mip_gap=0)
    theirs = locate.MCLP.from_cost_matrix(costs, weights, service_radius=2.5, p_facilities=3).solve(
        solver
    )
    assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective))
    # With candidate 0 already open, spopt counts it among its p.
    forced = np.zeros(costs.shape[1], dtype=int)
    forced[0] = 1
    ours = MCLP.from_cost_matrix(costs, weights, max_cost=2.5, facilities=3, existing=[0]).solve(
        mip_gap=0
    )
    theirs = locate.MCLP.from_cost_matrix(
        costs, weights, service_radius=2.5, p_facilities=4, predefined_facilities_arr=forced
    ).solve(solver)
    assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective))


@pytest.mark.parametrize("seed", [1, 2])
def test_lscp_agrees_with_spopt(spopt, seed):
    locate, pulp, solver = spopt
    costs, weights = random_instance(seed)
    radius = costs.min(axis=1).max() + 1.0  # every demand point has a candidate in reach
    ours = LSCP.from_cost_matrix(costs, weights, max_cost=radius).solve(mip_gap=0)
    theirs = locate.LSCP.from_cost_matrix(costs, service_radius=radius).solve(solver)
    assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective))
    assert ours.coverage_share == 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_pmedian_agrees_with_spopt(spopt, seed):
    locate, pulp, solver = spopt
    costs, weights = random_instance(seed)
    ours = PMedian.from_cost_matrix(costs, weights, facilities=3).solve(mip_gap=0)
    theirs = locate.PMedian.from_cost_matrix(costs, weights, p_facilities=3).solve(solver)
    assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective), rel=1e-6)
    # The objective is the weighted cost of the reported nearest-site assignment.
    cost = ours.assignment["cost"].to_numpy()
    assert ours.objective == pytest.approx(float(weights @ cost), rel=1e-6)


def test_pcenter_agrees_with_spopt(spopt):
    locate, pulp, solver = spopt
    costs, weights = random_instance(3, demand=25, candidates=8)
    ours = PCenter.from_cost_matrix(costs, weights, facilities=2).solve(mip_gap=0)
    theirs = locate.PCenter.from_cost_matrix(costs, p_facilities=2).solve(solver)
    assert ours.objective == pytest.approx(pulp.value(theirs.problem.objective), rel=1e-6)


def test_merging_identical_demand_changes_nothing():
    # Every demand point repeated three times (identical reach, merged internally) must give
    # the same optimum as the single points with three times the weight.
    costs, weights = random_instance(4, demand=30, candidates=10)
    once = MCLP.from_cost_matrix(costs, weights * 3, max_cost=2.5, facilities=3).solve(mip_gap=0)
    thrice = MCLP.from_cost_matrix(
        np.repeat(costs, 3, axis=0), np.repeat(weights, 3), max_cost=2.5, facilities=3
    ).solve(mip_gap=0)
    assert thrice.objective == pytest.approx(once.objective)


# --- the shared shape ----------------------------------------------------------------------------


def test_solving_twice_is_identical_and_leaves_the_model_alone():
    costs, weights = random_instance(5)
    model = MCLP.from_cost_matrix(
        sparse.csr_array(costs * (costs <= 3)), weights, max_cost=3, facilities=3, existing=[1]
    )
    before = (model.demand_weights.copy(), model.existing, model.facilities, model.pair_count)
    first, second = model.solve(), model.solve()
    assert dataclasses.replace(first, solve_seconds=0) == dataclasses.replace(
        second, solve_seconds=0
    )
    assert (model.demand_weights == before[0]).all()
    assert (model.existing, model.facilities, model.pair_count) == before[1:]
    with pytest.raises(ValueError):
        model.demand_weights[0] = 99.0  # read-only: no caller can change a later solve
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.objective = 0
    assert isinstance(first, Solution) and all(isinstance(i, str) for i in first.selected)


def test_sparse_zero_cost_is_a_pair():
    # A candidate exactly on the demand point has cost 0; stored explicitly it must count.
    costs = sparse.coo_array((np.array([0.0]), (np.array([0]), np.array([1]))), shape=(1, 2))
    solution = MCLP.from_cost_matrix(costs, [5.0], max_cost=1, facilities=1).solve()
    assert solution.selected == ("1",) and solution.objective == 5


def test_a_cost_table_is_taken_as_it_is():
    """straight_line_costs (catchment's, the package's one) feeds every model directly."""
    # Demand at x = 0…8 (weight x + 1), candidates at the same places.  Radius 1: sites 1, 4
    # and 7 cover all nine points, 45 in all.  p-median with 3 sites and every pair: the weight
    # pulls the sites right, to 2, 5 and 8 (points 0 and 1 at 2 and 1 from site 2, the others 1
    # or 0 from theirs): 1×2 + 2×1 + 4 + 5 + 7 + 8 = 28, against 29 for {2, 5, 7} or {3, 6, 8}
    # and 30 for {1, 4, 7}; brute force over all 84 triples agrees.
    x = np.arange(9, dtype=float)
    points = np.column_stack([x, np.zeros(9)])
    weights = x + 1
    within = straight_line_costs(points, points, max_cost=1.0)
    assert isinstance(within, CostTable) and len(within) == 9 + 2 * 8
    mclp = MCLP.from_cost_matrix(within, weights, max_cost=1, facilities=3).solve(mip_gap=0)
    assert set(mclp.selected) == {"1", "4", "7"} and mclp.objective == 45
    every = straight_line_costs(points, points, max_cost=None)
    median = PMedian.from_cost_matrix(every, weights, facilities=3).solve(mip_gap=0)
    dense = PMedian.from_cost_matrix(line_costs(x, x), weights, facilities=3).solve(mip_gap=0)
    assert set(median.selected) == set(dense.selected) == {"2", "5", "8"}
    assert median.objective == pytest.approx(28) and dense.objective == pytest.approx(28)
    costs = line_costs(x, x)
    assert (
        min(
            weights @ costs[:, list(sites)].min(axis=1)
            for sites in itertools.combinations(range(9), 3)
        )
        == 28
    )


def test_every_public_name_is_still_importable_from_the_package():
    import geo_coverage.optimize as optimize

    names = {
        "Solution",
        "LSCP",
        "MCLP",
        "PMedian",
        "PCenter",
        "CapacityGap",
        "cost_pairs_from_table",
        "straight_line_costs",
        "unit_needs",
        "grid_candidates",
        "layer_candidates",
        "table_candidates",
        "solution_to_edits",
    }
    assert set(optimize.__all__) == names
    assert all(getattr(optimize, name).__module__.startswith("geo_coverage.") for name in names)
    # One straight-line cost function in the package: the optimiser uses catchment's.
    assert optimize.straight_line_costs is straight_line_costs


def test_input_errors_say_what_to_fix():
    costs, weights = random_instance(6, demand=5, candidates=3)
    with pytest.raises(DataError, match="4 new facilities asked for but only 3"):
        MCLP.from_cost_matrix(costs, weights, max_cost=3, facilities=4)
    with pytest.raises(DataError, match="needs max_cost"):
        MCLP.from_cost_matrix(costs, weights, max_cost=None, facilities=1)
    with pytest.raises(DataError, match="number of facilities to site is missing"):
        PMedian.from_cost_matrix(costs, weights, facilities=None)
    with pytest.raises(DataError, match="negative or missing"):
        MCLP.from_cost_matrix(costs, -weights, max_cost=3, facilities=1)
    with pytest.raises(DataError, match="'Z' is not among the candidates"):
        MCLP.from_cost_matrix(costs, weights, max_cost=3, facilities=1, existing=["Z"])
    with pytest.raises(DataError, match="no candidate within reach"):
        PMedian.from_cost_matrix(line_costs([0, 100], [0, 1]), facilities=1, max_cost=5).solve()


# --- GeoDataFrames ------------------------------------------------------------------------------


def point_frames(seed=7):
    rng = np.random.default_rng(seed)
    demand = gpd.GeoDataFrame(
        {"code": [f"d{i:03d}" for i in range(30)], "pop": rng.integers(1, 50, 30)},
        geometry=shapely.points(rng.uniform(0, 5000, (30, 2))),
        crs=CRS,
    )
    candidates = gpd.GeoDataFrame(
        {"id": [f"{i:03d}" for i in range(8)]},
        geometry=shapely.points(rng.uniform(0, 5000, (8, 2))),
        crs=CRS,
    )
    return demand, candidates


def test_from_geodataframes_matches_the_cost_matrix():
    demand, candidates = point_frames()
    model = MCLP.from_geodataframes(
        demand,
        candidates,
        weight_column="pop",
        max_cost=1500,
        facilities=2,
        demand_id_column="code",
        candidate_id_column="id",
    )
    coordinates = (
        shapely.get_coordinates(demand.geometry.values),
        shapely.get_coordinates(candidates.geometry.values),
    )
    dense = np.linalg.norm(coordinates[0][:, None, :] - coordinates[1][None, :, :], axis=2)
    direct = MCLP.from_cost_matrix(
        dense, demand["pop"], max_cost=1500, facilities=2, candidate_ids=candidates["id"]
    ).solve()
    solution = model.solve()
    assert solution.objective == direct.objective
    assert all(len(i) == 3 for i in solution.selected)  # '003', leading zeros kept
    # Existing facilities as a frame: appended and fixed open.
    existing = gpd.GeoDataFrame({"id": ["old"]}, geometry=shapely.points([[2500, 2500]]), crs=CRS)
    solution = MCLP.from_geodataframes(
        demand,
        candidates,
        weight_column="pop",
        max_cost=1500,
        facilities=2,
        existing=existing,
        candidate_id_column="id",
    ).solve()
    assert solution.existing == ("old",) and "old" not in solution.selected


def test_from_geodataframes_checks_crs_and_geometry():
    demand, candidates = point_frames()
    with pytest.raises(DataError, match="different CRSs"):
        MCLP.from_geodataframes(demand, candidates.to_crs(3857), max_cost=1, facilities=1)
    with pytest.raises(DataError, match="geographic CRS"):
        MCLP.from_geodataframes(
            demand.to_crs(4326), candidates.to_crs(4326), max_cost=1, facilities=1
        )
    with pytest.raises(DataError, match="must be points"):
        MCLP.from_geodataframes(
            demand.assign(geometry=demand.buffer(5)), candidates, max_cost=1, facilities=1
        )
    with pytest.raises(DataError, match="not a number"):
        MCLP.from_geodataframes(
            demand.assign(pop="many"), candidates, weight_column="pop", max_cost=1, facilities=1
        )


# --- candidates and edits -------------------------------------------------------------------------


def test_grid_candidates_inside_units():
    # A 1,000 m square from (0, 0): lattice points strictly inside at 250 m spacing are
    # x, y ∈ {250, 500, 750} → 9; the L-shaped second unit overlaps nothing.
    units = gpd.GeoDataFrame(
        {"code": ["sq", "far"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(5000, 5000, 5600, 5300)],
        crs=CRS,
    )
    grid = grid_candidates(units, spacing=250, unit_codes=["sq"])
    assert len(grid) == 9 and set(grid["unit_code"]) == {"sq"}
    assert "grid-500-750" in set(grid["id"])
    both = grid_candidates(units, spacing=250)
    # far: x ∈ {5250, 5500} (5000 and 5600 lie outside the lattice or on the edge), y = 5250 → 2.
    assert len(both) == 11
    overlapping = pd.concat([units, units.iloc[[0]].assign(code="copy")])
    assert len(grid_candidates(overlapping, spacing=250)) == 11  # shared points appear once


def test_table_candidates_converts_datum_and_reports_rows():
    table = pd.DataFrame(
        {"id": ["001", "002"], "lon": ["116.40", "116.45"], "lat": ["39.90", "39.95"]}
    )
    frame = table_candidates(table, crs=CRS, datum="gcj02")
    lon, lat = to_wgs84([116.40, 116.45], [39.90, 39.95], "gcj02")
    back = frame.to_crs(4326)
    assert back.geometry.x.to_numpy() == pytest.approx(lon, abs=1e-9)
    assert back.geometry.y.to_numpy() == pytest.approx(lat, abs=1e-9)
    assert frame["id"].tolist() == ["001", "002"]
    with pytest.raises(DataError, match="row 3, column 'lat'"):
        table_candidates(table.assign(lat=["39.9", "north"]), crs=CRS, file="sites.csv")


def test_solution_to_edits():
    demand, candidates = point_frames()
    solution = MCLP.from_geodataframes(
        demand,
        candidates,
        weight_column="pop",
        max_cost=1500,
        facilities=2,
        candidate_id_column="id",
    ).solve()
    edits = solution_to_edits(solution, candidates, kind="elderly_care", attributes={"beds": 300})
    assert [edit["id"] for edit in edits] == [f"mclp-{i}" for i in solution.selected]
    to_wgs = Transformer.from_crs(CRS, 4326, always_xy=True)
    for edit, candidate_id in zip(edits, solution.selected, strict=True):
        point = candidates.set_index("id").geometry[candidate_id]
        lon, lat = to_wgs.transform(point.x, point.y)
        assert (edit["action"], edit["kind"], edit["datum"]) == ("add", "elderly_care", "wgs84")
        assert edit["lon"] == pytest.approx(lon) and edit["lat"] == pytest.approx(lat)
        assert edit["attributes"]["beds"] == 300 and edit["attributes"]["source"].startswith(
            "scenario:"
        )


# --- the MCLP start: exact re-solves around open sites, and the proof by the plain bound ----------


def brute_force_mclp(covers, weights, facilities, existing=()):
    """Best covered weight over every choice of ``facilities`` new sites (tiny instances only)."""
    free = [j for j in range(covers.shape[1]) if j not in existing]
    best = 0.0
    for chosen in itertools.combinations(free, facilities):
        open_sites = list(chosen) + list(existing)
        best = max(best, float(weights[covers[:, open_sites].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize(
    "seed, radius, facilities", [(11, 2.0, 3), (12, 2.5, 4), (13, 3.5, 3), (14, 4.5, 2)]
)
def test_mclp_matches_brute_force(seed, radius, facilities):
    # 40 demand points, 12 candidates on a 10 × 10 square: every 3- or 4-subset is tried.  The
    # larger radii let p sites cover (nearly) everything, where the start alone proves the
    # optimum against the bound "all weight in reach"; the smaller ones need HiGHS.
    costs, weights = random_instance(seed)
    covers = costs <= radius
    expected = brute_force_mclp(covers, weights, facilities)
    solution = MCLP.from_cost_matrix(costs, weights, max_cost=radius, facilities=facilities).solve(
        mip_gap=0
    )
    assert solution.objective == pytest.approx(expected)
    chosen = [int(j) for j in solution.selected]
    assert float(weights[covers[:, chosen].any(axis=1)].sum()) == pytest.approx(expected)
    assert solution.status == "optimal" and solution.gap == 0
    # With existing site 0, spopt-style: brute force over the others.
    expected = brute_force_mclp(covers, weights, facilities, existing=(0,))
    solution = MCLP.from_cost_matrix(
        costs, weights, max_cost=radius, facilities=facilities, existing=[0]
    ).solve(mip_gap=0)
    assert solution.objective == pytest.approx(expected)


def test_full_cover_found_by_the_start_is_proven_without_the_full_mip(monkeypatch):
    import geo_coverage.optimize.mclp as mclp_module

    # Demand at x = 0…8 on a line, candidates at the same places, radius 1: sites 1, 4 and 7
    # cover all nine points (and no other 3 sites do), so the optimum is the total weight, which
    # is also the plain upper bound: the start proves it and the full MIP is never built.
    x = np.arange(9)
    weights = np.arange(1, 10, dtype=float)
    names = []
    real_run = mclp_module.solve_program

    def recording_run(program, **options):
        names.append(options["name"])
        return real_run(program, **options)

    monkeypatch.setattr(mclp_module, "solve_program", recording_run)
    solution = MCLP.from_cost_matrix(line_costs(x, x), weights, max_cost=1, facilities=3).solve(
        mip_gap=0
    )
    assert set(solution.selected) == {"1", "4", "7"}
    assert solution.objective == 45 and solution.coverage_share == 1.0
    assert solution.status == "optimal" and solution.gap == 0
    assert "mclp" not in names
    # Two sites cannot cover nine points (each covers at most 3): the full MIP is solved.
    names.clear()
    solution = MCLP.from_cost_matrix(line_costs(x, x), weights, max_cost=1, facilities=2).solve(
        mip_gap=0
    )
    # Point x weighs x + 1.  Best pair: the heaviest triples {6, 7, 8} (site 7: 7 + 8 + 9) and
    # {3, 4, 5} (site 4: 4 + 5 + 6), 24 + 15 = 39; any other pair overlaps or takes lighter points.
    assert solution.objective == 39 and set(solution.selected) == {"4", "7"}
    assert "mclp" in names


def test_neighbourhood_resolves_escape_a_swap_local_optimum():
    from geo_coverage.optimize.heuristics import improve_by_subproblems, improve_by_swaps

    # Candidates A, B, C, D; two sites.  Rows (reach: weight): {A}: 1, {B}: 1, {C}: 3, {D}: 3,
    # {A, C}: 3, {B, D}: 3, {A, D}: 3, {B, C}: 3, {A, B}: 1.
    # {A, B} covers 1+1+3+3+3+3+1 = 15; every 1-swap covers 14 ({A, C}: 1+3+3+3+3+1, the others
    # alike), so 1-swaps stop at {A, B}; {C, D} covers 3+3+3+3+3+3 = 18, the optimum.  A shares
    # a row with every candidate, so re-solving around A moves both sites at once.
    reach = [[0], [1], [2], [3], [0, 2], [1, 3], [0, 3], [1, 2], [0, 1]]
    weights = np.array([1, 1, 3, 3, 3, 3, 3, 3, 1], dtype=float)
    rows = np.repeat(np.arange(len(reach)), [len(r) for r in reach])
    matrix = sparse.csr_array(
        (np.ones(rows.size), (rows, np.concatenate(reach))), shape=(len(reach), 4)
    )
    start = np.array([True, True, False, False])
    nowhere = np.zeros(4, dtype=bool)
    assert (
        improve_by_swaps(matrix, matrix.T.tocsr(), weights, start, nowhere).tolist()
        == start.tolist()
    )
    result = improve_by_subproblems(matrix, weights, start, nowhere)
    assert result.tolist() == [False, False, True, True]
    assert start.tolist() == [True, True, False, False]  # the caller's array is left alone
