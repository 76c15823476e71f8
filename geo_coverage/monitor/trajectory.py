"""Trajectories: from a series to a projection, a status and a volatility flag per unit × indicator.

The rules are the plan's (``period`` and ``monitoring`` in the plan file, read into
:class:`geo_coverage.plan.Monitoring`), written out in docs/monitoring.md:

* points: every (year, value) with a value, from the baseline year to the end year;
* projection: the least-squares line through the points, evaluated at the end year (with two or
  more points; once the latest point is the end year itself, its value is the projection), kept
  within what the measure can be (0–100 % for shares and reach, ≥ 0 otherwise);
* ``observed_per_year``: that line's slope; ``needed_per_year``: (target − latest value) ÷ years
  left, or 0 when the latest value already meets the target;
* status: ``met`` when the latest value meets the target; else ``on_track`` when the projection
  does; ``at_risk`` when it falls short by no more than ``warning_margin`` × target; ``off_track``
  otherwise; ``no_data`` with fewer than two points.  "At most" targets (``<=``, ``<``) turn every
  comparison round;
* ``volatile`` (波动较大) when between consecutive points the relative change per year,
  (v₂ − v₁) ÷ |v₁| ÷ (y₂ − y₁), exceeds ``volatility_threshold`` in size (a change from 0 has no
  relative size and is not counted).

Everything is computed with grouped sums over the whole series at once (no loop over units).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..coverage import compare
from ..errors import DataError
from ..plan import Monitoring, Plan

__all__ = [
    "MONITOR_COLUMNS",
    "EXTRA_COLUMNS",
    "STATUSES",
    "WARNING_STATUSES",
    "trajectories",
    "warnings",
    "rules_for",
]

MONITOR_COLUMNS = [
    "level",
    "unit_code",
    "unit_name",
    "indicator",
    "year_first",
    "value_first",
    "year_last",
    "value_last",
    "target",
    "projected",
    "projected_year",
    "needed_per_year",
    "observed_per_year",
    "status",
    "volatile",
]
# Also returned, after the contract's columns.
EXTRA_COLUMNS = [
    "parent_code",
    "comparator",
    "n_points",
    "gap_ratio",
    "max_yearly_change",
    "latest_status",
    "indicator_type",
    "provenance",
    "note",
]
STATUSES = ("met", "on_track", "at_risk", "off_track", "no_data")
WARNING_STATUSES = ("at_risk", "off_track")
_KEYS = ["level", "unit_code", "indicator"]
_EPS = 1e-9


def rules_for(plan: Plan, *, end_year: int | None = None) -> Monitoring:
    """The plan's monitoring rules, with ``end_year`` replaced when given."""
    rules = plan.monitoring_rules()
    if end_year is None:
        return rules
    return replace(rules, end_year=int(end_year))


def trajectories(series: pd.DataFrame, plan: Plan, *, end_year: int | None = None) -> pd.DataFrame:
    """One row per unit × indicator of ``series``: first and latest values, projection, status.

    Parameters
    ----------
    series
        A series (:func:`geo_coverage.monitor.series_from_tables`): coverage rows with ``year``.
    plan
        Whose monitoring rules apply (``plan.monitoring``).
    end_year
        Project to this year instead of the plan's end year.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MONITOR_COLUMNS` then :data:`EXTRA_COLUMNS`, in the series' row order.
        ``gap_ratio`` is how far the projection falls short of the target, as a share of the
        target (negative when it is beyond it); warnings are ranked by it.
    """
    rules = rules_for(plan, end_year=end_year)
    if series.empty:
        return pd.DataFrame(columns=MONITOR_COLUMNS + EXTRA_COLUMNS)
    missing = [
        c for c in ("year", *_KEYS, "value", "target", "comparator", "status") if c not in series
    ]
    if missing:
        raise DataError(
            f"The series lacks the column(s) {missing}.",
            fix="Build it with geo_coverage.monitor.series_from_tables or series_from_datasets.",
        )
    frame = series.sort_values("year", kind="stable")
    # Every unit × indicator gets a row, described by its latest row (target, name, provenance).
    latest = frame.groupby(_KEYS, sort=False).tail(1).set_index(_KEYS)
    order = series.drop_duplicates(_KEYS)[_KEYS]
    years = frame["year"].to_numpy(dtype=int)
    values = frame["value"].to_numpy(dtype=float)
    inside = ~np.isnan(values) & (years >= rules.baseline_year) & (years <= rules.end_year)
    points = frame.loc[inside, [*_KEYS, "year", "value", "target", "status"]].copy()
    fitted = _fit(points, rules)
    out = order.merge(fitted, how="left", left_on=_KEYS, right_index=True)
    described = latest.reindex(pd.MultiIndex.from_frame(out[_KEYS]))
    for column in (
        "unit_name",
        "parent_code",
        "comparator",
        "indicator_type",
        "provenance",
        "note",
    ):
        out[column] = described[column].to_numpy() if column in described else ""
    # The target and its comparison are those of the latest point (the latest row without one).
    out["target"] = np.where(
        out["target"].notna(), out["target"], described["target"].to_numpy(dtype=float)
    )
    out["n_points"] = out["n_points"].fillna(0).astype(int)
    out["projected_year"] = int(rules.end_year)
    _judge(out, rules)
    return out[MONITOR_COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


def _fit(points: pd.DataFrame, rules: Monitoring) -> pd.DataFrame:
    """Grouped least squares, first/latest points and the largest yearly relative change."""
    x = (points["year"] - rules.baseline_year).astype(float)
    y = points["value"].astype(float)
    points = points.assign(x=x, y=y, xx=x * x, xy=x * y)
    grouped = points.groupby(_KEYS, sort=False)
    sums = grouped[["x", "y", "xx", "xy"]].sum()
    n = grouped.size().astype(float)
    first = grouped.head(1).set_index(_KEYS)
    last = grouped.tail(1).set_index(_KEYS)
    denominator = n * sums["xx"] - sums["x"] ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(
            (n >= 2) & (denominator > _EPS),
            (n * sums["xy"] - sums["x"] * sums["y"]) / denominator,
            np.nan,
        )
        intercept = (sums["y"] - slope * sums["x"]) / n
    fitted = pd.DataFrame(
        {
            "n_points": n.astype(int),
            "year_first": first["year"].reindex(n.index),
            "value_first": first["value"].reindex(n.index),
            "year_last": last["year"].reindex(n.index),
            "value_last": last["value"].reindex(n.index),
            "target": last["target"].reindex(n.index),
            "latest_status": last["status"].reindex(n.index),
            "observed_per_year": slope,
            "projected": intercept + slope * float(rules.end_year - rules.baseline_year),
        },
        index=n.index,
    )
    # Year-on-year relative change between consecutive points, per year between them.
    previous_value = grouped["value"].shift()
    previous_year = grouped["year"].shift()
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (
            (points["value"] - previous_value)
            / previous_value.abs()
            / (points["year"] - previous_year)
        )
    change = change.where(previous_value.abs() > _EPS)
    fitted["max_yearly_change"] = (
        change.abs().groupby([points[k] for k in _KEYS], sort=False).max().reindex(n.index)
    )
    return fitted


def _judge(out: pd.DataFrame, rules: Monitoring) -> None:
    """Status, volatility, needed change and gap ratio, in place."""
    comparator = out["comparator"].astype(str).to_numpy()
    at_most = np.isin(comparator, ["<=", "<"])
    exact = comparator == "=="
    target = out["target"].to_numpy(dtype=float)
    value_last = out["value_last"].to_numpy(dtype=float)
    year_last = out["year_last"].to_numpy(dtype=float)
    n = out["n_points"].to_numpy()
    projected = out["projected"].to_numpy(dtype=float)
    # At the end year the figure itself is the outcome: no line is needed to guess it.
    projected = np.where(year_last >= rules.end_year, value_last, projected)
    # A line can run past what the measure can be: shares stop at 0 and 100 %, counts at 0.
    percentage = out["indicator_type"].isin(["share", "access"]).to_numpy()
    projected = np.where(percentage, np.clip(projected, 0.0, 100.0), np.maximum(projected, 0.0))
    out["projected"] = np.where(n >= 2, projected, np.nan)
    projected = out["projected"].to_numpy(dtype=float)

    met_now = (out["latest_status"] == "met").to_numpy()
    projection_meets = np.zeros(len(out), dtype=bool)
    for op in np.unique(comparator):
        rows = comparator == op
        if op in (">=", ">", "<=", "<", "=="):
            projection_meets[rows] = compare(projected[rows], target[rows], op) == True  # noqa: E712
    scale = np.where(np.abs(target) > _EPS, np.abs(target), 1.0)
    with np.errstate(invalid="ignore"):
        short = np.where(at_most, projected - target, target - projected)
        short = np.where(exact, np.abs(projected - target), short)
        gap_ratio = short / scale
        within_margin = gap_ratio <= rules.warning_margin + _EPS
    status = np.where(
        met_now,
        "met",
        np.where(projection_meets, "on_track", np.where(within_margin, "at_risk", "off_track")),
    )
    status = np.where((n < 2) | np.isnan(target) | np.isnan(projected), "no_data", status)
    out["status"] = status
    out["gap_ratio"] = np.where(n >= 2, gap_ratio, np.nan)
    out["volatile"] = (
        out["max_yearly_change"].to_numpy(dtype=float) > rules.volatility_threshold + _EPS
    ) & (n >= 2)

    years_left = rules.end_year - year_last
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = (target - value_last) / years_left
    needed = np.where(
        at_most, np.minimum(needed, 0.0), np.where(exact, needed, np.maximum(needed, 0.0))
    )
    out["needed_per_year"] = np.where((years_left > 0) & ~np.isnan(value_last), needed, np.nan)


def warnings(monitored: pd.DataFrame) -> pd.DataFrame:
    """The early-warning list (预警): units at risk or off track, furthest behind first (by
    ``gap_ratio``: how far the projection falls short, as a share of the target), then units that
    are on course but volatile (波动较大), largest yearly change first."""
    off_course = monitored["status"].isin(WARNING_STATUSES)
    flagged = monitored[off_course | monitored["volatile"].astype(bool)].copy()
    flagged["_on_course"] = ~flagged["status"].isin(WARNING_STATUSES)
    flagged = flagged.sort_values(
        ["_on_course", "gap_ratio", "max_yearly_change"],
        ascending=[True, False, False],
        na_position="last",
        kind="stable",
    )
    return flagged.drop(columns="_on_course").reset_index(drop=True)
