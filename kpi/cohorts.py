"""Monthly signup cohorts (metrics.md 5): logo and revenue retention by months since start.

A customer's cohort is the month of its first MRR > 0. For cohort C and age n (months since C):
logo retention = customers of C with MRR > 0 at the snapshot of month C+n / size of C; revenue
retention = their MRR at C+n / the cohort's MRR at C (can exceed 100%). Cells after the month of
`as_of` are empty, and so is every cell of a month in which nobody started (size 0).

The tabs are declared in kpi/cohorts_tabs.py; kpi.tables.Context computes and keeps the run's
CohortMatrices with `cohort_matrices`, so this module knows nothing of Context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.timeline import group_starts
from kpi.mrr import month_number, to_cents
from kpi.schedule import CustomerCodes


def as_of_month(as_of: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """The first day (tz-naive) of the month that contains `as_of`, in `timezone`."""
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(timezone).tz_localize(None)
    return ts.to_period("M").to_timestamp()


def first_months(customer_months: pd.DataFrame) -> pd.Series:
    """customer_id -> its cohort: the month of its first MRR > 0 (customers never active are absent)."""
    active = customer_months.loc[customer_months["mrr"] > 0]
    return active.groupby("customer_id")["month"].min().rename("cohort")


@dataclass(frozen=True)
class CohortMatrices:
    """Indexed by cohort month (every month from the first cohort to as_of's, no gaps).

    size: customers; start_mrr: their MRR in the cohort month; logos / revenue: ages 0..N as columns,
    customers of C active at C+n / their MRR at C+n, NaN where C+n is after as_of, and where C+n is the month of
    as_of when that month is partial (read at as_of, part of a month: metrics.md 4).
    """

    size: pd.Series
    start_mrr: pd.Series
    logos: pd.DataFrame
    revenue: pd.DataFrame


def cohort_matrices(customer_months: pd.DataFrame, as_of_month: pd.Timestamp, partial: bool = False,
                    codes: CustomerCodes | None = None) -> CohortMatrices:
    """The raw cohort counts behind both cohort tables (see CohortMatrices).

    `partial`: the month of as_of is not over, so its cells (each cohort's last age) are left empty rather than
    read like whole months, and every retention figure pooled from them uses complete months only. A cohort's
    size and starting MRR stay as of as_of (the partial cohort's so far, like the MRR tab's New MRR). `codes`:
    customer_months' customers as codes (kpi.schedule.CustomerCodes), when known: customers are then grouped and
    matched by code, without hashing their ids.
    """
    paying = (customer_months["mrr"] > 0).to_numpy()
    if codes is not None and codes.one_row_per_month(customer_months["month"]):
        counted = _counted(codes.cust[paying], month_number(customer_months["month"].loc[paying]),
                           to_cents(customer_months["mrr"].to_numpy()[paying]),
                           pd.DatetimeIndex(customer_months["month"]).unit, as_of_month, partial)
        if counted is not None:
            return counted
    active = customer_months.loc[paying, ["month", "customer_id", "mrr"]]
    once = False  # one row per customer and month: a cell's customers are counted, not hashed
    if codes is not None and codes.fits(len(customer_months)):
        active = active.assign(customer_id=codes.cust[paying])  # one code per id: the same groups as the ids
        once = codes.one_row_per_month(customer_months["month"])
    cohort = first_months(active)
    if cohort.empty:
        empty = pd.DataFrame(index=pd.DatetimeIndex([], name="cohort"), dtype="float64")
        return CohortMatrices(pd.Series(dtype="int64"), pd.Series(dtype="float64"), empty, empty)
    cohorts = pd.date_range(cohort.min(), as_of_month, freq="MS", name="cohort")
    ages = np.arange(len(cohorts))
    rows = active.join(cohort, on="customer_id").assign(
        age=lambda d: month_number(d["month"]) - month_number(d["cohort"])
    )
    rows = rows.loc[rows["month"] <= as_of_month]
    cells = rows.groupby(["cohort", "age"])["customer_id"]
    logos = (
        (cells.size() if once else cells.nunique()).unstack("age")
        .reindex(index=cohorts, columns=ages).fillna(0).astype("float64")
    )
    # Summed like the MRR tab (each customer to the cent, in integer cents), so a cohort's starting
    # MRR equals that month's New MRR exactly.
    revenue = (
        rows.assign(cents=to_cents(rows["mrr"])).groupby(["cohort", "age"])["cents"].sum().unstack("age")
        .reindex(index=cohorts, columns=ages).fillna(0).astype("float64") / 100
    )
    start_mrr = revenue[0].rename("start_mrr")  # every cohort's age 0 is observed, the partial one's too
    size = cohort.value_counts().reindex(cohorts, fill_value=0).astype("int64").rename("size")
    return _observed(size, start_mrr, logos, revenue, partial)


def _observed(size: pd.Series, start_mrr: pd.Series, logos: pd.DataFrame, revenue: pd.DataFrame,
              partial: bool) -> CohortMatrices:
    """The matrices with the cells after as_of emptied (and those of a partial month of as_of)."""
    n = len(size)
    ages = np.arange(logos.shape[1])
    # A cell exists only up to as_of: cohort C has len(cohorts) - position(C) observed ages.
    observed = ages[None, :] < (n - int(partial) - np.arange(n))[:, None]
    logos = logos.where(observed)
    revenue = revenue.where(observed)
    if partial and len(ages) > 1:  # the oldest age was read only in the partial month: a column of nothing
        logos, revenue = logos.iloc[:, :-1], revenue.iloc[:, :-1]
    return CohortMatrices(size, start_mrr, logos, revenue)


def _counted(cust: np.ndarray, month: np.ndarray, cents: np.ndarray, unit: str, as_of_month: pd.Timestamp,
             partial: bool) -> CohortMatrices | None:
    """`cohort_matrices` of the paying rows of a customer_months sorted by customer then month, one row per customer
    and month (their customer codes, month numbers and MRR in cents; `unit`: the months' datetime unit), counted with
    integer keys: each cell is a
    bincount, no grouping by (cohort, age). None when no customer's cohort comes by as_of (the general path then
    says what that gives)."""
    if not len(cust):
        return None
    firsts = np.flatnonzero(group_starts(cust))  # each customer's first paying row: its cohort
    cohort_of = month[firsts]
    last = int(month_number(pd.DatetimeIndex([as_of_month]))[0])
    low = int(cohort_of.min())
    if low > last:
        return None
    n = last - low + 1
    cohort = np.repeat(cohort_of, np.diff(np.r_[firsts, len(cust)]))
    keep = month <= last
    cell = (cohort[keep] - low) * n + (month[keep] - cohort[keep])
    first = pd.Timestamp(np.datetime64(low - 1970 * 12, "M")).as_unit(unit)  # the first cohort, as a month is
    cohorts = pd.date_range(first, as_of_month, freq="MS", name="cohort")
    ages = pd.Index(np.arange(n), name="age")
    logos = pd.DataFrame(np.bincount(cell, minlength=n * n).reshape(n, n).astype("float64"), index=cohorts,
                         columns=ages)
    # Summed like the MRR tab (each customer to the cent, in integer cents: exact in float64 up to 2**53), so a
    # cohort's starting MRR equals that month's New MRR exactly.
    revenue = pd.DataFrame(np.bincount(cell, weights=cents[keep], minlength=n * n).reshape(n, n) / 100,
                           index=cohorts, columns=ages)
    start_mrr = revenue[0].rename("start_mrr")
    size = pd.Series(np.bincount(cohort_of[cohort_of <= last] - low, minlength=n).astype("int64"), index=cohorts,
                     name="size")
    return _observed(size, start_mrr, logos, revenue, partial)


def _divide(numerator: pd.DataFrame, denominator: pd.Series) -> pd.DataFrame:
    """Row-wise numerator / denominator, NaN where the denominator is 0 (an empty cell, never 0 or inf)."""
    safe = denominator.where(denominator != 0).astype("float64")
    return numerator.div(safe, axis=0)


def cohort_tables(customer_months: pd.DataFrame, as_of_month: pd.Timestamp,
                  matrices: CohortMatrices | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(logos, revenue): one row per cohort month; columns Cohort, Cohort size, Starting MRR, then "0", "1", ...

    logos cells = logo retention, revenue cells = revenue retention (fractions); NaN after as_of and
    for cohorts of size 0. `matrices`: cohort_matrices(customer_months, as_of_month) if already computed.
    """
    m = matrices if matrices is not None else cohort_matrices(customer_months, as_of_month)
    head = pd.DataFrame(
        {
            "Cohort": pd.DatetimeIndex(m.size.index),
            "Cohort size": m.size.to_numpy(),
            "Starting MRR": m.start_mrr.to_numpy(dtype="float64"),
        }
    )
    out = []
    for cells in (_divide(m.logos, m.size), _divide(m.revenue, m.start_mrr)):
        wide = cells.set_axis([str(a) for a in cells.columns], axis=1).reset_index(drop=True)
        out.append(pd.concat([head, wide], axis=1))
    return out[0], out[1]


def retention_by_age(customer_months: pd.DataFrame, as_of_month: pd.Timestamp,
                     matrices: CohortMatrices | None = None) -> pd.DataFrame:
    """One row per age n: Age, Cohorts, Customers, Logo retention, Revenue retention.

    Pooled over every non-empty cohort that has reached age n: customers still active / customers
    who started; their MRR at age n / their MRR at start (so large cohorts weigh more).
    """
    m = matrices if matrices is not None else cohort_matrices(customer_months, as_of_month)
    size, logos, revenue = m.size, m.logos, m.revenue
    columns = ["Age", "Cohorts", "Customers", "Logo retention", "Revenue retention"]
    if logos.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    reached = logos.notna() & (size > 0).to_numpy()[:, None]
    started = reached.mul(size, axis=0).sum()
    start_mrr = reached.mul(m.start_mrr, axis=0).sum()
    frame = pd.DataFrame(
        {
            "Age": logos.columns.astype("int64"),
            "Cohorts": reached.sum().to_numpy(dtype="int64"),
            "Customers": started.to_numpy(dtype="int64"),
            "Logo retention": (logos.where(reached).sum() / started.where(started > 0)).to_numpy(),
            "Revenue retention": (revenue.where(reached).sum() / start_mrr.where(start_mrr > 0)).to_numpy(),
        }
    )
    return frame.loc[frame["Cohorts"] > 0].reset_index(drop=True)
