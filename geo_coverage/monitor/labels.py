"""Monitoring's words in Chinese and English: statuses, column headers, stage names.

One table per kind of label, looked up with the language (``"zh"`` or ``"en"``); the CLI exports,
the app tab and the assessment reports all ask here.
"""

from __future__ import annotations

from ..text import group

__all__ = ["STATUS", "HEADERS", "STAGES", "LEVELS", "status_word", "header", "bilingual_headers"]

# The word catalogue's monitoring namespaces (geo_coverage.text), under the names callers use.

STATUS = group("monitor_status")
STAGES = group("stage")
LEVELS = group("monitor_level")
HEADERS = group("monitor_column")


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def status_word(status: str, lang: str = "zh") -> str:
    """A status in words (the id itself when unknown)."""
    return _pick(STATUS[status], lang) if status in STATUS else str(status)


def header(column: str, lang: str = "zh") -> str:
    return _pick(HEADERS[column], lang) if column in HEADERS else column


def bilingual_headers(columns) -> list[str]:
    """ "中文 English" headers for exports (the column id where no label exists)."""
    return [f"{HEADERS[c][0]} {HEADERS[c][1]}" if c in HEADERS else str(c) for c in columns]
