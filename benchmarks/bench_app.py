"""The app on the embedded default: first load, indicator/level switches, and the map's weight.

* Server-side script runs through ``streamlit.testing.v1.AppTest`` (the same script a browser
  session runs; the browser's own drawing time is measured by ``tests/test_browser.py``, which
  writes ``test-artifacts/browser_timing.txt``).
* The map against the plain folium way on the same data: ``folium.GeoJson`` of the raw street
  outlines with folium's default (CDN) assets.  Ratios: page size, and a restyle (outlines
  cached per level) against building the page from the outlines each time.

Run: ``.venv/bin/python -m benchmarks.bench_app``
"""

from __future__ import annotations

import time
from pathlib import Path

import folium

from geo_coverage import coverage, viz
from geo_coverage.dataset import load_dataset
from geo_coverage.plan import default_plan

from .common import best_of, write_results

APP = Path(__file__).resolve().parents[1] / "app.py"
INDICATOR = "elderly_beds_per_1000"


def app_timings() -> dict:
    from streamlit.testing.v1 import AppTest

    out = {}
    start = time.perf_counter()
    at = AppTest.from_file(str(APP), default_timeout=300).run()
    out["first_load_s"] = time.perf_counter() - start
    for name, indicator in (("switch_new_indicator_s", "childcare_places_per_1000"),
                            ("switch_back_cached_s", INDICATOR),
                            ("switch_again_cached_s", "childcare_places_per_1000")):
        start = time.perf_counter()
        at.selectbox(key="indicator").set_value(indicator).run()
        out[name] = time.perf_counter() - start
    start = time.perf_counter()
    at.radio(key="level").set_value("district").run()
    out["switch_level_s"] = time.perf_counter() - start
    assert not at.exception, [e.message for e in at.exception]
    return out


def map_figures() -> dict:
    dataset = load_dataset()
    plan = default_plan()
    table = coverage.evaluate(dataset, plan, indicators=[INDICATOR])

    def plain_folium():
        fmap = folium.Map(location=[40.2, 116.4], zoom_start=9)
        folium.GeoJson(dataset.units["street"].to_crs(4326).to_json()).add_to(fmap)
        return fmap.get_root().render()

    shapes = {level: viz.unit_shapes(dataset, level) for level in ("district", "street")}

    def ours_restyle():
        return viz.map_html(viz.coverage_map(table, dataset, plan, indicator=INDICATOR,
                                               level="street", shapes=shapes))

    def ours_from_outlines():
        return viz.map_html(viz.coverage_map(table, dataset, plan, indicator=INDICATOR,
                                               level="street"))

    plain_best, _, plain_html = best_of(plain_folium, repeat=3)
    restyle_best, _, ours_html = best_of(ours_restyle, repeat=3)
    rebuild_best, _, _ = best_of(ours_from_outlines, repeat=3)
    return {
        "street_map_bytes": len(ours_html.encode("utf-8")),
        "plain_folium_bytes_without_assets": len(plain_html.encode("utf-8")),
        "size_ratio_plain_over_ours": len(plain_html) / len(ours_html),
        "restyle_s": restyle_best,
        "rebuild_with_outlines_s": rebuild_best,
        "plain_folium_render_s": plain_best,
        "rebuild_over_restyle": rebuild_best / restyle_best,
    }


def main() -> None:
    figures = {**map_figures(), **app_timings()}
    for key, value in figures.items():
        print(f"{key:38s} {value:,.3f}" if isinstance(value, float) else f"{key:38s} {value:,}")
    write_results("app", figures)


if __name__ == "__main__":
    main()
