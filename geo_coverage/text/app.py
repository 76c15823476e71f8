"""The app's words, one namespace per section (see :mod:`geo_coverage.text`): the sidebar and
Coverage tab (``app``), Scenario, Data, Monitoring and the project store, and the names the
widgets show for groups, levels, attributes, models and solver outcomes."""

from __future__ import annotations

from .shared import WORDS, Pair

NAMESPACES: dict[str, dict[str, Pair]] = {
    "group": {
        "women": ("妇女", "Women"),
        "children": ("儿童", "Children"),
    },
    "level": {
        "city": WORDS["city"],
        "district": WORDS["district_level"],
        "street": ("街道/乡镇", "Street / township"),
    },
    "flip": {
        "gap→met": ("转为达标", "gap → met"),
        "met→gap": ("转为未达标", "met → gap"),
    },
    "population": {
        "pop_total": ("常住人口", "residents"),
        "pop_0_2": ("0–2 岁", "aged 0–2"),
        "pop_0_14": ("0–14 岁", "aged 0–14"),
        "pop_60_plus": ("60 岁及以上", "aged 60+"),
        "pop_65_plus": ("65 岁及以上", "aged 65+"),
    },
    "attribute": {
        "beds": ("床位", "beds"),
        "nursing_beds": ("护理型床位", "nursing beds"),
        "places": ("托位", "places"),
        "inclusive_places": ("普惠托位", "inclusive places"),
        "social_workers": ("社会工作者", "social workers"),
        "child_supervisors": ("儿童督导员", "child supervisors"),
        "paediatric_beds": ("儿科床位", "paediatric beds"),
        "paediatricians": ("儿科医生", "paediatricians"),
        "child_health_doctors": ("儿童保健医生", "child-health doctors"),
    },
    "model": {
        "mclp": ("最大覆盖 MCLP", "maximal covering (MCLP)"),
        "lscp": ("集合覆盖 LSCP", "set covering (LSCP)"),
        "pmedian": ("P 中值 p-median", "p-median"),
        "pcenter": ("P 中心 p-centre", "p-centre"),
        "capacity_gap": ("容量缺口 capacity gap", "capacity gap"),
    },
    "solver_status": {
        "optimal": ("最优", "optimal"),
        "time_limit": ("达到时限（当前最好解）", "time limit (best found)"),
        "node_limit": ("达到节点上限（当前最好解）", "node limit (best found)"),
    },
    "app": {
        "title": (
            "北京市妇女儿童发展规划 · 设施覆盖与缺口",
            "Beijing women & children plan · coverage and gaps",
        ),
        "language": ("语言 Language", "Language 语言"),
        "plan": ("规划", "Plan"),
        "indicator": WORDS["indicator"],
        "level": WORDS["level"],
        "base_map": WORDS["base_map"],
        "show_facilities": ("显示设施点", "Show facilities"),
        "tab_coverage": ("覆盖与缺口", "Coverage and gaps"),
        "tab_scenario": WORDS["scenario_heading"],
        "tab_data": ("数据", "Data"),
        "city_value": ("全市现状值", "City value"),
        "city_target": ("目标", "target"),
        "units_met": ("达标单元", "Units meeting the target"),
        "total_shortfall": WORDS["total_shortfall"],
        "no_city_value": ("该指标不在全市层级评估", "not evaluated for the whole city"),
        "city_rolled_up": ("全市（各区汇总）", "City (districts summed)"),
        "rolled_up_help": (
            "规划未设全市层级指标；此值为各区分子之和除以分母之和，仅供参考。",
            "The plan sets no city-level target; this is the districts' numerators over their denominators, "
            'for reference.',
        ),
        "provenance_imported": (
            "「{layers}」图层为导入数据（{files}）。",
            "The {layers} layer is imported data ({files}).",
        ),
        "default_target": (
            "目标为默认值：规划未给出具体数值，本工具按规划方向设定，可在规划文件中修改。",
            "The target is a default: the plan gives no number; the tool sets one in the plan's direction, "
            'changeable in the plan file.',
        ),
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
        "all_districts": WORDS["all_districts"],
        "include_met": (
            "同时列出达标和无数据单元",
            "Also list units that meet the target or have no data",
        ),
        "download": WORDS["download"],
        "no_gaps": ("所选范围内没有未达标单元。", "No unit misses the target in this selection."),
        "rows": ("行", "rows"),
        "provenance_synthetic": (
            "注意：本图表中的设施数据为合成演示数据（{layers}），并非真实统计，不可作为正式依据。",
            'Note: the facility data shown ({layers}) are SYNTHETIC demo data, not official records; do not '
            'cite them.',
        ),
        "provenance_estimate": (
            "部分人口为估算值（如按各区普查总数校准的街道人口），并非普查数据。",
            'Some populations are estimates (e.g. street figures scaled to district census totals), not census '
            'figures.',
        ),
        "provenance_outline": (
            "街道边界为近似（示意）边界，由代表点生成，并非官方边界。",
            "Street outlines are approximate (built from representative points), not official.",
        ),
        "provenance_real": ("该图层为真实数据：{layers}。", "This layer is real data: {layers}."),
        "map_caption": (
            "颜色表示现状值与目标之比：红色低于目标，蓝色达到或超过目标，灰色为无数据。",
            "Colour shows value ÷ target: red below the target, blue at or above it, grey no data.",
        ),
        "value": WORDS["value"],
        "target": WORDS["target"],
        "status": WORDS["status"],
        "shortfall": WORDS["shortfall"],
        "indicator_col": WORDS["indicator"],
        "clause": ("条款", "Clause"),
        "dataset": ("数据集", "Dataset"),
        "default_dataset": ("内置北京默认数据", "Embedded Beijing default"),
        "uploaded_dataset": ("本次会话上传的数据", "Data uploaded in this session"),
        "scenario_pending": ("情景功能由情景模块提供。", "Scenarios are provided by the scenario module."),
        "access_layer": ("显示未覆盖居民与服务半径", "Show residents not covered and catchments"),
        "district": WORDS["district_level"],
        "unit": WORDS["unit"],
        "code": WORDS["code"],
        "print_map": ("打印地图 {fmt}", "Print map {fmt}"),
        "print_map_help": (
            '当前指标与层级的地图（含图例、比例尺、指北针与数据来源），在“缺口排名”中选区即只打印该区。本'
            '页地址即当前视图，可复制分享。',
            'The map of this indicator and level (legend, scale bar, north arrow, sources); choose a district '
            "in the ranked gaps to print only it. This page's address holds the view: copy it to share.",
        ),
        "share_scenario_opened": (
            "已打开链接中的情景：{name} 第 {version} 版（见“情景”页）。",
            "Opened the linked scenario: {name} v{version} (see the Scenario tab).",
        ),
        "share_scenario_missing": (
            "链接中的情景“{name}”不在项目库中，未打开。",
            "The linked scenario '{name}' is not in the project store; not opened.",
        ),
        "computing_all": ("正在计算该单元的全部指标…", "Computing every indicator for this unit…"),
    },
    "scenario": {
        "heading": ("情景分析", "What-if scenario"),
        "name": ("情景名称", "Scenario name"),
        "description": ("说明", "Description"),
        "indicator": ("显示指标", "Indicator shown"),
        "level": WORDS["level"],
        "base_map": WORDS["base_map"],
        "click_hint": (
            "点击地图选择新设施位置（坐标填入下方）。",
            "Click the map to place a new facility (its coordinates fill in below).",
        ),
        "add": ("新增设施", "Add a facility"),
        "kind": ("设施类型", "Kind"),
        "capacity": ("规模", "Capacity"),
        "lon": ("经度", "Longitude"),
        "lat": ("纬度", "Latitude"),
        "datum": ("坐标系", "Datum"),
        "add_button": ("添加", "Add"),
        "existing": ("撤除或调整现有设施", "Remove or resize a facility"),
        "facility": ("设施", "Facility"),
        "remove_button": ("撤除", "Remove"),
        "resize_button": ("调整规模", "Resize"),
        "new_capacity": ("新规模", "New capacity"),
        "no_capacity": (
            "该类设施没有规模（床位、托位等）属性，只计数量。",
            "Facilities of this kind have no capacity (beds, places…): they are counted.",
        ),
        "population": ("人口变化", "Population change"),
        "pop_level": ("单元层级", "Unit level"),
        "pop_unit": WORDS["unit"],
        "pop_change": ("变化（%）", "Change (%)"),
        "pop_button": ("应用人口变化", "Apply the population change"),
        "edits": ("情景中的修改", "Edits in this scenario"),
        "no_edits": ("尚无修改。", "No edits yet."),
        "edit": ("修改", "Edit"),
        "drop": ("删除所选修改", "Delete the chosen edit"),
        "optimise": ("优化选址", "Optimise sites"),
        "new_sites": ("新增数量", "New sites"),
        "candidates": ("候选点", "Candidates"),
        "grid": ("网格", "grid"),
        "upload_candidates": (
            "上传候选点（CSV/XLSX：编号、经度、纬度）",
            "Upload candidates (CSV/XLSX: id, lon, lat)",
        ),
        "candidates_read": ("已读入 {n} 个候选点。", "{n} candidate sites read."),
        "spacing": ("网格间距（米）", "Grid spacing (m)"),
        "units": ("限定区域", "Only these districts"),
        "all_districts": WORDS["all_districts"],
        "model": ("模型", "Model"),
        "run_optimiser": ("运行优化", "Run the optimiser"),
        "suggestions": ("建议选址", "Suggested sites"),
        "accept": ("采纳所选建议", "Accept the chosen suggestions"),
        "opt_indicator": ("优化指标", "Indicator to improve"),
        "solution": (
            "目标值 {objective:,.0f}，覆盖率 {share:.1%}，求解状态：{status}，用时 {seconds:.1f} 秒",
            "objective {objective:,.0f}, coverage {share:.1%}, solver status: {status}, {seconds:.1f} s",
        ),
        "solution_gap": (
            "弥补缺口 {objective:,.0f}，占总缺口 {share:.1%}，求解状态：{status}，用时 {seconds:.1f} 秒",
            'shortfall closed {objective:,.0f}, {share:.1%} of the total shortfall, solver status: {status}, '
            '{seconds:.1f} s',
        ),
        "solution_note": (
            '优化模型的覆盖率按合并格网（约为服务半径的四分之一）估算，地图与情景表按 100 米格网计算，两者'
            '可相差零点几个百分点；采纳建议后，以情景表中的数值为准。',
            "The optimiser's coverage is estimated on merged squares (about a quarter of the catchment radius); "
            'the map and the scenario tables count 100 m cells, so the two can differ by a few tenths of '
            "a point. Once suggestions are accepted, the scenario tables' figure is the one to quote.",
        ),
        "outside": ("区域外", "outside every unit"),
        "suggested_on_map": (
            "建议选址（未采纳）以橙色圆点显示在情景图上。",
            "Suggested sites (not yet accepted) are the orange dots on the After map.",
        ),
        "before": ("现状", "Before"),
        "after": ("情景", "After"),
        "flips": ("达标变化的单元", "Units that flip"),
        "changed_units": (
            "数值改变的单元 · {indicator} · {level}",
            "Units whose value changed · {indicator} · {level}",
        ),
        "no_changed_units": (
            "本情景没有改变该指标在此层级的任何数值。",
            "The scenario changes no value of this indicator at this level.",
        ),
        "scenario_value": ("情景值", "Scenario value"),
        "unsaved": (
            "本情景有未保存的修改：离开或刷新页面前请先下载情景 YAML。",
            "This scenario has unsaved edits: download the scenario YAML before leaving or reloading.",
        ),
        "no_flips": ("没有单元改变达标状态。", "No unit changes between gap and met."),
        "closed": ("各指标缺口变化", "Shortfall closed per indicator"),
        "file": ("保存与导入", "Save, download, upload"),
        "save": ("保存到本次会话", "Save in this session"),
        "saved": ("已保存的情景", "Saved scenarios"),
        "load": ("载入", "Load"),
        "download": ("下载情景 YAML", "Download scenario YAML"),
        "download_comparison": ("下载对比 XLSX", "Download comparison XLSX"),
        "upload": ("上传情景 YAML", "Upload scenario YAML"),
        "new": ("新建空白情景", "Start a new scenario"),
        "default_name": ("我的情景", "My scenario"),
    },
    "scenario_column": {
        "unit_name": WORDS["unit"],
        "indicator_name": WORDS["indicator"],
        "unit_code": WORDS["code"],
    },
    "data": {
        "heading": ("上传自有数据", "Bring your own data"),
        "intro": (
            "上传的文件只在本次会话中使用，不会写入项目目录。校验规则与命令行 `geo-coverage validate` 相同。",
            'Uploaded files are used in this session only and never written into the project. The checks '
            'are those of `geo-coverage validate`.',
        ),
        "limit": (
            '每个文件不超过 {mb} MB（服务器设置 server.maxUploadSize）；更大的文件请用命令行 `geo-coverag'
            'e import`（不超过 200 MB）。',
            "Files up to {mb} MB each (the server's server.maxUploadSize); for larger files use `geo-coverage "
            'import` on the command line (up to 200 MB).',
        ),
        "what": ("文件类型", "What the file holds"),
        "facilities": ("设施登记表（CSV/XLSX）", "Facility register (CSV/XLSX)"),
        "population": ("人口表（CSV/XLSX，按单位代码）", "Population table (CSV/XLSX, by unit code)"),
        "boundaries": (
            "边界（GeoJSON/GPKG/Shapefile zip/GeoParquet）",
            "Boundaries (GeoJSON/GPKG/zipped Shapefile/GeoParquet)",
        ),
        "kind": ("设施类型", "Facility kind"),
        "datum": (
            "坐标系（高德/腾讯为 GCJ-02，百度为 BD-09）",
            "Datum (Amap/Tencent: GCJ-02, Baidu: BD-09)",
        ),
        "level": WORDS["level"],
        "file": ("选择文件", "Choose a file"),
        "check": ("校验并载入", "Check and load"),
        "ok": (
            "校验通过，已载入本次会话的数据集：",
            "Checks passed; loaded into this session's dataset: ",
        ),
        "failed": (
            "文件有错误，未载入。请按下表修改后重新上传。",
            "The file has errors and was not loaded. Fix them as listed and upload again.",
        ),
        "warnings": ("有提示（不影响载入）：", "Warnings (loaded anyway):"),
        "replaced": (
            '上传的登记表替换了本次会话中「{layer}」图层的全部 {before:,} 处设施，现为 {after:,} 处；其他'
            '图层不变。可点击“恢复内置默认数据”撤销。',
            "The register replaced all {before:,} facilities of the '{layer}' layer in this session; it now "
            "holds {after:,}. Other layers are unchanged. 'Back to the embedded default' undoes it.",
        ),
        "merged": (
            '上传的登记表替换了「{layer}」图层中{districts}的 {before:,} 处设施（现为 {after:,} 处）；其他'
            '各区的 {kept:,} 处设施保留不变。可点击“恢复内置默认数据”撤销。',
            "The register replaced the {before:,} facilities of the '{layer}' layer in {districts} (now {after:,}); "
            "the other districts keep their {kept:,}. 'Back to the embedded default' undoes it.",
        ),
        "replace": ("上传的登记表替换", "The register replaces"),
        "replace_district": (
            "所含各区的设施（其他区保留，推荐）",
            "the facilities of the districts it covers (others kept; recommended)",
        ),
        "replace_layer": ("整个图层（全市）", "the whole layer (every district)"),
        "reset": ("恢复内置默认数据", "Back to the embedded default"),
        "current": ("当前数据集", "Current dataset"),
        "severity": ("级别", "Severity"),
        "severity_error": ("错误", "error"),
        "severity_warning": ("提示", "warning"),
        "where_file": ("文件", "File"),
        "row": ("行", "Row"),
        "column": ("列", "Column"),
        "message": ("问题", "Problem"),
        "fix": ("修改建议", "Fix"),
    },
    "monitor_tab": {
        "heading": ("监测 · 趋势与预警", "Monitoring · trajectories and early warnings"),
        "synthetic": (
            "演示年份2021—2024年为合成数据（按说明中的增长假设生成），仅用于演示，不是统计数据。",
            'Demo years 2021–2024 are SYNTHETIC (built from stated growth assumptions): for trying the to'
            'ol, not statistics.',
        ),
        "years": ("数据年份", "Years"),
        "rules": (
            '规则：{b}年起各年数值的最小二乘直线在{e}年的值为预计值；预计值低于目标不超过{m:.0%}为“达标存'
            '在风险”；年变化超过{v:.0%}为“波动较大”。',
            'Rules: the projection is the least-squares line through the values from {b} on, at {e}; at risk '
            'within {m:.0%} of the target; volatile above {v:.0%} change a year.',
        ),
        "level": WORDS["level"],
        "map": ("{e}年预计达标状态", "Status, projected to {e}"),
        "trends": (
            "各区趋势（点：监测值；虚线：趋势预计；点线：目标）",
            "Trend per district (dots: values; dashed: projection; dotted: target)",
        ),
        "warnings": ("预警清单（按预计差距排序）", "Early warnings (furthest off course first)"),
        "all_indicators": ("全部指标", "All indicators"),
        "none": ("无预警。", "No warnings."),
        "downloads": (
            "下载（与命令行 geo-coverage monitor 相同）",
            "Downloads (as `geo-coverage monitor` writes them)",
        ),
        "download": WORDS["download"],
        "reports": ("评估报告", "Assessment report"),
        "stage": ("阶段", "Stage"),
        "report_year": ("报告年份", "Year"),
        "scope": ("范围", "Scope"),
        "city": WORDS["city"],
        "indicator": WORDS["indicator"],
        "unit": WORDS["reporting_unit"],
        "gap": WORDS["projected_gap"],
        "no_level": ("该指标在此层级无数据。", "This indicator has no rows at this level."),
        "source": ("监测数据", "Years from"),
        "until": ("截至年份", "Up to"),
        "demo": ("内置演示年份（合成）", "embedded demo years (synthetic)"),
        "store": ("项目库快照", "the project store's snapshots"),
    },
    "store": {
        "snapshot": ("数据年份（快照）", "Data year (snapshot)"),
        "embedded": ("内置数据 / 上传数据", "Embedded / uploaded data"),
        "store_error": (
            "项目库不可用，使用内置数据：",
            "The project store is unavailable; using the embedded data: ",
        ),
        "store_at": ("项目库", "Store"),
        "shared": ("共享情景（项目库）", "Shared scenarios (project store)"),
        "your_name": (
            "您的姓名（保存时记录，本次浏览会话内保留）",
            "Your name (recorded with each save, kept for this browser session)",
        ),
        "name_needed": ("请先填写姓名再保存。", "Enter your name before saving."),
        "message": ("本次修改说明", "What changed (message)"),
        "save": ("保存新版本", "Save as a new version"),
        "saved": ("已保存：{name} 第 {version} 版", "Saved: {name} v{version}"),
        "conflict": (
            "未保存：他人已在您打开的版本之后保存。",
            "Not saved: someone saved after the version you opened. ",
        ),
        "none": ("项目库中还没有情景。", "No scenarios in the store yet."),
        "open": ("打开", "Open"),
        "version": ("版本", "Version"),
        "fork": ("另存为新情景（分支）", "Fork as a new scenario"),
        "fork_name": ("新情景名称", "New scenario's name"),
        "forked": ("已创建分支：{name}", "Forked: {name}"),
        "opened_at": (
            "当前情景打开自第 {version} 版",
            "The current scenario was opened at v{version}",
        ),
        "synthetic": ("（合成示例数据）", "(synthetic demo data)"),
        "column_scenario": WORDS["scenario_heading"],
        "column_latest": ("最新版本", "Latest"),
        "column_saved_by": ("保存人", "Saved by"),
        "column_saved_at": ("保存时间", "Saved at"),
        "column_created_by": ("创建人", "Created by"),
        "column_forked_from": ("分支自", "Forked from"),
    },
}
