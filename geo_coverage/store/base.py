"""The store: one interface over two backends (a GeoPackage file, a PostGIS database).

A :class:`Store` holds an SQLAlchemy engine (a pool of connections, safe to share between threads
and Streamlit sessions) and nothing else that changes: every call opens its own transaction, reads
only committed data, and every write is one transaction (``with engine.begin()``), so a write
either happens whole or not at all.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from pathlib import Path

import sqlalchemy as sa

from .. import __version__
from .backup import BackupMixin
from .districts import DistrictsMixin
from .errors import StoreVersionError
from .geopackage import GeoPackageBackend
from .postgis import PostgisBackend, is_database_url
from .scenarios import ScenariosMixin
from .schema import MIGRATIONS, SCHEMA_VERSION, build_tables, utc_now
from .snapshots import SnapshotsMixin

__all__ = [
    "Store",
    "open_store",
    "resolve_location",
    "default_store_path",
    "default_author",
    "STORE_ENV",
    "AUTHOR_ENV",
]

STORE_ENV = "GEO_COVERAGE_STORE"
AUTHOR_ENV = "GEO_COVERAGE_AUTHOR"


def default_store_path() -> Path:
    """Where the embedded store lives when neither ``--store`` nor ``GEO_COVERAGE_STORE`` says:
    ``$XDG_DATA_HOME/geo-coverage/store.gpkg`` (``~/.local/share/geo-coverage/store.gpkg``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "geo-coverage" / "store.gpkg"


def resolve_location(location: str | os.PathLike | None = None) -> tuple[str | Path, bool]:
    """``(location, is_default)``: the argument, else ``GEO_COVERAGE_STORE``, else the default
    path."""
    if location not in (None, ""):
        return (str(location) if is_database_url(str(location)) else Path(location)), False
    env = os.environ.get(STORE_ENV, "").strip()
    if env:
        return (env if is_database_url(env) else Path(env)), False
    return default_store_path(), True


def default_author() -> str:
    """Who is saving: ``GEO_COVERAGE_AUTHOR``, else the login name."""
    name = os.environ.get(AUTHOR_ENV, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): say so rather than fail
        return "unknown"


def open_store(location: str | os.PathLike | None = None, *, create: bool = True) -> Store:
    """Open (and on first use create) a store.

    Parameters
    ----------
    location
        A file path (the embedded GeoPackage store), a ``postgresql://`` URL (the PostGIS store),
        or ``None`` for ``GEO_COVERAGE_STORE`` or the default path (:func:`default_store_path`).
    create
        Create the store when the file does not exist (the default path is always created).

    Raises
    ------
    StoreUnavailableError
        No such file (and ``create`` is false), no server answers, the credentials are refused.
    StoreFormatError
        The file is not a geo-coverage store, or is damaged; it is left untouched.
    StoreVersionError
        The store was written by a newer geo-coverage.
    """
    resolved, is_default = resolve_location(location)
    if isinstance(resolved, str):
        return Store(PostgisBackend(resolved), create=create)
    if is_default:
        resolved.parent.mkdir(parents=True, exist_ok=True)
        create = True
    return Store(GeoPackageBackend(resolved), create=create)


class Store(SnapshotsMixin, DistrictsMixin, ScenariosMixin, BackupMixin):
    """Snapshots of the dataset by year and scenarios with their versions, in one database.

    Open one with :func:`open_store`; close it (or use it as a context manager) to release its
    connections.  See ``docs/store.md``.
    """

    def __init__(self, backend, *, create: bool = True):
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

    def __enter__(self) -> Store:
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
