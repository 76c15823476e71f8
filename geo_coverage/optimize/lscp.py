"""Location set cover (LSCP): the fewest new sites that cover the demand in reach."""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .base import TOLERANCE, SitingModel
from .highs import build_program, solve_program

__all__ = ["LSCP"]


class LSCP(SitingModel):
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
            raise DataError(
                f"coverage_target must be in (0, 1], not {coverage_target!r}.",
                fix="Give the share of reachable demand to cover, e.g. 0.9.",
            )
        self.coverage_target = float(coverage_target)

    @classmethod
    def from_cost_matrix(
        cls,
        costs,
        demand_weights=None,
        *,
        max_cost: float,
        existing=None,
        coverage_target: float = 1.0,
        demand_ids=None,
        candidate_ids=None,
        facilities=None,
    ) -> LSCP:
        """Build the set-cover model from demand × candidate costs.

        Parameters
        ----------
        costs
            A :class:`~geo_coverage.catchment.CostTable`, a scipy.sparse matrix (stored entries
            are the pairs), long-form ``(demand_index, candidate_index, cost)`` arrays, or a
            dense array (inf = no route).
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

        Returns
        -------
        LSCP
            The model; :meth:`solve` gives the :class:`~geo_coverage.optimize.Solution`.
        """
        return cls._build(
            costs,
            demand_weights,
            max_cost=max_cost,
            facilities=None,
            existing=existing,
            demand_ids=demand_ids,
            candidate_ids=candidate_ids,
            coverage_target=coverage_target,
        )

    def _solve(self, *, time_limit, mip_gap) -> dict:
        pairs, weights = self._pairs, self._weights
        is_existing = self._is_existing()
        active, by_existing = self._active_demand()
        reachable = np.zeros(pairs.n_demand, dtype=bool)
        reachable[pairs.demand] = True
        needed = self.coverage_target * weights[reachable].sum() - weights[by_existing].sum()
        if needed <= TOLERANCE * max(1.0, weights.sum()):
            return self._nearest_result(
                np.zeros(0, dtype=np.int64), objective=0.0, status="optimal", gap=0.0
            )
        keep = active[pairs.demand] & ~is_existing[pairs.candidate]
        demand_rows = (np.cumsum(active) - 1)[pairs.demand[keep]]  # row of each kept pair's demand
        n_active, n_candidate, n_kept = int(active.sum()), pairs.n_candidate, int(keep.sum())
        lower, upper = self._candidate_columns()
        site_cost = (~is_existing).astype(float)
        if self.coverage_target >= 1:
            program = build_program(
                maximise=False,
                column_cost=site_cost,
                column_lower=lower,
                column_upper=upper,
                integer=np.ones(n_candidate, dtype=bool),
                rows=demand_rows,
                columns=pairs.candidate[keep],
                values=np.ones(n_kept),
                n_rows=n_active,
                row_lower=np.ones(n_active),
                row_upper=np.full(n_active, np.inf),
            )
        else:
            cover_columns = n_candidate + np.arange(n_active)
            # rows 0..n_active-1: x_i − Σ y_j ≤ 0; last row: Σ w_i x_i ≥ needed
            program = build_program(
                maximise=False,
                column_cost=np.concatenate([site_cost, np.zeros(n_active)]),
                column_lower=np.concatenate([lower, np.zeros(n_active)]),
                column_upper=np.concatenate([upper, np.ones(n_active)]),
                integer=np.concatenate([np.ones(n_candidate, bool), np.zeros(n_active, bool)]),
                rows=np.concatenate(
                    [np.arange(n_active), demand_rows, np.full(n_active, n_active)]
                ),
                columns=np.concatenate([cover_columns, pairs.candidate[keep], cover_columns]),
                values=np.concatenate([np.ones(n_active), -np.ones(n_kept), weights[active]]),
                n_rows=n_active + 1,
                row_lower=np.concatenate([np.full(n_active, -np.inf), [needed * (1 - 1e-9)]]),
                row_upper=np.concatenate([np.zeros(n_active), [np.inf]]),
            )
        status, _, gap, values = solve_program(
            program, time_limit=time_limit, mip_gap=mip_gap, name=self.name
        )
        selected = self._selected(values)
        return self._nearest_result(
            selected, objective=float(selected.size), status=status, gap=gap
        )
