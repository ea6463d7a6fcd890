"""The Sheets fake itself: its discovery-document validator and field masks catch what Google would refuse."""

from __future__ import annotations

import pytest

from tests.fakes.sheets import Discovery, apply_mask, parse_mask, select


@pytest.fixture(scope="module")
def discovery() -> Discovery:
    return Discovery()


def test_valid_body_passes(discovery):
    """A well-formed batchUpdate body has no errors."""
    body = {
        "requests": [
            {"addSheet": {"properties": {"sheetId": 7, "title": "T", "gridProperties": {"rowCount": 2}}}},
            {
                "updateCells": {
                    "rows": [{"values": [{"userEnteredValue": {"stringValue": "=1+1"}}, {}]}],
                    "fields": "userEnteredValue",
                    "range": {"sheetId": 7},
                }
            },
        ]
    }
    assert discovery.errors(body, "BatchUpdateSpreadsheetRequest") == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"requests": [{"addSheets": {}}]}, "unknown field 'addSheets'"),
        ({"requests": [{"addSheet": {}, "deleteSheet": {"sheetId": 1}}]}, "exactly one"),
        ({"requests": [{"deleteSheet": {"sheetId": "1"}}]}, "expected an integer"),
        ({"requests": [{"deleteSheet": {"sheetId": 2**31}}]}, "out of int32 range"),
        ({"requests": [{"addSheet": {"properties": {"sheetType": "TABLE"}}}]}, "is not one of"),
        (
            {
                "requests": [
                    {"repeatCell": {"cell": {"userEnteredValue": {"numberValue": 1, "stringValue": "1"}}}}
                ]
            },
            "exactly one",
        ),
        ({"requests": [{"repeatCell": {"fields": "a(b"}}]}, "bad field mask"),
        ({"requests": [{"updateCells": {"range": {}, "start": {}}}]}, "exactly one"),
    ],
)
def test_invalid_bodies_are_caught(discovery, body, expected):
    """Unknown fields, unions with two members, wrong types, bad enums and masks are errors."""
    errors = discovery.errors(body, "BatchUpdateSpreadsheetRequest")
    assert any(expected in e for e in errors), errors


def test_response_masks_are_checked_against_the_schema(discovery):
    """A fields mask naming a field the Spreadsheet resource lacks is reported."""
    assert discovery.mask_errors("sheets(properties,charts(chartId))", "Spreadsheet") == []
    assert discovery.mask_errors("sheets(propertys)", "Spreadsheet") != []


def test_masks_select_and_apply_like_google():
    """select keeps only masked fields; apply_mask sets masked paths and clears the ones the source lacks."""
    tree = parse_mask("a,b.c,d(e,f(g))")
    assert tree == {"a": None, "b": {"c": None}, "d": {"e": None, "f": {"g": None}}}
    value = {"a": 1, "b": {"c": 2, "x": 3}, "d": [{"e": 4, "f": {"g": 5, "h": 6}, "z": 7}], "q": 8}
    assert select(value, tree) == {"a": 1, "b": {"c": 2}, "d": [{"e": 4, "f": {"g": 5}}]}
    cell = {
        "userEnteredValue": {"numberValue": 1},
        "note": "n",
        "userEnteredFormat": {"textFormat": {"bold": True}},
    }
    apply_mask(cell, {"userEnteredValue": {"stringValue": "x"}}, "userEnteredValue,note")
    assert cell == {
        "userEnteredValue": {"stringValue": "x"},
        "userEnteredFormat": {"textFormat": {"bold": True}},
    }
