"""The local sinks: typed cells and formats in .xlsx, one CSV per tab, atomic replacement, never a formula."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi.tables import Column, Tab, Table
from sync.errors import PublishError
from sync.sinks.csv import CsvSink, csv_name
from sync.sinks.xlsx import XlsxSink

COLUMNS = (
    Column("Month", "month"),
    Column("MRR", "money"),
    Column("Customers", "int"),
    Column("Churn %", "percent"),
    Column("Note", "text"),
)


def sample_table(name: str = "MRR by quarter") -> Table:
    tab = Tab(name=name, description="test", columns=COLUMNS, build=lambda ctx: pd.DataFrame())
    frame = pd.DataFrame(
        {
            "Month": pd.to_datetime(["2017-01-01", "2017-02-01"]),
            "MRR": [1050.5, float("nan")],
            "Customers": [3, 4],
            "Churn %": [0.05, float("nan")],
            "Note": ["=IMPORTXML(\"http://x\",\"//a\")", "+1"],
        }
    )
    return Table(tab=tab, columns=COLUMNS, frame=frame)


def test_csv_file_names() -> None:
    """A tab's CSV name is its lower-cased name with runs of other characters turned into _."""
    assert csv_name("MRR by quarter") == "mrr_by_quarter.csv"
    assert csv_name("Cohorts (logos)") == "cohorts_logos.csv"
    assert csv_name("LTV:CAC") == "ltv_cac.csv"


def test_csv_sink_writes_typed_text(tmp_path: Path) -> None:
    """Months as YYYY-MM, empty cells for missing values, fractions as numbers, formula-like text neutralised with a leading apostrophe."""
    out = tmp_path / "csv"
    CsvSink(str(out)).publish([sample_table()])
    text = (out / "mrr_by_quarter.csv").read_text(encoding="utf-8").splitlines()
    assert text[0] == "Month,MRR,Customers,Churn %,Note"
    assert text[1] == '2017-01,1050.5,3,0.05,"\'=IMPORTXML(""http://x"",""//a"")"'
    assert text[2] == "2017-02,,4,,+1"  # a plain number runs nothing


def formula_table() -> Table:
    """A tab whose header and text cells a spreadsheet would run as formulas, beside negative numbers."""
    columns = (Column("=HYPERLINK(\"http://evil\",\"x\")", "text"), Column("Amount", "money"), Column("-2+3", "text"))
    tab = Tab(name="Evil", description="test", columns=columns, build=lambda ctx: pd.DataFrame())
    frame = pd.DataFrame({"a": ["@SUM(1)", "\tx", "-1", "ok"], "b": [-5.0, -0.5, 3.0, -1.0], "c": ["+A1", "\r=1", "a", None]})
    return Table(tab=tab, columns=columns, frame=frame)


def test_csv_formulas_are_neutralised_headers_included_numbers_untouched(tmp_path: Path) -> None:
    """CSV text starting with =, +, -, @, tab or CR gets a leading apostrophe (OWASP), in headers too; negative numbers stay numbers."""
    CsvSink(str(tmp_path / "csv")).publish([formula_table()])
    with (tmp_path / "csv" / "evil.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["'=HYPERLINK(\"http://evil\",\"x\")", "Amount", "'-2+3"]
    assert [r[0] for r in rows[1:]] == ["'@SUM(1)", "'\tx", "-1", "ok"]  # "-1" is a plain number: it runs nothing
    assert [r[1] for r in rows[1:]] == ["-5", "-0.5", "3", "-1"]
    assert [r[2] for r in rows[1:]] == ["'+A1", "'\r=1", "a", ""]


def test_csv_raw_text_switch(tmp_path: Path) -> None:
    """With neutralize_formulas off ([output] csv_neutralize_formulas = false) text is written as it is."""
    CsvSink(str(tmp_path / "csv"), neutralize_formulas=False).publish([formula_table()])
    with (tmp_path / "csv" / "evil.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "=HYPERLINK(\"http://evil\",\"x\")" and rows[1][0] == "@SUM(1)"


def test_xlsx_header_and_cells_are_never_formulas(tmp_path: Path) -> None:
    """An attribute key like =HYPERLINK(...) is a string header cell in the workbook, not a live formula."""
    XlsxSink(str(tmp_path / "k.xlsx")).publish([formula_table()])
    sheet = openpyxl.load_workbook(tmp_path / "k.xlsx")["Evil"]
    for row in sheet.iter_rows(max_row=5):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
    assert sheet["A1"].value.startswith("=HYPERLINK") and sheet["C1"].value == "-2+3"


def test_csv_sink_replaces_the_whole_folder(tmp_path: Path) -> None:
    """A new run's folder replaces the old one: files of tabs no longer published are gone."""
    out = tmp_path / "csv"
    CsvSink(str(out)).publish([sample_table("Old tab")])
    CsvSink(str(out)).publish([sample_table("New tab")])
    assert sorted(p.name for p in out.iterdir()) == [".kpi-sync", "new_tab.csv"]


def test_xlsx_sink_writes_typed_cells_and_formats(tmp_path: Path) -> None:
    """Cells are numbers and dates with number formats; the header is bold and frozen; text is never a formula."""
    path = tmp_path / "out" / "kpis.xlsx"
    XlsxSink(str(path), currency="EUR").publish([sample_table()])
    book = openpyxl.load_workbook(path)
    sheet = book["MRR by quarter"]
    assert sheet.freeze_panes == "B2"  # header row and the label column stay in view
    assert sheet["A1"].font.bold
    assert sheet.auto_filter.ref == "A1:E3"
    assert sheet["A2"].value == dt.datetime(2017, 1, 1) and sheet["A2"].number_format == "yyyy-mm"
    assert sheet["B2"].value == 1050.5 and "EUR" in sheet["B2"].number_format
    assert sheet["B3"].value is None
    assert sheet["C2"].value == 3
    assert sheet["D2"].value == 0.05 and sheet["D2"].number_format == "0.0%"
    assert sheet["E2"].data_type == "s" and sheet["E2"].value.startswith("=IMPORTXML")
    assert sheet["E3"].value == "+1"
    assert sheet.column_dimensions["E"].width > 10


def test_xlsx_failure_leaves_the_old_workbook(tmp_path: Path) -> None:
    """When writing fails, the previous workbook is untouched and no temporary file is left behind."""
    path = tmp_path / "kpis.xlsx"
    path.write_bytes(b"old workbook")
    bad = sample_table()
    broken = Table(tab=bad.tab, columns=bad.columns, frame=bad.frame.assign(Customers=["x", "y"]))
    with pytest.raises(ValueError):
        XlsxSink(str(path)).publish([broken])
    assert path.read_bytes() == b"old workbook"
    assert [p.name for p in tmp_path.iterdir()] == ["kpis.xlsx"]


def test_unwritable_destination_is_a_publish_error(tmp_path: Path) -> None:
    """A destination whose folder cannot be created is a PublishError, not a traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PublishError):
        XlsxSink(str(blocker / "sub" / "kpis.xlsx")).publish([sample_table()])


def test_money_is_published_to_the_cent(tmp_path: Path) -> None:
    """Money cells are rounded to the cent in every sink (ARPA 68.836 -> 68.84); other numbers keep their precision."""
    cols = (Column("ARPA", "money"), Column("Quick ratio", "number"))
    tab = Tab(name="T", description="", columns=cols, build=lambda ctx: pd.DataFrame())
    table = Table(tab=tab, columns=cols, frame=pd.DataFrame({"ARPA": [68.836], "Quick ratio": [1.23456]}))
    out = tmp_path / "csv"
    CsvSink(str(out)).publish([table])
    assert (out / "t.csv").read_text(encoding="utf-8").splitlines()[1] == "68.84,1.23456"


def test_xlsx_wraps_long_text_and_fits_widths_to_every_row(tmp_path: Path) -> None:
    """A long sentence wraps in a capped column with a taller row; a long value in the last row still widens its column."""
    cols = (Column("Topic", "text"), Column("Sentence", "text"))
    tab = Tab(name="Summary", description="", columns=cols, build=lambda ctx: pd.DataFrame())
    topics = ["a"] * 300 + ["never active"]
    sentences = ["short"] * 300 + ["word " * 60]
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([Table(tab=tab, columns=cols, frame=pd.DataFrame({"Topic": topics, "Sentence": sentences}))])
    sheet = openpyxl.load_workbook(path)["Summary"]
    assert sheet.column_dimensions["A"].width >= len("never active")
    assert sheet.column_dimensions["B"].width == 60
    assert sheet["B302"].alignment.wrap_text
    assert sheet.row_dimensions[302].height >= 5 * 15
    assert sheet.row_dimensions[2].height is None


def test_xlsx_empty_tab_says_none(tmp_path: Path) -> None:
    """A tab with no rows shows "(none)" under its header instead of looking broken."""
    cols = (Column("Severity", "text"),)
    tab = Tab(name="Data quality", description="", columns=cols, build=lambda ctx: pd.DataFrame())
    path = tmp_path / "k.xlsx"
    XlsxSink(str(path)).publish([Table(tab=tab, columns=cols, frame=pd.DataFrame({"Severity": []}))])
    assert openpyxl.load_workbook(path)["Data quality"]["A2"].value == "(none)"


def test_csv_sink_never_replaces_a_folder_it_did_not_write(tmp_path: Path) -> None:
    """A folder holding someone's files (no .kpi-sync marker) is refused before anything is written; they stay."""
    victim = tmp_path / "Documents"
    (victim / "sub").mkdir(parents=True)
    (victim / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(PublishError, match="did not write"):
        CsvSink(str(victim)).publish([sample_table()])
    assert (victim / "notes.txt").read_text(encoding="utf-8") == "mine" and (victim / "sub").is_dir()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_local_sinks_refuse_a_target_of_the_wrong_type(tmp_path: Path, kind: str) -> None:
    """csv: on an existing file, or xlsx: on a folder, is refused with a one-line PublishError, before any work."""
    target = tmp_path / "thing"
    if kind == "csv":
        target.write_text("a file", encoding="utf-8")
        with pytest.raises(PublishError, match="not a folder"):
            CsvSink(str(target))
    else:
        target.mkdir()
        with pytest.raises(PublishError, match="not a regular file|is a folder"):
            XlsxSink(str(target))


def test_outputs_get_the_usual_permissions(tmp_path: Path) -> None:
    """The workbook and the CSV folder are readable by others as the umask allows, not private like temp files."""
    import os

    old = os.umask(0o022)
    try:
        XlsxSink(str(tmp_path / "k.xlsx")).publish([sample_table()])
        CsvSink(str(tmp_path / "csv")).publish([sample_table()])
    finally:
        os.umask(old)
    assert (tmp_path / "k.xlsx").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "csv").stat().st_mode & 0o777 == 0o755


def unholdable_table() -> Table:
    """A one-column table holding a lone surrogate and a control character."""
    columns = (Column("Note", "text"),)
    tab = Tab(name="Notes", description="test", columns=columns, build=lambda ctx: pd.DataFrame())
    return Table(tab=tab, columns=columns, frame=pd.DataFrame({"Note": pd.Series(["\ud800", "a\u0007b"], dtype=object)}))


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_sinks_write_unholdable_text_as_replacement_characters(tmp_path: Path, kind: str) -> None:
    """A sink called directly with a lone surrogate or a control character writes U+FFFD instead, and the file reads back."""
    if kind == "xlsx":
        XlsxSink(str(tmp_path / "k.xlsx")).publish([unholdable_table()])
        values = [c.value for c in openpyxl.load_workbook(tmp_path / "k.xlsx")["Notes"]["A"]]
    else:
        CsvSink(str(tmp_path / "csv")).publish([unholdable_table()])
        values = (tmp_path / "csv" / "notes.csv").read_text(encoding="utf-8").splitlines()
    assert values[1:3] == ["\ufffd", "a\ufffdb"]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_file_that_does_not_read_back_never_replaces_the_old_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     kind: str) -> None:
    """With the text cleaning bypassed, openpyxl writes an unreadable workbook (CSV cannot encode): the sink fails and the old output stays."""
    import sync.sinks.cells

    target = tmp_path / ("k.xlsx" if kind == "xlsx" else "csv")
    sink = XlsxSink(str(target)) if kind == "xlsx" else CsvSink(str(target))
    sink.publish([sample_table()])
    before = target.read_bytes() if kind == "xlsx" else (target / "mrr_by_quarter.csv").read_bytes()
    monkeypatch.setattr(sync.sinks.cells, "holdable", lambda text: text)
    broken = Table(tab=unholdable_table().tab, columns=unholdable_table().columns,
                   frame=pd.DataFrame({"Note": pd.Series(["\ud800"], dtype=object)}))
    with pytest.raises(PublishError):
        sink.publish([sample_table(), broken])
    after = target.read_bytes() if kind == "xlsx" else (target / "mrr_by_quarter.csv").read_bytes()
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary left


def test_stale_temporaries_of_a_killed_run_are_removed_at_the_next_run(tmp_path: Path) -> None:
    """Temporary files and folders a killed run left beside the target (.NAME.*.tmp, .NAME.old) are gone after the next run."""
    book, folder = tmp_path / "k.xlsx", tmp_path / "csv"
    XlsxSink(str(book)).publish([sample_table()])
    CsvSink(str(folder)).publish([sample_table()])
    leftovers = [tmp_path / ".k.xlsx.abc123.tmp", tmp_path / ".k.xlsx.999999999.x1y2.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a workbook")
    (tmp_path / ".csv.q9w8.tmp").mkdir()
    (tmp_path / ".csv.old").mkdir()
    (tmp_path / "keep.tmp").write_text("not ours", encoding="utf-8")
    XlsxSink(str(book)).publish([sample_table()])
    CsvSink(str(folder)).publish([sample_table()])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "k.xlsx", "keep.tmp"]


def test_a_kill_between_the_folder_renames_never_leaves_no_folder(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV folder swap is one atomic exchange: a kill where the old two-rename swap had moved the old folder away
    leaves the output folder in place; and a folder left only as .NAME.old is put back at the next run."""
    import os as _os

    import sync.sinks.local

    folder = tmp_path / "csv"
    CsvSink(str(folder)).publish([sample_table("Old tab")])
    real_replace = _os.replace

    class Killed(BaseException):
        pass

    def killed(src, dst, *args, **kwargs):  # the process dies as it moves the live folder away
        if Path(src) == folder:
            raise Killed
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(sync.sinks.local.os, "replace", killed)
    CsvSink(str(folder)).publish([sample_table("New tab")])
    assert (folder / "new_tab.csv").is_file()
    monkeypatch.undo()

    # What a kill between the two renames of the old swap left: no folder, only .csv.old.
    real_replace(folder, tmp_path / ".csv.old")
    CsvSink(str(folder)).publish([sample_table("Newer tab")])
    assert (folder / "newer_tab.csv").is_file() and not (tmp_path / ".csv.old").exists()


def test_temporaries_of_this_pid_are_a_killed_process_unless_this_one_writes_them(tmp_path: Path) -> None:
    """A worker restarted in a container is PID 1 again: a temporary named with this process's pid that this process
    is not writing is an earlier process's, removed by the next run; one it is writing is kept."""
    import os

    from sync.sinks import local

    folder = tmp_path / "csv"
    CsvSink(str(folder)).publish([sample_table()])
    earlier = tmp_path / f".csv.{os.getpid()}.ahead-old.tmp"
    earlier.write_bytes(b"half a tab")
    mine = tmp_path / f".csv.{os.getpid()}.ahead-now.tmp"
    mine.write_bytes(b"a tab being written")
    local.writing(mine)
    try:
        CsvSink(str(folder)).publish([sample_table()])
        assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name, "csv"]
    finally:
        local.written(mine)


def test_what_this_process_writes_is_removed_at_its_exit(tmp_path: Path) -> None:
    """A worker stopped while a run computes exits without that run's cleanup: the tab it was writing ahead goes
    with the process (an exit hook), not left beside the folder, and the exit does not wait for the tab to be
    written (here one that takes 45 s, a row at a time)."""
    import subprocess
    import sys
    import time

    script = (
        "import sys, time; from pathlib import Path\n"
        "import sync.sinks.csv as csv\n"
        "from tests.sync.sinks.gsheet_tables import table\n"
        "csv.AHEAD_ROWS = 1\n"
        "sink = csv.CsvSink(sys.argv[1])\n"
        "sink.render_ahead(table('Tall', [('x', 'text')], [[str(i)] for i in range(200_000)], dtype=object))\n"
        "time.sleep(0.3)\n"
        "print(sorted(p.name for p in Path(sys.argv[1]).parent.iterdir()))\n"
    )
    began = time.monotonic()
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "csv")], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert ".ahead-" in out.stdout  # being written while the process ran (no publish, no discard)
    assert list(tmp_path.iterdir()) == []
    assert time.monotonic() - began < 20
