"""Vector files: GeoJSON, GeoPackage, Shapefile and GeoParquet in; WGS84 GeoJSON or GeoParquet out.

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
    "dataframe_to_geoparquet_bytes",
    "write_geojson",
    "write_geoparquet",
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
                return _read_geoparquet(path)
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


def _read_geoparquet(path: Path) -> gpd.GeoDataFrame:
    """GeoParquet with WKB geometry read straight through pyarrow and shapely.

    ``geopandas.read_parquet`` spends ~0.1 s per file re-parsing the CRS and validating metadata;
    the embedded default is 16 small files, so the plain path (one ``pyarrow`` read, one
    vectorised WKB decode, the CRS parsed once per distinct CRS) loads it several times faster.
    Anything else (geoarrow encodings, several geometry columns) goes through geopandas.
    """
    import json

    import geopandas as gpd
    import pyarrow.parquet as pq
    import shapely

    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {}).get(b"geo", b"{}"))
    column = meta.get("primary_column")
    spec = (meta.get("columns") or {}).get(column or "", {})
    if not column or spec.get("encoding", "WKB").upper() != "WKB" or len(meta.get("columns", {})) != 1:
        return gpd.read_parquet(path)
    geometry = shapely.from_wkb(table.column(column).to_numpy(zero_copy_only=False))
    frame = table.drop_columns([column]).to_pandas()
    # GeoParquet: a missing crs means OGC:CRS84 (lon/lat WGS84); null means unknown.
    crs = _crs_from_json(json.dumps(spec["crs"], sort_keys=True)) if spec.get("crs") is not None else \
        (None if "crs" in spec else "OGC:CRS84")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)


_CRS_CACHE: dict[str, object] = {}


def _crs_from_json(text: str):
    """A pyproj CRS from PROJJSON, parsed once per distinct text (parsing costs ~50 ms)."""
    import pyproj

    if text not in _CRS_CACHE:
        crs = pyproj.CRS.from_json(text)
        epsg = crs.to_epsg()
        _CRS_CACHE[text] = pyproj.CRS.from_epsg(epsg) if epsg else crs
    return _CRS_CACHE[text]


def dataframe_to_geoparquet_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """GeoParquet (WGS84, WKB geometry, zstd) as bytes; the same frame gives the same bytes.

    Parameters
    ----------
    frame
        The features, in any CRS (converted to WGS84).

    Returns
    -------
    bytes
        The file's content, without the frame's index.
    """
    import io as _io

    import pyproj

    frame = frame.to_crs(4326) if frame.crs is not None else frame.copy()
    # One spelling of WGS84 in the file's metadata, whatever object the frame's CRS came from.
    frame = frame.set_crs(pyproj.CRS.from_epsg(4326), allow_override=True)
    frame.attrs = {}  # pandas attrs are working notes, not data
    buffer = _io.BytesIO()
    # No bbox column and row groups written whole: the file stays one plain table.
    frame.to_parquet(buffer, index=False, compression="zstd", write_covering_bbox=False)
    return buffer.getvalue()


def write_geoparquet(frame: gpd.GeoDataFrame, target: str | Path) -> Path:
    """Write ``frame`` as WGS84 GeoParquet (see :func:`dataframe_to_geoparquet_bytes`) atomically."""
    return write_bytes(dataframe_to_geoparquet_bytes(frame), target)
