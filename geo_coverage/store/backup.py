"""Backups: ``dump`` writes the whole store (every snapshot, history and scenario version) to one
portable file, itself an embedded store (a GeoPackage); ``restore`` copies such a file into an
empty store, of either backend.  The dump file is written atomically; the file restored from is
only read (a copy is opened, so an older dump is upgraded without touching the original)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import shapely
import sqlalchemy as sa

from .core import StoreCore
from .errors import StoreError

__all__ = ["BackupMixin"]

BATCH = 5000


def _copy_tables(source, target, connection_in, connection_out) -> dict[str, int]:
    """Copy every data table's rows, ids included, from ``source`` into ``target``."""
    counts = {}
    for table_in, table_out in zip(
        source.tables.data_tables, target.tables.data_tables, strict=True
    ):
        geometry = "geom" in table_in.c
        if table_in.name == "gc_store":
            connection_out.execute(sa.delete(table_out))
        result = connection_in.execution_options(yield_per=BATCH).execute(
            sa.select(table_in).order_by(*table_in.primary_key.columns)
        )
        count = 0
        for batch in result.partitions(BATCH):
            rows = [dict(row._mapping) for row in batch]
            if geometry:
                wkb = [source.backend.wkb_of(row["geom"]) for row in rows]
                shapes = shapely.from_wkb(np.array(wkb, dtype=object))
                bounds = shapely.bounds(shapes)
                for row, blob, box in zip(rows, wkb, bounds, strict=True):
                    row["geom"] = target.backend.geometry_value(blob, box)
            connection_out.execute(sa.insert(table_out), rows)
            count += len(rows)
        counts[table_in.name] = count
    target.backend.after_copy(connection_out, target.tables)
    return counts


class BackupMixin(StoreCore):
    """``dump`` and ``restore`` of :class:`~geo_coverage.store.Store`."""

    def is_empty(self) -> bool:
        t = self.tables
        with self._read() as connection:
            return not any(
                connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                for table in (t.snapshots, t.scenarios)
            )

    def dump(self, path) -> dict[str, int]:
        """Write the whole store to ``path`` (a new GeoPackage store; replaced atomically)."""
        from .base import Store
        from .geopackage import GeoPackageBackend

        path = Path(path)
        if not path.parent.is_dir():
            raise StoreError(
                "The folder for the dump does not exist.",
                file=path,
                fix="Create the folder or choose another path.",
            )
        with tempfile.TemporaryDirectory(prefix=".gc-dump-", dir=path.parent) as folder:
            temporary = Path(folder) / "dump.gpkg"
            target = Store(GeoPackageBackend(temporary), create=True)
            try:
                with self._read() as connection_in, target._write() as connection_out:
                    counts = _copy_tables(self, target, connection_in, connection_out)
            finally:
                target.close()
            _checkpoint(temporary)
            temporary.replace(path)
        return counts

    def restore(self, path) -> dict[str, int]:
        """Copy a dump (or any embedded store file) into this store, which must be empty.

        One transaction: on any error the store stays empty.
        """
        from .base import Store
        from .geopackage import GeoPackageBackend

        path = Path(path)
        if not path.is_file():
            raise StoreError(
                "No dump file here." if not path.exists() else "Not a file.",
                file=path,
                fix="Give the file written by `geo-coverage store dump`.",
            )
        if not self.is_empty():
            raise StoreError(
                f"The store {self.location} already holds snapshots or scenarios; "
                "a restore goes into an empty store.",
                fix="Restore into a new store path or an empty database (nothing was changed).",
            )
        with tempfile.TemporaryDirectory(prefix="gc-restore-") as folder:
            copy = Path(folder) / "restore.gpkg"
            shutil.copyfile(path, copy)
            source = Store(GeoPackageBackend(copy), create=False)
            try:
                with source._read() as connection_in, self._write() as connection_out:
                    if not self._empty_in(connection_out):
                        raise StoreError(
                            "Someone saved into the store during the restore; nothing was "
                            "restored.",
                            fix="Restore into a new, empty store.",
                        )
                    return _copy_tables(source, self, connection_in, connection_out)
            finally:
                source.close()

    def _empty_in(self, connection) -> bool:
        t = self.tables
        return not any(
            connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (t.snapshots, t.scenarios)
        )


def _checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file so the dump is one self-contained file."""
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
