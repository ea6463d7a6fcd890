"""The local .xlsx workbook sink (openpyxl): typed cells, number formats, a frozen filterable header, readable widths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.worksheet import Worksheet

from kpi.tables import Table
from sync.errors import PublishError
from sync.sinks import PublishResult
from sync.sinks.cells import CellValue, KindFormat, figure_formats, formats, header, table_rows
from sync.sinks.local import atomic_path, check_file_target

_MAX_WIDTH = 60  # a column wider than this wraps its text instead
_LINE_HEIGHT = 15  # points per wrapped line
_NUMERIC = {"int", "number", "money", "percent", "month", "date", "datetime", "count", "figure"}
_HEADER_FONT = Font(name="Calibri", bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


class XlsxSink:
    def __init__(self, path: str, *, currency: str = "EUR", timezone: str = "UTC"):
        self.path = Path(path)
        self.destination = f"xlsx:{path}"
        check_file_target(self.path.expanduser().absolute())  # a wrong destination fails before any work
        self.currency = currency
        self.timezone = timezone

    def publish(self, tables: Sequence[Table], *, force: bool = False) -> PublishResult:
        """Write the whole workbook to a temporary file, read it back, then rename it over the old one."""
        book = Workbook()
        book.remove(book.active)
        fmt = formats(self.currency)
        expected: dict[str, int] = {}
        try:
            for table in tables:
                rows = table_rows(table, self.timezone)
                sheet = book.create_sheet(title=table.name[:31])
                _write_sheet(sheet, table, rows, fmt)
                expected[sheet.title] = 1 + max(1, len(rows))
        except IllegalCharacterError as exc:  # sinks get holdable text (cells.py); this is the last line of defence
            raise PublishError(f"cannot write {self.path}: {exc}") from None
        with atomic_path(self.path) as tmp:
            book.save(tmp)
            verify_workbook(tmp, expected, self.path.name)
        return PublishResult(destination=self.destination, written=[t.name for t in tables])


def verify_workbook(path: Path, expected: dict[str, int], name: str) -> None:
    """Read a written workbook back whole: it must open and hold each sheet with at least its rows.

    Raises PublishError otherwise (e.g. text openpyxl wrote but no reader can parse), so a broken
    file never replaces a good one.
    """
    try:
        with path.open("rb") as handle:  # a file object: openpyxl judges a path by its extension (ours is .tmp)
            book = load_workbook(handle, read_only=True)
            try:
                found = {name: sum(1 for _ in book[name].iter_rows(values_only=True)) for name in book.sheetnames}
            finally:
                book.close()
    except Exception as exc:  # whatever openpyxl, zipfile or the XML parser raise: the file is not readable
        raise PublishError(f"the workbook written for {name} does not read back ({type(exc).__name__}: "
                           f"{str(exc)[:120]}); the previous output is left as it was") from None
    short = [name for name, rows in expected.items() if found.get(name, 0) < rows]
    if list(found) != list(expected) or short:
        raise PublishError(f"the workbook written for {name} reads back incomplete "
                           f"({', '.join(short) or 'tabs differ'}); the previous output is left as it was")


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


def _figure_width(value: object, fmt: KindFormat | None) -> int:
    """About the width of a figure as shown: its digits and the words its format puts around them."""
    if fmt is None or fmt.pattern is None:
        return len(str(value)) if value is not None else 0
    words = sum(len(w) for w in fmt.pattern.split(";")[0].split('"')[1::2])
    return len(f"{value:,.2f}") + 1 + words


def _write_sheet(sheet: Worksheet, table: Table, rows: list[list[CellValue]], fmt: dict[str, KindFormat]) -> None:
    """One tab: a styled, frozen, filterable header; typed cells with number formats; widths fitted to the
    content, and long text wrapped in a capped column with rows tall enough to show it."""
    columns = table.columns
    sheet.append(header(table))
    for cell, column in zip(sheet[1], columns, strict=True):
        cell.data_type = TYPE_STRING  # a column name (an attribute's key) is never a formula either
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="right" if column.kind in _NUMERIC else "left", vertical="top")
    sheet.freeze_panes = "B2" if len(columns) > 1 else "A2"  # keep each row's label in view when scrolling right
    for row in rows:
        sheet.append(row)
    if not rows:
        sheet.cell(row=2, column=1, value="(none)").font = Font(italic=True, color="808080")
    else:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    lines = [1] * len(rows)
    for j, column in enumerate(columns, start=1):
        values = [r[j - 1] for r in rows]
        width = max([len(column.name), *(_shown_width(v, column.kind) for v in values)]) + 2
        wrap = column.kind == "text" and width > _MAX_WIDTH
        pattern = fmt[column.kind].pattern
        per_cell = figure_formats(table.frame.iloc[:, j - 1], fmt) if column.kind == "figure" else None
        if per_cell is not None:  # each figure has its own format, words included: the width is the widest shown
            width = max([len(column.name), *(_figure_width(v, f) for v, f in zip(values, per_cell, strict=True))]) + 2
        for i, cell in enumerate(next(sheet.iter_cols(min_col=j, max_col=j, min_row=2), ())):
            if cell.value is None:
                continue
            if per_cell is not None:
                own = per_cell[i]
                if own is not None and own.pattern:
                    cell.number_format = own.pattern
                elif isinstance(cell.value, str):
                    cell.data_type = TYPE_STRING  # text in a figure column is never a formula either
            elif column.kind == "text":
                # Never a formula: openpyxl would store "=..." as one unless told it is a string.
                cell.data_type = TYPE_STRING
                if wrap:
                    cell.alignment = _WRAP
                    lines[i] = max(lines[i], -(-len(str(cell.value)) // (_MAX_WIDTH - 4)))
            elif pattern:
                cell.number_format = pattern
        sheet.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, width)
    for i, n in enumerate(lines, start=2):
        if n > 1:
            sheet.row_dimensions[i].height = _LINE_HEIGHT * n
            for cell in sheet[i]:  # the rest of a tall row reads from its top, beside the wrapped text
                if not cell.alignment.wrap_text:
                    cell.alignment = _TOP
    if table.note:
        sheet.cell(row=len(rows) + 3, column=1, value=table.note).data_type = TYPE_STRING
