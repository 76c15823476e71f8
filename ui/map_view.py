"""The map section: builds the folium map through geo_coverage.maps and shows it with st_folium."""

from __future__ import annotations

import json
import os
import re

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo_coverage import viz as maps
from geo_coverage.dataset import Dataset
from geo_coverage.plan import Plan

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


def build_map(dataset_key: str, dataset: Dataset, plan: Plan, table: pd.DataFrame, *,
              indicator: str, level: str, language: str, base_map: str,
              show_facilities: bool, extra_layers=(), focus: str | None = None):
    """The map as a base and its layer groups; outlines come from the per-level cache, so a
    switch only restyles."""
    datum = base_map_choices()[base_map].datum
    shapes = {lvl: data.unit_shapes(dataset_key, lvl, datum, dataset)
              for lvl in {level, "district"} if lvl in dataset.units}
    return maps.coverage_layers(table, dataset, plan, indicator=indicator, level=level,
                             language=language, base_map=base_map,
                             tianditu_token=tianditu_token(), shapes=shapes,
                             show_facilities=show_facilities, extra_layers=extra_layers,
                             focus=focus)


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


def render(layers: maps.CoverageLayers, *, level: str, unit_codes: pd.Index,
           language: str) -> None:
    """Show the map; a click on a unit selects it for the unit card (via session_state).

    The base map stays mounted in the browser while its layer groups are swapped, so changing
    the indicator redraws the layers without reloading the map.
    """
    st.caption(t("map_caption", language))
    # render=False: st_folium still renders the map once itself; a second full render of the
    # figure (hundreds of kB of script through Jinja) would double the cost of every switch.
    returned = st_folium(layers.base, key="coverage_map", height=600, use_container_width=True,
                         render=False, feature_group_to_add=list(layers.groups),
                         layer_control=layers.control(),
                         returned_objects=["last_active_drawing", "last_object_clicked",
                                           "last_object_clicked_tooltip"])
    code = clicked_code(returned, unit_codes)
    if code is None:
        return
    signature = json.dumps([level, code, (returned or {}).get("last_object_clicked")],
                           sort_keys=True, default=str)
    if st.session_state.get(LAST_CLICK) != signature:
        st.session_state[LAST_CLICK] = signature
        st.session_state[UNIT_PICK] = code
        st.rerun()  # so the map zooms to and outlines the unit just clicked


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
