"""The app's map, built so that a switch restyles instead of reloading.

The outlines of every level go into the *base* map once, as one JavaScript value
(``window.geoCoverageShapes``), simplified edge by edge so neighbours still meet
(:mod:`.topology`).  Everything an indicator changes (fill colours, tooltips, the legend, the
facility markers, the focused unit) is a small layer group that builds its polygons from those
stored outlines.  streamlit-folium keeps the base mounted and swaps only the groups, so an
indicator or level switch sends tens of kilobytes of styles, not megabytes of coordinates.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template

from ..dataset import Dataset
from ..datum import transform_geometry
from ..errors import DataError
from ..plan import Plan
from . import basemaps, legend
from . import maps as folium_maps
from . import shapes as viz_shapes
from .topology import simplify_shared_edges

__all__ = ["DISPLAY_TOLERANCE_M", "display_shapes", "live_base", "live_groups", "shapes_script"]

# Metres: well under a street's width at city zoom; neighbours share each simplified edge.
DISPLAY_TOLERANCE_M = {"district": 40.0, "street": 20.0}
LABEL_ZOOM = 12  # street names appear from this zoom on


def display_shapes(
    dataset: Dataset, *, datum: str = "wgs84", levels: tuple[str, ...] = ("district", "street")
) -> dict[str, dict]:
    """Display outlines per level: ``{level: {"features": [[code, name, name_en, label_lat,
    label_lon, geometry], ...], "bbox": [w, s, e, n]}}`` in ``datum`` lon/lat, rounded to ~1 m.

    Simplified in metres with shared edges kept shared, so the map never shows slivers between
    neighbours; built once per dataset and datum.
    """
    out = {}
    for level in levels:
        if level not in dataset.units:
            continue
        units = dataset.units_at(level)
        simple = simplify_shared_edges(units.geometry.values, DISPLAY_TOLERANCE_M.get(level, 25.0))
        label = shapely.point_on_surface(units.geometry.values)
        geometry = gpd.GeoSeries(simple, crs=units.crs).to_crs(4326).values
        label_points = gpd.GeoSeries(label, crs=units.crs).to_crs(4326).values
        if datum != "wgs84":
            geometry = transform_geometry(geometry, source="wgs84", target=datum)
            label_points = transform_geometry(label_points, source="wgs84", target=datum)
        geometry = shapely.transform(
            geometry, lambda xy: np.round(xy, viz_shapes.COORDINATE_DIGITS)
        )
        names_en = units.get("name_en", pd.Series("", index=units.index)).fillna("").astype(str)
        features = []
        for code, name, name_en, point, shape in zip(
            units["code"].astype(str),
            units["name"].astype(str),
            names_en,
            label_points,
            geometry,
            strict=True,
        ):
            features.append(
                [
                    code,
                    name,
                    name_en,
                    round(float(point.y), 5),
                    round(float(point.x), 5),
                    shapely.geometry.mapping(shape),
                ]
            )
        west, south, east, north = shapely.total_bounds(geometry)
        out[level] = {
            "features": features,
            "bbox": [float(west), float(south), float(east), float(north)],
        }
    return out


def shapes_script(shapes: Mapping[str, dict]) -> str:
    """The outlines as one JavaScript object literal (built once, inserted as text)."""
    return json.dumps(shapes, ensure_ascii=False, separators=(",", ":"))


class _ShapeStore(MacroElement):
    """Puts the outlines on the page once: ``window.geoCoverageShapes = {...}``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.geoCoverageShapes = {{ this.shapes }};
        {% endmacro %}
    """)

    def __init__(self, shapes_json: str):
        super().__init__()
        self._name = "ShapeStore"
        self.shapes = shapes_json


class _StyledUnits(MacroElement):
    """The units of one level drawn from the stored outlines with this indicator's styles."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var store = window.geoCoverageShapes[{{ this.level|tojson }}];
            var styles = {{ this.styles }};
            var noData = {{ this.no_data|tojson }};
            var features = store.features.map(function (f) {
                return {type: "Feature", id: f[0], geometry: f[5],
                        properties: {code: f[0], name: f[1], name_en: f[2]}};
            });
            var layer = L.geoJson({type: "FeatureCollection", features: features}, {
                smoothFactor: 0.5,
                style: function (f) {
                    var s = styles[f.id] || noData;
                    return {fillColor: s[0], fillOpacity: 0.75, color: "#ffffff", weight: 0.6,
                            dashArray: s[2] ? "3 3" : null};
                },
                onEachFeature: function (f, sub) {
                    var s = styles[f.id] || noData;
                    sub.bindTooltip(s[1], {sticky: true});
                    sub.on("mouseover", function () { sub.setStyle({weight: 2.5, color: "#222222",
                                                                    fillOpacity: 0.85}); });
                    sub.on("mouseout", function () { layer.resetStyle(sub); });
                }
            });
            return layer;
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, level: str, styles_json: str, no_data: list):
        super().__init__()
        self._name = "StyledUnits"
        self.level = level
        self.styles = styles_json
        self.no_data = no_data


class _Outlines(MacroElement):
    """District outlines over the streets (not interactive), from the stored outlines."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({type: "FeatureCollection",
            features: window.geoCoverageShapes[{{ this.level|tojson }}].features.map(function (f) {
                return {type: "Feature", geometry: f[5], properties: {}}; })},
            {interactive: false, style: function () {
                return {fill: false, color: "#303030", weight: 1.8}; }});
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, level: str):
        super().__init__()
        self._name = "Outlines"
        self.level = level


class _Labels(MacroElement):
    """Unit names as labels, shown only from ``LABEL_ZOOM`` on (street zoom)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var group = L.layerGroup();
            window.geoCoverageShapes[{{ this.level|tojson }}].features.forEach(function (f) {
                // A name is data from a file: shown as text, never parsed as HTML.
                var text = document.createElement("span");
                text.textContent = {{ this.english|tojson }} && f[2] ? f[2] : f[1];
                L.marker([f[3], f[4]], {interactive: false, keyboard: false,
                    icon: L.divIcon({className: "geo-coverage-label", html: "",
                                     iconSize: [0, 0]})})
                  .bindTooltip(text, {permanent: true, direction: "center",
                                      className: "geo-coverage-label"})
                  .addTo(group);
            });
            var parent = {{ this._parent.get_name() }};
            var map = {{ this._parent._parent.get_name() }};
            function toggle() {
                if (map.getZoom() >= {{ this.min_zoom }}) { parent.addLayer(group); }
                else { parent.removeLayer(group); }
            }
            map.on("zoomend", toggle);
            group.on("remove", function () {});
            parent.on("remove", function () { map.off("zoomend", toggle); });
            toggle();
            return group;
        })();
        {% endmacro %}
    """)

    def __init__(self, level: str, *, english: bool, min_zoom: int = LABEL_ZOOM):
        super().__init__()
        self._name = "Labels"
        self.level = level
        self.english = english
        self.min_zoom = min_zoom


class _LegendFold(MacroElement):
    """The legend starts folded on a narrow map (at 1366 px it covered 40 % of the map) and keeps
    the planner's own fold or unfold across switches."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        setTimeout(function () {
            var map = {{ this._parent._parent.get_name() }};
            var box = map.getContainer().querySelector(".geo-coverage-legend details");
            if (!box) { return; }
            if (window.geoCoverageLegendOpen === undefined) {
                window.geoCoverageLegendOpen = map.getSize().x >= 1000;
            }
            box.open = window.geoCoverageLegendOpen;
            box.addEventListener("toggle", function () {
                window.geoCoverageLegendOpen = box.open;
            });
        }, 0);
        {% endmacro %}
    """)


class _Focus(MacroElement):
    """The picked unit outlined, and the view moved to it once per pick (a restyle of the same
    pick keeps the planner's own pan and zoom)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var code = {{ this.code|tojson }};
            var map = {{ this._parent._parent.get_name() }};
            var store = window.geoCoverageShapes[{{ this.level|tojson }}];
            var hit = store.features.filter(function (f) { return f[0] === code; })[0];
            var layer = L.geoJson(hit ? {type: "Feature", geometry: hit[5], properties: {}} : [],
                {interactive: false, style: function () {
                    return {fill: false, color: "#000000", weight: 3.5}; }});
            var key = {{ this.level|tojson }} + ":" + code;
            if (hit && window.geoCoverageFocus !== key) {
                window.geoCoverageFocus = key;
                map.fitBounds(layer.getBounds(), {padding: [40, 40], maxZoom: 14});
            }
            return layer;
        })();
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, level: str, code: str):
        super().__init__()
        self._name = "Focus"
        self.level = level
        self.code = code


_LABEL_CSS = """<style>
.leaflet-tooltip.geo-coverage-label {background: transparent; border: none; box-shadow: none;
  color: #1a1a1a; font: 11px 'Noto Sans CJK SC','Microsoft YaHei',sans-serif; padding: 0;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff;}
.leaflet-tooltip.geo-coverage-label:before {display: none;}
.geo-coverage-legend details > summary {cursor: pointer; font-weight: bold; list-style: revert;}
</style>"""


def _tooltip_html(label: str, rows: Mapping[str, str], extra: Mapping[str, str]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:8px'>{html.escape(name)}</th>"
        f"<td>{html.escape(str(extra.get(key, '')))}</td></tr>"
        for key, name in rows.items()
        if extra.get(key, "") != ""
    )
    return f"<b>{html.escape(label)}</b><table>{cells}</table>"


def live_groups(
    table: pd.DataFrame,
    dataset: Dataset,
    plan: Plan,
    *,
    indicator: str,
    level: str,
    shapes: Mapping[str, dict],
    language: str = "zh",
    datum: str = "wgs84",
    show_facilities: bool = True,
    extra_layers=(),
    focus: tuple[str, str] | None = None,
    value_label: str | None = None,
    legend_open: bool = True,
) -> tuple:
    """The layer groups of one indicator, drawn from the outlines :func:`live_base` stored.

    Parameters
    ----------
    table
        Coverage rows (``geo_coverage.coverage.evaluate``) holding the indicator at ``level``.
    dataset, plan
        What the table was evaluated on (facility markers, legend).
    indicator, level
        What to draw.
    shapes
        :func:`display_shapes` of the dataset in the base map's datum (the page holds them;
        here they give names and codes).
    language
        ``"zh"`` or ``"en"``.
    datum
        The base map's datum (facility markers are shifted to it).
    show_facilities
        Draw the indicator's facilities as clustered markers.
    extra_layers
        Further folium layers, each put in a group of its own.
    focus
        ``(level, code)`` of a unit to outline and zoom to (a street, or a district while the
        streets are shown).
    value_label
        The tooltip's label of the value ("情景值" on a scenario's After map); the current value's
        label by default.
    legend_open
        Whether the legend starts unfolded (it folds to one line either way).

    Returns
    -------
    tuple of folium.FeatureGroup
        Styled units (with legend and focus), district outlines, labels, facilities, extras.
    """
    if language not in legend.LANGUAGES:
        raise DataError(f"Unknown language '{language}'.", fix="Use 'zh' or 'en'.")
    spec = plan.indicator(indicator)
    text = legend.LABELS[language]
    rows = table[(table["indicator"] == indicator) & (table["level"] == level)]
    if rows.empty:
        raise DataError(
            f"No rows for indicator '{indicator}' at level '{level}'.",
            fix=f"Choose one of its levels: {', '.join(spec.levels)}.",
        )
    if level not in shapes:
        raise DataError(
            f"No display outlines for level '{level}'.", fix="Build them with display_shapes()."
        )
    approximate = pd.Series(False, index=rows["unit_code"].astype(str).to_numpy())
    if level in dataset.units and "outline_quality" in dataset.units[level]:
        quality = dataset.units[level]["outline_quality"].astype(str)
        approximate = quality.reindex(approximate.index).fillna("") == "approximate"
    colours = pd.Series(legend.fill_colours(rows), index=rows["unit_code"].astype(str).to_numpy())
    extra = legend.tooltip_properties(rows, spec, language=language, approximate=approximate)
    tooltip_rows = {
        "value_text": value_label or text["value"],
        "target_text": text["target"],
        "shortfall_text": text["shortfall"],
        "status_text": text["status"],
        "note_text": "",
    }
    names = {f[0]: (f[2] or f[1]) if language == "en" else f[1] for f in shapes[level]["features"]}
    styles = {}
    for code, record in extra.to_dict("index").items():
        label = f"{names.get(code, code)} ({code})"
        fill = colours.get(code, legend.NO_DATA_COLOUR)
        styles[code] = [
            fill,
            _tooltip_html(label, tooltip_rows, record),
            fill == legend.NO_DATA_COLOUR,
        ]
    no_data = [legend.NO_DATA_COLOUR, html.escape(text["no_data"]), True]
    units_group = folium.FeatureGroup(name=text["units"])
    _StyledUnits(
        level, json.dumps(styles, ensure_ascii=False, separators=(",", ":")), no_data
    ).add_to(units_group)
    groups = [units_group]
    if level != "district" and "district" in shapes:
        districts_group = folium.FeatureGroup(name=text["districts"])
        _Outlines("district").add_to(districts_group)
        groups.append(districts_group)
    labels_group = folium.FeatureGroup(
        name=text.get("labels", "名称" if language == "zh" else "Names")
    )
    _Labels(
        level, english=language == "en", min_zoom=LABEL_ZOOM if level == "street" else 9
    ).add_to(labels_group)
    groups.append(labels_group)
    source_classes = (
        _facility_group(dataset, plan, spec, groups, text=text, language=language, datum=datum)
        if show_facilities
        else []
    )
    for layer in extra_layers:
        group = folium.FeatureGroup(name=getattr(layer, "layer_name", None) or text["units"])
        layer.add_to(group)
        groups.append(group)
    legend_block = legend.legend_html(
        spec,
        spec.target_at(level),
        language=language,
        approximate=bool(approximate.any()),
        source_classes=source_classes,
        has_facilities=bool(source_classes),
    )
    summary = "图例" if language == "zh" else "Legend"
    folium_maps._Legend(
        f"<details{' open' if legend_open else ''}><summary>{summary}</summary>"
        f"{legend_block}</details>"
    ).add_to(units_group)
    if (
        focus is not None
        and focus[0] in shapes
        and any(f[0] == focus[1] for f in shapes[focus[0]]["features"])
    ):
        _Focus(focus[0], focus[1]).add_to(units_group)
    _LegendFold().add_to(units_group)
    return tuple(groups)


def live_base(
    shapes_json: str,
    shapes: Mapping[str, dict],
    *,
    base_map: str = "none",
    tianditu_token: str | None = None,
    language: str = "zh",
) -> folium.Map:
    """Tiles, the stored outlines and the city's view: identical for every indicator and level
    of a dataset, so streamlit-folium keeps it mounted (render it once and keep the text).

    Parameters
    ----------
    shapes_json, shapes
        :func:`shapes_script` of :func:`display_shapes` (in the tiles' datum), and the shapes.
    base_map, tianditu_token
        The tiles (``basemaps.base_maps``).
    language
        Names the tile layers.
    """
    choices = basemaps.base_maps(tianditu_token=tianditu_token)
    if base_map not in choices:
        raise DataError(f"Unknown base map '{base_map}'.", fix=f"Use one of {sorted(choices)}.")
    tiles = choices[base_map]
    bbox = (shapes.get("district") or next(iter(shapes.values())))["bbox"]
    west, south, east, north = bbox
    fmap = basemaps.offline(
        folium.Map(
            location=[(south + north) / 2, (west + east) / 2],
            zoom_start=9,
            tiles=None,
            control_scale=True,
            prefer_canvas=False,
            height="100%",
        ),
        "leaflet",
        "markercluster",
        "heat",
    )
    fmap.options["max_zoom"] = 18
    fmap.options["zoom_snap"] = 0.25
    if tiles.tiles:
        folium.TileLayer(
            tiles.tiles,
            attr=tiles.attribution,
            name=tiles.name(language),
            subdomains=tiles.subdomains,
            max_zoom=18,
        ).add_to(fmap)
        if tiles.overlay_tiles:
            folium.TileLayer(
                tiles.overlay_tiles,
                attr=tiles.attribution,
                overlay=True,
                name=tiles.name(language) + " 注记",
                subdomains=tiles.subdomains,
                max_zoom=18,
            ).add_to(fmap)
    fmap.get_root().header.add_child(folium.Element(_LABEL_CSS))
    _ShapeStore(shapes_json).add_to(fmap)
    # Keep the bottom-right corner clear for the legend.
    fmap.fit_bounds([[south, west], [north, east]], padding_bottom_right=(230, 0))
    return fmap


def _facility_group(
    dataset: Dataset, plan: Plan, spec, groups: list, *, text: dict, language: str, datum: str
) -> list[str]:
    facilities = viz_shapes.facility_rows(dataset, plan, spec.layer, language=language, datum=datum)
    rows_facilities = facilities["rows"]
    if not rows_facilities:
        return []
    cluster_options = {"showCoverageOnHover": False, "maxClusterRadius": 45, "chunkedLoading": True}
    if len(rows_facilities) <= 200:
        cluster_options["disableClusteringAtZoom"] = 0  # few: always show each one
    group = folium.FeatureGroup(name=f"{text['facilities']} ({len(rows_facilities)})")
    basemaps.offline(
        folium.plugins.FastMarkerCluster(
            rows_facilities,
            callback=folium_maps._marker_callback(facilities["labels"], facilities["sources"]),
            icon_create_function=folium_maps._CLUSTER_ICON,
            options=cluster_options,
        ),
        "markercluster",
    ).add_to(group)
    groups.append(group)
    return sorted(folium_maps._classes_of(dataset, spec.layer))
