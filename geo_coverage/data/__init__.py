"""The embedded Beijing default, shipped as package data.

Its files live in the repository's top-level ``boundaries/``, ``layers/`` and ``scenarios/``
folders (the place a planner reads about them). ``pyproject.toml`` maps those folders into this
package as ``geo_coverage.data.boundaries``, ``.layers`` and ``.scenarios``: a wheel carries them
here, and an editable install resolves them to the top-level folders themselves, so there is one
copy of the data whichever way the package is installed. They are found through the import
system (:func:`importlib.util.find_spec`), as package data is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import DataError

__all__ = ["FOLDERS", "folder", "root"]

FOLDERS = ("boundaries", "layers", "scenarios")


def folder(name: str) -> Path:
    """The installed folder of one part of the embedded default.

    Parameters
    ----------
    name
        ``"boundaries"``, ``"layers"`` or ``"scenarios"``.

    Returns
    -------
    Path
        A real folder on disk (the package is never imported from a zip archive).
    """
    if name not in FOLDERS:
        raise ValueError(f"unknown part of the embedded default: {name!r}")
    # The parts are data-only (namespace) packages: their spec's search locations are the folders
    # (importlib.resources would hand back a MultiplexedPath for them, not a folder).
    spec = importlib.util.find_spec(f"{__name__}.{name}")
    found = [Path(p) for p in (spec.submodule_search_locations or [])] if spec is not None else []
    found = [p.resolve() for p in found if p.is_dir()]
    # Code imported straight from a source tree (PYTHONPATH=checkout) keeps to that tree's own
    # folder: there the mapping is not in force, or belongs to an editable install of another
    # checkout whose data may differ.
    checkout = Path(__file__).resolve().parents[2]
    own = checkout / name
    if (checkout / "pyproject.toml").is_file() and own.is_dir() and own not in found:
        return own
    if not found:
        raise DataError(f"The embedded default's {name}/ folder is not installed.",
                        fix="Reinstall geo-coverage (`pip install .` or `pip install -e .`), "
                            "or pass --data DIR.")
    return found[0]


def root() -> Path:
    """The folder holding the default's ``boundaries/`` and ``layers/`` side by side.

    In a wheel that is ``geo_coverage/data/``; in an editable install the folders the mapping
    points at. Both parts sit in one folder either way; a layout that breaks this is an error.
    """
    boundaries, layers = folder("boundaries"), folder("layers")
    if boundaries.parent != layers.parent:
        raise DataError("The embedded default's boundaries/ and layers/ are installed apart.",
                        file=boundaries,
                        fix="Map both into geo_coverage.data from one folder (pyproject.toml).")
    return boundaries.parent
