"""The .xlsx Dashboard: the tabs' declared charts (kpi.tables.Chart, the same the Google Sheets Dashboard draws)
as native Excel charts (openpyxl.chart), each reading its tab's columns; and the print setup of every tab."""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.chart import AreaChart, BarChart, LineChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.styles import Font
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from kpi.tables import Chart, Table
from sync.errors import PublishError
from sync.sinks.cells import formats

CHART_ROWS = 20  # dashboard rows per chart, as on the Google Sheets Dashboard
CHART_WIDTH_CM, CHART_HEIGHT_CM = 24.0, 10.0  # about the 900 x 380 pixels of a Sheets chart
DASHBOARD_TEXT = "Charts drawn from the tabs of this workbook; kpi-sync redraws them on every run."
_AXIS_FORMAT = {"month": "yyyy-mm", "date": "yyyy-mm-dd", "percent": "0%", "money": "#,##0", "int": "#,##0",
                "number": "#,##0.0"}


def chart_columns(chart: Chart, table: Table) -> tuple[int, list[int]]:
    """The 0-based columns of a chart's x and series in its table. Raises PublishError for a column the tab lacks."""
    where = {c.name: i for i, c in enumerate(table.columns)}
    missing = [c for c in (chart.x, *chart.series) if c not in where]
    if missing:
        raise PublishError(f"tab {table.name!r}: chart {chart.title!r} names columns the tab lacks: {', '.join(missing)}")
    return where[chart.x], [where[s] for s in chart.series]


def _chart(chart: Chart) -> ChartBase:
    if chart.kind == "line":
        return LineChart()
    if chart.kind == "area":
        return AreaChart()
    bars = BarChart()
    bars.type = "col"
    if chart.kind == "stacked_column":
        bars.grouping = "stacked"
        bars.overlap = 100
    return bars


def add_dashboard(book: Workbook, name: str, tables: Sequence[tuple[Table, Worksheet, int]], currency: str) -> int:
    """A Dashboard sheet, first in the workbook, with one native chart per declared chart of the tables
    (table, its sheet, its data rows written). Returns the number of charts; no sheet when there are none."""
    declared = [(chart, table, sheet, rows) for table, sheet, rows in tables for chart in table.charts]
    if not declared:
        return 0
    if name in book.sheetnames:
        raise PublishError(f"a tab is named {name!r} like the dashboard: set [publish] dashboard_tab to another name")
    dash = book.create_sheet(name, 0)
    dash["A1"] = DASHBOARD_TEXT
    dash["A1"].font = Font(italic=True)
    money = str(formats(currency)["money"].pattern).replace("#,##0.00", "#,##0")  # whole amounts on an axis
    for i, (chart, table, sheet, rows) in enumerate(declared):
        x, series = chart_columns(chart, table)
        drawn = _chart(chart)
        drawn.title = chart.title
        drawn.width, drawn.height = CHART_WIDTH_CM, CHART_HEIGHT_CM
        last = max(2, (rows if chart.rows is None else min(rows, chart.rows)) + 1)
        for col in series:
            drawn.add_data(Reference(sheet, min_col=col + 1, min_row=1, max_row=last), titles_from_data=True)
        drawn.set_categories(Reference(sheet, min_col=x + 1, min_row=2, max_row=last))
        drawn.x_axis.title = chart.x
        x_format = _AXIS_FORMAT.get(table.columns[x].kind)
        if x_format:
            drawn.x_axis.number_format = x_format
        kinds = {table.columns[c].kind for c in series}
        if len(kinds) == 1:
            (kind,) = kinds
            drawn.y_axis.number_format = money if kind == "money" else _AXIS_FORMAT.get(kind, "General")
        drawn.x_axis.delete = False  # openpyxl hides both axes unless told (Excel then draws none)
        drawn.y_axis.delete = False
        drawn.legend.position = "b"
        if isinstance(drawn, LineChart):
            for line in drawn.series:
                line.smooth = False  # openpyxl smooths lines by default: a reader would see values never measured
        dash.add_chart(drawn, f"A{2 + CHART_ROWS * i}")
        if i:
            dash.row_breaks.append(Break(id=1 + CHART_ROWS * i))  # printed one chart a page, none cut in two
    print_setup(dash, titles=False)
    book.active = 0
    return len(declared)


def print_setup(sheet: Worksheet, *, one_page: bool = False, titles: bool = True) -> None:
    """Landscape, as wide as one page (as many pages tall as it takes), the header row on every page, the tab's
    name and page numbers in the footer.

    `one_page`: the whole tab on one portrait page, for the Summary: its three columns of sentences are about
    as wide as a portrait page and a little taller, so portrait prints it at ~85% where landscape would
    need ~60%; each sentence stays beside its value either way. `titles`: repeat row 1 (the header) on each page."""
    sheet.page_setup.orientation = "portrait" if one_page else "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1 if one_page else 0
    if titles:
        sheet.print_title_rows = "1:1"
    sheet.oddFooter.center.text = "&A - page &P of &N"
