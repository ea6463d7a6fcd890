"""The local .xlsx workbook sink (openpyxl): typed cells, number formats, frozen bold header, readable widths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from kpi.tables import Table
from sync.sinks import PublishResult
from sync.sinks.cells import formats, header, table_rows
from sync.sinks.local import atomic_path

_MAX_WIDTH = 60


class XlsxSink:
    def __init__(self, path: str, *, currency: str = "EUR", timezone: str = "UTC"):
        self.path = Path(path)
        self.destination = f"xlsx:{path}"
        self.currency = currency
        self.timezone = timezone

    def publish(self, tables: Sequence[Table], *, force: bool = False) -> PublishResult:
        """Write the whole workbook to a temporary file, then rename it over the old one."""
        book = Workbook()
        book.remove(book.active)
        fmt = formats(self.currency)
        for table in tables:
            sheet = book.create_sheet(title=table.name[:31])
            sheet.append(header(table))
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.freeze_panes = "A2"
            rows = table_rows(table, self.timezone)
            for row in rows:
                sheet.append(row)
            widths = [len(c.name) for c in table.columns]
            for j, column in enumerate(table.columns, start=1):
                pattern = fmt[column.kind].pattern
                cells = next(sheet.iter_cols(min_col=j, max_col=j, min_row=2), ())
                for cell in cells:
                    if cell.value is None:
                        continue
                    if column.kind == "text":
                        # Never a formula: openpyxl would store "=..." as one unless told it is a string.
                        cell.data_type = TYPE_STRING
                    elif pattern:
                        cell.number_format = pattern
                sample = [r[j - 1] for r in rows[:200]]
                widths[j - 1] = max([widths[j - 1], *(_shown_width(v, column.kind) for v in sample)])
                sheet.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, widths[j - 1] + 2)
            if table.note:
                sheet.cell(row=len(rows) + 3, column=1, value=table.note).data_type = TYPE_STRING
        with atomic_path(self.path) as tmp:
            book.save(tmp)
        return PublishResult(destination=self.destination, written=[t.name for t in tables])


def _shown_width(value: object, kind: str) -> int:
    if value is None:
        return 0
    if kind == "month":
        return 7
    if kind == "date":
        return 10
    if kind == "datetime":
        return 19
    if kind in ("money", "number"):
        return len(f"{value:,.2f}") + (4 if kind == "money" else 0)
    if kind == "percent":
        return 7
    return len(str(value))
