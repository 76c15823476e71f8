"""Before and after: deltas of value, shortfall and status per unit × indicator, and exports."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import io
from ..dataset import Dataset
from ..errors import ScenarioError
from ..gaps import STATUS_WORDS, bilingual, gap_geoframe, localise, provenance_notes, sheet_words
from ..plan import Plan
from ..text import group
from .model import Scenario

__all__ = ["COMPARISON_HEADERS", "GAP_TO_MET", "MET_TO_GAP", "Comparison", "compare",
           "comparison_export_bytes"]


COMPARISON_HEADERS = group("comparison_column")
GAP_TO_MET = "gap→met"
MET_TO_GAP = "met→gap"


@dataclass(frozen=True)
class Comparison:
    """Before/after coverage of a scenario.

    Attributes
    ----------
    table
        One row per unit × indicator: ``level, unit_code, unit_name, parent_code, indicator,
        value_before, value_after, value_change, shortfall_before, shortfall_after,
        shortfall_change, status_before, status_after, flip`` (``gap→met``, ``met→gap`` or '').
    flips
        The rows whose status flipped between gap and met.
    closed
        Per indicator × level: summed shortfall before and after, ``shortfall_closed`` (before −
        after, negative when the scenario widens the gap), and how many units flipped each way.
    """

    table: pd.DataFrame
    flips: pd.DataFrame
    closed: pd.DataFrame

    def flipped(self, direction: str = GAP_TO_MET) -> pd.DataFrame:
        """The flips one way: :data:`GAP_TO_MET` or :data:`MET_TO_GAP`."""
        return self.flips[self.flips["flip"] == direction]


def compare(before_table: pd.DataFrame, after_table: pd.DataFrame) -> Comparison:
    """Deltas of value, shortfall and status per unit × indicator between two coverage tables.

    Parameters
    ----------
    before_table, after_table
        Coverage tables (:func:`geo_coverage.coverage.evaluate`), e.g. of a base and its scenario.

    Returns
    -------
    Comparison
        Every row, the flips and the shortfall closed per indicator × level.
    """
    keys = ["level", "unit_code", "indicator"]
    left = before_table[keys + ["unit_name", "parent_code", "value", "shortfall", "status", "shortfall_unit"]]
    right = after_table[keys + ["value", "shortfall", "status"]]
    merged = left.merge(right, on=keys, how="outer", suffixes=("_before", "_after"), sort=False)
    if merged["unit_name"].isna().any():  # rows only the scenario has (a layer it added)
        names = after_table.set_index(keys)[["unit_name", "parent_code", "shortfall_unit"]]
        fill = names.reindex(pd.MultiIndex.from_frame(merged[keys]))
        for column in ("unit_name", "parent_code", "shortfall_unit"):
            merged[column] = merged[column].fillna(pd.Series(fill[column].to_numpy(), index=merged.index))
    for column in ("status_before", "status_after"):
        merged[column] = merged[column].fillna("no_data")
    merged["value_change"] = merged["value_after"] - merged["value_before"]
    merged["shortfall_change"] = merged["shortfall_after"] - merged["shortfall_before"]
    before, after = merged["status_before"].to_numpy(), merged["status_after"].to_numpy()
    merged["flip"] = np.where((before == "gap") & (after == "met"), GAP_TO_MET,
                              np.where((before == "met") & (after == "gap"), MET_TO_GAP, ""))
    table = merged[["level", "unit_code", "unit_name", "parent_code", "indicator", "value_before",
                    "value_after", "value_change", "shortfall_before", "shortfall_after", "shortfall_change",
                    "shortfall_unit", "status_before", "status_after", "flip"]]
    flips = table[table["flip"] != ""].reset_index(drop=True)
    grouped = table.groupby(["indicator", "level"], sort=False)
    closed = pd.DataFrame({
        "shortfall_before": grouped["shortfall_before"].sum(min_count=1),
        "shortfall_after": grouped["shortfall_after"].sum(min_count=1),
        "units_gap_to_met": grouped["flip"].apply(lambda s: int((s == GAP_TO_MET).sum())),
        "units_met_to_gap": grouped["flip"].apply(lambda s: int((s == MET_TO_GAP).sum())),
        "shortfall_unit": grouped["shortfall_unit"].first(),
    }).reset_index()
    closed.insert(4, "shortfall_closed", closed["shortfall_before"] - closed["shortfall_after"])
    return Comparison(table=table, flips=flips, closed=closed)


def _bilingual(frame: pd.DataFrame) -> pd.DataFrame:
    return bilingual(frame.rename(columns={c: f"{zh} {en}" for c, (zh, en) in COMPARISON_HEADERS.items()}))


_FLIP_WORDS = {GAP_TO_MET: ("转为达标", "gap → met"), MET_TO_GAP: ("转为未达标", "met → gap")}


def _one_language(frame: pd.DataFrame, language: str, *, plan: Plan,
                  dataset: Dataset | None) -> pd.DataFrame:
    """A comparison frame in one language: the gap list's words (:func:`localise`) and the
    before/after columns', numbers with their indicator's decimals."""
    from ..viz.legend import decimals_for

    index = 0 if language == "zh" else 1
    out = frame.copy()
    for column in ("status_before", "status_after"):
        if column in out:
            out[column] = out[column].map(lambda v: STATUS_WORDS.get(v, (v, v))[index])
    if "flip" in out:
        out["flip"] = out["flip"].map(lambda v: _FLIP_WORDS.get(v, (v, v))[index])
    if "indicator" in out:
        places = out["indicator"].map({ind.id: decimals_for(ind) for ind in plan.all_indicators})
        for column in ("value_before", "value_after", "value_change"):
            if column in out:
                numbers = pd.to_numeric(out[column], errors="coerce")
                for digits in places.dropna().unique():
                    rows = (places == digits).to_numpy()
                    numbers.loc[rows] = numbers.loc[rows].round(int(digits))
                out[column] = numbers
    for column in ("shortfall_before", "shortfall_after", "shortfall_change", "shortfall_closed"):
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").round(1)
    if "indicator" in out and "indicator_name_zh" not in out:
        names = {ind.id: (ind.name_zh, ind.name_en) for ind in plan.all_indicators}
        out.insert(list(out.columns).index("indicator") + 1, "indicator_name_zh",
                   out["indicator"].map(lambda i: names.get(i, (i, i))[0]))
        out.insert(list(out.columns).index("indicator_name_zh") + 1, "indicator_name_en",
                   out["indicator"].map(lambda i: names.get(i, (i, i))[1]))
    out = localise(out, language, plan=plan, dataset=dataset)
    return out.rename(columns={c: pair[index] for c, pair in COMPARISON_HEADERS.items()})


def comparison_export_bytes(comparison: Comparison, fmt: str, *, plan: Plan, dataset: Dataset | None = None,
                            scenario: Scenario | None = None, language: str | None = None) -> bytes:
    """The comparison as file bytes, like the gap list: ``csv`` (every row, UTF-8 with BOM),
    ``xlsx`` (summary, flips and every row; Chinese + English headers) or ``geojson`` (the flipped
    units with their outlines, WGS84).

    Parameters
    ----------
    comparison
        What :func:`compare` returned.
    fmt
        ``csv``, ``xlsx`` or ``geojson``.
    plan, dataset, scenario
        For indicator names, unit outlines and the notes sheet (provenance, the scenario).
    language
        ``zh`` or ``en``: every header and cell in that one language (as the app's downloads and
        ``geo-coverage scenario run --compare --lang``); ``None``: the column ids (csv, geojson)
        and both languages' headers (xlsx).

    Returns
    -------
    bytes
    """
    fmt = fmt.lower().lstrip(".")
    if language is not None and fmt in ("csv", "xlsx"):
        return _one_language_bytes(comparison, fmt, plan=plan, dataset=dataset,
                                   scenario=scenario, language=language)
    if fmt == "csv":
        return io.dataframe_to_csv_bytes(comparison.table)
    if fmt == "xlsx":
        names = {ind.id: ind.name_zh for ind in plan.all_indicators}
        summary = comparison.closed.copy()
        summary.insert(1, "indicator_name_zh", summary["indicator"].map(names))
        notes = provenance_notes(dataset, plan)
        if scenario is not None:
            notes["情景 Scenario"] = f"{scenario.name}: {scenario.description}".strip(": ")
        sheets = {"汇总 Summary": _bilingual(summary), "达标变化 Flips": _bilingual(comparison.flips),
                  "对比 Comparison": _bilingual(comparison.table)}
        return io.dataframe_to_xlsx_bytes(sheets, notes=notes)
    if fmt == "geojson":
        if dataset is None:
            raise ScenarioError("GeoJSON export needs the dataset for the unit outlines.")
        pieces = [gap_geoframe(rows, dataset, level=level)
                  for level, rows in comparison.flips.groupby("level", sort=False)]
        if not pieces:
            frame = gpd.GeoDataFrame(comparison.flips.copy(), geometry=[], crs=4326)
        else:
            frame = pd.concat(pieces, ignore_index=True)
        return io.dataframe_to_geojson_bytes(gpd.GeoDataFrame(frame, geometry="geometry", crs=4326))
    raise ScenarioError(f"Unknown export format '{fmt}'.", fix="Use csv, xlsx or geojson.")


def _one_language_bytes(comparison: Comparison, fmt: str, *, plan: Plan, dataset: Dataset | None,
                        scenario: Scenario | None, language: str) -> bytes:
    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        return _one_language(frame, language, plan=plan, dataset=dataset)

    if fmt == "csv":
        return io.dataframe_to_csv_bytes(shown(comparison.table))
    zh = language == "zh"
    words = sheet_words(language)
    notes = provenance_notes(dataset, plan, language=language)
    if scenario is not None:
        notes["情景" if zh else "Scenario"] = f"{scenario.name}: {scenario.description}".strip(": ")
    sheets = {words["summary"]: shown(comparison.closed),
              ("达标变化" if zh else "Flips"): shown(comparison.flips),
              ("对比" if zh else "Comparison"): shown(comparison.table)}
    return io.dataframe_to_xlsx_bytes(sheets, notes=notes, notes_headers=(
        words["about"], words["item"], words["note"]))
