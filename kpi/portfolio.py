"""Contract portfolios (metrics.md 8): customers by channel, solutions, projects, sectors.

Churn per quarter (MRR, ARR, customers) is the MRR by quarter tab (kpi/mrr_tabs.py), one quarterly table
for every kind of data, with its rates on the customers present at each quarter's start (metrics.md 4).

Every MRR figure here is read from the canonical revenue schedule, through `ctx.customer_months`
(customer-level snapshots, the same numbers as the MRR tab) or, where a figure needs the solution,
through the schedule pieces themselves at the same snapshot instants: the MRR of month M is the
snapshot at the last second of M in the configured timezone, or at `as_of` for the month of `as_of`.

Channel: a customer whose partner type is one of `portfolio.indirect_partner_types` (default
"Integrateur", compared without case or surrounding spaces) is indirect; every other customer,
including one sold by a partner of another type, is direct. A customer without a sector is counted
under "Unknown".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.contracts import SUBSCRIPTION
from kpi.mrr import to_cents
from kpi.tables import PERIOD_DEFINITION, Chart, Column, Context, Tab

UNKNOWN_SECTOR = "Unknown"
UNKNOWN_PARTNER = "Unknown partner"


# ---------------------------------------------------------------- shared helpers


def as_of_month(ctx: Context) -> pd.Timestamp:
    """The first day (tz-naive) of the month containing `as_of`, in the configured timezone."""
    return ctx.as_of.tz_convert(ctx.timezone).tz_localize(None).to_period("M").to_timestamp()


def as_of_day(ctx: Context) -> pd.Timestamp:
    """The calendar day (tz-naive) containing `as_of`, in the configured timezone."""
    return ctx.as_of.tz_convert(ctx.timezone).tz_localize(None).normalize()


def mrr_months(ctx: Context) -> pd.DatetimeIndex:
    """The months of the MRR tab (first month with revenue to the month of as_of, no gaps)."""
    return pd.DatetimeIndex(pd.to_datetime(ctx.mrr_by_month["month"]).astype("datetime64[ns]"), name="month")


def month_span(ctx: Context, *others: pd.Series) -> pd.DatetimeIndex:
    """Every month from the earliest of the MRR months and `others` to the month of as_of."""
    starts = [m.min() for m in (mrr_months(ctx), *others) if len(m)]
    if not starts:
        return pd.DatetimeIndex([], name="month", dtype="datetime64[ns]")
    return pd.date_range(min(starts), as_of_month(ctx), freq="MS", name="month").astype("datetime64[ns]")


def snapshot_instants(months: pd.DatetimeIndex, as_of: pd.Timestamp, timezone: str) -> pd.DatetimeIndex:
    """UTC instant of each month's snapshot: its last second in `timezone`, or `as_of` for the month of as_of."""
    next_starts = (months + pd.offsets.MonthBegin(1)).tz_localize(timezone, ambiguous=False, nonexistent="shift_forward")
    ends = (next_starts - pd.Timedelta(seconds=1)).tz_convert("UTC").as_unit("ns")
    cap = pd.Timestamp(as_of).tz_convert("UTC").as_unit("ns").value
    return pd.DatetimeIndex(np.minimum(ends.asi8, cap).astype("datetime64[ns]"), name="snapshot").tz_localize("UTC")


def customer_matrix(ctx: Context, months: pd.DatetimeIndex) -> pd.DataFrame:
    """customer_id x month -> MRR at the snapshot (0 where none), from ctx.customer_months."""
    cm = ctx.customer_months
    if cm.empty or not len(months):
        return pd.DataFrame(index=pd.Index([], name="customer_id", dtype="object"), columns=months, dtype="float64")
    wide = cm.pivot_table(index="customer_id", columns="month", values="mrr", aggfunc="sum", fill_value=0.0)
    wide.columns = pd.DatetimeIndex(wide.columns).astype("datetime64[ns]")
    return wide.reindex(columns=months, fill_value=0.0).astype("float64")


def solution_months(ctx: Context, months: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per month, customer and subscribed solution with MRR at the snapshot > 0: [month, customer_id, solution, mrr].

    Built from the schedule pieces (ref = contract_id) active at each month's snapshot instant, for the
    customers the MRR table counts at that month (their MRR rounds to at least a cent).
    """
    schedule = ctx.schedule
    out_cols = ["month", "customer_id", "solution", "mrr"]
    if schedule.empty or not len(months):
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "mrr" else "object") for c in out_cols})
    snaps = snapshot_instants(months, ctx.as_of, ctx.timezone).asi8
    start = schedule["start"].astype("datetime64[ns, UTC]").array.asi8
    end = schedule["end"].astype("datetime64[ns, UTC]")
    end_ns = np.where(end.isna(), np.iinfo("int64").max, end.array.asi8)
    first = np.searchsorted(snaps, start, side="left")  # first snapshot at or after the start
    stop = np.searchsorted(snaps, end_ns, side="left")  # first snapshot at or after the (exclusive) end
    counts = np.maximum(stop - first, 0)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    month_pos = np.repeat(first, counts) + offsets
    solution = schedule["ref"].map(_contract_solutions(ctx)).fillna("Unknown")
    rows = pd.DataFrame(
        {
            "month": months[month_pos],
            "customer_id": np.repeat(schedule["customer_id"].to_numpy(), counts),
            "solution": np.repeat(solution.to_numpy(), counts),
            "mrr": np.repeat(schedule["mrr"].to_numpy(), counts),
        }
    )
    grouped = rows.groupby(["month", "customer_id", "solution"], as_index=False, sort=True)["mrr"].sum()
    # only customers the MRR table counts (their MRR rounds to at least a cent), so counts agree with it
    active = ctx.customer_months.loc[ctx.customer_months["mrr"] > 0, ["month", "customer_id"]].assign(
        month=lambda d: pd.to_datetime(d["month"]).astype("datetime64[ns]"),
        customer_id=lambda d: d["customer_id"].astype(str),
    )
    grouped = grouped.assign(customer_id=grouped["customer_id"].astype(str)).merge(active, on=["month", "customer_id"])
    return grouped.loc[grouped["mrr"] > 0, out_cols].reset_index(drop=True)


def _contract_solutions(ctx: Context) -> pd.Series:
    contracts = ctx.contracts
    if contracts is None or contracts.empty:
        return pd.Series(dtype="object")
    return contracts.drop_duplicates("contract_id").set_index(contracts.drop_duplicates("contract_id")["contract_id"].astype(str))["solution"]


def customer_attributes(ctx: Context) -> pd.DataFrame:
    """customer_id -> sector, channel ("Direct"/"Indirect") and partner (indirect customers only)."""
    customers = ctx.customers
    ids = customers["customer_id"].astype(str) if "customer_id" in customers else pd.Series(dtype="object")

    def column(name: str) -> pd.Series:
        if name not in customers:
            return pd.Series(None, index=customers.index, dtype="object")
        values = customers[name].astype("object")
        return values.where(values.notna() & (values.astype(str).str.strip() != ""), None)

    indirect_types = {t.strip().casefold() for t in ctx.params.portfolio.indirect_partner_types}
    ptype = column("partner_type")
    indirect = ptype.map(lambda t: t is not None and str(t).strip().casefold() in indirect_types).astype(bool)
    partner = column("partner_name").astype("object").where(indirect, None)
    frame = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(),
            "sector": column("sector").fillna(UNKNOWN_SECTOR).astype(str).str.strip().to_numpy(),
            "channel": np.where(indirect, "Indirect", "Direct"),
            "partner": np.where(indirect, partner.fillna(UNKNOWN_PARTNER).astype(str).str.strip(), None),
        }
    )
    return frame.drop_duplicates("customer_id").set_index("customer_id")


def _attributes_for(ctx: Context, ids: pd.Index) -> pd.DataFrame:
    """Attributes for these customer ids; a customer missing from the customers file is direct, sector unknown."""
    attrs = customer_attributes(ctx).reindex(ids)
    return attrs.assign(
        sector=attrs["sector"].fillna(UNKNOWN_SECTOR),
        channel=attrs["channel"].fillna("Direct"),
    )


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN (an empty cell) where the denominator is 0."""
    return numerator / denominator.where(denominator != 0)


def _money(values: pd.Series) -> pd.Series:
    return values.astype("float64").round(2)


# ---------------------------------------------------------------- Portfolio


def portfolio_by_month(ctx: Context) -> pd.DataFrame:
    """One row per MRR month: customers with MRR > 0 at the snapshot, direct / indirect / total, then one column per partner."""
    months = mrr_months(ctx)
    active = customer_matrix(ctx, months) > 0
    attrs = _attributes_for(ctx, active.index)
    direct = active.loc[attrs["channel"] == "Direct"].sum(axis=0)
    indirect = active.loc[attrs["channel"] == "Indirect"].sum(axis=0)
    total = active.sum(axis=0)
    frame = pd.DataFrame(
        {
            "Month": months,
            "Period": ctx.periods(months),
            "Direct": direct.reindex(months, fill_value=0).to_numpy(dtype="int64"),
            "Indirect": indirect.reindex(months, fill_value=0).to_numpy(dtype="int64"),
            "Total": total.reindex(months, fill_value=0).to_numpy(dtype="int64"),
        }
    )
    frame["Indirect share"] = _ratio(frame["Indirect"].astype("float64"), frame["Total"].astype("float64"))
    partners = attrs["partner"].dropna()
    if len(partners):
        per_partner = active.loc[partners.index].groupby(partners).sum()
        for name in sorted(per_partner.index, key=str.casefold):
            frame[f"Via {name}"] = per_partner.loc[name].reindex(months, fill_value=0).to_numpy(dtype="int64")
    return frame


# ---------------------------------------------------------------- Solutions


def solutions_by_month(ctx: Context) -> pd.DataFrame:
    """One row per MRR month: active customers, active customer-solution pairs, their average, distinct solutions in use."""
    months = mrr_months(ctx)
    sm = solution_months(ctx, months)
    pairs = sm.groupby("month")["solution"].size().reindex(months, fill_value=0)
    customers = sm.groupby("month")["customer_id"].nunique().reindex(months, fill_value=0)
    distinct = sm.groupby("month")["solution"].nunique().reindex(months, fill_value=0)
    per_customer = sm.groupby(["month", "customer_id"])["solution"].size()
    single = (per_customer == 1).groupby(level="month").sum().reindex(months, fill_value=0)
    return pd.DataFrame(
        {
            "Month": months,
            "Period": ctx.periods(months),
            "Active customers": customers.to_numpy(dtype="int64"),
            "Active solutions": pairs.to_numpy(dtype="int64"),
            "Solutions per customer": _ratio(pairs.astype("float64"), customers.astype("float64")).to_numpy(),
            "Solutions in use": distinct.to_numpy(dtype="int64"),
            "Customers with one solution": single.to_numpy(dtype="int64"),
            "One-solution share": _ratio(single.astype("float64"), customers.astype("float64")).to_numpy(),
        }
    )


def solutions_by_product(ctx: Context) -> pd.DataFrame:
    """One row per subscription solution sold up to as_of: customers and MRR at as_of, ARR, share of MRR, average MRR per customer."""
    months = mrr_months(ctx)
    sm = solution_months(ctx, months[-1:]) if len(months) else solution_months(ctx, months)
    contracts = ctx.contracts if ctx.contracts is not None else pd.DataFrame(columns=["solution", "kind", "start_date"])
    sold = contracts.loc[(contracts["kind"] == SUBSCRIPTION) & (contracts["start_date"] <= as_of_day(ctx)), "solution"]
    names = pd.Index(sorted(set(sold.astype(str)) | set(sm["solution"])), name="solution")
    per = sm.groupby("solution").agg(customers=("customer_id", "nunique"), mrr=("mrr", "sum")).reindex(names)
    per = per.fillna({"customers": 0, "mrr": 0.0})
    total = float(per["mrr"].sum())
    frame = pd.DataFrame(
        {
            "Solution": names.astype(str),
            "Customers": per["customers"].to_numpy(dtype="int64"),
            "MRR": _money(per["mrr"]).to_numpy(),
            "ARR": _money(per["mrr"] * 12).to_numpy(),
            "Share of MRR": (per["mrr"] / total).to_numpy() if total else np.full(len(per), np.nan),
            "Average MRR per customer": _money(_ratio(per["mrr"], per["customers"].astype("float64"))).to_numpy(),
        }
    )
    return frame.sort_values(["MRR", "Solution"], ascending=[False, True], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- Projects


def projects_by_month(ctx: Context) -> pd.DataFrame:
    """One row per month and project type: projects deployed, solutions they deployed, average per project."""
    projects = ctx.projects
    assert projects is not None
    deployed = projects.loc[projects["deployed_on"].notna() & (projects["deployed_on"] <= as_of_day(ctx))]
    deployed = deployed.assign(
        month=deployed["deployed_on"].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]"),
        n_solutions=deployed["solutions"].map(lambda items: len(set(items))).astype("int64"),
        project_type=deployed["project_type"].astype(str).str.strip(),
    )
    months = month_span(ctx, deployed["month"])
    types = sorted(deployed["project_type"].unique(), key=str.casefold)
    grid = pd.MultiIndex.from_product([months, types], names=["month", "project_type"])
    counts = (
        deployed.groupby(["month", "project_type"])
        .agg(projects=("project_id", "size"), solutions=("n_solutions", "sum"))
        .reindex(grid, fill_value=0)
    )
    return pd.DataFrame(
        {
            "Month": grid.get_level_values("month"),
            "Period": ctx.periods(grid.get_level_values("month")),
            "Project type": grid.get_level_values("project_type").astype(str),
            "Projects deployed": counts["projects"].to_numpy(dtype="int64"),
            "Solutions deployed": counts["solutions"].to_numpy(dtype="int64"),
            "Average solutions per project": _ratio(
                counts["solutions"].astype("float64"), counts["projects"].astype("float64")
            ).to_numpy(),
        }
    )


# ---------------------------------------------------------------- Sectors


def _format_money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}".strip()


def sector_sentence(table: pd.DataFrame, window: int, currency: str, end: str | None = None,
                    start: str | None = None) -> str:
    """The largest sector (by MRR at as_of), the fastest growing (by MRR growth over the window, when the table has
    it) and the fastest-churning one (by logo churn over the window, on the customers at its start), from the table's
    numbers.

    `end` / `start`: the window's last month and the month whose end it starts from ("YYYY-MM"), to name the period.
    Customers without a sector ("Unknown") are not a sector: they are never named here.
    """
    table = table.loc[table["Sector"] != UNKNOWN_SECTOR]
    period = f"in the {window} months to {end}" if end else f"in the last {window} months"
    if table.empty or table["MRR"].sum() <= 0:
        largest = "No customer has MRR at as_of."
    else:
        top = table.sort_values(["MRR", "Customers", "Sector"], ascending=[False, False, True], kind="stable").iloc[0]
        largest = (
            f"Largest sector: {top['Sector']}, {top['Share of MRR']:.1%} of MRR "
            f"({_format_money(top['MRR'], currency)}, {int(top['Customers'])} customer"
            f"{'' if int(top['Customers']) == 1 else 's'})."
        )
    parts = [largest]
    if "MRR growth" in table.columns:
        parts.append(_growth_sentence(table, window, currency, period, start))
    since = f"at the end of {start}" if start else "at the window's start"
    churning = table.loc[table["Churned customers"] > 0]
    if churning.empty:
        if int(table["Customers at the window's start"].sum()) == 0:
            fastest = (f"Fastest churning: not enough history (no sector had a paying customer {since}, {window} "
                       "months before the window's end, to measure churn on).")
        else:
            fastest = f"No sector lost a customer it had {since} {period}."
    else:
        worst = churning.sort_values(
            ["Logo churn rate", "Churned MRR", "Sector"], ascending=[False, False, True], kind="stable"
        ).iloc[0]
        base = int(worst["Customers at the window's start"])
        fastest = (
            f"Fastest churning: {worst['Sector']}, {int(worst['Churned customers'])} of its {base} customers "
            f"{since} lost {period} "
            f"({worst['Logo churn rate']:.1%}), {_format_money(worst['Churned MRR'], currency)} of MRR."
        )
    parts.append(fastest)
    return " ".join(parts)


def _growth_sentence(table: pd.DataFrame, window: int, currency: str, period: str, start: str | None) -> str:
    """The sector whose MRR grew the most over the window, in % of its MRR at the window's start."""
    since = f"at the end of {start}" if start else "at the window's start"
    growing = table.loc[table["MRR growth"].notna()]
    if growing.empty:
        return f"Fastest growing: not enough history (no sector had MRR {since}, {window} months before the window's end)."
    best = growing.assign(_added=growing["MRR at the window's end"] - growing["MRR at the window's start"]).sort_values(
        ["MRR growth", "_added", "Sector"], ascending=[False, False, True], kind="stable"
    ).iloc[0]
    if float(best["MRR growth"]) <= 0:
        return f"Fastest growing: none, no sector's MRR grew {period}."
    before, after = best["MRR at the window's start"], best["MRR at the window's end"]
    return (
        f"Fastest growing: {best['Sector']}, MRR up {best['MRR growth']:.1%} {period} "
        f"(from {_format_money(before, currency)} {since} to {_format_money(after, currency)})."
    )


def sectors(ctx: Context) -> pd.DataFrame:
    """One row per business sector of the customers file: customers and MRR at as_of, churn over the trailing window, and the summary sentence on the first row."""
    window = int(ctx.params.portfolio.sector_churn_window_months)
    months = mrr_months(ctx)
    matrix = customer_matrix(ctx, months)
    attrs = _attributes_for(ctx, matrix.index)
    all_sectors = set(customer_attributes(ctx)["sector"]) | set(attrs["sector"])
    names = pd.Index(sorted(all_sectors, key=str.casefold), name="sector")

    last = matrix.iloc[:, -1] if len(months) else pd.Series(0.0, index=matrix.index)
    # the window ends with the last complete month: a partial month of as_of is left out (metrics.md 4)
    end = as_of_month(ctx) - pd.DateOffset(months=1 if ctx.partial else 0)
    start_month = end - pd.DateOffset(months=window)
    zero = pd.Series(0.0, index=matrix.index)
    mrr_start = matrix[start_month] if start_month in matrix.columns else zero
    mrr_end = matrix[end] if end in matrix.columns else zero
    # churn over the window is measured on the customers paying at its start (metrics.md 4, rates over a period):
    # those of them at 0 at its end are churned, with the MRR they had at the start; a customer who signed and left
    # inside the window is not churn of the starting base
    at_start = mrr_start > 0
    churned = at_start & (mrr_end <= 0)

    paying = last > 0  # as the MRR tab counts customers: on the exact MRR
    # each customer's MRR to the cent, as the MRR tab sums it: the sectors' MRR adds up to its total
    last, mrr_start, mrr_end = (pd.Series(to_cents(v) / 100, index=v.index) for v in (last, mrr_start, mrr_end))
    per = pd.DataFrame(
        {
            "sector": attrs["sector"],
            "customers": paying.astype("int64"),
            "mrr": last.where(last > 0, 0.0),
            "at_start": at_start.astype("int64"),
            "churned": churned.astype("int64"),
            "churned_mrr": mrr_start.where(churned, 0.0),
            "mrr_start": mrr_start,
            "mrr_end": mrr_end,
        }
    ).groupby("sector").sum().reindex(names, fill_value=0)
    total = float(per["mrr"].sum())
    table = pd.DataFrame(
        {
            "Sector": names.astype(str),
            "Customers": per["customers"].to_numpy(dtype="int64"),
            "MRR": _money(per["mrr"]).to_numpy(),
            "Share of MRR": (per["mrr"] / total).to_numpy() if total else np.full(len(per), np.nan),
            "Average MRR per customer": _money(_ratio(per["mrr"], per["customers"].astype("float64"))).to_numpy(),
            "Customers at the window's start": per["at_start"].to_numpy(dtype="int64"),
            "Churned customers": per["churned"].to_numpy(dtype="int64"),
            "Churned MRR": _money(per["churned_mrr"]).to_numpy(),
            "Logo churn rate": _ratio(per["churned"].astype("float64"), per["at_start"].astype("float64")).to_numpy(),
            "MRR at the window's start": _money(per["mrr_start"]).to_numpy(),
            "MRR at the window's end": _money(per["mrr_end"]).to_numpy(),
            "MRR growth": _ratio(per["mrr_end"] - per["mrr_start"], per["mrr_start"]).to_numpy(),
        }
    ).sort_values(["MRR", "Customers", "Sector"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    summary = pd.Series(None, index=table.index, dtype="object")
    if len(table):
        label = "%Y-%m"
        summary.iloc[0] = sector_sentence(table, window, ctx.params.currency, end.strftime(label),
                                          start_month.strftime(label))
    return table.assign(Summary=summary)


# ---------------------------------------------------------------- Non-recurring revenue


def non_recurring_by_month(ctx: Context) -> pd.DataFrame:
    """One row per month: one-shot (non-recurring) revenue dated up to as_of, its items and customers."""
    shots = ctx.one_shots
    assert shots is not None
    shots = shots.loc[shots["date"] <= as_of_day(ctx)]
    months = month_span(ctx, shots["month"])
    per = shots.groupby("month").agg(
        amount=("amount", "sum"), items=("contract_id", "size"), customers=("customer_id", "nunique")
    ).reindex(months, fill_value=0)
    return pd.DataFrame(
        {
            "Month": months,
            "Period": ctx.periods(months),
            "Non-recurring revenue": _money(per["amount"]).to_numpy(),
            "One-shot items": per["items"].to_numpy(dtype="int64"),
            "Customers": per["customers"].to_numpy(dtype="int64"),
        }
    )


# ---------------------------------------------------------------- declarations

_CONTRACTS = frozenset({"contracts"})
_WINDOW_NOTE = (
    "the trailing window (portfolio.sector_churn_window_months, default 12): the last complete month and the months "
    "before it (a partial month of as_of is left out)"
)

TABS = [
    Tab(
        name="Portfolio",
        description=(
            "Customers in the portfolio (MRR > 0 at the month's snapshot; the last row is at as_of), direct and "
            "indirect, and per partner. Indirect = the customer's partner type is one of "
            "portfolio.indirect_partner_types (default Integrateur)."
        ),
        columns=(
            Column("Month", "month", "The month; its snapshot is the last second of the month, or as_of."),
            Column("Period", "text", PERIOD_DEFINITION),
            Column("Direct", "int", "Customers with MRR > 0 sold directly (or through a partner of another type)."),
            Column("Indirect", "int", "Customers with MRR > 0 served through a partner of an indirect type."),
            Column("Total", "int", "Direct + indirect: the Customers figure of the MRR tab."),
            Column("Indirect share", "percent", "Indirect / total; empty when there is no customer."),
        ),
        build=portfolio_by_month,
        datasets=_CONTRACTS,
        requires=("contracts",),
        wide_kind="int",
        charts=(Chart("Customers by channel", "stacked_column", "Month", ("Direct", "Indirect")),),
    ),
    Tab(
        name="Solutions",
        description=(
            "Subscription solutions in use, month by month (snapshot at the end of the month, or at as_of). "
            "One customer subscribing to two solutions counts two active solutions."
        ),
        columns=(
            Column("Month", "month", "The month."),
            Column("Period", "text", PERIOD_DEFINITION),
            Column("Active customers", "int", "Customers with at least one active subscription (MRR > 0)."),
            Column("Active solutions", "int", "Customer x solution pairs with an active subscription."),
            Column("Solutions per customer", "number", "Active solutions / active customers; empty with no customer."),
            Column("Solutions in use", "int", "Distinct solutions with at least one active customer."),
            Column("Customers with one solution", "int", "Active customers with exactly one active solution."),
            Column("One-solution share", "percent",
                   "Customers with one solution / active customers (the room left for cross-sell); empty with no customer."),
        ),
        build=solutions_by_month,
        datasets=_CONTRACTS,
        requires=("contracts",),
        charts=(
            Chart("Solutions per customer", "line", "Month", ("Solutions per customer",)),
            Chart("Customers with one solution only", "line", "Month", ("One-solution share",)),
        ),
    ),
    Tab(
        name="Solutions by product",
        description=(
            "Per subscription solution sold up to as_of: customers and MRR at as_of (sorted by MRR). A solution "
            "whose customers have all left shows zeros."
        ),
        columns=(
            Column("Solution", "text", "The solution, as named in the contracts."),
            Column("Customers", "int", "Customers with an active subscription to it at as_of."),
            Column("MRR", "money", "Its MRR at as_of (sum of ARR / 12 of the active contracts)."),
            Column("ARR", "money", "MRR x 12."),
            Column("Share of MRR", "percent", "Its MRR / the MRR of all solutions at as_of."),
            Column("Average MRR per customer", "money", "MRR / customers; empty with no customer."),
        ),
        build=solutions_by_product,
        datasets=_CONTRACTS,
        requires=("contracts",),
    ),
    Tab(
        name="Projects",
        description=(
            "Deployment projects per month (of deployedOn, up to as_of) and project type (the types found in "
            "the data). A project not deployed yet (no date) is not counted."
        ),
        columns=(
            Column("Month", "month", "The month the projects were deployed."),
            Column("Period", "text", PERIOD_DEFINITION),
            Column("Project type", "text", "The project's type, as in the data (e.g. Mid Market, Enterprise, Outsourced)."),
            Column("Projects deployed", "int", "Projects of this type deployed in the month."),
            Column("Solutions deployed", "int", "Distinct solutions per project, summed over those projects."),
            Column("Average solutions per project", "number", "Solutions deployed / projects deployed; empty with no project."),
        ),
        build=projects_by_month,
        datasets=_CONTRACTS,
        requires=("projects",),
    ),
    Tab(
        name="Sectors",
        description=(
            "Per business sector (customers without one: Unknown): customers and MRR at as_of, and churn and MRR "
            f"growth over {_WINDOW_NOTE}. The Summary cell of the first row names the largest, the fastest growing "
            "and the fastest-churning sector."
        ),
        columns=(
            Column("Sector", "text", "The customer's business sector."),
            Column("Customers", "int", "Customers with MRR > 0 at as_of."),
            Column("MRR", "money", "Their MRR at as_of."),
            Column("Share of MRR", "percent", "The sector's MRR / all MRR at as_of."),
            Column("Average MRR per customer", "money", "MRR / customers; empty with no customer."),
            Column("Customers at the window's start", "int",
                   "Customers with MRR > 0 at the snapshot just before the window (the base its churn is measured on)."),
            Column("Churned customers", "int",
                   "Of the customers at the window's start, those with MRR 0 at its end (one who signed and left inside "
                   "the window is not churn of that base: metrics.md 4)."),
            Column("Churned MRR", "money", "The MRR those churned customers had at the window's start."),
            Column("Logo churn rate", "percent",
                   "Churned customers / customers at the window's start; empty when none paid then (fastest churning "
                   "= highest)."),
            Column("MRR at the window's start", "money", "The sector's MRR at the snapshot just before the window."),
            Column("MRR at the window's end", "money", "The sector's MRR at the end of the window's last month."),
            Column("MRR growth", "percent",
                   "(MRR at the window's end - at its start) / MRR at its start; empty when it had none at the start "
                   "(fastest growing = highest)."),
            Column("Summary", "text", "On the first row: the largest sector by MRR, the fastest growing and the "
                                      "fastest-churning sector (Unknown is never named)."),
        ),
        build=sectors,
        datasets=_CONTRACTS,
        requires=("contracts",),
        charts=(Chart("MRR by sector", "column", "Sector", ("MRR",)),),
    ),
    Tab(
        name="Non-recurring revenue",
        description=(
            "One-shot contract amounts (setup, training, services) by the month of their start date, up to as_of. "
            "Never part of MRR."
        ),
        columns=(
            Column("Month", "month", "The month of the one-shot's start date."),
            Column("Period", "text", PERIOD_DEFINITION),
            Column("Non-recurring revenue", "money", "Sum of one-shot amounts."),
            Column("One-shot items", "int", "One-shot contracts."),
            Column("Customers", "int", "Distinct customers with a one-shot in the month."),
        ),
        build=non_recurring_by_month,
        datasets=_CONTRACTS,
        requires=("one_shots",),
    ),
]
