"""YAML: the one loader (safe, errors naming file and line) and a dumper it reads back exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import DataError
from .files import write_text

__all__ = ["read_yaml", "parse_yaml", "dump_yaml", "write_yaml"]


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file with the safe loader (no Python tags).

    Parameters
    ----------
    path
        A UTF-8 YAML file.

    Returns
    -------
    object
        The document (``None`` for an empty file).

    Raises
    ------
    DataError
        The file is missing, not UTF-8 or not valid YAML (with its line).
    """
    path = Path(path)
    if not path.exists():
        raise DataError("File not found.", file=path, fix="Check the path.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"Not UTF-8 text ({exc.reason}).", file=path,
                        fix="Save the file as UTF-8.") from None
    except OSError as exc:
        raise DataError(f"Cannot read the file ({exc.strerror}).", file=path) from None
    return parse_yaml(text, origin=path)


def parse_yaml(text: str, *, origin: str | Path = "<yaml>") -> Any:
    """Parse YAML text with the safe loader.

    Parameters
    ----------
    text
        The document.
    origin
        What to name in error messages (a file, or an upload's name).

    Returns
    -------
    object
        The document.

    Raises
    ------
    DataError
        Invalid YAML or a Python tag, naming ``origin`` and the line.
    """
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"Invalid YAML: {problem}.", file=origin, row=row,
                        fix="Correct the YAML syntax; Python tags (!!python/...) are never accepted.") from None


class _SafeDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, except that strings holding a Unicode line break PyYAML folds on
    reading back (NEL, U+2028, U+2029) are written double-quoted, where they are escaped."""


_FOLDED_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(ch in value for ch in _FOLDED_BREAKS) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SafeDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML text that :func:`parse_yaml` reads back into equal data (keys in their given order).

    Parameters
    ----------
    data
        Plain data: mappings, sequences, strings, numbers, booleans, ``None``.

    Returns
    -------
    str
        The document, Unicode kept readable.
    """
    return yaml.dump(data, Dumper=_SafeDumper, allow_unicode=True, sort_keys=False)


def write_yaml(data: Any, target: str | Path) -> Path:
    """Write ``data`` as YAML (see :func:`dump_yaml`) atomically; returns ``target``."""
    return write_text(dump_yaml(data), target)
