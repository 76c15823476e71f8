"""Datum conversions: the forward GCJ-02 shift in Beijing and exact round trips."""

from __future__ import annotations

import numpy as np
import pytest

from geo_coverage import datum
from geo_coverage.errors import DataError


def test_beijing_shift_is_about_500_m_east_north_east():
    lon, lat = np.array([116.397]), np.array([39.908])  # Tiananmen
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    # SOURCES.md: about +0.0062° lon and +0.0014° lat in Beijing.
    assert glon[0] - lon[0] == pytest.approx(0.0062, abs=0.0003)
    assert glat[0] - lat[0] == pytest.approx(0.0014, abs=0.0003)


@pytest.mark.parametrize("other", ["gcj02", "bd09"])
def test_round_trip_to_a_centimetre(other):
    rng = np.random.default_rng(3)
    lon = rng.uniform(115.4, 117.5, 500)
    lat = rng.uniform(39.4, 41.1, 500)
    back_lon, back_lat = datum.to_wgs84(*datum.from_wgs84(lon, lat, other), other)
    # 1e-7° is about 1 cm.
    assert np.max(np.abs(back_lon - lon)) < 1e-7 and np.max(np.abs(back_lat - lat)) < 1e-7


def test_no_shift_outside_china():
    lon, lat = datum.wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert lon[0] == 2.35 and lat[0] == 48.85


def test_unknown_datum_is_a_clear_error():
    with pytest.raises(DataError, match="Unknown datum 'mercator'.*wgs84, gcj02 or bd09"):
        datum.to_wgs84([116.0], [39.0], "mercator")
