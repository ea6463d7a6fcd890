"""Loading and validation of the payment log: every bad line named; fatal rules publish nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sync.cli import main

BASE = 1_488_326_400  # 2017-03-01 00:00:00 UTC
DAY = 86_400


def good_invoices(n_customers: int = 40, months: int = 5) -> list[dict]:
    """Monthly charges of 10 for n customers over a few months: 200 good lines by default."""
    return [
        {"customerId": c, "amountPaid": 10.0, "timestampPaid": BASE + c * 60 + m * 31 * DAY}
        for c in range(1, n_customers + 1)
        for m in range(months)
    ]


def good_customers(n_customers: int = 40) -> list[dict]:
    return [{"customerId": c, "nrSessions": 10 * c, "nrSeats": c % 4 or None} for c in range(1, n_customers + 1)]


def write_lines(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def make_config(tmp_path: Path, invoices: list, customers: list | None = None, extra: str = "") -> Path:
    write_lines(tmp_path / "invoices.json", invoices)
    write_lines(tmp_path / "customers.json", customers if customers is not None else good_customers())
    config = tmp_path / "kpi.toml"
    config.write_text(
        f'[sources]\ninvoices = "invoices.json"\ncustomers = "customers.json"\n{extra}', encoding="utf-8"
    )
    return config


def run(config: Path, out: Path, *extra: str) -> int:
    return main(["now", "--config", str(config), "--sink", f"csv:{out}", *extra])


def quality_rows(out: Path) -> list[dict]:
    with (out / "data_quality.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# Each case: a bad line (as text or a record), the field it names, and words of the reason.
BAD_LINES = {
    "invalid JSON": ('{"customerId": 1, "amountPaid": 10.0,', "", "invalid JSON"),
    "not an object": ("[1, 2, 3]", "", "expected a JSON object"),
    "missing field": ({"customerId": 1, "amountPaid": 10.0}, "timestampPaid", "missing field"),
    "wrong type": ({"customerId": 1, "amountPaid": "ten", "timestampPaid": BASE}, "amountPaid", "expected a number"),
    "NaN": ('{"customerId": 1, "amountPaid": NaN, "timestampPaid": 1488326400}', "", "NaN is not valid JSON"),
    "Infinity": ('{"customerId": 1, "amountPaid": Infinity, "timestampPaid": 1488326400}', "", "Infinity is not valid JSON"),
    "negative timestamp": ({"customerId": 1, "amountPaid": 10.0, "timestampPaid": -5}, "timestampPaid", "negative timestamp"),
    "absurd timestamp": ({"customerId": 1, "amountPaid": 10.0, "timestampPaid": 9_000_000_000}, "timestampPaid", "after this run's clock"),
    "milliseconds": ({"customerId": 1, "amountPaid": 10.0, "timestampPaid": BASE * 1000}, "timestampPaid", "milliseconds"),
    "bool id": ({"customerId": True, "amountPaid": 10.0, "timestampPaid": BASE}, "customerId", "expected an id"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_one_bad_line_is_listed_with_file_line_and_reason(tmp_path: Path, case: str) -> None:
    """A single bad charge line (under 1% of the file) is dropped, and Data quality names its file, line, field and reason."""
    line, field, words = BAD_LINES[case]
    invoices = good_invoices()
    invoices.insert(7, line)  # line 8 of the file
    config = make_config(tmp_path, invoices)
    out = tmp_path / "out"
    assert run(config, out) == 0
    rows = [r for r in quality_rows(out) if r["Severity"] == "error"]
    assert len(rows) == 1
    assert rows[0]["File"].endswith("invoices.json")
    assert rows[0]["Line"] == "8"
    assert rows[0]["Field"] == field
    assert words in rows[0]["Reason"]


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_too_many_bad_lines_fail_and_publish_nothing(tmp_path: Path, capsys: pytest.CaptureFixture, case: str) -> None:
    """Bad lines over 1% of the file fail the run with a one-line error naming the file, line and reason, and the old output stays."""
    line, _field, words = BAD_LINES[case]
    invoices = good_invoices(n_customers=10, months=5)  # 50 lines: 1 bad line is 2%
    out = tmp_path / "out"
    assert run(make_config(tmp_path, invoices, good_customers(10)), out) == 0  # a good run first
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    invoices.insert(3, line)
    config = make_config(tmp_path, invoices, good_customers(10))
    assert run(config, out) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("Error: ")
    assert "invoices.json" in err[0] and "line 4" in err[0] and words in err[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_duplicate_customer_rows_are_reported(tmp_path: Path) -> None:
    """A repeated customer row is a warning when identical and a bad line when its values differ; the first row is kept."""
    customers = good_customers(200)
    customers.insert(5, dict(customers[2]))  # line 6 repeats line 3 exactly
    customers.insert(9, {**customers[3], "nrSeats": 99})  # line 10 repeats line 4 with other values
    config = make_config(tmp_path, good_invoices(), customers)
    out = tmp_path / "out"
    assert run(config, out) == 0
    rows = {r["Line"]: r for r in quality_rows(out) if r["File"].endswith("customers.json")}
    assert rows["6"]["Severity"] == "warning" and "duplicate of line 3" in rows["6"]["Reason"]
    assert rows["10"]["Severity"] == "error" and "line 4 is kept" in rows["10"]["Reason"]
    with (out / "customers.csv").open(encoding="utf-8") as handle:
        seats = {r["Customer"]: r["Seats"] for r in csv.DictReader(handle)}
    assert seats["4"] == ""  # line 4 (no seats) is kept, not the conflicting 99


def test_negative_counts_are_blanked_and_reported(tmp_path: Path) -> None:
    """-3 seats or -1 sessions is no count: the value is read as unknown (no "Seats < 1" segment, no price per seat
    from it) and Data quality names the file, the line and the field; the customer and its charges are kept."""
    customers = good_customers()
    customers[2]["nrSeats"] = -3  # line 3, customer 3
    customers[6]["nrSessions"] = -1  # line 7, customer 7
    config = make_config(tmp_path, good_invoices(), customers)
    out = tmp_path / "out"
    assert run(config, out) == 0
    rows = [(r["Severity"], r["File"].rsplit("/", 1)[-1], r["Line"], r["Field"], r["Reason"], r["Value"])
            for r in quality_rows(out) if "negative count" in r["Reason"]]
    assert rows == [("warning", "customers.json", "3", "nrSeats", "negative count: read as unknown", "-3"),
                    ("warning", "customers.json", "7", "nrSessions", "negative count: read as unknown", "-1")]
    with (out / "customers.csv").open(encoding="utf-8") as handle:
        table = {r["Customer"]: r for r in csv.DictReader(handle)}
    assert (table["3"]["Seats"], table["7"]["Sessions"]) == ("", "")
    assert table["3"]["Current MRR"] == "10"


def test_a_negative_count_on_a_row_dropped_as_a_repeat_is_not_reported(tmp_path: Path) -> None:
    """Customers in two files (a glob): a later file's row for a customer already read is dropped and reported as
    such; its negative seat count is nobody's, so it gets no line of its own. One on a kept row does."""
    config = make_config(tmp_path, good_invoices(), good_customers(20))
    write_lines(tmp_path / "customers-2.json", [{"customerId": 3, "nrSessions": 5, "nrSeats": -3},
                                               {"customerId": 30, "nrSessions": 5, "nrSeats": -2}])
    (tmp_path / "customers.json").rename(tmp_path / "customers-1.json")
    config.write_text(config.read_text(encoding="utf-8").replace('customers = "customers.json"',
                                                                  'customers = "customers-*.json"'), encoding="utf-8")
    out = tmp_path / "out"
    assert run(config, out) == 0
    rows = [(r["File"].rsplit("/", 1)[-1], r["Line"], r["Reason"].split(":")[0])
            for r in quality_rows(out) if r["File"].endswith("customers-2.json")]
    assert sorted(rows) == [("customers-2.json", "1", "customer already in an earlier customers file"),
                            ("customers-2.json", "2", "negative count")]


def test_charges_for_unknown_customers_are_kept_and_reported(tmp_path: Path) -> None:
    """A charge whose customer is not in the customers file still counts for MRR and is listed as a warning."""
    invoices = good_invoices()
    invoices.append({"customerId": 777, "amountPaid": 10.0, "timestampPaid": BASE + 100})
    config = make_config(tmp_path, invoices)
    out = tmp_path / "out"
    assert run(config, out) == 0
    rows = [r for r in quality_rows(out) if r["Value"] == "777"]
    assert len(rows) == 1 and rows[0]["Severity"] == "warning" and rows[0]["Line"] == str(len(invoices))
    assert "not in the customers file" in rows[0]["Reason"]
    with (out / "customers.csv").open(encoding="utf-8") as handle:
        assert "777" in {r["Customer"] for r in csv.DictReader(handle)}


def test_zero_amounts_and_refunds_are_listed_as_info(tmp_path: Path) -> None:
    """Zero-amount charges and refunds are kept out of MRR and listed in Data quality as info."""
    invoices = good_invoices()
    invoices.append({"customerId": 1, "amountPaid": 0, "timestampPaid": BASE + 5 * DAY})
    invoices.append({"customerId": 2, "amountPaid": -4.5, "timestampPaid": BASE + 6 * DAY})
    config = make_config(tmp_path, invoices)
    out = tmp_path / "out"
    assert run(config, out) == 0
    info = [r for r in quality_rows(out) if r["Severity"] == "info"]
    assert [r["Reason"].split(":")[0] for r in info] == ["zero amount", "refund (negative amount)", "in all", "in all"]
    assert info[1]["Value"] == "-4.50"
    assert info[3]["Line"] == "" and info[3]["Reason"].startswith("in all: 1 refund totalling -4.50")


@pytest.mark.parametrize("which", ["invoices.json", "customers.json"])
def test_missing_file_fails_and_publishes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture, which: str) -> None:
    """A missing input file fails the run with one line naming it; nothing is written."""
    config = make_config(tmp_path, good_invoices())
    (tmp_path / which).unlink()
    out = tmp_path / "out"
    assert run(config, out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and which in err and "not found" in err
    assert not out.exists()


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file_fails_and_publishes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture, content: str) -> None:
    """An empty (or blank) invoices file fails the run with one line naming it; nothing is written."""
    config = make_config(tmp_path, good_invoices())
    (tmp_path / "invoices.json").write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    assert run(config, out) == 1
    err = capsys.readouterr().err
    assert "invoices.json" in err and "empty" in err
    assert not out.exists()


def test_bad_share_is_configurable(tmp_path: Path) -> None:
    """quality.max_bad_share = 0.05 lets a file with 2% bad lines through."""
    invoices = good_invoices(n_customers=10, months=5)
    invoices.insert(3, "not json")
    config = make_config(tmp_path, invoices, good_customers(10), extra="[quality]\nmax_bad_share = 0.05\n")
    assert run(config, tmp_path / "out") == 0


def test_too_many_bad_lines_says_both_shares_with_their_digits(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The error compares shares a reader can tell apart: "1 of 10,001 lines are bad (0.01%, more than the allowed 0%)"
    (it said "(0.0%, more than the allowed 0.0%)", and at the default "(1.0%, more than the allowed 1.0%)")."""
    invoices = good_invoices(n_customers=2000, months=5)
    invoices.insert(3, "not json")
    config = make_config(tmp_path, invoices, good_customers(2000), extra="[quality]\nmax_bad_share = 0\n")
    assert run(config, tmp_path / "out") == 1
    assert "invoices.json: 1 of 10,001 lines are bad (0.01%, more than the allowed 0%); first: line 4" in \
        capsys.readouterr().err
    invoices = good_invoices(n_customers=20, months=5)
    invoices[5:7] = ["not json", "not json"]
    config = make_config(tmp_path, invoices, good_customers(20))
    assert run(config, tmp_path / "out") == 1
    assert "2 of 100 lines are bad (2%, more than the allowed 1%)" in capsys.readouterr().err


def test_bad_shares_have_the_digits_that_tell_them_apart() -> None:
    """1,001 bad lines of 100,000 against the default 1%: "1.001%", not "1%, more than the allowed 1%"."""
    from sync.sources.ndjson import bad_shares

    assert bad_shares(1001 / 100_000, 0.01) == ("1.001", "1")
    assert bad_shares(10_001 / 1_000_000, 0.01) == ("1.0001", "1")
    assert bad_shares(1 / 10_001, 0.0) == ("0.01", "0")
    assert bad_shares(0.02, 0.01) == ("2", "1")


def test_the_summary_counts_lines_not_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """1,500 lines each missing two fields are 3,000 errors and 1,500 lines dropped; past the first 1,000 of a reason
    the Data quality tab lets one row stand for the rest ("and N more lines like this", N counting errors): the
    Summary counts the lines as the reader dropped them (it said 2,500)."""
    invoices = good_invoices(n_customers=100, months=5) + [{"customerId": 1}] * 1500
    config = make_config(tmp_path, invoices, good_customers(100), extra="[quality]\nmax_bad_share = 0.9\n")
    out = tmp_path / "out"
    assert run(config, out) == 0
    with (out / "summary.csv").open(encoding="utf-8") as handle:
        rows = {r["Topic"]: r for r in csv.DictReader(handle)}
    assert rows["Data quality"]["Value"] == "1500"
    # ... and so does the line `now` prints: 3,000 errors, 1,500 lines
    assert "Data quality: 1,500 lines dropped as bad; see the Data quality tab" in capsys.readouterr().out
    assert rows["Data quality"]["Sentence"].startswith("1,500 input lines were dropped as bad and are left out of every "
                                                      "figure here (1,500 lines of invoices.json)")


def test_lines_dropped_as_bad_are_said_in_the_summary(tmp_path: Path) -> None:
    """Two bad lines under the bad-share limit: dropped, the run publishes, and the Summary says, beside MRR, that its
    figures leave out 2 lines of invoices.json (one charge missing moves MRR: the reader must not have to open the Data
    quality tab to learn it). A clean log has no such row."""
    invoices = good_invoices(n_customers=10, months=5)
    invoices.insert(3, "not json")
    invoices.insert(7, {"customerId": 2, "amountPaid": "ten", "timestampPaid": BASE})
    config = make_config(tmp_path, invoices, good_customers(10), extra="[quality]\nmax_bad_share = 0.05\n")
    out = tmp_path / "out"
    assert run(config, out) == 0
    with (out / "summary.csv").open(encoding="utf-8") as handle:
        rows = {r["Topic"]: r for r in csv.DictReader(handle)}
    assert list(rows)[:3] == ["MRR", "MRR movements", "Data quality"]
    assert rows["Data quality"]["Value"] == "2"
    assert rows["Data quality"]["Sentence"] == (
        "2 input lines were dropped as bad and are left out of every figure here (2 lines of invoices.json); the Data "
        "quality tab names each one's file, line, field and reason.")
    clean = tmp_path / "clean"
    clean.mkdir()
    assert run(make_config(clean, good_invoices(10), good_customers(10)), clean / "out") == 0
    with (clean / "out" / "summary.csv").open(encoding="utf-8") as handle:
        assert "Data quality" not in {r["Topic"] for r in csv.DictReader(handle)}


def test_field_renames(tmp_path: Path) -> None:
    """[sources.fields] maps our names to the file's names."""
    invoices = [{"cid": r["customerId"], "paid": r["amountPaid"], "ts": r["timestampPaid"]} for r in good_invoices()]
    customers = [{"cid": r["customerId"], "nrSessions": r["nrSessions"], "nrSeats": r["nrSeats"]} for r in good_customers()]
    extra = '[sources.fields]\ncustomer_id = "cid"\namount = "paid"\npaid_at = "ts"\n'
    config = make_config(tmp_path, invoices, customers, extra=extra)
    out = tmp_path / "out"
    assert run(config, out) == 0
    with (out / "mrr.csv").open(encoding="utf-8") as handle:
        assert [r["MRR"] for r in csv.DictReader(handle)][-1] == "400"


def test_a_bad_share_error_names_a_file_with_a_percent_sign(tmp_path: Path) -> None:
    """The bad-share error is built with f-strings only: a file name holding "%" (a URL's %20) is no format."""
    from sync.errors import InputDataError
    from sync.sources.ndjson import Issue, Limits, _result

    with pytest.raises(InputDataError, match=r"invoices%20export\.json: 1 of 2 lines are bad \(50%, more than the allowed 1%\)"):
        _result("s3://bucket/invoices%20export.json", "invoices", Limits(max_bad_share=0.01), None,
                [Issue("s3://bucket/invoices%20export.json", 2, "amountPaid", "missing field")], 1, 2, "")
