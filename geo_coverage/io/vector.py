"""Vector files: GeoJSON, GeoPackage, Shapefile and GeoParquet in; WGS84 GeoJSON out.

geopandas (and pyogrio) are imported inside the functions that use them, so importing
:mod:`geo_coverage.io` stays cheap for the verbs that never read a vector file.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError
from .files import MAX_UPLOAD_BYTES, write_bytes

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "VECTOR_SUFFIXES",
    "read_vector",
    "read_vector_any_encoding",
    "dataframe_to_geojson_bytes",
    "write_geojson",
]

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet")


def read_vector(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file (GeoJSON, GeoPackage, Shapefile, GeoParquet) into a GeoDataFrame.

    Parameters
    ----------
    path
        The file.
    layer
        The layer of a multi-layer file; ``None`` reads its only layer (several is an error,
        since reading the first one would pick outlines silently).

    Returns
    -------
    geopandas.GeoDataFrame
        The features, in the file's CRS.

    Raises
    ------
    DataError
        Naming the file, the driver's reason and how to fix it.
    """
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path.")
    if path.is_dir():
        raise DataError("This is a folder, not a file.", file=path,
                        fix="Pass the file itself (a Shapefile's .shp, or the folder's files zipped together).")
    try:
        with warnings.catch_warnings():
            # GDAL's notes ("Non closed ring detected", "bad application_id") come as warnings
            # printed with library source lines; what matters reaches the user as a DataError.
            warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
            if path.suffix.lower() in (".parquet", ".geoparquet"):
                return gpd.read_parquet(path)
            if not layer:
                layer = _only_layer(path)
            kwargs = {"layer": layer} if layer else {}
            return gpd.read_file(path, **kwargs)
    except DataError:
        raise
    except Exception as exc:  # the drivers raise many types; the user needs the file and reason
        if isinstance(exc, UnicodeDecodeError) or "codec can't decode" in str(exc):
            encoding = _text_encoding(path)
            if path.suffix.lower() in (".geojson", ".json") and encoding not in (None, "utf-8"):
                raise DataError(f"The GeoJSON is not UTF-8 text (it reads as {encoding}); GeoJSON must be UTF-8.",
                                file=path, fix="Save it again as UTF-8 (QGIS: Export > Save Features As..., "
                                               "encoding UTF-8).") from None
        raise DataError(f"Cannot read as a vector file: {_driver_reason(exc)}", file=path,
                        fix="Check that the file is complete GeoJSON, GeoPackage, Shapefile or GeoParquet.") from None


def _text_encoding(path: Path) -> str | None:
    """Which of UTF-8, GBK, GB18030 a (small enough) text file decodes as."""
    try:
        data = path.read_bytes() if path.stat().st_size <= MAX_UPLOAD_BYTES else b""
    except OSError:
        return None
    for name in ("utf-8", "gbk", "gb18030"):
        try:
            data.decode(name)
            return name
        except UnicodeDecodeError:
            continue
    return None


def _driver_reason(exc: Exception) -> str:
    """The first line of a driver's message, without GDAL's advice about driver prefixes."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return re.sub(r";?\s*It might help to specify the correct driver.*$", "", reason).strip()


def _only_layer(path: Path) -> str | None:
    """The one layer of a multi-layer format (GeoPackage, a folder ...): none or several is an error,
    since reading the first one would pick outlines silently."""
    import pyogrio

    layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    if not layers:
        raise DataError("The file holds no layers.", file=path,
                        fix="Export the outlines (or points) into it again.")
    if len(layers) > 1:
        raise DataError(f"The file holds {len(layers)} layers ({', '.join(layers)}), so which one is meant is "
                        "unclear.", file=path, fix="Save the one layer to read in a file of its own "
                                                   "(QGIS: Export > Save Features As...).")
    return None


def _read_gb18030(path: Path) -> gpd.GeoDataFrame:
    import geopandas as gpd

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        return gpd.read_file(path, encoding="gb18030")


def read_vector_any_encoding(path: Path, *, layer: str | None) -> gpd.GeoDataFrame:
    """:func:`read_vector`, retrying a Shapefile without a .cpg as GB18030.

    Chinese GIS exports are GBK; without a .cpg GDAL reads the .dbf as Latin-1, so GBK bytes
    come out as 'Çø»®'.  Such text, or a decoding failure, makes it read the file again as
    GB18030 (a superset of GBK).

    Parameters
    ----------
    path
        The file.
    layer
        As for :func:`read_vector`.

    Returns
    -------
    geopandas.GeoDataFrame
        The features.
    """
    try:
        frame = read_vector(path, layer=layer)
        if path.suffix.lower() == ".shp" and not any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
            sample = " ".join(map(str, frame.columns)) + " ".join(
                frame.select_dtypes(include=["object", "string"]).head(50).astype(str).to_numpy().ravel().tolist())
            if any("\x80" <= ch <= "\xff" for ch in sample):
                try:
                    sample.encode("latin-1").decode("gb18030")
                except (UnicodeEncodeError, UnicodeDecodeError):
                    return frame
                return _read_gb18030(path)
        return frame
    except DataError as exc:
        if path.suffix.lower() != ".shp" or "decode" not in exc.message:
            raise
        try:
            return _read_gb18030(path)
        except Exception:  # the same failure as before is the one to report
            raise exc from None


def dataframe_to_geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """GeoJSON (WGS84) as UTF-8 bytes with Chinese kept readable.

    Parameters
    ----------
    frame
        The features, in any CRS (converted to WGS84).

    Returns
    -------
    bytes
        The GeoJSON file's content (no feature ids).
    """
    frame = frame.to_crs(4326) if frame.crs is not None else frame
    text = frame.to_json(ensure_ascii=False, drop_id=True, to_wgs84=False)
    return text.encode("utf-8")


def write_geojson(frame: gpd.GeoDataFrame, target: str | Path) -> Path:
    """Write ``frame`` as WGS84 GeoJSON (see :func:`dataframe_to_geojson_bytes`) atomically."""
    return write_bytes(dataframe_to_geojson_bytes(frame), target)
