"""The planner's map in headless chromium: first load, indicator switch and level switch.

How it is measured
------------------
* The app runs as ``make run`` starts it (``python -m ui.serve app.py``: data and heavy imports
  warmed in the background), on a free localhost port; Debian's chromium (Playwright, offline: any
  request not to localhost is aborted) opens it at 1366 × 768.
* **First load**: a new page, from ``page.goto`` to the street polygons drawn in the map's iframe
  (at least 300 ``path.leaflet-interactive``), polled every 25 ms.  Repeated ``--repeat`` times,
  each in a fresh page (a fresh Streamlit session; the server's caches stay warm, as for a
  planner opening the app a second time).  The first page of the run is reported apart, as the
  cold load.
* **Indicator switch**: from choosing the other indicator in the sidebar to its legend and the
  polygons being in the map (alternating two indicators, so after the first switch both are
  cached as they are for a planner going back and forth).
* **Level switch**: from clicking 区/街道 to the map holding that level's polygon count.
* Figures are medians of ``--repeat`` (5) with the machine's load average at the start, since
  the machine is shared.

Run: ``.venv/bin/python -m benchmarks.bench_browser``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from pathlib import Path

from .common import write_results

REPO = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1366, "height": 768}
INDICATORS = (
    ("elderly_beds_per_1000", "千人常住人口养老床位数"),
    ("childcare_places_per_1000", "每千人口拥有3岁以下婴幼儿托位数"),
)
POLL_MS = 25


def _polygon_count(page) -> int:
    from tests.browser_support import map_frame

    try:
        return map_frame(page).locator("path.leaflet-interactive").count()
    except Exception:  # noqa: BLE001 - the iframe may be re-mounting
        return 0


def _wait(predicate, timeout_s: float = 120.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if predicate():
            return time.perf_counter()
        time.sleep(POLL_MS / 1000)
    raise TimeoutError("the map did not reach the expected state")


def _legend_has(page, text: str) -> bool:
    from tests.browser_support import map_frame

    try:
        legend = map_frame(page).locator(".geo-coverage-legend", has_text=text)
        return legend.count() > 0
    except Exception:  # noqa: BLE001
        return False


def first_load(browser, url: str, blocked: list[str]) -> tuple[float, object]:
    from tests.browser_support import offline_page

    page = offline_page(browser, blocked)
    page.set_viewport_size(VIEWPORT)
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    done = _wait(lambda: _polygon_count(page) >= 300)
    return done - started, page


def switch_indicator(page, name_zh: str) -> float:
    page.get_by_label("指标").first.click()
    option = page.get_by_role("option", name=re.compile(re.escape(name_zh))).first
    option.wait_for(timeout=30_000)
    started = time.perf_counter()
    option.click()
    done = _wait(lambda: _legend_has(page, name_zh) and _polygon_count(page) >= 300)
    return done - started


def switch_level(page, label: str, minimum: int, maximum: int) -> float:
    started = time.perf_counter()
    page.get_by_text(label, exact=True).first.click()
    done = _wait(lambda: minimum <= _polygon_count(page) <= maximum)
    return done - started


def measure(repeat: int = 5) -> dict:
    from tests.browser_support import chromium_browser, streamlit_server

    load = os.getloadavg()[0]
    blocked: list[str] = []
    with streamlit_server(REPO / "app.py", warm=True) as url, chromium_browser() as browser:
        loads, pages = [], []
        for _ in range(repeat + 1):
            seconds, page = first_load(browser, url, blocked)
            loads.append(seconds)
            pages.append(page)
        page = pages[-1]
        for other in pages[:-1]:
            other.close()
        switches = []
        for number in range(repeat + 1):
            switches.append(switch_indicator(page, INDICATORS[(number + 1) % 2][1]))
        levels = []
        for _ in range(repeat):
            # 16 districts (plus no street layer) and back to 331 streets (+ 16 district outlines).
            levels.append(switch_level(page, "区 District", 16, 40))
            levels.append(switch_level(page, "街道/乡镇 Street / township", 300, 400))
        page.close()
    assert not blocked, blocked
    return {
        "viewport": f"{VIEWPORT['width']}x{VIEWPORT['height']}",
        "load_average_at_start": load,
        "repeat": repeat,
        "cold_first_load_s": loads[0],
        "first_load_median_s": statistics.median(loads[1:]),
        "first_load_s": loads[1:],
        "indicator_switch_first_s": switches[0],
        "indicator_switch_median_s": statistics.median(switches[1:]),
        "indicator_switch_s": switches[1:],
        "level_switch_median_s": statistics.median(levels),
        "level_switch_s": levels,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv or [])
    figures = measure(args.repeat)
    for key, value in figures.items():
        if isinstance(value, list):
            value = " ".join(f"{v:.2f}" for v in value)
        elif isinstance(value, float):
            value = f"{value:.3f}"
        print(f"{key:30s} {value}")
    write_results("browser", figures)


if __name__ == "__main__":
    main()
