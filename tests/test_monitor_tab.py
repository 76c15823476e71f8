"""The Monitoring tab driven with AppTest on the three hand-made years: statuses, warnings, the
synthetic notice, and downloads that are the bytes `geo-coverage monitor` writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from geo_coverage.cli import main as cli_main

from .test_app import _RecordingManager
from .test_monitor_cli import year_dirs  # noqa: F401

APP = Path(__file__).resolve().parent / "monitor_tab_app.py"
TIMEOUT = 120


@pytest.fixture
def app(year_dirs, monkeypatch):  # noqa: F811
    spec = ";".join(f"{year}={folder}" for year, folder in year_dirs.items())
    monkeypatch.setenv("MONITOR_TAB_DIRS", spec)
    monkeypatch.setattr(app_test_module, "MediaFileManager", _RecordingManager)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _download(at, key: str) -> bytes:
    protos = [b.proto for b in at.get("download_button") if b.proto.id.endswith(key)]
    assert protos, f"no {key} button"
    manager = _RecordingManager.latest
    url = manager.execute_deferred(protos[0].deferred_file_id)
    return manager.storage.get_file(url.rsplit("/", 1)[1]).content


def test_tab_shows_statuses_and_ranked_warnings(app):
    at = app
    assert any("SYNTHETIC" in w.value for w in at.warning)  # the fixture's layers are synthetic
    metrics = {m.label: m.value for m in at.metric}
    # 甲区 on track (6.5 now, 8.08 projected), 乙区 off track (6.6 now, 2.43 projected)
    assert metrics["on track"] == "1" and metrics["off track"] == "1" and metrics["met"] == "0"
    warnings = at.dataframe[0].value
    assert list(warnings["Unit"]) == ["乙区"]
    assert warnings["Projected"].iloc[0] == pytest.approx(2.43, abs=0.005)
    assert warnings["Volatile"].iloc[0] == "⚠"
    assert len(at.get("imagelist")) >= 2 or len(at.get("image")) >= 2  # map and trend chart


def test_street_level_and_all_indicators(app):
    at = app
    at.radio(key="monitor_level").set_value("street").run()
    assert not at.exception
    at.checkbox(key="monitor_all_indicators").check().run()
    warnings = at.dataframe[0].value
    assert warnings["Indicator"].nunique() > 1


def test_downloads_are_the_bytes_the_cli_writes(app, year_dirs, tmp_path):  # noqa: F811
    args = [item for year, folder in year_dirs.items() for item in ("--snapshot-dir", f"{year}={folder}")]
    for fmt in ("csv", "json", "xlsx"):
        out = tmp_path / f"monitor.{fmt}"
        assert cli_main(["monitor", *args, "--format", fmt, "--out", str(out)]) == 0
        assert _download(app, f"monitor_download_{fmt}") == out.read_bytes(), fmt


def test_up_to_a_year_is_monitor_until(app, year_dirs, tmp_path):  # noqa: F811
    at = app
    at.select_slider(key="monitor_until").set_value(2022).run()
    assert not at.exception
    args = [item for year, folder in year_dirs.items() for item in ("--snapshot-dir", f"{year}={folder}")]
    out = tmp_path / "monitor.csv"
    assert cli_main(["monitor", *args, "--until", "2022", "--format", "csv", "--out", str(out)]) == 0
    assert _download(at, "monitor_download_csv") == out.read_bytes()


def test_report_download_opens_in_word(app, tmp_path):
    import docx

    path = tmp_path / "r.docx"
    path.write_bytes(_download(app, "monitor_report_docx"))
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "City · Annual monitoring report (2023)" in text  # the defaults: city, annual, latest year


@pytest.mark.slow
def test_the_app_has_the_tab_on_the_demo_years():
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=600)
    at.run()
    at.session_state["section"] = "监测 · Monitoring"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("合成数据" in w.value for w in at.warning)
    metrics = {m.label: int(m.value) for m in at.metric}
    assert sum(metrics.values()) == 16 or sum(metrics.values()) == 331  # every district (or street)
    assert not at.dataframe[0].value.empty  # elderly beds per 1,000 is off track in some districts
