"""p-median: the ``facilities`` new sites with the least total weighted cost."""

from __future__ import annotations

import numpy as np

from .base import AssignmentModel
from .highs import build_program, solve_program

__all__ = ["PMedian"]


class PMedian(AssignmentModel):
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
    ) -> PMedian:
        """Build the p-median model from demand × candidate costs.

        Parameters
        ----------
        costs
            Dense array (small instances), :class:`~geo_coverage.catchment.CostTable`,
            scipy.sparse matrix or long-form arrays; only the pairs given (within ``max_cost``
            when set) are allowed assignments.
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

        Returns
        -------
        PMedian
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
        kept, _, parts = self._assignment_program(extra_columns=0)
        column_cost = np.concatenate(
            [np.zeros(kept.n_candidate), self._weights[kept.demand] * kept.cost]
        )
        program = build_program(maximise=False, column_cost=column_cost, **parts)
        status, objective, gap, solution = solve_program(
            program, time_limit=time_limit, mip_gap=mip_gap, name=self.name
        )
        return self._nearest_result(
            self._selected(solution), objective=objective, status=status, gap=gap, pairs=kept
        )
