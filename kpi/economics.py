"""Unit economics per month (metrics.md 6): what acquiring a customer costs and how fast it pays back.

    CAC                        = acquisition spend / new customers
    New MRR per new customer   = new MRR / new customers
    CAC payback (months)       = CAC / (new MRR per new customer * gross margin)
    Logo churn (trailing)      = the monthly logo churn rate averaged over the last `churn_window_months`
                                 months (all of them must have a rate)
    LTV                        = ARPA * gross margin / trailing logo churn
    LTV:CAC                    = LTV / CAC
    Cohort payback month       = the first age at which the cumulative MRR of the month's cohort
                                 (sum of its month snapshots) reaches that month's spend

Every ratio is empty (NaN) when its denominator is 0 or empty. "New customers" is taken from
`mrr_by_month`, so it is the MRR tab's figure by construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.cohorts import CohortMatrices, as_of_month, cohort_matrices
from kpi.params import EconomicsParams
from kpi.tables import PERIOD_DEFINITION, Chart, ColorScale, Column, Context, Tab
from kpi.wording import money, pct

ASSUMED = "Assumed inputs"  # the Unit economics tab's column naming the defaults a month's figures rest on

COLUMNS = (
    "Month",
    "Acquisition spend",
    "New customers",
    "CAC",
    "New MRR per new customer",
    "CAC payback (months)",
    "ARPA",
    "Logo churn (trailing)",
    "LTV",
    "LTV:CAC",
    "Cohort payback month",
)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0 or missing."""
    d = denominator.astype("float64")
    return numerator.astype("float64") / d.where(d != 0)


def spend_by_month(months: pd.Series, params: EconomicsParams) -> pd.Series:
    """Acquisition spend per month: the `spend_by_month` entry ("YYYY-MM") when there is one, else the constant."""
    table = {str(k): float(v) for k, v in params.spend_by_month}
    keys = pd.DatetimeIndex(months).strftime("%Y-%m")
    values = [table.get(k, float(params.acquisition_spend_per_month)) for k in keys]
    return pd.Series(values, index=months.index, dtype="float64")


def cohort_payback(customer_months: pd.DataFrame, spend: pd.Series, as_of_month: pd.Timestamp,
                   matrices: CohortMatrices | None = None) -> pd.Series:
    """month -> first age (months since the cohort's start) at which the cohort's cumulative MRR reaches spend.

    `spend` is indexed by month. NaN for a month with no cohort, or whose cohort has not paid back by as_of.
    """
    m = matrices if matrices is not None else cohort_matrices(customer_months, as_of_month)
    revenue, size = m.revenue, m.size
    result = pd.Series(np.nan, index=spend.index, dtype="float64")
    if revenue.empty:
        return result
    cumulative = revenue.cumsum(axis=1)  # NaN after as_of stays NaN
    target = spend.reindex(cumulative.index)
    reached = cumulative.ge(target, axis=0) & (size > 0).to_numpy()[:, None]
    first = reached.idxmax(axis=1).where(reached.any(axis=1))
    return result.fillna(first.reindex(spend.index).astype("float64"))


def unit_economics(mrr_by_month: pd.DataFrame, customer_months: pd.DataFrame, params: EconomicsParams,
                   as_of_month: pd.Timestamp | None = None, matrices: CohortMatrices | None = None,
                   partial: bool = False) -> pd.DataFrame:
    """One row per month of `mrr_by_month`, columns COLUMNS (see the module docstring).

    `partial`: the month of as_of is not over. Its CAC, CAC payback, trailing churn, LTV and LTV:CAC are left
    empty: they would set a whole month's spend against part of a month's new customers (and average part of a
    month's churn with whole months), so they would read as a jump that is not there. Every other row's trailing
    churn only spans complete months, since the partial month is always the last.
    """
    mm = mrr_by_month.reset_index(drop=True)
    if as_of_month is None:
        as_of_month = mm["month"].max() if len(mm) else pd.Timestamp("1970-01-01")
    gm = float(params.gross_margin)
    spend = spend_by_month(mm["month"], params)
    new = mm["new_customers"].astype("int64")
    cac = _ratio(spend, new)
    new_mrr_per = _ratio(mm["new_mrr"], new)
    payback = _ratio(cac, new_mrr_per * gm)
    window = max(int(params.churn_window_months), 1)
    churn = mm["logo_churn"].astype("float64").rolling(window, min_periods=window).mean()
    arpa = mm["arpa"].astype("float64")
    ltv = _ratio(arpa * gm, churn)
    by_month = pd.Series(spend.to_numpy(), index=pd.DatetimeIndex(mm["month"]))
    cohort = cohort_payback(customer_months, by_month, as_of_month, matrices).to_numpy()
    if partial:
        whole = pd.Series(mm["month"].to_numpy() != np.datetime64(as_of_month), index=mm.index)
        cac, payback, churn, ltv = cac.where(whole), payback.where(whole), churn.where(whole), ltv.where(whole)
    return pd.DataFrame(
        {
            "Month": mm["month"],
            "Acquisition spend": spend,
            "New customers": new,
            "CAC": cac,
            "New MRR per new customer": new_mrr_per,
            "CAC payback (months)": payback,
            "ARPA": arpa,
            "Logo churn (trailing)": churn,
            "LTV": ltv,
            "LTV:CAC": _ratio(ltv, cac),
            "Cohort payback month": cohort,
        },
        columns=list(COLUMNS),
    )


def economics_of(ctx: Context) -> pd.DataFrame:
    """The run's unit economics (COLUMNS), with the partial month of as_of left out of every ratio."""
    return unit_economics(ctx.mrr_by_month, ctx.customer_months, ctx.params.economics,
                          as_of_month(ctx.as_of, ctx.timezone), ctx.cohorts, partial=ctx.partial)


def assumed(months: pd.Series, params: EconomicsParams, currency: str) -> pd.Series:
    """Per month, the inputs of its spend-based figures that are defaults, not the business's own figures (the
    Summary's verdicts say the same: kpi.summary.assumed_inputs); empty when the spend and the gross margin are set."""
    labels = pd.DatetimeIndex(months).strftime("%Y-%m")
    margin = (f"gross margin: the default {pct(params.gross_margin)}, not set"
              if params.margin_is_default() else "")
    spend = f"spend: the default {money(params.acquisition_spend_per_month, currency)} a month, not set"
    texts = ["; ".join(t for t in ((spend if params.spend_is_default(m) else ""), margin) if t) for m in labels]
    return pd.Series(texts, index=months.index, dtype="object")


def _build(ctx: Context) -> pd.DataFrame:
    table = economics_of(ctx)
    table = table.assign(Period=ctx.periods(table["Month"]),
                         **{ASSUMED: assumed(table["Month"], ctx.params.economics, ctx.params.currency)})
    return table.loc[:, [c.name for c in TABS[0].columns]]


TABS: list[Tab] = [
    Tab(
        name="Unit economics",
        description=(
            "Per month: acquisition spend (setting economics.acquisition_spend_per_month or a spend file), "
            "what a new customer costs (CAC) and brings (new MRR), how many months it takes to pay back, "
            "lifetime value from ARPA and trailing logo churn, and when each month's cohort actually paid "
            "back its month's spend. Gross margin: setting economics.gross_margin. Empty cells: no denominator, "
            "or the partial month of as_of, whose ratios would set a whole month's spend against part of a month."
        ),
        columns=(
            Column("Month", "month", "The month (its first day)"),
            Column("Period", "text", PERIOD_DEFINITION),
            Column("Acquisition spend", "money",
                   "Spend on acquiring customers in the month: its economics.spend_by_month (or spend file) entry, "
                   "else economics.acquisition_spend_per_month, whose default is an assumption (Assumed inputs)"),
            Column("New customers", "int", "Customers with their first MRR this month (as in the MRR tab)"),
            Column("CAC", "money", "Customer acquisition cost: spend / new customers (empty for a partial month)"),
            Column("New MRR per new customer", "money", "New MRR / new customers"),
            Column("CAC payback (months)", "number", "CAC / (new MRR per new customer x gross margin)"),
            Column("ARPA", "money", "Average MRR per customer: MRR / customers"),
            Column("Logo churn (trailing)", "percent",
                   "Monthly logo churn rate averaged over the trailing months (economics.churn_window_months), "
                   "complete months only"),
            Column("LTV", "money", "Lifetime value: ARPA x gross margin / trailing logo churn"),
            Column("LTV:CAC", "number", "LTV / CAC (3 or more is the usual benchmark)"),
            Column("Cohort payback month", "int",
                   "Age (months after the cohort's first month, 0 = that month) at which this month's "
                   "cohort's cumulative MRR reached the month's spend; empty if not yet"),
            Column(ASSUMED, "text",
                   "The month's inputs that are defaults, not this business's figures (set them under [economics]): "
                   "the spend (CAC, CAC payback, LTV:CAC and cohort payback rest on it), the gross margin (CAC payback, "
                   "LTV and LTV:CAC rest on it); empty when none is"),
        ),
        build=_build,
        charts=(
            Chart("CAC vs new MRR per new customer", "line", "Month", ("CAC", "New MRR per new customer"),
                  caveat=ASSUMED, caveat_on=("spend",)),  # CAC rests on the spend alone
            Chart("LTV:CAC", "line", "Month", ("LTV:CAC",), caveat=ASSUMED, caveat_on=("spend", "gross margin")),
            Chart("CAC payback (months)", "column", "Month", ("CAC payback (months)",), caveat=ASSUMED,
                  caveat_on=("spend", "gross margin")),
        ),
        scales=(ColorScale(("Logo churn (trailing)",), good="low"),),
    ),
]
