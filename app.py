"""geo-coverage: the planner's map.  Reads widgets, calls the library, renders.

Run with ``make run`` (``streamlit run app.py``).  Everything computed here comes from
``geo_coverage``; the sections live in ``ui/``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="规划覆盖 geo-coverage", page_icon="🗺️", layout="wide")

# set_page_config must come first, hence the late imports.
from ui import coverage_view, data, data_tab, map_view, monitor_tab, scenario_tab, share, store_panel  # noqa: E402
from ui.i18n import GROUPS, LANGUAGES, LEVELS, t  # noqa: E402

# A wider sidebar so indicator names (long in both languages) are readable.
_STYLE = """<style>
section[data-testid="stSidebar"] {width: 370px !important; min-width: 370px !important;}
</style>"""


def language_key(base: str, language: str) -> str:
    """The key of a selectbox whose option labels follow the language: ``base`` in Chinese (the
    default, so scripts and tests keep using it), ``base.en`` in English.  A keyed selectbox whose
    labels change keeps showing the old label in the browser, so each language gets its own
    widget; the choice carries over when the language changes."""
    key = base if language == "zh" else f"{base}.{language}"
    for other in (base, f"{base}.en"):
        if other != key and key not in st.session_state and other in st.session_state:
            st.session_state[key] = st.session_state[other]
    return key


def sidebar() -> dict:
    """Every choice the planner makes, read from widgets (each with a key)."""
    share.restore_sidebar(data.plan_ids())  # a shared link's view, on the session's first run
    with st.sidebar:
        language = st.radio(t("language", st.session_state.get("language", "zh")),
                            list(LANGUAGES), key="language", horizontal=True,
                            format_func=LANGUAGES.get)
        plan_ids = data.plan_ids()
        # Option labels follow the language (Chinese with the English name, or English alone); a
        # keyed widget whose option labels change keeps showing the old label in the browser, so
        # these selectboxes have one key per language (language_key).
        plan_id = st.selectbox(t("plan", language), plan_ids, key=language_key("plan", language),
                               format_func=lambda p: (f"{data.plan(p).name_zh} · "
                                                      f"{data.plan(p).name_en}" if language == "zh"
                                                      else data.plan(p).name_en))
        plan = data.plan(plan_id)
        indicators = {ind.id: ind for ind in plan.all_indicators}
        order = sorted(indicators, key=lambda i: (list(GROUPS).index(indicators[i].group)
                                                  if indicators[i].group in GROUPS else 9))
        indicator_key = language_key("indicator", language)
        if st.session_state.get(indicator_key) not in indicators:
            st.session_state[indicator_key] = order[0]

        def indicator_label(indicator_id: str) -> str:
            ind = indicators[indicator_id]
            if language != "zh":
                return f"[{GROUPS.get(ind.group, ('', ind.group))[1]}] {ind.name_en} ({ind.clause})"
            group = " ".join(GROUPS.get(ind.group, (ind.group, "")))
            return f"【{group}】{ind.name_zh} · {ind.name_en} ({ind.clause})"

        indicator_id = st.selectbox(t("indicator", language), order, key=indicator_key,
                                    format_func=indicator_label)
        indicator = indicators[indicator_id]
        if language == "en":  # long English names: written out in full (the box cuts them off)
            st.caption(f"{indicator.name_en} ({indicator.clause})")
        # A snapshot (year) of the project store, else the embedded data or this session's upload.
        dataset_key, dataset = store_panel.snapshot_choice(language) or data.current_dataset()
        levels = [lvl for lvl in ("district", "street")
                  if lvl in indicator.levels and lvl in dataset.units]
        if st.session_state.get("level") not in levels:
            st.session_state["level"] = "street" if "street" in levels else levels[0]
        level = st.radio(t("level", language), levels, key="level", horizontal=True,
                         format_func=lambda lvl: " ".join(LEVELS[lvl]))
        choices = map_view.base_map_choices()
        base_map = st.selectbox(t("base_map", language), list(choices),
                                key=language_key("base_map", language),
                                format_func=lambda b: choices[b].name_en if language != "zh"
                                else f"{choices[b].name_zh} · {choices[b].name_en}"
                                if choices[b].name_zh != choices[b].name_en else choices[b].name_zh)
        show_facilities = st.checkbox(t("show_facilities", language), value=True,
                                      key="show_facilities")
        st.caption(f"{t('dataset', language)}: "
                   + (store_panel.caption(dataset_key, language)
                      or (t("default_dataset", language) if dataset_key == data.DEFAULT_KEY
                          else t("uploaded_dataset", language))))
    return {"language": language, "plan_id": plan_id, "plan": plan, "indicator": indicator,
            "level": level, "base_map": base_map, "show_facilities": show_facilities,
            "dataset_key": dataset_key, "dataset": dataset}


def coverage_tab(choice: dict) -> None:
    language, plan, indicator, level = (choice["language"], choice["plan"], choice["indicator"],
                                        choice["level"])
    dataset_key, dataset = choice["dataset_key"], choice["dataset"]
    table = data.indicator_table(dataset_key, choice["plan_id"], indicator.id, dataset, plan)
    name = indicator.name_zh if language == "zh" else indicator.name_en
    st.subheader(f"{name} · {indicator.clause}")
    coverage_view.provenance_notes(dataset, plan, indicator, level, language)
    coverage_view.headline(table, indicator, level, language)
    extra = []
    if indicator.type == "access" and st.checkbox(t("access_layer", language), value=True,
                                                  key="access_layers"):
        extra = map_view.access_layers(dataset_key, dataset, plan, choice["plan_id"],
                                       indicator=indicator.id, level=level, language=language,
                                       base_map=choice["base_map"])
    map_view.search_box(dataset, level, language)
    fmap = map_view.build_map(dataset_key, dataset, plan, table, indicator=indicator.id,
                              level=level, language=language, base_map=choice["base_map"],
                              show_facilities=choice["show_facilities"], extra_layers=extra,
                              focus=map_view.focus(level))
    map_view.render(fmap, level=level, unit_codes=dataset.units_at(level).index, language=language)
    share.print_buttons(dataset_key, dataset, plan, choice["plan_id"], table, indicator=indicator.id,
                        level=level, language=language)
    left, right = st.columns([2, 3])
    with left:
        coverage_view.district_chart(table, dataset, indicator, language)
    with right:
        card = coverage_view.unit_card(dataset_key, dataset, plan, choice["plan_id"], level, language)
    coverage_view.card_table(card, language)  # across the page: every column readable
    coverage_view.gap_table(dataset_key, dataset, plan, choice["plan_id"], table, indicator,
                            level, language)


# Tab labels carry both languages: a keyed widget's labels must not change (see sidebar()).
TABS = ("覆盖与缺口 · Coverage", "情景 · Scenario", "数据 · Data", "监测 · Monitoring")


def main() -> None:
    st.markdown(_STYLE, unsafe_allow_html=True)
    choice = sidebar()
    st.title(t("title", choice["language"]))
    share.restore_content(choice["dataset"], choice["plan"], choice["language"])
    # Only the open tab runs (on_change="rerun"), so the scenario and data sections cost
    # nothing while a planner reads the coverage map.
    coverage, scenario, upload, monitoring = st.tabs(TABS, key="section", on_change="rerun")
    if coverage.open:
        with coverage:
            coverage_tab(choice)
    if scenario.open:
        with scenario:
            scenario_tab.render(choice["dataset"], choice["plan"], choice["language"],
                                dataset_key=choice["dataset_key"], sidebar_level=choice["level"])
    if upload.open:
        with upload:
            data_tab.render(choice["plan"], choice["language"])
    if monitoring.open:
        with monitoring:  # the store's years when it holds two or more, else the demo years
            source_key, source = monitor_tab.source_choice(store_panel.store()[0], choice["language"])
            monitor_tab.render(choice["plan"], choice["language"], choice["indicator"],
                               units=data.default_dataset().units, plan_id=choice["plan_id"],
                               source_key=source_key, source=source)
    share.publish(choice)  # the address bar now links to this view


main()
