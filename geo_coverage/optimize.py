"""Siting models on HiGHS: set cover, maximal coverage, p-median, p-centre and capacity-gap siting.

Every model has the same shape (as in PySAL spopt's ``locate``):

* ``Model.from_cost_matrix(costs, demand_weights, *, ...)`` takes a demand × candidate cost
  matrix (a scipy.sparse matrix whose stored entries are the pairs, long-form
  ``(demand_index, candidate_index, cost)`` arrays, or a dense array for small p-median /
  p-centre instances);
* ``Model.from_geodataframes(demand, candidates, *, ...)`` checks the frames (one projected CRS,
  point geometry, numeric weights) and hands off to ``from_cost_matrix``;
* ``model.solve(*, time_limit=None, mip_gap=1e-4)`` returns a frozen :class:`Solution`; the
  model is never changed by solving.

The programmes are built as sparse column-wise matrices and passed to HiGHS in one call
(``Highs.passModel`` with numpy arrays), so building a model with a million pairs costs a
fraction of a second.  Facilities that already exist are "already open": pass them as
``existing`` (candidate ids or positions); they are fixed open, do not count against the number
of new facilities, and the demand they already cover is taken out of the coverage models.

Candidate helpers build candidate frames from a regular grid inside units
(:func:`grid_candidates`), a facility layer (:func:`layer_candidates`) or an uploaded table
(:func:`table_candidates`); :func:`solution_to_edits` turns a solution into "add facility" edits
for a scenario.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sparse

from .errors import DataError, OptimizationError

__all__ = [
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
]

# Dense cost matrices above this many cells are refused: the caller should give a max_cost so
# only pairs within reach are kept (a p-median over 20,000 × 1,000 pairs needs 20 M columns).
DENSE_CELL_LIMIT = 20_000_000
_TOLERANCE = 1e-6


# --- the result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Solution:
    """The result of :meth:`solve`; frozen, so a cached solution cannot be altered by a caller.

    Attributes
    ----------
    model
        ``"lscp"``, ``"mclp"``, ``"pmedian"``, ``"pcenter"`` or ``"capacity_gap"``.
    selected
        Ids of the newly chosen candidates (existing facilities are listed in ``existing``).
    objective
        The model's objective: new sites (LSCP), covered weight (MCLP, including what existing
        facilities cover), total weighted cost (p-median), largest cost (p-centre), shortfall
        closed (capacity gap).
    covered_weight
        Demand weight within ``max_cost`` of an open facility (existing or new); for the
        capacity gap, the shortfall closed; for p-median / p-centre without ``max_cost``, the
        weight assigned (all of it).
    coverage_share
        ``covered_weight`` ÷ total weight (total need for the capacity gap), 0 when that is 0.
    status
        ``"optimal"`` or ``"time_limit"`` (the best solution found when time ran out).
    gap
        HiGHS's relative MIP gap (0 when proven optimal).
    solve_seconds
        Wall time of :meth:`solve` (building, solving, reading back).
    existing
        Ids of the candidates that were open from the start.
    assignment
        One row per covered demand: ``demand_id``, ``candidate_id`` (its nearest open site in
        reach), ``cost``; for the capacity gap one row per allocation with ``amount``.
    """

    model: str
    selected: tuple[str, ...]
    objective: float
    covered_weight: float
    coverage_share: float
    status: str
    gap: float
    solve_seconds: float
    existing: tuple[str, ...] = ()
    assignment: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready values (without the assignment table)."""
        return {
            "model": self.model,
            "selected": list(self.selected),
            "objective": self.objective,
            "covered_weight": self.covered_weight,
            "coverage_share": self.coverage_share,
            "status": self.status,
            "gap": self.gap,
            "solve_seconds": self.solve_seconds,
            "existing": list(self.existing),
        }


# --- pairs: the sparse demand × candidate costs --------------------------------------------------


@dataclass(frozen=True)
class _Pairs:
    """Demand–candidate pairs sorted by demand, then candidate; read-only arrays."""

    demand: np.ndarray
    candidate: np.ndarray
    cost: np.ndarray
    n_demand: int
    n_candidate: int

    def subset(self, keep: np.ndarray) -> _Pairs:
        return _Pairs(self.demand[keep], self.candidate[keep], self.cost[keep],
                      self.n_demand, self.n_candidate)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def _as_pairs(costs, n_demand: int | None, n_candidate: int | None) -> _Pairs:
    """Normalise a cost matrix (dense, sparse, or long-form arrays) into sorted unique pairs."""
    if sparse.issparse(costs):
        coo = sparse.coo_array(costs)
        n_demand, n_candidate = coo.shape
        # Stored entries are the pairs: an explicitly stored 0 is a zero cost, not "no pair".
        demand, candidate, cost = coo.row, coo.col, coo.data
    elif isinstance(costs, tuple) and len(costs) == 3:
        demand, candidate, cost = (np.asarray(part) for part in costs)
        if not (demand.shape == candidate.shape == cost.shape) or demand.ndim != 1:
            raise DataError("Long-form costs need three 1-D arrays of the same length "
                            "(demand index, candidate index, cost).",
                            fix="Pass (demand_index, candidate_index, cost) arrays.")
        if n_demand is None or n_candidate is None:
            raise DataError("Long-form costs need the number of demand points and candidates.",
                            fix="Pass demand_ids and candidate_ids (or demand_weights).")
        for name, index, size in (("demand", demand, n_demand), ("candidate", candidate, n_candidate)):
            if index.size and (not np.issubdtype(index.dtype, np.integer)
                               or index.min() < 0 or index.max() >= size):
                raise DataError(f"A {name} index in the long-form costs is outside 0…{size - 1}.",
                                fix=f"Use 0-based integer {name} positions.")
    else:
        dense = np.asarray(costs, dtype=float)
        if dense.ndim != 2:
            raise DataError("The cost matrix must be 2-D (demand × candidate).",
                            fix="Pass a 2-D array, a scipy.sparse matrix or long-form arrays.")
        if dense.size > DENSE_CELL_LIMIT:
            raise DataError(f"A dense cost matrix of {dense.shape[0]:,} × {dense.shape[1]:,} is too large.",
                            fix="Pass a sparse matrix of the pairs within reach (set max_cost).")
        n_demand, n_candidate = dense.shape
        # inf / nan in a dense matrix mean "no route"; every other cell is a pair.
        demand, candidate = np.nonzero(np.isfinite(dense))
        cost = dense[demand, candidate]
    cost = np.asarray(cost, dtype=float)
    if not np.all(np.isfinite(cost)):
        raise DataError("The cost matrix holds a missing or infinite cost among its pairs.",
                        fix="Drop pairs without a route instead of storing inf or nan.")
    if cost.size and cost.min() < 0:
        raise DataError("The cost matrix holds a negative cost.", fix="Costs are distances or times (≥ 0).")
    demand = np.asarray(demand, dtype=np.int64)
    candidate = np.asarray(candidate, dtype=np.int64)
    # Sort by demand then cost so that, for repeated pairs, the first is the cheapest to keep.
    order = np.lexsort((cost, candidate, demand))
    demand, candidate, cost = demand[order], candidate[order], cost[order]
    first = np.ones(demand.size, dtype=bool)
    first[1:] = (demand[1:] != demand[:-1]) | (candidate[1:] != candidate[:-1])
    return _Pairs(_read_only(demand[first]), _read_only(candidate[first]), _read_only(cost[first]),
                  int(n_demand), int(n_candidate))


def _ids(ids, size: int, what: str) -> tuple[str, ...]:
    if ids is None:
        return tuple(str(position) for position in range(size))
    ids = tuple(str(value) for value in ids)
    if len(ids) != size:
        raise DataError(f"{len(ids)} {what} ids given for {size} {what}s.",
                        fix=f"Give one id per {what} (rows of the cost matrix are demand, columns candidates).")
    if len(set(ids)) != len(ids):
        duplicate = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
        raise DataError(f"The {what} id '{duplicate}' appears more than once.", fix=f"Make {what} ids unique.")
    return ids


def _positions(chosen, ids: tuple[str, ...], what: str) -> np.ndarray:
    """Positions of ``chosen`` (ids as text, integer positions, or a boolean mask) among ``ids``."""
    if chosen is None:
        return np.zeros(0, dtype=np.int64)
    values = np.asarray(list(chosen) if not isinstance(chosen, np.ndarray) else chosen)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    if values.dtype == bool:
        if values.size != len(ids):
            raise DataError(f"The {what} mask has {values.size} entries for {len(ids)} candidates.",
                            fix="Give one True/False per candidate.")
        return np.flatnonzero(values)
    if np.issubdtype(values.dtype, np.integer):
        if values.min() < 0 or values.max() >= len(ids):
            raise DataError(f"A {what} position is outside 0…{len(ids) - 1}.",
                            fix="Use candidate positions or candidate ids (text).")
        return np.unique(values.astype(np.int64))
    lookup = pd.Index(ids)
    found = lookup.get_indexer([str(value) for value in values])
    if (found < 0).any():
        missing = str(values[np.flatnonzero(found < 0)[0]])
        raise DataError(f"The {what} id '{missing}' is not among the candidates.",
                        fix="Give ids of candidates (existing facilities must be candidates too).")
    return np.unique(found.astype(np.int64))


def _weights(demand_weights, size: int) -> np.ndarray:
    if demand_weights is None:
        return _read_only(np.ones(size))
    weights = np.asarray(demand_weights, dtype=float).ravel()
    if weights.size != size:
        raise DataError(f"{weights.size} demand weights for {size} demand rows of the cost matrix.",
                        fix="Give one weight per row of the cost matrix.")
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        raise DataError(f"Demand weight {weights[np.flatnonzero(bad)[0]]!r} at position "
                        f"{np.flatnonzero(bad)[0]} is negative or missing.",
                        fix="Weights are populations or counts (finite, ≥ 0).")
    return _read_only(weights)


def _count(value, what: str) -> int:
    if value is None:
        raise DataError(f"The number of {what} to site is missing.", fix="Pass facilities=P (P ≥ 1).")
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise DataError(f"The number of {what} must be a whole number ≥ 0, not {value!r}.",
                        fix="Pass facilities=P.")
    return int(value)


# --- the solver call ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Program:
    """A linear (mixed-integer) programme in column-wise sparse form."""

    maximise: bool
    column_cost: np.ndarray
    column_lower: np.ndarray
    column_upper: np.ndarray
    integer: np.ndarray  # bool per column
    matrix: sparse.csc_array  # rows × columns
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float = 0.0
    start: np.ndarray | None = None  # a feasible point handed to HiGHS as its first incumbent


@contextlib.contextmanager
def _quiet_stdout():
    # HiGHS prints its banner from C++ the first time a solver is created in a process; that
    # would corrupt JSON a CLI writes to stdout, so the file descriptor is silenced around it.
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (some embedded hosts): nothing to protect
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _run(program: _Program, *, time_limit: float | None, mip_gap: float, name: str,
         node_limit: int | None = None):
    """Solve with HiGHS; return (status, objective, gap, column values).

    ``node_limit`` caps the branch-and-bound nodes (a limit that, unlike time, gives the same
    answer on every run); stopping there with a solution reports ``"node_limit"``.
    """
    import highspy

    with _quiet_stdout():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    # A fixed seed and thread count keep repeated solves of one model identical.
    highs.setOptionValue("random_seed", 0)
    if time_limit is not None:
        if time_limit <= 0:
            raise DataError(f"The time limit must be positive, not {time_limit!r}.", fix="Pass seconds > 0.")
        highs.setOptionValue("time_limit", float(time_limit))
    if node_limit is not None:
        highs.setOptionValue("mip_max_nodes", int(node_limit))
    matrix = program.matrix
    n_rows, n_columns = matrix.shape
    integrality = program.integer.astype(np.int32)
    status = highs.passModel(
        int(n_columns), int(n_rows), int(matrix.nnz), 1,  # 1: column-wise
        -1 if program.maximise else 1, float(program.offset),
        np.ascontiguousarray(program.column_cost, dtype=np.float64),
        np.ascontiguousarray(program.column_lower, dtype=np.float64),
        np.ascontiguousarray(program.column_upper, dtype=np.float64),
        np.ascontiguousarray(program.row_lower, dtype=np.float64),
        np.ascontiguousarray(program.row_upper, dtype=np.float64),
        np.ascontiguousarray(matrix.indptr, dtype=np.int32),
        np.ascontiguousarray(matrix.indices, dtype=np.int32),
        np.ascontiguousarray(matrix.data, dtype=np.float64),
        integrality,
    )
    if status == highspy.HighsStatus.kError:
        raise OptimizationError(f"HiGHS refused the {name} model.", fix="Report this with the inputs.")
    if program.start is not None:
        # A good incumbent from the start lets HiGHS stop as soon as its bound proves it.
        highs.setSolution(int(n_columns), np.arange(n_columns, dtype=np.int32),
                          np.ascontiguousarray(program.start, dtype=np.float64))
    highs.run()
    model_status = highs.getModelStatus()
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    statuses = highspy.HighsModelStatus
    if model_status == statuses.kOptimal:
        status_text = "optimal"
    elif model_status == statuses.kTimeLimit and has_solution:
        status_text = "time_limit"
    elif node_limit is not None and model_status == statuses.kSolutionLimit and has_solution:
        status_text = "node_limit"
    elif model_status == statuses.kInfeasible:
        raise OptimizationError(f"The {name} model has no feasible solution.",
                                fix="Allow more facilities, a larger max_cost or a lower coverage target.")
    elif model_status == statuses.kTimeLimit:
        raise OptimizationError(f"No feasible {name} solution was found within the time limit.",
                                fix="Raise the time limit.")
    else:
        raise OptimizationError(f"HiGHS stopped with status '{highs.modelStatusToString(model_status)}'.",
                                fix="Check the inputs; report this if they look right.")
    values = np.asarray(highs.getSolution().col_value, dtype=float)
    gap = float(info.mip_gap) if program.integer.any() else 0.0
    if not np.isfinite(gap) or status_text == "optimal" and gap < 0:
        gap = 0.0
    return status_text, float(info.objective_function_value), gap, values


def _program(*, maximise, column_cost, column_lower, column_upper, integer, rows, columns, values,
             n_rows, row_lower, row_upper, offset=0.0, start=None) -> _Program:
    matrix = sparse.csc_array((np.asarray(values, dtype=float),
                               (np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64))),
                              shape=(n_rows, len(column_cost)))
    matrix.sum_duplicates()
    return _Program(maximise, np.asarray(column_cost, float), np.asarray(column_lower, float),
                    np.asarray(column_upper, float), np.asarray(integer, bool), matrix,
                    np.asarray(row_lower, float), np.asarray(row_upper, float), float(offset),
                    None if start is None else np.asarray(start, float))


# --- the shared model shape ---------------------------------------------------------------------


class _SitingModel:
    """What every model shares: ids, weights, pairs, existing sites; construction and solving."""

    name: ClassVar[str] = ""
    needs_max_cost: ClassVar[bool] = False
    needs_facilities: ClassVar[bool] = True

    def __init__(self, pairs: _Pairs, weights: np.ndarray, *, demand_ids, candidate_ids,
                 existing: np.ndarray, facilities: int | None, max_cost: float | None):
        self._pairs = pairs
        self._weights = weights
        self.demand_ids: tuple[str, ...] = demand_ids
        self.candidate_ids: tuple[str, ...] = candidate_ids
        self._existing = _read_only(existing)
        self.facilities = facilities
        self.max_cost = max_cost

    # Read-only views: a caller cannot change the model a later solve() sees.
    @property
    def demand_weights(self) -> np.ndarray:
        return self._weights

    @property
    def existing(self) -> tuple[str, ...]:
        return tuple(self.candidate_ids[position] for position in self._existing)

    @property
    def pair_count(self) -> int:
        return int(self._pairs.demand.size)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(demand={len(self.demand_ids)}, candidates={len(self.candidate_ids)}, "
                f"pairs={self.pair_count}, facilities={self.facilities}, max_cost={self.max_cost}, "
                f"existing={len(self._existing)})")

    @classmethod
    def _build(cls, costs, demand_weights, *, max_cost, facilities, existing, demand_ids,
               candidate_ids, **options):
        n_demand = len(demand_ids) if demand_ids is not None else (
            None if demand_weights is None else np.asarray(demand_weights).size)
        n_candidate = len(candidate_ids) if candidate_ids is not None else None
        pairs = _as_pairs(costs, n_demand, n_candidate)
        weights = _weights(demand_weights, pairs.n_demand)
        demand_ids = _ids(demand_ids, pairs.n_demand, "demand")
        candidate_ids = _ids(candidate_ids, pairs.n_candidate, "candidate")
        if max_cost is not None:
            if not np.isfinite(max_cost) or max_cost < 0:
                raise DataError(f"max_cost must be a finite number ≥ 0, not {max_cost!r}.",
                                fix="Give the service radius in the cost's unit (metres, minutes).")
            pairs = pairs.subset(pairs.cost <= max_cost)
        elif cls.needs_max_cost:
            raise DataError(f"The {cls.name} model needs max_cost (the service radius).",
                            fix="Pass max_cost=R in the cost's unit.")
        existing_positions = _positions(existing, candidate_ids, "existing")
        if cls.needs_facilities:
            facilities = _count(facilities, "facilities")
            available = pairs.n_candidate - existing_positions.size
            if facilities > available:
                raise DataError(f"{facilities} new facilities asked for but only {available} candidates "
                                "are not already open.", fix="Ask for fewer facilities or add candidates.")
        return cls(pairs, weights, demand_ids=demand_ids, candidate_ids=candidate_ids,
                   existing=existing_positions, facilities=facilities,
                   max_cost=None if max_cost is None else float(max_cost), **options)

    def solve(self, *, time_limit: float | None = None, mip_gap: float = 1e-4) -> Solution:
        """Solve the model with HiGHS.

        Parameters
        ----------
        time_limit
            Seconds before HiGHS stops with its best solution so far (``status="time_limit"``).
        mip_gap
            Relative optimality gap at which HiGHS may stop (1e-4 = within 0.01 %).

        Returns
        -------
        Solution
            Chosen sites, objective, coverage, status, gap and solve time.

        Raises
        ------
        OptimizationError
            The model is infeasible or no solution was found in time.
        """
        if not 0 <= mip_gap < 1:
            raise DataError(f"mip_gap must be in [0, 1), not {mip_gap!r}.", fix="Pass e.g. mip_gap=1e-4.")
        started = time.perf_counter()
        result = self._solve(time_limit=time_limit, mip_gap=mip_gap)
        return Solution(solve_seconds=time.perf_counter() - started, **result)

    # -- helpers for subclasses

    def _open_mask(self, selected: np.ndarray) -> np.ndarray:
        mask = np.zeros(self._pairs.n_candidate, dtype=bool)
        mask[self._existing] = True
        mask[selected] = True
        return mask

    def _candidate_columns(self):
        """Bounds of the site columns: existing ones fixed open."""
        lower = np.zeros(self._pairs.n_candidate)
        lower[self._existing] = 1.0
        return lower, np.ones(self._pairs.n_candidate)

    def _new_site_row(self) -> tuple[np.ndarray, np.ndarray]:
        """Column positions and coefficients of Σ new sites."""
        new = np.ones(self._pairs.n_candidate, dtype=bool)
        new[self._existing] = False
        columns = np.flatnonzero(new)
        return columns, np.ones(columns.size)

    def _selected(self, values: np.ndarray) -> np.ndarray:
        chosen = values[: self._pairs.n_candidate] > 0.5
        chosen[self._existing] = False
        return np.flatnonzero(chosen)

    def _nearest_assignment(self, open_mask: np.ndarray, pairs: _Pairs | None = None) -> pd.DataFrame:
        """Each demand's cheapest open candidate among ``pairs``; demand with none is left out."""
        pairs = self._pairs if pairs is None else pairs
        keep = open_mask[pairs.candidate]
        demand, candidate, cost = pairs.demand[keep], pairs.candidate[keep], pairs.cost[keep]
        order = np.lexsort((candidate, cost, demand))
        demand, candidate, cost = demand[order], candidate[order], cost[order]
        first = np.ones(demand.size, dtype=bool)
        first[1:] = demand[1:] != demand[:-1]
        demand_ids = np.asarray(self.demand_ids, dtype=object)
        candidate_ids = np.asarray(self.candidate_ids, dtype=object)
        return pd.DataFrame({"demand_id": demand_ids[demand[first]],
                             "candidate_id": candidate_ids[candidate[first]],
                             "cost": cost[first]})

    def _coverage(self, assignment: pd.DataFrame) -> tuple[float, float]:
        weight_of = pd.Series(self._weights, index=pd.Index(self.demand_ids))
        covered = float(weight_of.loc[assignment["demand_id"]].sum()) if len(assignment) else 0.0
        total = float(self._weights.sum())
        return covered, covered / total if total > 0 else 0.0

    def _result(self, *, selected, objective, status, gap, assignment, covered=None) -> dict:
        if covered is None:
            covered_weight, share = self._coverage(assignment)
        else:
            covered_weight, share = covered
        return {
            "model": self.name,
            "selected": tuple(self.candidate_ids[position] for position in selected),
            "objective": float(objective),
            "covered_weight": covered_weight,
            "coverage_share": share,
            "status": status,
            "gap": gap,
            "existing": self.existing,
            "assignment": assignment,
        }

    # -- the GeoDataFrame constructor shared by the point models

    @classmethod
    def from_geodataframes(cls, demand, candidates, *, weight_column: str | None = None,
                           max_cost: float | None = None, facilities: int | None = None,
                           existing=None, demand_id_column: str | None = None,
                           candidate_id_column: str | None = None, metric: str = "euclidean",
                           detour: float = 1.0, **options):
        """Build the model from demand and candidate points with straight-line costs.

        Parameters
        ----------
        demand, candidates
            GeoDataFrames of points in one projected CRS (metres).
        weight_column
            Demand weight (population); every demand point weighs 1 when omitted.
        max_cost
            Service radius in metres (after the detour factor).
        facilities
            Number of new facilities to site (not needed by LSCP).
        existing
            Candidate ids already open, or a GeoDataFrame of existing facility points that is
            appended to the candidates and fixed open.
        demand_id_column, candidate_id_column
            Id columns (default: the frames' indexes), kept as text.
        metric
            ``"euclidean"`` or ``"manhattan"`` (grid streets).
        detour
            Factor ≥ 1 multiplying straight-line distance to approximate travel on roads.
        **options
            Model options passed to :meth:`from_cost_matrix` (e.g. ``coverage_target``).
        """
        import geopandas as gpd

        _check_points(demand, "demand")
        _check_points(candidates, "candidates")
        demand_ids = _frame_ids(demand, demand_id_column, "demand")
        candidate_ids = _frame_ids(candidates, candidate_id_column, "candidates")
        candidate_points = candidates.geometry.values
        if isinstance(existing, gpd.GeoDataFrame):
            _check_points(existing, "existing")
            existing_ids = _frame_ids(existing, candidate_id_column, "existing")
            _check_same_crs(candidates, existing, "candidates", "existing")
            candidate_points = np.concatenate([np.asarray(candidate_points), np.asarray(existing.geometry.values)])
            candidate_ids = candidate_ids + existing_ids
            existing = list(existing_ids)
        _check_same_crs(demand, candidates, "demand", "candidates")
        weights = None if weight_column is None else _numeric_column(demand, weight_column, "demand")
        costs = straight_line_costs(np.asarray(demand.geometry.values), candidate_points,
                                    max_cost=max_cost, metric=metric, detour=detour)
        return cls.from_cost_matrix(costs, weights, max_cost=max_cost, facilities=facilities,
                                    existing=existing, demand_ids=demand_ids,
                                    candidate_ids=candidate_ids, **options)


def _merge_identical_rows(demand: np.ndarray, candidate: np.ndarray, n_rows: int) -> np.ndarray:
    """Group rows (demand points) that are in reach of exactly the same candidates.

    ``demand`` / ``candidate`` are pairs sorted by row then candidate, every row 0…n_rows-1
    having at least one.  Rows are keyed by two random 64-bit sums of their candidates and their
    length, then checked element by element, so a hash collision can never merge different
    rows.  Returns the group of each row (groups numbered 0…G-1 in order of first row).
    """
    keys = np.random.default_rng(0).integers(0, np.iinfo(np.int64).max, size=(2, int(candidate.max()) + 1),
                                             dtype=np.int64).astype(np.uint64)
    first_hash = np.zeros(n_rows, dtype=np.uint64)
    second_hash = np.zeros(n_rows, dtype=np.uint64)
    np.add.at(first_hash, demand, keys[0][candidate])  # wraps modulo 2**64, as intended
    np.add.at(second_hash, demand, keys[1][candidate])
    length = np.bincount(demand, minlength=n_rows).astype(np.uint64)
    _, first_row, group = np.unique(np.stack([first_hash, second_hash, length], axis=1), axis=0,
                                    return_index=True, return_inverse=True)
    group = group.ravel()
    representative = first_row[group]
    start = np.cumsum(length.astype(np.int64)) - length.astype(np.int64)
    sizes = length.astype(np.int64)
    offsets = np.arange(demand.size) - np.repeat(start, sizes)
    same = candidate == candidate[np.repeat(start[representative], sizes) + offsets]
    differs = np.bincount(demand[~same], minlength=n_rows) > 0
    if differs.any():  # a collision: such rows stay on their own
        group = group.copy()
        group[differs] = group.max() + 1 + np.arange(int(differs.sum()))
    # Renumber groups by first appearance so the merged problem keeps the rows' order.
    _, first_seen, renumbered = np.unique(group, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first_seen))
    return order[renumbered.ravel()]


def _greedy_cover(matrix: sparse.csr_array, weights: np.ndarray, count: int,
                  unavailable: np.ndarray, *, rounds: int = 20, seed: int = 0) -> np.ndarray:
    """A good maximal-coverage solution to start HiGHS from (iterated local search).

    Greedy (open the site covering the most uncovered weight, ``count`` times; within 1 − 1/e
    of the optimum), then 1-swaps until none helps, then ``rounds`` times: close a tenth of
    the open sites at random (seeded), refill greedily, swap again, keep the result if it
    covers more.  Every step is a sparse product over the pairs; HiGHS then only has to prove
    the bound, which it does at the root when the start is within the requested gap.
    """
    by_candidate = matrix.T.tocsr()

    def fill(chosen):
        uncovered = np.where(matrix @ chosen.astype(float) > 0, 0.0, weights.astype(float))
        for _ in range(count - int(chosen.sum())):
            gain = by_candidate @ uncovered
            gain[chosen | unavailable] = -1.0
            site = int(np.argmax(gain))
            chosen[site] = True
            uncovered[by_candidate.indices[by_candidate.indptr[site]:by_candidate.indptr[site + 1]]] = 0.0
        return _improve_by_swaps(matrix, by_candidate, weights, chosen, unavailable)

    def covered(chosen):
        return float(weights[matrix @ chosen.astype(float) > 0].sum())

    best = fill(np.zeros(matrix.shape[1], dtype=bool))
    best_value = covered(best)
    random = np.random.default_rng(seed)
    for _ in range(rounds if count > 1 else 0):
        trial = best.copy()
        trial[random.choice(np.flatnonzero(trial), size=max(1, count // 10), replace=False)] = False
        trial = fill(trial)
        value = covered(trial)
        if value > best_value:
            best, best_value = trial, value
    return best


def _improve_by_swaps(matrix, by_candidate, weights, chosen, unavailable, *, max_passes: int = 50):
    """Swap one open site for a closed one while that covers more weight (1-swap local search).

    Each pass tries, for every open site, closing it and opening the best closed site (one
    sparse product per open site); greedy starts are usually within 1 % of the optimum, and
    this closes most of what is left, so HiGHS starts from a near-optimal incumbent.
    """
    chosen = chosen.copy()
    count = matrix @ chosen.astype(float)  # open sites in reach of each demand

    def members(site):
        return by_candidate.indices[by_candidate.indptr[site]:by_candidate.indptr[site + 1]]

    for _ in range(max_passes):
        improved = False
        for site in np.flatnonzero(chosen):
            reached = members(site)
            loss = weights[reached][count[reached] == 1].sum()
            trial = count.copy()
            trial[reached] -= 1
            gain = by_candidate @ np.where(trial == 0, weights, 0.0)
            gain[chosen | unavailable] = -1.0
            best = int(np.argmax(gain))
            if gain[best] > loss * (1 + 1e-12) + 1e-9:
                chosen[site], chosen[best] = False, True
                trial[members(best)] += 1
                count = trial
                improved = True
        if not improved:
            break
    return chosen


def _improve_by_subproblems(matrix: sparse.csr_array, weights: np.ndarray, chosen: np.ndarray,
                            unavailable: np.ndarray, *, target: float = np.inf,
                            deadline: float | None = None, node_limit: int = 500) -> np.ndarray:
    """Large-neighbourhood search: re-solve the choice exactly around one open site at a time.

    For an open site s the neighbourhood is every candidate sharing some demand with s (on a
    map: within two service radii of it).  Sites open outside it stay open; a small MIP chooses
    the same number of sites inside it to cover the most of the demand the fixed sites leave
    uncovered, started from the current choice, so a step never loses coverage.  Open sites are
    visited in turn and the search stops when a whole round of visits improves nothing, when the
    covered weight reaches ``target``, or at ``deadline`` (``time.perf_counter()`` seconds).
    1-swaps cannot leave the local optima of near-full-coverage instances (the last uncovered
    points need two or three sites moved together); these re-solves do, in a fraction of a
    second each.  Each sub-MIP is capped at ``node_limit`` nodes (a cap that gives the same
    answer on every run, unlike a time limit).
    """
    by_candidate = matrix.T.tocsr()
    chosen = chosen.copy()
    reachable = ~unavailable & (np.diff(by_candidate.indptr) > 0)

    def covered(sites):
        return float(weights[matrix @ sites.astype(float) > 0].sum())

    value = covered(chosen)
    order, position, unimproved = np.flatnonzero(chosen), 0, 0
    while order.size and unimproved < order.size and value < target:
        if deadline is not None and time.perf_counter() > deadline:
            break
        site = order[position % order.size]
        position += 1
        unimproved += 1
        rows = by_candidate.indices[by_candidate.indptr[site]:by_candidate.indptr[site + 1]]
        free = np.zeros(chosen.size, dtype=bool)
        free[matrix[rows].indices] = True
        free &= reachable
        free[site] = True
        fixed = chosen & ~free
        open_inside = int((chosen & free).sum())
        # The demand the fixed sites leave uncovered and some free candidate reaches.
        left = (matrix @ fixed.astype(float) == 0) & (matrix @ free.astype(float) > 0)
        sub_rows = np.flatnonzero(left)
        sub_columns = np.flatnonzero(free)
        sub = matrix[sub_rows][:, sub_columns].tocoo()
        n_rows, n_free = sub_rows.size, sub_columns.size
        start_sites = chosen[sub_columns].astype(float)
        program = _program(
            maximise=True,
            column_cost=np.concatenate([np.zeros(n_free), weights[sub_rows]]),
            column_lower=np.zeros(n_free + n_rows), column_upper=np.ones(n_free + n_rows),
            integer=np.concatenate([np.ones(n_free, bool), np.zeros(n_rows, bool)]),
            rows=np.concatenate([np.arange(n_rows), sub.row, np.full(n_free, n_rows)]),
            columns=np.concatenate([n_free + np.arange(n_rows), sub.col, np.arange(n_free)]),
            values=np.concatenate([np.ones(n_rows), -np.ones(sub.nnz), np.ones(n_free)]),
            n_rows=n_rows + 1,
            row_lower=np.concatenate([np.full(n_rows, -np.inf), [open_inside]]),
            row_upper=np.concatenate([np.zeros(n_rows), [open_inside]]),
            start=np.concatenate([start_sites, np.minimum(1.0, sub.tocsr() @ start_sites)]))
        remaining = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
        try:
            _, _, _, values = _run(program, time_limit=remaining, mip_gap=0.0, name="neighbourhood",
                                   node_limit=node_limit)
        except OptimizationError:
            continue
        trial = fixed.copy()
        trial[sub_columns[values[:n_free] > 0.5]] = True
        if int(trial.sum()) != int(chosen.sum()):
            continue
        trial_value = covered(trial)
        if trial_value > value * (1 + 1e-12) + 1e-9:
            chosen = _improve_by_swaps(matrix, by_candidate, weights, trial, unavailable)
            value = covered(chosen)
            order, unimproved = np.flatnonzero(chosen), 0
    return chosen


# --- the models -----------------------------------------------------------------------------------


class LSCP(_SitingModel):
    r"""Location set cover: the fewest new sites so that demand within reach is covered.

    .. math::

        \min \sum_{j \notin E} y_j \quad\text{s.t.}\quad
        \sum_{j \in N_i} y_j \ge 1 \;\; \forall i \in I' \qquad (\text{coverage\_target} = 1)

    or, for a target share :math:`t < 1`,
    :math:`x_i \le \sum_{j \in N_i} y_j`, :math:`\sum_i w_i x_i \ge t\,W - W_E`,
    :math:`0 \le x_i \le 1` (integral at any integer :math:`y`, so left continuous).

    :math:`N_i = \{j : c_{ij} \le R\}`; :math:`I'` is the demand with positive weight, some
    candidate in reach and no existing facility (:math:`E`) in reach; :math:`W` is the weight of
    demand with any candidate in reach (demand that no candidate can reach cannot be covered and
    is reported through ``coverage_share``); :math:`W_E` what existing sites already cover.
    """

    name = "lscp"
    needs_max_cost = True
    needs_facilities = False

    def __init__(self, pairs, weights, *, coverage_target: float = 1.0, **common):
        super().__init__(pairs, weights, **common)
        if not 0 < coverage_target <= 1:
            raise DataError(f"coverage_target must be in (0, 1], not {coverage_target!r}.",
                            fix="Give the share of reachable demand to cover, e.g. 0.9.")
        self.coverage_target = float(coverage_target)

    @classmethod
    def from_cost_matrix(cls, costs, demand_weights=None, *, max_cost: float, existing=None,
                         coverage_target: float = 1.0, demand_ids=None, candidate_ids=None,
                         facilities=None) -> LSCP:
        """Build the set-cover model from demand × candidate costs.

        Parameters
        ----------
        costs
            scipy.sparse matrix (stored entries are the pairs), long-form
            ``(demand_index, candidate_index, cost)`` arrays, or a dense array (inf = no route).
        demand_weights
            Weight per demand row (default 1 each).
        max_cost
            Service radius: demand is covered by a site with cost ≤ ``max_cost``.
        existing
            Candidate ids (text), positions or a boolean mask of sites already open.
        coverage_target
            Share of the reachable demand weight to cover (1 = all of it).
        demand_ids, candidate_ids
            Ids for rows and columns (default their positions as text).
        facilities
            Ignored (set cover chooses the number); accepted so every model takes it.
        """
        return cls._build(costs, demand_weights, max_cost=max_cost, facilities=None, existing=existing,
                          demand_ids=demand_ids, candidate_ids=candidate_ids,
                          coverage_target=coverage_target)

    def _solve(self, *, time_limit, mip_gap) -> dict:
        pairs, weights = self._pairs, self._weights
        n_candidate = pairs.n_candidate
        is_existing = np.zeros(n_candidate, dtype=bool)
        is_existing[self._existing] = True
        reachable = np.zeros(pairs.n_demand, dtype=bool)
        reachable[pairs.demand] = True
        by_existing = np.zeros(pairs.n_demand, dtype=bool)
        by_existing[pairs.demand[is_existing[pairs.candidate]]] = True
        active = reachable & ~by_existing & (weights > 0)
        needed = (self.coverage_target * weights[reachable].sum() - weights[by_existing].sum())
        keep = active[pairs.demand] & ~is_existing[pairs.candidate]
        demand_rows = np.cumsum(active) - 1  # row of each active demand
        lower, upper = self._candidate_columns()
        if needed <= _TOLERANCE * max(1.0, weights.sum()):
            selected = np.zeros(0, dtype=np.int64)
            status, objective, gap = "optimal", 0.0, 0.0
        elif self.coverage_target >= 1:
            n_rows = int(active.sum())
            program = _program(maximise=False, column_cost=(~is_existing).astype(float),
                               column_lower=lower, column_upper=upper,
                               integer=np.ones(n_candidate, dtype=bool),
                               rows=demand_rows[pairs.demand[keep]], columns=pairs.candidate[keep],
                               values=np.ones(int(keep.sum())), n_rows=n_rows,
                               row_lower=np.ones(n_rows), row_upper=np.full(n_rows, np.inf))
            status, objective, gap, values = _run(program, time_limit=time_limit, mip_gap=mip_gap,
                                                  name=self.name)
            selected = self._selected(values)
        else:
            n_active = int(active.sum())
            cover_columns = n_candidate + np.arange(n_active)
            # rows 0..n_active-1: x_i − Σ y_j ≤ 0; last row: Σ w_i x_i ≥ needed
            rows = np.concatenate([np.arange(n_active), demand_rows[pairs.demand[keep]],
                                   np.full(n_active, n_active)])
            columns = np.concatenate([cover_columns, pairs.candidate[keep], cover_columns])
            values = np.concatenate([np.ones(n_active), -np.ones(int(keep.sum())), weights[active]])
            program = _program(
                maximise=False,
                column_cost=np.concatenate([(~is_existing).astype(float), np.zeros(n_active)]),
                column_lower=np.concatenate([lower, np.zeros(n_active)]),
                column_upper=np.concatenate([upper, np.ones(n_active)]),
                integer=np.concatenate([np.ones(n_candidate, bool), np.zeros(n_active, bool)]),
                rows=rows, columns=columns, values=values, n_rows=n_active + 1,
                row_lower=np.concatenate([np.full(n_active, -np.inf), [needed * (1 - 1e-9)]]),
                row_upper=np.concatenate([np.zeros(n_active), [np.inf]]))
            status, objective, gap, values = _run(program, time_limit=time_limit, mip_gap=mip_gap,
                                                  name=self.name)
            selected = self._selected(values)
        assignment = self._nearest_assignment(self._open_mask(selected))
        return self._result(selected=selected, objective=float(selected.size), status=status, gap=gap,
                            assignment=assignment)


class MCLP(_SitingModel):
    r"""Maximal coverage: the ``facilities`` new sites that cover the most demand weight.

    .. math::

        \max \sum_i w_i x_i + W_E \quad\text{s.t.}\quad
        x_i \le \sum_{j \in N_i \setminus E} y_j,\;\;
        \sum_{j \notin E} y_j = p,\;\; y_j \in \{0, 1\},\;\; 0 \le x_i \le 1

    over demand not already covered by an existing site; :math:`W_E` is the weight existing
    sites cover.  :math:`x_i` is integral at every integer :math:`y` (it equals
    :math:`\min(1, \sum y_j)`), so it is left continuous, which keeps branching on sites only.

    Exact reductions before solving: demand no candidate reaches, of weight 0, or already
    covered by an existing site leaves the model; demand points in reach of the same candidates
    merge into one row (weights summed).  The start (greedy, 1-swaps, exact re-solves around
    each open site) is compared with the bound "all weight in reach" (:math:`\sum_i w_i`, the
    LP bound whenever p sites can fractionally cover everything): when it is within ``mip_gap``
    of that bound it is returned as optimal with its gap, since nothing can cover more;
    otherwise HiGHS starts from it.
    """

    name = "mclp"
    needs_max_cost = True

    @classmethod
    def from_cost_matrix(cls, costs, demand_weights=None, *, max_cost: float, facilities: int,
                         existing=None, demand_ids=None, candidate_ids=None) -> MCLP:
        """Build the maximal-coverage model from demand × candidate costs.

        Parameters
        ----------
        costs
            scipy.sparse matrix (stored entries are the pairs), long-form
            ``(demand_index, candidate_index, cost)`` arrays, or a dense array (inf = no route).
        demand_weights
            Weight per demand row (default 1 each).
        max_cost
            Service radius: covered means cost ≤ ``max_cost``.
        facilities
            Number of new sites (p), beyond the existing ones.
        existing
            Candidate ids (text), positions or a boolean mask of sites already open.
        demand_ids, candidate_ids
            Ids for rows and columns (default their positions as text).
        """
        return cls._build(costs, demand_weights, max_cost=max_cost, facilities=facilities,
                          existing=existing, demand_ids=demand_ids, candidate_ids=candidate_ids)

    def _solve(self, *, time_limit, mip_gap) -> dict:
        pairs, weights = self._pairs, self._weights
        n_candidate = pairs.n_candidate
        is_existing = np.zeros(n_candidate, dtype=bool)
        is_existing[self._existing] = True
        by_existing = np.zeros(pairs.n_demand, dtype=bool)
        by_existing[pairs.demand[is_existing[pairs.candidate]]] = True
        reachable = np.zeros(pairs.n_demand, dtype=bool)
        reachable[pairs.demand] = True
        active = reachable & ~by_existing & (weights > 0)
        keep = active[pairs.demand] & ~is_existing[pairs.candidate]
        active_rows = np.cumsum(active) - 1
        pair_rows, pair_candidates = active_rows[pairs.demand[keep]], pairs.candidate[keep]
        # Demand points in reach of the same candidates behave as one: merge them (summing
        # weights), which removes a third of the rows on city-like instances.
        if pair_rows.size:
            group = _merge_identical_rows(pair_rows, pair_candidates, int(active.sum()))
        else:
            group = np.zeros(0, dtype=np.int64)
        n_groups = int(group.max()) + 1 if group.size else 0
        group_weight = np.bincount(group, weights=weights[active], minlength=n_groups)
        representative_row = np.full(n_groups, -1, dtype=np.int64)
        representative_row[group[::-1]] = np.arange(group.size)[::-1]  # first row of each group
        use = representative_row[group[pair_rows]] == pair_rows
        merged_rows, merged_candidates = group[pair_rows[use]], pair_candidates[use]
        cover_columns = n_candidate + np.arange(n_groups)
        site_columns, site_values = self._new_site_row()
        # rows 0..G-1: x_g − Σ_{j∈N_g} y_j ≤ 0; last row: Σ new y_j = p
        rows = np.concatenate([np.arange(n_groups), merged_rows, np.full(site_columns.size, n_groups)])
        columns = np.concatenate([cover_columns, merged_candidates, site_columns])
        values = np.concatenate([np.ones(n_groups), -np.ones(merged_rows.size), site_values])
        lower, upper = self._candidate_columns()
        reach = sparse.csr_array((np.ones(merged_rows.size), (merged_rows, merged_candidates)),
                                 shape=(n_groups, n_candidate))
        # The start: greedy + 1-swaps (iterated), then exact re-solves around each open site
        # (see _improve_by_subproblems).  Its covered weight is checked against the plain
        # bound "no more than all the weight in reach" (the LP relaxation's value on
        # near-full-coverage instances): when it is within mip_gap of that, it is proven good
        # enough and HiGHS is not needed; otherwise HiGHS starts from it.
        started = time.perf_counter()
        offset = float(weights[by_existing].sum())
        bound = float(group_weight.sum())
        target = (bound + offset) / (1 + mip_gap) - offset  # covered weight that proves mip_gap
        deadline = None if time_limit is None else started + 0.5 * time_limit
        start_sites = _greedy_cover(reach, group_weight, self.facilities, is_existing)
        start_sites = _improve_by_subproblems(reach, group_weight, start_sites, is_existing,
                                              target=target, deadline=deadline) | is_existing
        start_cover = np.minimum(1.0, reach @ start_sites.astype(float))
        start_value = float(group_weight @ start_cover)
        if start_value >= target * (1 - 1e-12):
            selected = self._selected(start_sites.astype(float))
            assignment = self._nearest_assignment(self._open_mask(selected))
            return self._result(selected=selected, objective=start_value + offset, status="optimal",
                                gap=max(0.0, (bound - start_value) / max(start_value + offset, 1.0)),
                                assignment=assignment)
        program = _program(
            maximise=True,
            column_cost=np.concatenate([np.zeros(n_candidate), group_weight]),
            column_lower=np.concatenate([lower, np.zeros(n_groups)]),
            column_upper=np.concatenate([upper, np.ones(n_groups)]),
            integer=np.concatenate([np.ones(n_candidate, bool), np.zeros(n_groups, bool)]),
            rows=rows, columns=columns, values=values, n_rows=n_groups + 1,
            row_lower=np.concatenate([np.full(n_groups, -np.inf), [self.facilities]]),
            row_upper=np.concatenate([np.zeros(n_groups), [self.facilities]]),
            offset=offset,
            start=np.concatenate([start_sites.astype(float), start_cover]))
        remaining = None if time_limit is None else max(time_limit - (time.perf_counter() - started), 1.0)
        status, objective, gap, values = _run(program, time_limit=remaining, mip_gap=mip_gap,
                                              name=self.name)
        selected = self._selected(values)
        assignment = self._nearest_assignment(self._open_mask(selected))
        return self._result(selected=selected, objective=objective, status=status, gap=gap,
                            assignment=assignment)


class _AssignmentModel(_SitingModel):
    """p-median and p-centre: every demand is assigned to one open site along its pairs."""

    def _assignment_parts(self):
        pairs, weights = self._pairs, self._weights
        active = weights > 0
        has_pair = np.zeros(pairs.n_demand, dtype=bool)
        has_pair[pairs.demand] = True
        stranded = active & ~has_pair
        if stranded.any():
            first = self.demand_ids[int(np.flatnonzero(stranded)[0])]
            raise DataError(f"{int(stranded.sum())} demand points (first: '{first}') have no candidate "
                            f"within reach, so they cannot be assigned.",
                            fix="Raise max_cost, add candidates, or drop that demand.")
        keep = active[pairs.demand]
        return pairs.subset(keep), active

    def _assignment_program(self, kept: _Pairs, active: np.ndarray, *, extra_columns: int):
        """Rows and columns shared by both: Σ_j z_ij = 1, z_ij ≤ y_j, Σ new y = p."""
        n_candidate = kept.n_candidate
        n_pairs = kept.demand.size
        n_active = int(active.sum())
        demand_rows = np.cumsum(active) - 1
        pair_columns = n_candidate + np.arange(n_pairs)
        site_columns, site_values = self._new_site_row()
        rows = np.concatenate([
            demand_rows[kept.demand],                      # rows 0..n_active-1: Σ_j z_ij = 1
            n_active + np.arange(n_pairs),                 # next n_pairs rows: z_ij − y_j ≤ 0
            n_active + np.arange(n_pairs),
            np.full(site_columns.size, n_active + n_pairs),  # last: Σ new y_j = p
        ])
        columns = np.concatenate([pair_columns, pair_columns, kept.candidate, site_columns])
        values = np.concatenate([np.ones(n_pairs), np.ones(n_pairs), -np.ones(n_pairs), site_values])
        row_lower = np.concatenate([np.ones(n_active), np.full(n_pairs, -np.inf), [self.facilities]])
        row_upper = np.concatenate([np.ones(n_active), np.zeros(n_pairs), [self.facilities]])
        lower, upper = self._candidate_columns()
        column_lower = np.concatenate([lower, np.zeros(n_pairs + extra_columns)])
        column_upper = np.concatenate([upper, np.ones(n_pairs), np.full(extra_columns, np.inf)])
        integer = np.concatenate([np.ones(n_candidate, bool), np.zeros(n_pairs + extra_columns, bool)])
        return rows, columns, values, row_lower, row_upper, column_lower, column_upper, integer


class PMedian(_AssignmentModel):
    r"""p-median: the ``facilities`` new sites with the least total weighted cost.

    .. math::

        \min \sum_{(i,j)} w_i c_{ij} z_{ij} \quad\text{s.t.}\quad
        \sum_j z_{ij} = 1,\;\; z_{ij} \le y_j,\;\; \sum_{j \notin E} y_j = p,\;\;
        y_j \in \{0,1\},\;\; z_{ij} \ge 0

    along the pairs given (all pairs of a dense matrix, or those within ``max_cost``).  With
    integer :math:`y` some optimal :math:`z` assigns each demand to its nearest open site, which
    is what the reported assignment does.  Demand of weight 0 is left out.
    """

    name = "pmedian"

    @classmethod
    def from_cost_matrix(cls, costs, demand_weights=None, *, facilities: int, max_cost=None,
                         existing=None, demand_ids=None, candidate_ids=None) -> PMedian:
        """Build the p-median model from demand × candidate costs.

        Parameters
        ----------
        costs
            Dense array (small instances), scipy.sparse matrix or long-form arrays; only the
            pairs given (within ``max_cost`` when set) are allowed assignments.
        demand_weights
            Weight per demand row (default 1 each).
        facilities
            Number of new sites (p), beyond the existing ones.
        max_cost
            Optional cut-off: demand may only be assigned to sites within it.
        existing
            Candidate ids (text), positions or a boolean mask of sites already open.
        demand_ids, candidate_ids
            Ids for rows and columns (default their positions as text).
        """
        return cls._build(costs, demand_weights, max_cost=max_cost, facilities=facilities,
                          existing=existing, demand_ids=demand_ids, candidate_ids=candidate_ids)

    def _solve(self, *, time_limit, mip_gap) -> dict:
        kept, active = self._assignment_parts()
        rows, columns, values, row_lower, row_upper, column_lower, column_upper, integer = (
            self._assignment_program(kept, active, extra_columns=0))
        column_cost = np.concatenate([np.zeros(kept.n_candidate), self._weights[kept.demand] * kept.cost])
        program = _program(maximise=False, column_cost=column_cost, column_lower=column_lower,
                           column_upper=column_upper, integer=integer, rows=rows, columns=columns,
                           values=values, n_rows=row_lower.size, row_lower=row_lower, row_upper=row_upper)
        status, objective, gap, solution = _run(program, time_limit=time_limit, mip_gap=mip_gap,
                                                name=self.name)
        selected = self._selected(solution)
        assignment = self._nearest_assignment(self._open_mask(selected), kept)
        return self._result(selected=selected, objective=objective, status=status, gap=gap,
                            assignment=assignment)


class PCenter(_AssignmentModel):
    r"""p-centre: the ``facilities`` new sites that minimise the largest demand–site cost.

    .. math::

        \min W \quad\text{s.t.}\quad
        \sum_j z_{ij} = 1,\;\; z_{ij} \le y_j,\;\; \sum_j c_{ij} z_{ij} \le W,\;\;
        \sum_{j \notin E} y_j = p,\;\; y_j \in \{0,1\},\;\; z_{ij} \ge 0

    Unweighted (as in spopt): every demand point with positive weight counts equally.
    """

    name = "pcenter"

    @classmethod
    def from_cost_matrix(cls, costs, demand_weights=None, *, facilities: int, max_cost=None,
                         existing=None, demand_ids=None, candidate_ids=None) -> PCenter:
        """Build the p-centre model from demand × candidate costs (see :meth:`PMedian.from_cost_matrix`)."""
        return cls._build(costs, demand_weights, max_cost=max_cost, facilities=facilities,
                          existing=existing, demand_ids=demand_ids, candidate_ids=candidate_ids)

    def _solve(self, *, time_limit, mip_gap) -> dict:
        kept, active = self._assignment_parts()
        rows, columns, values, row_lower, row_upper, column_lower, column_upper, integer = (
            self._assignment_program(kept, active, extra_columns=1))
        n_active = int(active.sum())
        n_pairs = kept.demand.size
        radius_column = kept.n_candidate + n_pairs
        first_radius_row = row_lower.size
        demand_rows = np.cumsum(active) - 1
        # rows: Σ_j c_ij z_ij − W ≤ 0 for each demand
        rows = np.concatenate([rows, first_radius_row + demand_rows[kept.demand],
                               first_radius_row + np.arange(n_active)])
        columns = np.concatenate([columns, kept.n_candidate + np.arange(n_pairs),
                                  np.full(n_active, radius_column)])
        values = np.concatenate([values, kept.cost, -np.ones(n_active)])
        row_lower = np.concatenate([row_lower, np.full(n_active, -np.inf)])
        row_upper = np.concatenate([row_upper, np.zeros(n_active)])
        column_cost = np.zeros(radius_column + 1)
        column_cost[radius_column] = 1.0
        program = _program(maximise=False, column_cost=column_cost, column_lower=column_lower,
                           column_upper=column_upper, integer=integer, rows=rows, columns=columns,
                           values=values, n_rows=row_lower.size, row_lower=row_lower, row_upper=row_upper)
        status, objective, gap, solution = _run(program, time_limit=time_limit, mip_gap=mip_gap,
                                                name=self.name)
        selected = self._selected(solution)
        assignment = self._nearest_assignment(self._open_mask(selected), kept)
        # The largest nearest-site cost is the objective, free of solver round-off.
        objective = float(assignment["cost"].max()) if len(assignment) else 0.0
        return self._result(selected=selected, objective=objective, status=status, gap=gap,
                            assignment=assignment)


class CapacityGap(_SitingModel):
    r"""Capacity-gap siting: place ``facilities`` sites of capacity C to close the most shortfall.

    Demand rows are units with a *need* (the shortfall of a ratio indicator in plan units:
    ``max(0, target × population ÷ scale − supply)``, see :func:`unit_needs`); a candidate may
    give capacity to the units it is paired with (the unit it sits in, or units within reach).

    .. math::

        \max \sum_{(u,j)} a_{uj} \quad\text{s.t.}\quad
        \sum_j a_{uj} \le \text{need}_u,\;\;
        \sum_u a_{uj} \le C_j y_j,\;\;
        a_{uj} \le \min(\text{need}_u, C_j)\, y_j,\;\;
        \sum_{j \notin E} y_j = N,\;\; y_j \in \{0,1\},\;\; a_{uj} \ge 0

    which equals :math:`\sum_u \min(\text{need}_u, \text{allocated}_u)`.  The per-pair bound is
    implied by the others at integer :math:`y` but tightens the LP relaxation.
    """

    name = "capacity_gap"

    def __init__(self, pairs, weights, *, capacity, **common):
        super().__init__(pairs, weights, **common)
        capacity = np.broadcast_to(np.asarray(capacity, dtype=float), (pairs.n_candidate,)).copy()
        if not np.all(np.isfinite(capacity)) or (capacity < 0).any():
            raise DataError("Capacity must be a finite number ≥ 0 (one value, or one per candidate).",
                            fix="Give the beds / places / rooms each new facility adds.")
        self.capacity = _read_only(capacity)

    @classmethod
    def from_cost_matrix(cls, costs, demand_weights, *, capacity, facilities: int, max_cost=None,
                         existing=None, demand_ids=None, candidate_ids=None) -> CapacityGap:
        """Build the capacity-gap model from unit × candidate pairs.

        Parameters
        ----------
        costs
            Unit × candidate pairs a candidate may serve (sparse matrix or long-form arrays; the
            cost is only used with ``max_cost``).  For a ratio indicator counted where the
            facility stands, pair each candidate with its own unit at cost 0.
        demand_weights
            Need per unit in plan units (beds, places…), e.g. from :func:`unit_needs`.
        capacity
            Capacity of one new facility, or one value per candidate.
        facilities
            Number of new facilities (N).
        max_cost, existing, demand_ids, candidate_ids
            As for the other models.
        """
        if demand_weights is None:
            raise DataError("The capacity-gap model needs the need of every unit.",
                            fix="Pass demand_weights=unit_needs(...).")
        return cls._build(costs, demand_weights, max_cost=max_cost, facilities=facilities,
                          existing=existing, demand_ids=demand_ids, candidate_ids=candidate_ids,
                          capacity=capacity)

    @classmethod
    def from_geodataframes(cls, units, candidates, *, weight_column: str, capacity, facilities: int,
                           max_cost: float | None = None, existing=None, demand_id_column: str | None = None,
                           candidate_id_column: str | None = None, metric: str = "euclidean",
                           detour: float = 1.0):
        """Build the model from unit polygons (with a need column) and candidate points.

        Parameters
        ----------
        units
            GeoDataFrame of unit polygons with the need in ``weight_column``.
        candidates
            GeoDataFrame of candidate points in the same projected CRS.
        weight_column
            The units' need in plan units (see :func:`unit_needs`).
        capacity, facilities
            Capacity per new facility (scalar or column name of ``candidates``) and how many.
        max_cost
            ``None``: a candidate serves only the unit it stands in (ratio indicators count
            facilities where they are).  A distance: it serves every unit within that distance
            of it (× ``detour``), as for an accessible ratio.
        existing, demand_id_column, candidate_id_column
            As for the point models (ids default to the units' ``code`` column or index).
        metric, detour
            Only ``"euclidean"`` is meaningful for polygon distance; ``detour`` scales it.
        """
        import shapely

        _check_points(candidates, "candidates")
        _check_same_crs(units, candidates, "units", "candidates")
        if demand_id_column is None and "code" in units.columns:
            demand_id_column = "code"
        unit_ids = _frame_ids(units, demand_id_column, "units")
        candidate_ids = _frame_ids(candidates, candidate_id_column, "candidates")
        need = _numeric_column(units, weight_column, "units")
        if isinstance(capacity, str):
            capacity = _numeric_column(candidates, capacity, "candidates")
        if metric != "euclidean":
            raise DataError(f"Unknown metric '{metric}' for unit polygons.", fix="Use metric='euclidean'.")
        tree = shapely.STRtree(units.geometry.values)
        points = candidates.geometry.values
        if max_cost is None:
            candidate, unit = tree.query(points, predicate="within")
            cost = np.zeros(candidate.size)
        else:
            candidate, unit = tree.query(points, predicate="dwithin", distance=max_cost / detour)
            cost = shapely.distance(np.asarray(points)[candidate], np.asarray(units.geometry.values)[unit]) * detour
        pairs = (unit.astype(np.int64), candidate.astype(np.int64), cost)
        return cls.from_cost_matrix(pairs, need, capacity=capacity, facilities=facilities,
                                    max_cost=max_cost, existing=existing, demand_ids=unit_ids,
                                    candidate_ids=candidate_ids)

    def _solve(self, *, time_limit, mip_gap) -> dict:
        pairs, need = self._pairs, self._weights
        keep = need[pairs.demand] > 0
        kept = pairs.subset(keep)
        n_candidate, n_unit, n_pairs = pairs.n_candidate, pairs.n_demand, kept.demand.size
        allocation_columns = n_candidate + np.arange(n_pairs)
        pair_bound = np.minimum(need[kept.demand], self.capacity[kept.candidate])
        site_columns, site_values = self._new_site_row()
        unit_rows = np.arange(n_unit)
        candidate_rows = n_unit + np.arange(n_candidate)
        pair_rows = n_unit + n_candidate + np.arange(n_pairs)
        count_row = n_unit + n_candidate + n_pairs
        rows = np.concatenate([
            unit_rows[kept.demand],            # Σ_j a_uj ≤ need_u
            candidate_rows[kept.candidate],    # Σ_u a_uj − C_j y_j ≤ 0
            candidate_rows,
            pair_rows, pair_rows,              # a_uj − min(need_u, C_j) y_j ≤ 0
            np.full(site_columns.size, count_row),  # Σ new y_j = N
        ])
        columns = np.concatenate([allocation_columns, allocation_columns, np.arange(n_candidate),
                                  allocation_columns, kept.candidate, site_columns])
        values = np.concatenate([np.ones(n_pairs), np.ones(n_pairs), -self.capacity,
                                 np.ones(n_pairs), -pair_bound, site_values])
        row_lower = np.concatenate([np.full(n_unit + n_candidate + n_pairs, -np.inf), [self.facilities]])
        row_upper = np.concatenate([need, np.zeros(n_candidate + n_pairs), [self.facilities]])
        lower, upper = self._candidate_columns()
        program = _program(
            maximise=True,
            column_cost=np.concatenate([np.zeros(n_candidate), np.ones(n_pairs)]),
            column_lower=np.concatenate([lower, np.zeros(n_pairs)]),
            column_upper=np.concatenate([upper, pair_bound]),
            integer=np.concatenate([np.ones(n_candidate, bool), np.zeros(n_pairs, bool)]),
            rows=rows, columns=columns, values=values, n_rows=count_row + 1,
            row_lower=row_lower, row_upper=row_upper)
        status, objective, gap, solution = _run(program, time_limit=time_limit, mip_gap=mip_gap,
                                                name=self.name)
        selected = self._selected(solution)
        amount = solution[allocation_columns]
        used = amount > _TOLERANCE
        assignment = pd.DataFrame({
            "demand_id": np.asarray(self.demand_ids, dtype=object)[kept.demand[used]],
            "candidate_id": np.asarray(self.candidate_ids, dtype=object)[kept.candidate[used]],
            "cost": kept.cost[used],
            "amount": amount[used],
        })
        total_need = float(need.sum())
        closed = float(objective)
        return self._result(selected=selected, objective=closed, status=status, gap=gap,
                            assignment=assignment,
                            covered=(closed, closed / total_need if total_need > 0 else 0.0))


def unit_needs(population, supply, *, target: float, scale: float = 1000.0) -> np.ndarray:
    """Shortfall per unit of a ratio indicator, in plan units: ``max(0, target × pop ÷ scale − supply)``.

    Parameters
    ----------
    population
        Population of the indicator's group per unit.
    supply
        What the unit already has (beds, places…), in the indicator's unit.
    target
        The plan's target value (e.g. 4.5 beds per 1,000 people).
    scale
        The indicator's per-how-many (1,000 for "per 1,000 residents").
    """
    population = np.asarray(population, dtype=float)
    supply = np.asarray(supply, dtype=float)
    return np.clip(target * population / scale - supply, 0.0, None)


# --- costs ------------------------------------------------------------------------------------------


def straight_line_costs(demand_points, candidate_points, *, max_cost: float | None = None,
                        metric: str = "euclidean", detour: float = 1.0):
    """Straight-line costs between points (projected metres), sparse within ``max_cost``.

    Parameters
    ----------
    demand_points, candidate_points
        Arrays of shapely points (or ``(n, 2)`` coordinate arrays).
    max_cost
        Keep only pairs with cost ≤ ``max_cost`` (one KD-tree query); ``None`` gives all pairs.
    metric
        ``"euclidean"`` or ``"manhattan"``.
    detour
        Factor ≥ 1 by which roads are longer than the straight line.

    Returns
    -------
    scipy.sparse.coo_array or numpy.ndarray
        The pairs within ``max_cost`` (stored entries, zeros included), or the dense matrix
        when ``max_cost`` is ``None``.
    """
    from scipy.spatial import cKDTree
    from scipy.spatial.distance import cdist

    norms = {"euclidean": 2, "manhattan": 1}
    if metric not in norms:
        raise DataError(f"Unknown metric '{metric}'.", fix="Use 'euclidean' or 'manhattan'.")
    if not np.isfinite(detour) or detour < 1:
        raise DataError(f"The detour factor must be ≥ 1, not {detour!r}.", fix="Use e.g. 1.3 for city roads.")
    demand_xy, candidate_xy = _coordinates(demand_points), _coordinates(candidate_points)
    if max_cost is None:
        if demand_xy.shape[0] * candidate_xy.shape[0] > DENSE_CELL_LIMIT:
            raise DataError(f"{demand_xy.shape[0]:,} × {candidate_xy.shape[0]:,} pairs are too many without max_cost.",
                            fix="Give max_cost (the service radius) so only pairs within reach are kept.")
        return cdist(demand_xy, candidate_xy, "cityblock" if metric == "manhattan" else "euclidean") * detour
    found = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(candidate_xy), max_cost / detour,
                                                      p=norms[metric], output_type="ndarray")
    # Built directly as COO so a zero distance (a candidate on a demand point) stays a pair.
    return sparse.coo_array((found["v"] * detour, (found["i"], found["j"])),
                            shape=(demand_xy.shape[0], candidate_xy.shape[0]))


def _coordinates(points) -> np.ndarray:
    import shapely

    points = np.asarray(points)
    if points.dtype == object:
        return shapely.get_coordinates(points)
    return np.asarray(points, dtype=float).reshape(-1, 2)


def cost_pairs_from_table(table: pd.DataFrame, *, demand_ids: Sequence[str], candidate_ids: Sequence[str],
                          origin_column: str, destination_column: str, cost_column: str,
                          file=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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

    Raises
    ------
    DataError
        A column is missing, an id is unknown, a cost is not a number ≥ 0, or a pair repeats;
        the message names the file, the spreadsheet row and the column.
    """
    for column in (origin_column, destination_column, cost_column):
        if column not in table.columns:
            raise DataError(f"The column '{column}' is missing (columns: {', '.join(map(str, table.columns))}).",
                            file=file, column=column, fix="Name the right column with the --cost-… options.")
    positions = []
    for column, ids, what in ((origin_column, demand_ids, "demand"), (destination_column, candidate_ids, "candidate")):
        values = table[column].astype(str).str.strip()
        found = pd.Index([str(value) for value in ids]).get_indexer(values)
        if (found < 0).any():
            bad = int(np.flatnonzero(found < 0)[0])
            raise DataError(f"Unknown {what} id '{values.iloc[bad]}'.", file=file, row=bad + 2, column=column,
                            fix=f"Use ids that appear in the {what} table.")
        positions.append(found.astype(np.int64))
    cost = pd.to_numeric(table[cost_column].astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(cost) | (cost < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"The cost '{table[cost_column].iloc[row]}' is not a number ≥ 0.", file=file,
                        row=row + 2, column=cost_column, fix="Give costs as plain numbers (metres, minutes).")
    repeated = pd.DataFrame({"o": positions[0], "d": positions[1]}).duplicated().to_numpy()
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        raise DataError("This demand–candidate pair appears twice.", file=file, row=row + 2,
                        column=origin_column, fix="Keep one cost per pair.")
    return positions[0], positions[1], cost


# --- checks on frames -------------------------------------------------------------------------------


def _check_points(frame, what: str) -> None:
    import shapely

    geometry = getattr(frame, "geometry", None)
    if geometry is None:
        raise DataError(f"The {what} must be a GeoDataFrame of points.", fix="Build it with geopandas.")
    kinds = shapely.get_type_id(np.asarray(geometry.values))
    bad = (kinds != 0) | shapely.is_empty(np.asarray(geometry.values))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"The {what} must be points; row {row + 1} is "
                        f"{'empty' if kinds[row] == 0 else geometry.iloc[row].geom_type if kinds[row] >= 0 else 'missing'}.",
                        fix="Use centroids or representative points (frame.representative_point()).")


def _check_same_crs(left, right, left_name: str, right_name: str) -> None:
    if left.crs is None or right.crs is None:
        raise DataError(f"The {left_name if left.crs is None else right_name} frame has no CRS.",
                        fix="Set it with .set_crs(...) and project with .to_crs(dataset.crs).")
    if not left.crs.is_projected:
        raise DataError(f"The {left_name} frame is in {left.crs.to_string()}, a geographic CRS; "
                        "distances would be in degrees.", fix="Project with .to_crs(dataset.crs), e.g. EPSG:32650.")
    if left.crs != right.crs:
        raise DataError(f"The {left_name} ({left.crs.to_string()}) and {right_name} "
                        f"({right.crs.to_string()}) are in different CRSs.",
                        fix=f"Project the {right_name} with .to_crs({left_name}.crs).")


def _frame_ids(frame, column: str | None, what: str) -> tuple[str, ...]:
    if column is None:
        values = frame.index
    elif column not in frame.columns:
        raise DataError(f"The {what} have no column '{column}'.", column=column,
                        fix=f"Choose one of: {', '.join(map(str, frame.columns))}.")
    else:
        values = frame[column]
    return _ids(list(values), len(frame), what)


def _numeric_column(frame, column: str, what: str) -> np.ndarray:
    if column not in frame.columns:
        raise DataError(f"The {what} have no column '{column}'.", column=column,
                        fix=f"Choose one of: {', '.join(map(str, frame.columns))}.")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"The {what} value '{frame[column].iloc[row]}' is not a number ≥ 0.",
                        row=row + 1, column=column, fix="Fill it with a number (0 if there is none).")
    return values


# --- candidates --------------------------------------------------------------------------------------


def grid_candidates(units, *, spacing: float, unit_codes: Iterable[str] | None = None,
                    code_column: str = "code"):
    """Candidate points on a regular grid inside units.

    The grid is anchored at multiples of ``spacing`` in the units' CRS, so grids of
    neighbouring units line up and ids are stable: ``grid-<x>-<y>`` (metres).

    Parameters
    ----------
    units
        GeoDataFrame of unit polygons in a projected CRS.
    spacing
        Distance between grid points, in metres.
    unit_codes
        Only these units (default all).
    code_column
        Column with the unit codes (the index is used when it is absent).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``unit_code`` and point geometry, in the units' CRS.
    """
    import geopandas as gpd
    import shapely

    if units.crs is None or not units.crs.is_projected:
        raise DataError("Grid candidates need units in a projected CRS (metres).",
                        fix="Project with .to_crs(dataset.crs).")
    if not np.isfinite(spacing) or spacing <= 0:
        raise DataError(f"The grid spacing must be positive, not {spacing!r}.", fix="Give metres, e.g. 500.")
    codes = (units[code_column] if code_column in units.columns else units.index.to_series()).astype(str).to_numpy()
    chosen = np.ones(len(units), dtype=bool)
    if unit_codes is not None:
        wanted = {str(code) for code in unit_codes}
        unknown = wanted.difference(codes)
        if unknown:
            raise DataError(f"Unknown unit code '{sorted(unknown)[0]}'.", fix="Use codes of the units given.")
        chosen = np.isin(codes, list(wanted))
    polygons = np.asarray(units.geometry.values)[chosen]
    codes = codes[chosen]
    bounds = shapely.bounds(polygons)
    x_first, x_last = np.ceil(bounds[:, 0] / spacing), np.floor(bounds[:, 2] / spacing)
    y_first, y_last = np.ceil(bounds[:, 1] / spacing), np.floor(bounds[:, 3] / spacing)
    columns = np.maximum(x_last - x_first + 1, 0).astype(np.int64)
    rows = np.maximum(y_last - y_first + 1, 0).astype(np.int64)
    counts = columns * rows
    if counts.sum() > 20_000_000:
        raise DataError(f"A {spacing} m grid would test {counts.sum():,} points.", fix="Use a wider spacing.")
    owner = np.repeat(np.arange(len(polygons)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    grid_x = (x_first[owner] + within % columns[owner]).astype(np.int64)
    grid_y = (y_first[owner] + within // columns[owner]).astype(np.int64)
    inside = shapely.contains_xy(polygons[owner], grid_x * spacing, grid_y * spacing)
    owner, grid_x, grid_y = owner[inside], grid_x[inside], grid_y[inside]
    # Overlapping units would otherwise contribute the same lattice point twice.
    _, first = np.unique(np.stack([grid_x, grid_y], axis=1), axis=0, return_index=True)
    first = np.sort(first)
    owner, x, y = owner[first], grid_x[first] * spacing, grid_y[first] * spacing
    ids = ("grid-" + pd.Series(np.round(x).astype(np.int64)).astype(str) + "-"
           + pd.Series(np.round(y).astype(np.int64)).astype(str))
    return gpd.GeoDataFrame({"id": ids.to_numpy(dtype=object), "unit_code": codes[owner]},
                            geometry=shapely.points(x, y), crs=units.crs)


def layer_candidates(layer, *, id_column: str = "id", crs=None):
    """A facility layer's points as candidates (e.g. public venues), ids kept as text.

    Parameters
    ----------
    layer
        GeoDataFrame of points.
    id_column
        Column with unique ids.
    crs
        Project to this CRS first (default: keep the layer's, which must be projected).
    """
    _check_points(layer, "layer")
    frame = layer.to_crs(crs) if crs is not None else layer
    if frame.crs is None or not frame.crs.is_projected:
        raise DataError("Candidates need a projected CRS (metres).", fix="Pass crs=dataset.crs.")
    ids = _frame_ids(frame, id_column, "layer")
    frame = frame.copy()
    frame["id"] = list(ids)
    return frame.reset_index(drop=True)


def table_candidates(table: pd.DataFrame, *, crs, id_column: str = "id", lon_column: str = "lon",
                     lat_column: str = "lat", datum: str = "wgs84", file=None):
    """Candidates from an uploaded table of longitude / latitude (any of WGS84, GCJ-02, BD-09).

    Parameters
    ----------
    table
        Rows with an id and coordinates (text is fine: it is parsed here).
    crs
        The dataset's projected CRS.
    id_column, lon_column, lat_column
        Column names.
    datum
        ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or ``"bd09"`` (Baidu).
    file
        The table's file name, for error messages.
    """
    import geopandas as gpd

    from .datum import to_wgs84

    for column in (id_column, lon_column, lat_column):
        if column not in table.columns:
            raise DataError(f"The column '{column}' is missing.", file=file, column=column,
                            fix=f"Columns present: {', '.join(map(str, table.columns))}.")
    coordinates = []
    for column, low, high in ((lon_column, -180, 180), (lat_column, -90, 90)):
        values = pd.to_numeric(table[column].astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < low) | (values > high)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"'{table[column].iloc[row]}' is not a coordinate between {low} and {high}.",
                            file=file, row=row + 2, column=column, fix="Give decimal degrees.")
        coordinates.append(values)
    lon, lat = to_wgs84(coordinates[0], coordinates[1], datum)
    ids = _ids(table[id_column].astype(str).str.strip().tolist(), len(table), "candidate")
    frame = gpd.GeoDataFrame({"id": list(ids)}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    return frame.to_crs(crs)


def solution_to_edits(solution: Solution, candidates, *, kind: str,
                      attributes: Mapping[str, Any] | None = None, id_column: str = "id") -> list[dict]:
    """Turn a solution's new sites into "add facility" edits for a scenario.

    Parameters
    ----------
    solution
        The result of :meth:`solve`.
    candidates
        The candidate GeoDataFrame the model was built from (projected CRS).
    kind
        The facility kind to add (a kind of the plan, e.g. ``"elderly_care"``).
    attributes
        Attributes every new facility gets (e.g. ``{"beds": 300}``).
    id_column
        Candidate id column (the index is used when absent).

    Returns
    -------
    list of dict
        ``{"action": "add", "kind", "lon", "lat", "datum": "wgs84", "attributes", "id"}`` per
        selected site, in the order of ``solution.selected``.
    """
    ids = pd.Index(_frame_ids(candidates, id_column if id_column in candidates.columns else None, "candidates"))
    found = ids.get_indexer(list(solution.selected))
    if (found < 0).any():
        missing = solution.selected[int(np.flatnonzero(found < 0)[0])]
        raise DataError(f"The selected candidate '{missing}' is not in the candidate frame.",
                        fix="Pass the candidates the model was built from.")
    if candidates.crs is None:
        raise DataError("The candidates have no CRS.", fix="Set the CRS the model was built in.")
    points = candidates.geometry.iloc[found].to_crs(4326)
    edits = []
    for candidate_id, lon, lat in zip(solution.selected, points.x.to_numpy(), points.y.to_numpy()):
        values = dict(attributes or {})
        values.setdefault("source", f"scenario: {solution.model} optimiser, candidate {candidate_id}")
        edits.append({"action": "add", "kind": kind, "lon": float(lon), "lat": float(lat), "datum": "wgs84",
                      "attributes": values, "id": f"{solution.model}-{candidate_id}"})
    return edits
