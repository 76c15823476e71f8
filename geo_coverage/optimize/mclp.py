"""Maximal coverage (MCLP): the ``facilities`` new sites that cover the most demand weight."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sparse

from .base import SitingModel
from .heuristics import greedy_cover, improve_by_subproblems, merge_identical_rows
from .highs import build_program, solve_program

__all__ = ["MCLP"]


class MCLP(SitingModel):
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
    def from_cost_matrix(
        cls,
        costs,
        demand_weights=None,
        *,
        max_cost: float,
        facilities: int,
        existing=None,
        demand_ids=None,
        candidate_ids=None,
    ) -> MCLP:
        """Build the maximal-coverage model from demand × candidate costs.

        Parameters
        ----------
        costs
            A :class:`~geo_coverage.catchment.CostTable`, a scipy.sparse matrix (stored entries
            are the pairs), long-form ``(demand_index, candidate_index, cost)`` arrays, or a
            dense array (inf = no route).
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

        Returns
        -------
        MCLP
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

    def _merged_reach(self, active: np.ndarray) -> tuple[sparse.csr_array, np.ndarray]:
        """The reach of the active demand, rows in reach of the same candidates merged.

        Returns the group × candidate reach matrix and each group's summed weight; merging
        removes about a third of the rows on city-like instances.
        """
        pairs = self._pairs
        keep = active[pairs.demand] & ~self._is_existing()[pairs.candidate]
        pair_rows, pair_candidates = (
            (np.cumsum(active) - 1)[pairs.demand[keep]],
            pairs.candidate[keep],
        )
        if pair_rows.size:
            group = merge_identical_rows(pair_rows, pair_candidates, int(active.sum()))
        else:
            group = np.zeros(0, dtype=np.int64)
        n_groups = int(group.max()) + 1 if group.size else 0
        group_weight = np.bincount(group, weights=self._weights[active], minlength=n_groups)
        representative_row = np.full(n_groups, -1, dtype=np.int64)
        representative_row[group[::-1]] = np.arange(group.size)[::-1]  # first row of each group
        use = representative_row[group[pair_rows]] == pair_rows
        merged_rows, merged_candidates = group[pair_rows[use]], pair_candidates[use]
        reach = sparse.csr_array(
            (np.ones(merged_rows.size), (merged_rows, merged_candidates)),
            shape=(n_groups, pairs.n_candidate),
        )
        return reach, group_weight

    def _program(
        self,
        reach: sparse.csr_array,
        group_weight: np.ndarray,
        *,
        offset: float,
        start_sites: np.ndarray,
        start_cover: np.ndarray,
    ):
        n_groups, n_candidate = reach.shape
        merged = reach.tocoo()
        site_columns, site_values = self._new_site_row()
        cover_columns = n_candidate + np.arange(n_groups)
        lower, upper = self._candidate_columns()
        # rows 0..G-1: x_g − Σ_{j∈N_g} y_j ≤ 0; last row: Σ new y_j = p
        return build_program(
            maximise=True,
            column_cost=np.concatenate([np.zeros(n_candidate), group_weight]),
            column_lower=np.concatenate([lower, np.zeros(n_groups)]),
            column_upper=np.concatenate([upper, np.ones(n_groups)]),
            integer=np.concatenate([np.ones(n_candidate, bool), np.zeros(n_groups, bool)]),
            rows=np.concatenate(
                [np.arange(n_groups), merged.row, np.full(site_columns.size, n_groups)]
            ),
            columns=np.concatenate([cover_columns, merged.col, site_columns]),
            values=np.concatenate([np.ones(n_groups), -np.ones(merged.nnz), site_values]),
            n_rows=n_groups + 1,
            row_lower=np.concatenate([np.full(n_groups, -np.inf), [self.facilities]]),
            row_upper=np.concatenate([np.zeros(n_groups), [self.facilities]]),
            offset=offset,
            start=np.concatenate([start_sites.astype(float), start_cover]),
        )

    def _solve(self, *, time_limit, mip_gap) -> dict:
        active, by_existing = self._active_demand()
        is_existing = self._is_existing()
        reach, group_weight = self._merged_reach(active)
        # The start: greedy + 1-swaps (iterated), then exact re-solves around each open site
        # (see improve_by_subproblems).  Its covered weight is checked against the plain
        # bound "no more than all the weight in reach" (the LP relaxation's value on
        # near-full-coverage instances): when it is within mip_gap of that, it is proven good
        # enough and HiGHS is not needed; otherwise HiGHS starts from it.
        started = time.perf_counter()
        offset = float(self._weights[by_existing].sum())
        bound = float(group_weight.sum())
        target = (bound + offset) / (1 + mip_gap) - offset  # covered weight that proves mip_gap
        deadline = None if time_limit is None else started + 0.5 * time_limit
        start_sites = greedy_cover(reach, group_weight, self.facilities or 0, is_existing)
        start_sites = (
            improve_by_subproblems(
                reach, group_weight, start_sites, is_existing, target=target, deadline=deadline
            )
            | is_existing
        )
        start_cover = np.minimum(1.0, reach @ start_sites.astype(float))
        start_value = float(group_weight @ start_cover)
        if start_value >= target * (1 - 1e-12):
            return self._nearest_result(
                self._selected(start_sites.astype(float)),
                objective=start_value + offset,
                status="optimal",
                gap=max(0.0, (bound - start_value) / max(start_value + offset, 1.0)),
            )
        program = self._program(
            reach, group_weight, offset=offset, start_sites=start_sites, start_cover=start_cover
        )
        remaining = (
            None if time_limit is None else max(time_limit - (time.perf_counter() - started), 1.0)
        )
        status, objective, gap, values = solve_program(
            program, time_limit=remaining, mip_gap=mip_gap, name=self.name
        )
        return self._nearest_result(
            self._selected(values), objective=objective, status=status, gap=gap
        )
