"""Reusable hypothesis strategies for malformed planner files (tables now; YAML can reuse the text ones)."""

from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st

from geo_coverage.importers import FACILITY_HEADERS

ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "latin-1")
KNOWN_HEADERS = sorted({name for names in FACILITY_HEADERS.values() for name in names})

# Cells a planner's spreadsheet really holds: numbers in many spellings, coordinates, blanks,
# Chinese text, full-width digits, WKT fragments, and arbitrary text.
cell_text = st.one_of(
    st.just(""),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.floats(min_value=115.4, max_value=117.6).map(lambda v: f"{v:.6f}"),
    st.floats(min_value=39.4, max_value=41.1).map(lambda v: f"{v:.6f}"),
    st.sampled_from(["是", "否", "yes", "NaN", "null", "－１２", "１１６．４", "1,200", "十张", "POINT (116.4 39.9)",
                     "POINT EMPTY", "POLYGON ((0 0, 1 1, 1 0, 0 0))", "LINESTRING (1 2, 3 4)", '"', "\n", "\x00",
                     "\ufeff", "锟斤拷", "\ufffd", "=SUM(A1)", "1e400", "-0", "007"]),
    st.text(max_size=12),
)
header_text = st.one_of(st.sampled_from(KNOWN_HEADERS), st.text(max_size=8))


@st.composite
def tables(draw, *, max_rows: int = 6, max_columns: int = 7) -> pd.DataFrame:
    """A frame of text cells under a mix of recognised and random headers (duplicates allowed)."""
    columns = draw(st.lists(header_text, min_size=0, max_size=max_columns))
    rows = draw(st.integers(min_value=0, max_value=max_rows))
    data = [[draw(cell_text) for _ in columns] for _ in range(rows)]
    return pd.DataFrame(data, columns=pd.Index(columns, dtype=object), dtype=object)


@st.composite
def csv_bytes(draw) -> bytes:
    """A table written as CSV in a random encoding (characters it cannot hold are replaced),
    sometimes cut short or with random bytes spliced in."""
    table = draw(tables())
    encoding = draw(st.sampled_from(ENCODINGS))
    separator = draw(st.sampled_from([",", "\t", ";"]))
    data = table.to_csv(index=False, sep=separator).encode(encoding, errors="replace")
    damage = draw(st.sampled_from(["none", "truncate", "splice"]))
    if damage == "truncate" and data:
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    elif damage == "splice":
        position = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:position] + draw(st.binary(max_size=16)) + data[position:]
    return data


@st.composite
def xlsx_bytes(draw) -> bytes:
    """A table written as an XLSX workbook, sometimes cut short (a damaged upload)."""
    import io

    table = draw(tables())
    # openpyxl refuses control characters in cells; a real workbook cannot hold them either.
    table = table.map(lambda v: "".join(ch for ch in str(v) if ch >= " " or ch in "\t\n"))
    table.columns = ["".join(ch for ch in str(c) if ch >= " ") for c in table.columns]
    buffer = io.BytesIO()
    table.to_excel(buffer, index=False, engine="openpyxl")  # duplicate headers allowed, as in Excel
    data = buffer.getvalue()
    if draw(st.booleans()):
        # A fraction, not a length: the workbook's bytes carry a timestamp, so its length varies.
        data = data[: int(draw(st.floats(min_value=0, max_value=1)) * len(data))]
    return data


raw_bytes = st.one_of(st.binary(max_size=200), st.binary(max_size=50).map(lambda b: b"PK\x03\x04" + b))


@st.composite
def registers(draw, *, lon=(116.30, 116.33), lat=(39.92, 39.93)) -> pd.DataFrame:
    """A valid elderly-care register under randomly chosen header spellings, with a few cells
    replaced by random ones: reaches the coordinate, attribute and unit checks."""
    def header(key):
        return draw(st.sampled_from(FACILITY_HEADERS[key]))

    rows = draw(st.integers(min_value=1, max_value=6))
    table = pd.DataFrame({
        header("id"): [f"{i:03d}" for i in range(rows)],
        header("name"): [f"养老院{i}" for i in range(rows)],
        header("lon"): [f"{draw(st.floats(*lon)):.6f}" for _ in range(rows)],
        header("lat"): [f"{draw(st.floats(*lat)):.6f}" for _ in range(rows)],
        header("beds"): [str(draw(st.integers(0, 500))) for _ in range(rows)],
        header("medical_integration"): [draw(st.sampled_from(["是", "否"])) for _ in range(rows)],
    }, dtype=object)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        row = draw(st.integers(min_value=0, max_value=rows - 1))
        column = draw(st.integers(min_value=0, max_value=table.shape[1] - 1))
        table.iat[row, column] = draw(cell_text)
    return table
