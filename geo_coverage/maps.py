"""The maps' former home, kept for the app modules that still import it; use
:mod:`geo_coverage.viz`, which holds everything named here."""

from .viz import *  # noqa: F403
from .viz import __all__  # noqa: F401
