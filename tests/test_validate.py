"""The one validator of planners' tables and the optional-import guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_coverage import _compat
from geo_coverage._validate import (
    check_ids,
    checked_numbers,
    first_true,
    known_positions,
    no_repeated_rows,
    spreadsheet_row,
    text_column,
)
from geo_coverage.errors import DataError, GeoCoverageError


def test_rows_are_counted_as_a_spreadsheet_shows_them():
    assert spreadsheet_row(0) == 2  # the header is row 1
    assert first_true(np.array([False, False, True, True])) == 2
    assert first_true([False]) is None


def test_a_missing_column_names_the_columns_there_are():
    table = pd.DataFrame({"id": [" a "], "w": ["1"]})
    assert text_column(table, "id", fix="x").tolist() == ["a"]
    with pytest.raises(DataError, match=r"t\.csv, column 'weight': The column 'weight' is missing "
                                        r"\(columns: id, w\)\. Fix: Use --weight\."):
        text_column(table, "weight", file="t.csv", fix="Use --weight.")


def test_ids_empty_then_repeated_at_their_rows():
    ids = pd.Series(["a", "b", "a", ""])
    with pytest.raises(DataError, match=r"row 5, column 'id': Empty\."):
        check_ids(ids, file="f", column="id", empty="Empty.", empty_fix=None)
    ids = pd.Series(["a", "b", "a"])
    with pytest.raises(DataError, match=r"row 4, column 'id': 'a' twice\. Fix: Unique\."):
        check_ids(ids, file="f", column="id", empty="Empty.", empty_fix=None, repeated="'{value}' twice.",
                  repeated_fix="Unique.")
    assert check_ids(ids, file="f", column="id", empty="Empty.", empty_fix=None) is ids  # repeats allowed


@pytest.mark.parametrize("cells, bad_row, shown", [
    (["1", "2.5", "-1"], 4, "-1"),     # below zero
    (["1", "x", "3"], 3, "x"),         # not a number
    (["1", "nan", "3"], 3, "nan"),     # not finite
    (["1", "inf"], 3, "inf"),
])
def test_numbers_at_least_zero(cells, bad_row, shown):
    with pytest.raises(DataError, match=rf"row {bad_row}, column 'w': '{shown}' is bad\."):
        checked_numbers(pd.Series(cells), file="f", column="w", message="'{value}' is bad.", fix=None)


def test_numbers_in_a_range_quote_the_cell_as_written():
    values = checked_numbers(pd.Series(["116.4", "39.9"]), file="f", column="c", low=-180, high=180,
                             message="'{value}'", fix=None)
    assert values.tolist() == [116.4, 39.9]
    with pytest.raises(DataError, match=r"row 2, column 'lat': ' 95 ' out"):
        checked_numbers(pd.Series(["95"]), file="f", column="lat", low=-90, high=90, message="'{value}' out",
                        fix=None, shown=pd.Series([" 95 "]))


def test_known_positions_and_repeated_pairs():
    known = pd.Index(["a", "b", "c"])
    assert known_positions(pd.Series(["c", "a"]), known, file="f", column="o", message="?", fix=None).tolist() == [2, 0]
    with pytest.raises(DataError, match=r"row 3, column 'o': Unknown 'z'\."):
        known_positions(pd.Series(["a", "z"]), known, file="f", column="o", message="Unknown '{value}'.", fix=None)
    no_repeated_rows([np.array([0, 0, 1]), np.array([0, 1, 0])], file="f", column="o", message="m", fix=None)
    with pytest.raises(DataError, match=r"row 4, column 'o': Twice\."):
        no_repeated_rows([np.array([0, 1, 0]), np.array([5, 5, 5])], file="f", column="o", message="Twice.",
                         fix=None)


def test_an_optional_module_is_returned_or_named_with_its_extra():
    assert _compat.require("json").dumps([1]) == "[1]"
    with pytest.raises(GeoCoverageError, match=r"This needs no_such_module_xyz, which is not installed\. "
                                               r"Fix: pip install no_such_module_xyz\."):
        _compat.require("no_such_module_xyz")
    _compat.EXTRAS["no_such_module_xyz"] = "app"
    try:
        with pytest.raises(DataError, match=r"f\.osm: Maps need no_such_module_xyz\. "
                                            r"Fix: pip install 'geo-coverage\[app\]'\."):
            _compat.require("no_such_module_xyz.sub", message="Maps need {module}.", error=DataError, file="f.osm")
    finally:
        del _compat.EXTRAS["no_such_module_xyz"]
