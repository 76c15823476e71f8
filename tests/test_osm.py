"""OpenStreetMap, offline: a hand-made OSM XML fixture (tests/data/tiny.osm) stands in for
Overpass; osmnx's fetching functions are replaced by readers of that file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmnx
import pytest
import shapely

from geo_coverage import io as gio
from geo_coverage import osm
from geo_coverage.cli import main
from geo_coverage.dataset import load_dataset
from geo_coverage.errors import DataError, NetworkError

from .conftest import shared_path

FIXTURE = Path(__file__).parent / "data" / "tiny.osm"


@pytest.fixture(scope="module")
def features():
    return osmnx.features_from_xml(FIXTURE)


def test_facilities_by_documented_tags(features):
    layers = osm.facilities_from_features(features)
    ids = {kind: frame["id"].tolist() for kind, frame in layers.items()}
    # Checked against the fixture by hand: the restaurant and the food bank match no kind.
    assert ids == {
        "elderly_care": ["osm-node-1007", "osm-node-1008", "osm-node-1009"],
        "childcare": ["osm-node-1011"],
        "kindergarten": ["osm-way-5004"],
        "hospital": ["osm-node-1012", "osm-node-1013"],
        "community_health_centre": ["osm-node-1014"],
        "child_welfare": ["osm-node-1010"],
        "mother_baby_room": ["osm-node-1015"],
    }
    elderly = layers["elderly_care"]
    assert elderly["name"].tolist() == ["西养老院", "西照料中心", "东敬老院"]  # name:zh preferred
    assert elderly["beds"].tolist()[0] == 120 and np.isnan(elderly["beds"].tolist()[1])  # "多" is no number
    assert layers["kindergarten"]["places"].tolist() == [90]
    assert layers["hospital"]["paediatric_beds"].fillna(-1).tolist() == [-1, 80]
    outline = shapely.box(116.410, 39.885, 116.412, 39.887)
    assert outline.contains(layers["kindergarten"].geometry.iloc[0])  # building → point on surface
    assert all(frame["source"].str.startswith("osm: OpenStreetMap contributors").all() for frame in layers.values())


def test_query_tags_cover_every_rule():
    tags = osm.query_tags()
    assert tags["amenity"] == sorted({"social_facility", "nursing_home", "childcare", "kindergarten", "hospital",
                                      "baby_room", "nursing_room"})
    assert tags["healthcare"] == ["centre", "hospital"]
    assert tags["changing_table"] == ["limited", "yes"] and tags["baby_feeding"] == ["room", "yes"]
    # Every kind is a kind of the default plan.
    from geo_coverage.plan import default_plan

    assert set(osm.FACILITY_TAGS) <= set(default_plan().kinds)


def test_boundaries_by_admin_level(features):
    units = osm.boundaries_from_features(features)
    assert units["district"]["code"].tolist() == ["110199"]
    streets = units["street"]
    assert streets["code"].tolist() == ["osm-relation-9002", "110199002"]  # ref when present
    assert streets["parent_code"].tolist() == ["110199", "110199"]
    assert streets["name_en"].tolist() == ["West Subdistrict", ""]
    assert np.isclose(streets.to_crs(32650).area.sum(), units["district"].to_crs(32650).area.sum())


@pytest.fixture
def offline_osmnx(monkeypatch):
    """Replace osmnx's network calls by readers of the fixture, recording the settings they saw."""
    seen = []

    def features_from_bbox(bbox, tags):
        seen.append(("features", bbox, osmnx.settings.cache_folder, osmnx.settings.use_cache))
        frame = osmnx.features_from_xml(FIXTURE, tags=tags)
        return frame

    def graph_from_bbox(bbox, *, network_type):
        seen.append(("graph", bbox, osmnx.settings.cache_folder, network_type))
        return osmnx.graph_from_xml(FIXTURE, simplify=False, retain_all=True)

    monkeypatch.setattr(osmnx, "features_from_bbox", features_from_bbox)
    monkeypatch.setattr(osmnx, "graph_from_bbox", graph_from_bbox)
    monkeypatch.setattr(osmnx, "features_from_place", lambda *a, **k: pytest.fail("no place queries here"))
    return seen


def test_fetch_osm_writes_a_loadable_folder(offline_osmnx, tmp_path, capsys):
    before = (osmnx.settings.cache_folder, osmnx.settings.use_cache)
    out = tmp_path / "osmdata"
    code = main(["fetch-osm", "--bbox", "116.38", "39.88", "116.42", "39.92", "--cache", str(tmp_path / "cache"),
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Fetching the walk network" in captured.err and "2 street units" in captured.err
    assert (osmnx.settings.cache_folder, osmnx.settings.use_cache) == before  # restored
    assert {entry[2] for entry in offline_osmnx} == {str(tmp_path / "cache")}
    assert [e[3] for e in offline_osmnx if e[0] == "graph"] == ["walk", "drive"]
    assert all(e[1] == (116.38, 39.88, 116.42, 39.92) for e in offline_osmnx)
    dataset = load_dataset(out)
    assert list(dataset.units_at("street")["code"]) == ["osm-relation-9002", "110199002"]
    assert dataset.layer("elderly_care")["street_code"].tolist() == ["osm-relation-9002", "osm-relation-9002",
                                                                    "110199002"]
    graph = gio.read_road_graph(out / "networks" / "walk.graphml")
    assert graph.number_of_nodes() == osmnx.graph_from_xml(FIXTURE, simplify=False, retain_all=True).number_of_nodes()
    listed = captured.out.split()
    assert str(out / "layers" / "kindergarten.geojson") in listed


def test_fetch_only_facilities(offline_osmnx, tmp_path):
    written = osm.fetch_to_folder(osm.OsmQuery(bbox=(116.38, 39.88, 116.42, 39.92)), tmp_path / "f",
                                  what=("facilities",))
    assert sorted(p.name for p in written) == sorted(f"{kind}.geojson" for kind in (
        "elderly_care", "childcare", "kindergarten", "hospital", "community_health_centre", "child_welfare",
        "mother_baby_room"))
    assert [e[0] for e in offline_osmnx] == ["features"]


def test_network_failure_is_one_line_and_leaves_nothing(monkeypatch, tmp_path, capsys):
    def refuse(*args, **kwargs):
        raise ConnectionError("Max retries exceeded with url: overpass-api.de")

    monkeypatch.setattr(osmnx, "features_from_place", refuse)
    code = main(["fetch-osm", "--place", "Dongcheng, Beijing", "--what", "facilities", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "Could not fetch features for Dongcheng, Beijing" in err and "Max retries" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(NetworkError):
        osm.fetch_features(osm.OsmQuery(place="x"), {"amenity": "hospital"})


def test_query_validation():
    with pytest.raises(DataError, match="either a place or a bounding box"):
        osm.OsmQuery()
    with pytest.raises(DataError, match="Invalid bounding box"):
        osm.OsmQuery(bbox=(117, 39, 116, 40))
    assert main(["fetch-osm", "--bbox", "1", "2", "3", "4", "--what", "roads", "--out", "x"]) == 2


def test_settings_are_restored_after_a_failure(monkeypatch):
    before = osmnx.settings.cache_folder

    def fail(*args, **kwargs):
        assert osmnx.settings.cache_folder == "/nonexistent-cache"
        raise RuntimeError("boom")

    monkeypatch.setattr(osmnx, "graph_from_place", fail)
    with pytest.raises(NetworkError):
        osm.fetch_network(osm.OsmQuery(place="x"), network_type="drive", cache_dir="/nonexistent-cache")
    assert osmnx.settings.cache_folder == before


@pytest.mark.shared
def test_shared_beijing_osm_network_round_trips_through_graphml(tmp_path):
    path = shared_path("data", "beijing", "raw", "facilities", "summit_beijing_osm", "beijing.osm")
    graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True)
    gio.write_graphml(graph, tmp_path / "walk.graphml")
    again = gio.read_road_graph(tmp_path / "walk.graphml")
    assert (again.number_of_nodes(), again.number_of_edges()) == (graph.number_of_nodes(), graph.number_of_edges())
    assert osm.facilities_from_features(osmnx.features_from_xml(path)) == {}  # roads only: no facilities
