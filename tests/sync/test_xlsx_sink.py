"""The .xlsx sink at scale: the row limit of a sheet, values spliced column-wise read back as openpyxl wrote them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import sync.sinks.xlsx as xlsx
import sync.sinks.xlsx_rows as xlsx_rows
from kpi.tables import Column, Tab, Table
from sync.sinks.xlsx import XlsxSink

MOVES = (Column("Month", "month"), Column("Customer", "text"), Column("Change", "money"), Column("Seats", "int"))


def moves(n: int) -> Table:
    tab = Tab(name="Movements", description="", columns=MOVES, build=lambda ctx: pd.DataFrame())
    frame = pd.DataFrame({
        "Month": pd.date_range("2017-01-01", periods=n, freq="MS"),
        "Customer": [f"=cus_{i}" for i in range(n)],
        "Change": [10.25 + i for i in range(n)],
        "Seats": list(range(n)),
    })
    return Table(tab=tab, columns=MOVES, frame=frame, note="Newest first.")


def test_a_tab_past_the_sheet_row_limit_is_cut_with_the_rest_summarised(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A tab longer than a sheet holds keeps the rows that fit (header, blank and note rows included), its note
    says how many were left out and what their money adds up to, the run is told, and the workbook opens."""
    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 10)
    path = tmp_path / "k.xlsx"
    result = XlsxSink(str(path)).publish([moves(12)])
    sheet = openpyxl.load_workbook(path)["Movements"]
    assert sheet.max_row == 10  # 1 header + 7 rows + a blank row + the note: nothing past the limit
    assert [sheet.cell(row=r, column=2).value for r in (2, 8)] == ["=cus_0", "=cus_6"]
    assert sheet.cell(row=9, column=1).value is None
    note = sheet.cell(row=10, column=1).value
    left_out = sum(10.25 + i for i in range(7, 12))
    assert note.startswith("Newest first. Truncated: the first 7 of 12 rows (an .xlsx sheet holds at most 10 rows")
    assert f"The 5 rows left out add up to: Change {left_out:,.2f} EUR." in note
    assert result.notes == [f"tab 'Movements': {note.removeprefix('Newest first. ')}"]
    assert sheet.auto_filter.ref == "A1:D8"


def test_max_rows_per_tab_cuts_the_workbook_too(tmp_path: Path) -> None:
    """[publish] max_rows_per_tab caps an .xlsx tab as it caps a Google Sheets tab, and says so in the tab."""
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path), max_rows_per_tab=3).publish([moves(5)])
    sheet = openpyxl.load_workbook(path)["Movements"]
    assert [sheet.cell(row=r, column=4).value for r in range(2, 5)] == [0, 1, 2]
    assert sheet.cell(row=5, column=1).value is None
    assert "the first 3 of 5 rows ([publish] max_rows_per_tab)" in sheet.cell(row=6, column=1).value


def test_spliced_cells_keep_types_formats_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind of cell reads back with its type and format; text with markup, quotes, edge spaces and
    line breaks reads back as written; several row chunks join up in order."""
    cols = (Column("When", "datetime"), Column("Day", "date"), Column("Flag", "bool"), Column("Share", "percent"),
            Column("Note", "text"), Column("Count", "int"), Column("Ratio", "number"))
    tab = Tab(name="Kinds", description="", columns=cols, build=lambda ctx: pd.DataFrame())
    texts = ["<b>&amp;</b>", ' "quoted" ', "two\nlines", "cr\r\nlf", ""]  # "" is an empty cell
    frame = pd.DataFrame({
        "When": pd.to_datetime(["2017-03-04 05:06:07", None, "2017-01-01 00:00:00", "2017-01-02 00:00:00",
                                "2017-01-03 00:00:00"]),
        "Day": pd.to_datetime(["2017-03-04", "2017-03-05", None, "2017-03-06", "2017-03-07"]),
        "Flag": pd.array([True, False, None, True, False], dtype="boolean"),
        "Share": [0.125, None, 1.5, -0.25, 0.0],
        "Note": pd.Series(texts, dtype=object),
        "Count": [1, 2, None, 4, 1_000_000],
        "Ratio": [1 / 3, 2.5, float("inf"), -1e-7, 1e16],
    })
    path = tmp_path / "k.xlsx"
    monkeypatch.setattr(xlsx_rows, "CHUNK_ROWS", 2)  # three chunks
    XlsxSink(str(path)).publish([Table(tab=tab, columns=cols, frame=frame)])
    sheet = openpyxl.load_workbook(path)["Kinds"]
    got = [[c.value for c in row] for row in sheet.iter_rows(min_row=2, max_row=6)]
    assert got[0] == [dt.datetime(2017, 3, 4, 5, 6, 7), dt.datetime(2017, 3, 4), True, 0.125, "<b>&amp;</b>", 1, 1 / 3]
    assert got[1] == [None, dt.datetime(2017, 3, 5), False, None, ' "quoted" ', 2, 2.5]
    assert got[2][2:] == [None, 1.5, "two\nlines", None, None]
    assert got[3][4:] == ["cr\r\nlf", 4, -1e-7]
    assert got[4][4:] == [None, 1_000_000, 1e16]
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm:ss" and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].number_format == "0.0%" and sheet["F2"].number_format == "#,##0"
    assert sheet["C2"].data_type == "b" and sheet["E2"].data_type == "s"


def test_every_tab_prints_landscape_one_page_wide_with_its_header_on_each_page(tmp_path: Path) -> None:
    """Print setup: landscape, fit to one page wide (as many tall as it takes), the header row repeated, the tab name
    and page numbers in the footer; the Summary on one portrait page, so each sentence prints beside its value."""
    cols = (Column("Topic", "text"), Column("Value", "text"), Column("Sentence", "text"))
    summary = Table(tab=Tab(name="Summary", description="", columns=cols, build=lambda ctx: pd.DataFrame()),
                    columns=cols, frame=pd.DataFrame({"Topic": ["MRR"], "Value": ["1 EUR"], "Sentence": ["word " * 40]}))
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([summary, moves(3)])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Movements"]  # no declared chart: no Dashboard
    moves_sheet, summary_sheet = book["Movements"], book["Summary"]
    assert moves_sheet.page_setup.orientation == "landscape"
    assert moves_sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (moves_sheet.page_setup.fitToWidth, moves_sheet.page_setup.fitToHeight) == (1, 0)
    assert moves_sheet.print_title_rows == "$1:$1"
    assert "&A" in moves_sheet.oddFooter.center.text and "&P" in moves_sheet.oddFooter.center.text
    assert summary_sheet.page_setup.orientation == "portrait"
    assert (summary_sheet.page_setup.fitToWidth, summary_sheet.page_setup.fitToHeight) == (1, 1)
    assert summary_sheet.print_title_rows == "$1:$1"


def test_a_tab_named_like_the_dashboard_is_refused_and_dashboard_can_be_turned_off(tmp_path: Path) -> None:
    from kpi.tables import Chart
    from sync.errors import PublishError

    charted = moves(3)
    tab = Tab(name="Charts", description="", columns=MOVES, build=lambda ctx: pd.DataFrame(),
              charts=(Chart("Change", "column", "Month", ("Change",)),))
    table = Table(tab=tab, columns=MOVES, frame=charted.frame)
    path = tmp_path / "k.xlsx"
    with pytest.raises(PublishError, match="dashboard_tab"):
        XlsxSink(str(path), dashboard_tab="Charts").publish([table])
    assert not path.exists()
    XlsxSink(str(path), dashboard_tab="").publish([table])
    assert openpyxl.load_workbook(path).sheetnames == ["Charts"]
    XlsxSink(str(path)).publish([table])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Dashboard", "Charts"] and book.active.title == "Dashboard"
    (chart,) = book["Dashboard"]._charts
    assert chart.series[0].val.numRef.f == "'Charts'!$C$2:$C$4"
    assert chart.x_axis.number_format.formatCode == "yyyy-mm" and "EUR" in chart.y_axis.number_format.formatCode
    assert chart.x_axis.delete is False and chart.y_axis.delete is False


def test_a_tab_past_the_sheet_column_limit_keeps_the_columns_that_fit(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Customer attributes past the columns a sheet holds are left out, and the tab's note and the run say so."""
    monkeypatch.setattr(xlsx, "XLSX_MAX_COLUMNS", 3)
    path = tmp_path / "k.xlsx"
    result = XlsxSink(str(path)).publish([moves(2)])
    sheet = openpyxl.load_workbook(path)["Movements"]
    assert [c.value for c in sheet[1]] == ["Month", "Customer", "Change"]
    assert "the first 3 of 4 columns" in sheet.cell(row=5, column=1).value
    assert result.notes and "the first 3 of 4 columns" in result.notes[0]


def test_the_dashboard_prints_one_whole_chart_a_page_with_unsmoothed_lines(tmp_path: Path) -> None:
    from kpi.tables import Chart

    tab = Tab(name="Charts", description="", columns=MOVES, build=lambda ctx: pd.DataFrame(),
              charts=(Chart("Change", "line", "Month", ("Change",)), Chart("Seats", "column", "Month", ("Seats",)),
                      Chart("Both", "line", "Month", ("Change", "Seats"))))
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([Table(tab=tab, columns=MOVES, frame=moves(4).frame)])
    dash = openpyxl.load_workbook(path)["Dashboard"]
    assert [b.id for b in dash.row_breaks.brk] == [21, 41]  # charts anchored at rows 2, 22, 42
    lines = [s for c in dash._charts if c.tagname == "lineChart" for s in c.series]
    assert len(lines) == 3 and all(s.smooth is False for s in lines)
    assert dash.page_setup.orientation == "landscape" and not dash.print_title_rows
