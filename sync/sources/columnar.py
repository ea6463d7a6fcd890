"""The NDJSON reader's columnar fast path: pyarrow parses the whole file, vectorized checks prove rows valid.

`read_columnar` gives exactly what the line-by-line reader (`ndjson._FileReader`) gives -- the same frame,
the same issues in the same order, the same bad-line count -- or None when it cannot prove it, and then
the caller reads the file line by line. The contract, row by row:

- A row every check proves valid ("clean") takes its values from the pyarrow columns; such a row has no
  issue in the line-by-line reader either.
- A row any check doubts ("flagged": a null, a value out of range, text no sink can hold, an integral
  float in an attribute, NaN, a repeated unique key, ...) is read again from its own bytes by the
  line-by-line reader, in line order; its issues, its values and its fate (kept, dropped) are that
  reader's. Only rows of a repeated key meet in its `seen` table, and all of them are flagged.
- A file pyarrow refuses as a whole (a line that is not JSON, a field that changes type, duplicate keys,
  invalid UTF-8, a lone surrogate) is read line by line entirely: pyarrow says nothing about which line.

What pyarrow's JSON reader does differently from `json` (checked one by one; tests/sync/test_columnar.py):
it reads several objects on one line and one object over several lines (so each non-blank line must start
with `{` and end with `}` and there must be exactly one row per line), skips blank lines, ends a line at a
lone CR, accepts NaN and Infinity, turns whole numbers past int64 into floats (and 1 next to 1.5 into
1.0), reads `-0` as -0.0 in a float column, infers ISO 8601 text as timestamps (read again as text), and
checks no UTF-8. Each is handled below.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from sync.sources import ndjson as nd

# What sync.text.UNHOLDABLE matches, in RE2 syntax (lone surrogates cannot reach pyarrow: it refuses them).
_UNHOLDABLE_RE2 = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x{D800}-\\x{DFFF}\\x{FFFE}\\x{FFFF}]"
_NEWLINE, _OPEN, _CLOSE, _CR = 10, ord("{"), ord("}"), 13
_CHUNK = 1 << 26  # bytes scanned at a time when looking for newlines (bounds the temporary mask)
_BLOCK = 1 << 24  # pyarrow's block size: fewer, larger blocks parse faster than the 1 MB default
# Nesting pyarrow may hold in an ignored value before the line-by-line reader (Python's recursion limit,
# about 1,000 levels less its own stack) could call it too deep: past this, such rows are flagged.
_MAX_NESTING = 64
# Opening brackets a line may hold to be given to pyarrow (it crashed at 30,000 levels, held 10,000).
_MAX_BRACKETS = 1000
# Keys of nested objects an attribute file may hold beside its attributes before it is read line by line.
_NESTED_KEYS = 100
_KEY = re.compile(rb'"((?:[^"\\\n]|\\.)*)"\s*:')
_SCALAR = (pa.types.is_int64, pa.types.is_float64, pa.types.is_string, pa.types.is_boolean, pa.types.is_null)


@dataclass
class Columnar:
    """What the line-by-line reader would have left: rows, line numbers, extra columns, issues, counts."""

    frame: pd.DataFrame
    issues: list[nd.Issue]
    bad: int
    read: int


def read_columnar(data: bytes, name: str, fields: Sequence[nd.Field], checker: nd._Checker, *,
                  unique: str | None, extras: bool, coded: bool = False) -> Columnar | None:
    """Read a whole file's bytes; None when the line-by-line reader must read it. `coded`: id fields as categoricals
    of their texts when every row is clean (pyarrow's dictionary encoding, kept)."""
    skip = len(nd._BOM) if data.startswith(nd._BOM) else 0
    if len(data) == skip or any(f.kind in ("date", "list") for f in fields):
        return None  # empty (the line reader says so) or a kind only the line reader checks
    if not _utf8(data, skip) or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None  # pyarrow checks no UTF-8, and ends a line at a lone CR
    lines = _Lines(data, skip)
    brackets = lines.brackets()
    if brackets is not None and int(brackets.max(initial=0)) > _MAX_BRACKETS:
        return None  # pyarrow's parser recurses: some 30,000 levels crash the process
    if extras:
        # pyarrow makes a full-length column per distinct key: thousands of them would take gigabytes. With no
        # more colons than declared fields per line there is no room for other keys; else count the keys.
        if (data.count(b":", skip) > len(fields) * lines.count
                and _keys_at_most(data, skip) > nd.MAX_ATTRIBUTES + len(fields) + _NESTED_KEYS):
            return None
        schema = None
    else:  # only the declared fields: the others are never columns (a line of 20,000 keys costs nothing)
        schema = _schema(data, skip, lines, fields)
        if schema is None:
            return None
    table = _parse(data, skip, schema)
    if table is None or not lines.match(table.num_rows):
        return None
    declared = {f.source for f in fields}
    others = [c for c in table.column_names if c not in declared]
    if extras and (len(others) > nd.MAX_ATTRIBUTES or any(nd.has_unholdable(c) for c in others)):
        return None  # the line reader's attribute cap and renames apply
    if not all(any(test(t) for test in _SCALAR) or pa.types.is_struct(t) or pa.types.is_list(t)
               for t in table.schema.types):
        return None
    n = table.num_rows
    flag = np.zeros(n, dtype=bool)
    if brackets is not None:  # nesting the line reader may find too deep, in a value pyarrow may never show
        flag |= lines.kept(brackets) > _MAX_NESTING
    flag[lines.rows_holding(data, (b"NaN", b"Infinity"))] = True  # json refuses them anywhere in a line
    values: dict[str, Any] = {}
    for f in fields:
        values[f.canonical] = _declared(table, f, checker, flag, coded)
    if unique is not None:
        keys = pd.Series(np.asarray(values[unique], dtype=object), dtype="object")
        flag |= (keys.duplicated(keep=False) & keys.notna()).to_numpy()
    for column in others:
        _undeclared(table.column(column), flag, attribute=extras)

    flagged = np.flatnonzero(flag)
    reader = nd._FileReader(name, fields, checker, unique=unique, extras=extras)
    if len(flagged):
        for row in flagged:
            reader.line(int(lines.numbers[row]), data[skip + int(lines.starts[row]):skip + int(lines.ends[row])])

    clean = np.flatnonzero(~flag)
    all_lines = np.concatenate([lines.numbers[clean], np.asarray(reader.lines, dtype=np.int64)])
    order = np.argsort(all_lines, kind="stable")
    if len(flagged):
        merged = {f.canonical: _merge(f.kind, _objects(values[f.canonical]), clean, reader.columns[f.canonical], order)
                  for f in fields}
    else:
        merged = values  # every row clean: the columns as they are
    frame = nd._to_frame(merged, fields, all_lines[order])
    if extras and others:
        attributes = _attributes(table, others, data, skip, lines, clean, reader, order, all_lines[order])
        if attributes is None:
            return None
        frame = nd._with_attributes(frame, attributes)
    return Columnar(frame=frame, issues=reader.issues, bad=reader.bad, read=n)


def _utf8(data: bytes, skip: int) -> bool:
    if data.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)[skip:]
    try:
        for at in range(0, len(view), _CHUNK):
            decoder.decode(view[at:at + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _parse(data: bytes, skip: int, schema: pa.Schema | None) -> pa.Table | None:
    """The file as a table (top-level ISO 8601 text kept as text), or None when pyarrow refuses it.

    With `schema`, only its fields are read, with its types (a value of another JSON type fails the file)."""
    buffer = pa.py_buffer(data).slice(skip)
    try:
        if schema is not None:
            return _read(buffer, schema, "ignore")
        table = _read(buffer, None, "infer")
        stamps = [f.name for f in table.schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
        if stamps:
            table = _read(buffer, pa.schema([(name, pa.string()) for name in stamps]), "infer")
    except (pa.ArrowException, ValueError, OverflowError, MemoryError):
        return None
    return table


def _read(buffer: pa.Buffer, schema: pa.Schema | None, others: str) -> pa.Table:
    return pj.read_json(pa.BufferReader(buffer), read_options=pj.ReadOptions(block_size=_BLOCK),
                        parse_options=pj.ParseOptions(explicit_schema=schema, newlines_in_values=False,
                                                      unexpected_field_behavior=others))


def _schema(data: bytes, skip: int, lines: _Lines, fields: Sequence[nd.Field]) -> pa.Schema | None:
    """Types for the declared fields: numbers as float64 (what the line reader makes of them), ids as the first
    record has them (int64 or text; a file that mixes both fails pyarrow and is read line by line)."""
    first = next((text for s, e in lines.head(100) if (text := data[skip + s:skip + e].strip())), b"")
    try:
        record = nd._DECODER.decode(first.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    types: list[tuple[str, pa.DataType]] = []
    for f in fields:
        if f.kind in ("number", "timestamp"):
            types.append((f.source, pa.float64()))
        elif f.kind == "int":
            types.append((f.source, pa.int64()))
        elif f.kind == "string":
            types.append((f.source, pa.string()))
        else:  # an id
            value = record.get(f.source)
            types.append((f.source, pa.int64() if isinstance(value, int) and not isinstance(value, bool) else pa.string()))
    return pa.schema(types)


def _keys_at_most(data: bytes, skip: int) -> int:
    """At least as many as the distinct keys in the file (any text before a colon counts; escapes are not undone)."""
    return len(set(_KEY.findall(data, skip)))


class _Lines:
    """Where each row's line is: pyarrow rows are the non-blank lines, in order, when every one holds one object.

    A file whose every line is one `{...}` and a newline (`_regular_lines`, found by counting bytes) is known row by
    row without an array of its line positions: they are found only when asked for (a flagged row to read again, a
    line holding NaN), so a clean file of 10M charges skips a scan of every byte and two arrays of 10M positions."""

    def __init__(self, data: bytes, skip: int):
        self.data, self.skip = data, skip
        self.arr = np.frombuffer(data, dtype=np.uint8, offset=skip)
        self._starts: np.ndarray | None = None
        self._ends: np.ndarray | None = None
        regular = _regular_lines(data, skip)
        self.regular = regular is not None
        if regular is None:
            self._scan()
            regular = len(self.ends)
        self.count = regular  # lines, or rows once match() kept the non-blank ones
        self.numbers = np.arange(1, regular + 1, dtype=np.int64)

    def _scan(self) -> None:
        """Every line's start and end (past its newline), from the newlines."""
        arr = self.arr
        found = [np.flatnonzero(arr[at:at + _CHUNK] == _NEWLINE) + at for at in range(0, len(arr), _CHUNK)]
        newlines = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        ends = newlines + 1
        if len(arr) and (not len(newlines) or newlines[-1] != len(arr) - 1):
            ends = np.append(ends, len(arr))  # a last line without a newline
        self._starts = np.concatenate([np.zeros(1, dtype=np.int64), ends[:-1]]).astype(np.int64)
        self._ends = ends.astype(np.int64)

    def _positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends), scanned on first use."""
        if self._starts is None or self._ends is None:
            self._scan()
        assert self._starts is not None and self._ends is not None
        return self._starts, self._ends

    @property
    def starts(self) -> np.ndarray:
        return self._positions()[0]

    @property
    def ends(self) -> np.ndarray:
        return self._positions()[1]

    def head(self, count: int) -> list[tuple[int, int]]:
        """The first `count` lines' (start, end), without scanning the whole file for them."""
        if self._starts is not None and self._ends is not None:
            return list(zip(self._starts[:count].tolist(), self._ends[:count].tolist(), strict=True))
        out: list[tuple[int, int]] = []
        data, at, size = self.data, 0, len(self.arr)
        while at < size and len(out) < count:
            newline = data.find(b"\n", self.skip + at)
            end = size if newline < 0 else newline - self.skip + 1
            out.append((at, end))
            at = end
        return out

    def brackets(self) -> np.ndarray | None:
        """Opening brackets on each line (a bound on its nesting), or None when no line can hold more than one."""
        data, skip, arr = self.data, self.skip, self.arr
        # no "[" at all (found by memchr, a sixth of the time of counting them) is the common case
        braces, brackets = data.count(b"{", skip), data.count(b"[", skip) if data.find(b"[", skip) >= 0 else 0
        if not self.count or (brackets == 0 and braces == self.count and (self.regular or bool(
                (arr[np.minimum(self.starts, len(arr) - 1)] == _OPEN).all()))):
            return None  # one "{" per line, at its start: no nesting at all
        if braces + brackets <= _MAX_NESTING:
            return None
        starts = self.starts
        found = [np.flatnonzero((arr[at:at + _CHUNK] == _OPEN) | (arr[at:at + _CHUNK] == ord("["))) + at
                 for at in range(0, len(arr), _CHUNK)]
        opens = np.concatenate(found)
        return np.diff(np.searchsorted(opens, np.append(starts, len(arr))))

    def kept(self, per_line: np.ndarray) -> np.ndarray:
        """A per-line array (all lines) for the rows only (after match())."""
        return per_line[self.numbers - 1]

    def rows_holding(self, data: bytes, needles: tuple[bytes, ...]) -> np.ndarray:
        """Rows (after match()) whose line holds any of `needles`."""
        at: list[int] = []
        for needle in needles:
            if data.rfind(needle, self.skip) < 0:  # absent (the common case): rfind says so in half find's time
                continue
            found = data.find(needle, self.skip)
            while found >= 0:
                at.append(found - self.skip)
                found = data.find(needle, found + 1)
        if not at:
            return np.zeros(0, dtype=np.int64)
        rows = np.searchsorted(self.starts, np.asarray(at), side="right") - 1
        return np.unique(rows[(rows >= 0) & (np.asarray(at) < self.ends[np.maximum(rows, 0)])])

    def match(self, rows: int) -> bool:
        """Whether the table's rows are the file's non-blank lines one to one (then keeps only those lines).

        A line that starts with `{` and ends with `}` (around whitespace) cannot end inside an object
        that a later line goes on with: pyarrow may join lines, but not such lines. With as many rows as
        such lines, each row is its own line.
        """
        if self.regular:  # every line is such a line (`_regular_lines`)
            return rows == self.count
        arr, starts, ends = self.arr, self.starts, self.ends
        if not len(starts):
            return False
        last = ends - 1
        last -= arr[last] == _NEWLINE
        last -= (last >= 0) & (arr[np.maximum(last, 0)] == _CR)
        fine = (last > starts) & (arr[np.minimum(starts, len(arr) - 1)] == _OPEN) & (arr[np.maximum(last, 0)] == _CLOSE)
        keep = np.ones(len(starts), dtype=bool)
        skip, data = self.skip, self.data
        for i in np.flatnonzero(~fine):  # blank, indented or not an object: look closer
            text = data[skip + int(starts[i]):skip + int(ends[i])].strip()
            if not text:
                keep[i] = False
            elif not (text.startswith(b"{") and text.endswith(b"}")):
                return False  # not an object: the line reader names it
        if rows != int(keep.sum()):
            return False
        if not keep.all():
            self.numbers, self._starts, self._ends = self.numbers[keep], starts[keep], ends[keep]
            self.count = len(self.numbers)
        return True


def _regular_lines(data: bytes, skip: int) -> int | None:
    """The number of lines when each is one `{...}` and a newline (the last one's may be the end of the file): no
    blank line, no CR, nothing before or after the braces; else None. Found by counting bytes: every newline stands
    between a `}` and a `{`, but a last one after a `}` (a raw newline cannot be inside a JSON string)."""
    size = len(data) - skip
    if size <= 0 or data[skip] != _OPEN or data.find(b"\r", skip) >= 0:
        return None
    newlines = data.count(b"\n", skip)
    trailing = data.endswith(b"\n")
    if not trailing and data[-1] != _CLOSE:
        return None
    if trailing and not data.endswith(b"}\n"):
        return None
    if data.count(b"}\n{", skip) != newlines - trailing:  # each newline but a trailing one between `}` and `{`
        return None
    return newlines + (not trailing)


def _valid(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    """A numeric column as float64, NaN for nulls (int64 converts as Python's float() does: exactly below 2**53)."""
    return np.asarray(pc.cast(column, pa.float64(), safe=False).to_numpy(zero_copy_only=False), dtype=np.float64)


def _unholdable(column: pa.ChunkedArray) -> np.ndarray:
    found = pc.match_substring_regex(column, _UNHOLDABLE_RE2).fill_null(False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _texts(column: pa.ChunkedArray) -> np.ndarray:
    """A string column as Python str objects, None for nulls."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def _shared_texts(column: pa.ChunkedArray, coded: bool = False) -> np.ndarray | pd.Categorical:
    """`_texts`, with one str object per distinct value shared by its rows (ids repeat: 10M charges of 1M customers
    made 10M str objects, some 700 MB; the same values, as objects of 1M). `coded`: as a categorical of those texts
    (in the order of their first row; nulls missing), which is never hashed again."""
    encoded = column.combine_chunks().dictionary_encode()
    words = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last one: None, for nulls
    words[:-1] = _texts(pc.cast(encoded.dictionary, pa.string()))
    if coded and len(words) > 1:  # a dictionary holds each value once, and a column has one type: distinct texts
        codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        return pd.Categorical.from_codes(codes, categories=pd.Index(words[:-1], dtype=object))
    return words[np.asarray(encoded.indices.fill_null(len(words) - 1).to_numpy(zero_copy_only=False), dtype=np.intp)]


def _objects(values: Any) -> Any:
    """A column as `_merge` takes it: a categorical of texts as its str objects (None where missing)."""
    if isinstance(values, pd.Categorical):
        codes = np.asarray(values.codes)
        words = np.empty(len(values.categories) + 1, dtype=object)  # the last one: None, for missing
        words[:-1] = np.asarray(values.categories, dtype=object)
        return words[np.where(codes >= 0, codes, len(words) - 1)]
    return values


def _declared(table: pa.Table, f: nd.Field, checker: nd._Checker, flag: np.ndarray, coded: bool = False
              ) -> np.ndarray | pd.Categorical:
    """One declared field's values as the line reader would convert them; flags every row it cannot vouch for.
    `coded`: an id as a categorical of its texts (`_shared_texts`)."""
    n = table.num_rows
    if f.source not in table.column_names:
        if f.required or not f.nullable:
            flag |= True
        return np.full(n, np.nan) if f.kind in ("number", "timestamp") else np.full(n, None, dtype=object)
    column = table.column(f.source)
    kind, t = f.kind, column.type
    valid = _valid(column)
    if f.required or not f.nullable:
        flag |= ~valid  # a null: an issue (or a missing field, which pyarrow cannot tell from a null)
    if kind == "id":
        if pa.types.is_int64(t):
            return _shared_texts(column, coded)
        if pa.types.is_string(t):
            flag |= valid & ((np.asarray(pc.utf8_length(column).fill_null(1).to_numpy(zero_copy_only=False)) == 0)
                             | _unholdable(column))
            return _shared_texts(column, coded)
    elif kind in ("number", "int"):
        if pa.types.is_int64(t) or (kind == "number" and pa.types.is_float64(t)):
            numbers = _floats(column)
            with np.errstate(invalid="ignore"):
                ok = np.abs(numbers) <= nd.MAX_NUMBER  # False for NaN and the infinities
            ok &= ~((numbers == 0) & np.signbit(numbers))  # "-0" in a float column; the line reader says 0.0
            flag |= valid & ~ok
            if kind == "int":
                return np.asarray(pd.array(column.to_pylist(), dtype="Int64"))
            return numbers
    elif kind == "timestamp":
        if pa.types.is_int64(t) or pa.types.is_float64(t):
            numbers = _floats(column)
            with np.errstate(invalid="ignore"):
                flag |= valid & ~((numbers >= checker.low) & (numbers < checker.high))
            return numbers
    elif kind == "string" and pa.types.is_string(t):
        flag |= valid & _unholdable(column)
        return _texts(column)
    # Any other type (a bool, a float id, text where a number belongs, ISO timestamps): the line reader decides.
    flag |= valid
    return np.full(n, np.nan) if kind in ("number", "timestamp") else np.full(n, None, dtype=object)


def _undeclared(column: pa.ChunkedArray, flag: np.ndarray, *, attribute: bool) -> None:
    """Flag rows whose undeclared value the line reader may see differently (NaN, too deep, an attribute it converts)."""
    t = column.type
    valid = _valid(column)
    if pa.types.is_struct(t) or pa.types.is_list(t):
        if _depth(t) > _MAX_NESTING or not _finite_inside(column):
            flag |= valid
        return
    if pa.types.is_float64(t):
        numbers = _floats(column)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(numbers)
            if attribute:  # "1" next to "1.5" is 1.0 here, the int 1 there; -0 is -0.0 here, 0 there
                bad |= numbers == np.floor(numbers)
        flag |= valid & bad
    elif attribute and pa.types.is_int64(t):
        numbers = np.asarray(column.to_numpy(), dtype=np.int64) if column.null_count == 0 else np.asarray(
            column.fill_null(0).to_numpy(), dtype=np.int64)
        flag |= valid & ((numbers > 2**53) | (numbers < -(2**53)))  # the line reader keeps these as text
    elif attribute and pa.types.is_string(t):
        flag |= valid & _unholdable(column)


def _depth(t: pa.DataType) -> int:
    """How deep a nested type goes (a struct or list level each), walked without recursion and only until it passes
    _MAX_NESTING: a line nested a thousand levels deep made a recursive walk exhaust Python's stack (an internal
    error where the line reader names the line)."""
    deepest, todo = 0, [(t, 0)]
    while todo:
        t, depth = todo.pop()
        if pa.types.is_struct(t):
            todo.extend((t.field(i).type, depth + 1) for i in range(t.num_fields))
        elif pa.types.is_list(t):
            todo.append((t.value_type, depth + 1))
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > _MAX_NESTING:
            break
    return deepest


def _finite_inside(column: pa.ChunkedArray | pa.Array) -> bool:
    """No NaN or infinity anywhere inside a nested column (the line reader refuses the whole line)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        t = chunk.type
        if pa.types.is_struct(t):
            if not all(_finite_inside(chunk.field(i)) for i in range(t.num_fields)):
                return False
        elif pa.types.is_list(t):
            if not _finite_inside(chunk.flatten()):
                return False
        elif pa.types.is_float64(t) and pc.all(pc.is_finite(chunk)).as_py() is False:
            return False
    return True


def _merge(kind: str, fast: np.ndarray, clean: np.ndarray, slow: list[Any], order: np.ndarray) -> Any:
    """Clean rows' values then the line reader's kept rows, in line order."""
    if kind in ("number", "timestamp"):
        both = np.concatenate([fast[clean], pd.Series(slow, dtype="float64").to_numpy()])
        return both[order]
    if kind == "int":
        both = pd.array(list(fast[clean]) + slow, dtype="Int64")
        return both[order]
    rest = np.empty(len(slow), dtype=object)
    rest[:] = slow
    return np.concatenate([fast[clean], rest])[order]


def _attributes(table: pa.Table, others: list[str], data: bytes, skip: int, lines: _Lines, clean: np.ndarray,
                reader: nd._FileReader, order: np.ndarray, kept_lines: np.ndarray) -> dict[str, np.ndarray] | None:
    """The attribute columns the line reader would make (names, order, values), or None when unsure.

    The line reader makes a column at the first kept line holding the key with a scalar value (null
    included), in the order of the keys in that line. A clean row with a non-null value surely holds its
    key; a null may be a null or no key at all, which pyarrow does not tell apart. So the kept lines are
    read again from the top with `json` until every sure column is found, and to the end when some column
    is only ever null (or nested) in clean rows.
    """
    scalar = {c for c in others if any(test(table.column(c).type) for test in _SCALAR)}
    sure = {c for c in others if c in reader.extra_columns or (c in scalar and _valid(table.column(c))[clean].any())}
    unsure = set(others) - sure
    starts, ends = lines.starts, lines.ends
    row_of = {int(line): row for row, line in enumerate(lines.numbers)}
    made: list[str] = []
    for line in kept_lines:
        if sure.issubset(made) and not unsure:
            break
        row = row_of[int(line)]
        try:
            record = nd._DECODER.decode(data[skip + int(starts[row]):skip + int(ends[row])].decode("utf-8"))
        except (ValueError, RecursionError):
            return None
        for key, value in record.items():
            if key in reader.declared or key in made or not (value is None or isinstance(value, str | int | float | bool)):
                continue
            made.append(key)
            unsure.discard(key)
    if not sure.issubset(made) or not set(made).issubset(others) or len(made) > nd.MAX_ATTRIBUTES:
        return None
    kept_at = {int(line): at for at, line in enumerate(reader.lines)}  # the line reader's own row numbers
    out: dict[str, np.ndarray] = {}
    for c in made:
        fast = np.empty(len(clean), dtype=object)
        fast[:] = table.column(c).take(pa.array(clean)).to_pylist() if c in scalar else None
        slow = reader.extra_columns.get(c, {})
        rest = np.empty(len(reader.lines), dtype=object)
        rest[:] = [slow.get(kept_at[int(line)]) for line in reader.lines]
        out[c] = np.concatenate([fast, rest])[order]
    return out
