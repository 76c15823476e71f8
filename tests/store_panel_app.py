"""A minimal page around the store panel and the Scenario tab, for AppTest on the tiny city.

SCENARIO_TAB_DATA names the tiny city's folder (the embedded data of this page);
GEO_COVERAGE_STORE the store the test filled.  The page does what app.py does: the snapshot
picker chooses the dataset, the Scenario tab (with its shared-scenarios section) renders on it.
"""

import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo_coverage.dataset import load_dataset  # noqa: E402
from geo_coverage.plan import default_plan  # noqa: E402
from ui import scenario_tab, store_panel  # noqa: E402


@st.cache_resource
def data(folder: str):
    return load_dataset(folder, crs="EPSG:32650"), default_plan()


embedded, plan = data(os.environ["SCENARIO_TAB_DATA"])
language = os.environ.get("SCENARIO_TAB_LANGUAGE", "en")
with st.sidebar:
    choice = store_panel.snapshot_choice(language)
dataset_key, dataset = choice if choice else (f"tiny:{os.environ['SCENARIO_TAB_DATA']}", embedded)
beds = int(dataset.layers["elderly_care"]["beds"].sum())
st.markdown(f"dataset beds: {beds}")
scenario_tab.render(dataset, plan, language, dataset_key=dataset_key)
