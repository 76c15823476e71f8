"""Shared fixtures: a tiny hand-made city whose every figure can be checked by hand."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import settings
from shapely.geometry import Point, box

# The store tests' throw-away PostgreSQL server and store locations (tests/store_support.py).
from tests.store_support import (  # noqa: F401
    postgres_server,
    postgres_url,
    saved_beijing,
    store_location,
)

# Property tests run the same examples on every `make test` (a red CI then means a regression,
# not a lucky draw); HYPOTHESIS_PROFILE=explore draws fresh random examples to hunt for new bugs.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
METRIC = "EPSG:32650"
X0, Y0 = 440000.0, 4420000.0  # central Beijing in UTM 50N


@pytest.fixture(autouse=True)
def _private_store(tmp_path_factory, monkeypatch):
    """Every test gets its own project store (the app and the CLI never touch the user's default
    store under ~/.local/share)."""
    monkeypatch.setenv("GEO_COVERAGE_STORE", str(tmp_path_factory.mktemp("store") / "store.gpkg"))


def shared_path(*parts) -> Path:
    """A path under ../shared, skipping the test when the shared folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not present (../shared is only on the developers' machines)")
    return path


def poppler(tool: str) -> str:
    """The path of a poppler tool (pdftotext, pdffonts, pdfinfo), skipping the test without it."""
    import shutil

    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is missing: `make test` installs poppler-utils")
    return path


def _square(i0, i1):
    return box(X0 + i0 * 1000, Y0, X0 + i1 * 1000, Y0 + 1000)


def _pt(x_km, y_km=0.5):
    return Point(X0 + x_km * 1000, Y0 + y_km * 1000)


def write_tiny_city(root: Path, *, with_neonatal: bool = True) -> Path:
    """Two districts of two 1 km² streets each; B2 has nobody living in it.

    ::

        A1 [0,1]  A2 [1,2] | B1 [2,3]  B2 [3,4]      (km east of X0)
        pop 1000  pop 2000 | pop 3000  pop 0
    """
    (root / "boundaries").mkdir(parents=True)
    (root / "layers").mkdir()
    streets = gpd.GeoDataFrame({
        "code": ["110001001", "110001002", "110002001", "110002002"],
        "name": ["甲一街道", "甲二街道", "乙一街道", "乙二街道"],
        "parent_code": ["110001", "110001", "110002", "110002"],
        "pop_total": [1000, 2000, 3000, 0],
        "pop_0_14": [100, 200, 300, 0],
        "pop_source": ["estimate"] * 4,
    }, geometry=[_square(0, 1), _square(1, 2), _square(2, 3), _square(3, 4)], crs=METRIC)
    districts = gpd.GeoDataFrame({
        "code": ["110001", "110002"], "name": ["甲区", "乙区"], "parent_code": ["110000", "110000"],
        "pop_total": [3000, 3000], "pop_0_14": [300, 300], "pop_source": ["census"] * 2,
    }, geometry=[_square(0, 2), _square(2, 4)], crs=METRIC)
    for frame, name in ((streets, "streets"), (districts, "districts")):
        frame.to_crs(4326).to_file(root / "boundaries" / f"{name}.geojson", driver="GeoJSON")

    def layer(kind, rows):
        frame = gpd.GeoDataFrame(
            [{k: v for k, v in r.items() if k != "at"} for r in rows],
            geometry=[_pt(r["at"]) for r in rows], crs=METRIC)
        frame["source"] = "synthetic: test fixture"
        frame.to_crs(4326).to_file(root / "layers" / f"{kind}.geojson", driver="GeoJSON")

    layer("elderly_care", [
        {"id": "E1", "name": "a1", "at": 0.5, "beds": 10, "nursing_beds": 6, "medical_integration": True},
        {"id": "E2", "name": "a2", "at": 1.5, "beds": 5, "nursing_beds": 1, "medical_integration": False},
        {"id": "E3", "name": "b1", "at": 2.5, "beds": 30, "nursing_beds": 20, "medical_integration": True},
    ])
    if with_neonatal:
        layer("neonatal_centre", [{"id": "N1", "name": "乙医院", "at": 2.2, "level": "city"}])
    layer("minor_protection_station", [
        {"id": "M1", "name": "s1", "at": 0.4, "social_workers": 2, "child_supervisors": 1},
        {"id": "M2", "name": "s2", "at": 2.4, "social_workers": 0, "child_supervisors": 1},
    ])
    layer("community", [
        {"id": "C1", "name": "u1", "at": 0.2, "community_type": "urban", "has_parent_school": True},
        {"id": "C2", "name": "u2", "at": 0.3, "community_type": "urban", "has_parent_school": False},
        {"id": "C3", "name": "r1", "at": 0.6, "community_type": "rural", "has_parent_school": True},
    ])
    return root


@pytest.fixture
def tiny_city_dir(tmp_path) -> Path:
    return write_tiny_city(tmp_path / "tiny")


@pytest.fixture
def tiny_city(tiny_city_dir):
    from geo_coverage.dataset import load_dataset

    return load_dataset(tiny_city_dir, crs=METRIC)
