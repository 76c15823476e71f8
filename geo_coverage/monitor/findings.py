"""Plain-language findings: a sentence per unit × indicator from its trajectory (Chinese/English).

E.g. "截至2023年，朝阳区千人常住人口养老床位数为4.52张/千人，较2020年增加0.31张/千人；按现有趋势
预计2025年为4.79张/千人，低于目标7.00张/千人，列入预警。"  The numbers are the monitoring table's,
with the indicator's decimals, so a reader can find them in the report's value table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..plan import Indicator, Plan
from ..viz.legend import decimals_for, format_number

__all__ = ["number", "finding"]


def number(value, decimals: int = 2) -> str:
    """A figure for text, written as the screen, the exports and the print map write it
    (:func:`geo_coverage.viz.format_number`: thousands separators, fixed decimals — an
    indicator's own from :func:`~geo_coverage.viz.decimals_for`); '—' if missing."""
    return format_number(value, digits=decimals)


def _unit(indicator: Indicator, lang: str) -> str:
    text = indicator.unit_zh if lang == "zh" else indicator.unit_en
    if lang == "en" and text and text != "%":
        return " " + text
    return text


def finding(
    row: Mapping,
    indicator: Indicator,
    plan: Plan,
    *,
    lang: str = "zh",
    unit_name: str | None = None,
) -> str:
    """The sentence for one row of :func:`geo_coverage.monitor.trajectories`."""
    rules = plan.monitoring_rules()
    places = decimals_for(indicator)

    def num(value) -> str:
        return number(value, places)

    name = unit_name or str(row["unit_name"])
    unit = _unit(indicator, lang)
    status = str(row["status"])
    if status == "no_data" or row.get("value_last") is None or _nan(row.get("value_last")):
        if lang == "zh":
            return f"{name}{indicator.name_zh}的数据不足两年，无法判断趋势。"
        return (f"{name}: fewer than two years of data on {indicator.name_en.lower()}, "
                "so no trend can be judged.")
    last, first = float(row["value_last"]), float(row["value_first"])
    year_last, year_first = int(row["year_last"]), int(row["year_first"])
    target, projected, end = (
        float(row["target"]),
        float(row["projected"]),
        int(row["projected_year"]),
    )
    delta = last - first
    if lang == "zh":
        change = (
            "持平"
            if abs(delta) < 0.005
            else f"{'增加' if delta > 0 else '减少'}{num(abs(delta))}{unit}"
        )
        text = f"截至{year_last}年，{name}{indicator.name_zh}为{num(last)}{unit}，较{year_first}年{change}"
        side = "高于" if projected > target else ("低于" if projected < target else "达到")
        trend = f"按现有趋势预计{end}年为{num(projected)}{unit}"
        if status == "met":
            text += f"；已达到目标{num(target)}{unit}（{trend}）"
        elif status == "on_track":
            text += f"；{trend}，可达到目标{num(target)}{unit}"
        else:
            text += f"；{trend}，{side}目标{num(target)}{unit}"
            if status == "at_risk":
                text += f"，差距在目标的{rules.warning_margin:.0%}以内"
            text += (
                f"，列入预警（实现目标需每年{_signed_zh(row.get('needed_per_year'), unit, places)}，"
                f"近年实际每年{_signed_zh(row.get('observed_per_year'), unit, places)}）"
            )
        if bool(row.get("volatile")):
            text += (
                f"；年度波动较大（最大年变化{float(row['max_yearly_change']):.0%}），列入波动预警"
            )
        return text + "。"
    direction = "up" if delta > 0 else "down"
    change = (
        "unchanged" if abs(delta) < 0.005 else f"{direction} {num(abs(delta))} from {year_first}"
    )
    text = f"By {year_last}, {name}: {indicator.name_en.lower()} {num(last)}{unit}, {change}"
    trend = f"on the current trend {end} would reach {num(projected)}"
    if status == "met":
        text += f"; the target of {num(target)} is met ({trend})"
    elif status == "on_track":
        text += f"; {trend}, meeting the target of {num(target)}"
    else:
        side = (
            ("above" if projected > target else "below")
            if not math.isclose(projected, target)
            else "at"
        )
        text += f"; {trend}, {side} the target of {num(target)}"
        if status == "at_risk":
            text += f" (within {rules.warning_margin:.0%} of it)"
        text += (
            f": early warning (needed {_signed_en(row.get('needed_per_year'))} a year, "
            f"observed {_signed_en(row.get('observed_per_year'))})"
        )
    if bool(row.get("volatile")):
        text += f"; volatile (largest change {float(row['max_yearly_change']):.0%} in a year)"
    return text + "."


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _signed_zh(value, unit: str, places: int = 2) -> str:
    if value is None or _nan(value):
        return "—"
    value = float(value)
    if abs(value) < 0.005:
        return "不变"
    return f"{'增加' if value > 0 else '减少'}{number(abs(value), places)}{unit}"


def _signed_en(value) -> str:
    if value is None or _nan(value):
        return "—"
    return f"{float(value):+.2f}"
