"""All reading and writing of files.

Every writer is atomic: it writes a temporary file beside the target and renames it into place,
so a failure never leaves a half-written file and never touches the input.  Readers turn library
errors into :class:`~geo_coverage.errors.DataError` naming the file and how to fix it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator, Mapping

import pandas as pd
import yaml

from .errors import DataError

__all__ = [
    "read_yaml",
    "write_yaml",
    "read_vector",
    "write_geojson",
    "write_csv",
    "write_xlsx",
    "write_json",
    "write_text",
    "write_bytes",
    "read_csv",
    "atomic_path",
    "dataframe_to_geojson_bytes",
    "dataframe_to_xlsx_bytes",
    "dataframe_to_csv_bytes",
]


# --- atomic writing ---------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success."""
    target = Path(target)
    if target.parent and not target.parent.exists():
        raise DataError(f"The folder '{target.parent}' does not exist.", file=target,
                        fix="Create the folder first or choose another --out path.")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp",
                               dir=target.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(data: bytes, target: str | Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(text: str, target: str | Path, *, encoding: str = "utf-8") -> Path:
    return write_bytes(text.encode(encoding), target)


# --- YAML ---------------------------------------------------------------------------------------


def read_yaml(path: str | Path):
    """Read YAML with the safe loader (no Python tags); errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"Not UTF-8 text ({exc.reason}).", file=path,
                        fix="Save the file as UTF-8.") from None
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror}).", file=path) from None
    return parse_yaml(text, origin=path)


def parse_yaml(text: str, *, origin="<yaml>"):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"Invalid YAML: {problem}.", file=origin, row=row,
                        fix="Correct the YAML syntax; Python tags (!!python/...) are never accepted.") from None


def write_yaml(data, target: str | Path) -> Path:
    return write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), target)


# --- vectors ------------------------------------------------------------------------------------


def read_vector(path: str | Path, *, layer: str | None = None):
    """Read a vector file (GeoJSON, GeoPackage, Shapefile, GeoParquet) into a GeoDataFrame."""
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path.")
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        kwargs = {"layer": layer} if layer else {}
        return gpd.read_file(path, **kwargs)
    except DataError:
        raise
    except Exception as exc:  # the drivers raise many types; the user needs the file and reason
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"Cannot read as a vector file: {reason}", file=path,
                        fix="Check that the file is complete GeoJSON, GeoPackage, Shapefile or GeoParquet.") from None


def dataframe_to_geojson_bytes(frame) -> bytes:
    """GeoJSON (WGS84) as UTF-8 bytes with Chinese kept readable."""
    frame = frame.to_crs(4326) if frame.crs is not None else frame
    text = frame.to_json(ensure_ascii=False, drop_id=True, to_wgs84=False)
    return text.encode("utf-8")


def write_geojson(frame, target: str | Path) -> Path:
    return write_bytes(dataframe_to_geojson_bytes(frame), target)


# --- tables -------------------------------------------------------------------------------------


def dataframe_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with a BOM, so Excel shows Chinese headers and names correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def write_csv(frame: pd.DataFrame, target: str | Path) -> Path:
    return write_bytes(dataframe_to_csv_bytes(frame), target)


def dataframe_to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *, notes: Mapping[str, str] | None = None) -> bytes:
    """An XLSX workbook: one sheet per frame, frozen header row, column widths fitted to content.

    ``notes`` maps a sheet name to a line written above nothing: it is put in the sheet's first
    cell comment-free as a separate 'About' sheet so the data sheets keep a clean header row.
    """
    import io as _io

    from openpyxl.utils import get_column_letter

    buffer = _io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for position, column in enumerate(frame.columns, start=1):
                values = [str(column)] + [str(v) for v in frame[column].head(200).tolist()]
                width = max(_display_width(v) for v in values) + 2
                sheet.column_dimensions[get_column_letter(position)].width = min(max(width, 8), 60)
        if notes:
            about = pd.DataFrame({"说明 About": list(notes.values())}, index=list(notes.keys()))
            about.index.name = "项目 Item"
            about.reset_index().to_excel(writer, sheet_name="说明 About", index=False)
            writer.sheets["说明 About"].column_dimensions["A"].width = 24
            writer.sheets["说明 About"].column_dimensions["B"].width = 100
    return buffer.getvalue()


def _display_width(text: str) -> int:
    # CJK characters take two columns in Excel's default font.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_xlsx(sheets: Mapping[str, pd.DataFrame], target: str | Path, *, notes=None) -> Path:
    return write_bytes(dataframe_to_xlsx_bytes(sheets, notes=notes), target)


def write_json(data, target: str | Path) -> Path:
    return write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), target)


def read_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV keeping every column as text (codes and ids keep their leading zeros)."""
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
