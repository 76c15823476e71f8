"""Population tables: head counts per unit code, checked cell by cell and joined to the units."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import io
from ..dataset import POPULATION_COLUMNS
from ..errors import DataError
from .cells import SCIENTIFIC, code_text, population_problems
from .headers import BOUNDARY_HEADERS, duplicate_header_problems, parse_column_map, resolve_columns
from .problems import ImportResult, Problem, failed, has_errors, refused, row_problems
from .tables import TABLE_SUFFIXES, parse_table, table_rows

__all__ = ["join_population", "import_population"]

_TOTAL_WORDS = ("合计", "总计", "小计", "全市", "总数", "total", "sum", "subtotal", "grand total")


def join_population(units: gpd.GeoDataFrame, table: pd.DataFrame, *, name: str,
                    column_map: Mapping[str, str] | str | None = None,
                    require_mapped: bool = True, info: Mapping[str, Any] | None = None) -> ImportResult:
    """Join a population table to ``units`` by code.

    Table codes matching no unit are errors (each with its row); units the table does not list
    keep their previous population and are listed as a warning.

    Parameters
    ----------
    units
        The units (``code`` and, if present, the population columns and ``pop_source``).
    table
        Text cells, as :func:`~geo_coverage.importers.parse_table` gives them.
    name
        The file name (provenance and messages).
    column_map
        ``{'code': '区划代码', 'pop_total': '常住人口'}`` for headers the alias table does not know.
    require_mapped
        Whether a ``column_map`` source missing from the file is an error.
    info
        What :func:`~geo_coverage.importers.parse_table` reported.

    Returns
    -------
    ImportResult
        A copy of ``units`` with the listed units' population replaced (``pop_source``
        ``imported: <name>``), or ``None`` on errors; ``report['unmatched_codes']`` and
        ``report['units_without_rows']`` list the codes on either side that found no partner.
    """
    file = Path(name).name
    try:
        mapping = parse_column_map(column_map)
    except DataError as exc:
        return failed(exc, file=file)
    found, problems = resolve_columns(table.columns, BOUNDARY_HEADERS, mapping, origin=file,
                                      require_mapped=require_mapped)
    report: dict = {"file": file, "rows": len(table), "column_map": dict(found)}
    problems += duplicate_header_problems(info or {}, file=file)
    population = [c for c in POPULATION_COLUMNS if c in found]
    problems += _missing_columns(table, found, population, file=file)
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    rows = table_rows(table, info)
    codes = table[found["code"]].map(code_text)
    values = pd.DataFrame({c: table[found[c]] for c in population})
    problems += population_problems(values, population, rows, file=file, headers=found, whole=True)
    not_codes, code_problems = _code_problems(codes, table, rows, file=file, column=found["code"])
    problems += code_problems
    duplicated = codes.duplicated(keep="first").to_numpy() & ~not_codes
    problems += row_problems(duplicated, rows, lambda r, i: Problem(
        "error", f"Duplicate unit code '{codes.iloc[i]}'.", file=file, row=r, column=found["code"],
        fix="List every unit once."))
    known = set(units["code"].astype(str))
    unmatched = ~codes.isin(known).to_numpy() & ~not_codes
    problems += row_problems(unmatched, rows, lambda r, i: Problem(
        "error", f"The code '{codes.iloc[i]}' matches no unit"
                 + (" (it has lost its leading zeros?)" if ("0" + codes.iloc[i]) in known else "") + ".",
        file=file, row=r, column=found["code"], fix="Use the units' codes (as text, e.g. 110101001)."))
    report["unmatched_codes"] = codes[unmatched].tolist()
    missing_units = sorted(known - set(codes))
    report["units_without_rows"] = missing_units
    if missing_units:
        problems.append(Problem("warning", f"{len(missing_units)} units have no row and keep their previous "
                                f"population: {', '.join(missing_units[:10])}"
                                f"{' ...' if len(missing_units) > 10 else ''}.",
                                file=file, column=found["code"], fix="Add a row for each unit."))
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    return ImportResult(_joined(units, values, codes, population, file=file), tuple(problems), report)


def _missing_columns(table: pd.DataFrame, found: Mapping[str, str], population: list[str], *,
                     file: str) -> list[Problem]:
    """Errors for a table without rows, without a code column or without any population column."""
    problems = []
    if len(table) == 0:
        problems.append(Problem("error", "The table has a header row but no data rows.", file=file, row=2,
                                fix="Add one row per unit below the header."))
    if "code" not in found:
        headers = ", ".join(map(str, table.columns))
        problems.append(Problem("error", f"No unit code column (the headers are: {headers}).",
                                file=file, column="code",
                                fix="Name it 区划代码 or code, or map it: --column-map code=<header>."))
    if not population:
        problems.append(Problem("error", "No population column (常住人口 / pop_total, 0-2岁 / pop_0_2, ...).",
                                file=file, fix="Name the columns as the data contract does, or map them: "
                                               "--column-map pop_total=<header>."))
    return problems


def _code_problems(codes: pd.Series, table: pd.DataFrame, rows: np.ndarray, *, file: str,
                   column: str) -> tuple[np.ndarray, list[Problem]]:
    """Codes that cannot be a unit's: blank, in Excel's scientific notation (digits lost), or a
    totals row.  Returns the mask of those rows (left out of the other code checks) and problems."""
    blank = (codes == "").to_numpy()
    scientific = codes.str.fullmatch(SCIENTIFIC).to_numpy(dtype=bool)
    cells = table.astype(str).apply(lambda c: c.str.strip().str.lower())
    total = cells.isin(_TOTAL_WORDS).any(axis=1).to_numpy() | codes.str.lower().isin(_TOTAL_WORDS).to_numpy()
    problems = row_problems(total, rows, lambda r, i: Problem(
        "error", "This looks like a totals row (合计), not a unit.", file=file, row=r, column=column,
        fix="Delete the totals row: the tool sums the units itself."))
    problems += row_problems(scientific & ~total, rows, lambda r, i: Problem(
        "error", f"The code '{codes.iloc[i]}' is in scientific notation: Excel rounded it and its digits are lost.",
        file=file, row=r, column=column,
        fix="Format the code column as text in Excel (or export the table again from its source) so every "
            "code keeps all its digits."))
    problems += row_problems(blank & ~total, rows, lambda r, i: Problem(
        "error", "The unit code is blank.", file=file, row=r, column=column,
        fix="Give every row its unit's code (e.g. 110101001), or delete the row."))
    return blank | scientific | total, problems


def _joined(units: gpd.GeoDataFrame, values: pd.DataFrame, codes: pd.Series, population: list[str], *,
            file: str) -> gpd.GeoDataFrame:
    """A copy of ``units`` with the population of the units ``codes`` lists replaced by ``values``."""
    out = units.copy()
    by_code = values.set_index(codes.to_numpy())
    positions = out["code"].astype(str).map(lambda c: c in by_code.index).to_numpy()
    for column in population:
        # A copy: under copy-on-write a column's array may be a read-only view.
        current = np.array(out[column], dtype=float) if column in out else np.full(len(out), np.nan)
        current[positions] = by_code.loc[out["code"].astype(str)[positions], column].to_numpy(dtype=float)
        out[column] = current
    sources = (np.array(out["pop_source"].astype(str), dtype=object) if "pop_source" in out
               else np.full(len(out), "", dtype=object))
    sources[positions] = f"imported: {file}"
    out["pop_source"] = sources
    return out


def import_population(path: str | Path, units: gpd.GeoDataFrame, *, encoding: str | None = None,
                      column_map: Mapping[str, str] | str | None = None, max_bytes: int = io.MAX_UPLOAD_BYTES,
                      max_rows: int = io.MAX_TABLE_ROWS,
                      require_mapped: bool = True) -> ImportResult:
    """Read a population table (CSV/XLSX) and join it to ``units`` (see :func:`join_population`).

    Parameters
    ----------
    path
        The table file.
    units
        The units to join to.
    encoding
        The CSV's declared encoding; ``None`` detects it.
    column_map, require_mapped
        As for :func:`join_population`.
    max_bytes
        The largest file read.
    max_rows
        The most rows read from the table.

    Returns
    -------
    ImportResult
        As for :func:`join_population`, the report also holding the table's encoding and format.
    """
    path = Path(path)
    if path.suffix.lower() not in (*TABLE_SUFFIXES, ".xls") and path.is_file():
        return refused(f"Unknown table format '{path.suffix}'.", file=path.name,
                       fix="Give the population as a .csv or .xlsx table keyed by unit code.")
    try:
        data = io.read_upload(path, max_bytes=max_bytes)
        table, info = parse_table(data, name=path.name, encoding=encoding, max_rows=max_rows)
    except DataError as exc:
        return failed(exc, file=path.name)
    result = join_population(units, table, name=path.name, column_map=column_map,
                             require_mapped=require_mapped, info=info)
    return ImportResult(result.frame, result.problems, {**result.report, **info})
