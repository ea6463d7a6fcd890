"""The CSV folder sink: one UTF-8 CSV per tab, written to a temporary folder that replaces the old one.

A spreadsheet that opens a CSV file runs text starting with =, +, -, @, a tab or a carriage return as a
formula (CWE-1236). By default such text cells, headers included, get a leading apostrophe, as OWASP's CSV
injection guidance says (text that is a plain number, "-4.50", runs nothing and is left as it is); `[output] csv_neutralize_formulas = false` writes them raw for consumers that
read the files as data. Numbers are never touched: only text is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from kpi.tables import Column, Table
from sync.errors import PublishError
from sync.sinks import PublishResult
from sync.sinks.cells import column_values, formats, header, naive_stamps
from sync.sinks.gsheet_rows import text_array
from sync.sinks.local import atomic_path, check_folder_target, temporary_file, written
from sync.sinks.ordered import THREADS, in_order

_LS = pa.large_string()
_FORMULA_BYTES = np.zeros(256, dtype=bool)  # byte -> does a field starting with it look like a formula
_FORMULA_BYTES[np.frombuffer(b"=+-@\t\r", dtype=np.uint8)] = True
_QUOTE_BYTES = np.zeros(256, dtype=bool)  # byte -> does a field holding it need quotes (a table lookup: isin sorts)
_QUOTE_BYTES[np.frombuffer(b',"\r\n', dtype=np.uint8)] = True
CHUNK_ROWS = 1 << 18  # rows turned into CSV text at a time: the text of a whole tall tab is never held at once
AHEAD_ROWS = 1 << 16  # the same for a tab written ahead, beside the run's own peak


def csv_name(tab: str) -> str:
    """The file name for a tab: lower case, runs of other characters turned into `_` ("MRR by quarter" -> mrr_by_quarter.csv)."""
    stem = re.sub(r"[^a-z0-9]+", "_", tab.lower()).strip("_")
    return f"{stem or 'tab'}.csv"


class CsvSink:
    def __init__(self, directory: str, *, timezone: str = "UTC", neutralize_formulas: bool = True):
        self.directory = Path(directory)
        self.destination = f"csv:{directory}"
        check_folder_target(self.directory.expanduser().absolute())  # a wrong destination fails before any work
        self.timezone = timezone
        self.neutralize = neutralize_formulas
        self._ahead: dict[str, _Ahead] = {}
        self._stop = threading.Event()

    def publish(self, tables: Sequence[Table], *, force: bool = False) -> PublishResult:
        """Write every tab into a fresh folder, then swap it in for the old one. A tab written ahead
        (`render_ahead`) is moved in, when it is this very table; the others are written here."""
        try:
            with atomic_path(self.directory, directory=True) as tmp:
                expected: dict[Path, tuple[int, int]] = {}
                for table in tables:
                    path = tmp / csv_name(table.name)
                    ahead = self._ahead.get(table.name)
                    if ahead is not None and ahead.table is table:
                        expected[path] = ahead.future.result()  # (its error, if it failed, is this publish's)
                        os.replace(ahead.path, path)
                        written(ahead.path)
                        del self._ahead[table.name]
                    else:
                        expected[path] = self._write(table, path)
                verify_folder(expected)
        finally:
            self.discard_ahead()
        return PublishResult(destination=self.destination, written=[t.name for t in tables])

    def render_ahead(self, table: Table) -> None:
        """Begin writing this tab's file now, on another thread, while the run computes its other tabs (sync.run:
        the Billing tab, 444 MB of CSV at 10M charges, written while the month tables are computed on the other
        core), in slices of AHEAD_ROWS rows: fewer than a publish's, as they are held beside the run's own peak
        (10M charges: 250 MB more at it, not 500). The file is a temporary beside the destination; `publish` moves
        it into the new folder when it publishes this very table (another is written again there), and
        `discard_ahead` removes what no publish took. A thread of its own for each tab. Nothing is written
        where the temporary cannot be made: the publish writes the tab then, and says what is wrong."""
        target = self.directory.expanduser().absolute()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # (a killed run's is removed by the next; a stopped worker's at its exit: local.py)
            path = temporary_file(target, "ahead-")
        except OSError:
            return
        job: Future[tuple[int, int]] = Future()

        def write() -> None:
            if job.set_running_or_notify_cancel():
                try:
                    job.set_result(self._write(table, path, 1, self._stop, AHEAD_ROWS))
                except BaseException as exc:  # the publish raises it
                    job.set_exception(exc)

        # a daemon: a process that exits (a worker stopped while the run computes) does not wait for the tab (nor
        # would it for a pool's thread: in_order's pool takes no work once the interpreter shuts down)
        threading.Thread(target=write, name="kpi-sync-ahead", daemon=True).start()
        self._ahead[table.name] = _Ahead(table, path, job)

    def discard_ahead(self) -> None:
        """Stop the tabs being written ahead and remove the files no publish took (a run that failed or was
        stopped before its publish, or whose tab changed since)."""
        self._stop.set()
        for ahead in self._ahead.values():
            with contextlib.suppress(BaseException):
                ahead.future.result()
            with contextlib.suppress(OSError):
                ahead.path.unlink()
            written(ahead.path)
        self._ahead.clear()
        self._stop.clear()

    def _write(self, table: Table, path: Path, threads: int = THREADS,
               stop: threading.Event | None = None, rows: int = 0) -> tuple[int, int]:
        """The tab's file at `path` (its header, its records), on disk: its rows (header included) and fields.
        Errors name the tab's file as published (csv_name), wherever it is written. `stop` set: _Discarded."""
        name = csv_name(table.name)
        head = [self._safe(h) for h in header(table)]
        try:
            head_line = _record(head, len(head)).encode("utf-8")
        except UnicodeEncodeError as exc:  # sinks get holdable text (cells.py); this is the last line of defence
            raise PublishError(f"cannot write {name}: {exc.reason}") from None
        with path.open("wb") as handle:
            handle.write(head_line)
            # a slice of rows at a time (the text of a few slices in memory), the next ones built while one is
            # written
            for body in in_order(functools.partial(self._body, name=name), _row_chunks(table, rows), threads):
                if stop is not None and stop.is_set():
                    raise _Discarded
                if body is not None:
                    handle.write(_buffer(body))
                del body
            handle.flush()
            os.fsync(handle.fileno())
        return 1 + len(table.frame), len(head)

    def _body(self, rows: Table, name: str) -> pa.Array | None:
        try:
            return csv_body(rows, self.timezone, self.neutralize)
        except UnicodeEncodeError as exc:  # text not made holdable (cells.py): UTF-8 cannot hold it
            raise PublishError(f"cannot write {name}: {exc.reason}") from None

    def _safe(self, value: str) -> str:
        return str(neutralize(value)) if self.neutralize else value


@dataclasses.dataclass(frozen=True)
class _Ahead:
    """A tab being written ahead: the table, its temporary file, and its rows and fields once written."""

    table: Table
    path: Path
    future: Future[tuple[int, int]]


class _Discarded(Exception):
    """Raised in the thread writing a tab ahead once the run has let it go (`discard_ahead`)."""


def _row_chunks(table: Table, rows: int = 0) -> Iterator[Table]:
    """The table in slices of CHUNK_ROWS rows (the whole table when it has no more): each row's record depends on that
    row alone, so the records of the slices, one after the other, are the table's."""
    n, rows = len(table.frame), rows or CHUNK_ROWS
    if n <= rows:
        yield table
        return
    for start in range(0, n, rows):
        yield dataclasses.replace(table, frame=table.frame.iloc[start:start + rows])


def _record(fields: list[str], n_columns: int) -> str:
    """One CSV record as the csv module writes it (QUOTE_MINIMAL, \\r\\n; a lone empty field as \"\")."""
    if n_columns == 1 and fields == [""]:
        return '""\r\n'
    return ",".join(_quote(f) for f in fields) + "\r\n"


def _quote(field: str) -> str:
    return '"' + field.replace('"', '""') + '"' if any(c in field for c in ',"\r\n') else field


def _bytes(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of all of `texts` and each string's offset into them (no copy)."""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    data = texts.buffers()[2]
    if data is None:
        return np.zeros(0, np.uint8), offsets - offsets[0]
    return np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]], offsets - offsets[0]


def _buffer(rows: pa.Array) -> memoryview:
    """The UTF-8 text of all of `rows` (one string per record), without a copy."""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
    return memoryview(rows.buffers()[2])[int(offsets[0]):int(offsets[-1])]


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, _LS)


def _join(pieces: list) -> pa.Array:
    return pc.binary_join_element_wise(*[_lit(p) if isinstance(p, str) else p.cast(_LS) for p in pieces], _lit(""))


def csv_body(table: Table, timezone: str = "UTC", neutralize_formulas: bool = True) -> pa.Array | None:
    """Every row of the table as one CSV record (its \\r\\n included), built column by column: the bytes the csv
    module wrote from `cells.table_rows` before, with no Python work per value (None for no rows)."""
    n = len(table.frame)
    if n == 0:
        return None
    if not table.columns:
        return pa.array(["\r\n"] * n, _LS)
    pieces: list = []
    for i, column in enumerate(table.columns):
        try:
            fields = csv_fields(table.frame.iloc[:, i], column, timezone, neutralize_formulas)
        except UnicodeEncodeError:
            raise
        except (TypeError, ValueError, OverflowError, pa.ArrowException) as exc:
            raise ValueError(f"tab {table.name!r}, column {column.name!r}: {exc}") from exc
        if len(table.columns) == 1:  # the csv module writes a record of one empty field as ""
            fields = pc.if_else(pc.equal(fields, _lit("")), _lit('""'), fields)
        pieces.extend([",", fields] if i else [fields])
    pieces.append("\r\n")
    return _join(pieces)


def csv_fields(values: pd.Series, column: Column, timezone: str = "UTC", neutralize_formulas: bool = True) -> pa.Array:
    """One column as CSV fields, quoted where needed: numbers as %.12g, whole numbers as integers, dates with the kind's
    pattern, True/False, text neutralised (when asked) as `neutralize` does, missing values empty."""
    kind = column.kind
    if kind == "figure":  # the Summary's Value: a few rows of numbers and text, one by one
        fields = []
        for value in column_values(values, column, timezone):
            shown = neutralize(value) if neutralize_formulas else value
            fields.append("" if shown is None else format(shown, ".12g") if isinstance(shown, float) else str(shown))
        return pa.array([_quote(f) for f in fields], _LS)
    if kind in ("number", "money", "percent", "int", "count"):
        numbers = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(numbers)
        if kind == "int":
            whole = np.rint(np.where(finite, numbers, 0))
            if len(whole) and np.abs(whole).max() >= 2**63:
                text = pa.array([str(int(v)) for v in whole.tolist()], _LS)  # past int64: Python ints
            else:
                text = pa.array(whole.astype("int64")).cast(_LS)
        else:
            text = _g12(np.round(numbers, 2) if kind == "money" else numbers, finite, cents=kind == "money")
        return pc.if_else(pa.array(finite), text, _lit(""))
    if kind in ("month", "date", "datetime"):
        stamps, valid = naive_stamps(values, kind, timezone)
        text = _strftime(stamps, formats()[kind].csv or "")
        return pc.if_else(pa.array(valid), text, _lit(""))
    if kind == "bool":
        missing = values.isna().to_numpy(dtype=bool)
        flags = values.where(~missing, False).astype(bool).to_numpy(dtype=bool)
        text = pc.if_else(pa.array(flags), _lit("True"), _lit("False"))
        return pc.if_else(pa.array(~missing), text, _lit(""))
    if kind == "text":
        texts, valid = text_array(values)
        raw, offsets = _bytes(texts)
        if neutralize_formulas:
            lengths = np.diff(offsets)
            first = raw[np.minimum(offsets[:-1], len(raw) - 1)] if len(raw) else raw[:0]
            if len(raw) and bool(((lengths > 0) & _FORMULA_BYTES[first]).any()):
                starts = pc.match_substring_regex(texts, r"^[=+\-@\t\r]")
                plain = pc.match_substring_regex(texts, r"^[+-]?\p{Nd}+(?:\.\p{Nd}+)?$")  # Python's \d: any Nd
                texts = pc.if_else(pc.and_(starts, pc.invert(plain)),
                                   pc.binary_join_element_wise(_lit("'"), texts, _lit("")), texts)
        if bool(_QUOTE_BYTES[raw].any()):  # a field with , " CR or LF is quoted, its quotes doubled
            needs = pc.match_substring_regex(texts, r'[,"\r\n]')
            quoted = pc.binary_join_element_wise(_lit('"'), pc.replace_substring(texts, '"', '""'), _lit('"'),
                                                 _lit(""))
            texts = pc.if_else(needs, quoted, texts)
        return pc.if_else(pa.array(valid), texts, _lit(""))
    raise ValueError(f"unknown column kind {kind!r}")


def _g12(numbers: np.ndarray, finite: np.ndarray, cents: bool = False) -> pa.Array:
    """format(v, ".12g") of each number, vectorized where it can be.

    A double whose shortest round-trip decimal has at most 12 significant digits and a decimal exponent in
    [-4, 12) prints under %.12g as that decimal in positional notation (the 12-digit rounding of the exact value
    is that decimal, padded with zeros, which %g strips), which is Arrow's formatting in that range. Only the
    others (more digits, tiny or huge) go through Python's format, one by one."""
    safe = np.where(finite, numbers, 0.0)
    text = pa.array(safe).cast(_LS)
    magnitude = np.abs(safe)
    if cents and bool((magnitude < 1e10).all()):
        return text  # rounded to the cent, under 1e10: at most 12 digits, 0 or at least 0.01, positional in Arrow
    in_range = (magnitude == 0) | ((magnitude >= 1e-4) & (magnitude < 1e12))
    digits = pc.replace_substring_regex(text, r"[-.]", "")
    digits = pc.utf8_rtrim(pc.utf8_ltrim(digits, "0"), "0")
    short = pc.and_(pc.less_equal(pc.utf8_length(digits), 12), pc.invert(pc.match_substring(text, "e")))
    short = short.to_numpy(zero_copy_only=False)  # "e": Arrow's exponent form, which %g writes differently
    slow = np.flatnonzero(finite & ~(in_range & short))
    if len(slow) == 0:
        return text
    fixed = [format(v, ".12g") for v in safe[slow].tolist()]
    out = text.to_numpy(zero_copy_only=False).astype(object)
    out[slow] = fixed
    return pa.array(out, _LS)


def _strftime(stamps: np.ndarray, pattern: str) -> pa.Array:
    """%Y-%m, %Y-%m-%d or %Y-%m-%d %H:%M:%S of naive datetime64[ns] values (NaT gives anything: masked later)."""
    days = stamps.astype("datetime64[D]")
    safe = np.where(np.isnat(stamps), np.datetime64("2000-01-01"), days)
    years = safe.astype("datetime64[Y]")
    months = safe.astype("datetime64[M]")

    def two(values: np.ndarray) -> pa.Array:
        return pc.utf8_lpad(pa.array(values.astype("int64")).cast(_LS), 2, "0")

    pieces: list = [pa.array(years.astype("int64") + 1970).cast(_LS), "-", two(months - years + 1)]
    if "%d" in pattern:
        pieces.extend(["-", two(safe - months + 1)])
    if "%H" in pattern:
        seconds = (np.where(np.isnat(stamps), np.datetime64("2000-01-01", "ns"), stamps) - safe).astype(
            "timedelta64[s]").astype("int64")
        pieces.extend([" ", two(seconds // 3600), ":", two(seconds // 60 % 60), ":", two(seconds % 60)])
    return _join(pieces)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")  # "-4.50": a spreadsheet reads it as the number it is


def neutralize(value: object) -> object:
    """Text a spreadsheet would run as a formula, with a leading apostrophe (OWASP); anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def verify_folder(expected: dict[Path, tuple[int, int]]) -> None:
    """Read each written CSV file back (`expected`: its rows, header included, and its fields): valid UTF-8 that
    parses into the rows written, each with as many fields as its header (Arrow's CSV reader, quoted line breaks
    allowed). Raises PublishError otherwise. Every field is read as text, which is what it checks: no type guessed
    and converted per column (the 10M bench's files: 1.2 against 1.7 s warm, 4.4 s cold)."""
    for path, (rows, fields) in expected.items():
        try:
            table = pa_csv.read_csv(
                path,
                read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
                parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
                convert_options=pa_csv.ConvertOptions(check_utf8=True, auto_dict_encode=False,
                                                      column_types={f"f{i}": pa.string() for i in range(fields)}),
            ) if path.stat().st_size else None
        except (OSError, pa.ArrowException) as exc:
            raise PublishError(f"{path.name} does not read back ({type(exc).__name__}); the previous output is "
                               "left as it was") from None
        found = table.num_rows if table is not None else 0
        if table is not None and table.num_columns != max(fields, 1):  # a tab of no column: one empty field a line
            raise PublishError(f"{path.name} reads back {table.num_columns} fields a line instead of {fields}; the "
                               "previous output is left as it was")
        if found != rows:
            raise PublishError(f"{path.name} reads back {found} rows instead of {rows}; the previous output is "
                               "left as it was")
