"""Bringing a planner's own files in: parsing and validation on bytes and frames.

Every check returns a list of :class:`Problem` (it never stops at the first one), so a planner
sees every mistake in a file at once.  Disk access goes through :mod:`geo_coverage.io`; this
module only parses bytes and checks frames, so the app's upload page can call the same functions
on uploaded bytes.

The entry points, each returning an :class:`ImportResult` (``frame``, ``problems``, ``report``):

* :func:`import_facilities` / :func:`parse_facilities` - a facility register (CSV/XLSX bytes)
  with lon/lat or WKT, headers in Chinese or English, any of UTF-8, UTF-8 with BOM, GBK, GB18030,
  coordinates in WGS84, GCJ-02 or BD-09 (converted to WGS84).
* :func:`import_boundaries` / :func:`check_boundaries` - unit outlines in any CRS.
* :func:`import_population` / :func:`join_population` - a population table joined by unit code.
"""

from __future__ import annotations

import io as _bytes_io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import datum as datum_module
from . import io
from .dataset import POPULATION_COLUMNS
from .errors import DataError, DataWarning, GeoCoverageError

__all__ = [
    "Problem",
    "ImportResult",
    "SEVERITIES",
    "FACILITY_HEADERS",
    "BOUNDARY_HEADERS",
    "POPULATION_HEADERS",
    "decode_text",
    "parse_table",
    "parse_column_map",
    "parse_facilities",
    "facilities_from_table",
    "import_facilities",
    "check_boundaries",
    "import_boundaries",
    "join_population",
    "import_population",
    "FacilityInput",
    "check_import",
    "import_folder",
    "datum_evidence",
    "has_errors",
    "format_problems",
]

SEVERITIES = ("error", "warning")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
# Beijing's bounding box with a margin: used only to tell swapped coordinates from real ones.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``error``) or doubtful (``warning``) in an input file.

    ``row`` is the row as a spreadsheet shows it (header = row 1) for tables, and the 1-based
    feature number for vector files.
    """

    severity: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    fix: str | None = None

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def __str__(self) -> str:
        from .errors import format_location

        where = format_location(self.file, self.row, self.column)
        text = f"{where}: {self.severity}: {self.message}" if where else f"{self.severity}: {self.message}"
        return f"{text} Fix: {self.fix}" if self.fix else text

    @classmethod
    def from_error(cls, error: GeoCoverageError, *, file=None) -> "Problem":
        return cls("error", error.message, file=error.file or (None if file is None else str(file)),
                   row=error.row, column=error.column, fix=error.fix)

    def to_dict(self) -> dict:
        return {"severity": self.severity, "file": self.file, "row": self.row, "column": self.column,
                "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class ImportResult:
    """What a reader produced: a frame (``None`` when errors made it unusable), every problem,
    and a report of figures (rows read, encoding, datum, unmatched codes, datum evidence)."""

    frame: object
    problems: tuple[Problem, ...] = ()
    report: Mapping[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def has_errors(problems: Sequence[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def format_problems(problems: Sequence[Problem]) -> str:
    """One line per problem, errors first (stable within each severity)."""
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    return "\n".join(str(p) for p in ordered)


# --- header recognition -----------------------------------------------------------------------

FACILITY_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "机构编号", "机构代码", "设施编号", "统一社会信用代码", "序号", "no", "identifier"),
    "name": ("name", "名称", "机构名称", "单位名称", "设施名称", "名字", "机构"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "x", "东经", "gcj_lng", "wgs84_lng"),
    "lat": ("lat", "latitude", "纬度", "y", "北纬", "gcj_lat", "wgs84_lat"),
    "wkt": ("wkt", "geometry", "geom", "the_geom", "几何", "坐标wkt"),
    "address": ("address", "地址", "详细地址", "机构地址"),
    "status": ("status", "状态", "运营状态"),
    "beds": ("beds", "床位数", "床位", "床位总数", "核定床位数", "养老床位数"),
    "nursing_beds": ("nursing_beds", "护理床位", "护理型床位", "护理型床位数", "护理床位数"),
    "places": ("places", "托位数", "托位", "学位数", "学位", "核定托位数"),
    "inclusive_places": ("inclusive_places", "普惠托位", "普惠性托位", "普惠托位数", "普惠学位"),
    "medical_integration": ("medical_integration", "医养结合"),
    "level": ("level", "级别", "等级"),
    "host_hospital": ("host_hospital", "依托医院"),
    "venue_type": ("venue_type", "场所类型", "类型"),
    "has_mother_baby_room": ("has_mother_baby_room", "是否设母婴室", "有无母婴室", "母婴室"),
    "community_code": ("community_code", "社区代码", "社区编码"),
    "social_workers": ("social_workers", "社工人数", "社会工作者"),
    "child_supervisors": ("child_supervisors", "儿童督导员"),
    "paediatric_beds": ("paediatric_beds", "pediatric_beds", "儿科床位", "儿科床位数"),
    "paediatricians": ("paediatricians", "pediatricians", "儿科医生", "儿科医师数", "儿科医生数"),
    "child_health_doctors": ("child_health_doctors", "儿童保健医生", "儿保医生"),
    # The street a register says a facility is in: strong evidence for the datum check.
    "unit": ("street", "street_code", "street_name", "街道", "所属街道", "所在街道", "街道代码", "乡镇街道",
             "街乡", "街道(乡镇)"),
}
# Shapefile fields are cut to 10 characters, so the cut names are aliases too.
BOUNDARY_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "区划代码", "行政区划代码", "代码", "编码", "adcode", "street_code", "district_code"),
    "name": ("name", "名称", "区划名称", "街道名称", "街道", "区名", "name_zh"),
    "name_en": ("name_en", "英文名", "english_name"),
    "parent_code": ("parent_code", "parent_cod", "上级代码", "上级区划代码", "parent", "所属区代码"),
    "pop_total": ("pop_total", "population", "常住人口", "人口", "总人口", "pop"),
    "pop_0_2": ("pop_0_2", "0-2岁", "0~2岁", "0-2岁人口", "0至2岁"),
    "pop_0_14": ("pop_0_14", "0-14岁", "0~14岁", "0-14岁人口", "0至14岁"),
    "pop_60_plus": ("pop_60_plus", "pop_60_plu", "60岁及以上", "60岁以上", "60岁及以上人口"),
    "pop_65_plus": ("pop_65_plus", "pop_65_plu", "65岁及以上", "65岁以上", "65岁及以上人口"),
}
POPULATION_HEADERS = BOUNDARY_HEADERS


def _normalise_header(text) -> str:
    value = str(text).replace("\ufeff", "").strip().lower()
    value = value.replace("（", "(").replace("）", ")").replace(" ", "").replace("_", "")
    # Units in brackets ("床位数(张)", "经度(°)") name the same column.
    value = re.sub(r"\(.*?\)$", "", value)
    return value


def parse_column_map(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"code=区划代码,name=名称"`` (or a mapping) → ``{'code': '区划代码', 'name': '名称'}``."""
    if not text:
        return {}
    if isinstance(text, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in text.items()}
    mapping = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise DataError(f"Column mapping '{part}' has no '='.",
                            fix="Write it as target=source, e.g. code=区划代码,name=名称.")
        target, source = part.split("=", 1)
        mapping[target.strip()] = source.strip()
    return mapping


def _resolve_columns(columns: Sequence, aliases: Mapping[str, Sequence[str]], column_map: Mapping[str, str],
                     *, origin, require_mapped: bool = True) -> tuple[dict[str, str], list[Problem]]:
    """Map canonical names to the file's headers: explicit mapping first, then the alias table."""
    problems: list[Problem] = []
    present = {str(c): _normalise_header(c) for c in columns}
    found: dict[str, str] = {}
    for target, source in column_map.items():
        if source in present:
            found[target] = source
        elif require_mapped:
            problems.append(Problem("error", f"The mapped column '{source}' (for {target}) is not in the file.",
                                    file=origin, column=source,
                                    fix=f"Use one of the file's headers: {', '.join(map(str, columns))}."))
    taken = set(found.values())
    for target, names in aliases.items():
        if target in found:
            continue
        keys = {_normalise_header(n) for n in names}
        for original, normalised in present.items():
            if original not in taken and normalised in keys:
                found[target] = original
                taken.add(original)
                break
    return found, problems


# --- text and tables --------------------------------------------------------------------------

_ENCODING_ALIASES = {"utf8": "utf-8", "utf-8": "utf-8", "utf8bom": "utf-8-sig", "utf-8-sig": "utf-8-sig",
                     "utf8sig": "utf-8-sig", "gbk": "gbk", "cp936": "gbk", "gb2312": "gbk",
                     "gb18030": "gb18030", "utf16": "utf-16", "utf-16": "utf-16"}


def decode_text(data: bytes, *, encoding: str | None = None, origin=None) -> tuple[str, str]:
    """Decode a text file: the declared ``encoding``, or detected among UTF-8 (with or without a
    BOM), GBK and GB18030.  Returns ``(text, encoding used)``."""
    if encoding:
        key = str(encoding).strip().lower().replace("_", "-")
        name = _ENCODING_ALIASES.get(key, _ENCODING_ALIASES.get(key.replace("-", ""), None))
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
                                              if other else "Save the file as UTF-8."))from None
        return text.lstrip("\ufeff"), name
    detected = _detect(data)
    if detected is None:
        raise DataError("The file is not text in UTF-8, GBK or GB18030.", file=origin,
                        fix="Save it as CSV UTF-8 (Excel: 'CSV UTF-8') or upload the .xlsx itself.")
    return detected


def _detect(data: bytes):
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
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


def parse_table(data: bytes, *, name: str, encoding: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Parse CSV or XLSX bytes into a frame of text cells (codes keep their leading zeros).

    The header is the first of the first ten rows holding at least two recognised headers (a
    title row above the table is skipped), else the first row; a workbook's first sheet holding
    such a row is read (else its first sheet).  Returns the frame (blank cells are ``""``) and
    ``{'encoding', 'format', 'first_row'`` (the file row of the first data row)``, 'sheet',
    'duplicate_headers'}``.
    """
    suffix = Path(name).suffix.lower()
    widened = False
    if not data or not data.strip():
        raise DataError("The file is empty.", file=name, fix="Export the table again with its header row.")
    if suffix in (".xlsx", ".xlsm"):
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
        try:
            with warnings.catch_warnings():  # openpyxl's notes on styles/extensions it skips are not for planners
                warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
                sheets = pd.read_excel(_bytes_io.BytesIO(data), sheet_name=None, header=None, dtype=str,
                                       keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl/zipfile raise many types for damaged workbooks
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"Cannot read the workbook: {reason}", file=name,
                            fix="Open it in Excel and save it again as .xlsx.") from None
        if not sheets:
            raise DataError("The workbook has no sheets.", file=name, fix="Export the table again.")
        chosen = next((sheet for sheet, grid in sheets.items() if _header_row(grid.fillna("")) is not None),
                      next(iter(sheets)))
        grid = sheets[chosen]
        info = {"encoding": "xlsx", "format": "xlsx", "sheet": str(chosen)}
    elif suffix == ".xls":
        raise DataError("Old Excel .xls workbooks are not read.", file=name,
                        fix="Open it in Excel and save as .xlsx (or CSV UTF-8).")
    else:
        if data.startswith(_OLE2_MAGIC) or data.startswith(b"PK\x03\x04"):
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
            if _utf16_without_bom(data):
                raise DataError("The file is UTF-16 text without a byte-order mark, so its encoding is unclear.",
                                file=name, fix="Save it as CSV UTF-8 (Excel: 'CSV UTF-8'), or as "
                                               "'Unicode text' (UTF-16 with its BOM).")
            raise DataError("The file holds NUL bytes: it is not a CSV table.", file=name,
                            fix="Upload the .xlsx itself, or save it as CSV UTF-8.")
        first_line = text.lstrip().split("\n", 1)[0]
        separator = ","
        if suffix == ".tsv" or ("\t" in first_line and "," not in first_line):
            separator = "\t"
        elif ";" in first_line and "," not in first_line:
            separator = ";"
        elif "，" in first_line and "," not in first_line:
            raise DataError("The cells are separated by full-width commas (，), not ',' (the header reads "
                            f"'{first_line.strip()[:60]}').", file=name, row=1,
                            fix="Save the table from Excel as CSV UTF-8 (it separates cells with ','), "
                                "or replace the '，' between cells with ','.")
        grid, widened = _csv_grid(text, separator, name=name)
        info = {"encoding": used, "format": "csv"}
    grid = grid.fillna("").astype(str)
    filled = grid.apply(lambda column: column.str.strip() != "").any(axis=1).to_numpy()
    if not filled.any():
        raise DataError("The file is empty.", file=name, fix="Export the table again with its header row.")
    # Leading blank rows are skipped; the header is found among the next rows.
    start = int(np.argmax(filled))
    header = start + (_header_row(grid.iloc[start:]) or 0)
    if info.get("format") == "csv" and widened:
        # Read wider than its first line (a short title line above the header): the table is as
        # wide as its header, and a data row with more cells is malformed, as pandas would say.
        cells = grid.iloc[header].str.strip().to_numpy() != ""
        width = int(np.flatnonzero(cells)[-1]) + 1 if cells.any() else grid.shape[1]
        beyond = grid.iloc[header + 1:, width:].apply(lambda c: c.str.strip() != "").any(axis=1).to_numpy()
        if beyond.any():
            row = header + 2 + int(np.argmax(beyond))
            count = int(np.flatnonzero(grid.iloc[row - 1].str.strip().to_numpy() != "")[-1]) + 1
            raise DataError(f"Malformed CSV: row {row} has {count} cells where the header has {width}.", file=name,
                            row=row, fix="Check quoting and the number of columns in every row.")
        grid = grid.iloc[:, :width]
    headers = [_cell_header(c, i) for i, c in enumerate(grid.iloc[header].tolist())] if len(grid) else []
    counts = pd.Series(headers, dtype=object).value_counts()
    info["duplicate_headers"] = sorted(counts[counts > 1].index.tolist())
    # Duplicates get a position suffix so each column stays addressable.
    seen: dict[str, int] = {}
    unique = []
    for text in headers:
        seen[text] = seen.get(text, 0) + 1
        unique.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    # Blank rows inside the table are dropped; each row keeps the number Excel shows for it.
    body = np.flatnonzero(filled[header + 1:]) + header + 1
    frame = grid.iloc[body].reset_index(drop=True)
    frame.columns = pd.Index(unique, dtype=object)
    info["first_row"] = header + 2
    info["row_numbers"] = (body + 1).tolist()
    frame.attrs["row_numbers"] = info["row_numbers"]
    return frame, info


def _csv_grid(text: str, separator: str, *, name: str) -> tuple[pd.DataFrame, bool]:
    """The CSV's cells as text, blank lines kept (so row numbers stay those Excel shows), and
    whether it had to be read wider than its first line (a title line with fewer cells)."""
    def read(**options):
        return pd.read_csv(_bytes_io.StringIO(text), dtype=str, keep_default_na=False, sep=separator, header=None,
                           skipinitialspace=True, skip_blank_lines=False, **options)

    try:
        return read(), False
    except pd.errors.EmptyDataError:
        raise DataError("The file is empty.", file=name, fix="Export the table again with its header row.") from None
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
            import csv

            width = max((len(cells) for cells in csv.reader(_bytes_io.StringIO(text), delimiter=separator)),
                        default=0)
            try:
                return read(names=range(width)), True
            except (pd.errors.ParserError, ValueError, IndexError, TypeError, OverflowError):
                pass
        reason = f"row {row} has {found.group(3)} cells where the rows above have {found.group(1)}"
    raise DataError(f"Malformed CSV: {reason}.", file=name, row=row,
                    fix="Check quoting and the number of columns in every row.")


_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _looks_like_markup(data: bytes) -> bool:
    """An HTML page or XML document (e.g. a web system's 'Excel' export, or a saved page)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<table", b"<head", b"<body"))


def _utf16_without_bom(data: bytes) -> bool:
    sample = data[:2000]
    return len(sample) >= 4 and (sample[1::2].count(0) > 0.4 * len(sample[1::2])
                                 or sample[0::2].count(0) > 0.4 * len(sample[0::2]))


def _table_rows(table: pd.DataFrame, info: Mapping | None) -> np.ndarray:
    """The file row (as Excel shows it) of each of the table's rows."""
    for source in (info or {}, table.attrs):
        numbers = source.get("row_numbers")
        if numbers is not None and len(numbers) == len(table):
            return np.asarray(numbers, dtype=int)
    return np.arange(len(table)) + int((info or {}).get("first_row", 2))


def _header_row(grid: pd.DataFrame) -> int | None:
    """The first of the first ten rows with at least two recognised header cells."""
    known = _known_headers()
    for position in range(min(10, len(grid))):
        cells = {_normalise_header(c) for c in grid.iloc[position].tolist() if str(c).strip()}
        if len(cells & known) >= 2:
            return position
    return None


def _known_headers() -> frozenset:
    return frozenset(_normalise_header(n) for table in (FACILITY_HEADERS, BOUNDARY_HEADERS)
                     for names in table.values() for n in names)


def _cell_header(value, position: int) -> str:
    text = str(value).replace("\ufeff", "").strip()
    return text if text and not text.startswith("Unnamed:") else f"column {position + 1}"


def _duplicate_header_problems(info: Mapping, *, file) -> list[Problem]:
    return [Problem("error", f"The header '{header}' appears more than once, so which column is meant is unclear.",
                    file=file, row=int(info.get("first_row", 2)) - 1, column=header,
                    fix="Rename or delete the extra column.") for header in info.get("duplicate_headers", ())]


_THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?"
_COMMA_HINT = (" (a comma is read only as a thousands separator, as in 1,234; "
               "a decimal comma or a misplaced separator is not read)")


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse text cells as numbers: ``(values, blank, bad)`` - full-width digits accepted, and
    commas only as thousands separators in groups of three (``1,234``; ``1,23`` or a decimal
    comma ``1100,5`` is not a number rather than silently 123 or 11005)."""
    text = values.astype(str).str.strip()
    text = text.str.translate(str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,"))
    blank = (text == "") | text.str.lower().isin(["nan", "null", "none", "na", "n/a", "-"])
    comma = text.str.contains(",", regex=False)
    grouped = text.str.fullmatch(_THOUSANDS)
    text = text.where(~comma, text.str.replace(",", "", regex=False).where(grouped, "not a number"))
    parsed = pd.to_numeric(text.where(~blank), errors="coerce").to_numpy(dtype=float)
    bad = ~blank.to_numpy() & ~np.isfinite(parsed)
    return parsed, blank.to_numpy(), bad


def _decimal_comma(cells: pd.Series) -> np.ndarray:
    """Coordinate cells written with a decimal comma: ``116,397`` or ``39,9`` (degrees once the
    comma is a point); ``440,500`` stays a thousands separator (projected metres)."""
    text = cells.astype(str).str.strip().str.replace("，", ",", regex=False)
    candidate = text.str.fullmatch(r"[+-]?\d{1,3},\d+")
    value = pd.to_numeric(text.str.replace(",", ".", regex=False).where(candidate), errors="coerce")
    return (candidate & (value.abs() <= 180)).fillna(False).to_numpy(dtype=bool)


def _row_problems(mask: np.ndarray, rows: np.ndarray, make, *, limit: int = 50) -> list[Problem]:
    """One problem per flagged row (capped, with a summary line for the rest)."""
    positions = np.flatnonzero(mask)
    out = [make(int(rows[i]), i) for i in positions[:limit]]
    if len(positions) > limit:
        first = out[0]
        out.append(Problem(first.severity, f"... and {len(positions) - limit} more rows like this.",
                           file=first.file, column=first.column, fix=first.fix))
    return out


def _numeric_column(cells: pd.Series, rows, *, file, column, blank: Problem | None, fix: str,
                    negative: str | None = None, negative_fix: str | None = None):
    """Parse a column of numbers, with one problem per blank, non-numeric or (if not allowed)
    negative cell.  ``blank`` is the problem a blank cell gets (``None``: blanks are fine)."""
    values, is_blank, is_bad = _numbers(cells)
    problems: list[Problem] = []
    if blank is not None:
        problems += _row_problems(is_blank, rows, lambda r, i: Problem(
            blank.severity, blank.message, file=file, row=r, column=column, fix=blank.fix))
    problems += _row_problems(is_bad, rows, lambda r, i: Problem(
        "error", f"'{cells.iloc[i]}' is not a number"
                 + (_COMMA_HINT if "," in str(cells.iloc[i]).replace("，", ",") else "") + ".",
        file=file, row=r, column=column, fix=fix))
    if negative is not None:
        below = np.isfinite(values) & (values < 0)
        problems += _row_problems(below, rows, lambda r, i: Problem(
            "error", f"{negative} ({values[i]:g}).", file=file, row=r, column=column, fix=negative_fix))
    return values, is_blank | is_bad, problems


# --- facilities -------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "y", "是", "有", "√", "t"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", "f", ""}


def parse_facilities(data: bytes, *, name: str, kind: str, attributes: Mapping[str, str] | None = None,
                     datum: str | None = None, encoding: str | None = None,
                     column_map: Mapping[str, str] | str | None = None, units=None,
                     require_mapped: bool = True) -> ImportResult:
    """Parse a facility register (CSV or XLSX bytes) into a WGS84 point layer.

    Parameters
    ----------
    data, name
        The file's bytes and its file name (the suffix picks CSV or XLSX; the name is the
        provenance, ``source = "imported: <name>"``).
    kind
        The facility kind (a plan ``kinds`` id); ``attributes`` are its typed attributes
        (``{'beds': 'number', ...}``), checked per cell.
    datum
        ``wgs84``, ``gcj02`` or ``bd09``; ``None`` means undeclared (read as WGS84, and a likely
        GCJ-02 shift is then an error rather than a warning).
    encoding
        Declared text encoding; ``None`` detects UTF-8 / UTF-8 with BOM / GBK / GB18030.
    column_map
        ``{'lon': '东经度', 'beds': '床位'}`` for headers the alias table does not know.
    units
        Optional GeoDataFrame of unit outlines (any CRS) to check points against: points outside
        every unit are errors, and a GCJ-02 shift that fits better is reported with its evidence.
    require_mapped
        Whether a ``column_map`` source missing from the file is an error (``False`` when one map
        serves several files).
    """
    file = Path(name).name
    try:
        table, info = parse_table(data, name=file, encoding=encoding)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=file),), {})
    return facilities_from_table(table, name=file, kind=kind, attributes=attributes, datum=datum,
                                 column_map=column_map, units=units, require_mapped=require_mapped,
                                 info=info)


def facilities_from_table(table: pd.DataFrame, *, name: str, kind: str, attributes=None, datum=None,
                          column_map=None, units=None, require_mapped: bool = True,
                          info: Mapping | None = None) -> ImportResult:
    """Check a register already parsed into a frame of text cells (see :func:`parse_facilities`)."""
    file = Path(name).name
    attributes = dict(attributes or {})
    try:
        mapping = parse_column_map(column_map)
        datum_name = None if datum is None else datum_module.check_datum(datum)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=file),), {})
    info = dict(info or {})
    report = {"file": file, "rows": len(table), "columns": list(table.columns), **info,
              "datum": datum_name or "wgs84 (undeclared)"}
    aliases = {k: v for k, v in FACILITY_HEADERS.items()
               if k in ("id", "name", "lon", "lat", "wkt", "address", "status", "unit") or k in attributes}
    found, problems = _resolve_columns(table.columns, aliases, mapping, origin=file,
                                       require_mapped=require_mapped)
    report["column_map"] = dict(found)
    problems += _duplicate_header_problems(info, file=file)
    if len(table) == 0:
        problems.append(Problem("error", "The file has a header row but no data rows.", file=file,
                                row=int(info.get("first_row", 2)), fix="Add one row per facility below the header."))
        return ImportResult(None, tuple(problems), report)
    # Spreadsheet rows (the header is row 1); a vector layer counts features from 1.
    rows = _table_rows(table, info)
    has_xy = "lon" in found and "lat" in found
    if not has_xy and "wkt" not in found:
        missing = [c for c in ("lon", "lat") if c not in found]
        coordinate_names = {_normalise_header(n) for key in ("lon", "lat") for n in FACILITY_HEADERS[key]}
        below = [str(c).strip() for c in table.iloc[0].tolist() if _normalise_header(c) in coordinate_names]
        if below:  # a header of two rows (merged cells): the coordinate headers are in the second
            problems.append(Problem(
                "error", f"The header spans two rows (merged cells?): the coordinate headers "
                f"({', '.join(below)}) are on row {rows[0]}, below the header row {rows[0] - 1}.", file=file,
                row=int(rows[0]), fix="Make the header a single row: unmerge the cells and give every column "
                                      "one header (经度, 纬度, ...)."))
            return ImportResult(None, tuple(problems), report)
        problems.append(Problem(
            "error", f"No coordinate columns: found no {' or '.join(missing)} header "
            f"(the headers are: {', '.join(map(str, table.columns))}).", file=file,
            column=" / ".join(missing),
            fix="Name the columns 经度/纬度 or lon/lat (or give WKT in a 'wkt' column), or map them with "
                "--column-map lon=...,lat=...."))
        return ImportResult(None, tuple(problems), report)

    # Coordinates.
    if has_xy:
        parsed = {}
        for key in ("lon", "lat"):
            cells = table[found[key]]
            values, unusable, found_problems = _numeric_column(
                cells, rows, file=file, column=found[key],
                blank=Problem("error", "The coordinate is blank.", fix="Fill in the coordinate or remove the row."),
                fix="Write decimal degrees, e.g. 116.397 and 39.909.")
            # A decimal comma ("116,397"; European Excel settings) is named as such, not read as
            # thousands (116397, "projected metres?") nor as a wrong number.
            decimal_comma = _decimal_comma(cells)
            if decimal_comma.any():
                found_problems = [p for p in found_problems if p.row not in set(rows[decimal_comma].tolist())]
                found_problems += _row_problems(decimal_comma, rows, lambda r, i, c=cells, k=found[key]: Problem(
                    "error", f"'{c.iloc[i]}' has a decimal comma.", file=file, row=r, column=k,
                    fix=f"Write a decimal point ({str(c.iloc[i]).strip().replace(',', '.').replace('，', '.')}): "
                        "export with '.' as the decimal separator (Excel: File > Options > Advanced)."))
                values = np.where(decimal_comma, np.nan, values)
                unusable = unusable | decimal_comma
            parsed[key] = (values, unusable)
            problems += found_problems
        (lon, lon_unusable), (lat, lat_unusable) = parsed["lon"], parsed["lat"]
        usable = ~(lon_unusable | lat_unusable)
    else:
        geometries = shapely.from_wkt(table[found["wkt"]].astype(str).str.strip().to_numpy(), on_invalid="ignore")
        geometries = np.asarray(geometries, dtype=object)
        blank = table[found["wkt"]].astype(str).str.strip().to_numpy() == ""
        unreadable = np.array([g is None for g in geometries]) & ~blank
        points = np.array([g is not None and g.geom_type == "Point" and not g.is_empty for g in geometries])
        problems += _row_problems(blank, rows, lambda r, i: Problem(
            "error", "The geometry is blank.", file=file, row=r, column=found["wkt"],
            fix="Write a point, e.g. POINT (116.397 39.909)."))
        problems += _row_problems(unreadable, rows, lambda r, i: Problem(
            "error", "Not readable as WKT.", file=file, row=r, column=found["wkt"],
            fix="Write a point as WKT, e.g. POINT (116.397 39.909)."))
        nonpoint = ~points & ~blank & ~unreadable
        problems += _row_problems(nonpoint, rows, lambda r, i: Problem(
            "error", f"A facility must be a point, not a {geometries[i].geom_type}.", file=file, row=r,
            column=found["wkt"], fix="Give each facility's location as POINT (lon lat)."))
        usable = points
        coords = shapely.get_coordinates(geometries[usable]) if usable.any() else np.empty((0, 2))
        lon = np.full(len(table), np.nan)
        lat = np.full(len(table), np.nan)
        lon[usable], lat[usable] = coords[:, 0], coords[:, 1]
    coordinate_columns = (found.get("lon", found.get("wkt")), found.get("lat", found.get("wkt")))
    problems += _check_coordinates(lon, lat, usable, rows, file=file, columns=coordinate_columns)
    in_range = usable & (lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90)
    wlon, wlat = lon.copy(), lat.copy()
    if in_range.any():
        wlon[in_range], wlat[in_range] = datum_module.to_wgs84(lon[in_range], lat[in_range], datum_name or "wgs84")

    # Ids, names and attributes.
    if "id" in found:
        ids = table[found["id"]].astype(str).str.strip()
        blank_id = (ids == "").to_numpy()
        problems += _row_problems(blank_id, rows, lambda r, i: Problem(
            "error", "The id is blank.", file=file, row=r, column=found["id"],
            fix="Give every facility an id unique within the file."))
        # Full-width characters and spaces do not make an id another one ('Ｅ０１', 'E 01' = 'E01').
        keys = ids.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
        duplicated = keys.duplicated(keep=False).to_numpy() & ~blank_id
        first_row = pd.Series(rows).groupby(keys.to_numpy()).transform("min").to_numpy()
        first_text = dict(zip(rows.tolist(), ids.tolist()))
        problems += _row_problems(duplicated & (rows != first_row), rows, lambda r, i: Problem(
            "error", f"Duplicate id '{ids.iloc[i]}' (first on row {first_row[i]}"
                     + (f" as '{first_text[first_row[i]]}'" if first_text[first_row[i]] != ids.iloc[i] else "")
                     + ").", file=file, row=r, column=found["id"], fix="Give every facility its own id."))
    else:
        ids = pd.Series([f"{kind}-{r}" for r in rows])
        problems.append(Problem("warning", f"No id column; ids are made from row numbers ({ids.iloc[0]}, ...).",
                                file=file, column="id",
                                fix="Add an id (编号) column so facilities keep their ids between imports."))
    names = table[found["name"]].astype(str).str.strip() if "name" in found else pd.Series([""] * len(table))
    if "name" not in found:
        problems.append(Problem("warning", "No name column; facilities will be unnamed.", file=file,
                                column="name", fix="Add a 名称 / name column."))
    columns = {"id": ids.to_numpy(dtype=object), "kind": kind, "name": names.to_numpy(dtype=object)}
    if "address" in found:
        columns["address"] = table[found["address"]].astype(str).to_numpy(dtype=object)
    status = table[found["status"]].astype(str).str.strip() if "status" in found else pd.Series(["existing"] * len(table))
    status = status.replace({"": "existing", "在营": "existing", "运营": "existing", "已建": "existing",
                             "规划": "planned", "在建": "planned", "拟建": "planned"})
    bad_status = ~status.isin(["existing", "planned"]).to_numpy()
    problems += _row_problems(bad_status, rows, lambda r, i: Problem(
        "error", f"Unknown status '{status.iloc[i]}'.", file=file, row=r, column=found.get("status"),
        fix="Use existing (在营) or planned (规划)."))
    columns["status"] = status.to_numpy(dtype=object)
    for attribute, kind_type in attributes.items():
        if attribute not in found:
            continue
        column = found[attribute]
        cells = table[column]
        if kind_type == "number":
            values, _, found_problems = _numeric_column(
                cells, rows, file=file, column=column,
                blank=Problem("warning", f"{attribute} is blank; the facility counts with no {attribute}.",
                              fix=f"Fill in {attribute} (0 if it has none)."),
                fix=f"Write {attribute} as a plain number (no units or text).",
                negative=f"{attribute} is negative", negative_fix=f"{attribute} must be zero or more.")
            problems += found_problems
            columns[attribute] = values
        elif kind_type == "bool":
            lowered = cells.astype(str).str.strip().str.lower()
            bad = ~lowered.isin(_TRUE | _FALSE).to_numpy()
            problems += _row_problems(bad, rows, lambda r, i, c=column, t=cells: Problem(
                "error", f"'{t.iloc[i]}' is not yes or no.", file=file, row=r, column=c,
                fix="Write 是/否 or yes/no."))
            columns[attribute] = lowered.isin(_TRUE).to_numpy()
        else:
            columns[attribute] = cells.astype(str).str.strip().to_numpy(dtype=object)
    columns["source"] = f"imported: {file}"
    columns["location_quality"] = "exact"
    frame = gpd.GeoDataFrame(columns, geometry=shapely.points(wlon, wlat), crs="EPSG:4326")
    frame.loc[~in_range, "geometry"] = None
    if units is not None and in_range.any():
        labels = table[found["unit"]].astype(str).str.strip().to_numpy(dtype=object) if "unit" in found else None
        unit_problems, evidence = _check_against_units(lon, lat, in_range, rows, units, file=file,
                                                       columns=coordinate_columns, datum=datum_name,
                                                       labels=labels)
        problems += unit_problems
        report["datum_evidence"] = evidence
    return ImportResult(frame, tuple(problems), report)


def _check_coordinates(lon, lat, usable, rows, *, file, columns) -> list[Problem]:
    problems: list[Problem] = []
    in_china = usable & (lon >= LON_RANGE[0]) & (lon <= LON_RANGE[1]) & (lat >= LAT_RANGE[0]) & (lat <= LAT_RANGE[1])
    swapped = usable & ~in_china & (lat >= LON_RANGE[0]) & (lat <= LON_RANGE[1]) & (lon >= LAT_RANGE[0]) & (lon <= LAT_RANGE[1])
    problems += _row_problems(swapped, rows, lambda r, i: Problem(
        "error", f"Longitude and latitude look swapped ({columns[0]}={lon[i]:g}, {columns[1]}={lat[i]:g}).",
        file=file, row=r, column=columns[0],
        fix="Swap the two values (or map the columns: --column-map lon=...,lat=...); in China the longitude "
            "is the larger number (73-135) and the latitude the smaller (3-54)."))
    projected = usable & ~in_china & ~swapped & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    problems += _row_problems(projected, rows, lambda r, i: Problem(
        "error", f"({lon[i]:g}, {lat[i]:g}) is not longitude/latitude in degrees (projected metres?).",
        file=file, row=r, column=columns[0],
        fix="Export the coordinates as decimal degrees (WGS84, GCJ-02 or BD-09)."))
    elsewhere = usable & ~in_china & ~swapped & ~projected
    problems += _row_problems(elsewhere, rows, lambda r, i: Problem(
        "error", f"({lon[i]:g}, {lat[i]:g}) lies outside China.", file=file, row=r, column=columns[0],
        fix="Check the coordinates (sign, digits, degrees-minutes written as decimals)."))
    return problems


def _check_against_units(lon, lat, usable, rows, units, *, file, columns, datum, labels=None) -> tuple[list[Problem], dict]:
    """Points outside every unit, and whether a GCJ-02 shift would fit the units better."""
    problems: list[Problem] = []
    evidence = datum_evidence(lon[usable], lat[usable], units, datum=datum or "wgs84",
                              unit_labels=None if labels is None else labels[usable])
    inside = np.zeros(len(lon), dtype=bool)
    inside[usable] = evidence.pop("_inside")
    outside = usable & ~inside
    problems += _row_problems(outside, rows, lambda r, i: Problem(
        "error", f"({lon[i]:.6f}, {lat[i]:.6f}) lies outside every unit of the city.", file=file, row=r,
        column=columns[0], fix="Check the coordinates and the declared --datum, or remove facilities "
                               "outside the city from the register."))
    suggestion = evidence.get("suggested_datum")
    if suggestion:
        before, after = evidence["as_declared"], evidence[f"as_{suggestion}"]
        agreement = (f"{after['share_in_named_unit']:.0%} in the street the file names instead of "
                     f"{before['share_in_named_unit']:.0%}, " if "share_in_named_unit" in after else "")
        message = (f"The points fit the units better read as {suggestion} than as {datum or 'wgs84'}: {agreement}"
                   f"{after['share_inside']:.0%} inside units instead of {before['share_inside']:.0%}, median "
                   f"distance inside from the unit edge {after['median_edge_distance_m']:.0f} m instead of "
                   f"{before['median_edge_distance_m']:.0f} m ({evidence['points']} points).")
        severity = "error" if datum is None else "warning"
        fix = (f"Declare the datum: --datum {suggestion} (or --datum wgs84 if the coordinates are GPS/WGS84)."
               if datum is None else f"Check the declared datum; the evidence suggests --datum {suggestion}.")
        problems.append(Problem(severity, message, file=file, column=columns[0], fix=fix))
        if severity == "warning":
            warnings.warn(f"{file}: {message}", DataWarning, stacklevel=3)
    return problems, evidence


def datum_evidence(lon, lat, units, *, datum: str = "wgs84", unit_labels=None) -> dict:
    """How well points fit the unit outlines as declared, and read as the other datums.

    For each reading (the declared ``datum``; ``gcj02`` and ``bd09``; WGS84 points shifted the
    wrong way, i.e. a doubly converted file) it gives the share of points inside some unit and the
    median signed distance to the nearest unit edge (positive inside).  A ~500 m GCJ-02 shift moves
    points towards and across edges, so true coordinates sit deeper inside their units.  A reading is
    suggested when it puts clearly more points inside (at least 5 points and 2 more points or 5
    percentage points) or, with no fewer inside, moves the points deeper inside consistently (a sign
    test over the points, p < 0.001, and the median 50 m or more deeper).  Uniformly scattered
    points gain and lose depth alike under a shift, so without sited facilities the test stays
    silent rather than guess.  When ``unit_labels`` (the street code or name the register gives
    for each point) are known, the share of points inside the unit they name is the strongest
    evidence: a reading is suggested when it agrees for at least 2 points and 10 % more.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    frame = units if units.crs is not None else units.set_crs(4326)
    metric = frame.crs if frame.crs.is_projected else _utm_zone(frame.to_crs(4326).total_bounds)
    polygons = frame.to_crs(metric).geometry.values
    tree = shapely.STRtree(polygons)
    edges = shapely.STRtree(shapely.boundary(polygons))
    # ``lon``/``lat`` are the file's raw coordinates; each reading converts them from one datum.
    datum = datum_module.check_datum(datum)
    readings = {"as_declared": datum_module.to_wgs84(lon, lat, datum)}
    for other in datum_module.DATUMS:
        if other != datum:
            readings[f"as_{other}"] = datum_module.to_wgs84(lon, lat, other)
    out: dict = {"points": int(len(lon)), "declared": datum}
    signed_by_reading = {}
    for label, (x, y) in readings.items():
        points = gpd.GeoSeries(shapely.points(x, y), crs=4326).to_crs(metric).values
        inside = np.zeros(len(points), dtype=bool)
        point_idx, _ = tree.query(points, predicate="intersects")
        inside[point_idx] = True
        _, distances = edges.query_nearest(points, return_distance=True, all_matches=False)
        signed = np.where(inside, distances, -distances)
        signed_by_reading[label] = signed
        out[label] = {"share_inside": float(inside.mean()) if len(inside) else 0.0,
                      "inside": int(inside.sum()),
                      "median_edge_distance_m": float(np.median(signed)) if len(signed) else 0.0}
        if label == "as_declared":
            out["_inside"] = inside
        if unit_labels is not None:
            from .dataset import locate_points as _locate

            located = _locate(points, gpd.GeoDataFrame({"code": frame["code"].astype(str).to_numpy()},
                                                       geometry=polygons, crs=metric))
            names = dict(zip(frame["code"].astype(str), frame["name"].astype(str))) if "name" in frame else {}
            named = np.array([label_text in (code, names.get(code, "")) and code != ""
                              for label_text, code in zip(unit_labels, located)], dtype=bool)
            out[label]["share_in_named_unit"] = float(named.mean()) if len(named) else 0.0
            out[label]["in_named_unit"] = int(named.sum())
    base = out["as_declared"]
    best, best_gain = None, 0.0
    if len(lon) >= 5:
        from scipy.stats import binomtest

        for label in readings:
            if label == "as_declared":
                continue
            other = out[label]
            difference = signed_by_reading[label] - signed_by_reading["as_declared"]
            deeper, shallower = int((difference > 1.0).sum()), int((difference < -1.0).sum())
            # Uniformly placed points gain and lose depth equally under any shift; true coordinates
            # of sited facilities (inside blocks, off the edge roads) gain depth when unshifted.
            p_value = binomtest(deeper, deeper + shallower, 0.5, alternative="greater").pvalue if deeper else 1.0
            other["points_deeper"] = deeper
            other["points_shallower"] = shallower
            other["sign_test_p"] = float(p_value)
            more_inside = other["inside"] - base["inside"] >= max(2, 0.05 * len(lon))
            consistently_deeper = (other["inside"] >= base["inside"] and p_value < 1e-3
                                   and other["median_edge_distance_m"] - base["median_edge_distance_m"] >= 50.0)
            gain = other["inside"] - base["inside"] + float(np.median(difference)) / 1e4
            agrees = False
            if "in_named_unit" in base:
                gained = other["in_named_unit"] - base["in_named_unit"]
                agrees = gained >= max(2, 0.1 * len(lon))
                gain += 1e6 * gained
                if gained < 0:  # the named streets contradict this reading
                    continue
            if (more_inside or consistently_deeper or agrees) and gain > best_gain:
                best, best_gain = label.removeprefix("as_"), gain
    out["suggested_datum"] = best
    return out


def _utm_zone(bounds) -> str:
    """The northern UTM zone of the bounds' centre (pyproj's estimate_utm_crs queries a database)."""
    centre = (bounds[0] + bounds[2]) / 2
    return f"EPSG:{32600 + int((centre + 180) // 6) % 60 + 1}"


def import_facilities(path: str | Path, *, kind: str, attributes=None, datum=None, encoding=None,
                      column_map=None, units=None, max_bytes: int = io.MAX_UPLOAD_BYTES,
                      require_mapped: bool = True) -> ImportResult:
    """Read a facility register file (see :func:`parse_facilities`)."""
    path = Path(path)
    try:
        data = io.read_upload(path, max_bytes=max_bytes)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=path.name),), {})
    if path.suffix.lower() in (*io.VECTOR_SUFFIXES, ".zip"):
        return _facilities_from_vector(path, kind=kind, attributes=attributes, datum=datum, column_map=column_map,
                                       units=units, max_bytes=max_bytes, require_mapped=require_mapped)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return ImportResult(None, (Problem("error", f"Unknown table format '{path.suffix}'.", file=path.name,
                                           fix="Use .csv or .xlsx (or a point layer: GeoJSON, GeoPackage, "
                                               "zipped Shapefile, GeoParquet)."),), {})
    return parse_facilities(data, name=path.name, kind=kind, attributes=attributes, datum=datum,
                            encoding=encoding, column_map=column_map, units=units,
                            require_mapped=require_mapped)


def _facilities_from_vector(path: Path, *, kind, attributes, datum, column_map, units, max_bytes,
                            require_mapped) -> ImportResult:
    """A point layer read as a register whose geometry is the WKT column (its CRS converted to
    degrees first; ``datum`` then says which Chinese datum those degrees are in)."""
    try:
        frame = io.read_vector_upload(path, max_bytes=max_bytes)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=path.name),), {})
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return ImportResult(None, (Problem("error", "The file has no geometry.", file=path.name,
                                           fix="Export the facilities as points, or as CSV with lon/lat."),), {})
    if frame.crs is None:
        return ImportResult(None, (Problem("error", "The file declares no coordinate reference system.",
                                           file=path.name, fix="Save it with its CRS (EPSG:4326 for degrees)."),), {})
    if len(frame.columns) == 1 and len(frame):
        return ImportResult(None, (Problem("error", "The layer has geometry only, no attributes (no id, name or "
                                           "capacity): a bare geometry, not a register.", file=path.name,
                                           fix="Export the facilities as features with their attributes (a "
                                               "FeatureCollection), or as CSV/XLSX with lon/lat."),), {})
    geometry = frame.to_crs(4326).geometry.values
    table = frame.drop(columns=[frame.geometry.name]).copy()
    table = table.astype(object).where(table.notna(), "").astype(str)
    table["wkt"] = np.where(shapely.is_missing(geometry), "", shapely.to_wkt(geometry, rounding_precision=9))
    if any(_normalise_header(c) in ("lon", "lng", "longitude", "经度") for c in table.columns):
        table = table.drop(columns=["wkt"])  # explicit coordinate columns win, as in a table
    return facilities_from_table(table, name=path.name, kind=kind, attributes=attributes, datum=datum,
                                 column_map=column_map, units=units, require_mapped=require_mapped,
                                 info={"encoding": "-", "format": path.suffix.lower().lstrip("."), "first_row": 1})


# --- boundaries -------------------------------------------------------------------------------


def check_boundaries(frame: gpd.GeoDataFrame, *, name: str, level: str = "street",
                     column_map: Mapping[str, str] | str | None = None, districts=None,
                     require_mapped: bool = True) -> ImportResult:
    """Check unit outlines and bring them to the data contract (WGS84, ``code`` as text, ...).

    Parameters
    ----------
    frame
        The outlines as read, in any CRS (CGCS2000 EPSG:4490 included).
    level
        ``district`` or ``street``.
    column_map
        ``{'code': '区划代码', 'name': '街道名称', 'parent_code': ..., 'pop_total': ...}``.
    districts
        The district outlines the streets belong to (optional): used to derive a missing
        ``parent_code`` and to check the outlines lie in the same city.
    """
    file = Path(name).name
    try:
        mapping = parse_column_map(column_map)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=file),), {})
    problems: list[Problem] = []
    report: dict = {"file": file, "rows": len(frame), "level": level}
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return ImportResult(None, (Problem("error", "The file has no geometry (a table, not outlines).", file=file,
                                           fix="Export the outlines as GeoJSON, GeoPackage or a zipped Shapefile."),),
                            report)
    if len(frame) == 0:
        return ImportResult(None, (Problem("error", "The file has no features.", file=file,
                                           fix="Export the outlines again."),), report)
    attribute_columns = [c for c in frame.columns if c != frame.geometry.name]
    found, problems = _resolve_columns(attribute_columns, BOUNDARY_HEADERS, mapping, origin=file,
                                       require_mapped=require_mapped)
    report["column_map"] = dict(found)
    for required in ("code", "name"):
        if required not in found:
            problems.append(Problem("error", f"No '{required}' column (the columns are: "
                                    f"{', '.join(map(str, attribute_columns)) or 'none'}).", file=file,
                                    column=required, fix=f"Add it or map it: --column-map {required}=<header>."))
    if frame.crs is None:
        problems.append(Problem("error", "The file declares no coordinate reference system.", file=file,
                                fix="Add the .prj to the Shapefile (or save as GeoJSON/GeoPackage with its CRS); "
                                    "CGCS2000 is EPSG:4490."))
    rows = np.arange(len(frame)) + 1
    geometries = frame.geometry.values
    missing = shapely.is_missing(np.asarray(geometries)) | shapely.is_empty(np.asarray(geometries))
    problems += _row_problems(missing, rows, lambda r, i: Problem(
        "error", "The feature has no geometry.", file=file, row=r, column="geometry",
        fix="Draw the outline or remove the feature."))
    types = np.asarray(shapely.get_type_id(np.asarray(geometries)))
    not_polygon = ~missing & ~np.isin(types, [3, 6])
    kinds = sorted({g.geom_type for g in np.asarray(geometries)[not_polygon]})
    problems += _row_problems(not_polygon, rows, lambda r, i: Problem(
        "error", f"A unit must be a polygon, not a {geometries[i].geom_type}"
                 + (" (the file mixes geometry types)." if not_polygon.sum() < len(frame) else "."),
        file=file, row=r, column="geometry", fix="Keep only the polygon outlines in the file."))
    polygonal = ~missing & ~not_polygon
    with np.errstate(all="ignore"):  # absurd coordinates (1e308) overflow inside GEOS; reported below
        invalid = polygonal & ~shapely.is_valid(np.asarray(geometries))
        reasons = shapely.is_valid_reason(np.asarray(geometries))
    problems += _row_problems(invalid, rows, lambda r, i: Problem(
        "error", f"Invalid polygon: {reasons[i]}.", file=file, row=r, column="geometry",
        fix="Repair the outline (QGIS: Fix Geometries; or shapely.make_valid) and check its area."))
    report["geometry_types"] = sorted({g.geom_type for g in np.asarray(geometries)[~missing]}) or kinds
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)

    codes = frame[found["code"]].map(_code_text)
    blank = (codes == "").to_numpy()
    problems += _row_problems(blank, rows, lambda r, i: Problem(
        "error", "The unit code is blank.", file=file, row=r, column=found["code"],
        fix="Give every unit its official code (e.g. 110101001)."))
    scientific = codes.str.fullmatch(_SCIENTIFIC).to_numpy(dtype=bool)
    problems += _row_problems(scientific, rows, lambda r, i: Problem(
        "error", f"The code '{codes.iloc[i]}' is in scientific notation: its digits are lost.", file=file, row=r,
        column=found["code"], fix="Store the codes as text (e.g. 110101001) and export the outlines again."))
    duplicated = codes.duplicated(keep="first").to_numpy() & ~blank & ~scientific
    problems += _row_problems(duplicated, rows, lambda r, i: Problem(
        "error", f"Duplicate unit code '{codes.iloc[i]}'.", file=file, row=r, column=found["code"],
        fix="Give every unit its own code (merge the parts into one multipolygon)."))
    out = gpd.GeoDataFrame({"code": codes.to_numpy(dtype=object),
                            "name": frame[found["name"]].astype(str).str.strip().to_numpy(dtype=object)},
                           geometry=shapely.force_2d(np.asarray(geometries)), crs=frame.crs)  # heights dropped
    out = out.to_crs(4326)
    bounds = out.total_bounds
    if not (LON_RANGE[0] <= bounds[0] and bounds[2] <= LON_RANGE[1] and LAT_RANGE[0] <= bounds[1]
            and bounds[3] <= LAT_RANGE[1]):
        swapped = (LON_RANGE[0] <= bounds[1] and bounds[3] <= LON_RANGE[1] and LAT_RANGE[0] <= bounds[0]
                   and bounds[2] <= LAT_RANGE[1])
        corners = [f"{v:.3f}" if abs(v) < 1e9 else f"{v:.3g}" for v in bounds]
        problems.append(Problem("error", f"In the declared CRS ({frame.crs.to_string()}) the outlines fall at "
                                f"{corners[0]},{corners[1]} .. {corners[2]},{corners[3]}, outside China: "
                                + ("the coordinates are latitude, longitude (swapped)." if swapped else
                                   "the declared CRS is probably wrong."), file=file,
                                fix="Export the outlines again with x = longitude, y = latitude (GeoJSON is "
                                    "always longitude first)." if swapped else
                                    "Declare the CRS the coordinates are really in (e.g. EPSG:4490, "
                                    "EPSG:4326, EPSG:32650) and export again."))
        return ImportResult(None, tuple(problems), report)
    if districts is not None and len(districts):
        city = shapely.union_all(districts.to_crs(4326).geometry.values)
        overlaps = shapely.intersects(out.geometry.values, city)
        problems += _row_problems(~overlaps, rows, lambda r, i: Problem(
            "error", "The outline lies outside the city's districts.", file=file, row=r, column="geometry",
            fix="Check the CRS and that the file is for this city."))
    metric = _utm_zone(bounds)
    shapes = out.to_crs(metric).geometry.values
    problems += _overlap_problems(shapes, rows, codes.to_numpy(dtype=object), file=file)
    blank_name = (out["name"] == "").to_numpy()
    problems += _row_problems(blank_name, rows, lambda r, i: Problem(
        "warning", "The unit name is blank; reports will show only its code.", file=file, row=r,
        column=found["name"], fix="Fill in the unit's name."))
    for optional in ("name_en", *POPULATION_COLUMNS):
        if optional in found:
            out[optional] = frame[found[optional]].to_numpy()
    out["level"] = level
    if "parent_code" in found:
        out["parent_code"] = frame[found["parent_code"]].map(_code_text).to_numpy(dtype=object)
    elif level == "street" and districts is not None and len(districts):
        from .dataset import locate_points as _locate

        metric = out.estimate_utm_crs()
        points = shapely.point_on_surface(out.to_crs(metric).geometry.values)
        parents = _locate(points, districts.to_crs(metric).reset_index(drop=True))
        out["parent_code"] = parents
        problems.append(Problem("warning", "No parent_code column; each street's district was found from "
                                "where its outline lies.", file=file, column="parent_code",
                                fix="Add the district code (上级代码) to be explicit."))
    else:
        out["parent_code"] = ""
    if level == "street" and districts is not None and len(districts) and "parent_code" in out:
        known = set(districts["code"].astype(str))
        unknown = ~out["parent_code"].isin(known).to_numpy()
        problems += _row_problems(unknown, rows, lambda r, i: Problem(
            "error", f"The parent code '{out['parent_code'].iloc[i]}' is not a district code.", file=file,
            row=r, column=found.get("parent_code", "parent_code"),
            fix="Use the district codes of the dataset (e.g. 110105)."))
        if "parent_code" in found:
            problems += _parent_problems(shapes, out["parent_code"].to_numpy(dtype=object), rows,
                                         districts.to_crs(metric), file=file, column=found["parent_code"])
    problems += _population_problems(out, [c for c in POPULATION_COLUMNS if c in found], rows, file=file,
                                     headers=found)
    out["pop_source"] = f"imported: {file}"
    out["source"] = f"imported: {file}"
    out["outline_quality"] = "official"
    return ImportResult(out, tuple(problems), report)


def _overlap_problems(shapes, rows, codes, *, file, tolerance: float = 0.01) -> list[Problem]:
    """Units overlapping by more than ``tolerance`` of the smaller one's area (slivers along shared
    edges are digitising noise; more means a unit drawn twice or a wrong outline, and points in
    the overlap would belong to two units)."""
    shapes = np.asarray(shapes)
    left, right = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    areas = shapely.area(shapes)
    shared = shapely.area(shapely.intersection(shapes[left], shapes[right]))
    smaller = np.minimum(areas[left], areas[right])
    share = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    flagged = np.flatnonzero(share > tolerance)
    return _row_problems(np.ones(len(flagged), dtype=bool), rows[right[flagged]], lambda r, i: Problem(
        "error", f"The outline overlaps unit '{codes[left[flagged[i]]]}' (row {rows[left[flagged[i]]]}) over "
                 f"{share[flagged[i]]:.0%} of the smaller one.", file=file, row=r, column="geometry",
        fix="Make the units tile the city without overlaps (QGIS: Topology Checker); draw each unit once."))


def _parent_problems(shapes, parents, rows, districts, *, file, column) -> list[Problem]:
    """Streets lying mostly outside the district their parent code names."""
    from .dataset import locate_points as _locate

    by_code = dict(zip(districts["code"].astype(str), districts.geometry.values))
    known = np.array([p in by_code for p in parents], dtype=bool)
    if not known.any():
        return []
    parent_shapes = np.array([by_code.get(p) for p in parents], dtype=object)
    inside = np.zeros(len(parents))
    inside[known] = shapely.area(shapely.intersection(np.asarray(shapes)[known], parent_shapes[known]))
    areas = shapely.area(np.asarray(shapes))
    share = np.divide(inside, areas, out=np.ones_like(inside), where=areas > 0)
    wrong = known & (share < 0.5)
    if not wrong.any():
        return []
    located = _locate(shapely.point_on_surface(np.asarray(shapes)), districts.reset_index(drop=True))
    return _row_problems(wrong, rows, lambda r, i: Problem(
        "error", f"The street lies in district '{located[i] or 'none'}', not in its parent '{parents[i]}' "
                 f"({share[i]:.0%} of it inside).", file=file, row=r, column=column,
        fix="Correct the parent code (上级代码) or the outline."))


def _code_text(value) -> str:
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


_SCIENTIFIC = r"[+-]?\d(?:\.\d+)?[eE][+-]?\d+"
_TOTAL_WORDS = ("合计", "总计", "小计", "全市", "总数", "total", "sum", "subtotal", "grand total")


def _code_problems(codes: pd.Series, table: pd.DataFrame, rows, *, file, column) -> tuple[np.ndarray, list[Problem]]:
    """Codes that cannot be a unit's: blank, in Excel's scientific notation (digits lost), or a
    totals row.  Returns the mask of those rows (left out of the other code checks) and problems."""
    blank = (codes == "").to_numpy()
    scientific = codes.str.fullmatch(_SCIENTIFIC).to_numpy(dtype=bool)
    cells = table.astype(str).apply(lambda c: c.str.strip().str.lower())
    total = cells.isin(_TOTAL_WORDS).any(axis=1).to_numpy() | codes.str.lower().isin(_TOTAL_WORDS).to_numpy()
    problems = _row_problems(total, rows, lambda r, i: Problem(
        "error", "This looks like a totals row (合计), not a unit.", file=file, row=r, column=column,
        fix="Delete the totals row: the tool sums the units itself."))
    problems += _row_problems(scientific & ~total, rows, lambda r, i: Problem(
        "error", f"The code '{codes.iloc[i]}' is in scientific notation: Excel rounded it and its digits are lost.",
        file=file, row=r, column=column,
        fix="Format the code column as text in Excel (or export the table again from its source) so every "
            "code keeps all its digits."))
    problems += _row_problems(blank & ~total, rows, lambda r, i: Problem(
        "error", "The unit code is blank.", file=file, row=r, column=column,
        fix="Give every row its unit's code (e.g. 110101001), or delete the row."))
    return blank | scientific | total, problems


MAX_UNIT_POPULATION = 1e8  # more people than any city has: a unit with more is a unit or typing error


def _population_problems(frame, columns, rows, *, file, headers, whole: bool = False) -> list[Problem]:
    """Per-cell checks of population columns (blank, not a number, negative, implausibly large,
    and with ``whole`` - a table of head counts - not a whole number); a header counting in 万人
    or per cent is an error for the whole column."""
    problems: list[Problem] = []
    for column in columns:
        header = headers.get(column, column)
        if re.search(r"万|千人|%|‰|百分|比例|占比|率", str(header)):
            problems.append(Problem("error", f"The column '{header}' is not a head count (its header says "
                                    "ten thousands, thousands or a share).", file=file, row=1, column=header,
                                    fix="Give the population as a number of people (e.g. 12.3 万人 = 123000)."))
        values, unusable, found_problems = _numeric_column(
            frame[column].map(lambda v: "" if v is None else str(v)), rows, file=file, column=header,
            blank=Problem("error", "The population is blank (NaN).",
                          fix="Fill in the population (0 if nobody lives there) or drop the column."),
            fix="Write plain numbers (no units, no thousands text).",
            negative="Negative population", negative_fix="Population must be zero or more.")
        problems += found_problems
        huge = ~unusable & (values > MAX_UNIT_POPULATION)
        problems += _row_problems(huge, rows, lambda r, i, v=values, h=header: Problem(
            "error", f"Implausible population ({v[i]:g}): more than {MAX_UNIT_POPULATION:,.0f} in one unit.",
            file=file, row=r, column=h, fix="Check the digits and the unit of the column (people)."))
        if whole:
            with np.errstate(invalid="ignore"):  # blank and non-numeric cells are NaN/inf, flagged above
                fraction = ~unusable & ~huge & (values >= 0) & (np.abs(values - np.round(values)) > 1e-9)
            problems += _row_problems(fraction, rows, lambda r, i, v=values, h=header: Problem(
                "error", f"The population is not a whole number ({v[i]:g}).", file=file, row=r, column=h,
                fix="Write whole numbers of people (a table in 万人 must be converted: 1.5 万人 = 15000; "
                    "round estimates)."))
        frame[column] = values
    return problems


def import_boundaries(path: str | Path, *, level: str = "street", column_map=None, districts=None,
                      layer: str | None = None, max_bytes: int = io.MAX_UPLOAD_BYTES,
                      require_mapped: bool = True) -> ImportResult:
    """Read unit outlines (GeoJSON, GeoPackage, Shapefile or a zip of one, GeoParquet) and check them."""
    path = Path(path)
    try:
        frame = io.read_vector_upload(path, layer=layer, max_bytes=max_bytes)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=path.name),), {})
    return check_boundaries(frame, name=path.name, level=level, column_map=column_map, districts=districts,
                            require_mapped=require_mapped)


# --- population -------------------------------------------------------------------------------


def join_population(units: gpd.GeoDataFrame, table: pd.DataFrame, *, name: str,
                    column_map: Mapping[str, str] | str | None = None,
                    require_mapped: bool = True, info: Mapping | None = None) -> ImportResult:
    """Join a population table to ``units`` by code.

    Table codes matching no unit are errors (each with its row); units the table does not list
    keep their previous population and are listed as a warning.  ``report['unmatched_codes']``
    and ``report['units_without_rows']`` hold them.
    """
    file = Path(name).name
    try:
        mapping = parse_column_map(column_map)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=file),), {})
    found, problems = _resolve_columns(table.columns, BOUNDARY_HEADERS, mapping, origin=file,
                                       require_mapped=require_mapped)
    report: dict = {"file": file, "rows": len(table), "column_map": dict(found)}
    problems += _duplicate_header_problems(info or {}, file=file)
    if len(table) == 0:
        problems.append(Problem("error", "The table has a header row but no data rows.", file=file, row=2,
                                fix="Add one row per unit below the header."))
    if "code" not in found:
        problems.append(Problem("error", f"No unit code column (the headers are: {', '.join(map(str, table.columns))}).",
                                file=file, column="code",
                                fix="Name it 区划代码 or code, or map it: --column-map code=<header>."))
    population = [c for c in POPULATION_COLUMNS if c in found]
    if not population:
        problems.append(Problem("error", "No population column (常住人口 / pop_total, 0-2岁 / pop_0_2, ...).",
                                file=file, fix="Name the columns as the data contract does, or map them: "
                                               "--column-map pop_total=<header>."))
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    rows = _table_rows(table, info)
    codes = table[found["code"]].map(_code_text)
    values = pd.DataFrame({c: table[found[c]] for c in population})
    problems += _population_problems(values, population, rows, file=file, headers=found, whole=True)
    not_codes, code_problems = _code_problems(codes, table, rows, file=file, column=found["code"])
    problems += code_problems
    duplicated = codes.duplicated(keep="first").to_numpy() & ~not_codes
    problems += _row_problems(duplicated, rows, lambda r, i: Problem(
        "error", f"Duplicate unit code '{codes.iloc[i]}'.", file=file, row=r, column=found["code"],
        fix="List every unit once."))
    known = set(units["code"].astype(str))
    unmatched = ~codes.isin(known).to_numpy() & ~not_codes
    problems += _row_problems(unmatched, rows, lambda r, i: Problem(
        "error", f"The code '{codes.iloc[i]}' matches no unit"
                 + (" (it has lost its leading zeros?)" if ("0" + codes.iloc[i]) in known else "") + ".",
        file=file, row=r, column=found["code"], fix="Use the units' codes (as text, e.g. 110101001)."))
    report["unmatched_codes"] = codes[unmatched].tolist()
    missing_units = sorted(known - set(codes))
    report["units_without_rows"] = missing_units
    if missing_units:
        problems.append(Problem("warning", f"{len(missing_units)} units have no row and keep their previous "
                                f"population: {', '.join(missing_units[:10])}{' ...' if len(missing_units) > 10 else ''}.",
                                file=file, column=found["code"], fix="Add a row for each unit."))
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
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
    return ImportResult(out, tuple(problems), report)


def import_population(path: str | Path, units: gpd.GeoDataFrame, *, encoding=None, column_map=None,
                      max_bytes: int = io.MAX_UPLOAD_BYTES, require_mapped: bool = True) -> ImportResult:
    """Read a population table (CSV/XLSX) and join it to ``units`` (see :func:`join_population`)."""
    path = Path(path)
    if path.suffix.lower() not in (*TABLE_SUFFIXES, ".xls") and path.is_file():
        return ImportResult(None, (Problem("error", f"Unknown table format '{path.suffix}'.", file=path.name,
                                           fix="Give the population as a .csv or .xlsx table keyed by unit code."),), {})
    try:
        data = io.read_upload(path, max_bytes=max_bytes)
        table, info = parse_table(data, name=path.name, encoding=encoding)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=path.name),), {})
    result = join_population(units, table, name=path.name, column_map=column_map,
                             require_mapped=require_mapped, info=info)
    return ImportResult(result.frame, result.problems, {**result.report, **info})


# --- a whole data folder --------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityInput:
    """One facility register to import: its file and kind."""

    path: Path
    kind: str


def _read_base(base: Path) -> tuple[dict, dict]:
    from .dataset import UNIT_FILES

    units = {}
    for level, filename in UNIT_FILES.items():
        file = base / "boundaries" / filename
        if file.exists():
            units[level] = io.read_vector(file)
    layers = {file.stem: file for file in sorted((base / "layers").glob("*.geojson"))} if (base / "layers").is_dir() else {}
    return units, layers


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def check_import(*, boundaries: str | Path | None = None, level: str = "street",
                 population: str | Path | None = None, facilities: Sequence[FacilityInput] = (),
                 base: str | Path | None = None, plan=None, datum: str | None = None,
                 encoding: str | None = None, column_map=None, out: str | Path | None = None,
                 max_bytes: int = io.MAX_UPLOAD_BYTES) -> ImportResult:
    """Read and check everything an import needs, writing nothing.

    Returns an :class:`ImportResult` whose ``frame`` is ``{'units': {level: frame}, 'layers':
    {kind: frame}, 'base_units': {level: Path}, 'base_layers': {kind: Path}, 'base': Path}``
    (imported frames in WGS84, ready to write; base files to copy) when there are no errors.  The same
    ``datum``, ``encoding`` and ``column_map`` apply to every file (``column_map`` keys that a
    file does not use are ignored for it).
    """
    from .dataset import default_data_dir
    from .plan import default_plan

    plan = plan or default_plan()
    base_dir = Path(base) if base is not None else default_data_dir()
    problems: list[Problem] = []
    report: dict = {"base": str(base_dir)}
    if level not in ("district", "street"):
        problems.append(Problem("error", f"Unknown level '{level}'.", fix="Use --level district or --level street."))
    if not (base_dir / "boundaries" / "districts.geojson").exists():
        problems.append(Problem("error", "The base folder has no boundaries/districts.geojson.", file=str(base_dir),
                                fix="Pass a data folder made by `geo-coverage import` (or leave --base out)."))
    if out is not None:
        out_dir = Path(out)
        inputs = [Path(p) for p in (boundaries, population) if p is not None] + [f.path for f in facilities]
        if out_dir.exists() and (_inside(base_dir, out_dir) and base_dir.resolve() != out_dir.resolve()):
            problems.append(Problem("error", "The output folder contains the base folder.", file=str(out_dir),
                                    fix="Write to a new folder, e.g. --out mydata."))
        for path in inputs:
            if _inside(path, out_dir):
                problems.append(Problem("error", "An input file lies inside the output folder, which is replaced "
                                        "as a whole.", file=str(path), fix="Write to another --out folder."))
        if out_dir.exists() and out_dir.is_dir() and any(out_dir.iterdir()) \
                and not (out_dir / "boundaries").is_dir() and not (out_dir / "dataset.yaml").exists():
            problems.append(Problem("error", "The output folder exists and is not a data folder; it would be "
                                    "replaced.", file=str(out_dir), fix="Choose a new or empty folder for --out."))
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    try:
        units, layer_files = _read_base(base_dir)
    except DataError as exc:
        return ImportResult(None, (Problem.from_error(exc),), report)
    several = sum(x is not None for x in (boundaries, population)) + len(facilities) > 1
    strict = not several
    new_units: dict[str, gpd.GeoDataFrame] = {}
    if boundaries is not None:
        result = guarded_read(lambda: import_boundaries(
            boundaries, level=level, column_map=column_map,
            districts=units.get("district") if level == "street" else None, max_bytes=max_bytes,
            require_mapped=strict), file=boundaries)
        problems += result.problems
        report["boundaries"] = result.report
        if result.frame is not None:
            new_units[level] = result.frame
    if population is not None:
        target = new_units.get(level, units.get(level))
        if target is None:
            problems.append(Problem("error", f"There are no {level} units to join the population to.",
                                    file=Path(population).name, fix="Import boundaries of that level too."))
        elif not has_errors(problems):
            result = guarded_read(lambda: import_population(population, target, encoding=encoding,
                                                        column_map=column_map, max_bytes=max_bytes,
                                                        require_mapped=strict), file=population)
            problems += result.problems
            report["population"] = result.report
            if result.frame is not None:
                new_units[level] = result.frame
            other = "district" if level == "street" else "street"
            unmatched = set(result.report.get("unmatched_codes", ()))
            if unmatched and other in units and unmatched <= set(units[other]["code"].astype(str)):
                problems.append(Problem("error", f"The codes that match no {level} are all {other} codes.",
                                        file=Path(population).name, fix=f"Import this table with --level {other}."))
    points_units = new_units.get("street", units.get("street"))
    if points_units is None:
        points_units = new_units.get("district", units.get("district"))
    layers: dict[str, gpd.GeoDataFrame] = {}
    for item in facilities:
        file = Path(item.path).name
        if item.kind not in plan.kinds:
            problems.append(Problem("error", f"Unknown facility kind '{item.kind}'.", file=file,
                                    fix=f"Use one of: {', '.join(plan.kinds)}."))
            continue
        if item.kind in layers:
            problems.append(Problem("error", f"Two registers for the kind '{item.kind}'.", file=file,
                                    fix="Merge them into one file per kind."))
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # reported as Problems already
            result = guarded_read(lambda: import_facilities(
                item.path, kind=item.kind, attributes=plan.kinds[item.kind].attributes, datum=datum,
                encoding=encoding, column_map=column_map, units=points_units, max_bytes=max_bytes,
                require_mapped=strict), file=item.path)
        problems += result.problems
        report[f"facilities.{item.kind}"] = result.report
        if result.frame is not None:
            layers[item.kind] = result.frame
    if several and not has_errors(problems):
        problems += _unused_mappings(column_map, report)
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    merged_units = {**units, **new_units}
    if "district" in new_units:
        merged_units.pop("city", None)  # re-derived from the new districts when loading
        if "street" in merged_units and "street" not in new_units:
            known = set(new_units["district"]["code"])
            if not merged_units["street"]["parent_code"].astype(str).isin(known).all():
                merged_units.pop("street")
                problems.append(Problem("warning", "The base streets do not belong to the imported districts "
                                        "and are left out.", fix="Import the streets too (--level street)."))
    from .dataset import UNIT_FILES

    # Unchanged base outlines are copied byte for byte; only imported levels are written anew.
    base_units = {level: base_dir / "boundaries" / UNIT_FILES[level] for level in merged_units
                  if level not in new_units}
    return ImportResult({"units": new_units, "base_units": base_units, "layers": layers, "base": base_dir,
                         "base_layers": layer_files}, tuple(problems), report)


def guarded_read(read, *, file) -> ImportResult:
    """Run one file's reader; anything it raises becomes a Problem naming the file, never a traceback
    (the readers return problems for every failure known; this is the net under the unknown ones)."""
    name = Path(file).name
    try:
        return read()
    except GeoCoverageError as exc:
        return ImportResult(None, (Problem.from_error(exc, file=name),), {})
    except Exception as exc:  # noqa: BLE001 - a damaged file can make any library raise anything
        reason = (str(exc).splitlines() or [""])[0][:200]
        return ImportResult(None, (Problem(
            "error", f"Cannot read the file ({type(exc).__name__}{': ' + reason if reason else ''}).", file=name,
            fix="Check that the file is complete and in the format its name says (export it again); if it is, "
                "report this message."),), {})


def _unused_mappings(column_map, report: Mapping) -> list[Problem]:
    """One --column-map serves every file: a mapping is an error only if no file has its header."""
    used = {header for part in report.values() if isinstance(part, Mapping)
            for header in (part.get("column_map") or {}).values()}
    return [Problem("error", f"The mapped column '{source}' (for {target}) is in none of the files.",
                    column=source, fix="Check the header's spelling in --column-map.")
            for target, source in parse_column_map(column_map).items() if source not in used]


def import_folder(out: str | Path, **options) -> ImportResult:
    """Check everything (see :func:`check_import`) and, only when there are no errors, write the
    data folder ``out`` atomically: it is built in a temporary sibling folder starting from the
    base folder's files, loaded once with :func:`geo_coverage.dataset.load_dataset` as a final
    check, and renamed into place.  On any error nothing is written and an existing ``out`` is
    left as it was.  Input files are only read.
    """
    from .dataset import UNIT_FILES, load_dataset

    if Path(out).absolute().parent.is_dir():
        io.clean_stale_builds(out)  # what a killed earlier import of this folder left behind
    result = check_import(out=out, **options)
    if not result.ok:
        return result
    parts = result.frame
    base_dir: Path = parts["base"]
    meta = io.read_yaml(base_dir / "dataset.yaml") if (base_dir / "dataset.yaml").exists() else {}
    meta = dict(meta or {})
    meta["name"] = Path(out).name
    notes = dict(meta.get("notes") or {})
    notes["import.base"] = str(base_dir)
    for key, value in result.report.items():
        if key.startswith("facilities.") or key in ("boundaries", "population"):
            notes[f"import.{key}"] = (f"{value.get('file', '?')}: {value.get('rows', '?')} rows, encoding "
                                      f"{value.get('encoding', '-')}, datum {value.get('datum', '-')}")
    meta["notes"] = notes
    try:
        with io.atomic_directory(out) as building:
            (building / "boundaries").mkdir()
            (building / "layers").mkdir()
            for level, frame in parts["units"].items():
                io.write_geojson(frame, building / "boundaries" / UNIT_FILES[level])
            for level, file in parts["base_units"].items():
                io.copy_file(file, building / "boundaries" / UNIT_FILES[level])
            for kind, file in parts["base_layers"].items():
                if kind not in parts["layers"]:
                    io.copy_file(file, building / "layers" / file.name)
            for kind, frame in parts["layers"].items():
                io.write_geojson(frame, building / "layers" / f"{kind}.geojson")
            io.write_yaml(meta, building / "dataset.yaml")
            load_dataset(building)
    except DataError as exc:
        return ImportResult(None, result.problems + (Problem.from_error(exc),), result.report)
    return ImportResult(Path(out), result.problems, result.report)
