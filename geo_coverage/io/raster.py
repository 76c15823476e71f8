"""Rasters: GeoTIFF out (tiled, compressed, in memory or atomically on disk) and a windowed read of
band 1, so a country-wide population raster never loads whole.  rasterio is imported inside the
functions that use it."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .files import write_bytes

if TYPE_CHECKING:
    import numpy as np

__all__ = ["RasterWindow", "raster_to_bytes", "write_raster", "read_raster_window"]


@dataclasses.dataclass(frozen=True)
class RasterWindow:
    """The part of a raster's first band covering some bounds.

    ``values`` is float64 with nodata (and non-finite) cells set to NaN; ``transform`` maps the
    window's (column, row) to the raster's CRS, ``crs`` is that CRS.
    """

    values: np.ndarray
    transform: object
    crs: object


def _geotiff_profile(values: np.ndarray, *, transform: Any, crs: Any, nodata: float | None,
                     compress: str | None) -> dict:
    profile = {"driver": "GTiff", "height": values.shape[-2], "width": values.shape[-1],
               "count": 1 if values.ndim == 2 else values.shape[0], "dtype": str(values.dtype),
               "crs": crs, "transform": transform, "nodata": nodata,
               "tiled": True, "blockxsize": 256, "blockysize": 256}
    if compress:
        profile["compress"] = compress
    return profile


def raster_to_bytes(values: np.ndarray, *, transform: Any, crs: Any, nodata: float | None = None,
                    compress: str | None = "deflate") -> bytes:
    """A GeoTIFF of ``values``, built in memory by rasterio.

    Parameters
    ----------
    values
        2-D (one band) or 3-D (bands first) array.
    transform
        The affine transform of the grid.
    crs
        Its CRS (anything rasterio accepts).
    nodata
        The nodata value, if any.
    compress
        GDAL compression (``None``: none).

    Returns
    -------
    bytes
        The GeoTIFF, tiled 256 × 256.
    """
    from rasterio.io import MemoryFile

    with MemoryFile() as memory:
        profile = _geotiff_profile(values, transform=transform, crs=crs, nodata=nodata, compress=compress)
        with memory.open(**profile) as out:
            out.write(values if values.ndim == 3 else values[None, ...])
        return bytes(memory.read())


def write_raster(values: np.ndarray, target: str | Path, *, transform: Any, crs: Any,
                 nodata: float | None = None) -> Path:
    """Write ``values`` as a tiled, compressed GeoTIFF (see :func:`raster_to_bytes`) atomically."""
    return write_bytes(raster_to_bytes(values, transform=transform, crs=crs, nodata=nodata), target)


def read_raster_window(source: str | Path | bytes, *, bounds: tuple[float, float, float, float] | None = None,
                       bounds_crs: Any = None) -> RasterWindow:
    """Read band 1 of a raster, only the window covering ``bounds``.

    Parameters
    ----------
    source
        A raster file (GeoTIFF or anything GDAL reads) or GeoTIFF bytes.
    bounds
        ``(minx, miny, maxx, maxy)`` in ``bounds_crs``; ``None`` reads the whole band.
    bounds_crs
        CRS of ``bounds`` (default: the raster's own).

    Returns
    -------
    RasterWindow
        The window's values (NaN where there is no data), transform and CRS.

    Raises
    ------
    DataError
        The file is missing, not a raster, has no CRS or does not overlap ``bounds``.
    """
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.io import MemoryFile

    origin = "<in-memory GeoTIFF>" if isinstance(source, (bytes, bytearray)) else Path(source)
    if isinstance(origin, Path) and not origin.exists():
        raise DataError("File not found.", file=origin, fix="Check the path of the population raster.")
    with contextlib.ExitStack() as stack:
        try:
            if isinstance(source, (bytes, bytearray)):
                dataset = stack.enter_context(stack.enter_context(MemoryFile(bytes(source))).open())
            else:
                dataset = stack.enter_context(rasterio.open(source))
        except RasterioError as exc:
            raise DataError(f"Cannot read as a raster: {str(exc).splitlines()[0]}", file=origin,
                            fix="Pass a GeoTIFF (e.g. a WorldPop population grid).") from None
        if dataset.crs is None:
            raise DataError("The raster has no CRS.", file=origin,
                            fix="Assign one, e.g. `gdal_edit.py -a_srs EPSG:4326 FILE`.")
        window = _window(dataset, bounds, bounds_crs, origin=origin)
        values = dataset.read(1, window=window, masked=True)
        transform = dataset.window_transform(window)
        array = np.ma.filled(values.astype("float64"), np.nan)
        array[~np.isfinite(array)] = np.nan
        return RasterWindow(values=array, transform=transform, crs=dataset.crs)


def _window(dataset: Any, bounds: tuple[float, float, float, float] | None, bounds_crs: Any, *,
            origin: str | Path) -> Any:
    """The window of ``dataset`` covering ``bounds`` (whole cells, one cell of margin)."""
    from rasterio.windows import Window, from_bounds

    whole = Window(0, 0, dataset.width, dataset.height)
    if bounds is None:
        return whole
    if bounds_crs is not None and dataset.crs != bounds_crs:
        from rasterio.warp import transform_bounds

        bounds = transform_bounds(bounds_crs, dataset.crs, *bounds, densify_pts=21)
    window = from_bounds(*bounds, transform=dataset.transform)
    window = window.round_offsets(op="floor").round_lengths(op="ceil")
    try:
        window = window.intersection(whole)
    except Exception:  # rasterio raises WindowError when they do not overlap
        raise DataError("The raster does not overlap the units.", file=origin,
                        fix="Use a raster that covers the city (check its CRS).") from None
    # A half-open window can gain a cell on either side; pad by one and clip again.
    return Window(window.col_off - 1, window.row_off - 1, window.width + 2,
                  window.height + 2).intersection(whole)
