"""A tab's data rows as SpreadsheetML `<row>` elements, built column by column with Arrow compute.

The .xlsx sink (sync/sinks/xlsx.py) has openpyxl write everything a reader sees around the data (header,
styles, widths, frozen panes, filters, charts, colour scales, print setup) and splices these rows into each
worksheet's `<sheetData>`. Building them here costs a few Arrow kernels per column and chunk, never Python
work per cell: openpyxl's own cell writer costs ~10 us a cell, and its `sheet[i]` rescans made the sink
quadratic (issue 13).

Cells are what `sync.sinks.cells.column_values` gives, as OOXML: numbers (`<v>`, shortest round-trip
text), dates and instants as serial numbers with a date format, booleans as `t="b"`, text as inline
strings (`t="inlineStr"`, as openpyxl writes them), never a formula whatever it starts with. Missing
values are no cell at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpi.tables import Column, Figure
from sync.errors import PublishError
from sync.sinks.cells import KindFormat, figure_format, figure_value, naive_stamps, safe_text
from sync.sinks.ordered import in_order
from sync.text import MAX_CELL_CHARS

MAX_WIDTH = 60  # a column wider than this wraps its text instead
LINE_HEIGHT = 15  # points per wrapped line
CHUNK_ROWS = 65_536  # rows built per Arrow pass: bounds the memory of one pass
# UNHOLDABLE (sync/text.py) in RE2's syntax, for text Arrow already holds (so without lone surrogates).
_UNHOLDABLE_RE2 = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x{FFFE}\\x{FFFF}]"
_EPOCH = np.datetime64("1899-12-30", "ns")  # spreadsheets count days from here
_FIXED_WIDTH = {"percent": 7, "month": 7, "date": 10, "datetime": 19}


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


@dataclass
class Prepared:
    """One column ready to be written: its values as cell text (null = no cell), what a reader sees of its width."""

    column: Column
    values: pa.Array  # pa.string(): the <v> or <t> content, XML-escaped; null where the cell is empty
    width: int  # the widest shown value, in characters (0 when every cell is empty)
    lengths: np.ndarray | None = None  # text: characters per row (0 when empty), for wrapping
    # A "figure" column (the Summary's Value, a few rows): each cell its own type and number format.
    figures: list[Figure | None] | None = None  # per row: the Figure behind a number cell, None for text or empty
    cell_kinds: pa.Array | None = None  # per row: ' t="inlineStr"' for text, "" for a number
    cell_styles: tuple[pa.Array, pa.Array] | None = None  # per row: the s="..." attribute, normal and in a tall row

    @property
    def text(self) -> bool:
        return self.column.kind == "text"


def _strings(values: np.ndarray | pa.Array, mask: np.ndarray | None = None) -> pa.Array:
    array = values if isinstance(values, pa.Array) else pa.array(values, mask=mask)
    return pc.cast(array, pa.string())


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    return numbers, np.isfinite(numbers)


def _number_width(numbers: np.ndarray, kind: str) -> int:
    """The longest value as the sink's width rule shows it (money and number with thousands separators and
    two decimals, ints as digits): the longest of the largest and the smallest, as length grows with size."""
    if not len(numbers):
        return 0
    ends = (float(numbers.max()), float(numbers.min()))
    if kind == "int":
        return max(len(str(int(v))) for v in ends)
    return max(len(f"{v:,.2f}") for v in ends) + (4 if kind == "money" else 0)


def _text_values(values: pd.Series, name: str) -> pa.Array:
    """Text cells as Arrow strings: holdable (sync.text), at most MAX_CELL_CHARS characters; null when missing."""
    try:
        array = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid, UnicodeEncodeError):
        array = None  # non-text values (numbers in a text column) or lone surrogates: the careful path below
    if array is not None:
        bad = pc.or_(pc.match_substring_regex(array, _UNHOLDABLE_RE2),
                     pc.greater(pc.utf8_length(array), MAX_CELL_CHARS))
        if not pc.any(bad).as_py():
            return array
    objects = values.astype(object)
    missing = objects.isna().to_numpy() | objects.map(
        lambda v: isinstance(v, float) and math.isinf(v), na_action="ignore").fillna(False).to_numpy(dtype=bool)
    texts = [None if m else safe_text(str(v)) for v, m in zip(objects.tolist(), missing.tolist(), strict=True)]
    try:
        return pa.array(texts, type=pa.string())
    except (UnicodeEncodeError, pa.ArrowInvalid) as exc:  # sinks get holdable text (cells.py): a last line of defence
        raise PublishError(f"column {name!r} holds text an .xlsx file cannot hold ({exc})") from None


def _escape(text: pa.Array) -> pa.Array:
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = pc.replace_substring(text, raw, entity)
    return text


def _prepare_figures(values: pd.Series, column: Column) -> Prepared:
    """A figure column: numbers written as numbers (each with its Figure's format, set by the sink through
    `figure_styles`), text as inline strings (never a formula). One Python step per row: the Summary's few rows."""
    shown: list[str | None] = []
    texts: list[int | None] = []
    figures: list[Figure | None] = []
    kinds: list[str] = []
    for value in values.tolist():
        cell = figure_value(value)
        if cell is None:
            shown.append(None)
            texts.append(None)
            figures.append(None)
            kinds.append("")
        elif isinstance(cell, str):
            shown.append(cell)
            texts.append(len(cell))
            figures.append(None)
            kinds.append(' t="inlineStr"')
        else:
            figure = value if isinstance(value, Figure) else None
            shown.append(repr(float(cell)) if isinstance(cell, float) else str(cell))
            texts.append(len(figure.text()) + (4 if figure is not None and figure.kind == "money" else 0)
                         if figure is not None else len(str(cell)))
            figures.append(figure)
            kinds.append("")
    is_text = pa.array([k != "" for k in kinds])
    raw = pa.array(shown, type=pa.string())
    out = pc.if_else(is_text, _escape(raw), raw)
    width = max((t for t in texts if t is not None), default=0)
    return Prepared(column, out, width, figures=figures, cell_kinds=pa.array(kinds, type=pa.string()))


def figure_patterns(prep: Prepared, fmt: dict[str, KindFormat]) -> list[str | None]:
    """Per row of a figure column: its cell's number format pattern, or None (text or empty)."""
    assert prep.figures is not None
    return [figure_format(f, fmt).pattern if f is not None else None for f in prep.figures]


def prepare(values: pd.Series, column: Column, timezone: str) -> Prepared:
    """One column's cells (the values sync.sinks.cells.column_values gives) as the text of their XML."""
    kind = column.kind
    if kind == "figure":
        return _prepare_figures(values, column)
    if kind == "count":  # General format: 5 and 5.5, never 5.00
        numbers, finite = _numbers(values)
        present = numbers[finite]
        width = max((len(f"{v:g}") for v in (present.max(), present.min())), default=0) if len(present) else 0
        return Prepared(column, _strings(numbers, ~finite), width)
    if kind in ("number", "money", "percent", "int"):
        numbers, finite = _numbers(values)
        present = numbers[finite]
        if kind == "int":
            out = _strings(np.rint(np.where(finite, numbers, 0)).astype("int64"), ~finite)
        else:
            if kind == "money":
                numbers = np.round(numbers, 2)  # amounts are shown and exported to the cent
            out = _strings(numbers, ~finite)
        width = 7 if kind == "percent" and len(present) else _number_width(present, kind)
        return Prepared(column, out, width)
    if kind in ("month", "date", "datetime"):
        stamps, valid = naive_stamps(values, kind, timezone)
        missing = ~valid
        days = (stamps - _EPOCH) / np.timedelta64(1, "D")  # NaT -> NaN
        if kind == "datetime":
            out = _strings(days, missing)
        else:
            out = _strings(np.where(missing, 0, days).astype("int64"), missing)
        return Prepared(column, out, 0 if missing.all() else _FIXED_WIDTH[kind])
    if kind == "bool":
        missing = values.isna().to_numpy()
        flags = values.fillna(False).astype(bool).to_numpy()
        out = _strings(np.where(flags, "1", "0").astype(object), missing)
        shown = flags[~missing]
        width = 0 if not len(shown) else (5 if (~shown).any() else 4)
        return Prepared(column, out, width)
    if kind != "text":
        raise ValueError(f"unknown column kind {kind!r}")
    text = _text_values(values, column.name)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)  # "" is an empty cell, as openpyxl writes it
    lengths = pc.fill_null(pc.utf8_length(text), 0).to_numpy(zero_copy_only=False).astype("int64")
    width = int(lengths.max()) if len(lengths) else 0
    return Prepared(column, _escape(text), width, lengths)


@dataclass(frozen=True)
class Styles:
    """Style ids (cellXfs indexes) of one column's cells: in an ordinary row and in a tall row (read from its top)."""

    normal: int | None
    tall: int | None


def _attr(style: int | None) -> str:
    return "" if style is None else f' s="{style}"'


def rows_xml(columns: list[Prepared], styles: list[Styles], lines: np.ndarray | None, start: int, stop: int,
             first_row: int = 2) -> memoryview:
    """Rows `start`..`stop` (0-based) of the body as `<row>` elements; the first body row is `first_row`.

    `lines`: text lines per row (a tall row gets a height and its cells read from the top), or None."""
    n = stop - start
    numbers = pc.cast(pa.array(np.arange(start + first_row, stop + first_row, dtype="int64")), pa.string())
    tall = None
    height: pa.Array | str = ""
    if lines is not None:
        chunk = lines[start:stop]
        tall = pa.array(chunk > 1)
        heights = pc.cast(pa.array(chunk * LINE_HEIGHT), pa.string())
        height = pc.if_else(tall, pc.binary_join_element_wise(' ht="', heights, '" customHeight="1"', ""), "")
    cells: list[pa.Array] = []
    for j, (prep, style) in enumerate(zip(columns, styles, strict=True)):
        values = prep.values.slice(start, n)
        s: pa.Array | str = _attr(style.normal)
        if tall is not None and style.tall != style.normal:
            s = pc.if_else(tall, _attr(style.tall), _attr(style.normal))
        if prep.cell_kinds is not None:  # a figure column: each cell its own type and format
            assert prep.cell_styles is not None
            normal, in_tall = (a.slice(start, n) for a in prep.cell_styles)
            s = normal if tall is None else pc.if_else(tall, in_tall, normal)
            kind = prep.cell_kinds.slice(start, n)
            is_text = pc.not_equal(kind, "")
            opened = pc.if_else(is_text, '<is><t xml:space="preserve">', "<v>")
            closed = pc.if_else(is_text, "</t></is></c>", "</v></c>")
        elif prep.text:
            kind, opened, closed = ' t="inlineStr"', '<is><t xml:space="preserve">', "</t></is></c>"
        elif prep.column.kind == "bool":
            kind, opened, closed = ' t="b"', "<v>", "</v></c>"
        else:
            kind, opened, closed = "", "<v>", "</v></c>"
        cell = pc.binary_join_element_wise(
            f'<c r="{column_letter(j)}', numbers, '"', s, kind, ">", opened, values, closed, "",
            null_handling="emit_null")
        cells.append(pc.fill_null(cell, ""))
    row = pc.binary_join_element_wise('<row r="', numbers, '"', height, ">", *cells, "</row>", "")
    return _buffer(row)


def _buffer(array: pa.Array) -> memoryview:
    """The concatenated values of a string array without nulls (its data buffer, between its first and last offset)."""
    if not len(array):
        return memoryview(b"")
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    offset_type = "int64" if pa.types.is_large_string(array.type) else "int32"
    offsets = np.frombuffer(array.buffers()[1], dtype=offset_type)[array.offset: array.offset + len(array) + 1]
    return memoryview(array.buffers()[2])[int(offsets[0]): int(offsets[-1])]


def text_row(row: int, text: str, style: int | None = None) -> bytes:
    """One row holding one text cell in column A (the "(none)" of an empty tab, a tab's note)."""
    value = escape(safe_text(text)).replace("\r", "&#13;")
    return (f'<row r="{row}"><c r="A{row}"{_attr(style)} t="inlineStr"><is><t xml:space="preserve">{value}'
            f"</t></is></c></row>").encode()


def body_xml(columns: list[Prepared], styles: list[Styles], lines: np.ndarray | None, n_rows: int,
             chunk: int = 0) -> Iterator[memoryview]:
    """The body's rows as XML, `chunk` (default CHUNK_ROWS) rows at a time, the next chunk built while one is
    compressed and written (sync.sinks.ordered, one thread: zlib runs without the GIL; a second thread saved 1 s more
    of 45 at 10M charges but held 115 MB more at 1M, a chunk's XML and its Arrow temporaries being ~60 MB)."""
    chunk = chunk or CHUNK_ROWS
    yield from in_order(lambda start: rows_xml(columns, styles, lines, start, min(n_rows, start + chunk)),
                        range(0, n_rows, chunk), threads=1)
