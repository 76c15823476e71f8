"""All reading and writing of files.

Every writer is atomic: it writes a temporary file beside the target and renames it into place,
so a failure never leaves a half-written file and never touches the input.  Readers turn library
errors into :class:`~geo_coverage.errors.DataError` naming the file and how to fix it.

One module per kind of file:

* :mod:`~geo_coverage.io.files` - atomic files and folders, capped reads, stale-build cleaning
* :mod:`~geo_coverage.io.yaml` - the one YAML loader and its round-tripping dumper
* :mod:`~geo_coverage.io.tables` - CSV and XLSX out, CSV and XLSX in (cells as text)
* :mod:`~geo_coverage.io.vector` - GeoJSON / GeoPackage / Shapefile / GeoParquet
* :mod:`~geo_coverage.io.upload` - a planner's vector file or zip of one, read safely
* :mod:`~geo_coverage.io.raster` - GeoTIFF out, windowed reads in
* :mod:`~geo_coverage.io.graph` - road graphs (OSM XML, GraphML)

Heavy optional libraries (geopandas, rasterio, osmnx, openpyxl) are imported only inside the
functions that need them.
"""

from .files import (
    MAX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    atomic_directory,
    atomic_path,
    clean_stale_builds,
    copy_file,
    read_bytes,
    read_upload,
    write_bytes,
    write_text,
)
from .graph import read_road_graph, write_graphml
from .raster import RasterWindow, raster_to_bytes, read_raster_window, write_raster
from .tables import (
    MAX_TABLE_ROWS,
    dataframe_to_csv_bytes,
    dataframe_to_xlsx_bytes,
    neutralise_formulas,
    read_csv,
    read_xlsx,
    row_limit_fix,
    write_csv,
)
from .upload import read_vector_upload
from .vector import (
    VECTOR_SUFFIXES,
    dataframe_to_geojson_bytes,
    dataframe_to_geoparquet_bytes,
    read_vector,
    read_vector_any_encoding,
    write_geojson,
    write_geoparquet,
)
from .yaml import dump_yaml, parse_yaml, read_yaml, write_yaml

__all__ = [
    "MAX_TABLE_ROWS",
    "MAX_UNPACKED_BYTES",
    "MAX_UPLOAD_BYTES",
    "VECTOR_SUFFIXES",
    "RasterWindow",
    "atomic_directory",
    "atomic_path",
    "clean_stale_builds",
    "copy_file",
    "dataframe_to_csv_bytes",
    "dataframe_to_geojson_bytes",
    "dataframe_to_geoparquet_bytes",
    "dataframe_to_xlsx_bytes",
    "neutralise_formulas",
    "dump_yaml",
    "parse_yaml",
    "raster_to_bytes",
    "read_bytes",
    "read_csv",
    "read_raster_window",
    "read_road_graph",
    "read_upload",
    "read_vector",
    "read_vector_any_encoding",
    "read_vector_upload",
    "read_xlsx",
    "row_limit_fix",
    "read_yaml",
    "write_bytes",
    "write_csv",
    "write_geojson",
    "write_geoparquet",
    "write_graphml",
    "write_raster",
    "write_text",
    "write_yaml",
]
