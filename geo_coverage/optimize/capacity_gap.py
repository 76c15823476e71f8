"""Capacity-gap siting: new sites of a given capacity placed to close the most shortfall."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from ._frames import check_points, check_same_crs, frame_ids, numeric_column
from .base import TOLERANCE, SitingModel
from .highs import build_program, solve_program
from .pairs import read_only

__all__ = ["CapacityGap", "unit_needs"]


class CapacityGap(SitingModel):
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
            raise DataError(
                "Capacity must be a finite number ≥ 0 (one value, or one per candidate).",
                fix="Give the beds / places / rooms each new facility adds.",
            )
        self.capacity = read_only(capacity)

    @classmethod
    def from_cost_matrix(
        cls,
        costs,
        demand_weights,
        *,
        capacity,
        facilities: int,
        max_cost=None,
        existing=None,
        demand_ids=None,
        candidate_ids=None,
    ) -> CapacityGap:
        """Build the capacity-gap model from unit × candidate pairs.

        Parameters
        ----------
        costs
            Unit × candidate pairs a candidate may serve (sparse matrix, CostTable or long-form
            arrays; the cost is only used with ``max_cost``).  For a ratio indicator counted
            where the facility stands, pair each candidate with its own unit at cost 0.
        demand_weights
            Need per unit in plan units (beds, places…), e.g. from :func:`unit_needs`.
        capacity
            Capacity of one new facility, or one value per candidate.
        facilities
            Number of new facilities (N).
        max_cost, existing, demand_ids, candidate_ids
            As for the other models.

        Returns
        -------
        CapacityGap
            The model; :meth:`solve` gives the :class:`~geo_coverage.optimize.Solution`.
        """
        if demand_weights is None:
            raise DataError(
                "The capacity-gap model needs the need of every unit.",
                fix="Pass demand_weights=unit_needs(...).",
            )
        return cls._build(
            costs,
            demand_weights,
            max_cost=max_cost,
            facilities=facilities,
            existing=existing,
            demand_ids=demand_ids,
            candidate_ids=candidate_ids,
            capacity=capacity,
        )

    @classmethod
    def from_geodataframes(  # type: ignore[override]  # unit polygons and a need column, not points
        cls,
        units,
        candidates,
        *,
        weight_column: str,
        capacity,
        facilities: int,
        max_cost: float | None = None,
        existing=None,
        demand_id_column: str | None = None,
        candidate_id_column: str | None = None,
        metric: str = "euclidean",
        detour: float = 1.0,
    ) -> CapacityGap:
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

        Returns
        -------
        CapacityGap
            The model over the unit–candidate pairs found.
        """
        import shapely  # with geopandas, only the GeoDataFrame paths need it

        check_points(candidates, "candidates")
        check_same_crs(units, candidates, "units", "candidates")
        if demand_id_column is None and "code" in units.columns:
            demand_id_column = "code"
        unit_ids = frame_ids(units, demand_id_column, "units")
        candidate_ids = frame_ids(candidates, candidate_id_column, "candidates")
        need = numeric_column(units, weight_column, "units")
        if isinstance(capacity, str):
            capacity = numeric_column(candidates, capacity, "candidates")
        if metric != "euclidean":
            raise DataError(
                f"Unknown metric '{metric}' for unit polygons.", fix="Use metric='euclidean'."
            )
        tree = shapely.STRtree(units.geometry.values)
        points = candidates.geometry.values
        if max_cost is None:
            candidate, unit = tree.query(points, predicate="within")
            cost = np.zeros(candidate.size)
        else:
            candidate, unit = tree.query(points, predicate="dwithin", distance=max_cost / detour)
            cost = (
                shapely.distance(
                    np.asarray(points)[candidate], np.asarray(units.geometry.values)[unit]
                )
                * detour
            )
        pairs = (unit.astype(np.int64), candidate.astype(np.int64), cost)
        return cls.from_cost_matrix(
            pairs,
            need,
            capacity=capacity,
            facilities=facilities,
            max_cost=max_cost,
            existing=existing,
            demand_ids=unit_ids,
            candidate_ids=candidate_ids,
        )

    def _solve(self, *, time_limit, mip_gap) -> dict:
        pairs, need = self._pairs, self._weights
        kept = pairs.subset(need[pairs.demand] > 0)
        n_candidate, n_unit, n_pairs = pairs.n_candidate, pairs.n_demand, kept.demand.size
        allocation_columns = n_candidate + np.arange(n_pairs)
        pair_bound = np.minimum(need[kept.demand], self.capacity[kept.candidate])
        site_columns, site_values = self._new_site_row()
        candidate_rows = n_unit + np.arange(n_candidate)
        pair_rows = n_unit + n_candidate + np.arange(n_pairs)
        count_row = n_unit + n_candidate + n_pairs
        rows = np.concatenate(
            [
                kept.demand,  # Σ_j a_uj ≤ need_u
                candidate_rows[kept.candidate],  # Σ_u a_uj − C_j y_j ≤ 0
                candidate_rows,
                pair_rows,
                pair_rows,  # a_uj − min(need_u, C_j) y_j ≤ 0
                np.full(site_columns.size, count_row),  # Σ new y_j = N
            ]
        )
        columns = np.concatenate(
            [
                allocation_columns,
                allocation_columns,
                np.arange(n_candidate),
                allocation_columns,
                kept.candidate,
                site_columns,
            ]
        )
        values = np.concatenate(
            [
                np.ones(n_pairs),
                np.ones(n_pairs),
                -self.capacity,
                np.ones(n_pairs),
                -pair_bound,
                site_values,
            ]
        )
        lower, upper = self._candidate_columns()
        program = build_program(
            maximise=True,
            column_cost=np.concatenate([np.zeros(n_candidate), np.ones(n_pairs)]),
            column_lower=np.concatenate([lower, np.zeros(n_pairs)]),
            column_upper=np.concatenate([upper, pair_bound]),
            integer=np.concatenate([np.ones(n_candidate, bool), np.zeros(n_pairs, bool)]),
            rows=rows,
            columns=columns,
            values=values,
            n_rows=count_row + 1,
            row_lower=np.concatenate(
                [np.full(n_unit + n_candidate + n_pairs, -np.inf), [self.facilities]]
            ),
            row_upper=np.concatenate([need, np.zeros(n_candidate + n_pairs), [self.facilities]]),
        )
        status, closed, gap, solution = solve_program(
            program, time_limit=time_limit, mip_gap=mip_gap, name=self.name
        )
        amount = solution[allocation_columns]
        used = amount > TOLERANCE
        assignment = pd.DataFrame(
            {
                "demand_id": np.asarray(self.demand_ids, dtype=object)[kept.demand[used]],
                "candidate_id": np.asarray(self.candidate_ids, dtype=object)[kept.candidate[used]],
                "cost": kept.cost[used],
                "amount": amount[used],
            }
        )
        total_need = float(need.sum())
        closed = float(closed)
        return self._result(
            selected=self._selected(solution),
            objective=closed,
            status=status,
            gap=gap,
            assignment=assignment,
            covered=(closed, closed / total_need if total_need > 0 else 0.0),
        )


def unit_needs(population, supply, *, target: float, scale: float = 1000.0) -> np.ndarray:
    """Shortfall per unit of a ratio indicator in plan units.

    ``max(0, target × population ÷ scale − supply)``.

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

    Returns
    -------
    numpy.ndarray
        The need per unit (0 where the target is met).
    """
    population = np.asarray(population, dtype=float)
    supply = np.asarray(supply, dtype=float)
    return np.clip(target * population / scale - supply, 0.0, None)
