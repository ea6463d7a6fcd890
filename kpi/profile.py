"""Customer profile (metrics.md 7): segments by seats and sessions per seat, and the core users.

One row per customer is built first (`customer_profile`), from the customer attributes, the month
snapshots and the lifetime revenue; both tabs aggregate it. The population is every customer in
the attributes table or with MRR or revenue: a customer with a missing attribute lands in the
"unknown" segment of that dimension, never dropped.

The tabs are declared in kpi/profile_tabs.py; kpi.tables.Context computes and keeps the run's
profile with `customer_profile`, so this module knows nothing of Context.

Definitions per group of customers:
    Customers          all customers of the group
    Active customers   MRR > 0 at the snapshot of the month of as_of
    MRR                their MRR at that snapshot; Average MRR = MRR / active customers
    Logo retention     active customers / customers ever active (MRR > 0 at some snapshot)
    Tenure             months with MRR > 0 (month snapshots), over customers ever active
    Lifetime revenue   the sum of their positive charges up to as_of
Core users = customers whose lifetime revenue is at or above the 75th percentile of all customers'
(and above 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.billing.timeline import group_starts
from kpi.mrr import PayingMonths, customer_keys, id_index, keys_at, paying_months, to_cents, union_ids
from kpi.params import SegmentParams
from kpi.schedule import CustomerCodes, same_ids

UNKNOWN = "unknown"
PROFILE_COLUMNS = ["customer_id", "seats", "sessions", "sessions_per_seat", "mrr", "ever_active", "active",
                   "tenure_months", "lifetime_revenue", "interval"]




def last_interval(billing: pd.DataFrame | None) -> pd.Series:
    """customer_id -> "monthly" | "annual": the billing interval of the customer's latest series or term."""
    if billing is None or billing.empty or "interval" not in billing.columns:
        return pd.Series(dtype="str", name="interval")
    order = [c for c in ("start", "anchor", "end") if c in billing.columns]
    if order == ["anchor"]:
        last = _last_by_anchor(billing)
        if last is not None:
            return last
    latest = billing.sort_values(order, kind="stable") if order else billing
    latest = latest.assign(customer_id=latest["customer_id"].astype(str)).drop_duplicates("customer_id", keep="last")
    return latest.set_index("customer_id")["interval"].astype("str").rename("interval")


def _last_by_anchor(billing: pd.DataFrame) -> pd.Series | None:
    """`last_interval` of a billing table as kpi.billing.billing_table makes it (sorted by customer, as text, then
    anchor, no anchor missing): each customer's last row, without sorting or hashing millions of rows; None when
    the table is not in that order."""
    anchor = billing["anchor"].to_numpy(dtype="datetime64[ns]")
    if np.isnat(anchor).any() or billing["customer_id"].isna().any():
        return None  # a missing anchor sorts last, a missing id is no text: the general path says what then
    ids = billing["customer_id"].astype(str).to_numpy(dtype=object)
    new = group_starts(ids)
    heads = ids[new]
    if not ((heads[1:] > heads[:-1]).all() and (anchor[1:] >= anchor[:-1])[~new[1:]].all()):
        return None
    last = np.r_[np.flatnonzero(new)[1:] - 1, len(ids) - 1]
    last = last[np.argsort(anchor[last], kind="stable")]  # in the order the sort by anchor gives
    return pd.Series(billing["interval"].to_numpy()[last], index=pd.Index(ids[last], name="customer_id"),
                     name="interval").astype("str")


def _numeric(customers: pd.DataFrame, column: str) -> pd.Series:
    if column not in customers.columns:
        return pd.Series(np.nan, index=customers.index, dtype="float64")
    return pd.to_numeric(customers[column], errors="coerce").astype("float64")


def customer_profile(customers: pd.DataFrame, customer_months: pd.DataFrame, lifetime: pd.Series,
                     as_of_month: pd.Timestamp, params: SegmentParams,
                     intervals: pd.Series | None = None, codes: CustomerCodes | None = None,
                     ids: pd.Index | None = None, paying: PayingMonths | None = None) -> pd.DataFrame:
    """One row per customer: PROFILE_COLUMNS. Attribute columns missing from `customers` are all unknown (NaN).
    `codes`: customer_months' customers as codes (kpi.schedule.CustomerCodes), when known: its rows are then grouped
    by code, and only the customers' ids are text. `ids` and `paying`: kpi.mrr.customer_ids and kpi.mrr.paying_months
    of these inputs, when already computed."""
    attrs = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype(str).to_numpy(),
            "seats": _numeric(customers, params.seats_column).to_numpy(),
            "sessions": _numeric(customers, params.sessions_column).to_numpy(),
        }
    ).drop_duplicates("customer_id")
    key, key_ids = customer_keys(customer_months, codes)
    coded = paying_months(customer_months, codes, as_of_month, paying)
    if coded is not None and key_ids is not None:  # read from the columns as arrays: no copy of the rows
        tenure, current = coded.months, coded.current
    else:
        counted = ((customer_months["month"] <= as_of_month) & (customer_months["mrr"] > 0)).to_numpy()
        active_months, key = customer_months.loc[counted], key.loc[counted]
        by_key = active_months["month"].groupby(key)  # by key: read at the ids through keys_at
        tenure = by_key.nunique()  # distinct months
        now = (active_months["month"] == as_of_month).to_numpy()
        current = active_months["mrr"].loc[now].groupby(key.loc[now]).sum()
    lifetime = lifetime.set_axis(lifetime.index.astype(str))
    if ids is None:
        ids = union_ids(customers, id_index(tenure, key_ids), lifetime)
    frame = attrs.set_index("customer_id").reindex(ids)
    seats = frame["seats"]
    interval = (intervals.set_axis(intervals.index.astype(str)) if intervals is not None
                else pd.Series(dtype="str")).reindex(ids)
    at = keys_at(ids, key_ids)
    # each customer's MRR to the cent, as the MRR tab counts it: a group's MRR is then the sum of what its customers
    # show (the Segments and Core users totals add up to the MRR tab's, not a few cents off)
    exact = current.reindex(at, fill_value=0.0).to_numpy(dtype="float64")
    mrr = to_cents(exact) / 100
    months = tenure.reindex(at, fill_value=0).to_numpy()
    same = key_ids is not None and same_ids(lifetime.index.to_numpy(dtype=object), key_ids)
    revenue = (lifetime.set_axis(pd.RangeIndex(len(lifetime))).reindex(at, fill_value=0.0) if same
               else lifetime.reindex(ids, fill_value=0.0))
    out = pd.DataFrame(
        {
            "customer_id": ids.astype(str),
            "seats": seats.to_numpy(),
            "sessions": frame["sessions"].to_numpy(),
            "sessions_per_seat": (frame["sessions"] / seats.where(seats > 0)).to_numpy(),
            "mrr": mrr,
            "ever_active": months > 0,
            "active": exact > 0,
            "tenure_months": months.astype("int64"),
            "lifetime_revenue": revenue.to_numpy(dtype="float64"),
            "interval": interval.to_numpy(dtype="object"),
        }
    )
    return out.loc[:, PROFILE_COLUMNS]


def seat_labels(bounds: tuple[int, ...]) -> list[str]:
    """Labels of the seat buckets from their lower bounds: (1, 2, 6, 11, 21) -> 1, 2-5, 6-10, 11-20, 21+."""
    labels = []
    for lo, hi in zip(bounds, [*bounds[1:], None], strict=True):
        if hi is None:
            labels.append(f"{lo}+")
        elif hi - 1 <= lo:
            labels.append(f"{lo}")
        else:
            labels.append(f"{lo}-{hi - 1}")
    return labels


def seat_segments(seats: pd.Series, bounds: tuple[int, ...]) -> tuple[pd.Series, list[str]]:
    """(segment label per customer, labels in order). Below the first bound: "<first"; missing: "unknown"."""
    bounds = tuple(sorted(bounds))
    labels = seat_labels(bounds)
    edges = [-np.inf, *bounds, np.inf]
    below = f"<{bounds[0]}"
    cut = pd.cut(seats, bins=edges, right=False, labels=[below, *labels])
    segment = cut.astype("object").where(seats.notna(), UNKNOWN)
    order = ([below] if (segment == below).any() else []) + labels + [UNKNOWN]
    return segment.astype("str"), order


def quantile_segments(values: pd.Series, q: int) -> tuple[pd.Series, list[str]]:
    """(segment label per customer, labels in order): q quantile groups of the known values, plus "unknown".

    Labels read "Q1 (0.50 to 3.00)"; tied edges merge groups, so there can be fewer than q.
    """
    known = values.dropna()
    segment = pd.Series(UNKNOWN, index=values.index, dtype="object")
    order: list[str] = []
    if len(known):
        codes, edges = pd.qcut(known, q=max(int(q), 1), labels=False, retbins=True, duplicates="drop")
        if len(edges) < 2:  # every value equal
            edges = np.array([known.min(), known.max()])
            codes = pd.Series(0, index=known.index)
        order = [f"Q{i + 1} ({edges[i]:.2f} to {edges[i + 1]:.2f})" for i in range(len(edges) - 1)]
        segment.loc[known.index] = [order[int(c)] for c in codes]
    return segment.astype("str"), [*order, UNKNOWN]


SEGMENT_COLUMNS = [
    "Dimension", "Segment", "Customers", "Share of customers", "Active customers", "MRR", "Share of MRR",
    "Average MRR", "Logo retention", "Average tenure (months)", "Lifetime revenue",
]


def _safe(numerator: pd.Series, denominator: pd.Series | float) -> pd.Series:
    d = denominator if isinstance(denominator, pd.Series) else pd.Series(denominator, index=numerator.index)
    d = d.astype("float64")
    return numerator.astype("float64") / d.where(d != 0)


def _aggregate(profile: pd.DataFrame, segment: pd.Series, order: list[str], dimension: str) -> pd.DataFrame:
    p = profile.assign(segment=segment.to_numpy(),
                       active_mrr=profile["mrr"].where(profile["active"], 0.0),
                       active_tenure=profile["tenure_months"].where(profile["ever_active"]))
    g = p.groupby("segment")
    stats = pd.DataFrame(
        {
            "customers": g.size(),
            "active": g["active"].sum(),
            "ever": g["ever_active"].sum(),
            "mrr": g["active_mrr"].sum(),
            "tenure": g["active_tenure"].mean(),
            "lifetime": g["lifetime_revenue"].sum(),
        }
    ).reindex(order)
    stats[["customers", "active", "ever"]] = stats[["customers", "active", "ever"]].fillna(0).astype("int64")
    stats[["mrr", "lifetime"]] = stats[["mrr", "lifetime"]].fillna(0.0)
    total_customers = float(len(profile))
    total_mrr = float(p["active_mrr"].sum())
    return pd.DataFrame(
        {
            "Dimension": dimension,
            "Segment": order,
            "Customers": stats["customers"].to_numpy(),
            "Share of customers": _safe(stats["customers"], total_customers).to_numpy(),
            "Active customers": stats["active"].to_numpy(),
            "MRR": stats["mrr"].to_numpy(),
            "Share of MRR": _safe(stats["mrr"], total_mrr).to_numpy(),
            "Average MRR": _safe(stats["mrr"], stats["active"]).to_numpy(),
            "Logo retention": _safe(stats["active"], stats["ever"]).to_numpy(),
            "Average tenure (months)": stats["tenure"].to_numpy(dtype="float64"),
            "Lifetime revenue": stats["lifetime"].to_numpy(),
        },
        columns=SEGMENT_COLUMNS,
    )


def segments(profile: pd.DataFrame, params: SegmentParams) -> pd.DataFrame:
    """Rows: each seat bucket, then each sessions-per-seat quantile group, each dimension with its "unknown" row.

    Columns SEGMENT_COLUMNS. Shares divide by all customers / all MRR; empty when that is 0.
    """
    seat_segment, seat_order = seat_segments(profile["seats"], params.seat_buckets)
    sps_segment, sps_order = quantile_segments(profile["sessions_per_seat"], params.sessions_per_seat_quantiles)
    return pd.concat(
        [_aggregate(profile, seat_segment, seat_order, "Seats"),
         _aggregate(profile, sps_segment, sps_order, "Sessions per seat")],
        ignore_index=True,
    )


CORE_COLUMNS = [
    "Group", "Customers", "Share of customers", "Active customers", "MRR", "Share of MRR",
    "Lifetime revenue", "Share of lifetime revenue", "Median lifetime revenue", "Median seats",
    "Seats unknown", "Median sessions", "Median sessions per seat", "Median tenure (months)", "Annual plan share",
]


def core_threshold(profile: pd.DataFrame) -> float:
    """The lifetime revenue at the 75th percentile of all customers (NaN when there are none)."""
    values = profile["lifetime_revenue"]
    return float(values.quantile(0.75)) if len(values) else float("nan")


def core_users(profile: pd.DataFrame) -> pd.DataFrame:
    """Rows "Core users", "Everyone else", "All customers"; columns CORE_COLUMNS.

    Core users: lifetime revenue >= the 75th percentile and > 0. Medians skip unknown values;
    the median tenure is over customers ever active; the annual plan share is over customers whose
    billing interval is known.
    """
    threshold = core_threshold(profile)
    core = (profile["lifetime_revenue"] >= threshold) & (profile["lifetime_revenue"] > 0)
    total_customers = float(len(profile))
    total_mrr = float(profile["mrr"].where(profile["active"], 0.0).sum())
    total_lifetime = float(profile["lifetime_revenue"].sum())
    rows = []
    for name, mask in (("Core users", core), ("Everyone else", ~core), ("All customers", core | ~core)):
        g = profile.loc[mask]
        mrr = float(g["mrr"].where(g["active"], 0.0).sum())
        lifetime = float(g["lifetime_revenue"].sum())
        known_interval = g["interval"].dropna()
        known_interval = known_interval.loc[known_interval.isin(["monthly", "annual"])]
        rows.append(
            {
                "Group": name,
                "Customers": len(g),
                "Share of customers": len(g) / total_customers if total_customers else np.nan,
                "Active customers": int(g["active"].sum()),
                "MRR": mrr,
                "Share of MRR": mrr / total_mrr if total_mrr else np.nan,
                "Lifetime revenue": lifetime,
                "Share of lifetime revenue": lifetime / total_lifetime if total_lifetime else np.nan,
                "Median lifetime revenue": g["lifetime_revenue"].median(),
                "Median seats": g["seats"].median(),
                "Seats unknown": int(g["seats"].isna().sum()),
                "Median sessions": g["sessions"].median(),
                "Median sessions per seat": g["sessions_per_seat"].median(),
                "Median tenure (months)": g.loc[g["ever_active"], "tenure_months"].median(),
                "Annual plan share": (known_interval == "annual").mean() if len(known_interval) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=CORE_COLUMNS)
