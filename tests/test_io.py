"""Writers in geo_coverage.io: XLSX bytes depend on content only; YAML round-trips."""

import io as stdlib_io
import time
import zipfile

import openpyxl
import pandas as pd

from geo_coverage import io


def test_xlsx_bytes_are_reproducible_and_keep_repeated_headers():
    frame = pd.DataFrame([[1, "朝阳", 3.5]], columns=["code", "code", "值 value"])
    first = io.dataframe_to_xlsx_bytes({"gaps": frame}, notes={"source": "synthetic"})
    time.sleep(1.1)  # openpyxl stamps the second; a later call must still give the same bytes
    second = io.dataframe_to_xlsx_bytes({"gaps": frame}, notes={"source": "synthetic"})
    assert first == second
    with zipfile.ZipFile(stdlib_io.BytesIO(first)) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.testzip() is None
    workbook = openpyxl.load_workbook(stdlib_io.BytesIO(first))
    assert workbook.sheetnames == ["gaps", "说明 About"]
    assert [[cell.value for cell in row] for row in workbook["gaps"].iter_rows()] == \
        [["code", "code", "值 value"], [1, "朝阳", 3.5]]
    assert workbook["gaps"].freeze_panes == "A2"
    assert [[cell.value for cell in row] for row in workbook["说明 About"].iter_rows()] == \
        [["项目 Item", "说明 About"], ["source", "synthetic"]]


def test_different_content_gives_different_bytes():
    one = io.dataframe_to_xlsx_bytes({"s": pd.DataFrame({"a": [1]})})
    two = io.dataframe_to_xlsx_bytes({"s": pd.DataFrame({"a": [2]})})
    assert one != two


def test_yaml_round_trips_unicode_line_breaks():
    data = {"name": "0\x850", "other": "a\u2028b\u2029c", "plain": "石景山 room", "list": [1, "x"]}
    assert io.parse_yaml(io.dump_yaml(data)) == data
