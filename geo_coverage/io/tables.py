"""Tables: CSV and XLSX out (one writer per format, bytes that depend only on content), CSV and
XLSX in (every cell as text, so codes keep their leading zeros)."""

from __future__ import annotations

import io as _stdlib_io
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .files import write_bytes

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = [
    "MAX_TABLE_ROWS",
    "row_limit_fix",
    "neutralise_formulas",
    "dataframe_to_csv_bytes",
    "dataframe_to_xlsx_bytes",
    "write_csv",
    "read_csv",
    "read_xlsx",
]


# Text a spreadsheet runs as a formula when it starts a cell (OWASP "CSV injection"): = + - @,
# and a tab or carriage return that Excel skips before one of them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _neutralise_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _text_cells(column: pd.Series, test) -> np.ndarray:
    """Where ``test`` (vectorised over ``.str``) holds for the column's text cells; other cells
    (numbers, blanks in an object column) never match."""
    import numpy as np

    try:
        found = test(column)
    except AttributeError:  # an object column without any text
        return np.zeros(len(column), dtype=bool)
    is_text = column.map(type).eq(str).to_numpy() if column.dtype == object else np.ones(len(column), bool)
    return found.fillna(False).to_numpy(dtype=bool) & is_text


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell and header that a spreadsheet would run as a formula
    prefixed with a single quote (the OWASP rule for CSV injection).

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return - a street name
    ``=HYPERLINK("http://...")`` from an imported file, a facility id, a scenario name - becomes
    ``'=HYPERLINK(...)``: Excel and WPS show it as text, and the characters are all still there.
    Numbers stay numbers (numeric columns are never touched), and so does text that is a plain
    number such as ``-5``.  Every tabular export (:func:`dataframe_to_csv_bytes`,
    :func:`dataframe_to_xlsx_bytes`) goes through it.

    Parameters
    ----------
    frame
        Any table.

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself when nothing needed changing, else a neutralised copy.
    """
    import pandas as pd

    changed: dict[int, pd.Series] = {}
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
            continue
        risky = _text_cells(column, lambda text: text.str[:1].isin(_FORMULA_STARTS))
        if risky.any():
            values = column.astype(object).to_numpy(copy=True)
            values[risky] = [_neutralise_text(v) for v in values[risky]]
            changed[position] = pd.Series(values, index=frame.index, name=column.name, dtype=object)
    headers = [_neutralise_text(h) for h in frame.columns]
    if not changed and headers == list(frame.columns):
        return frame
    out = frame.copy()
    for position, values in changed.items():
        out.isetitem(position, values)
    out.columns = headers
    return out


def dataframe_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with a BOM, so Excel shows Chinese headers and names correctly; text that a
    spreadsheet would run as a formula is neutralised (:func:`neutralise_formulas`).

    Parameters
    ----------
    frame
        The table; its index is not written.

    Returns
    -------
    bytes
        The CSV file's content.
    """
    return _line_breaks_quoted(neutralise_formulas(frame)).to_csv(index=False).encode("utf-8-sig")


def _line_breaks_quoted(frame: pd.DataFrame) -> pd.DataFrame:
    """Carriage returns inside text as line feeds: pandas quotes a cell holding '\\n' but not one
    holding a bare '\\r', which Excel reads as the end of the row - the rest of the cell would
    start a new row of its own (and could be a formula there)."""
    import pandas as pd

    changed = {}
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            has_cr = _text_cells(column, lambda text: text.str.contains("\r", regex=False))
            if has_cr.any():
                values = column.astype(object).to_numpy(copy=True)
                values[has_cr] = [v.replace("\r\n", "\n").replace("\r", "\n") for v in values[has_cr]]
                changed[position] = pd.Series(values, index=frame.index, name=column.name, dtype=object)
    if not changed:
        return frame
    out = frame.copy()
    for position, values in changed.items():
        out.isetitem(position, values)
    return out


def write_csv(frame: pd.DataFrame, target: str | Path) -> Path:
    """Write ``frame`` as CSV (see :func:`dataframe_to_csv_bytes`) atomically; returns ``target``."""
    return write_bytes(dataframe_to_csv_bytes(frame), target)


def dataframe_to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *,
                            notes: Mapping[str, str] | None = None,
                            notes_headers: tuple[str, str, str] = ("说明 About", "项目 Item",
                                                                   "说明 About")) -> bytes:
    """An XLSX workbook: one sheet per frame, frozen header row, column widths fitted to content.

    The bytes depend only on the content: the same tables give the same file (the workbook's
    timestamps are fixed), so a download from the app equals the CLI's file.  Text that a
    spreadsheet would run is neutralised (:func:`neutralise_formulas`) and every text cell is
    written as a string, never as a formula; numbers stay numbers.

    Parameters
    ----------
    sheets
        Sheet name (cut to Excel's 31 characters) → table.
    notes
        Item → text, written as a separate '说明 About' sheet so the data sheets keep a clean
        header row.
    notes_headers
        The notes sheet's name and its two column headers (one language for a one-language
        export: ``("About", "Item", "Note")``).

    Returns
    -------
    bytes
        The workbook.
    """
    import pandas as pd
    from openpyxl.utils import get_column_letter

    buffer = _stdlib_io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = neutralise_formulas(frame)
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            _never_formulas(sheet)
            sheet.freeze_panes = "A2"
            for position, column in enumerate(frame.columns):
                cells = frame.iloc[:200, position].tolist()  # by position: headers may repeat
                values = [str(column)] + [str(v) for v in cells]
                width = max(_display_width(v) for v in values) + 2
                sheet.column_dimensions[get_column_letter(position + 1)].width = min(max(width, 8), 60)
        if notes:
            sheet_name, item, text = notes_headers
            about = pd.DataFrame({text: list(notes.values())}, index=list(notes.keys()))
            about.index.name = item
            neutralise_formulas(about.reset_index()).to_excel(writer, sheet_name=sheet_name[:31], index=False)
            _never_formulas(writer.sheets[sheet_name[:31]])
            writer.sheets[sheet_name[:31]].column_dimensions["A"].width = 24
            writer.sheets[sheet_name[:31]].column_dimensions["B"].width = 100
    return _reproducible_zip(buffer.getvalue())


def _never_formulas(sheet) -> None:
    """openpyxl stores any text starting with '=' as a formula: type such cells as strings."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIMESTAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _reproducible_zip(data: bytes) -> bytes:
    """The same Office file with fixed entry times and document dates (openpyxl stamps 'now')."""
    out = _stdlib_io.BytesIO()
    with zipfile.ZipFile(_stdlib_io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = _CORE_TIMESTAMP.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            info = zipfile.ZipInfo(entry.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = entry.external_attr
            target.writestr(info, content)
    return out.getvalue()


def _display_width(text: str) -> int:
    # CJK characters take two columns in Excel's default font.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def read_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a UTF-8 CSV keeping every column as text (codes and ids keep their leading zeros).

    Parameters
    ----------
    path
        The CSV file (a BOM is allowed).
    **kwargs
        Passed on to :func:`pandas.read_csv`.

    Returns
    -------
    pandas.DataFrame
        Text cells; blank cells are ``""``.

    Raises
    ------
    DataError
        The file is missing, not UTF-8, empty or malformed.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError:
        raise DataError("The file is not UTF-8 text.", file=path,
                        fix="Save it as UTF-8 (or use `geo-coverage import`, which detects GBK).") from None
    except pd.errors.EmptyDataError:
        raise DataError("The file is empty.", file=path, fix="Export the table again with its header row.") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"Malformed CSV: {str(exc).splitlines()[0]}", file=path,
                        fix="Check quoting and the number of columns in every row.") from None


MAX_TABLE_ROWS = 100_000
"""Rows a register or population table may hold unless the caller raises it (``--max-rows``):
Beijing has about 7,000 units and a city's register a few thousand facilities; reading 100,000
workbook rows takes about 10 s."""
MAX_XLSX_COLUMNS = 1_000
MAX_XLSX_UNPACKED_BYTES = 512 * 1024 * 1024
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?\"")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _too_many_rows(rows: int, max_rows: int, name: str, *, declared: bool = False) -> DataError:
    what = f"declares {rows:,} rows" if declared else f"has more than {max_rows:,} rows"
    return DataError(f"The workbook {what}; at most {max_rows:,} rows are read.", file=name,
                     fix=row_limit_fix(max(rows, max_rows * 2)))


def row_limit_fix(suggested: int) -> str:
    """How to get past the row limit, for every table reader's message."""
    return ("Check that this is the right file (an empty sheet formatted down to Excel's last row "
            "counts too); if the table really is that long, raise the limit with "
            f"--max-rows {suggested}.")


def _check_workbook(archive: zipfile.ZipFile, *, name: str, max_rows: int) -> None:
    """Refuse before reading: members that unpack beyond the cap, sheets declaring more rows
    than allowed (or more columns than any table has)."""
    total = sum(info.file_size for info in archive.infolist())
    if total > MAX_XLSX_UNPACKED_BYTES:
        raise DataError(f"The workbook unpacks to {total / 1e6:,.0f} MB, more than the "
                        f"{MAX_XLSX_UNPACKED_BYTES / 1e6:,.0f} MB allowed.", file=name,
                        fix="Save only the table's sheet, or export it as CSV UTF-8.")
    for info in archive.infolist():
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        with archive.open(info) as member:
            head = member.read(4096)
            match = _DIMENSION.search(head)
            if match and match.group(4):
                rows = int(match.group(4)) - int(match.group(2) or 1) + 1
                columns = (_column_number(match.group(3).decode())
                           - _column_number((match.group(1) or b"A").decode()) + 1)
                if rows > max_rows + 1:
                    raise _too_many_rows(rows, max_rows, name, declared=True)
                if columns > MAX_XLSX_COLUMNS:
                    raise DataError(f"The workbook declares {columns:,} columns; a table has at most "
                                    f"{MAX_XLSX_COLUMNS:,}.", file=name,
                                    fix="Delete the empty formatted columns (or save the table as CSV UTF-8).")
            # The declaration can lie: count the rows really there, at the speed of unpacking.
            rows, tail, chunk = 0, b"", head
            while chunk:
                text = tail + chunk
                rows += len(_ROW_TAG.findall(text)) - len(_ROW_TAG.findall(tail))
                if rows > max_rows + 1:
                    raise _too_many_rows(rows, max_rows, name)
                tail, chunk = text[-16:], member.read(1 << 20)


def _cell_text(value: Any) -> str:
    # As pandas reads cells: integral numbers without '.0', blanks empty.
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes, *, name: str, max_rows: int = MAX_TABLE_ROWS) -> dict[str, pd.DataFrame]:
    """Every sheet of an XLSX workbook as a grid of text cells, no header row taken.

    Bounded before and while reading: the members may unpack to at most
    :data:`MAX_XLSX_UNPACKED_BYTES`, a sheet may declare at most ``max_rows`` rows and
    :data:`MAX_XLSX_COLUMNS` columns, and the rows are streamed (openpyxl's read-only mode), so a
    sheet whose declared size lies is still stopped at ``max_rows`` rows (a 1 MB workbook can hold
    a million rows).

    Parameters
    ----------
    data
        The workbook's bytes.
    name
        The file name, for messages.
    max_rows
        The most rows read from the workbook (``--max-rows``; default :data:`MAX_TABLE_ROWS`).

    Returns
    -------
    dict of str to pandas.DataFrame
        Sheet name → its cells (blank cells ``""``), in the workbook's order.

    Raises
    ------
    DataError
        The workbook is damaged, too large, or has no sheets.
    """
    import pandas as pd
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(_stdlib_io.BytesIO(data)) as archive:
            _check_workbook(archive, name=name, max_rows=max_rows)
        with warnings.catch_warnings():  # openpyxl's notes on styles/extensions it skips are not for planners
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            workbook = load_workbook(_stdlib_io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
            sheets: dict[str, pd.DataFrame] = {}
            read = 0
            try:
                for sheet in workbook.worksheets:
                    # The declared dimension bounds openpyxl's read-only rows: a sheet declaring
                    # A1:C4 over 400,000 rows would be read as 4 rows.  Read every row there is
                    # (bounded by max_rows below) instead of trusting it.
                    sheet.reset_dimensions()
                    grid: list[list[str]] = []
                    for row in sheet.iter_rows(values_only=True):
                        read += 1
                        if read > max_rows + 1:
                            raise _too_many_rows(read, max_rows, name)
                        if len(row) > MAX_XLSX_COLUMNS:
                            raise DataError(f"Row {len(grid) + 1} of the workbook has {len(row):,} cells; a "
                                            f"table has at most {MAX_XLSX_COLUMNS:,} columns.", file=name,
                                            fix="Delete the empty formatted columns (or save the table as "
                                                "CSV UTF-8).")
                        cells = [_cell_text(value) for value in row]
                        while cells and cells[-1] == "":
                            cells.pop()
                        grid.append(cells)
                    while grid and not grid[-1]:
                        grid.pop()
                    width = max((len(row) for row in grid), default=0)
                    sheets[sheet.title] = pd.DataFrame([row + [""] * (width - len(row)) for row in grid],
                                                       dtype=object).astype(str) if grid else pd.DataFrame()
            finally:
                workbook.close()
    except DataError:
        raise
    except Exception as exc:  # openpyxl/zipfile raise many types for damaged workbooks
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"Cannot read the workbook: {reason}", file=name,
                        fix="Open it in Excel and save it again as .xlsx.") from None
    if not sheets:
        raise DataError("The workbook has no sheets.", file=name, fix="Export the table again.")
    return sheets
