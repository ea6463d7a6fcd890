"""The local .xlsx workbook sink: typed cells, number formats, a frozen filterable header, readable widths.

Linear in cells. openpyxl writes the workbook's frame (each tab's header, styles, widths, frozen panes,
filter, colour scales and print setup; the Dashboard's charts) with no data rows; the data rows are built
column-wise with Arrow (sync/sinks/xlsx_rows.py) and spliced into each worksheet's `<sheetData>` while
the package is copied to the temporary file. openpyxl stays the one library that writes what a reader
sees around the cells (it reads the workbook back in the tests); XlsxWriter would be as slow per cell
(~10 us a cell in Python) and a second library for the same format.

A sheet holds at most XLSX_MAX_ROWS rows: a longer tab (or one past [publish] max_rows_per_tab) is cut,
its note says how many rows were left out and what their money adds up to, and the run is told; so is a
tab past XLSX_MAX_COLUMNS columns (customer attributes). Excel can open every workbook this sink writes.
"""

from __future__ import annotations

import io
import re
import xml.parsers.expat
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.worksheet import Worksheet

from kpi.tables import Table
from sync.errors import PublishError
from sync.sinks import PublishResult
from sync.sinks.cells import KindFormat, formats, header, scale_ranges
from sync.sinks.local import atomic_path, check_file_target
from sync.sinks.xlsx_dashboard import add_dashboard, print_setup
from sync.sinks.xlsx_rows import (
    MAX_WIDTH,
    Prepared,
    Styles,
    body_xml,
    column_letter,
    figure_patterns,
    prepare,
    text_row,
)

XLSX_MAX_ROWS = 1_048_576  # rows a worksheet holds (Excel's limit); a module constant so a test can lower it
XLSX_MAX_COLUMNS = 16_384  # columns a worksheet holds (A to XFD)
SUMMARY_TAB = "Summary"  # printed on one page: its sentences beside their values
COMPRESS_LEVEL = 1  # zlib level of the package: level 6 makes files ~15% smaller and the sink ~2x slower
_NUMERIC = {"int", "number", "money", "percent", "month", "date", "datetime", "count", "figure"}
_HEADER_FONT = Font(name="Calibri", bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_NONE_FONT = Font(italic=True, color="808080")
_ALIGN = {"wrap": Alignment(wrap_text=True, vertical="top"), "top": Alignment(vertical="top")}
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


class XlsxSink:
    def __init__(self, path: str, *, currency: str = "EUR", timezone: str = "UTC", max_rows_per_tab: int = 0,
                 dashboard_tab: str = "Dashboard"):
        self.path = Path(path)
        self.destination = f"xlsx:{path}"
        check_file_target(self.path.expanduser().absolute())  # a wrong destination fails before any work
        self.currency = currency
        self.timezone = timezone
        self.max_rows_per_tab = max_rows_per_tab
        self.dashboard_tab = dashboard_tab

    def publish(self, tables: Sequence[Table], *, force: bool = False) -> PublishResult:
        """Write the whole workbook to a temporary file, read it back, then rename it over the old one."""
        book = Workbook()
        book.remove(book.active)
        fmt = formats(self.currency)
        registry = _StyleRegistry(book)
        bodies: dict[str, _Body] = {}
        notes: list[str] = []  # the tabs cut: the run logs them after "published", `now` prints them (said once)
        drawn: list[tuple[Table, Worksheet, int]] = []
        try:
            for table in tables:
                table, cut = _fit_columns(table)
                if cut:
                    notes.append(f"tab {table.name!r}: {cut}")
                body = _body(table, self.timezone, self._cap(), self.currency)
                sheet = book.create_sheet(title=table.name[:31])
                _write_frame(sheet, table, body, fmt)
                print_setup(sheet, one_page=table.name == SUMMARY_TAB)
                drawn.append((table, sheet, body.n_rows))
                body.styles = [_column_styles(registry, p, fmt[p.column.kind], w) for p, w in
                               zip(body.columns, body.wrap, strict=True)]
                for prep in body.columns:
                    if prep.figures is not None:
                        prep.cell_styles = _figure_styles(registry, figure_patterns(prep, fmt))
                body.none_style = registry.id(None, None, _NONE_FONT)
                bodies[sheet.title] = body
                if body.cut:
                    notes.append(f"tab {table.name!r}: {body.cut}")
            registry.close()
            if self.dashboard_tab:
                add_dashboard(book, self.dashboard_tab, drawn, self.currency)
            skeleton = io.BytesIO()
            book.save(skeleton)
        except IllegalCharacterError as exc:  # sinks get holdable text (cells.py); this is the last line of defence
            raise PublishError(f"cannot write {self.path}: {exc}") from None
        expected = {title: body.rows_written for title, body in bodies.items()}
        with atomic_path(self.path) as tmp:
            _assemble(skeleton.getvalue(), bodies, tmp)
            verify_workbook(tmp, expected, self.path.name)
        return PublishResult(destination=self.destination, written=[t.name for t in tables], notes=notes)

    def _cap(self) -> tuple[int, str]:
        """The most data rows a tab may have here, and why (a header row above, a blank row and a note below)."""
        room = XLSX_MAX_ROWS - 3
        if self.max_rows_per_tab and self.max_rows_per_tab <= room:
            return self.max_rows_per_tab, "[publish] max_rows_per_tab"
        return room, f"an .xlsx sheet holds at most {XLSX_MAX_ROWS:,} rows; publish to a CSV folder for every row"


# ---------------------------------------------------------------- one tab


@dataclass
class _Body:
    """A tab's data rows, ready to be written as XML, and what its frame needs to know of them."""

    columns: list[Prepared]
    n_rows: int  # data rows written (after any cut)
    wrap: list[bool]  # per column: long text wrapped in a capped column
    lines: np.ndarray | None  # text lines per row when a column wraps
    note: str | None
    cut: str = ""  # the sentence saying the tab was cut, or ""
    styles: list[Styles] | None = None
    none_style: int | None = None

    @property
    def last_row(self) -> int:
        """The last row of the sheet holding something."""
        return self.n_rows + 3 if self.note else 1 + max(1, self.n_rows)

    @property
    def rows_written(self) -> int:
        return 1 + max(1, self.n_rows) + (1 if self.note else 0)

    def xml(self) -> Iterator[bytes | memoryview]:
        assert self.styles is not None
        yield from body_xml(self.columns, self.styles, self.lines, self.n_rows)
        if not self.n_rows:
            yield text_row(2, "(none)", self.none_style)
        if self.note:
            yield text_row(self.n_rows + 3, self.note)


def _fit_columns(table: Table) -> tuple[Table, str]:
    """The table with at most XLSX_MAX_COLUMNS columns (the rest left out, its note saying so), and that sentence."""
    total = len(table.columns)
    if total <= XLSX_MAX_COLUMNS:
        return table, ""
    cut = (f"Truncated: the first {XLSX_MAX_COLUMNS:,} of {total:,} columns (an .xlsx sheet holds at most "
           f"{XLSX_MAX_COLUMNS:,}; publish to a CSV folder for every column).")
    note = f"{table.note} {cut}" if table.note else cut
    return Table(tab=table.tab, columns=table.columns[:XLSX_MAX_COLUMNS],
                 frame=table.frame.iloc[:, :XLSX_MAX_COLUMNS], note=note), cut


def _body(table: Table, timezone: str, cap: tuple[int, str], currency: str) -> _Body:
    frame = table.frame
    total = len(frame)
    limit, why = cap
    note = table.note
    cut = ""
    if total > limit:
        rest = frame.iloc[limit:]
        cut = f"Truncated: the first {limit:,} of {total:,} rows ({why})."
        sums = [f"{c.name} {pd.to_numeric(rest.iloc[:, i]).round(2).sum():,.2f} {currency}".rstrip()
                for i, c in enumerate(table.columns) if c.kind == "money"]
        if sums:
            cut += f" The {total - limit:,} rows left out add up to: {'; '.join(sums)}."
        frame = frame.iloc[:limit]
        note = f"{note} {cut}" if note else cut
    columns = []
    for i, column in enumerate(table.columns):
        try:
            columns.append(prepare(frame.iloc[:, i], column, timezone))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"tab {table.name!r}, column {column.name!r}: {exc}") from exc
    wrap = [p.text and max(len(p.column.name), p.width) + 2 > MAX_WIDTH for p in columns]
    lines = None
    if any(wrap):
        lines = np.ones(len(frame), dtype="int64")
        for p, w in zip(columns, wrap, strict=True):
            if w and p.lengths is not None:
                lines = np.maximum(lines, -(-p.lengths // (MAX_WIDTH - 4)))
    return _Body(columns=columns, n_rows=len(frame), wrap=wrap, lines=lines, note=note, cut=cut)


class _StyleRegistry:
    """Style ids (cellXfs indexes) for the spliced cells: openpyxl's own, from cells of a scratch sheet
    that is removed before the workbook is saved (the styles stay in the workbook's table)."""

    def __init__(self, book: Workbook):
        self.book = book
        self.sheet: Worksheet | None = None
        self.ids: dict[tuple[str | None, str | None, bool], int] = {}

    def id(self, pattern: str | None, align: str | None, font: Font | None = None) -> int | None:
        if pattern is None and align is None and font is None:
            return None
        key = (pattern, align, font is not None)
        if key not in self.ids:
            if self.sheet is None:
                self.sheet = self.book.create_sheet("kpi-sync styles")
            cell = self.sheet.cell(row=len(self.ids) + 1, column=1)
            if pattern:
                cell.number_format = pattern
            if align:
                cell.alignment = _ALIGN[align]
            if font is not None:
                cell.font = font
            self.ids[key] = cell.style_id
        return self.ids[key]

    def close(self) -> None:
        if self.sheet is not None:
            self.book.remove(self.sheet)
            self.sheet = None


def _column_styles(registry: _StyleRegistry, prep: Prepared, fmt: KindFormat, wrap: bool) -> Styles:
    """A column's cell styles: its number format; long text wraps; in a tall row every cell reads from the top."""
    if prep.text:
        if wrap:
            return Styles(registry.id(None, "wrap"), registry.id(None, "wrap"))
        return Styles(None, registry.id(None, "top"))
    pattern = fmt.pattern
    return Styles(registry.id(pattern, None), registry.id(pattern, "top"))


def _figure_styles(registry: _StyleRegistry, patterns: list[str | None]) -> tuple[pa.Array, pa.Array]:
    """A figure column's per-cell style attributes (its own number format), in an ordinary row and in a tall one."""
    normal = [_attr(registry.id(p, None)) for p in patterns]
    tall = [_attr(registry.id(p, "top")) for p in patterns]
    return pa.array(normal, type=pa.string()), pa.array(tall, type=pa.string())


def _attr(style: int | None) -> str:
    return "" if style is None else f' s="{style}"'


def _write_frame(sheet: Worksheet, table: Table, body: _Body, fmt: dict[str, KindFormat]) -> None:
    """What a reader sees around the data: a styled, frozen, filterable header and widths fitted to the
    content (long text wraps in a capped column)."""
    columns = table.columns
    sheet.append(header(table))
    for cell, column in zip(sheet[1], columns, strict=True):
        cell.data_type = TYPE_STRING  # a column name (an attribute's key) is never a formula either
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="right" if column.kind in _NUMERIC else "left", vertical="top")
    sheet.freeze_panes = "B2" if len(columns) > 1 else "A2"  # keep each row's label in view when scrolling right
    if body.n_rows:
        sheet.auto_filter.ref = f"A1:{column_letter(len(columns) - 1)}{body.n_rows + 1}"
    for j, (column, prep) in enumerate(zip(columns, body.columns, strict=True)):
        width = max(len(column.name), prep.width) + 2
        sheet.column_dimensions[column_letter(j)].width = min(MAX_WIDTH, width)
    _color_scales(sheet, table, body.n_rows)


def _color_scales(sheet: Worksheet, table: Table, n_rows: int) -> None:
    """The tab's declared colour scales (kpi.tables.ColorScale) as conditional formats on its data rows (a partial
    period left out: sync.sinks.cells.complete_rows)."""
    if not n_rows:
        return
    for scale in scale_ranges(table):
        bottom = min(scale.bottom, n_rows - 1) if scale.bottom >= 0 else n_rows - 1
        cells = f"{column_letter(scale.first)}{scale.top + 2}:{column_letter(scale.last)}{bottom + 2}"
        sheet.conditional_formatting.add(cells, ColorScaleRule(
            start_type="min", start_color=scale.low, mid_type="percentile", mid_value=50, mid_color=scale.mid,
            end_type="max", end_color=scale.high))


# ---------------------------------------------------------------- the package


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the package, from xl/workbook.xml and its relationships."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {}
    for rel in rels.iter(f"{{{_PKG_REL_NS}}}Relationship"):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        targets[rel.get("Id")] = path
    return {
        sheet.get("name", ""): targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        for sheet in workbook.iter(f"{{{_MAIN_NS}}}sheet")
    }


_EMPTY_DATA = re.compile(rb"<sheetData\s*/>")
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"')


def _assemble(skeleton: bytes, bodies: dict[str, _Body], target: Path) -> None:
    """Copy the skeleton package to `target`, each worksheet with its data rows spliced in."""
    with zipfile.ZipFile(io.BytesIO(skeleton)) as source:
        parts = {part: bodies[name] for name, part in _sheet_parts(source).items() if name in bodies}
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as out:
            for info in source.infolist():
                data = source.read(info.filename)
                body = parts.get(info.filename)
                if body is None:
                    out.writestr(info.filename, data)
                    continue
                data = _EMPTY_DATA.sub(b"<sheetData></sheetData>", data, count=1)
                head, end, tail = data.partition(b"</sheetData>")
                if not end:
                    raise PublishError(f"cannot write {target.name}: openpyxl wrote {info.filename} without sheet data")
                last = column_letter(max(1, len(body.columns)) - 1)
                head = _DIMENSION.sub(f'<dimension ref="A1:{last}{body.last_row}"'.encode(), head, count=1)
                with out.open(info.filename, "w", force_zip64=True) as handle:
                    handle.write(head)
                    for chunk in body.xml():
                        handle.write(chunk)
                    handle.write(end + tail)


def verify_workbook(path: Path, expected: dict[str, int], name: str) -> None:
    """Read a written workbook back whole: every part is well-formed XML (checked by expat as it is
    decompressed, with its CRC), openpyxl opens it, and each sheet holds at least its rows.

    Raises PublishError otherwise (e.g. text no reader can parse), so a broken file never replaces a good one.
    """
    try:
        found: dict[str, int] = {}
        with zipfile.ZipFile(path) as package:
            sheets = {part: sheet for sheet, part in _sheet_parts(package).items()}
            for info in package.infolist():
                if not info.filename.endswith((".xml", ".rels")):
                    continue
                rows = _parse(package, info.filename)
                if info.filename in sheets:
                    found[sheets[info.filename]] = rows
        with path.open("rb") as handle:  # a file object: openpyxl judges a path by its extension (ours is .tmp)
            book = load_workbook(handle, read_only=True)
            try:
                names = list(book.sheetnames)
            finally:
                book.close()
    except Exception as exc:  # whatever openpyxl, zipfile or the XML parser raise: the file is not readable
        raise PublishError(f"the workbook written for {name} does not read back ({type(exc).__name__}: "
                           f"{str(exc)[:120]}); the previous output is left as it was") from None
    short = [sheet for sheet, rows in expected.items() if found.get(sheet, 0) < rows]
    if [n for n in names if n in expected] != list(expected) or short:
        raise PublishError(f"the workbook written for {name} reads back incomplete "
                           f"({', '.join(short) or 'tabs differ'}); the previous output is left as it was")


def _parse(package: zipfile.ZipFile, member: str) -> int:
    """Parse one part with expat (raises on malformed XML or a bad CRC); the number of <row> elements in it."""
    parser = xml.parsers.expat.ParserCreate()
    rows = 0
    tail = b""
    with package.open(member) as handle:
        while chunk := handle.read(1 << 22):
            parser.Parse(chunk, False)
            rows += chunk.count(b"<row ") + (tail + chunk[:4]).count(b"<row ")  # the second: across the seam
            tail = chunk[-4:]
    parser.Parse(b"", True)
    return rows
