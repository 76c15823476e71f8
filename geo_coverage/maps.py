"""The maps' former home, kept for the app modules that still import it (ui/data.py, i18n.py,
warm.py): every name is :mod:`geo_coverage.viz`'s.  Importing this module loads the folium maps
as it always did (ui/warm.py imports it to load them while the server starts); the library's own
modules import :mod:`geo_coverage.viz` instead."""

from . import viz
from .viz import maps as _folium_maps  # noqa: F401  (loads folium, the app extra)

__all__ = list(viz.__all__)


def __getattr__(name: str):
    return getattr(viz, name)
