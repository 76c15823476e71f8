"""The app in a real headless browser with no network: polygons drawn, legend, table, English.

Drives Debian's chromium through Playwright (no browser download); skips cleanly when chromium
or Playwright is missing.  Every request that is not to localhost is aborted, so the test proves
the map renders offline.  Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
import time

import pytest

from .browser_support import ARTIFACTS, MAP_FRAME, REPO, chromium_browser, offline_page, streamlit_server
from .browser_support import map_frame as _map

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server():
    # Started as `make run` starts it (ui.serve warms the data and imports first).
    with streamlit_server(REPO / "app.py", warm=True) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as chromium:
        yield chromium


def _polygons(page):
    return _map(page).locator("path.leaflet-interactive")


def _wait_for_polygons(page, minimum: int, timeout_s: float = 90.0) -> int:
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        try:
            count = _polygons(page).count()
        except Exception:  # noqa: BLE001 - the iframe may be re-mounting
            count = 0
        if count >= minimum:
            return count
        page.wait_for_timeout(250)
    raise AssertionError(f"only {count} polygons drawn, expected at least {minimum}")


def _choose(page, label: str, option: str) -> None:
    """Pick the option containing ``option`` in the selectbox whose label is ``label``."""
    page.get_by_label(label).first.click()
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()


def test_map_table_and_language_in_a_browser_without_network(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    try:
        started = time.monotonic()
        page.goto(server, wait_until="domcontentloaded")
        # Street level by default: 331 streets plus the district outlines' paths.
        count = _wait_for_polygons(page, 300, timeout_s=120)
        first_load = time.monotonic() - started
        legend = _map(page).locator(".geo-coverage-legend")
        legend.wait_for(timeout=10_000)
        # The legend starts folded on a narrow map; its text is there all the same.
        assert "目标" in legend.text_content()
        assert "近似" not in legend.text_content()  # real street outlines: no "approximate" note
        page.get_by_text("缺口排名", exact=True).wait_for(timeout=30_000)
        rows = page.locator('[data-testid="stDataFrame"]')
        assert rows.count() >= 1
        page.get_by_text("合成演示数据", exact=False).first.wait_for(timeout=10_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "app_zh_street.png"), full_page=True)

        # Clicking a street opens its card (st_folium hands back the clicked feature's code).
        _polygons(page).nth(150).click(force=True)
        page.get_by_text("人口来源").first.wait_for(timeout=60_000)
        _map(page).locator(".geo-coverage-legend").wait_for(timeout=60_000)
        _wait_for_polygons(page, 300)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "app_zh_unit_card.png"), full_page=True)

        # A mark in the map's page: an indicator switch swaps layers in the same map, it does
        # not reload it.
        page.locator(MAP_FRAME).last.content_frame.locator("body").evaluate(
            "body => { window.geoCoverageMark = 'still here'; }")
        started = time.monotonic()
        _choose(page, "指标", "每千人口拥有3岁以下婴幼儿托位数")
        page.get_by_text("每千人口拥有3岁以下婴幼儿托位数 · C4.g2", exact=False).first.wait_for(
            timeout=60_000)
        _map(page).locator(".geo-coverage-legend", has_text="婴幼儿托位数").wait_for(
            timeout=60_000)
        _wait_for_polygons(page, 300)
        switch = time.monotonic() - started
        assert _map(page).locator(".geo-coverage-legend").count() == 1  # the old one left
        assert page.locator(MAP_FRAME).last.content_frame.locator("body").evaluate(
            "body => window.geoCoverageMark") == "still here"
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "app_zh_childcare.png"), full_page=True)

        page.get_by_text("English", exact=True).click()
        page.get_by_text("Ranked gaps", exact=True).wait_for(timeout=60_000)
        legend = _map(page).locator(".geo-coverage-legend", has_text="Target")
        legend.wait_for(timeout=60_000)
        assert "Childcare places" in legend.text_content()
        _wait_for_polygons(page, 300)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "app_en_childcare.png"), full_page=True)
        # The Data tab: a register with two mistakes in row 3 lists both, with a fix each.
        page.get_by_role("tab", name="数据 · Data").click()
        page.get_by_text("Bring your own data").wait_for(timeout=30_000)
        register = ARTIFACTS / "bad_register.csv"
        register.write_bytes("编号,名称,经度,纬度,床位,护理型床位,医养结合\n"
                             "X1,甲,116.40,39.91,50,40,是\nX2,乙,abc,39.91,-3,1,否\n"
                             .encode("gbk"))
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(register))
        page.get_by_role("button", name="Check and load").click()
        page.get_by_text("The file has errors and was not loaded", exact=False).wait_for(
            timeout=30_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "app_en_data_problems.png"), full_page=True)
        (ARTIFACTS / "browser_timing.txt").write_text(
            f"first load to {count} polygons: {first_load:.2f} s\n"
            f"indicator switch to polygons: {switch:.2f} s\n", encoding="utf-8")
    finally:
        page.close()
    assert blocked == [], blocked  # nothing outside localhost was even asked for
