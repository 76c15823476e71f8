"""Many planners on one server: caches keyed by content, each session's data its own.

The app is one process serving every session in threads, and ``st.cache_data`` /
``st.cache_resource`` are shared by all of them.  These tests run two (and three) AppTest sessions
of the real app.py in one process, so they share the caches exactly as browser sessions of one
server do.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from ui import data, data_tab

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"
TIMEOUT = 300
COVERAGE, DATA = "覆盖与缺口 · Coverage", "数据 · Data"
STREET = "110101001"  # 东华门街道


def _callers_of_id(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "id"
    ]


def test_no_cache_key_is_an_object_id():
    """The app never keys anything by ``id()``: an id is reused once its object dies, so a key
    built from it can hand one session's cached table to another."""
    found = [
        hit for path in [APP, *sorted((REPO / "ui").glob("*.py"))] for hit in _callers_of_id(path)
    ]
    assert found == []


def test_upload_key_is_the_content():
    common = {"what": "facilities", "kind": "elderly_care", "datum": "wgs84", "level": "street"}
    a = data_tab.upload_key("default", payload=b"x,y\n1,2\n", **common)
    assert a == data_tab.upload_key(
        "default", payload=b"x,y\n1,2\n", **common
    )  # same bytes, same key
    assert a != data_tab.upload_key("default", payload=b"x,y\n1,3\n", **common)
    assert a != data_tab.upload_key(
        "default", payload=b"x,y\n1,2\n", **{**common, "datum": "gcj02"}
    )
    assert a != data_tab.upload_key(
        a, payload=b"x,y\n1,2\n", **common
    )  # loaded into another dataset
    assert len(a) == len("upload-") + 64


def test_the_upload_limit_is_set_and_said_on_the_page():
    import tomllib

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    limit = config["server"]["maxUploadSize"]
    assert limit == 50
    assert f"{limit} MB" in data_tab._t("limit", "en").format(mb=limit)


def _register(beds: int) -> bytes:
    from geo_coverage.dataset import load_dataset

    street = load_dataset().units["street"].loc[[STREET]]
    point = street.representative_point().to_crs(4326).iloc[0]
    return (
        f"编号,名称,经度,纬度,床位,护理型床位,医养结合\n"
        f"X1,会话{beds},{point.x:.6f},{point.y:.6f},{beds},0,否\n"
    ).encode()


def _upload(at, name: str, payload: bytes):
    at.session_state["section"] = DATA
    at.run()
    at.radio(key="data_what").set_value("facilities").run()
    at.selectbox(key="data_kind").set_value("elderly_care")
    at.selectbox(key="data_datum").set_value("wgs84")
    at.file_uploader(key="data_file").set_value((name, payload, "text/csv"))
    at.run()
    at.button(key="data_check").click().run()
    assert not at.exception, [e.message for e in at.exception]
    key, dataset = at.session_state[data.UPLOAD_STATE]
    at.session_state["section"] = COVERAGE
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return key, dataset


def _gap_codes(at) -> set[str]:
    tables = [df.value for df in at.dataframe if "排名" in df.value.columns]
    assert tables, "no gap table"
    return set(tables[0]["代码"].astype(str))


@pytest.mark.slow
def test_two_sessions_with_different_uploads_never_share_a_result():
    """Session A uploads one care home of 10,000 beds in 东华门街道, session B one of 1 bed at
    the same place, a third session uploads A's bytes again.  Each sees its own data in the gap
    list (A's street meets 7 beds per 1,000 residents, B's does not), the third shares A's cached
    result (same content, same key), and nobody's scenario name leaks."""
    from streamlit.testing.v1 import AppTest

    sessions = [AppTest.from_file(str(APP), default_timeout=TIMEOUT) for _ in range(3)]
    for at in sessions:
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    a, b, c = sessions
    key_a, dataset_a = _upload(a, "a.csv", _register(10_000))
    key_b, dataset_b = _upload(b, "b.csv", _register(1))
    key_c, dataset_c = _upload(c, "c.csv", _register(10_000))
    assert key_a != key_b and key_c == key_a
    # Each register replaced 东城区's homes (the district it covers); other districts keep theirs.
    for dataset, beds in ((dataset_a, 10_000), (dataset_b, 1)):
        layer = dataset.layer("elderly_care")
        assert layer.loc[layer["district_code"] == "110101", "beds"].tolist() == [beds]
        assert (layer["district_code"] != "110101").sum() == (
            (data.default_dataset().layer("elderly_care")["district_code"] != "110101").sum())
    for at in sessions:
        at.radio(key="level").set_value("street").run()
    assert STREET not in _gap_codes(a) and STREET not in _gap_codes(c)
    assert STREET in _gap_codes(b)
    # The two sessions' data differ only in that home: the gap lists differ by that one street.
    assert len(_gap_codes(b)) == len(_gap_codes(a)) + 1
    # Back and forth: after B's run, A still sees its own (cached) result.
    a.run()
    assert STREET not in _gap_codes(a)
    # Scenario names are per session.
    a.session_state["section"] = "情景 · Scenario"
    a.run()
    a.text_input(key="scenario_name").set_value("A 的情景").run()
    b.session_state["section"] = "情景 · Scenario"
    b.run()
    assert b.text_input(key="scenario_name").value != "A 的情景"
    assert not a.exception and not b.exception
    assert isinstance(a.session_state[data.UPLOAD_STATE][1].layer("elderly_care"), pd.DataFrame)
