"""The Movements tab: one row per customer and month where its MRR changed, adding up to the MRR tab to the cent."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.mrr import (
    MOVEMENT_TABLE_COLUMNS,
    check_movements,
    customer_months,
    movement_table,
    mrr_by_month,
    ref_months,
)
from kpi.mrr_tabs import TABS
from kpi.params import Params
from kpi.tables import Context, build_table
from sync.errors import InvariantError
from sync.run import check_invariants
from tests.kpi.datasets import dataset_context

AS_OF = pd.Timestamp("2024-05-20 12:00", tz="UTC")


def piece(customer: str, start: str, end: str | None, mrr: float, ref: str) -> dict:
    return {"customer_id": customer, "start": pd.Timestamp(start, tz="UTC"),
            "end": pd.Timestamp(end, tz="UTC") if end else pd.NaT, "mrr": mrr, "source": "x", "ref": ref}


def fixture_schedule() -> pd.DataFrame:
    """a: series-1 at 30 from January, series-2 at 20 from February to mid-March; b: term-1 January only, back in May.

    Month ends: a 30, 50, 30, 30, 30 (new, expansion, contraction); b 40, 0, 0, 0, 25 (new, churn, reactivation).
    """
    rows = [
        piece("a", "2024-01-10", None, 30.0, "a:series-1"),
        piece("a", "2024-02-05", "2024-03-15", 20.0, "a:series-2"),
        piece("b", "2024-01-03", "2024-02-03", 40.0, "b:term-1"),
        piece("b", "2024-05-02", None, 25.0, "b:series-1"),
    ]
    return pd.DataFrame(rows).assign(end=lambda d: pd.to_datetime(d["end"], utc=True))


def test_movement_table_by_hand_with_the_refs_behind_each_movement():
    """Each movement names the refs that moved its way: the series that ended, the term that did not renew."""
    schedule = fixture_schedule()
    cm = customer_months(schedule, AS_OF, "UTC")
    table = movement_table(cm, ref_months(schedule, AS_OF, "UTC"))
    assert tuple(table.columns) == MOVEMENT_TABLE_COLUMNS
    got = [(f"{r.month:%m}", r.customer_id, r.movement, r.mrr_prev, r.mrr, r.delta, r.ref)
           for r in table.itertuples()]
    assert got == [  # newest month first, then the largest change
        ("05", "b", "reactivation", 0.0, 25.0, 25.0, "b:series-1"),
        ("03", "a", "contraction", 50.0, 30.0, -20.0, "a:series-2"),
        ("02", "b", "churn", 40.0, 0.0, -40.0, "b:term-1"),
        ("02", "a", "expansion", 30.0, 50.0, 20.0, "a:series-2"),
        ("01", "b", "new", 0.0, 40.0, 40.0, "b:term-1"),
        ("01", "a", "new", 0.0, 30.0, 30.0, "a:series-1"),
    ]
    assert check_movements(table, mrr_by_month(cm)) == []


def test_a_churn_names_every_ref_the_customer_had():
    """A customer with two series that both stop: its churn row names both, sorted and joined by a comma."""
    schedule = pd.DataFrame([piece("c", "2024-01-10", "2024-03-10", 10.0, "c:series-2"),
                             piece("c", "2024-01-12", "2024-03-12", 5.0, "c:series-1")]).assign(
        end=lambda d: pd.to_datetime(d["end"], utc=True))
    table = movement_table(customer_months(schedule, AS_OF, "UTC"), ref_months(schedule, AS_OF, "UTC"))
    churn = table.loc[table["movement"] == "churn"].iloc[0]
    assert (f"{churn['month']:%Y-%m}", churn["mrr_prev"], churn["ref"]) == ("2024-03", 15.0, "c:series-1, c:series-2")


def test_check_movements_names_the_month_that_does_not_add_up():
    """A Movements table missing a row, or with a change that is not after - before, is reported in sentences."""
    schedule = fixture_schedule()
    cm = customer_months(schedule, AS_OF, "UTC")
    table, mm = movement_table(cm), mrr_by_month(cm)
    problems = check_movements(table.loc[table["movement"] != "churn"], mm)
    assert problems == ["2024-02: Movements churn rows sum to 0.00, the MRR tab's churned_mrr is 40.00",
                        "2024-02: 0 Movements churn rows, the MRR tab's churned_customers is 1"]
    off = table.assign(delta=table["delta"].where(table["movement"] != "new", table["delta"] + 0.01))
    assert check_movements(off, mm)[0] == "2 Movements rows whose change is not MRR after - MRR before"


def test_a_movements_table_that_does_not_add_up_stops_the_run():
    """check_invariants refuses to publish when the Movements rows disagree with the MRR tab."""
    ctx = Context(dataset="contracts", as_of=AS_OF, params=Params(), schedule=fixture_schedule(),
                  customers=pd.DataFrame({"customer_id": ["a", "b"]}))
    check_invariants(ctx)  # as computed, everything adds up
    ctx.__dict__["movements"] = ctx.movements.iloc[1:]  # one movement lost on the way to the tab
    with pytest.raises(InvariantError, match="Movements reactivation rows sum to 0.00"):
        check_invariants(ctx)


@pytest.mark.parametrize("name", ["shared", "contracts sample", "generated"])
def test_movements_tab_sums_equal_the_mrr_tab_to_the_cent(name: str) -> None:
    """On the shared log, the contracts sample and a generated log, the published Movements and MRR tabs agree."""
    ctx = dataset_context(name)
    tabs = {t.name: t for t in TABS}
    moves = build_table(tabs["Movements"], ctx).frame
    mrr = build_table(tabs["MRR"], ctx).frame.set_index("Month")
    assert not moves.duplicated(["Month", "Customer"]).any()
    cents = (moves["Change"] * 100).round().astype("int64")
    sums = cents.groupby([moves["Month"], moves["Category"]]).sum().unstack(fill_value=0)
    counts = moves.groupby(["Month", "Category"]).size().unstack(fill_value=0)
    sums, counts = sums.reindex(mrr.index, fill_value=0), counts.reindex(mrr.index, fill_value=0)
    for category, column, sign in (("new", "New MRR", 1), ("expansion", "Expansion MRR", 1),
                                   ("reactivation", "Reactivation MRR", 1), ("contraction", "Contraction MRR", -1),
                                   ("churn", "Churned MRR", -1)):
        got = sums.get(category, 0) * sign
        assert ((mrr[column] * 100).round().astype("int64") == got).all(), category
    for category, column in (("new", "New customers"), ("reactivation", "Reactivated customers"),
                             ("churn", "Churned customers")):
        assert (mrr[column] == counts.get(category, 0)).all(), category
    assert ((cents.groupby(moves["Month"]).sum().reindex(mrr.index, fill_value=0))
            == (mrr["Net new MRR"] * 100).round().astype("int64")).all()
    assert (moves["Ref"] != "").mean() > 0.95  # nearly every movement is traced to a Billing row or contract


def test_no_revenue_at_all_builds_every_tab_and_passes_the_invariants():
    """A schedule with no pieces: the invariants hold and every tab builds, empty, with its declared columns."""
    from kpi.schedule import empty_schedule
    from kpi.tables import all_tabs

    ctx = Context(dataset="contracts", as_of=AS_OF, params=Params(), schedule=empty_schedule(),
                  customers=pd.DataFrame({"customer_id": ["a"]}))
    check_invariants(ctx)
    for tab in all_tabs():
        if ctx.skip_reason(tab) is None and tab.name not in ("Summary", "Customers", "About"):
            assert build_table(tab, ctx).frame.empty, tab.name


def test_at_scale_the_publish_cap_cuts_movements_like_the_other_per_customer_tabs():
    """[publish] max_rows_per_tab cuts Movements as it cuts Customers and Billing, and the rows kept are the newest."""
    from sync.sinks.gsheet_plan import render_table

    ctx = dataset_context("generated")
    table = build_table(next(t for t in TABS if t.name == "Movements"), ctx)
    rendered = render_table(table, max_rows=50)
    assert len(rendered.rows) == 51  # the header, the first 49 rows and one row summing the others
    assert any("Capped: the first 49 of" in note for note in rendered.notes)
    kept, cut = table.frame.iloc[:49], table.frame.iloc[49:]
    assert kept["Month"].min() >= cut["Month"].max()  # newest months first: the cut drops the oldest
