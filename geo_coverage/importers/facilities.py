"""Facility registers: CSV/XLSX bytes (lon/lat or WKT, headers in Chinese or English, WGS84, GCJ-02
or BD-09 coordinates) or a point layer, checked cell by cell into a WGS84 point layer."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import datum as datum_module
from .. import io
from ..errors import DataError
from .cells import MAX_FACILITY_ATTRIBUTE, decimal_comma, numeric_column
from .coordinates import check_against_units, check_coordinates
from .headers import (
    FACILITY_HEADERS,
    duplicate_header_problems,
    normalise_header,
    parse_column_map,
    resolve_columns,
)
from .problems import ImportResult, Problem, failed, refused, row_problems
from .tables import TABLE_SUFFIXES, parse_table, table_rows

__all__ = ["parse_facilities", "facilities_from_table", "import_facilities"]

_TRUE = {"1", "true", "yes", "y", "是", "有", "√", "t"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", "f", ""}
_STATUS_WORDS = {"": "existing", "在营": "existing", "运营": "existing", "已建": "existing",
                 "规划": "planned", "在建": "planned", "拟建": "planned"}
_BASE_KEYS = ("id", "name", "lon", "lat", "wkt", "address", "status", "unit")


def parse_facilities(data: bytes, *, name: str, kind: str, attributes: Mapping[str, str] | None = None,
                     datum: str | None = None, encoding: str | None = None,
                     column_map: Mapping[str, str] | str | None = None, units: gpd.GeoDataFrame | None = None,
                     require_mapped: bool = True, max_rows: int = io.MAX_TABLE_ROWS) -> ImportResult:
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
    max_rows
        The most rows read (``--max-rows``); a longer table is an error.

    Returns
    -------
    ImportResult
        The layer (``id``, ``kind``, ``name``, ``status``, the attributes, ``source``,
        ``location_quality``; ``None`` on errors), every problem, and the report (rows, encoding,
        format, datum, column_map, datum_evidence).
    """
    file = Path(name).name
    try:
        table, info = parse_table(data, name=file, encoding=encoding, max_rows=max_rows)
    except DataError as exc:
        return failed(exc, file=file)
    return facilities_from_table(table, name=file, kind=kind, attributes=attributes, datum=datum,
                                 column_map=column_map, units=units, require_mapped=require_mapped,
                                 info=info)


def facilities_from_table(table: pd.DataFrame, *, name: str, kind: str, attributes: Mapping[str, str] | None = None,
                          datum: str | None = None, column_map: Mapping[str, str] | str | None = None,
                          units: gpd.GeoDataFrame | None = None, require_mapped: bool = True,
                          info: Mapping[str, Any] | None = None) -> ImportResult:
    """Check a register already parsed into a frame of text cells.

    Parameters
    ----------
    table
        Text cells, as :func:`~geo_coverage.importers.parse_table` gives them.
    name
        The file name (provenance and messages).
    kind, attributes, datum, column_map, units, require_mapped
        As for :func:`parse_facilities`.
    info
        What :func:`~geo_coverage.importers.parse_table` reported (rows, encoding, headers).

    Returns
    -------
    ImportResult
        As for :func:`parse_facilities`.
    """
    file = Path(name).name
    attributes = dict(attributes or {})
    try:
        mapping = parse_column_map(column_map)
        datum_name = None if datum is None else datum_module.check_datum(datum)
    except DataError as exc:
        return failed(exc, file=file)
    info = dict(info or {})
    report = {"file": file, "rows": len(table), "columns": list(table.columns), **info,
              "datum": datum_name or "wgs84 (undeclared)"}
    aliases = {k: v for k, v in FACILITY_HEADERS.items() if k in _BASE_KEYS or k in attributes}
    found, problems = resolve_columns(table.columns, aliases, mapping, origin=file, require_mapped=require_mapped)
    report["column_map"] = dict(found)
    problems += duplicate_header_problems(info, file=file)
    if len(table) == 0:
        problems.append(Problem("error", "The file has a header row but no data rows.", file=file,
                                row=int(info.get("first_row", 2)), fix="Add one row per facility below the header."))
        return ImportResult(None, tuple(problems), report)
    # Spreadsheet rows (the header is row 1); a vector layer counts features from 1.
    rows = table_rows(table, info)
    if "wkt" not in found and not ("lon" in found and "lat" in found):
        problems.append(_no_coordinates(table, found, rows, file=file))
        return ImportResult(None, tuple(problems), report)
    if "lon" in found and "lat" in found:
        lon, lat, usable, found_problems = _lonlat(table, found, rows, file=file)
    else:
        lon, lat, usable, found_problems = _wkt_points(table, found["wkt"], rows, file=file)
    problems += found_problems
    coordinate_columns = (found.get("lon", found.get("wkt")), found.get("lat", found.get("wkt")))
    problems += check_coordinates(lon, lat, usable, rows, file=file, columns=coordinate_columns)
    in_range = usable & (lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90)
    wlon, wlat = lon.copy(), lat.copy()
    if in_range.any():
        wlon[in_range], wlat[in_range] = datum_module.to_wgs84(lon[in_range], lat[in_range], datum_name or "wgs84")
        report["datum_shift_m"] = _mean_shift_m(lon[in_range], lat[in_range], wlon[in_range],
                                                wlat[in_range])
    columns, found_problems = _facility_columns(table, found, rows, kind=kind, attributes=attributes, file=file)
    problems += found_problems
    frame = gpd.GeoDataFrame(columns, geometry=shapely.points(wlon, wlat), crs="EPSG:4326")
    frame.loc[~in_range, "geometry"] = None
    if units is not None and in_range.any():
        labels = table[found["unit"]].astype(str).str.strip().to_numpy(dtype=object) if "unit" in found else None
        unit_problems, evidence = check_against_units(lon, lat, in_range, rows, units, file=file,
                                                      columns=coordinate_columns, datum=datum_name,
                                                      labels=labels)
        problems += unit_problems
        report["datum_evidence"] = evidence
    return ImportResult(frame, tuple(problems), report)


def _mean_shift_m(lon: np.ndarray, lat: np.ndarray, wlon: np.ndarray, wlat: np.ndarray) -> float:
    """The mean geodesic distance (m) the datum conversion moved the points (0 for WGS84)."""
    from pyproj import Geod

    _, _, distance = Geod(ellps="WGS84").inv(lon, lat, wlon, wlat)
    return float(np.mean(distance)) if len(distance) else 0.0


def _no_coordinates(table: pd.DataFrame, found: Mapping[str, str], rows: np.ndarray, *, file: str) -> Problem:
    """The error for a register without coordinate columns (or with them on a second header row)."""
    missing = [c for c in ("lon", "lat") if c not in found]
    coordinate_names = {normalise_header(n) for key in ("lon", "lat") for n in FACILITY_HEADERS[key]}
    below = [str(c).strip() for c in table.iloc[0].tolist() if normalise_header(c) in coordinate_names]
    if below:  # a header of two rows (merged cells): the coordinate headers are in the second
        return Problem(
            "error", f"The header spans two rows (merged cells?): the coordinate headers "
            f"({', '.join(below)}) are on row {rows[0]}, below the header row {rows[0] - 1}.", file=file,
            row=int(rows[0]), fix="Make the header a single row: unmerge the cells and give every column "
                                  "one header (经度, 纬度, ...).")
    return Problem(
        "error", f"No coordinate columns: found no {' or '.join(missing)} header "
        f"(the headers are: {', '.join(map(str, table.columns))}).", file=file,
        column=" / ".join(missing),
        fix="Name the columns 经度/纬度 or lon/lat (or give WKT in a 'wkt' column), or map them with "
            "--column-map lon=...,lat=....")


def _lonlat(table: pd.DataFrame, found: Mapping[str, str], rows: np.ndarray, *,
            file: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Problem]]:
    """Longitude and latitude columns: values, the mask of usable rows, and the problems."""
    problems: list[Problem] = []
    parsed = {}
    for key in ("lon", "lat"):
        cells = table[found[key]]
        values, unusable, found_problems = numeric_column(
            cells, rows, file=file, column=found[key],
            blank=Problem("error", "The coordinate is blank.", fix="Fill in the coordinate or remove the row."),
            fix="Write decimal degrees, e.g. 116.397 and 39.909.")
        # A decimal comma ("116,397"; European Excel settings) is named as such, not read as
        # thousands (116397, "projected metres?") nor as a wrong number.
        comma = decimal_comma(cells)
        if comma.any():
            found_problems = [p for p in found_problems if p.row not in set(rows[comma].tolist())]
            found_problems += _decimal_comma_problems(comma, rows, cells, file=file, column=found[key])
            values = np.where(comma, np.nan, values)
            unusable = unusable | comma
        parsed[key] = (values, unusable)
        problems += found_problems
    (lon, lon_unusable), (lat, lat_unusable) = parsed["lon"], parsed["lat"]
    return lon, lat, ~(lon_unusable | lat_unusable), problems


def _decimal_comma_problems(comma: np.ndarray, rows: np.ndarray, cells: pd.Series, *, file: str,
                            column: str) -> list[Problem]:
    return row_problems(comma, rows, lambda r, i: Problem(
        "error", f"'{cells.iloc[i]}' has a decimal comma.", file=file, row=r, column=column,
        fix=f"Write a decimal point ({str(cells.iloc[i]).strip().replace(',', '.').replace('，', '.')}): "
            "export with '.' as the decimal separator (Excel: File > Options > Advanced)."))


def _wkt_points(table: pd.DataFrame, column: str, rows: np.ndarray, *,
                file: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Problem]]:
    """Points given as WKT: longitudes, latitudes, the mask of usable rows, and the problems."""
    text = table[column].astype(str).str.strip().to_numpy()
    geometries = np.asarray(shapely.from_wkt(text, on_invalid="ignore"), dtype=object)
    blank = text == ""
    unreadable = np.array([g is None for g in geometries]) & ~blank
    points = np.array([g is not None and g.geom_type == "Point" and not g.is_empty for g in geometries])
    problems = row_problems(blank, rows, lambda r, i: Problem(
        "error", "The geometry is blank.", file=file, row=r, column=column,
        fix="Write a point, e.g. POINT (116.397 39.909)."))
    problems += row_problems(unreadable, rows, lambda r, i: Problem(
        "error", "Not readable as WKT.", file=file, row=r, column=column,
        fix="Write a point as WKT, e.g. POINT (116.397 39.909)."))
    nonpoint = ~points & ~blank & ~unreadable
    problems += row_problems(nonpoint, rows, lambda r, i: Problem(
        "error", f"A facility must be a point, not a {geometries[i].geom_type}.", file=file, row=r,
        column=column, fix="Give each facility's location as POINT (lon lat)."))
    coords = shapely.get_coordinates(geometries[points]) if points.any() else np.empty((0, 2))
    lon = np.full(len(table), np.nan)
    lat = np.full(len(table), np.nan)
    lon[points], lat[points] = coords[:, 0], coords[:, 1]
    return lon, lat, points, problems


def _facility_columns(table: pd.DataFrame, found: Mapping[str, str], rows: np.ndarray, *, kind: str,
                      attributes: Mapping[str, str], file: str) -> tuple[dict[str, Any], list[Problem]]:
    """The layer's columns but geometry (id, kind, name, address, status, attributes, source)."""
    ids, problems = _ids(table, found, rows, kind=kind, file=file)
    names = table[found["name"]].astype(str).str.strip() if "name" in found else pd.Series([""] * len(table))
    if "name" not in found:
        problems.append(Problem("warning", "No name column; facilities will be unnamed.", file=file,
                                column="name", fix="Add a 名称 / name column."))
    columns: dict[str, Any] = {"id": ids.to_numpy(dtype=object), "kind": kind, "name": names.to_numpy(dtype=object)}
    if "address" in found:
        columns["address"] = table[found["address"]].astype(str).to_numpy(dtype=object)
    status = (table[found["status"]].astype(str).str.strip() if "status" in found
              else pd.Series(["existing"] * len(table))).replace(_STATUS_WORDS)
    bad_status = ~status.isin(["existing", "planned"]).to_numpy()
    problems += row_problems(bad_status, rows, lambda r, i: Problem(
        "error", f"Unknown status '{status.iloc[i]}'.", file=file, row=r, column=found.get("status"),
        fix="Use existing (在营) or planned (规划)."))
    columns["status"] = status.to_numpy(dtype=object)
    for attribute, kind_type in attributes.items():
        if attribute in found:
            columns[attribute], found_problems = _attribute(table[found[attribute]], rows, attribute=attribute,
                                                            kind_type=kind_type, column=found[attribute], file=file)
            problems += found_problems
    columns["source"] = f"imported: {file}"
    columns["location_quality"] = "exact"
    return columns, problems


def _ids(table: pd.DataFrame, found: Mapping[str, str], rows: np.ndarray, *, kind: str,
         file: str) -> tuple[pd.Series, list[Problem]]:
    """The id column (blank and duplicate ids are errors), or ids made from row numbers."""
    if "id" not in found:
        ids = pd.Series([f"{kind}-{r}" for r in rows])
        return ids, [Problem("warning", f"No id column; ids are made from row numbers ({ids.iloc[0]}, ...).",
                             file=file, column="id",
                             fix="Add an id (编号) column so facilities keep their ids between imports.")]
    column = found["id"]
    ids = table[column].astype(str).str.strip()
    blank_id = (ids == "").to_numpy()
    problems = row_problems(blank_id, rows, lambda r, i: Problem(
        "error", "The id is blank.", file=file, row=r, column=column,
        fix="Give every facility an id unique within the file."))
    # Full-width characters and spaces do not make an id another one ('Ｅ０１', 'E 01' = 'E01').
    keys = ids.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    duplicated = keys.duplicated(keep=False).to_numpy() & ~blank_id
    first_row = pd.Series(rows).groupby(keys.to_numpy()).transform("min").to_numpy()
    first_text = dict(zip(rows.tolist(), ids.tolist(), strict=True))
    problems += row_problems(duplicated & (rows != first_row), rows, lambda r, i: Problem(
        "error", f"Duplicate id '{ids.iloc[i]}' (first on row {first_row[i]}"
                 + (f" as '{first_text[first_row[i]]}'" if first_text[first_row[i]] != ids.iloc[i] else "")
                 + ").", file=file, row=r, column=column, fix="Give every facility its own id."))
    return ids, problems


def _attribute(cells: pd.Series, rows: np.ndarray, *, attribute: str, kind_type: str, column: str,
               file: str) -> tuple[np.ndarray, list[Problem]]:
    """One typed attribute column: numbers (blank is a warning, negative an error), yes/no, or text."""
    if kind_type == "number":
        values, _, problems = numeric_column(
            cells, rows, file=file, column=column,
            blank=Problem("warning", f"{attribute} is blank; the facility counts with no {attribute}.",
                          fix=f"Fill in {attribute} (0 if it has none)."),
            fix=f"Write {attribute} as a plain number (no units or text).",
            negative=f"{attribute} is negative", negative_fix=f"{attribute} must be zero or more.",
            maximum=MAX_FACILITY_ATTRIBUTE, what=attribute)
        return values, problems
    if kind_type == "bool":
        lowered = cells.astype(str).str.strip().str.lower()
        bad = ~lowered.isin(_TRUE | _FALSE).to_numpy()
        problems = row_problems(bad, rows, lambda r, i: Problem(
            "error", f"'{cells.iloc[i]}' is not yes or no.", file=file, row=r, column=column,
            fix="Write 是/否 or yes/no."))
        return lowered.isin(_TRUE).to_numpy(), problems
    return cells.astype(str).str.strip().to_numpy(dtype=object), []


def import_facilities(path: str | Path, *, kind: str, attributes: Mapping[str, str] | None = None,
                      datum: str | None = None, encoding: str | None = None,
                      column_map: Mapping[str, str] | str | None = None, units: gpd.GeoDataFrame | None = None,
                      max_bytes: int = io.MAX_UPLOAD_BYTES, require_mapped: bool = True,
                      max_rows: int = io.MAX_TABLE_ROWS) -> ImportResult:
    """Read a facility register file: CSV/XLSX, or a point layer (GeoJSON, GeoPackage, zipped
    Shapefile, GeoParquet) whose attributes are the register's columns.

    Parameters
    ----------
    path
        The file.
    kind, attributes, datum, encoding, column_map, units, require_mapped
        As for :func:`parse_facilities` (for a point layer, ``datum`` says which Chinese datum
        its degrees are in).
    max_bytes
        The largest file read.
    max_rows
        The most rows read from a CSV/XLSX table.

    Returns
    -------
    ImportResult
        As for :func:`parse_facilities`.
    """
    path = Path(path)
    try:
        data = io.read_upload(path, max_bytes=max_bytes)
    except DataError as exc:
        return failed(exc, file=path.name)
    if path.suffix.lower() in (*io.VECTOR_SUFFIXES, ".zip"):
        return _facilities_from_vector(path, kind=kind, attributes=attributes, datum=datum, column_map=column_map,
                                       units=units, max_bytes=max_bytes, require_mapped=require_mapped)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return refused(f"Unknown table format '{path.suffix}'.", file=path.name,
                       fix="Use .csv or .xlsx (or a point layer: GeoJSON, GeoPackage, zipped Shapefile, GeoParquet).")
    return parse_facilities(data, name=path.name, kind=kind, attributes=attributes, datum=datum,
                            encoding=encoding, column_map=column_map, units=units,
                            require_mapped=require_mapped, max_rows=max_rows)


def _facilities_from_vector(path: Path, *, kind: str, attributes: Mapping[str, str] | None, datum: str | None,
                            column_map: Mapping[str, str] | str | None, units: gpd.GeoDataFrame | None,
                            max_bytes: int, require_mapped: bool) -> ImportResult:
    """A point layer read as a register whose geometry is the WKT column (its CRS converted to
    degrees first; ``datum`` then says which Chinese datum those degrees are in)."""
    try:
        frame = io.read_vector_upload(path, max_bytes=max_bytes)
    except DataError as exc:
        return failed(exc, file=path.name)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return refused("The file has no geometry.", file=path.name,
                       fix="Export the facilities as points, or as CSV with lon/lat.")
    if frame.crs is None:
        return refused("The file declares no coordinate reference system.", file=path.name,
                       fix="Save it with its CRS (EPSG:4326 for degrees).")
    if len(frame.columns) == 1 and len(frame):
        return refused("The layer has geometry only, no attributes (no id, name or capacity): a bare geometry, "
                       "not a register.", file=path.name,
                       fix="Export the facilities as features with their attributes (a FeatureCollection), or "
                           "as CSV/XLSX with lon/lat.")
    geometry = frame.to_crs(4326).geometry.values
    table = frame.drop(columns=[frame.geometry.name]).copy()
    table = table.astype(object).where(table.notna(), "").astype(str)
    table["wkt"] = np.where(shapely.is_missing(geometry), "", shapely.to_wkt(geometry, rounding_precision=9))
    if any(normalise_header(c) in ("lon", "lng", "longitude", "经度") for c in table.columns):
        table = table.drop(columns=["wkt"])  # explicit coordinate columns win, as in a table
    return facilities_from_table(table, name=path.name, kind=kind, attributes=attributes, datum=datum,
                                 column_map=column_map, units=units, require_mapped=require_mapped,
                                 info={"encoding": "-", "format": path.suffix.lower().lstrip("."), "first_row": 1})
