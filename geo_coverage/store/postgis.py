"""The team backend: PostgreSQL with PostGIS, given by a URL (``postgresql://user@host:5432/db``).

The URL comes from ``--store`` or the ``GEO_COVERAGE_STORE`` environment variable (a password is
best left to ``~/.pgpass`` or ``PGPASSWORD``, which libpq reads itself); it is never printed with
its password.  Geometry columns are PostGIS ``geometry(…, 4326)`` with GiST indexes (GeoAlchemy2),
properties are ``jsonb``.  Every write is one transaction; schema changes hold an advisory lock so
two processes opening a new database at once create the tables once.
"""

from __future__ import annotations

import sqlalchemy as sa

from .._compat import require
from .errors import StoreFormatError, StoreUnavailableError
from .frames import json_dumps

__all__ = ["PostgisBackend", "is_database_url", "safe_url"]

_SCHEMA_LOCK = 7_318_452_911  # pg_advisory_xact_lock key of geo-coverage's migrations
CONNECT_TIMEOUT_S = 10


def is_database_url(text: str) -> bool:
    return "://" in str(text)


def safe_url(url: str | sa.URL) -> str:
    """The URL with its password masked (for messages and `store info`)."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as a scheme only
        return str(url).split("://", 1)[0] + "://…"


class PostgisBackend:
    """A store in a PostgreSQL database with the PostGIS extension."""

    name = "postgis"

    def __init__(self, url: str):
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError:
            raise StoreUnavailableError(
                f"Cannot read the store URL '{safe_url(url)}'.",
                fix="Write it as postgresql://USER@HOST:PORT/DATABASE (a file path for the "
                    "embedded store).",
            ) from None
        if parsed.get_backend_name() != "postgresql":
            raise StoreUnavailableError(
                f"Unsupported store URL '{safe_url(url)}': only PostgreSQL (with PostGIS) is a "
                f"team store.",
                fix="Use postgresql://USER@HOST:PORT/DATABASE, or a file path for the embedded "
                    "store.",
            )
        for module in ("geoalchemy2", "psycopg"):
            require(module, message="The PostGIS store needs {module}, which is not installed.",
                    fix="pip install 'geo-coverage[postgis]' (GeoAlchemy2 and psycopg 3).",
                    error=StoreUnavailableError)
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed

    @property
    def location(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def geometry_type(self, kind: str):
        from geoalchemy2 import Geometry

        return Geometry(geometry_type=kind, srid=4326, spatial_index=True)

    def geometry_value(self, wkb: bytes | None, bounds) -> object:
        from geoalchemy2.elements import WKBElement

        return None if wkb is None else WKBElement(wkb, srid=4326)

    def wkb_of(self, value) -> bytes | None:
        if value is None:
            return None
        data = getattr(value, "data", value)
        return bytes.fromhex(data) if isinstance(data, str) else bytes(data)

    def wkb_column(self, column):
        """``ST_AsBinary(geom)`` as plain bytes (no GeoAlchemy2 element per row)."""
        return sa.func.ST_AsBinary(column, type_=sa.LargeBinary)

    def exists(self) -> bool:
        return True

    def check(self, *, create: bool, schema_version: int) -> None:
        """Nothing to look at before connecting; the connection tells."""

    def create_engine(self) -> sa.Engine:
        return sa.create_engine(
            self.url,
            pool_size=8,
            max_overflow=8,
            pool_pre_ping=True,
            json_serializer=json_dumps,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "geo-coverage"},
        )

    def lock_schema(self, connection) -> None:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})

    def translate(self, exc: Exception) -> Exception | None:
        original = getattr(exc, "orig", None)
        if original is None:
            return None
        text = (
            str(original).strip().splitlines()[0]
            if str(original).strip()
            else type(original).__name__
        )
        password = self.url.password
        if password:
            text = text.replace(str(password), "***")
        sqlstate = getattr(original, "sqlstate", None)
        where = self.location
        lowered = text.lower()
        if (
            sqlstate in ("28P01", "28000")
            or "password authentication failed" in lowered
            or "no password supplied" in lowered
            or "role" in lowered
            and "does not exist" in lowered
        ):
            return StoreUnavailableError(
                f"The PostgreSQL server at {where} refused the credentials ({text}).",
                fix="Check the user name and password (~/.pgpass or PGPASSWORD) with your database "
                    "administrator.",
            )
        if sqlstate == "3D000" or "database" in lowered and "does not exist" in lowered:
            return StoreUnavailableError(
                f"No database at {where} ({text}).",
                fix="Create it (createdb NAME) or correct the database name in the URL.",
            )
        if sqlstate in ("42501",):
            return StoreUnavailableError(
                f"The database user may not do this at {where} ({text}).",
                fix="Ask your database administrator for the needed rights.",
            )
        if sqlstate == "0A000" or "postgis" in text.lower() and "extension" in text.lower():
            return StoreUnavailableError(
                f"PostGIS is not available in the database at {where} ({text}).",
                fix="Install PostGIS on the server (Debian: postgresql-15-postgis-3) and run "
                "CREATE EXTENSION postgis in the database.",
            )
        if (
            isinstance(exc, sa.exc.OperationalError)
            or sqlstate is None
            or sqlstate.startswith("08")
        ):
            return StoreUnavailableError(
                f"The PostgreSQL server at {where} does not answer ({text}).",
                fix="Check the host and port in the store URL and that the server is running.",
            )
        if sqlstate.startswith("XX"):
            return StoreFormatError(
                f"The database at {where} reports damage ({text}).",
                fix="Ask your database administrator; restore from `store dump` if needed.",
            )
        return None

    def before_create(self, connection) -> None:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")

    def after_create(self, connection, tables) -> None:
        """Nothing more: GeoAlchemy2 made the GiST indexes with the tables."""

    def after_copy(self, connection, tables) -> None:
        """Serial ids continue after the largest id copied in."""
        for table in tables.data_tables:
            for column in table.primary_key.columns:
                if column.autoincrement is True:
                    connection.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                            f"'{column.name}'), "
                            f"coalesce((SELECT max({column.name}) FROM {table.name}), 0) + 1, "
                            f"false)"
                        )
                    )

    def size_bytes(self) -> int:
        """Bytes of the store's tables with their indexes and TOAST (not the whole database)."""
        engine = self.create_engine()
        try:
            with engine.connect() as connection:
                size = connection.execute(
                    sa.text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                        "AND c.relname LIKE 'gc\\_%' AND n.nspname = current_schema()"
                    )
                ).scalar()
            return int(size or 0)
        finally:
            engine.dispose()
