"""A tab's rows as Sheets `RowData` JSON text, built column by column with Arrow kernels.

A tab of a million charges holds millions of cells. Building one Python dict per cell, then serialising it
(several times: to size the request, to fingerprint the tab, to send it) cost minutes; here each column
becomes an Arrow array of cell JSON texts in a few vectorized steps, the columns are joined into row texts,
and the rows of a tab live in one contiguous UTF-8 buffer (`RowsJson`). Requests are JSON skeletons (plain
dicts) that hold `RowsJson` slices; `encode` splices the buffer's bytes into the skeleton's text, so a row is
never parsed or serialised again, and `json_size` knows a body's size without building it.

The cells are the ones `cells.to_cell` defines: numbers as numberValue (money rounded to the cent, int kinds
rounded to whole numbers), dates and instants as serial day numbers, text as stringValue (made holdable and cut
like `cells.safe_text`; never a formula), bool as boolValue, missing values as empty cells (`{}`).
Numbers are written in their shortest form that reads back as the same double (Arrow's formatting).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpi.tables import Column
from sync.sinks.cells import column_values, figure_formats, formats, naive_stamps, safe_text, to_cell
from sync.text import MAX_CELL_CHARS

EMPTY_CELL = "{}"
_NUMBER = ('{"userEnteredValue":{"numberValue":', "}}")
_STRING = ('{"userEnteredValue":{"stringValue":"', '"}}')
_BOOL = ('{"userEnteredValue":{"boolValue":true}}', '{"userEnteredValue":{"boolValue":false}}')
_ROW = ('{"values":[', "]},")
# sync.text.UNHOLDABLE in RE2 syntax (Arrow's regex engine); lone surrogates cannot reach an Arrow string.
_UNHOLDABLE_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{FFFE}\x{FFFF}]"
# What JSON requires escaped in a string once unholdable characters are gone.
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_DAY_NS = 86_400 * 10**9
_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")  # Sheets and Excel count days from here

_LS = pa.large_string()


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, _LS)


Pieces = list  # of str (literal text) and pa.Array (one text per row): concatenated, they make the cells


def _wrap(texts: pa.Array, prefix: str, suffix: str, valid: np.ndarray) -> Pieces:
    """prefix + text + suffix where `valid`, an empty cell elsewhere. A column without empty cells stays in
    pieces, so the row join copies its text once."""
    texts = texts.cast(_LS)
    if valid.all():
        return [prefix, texts, suffix]
    joined = pc.binary_join_element_wise(_lit(prefix), texts, _lit(suffix), _lit(""))
    return [pc.if_else(pa.array(valid, pa.bool_()), joined, _lit(EMPTY_CELL))]


def _numbers(values: np.ndarray, finite: np.ndarray) -> Pieces:
    return _wrap(pa.array(np.where(finite, values, 0.0)).cast(pa.string()), *_NUMBER, finite)


def _join(pieces: Pieces) -> pa.Array:
    """Concatenate pieces element-wise (literal runs merged first): one copy of the text."""
    args: list[Any] = []
    for piece in pieces:
        if isinstance(piece, str) and args and isinstance(args[-1], str):
            args[-1] += piece
        else:
            args.append(piece)
    return pc.binary_join_element_wise(*[_lit(a) if isinstance(a, str) else a for a in args], _lit(""))


def _text_bytes(texts: pa.Array) -> np.ndarray:
    """The UTF-8 bytes of all the strings of `texts`, as one array (no copy)."""
    data = texts.buffers()[2]
    if data is None:
        return np.zeros(0, np.uint8)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    return np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]


def _escape(texts: pa.Array) -> pa.Array:
    """JSON string escapes, for the characters that occur (a byte scan tells which)."""
    raw_bytes = _text_bytes(texts)
    for raw, escaped in _ESCAPES:
        if (raw_bytes == ord(raw)).any():
            texts = pc.replace_substring(texts, raw, escaped)
    return texts


def _maybe_unholdable(texts: pa.Array) -> bool:
    """False when no string can hold an unholdable character or pass MAX_CELL_CHARS (a byte scan, no regex)."""
    raw = _text_bytes(texts)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    if len(offsets) > 1 and int(np.diff(offsets).max()) > MAX_CELL_CHARS:
        return True  # a string of more bytes than MAX_CELL_CHARS may have more characters
    return bool(_SUSPECT_BYTES[raw].any())


# control bytes but tab, LF and CR; DEL; 0xEF, which U+FFFE and U+FFFF start with (one table lookup per byte)
_SUSPECT_BYTES = np.zeros(256, dtype=bool)
_SUSPECT_BYTES[:0x20] = True
_SUSPECT_BYTES[[0x09, 0x0A, 0x0D]] = False
_SUSPECT_BYTES[[0x7F, 0xEF]] = True


def text_array(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """A text column as holdable Arrow strings and its not-missing mask (the text `cells.to_cell` gives)."""
    texts: pa.Array | None = None
    try:
        arrow = pa.array(values, from_pandas=True)  # pandas' str dtype: no copy; object strings: one C pass
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type) or pa.types.is_null(arrow.type):
            missing = arrow.is_null().to_numpy(zero_copy_only=False)
            texts = pc.fill_null(arrow.cast(_LS), _lit(""))
    except (UnicodeEncodeError, pa.ArrowException):  # lone surrogates, or not all strings
        texts = None
    if texts is None:
        # Numbers, booleans and the like in a text column (or lone surrogates): the one-by-one definition.
        cells = [to_cell(v, Column("", "text")) for v in values.tolist()]
        missing = np.fromiter((c is None for c in cells), bool, len(cells))
        texts = pa.array(["" if c is None else c for c in cells], _LS)
    if not _maybe_unholdable(texts):
        return texts, ~missing
    bad = pc.or_(pc.match_substring_regex(texts, _UNHOLDABLE_RE2), pc.greater(pc.utf8_length(texts), MAX_CELL_CHARS))
    if pc.any(bad).as_py():
        where = np.flatnonzero(bad.to_numpy(zero_copy_only=False))
        fixed = texts.to_pylist()
        for i in where.tolist():
            fixed[i] = safe_text(fixed[i])
        texts = pa.array(fixed, _LS)
    return texts, ~missing


def column_cells(values: pd.Series, column: Column, timezone: str = "UTC", currency: str = "EUR") -> pa.Array:
    """One column -> an Arrow array of CellData JSON texts (the cells `cells.to_cell` gives, one by one)."""
    pieces = column_pieces(values, column, timezone, currency)
    return pieces[0] if len(pieces) == 1 else _join(pieces)


def column_pieces(values: pd.Series, column: Column, timezone: str = "UTC", currency: str = "EUR") -> Pieces:
    """One column's cells as pieces: literal text and Arrow arrays that concatenate into its CellData texts."""
    kind = column.kind
    if kind == "figure":
        return [figure_cells(values, column, timezone, currency)]
    if kind in ("number", "money", "percent", "int", "count"):
        numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(numbers)
        if kind == "int":
            numbers = np.rint(numbers)  # written from the double: 12 as "12", 1e20 as "1e+20" (no int64 overflow)
        elif kind == "money":
            numbers = np.round(numbers, 2)
        return _numbers(numbers, finite)
    if kind in ("month", "date", "datetime"):
        stamps, valid = naive_stamps(values, kind, timezone)
        ns = (stamps - _EPOCH).astype("int64")
        days, rest = np.divmod(np.where(valid, ns, 0), _DAY_NS)
        serials = days + (rest // 10**9) / 86400  # cells.serial: delta.days + delta.seconds / 86400
        return _numbers(serials, valid)
    if kind == "text":
        texts, valid = text_array(values)
        return _wrap(_escape(texts), *_STRING, valid)
    if kind == "bool":
        missing = values.isna().to_numpy(dtype=bool)
        flags = values.where(~missing, False).astype(bool).to_numpy(dtype=bool)
        cells = pc.if_else(pa.array(flags), _lit(_BOOL[0]), _lit(_BOOL[1]))
        return [pc.if_else(pa.array(~missing), cells, _lit(EMPTY_CELL))]
    raise ValueError(f"unknown column kind {kind!r}")


def figure_cells(values: pd.Series, column: Column, timezone: str, currency: str) -> pa.Array:
    """A figure column (the Summary's Value, a few rows): each cell its number or text and its own number format,
    built one by one (`cells.figure_value`, `cells.figure_formats`)."""
    texts = []
    per_row = figure_formats(values, formats(currency))
    for value, kf in zip(column_values(values, column, timezone), per_row, strict=True):
        cell: dict[str, Any] = {}
        if isinstance(value, str):
            cell = {"userEnteredValue": {"stringValue": value}}
        elif isinstance(value, int | float) and not isinstance(value, bool):
            cell = {"userEnteredValue": {"numberValue": value}}
        if kf is not None and cell:
            cell["userEnteredFormat"] = {"numberFormat": {"type": kf.sheets_type, "pattern": kf.pattern}}
        texts.append(json.dumps(cell, separators=(",", ":"), ensure_ascii=False, allow_nan=False))
    return pa.array(texts, _LS)


class RowsJson:
    """Rows of one tab as RowData JSON: row i is `data[offsets[i]:offsets[i + 1]]`, a JSON object followed by a comma.

    A slice shares the buffer. `nbytes` is the size of the JSON array of its rows; `bytes()` that array.
    """

    __slots__ = ("_data", "_offsets", "_start", "_stop")

    def __init__(self, data: memoryview | bytes, offsets: np.ndarray, start: int = 0, stop: int | None = None):
        self._data = data
        self._offsets = offsets
        self._start = start
        self._stop = len(offsets) - 1 if stop is None else stop

    @classmethod
    def build(cls, header: list[Any], body: pa.Array | None) -> RowsJson:
        """The header row (CellData dicts) and the body (an Arrow array of row texts, each ending with a comma).

        The rows stay in the Arrow array's data buffer (one copy, to put the header in front): no Python object
        per row is made."""
        head = json.dumps({"values": header}, separators=(",", ":"), ensure_ascii=False) + ","
        parts = [pa.array([head], _LS)]
        if body is not None and len(body):
            body = body.cast(_LS)
            parts.extend(body.chunks if isinstance(body, pa.ChunkedArray) else [body])
        rows = pa.concat_arrays(parts) if len(parts) > 1 else parts[0]
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
        return cls(memoryview(rows.buffers()[2]), offsets.astype(np.int64))

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, item: slice) -> RowsJson:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("RowsJson takes a slice of consecutive rows")
        start, stop, _ = item.indices(len(self))
        return RowsJson(self._data, self._offsets, self._start + start, self._start + max(start, stop))

    @property
    def nbytes(self) -> int:
        if self._stop == self._start:
            return 2
        return int(self._offsets[self._stop] - self._offsets[self._start]) + 1  # "[" + rows - last comma + "]"

    def row_sizes(self) -> np.ndarray:
        """Bytes of each row, its comma included."""
        return np.diff(self._offsets[self._start:self._stop + 1])

    def bytes(self) -> bytes:
        if self._stop == self._start:
            return b"[]"
        return b"".join((b"[", self._data[int(self._offsets[self._start]):int(self._offsets[self._stop]) - 1], b"]"))

    def chunks(self) -> Iterator[memoryview]:
        """The bytes of the rows (commas included) without copying, for hashing."""
        yield memoryview(self._data)[int(self._offsets[self._start]):int(self._offsets[self._stop])]

    def rows(self) -> list[Any]:
        """The rows parsed (for tests and small tabs)."""
        return json.loads(self.bytes())

    def __iter__(self) -> Iterator[Any]:
        """The rows parsed, as RowData dicts (for tests and small tabs)."""
        return iter(self.rows())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowsJson) and self.bytes() == other.bytes()

    __hash__ = None  # type: ignore[assignment]


def table_row_texts(frame: pd.DataFrame, columns: tuple[Column, ...], timezone: str, tab: str,
                    currency: str = "EUR") -> pa.Array | None:
    """Every row of `frame` as RowData JSON text followed by a comma (None for no rows)."""
    n = len(frame)
    if n == 0:
        return None
    pieces: Pieces = [_ROW[0]]
    for i, column in enumerate(columns):
        try:
            cells = column_pieces(frame.iloc[:, i], column, timezone, currency)
        except (TypeError, ValueError, OverflowError, pa.ArrowException) as exc:
            raise ValueError(f"tab {tab!r}, column {column.name!r}: {exc}") from exc
        pieces.extend([","] if i else [])
        pieces.extend(cells)
    pieces.append(_ROW[1])
    if not any(isinstance(p, pa.Array) for p in pieces):
        return pa.array(["".join(pieces)] * n, _LS)
    return _join(pieces)


# ---------------------------------------------------------------- request bodies with rows inside


def _dumps(obj: Any) -> tuple[str, list[RowsJson], str]:
    """`obj` as compact JSON with each RowsJson replaced by a quoted placeholder; the slices and the marker."""
    found: list[RowsJson] = []
    marker = "\ue000rows" + secrets.token_hex(8)

    def default(value: Any) -> Any:
        if isinstance(value, RowsJson):
            found.append(value)
            return f"{marker}{len(found) - 1}{marker}"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(obj, default=default, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text, found, marker


def encode(obj: Any) -> bytes:
    """`obj` (dicts, lists, scalars and RowsJson slices) as compact UTF-8 JSON, rows spliced in as they are."""
    text, found, marker = _dumps(obj)
    if not found:
        return text.encode("utf-8")
    parts = re.split(f'"{marker}(\\d+){marker}"', text)
    out: list[bytes] = []
    for k, part in enumerate(parts):
        out.append(found[int(part)].bytes() if k % 2 else part.encode("utf-8"))
    return b"".join(out)


def json_size(obj: Any) -> int:
    """len(encode(obj)) without building it."""
    text, found, marker = _dumps(obj)
    size = len(text.encode("utf-8"))
    for k, rows in enumerate(found):
        size += rows.nbytes - len(f'"{marker}{k}{marker}"'.encode())
    return size
