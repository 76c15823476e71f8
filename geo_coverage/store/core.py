"""The store's plumbing shared by its parts: the backend, the engine, transactions, migrations.

:class:`StoreCore` holds an SQLAlchemy engine (a pool of connections, safe to share between
threads and Streamlit sessions) and nothing else that changes: every call opens its own
transaction and reads only committed data, and every write is one transaction
(``with engine.begin()``), so a write either happens whole or not at all.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

import sqlalchemy as sa

from .. import __version__
from .errors import StoreVersionError
from .schema import MIGRATIONS, SCHEMA_VERSION, Tables, build_tables, utc_now

__all__ = ["StoreCore", "Backend"]


class Backend(Protocol):
    """What a backend provides (:class:`~geo_coverage.store.geopackage.GeoPackageBackend`,
    :class:`~geo_coverage.store.postgis.PostgisBackend`)."""

    name: str

    @property
    def location(self) -> str: ...

    def check(self, *, create: bool, schema_version: int) -> None: ...

    def create_engine(self) -> sa.Engine: ...

    def geometry_type(self, kind: str) -> Any: ...

    def geometry_value(self, wkb: bytes | None, bounds) -> Any: ...

    def wkb_of(self, value) -> bytes | None: ...

    def wkb_column(self, column) -> Any: ...

    def lock_schema(self, connection) -> None: ...

    def translate(self, exc: Exception) -> Exception | None: ...

    def before_create(self, connection) -> None: ...

    def after_create(self, connection, tables) -> None: ...

    def after_copy(self, connection, tables) -> None: ...

    def size_bytes(self) -> int: ...


class StoreCore:
    """Backend, tables, engine and transactions (see :class:`geo_coverage.store.Store`)."""

    backend: Backend
    tables: Tables
    engine: sa.Engine
    schema_version: int

    def __init__(self, backend: Backend, *, create: bool = True):
        self.backend = backend
        backend.check(create=create, schema_version=SCHEMA_VERSION)
        self.tables = build_tables(backend.geometry_type)
        self.engine = backend.create_engine()
        self._writer = self.engine.execution_options(gc_write=True)
        try:
            self.schema_version = self._migrate()
        except BaseException:
            self.engine.dispose()
            raise

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def location(self) -> str:
        """Where the store is (a path, or a URL without its password)."""
        return self.backend.location

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.backend.name}: {self.location})"

    @contextlib.contextmanager
    def _translated(self):
        try:
            yield
        except sa.exc.DBAPIError as exc:
            translated = self.backend.translate(exc)
            if translated is None:
                raise
            raise translated from None

    @contextlib.contextmanager
    def _read(self):
        """A read-only transaction: it sees what was committed when it began."""
        with self._translated(), self.engine.connect() as connection, connection.begin():
            yield connection

    @contextlib.contextmanager
    def _write(self):
        """One write transaction: committed whole at the end of the block, or rolled back."""
        with self._translated(), self._writer.begin() as connection:
            yield connection

    # --- schema versions ----------------------------------------------------------------------

    def _version(self, connection) -> int:
        if not sa.inspect(connection).has_table(self.tables.schema_version.name):
            return 0
        found = connection.execute(
            sa.select(sa.func.max(self.tables.schema_version.c.version))
        ).scalar()
        return int(found or 0)

    def _migrate(self) -> int:
        with self._read() as connection:
            version = self._version(connection)
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"The store at {self.location} was written by a newer geo-coverage (schema version "
                f"{version}; this geo-coverage {__version__} reads up to {SCHEMA_VERSION}). "
                "It was left untouched.",
                fix="Upgrade geo-coverage (pip install -U geo-coverage) to open this store.",
            )
        for number, _what, migrate in MIGRATIONS:
            if number <= version:
                continue
            with self._write() as connection:
                self.backend.lock_schema(connection)
                if self._version(connection) >= number:  # another process got there first
                    continue
                migrate(connection, self.tables, self.backend)
                connection.execute(
                    sa.insert(self.tables.schema_version),
                    {"version": number, "applied_at": utc_now(), "tool_version": __version__},
                )
        return SCHEMA_VERSION

    def info(self) -> dict:
        """What the store holds: backend, location, schema version, counts, size on disk."""
        t = self.tables
        with self._read() as connection:
            meta = dict(connection.execute(sa.select(t.store.c.key, t.store.c.value)).all())
            counts = {
                "snapshots": connection.execute(
                    sa.select(sa.func.count())
                    .select_from(t.snapshots)
                    .where(t.snapshots.c.status == "current")
                ).scalar(),
                "snapshots_in_history": connection.execute(
                    sa.select(sa.func.count())
                    .select_from(t.snapshots)
                    .where(t.snapshots.c.status != "current")
                ).scalar(),
                "scenarios": connection.execute(
                    sa.select(sa.func.count()).select_from(t.scenarios)
                ).scalar(),
                "scenario_versions": connection.execute(
                    sa.select(sa.func.count()).select_from(t.versions)
                ).scalar(),
            }
            history = [
                dict(row._mapping)
                for row in connection.execute(
                    sa.select(t.schema_version).order_by(t.schema_version.c.version)
                )
            ]
        return {
            "backend": self.backend.name,
            "location": self.location,
            "schema_version": self.schema_version,
            "store_id": meta.get("store_id"),
            "created_at": meta.get("created_at"),
            **counts,
            "size_bytes": self.backend.size_bytes(),
            "migrations": history,
        }
