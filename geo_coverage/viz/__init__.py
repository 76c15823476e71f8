"""Maps of coverage tables: folium choropleths with facilities and a legend, offline by default.

``basemaps``   tile sources (none, OpenStreetMap, 高德/Amap, 天地图) and the vendored Leaflet assets
``legend``     value ÷ target classes, colours, number formats, legend and tooltip texts (no folium)
``shapes``     unit outlines and facility rows made light for display (no folium)
``maps``       the folium maps and layers; the one module that imports folium (the ``app`` extra)
``static``     figures for print (matplotlib + geopandas): status maps and trend charts

The folium maps are loaded when first asked for (``viz.coverage_map``…), so the reports' static
figures and the legend's numbers never need folium.

Colours follow the gap relative to the target, so red units miss the plan and blue ones meet it.
Chinese web-map tiles (高德/Amap) use GCJ-02, so when they are chosen every vector layer is
shifted to GCJ-02 on the fly.
"""

from .basemaps import BaseMap, base_maps, offline_assets
from .legend import (
    GAP_COLOURS,
    LANGUAGES,
    MET_COLOURS,
    NO_DATA_COLOUR,
    RATIO_BREAKS,
    SHORTFALL_UNITS_ZH,
    SOURCE_COLOURS,
    decimals_for,
    fill_colours,
    format_number,
    gap_ratio,
    legend_classes,
    shortfall_unit,
)
from .shapes import facility_rows, unit_shapes
from .static import CJK_FONTS, STATUS_COLOURS, status_map, to_png, trend_panels

# Served by .maps, imported on first use: folium comes with the app extra only.
_FOLIUM = ("CoverageLayers", "catchment_layer", "coverage_layers", "coverage_map", "map_html",
           "uncovered_heat")


def __getattr__(name: str):
    if name in _FOLIUM:
        from . import maps  # (deferred: folium is heavy and optional)

        return getattr(maps, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BaseMap",
    "base_maps",
    "LANGUAGES",
    "RATIO_BREAKS",
    "legend_classes",
    "GAP_COLOURS",
    "MET_COLOURS",
    "NO_DATA_COLOUR",
    "SOURCE_COLOURS",
    "SHORTFALL_UNITS_ZH",
    "format_number",
    "decimals_for",
    "shortfall_unit",
    "gap_ratio",
    "fill_colours",
    "unit_shapes",
    "coverage_map",
    "coverage_layers",
    "CoverageLayers",
    "facility_rows",
    "map_html",
    "uncovered_heat",
    "catchment_layer",
    "offline_assets",
    "STATUS_COLOURS",
    "CJK_FONTS",
    "status_map",
    "trend_panels",
    "to_png",
]
