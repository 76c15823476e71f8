"""The map section: builds the folium map through geo_coverage.maps and shows it with st_folium."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass

import folium
import pandas as pd
import streamlit as st
import streamlit_folium

from geo_coverage import viz as maps
from geo_coverage.dataset import Dataset
from geo_coverage.plan import Plan
from geo_coverage.viz import live

from . import data
from .i18n import t

UNIT_PICK = "unit_pick"          # session_state key of the unit card's selectbox
LAST_CLICK = "map_last_click"    # the last map click already turned into a unit pick
TIANDITU_ENV = "TIANDITU_TOKEN"


def tianditu_token() -> str | None:
    """A 天地图 key from the environment or .streamlit/secrets.toml (never from the code)."""
    token = os.environ.get(TIANDITU_ENV)
    if token:
        return token
    try:
        return st.secrets.get("tianditu_token") or st.secrets.get(TIANDITU_ENV)
    except (FileNotFoundError, KeyError, AttributeError):
        return None
    except Exception:  # noqa: BLE001 - st.secrets raises its own error when no file exists
        return None


def base_map_choices() -> dict[str, maps.BaseMap]:
    return maps.base_maps(tianditu_token=tianditu_token())


@dataclass(frozen=True)
class MapFrame:
    """The rendered base map (tiles and every level's outlines) of one dataset, datum, tiles and
    language: rendered once, then sent as the same text on every run, so the browser keeps it."""

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    key: str


@dataclass(frozen=True)
class LiveMap:
    frame: MapFrame
    groups: tuple
    control: object


@st.cache_resource(show_spinner=False, max_entries=8)
def _map_frame(dataset_key: str, datum: str, base_map: str, language: str, token: str | None,
               _shapes: dict, _shapes_json: str) -> MapFrame:
    fmap = live.live_base(_shapes_json, _shapes, base_map=base_map, tianditu_token=token,
                          language=language)
    fmap.get_root().render()
    fmap.render()
    html = streamlit_folium._get_html(fmap)
    header = streamlit_folium._get_header(fmap)
    script = streamlit_folium._get_map_string(fmap)
    css, js = [], []
    for element in _walk(fmap):
        css.extend(href for _, href in getattr(element, "default_css", []))
        js.extend(src for _, src in getattr(element, "default_js", []))
    # One key per base: a new dataset, datum, tiles or language mounts a new map; anything else
    # only swaps the layer groups inside the mounted one.
    key = "coverage_map-" + hashlib.sha256(
        f"{dataset_key}|{datum}|{base_map}|{language}|{len(script)}".encode()).hexdigest()[:16]
    return MapFrame(script=script, header=header, html=html, map_id=streamlit_folium.get_full_id(fmap),
                    css_links=tuple(dict.fromkeys(css)), js_links=tuple(dict.fromkeys(js)), key=key)


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def build_map(dataset_key: str, dataset: Dataset, plan: Plan, table: pd.DataFrame, *,
              indicator: str, level: str, language: str, base_map: str,
              show_facilities: bool, extra_layers=(), focus: tuple[str, str] | None = None,
              value_label: str | None = None) -> LiveMap:
    """The mounted base (outlines of every level, rendered once per dataset) and the layer
    groups of this indicator and level (restyling the stored outlines)."""
    datum = base_map_choices()[base_map].datum
    shapes, shapes_json = data.display_shapes(dataset_key, datum, dataset)
    frame = _map_frame(dataset_key, datum, base_map, language, tianditu_token(), shapes, shapes_json)
    groups = live.live_groups(table, dataset, plan, indicator=indicator, level=level, shapes=shapes,
                              language=language, datum=datum, show_facilities=show_facilities,
                              extra_layers=extra_layers, focus=focus, value_label=value_label,
                              legend_open=True)
    return LiveMap(frame=frame, groups=groups,
                   control=folium.LayerControl(collapsed=True, position="topright"))


FOCUS = "map_focus"      # session_state: (level, code) the map last zoomed to on request
SEARCH = "unit_search"   # the search box above the map


def focus(level: str) -> tuple[str, str] | None:
    """What the map outlines and zooms to: the last unit searched, clicked or picked on the card
    (while it is still the picked unit), or the district chosen in the gap list."""
    wanted = st.session_state.get(FOCUS)
    pick = st.session_state.get(UNIT_PICK)
    if wanted and wanted[0] == "district" and level == "street":
        return wanted
    if pick:
        return (level, pick)
    return None


def _searched() -> None:
    code = st.session_state.get(SEARCH)
    if code:
        st.session_state[UNIT_PICK] = code
        st.session_state[FOCUS] = ("unit", code)


def search_box(dataset: Dataset, level: str, language: str) -> None:
    """Find a street/township (or district) by name: the map zooms to it and outlines it, and
    its card opens below."""
    units = dataset.units_at(level)
    parents = dataset.units["district"]["name"].to_dict() if "district" in dataset.units else {}
    english = units.get("name_en", pd.Series("", index=units.index)).fillna("").astype(str)
    labels = {code: " ".join(part for part in (str(units.at[code, "name"]), english[code],
                                                 f"· {parents.get(units.at[code, 'parent_code'], '')}"
                                                 if level == "street" else "") if part)
              for code in units.index.astype(str)}
    if st.session_state.get(SEARCH) not in labels:
        st.session_state[SEARCH] = None
    st.selectbox(t("search_unit", language), list(labels), key=SEARCH, index=None,
                 format_func=lambda code: labels.get(code, code), on_change=_searched,
                 placeholder=t("search_placeholder", language))


MAX_CATCHMENTS = 200  # catchments drawn for the selected unit's facilities (a district has more)


def access_layers(dataset_key: str, dataset: Dataset, plan: Plan, plan_id: str, *,
                  indicator: str, level: str, language: str, base_map: str) -> list:
    """For an access indicator: residents not covered (heat) and the catchments of the facilities
    in the unit picked on the card."""
    spec = plan.indicator(indicator)
    if spec.type != "access" or dataset.layer(spec.layer) is None:
        return []
    datum = base_map_choices()[base_map].datum
    xy, population, covered = data.access_cells(dataset_key, plan_id, indicator, dataset, plan)
    layers = []
    heat = maps.uncovered_heat(xy, population, covered, crs=dataset.crs, datum=datum,
                               language=language)
    if heat is not None:
        layers.append(heat)
    code = st.session_state.get(UNIT_PICK)
    if code:
        frame = dataset.layer(spec.layer)
        column = "street_code" if level == "street" else "district_code"
        ids = frame.loc[frame[column] == code, "id"].astype(str).head(MAX_CATCHMENTS).tolist()
        if ids:
            outlines = data.catchments(dataset, plan, indicator, ids)
            layers.append(maps.catchment_layer(outlines, datum=datum, language=language))
    return layers


def render(layers: LiveMap, *, level: str, unit_codes: pd.Index, language: str,
           key: str = "coverage_map", height: int = 600) -> dict | None:
    """Show the map; a click on a unit selects it for the unit card (via session_state).

    The base (tiles and all outlines) is sent as the same text every run, so the browser keeps
    the map mounted; only the layer groups (styles, legend, markers) are rendered per run and
    swapped in place.  This calls streamlit-folium's component directly with the cached base:
    ``st_folium`` would re-render the whole base (megabytes of outlines) on every run.
    """
    st.caption(t("map_caption", language))
    frame = layers.frame
    parent = folium.Map(tiles=None)  # stands in for the mounted base while groups render
    groups = "".join(streamlit_folium._get_feature_group_string(group, parent, index)
                     for index, group in enumerate(layers.groups))
    control = streamlit_folium._get_layer_control_string(layers.control, parent)
    returned_objects = ["last_active_drawing", "last_object_clicked", "last_object_clicked_tooltip"]
    returned = streamlit_folium._component_func(
        script=frame.script, header=frame.header, html=frame.html, id=frame.map_id,
        key=f"{key}-{frame.key}", height=height, width=None, returned_objects=returned_objects,
        default=dict.fromkeys(returned_objects), zoom=None, center=None,
        feature_group=groups, return_on_hover=False, layer_control=control, pixelated=False,
        css_links=list(frame.css_links), js_links=list(frame.js_links), wrap_longitude=False)
    code = clicked_code(returned, unit_codes)
    if code is None:
        return returned
    signature = json.dumps([level, code, (returned or {}).get("last_object_clicked")],
                           sort_keys=True, default=str)
    if st.session_state.get(LAST_CLICK) != signature:
        st.session_state[LAST_CLICK] = signature
        st.session_state[UNIT_PICK] = code
        st.session_state[FOCUS] = ("unit", code)
        st.rerun()  # so the map outlines the unit just clicked
    return returned


def clicked_code(returned: dict | None, unit_codes: pd.Index) -> str | None:
    """The unit code of the last clicked polygon (its GeoJSON properties, else its tooltip)."""
    if not returned:
        return None
    drawing = returned.get("last_active_drawing") or {}
    code = str((drawing.get("properties") or {}).get("code", "")) or None
    if code in unit_codes:
        return code
    tooltip = returned.get("last_object_clicked_tooltip") or ""
    match = re.search(r"\((\d{6,12})\)", tooltip)
    if match and match.group(1) in unit_codes:
        return match.group(1)
    return None
