"""The word catalogue: every label once, both languages, and every id the code asks for exists."""

from __future__ import annotations

import ast
import string
from collections import Counter
from pathlib import Path

import pytest

from geo_coverage import text as catalogue
from geo_coverage.text import bilingual, group, message_ids, pair, text, words

REPO = Path(__file__).resolve().parents[1]
LOOKUPS = {"text", "pair", "bilingual"}
NAMESPACE_LOOKUPS = {"group", "words"}


def _placeholders(value: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}


def test_lookups_by_id_and_language():
    assert text("status.met") == "达标"
    assert text("status.met", "en") == "met"
    assert text("status.no_data", "fr") == "no data"  # anything but zh reads English
    assert bilingual("column.shortfall") == "缺口 Shortfall"
    assert pair("level.street") == ("街道/乡镇", "Street / township")
    assert list(group("level")) == ["city", "district", "street"]
    assert words("print", "en")["level"]["street"] == "streets / townships"  # dotted keys nest
    with pytest.raises(KeyError):
        pair("status.nonsense")
    with pytest.raises(TypeError):
        group("level")["city"] = ("市", "City")  # read-only


def test_placeholders_are_filled_only_when_given():
    message = next(m for m in message_ids() if _placeholders(pair(m)[1]))
    zh, en = pair(message)
    assert text(message, "en") == en  # braces left as written
    values = dict.fromkeys(_placeholders(en), "X")
    assert text(message, "en", **values) == en.format(**values)


@pytest.mark.parametrize("message", message_ids())
def test_every_message_has_both_languages_with_the_same_placeholders(message):
    zh, en = pair(message)
    assert zh.strip() and en.strip()
    assert _placeholders(zh) == _placeholders(en)


def test_every_pair_is_written_once():
    """A pair shown under several ids lives in WORDS; the catalogue holds no literal twice."""
    literals: Counter = Counter()
    for file in (REPO / "geo_coverage" / "text").glob("*.py"):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        literals.update(
            (node.elts[0].value, node.elts[1].value) for node in ast.walk(tree)
            if isinstance(node, ast.Tuple) and len(node.elts) == 2
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts))
    assert literals, "the walk found the catalogue"
    assert [p for p, n in literals.items() if n > 1] == []
    resolved = Counter(pair(m) for m in message_ids())
    assert len(resolved) == len(literals)  # every pair in use comes from one literal


def _asked_for(files):
    """Constant ids and f-string namespaces passed to text/pair/bilingual/group in the code."""
    ids, namespaces = set(), set()
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None  # not sa.text(...)
            first = node.args[0]
            if name in LOOKUPS | NAMESPACE_LOOKUPS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                (namespaces if name in NAMESPACE_LOOKUPS else ids).add((first.value, f"{file.name}:{node.lineno}"))
            elif name in LOOKUPS and isinstance(first, ast.JoinedStr) and first.values:
                head = first.values[0]
                if isinstance(head, ast.Constant) and "." in head.value:
                    namespaces.add((head.value.split(".")[0], f"{file.name}:{node.lineno}"))
    return ids, namespaces


def test_every_id_the_code_asks_for_exists():
    files = [*(REPO / "geo_coverage").rglob("*.py"), *(REPO / "ui").glob("*.py"), REPO / "app.py"]
    ids, namespaces = _asked_for(f for f in files if "text" not in f.parts[-2:-1])
    known = set(message_ids())
    known_namespaces = {m.split(".")[0] for m in known}
    assert ids, "the walk found lookups"
    assert [(i, where) for i, where in ids if i not in known] == []
    assert [(n, where) for n, where in namespaces if n not in known_namespaces] == []


def test_the_module_exports_its_api():
    assert set(catalogue.__all__) >= {"text", "pair", "bilingual", "group", "words", "message_ids", "LANGUAGES"}
