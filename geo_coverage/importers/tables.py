"""Text and tables: decoding (UTF-8, GBK, GB18030, UTF-16) and CSV / XLSX bytes parsed into a frame
of text cells whose rows keep the numbers Excel shows."""

from __future__ import annotations

import csv
import io as _stdlib_io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import io
from ..errors import DataError
from .headers import cell_header, header_row

__all__ = ["TABLE_SUFFIXES", "decode_text", "parse_table"]

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")

_ENCODING_ALIASES = {"utf8": "utf-8", "utf-8": "utf-8", "utf8bom": "utf-8-sig", "utf-8-sig": "utf-8-sig",
                     "utf8sig": "utf-8-sig", "gbk": "gbk", "cp936": "gbk", "gb2312": "gbk",
                     "gb18030": "gb18030", "utf16": "utf-16", "utf-16": "utf-16",
                     "utf32": "utf-32", "utf-32": "utf-32"}
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MALFORMED_FIX = "Check quoting and the number of columns in every row."
_EMPTY_FIX = "Export the table again with its header row."


def decode_text(data: bytes, *, encoding: str | None = None, origin: str | Path | None = None) -> tuple[str, str]:
    """Decode a text file: the declared encoding, or one detected.

    Parameters
    ----------
    data
        The file's bytes.
    encoding
        ``utf-8``, ``utf-8-sig``, ``gbk`` (``cp936``, ``gb2312``), ``gb18030`` or ``utf-16``;
        ``None`` detects UTF-8 (with or without a BOM), UTF-16 with a BOM, GBK and GB18030.
    origin
        The file name, for messages.

    Returns
    -------
    tuple of (str, str)
        The text (without a BOM) and the encoding used.

    Raises
    ------
    DataError
        Unknown encoding, or bytes that do not decode (naming what they do decode as).
    """
    if encoding:
        key = str(encoding).strip().lower().replace("_", "-")
        name = _ENCODING_ALIASES.get(key, _ENCODING_ALIASES.get(key.replace("-", "")))
        if name is None:
            raise DataError(f"Unknown encoding '{encoding}'.", file=origin,
                            fix="Use utf-8, utf-8-sig, gbk or gb18030, or leave it out to detect it.")
        try:
            text = data.decode(name)
        except UnicodeDecodeError as exc:
            other = _detect(data)
            hint = f" It reads as {other[1]}." if other else ""
            raise DataError(f"The file is not {name} text (byte {exc.start} cannot be decoded).{hint}",
                            file=origin, fix=(f"Declare --encoding {other[1]}, or leave --encoding out to detect it."
                                              if other else "Save the file as UTF-8.")) from None
        return text.lstrip("\ufeff"), name
    detected = _detect(data)
    if detected is None:
        for width, looks_like in ((32, _utf32_without_bom), (16, _utf16_without_bom)):
            if looks_like(data):
                raise DataError(f"The file is UTF-{width} text without a byte-order mark, so its encoding is "
                                "unclear.", file=origin, fix="Save it as CSV UTF-8 (Excel: 'CSV UTF-8').")
        raise DataError("The file is not text in UTF-8, GBK or GB18030.", file=origin,
                        fix="Save it as CSV UTF-8 (Excel: 'CSV UTF-8') or upload the .xlsx itself.")
    return detected


def _detect(data: bytes) -> tuple[str, str] | None:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return None
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # UTF-32 (its BOM starts like UTF-16's)
        try:
            return data.decode("utf-32"), "utf-32"
        except UnicodeDecodeError:
            return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None
    for name in ("utf-8", "gbk", "gb18030"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return None


def parse_table(data: bytes, *, name: str, encoding: str | None = None,
                max_rows: int = io.MAX_TABLE_ROWS) -> tuple[pd.DataFrame, dict]:
    """Parse CSV or XLSX bytes into a frame of text cells (codes keep their leading zeros).

    The header is the first of the first ten rows holding at least two recognised headers (a
    title row above the table is skipped), else the first row; a workbook's first sheet holding
    such a row is read (else its first sheet).

    Parameters
    ----------
    data
        The file's bytes.
    name
        The file name: its suffix picks XLSX (``.xlsx``, ``.xlsm``) or CSV (anything else).
    encoding
        The CSV's declared encoding (see :func:`decode_text`); ``None`` detects it.
    max_rows
        The most rows read (``--max-rows``); a longer table is refused before it is parsed whole.

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The frame (blank cells are ``""``; ``frame.attrs['row_numbers']`` the file row of each)
        and ``{'encoding', 'format', 'first_row'`` (the file row of the first data row)``,
        'row_numbers', 'sheet', 'duplicate_headers'}``.

    Raises
    ------
    DataError
        The file is empty, not the format its name says, undecodable or malformed.
    """
    suffix = Path(name).suffix.lower()
    if not data or not data.strip():
        raise DataError("The file is empty.", file=name, fix=_EMPTY_FIX)
    if suffix in (".xlsx", ".xlsm"):
        grid, info = _workbook_grid(data, name=name, max_rows=max_rows)
        widened = False
    elif suffix == ".xls":
        raise DataError("Old Excel .xls workbooks are not read.", file=name,
                        fix="Open it in Excel and save as .xlsx (or CSV UTF-8).")
    else:
        grid, info, widened = _csv_text_grid(data, name=name, suffix=suffix, encoding=encoding,
                                             max_rows=max_rows)
    return _frame_below_header(grid.fillna("").astype(str), info, widened=widened, name=name)


def _workbook_grid(data: bytes, *, name: str, max_rows: int) -> tuple[pd.DataFrame, dict]:
    """The cells of the workbook's sheet holding a header row (else its first sheet)."""
    if data.startswith(_OLE2_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise DataError("The workbook is password-protected (encrypted), so it cannot be read.", file=name,
                            fix="Open it in Excel, remove the password (File > Info > Protect Workbook) "
                                "and save it again as .xlsx.")
        raise DataError("The file is an old Excel .xls workbook (or another Office file) named .xlsx.",
                        file=name, fix="Open it in Excel and save as .xlsx (or CSV UTF-8).")
    if _looks_like_markup(data):
        raise DataError("The file is a web page (HTML/XML), not an Excel .xlsx workbook.", file=name,
                        fix="Open it in Excel and save as .xlsx, or as CSV UTF-8.")
    if not data.startswith(b"PK"):
        raise DataError("The file is not an Excel .xlsx workbook.", file=name,
                        fix="Open it in Excel and save as .xlsx, or as CSV UTF-8.")
    sheets = io.read_xlsx(data, name=name, max_rows=max_rows)
    chosen = next((sheet for sheet, grid in sheets.items() if header_row(grid.fillna("")) is not None),
                  next(iter(sheets)))
    return sheets[chosen], {"encoding": "xlsx", "format": "xlsx", "sheet": str(chosen)}


def _csv_text_grid(data: bytes, *, name: str, suffix: str, encoding: str | None,
                   max_rows: int) -> tuple[pd.DataFrame, dict, bool]:
    """The CSV's cells, the encoding used, and whether it was read wider than its first line."""
    if data.startswith((_OLE2_MAGIC, b"PK\x03\x04")):
        raise DataError("The file is an Excel workbook (or another binary file), not CSV text.", file=name,
                        fix="Give it its real suffix (.xlsx), or save it from Excel as CSV UTF-8.")
    if _looks_like_markup(data):
        raise DataError("The file is a web page (HTML/XML), not a CSV table.", file=name,
                        fix="Open it in Excel and save it as CSV UTF-8 or .xlsx (systems that export "
                            "'Excel' as HTML need this step).")
    text, used = decode_text(data, encoding=encoding, origin=name)
    text = text.rstrip("\x1a")  # DOS end-of-file marker
    if "\ufffd" in text or "锟斤拷" in text:
        raise DataError("The text holds replacement characters (\ufffd or 锟斤拷): it was saved after "
                        "being read with the wrong encoding, and the original characters are lost.",
                        file=name, fix="Export the table again from the original source.")
    if "\x00" in text:
        if _utf32_without_bom(data):
            raise DataError("The file is UTF-32 text without a byte-order mark, so its encoding is unclear.",
                            file=name, fix="Save it as CSV UTF-8 (Excel: 'CSV UTF-8'), or as UTF-32 with its "
                                           "byte-order mark.")
        if _utf16_without_bom(data):
            raise DataError("The file is UTF-16 text without a byte-order mark, so its encoding is unclear.",
                            file=name, fix="Save it as CSV UTF-8 (Excel: 'CSV UTF-8'), or as "
                                           "'Unicode text' (UTF-16 with its BOM).")
        raise DataError("The file holds NUL bytes: it is not a CSV table.", file=name,
                        fix="Upload the .xlsx itself, or save it as CSV UTF-8.")
    separator = _separator(text, suffix=suffix, name=name)
    _check_csv_rows(text, separator, name=name, max_rows=max_rows)
    grid, widened = _csv_grid(text, separator, name=name)
    return grid, {"encoding": used, "format": "csv"}, widened


def _check_csv_rows(text: str, separator: str, *, name: str, max_rows: int) -> None:
    """Refuse a CSV of more than ``max_rows`` rows before building its grid (cheap line count
    first; records counted only when the lines exceed the limit, as quoted cells may span lines)."""
    if text.count("\n") + text.count("\r") <= max_rows + 1:
        return
    reader = csv.reader(_stdlib_io.StringIO(text, newline=""), delimiter=separator)
    for records, _ in enumerate(reader, start=1):
        if records > max_rows + 1:
            raise DataError(f"The table has more than {max_rows:,} rows; at most {max_rows:,} are read.",
                            file=name, fix=io.row_limit_fix(max_rows * 2))


def _separator(text: str, *, suffix: str, name: str) -> str:
    """The cell separator, judged from the first line: ',' unless only tabs or ';' appear there."""
    first_line = text.lstrip().split("\n", 1)[0]
    if suffix == ".tsv" or ("\t" in first_line and "," not in first_line):
        return "\t"
    if ";" in first_line and "," not in first_line:
        return ";"
    if "，" in first_line and "," not in first_line:
        raise DataError("The cells are separated by full-width commas (，), not ',' (the header reads "
                        f"'{first_line.strip()[:60]}').", file=name, row=1,
                        fix="Save the table from Excel as CSV UTF-8 (it separates cells with ','), "
                            "or replace the '，' between cells with ','.")
    return ","


def _frame_below_header(grid: pd.DataFrame, info: dict, *, widened: bool, name: str) -> tuple[pd.DataFrame, dict]:
    """The data rows under the header row, named by it, blank rows dropped (each row keeps the
    number Excel shows for it)."""
    filled = grid.apply(lambda column: column.str.strip() != "").any(axis=1).to_numpy()
    if not filled.any():
        raise DataError("The file is empty.", file=name, fix=_EMPTY_FIX)
    # Leading blank rows are skipped; the header is found among the next rows.
    start = int(np.argmax(filled))
    header = start + (header_row(grid.iloc[start:]) or 0)
    if info.get("format") == "csv" and widened:
        grid = _cut_to_header_width(grid, header, name=name)
    headers = [cell_header(c, i) for i, c in enumerate(grid.iloc[header].tolist())] if len(grid) else []
    counts = pd.Series(headers, dtype=object).value_counts()
    info["duplicate_headers"] = sorted(counts[counts > 1].index.tolist())
    body = np.flatnonzero(filled[header + 1:]) + header + 1
    frame = grid.iloc[body].reset_index(drop=True)
    frame.columns = pd.Index(_numbered_duplicates(headers), dtype=object)
    info["first_row"] = header + 2
    info["row_numbers"] = (body + 1).tolist()
    frame.attrs["row_numbers"] = info["row_numbers"]
    return frame, info


def _cut_to_header_width(grid: pd.DataFrame, header: int, *, name: str) -> pd.DataFrame:
    """A CSV read wider than its first line (a short title line above the header) is as wide as
    its header; a data row with more cells is malformed, as pandas would say."""
    cells = grid.iloc[header].str.strip().to_numpy() != ""
    width = int(np.flatnonzero(cells)[-1]) + 1 if cells.any() else grid.shape[1]
    beyond = grid.iloc[header + 1:, width:].apply(lambda c: c.str.strip() != "").any(axis=1).to_numpy()
    if beyond.any():
        row = header + 2 + int(np.argmax(beyond))
        count = int(np.flatnonzero(grid.iloc[row - 1].str.strip().to_numpy() != "")[-1]) + 1
        raise DataError(f"Malformed CSV: row {row} has {count} cells where the header has {width}.", file=name,
                        row=row, fix=_MALFORMED_FIX)
    return grid.iloc[:, :width]


def _numbered_duplicates(headers: list[str]) -> list[str]:
    """Repeated headers get a position suffix ('name (2)') so each column stays addressable."""
    seen: dict[str, int] = {}
    unique = []
    for text in headers:
        seen[text] = seen.get(text, 0) + 1
        unique.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return unique


def _csv_grid(text: str, separator: str, *, name: str) -> tuple[pd.DataFrame, bool]:
    """The CSV's cells as text, blank lines kept (so row numbers stay those Excel shows), and
    whether it had to be read wider than its first line (a title line with fewer cells)."""
    def read(**options: Any) -> pd.DataFrame:
        return pd.read_csv(_stdlib_io.StringIO(text), dtype=str, keep_default_na=False, sep=separator, header=None,
                           skipinitialspace=True, skip_blank_lines=False, **options)

    try:
        return read(), False
    except pd.errors.EmptyDataError:
        raise DataError("The file is empty.", file=name, fix=_EMPTY_FIX) from None
    except (pd.errors.ParserError, ValueError, IndexError, TypeError, OverflowError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
    row = None
    # pandas counts lines from 1 ("in line 5") but rows from 0 ("starting at row 1")
    if found := re.search(r"EOF inside string starting at row (\d+)", reason):
        row = int(found.group(1)) + 1
        reason = f"a quoted cell opened on row {row} is never closed"
    elif found := re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", reason):
        row = int(found.group(2))
        if row <= 11:  # within the rows a header is looked for: maybe a title line above it
            width = max((len(cells) for cells in csv.reader(_stdlib_io.StringIO(text), delimiter=separator)),
                        default=0)
            try:
                return read(names=range(width)), True
            except (pd.errors.ParserError, ValueError, IndexError, TypeError, OverflowError):
                pass
        reason = f"row {row} has {found.group(3)} cells where the rows above have {found.group(1)}"
    raise DataError(f"Malformed CSV: {reason}.", file=name, row=row, fix=_MALFORMED_FIX)


def _looks_like_markup(data: bytes) -> bool:
    """An HTML page or XML document (e.g. a web system's 'Excel' export, or a saved page)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<table", b"<head", b"<body"))


def _utf32_without_bom(data: bytes) -> bool:
    # Text below U+10000 in UTF-32 has three zero bytes in every four (LE: bytes 1-3, BE: 0-2).
    sample = data[: len(data[:4000]) // 4 * 4]
    if len(sample) < 8:
        return False
    quarter = len(sample) // 4
    little = sum(sample[i::4].count(0) for i in (1, 2, 3)) > 0.9 * 3 * quarter
    big = sum(sample[i::4].count(0) for i in (0, 1, 2)) > 0.9 * 3 * quarter
    return little or big


def _utf16_without_bom(data: bytes) -> bool:
    sample = data[:2000]
    return len(sample) >= 4 and (sample[1::2].count(0) > 0.4 * len(sample[1::2])
                                 or sample[0::2].count(0) > 0.4 * len(sample[0::2]))


def table_rows(table: pd.DataFrame, info: Mapping[str, Any] | None) -> np.ndarray:
    """The file row (as Excel shows it) of each of the table's rows."""
    for source in (info or {}, table.attrs):
        numbers = source.get("row_numbers")
        if numbers is not None and len(numbers) == len(table):
            return np.asarray(numbers, dtype=int)
    return np.arange(len(table)) + int((info or {}).get("first_row", 2))
