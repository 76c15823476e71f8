"""Siting models on HiGHS: set cover, maximal coverage, p-median, p-centre and capacity-gap siting.

Every model has the same shape (as in PySAL spopt's ``locate``), one model a module:

* ``Model.from_cost_matrix(costs, demand_weights, *, ...)`` takes demand × candidate costs: a
  :class:`~geo_coverage.catchment.CostTable` (what :func:`straight_line_costs` and the road
  network functions return), a scipy.sparse matrix whose stored entries are the pairs,
  long-form ``(demand_index, candidate_index, cost)`` arrays, or a dense array for small
  p-median / p-centre instances;
* ``Model.from_geodataframes(demand, candidates, *, ...)`` checks the frames (one projected CRS,
  point geometry, numeric weights) and hands off to ``from_cost_matrix``;
* ``model.solve(*, time_limit=None, mip_gap=1e-4)`` returns a frozen :class:`Solution`; the
  model is never changed by solving.

The programmes are built as sparse column-wise matrices and passed to HiGHS in one call
(:mod:`.highs`).  Facilities that already exist are "already open": pass them as ``existing``
(candidate ids or positions); they are fixed open, do not count against the number of new
facilities, and the demand they already cover is taken out of the coverage models.

Modules: :mod:`.pairs` (every cost input as sorted pairs; :func:`cost_pairs_from_table`),
:mod:`.highs` (the solver call), :mod:`.base` (:class:`Solution`, the shared model shape),
:mod:`.heuristics` (maximal-coverage starts), :mod:`.lscp`, :mod:`.mclp`, :mod:`.pmedian`,
:mod:`.pcenter`, :mod:`.capacity_gap` (the models) and :mod:`.candidates` (candidate frames from
a grid, a layer or a table; :func:`solution_to_edits` turns a solution into "add facility"
scenario edits).
"""

from __future__ import annotations

from ..catchment import straight_line_costs
from .base import Solution
from .candidates import grid_candidates, layer_candidates, solution_to_edits, table_candidates
from .capacity_gap import CapacityGap, unit_needs
from .lscp import LSCP
from .mclp import MCLP
from .pairs import cost_pairs_from_table
from .pcenter import PCenter
from .pmedian import PMedian

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
