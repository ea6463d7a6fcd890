"""Month snapshots, MRR movements, rates and quarters (metrics.md 1, 3, 4), and the tabs that show them.

Tables, by grain:

    month_snapshots   one row per month: month (tz-naive first day), snapshot (UTC instant)
    customer_months   one row per customer and month, from the customer's first month with MRR to
                      the month of as_of (zeros included after it stops paying): month, customer_id, mrr
    movements         customer_months + mrr_prev, movement, delta
    mrr_by_month      one row per month: MRR, counts, movements, rates (MONTH_COLUMNS)
    mrr_by_quarter    one row per calendar quarter (QUARTER_COLUMNS)

Cents. customer_months keeps each customer's MRR as the exact sum of its active pieces, so
"MRR > 0" (active, customers, churn) means the same in every table built on it. Movements and
totals round each customer's MRR to the cent and sum integer cents, so the identity
MRR = MRR_prev + new + expansion + reactivation - contraction - churn holds exactly, to the cent,
in every published number (totals are sums of the rounded customer figures). A movement's kind is
decided on the exact values; since rounding never reverses an order, its amount has the right sign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.tables import Chart, Column, Context, Tab

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "flat")

MONTH_COLUMNS: tuple[str, ...] = (
    "month", "mrr", "customers", "arpa", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
    "reactivation_mrr", "net_new_mrr", "new_customers", "reactivated_customers", "churned_customers", "mrr_growth",
    "new_mrr_rate", "expansion_mrr_rate", "contraction_mrr_rate", "churned_mrr_rate", "logo_churn",
    "gross_mrr_churn", "net_mrr_churn", "quick_ratio",
)
_MONEY = ("mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr")
_COUNTS = ("customers", "new_customers", "reactivated_customers", "churned_customers")
_FLOWS = ("new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr",
          "new_customers", "reactivated_customers", "churned_customers")
QUARTER_COLUMNS: tuple[str, ...] = ("quarter", "quarter_start", "months", *MONTH_COLUMNS[1:])


# ----------------------------------------------------------------------------- snapshots


def _local_month(ts: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """The first day (tz-naive) of the month containing instant `ts`, in `timezone`."""
    return pd.Timestamp(ts).tz_convert(timezone).tz_localize(None).to_period("M").to_timestamp()


def month_snapshots(as_of: pd.Timestamp, first: pd.Timestamp, timezone: str) -> pd.DataFrame:
    """One row per month from the month of `first` to the month of `as_of` (in `timezone`), no gaps.

    Columns: month (tz-naive first day of the month), snapshot (UTC instant at which its MRR is read:
    the month's last second in `timezone`, or `as_of` for the month of `as_of`). Empty when `first`
    is after `as_of`.
    """
    as_of, first = pd.Timestamp(as_of), pd.Timestamp(first)
    months = pd.date_range(_local_month(first, timezone), _local_month(as_of, timezone), freq="MS")
    if first > as_of:
        months = months[:0]
    next_start = (months + pd.offsets.MonthBegin(1)).tz_localize(timezone, ambiguous=False, nonexistent="shift_forward")
    snapshot = pd.Series((next_start - pd.Timedelta(seconds=1)).tz_convert("UTC").as_unit("ns"))
    if len(snapshot):
        snapshot.iloc[-1] = as_of.tz_convert("UTC")
    return pd.DataFrame(
        {
            "month": months.astype("datetime64[ns]"),
            "snapshot": snapshot.astype("datetime64[ns, UTC]").to_numpy(),
        }
    ).assign(snapshot=lambda d: d["snapshot"].astype("datetime64[ns, UTC]"))


def _empty_customer_months() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": pd.Series(dtype="datetime64[ns]"),
            "customer_id": pd.Series(dtype="object"),
            "mrr": pd.Series(dtype="float64"),
        }
    )


def _ns(values: pd.Series) -> np.ndarray:
    """UTC instants as int64 ns (NaT -> int64 max: an open end)."""
    stamps = pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
    out = stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    out[stamps.isna().to_numpy()] = np.iinfo(np.int64).max
    return out


def customer_months(schedule: pd.DataFrame, as_of: pd.Timestamp, timezone: str) -> pd.DataFrame:
    """MRR per customer at each month snapshot.

    One row per customer and month, from the customer's first month with MRR > 0 to the month of
    `as_of`, zeros included (so a stop shows as churn and a restart as reactivation). Columns:
    month (tz-naive first day), customer_id (str), mrr (float, the exact sum of its pieces). A piece counts
    at a snapshot iff start <= snapshot < end; pieces starting after `as_of` are ignored.
    """
    as_of = pd.Timestamp(as_of)
    pieces = schedule.loc[(schedule["mrr"] > 0)]
    start = _ns(pieces["start"])
    keep = start <= as_of.value
    pieces, start = pieces.loc[keep], start[keep]
    if pieces.empty:
        return _empty_customer_months()
    snaps = month_snapshots(as_of, pd.Timestamp(start.min(), tz="UTC"), timezone)
    snap = snaps["snapshot"].dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    n_months = len(snap)
    first = np.searchsorted(snap, start, side="left")  # first snapshot at or after the start
    stop = np.searchsorted(snap, _ns(pieces["end"]), side="left")  # snapshots before the end
    count = np.maximum(stop - first, 0)
    codes, ids = pd.factorize(pieces["customer_id"].astype(str), sort=True)
    rows = np.repeat(np.arange(len(count)), count)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    month_ix = first[rows] + within
    cell = codes[rows].astype(np.int64) * n_months + month_ix
    cells, inverse = np.unique(cell, return_inverse=True)
    total = np.bincount(inverse, weights=pieces["mrr"].to_numpy(dtype="float64")[rows])
    active = total > 0
    cells, total = cells[active], total[active]
    # dense from each customer's first month with MRR to the month of as_of
    cust = cells // n_months
    cust_ids, cust_first = np.unique(cust, return_index=True)
    start_month = (cells % n_months)[cust_first]
    length = n_months - start_month
    grid_cust = np.repeat(cust_ids, length)
    grid_month = np.repeat(start_month, length) + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
    grid = grid_cust * n_months + grid_month
    values = np.zeros(len(grid), dtype="float64")
    values[np.searchsorted(grid, cells)] = total
    return pd.DataFrame(
        {
            "month": snaps["month"].to_numpy()[grid_month],
            "customer_id": np.asarray(ids, dtype=object)[grid_cust],
            "mrr": values,
        }
    )


# ----------------------------------------------------------------------------- movements


def to_cents(values: pd.Series | np.ndarray) -> np.ndarray:
    """Money as integer cents (rounded half to even, like the published cells)."""
    return np.rint(np.asarray(values, dtype="float64") * 100).astype(np.int64)


def _dense(customer_months: pd.DataFrame) -> pd.DataFrame:
    """customer_months with every month from each customer's first row to the last month of the table (0 filled)."""
    cm = customer_months.loc[:, ["month", "customer_id", "mrr"]].assign(
        customer_id=lambda d: d["customer_id"].astype(str), month=lambda d: d["month"].astype("datetime64[ns]"))
    cm = cm.groupby(["customer_id", "month"], as_index=False, sort=True)["mrr"].sum()
    if cm.empty:
        return _empty_customer_months()
    month_no = pd.DatetimeIndex(cm["month"]).year * 12 + pd.DatetimeIndex(cm["month"]).month - 1
    last = int(month_no.max())
    codes, ids = pd.factorize(cm["customer_id"], sort=True)
    first = pd.Series(np.asarray(month_no)).groupby(codes).min().to_numpy()
    length = last - first + 1
    if length.sum() == len(cm):
        return cm.loc[:, ["month", "customer_id", "mrr"]].reset_index(drop=True)
    grid_cust = np.repeat(np.arange(len(ids)), length)
    grid_no = np.repeat(first, length) + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
    span = last + 1
    values = np.zeros(len(grid_no))
    values[np.searchsorted(grid_cust * span + grid_no, codes * span + np.asarray(month_no))] = cm["mrr"].to_numpy()
    months = pd.to_datetime({"year": grid_no // 12, "month": grid_no % 12 + 1, "day": 1}).astype("datetime64[ns]")
    return pd.DataFrame({"month": months.to_numpy(), "customer_id": np.asarray(ids, dtype=object)[grid_cust],
                         "mrr": values})


def _classified(customer_months: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dense customer months, their movement kinds (from the exact values), prev and current MRR in cents, and active."""
    cm = _dense(customer_months)
    b = cm["mrr"].to_numpy(dtype="float64")
    ids = cm["customer_id"].to_numpy()
    first = np.r_[True, ids[1:] != ids[:-1]] if len(cm) else np.zeros(0, dtype=bool)
    a = np.where(first, 0.0, np.r_[0.0, b[:-1]])
    had = pd.Series(a > 0).groupby(np.cumsum(first)).cummax().to_numpy(dtype=bool) if len(cm) else first
    kind = np.select(
        [(a == 0) & (b > 0) & ~had, (a == 0) & (b > 0), (a > 0) & (b == 0), (a > 0) & (a < b), (b > 0) & (b < a)],
        ["new", "reactivation", "churn", "expansion", "contraction"],
        default="flat",
    ).astype(object)
    return cm, kind, to_cents(a), to_cents(b), b > 0


def movements(customer_months: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and month (customer_months made dense) with its MRR movement (metrics.md 3).

    Columns: month, customer_id, mrr_prev (its MRR at the previous snapshot, 0 before its first
    month), mrr, movement (new / expansion / contraction / churn / reactivation / flat), delta
    (mrr - mrr_prev); amounts rounded to the cent. Churn is the month the MRR falls to 0 (a row with
    mrr 0); new is the first rise from 0, reactivation any later one.
    """
    cm, kind, a, b, _ = _classified(customer_months)
    return cm.assign(mrr=b / 100, mrr_prev=a / 100, movement=kind, delta=(b - a) / 100).loc[
        :, ["month", "customer_id", "mrr_prev", "mrr", "movement", "delta"]
    ].reset_index(drop=True)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, NaN where den is 0 (an empty cell, never 0 or inf)."""
    return (num / den.where(den != 0)).astype("float64")


def _rates(frame: pd.DataFrame, mrr_prev: pd.Series, customers_prev: pd.Series) -> pd.DataFrame:
    lost = frame["churned_mrr"] + frame["contraction_mrr"]
    gained = frame["new_mrr"] + frame["expansion_mrr"] + frame["reactivation_mrr"]
    return frame.assign(
        arpa=_ratio(frame["mrr"], frame["customers"]),
        mrr_growth=_ratio(frame["mrr"] - mrr_prev, mrr_prev),
        new_mrr_rate=_ratio(frame["new_mrr"], mrr_prev),
        expansion_mrr_rate=_ratio(frame["expansion_mrr"], mrr_prev),
        contraction_mrr_rate=_ratio(frame["contraction_mrr"], mrr_prev),
        churned_mrr_rate=_ratio(frame["churned_mrr"], mrr_prev),
        logo_churn=_ratio(frame["churned_customers"], customers_prev),
        gross_mrr_churn=_ratio(lost, mrr_prev),
        net_mrr_churn=_ratio(lost - frame["expansion_mrr"] - frame["reactivation_mrr"], mrr_prev),
        quick_ratio=_ratio(gained, lost),
    )


def mrr_by_month(customer_months: pd.DataFrame) -> pd.DataFrame:
    """One row per month, from the first to the last month of `customer_months`, no gaps: MONTH_COLUMNS.

    Money columns are exact to the cent (summed in integer cents); counts are ints; rates are
    fractions against the previous month (NaN when the denominator is 0).
    """
    cm, kind, a, b, active = _classified(customer_months)
    if cm.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "month" else "float64") for c in MONTH_COLUMNS})
    cents = pd.DataFrame(
        {
            "month": cm["month"].to_numpy(),
            "mrr": b,
            "customers": active.astype(np.int64),
            "new_mrr": np.where(kind == "new", b, 0),
            "expansion_mrr": np.where(kind == "expansion", b - a, 0),
            "contraction_mrr": np.where(kind == "contraction", a - b, 0),
            "churned_mrr": np.where(kind == "churn", a, 0),
            "reactivation_mrr": np.where(kind == "reactivation", b, 0),
            "new_customers": (kind == "new").astype(np.int64),
            "reactivated_customers": (kind == "reactivation").astype(np.int64),
            "churned_customers": (kind == "churn").astype(np.int64),
        }
    )
    months = pd.date_range(cents["month"].min(), cents["month"].max(), freq="MS")
    sums = cents.groupby("month").sum().reindex(months, fill_value=0)
    sums["net_new_mrr"] = (sums["new_mrr"] + sums["expansion_mrr"] + sums["reactivation_mrr"]
                           - sums["contraction_mrr"] - sums["churned_mrr"])
    frame = sums.assign(**{c: sums[c] / 100 for c in _MONEY}).rename_axis("month").reset_index()
    frame["month"] = frame["month"].astype("datetime64[ns]")
    mrr_prev = frame["mrr"].shift(1, fill_value=0.0)
    customers_prev = frame["customers"].shift(1, fill_value=0)
    return _rates(frame, mrr_prev, customers_prev).loc[:, list(MONTH_COLUMNS)]


def mrr_by_quarter(mrr_by_month: pd.DataFrame) -> pd.DataFrame:
    """One row per calendar quarter of `mrr_by_month`: QUARTER_COLUMNS.

    quarter ("2017-Q1"), quarter_start (its first month), months (months of the quarter in the data:
    fewer than 3 for a quarter not over), MRR and customers at the quarter's last month, movements
    and counts summed over its months; rates against the MRR and customers at the end of the
    previous quarter (NaN when that is 0).
    """
    mm = mrr_by_month
    if mm.empty:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "quarter" else "float64") for c in QUARTER_COLUMNS})
    period = pd.DatetimeIndex(mm["month"]).to_period("Q")
    money = {c: to_cents(mm[c]) for c in _MONEY if c in _FLOWS}
    grouped = mm.assign(_q=period, **money).groupby("_q", sort=True)
    frame = grouped[list(_FLOWS)].sum()
    frame = frame.assign(
        mrr=grouped["mrr"].last(),
        customers=grouped["customers"].last().astype(np.int64),
        months=grouped.size().astype(np.int64),
        **{c: frame[c] / 100 for c in _FLOWS if c in money},
    )
    frame = frame.assign(
        quarter=[f"{p.year}-Q{p.quarter}" for p in frame.index],
        quarter_start=frame.index.to_timestamp(how="start").astype("datetime64[ns]"),
    ).reset_index(drop=True)
    mrr_prev = frame["mrr"].shift(1, fill_value=0.0)
    customers_prev = frame["customers"].shift(1, fill_value=0)
    return _rates(frame, mrr_prev, customers_prev).loc[:, list(QUARTER_COLUMNS)]


def check_identity(mrr_by_month: pd.DataFrame) -> list[str]:
    """Months where MRR != previous MRR + new + expansion + reactivation - contraction - churn, to the cent.

    Returns one sentence per broken month (empty = the identity holds everywhere).
    """
    mm = mrr_by_month
    c = {name: to_cents(mm[name]) for name in ("mrr", "new_mrr", "expansion_mrr", "reactivation_mrr",
                                                "contraction_mrr", "churned_mrr")}
    prev = np.r_[0, c["mrr"][:-1]]
    expected = prev + c["new_mrr"] + c["expansion_mrr"] + c["reactivation_mrr"] - c["contraction_mrr"] - c["churned_mrr"]
    broken = np.flatnonzero(expected != c["mrr"])
    months = pd.DatetimeIndex(mm["month"])
    return [
        f"{months[i]:%Y-%m}: MRR {c['mrr'][i] / 100:.2f} but previous {prev[i] / 100:.2f} + new "
        f"{c['new_mrr'][i] / 100:.2f} + expansion {c['expansion_mrr'][i] / 100:.2f} + reactivation "
        f"{c['reactivation_mrr'][i] / 100:.2f} - contraction {c['contraction_mrr'][i] / 100:.2f} - churn "
        f"{c['churned_mrr'][i] / 100:.2f} = {expected[i] / 100:.2f}"
        for i in broken
    ]


# ----------------------------------------------------------------------------- customers


def paid_revenue(charges: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """customer_id -> sum of positive charge amounts paid at or before as_of (refunds are not netted)."""
    paid = charges.loc[(charges["amount"] > 0) & (charges["paid_at"] <= as_of)]
    return paid.groupby(paid["customer_id"].astype(str))["amount"].sum().rename("lifetime_revenue")


def lifetime_revenue(ctx: Context) -> pd.Series:
    """customer_id -> lifetime revenue.

    Payment logs: the sum of the customer's positive charges paid up to as_of (refunds not netted).
    Contracts (no charges): the sum of its month-snapshot MRR over customer_months, i.e. one month of
    recurring revenue per month it was active (one-shot items are not included).
    """
    if ctx.charges is not None:
        return paid_revenue(ctx.charges, ctx.as_of)
    cm = ctx.customer_months
    return cm.groupby(cm["customer_id"].astype(str))["mrr"].sum().round(2)


def customer_summary(customer_months: pd.DataFrame, customers: pd.DataFrame, lifetime: pd.Series,
                     as_of_month: pd.Timestamp) -> pd.DataFrame:
    """One row per customer (in the attributes, with MRR, or with revenue).

    Columns: customer_id, first_month, last_month (first / last month with MRR > 0, NaT if never),
    current_mrr (at the month of as_of, rounded to the cent like the MRR tab), status (active / churned / never active), lifetime_revenue,
    then every other column of `customers` as it is. Sorted by current MRR, then lifetime revenue,
    both descending.
    """
    cm = customer_months.loc[customer_months["month"] <= as_of_month]
    cm = cm.assign(customer_id=cm["customer_id"].astype(str))
    active = cm.loc[cm["mrr"] > 0]
    spans = active.groupby("customer_id")["month"].agg(["min", "max"])
    current = active.loc[active["month"] == as_of_month].groupby("customer_id")["mrr"].sum()
    attrs = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    lifetime = lifetime.set_axis(lifetime.index.astype(str))
    ids = pd.Index(attrs["customer_id"]).union(spans.index).union(lifetime.index).union(pd.Index(cm["customer_id"].unique()))
    ids = ids.drop_duplicates()
    first = spans["min"].reindex(ids)
    current = current.reindex(ids, fill_value=0.0)
    status = np.select([current.to_numpy() > 0, first.notna().to_numpy()], ["active", "churned"], "never active")
    out = pd.DataFrame(
        {
            "customer_id": ids.astype(str),
            "first_month": first.to_numpy(),
            "last_month": spans["max"].reindex(ids).to_numpy(),
            "current_mrr": to_cents(current.to_numpy(dtype="float64")) / 100,  # as summed in the MRR tab
            "status": status.astype(object),
            "lifetime_revenue": lifetime.reindex(ids, fill_value=0.0).to_numpy(dtype="float64"),
        }
    )
    extra = attrs.set_index("customer_id").reindex(ids).reset_index(drop=True)
    out = pd.concat([out, extra.set_axis(out.index)], axis=1)
    return out.sort_values(["current_mrr", "lifetime_revenue", "customer_id"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------- tabs

_RATE = "against the previous month's MRR (empty when that is 0)"
MRR_COLUMNS: tuple[Column, ...] = (
    Column("Month", "month", "The calendar month (in the configured timezone); MRR is read at its last second, "
                             "or at as_of for the month of as_of."),
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
)
_PERIOD_RATE = "against the MRR at the end of the previous quarter (empty when that is 0)"
QUARTER_TAB_COLUMNS: tuple[Column, ...] = (
    Column("Quarter", "text", "The calendar quarter, e.g. 2017-Q1 (months in the configured timezone)."),
    Column("Quarter start", "month", "The quarter's first month."),
    Column("Months", "int", "Months of the quarter in the data: fewer than 3 for the quarter of as_of or the first one."),
    Column("MRR", "money", "MRR at the snapshot of the quarter's last month in the data."),
    Column("Customers", "int", "Customers with MRR > 0 at that snapshot."),
    Column("ARPA", "money", "MRR / Customers at the quarter's end."),
    Column("New MRR", "money", "The quarter's monthly New MRR, summed."),
    Column("Expansion MRR", "money", "The quarter's monthly Expansion MRR, summed."),
    Column("Contraction MRR", "money", "The quarter's monthly Contraction MRR, summed."),
    Column("Churned MRR", "money", "The quarter's monthly Churned MRR, summed."),
    Column("Reactivation MRR", "money", "The quarter's monthly Reactivation MRR, summed."),
    Column("Net new MRR", "money", "MRR - MRR at the end of the previous quarter = the sum of the monthly net new MRR."),
    Column("New customers", "int", "The quarter's monthly new customers, summed."),
    Column("Reactivated customers", "int", "The quarter's monthly reactivated customers, summed."),
    Column("Churned customers", "int", "The quarter's monthly churned customers, summed (a customer who churns "
                                       "twice counts twice)."),
    Column("MRR growth %", "percent", f"(MRR - previous quarter's MRR) / previous quarter's MRR, {_PERIOD_RATE}."),
    Column("New MRR %", "percent", f"New MRR / {_PERIOD_RATE[12:]}."),
    Column("Expansion MRR %", "percent", f"Expansion MRR / {_PERIOD_RATE[12:]}."),
    Column("Contraction MRR %", "percent", f"Contraction MRR / {_PERIOD_RATE[12:]}."),
    Column("Churned MRR %", "percent", f"Churned MRR / {_PERIOD_RATE[12:]}."),
    Column("Logo churn %", "percent", "Churned customers / customers at the end of the previous quarter (empty when "
                                      "that is 0)."),
    Column("Gross MRR churn %", "percent", f"(Churned + Contraction MRR) / {_PERIOD_RATE[12:]}."),
    Column("Net MRR churn %", "percent", f"(Churned + Contraction - Expansion - Reactivation MRR) / {_PERIOD_RATE[12:]}."),
    Column("Quick ratio", "number", "(New + Expansion + Reactivation MRR) / (Churned + Contraction MRR) over the "
                                    "quarter, empty when nothing was lost."),
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
    Column("Current rate", "money", "The monthly rate of its last renewal or of the term, prorations excluded."),
    Column("Guessed", "bool", "TRUE when no renewal was seen, so the interval is inferred (check it; correct it with "
                              "billing_overrides)."),
    Column("Reason", "text", "Why it was read this way, with the numbers."),
)


def _month_tab(ctx: Context) -> pd.DataFrame:
    return ctx.mrr_by_month.set_axis([c.name for c in MRR_COLUMNS], axis=1)


def _quarter_tab(ctx: Context) -> pd.DataFrame:
    return mrr_by_quarter(ctx.mrr_by_month).set_axis([c.name for c in QUARTER_TAB_COLUMNS], axis=1)


def _attribute_name(name: str, taken: set[str]) -> str:
    words = name.replace("_", " ").strip()  # partner_type -> Partner type
    label = words[:1].upper() + words[1:]
    return f"{label} (attribute)" if label in taken else label


def _customers_tab(ctx: Context) -> pd.DataFrame:
    as_of_month = _local_month(ctx.as_of, ctx.timezone)
    table = customer_summary(ctx.customer_months, ctx.customers, lifetime_revenue(ctx), as_of_month)
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


def _billing_tab(ctx: Context) -> pd.DataFrame:
    billing = ctx.billing
    assert billing is not None  # the tab requires it
    columns = ["customer_id", "ref", "kind", "interval", "anchor", "first_charge", "last_charge", "charges",
               "renewals", "prorations", "current_rate", "guessed", "reason"]
    return billing.loc[:, columns].set_axis([c.name for c in BILLING_TAB_COLUMNS], axis=1)


TABS: list[Tab] = [
    Tab(
        name="MRR",
        description="Monthly recurring revenue at each month's snapshot, its movements (new, expansion, contraction, "
                    "churn, reactivation) and the rates built from them; one row per month, no gaps.",
        columns=MRR_COLUMNS,
        build=_month_tab,
        charts=(
            Chart("MRR over time", "line", "Month", ("MRR",)),
            Chart("MRR movements", "stacked_column", "Month",
                  ("New MRR", "Expansion MRR", "Reactivation MRR", "Contraction MRR", "Churned MRR")),
            Chart("Churn", "line", "Month", ("Logo churn %", "Gross MRR churn %")),
        ),
    ),
    Tab(
        name="MRR by quarter",
        description="The MRR table by calendar quarter: MRR at the quarter's end, movements summed over its months, "
                    "rates against the end of the previous quarter.",
        columns=QUARTER_TAB_COLUMNS,
        build=_quarter_tab,
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
