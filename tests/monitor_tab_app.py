"""A minimal Streamlit page around the Monitoring tab, for AppTest (the three hand-made years).

MONITOR_TAB_DIRS holds ``YEAR=DIR`` items separated by ``;`` (the test writes the folders); the page
loads them as the series' years and calls ``ui.monitor_tab.render``, as app.py does with the demo
years.
"""

import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_coverage.dataset import load_dataset  # noqa: E402
from geo_coverage.monitor import parse_year_dirs  # noqa: E402
from geo_coverage.plan import default_plan  # noqa: E402
from ui import monitor_tab  # noqa: E402


@st.cache_resource
def data(spec: str):
    folders = parse_year_dirs(spec.split(";"))
    return {year: load_dataset(folder) for year, folder in folders.items()}, default_plan()


spec = os.environ["MONITOR_TAB_DIRS"]
datasets, plan = data(spec)
language = os.environ.get("MONITOR_TAB_LANGUAGE", "en")
monitor_tab.render(plan, language, plan.indicator(os.environ.get("MONITOR_TAB_INDICATOR", "elderly_beds_per_1000")),
                   units=datasets[max(datasets)].units, plan_id="beijing_2021_2025", source_key=spec,
                   source=datasets)
