"""Candidate sites in, scenario edits out.

Candidate frames come from a regular grid inside units (:func:`grid_candidates`), a facility
layer (:func:`layer_candidates`) or an uploaded table of coordinates (:func:`table_candidates`);
:func:`solution_to_edits` turns the chosen ones into "add facility" edits for a scenario.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validate import checked_numbers
from ..datum import to_wgs84
from ..errors import DataError
from ._frames import check_points, frame_ids
from .base import Solution
from .pairs import ids_of

__all__ = ["grid_candidates", "layer_candidates", "table_candidates", "solution_to_edits"]

# A grid is refused beyond this many lattice points to test (it would take minutes and gigabytes).
_GRID_POINT_LIMIT = 20_000_000


def _lattice(polygons: np.ndarray, spacing: float):
    """Every multiple of ``spacing`` in each polygon's bounds: (owner polygon, grid x, grid y)."""
    import shapely  # with geopandas, only the GeoDataFrame paths need it

    bounds = shapely.bounds(polygons)
    x_first, x_last = np.ceil(bounds[:, 0] / spacing), np.floor(bounds[:, 2] / spacing)
    y_first, y_last = np.ceil(bounds[:, 1] / spacing), np.floor(bounds[:, 3] / spacing)
    columns = np.maximum(x_last - x_first + 1, 0).astype(np.int64)
    rows = np.maximum(y_last - y_first + 1, 0).astype(np.int64)
    counts = columns * rows
    if counts.sum() > _GRID_POINT_LIMIT:
        raise DataError(
            f"A {spacing} m grid would test {counts.sum():,} points.", fix="Use a wider spacing."
        )
    owner = np.repeat(np.arange(len(polygons)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    grid_x = (x_first[owner] + within % columns[owner]).astype(np.int64)
    grid_y = (y_first[owner] + within // columns[owner]).astype(np.int64)
    return owner, grid_x, grid_y


def grid_candidates(
    units, *, spacing: float, unit_codes: Iterable[str] | None = None, code_column: str = "code"
):
    """Candidate points on a regular grid inside units.

    The grid is anchored at multiples of ``spacing`` in the units' CRS, so grids of
    neighbouring units line up and ids are stable: ``grid-<x>-<y>`` (metres).

    Parameters
    ----------
    units
        GeoDataFrame of unit polygons in a projected CRS.
    spacing
        Distance between grid points, in metres.
    unit_codes
        Only these units (default all).
    code_column
        Column with the unit codes (the index is used when it is absent).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``unit_code`` and point geometry, in the units' CRS.
    """
    import geopandas as gpd  # heavy: only the GeoDataFrame paths need it
    import shapely

    if units.crs is None or not units.crs.is_projected:
        raise DataError(
            "Grid candidates need units in a projected CRS (metres).",
            fix="Project with .to_crs(dataset.crs).",
        )
    if not np.isfinite(spacing) or spacing <= 0:
        raise DataError(
            f"The grid spacing must be positive, not {spacing!r}.", fix="Give metres, e.g. 500."
        )
    codes = (
        (units[code_column] if code_column in units.columns else units.index.to_series())
        .astype(str)
        .to_numpy()
    )
    chosen = np.ones(len(units), dtype=bool)
    if unit_codes is not None:
        wanted = {str(code) for code in unit_codes}
        unknown = wanted.difference(codes)
        if unknown:
            raise DataError(
                f"Unknown unit code '{sorted(unknown)[0]}'.", fix="Use codes of the units given."
            )
        chosen = np.isin(codes, list(wanted))
    polygons = np.asarray(units.geometry.values)[chosen]
    codes = codes[chosen]
    owner, grid_x, grid_y = _lattice(polygons, spacing)
    inside = shapely.contains_xy(polygons[owner], grid_x * spacing, grid_y * spacing)
    owner, grid_x, grid_y = owner[inside], grid_x[inside], grid_y[inside]
    # Overlapping units would otherwise contribute the same lattice point twice.
    _, first = np.unique(np.stack([grid_x, grid_y], axis=1), axis=0, return_index=True)
    first = np.sort(first)
    owner, x, y = owner[first], grid_x[first] * spacing, grid_y[first] * spacing
    ids = (
        "grid-"
        + pd.Series(np.round(x).astype(np.int64)).astype(str)
        + "-"
        + pd.Series(np.round(y).astype(np.int64)).astype(str)
    )
    return gpd.GeoDataFrame(
        {"id": ids.to_numpy(dtype=object), "unit_code": codes[owner]},
        geometry=shapely.points(x, y),
        crs=units.crs,
    )


def layer_candidates(layer, *, id_column: str = "id", crs=None):
    """A facility layer's points as candidates (e.g. public venues), ids kept as text.

    Parameters
    ----------
    layer
        GeoDataFrame of points.
    id_column
        Column with unique ids.
    crs
        Project to this CRS first (default: keep the layer's, which must be projected).

    Returns
    -------
    geopandas.GeoDataFrame
        The layer's rows with ``id`` as text, a fresh index, in a projected CRS.
    """
    check_points(layer, "layer")
    frame = layer.to_crs(crs) if crs is not None else layer
    if frame.crs is None or not frame.crs.is_projected:
        raise DataError("Candidates need a projected CRS (metres).", fix="Pass crs=dataset.crs.")
    ids = frame_ids(frame, id_column, "layer")
    frame = frame.copy()
    frame["id"] = list(ids)
    return frame.reset_index(drop=True)


def table_candidates(
    table: pd.DataFrame,
    *,
    crs,
    id_column: str = "id",
    lon_column: str = "lon",
    lat_column: str = "lat",
    datum: str = "wgs84",
    file=None,
):
    """Candidates from an uploaded table of longitude / latitude (any of WGS84, GCJ-02, BD-09).

    Parameters
    ----------
    table
        Rows with an id and coordinates (text is fine: it is parsed here).
    crs
        The dataset's projected CRS.
    id_column, lon_column, lat_column
        Column names.
    datum
        ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or ``"bd09"`` (Baidu).
    file
        The table's file name, for error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id`` and point geometry in ``crs``.

    Raises
    ------
    DataError
        A column is missing, a coordinate is not a number in range, or an id repeats; the
        message names the file, spreadsheet row and column.
    """
    import geopandas as gpd  # heavy: only the GeoDataFrame paths need it

    for column in (id_column, lon_column, lat_column):
        if column not in table.columns:
            raise DataError(
                f"The column '{column}' is missing.",
                file=file,
                column=column,
                fix=f"Columns present: {', '.join(map(str, table.columns))}.",
            )
    coordinates = [
        checked_numbers(table[column].astype(str).str.strip(), file=file, column=column, low=low, high=high,
                        message=f"'{{value}}' is not a coordinate between {low} and {high}.",
                        fix="Give decimal degrees.", shown=table[column])
        for column, low, high in ((lon_column, -180, 180), (lat_column, -90, 90))
    ]
    lon, lat = to_wgs84(coordinates[0], coordinates[1], datum)
    ids = ids_of(table[id_column].astype(str).str.strip().tolist(), len(table), "candidate")
    frame = gpd.GeoDataFrame({"id": list(ids)}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    return frame.to_crs(crs)


def solution_to_edits(
    solution: Solution,
    candidates,
    *,
    kind: str,
    attributes: Mapping[str, Any] | None = None,
    id_column: str = "id",
) -> list[dict]:
    """Turn a solution's new sites into "add facility" edits for a scenario.

    Parameters
    ----------
    solution
        The result of ``solve()``.
    candidates
        The candidate GeoDataFrame the model was built from (projected CRS).
    kind
        The facility kind to add (a kind of the plan, e.g. ``"elderly_care"``).
    attributes
        Attributes every new facility gets (e.g. ``{"beds": 300}``).
    id_column
        Candidate id column (the index is used when absent).

    Returns
    -------
    list of dict
        ``{"action": "add", "kind", "lon", "lat", "datum": "wgs84", "attributes", "id"}`` per
        selected site, in the order of ``solution.selected``; each edit's ``source`` names the
        model and the candidate unless ``attributes`` gives one.
    """
    ids = pd.Index(
        frame_ids(candidates, id_column if id_column in candidates.columns else None, "candidates")
    )
    found = ids.get_indexer(list(solution.selected))
    if (found < 0).any():
        missing = solution.selected[int(np.flatnonzero(found < 0)[0])]
        raise DataError(
            f"The selected candidate '{missing}' is not in the candidate frame.",
            fix="Pass the candidates the model was built from.",
        )
    if candidates.crs is None:
        raise DataError("The candidates have no CRS.", fix="Set the CRS the model was built in.")
    points = candidates.geometry.iloc[found].to_crs(4326)
    edits = []
    for candidate_id, lon, lat in zip(
        solution.selected, points.x.to_numpy(), points.y.to_numpy(), strict=True
    ):
        values = dict(attributes or {})
        values.setdefault(
            "source", f"scenario: {solution.model} optimiser, candidate {candidate_id}"
        )
        edits.append(
            {
                "action": "add",
                "kind": kind,
                "lon": float(lon),
                "lat": float(lat),
                "datum": "wgs84",
                "attributes": values,
                "id": f"{solution.model}-{candidate_id}",
            }
        )
    return edits
