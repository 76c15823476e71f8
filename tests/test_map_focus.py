"""The map's find box and focus (ui/map_view.py), driven with AppTest on the embedded default:
the unit found is picked for its card and the map is pointed at it; a district chosen in the gap
list points the map at the district."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import map_view

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "app.py"
TIMEOUT = 180


def test_the_find_box_picks_the_unit_and_points_the_map_at_it():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.selectbox(key=map_view.SEARCH).set_value("110108015").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state[map_view.UNIT_PICK] == "110108015"
    assert at.session_state[map_view.FOCUS] == ("unit", "110108015")
    # The gap list's district choice moves the map to the district instead.
    at.selectbox(key="district_filter").set_value("110101").run()
    assert at.session_state[map_view.FOCUS] == ("district", "110101")


def test_a_link_with_a_unit_opens_its_card_and_points_the_map_at_it():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["level"] = "street"
    at.query_params["unit"] = "110105001"  # 建外街道
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key=map_view.UNIT_PICK).value == "110105001"
    assert at.session_state[map_view.FOCUS] == ("unit", "110105001")
    assert at.query_params["unit"] == "110105001"
    # A unit the data does not hold is ignored.
    other = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    other.query_params["unit"] = "999"
    other.run()
    assert not other.exception and other.selectbox(key=map_view.UNIT_PICK).value is None
