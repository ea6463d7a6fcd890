"""Past Google's 10 million cells (lowered here to a few hundred, in the plan and in the fake alike), the job says so
before sending anything and publishes the longest tabs capped, the rest of each summed in one row; never a request
the fake (which checks the limit after every sub-request, as Google does) refuses."""

from __future__ import annotations

import logging

import pytest

from sync.errors import ConfigError, LimitError
from sync.sinks import gsheet_plan
from tests.fakes import sheets as fake_sheets
from tests.sync.sinks.gsheet_tables import mrr_table, table

SHEET1 = 1000 * 26  # the grid of a new spreadsheet's first tab (the fake's, like Google's)
LIMIT = SHEET1 + 400


@pytest.fixture(autouse=True)
def lowered_limit(monkeypatch):
    monkeypatch.setattr(gsheet_plan, "MAX_CELLS", LIMIT)
    monkeypatch.setattr(fake_sheets, "MAX_CELLS", LIMIT)


def customers(n: int) -> object:
    return table("Customers", [("customer_id", "text"), ("mrr", "money"), ("seats", "int")],
                 [[f"c{i}", 10.0 + i, 1 + i % 3] for i in range(n)])


def tables(n: int = 200) -> list:
    return [mrr_table(months=6), customers(n)]


def test_over_the_limit_the_longest_tab_is_capped_and_sums_the_rest(fake, make_sink, caplog):
    with caplog.at_level(logging.WARNING, logger="sync.sinks.gsheet"):
        result = make_sink(dashboard_tab="").publish(tables())
    warned = [r.getMessage() for r in caplog.records if "capped at" in r.getMessage()]
    assert warned and "'Customers'" in warned[0] and "'MRR'" not in warned[0]
    assert all(c.status == 200 for c in fake.calls if c.kind == "batchUpdate")
    assert sum(fake.sheet(t).rows * fake.sheet(t).cols for t in ("MRR", "Customers", "Sheet1")) <= LIMIT
    values = fake.values("Customers")
    shown = len(values) - 2  # header and summary row
    assert shown >= 50 and [r[0] for r in values[1:-1]] == [f"c{i}" for i in range(shown)]
    rest = range(shown, 200)
    assert values[-1] == [f"{len(rest)} more rows not shown; this row sums them",
                          pytest.approx(sum(10.0 + i for i in rest)), sum(1 + i % 3 for i in rest)]
    assert len(fake.values("MRR")) == 7  # the short tab is whole
    assert any("Capped" in n and "10,000,000" not in n and f"{LIMIT:,} cells" in n for n in result.notes)
    # The same data again: the same cap, the same fingerprints, nothing sent.
    before = fake.count("batchUpdate")
    make_sink(dashboard_tab="").publish(tables())
    assert fake.count("batchUpdate") == before


def test_a_staged_publish_is_capped_so_the_staging_copy_fits_too(fake, make_sink):
    """In several requests each changed tab is there twice while staging: the cap leaves room for it."""
    make_sink(dashboard_tab="", max_request_bytes=3000).publish(tables())
    assert fake.count("batchUpdate") > 2
    assert all(c.status == 200 for c in fake.calls if c.kind == "batchUpdate")
    assert not [t for t in fake.titles() if t.startswith("kpi-sync staging")]
    values = fake.values("Customers")
    assert values[-1][0].endswith("more rows not shown; this row sums them")
    assert SHEET1 + 2 * (len(values) * 3 + 7 * 6) <= LIMIT  # room for the staging copy of both tabs


def test_a_capped_tab_rewritten_in_a_staged_publish_is_never_refused(fake, make_sink):
    """While staging, the visible grid keeps its old size until the switch: the cap counts it so."""
    make_sink(dashboard_tab="", max_rows_per_tab=60).publish([customers(200)])  # 61 x 3 = 183 cells
    make_sink(dashboard_tab="", max_request_bytes=2500).publish(
        [table("Customers", [("customer_id", "text"), ("mrr", "money"), ("seats", "int")],
               [[f"d{i}", 1.0, 1] for i in range(200)])])
    assert all(c.status == 200 for c in fake.calls if c.kind == "batchUpdate")
    assert fake.values("Customers")[1][0] == "d0"


def test_over_limit_fail_refuses_before_sending(fake, make_sink):
    with pytest.raises(LimitError, match=f"over Google Sheets' limit of {LIMIT:,}"):
        make_sink(dashboard_tab="", over_limit="fail").publish(tables())
    assert fake.count("batchUpdate") == 0


def test_when_even_one_row_per_tab_does_not_fit_nothing_is_sent(fake, make_sink):
    fake.add_by_hand("Raw data", rows=20, cols=20)  # the 400 cells left
    with pytest.raises(LimitError, match="even one row per tab does not fit"):
        make_sink(dashboard_tab="").publish(tables())
    assert fake.count("batchUpdate") == 0


def test_over_limit_is_checked(make_sink):
    with pytest.raises(ConfigError, match="over_limit"):
        make_sink(over_limit="truncate")


def test_fit_rows_is_the_largest_cap_that_fits():
    book = gsheet_plan.Workbook("x", "t", ())
    shapes = [("A", 100_000, 2), ("B", 10, 3)]
    cap = gsheet_plan.fit_rows(shapes, book, staged=False)
    assert cap is not None
    total = sum(gsheet_plan.grid_cells(r, c, cap) for _, r, c in shapes)
    assert total <= LIMIT < sum(gsheet_plan.grid_cells(r, c, cap + 1) for _, r, c in shapes)
    staged = gsheet_plan.fit_rows(shapes, book, staged=True)
    assert staged is not None and staged < cap
    assert gsheet_plan.fit_rows(shapes, book, staged=False, max_rows=20) == 20
    assert gsheet_plan.fit_rows([("A", 10**6, 50_000)], book, staged=False) is None
