"""The Data / 数据 tab: upload a planner's file, see every problem, use it in this session only.

The widgets only: :func:`geo_coverage.importers.load_upload` checks the file (the same checks as
``geo-coverage validate``) and returns the dataset with it in place.  Nothing is written into the
repository: the new dataset lives in ``st.session_state``.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from geo_coverage import importers
from geo_coverage.plan import Plan
from geo_coverage.text import group, pair, text

from . import data
from .i18n import plain, t

KINDS = importers.UPLOAD_KINDS
FLASH = "data_loaded"  # session_state: (file name, problems) of the upload just loaded
DATUMS = ("wgs84", "gcj02", "bd09")


def upload_limit_mb() -> int:
    """The upload limit in force (``server.maxUploadSize`` in .streamlit/config.toml), in MB."""
    return int(st.get_option("server.maxUploadSize"))


def _t(key: str, language: str) -> str:
    return text(f"data.{key}", language)


def problems_frame(problems, language: str) -> pd.DataFrame:
    """Every problem as a table row: severity, file, row, column, message, fix."""
    rows = [p.to_dict() for p in sorted(problems, key=lambda p: p.severity != "error")]
    frame = pd.DataFrame(rows, columns=["severity", "file", "row", "column", "message", "fix"])
    frame["row"] = frame["row"].astype("Int64")
    frame["severity"] = frame["severity"].map(lambda v: _t(f"severity_{v}", language)
                                              if f"severity_{v}" in group("data") else v)
    names = {"severity": "severity", "file": "where_file", "row": "row", "column": "column",
             "message": "message", "fix": "fix"}
    return frame.rename(columns={c: _t(k, language) for c, k in names.items()})


def upload_key(base_key: str, *, what: str, kind: str | None, datum: str | None, level: str,
               payload: bytes, replace: str = "district") -> str:
    """The content key of the dataset an upload makes: SHA-256 of the dataset it was loaded
    into (its key), every choice that shapes the result, and the file's bytes.  Every cache of
    the app is keyed by it, so two sessions share a cached table exactly when their data are the
    same (never by ``id()`` of a Dataset, which is reused after the object dies)."""
    digest = hashlib.sha256()
    for part in (base_key, what, str(kind), str(datum), level, replace):
        digest.update(part.encode() + b"\0")
    digest.update(payload)
    return f"upload-{digest.hexdigest()}"


def register_summary(report, spec, dataset, language: str) -> str:
    """What a loaded register replaced (which districts, how many kept) and the datum conversion
    with its measured mean shift, in ``language``."""
    layer = spec.name_zh if language == "zh" else spec.name_en
    before, after = report["replaced"]
    if report.get("districts") is None:
        text = _t("replaced", language).format(layer=layer, before=before, after=after)
    else:
        districts = dataset.units["district"]
        column = "name_en" if language != "zh" and "name_en" in districts else "name"
        names = [str(districts[column].get(code, code)) for code in report["districts"]]
        text = _t("merged", language).format(
            layer=layer, districts=("、".join(names) if language == "zh" else ", ".join(names)),
            before=before, after=after, kept=report.get("kept", 0))
    note = importers.datum_note(report, language)
    return f"{text}\n\n{note}{'。' if language == 'zh' else '.'}" if note else text


def render(plan: Plan, language: str) -> None:
    st.subheader(_t("heading", language))
    st.caption(_t("intro", language))
    st.caption(_t("limit", language).format(mb=upload_limit_mb()))
    key, dataset = data.current_dataset()
    name = t("default_dataset" if key == data.DEFAULT_KEY else "uploaded_dataset", language)
    st.markdown(f"{_t('current', language)}: **{name}** (`{key[:19]}`)")
    flash = st.session_state.pop(FLASH, None)
    if flash is not None:
        name, problems, replaced = flash
        st.success(_t("ok", language) + plain(name))
        if replaced is not None:
            st.info(replaced)
        if problems:
            st.warning(_t("warnings", language))
            st.dataframe(problems_frame(problems, language), hide_index=True, width="stretch",
                         key="data_warnings")
    if key != data.DEFAULT_KEY and st.button(_t("reset", language), key="data_reset"):
        st.session_state.pop(data.UPLOAD_STATE, None)
        st.rerun()
    what = st.radio(_t("what", language), KINDS, key="data_what",
                    format_func=lambda w: " · ".join(pair(f"data.{w}")))
    kind = datum = None
    level, scope = "street", "district"
    if what == "facilities":
        kind = st.selectbox(_t("kind", language), list(plan.kinds), key="data_kind",
                            format_func=lambda k: (f"{plan.kinds[k].name_zh} · "
                                                   f"{plan.kinds[k].name_en}"))
        datum = st.selectbox(_t("datum", language), DATUMS, key="data_datum")
        scope = st.radio(_t("replace", language), importers.REPLACE_SCOPES, key="data_replace",
                         format_func=lambda s: _t(f"replace_{s}", language))
    else:
        level = st.radio(_t("level", language), ["street", "district"], key="data_level",
                         horizontal=True)
    upload = st.file_uploader(_t("file", language), key="data_file",
                              type=["csv", "xlsx", "geojson", "json", "gpkg", "zip", "parquet"])
    if upload is None or not st.button(_t("check", language), key="data_check", type="primary"):
        return
    payload = upload.getvalue()
    result, changed = importers.load_upload(dataset, plan, what=what, name=upload.name, payload=payload,
                                            kind=kind, datum=datum, level=level, replace=scope)
    if changed is None:
        st.error(_t("failed", language))
        st.dataframe(problems_frame(result.problems, language), hide_index=True, width="stretch",
                     key="data_problems")
        return
    st.session_state[data.UPLOAD_STATE] = (upload_key(key, what=what, kind=kind, datum=datum,
                                                      level=level, payload=payload, replace=scope),
                                           changed)
    replaced = None
    if what == "facilities" and "replaced" in result.report:
        replaced = register_summary(result.report, plan.kinds[kind], dataset, language)
    st.session_state[FLASH] = (upload.name, result.problems, replaced)
    st.rerun()  # every section now shows the new data
