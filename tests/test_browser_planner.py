"""A planner's round at 1366 × 768 in a real headless browser, offline, on the embedded default:
find a street by name (the map zooms to it and outlines it, its card opens, the address records
it), add a care home there on the Scenario tab, and read the table of units whose value changed.

Skips cleanly without chromium or Playwright (see tests/browser_support.py)."""

from __future__ import annotations

import time

import pytest
import shapely

from .browser_support import (
    ARTIFACTS,
    MAP_FRAME,
    REPO,
    chromium_browser,
    offline_page,
    streamlit_server,
)
from .browser_support import map_frame as _map

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STREET, CODE = "燕园街道", "110108015"


@pytest.fixture(scope="module")
def server():
    with streamlit_server(REPO / "app.py", warm=True) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as chromium:
        yield chromium


def _inside_point() -> tuple[float, float]:
    """A point well inside the street (WGS84), from the embedded outlines."""
    from geo_coverage import io

    streets = io.read_vector(REPO / "boundaries" / "streets.parquet")
    outline = streets.loc[streets["code"] == CODE, "geometry"].iloc[0]
    point = shapely.point_on_surface(outline)
    return round(point.x, 6), round(point.y, 6)


def _wait_polygons(page, minimum: int, timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        try:
            count = _map(page).locator("path.leaflet-interactive").count()
        except Exception:  # noqa: BLE001 - the iframe may be mounting
            count = 0
        if count >= minimum:
            return count
        page.wait_for_timeout(200)
    raise AssertionError(f"only {count} polygons drawn")


def test_find_a_street_add_a_care_home_and_read_what_changed(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    page = offline_page(browser, blocked)
    page.set_viewport_size({"width": 1366, "height": 768})
    try:
        page.goto(server, wait_until="domcontentloaded")
        _wait_polygons(page, 300)
        # The legend starts folded on a map this narrow: one line, not 40 % of the map.
        legend = _map(page).locator(".geo-coverage-legend details")
        legend.wait_for(state="attached", timeout=30_000)
        assert legend.evaluate("d => d.open") is False

        # Find the street by typing part of its name.
        page.get_by_label("查找单元（地图缩放到该处）").first.click()
        page.keyboard.type("燕园")
        page.get_by_role("option", name=STREET, exact=False).first.click()
        # The map outlines it (a black 3.5 px line) and zooms in far enough for street names.
        outline = _map(page).locator('path[stroke="#000000"][stroke-width="3.5"]')
        outline.wait_for(timeout=60_000)
        label = _map(page).locator(".geo-coverage-label", has_text=STREET)
        label.first.wait_for(timeout=30_000)
        page.get_by_text("人口来源").first.wait_for(timeout=60_000)  # its card opened
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and f"unit={CODE}" not in page.url:
            page.wait_for_timeout(200)
        assert f"unit={CODE}" in page.url and "indicator=elderly_beds_per_1000" in page.url
        page.locator(MAP_FRAME).last.scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "planner_search.png"))

        # The Scenario tab: 100 beds at a point inside the street (the form's defaults: elderly
        # care, 100 beds, WGS84).
        lon, lat = _inside_point()
        page.get_by_role("tab", name="情景 · Scenario").click()
        page.get_by_label("经度", exact=True).first.wait_for(timeout=60_000)
        for name, value in (("经度", lon), ("纬度", lat)):
            field = page.get_by_label(name, exact=True).first
            field.fill(f"{value:.6f}")
            field.press("Enter")
            page.wait_for_timeout(400)
        page.get_by_role("button", name="添加", exact=True).click()
        # The changed-units table for the tab's indicator and level (the sidebar's: streets).
        page.get_by_text(
            "数值改变的单元 · 千人常住人口养老床位数 · 街道/乡镇", exact=False
        ).first.wait_for(timeout=120_000)
        # Data frames draw on a canvas; their cells are in the page as hidden grid cells.
        table = page.locator('[data-testid="stDataFrame"]').filter(
            has=page.get_by_text("情景值（张/千人）", exact=True)
        )
        table.first.wait_for(state="attached", timeout=60_000)
        table.first.get_by_text(STREET, exact=True).first.wait_for(state="attached", timeout=30_000)
        assert table.first.get_by_text("现状值（张/千人）", exact=True).count() == 1
        assert page.get_by_text("本情景有未保存的修改", exact=False).count() >= 1
        page.get_by_text("数值改变的单元", exact=False).first.scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "planner_changed_units.png"))
    finally:
        page.close()
    assert blocked == [], blocked
