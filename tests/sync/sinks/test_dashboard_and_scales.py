"""The Dashboard's charts and the colour scales are declared once (kpi.tables.Chart, ColorScale) and every sink that can
hold them draws the same: native charts and conditional formats in the .xlsx workbook, charts and conditional format
rules in the one batchUpdate of the Google spreadsheet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import range_boundaries

from kpi.tables import Chart, ColorScale, Column, Tab, Table, all_tabs
from sync.run import run_once
from sync.settings import load_settings
from sync.sinks.cells import SCALE_GREEN, SCALE_RED, scale_ranges
from sync.sinks.xlsx import XlsxSink

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "data" / "sample" / "payments"
AS_OF = "2017-10-17"


def _sample_config(tmp_path: Path) -> Path:
    path = tmp_path / "kpi.toml"
    path.write_text(f'[sources]\ninvoices = "{SAMPLE / "invoices.json"}"\ncustomers = "{SAMPLE / "customers.json"}"\n'
                    f'[guard]\nstate_file = "{tmp_path / "state.json"}"\n', encoding="utf-8")
    return path


def test_every_declared_scale_and_chart_names_columns_of_its_tab() -> None:
    """A declaration naming a column its tab lacks would fail a publish: caught here instead."""
    for tab in all_tabs():
        names = set(tab.column_names)
        for scale in tab.scales:
            assert set(scale.columns) <= names, (tab.name, scale)
            assert scale.columns or scale.wide, (tab.name, scale)
            assert not scale.wide or tab.wide_kind is not None, (tab.name, scale)
        for chart in tab.charts:
            assert {chart.x, *chart.series} <= names, (tab.name, chart)


def grid_table() -> Table:
    cols = (Column("Cohort", "month"), Column("Churn %", "percent"), Column("Size", "int"))
    tab = Tab(name="Grid", description="", columns=cols, build=lambda ctx: pd.DataFrame(), wide_kind="percent",
              charts=(Chart("Churn", "line", "Cohort", ("Churn %",)),),
              scales=(ColorScale(("Churn %",), good="low"), ColorScale(wide=True)))
    extra = (Column("Month 0", "percent"), Column("Month 1", "percent"))
    frame = pd.DataFrame({"Cohort": pd.date_range("2017-01-01", periods=3, freq="MS"), "Churn %": [0.1, 0.2, 0.05],
                          "Size": [3, 4, 5], "Month 0": [1.0, 1.0, 1.0], "Month 1": [0.5, 0.75, None]})
    return Table(tab=tab, columns=cols + extra, frame=frame)


def test_scale_ranges_read_the_declaration() -> None:
    """Declared columns each get a scale of their own, the wide columns one scale over the grid; churn is green when low."""
    ranges = scale_ranges(grid_table())
    assert [(r.first, r.last) for r in ranges] == [(1, 1), (3, 4)]
    assert (ranges[0].low, ranges[0].high) == (SCALE_GREEN, SCALE_RED)
    assert (ranges[1].low, ranges[1].high) == (SCALE_RED, SCALE_GREEN)


def test_xlsx_draws_the_declared_scales_and_charts(tmp_path: Path) -> None:
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([grid_table()])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Dashboard", "Grid"]
    rules = {str(cf.sqref): [r.colorScale for r in cf.rules] for cf in book["Grid"].conditional_formatting}
    assert set(rules) == {"B2:B4", "D2:E4"}
    low = rules["B2:B4"][0]
    assert [v.type for v in low.cfvo] == ["min", "percentile", "max"]
    assert [c.rgb[-6:] for c in low.color] == [SCALE_GREEN, "FFEB84", SCALE_RED]
    assert [c.rgb[-6:] for c in rules["D2:E4"][0].color] == [SCALE_RED, "FFEB84", SCALE_GREEN]
    (chart,) = book["Dashboard"]._charts
    assert [s.val.numRef.f for s in chart.series] == ["'Grid'!$B$2:$B$4"]
    assert [s.tx.strRef.f for s in chart.series] == ["'Grid'!B1"]
    assert chart.series[0].cat.numRef.f == "'Grid'!$A$2:$A$4"


def churn_table() -> Table:
    """A month table whose last row is the partial month of as_of (its Period "partial, to ...")."""
    cols = (Column("Month", "month"), Column("Period", "text"), Column("Logo churn %", "percent"))
    tab = Tab(name="Months", description="", columns=cols, build=lambda ctx: pd.DataFrame(),
              scales=(ColorScale(("Logo churn %",), good="low"),))
    frame = pd.DataFrame({"Month": pd.date_range("2017-07-01", periods=4, freq="MS"),
                          "Period": ["complete", "complete", "complete", "partial, to 2017-10-17"],
                          "Logo churn %": [0.05, 0.04, 0.06, 0.01]})
    return Table(tab=tab, columns=cols, frame=frame)


def test_a_partial_period_is_left_out_of_the_colour_scales() -> None:
    """Seventeen days of churn (1%) would be the greenest cell of the scale: the partial month is not coloured, in the
    workbook nor in the spreadsheet, and a tab of nothing but a partial period gets no scale."""
    (r,) = scale_ranges(churn_table())
    assert (r.first, r.last, r.top, r.bottom) == (2, 2, 0, 2)
    only = churn_table()
    only = Table(tab=only.tab, columns=only.columns, frame=only.frame.iloc[3:].reset_index(drop=True))
    assert scale_ranges(only) == []
    from sync.sinks.gsheet_plan import add_scale_requests, render_table
    (req,) = add_scale_requests(render_table(churn_table()), 7)
    (rng,) = req["addConditionalFormatRule"]["rule"]["ranges"]
    assert (rng["startRowIndex"], rng["endRowIndex"]) == (1, 4)  # grid rows 2-4: the three complete months


def test_xlsx_leaves_the_partial_period_uncoloured(tmp_path: Path) -> None:
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([churn_table()])
    book = openpyxl.load_workbook(path)
    assert [str(cf.sqref) for cf in book["Months"].conditional_formatting] == ["C2:C4"]


def _xlsx_charts(book: openpyxl.Workbook) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each Dashboard chart as (title, [(series title cell, values range)]), with ranges as 'Tab'!A1:A9."""
    out = []
    for chart in book["Dashboard"]._charts:
        title = "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
        series = [(s.tx.strRef.f.replace("$", ""), s.val.numRef.f.replace("$", "")) for s in chart.series]
        out.append((title, series))
    return out


def _a1(titles: dict[int, str], rng: dict[str, Any]) -> str:
    """A Sheets GridRange as 'Tab'!A1:B9."""
    from openpyxl.utils import get_column_letter as letter
    return (f"'{titles[rng['sheetId']]}'!{letter(rng['startColumnIndex'] + 1)}{rng['startRowIndex'] + 1}:"
            f"{letter(rng['endColumnIndex'])}{rng['endRowIndex']}")


@pytest.mark.skipif(not (SAMPLE / "invoices.json").exists(), reason="the shipped sample data is absent")
def test_xlsx_and_google_sheets_draw_the_same_charts_and_scales(fake, service_key, tmp_path, monkeypatch) -> None:
    """On the shipped sample: the xlsx Dashboard's charts and the Sheets Dashboard's charts are the same charts over the
    same cells, and both sinks put the same colour scales on the same cells (Sheets: in its one batchUpdate)."""
    config = _sample_config(tmp_path)
    for name in ("GOOGLE_SERVICE_ACCOUNT_FILE", "KPI_SYNC_SPREADSHEET_ID", "LUCCA_BASE_URL", "LUCCA_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    env = {"GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(service_key), "KPI_SYNC_SPREADSHEET_ID": fake.spreadsheet_id}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clock = lambda: pd.Timestamp("2024-01-01 08:00", tz="UTC")  # noqa: E731
    run_once(load_settings(config, env), as_of=AS_OF, clock=clock)
    path = tmp_path / "k.xlsx"
    run_once(load_settings(config, {}), sink_uri=f"xlsx:{path}", as_of=AS_OF, clock=clock, force=True)

    (body,) = [c.body for c in fake.calls if c.kind == "batchUpdate"]
    titles = {s.id: s.props["title"] for s in fake.book.sheets}
    sheets_charts = []
    for req in body["requests"]:
        if "addChart" in req:
            spec = req["addChart"]["chart"]["spec"]
            series = []
            for s in spec["basicChart"]["series"]:
                (src,) = s["series"]["sourceRange"]["sources"]
                full = _a1(titles, src)  # header row + values, as Sheets reads a series
                tab, cells = full.split("!")
                first, last = cells.split(":")
                column = first.rstrip("0123456789")
                series.append((f"{tab}!{first}", f"{tab}!{column}2:{last}"))
            sheets_charts.append((spec["title"], series))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "Dashboard"
    declared = [c.title for t in all_tabs() for c in t.charts if t.name in book.sheetnames]
    # as_of 2017-10-17 is partial: month and quarter charts say it is not drawn, the others keep their title
    assert [t.split(" (partial ")[0].split(" (on assumed ")[0] for t, _ in _xlsx_charts(book)] == declared
    assert any(t.endswith("(partial 2017-10 not drawn)") for t, _ in _xlsx_charts(book))
    # no [economics] set: the charts of spend-based figures say they rest on assumed inputs, the others do not
    assumed = [t.split(" (on assumed")[0] for t, _ in _xlsx_charts(book) if " (on assumed inputs)" in t]
    assert assumed == ["CAC vs new MRR per new customer", "LTV:CAC", "CAC payback (months)"]
    assert _xlsx_charts(book) == sheets_charts

    sheets_scales = sorted(
        (_a1(titles, rng), tuple(req["addConditionalFormatRule"]["rule"]["gradientRule"][p]["type"]
                                  for p in ("minpoint", "midpoint", "maxpoint")))
        for req in body["requests"] if "addConditionalFormatRule" in req
        for rng in req["addConditionalFormatRule"]["rule"]["ranges"])
    xlsx_scales = sorted(
        (f"'{name}'!{cf.sqref}", tuple(v.type.upper().replace("MIN", "MIN") for v in rule.colorScale.cfvo))
        for name in book.sheetnames for cf in book[name].conditional_formatting for rule in cf.rules)
    assert sheets_scales == [(a, ("MIN", "PERCENTILE", "MAX")) for a, _ in xlsx_scales]
    assert [a for a, _ in sheets_scales] == [a for a, _ in xlsx_scales]
    scaled = {a.split("!")[0].strip("'") for a, _ in xlsx_scales}
    assert {"MRR", "MRR by quarter", "Cohorts (logos)", "Cohorts (revenue)", "Retention by age",
            "Unit economics"} <= scaled
    logos = next(a for a, _ in xlsx_scales if a.startswith("'Cohorts (logos)'"))
    first_col, first_row, last_col, last_row = range_boundaries(logos.split("!")[1])
    sheet = book["Cohorts (logos)"]
    assert sheet.cell(row=1, column=first_col).value == "Month 0"
    period = [sheet.cell(row=1, column=c).value for c in range(1, sheet.max_column + 1)].index("Period") + 1
    assert last_col == sheet.max_column and first_row == 2 and last_row == 1 + sum(  # the partial cohort left out
        1 for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=1).value is not None
        and not isinstance(sheet.cell(row=r, column=1).value, str)
        and not str(sheet.cell(row=r, column=period).value).startswith("partial"))
    assert str(sheet.cell(row=last_row + 1, column=period).value).startswith("partial")


def grid_rows(n: int) -> Table:
    base = grid_table()
    frame = pd.DataFrame({"Cohort": pd.date_range("2017-01-01", periods=n, freq="MS"),
                          "Churn %": [0.01 * i for i in range(n)], "Size": list(range(n)),
                          "Month 0": [1.0] * n, "Month 1": [0.5] * n})
    return Table(tab=base.tab, columns=base.columns, frame=frame)


def _rules(fake, title: str) -> list[tuple[int, int, int, int]]:
    return [(r["ranges"][0]["startRowIndex"], r["ranges"][0]["endRowIndex"], r["ranges"][0]["startColumnIndex"],
             r["ranges"][0]["endColumnIndex"]) for r in fake.sheet(title).conditional_formats]


def test_sheets_redraws_its_rules_with_the_tab_never_piles_them_up(fake, make_sink) -> None:
    """The first publish adds the declared rules in its one batchUpdate; a change replaces them (the new row count),
    in the same request as the cells; an unchanged run sends nothing; a staged publish switches them too."""
    make_sink().publish([grid_rows(3)])
    (first,) = fake.bodies()
    kinds = [next(iter(r)) for r in first["requests"]]
    assert kinds.count("addConditionalFormatRule") == 2 and "addChart" in kinds
    assert _rules(fake, "Grid") == [(1, 4, 1, 2), (1, 4, 3, 5)]
    make_sink().publish([grid_rows(5)])
    second = fake.bodies()[-1]
    kinds = [next(iter(r)) for r in second["requests"]]
    assert kinds.count("deleteConditionalFormatRule") == 2 and kinds.count("addConditionalFormatRule") == 2
    assert _rules(fake, "Grid") == [(1, 6, 1, 2), (1, 6, 3, 5)]
    sent = len(fake.bodies())
    make_sink().publish([grid_rows(5)])
    assert len(fake.bodies()) == sent
    make_sink(max_request_bytes=6000).publish([grid_rows(200)])
    assert len(fake.bodies()) > sent + 1  # staged: hidden tabs first, then the switch
    assert _rules(fake, "Grid") == [(1, 201, 1, 2), (1, 201, 3, 5)]
    assert not [t for t in fake.titles() if t.startswith("kpi-sync staging")]


def partial_table() -> Table:
    """A month table whose last row is the partial month of as_of (metrics.md 4)."""
    cols = (Column("Month", "month"), Column("Period", "text"), Column("MRR", "money"))
    tab = Tab(name="Months", description="", columns=cols, build=lambda ctx: pd.DataFrame(),
              charts=(Chart("MRR over time", "line", "Month", ("MRR",)),))
    frame = pd.DataFrame({"Month": pd.date_range("2017-07-01", periods=4, freq="MS"),
                          "Period": ["complete", "complete", "complete", "partial, to 2017-10-17"],
                          "MRR": [100.0, 110.0, 120.0, 40.0]})
    return Table(tab=tab, columns=cols, frame=frame)


def test_charts_leave_the_partial_period_out_in_every_sink(tmp_path: Path) -> None:
    """A trend line never ends in the partial month (it would read as a collapse): both sinks draw the complete
    rows only and the title says which period is left out; a table with no partial row draws every row."""
    table = partial_table()
    (chart,) = table.charts
    assert chart.rows == 3 and chart.title == "MRR over time (partial 2017-10 not drawn)"
    whole = Table(tab=table.tab, columns=table.columns, frame=table.frame.iloc[:3])
    assert whole.charts == table.tab.charts

    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([table])
    (drawn,) = openpyxl.load_workbook(path)["Dashboard"]._charts
    assert drawn.series[0].val.numRef.f == "'Months'!$C$2:$C$4"  # header in row 1, the partial month in row 5
    assert drawn.title.tx.rich.p[0].r[0].t == chart.title

    from sync.sinks.gsheet_plan import chart_spec, render_table

    spec = chart_spec(chart, render_table(table), sheet_id=7)
    source = spec["basicChart"]["series"][0]["series"]["sourceRange"]["sources"][0]
    assert (source["startRowIndex"], source["endRowIndex"]) == (0, 4)  # header + 3 complete months
    assert spec["title"] == chart.title


def test_a_chart_says_assumed_inputs_only_for_the_drawn_rows_and_what_it_rests_on() -> None:
    """The caveat reads the drawn rows only (a partial month's default spend is not drawn) and only the assumptions the
    chart rests on: a CAC chart is not caveated by a default gross margin, which CAC does not use."""
    from kpi import economics

    tab = economics.TABS[0]
    months = pd.date_range("2017-07-01", periods=3, freq="MS")
    frame = pd.DataFrame({c.name: [None] * 3 for c in tab.columns})
    frame["Month"], frame["Period"] = months, ["complete", "complete", "partial, to 2017-09-17"]
    margin = "gross margin: the default 100.0%, not set"
    frame["Assumed inputs"] = ["", "", "spend: the default 4,000.00 EUR a month, not set"]
    titles = [c.title for c in Table(tab=tab, columns=tab.columns, frame=frame).charts]
    assert not any("assumed" in t for t in titles)  # only the undrawn partial month assumes anything
    frame["Assumed inputs"] = [margin, margin, margin]
    titles = [c.title for c in Table(tab=tab, columns=tab.columns, frame=frame).charts]
    assert titles == ["CAC vs new MRR per new customer (partial 2017-09 not drawn)",
                      "LTV:CAC (on assumed inputs) (partial 2017-09 not drawn)",
                      "CAC payback (months) (on assumed inputs) (partial 2017-09 not drawn)"]
