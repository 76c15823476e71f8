"""Demand × candidate pairs: every way of giving costs, normalised into one sorted, read-only form.

A model's costs arrive as a :class:`~geo_coverage.catchment.CostTable`, a scipy.sparse matrix
(its stored entries are the pairs), long-form ``(demand_index, candidate_index, cost)`` arrays, a
dense array (inf / nan = no route) or, from a planner's file, a long table of ids
(:func:`cost_pairs_from_table`).  :func:`as_pairs` turns each into :class:`Pairs`; the other
helpers check the ids, weights and counts that come with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sparse

from .._validate import checked_numbers, known_positions, no_repeated_rows, text_column
from ..catchment import CostTable
from ..errors import DataError

__all__ = [
    "Pairs",
    "as_pairs",
    "cost_pairs_from_table",
    "ids_of",
    "positions_of",
    "weights_of",
    "count_of",
    "read_only",
    "table_column",
    "DENSE_CELL_LIMIT",
]

# Dense cost matrices above this many cells are refused: the caller should give a max_cost so
# only pairs within reach are kept (a p-median over 20,000 × 1,000 pairs needs 20 M columns).
DENSE_CELL_LIMIT = 20_000_000


@dataclass(frozen=True)
class Pairs:
    """Demand–candidate pairs sorted by demand, then candidate; read-only arrays."""

    demand: np.ndarray
    candidate: np.ndarray
    cost: np.ndarray
    n_demand: int
    n_candidate: int

    def subset(self, keep: np.ndarray) -> Pairs:
        """The pairs where ``keep`` is true (same demand and candidate counts)."""
        return Pairs(
            self.demand[keep],
            self.candidate[keep],
            self.cost[keep],
            self.n_demand,
            self.n_candidate,
        )


def read_only(array: np.ndarray) -> np.ndarray:
    """A contiguous copy-if-needed of ``array`` that cannot be written to."""
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def _long_form(costs: tuple, n_demand: int | None, n_candidate: int | None):
    demand, candidate, cost = (np.asarray(part) for part in costs)
    if not (demand.shape == candidate.shape == cost.shape) or demand.ndim != 1:
        raise DataError(
            "Long-form costs need three 1-D arrays of the same length "
            "(demand index, candidate index, cost).",
            fix="Pass (demand_index, candidate_index, cost) arrays.",
        )
    if n_demand is None or n_candidate is None:
        raise DataError(
            "Long-form costs need the number of demand points and candidates.",
            fix="Pass demand_ids and candidate_ids (or demand_weights).",
        )
    for name, index, size in (("demand", demand, n_demand), ("candidate", candidate, n_candidate)):
        if index.size and (
            not np.issubdtype(index.dtype, np.integer) or index.min() < 0 or index.max() >= size
        ):
            raise DataError(
                f"A {name} index in the long-form costs is outside 0…{size - 1}.",
                fix=f"Use 0-based integer {name} positions.",
            )
    return demand, candidate, cost, n_demand, n_candidate


def _dense(costs):
    dense = np.asarray(costs, dtype=float)
    if dense.ndim != 2:
        raise DataError(
            "The cost matrix must be 2-D (demand × candidate).",
            fix="Pass a 2-D array, a scipy.sparse matrix or long-form arrays.",
        )
    if dense.size > DENSE_CELL_LIMIT:
        raise DataError(
            f"A dense cost matrix of {dense.shape[0]:,} × {dense.shape[1]:,} is too large.",
            fix="Pass a sparse matrix of the pairs within reach (set max_cost).",
        )
    # inf / nan in a dense matrix mean "no route"; every other cell is a pair.
    demand, candidate = np.nonzero(np.isfinite(dense))
    return demand, candidate, dense[demand, candidate], *dense.shape


def as_pairs(costs, n_demand: int | None, n_candidate: int | None) -> Pairs:
    """Normalise a cost matrix into sorted unique pairs.

    Parameters
    ----------
    costs
        A :class:`~geo_coverage.catchment.CostTable`, a scipy.sparse matrix (stored entries are
        the pairs: an explicit 0 is a zero cost), long-form ``(demand_index, candidate_index,
        cost)`` arrays, or a dense 2-D array (inf / nan = no route).
    n_demand, n_candidate
        The matrix's shape; only long-form arrays need it (the others carry their own).

    Returns
    -------
    Pairs
        Sorted by demand then candidate; of repeated pairs the cheapest is kept.

    Raises
    ------
    DataError
        A shape, index or cost is unusable (negative, missing, infinite among the pairs).
    """
    if isinstance(costs, CostTable):
        demand, candidate, cost = costs.origins, costs.destinations, costs.costs
        n_demand, n_candidate = costs.n_origins, costs.n_destinations
    elif sparse.issparse(costs):
        coo = sparse.coo_array(costs)
        n_demand, n_candidate = coo.shape
        demand, candidate, cost = coo.row, coo.col, coo.data
    elif isinstance(costs, tuple) and len(costs) == 3:
        demand, candidate, cost, n_demand, n_candidate = _long_form(costs, n_demand, n_candidate)
    else:
        demand, candidate, cost, n_demand, n_candidate = _dense(costs)
    cost = np.asarray(cost, dtype=float)
    if not np.all(np.isfinite(cost)):
        raise DataError(
            "The cost matrix holds a missing or infinite cost among its pairs.",
            fix="Drop pairs without a route instead of storing inf or nan.",
        )
    if cost.size and cost.min() < 0:
        raise DataError(
            "The cost matrix holds a negative cost.", fix="Costs are distances or times (≥ 0)."
        )
    demand = np.asarray(demand, dtype=np.int64)
    candidate = np.asarray(candidate, dtype=np.int64)
    # Sort by demand then cost so that, for repeated pairs, the first is the cheapest to keep.
    order = np.lexsort((cost, candidate, demand))
    demand, candidate, cost = demand[order], candidate[order], cost[order]
    first = np.ones(demand.size, dtype=bool)
    first[1:] = (demand[1:] != demand[:-1]) | (candidate[1:] != candidate[:-1])
    return Pairs(
        read_only(demand[first]),
        read_only(candidate[first]),
        read_only(cost[first]),
        int(n_demand),
        int(n_candidate),
    )


def ids_of(ids, size: int, what: str) -> tuple[str, ...]:
    """``size`` unique ids as text (default: the positions ``"0"``, ``"1"``…)."""
    if ids is None:
        return tuple(str(position) for position in range(size))
    ids = tuple(str(value) for value in ids)
    if len(ids) != size:
        raise DataError(
            f"{len(ids)} {what} ids given for {size} {what}s.",
            fix=f"Give one id per {what} (rows of the cost matrix are demand, columns candidates).",
        )
    if len(set(ids)) != len(ids):
        duplicate = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
        raise DataError(
            f"The {what} id '{duplicate}' appears more than once.", fix=f"Make {what} ids unique."
        )
    return ids


def positions_of(chosen, ids: tuple[str, ...], what: str) -> np.ndarray:
    """Positions of ``chosen`` (ids as text, integer positions, or a boolean mask) among ``ids``."""
    if chosen is None:
        return np.zeros(0, dtype=np.int64)
    values = np.asarray(list(chosen) if not isinstance(chosen, np.ndarray) else chosen)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    if values.dtype == bool:
        if values.size != len(ids):
            raise DataError(
                f"The {what} mask has {values.size} entries for {len(ids)} candidates.",
                fix="Give one True/False per candidate.",
            )
        return np.flatnonzero(values)
    if np.issubdtype(values.dtype, np.integer):
        if values.min() < 0 or values.max() >= len(ids):
            raise DataError(
                f"A {what} position is outside 0…{len(ids) - 1}.",
                fix="Use candidate positions or candidate ids (text).",
            )
        return np.unique(values.astype(np.int64))
    lookup = pd.Index(ids)
    found = lookup.get_indexer([str(value) for value in values])
    if (found < 0).any():
        missing = str(values[np.flatnonzero(found < 0)[0]])
        raise DataError(
            f"The {what} id '{missing}' is not among the candidates.",
            fix="Give ids of candidates (existing facilities must be candidates too).",
        )
    return np.unique(found.astype(np.int64))


def weights_of(demand_weights, size: int) -> np.ndarray:
    """One finite weight ≥ 0 per demand row (default 1 each), read-only."""
    if demand_weights is None:
        return read_only(np.ones(size))
    weights = np.asarray(demand_weights, dtype=float).ravel()
    if weights.size != size:
        raise DataError(
            f"{weights.size} demand weights for {size} demand rows of the cost matrix.",
            fix="Give one weight per row of the cost matrix.",
        )
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        raise DataError(
            f"Demand weight {weights[np.flatnonzero(bad)[0]]!r} at position "
            f"{np.flatnonzero(bad)[0]} is negative or missing.",
            fix="Weights are populations or counts (finite, ≥ 0).",
        )
    return read_only(weights)


def count_of(value, what: str) -> int:
    """A whole number ≥ 0 of ``what`` to site."""
    if value is None:
        raise DataError(
            f"The number of {what} to site is missing.", fix="Pass facilities=P (P ≥ 1)."
        )
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise DataError(
            f"The number of {what} must be a whole number ≥ 0, not {value!r}.",
            fix="Pass facilities=P.",
        )
    return int(value)


def table_column(table: pd.DataFrame, column: str, *, file=None, fix: str) -> pd.Series:
    """A column of a table read as text, stripped; a clear error naming the columns if absent."""
    return text_column(table, column, file=file, fix=fix)


def cost_pairs_from_table(
    table: pd.DataFrame,
    *,
    demand_ids: Sequence[str],
    candidate_ids: Sequence[str],
    origin_column: str,
    destination_column: str,
    cost_column: str,
    file=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Long-form cost table (ids as text) → ``(demand_index, candidate_index, cost)`` arrays.

    Parameters
    ----------
    table
        One row per demand–candidate pair, as read by :func:`geo_coverage.io.read_csv`.
    demand_ids, candidate_ids
        The ids the origin and destination columns refer to.
    origin_column, destination_column, cost_column
        Column names.
    file
        The table's file name, for error messages.

    Returns
    -------
    tuple of numpy.ndarray
        Demand positions, candidate positions and costs, one entry per row of ``table``.

    Raises
    ------
    DataError
        A column is missing, an id is unknown, a cost is not a number ≥ 0, or a pair repeats;
        the message names the file, the spreadsheet row and the column.
    """
    fix = "Name the right column with the --cost-… options."
    for column in (origin_column, destination_column, cost_column):
        table_column(table, column, file=file, fix=fix)
    positions = []
    for column, ids, what in (
        (origin_column, demand_ids, "demand"),
        (destination_column, candidate_ids, "candidate"),
    ):
        values = table_column(table, column, file=file, fix=fix)
        found = known_positions(values, pd.Index([str(value) for value in ids]), file=file, column=column,
                                message=f"Unknown {what} id '{{value}}'.",
                                fix=f"Use ids that appear in the {what} table.")
        positions.append(found.astype(np.int64))
    cost = checked_numbers(table_column(table, cost_column, file=file, fix=fix), file=file, column=cost_column,
                           message="The cost '{value}' is not a number ≥ 0.",
                           fix="Give costs as plain numbers (metres, minutes).", shown=table[cost_column])
    no_repeated_rows(positions, file=file, column=origin_column, message="This demand–candidate pair appears twice.",
                     fix="Keep one cost per pair.")
    return positions[0], positions[1], cost
