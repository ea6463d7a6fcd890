"""Contract portfolio tabs (metrics.md 8) on the hand-computed fixture in tests/fixtures/contracts, cell by cell.

The fixture (as_of 2024-06-30, UTC), monthly MRR per customer at each snapshot (ARR / 12):

            Oct  Nov  Dec  Jan  Feb  Mar  Apr  May  Jun     channel / partner      sector
    A      1000 1000 1000 1000 1200 1200 1200 1200 1200     direct                 Retail
    B         -  600  600  600  500  500    -    -    -     indirect IntegraOne    Retail
    C       300  300  300  300  300  300  300  700  700     indirect IntegraTwo    Health
    D         -    -    -  200  200    -    -    -  250     direct (Revendeur)     Health
    E         -    -    -    -    -    -    -    -  150     direct                 (none)
    F         -    -    -    -    -    -  300  300  300     indirect IntegraOne    Health
    total  1300 1900 1900 2100 2200 2000 1800 2200 2600

Movements: Feb A +200 expansion, B -100 contraction (Absences ends Jan 31); Mar D churns (200);
Apr B churns (500), F new; May C +400 expansion; Jun D reactivates (250), E new. Contracts starting
after as_of (K12, K14) and project P7 (deployed in July) are not counted; K15, K16 and P10 are bad lines.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from kpi import portfolio
from kpi.params import PortfolioParams
from kpi.tables import Context, RunInfo, build_table
from sync.run import build_context, load_dataset, resolve_as_of
from sync.settings import load_settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "contracts"
NAN = float("nan")
MONTHS = list(pd.date_range("2023-10-01", "2024-06-01", freq="MS"))


@pytest.fixture(scope="module")
def ctx() -> Context:
    settings = load_settings(FIXTURE / "config.toml", {})
    loaded = load_dataset(settings)
    return build_context(settings, loaded, resolve_as_of(settings, loaded, None), RunInfo())


def expect(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """The expected table; a month table gets its Period column, "complete" everywhere (as_of ends June)."""
    frame = pd.DataFrame(rows, columns=columns)
    if "Month" in frame.columns:
        frame.insert(1, "Period", "complete")
    return frame


def assert_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Every cell equal (money to the cent, rates to 1e-9), same columns in the same order."""
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected, check_dtype=False, check_exact=False, rtol=1e-9, atol=1e-9
    )


def test_portfolio_counts_direct_indirect_and_per_partner_each_month(ctx: Context) -> None:
    """Portfolio: customers with MRR > 0 per month by channel, a Revendeur customer counted direct, one column per integrator."""
    counts = [  # direct, indirect, total, IntegraOne, IntegraTwo
        (1, 1, 2, 0, 1), (1, 2, 3, 1, 1), (1, 2, 3, 1, 1), (2, 2, 4, 1, 1), (2, 2, 4, 1, 1),
        (1, 2, 3, 1, 1), (1, 2, 3, 1, 1), (1, 2, 3, 1, 1), (3, 2, 5, 1, 1),
    ]
    rows = [(m, d, i, t, i / t, p1, p2) for m, (d, i, t, p1, p2) in zip(MONTHS, counts, strict=True)]
    expected = expect(rows, ["Month", "Direct", "Indirect", "Total", "Indirect share",
                             "Via IntegraOne", "Via IntegraTwo"])
    assert_table(portfolio.portfolio_by_month(ctx), expected)


def test_portfolio_indirect_types_are_configurable(ctx: Context) -> None:
    """With Revendeur also indirect, D moves from Direct to Indirect and gets its partner column."""
    params = dataclasses.replace(
        ctx.params, portfolio=PortfolioParams(indirect_partner_types=("integrateur ", "Revendeur"))
    )
    other = dataclasses.replace(ctx, params=params)
    got = portfolio.portfolio_by_month(other)
    assert list(got.columns[-3:]) == ["Via IntegraOne", "Via IntegraTwo", "Via ResellCo"]
    assert got["Direct"].tolist() == [1, 1, 1, 1, 1, 1, 1, 1, 2]
    assert got["Indirect"].tolist() == [1, 2, 2, 3, 3, 2, 2, 2, 3]
    assert got["Via ResellCo"].tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 1]


def test_solutions_per_month(ctx: Context) -> None:
    """Solutions: active customers, customer x solution pairs, their ratio, distinct solutions and the customers with
    one solution only, per month."""
    values = [  # customers, pairs, distinct, customers with one solution
        (2, 2, 2, 2),  # Oct: A Payroll, C T&A
        (3, 4, 3, 2),  # Nov-Dec: B has Payroll + Absences
        (3, 4, 3, 2),
        (4, 5, 4, 3),  # Jan: + D Expenses
        (4, 5, 3, 3),  # Feb: A adds Expenses, B drops Absences: B, C, D single
        (3, 4, 3, 2),  # Mar: D gone: B, C single
        (3, 4, 3, 2),  # Apr: B gone, F Payroll: C, F single
        (3, 5, 3, 1),  # May: C adds Payroll: F single
        (5, 7, 4, 3),  # Jun: D (Expenses) back, E (Absences) new: D, E, F single
    ]
    rows = [(m, c, p, p / c, d, one, one / c) for m, (c, p, d, one) in zip(MONTHS, values, strict=True)]
    expected = expect(rows, ["Month", "Active customers", "Active solutions", "Solutions per customer",
                             "Solutions in use", "Customers with one solution", "One-solution share"])
    assert_table(portfolio.solutions_by_month(ctx), expected)


def test_solutions_by_product_at_as_of(ctx: Context) -> None:
    """Solutions by product: customers and MRR per solution at as_of, sorted by MRR; one-shot-only names are absent."""
    rows = [
        ("Payroll", 3, 1700.0, 20400.0, 1700 / 2600, 566.67),
        ("Expenses", 2, 450.0, 5400.0, 450 / 2600, 225.0),
        ("Time & Attendance", 1, 300.0, 3600.0, 300 / 2600, 300.0),
        ("Absences", 1, 150.0, 1800.0, 150 / 2600, 150.0),
    ]
    expected = expect(rows, ["Solution", "Customers", "MRR", "ARR", "Share of MRR", "Average MRR per customer"])
    assert_table(portfolio.solutions_by_product(ctx), expected)


def test_projects_per_month_and_type(ctx: Context) -> None:
    """Projects: one row per month and type (types from the data), deployments and average solutions; P7 after as_of is out."""
    deployed = {  # (month, type) -> (projects, solutions)
        ("2023-11", "Mid Market"): (1, 1),
        ("2023-12", "Enterprise"): (1, 1),
        ("2024-01", "Mid Market"): (2, 3),
        ("2024-02", "Outsourced"): (1, 1),
        ("2024-03", "Mid Market"): (1, 1),
        ("2024-05", "Mid Market"): (1, 2),
        ("2024-06", "Enterprise"): (1, 1),
    }
    rows = []
    for m in MONTHS:
        for kind in ("Enterprise", "Mid Market", "Outsourced"):
            n, s = deployed.get((m.strftime("%Y-%m"), kind), (0, 0))
            rows.append((m, kind, n, s, s / n if n else NAN))
    expected = expect(rows, ["Month", "Project type", "Projects deployed", "Solutions deployed",
                             "Average solutions per project"])
    assert_table(portfolio.projects_by_month(ctx), expected)


SECTOR_SENTENCE = (
    "Largest sector: Health, 48.1% of MRR (1,250.00 EUR, 3 customers). Fastest growing: not enough history (no "
    "sector had MRR at the end of 2023-06, 12 months before the window's end). Fastest churning: not enough history "
    "(no sector had a paying customer at the end of 2023-06, 12 months before the window's end, to measure churn on)."
)
SECTOR_COLUMNS = ["Sector", "Customers", "MRR", "Share of MRR", "Average MRR per customer", "Customers at the window's start",
                  "Churned customers", "Churned MRR", "Logo churn rate", "MRR at the window's start",
                  "MRR at the window's end", "MRR growth", "Summary"]


def test_sectors(ctx: Context) -> None:
    """Sectors: customers and MRR at as_of, 12-month churn and growth, and the sentence naming the largest, the fastest
    growing and the fastest-churning sector (neither: nothing was paid at the end of 2023-06, where the window starts,
    so there is no base to measure churn or growth on; B's and D's churns inside the window are not churn of it)."""
    rows = [
        ("Health", 3, 1250.0, 1250 / 2600, 416.67, 0, 0, 0.0, NAN, 0.0, 1250.0, NAN, SECTOR_SENTENCE),
        ("Retail", 1, 1200.0, 1200 / 2600, 1200.0, 0, 0, 0.0, NAN, 0.0, 1200.0, NAN, None),
        ("Unknown", 1, 150.0, 150 / 2600, 150.0, 0, 0, 0.0, NAN, 0.0, 150.0, NAN, None),
    ]
    expected = expect(rows, SECTOR_COLUMNS)
    got = portfolio.sectors(ctx)
    assert got["Summary"].iloc[0] == SECTOR_SENTENCE
    assert got["Summary"].iloc[1:].isna().all()
    assert_table(got.drop(columns="Summary"), expected.drop(columns="Summary"))


def test_sector_churn_is_measured_on_the_customers_at_the_window_start(ctx: Context) -> None:
    """Over a 6-month window (to 2024-06, from the end of 2023-12), churn is measured on the customers paying at its
    start (metrics.md 4): Retail had A and B, B is gone (600 at the start), 1 of 2; Health had C only, still paying:
    D's churn in March is not churn of that base (D started in January), nor is F, new in April. Counting churn
    events over everyone seen in the window would give Health 1 of 3 and name it beside Retail."""
    params = dataclasses.replace(ctx.params, portfolio=dataclasses.replace(ctx.params.portfolio,
                                                                           sector_churn_window_months=6))
    got = portfolio.sectors(dataclasses.replace(ctx, params=params))
    rows = [
        ("Health", 3, 1250.0, 1250 / 2600, 416.67, 1, 0, 0.0, 0.0, 300.0, 1250.0, 1250 / 300 - 1),
        ("Retail", 1, 1200.0, 1200 / 2600, 1200.0, 2, 1, 600.0, 1 / 2, 1600.0, 1200.0, 1200 / 1600 - 1),
        ("Unknown", 1, 150.0, 150 / 2600, 150.0, 0, 0, 0.0, NAN, 0.0, 150.0, NAN),
    ]
    assert_table(got.drop(columns="Summary"), expect(rows, SECTOR_COLUMNS[:-1]))
    assert got["Summary"].iloc[0].endswith(
        "Fastest churning: Retail, 1 of its 2 customers at the end of 2023-12 lost in the 6 months to 2024-06 (50.0%), "
        "600.00 EUR of MRR.")


def test_sectors_leave_the_partial_month_out() -> None:
    """With as_of on 2024-04-15 (April partial) and a 3-month window, the window is the 3 months to 2024-03, from the
    end of 2023-12: B's April churn is not counted (Retail keeps both A and B, its customers at the start), and the
    growth runs from the end of 2023-12 to the end of 2024-03, while Customers and MRR are read at as_of.

    At as_of: A 1200 (Retail), C 300 and F 300 (Health; F started Apr 1); B's Payroll ended Mar 31. At the end of
    December: A 1000 and B 600 (Retail), C 300 (Health). At the end of March: A 1200 and B 500 (Retail), C 300
    (Health); D (Health, since January) churned in March (200): not a customer at the window's start.
    """
    settings = load_settings(FIXTURE / "config.toml", {})
    loaded = load_dataset(settings)
    partial = build_context(settings, loaded, resolve_as_of(settings, loaded, "2024-04-15"), RunInfo())
    assert partial.partial
    partial = dataclasses.replace(partial, params=dataclasses.replace(
        partial.params, portfolio=dataclasses.replace(partial.params.portfolio, sector_churn_window_months=3)))
    rows = [
        ("Retail", 1, 1200.0, 1200 / 1800, 1200.0, 2, 0, 0.0, 0.0, 1600.0, 1700.0, 1700 / 1600 - 1),
        ("Health", 2, 600.0, 600 / 1800, 300.0, 1, 0, 0.0, 0.0, 300.0, 300.0, 0.0),
        ("Unknown", 0, 0.0, 0.0, NAN, 0, 0, 0.0, NAN, 0.0, 0.0, NAN),
    ]
    got = portfolio.sectors(partial)
    assert_table(got.drop(columns="Summary"), expect(rows, SECTOR_COLUMNS[:-1]))
    assert got["Summary"].iloc[0].endswith(
        "No sector lost a customer it had at the end of 2023-12 in the 3 months to 2024-03.")


def test_sector_sentence_names_the_fastest_growing_sector() -> None:
    """Fastest growing = the highest MRR growth over the window among sectors that had MRR at its start."""
    table = pd.DataFrame({
        "Sector": ["Retail", "Health", "Unknown", "Banking"], "Customers": [5, 3, 2, 1],
        "MRR": [1000.0, 600.0, 500.0, 50.0], "Share of MRR": [1000 / 2150, 600 / 2150, 500 / 2150, 50 / 2150],
        "Customers at the window's start": [5, 3, 2, 1], "Churned customers": [0, 0, 0, 0],
        "Churned MRR": [0.0, 0.0, 0.0, 0.0], "Logo churn rate": [0.0, 0.0, 0.0, 0.0],
        "MRR at the window's start": [800.0, 400.0, 100.0, 0.0], "MRR at the window's end": [1000.0, 600.0, 500.0, 50.0],
        "MRR growth": [0.25, 0.5, 4.0, NAN],
    })
    assert portfolio.sector_sentence(table, 12, "EUR", "2024-11", "2023-11") == (
        "Largest sector: Retail, 46.5% of MRR (1,000.00 EUR, 5 customers). Fastest growing: Health, MRR up 50.0% in "
        "the 12 months to 2024-11 (from 400.00 EUR at the end of 2023-11 to 600.00 EUR). "
        "No sector lost a customer it had at the end of 2023-11 in the 12 months to 2024-11."
    )


def test_sector_sentence_without_churn_and_without_unknown() -> None:
    """The sentence says when no sector lost a customer, and never names the Unknown bucket."""
    table = pd.DataFrame({
        "Sector": ["Unknown", "Retail"], "Customers": [9, 1], "MRR": [900.0, 100.0], "Share of MRR": [0.9, 0.1],
        "Customers at the window's start": [9, 1], "Churned customers": [3, 0], "Churned MRR": [50.0, 0.0],
        "Logo churn rate": [1 / 3, 0.0],
    })
    assert portfolio.sector_sentence(table, 12, "EUR") == (
        "Largest sector: Retail, 10.0% of MRR (100.00 EUR, 1 customer). "
        "No sector lost a customer it had at the window's start in the last 12 months."
    )


def test_non_recurring_revenue_per_month(ctx: Context) -> None:
    """Non-recurring revenue: one-shots by the month of their date, zero months included, K14 after as_of out."""
    amounts = {"2023-10": (1500.0, 1, 1), "2024-03": (800.0, 1, 1)}
    rows = [(m, *amounts.get(m.strftime("%Y-%m"), (0.0, 0, 0))) for m in MONTHS]
    expected = expect(rows, ["Month", "Non-recurring revenue", "One-shot items", "Customers"])
    assert_table(portfolio.non_recurring_by_month(ctx), expected)


def test_solution_mrr_adds_up_to_customer_mrr(ctx: Context) -> None:
    """Per-solution MRR at each snapshot sums to the customer MRR of the MRR tab (same schedule, same instants)."""
    months = portfolio.mrr_months(ctx)
    by_solution = portfolio.solution_months(ctx, months).groupby("month")["mrr"].sum()
    by_month = ctx.mrr_by_month.set_index("month")["mrr"]
    assert by_solution.round(2).tolist() == by_month.round(2).tolist()
    assert by_month.tolist() == [1300.0, 1900.0, 1900.0, 2100.0, 2200.0, 2000.0, 1800.0, 2200.0, 2600.0]


def test_tab_declarations_match_builders(ctx: Context) -> None:
    """Every contract tab builds with exactly its declared columns (plus partner columns on Portfolio)."""
    for tab in portfolio.TABS:
        assert tab.datasets == frozenset({"contracts"})
        table = build_table(tab, ctx)
        assert len(table.frame) > 0, tab.name


def test_projects_tab_is_skipped_without_projects(ctx: Context) -> None:
    """Without a projects file the Projects tab is skipped with a reason; the others still apply."""
    other = dataclasses.replace(ctx, projects=None)
    reasons = {t.name: other.skip_reason(t) for t in portfolio.TABS}
    assert reasons["Projects"] == "no projects data"
    assert {n for n, r in reasons.items() if r is None} == {t.name for t in portfolio.TABS} - {"Projects"}


def test_snapshot_instants_take_month_ends_in_the_timezone() -> None:
    """A month's snapshot is its last second in the configured timezone, and as_of for the month of as_of."""
    months = pd.DatetimeIndex(["2024-02-01", "2024-03-01"])
    as_of = pd.Timestamp("2024-03-10 12:00", tz="UTC")
    got = portfolio.snapshot_instants(months, as_of, "Europe/Paris")
    assert list(got) == [pd.Timestamp("2024-02-29 22:59:59", tz="UTC"), as_of]


def test_shipped_sample_publishes_every_contract_tab() -> None:
    """A dry run on config/contracts.toml builds every contract tab (row counts pinned to the shipped sample)."""
    from sync.run import run_once

    root = Path(__file__).resolve().parents[2]
    outcome = run_once(load_settings(root / "config" / "contracts.toml", {}), sink_uri="csv:unused", dry_run=True)
    rows = {t.name: len(t.frame) for t in outcome.tables}
    assert {name: rows[name] for name in (t.name for t in portfolio.TABS)} == {
        "Portfolio": 48, "Solutions": 48, "Solutions by product": 12, "Projects": 144,
        "Sectors": 9, "Non-recurring revenue": 48,
    }
    assert rows["Data quality"] == 0
    skipped = dict(outcome.skipped)
    assert not any(name in skipped for name in rows)
