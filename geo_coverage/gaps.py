"""Gap lists: the units that miss a target, ranked by shortfall, with bilingual export.

Everything here builds frames or bytes; writing them is :mod:`geo_coverage.io`'s job, so the CLI
and the app hand out exactly the same files.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from . import io
from .dataset import Dataset
from .errors import DataError
from .plan import Plan

__all__ = ["gap_list", "summary", "HEADERS", "bilingual", "export_bytes", "gap_geoframe",
           "EXPORT_FORMATS", "provenance_notes"]

EXPORT_FORMATS = ("csv", "xlsx", "geojson")

# Column id → (中文, English).  Exports show "中文 English" headers.
HEADERS = {
    "rank": ("排名", "Rank"),
    "level": ("层级", "Level"),
    "district_code": ("区代码", "District code"),
    "district_name": ("所属区", "District"),
    "unit_code": ("单位代码", "Unit code"),
    "unit_name": ("单位名称", "Unit"),
    "parent_code": ("上级代码", "Parent code"),
    "indicator": ("指标代码", "Indicator id"),
    "indicator_name_zh": ("指标名称", "Indicator (Chinese)"),
    "indicator_name_en": ("指标名称（英文）", "Indicator"),
    "value": ("现状值", "Value"),
    "target": ("目标值", "Target"),
    "comparator": ("比较", "Comparator"),
    "unit": ("单位", "Unit of measure"),
    "met": ("是否达标", "Met"),
    "status": ("状态", "Status"),
    "shortfall": ("缺口", "Shortfall"),
    "shortfall_unit": ("缺口单位", "Shortfall unit"),
    "numerator": ("分子", "Numerator"),
    "denominator": ("分母", "Denominator"),
    "indicator_type": ("指标类型", "Indicator type"),
    "provenance": ("数据来源", "Data source"),
    "note": ("备注", "Note"),
    "clause": ("规划条款", "Plan clause"),
    "outline_quality": ("边界精度", "Outline quality"),
    "units_total": ("单位数", "Units"),
    "units_met": ("达标数", "Met"),
    "units_gap": ("未达标数", "Gap"),
    "units_no_data": ("无数据", "No data"),
    "total_shortfall": ("缺口合计", "Total shortfall"),
}
STATUS_ZH = {"met": "达标", "gap": "未达标", "no_data": "无数据"}
LEVEL_ZH = {"city": "市", "district": "区", "street": "街道/乡镇"}


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
    out["shortfall_unit"] = out["indicator"].map(lambda i: indicators[i].shortfall_unit)
    out["clause"] = out["indicator"].map(lambda i: indicators[i].clause)
    out.insert(0, "level", level)
    return out


def provenance_notes(dataset: Dataset | None, plan: Plan) -> dict[str, str]:
    """Lines for an export's 'About' sheet: plan, data sources, and a synthetic-data warning."""
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


def _scope(dataset: Dataset | None, level: str | None, district: str | None) -> str:
    where = "全市 whole city"
    if district:
        names = dataset.units["district"]["name"].to_dict() if dataset is not None and "district" in dataset.units \
            else {}
        where = f"{names.get(str(district), '')} {district}".strip()
    if level:
        where += f" · {LEVEL_ZH.get(level, level)} {level}"
    return where


def gap_geoframe(gaps: pd.DataFrame, dataset: Dataset, *, level: str) -> gpd.GeoDataFrame:
    """The gap rows joined to their unit outlines (WGS84), for GeoJSON export."""
    units = dataset.units_at(level)
    geometry = units.geometry.reindex(gaps["unit_code"].to_numpy())
    frame = gpd.GeoDataFrame(gaps.reset_index(drop=True), geometry=geometry.to_numpy(), crs=units.crs)
    return frame.to_crs(4326)


def export_bytes(gaps: pd.DataFrame, fmt: str, *, plan: Plan, dataset: Dataset | None = None,
                 level: str | None = None, table: pd.DataFrame | None = None,
                 district: str | None = None) -> bytes:
    """The gap list as file bytes in ``fmt`` (csv | xlsx | geojson); ``district`` is the filter
    the list was made with, so the XLSX summary and its notes cover the same units."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "csv":
        return io.dataframe_to_csv_bytes(gaps)
    if fmt == "xlsx":
        sheets = {}
        if table is not None and level is not None:
            sheets["汇总 Summary"] = bilingual(summary(table, plan, level=level, district=district))
        sheets["缺口 Gaps"] = bilingual(gaps)
        notes = provenance_notes(dataset, plan)
        notes["范围 Scope"] = _scope(dataset, level, district)
        return io.dataframe_to_xlsx_bytes(sheets, notes=notes)
    if fmt == "geojson":
        if dataset is None or level is None:
            raise DataError("GeoJSON export needs the dataset and level for the unit outlines.")
        return io.dataframe_to_geojson_bytes(gap_geoframe(gaps, dataset, level=level))
    raise DataError(f"Unknown export format '{fmt}'.", fix=f"Use one of {', '.join(EXPORT_FORMATS)}.")
