"""Fuzz `kpi-sync now` on every local sink: each run publishes a valid output naming every bad line, or fails in one line leaving the old output byte-identical.

CI runs a few examples (KPI_SYNC_FUZZ_EXAMPLES, default 10); a longer run by hand:
    KPI_SYNC_FUZZ_EXAMPLES=1000 pytest -q tests/sync/test_fuzz.py
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sync.cli import main
from tests.sync.test_loading import BASE, DAY

EXAMPLES = int(os.environ.get("KPI_SYNC_FUZZ_EXAMPLES", "10"))
MAX_TEXT = 40_000  # past an .xlsx cell's 32,767 characters

# JSON values of any shape: every scalar JSON has (NaN and infinities too: json.dumps writes them), nested.
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
keys = st.text(max_size=12) | st.sampled_from(["=HYPERLINK(\"http://x\",\"y\")", "+1", "@SUM(A1)", "customerId",
                                               "amountPaid", "timestampPaid", "nrSeats", "line", "Customer", ""])
timestamps = (st.integers(min_value=-10**12, max_value=10**13) | st.floats() | st.text(max_size=30)
              | st.sampled_from(["now", "today", "17:00", "NaT", "2017-03-01T00:00:00Z", "2090-01-01", "2017-02-30",
                                 "2017-03-01 10:00:00+02:00", "9999-12-31T23:59:59Z"]))


def good_invoice(i: int) -> dict[str, Any]:
    return {"customerId": i % 12 + 1, "amountPaid": 10.0 * (1 + i % 3), "timestampPaid": BASE + (i % 12) * 60 + (i // 12) * 31 * DAY}


def good_customer(i: int) -> dict[str, Any]:
    return {"customerId": i + 1, "nrSessions": 5 * i, "nrSeats": i % 4 or None, "plan": ["basic", "pro"][i % 2]}


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> str:
    """A good record with fields replaced, removed or added, written as JSON (maybe with lone surrogates)."""
    record = dict(base)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["replace", "remove", "add", "timestamp", "huge", "amount", "many keys"]))
        field = draw(st.sampled_from(sorted(record) or ["customerId"]))
        if action == "replace":
            record[field] = draw(json_values)
        elif action == "remove":
            record.pop(field, None)
        elif action == "add":
            record[draw(keys)] = draw(json_values)
        elif action == "timestamp":
            record["timestampPaid"] = draw(timestamps)
        elif action == "amount":
            record["amountPaid"] = draw(st.floats() | st.integers() | st.sampled_from([1e12, 1e13, 1e300, -1e308, 5e-324]))
        elif action == "many keys":
            record.update({f"{draw(keys)}{i}": i for i in range(draw(st.integers(100, 3000)))})
        else:
            record[draw(keys)] = draw(st.text(min_size=1, max_size=3)) * draw(st.integers(1, MAX_TEXT // 3))
    return json.dumps(record, ensure_ascii=draw(st.booleans()))


@st.composite
def hostile_line(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    """One line of any kind: mutated JSON, text, bytes, deep nesting."""
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "text", "bytes", "nested", "value"]))
    if kind == "mutated":
        text = draw(mutated(base))
    elif kind == "text":
        text = draw(st.text(max_size=200))
    elif kind == "nested":
        depth = draw(st.integers(100, 20_000))
        text = "[" * depth + "]" * depth if draw(st.booleans()) else '{"a":' * depth + "1" + "}" * depth
    elif kind == "value":
        text = json.dumps(draw(json_values))
    else:
        return draw(st.binary(max_size=120)).replace(b"\n", b" ")
    return text.replace("\n", " ").replace("\r", " ").encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class Case:
    invoices: list[tuple[int, bytes]]  # (position, line) inserted into the good file
    customers: list[tuple[int, bytes]]
    config: str


@st.composite
def cases(draw: st.DrawFn) -> Case:
    invoices = draw(st.lists(st.tuples(st.integers(0, 60), hostile_line(good_invoice(draw(st.integers(0, 59))))),
                             max_size=4))
    customers = draw(st.lists(st.tuples(st.integers(0, 12), hostile_line(good_customer(draw(st.integers(0, 11))))),
                              max_size=4))
    lines = [f"max_bad_share = {draw(st.sampled_from([0.01, 0.2, 0.5, 0.5]))}",
             f"clock_skew_hours = {draw(st.sampled_from([0, 1, 24]))}",
             f"min_timestamp_year = {draw(st.sampled_from([2000, 2017]))}"]
    top = [f'timezone = "{draw(st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati", "America/St_Johns"]))}"']
    as_of = draw(st.sampled_from(["", "", "", "", "", "", "2017-05-15", "2016-01-01", "2090-01-01", "2017-13-01", "now"]))
    if as_of:
        top.append(f'as_of = "{as_of}"')
    output = [f"csv_neutralize_formulas = {draw(st.sampled_from(['true', 'false']))}"]
    if draw(st.booleans()):
        currency = draw(st.text(max_size=6) | st.sampled_from(["EUR", '"', "$", ""]))
        output.append(f"currency = {json.dumps(currency)}")
    config = "\n".join([*top, "[quality]", *lines, "[output]", *output, ""])
    return Case(invoices, customers, config)


def write(path: Path, good: list[dict[str, Any]], inserted: list[tuple[int, bytes]]) -> set[int]:
    """The good records with the lines inserted; returns the line numbers (from 1) of inserted lines a reader must name."""
    lines: list[bytes | None] = [json.dumps(r).encode() for r in good]
    marks: list[bytes | None] = [None] * len(lines)
    for position, line in inserted:
        lines.insert(min(position, len(lines)), line)
        marks.insert(min(position, len(marks)), line)
    path.write_bytes(b"".join(line + b"\n" for line in lines if line is not None))
    named = set()
    for number, line in enumerate(marks, start=1):
        if line is not None and not _json_object(line, first=number == 1):
            named.add(number)
    return named


def _json_object(line: bytes, first: bool) -> bool:
    """Whether a line is a JSON object (or blank), as a reader must at least see it."""
    if first and line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    if not line.strip():
        return True
    try:
        return isinstance(json.loads(line.decode("utf-8"), parse_constant=_no_constant), dict)
    except (ValueError, RecursionError):
        return False


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def digest(target: Path) -> dict[str, str]:
    """sha256 of every file of an output (a workbook, or a folder's files)."""
    if target.is_file():
        return {target.name: hashlib.sha256(target.read_bytes()).hexdigest()}
    return {str(p.relative_to(target)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(target.rglob("*")) if p.is_file()}


def quality_lines(target: Path) -> set[tuple[str, int]]:
    """(file name, line) of every Data quality row of a published output, which must read back whole."""
    if target.suffix == ".xlsx":
        book = openpyxl.load_workbook(target)
        for sheet in book.worksheets:
            list(sheet.iter_rows(values_only=True))
        rows = list(book["Data quality"].iter_rows(values_only=True))
        header = rows[0]
        found = [dict(zip(header, r, strict=False)) for r in rows[1:] if r[0] is not None]
        return {(Path(str(r["File"])).name, int(r["Line"])) for r in found if isinstance(r.get("Line"), int)}
    for path in target.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            list(csv.reader(handle))
    with (target / "data_quality.csv").open(encoding="utf-8", newline="") as handle:
        return {(Path(r["File"]).name, int(r["Line"])) for r in csv.DictReader(handle) if r["Line"].isdigit()}


def assert_sane_mrr(target: Path) -> None:
    """Every MRR figure published is a finite number no bigger than the input could make (no overflow garbage)."""
    if target.suffix == ".xlsx":
        rows = list(openpyxl.load_workbook(target, read_only=True)["MRR"].iter_rows(values_only=True))
        values = [r[rows[0].index("MRR")] for r in rows[1:] if r and r[0] is not None]
    else:
        with (target / "mrr.csv").open(encoding="utf-8", newline="") as handle:
            values = [float(r["MRR"]) for r in csv.DictReader(handle) if r["MRR"]]
    assert all(isinstance(v, int | float) and abs(v) < 1e14 for v in values), values


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with good input, a config, and a good output published to each local sink (with its state)."""
    folder = tmp_path_factory.mktemp("fuzz-baseline")
    write(folder / "invoices.json", [good_invoice(i) for i in range(60)], [])
    write(folder / "customers.json", [good_customer(i) for i in range(12)], [])
    config = folder / "kpi.toml"
    config.write_text('[sources]\ninvoices = "invoices.json"\ncustomers = "customers.json"\n', encoding="utf-8")
    for sink in ("xlsx:out/kpis.xlsx", "csv:out/csv"):
        assert main(["now", "--config", str(config), "--sink", sink.replace("out/", f"{folder}/out/")]) == 0
    return folder


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(case=cases())
def test_any_input_publishes_a_valid_output_or_fails_in_one_line(baseline: Path, case: Case,
                                                                  capsys: pytest.CaptureFixture) -> None:
    """Random and mutated NDJSON lines, attribute keys and values and configs never give an internal error: a published
    output opens and names every bad line; a failure is one `Error:` line and leaves the previous output byte-identical."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name) / "run"
        shutil.copytree(baseline, folder)
        named = {"invoices.json": write(folder / "invoices.json", [good_invoice(i) for i in range(60)], case.invoices),
                 "customers.json": write(folder / "customers.json", [good_customer(i) for i in range(12)],
                                         case.customers)}
        config = folder / "kpi.toml"
        config.write_text(case.config + '[sources]\ninvoices = "invoices.json"\ncustomers = "customers.json"\n',
                          encoding="utf-8")
        for target in (folder / "out" / "kpis.xlsx", folder / "out" / "csv"):
            before = digest(target)
            capsys.readouterr()
            kind = "xlsx" if target.suffix == ".xlsx" else "csv"
            code = main(["now", "--config", str(config), "--sink", f"{kind}:{target}"])
            err = capsys.readouterr().err
            event(f"{kind}: exit {code}" + (" (as_of)" if code and "as_of" in err else " (bad lines)" if code and "lines are bad" in err
                                             else " (other)" if code else ""))
            assert code in (0, 1), err
            assert "internal error" not in err and "Traceback" not in err, err
            if code == 1:
                lines = err.strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("Error: "), err
                assert digest(target) == before
                continue
            assert_sane_mrr(target)
            found = quality_lines(target)
            for file, numbers in named.items():
                missing = sorted(n for n in numbers if (file, n) not in found)
                assert not missing, f"{kind}: bad lines {missing} of {file} not named in Data quality"
