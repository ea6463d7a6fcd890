"""The column-wise Sheets cells (sync.sinks.gsheet_rows) are the typed cells of `cells.column_values` (what the
renderer sent before: one dict per cell), read back from the JSON text."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.tables import Column
from sync.sinks.cells import column_values, serial, to_cell
from sync.sinks.gsheet_rows import RowsJson, column_cells, encode, json_size, table_row_texts


def expected_cells(values: list, column: Column, timezone: str = "UTC", dtype: object = None) -> list[dict]:
    return [as_celldata(v) for v in column_values(pd.Series(values, dtype=dtype), column, timezone)]


def expected_cell(value: object, column: Column, timezone: str) -> dict:
    """The CellData of one value, by the one-value definition."""
    return as_celldata(to_cell(value, column, timezone))


def as_celldata(cell: object) -> dict:
    if cell is None:
        return {}
    if isinstance(cell, bool):
        return {"userEnteredValue": {"boolValue": cell}}
    if isinstance(cell, str):
        return {"userEnteredValue": {"stringValue": cell}}
    if isinstance(cell, dt.date):
        return {"userEnteredValue": {"numberValue": serial(cell)}}
    return {"userEnteredValue": {"numberValue": cell}}


def cells_of(values: list, kind: str, timezone: str = "UTC", dtype: object = None) -> list[dict]:
    column = Column("c", kind)  # type: ignore[arg-type]
    series = pd.Series(values, dtype=dtype)
    return [json.loads(text) for text in column_cells(series, column, timezone).to_pylist()]


def same(got: list[dict], want: list[dict]) -> None:
    assert got == want


TRICKY_TEXT = ['a"b', "back\\slash", "line\nfeed", "tab\there", "cr\rx", "=SUM(A1)", "+1", "-5", "@x", "",
               "é ✓ 😀", "\u2028\u2029", "ctl\u0007x", "lone\ud800", "\ufffe\uffff", "del\x7f", "x" * 40_000, None]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_text_cells_are_escaped_holdable_and_never_formulas(dtype):
    values = [v for v in TRICKY_TEXT if dtype is object or "\ud800" not in (v or "")]
    want = [expected_cell(v, Column("c"), "UTC") for v in values]
    same(cells_of(values, "text", dtype=dtype), want)


def test_a_text_column_holding_other_values_gives_their_text():
    values = [1, 2.5, True, None, float("nan"), float("inf"), "x", pd.NA]
    same(cells_of(values, "text", dtype=object), [expected_cell(v, Column("c"), "UTC") for v in values])


@pytest.mark.parametrize("kind", ["int", "number", "money", "percent"])
def test_number_cells_read_back_as_the_same_double(kind):
    values = [0.0, -0.0, 1.0, 0.1, 1 / 3, 1e20, -1e-7, 123456.785, 2.5, 3.5, None, np.nan, np.inf, -np.inf, 1e15 + 0.3]
    got = cells_of(values, kind)
    same(got, expected_cells(values, Column("c", kind)))  # type: ignore[arg-type]
    big = 1e20 if kind != "int" else 1e20  # past int64: still the right number, not an overflowed one
    assert cells_of([big], kind)[0]["userEnteredValue"]["numberValue"] == big


@pytest.mark.parametrize("kind", ["month", "date", "datetime"])
@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", "America/Los_Angeles"])
def test_date_cells_are_serial_days_in_the_timezone(kind, tz):
    values = pd.Series(pd.to_datetime(["2024-03-31 23:30:15.7", "1900-01-01", None, "2017-10-17 00:00:00",
                                       "2024-02-29 12:00:00"], utc=True, format="ISO8601"))
    column = Column("c", kind)  # type: ignore[arg-type]
    got = [json.loads(t) for t in column_cells(values, column, tz).to_pylist()]
    assert got == [expected_cell(v, column, tz) for v in values.tolist()]


def test_bool_cells():
    values = [True, False, None, True]
    same(cells_of(values, "bool", dtype=object), [expected_cell(v, Column("c", "bool"), "UTC") for v in values])


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.none() | st.text(max_size=12), min_size=1, max_size=8),
    numbers=st.lists(st.none() | st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=8),
)
def test_any_text_and_any_number_give_the_one_by_one_cells(texts, numbers):
    """Property: whatever the text (escapes, surrogates, controls) or number, the cells are the to_cell ones."""
    same(cells_of(texts, "text", dtype=object), [expected_cell(v, Column("c"), "UTC") for v in texts])
    for kind in ("number", "money", "int"):
        finite = [v for v in numbers if v is None or abs(v) < 1e18 or not np.isfinite(v)]
        same(cells_of(finite, kind, dtype="float64"),
             expected_cells(finite, Column("c", kind), dtype="float64"))  # type: ignore[arg-type]


def test_rows_slice_size_and_encode_agree():
    frame = pd.DataFrame({"a": ["x", 'q"', None], "b": [1.5, None, 3.0]})
    columns = (Column("a"), Column("b", "number"))
    rows = RowsJson.build([{"userEnteredValue": {"stringValue": "a"}}, {}], table_row_texts(frame, columns, "UTC", "T"))
    assert len(rows) == 4 and len(rows[1:3]) == 2 and len(rows[3:9]) == 1 and len(rows[2:1]) == 0
    assert rows.rows()[2] == {"values": [{"userEnteredValue": {"stringValue": 'q"'}}, {}]}
    body = {"requests": [{"updateCells": {"rows": rows[1:3], "fields": "*"}}, {"x": "\ue000é"}]}
    data = encode(body)
    assert json_size(body) == len(data)
    assert json.loads(data)["requests"][0]["updateCells"]["rows"] == rows.rows()[1:3]
    assert rows[0:0].bytes() == b"[]" and json_size({"r": rows[0:0]}) == len(encode({"r": rows[0:0]}))
    assert sum(rows.row_sizes()) + 1 == rows.nbytes  # rows and their commas, brackets, no last comma
