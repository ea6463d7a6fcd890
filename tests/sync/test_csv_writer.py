"""The column-wise CSV writer (sync.sinks.csv) writes the bytes the per-value writer it replaced wrote.

`reference_csv` is that writer, kept here as the definition: typed cells from `cells.table_rows`, each value
formatted one by one (%.12g numbers, the kind's date pattern, True/False, OWASP neutralisation), the csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi.tables import Table
from sync.run import compute_tables
from sync.sinks.cells import CellValue, formats, header, table_rows
from sync.sinks.csv import CsvSink, csv_body, csv_name, neutralize
from tests.kpi.datasets import dataset_context
from tests.sync.sinks.gsheet_tables import table


def _text(value: CellValue, pattern: str | None) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.date) and pattern:
        return value.strftime(pattern)
    if isinstance(value, float):
        return format(value, ".12g")
    return value


def reference_csv(t: Table, timezone: str = "UTC", neutralize_formulas: bool = True) -> bytes:
    safe = neutralize if neutralize_formulas else (lambda v: v)
    fmt = formats()
    patterns = [fmt[c.kind].csv for c in t.columns]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([safe(h) for h in header(t)])
    for row in table_rows(t, timezone):
        writer.writerow([_text(safe(v), p) for v, p in zip(row, patterns, strict=True)])  # type: ignore[arg-type]
    return out.getvalue().encode("utf-8")


def written(tables: list[Table], tmp_path, timezone: str = "UTC", neutralize_formulas: bool = True) -> dict[str, bytes]:
    folder = tmp_path / "out"
    CsvSink(str(folder), timezone=timezone, neutralize_formulas=neutralize_formulas).publish(tables)
    return {t.name: (folder / csv_name(t.name)).read_bytes() for t in tables}


@pytest.mark.parametrize("dataset", ["shared", "generated", "contracts fixture", "payments sample"])
def test_byte_identical_to_the_per_value_writer(dataset, tmp_path):
    ctx = dataset_context(dataset)
    tables, _ = compute_tables(ctx)
    got = written(tables, tmp_path, ctx.timezone)
    for t in tables:
        assert got[t.name] == reference_csv(t, ctx.timezone), t.name


TRICKY = ['a,b', 'say "hi"', "line\nfeed", "cr\rx", "tab\tx", "=SUM(A1)", "+1", "-4.50", "-4.", "+٣", "@home",
          "\tx", "\rx", "-", "", "é ✓ 😀", "x" * 40_000, "ctl\u0007", None, "'quoted", " lead"]


@pytest.mark.parametrize("neutral", [True, False])
def test_tricky_values_on_every_kind(neutral, tmp_path):
    n = len(TRICKY)
    floats = [0.0, -0.0, 0.1 + 0.2, 1 / 3, 1e20, 1e-7, 123456789012345.0, 1234.565, np.nan, np.inf, 2.5, -1e-4,
              1e12, 999999999999.5, 0.00012345678901234, 5.0, None, 7e-5, -3.0, 1e11, 42.125]
    stamps = pd.to_datetime(["2024-03-31 23:30:15.7", "1900-01-01", None, "2017-10-17", "2262-04-11"] * 5,
                            utc=True, format="ISO8601")[:n]
    t = table("Tricky", [("text", "text"), ("number", "number"), ("money", "money"), ("percent", "percent"),
                         ("int", "int"), ("month", "month"), ("date", "date"), ("datetime", "datetime"),
                         ("bool", "bool")],
              [[TRICKY[i], floats[i], floats[i], floats[i], floats[i], stamps[i], stamps[i], stamps[i],
                [True, False, None][i % 3]] for i in range(n)], dtype=object)
    for tz in ("UTC", "Pacific/Chatham"):
        assert written([t], tmp_path / tz, tz, neutral)["Tricky"] == reference_csv(t, tz, neutral)


@pytest.mark.parametrize("chunk", [1, 4])
def test_written_in_slices_of_rows(chunk, tmp_path, monkeypatch):
    """A tab longer than CHUNK_ROWS is written a slice of rows at a time: the same bytes."""
    monkeypatch.setattr("sync.sinks.csv.CHUNK_ROWS", chunk)
    n = len(TRICKY)
    t = table("Tricky", [("text", "text"), ("int", "int"), ("number", "number")],
              [[TRICKY[i], [1, None, 2**70][i % 3], [0.1 + 0.2, None, 1e20][i % 3]] for i in range(n)], dtype=object)
    one = table("One", [("x", "text")], [[""], [None], ["a"], ["b,c"], [""]], dtype=object)
    got = written([t, one], tmp_path)
    assert got["Tricky"] == reference_csv(t)
    assert got["One"] == reference_csv(one)


def test_one_column_tabs_and_empty_tabs(tmp_path):
    one = table("One", [("=x", "text")], [[""], [None], ["a"]], dtype=object)
    empty = table("Empty", [("a", "text"), ("b", "int")], [])
    got = written([one, empty], tmp_path)
    assert got["One"] == reference_csv(one) == b"'=x\r\n\"\"\r\n\"\"\r\na\r\n"
    assert got["Empty"] == reference_csv(empty)


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(st.none() | st.text(max_size=10), min_size=1, max_size=6),
       numbers=st.lists(st.none() | st.floats(width=64, min_value=-1e15, max_value=1e15), min_size=1, max_size=6))
def test_any_text_and_number(tmp_path_factory, texts, numbers):
    k = min(len(texts), len(numbers))
    t = table("Any", [("t", "text"), ("n", "number"), ("m", "money"), ("i", "int")],
              [[texts[i], numbers[i], numbers[i], numbers[i]] for i in range(k)], dtype=object)
    assert written([t], tmp_path_factory.mktemp("any"))["Any"] == reference_csv(t)


def test_the_folder_is_read_back_as_text_and_refused_when_a_file_does_not_parse_into_its_rows(tmp_path) -> None:
    """verify_folder reads every field as text: a file of the rows and fields written passes, whatever its values
    look like (a number column with a text in it, dates, empty fields); a line with a field too many, bytes that are
    not UTF-8 (read with types guessed, a column of them passed as binary), a field count or a row count other than
    written is a PublishError naming the file."""
    from sync.errors import PublishError
    from sync.sinks.csv import verify_folder

    good = tmp_path / "good.csv"
    good.write_bytes(b'a,b,c\n1,2017-01-01,x\n2.5,,"multi\nline"\nthree,2017-02-01,\n')
    verify_folder({good: (4, 3)})
    cases = {
        "extra.csv": (b"a,b,c\n1,2,3\n4,5,6,7\n", (3, 3)),
        "latin1.csv": (b"a,b\n1,caf\xe9\n", (2, 2)),
        "short.csv": (b"a,b\n1,2\n", (3, 2)),
        "wide.csv": (b"a,b,c\n1,2,3\n", (2, 2)),  # every line a field more than the header written
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(PublishError, match=name.replace(".", r"\.")):
            verify_folder({path: expected})


def _files(folder) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mode & 0o777) for p in sorted(folder.iterdir())}


def test_a_tab_written_ahead_is_the_file_publish_writes(tmp_path, monkeypatch):
    """`render_ahead` writes a tab's file beside the destination while the run goes on; `publish` moves it in when
    it publishes that very table: the same bytes and mode as written in the publish, in slices too, and nothing left
    beside the folder. A tab given ahead but published as another table (changed since) is written again."""
    monkeypatch.setattr("sync.sinks.csv.CHUNK_ROWS", 4)
    monkeypatch.setattr("sync.sinks.csv.AHEAD_ROWS", 3)
    n = len(TRICKY)
    tall = table("Tall", [("text", "text"), ("int", "int")], [[TRICKY[i], i] for i in range(n)], dtype=object)
    other = table("Other", [("x", "text")], [["a"], ["=b"]], dtype=object)
    written([tall, other], tmp_path / "plain")
    sink = CsvSink(str(tmp_path / "ahead" / "out"))
    sink.render_ahead(tall)
    (early,) = [p for p in (tmp_path / "ahead").iterdir() if ".ahead-" in p.name]
    inode = early.stat().st_ino
    sink.publish([tall, other])
    assert (tmp_path / "ahead" / "out" / "tall.csv").stat().st_ino == inode  # the file written ahead, moved in
    assert _files(tmp_path / "ahead" / "out") == _files(tmp_path / "plain" / "out")
    assert sorted(p.name for p in (tmp_path / "ahead").iterdir()) == ["out"]
    changed = table("Tall", [("text", "text"), ("int", "int")], [["new", 1]], dtype=object)
    sink.render_ahead(tall)
    sink.publish([changed, other])
    assert (tmp_path / "ahead" / "out" / "tall.csv").read_bytes() == reference_csv(changed)
    assert sorted(p.name for p in (tmp_path / "ahead").iterdir()) == ["out"]


def test_a_tab_written_ahead_that_fails_fails_the_publish_and_one_never_published_is_removed(tmp_path, monkeypatch):
    """The error of a tab written ahead is its publish's, naming the tab's file as published, and the folder before
    stays as it was; a run that ends before its publish (`discard_ahead`) stops the writing and leaves no file."""
    from sync.errors import PublishError

    folder = tmp_path / "out"
    good = table("Good", [("x", "text")], [["a"]], dtype=object)
    CsvSink(str(folder)).publish([good])
    before = _files(folder)
    bad = table("Bad tab", [("x", "text")], [["x"]], dtype=object)
    real = csv_body

    def body(rows, *args):  # text UTF-8 cannot hold, as a tab not made holdable (cells.py) would have
        if rows.name == "Bad tab":
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(rows, *args)

    monkeypatch.setattr("sync.sinks.csv.csv_body", body)
    sink = CsvSink(str(folder))
    sink.render_ahead(bad)
    with pytest.raises(PublishError, match=r"cannot write bad_tab\.csv"):
        sink.publish([good, bad])
    assert _files(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    monkeypatch.setattr("sync.sinks.csv.AHEAD_ROWS", 1)
    long = table("Long", [("i", "int")], [[i] for i in range(2000)], dtype=object)
    sink.render_ahead(long)
    sink.discard_ahead()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert _files(folder) == before
