"""Steps 4-5, around the price book: what a charge's own customer's monthly plans say before the book reads it.

The book reads an amount at a seat count (kpi.billing.pricebook.reading); these say which count, and which charges
its reading must treat apart, from the customer's monthly series found in steps 2-3:
- `rate_of_piece`: the rate of the series piece a charge falls in (0: outside every running monthly plan, "alone");
- `seats_for_reading`: the seat count a charge is read at (today's, or unknown when a later plan took it);
- `before_a_monthly_plan`: the charges a monthly plan of the customer starts after within a month (something
  beside that plan, not a second monthly plan), and those bought together with a dearer one;
- `resumed_on_a_slot`: the charges a monthly plan at their very amount starts again on, months later;
- `renewal_switches` (`annual_price_for`): a series renewal that is an annual price for the month before it, a switch
  to annual (kpi.billing.series.settle_series detaches it).
kpi.billing.terms (step 5) uses `rate_of_piece` and `annual_price_for` too.
"""

from __future__ import annotations

import numpy as np

from kpi.billing.log import AUTO, Log
from kpi.billing.pricebook import PriceBook, Verdict
from kpi.billing.pricebook.book import close
from kpi.billing.prices import MIN_ANNUAL_MONTHS, same_amount
from kpi.billing.series import Series
from kpi.billing.timeline import add_months, nearest

RATIO_TOLERANCE = 0.001  # a switch price is 10 or 12 times the monthly rate to 0.1%: 1490 is no 12 x 125.40 (11.88)


def annual_price_for(amount: np.ndarray, rate: np.ndarray, book_annual: np.ndarray, ratios: tuple[float, ...]
                     ) -> np.ndarray:
    """Is each amount an annual price for a monthly plan of `rate`? 10 or 12 times it (or the price book's own
    ratio), or an amount the price book reads as annual that is at least MIN_ANNUAL_MONTHS times the rate."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # (a rate of 1e-300: no price's ratio)
        ratio = np.where(rate > 0, amount / rate, 0.0)
    hit = np.zeros(len(amount), dtype=bool)
    for r in ratios:
        hit |= np.abs(ratio - r) <= RATIO_TOLERANCE * r
    return hit | (book_annual & (ratio >= MIN_ANNUAL_MONTHS))


def renewal_switches(log: Log, series: Series, verdict: Verdict, ratios: tuple[float, ...]) -> np.ndarray:
    """Per charge: the rate of its series' previous renewal when it is an annual price for it (0: not so)."""
    mi = series.member_index
    prev = np.r_[-1, mi[:-1]]
    same = np.r_[False, series.member_series[1:] == series.member_series[:-1]]
    rate = np.where(same, log.amount[np.maximum(prev, 0)], 0.0)
    out = np.zeros(len(log))
    hit = same & annual_price_for(log.amount[mi], rate, verdict.annual[mi] & (log.mode[mi] == AUTO), ratios)
    out[mi[hit]] = rate[hit]
    return out


def series_anchors(log: Log, series: Series) -> tuple[np.ndarray, np.ndarray]:
    """The charges that anchor a monthly series, by (customer, time), and their keys: what `before_a_monthly_plan` and
    `resumed_on_a_slot` search."""
    mi = series.member_index
    anchor = mi[series.members["k"].to_numpy() == 0]
    anchor = anchor[np.argsort(log.key[anchor], kind="stable")]
    return anchor, log.key[anchor]


def before_a_monthly_plan(log: Log, series: Series, alone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per charge: does a monthly series of its customer start after it, within a calendar month of it and at a
    smaller amount, the charge taking no part in that series? Then the series is the customer's monthly plan and the
    charge something beside it (491172: 180 on 2016-11-27, then 18 a seat a month from the next day), not a second
    monthly plan. A bigger plan starting after a month of a smaller one is an upgrade (222712: 75, then 150 a week
    later), which says nothing of the charge (its first, the nearest, series decides); but one that starts within the
    renewal tolerance after it, at a higher amount, was bought with it (180, then a monthly plan of 270 a minute
    later): two plans, and the one that renews monthly is the monthly plan (item 67; for a charge whose renewal was
    due, outside every running monthly plan). Returns (beside, together): the charges either way, and those of the
    second kind only. `alone`: per charge, is it outside every running monthly plan (`rate_of_piece` == 0)."""
    out = np.zeros(len(log), dtype=bool)
    together = np.zeros(len(log), dtype=bool)
    anchor_of, anchors = series_anchors(log, series)
    if not len(anchors):
        return out, together
    single = np.flatnonzero(series.number < 0)
    after = np.searchsorted(anchors, log.key[single], side="right")
    found = after < len(anchors)
    at = np.minimum(after, len(anchors) - 1)
    limit = log.keys(log.cust[single], add_months(log.t[single], 1))
    cheaper = found & (anchors[at] <= limit) & (log.amount[anchor_of[at]] < log.amount[single])
    # (bought together: a dearer plan, not the same amount again, a retried or doubled charge; settled, as a pending one
    # may renew yet; and outside every running monthly plan, where it may be that plan's proration or switch)
    plan = log.amount[anchor_of[at]]
    together[single] = found & (anchors[at] <= log.keys(log.cust[single], log.t[single] + log.tol_ns)) & (
        plan > log.amount[single]) & ~same_amount(plan, log.amount[single]) & ~log.pending[single] & alone[single]
    out[single] = cheaper | together[single]
    return out, together


def seats_for_reading(log: Log, series: Series, book: PriceBook) -> tuple[np.ndarray, np.ndarray]:
    """Per charge: the seat count the price book reads it at: its customer's seats today (NaN: unknown), but unknown for
    a single charge (no member of a monthly series: those read as they did) that no seat price reads exactly at that
    count and that comes before the plan the customer's latest charge belongs to, when that charge is exactly today's
    seats x a seat price of the book and that plan starts after the earlier charge's month (and the renewal tolerance)
    is out. Today's count is then that later plan's and says nothing of the earlier charge: 540 by a customer whose
    1305 = 29 seats x 45 a month started half a year later is weighed as 1 seat x 540 a year or 12 seats x 45 a month
    by the log's mix and seat counts, not by 12's nearness to 29 (generated seat12 seed 1, 580100: a year, read as a
    month then churn). Several charges at the customer's latest instant: an exact one among them, whatever their order
    in the file. Returns those seats and, per charge, the latest charge whose plan took today's count from it (-1:
    none; the Billing reason cites it)."""
    seats = log.seats.copy()
    n = len(log)
    spoken_by = np.full(n, -1, dtype=np.int64)
    if not n:
        return seats, spoken_by
    known = ~np.isnan(seats)
    exact = np.zeros(n, dtype=bool)
    for p in (*book.monthly_seat, *book.annual_seat):
        exact |= known & close(log.amount, seats * p.amount)
    last = np.flatnonzero(np.r_[log.cust[1:] != log.cust[:-1], True])  # each customer's latest charge
    first = np.r_[0, last[:-1] + 1]
    size = last - first + 1
    at_last = log.t == np.repeat(log.t[last], size)  # (ties at that instant: the last exact one, else the last)
    picked = np.maximum.reduceat(np.where(at_last & exact, np.arange(n), -1), first)
    latest = np.where(picked >= 0, picked, last)
    in_series = series.number[latest] >= 0
    start = np.where(in_series, np.r_[series.spans.start, 0][series.number[latest]], log.t[latest])  # (-1: padding)
    rows = np.flatnonzero(np.repeat(exact[latest], size) & (series.number < 0))  # today's count is the latest plan's
    plan_start = np.repeat(start, size)[rows]
    # (after the charge's month and its renewal's tolerance: a plan that starts within it may be its upgrade, or bought
    # with it, which `before_a_monthly_plan` weighs)
    before = (add_months(log.t[rows], 1) + log.tol_ns < plan_start) & ~exact[rows]
    seats[rows[before]] = np.nan
    spoken_by[rows[before]] = np.repeat(latest, size)[rows[before]]
    return seats, spoken_by


RESUME_MONTHS = range(2, 12)  # a plan that stopped for 1 to 10 months and started again on its slot (12 months
# later is an annual term's own renewal slot: a year then a monthly plan at 10 x less is a switch, not a resumption)


def resumed_on_a_slot(log: Log, series: Series, among: np.ndarray) -> np.ndarray:
    """Per charge of `among` (a mask): k (2 to 11, the smallest) when a monthly series of its customer anchors on its
    slot k calendar months later (within the renewal tolerance) at its very amount, the charge taking no part in a
    series; 0 otherwise (and for every charge outside `among`).
    The same plan, stopped and started again on its own day and time (158428 on the shared log: 36 on 2016-10-10,
    none in November, 36 monthly from 2016-12-10 at the same hour): the charge was a month of it."""
    out = np.zeros(len(log), dtype=np.int64)
    anchor, anchor_key = series_anchors(log, series)
    single = np.flatnonzero((series.number < 0) & among)
    if not len(anchor) or not len(single):
        return out
    # only charges with a series of their customer anchored within the months looked at
    after = np.searchsorted(anchor_key, log.key[single], side="right")
    last = log.keys(log.cust[single], add_months(log.t[single], RESUME_MONTHS[-1])) + log.tol
    single = single[(after < len(anchor_key)) & (anchor_key[np.minimum(after, len(anchor_key) - 1)] <= last)]
    for months in reversed(RESUME_MONTHS):  # the nearest slot written last
        pos, _ = nearest(anchor_key, log.keys(log.cust[single], add_months(log.t[single], months)), log.tol)
        hit = pos >= 0
        hit[hit] = same_amount(log.amount[anchor[pos[hit]]], log.amount[single[hit]])
        out[single[hit]] = months
    return out


def rate_of_piece(log: Log, series: Series, charges: np.ndarray) -> np.ndarray:
    """For each charge: the rate of the series piece of its customer it falls in (0: none; the latest if several)."""
    mi = series.member_index
    if not len(mi) or not len(charges):
        return np.zeros(len(charges))
    # the members by customer and time, ties as the members run. A stable sort of their key (one pass over members
    # nearly in that order already: 4x faster than a lexsort) orders them so unless two of a customer fall within
    # one key unit (a ms at 10M charges) at different instants: then by the lexsort
    t, key = log.t[mi], log.keys(log.cust[mi], log.t[mi])
    order = np.argsort(key, kind="stable")
    tied = (key[order][1:] == key[order][:-1]) & (t[order][1:] != t[order][:-1])
    if tied.any():
        order = np.lexsort((t, log.cust[mi]))
    m, end, mkey = mi[order], series.piece_end[order], key[order]
    pos = np.searchsorted(mkey, log.key[charges], side="right") - 1
    at = np.maximum(pos, 0)
    inside = (pos >= 0) & (log.cust[m[at]] == log.cust[charges]) & (log.t[charges] < end[at])
    return np.where(inside, log.amount[m[at]], 0.0)
