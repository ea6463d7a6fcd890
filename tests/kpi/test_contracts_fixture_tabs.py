"""The shared tabs (MRR, MRR by quarter, Customers, cohorts, Unit economics, Summary) on the contracts fixture, cell by cell.

Every expected value below is computed by hand from tests/fixtures/contracts (as_of 2024-06-30 23:59:59
UTC, default parameters: spend 4000 EUR a month, gross margin 100%, 3-month churn window), following
../shared/docs/metrics.md 3-6. Monthly MRR per customer at each month-end snapshot (ARR / 12):

            Oct  Nov  Dec  Jan  Feb  Mar  Apr  May  Jun
    A      1000 1000 1000 1000 1200 1200 1200 1200 1200   K1 Payroll 12000; K2 Expenses 2400 from Feb
    B         -  600  600  600  500  500    0    0    0   K4 Payroll 6000 + K5 Absences 1200 (ends Jan 31), K4 ends Mar 31
    C       300  300  300  300  300  300  300  700  700   K6 T&A 3600 (from Oct 10); K7 Payroll 4800 from May
    D         -    -    -  200  200    0    0    0  250   K8 Expenses 2400 Jan-Feb; K9 Expenses 3000 from Jun
    E         -    -    -    -    -    -    -    -  150   K11 Absences 1800 from Jun 20
    F         -    -    -    -    -    -  300  300  300   K13 Payroll 3600 from Apr
    total  1300 1900 1900 2100 2200 2000 1800 2200 2600

K12 (starts July) is after as_of; K15 (end before start) and K16 (unknown customer) are rejected;
one-shots (K3, K10, K14) are never MRR.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from kpi import cohorts_tabs, economics, mrr, mrr_tabs, summary
from kpi.tables import Context, Figure, RunInfo, Table, build_table
from sync.run import build_context, load_dataset, resolve_as_of
from sync.settings import load_settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "contracts"
N = float("nan")  # an empty cell
M = list(pd.date_range("2023-10-01", "2024-06-01", freq="MS"))  # Oct 2023 .. Jun 2024
OCT, NOV, DEC, JAN, FEB, MAR, APR, MAY, JUN = M
SHARED_TABS = [*mrr_tabs.TABS, *cohorts_tabs.TABS, *economics.TABS, *summary.TABS]


@pytest.fixture(scope="module")
def ctx() -> Context:
    settings = load_settings(FIXTURE / "config.toml", {})
    loaded = load_dataset(settings)
    return build_context(settings, loaded, resolve_as_of(settings, loaded, None), RunInfo())


@pytest.fixture(scope="module")
def tables(ctx: Context) -> dict[str, Table]:
    """Every shared tab that applies to contract data, built through build_table as a run does."""
    return {t.name: build_table(t, ctx) for t in SHARED_TABS if ctx.skip_reason(t) is None}


def _empty(x: object) -> bool:
    return x is None or (not isinstance(x, str) and bool(pd.isna(x)))


def _same(kind: str, got: object, want: object) -> bool:
    if _empty(got) or _empty(want):
        return _empty(got) and _empty(want)
    if kind == "money":
        return abs(float(got) - float(want)) < 0.005  # to the cent
    if kind in ("percent", "number"):
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-12)
    if kind == "int":
        return float(got) == float(want) and float(got) == int(float(got))
    if kind in ("month", "date", "datetime"):
        return pd.Timestamp(got) == pd.Timestamp(want)
    return got == want


def complete(rows: list[tuple]) -> list[tuple]:
    """Rows with the Period cell "complete" after their first cell: as_of is the last second of June, and of Q2."""
    return [(row[0], "complete", *row[1:]) for row in rows]


def assert_cells(table: Table, rows: list[tuple], columns: list[str] | None = None) -> None:
    """Every cell of `table` equals `rows` under its column kind (NaN/None == empty, money to the cent)."""
    names = [c.name for c in table.columns]
    assert names == (columns if columns is not None else names), "columns differ"
    assert len(table.frame) == len(rows), f"{table.name}: {len(table.frame)} rows, expected {len(rows)}"
    wrong = []
    for i, want_row in enumerate(rows):
        assert len(want_row) == len(names), f"expected row {i} has {len(want_row)} cells for {len(names)} columns"
        for column, want in zip(table.columns, want_row, strict=True):
            got = table.frame[column.name].iloc[i]
            if not _same(column.kind, got, want):
                wrong.append(f"row {i} {column.name!r}: got {got!r}, expected {want!r}")
    assert not wrong, f"{table.name}:\n" + "\n".join(wrong)


MRR_COLUMNS = [c.name for c in mrr_tabs.MRR_COLUMNS]
# Month, MRR, Customers, ARPA, New, Expansion, Contraction, Churned, Reactivation, Net new,
# New cust., Reactivated cust., Churned cust., Growth %, New %, Expansion %, Contraction %, Churned %,
# Logo churn %, Gross MRR churn %, Net MRR churn %, Quick ratio
MRR_ROWS = [
    # Oct: A (1000) and C (300) start -> new 1300, 2 new; no previous month, so every rate is empty
    (OCT, 1300.0, 2, 650.0, 1300.0, 0.0, 0.0, 0.0, 0.0, 1300.0, 2, 0, 0, N, N, N, N, N, N, N, N, N),
    # Nov: B starts (Payroll 500 + Absences 100) -> new 600; nothing lost, so quick ratio is empty
    (NOV, 1900.0, 3, 1900 / 3, 600.0, 0.0, 0.0, 0.0, 0.0, 600.0, 1, 0, 0,
     600 / 1300, 600 / 1300, 0.0, 0.0, 0.0, 0 / 2, 0.0, 0.0, N),
    # Dec: no change
    (DEC, 1900.0, 3, 1900 / 3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0 / 3, 0.0, 0.0, N),
    # Jan: D starts (Expenses 2400 ARR -> 200) -> new 200
    (JAN, 2100.0, 4, 2100 / 4, 200.0, 0.0, 0.0, 0.0, 0.0, 200.0, 1, 0, 0,
     200 / 1900, 200 / 1900, 0.0, 0.0, 0.0, 0 / 3, 0.0, 0.0, N),
    # Feb: A adds Expenses 2400 ARR -> +200 expansion; B's Absences ended Jan 31 -> -100 contraction;
    # net churn (100 - 200) / 2100; quick ratio 200 / 100
    (FEB, 2200.0, 4, 2200 / 4, 0.0, 200.0, 100.0, 0.0, 0.0, 100.0, 0, 0, 0,
     100 / 2100, 0.0, 200 / 2100, 100 / 2100, 0.0, 0 / 4, 100 / 2100, -100 / 2100, 2.0),
    # Mar: D's contract ended Feb 29 -> churn 200, 1 of 4 customers; quick ratio 0 / 200
    (MAR, 2000.0, 3, 2000 / 3, 0.0, 0.0, 0.0, 200.0, 0.0, -200.0, 0, 0, 1,
     -200 / 2200, 0.0, 0.0, 0.0, 200 / 2200, 1 / 4, 200 / 2200, 200 / 2200, 0.0),
    # Apr: B's Payroll ended Mar 31 -> churn 500; F starts (3600 -> 300) -> new 300; quick ratio 300 / 500
    (APR, 1800.0, 3, 1800 / 3, 300.0, 0.0, 0.0, 500.0, 0.0, -200.0, 1, 0, 1,
     -200 / 2000, 300 / 2000, 0.0, 0.0, 500 / 2000, 1 / 3, 500 / 2000, 500 / 2000, 300 / 500),
    # May: C adds Payroll 4800 ARR -> +400 expansion
    (MAY, 2200.0, 3, 2200 / 3, 0.0, 400.0, 0.0, 0.0, 0.0, 400.0, 0, 0, 0,
     400 / 1800, 0.0, 400 / 1800, 0.0, 0.0, 0 / 3, 0.0, -400 / 1800, N),
    # Jun: E starts (1800 -> 150) -> new 150; D comes back (3000 -> 250) -> reactivation 250;
    # net churn -(250) / 2200 (reactivation counts against churn, new does not)
    (JUN, 2600.0, 5, 2600 / 5, 150.0, 0.0, 0.0, 0.0, 250.0, 400.0, 1, 1, 0,
     400 / 2200, 150 / 2200, 0.0, 0.0, 0.0, 0 / 3, 0.0, -250 / 2200, N),
]
# NRR and GRR (12 months): empty every month, the fixture has no snapshot 12 months before any of its months
MRR_ROWS = [(*row, N, N) for row in MRR_ROWS]


def test_mrr_tab_every_cell(tables: dict[str, Table]) -> None:
    """MRR: each month's MRR, customers, ARPA, movements, counts, rates and quick ratio equal the hand computation."""
    assert_cells(tables["MRR"], complete(MRR_ROWS), MRR_COLUMNS)


def test_mrr_identity_holds_on_contracts(ctx: Context) -> None:
    """The movement identity MRR = previous + new + expansion + reactivation - contraction - churn holds every month."""
    assert mrr.check_identity(ctx.mrr_by_month) == []


def test_mrr_by_quarter_every_cell(tables: dict[str, Table]) -> None:
    """MRR by quarter: flows summed over the months, rates on the customers at the quarter's start followed to its end.

    2024-Q1 holds a customer who joined and left inside the quarter (D: January to February): its churn is in the
    summed flows but not in the rates, which follow A, B and C only; 2023-Q4 has no customer at its start, so
    its rates are empty cells.
    """
    rows = [
        # Q4: nobody at the end of Sep; MRR at Dec 1900 (A, B, C); new 1300 (Oct) + 600 (Nov); nothing lost
        ("2023-Q4", OCT, 3, 0.0, 0, 1900.0, 3, 1900 / 3, 1900.0, 0.0, 0.0, 0.0, 0.0, 1900.0, 3, 0, 0, 0.0, 0.0,
         0, 0.0, 0.0, N, N, N, N, N, N, N),
        # Q1: base at Dec = A 1000, B 600, C 300 (1900, 3); at Mar A 1200, B 500, C 300: none lost, B -100,
        # A +200, so logo churn 0 (D, new in Jan and gone in Mar, is not of the base), gross 100 / 1900,
        # NRR 2000 / 1900. Flows: new 200 (D), expansion 200 (A), contraction 100 (B), churn 200 (D)
        ("2024-Q1", JAN, 3, 1900.0, 3, 2000.0, 3, 2000 / 3, 200.0, 200.0, 100.0, 200.0, 0.0, 100.0, 1, 0, 1,
         2400.0, 1200.0, 0, 100.0, 2000.0,
         100 / 1900, 0.0, 100 / 1900, -100 / 1900, 1800 / 1900, 2000 / 1900, 400 / 300),
        # Q2: base at Mar = A 1200, B 500, C 300 (2000, 3); at Jun A 1200, B 0, C 700: B lost (500), C +400,
        # so logo churn 1/3, gross 500 / 2000, NRR 1900 / 2000. Flows: new 450 (F 300, E 150), expansion 400
        # (C), churn 500 (B), reactivation 250 (D); quick (450 + 400 + 250) / 500
        ("2024-Q2", APR, 3, 2000.0, 3, 2600.0, 5, 2600 / 5, 450.0, 400.0, 0.0, 500.0, 250.0, 600.0, 2, 1, 1,
         6000.0, 0.0, 1, 500.0, 1900.0,
         600 / 2000, 1 / 3, 500 / 2000, 100 / 2000, 1500 / 2000, 1900 / 2000, 1100 / 500),
    ]
    assert_cells(tables["MRR by quarter"], complete(rows), [c.name for c in mrr_tabs.QUARTER_TAB_COLUMNS])


def test_movements_tab_every_cell(tables: dict[str, Table]) -> None:
    """Movements: each customer-month that moved, newest first, with the contracts that started, rose, fell or ended."""
    rows = [
        (JUN, "D", "reactivation", 0.0, 250.0, 250.0, "K9"),  # Expenses 3000 ARR from June
        (JUN, "E", "new", 0.0, 150.0, 150.0, "K11"),
        (MAY, "C", "expansion", 300.0, 700.0, 400.0, "K7"),  # Payroll 4800 ARR added
        (APR, "B", "churn", 500.0, 0.0, -500.0, "K4"),  # Payroll ended Mar 31
        (APR, "F", "new", 0.0, 300.0, 300.0, "K13"),
        (MAR, "D", "churn", 200.0, 0.0, -200.0, "K8"),  # Expenses ended Feb 29
        (FEB, "A", "expansion", 1000.0, 1200.0, 200.0, "K2"),
        (FEB, "B", "contraction", 600.0, 500.0, -100.0, "K5"),  # Absences ended Jan 31
        (JAN, "D", "new", 0.0, 200.0, 200.0, "K8"),
        (NOV, "B", "new", 0.0, 600.0, 600.0, "K4, K5"),
        (OCT, "A", "new", 0.0, 1000.0, 1000.0, "K1"),
        (OCT, "C", "new", 0.0, 300.0, 300.0, "K6"),
    ]
    assert_cells(tables["Movements"], complete(rows), [c.name for c in mrr_tabs.MOVEMENT_COLUMNS])


def test_customers_tab_every_cell(tables: dict[str, Table]) -> None:
    """Customers: first/last month with MRR, current MRR, status, lifetime revenue (sum of snapshots) and attributes."""
    rows = [  # sorted by current MRR, then lifetime revenue, descending
        # A: 1000 x 4 (Oct-Jan) + 1200 x 5 (Feb-Jun) = 10000
        ("A", OCT, JUN, 1200.0, "active", 10000.0, "Alpha", "Retail", None, None),
        # C: 300 x 7 (Oct-Apr) + 700 x 2 (May-Jun) = 3500
        ("C", OCT, JUN, 700.0, "active", 3500.0, "Gamma", "Health", "Integrateur", "IntegraTwo"),
        # F: 300 x 3 (Apr-Jun) = 900
        ("F", APR, JUN, 300.0, "active", 900.0, "Zeta", "Health", "Integrateur", "IntegraOne"),
        # D: 200 x 2 (Jan-Feb) + 250 (Jun) = 650
        ("D", JAN, JUN, 250.0, "active", 650.0, "Delta", "Health", "Revendeur", "ResellCo"),
        # E: 150 (Jun); no sector, direct
        ("E", JUN, JUN, 150.0, "active", 150.0, "Epsilon", None, None, None),
        # B: 600 x 3 (Nov-Jan) + 500 x 2 (Feb-Mar) = 2800; 0 now
        ("B", NOV, MAR, 0.0, "churned", 2800.0, "Beta", "Retail", "Integrateur", "IntegraOne"),
    ]
    columns = [c.name for c in mrr_tabs.CUSTOMER_COLUMNS] + ["Name", "Sector", "Partner type", "Partner name"]
    assert_cells(tables["Customers"], rows, columns)


COHORT_HEAD = ["Cohort", "Period", "Cohort size", "Starting MRR"] + [f"Month {age}" for age in range(9)]


def test_cohorts_logos_every_cell(tables: dict[str, Table]) -> None:
    """Cohorts (logos): share of each signup month's customers active n months later; empty after as_of or size 0."""
    rows = [
        (OCT, 2, 1300.0, 1, 1, 1, 1, 1, 1, 1, 1, 1),  # A and C, active every month to Jun
        (NOV, 1, 600.0, 1, 1, 1, 1, 1, 0, 0, 0, N),  # B: active Nov-Mar, 0 from Apr (age 5)
        (DEC, 0, 0.0, N, N, N, N, N, N, N, N, N),  # nobody started
        (JAN, 1, 200.0, 1, 1, 0, 0, 0, 1, N, N, N),  # D: Jan, Feb, out Mar-May, back in Jun (age 5)
        (FEB, 0, 0.0, N, N, N, N, N, N, N, N, N),
        (MAR, 0, 0.0, N, N, N, N, N, N, N, N, N),
        (APR, 1, 300.0, 1, 1, 1, N, N, N, N, N, N),  # F
        (MAY, 0, 0.0, N, N, N, N, N, N, N, N, N),
        (JUN, 1, 150.0, 1, N, N, N, N, N, N, N, N),  # E (D's return in Jun is not a new cohort)
    ]
    assert_cells(tables["Cohorts (logos)"], complete(rows), COHORT_HEAD)


def test_cohorts_revenue_every_cell(tables: dict[str, Table]) -> None:
    """Cohorts (revenue): each cohort's MRR n months later over its starting MRR, above 1 after expansion."""
    rows = [
        # A + C: 1300 to Jan, 1500 from Feb (A +200), 1900 from May (C +400)
        (OCT, 2, 1300.0, 1, 1, 1, 1, 1500 / 1300, 1500 / 1300, 1500 / 1300, 1900 / 1300, 1900 / 1300),
        (NOV, 1, 600.0, 1, 1, 1, 500 / 600, 500 / 600, 0, 0, 0, N),  # B: 600, 500 from Feb, 0 from Apr
        (DEC, 0, 0.0, N, N, N, N, N, N, N, N, N),
        (JAN, 1, 200.0, 1, 1, 0, 0, 0, 250 / 200, N, N, N),  # D: 200, 200, 0, 0, 0, 250
        (FEB, 0, 0.0, N, N, N, N, N, N, N, N, N),
        (MAR, 0, 0.0, N, N, N, N, N, N, N, N, N),
        (APR, 1, 300.0, 1, 1, 1, N, N, N, N, N, N),  # F flat at 300
        (MAY, 0, 0.0, N, N, N, N, N, N, N, N, N),
        (JUN, 1, 150.0, 1, N, N, N, N, N, N, N, N),  # E
    ]
    assert_cells(tables["Cohorts (revenue)"], complete(rows), COHORT_HEAD)


def test_retention_by_age_every_cell(tables: dict[str, Table]) -> None:
    """Retention by age: non-empty cohorts pooled by age, customers still active and MRR kept over starting MRR."""
    # non-empty cohorts: Oct (2 customers, 1300, reaches age 8), Nov (1, 600, age 7), Jan (1, 200, age 5),
    # Apr (1, 300, age 2), Jun (1, 150, age 0)
    rows = [
        (0, 5, 6, 6 / 6, 2550 / 2550),  # everyone at start; 1300 + 600 + 200 + 300 + 150
        (1, 4, 5, 5 / 5, 2400 / 2400),  # Oct, Nov, Jan, Apr: 1300 + 600 + 200 + 300 of 2400
        (2, 4, 5, 4 / 5, 2200 / 2400),  # D out in Mar: 1300 + 600 + 0 + 300
        (3, 3, 4, 3 / 4, 1800 / 2100),  # Oct, Nov, Jan: 2 + B (Feb) + 0 (D, Apr); 1300 + 500 + 0 of 2100
        (4, 3, 4, 3 / 4, 2000 / 2100),  # 2 (Feb) + B (Mar) + 0 (D, May); 1500 + 500 + 0
        (5, 3, 4, 3 / 4, 1750 / 2100),  # 2 (Mar) + 0 (B, Apr) + D back (Jun); 1500 + 0 + 250
        (6, 2, 3, 2 / 3, 1500 / 1900),  # Oct, Nov: 2 (Apr) + 0 (B, May); 1500 + 0 of 1900
        (7, 2, 3, 2 / 3, 1900 / 1900),  # 2 (May) + 0 (B, Jun); 1900 + 0
        (8, 1, 2, 2 / 2, 1900 / 1300),  # Oct only: A + C in Jun, 1900 of 1300
    ]
    assert_cells(tables["Retention by age"], rows,
                 ["Age", "Cohorts", "Customers", "Logo retention", "Revenue retention"])


def test_unit_economics_every_cell(tables: dict[str, Table]) -> None:
    """Unit economics: CAC, new MRR per new customer, payback, ARPA, trailing churn, LTV, LTV:CAC, cohort payback."""
    # logo churn by month (MRR tab): Oct empty, Nov-Feb 0, Mar 1/4, Apr 1/3, May 0, Jun 0;
    # trailing = mean of 3 months, empty unless all 3 have a rate
    rows = [
        # Oct: 4000 / 2 new = 2000; new MRR 1300 / 2 = 650; payback 2000 / 650; cohort (A + C) cumulative
        # 1300, 2600, 3900, 5200 >= 4000 at age 3
        (OCT, 4000.0, 2, 2000.0, 650.0, 2000 / 650, 650.0, N, N, N, 3),
        # Nov: B alone: 600, 1200, 1800, 2300, 2800, then 0: never reaches 4000
        (NOV, 4000.0, 1, 4000.0, 600.0, 4000 / 600, 1900 / 3, N, N, N, N),
        (DEC, 4000.0, 0, N, N, N, 1900 / 3, N, N, N, N),  # no new customer: CAC empty; Oct's rate is empty
        # Jan: trailing (0 + 0 + 0) / 3 = 0 -> LTV empty; D's cohort 200, 400, 400, ... 650 by Jun
        (JAN, 4000.0, 1, 4000.0, 200.0, 4000 / 200, 2100 / 4, 0.0, N, N, N),
        (FEB, 4000.0, 0, N, N, N, 2200 / 4, 0.0, N, N, N),
        # Mar: trailing (0 + 0 + 1/4) / 3 = 1/12; LTV 666.67 * 12 = 8000; no CAC -> LTV:CAC empty
        (MAR, 4000.0, 0, N, N, N, 2000 / 3, 1 / 12, 8000.0, N, N),
        # Apr: trailing (0 + 1/4 + 1/3) / 3 = 7/36; LTV 600 * 36 / 7; F's cohort 300, 600, 900
        (APR, 4000.0, 1, 4000.0, 300.0, 4000 / 300, 600.0, 7 / 36, 600 * 36 / 7, 600 * 36 / 7 / 4000, N),
        (MAY, 4000.0, 0, N, N, N, 2200 / 3, 7 / 36, 2200 / 3 * 36 / 7, N, N),  # (1/4 + 1/3 + 0) / 3
        # Jun: trailing (1/3 + 0 + 0) / 3 = 1/9; LTV 520 * 9 = 4680; LTV:CAC 4680 / 4000; E's cohort 150
        (JUN, 4000.0, 1, 4000.0, 150.0, 4000 / 150, 520.0, 1 / 9, 4680.0, 4680 / 4000, N),
    ]
    # no [economics] in the fixture's config: every month's spend-based figures rest on the two defaults, and say so
    assumed = "spend: the default 4,000.00 EUR a month, not set; gross margin: the default 100.0%, not set"
    assert_cells(tables["Unit economics"], [(*row, assumed) for row in complete(rows)],
                 [c.name for c in economics.TABS[0].columns])


def test_summary_sentences_carry_the_hand_computed_numbers(tables: dict[str, Table]) -> None:
    """Summary: each topic's value and sentence state the numbers of June 2024, the last complete month."""
    frame = tables["Summary"].frame
    # the portfolio rows (and Unit economics, in place of LTV:CAC and CAC payback when no spend is configured) are
    # pinned in tests/kpi/test_portfolio_summary.py
    assert frame["Topic"].tolist() == ["Customers", "MRR", "MRR trend", "MRR movements", "Data quality", "Churn",
                                       "Churn per quarter",
                                       "Revenue retention", "Solutions per customer", "Projects deployed",
                                       "Solutions per project", "Sectors", "Unit economics", "Cohort retention"]
    # MRR 2600 from 5 customers, +400 (400 / 2200 = 18.2%) from 2200 at the end of May
    # movements: new 150 (E), reactivation 250 (D), nothing lost
    # churn: 0 of 3 customers at the start of June; net MRR churn -250 / 2200 = -11.4%
    # retention: ages 3 and 6 reached (12 not): logos 3/4, 2/3 of 4 and 3 customers; MRR 1800/2100, 1500/1900
    expected = {
        "MRR": ("2,600.00 EUR", ["end of 2024-06", "2,600.00 EUR", "5 paying customers", "up 18.2%", "+400.00 EUR",
                              "2,200.00 EUR", "2024-05"]),
        "MRR movements": ("+400.00 EUR", ["2024-06", "+400.00 EUR", "new 150.00 EUR (1 new customer)", "expansion 0.00 EUR",
                                       "reactivation 250.00 EUR (1 customer back)", "contraction 0.00 EUR",
                                       "churned 0.00 EUR (0 customers lost)"]),
        # the fixture's three bad lines (an end before its start, customer Z9 twice), dropped: said beside MRR
        "Data quality": ("3 lines dropped", ["3 input lines were dropped as bad", "(2 lines of contracts.json, 1 line of "
                               "projects.json)"]),
        "Churn": ("0.0%", ["2024-06", "logo churn was 0.0%", "0 of 3 customers", "gross MRR churn was 0.0%",
                           "net MRR churn -11.4%"]),
        # Q2 from the customers at the end of March (A 1200, B 500, C 300): B gone, C +400 -> NRR 1900 / 2000
        "Revenue retention": ("NRR 95.0% (2024-Q2)", [
            "need paying customers 12 months before 2024-06, and the data starts in 2023-10",
            "in 2024-Q2, the last complete quarter, 1 of the 3 customers at its start was gone at its end (logo churn "
            "33.3%), gross MRR churn was 25.0% (GRR 75.0%) and NRR 95.0%"]),
        "Cohort retention": ("75.0% after 3 months", ["75.0% and 66.7%", "3 and 6 months", "of 4 and 3 customers",
                                       "85.7% and 78.9%"]),
    }
    for _, row in frame.loc[frame["Topic"].isin(list(expected))].iterrows():
        value, fragments = expected[row["Topic"]]
        assert isinstance(row["Value"], Figure) and row["Value"].text("EUR") == value, row["Topic"]
        missing = [f for f in fragments if f not in row["Sentence"]]
        assert not missing, f"{row['Topic']}: {missing} not in {row['Sentence']!r}"


def test_every_shared_tab_is_built_or_skipped_for_a_reason(ctx: Context, tables: dict[str, Table]) -> None:
    """On contract data every shared tab is built except Billing, which is skipped as payments-only."""
    skipped = {t.name: ctx.skip_reason(t) for t in SHARED_TABS if ctx.skip_reason(t) is not None}
    assert skipped == {"Billing": "not produced for contracts data"}
    assert set(tables) == {"MRR", "MRR by quarter", "Movements", "Customers", "Cohorts (logos)", "Cohorts (revenue)",
                           "Retention by age", "Unit economics", "Summary"}
