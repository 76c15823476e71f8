"""The one validator of planners' tables: columns, ids, numbers, and the row a message names.

Every check finds the first offending row at once (array operations, no Python loop over rows)
and raises :class:`~geo_coverage.errors.DataError` naming the file, the spreadsheet row (the
header is row 1, so the first data row is row 2) and the column. Callers word the message and the
fix for their table; the detection, the row arithmetic and the shape of the error live here once.
Message templates receive the offending cell as ``{value}``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = [
    "spreadsheet_row",
    "first_true",
    "text_column",
    "check_ids",
    "checked_numbers",
    "known_positions",
    "no_repeated_rows",
]

# Rows above the first data row in a spreadsheet view of a table: the header.
HEADER_ROWS = 1


def spreadsheet_row(position: int) -> int:
    """The row a spreadsheet shows for the data row at 0-based ``position`` (header = row 1)."""
    return int(position) + HEADER_ROWS + 1


def first_true(mask: np.ndarray | pd.Series) -> int | None:
    """0-based position of the first true entry of ``mask``, or ``None``."""
    values = np.asarray(mask, dtype=bool)
    hits = np.flatnonzero(values)
    return int(hits[0]) if len(hits) else None


def text_column(table: pd.DataFrame, column: str, *, file: object = None, fix: str,
                message: str | None = None) -> pd.Series:
    """A column read as text and stripped; an error naming the columns there are if it is absent.

    Parameters
    ----------
    table
        The table as read (cells as text or numbers).
    column
        The column wanted.
    file
        The table's file, for the message.
    fix
        How to name the right column (e.g. which option to use).
    message
        Instead of "The column 'x' is missing (columns: a, b)." (``{column}`` and ``{columns}``
        are filled in).
    """
    if column not in table.columns:
        columns = ", ".join(map(str, table.columns))
        text = (message or "The column '{column}' is missing (columns: {columns}).").format(
            column=column, columns=columns)
        raise DataError(text, file=file, column=column, fix=fix)
    return table[column].astype(str).str.strip()


def _raise_at(position: int, shown: pd.Series | np.ndarray, *, message: str, file: object,
              column: str | None, fix: str | None) -> None:
    value = shown.iloc[position] if isinstance(shown, pd.Series) else shown[position]
    raise DataError(message.format(value=value), file=file, row=spreadsheet_row(position),
                    column=column, fix=fix)


def check_ids(ids: pd.Series, *, file: object, column: str, empty: str, empty_fix: str | None,
              repeated: str | None = None, repeated_fix: str | None = None) -> pd.Series:
    """Refuse the first empty id, then (when ``repeated`` is given) the first repeated one.

    Parameters
    ----------
    ids
        Ids as stripped text.
    empty, empty_fix
        Message and fix for an empty id.
    repeated, repeated_fix
        Message (``{value}``: the id) and fix for an id seen before; ``None`` allows repeats.

    Returns
    -------
    pandas.Series
        ``ids`` unchanged.
    """
    blank = first_true((ids == "").to_numpy())
    if blank is not None:
        _raise_at(blank, ids, message=empty, file=file, column=column, fix=empty_fix)
    if repeated is not None:
        again = first_true(ids.duplicated().to_numpy())
        if again is not None:
            _raise_at(again, ids, message=repeated, file=file, column=column, fix=repeated_fix)
    return ids


def checked_numbers(text: pd.Series, *, file: object, column: str, message: str, fix: str | None,
                    low: float = 0.0, high: float = np.inf, shown: pd.Series | None = None) -> np.ndarray:
    """Cells parsed as finite numbers in ``[low, high]`` (≥ 0 by default), or the first bad row.

    Parameters
    ----------
    text
        The cells as text (a dot for decimals).
    message
        Names the bad cell as ``{value}``, e.g. ``"The weight '{value}' is not a number ≥ 0."``.
    shown
        The cells as the message should quote them (default: ``text``).

    Returns
    -------
    numpy.ndarray
        The numbers, as floats.
    """
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = first_true(~np.isfinite(values) | (values < low) | (values > high))
    if bad is not None:
        _raise_at(bad, text if shown is None else shown, message=message, file=file, column=column,
                  fix=fix)
    return values


def known_positions(values: pd.Series | np.ndarray, known: pd.Index, *, file: object, column: str,
                    message: str, fix: str | None) -> np.ndarray:
    """Position of each value in ``known``; an error at the first value ``known`` lacks."""
    found = known.get_indexer(values)
    missing = first_true(found < 0)
    if missing is not None:
        _raise_at(missing, values, message=message, file=file, column=column, fix=fix)
    return found


def no_repeated_rows(columns: Sequence[np.ndarray], *, file: object, column: str, message: str,
                     fix: str | None) -> None:
    """Refuse the first row whose values in ``columns`` (taken together) appeared above it."""
    frame = pd.DataFrame({str(i): values for i, values in enumerate(columns)})
    again = first_true(frame.duplicated().to_numpy())
    if again is not None:
        raise DataError(message, file=file, row=spreadsheet_row(again), column=column, fix=fix)
