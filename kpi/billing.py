"""Payment log -> revenue schedule (metrics.md 2b): the service periods no billing export states.

`infer_schedule(charges, rules, as_of=...)` returns `(schedule, billing)`:

- schedule: kpi.schedule.SCHEDULE_COLUMNS, one row per piece of recurring revenue;
- billing: one row per series or term (BILLING_COLUMNS), with the reason it was read that way, so an
  analyst can check it and correct it with `billing_overrides`.

`as_of` is the instant the log was read at (None: its newest charge; later charges are ignored). A
rule that waits for a future charge never concludes from the absence of a charge that is not yet due
at as_of: a charge's first renewal is due by charge + 1 calendar month + renewal_tolerance, and until
then the charge is *pending* (it may be the first month of a new plan whose renewal we cannot have
seen yet).

The decisions, in the order they are taken (every step is vectorized over all customers; the only
Python loops are rounds bounded by the number of series per customer or months in the data):

1. Charges <= 0, and charges after as_of, are dropped (data quality counts the former).
2. Monthly series. A charge anchors a series when the charge closest to anchor + 1 calendar month
   (within +-renewal_tolerance) is free; slot k = anchor + k calendar months (day clamped, same time
   of day) is renewed by the free charge closest to it; the series ends at the first slot with none.
   Month-end drift: slot k is also renewed by a charge within the tolerance of the slot the previous
   renewal hit + 1 calendar month (day clamped), which differs from anchor + k months only for
   anchors on the 29th-31st (billing systems that count from the previous charge: 10-31, 11-30,
   12-30, ...); the closer of the two wins, the anchor's slot on a tie.
   Per customer, series are found oldest first, one per round; when several charges compete for the
   same first renewal, the one whose slot it hits most closely anchors (a seat added minutes before
   the real subscription must not become the anchor). A charge >= annual_min_amount is not the first
   month of a plan whose next charge is below annual_min_amount: it stays a single (annual) charge.
3. Prorations posing as renewals. A series with a single renewal, both charges below
   annual_min_amount, that lies inside a running series with two renewals or more, or inside the year
   of an annual-sized single charge, is noise (seat prorations that happen to fall a month apart): its
   two charges are read as prorations. One renewal inside another plan is not evidence enough for a
   second plan; two are.
4. Single charges >= annual_min_amount open annual terms (they are never prorations: a charge that
   size is an annual purchase or renewal, and spreading it over the days left of a smaller plan would
   invent a spike and then churn).
5. Other single charges, oldest first: inside a running series or term -> a proration of it;
   otherwise it opens a term: annual when a smaller single charge follows it within a year
   (prorations on an annual term) and its own first renewal was due by as_of, else one month.
   A pending charge (first renewal not yet due at as_of) whose every host ended before as_of is not
   a proration of a plan that stopped: it opens a provisional one-month term (a new plan), and the
   small charges of its month prorate that term.
6. A proration spreads its amount from its timestamp to the next boundary of the series or term it
   falls in (the nearest one if several run; for a pending charge that no running series or annual
   term covers, only the term still running at as_of that took it in), rate = amount / span in months
   of 365.25/12 days; `prorations="ignore"` drops these pieces (they are still counted in the Billing
   tab).
7. `billing_overrides`: "monthly" disables annual terms and step 3 for that customer; "annual"
   disables monthly series (every single charge opens an annual term or prorates one; no
   provisional terms).

A series piece runs from the charge to the next renewal when there is one (early or late within the
tolerance: never a gap, never counted twice), else to the next slot. When that slot (or a monthly
term's end) has passed at as_of while its renewal may still come (as_of < slot + tolerance), it runs
to slot + tolerance: a renewal late within the tolerance but not yet seen is no churn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.params import BillingRules
from kpi.schedule import SCHEDULE_COLUMNS, empty_schedule

BILLING_COLUMNS: tuple[str, ...] = (
    "customer_id", "ref", "kind", "interval", "anchor", "first_charge", "last_charge", "charges", "renewals",
    "prorations", "current_rate", "reason", "guessed",
)

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
MONTH_NS = 365.25 / 12 * DAY_NS  # the month prorations are normalized by
MAX_TOLERANCE_HOURS = 14 * 24  # slots are >= 28 days apart: a wider window would let one charge renew two slots

AUTO, MONTHLY, ANNUAL = 0, 1, 2
_OVERRIDES = {"monthly": MONTHLY, "annual": ANNUAL}


# ----------------------------------------------------------------------------- time and search helpers


def add_months(t_ns: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Instants (int64 ns since the epoch, UTC) + whole calendar months: day clamped to the month's end, same time of day."""
    t = np.asarray(t_ns, dtype=np.int64)
    day = t.astype("datetime64[ns]").astype("datetime64[D]")
    time_of_day = t - day.astype("datetime64[ns]").view(np.int64)
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64)
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    landed = first + np.minimum(day_of_month, length - 1)
    return landed.astype("datetime64[ns]").view(np.int64) + time_of_day


@dataclass(frozen=True)
class _Keys:
    """(group, instant) -> one sortable int64, so one searchsorted serves every customer at once.

    Groups are `stride` apart, wider than any instant queried, so a match within the tolerance is
    always in the same group. The unit is the finest (ns, us, ms, s) that keeps keys below 2**62.
    """

    t0: int
    unit: int
    stride: int

    @classmethod
    def fit(cls, t_min: int, t_max: int, groups: int, tol_ns: int) -> _Keys:
        t0 = t_min - tol_ns - DAY_NS
        span = t_max + 400 * DAY_NS + 2 * tol_ns - t0  # the latest instant ever keyed: a term end or a slot
        for unit in (1, 10**3, 10**6, 10**9):
            stride = span // unit + 2
            if stride * max(groups, 1) < 2**62:
                return cls(t0, unit, stride)
        raise ValueError("payment log too large to index: too many customers over too long a period")

    def __call__(self, group: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
        return np.asarray(group, dtype=np.int64) * self.stride + (np.asarray(t_ns, dtype=np.int64) - self.t0) // self.unit

    def span(self, ns: int) -> int:
        return ns // self.unit


def _nearest(sorted_keys: np.ndarray, queries: np.ndarray, tol: int) -> tuple[np.ndarray, np.ndarray]:
    """Position in `sorted_keys` of the key closest to each query within `tol` (-1: none), and the distance.

    Ties go to the earlier key.
    """
    n = len(sorted_keys)
    if n == 0 or len(queries) == 0:
        return np.full(len(queries), -1, dtype=np.int64), np.zeros(len(queries), dtype=np.int64)
    pos = np.searchsorted(sorted_keys, queries, side="left")
    left = np.clip(pos - 1, 0, n - 1)
    right = np.clip(pos, 0, n - 1)
    big = np.iinfo(np.int64).max
    d_left = np.where(pos > 0, queries - sorted_keys[left], big)
    d_right = np.where(pos < n, sorted_keys[right] - queries, big)
    best = np.where(d_right < d_left, right, left)
    dist = np.minimum(d_left, d_right)
    return np.where(dist <= tol, best, -1), dist


def _group_starts(group: np.ndarray) -> np.ndarray:
    """True at the first element of each run of equal values (the array is sorted by group)."""
    return np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)


def _range_min(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """min(values[lo:hi]) for each (lo, hi) pair, +inf where the range is empty (a sparse table)."""
    out = np.full(len(lo), np.inf)
    length = hi - lo
    ok = length > 0
    if not ok.any():
        return out
    levels = [values.astype("float64")]
    while (1 << len(levels)) <= length[ok].max():
        prev, half = levels[-1], 1 << (len(levels) - 1)
        levels.append(np.minimum(prev, np.r_[prev[half:], np.full(half, np.inf)]))
    level = np.zeros(len(lo), dtype=np.int64)
    level[ok] = np.floor(np.log2(length[ok])).astype(np.int64)
    for j, table in enumerate(levels):
        sel = ok & (level == j)
        if sel.any():
            out[sel] = np.minimum(table[lo[sel]], table[hi[sel] - (1 << j)])
    return out


def _renewal_window_end(end: np.ndarray, as_of: int, tol_ns: int) -> np.ndarray:
    """Monthly ends (a slot with no renewal seen): the ones passed at as_of whose renewal may still come (as_of <
    slot + tolerance) run to slot + tolerance, so a renewal that is late but not yet due is no churn."""
    return np.where((end <= as_of) & (as_of < end + tol_ns), end + tol_ns, end)


def _covering(starts: np.ndarray, ends: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For keyed intervals [start, end) and keyed instants: is each instant inside at least one interval?"""
    if len(starts) == 0:
        return np.zeros(len(queries), dtype=bool)
    order = np.argsort(starts, kind="stable")
    s, reach = starts[order], np.maximum.accumulate(ends[order])
    pos = np.searchsorted(s, queries, side="right") - 1
    # reach never leaks across customers: every key of an earlier customer is below any key of a later one
    return (pos >= 0) & (reach[np.maximum(pos, 0)] > queries)


# ----------------------------------------------------------------------------- the steps


@dataclass
class _Log:
    """The positive charges, sorted by (customer, time), as arrays."""

    ids: np.ndarray  # customer id (str) by customer code
    cust: np.ndarray  # customer code, int64
    t: np.ndarray  # int64 ns UTC
    amount: np.ndarray
    mode: np.ndarray  # AUTO / MONTHLY / ANNUAL, per charge


def _prepare(charges: pd.DataFrame, rules: BillingRules, as_of: pd.Timestamp | None) -> _Log:
    paid = pd.to_datetime(charges["paid_at"], utc=True).astype("datetime64[ns, UTC]")
    keep = (charges["amount"] > 0).to_numpy()
    if as_of is not None:
        keep = keep & (paid <= as_of).to_numpy()
    positive = charges.loc[keep]
    paid = paid.loc[keep]
    ids = positive["customer_id"].astype(str).to_numpy()
    t = paid.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    codes, uniques = pd.factorize(ids, sort=True)
    order = np.lexsort((np.arange(len(t)), t, codes))
    cust = codes.astype(np.int64)[order]
    uniques = np.asarray(uniques, dtype=object)
    overrides = dict(rules.billing_overrides)
    bad = sorted({v for v in overrides.values() if v not in _OVERRIDES})
    if bad:
        raise ValueError(f"billing_overrides: unknown interval {bad[0]!r} (expected monthly or annual)")
    by_code = np.array([_OVERRIDES.get(overrides.get(cid, ""), AUTO) for cid in uniques], dtype=np.int8)
    return _Log(
        ids=uniques,
        cust=cust,
        t=t[order],
        amount=positive["amount"].to_numpy(dtype="float64")[order],
        mode=by_code[cust] if len(cust) else np.zeros(0, dtype=np.int8),
    )


def _find_series(log: _Log, keys: _Keys, tol: int, annual_min: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly series (step 2): per charge, its series number (-1: none), slot index (0 = anchor) and slot hit.

    The slot hit (ns) is anchor + k months, or the month-end drift slot (the previous renewal's slot +
    1 month, day clamped) when that one is closer to the charge; the anchor's own time for slot 0.
    """
    n = len(log.t)
    series = np.full(n, -1, dtype=np.int64)
    slot_of = np.full(n, -1, dtype=np.int64)
    slot_at = np.zeros(n, dtype=np.int64)
    free = log.mode != ANNUAL
    key = keys(log.cust, log.t)
    slot1 = keys(log.cust, add_months(log.t, 1))
    next_id = 0
    cand = np.flatnonzero(free)
    while len(cand):
        avail = np.flatnonzero(free)
        pos, dist = _nearest(key[avail], slot1[cand], tol)
        ok = pos >= 0
        renewal = np.where(ok, avail[np.maximum(pos, 0)], -1)
        # a charge >= annual_min_amount followed a month later by a smaller-than-annual charge is an annual payment
        big_then_small = (log.mode[cand] == AUTO) & (log.amount[cand] >= annual_min) & ok
        big_then_small[ok] &= log.amount[renewal[ok]] < annual_min
        ok &= ~big_then_small
        cand, renewal, dist = cand[ok], renewal[ok], dist[ok]
        if not len(cand):
            break
        # per customer: the earliest candidate names the first renewal; the candidate hitting it closest anchors
        first = _group_starts(log.cust[cand])
        group = np.cumsum(first) - 1
        contested = renewal == renewal[first][group]
        c2, r2, d2, g2 = cand[contested], renewal[contested], dist[contested], group[contested]
        pick = np.lexsort((log.t[c2], d2, g2))
        pick = pick[_group_starts(g2[pick])]
        anchors, firsts = c2[pick], r2[pick]
        ids = next_id + np.arange(len(anchors))
        next_id += len(anchors)
        series[anchors], slot_of[anchors], free[anchors] = ids, 0, False
        series[firsts], slot_of[firsts], free[firsts] = ids, 1, False
        prev = add_months(log.t[anchors], 1)  # per new series: the slot its latest renewal hit
        slot_at[anchors], slot_at[firsts] = log.t[anchors], prev
        # later slots: a member just claimed is >= 28 days from any later slot, so `avail` needs no refresh
        avail = np.flatnonzero(free & np.isin(log.cust, log.cust[anchors]))
        live, k = np.arange(len(anchors)), 1
        while len(live):
            k += 1
            cust = log.cust[anchors[live]]
            slot = add_months(log.t[anchors[live]], k)
            pos, dist = _nearest(key[avail], keys(cust, slot), tol)
            drift = add_months(prev[live], 1)  # differs from `slot` only for anchors on the 29th-31st
            other = np.flatnonzero(drift != slot)
            if len(other):
                pos_d, dist_d = _nearest(key[avail], keys(cust[other], drift[other]), tol)
                closer = (pos_d >= 0) & ((pos[other] < 0) | (dist_d < dist[other]))
                pos[other[closer]], slot[other[closer]] = pos_d[closer], drift[other[closer]]
            renewed = pos >= 0
            live, pos, slot = live[renewed], pos[renewed], slot[renewed]
            hit = avail[pos]
            series[hit], slot_of[hit], free[hit], slot_at[hit] = ids[live], k, False, slot
            prev[live] = slot
        cand = np.flatnonzero(free & np.isin(log.cust, log.cust[anchors]))
    return series, slot_of, slot_at


def _weak_series(log: _Log, keys: _Keys, series: np.ndarray, slot_of: np.ndarray, annual_min: float) -> np.ndarray:
    """Per series: read it as prorations instead (step 3)?

    True for a series with a single renewal, both charges below annual_min_amount, lying inside a
    running series with two renewals or more, or inside the year of an annual-sized single charge.
    """
    n_series = int(series.max()) + 1 if len(series) and series.max() >= 0 else 0
    if n_series == 0:
        return np.zeros(0, dtype=bool)
    inside_any = series >= 0
    members = np.bincount(series[inside_any], minlength=n_series)
    small = np.ones(n_series, dtype=bool)
    np.logical_and.at(small, series[inside_any], log.amount[inside_any] < annual_min)
    anchor_of = np.zeros(n_series, dtype=np.int64)
    last_of = np.zeros(n_series, dtype=np.int64)
    anchor_of[series[slot_of == 0]] = np.flatnonzero(slot_of == 0)
    np.maximum.at(last_of, series[inside_any], np.flatnonzero(inside_any))
    candidate = (members == 2) & small & (log.mode[anchor_of] == AUTO)
    if not candidate.any():
        return candidate
    # strong hosts: series with >= 2 renewals (anchor to last renewal's next slot), annual-sized single charges' years
    strong = np.flatnonzero(members >= 3)
    big = np.flatnonzero((series < 0) & (log.amount >= annual_min) & (log.mode == AUTO))
    last_k = slot_of[last_of[strong]]
    starts = np.r_[keys(log.cust[anchor_of[strong]], log.t[anchor_of[strong]]), keys(log.cust[big], log.t[big])]
    ends = np.r_[keys(log.cust[anchor_of[strong]], add_months(log.t[anchor_of[strong]], last_k + 1)),
                 keys(log.cust[big], add_months(log.t[big], 12))]
    if len(starts) == 0:
        return np.zeros(n_series, dtype=bool)
    order = np.argsort(starts, kind="stable")
    s, reach = starts[order], np.maximum.accumulate(ends[order])
    a = keys(log.cust[anchor_of], log.t[anchor_of])
    r = keys(log.cust[last_of], log.t[last_of])
    pos = np.searchsorted(s, a, side="right") - 1
    inside = (pos >= 0) & (reach[np.maximum(pos, 0)] > r)
    return candidate & inside


@dataclass
class _Spans:
    """Series and terms: the hosts of prorations and the rows of the billing table."""

    cust: np.ndarray
    start: np.ndarray  # ns
    end: np.ndarray  # ns, exclusive
    series: np.ndarray  # series number, -1 for a term
    charge: np.ndarray  # anchor charge index
    annual: np.ndarray  # bool


def _terms(log: _Log, keys: _Keys, single: np.ndarray, series_spans: _Spans, annual_min: float,
           pending: np.ndarray, as_of: int, tol_ns: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps 4-5: which single charges open terms, which are annual, and why (smallest follower).

    Returns (opens, annual, follower, prorated, orphan): bool per charge, the smallest smaller charge
    that made a small term annual (NaN otherwise), the single charges that prorate something, and the
    pending charges that no series or annual-sized term running at as_of covers (they may only prorate
    a term still running at as_of; else they open a provisional term).
    """
    n = len(log.t)
    key = keys(log.cust, log.t)
    big = single & (log.amount >= annual_min) & (log.mode != MONTHLY)
    opens = big.copy()
    annual = big.copy()
    follower = np.full(n, np.nan)
    orphan = np.zeros(n, dtype=bool)
    # covered by a series or an annual-sized term -> a proration, whatever came before it
    big_end = add_months(log.t[big], 12)
    starts = np.r_[keys(series_spans.cust, series_spans.start), key[big]]
    ends = np.r_[keys(series_spans.cust, series_spans.end), keys(log.cust[big], big_end)]
    rest = np.flatnonzero(single & ~big)
    covered = _covering(starts, ends, key[rest])
    # ... unless it may be a new plan (pending) and every such host ended before as_of (step 5)
    new_plan = pending[rest] & (log.mode[rest] != ANNUAL)
    if new_plan.any():
        running = np.r_[series_spans.end > as_of, big_end > as_of]
        new_plan &= ~_covering(starts[running], ends[running], key[rest])
        orphan[rest[new_plan]] = True
    prorated = np.zeros(n, dtype=bool)
    prorated[rest[covered & ~new_plan]] = True
    u = rest[~covered | new_plan]  # sorted by (customer, time)
    if len(u):
        year = keys(log.cust[u], add_months(log.t[u], 12))
        hi = np.searchsorted(key[u], year, side="left")
        smallest = _range_min(log.amount[u], np.arange(len(u)) + 1, hi)
        # smaller charges after a pending one do not make it annual: its renewal may still come
        by_followers = (smallest < log.amount[u]) & (log.mode[u] == AUTO) & ~pending[u]
        annual_u = by_followers | (log.mode[u] == ANNUAL)
        follower[u[by_followers]] = smallest[by_followers]
        term_end = add_months(log.t[u], np.where(annual_u, 12, 1))
        term_end = np.where(annual_u, term_end, _renewal_window_end(term_end, as_of, tol_ns))
        fresh = pending[u] & (log.mode[u] != ANNUAL)
        todo = np.arange(len(u))
        # oldest first: the earliest undecided charge of each customer opens a term; what falls inside it prorates it,
        # except a pending charge in a term that ended before as_of (it opens its own term in a later round)
        while len(todo):
            head = _group_starts(log.cust[u[todo]])
            group = np.cumsum(head) - 1
            end = term_end[todo[head]][group]
            inside = (log.t[u[todo]] < end) & ~head & ~(fresh[todo] & (end <= as_of))
            opens[u[todo[head]]] = True
            annual[u[todo[head]]] = annual_u[todo[head]]
            prorated[u[todo[inside]]] = True
            todo = todo[~head & ~inside]
    return opens, annual, follower, prorated, orphan


def _hosts(log: _Log, keys: _Keys, prorations: np.ndarray, spans: _Spans, members: pd.DataFrame,
           running_only: np.ndarray, as_of: int) -> tuple[np.ndarray, np.ndarray]:
    """For each proration: the span it falls in with the nearest next boundary, and that boundary (ns).

    Where `running_only` is set (pending charges with no running series or annual host), only spans still
    running at as_of qualify: the term that took the charge in.
    """
    p = pd.DataFrame({"p": np.arange(len(prorations)), "cust": log.cust[prorations], "t": log.t[prorations],
                      "running_only": running_only})
    s = pd.DataFrame({"cust": spans.cust, "span": np.arange(len(spans.cust)), "start": spans.start,
                      "end": spans.end, "series": spans.series})
    m = p.merge(s, on="cust")
    m = m.loc[(m["start"] <= m["t"]) & (m["t"] < m["end"]) & ~(m["running_only"] & (m["end"] <= as_of))]
    boundary = m["end"].to_numpy().copy()
    in_series = m["series"].to_numpy() >= 0
    if in_series.any() and len(members):
        # the next renewal after the proration ends the piece it falls in
        mkey = keys(members["series"].to_numpy(), members["t"].to_numpy())
        q = keys(m["series"].to_numpy()[in_series], m["t"].to_numpy()[in_series])
        pos = np.searchsorted(mkey, q, side="right")
        same = (pos < len(mkey)) & (members["series"].to_numpy()[np.minimum(pos, len(mkey) - 1)]
                                    == m["series"].to_numpy()[in_series])
        nxt = members["t"].to_numpy()[np.minimum(pos, len(mkey) - 1)]
        boundary[in_series] = np.where(same, np.minimum(nxt, boundary[in_series]), boundary[in_series])
    m = m.assign(boundary=boundary).sort_values(["p", "boundary", "span"], kind="stable").drop_duplicates("p")
    if len(m) != len(prorations):
        raise AssertionError("a proration fell inside no series or term")  # by construction, never
    return m["span"].to_numpy(), m["boundary"].to_numpy()


# ----------------------------------------------------------------------------- the entry point


def empty_billing() -> pd.DataFrame:
    """A billing table with no rows and the right dtypes."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="object"),
            "ref": pd.Series(dtype="object"),
            "kind": pd.Series(dtype="object"),
            "interval": pd.Series(dtype="object"),
            "anchor": pd.Series(dtype="datetime64[ns, UTC]"),
            "first_charge": pd.Series(dtype="datetime64[ns, UTC]"),
            "last_charge": pd.Series(dtype="datetime64[ns, UTC]"),
            "charges": pd.Series(dtype="int64"),
            "renewals": pd.Series(dtype="int64"),
            "prorations": pd.Series(dtype="int64"),
            "current_rate": pd.Series(dtype="float64"),
            "reason": pd.Series(dtype="object"),
            "guessed": pd.Series(dtype="bool"),
        }
    )


def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("datetime64[ns]")).tz_localize("UTC")


def _minutes(ns: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Instants as "YYYY-MM-DD HH:MM" (UTC) where `where` is set, "" elsewhere (formatting only what a reason shows)."""
    out = np.full(len(ns), "", dtype=object)
    if where.any():
        out[where] = np.asarray(_utc(ns[where]).strftime("%Y-%m-%d %H:%M"), dtype=object)
    return out


def _duration(ns: float) -> str:
    seconds = int(round(ns / 1e9))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def infer_schedule(charges: pd.DataFrame, rules: BillingRules, *, as_of: pd.Timestamp | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Payment log -> (revenue schedule, billing classification), metrics.md 2b (see the module docstring).

    `charges`: customer_id, paid_at (UTC), amount; zero and negative amounts are ignored.
    `as_of`: the instant the log is read at (charges after it are ignored); None = the newest charge.
    A charge whose first renewal is not yet due at as_of is read cautiously (a provisional one-month
    term rather than an annual term or a proration of a plan that stopped).
    Returns the schedule (kpi.schedule.SCHEDULE_COLUMNS, one row per piece, sorted by customer and
    start) and the billing table (BILLING_COLUMNS, one row per series or term, sorted by customer and
    anchor; `ref` links the two).
    """
    if not 0 < rules.renewal_tolerance_hours < MAX_TOLERANCE_HOURS:
        raise ValueError(f"renewal_tolerance_hours must be between 0 and {MAX_TOLERANCE_HOURS}")
    if as_of is not None:
        as_of = pd.Timestamp(as_of)
        as_of = as_of.tz_localize("UTC") if as_of.tzinfo is None else as_of.tz_convert("UTC")
    log = _prepare(charges, rules, as_of)
    n = len(log.t)
    if n == 0:
        return empty_schedule(), empty_billing()
    as_of_ns = int(log.t.max()) if as_of is None else int(as_of.as_unit("ns").value)
    tol_ns = int(round(rules.renewal_tolerance_hours * HOUR_NS))
    annual_min = float(rules.annual_min_amount)
    keys = _Keys.fit(int(log.t.min()), int(log.t.max()), n, tol_ns)  # groups: customers, or series (< n)
    tol = keys.span(tol_ns)

    series, slot_of, slot_at = _find_series(log, keys, tol, annual_min)
    weak = _weak_series(log, keys, series, slot_of, annual_min)
    dissolved = np.zeros(n, dtype=bool)
    if weak.any():
        undone = (series >= 0) & weak[np.maximum(series, 0)]
        dissolved = undone & (slot_of == 1)  # one per pair, its renewal: counted in the host's reason
        series = np.where(undone, -1, series)
        slot_of = np.where(undone, -1, slot_of)
    series = _renumber(series)

    # series members, their pieces and spans
    is_member = series >= 0
    members = pd.DataFrame({"i": np.flatnonzero(is_member), "series": series[is_member], "k": slot_of[is_member],
                            "t": log.t[is_member], "slot": slot_at[is_member]}).sort_values(["series", "k"],
                                                                                           kind="stable")
    mi = members["i"].to_numpy()
    ms = members["series"].to_numpy()
    last = np.r_[ms[1:] != ms[:-1], True] if len(ms) else np.zeros(0, dtype=bool)
    anchor_i = np.zeros(int(ms.max()) + 1 if len(ms) else 0, dtype=np.int64)
    anchor_i[ms[members["k"].to_numpy() == 0]] = mi[members["k"].to_numpy() == 0]
    # anchor + (k + 1) months: never before the drift slot (the previous renewal's slot + 1 month, day clamped)
    next_slot = add_months(log.t[anchor_i[ms]], members["k"].to_numpy() + 1)
    piece_end = np.where(last, _renewal_window_end(next_slot, as_of_ns, tol_ns), np.r_[log.t[mi][1:], 0])
    n_series = len(anchor_i)
    series_end = np.zeros(n_series, dtype=np.int64)
    series_end[ms[last]] = piece_end[last]
    series_spans = _Spans(cust=log.cust[anchor_i], start=log.t[anchor_i], end=series_end,
                          series=np.arange(n_series), charge=anchor_i, annual=np.zeros(n_series, dtype=bool))

    single = ~is_member
    due = add_months(log.t, 1) + tol_ns  # by then a charge's first renewal, if any, has been seen
    pending = as_of_ns < due
    opens, annual, follower, prorated, orphan = _terms(log, keys, single, series_spans, annual_min, pending, as_of_ns,
                                                       tol_ns)
    ti = np.flatnonzero(opens)
    term_end = np.where(annual[ti], add_months(log.t[ti], 12),
                        _renewal_window_end(add_months(log.t[ti], 1), as_of_ns, tol_ns))
    term_spans = _Spans(cust=log.cust[ti], start=log.t[ti], end=term_end, series=np.full(len(ti), -1), charge=ti,
                        annual=annual[ti])
    spans = _Spans(*(np.r_[getattr(series_spans, f), getattr(term_spans, f)] for f in _Spans.__dataclass_fields__))

    pi = np.flatnonzero(prorated)
    host, boundary = _hosts(log, keys, pi, spans, members, orphan[pi], as_of_ns)

    # span refs: customer-id:series-N / customer-id:term-N, numbered by start within the customer
    n_spans = len(spans.cust)
    order = np.lexsort((spans.charge, spans.start, spans.cust))
    number = np.empty(n_spans, dtype=np.int64)
    number[order] = pd.Series(spans.cust[order]).groupby(spans.cust[order]).cumcount().to_numpy() + 1
    is_series = spans.series >= 0
    ref = np.array([f"{cid}:{'series' if s else 'term'}-{num}"
                    for cid, s, num in zip(log.ids[spans.cust], is_series, number, strict=True)], dtype=object)

    provisional = ~spans.annual & pending[spans.charge] & (log.mode[spans.charge] != ANNUAL) & (spans.series < 0)
    ended = _ended_hosts(spans, provisional, as_of_ns)
    schedule = _schedule(log, rules, spans, ref, members, piece_end, ms, pi, host, boundary)
    billing = _billing(log, rules, spans, ref, members, ms, last, pi, host, dissolved, follower, tol_ns, order,
                       _Provisional(provisional, due[spans.charge], ended))
    return schedule, billing


@dataclass
class _Provisional:
    """Per span, for the Billing reason: a term opened by a pending charge, when its first renewal is due (ns),
    and the span it falls in that ended before as_of (-1: none)."""

    term: np.ndarray
    due: np.ndarray
    ended_host: np.ndarray


def _ended_hosts(spans: _Spans, provisional: np.ndarray, as_of: int) -> np.ndarray:
    """For each provisional term: a span of its customer that covers its charge and ended before as_of (-1: none)."""
    out = np.full(len(spans.cust), -1, dtype=np.int64)
    terms = np.flatnonzero(provisional)
    if not len(terms):
        return out
    p = pd.DataFrame({"term": terms, "cust": spans.cust[terms], "t": spans.start[terms]})
    s = pd.DataFrame({"cust": spans.cust, "span": np.arange(len(spans.cust)), "start": spans.start, "end": spans.end})
    m = p.merge(s, on="cust")
    m = m.loc[(m["span"] != m["term"]) & (m["start"] <= m["t"]) & (m["t"] < m["end"]) & (m["end"] <= as_of)]
    m = m.sort_values(["term", "end"], ascending=[True, False], kind="stable").drop_duplicates("term")
    out[m["term"].to_numpy()] = m["span"].to_numpy()
    return out


def _renumber(series: np.ndarray) -> np.ndarray:
    """Series numbers 0..n-1 with no holes (after dissolving some)."""
    kept = series >= 0
    out = np.full(len(series), -1, dtype=np.int64)
    if kept.any():
        _, out[kept] = np.unique(series[kept], return_inverse=True)
    return out


def _schedule(log: _Log, rules: BillingRules, spans: _Spans, ref: np.ndarray, members: pd.DataFrame,
              piece_end: np.ndarray, ms: np.ndarray, pi: np.ndarray, host: np.ndarray, boundary: np.ndarray
              ) -> pd.DataFrame:
    mi = members["i"].to_numpy()
    terms = np.flatnonzero(spans.series < 0)
    parts = [
        (log.cust[mi], log.t[mi], piece_end, log.amount[mi], np.full(len(mi), "renewal", dtype=object), ref[ms]),
        (spans.cust[terms], spans.start[terms], spans.end[terms],
         np.where(spans.annual[terms], log.amount[spans.charge[terms]] / 12, log.amount[spans.charge[terms]]),
         np.where(spans.annual[terms], "annual term", "monthly term").astype(object), ref[terms]),
    ]
    if rules.prorations == "normalize" and len(pi):
        span_months = (boundary - log.t[pi]) / MONTH_NS
        keep = span_months > 0
        parts.append((log.cust[pi][keep], log.t[pi][keep], boundary[keep], log.amount[pi][keep] / span_months[keep],
                      np.full(int(keep.sum()), "proration", dtype=object), ref[host][keep]))
    cust, start, end, mrr, source, refs = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((end, start, cust))
    out = pd.DataFrame(
        {
            "customer_id": log.ids[cust[order]],
            "start": _utc(start[order]),
            "end": _utc(end[order]),
            "mrr": mrr[order].astype("float64"),
            "source": source[order],
            "ref": refs[order],
        }
    )
    return out.loc[:, list(SCHEDULE_COLUMNS)].reset_index(drop=True)


def _billing(log: _Log, rules: BillingRules, spans: _Spans, ref: np.ndarray, members: pd.DataFrame, ms: np.ndarray,
             last: np.ndarray, pi: np.ndarray, host: np.ndarray, dissolved: np.ndarray, follower: np.ndarray,
             tol_ns: int, order: np.ndarray, provisional: _Provisional) -> pd.DataFrame:
    n_spans = len(spans.cust)
    is_series = spans.series >= 0
    mi = members["i"].to_numpy()
    n_members = np.bincount(ms, minlength=n_spans)  # series come first among spans, numbered like `ms`
    prorations = np.bincount(host, minlength=n_spans)
    pairs = np.bincount(host[dissolved[pi]], minlength=n_spans) if len(pi) else np.zeros(n_spans, dtype=np.int64)
    last_charge = spans.start.copy()
    np.maximum.at(last_charge, ms, log.t[mi])
    np.maximum.at(last_charge, host, log.t[pi])
    anchor_t = spans.start
    offset = np.zeros(n_spans)
    drifted = np.zeros(n_spans, dtype=np.int64)
    if len(mi):
        slot = members["slot"].to_numpy()
        np.maximum.at(offset, ms, np.abs(log.t[mi] - slot).astype("float64"))
        drifted = np.bincount(ms, weights=slot != add_months(log.t[spans.charge[ms]], members["k"].to_numpy()),
                              minlength=n_spans).astype(np.int64)
    rate = np.where(is_series, 0.0, np.where(spans.annual, log.amount[spans.charge] / 12, log.amount[spans.charge]))
    rate[ms[last]] = log.amount[mi[last]]
    renewals = np.where(is_series, n_members - 1, 0)
    series_end = spans.end
    mode = log.mode[spans.charge]
    amount = log.amount[spans.charge]
    tol_h = f"{rules.renewal_tolerance_hours:g}"
    minimum = f"{rules.annual_min_amount:g}"
    prorate = "spread to its next boundary" if rules.prorations == "normalize" else "ignored (prorations = ignore)"
    until = _utc(series_end).strftime("%Y-%m-%d %H:%M")
    next_slot = np.where(is_series, add_months(anchor_t, renewals + 1), series_end)
    extended = is_series & (series_end != next_slot)  # the renewal of its next slot may still come at as_of
    slot_at = _minutes(next_slot, extended)
    due = _minutes(provisional.due, provisional.term)
    ended = provisional.ended_host
    ended_at = _minutes(spans.end[np.maximum(ended, 0)], ended >= 0)
    reasons = []
    for j in range(n_spans):  # one sentence per series or term, not per charge
        if is_series[j]:
            r = int(renewals[j])
            text = (f"{r} renewal{'s' if r != 1 else ''} 1 calendar month apart within ±{tol_h}h of the anchor's slot "
                    f"(largest offset {_duration(offset[j])}); ")
            if extended[j]:
                text += (f"slot {r + 1}, {slot_at[j]} UTC, has passed at as_of but its renewal may still come: covered "
                         f"until {until[j]} UTC, unless renewed")
            else:
                text += f"covered until slot {r + 1}, {until[j]} UTC, unless renewed"
            if drifted[j]:
                d = int(drifted[j])
                text += (f"; {d} renewal{'s' if d != 1 else ''} on the previous renewal's day + 1 calendar month "
                         "(month-end drift: the billing system counts from the previous charge), not the anchor's day")
            if mode[j] == MONTHLY:
                text += " (billing_overrides: monthly)"
        elif mode[j] == ANNUAL:
            text = f"single charge of {amount[j]:.2f} read as an annual term: billing_overrides sets this customer to annual"
        elif provisional.term[j]:
            text = (f"single charge of {amount[j]:.2f} whose first renewal is due by {due[j]} UTC, not yet at as_of: "
                    "one month for now (provisional; it may be the first month of a new plan)")
            if ended[j] >= 0:
                text += (f"; it falls inside {ref[ended[j]]}, which ended {ended_at[j]} UTC with no renewal, so it is "
                         "not read as a proration of that one")
            if mode[j] == MONTHLY:
                text += " (billing_overrides: monthly)"
        elif mode[j] == MONTHLY:
            text = (f"single charge of {amount[j]:.2f} with no renewal within ±{tol_h}h of a month later: one month "
                    "(billing_overrides: monthly)")
        elif amount[j] >= rules.annual_min_amount:
            text = f"single charge of {amount[j]:.2f} >= annual_min_amount {minimum}: annual term"
        elif spans.annual[j]:
            text = (f"single charge of {amount[j]:.2f} < annual_min_amount {minimum}, followed within a year by smaller "
                    f"charges that renew nothing (smallest {follower[spans.charge[j]]:.2f}): prorations on an annual term")
        else:
            text = (f"single charge of {amount[j]:.2f} < annual_min_amount {minimum} with no renewal within ±{tol_h}h "
                    "of a month later and no smaller charge within a year: one month")
        if prorations[j]:
            p = int(prorations[j])
            text += f"; {p} proration{'s' if p != 1 else ''} inside it, {prorate}"
        if pairs[j]:
            text += (f"; {int(pairs[j])} pair{'s' if pairs[j] != 1 else ''} of charges one month apart inside it read "
                     "as prorations, not a monthly series (one renewal inside another plan is not evidence enough)")
        reasons.append(text)
    kind = np.where(is_series, "monthly series", np.where(spans.annual, "annual term", "monthly term")).astype(object)
    out = pd.DataFrame(
        {
            "customer_id": log.ids[spans.cust],
            "ref": ref,
            "kind": kind,
            "interval": np.where(is_series | ~spans.annual, "monthly", "annual").astype(object),
            "anchor": _utc(anchor_t),
            "first_charge": _utc(anchor_t),
            "last_charge": _utc(last_charge),
            "charges": np.where(is_series, n_members, 1) + prorations,
            "renewals": renewals.astype("int64"),
            "prorations": prorations.astype("int64"),
            "current_rate": rate.astype("float64"),
            "reason": np.array(reasons, dtype=object),
            "guessed": ~is_series & (mode == AUTO),
        }
    )
    return out.iloc[order].loc[:, list(BILLING_COLUMNS)].reset_index(drop=True)
