"""The project store: snapshots of the dataset by year and scenarios with their history, in one
SQLite/GeoPackage file (the embedded default) or a PostgreSQL + PostGIS database (a team's).

>>> from geo_coverage.store import open_store
>>> store = open_store("plan.gpkg")                     # or "postgresql://user@host/db", or None
>>> store.add_snapshot("data/2023", year=2023, label="2023 mid-term")
>>> [(s.year, s.label) for s in store.list_snapshots()]
>>> dataset = store.load_snapshot(2023)                 # a geo_coverage.dataset.Dataset

See ``docs/store.md``.
"""

from .base import (
    AUTHOR_ENV,
    STORE_ENV,
    Store,
    default_author,
    default_store_path,
    open_store,
    resolve_location,
)
from .errors import (
    ConflictError,
    NotFoundError,
    SnapshotExistsError,
    StoreError,
    StoreFormatError,
    StoreUnavailableError,
    StoreVersionError,
)
from .postgis import safe_url
from .scenarios import ScenarioDiff, ScenarioSummary, ScenarioVersion
from .schema import SCHEMA_VERSION
from .snapshots import SnapshotInfo, YearView

__all__ = [
    "open_store",
    "Store",
    "resolve_location",
    "default_store_path",
    "default_author",
    "safe_url",
    "STORE_ENV",
    "AUTHOR_ENV",
    "SCHEMA_VERSION",
    "SnapshotInfo",
    "YearView",
    "ScenarioVersion",
    "ScenarioSummary",
    "ScenarioDiff",
    "StoreError",
    "StoreUnavailableError",
    "StoreFormatError",
    "StoreVersionError",
    "NotFoundError",
    "SnapshotExistsError",
    "ConflictError",
]
