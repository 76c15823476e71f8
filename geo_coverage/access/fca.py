"""Floating catchments: 2SFCA (Luo & Wang 2003) and E2SFCA (Luo & Qi 2009) on position arrays.

Each facility's supply is shared by everyone within its catchment, and each resident's
accessibility is the sum of the shares of the facilities they can reach (supply per person).  The
functions take a :class:`~geo_coverage.catchment.CostTable` whose origins and destinations are
positions, so they never touch ids: two ``np.bincount`` calls, or two sparse products when the
catchment is kept (:class:`SparseCatchment`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..catchment import CostTable
from ..errors import DataError
from .decay import Decay, e2sfca_steps, step_decay

__all__ = ["two_step_fca", "enhanced_two_step_fca", "SparseCatchment"]


def two_step_fca(demand, supply, costs: CostTable, *, max_cost: float, decay: Decay | None = None
                 ) -> np.ndarray:
    """Two-step floating catchment accessibility of every demand location.

    With weights ``w(c)`` (1 for plain 2SFCA) over pairs with ``c ≤ max_cost``::

        R_j = S_j / Σ_i w(c_ij) P_i          (supply per person competing for facility j)
        A_i = Σ_j w(c_ij) R_j                (supply per person reachable from i)

    Parameters
    ----------
    demand
        Population ``P_i`` of each origin of ``costs``.
    supply
        Supply ``S_j`` of each destination (beds, places, or 1 per facility).
    costs
        Origin (demand) × destination (supply) costs.
    max_cost, decay
        Catchment and weight function (default: step, 1 within the catchment).

    Returns
    -------
    numpy.ndarray
        ``A_i`` for every origin; 0 where nothing is in reach.  A facility nobody can reach
        serves nobody (``R_j = 0``).
    """
    demand = np.asarray(demand, dtype=float)
    supply = np.asarray(supply, dtype=float)
    if len(demand) != costs.n_origins or len(supply) != costs.n_destinations:
        raise DataError(f"{len(demand)} demand and {len(supply)} supply values do not match the "
                        f"cost table's {costs.n_origins} origins and {costs.n_destinations} destinations.")
    origin, destination, cost = costs.origins, costs.destinations, costs.costs
    inside = cost <= max_cost
    if not inside.all():
        origin, destination, cost = origin[inside], destination[inside], cost[inside]
    # Plain 2SFCA weighs every pair 1: the products with the weights are skipped, not computed.
    weight = None if decay is None else np.asarray(decay(cost), dtype=float)
    demand_weight = demand[origin] if weight is None else weight * demand[origin]
    competing = np.bincount(destination, weights=demand_weight, minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(competing > 0, supply / competing, 0.0)
    supply_weight = ratio[destination] if weight is None else weight * ratio[destination]
    return np.bincount(origin, weights=supply_weight, minlength=len(demand))


def enhanced_two_step_fca(demand, supply, costs: CostTable, *, max_cost: float,
                          decay: Decay | None = None) -> np.ndarray:
    """E2SFCA: :func:`two_step_fca` with a distance decay.

    Parameters
    ----------
    demand, supply, costs, max_cost
        As for :func:`two_step_fca`.
    decay
        Default: PySAL's E2SFCA step weights scaled to the catchment (1 in the first third, 0.68
        in the second, 0.22 in the last, :func:`~geo_coverage.access.decay.e2sfca_steps`).  Pass
        :func:`~geo_coverage.access.gaussian_decay` or
        :func:`~geo_coverage.access.gravity_decay` (or any vectorised function) to swap it.

    Returns
    -------
    numpy.ndarray
        Accessibility of every origin, as for :func:`two_step_fca`.
    """
    if decay is None:
        decay = step_decay(e2sfca_steps(max_cost))
    return two_step_fca(demand, supply, costs, max_cost=max_cost, decay=decay)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


class SparseCatchment:
    """The demand × facility weights ``w(c_ij)`` of the pairs within a catchment, kept.

    Only the demand points that reach some facility get a row (``reached``: their positions, in
    the matrix's row order).  Read-only; population and supply enter only in :meth:`two_step`, so
    one matrix serves any population (grown scenarios) and any capacities (resized facilities).
    """

    def __init__(self, costs: CostTable, *, max_cost: float, decay: Decay):
        inside = costs.costs <= max_cost
        origins = costs.origins[inside]
        reached = np.flatnonzero(np.bincount(origins, minlength=costs.n_origins))  # (no sort)
        row_of = np.zeros(costs.n_origins, dtype=np.int64)
        row_of[reached] = np.arange(len(reached))
        weights = np.asarray(decay(costs.costs[inside]), dtype=float)
        self.reached = _read_only(reached)
        self.matrix = sparse.csr_matrix((weights, (row_of[origins], costs.destinations[inside])),
                                        shape=(len(reached), costs.n_destinations))
        for array in (self.matrix.data, self.matrix.indices, self.matrix.indptr):
            array.setflags(write=False)
        self.nbytes = int(self.reached.nbytes + self.matrix.data.nbytes + self.matrix.indices.nbytes
                          + self.matrix.indptr.nbytes)

    def two_step(self, demand: np.ndarray, supply: np.ndarray) -> np.ndarray:
        """:func:`two_step_fca` at the reached points.

        Parameters
        ----------
        demand
            Population of each reached point (in ``reached`` order).
        supply
            Supply of each facility.

        Returns
        -------
        numpy.ndarray
            Accessibility of each reached point: ``R = S / (Wᵀ P)`` (0 where no one competes),
            ``A = W R``, two sparse products.
        """
        competing = self.matrix.T @ np.asarray(demand, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(competing > 0, np.asarray(supply, dtype=float) / competing, 0.0)
        return self.matrix @ ratio
