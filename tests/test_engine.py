"""The Dask engine gives one machine's answers: Beijing at every level, and a synthetic province
whose catchments cross partition borders, for 1, 4 and 31 partitions, on a real 2-worker
LocalCluster."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pandas as pd
import pytest

from geo_coverage.cli import main
from geo_coverage.cli.report import table_records
from geo_coverage.coverage import evaluate
from geo_coverage.dataset import load_dataset
from geo_coverage.engine import LocalEngine, make_engine, partition_dataset
from geo_coverage.errors import DataError
from geo_coverage.plan import default_plan
from tests import synthetic_province as sp

pytest.importorskip("distributed")

ACCESS = ("access", "accessible_ratio")


@pytest.fixture(scope="module")
def cluster():
    # Workers are spawned processes, which re-run the parent's __main__ from its file. Earlier
    # AppTest tests in the same pytest process leave a Streamlit test page installed as __main__
    # (it needs its own environment and fails in a worker), so workers start under a bare one.
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        with make_engine("dask", n_workers=2, memory_limit="3GB", progress=False,
                         dashboard=False) as engine:
            engine.start()
            sys.modules["__main__"] = main
            yield engine
    finally:
        sys.modules["__main__"] = main


@pytest.fixture(scope="module")
def beijing():
    dataset = load_dataset()
    return dataset, evaluate(dataset, default_plan())


def assert_same_table(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    """Ratio, share and count rows byte for byte; access rows to floating-point tolerance."""
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    plain = ~expected["indicator_type"].isin(ACCESS).to_numpy()
    expected_records, got_records = table_records(expected), table_records(got)
    for flag, want, have in zip(plain, expected_records, got_records, strict=True):
        if flag:
            assert json.dumps(have, ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
        else:
            for column, value in want.items():
                if isinstance(value, float):
                    assert have[column] == pytest.approx(value, rel=1e-9, abs=1e-9), (want, column)
                else:
                    assert have[column] == value, (want, column)


def test_beijing_on_dask_equals_local_for_every_indicator_at_every_level(cluster, beijing):
    dataset, local = beijing
    cluster.partitions = 2
    got = cluster.evaluate(dataset, default_plan())
    assert set(local["level"]) == {"city", "district", "street"}
    assert local["indicator"].nunique() == 19
    assert_same_table(local, got)
    # Both workers did a partition, each holding whole districts and their streets.
    assert len(cluster.stats) == 2 and sum(s["units"] for s in cluster.stats) == 331


def test_report_engine_dask_json_is_byte_identical(cluster, beijing, capsysbinary):
    """`report --engine dask --level street --format json` (here through --scheduler, on the
    test's cluster) prints exactly the bytes `--engine local` prints."""
    _, local = beijing
    street = local[local["level"] == "street"].reset_index(drop=True)
    expected = json.dumps(table_records(street), ensure_ascii=False, indent=1).encode("utf-8")
    address = cluster.client.scheduler.address
    assert main(["report", "--engine", "dask", "--scheduler", address, "--partitions", "3",
                 "--level", "street", "--format", "json"]) == 0
    assert capsysbinary.readouterr().out == expected


def test_monitor_engine_dask_equals_local(cluster, tmp_path, capsysbinary):
    """`monitor --engine dask` over year folders gives the bytes `--engine local` gives."""
    from tests.conftest import write_tiny_city

    years = []
    for year in (2020, 2022):
        years += ["--snapshot-dir", f"{year}={write_tiny_city(tmp_path / str(year))}"]
    assert main(["monitor", *years, "--format", "json"]) == 0
    local = capsysbinary.readouterr().out
    address = cluster.client.scheduler.address
    assert main(["monitor", *years, "--format", "json", "--engine", "dask", "--scheduler", address,
                 "--partitions", "2"]) == 0
    assert capsysbinary.readouterr().out == local
    assert len(json.loads(local)) > 10


def test_partitions_cut_the_hierarchy_into_whole_units():
    dataset = sp.province()
    four = partition_dataset(dataset, 4)
    assert [p.level for p in four] == ["district"] * 4
    assert sorted(c for p in four for c in p.whole) == sorted(dataset.units["district"].index)
    assert sorted(c for p in four for c in p.core) == sorted(dataset.units["street"].index)
    many = partition_dataset(dataset, 31)  # more than the 12 counties: townships are cut
    assert len(many) == 31 and {p.level for p in many} == {"street"}
    assert sum(len(p.core) for p in many) == 48
    assert len(partition_dataset(dataset, 500)) == 48
    for n in range(1, 49):  # every count gives that many non-empty partitions
        pieces = partition_dataset(dataset, n)
        assert len(pieces) == n and all(p.core for p in pieces)


def test_partition_invariance_on_a_province_where_catchments_cross_borders(cluster):
    dataset, plan = sp.province(), default_plan()
    options = {"indicators": sp.INDICATORS, "access_settings": sp.SETTINGS}
    one_machine = evaluate(dataset, plan, **options)
    # The premise: with 4 partitions F1's catchment reaches townships of several partitions.
    four = partition_dataset(dataset, 4)
    owner = {code: p.index for p in four for code in p.core}
    reached = [code for code, value in sp.expected_by_brute_force()[
        "elderly_beds_accessible_per_1000"].items() if value > 0]
    assert len({owner[code] for code in reached}) >= 2
    tables = {}
    for n in (1, 4, 31):
        cluster.partitions = n
        tables[n] = cluster.evaluate(dataset, plan, **options)
        assert len(cluster.stats) == n
        assert_same_table(one_machine, tables[n])
    # ... and equal to a cell-by-cell recomputation that never calls the library.
    streets = one_machine[one_machine["level"] == "street"].set_index(["indicator", "unit_code"])
    for indicator, by_unit in sp.expected_by_brute_force().items():
        for code, numerator in by_unit.items():
            assert streets.loc[(indicator, code), "numerator"] == pytest.approx(numerator, abs=1e-6)
    # All 180 beds are shared out, across the county borders, and the city row says so.
    city = one_machine[(one_machine["level"] == "city")
                       & (one_machine["indicator"] == "elderly_beds_accessible_per_1000")]
    assert city["numerator"].iloc[0] == pytest.approx(180.0)
    assert tables[31]["numerator"].fillna(-1).tolist() == pytest.approx(
        tables[1]["numerator"].fillna(-1).tolist(), rel=1e-12)


def test_local_engine_runs_the_same_partitions_in_process():
    dataset, plan = sp.province(), default_plan()
    options = {"indicators": sp.INDICATORS, "access_settings": sp.SETTINGS}
    engine = LocalEngine(partitions=5)
    assert_same_table(evaluate(dataset, plan, **options), engine.evaluate(dataset, plan, **options))
    assert len(engine.stats) == 5


def test_engine_options_are_checked(capsys):
    assert main(["report", "--scheduler", "tcp://127.0.0.1:1", "--format", "json"]) == 2
    assert "--engine dask" in capsys.readouterr().err
    assert main(["report", "--engine", "local", "--workers", "2"]) == 2
    assert main(["report", "--engine", "dask", "--partitions", "0"]) == 2
    with pytest.raises(DataError, match="Unknown engine"):
        make_engine("spark")


def test_unreachable_scheduler_is_a_clear_error():
    engine = make_engine("dask", scheduler="tcp://127.0.0.1:9", progress=False)
    engine.connect_timeout = "2s"
    with pytest.raises(DataError, match="Cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        engine.start()


def test_numerators_are_sums_of_whole_partitions():
    """Street numerators of ratio indicators add up to their county under any partitioning."""
    dataset, plan = sp.province(), default_plan()
    table = LocalEngine(partitions=31).evaluate(dataset, plan, indicators=["elderly_beds_per_1000"])
    streets = table[table["level"] == "street"]
    districts = table[table["level"] == "district"].set_index("unit_code")
    summed = streets.groupby("parent_code")["numerator"].sum()
    assert np.array_equal(summed.reindex(districts.index).to_numpy(),
                          districts["numerator"].to_numpy())
    assert districts["numerator"].sum() == 180.0
