"""Print and share: the view in the page URL, and the coverage map as PNG / PDF.

The view (language, plan, indicator, level, district, snapshot year, scenario) is written to the
page's query parameters on every run, so the address bar always holds a link to what is on the
screen; a colleague opening that link gets the same view, because the parameters are read into
the widgets' session state once, on the session's first run, before the widgets exist.  Every
value read from a URL is checked against what the app offers (an unknown indicator, level or
district is ignored, and the widget keeps its default).

The print map is :func:`geo_coverage.viz.static.coverage_sheet`, the renderer of
``geo-coverage map`` and the assessment reports, built only when a button is clicked.
"""

from __future__ import annotations

import datetime
import re

import pandas as pd
import streamlit as st

from geo_coverage.dataset import Dataset
from geo_coverage.errors import GeoCoverageError
from geo_coverage.plan import Plan

from . import store_panel
from .i18n import LANGUAGES, t

__all__ = ["restore_sidebar", "restore_content", "publish", "print_buttons", "scenario_id",
           "PARAMS"]

# URL parameter -> the session_state key its widget uses.
PARAMS = ("lang", "plan", "indicator", "level", "year", "district", "unit", "scenario")
_RESTORED = "share_restored"          # session_state: phases of the URL already read
_DISTRICT = "district_filter"          # the gap table's district selectbox (ui.coverage_view)
_SCENARIO = re.compile(r"^(?P<name>.+?)(?:@v(?P<version>\d+))?$")


def _param(name: str) -> str | None:
    value = st.query_params.get(name)
    return str(value).strip() if value not in (None, "") else None


def _first_time(phase: str) -> bool:
    done = st.session_state.setdefault(_RESTORED, set())
    if phase in done:
        return False
    done.add(phase)
    return True


def restore_sidebar(plan_ids: list[str]) -> None:
    """Seed the sidebar's widgets from the URL (first run of the session only).

    The sidebar checks the indicator and level against the plan and the data itself and falls
    back to its defaults, so only the language and plan are checked here."""
    if not _first_time("sidebar"):
        return
    language = _param("lang")
    if language in LANGUAGES:
        st.session_state["language"] = language
    language = st.session_state.get("language", "zh")
    suffix = "" if language == "zh" else f".{language}"  # app.language_key's keys
    plan_id = _param("plan")
    if plan_id in plan_ids:
        st.session_state[f"plan{suffix}"] = plan_id
    indicator = _param("indicator")
    if indicator:
        st.session_state[f"indicator{suffix}"] = indicator
    level = _param("level")
    if level in ("district", "street"):
        st.session_state["level"] = level
    year = _param("year")
    if year and year.isdigit():
        st.session_state[store_panel.PICK] = year


def restore_content(dataset: Dataset, plan: Plan, language: str) -> None:
    """Seed the district filter and open the scenario the URL names (first run only).

    The scenario is ``NAME`` or ``NAME@vN`` of the project store; one the store does not hold is
    said on the page and not opened."""
    if not _first_time("content"):
        return
    district = _param("district")
    districts = dataset.units.get("district")
    if district and districts is not None and district in districts.index.astype(str):
        st.session_state[_DISTRICT] = district
        from .map_view import FOCUS

        st.session_state[FOCUS] = ("district", district)  # the map goes there too
    unit = _param("unit")  # the unit on the card, outlined and zoomed to on the map
    level = st.session_state.get("level", "street")
    if unit and level in dataset.units and unit in dataset.units[level].index.astype(str):
        from .map_view import FOCUS, UNIT_PICK

        st.session_state[UNIT_PICK] = unit
        st.session_state[FOCUS] = ("unit", unit)
    wanted = _param("scenario")
    if not wanted:
        return
    match = _SCENARIO.match(wanted)
    opened, problem = store_panel.store()
    if opened is None or match is None:
        st.warning(t("share_scenario_missing", language, name=wanted))
        return
    version = int(match["version"]) if match["version"] else None
    try:
        chosen = opened.get_scenario(match["name"], version)
    except GeoCoverageError:
        st.warning(t("share_scenario_missing", language, name=wanted))
        return
    from . import scenario_tab

    st.session_state[store_panel.BASE] = (match["name"], chosen.version)
    scenario_tab.open_scenario(chosen.scenario())
    st.info(t("share_scenario_opened", language, name=match["name"], version=chosen.version))


def scenario_id() -> str | None:
    """``NAME@vN``: the store scenario (and version) this session opened or last saved, while it
    is the session's scenario; else None (a scenario only in this session has no link)."""
    from . import scenario_tab

    base = st.session_state.get(store_panel.BASE)
    current = st.session_state.get(scenario_tab.STATE)
    if not base or current is None or current.name != base[0]:
        return None
    return f"{base[0]}@v{base[1]}"


def view(choice: dict) -> dict[str, str]:
    """The URL parameters of what is on the screen (only those that differ from a default are
    left out when empty)."""
    params = {"lang": choice["language"], "plan": choice["plan_id"],
              "indicator": choice["indicator"].id, "level": choice["level"]}
    year = st.session_state.get(store_panel.PICK)
    if year:
        params["year"] = str(year)
    district = st.session_state.get(_DISTRICT)
    if district and choice["level"] == "street":
        params["district"] = str(district)
    from .map_view import UNIT_PICK

    unit = st.session_state.get(UNIT_PICK)
    if unit:
        params["unit"] = str(unit)
    scenario = scenario_id()
    if scenario:
        params["scenario"] = scenario
    return params


def publish(choice: dict) -> None:
    """Write the view to the URL (only when it changed, so the browser history stays short)."""
    params = view(choice)
    current = {key: str(st.query_params.get(key)) for key in st.query_params}
    if current != params:
        st.query_params.from_dict(params)


@st.cache_data(show_spinner=False, max_entries=16)
def _sheet(dataset_key: str, plan_id: str, indicator: str, level: str, language: str,
           district: str | None, fmt: str, date: str, _table: pd.DataFrame, _dataset: Dataset,
           _plan: Plan) -> bytes:
    from geo_coverage.viz import static

    figure = static.coverage_sheet(_dataset, _plan, _table, indicator=indicator, level=level,
                                   language=language, district=district, date=date)
    return static.to_png(figure, dpi=200) if fmt == "png" else static.to_pdf(figure)


def print_buttons(dataset_key: str, dataset: Dataset, plan: Plan, plan_id: str,
                  table: pd.DataFrame, *, indicator: str, level: str, language: str) -> None:
    """"Print map" PNG and PDF downloads of the map as shown (the district chosen in the gap
    list zooms it), drawn only when clicked."""
    district = st.session_state.get(_DISTRICT) if level == "street" else None
    districts = dataset.units.get("district")
    if district and (districts is None or district not in districts.index.astype(str)):
        district = None
    date = datetime.date.today().isoformat()
    stem = f"map_{indicator}_{level}" + (f"_{district}" if district else "")
    columns = st.columns([1, 1, 3])
    for column, fmt, mime in ((columns[0], "png", "image/png"),
                              (columns[1], "pdf", "application/pdf")):
        column.download_button(
            t("print_map", language, fmt=fmt.upper()),
            lambda fmt=fmt: _sheet(dataset_key, plan_id, indicator, level, language, district,
                                   fmt, date, table, dataset, plan),
            file_name=f"{stem}.{fmt}", mime=mime, key=f"print_map_{fmt}", on_click="ignore",
            width="stretch")
    columns[2].caption(t("print_map_help", language))
