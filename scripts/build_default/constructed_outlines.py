"""The fallback street outlines, for a city that has only street points and areas.

A weighted Voronoi (power) diagram per district, started at the units' representative points and
fitted so each cell's area comes near the unit's known ``area_km2`` with the point inside its own
cell; all cells of the city are then noded together on the grid and stray pieces merged into the
neighbour they share the longest edge with.  The Beijing default used these until real outlines
could be carried (boundaries/README.md); ``build_default --outlines constructed`` still builds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .common import GRID_SIZE
from .partition import merge_fragments, snap_partition


@dataclass(frozen=True)
class PowerDiagramSettings:
    """How the street cells are fitted.

    ``sample_points`` grid points per district measure cell areas during the fit; each of the
    ``iterations`` moves the weights by ``step`` × (target − area) and the generators by
    ``relaxation`` of the way to their cell's centroid (a damped Lloyd step), then pulls back any
    generator whose representative point would leave its cell.
    """

    sample_points: int = 20_000
    iterations: int = 300
    step: float = 0.5
    relaxation: float = 0.05
    max_drift: float = 0.3


def local_metric_scale(latitude: float) -> tuple[float, float]:
    """Metres per degree of longitude and latitude near ``latitude`` (equirectangular)."""
    phi = np.radians(latitude)
    metres_lat = 111132.92 - 559.82 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi)
    metres_lon = 111412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi)
    return float(metres_lon), float(metres_lat)


def fit_power_diagram(
    region,
    sites_xy: np.ndarray,
    targets: np.ndarray,
    *,
    scale: tuple[float, float],
    settings: PowerDiagramSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Generators (lon, lat) and weights (m²) of a power diagram whose cells in ``region`` have
    areas near ``targets`` (m², summing to the region's area) and contain their ``sites_xy``.

    Areas and centroids are measured on a regular grid of sample points.  Each iteration moves the
    weights towards the target areas and the generators part of the way to their cells'
    centroids (compact cells), then restores the one hard rule: the representative point of a
    unit lies in that unit's cell (pull its generator back towards it, and if needed raise its
    weight just enough).
    """
    kx, ky = scale
    minx, miny, maxx, maxy = shapely.bounds(region)
    width_m, height_m = (maxx - minx) * kx, (maxy - miny) * ky
    area_m2 = shapely.area(region) * kx * ky
    spacing = np.sqrt(area_m2 / settings.sample_points)
    xs = minx + (np.arange(int(width_m / spacing) + 1) + 0.5) * spacing / kx
    ys = miny + (np.arange(int(height_m / spacing) + 1) + 0.5) * spacing / ky
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid_x, grid_y = grid_x.ravel(), grid_y.ravel()
    shapely.prepare(region)
    inside = shapely.contains_xy(region, grid_x, grid_y)
    px, py = (grid_x[inside] - minx) * kx, (grid_y[inside] - miny) * ky
    cell_area = area_m2 / inside.sum()
    sites = np.column_stack([(sites_xy[:, 0] - minx) * kx, (sites_xy[:, 1] - miny) * ky])
    n = len(sites)
    generators = sites.copy()
    weights = np.zeros(n)
    reach = settings.max_drift * np.sqrt(np.asarray(targets, dtype=float) / np.pi)
    if n > 1:
        for _ in range(settings.iterations):
            power = (
                (px[:, None] - generators[None, :, 0]) ** 2
                + (py[:, None] - generators[None, :, 1]) ** 2
                - weights
            )
            owner = np.argmin(power, axis=1)
            counts = np.bincount(owner, minlength=n)
            weights = weights + settings.step * (targets - counts * cell_area)
            weights -= weights.mean()
            occupied = counts > 0
            centroids = generators.copy()
            centroids[occupied, 0] = (
                np.bincount(owner, px, minlength=n)[occupied] / counts[occupied]
            )
            centroids[occupied, 1] = (
                np.bincount(owner, py, minlength=n)[occupied] / counts[occupied]
            )
            generators = generators + settings.relaxation * (centroids - generators)
            # A generator may drift from its representative point by at most a fraction of its
            # target radius: small cells can move off a district edge, large ones keep their place.
            offset = generators - sites
            distance = np.hypot(offset[:, 0], offset[:, 1])
            shrink = np.minimum(1.0, reach / np.maximum(distance, 1e-9))
            generators = sites + offset * shrink[:, None]
            generators, weights = _keep_sites_in_cells(sites, generators, weights)
    lonlat = np.column_stack([minx + generators[:, 0] / kx, miny + generators[:, 1] / ky])
    return lonlat, weights


def _keep_sites_in_cells(
    sites: np.ndarray,
    generators: np.ndarray,
    weights: np.ndarray,
    *,
    pull_rounds: int = 8,
    raise_rounds: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """Pull generators back (and, as a last resort, raise weights) until every site is in its cell.

    A site is inside its own cell when its power distance to its own generator is the smallest;
    a margin of 1 % of the squared distance to the nearest other site keeps it off the edge.
    """
    generators, weights = generators.copy(), weights.copy()
    n = len(sites)
    site_gap = ((sites[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(site_gap, np.inf)
    margin = 0.01 * site_gap.min(axis=1)
    diagonal = np.arange(n)
    for attempt in range(pull_rounds + raise_rounds):
        power = ((sites[:, None, :] - generators[None, :, :]) ** 2).sum(axis=2) - weights[None, :]
        own = power[diagonal, diagonal]
        power[diagonal, diagonal] = np.inf
        deficit = own + margin - power.min(axis=1)
        bad = deficit > 0
        if not bad.any():
            break
        if attempt < pull_rounds and not np.array_equal(generators[bad], sites[bad]):
            generators[bad] = sites[bad] + 0.5 * (generators[bad] - sites[bad])
        else:
            # Raising w_i past the deficit puts site i back in its cell; it can only take ground
            # from neighbours (whose sites are re-checked next round), and the outer iteration
            # re-balances the areas.
            weights[bad] += deficit[bad] + margin[bad]
    return generators, weights


def power_cells(
    region, sites_xy: np.ndarray, weights: np.ndarray, *, scale: tuple[float, float]
) -> np.ndarray:
    """The power-diagram cells of the sites, clipped to ``region``, in lon/lat.

    With the local metric ``d² = (kx Δlon)² + (ky Δlat)²`` every bisector is a straight line in
    lon/lat, so each cell is an intersection of half-planes computed directly in degrees.
    """
    kx, ky = scale
    minx, miny, maxx, maxy = shapely.bounds(region)
    pad = max(maxx - minx, maxy - miny)
    box = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    n = len(sites_xy)
    cells = np.empty(n, dtype=object)
    if n == 1:
        cells[0] = region
        return cells
    # Half-plane of i against j: a·x + b·y <= c with
    # a = 2 kx² (xj - xi), b = 2 ky² (yj - yi), c = kx²(xj² - xi²) + ky²(yj² - yi²) - wj + wi
    # (in coordinates relative to the region's corner, to keep the numbers small).
    x = sites_xy[:, 0] - minx
    y = sites_xy[:, 1] - miny
    big = 4 * pad
    for i in range(n):
        polygons = []
        for j in range(n):
            if j == i:
                continue
            a = 2 * kx * kx * (x[j] - x[i])
            b = 2 * ky * ky * (y[j] - y[i])
            c = (
                kx * kx * (x[j] ** 2 - x[i] ** 2)
                + ky * ky * (y[j] ** 2 - y[i] ** 2)
                - weights[j]
                + weights[i]
            )
            norm = np.hypot(a, b)
            a, b, c = a / norm, b / norm, c / norm
            # A point on the line, the line direction, and the inward normal (-a, -b).
            ox, oy = a * c, b * c
            dx, dy = -b, a
            corners = np.array(
                [
                    [ox + dx * big, oy + dy * big],
                    [ox - dx * big, oy - dy * big],
                    [ox - dx * big - a * big, oy - dy * big - b * big],
                    [ox + dx * big - a * big, oy + dy * big - b * big],
                ]
            )
            corners[:, 0] += minx
            corners[:, 1] += miny
            polygons.append(shapely.Polygon(corners))
        polygons.append(box)
        cells[i] = shapely.intersection(
            shapely.intersection_all(np.array(polygons, dtype=object)), region
        )
    return cells


def street_outlines(
    district_geometry,
    sites_xy: np.ndarray,
    target_km2: np.ndarray,
    *,
    settings: PowerDiagramSettings,
) -> np.ndarray:
    """Approximate street cells clipped to ``district_geometry`` (WGS84; not yet on the grid)."""
    scale = local_metric_scale(float(np.mean(shapely.bounds(district_geometry)[[1, 3]])))
    area_m2 = shapely.area(district_geometry) * scale[0] * scale[1]
    targets = np.asarray(target_km2, dtype=float)
    targets = targets / targets.sum() * area_m2
    generators, weights = fit_power_diagram(
        district_geometry, sites_xy, targets, scale=scale, settings=settings
    )
    return power_cells(district_geometry, generators, weights, scale=scale)


def constructed_street_outlines(
    table: pd.DataFrame,
    districts: gpd.GeoDataFrame,
    *,
    settings: PowerDiagramSettings = PowerDiagramSettings(),
) -> np.ndarray:
    """Approximate outlines for the streets of ``table`` (one per row, WGS84, on the grid).

    Parameters
    ----------
    table
        One row per street: ``district_code``, representative point ``lon``/``lat`` and
        ``area_km2``.
    districts
        The district outlines (``code``, geometry) the streets must tile.
    settings
        How the power diagram is fitted.

    Returns
    -------
    numpy.ndarray
        One (Multi)Polygon per row of ``table``; streets tile their districts exactly.
    """
    geometry = np.empty(len(table), dtype=object)
    district_index = districts.set_index("code")
    for code in districts["code"]:
        rows = np.flatnonzero((table["district_code"] == code).to_numpy())
        sites = table.iloc[rows][["lon", "lat"]].to_numpy()
        geometry[rows] = street_outlines(
            district_index.loc[code, "geometry"],
            sites,
            table.iloc[rows]["area_km2"].to_numpy(),
            settings=settings,
        )
    # One city-wide noding: snapping each district on its own would bend shared district edges
    # differently on either side and leave centimetre slivers between neighbouring districts.
    geometry = snap_partition(
        geometry, region=shapely.union_all(districts.geometry.values, grid_size=GRID_SIZE)
    )
    return merge_fragments(
        geometry,
        table["district_code"].to_numpy(),
        shapely.points(table[["lon", "lat"]].to_numpy()),
    )
