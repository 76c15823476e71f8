"""2SFCA / E2SFCA from id tables: a planner's own demand, supply and travel-cost matrix.

The tables come as a user has them: ids as text (read from CSV, leading zeros kept) or numbers,
values as numbers or text.  Ids are factorised once, never converted value by value: the demand
(or supply) ids followed by a cost column go through one hash pass, in which each known id's code
is its position, so the cost table's millions of ids become positions directly; a table sorted
by origin (as routers and ``geo-coverage costs`` write it) is factorised by the first row of each
run.  Only ids that do not match as they stand (spaces, numbers) are made text and looked up.
Values already numeric are taken as they are; text is parsed once.  Then the pair table of
positions goes to :func:`~geo_coverage.access.fca.two_step_fca`.

Every problem is a :class:`~geo_coverage.errors.DataError` naming the file, the row (as a
spreadsheet shows it: the header is row 1) and the column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

import numpy as np
import pandas as pd

from .._validate import spreadsheet_row
from ..catchment import CostTable
from ..errors import DataError
from .decay import decay_from_name, e2sfca_steps, step_decay
from .fca import two_step_fca

__all__ = ["accessibility_from_tables", "check_max_cost", "MAX_TABLE_VALUE", "METHODS"]

METHODS = ("2sfca", "e2sfca")
# Cost tables this long are checked for runs of one id (sorted by origin): 4,096 rows tell.
_RUNS_FROM = 65_536
_RUN_PROBE = 4_096


def _column(frame: pd.DataFrame, column: str, origin, what: str) -> pd.Series:
    if column not in frame:
        raise DataError(f"Missing column '{column}'.", file=origin, column=column,
                        fix=f"Name the {what} column with the matching option "
                            f"(columns: {', '.join(map(str, frame.columns))}).")
    return frame[column]


def _as_text(values) -> pd.Series:
    """Ids as stripped text, the way every id is compared (a missing value stays missing)."""
    return pd.Series(values).reset_index(drop=True).astype(str).str.strip()


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])  # (callers know some entry is true)


def _id_column(frame: pd.DataFrame, column: str, origin) -> pd.Series:
    """A demand or supply table's ids as text, each on one row, none blank."""
    ids = _as_text(_column(frame, column, origin, "id"))
    blank = (ids == "").to_numpy(dtype=bool, na_value=False)
    if blank.any():
        raise DataError("Empty id.", file=origin, row=spreadsheet_row(_first_row(blank)), column=column)
    codes, distinct = pd.factorize(ids, use_na_sentinel=False)
    if len(distinct) < len(ids):
        # Codes follow first appearance: the first row whose code is not its position repeats one.
        row = _first_row(codes != np.arange(len(codes)))
        raise DataError(f"Duplicate id '{ids.iloc[row]}'.", file=origin, row=spreadsheet_row(row), column=column,
                        fix="Give every location one row.")
    return ids


def _run_starts(values: pd.Series) -> np.ndarray | None:
    """Rows where a run of equal ids begins, when runs are long (a table sorted by the column, as
    routers write a matrix origin by origin); ``None`` when the ids are not grouped."""
    if len(values) < _RUNS_FROM:
        return None
    probe = values.iloc[:_RUN_PROBE]
    if int(probe.ne(probe.shift()).sum()) > len(probe) // 4:
        return None
    starts = np.flatnonzero(values.ne(values.shift()).to_numpy(dtype=bool, na_value=True))
    return starts if len(starts) <= len(values) // 4 else None


def _lookup(known: pd.Series, texts: pd.Series) -> np.ndarray:
    """Position of each text in ``known`` (unique), -1 if absent: one factorisation of both, in
    which ``known``'s ids take the codes 0 … n-1 in order."""
    if not len(texts):
        return np.zeros(0, dtype=np.int64)
    codes, _ = pd.factorize(pd.concat([known, texts], ignore_index=True), use_na_sentinel=False)
    found = codes[len(known):]
    return np.where(found < len(known), found, -1)


def _arrow_positions(heads: pd.Series, known: pd.Series) -> np.ndarray | None:
    """Position in ``known`` of each id as it stands (-1 if none) by one Arrow ``index_in`` over
    the strings' own buffers, when both columns are Arrow strings; ``None`` otherwise."""
    arrow = "pyarrow"
    if not all(isinstance(c.dtype, pd.StringDtype) and c.dtype.storage == arrow for c in (heads, known)):
        return None
    import pyarrow as pa  # (present: the columns are Arrow's)
    import pyarrow.compute as pc

    found = pc.index_in(pa.array(heads.array), value_set=pa.array(known.array))
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _factorised_positions(heads: pd.Series, known: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """``(codes, mapping, texts)``: one factorisation of the known ids followed by the heads, in
    which each known id's code is its position; ``mapping`` sends the codes of the other
    distinct ids (``texts``, stripped) to ``len(known) …``, to be looked up as text."""
    if heads.dtype == known.dtype:
        codes, distinct = pd.factorize(pd.concat([known, heads], ignore_index=True), use_na_sentinel=False)
        codes, first_other, others = codes[len(known):], len(known), distinct[len(known):]
    else:
        codes, others = pd.factorize(heads, use_na_sentinel=False)
        first_other = 0
    return codes, np.arange(first_other), _as_text(others)


def _positions(frame: pd.DataFrame, column: str, known: pd.Series, *, origin, what: str) -> np.ndarray:
    """Position in ``known`` of the id on every row of a cost table's column.

    The column is factorised once (by the first row of each run of one id when the table is
    sorted by it): against the known ids by Arrow's ``index_in`` when both are Arrow strings,
    else by one factorisation of the known ids followed by the column, in which each known id's
    code is its position.  Only the ids that do not match as they stand (spaces around them,
    numbers, a typing error) are made text and looked up; blanks and unknown ids are refused
    with their row.
    """
    values = _column(frame, column, origin, "id").reset_index(drop=True)
    starts = _run_starts(values)
    heads = values if starts is None else values.iloc[starts]

    def refuse(head: int, text: str | None) -> NoReturn:
        row = (head if starts is None else int(starts[head])) + 2
        if text is None:
            raise DataError("Empty id.", file=origin, row=row, column=column)
        raise DataError(f"Unknown {what} id '{text}'.", file=origin, row=row, column=column,
                        fix=f"Every {what} id in the costs must appear in the {what} file.")

    found = _arrow_positions(heads, known)
    if found is not None:  # rows of ids that did not match as they stand, looked up as text
        missing = np.flatnonzero(found < 0)
        texts = _as_text(heads.iloc[missing])
        looked = _lookup(known, texts)
        codes, to_text = missing, np.arange(len(missing))
    else:  # distinct ids that are not known ids as they stand, looked up as text
        codes, known_codes, texts = _factorised_positions(heads, known)
        looked = np.concatenate([known_codes, _lookup(known, texts)])
        to_text = np.arange(len(looked)) - len(known_codes)
    blank = (texts == "").to_numpy(dtype=bool, na_value=False)
    if blank.any():
        bad = np.flatnonzero(blank)[0] + (len(looked) - len(texts))
        refuse(_first_row(codes == bad) if found is None else int(missing[bad]), None)
    if (looked < 0).any():
        bad = int(np.flatnonzero(looked < 0)[0])
        head = _first_row(codes == bad) if found is None else int(missing[bad])
        refuse(head, texts.iloc[to_text[bad]])
    if found is not None:
        found[missing] = looked
        codes = found
    else:
        codes = looked[codes]
    return codes if starts is None else np.repeat(codes, np.diff(np.append(starts, len(values))))


def _value_column(frame: pd.DataFrame, column: str, origin) -> np.ndarray:
    """Numbers of zero or more: numeric columns as they are, text parsed (blanks and words fail)."""
    series = _column(frame, column, origin, "value").reset_index(drop=True)
    dtype = series.dtype
    if dtype == np.float64:
        values = series.to_numpy()  # (a view: a missing value is already NaN)
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        # Text is parsed as it is (the parser skips spaces); anything else as its text, so
        # True is a word, not 1.
        text = series if isinstance(dtype, pd.StringDtype) else _as_text(series)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
        retry = np.flatnonzero(np.isnan(values))
        if len(retry):  # whitespace the parser does not skip (e.g. a full-width space)
            values[retry] = pd.to_numeric(_as_text(series.iloc[retry]), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan)
    low, high = (values.min(), values.max()) if len(values) else (0.0, 0.0)
    if not (low >= 0 and high <= MAX_TABLE_VALUE):  # (NaN fails both; a reduction allocates no mask)
        row = _first_row(~np.isfinite(values) | (values < 0) | (values > MAX_TABLE_VALUE))
        raise DataError(f"'{series.iloc[row]}' is not a number of zero or more (at most "
                        f"{MAX_TABLE_VALUE:,.0f}).",
                        file=origin, row=spreadsheet_row(row), column=column,
                        fix="Use plain non-negative numbers (a dot for decimals) in the column's unit.")
    return values


MAX_TABLE_VALUE = 1e9
"""The largest demand, supply or cost a table may hold (people, capacity, minutes or metres): far
above any real value, far below where sums overflow or lose their units."""


def check_max_cost(max_cost: float) -> None:
    """``--max-cost`` must be a finite positive number no larger than :data:`MAX_TABLE_VALUE`."""
    if not (np.isfinite(max_cost) and 0 < max_cost <= MAX_TABLE_VALUE):
        raise DataError(f"--max-cost {max_cost} must be a positive number no larger than "
                        f"{MAX_TABLE_VALUE:,.0f}.", fix="Give the catchment in the cost table's unit "
                                                        "(minutes or metres).")


def accessibility_from_tables(demand: pd.DataFrame, supply: pd.DataFrame, costs: pd.DataFrame, *,
                              method: str = "2sfca", max_cost: float, decay: str | None = None,
                              demand_id: str = "id", demand_value: str = "population",
                              supply_id: str = "id", supply_value: str = "supply",
                              cost_origin: str = "origin_id", cost_destination: str = "destination_id",
                              cost_value: str = "cost", origins: Mapping[str, object] | None = None
                              ) -> pd.DataFrame:
    """2SFCA / E2SFCA from id tables (a planner's own travel-time matrix).

    Parameters
    ----------
    demand, supply, costs
        Tables as read (text keeps leading zeros; numeric columns are fine too).  Costs are long
        form, origin = demand id, destination = supply id; pairs absent are out of reach.  Ids
        are compared as stripped text.
    method
        ``2sfca`` (decay default ``step``: 1 within ``max_cost``) or ``e2sfca`` (default: PySAL's
        stepped weights scaled to ``max_cost``).
    max_cost
        The catchment, in the costs' unit.
    decay
        ``step`` | ``gaussian`` | ``gravity`` (see :func:`~geo_coverage.access.decay_from_name`),
        overriding the default.
    demand_id, demand_value, supply_id, supply_value, cost_origin, cost_destination, cost_value
        Column names.
    origins
        ``{'demand': path, 'supply': path, 'costs': path}`` for error messages.

    Returns
    -------
    pandas.DataFrame
        ``id, accessibility``: one row per demand id in file order, 0 where nothing is in reach.

    Raises
    ------
    DataError
        A missing column, an empty, duplicate or unknown id, or a value that is not a number of
        zero or more, naming the file, row and column.
    """
    where = dict(origins or {})
    if method not in METHODS:
        raise DataError(f"Unknown method '{method}'.", fix="Use 2sfca or e2sfca.")
    check_max_cost(max_cost)
    demand_ids = _id_column(demand, demand_id, where.get("demand"))
    population = _value_column(demand, demand_value, where.get("demand"))
    supply_ids = _id_column(supply, supply_id, where.get("supply"))
    capacity = _value_column(supply, supply_value, where.get("supply"))
    origin = _positions(costs, cost_origin, demand_ids, origin=where.get("costs"), what="demand")
    destination = _positions(costs, cost_destination, supply_ids, origin=where.get("costs"), what="supply")
    cost = _value_column(costs, cost_value, where.get("costs"))
    table = CostTable.from_arrays(origin, destination, cost, n_origins=len(demand_ids),
                                  n_destinations=len(supply_ids))
    if decay is not None:
        weight = decay_from_name(decay, max_cost=max_cost)
    elif method == "e2sfca":
        weight = step_decay(e2sfca_steps(max_cost))
    else:
        weight = None
    accessibility = two_step_fca(population, capacity, table, max_cost=max_cost, decay=weight)
    return pd.DataFrame({"id": demand_ids, "accessibility": accessibility})
