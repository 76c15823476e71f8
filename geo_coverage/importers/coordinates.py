"""Where a register's points fall: swapped, projected or foreign coordinates, points outside every
unit, and the evidence for a datum (a GCJ-02 or BD-09 shift) read from the unit outlines."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .. import datum as datum_module
from ..dataset import locate_points
from ..errors import DataWarning
from .problems import Problem, row_problems

__all__ = ["LON_RANGE", "LAT_RANGE", "datum_evidence"]

# China's extent with a margin: used only to tell swapped coordinates from real ones.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)


def check_coordinates(lon: np.ndarray, lat: np.ndarray, usable: np.ndarray, rows: np.ndarray, *, file: str,
                      columns: Sequence[str | None]) -> list[Problem]:
    """Swapped longitude/latitude, projected metres, and points outside China."""
    problems: list[Problem] = []
    in_china = usable & (lon >= LON_RANGE[0]) & (lon <= LON_RANGE[1]) & (lat >= LAT_RANGE[0]) & (lat <= LAT_RANGE[1])
    swapped = (usable & ~in_china & (lat >= LON_RANGE[0]) & (lat <= LON_RANGE[1])
               & (lon >= LAT_RANGE[0]) & (lon <= LAT_RANGE[1]))
    problems += row_problems(swapped, rows, lambda r, i: Problem(
        "error", f"Longitude and latitude look swapped ({columns[0]}={lon[i]:g}, {columns[1]}={lat[i]:g}).",
        file=file, row=r, column=columns[0],
        fix="Swap the two values (or map the columns: --column-map lon=...,lat=...); in China the longitude "
            "is the larger number (73-135) and the latitude the smaller (3-54)."))
    projected = usable & ~in_china & ~swapped & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    problems += row_problems(projected, rows, lambda r, i: Problem(
        "error", f"({lon[i]:g}, {lat[i]:g}) is not longitude/latitude in degrees (projected metres?).",
        file=file, row=r, column=columns[0],
        fix="Export the coordinates as decimal degrees (WGS84, GCJ-02 or BD-09)."))
    elsewhere = usable & ~in_china & ~swapped & ~projected
    problems += row_problems(elsewhere, rows, lambda r, i: Problem(
        "error", f"({lon[i]:g}, {lat[i]:g}) lies outside China.", file=file, row=r, column=columns[0],
        fix="Check the coordinates (sign, digits, degrees-minutes written as decimals)."))
    return problems


def check_against_units(lon: np.ndarray, lat: np.ndarray, usable: np.ndarray, rows: np.ndarray,
                        units: gpd.GeoDataFrame, *, file: str, columns: Sequence[str | None], datum: str | None,
                        labels: np.ndarray | None = None) -> tuple[list[Problem], dict]:
    """Points outside every unit, and whether another datum would fit the units better.

    Returns the problems and the datum evidence (see :func:`datum_evidence`).  An undeclared
    datum that the evidence contradicts is an error; a declared one is a warning (also issued as
    a :class:`~geo_coverage.errors.DataWarning`).
    """
    problems: list[Problem] = []
    evidence = datum_evidence(lon[usable], lat[usable], units, datum=datum or "wgs84",
                              unit_labels=None if labels is None else labels[usable])
    inside = np.zeros(len(lon), dtype=bool)
    inside[usable] = evidence.pop("_inside")
    outside = usable & ~inside
    problems += row_problems(outside, rows, lambda r, i: Problem(
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


def datum_evidence(lon: Any, lat: Any, units: gpd.GeoDataFrame, *, datum: str = "wgs84",
                   unit_labels: Sequence[str] | np.ndarray | None = None) -> dict:
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

    Parameters
    ----------
    lon, lat
        The file's raw coordinates (degrees); each reading converts them from one datum.
    units
        Unit outlines (any CRS; WGS84 when none is set) with a ``code`` (and ``name``) column.
    datum
        The declared datum.
    unit_labels
        The unit code or name the register gives for each point, if any.

    Returns
    -------
    dict
        ``points``, ``declared``, ``as_declared`` and ``as_<datum>`` (``share_inside``,
        ``inside``, ``median_edge_distance_m``, with labels ``share_in_named_unit`` and
        ``in_named_unit``, for other readings the sign test's counts and ``sign_test_p``), the
        private ``_inside`` mask of the declared reading, and ``suggested_datum`` (or ``None``).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    frame = units if units.crs is not None else units.set_crs(4326)
    metric = frame.crs if frame.crs.is_projected else utm_zone(frame.to_crs(4326).total_bounds)
    polygons = frame.to_crs(metric).geometry.values
    tree = shapely.STRtree(polygons)
    edges = shapely.STRtree(shapely.boundary(polygons))
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
            out[label].update(_named_unit_fit(points, frame, polygons, metric, unit_labels))
    out["suggested_datum"] = _suggested_datum(out, signed_by_reading, len(lon))
    return out


def _named_unit_fit(points: np.ndarray, frame: gpd.GeoDataFrame, polygons: np.ndarray, metric: Any,
                    unit_labels: Sequence[str] | np.ndarray) -> dict:
    """How many points lie in the unit whose code or name the register gives for them."""
    located = locate_points(points, gpd.GeoDataFrame({"code": frame["code"].astype(str).to_numpy()},
                                                     geometry=polygons, crs=metric))
    names = dict(zip(frame["code"].astype(str), frame["name"].astype(str), strict=True)) if "name" in frame else {}
    named = np.array([label_text in (code, names.get(code, "")) and code != ""
                      for label_text, code in zip(unit_labels, located, strict=True)], dtype=bool)
    return {"share_in_named_unit": float(named.mean()) if len(named) else 0.0,
            "in_named_unit": int(named.sum())}


def _suggested_datum(out: dict, signed_by_reading: dict[str, np.ndarray], count: int) -> str | None:
    """The reading that fits clearly better than the declared one (see :func:`datum_evidence`),
    with each other reading's sign-test figures added to ``out``."""
    if count < 5:
        return None
    from scipy.stats import binomtest  # scipy.stats takes a while to import; only this needs it

    base = out["as_declared"]
    best, best_gain = None, 0.0
    for label, signed in signed_by_reading.items():
        if label == "as_declared":
            continue
        other = out[label]
        difference = signed - signed_by_reading["as_declared"]
        deeper, shallower = int((difference > 1.0).sum()), int((difference < -1.0).sum())
        # Uniformly placed points gain and lose depth equally under any shift; true coordinates
        # of sited facilities (inside blocks, off the edge roads) gain depth when unshifted.
        p_value = binomtest(deeper, deeper + shallower, 0.5, alternative="greater").pvalue if deeper else 1.0
        other["points_deeper"] = deeper
        other["points_shallower"] = shallower
        other["sign_test_p"] = float(p_value)
        more_inside = other["inside"] - base["inside"] >= max(2, 0.05 * count)
        consistently_deeper = (other["inside"] >= base["inside"] and p_value < 1e-3
                               and other["median_edge_distance_m"] - base["median_edge_distance_m"] >= 50.0)
        gain = other["inside"] - base["inside"] + float(np.median(difference)) / 1e4
        agrees = False
        if "in_named_unit" in base:
            gained = other["in_named_unit"] - base["in_named_unit"]
            agrees = gained >= max(2, 0.1 * count)
            gain += 1e6 * gained
            if gained < 0:  # the named streets contradict this reading
                continue
        if (more_inside or consistently_deeper or agrees) and gain > best_gain:
            best, best_gain = label.removeprefix("as_"), gain
    return best


def utm_zone(bounds: Sequence[float]) -> str:
    """The northern UTM zone of the bounds' centre (pyproj's estimate_utm_crs queries a database)."""
    centre = (bounds[0] + bounds[2]) / 2
    return f"EPSG:{32600 + int((centre + 180) // 6) % 60 + 1}"
