"""One base error for the project; every subclass also inherits the matching builtin.

Callers can catch :class:`GeoCoverageError` for anything the tool raises on purpose, or the
builtin (``ValueError``, ``OSError``) they would catch anyway.  Messages say what was wrong,
where (file, row, column) and how to fix it; the CLI and the app print them without a traceback.
"""

from __future__ import annotations

__all__ = [
    "GeoCoverageError",
    "DataError",
    "PlanError",
    "ScenarioError",
    "NetworkError",
    "OptimizationError",
    "DataWarning",
    "format_location",
]


def format_location(file=None, row=None, column=None) -> str:
    """Return ``"file, row 3, column 'beds'"`` for the parts that are known (rows are 1-based)."""
    parts = []
    if file is not None:
        parts.append(str(file))
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


class GeoCoverageError(Exception):
    """Base class: an error the user can act on, reported without a traceback.

    Parameters
    ----------
    message
        What was wrong.
    file, row, column
        Where, when known.  ``row`` is the 1-based data row as a spreadsheet shows it
        (the header is row 1, so the first data row is row 2) unless the caller says otherwise.
    fix
        How to fix it, in one sentence.
    """

    def __init__(self, message: str, *, file=None, row=None, column=None, fix: str | None = None):
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = format_location(self.file, self.row, self.column)
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class DataError(GeoCoverageError, ValueError):
    """Input data is missing, malformed or inconsistent."""


class PlanError(DataError):
    """A plan file is invalid (unknown type, layer or level, missing target, duplicate id)."""


class ScenarioError(DataError):
    """A scenario file or edit is invalid."""


class NetworkError(GeoCoverageError, OSError):
    """A road network or an online service could not be read or reached."""


class OptimizationError(GeoCoverageError, RuntimeError):
    """A siting model could not be built or solved."""


class DataWarning(UserWarning):
    """Something in the input was recovered from but deserves a look (e.g. a likely datum shift)."""
