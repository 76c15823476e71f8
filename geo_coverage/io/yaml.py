"""YAML: the one loader (safe, errors naming file and line) and a dumper it reads back exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import DataError
from .files import write_text

__all__ = ["read_yaml", "parse_yaml", "dump_yaml", "write_yaml", "MAX_YAML_BYTES", "MAX_YAML_VALUES"]

# A plan is ~100 kB and ~5,000 values, a 150-edit scenario ~40 kB; these bounds are far above any
# real file and far below what hurts (an alias bomb of a few hundred bytes expands to 10⁹ values).
MAX_YAML_BYTES = 10 * 1024 * 1024
MAX_YAML_VALUES = 1_000_000
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise DataError(_too_large(size), file=path, fix=_TOO_LARGE_FIX)
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
        Invalid YAML or a Python tag, naming ``origin`` and the line; a document over
        :data:`MAX_YAML_BYTES`, or whose aliases (``*name``) expand to more than
        :data:`MAX_YAML_VALUES` values (an alias bomb) or refer to themselves.
    """
    if len(text) > MAX_YAML_BYTES:
        raise DataError(_too_large(len(text.encode("utf-8"))), file=origin, fix=_TOO_LARGE_FIX)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expansion(node, origin=origin)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except RecursionError:
        raise DataError("The YAML is nested too deeply to read.", file=origin,
                        fix="Write the document with fewer levels of nesting.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"Invalid YAML: {problem}.", file=origin, row=row,
                        fix="Correct the YAML syntax; Python tags (!!python/...) are never accepted.") from None


_TOO_LARGE_FIX = "A plan, scenario or dataset.yaml is a few kB; check that this is the right file."


def _too_large(size: int) -> str:
    return f"The YAML file is {size / 1e6:.1f} MB, more than the {MAX_YAML_BYTES / 1e6:.1f} MB allowed."


_RECURSIVE = "A YAML alias (*name) refers to the value that holds it (a recursive alias)."
_RECURSIVE_FIX = "Write the values out instead of the self-referring alias."


def _check_expansion(root: yaml.Node, *, origin: str | Path) -> None:
    """Count the values the document holds once every alias is expanded, without expanding.

    Each node's expanded size is computed once (aliases share nodes, so the walk is linear in the
    document), and a node met again while its own size is being computed is a recursive alias.
    """
    sizes: dict[yaml.Node, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[yaml.Node] = set()
    while stack:
        node, children_done = stack.pop()
        if node in sizes:
            continue
        children = ([item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode)
                    else list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if children_done:
            open_nodes.discard(node)
            sizes[node] = 1 + sum(sizes[child] for child in children)
            if sizes[node] > MAX_YAML_VALUES:
                line = node.start_mark.line + 1 if node.start_mark else None
                raise DataError(f"The YAML's aliases (*name) expand to more than {MAX_YAML_VALUES:,} "
                                "values (an alias bomb).", file=origin, row=line,
                                fix="Write the values out instead of repeating anchors, or check "
                                    "that this is the right file.")
            continue
        if node in open_nodes:
            line = node.start_mark.line + 1 if node.start_mark else None
            raise DataError(_RECURSIVE, file=origin, row=line, fix=_RECURSIVE_FIX)
        open_nodes.add(node)
        stack.append((node, True))
        for child in children:
            if child not in sizes:
                if child in open_nodes:
                    raise DataError(_RECURSIVE, file=origin, fix=_RECURSIVE_FIX)
                stack.append((child, False))


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
