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
    import pandas as pd

__all__ = [
    "dataframe_to_csv_bytes",
    "dataframe_to_xlsx_bytes",
    "write_csv",
    "read_csv",
    "read_xlsx",
]


def dataframe_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with a BOM, so Excel shows Chinese headers and names correctly.

    Parameters
    ----------
    frame
        The table; its index is not written.

    Returns
    -------
    bytes
        The CSV file's content.
    """
    return frame.to_csv(index=False).encode("utf-8-sig")


def write_csv(frame: pd.DataFrame, target: str | Path) -> Path:
    """Write ``frame`` as CSV (see :func:`dataframe_to_csv_bytes`) atomically; returns ``target``."""
    return write_bytes(dataframe_to_csv_bytes(frame), target)


def dataframe_to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *,
                            notes: Mapping[str, str] | None = None,
                            notes_headers: tuple[str, str, str] = ("说明 About", "项目 Item",
                                                                   "说明 About")) -> bytes:
    """An XLSX workbook: one sheet per frame, frozen header row, column widths fitted to content.

    The bytes depend only on the content: the same tables give the same file (the workbook's
    timestamps are fixed), so a download from the app equals the CLI's file.

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
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
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
            about.reset_index().to_excel(writer, sheet_name=sheet_name[:31], index=False)
            writer.sheets[sheet_name[:31]].column_dimensions["A"].width = 24
            writer.sheets[sheet_name[:31]].column_dimensions["B"].width = 100
    return _reproducible_zip(buffer.getvalue())


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


def read_xlsx(data: bytes, *, name: str) -> dict[str, pd.DataFrame]:
    """Every sheet of an XLSX workbook as a grid of text cells, no header row taken.

    Parameters
    ----------
    data
        The workbook's bytes.
    name
        The file name, for messages.

    Returns
    -------
    dict of str to pandas.DataFrame
        Sheet name → its cells (blank cells ``""``), in the workbook's order.

    Raises
    ------
    DataError
        The workbook is damaged or has no sheets.
    """
    import pandas as pd

    try:
        with warnings.catch_warnings():  # openpyxl's notes on styles/extensions it skips are not for planners
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            sheets = pd.read_excel(_stdlib_io.BytesIO(data), sheet_name=None, header=None, dtype=str,
                                   keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl/zipfile raise many types for damaged workbooks
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"Cannot read the workbook: {reason}", file=name,
                        fix="Open it in Excel and save it again as .xlsx.") from None
    if not sheets:
        raise DataError("The workbook has no sheets.", file=name, fix="Export the table again.")
    return sheets
