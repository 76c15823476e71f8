"""Every word the tool shows, once: labels, status words, unit names, in Chinese and English.

One catalogue keyed by message id (``"namespace.key"``), looked up with the language — the
gettext idea without gettext files. The app, the maps, the CLI's exports and the assessment
reports all ask here, so a word changed here changes everywhere it is shown::

    text("status.met", "zh")                     # '达标'
    text("data.upload_limit", "en", mb=50)       # placeholders filled with str.format
    bilingual("column.shortfall")                # '缺口 Shortfall' (export headers)
    group("level")                               # {'city': ('全市', 'City'), ...}

The pairs live in :mod:`~geo_coverage.text.library` (the library's words) and
:mod:`~geo_coverage.text.app` (the app's); a pair used under several ids is written once, in
:mod:`~geo_coverage.text.shared`. Keys of nested groups are dotted: ``print.level.street``.
Any language other than ``"zh"`` reads English.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import app, library
from .shared import Pair

_CATALOGUE: dict[str, dict[str, Pair]] = {**library.NAMESPACES, **app.NAMESPACES}

__all__ = ["LANGUAGES", "Pair", "text", "pair", "bilingual", "group", "words", "message_ids"]

LANGUAGES = {"zh": "中文", "en": "English"}


def pair(message_id: str) -> Pair:
    """The ``(中文, English)`` pair of ``"namespace.key"``.

    Raises
    ------
    KeyError
        No such message (a programming error: ids are written in the code).
    """
    namespace, _, key = message_id.partition(".")
    return _CATALOGUE[namespace][key]


def text(message_id: str, language: str = "zh", **values: object) -> str:
    """The message in ``language`` ("zh", anything else English), placeholders filled.

    Parameters
    ----------
    message_id
        ``"namespace.key"``, e.g. ``"status.met"``.
    language
        ``"zh"`` (default) or ``"en"``.
    **values
        Values for ``{placeholders}`` (``str.format``); without any, the text is returned as
        written (braces included).
    """
    zh, en = pair(message_id)
    chosen = zh if language == "zh" else en
    return chosen.format(**values) if values else chosen


def bilingual(message_id: str, sep: str = " ") -> str:
    """``"中文 English"``: the two languages side by side, as export headers show them."""
    zh, en = pair(message_id)
    return f"{zh}{sep}{en}"


def group(namespace: str) -> Mapping[str, Pair]:
    """Every ``key -> (中文, English)`` of one namespace, in the catalogue's order (read-only)."""
    return MappingProxyType(_CATALOGUE[namespace])


def message_ids() -> tuple[str, ...]:
    """Every message id, namespace by namespace."""
    return tuple(f"{ns}.{key}" for ns, entries in _CATALOGUE.items() for key in entries)


def words(namespace: str, language: str) -> dict[str, Any]:
    """One namespace in one language, as a plain dict; dotted keys become nested dicts
    (``print.level.street`` → ``words("print", "zh")["level"]["street"]``)."""
    out: dict[str, Any] = {}
    for key, (zh, en) in _CATALOGUE[namespace].items():
        *path, last = key.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[last] = zh if language == "zh" else en
    return out
