"""The "About" tab: how every number was made (definitions), the settings, as_of, the inputs, the run."""

from __future__ import annotations

import pandas as pd

from kpi.portfolio_summary import about_rows
from kpi.tables import Column, Context, Tab, all_tabs


def about(ctx: Context) -> pd.DataFrame:
    """Rows of (Section, Item, Value): run, inputs, settings, then every published tab and column with its definition."""
    rows: list[tuple[str, str, str]] = []
    run = ctx.run
    rows.append(("Run", "kpi-sync version", run.version))
    if run.started_at is not None:
        rows.append(("Run", "started at (UTC)", f"{run.started_at:%Y-%m-%d %H:%M:%S}"))
    rows.append(("Run", "as_of (UTC)", f"{ctx.as_of:%Y-%m-%d %H:%M:%S}"))
    rows.append(("Run", "timezone for month boundaries", ctx.timezone))
    rows.append(("Run", "dataset", ctx.dataset))
    rows.append(("Run", "config file", run.config_path))
    if run.destination:
        rows.append(("Run", "published to", run.destination))
    for f in run.inputs:
        rows.append(("Input", f"{f.role}: {f.path}", f"{f.rows} lines read; sha256 {f.sha256}"))
    rows.extend(_quality_rows(ctx))
    for key, value in run.settings:
        rows.append(("Setting", key, value))
    if ctx.price_book is not None:
        rows.extend(("Price book", item, value) for item, value in ctx.price_book.rows())
    rows.append(("Definitions", "MRR snapshot",
                 "MRR of a month is a snapshot at the month's last second (at as_of for the current month), "
                 "computed from the revenue schedule: pieces (customer, start, end, monthly rate)."))
    if ctx.dataset == "payments":
        rows.append(("Definitions", "revenue schedule",
                     "Inferred from charges: monthly series renew within ±billing.renewal_tolerance_hours of the "
                     "anchor's monthly slot; a single charge is an annual term (amount / 12 for 12 months) when it is "
                     ">= billing.annual_min_amount, when it is renewed 12 calendar months later, when it is an annual "
                     "price for the monthly plan it ends (10 or 12 times its rate: a switch to annual), when the price "
                     "book calls it annual (its customer's seats x an annual seat price and not seats x a monthly one, "
                     "or the likelier reading when today's seats do not settle it, or a learned annual price point; "
                     "with billing.unlisted_tiers = year, also the customer's seats (or, with no seat count, the "
                     "commonest count that fits) x a tier the book has not learned when no price reads the amount at "
                     "all), or when a later charge within its year is an annual "
                     "proration of it; else one month; a charge inside a running series or annual term that is seats "
                     "added to it (even >= billing.annual_min_amount) is a proration, spread to the next boundary. "
                     "The price book is listed above; see the Billing tab for each customer's classification and the "
                     "prices that decided it."))
    else:
        rows.append(("Definitions", "revenue schedule",
                     "Subscription contracts: ARR / 12 from startDate to the day after endDate; one-shot amounts are "
                     "non-recurring revenue, never MRR."))
    rows.extend(about_rows(ctx))
    for tab in all_tabs():
        if ctx.skip_reason(tab):
            continue
        rows.append(("Tab", tab.name, tab.description))
        for col in tab.columns:
            rows.append((f"Column of {tab.name}", col.name, col.description))
    return pd.DataFrame(rows, columns=["Section", "Item", "Value"])


def _quality_rows(ctx: Context) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    counts = ctx.issues.groupby("severity").size()
    rows.append(("Data quality", "issues",
                 ", ".join(f"{counts.get(s, 0)} {s}" for s in ("error", "warning", "info"))))
    if ctx.charges is not None:
        amounts = ctx.charges["amount"]
        refunds = amounts[amounts < 0]
        rows.append(("Data quality", "zero-amount charges (ignored)", str(int((amounts == 0).sum()))))
        rows.append(("Data quality", "refunds (ignored for MRR)", f"{len(refunds)} totalling {refunds.sum():.2f}"))
    return rows


TABS = [
    Tab(
        name="About",
        description="How every number in this workbook was made: the run, its inputs, the settings and each column's definition.",
        columns=(
            Column("Section", "text", "Run, Input, Data quality, Setting, Price book (payment logs), Definitions, Tab or Column of <tab>."),
            Column("Item", "text", "What the row is about."),
            Column("Value", "text", "Its value or definition."),
        ),
        build=about,
        volatile=True,
    )
]
