"""Hostile input lines: each is one named bad line (or a cleaned value), never an internal error or a broken output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from sync.cli import main
from tests.sync.test_loading import BASE, DAY, good_customers, good_invoices, make_config


def quality(out: Path) -> list[dict]:
    """Data quality rows from a CSV output."""
    with (out / "data_quality.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def xlsx_quality(path: Path) -> list[dict]:
    """Data quality rows from an xlsx output (the workbook must open)."""
    sheet = openpyxl.load_workbook(path)["Data quality"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def run_both(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture, xlsx_too: bool = True) -> tuple[Path, Path]:
    """Run to a CSV sink (and an xlsx one); each must exit 0."""
    xlsx, out = tmp_path / "kpis.xlsx", tmp_path / "csv"
    for sink in ([f"xlsx:{xlsx}"] if xlsx_too else []) + [f"csv:{out}"]:
        assert main(["now", "--config", str(config), "--sink", sink]) == 0, capsys.readouterr().err
    return xlsx, out


# Attribute values no sink can hold as they are: a lone surrogate, control characters.
UNHOLDABLE = {"lone surrogate": "\ud800", "bell": "a\u0007b", "escape": "\u001b[31mred", "nul": "x\u0000y"}


@pytest.mark.parametrize("case", sorted(UNHOLDABLE))
def test_unholdable_attribute_text_is_replaced_and_named(tmp_path: Path, capsys: pytest.CaptureFixture, case: str) -> None:
    """A customer attribute holding a lone surrogate or a control character is replaced, named in Data quality, and both sinks write valid files."""
    customers = good_customers()
    customers[4] = {**customers[4], "plan": UNHOLDABLE[case]}  # line 5
    config = make_config(tmp_path, good_invoices(), customers)
    xlsx, out = run_both(tmp_path, config, capsys)
    for rows in (quality(out), xlsx_quality(xlsx)):
        named = [r for r in rows if str(r["Line"]) == "5" and r["Field"] == "plan"]
        assert len(named) == 1 and "replaced" in named[0]["Reason"]
    with (out / "customers.csv").open(encoding="utf-8") as handle:
        plans = [r["Plan"] for r in csv.DictReader(handle) if r["Plan"]]
    assert plans and all("\ufffd" in p for p in plans)


def test_unholdable_attribute_key_is_replaced(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An attribute key with a control character or a lone surrogate becomes a valid column name in every sink."""
    customers = good_customers()
    customers[2] = {**customers[2], "bad\u0007key": 1, "\udc80": "x"}
    config = make_config(tmp_path, good_invoices(), customers)
    xlsx, out = run_both(tmp_path, config, capsys)
    header = next(openpyxl.load_workbook(xlsx)["Customers"].iter_rows(values_only=True))
    assert "Bad\ufffdkey" in header and "\ufffd" in header
    assert any(r["Field"] == "bad\ufffdkey" for r in quality(out))


def test_control_character_in_a_rejected_line_is_echoed_safely(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A rejected line whose text holds control characters is echoed in Data quality with them replaced, and the xlsx opens."""
    invoices = good_invoices()
    invoices.insert(3, '{"customerId": 1, "amountPaid": "\u0007\u0001", "timestampPaid": 1488326400}')
    invoices.insert(5, '{"customerId": 1, \u0007 broken')
    config = make_config(tmp_path, invoices)
    xlsx, out = run_both(tmp_path, config, capsys)
    errors = {r["Line"]: r for r in quality(out) if r["Severity"] == "error"}
    assert set(errors) == {"4", "6"}
    assert all("\u0007" not in r["Value"] and "\u0001" not in r["Value"] for r in errors.values())
    assert len([r for r in xlsx_quality(xlsx) if r["Severity"] == "error"]) == 2


def test_huge_text_cell_is_cut_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An attribute longer than an xlsx cell holds (32,767 characters) is cut, and the tab says so."""
    customers = good_customers()
    customers[0] = {**customers[0], "notes": "x" * 40_000}
    config = make_config(tmp_path, good_invoices(), customers)
    xlsx, out = run_both(tmp_path, config, capsys)
    sheet = openpyxl.load_workbook(xlsx)["Customers"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str) and c.startswith("xxx")]
    assert cells and all(len(c) <= 32_767 for c in cells)
    texts = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("cut to 32,767 characters" in t for t in texts)


# Lines that used to stop the run with "internal error": each must be one bad line naming its field.
HOSTILE_LINES = {
    "NaT": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": "NaT"}', "timestampPaid", "ISO 8601"),
    "now": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": "now"}', "timestampPaid", "ISO 8601"),
    "today": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": "today"}', "timestampPaid", "ISO 8601"),
    "clock time": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": "17:00"}', "timestampPaid", "ISO 8601"),
    "deep nesting": ('{"customerId": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "", "nested"),
    "future epoch": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": 3786912000}', "timestampPaid", "after this run's clock"),
    "future ISO": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": "2090-01-01T00:00:00Z"}', "timestampPaid",
                   "after this run's clock"),
    "year 9999": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": 253402300799}', "timestampPaid",
                  "after this run's clock"),
    "year 10000 (found by the fuzz test)": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": 253402300800}',
                                            "timestampPaid", "after the year 9999"),
    "before the floor": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": 631152000}', "timestampPaid",
                         "before quality.min_timestamp_year"),
    "huge number": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": 1e400}', "timestampPaid", "not finite"),
    "huge amount": ('{"customerId": 1, "amountPaid": 1e300, "timestampPaid": 1488326400}', "amountPaid", "too large"),
    "huge int": ('{"customerId": 1, "amountPaid": 10.0, "timestampPaid": ' + "9" * 400 + "}", "timestampPaid", ""),
    "control in id": ('{"customerId": "a\\u0007", "amountPaid": 10.0, "timestampPaid": 1488326400}', "customerId",
                      "control character"),
    "surrogate in id": ('{"customerId": "\\ud800", "amountPaid": 10.0, "timestampPaid": 1488326400}', "customerId",
                        "control character"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_LINES))
def test_hostile_line_is_one_named_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture, case: str) -> None:
    """A hostile charge line is dropped and named with its line and field; the run publishes (exit 0), never an internal error."""
    line, field, words = HOSTILE_LINES[case]
    invoices = good_invoices()
    invoices.insert(7, line)  # line 8
    config = make_config(tmp_path, invoices)
    xlsx, out = run_both(tmp_path, config, capsys, xlsx_too="in id" in case)
    errors = [r for r in quality(out) if r["Severity"] == "error"]
    assert [(r["Line"], r["Field"]) for r in errors] == [("8", field)]
    assert words in errors[0]["Reason"]
    assert "internal error" not in capsys.readouterr().err


def test_millisecond_epoch_is_still_called_milliseconds(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An epoch that is a plausible time in milliseconds says so; one that is not (year 9999 in seconds) does not."""
    invoices = good_invoices()
    invoices.insert(2, {"customerId": 1, "amountPaid": 10.0, "timestampPaid": BASE * 1000})
    _xlsx, out = run_both(tmp_path, make_config(tmp_path, invoices), capsys, xlsx_too=False)
    (row,) = [r for r in quality(out) if r["Severity"] == "error"]
    assert "milliseconds" in row["Reason"]


def test_a_future_line_does_not_move_as_of(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A charge dated in the future (here 2090) is a bad line: the MRR tab still ends at the data's own last month."""
    invoices = good_invoices()
    invoices.append({"customerId": 1, "amountPaid": 18.0, "timestampPaid": 3786912000})
    _xlsx, out = run_both(tmp_path, make_config(tmp_path, invoices), capsys, xlsx_too=False)
    with (out / "mrr.csv").open(encoding="utf-8") as handle:
        months = [r["Month"] for r in csv.DictReader(handle)]
    assert months[-1] == "2017-07"


def test_clock_skew_is_configurable(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """quality.clock_skew_hours must be a number >= 0; a bad value is a config error naming it."""
    config = make_config(tmp_path, good_invoices(), extra="[quality]\nclock_skew_hours = -1\n")
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'out'}"]) == 1
    assert "quality.clock_skew_hours" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["config", "command line"])
def test_as_of_after_today_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture, where: str) -> None:
    """An as_of after today (config or --as-of) is refused with one line: it would publish months that have not happened."""
    extra = 'as_of = "2090-01-01"\n' if where == "config" else ""
    config = make_config(tmp_path, good_invoices())
    if extra:
        config.write_text(extra + config.read_text(encoding="utf-8"), encoding="utf-8")
    argv = ["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'out'}"]
    if where == "command line":
        argv += ["--as-of", "2090-01-01"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "after today" in err[0]
    assert not (tmp_path / "out").exists()


def test_bom_is_read_as_utf8(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A file that starts with a UTF-8 byte order mark loses no record."""
    config = make_config(tmp_path, good_invoices())
    path = tmp_path / "invoices.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    _xlsx, out = run_both(tmp_path, config, capsys, xlsx_too=False)
    assert [r for r in quality(out) if r["Severity"] == "error"] == []


def test_identical_charge_lines_are_counted_not_merged(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Identical charge lines all count (the log has real identical seat charges) and Data quality lists each repeat and their count."""
    invoices = good_invoices()
    repeat = {"customerId": 3, "amountPaid": 10.0, "timestampPaid": BASE + 3 * 60 + 2 * 31 * DAY}
    invoices.extend([repeat] * 3)
    _xlsx, out = run_both(tmp_path, make_config(tmp_path, invoices), capsys, xlsx_too=False)
    rows = [r for r in quality(out) if "identical" in r["Reason"]]
    assert len(rows) == 4  # three repeated lines and one summary
    assert rows[-1]["Line"] == "" and "3 lines" in rows[-1]["Reason"]


def test_unreadable_attribute_structures_are_not_internal_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Deeply nested or huge attribute values in the customers file never crash the run."""
    customers = good_customers(300)  # two bad lines are under 1%
    lines = [json.dumps(c) for c in customers]
    lines[1] = '{"customerId": 2, "deep": ' + "{\"a\": " * 5000 + "1" + "}" * 5000 + "}"
    lines[2] = '{"customerId": 3, "big": ' + "9" * 5000 + "}"
    config = make_config(tmp_path, good_invoices(), lines)
    run_both(tmp_path, config, capsys)


def test_attributes_past_the_limit_are_ignored_and_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A customer line with 20,000 attribute keys keeps the first 200 attribute columns and names the rest, so every sink can hold the tab."""
    customers = good_customers()
    customers[0] = {**customers[0], **{f"k{i}": i for i in range(20_000)}}
    xlsx, out = run_both(tmp_path, make_config(tmp_path, good_invoices(), customers), capsys)
    header = next(openpyxl.load_workbook(xlsx, read_only=True)["Customers"].iter_rows(values_only=True))
    assert len(header) < 220
    ignored = [r for r in quality(out) if "attribute ignored" in r["Reason"]]
    assert ignored and ignored[0]["Line"] == "1"


def test_a_timestamp_limit_past_the_nanosecond_calendar_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """quality.max_timestamp_year = 3000 would let a charge of 2261 through, whose year ends past April 2262, where
    nanosecond times wrap (its term read as ending in 1677): the config is refused, naming the setting and the limit."""
    config = make_config(tmp_path, good_invoices(), extra="[quality]\nmax_timestamp_year = 3000\n")
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'out'}"]) != 0
    err = capsys.readouterr().err
    assert "max_timestamp_year = 3000" in err and "<= 2261" in err
    assert not (tmp_path / "out").exists()
