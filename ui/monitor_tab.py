"""The 监测 · Monitoring tab: the plan over the snapshot years (plan §五).

A map of the units coloured by their status for the chosen indicator (met / on track / at risk /
off track), one small chart per district with the target and the dashed projection to the plan's
end year, the early-warning list ranked by how far off course, the same CSV / JSON / XLSX
downloads as ``geo-coverage monitor``, and the assessment reports (Word / PDF) of
``geo-coverage assess``.  Figures come from ``geo_coverage.viz.static`` (the print renderer).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from geo_coverage.monitor import series_from_datasets, series_from_tables, trajectories, warnings
from geo_coverage.monitor.labels import STAGES, header, status_word
from geo_coverage.plan import Indicator, Plan
from geo_coverage.text import pair, text

__all__ = ["render", "series_for", "monitored_for", "lang_key", "source_choice"]



def _t(key: str, language: str, **values) -> str:
    return text(f"monitor_tab.{key}", language, **values)


def lang_key(base: str, language: str) -> str:
    """One key per language for widgets whose option labels follow the language (see app.py)."""
    key = f"{base}.{language}"
    other = f"{base}.{'en' if language == 'zh' else 'zh'}"
    if key not in st.session_state and other in st.session_state:
        st.session_state[key] = st.session_state[other]
    return key


def source_choice(store, language: str) -> tuple[str, Mapping | None]:
    """``(source_key, year -> Dataset)`` of the store's snapshots when it holds two years or more
    and the planner picks them, else ``("demo", None)`` for the embedded demo years."""
    from geo_coverage.errors import GeoCoverageError
    from geo_coverage.monitor import LazyDatasets

    try:
        years = store.years() if store is not None else []
    except GeoCoverageError:
        years = []
    if len(years) < 2:
        return "demo", None
    picked = st.radio(_t("source", language), ["store", "demo"], key="monitor_source", horizontal=True,
                      format_func=lambda s: _t(s, language))
    if picked == "demo":
        return "demo", None
    views = {year: store.year_view(year) for year in years}
    key = "store:" + ",".join(f"{y}:{v.digest[:12]}" for y, v in views.items())
    return key, LazyDatasets({y: (lambda y=y: store.load_snapshot(y)) for y in years})


@st.cache_data(show_spinner=False, max_entries=4)
def series_for(source_key: str, plan_id: str, _plan: Plan, _source: Mapping | None = None) -> pd.DataFrame:
    """The series of every indicator, level and year: the embedded demo years (``source_key``
    ``"demo"``), or ``_source`` (``year -> Dataset``, e.g. the store's snapshots or folders)."""
    if _source is None:
        from geo_coverage.monitor.demo import demo_tables
        from ui import data

        return series_from_tables(demo_tables(_plan, base=data.default_dataset()))
    return series_from_datasets(_source, _plan)


@st.cache_data(show_spinner=False, max_entries=8)
def monitored_for(source_key: str, plan_id: str, _series: pd.DataFrame, _plan: Plan) -> pd.DataFrame:
    """Trajectories of the whole series (what the downloads hold)."""
    return trajectories(_series, _plan)


@st.cache_data(show_spinner=False, max_entries=32)
def _map_png(source_key: str, plan_id: str, indicator: str, level: str, language: str,
             _monitored: pd.DataFrame, _units, _plan: Plan) -> bytes:
    from geo_coverage.viz.static import status_map, to_png

    rows = _monitored[(_monitored["level"] == level) & (_monitored["indicator"] == indicator)]
    labels = dict(zip(rows["unit_code"], rows["unit_name"], strict=True)) if level == "district" else None
    figure = status_map(_units, dict(zip(rows["unit_code"], rows["status"], strict=True)), labels=labels,
                        status_words={s: status_word(s, language) for s in ("met", "on_track", "at_risk",
                                                                            "off_track", "no_data")},
                        width_cm=14, height_cm=12)
    return to_png(figure, dpi=110)


@st.cache_data(show_spinner=False, max_entries=32)
def _trend_png(source_key: str, plan_id: str, indicator: str, language: str, _series: pd.DataFrame,
               _monitored: pd.DataFrame, _plan: Plan) -> bytes:
    from geo_coverage.viz.static import to_png, trend_panels

    end = _plan.monitoring_rules().end_year
    ind = _plan.indicator(indicator)
    rows = _monitored[(_monitored["level"] == "district") & (_monitored["indicator"] == indicator)]
    points = _series[(_series["level"] == "district") & (_series["indicator"] == indicator)]
    panels = []
    for _, row in rows.iterrows():
        unit = points[points["unit_code"] == row["unit_code"]].sort_values("year")
        slope = float(row["observed_per_year"])
        at_last = (float(row["projected"]) - slope * (end - float(row["year_last"]))
                   if row["n_points"] >= 2 and row["year_last"] < end else float("nan"))
        panels.append({"title": row["unit_name"], "years": unit["year"].tolist(), "values": unit["value"].tolist(),
                       "target": float(row["target"]), "slope": slope, "fitted_at_last": at_last,
                       "series_label": "监测值" if language == "zh" else "value",
                       "unit": ind.unit_zh if language == "zh" else ind.unit_en})
    figure = trend_panels(panels, end_year=end, columns=4, panel_height_cm=3.6, width_cm=24,
                          target_label="目标" if language == "zh" else "target",
                          projection_label="趋势预计" if language == "zh" else "projection")
    return to_png(figure, dpi=100)


def render(plan: Plan, language: str, indicator: Indicator, *, units: Mapping, plan_id: str,
           source_key: str = "demo", source: Mapping | None = None) -> None:
    """The tab.  ``units``: ``level -> outlines`` for the map; ``source``: ``year -> Dataset``
    (``None`` for the embedded demo years)."""
    from geo_coverage.monitor.export import export_bytes

    language = language if language in ("zh", "en") else "zh"
    rules = plan.monitoring_rules()
    st.subheader(_t("heading", language))
    series = series_for(source_key, plan_id, plan, source)
    all_years = sorted(int(y) for y in series["year"].unique())
    until = all_years[-1]
    if len(all_years) > 2:  # a mid-term view: the years up to one (as `monitor --until`)
        until = st.select_slider(_t("until", language), all_years, value=all_years[-1], key="monitor_until")
    if until != all_years[-1]:
        series = series[series["year"] <= until]
        source_key = f"{source_key}@{until}"
    monitored = monitored_for(source_key, plan_id, series, plan)
    synthetic = series["provenance"].astype(str).str.contains("synthetic").any()
    if source is None or synthetic:
        st.warning(_t("synthetic", language) if source is None else
                   ("含合成数据。" if language == "zh" else "Includes SYNTHETIC data."))
    years = sorted(int(y) for y in series["year"].unique())
    st.caption(f"{_t('years', language)}: {', '.join(str(y) for y in years)} · "
               + _t("rules", language, b=rules.baseline_year, e=rules.end_year, m=rules.warning_margin,
                    v=rules.volatility_threshold))

    levels = [lvl for lvl in ("district", "street") if lvl in indicator.levels and lvl in units]
    if not levels:
        st.info(_t("no_level", language))
        return
    level = st.radio(_t("level", language), levels, key="monitor_level", horizontal=True,
                     format_func=lambda lvl: pair(f"level.{lvl}")[language != "zh"])
    rows = monitored[(monitored["level"] == level) & (monitored["indicator"] == indicator.id)]
    counts = rows["status"].value_counts()
    for column, status in zip(st.columns(5), ("met", "on_track", "at_risk", "off_track", "no_data"), strict=True):
        column.metric(status_word(status, language), int(counts.get(status, 0)))

    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**{_t('map', language, e=rules.end_year)}**")
        st.image(_map_png(source_key, plan_id, indicator.id, level, language, monitored, units[level], plan))
    with right:
        if "district" in indicator.levels:
            st.markdown(f"**{_t('trends', language)}**")
            st.image(_trend_png(source_key, plan_id, indicator.id, language, series, monitored, plan))

    st.markdown(f"**{_t('warnings', language)}**")
    everything = st.checkbox(_t("all_indicators", language), key="monitor_all_indicators")
    chosen = monitored[monitored["level"] == level]
    if not everything:
        chosen = chosen[chosen["indicator"] == indicator.id]
    flagged = warnings(chosen)
    if flagged.empty:
        st.caption(_t("none", language))
    else:
        st.dataframe(_warning_table(flagged, plan, language), hide_index=True, key="monitor_warnings")

    st.markdown(f"**{_t('downloads', language)}**")
    columns = st.columns(3)
    for column, fmt, mime in zip(columns, ("csv", "json", "xlsx"), (
            "text/csv", "application/json",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), strict=True):
        column.download_button(f"{_t('download', language)} {fmt.upper()}",
                               lambda fmt=fmt: export_bytes(monitored, fmt, plan=plan, series=series),
                               file_name=f"monitor.{fmt}", mime=mime, key=f"monitor_download_{fmt}",
                               on_click="ignore", width="stretch")
    from geo_coverage.monitor.demo import DEMO_ORIGIN

    _reports(series, plan, language, units=units, origin=DEMO_ORIGIN if source is None else source_key)


def _warning_table(flagged: pd.DataFrame, plan: Plan, language: str) -> pd.DataFrame:
    names = {ind.id: (ind.name_zh if language == "zh" else ind.name_en) for ind in plan.all_indicators}
    table = pd.DataFrame({
        _t("unit", language): flagged["unit_name"],
        _t("indicator", language): flagged["indicator"].map(names),
        header("value_last", language): flagged["value_last"].round(2),
        header("target", language): flagged["target"].round(2),
        header("projected", language): flagged["projected"].round(2),
        _t("gap", language): (flagged["gap_ratio"] * 100).round(1).astype(str) + " %",
        header("status", language): flagged["status"].map(lambda s: status_word(s, language)),
        header("volatile", language): flagged["volatile"].map(lambda v: "⚠" if v else ""),
    })
    return table.reset_index(drop=True)


def _reports(series: pd.DataFrame, plan: Plan, language: str, *, units: Mapping, origin: str) -> None:
    from geo_coverage.monitor.assess import build_assessment
    from geo_coverage.monitor.report_files import report_bytes

    st.markdown(f"**{_t('reports', language)}**")
    years = sorted(int(y) for y in series["year"].unique())
    districts = (series[series["level"] == "district"].drop_duplicates("unit_code")
                 .set_index("unit_code")["unit_name"].to_dict())
    a, b, c = st.columns(3)
    stage = a.selectbox(_t("stage", language), list(STAGES), key=lang_key("monitor_stage", language),
                        format_func=lambda s: STAGES[s][0 if language == "zh" else 1])
    default_year = plan.monitoring_rules().midterm_year if stage == "midterm" else years[-1]
    year = b.selectbox(_t("report_year", language), years, key="monitor_report_year",
                       index=years.index(default_year) if default_year in years else len(years) - 1)
    scope = c.selectbox(_t("scope", language), ["", *districts], key=lang_key("monitor_scope", language),
                        format_func=lambda code: _t("city", language) if not code else districts[code])
    names_en = {}
    for frame in units.values():
        if "name_en" in frame:
            names_en.update(frame["name_en"].dropna().astype(str).to_dict())

    def build(fmt: str):
        def make() -> bytes:
            assessment = build_assessment(series, plan, stage=stage, year=year, district=scope or None,
                                          origin=origin, units=units, names_en=names_en)
            return report_bytes(assessment, fmt, lang=language)
        return make

    left, right = st.columns(2)
    stem = f"{stage}_{year}_{scope or 'city'}"
    left.download_button("Word (.docx)", build("docx"), file_name=f"{stem}.docx", key="monitor_report_docx",
                         mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                         on_click="ignore", width="stretch")
    right.download_button("PDF", build("pdf"), file_name=f"{stem}.pdf", key="monitor_report_pdf",
                          mime="application/pdf", on_click="ignore", width="stretch")
