"""The Summary's values are numbers with a format of their own, in every sink; money reads the same everywhere;
medians of whole numbers are shown whole."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi.summary import TABS as SUMMARY_TABS
from kpi.tables import Figure, Table
from sync.cli import main
from sync.sinks.cells import figure_format, formats, table_rows
from sync.sinks.csv import CsvSink
from sync.sinks.gsheet_plan import render_table
from sync.sinks.xlsx import XlsxSink

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "payments"


def summary_table() -> Table:
    """A Summary of hand-made figures: money, signed money, a percent with words, a ratio, a count; one empty."""
    tab = SUMMARY_TABS[0]
    frame = pd.DataFrame({
        "Topic": ["MRR", "MRR movements", "Revenue retention", "LTV:CAC", "Core users", "Churn"],
        "Value": [Figure(41019.234, "money"), Figure(-1436.5, "money", signed=True),
                  Figure(1.0434, "percent", prefix="NRR ", suffix=" (2017-Q3)"),
                  Figure(15.391, "number", 2, suffix=" (assumed inputs)"), Figure(75, "int", suffix=" customers"),
                  None],
        "Sentence": ["a", "b", "c", "d", "e", "No month is complete yet."],
    })
    return Table(tab=tab, columns=tab.columns, frame=frame)


PATTERNS = [
    '#,##0.00 "EUR"',
    '+#,##0.00 "EUR";-#,##0.00 "EUR";#,##0.00 "EUR"',
    '"NRR "0.0%" (2017-Q3)"',
    '#,##0.00" (assumed inputs)"',
    '#,##0" customers"',
]
SHOWN = ["41,019.23 EUR", "-1,436.50 EUR", "NRR 104.3% (2017-Q3)", "15.39 (assumed inputs)", "75 customers", ""]


def test_figures_are_numbers_with_their_own_format() -> None:
    """Each figure is written as its number; its format is its kind's (money exactly as in money columns) with the
    words around it; Figure.text is what the cell shows."""
    table = summary_table()
    values = [row[1] for row in table_rows(table)]
    assert values == [41019.23, -1436.5, 1.0434, 15.391, 75, None]
    fmt = formats("EUR")
    figures = [v for v in table.frame["Value"] if v is not None]
    assert [figure_format(f, fmt).pattern for f in figures] == PATTERNS
    assert figure_format(figures[0], fmt).pattern == fmt["money"].pattern
    assert [v.text("EUR") if v is not None else "" for v in table.frame["Value"]] == SHOWN


def test_xlsx_writes_the_figures_as_formatted_numbers(tmp_path: Path) -> None:
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([summary_table()])
    sheet = openpyxl.load_workbook(path)["Summary"]
    cells = [sheet.cell(row=r, column=2) for r in range(2, 8)]
    assert [c.value for c in cells] == [41019.23, -1436.5, 1.0434, 15.391, 75, None]
    assert [c.data_type for c in cells[:5]] == ["n"] * 5
    assert [c.number_format for c in cells[:5]] == PATTERNS


def test_google_sheets_gets_number_values_each_with_its_format() -> None:
    rendered = render_table(summary_table(), currency="EUR")
    cells = [row["values"][1] for row in rendered.rows[1:]]
    assert [c.get("userEnteredValue", {}).get("numberValue") for c in cells] == [41019.23, -1436.5, 1.0434, 15.391, 75,
                                                                                 None]
    got = [c["userEnteredFormat"]["numberFormat"] for c in cells[:5]]
    assert [f["pattern"] for f in got] == PATTERNS
    assert [f["type"] for f in got] == ["CURRENCY", "CURRENCY", "PERCENT", "NUMBER", "NUMBER"]
    assert "userEnteredFormat" not in cells[5]


def test_csv_writes_plain_numbers(tmp_path: Path) -> None:
    CsvSink(str(tmp_path / "o")).publish([summary_table()])
    with (tmp_path / "o" / "summary.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["Value"] for r in rows] == ["41019.23", "-1436.5", "1.0434", "15.391", "75", ""]


@pytest.mark.skipif(not (SAMPLE / "invoices.json").exists(), reason="the shipped sample data is absent")
def test_sample_workbook_summary_is_typed_and_money_reads_alike(tmp_path: Path) -> None:
    """On the shipped sample: every Summary value is a number with a format (or empty); every amount in a sentence
    has its cents, as in the money columns (no "0.00 EUR" beside "1,436 EUR"); Core users' medians of seats,
    sessions and tenure are shown whole."""
    config = tmp_path / "kpi.toml"
    config.write_text(f'[sources]\ninvoices = "{SAMPLE / "invoices.json"}"\ncustomers = "{SAMPLE / "customers.json"}"\n',
                      encoding="utf-8")
    path = tmp_path / "k.xlsx"
    assert main(["now", "--config", str(config), "--sink", f"xlsx:{path}"]) == 0
    book = openpyxl.load_workbook(path)
    rows = list(book["Summary"].iter_rows(min_row=2))
    assert len(rows) >= 8
    for topic, value, sentence in ((r[0].value, r[1], r[2].value) for r in rows):
        assert value.value is None or (value.data_type == "n" and value.number_format != "General"), topic
        amounts = re.findall(r"[\d.,]+ EUR", sentence)
        assert all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d EUR", a) for a in amounts), (topic, amounts)
    by_topic = {r[0].value: r[1] for r in rows}
    assert "EUR" in by_topic["MRR"].number_format and by_topic["Churn"].number_format == "0.0%"
    core = book["Core users"]
    header = [c.value for c in core[1]]
    for name in ("Median seats", "Median sessions", "Median tenure (months)"):
        cells = [row[header.index(name)] for row in core.iter_rows(min_row=2) if row[header.index(name)].value is not None]
        assert cells and all(c.number_format == "General" for c in cells), name  # 8, not 8.00
