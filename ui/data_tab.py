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

from . import data
from .i18n import plain, t

KINDS = importers.UPLOAD_KINDS
FLASH = "data_loaded"  # session_state: (file name, problems) of the upload just loaded
DATUMS = ("wgs84", "gcj02", "bd09")
_TEXT = {
    "heading": ("上传自有数据", "Bring your own data"),
    "intro": ("上传的文件只在本次会话中使用，不会写入项目目录。校验规则与命令行 `geo-coverage validate` 相同。",
              "Uploaded files are used in this session only and never written into the project. "
              "The checks are those of `geo-coverage validate`."),
    "limit": ("每个文件不超过 {mb} MB（服务器设置 server.maxUploadSize）；更大的文件请用命令行 "
              "`geo-coverage import`（不超过 200 MB）。",
              "Files up to {mb} MB each (the server's server.maxUploadSize); for larger files use "
              "`geo-coverage import` on the command line (up to 200 MB)."),
    "what": ("文件类型", "What the file holds"),
    "facilities": ("设施登记表（CSV/XLSX）", "Facility register (CSV/XLSX)"),
    "population": ("人口表（CSV/XLSX，按单位代码）", "Population table (CSV/XLSX, by unit code)"),
    "boundaries": ("边界（GeoJSON/GPKG/Shapefile zip/GeoParquet）",
                   "Boundaries (GeoJSON/GPKG/zipped Shapefile/GeoParquet)"),
    "kind": ("设施类型", "Facility kind"),
    "datum": ("坐标系（高德/腾讯为 GCJ-02，百度为 BD-09）", "Datum (Amap/Tencent: GCJ-02, Baidu: BD-09)"),
    "level": ("层级", "Level"),
    "file": ("选择文件", "Choose a file"),
    "check": ("校验并载入", "Check and load"),
    "ok": ("校验通过，已载入本次会话的数据集：", "Checks passed; loaded into this session's dataset: "),
    "failed": ("文件有错误，未载入。请按下表修改后重新上传。",
               "The file has errors and was not loaded. Fix them as listed and upload again."),
    "warnings": ("有提示（不影响载入）：", "Warnings (loaded anyway):"),
    "replaced": ("上传的登记表替换了本次会话中「{layer}」图层的全部 {before:,} 处设施，现为 {after:,} 处；"
                 "其他图层不变。可点击“恢复内置默认数据”撤销。",
                 "The register replaced all {before:,} facilities of the '{layer}' layer in this session; "
                 "it now holds {after:,}. Other layers are unchanged. 'Back to the embedded default' undoes it."),
    "merged": ("上传的登记表替换了「{layer}」图层中{districts}的 {before:,} 处设施"
               "（现为 {after:,} 处）；其他各区的 {kept:,} 处设施保留不变。"
               "可点击“恢复内置默认数据”撤销。",
               "The register replaced the {before:,} facilities of the '{layer}' layer in {districts} "
               "(now {after:,}); the other districts keep their {kept:,}. 'Back to the embedded "
               "default' undoes it."),
    "replace": ("上传的登记表替换", "The register replaces"),
    "replace_district": ("所含各区的设施（其他区保留，推荐）",
                         "the facilities of the districts it covers (others kept; recommended)"),
    "replace_layer": ("整个图层（全市）", "the whole layer (every district)"),
    "reset": ("恢复内置默认数据", "Back to the embedded default"),
    "current": ("当前数据集", "Current dataset"),
    "severity": ("级别", "Severity"),
    "severity_error": ("错误", "error"), "severity_warning": ("提示", "warning"),
    "where_file": ("文件", "File"), "row": ("行", "Row"),
    "column": ("列", "Column"), "message": ("问题", "Problem"), "fix": ("修改建议", "Fix"),
}


def upload_limit_mb() -> int:
    """The upload limit in force (``server.maxUploadSize`` in .streamlit/config.toml), in MB."""
    return int(st.get_option("server.maxUploadSize"))


def _t(key: str, language: str) -> str:
    zh, en = _TEXT[key]
    return zh if language == "zh" else en


def problems_frame(problems, language: str) -> pd.DataFrame:
    """Every problem as a table row: severity, file, row, column, message, fix."""
    rows = [p.to_dict() for p in sorted(problems, key=lambda p: p.severity != "error")]
    frame = pd.DataFrame(rows, columns=["severity", "file", "row", "column", "message", "fix"])
    frame["row"] = frame["row"].astype("Int64")
    frame["severity"] = frame["severity"].map(lambda v: _t(f"severity_{v}", language)
                                              if f"severity_{v}" in _TEXT else v)
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
                    format_func=lambda w: " · ".join(_TEXT[w]))
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
