"""Acquisition spend per month from a small file: CSV (header `month,spend`) or NDJSON (`{"month", "spend"}`).

    month,spend              {"month": "2017-01", "spend": 3500}
    2017-01,3500             {"month": "2017-02", "spend": 4200.5}
    2017-02,4200.5

`month` is YYYY-MM (a full date is accepted and taken as its month); `spend` a number >= 0. The
format is chosen by the extension (.csv, else NDJSON). The file is small and hand-made, so it is
strict: any bad line, or a month given twice, fails the run and names the file and the line.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

from sync.errors import InputDataError

_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def parse_month(text: object) -> str | None:
    """"2017-03" or "2017-03-01" -> "2017-03"; anything else -> None."""
    match = _MONTH.match(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def _amount(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        amount = float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return amount if math.isfinite(amount) and amount >= 0 else None


def _rows(path: Path) -> list[tuple[int, object, object]]:
    """(line number, month value, spend value) for each non-blank data line."""
    rows: list[tuple[int, object, object]] = []
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(handle)
            names = [n.strip().lower() for n in reader.fieldnames or []]
            if "month" not in names or "spend" not in names:
                raise InputDataError(f"{path}: line 1: expected a header with columns month and spend, got {names}")
            reader.fieldnames = names
            for record in reader:
                if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                    continue
                rows.append((reader.line_num, record.get("month"), record.get("spend")))
        else:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    record = json.loads(text)
                except json.JSONDecodeError:
                    raise InputDataError(f"{path}: line {number}: not valid JSON") from None
                if not isinstance(record, dict):
                    raise InputDataError(f"{path}: line {number}: expected an object with month and spend")
                rows.append((number, record.get("month"), record.get("spend")))
    return rows


def load_spend(path: str | Path) -> tuple[tuple[str, float], ...]:
    """The file's (month "YYYY-MM", spend) pairs, in month order. Raises InputDataError on any bad line."""
    file = Path(path)
    try:
        rows = _rows(file)
    except FileNotFoundError:
        raise InputDataError(f"spend file {file} not found (setting economics.spend_file)") from None
    except UnicodeDecodeError:
        raise InputDataError(f"{file}: not UTF-8 text") from None
    except OSError as exc:
        raise InputDataError(f"spend file {file}: {exc.strerror}") from None
    spend: dict[str, float] = {}
    for number, month_value, spend_value in rows:
        month = parse_month(month_value)
        if month is None:
            raise InputDataError(f"{file}: line {number}: month {month_value!r} is not YYYY-MM")
        amount = _amount(spend_value)
        if amount is None:
            raise InputDataError(f"{file}: line {number}: spend {spend_value!r} is not a number >= 0")
        if month in spend:
            raise InputDataError(f"{file}: line {number}: month {month} is given twice")
        spend[month] = amount
    if not spend:
        raise InputDataError(f"{file}: no month -> spend rows")
    return tuple(sorted(spend.items()))
