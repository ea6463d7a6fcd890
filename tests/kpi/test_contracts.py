"""Contracts -> revenue schedule (metrics.md 2a): ARR / 12 from the start day to the day after the end day.

The MRR identity and the month invariants of the payment log hold for contract data too, and the
portfolio tabs agree with the MRR table (hypothesis properties).
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi import portfolio
from kpi.contracts import schedule_from_contracts
from kpi.mrr import check_identity, customer_months, mrr_by_month
from kpi.params import Params
from kpi.tables import Context

D = pd.Timestamp


def contracts_frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (contract_id, customer_id, solution, kind, amount, start_date, end_date or None)."""
    frame = pd.DataFrame(rows, columns=["contract_id", "customer_id", "solution", "kind", "amount", "start_date",
                                        "end_date"])
    return frame.assign(
        amount=frame["amount"].astype("float64"),
        start_date=pd.to_datetime(frame["start_date"]).astype("datetime64[ns]"),
        end_date=pd.to_datetime(frame["end_date"]).astype("datetime64[ns]"),
    )


def test_subscription_is_one_piece_at_arr_over_twelve_ending_the_day_after_its_end() -> None:
    """A subscription runs from the start of its first day to the start of the day after its last (end exclusive)."""
    schedule, _ = schedule_from_contracts(contracts_frame([
        ("K1", "a", "Payroll", "subscription", 12000, "2024-01-15", "2024-03-31"),
        ("K2", "a", "Expenses", "subscription", 1000, "2024-02-01", None),
    ]))
    assert schedule[["customer_id", "start", "end", "mrr", "source", "ref"]].values.tolist() == [
        ["a", D("2024-01-15", tz="UTC"), D("2024-04-01", tz="UTC"), 1000.0, "contract", "K1"],
        ["a", D("2024-02-01", tz="UTC"), pd.NaT, 1000 / 12, "contract", "K2"],
    ]


def test_days_are_taken_in_the_configured_timezone() -> None:
    """In Europe/Paris a contract's day starts at local midnight: 23:00 UTC the day before in winter, 22:00 in summer."""
    schedule, _ = schedule_from_contracts(
        contracts_frame([("K1", "a", "Payroll", "subscription", 1200, "2024-01-01", "2024-06-30")]), "Europe/Paris"
    )
    assert schedule["start"].iloc[0] == D("2023-12-31 23:00", tz="UTC")
    assert schedule["end"].iloc[0] == D("2024-06-30 22:00", tz="UTC")


def test_one_shots_are_never_mrr_and_are_listed_by_month() -> None:
    """One-shot contracts are left out of the schedule and listed with their month, day, customer, solution and amount."""
    schedule, one_shots = schedule_from_contracts(contracts_frame([
        ("K1", "a", "Payroll", "one-shot", 1500, "2024-03-20", None),
        ("K2", "b", "Payroll", "subscription", 0, "2024-03-01", None),
    ]))
    assert schedule.empty  # a zero ARR makes no piece either
    assert one_shots.values.tolist() == [[D("2024-03-01"), D("2024-03-20"), "a", "Payroll", 1500.0, "K1"]]


def test_a_one_day_contract_counts_at_the_snapshot_of_its_day_only() -> None:
    """A contract that starts and ends on the last day of a month counts in that month's MRR and is churned the next."""
    schedule, _ = schedule_from_contracts(contracts_frame([
        ("K1", "a", "Payroll", "subscription", 1200, "2024-01-31", "2024-01-31"),
    ]))
    mm = mrr_by_month(customer_months(schedule, D("2024-02-29 23:59:59", tz="UTC"), "UTC"))
    assert mm[["mrr", "churned_mrr"]].values.tolist() == [[100.0, 0.0], [0.0, 100.0]]


# ---------------------------------------------------------------- properties

BASE = D("2022-01-01")
TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo")

contract_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.sampled_from(["Payroll", "Expenses", "Absences"]),
        st.sampled_from(["subscription", "subscription", "subscription", "one-shot"]),
        st.integers(min_value=0, max_value=60_000_00).map(lambda cents: cents / 100),
        st.integers(min_value=0, max_value=900),
        st.one_of(st.none(), st.integers(min_value=0, max_value=700)),
    ),
    min_size=1,
    max_size=25,
)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return contracts_frame([
        (f"K{i}", cust, sol, kind, amount, BASE + pd.Timedelta(days=start),
         None if length is None else BASE + pd.Timedelta(days=start + length))
        for i, (cust, sol, kind, amount, start, length) in enumerate(rows)
    ])


def _context(contracts: pd.DataFrame, as_of: pd.Timestamp, timezone: str) -> Context:
    """What sync/run.py build_context does for contract data: schedule, pieces started by as_of."""
    schedule, one_shots = schedule_from_contracts(contracts, timezone)
    schedule = schedule.loc[schedule["start"] <= as_of].reset_index(drop=True)
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"],
                              "sector": ["Retail", "Retail", "Health", None, "Health"],
                              "partner_type": [None, "Integrateur", "Integrateur", "Revendeur", None],
                              "partner_name": [None, "P1", "P2", "R", None]})
    return Context(dataset="contracts", as_of=as_of, params=Params(timezone=timezone), schedule=schedule,
                   customers=customers, contracts=contracts, one_shots=one_shots)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=contract_rows, as_of_day=st.integers(min_value=0, max_value=1000), timezone=st.sampled_from(TIMEZONES))
def test_contract_mrr_identity_months_and_snapshots(rows: list[tuple], as_of_day: int, timezone: str) -> None:
    """For any contracts: the identity holds to the cent, one row per month with no gap and none after as_of, and
    each month's MRR is ARR / 12 of the subscriptions running on its last day (on the as_of day for the last month)."""
    contracts = _frame(rows)
    day = BASE + pd.Timedelta(days=as_of_day)
    as_of = (day + pd.Timedelta(days=1)).tz_localize(timezone).tz_convert("UTC") - pd.Timedelta(seconds=1)
    ctx = _context(contracts, as_of, timezone)
    mm = ctx.mrr_by_month
    assert check_identity(mm) == []
    months = pd.DatetimeIndex(mm["month"])
    assert months.is_unique
    if len(months):
        assert list(months) == list(pd.date_range(months[0], months[-1], freq="MS"))
        assert months[-1] == day.to_period("M").to_timestamp()
    subs = contracts.loc[(contracts["kind"] == "subscription") & (contracts["amount"] > 0)]
    for month, mrr in zip(months, mm["mrr"], strict=True):
        last_day = min(month + pd.offsets.MonthEnd(0), day)
        running = subs.loc[(subs["start_date"] <= last_day)
                           & (subs["end_date"].isna() | (subs["end_date"] >= last_day))]
        expected = (running.groupby("customer_id")["amount"].sum() / 12).round(2).sum()
        assert abs(mrr - expected) <= 0.005 * max(1, len(running)) + 1e-9, (month, mrr, expected)  # float noise


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=contract_rows, as_of_day=st.integers(min_value=0, max_value=1000))
def test_portfolio_tabs_agree_with_the_mrr_table(rows: list[tuple], as_of_day: int) -> None:
    """Portfolio totals, Solutions' active customers, solution MRR and MRR by quarter all match the MRR table."""
    contracts = _frame(rows)
    as_of = (BASE + pd.Timedelta(days=as_of_day + 1)).tz_localize("UTC") - pd.Timedelta(seconds=1)
    ctx = _context(contracts, as_of, "UTC")
    mm = ctx.mrr_by_month
    folio = portfolio.portfolio_by_month(ctx)
    assert folio["Total"].tolist() == mm["customers"].tolist()
    assert (folio["Direct"] + folio["Indirect"]).tolist() == folio["Total"].tolist()
    via = folio.filter(like="Via ")
    assert via.sum(axis=1).tolist() == folio["Indirect"].tolist()
    sol = portfolio.solutions_by_month(ctx)
    assert sol["Active customers"].tolist() == mm["customers"].tolist()
    assert (sol["Active solutions"] >= sol["Active customers"]).all()
    per_solution = portfolio.solution_months(ctx, portfolio.mrr_months(ctx)).groupby("month")["mrr"].sum()
    by_month = mm.set_index("month")["mrr"]
    assert (per_solution.reindex(by_month.index, fill_value=0.0) - by_month).abs().max() < 0.05 if len(mm) else True
    quarters = ctx.mrr_by_quarter
    assert quarters["churned_customers"].sum() == mm["churned_customers"].sum()
    assert abs(quarters["churned_mrr"].sum() - mm["churned_mrr"].sum()) < 0.01 * max(1, len(quarters))
    if len(mm):
        assert quarters["mrr"].iloc[-1] == round(mm["mrr"].iloc[-1], 2)
        assert (quarters["mrr_start"].iloc[1:].to_numpy() == quarters["mrr"].iloc[:-1].to_numpy()).all()
    sectors = portfolio.sectors(ctx)
    assert sectors["Customers"].sum() == (mm["customers"].iloc[-1] if len(mm) else 0)
    # each customer's MRR to the cent, as the MRR tab counts it: the sectors add up to its total to the cent
    assert round(float(sectors["MRR"].sum()), 2) == (round(float(mm["mrr"].iloc[-1]), 2) if len(mm) else 0.0)
