"""Errors of the project store.  Each is a :class:`~geo_coverage.errors.GeoCoverageError` (the CLI
prints it on one line and exits 2) and also the builtin a caller would catch anyway."""

from __future__ import annotations

from ..errors import GeoCoverageError

__all__ = [
    "StoreError",
    "StoreUnavailableError",
    "StoreFormatError",
    "StoreVersionError",
    "NotFoundError",
    "SnapshotExistsError",
    "ConflictError",
]


class StoreError(GeoCoverageError):
    """Base class of everything the store refuses."""


class StoreUnavailableError(StoreError, OSError):
    """The store cannot be reached or opened: no server answers, wrong credentials, no file."""


class StoreFormatError(StoreError, ValueError):
    """The file or database is not a geo-coverage store (foreign or corrupt); it is left
    untouched."""


class StoreVersionError(StoreFormatError):
    """The store was written by a newer geo-coverage (a newer schema version than this one
    reads)."""


class NotFoundError(StoreError, LookupError):
    """No snapshot, scenario or version by that name."""


class SnapshotExistsError(StoreError, ValueError):
    """A snapshot for that year (and district) is already there and ``replace`` was not asked
    for."""


class ConflictError(StoreError, RuntimeError):
    """A scenario save from a stale version: someone saved in between (optimistic concurrency).

    Attributes
    ----------
    latest
        The newest version now in the store.
    since
        The versions saved after the base version, oldest first.
    """

    def __init__(self, message: str, *, latest=None, since=(), fix: str | None = None):
        self.latest = latest
        self.since = tuple(since)
        super().__init__(message, fix=fix)
