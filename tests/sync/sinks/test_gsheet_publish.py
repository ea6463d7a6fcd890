"""The Google Sheets sink against the HTTP fake: plan, one write, typed cells, fingerprints, charts, limits."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sync.errors import LimitError, PublishError
from sync.sinks import PublishResult
from sync.sinks.cells import serial
from sync.sinks.gsheet_plan import META_KEY
from tests.fakes.sheets import parse_mask
from tests.sync.sinks.gsheet_tables import customers_table, empty_table, mrr_table, table, workbook


def _requests(body):
    return [next(iter(r)) for r in body["requests"]]


def _sheet_ids_touched(body):
    """Every sheetId a batch body refers to."""
    found = set()

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "sheetId":
                    found.add(v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(body)
    return found


def test_first_run_creates_every_tab_in_one_batch(fake, make_sink):
    """A first run on a fresh spreadsheet sends the token request, one metadata read and one batchUpdate."""
    result = make_sink().publish(workbook())
    assert [c.kind for c in fake.calls] == ["token", "get", "batchUpdate"]
    assert fake.titles() == ["Dashboard", "Sheet1", "MRR", "Customers", "Issues"]
    assert isinstance(result, PublishResult)
    assert set(result.written) == {"Dashboard", "MRR", "Customers", "Issues"}
    assert result.unchanged == []
    assert result.requests == 2
    assert result.destination == f"https://docs.google.com/spreadsheets/d/{fake.spreadsheet_id}"
    kinds = _requests(fake.bodies()[0])
    assert kinds.count("addSheet") == 4
    # shrink before add before grow, data before fingerprints, charts last
    assert kinds.index("addSheet") < kinds.index("updateCells") < kinds.index("createDeveloperMetadata")
    assert kinds[-2:] == ["addChart", "addChart"]


def test_every_request_has_a_timeout(fake, make_sink):
    """Every HTTP request, the token request included, carries a timeout."""
    make_sink(timeout_seconds=30).publish(workbook())
    assert all(c.timeout is not None for c in fake.calls)
    assert fake.calls[1].timeout == (10.0, 30)


def test_metadata_read_uses_a_fields_mask_without_grid_data(fake, make_sink):
    """The one read asks for sheet properties, developer metadata, chart ids and the count of conditional format
    rules (their ranges' sheet ids) only."""
    make_sink().publish(workbook())
    (read,) = [c for c in fake.calls if c.kind == "get"]
    fields = read.query["fields"][0]
    sheets = parse_mask(fields)["sheets"]
    assert set(sheets) == {"properties", "developerMetadata", "charts", "conditionalFormats"}  # no grid data
    assert sheets["charts"] == {"chartId": None}
    assert sheets["conditionalFormats"] == {"ranges": {"sheetId": None}}


def test_second_run_with_same_data_sends_no_write(fake, make_sink):
    """A rerun with unchanged tables reads the metadata once and writes nothing."""
    make_sink().publish(workbook())
    before = fake.snapshot()
    calls = len(fake.calls)
    result = make_sink().publish(workbook())
    assert [c.kind for c in fake.calls[calls:]] == ["token", "get"]
    assert result.written == []
    assert set(result.unchanged) == {"Dashboard", "MRR", "Customers", "Issues"}
    assert result.requests == 1
    assert fake.snapshot() == before


def test_one_changed_table_rewrites_only_its_tab(fake, make_sink):
    """Changing one table's values sends one batch that touches only that tab."""
    make_sink().publish(workbook())
    ids = fake.sheet_ids()
    calls = len(fake.calls)
    result = make_sink().publish([mrr_table(), customers_table(extra=" changed"), empty_table()])
    assert result.written == ["Customers"]
    (body,) = [c.body for c in fake.calls[calls:] if c.kind == "batchUpdate"]
    assert _sheet_ids_touched(body) == {ids["Customers"]}
    assert "addSheet" not in _requests(body)
    assert fake.values("Customers")[3][1] == "-5 changed"


def _volatile(name: str, stamp: str):
    """A tab like About or Sync status whose content changes with every run."""
    import dataclasses

    t = table(name, [("item", "text"), ("value", "text")], [["run started", stamp]])
    return dataclasses.replace(t, tab=dataclasses.replace(t.tab, volatile=True))


def test_a_run_whose_only_change_is_its_run_time_sends_no_write(fake, make_sink):
    """When only volatile tabs (run time, run history) differ, nothing is written; a real change carries them along."""
    make_sink().publish([*workbook(), _volatile("About", "10:00")])
    calls = len(fake.calls)
    result = make_sink().publish([*workbook(), _volatile("About", "11:00")])
    assert [c.kind for c in fake.calls[calls:]] == ["token", "get"]
    assert "About" in result.unchanged and result.written == []
    assert fake.values("About")[1] == ["run started", "10:00"]
    result = make_sink().publish([mrr_table(bump=1.0), customers_table(), empty_table(), _volatile("About", "12:00")])
    assert sorted(result.written) == ["About", "Dashboard", "MRR"] or sorted(result.written) == ["About", "MRR"]
    assert fake.values("About")[1] == ["run started", "12:00"]


def test_sheet_ids_are_stable_across_runs(fake, make_sink):
    """Existing tabs are updated in place: sheet ids never change, whatever the data does."""
    make_sink().publish(workbook())
    ids = fake.sheet_ids()
    make_sink().publish([mrr_table(months=14), customers_table(extra="x"), empty_table()])
    make_sink().publish([mrr_table(months=2), customers_table(), empty_table()])
    make_sink().publish(workbook(), force=True)
    assert fake.sheet_ids() == ids


def test_grids_are_sized_to_the_data(fake, make_sink):
    """A tab grows and shrinks to exactly its rows and columns; rows left over from a longer table are gone."""
    make_sink().publish([mrr_table(months=14)])
    assert (fake.sheet("MRR").rows, fake.sheet("MRR").cols) == (15, 6)
    make_sink().publish([mrr_table(months=2)])
    mrr = fake.sheet("MRR")
    assert (mrr.rows, mrr.cols) == (3, 6)
    assert max(r for r, _ in mrr.cells) == 2
    body = fake.bodies()[-1]
    kinds = _requests(body)
    assert kinds.index("updateSheetProperties") < kinds.index("updateCells")


def test_a_tab_added_by_hand_survives(fake, make_sink):
    """Tabs without our developer metadata are never referenced, let alone changed."""
    make_sink().publish(workbook())
    notes_id = fake.add_by_hand("Notes", values={(0, 0): "my notes", (1, 1): 42})
    before = fake.snapshot()
    make_sink().publish([mrr_table(months=5), customers_table(extra="!"), empty_table()], force=True)
    assert all(notes_id not in _sheet_ids_touched(b) for b in fake.bodies())
    assert fake.values("Notes")[0][0] == "my notes"
    assert fake.values("Notes")[1][1] == 42
    assert [s for s in fake.book.sheets if s.id == notes_id] == [s for s in before.sheets if s.id == notes_id]


def test_hand_made_tab_with_our_title_is_refused_before_writing(fake, make_sink):
    """A tab we don't own that has the name we need stops the run with a message, nothing written."""
    fake.add_by_hand("mrr")
    with pytest.raises(PublishError, match="'mrr' that kpi-sync did not make; rename or delete it"):
        make_sink().publish(workbook())
    assert fake.count("batchUpdate") == 0


def test_our_tab_renamed_by_hand_is_still_updated(fake, make_sink):
    """A tab of ours renamed by a person keeps its new name and still gets the data (found by metadata)."""
    make_sink().publish(workbook())
    fake.sheet("MRR").props["title"] = "MRR (ours)"
    make_sink().publish([mrr_table(bump=5.0), customers_table(), empty_table()])
    assert fake.values("MRR (ours)")[1][1] == 1005.0
    assert "MRR" not in fake.titles()


def test_text_that_looks_like_a_formula_stays_text(fake, make_sink):
    """'=IMPORTXML(...)', '+1', '-5' and '@home' arrive as strings; no formulaValue is ever sent."""
    make_sink().publish(workbook())
    names = [row[1] for row in fake.values("Customers")[1:]]
    assert names == ['=IMPORTXML("https://evil.example", "//a")', "+1", "-5", "@home"]
    assert "formulaValue" not in json.dumps(fake.bodies())
    assert "USER_ENTERED" not in json.dumps(fake.bodies())
    assert {c.kind for c in fake.calls} <= {"token", "get", "batchUpdate"}  # never the values API


def test_cells_are_typed_with_number_formats(fake, make_sink):
    """Numbers are numbers, months and dates are serials with DATE formats, missing values are empty cells."""
    make_sink().publish(workbook())
    mrr = fake.values("MRR")
    assert mrr[0] == ["month", "mrr", "customers", "logo_churn", "new_mrr", "churned_mrr"]
    assert mrr[1][:4] == [serial(pd.Timestamp("2024-01-01").date()), 1000.0, 10, None]
    fmt = {c: fake.cell("MRR", 1, c).get("userEnteredFormat", {}).get("numberFormat") for c in range(4)}
    assert fmt[0] == {"type": "DATE", "pattern": "yyyy-mm"}
    assert fmt[1] == {"type": "CURRENCY", "pattern": '#,##0.00 "EUR"'}
    assert fmt[2] == {"type": "NUMBER", "pattern": "#,##0"}
    assert fmt[3] == {"type": "PERCENT", "pattern": "0.0%"}
    customers = fake.values("Customers")
    assert customers[1][2] is True and customers[2][2] is False
    assert customers[1][3] == serial(pd.Timestamp("2023-05-17").date())
    assert customers[1][4] == pytest.approx(serial(pd.Timestamp("2024-03-01 10:30:00").to_pydatetime()))
    assert customers[2][5] is None and customers[3][3:] == [None, None, None]
    date_format = fake.cell("Customers", 1, 3)["userEnteredFormat"]["numberFormat"]
    assert date_format == {"type": "DATE", "pattern": "yyyy-mm-dd"}


def test_header_is_bold_frozen_and_annotated(fake, make_sink):
    """The header row is bold and frozen; the tab description is the first header cell's note."""
    make_sink().publish(workbook())
    header = fake.cell("MRR", 0, 0)
    assert header["userEnteredFormat"]["textFormat"]["bold"] is True
    assert "Monthly recurring revenue" in header["note"]
    assert fake.sheet("MRR").props["gridProperties"]["frozenRowCount"] == 1
    assert fake.sheet("Issues").rows == 2  # an empty table keeps a row under its frozen header


def test_tabs_carry_fingerprints_in_developer_metadata(fake, make_sink):
    """Each tab we own carries one metadata entry with its name and a fingerprint."""
    make_sink().publish(workbook())
    (md,) = fake.metadata("MRR")
    assert md["metadataKey"] == META_KEY and md["visibility"] == "DOCUMENT"
    value = json.loads(md["metadataValue"])
    assert value["tab"] == "MRR" and len(value["fingerprint"]) == 32


def test_force_rewrites_every_tab(fake, make_sink):
    """--force rewrites every tab, in one batch, keeping sheet ids."""
    make_sink().publish(workbook())
    ids = fake.sheet_ids()
    result = make_sink().publish(workbook(), force=True)
    assert set(result.written) == {"Dashboard", "MRR", "Customers", "Issues"}
    assert fake.count("batchUpdate") == 2
    assert fake.sheet_ids() == ids
    assert "addSheet" not in _requests(fake.bodies()[-1])


def test_cells_edited_by_hand_are_restored_by_force(fake, make_sink):
    """A value typed over ours is left until the data changes or --force rewrites the tab."""
    make_sink().publish(workbook())
    fake.sheet("MRR").cells[(1, 1)] = {"userEnteredValue": {"stringValue": "oops"}}
    make_sink().publish(workbook())
    assert fake.values("MRR")[1][1] == "oops"
    make_sink().publish(workbook(), force=True)
    assert fake.values("MRR")[1][1] == 1000.0


# ---------------------------------------------------------------- charts


def test_dashboard_charts_are_created_once_then_updated_with_the_data(fake, make_sink):
    """Charts are added on the first run; a new month updates their ranges in the same batch as the data."""
    make_sink().publish(workbook())
    charts = fake.sheet("Dashboard").charts
    assert [c["spec"]["title"] for c in charts] == ["MRR over time", "MRR movements"]
    movements = charts[1]["spec"]["basicChart"]
    assert movements["chartType"] == "COLUMN" and movements["stackedType"] == "STACKED"
    assert [s["series"]["sourceRange"]["sources"][0]["startColumnIndex"] for s in movements["series"]] == [
        4,
        5,
    ]
    chart_ids = [c["chartId"] for c in charts]
    mrr_id = fake.sheet_ids()["MRR"]
    assert movements["domains"][0]["domain"]["sourceRange"]["sources"][0]["sheetId"] == mrr_id

    make_sink().publish([mrr_table(months=4), customers_table(), empty_table()])
    body = fake.bodies()[-1]
    assert _requests(body).count("updateChartSpec") == 2 and "addChart" not in _requests(body)
    assert "updateCells" in _requests(body)  # the data, in the same batch
    charts = fake.sheet("Dashboard").charts
    assert [c["chartId"] for c in charts] == chart_ids
    source = charts[0]["spec"]["basicChart"]["series"][0]["series"]["sourceRange"]["sources"][0]
    assert source["endRowIndex"] == 5


def test_chart_deleted_by_hand_is_added_again(fake, make_sink):
    """A chart of ours deleted by a person is drawn again at the next run."""
    make_sink().publish(workbook())
    fake.sheet("Dashboard").charts.pop(0)
    make_sink().publish(workbook())
    assert len(fake.sheet("Dashboard").charts) == 2
    assert "addChart" in _requests(fake.bodies()[-1])


def test_no_dashboard_without_charts(fake, make_sink):
    """Without chart declarations no Dashboard tab is made."""
    make_sink().publish([customers_table(), empty_table()])
    assert "Dashboard" not in fake.titles()


def test_chart_naming_an_unknown_column_is_refused(fake, make_sink):
    """A chart declaration naming a missing column fails the run with the tab and chart named."""
    from kpi.tables import Chart

    bad = table(
        "T",
        [("month", "month"), ("mrr", "money")],
        [[pd.Timestamp("2024-01-01"), 1.0]],
        charts=(Chart("Broken", "line", "month", ("arr",)),),
    )
    with pytest.raises(PublishError, match="'T': chart 'Broken' names columns the tab lacks: arr"):
        make_sink().publish([bad])
    assert fake.count("batchUpdate") == 0


# ---------------------------------------------------------------- limits and splitting


def test_body_over_the_limit_is_staged_then_switched_at_once(fake, make_sink):
    """With a small payload limit the content goes to hidden staging tabs over several bodies, each within the
    limit, and one last body switches every tab; the result equals a single-batch publish."""
    tables = [mrr_table(months=12), customers_table(), empty_table()]
    result = make_sink(max_request_bytes=9000).publish(tables)
    bodies = fake.bodies()
    assert len(bodies) >= 2
    assert all(len(json.dumps(b)) <= 9000 for b in bodies)  # as requests serialises it
    assert "copyPaste" in _requests(bodies[-1]) and "deleteSheet" in _requests(bodies[-1])
    assert all("copyPaste" not in _requests(b) for b in bodies[:-1])
    assert set(result.written) == {"Dashboard", "MRR", "Customers", "Issues"}
    assert not [t for t in fake.titles() if t.startswith("kpi-sync staging")]
    assert fake.values("MRR")[12][1] == 2100.0
    calls = len(fake.calls)
    make_sink(max_request_bytes=9000).publish(tables)  # a rerun has nothing to do
    assert [c.kind for c in fake.calls[calls:]] == ["token", "get"]


def test_a_tab_larger_than_the_limit_is_staged_in_chunks(fake, make_sink):
    """One tab too big for one body is staged in row chunks; the visible tab appears whole, with its fingerprint, in the last request."""
    rows = [[f"c{i}", "x" * 40] for i in range(200)]
    big = table("Big", [("customer_id", "text"), ("note", "text")], rows)
    make_sink(max_request_bytes=4000).publish([big])
    bodies = fake.bodies()
    assert len(bodies) >= 3
    assert [r[0] for r in fake.values("Big")[1:]] == [f"c{i}" for i in range(200)]
    assert json.loads(fake.metadata("Big")[0]["metadataValue"])["fingerprint"] != ""
    calls = len(fake.calls)
    make_sink(max_request_bytes=4000).publish([big])
    assert fake.count("batchUpdate") == len(bodies) and len(fake.calls) == calls + 2


def test_too_large_workbook_is_refused_before_sending(fake, make_sink):
    """When the file would pass 10 million cells (tabs we don't own count) nothing is sent."""
    fake.add_by_hand("Raw data", rows=400_000, cols=25)  # 10,000,000 cells already
    with pytest.raises(LimitError, match=r"10,000,000.*largest tab 'Customers'"):
        make_sink().publish(workbook())
    assert fake.count("batchUpdate") == 0


def test_too_many_columns_is_refused_before_any_request(fake, make_sink):
    """A table wider than 18,278 columns is refused, naming the tab, before any request."""
    wide = table("Wide", [(f"c{i}", "int") for i in range(18_279)], [])
    with pytest.raises(LimitError, match="tab 'Wide': 18,279 columns"):
        make_sink().publish([wide])
    assert fake.calls == []


def test_too_long_text_is_cut_to_what_every_sink_holds(fake, make_sink):
    """Text over 32,767 characters (an .xlsx cell) reaches Google Sheets cut to that length, never refused."""
    long = table("Notes", [("id", "text"), ("text", "text")], [["a", "ok"], ["b", "y" * 50_001]])
    make_sink().publish([long])
    cell = fake.values("Notes")[2][1]
    assert len(cell) == 32_767 and cell.endswith("\u2026")


def test_too_many_tabs_is_refused(fake, make_sink):
    """Adding tabs past 200 in the file fails, naming a tab, before any write."""
    for i in range(198):
        fake.add_by_hand(f"hand {i}", rows=1, cols=1)
    with pytest.raises(LimitError, match="over Google Sheets' limit of 200"):
        make_sink().publish(workbook())
    assert fake.count("batchUpdate") == 0


def test_max_rows_per_tab_caps_with_the_rest_summarised(fake, make_sink):
    """With max_rows_per_tab = N, a longer table shows N rows: its first N - 1, then one row summing the others
    (whole-number, number and money columns; the others empty); the header note and the run notes say so."""
    result = make_sink(max_rows_per_tab=3).publish([mrr_table(months=5)])
    assert fake.sheet("MRR").rows == 4
    assert "Capped: the first 2 of 5 rows, then one row summing the other 3" in fake.cell("MRR", 0, 0)["note"]
    assert any("'MRR'" in n and "Capped" in n for n in result.notes)
    values = fake.values("MRR")
    assert [row[1] for row in values[1:3]] == [1000.0, 1100.0]
    # months 2..4: mrr 1200+1300+1400, customers 12+13+14, logo churn (a percent) not summed, new and churned MRR
    assert values[3] == ["3 more rows not shown; this row sums them", 3900.0, 39, None, 900.0, -180.0]


def test_plan_reports_without_writing(fake, make_sink):
    """plan() reads once and says which tabs would be added, updated or left alone."""
    sink = make_sink()
    plan = sink.plan(workbook())
    assert plan.names("add") == ["Dashboard", "MRR", "Customers", "Issues"]
    assert fake.count("batchUpdate") == 0
    sink.publish(workbook())
    plan = make_sink().plan([mrr_table(bump=1), customers_table(), empty_table()])
    assert plan.names("update") == ["MRR"]
    assert plan.names("unchanged") == ["Dashboard", "Customers", "Issues"]
    assert len(plan.batches) == 1


def test_text_no_sheet_can_hold_is_replaced_headers_included(fake, make_sink):
    """A lone surrogate or a control character in a column name or a cell reaches Google Sheets as U+FFFD, never as an invalid string."""
    odd = table("Odd", [("name\u0007", "text"), ("n", "int")], [])
    # object dtype: pandas' pyarrow-backed strings cannot even hold a lone surrogate, but an object column can
    odd.frame["name\u0007"] = pd.Series(["\ud800x", "a\u001bb"], dtype=object)
    odd.frame["n"] = [1, 2]
    make_sink().publish([odd])
    values = fake.values("Odd")
    assert values[0][0] == "name\ufffd" and [r[0] for r in values[1:]] == ["\ufffdx", "a\ufffdb"]
