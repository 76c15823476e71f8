"""The store, on both backends (a GeoPackage file and a throw-away PostGIS server)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

from geo_coverage.coverage import evaluate
from geo_coverage.dataset import load_dataset, read_dataset_frames
from geo_coverage.errors import DataError
from geo_coverage.plan import default_plan
from geo_coverage.scenario import scenario_from_edits
from geo_coverage.store import (
    ConflictError,
    NotFoundError,
    SnapshotExistsError,
    StoreError,
    open_store,
)
from tests.conftest import write_tiny_city
from tests.store_support import BACKENDS, BEIJING_LABEL


@pytest.fixture
def store(store_location):
    with open_store(store_location) as opened:
        yield opened


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_city(tmp_path / "tiny")


def _assert_frames_equal(saved, loaded):
    assert set(saved.units) == set(loaded.units) and set(saved.layers) == set(loaded.layers)
    for level in saved.units:
        assert_geodataframe_equal(saved.units[level], loaded.units[level], check_less_precise=False)
    for kind in saved.layers:
        assert_geodataframe_equal(saved.layers[kind], loaded.layers[kind], check_less_precise=False)


def test_tiny_city_round_trip_exact(store, tiny):
    info = store.add_snapshot(tiny, year=2020, label="tiny 2020", author="tester")
    assert (info.year, info.label, info.author, info.status, info.district) == (
        2020,
        "tiny 2020",
        "tester",
        "current",
        "",
    )
    frames, view = store.load_snapshot_frames(2020)
    _assert_frames_equal(read_dataset_frames(tiny), frames)
    # geometries are bit-for-bit those saved (WKB), not merely close
    original = read_dataset_frames(tiny).layers["elderly_care"].geometry.to_wkb()
    assert list(frames.layers["elderly_care"].geometry.to_wkb()) == list(original)
    plan = default_plan()
    pd.testing.assert_frame_equal(
        evaluate(load_dataset(tiny), plan), evaluate(store.load_snapshot("tiny 2020"), plan)
    )
    assert view.base.id == info.id and view.missing_districts == ()
    files = {f["part"]: f for f in info.provenance["files"]}
    assert (
        files["layer.elderly_care"]["rows"] == 3
        and len(files["layer.elderly_care"]["sha256"]) == 64
    )
    assert {c["check"] for c in info.provenance["checks"]} >= {
        "units",
        "facilities inside the city",
    }
    assert info.provenance["saved_by"] == "tester"


@pytest.fixture(scope="module")
def beijing_figures():
    """Every coverage figure of the Beijing default read from its folder (computed once)."""
    return evaluate(load_dataset(), default_plan())


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_beijing_default_round_trip_every_figure_equal(backend, saved_beijing, beijing_figures):
    # the session's one save of the default folder per backend (tests/store_support.py)
    with open_store(saved_beijing.location(backend), create=False) as store:
        (info,) = store.list_snapshots()
        assert (info.year, info.label) == (2020, BEIJING_LABEL)
        after = evaluate(store.load_snapshot(2020), default_plan())
    pd.testing.assert_frame_equal(beijing_figures, after, check_exact=True)
    assert len(after) > 4000


def test_year_taken_refused_unless_replace_and_history_kept(store, tiny):
    first = store.add_snapshot(tiny, year=2021, label="first")
    with pytest.raises(SnapshotExistsError, match="already has 2021: 'first'.*--replace"):
        store.add_snapshot(tiny, year=2021, label="second")
    assert [s.label for s in store.list_snapshots()] == ["first"]
    second = store.add_snapshot(tiny, year=2021, label="second", replace=True, author="b")
    assert [s.label for s in store.list_snapshots()] == ["second"]
    history = store.list_snapshots(history=True)
    assert [(s.label, s.status) for s in history] == [("first", "replaced"), ("second", "current")]
    assert history[0].retired_by == "b" and store.get_snapshot(2021).id == second.id != first.id
    removed = store.remove_snapshot("second")
    assert removed.status == "removed" and store.list_snapshots() == []
    with pytest.raises(NotFoundError, match="No current snapshot for '2021'"):
        store.load_snapshot(2021)


def test_labels_unique_and_lookup(store, tiny):
    store.add_snapshot(tiny, year=2020, label="baseline")
    with pytest.raises(SnapshotExistsError, match="already the label of the 2020 snapshot"):
        store.add_snapshot(tiny, year=2022, label="baseline")
    with pytest.raises(DataError, match="looks like another year"):
        store.add_snapshot(tiny, year=2022, label="2021")
    assert store.get_snapshot("baseline").year == 2020
    with pytest.raises(NotFoundError, match="city snapshots: 2020 'baseline'"):
        store.get_snapshot("nope")


def test_bad_folders_change_nothing(store, tiny, tmp_path):
    store.add_snapshot(tiny, year=2020, label="ok")
    before = store.list_snapshots(history=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="empty"):
        store.add_snapshot(empty, year=2023, label="x")
    half = tmp_path / "half"
    (half / "boundaries").mkdir(parents=True)
    (tiny / "boundaries" / "districts.geojson").rename(tiny / "d.geojson")
    with pytest.raises(DataError, match="No district boundaries"):
        store.add_snapshot(tiny, year=2023, label="x")
    (tiny / "d.geojson").rename(tiny / "boundaries" / "districts.geojson")
    for layer in (tiny / "layers").glob("*.geojson"):
        layer.unlink()
    with pytest.raises(DataError, match="no facility layers"):
        store.add_snapshot(tiny, year=2023, label="x")
    with pytest.raises(DataError, match="not a plausible reference year"):
        store.add_snapshot(tiny, year=99, label="x")
    assert store.list_snapshots(history=True) == before


def _district_folder(root, frames_by_kind, streets=None):
    (root / "layers").mkdir(parents=True)
    for kind, frame in frames_by_kind.items():
        frame.to_file(root / "layers" / f"{kind}.geojson", driver="GeoJSON")
    if streets is not None:
        (root / "boundaries").mkdir()
        streets.to_file(root / "boundaries" / "streets.geojson", driver="GeoJSON")
    return root


def test_district_submissions_union_and_missing(store, tiny, tmp_path):
    store.add_snapshot(tiny, year=2020, label="tiny 2020")
    base = read_dataset_frames(tiny)
    care = base.layers["elderly_care"]
    # District 110001 (streets A1, A2) submits for 2023: E1 grows to 40 beds, E2 closes, a new home.
    mine = care[care["id"] == "E1"].copy()
    mine["beds"] = 40
    new = mine.copy()
    new["id"] = "110001-N1"
    new["beds"] = 12
    submitted = pd.concat([mine, new], ignore_index=True)
    streets = base.units["street"]
    own_streets = streets[streets["parent_code"] == "110001"].copy()
    own_streets["pop_total"] = [1500, 2500]
    folder = _district_folder(
        tmp_path / "sub",
        {"elderly_care": gpd.GeoDataFrame(submitted, crs=care.crs)},
        streets=own_streets,
    )
    info = store.add_snapshot(folder, year=2023, district="110001", author="甲区")
    assert info.district == "110001" and info.label == "甲区 2023"
    view = store.year_view(2023)
    assert view.base.year == 2020 and [s.district for s in view.submissions] == ["110001"]
    assert view.missing_districts == ("110002",)
    dataset = store.load_snapshot(2023)
    layer = dataset.layers["elderly_care"].set_index("id")
    # hand-checked: E1 40 beds (submitted), E2 gone, N1 12 beds, E3 (other district) unchanged 30
    assert layer["beds"].to_dict() == {"E1": 40, "110001-N1": 12, "E3": 30}
    assert dataset.units["street"].loc["110001001", "pop_total"] == 1500
    assert dataset.units["street"].loc["110002001", "pop_total"] == 3000
    assert "110002" in dataset.notes["missing_districts"]
    # the 2020 snapshot is untouched by the 2023 submission
    assert sorted(store.load_snapshot(2020).layers["elderly_care"]["id"]) == ["E1", "E2", "E3"]
    with pytest.raises(SnapshotExistsError, match="district 110001's submission for 2023"):
        store.add_snapshot(folder, year=2023, district="110001")


def test_district_submission_refusals(store, tiny, tmp_path):
    with pytest.raises(StoreError, match="No city snapshot for 2023 or before"):
        store.add_snapshot(tiny, year=2023, district="110001")
    store.add_snapshot(tiny, year=2020, label="tiny 2020")
    care = read_dataset_frames(tiny).layers["elderly_care"]
    with pytest.raises(
        DataError,
        match=r"District code '110009' is not in the boundaries.*110001 甲区, 110002 乙区",
    ):
        store.add_snapshot(
            _district_folder(tmp_path / "a", {"elderly_care": care}), year=2023, district="110009"
        )
    with pytest.raises(DataError, match="1 facilities lie outside 110001 甲区 .*'E3', in 110002"):
        store.add_snapshot(
            _district_folder(tmp_path / "b", {"elderly_care": care}), year=2023, district="110001"
        )
    clash = care[care["id"] == "E1"].copy()
    clash["id"] = "E3"
    with pytest.raises(DataError, match="E3 already belong to other districts"):
        store.add_snapshot(
            _district_folder(tmp_path / "c", {"elderly_care": clash}), year=2023, district="110001"
        )
    assert [s.year for s in store.list_snapshots()] == [2020]


def _scenario(name="通州养老", beds=300):
    return scenario_from_edits(
        name,
        [
            {
                "action": "add",
                "kind": "elderly_care",
                "lon": 116.66,
                "lat": 39.91,
                "id": "new-1",
                "attributes": {"beds": beds},
            }
        ],
    )


def test_scenario_versions_conflict_diff_restore_fork(store):
    v1 = store.save_scenario(_scenario(), message="first", author="王")
    assert (v1.version, v1.author) == (1, "王")
    with pytest.raises(ConflictError, match="already has a scenario '通州养老'.*--base-version 1"):
        store.save_scenario(_scenario(beds=1), message="again", author="李")
    v2 = store.save_scenario(_scenario(beds=400), message="more beds", base_version=1, author="李")
    assert v2.version == 2
    with pytest.raises(
        ConflictError, match=r"changed since v1.*v2 by 李 at .*: more beds\. Nothing was saved"
    ) as err:
        store.save_scenario(_scenario(beds=500), message="stale", base_version=1, author="王")
    assert err.value.latest == 2 and [v.version for v in err.value.since] == [2]
    assert [v.version for v in store.scenario_history("通州养老")] == [1, 2]
    diff = store.diff_scenario("通州养老", 1, 2)
    assert [e["attributes"]["beds"] for e in diff.removed] == [300]
    assert [e["attributes"]["beds"] for e in diff.added] == [400]
    v3 = store.restore_scenario("通州养老", 1, author="王")
    assert v3.version == 3 and v3.restored_from == 1
    assert store.get_scenario("通州养老").scenario().edits[0].attributes["beds"] == 300
    fork = store.fork_scenario("通州养老", "通州养老 B", version=2, author="赵")
    assert fork.version == 1 and fork.scenario().name == "通州养老 B"
    listed = {s.name: s for s in store.list_scenarios()}
    assert listed["通州养老"].latest == 3 and listed["通州养老 B"].forked_from == "通州养老"
    assert listed["通州养老 B"].forked_from_version == 2 and listed["通州养老 B"].created_by == "赵"
    with pytest.raises(NotFoundError, match="has no version 9"):
        store.get_scenario("通州养老", 9)


def test_dump_and_restore_between_backends(store, tiny, tmp_path):
    store.add_snapshot(tiny, year=2020, label="tiny 2020")
    store.add_snapshot(tiny, year=2020, label="tiny 2020 again", replace=True)
    store.save_scenario(_scenario(), message="first")
    dump = tmp_path / "backup.gpkg"
    counts = store.dump(dump)
    assert counts["gc_snapshots"] == 2 and counts["gc_scenario_versions"] == 1
    dumped = dump.read_bytes()
    with open_store(tmp_path / "restored.gpkg") as other:
        other.restore(dump)
        assert [(s.label, s.status) for s in other.list_snapshots(history=True)] == [
            ("tiny 2020", "replaced"),
            ("tiny 2020 again", "current"),
        ]
        _assert_frames_equal(read_dataset_frames(tiny), other.load_snapshot_frames(2020)[0])
        assert other.get_scenario("通州养老").content == store.get_scenario("通州养老").content
        with pytest.raises(StoreError, match="already holds snapshots"):
            other.restore(dump)
        other.save_scenario(_scenario(), message="after restore", base_version=1)  # ids continue
    assert dump.read_bytes() == dumped  # the dump is only read


def test_each_reader_sees_only_committed_data(store, tiny):
    store.add_snapshot(tiny, year=2020, label="tiny 2020")
    with store._write() as connection:  # a writer mid-transaction
        connection.execute(store.tables.snapshots.update().values(label="uncommitted"))
        assert store.get_snapshot(2020).label == "tiny 2020"
    assert store.get_snapshot(2020).label == "uncommitted"


def test_store_made_by_schema_v1_still_opens(tmp_path):
    """tests/data/store_v1.gpkg was written by schema version 1 (the tiny city as 2020 and one
    scenario): every later version must open it (upgrading a copy) and read the same values."""
    from tests.conftest import REPO

    copy = tmp_path / "old.gpkg"
    copy.write_bytes((REPO / "tests" / "data" / "store_v1.gpkg").read_bytes())
    with open_store(copy, create=False) as store:
        assert [v["version"] for v in store.info()["migrations"]][0] == 1
        (info,) = store.list_snapshots()
        assert (info.year, info.label, info.author) == (
            2020,
            "tiny 2020 (schema v1 fixture)",
            "fixture",
        )
        dataset = store.load_snapshot(2020)
        beds = dataset.layers["elderly_care"].set_index("id")["beds"].to_dict()
        assert beds == {"E1": 10, "E2": 5, "E3": 30}
        assert dataset.units["street"]["pop_total"].to_dict() == {
            "110001001": 1000,
            "110001002": 2000,
            "110002001": 3000,
            "110002002": 0,
        }
        edits = store.get_scenario("v1 fixture").scenario().edits
        assert (edits[0].id, dict(edits[0].attributes)) == ("E2", {"beds": 50})


def test_embedded_store_is_a_geopackage_gdal_reads(tmp_path, tiny):
    import pyogrio

    path = tmp_path / "s.gpkg"
    with open_store(path) as store:
        store.add_snapshot(tiny, year=2020, label="tiny")
    layers = dict(pyogrio.list_layers(path))
    assert layers["gc_facilities"] == "Point" and "gc_units" in layers
    facilities = pyogrio.read_dataframe(path, layer="gc_facilities")
    assert facilities.crs.to_epsg() == 4326
    original = read_dataset_frames(tiny).layers["elderly_care"]
    shown = facilities[facilities["kind"] == "elderly_care"].sort_values("position")
    assert list(shown["facility_id"]) == list(original["id"])
    assert shown.geometry.reset_index(drop=True).geom_equals_exact(original.geometry, 1e-12).all()


def test_threads_share_one_store_like_streamlit_sessions(store, tiny):
    """Streamlit runs sessions in threads over one cached Store: concurrent loads and saves with
    retries on conflict lose and duplicate nothing, and every load sees a whole snapshot."""
    from concurrent.futures import ThreadPoolExecutor

    store.add_snapshot(tiny, year=2020, label="tiny 2020")
    store.save_scenario(_scenario("shared"), message="start", author="0")
    expected = sum(len(f) for f in read_dataset_frames(tiny).layers.values())

    def session(number: int) -> int:
        conflicts = 0
        for i in range(5):
            loaded = store.load_snapshot_frames(2020)[0]
            assert sum(len(f) for f in loaded.layers.values()) == expected
            while True:
                latest = store.get_scenario("shared").version
                try:
                    store.save_scenario(
                        _scenario("shared", beds=number * 10 + i),
                        message=f"{number}-{i}",
                        base_version=latest,
                        author=str(number),
                    )
                    break
                except ConflictError:
                    conflicts += 1
        return conflicts

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(session, range(6)))
    history = store.scenario_history("shared")
    assert [v.version for v in history] == list(range(1, 32))
    assert sorted(v.message for v in history[1:]) == sorted(
        f"{n}-{i}" for n in range(6) for i in range(5)
    )
