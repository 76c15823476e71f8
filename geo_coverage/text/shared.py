"""Pairs shown under more than one message id, each written once (see :mod:`geo_coverage.text`)."""

from __future__ import annotations

Pair = tuple[str, str]  # (中文, English)

WORDS: dict[str, Pair] = {
    "met": ("达标", "met"),
    "gap": ("未达标", "gap"),
    "no_data": ("无数据", "no data"),
    "district": ("区", "district"),
    "yes": ("是", "yes"),
    "imported": ("导入", "imported"),
    "scenario": ("情景", "scenario"),
    "real": ("真实", "real"),
    "level": ("层级", "Level"),
    "unit_code": ("单位代码", "Unit code"),
    "unit_name": ("单位名称", "Unit"),
    "parent_code": ("上级代码", "Parent code"),
    "indicator_id": ("指标代码", "Indicator id"),
    "value": ("现状值", "Value"),
    "target_value": ("目标值", "Target"),
    "comparator": ("比较", "Comparator"),
    "status": ("状态", "Status"),
    "shortfall": ("缺口", "Shortfall"),
    "indicator_type": ("指标类型", "Indicator type"),
    "provenance": ("数据来源", "Data source"),
    "note": ("备注", "Note"),
    "total_shortfall": ("缺口合计", "Total shortfall"),
    "city": ("全市", "City"),
    "district_level": ("区", "District"),
    "indicator": ("指标", "Indicator"),
    "base_map": ("底图", "Base map"),
    "scenario_heading": ("情景", "Scenario"),
    "all_districts": ("全部区", "All districts"),
    "download": ("下载", "Download"),
    "target": ("目标", "Target"),
    "unit": ("单元", "Unit"),
    "code": ("代码", "Code"),
    "reporting_unit": ("单位", "Unit"),
    "projected_gap": ("预计差距", "Projected gap"),
    "legend_ratio": ("颜色 = 现状值 ÷ 目标", "colour = value ÷ target"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
}
