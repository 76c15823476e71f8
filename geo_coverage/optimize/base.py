"""What every siting model shares: the frozen :class:`Solution` and the model shape.

:class:`SitingModel` holds the ids, weights, pairs and existing sites, builds a model from a cost
matrix (``_build``) or from GeoDataFrames (straight-line costs from
:func:`geo_coverage.catchment.straight_line_costs`), and times :meth:`SitingModel.solve`;
each model adds its ``from_cost_matrix`` and ``_solve``.  :class:`AssignmentModel` adds the rows
p-median and p-centre share.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..catchment import straight_line_costs
from ..errors import DataError
from ._frames import (
    candidates_with_existing,
    check_points,
    check_same_crs,
    frame_ids,
    numeric_column,
)
from .pairs import Pairs, as_pairs, count_of, ids_of, positions_of, read_only, weights_of

__all__ = ["Solution", "SitingModel", "AssignmentModel", "TOLERANCE"]

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Solution:
    """The result of :meth:`SitingModel.solve`; frozen, so a caller cannot alter a cached solution.

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
        Wall time of :meth:`SitingModel.solve` (building, solving, reading back).
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
        """The summary as plain JSON-ready values (without the assignment table).

        Returns
        -------
        dict
            Every attribute but ``assignment``; tuples become lists.
        """
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


class SitingModel:
    """What every model shares: ids, weights, pairs, existing sites; construction and solving."""

    name: ClassVar[str] = ""
    needs_max_cost: ClassVar[bool] = False
    needs_facilities: ClassVar[bool] = True
    # Each model's own constructor from costs (its options differ: see the model's docstring).
    from_cost_matrix: ClassVar[Callable[..., Any]]

    def __init__(
        self,
        pairs: Pairs,
        weights: np.ndarray,
        *,
        demand_ids,
        candidate_ids,
        existing: np.ndarray,
        facilities: int | None,
        max_cost: float | None,
    ):
        self._pairs = pairs
        self._weights = weights
        self.demand_ids: tuple[str, ...] = demand_ids
        self.candidate_ids: tuple[str, ...] = candidate_ids
        self._existing = read_only(existing)
        self.facilities = facilities
        self.max_cost = max_cost

    # Read-only views: a caller cannot change the model a later solve() sees.
    @property
    def demand_weights(self) -> np.ndarray:
        """The demand weights (read-only)."""
        return self._weights

    @property
    def existing(self) -> tuple[str, ...]:
        """Ids of the candidates open from the start."""
        return tuple(self.candidate_ids[position] for position in self._existing)

    @property
    def pair_count(self) -> int:
        """Demand–candidate pairs in the model (within ``max_cost``)."""
        return int(self._pairs.demand.size)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(demand={len(self.demand_ids)}, "
            f"candidates={len(self.candidate_ids)}, "
            f"pairs={self.pair_count}, facilities={self.facilities}, max_cost={self.max_cost}, "
            f"existing={len(self._existing)})"
        )

    @classmethod
    def _build(
        cls,
        costs,
        demand_weights,
        *,
        max_cost,
        facilities,
        existing,
        demand_ids,
        candidate_ids,
        **options,
    ):
        n_demand = (
            len(demand_ids)
            if demand_ids is not None
            else (None if demand_weights is None else np.asarray(demand_weights).size)
        )
        n_candidate = len(candidate_ids) if candidate_ids is not None else None
        pairs = as_pairs(costs, n_demand, n_candidate)
        weights = weights_of(demand_weights, pairs.n_demand)
        demand_ids = ids_of(demand_ids, pairs.n_demand, "demand")
        candidate_ids = ids_of(candidate_ids, pairs.n_candidate, "candidate")
        if max_cost is not None:
            if not np.isfinite(max_cost) or max_cost < 0:
                raise DataError(
                    f"max_cost must be a finite number ≥ 0, not {max_cost!r}.",
                    fix="Give the service radius in the cost's unit (metres, minutes).",
                )
            pairs = pairs.subset(pairs.cost <= max_cost)
        elif cls.needs_max_cost:
            raise DataError(
                f"The {cls.name} model needs max_cost (the service radius).",
                fix="Pass max_cost=R in the cost's unit.",
            )
        existing_positions = positions_of(existing, candidate_ids, "existing")
        if cls.needs_facilities:
            facilities = count_of(facilities, "facilities")
            available = pairs.n_candidate - existing_positions.size
            if facilities > available:
                raise DataError(
                    f"{facilities} new facilities asked for but only {available} candidates "
                    "are not already open.",
                    fix="Ask for fewer facilities or add candidates.",
                )
        return cls(
            pairs,
            weights,
            demand_ids=demand_ids,
            candidate_ids=candidate_ids,
            existing=existing_positions,
            facilities=facilities,
            max_cost=None if max_cost is None else float(max_cost),
            **options,
        )

    def _solve(self, *, time_limit: float | None, mip_gap: float) -> dict:
        raise NotImplementedError  # each model writes its programme

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
            raise DataError(
                f"mip_gap must be in [0, 1), not {mip_gap!r}.", fix="Pass e.g. mip_gap=1e-4."
            )
        started = time.perf_counter()
        result = self._solve(time_limit=time_limit, mip_gap=mip_gap)
        return Solution(solve_seconds=time.perf_counter() - started, **result)

    # -- helpers for subclasses

    def _is_existing(self) -> np.ndarray:
        mask = np.zeros(self._pairs.n_candidate, dtype=bool)
        mask[self._existing] = True
        return mask

    def _open_mask(self, selected: np.ndarray) -> np.ndarray:
        mask = self._is_existing()
        mask[selected] = True
        return mask

    def _candidate_columns(self):
        """Bounds of the site columns: existing ones fixed open."""
        lower = np.zeros(self._pairs.n_candidate)
        lower[self._existing] = 1.0
        return lower, np.ones(self._pairs.n_candidate)

    def _new_site_row(self) -> tuple[np.ndarray, np.ndarray]:
        """Column positions and coefficients of Σ new sites."""
        columns = np.flatnonzero(~self._is_existing())
        return columns, np.ones(columns.size)

    def _active_demand(self) -> tuple[np.ndarray, np.ndarray]:
        """Demand with weight, some candidate in reach and no existing site in reach; and the
        demand an existing site already covers."""
        pairs = self._pairs
        reachable = np.zeros(pairs.n_demand, dtype=bool)
        reachable[pairs.demand] = True
        by_existing = np.zeros(pairs.n_demand, dtype=bool)
        by_existing[pairs.demand[self._is_existing()[pairs.candidate]]] = True
        return reachable & ~by_existing & (self._weights > 0), by_existing

    def _selected(self, values: np.ndarray) -> np.ndarray:
        chosen = values[: self._pairs.n_candidate] > 0.5
        chosen[self._existing] = False
        return np.flatnonzero(chosen)

    def _nearest_assignment(
        self, open_mask: np.ndarray, pairs: Pairs | None = None
    ) -> pd.DataFrame:
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
        return pd.DataFrame(
            {
                "demand_id": demand_ids[demand[first]],
                "candidate_id": candidate_ids[candidate[first]],
                "cost": cost[first],
            }
        )

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

    def _nearest_result(
        self, selected: np.ndarray, *, objective, status, gap, pairs: Pairs | None = None
    ) -> dict:
        """The result with each demand at its nearest open site among ``pairs``."""
        assignment = self._nearest_assignment(self._open_mask(selected), pairs)
        return self._result(
            selected=selected, objective=objective, status=status, gap=gap, assignment=assignment
        )

    # -- the GeoDataFrame constructor shared by the point models

    @classmethod
    def from_geodataframes(
        cls,
        demand,
        candidates,
        *,
        weight_column: str | None = None,
        max_cost: float | None = None,
        facilities: int | None = None,
        existing=None,
        demand_id_column: str | None = None,
        candidate_id_column: str | None = None,
        metric: str = "euclidean",
        detour: float = 1.0,
        **options,
    ):
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
            Model options passed to ``from_cost_matrix`` (e.g. ``coverage_target``).

        Returns
        -------
        SitingModel
            The model, as ``from_cost_matrix`` builds it from the straight-line costs.

        Raises
        ------
        DataError
            A frame is not points, the CRSs differ or are geographic, a column is missing or
            holds a value that is not a number ≥ 0.
        """
        check_points(demand, "demand")
        check_points(candidates, "candidates")
        demand_ids = frame_ids(demand, demand_id_column, "demand")
        candidate_points, candidate_ids, existing = candidates_with_existing(
            candidates, existing, candidate_id_column
        )
        check_same_crs(demand, candidates, "demand", "candidates")
        weights = None if weight_column is None else numeric_column(demand, weight_column, "demand")
        costs = straight_line_costs(
            np.asarray(demand.geometry.values),
            np.asarray(candidate_points),
            max_cost=max_cost,
            metric=metric,
            detour_factor=detour,
        )
        return cls.from_cost_matrix(
            costs,
            weights,
            max_cost=max_cost,
            facilities=facilities,
            existing=existing,
            demand_ids=demand_ids,
            candidate_ids=candidate_ids,
            **options,
        )


class AssignmentModel(SitingModel):
    """p-median and p-centre: every demand is assigned to one open site along its pairs."""

    def _assignment_parts(self) -> tuple[Pairs, np.ndarray]:
        """The pairs of demand with weight, and that demand; demand out of reach is an error."""
        pairs, weights = self._pairs, self._weights
        active = weights > 0
        has_pair = np.zeros(pairs.n_demand, dtype=bool)
        has_pair[pairs.demand] = True
        stranded = active & ~has_pair
        if stranded.any():
            first = self.demand_ids[int(np.flatnonzero(stranded)[0])]
            raise DataError(
                f"{int(stranded.sum())} demand points (first: '{first}') have no candidate "
                f"within reach, so they cannot be assigned.",
                fix="Raise max_cost, add candidates, or drop that demand.",
            )
        keep = active[pairs.demand]
        return pairs.subset(keep), active

    def _assignment_program(self, *, extra_columns: int) -> tuple[Pairs, np.ndarray, dict]:
        """The rows and columns both share: Σ_j z_ij = 1, z_ij ≤ y_j, Σ new y = p.

        Returns the kept pairs, the active demand mask and the programme's parts (keywords of
        :func:`~geo_coverage.optimize.highs.build_program` but the objective), with
        ``extra_columns`` free columns ≥ 0 after the sites and the pairs.
        """
        kept, active = self._assignment_parts()
        n_candidate = kept.n_candidate
        n_pairs = kept.demand.size
        n_active = int(active.sum())
        demand_rows = np.cumsum(active) - 1
        pair_columns = n_candidate + np.arange(n_pairs)
        site_columns, site_values = self._new_site_row()
        lower, upper = self._candidate_columns()
        row_lower = np.concatenate(
            [np.ones(n_active), np.full(n_pairs, -np.inf), [self.facilities]]
        )
        parts = {
            "rows": np.concatenate(
                [
                    demand_rows[kept.demand],  # rows 0..n_active-1: Σ_j z_ij = 1
                    n_active + np.arange(n_pairs),  # next n_pairs rows: z_ij − y_j ≤ 0
                    n_active + np.arange(n_pairs),
                    np.full(site_columns.size, n_active + n_pairs),  # last: Σ new y_j = p
                ]
            ),
            "columns": np.concatenate([pair_columns, pair_columns, kept.candidate, site_columns]),
            "values": np.concatenate(
                [np.ones(n_pairs), np.ones(n_pairs), -np.ones(n_pairs), site_values]
            ),
            "n_rows": row_lower.size,
            "row_lower": row_lower,
            "row_upper": np.concatenate([np.ones(n_active), np.zeros(n_pairs), [self.facilities]]),
            "column_lower": np.concatenate([lower, np.zeros(n_pairs + extra_columns)]),
            "column_upper": np.concatenate(
                [upper, np.ones(n_pairs), np.full(extra_columns, np.inf)]
            ),
            "integer": np.concatenate(
                [np.ones(n_candidate, bool), np.zeros(n_pairs + extra_columns, bool)]
            ),
        }
        return kept, active, parts
