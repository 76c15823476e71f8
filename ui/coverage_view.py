"""Headline figures, the district chart, the unit card and the ranked gap table with downloads."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from geo_coverage.dataset import Dataset, source_class
from geo_coverage.plan import Indicator, Plan
from geo_coverage.viz import SHORTFALL_UNITS_ZH, decimals_for, shortfall_unit

from . import data
from .i18n import LEVELS, OUTLINE, POPULATION, STATUS, label, number, plain, source_text, t
from .map_view import FOCUS, UNIT_PICK

_STATUS_COLOURS = {"met": "#2166ac", "gap": "#b2182b", "no_data": "#bdbdbd"}
_FORMATS = (("csv", "text/csv"),
            ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("geojson", "application/geo+json"))


def indicator_name(indicator: Indicator, language: str) -> str:
    return indicator.name_zh if language == "zh" else indicator.name_en


def unit_of(indicator: Indicator, language: str) -> str:
    return indicator.unit_zh if language == "zh" else indicator.unit_en


def provenance_notes(dataset: Dataset, plan: Plan, indicator: Indicator, level: str,
                     language: str) -> None:
    """Say on screen when a figure shown rests on synthetic or estimated data."""
    layer = dataset.layer(indicator.layer)
    classes = set()
    if layer is not None and "source" in layer:
        classes = {source_class(s) for s in layer["source"].astype(str).unique()}
    kind = plan.kinds.get(indicator.layer)
    kind_name = (kind.name_zh if language == "zh" else kind.name_en) if kind else indicator.layer
    notes = []
    if "synthetic" in classes:
        notes.append(t("provenance_synthetic", language, layers=kind_name))
    units = dataset.units.get(level)
    uses_population = indicator.type in ("ratio", "access", "accessible_ratio")
    if uses_population and units is not None and "pop_source" in units and \
            (units["pop_source"].astype(str) == "estimate").any():
        notes.append(t("provenance_estimate", language))
    if units is not None and "outline_quality" in units and \
            (units["outline_quality"].astype(str) == "approximate").any():
        notes.append(t("provenance_outline", language))
    if "imported" in classes:
        names = sorted({str(v).split(":", 1)[-1].strip() for v in layer["source"].astype(str).unique()
                        if source_class(v) == "imported"})
        notes.append(t("provenance_imported", language, layers=kind_name, files="、".join(names)
                       if language == "zh" else ", ".join(names)))
    if indicator.target_is_default:
        notes.append(t("default_target", language) + (f" {indicator.target_note}" if indicator.target_note
                                                      and language == "en" else ""))
    if notes:
        st.warning("\n\n".join(notes), icon="⚠️")
    elif classes == {"real"}:
        st.info(t("provenance_real", language, layers=kind_name))


def headline(table: pd.DataFrame, indicator: Indicator, level: str, language: str) -> None:
    """City value vs target, units meeting the target, and the total shortfall at ``level``."""
    unit = unit_of(indicator, language)
    percent = "%" if unit == "%" else ""
    digits = decimals_for(indicator)
    city = table[table["level"] == "city"]
    rows = table[table["level"] == level]
    first, second, third = st.columns(3)
    if not city.empty:
        row = city.iloc[0]
        first.metric(f"{t('city_value', language)}（{unit}）" if language == "zh"
                     else f"{t('city_value', language)} ({unit})",
                     number(row["value"], language, digits=digits) + percent,
                     delta=f"{t('city_target', language)} {indicator.comparator} "
                           f"{number(row['target'], language, digits=digits)}{percent}",
                     delta_color="normal" if row["status"] == "met" else "inverse",
                     delta_arrow="off")
    else:
        from geo_coverage.coverage import rolled_up_value

        value = rolled_up_value(table, indicator)
        if value is None:
            first.metric(t("city_value", language), "—", help=t("no_city_value", language))
        else:
            first.metric(f"{t('city_rolled_up', language)}（{unit}）" if language == "zh"
                         else f"{t('city_rolled_up', language)} ({unit})",
                         number(value, language, digits=digits) + percent,
                         help=t("rolled_up_help", language))
    met = int((rows["status"] == "met").sum())
    level_name = label(LEVELS[level], language)
    second.metric(f"{t('units_met', language)}（{level_name}）" if language == "zh"
                  else f"{t('units_met', language)} ({level_name})", f"{met} / {len(rows)}")
    shortfall = rows["shortfall"].sum(min_count=1)
    what = shortfall_unit(indicator, language)
    third.metric(f"{t('total_shortfall', language)}（{what}）" if language == "zh"
                 else f"{t('total_shortfall', language)} ({what})",
                 number(shortfall, language, digits=0))


def district_chart(table: pd.DataFrame, dataset: Dataset, indicator: Indicator,
                   language: str) -> None:
    rows = table[table["level"] == "district"]
    if rows.empty:
        return
    st.markdown(f"**{t('district_chart', language)}**")
    names = rows["unit_name"].astype(str)
    districts = dataset.units.get("district")
    if language == "en" and districts is not None and "name_en" in districts:
        english = rows["unit_code"].map(districts["name_en"].fillna("").astype(str)).fillna("")
        names = english.where(english != "", names)
    frame = pd.DataFrame({
        "name": names.to_numpy(),
        "value": rows["value"].astype(float).to_numpy(),
        "status": rows["status"].map(lambda s: label(STATUS[s], language)).to_numpy(),
    })
    target = float(indicator.target_at("district"))
    colours = alt.Scale(domain=[label(STATUS[s], language) for s in _STATUS_COLOURS],
                        range=list(_STATUS_COLOURS.values()))
    unit = unit_of(indicator, language)
    bars = alt.Chart(frame).mark_bar().encode(
        y=alt.Y("name:N", sort="-x", title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
        x=alt.X("value:Q", title=unit),
        color=alt.Color("status:N", scale=colours, title=t("status", language)),
        tooltip=[alt.Tooltip("name:N", title=t("unit", language)),
                 alt.Tooltip("value:Q", title=t("value", language), format=",.2f"),
                 alt.Tooltip("status:N", title=t("status", language))])
    rule = alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(
        color="#222", strokeDash=[6, 4], size=2).encode(
        x="target:Q", tooltip=[alt.Tooltip("target:Q", title=t("target", language))])
    st.altair_chart((bars + rule).properties(height=22 * len(frame) + 40), width="stretch")


_COMPARATORS = {">=": "≥", "<=": "≤"}


def _unit_picked() -> None:
    code = st.session_state.get(UNIT_PICK)
    st.session_state[FOCUS] = ("unit", code) if code else None


def _district_chosen() -> None:
    """A district chosen for the gap list is also where the map goes (outlined, zoomed)."""
    code = st.session_state.get("district_filter")
    st.session_state[FOCUS] = ("district", code) if code else None


def unit_card(dataset_key: str, dataset: Dataset, plan: Plan, plan_id: str, level: str,
              language: str) -> pd.DataFrame | None:
    """Pick a unit (map click or selectbox): its population figures, and every indicator for it,
    returned as a table for :func:`card_table` to show (full width, below the chart)."""
    st.markdown(f"#### {t('unit_card', language)}")
    units = dataset.units_at(level)
    district_names = (dataset.units["district"]["name"].to_dict()
                      if "district" in dataset.units else {})
    names = units["name"].astype(str)
    if "name_en" in units:  # bilingual labels: they must not change with the language
        names = names + (" " + units["name_en"].fillna("").astype(str)).where(
            units["name_en"].fillna("").astype(str) != "", "")
    options = list(units.index.astype(str))
    labels = {code: (f"{names[code]} · {district_names.get(units.at[code, 'parent_code'], '')}"
                     f" ({code})" if level == "street" else f"{names[code]} ({code})")
              for code in options}
    if st.session_state.get(UNIT_PICK) not in options:
        st.session_state[UNIT_PICK] = None
    code = st.selectbox(t("pick_unit", language), options, key=UNIT_PICK, index=None,
                        format_func=lambda c: labels.get(c, c), on_change=_unit_picked,
                        placeholder=t("pick_unit", language))
    if code is None:
        return None
    with st.spinner(t("computing_all", language)):
        table = data.full_table(dataset_key, plan_id, dataset, plan)
    rows = table[(table["level"] == level) & (table["unit_code"] == code)]
    indicators = {ind.id: ind for ind in plan.all_indicators}
    card = pd.DataFrame({
        t("indicator_col", language): rows["indicator"].map(
            lambda i: indicator_name(indicators[i], language)),
        t("value", language): [
            number(v, language, digits=decimals_for(indicators[i])) + " "
            + unit_of(indicators[i], language)
            for v, i in zip(rows["value"], rows["indicator"])],
        t("target", language): [
            f"{_COMPARATORS.get(indicators[i].comparator, indicators[i].comparator)} "
            f"{number(v, language, digits=decimals_for(indicators[i]))}"
            f"{'%' if unit_of(indicators[i], language) == '%' else ''}"
            for v, i in zip(rows["target"], rows["indicator"])],
        t("status", language): rows["status"].map(lambda s: label(STATUS[s], language)),
        t("shortfall", language): [
            f"{number(v, language, digits=0)} {shortfall_unit(indicators[i], language)}"
            if pd.notna(v) else "—" for v, i in zip(rows["shortfall"], rows["indicator"])],
        t("clause", language): rows["indicator"].map(lambda i: indicators[i].clause),
    })
    unit = units.loc[code]
    st.markdown(f"**{plain(labels[code])}**")
    population = {label(POPULATION.get(column, (column, column)), language):
                  number(unit[column], language, digits=0)
                  for column in ("pop_total", "pop_0_2", "pop_0_14", "pop_60_plus", "pop_65_plus")
                  if column in unit and pd.notna(unit[column])}
    colon = "：" if language == "zh" else ": "
    source = unit.get("pop_source")
    meta = (f"{t('population_source', language)}{colon}"
            f"**{plain(source_text(source, language)) if pd.notna(source) else '—'}**")
    if "outline_quality" in unit and str(unit["outline_quality"]):
        quality = str(unit["outline_quality"])
        outline = plain(label(OUTLINE.get(quality, (quality, quality)), language))
        meta += f" · {t('outline', language)}{colon}**{outline}**"
    st.markdown(f"{t('population', language)}{colon}"
                + " · ".join(f"{name} {value}" for name, value in population.items()))
    st.markdown(meta)
    return card


def card_table(card: pd.DataFrame | None, language: str) -> None:
    """The unit card's table across the page, so the shortfall and clause columns fit unscrolled."""
    if card is None:
        return
    st.dataframe(card, hide_index=True, width="stretch", key="unit_card_table",
                 column_config={t("indicator_col", language): st.column_config.TextColumn(width="large"),
                                t("status", language): st.column_config.TextColumn(width="small"),
                                t("clause", language): st.column_config.TextColumn(width="medium")})


def gap_table(dataset_key: str, dataset: Dataset, plan: Plan, plan_id: str, table: pd.DataFrame,
              indicator: Indicator, level: str, language: str) -> None:
    """The ranked gap list (filterable by district) and its CSV / XLSX / GeoJSON downloads."""
    st.markdown(f"#### {t('gap_table', language)}")
    districts = dataset.units.get("district")
    choices = [""] + (list(districts.index.astype(str)) if districts is not None else [])
    # Bilingual option labels (see app.py: keyed widgets must not change their option labels).
    district_label = {"": "全部区 · All districts"}
    if districts is not None:
        english = districts.get("name_en", districts["name"]).fillna("").astype(str)
        district_label.update({code: f"{districts.at[code, 'name']} {english[code]}".strip()
                               for code in districts.index.astype(str)})
    if level == "district":
        choices = [""]
    district = st.selectbox(t("district_filter", language), choices, key="district_filter",
                            format_func=lambda c: district_label.get(c, c),
                            on_change=_district_chosen) or None
    gaps = data.gap_rows(dataset_key, plan_id, indicator.id, level, district, table, dataset, plan)
    if gaps.empty:
        st.success(t("no_gaps", language))
    else:
        st.caption(f"{len(gaps)} {t('rows', language)}")
        st.dataframe(display_frame(gaps, language, dataset, digits=decimals_for(indicator)),
                     hide_index=True, width="stretch",
                     key="gap_table")
    columns = st.columns(len(_FORMATS))
    stem = f"gaps_{indicator.id}_{level}" + (f"_{district}" if district else "") + f"_{language}"
    for column, (fmt, mime) in zip(columns, _FORMATS):
        # Built only when clicked (XLSX and GeoJSON take a few tenths of a second each).
        column.download_button(f"{t('download', language)} {fmt.upper()}",
                               data.exporter(gaps, fmt, table=table, dataset=dataset, plan=plan,
                                             level=level, district=district,
                                             language=language),
                               file_name=f"{stem}.{fmt}", mime=mime, key=f"download_{fmt}",
                               on_click="ignore", width="stretch")


def display_frame(gaps: pd.DataFrame, language: str, dataset: Dataset | None = None, *,
                  digits: int = 2) -> pd.DataFrame:
    """The gap list for reading: localised headers, numbers, statuses, data sources and outline
    quality; in English the units' and districts' ``name_en`` where ``dataset`` has them.  For the
    screen only: the downloads are the library's export, byte for byte the CLI's.  ``digits``:
    the indicator's decimals (:func:`geo_coverage.viz.decimals_for`), as the exports round."""
    columns = {
        "rank": ("排名", "Rank"), "district_name": ("所属区", "District"),
        "unit_name": ("单元", "Unit"), "unit_code": ("代码", "Code"),
        "value": ("现状值", "Value"), "target": ("目标", "Target"),
        "shortfall": ("缺口", "Shortfall"), "shortfall_unit": ("缺口单位", "Shortfall unit"),
        "status": ("状态", "Status"), "provenance": ("数据来源", "Data source"),
        "outline_quality": ("边界精度", "Outline"),
    }
    frame = gaps[[c for c in columns if c in gaps]].copy()
    for column, places in (("value", digits), ("target", digits), ("shortfall", 0)):
        frame[column] = frame[column].map(lambda v, d=places: number(v, language, digits=d))
    frame["status"] = frame["status"].map(lambda s: label(STATUS.get(s, (s, s)), language))
    if "provenance" in frame:
        frame["provenance"] = frame["provenance"].map(lambda p: source_text(p, language))
    if "outline_quality" in frame:
        frame["outline_quality"] = frame["outline_quality"].map(
            lambda q: label(OUTLINE.get(q, (q, q)), language) if isinstance(q, str) else q)
    if language != "zh" and dataset is not None and len(gaps):
        level = str(gaps["level"].iloc[0]) if "level" in gaps else None
        for column, code_column, lvl in (("unit_name", "unit_code", level),
                                         ("district_name", "district_code", "district")):
            units = dataset.units.get(lvl) if lvl else None
            if units is None or "name_en" not in units or column not in frame:
                continue
            english = gaps[code_column].astype(str).map(
                units["name_en"].fillna("").astype(str)).fillna("")
            frame[column] = english.where(english != "", frame[column])
    if language == "zh":
        frame["shortfall_unit"] = frame["shortfall_unit"].map(
            lambda u: SHORTFALL_UNITS_ZH.get(u, u))
    return frame.rename(columns={c: label(pair, language) for c, pair in columns.items()})
