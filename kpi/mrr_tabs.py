"""The MRR, MRR by quarter, Movements, Customers and Billing tabs: their columns and builders, from kpi.mrr's tables.

Declared here rather than in kpi/mrr.py so that kpi.tables.Context can compute its month snapshots
and MRR table with kpi.mrr without kpi.mrr importing Context back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.mrr import customer_summary, local_month
from kpi.tables import PERIOD_DEFINITION, Chart, ColorScale, Column, Context, Tab

_RATE = "against the previous month's MRR (empty when that is 0)"
MRR_COLUMNS: tuple[Column, ...] = (
    Column("Month", "month", "The calendar month (in the configured timezone); MRR is read at its last second, "
                             "or at as_of for the month of as_of."),
    Column("Period", "text", PERIOD_DEFINITION),
    Column("MRR", "money", "Monthly recurring revenue: the sum of every customer's active pieces of the revenue "
                           "schedule at the month's snapshot, each customer rounded to the cent."),
    Column("Customers", "int", "Customers with MRR > 0 at the snapshot."),
    Column("ARPA", "money", "Average revenue per account: MRR / Customers."),
    Column("New MRR", "money", "MRR of customers at 0 at the previous snapshot who never had MRR before."),
    Column("Expansion MRR", "money", "Increase b - a of customers whose MRR rose from a > 0 to b."),
    Column("Contraction MRR", "money", "Decrease a - b of customers whose MRR fell from a to b > 0 (downgrades)."),
    Column("Churned MRR", "money", "Previous MRR a of customers whose MRR fell from a > 0 to 0."),
    Column("Reactivation MRR", "money", "MRR of customers at 0 at the previous snapshot who had MRR before."),
    Column("Net new MRR", "money", "New + Expansion + Reactivation - Contraction - Churned = MRR - previous MRR, "
                                   "exact to the cent."),
    Column("New customers", "int", "Customers whose MRR went from 0 to > 0 for the first time."),
    Column("Reactivated customers", "int", "Customers whose MRR went from 0 to > 0 after having had MRR before."),
    Column("Churned customers", "int", "Customers whose MRR fell from > 0 to 0."),
    Column("MRR growth %", "percent", f"(MRR - previous MRR) / previous MRR, {_RATE}."),
    Column("New MRR %", "percent", f"New MRR / previous MRR, {_RATE}."),
    Column("Expansion MRR %", "percent", f"Expansion MRR / previous MRR, {_RATE}."),
    Column("Contraction MRR %", "percent", f"Contraction MRR / previous MRR, {_RATE}."),
    Column("Churned MRR %", "percent", f"Churned MRR / previous MRR, {_RATE}."),
    Column("Logo churn %", "percent", "Churned customers / customers at the previous snapshot (empty when that is 0)."),
    Column("Gross MRR churn %", "percent", f"(Churned + Contraction MRR) / previous MRR, {_RATE}."),
    Column("Net MRR churn %", "percent", "(Churned + Contraction - Expansion - Reactivation MRR) / previous MRR, "
                                         f"{_RATE}; negative when expansion outweighs the losses."),
    Column("Quick ratio", "number", "(New + Expansion + Reactivation MRR) / (Churned + Contraction MRR), empty when "
                                    "nothing was lost."),
    Column("NRR (12 months)", "percent", "Net revenue retention over the trailing 12 months: what the customers paying "
                                         "at the snapshot 12 months earlier pay now / what they paid then (empty "
                                         "before 12 months of history)."),
    Column("GRR (12 months)", "percent", "Gross revenue retention over the trailing 12 months: 1 - what those "
                                         "customers lost (each compared then to now: churn + contraction) / what "
                                         "they paid then."),
)
QUARTER_TAB_COLUMNS: tuple[Column, ...] = (
    Column("Quarter", "text", "The calendar quarter, e.g. 2017-Q1 (months in the configured timezone)."),
    Column("Period", "text", PERIOD_DEFINITION),
    Column("Quarter start", "month", "The quarter's first month."),
    Column("Months", "int", "Months of the quarter in the data: fewer than 3 for the quarter of as_of or the first one."),
    Column("MRR at start", "money", "MRR at the snapshot of the previous quarter's last month (0 before the first "
                                    "month with revenue)."),
    Column("Customers at start", "int", "Customers with MRR > 0 at that snapshot: the base the rates are measured on."),
    Column("MRR at end", "money", "MRR at the snapshot of the quarter's last month in the data (at as_of for the "
                                  "quarter of as_of)."),
    Column("Customers at end", "int", "Customers with MRR > 0 at that snapshot."),
    Column("ARPA", "money", "MRR at end / Customers at end."),
    Column("New MRR", "money", "The quarter's monthly New MRR, summed."),
    Column("Expansion MRR", "money", "The quarter's monthly Expansion MRR, summed."),
    Column("Contraction MRR", "money", "The quarter's monthly Contraction MRR, summed."),
    Column("Churned MRR", "money", "The quarter's monthly Churned MRR, summed (it includes customers who joined "
                                   "during the quarter)."),
    Column("Reactivation MRR", "money", "The quarter's monthly Reactivation MRR, summed."),
    Column("Net new MRR", "money", "MRR at end - MRR at start = the sum of the monthly net new MRR."),
    Column("New customers", "int", "The quarter's monthly new customers, summed."),
    Column("Reactivated customers", "int", "The quarter's monthly reactivated customers, summed."),
    Column("Churned customers", "int", "The quarter's monthly churned customers, summed (a customer who churns "
                                       "twice counts twice; one who joined and left inside the quarter counts)."),
    Column("Churned ARR", "money", "Churned MRR x 12."),
    Column("Contraction ARR", "money", "Contraction MRR x 12."),
    Column("Starting customers lost", "int", "Of the customers at start (MRR > 0 at the end of the previous quarter), "
                                             "those with MRR 0 at the quarter's end; a customer who joined and left "
                                             "inside the quarter is not one of them."),
    Column("Starting MRR lost", "money", "What the customers at start lost, each compared start to end: all its MRR for "
                                         "one at 0, the decrease for one paying less (churn + contraction of the "
                                         "starting base)."),
    Column("Starting customers' MRR at end", "money", "What the customers at start pay at the quarter's end "
                                                      "(expansion and reactivation included; customers who joined "
                                                      "during the quarter are not counted)."),
    Column("MRR growth %", "percent", "(MRR at end - MRR at start) / MRR at start (empty when that is 0)."),
    Column("Logo churn %", "percent", "Starting customers lost / Customers at start (empty when that is 0); never "
                                      "above 100%."),
    Column("Gross MRR churn %", "percent", "Starting MRR lost / MRR at start (empty when that is 0); never above "
                                           "100%."),
    Column("Net MRR churn %", "percent", "(MRR at start - Starting customers' MRR at end) / MRR at start = 1 - NRR; "
                                         "negative when the starting customers pay more than they did."),
    Column("GRR", "percent", "Gross revenue retention: 1 - Gross MRR churn %."),
    Column("NRR", "percent", "Net revenue retention: Starting customers' MRR at end / MRR at start (above 100% when "
                             "their expansion outweighs their losses)."),
    Column("Quick ratio", "number", "(New + Expansion + Reactivation MRR) / (Churned + Contraction MRR) over the "
                                    "quarter, empty when nothing was lost."),
)
MOVEMENT_COLUMNS: tuple[Column, ...] = (
    Column("Month", "month", "The month whose snapshot the customer's MRR is read at, against the previous month's "
                             "snapshot."),
    Column("Period", "text", PERIOD_DEFINITION),
    Column("Customer", "text", "The customer id."),
    Column("Category", "text", "new, expansion, contraction, churn or reactivation (metrics.md 3), decided on the "
                               "exact MRR as in the MRR tab."),
    Column("MRR before", "money", "The customer's MRR at the previous month's snapshot (0 before its first month), to "
                                  "the cent as summed in the MRR tab."),
    Column("MRR after", "money", "Its MRR at this month's snapshot (at as_of for the month of as_of)."),
    Column("Change", "money", "MRR after - MRR before. Summed by month and category it is the MRR tab's New, "
                              "Expansion and Reactivation MRR, and minus its Contraction and Churned MRR, to the cent "
                              "(checked before publishing)."),
    Column("Ref", "text", "What is behind the change: the Ref of the Billing tab (payment logs) or the contract id "
                          "(contracts) of each series, term or contract whose own MRR moved the way the customer's did "
                          "between the two snapshots. Churn and contraction: those that ended or fell (for a churn, "
                          "every one the customer had: its Billing row's last charge is the one that did not renew); "
                          "new, reactivation and expansion: those that started or rose. Several are joined by ', '; "
                          "empty when none moved by a cent on its own."),
)
CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("Customer", "text", "The customer id."),
    Column("First month", "month", "The first month with MRR > 0 at its snapshot (empty if never)."),
    Column("Last month", "month", "The last month with MRR > 0 at its snapshot (empty if never)."),
    Column("Current MRR", "money", "MRR at the snapshot of the month of as_of."),
    Column("Status", "text", "active (MRR > 0 now), churned (had MRR, 0 now) or never active (no MRR at any "
                             "snapshot)."),
    Column("Lifetime revenue", "money", "Payment logs: the sum of its positive charges up to as_of (refunds not "
                                        "netted); contracts: the sum of its month-snapshot MRR."),
)
BILLING_TAB_COLUMNS: tuple[Column, ...] = (
    Column("Customer", "text", "The customer id."),
    Column("Ref", "text", "The series or term (the ref of its pieces in the revenue schedule)."),
    Column("Kind", "text", "monthly series (renewals seen), annual term or monthly term (a single charge: the "
                           "interval is inferred; provisional while its first renewal is not yet due at as_of)."),
    Column("Interval", "text", "monthly or annual."),
    Column("Anchor", "datetime", "The charge that starts it; a series' slots are anchor + k calendar months (for anchors on the "
                                       "29th-31st, also the previous renewal + 1 month: see docs/billing.md)."),
    Column("First charge", "datetime", "Its first charge (the anchor)."),
    Column("Last charge", "datetime", "Its last charge, prorations included."),
    Column("Charges", "int", "Charges read as part of it: anchor, renewals and prorations."),
    Column("Renewals", "int", "Charges that renewed it within ±renewal_tolerance_hours of a monthly slot."),
    Column("Prorations", "int", "Charges that renew nothing and fall inside it, spread to its next boundary."),
    Column("Current rate", "money", "The monthly rate of its last renewal or of the term, prorations excluded; for one "
                                    "that has ended (Running FALSE), the rate it had when it ended, not part of MRR "
                                    "at as_of."),
    Column("Covered until", "datetime", "The end of its last piece (prorations included): when it stops paying "
                                        "unless renewed; empty when nothing of it is in the revenue schedule."),
    Column("Running", "bool", "TRUE when it still covers as_of (Covered until is after as_of): part of MRR at as_of."),
    Column("Guessed", "bool", "TRUE when no renewal was seen, so the interval is inferred (check it; correct it with "
                              "billing_overrides)."),
    Column("Reason", "text", "Why it was read this way, with the numbers."),
)


def _with_period(frame: pd.DataFrame, periods: np.ndarray, columns: tuple[Column, ...]) -> pd.DataFrame:
    """`frame` (every declared column but Period, in order) with the Period column second, named as declared."""
    names = [c.name for c in columns]
    named = frame.set_axis([n for n in names if n != "Period"], axis=1)
    return named.assign(Period=periods).loc[:, names]


def _month_tab(ctx: Context) -> pd.DataFrame:
    return _with_period(ctx.mrr_by_month, ctx.periods(ctx.mrr_by_month["month"]), MRR_COLUMNS)


def _quarter_tab(ctx: Context) -> pd.DataFrame:
    quarters = ctx.mrr_by_quarter
    return _with_period(quarters, ctx.periods(quarters["quarter_start"], quarterly=True), QUARTER_TAB_COLUMNS)


def _movements_tab(ctx: Context) -> pd.DataFrame:
    return _with_period(ctx.movements, ctx.periods(ctx.movements["month"]), MOVEMENT_COLUMNS)


def _attribute_name(name: str, taken: set[str]) -> str:
    words = name.replace("_", " ").strip()  # partner_type -> Partner type
    label = words[:1].upper() + words[1:]
    return f"{label} (attribute)" if label in taken else label


def _customers_tab(ctx: Context) -> pd.DataFrame:
    as_of_month = local_month(ctx.as_of, ctx.timezone)
    table = customer_summary(ctx.customer_months, ctx.customers, ctx.lifetime, as_of_month, ctx.month_codes,
                             ctx.customer_ids, ctx.paying_months)
    declared = [c.name for c in CUSTOMER_COLUMNS]
    extra = list(table.columns[len(declared):])
    # attributes vary by dataset: numbers stay numbers (whole ones as integers), the rest is text (wide_kind "auto")
    attrs = {}
    for name in extra:
        values = table[name]
        if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
            values = values.astype("Int64")
        attrs[_attribute_name(str(name), set(declared))] = values
    return pd.concat([table.iloc[:, : len(declared)].set_axis(declared, axis=1), pd.DataFrame(attrs)], axis=1)


def numeric_first_rank(ids: np.ndarray | pd.Index) -> np.ndarray:
    """Each of these distinct ids' rank when numeric ids come first in numeric order, then the others in text order
    (ids of one number, 7 and 007, in text order). Only the ids a number does not place alone are sorted as text: for a
    million numeric ids, a sort of floats instead of a sort of a million texts (3.5 s at 10M charges)."""
    text = pd.Series(np.asarray(ids, dtype=object))
    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64")
    missing = np.isnan(number)
    tied = missing | pd.Series(number).duplicated(keep=False).to_numpy()
    by_text = np.zeros(len(text), dtype=np.int64)
    if tied.any():
        at = np.flatnonzero(tied)
        by_text[at[np.argsort(text.to_numpy(dtype=object)[at], kind="stable")]] = np.arange(len(at))
    order = np.lexsort((by_text, np.where(missing, 0.0, number), missing))
    rank = np.empty(len(text), dtype=np.int64)
    rank[order] = np.arange(len(text))
    return rank


def _billing_tab(ctx: Context) -> pd.DataFrame:
    billing = ctx.billing
    assert billing is not None  # the tab requires it
    columns = ["customer_id", "ref", "kind", "interval", "anchor", "first_charge", "last_charge", "charges",
               "renewals", "prorations", "current_rate", "covered_until", "running", "guessed", "reason"]
    until = pd.to_datetime(billing["covered_until"], utc=True)
    billing = billing.assign(running=(until > ctx.as_of).fillna(False).to_numpy(dtype=bool))
    # numeric ids in numeric order (5582 before 15481), others after them in text order; a customer's rows by anchor.
    # The order of the distinct ids is found once (a hundred thousand of them for a million rows), then the rows are
    # put in it by integer rank: no sort of a million texts.
    codes, ids = pd.factorize(billing["customer_id"])
    rank = numeric_first_rank(ids)
    anchor = np.where(billing["anchor"].isna().to_numpy(), np.iinfo(np.int64).max,  # no anchor: last, as NaT sorts
                      billing["anchor"].to_numpy(dtype="datetime64[ns]").view(np.int64))
    rows = np.lexsort((np.arange(len(billing)), anchor, rank[codes]))
    ordered = billing.iloc[rows]
    return ordered.loc[:, columns].set_axis([c.name for c in BILLING_TAB_COLUMNS], axis=1).reset_index(drop=True)


TABS: list[Tab] = [
    Tab(
        name="MRR",
        description="Monthly recurring revenue at each month's snapshot, its movements (new, expansion, contraction, "
                    "churn, reactivation) and the rates built from them; one row per month, no gaps.",
        columns=MRR_COLUMNS,
        build=_month_tab,
        charts=(
            Chart("MRR over time", "line", "Month", ("MRR",)),
            # gains and losses apart: the tab's losses are positive amounts, and stacked on the gains they would
            # read as growth
            Chart("MRR gained", "stacked_column", "Month", ("New MRR", "Expansion MRR", "Reactivation MRR")),
            Chart("MRR lost", "stacked_column", "Month", ("Contraction MRR", "Churned MRR")),
            Chart("Churn", "line", "Month", ("Logo churn %", "Gross MRR churn %")),
        ),
        scales=(
            ColorScale(("Logo churn %", "Gross MRR churn %", "Net MRR churn %"), good="low"),
            ColorScale(("NRR (12 months)", "GRR (12 months)"), good="high"),
        ),
    ),
    Tab(
        name="MRR by quarter",
        description="The MRR table by calendar quarter: MRR at its start and end, movements summed over its months "
                    "(and churn in ARR), and the rates on the customers paying at its start, followed to its end "
                    "(logo and gross MRR churn, GRR, NRR; metrics.md 4), so no churn rate passes 100%.",
        columns=QUARTER_TAB_COLUMNS,
        build=_quarter_tab,
        charts=(Chart("Churn by quarter", "column", "Quarter", ("Churned MRR", "Contraction MRR")),),
        scales=(
            ColorScale(("Logo churn %", "Gross MRR churn %", "Net MRR churn %"), good="low"),
            ColorScale(("GRR", "NRR"), good="high"),
        ),
    ),
    Tab(
        name="Movements",
        description="One row per customer and month where its MRR changed: the category, MRR before and after, the "
                    "change and the Billing row (payment logs) or contract behind it, so every movement of the MRR tab "
                    "can be traced to customers and charges; its sums equal the MRR tab's movements to the cent. "
                    "Newest month first, then the largest changes, so a tab cut by [publish] max_rows_per_tab (like "
                    "Customers and Billing) keeps the latest movements.",
        columns=MOVEMENT_COLUMNS,
        build=_movements_tab,
    ),
    Tab(
        name="Customers",
        description="One row per customer: first and last month with MRR, current MRR, status, lifetime revenue, "
                    "then its attributes as given in the customers file (numbers as numbers, the rest as text).",
        columns=CUSTOMER_COLUMNS,
        build=_customers_tab,
        wide_kind="auto",
    ),
    Tab(
        name="Billing",
        description="How each customer's charges were read (metrics.md 2b): one row per monthly series or single-charge "
                    "term, with the reason and whether the interval is a guess; correct a guess with billing_overrides.",
        columns=BILLING_TAB_COLUMNS,
        build=_billing_tab,
        datasets=frozenset({"payments"}),
        requires=("billing",),
    ),
]
