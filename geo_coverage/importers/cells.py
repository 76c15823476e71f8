"""Reading cells: numbers (full-width digits, thousands separators, decimal commas named as such),
unit codes as text, and the per-cell checks of numeric and population columns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import MAX_FACILITY_ATTRIBUTE  # the bound registers share with scenario edits
from .problems import Problem, row_problems

__all__ = ["MAX_UNIT_POPULATION", "MAX_FACILITY_ATTRIBUTE"]

MAX_UNIT_POPULATION = 1e8  # more people than any city has: a unit with more is a unit or typing error
SCIENTIFIC = r"[+-]?\d(?:\.\d+)?[eE][+-]?\d+"
_THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"
_COMMA_HINT = (" (a comma is read only as a thousands separator, as in 1,234; "
               "a decimal comma or a misplaced separator is not read)")


def numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse text cells as numbers: ``(values, blank, bad)`` - full-width digits accepted, and
    commas only as thousands separators in groups of three (``1,234``; ``1,23`` or a decimal
    comma ``1100,5`` is not a number rather than silently 123 or 11005)."""
    text = values.astype(str).str.strip()
    text = text.str.translate(str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,"))
    # The text 'nan' is not blank: it is what a program wrote for a number it did not have, and
    # "not a number" names it (as 'inf' is); a missing value (JSON null: NaN in a vector file's
    # frame) and the words people type for "nothing" are blank.
    blank = (text == "") | values.isna() | text.str.lower().isin(["null", "none", "na", "n/a", "-"])
    comma = text.str.contains(",", regex=False)
    grouped = text.str.fullmatch(_THOUSANDS)
    text = text.where(~comma, text.str.replace(",", "", regex=False).where(grouped, "not a number"))
    parsed = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=float)
    bad = ~blank.to_numpy() & ~np.isfinite(parsed)
    return parsed, blank.to_numpy(), bad


def decimal_comma(cells: pd.Series) -> np.ndarray:
    """Coordinate cells written with a decimal comma: ``116,397`` or ``39,9`` (degrees once the
    comma is a point); ``440,500`` stays a thousands separator (projected metres)."""
    text = cells.astype(str).str.strip().str.replace("，", ",", regex=False)
    candidate = text.str.fullmatch(r"[+-]?\d{1,3},\d+")
    value = pd.to_numeric(text.str.replace(",", ".", regex=False).where(candidate), errors="coerce")
    return (candidate & (value.abs() <= 180)).fillna(False).to_numpy(dtype=bool)


def numeric_column(cells: pd.Series, rows: np.ndarray, *, file: str, column: str, blank: Problem | None,
                   fix: str, negative: str | None = None, negative_fix: str | None = None,
                   maximum: float | None = None,
                   what: str = "The value") -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """Parse a column of numbers, with one problem per blank, non-numeric, (if not allowed)
    negative or (with ``maximum``) too large cell.  ``blank`` is the problem a blank cell gets
    (``None``: blanks are fine).  Returns the values, the mask of unusable cells and the problems."""
    values, is_blank, is_bad = numbers(cells)
    problems: list[Problem] = []
    if blank is not None:
        problems += row_problems(is_blank, rows, lambda r, i: Problem(
            blank.severity, blank.message, file=file, row=r, column=column, fix=blank.fix))
    problems += row_problems(is_bad, rows, lambda r, i: Problem(
        "error", f"'{cells.iloc[i]}' is not a number"
                 + (_COMMA_HINT if "," in str(cells.iloc[i]).replace("，", ",") else "") + ".",
        file=file, row=r, column=column, fix=fix))
    if negative is not None:
        below = np.isfinite(values) & (values < 0)
        problems += row_problems(below, rows, lambda r, i: Problem(
            "error", f"{negative} ({values[i]:g}).", file=file, row=r, column=column, fix=negative_fix))
    if maximum is not None:
        above = np.isfinite(values) & (values > maximum)
        problems += row_problems(above, rows, lambda r, i: Problem(
            "error", f"{what} {values[i]:g} is more than {maximum:,.0f}, the most one row can hold.",
            file=file, row=r, column=column, fix="Check the digits and the unit of the column."))
        is_bad = is_bad | above
    return values, is_blank | is_bad, problems


def code_text(value: Any) -> str:
    """A unit code as text; a float that came through Excel loses its '.0'."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # Full-width digits and stray spaces do not make another code ('１１０１０５ ００１' = '110105001').
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    if text.startswith("'"):  # Excel's marker for a number kept as text ('110105001)
        text = text[1:]
    # Excel turns 110105001 into the number 110105001.0 in exports; the code is the digits.
    return text[:-2] if re.fullmatch(r"\d+\.0", text) else text


def population_problems(frame: pd.DataFrame, columns: Sequence[str], rows: np.ndarray, *, file: str,
                        headers: Mapping[str, str], whole: bool = False) -> list[Problem]:
    """Per-cell checks of population columns, replacing each column of ``frame`` by its numbers.

    Blank, not a number, negative, implausibly large and, with ``whole`` (a table of head
    counts), not a whole number; a header counting in 万人 or per cent is an error for the whole
    column.
    """
    problems: list[Problem] = []
    for column in columns:
        values, found_problems = _population_column(frame[column], rows, file=file,
                                                    header=headers.get(column, column), whole=whole)
        problems += found_problems
        frame[column] = values
    return problems


def _cell_text(value: Any) -> str:
    # A missing value of a vector file (JSON null, a NULL field) is blank; the text 'nan' typed
    # into a table is not (it is named as not a number).
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _population_column(cells: pd.Series, rows: np.ndarray, *, file: str, header: str,
                       whole: bool) -> tuple[np.ndarray, list[Problem]]:
    problems: list[Problem] = []
    if re.search(r"万|千人|%|‰|百分|比例|占比|率", str(header)):
        problems.append(Problem("error", f"The column '{header}' is not a head count (its header says "
                                "ten thousands, thousands or a share).", file=file, row=1, column=header,
                                fix="Give the population as a number of people (e.g. 12.3 万人 = 123000)."))
    values, unusable, found_problems = numeric_column(
        cells.map(_cell_text), rows, file=file, column=header,
        blank=Problem("error", "The population is blank (NaN).",
                      fix="Fill in the population (0 if nobody lives there) or drop the column."),
        fix="Write plain numbers (no units, no thousands text).",
        negative="Negative population", negative_fix="Population must be zero or more.")
    problems += found_problems
    huge = ~unusable & (values > MAX_UNIT_POPULATION)
    problems += row_problems(huge, rows, lambda r, i: Problem(
        "error", f"Implausible population ({values[i]:g}): more than {MAX_UNIT_POPULATION:,.0f} in one unit.",
        file=file, row=r, column=header, fix="Check the digits and the unit of the column (people)."))
    if whole:
        with np.errstate(invalid="ignore"):  # blank and non-numeric cells are NaN/inf, flagged above
            fraction = ~unusable & ~huge & (values >= 0) & (np.abs(values - np.round(values)) > 1e-9)
        problems += row_problems(fraction, rows, lambda r, i: Problem(
            "error", f"The population is not a whole number ({values[i]:g}).", file=file, row=r, column=header,
            fix="Write whole numbers of people (a table in 万人 must be converted: 1.5 万人 = 15000; "
                "round estimates)."))
    return values, problems
