"""The app's words in Chinese (default) and English, and locale-aware number formatting."""

from __future__ import annotations

import re

from geo_coverage.gaps import OUTLINE_WORDS, STATUS_WORDS, source_words
from geo_coverage.maps import format_number

__all__ = ["LANGUAGES", "t", "number", "GROUPS", "STATUS", "LEVELS", "FLIPS", "POPULATION",
           "OUTLINE", "ATTRIBUTES", "MODELS", "SOLVER_STATUS", "source_text", "label"]

LANGUAGES = {"zh": "中文", "en": "English"}

GROUPS = {"women": ("妇女", "Women"), "children": ("儿童", "Children")}
# The export's words (geo_coverage.gaps): the screen and the files say the same.
STATUS = STATUS_WORDS
LEVELS = {"city": ("全市", "City"), "district": ("区", "District"),
          "street": ("街道/乡镇", "Street / township")}
# A unit's status change between the base data and a scenario (geo_coverage.scenario.GAP_TO_MET…).
FLIPS = {"gap→met": ("转为达标", "gap → met"), "met→gap": ("转为未达标", "met → gap")}
# Population columns of the units (geo_coverage.dataset).
POPULATION = {"pop_total": ("常住人口", "residents"), "pop_0_2": ("0–2 岁", "aged 0–2"),
              "pop_0_14": ("0–14 岁", "aged 0–14"), "pop_60_plus": ("60 岁及以上", "aged 60+"),
              "pop_65_plus": ("65 岁及以上", "aged 65+")}
OUTLINE = OUTLINE_WORDS
# Facility attributes a scenario can set (the plan's kinds); unknown ones are shown as they are.
ATTRIBUTES = {"beds": ("床位", "beds"), "nursing_beds": ("护理型床位", "nursing beds"),
              "places": ("托位", "places"), "inclusive_places": ("普惠托位", "inclusive places"),
              "social_workers": ("社会工作者", "social workers"),
              "child_supervisors": ("儿童督导员", "child supervisors"),
              "paediatric_beds": ("儿科床位", "paediatric beds"),
              "paediatricians": ("儿科医生", "paediatricians"),
              "child_health_doctors": ("儿童保健医生", "child-health doctors")}
# The optimiser's models (geo_coverage.siting.MODELS) and solver outcomes (geo_coverage.optimize).
MODELS = {"mclp": ("最大覆盖 MCLP", "maximal covering (MCLP)"),
          "lscp": ("集合覆盖 LSCP", "set covering (LSCP)"),
          "pmedian": ("P 中值 p-median", "p-median"), "pcenter": ("P 中心 p-centre", "p-centre"),
          "capacity_gap": ("容量缺口 capacity gap", "capacity gap")}
SOLVER_STATUS = {"optimal": ("最优", "optimal"), "time_limit": ("达到时限（当前最好解）", "time limit (best found)"),
                 "node_limit": ("达到节点上限（当前最好解）", "node limit (best found)")}
_STRINGS = {
    "title": ("北京市妇女儿童发展规划 · 设施覆盖与缺口", "Beijing women & children plan · coverage and gaps"),
    "language": ("语言 Language", "Language 语言"),
    "plan": ("规划", "Plan"),
    "indicator": ("指标", "Indicator"),
    "level": ("层级", "Level"),
    "base_map": ("底图", "Base map"),
    "show_facilities": ("显示设施点", "Show facilities"),
    "tab_coverage": ("覆盖与缺口", "Coverage and gaps"),
    "tab_scenario": ("情景", "Scenario"),
    "tab_data": ("数据", "Data"),
    "city_value": ("全市现状值", "City value"),
    "city_target": ("目标", "target"),
    "units_met": ("达标单元", "Units meeting the target"),
    "total_shortfall": ("缺口合计", "Total shortfall"),
    "no_city_value": ("该指标不在全市层级评估", "not evaluated for the whole city"),
    "city_rolled_up": ("全市（各区汇总）", "City (districts summed)"),
    "rolled_up_help": ("规划未设全市层级指标；此值为各区分子之和除以分母之和，仅供参考。",
                       "The plan sets no city-level target; this is the districts' numerators over their "
                       "denominators, for reference."),
    "provenance_imported": ("「{layers}」图层为导入数据（{files}）。",
                            "The {layers} layer is imported data ({files})."),
    "default_target": ("目标为默认值：规划未给出具体数值，本工具按规划方向设定，可在规划文件中修改。",
                       "The target is a default: the plan gives no number; the tool sets one in the plan's "
                       "direction, changeable in the plan file."),
    "district_chart": ("各区现状值与目标", "Districts against the target"),
    "target_line": ("目标线", "target line"),
    "unit_card": ("单元详情", "Unit card"),
    "pick_unit": ("点击地图上的单元，或在此选择", "Click a unit on the map, or choose it here"),
    "search_unit": ("查找单元（地图缩放到该处）", "Find a unit (the map zooms to it)"),
    "search_placeholder": ("输入街道/乡镇或区的名称…", "Type a street, township or district name…"),
    "all_indicators": ("该单元的全部指标", "Every indicator for this unit"),
    "population": ("人口", "Population"),
    "population_source": ("人口来源", "Population source"),
    "outline": ("边界", "Outline"),
    "gap_table": ("缺口排名", "Ranked gaps"),
    "district_filter": ("按区筛选", "Filter by district"),
    "all_districts": ("全部区", "All districts"),
    "include_met": ("同时列出达标和无数据单元", "Also list units that meet the target or have no data"),
    "download": ("下载", "Download"),
    "no_gaps": ("所选范围内没有未达标单元。", "No unit misses the target in this selection."),
    "rows": ("行", "rows"),
    "provenance_synthetic": (
        "注意：本图表中的设施数据为合成演示数据（{layers}），并非真实统计，不可作为正式依据。",
        "Note: the facility data shown ({layers}) are SYNTHETIC demo data, not official records; "
        "do not cite them."),
    "provenance_estimate": (
        "部分人口为估算值（如按各区普查总数校准的街道人口），并非普查数据。",
        "Some populations are estimates (e.g. street figures scaled to district census totals), "
        "not census figures."),
    "provenance_outline": (
        "街道边界为近似（示意）边界，由代表点生成，并非官方边界。",
        "Street outlines are approximate (built from representative points), not official."),
    "provenance_real": ("该图层为真实数据：{layers}。", "This layer is real data: {layers}."),
    "map_caption": ("颜色表示现状值与目标之比：红色低于目标，蓝色达到或超过目标，灰色为无数据。",
                    "Colour shows value ÷ target: red below the target, blue at or above it, "
                    "grey no data."),
    "value": ("现状值", "Value"),
    "target": ("目标", "Target"),
    "status": ("状态", "Status"),
    "shortfall": ("缺口", "Shortfall"),
    "indicator_col": ("指标", "Indicator"),
    "clause": ("条款", "Clause"),
    "dataset": ("数据集", "Dataset"),
    "default_dataset": ("内置北京默认数据", "Embedded Beijing default"),
    "uploaded_dataset": ("本次会话上传的数据", "Data uploaded in this session"),
    "scenario_pending": ("情景功能由情景模块提供。", "Scenarios are provided by the scenario module."),
    "access_layer": ("显示未覆盖居民与服务半径", "Show residents not covered and catchments"),
    "district": ("区", "District"),
    "unit": ("单元", "Unit"),
    "code": ("代码", "Code"),
    "print_map": ("打印地图 {fmt}", "Print map {fmt}"),
    "print_map_help": ("当前指标与层级的地图（含图例、比例尺、指北针与数据来源），"
                       "在“缺口排名”中选区即只打印该区。本页地址即当前视图，可复制分享。",
                       "The map of this indicator and level (legend, scale bar, north arrow, "
                       "sources); choose a district in the ranked gaps to print only it. This "
                       "page's address holds the view: copy it to share."),
    "share_scenario_opened": ("已打开链接中的情景：{name} 第 {version} 版（见“情景”页）。",
                              "Opened the linked scenario: {name} v{version} "
                              "(see the Scenario tab)."),
    "share_scenario_missing": ("链接中的情景“{name}”不在项目库中，未打开。",
                               "The linked scenario '{name}' is not in the project store; "
                               "not opened."),
    "computing_all": ("正在计算该单元的全部指标…", "Computing every indicator for this unit…"),
}


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def plain(text) -> str:
    """User-supplied text (a unit or file name, a scenario name, a message quoting a cell) for
    Streamlit's markdown, shown as the characters it holds: every markdown, HTML-looking,
    LaTeX ($) and :directive: character is backslash-escaped, so '<img src=x onerror=...>' or
    '[x](javascript:...)' reads as written and never becomes markup."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


def t(key: str, language: str, **values) -> str:
    """The string ``key`` in ``language`` ("zh" | "en"), with ``{placeholders}`` filled."""
    zh, en = _STRINGS[key]
    text = zh if language == "zh" else en
    return text.format(**values) if values else text


def label(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


def source_text(text, language: str) -> str:
    """A provenance / population-source text in ``language`` ("population: estimate; facilities:
    synthetic" → "人口：估算；设施：合成"), as the exports write it."""
    return source_words(text, language)


def number(value, language: str, *, digits: int = 1) -> str:
    """A number formatted for the locale ('—' for missing)."""
    return format_number(value, language=language, digits=digits)
