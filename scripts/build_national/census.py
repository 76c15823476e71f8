"""The 2020 census workbook (leiii/census ``census_county_2020_v1.xlsx``) as county-level units.

The sheet has one row per province, prefecture and county (3,358 rows).  The county-level units
of a province are:

* rows with a 6-digit county code (not ending in 00), development and statistical zones with
  7x codes included;
* prefecture rows whose prefecture has no county rows (东莞, 中山, 儋州, 嘉峪关, 三沙): the
  prefecture is itself the county-level unit;
* rows without a code that are zones (经济开发区, 管理区 ...) counted apart from every county.

Left out because they repeat other rows: the national row, the province and prefecture rows
that have counties, the "省直辖县级行政区划" subtotals (their cities have rows of their own), and
the codeless island rows of 三沙 (the 三沙 row already holds them).  With this the units of every
province add up exactly to its province row (checked by :func:`check_province_sums`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

AGE_BANDS = ["0岁", "1到4岁", "5到9岁", "10到14岁", "15到19岁", "20到24岁", "25到29岁", "30到34岁",
             "35到39岁", "40到44岁", "45到49岁", "50到54岁", "55到59岁", "60到64岁", "65到69岁",
             "70到74岁", "75到79岁", "80到84岁", "85岁以上"]
# Integer census columns carried to every unit (pop_0_2 is an estimate added afterwards).
COUNT_COLUMNS = ["pop_total", "pop_0_14", "pop_60_plus", "pop_65_plus", "age_0", "age_1_4"]
SUBTOTAL = "直辖县级行政区划"


class CensusError(ValueError):
    """The workbook is not the one expected (names the column or row)."""


def _band(frame: pd.DataFrame, band: str) -> pd.Series:
    columns = [f"男_{band}", f"女_{band}"]
    for column in columns:
        if column not in frame:
            raise CensusError(f"column '{column}' missing: is this census_county_2020_v1.xlsx?")
    # Some zones have no age table: their bands stay blank (NaN), never 0.
    return sum(pd.to_numeric(frame[c], errors="raise").astype(float) for c in columns)


def read_census(path: str | Path) -> pd.DataFrame:
    """Every row of the workbook with ``code`` (text or ''), names and integer population columns."""
    path = Path(path)
    if not path.exists():
        raise CensusError(f"{path}: not found (give --census PATH/census_county_2020_v1.xlsx)")
    raw = pd.read_excel(path, dtype=object)
    for column in ("区划代码", "省", "市", "区县", "人口数_合计"):
        if column not in raw:
            raise CensusError(f"{path}: column '{column}' missing")
    code = raw["区划代码"].map(lambda v: "" if pd.isna(v) else str(int(float(v))).strip())
    frame = pd.DataFrame({
        "code": code, "province_name": raw["省"].astype(str).str.strip(),
        "prefecture_name": raw["市"].astype(str).str.strip(), "name": raw["区县"].astype(str).str.strip(),
        "pop_total": pd.to_numeric(raw["人口数_合计"], errors="raise").astype("int64"),
    })
    bands = {band: _band(raw, band) for band in AGE_BANDS}
    frame["age_0"] = bands["0岁"]
    frame["age_1_4"] = bands["1到4岁"]
    frame["pop_0_14"] = sum(bands[b] for b in AGE_BANDS[:4])
    frame["pop_60_plus"] = sum(bands[b] for b in AGE_BANDS[13:])
    frame["pop_65_plus"] = sum(bands[b] for b in AGE_BANDS[14:])
    frame["row"] = np.arange(len(frame)) + 2  # the spreadsheet row, for messages
    return frame


def _is_province(code: str) -> bool:
    return bool(re.fullmatch(r"\d{2}0000", code))


def _is_prefecture(code: str) -> bool:
    return bool(re.fullmatch(r"\d{4}00", code)) and not _is_province(code)


def _is_county(code: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", code)) and not code.endswith("00")


def provinces(census: pd.DataFrame) -> pd.DataFrame:
    """The 31 province rows."""
    return census[census["code"].map(_is_province)].reset_index(drop=True)


def county_units(census: pd.DataFrame) -> pd.DataFrame:
    """The county-level units (see the module docstring), each with ``province_code`` and
    ``prefecture_code`` and ``kind`` (county | prefecture | zone)."""
    census = census.copy()
    # One known slip in the source: 五台山风景名胜区 (山西省 忻州市, row 340) is coded 170971; no
    # province has the prefix 17.  A county code whose prefix is not its own province's takes
    # the province's prefix (and is listed in the build report).
    prefix = census["province_name"].map(
        {r.province_name: r.code[:2] for r in provinces(census).itertuples()})
    wrong = census["code"].map(_is_county) & (census["code"].str[:2] != prefix)
    census["corrected_from"] = np.where(wrong, census["code"], "")
    census.loc[wrong, "code"] = prefix[wrong] + census.loc[wrong, "code"].str[2:]
    code = census["code"]
    counties = census[code.map(_is_county)].copy()
    counties["kind"] = "county"
    prefectures = census[code.map(_is_prefecture)]
    with_counties = set(counties["code"].str[:4])
    whole = prefectures[~prefectures["code"].str[:4].isin(with_counties)].copy()
    whole["kind"] = "prefecture"
    # Codeless rows: zones, unless a subtotal, the nation, or inside a prefecture counted whole.
    prefecture_of = {(r.province_name, r.prefecture_name): r.code for r in prefectures.itertuples()}
    # A prefecture named by the row, else the last prefecture row above it in the sheet (三沙's
    # island rows name the islands as their prefecture).
    above = code.where(code.map(_is_prefecture), None).ffill().fillna("")
    codeless = census[(code == "") & (census["province_name"] != "全国")]
    codeless = codeless[~codeless["prefecture_name"].str.contains(SUBTOTAL)].copy()
    codeless["prefecture_code"] = [
        prefecture_of.get((p, c), above[i]) for i, p, c in
        zip(codeless.index, codeless["province_name"], codeless["prefecture_name"], strict=True)]
    stray = codeless["prefecture_code"].str[:2] != codeless["province_name"].map(
        {r.province_name: r.code[:2] for r in provinces(census).itertuples()})
    if stray.any():
        row = codeless[stray].iloc[0]
        raise CensusError(f"row {row['row']}: zone '{row['name']}' names no known prefecture "
                          f"'{row['prefecture_name']}'")
    zones = codeless[~codeless["prefecture_code"].isin(set(whole["code"]))].copy()
    zones["kind"] = "zone"
    # A codeless zone gets a code of its own: prefecture + 'Z' + its row (stable across builds).
    zones["code"] = zones["prefecture_code"].str[:4] + "Z" + zones["row"].astype(str)
    units = pd.concat([counties, whole, zones], ignore_index=True)
    units["prefecture_code"] = units["code"].str[:4] + "00"
    units["province_code"] = units["code"].str[:2] + "0000"
    return units.sort_values("code", kind="stable").reset_index(drop=True)


def check_province_sums(units: pd.DataFrame, census: pd.DataFrame, *, column: str = "pop_total"
                        ) -> dict[str, tuple[int, int]]:
    """``province code -> (province row, sum of its units)`` for every province that differs."""
    rows = provinces(census).set_index("code")[column]
    sums = units.groupby("province_code")[column].sum()
    return {code: (int(rows[code]), int(sums.get(code, 0))) for code in rows.index
            if int(rows[code]) != int(sums.get(code, 0))}
