"""Assessment reports (年度监测 / 中期评估 / 终期评估): what goes in them, once, for Word and PDF.

:func:`build_assessment` judges the series up to the report year for a scope (the city, or one
district for its self-assessment); :func:`report_blocks` lays the report out as a list of blocks
(headings, paragraphs, tables, figures) that :mod:`.render_docx` and :mod:`.render_pdf` write, so
the Word file and the PDF say the same things with the same numbers:

cover (stage, year, scope; synthetic data said so), summary of statuses, one section per indicator
group of the plan (妇女 / 儿童) with the value table, the findings, the map, the trend chart, the
warnings and the units furthest behind, and the provenance of every figure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import DataError
from ..plan import Indicator, Plan
from ..text import text
from ..viz.legend import decimals_for
from .findings import finding, number
from .labels import LEVELS, STAGES, STATUS, status_word
from .trajectory import STATUSES, WARNING_STATUSES, trajectories

__all__ = [
    "Assessment",
    "Block",
    "build_assessment",
    "report_blocks",
]


@dataclass(frozen=True)
class Block:
    """One piece of a report: ``heading`` (text, level), ``paragraph`` (text, style), ``table``
    (rows: header first), ``figure`` (png, caption, width_cm) or ``pagebreak``."""

    kind: str
    text: str = ""
    level: int = 1
    style: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    png: bytes = b""
    width_cm: float = 16.0


@dataclass(frozen=True)
class Assessment:
    """Everything a report says, computed once."""

    plan: Plan
    stage: str
    year: int
    scope_level: str  # "city" or "district"
    scope_code: str
    scope_name: str
    sub_level: str  # the units compared inside the scope: districts or streets
    series: pd.DataFrame  # the years up to ``year``
    monitored: pd.DataFrame  # trajectories of the scope and its sub-units
    origin: str = ""
    units: Mapping[str, Any] = field(default_factory=dict)  # level -> outlines (GeoDataFrame)
    names_en: Mapping[str, str] = field(default_factory=dict)  # unit code -> English name

    @property
    def synthetic(self) -> bool:
        return bool(self.series["provenance"].astype(str).str.contains("synthetic").any())

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.series["year"].unique())

    def name(self, code: str, lang: str, fallback: str = "") -> str:
        if lang == "en" and self.names_en.get(code):
            return str(self.names_en[code])
        return fallback or str(code)


def _origin_zh(origin: str) -> str:
    """The data origin line in Chinese for the cover of a Chinese report (the CLI and the tab write
    it in English: 'embedded demo years 2020–2023 (…)', 'folders: …', 'store snapshots: …')."""
    demo = re.fullmatch(r"embedded demo years (\d{4})–(\d{4}) \(2020 baseline; later years SYNTHETIC\)",
                        origin)
    if demo:
        return f"内置演示年份{demo[1]}—{demo[2]}年（2020年为基期，其后各年为合成数据）"
    for english, chinese in (("folders: ", "数据文件夹："), ("store snapshots: ", "项目库快照：")):
        if origin.startswith(english):
            return chinese + origin[len(english):]
    return origin


def build_assessment(
    series: pd.DataFrame,
    plan: Plan,
    *,
    stage: str,
    year: int,
    district: str | None = None,
    origin: str = "",
    units: Mapping | None = None,
    names_en: Mapping[str, str] | None = None,
) -> Assessment:
    """Judge the series up to ``year`` for the city or ``district`` (a district code).

    Raises
    ------
    DataError
        An unknown stage, a year with no snapshot, or a district code not in the series.
    """
    if stage not in STAGES:
        raise DataError(f"Unknown stage '{stage}'.", fix=f"Use one of {', '.join(STAGES)}.")
    upto = series[series["year"] <= year]
    if year not in set(upto["year"]):
        raise DataError(
            f"There is no snapshot for {year}.",
            fix=f"Report on one of the years given: {sorted(set(series['year']))}.",
        )
    monitored = trajectories(upto, plan)
    if district:
        district = str(district)
        rows = monitored[(monitored["level"] == "district") & (monitored["unit_code"] == district)]
        if rows.empty:
            known = sorted(set(monitored.loc[monitored["level"] == "district", "unit_code"]))
            raise DataError(
                f"District '{district}' is not in the data.", fix=f"Use one of: {', '.join(known)}."
            )
        scope = ("district", district, str(rows["unit_name"].iloc[0]), "street")
        keep = ((monitored["level"] == "district") & (monitored["unit_code"] == district)) | (
            (monitored["level"] == "street") & (monitored["parent_code"] == district)
        )
    else:
        city = monitored[monitored["level"] == "city"]
        code = str(city["unit_code"].iloc[0]) if len(city) else "city"
        name = str(city["unit_name"].iloc[0]) if len(city) else "全市"
        scope = ("city", code, name, "district")
        keep = monitored["level"].isin(["city", "district"])
    return Assessment(
        plan=plan,
        stage=stage,
        year=int(year),
        scope_level=scope[0],
        scope_code=scope[1],
        scope_name=scope[2],
        sub_level=scope[3],
        series=upto,
        monitored=monitored[keep].reset_index(drop=True),
        origin=origin,
        units=dict(units or {}),
        names_en=dict(names_en or {}),
    )


# --- layout -------------------------------------------------------------------------------------



def _t(key: str, lang: str) -> str:
    return text(f"report.{key}", lang)


def _fmt(value) -> str:
    try:
        if pd.isna(value):
            return "—"
    except (TypeError, ValueError):
        pass
    return f"{float(value):.2f}"


def _indicators(assessment: Assessment, group: str) -> list[Indicator]:
    present = set(assessment.monitored["indicator"])
    return [ind for ind in assessment.plan.indicators if ind.group == group and ind.id in present]


def _scope_rows(assessment: Assessment) -> pd.DataFrame:
    m = assessment.monitored
    return m[(m["level"] == assessment.scope_level) & (m["unit_code"] == assessment.scope_code)]


def _sub_rows(assessment: Assessment) -> pd.DataFrame:
    return assessment.monitored[assessment.monitored["level"] == assessment.sub_level]


def _ind_name(ind: Indicator, lang: str) -> str:
    return ind.name_zh if lang == "zh" else ind.name_en


def report_blocks(assessment: Assessment, *, lang: str = "zh") -> list[Block]:
    """The report, laid out once for both writers."""
    plan, rules = assessment.plan, assessment.plan.monitoring_rules()
    scope = (
        assessment.scope_name
        if lang == "zh"
        else assessment.name(assessment.scope_code, lang, assessment.scope_name)
    )
    if assessment.scope_level == "city" and lang == "en":
        scope = _t("scope_city", lang) if scope in ("北京市", "全市") else scope
    stage = STAGES[assessment.stage][0 if lang == "zh" else 1]
    title = plan.name_zh if lang == "zh" else plan.name_en
    blocks = [
        Block("heading", title, level=0),
        Block(
            "heading",
            f"{scope} · {stage}（{assessment.year}年）"
            if lang == "zh"
            else f"{scope} · {stage} ({assessment.year})",
            level=1,
        ),
    ]
    years = assessment.years
    if lang == "zh":
        blocks.append(
            Block(
                "paragraph",
                f"数据年份：{'、'.join(str(y) for y in years)}；目标年份：{rules.end_year}年；"
                f"基期：{rules.baseline_year}年。数据：{_origin_zh(assessment.origin)}。",
            )
        )
    else:
        blocks.append(
            Block(
                "paragraph",
                f"Data years: {', '.join(str(y) for y in years)}; targets due "
                f"{rules.end_year}; baseline {rules.baseline_year}. Data: {assessment.origin}.",
            )
        )
    if assessment.synthetic:
        blocks.append(Block("paragraph", _t("synthetic", lang), style="warning"))
    blocks += _summary(assessment, lang)
    for number_, group in enumerate(
        plan.groups or {g: {} for g in dict.fromkeys(i.group for i in plan.indicators)}, start=2
    ):
        indicators = _indicators(assessment, group)
        if indicators:
            blocks.append(Block("pagebreak"))
            blocks += _group_section(assessment, group, indicators, number_, lang)
    blocks.append(Block("pagebreak"))
    blocks += _sources(assessment, lang)
    return blocks


def _status_counts(rows: pd.DataFrame) -> dict[str, int]:
    counts = rows["status"].value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def _summary(assessment: Assessment, lang: str) -> list[Block]:
    own = _status_counts(
        _scope_rows(assessment)[
            lambda r: r["indicator"].isin([i.id for i in assessment.plan.indicators])
        ]
    )
    sub = _status_counts(
        _sub_rows(assessment)[
            lambda r: r["indicator"].isin([i.id for i in assessment.plan.indicators])
        ]
    )
    level_name = LEVELS[assessment.sub_level][0 if lang == "zh" else 1]
    header = (
        _t("status", lang),
        _t("indicator", lang) + (f"（{assessment.scope_name}）" if lang == "zh" else ""),
        f"{level_name} × {_t('indicator', lang)}",
    )
    rows = [header] + [(status_word(s, lang), str(own[s]), str(sub[s])) for s in STATUSES]
    warned = sum(own[s] for s in WARNING_STATUSES)
    volatile = int(_scope_rows(assessment)["volatile"].astype(bool).sum())
    if lang == "zh":
        text = (
            f"{assessment.scope_name}共监测{sum(own.values())}项指标：已达标{own['met']}项，预计达标"
            f"{own['on_track']}项，达标存在风险{own['at_risk']}项，预计难以达标{own['off_track']}项，"
            f"数据不足{own['no_data']}项；列入预警{warned}项，波动较大{volatile}项。"
        )
    else:
        text = (
            f"{sum(own.values())} indicators monitored: {own['met']} met, {own['on_track']} on track, "
            f"{own['at_risk']} at risk, {own['off_track']} off track, {own['no_data']} without enough "
            f"data; {warned} flagged for early warning, {volatile} volatile."
        )
    return [
        Block("heading", _t("summary", lang), level=1),
        Block("paragraph", text),
        Block("table", rows=tuple(rows)),
    ]


def _group_section(
    assessment: Assessment, group: str, indicators: list[Indicator], number_: int, lang: str
) -> list[Block]:
    from ..viz.static import status_map, to_png, trend_panels

    plan = assessment.plan
    end = plan.monitoring_rules().end_year
    numerals = "一二三四五六七八九十"
    head = (
        f"{numerals[number_ - 1]}、{plan.group_name(group, 'zh')}"
        if lang == "zh"
        else f"{number_}. {plan.group_name(group, 'en')}"
    )
    blocks = [Block("heading", head, level=1)]
    ids = [i.id for i in indicators]
    scope_rows = _scope_rows(assessment).set_index("indicator")
    sub_rows = _sub_rows(assessment)
    sub_rows = sub_rows[sub_rows["indicator"].isin(ids)]

    # Value table
    rows = [
        (
            _t("indicator", lang),
            str(min(assessment.years)),
            str(assessment.year),
            _t("target", lang),
            f"{end}" + ("预计" if lang == "zh" else " proj."),
            _t("needed", lang),
            _t("observed", lang),
            _t("status", lang),
            _t("sub", lang),
        )
    ]
    for ind in indicators:
        row = scope_rows.loc[ind.id] if ind.id in scope_rows.index else None
        counts = _status_counts(sub_rows[sub_rows["indicator"] == ind.id])
        sub_text = " ".join(f"{status_word(s, lang)}{counts[s]}" for s in STATUSES if counts[s])
        if row is None:
            rows.append(
                (
                    _ind_name(ind, lang),
                    "—",
                    "—",
                    number(
                        ind.target_at(assessment.sub_level)
                        if assessment.sub_level in ind.target
                        else next(iter(ind.target.values())),
                        decimals_for(ind),
                    ),
                    "—",
                    "—",
                    "—",
                    "—",
                    sub_text,
                )
            )
            continue
        first = row["value_first"] if row["year_first"] == min(assessment.years) else float("nan")
        latest = row["value_last"] if row["year_last"] == assessment.year else float("nan")
        status = status_word(row["status"], lang) + (
            f" · {_t('volatile', lang)}" if row["volatile"] else ""
        )
        rows.append(
            (
                _ind_name(ind, lang),
                _fmt(first),
                _fmt(latest),
                _fmt(row["target"]),
                _fmt(row["projected"]),
                _fmt(row["needed_per_year"]),
                _fmt(row["observed_per_year"]),
                status,
                sub_text,
            )
        )
    blocks += [Block("heading", _t("values", lang), level=2), Block("table", rows=tuple(rows))]

    # Findings
    blocks.append(Block("heading", _t("findings", lang), level=2))
    name = assessment.name(assessment.scope_code, lang, assessment.scope_name)
    for ind in indicators:
        if ind.id in scope_rows.index:
            blocks.append(
                Block(
                    "paragraph",
                    finding(scope_rows.loc[ind.id], ind, plan, lang=lang, unit_name=name),
                    style="finding",
                )
            )

    # Map of the group's headline indicator over the sub-units
    headline = next(
        (
            i
            for i in indicators
            if i.type in ("ratio", "share", "access") and (sub_rows["indicator"] == i.id).any()
        ),
        None,
    )
    outlines = assessment.units.get(assessment.sub_level)
    if headline is not None and outlines is not None:
        rows_h = sub_rows[sub_rows["indicator"] == headline.id]
        shown = outlines.loc[outlines.index.isin(rows_h["unit_code"])]
        labels = None
        if assessment.sub_level == "district":
            labels = {
                c: (n if lang == "zh" else assessment.name(c, lang, n))
                for c, n in zip(rows_h["unit_code"], rows_h["unit_name"], strict=True)
            }
        caption = (
            f"{_ind_name(headline, lang)}：各{LEVELS[assessment.sub_level][0]}预计{end}年达标状态"
            if lang == "zh"
            else f"{headline.name_en}: status by {assessment.sub_level}, projected to {end}"
        )
        figure = status_map(
            shown,
            dict(zip(rows_h["unit_code"], rows_h["status"], strict=True)),
            labels=labels,
            status_words={s: status_word(s, lang) for s in STATUS},
            width_cm=13.0,
            height_cm=10.5,
        )
        blocks += [
            Block("heading", _t("map", lang), level=2),
            Block("figure", text=caption, png=to_png(figure), width_cm=14.0),
        ]

    # Trend chart for the scope unit
    panels = []
    for ind in indicators:
        points = assessment.series[
            (assessment.series["level"] == assessment.scope_level)
            & (assessment.series["unit_code"] == assessment.scope_code)
            & (assessment.series["indicator"] == ind.id)
        ].sort_values("year")
        if ind.id not in scope_rows.index or points["value"].notna().sum() == 0:
            continue
        row = scope_rows.loc[ind.id]
        slope = float(row["observed_per_year"])
        at_last = (
            float(row["projected"]) - slope * (end - float(row["year_last"]))
            if row["n_points"] >= 2 and row["year_last"] < end
            else float("nan")
        )
        panels.append(
            {
                "title": _ind_name(ind, lang),
                "years": points["year"].tolist(),
                "values": points["value"].tolist(),
                "target": float(row["target"]),
                "slope": slope,
                "fitted_at_last": at_last,
                "unit": ind.unit_zh if lang == "zh" else ind.unit_en,
                "series_label": "监测值" if lang == "zh" else "value",
            }
        )
    if panels:
        figure = trend_panels(
            panels,
            panel_height_cm=4.2,
            end_year=end,
            target_label=_t("target", lang),
            projection_label="趋势预计" if lang == "zh" else "projection",
        )
        caption = (
            f"{name}各指标趋势与{end}年预计"
            if lang == "zh"
            else f"{name}: trends and projection to {end}"
        )
        blocks += [
            Block("heading", _t("trend", lang), level=2),
            Block("figure", text=caption, png=to_png(figure), width_cm=16.0),
        ]

    blocks += _warnings(assessment, indicators, sub_rows, lang)
    blocks += _behind(assessment, indicators, sub_rows, lang)
    return blocks


def _warnings(assessment, indicators, sub_rows, lang) -> list[Block]:
    from .trajectory import warnings

    names = {i.id: _ind_name(i, lang) for i in indicators}
    rows_all = pd.concat([_scope_rows(assessment)[lambda r: r["indicator"].isin(names)], sub_rows])
    flagged = warnings(rows_all).head(15)
    blocks = [Block("heading", _t("warnings", lang), level=2)]
    if flagged.empty:
        return blocks + [Block("paragraph", _t("none", lang))]
    rows = [
        (
            _t("unit", lang),
            _t("indicator", lang),
            str(assessment.year),
            _t("target", lang),
            f"{assessment.plan.monitoring_rules().end_year}"
            + ("预计" if lang == "zh" else " proj."),
            _t("status", lang),
            _t("volatile", lang),
        )
    ]
    for _, r in flagged.iterrows():
        rows.append(
            (
                assessment.name(r["unit_code"], lang, r["unit_name"]),
                names[r["indicator"]],
                _fmt(r["value_last"]),
                _fmt(r["target"]),
                _fmt(r["projected"]),
                status_word(r["status"], lang),
                _t("yes", lang) if r["volatile"] else "",
            )
        )
    return blocks + [Block("table", rows=tuple(rows))]


def _behind(assessment, indicators, sub_rows, lang) -> list[Block]:
    off = sub_rows[sub_rows["status"].isin(WARNING_STATUSES)]
    blocks = [Block("heading", _t("behind", lang), level=2)]
    if off.empty:
        return blocks + [Block("paragraph", _t("none", lang))]
    names = {i.id: _ind_name(i, lang) for i in indicators}
    worst = (
        off.sort_values("gap_ratio", ascending=False)
        .groupby("unit_code", sort=False)
        .head(1)
        .set_index("unit_code")
    )
    ranked = off.groupby("unit_code").agg(
        count=("indicator", "size"), mean_gap=("gap_ratio", "mean")
    )
    ranked = ranked.sort_values(["count", "mean_gap"], ascending=False).head(10)
    rows = [(_t("unit", lang), _t("off_course", lang), _t("worst", lang), _t("gap", lang))]
    for code, r in ranked.iterrows():
        w = worst.loc[code]
        rows.append(
            (
                assessment.name(code, lang, w["unit_name"]),
                str(int(r["count"])),
                names[w["indicator"]],
                f"{float(w['gap_ratio']):.0%}",
            )
        )
    return blocks + [Block("table", rows=tuple(rows))]


def _sources(assessment: Assessment, lang: str) -> list[Block]:
    rules = assessment.plan.monitoring_rules()
    blocks = [Block("heading", _t("sources", lang), level=1)]
    series = assessment.series
    scope = series[
        (series["level"] == assessment.scope_level) & (series["unit_code"] == assessment.scope_code)
    ]
    rows = [(_t("indicator", lang), _t("years", lang), _t("source", lang))]
    for ind in assessment.plan.indicators:
        points = scope[scope["indicator"] == ind.id]
        if points.empty:
            points = series[
                (series["indicator"] == ind.id) & (series["level"] == assessment.sub_level)
            ]
        if points.empty:
            continue
        by_source = points.groupby("provenance")["year"].agg(
            lambda y: sorted({int(v) for v in y})
        )
        for source, yrs in by_source.items():
            rows.append((_ind_name(ind, lang), _year_span(yrs), str(source)))
    if lang == "zh":
        text = (
            f"预计值为{rules.baseline_year}年起各年数值的最小二乘直线在{rules.end_year}年的值；最新值达到目标为“已达标”，"
            f"预计值达到目标为“预计达标”，预计值低于目标不超过目标的{rules.warning_margin:.0%}为“达标存在风险”，"
            f"否则为“预计难以达标”；任一年变化超过{rules.volatility_threshold:.0%}为“波动较大”。“至多”类目标反向比较。"
            f"每个数字的来源如下表（census=普查，estimate=估算，synthetic=合成，imported=导入）。"
        )
    else:
        text = (
            f"Projection: the least-squares line through the values from {rules.baseline_year} on, at "
            f"{rules.end_year}. Met: the latest value meets the target; on track: the projection does; "
            f"at risk: it falls short by at most {rules.warning_margin:.0%} of the target; off track: "
            f"further; volatile: a change above {rules.volatility_threshold:.0%} in a year. 'At most' "
            f"targets compare the other way. Where every figure comes from:"
        )
    return blocks + [Block("paragraph", text), Block("table", rows=tuple(rows))]


def _year_span(years: list[int]) -> str:
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(y) for y in years)


# --- writing ------------------------------------------------------------------------------------
