"""Gap lists: the units that miss a target, ranked by shortfall, with bilingual export.

Everything here builds frames or bytes; writing them is :mod:`geo_coverage.io`'s job, so the CLI
and the app hand out exactly the same files.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io
from .dataset import Dataset
from .errors import DataError
from .plan import Plan
from .text import group, pair

__all__ = ["gap_list", "summary", "HEADERS", "bilingual", "export_bytes", "gap_geoframe",
           "EXPORT_FORMATS", "EXPORT_LANGUAGES", "provenance_notes", "localise", "source_words",
           "STATUS_WORDS", "LEVEL_WORDS", "OUTLINE_WORDS", "TYPE_WORDS", "EXPORT_DECIMALS",
           "coverage_xlsx_bytes", "sheet_words"]

EXPORT_FORMATS = ("csv", "xlsx", "geojson")
EXPORT_LANGUAGES = ("zh", "en")

# Column id → (中文, English), from the word catalogue (geo_coverage.text).  Exports show
# "中文 English" headers.
HEADERS = group("column")
LEVEL_ZH = {level: zh for level, (zh, _) in group("scope_level").items()}

# The words of an export's cells, id → (中文, English): an export is in one language at a time.
STATUS_WORDS = group("status")
LEVEL_WORDS = group("cell_level")
OUTLINE_WORDS = group("outline")
TYPE_WORDS = group("indicator_type")
_YES_NO = {True: pair("yes_no.yes"), False: pair("yes_no.no")}
# Words of the provenance column (coverage.py) and of population sources, in Chinese.
_SOURCE_WORDS_ZH = tuple((english, chinese) for english, (chinese, _) in group("source_word").items())
# Decimals of the numbers an export writes (no 15-digit floats in a planner's spreadsheet).
EXPORT_DECIMALS = {"value": 2, "target": 2, "shortfall": 1, "numerator": 1, "denominator": 1,
                   "total_shortfall": 1}


def source_words(text, language: str) -> str:
    """A provenance / population-source text in ``language``: Chinese words for the library's
    English ones ("population: estimate; facilities: synthetic" → "人口：估算；设施：合成")."""
    import re

    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    if language != "zh":
        return text
    for english, chinese in _SOURCE_WORDS_ZH:
        text = re.sub(rf"\b{re.escape(english)}\b", chinese, text)
    return text.replace(": ", "：").replace("; ", "；").replace("+", "、")


def _word(words: Mapping, key, language: str):
    pair = words.get(key)
    if pair is None:
        return key
    return pair[0] if language == "zh" else pair[1]


def _english_names(frame: pd.DataFrame, dataset: Dataset, column: str, code_column: str,
                   levels: pd.Series) -> pd.Series:
    """``column`` with each unit's ``name_en`` where the dataset has one."""
    out = frame[column].copy()
    for level in levels.dropna().unique():
        units = dataset.units.get(str(level))
        if units is None or "name_en" not in units:
            continue
        rows = levels == level
        english = frame.loc[rows, code_column].astype(str).map(
            units["name_en"].fillna("").astype(str)).fillna("")
        out.loc[rows] = english.where(english != "", out.loc[rows])
    return out


def localise(frame: pd.DataFrame, language: str, *, plan: Plan | None = None,
             dataset: Dataset | None = None) -> pd.DataFrame:
    """An export frame in one language: headers and cells (status, level, met, outline quality,
    provenance, indicator type, units, shortfall units, indicator and unit names) in ``language``,
    numbers rounded to :data:`EXPORT_DECIMALS` (values and targets to their indicator's decimals,
    :func:`geo_coverage.viz.decimals_for`, when ``plan`` is given).

    Parameters
    ----------
    frame
        A gap list, summary or coverage table (columns as :data:`HEADERS` names them).
    language
        ``"zh"`` or ``"en"``.
    plan
        For the indicators' units of measure in ``language``.
    dataset
        For English unit and district names (``name_en``) in an English export.
    """
    from .viz.legend import SHORTFALL_UNITS_ZH

    if language not in EXPORT_LANGUAGES:
        raise DataError(f"Unknown export language '{language}'.", fix="Use zh or en.")
    out = frame.copy()
    levels = out["level"].astype(str) if "level" in out else None
    if language == "en" and dataset is not None:
        if "unit_name" in out and "unit_code" in out and levels is not None:
            out["unit_name"] = _english_names(out, dataset, "unit_name", "unit_code", levels)
        if "district_name" in out and "district_code" in out:
            out["district_name"] = _english_names(
                out, dataset, "district_name", "district_code",
                pd.Series("district", index=out.index))
    for column, words in (("status", STATUS_WORDS), ("level", LEVEL_WORDS),
                          ("outline_quality", OUTLINE_WORDS), ("indicator_type", TYPE_WORDS)):
        if column in out:
            out[column] = out[column].map(lambda v, w=words: _word(w, v, language))
    if "met" in out:
        out["met"] = out["met"].map(lambda v: _word(_YES_NO, bool(v), language)
                                    if isinstance(v, (bool, np.bool_)) else "")
    if "provenance" in out:
        out["provenance"] = out["provenance"].map(lambda v: source_words(v, language))
    if "shortfall_unit" in out and language == "zh":
        out["shortfall_unit"] = out["shortfall_unit"].map(lambda u: SHORTFALL_UNITS_ZH.get(u, u))
    if plan is not None and "indicator" in out:
        indicators = {ind.id: ind for ind in plan.all_indicators}
        if "unit" in out:
            out["unit"] = out["indicator"].map(
                lambda i: (indicators[i].unit_zh if language == "zh" else indicators[i].unit_en)
                if i in indicators else "")
    keep, drop = (("indicator_name_zh", "indicator_name_en") if language == "zh"
                  else ("indicator_name_en", "indicator_name_zh"))
    out = out.drop(columns=[drop], errors="ignore")
    per_indicator = None
    if plan is not None and "indicator" in frame:
        from .viz.legend import decimals_for

        places = {ind.id: decimals_for(ind) for ind in plan.all_indicators}
        per_indicator = frame["indicator"].map(places).fillna(EXPORT_DECIMALS["value"])
    for column, decimals in EXPORT_DECIMALS.items():
        if column not in out:
            continue
        numbers = pd.to_numeric(out[column], errors="coerce")
        if column in ("value", "target") and per_indicator is not None:
            # each indicator's own decimals, as the screen writes them (one round per group)
            for places_here in per_indicator.unique():
                rows = (per_indicator == places_here).to_numpy()
                numbers.loc[rows] = numbers.loc[rows].round(int(places_here))
            out[column] = numbers
        else:
            out[column] = numbers.round(decimals)
    index = 0 if language == "zh" else 1
    names = {c: pair[index] for c, pair in HEADERS.items()}
    names[keep] = ("指标名称", "Indicator")[index]
    return out.rename(columns=names)


def bilingual(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename known columns to "中文 English" headers."""
    return frame.rename(columns={c: f"{zh} {en}" for c, (zh, en) in HEADERS.items()})


def gap_list(table: pd.DataFrame, plan: Plan, *, level: str, indicator: str | None = None,
             dataset: Dataset | None = None, include_met: bool = False,
             district: str | None = None) -> pd.DataFrame:
    """Units at ``level`` that miss their target, ranked by shortfall (largest first).

    Parameters
    ----------
    table
        The coverage table from :func:`geo_coverage.coverage.evaluate`.
    level, indicator
        Which rows; all indicators when ``indicator`` is None.
    dataset
        Used for district names and outline quality.
    include_met
        Keep met and no-data rows too (after the gaps), e.g. for a full table.
    district
        Keep only units in this district code.
    """
    rows = table[table["level"] == level]
    if indicator is not None:
        plan.indicator(indicator)  # raises a clear PlanError for an unknown id
        rows = rows[rows["indicator"] == indicator]
    if rows.empty and level not in set(table["level"]):
        raise DataError(f"No rows at level '{level}' in the coverage table.",
                        fix="Choose a level the indicator is evaluated at (see `geo-coverage indicators`).")
    if not include_met:
        rows = rows[rows["status"] == "gap"]
    rows = rows.copy()
    rows["district_code"] = _district_codes(rows, level)
    if district:
        rows = rows[rows["district_code"] == str(district)]
    names = {}
    quality = {}
    if dataset is not None:
        if "district" in dataset.units:
            names = dataset.units["district"]["name"].to_dict()
        if level in dataset.units and "outline_quality" in dataset.units[level]:
            quality = dataset.units[level]["outline_quality"].to_dict()
    rows["district_name"] = rows["district_code"].map(lambda c: names.get(c, ""))
    indicators = {ind.id: ind for ind in plan.all_indicators}
    rows["indicator_name_zh"] = rows["indicator"].map(lambda i: indicators[i].name_zh)
    rows["indicator_name_en"] = rows["indicator"].map(lambda i: indicators[i].name_en)
    rows["unit"] = rows["indicator"].map(lambda i: indicators[i].unit_zh)
    rows["clause"] = rows["indicator"].map(lambda i: indicators[i].clause)
    rows["outline_quality"] = rows["unit_code"].map(lambda c: quality.get(c, ""))
    status_order = rows["status"].map({"gap": 0, "no_data": 1, "met": 2})
    rows = rows.assign(_order=status_order).sort_values(
        ["_order", "shortfall", "indicator", "unit_code"], ascending=[True, False, True, True],
        na_position="last", kind="mergesort").drop(columns="_order")
    rows.insert(0, "rank", np.arange(1, len(rows) + 1))
    columns = ["rank", "level", "district_code", "district_name", "unit_code", "unit_name",
               "indicator", "indicator_name_zh", "indicator_name_en", "value", "target", "unit",
               "status", "shortfall", "shortfall_unit", "numerator", "denominator", "provenance",
               "outline_quality", "clause", "note"]
    out = rows[columns].reset_index(drop=True)
    out["value"] = out["value"].round(3)
    out["target"] = out["target"].round(3)
    return out


def _district_codes(rows: pd.DataFrame, level: str) -> pd.Series:
    if level == "street":
        return rows["parent_code"].astype(str)
    if level == "district":
        return rows["unit_code"].astype(str)
    return pd.Series("", index=rows.index)


def summary(table: pd.DataFrame, plan: Plan, *, level: str, district: str | None = None) -> pd.DataFrame:
    """Per indicator at ``level``: units met / gap / no data and the summed shortfall (only the
    units of ``district`` when given, as in a gap list filtered to it)."""
    rows = table[table["level"] == level]
    if district:
        rows = rows[_district_codes(rows, level) == str(district)]
    grouped = rows.groupby("indicator", sort=False)
    out = pd.DataFrame({
        "units_total": grouped.size(),
        "units_met": grouped["status"].apply(lambda s: int((s == "met").sum())),
        "units_gap": grouped["status"].apply(lambda s: int((s == "gap").sum())),
        "units_no_data": grouped["status"].apply(lambda s: int((s == "no_data").sum())),
        "total_shortfall": grouped["shortfall"].sum(min_count=1),
    }).reset_index()
    indicators = {ind.id: ind for ind in plan.all_indicators}
    out.insert(1, "indicator_name_zh", out["indicator"].map(lambda i: indicators[i].name_zh))
    out.insert(2, "indicator_name_en", out["indicator"].map(lambda i: indicators[i].name_en))
    out["shortfall_unit"] = out["indicator"].map(lambda i: indicators[i].shortfall_unit)
    out["clause"] = out["indicator"].map(lambda i: indicators[i].clause)
    out.insert(0, "level", level)
    return out


_NOTE_WORDS = {
    "plan": ("规划", "Plan"), "warning": ("注意", "Warning"), "estimates": ("估算", "Estimates"),
    "dataset": ("数据集", "Dataset"), "scope": ("范围", "Scope"),
    "population": ("人口", "population"),
    "layer": ("设施", "facilities"),
    "synthetic": ("部分设施数据为合成演示数据，并非真实统计。",
                  "Some facility layers are SYNTHETIC demo data, not official records."),
    "estimated": ("街道人口为估算值（WorldPop 2020 按区普查总数校准）。",
                  "Street populations are estimates scaled to district census totals."),
    "whole_city": ("全市", "whole city"),
}


def _notes_in(dataset: Dataset | None, plan: Plan, language: str) -> dict[str, str]:
    index = 0 if language == "zh" else 1
    words = {key: pair[index] for key, pair in _NOTE_WORDS.items()}
    notes = {words["plan"]: plan.name_zh if language == "zh" else plan.name_en}
    if dataset is not None:
        prov = dataset.provenance()
        for key, value in prov.items():
            part, _, what = key.partition(".")
            if part == "population":
                level = _word(LEVEL_WORDS, what, language)
                item = (f"{words['population']}（{level}）" if language == "zh"
                        else f"{words['population']} ({level})")
            else:
                kind = plan.kinds.get(what)
                name = (kind.name_zh if language == "zh" else kind.name_en) if kind else what
                item = (f"{words['layer']}：{name}" if language == "zh"
                        else f"{words['layer']}: {name}")
            notes[item] = source_words(value, language)
        if any("synthetic" in v for v in prov.values()):
            notes[words["warning"]] = words["synthetic"]
        if any("estimate" in v for v in prov.values()):
            notes[words["estimates"]] = words["estimated"]
        notes[words["dataset"]] = dataset.name
    return notes


def provenance_notes(dataset: Dataset | None, plan: Plan, *,
                     language: str | None = None) -> dict[str, str]:
    """Lines for an export's 'About' sheet: plan, data sources, and a synthetic-data warning;
    in ``language`` ("zh" | "en"), or in both (``None``, the bilingual exports)."""
    if language is not None:
        return _notes_in(dataset, plan, language)
    notes = {"规划 Plan": f"{plan.name_zh} / {plan.name_en}"}
    if dataset is not None:
        prov = dataset.provenance()
        for key, value in prov.items():
            notes[key] = value
        if any("synthetic" in v for v in prov.values()):
            notes["注意 Warning"] = ("部分设施数据为合成演示数据，并非真实统计。"
                                   " Some facility layers are SYNTHETIC demo data, not official records.")
        if any("estimate" in v for v in prov.values()):
            notes["估算 Estimates"] = ("街道人口为估算值（WorldPop 2020 按区普查总数校准）。"
                                     " Street populations are estimates scaled to district census totals.")
        notes["数据集 Dataset"] = dataset.name
    return notes


def _scope(dataset: Dataset | None, level: str | None, district: str | None,
           language: str | None = None) -> str:
    if language is None:  # both languages
        where = "全市 whole city"
    else:
        where = _word(_NOTE_WORDS, "whole_city", language)
    if district:
        districts = dataset.units.get("district") if dataset is not None else None
        column = "name_en" if language == "en" and districts is not None and \
            "name_en" in districts else "name"
        names = districts[column].to_dict() if districts is not None else {}
        where = f"{names.get(str(district), '')} {district}".strip()
    if level:
        where += (f" · {LEVEL_ZH.get(level, level)} {level}" if language is None
                  else f" · {_word(LEVEL_WORDS, level, language)}")
    return where


def gap_geoframe(gaps: pd.DataFrame, dataset: Dataset, *, level: str) -> gpd.GeoDataFrame:
    """The gap rows joined to their unit outlines (WGS84), for GeoJSON export."""
    units = dataset.units_at(level)
    geometry = units.geometry.reindex(gaps["unit_code"].to_numpy())
    frame = gpd.GeoDataFrame(gaps.reset_index(drop=True), geometry=geometry.to_numpy(), crs=units.crs)
    return frame.to_crs(4326)


_SHEETS = {"summary": ("汇总", "Summary"), "gaps": ("缺口", "Gaps"),
           "about": ("说明", "About"), "item": ("项目", "Item"), "note": ("说明", "Note")}


def sheet_words(language: str) -> dict[str, str]:
    """The XLSX sheet names and About-sheet headers in ``language``."""
    index = 0 if language == "zh" else 1
    return {key: pair[index] for key, pair in _SHEETS.items()}


def coverage_xlsx_bytes(table: pd.DataFrame, *, plan: Plan, dataset: Dataset | None,
                        language: str = "zh") -> bytes:
    """A coverage table as a one-language workbook (the table, and its About notes)."""
    words = sheet_words(language)
    return io.dataframe_to_xlsx_bytes(
        {("覆盖" if language == "zh" else "Coverage"): localise(table, language, plan=plan,
                                                               dataset=dataset)},
        notes=provenance_notes(dataset, plan, language=language),
        notes_headers=(words["about"], words["item"], words["note"]))


def export_bytes(gaps: pd.DataFrame, fmt: str, *, plan: Plan, dataset: Dataset | None = None,
                 level: str | None = None, table: pd.DataFrame | None = None,
                 district: str | None = None, language: str = "zh") -> bytes:
    """The gap list as file bytes in ``fmt`` (csv | xlsx | geojson), in one ``language`` (headers,
    statuses, levels, sources, units, names: :func:`localise`); ``district`` is the filter the
    list was made with, so the XLSX summary and its notes cover the same units."""
    fmt = fmt.lower().lstrip(".")
    shown = localise(gaps, language, plan=plan, dataset=dataset)
    if fmt == "csv":
        return io.dataframe_to_csv_bytes(shown)
    if fmt == "xlsx":
        words = sheet_words(language)
        sheets = {}
        if table is not None and level is not None:
            counts = summary(table, plan, level=level, district=district)
            sheets[words["summary"]] = localise(counts, language, plan=plan, dataset=dataset)
        sheets[words["gaps"]] = shown
        notes = provenance_notes(dataset, plan, language=language)
        notes[_word(_NOTE_WORDS, "scope", language)] = _scope(dataset, level, district, language)
        return io.dataframe_to_xlsx_bytes(sheets, notes=notes, notes_headers=(
            words["about"], words["item"], words["note"]))
    if fmt == "geojson":
        if dataset is None or level is None:
            raise DataError("GeoJSON export needs the dataset and level for the unit outlines.")
        outlines = gap_geoframe(gaps, dataset, level=level)
        return io.dataframe_to_geojson_bytes(
            gpd.GeoDataFrame(shown, geometry=outlines.geometry.to_numpy(), crs=outlines.crs))
    raise DataError(f"Unknown export format '{fmt}'.", fix=f"Use one of {', '.join(EXPORT_FORMATS)}.")
