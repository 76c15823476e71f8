"""The Scenario / 情景 tab: edit a what-if scenario on the map, ask the optimiser, compare.

``render(dataset, plan, language)`` is all the app calls.  Each browser session keeps its own
scenario (a frozen :class:`geo_coverage.scenario.Scenario`) in ``st.session_state``; edits build a
new scenario, never change the cached dataset, plan or tables (the library returns new objects and
``st.cache_data`` hands out copies), so nothing one planner does shows up for another.
"""

from __future__ import annotations

import html

import streamlit as st
from streamlit_folium import st_folium

from geo_coverage import scenario as sc
from geo_coverage import viz as maps
from geo_coverage.coverage import evaluate
from geo_coverage.dataset import Dataset
from geo_coverage.errors import GeoCoverageError
from geo_coverage.plan import Plan
from geo_coverage.text import group, text
from ui import coverage_view, edits, store_panel
from ui.i18n import ATTRIBUTES, FLIPS, LEVELS, SOLVER_STATUS, STATUS, label, plain
from ui.i18n import MODELS as MODEL_NAMES

__all__ = ["render", "STATE", "PROPOSAL", "SAVED", "lang_key", "describe_edit", "flips_frame", "closed_frame"]

STATE = "scenario_current"      # session_state: this session's Scenario
PROPOSAL = "scenario_proposal"  # session_state: the optimiser's last suggestions (tuple of edit dicts)
LEVEL_CHOSEN = "scenario_level_chosen"  # the planner set the tab's level (it stops following the sidebar)
SAVED = "scenario_saved"        # session_state: name -> YAML text of scenarios saved in this session
CLICK = "scenario_last_click"   # session_state: the last map click turned into coordinates
UPLOAD = "upload"               # the optimiser's "uploaded list" choice of candidates
SYNC = "scenario_sync"          # session_state: the name/description widgets must show a new scenario



def _t(key: str, language: str) -> str:
    return text(f"scenario.{key}", language)


def lang_key(base: str, language: str) -> str:
    """The key of a widget whose option labels depend on the language.

    A keyed selectbox whose labels change keeps showing the old label in the browser (see app.py),
    so such widgets get one key per language; the choice carries over when the language changes.
    """
    key = f"{base}.{language}"
    other = f"{base}.{'en' if language == 'zh' else 'zh'}"
    if key not in st.session_state and other in st.session_state:
        st.session_state[key] = st.session_state[other]
    return key


def _attribute_name(attribute: str | None, language: str) -> str:
    if attribute is None:
        return "1"
    return label(ATTRIBUTES.get(attribute, (attribute, attribute.replace("_", " "))), language)


def _capacity_label(attribute: str | None, language: str, text: str | None = None) -> str:
    """"规模（床位）" / "Capacity (beds)": the attribute's name, not its column id."""
    text = text or _t("capacity", language)
    if attribute is None:
        return text
    name = _attribute_name(attribute, language)
    return f"{text}（{name}）" if language == "zh" else f"{text} ({name})"


def _unit_name(units, code: str, language: str) -> str:
    """A unit's name in the UI language (``name_en`` in English when the data has it)."""
    if units is None or code not in units.index:
        return ""
    if language != "zh" and "name_en" in units:
        english = units.at[code, "name_en"]
        if isinstance(english, str) and english.strip():
            return english
    return str(units.at[code, "name"])


def _scenario(language: str) -> sc.Scenario:
    if STATE not in st.session_state:
        st.session_state[STATE] = sc.Scenario(name=_t("default_name", language))
    return st.session_state[STATE]


def _set(scenario: sc.Scenario, *, replaced: bool = False) -> None:
    """Store this session's scenario; ``replaced`` (new, loaded, uploaded) refreshes the name fields
    on the next run, before their widgets exist (Streamlit forbids changing them after)."""
    st.session_state[STATE] = scenario
    if replaced:
        st.session_state[SYNC] = True


def open_scenario(scenario: sc.Scenario) -> None:
    """Make ``scenario`` this session's scenario (from the store, or a shared link)."""
    _set(scenario, replaced=True)


def _capacity_attribute(plan: Plan, kind: str) -> str | None:
    """The kind's first numeric attribute (beds, places…): what "capacity" means for it."""
    attributes = plan.kinds[kind].attributes
    return next((name for name, type_ in attributes.items() if type_ == "number"), None)


@st.cache_data(show_spinner=False, max_entries=8)
def _base_table(dataset_key: str, _dataset: Dataset, _plan: Plan):
    """Every indicator on the base data, once per dataset (st.cache_data returns a copy)."""
    return evaluate(_dataset, _plan)


@st.cache_data(show_spinner=False, max_entries=32)
def _base_map_html(dataset_key: str, indicator: str, level: str, language: str, _table, _dataset: Dataset,
                   _plan: Plan) -> str:
    """The "before" map never changes with the scenario: build its HTML once per choice."""
    fmap = maps.coverage_map(_table, _dataset, _plan, indicator=indicator, level=level, language=language,
                             base_map="none", height=360)
    return maps.map_html(fmap)


def _cache_key(dataset_key: str, plan: Plan) -> str:
    # The dataset's content key (``"default"`` or ``"upload-<sha256>"``, see ui.data), never
    # ``id(dataset)``: an id is reused once its object dies, so one session's upload could be
    # served another session's cached table.
    return f"{dataset_key}:{plan.id}"


def render(dataset: Dataset, plan: Plan, language: str, *, dataset_key: str,
           sidebar_level: str | None = None) -> None:
    """The Scenario tab: edits, optimiser, before/after maps, flips, save/download/upload.

    ``dataset_key`` names the dataset's content (:func:`ui.data.current_dataset`); the tab's
    cached tables and maps are keyed by it.  The tab's level follows ``sidebar_level`` until the
    planner chooses one here."""
    language = language if language in ("zh", "en") else "zh"
    scenario = _scenario(language)
    if st.session_state.pop(SYNC, False) or "scenario_name" not in st.session_state:
        st.session_state["scenario_name"] = scenario.name
        st.session_state["scenario_description"] = scenario.description
    st.session_state.setdefault("scenario_lon", 116.4)
    st.session_state.setdefault("scenario_lat", 39.9)
    st.subheader(_t("heading", language))
    _header(scenario, language)
    scenario = _scenario(language)

    kinds = list(plan.kinds)
    indicators = {ind.id: ind for ind in plan.all_indicators}
    left, right = st.columns([3, 2])
    with right:
        indicator_id = st.selectbox(_t("indicator", language), list(indicators),
                                    key=lang_key("scenario_indicator", language),
                                    format_func=lambda i: indicators[i].name_zh if language == "zh"
                                    else indicators[i].name_en)
        indicator = indicators[indicator_id]
        levels = [lvl for lvl in ("district", "street") if lvl in indicator.levels and lvl in dataset.units]
        level_key = lang_key("scenario_level", language)
        if not st.session_state.get(LEVEL_CHOSEN) and sidebar_level in levels:
            st.session_state[level_key] = sidebar_level
        level = st.radio(_t("level", language), levels, key=level_key, horizontal=True,
                         format_func=lambda lvl: LEVELS[lvl][language != "zh"],
                         on_change=lambda: st.session_state.__setitem__(LEVEL_CHOSEN, True))
        # Tianditu needs a key the app holds; the tab offers the tile sources that need none.
        bases = maps.base_maps()
        base_map = st.selectbox(_t("base_map", language), list(bases), key=lang_key("scenario_base_map", language),
                                format_func=lambda b: bases[b].name(language))

    key = _cache_key(dataset_key, plan)
    before = _base_table(key, dataset, plan)
    try:
        changed = sc.apply(scenario, dataset, plan)
        after = sc.evaluate_scenario(before, dataset, changed, plan, scenario)
        problem = None
    except GeoCoverageError as exc:  # an uploaded scenario that does not fit this data
        changed, after, problem = dataset, before, str(exc)

    coverage_view.provenance_notes(changed, plan, indicator, level, language)
    with left:
        st.caption(_t("click_hint", language))
        fmap = maps.coverage_map(after, changed, plan, indicator=indicator_id, level=level,
                                 language=language, base_map=base_map, height=480,
                                 value_label=_t("scenario_value", language))
        returned = st_folium(fmap, key="scenario_map", height=480, use_container_width=True,
                             returned_objects=["last_clicked"])
        clicked = (returned or {}).get("last_clicked")
        if clicked and st.session_state.get(CLICK) != clicked:
            st.session_state[CLICK] = clicked
            st.session_state["scenario_lon"] = round(float(clicked["lng"]), 6)
            st.session_state["scenario_lat"] = round(float(clicked["lat"]), 6)
            # The map draws everything in its tiles' datum (Amap: GCJ-02), so a click is in it too.
            st.session_state["scenario_datum"] = bases[base_map].datum
    if problem:
        st.error(plain(problem))

    with right:
        _add_form(plan, kinds, language)
        _existing_form(changed, plan, kinds, language)
        _population_form(dataset, language)
    _edit_list(_scenario(language), plan, language, dataset)
    _leave_warning(_scenario(language), language)
    _optimiser(dataset, plan, language)
    comparison = sc.compare(before, after)  # once per run: the tables and the XLSX download share it
    _results(comparison, before, after, changed, dataset, plan, indicator_id, level, language, key=key)
    _files(comparison, changed, plan, language)
    store_panel.scenarios_section(_scenario(language), language,
                                  snapshot=st.session_state.get(store_panel.PICK) or None,
                                  open_scenario=open_scenario)


def _leave_warning(scenario: sc.Scenario, language: str) -> None:
    """Until the scenario is kept somewhere, a reload loses it: say so, and have the browser ask
    before the page is left or reloaded (a ``beforeunload`` handler on the app's page)."""
    # A scenario saved "in this session" is lost on reload too, so any edit counts.
    unsaved = bool(scenario.edits)
    if unsaved:
        st.caption("⚠️ " + _t("unsaved", language))
    script = ("window.parent.onbeforeunload = function (e) { e.preventDefault(); e.returnValue = ''; return ''; };"
              if unsaved else "window.parent.onbeforeunload = null;")
    st.iframe(f"<script>{script}</script>", height=1)


def _header(scenario: sc.Scenario, language: str) -> None:
    cols = st.columns([2, 3, 1])
    name = cols[0].text_input(_t("name", language), key="scenario_name")
    description = cols[1].text_input(_t("description", language), key="scenario_description")
    if name.strip() and (name != scenario.name or description != scenario.description):
        _set(sc.Scenario(name=name.strip(), description=description, base=scenario.base, plan=scenario.plan,
                         edits=scenario.edits, targets=scenario.targets, origin=scenario.origin))
    if cols[2].button(_t("new", language), key="scenario_new"):
        _set(sc.Scenario(name=_t("default_name", language)), replaced=True)
        st.session_state.pop(PROPOSAL, None)
        st.rerun()


def _try_edit(edits: list[dict], language: str) -> None:
    """Append edits if they parse; errors are shown, the scenario stays as it was."""
    try:
        _set(_scenario(language).with_edits(edits))
    except GeoCoverageError as exc:
        st.error(plain(exc))
        return
    # The maps and tables above were drawn from the previous scenario: draw them again.
    st.rerun()


def _add_form(plan: Plan, kinds: list[str], language: str) -> None:
    st.markdown(f"**{_t('add', language)}**")
    kind = st.selectbox(_t("kind", language), kinds, key=lang_key("scenario_add_kind", language),
                        format_func=lambda k: plan.kinds[k].name_zh if language == "zh" else plan.kinds[k].name_en)
    attribute = _capacity_attribute(plan, kind)
    capacity = None
    if attribute is None:  # a mother-baby room has no capacity: no box to fill in
        st.caption(_t("no_capacity", language))
    else:
        capacity = st.number_input(_capacity_label(attribute, language), min_value=0.0,
                                   value=100.0, step=10.0, key="scenario_add_capacity")
    cols = st.columns(3)
    lon = cols[0].number_input(_t("lon", language), format="%.6f", key="scenario_lon")
    lat = cols[1].number_input(_t("lat", language), format="%.6f", key="scenario_lat")
    datum = cols[2].selectbox(_t("datum", language), ["wgs84", "gcj02", "bd09"], key="scenario_datum")
    if st.button(_t("add_button", language), key="scenario_add"):
        edit = {"action": "add", "kind": kind, "lon": float(lon), "lat": float(lat), "datum": datum,
                "attributes": {attribute: float(capacity)} if attribute and capacity is not None
                else {}}
        _try_edit([edit], language)


def _existing_form(changed: Dataset, plan: Plan, kinds: list[str], language: str) -> None:
    st.markdown(f"**{_t('existing', language)}**")
    present = [k for k in kinds if changed.layer(k) is not None and len(changed.layer(k))]
    if not present:
        return
    kind = st.selectbox(_t("kind", language), present, key=lang_key("scenario_edit_kind", language),
                        format_func=lambda k: plan.kinds[k].name_zh if language == "zh" else plan.kinds[k].name_en)
    layer = changed.layer(kind)
    names = dict(zip(layer["id"].astype(str), layer["name"].astype(str), strict=True))
    facility = st.selectbox(_t("facility", language), list(names), key="scenario_edit_id",
                            format_func=lambda i: f"{i} · {names.get(i, '')}")
    attribute = _capacity_attribute(plan, kind)
    # "New capacity" starts at the chosen facility's current value (set before the widget exists).
    if attribute is not None and st.session_state.get("scenario_edit_for") != (kind, facility):
        st.session_state["scenario_edit_for"] = (kind, facility)
        current = layer.loc[layer["id"].astype(str) == facility, attribute] if attribute in layer else []
        value = float(current.iloc[0]) if len(current) and current.notna().iloc[0] else 0.0
        st.session_state["scenario_edit_capacity"] = max(value, 0.0)
    cols = st.columns(3)
    if attribute is None:  # nothing to resize: say so instead of a box that means nothing
        cols[0].caption(_t("no_capacity", language))
    else:
        new_capacity = cols[0].number_input(
            _capacity_label(attribute, language, _t("new_capacity", language)), min_value=0.0,
            step=10.0, key="scenario_edit_capacity")
        if cols[1].button(_t("resize_button", language), key="scenario_resize"):
            _try_edit([{"action": "change", "kind": kind, "id": facility,
                        "attributes": {attribute: float(new_capacity)}}], language)
    if cols[2].button(_t("remove_button", language), key="scenario_remove"):
        _try_edit([{"action": "remove", "kind": kind, "id": facility}], language)


def _population_form(dataset: Dataset, language: str) -> None:
    """Grow (or shrink) one district's or street's population by a percentage: every age group
    is scaled, a district's streets with it (see :class:`geo_coverage.scenario.PopulationChange`)."""
    st.markdown(f"**{_t('population', language)}**")
    levels = [lvl for lvl in ("district", "street") if lvl in dataset.units]
    cols = st.columns([2, 3, 2])  # wide enough for "Street / township"
    level = cols[0].selectbox(_t("pop_level", language), levels, key=lang_key("scenario_pop_level", language),
                              format_func=lambda lvl: LEVELS[lvl][language != "zh"])
    units = dataset.units_at(level)
    code = cols[1].selectbox(_t("pop_unit", language), list(units.index), key="scenario_pop_unit",
                             format_func=lambda c: f"{_bilingual_name(units, c)} ({c})")
    percent = cols[2].number_input(_t("pop_change", language), min_value=-90.0, max_value=500.0, value=8.0,
                                   step=1.0, key="scenario_pop_percent")
    if st.button(_t("pop_button", language), key="scenario_population"):
        _try_edit([{"action": "population", "level": level, "code": str(code),
                    "factor": round(1.0 + float(percent) / 100.0, 6)}], language)


def _bilingual_name(units, code: str) -> str:
    """"name name_en" (labels of a keyed widget must not change with the language)."""
    name = str(units.at[code, "name"])
    english = units.at[code, "name_en"] if "name_en" in units else None
    return f"{name} {english}" if isinstance(english, str) and english.strip() and english != name else name


def _localised(frame, language: str):
    """A comparison table with the headers of the chosen language (the exports carry both)."""
    from geo_coverage.gaps import HEADERS

    headers = {**HEADERS, **sc.COMPARISON_HEADERS}
    return frame.rename(columns={c: headers[c][language != "zh"] for c in frame.columns if c in headers})


def describe_edit(edit: sc.Edit, plan: Plan, language: str, dataset: Dataset | None = None) -> str:
    """One line for an edit: what, how much and where (:func:`ui.edits.describe_edit`)."""
    return edits.describe_edit(edit, plan, language, dataset)


def _edit_list(scenario: sc.Scenario, plan: Plan, language: str, dataset: Dataset | None = None) -> None:
    st.markdown(f"**{_t('edits', language)}**")
    if not scenario.edits:
        st.caption(_t("no_edits", language))
        return
    descriptions = {edit.position: describe_edit(edit, plan, language, dataset) for edit in scenario.edits}
    labels = {position: f"#{position} {text}" for position, text in descriptions.items()}
    st.dataframe({"#": list(descriptions), _t("edit", language): list(descriptions.values())},
                 hide_index=True, width="stretch")
    cols = st.columns([3, 1])
    chosen = cols[0].selectbox(_t("drop", language), list(labels), key=lang_key("scenario_drop_pick", language),
                               format_func=labels.get, label_visibility="collapsed")
    if cols[1].button(_t("drop", language), key="scenario_drop"):
        _set(scenario.without_edit(chosen))
        st.rerun()


def _optimiser(dataset: Dataset, plan: Plan, language: str) -> None:
    from geo_coverage.siting import MODELS, propose_sites

    with st.expander(_t("optimise", language), expanded=PROPOSAL in st.session_state):
        sited = [ind for ind in plan.all_indicators if ind.type in ("access", "ratio", "count")]
        names = {ind.id: (ind.name_zh if language == "zh" else ind.name_en) for ind in sited}
        cols = st.columns(3)
        indicator_id = cols[0].selectbox(_t("opt_indicator", language), list(names),
                                         key=lang_key("scenario_opt_indicator", language),
                                         format_func=names.get)
        indicator = plan.indicator(indicator_id)
        new_sites = cols[1].number_input(_t("new_sites", language), min_value=1, max_value=200, value=5, step=1,
                                         key="scenario_opt_sites")
        default_model = "mclp" if indicator.type == "access" else "capacity_gap"
        models = [m for m in MODELS if (m == "capacity_gap") != (indicator.type == "access")]
        model_key = lang_key("scenario_opt_model", language)
        if st.session_state.get(model_key) not in models:  # the indicator's type changed: its default
            st.session_state[model_key] = default_model
        model = cols[2].selectbox(_t("model", language), models, key=model_key,
                                  format_func=lambda m: label(MODEL_NAMES.get(m, (m, m)), language))
        cols = st.columns(4)
        attribute = indicator.numerator.sum if indicator.numerator is not None else None
        capacity = cols[0].number_input(_capacity_label(attribute, language) if attribute
                                        else f"{_t('capacity', language)} (1)", min_value=1.0,
                                        value=300.0 if attribute else 1.0, step=10.0, key="scenario_opt_capacity")
        layers = [f"layer:{kind}" for kind in sorted(dataset.layers)]
        candidates = cols[1].selectbox(_t("candidates", language), ["grid", *layers, UPLOAD],
                                       key=lang_key("scenario_opt_candidates", language),
                                       format_func=lambda c: _t("upload_candidates", language) if c == UPLOAD
                                       else _t("grid", language) if c == "grid"
                                       else _layer_label(plan, c.removeprefix("layer:"), language))
        spacing = cols[2].number_input(_t("spacing", language), min_value=50.0, value=500.0, step=50.0,
                                       key="scenario_opt_spacing")
        districts = dataset.units_at("district")
        units = cols[3].multiselect(_t("units", language), list(districts.index), key="scenario_opt_units",
                                                    format_func=lambda c: _bilingual_name(districts, c),
                                    placeholder=_t("all_districts", language))
        if candidates == UPLOAD:
            candidates = _uploaded_candidates(dataset, plan, indicator.layer, language)
        if st.button(_t("run_optimiser", language), key="scenario_optimise", disabled=candidates is None):
            try:
                with st.spinner("HiGHS…"):
                    proposal = propose_sites(dataset, plan, indicator=indicator_id, new_sites=int(new_sites),
                                             capacity=float(capacity) if model == "capacity_gap" else None,
                                             candidates=candidates, units=units or None, model=model,
                                             spacing=float(spacing), time_limit=60)
                st.session_state[PROPOSAL] = {"edits": proposal.edits, "solution": proposal.solution.to_dict(),
                                              "places": _places(dataset, proposal.edits)}
            except GeoCoverageError as exc:
                st.error(plain(exc))
        proposal = st.session_state.get(PROPOSAL)
        if proposal:
            solution = proposal["solution"]
            st.caption(solution_text(solution, language))
            if solution["model"] != "capacity_gap":
                st.caption(_t("solution_note", language))
            labels = suggestion_labels(dataset, proposal, language)
            pick_key = lang_key("scenario_accept_pick", language)
            if pick_key not in st.session_state:
                st.session_state[pick_key] = list(labels)
            picked = st.multiselect(_t("suggestions", language), list(labels), key=pick_key,
                                    format_func=labels.get)
            st.caption(_t("suggested_on_map", language))
            if st.button(_t("accept", language), key="scenario_accept"):
                chosen = [edit for edit in proposal["edits"] if edit["id"] in picked]
                st.session_state.pop(PROPOSAL, None)
                for language_ in ("zh", "en"):
                    st.session_state.pop(f"scenario_accept_pick.{language_}", None)
                _try_edit(chosen, language)


def _layer_label(plan: Plan, kind: str, language: str) -> str:
    spec = plan.kinds.get(kind)
    name = (spec.name_zh if language == "zh" else spec.name_en) if spec else kind
    return f"现有{name}" if language == "zh" else f"existing {name}"


def solution_text(solution: dict, language: str) -> str:
    """The optimiser's result in one line; for the capacity gap the share is of the shortfall closed."""
    key = "solution_gap" if solution["model"] == "capacity_gap" else "solution"
    status = label(SOLVER_STATUS.get(solution["status"], (solution["status"], solution["status"])), language)
    return _t(key, language).format(objective=solution["objective"], share=solution["coverage_share"],
                                    status=status, seconds=solution["solve_seconds"])


def _places(dataset: Dataset, edits) -> dict[str, tuple[str, str]]:
    """Street and district code of each suggested site (its edit's WGS84 lon/lat)."""
    import geopandas as gpd

    from geo_coverage.dataset import assign_points

    if not edits:
        return {}
    points = gpd.GeoSeries(gpd.points_from_xy([e["lon"] for e in edits], [e["lat"] for e in edits]),
                           crs=4326).to_crs(dataset.crs)
    street, district = assign_points(points.values, dataset.units)
    return {str(e["id"]): (str(s), str(d)) for e, s, d in zip(edits, street, district, strict=True)}


def suggestion_labels(dataset: Dataset, proposal: dict, language: str) -> dict[str, str]:
    """"street · district (id)" for each suggested site, in the UI language."""
    places = proposal.get("places") or _places(dataset, proposal["edits"])
    labels = {}
    for edit in proposal["edits"]:
        street, district = places.get(str(edit["id"]), ("", ""))
        names = [n for n in (_unit_name(dataset.units.get("street"), street, language),
                             _unit_name(dataset.units.get("district"), district, language)) if n]
        where = " · ".join(names) if names else _t("outside", language)
        labels[edit["id"]] = f"{where} ({edit['id']})"
    return labels


def _uploaded_candidates(dataset: Dataset, plan: Plan, kind: str, language: str):
    """The optimiser's candidates from an uploaded file; ``None`` until a usable one is given."""
    from geo_coverage.siting import read_candidates
    from ui.data_tab import problems_frame

    cols = st.columns([3, 1])
    upload = cols[0].file_uploader(_t("upload_candidates", language), type=["csv", "xlsx"],
                                   key="scenario_opt_upload")
    datum = cols[1].selectbox(_t("datum", language), ["wgs84", "gcj02", "bd09"], key="scenario_opt_datum")
    if upload is None:
        return None
    result = read_candidates(upload.getvalue(), name=upload.name, dataset=dataset, kind=kind, datum=datum)
    if result.problems:
        st.dataframe(problems_frame(result.problems, language), hide_index=True, width="stretch",
                     key="scenario_opt_problems")
    if not result.ok:
        return None
    st.caption(_t("candidates_read", language).format(n=len(result.frame)))
    return result.frame


def _results(comparison, before, after, changed: Dataset, dataset: Dataset, plan: Plan, indicator_id: str, level: str,
             language: str, *, key: str) -> None:
    st.markdown(f"**{_t('before', language)} / {_t('after', language)}**")
    cols = st.columns(2)
    with cols[0]:
        st.caption(_t("before", language))
        st.iframe(_base_map_html(key, indicator_id, level, language, before, dataset, plan), height=370)
    with cols[1]:
        st.caption(_t("after", language))
        proposal = st.session_state.get(PROPOSAL)
        suggestions = tuple((str(e["id"]), float(e["lon"]), float(e["lat"])) for e in proposal["edits"]) \
            if proposal else ()
        st.iframe(_after_map_html(key, sc.scenario_to_yaml(_scenario(language)), indicator_id, level, language,
                                  suggestions, after, changed, dataset, plan, proposal), height=370)
    _changed_units(comparison, plan, indicator_id, level, language, dataset)
    st.markdown(f"**{_t('flips', language)}**")
    if comparison.flips.empty:
        st.caption(_t("no_flips", language))
    else:
        st.dataframe(flips_frame(comparison.flips, plan, language, dataset), hide_index=True, width="stretch",
                     key="scenario_flips")
    st.markdown(f"**{_t('closed', language)}**")
    changed_rows = comparison.closed[(comparison.closed["shortfall_closed"].fillna(0) != 0)
                                     | (comparison.closed["units_gap_to_met"] > 0)
                                     | (comparison.closed["units_met_to_gap"] > 0)]
    st.dataframe(closed_frame(changed_rows, plan, language), hide_index=True, width="stretch",
                 key="scenario_closed")
    st.session_state["scenario_comparison_rows"] = len(comparison.flips)


@st.cache_data(show_spinner=False, max_entries=16)
def _after_map_html(dataset_key: str, scenario_yaml: str, indicator: str, level: str, language: str,
                    suggestions: tuple, _after, _changed: Dataset, _dataset: Dataset, _plan: Plan,
                    _proposal) -> str:
    """The "after" map's HTML, built once per scenario (its YAML), choice and set of suggestions:
    a map click or a typed coordinate reruns the page without rebuilding it."""
    fmap = maps.coverage_map(_after, _changed, _plan, indicator=indicator, level=level, language=language,
                             base_map="none", height=360, value_label=_t("scenario_value", language))
    if suggestions:  # the optimiser's suggestions, before they are accepted
        _suggestion_markers(fmap, suggestion_labels(_dataset, _proposal, language), _proposal["edits"])
    return maps.map_html(fmap)


def _suggestion_markers(fmap, labels: dict[str, str], edits) -> None:
    """Orange dots for suggested sites on a WGS84 map (the After map has no tiles, so no datum shift)."""
    import folium

    for edit in edits:
        folium.CircleMarker([edit["lat"], edit["lon"]], radius=7, color="#ffffff", weight=2, fill=True,
                            fill_color="#f28e2b", fill_opacity=1.0,
                            tooltip=html.escape(labels.get(edit["id"], str(edit["id"])))).add_to(fmap)


# Comparison columns in reading order: what changed first, the details after (exports keep theirs).
_FLIP_COLUMNS = ("unit_name", "indicator_name", "status_before", "status_after", "flip", "value_before",
                 "value_after", "value_change", "shortfall_before", "shortfall_after", "shortfall_change",
                 "shortfall_unit", "level", "unit_code")
_CLOSED_COLUMNS = ("indicator_name", "level", "shortfall_closed", "units_gap_to_met", "units_met_to_gap",
                   "shortfall_before", "shortfall_after", "shortfall_unit")


def _readable(frame, plan: Plan, columns: tuple[str, ...], language: str):
    """Indicator names, translated levels / statuses / flips / shortfall units, numbers to 2 decimals."""
    import pandas as pd

    from geo_coverage.viz import SHORTFALL_UNITS_ZH

    names = {ind.id: (ind.name_zh if language == "zh" else ind.name_en) for ind in plan.all_indicators}
    out = frame.copy()
    out["indicator_name"] = out["indicator"].map(lambda i: names.get(i, i))
    for column in ("status_before", "status_after"):
        if column in out:
            out[column] = out[column].map(lambda s: label(STATUS.get(s, (s, s)), language))
    if "flip" in out:
        out["flip"] = out["flip"].map(lambda f: label(FLIPS.get(f, (f, f)), language))
    if "level" in out:
        out["level"] = out["level"].map(lambda lvl: label(LEVELS.get(lvl, (lvl, lvl)), language))
    if "shortfall_unit" in out and language == "zh":
        out["shortfall_unit"] = out["shortfall_unit"].map(lambda u: SHORTFALL_UNITS_ZH.get(u, u))
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(2)
    out = out[[c for c in columns if c in out]]
    headers = {c: label(pair, language) for c, pair in group("scenario_column").items()}
    return _localised(out.rename(columns=headers), language)


def changed_units_frame(table, plan: Plan, indicator_id: str, level: str, language: str,
                        dataset: Dataset | None = None):
    """The units of ``level`` whose value of ``indicator_id`` the scenario changed: unit, value
    before and after, shortfall before and after, status before → after and the flip, in the
    indicator's own units (headers say them), largest change first."""
    import numpy as np

    indicator = plan.indicator(indicator_id)
    rows = table[(table["indicator"] == indicator_id) & (table["level"] == level)]
    moved = (rows["value_change"].abs().fillna(0) > 1e-9) | (rows["shortfall_change"].abs().fillna(0) > 1e-9) \
        | (rows["status_before"] != rows["status_after"])
    rows = rows[moved.to_numpy()].copy()
    rows = rows.iloc[np.argsort(-rows["value_change"].abs().fillna(0).to_numpy(), kind="stable")]
    if language != "zh" and dataset is not None and len(rows):
        rows["unit_name"] = [_unit_name(dataset.units.get(level), code, language) or name
                             for code, name in zip(rows["unit_code"].astype(str), rows["unit_name"], strict=True)]
    unit = indicator.unit_zh if language == "zh" else indicator.unit_en
    shortfall_unit = maps.shortfall_unit(indicator, language)
    out = _readable(rows, plan, ("unit_name", "value_before", "value_after", "shortfall_before",
                                  "shortfall_after", "status_before", "status_after", "flip", "unit_code"), language)
    suffix = f"（{unit}）" if language == "zh" and unit else (f" ({unit})" if unit else "")
    shortfall_suffix = f"（{shortfall_unit}）" if language == "zh" and shortfall_unit else \
        (f" ({shortfall_unit})" if shortfall_unit else "")
    before, after = (("现状值", "情景值") if language == "zh" else ("Value before", "Scenario value"))
    rename = {}
    for column in out.columns:
        if column in (_localised_name("value_before", language),):
            rename[column] = before + suffix
        elif column == _localised_name("value_after", language):
            rename[column] = after + suffix
        elif column in (_localised_name("shortfall_before", language), _localised_name("shortfall_after", language)):
            rename[column] = column + shortfall_suffix
    return out.rename(columns=rename)


def _localised_name(column: str, language: str) -> str:
    from geo_coverage.gaps import HEADERS

    headers = {**HEADERS, **sc.COMPARISON_HEADERS}
    return headers[column][language != "zh"] if column in headers else column


def _changed_units(comparison, plan: Plan, indicator_id: str, level: str, language: str, dataset: Dataset) -> None:
    indicator = plan.indicator(indicator_id)
    name = indicator.name_zh if language == "zh" else indicator.name_en
    st.markdown("**" + _t("changed_units", language).format(
        indicator=name, level=LEVELS[level][language != "zh"]) + "**")
    frame = changed_units_frame(comparison.table, plan, indicator_id, level, language, dataset)
    if frame.empty:
        st.caption(_t("no_changed_units", language))
    else:
        st.dataframe(frame, hide_index=True, width="stretch", key="scenario_changed_units")


def flips_frame(flips, plan: Plan, language: str, dataset: Dataset | None = None):
    """The units that flip, for reading: unit, indicator name, status before → after, flip first;
    in English a unit's ``name_en`` where ``dataset`` has one."""
    if language != "zh" and dataset is not None and len(flips):
        flips = flips.copy()
        flips["unit_name"] = [_unit_name(dataset.units.get(level), code, language) or name
                              for level, code, name in zip(flips["level"], flips["unit_code"].astype(str),
                                                           flips["unit_name"], strict=True)]
    return _readable(flips, plan, _FLIP_COLUMNS, language)


def closed_frame(closed, plan: Plan, language: str):
    """Shortfall closed per indicator × level, for reading."""
    return _readable(closed, plan, _CLOSED_COLUMNS, language)


def _files(comparison, changed: Dataset, plan: Plan, language: str) -> None:
    scenario = _scenario(language)
    with st.expander(_t("file", language)):
        cols = st.columns(3)
        if cols[0].button(_t("save", language), key="scenario_save"):
            saved = dict(st.session_state.get(SAVED, {}))
            saved[scenario.name] = sc.scenario_to_yaml(scenario)
            st.session_state[SAVED] = saved
        saved = st.session_state.get(SAVED, {})
        if saved:
            pick = cols[0].selectbox(_t("saved", language), list(saved), key="scenario_saved_pick")
            if cols[0].button(_t("load", language), key="scenario_load"):
                _set(sc.scenario_from_yaml(saved[pick]), replaced=True)
                st.rerun()
        cols[1].download_button(_t("download", language), sc.scenario_to_yaml(scenario).encode("utf-8"),
                                file_name=f"{scenario.name}.yaml", mime="application/x-yaml",
                                key="scenario_download")
        cols[1].download_button(
            _t("download_comparison", language),
            lambda: sc.comparison_export_bytes(comparison, "xlsx", plan=plan, dataset=changed,
                                               scenario=scenario, language=language),
            file_name=f"{scenario.name}-comparison.xlsx", key="scenario_download_comparison",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        upload = cols[2].file_uploader(_t("upload", language), type=["yaml", "yml"], key="scenario_upload")
        if upload is not None and st.session_state.get("scenario_uploaded") != upload.file_id:
            st.session_state["scenario_uploaded"] = upload.file_id
            try:
                _set(sc.scenario_from_yaml(upload.getvalue().decode("utf-8"), origin=upload.name), replaced=True)
                st.rerun()
            except (GeoCoverageError, UnicodeDecodeError) as exc:
                st.error(plain(exc))
