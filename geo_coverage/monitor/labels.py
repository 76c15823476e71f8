"""Monitoring's words in Chinese and English: statuses, column headers, stage names.

One table per kind of label, looked up with the language (``"zh"`` or ``"en"``); the CLI exports,
the app tab and the assessment reports all ask here.
"""

from __future__ import annotations

__all__ = ["STATUS", "HEADERS", "STAGES", "LEVELS", "status_word", "header", "bilingual_headers"]

STATUS = {
    "met": ("已达标", "met"),
    "on_track": ("预计达标", "on track"),
    "at_risk": ("达标存在风险", "at risk"),
    "off_track": ("预计难以达标", "off track"),
    "no_data": ("数据不足", "no data"),
}
STAGES = {
    "annual": ("年度监测报告", "Annual monitoring report"),
    "midterm": ("中期评估报告", "Mid-term assessment report"),
    "final": ("终期评估报告", "Final assessment report"),
}
LEVELS = {
    "city": ("全市", "City"),
    "district": ("区", "District"),
    "street": ("街道（乡镇）", "Street / township"),
}
HEADERS = {
    "level": ("层级", "Level"),
    "unit_code": ("单位代码", "Unit code"),
    "unit_name": ("单位名称", "Unit"),
    "indicator": ("指标代码", "Indicator id"),
    "indicator_name": ("指标名称", "Indicator"),
    "year_first": ("起始年份", "First year"),
    "value_first": ("起始值", "First value"),
    "year_last": ("最新年份", "Latest year"),
    "value_last": ("最新值", "Latest value"),
    "target": ("目标值", "Target"),
    "projected": ("预计值", "Projected"),
    "projected_year": ("预计年份", "Projected year"),
    "needed_per_year": ("每年需变化", "Needed per year"),
    "observed_per_year": ("每年实际变化", "Observed per year"),
    "status": ("状态", "Status"),
    "volatile": ("波动较大", "Volatile"),
    "parent_code": ("上级代码", "Parent code"),
    "comparator": ("比较", "Comparator"),
    "n_points": ("数据年数", "Years with data"),
    "gap_ratio": ("预计差距（占目标）", "Projected gap (share of target)"),
    "max_yearly_change": ("最大年变化率", "Largest yearly change"),
    "latest_status": ("最新年度状态", "Latest year's status"),
    "indicator_type": ("指标类型", "Indicator type"),
    "provenance": ("数据来源", "Data source"),
    "note": ("备注", "Note"),
    "year": ("年份", "Year"),
    "value": ("值", "Value"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def status_word(status: str, lang: str = "zh") -> str:
    """A status in words (the id itself when unknown)."""
    return _pick(STATUS[status], lang) if status in STATUS else str(status)


def header(column: str, lang: str = "zh") -> str:
    return _pick(HEADERS[column], lang) if column in HEADERS else column


def bilingual_headers(columns) -> list[str]:
    """ "中文 English" headers for exports (the column id where no label exists)."""
    return [f"{HEADERS[c][0]} {HEADERS[c][1]}" if c in HEADERS else str(c) for c in columns]
