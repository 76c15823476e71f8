"""A minimal Streamlit page around the Scenario tab, for AppTest (the tiny city from conftest).

The data folder comes from the environment variable SCENARIO_TAB_DATA (the test writes the tiny
city there); the page only loads it and calls ``ui.scenario_tab.render``, as app.py does.
"""

import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_coverage.dataset import load_dataset  # noqa: E402
from geo_coverage.plan import default_plan  # noqa: E402
from ui import scenario_tab  # noqa: E402


@st.cache_resource
def data(folder: str):
    return load_dataset(folder, crs="EPSG:32650"), default_plan()


dataset, plan = data(os.environ["SCENARIO_TAB_DATA"])
scenario_tab.render(dataset, plan, os.environ.get("SCENARIO_TAB_LANGUAGE", "en"),
                    dataset_key=f"tiny:{os.environ['SCENARIO_TAB_DATA']}")
