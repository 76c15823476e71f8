"""Access indicators: who lives within reach of a facility, and how much capacity each can reach.

* ``access``: the share of a population group living within a catchment (a walking distance such
  as the 300 / 500 / 1,000 m life circles of GB 50180-2018, or minutes by a mode) of the nearest
  facility of a kind.
* ``accessible_ratio``: the two-step floating catchment area (2SFCA, Luo & Wang 2003) and its
  enhanced form with distance decay (E2SFCA, Luo & Qi 2009): each facility's supply is shared by
  everyone within its catchment, and each resident's accessibility is the sum of the shares of the
  facilities they can reach (supply per person).  Reported per 1,000, population-weighted.

The package follows PySAL ``access``'s split, with one facade over pure functions:

``settings``     :class:`AccessSettings`, how access is measured (frozen)
``decay``        distance-decay factories (step, Gaussian, gravity), swappable
``fca``          2SFCA / E2SFCA on position arrays, and the kept sparse catchment
``tables``       the same from id tables (a planner's own matrix), ids factorised once
``indicators``   the facade over a dataset: :func:`unit_measures`, :func:`point_measures`, outlines
``memo``         demand grids and catchments kept between evaluations
"""

from .decay import Decay, decay_from_name, gaussian_decay, gravity_decay, step_decay
from .fca import enhanced_two_step_fca, two_step_fca
from .indicators import (
    catchment_outlines,
    coverage_within,
    facility_points,
    pair_costs,
    point_measures,
    unit_measures,
)
from .memo import cached_demand_points
from .settings import AccessSettings
from .tables import MAX_TABLE_VALUE, accessibility_from_tables, check_max_cost

__all__ = [
    "AccessSettings",
    "Decay",
    "step_decay",
    "gaussian_decay",
    "gravity_decay",
    "decay_from_name",
    "two_step_fca",
    "enhanced_two_step_fca",
    "coverage_within",
    "pair_costs",
    "facility_points",
    "unit_measures",
    "point_measures",
    "cached_demand_points",
    "accessibility_from_tables",
    "check_max_cost",
    "MAX_TABLE_VALUE",
    "catchment_outlines",
]
