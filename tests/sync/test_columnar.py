"""The columnar NDJSON reader gives exactly what the line-by-line reader gives: frames, issues, bad lines, fatal errors.

Each case reads a file with engine="auto" (pyarrow + vectorized checks, the line reader only for the lines it
cannot vouch for) and engine="lines" (every line through `json`), and compares everything.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.errors import InputDataError
from sync.sources import columnar
from sync.sources.ndjson import Limits, ReadResult, _Checker, fields_from_spec
from sync.sources.payments import CUSTOMER_FIELDS, INVOICE_FIELDS
from sync.sources.reader import read_ndjson

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "payments-log"  # ../shared beside the checkout
NOW = 1_790_000_000.0  # 2026-09-21: the run's clock in these tests
LIMITS = Limits(max_bad_share=1.0, now=NOW)
INVOICES = fields_from_spec(INVOICE_FIELDS, {})
CUSTOMERS = fields_from_spec(CUSTOMER_FIELDS, {})
BASE = 1_488_326_400
EXAMPLES = int(os.environ.get("KPI_SYNC_COLUMNAR_EXAMPLES", "60"))


def read_both(path: Path, customers: bool = False, limits: Limits = LIMITS) -> tuple[ReadResult | str, bool]:
    """Both engines' result (or both errors), checked identical; and whether the columnar path did the reading."""
    fields = CUSTOMERS if customers else INVOICES
    options: dict[str, Any] = {"unique": "customer_id", "extras": True} if customers else {"unique": None, "extras": False}
    results = []
    for engine in ("auto", "lines"):
        try:
            results.append(read_ndjson(path, "invoices", fields, limits, engine=engine, **options))  # type: ignore[arg-type]
        except InputDataError as exc:
            results.append(str(exc))
    fast, slow = results
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
    else:
        pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
        assert list(fast.frame.columns) == list(slow.frame.columns)
        for column in fast.frame.columns:  # value types too: an attribute 1 is not 1.0, None is not NaN
            assert [type(v) for v in fast.frame[column]] == [type(v) for v in slow.frame[column]], column
        assert fast.issues == slow.issues
        assert (fast.bad_lines, fast.info) == (slow.bad_lines, slow.info)
        # ids coded (as load_payments reads invoices): a categorical of the same texts, or the same str column
        coded = read_ndjson(path, "invoices", fields, limits, coded=True, **options)  # type: ignore[arg-type]
        ids = coded.frame["customer_id"]
        if isinstance(ids.dtype, pd.CategoricalDtype):
            assert ids.cat.categories.is_unique and (ids.cat.codes >= 0).all()
            ids = pd.Series(ids.to_numpy(dtype=object), index=ids.index, name=ids.name, dtype=fast.frame["customer_id"].dtype)
        pd.testing.assert_frame_equal(coded.frame.assign(customer_id=ids), fast.frame, check_exact=True)
        assert coded.issues == fast.issues and coded.bad_lines == fast.bad_lines
    used = columnar.read_columnar(path.read_bytes(), str(path), fields, _Checker(limits), **options) is not None
    return fast, used


def write(path: Path, lines: list[str | bytes | dict], end: bytes = b"\n") -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else (x if isinstance(x, str) else json.dumps(x)).encode(
        "utf-8", "surrogatepass")) + end for x in lines))
    return path


def invoice(i: int, **changes: Any) -> dict[str, Any]:
    return {"customerId": i % 7 + 1, "amountPaid": 10.0 + i % 3, "timestampPaid": BASE + i * 60, **changes}


def customer(i: int, **changes: Any) -> dict[str, Any]:
    return {"customerId": i + 1, "nrSessions": 5 * i, "nrSeats": i % 4 or None, "plan": ["basic", "pro"][i % 2], **changes}


# Lines pyarrow reads without complaint but the checks must catch, each next to good lines.
PARSEABLE_BAD_INVOICES = {
    "null amount": invoice(3, amountPaid=None),
    "missing amount": {"customerId": 1, "timestampPaid": BASE},
    "empty object": {},
    "NaN amount": '{"customerId": 1, "amountPaid": NaN, "timestampPaid": 1488326400}',
    "Infinity timestamp": '{"customerId": 1, "amountPaid": 1.5, "timestampPaid": Infinity}',
    "NaN in an ignored key": '{"customerId": 1, "amountPaid": 1.5, "timestampPaid": 1488326400, "x": [1.5, NaN]}',
    "huge amount": invoice(3, amountPaid=1e13),
    "huge int amount": invoice(3, amountPaid=10**25),
    "minus zero": '{"customerId": 1, "amountPaid": -0.0, "timestampPaid": 1488326400}',
    "future": invoice(3, timestampPaid=NOW + 86_400),
    "milliseconds": invoice(3, timestampPaid=BASE * 1000),
    "before the floor": invoice(3, timestampPaid=631152000),
    "ISO timestamp": invoice(3, timestampPaid="2017-03-01T10:00:00+02:00"),
    "empty id": '{"customerId": "", "amountPaid": 1.5, "timestampPaid": 1488326400}',
    "control in id": '{"customerId": "a\\u0007", "amountPaid": 1.5, "timestampPaid": 1488326400}',
    "deep nesting": '{"customerId": 1, "amountPaid": 1.5, "timestampPaid": 1488326400, "x": ' + "[" * 300 + "]" * 300 + "}",
    "nesting that crashes pyarrow": '{"customerId": 1, "x": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "several objects on a line": '{"customerId": 1, "amountPaid": 1.5, "timestampPaid": 1488326400}{"customerId": 2}',
    "an object over two lines": '{"customerId": 1, "amountPaid": 1.5,\n"timestampPaid": 1488326400}',
    "lone CR": '{"customerId": 1, "amountPaid": 1.5, "timestampPaid": 1488326400}\r{"customerId": 2}',
    "BOM mid-file": b'\xef\xbb\xbf{"customerId": 1, "amountPaid": 1.5, "timestampPaid": 1488326400}',
    "invalid UTF-8": b'{"customerId": "\xff", "amountPaid": 1.5, "timestampPaid": 1488326400}',
    "string amount": invoice(3, amountPaid="ten"),
    "duplicate keys": '{"customerId": 1, "customerId": 2, "amountPaid": 1.5, "timestampPaid": 1488326400}',
    "lone surrogate": '{"customerId": "\\ud800", "amountPaid": 1.5, "timestampPaid": 1488326400}',
    "not an object": "[1, 2]",
    "blank and indented": "   \n\t" + json.dumps(invoice(5)) + "  \r",
}


@pytest.mark.parametrize("case", sorted(PARSEABLE_BAD_INVOICES))
def test_each_pyarrow_difference_gives_the_line_reader_result(tmp_path: Path, case: str) -> None:
    """A line pyarrow reads differently from `json` (or refuses) still gives exactly the line reader's result."""
    lines: list[Any] = [invoice(i) for i in range(40)]
    lines.insert(17, PARSEABLE_BAD_INVOICES[case])
    read_both(write(tmp_path / "invoices.json", lines))


@pytest.mark.parametrize("case", ["null amount", "NaN amount", "minus zero", "future", "NaN in an ignored key",
                                  "deep nesting", "blank and indented", "missing amount"])
def test_rows_it_cannot_vouch_for_are_read_alone(tmp_path: Path, case: str) -> None:
    """These lines leave the rest of the file on the columnar path: only they go through the line reader."""
    lines: list[Any] = [invoice(i) for i in range(40)]
    lines.insert(17, PARSEABLE_BAD_INVOICES[case])
    _result, used = read_both(write(tmp_path / "invoices.json", lines))
    assert used


def test_a_bad_line_in_a_large_file_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    """Issue 13's must-show: in 200,000 lines, a bad line is named by file, line and field, with the columnar reader on."""
    good = "".join(json.dumps(invoice(i)) + "\n" for i in range(100_000)).encode()
    for bad, field, words, columnar_too in [
        (b'{"customerId": 3, "amountPaid": null, "timestampPaid": 1488326400}', "amountPaid", "null value", True),
        (b'{"customerId": 3, "amountPaid": 10.0, "timestampPaid": 3786912000}', "timestampPaid", "after this run's clock", True),
        (b'{"customerId": 3, "amountPaid": "ten", "timestampPaid": 1488326400}', "amountPaid", "expected a number", False),
    ]:
        lines = good.splitlines(keepends=True)
        lines.insert(73_456, bad + b"\n")  # line 73,457
        path = tmp_path / "invoices.json"
        path.write_bytes(b"".join(lines))
        result = read_ndjson(path, "invoices", INVOICES, Limits(now=NOW))
        assert [(i.file, i.line, i.field, i.severity) for i in result.issues] == [(str(path), 73_457, field, "error")]
        assert words in result.issues[0].reason
        assert result.bad_lines == 1 and len(result.frame) == 100_000 and 73_457 not in set(result.frame["line"])
        fields = INVOICES
        assert (columnar.read_columnar(path.read_bytes(), str(path), fields, _Checker(Limits(now=NOW)), unique=None,
                                       extras=False) is not None) == columnar_too


def test_many_keys_never_become_columns(tmp_path: Path) -> None:
    """pyarrow makes a full-length column per distinct key (3,000 keys in 200,000 lines took 4.9 GB): an invoice
    line's other keys are never read as columns, and a customers file with more keys than attributes kept is
    read line by line."""
    lines: list[Any] = [invoice(i) for i in range(50)]
    lines[7] = {**invoice(7), **{f"k{i}": i for i in range(20_000)}}
    _result, used = read_both(write(tmp_path / "invoices.json", lines))
    assert used
    people: list[Any] = [customer(i, **{f"key{i}": 1}) for i in range(400)]  # 400 distinct attribute keys
    result, used = read_both(write(tmp_path / "customers.json", people), customers=True)
    assert not used and not isinstance(result, str)


def test_too_many_bad_lines_fail_alike(tmp_path: Path) -> None:
    """The fatal rule (share of bad lines) gives the same one-line error on both paths."""
    lines: list[Any] = [invoice(i, amountPaid=None if i % 10 == 0 else 1.0) for i in range(100)]
    result, used = read_both(write(tmp_path / "invoices.json", lines), limits=Limits(max_bad_share=0.05, now=NOW))
    assert isinstance(result, str) and "10 of 100 lines are bad" in result and "field amountPaid" in result


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n"])
def test_empty_files_fail_alike(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "invoices.json"
    path.write_bytes(content)
    result, _used = read_both(path)
    assert isinstance(result, str) and "file is empty" in result


def test_customers_attributes_and_repeats(tmp_path: Path) -> None:
    """Attributes (ints, floats, text, booleans, nulls, absent keys, nested values) and repeated ids: the same either way."""
    lines: list[Any] = [customer(i) for i in range(30)]
    lines[3] = customer(3, score=1.5, tags=["a"], active=True)
    lines[4] = customer(4, score=2, note=None, meta={"x": 1})  # 2 next to 1.5: the line reader keeps the int
    lines[5] = customer(5, big=2**60, plan="x\u0007y")
    lines[6] = customer(2)  # an identical repeat of line 3: a warning
    lines[7] = customer(1, nrSeats=9)  # a repeat with other values: a bad line
    lines[8] = customer(8, late="2017-03-01", nrSessions=1e13)  # an ISO date attribute stays text; a bad optional value
    lines.append(customer(40, only_null=None))
    result, used = read_both(write(tmp_path / "customers.json", lines), customers=True)
    assert used and not isinstance(result, str)
    assert {"score", "active", "note", "big", "late", "only_null", "plan"} <= set(result.frame.columns)
    assert "tags" not in result.frame.columns and "meta" not in result.frame.columns


def test_attribute_order_is_first_appearance_in_kept_lines(tmp_path: Path) -> None:
    """Attribute columns come in the order the line reader makes them, which a rejected line does not set."""
    lines: list[Any] = [customer(i) for i in range(10)]
    lines[0] = {"customerId": None, "zeta": 1, "alpha": 2}  # rejected: its keys make no column yet
    lines[1] = customer(1, alpha=3, mid=None)
    lines[5] = customer(5, zeta=4)
    result, used = read_both(write(tmp_path / "customers.json", lines), customers=True)
    assert used and not isinstance(result, str)
    assert list(result.frame.columns)[-4:] == ["plan", "alpha", "mid", "zeta"]


def test_shared_payment_log_reads_the_same(tmp_path: Path) -> None:
    """The real shared log: both files give the same frames and issues, and the columnar path reads them."""
    invoices, customers = SHARED / "invoices_per_customer.json", SHARED / "information_customer.json"
    if not invoices.is_file() or not customers.is_file():
        pytest.skip(f"shared payment log not found in {SHARED}")
    for path, is_customers in [(invoices, False), (customers, True)]:
        _result, used = read_both(path, customers=is_customers, limits=Limits(now=NOW))
        assert used


# Generated logs: good lines with values pyarrow reads without complaint, some of them bad for the checks.
_numbers = (st.floats(min_value=-2e12, max_value=2e12, allow_nan=False) | st.integers(-10**13, 10**13)
            | st.sampled_from([0, -0.0, 0.0, 1e12, -1e12, 2**53 + 1, 10**20, 5e-324]))
_times = (st.integers(BASE - 10**9, int(NOW) + 10**6) | st.floats(BASE - 1e9, NOW + 1e6)
          | st.sampled_from([BASE, BASE * 1000, 946684800, 946684799.5, NOW + 3599, NOW + 3600]))
_texts = st.text(max_size=8) | st.sampled_from(["", "a\u0007", "\ufffe", "x\x00", "plain"])
_attribute = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=6) | st.lists(st.integers(), max_size=2)


@st.composite
def invoice_files(draw: st.DrawFn) -> list[Any]:
    n = draw(st.integers(1, 40))
    id_kind = draw(st.sampled_from(["int", "str"]))
    time_kind = draw(st.sampled_from(["int", "float"]))
    lines: list[Any] = []
    for i in range(n):
        record: dict[str, Any] = {
            "customerId": i % 9 if id_kind == "int" else draw(st.sampled_from(["a", "b", "c9", "", "d\u0001"])),
            "amountPaid": draw(_numbers) if draw(st.booleans()) else 10.0,
            "timestampPaid": (draw(_times) if draw(st.booleans()) else BASE + i) if time_kind == "int" else float(
                draw(_times)),
        }
        if time_kind == "int" and isinstance(record["timestampPaid"], float):
            record["timestampPaid"] = int(record["timestampPaid"])
        for key in draw(st.lists(st.sampled_from(list(record)), max_size=2)):
            if draw(st.booleans()):
                record.pop(key, None)
            else:
                record[key] = None
        if draw(st.integers(0, 9)) == 0:
            record["extra"] = draw(st.lists(st.floats(allow_nan=False), max_size=2))
        lines.append(record)
        if draw(st.integers(0, 19)) == 0:
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
    return lines


@st.composite
def customer_files(draw: st.DrawFn) -> list[Any]:
    n = draw(st.integers(1, 30))
    keys = draw(st.lists(st.sampled_from(["plan", "score", "active", "region", "x"]), max_size=4, unique=True))
    kinds = {k: draw(st.sampled_from(["int", "float", "text", "any"])) for k in keys}
    values = {"int": st.integers(-(2**60), 2**60), "float": st.floats(allow_nan=False, allow_infinity=False),
              "text": _texts, "any": _attribute}
    lines: list[Any] = []
    for _ in range(n):
        record: dict[str, Any] = {"customerId": draw(st.integers(1, n + 3)),
                                  "nrSessions": draw(st.none() | st.integers(0, 500) | st.floats(0, 10)),
                                  "nrSeats": draw(st.none() | st.integers(0, 50))}
        for key in keys:
            if draw(st.integers(0, 3)):
                value = draw(st.none() | values[kinds[key]])
                record[key] = value
        lines.append(record)
    return lines


def _pyarrow_kind(value: Any) -> str:
    """Values of one key must keep one JSON kind for pyarrow to read the file (else it is read line by line)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=invoice_files(), crlf=st.booleans(), bom=st.booleans())
def test_generated_invoice_files_read_the_same(tmp_path_factory: pytest.TempPathFactory, lines: list[Any], crlf: bool,
                                               bom: bool) -> None:
    path = write(tmp_path_factory.mktemp("inv") / "invoices.json", lines, b"\r\n" if crlf else b"\n")
    if bom:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    read_both(path)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=customer_files())
def test_generated_customer_files_read_the_same(tmp_path_factory: pytest.TempPathFactory, lines: list[Any]) -> None:
    read_both(write(tmp_path_factory.mktemp("cus") / "customers.json", lines), customers=True)


def test_generated_files_mostly_take_the_columnar_path(tmp_path: Path) -> None:
    """The differential tests above compare the columnar path, not only its fallback: most such files stay on it."""
    used = 0
    for seed in range(20):
        lines: list[Any] = [invoice(i, amountPaid=None if (i * seed) % 13 == 0 else math.pi * i) for i in range(50)]
        _result, on_columnar = read_both(write(tmp_path / f"{seed}.json", lines))
        used += on_columnar
    assert used == 20


def test_repeated_charges_are_found_through_one_mixed_key() -> None:
    """load_payments' repeats: the rows whose mix repeats include every row whose (customer, instant, amount) does."""
    import numpy as np

    from sync.sources.payments import _mixed_repeats

    rng = np.random.default_rng(3)
    n = 50_000
    customer = rng.integers(0, 300, n)
    paid = (BASE + rng.integers(0, 2_000, n)) * 10**9
    amount = rng.choice([18.0, 36.0, 0.0, -0.0, 180.0, 1e-9], n)
    frame = pd.DataFrame({"c": customer, "t": paid, "a": amount})
    exact = frame.duplicated(keep=False).to_numpy()
    maybe = _mixed_repeats(customer, paid, amount)
    assert exact.any() and (maybe | ~exact).all()  # a superset
    assert (frame.loc[maybe].duplicated(keep=False).to_numpy() == exact[maybe]).all()
    assert maybe.sum() < exact.sum() * 1.01 + 10  # and hardly more


def test_a_line_nested_hundreds_of_levels_deep_is_named_not_an_internal_error(tmp_path: Path) -> None:
    """A customers line nested hundreds of levels deep (found by tests/sync/test_fuzz.py): both readers name the line
    (the columnar one measured its depth recursively and ran out of Python stack); the other rows are kept."""
    for levels in (661, 1000):  # 661: the fuzz's line, which pyarrow reads and the depth walk did not survive
        deep = '{"a": ' * levels + "1" + "}" * levels
        path = write(tmp_path / "customers.json", [{"customerId": i, "nrSessions": 3, "nrSeats": 1} for i in range(1, 6)]
                     + [deep])
        result, _ = read_both(path, customers=True)
        assert not isinstance(result, str)
        assert [i.line for i in result.issues] == [6] and result.issues[0].severity == "error"
        assert list(result.frame["customer_id"]) == ["1", "2", "3", "4", "5"]


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from([b"{", b"}", b"\n", b"\r", b" ", b"a", b'"x"', b"\n\n", b"}\n{", b"{}"]),
                       max_size=30), bom=st.booleans())
def test_regular_files_are_counted_as_the_line_scan_finds_them(pieces: list[bytes], bom: bool) -> None:
    """A file is read without an array of its line positions only when counting bytes proves what the scan of every
    newline would find (`columnar._regular_lines`): each line one `{...}`, no blank line, no CR; then the counts
    agree. Any other file is scanned, as before."""
    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(pieces)
    skip = 3 if bom else 0
    counted = columnar._regular_lines(data, skip)
    body = data[skip:]
    lines = body.split(b"\n")
    if body.endswith(b"\n"):
        lines = lines[:-1]
    every_line_an_object = bool(body) and all(
        len(line) >= 2 and line.startswith(b"{") and line.endswith(b"}") and b"\r" not in line for line in lines)
    assert counted == (len(lines) if every_line_an_object else None)
    scanned = columnar._Lines(data, skip)
    if counted is not None:
        assert scanned.regular and scanned.count == counted
        assert scanned.head(3) == list(zip(scanned.starts[:3].tolist(), scanned.ends[:3].tolist(), strict=True))
    if body:  # (an empty file never gets here: read_columnar leaves it to the line reader)
        assert len(scanned.starts) == len(scanned.ends) == scanned.count


def test_the_digest_is_the_files_hashed_in_a_thread_or_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SHA-256 is computed in a thread while the columnar reader scans the bytes, and here when no thread can be
    started (the interpreter shutting down under a worker's last run): the same digest either way."""
    import concurrent.futures
    import hashlib

    from sync.sources import reader

    path = write(tmp_path / "invoices.json", [invoice(i) for i in range(50)])
    fields = fields_from_spec(INVOICE_FIELDS, {})
    want = hashlib.sha256(path.read_bytes()).hexdigest()
    submitted: list[Any] = []
    submit = concurrent.futures.ThreadPoolExecutor.submit

    def spy(pool: Any, fn: Any, *a: Any, **k: Any) -> Any:
        submitted.append(fn)
        return submit(pool, fn, *a, **k)

    monkeypatch.setattr(concurrent.futures.ThreadPoolExecutor, "submit", spy)
    assert read_ndjson(path, "invoices", fields, Limits(now=NOW)).info.sha256 == want
    assert submitted == []  # a small file: hashed here
    monkeypatch.setattr(reader, "_HASHED_APART", 0)  # this small file in a thread too
    assert read_ndjson(path, "invoices", fields, Limits(now=NOW)).info.sha256 == want
    assert submitted == [hashlib.sha256]

    def refused(*a: Any, **k: Any) -> Any:
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(concurrent.futures.ThreadPoolExecutor, "submit", refused)
    assert read_ndjson(path, "invoices", fields, Limits(now=NOW)).info.sha256 == want
