"""Monitoring tables as files: CSV, JSON and XLSX bytes, the same for the CLI and the app."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .. import io
from ..errors import DataError
from ..plan import Plan
from .labels import bilingual_headers, status_word
from .trajectory import EXTRA_COLUMNS, MONITOR_COLUMNS, rules_for, warnings

__all__ = ["EXPORT_FORMATS", "records", "export_bytes", "monitoring_notes", "table_text"]

EXPORT_FORMATS = ("csv", "json", "xlsx")
_SERIES_SHEET = [
    "year",
    "level",
    "unit_code",
    "unit_name",
    "indicator",
    "value",
    "target",
    "status",
    "numerator",
    "denominator",
    "provenance",
]


def records(monitored: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (the contract's columns first; NaN → null, numpy → Python)."""
    columns = [c for c in MONITOR_COLUMNS + EXTRA_COLUMNS if c in monitored]
    frame = monitored[columns].astype(object).where(monitored[columns].notna(), None)
    out = frame.to_dict(orient="records")
    for row in out:
        for key, value in row.items():
            if isinstance(value, np.generic):
                row[key] = value.item()
    return out


def monitoring_notes(
    plan: Plan, series: pd.DataFrame | None = None, *, end_year: int | None = None
) -> dict[str, str]:
    """Lines for the About sheet: plan, rules, years, and where the numbers come from."""
    rules = rules_for(plan, end_year=end_year)
    notes = {
        "规划 Plan": f"{plan.name_zh} / {plan.name_en}",
        "规则 Rules": (
            f"预计值：{rules.baseline_year}年起各年数值的最小二乘直线在{rules.end_year}年的值；"
            f"预警幅度为目标的{rules.warning_margin:.0%}；年变化超过{rules.volatility_threshold:.0%}"
            f"为波动较大。 Projection: least-squares line through the values from "
            f"{rules.baseline_year} on, at {rules.end_year}; at risk within "
            f"{rules.warning_margin:.0%} of the target; volatile above "
            f"{rules.volatility_threshold:.0%} change a year (docs/monitoring.md)."
        ),
    }
    if series is not None and len(series):
        years = sorted(int(y) for y in series["year"].unique())
        notes["年份 Years"] = ", ".join(str(y) for y in years)
        sources = sorted(set(series["provenance"].astype(str)))
        notes["数据来源 Sources"] = " | ".join(sources[:12]) + (" …" if len(sources) > 12 else "")
        if any("synthetic" in s for s in sources):
            notes["注意 Warning"] = (
                "含合成演示数据，并非真实统计。 Includes SYNTHETIC demo data, not official records."
            )
    return notes


def export_bytes(
    monitored: pd.DataFrame,
    fmt: str,
    *,
    plan: Plan,
    series: pd.DataFrame | None = None,
    end_year: int | None = None,
) -> bytes:
    """The monitoring table as ``fmt`` (csv | json | xlsx) bytes.

    The XLSX has the table, the ranked warnings and (with ``series``) every year's values, with
    bilingual headers and an About sheet naming the rules and the sources.
    """
    fmt = fmt.lower().lstrip(".")
    columns = [c for c in MONITOR_COLUMNS + EXTRA_COLUMNS if c in monitored]
    if fmt == "csv":
        return io.dataframe_to_csv_bytes(monitored[columns])
    if fmt == "json":
        return json.dumps(records(monitored), ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "xlsx":
        shown = monitored[columns].copy()
        shown["status"] = [
            f"{status_word(s, 'zh')} {status_word(s, 'en')}" for s in shown["status"]
        ]
        sheets = {
            "监测 Monitoring": _bilingual(shown),
            "预警 Warnings": _bilingual(warnings(monitored)[columns]),
        }
        if series is not None:
            sheets["序列 Series"] = _bilingual(series[[c for c in _SERIES_SHEET if c in series]])
        return io.dataframe_to_xlsx_bytes(
            sheets, notes=monitoring_notes(plan, series, end_year=end_year)
        )
    raise DataError(
        f"Unknown export format '{fmt}'.", fix=f"Use one of {', '.join(EXPORT_FORMATS)}."
    )


def _bilingual(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = bilingual_headers(frame.columns)
    return out


def table_text(monitored: pd.DataFrame) -> str:
    """The contract's columns as a plain-text table (values to 2 decimals)."""
    shown = monitored[MONITOR_COLUMNS].copy()
    for column in (
        "value_first",
        "value_last",
        "target",
        "projected",
        "needed_per_year",
        "observed_per_year",
    ):
        shown[column] = shown[column].astype(float).round(2)
    for column in ("year_first", "year_last"):
        shown[column] = shown[column].astype("Int64")
    with pd.option_context(
        "display.max_rows", None, "display.width", 250, "display.max_columns", None
    ):
        return shown.to_string(index=False)
