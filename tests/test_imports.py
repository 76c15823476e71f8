"""The package's imports run one way: no module-level import cycle anywhere in geo_coverage/.

The graph is read from the source with ``ast`` (nothing is imported): every ``import`` and
``from … import`` executed when a module loads — at its top level, in ``if``/``try``/``with``
blocks and class bodies, but not inside functions or under ``if TYPE_CHECKING:`` — resolved to
the package's own modules. ``from .pkg import name`` points at ``pkg.name`` when that is a module
and at ``pkg`` (its ``__init__``) otherwise.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "geo_coverage"


def module_files(package_dir: Path) -> dict[str, Path]:
    """``dotted name -> file`` for every module and package ``__init__`` under ``package_dir``."""
    modules = {}
    for file in sorted(package_dir.rglob("*.py")):
        parts = file.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = file
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _load_time_imports(body: list[ast.stmt]):
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _load_time_imports(node.body)
            yield from _load_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _load_time_imports(block)
        elif isinstance(node, (ast.With, ast.ClassDef)):
            yield from _load_time_imports(node.body)


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Edges ``module -> package modules it imports while loading``."""
    modules = module_files(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, file in modules.items():
        is_package = file.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        for node in _load_time_imports(ast.parse(file.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                           for alias in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_geo_coverage_has_no_import_cycle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 20  # the walk found the package
    problems = ["cycle among " + ", ".join(c) + "   (edges: " + "; ".join(
        f"{a} imports {', '.join(sorted(graph[a] & set(c)))}" for a in c) + ")" for c in cycles(graph)]
    assert not problems, "import cycles:\n" + "\n".join(problems)


def test_the_walk_sees_what_python_would_import():
    """Spot checks against the real source: relative, package and submodule imports resolve."""
    graph = import_graph(PACKAGE)
    assert "geo_coverage.errors" in graph["geo_coverage"]
    assert "geo_coverage.errors" in graph["geo_coverage.cli"]
    assert {"geo_coverage.data", "geo_coverage.io"} <= graph["geo_coverage.dataset"]
    assert graph["geo_coverage.data"] == {"geo_coverage.errors"}


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_a_cycle_through_a_subpackage_init_is_found(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "",
        "a.py": "from .sub import thing\n",
        "sub/__init__.py": "from .b import thing\n",
        "sub/b.py": "import pkg.a\nthing = 1\n",
    })
    assert cycles(import_graph(pkg)) == [["pkg.a", "pkg.sub", "pkg.sub.b"]]


@pytest.mark.parametrize("deferred", [
    "def f():\n    from . import a\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n",
])
def test_deferred_imports_are_not_load_time_edges(tmp_path, deferred):
    pkg = _write(tmp_path, {"__init__.py": "", "a.py": "from . import b\n", "b.py": deferred})
    assert import_graph(pkg)["pkg.a"] == {"pkg.b"}
    assert cycles(import_graph(pkg)) == []


def test_from_package_import_submodule_points_at_the_submodule(tmp_path):
    pkg = _write(tmp_path, {
        "__init__.py": "from .sub import api\n",
        "sub/__init__.py": "from .api import run\n",
        "sub/api.py": ("from . import helpers\nfrom .. import errors\n"
                       "try:\n    from .helpers import x\nexcept ImportError:\n    pass\n"),
        "sub/helpers.py": "x = 1\n",
        "errors.py": "",
    })
    graph = import_graph(pkg)
    assert graph["pkg.sub.api"] == {"pkg.sub.helpers", "pkg.errors"}
    assert graph["pkg"] == {"pkg.sub.api"}
    assert cycles(graph) == []
