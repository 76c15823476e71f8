"""Optional dependencies: imported where a feature needs them, with the extra that installs them.

The core (coverage, access, siting, the CLI) needs only the base dependencies. A feature that needs
more asks for its module here; when it is missing the planner reads which extra to install, as a
one-line error, never a traceback::

    osmnx = require("osmnx", message="Reading road networks needs osmnx.")
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import GeoCoverageError

__all__ = ["EXTRAS", "require"]

# Module -> the pyproject extra that installs it.
EXTRAS = {
    "osmnx": "osm",
    "folium": "app",
    "branca": "app",
    "streamlit": "app",
    "docx": "report",
    "reportlab": "report",
    "dask": "dask",
    "distributed": "dask",
    "geoalchemy2": "postgis",
    "psycopg": "postgis",
}


def require(module: str, *, message: str | None = None, fix: str | None = None,
            error: type[GeoCoverageError] = GeoCoverageError, file: object = None) -> ModuleType:
    """Import an optional module, or raise ``error`` naming the extra that installs it.

    Parameters
    ----------
    module
        The module to import (``"osmnx"``, ``"reportlab.platypus"``).
    message
        What needs it, as the error's first sentence; ``{module}`` is replaced by the missing
        module's name (default: ``"This needs {module}, which is not installed."``).
    fix
        How to install it (default: ``pip install 'geo-coverage[<extra>]'.`` for the module's
        extra in :data:`EXTRAS`).
    error
        The :class:`~geo_coverage.errors.GeoCoverageError` subclass to raise.
    file
        The file being read when the module was needed, for the message.

    Returns
    -------
    types.ModuleType
        The imported module.

    Raises
    ------
    GeoCoverageError
        (``error``) The module, or one it needs, is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(top)
        missing = exc.name or top
        default_fix = (f"pip install 'geo-coverage[{extra}]'." if extra
                       else f"pip install {missing}.")
        text = (message or "This needs {module}, which is not installed.").replace("{module}", missing)
        raise error(text, file=file, fix=fix or default_fix) from None
