"""p-centre: the ``facilities`` new sites that minimise the largest demand–site cost."""

from __future__ import annotations

import numpy as np

from .base import AssignmentModel
from .highs import build_program, solve_program

__all__ = ["PCenter"]


class PCenter(AssignmentModel):
    r"""p-centre: the ``facilities`` new sites that minimise the largest demand–site cost.

    .. math::

        \min W \quad\text{s.t.}\quad
        \sum_j z_{ij} = 1,\;\; z_{ij} \le y_j,\;\; \sum_j c_{ij} z_{ij} \le W,\;\;
        \sum_{j \notin E} y_j = p,\;\; y_j \in \{0,1\},\;\; z_{ij} \ge 0

    Unweighted (as in spopt): every demand point with positive weight counts equally.
    """

    name = "pcenter"

    @classmethod
    def from_cost_matrix(
        cls,
        costs,
        demand_weights=None,
        *,
        facilities: int,
        max_cost=None,
        existing=None,
        demand_ids=None,
        candidate_ids=None,
    ) -> PCenter:
        """Build the p-centre model from demand × candidate costs.

        Parameters
        ----------
        costs, demand_weights, facilities, max_cost, existing, demand_ids, candidate_ids
            As for :meth:`geo_coverage.optimize.PMedian.from_cost_matrix`;
            the weights only decide which demand counts (weight > 0).

        Returns
        -------
        PCenter
            The model; :meth:`solve` gives the :class:`~geo_coverage.optimize.Solution`.
        """
        return cls._build(
            costs,
            demand_weights,
            max_cost=max_cost,
            facilities=facilities,
            existing=existing,
            demand_ids=demand_ids,
            candidate_ids=candidate_ids,
        )

    def _solve(self, *, time_limit, mip_gap) -> dict:
        kept, active, parts = self._assignment_program(extra_columns=1)
        n_active = int(active.sum())
        n_pairs = kept.demand.size
        radius_column = kept.n_candidate + n_pairs
        first_radius_row = parts["n_rows"]
        demand_rows = np.cumsum(active) - 1
        # rows: Σ_j c_ij z_ij − W ≤ 0 for each demand
        parts["rows"] = np.concatenate(
            [
                parts["rows"],
                first_radius_row + demand_rows[kept.demand],
                first_radius_row + np.arange(n_active),
            ]
        )
        parts["columns"] = np.concatenate(
            [
                parts["columns"],
                kept.n_candidate + np.arange(n_pairs),
                np.full(n_active, radius_column),
            ]
        )
        parts["values"] = np.concatenate([parts["values"], kept.cost, -np.ones(n_active)])
        parts["row_lower"] = np.concatenate([parts["row_lower"], np.full(n_active, -np.inf)])
        parts["row_upper"] = np.concatenate([parts["row_upper"], np.zeros(n_active)])
        parts["n_rows"] = first_radius_row + n_active
        column_cost = np.zeros(radius_column + 1)
        column_cost[radius_column] = 1.0
        program = build_program(maximise=False, column_cost=column_cost, **parts)
        status, _, gap, solution = solve_program(
            program, time_limit=time_limit, mip_gap=mip_gap, name=self.name
        )
        selected = self._selected(solution)
        assignment = self._nearest_assignment(self._open_mask(selected), kept)
        # The largest nearest-site cost is the objective, free of solver round-off.
        objective = float(assignment["cost"].max()) if len(assignment) else 0.0
        return self._result(
            selected=selected, objective=objective, status=status, gap=gap, assignment=assignment
        )
