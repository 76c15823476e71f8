"""The printed coverage map (viz.static.coverage_sheet, `geo-coverage map`): colours, legend,
scale bar, north arrow, source note, and PNG/PDF files with Chinese text embedded."""

from __future__ import annotations

import io
import re
import subprocess

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from geo_coverage.cli import main
from geo_coverage.coverage import evaluate
from geo_coverage.plan import default_plan
from geo_coverage.viz import static

from .conftest import poppler

_poppler = poppler


def _pdf_text(path) -> str:
    text = subprocess.run([_poppler("pdftotext"), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def _texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]


@pytest.fixture
def plan():
    return default_plan()


@pytest.fixture
def beds_table(tiny_city, plan):
    return evaluate(tiny_city, plan, levels=["street", "district"],
                    indicators=["elderly_beds_per_1000"])


def test_units_coloured_by_value_over_target(tiny_city, plan, beds_table):
    # Target 7 beds per 1,000.  A1: 10 beds / 1,000 people = 10 → 1.43 × target (1.25–2, blue);
    # A2: 5 / 2,000 = 2.5 → 0.36 × (below half, dark red); B1: 30 / 3,000 = 10 → blue;
    # B2: nobody lives there → no data (grey).
    figure = static.coverage_sheet(tiny_city, plan, beds_table, indicator="elderly_beds_per_1000",
                                   level="street", date="2026-01-02")
    axes = figure.axes[0]
    faces = axes.collections[0].get_facecolors()
    expected = [to_rgba(c) for c in ("#67a9cf", "#b2182b", "#67a9cf", "#bdbdbd")]
    order = list(tiny_city.units["street"].index)
    assert order == ["110001001", "110001002", "110002001", "110002002"]
    np.testing.assert_allclose(faces, expected, atol=1e-6)
    texts = _texts(figure)
    assert "千人常住人口养老床位数（W5.m5）" in texts
    assert "北" in texts  # north arrow
    assert "千米" in texts or "米" in texts  # scale bar unit
    legend = figure.axes[1].get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[-2:] == ["无数据", "区界"]
    assert "目标 ≥ 7.00 张/千人" in legend.get_title().get_text()
    assert any("合成演示数据" in t for t in texts)


def test_scale_bar_length_is_round():
    assert static._nice_length(170_000) == 20_000  # a fifth is 34 km → 20 km
    assert static._nice_length(4_000) == 500
    assert static._nice_length(26_000) == 5_000


def test_source_lines_say_where_numbers_come_from(tiny_city, plan):
    spec = plan.indicator("elderly_beds_per_1000")
    zh = static.source_lines(tiny_city, plan, spec, "street", language="zh", date="2026-01-02")
    assert zh[0] == "数据来源与说明"
    assert "人口（街道/乡镇）：估算值（按各区普查总数校准）。" in zh
    assert "设施（养老机构）：合成演示数据，并非真实统计，不可作为正式依据。" in zh
    assert zh[-1].startswith("制图：geo-coverage，2026-01-02；坐标系 WGS 84 / UTM zone 50N")
    en = static.source_lines(tiny_city, plan, spec, "district", language="en", date="2026-01-02")
    assert "Population (districts): 2020 national census." in en
    assert any("SYNTHETIC demo data" in line for line in en)
    # A count indicator reads no population: no population line.
    count = plan.indicator("neonatal_centres_per_district")
    assert not any("人口" in line for line in
                   static.source_lines(tiny_city, plan, count, "district", language="zh"))


def test_one_district_is_zoomed_and_labelled(tiny_city, plan, beds_table):
    figure = static.coverage_sheet(tiny_city, plan, beds_table, indicator="elderly_beds_per_1000",
                                   level="street", district="110002", language="en")
    axes = figure.axes[0]
    assert len(axes.collections[0].get_facecolors()) == 2  # B1 and B2 only
    xmin, xmax = axes.get_xlim()
    assert xmin > 440_000 + 1_900  # district B starts 2 km east
    texts = _texts(figure)
    assert "乙一街道" in texts and "甲一街道" not in texts  # no English names in the fixture
    assert "Elderly-care beds per 1,000 residents (W5.m5)" in texts


def test_cli_writes_png_and_pdf_with_embedded_chinese_font(tiny_city_dir, tmp_path):
    png, pdf = tmp_path / "map.png", tmp_path / "map.pdf"
    for out in (png, pdf):
        assert main(["map", "--indicator", "elderly_beds_per_1000", "--level", "street",
                     "--data", str(tiny_city_dir), "--out", str(out), "--dpi", "100"]) == 0
    from PIL import Image

    image = Image.open(io.BytesIO(png.read_bytes()))
    assert image.size == pytest.approx((int(27.7 / 2.54 * 100), int(19.0 / 2.54 * 100)), abs=2)
    fonts = subprocess.run([_poppler("pdffonts"), str(pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    cjk = [line.split() for line in fonts if "WenQuanYi" in line or "CJK" in line]
    assert cjk and all(row[-5] == "yes" for row in cjk), fonts  # the "emb" column
    text = _pdf_text(pdf)
    assert "千人常住人口养老床位数（W5.m5）" in text
    assert "设施（养老机构）：合成演示数据，并非真实统计，不可作为正式依据。" in text
    assert "人口（街道/乡镇）：估算值（按各区普查总数校准）。" in text


def test_cli_map_refuses_bad_requests(tiny_city_dir, tmp_path, capsys):
    out = str(tmp_path / "m.svg")
    assert main(["map", "--indicator", "elderly_beds_per_1000", "--data", str(tiny_city_dir),
                 "--out", out]) == 2
    assert "Use a .png or .pdf file name" in capsys.readouterr().err
    assert main(["map", "--indicator", "neonatal_centres_per_district", "--level", "street",
                 "--data", str(tiny_city_dir), "--out", str(tmp_path / "m.png")]) == 2
    assert "--level district" in capsys.readouterr().err
    assert main(["map", "--indicator", "elderly_beds_per_1000", "--district", "999",
                 "--data", str(tiny_city_dir), "--out", str(tmp_path / "m.png")]) == 2
    assert "No district '999'" in capsys.readouterr().err
