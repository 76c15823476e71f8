"""SYNTHETIC facility layers for the national scale test (never real data, labelled as such).

Each kind of the embedded Beijing default gets, in every county-level unit, ``density`` × as many
facilities per resident as Beijing has; their attributes are drawn (with replacement, fixed
seed) from Beijing's own facilities of that kind, their positions uniformly inside the unit.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo_coverage.dataset import load_dataset

DROP = ("street_code", "district_code", "geometry", "id", "name", "source", "location_quality")


def _points_inside(geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = geometry.bounds
    found = []
    shapely.prepare(geometry)
    tries = 0
    while sum(len(f) for f in found) < n and tries < 50:
        x = rng.uniform(minx, maxx, 4 * n + 16)
        y = rng.uniform(miny, maxy, 4 * n + 16)
        inside = shapely.contains_xy(geometry, x, y)
        found.append(np.column_stack([x[inside], y[inside]]))
        tries += 1
    points = np.vstack(found)[:n]
    if len(points) < n:  # a sliver: fall back to its representative point
        anchor = shapely.point_on_surface(geometry)
        points = np.vstack([points, np.tile([anchor.x, anchor.y], (n - len(points), 1))])
    return points


def synthetic_layers(counties: gpd.GeoDataFrame, *, density: float, seed: int, crs) -> dict:
    """``kind -> GeoDataFrame`` (WGS84) of synthetic facilities for every unit of ``counties``."""
    beijing = load_dataset()
    residents = float(beijing.units["district"]["pop_total"].sum())
    metric = counties.to_crs(crs)
    population = metric["pop_total"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    layers = {}
    for kind in sorted(beijing.layers):
        template = beijing.layers[kind]
        per_resident = len(template) / residents * density
        counts = rng.poisson(population * per_resident)
        total = int(counts.sum())
        if total == 0:
            continue
        xy = np.vstack([_points_inside(g, int(c), rng) for g, c in zip(metric.geometry.values, counts,
                                                                       strict=True) if c])
        rows = template.drop(columns=[c for c in DROP if c in template]).iloc[
            rng.integers(0, len(template), total)].reset_index(drop=True)
        rows["id"] = [f"{kind}-{i:07d}" for i in range(total)]
        rows["name"] = [f"合成{kind}{i}" for i in range(total)]
        rows["source"] = "synthetic: national scale test (attributes drawn from the Beijing default)"
        rows["location_quality"] = "synthetic"
        frame = gpd.GeoDataFrame(rows, geometry=shapely.points(xy), crs=crs).to_crs(4326)
        layers[kind] = frame
    return layers
