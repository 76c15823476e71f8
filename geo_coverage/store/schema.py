"""The store's tables (SQLAlchemy Core) and its versioned migrations.

Every store carries ``gc_schema_version``: one row per migration applied (version, when, by which
geo-coverage).  Opening a store runs the migrations it lacks, each in its own transaction, so a
store made today opens in next year's version; a store whose version is newer than
:data:`SCHEMA_VERSION` is refused (:class:`~geo_coverage.store.errors.StoreVersionError`) and left
untouched.  A migration, once released, is never edited: a change of the tables is a new
migration appended to :data:`MIGRATIONS`, with its DDL written out for that version.

Tables (prefix ``gc_`` so that they sit beside a GeoPackage's or a PostGIS schema's own):

``gc_store``            key/value: the store's id and creation time
``gc_snapshots``        one row per saved snapshot (year, label, district, status, provenance)
``gc_snapshot_parts``   per snapshot and part (``units.district``, ``layer.elderly_care``): the
                        column names and dtypes, so a load gives back exactly the saved frames
``gc_units``            feature table: every unit of every snapshot (WGS84 geometry, properties)
``gc_facilities``       feature table: every facility of every snapshot
``gc_scenarios``        one row per scenario name (who made it, what it was forked from)
``gc_scenario_versions``every saved version (author, time, message, the scenario's YAML)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "build_tables", "Tables", "utc_now"]

SCHEMA_VERSION = 1


def utc_now() -> str:
    """Timestamps are ISO-8601 text in UTC with microseconds: the same on both backends and in
    dumps."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


class Tables:
    """The store's tables for one backend (only the geometry column's type differs)."""

    def __init__(self, metadata: sa.MetaData, geometry_type):
        self.metadata = metadata
        json_type = JSONText().with_variant(_jsonb(), "postgresql")
        self.schema_version = sa.Table(
            "gc_schema_version",
            metadata,
            sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("applied_at", sa.Text, nullable=False),
            sa.Column("tool_version", sa.Text, nullable=False),
        )
        self.store = sa.Table(
            "gc_store",
            metadata,
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
        self.snapshots = sa.Table(
            "gc_snapshots",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("year", sa.Integer, nullable=False),
            sa.Column("label", sa.Text, nullable=False),
            # '' for the whole city; a district code for a district's submission.
            sa.Column("district_code", sa.Text, nullable=False, server_default=""),
            # current | replaced | removed: nothing is ever deleted, history keeps the rest.
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("author", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("retired_at", sa.Text),
            sa.Column("retired_by", sa.Text),
            sa.Column("meta", json_type, nullable=False),
            sa.Column("provenance", json_type, nullable=False),
            sa.Column("digest", sa.Text, nullable=False),
            sa.CheckConstraint(
                "status IN ('current', 'replaced', 'removed')", name="gc_snapshots_status"
            ),
        )
        # One current snapshot per year and district: the database itself refuses a second one,
        # whatever two writers race.
        sa.Index(
            "gc_snapshots_current",
            self.snapshots.c.year,
            self.snapshots.c.district_code,
            unique=True,
            sqlite_where=self.snapshots.c.status == "current",
            postgresql_where=self.snapshots.c.status == "current",
        )
        self.parts = sa.Table(
            "gc_snapshot_parts",
            metadata,
            sa.Column(
                "snapshot_id", sa.Integer, sa.ForeignKey("gc_snapshots.id"), primary_key=True
            ),
            sa.Column("part", sa.Text, primary_key=True),
            sa.Column("columns", json_type, nullable=False),
            sa.Column("geometry_name", sa.Text, nullable=False),
            sa.Column("crs", sa.Text, nullable=False),
            sa.Column("rows", sa.Integer, nullable=False),
        )
        self.units = sa.Table(
            "gc_units",
            metadata,
            sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("gc_snapshots.id"), nullable=False),
            sa.Column("level", sa.Text, nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("code", sa.Text),
            sa.Column("name", sa.Text),
            sa.Column("properties", json_type, nullable=False),
            sa.Column("geom", geometry_type("GEOMETRY")),
        )
        sa.Index(
            "gc_units_snapshot", self.units.c.snapshot_id, self.units.c.level, self.units.c.position
        )
        self.facilities = sa.Table(
            "gc_facilities",
            metadata,
            sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("gc_snapshots.id"), nullable=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("facility_id", sa.Text),
            sa.Column("name", sa.Text),
            sa.Column("properties", json_type, nullable=False),
            sa.Column("geom", geometry_type("POINT")),
        )
        sa.Index(
            "gc_facilities_snapshot",
            self.facilities.c.snapshot_id,
            self.facilities.c.kind,
            self.facilities.c.position,
        )
        self.scenarios = sa.Table(
            "gc_scenarios",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("name", sa.Text, nullable=False, unique=True),
            sa.Column("created_by", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("forked_from", sa.Text),
            sa.Column("forked_from_version", sa.Integer),
        )
        self.versions = sa.Table(
            "gc_scenario_versions",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("scenario_id", sa.Integer, sa.ForeignKey("gc_scenarios.id"), nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("author", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("message", sa.Text, nullable=False),
            sa.Column("content", sa.Text, nullable=False),  # the scenario's YAML, as saved
            sa.Column("snapshot", sa.Text),  # the snapshot it was made on, if any
            sa.Column("restored_from", sa.Integer),
            # Optimistic concurrency: two saves from the same base both ask for version n + 1;
            # this constraint lets exactly one of them in.
            sa.UniqueConstraint("scenario_id", "version", name="gc_scenario_versions_unique"),
        )

    @property
    def data_tables(self) -> tuple[sa.Table, ...]:
        """Tables holding the store's content, parents before children (dump / restore order)."""
        return (
            self.store,
            self.snapshots,
            self.parts,
            self.units,
            self.facilities,
            self.scenarios,
            self.versions,
        )


class JSONText(sa.JSON):
    """JSON kept as TEXT in SQLite (so GDAL and QGIS read the column as a string field) and as
    ``jsonb`` in PostgreSQL (so it can be queried: ``properties->>'beds'``)."""

    cache_ok = True


@compiles(JSONText, "sqlite")
def _json_as_text(_type, _compiler, **_kw) -> str:
    return "TEXT"


def _jsonb():
    from sqlalchemy.dialects.postgresql import JSONB

    return JSONB()


def build_tables(geometry_type) -> Tables:
    """The tables with ``geometry_type(kind)`` as the type of the geometry columns."""
    return Tables(sa.MetaData(), geometry_type)


def _create_v1(connection: sa.Connection, tables: Tables, backend) -> None:
    backend.before_create(connection)
    tables.metadata.create_all(connection, tables=[tables.schema_version, *tables.data_tables])
    backend.after_create(connection, tables)
    connection.execute(
        sa.insert(tables.store),
        [
            {"key": "store_id", "value": _new_id()},
            {"key": "created_at", "value": utc_now()},
        ],
    )


def _new_id() -> str:
    import uuid

    return str(uuid.uuid4())


# (version, what it does, how): applied in order, each in one transaction with its version row.
MIGRATIONS: tuple[tuple[int, str, Callable], ...] = (
    (1, "snapshots, their parts and features; scenarios and their versions", _create_v1),
)
assert [number for number, _, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
