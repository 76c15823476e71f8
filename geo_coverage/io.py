"""All reading and writing of files.

Every writer is atomic: it writes a temporary file beside the target and renames it into place,
so a failure never leaves a half-written file and never touches the input.  Readers turn library
errors into :class:`~geo_coverage.errors.DataError` naming the file and how to fix it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

import pandas as pd
import yaml

from .errors import DataError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "read_yaml",
    "write_yaml",
    "read_vector",
    "write_geojson",
    "write_csv",
    "write_xlsx",
    "write_json",
    "write_text",
    "write_bytes",
    "read_csv",
    "atomic_path",
    "dataframe_to_geojson_bytes",
    "dataframe_to_xlsx_bytes",
    "dataframe_to_csv_bytes",
    "RasterWindow",
    "write_raster",
    "raster_to_bytes",
    "read_raster_window",
    "read_road_graph",
]


# --- atomic writing ---------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success."""
    target = Path(target)
    if target.parent and not target.parent.exists():
        raise DataError(f"The folder '{target.parent}' does not exist.", file=target,
                        fix="Create the folder first or choose another --out path.")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp",
                               dir=target.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(data: bytes, target: str | Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(text: str, target: str | Path, *, encoding: str = "utf-8") -> Path:
    return write_bytes(text.encode(encoding), target)


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes (e.g. a vendored JavaScript asset); a missing file is a DataError."""
    path = Path(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror}).", file=path,
                        fix="Reinstall the package so its data files are present.") from None


# --- YAML ---------------------------------------------------------------------------------------


def read_yaml(path: str | Path):
    """Read YAML with the safe loader (no Python tags); errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"Not UTF-8 text ({exc.reason}).", file=path,
                        fix="Save the file as UTF-8.") from None
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror}).", file=path) from None
    return parse_yaml(text, origin=path)


def parse_yaml(text: str, *, origin="<yaml>"):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"Invalid YAML: {problem}.", file=origin, row=row,
                        fix="Correct the YAML syntax; Python tags (!!python/...) are never accepted.") from None


class _SafeDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, except that strings holding a Unicode line break PyYAML folds on
    reading back (NEL, U+2028, U+2029) are written double-quoted, where they are escaped."""


_FOLDED_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper, value: str):
    style = '"' if any(ch in value for ch in _FOLDED_BREAKS) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SafeDumper.add_representer(str, _represent_str)


def dump_yaml(data) -> str:
    """YAML text that :func:`parse_yaml` reads back into equal data (keys in their given order)."""
    return yaml.dump(data, Dumper=_SafeDumper, allow_unicode=True, sort_keys=False)


def write_yaml(data, target: str | Path) -> Path:
    return write_text(dump_yaml(data), target)


# --- vectors ------------------------------------------------------------------------------------


def read_vector(path: str | Path, *, layer: str | None = None):
    """Read a vector file (GeoJSON, GeoPackage, Shapefile, GeoParquet) into a GeoDataFrame."""
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


def dataframe_to_geojson_bytes(frame) -> bytes:
    """GeoJSON (WGS84) as UTF-8 bytes with Chinese kept readable."""
    frame = frame.to_crs(4326) if frame.crs is not None else frame
    text = frame.to_json(ensure_ascii=False, drop_id=True, to_wgs84=False)
    return text.encode("utf-8")


def write_geojson(frame, target: str | Path) -> Path:
    return write_bytes(dataframe_to_geojson_bytes(frame), target)


# --- tables -------------------------------------------------------------------------------------


def dataframe_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with a BOM, so Excel shows Chinese headers and names correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def write_csv(frame: pd.DataFrame, target: str | Path) -> Path:
    return write_bytes(dataframe_to_csv_bytes(frame), target)


def dataframe_to_xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *, notes: Mapping[str, str] | None = None) -> bytes:
    """An XLSX workbook: one sheet per frame, frozen header row, column widths fitted to content.

    ``notes`` (item → text) become a separate '说明 About' sheet so the data sheets keep a clean
    header row. The bytes depend only on the content: the same tables give the same file (the
    workbook's timestamps are fixed), so a download from the app equals the CLI's file.
    """
    import io as _io

    from openpyxl.utils import get_column_letter

    buffer = _io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for position, column in enumerate(frame.columns):
                cells = frame.iloc[:200, position].tolist()  # by position: headers may repeat
                values = [str(column)] + [str(v) for v in cells]
                width = max(_display_width(v) for v in values) + 2
                sheet.column_dimensions[get_column_letter(position + 1)].width = min(max(width, 8), 60)
        if notes:
            about = pd.DataFrame({"说明 About": list(notes.values())}, index=list(notes.keys()))
            about.index.name = "项目 Item"
            about.reset_index().to_excel(writer, sheet_name="说明 About", index=False)
            writer.sheets["说明 About"].column_dimensions["A"].width = 24
            writer.sheets["说明 About"].column_dimensions["B"].width = 100
    return _reproducible_zip(buffer.getvalue())


_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CORE_TIMESTAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _reproducible_zip(data: bytes) -> bytes:
    """The same Office file with fixed entry times and document dates (openpyxl stamps 'now')."""
    import io as _io

    out = _io.BytesIO()
    with zipfile.ZipFile(_io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = _CORE_TIMESTAMP.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            info = zipfile.ZipInfo(entry.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = entry.external_attr
            target.writestr(info, content)
    return out.getvalue()


def _display_width(text: str) -> int:
    # CJK characters take two columns in Excel's default font.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_xlsx(sheets: Mapping[str, pd.DataFrame], target: str | Path, *, notes=None) -> Path:
    return write_bytes(dataframe_to_xlsx_bytes(sheets, notes=notes), target)


def write_json(data, target: str | Path) -> Path:
    return write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), target)


def read_csv(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV keeping every column as text (codes and ids keep their leading zeros)."""
    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path.")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs)
    except UnicodeDecodeError:
        raise DataError("The file is not UTF-8 text.", file=path,
                        fix="Save it as UTF-8 (or use `geo-coverage import`, which detects GBK).") from None
    except pd.errors.EmptyDataError:
        raise DataError("The file is empty.", file=path, fix="Export the table again with its header row.") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"Malformed CSV: {str(exc).splitlines()[0]}", file=path,
                        fix="Check quoting and the number of columns in every row.") from None


# --- uploads: size caps, zipped vector files, whole data folders ---------------------------------

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".parquet", ".geoparquet")


def read_upload(path: str | Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """A planner's file as bytes, refusing files larger than ``max_bytes`` before reading them."""
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise DataError("This is a folder, not a file.", file=path, fix="Pass the file itself.")
        raise DataError("File not found." if not path.exists() else "Not a file.", file=path,
                        fix="Check the path.")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"The file is {size / 1e6:.1f} MB, more than the {max_bytes / 1e6:.1f} MB allowed.",
                        file=path, fix="Split the file or remove columns that are not needed.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror or exc}).", file=path,
                        fix="Check that the file is readable (its permissions) and not locked by another "
                            "program.") from None


def _unsafe_member(name: str) -> bool:
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return True
    return ".." in text.split("/")


def read_vector_upload(path: str | Path, *, layer: str | None = None, max_bytes: int = MAX_UPLOAD_BYTES,
                       max_unpacked_bytes: int = MAX_UNPACKED_BYTES):
    """Read a vector file, or a zip holding one (e.g. a zipped Shapefile), safely.

    A zip is refused when any member's path would escape the folder (``../``, absolute paths,
    drive letters), when the members add up to more than ``max_unpacked_bytes``, or when a
    Shapefile lacks its ``.dbf`` or ``.shx``.  Only the needed members are unpacked, under their
    bare file names, into a temporary folder that is removed afterwards.
    """
    import zipfile

    path = Path(path)
    if path.suffix.lower() == ".zip":
        read_upload(path, max_bytes=max_bytes)
    if path.suffix.lower() == ".shp":
        for sidecar in (".dbf", ".shx"):
            if not path.with_suffix(sidecar).exists() and not path.with_suffix(sidecar.upper()).exists():
                raise DataError(f"The Shapefile has no {sidecar} beside it.", file=path,
                                fix=f"Put {path.stem}{sidecar} next to the .shp, or upload all parts as one zip.")
    if path.suffix.lower() != ".zip":
        if path.exists() and path.is_file() and path.stat().st_size > max_bytes:
            read_upload(path, max_bytes=max_bytes)
        return _read_vector_any_encoding(path, layer=layer)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"Not a readable zip file ({exc}).", file=path, fix="Zip the files again.") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        for info in members:
            if _unsafe_member(info.filename):
                raise DataError(f"The zip member '{info.filename}' would be written outside the folder.",
                                file=path, fix="Zip the files without '..' or absolute paths.")
        total = sum(info.file_size for info in members)
        if total > max_unpacked_bytes:
            raise DataError(f"The zip unpacks to {total / 1e6:.1f} MB, more than the "
                            f"{max_unpacked_bytes / 1e6:.1f} MB allowed.", file=path,
                            fix="Upload only the boundary files.")
        by_name = {info.filename.replace("\\", "/").rsplit("/", 1)[-1].lower(): info for info in members}
        vectors = [name for name in by_name if name.endswith(VECTOR_SUFFIXES) and not name.startswith(".")]
        if layer is not None:
            vectors = [name for name in vectors if name.rsplit(".", 1)[0] == layer.lower()] or vectors
        if not vectors:
            raise DataError("The zip holds no vector file (.shp, .geojson, .gpkg, .parquet).", file=path,
                            fix="Zip the Shapefile's .shp, .shx, .dbf and .prj together.")
        if len(vectors) > 1:
            raise DataError(f"The zip holds several vector files: {', '.join(sorted(vectors))}.", file=path,
                            fix="Zip one layer per file (validate and import read one layer).")
        main = vectors[0]
        needed = [main]
        if main.endswith(".shp"):
            stem = main[:-4]
            for sidecar in (".dbf", ".shx"):
                if stem + sidecar not in by_name:
                    raise DataError(f"The zipped Shapefile '{by_name[main].filename}' has no {sidecar}.",
                                    file=path, fix=f"Add {stem}{sidecar} to the zip (a Shapefile needs "
                                    ".shp, .shx and .dbf; .prj gives its CRS).")
            needed += [stem + s for s in (".dbf", ".shx", ".prj", ".cpg") if stem + s in by_name]
        with tempfile.TemporaryDirectory(prefix="geo-coverage-unzip-") as folder:
            written = 0
            for name in needed:
                info = by_name[name]
                if info.flag_bits & 0x1:
                    raise DataError(f"The zip member '{info.filename}' is encrypted (password-protected).",
                                    file=path, fix="Zip the files again without a password.")
                # Count real bytes: a zip's declared sizes can lie (zip bombs).
                try:
                    with archive.open(info) as source, open(Path(folder) / name, "wb") as sink:
                        while chunk := source.read(1 << 20):
                            written += len(chunk)
                            if written > max_unpacked_bytes:
                                raise DataError("The zip unpacks to more than its declared size allows.",
                                                file=path, fix="Zip the files again.")
                            sink.write(chunk)
                except DataError:
                    raise
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError, ValueError) as exc:
                    # damaged data (CRC, truncation), encryption, compression methods zipfile lacks
                    raise DataError(f"Cannot unpack the zip member '{info.filename}' ({exc}).", file=path,
                                    fix="Zip the files again (plain zip, no password, deflate compression).") from None
            try:
                return _read_vector_any_encoding(Path(folder) / main, layer=None).copy()
            except DataError as exc:  # name the zip and its member, not the temporary folder
                message = exc.message.replace(f"'{Path(folder) / main}' ", "").replace(str(Path(folder) / main), main)
                raise DataError(f"{message.rstrip('.')} (zip member '{by_name[main].filename}').", file=path,
                                row=exc.row, column=exc.column, fix=exc.fix) from None


def _read_gb18030(path: Path):
    import geopandas as gpd

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        return gpd.read_file(path, encoding="gb18030")


def _read_vector_any_encoding(path: Path, *, layer: str | None):
    """read_vector, retrying a Shapefile without a .cpg as GB18030 (Chinese GIS exports are GBK)."""
    try:
        frame = read_vector(path, layer=layer)
        if path.suffix.lower() == ".shp" and not any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
            # Without a .cpg GDAL reads the .dbf as Latin-1: GBK bytes come out as 'Çø»®'.
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


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary sibling folder; on success it replaces ``target`` in one rename.

    On any failure the temporary folder is removed and an existing ``target`` stays as it was.
    The temporary folders' names carry the process id (``.NAME.building-PID-xxxx``), so folders a
    killed run left behind are recognised and cleaned by the next run (:func:`clean_stale_builds`).
    """
    import shutil

    target = Path(target).absolute()
    if not target.parent.exists():
        raise DataError(f"The folder '{target.parent}' does not exist.", file=target,
                        fix="Create the parent folder first or choose another --out path.")
    clean_stale_builds(target)
    if target.exists() and not target.is_dir():
        raise DataError("The output path exists and is not a folder.", file=target,
                        fix="Choose another --out path.")
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-{os.getpid()}-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    building.chmod(0o777 & ~umask)  # mkdtemp makes it private; a data folder is an ordinary folder
    try:
        yield building
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
            os.replace(target, old / "previous")
            try:
                os.replace(building, target)
            except OSError:
                os.replace(old / "previous", target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(building, target)
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but another user's
        return True
    return True


def clean_stale_builds(target: str | Path) -> list[Path]:
    """Remove the temporary siblings (``.NAME.building-*``, ``.NAME.old-*``) a killed run of
    :func:`atomic_directory` left beside ``target``; returns what was removed.

    A folder is stale when the process its name records has ended (or its name records none:
    an older version's).  Folders of running processes, this one included, are left alone.  A
    run killed between its two renames leaves ``target`` missing and the previous folder in
    ``.NAME.old-*/previous``: that folder is put back first.
    """
    import shutil

    target = Path(target).absolute()
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(building|old)-(?:(\d+)-)?[^/]*$")
    removed = []
    try:
        siblings = sorted(target.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        match = pattern.match(sibling.name)
        if not match or not sibling.is_dir() or sibling.is_symlink():
            continue
        pid = match.group(2)
        if pid is not None and (int(pid) == os.getpid() or _process_alive(int(pid))):
            continue
        previous = sibling / "previous"
        if match.group(1) == "old" and previous.is_dir() and not target.exists():
            os.replace(previous, target)
        shutil.rmtree(sibling, ignore_errors=True)
        removed.append(sibling)
    return removed


def copy_file(source: str | Path, target: str | Path) -> Path:
    """Copy a file's bytes (atomically at the target)."""
    return write_bytes(read_bytes(source), target)


def write_graphml(graph, target: str | Path) -> Path:
    """Save an osmnx graph as GraphML (atomically)."""
    import osmnx

    with atomic_path(target, suffix=".graphml") as tmp:
        osmnx.save_graphml(graph, filepath=tmp)
    return Path(target)


# --- rasters --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RasterWindow:
    """The part of a raster's first band covering some bounds.

    ``values`` is float64 with nodata (and non-finite) cells set to NaN; ``transform`` maps the
    window's (column, row) to the raster's CRS, ``crs`` is that CRS.
    """

    values: "np.ndarray"
    transform: object
    crs: object


def _geotiff_profile(values, *, transform, crs, nodata, compress) -> dict:
    profile = {"driver": "GTiff", "height": values.shape[-2], "width": values.shape[-1],
               "count": 1 if values.ndim == 2 else values.shape[0], "dtype": str(values.dtype),
               "crs": crs, "transform": transform, "nodata": nodata,
               "tiled": True, "blockxsize": 256, "blockysize": 256}
    if compress:
        profile["compress"] = compress
    return profile


def raster_to_bytes(values, *, transform, crs, nodata=None, compress: str | None = "deflate") -> bytes:
    """A GeoTIFF of ``values`` (2-D, or 3-D for bands) as bytes, built in memory by rasterio."""
    from rasterio.io import MemoryFile

    with MemoryFile() as memory:
        profile = _geotiff_profile(values, transform=transform, crs=crs, nodata=nodata, compress=compress)
        with memory.open(**profile) as out:
            out.write(values if values.ndim == 3 else values[None, ...])
        return bytes(memory.read())


def write_raster(values, target: str | Path, *, transform, crs, nodata=None) -> Path:
    """Write ``values`` as a tiled, compressed GeoTIFF (atomically)."""
    return write_bytes(raster_to_bytes(values, transform=transform, crs=crs, nodata=nodata), target)


def read_raster_window(source: str | Path | bytes, *, bounds=None, bounds_crs=None) -> RasterWindow:
    """Read band 1 of a raster, only the window covering ``bounds`` (a country raster never loads whole).

    Parameters
    ----------
    source
        A raster file (GeoTIFF or anything GDAL reads) or GeoTIFF bytes.
    bounds
        ``(minx, miny, maxx, maxy)`` in ``bounds_crs``; ``None`` reads the whole band.
    bounds_crs
        CRS of ``bounds`` (default: the raster's own).
    """
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.io import MemoryFile
    from rasterio.windows import Window, from_bounds

    origin = "<in-memory GeoTIFF>" if isinstance(source, (bytes, bytearray)) else Path(source)
    if not isinstance(source, (bytes, bytearray)) and not Path(source).exists():
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
        window = Window(0, 0, dataset.width, dataset.height)
        if bounds is not None:
            if bounds_crs is not None and dataset.crs != bounds_crs:
                from rasterio.warp import transform_bounds

                bounds = transform_bounds(bounds_crs, dataset.crs, *bounds, densify_pts=21)
            window = from_bounds(*bounds, transform=dataset.transform)
            window = window.round_offsets(op="floor").round_lengths(op="ceil")
            try:
                window = window.intersection(Window(0, 0, dataset.width, dataset.height))
            except Exception:  # rasterio raises WindowError when they do not overlap
                raise DataError("The raster does not overlap the units.", file=origin,
                                fix="Use a raster that covers the city (check its CRS).") from None
            # A half-open window can gain a cell on either side; pad by one and clip again.
            window = Window(window.col_off - 1, window.row_off - 1, window.width + 2,
                            window.height + 2).intersection(Window(0, 0, dataset.width, dataset.height))
        values = dataset.read(1, window=window, masked=True)
        transform = dataset.window_transform(window)
        array = np.ma.filled(values.astype("float64"), np.nan)
        array[~np.isfinite(array)] = np.nan
        return RasterWindow(values=array, transform=transform, crs=dataset.crs)


# --- road networks --------------------------------------------------------------------------------


def read_road_graph(path: str | Path):
    """Read a road graph file into a networkx MultiDiGraph: OSM XML (.osm, .xml) or osmnx GraphML.

    OSM XML is read with ``osmnx.graph_from_xml`` (offline) without simplification, keeping every
    component, so the graph is exactly the file's ways.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path of the road network.")
    try:
        import osmnx
    except ImportError:  # pragma: no cover - osmnx is an optional extra
        raise DataError("Reading road networks needs osmnx.", file=path,
                        fix="Install it: pip install 'geo-coverage[osm]'.") from None
    suffix = path.suffix.lower()
    try:
        if suffix in (".osm", ".xml"):
            return osmnx.graph_from_xml(path, simplify=False, retain_all=True)
        if suffix == ".graphml":
            return osmnx.load_graphml(path)
    except Exception as exc:  # osmnx and its XML/GraphML parsers raise many types
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"Cannot read the road network: {reason}", file=path,
                        fix="Pass OSM XML (.osm) or osmnx GraphML (.graphml).") from None
    raise DataError(f"Unknown road-network format '{suffix}'.", file=path,
                    fix="Use .osm / .xml (OSM XML), .graphml, or node and edge CSV files.")
