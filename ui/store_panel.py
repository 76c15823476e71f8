"""The project store in the app: pick the snapshot (year) to view, and save, list, open and fork
scenarios that everyone using the same store sees (docs/store.md).

The store is ``GEO_COVERAGE_STORE`` or the default file (created on first use).  One
:class:`~geo_coverage.store.Store` per location is shared by every session (``st.cache_resource``):
it holds only a pooled, thread-safe SQLAlchemy engine, and every call is its own transaction, so
each session reads only committed data.  What is per person lives in ``st.session_state``: the
name (asked once per browser session), the snapshot picked, the version a scenario was opened at.
A loaded snapshot is cached per store and content digest, so a new save is a new cache entry.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from geo_coverage import scenario as sc
from geo_coverage.dataset import Dataset
from geo_coverage.errors import GeoCoverageError
from geo_coverage.text import text

from .i18n import plain

__all__ = [
    "store",
    "author",
    "caption",
    "snapshot_choice",
    "scenarios_section",
    "PICK",
    "AUTHOR",
    "BASE",
    "EMBEDDED",
]

PICK = "store_snapshot"  # session_state: the snapshot year picked ("" = the embedded data)
AUTHOR = "store_author"  # session_state: this browser session's name, asked once
BASE = "store_scenario_base"  # session_state: (name, version) the scenario was opened / saved at
EMBEDDED = ""

# The scenario list's columns, in order (store.column_* in geo_coverage.text).
_COLUMNS = ("scenario", "latest", "saved_by", "saved_at", "created_by", "forked_from")


def _t(key: str, language: str) -> str:
    return text(f"store.{key}", language)


@st.cache_resource(show_spinner=False)
def _open(location: str):
    from geo_coverage.store import open_store

    return open_store(location or None)


def store():
    """The shared store (``None`` and the reason when it cannot be opened)."""
    import os

    from geo_coverage.store import STORE_ENV

    try:
        return _open(os.environ.get(STORE_ENV, "")), None
    except GeoCoverageError as exc:
        return None, str(exc)


@st.cache_resource(show_spinner=False, max_entries=8)
def _snapshot(location: str, year: int, digest: str, _store) -> Dataset:
    """A snapshot's dataset, once per store and content (a replaced year has a new digest)."""
    return _store.load_snapshot(year)


def snapshot_choice(language: str) -> tuple[str, Dataset] | None:
    """The sidebar's snapshot picker: ``(dataset_key, dataset)`` of the year picked, or ``None``
    for the embedded (or uploaded) data."""
    opened, problem = store()
    if opened is None:
        st.caption(_t("store_error", language) + plain(problem or ""))
        return None
    try:
        years = opened.years()
    except GeoCoverageError as exc:
        st.caption(_t("store_error", language) + plain(exc))
        return None
    if not years:
        return None
    options = [EMBEDDED, *[str(year) for year in years]]
    if st.session_state.get(PICK) not in options:
        st.session_state[PICK] = EMBEDDED
    labels = {str(s.year): s.label for s in opened.list_snapshots() if not s.district}
    picked = st.selectbox(
        _t("snapshot", language),
        options,
        key=PICK,
        format_func=lambda y: (
            _t("embedded", language) if y == EMBEDDED else f"{y} · {labels.get(y, '')}".rstrip(" ·")
        ),
    )
    if picked == EMBEDDED:
        return None
    view = opened.year_view(int(picked))
    dataset = _snapshot(opened.location, view.year, view.digest, opened)
    return f"store:{view.digest[:16]}", dataset


def caption(dataset_key: str, language: str) -> str | None:
    """The sidebar's "dataset:" words for a store snapshot (``None`` for other data)."""
    if not dataset_key.startswith("store:"):
        return None
    year = st.session_state.get(PICK, "")
    return f"{_t('snapshot', language)} {year}"


def author(language: str) -> str:
    """This browser session's name: asked once, then kept in the session."""
    return st.text_input(_t("your_name", language), key=AUTHOR).strip()


def _summary_frame(summaries, language: str) -> pd.DataFrame:
    columns = [_t(f"column_{name}", language) for name in _COLUMNS]
    rows = [
        (
            s.name,
            f"v{s.latest}",
            s.updated_by,
            s.updated_at[:19].replace("T", " "),
            s.created_by,
            f"{s.forked_from} v{s.forked_from_version}" if s.forked_from else "",
        )
        for s in summaries
    ]
    return pd.DataFrame(rows, columns=list(columns))


def scenarios_section(
    scenario: sc.Scenario,
    language: str,
    *,
    snapshot: str | None,
    open_scenario: Callable[[sc.Scenario], None],
) -> None:
    """Save the current scenario as a new version, list everyone's, open or fork one."""
    opened, problem = store()
    with st.expander(_t("shared", language), expanded=False):
        if opened is None:
            st.warning(_t("store_error", language) + plain(problem or ""))
            return
        st.caption(f"{_t('store_at', language)}: {opened.location}")
        name = author(language)
        base = st.session_state.get(BASE)
        if base and base[0] == scenario.name:
            st.caption(_t("opened_at", language).format(version=base[1]))
        message = st.text_input(_t("message", language), key="store_message")
        if st.button(_t("save", language), key="store_save"):
            _save(opened, scenario, name, message, snapshot, language)
        try:
            summaries = opened.list_scenarios()
        except GeoCoverageError as exc:
            st.error(plain(exc))
            return
        if not summaries:
            st.info(_t("none", language))
            return
        st.dataframe(_summary_frame(summaries, language), hide_index=True, key="store_scenarios")
        names = [s.name for s in summaries]
        cols = st.columns([3, 1, 1])
        pick = cols[0].selectbox(_t("open", language), names, key="store_pick")
        latest = next(s.latest for s in summaries if s.name == pick)
        version = cols[1].selectbox(
            _t("version", language),
            list(range(latest, 0, -1)),
            key=f"store_version:{pick}",
            format_func=lambda v: f"v{v}",
        )
        if cols[2].button(_t("open", language), key="store_open"):
            chosen = opened.get_scenario(pick, version)
            st.session_state[BASE] = (pick, chosen.version)
            open_scenario(chosen.scenario())
            st.rerun()
        fork_name = st.text_input(_t("fork_name", language), key="store_fork_name")
        if st.button(_t("fork", language), key="store_fork"):
            _fork(opened, pick, version, fork_name, name, language, open_scenario)


def _save(opened, scenario: sc.Scenario, name: str, message: str, snapshot, language: str) -> None:
    from geo_coverage.store import ConflictError

    if not name:
        st.warning(_t("name_needed", language))
        return
    base = st.session_state.get(BASE)
    base_version = base[1] if base and base[0] == scenario.name else None
    try:
        saved = opened.save_scenario(
            scenario,
            message=message or scenario.description or scenario.name,
            base_version=base_version,
            author=name,
            snapshot=snapshot,
        )
    except ConflictError as exc:
        st.error(_t("conflict", language) + plain(exc))
        return
    except GeoCoverageError as exc:
        st.error(plain(exc))
        return
    st.session_state[BASE] = (saved.name, saved.version)
    st.success(_t("saved", language).format(name=plain(saved.name), version=saved.version))


def _fork(
    opened, pick: str, version: int, fork_name: str, name: str, language: str, open_scenario
) -> None:
    if not name:
        st.warning(_t("name_needed", language))
        return
    try:
        saved = opened.fork_scenario(pick, fork_name, version=version, author=name)
    except GeoCoverageError as exc:
        st.error(plain(exc))
        return
    st.session_state[BASE] = (saved.name, saved.version)
    open_scenario(saved.scenario())
    st.success(_t("forked", language).format(name=plain(saved.name)))
    st.rerun()
