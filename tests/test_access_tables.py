"""2SFCA / E2SFCA from id tables: ids factorised once must give the values of the position arrays.

Each case builds a random matrix on positions, writes it as the id tables a planner has (text
ids, numbers or text values, sorted by origin or not), and compares
``accessibility_from_tables`` with ``two_step_fca`` on the positions it was built from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_coverage.access import accessibility_from_tables, enhanced_two_step_fca, two_step_fca
from geo_coverage.access.tables import _RUNS_FROM
from geo_coverage.catchment import CostTable
from geo_coverage.errors import DataError


def _matrix(seed: int, n_demand: int, n_supply: int, n_pairs: int):
    rng = np.random.default_rng(seed)
    pairs = rng.choice(n_demand * n_supply, size=n_pairs, replace=False)
    origin, destination = np.divmod(pairs, n_supply)
    cost = rng.uniform(0, 12, size=len(pairs)).round(3)
    population = rng.integers(0, 500, size=n_demand).astype(float)
    supply = rng.integers(1, 60, size=n_supply).astype(float)
    return population, supply, CostTable.from_arrays(origin, destination, cost, n_origins=n_demand,
                                                     n_destinations=n_supply)


def _tables(population, supply, costs, *, as_text: bool, order=None, id_dtype="str"):
    demand_ids = np.array([f"{i:06d}" for i in range(len(population))], dtype=object)
    supply_ids = np.array([f"S-{j}" for j in range(len(supply))], dtype=object)
    rows = np.arange(len(costs)) if order is None else order
    value = (lambda a: pd.Series(a).map(repr)) if as_text else (lambda a: pd.Series(a))
    demand = pd.DataFrame({"id": demand_ids, "population": value(population)})
    supply_frame = pd.DataFrame({"id": supply_ids, "supply": value(supply)})
    cost_frame = pd.DataFrame({"origin_id": pd.Series(demand_ids[costs.origins[rows]], dtype=id_dtype),
                               "destination_id": pd.Series(supply_ids[costs.destinations[rows]], dtype=id_dtype),
                               "cost": value(costs.costs[rows])})
    return demand, supply_frame, cost_frame


@pytest.mark.parametrize("as_text, id_dtype", [(True, "str"), (False, "str"), (False, "object"),
                                               (True, "string[python]")])
@pytest.mark.parametrize("sort_by_origin", [True, False])
def test_table_path_equals_the_position_arrays(as_text, id_dtype, sort_by_origin):
    # Long enough for the run detection of tables sorted by origin to take part; cost ids as
    # Arrow strings (index_in), plain objects and Python-backed strings (factorised).
    population, supply, costs = _matrix(7, n_demand=3000, n_supply=40, n_pairs=_RUNS_FROM + 20_000)
    order = np.lexsort((costs.destinations, costs.origins)) if sort_by_origin else None
    demand, supply_frame, cost_frame = _tables(population, supply, costs, as_text=as_text, order=order,
                                               id_dtype=id_dtype)
    assert len(cost_frame) > _RUNS_FROM
    for method, expected in (("2sfca", two_step_fca(population, supply, costs, max_cost=10)),
                             ("e2sfca", enhanced_two_step_fca(population, supply, costs, max_cost=10))):
        result = accessibility_from_tables(demand, supply_frame, cost_frame, method=method, max_cost=10)
        assert result["id"].tolist() == demand["id"].tolist()
        # Sums over the same pairs; only the order of additions may differ (sorted vs not).
        np.testing.assert_allclose(result["accessibility"].to_numpy(), expected, rtol=1e-12, atol=0)
        assert (expected > 0).sum() > 2500


def test_ids_are_compared_as_stripped_text_whatever_their_type():
    # Supply A–C as numbers in the supply table, text with spaces in the costs; demand ids
    # categorical in the costs.  The 3×3 hand case of test_access: A0 = 7/30, A1 = 1/30, A2 = 0.
    demand = pd.DataFrame({"id": ["001", "002", "003"], "population": [100, 200, 300]})
    supply = pd.DataFrame({"id": [1, 2, 3], "supply": [10.0, 20.0, 30.0]})
    costs = pd.DataFrame({"origin_id": pd.Categorical(["001", "001", "002", "003"]),
                          "destination_id": [" 1", "2", "1 ", "2"], "cost": ["2", " 8", "5", "12"]})
    result = accessibility_from_tables(demand, supply, costs, max_cost=10)
    np.testing.assert_allclose(result["accessibility"], [1 / 30 + 1 / 5, 1 / 30, 0.0])
    # ' 1' and '1 ' are one facility: its 10 beds are shared by 001 and 002 together.
    assert result["accessibility"].iloc[1] == pytest.approx(10 / 300)


@pytest.mark.parametrize("id_dtype", ["str", "object"])
def test_bad_ids_name_the_row_even_inside_runs(id_dtype):
    population, supply, costs = _matrix(3, n_demand=3000, n_supply=40, n_pairs=_RUNS_FROM + 5_000)
    order = np.lexsort((costs.destinations, costs.origins))
    demand, supply_frame, cost_frame = _tables(population, supply, costs, as_text=True, order=order,
                                               id_dtype=id_dtype)
    row = _RUNS_FROM + 123  # (0-based) inside a run of one origin
    unknown = cost_frame.copy()
    unknown.loc[row, "origin_id"] = "999999"
    with pytest.raises(DataError, match=rf"row {row + 2}, column 'origin_id': Unknown demand id '999999'"):
        accessibility_from_tables(demand, supply_frame, unknown, max_cost=10, origins={"costs": "c.csv"})
    blank = cost_frame.copy()
    blank.loc[row, "destination_id"] = "  "
    with pytest.raises(DataError, match=rf"row {row + 2}, column 'destination_id': Empty id"):
        accessibility_from_tables(demand, supply_frame, blank, max_cost=10, origins={"costs": "c.csv"})
    words = cost_frame.copy()
    words.loc[row, "cost"] = "ten"
    with pytest.raises(DataError, match=rf"row {row + 2}, column 'cost': 'ten' is not a number"):
        accessibility_from_tables(demand, supply_frame, words, max_cost=10, origins={"costs": "c.csv"})


def test_duplicate_and_negative_inputs_are_refused_with_their_rows():
    demand = pd.DataFrame({"id": ["a", "b", " a"], "population": [1, 2, 3]})
    supply = pd.DataFrame({"id": ["s"], "supply": [1]})
    costs = pd.DataFrame({"origin_id": ["a"], "destination_id": ["s"], "cost": [1.0]})
    with pytest.raises(DataError, match=r"row 4, column 'id': Duplicate id 'a'"):
        accessibility_from_tables(demand, supply, costs, max_cost=5, origins={"demand": "d.csv"})
    negative = costs.assign(cost=[-1.0])
    with pytest.raises(DataError, match=r"row 2, column 'cost': '-1.0' is not a number of zero or more"):
        accessibility_from_tables(demand.iloc[:2], supply, negative, max_cost=5)
    flags = supply.assign(supply=[True])
    with pytest.raises(DataError, match=r"'True' is not a number"):
        accessibility_from_tables(demand.iloc[:2], flags, costs, max_cost=5)
