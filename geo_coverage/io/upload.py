"""A planner's vector upload: a file, or a zip holding one layer (e.g. a zipped Shapefile), read
safely (size caps, no member written outside its folder, real bytes counted against zip bombs)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError
from .files import MAX_UNPACKED_BYTES, MAX_UPLOAD_BYTES, read_upload
from .vector import VECTOR_SUFFIXES, read_vector_any_encoding

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["read_vector_upload"]


def read_vector_upload(path: str | Path, *, layer: str | None = None, max_bytes: int = MAX_UPLOAD_BYTES,
                       max_unpacked_bytes: int = MAX_UNPACKED_BYTES) -> gpd.GeoDataFrame:
    """Read a vector file, or a zip holding one (e.g. a zipped Shapefile), safely.

    A zip is refused when any member's path would escape the folder (``../``, absolute paths,
    drive letters), when the members add up to more than ``max_unpacked_bytes``, or when a
    Shapefile lacks its ``.dbf`` or ``.shx``.  Only the needed members are unpacked, under their
    bare file names, into a temporary folder that is removed afterwards.

    Parameters
    ----------
    path
        A vector file (see :func:`~geo_coverage.io.read_vector`) or a ``.zip`` of one.
    layer
        The layer (or, in a zip, the member's name without suffix) to read.
    max_bytes
        The largest file read.
    max_unpacked_bytes
        The most a zip may unpack to (declared sizes and real bytes both count).

    Returns
    -------
    geopandas.GeoDataFrame
        The features, in the file's CRS.

    Raises
    ------
    DataError
        Naming the file (and the zip member) and how to fix it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        read_upload(path, max_bytes=max_bytes)
        return _read_zip(path, layer=layer, max_unpacked_bytes=max_unpacked_bytes)
    if suffix == ".shp":
        for sidecar in (".dbf", ".shx"):
            if not path.with_suffix(sidecar).exists() and not path.with_suffix(sidecar.upper()).exists():
                raise DataError(f"The Shapefile has no {sidecar} beside it.", file=path,
                                fix=f"Put {path.stem}{sidecar} next to the .shp, or upload all parts as one zip.")
    if path.exists() and path.is_file() and path.stat().st_size > max_bytes:
        read_upload(path, max_bytes=max_bytes)
    return read_vector_any_encoding(path, layer=layer)


def _unsafe_member(name: str) -> bool:
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return True
    return ".." in text.split("/")


def _read_zip(path: Path, *, layer: str | None, max_unpacked_bytes: int) -> gpd.GeoDataFrame:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"Not a readable zip file ({exc}).", file=path, fix="Zip the files again.") from None
    with archive:
        by_name = _safe_members(archive, path, max_unpacked_bytes=max_unpacked_bytes)
        main = _vector_member(by_name, path, layer=layer)
        needed = [main, *_shapefile_sidecars(by_name, main, path)]
        with tempfile.TemporaryDirectory(prefix="geo-coverage-unzip-") as folder:
            _unpack(archive, [by_name[name] for name in needed], needed, Path(folder), path,
                    max_unpacked_bytes=max_unpacked_bytes)
            unpacked = Path(folder) / main
            try:
                return read_vector_any_encoding(unpacked, layer=None).copy()
            except DataError as exc:  # name the zip and its member, not the temporary folder
                message = exc.message.replace(f"'{unpacked}' ", "").replace(str(unpacked), main)
                raise DataError(f"{message.rstrip('.')} (zip member '{by_name[main].filename}').", file=path,
                                row=exc.row, column=exc.column, fix=exc.fix) from None


def _safe_members(archive: zipfile.ZipFile, path: Path, *, max_unpacked_bytes: int) -> dict[str, zipfile.ZipInfo]:
    """The zip's files by lower-case bare name, after refusing escaping paths and oversized totals."""
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
    by_name: dict[str, list[zipfile.ZipInfo]] = {}
    for info in members:
        by_name.setdefault(info.filename.replace("\\", "/").rsplit("/", 1)[-1].lower(), []).append(info)
    for name, infos in sorted(by_name.items()):
        if len(infos) > 1 and name.endswith((*VECTOR_SUFFIXES, ".dbf", ".shx", ".prj", ".cpg")):
            # Picking one of 2019/streets.geojson and 2023/streets.geojson would be a silent guess.
            paths = ", ".join(sorted(info.filename for info in infos))
            raise DataError(f"The zip holds {len(infos)} files named '{name}' in different folders: {paths}; "
                            "which one is meant is unclear.", file=path,
                            fix="Zip only the layer to read (one file per name), e.g. the 2023 folder alone.")
    return {name: infos[0] for name, infos in by_name.items()}


def _vector_member(by_name: dict[str, zipfile.ZipInfo], path: Path, *, layer: str | None) -> str:
    """The one vector file in the zip (or the one named ``layer``)."""
    vectors = [name for name in by_name if name.endswith(VECTOR_SUFFIXES) and not name.startswith(".")]
    if layer is not None:
        vectors = [name for name in vectors if name.rsplit(".", 1)[0] == layer.lower()] or vectors
    if not vectors:
        raise DataError("The zip holds no vector file (.shp, .geojson, .gpkg, .parquet).", file=path,
                        fix="Zip the Shapefile's .shp, .shx, .dbf and .prj together.")
    if len(vectors) > 1:
        raise DataError(f"The zip holds several vector files: {', '.join(sorted(vectors))}.", file=path,
                        fix="Zip one layer per file (validate and import read one layer).")
    return vectors[0]


def _shapefile_sidecars(by_name: dict[str, zipfile.ZipInfo], main: str, path: Path) -> list[str]:
    """The members a zipped Shapefile needs beside its .shp (none for other formats)."""
    if not main.endswith(".shp"):
        return []
    stem = main[:-4]
    for sidecar in (".dbf", ".shx"):
        if stem + sidecar not in by_name:
            raise DataError(f"The zipped Shapefile '{by_name[main].filename}' has no {sidecar}.",
                            file=path, fix=f"Add {stem}{sidecar} to the zip (a Shapefile needs "
                            ".shp, .shx and .dbf; .prj gives its CRS).")
    return [stem + s for s in (".dbf", ".shx", ".prj", ".cpg") if stem + s in by_name]


def _unpack(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], names: list[str], folder: Path,
            path: Path, *, max_unpacked_bytes: int) -> None:
    """Unpack ``members`` into ``folder`` under ``names``, counting real bytes (a zip's declared
    sizes can lie: zip bombs)."""
    written = 0
    for info, name in zip(members, names, strict=True):
        if info.flag_bits & 0x1:
            raise DataError(f"The zip member '{info.filename}' is encrypted (password-protected).",
                            file=path, fix="Zip the files again without a password.")
        try:
            with archive.open(info) as source, open(folder / name, "wb") as sink:
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
