"""Names carrying markup, uploaded through the Data tab of the real app in headless chromium: no
script runs anywhere on the page, and the names still display as the characters they hold.

A street of the embedded outlines is renamed ``<img src=x onerror=...>`` and a care home is named
``<script>...</script><img ...>``; both files go in through the Data tab as a planner would upload
them.  Then every unit tooltip and every facility popup of the map is opened (Leaflet writes them
as HTML), the street is picked for the unit card, and the Scenario tab's lists are shown.  Each
payload would set ``window.__xss`` (in whichever frame it ran) or the page title; neither may
happen, and no dialog may open.  Offline: every request not to 127.0.0.1 is aborted.
"""

from __future__ import annotations

import time

import pytest

from .browser_support import (
    ARTIFACTS,
    MAP_FRAME,
    REPO,
    chromium_browser,
    offline_page,
    streamlit_server,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STREET = "110101001"
UNIT_MARKUP = "<img src=x onerror=\"top.__xss='unit';document.title='pwned'\">东华门"
FACILITY_MARKUP = (
    "<script>top.__xss='script'</script><img src=x onerror=\"top.__xss='facility'\">养老院"
)


def _files(tmp_path):
    import geopandas as gpd

    # The default ships as GeoParquet; the planner uploads GeoJSON, so the test writes one.
    frame = gpd.read_parquet(REPO / "boundaries" / "streets.parquet")
    frame.loc[frame["code"] == STREET, ["name", "name_en"]] = UNIT_MARKUP
    outlines = tmp_path / "streets.geojson"
    frame.to_file(outlines, driver="GeoJSON")
    point = frame.loc[frame["code"] == STREET].representative_point().iloc[0]
    register = tmp_path / "register.csv"
    register.write_text(
        "编号,名称,经度,纬度,床位,护理型床位,医养结合\n"
        f'X1,"{FACILITY_MARKUP.replace(chr(34), chr(34) * 2)}",{point.x:.6f},{point.y:.6f},'
        "30,10,是\n",
        encoding="utf-8",
    )
    return outlines, register


def _no_script_ran(page, dialogs) -> list[str]:
    found = [f"dialog: {d}" for d in dialogs]
    for frame in page.frames:
        try:
            value = frame.evaluate("() => [window.__xss || null, document.title]")
        except Exception:  # noqa: BLE001 - a frame being replaced
            continue
        if value[0] is not None or value[1] == "pwned":
            found.append(f"{frame.url[:60]}: {value}")
    return found


_OPEN_EVERYTHING = """body => {
    // Every unit tooltip and every facility popup of the map, opened as a pointer would.
    const texts = [];
    const maps = Object.keys(window).map(k => window[k]).filter(v => v instanceof L.Map);
    for (const map of maps) {
        map.eachLayer(layer => {
            if (layer.feature && layer.getBounds) {
                layer.fire("mouseover", {latlng: layer.getBounds().getCenter()}, true);
                document.querySelectorAll(".leaflet-tooltip").forEach(t => texts.push(t.innerText));
                layer.fire("mouseout", {latlng: layer.getBounds().getCenter()}, true);
            } else if (L.MarkerClusterGroup && layer instanceof L.MarkerClusterGroup) {
                layer.getLayers().forEach(marker => {
                    const group = new L.FeatureGroup([marker]).addTo(map);  // out of its cluster
                    marker.openPopup();
                    document.querySelectorAll(".leaflet-popup-content")
                        .forEach(p => texts.push(p.innerText));
                    marker.closePopup();
                    map.removeLayer(group);
                });
            }
        });
    }
    return [maps.length, texts];
}"""


def test_markup_in_uploaded_names_never_runs(tmp_path):
    outlines, register = _files(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_browser() as browser, streamlit_server(REPO / "app.py", warm=True) as url:
        blocked: list[str] = []
        dialogs: list[str] = []
        page = offline_page(browser, blocked)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        try:
            page.goto(url, wait_until="domcontentloaded")
            page.frame_locator(f"{MAP_FRAME} >> nth=-1").locator(
                "path.leaflet-interactive"
            ).first.wait_for(timeout=180_000)
            page.get_by_role("tab", name="数据 · Data").click()
            page.get_by_text("边界（GeoJSON", exact=False).first.click()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                str(outlines)
            )
            page.get_by_role("button", name="校验并载入").click()
            page.get_by_text("校验通过", exact=False).first.wait_for(timeout=180_000)
            page.get_by_text("设施登记表", exact=False).first.click()
            # The uploader still holds the outlines: remove them, then give it the register.
            page.locator(
                '[data-testid="stFileUploader"] button:not([aria-label="Add files"])'
            ).first.click()
            page.get_by_text("streets.geojson", exact=True).wait_for(
                state="detached", timeout=60_000
            )
            page.wait_for_timeout(2000)  # the widget reruns once the file is removed
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                str(register)
            )
            page.get_by_text("register.csv", exact=True).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.get_by_role("button", name="校验并载入").click()
            page.get_by_text("已载入本次会话的数据集：register.csv", exact=False).first.wait_for(
                timeout=180_000
            )
            page.screenshot(path=str(ARTIFACTS / "markup_uploaded.png"), full_page=True)
            assert _no_script_ran(page, dialogs) == []

            page.get_by_role("tab", name="覆盖与缺口 · Coverage").click()
            frame = page.frame_locator(f"{MAP_FRAME} >> nth=-1")
            frame.locator("path.leaflet-interactive").nth(300).wait_for(timeout=180_000)
            time.sleep(1)
            count, texts = (
                page.locator(MAP_FRAME)
                .last.content_frame.locator("body")
                .evaluate(_OPEN_EVERYTHING)
            )
            assert count >= 1
            unit_texts = [t for t in texts if "onerror" in t and "东华门" in t]
            facility_texts = [t for t in texts if "<script>" in t and "养老院" in t]
            # Shown as the characters they hold, in the tooltip and in the popup.
            assert unit_texts and UNIT_MARKUP in unit_texts[0], texts[:5]
            assert facility_texts and FACILITY_MARKUP in facility_texts[0], texts[:5]
            assert _no_script_ran(page, dialogs) == []

            # The unit card: the street picked by its code, its name written out as text.
            page.get_by_label("点击地图上的单元，或在此选择").first.click()
            page.keyboard.type(STREET)
            page.get_by_role("option", name=f"({STREET})", exact=False).first.click()
            page.get_by_text(UNIT_MARKUP, exact=False).first.wait_for(timeout=120_000)
            page.screenshot(path=str(ARTIFACTS / "markup_unit_card.png"), full_page=True)
            assert _no_script_ran(page, dialogs) == []

            # The Scenario tab: facility and unit lists hold the names; its maps draw them too.
            page.get_by_role("tab", name="情景 · Scenario").click()
            page.get_by_text("情景中的修改", exact=False).first.wait_for(timeout=180_000)
            page.get_by_text("撤除或调整现有设施", exact=False).first.wait_for(timeout=60_000)
            # The facility list shows the name as text: in the DOM it is a text node (escaped
            # when serialised), never a <script> or <img> element.
            # (An upload merges by district, so X1 is found in the list by typing its id.)
            page.get_by_label("设施", exact=True).first.click()
            page.keyboard.type("X1")
            option = page.get_by_role("option", name="X1 ·", exact=False).first
            option.wait_for(timeout=30_000)
            assert FACILITY_MARKUP in option.inner_text()
            page.keyboard.press("Escape")
            assert page.locator("img[src=x]").count() == 0
            time.sleep(2)
            page.screenshot(path=str(ARTIFACTS / "markup_scenario_tab.png"), full_page=True)
            assert _no_script_ran(page, dialogs) == []
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "markup_failed.png"), full_page=True)
            raise
        finally:
            page.close()
        assert blocked == [], blocked
