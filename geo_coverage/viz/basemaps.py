"""Base maps (tile sources) and the vendored Leaflet assets that keep every map working offline.

Leaflet's and the marker-cluster and heat plugins' JavaScript and CSS are vendored in
``geo_coverage/static/`` and inlined into the page as ``data:`` URIs, set per map element (never
on folium's classes), so a planning office without internet still sees its map.  Base tiles are
optional; the default is none.  Chinese web-map tiles (高德/Amap) use GCJ-02: a base map names
its datum so vector layers can be shifted to it.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from .. import io

__all__ = ["BaseMap", "base_maps", "offline_assets", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

_JS = {"leaflet": "leaflet-1.9.3/leaflet.js",
       "markercluster": "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
       "heat": "leaflet.heat/leaflet_heat.min.js"}
_CSS = {"leaflet_css": "leaflet-1.9.3/leaflet.css",
        "markerclustercss": "leaflet.markercluster-1.1.0/MarkerCluster.css",
        "markerclusterdefaultcss": "leaflet.markercluster-1.1.0/MarkerCluster.Default.css"}


@dataclass(frozen=True)
class BaseMap:
    """A tile source.  ``datum`` is the datum its tiles are drawn in (Amap: GCJ-02)."""

    id: str
    name_zh: str
    name_en: str
    tiles: str | None = None
    attribution: str = ""
    datum: str = "wgs84"
    subdomains: str = "abc"
    overlay_tiles: str | None = None

    def name(self, language: str) -> str:
        """The base map's name in ``language`` (``zh`` or ``en``)."""
        return self.name_zh if language == "zh" else self.name_en


def base_maps(*, tianditu_token: str | None = None) -> dict[str, BaseMap]:
    """The base maps on offer: none (offline), OpenStreetMap, 高德/Amap, and 天地图 with a token.

    Parameters
    ----------
    tianditu_token
        A 天地图 key from configuration (environment or Streamlit secrets); without one the
        天地图 choice is not offered.  Never hard-coded.
    """
    choices = {
        "none": BaseMap("none", "无底图（离线）", "None (offline)"),
        "osm": BaseMap("osm", "OpenStreetMap", "OpenStreetMap",
                       tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                       attribution="© OpenStreetMap contributors"),
        "amap": BaseMap("amap", "高德地图（GCJ-02）", "Amap (GCJ-02)",
                        tiles=("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1"
                               "&scale=1&style=8&x={x}&y={y}&z={z}"),
                        attribution="© 高德地图 AutoNavi", datum="gcj02", subdomains="1234"),
    }
    if tianditu_token:
        template = ("https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                    "&VERSION=1.0.0&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=") + tianditu_token
        # 天地图 draws in CGCS2000, which matches WGS84 to well under a metre: no shift.
        choices["tianditu"] = BaseMap("tianditu", "天地图", "Tianditu",
                                      tiles=template % ("vec", "vec"),
                                      overlay_tiles=template % ("cva", "cva"),
                                      attribution="© 天地图 Tianditu", subdomains="01234567")
    return choices


@functools.cache
def _asset_uri(relative: str) -> str:
    """A vendored file as a ``data:`` URI, CSS images inlined (package data never changes)."""
    path = STATIC_DIR / relative
    data = io.read_bytes(path)
    if relative.endswith(".css"):
        text = data.decode("utf-8")

        def inline(match: re.Match) -> str:
            image = io.read_bytes(path.parent / match.group(1))
            return "url(data:image/png;base64," + base64.b64encode(image).decode("ascii") + ")"

        text = re.sub(r"url\((images/[^)]+\.png)\)", inline, text)
        return "data:text/css;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")
    return "data:text/javascript;base64," + base64.b64encode(data).decode("ascii")


def offline_assets(*names: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(default_js, default_css)`` lists for folium elements, pointing at the vendored files."""
    js = [(name, _asset_uri(_JS[name])) for name in names if name in _JS]
    css_names = {"leaflet": ["leaflet_css"],
                 "markercluster": ["markerclustercss", "markerclusterdefaultcss"]}
    css = [(name, _asset_uri(_CSS[name])) for key in names for name in css_names.get(key, [])]
    return js, css


def offline(element, *names: str):
    """Point one element's (not the class's) JavaScript and CSS at the vendored copies."""
    element.default_js, element.default_css = offline_assets(*names)
    return element
