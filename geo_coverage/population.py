"""Demand: weighted points from a population raster, or from one rasterised from unit populations.

Every demand point is a raster cell whose centre lies in one of the finest units (streets where the
dataset has them, else districts).  A raster says *where* people live inside a unit; the unit's
census or estimate says *how many*: cell weights are renormalised per unit so they add up to the
unit's population exactly, for every population column (age groups follow the same pattern).

Without a raster, the units' ``pop_total`` is spread evenly over each outline at a chosen
resolution and written as a GeoTIFF in memory, so the default path runs through the same reader as
a WorldPop grid would.
"""

from __future__ import annotations

import json
from collections import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import shapely
from affine import Affine

from . import io
from .dataset import POPULATION_COLUMNS, Dataset
from .errors import DataError

__all__ = [
    "DemandPoints",
    "demand_points",
    "finest_level",
    "rasterise_population",
    "write_population_raster",
]

_NODATA = -1.0


@dataclass(frozen=True, eq=False)
class DemandPoints:
    """Weighted demand points (raster cells) in the dataset's metric CRS.  Arrays are read-only.

    Attributes
    ----------
    x, y
        Cell centres in ``crs`` (metres).
    weights
        ``population column -> weights``; inside each unit they add up to its population.
    unit_index
        Position of each point's unit in ``unit_codes`` (the finest level's codes).
    unit_codes, unit_level
        The finest units (``street`` when the dataset has streets, else ``district``).
    street_code, district_code
        Codes of each point's street ('' without streets) and district.
    crs, resolution_m, source
        CRS of x and y, the nominal cell size, and where the pattern came from.
    """

    x: np.ndarray
    y: np.ndarray
    weights: Mapping[str, np.ndarray]
    unit_index: np.ndarray
    unit_codes: np.ndarray
    unit_level: str
    street_code: np.ndarray
    district_code: np.ndarray
    crs: object
    resolution_m: float
    source: str
    # Memo of derived, read-only structures (KD-tree, coarser grids); never part of equality.
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.x)

    @property
    def xy(self) -> np.ndarray:
        """``(n, 2)`` coordinates."""
        if "xy" not in self._memo:
            self._memo["xy"] = _read_only(np.column_stack([self.x, self.y]))
        return self._memo["xy"]

    def weight(self, column: str) -> np.ndarray:
        """The weights of one population column (``DataError`` if the units do not have it)."""
        if column not in self.weights:
            raise DataError(f"The {self.unit_level} units have no population column '{column}'.",
                            column=column, fix=f"Add '{column}' to the {self.unit_level} boundaries.")
        return self.weights[column]

    @property
    def geometry(self) -> DemandPoints:
        """The points whose positions these are: ``self``, or for a :meth:`rescaled` copy the
        points it was scaled from (same positions, same KD-tree, same coarser cells).  Caches of
        anything that depends on positions alone (covered masks, catchment matrices) key on it."""
        return self._memo.get("geometry", self)

    def tree(self):
        """A KD-tree of the points, built once and kept with them (shared by rescaled copies)."""
        if self.geometry is not self:
            return self.geometry.tree()
        if "tree" not in self._memo:
            from scipy.spatial import cKDTree

            # Grid points: an unbalanced, non-compact tree builds several times faster.
            self._memo["tree"] = cKDTree(self.xy, balanced_tree=False, compact_nodes=False)
        return self._memo["tree"]

    def coarsened(self, cell_m: float) -> DemandPoints:
        """The points merged into square cells of ``cell_m`` metres, separately per unit.

        Each merged point sits at the population-weighted centre of the cells it merges (by
        ``pop_total`` when present) and keeps its unit, so unit totals are unchanged.  Used where a
        catchment is wide enough that a coarser grid changes nothing material (30-minute drives).
        """
        cell_m = float(cell_m)
        if cell_m <= self.resolution_m:
            return self
        key = ("coarsened", cell_m)
        if key not in self._memo:
            factors = self._memo.get("factors")
            # A rescaled copy merges into the cells of the points it was scaled from: cells never
            # span two units, so one factor per unit scales a cell's weights and leaves its
            # weighted centre where it was.
            self._memo[key] = (_coarsen(self, cell_m) if factors is None
                               else self.geometry.coarsened(cell_m).rescaled(factors))
        return self._memo[key]

    def rescaled(self, factors: Mapping[str, np.ndarray]) -> DemandPoints:
        """The same points with each column's weights multiplied by a factor per unit.

        ``factors[column][k]`` scales the weights of ``column`` at every point of the unit
        ``unit_codes[k]``; columns not named keep their weights.  Weights are scaled when a column
        is first read.  Positions, the KD-tree and the positions of coarser cells are those of
        ``self`` (see :attr:`geometry`), so what depends on positions alone is computed once.
        Population growth (a scenario) uses it: scaling a unit's population scales its weights
        exactly, since they are renormalised to the unit's population.
        """
        factors = {str(c): np.asarray(f, dtype=float) for c, f in factors.items()}
        for column, values in factors.items():
            if values.shape != (len(self.unit_codes),):
                raise DataError(f"{len(values)} factors for '{column}', not one per unit "
                                f"({len(self.unit_codes)}).")
        # Relative to the geometry's weights: a rescaled copy of a rescaled copy multiplies both.
        for column, values in self._memo.get("factors", {}).items():
            factors[column] = values * factors[column] if column in factors else values
        factors = MappingProxyType({c: _read_only(f) for c, f in factors.items()})
        weights = _ScaledWeights(self.geometry.weights, factors, self.unit_index)
        return DemandPoints(
            x=self.x, y=self.y, weights=weights, unit_index=self.unit_index, unit_codes=self.unit_codes,
            unit_level=self.unit_level, street_code=self.street_code, district_code=self.district_code,
            crs=self.crs, resolution_m=self.resolution_m, source=self.source,
            _memo={"xy": self.xy, "geometry": self.geometry, "factors": factors},
        )

    def unit_factors(self, column: str) -> np.ndarray:
        """Per unit, the factor from the :attr:`geometry`'s weights of ``column`` to these (ones
        unless :meth:`rescaled`)."""
        factor = self._memo.get("factors", {}).get(column)
        return factor if factor is not None else np.ones(len(self.unit_codes))

    def unit_sums(self, column: str) -> np.ndarray:
        """The weights of ``column`` summed per unit (``unit_codes`` order), computed once; a
        rescaled copy scales its geometry's sums."""
        if self.geometry is not self:
            return self.geometry.unit_sums(column) * self.unit_factors(column)
        key = ("unit_sums", column)
        if key not in self._memo:
            self._memo[key] = _read_only(np.bincount(self.unit_index, weights=self.weight(column),
                                                     minlength=len(self.unit_codes)))
        return self._memo[key]


class _ScaledWeights(abc.Mapping):
    """Read-only ``column -> weights`` scaled by a factor per unit, each column on first read."""

    def __init__(self, base: Mapping[str, np.ndarray], factors: Mapping[str, np.ndarray],
                 unit_index: np.ndarray):
        self._base, self._factors, self._unit_index = base, factors, unit_index
        self._scaled: dict[str, np.ndarray] = {}

    def __getitem__(self, column: str) -> np.ndarray:
        values = self._scaled.get(column)
        if values is None:
            values = self._base[column]
            factor = self._factors.get(column)
            if factor is not None:
                values = _read_only(values * factor[self._unit_index])
            self._scaled[column] = values
        return values

    def __contains__(self, column) -> bool:
        return column in self._base

    def __iter__(self):
        return iter(self._base)

    def __len__(self) -> int:
        return len(self._base)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def finest_level(dataset: Dataset) -> str:
    """``street`` when the dataset has streets, else ``district``."""
    return "street" if "street" in dataset.units else "district"


def _unit_frame(dataset: Dataset):
    level = finest_level(dataset)
    units = dataset.units_at(level)
    columns = [c for c in POPULATION_COLUMNS if c in units]
    if not columns:
        raise DataError(f"The {level} units have no population columns.", column="pop_total",
                        fix=f"Add pop_total (and age groups) to the {level} boundaries.")
    return level, units, columns


def rasterise_population(dataset: Dataset, *, resolution_m: float = 100.0,
                         column: str = "pop_total") -> tuple[np.ndarray, Affine]:
    """Spread each finest unit's ``column`` evenly over the cells whose centre lies in its outline.

    Returns
    -------
    values, transform
        A float32 grid in the dataset's CRS aligned to multiples of ``resolution_m`` (cells outside
        every unit hold the nodata value -1) and its affine transform.  Units smaller than a cell
        have no cell here; :func:`demand_points` gives them a point at their representative point.
    """
    values, transform, _ = _rasterise(dataset, resolution_m=resolution_m, column=column)
    return values, transform


def _rasterise(dataset: Dataset, *, resolution_m: float, column: str):
    level, units, columns = _unit_frame(dataset)
    if column not in units:
        column = columns[0]
    resolution_m = float(resolution_m)
    if not resolution_m > 0:
        raise DataError(f"Resolution {resolution_m} m is not positive.", fix="Use e.g. 100 (metres).")
    minx, miny, maxx, maxy = units.total_bounds
    left = np.floor(minx / resolution_m) * resolution_m
    top = np.ceil(maxy / resolution_m) * resolution_m
    width = int(np.ceil((maxx - left) / resolution_m))
    height = int(np.ceil((top - miny) / resolution_m))
    transform = Affine(resolution_m, 0.0, left, 0.0, -resolution_m, top)
    unit_grid = _unit_grid(units.geometry.values, (height, width), transform)
    inside = unit_grid >= 0
    cells = np.bincount(unit_grid[inside], minlength=len(units))
    population = units[column].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(cells > 0, population / cells, 0.0)
    values = np.full((height, width), _NODATA, dtype=np.float32)
    values[inside] = density[unit_grid[inside]]
    return values, transform, unit_grid


def _unit_grid(geometries, shape, transform) -> np.ndarray:
    """Position of the unit whose outline contains each cell centre (-1 outside every unit)."""
    from rasterio.features import rasterize

    geometries = np.asarray(geometries, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geometries) | shapely.is_empty(geometries)))
    # GeoJSON text through shapely's C writer: much faster than __geo_interface__ on big outlines.
    texts = shapely.to_geojson(geometries[present])
    shapes = ((json.loads(text), int(position)) for text, position in zip(texts, present))
    return rasterize(shapes, out_shape=shape, transform=transform, fill=-1, dtype="int32",
                     all_touched=False)


def write_population_raster(dataset: Dataset, target: str | Path, *, resolution_m: float = 100.0,
                            column: str = "pop_total") -> Path:
    """Write the rasterised unit populations (see :func:`rasterise_population`) as a GeoTIFF."""
    values, transform = rasterise_population(dataset, resolution_m=resolution_m, column=column)
    return io.write_raster(values, target, transform=transform, crs=dataset.crs, nodata=_NODATA)


def demand_points(dataset: Dataset, *, resolution_m: float = 100.0,
                  raster: str | Path | bytes | None = None) -> DemandPoints:
    """Turn a population raster into weighted demand points that add up to the unit populations.

    Parameters
    ----------
    dataset
        Units (the finest level is used) in a metric CRS.
    resolution_m
        Cell size of the raster built from unit populations when ``raster`` is ``None``.
    raster
        A population GeoTIFF in any CRS (e.g. WorldPop 100 m); only the window covering the units
        is read, nodata cells count as nobody.  ``None`` rasterises the units' own populations.

    Returns
    -------
    DemandPoints
        One point per cell with a positive weight in some column, plus one point at the
        representative point of each populated unit that holds no cell centre.  Callers may cache
        it per dataset: it is immutable.
    """
    level, units, columns = _unit_frame(dataset)
    unit_grid = None
    if raster is None:
        values, transform, unit_grid = _rasterise(dataset, resolution_m=resolution_m,
                                                  column="pop_total")
        source_bytes = io.raster_to_bytes(values, transform=transform, crs=dataset.crs,
                                          nodata=_NODATA, compress=None)
        window = io.read_raster_window(source_bytes)
        source = f"unit populations spread evenly at {float(resolution_m):g} m"
    else:
        window = io.read_raster_window(raster, bounds=tuple(units.total_bounds), bounds_crs=dataset.crs)
        source = f"raster: {raster if not isinstance(raster, (bytes, bytearray)) else '<bytes>'}"
        resolution_m = _cell_size_m(window, dataset.crs)

    if unit_grid is None or unit_grid.shape != window.values.shape:
        geometries = units.to_crs(window.crs).geometry.values if units.crs != window.crs \
            else units.geometry.values
        unit_grid = _unit_grid(geometries, window.values.shape, window.transform)
    # (The grid built from the units is the one just written and read: same cells, same units.)
    rows, cols = np.nonzero(unit_grid >= 0)
    unit = unit_grid[rows, cols].astype(np.int64)
    cell_values = window.values[rows, cols]
    cell_values = np.where(np.isfinite(cell_values) & (cell_values > 0), cell_values, 0.0)

    n_units = len(units)
    unit_sum = np.bincount(unit, weights=cell_values, minlength=n_units)
    unit_cells = np.bincount(unit, minlength=n_units)
    # Where the raster has nobody in a unit the census says is populated, spread it evenly.
    empty = (unit_sum <= 0) & (unit_cells > 0)
    cell_values = np.where(empty[unit], 1.0, cell_values)
    unit_sum = np.where(empty, unit_cells, unit_sum)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = cell_values / unit_sum[unit]

    xs, ys = _cell_centres(window.transform, rows, cols)
    if window.crs != dataset.crs:
        from pyproj import Transformer

        transformer = Transformer.from_crs(window.crs, dataset.crs, always_xy=True)
        xs, ys = transformer.transform(xs, ys)

    # Units holding no cell centre (smaller than a cell, or off the raster): one point each.
    lonely = np.flatnonzero(unit_cells == 0)
    if len(lonely):
        points = shapely.point_on_surface(units.geometry.values[lonely])
        xs = np.concatenate([xs, shapely.get_x(points)])
        ys = np.concatenate([ys, shapely.get_y(points)])
        unit = np.concatenate([unit, lonely])
        share = np.concatenate([share, np.ones(len(lonely))])

    population = {column: units[column].to_numpy(dtype=float) for column in columns}
    weights = {column: share * np.nan_to_num(values)[unit] for column, values in population.items()}
    keep = np.zeros(len(unit), dtype=bool)
    for values in weights.values():
        keep |= values > 0

    codes = units.index.to_numpy(dtype=object).astype(str).astype(object)
    unit = unit[keep]
    if level == "street":
        parents = units["parent_code"].astype(str).to_numpy(dtype=object)
        street_code, district_code = codes[unit], parents[unit]
    else:
        street_code, district_code = np.full(len(unit), "", dtype=object), codes[unit]
    return DemandPoints(
        x=_read_only(np.ascontiguousarray(xs[keep], dtype=float)),
        y=_read_only(np.ascontiguousarray(ys[keep], dtype=float)),
        weights=MappingProxyType({c: _read_only(w[keep]) for c, w in weights.items()}),
        unit_index=_read_only(unit.astype(np.int32)),
        unit_codes=_read_only(codes),
        unit_level=level,
        street_code=_read_only(street_code),
        district_code=_read_only(district_code),
        crs=dataset.crs,
        resolution_m=float(resolution_m),
        source=source,
    )


def _cell_centres(transform, rows, cols) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of cell centres (the affine written out: no per-call object overhead)."""
    column = np.asarray(cols, dtype=float) + 0.5
    row = np.asarray(rows, dtype=float) + 0.5
    return (transform.a * column + transform.b * row + transform.c,
            transform.d * column + transform.e * row + transform.f)


def _cell_size_m(window, crs) -> float:
    """Approximate cell size in metres of a raster window (for coarsening decisions)."""
    width = abs(window.transform.a)
    if window.crs.is_geographic:
        # A degree of latitude is ~111 km; longitude cells shrink with latitude, take the smaller.
        rows = window.values.shape[0]
        _, lat = _cell_centres(window.transform, np.array([rows / 2.0]), np.array([0.0]))
        centre_lat = float(lat[0])
        return float(min(width, abs(window.transform.e)) * 111_320.0 * np.cos(np.radians(centre_lat)))
    return float(width)


def _coarsen(demand: DemandPoints, cell_m: float) -> DemandPoints:
    gx = np.floor(demand.x / cell_m).astype(np.int64)
    gy = np.floor(demand.y / cell_m).astype(np.int64)
    gx -= gx.min()
    gy -= gy.min()
    n_units = len(demand.unit_codes)
    key = (gy * (gx.max() + 1) + gx) * n_units + demand.unit_index
    unique_keys, group = np.unique(key, return_inverse=True)
    n = len(unique_keys)
    anchor = demand.weights.get("pop_total")
    if anchor is None:
        anchor = next(iter(demand.weights.values()))
    mass = np.bincount(group, weights=anchor, minlength=n)
    counts = np.bincount(group, minlength=n)
    # Weighted centre; plain mean for groups without anyone in the anchor column.
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(mass > 0, np.bincount(group, weights=anchor * demand.x, minlength=n) / mass,
                     np.bincount(group, weights=demand.x, minlength=n) / counts)
        y = np.where(mass > 0, np.bincount(group, weights=anchor * demand.y, minlength=n) / mass,
                     np.bincount(group, weights=demand.y, minlength=n) / counts)
    first = np.zeros(n, dtype=np.int64)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return DemandPoints(
        x=_read_only(x), y=_read_only(y),
        weights=MappingProxyType({c: _read_only(np.bincount(group, weights=w, minlength=n))
                                  for c, w in demand.weights.items()}),
        unit_index=_read_only(demand.unit_index[first]),
        unit_codes=demand.unit_codes, unit_level=demand.unit_level,
        street_code=_read_only(demand.street_code[first]),
        district_code=_read_only(demand.district_code[first]),
        crs=demand.crs, resolution_m=cell_m,
        source=f"{demand.source}, merged into {cell_m:g} m cells",
    )


def unit_totals(demand: DemandPoints, values: np.ndarray) -> pd.Series:
    """Sum a per-point array to the finest units (all of them, zeros where no point)."""
    totals = np.bincount(demand.unit_index, weights=values, minlength=len(demand.unit_codes))
    return pd.Series(totals, index=pd.Index(demand.unit_codes, name="code"))
