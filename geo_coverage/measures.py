"""What each facility contributes to an indicator's measures.

A :class:`~geo_coverage.plan.Measure` counts facilities or sums an attribute, optionally where a
condition holds.  These functions turn a layer into one number per facility; the coverage engine
(:mod:`geo_coverage.coverage`), access (:mod:`geo_coverage.access`) and scenarios sum them.  They
sit below both so that neither imports the other for them.

Unrecorded is not zero: a layer lacking an attribute gives the indicator no data
(:func:`missing_attributes`), and a share's denominator counts only the facilities whose numerator
is recorded (:func:`recorded`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .errors import DataError
from .plan import Indicator, Measure

__all__ = ["COUNTED_STATUSES", "facility_values", "measure_attributes", "recorded", "missing_attributes"]

# Facilities that count towards supply; a scenario's additions are 'planned'.
COUNTED_STATUSES = ("existing", "planned")


def facility_values(frame: pd.DataFrame, measure: Measure, *, origin: str = "",
                    recorded_for: Measure | None = None) -> np.ndarray:
    """Each facility's contribution to ``measure`` (1/0 for counts, the attribute for sums; a
    blank attribute counts 0).  With ``recorded_for``, facilities whose ``recorded_for`` measure
    is not recorded contribute 0: a share's denominator counts only the facilities whose
    numerator is known (a care home with no nursing-bed figure is not a home with none).

    Parameters
    ----------
    frame
        A facility layer (rows are facilities).
    measure
        A count or sum, optionally where a condition holds.
    origin
        The layer's file, for messages.
    recorded_for
        The numerator's measure, when ``measure`` is a share's denominator.

    Returns
    -------
    numpy.ndarray
        One float per row of ``frame``.

    Raises
    ------
    DataError
        The layer lacks the attribute the measure sums or tests.
    """
    n = len(frame)
    if measure.where_attribute:
        if measure.where_attribute not in frame:
            raise DataError(f"Layer has no attribute '{measure.where_attribute}'.", file=origin,
                            column=measure.where_attribute,
                            fix="Add the column (see `geo-coverage indicators` for what each needs).")
        mask = _condition(frame[measure.where_attribute], measure.where_op, measure.where_value)
    else:
        mask = np.ones(n, dtype=bool)
    if recorded_for is not None:
        mask = mask & recorded(frame, recorded_for)
    if measure.count:
        return mask.astype(float)
    if measure.sum not in frame:
        raise DataError(f"Layer has no attribute '{measure.sum}'.", file=origin, column=measure.sum,
                        fix="Add the column with a number for every facility.")
    values = pd.to_numeric(frame[measure.sum], errors="coerce").to_numpy(dtype=float)
    return np.where(mask, np.nan_to_num(values, nan=0.0), 0.0)


def measure_attributes(measure: Measure | None) -> tuple[str, ...]:
    """The facility attributes a measure reads."""
    if measure is None:
        return ()
    return tuple(a for a in (measure.sum, measure.where_attribute) if a)


def recorded(frame: pd.DataFrame, measure: Measure) -> np.ndarray:
    """Whether each facility has the attributes ``measure`` reads (numbers for sums)."""
    known = np.ones(len(frame), dtype=bool)
    for attribute in measure_attributes(measure):
        if attribute not in frame:
            return np.zeros(len(frame), dtype=bool)
        column = frame[attribute]
        if attribute == measure.sum:
            column = pd.to_numeric(column, errors="coerce")
        known &= column.notna().to_numpy()
    return known


def missing_attributes(frame: pd.DataFrame | None, indicator: Indicator) -> list[str]:
    """Attributes the indicator reads that the layer lacks altogether (then it has no data)."""
    if frame is None:
        return []
    needed = [*measure_attributes(indicator.numerator), *measure_attributes(indicator.denominator)]
    if indicator.strata_attribute:
        needed.append(indicator.strata_attribute)
    return sorted({a for a in needed if a not in frame})


def _condition(series: pd.Series, op: str, value) -> np.ndarray:
    if isinstance(value, bool):
        if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
            left = series.to_numpy(dtype=bool)
            return (left == value) if op == "==" else (left != value)
        truthy = series.map(_as_bool).to_numpy(dtype=object)
        left = np.array([t is True for t in truthy]) if value else np.array([t is False for t in truthy])
        return left if op == "==" else ~left
    left = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    if isinstance(value, (int, float)):
        with np.errstate(invalid="ignore"):
            return np.nan_to_num({">=": left >= value, ">": left > value, "<=": left <= value,
                                  "<": left < value, "==": left == value, "!=": left != value}[op],
                                 nan=False).astype(bool)
    text = series.astype(str).to_numpy()
    return (text == str(value)) if op == "==" else (text != str(value))


def _as_bool(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "是", "有", "t"):
        return True
    if text in ("false", "0", "no", "n", "否", "无", "f"):
        return False
    return None
