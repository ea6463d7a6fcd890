"""Step 1: the payment log as sorted arrays, with what every later step needs to read it.

Charges <= 0 and charges after as_of are dropped (data quality counts the former); the rest are
sorted by (customer, time). `billing_overrides` become a mode per charge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.timeline import HOUR_NS, MAX_TOLERANCE_HOURS, Keys, add_months
from kpi.params import BillingRules
from kpi.schedule import text_codes

AUTO, MONTHLY, ANNUAL = 0, 1, 2
OVERRIDES = {"monthly": MONTHLY, "annual": ANNUAL}


@dataclass(frozen=True)
class Log:
    """The positive charges paid by as_of, sorted by (customer, time), as arrays; and the reading's settings."""

    ids: np.ndarray  # customer id (str) by customer code
    cust: np.ndarray  # customer code, int64, per charge
    t: np.ndarray  # int64 ns UTC, per charge
    amount: np.ndarray  # float64, per charge
    mode: np.ndarray  # AUTO / MONTHLY / ANNUAL (billing_overrides), per charge
    seats: np.ndarray  # float64 per charge: its customer's seat count today (NaN: unknown)
    pending: np.ndarray  # bool per charge: its first renewal is not yet due at as_of (charge + 1 month + tolerance)
    as_of: int  # ns: the instant the log is read at
    tol_ns: int  # renewal tolerance, ns
    annual_min: float  # annual_min_amount
    keys: Keys  # (customer or series, instant) -> sortable key
    tol: int  # renewal tolerance in key units

    def __len__(self) -> int:
        return len(self.t)

    @property
    def key(self) -> np.ndarray:
        """Each charge's (customer, time) key."""
        return self.keys(self.cust, self.t)


def utc_ns(when: pd.Timestamp) -> int:
    """A timestamp (naive = UTC) as int64 ns since the epoch."""
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def prepare(charges: pd.DataFrame, rules: BillingRules, as_of: pd.Timestamp | None,
            seats: pd.Series | None = None, keys: Keys | None = None) -> Log:
    """charges [customer_id, paid_at, amount] -> Log (empty when nothing positive was paid by as_of).

    `seats`: seat count by customer id (today's, from the customers file); missing, zero or negative = unknown.
    `keys`: the key fit of the whole log (`fit_keys`) when these charges are one partition of it, so that every
    partition searches at the same resolution as one reading of the whole log; None: fitted to these charges.
    """
    if not 0 < rules.renewal_tolerance_hours < MAX_TOLERANCE_HOURS:
        raise ValueError(f"renewal_tolerance_hours must be between 0 and {MAX_TOLERANCE_HOURS}")
    paid = pd.to_datetime(charges["paid_at"], utc=True).astype("datetime64[ns, UTC]")
    keep = (charges["amount"] > 0).to_numpy()
    if as_of is not None:
        keep = keep & (paid <= pd.Timestamp(utc_ns(as_of), tz="UTC")).to_numpy()
    positive = charges.loc[keep]
    paid = paid.loc[keep]
    t = paid.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    codes, uniques = text_codes(positive["customer_id"])
    order = np.lexsort((np.arange(len(t)), t, codes))
    cust = codes.astype(np.int64)[order]
    uniques = np.asarray(uniques, dtype=object)
    overrides = dict(rules.billing_overrides)
    bad = sorted({v for v in overrides.values() if v not in OVERRIDES})
    if bad:
        raise ValueError(f"billing_overrides: unknown interval {bad[0]!r} (expected monthly or annual)")
    by_code = np.array([OVERRIDES.get(overrides.get(cid, ""), AUTO) for cid in uniques], dtype=np.int8)
    t = t[order]
    tol_ns = int(round(rules.renewal_tolerance_hours * HOUR_NS))
    n = len(t)
    as_of_ns = (int(t.max()) if n else 0) if as_of is None else utc_ns(as_of)
    if keys is None:
        keys = Keys.fit(int(t.min()) if n else 0, int(t.max()) if n else 0, n, tol_ns)  # groups: customers or series
    by_customer = np.full(len(uniques), np.nan)
    if seats is not None and len(seats):
        known = pd.to_numeric(pd.Series(seats.to_numpy(), index=seats.index.astype(str)), errors="coerce")
        known = known.loc[~known.index.duplicated()]
        by_customer = known.reindex(uniques).to_numpy(dtype="float64")
        by_customer = np.where(by_customer > 0, by_customer, np.nan)
    pending = as_of_ns < add_months(t, 1) + tol_ns if n else np.zeros(0, dtype=bool)
    return Log(
        ids=uniques,
        cust=cust,
        t=t,
        amount=positive["amount"].to_numpy(dtype="float64")[order],
        mode=by_code[cust] if n else np.zeros(0, dtype=np.int8),
        seats=by_customer[cust] if n else np.zeros(0),
        pending=pending,
        as_of=as_of_ns,
        tol_ns=tol_ns,
        annual_min=float(rules.annual_min_amount),
        keys=keys,
        tol=keys.span(tol_ns),
    )


@dataclass(frozen=True)
class Extent:
    """What the key fit of a log depends on: its first and last positive charge by as_of (ns) and their number."""

    t_min: int
    t_max: int
    n: int

    @classmethod
    def of(cls, charges: pd.DataFrame, as_of: pd.Timestamp | None) -> Extent:
        """The extent of these charges' positive ones paid by as_of (as `prepare` keeps them)."""
        paid = pd.to_datetime(charges["paid_at"], utc=True).astype("datetime64[ns, UTC]")
        keep = (charges["amount"] > 0).to_numpy()
        if as_of is not None:
            keep = keep & (paid <= pd.Timestamp(utc_ns(as_of), tz="UTC")).to_numpy()
        t = paid.loc[keep].dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
        return cls(int(t.min()) if len(t) else 0, int(t.max()) if len(t) else 0, len(t))

    @classmethod
    def union(cls, parts: list[Extent]) -> Extent:
        """The extent of several sets of charges together."""
        full = [p for p in parts if p.n]
        if not full:
            return cls(0, 0, 0)
        return cls(min(p.t_min for p in full), max(p.t_max for p in full), sum(p.n for p in full))


def fit_keys(extent: Extent, rules: BillingRules) -> Keys:
    """The keys `prepare` fits to a log of this extent."""
    tol_ns = int(round(rules.renewal_tolerance_hours * HOUR_NS))
    return Keys.fit(extent.t_min, extent.t_max, extent.n, tol_ns)
