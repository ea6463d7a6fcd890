"""Streaming, validated NDJSON reading: every problem names the file, the line, the field and the reason.

A file is read line by line (never whole into memory as text). Each line must be a JSON object;
each declared field is checked against its kind. A line with a problem in a required field is
dropped and counted as bad ("error"); a bad optional attribute is blanked and reported ("warning").
A missing or empty file, or more than `max_bad_share` of bad lines, fails the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, cast

import numpy as np
import pandas as pd

from kpi.tables import InputFile, empty_issues
from sync.errors import ConfigError, InputDataError
from sync.text import first_unholdable, has_unholdable, holdable

if TYPE_CHECKING:
    from sync.settings import Settings

FieldKind = Literal["id", "string", "number", "int", "timestamp", "date", "list"]

_MAX_LISTED_PER_REASON = 1000
# Past this a number is not a real amount, count or ARR, and sums of it in cents would overflow 64 bits.
MAX_NUMBER = 1e12
# Attribute columns kept per file: every output holds them (an .xlsx sheet stops at 16,384 columns).
MAX_ATTRIBUTES = 200
_BOM = b"\xef\xbb\xbf"
# ISO 8601 as data exports write it: a day, optionally a time (minutes, seconds, fractions) and an offset.
# Nothing else: pandas would also read "now", "today" or "17:00" as the current time.
_ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TEXT_REPLACED = "control character or invalid Unicode ({}) replaced with U+FFFD"


@dataclass(frozen=True)
class Issue:
    file: str
    line: int | None
    field: str
    reason: str
    severity: Literal["error", "warning", "info"] = "error"
    value: str = ""


@dataclass(frozen=True)
class Field:
    """A field of an input file: its name in our code, its name in the file, and its kind."""

    canonical: str
    source: str
    kind: FieldKind
    required: bool = True
    nullable: bool = False


@dataclass(frozen=True)
class Limits:
    """What the reader accepts. `now`: the run's own clock (epoch seconds); no timestamp may pass it by more
    than `clock_skew_hours`. None: no clock bound (only `max_year`)."""

    max_bad_share: float = 0.01
    min_year: int = 2000
    max_year: int = 2100
    now: float | None = None
    clock_skew_hours: float = 1.0


@dataclass
class ReadResult:
    """Valid rows (canonical columns + `line`), the issues found, and what the About tab says of the file."""

    frame: pd.DataFrame
    issues: list[Issue]
    info: InputFile
    bad_lines: int


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every line (json.loads with options builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line, streamed."""
    with path.open("r", encoding="utf-8", errors="strict", newline=None) as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield number, text


def _short(value: Any) -> str:
    """A value as Data quality echoes it: at most 80 characters, every one of them holdable by every sink."""
    try:
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    except (RecursionError, ValueError, TypeError):
        text = f"({type(value).__name__})"
    text = text if len(text) <= 80 else text[:77] + "..."
    return holdable(text)


class _Checker:
    """Converts one raw JSON value to its canonical Python value, or says why it can't."""

    def __init__(self, limits: Limits):
        self.low = pd.Timestamp(year=limits.min_year, month=1, day=1, tz="UTC").timestamp()
        self.high = pd.Timestamp(year=limits.max_year, month=1, day=1, tz="UTC").timestamp()
        self.min_year = limits.min_year
        self.max_year = limits.max_year
        self.too_late = f"after {limits.max_year - 1} (quality.max_timestamp_year = {limits.max_year})"
        if limits.now is not None and limits.now + limits.clock_skew_hours * 3600 < self.high:
            self.high = limits.now + limits.clock_skew_hours * 3600
            clock = pd.Timestamp(limits.now, unit="s", tz="UTC")
            self.too_late = (f"after this run's clock ({clock:%Y-%m-%d %H:%M} UTC) plus "
                             f"quality.clock_skew_hours = {limits.clock_skew_hours:g}")

    def check(self, value: Any, kind: FieldKind) -> tuple[Any, str | None]:
        # Fast path for the common, valid values (a payment log has millions); anything else
        # goes through the full checks below, which also explain what is wrong.
        t = type(value)
        number = t is int or (t is float and value - value == 0)  # finite int or float, never bool
        if kind == "number" and number and -MAX_NUMBER <= value <= MAX_NUMBER:
            return float(value), None
        if kind == "timestamp" and number and self.low <= value < self.high:
            return float(value), None
        if kind == "id" and (t is int or (t is str and value and not has_unholdable(value))):
            return str(value), None
        if kind == "id":
            if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
                return None, "expected an id (a whole number or a non-empty string)"
            return None, f"id holds a control character or invalid Unicode ({first_unholdable(str(value))})"
        if kind == "string":
            if not isinstance(value, str):
                return None, "expected a string"
            return value, None
        if kind in ("number", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, "expected a number"
            try:
                number = float(value)
            except OverflowError:
                return None, "number too large"
            if not math.isfinite(number):
                return None, "number is not finite"
            if abs(number) > MAX_NUMBER:
                return None, f"number too large (beyond {MAX_NUMBER:,.0f}); sums of such numbers overflow"
            if kind == "int" and number != int(value):
                return None, "expected a whole number"
            return (int(value) if kind == "int" else number), None
        if kind == "timestamp":
            return self._timestamp(value)
        if kind == "date":
            if not isinstance(value, str):
                return None, "expected an ISO date (YYYY-MM-DD)"
            try:
                day = pd.Timestamp(value[:10]) if _ISO_DAY.fullmatch(value[:10]) else None
            except ValueError:
                day = None
            if day is None or (len(value) > 10 and value[10:] not in ("T00:00:00", "T00:00:00Z", "T00:00:00.000Z")):
                return None, "expected an ISO date (YYYY-MM-DD)"
            if not self.min_year <= day.year < self.max_year:
                return None, f"date outside {self.min_year}-{self.max_year}"
            return day, None
        if kind == "list":
            if not isinstance(value, list):
                return None, "expected a list"
            return value, None
        raise ValueError(kind)

    def _timestamp(self, value: Any) -> tuple[Any, str | None]:
        if isinstance(value, str):
            if not _ISO_INSTANT.fullmatch(value.strip()):
                return None, "expected epoch seconds or an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SSZ)"
            try:
                ts = pd.Timestamp(value.strip())
            except (ValueError, OverflowError):
                return None, "not a valid ISO 8601 timestamp (no such day or time)"
            if ts is pd.NaT:
                return None, "expected epoch seconds or an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SSZ)"
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            seconds = ts.timestamp()
        elif isinstance(value, bool) or not isinstance(value, int | float):
            return None, "expected epoch seconds or an ISO 8601 timestamp"
        else:
            try:
                seconds = float(value)
            except OverflowError:
                return None, "timestamp far out of range"
            if not math.isfinite(seconds):
                return None, "timestamp is not finite"
            if seconds < 0:
                return None, "negative timestamp"
            if seconds >= self.high and self.low <= seconds / 1000 < self.high:
                return None, "timestamp looks like milliseconds; expected epoch seconds"
        if seconds < self.low:
            return None, f"timestamp before quality.min_timestamp_year ({self.min_year})"
        if seconds >= self.high:
            return None, f"timestamp {_when(seconds)} is {self.too_late}"
        return seconds, None


def _when(seconds: float) -> str:
    """An epoch as a readable UTC time, or 'after the year 9999' past what a calendar shows."""
    if not -62135596800 <= seconds < 253402300800:  # datetime's years 1 to 9999
        return "after the year 9999" if seconds > 0 else "before the year 1"
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=int(seconds))
    return f"{moment:%Y-%m-%d %H:%M} UTC"


class _BadLine(Exception):
    def __init__(self, reason: str, value: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.value = value


def _decode(chunk: bytes) -> Any:
    """One line's JSON value; raises _BadLine saying why it is not one."""
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadLine("not UTF-8 text") from None
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise _BadLine("JSON nested too deeply to read", _short(text.strip())) from None
    except ValueError as exc:
        message = str(exc)
        reason = message if "not valid JSON" in message else f"invalid JSON: {message.split(':')[0]}"
        raise _BadLine(reason, _short(text.strip())) from None


class _FileReader:
    """The rows, issues and attributes of one file, line by line."""

    def __init__(self, name: str, fields: Sequence[Field], checker: _Checker, *, unique: str | None, extras: bool):
        self.name = name
        self.fields = fields
        self.checker = checker
        self.unique = unique
        self.unique_at = [f.canonical for f in fields].index(unique) if unique is not None else -1
        self.extras = extras
        self.declared = {f.source for f in fields}
        self.columns: dict[str, list[Any]] = {f.canonical: [] for f in fields}
        self.lines: list[int] = []
        self.extra_columns: dict[str, dict[int, Any]] = {}
        self.seen: dict[Any, tuple[int, dict]] = {}
        self.issues: list[Issue] = []
        self.bad = 0

    def line(self, number: int, chunk: bytes) -> None:
        """Read one non-blank line: a row, or a bad line with its issue. Never raises for what a line holds."""
        mark = len(self.issues)
        try:
            record = _decode(chunk)
            ok = self._record(number, record)
        except _BadLine as exc:
            self.issues.append(Issue(self.name, number, "", exc.reason, value=exc.value))
            ok = False
        except Exception as exc:  # whatever a line holds, it is one named bad line, never an internal error
            del self.issues[mark:]
            self.issues.append(Issue(self.name, number, "", f"unreadable record ({type(exc).__name__})"))
            ok = False
        if not ok:
            self.bad += 1

    def _record(self, number: int, record: Any) -> bool:
        name = self.name
        if not isinstance(record, dict):
            self.issues.append(Issue(name, number, "", "expected a JSON object", value=_short(record)))
            return False
        row: list[Any] = []
        line_bad = False
        for f in self.fields:
            if f.source not in record:
                if f.required:
                    self.issues.append(Issue(name, number, f.source, "missing field"))
                    line_bad = True
                row.append(None)
                continue
            value = record[f.source]
            if value is None:
                if not f.nullable:
                    self.issues.append(Issue(name, number, f.source, "null value"))
                    line_bad = line_bad or f.required
                row.append(None)
                continue
            converted, problem = self.checker.check(value, f.kind)
            if problem:
                severity: Literal["error", "warning"] = "error" if f.required else "warning"
                reason = problem if f.required else f"{problem}; left empty"
                self.issues.append(Issue(name, number, f.source, reason, severity, _short(value)))
                line_bad = line_bad or f.required
            elif f.kind in ("string", "list"):
                converted = self._holdable(number, f.source, converted)
            row.append(converted)
        if line_bad:
            return False
        if self.unique is not None:
            key = row[self.unique_at]
            if key in self.seen:
                first_line, first_record = self.seen[key]
                if first_record == record:
                    self.issues.append(Issue(name, number, self.unique, f"duplicate of line {first_line}: ignored",
                                             "warning", _short(key)))
                    return True
                self.issues.append(Issue(name, number, self.unique, f"duplicate {self.unique} with other values than "
                                         f"line {first_line}: line {first_line} is kept", "error", _short(key)))
                return False
            self.seen[key] = (number, record)
        if self.extras:
            at = len(self.lines)
            for key, value in record.items():
                if key in self.declared or not (value is None or isinstance(value, str | int | float | bool)):
                    continue
                column = holdable(key)
                if column not in self.extra_columns and len(self.extra_columns) >= MAX_ATTRIBUTES:
                    self.issues.append(Issue(name, number, column, f"attribute ignored: the file already has "
                                             f"{MAX_ATTRIBUTES} attributes, the most kept", "warning"))
                    continue
                if column != key:
                    self.issues.append(Issue(name, number, column, _TEXT_REPLACED.format(first_unholdable(key))
                                             + " in the attribute's name", "warning", _short(key)))
                if isinstance(value, str):
                    value = self._holdable(number, column, value)
                elif isinstance(value, int) and not isinstance(value, bool) and not -(2**53) <= value <= 2**53:
                    self.issues.append(Issue(name, number, column, "whole number too large to keep exactly; "
                                             "kept as text", "warning", _short(value)))
                    value = str(value)
                self.extra_columns.setdefault(column, {})[at] = value
        for f, value in zip(self.fields, row, strict=True):
            self.columns[f.canonical].append(value)
        self.lines.append(number)
        return True

    def _holdable(self, number: int, field: str, value: Any) -> Any:
        """A text (or the texts of a list) with unholdable characters replaced, and a warning when there were any."""
        if isinstance(value, str):
            if not has_unholdable(value):
                return value
            self.issues.append(Issue(self.name, number, field, _TEXT_REPLACED.format(first_unholdable(value)),
                                     "warning", _short(value)))
            return holdable(value)
        if isinstance(value, list) and any(isinstance(v, str) and has_unholdable(v) for v in value):
            self.issues.append(Issue(self.name, number, field, _TEXT_REPLACED.format("in a list item"), "warning"))
            return [holdable(v) if isinstance(v, str) else v for v in value]
        return value


def _read_lines(raw: BinaryIO, name: str, role: str, fields: Sequence[Field], checker: _Checker, limits: Limits, *,
                unique: str | None, extras: bool) -> ReadResult:
    """The line-by-line reader: every line decoded with `json` and checked value by value."""
    digest = hashlib.sha256()
    state = _FileReader(name, fields, checker, unique=unique, extras=extras)
    read = 0
    for number, chunk in enumerate(raw, start=1):
        digest.update(chunk)
        if number == 1 and chunk.startswith(_BOM):  # a byte order mark is UTF-8's, not part of the record
            chunk = chunk[len(_BOM):]
        if not chunk.strip():
            continue
        read += 1
        state.line(number, chunk)
    frame = None
    if read and state.bad / read <= limits.max_bad_share:
        n = len(state.lines)
        frame = _to_frame(state.columns, fields, state.lines)
        attributes = {}
        for key, values in state.extra_columns.items():
            column = np.full(n, None, dtype=object)
            column[list(values)] = list(values.values())
            attributes[key] = column
        frame = _with_attributes(frame, attributes)
    return _result(name, role, limits, frame, state.issues, state.bad, read, digest.hexdigest())


def _result(name: str, role: str, limits: Limits, frame: pd.DataFrame | None, issues: list[Issue], bad: int, read: int,
            digest: str) -> ReadResult:
    """The fatal rules (an empty file, too many bad lines), then the result."""
    if read == 0:
        raise InputDataError(f"{name}: {role} file is empty")
    share = bad / read
    if share > limits.max_bad_share or frame is None:
        first = next(i for i in issues if i.severity == "error")
        said, allowed = bad_shares(share, limits.max_bad_share)  # not %-formatted: a file name may hold a %
        raise InputDataError(
            f"{name}: {bad:,} of {read:,} lines are bad ({said}%, more than the allowed {allowed}%); first: line "
            f"{first.line}"
            + (f", field {first.field}" if first.field else "")
            + f": {first.reason}"
        )
    info = InputFile(role=role, path=name, rows=read, sha256=digest)
    return ReadResult(frame=frame, issues=issues, info=info, bad_lines=bad)


def _with_attributes(frame: pd.DataFrame, attributes: dict[str, Any]) -> pd.DataFrame:
    """The frame with the attribute columns (object arrays, one value per row, None for none) after its own."""
    extra = {key: pd.Series(values, index=frame.index, dtype="object")
             for key, values in attributes.items() if key not in frame.columns}
    if extra:  # all at once: one column at a time fragments the frame
        frame = pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)
    return frame


def _to_frame(columns: dict[str, Any], fields: Sequence[Field], lines: Any) -> pd.DataFrame:
    """Canonical columns (lists or arrays of the checked values, None/NaN for none) as typed frame columns."""
    data: dict[str, Any] = {}
    for f in fields:
        values = columns[f.canonical]
        if f.kind == "timestamp":
            data[f.canonical] = pd.to_datetime(
                pd.Series(values, dtype="float64"), unit="s", utc=True
            ).astype("datetime64[ns, UTC]")
        elif f.kind == "date":
            data[f.canonical] = pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ns]")
        elif f.kind == "number":
            data[f.canonical] = pd.Series(values, dtype="float64")
        elif f.kind == "int":
            data[f.canonical] = pd.Series(values, dtype="Int64")
        elif isinstance(values, pd.Categorical):  # ids coded by the columnar reader (read_ndjson's `coded`)
            data[f.canonical] = pd.Series(values)
        else:
            data[f.canonical] = pd.Series(values, dtype="object")
    data["line"] = pd.Series(lines, dtype="int64")
    return pd.DataFrame(data)


def bad_shares(share: float, allowed: float) -> tuple[str, str]:
    """A bad-line share and the allowed one as percentages with the fewest digits (3 at least) that tell them apart:
    1,001 bad lines of 100,000 are 1.001%, not "1%, more than the allowed 1%"."""
    for digits in range(3, 12):
        said = f"{share * 100:.{digits}g}", f"{allowed * 100:.{digits}g}"
        if said[0] != said[1]:
            break
    return said


def dropped_lines(issues: Sequence[Issue]) -> tuple[tuple[str, int], ...]:
    """Per file (in the order of its first error), the lines dropped as bad: the distinct lines with an error. Counted
    from every issue, before `issues_frame` lets one row stand for the rest of a reason's, and once per line (a line
    with two fields missing has two errors)."""
    seen: dict[str, set[int]] = {}
    for i in issues:
        if i.severity == "error" and i.line is not None:  # (an error of no line drops no line)
            seen.setdefault(i.file, set()).add(i.line)
    return tuple((file, len(lines)) for file, lines in seen.items())


def issues_frame(issues: Sequence[Issue]) -> pd.DataFrame:
    """Issues as the Data quality frame. Past 1,000 issues of one reason in one file, one summary row stands for the rest."""
    if not issues:
        return empty_issues()
    frame = pd.DataFrame([i.__dict__ for i in issues])
    rank = frame.groupby(["file", "reason"]).cumcount()
    kept = frame.loc[rank < _MAX_LISTED_PER_REASON]
    extra = frame.loc[rank >= _MAX_LISTED_PER_REASON].groupby(["file", "reason", "severity"], as_index=False).size()
    summary = extra.assign(
        line=None, field="", value=lambda d: d["size"].map(lambda n: f"and {n} more lines like this")
    ).drop(columns="size")
    out = pd.concat([kept, summary], ignore_index=True) if len(summary) else kept
    return out.assign(line=out["line"].astype("Int64")).loc[:, list(empty_issues().columns)].reset_index(drop=True)


def fields_from_spec(spec: dict[str, tuple[str, str, bool, bool]], renames: dict[str, str]) -> list[Field]:
    """Fields from {canonical: (default name in the files, kind, required, nullable)}, renamed as configured."""
    return [Field(canonical, renames.get(canonical, source), cast(FieldKind, kind), required, nullable)
            for canonical, (source, kind, required, nullable) in spec.items()]


def field_renames(settings: Settings, allowed: set[str], dataset: str) -> dict[str, str]:
    """[sources.fields] as a dict; a canonical name this dataset doesn't know is a config error naming it."""
    renames = dict(settings.sources.fields)
    unknown = sorted(set(renames) - allowed)
    if unknown:
        raise ConfigError(
            f"{settings.config_path}: unknown key sources.fields.{unknown[0]} for {dataset} data "
            f"(known: {', '.join(sorted(allowed))})"
        )
    return renames


LAST_YEAR = 2261  # the last max_timestamp_year: a charge in it still has its year's end before 2262-04-11


def limits_from(settings: Settings, now: pd.Timestamp | None = None) -> Limits:
    """The [quality] settings the reader applies; `now` is the run's own clock (no timestamp may pass it)."""
    q = settings.quality
    where = f"{settings.config_path}: quality"
    if not q.clock_skew_hours >= 0:
        raise ConfigError(f"{where}.clock_skew_hours = {q.clock_skew_hours}: expected a number of hours >= 0")
    if not 1970 <= q.min_timestamp_year < q.max_timestamp_year <= LAST_YEAR:
        raise ConfigError(f"{where}.min_timestamp_year = {q.min_timestamp_year} and max_timestamp_year = "
                          f"{q.max_timestamp_year}: expected 1970 <= min < max <= {LAST_YEAR} (times are counted in "
                          "nanoseconds, which end in April 2262, and an annual term must end before that)")
    return Limits(max_bad_share=q.max_bad_share, min_year=q.min_timestamp_year, max_year=q.max_timestamp_year,
                  now=None if now is None else pd.Timestamp(now).timestamp(), clock_skew_hours=q.clock_skew_hours)
