"""Distance-decay functions: small factories returning vectorised ``cost -> weight`` functions.

As in PySAL ``access`` (``weights.step_fn``, ``gaussian``, ``gravity``), any of them (or any other
vectorised function) can be passed as the ``decay`` of :func:`~geo_coverage.access.two_step_fca`.
Bad parameters raise :class:`~geo_coverage.errors.DataError` (never an ``assert``), and every
function takes and returns whole arrays (never a row-by-row ``apply``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..errors import DataError
from ..plan import DECAYS

__all__ = ["Decay", "step_decay", "gaussian_decay", "gravity_decay", "decay_from_name",
           "e2sfca_steps"]

Decay = Callable[[np.ndarray], np.ndarray]


def step_decay(steps: Mapping[float, float] | None = None, *, max_cost: float | None = None) -> Decay:
    """Weights by cost band: ``{upper bound: weight}``, 0 beyond the last bound.

    Parameters
    ----------
    steps
        Upper bound of each band and its weight (a cost equal to a bound belongs to that band).
        PySAL's E2SFCA default is ``{10: 1, 20: 0.68, 30: 0.22}``.
    max_cost
        Without ``steps``: one band, weight 1 up to ``max_cost`` (plain 2SFCA).

    Returns
    -------
    callable
        ``cost array -> weight array``.
    """
    if steps is None:
        if max_cost is None:
            raise DataError("A step decay needs its steps or a max_cost.")
        steps = {float(max_cost): 1.0}
    bounds = np.array(sorted(float(k) for k in steps), dtype=float)
    values = np.array([float(steps[k]) for k in sorted(steps)], dtype=float)
    if (values < 0).any():
        raise DataError("Step weights must not be negative.")
    with_zero = np.append(values, 0.0)

    def weight(cost):
        # The first bound at or above the cost (a cost equal to a bound belongs to that band).
        return with_zero[np.searchsorted(bounds, np.asarray(cost, dtype=float), side="left")]

    return weight


def gaussian_decay(sigma: float) -> Decay:
    """``exp(-cost² / 2σ²)``: 1 at zero cost, no normalisation (as in PySAL).

    Parameters
    ----------
    sigma
        The width, in the costs' unit; not zero.

    Returns
    -------
    callable
        ``cost array -> weight array``.
    """
    if sigma == 0:
        raise DataError("The Gaussian width must not be zero.")
    sigma = float(sigma)
    return lambda cost: np.exp(-np.square(np.asarray(cost, dtype=float)) / (2.0 * sigma * sigma))


def gravity_decay(scale: float, alpha: float, *, min_cost: float = 0.0) -> Decay:
    """``(max(cost, min_cost) / scale) ** alpha``.

    Parameters
    ----------
    scale
        The cost at which the weight is 1.
    alpha
        The exponent; negative for a decay (``-1``: inverse cost).
    min_cost
        Costs below it count as it, so a facility on one's doorstep does not dominate.

    Returns
    -------
    callable
        ``cost array -> weight array``.
    """
    scale, alpha, min_cost = float(scale), float(alpha), float(min_cost)
    return lambda cost: np.power(np.maximum(np.asarray(cost, dtype=float), min_cost) / scale, alpha)


def decay_from_name(name: str, *, max_cost: float) -> Decay:
    """The plan's decay names with defaults scaled to the catchment.

    Parameters
    ----------
    name
        ``step``: 1 inside the catchment (plain 2SFCA).  ``gaussian``: σ = half the catchment
        (the edge weighs e⁻² ≈ 0.14).  ``gravity``: inverse cost,
        ``(max(c, catchment/10) / catchment)⁻¹`` (the floor keeps a facility on one's doorstep
        from dominating).
    max_cost
        The catchment.

    Returns
    -------
    callable
        ``cost array -> weight array``.
    """
    if name == "step":
        return step_decay(max_cost=max_cost)
    if name == "gaussian":
        return gaussian_decay(max_cost / 2.0)
    if name == "gravity":
        return gravity_decay(max_cost, -1.0, min_cost=max_cost / 10.0)
    raise DataError(f"Unknown decay '{name}'.", fix=f"Use one of {DECAYS}.")


def e2sfca_steps(max_cost: float) -> dict[float, float]:
    """PySAL's E2SFCA steps ``{10: 1, 20: 0.68, 30: 0.22}`` for 30 minutes, in thirds of any
    catchment: the default decay of :func:`~geo_coverage.access.enhanced_two_step_fca`."""
    return {max_cost / 3.0: 1.0, 2.0 * max_cost / 3.0: 0.68, float(max_cost): 0.22}
