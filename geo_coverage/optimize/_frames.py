"""Checks on the GeoDataFrames that ``from_geodataframes`` and the candidate helpers take."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .pairs import ids_of


def check_points(frame, what: str) -> None:
    """Raise unless ``frame`` is a GeoDataFrame of non-empty points."""
    import shapely  # with geopandas, only the GeoDataFrame paths need it

    geometry = getattr(frame, "geometry", None)
    if geometry is None:
        raise DataError(
            f"The {what} must be a GeoDataFrame of points.", fix="Build it with geopandas."
        )
    kinds = shapely.get_type_id(np.asarray(geometry.values))
    bad = (kinds != 0) | shapely.is_empty(np.asarray(geometry.values))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        found = (
            "empty"
            if kinds[row] == 0
            else geometry.iloc[row].geom_type
            if kinds[row] >= 0
            else "missing"
        )
        raise DataError(
            f"The {what} must be points; row {row + 1} is {found}.",
            fix="Use centroids or representative points (frame.representative_point()).",
        )


def check_same_crs(left, right, left_name: str, right_name: str) -> None:
    """Raise unless both frames are in one projected CRS (distances in metres)."""
    if left.crs is None or right.crs is None:
        raise DataError(
            f"The {left_name if left.crs is None else right_name} frame has no CRS.",
            fix="Set it with .set_crs(...) and project with .to_crs(dataset.crs).",
        )
    if not left.crs.is_projected:
        raise DataError(
            f"The {left_name} frame is in {left.crs.to_string()}, a geographic CRS; "
            "distances would be in degrees.",
            fix="Project with .to_crs(dataset.crs), e.g. EPSG:32650.",
        )
    if left.crs != right.crs:
        raise DataError(
            f"The {left_name} ({left.crs.to_string()}) and {right_name} "
            f"({right.crs.to_string()}) are in different CRSs.",
            fix=f"Project the {right_name} with .to_crs({left_name}.crs).",
        )


def frame_ids(frame, column: str | None, what: str) -> tuple[str, ...]:
    """Unique ids as text from ``column`` (the index when ``None``)."""
    if column is None:
        values = frame.index
    elif column not in frame.columns:
        raise DataError(
            f"The {what} have no column '{column}'.",
            column=column,
            fix=f"Choose one of: {', '.join(map(str, frame.columns))}.",
        )
    else:
        values = frame[column]
    return ids_of(list(values), len(frame), what)


def numeric_column(frame, column: str, what: str) -> np.ndarray:
    """A column as finite numbers ≥ 0; the first bad value is named with its row."""
    if column not in frame.columns:
        raise DataError(
            f"The {what} have no column '{column}'.",
            column=column,
            fix=f"Choose one of: {', '.join(map(str, frame.columns))}.",
        )
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"The {what} value '{frame[column].iloc[row]}' is not a number ≥ 0.",
            row=row + 1,
            column=column,
            fix="Fill it with a number (0 if there is none).",
        )
    return values


def candidates_with_existing(candidates, existing, id_column: str | None):
    """Candidate points and ids, with ``existing`` facility points appended when it is a frame.

    Returns the points (shapely array), the ids, and ``existing`` as the point models take it:
    the appended ids when it was a GeoDataFrame, else as given (ids, positions or a mask).
    """
    import geopandas as gpd  # heavy: only the GeoDataFrame constructors need it

    candidate_ids = frame_ids(candidates, id_column, "candidates")
    points = np.asarray(candidates.geometry.values)
    if isinstance(existing, gpd.GeoDataFrame):
        check_points(existing, "existing")
        existing_ids = frame_ids(existing, id_column, "existing")
        check_same_crs(candidates, existing, "candidates", "existing")
        points = np.concatenate([points, np.asarray(existing.geometry.values)])
        candidate_ids = candidate_ids + existing_ids
        existing = list(existing_ids)
    return points, candidate_ids, existing
