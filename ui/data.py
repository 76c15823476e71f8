"""Cached access to the library for the app: datasets, plans, coverage tables and map outlines.

Heavy shared objects (a dataset, a plan, the display outlines) are ``st.cache_resource``; tables
are ``st.cache_data`` (each caller gets its own copy).  A dataset is keyed by a short string
(``"default"`` or the content hash of an upload), so switching indicator or level never reloads it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from geo_coverage import access, coverage, gaps, maps
from geo_coverage.dataset import Dataset
from geo_coverage.plan import Plan, available_plans, load_plan
from geo_coverage.viz import live
from ui import warm

DEFAULT_KEY = "default"
UPLOAD_STATE = "uploaded_dataset"  # session_state: (key, Dataset) of this user's upload


@st.cache_resource(show_spinner=False)
def default_dataset() -> Dataset:
    """The embedded dataset (already loaded in the background when the app runs via ui.serve)."""
    return warm.default_dataset()


def current_dataset() -> tuple[str, Dataset]:
    """This session's dataset: an upload made on the Data tab, else the embedded default."""
    uploaded = st.session_state.get(UPLOAD_STATE)
    if uploaded is not None:
        return uploaded
    return DEFAULT_KEY, default_dataset()


@st.cache_resource(show_spinner=False)
def plan(plan_id: str) -> Plan:
    return load_plan(plan_id)


def plan_ids() -> list[str]:
    return list(available_plans())


@st.cache_data(show_spinner=False, max_entries=128)
def indicator_table(dataset_key: str, plan_id: str, indicator: str, _dataset: Dataset,
                    _plan: Plan) -> pd.DataFrame:
    """The coverage rows of one indicator at every level it is evaluated at."""
    return coverage.evaluate(_dataset, _plan, indicators=[indicator])


@st.cache_data(show_spinner=False, max_entries=16)
def full_table(dataset_key: str, plan_id: str, _dataset: Dataset, _plan: Plan) -> pd.DataFrame:
    """Every indicator (for unit cards); computed only when a card is opened."""
    return coverage.evaluate(_dataset, _plan)


@st.cache_resource(show_spinner=False, max_entries=32)
def unit_shapes(dataset_key: str, level: str, datum: str, _dataset: Dataset) -> dict:
    """Display outlines of one level, built once per dataset, level and datum (never mutated)."""
    return maps.unit_shapes(_dataset, level, datum=datum)


@st.cache_resource(show_spinner=False, max_entries=8)
def display_shapes(dataset_key: str, datum: str, _dataset: Dataset) -> tuple[dict, str]:
    """Every level's display outlines (shared edges simplified once) and their JSON text, built
    once per dataset and datum: the map's base holds them, switches only restyle."""
    shapes = warm.default_shapes() if (dataset_key, datum) == (DEFAULT_KEY, "wgs84") else None
    if shapes is None:
        shapes = live.display_shapes(_dataset, datum=datum)
    return shapes, live.shapes_script(shapes)


@st.cache_data(show_spinner=False, max_entries=128)
def gap_rows(dataset_key: str, plan_id: str, indicator: str, level: str, district: str | None,
             _table: pd.DataFrame, _dataset: Dataset, _plan: Plan) -> pd.DataFrame:
    """The ranked gap list, exactly as `geo-coverage gaps` builds it."""
    return gaps.gap_list(_table, _plan, level=level, indicator=indicator, dataset=_dataset,
                         district=district)


def exporter(gap_list: pd.DataFrame, fmt: str, *, table: pd.DataFrame, dataset: Dataset,
             plan: Plan, level: str, district: str | None = None, language: str = "zh"):
    """A callable giving the bytes `geo-coverage gaps --level L --indicator I [--district D]
    --lang LANG` writes for the same choice (evaluated on click, so switching never pays for
    exports), in the UI's language."""
    def build() -> bytes:
        return gaps.export_bytes(gap_list, fmt, plan=plan, dataset=dataset, level=level,
                                 table=table, district=district, language=language)
    return build


@st.cache_data(show_spinner=False, max_entries=16)
def access_cells(dataset_key: str, plan_id: str, indicator: str, _dataset: Dataset,
                 _plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per demand cell of an access indicator: ``(xy, population, covered residents)``."""
    settings = access.AccessSettings()
    demand = access.cached_demand_points(_dataset, settings=settings)
    points, population, covered = access.point_measures(
        _dataset, _plan.indicator(indicator), settings=settings, demand=demand, plan=_plan)
    return np.asarray(points.xy), np.asarray(population), np.asarray(covered)


def catchments(dataset: Dataset, plan: Plan, indicator: str, facility_ids: list[str]):
    """Catchment outlines of some facilities of the indicator's layer (dataset CRS)."""
    return access.catchment_outlines(dataset, plan.indicator(indicator), facility_ids=facility_ids)
