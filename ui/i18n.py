"""The app's words in Chinese (default) and English, and locale-aware number formatting.

The words themselves live in :mod:`geo_coverage.text`, with the exports' and the maps'; this module
names the catalogue's namespaces the way the app's sections use them."""

from __future__ import annotations

import re

from geo_coverage.gaps import OUTLINE_WORDS, STATUS_WORDS, source_words
from geo_coverage.maps import format_number
from geo_coverage.text import LANGUAGES, group, text

__all__ = ["LANGUAGES", "t", "number", "GROUPS", "STATUS", "LEVELS", "FLIPS", "POPULATION",
           "OUTLINE", "ATTRIBUTES", "MODELS", "SOLVER_STATUS", "source_text", "label"]


GROUPS = group("group")
# The export's words (geo_coverage.gaps): the screen and the files say the same.
STATUS = STATUS_WORDS
LEVELS = group("level")
# A unit's status change between the base data and a scenario (geo_coverage.scenario.GAP_TO_MET…).
FLIPS = group("flip")
# Population columns of the units (geo_coverage.dataset).
POPULATION = group("population")
OUTLINE = OUTLINE_WORDS
# Facility attributes a scenario can set (the plan's kinds); unknown ones are shown as they are.
ATTRIBUTES = group("attribute")
# The optimiser's models (geo_coverage.siting.MODELS) and solver outcomes (geo_coverage.optimize).
MODELS = group("model")
SOLVER_STATUS = group("solver_status")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def plain(text) -> str:
    """User-supplied text (a unit or file name, a scenario name, a message quoting a cell) for
    Streamlit's markdown, shown as the characters it holds: every markdown, HTML-looking,
    LaTeX ($) and :directive: character is backslash-escaped, so '<img src=x onerror=...>' or
    '[x](javascript:...)' reads as written and never becomes markup."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


def t(key: str, language: str, **values) -> str:
    """The string ``key`` in ``language`` ("zh" | "en"), with ``{placeholders}`` filled."""
    return text(f"app.{key}", language, **values)


def label(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


def source_text(text, language: str) -> str:
    """A provenance / population-source text in ``language`` ("population: estimate; facilities:
    synthetic" → "人口：估算；设施：合成"), as the exports write it."""
    return source_words(text, language)


def number(value, language: str, *, digits: int = 1) -> str:
    """A number formatted for the locale ('—' for missing)."""
    return format_number(value, language=language, digits=digits)
