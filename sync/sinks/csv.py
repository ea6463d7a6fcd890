"""The CSV folder sink: one UTF-8 CSV per tab, written to a temporary folder that replaces the old one.

A spreadsheet that opens a CSV file runs text starting with =, +, -, @, a tab or a carriage return as a
formula (CWE-1236). By default such text cells, headers included, get a leading apostrophe, as OWASP's CSV
injection guidance says (text that is a plain number, "-4.50", runs nothing and is left as it is); `[output] csv_neutralize_formulas = false` writes them raw for consumers that
read the files as data. Numbers are never touched: only text is.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path

from kpi.tables import Table
from sync.errors import PublishError
from sync.sinks import PublishResult
from sync.sinks.cells import CellValue, formats, header, table_rows
from sync.sinks.local import atomic_path, check_folder_target


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

    def publish(self, tables: Sequence[Table], *, force: bool = False) -> PublishResult:
        """Write every tab into a fresh folder, then swap it in for the old one."""
        fmt = formats()
        with atomic_path(self.directory, directory=True) as tmp:
            expected: dict[Path, int] = {}
            for table in tables:
                patterns = [fmt[c.kind].csv for c in table.columns]
                path = tmp / csv_name(table.name)
                rows = table_rows(table, self.timezone)
                try:
                    with path.open("w", encoding="utf-8", newline="") as handle:
                        writer = csv.writer(handle)
                        writer.writerow([self._safe(h) for h in header(table)])
                        for row in rows:
                            writer.writerow([_text(self._safe(v), p) for v, p in zip(row, patterns, strict=True)])  # type: ignore[arg-type]
                        handle.flush()
                        os.fsync(handle.fileno())
                except UnicodeEncodeError as exc:  # sinks get holdable text (cells.py); this is the last line of defence
                    raise PublishError(f"cannot write {path.name}: {exc.reason}") from None
                expected[path] = 1 + len(rows)
            verify_folder(expected)
        return PublishResult(destination=self.destination, written=[t.name for t in tables])


    def _safe(self, value: object) -> object:
        return neutralize(value) if self.neutralize else value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")  # "-4.50": a spreadsheet reads it as the number it is


def neutralize(value: object) -> object:
    """Text a spreadsheet would run as a formula, with a leading apostrophe (OWASP); anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def verify_folder(expected: dict[Path, int]) -> None:
    """Read each written CSV file back: valid UTF-8 that parses into the rows written. Raises PublishError otherwise."""
    for path, rows in expected.items():
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                found = sum(1 for _ in csv.reader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise PublishError(f"{path.name} does not read back ({type(exc).__name__}); the previous output is "
                               "left as it was") from None
        if found != rows:
            raise PublishError(f"{path.name} reads back {found} rows instead of {rows}; the previous output is "
                               "left as it was")


def _text(value: CellValue, pattern: str | None) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.date) and pattern:
        return value.strftime(pattern)
    if isinstance(value, float):
        return format(value, ".12g")  # 18.0 -> 18, 0.05 -> 0.05, no float noise
    return value
