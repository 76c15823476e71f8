"""Assessment reports: the .docx holds monitor's numbers, the PDF embeds its Chinese font and holds
the findings, and the mid-term report of 朝阳区 on the embedded demo years is written end to end."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from geo_coverage.cli import main
from geo_coverage.dataset import load_dataset
from geo_coverage.monitor import series_from_datasets
from geo_coverage.monitor.assess import build_assessment
from geo_coverage.monitor.findings import finding
from geo_coverage.monitor.report_files import report_bytes
from geo_coverage.plan import default_plan

from .conftest import poppler
from .test_monitor_cli import year_dirs  # noqa: F401  (the three hand-made year folders)

docx = pytest.importorskip("docx")


_poppler = poppler


def _pdf_text(path) -> str:
    text = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.sub(r"\s+", "", text)


def _pdf_pages(path) -> int:
    info = subprocess.run(
        [_poppler("pdfinfo"), str(path)], capture_output=True, text=True, check=True
    ).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def _pdf_fonts(path) -> list[list[str]]:
    listing = subprocess.run(
        [_poppler("pdffonts"), str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    return [line.split() for line in listing if line.strip()]


def _docx_tables(path) -> list[list[list[str]]]:
    document = docx.Document(str(path))
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


@pytest.fixture(scope="module")
def tiny_assessment(year_dirs):  # noqa: F811
    plan = default_plan()
    datasets = {year: load_dataset(folder) for year, folder in year_dirs.items()}
    series = series_from_datasets(datasets, plan)
    latest = datasets[2023]
    return build_assessment(
        series,
        plan,
        stage="midterm",
        year=2023,
        district="110001",
        origin="test folders",
        units=latest.units,
        names_en=latest.units["district"]["name_en"].dropna().to_dict()
        if "name_en" in latest.units["district"]
        else {},
    )


def test_docx_tables_hold_monitors_numbers(tiny_assessment, tmp_path):
    path = tmp_path / "r.docx"
    path.write_bytes(report_bytes(tiny_assessment, "docx"))
    tables = _docx_tables(path)
    beds = next(row for table in tables for row in table if row[0] == "千人常住人口养老床位数")
    row = tiny_assessment.monitored.set_index(["level", "indicator"]).loc[
        ("district", "elderly_beds_per_1000")
    ]
    # 甲区: 5.0 in 2021, 6.5 in 2023, target 7, projection 8.08, needs 0.25 a year, gains 0.75
    assert beds[1:8] == [
        "5.00",
        "6.50",
        "7.00",
        f"{row['projected']:.2f}",
        "0.25",
        "0.75",
        "预计达标",
    ]
    assert f"{row['projected']:.2f}" == "8.08"
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "合成演示数据" in text  # the synthetic fixture is said to be so
    assert finding(row, default_plan().indicator("elderly_beds_per_1000"), default_plan()) in text


def test_pdf_embeds_its_cjk_font_and_holds_the_findings(tiny_assessment, tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(report_bytes(tiny_assessment, "pdf"))
    fonts = _pdf_fonts(path)
    assert fonts and all(line[-5] == "yes" for line in fonts), fonts  # every font embedded
    assert any("WenQuanYi" in line[0] and line[1] == "TrueType" for line in fonts)
    assert 3 <= _pdf_pages(path) <= 20
    text = _pdf_text(path)
    row = tiny_assessment.monitored.set_index(["level", "indicator"]).loc[
        ("district", "elderly_beds_per_1000")
    ]
    sentence = finding(row, default_plan().indicator("elderly_beds_per_1000"), default_plan())
    assert re.sub(r"\s+", "", sentence) in text
    assert "甲区" in text and "8.08" in text


def test_english_report(tiny_assessment, tmp_path):
    path = tmp_path / "r.docx"
    path.write_bytes(report_bytes(tiny_assessment, "docx", lang="en"))
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "Mid-term assessment report" in text and "SYNTHETIC" in text
    assert "on the current trend 2025 would reach 8.08" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--stage", "midterm", "--year", "2023", "--out", "r.txt"], "report.docx"),
        (["--stage", "midterm", "--year", "2031", "--out", "r.docx"], "no snapshot for 2031"),
        (
            ["--stage", "midterm", "--year", "2023", "--district", "999999", "--out", "r.docx"],
            "999999",
        ),
    ],
)
def test_assess_bad_input_exits_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["assess", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing written


def test_chaoyang_midterm_report_end_to_end(tmp_path, capsys):
    """The issue's check: the mid-term report of 朝阳区 for 2023 on the embedded demo years, as .docx
    and .pdf, holds 朝阳区 and the values `monitor` reports."""
    assert main(["monitor", "--until", "2023", "--level", "district", "--format", "json"]) == 0
    mandates = {
        ind.id for ind in default_plan().indicators
    }  # the report leaves out 2SFCA companions
    rows = [
        r
        for r in json.loads(capsys.readouterr().out)
        if r["unit_code"] == "110105" and r["indicator"] in mandates
    ]
    beds = next(r for r in rows if r["indicator"] == "elderly_beds_per_1000")
    docx_path, pdf_path = tmp_path / "chaoyang.docx", tmp_path / "chaoyang.pdf"
    # both files from one run (one evaluation of the demo years)
    argv = ["assess", "--stage", "midterm", "--year", "2023", "--district", "110105"]
    assert main([*argv, "--out", str(docx_path), "--out", str(pdf_path)]) == 0
    tables = _docx_tables(docx_path)
    table_row = next(row for table in tables for row in table if row[0] == "千人常住人口养老床位数")
    assert table_row[2:5] == [
        f"{beds['value_last']:.2f}",
        f"{beds['target']:.2f}",
        f"{beds['projected']:.2f}",
    ]
    pdf_text = _pdf_text(pdf_path)
    docx_text = "".join(p.text for p in docx.Document(str(docx_path)).paragraphs)
    docx_text += "".join(cell for table in tables for row in table for cell in row)
    for text in (pdf_text, re.sub(r"\s+", "", docx_text)):
        assert "朝阳区" in text and "中期评估报告" in text and "合成演示数据" in text
        assert "内置演示年份2020—2023年（2020年为基期，其后各年为合成数据）" in text  # the cover's data line
        for row in rows:
            if row["value_last"] is not None and row["year_last"] == 2023:
                assert f"{row['value_last']:.2f}" in text, row["indicator"]
    assert 5 <= _pdf_pages(pdf_path) <= 30


def test_assess_refuses_outputs_before_evaluating(year_dirs, tmp_path, capsys):  # noqa: F811
    """An --out into an input year folder, into a missing folder, or named twice; an empty year
    folder, a bad YEAR=DIR and a year given twice: exit 2, a message, the inputs untouched."""
    dirs = [
        item
        for year, folder in year_dirs.items()
        for item in ("--snapshot-dir", f"{year}={folder}")
    ]
    layer = year_dirs[2023] / "layers" / "elderly_care.geojson"
    before = {path: path.read_bytes() for folder in year_dirs.values() for path in folder.rglob("*")
              if path.is_file()}
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["assess", "--stage", "midterm", "--year", "2023"]
    cases = [
        ([*dirs, "--out", str(layer.with_suffix(".pdf"))], "would write into the input"),
        ([*dirs, "--out", str(tmp_path / "missing" / "r.docx")], "does not exist"),
        ([*dirs, "--out", str(tmp_path / "r.pdf"), "--out", str(tmp_path / "r.pdf")], "twice"),
        (["--snapshot-dir", f"2021={empty}", *dirs[2:], "--out", str(tmp_path / "r.pdf")],
         "No district boundaries"),
        (["--snapshot-dir", f"2021:{year_dirs[2021]}", "--out", str(tmp_path / "r.pdf")],
         "YEAR=DIR"),
        (["--snapshot-dir", f"2023={year_dirs[2021]}", *dirs, "--out", str(tmp_path / "r.pdf")],
         "2023 twice"),
    ]
    for extra, message in cases:
        code = main([*argv, *extra])
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err, (extra, err)
    assert not (tmp_path / "r.pdf").exists() and not layer.with_suffix(".pdf").exists()
    after = {path: path.read_bytes() for folder in year_dirs.values() for path in folder.rglob("*")
             if path.is_file()}
    assert after == before
