"""What an import found: :class:`Problem` (one mistake, where it is and how to fix it) and
:class:`ImportResult` (a reader's frame, every problem, a report of figures)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GeoCoverageError, format_location

__all__ = ["SEVERITIES", "Problem", "ImportResult", "has_errors", "guarded_read"]

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``error``) or doubtful (``warning``) in an input file.

    ``row`` is the row as a spreadsheet shows it (header = row 1) for tables, and the 1-based
    feature number for vector files.
    """

    severity: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    fix: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    def __str__(self) -> str:
        where = format_location(self.file, self.row, self.column)
        text = f"{where}: {self.severity}: {self.message}" if where else f"{self.severity}: {self.message}"
        return f"{text} Fix: {self.fix}" if self.fix else text

    @classmethod
    def from_error(cls, error: GeoCoverageError, *, file: str | Path | None = None) -> Problem:
        """The error as a Problem; ``file`` names the file when the error does not."""
        return cls("error", error.message, file=error.file or (None if file is None else str(file)),
                   row=error.row, column=error.column, fix=error.fix)

    def to_dict(self) -> dict:
        """The problem as a table row (severity, file, row, column, message, fix)."""
        return {"severity": self.severity, "file": self.file, "row": self.row, "column": self.column,
                "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class ImportResult:
    """What a reader produced: a frame (``None`` when errors made it unusable), every problem,
    and a report of figures (rows read, encoding, datum, unmatched codes, datum evidence)."""

    frame: Any
    problems: tuple[Problem, ...] = ()
    report: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether there is no error (warnings allowed)."""
        return not has_errors(self.problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems of severity ``warning``."""
        return tuple(p for p in self.problems if p.severity == "warning")


def has_errors(problems: Sequence[Problem]) -> bool:
    """Whether any of ``problems`` is an error."""
    return any(p.severity == "error" for p in problems)


def failed(error: GeoCoverageError, *, file: str | Path | None = None,
           report: Mapping[str, Any] | None = None) -> ImportResult:
    """An unusable result holding the one error that stopped a reader."""
    return ImportResult(None, (Problem.from_error(error, file=file),), {} if report is None else report)


def refused(message: str, *, file: str | Path | None, fix: str,
            report: Mapping[str, Any] | None = None) -> ImportResult:
    """An unusable result holding one error made here."""
    return ImportResult(None, (Problem("error", message, file=None if file is None else str(file), fix=fix),),
                        {} if report is None else report)


def row_problems(mask: np.ndarray, rows: np.ndarray, make: Callable[[int, int], Problem], *,
                 limit: int = 50) -> list[Problem]:
    """One problem per flagged row (capped, with a summary line for the rest).

    ``make(row, position)`` builds the problem of the row at ``position`` in the table.
    """
    positions = np.flatnonzero(mask)
    out = [make(int(rows[i]), i) for i in positions[:limit]]
    if len(positions) > limit:
        first = out[0]
        out.append(Problem(first.severity, f"... and {len(positions) - limit} more rows like this.",
                           file=first.file, column=first.column, fix=first.fix))
    return out


def guarded_read(read: Callable[[], ImportResult], *, file: str | Path) -> ImportResult:
    """Run one file's reader; anything it raises becomes a Problem naming the file, never a traceback.

    The readers return problems for every failure known; this is the net under the unknown ones.

    Parameters
    ----------
    read
        The reader, called without arguments.
    file
        The file it reads (its name is what the problem names).

    Returns
    -------
    ImportResult
        The reader's result, or an unusable one with the one error.
    """
    name = Path(file).name
    try:
        return read()
    except GeoCoverageError as exc:
        return failed(exc, file=name)
    except Exception as exc:  # noqa: BLE001 - a damaged file can make any library raise anything
        reason = (str(exc).splitlines() or [""])[0][:200]
        return ImportResult(None, (Problem(
            "error", f"Cannot read the file ({type(exc).__name__}{': ' + reason if reason else ''}).", file=name,
            fix="Check that the file is complete and in the format its name says (export it again); if it is, "
                "report this message."),), {})
