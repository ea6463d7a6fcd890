"""Steps 4-5: single charges (metrics.md 2b "Single-charge terms", "Pending charges").

A single charge is one that no monthly series took. In order:

4. A single charge >= annual_min_amount opens an annual term (it is never a proration: a charge that
   size is an annual purchase or renewal, and spreading it over the days left of a smaller plan
   would invent a spike and then churn).
5. Other single charges, oldest first: inside a running series or term -> a proration of it;
   otherwise it opens a term: annual when a smaller single charge follows it within a year
   (prorations on an annual term) and its own first renewal was due by as_of, else one month.

A charge is *pending* while its first renewal is not yet due at as_of (charge + 1 calendar month +
renewal tolerance): the absence of that renewal proves nothing yet. A pending charge whose every
host ended before as_of is not a proration of a plan that stopped: it opens a provisional one-month
term (a new plan), and the small charges of its month prorate that term. `billing_overrides`:
"monthly" disables annual terms; "annual" makes every single charge annual (no provisional terms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kpi.billing.log import ANNUAL, AUTO, MONTHLY, Log
from kpi.billing.series import Series, Spans
from kpi.billing.timeline import add_months, covering, group_starts, range_min, renewal_window_end


@dataclass(frozen=True)
class Terms:
    """How the single charges were read. Per charge: `opens` (it opens a term), `annual` (that term is annual),
    `follower` (the smallest smaller charge that made a small term annual, NaN otherwise), `prorated` (it prorates
    a series or term), `orphan` (pending, with no series or annual-sized term running at as_of over it: it may only
    prorate a term still running at as_of), `pending` (its first renewal is not yet due at as_of), `due` (when it
    is due, ns). `spans`: one per term, in charge order."""

    opens: np.ndarray
    annual: np.ndarray
    follower: np.ndarray
    prorated: np.ndarray
    orphan: np.ndarray
    pending: np.ndarray
    due: np.ndarray
    spans: Spans


def read_single_charges(log: Log, series: Series) -> Terms:
    """Steps 4 and 5 over the charges no series took (see the module docstring)."""
    n, keys, as_of = len(log), log.keys, log.as_of
    single = series.number < 0
    due = add_months(log.t, 1) + log.tol_ns  # by then a charge's first renewal, if any, has been seen
    pending = as_of < due
    key = log.key
    big = single & (log.amount >= log.annual_min) & (log.mode != MONTHLY)
    opens = big.copy()
    annual = big.copy()
    follower = np.full(n, np.nan)
    orphan = np.zeros(n, dtype=bool)
    # covered by a series or an annual-sized term -> a proration, whatever came before it
    hosts = series.spans
    big_end = add_months(log.t[big], 12)
    starts = np.r_[keys(hosts.cust, hosts.start), key[big]]
    ends = np.r_[keys(hosts.cust, hosts.end), keys(log.cust[big], big_end)]
    rest = np.flatnonzero(single & ~big)
    covered = covering(starts, ends, key[rest])
    # ... unless it may be a new plan (pending) and every such host ended before as_of
    new_plan = pending[rest] & (log.mode[rest] != ANNUAL)
    if new_plan.any():
        running = np.r_[hosts.end > as_of, big_end > as_of]
        new_plan &= ~covering(starts[running], ends[running], key[rest])
        orphan[rest[new_plan]] = True
    prorated = np.zeros(n, dtype=bool)
    prorated[rest[covered & ~new_plan]] = True
    u = rest[~covered | new_plan]  # sorted by (customer, time)
    if len(u):
        year = keys(log.cust[u], add_months(log.t[u], 12))
        hi = np.searchsorted(key[u], year, side="left")
        smallest = range_min(log.amount[u], np.arange(len(u)) + 1, hi)
        # smaller charges after a pending one do not make it annual: its renewal may still come
        by_followers = (smallest < log.amount[u]) & (log.mode[u] == AUTO) & ~pending[u]
        annual_u = by_followers | (log.mode[u] == ANNUAL)
        follower[u[by_followers]] = smallest[by_followers]
        term_end = add_months(log.t[u], np.where(annual_u, 12, 1))
        term_end = np.where(annual_u, term_end, renewal_window_end(term_end, as_of, log.tol_ns))
        fresh = pending[u] & (log.mode[u] != ANNUAL)
        todo = np.arange(len(u))
        # oldest first: the earliest undecided charge of each customer opens a term; what falls inside it prorates it,
        # except a pending charge in a term that ended before as_of (it opens its own term in a later round)
        while len(todo):
            head = group_starts(log.cust[u[todo]])
            group = np.cumsum(head) - 1
            end = term_end[todo[head]][group]
            inside = (log.t[u[todo]] < end) & ~head & ~(fresh[todo] & (end <= as_of))
            opens[u[todo[head]]] = True
            annual[u[todo[head]]] = annual_u[todo[head]]
            prorated[u[todo[inside]]] = True
            todo = todo[~head & ~inside]
    ti = np.flatnonzero(opens)
    term_end = np.where(annual[ti], add_months(log.t[ti], 12),
                        renewal_window_end(add_months(log.t[ti], 1), as_of, log.tol_ns))
    spans = Spans(cust=log.cust[ti], start=log.t[ti], end=term_end, series=np.full(len(ti), -1), charge=ti,
                  annual=annual[ti])
    return Terms(opens=opens, annual=annual, follower=follower, prorated=prorated, orphan=orphan, pending=pending,
                 due=due, spans=spans)
