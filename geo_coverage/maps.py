"""Folium maps built from coverage tables: the planner's choropleth, facilities and a legend.

Everything here takes tables and a dataset and returns folium objects or plain dicts; it never
imports streamlit, so the same map can be saved as a standalone HTML file or shown in the app.

Maps work offline: Leaflet's and the marker-cluster plugin's JavaScript and CSS are vendored in
``geo_coverage/static/`` and inlined into the page as ``data:`` URIs (set per map instance, never
on folium's classes), so a planning office without internet still sees its map.  Base tiles are
optional; the default is none.  Chinese web-map tiles (高德/Amap) use GCJ-02, so when they are
chosen every vector layer is shifted to GCJ-02 on the fly.

Colours follow the gap relative to the target: the ratio value ÷ target (target ÷ value for upper
limits) on a diverging red–blue scale centred on 1, so red streets miss the plan and blue ones
meet it; units with no data are grey with a dashed outline.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from branca.element import MacroElement
from jinja2 import Template

from . import io
from .dataset import Dataset, source_class
from .datum import transform_geometry
from .errors import DataError
from .plan import Indicator, Plan

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
    "format_number",
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
]

STATIC_DIR = Path(__file__).resolve().parent / "static"
LANGUAGES = ("zh", "en")

# value ÷ target class breaks: below 1 the unit misses the plan, at or above 1 it meets it.
RATIO_BREAKS = (0.5, 0.8, 1.0, 1.25, 2.0)
GAP_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7")  # < 0.5, 0.5–0.8, 0.8–1 of the target
MET_COLOURS = ("#d1e5f0", "#67a9cf", "#2166ac")  # 1–1.25, 1.25–2, ≥ 2 times the target
NO_DATA_COLOUR = "#bdbdbd"
SOURCE_COLOURS = {"real": "#1b7837", "synthetic": "#762a83", "imported": "#e08214",
                  "scenario": "#2166ac", "osm": "#01665e"}
_CLASS_COLOURS = GAP_COLOURS + MET_COLOURS
# Display simplification: metres in the dataset's CRS (well under a street's width at city zoom).
DEFAULT_TOLERANCE_M = 25.0
COORDINATE_DIGITS = 5  # ~1 m at Beijing's latitude

_JS = {"leaflet": "leaflet-1.9.3/leaflet.js",
       "markercluster": "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
       "heat": "leaflet.heat/leaflet_heat.min.js"}
_CSS = {"leaflet_css": "leaflet-1.9.3/leaflet.css",
        "markerclustercss": "leaflet.markercluster-1.1.0/MarkerCluster.css",
        "markerclusterdefaultcss": "leaflet.markercluster-1.1.0/MarkerCluster.Default.css"}

_TEXT = {
    "zh": {
        "value": "现状值", "target": "目标", "shortfall": "缺口", "status": "状态", "note": "说明",
        "met": "达标", "gap": "未达标", "no_data": "无数据", "approximate": "街道边界为近似边界",
        "legend_ratio": "颜色 = 现状值 ÷ 目标", "legend_no_data": "无数据",
        "legend_facility": "设施来源", "real": "真实", "synthetic": "合成（演示）",
        "imported": "导入", "scenario": "情景", "osm": "OpenStreetMap",
        "legend_approximate": "街道边界为近似（示意）边界", "below": "低于", "at_least": "不低于",
        "facilities": "设施", "districts": "区界", "units": "单元", "status_label": "状态",
        "source": "来源", "location_quality": "位置精度", "existing": "现有", "planned": "规划",
        "cells_uncovered": "未覆盖居民（格网）", "catchments": "服务半径",
    },
    "en": {
        "value": "Value", "target": "Target", "shortfall": "Shortfall", "status": "Status",
        "note": "Note", "met": "met", "gap": "gap", "no_data": "no data",
        "approximate": "street outline is approximate",
        "legend_ratio": "colour = value ÷ target", "legend_no_data": "no data",
        "legend_facility": "Facility source", "real": "real", "synthetic": "synthetic (demo)",
        "imported": "imported", "scenario": "scenario", "osm": "OpenStreetMap",
        "legend_approximate": "Street outlines are approximate", "below": "below",
        "at_least": "at least", "facilities": "Facilities", "districts": "District outlines",
        "units": "Units", "status_label": "Status", "source": "Source",
        "location_quality": "Location", "existing": "existing", "planned": "planned",
        "cells_uncovered": "Residents not covered (grid)", "catchments": "Catchments",
    },
}


# --- base maps ----------------------------------------------------------------------------------


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


# --- offline assets -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
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


def _offline(element, *names: str):
    """Point one element's (not the class's) JavaScript and CSS at the vendored copies."""
    element.default_js, element.default_css = offline_assets(*names)
    return element


# --- numbers and colours ------------------------------------------------------------------------


def format_number(value, *, language: str = "zh", digits: int = 1) -> str:
    """A number for display: thousands separators; 万 for large numbers in Chinese; '—' for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    if language == "zh" and abs(value) >= 100_000:
        return f"{value / 10_000:,.{digits}f}万"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def gap_ratio(value, target, comparator: str = ">=") -> np.ndarray:
    """How far each value is from its target as a ratio centred on 1 (≥ 1 meets the target).

    ``value ÷ target`` for lower limits (≥, >, ==); ``target ÷ value`` for upper limits (≤, <),
    so a larger ratio is always better.  A zero target is met by any value (ratio ∞ or 1).
    """
    value = np.asarray(value, dtype=float)
    target = np.broadcast_to(np.asarray(target, dtype=float), value.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        if comparator in ("<=", "<"):
            ratio = np.where(value > 0, target / value, np.inf)
        else:
            ratio = np.where(target > 0, value / target, np.where(value > 0, np.inf, 1.0))
    return np.where(np.isnan(value), np.nan, ratio)


def fill_colours(rows: pd.DataFrame) -> np.ndarray:
    """Fill colour per coverage-table row: the ratio class, on the side its status says.

    The status decides the side (red below target, blue at or above) so the map never disagrees
    with the table, e.g. for per-stratum shares whose blended target is not the plan's number.
    """
    ratio = gap_ratio(rows["value"], rows["target"], str(rows["comparator"].iloc[0])
                      if len(rows) else ">=")
    status = rows["status"].to_numpy(dtype=object)
    classes = np.digitize(np.nan_to_num(ratio, nan=1.0, posinf=1e9), RATIO_BREAKS)
    classes = np.where(status == "gap", np.minimum(classes, 2), np.maximum(classes, 3))
    colours = np.asarray(_CLASS_COLOURS, dtype=object)[classes]
    return np.where(status == "no_data", NO_DATA_COLOUR, colours)


# --- geometry -----------------------------------------------------------------------------------


def unit_shapes(dataset: Dataset, level: str, *, datum: str = "wgs84",
                tolerance_m: float = DEFAULT_TOLERANCE_M) -> dict:
    """The outlines of one level as a light GeoJSON FeatureCollection for display.

    Simplified in metres (topology preserved) before reprojecting, coordinates rounded to
    ~1 m, and shifted to ``datum`` (e.g. ``gcj02`` for Amap tiles).  Build once per level and
    datum; :func:`coverage_map` only adds the properties that depend on the indicator.
    """
    units = dataset.units_at(level)
    geometry = shapely.simplify(units.geometry.values, tolerance_m, preserve_topology=True)
    frame = gpd.GeoDataFrame(
        {"code": units["code"].astype(str).to_numpy(),
         "name": units["name"].astype(str).to_numpy(),
         "name_en": units.get("name_en", pd.Series("", index=units.index)).fillna("").astype(str)
         .to_numpy(),
         "parent_code": units["parent_code"].astype(str).to_numpy(),
         "outline_quality": units.get("outline_quality", pd.Series("", index=units.index))
         .fillna("").astype(str).to_numpy()},
        geometry=geometry, crs=units.crs).to_crs(4326)
    geoms = frame.geometry.values
    if datum != "wgs84":
        geoms = transform_geometry(geoms, source="wgs84", target=datum)
    frame = frame.set_geometry(shapely.transform(geoms, lambda xy: np.round(xy, COORDINATE_DIGITS)))
    collection = json.loads(frame.to_json(drop_id=True))
    for feature, code in zip(collection["features"], frame["code"]):
        feature["id"] = code
    west, south, east, north = frame.total_bounds
    collection["bbox"] = [float(west), float(south), float(east), float(north)]
    return collection


def _facility_frame(dataset: Dataset, kind: str, *, datum: str) -> gpd.GeoDataFrame | None:
    frame = dataset.layer(kind)
    if frame is None or frame.empty:
        return None
    frame = frame.to_crs(4326)
    if datum != "wgs84":
        frame = frame.set_geometry(transform_geometry(frame.geometry.values, source="wgs84",
                                                      target=datum))
    return frame


def facility_rows(dataset: Dataset, plan: Plan, kind: str, *, language: str = "zh",
                  datum: str = "wgs84") -> dict:
    """The facilities of ``kind`` compactly, for markers whose popups show attributes and source.

    Returns
    -------
    dict
        ``rows``: ``[lat, lon, source_index, name, id, *attribute values, status,
        location_quality]`` per facility; ``labels``: the popup's row labels; ``sources``:
        ``[class label, colour, source text]`` per distinct ``source`` (rows point into it, so
        a long source note is sent once, not once per facility).
    """
    frame = _facility_frame(dataset, kind, datum=datum)
    if frame is None:
        return {"rows": [], "labels": [], "sources": []}
    text = _TEXT[language]
    kind_spec = plan.kinds.get(kind)
    attributes = [a for a in (kind_spec.attributes if kind_spec else {}) if a in frame]
    source_codes, source_texts = pd.factorize(frame["source"].astype(str))
    sources = []
    for source in source_texts:
        cls = source_class(source)
        sources.append([text.get(cls, cls), SOURCE_COLOURS.get(cls, SOURCE_COLOURS["imported"]),
                        source])
    columns = [np.round(frame.geometry.y.to_numpy(), COORDINATE_DIGITS).tolist(),
               np.round(frame.geometry.x.to_numpy(), COORDINATE_DIGITS).tolist(),
               source_codes.tolist(), frame["name"].astype(str).tolist(),
               frame["id"].astype(str).tolist()]
    for attribute in attributes:
        values = frame[attribute]
        columns.append(values.astype(object).where(values.notna(), "—").astype(str).tolist())
    columns.append(frame["status"].astype(str).map(lambda s: text.get(s, s)).tolist())
    columns.append(frame["location_quality"].astype(str).tolist())
    labels = ["ID", *attributes, text["status_label"], text["location_quality"], text["source"]]
    return {"rows": [list(row) for row in zip(*columns)], "labels": labels, "sources": sources}


def _marker_callback(labels: list[str], sources: list[list[str]]) -> str:
    """JavaScript building each marker and (lazily, on open) its popup from a compact row."""
    return """function (row) {
    var labels = %s, sources = %s;
    var source = sources[row[2]];
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: "#ffffff", weight: 1, fillColor: source[1], fillOpacity: 0.95});
    marker.bindPopup(function () {
        var esc = function (s) { var d = document.createElement("span");
                                 d.textContent = String(s); return d.innerHTML; };
        var html = "<b>" + esc(row[3]) + "</b><table>";
        for (var i = 0; i < labels.length - 1; i++) {
            html += "<tr><th style='text-align:left;padding-right:6px'>" + esc(labels[i])
                  + "</th><td>" + esc(row[4 + i]) + "</td></tr>";
        }
        html += "<tr><th style='text-align:left;padding-right:6px'>"
              + esc(labels[labels.length - 1]) + "</th><td><b>" + esc(source[0])
              + "</b> · " + esc(source[2]) + "</td></tr>";
        return html + "</table>";
    }, {maxWidth: 340});
    return marker;
}""" % (json.dumps(labels, ensure_ascii=False), json.dumps(sources, ensure_ascii=False))


# --- the map ------------------------------------------------------------------------------------


class _Legend(MacroElement):
    """The legend's HTML in a Leaflet control, no external assets (unlike branca colormaps)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        // A layer that shows the legend control while it is on the map, so the legend leaves
        // with its layer group when the app swaps the indicator's layers.
        var {{ this.get_name() }} = new (L.Layer.extend({
            onAdd: function (map) {
                var control = L.control({position: "bottomright"});
                control.onAdd = function () {
                    var div = L.DomUtil.create("div", "geo-coverage-legend");
                    div.innerHTML = {{ this.html|tojson }};
                    L.DomEvent.disableClickPropagation(div);
                    return div;
                };
                this._control = control.addTo(map);
            },
            onRemove: function () { if (this._control) { this._control.remove(); } }
        }))();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, legend_html: str):
        super().__init__()
        self._name = "Legend"
        self.html = legend_html


_LEGEND_STYLE = ("background:rgba(255,255,255,0.92);padding:8px 10px;border-radius:4px;"
                 "box-shadow:0 1px 4px rgba(0,0,0,0.35);font:12px/1.45 'Noto Sans CJK SC',"
                 "'Microsoft YaHei','PingFang SC',sans-serif;max-width:260px;color:#222")


def _swatch(colour: str, label: str, *, dashed: bool = False) -> str:
    border = "1px dashed #555" if dashed else "1px solid #888"
    return (f'<div style="display:flex;align-items:center;gap:6px">'
            f'<span style="display:inline-block;width:18px;height:12px;background:{colour};'
            f'border:{border}"></span><span>{html.escape(label)}</span></div>')


def legend_classes(indicator: Indicator, target: float, *,
                   language: str = "zh") -> list[tuple[str, str]]:
    """``(colour, label)`` of the value ÷ target classes a unit can fall in, worst first.

    The classes stay centred on the target (:data:`RATIO_BREAKS`, the colours of
    :func:`fill_colours`), but those no value can reach are left out: a percentage cannot exceed
    100 %, so with a 100 % target only "100 %" lies at or above it (with 60 %, "≥ 120 %" cannot
    occur and the class below it ends at 100 %); a count is a whole number, so with a target of
    1 only 0, 1 and "≥ 2" occur.  Counts are labelled with whole numbers.
    """
    share = indicator.unit_en.startswith("%")  # "%", "% of residents"…
    percent = "%" if share else ""
    upper = indicator.comparator in ("<=", "<")
    ceiling = (100.0 / target if not upper and share and target > 0
               else math.inf)  # the largest value ÷ target a share can reach
    whole = indicator.type == "count" and not upper and target > 0

    def amount(ratio: float) -> str:
        bound = (target / ratio if ratio else math.inf) if upper else target * ratio
        return format_number(bound, language=language, digits=2 if bound < 10 else 1) + percent

    def integer(value: int) -> str:
        return format_number(value, language=language, digits=0)

    out = []
    edges = [None, *RATIO_BREAKS, None]
    for index, colour in enumerate(_CLASS_COLOURS):
        low, high = edges[index], edges[index + 1]
        if upper:  # a smaller value is better: bounds run the other way
            low, high = high, low
            if low is None:
                out.append((colour, f"> {amount(high)}"))
            elif high is None:
                out.append((colour, f"≤ {amount(low)}"))
            else:
                out.append((colour, f"{amount(low)} – {amount(high)}"))
            continue
        lowest = 0.0 if low is None else low
        if lowest > ceiling:
            continue
        if whole:  # the whole numbers in [low × target, high × target)
            first = math.ceil(lowest * target - 1e-9)
            if high is None:
                out.append((colour, f"≥ {integer(first)}"))
                continue
            last = math.ceil(high * target - 1e-9) - 1
            if last < first:
                continue
            out.append((colour, integer(first) if first == last
                        else f"{integer(first)} – {integer(last)}"))
            continue
        if high is not None and high > ceiling or high is None and ceiling < math.inf:
            top = format_number(100.0, language=language, digits=1) + percent
            out.append((colour, top if lowest == ceiling else
                        f"{'< ' + top if low is None else amount(low) + ' – ' + top}"))
        elif low is None:
            out.append((colour, f"< {amount(high)}"))
        elif high is None:
            out.append((colour, f"≥ {amount(low)}"))
        else:
            out.append((colour, f"{amount(low)} – {amount(high)}"))
    return out


def _legend_html(indicator: Indicator, target: float, *, language: str, level: str,
                 approximate: bool, source_classes: list[str], has_facilities: bool) -> str:
    text = _TEXT[language]
    name = indicator.name_zh if language == "zh" else indicator.name_en
    unit = indicator.unit_zh if language == "zh" else indicator.unit_en
    unit_suffix = "" if unit in ("", "%") else f" {unit}"
    percent = "%" if unit == "%" else ""
    rows = [_swatch(colour, text_) for colour, text_ in legend_classes(indicator, target,
                                                                      language=language)]
    rows.reverse()  # best at the top
    rows.append(_swatch(NO_DATA_COLOUR, text["legend_no_data"], dashed=True))
    comparator = {">=": "≥", "<=": "≤"}.get(indicator.comparator, indicator.comparator)
    target_line = (f"{text['target']} {comparator} "
                   f"{format_number(target, language=language, digits=2)}{percent}{unit_suffix}")
    parts = [f'<div style="{_LEGEND_STYLE}">',
             f"<b>{html.escape(name)}</b>",
             f"<div>{html.escape(target_line)}</div>",
             f'<div style="color:#555">{html.escape(text["legend_ratio"])}</div>',
             *rows]
    if has_facilities and source_classes:
        parts.append('<div style="margin-top:4px"><b>'
                     f'{html.escape(text["legend_facility"])}</b></div>')
        for cls in source_classes:
            colour = SOURCE_COLOURS.get(cls, SOURCE_COLOURS["imported"])
            parts.append('<div style="display:flex;align-items:center;gap:6px">'
                         f'<span style="display:inline-block;width:10px;height:10px;'
                         f'border-radius:50%;background:{colour};border:1px solid #fff"></span>'
                         f"<span>{html.escape(text.get(cls, cls))}</span></div>")
    if approximate:
        parts.append(f'<div style="margin-top:4px;color:#8a4b00">⚠ '
                     f'{html.escape(text["legend_approximate"])}</div>')
    parts.append("</div>")
    return "".join(parts)


# The plan names shortfall units in English; what a Chinese reader sees.
SHORTFALL_UNITS_ZH = {
    "beds": "张床位", "nursing beds": "张护理型床位", "institutions": "家机构", "centres": "个中心",
    "places": "个托位", "venues": "个场所", "residents not covered": "名未覆盖居民",
    "children not covered": "名未覆盖儿童", "stations": "个工作站", "social workers": "名社会工作者",
    "organisations": "家社会组织", "paediatricians": "名儿科医生", "inclusive places": "个普惠性学位",
    "communities": "个社区",
}


def shortfall_unit(indicator: Indicator, language: str) -> str:
    """The indicator's shortfall unit in ``language`` (the plan's own words when untranslated)."""
    if language == "zh":
        return SHORTFALL_UNITS_ZH.get(indicator.shortfall_unit, indicator.shortfall_unit)
    return indicator.shortfall_unit


def _tooltip_properties(rows: pd.DataFrame, indicator: Indicator, *, language: str,
                        approximate: pd.Series) -> pd.DataFrame:
    text = _TEXT[language]
    unit = indicator.unit_zh if language == "zh" else indicator.unit_en
    unit_suffix = "" if unit in ("", "%") else f" {unit}"
    percent = "%" if unit == "%" else ""
    unit_of_shortfall = shortfall_unit(indicator, language)

    def fmt(values: pd.Series, suffix: str) -> pd.Series:
        return values.map(lambda v: format_number(v, language=language, digits=2)) + np.where(
            values.isna(), "", suffix)

    comparator = {">=": "≥", "<=": "≤"}.get(indicator.comparator, indicator.comparator)
    return pd.DataFrame({
        "value_text": fmt(rows["value"], percent + unit_suffix).to_numpy(),
        "target_text": (comparator + " " + fmt(rows["target"], percent + unit_suffix)).to_numpy(),
        "shortfall_text": fmt(rows["shortfall"],
                              f" {unit_of_shortfall}" if unit_of_shortfall else "")
        .to_numpy(),
        "status_text": rows["status"].map(lambda s: text.get(s, s)).to_numpy(),
        "note_text": np.where(approximate.to_numpy(), text["approximate"], ""),
    }, index=rows["unit_code"].astype(str).to_numpy())


def coverage_map(table: pd.DataFrame, dataset: Dataset, plan: Plan, *, indicator: str, level: str,
                 language: str = "zh", base_map: str = "none", tianditu_token: str | None = None,
                 shapes: Mapping[str, dict] | None = None, show_facilities: bool = True,
                 district_outlines: bool = True, extra_layers=(), height: int | str = "100%",
                 focus: str | None = None) -> folium.Map:
    """A choropleth of one indicator at one level, with facilities, district outlines and a legend.

    Parameters
    ----------
    table
        The coverage table (:func:`geo_coverage.coverage.evaluate`); rows of other indicators or
        levels are ignored.
    dataset, plan
        Units, facilities and the indicator's definition.
    indicator, level
        What to colour.
    language
        ``"zh"`` or ``"en"`` for the legend, tooltips and popups.
    base_map
        A key of :func:`base_maps`; ``"amap"`` shifts every vector layer to GCJ-02.
    shapes
        Pre-built :func:`unit_shapes` by level (for the map's datum), so an indicator switch only
        restyles; built here when absent.
    extra_layers
        Further folium layers to add (e.g. the uncovered residents of an access indicator).
    focus
        A unit code at ``level`` to outline and zoom to (the unit on the card).
    """
    layers = coverage_layers(table, dataset, plan, indicator=indicator, level=level,
                             language=language, base_map=base_map, tianditu_token=tianditu_token,
                             shapes=shapes, show_facilities=show_facilities,
                             district_outlines=district_outlines, extra_layers=extra_layers,
                             height=height, focus=focus)
    for group in layers.groups:
        group.add_to(layers.base)
    layers.control().add_to(layers.base)
    return layers.base


@dataclass(frozen=True)
class CoverageLayers:
    """A map split in two: the ``base`` (frame, tiles, view) and the ``groups`` an indicator
    draws.  The app keeps the base mounted and swaps only the groups when the indicator changes
    (streamlit-folium's ``feature_group_to_add``), so a switch never reloads the map."""

    base: folium.Map
    groups: tuple

    def control(self) -> folium.LayerControl:
        return folium.LayerControl(collapsed=False, position="topright")


def coverage_layers(table: pd.DataFrame, dataset: Dataset, plan: Plan, *, indicator: str,
                    level: str, language: str = "zh", base_map: str = "none",
                    tianditu_token: str | None = None, shapes: Mapping[str, dict] | None = None,
                    show_facilities: bool = True, district_outlines: bool = True,
                    extra_layers=(), height: int | str = "100%",
                    focus: str | None = None) -> CoverageLayers:
    """The parts of :func:`coverage_map` (same parameters): a base map and its layer groups."""
    if language not in LANGUAGES:
        raise DataError(f"Unknown language '{language}'.", fix="Use 'zh' or 'en'.")
    choices = base_maps(tianditu_token=tianditu_token)
    if base_map not in choices:
        raise DataError(f"Unknown base map '{base_map}'.", fix=f"Use one of {sorted(choices)}.")
    tiles = choices[base_map]
    spec = plan.indicator(indicator)
    text = _TEXT[language]
    rows = table[(table["indicator"] == indicator) & (table["level"] == level)]
    if rows.empty:
        raise DataError(f"No rows for indicator '{indicator}' at level '{level}'.",
                        fix=f"Choose one of its levels: {', '.join(spec.levels)}.")

    def shapes_at(at_level: str) -> dict:
        if shapes is not None and at_level in shapes:
            return shapes[at_level]
        return unit_shapes(dataset, at_level, datum=tiles.datum)

    collection = shapes_at(level)
    colours = pd.Series(fill_colours(rows), index=rows["unit_code"].astype(str).to_numpy())
    quality = pd.Series({f["id"]: f["properties"].get("outline_quality", "")
                         for f in collection["features"]})
    approximate = quality.reindex(colours.index).fillna("") == "approximate"
    extra = _tooltip_properties(rows, spec, language=language, approximate=approximate)
    extra["fill"] = colours
    extra_records = extra.to_dict("index")
    features = []
    for feature in collection["features"]:
        properties = dict(feature["properties"])
        properties["label"] = (f"{properties['name_en'] or properties['name']}"
                               if language == "en" else properties["name"]) + f" ({feature['id']})"
        properties.update(extra_records.get(feature["id"], {"fill": NO_DATA_COLOUR,
                                                             "status_text": text["no_data"]}))
        features.append({"type": "Feature", "id": feature["id"], "properties": properties,
                         "geometry": feature["geometry"]})
    styled = {"type": "FeatureCollection", "features": features}

    # Every plugin's script is on the base map, so groups swapped in later find it loaded.
    fmap = _offline(folium.Map(location=_centre(collection), zoom_start=9, tiles=None,
                               control_scale=True, prefer_canvas=False, height=height),
                    "leaflet", "markercluster", "heat")
    # The marker clusters need the map's own maxZoom when no tile layer sets one; a fractional
    # zoom lets the city fill the frame.
    fmap.options["max_zoom"] = 18
    fmap.options["zoom_snap"] = 0.25
    if tiles.tiles:
        folium.TileLayer(tiles.tiles, attr=tiles.attribution, name=tiles.name(language),
                         subdomains=tiles.subdomains, max_zoom=18).add_to(fmap)
        if tiles.overlay_tiles:
            folium.TileLayer(tiles.overlay_tiles, attr=tiles.attribution, overlay=True,
                             name=tiles.name(language) + " 注记", subdomains=tiles.subdomains,
                             max_zoom=18).add_to(fmap)
    fields = ["label", "value_text", "target_text", "shortfall_text", "status_text", "note_text"]
    aliases = ["", text["value"], text["target"], text["shortfall"], text["status"], ""]
    units_group = folium.FeatureGroup(name=text["units"])
    groups = [units_group]
    folium.GeoJson(
        styled, name=text["units"],
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"], "fillOpacity": 0.75, "color": "#ffffff",
            "weight": 0.6,
            "dashArray": "3 3" if f["properties"]["fill"] == NO_DATA_COLOUR else None},
        highlight_function=lambda f: {"weight": 2.5, "color": "#222222", "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, labels=True, sticky=True),
        smooth_factor=0.5,
    ).add_to(units_group)
    if district_outlines and level != "district" and "district" in dataset.units:
        districts_group = folium.FeatureGroup(name=text["districts"])
        folium.GeoJson(
            shapes_at("district"), name=text["districts"], interactive=False,
            style_function=lambda f: {"fill": False, "color": "#303030", "weight": 1.8},
        ).add_to(districts_group)
        groups.append(districts_group)
    source_classes: list[str] = []
    if show_facilities:
        facilities = facility_rows(dataset, plan, spec.layer, language=language, datum=tiles.datum)
        rows_facilities = facilities["rows"]
        if rows_facilities:
            source_classes = sorted(_classes_of(dataset, spec.layer))
            cluster_options = {"showCoverageOnHover": False, "maxClusterRadius": 45,
                               "chunkedLoading": True}
            if len(rows_facilities) <= 200:
                cluster_options["disableClusteringAtZoom"] = 0  # few: always show each one
            facilities_group = folium.FeatureGroup(
                name=f"{text['facilities']} ({len(rows_facilities)})")
            _offline(folium.plugins.FastMarkerCluster(
                rows_facilities, callback=_marker_callback(facilities["labels"],
                                                           facilities["sources"]),
                icon_create_function=_CLUSTER_ICON, options=cluster_options),
                "markercluster").add_to(facilities_group)
            groups.append(facilities_group)
    for layer in extra_layers:
        group = folium.FeatureGroup(name=getattr(layer, "layer_name", None) or text["units"])
        layer.add_to(group)
        groups.append(group)
    approximate_any = bool(approximate.any())
    _Legend(_legend_html(spec, spec.target_at(level), language=language, level=level,
                         approximate=approximate_any, source_classes=source_classes,
                         has_facilities=bool(source_classes))).add_to(units_group)
    focused = [f for f in features if focus is not None and f["id"] == focus]
    if focused:
        folium.GeoJson({"type": "FeatureCollection", "features": focused}, interactive=False,
                       control=False, style_function=lambda f: {
                           "fill": False, "color": "#000000", "weight": 3.5}).add_to(units_group)
        west, south, east, north = shapely.bounds(shapely.geometry.shape(focused[0]["geometry"]))
        margin = max(east - west, north - south) * 0.6
        fmap.fit_bounds([[south - margin, west - margin], [north + margin, east + margin]])
    else:
        bounds = _bounds(collection)
        if bounds:
            # Keep the bottom-right corner clear for the legend.
            fmap.fit_bounds(bounds, padding_bottom_right=(230, 0))
    return CoverageLayers(base=fmap, groups=tuple(groups))


# Neutral cluster badges, so the counts never compete with the red-blue fill of the units.
_CLUSTER_ICON = """function (cluster) {
    var count = cluster.getChildCount();
    var size = count < 10 ? 22 : count < 100 ? 28 : 34;
    return L.divIcon({
        html: "<div style='width:" + size + "px;height:" + size + "px;line-height:" + size
            + "px;border-radius:50%;background:rgba(60,60,60,0.78);color:#fff;"
            + "border:2px solid #fff;text-align:center;font:11px sans-serif'>" + count + "</div>",
        className: "geo-coverage-cluster", iconSize: L.point(size, size)});
}"""


def _classes_of(dataset: Dataset, kind: str) -> set[str]:
    frame = dataset.layer(kind)
    if frame is None or "source" not in frame:
        return set()
    return {source_class(s) for s in frame["source"].astype(str).unique()}


def _bounds(collection: dict) -> list[list[float]] | None:
    box = collection.get("bbox")
    if not box or not np.isfinite(box).all():
        return None
    west, south, east, north = box
    return [[south, west], [north, east]]


def _centre(collection: dict) -> list[float]:
    bounds = _bounds(collection)
    if not bounds:
        return [39.9, 116.4]
    return [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]


# --- access layers ------------------------------------------------------------------------------


def uncovered_heat(xy: np.ndarray, population: np.ndarray, covered: np.ndarray, *, crs,
                   datum: str = "wgs84", cell_m: float = 500.0, language: str = "zh"):
    """A heat layer of the residents not covered, from per-cell access results.

    Parameters
    ----------
    xy
        ``(n, 2)`` demand-cell centres in the metric ``crs`` (e.g.
        :func:`geo_coverage.access.point_measures`' points).
    population, covered
        Residents of the group per cell and how many of them are covered.
    cell_m
        Cells are summed onto a coarser display grid of this size (one bincount), so a city
        of 100 m cells stays a few thousand heat points.

    Returns
    -------
    folium.plugins.HeatMap or None
        ``None`` when every resident is covered.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    uncovered = np.clip(np.asarray(population, dtype=float) - np.asarray(covered, dtype=float),
                        0.0, None)
    keep = uncovered > 0
    if not keep.any():
        return None
    xy, uncovered = xy[keep], uncovered[keep]
    column = np.floor(xy[:, 0] / cell_m).astype(np.int64)
    row = np.floor(xy[:, 1] / cell_m).astype(np.int64)
    column -= column.min()
    row -= row.min()
    width = int(column.max()) + 1
    _, inverse = np.unique(row * width + column, return_inverse=True)
    weights = np.bincount(inverse, weights=uncovered)
    # Display points sit at the population-weighted centre of the cells they gather.
    centre_x = np.bincount(inverse, weights=uncovered * xy[:, 0]) / weights
    centre_y = np.bincount(inverse, weights=uncovered * xy[:, 1]) / weights
    lonlat = gpd.GeoSeries(gpd.points_from_xy(centre_x, centre_y), crs=crs).to_crs(4326)
    lon, lat = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    if datum != "wgs84":
        from .datum import convert

        lon, lat = convert(lon, lat, source="wgs84", target=datum)
    scale = float(np.quantile(weights, 0.99)) or float(weights.max())
    data = np.column_stack([np.round(lat, COORDINATE_DIGITS), np.round(lon, COORDINATE_DIGITS),
                            np.round(np.minimum(weights / scale, 1.0), 3)]).tolist()
    # Purples, so the residents left out never read as part of the red-blue gap scale.
    layer = folium.plugins.HeatMap(data, name=_TEXT[language]["cells_uncovered"], radius=11,
                                   blur=9, min_opacity=0.05, max_zoom=13,
                                   gradient={0.2: "#dadaeb", 0.5: "#9e9ac8", 0.8: "#6a51a3",
                                             1.0: "#3f007d"})
    return _offline(layer, "heat")


def catchment_layer(outlines: gpd.GeoDataFrame, *, datum: str = "wgs84", language: str = "zh"):
    """The catchments of some facilities (polygons in any CRS) as dashed outlines."""
    frame = outlines.to_crs(4326)
    geometry = frame.geometry.values
    if datum != "wgs84":
        geometry = transform_geometry(geometry, source="wgs84", target=datum)
    frame = frame.set_geometry(shapely.transform(
        shapely.simplify(geometry, 1e-5), lambda xy: np.round(xy, COORDINATE_DIGITS)))
    return folium.GeoJson(
        json.loads(frame[["id", frame.geometry.name]].to_json(drop_id=True)),
        name=_TEXT[language]["catchments"], interactive=False,
        style_function=lambda f: {"color": "#1b7837", "weight": 1.5, "dashArray": "5 4",
                                  "fillColor": "#1b7837", "fillOpacity": 0.08})


def map_html(fmap: folium.Map) -> str:
    """The map as one standalone, offline HTML page."""
    return fmap.get_root().render()
