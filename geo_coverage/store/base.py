"""The store: one interface over two backends (a GeoPackage file, a PostGIS database), and
where it is (``--store``, ``GEO_COVERAGE_STORE`` or the default path)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from .backup import BackupMixin
from .geopackage import GeoPackageBackend
from .postgis import PostgisBackend, is_database_url
from .scenarios import ScenariosMixin
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



class Store(SnapshotsMixin, ScenariosMixin, BackupMixin):
    """Snapshots of the dataset by year and scenarios with their versions, in one database.

    Open one with :func:`open_store`; close it (or use it as a context manager) to release its
    connections.  The plumbing is :class:`~geo_coverage.store.core.StoreCore`; the verbs come
    from the snapshot, district, scenario and backup parts.  See ``docs/store.md``.
    """
