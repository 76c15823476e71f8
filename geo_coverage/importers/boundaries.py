"""Unit outlines: any CRS in, checked (geometry, codes, extent, overlaps, parents, population
columns) and brought to the data contract (WGS84, ``code`` as text, ``level``, ``parent_code``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import io
from ..dataset import POPULATION_COLUMNS, locate_points
from ..errors import DataError
from .cells import SCIENTIFIC, code_text, population_problems
from .coordinates import LAT_RANGE, LON_RANGE, utm_zone
from .headers import BOUNDARY_HEADERS, parse_column_map, resolve_columns
from .problems import ImportResult, Problem, failed, has_errors, refused, row_problems

__all__ = ["check_boundaries", "import_boundaries"]


def check_boundaries(frame: gpd.GeoDataFrame, *, name: str, level: str = "street",
                     column_map: Mapping[str, str] | str | None = None, districts: gpd.GeoDataFrame | None = None,
                     require_mapped: bool = True) -> ImportResult:
    """Check unit outlines and bring them to the data contract (WGS84, ``code`` as text, ...).

    Parameters
    ----------
    frame
        The outlines as read, in any CRS (CGCS2000 EPSG:4490 included).
    name
        The file name (provenance and messages).
    level
        ``district`` or ``street``.
    column_map
        ``{'code': '区划代码', 'name': '街道名称', 'parent_code': ..., 'pop_total': ...}``.
    districts
        The district outlines the streets belong to (optional): used to derive a missing
        ``parent_code`` and to check the outlines lie in the same city.
    require_mapped
        Whether a ``column_map`` source missing from the file is an error.

    Returns
    -------
    ImportResult
        The WGS84 outlines (``code``, ``name``, the optional columns found, ``level``,
        ``parent_code``, ``pop_source``, ``source``, ``outline_quality``; ``None`` on errors),
        every problem, and the report (rows, level, column_map, geometry_types).
    """
    file = Path(name).name
    try:
        mapping = parse_column_map(column_map)
    except DataError as exc:
        return failed(exc, file=file)
    report: dict = {"file": file, "rows": len(frame), "level": level}
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        return refused("The file has no geometry (a table, not outlines).", file=file, report=report,
                       fix="Export the outlines as GeoJSON, GeoPackage or a zipped Shapefile.")
    if len(frame) == 0:
        return refused("The file has no features.", file=file, fix="Export the outlines again.", report=report)
    attribute_columns = [c for c in frame.columns if c != frame.geometry.name]
    found, problems = resolve_columns(attribute_columns, BOUNDARY_HEADERS, mapping, origin=file,
                                      require_mapped=require_mapped)
    report["column_map"] = dict(found)
    problems += _missing_columns(found, attribute_columns, crs=frame.crs, file=file)
    rows = np.arange(len(frame)) + 1
    geometry_problems, report["geometry_types"] = _geometry_problems(frame, rows, file=file)
    problems += geometry_problems
    if has_errors(problems):
        return ImportResult(None, tuple(problems), report)
    codes = frame[found["code"]].map(code_text)
    problems += _code_problems(codes, rows, file=file, column=found["code"])
    out = gpd.GeoDataFrame({"code": codes.to_numpy(dtype=object),
                            "name": frame[found["name"]].astype(str).str.strip().to_numpy(dtype=object)},
                           geometry=shapely.force_2d(np.asarray(frame.geometry.values)),  # heights dropped
                           crs=frame.crs).to_crs(4326)
    misplaced = _outside_china(out.total_bounds, crs=frame.crs, file=file)
    if misplaced is not None:
        return ImportResult(None, (*problems, misplaced), report)
    if districts is not None and len(districts):
        problems += _outside_city(out, districts, rows, file=file)
    metric = utm_zone(out.total_bounds)
    shapes = out.to_crs(metric).geometry.values
    problems += _overlap_problems(shapes, rows, codes.to_numpy(dtype=object), file=file)
    problems += row_problems((out["name"] == "").to_numpy(), rows, lambda r, i: Problem(
        "warning", "The unit name is blank; reports will show only its code.", file=file, row=r,
        column=found["name"], fix="Fill in the unit's name."))
    for optional in ("name_en", *POPULATION_COLUMNS):
        if optional in found:
            out[optional] = frame[found[optional]].to_numpy()
    out["level"] = level
    problems += _parent_codes(out, frame, found, rows, level=level, districts=districts, shapes=shapes,
                              metric=metric, file=file)
    problems += population_problems(out, [c for c in POPULATION_COLUMNS if c in found], rows, file=file,
                                    headers=found)
    out["pop_source"] = f"imported: {file}"
    out["source"] = f"imported: {file}"
    out["outline_quality"] = "official"
    return ImportResult(out, tuple(problems), report)


def _missing_columns(found: Mapping[str, str], columns: list, *, crs: Any, file: str) -> list[Problem]:
    """Errors for a file without a code or name column, or without a CRS."""
    problems = []
    for required in ("code", "name"):
        if required not in found:
            problems.append(Problem("error", f"No '{required}' column (the columns are: "
                                    f"{', '.join(map(str, columns)) or 'none'}).", file=file,
                                    column=required, fix=f"Add it or map it: --column-map {required}=<header>."))
    if crs is None:
        problems.append(Problem("error", "The file declares no coordinate reference system.", file=file,
                                fix="Add the .prj to the Shapefile (or save as GeoJSON/GeoPackage with its CRS); "
                                    "CGCS2000 is EPSG:4490."))
    return problems


def _geometry_problems(frame: gpd.GeoDataFrame, rows: np.ndarray, *, file: str) -> tuple[list[Problem], list[str]]:
    """Missing, non-polygon and invalid geometries; and the geometry types present."""
    geometries = np.asarray(frame.geometry.values)
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    problems = row_problems(missing, rows, lambda r, i: Problem(
        "error", "The feature has no geometry.", file=file, row=r, column="geometry",
        fix="Draw the outline or remove the feature."))
    types = np.asarray(shapely.get_type_id(geometries))
    not_polygon = ~missing & ~np.isin(types, [3, 6])
    kinds = sorted({g.geom_type for g in geometries[not_polygon]})
    problems += row_problems(not_polygon, rows, lambda r, i: Problem(
        "error", f"A unit must be a polygon, not a {geometries[i].geom_type}"
                 + (" (the file mixes geometry types)." if not_polygon.sum() < len(frame) else "."),
        file=file, row=r, column="geometry", fix="Keep only the polygon outlines in the file."))
    polygonal = ~missing & ~not_polygon
    with np.errstate(all="ignore"):  # absurd coordinates (1e308) overflow inside GEOS; reported below
        invalid = polygonal & ~shapely.is_valid(geometries)
        reasons = shapely.is_valid_reason(geometries)
    problems += row_problems(invalid, rows, lambda r, i: Problem(
        "error", f"Invalid polygon: {reasons[i]}.", file=file, row=r, column="geometry",
        fix="Repair the outline (QGIS: Fix Geometries; or shapely.make_valid) and check its area."))
    return problems, sorted({g.geom_type for g in geometries[~missing]}) or kinds


def _code_problems(codes: pd.Series, rows: np.ndarray, *, file: str, column: str) -> list[Problem]:
    """Blank, scientific-notation and duplicate unit codes."""
    blank = (codes == "").to_numpy()
    problems = row_problems(blank, rows, lambda r, i: Problem(
        "error", "The unit code is blank.", file=file, row=r, column=column,
        fix="Give every unit its official code (e.g. 110101001)."))
    scientific = codes.str.fullmatch(SCIENTIFIC).to_numpy(dtype=bool)
    problems += row_problems(scientific, rows, lambda r, i: Problem(
        "error", f"The code '{codes.iloc[i]}' is in scientific notation: its digits are lost.", file=file, row=r,
        column=column, fix="Store the codes as text (e.g. 110101001) and export the outlines again."))
    duplicated = codes.duplicated(keep="first").to_numpy() & ~blank & ~scientific
    problems += row_problems(duplicated, rows, lambda r, i: Problem(
        "error", f"Duplicate unit code '{codes.iloc[i]}'.", file=file, row=r, column=column,
        fix="Give every unit its own code (merge the parts into one multipolygon)."))
    return problems


def _outside_china(bounds: np.ndarray, *, crs: Any, file: str) -> Problem | None:
    """The error for outlines whose WGS84 extent is not in China (a wrong CRS or swapped axes)."""
    if (LON_RANGE[0] <= bounds[0] and bounds[2] <= LON_RANGE[1] and LAT_RANGE[0] <= bounds[1]
            and bounds[3] <= LAT_RANGE[1]):
        return None
    swapped = (LON_RANGE[0] <= bounds[1] and bounds[3] <= LON_RANGE[1] and LAT_RANGE[0] <= bounds[0]
               and bounds[2] <= LAT_RANGE[1])
    corners = [f"{v:.3f}" if abs(v) < 1e9 else f"{v:.3g}" for v in bounds]
    return Problem("error", f"In the declared CRS ({crs.to_string()}) the outlines fall at "
                   f"{corners[0]},{corners[1]} .. {corners[2]},{corners[3]}, outside China: "
                   + ("the coordinates are latitude, longitude (swapped)." if swapped else
                      "the declared CRS is probably wrong."), file=file,
                   fix="Export the outlines again with x = longitude, y = latitude (GeoJSON is "
                       "always longitude first)." if swapped else
                       "Declare the CRS the coordinates are really in (e.g. EPSG:4490, "
                       "EPSG:4326, EPSG:32650) and export again.")


def _outside_city(out: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, rows: np.ndarray, *,
                  file: str) -> list[Problem]:
    """Outlines that touch none of the city's districts (a wrong CRS or another city's file)."""
    city = shapely.union_all(districts.to_crs(4326).geometry.values)
    overlaps = shapely.intersects(out.geometry.values, city)
    return row_problems(~overlaps, rows, lambda r, i: Problem(
        "error", "The outline lies outside the city's districts.", file=file, row=r, column="geometry",
        fix="Check the CRS and that the file is for this city."))


def _parent_codes(out: gpd.GeoDataFrame, frame: gpd.GeoDataFrame, found: Mapping[str, str], rows: np.ndarray, *,
                  level: str, districts: gpd.GeoDataFrame | None, shapes: np.ndarray, metric: str,
                  file: str) -> list[Problem]:
    """Set ``out['parent_code']`` (from the file, or for streets from where each lies among
    ``districts``) and check it names a district the street lies in."""
    problems: list[Problem] = []
    if districts is not None and not len(districts):
        districts = None
    if "parent_code" in found:
        out["parent_code"] = frame[found["parent_code"]].map(code_text).to_numpy(dtype=object)
    elif level == "street" and districts is not None:
        street_metric = out.estimate_utm_crs()
        points = shapely.point_on_surface(out.to_crs(street_metric).geometry.values)
        out["parent_code"] = locate_points(points, districts.to_crs(street_metric).reset_index(drop=True))
        problems.append(Problem("warning", "No parent_code column; each street's district was found from "
                                "where its outline lies.", file=file, column="parent_code",
                                fix="Add the district code (上级代码) to be explicit."))
    else:
        out["parent_code"] = ""
    if level != "street" or districts is None:
        return problems
    known = set(districts["code"].astype(str))
    unknown = ~out["parent_code"].isin(known).to_numpy()
    problems += row_problems(unknown, rows, lambda r, i: Problem(
        "error", f"The parent code '{out['parent_code'].iloc[i]}' is not a district code.", file=file,
        row=r, column=found.get("parent_code", "parent_code"),
        fix="Use the district codes of the dataset (e.g. 110105)."))
    if "parent_code" in found:
        problems += _parent_problems(shapes, out["parent_code"].to_numpy(dtype=object), rows,
                                     districts.to_crs(metric), file=file, column=found["parent_code"])
    return problems


def _overlap_problems(shapes: np.ndarray, rows: np.ndarray, codes: np.ndarray, *, file: str,
                      tolerance: float = 0.01) -> list[Problem]:
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
    return row_problems(np.ones(len(flagged), dtype=bool), rows[right[flagged]], lambda r, i: Problem(
        "error", f"The outline overlaps unit '{codes[left[flagged[i]]]}' (row {rows[left[flagged[i]]]}) over "
                 f"{share[flagged[i]]:.0%} of the smaller one.", file=file, row=r, column="geometry",
        fix="Make the units tile the city without overlaps (QGIS: Topology Checker); draw each unit once."))


def _parent_problems(shapes: np.ndarray, parents: np.ndarray, rows: np.ndarray, districts: gpd.GeoDataFrame, *,
                     file: str, column: str) -> list[Problem]:
    """Streets lying mostly outside the district their parent code names."""
    by_code = dict(zip(districts["code"].astype(str), districts.geometry.values, strict=True))
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
    located = locate_points(shapely.point_on_surface(np.asarray(shapes)), districts.reset_index(drop=True))
    return row_problems(wrong, rows, lambda r, i: Problem(
        "error", f"The street lies in district '{located[i] or 'none'}', not in its parent '{parents[i]}' "
                 f"({share[i]:.0%} of it inside).", file=file, row=r, column=column,
        fix="Correct the parent code (上级代码) or the outline."))


def import_boundaries(path: str | Path, *, level: str = "street", column_map: Mapping[str, str] | str | None = None,
                      districts: gpd.GeoDataFrame | None = None, layer: str | None = None,
                      max_bytes: int = io.MAX_UPLOAD_BYTES, require_mapped: bool = True) -> ImportResult:
    """Read unit outlines (GeoJSON, GeoPackage, Shapefile or a zip of one, GeoParquet) and check them.

    Parameters
    ----------
    path
        The file.
    layer
        The layer of a multi-layer file (or the zip member's name).
    max_bytes
        The largest file read.
    level, column_map, districts, require_mapped
        As for :func:`check_boundaries`.

    Returns
    -------
    ImportResult
        As for :func:`check_boundaries`.
    """
    path = Path(path)
    try:
        frame = io.read_vector_upload(path, layer=layer, max_bytes=max_bytes)
    except DataError as exc:
        return failed(exc, file=path.name)
    return check_boundaries(frame, name=path.name, level=level, column_map=column_map, districts=districts,
                            require_mapped=require_mapped)
