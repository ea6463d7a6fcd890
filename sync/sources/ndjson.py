"""Streaming, validated NDJSON reading: every problem names the file, the line, the field and the reason.

A file is read line by line (never whole into memory as text). Each line must be a JSON object;
each declared field is checked against its kind. A line with a problem in a required field is
dropped and counted as bad ("error"); a bad optional attribute is blanked and reported ("warning").
A missing or empty file, or more than `max_bad_share` of bad lines, fails the run.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import pandas as pd

from kpi.tables import InputFile, empty_issues
from sync.errors import ConfigError, InputDataError

if TYPE_CHECKING:
    from sync.settings import Settings

FieldKind = Literal["id", "string", "number", "int", "timestamp", "date", "list"]

# Past this an epoch number is not seconds: 1e11 s is the year 5138, 1e12 ms is 2001.
_MILLIS_THRESHOLD = 1e11
_MAX_LISTED_PER_REASON = 1000


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
    max_bad_share: float = 0.01
    min_year: int = 2000
    max_year: int = 2100


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
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


class _Checker:
    """Converts one raw JSON value to its canonical Python value, or says why it can't."""

    def __init__(self, limits: Limits):
        self.low = pd.Timestamp(year=limits.min_year, month=1, day=1, tz="UTC").timestamp()
        self.high = pd.Timestamp(year=limits.max_year, month=1, day=1, tz="UTC").timestamp()
        self.min_year = limits.min_year
        self.max_year = limits.max_year

    def check(self, value: Any, kind: FieldKind) -> tuple[Any, str | None]:
        # Fast path for the common, valid values (a payment log has millions); anything else
        # goes through the full checks below, which also explain what is wrong.
        t = type(value)
        number = t is int or (t is float and value - value == 0)  # finite int or float, never bool
        if kind == "number" and number:
            return float(value), None
        if kind == "timestamp" and number and self.low <= value < self.high:
            return float(value), None
        if kind == "id" and (t is int or (t is str and value)):
            return str(value), None
        if kind == "id":
            if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
                return None, "expected an id (a whole number or a non-empty string)"
            return str(value), None
        if kind == "string":
            if not isinstance(value, str):
                return None, "expected a string"
            return value, None
        if kind in ("number", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, "expected a number"
            if isinstance(value, float) and not math.isfinite(value):
                return None, "number is not finite"
            if kind == "int" and float(value) != int(value):
                return None, "expected a whole number"
            return (int(value) if kind == "int" else float(value)), None
        if kind == "timestamp":
            return self._timestamp(value)
        if kind == "date":
            if not isinstance(value, str):
                return None, "expected an ISO date (YYYY-MM-DD)"
            try:
                day = pd.Timestamp(value[:10]) if len(value) >= 10 else None
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
            try:
                ts = pd.Timestamp(value)
            except ValueError:
                return None, "expected epoch seconds or an ISO 8601 timestamp"
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            seconds = ts.timestamp()
        elif isinstance(value, bool) or not isinstance(value, int | float):
            return None, "expected epoch seconds or an ISO 8601 timestamp"
        elif isinstance(value, float) and not math.isfinite(value):
            return None, "timestamp is not finite"
        else:
            seconds = float(value)
            if seconds < 0:
                return None, "negative timestamp"
            if seconds >= _MILLIS_THRESHOLD:
                return None, "timestamp looks like milliseconds; expected epoch seconds"
        if not self.low <= seconds < self.high:
            return None, f"timestamp outside {self.min_year}-{self.max_year}"
        return seconds, None


def read_ndjson(
    path: str | Path,
    role: str,
    fields: Sequence[Field],
    limits: Limits,
    *,
    unique: str | None = None,
    extras: bool = False,
) -> ReadResult:
    """Read and validate one NDJSON file.

    Returns valid rows as a frame with one column per canonical field (timestamps as
    datetime64[ns, UTC], dates as tz-naive datetime64, ids as str) plus `line`; with `extras`,
    other scalar keys of the records become extra columns (attributes). With `unique`, a
    later row repeating that field's value is reported: a warning when it is identical, a bad
    line when it differs (the first row is kept either way).
    Raises InputDataError when the file is missing or empty, or too many lines are bad.
    """
    file = Path(path)
    name = str(path)
    if file.is_dir():
        raise InputDataError(f"{name}: {role} is a folder, not a file")
    if not file.is_file():
        raise InputDataError(f"{name}: {role} file not found")
    digest = hashlib.sha256()
    checker = _Checker(limits)
    columns: dict[str, list[Any]] = {f.canonical: [] for f in fields}
    lines: list[int] = []
    extra_columns: dict[str, dict[int, Any]] = {}
    declared = {f.source for f in fields}
    seen: dict[Any, tuple[int, dict]] = {}
    issues: list[Issue] = []
    bad = 0
    read = 0
    with file.open("rb") as raw:
        for number, chunk in enumerate(raw, start=1):
            digest.update(chunk)
            if not chunk.strip():
                continue
            read += 1
            try:
                text = chunk.decode("utf-8")
                record = _DECODER.decode(text)
            except UnicodeDecodeError:
                issues.append(Issue(name, number, "", "not UTF-8 text"))
                bad += 1
                continue
            except ValueError as exc:
                reason = str(exc) if "not valid JSON" in str(exc) else f"invalid JSON: {exc.args[0].split(':')[0]}"
                issues.append(Issue(name, number, "", reason, value=_short(text.strip())))
                bad += 1
                continue
            if not isinstance(record, dict):
                issues.append(Issue(name, number, "", "expected a JSON object", value=_short(record)))
                bad += 1
                continue
            row: list[Any] = []
            line_bad = False
            for f in fields:
                if f.source not in record:
                    if f.required:
                        issues.append(Issue(name, number, f.source, "missing field"))
                        line_bad = True
                    row.append(None)
                    continue
                value = record[f.source]
                if value is None:
                    if not f.nullable:
                        issues.append(Issue(name, number, f.source, "null value"))
                        line_bad = line_bad or f.required
                    row.append(None)
                    continue
                converted, problem = checker.check(value, f.kind)
                if problem:
                    severity: Literal["error", "warning"] = "error" if f.required else "warning"
                    reason = problem if f.required else f"{problem}; left empty"
                    issues.append(Issue(name, number, f.source, reason, severity, _short(value)))
                    line_bad = line_bad or f.required
                row.append(converted)
            if line_bad:
                bad += 1
                continue
            if unique is not None:
                key = row[[f.canonical for f in fields].index(unique)]
                if key in seen:
                    first_line, first_record = seen[key]
                    if first_record == record:
                        issues.append(Issue(name, number, unique, f"duplicate of line {first_line}: ignored", "warning", _short(key)))
                    else:
                        issues.append(Issue(name, number, unique, f"duplicate {unique} with other values than line {first_line}: line {first_line} is kept", "error", _short(key)))
                        bad += 1
                    continue
                seen[key] = (number, record)
            if extras:
                for key, value in record.items():
                    if key not in declared and (value is None or isinstance(value, str | int | float | bool)):
                        extra_columns.setdefault(key, {})[len(lines)] = value
            for f, value in zip(fields, row, strict=True):
                columns[f.canonical].append(value)
            lines.append(number)
    if read == 0:
        raise InputDataError(f"{name}: {role} file is empty")
    share = bad / read
    if share > limits.max_bad_share:
        first = next(i for i in issues if i.severity == "error")
        raise InputDataError(
            f"{name}: {bad} of {read} lines are bad ({share:.1%}, more than the allowed "
            f"{limits.max_bad_share:.1%}); first: line {first.line}"
            + (f", field {first.field}" if first.field else "")
            + f": {first.reason}"
        )
    frame = _to_frame(columns, fields, lines)
    for key, values in extra_columns.items():
        if key not in frame.columns:
            frame[key] = pd.Series(values, index=list(values), dtype="object").reindex(range(len(lines)))
    info = InputFile(role=role, path=name, rows=read, sha256=digest.hexdigest())
    return ReadResult(frame=frame, issues=issues, info=info, bad_lines=bad)


def _to_frame(columns: dict[str, list[Any]], fields: Sequence[Field], lines: list[int]) -> pd.DataFrame:
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
        else:
            data[f.canonical] = pd.Series(values, dtype="object")
    data["line"] = pd.Series(lines, dtype="int64")
    return pd.DataFrame(data)


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


def limits_from(settings: Settings) -> Limits:
    """The [quality] settings the reader applies."""
    q = settings.quality
    return Limits(max_bad_share=q.max_bad_share, min_year=q.min_timestamp_year, max_year=q.max_timestamp_year)
