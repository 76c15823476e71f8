"""Folium maps built from coverage tables: the planner's choropleth, facilities and a legend.

Everything here takes tables and a dataset and returns folium objects; it never imports
streamlit, so the same map can be saved as a standalone HTML file or shown in the app.  This is
the one module that imports folium (the ``app`` extra).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

try:
    import folium
    import folium.plugins
    from branca.element import MacroElement
    from jinja2 import Template
except ImportError as error:  # folium comes with the app extra, not with the library
    raise ImportError(f"Maps need folium ({error.name} is missing): pip install 'geo-coverage[app]'") from error

from ..dataset import Dataset, source_class
from ..datum import convert, transform_geometry
from ..errors import DataError
from ..plan import Plan
from .basemaps import base_maps, offline
from .legend import LABELS, LANGUAGES, NO_DATA_COLOUR, fill_colours, legend_html, tooltip_properties
from .shapes import COORDINATE_DIGITS, facility_rows, unit_shapes

__all__ = ["coverage_map", "coverage_layers", "CoverageLayers", "map_html", "uncovered_heat",
           "catchment_layer"]


# Builds each marker and (lazily, on open) its popup from a compact row of facility_rows.
_MARKER_CALLBACK = """function (row) {
    var labels = __LABELS__, sources = __SOURCES__;
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
}"""


def _marker_callback(labels: list[str], sources: list[list[str]]) -> str:
    """The marker callback with the popup's labels and the layer's sources filled in."""
    return (_MARKER_CALLBACK.replace("__LABELS__", json.dumps(labels, ensure_ascii=False))
            .replace("__SOURCES__", json.dumps(sources, ensure_ascii=False)))


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


def coverage_map(table: pd.DataFrame, dataset: Dataset, plan: Plan, *, indicator: str, level: str,
                 language: str = "zh", base_map: str = "none", tianditu_token: str | None = None,
                 shapes: Mapping[str, dict] | None = None, show_facilities: bool = True,
                 district_outlines: bool = True, extra_layers=(), height: int | str = "100%",
                 focus: str | None = None, value_label: str | None = None) -> folium.Map:
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
    value_label
        The tooltip's name for the value: "情景值" / "Scenario value" on a scenario's map, so
        nobody reads a scenario's figure as today's ("现状值", the default).
    """
    layers = coverage_layers(table, dataset, plan, indicator=indicator, level=level,
                             language=language, base_map=base_map, tianditu_token=tianditu_token,
                             shapes=shapes, show_facilities=show_facilities,
                             district_outlines=district_outlines, extra_layers=extra_layers,
                             height=height, focus=focus, value_label=value_label)
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
        """The layer switcher for these groups (top right, open)."""
        return folium.LayerControl(collapsed=False, position="topright")


def coverage_layers(table: pd.DataFrame, dataset: Dataset, plan: Plan, *, indicator: str,
                    level: str, language: str = "zh", base_map: str = "none",
                    tianditu_token: str | None = None, shapes: Mapping[str, dict] | None = None,
                    show_facilities: bool = True, district_outlines: bool = True,
                    extra_layers=(), height: int | str = "100%",
                    focus: str | None = None, value_label: str | None = None) -> CoverageLayers:
    """The parts of :func:`coverage_map`: a base map and its layer groups.

    Parameters
    ----------
    table, dataset, plan, indicator, level, language, base_map, tianditu_token
        As for :func:`coverage_map`.
    shapes, show_facilities, district_outlines, extra_layers, height, focus
        As for :func:`coverage_map`.

    Returns
    -------
    CoverageLayers
        The base map and the groups the indicator draws (units first, with the legend).
    """
    if language not in LANGUAGES:
        raise DataError(f"Unknown language '{language}'.", fix="Use 'zh' or 'en'.")
    choices = base_maps(tianditu_token=tianditu_token)
    if base_map not in choices:
        raise DataError(f"Unknown base map '{base_map}'.", fix=f"Use one of {sorted(choices)}.")
    tiles = choices[base_map]
    spec = plan.indicator(indicator)
    text = LABELS[language]
    rows = table[(table["indicator"] == indicator) & (table["level"] == level)]
    if rows.empty:
        raise DataError(f"No rows for indicator '{indicator}' at level '{level}'.",
                        fix=f"Choose one of its levels: {', '.join(spec.levels)}.")

    def shapes_at(at_level: str) -> dict:
        if shapes is not None and at_level in shapes:
            return shapes[at_level]
        return unit_shapes(dataset, at_level, datum=tiles.datum)

    collection = shapes_at(level)
    features, approximate = _styled_units(rows, spec, collection, language=language)
    fmap = _base_map(collection, tiles, language=language, height=height)
    units_group = _units_group(features, {**text, "value": value_label or text["value"]})
    groups = [units_group]
    if district_outlines and level != "district" and "district" in dataset.units:
        districts_group = folium.FeatureGroup(name=text["districts"])
        folium.GeoJson(
            shapes_at("district"), name=text["districts"], interactive=False,
            style_function=lambda f: {"fill": False, "color": "#303030", "weight": 1.8},
        ).add_to(districts_group)
        groups.append(districts_group)
    source_classes: list[str] = []
    if show_facilities:
        facilities_group = _facilities_group(dataset, plan, spec.layer, language=language, datum=tiles.datum)
        if facilities_group is not None:
            source_classes = sorted(_classes_of(dataset, spec.layer))
            groups.append(facilities_group)
    for layer in extra_layers:
        group = folium.FeatureGroup(name=getattr(layer, "layer_name", None) or text["units"])
        layer.add_to(group)
        groups.append(group)
    _Legend(legend_html(spec, spec.target_at(level), language=language, approximate=approximate,
                        source_classes=source_classes, has_facilities=bool(source_classes))).add_to(units_group)
    _frame_view(fmap, units_group, features, collection, focus=focus)
    return CoverageLayers(base=fmap, groups=tuple(groups))


def _styled_units(rows: pd.DataFrame, indicator, collection: dict, *, language: str) -> tuple[list, bool]:
    """The level's features with their fill, label and tooltip texts; whether any outline is
    approximate."""
    text = LABELS[language]
    colours = pd.Series(fill_colours(rows), index=rows["unit_code"].astype(str).to_numpy())
    quality = pd.Series({f["id"]: f["properties"].get("outline_quality", "")
                         for f in collection["features"]})
    approximate = quality.reindex(colours.index).fillna("") == "approximate"
    extra = tooltip_properties(rows, indicator, language=language, approximate=approximate)
    extra["fill"] = colours
    extra_records = extra.to_dict("index")
    features = []
    for feature in collection["features"]:
        properties = dict(feature["properties"])
        properties["label"] = (f"{properties['name_en'] or properties['name']}"
                               if language == "en" else properties["name"]) + f" ({feature['id']})"
        properties.update(extra_records.get(feature["id"], {"fill": NO_DATA_COLOUR,
                                                             "status_text": text["no_data"]}))
        # Leaflet's GeoJSON tooltip writes these as HTML: a district's upload naming a unit
        # '<img src=x onerror=...>' must show those characters, never run them.
        properties = {key: html.escape(value) if isinstance(value, str) and key not in ("code", "fill")
                      else value for key, value in properties.items()}
        features.append({"type": "Feature", "id": feature["id"], "properties": properties,
                         "geometry": feature["geometry"]})
    return features, bool(approximate.any())


def _base_map(collection: dict, tiles, *, language: str, height: int | str) -> folium.Map:
    # Every plugin's script is on the base map, so groups swapped in later find it loaded.
    fmap = offline(folium.Map(location=_centre(collection), zoom_start=9, tiles=None,
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
    return fmap


def _units_group(features: list, text: Mapping[str, str]) -> folium.FeatureGroup:
    fields = ["label", "value_text", "target_text", "shortfall_text", "status_text", "note_text"]
    aliases = ["", text["value"], text["target"], text["shortfall"], text["status"], ""]
    units_group = folium.FeatureGroup(name=text["units"])
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=text["units"],
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"], "fillOpacity": 0.75, "color": "#ffffff",
            "weight": 0.6,
            "dashArray": "3 3" if f["properties"]["fill"] == NO_DATA_COLOUR else None},
        highlight_function=lambda f: {"weight": 2.5, "color": "#222222", "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, labels=True, sticky=True),
        smooth_factor=0.5,
    ).add_to(units_group)
    return units_group


def _facilities_group(dataset: Dataset, plan: Plan, kind: str, *, language: str,
                      datum: str) -> folium.FeatureGroup | None:
    """The layer's facilities as clustered markers (popups built on opening); ``None`` if none."""
    facilities = facility_rows(dataset, plan, kind, language=language, datum=datum)
    rows = facilities["rows"]
    if not rows:
        return None
    cluster_options = {"showCoverageOnHover": False, "maxClusterRadius": 45, "chunkedLoading": True}
    if len(rows) <= 200:
        cluster_options["disableClusteringAtZoom"] = 0  # few: always show each one
    group = folium.FeatureGroup(name=f"{LABELS[language]['facilities']} ({len(rows)})")
    offline(folium.plugins.FastMarkerCluster(
        rows, callback=_marker_callback(facilities["labels"], facilities["sources"]),
        icon_create_function=_CLUSTER_ICON, options=cluster_options),
        "markercluster").add_to(group)
    return group


def _frame_view(fmap: folium.Map, units_group: folium.FeatureGroup, features: list, collection: dict,
                *, focus: str | None) -> None:
    """Outline and zoom to the focused unit, else fit the level, the legend's corner kept clear."""
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
        lon, lat = convert(lon, lat, source="wgs84", target=datum)
    scale = float(np.quantile(weights, 0.99)) or float(weights.max())
    data = np.column_stack([np.round(lat, COORDINATE_DIGITS), np.round(lon, COORDINATE_DIGITS),
                            np.round(np.minimum(weights / scale, 1.0), 3)]).tolist()
    # Purples, so the residents left out never read as part of the red-blue gap scale.
    layer = folium.plugins.HeatMap(data, name=LABELS[language]["cells_uncovered"], radius=11,
                                   blur=9, min_opacity=0.05, max_zoom=13,
                                   gradient={0.2: "#dadaeb", 0.5: "#9e9ac8", 0.8: "#6a51a3",
                                             1.0: "#3f007d"})
    return offline(layer, "heat")


def catchment_layer(outlines: gpd.GeoDataFrame, *, datum: str = "wgs84", language: str = "zh"):
    """The catchments of some facilities (polygons in any CRS) as dashed outlines.

    Parameters
    ----------
    outlines
        :func:`geo_coverage.access.catchment_outlines`.
    datum, language
        The base map's datum and the layer's name language.

    Returns
    -------
    folium.GeoJson
    """
    frame = outlines.to_crs(4326)
    geometry = frame.geometry.values
    if datum != "wgs84":
        geometry = transform_geometry(geometry, source="wgs84", target=datum)
    frame = frame.set_geometry(shapely.transform(
        shapely.simplify(geometry, 1e-5), lambda xy: np.round(xy, COORDINATE_DIGITS)))
    return folium.GeoJson(
        json.loads(frame[["id", frame.geometry.name]].to_json(drop_id=True)),
        name=LABELS[language]["catchments"], interactive=False,
        style_function=lambda f: {"color": "#1b7837", "weight": 1.5, "dashArray": "5 4",
                                  "fillColor": "#1b7837", "fillOpacity": 0.08})


def map_html(fmap: folium.Map) -> str:
    """The map as one standalone, offline HTML page."""
    return fmap.get_root().render()
