"""The embedded backend: one SQLite file laid out as a GeoPackage (OGC 12-128r18), so QGIS and
GDAL open it (layers ``gc_units`` and ``gc_facilities``, WGS84).

Writes take SQLite's write lock when they begin (``BEGIN IMMEDIATE``), so two writers queue instead
of failing half-way; the journal is a write-ahead log, so readers never wait for a writer and
never see its uncommitted rows, and a process killed mid-write leaves the file as before (SQLite
rolls the log back on the next open).  A file that is not a geo-coverage store is refused before
anything opens it for writing.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.types import UserDefinedType

from .errors import StoreFormatError, StoreUnavailableError
from .frames import json_dumps

__all__ = ["GeoPackageBackend", "gpkg_blob", "wkb_from_gpkg"]

SQLITE_MAGIC = b"SQLite format 3\x00"
GPKG_APPLICATION_ID = 0x47504B47  # 'GPKG'
GPKG_USER_VERSION = 10300  # GeoPackage 1.3
WGS84 = 4326
BUSY_TIMEOUT_S = 60.0


def gpkg_blob(wkb: bytes | None, bounds=None, *, srs_id: int = WGS84) -> bytes | None:
    """A GeoPackage geometry blob: the ``GP`` header (little-endian, with an XY envelope unless
    the geometry is a point) followed by the standard WKB."""
    if wkb is None:
        return None
    if bounds is None or not np.all(np.isfinite(bounds)):
        return b"GP\x00\x01" + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = bounds
    return b"GP\x00\x03" + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy) + wkb


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def wkb_from_gpkg(blob: bytes | None) -> bytes | None:
    """The WKB inside a GeoPackage geometry blob."""
    if blob is None:
        return None
    blob = bytes(blob)
    if blob[:2] != b"GP":
        raise StoreFormatError(
            "A geometry in the store is not a GeoPackage geometry blob.",
            fix="Restore the store from a dump (`geo-coverage store restore`).",
        )
    envelope = (blob[3] >> 1) & 0b111
    return blob[8 + _ENVELOPE_BYTES.get(envelope, 0) :]


class GpkgGeometry(UserDefinedType):
    """A geometry column holding GeoPackage blobs, declared with its geometry type name as the
    GeoPackage standard asks; the store binds ``(wkb, bounds)`` and reads WKB back."""

    cache_ok = True

    def __init__(self, kind: str = "GEOMETRY"):
        self.kind = kind

    def get_col_spec(self, **_kw) -> str:
        return self.kind

    def bind_processor(self, dialect):
        point = self.kind == "POINT"

        def process(value):
            if value is None:
                return None
            wkb, bounds = value
            return gpkg_blob(wkb, None if point else bounds)

        return process

    def result_processor(self, dialect, coltype):
        return wkb_from_gpkg


class GeoPackageBackend:
    """A store in one GeoPackage file at ``path``."""

    name = "geopackage"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()

    @property
    def location(self) -> str:
        return str(self.path)

    def geometry_type(self, kind: str):
        return GpkgGeometry(kind)

    def geometry_value(self, wkb: bytes | None, bounds) -> object:
        return None if wkb is None else (wkb, bounds)

    def wkb_of(self, value) -> bytes | None:
        return value

    def wkb_column(self, column):
        """The geometry column as selected for reading (the blob type strips the header)."""
        return column

    # --- opening --------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def check(self, *, create: bool, schema_version: int) -> None:
        """Refuse a missing (unless ``create``), foreign, corrupt or newer file without writing to
        it."""
        if not self.path.exists():
            if not create:
                raise StoreUnavailableError(
                    "No store at this path.",
                    file=self.path,
                    fix="Create it with `geo-coverage store init --store PATH` (or `snapshot "
                        "add`), "
                    "or give the path of an existing store.",
                )
            if not self.path.parent.is_dir():
                raise StoreUnavailableError(
                    "The folder for the store does not exist.",
                    file=self.path,
                    fix="Create the folder first or choose another path.",
                )
            return
        if self.path.is_dir():
            raise StoreFormatError(
                "This is a folder, not a store file.",
                file=self.path,
                fix="Give the path of a .gpkg store file (a data folder goes to "
                "`--data` or `snapshot add`).",
            )
        with open(self.path, "rb") as handle:
            header = handle.read(100)
        if len(header) < 100 or header[:16] != SQLITE_MAGIC:
            raise StoreFormatError(
                "Not a geo-coverage store: the file is not a SQLite/GeoPackage database "
                f"({'empty' if not header else 'unknown format'}); it was left untouched.",
                file=self.path,
                fix="Give the path of a store (.gpkg) made by geo-coverage, or a new path.",
            )
        version = self._read_schema_version()
        if version is None:
            raise StoreFormatError(
                "Not a geo-coverage store: a SQLite/GeoPackage file without the store's tables; "
                "it was left untouched.",
                file=self.path,
                fix="Give a new path (the store is created there) or the path of an existing "
                    "store.",
            )

    def _read_schema_version(self) -> int | None:
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(
                f"Cannot open the store file: {exc}.",
                file=self.path,
                fix="Check the path and its permissions.",
            ) from None
        try:
            found = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'gc_schema_version'"
            ).fetchone()
            if not found:
                return None
            row = connection.execute("SELECT max(version) FROM gc_schema_version").fetchone()
            return int(row[0] or 0)
        except sqlite3.DatabaseError as exc:
            raise StoreFormatError(
                f"The store file is damaged ({exc}); it was left untouched.",
                file=self.path,
                fix="Restore it from a dump (`geo-coverage store restore`) or give another store.",
            ) from None
        finally:
            connection.close()

    def create_engine(self) -> sa.Engine:
        engine = sa.create_engine(
            f"sqlite:///{self.path}",
            connect_args={"timeout": BUSY_TIMEOUT_S},
            pool_size=8,
            max_overflow=8,
            json_serializer=json_dumps,
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # transactions are begun below, not by sqlite3
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
            dbapi_connection.execute("PRAGMA synchronous=FULL")

        @event.listens_for(engine, "begin")
        def _begin(connection):
            write = connection.get_execution_options().get("gc_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def lock_schema(self, connection) -> None:
        """Nothing to do: a write transaction already holds SQLite's one write lock."""

    def translate(self, exc: Exception) -> Exception | None:
        """A driver error as a store error (``None``: not one we know how to explain)."""
        original = getattr(exc, "orig", exc)
        text = str(original)
        if isinstance(original, sqlite3.OperationalError) and "locked" in text:
            return StoreUnavailableError(
                f"The store is busy: another process held its write lock for over "
                f"{BUSY_TIMEOUT_S:g} s.",
                file=self.path,
                fix="Try again in a moment.",
            )
        if isinstance(original, sqlite3.DatabaseError) and (
            "malformed" in text or "not a database" in text
        ):
            return StoreFormatError(
                f"The store file is damaged ({text}).",
                file=self.path,
                fix="Restore it from a dump (`geo-coverage store restore`).",
            )
        if isinstance(original, sqlite3.OperationalError) and (
            "readonly" in text or "unable to open" in text
        ):
            return StoreUnavailableError(
                f"Cannot write to the store ({text}).",
                file=self.path,
                fix="Check the file's and its folder's permissions.",
            )
        return None

    # --- schema ---------------------------------------------------------------------------

    def before_create(self, connection) -> None:
        connection.exec_driver_sql(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
        connection.exec_driver_sql(f"PRAGMA user_version = {GPKG_USER_VERSION}")
        for statement in _GPKG_CORE:
            connection.exec_driver_sql(statement)
        from pyproj import CRS

        connection.exec_driver_sql(
            "INSERT INTO gpkg_spatial_ref_sys VALUES "
            "('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian "
            "coordinate reference system'), "
            "('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic "
            "coordinate reference system'), "
            "('WGS 84 geodetic', 4326, 'EPSG', 4326, ?, 'longitude/latitude coordinates in decimal "
            "degrees on the WGS 84 spheroid')",
            (CRS.from_epsg(WGS84).to_wkt("WKT1_GDAL"),),
        )

    def after_create(self, connection, tables) -> None:
        from .schema import utc_now

        now = utc_now()
        for table, kind, what in (
            (tables.units, "GEOMETRY", "units of every snapshot"),
            (tables.facilities, "POINT", "facilities of every snapshot"),
        ):
            connection.exec_driver_sql(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change, srs_id) "
                "VALUES (?, 'features', ?, ?, ?, 4326)",
                (table.name, table.name, f"geo-coverage: {what}", now),
            )
            connection.exec_driver_sql(
                "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
                (table.name, kind),
            )
        for table in (tables.snapshots, tables.scenarios, tables.versions):
            connection.exec_driver_sql(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                "last_change) "
                "VALUES (?, 'attributes', ?, ?, ?)",
                (table.name, table.name, "geo-coverage", now),
            )

    def after_copy(self, connection, tables) -> None:
        """Nothing to do: SQLite's integer keys follow the largest id copied in."""

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())


_GPKG_CORE = (
    """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
        organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
        definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
)
