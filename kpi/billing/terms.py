"""Step 5: single charges (metrics.md 2b "Single-charge terms", "Switch to annual", "Pending charges").

A single charge is one that no monthly series took. In order:

a. Strong annual charges open annual terms and are never prorations: a charge >= annual_min_amount
   (spreading it over the days left of a smaller plan would invent a spike and then churn), unless 10
   or 12 times it follows within its month (it was then a month of the plan switched from); a charge
   renewed 12 calendar months later at its time of day (within the renewal tolerance), and that
   renewal: an annual plan renewing, whatever its price, if it is a year's price at all (PriceBook.least_year:
   six months of the smallest monthly seat price; a seat added that recurs a year later is no plan); and a
   switch to annual: a charge that is an annual price for the monthly plan it falls in (10 or 12 times
   the rate of the series piece it falls in, or the price book's own annual/monthly ratio), or that
   the series' last renewal turned out to be (kpi.billing.series.settle_series).
b. Other single charges, oldest first: inside a running series or strong annual term -> a proration
   of it, except a charge the price book reads as annual inside a monthly series (an annual plan,
   beside it or instead of it), a charge that 10 or 12 times it follows within its month (the first
   month of the plan switched from, also inside another plan: docs/billing.md item 50), a charge the
   price book reads as a month of the customer's seats inside an annual term and no annual proration of
   it (a monthly plan beside it, pending or not: item 52), and a pending charge inside a
   pending month that costs at least its price and adds no seats to it (a new plan); otherwise it opens a
   term: annual when the price book says so (kpi.billing.pricebook), or when a later charge within
   its year is an annual proration of it (with a price book: seats x an annual seat price x the
   share of its year left, and not better a seat of its first month, of a charge that costs at least the
   least a year costs, PriceBook.least_year: docs/billing.md item 66; without one: any smaller
   charge, once its own first renewal was due and the charge is no month of seats); else one month.
   A charge the book reads as annual is one month after all when a later charge within its month is
   k seats x a monthly seat price it is a whole number of, x the share of its month left, and no
   annual seat price x the share of its year left (`_monthly_prorations`: 144, then 17.99 23 minutes later).
   An annual price inside a one-month term (the book's, or 10 or 12 times the month) opens its own
   annual term instead of prorating the month.
c. An annual term that starts inside the last piece of a monthly series or inside a monthly term of
   its customer (or within the renewal tolerance after its end), and costs at least six months of
   it, ends that series or term there: the customer switched to annual (68136: 75 a month, then
   900 = 12 x 75 six days after a renewal -> 75 a month on, no spike, no churn).

A term runs a calendar month or year from its charge; an annual term renewed a year later runs to
that renewal (early or late within the tolerance), and a term whose renewal may still come at as_of
runs to slot + tolerance.

A charge is *pending* while its first renewal is not yet due at as_of (charge + 1 calendar month +
renewal tolerance): the absence of that renewal proves nothing yet. A pending charge is read as
provisional: annual when the price book or the amount says so (from the start: no month read at
full price, then restated), else one month; one month too, whatever its amount, when the book reads
it as exactly its customer's seats x a monthly seat price (1800 by a 100-seat customer: a big monthly
plan's first month, not a year because it is >= annual_min_amount), or weighs it as k seats x one to the cent with
k within SEAT_SLACK of today's seats (2430 = 54 x 45 by a 53-seat customer); settled and exactly today's seats x
one, still one month (`_big_month_of_seats`, docs/billing.md item 68). A pending charge whose every host ended before as_of is
not a proration of a plan that stopped: it opens a provisional term (a new plan), and the small
charges of its month prorate that term; unless the book reads it as seats added to the month of the series it
falls in (`_seats_added_to_a_month`). `billing_overrides`: "monthly" disables annual terms;
"annual" makes every single charge annual (no provisional one-month terms).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.log import ANNUAL, AUTO, MONTHLY, Log
from kpi.billing.pricebook import (
    MONTHLY_LIKELY,
    MONTHLY_RESUMED,
    MONTHLY_SEATS,
    PriceBook,
    Verdict,
)
from kpi.billing.pricebook.book import close
from kpi.billing.prices import (
    MAX_SEATS_ADDED,
    MIN_ANNUAL_MONTHS,
    MIN_MONTH_SHARE,
    proration_fit,
    proration_fit_price,
    same_amount,
    seats_in,
    upgrade_fit,
    whole_multiple,
)
from kpi.billing.series import Series, Spans
from kpi.billing.timeline import (
    DAY_NS,
    add_months,
    covering,
    group_starts,
    nearest,
    range_min,
    renewal_window_end,
)

RATIO_TOLERANCE = 0.001  # a switch price is 10 or 12 times the monthly rate to 0.1%: 1490 is no 12 x 125.40 (11.88)
SEAT_SLACK = 0.1  # a big pending charge is a month of k seats when k is today's seats within 10% (or one seat)
UPGRADE_TOLERANCE = 0.01  # a renewal carries a price upgrade: it grew by at least what the upgrade adds a year, to 1%
MAX_RENEWAL_ROUNDS = 64  # plans that lost a shared renewal to a closer one look again (each round settles one at least)
CENT_ROUNDING = 0.0051  # a proration is rounded to the cent
READ_HOSTS_LOOKED_AT = 3  # the years read from their amount a big proration may belong to (_big_annual_proration)
MAX_PRORATION_ROUNDS = 8  # big seat prorations on one annual term settled one after the other (_big_annual_proration)


@dataclass(frozen=True)
class Terms:
    """How the single charges were read. Per charge: `opens` (it opens a term), `annual` (that term is annual),
    `follower` (the smallest smaller charge that made a small term annual, without a price book; NaN otherwise),
    `follower_charge`, `follower_k`, `follower_price` (with a price book: the later charge that made it annual, as k
    seats x an annual price for the share of the year left; or, for a charge the book read as annual that it made
    a month, as k seats x a monthly seat price for the share of the month left; -1, 0, NaN otherwise), `smaller` (the smallest smaller
    charge within its year that opens no term of its own, NaN: none), `switch` (an annual price
    for the monthly plan it fell in or renewed), `prorated` (it prorates a series or term), `orphan` (pending, with
    no series or strong annual term running at as_of over it: it may only prorate a term still running at as_of),
    `pending` (its first renewal is not yet due at as_of), `due` (when it is due, ns), `switch_rate` (for a switch,
    the monthly rate it is an annual price for; 0 otherwise), `yearly` (the single charge that renews it 12 months
    later, -1: none) and `renews` (the single charge it renews from 12 months before, -1: none). `spans`: one per term, in
    charge order. `cut_by`: per span of `Spans.concat(series.spans, spans)`, the term whose switch to annual ended
    it (-1: none)."""

    opens: np.ndarray
    annual: np.ndarray
    follower: np.ndarray
    follower_charge: np.ndarray
    follower_k: np.ndarray
    follower_price: np.ndarray
    smaller: np.ndarray
    switch: np.ndarray
    prorated: np.ndarray
    orphan: np.ndarray
    pending: np.ndarray
    due: np.ndarray
    switch_rate: np.ndarray
    yearly: np.ndarray
    renews: np.ndarray
    spans: Spans
    cut_by: np.ndarray


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


FOLLOWERS_LOOKED_AT = 3  # the first later charges of a year that may be annual prorations of it


def _annual_prorations(log: Log, u: np.ndarray, hi: np.ndarray, book: PriceBook
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each charge u[i] (sorted by customer and time; u[i+1 : hi[i]] are its later charges within a year): the
    first of its next FOLLOWERS_LOOKED_AT charges that is an annual proration of it (k seats x an annual price x the
    share of its year left, better explained so than as a monthly proration of its month), with k and that price of
    the book (-1, 0, NaN where none)."""
    charge = np.full(len(u), -1, dtype=np.int64)
    seats = np.zeros(len(u), dtype=np.int64)
    price = np.full(len(u), np.nan)
    year_end = add_months(log.t[u], 12)
    month_end = add_months(log.t[u], 1)
    # a charge below the least a year costs is no year that a seat joins (18 = a month of one seat, then 126.96 = 1 x
    # 180 a year x the share left months later: a month, and a plan of its own later, not a year of 18)
    a_year = book.a_year_at_all(log.amount[u])
    for offset in range(FOLLOWERS_LOOKED_AT, 0, -1):  # the nearest fitting one wins: written last
        j = np.arange(len(u)) + offset
        ok = j < hi
        f = u[np.minimum(j, len(u) - 1)]
        share_a = (year_end - log.t[f]) / (year_end - log.t[u])
        implied = log.amount[f] / np.where(share_a > 0, share_a, np.inf)
        k_a, p_a = proration_fit_price(book.annual_seat, implied)
        in_month = log.t[f] < month_end
        share_m = np.where(in_month, (month_end - log.t[f]) / (month_end - log.t[u]), 1.0)
        k_m = np.where(in_month, proration_fit(book.monthly_seat, log.amount[f] / np.maximum(share_m, 1e-12)), 0)
        # the same amount again later is a purchase again, not a proration: that one costs the full price at once only
        same = same_amount(log.amount[f], log.amount[u])
        hit = ok & (k_a > 0) & ~((k_m > 0) & (k_m <= k_a)) & ~(same & (log.t[f] - log.t[u] > DAY_NS)) & a_year
        charge[hit], seats[hit], price[hit] = f[hit], k_a[hit], p_a[hit]
    return charge, seats, price


MAX_OWN_SEATS = 40  # the seat counts an anchor's amount is divided by to find its own seat price (_own_price_prorations)
MAX_OWN_SEATS_ADDED = 20  # ... and the seats one of its prorations may add (generated logs: 17 at most)


def _own_price_prorations(log: Log, u: np.ndarray, hi: np.ndarray, book: PriceBook, todo: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each charge u[i] of `todo` (as `_annual_prorations`): the first of its next FOLLOWERS_LOOKED_AT charges
    within its year, after its own month is out, that is k seats x its own seat price x the share of its year left, to
    the cent: its own seat price is its amount / k0 seats (k0 = 1 .. MAX_OWN_SEATS, the fewest first), a whole number
    of cents and at least the least a year costs (`PriceBook.least_year`), k at most MAX_OWN_SEATS_ADDED, and the
    follower no whole multiple of a price of the book nor the anchor's amount again (so many seat counts tried make a
    chance fit to the cent possible: about 1 anchor in 500 with followers at random amounts, a review found; the whole
    cents and the seats added cap cut that about six times). 510.40 = 2 seats x 255.20, a price the book has not
    learned, then 211.54 two months later = 1 x 255.20 x the 302.6 days of 365 left, and more like it (306787,
    generated seat11 seed 3): the billing system
    prorated seats on a year bought at 255.20 a seat, which the book's own annual prices do not read (its followers
    were "no annual prorations of it": a month, then churn). A month's plan is over by then, and a seat added to it
    costs a month's share: only a year's share leaves these cents (docs/billing.md item 71). With k and that price
    (-1, 0, NaN where none)."""
    charge = np.full(len(u), -1, dtype=np.int64)
    seats = np.zeros(len(u), dtype=np.int64)
    price = np.full(len(u), np.nan)
    least = book.least_year
    cand = np.flatnonzero(todo & (np.arange(len(u)) + 1 < hi) & (log.amount[u] >= least) & (least > 0))
    if not len(cand):
        return charge, seats, price
    h = u[cand]
    year_end, month_end = add_months(log.t[h], 12), add_months(log.t[h], 1)
    whole_price = np.zeros(len(u), dtype=bool)  # per charge of u (a plan's price charged whole is no share of a year)
    for p in (*book.monthly_seat, *book.annual_seat, *book.annual_points):
        whole_price |= whole_multiple(log.amount[u], p.amount)
    cents = np.rint(log.amount[h] * 100).astype(np.int64)
    for offset in range(FOLLOWERS_LOOKED_AT, 0, -1):  # the nearest fitting one wins: written last
        j = np.minimum(cand + offset, len(u) - 1)
        f = u[j]
        ok = (cand + offset < hi[cand]) & (log.t[f] >= month_end) & ~whole_price[j] & \
            ~same_amount(log.amount[f], log.amount[h])
        share = (year_end - log.t[f]) / np.maximum(year_end - log.t[h], 1)
        found_k0 = np.zeros(len(cand), dtype=np.int64)
        found_k = np.zeros(len(cand), dtype=np.int64)
        for k0 in range(MAX_OWN_SEATS, 0, -1):  # the fewest seats (the dearest seat price) wins: written last
            unit = log.amount[h] / k0
            by_year = unit * share
            k = np.rint(log.amount[f] / np.maximum(by_year, 1e-9))
            fit = ok & (unit >= least) & (cents % k0 == 0) & (k >= 1) & (k <= MAX_OWN_SEATS_ADDED) & \
                (np.abs(log.amount[f] - k * by_year) <= CENT_ROUNDING)
            found_k0[fit], found_k[fit] = k0, k[fit].astype(np.int64)
        hit = found_k0 > 0
        charge[cand[hit]], seats[cand[hit]] = f[hit], found_k[hit]
        price[cand[hit]] = log.amount[h[hit]] / found_k0[hit]
    return charge, seats, price


def _monthly_prorations(log: Log, u: np.ndarray, hi: np.ndarray, book: PriceBook
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each charge u[i] (as `_annual_prorations`): the first of its next FOLLOWERS_LOOKED_AT charges within its
    calendar month that is a monthly proration of it and no annual one: k seats x a monthly seat price m x the share of
    its month left, where u[i] itself is a whole number of m (a month of seats: 144 = 8 x 18, then 17.99 = 1 x 18 for
    the 29.98 days of 30 left), and no annual seat price x the share of its year left (a year's seat bought then costs
    about a year's price: 143.99 after 144, not 17.99). With k and m (-1, 0, NaN where none)."""
    charge = np.full(len(u), -1, dtype=np.int64)
    seats = np.zeros(len(u), dtype=np.int64)
    price = np.full(len(u), np.nan)
    year_end = add_months(log.t[u], 12)
    month_end = add_months(log.t[u], 1)
    # a plan's price between them (36 a minute after 360: a monthly plan beside the year) may own what follows it
    plan_price = np.zeros(len(u), dtype=bool)
    for m in book.monthly_seat:
        plan_price |= whole_multiple(log.amount[u], m.amount)
    blocked = np.zeros(len(u), dtype=bool)
    for offset in range(1, FOLLOWERS_LOOKED_AT + 1):  # the nearest fitting one wins: kept first
        j = np.arange(len(u)) + offset
        f = u[np.minimum(j, len(u) - 1)]
        # (a tenth of the month left at least, and a plausible number of seats: near the month's end any small charge
        # is some number of seats x some price x a tiny share)
        share_m = (month_end - log.t[f]) / (month_end - log.t[u])
        ok = (j < hi) & (share_m >= MIN_MONTH_SHARE) & ~blocked & (charge < 0)
        blocked |= (j < hi) & plan_price[np.minimum(j, len(u) - 1)]
        if not ok.any():
            continue
        share_a = (year_end - log.t[f]) / (year_end - log.t[u])
        k_a = proration_fit(book.annual_seat, log.amount[f] / np.where(share_a > 0, share_a, np.inf))
        implied = log.amount[f] / np.where(share_m > 0, share_m, np.inf)
        k_m, m_price = np.zeros(len(u), dtype=np.int64), np.full(len(u), np.nan)
        for m in book.monthly_seat:  # the fewest seats first, at a price the charge itself is a month of
            # (a whole price to the cent is no share of one: 18 a minute after 360 is a monthly plan beside the year)
            k = np.where(whole_multiple(log.amount[u], m.amount) & ~plan_price[np.minimum(j, len(u) - 1)],
                         seats_in(implied, m.amount), 0)
            better = (k >= 1) & (k <= MAX_SEATS_ADDED) & ((k_m == 0) | (k < k_m))
            k_m, m_price = np.where(better, k, k_m), np.where(better, m.amount, m_price)
        hit = ok & (k_m > 0) & (k_a == 0)
        charge[hit], seats[hit], price[hit] = f[hit], k_m[hit], m_price[hit]
    return charge, seats, price


def _year_share_seats(log: Log, anchors: np.ndarray, followers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per charge: is it one of `anchors`, its customer's first charge in a year, followed within its first month by
    one of `followers` that is seats added at its own price for the share of a year left, to the cent, and not just
    that price again (649, then 648.99 five minutes later: 649 x 0.99999, where a month's share is 648.93; an 18
    bought again an hour later is 18 x the year's share to the cent too, and shows nothing)? The billing system
    prorated on a year: the anchor is a year (docs/billing.md items 61-62). Also, per charge, that follower (-1: none)
    and its seats."""
    out = np.zeros(len(log), dtype=bool)
    follower = np.full(len(log), -1, dtype=np.int64)
    seats = np.zeros(len(log), dtype=np.int64)
    h = np.flatnonzero(anchors)
    # (a customer's first charge in a year: a proration inside a running plan is no plan's anchor)
    prev = np.maximum(h - 1, 0)
    h = h[(h == 0) | (log.cust[prev] != log.cust[h]) | (log.t[prev] <= add_months(log.t[h], -12))]
    if not len(h):
        return out, follower, seats
    year_end, month_end = add_months(log.t[h], 12), add_months(log.t[h], 1)
    for offset in range(FOLLOWERS_LOOKED_AT, 0, -1):  # the nearest one that shows it wins: kept last
        f = np.minimum(h + offset, len(log) - 1)
        ok = (h + offset < len(log)) & (log.cust[f] == log.cust[h]) & (log.t[f] < month_end) & (log.t[f] > log.t[h])
        ok &= followers[f]
        share_y = (year_end - log.t[f]) / np.maximum(year_end - log.t[h], 1)
        share_m = (month_end - log.t[f]) / np.maximum(month_end - log.t[h], 1)
        by_year, by_month = log.amount[h] * share_y, log.amount[h] * share_m
        k = np.rint(log.amount[f] / np.maximum(by_year, 1e-9))
        year_hit = (k >= 1) & (k <= MAX_SEATS_ADDED) & (np.abs(log.amount[f] - k * by_year) <= CENT_ROUNDING)
        # the share shows in the cents: far enough from the month's share, and from the whole price, that rounding
        # to the cent cannot make one look like the other
        shows = (k * np.abs(by_year - by_month) >= 2 * CENT_ROUNDING + 0.01) & \
            (np.abs(log.amount[f] - k * log.amount[h]) > CENT_ROUNDING)
        hit = ok & year_hit & shows
        out[h[hit]], follower[h[hit]], seats[h[hit]] = True, f[hit], k[hit].astype(np.int64)
    return out, follower, seats


def _latest_before(log: Log, among: np.ndarray, charges: np.ndarray) -> np.ndarray:
    """For each charge: the latest of `among` (charge indices, sorted) of its customer at or before it (the charge
    itself where none: callers ask only where one exists)."""
    key = log.key
    pos = np.searchsorted(key[among], key[charges], side="right") - 1
    found = among[np.maximum(pos, 0)]
    return np.where((pos >= 0) & (log.cust[found] == log.cust[charges]), found, charges)


def _big_annual_proration(log: Log, book: PriceBook, strong: np.ndarray, big: np.ndarray,
                          yearly: np.ndarray | None = None, read_annual: np.ndarray | None = None) -> np.ndarray:
    """Per charge: is it one of `big` (>= annual_min_amount, opening a year by the amount rule alone) that falls inside
    the year of an earlier `strong` charge of its customer and is seats added to it: k seats x one of the book's annual
    seat prices x the share of that year left (`proration_fit`), and no whole multiple of a price, to the cent (an
    add-on plan bought beside the first: 1800 = 10 x 180 a minute after 10800, 766972)? 1529.89 five months into a
    5400 plan of 12 seats at 450 a year is 5 seats x 540 x 206 / 365 (generated seat12): a year of its own at 127.49 a
    month would under-read the term's 225 a month and then outlive it.

    With `yearly` (each charge's renewal 12 months later, -1: none): also one that no price fits, when that year
    renewed and its renewal exceeds it by at least what the charge adds a year (amount / the share of the year left):
    a price upgrade carried into the renewal (4594.98 eight months before the end of a 4785 year renewed at 15576:
    5610 a year more), not a year of its own, which would under-read the months left and then outlive the
    renewal (docs/billing.md item 53)."""
    out = np.zeros(len(log), dtype=bool)
    cand = np.flatnonzero(big & strong)
    if not len(cand):
        return out
    whole = np.zeros(len(cand), dtype=bool)
    for price in (*book.annual_seat, *book.annual_points, *book.monthly_seat):
        whole |= whole_multiple(log.amount[cand], price.amount)
    # the host is the latest charge before it that opens a year: one found to be a proration itself is none, so a
    # second seat proration on the same term is measured from the term (a chain is settled in as many rounds)
    def fit_on(hosts: np.ndarray, back: int) -> np.ndarray:
        """Per candidate: is it a proration of the host `back` places before it among `hosts` (0: the latest)?"""
        if not len(hosts):
            return np.zeros(len(cand), dtype=bool)
        pos = np.searchsorted(hosts, cand, side="left") - 1 - back  # the log is sorted by customer and time
        host = hosts[np.maximum(pos, 0)]
        ok = (pos >= 0) & (log.cust[host] == log.cust[cand]) & ~whole
        year_end = add_months(log.t[host], 12)
        ok &= log.t[cand] < year_end
        share = (year_end - log.t[cand]) / np.maximum(year_end - log.t[host], 1)
        implied = np.where(ok, log.amount[cand] / np.maximum(share, 1e-9), np.nan)
        fits = proration_fit(book.annual_seat, implied) > 0
        fits |= upgrade_fit(book.annual_seat, implied, log.amount[host], log.seats[cand])
        if yearly is not None:
            renewal = yearly[host]
            grew = log.amount[np.maximum(renewal, 0)] - log.amount[host]
            # (not a pending one: a year of its own until its month is out, as the amount says)
            fits |= (renewal >= 0) & (grew >= implied * (1 - UPGRADE_TOLERANCE)) & ~log.pending[cand]
        return ok & fits

    for _ in range(MAX_PRORATION_ROUNDS):
        ok = fit_on(np.flatnonzero(strong & ~out), 0)
        if read_annual is not None:  # ... or of a year the book reads from its amount, one of the last few (a seat
            # bought beside the year may read as one too)
            read = np.flatnonzero((strong | read_annual) & ~out)
            for back in range(READ_HOSTS_LOOKED_AT):
                ok |= fit_on(read, back)
        now = np.zeros(len(log), dtype=bool)
        now[cand[ok]] = True
        if np.array_equal(now, out):
            break
        out = now
    return out


def yearly_renewals(log: Log, single: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per charge: the single charge of its customer closest to 12 calendar months later within the renewal tolerance
    (-1: none), and conversely the charge each one renews (-1: none). An annual plan renewing: only single charges,
    and not under a "monthly" override."""
    n = len(log)
    yearly, renews = np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    cand = np.flatnonzero(single & (log.mode != MONTHLY))
    if len(cand) < 2:
        return yearly, renews
    keys = log.keys
    due = add_months(log.t[cand], 12)
    # one renewal per plan and one plan per renewal, the closest pairs first: each plan takes the closest charge not yet
    # taken; where several want one, the closest wins and the others try again (132 and 490 bought a minute apart and
    # renewed 43 s early and 166 s late: the 132 takes the 132, the 490 the 490; two 225 a year later: 450 at the first's
    # slot and 225 eleven minutes later, one each)
    found = np.full(len(cand), -1, dtype=np.int64)
    taken = np.zeros(len(cand), dtype=bool)
    trying = np.arange(len(cand))
    for _ in range(MAX_RENEWAL_ROUNDS):
        free = np.flatnonzero(~taken)
        if not len(trying) or not len(free):
            break
        pos, dist = nearest(keys(log.cust[cand[free]], log.t[cand[free]]), keys(log.cust[cand[trying]], due[trying]),
                            log.tol)
        want = pos >= 0
        if not want.any():
            break
        plans, targets, dist = trying[want], free[pos[want]], dist[want]
        order = np.lexsort((plans, dist, targets))  # by target, then distance, then the earlier plan
        first = np.r_[True, targets[order][1:] != targets[order][:-1]]
        win = order[first]
        found[plans[win]] = targets[win]
        taken[targets[win]] = True
        trying = np.setdiff1d(plans, plans[win], assume_unique=True)
    hit = found >= 0
    yearly[cand[hit]] = cand[found[hit]]
    renews[cand[found[hit]]] = cand[hit]
    return yearly, renews


def _a_month(log: Log, verdict: Verdict, charges: np.ndarray, settled_too: bool = False) -> np.ndarray:
    """Does the book read each pending charge as a month of seats: exactly its customer's seats x a monthly seat
    price, or (seats unsettled) likelier k seats x one, to the cent (a monthly plan charges whole prices; a proration
    of 150.10 is not 12 x 12.50)? `settled_too`: also a charge whose renewal was due, then to the cent either way
    (179.85 is no month of 10 seats at 18)."""
    code = verdict.code[charges]
    exact = same_amount(log.amount[charges], verdict.price[charges] * verdict.multiple[charges])
    month = (code == MONTHLY_SEATS) | ((code == MONTHLY_LIKELY) & exact)
    return month & (log.pending[charges] | (exact if settled_too else False))


def _big_month_of_seats(log: Log, book: PriceBook, verdict: Verdict, candidates: np.ndarray,
                        single: np.ndarray) -> np.ndarray:
    """Per charge (of `candidates`: settled single charges >= annual_min_amount): does the book read it as exactly its
    customer's seats today x a monthly seat price, to the cent (1800 by a 100-seat customer: 100 x 18)? Then, with no
    renewal a month later, it is a big monthly plan's one month, not a year because of its size (docs/billing.md item
    68; a pending one is read so by `SEAT_SLACK`). Not when the amount is an annual price point of the book (1200
    with a 1200 plan configured: 60 x 20 a month too), nor when a later single charge of its customer within its year is
    seats added to a year of it (1080 = 60 x 18 = 6 x 180, then 8095.56 = 54 x 180 x the share left: the year's
    proration, whose host it is)."""
    out = np.zeros(len(log), dtype=bool)
    idx = np.flatnonzero(candidates & (log.mode == AUTO))
    if not len(idx):
        return out
    idx = idx[_a_month(log, verdict, idx, settled_too=True) & (verdict.multiple[idx] == log.seats[idx])]
    for point in book.annual_points:
        idx = idx[~same_amount(log.amount[idx], point.amount)]
    if len(idx) and book.annual_seat:
        later = np.flatnonzero(np.isin(log.cust, log.cust[idx]) & single)  # their single charges: a few
        m = pd.DataFrame({"c": idx, "cust": log.cust[idx], "t": log.t[idx]}).merge(
            pd.DataFrame({"j": later, "cust": log.cust[later], "tj": log.t[later]}), on="cust")
        m = m.loc[(m["tj"] > m["t"]) & (m["tj"] < add_months(m["t"].to_numpy(), 12))]
        if len(m):
            host = m["c"].to_numpy()
            added = _annual_seats_added(log, book, m["j"].to_numpy(), log.t[host])
            idx = np.setdiff1d(idx, host[added])
    out[idx] = True
    return out


def _monthly_beside(log: Log, book: PriceBook, verdict: Verdict, charges: np.ndarray, head_t: np.ndarray,
                    head_annual: np.ndarray) -> np.ndarray:
    """Per charge inside the term its customer's head charge (at head_t) opened: is it a month of the customer's
    seats (`_a_month`: the book's exact match, or a weighed month to the cent) inside an annual term, and no annual
    proration of that term (seats x an annual seat price x the share of its year left)? Then it is a monthly plan
    beside the annual one (491172: 180 for a year, then 18 = 1 seat x 18 a day later and monthly since), not a seat
    added to the year; pending or not: a month that did not renew was a plan of one month (docs/billing.md item 52:
    2700 for a year, then 175 = 7 seats x 25 a minute later and nothing more), not 175 spread over the year."""
    hit = _a_month(log, verdict, charges, settled_too=True) & head_annual & (log.mode[charges] == AUTO)
    if hit.any():
        hit[hit] = ~_annual_seats_added(log, book, charges[hit], head_t[hit])
    return hit


def _annual_seats_added(log: Log, book: PriceBook, charges: np.ndarray, year_t: np.ndarray) -> np.ndarray:
    """Per charge: is it k seats x an annual seat price x the share left of the year that started at year_t?"""
    year_end = add_months(year_t, 12)
    share = (year_end - log.t[charges]) / np.maximum(year_end - year_t, 1)
    return proration_fit(book.annual_seat, log.amount[charges] / np.maximum(share, 1e-9)) > 0


def _new_plan_in_month(log: Log, book: PriceBook, charges: np.ndarray, head_t: np.ndarray, head_rate: np.ndarray,
                       head_pending_month: np.ndarray) -> np.ndarray:
    """Per charge inside the one-month term its customer's head charge (at head_t, of head_rate) opened: is it pending
    in a pending month, at least that month's whole price, and no seats added to it for the share of the month left
    (k x a monthly seat price of the book, or k x the month's own price: the plan bought again)? Then it may be a new
    plan's first month (222712: 75 on 2016-08-10, then 150 a week later and monthly from there), whose renewal cannot
    have been seen yet: it opens its own provisional term rather than being spread over the days left of the 75."""
    hit = head_pending_month & log.pending[charges] & (log.mode[charges] == AUTO)
    hit &= log.amount[charges] >= head_rate - 0.005
    if hit.any():
        month_end = add_months(head_t[hit], 1)
        share = (month_end - log.t[charges[hit]]) / np.maximum(month_end - head_t[hit], 1)
        implied = log.amount[charges[hit]] / np.maximum(share, 1e-9)
        again = seats_in(implied, head_rate[hit]) > 0
        hit[hit] = ~again & (proration_fit(book.monthly_seat, implied) == 0)
    return hit


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


def _seats_added_to_a_month(log: Log, series: Series, book: PriceBook, charges: np.ndarray) -> np.ndarray:
    """Per charge: does it fall in a piece of a monthly series of its customer (any of them) and read as k seats x a
    monthly seat price of the book x the share of that piece left (a seat added, 61838: 5.85 = 18 x 9.75 / 30 days
    ten days before its 234 plan's renewal that never came), without being itself a plan's price: a whole number of
    seats x one of those prices, or of that plan's own rate, to the cent (54 = 3 x 18, or 150 = 2 x 75, is a new
    plan's month, whatever share of the month is left)?"""
    mi = series.member_index
    out = np.zeros(len(charges), dtype=bool)
    if not len(mi) or not len(charges):
        return out
    rows = np.flatnonzero(np.isin(log.cust[mi], log.cust[charges]))  # these customers' renewals only: a few
    if not len(rows):
        return out
    c = pd.DataFrame({"c": np.arange(len(charges)), "cust": log.cust[charges], "t": log.t[charges]})
    r = pd.DataFrame({"cust": log.cust[mi[rows]], "start": log.t[mi[rows]], "end": series.piece_end[rows],
                      "rate": log.amount[mi[rows]]})
    m = c.merge(r, on="cust")
    m = m.loc[(m["start"] <= m["t"]) & (m["t"] < m["end"])]  # every series piece it falls in (its month's end: the
    if m.empty:  # piece's own, as the proration will be spread to)
        return out
    i = m["c"].to_numpy()
    amount, rate = log.amount[charges[i]], m["rate"].to_numpy()
    share = (m["end"].to_numpy() - m["t"].to_numpy()) / np.maximum(m["end"].to_numpy() - m["start"].to_numpy(), 1)
    fit = (proration_fit(book.monthly_seat, amount / np.maximum(share, 1e-9)) > 0) & ~whole_multiple(amount, rate)
    for p in book.monthly_seat:
        fit &= ~whole_multiple(amount, p.amount)
    out[i[fit]] = True
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


def read_single_charges(log: Log, series: Series, book: PriceBook, verdict: Verdict, switched: np.ndarray,
                        first_reading: bool = False) -> Terms:
    """Step 5 over the charges no series took (see the module docstring). `verdict`: the price book's reading of
    every charge; `switched`: per charge, the rate of the series renewal it was detached from as a switch to annual
    (0: none). `first_reading`: the reading the price book is learned from (amount rules only, no switch)."""
    n, keys, as_of = len(log), log.keys, log.as_of
    ratios = () if first_reading else book.switch_ratios
    single = series.number < 0
    due = add_months(log.t, 1) + log.tol_ns  # by then a charge's first renewal, if any, has been seen
    pending = log.pending
    key = log.key
    book_annual = verdict.annual & (log.mode == AUTO)
    switch_rate = np.where(single, switched, 0.0)
    if ratios:  # a first reading by the amount rules alone looks for no switch
        s_idx = np.flatnonzero(single & (switch_rate == 0))
        rate = rate_of_piece(log, series, s_idx)
        switch_rate[s_idx] = np.where(annual_price_for(log.amount[s_idx], rate, book_annual[s_idx], ratios), rate, 0.0)
    month_first = np.zeros(n, dtype=bool)
    if ratios:  # a charge followed within its month by 10 or 12 times it was a month of the plan it switched from
        cur = np.flatnonzero(single & (log.mode == AUTO))
        cur, nxt = cur[:-1], cur[1:]
        hit = (log.cust[nxt] == log.cust[cur]) & (log.t[nxt] < add_months(log.t[cur], 1)) & (switch_rate[nxt] == 0)
        hit &= annual_price_for(log.amount[nxt], log.amount[cur], np.zeros(len(cur), dtype=bool), ratios)
        month_first[cur[hit]] = True
        switch_rate[nxt[hit]] = log.amount[cur[hit]]
        book_annual &= ~month_first
    switch = (switch_rate > 0) & (log.mode != MONTHLY)
    # a pair of charges 12 months apart is an annual plan renewing only at a year's price (not seats added that recur)
    yearly, renews = yearly_renewals(log, single & book.a_year_at_all(log.amount))
    big = (log.amount >= log.annual_min) & ~month_first
    # ... unless, pending, the price book reads it as a month of its customer's seats: a big monthly plan's first month
    # (exactly its seats x a monthly seat price, or the book's weighed month of seats to the cent at a seat count
    # within SEAT_SLACK of today's: 2430 = 54 x 45 by a customer with 53 seats today, a big monthly plan's first
    # month, not a year at 45.85 a seat)
    every = np.arange(n)
    near = np.abs(verdict.multiple - log.seats) <= np.maximum(1.0, SEAT_SLACK * log.seats)  # exact seats: 0 off
    seat_month = single & big & pending & _a_month(log, verdict, every) & near & (log.mode == AUTO)
    # ... or, settled, exactly its customer's seats x a monthly seat price: a big monthly plan's month that did not
    # renew (item 68), unless a year's price or a year's host after all
    seat_month |= _big_month_of_seats(log, book, verdict, single & big & ~pending, single)
    big &= ~seat_month  # (such a month is a plan of its own, also inside a running monthly series: below)
    # ... or a year its own prorations show (item 61)
    by_share, share_follower, share_k = _year_share_seats(log, single & (log.mode == AUTO), single)
    shown_seat = np.zeros(n, dtype=bool)  # ... whose follower is its proration, not a year of its own (1287.33)
    shown_seat[share_follower[by_share]] = True
    strong = single & (log.mode != MONTHLY) & (big | switch | (yearly >= 0) | (renews >= 0) | by_share) & ~shown_seat
    demoted = np.zeros(n, dtype=bool)
    if book.annual_seat or not first_reading:  # ... but a big seat proration (or price upgrade) on an annual term is
        # that term's, not a year of its own; the term may be one the book reads from its amount, when no series or
        # strong year covers it (it opens a year of its own)
        # (nor one inside the year of an earlier one: a seat bought minutes after a year reads as a year of its own)
        read = single & book_annual & ~strong
        r_idx = np.flatnonzero(read)
        r_end = keys(log.cust[r_idx], add_months(log.t[r_idx], 12))
        read[r_idx] = ~covering(np.r_[keys(series.spans.cust, series.spans.start), key[strong], key[r_idx] + 1],
                                np.r_[keys(series.spans.cust, series.spans.end),
                                      keys(log.cust[strong], add_months(log.t[strong], 12)), r_end], key[r_idx])
        demoted = _big_annual_proration(log, book, strong, big & ~switch & (yearly < 0) & (renews < 0),
                                        None if first_reading else yearly, read)
        strong &= ~demoted
    opens = strong.copy()
    annual = strong.copy()
    follower = np.full(n, np.nan)
    follower_charge = np.full(n, -1, dtype=np.int64)
    follower_k = np.zeros(n, dtype=np.int64)
    follower_price = np.full(n, np.nan)
    shown_year = strong & by_share  # (the reason a year its prorations show: k seats x its own price x the year's share)
    follower_charge[shown_year], follower_k[shown_year] = share_follower[shown_year], share_k[shown_year]
    follower_price[shown_year] = log.amount[shown_year]
    smaller = np.full(n, np.nan)
    orphan = np.zeros(n, dtype=bool)
    # covered by a series or a strong annual term -> a proration, whatever came before it
    hosts = series.spans
    strong_end = add_months(log.t[strong], 12)
    starts = np.r_[keys(hosts.cust, hosts.start), key[strong]]
    ends = np.r_[keys(hosts.cust, hosts.end), keys(log.cust[strong], strong_end)]
    rest = np.flatnonzero(single & ~strong)
    covered = covering(starts, ends, key[rest])
    # ... except an annual price inside a monthly series only (an annual plan beside it or instead of it), and a
    # month of the customer's seats inside an annual term only (a monthly plan beside it, pending or not)
    in_year = covering(key[strong], keys(log.cust[strong], strong_end), key[rest])
    in_series = covering(keys(hosts.cust, hosts.start), keys(hosts.cust, hosts.end), key[rest])
    # ... and a month of a plan that starts again on its slot later (MONTHLY_RESUMED): a month of that plan
    resumed = (verdict.code == MONTHLY_RESUMED) & (log.mode == AUTO)
    # ... and a month of the plan a switch to annual replaced (`month_first`): that plan's own month, which the switch
    # ends, not a proration of another plan running beside it (360 = 8 seats x 45 inside a year of 600, then 4320 =
    # 12 x 360 three days later)
    # (not one the book reads as annual: 125.40 = 1 seat x 125.40 a year, then 1379.36 = 11 x it, 11 seats more, minutes
    # into a year of 250.80, are seats added to it, whatever the ratio says)
    switched_month = month_first & ~(verdict.annual & (log.mode == AUTO))
    escape = (book_annual[rest] & ~in_year) | resumed[rest] | switched_month[rest]
    # (once its renewal was due, only to the cent, and only where the book can say it is no annual seat added: item 52)
    beside = _a_month(log, verdict, rest, settled_too=bool(book.annual_seat)) & in_year & ~in_series & \
        (log.mode[rest] == AUTO)
    if beside.any() and book.annual_seat:  # ... unless it is an annual proration of that term after all
        host = _latest_before(log, np.flatnonzero(strong), rest[beside])
        beside[beside] = ~_annual_seats_added(log, book, rest[beside], log.t[host])
    escape |= beside
    # ... and a big month of seats (items 26 and 68) inside a monthly series only: a plan of its own, not a proration
    # of that plan (inside a year, `beside` above decides: it may be seats added to the year)
    escape |= seat_month[rest] & in_series & ~in_year
    month_beside = np.zeros(n, dtype=bool)  # such a month takes no follower: a seat added later is the year's
    month_beside[rest[beside]] = True
    # ... and a pending charge that may be a new plan, when every such host ended before as_of
    new_plan = pending[rest] & (log.mode[rest] != ANNUAL) & ~escape
    if new_plan.any():
        running = np.r_[hosts.end > as_of, strong_end > as_of]
        new_plan &= ~covering(starts[running], ends[running], key[rest])
        # ... unless the book reads it as seats added to the month of the plan it falls in (no plan's price)
        if new_plan.any() and book.monthly_seat:
            new_plan[new_plan] = ~_seats_added_to_a_month(log, series, book, rest[new_plan])
        orphan[rest[new_plan]] = True
    prorated = np.zeros(n, dtype=bool)
    prorated[rest[covered & ~new_plan & ~escape]] = True
    keep = ~covered | new_plan | escape
    own_month = np.zeros(n, dtype=bool)
    owner = np.full(n, -1, dtype=np.int64)
    u = rest[keep]  # sorted by (customer, time)
    if len(u):
        year = keys(log.cust[u], add_months(log.t[u], 12))
        hi = np.searchsorted(key[u], year, side="left")
        smallest = range_min(log.amount[u], np.arange(len(u)) + 1, hi)
        smaller[u] = np.where(smallest < log.amount[u], smallest, np.nan)
        if book.annual_seat:  # a follower must be an annual proration of it: seats x an annual price x share left
            # (known at once: a month's seat added minutes later costs a month's price, not a year's)
            fit_charge, fit_k, fit_price = _annual_prorations(log, u, hi, book)
            # ... or of its own seat price, one the book has not learned (item 71)
            own_charge, own_k, own_price = _own_price_prorations(log, u, hi, book, fit_charge < 0)
            fit_charge = np.where(own_charge >= 0, own_charge, fit_charge)
            fit_k, fit_price = np.where(own_charge >= 0, own_k, fit_k), np.where(own_charge >= 0, own_price, fit_price)
            by_followers = (fit_charge >= 0) & (log.mode[u] == AUTO) & ~month_beside[u]
            follower_charge[u[by_followers]] = fit_charge[by_followers]
            follower_k[u[by_followers]], follower_price[u[by_followers]] = fit_k[by_followers], fit_price[by_followers]
        else:
            # smaller charges after a pending one do not make it annual: its renewal may still come; nor do they make
            # annual a charge the price book reads as a month of its customer's seats
            by_followers = (smallest < log.amount[u]) & (log.mode[u] == AUTO) & ~pending[u] & ~verdict.monthly[u]
            follower[u[by_followers & ~book_annual[u]]] = smallest[by_followers & ~book_annual[u]]
        # (a big charge read as a proration of a year that opens no term around it is a year of its own, as the
        # amount says: never a month of its whole amount)
        annual_u = by_followers | (log.mode[u] == ANNUAL) | book_annual[u] | demoted[u]
        if book.annual_seat and book.monthly_seat:  # ... and a month, not the year the book read, when a seat added
            # within its month costs a month's share of a monthly seat price and no year's share of an annual one
            m_charge, m_k, m_price = _monthly_prorations(log, u, hi, book)
            # (not a charge that escaped a series or annual term it falls in: its followers may be that plan's)
            a_month = (m_charge >= 0) & book_annual[u] & ~by_followers & (log.mode[u] == AUTO) & (~covered | new_plan)[keep]
            follower_charge[u[a_month]], follower_k[u[a_month]] = m_charge[a_month], m_k[a_month]
            follower_price[u[a_month]] = m_price[a_month]
            annual_u &= ~a_month
            book_annual[u[a_month]] = False
            own_month[u[a_month]] = True  # a new plan's month: its own term, also inside another one, and no switch
            owner[m_charge[a_month]] = u[a_month]  # ... and the seat added is that month's, pending or not
            orphan[m_charge[a_month]] = False  # (a pending one may prorate it when it ended before as_of)
        term_end = add_months(log.t[u], np.where(annual_u, 12, 1))
        term_end = np.where(annual_u, term_end, renewal_window_end(term_end, as_of, log.tol_ns))
        fresh = pending[u] & (log.mode[u] != ANNUAL)
        todo = np.arange(len(u))
        # oldest first: the earliest undecided charge of each customer opens a term; what falls inside it prorates it,
        # except a pending charge in a term that ended before as_of, and an annual price inside a one-month term (the
        # book's, or one for that month's rate: a switch); they open their own terms in a later round
        while len(todo):
            head = group_starts(log.cust[u[todo]])
            group = np.cumsum(head) - 1
            end = term_end[todo[head]][group]
            head_annual = annual_u[todo[head]][group]
            head_rate = log.amount[u[todo[head]]][group]
            inside = (log.t[u[todo]] < end) & ~head & ~(fresh[todo] & (end <= as_of))
            if ratios:
                switching = inside & ~head_annual & (log.mode[u[todo]] == AUTO) & ~own_month[u[todo]] & \
                    annual_price_for(log.amount[u[todo]], head_rate, book_annual[u[todo]], ratios)
                sw = todo[switching]
                annual_u[sw], term_end[sw] = True, add_months(log.t[u[sw]], 12)
                switch_rate[u[sw]] = head_rate[switching]
                switch[u[sw]] = True
            inside &= ~(book_annual[u[todo]] & ~head_annual) & ~(annual_u[todo] & ~head_annual & (switch_rate[u[todo]] > 0))
            # ... and the first month of a plan switched to annual (item 50), in any year (180 a minute into a year of
            # 180, then 1800 = 10 x 180: 10 seats for a month switched to annual, not a seat added to the year)
            inside &= ~resumed[u[todo]] & ~own_month[u[todo]] & ~switched_month[u[todo]]
            if book.annual_seat:  # ... and a month of the customer's seats inside an annual term that it does
                beside_year = inside & _monthly_beside(log, book, verdict, u[todo], log.t[u[todo[head]]][group],
                                                       head_annual)
                inside &= ~beside_year
                # such a month takes no follower: a seat added later is the year's (item 52)
                mb = todo[beside_year]
                if len(mb):
                    annual_u[mb] = False
                    term_end[mb] = renewal_window_end(add_months(log.t[u[mb]], 1), as_of, log.tol_ns)
                    follower_charge[u[mb]], follower_k[u[mb]], follower_price[u[mb]] = -1, 0, np.nan
            # ... and a pending charge of a new plan's price inside a pending month (kpi.billing.terms._new_plan_in_month)
            inside &= ~_new_plan_in_month(log, book, u[todo], log.t[u[todo[head]]][group], head_rate,
                                          fresh[todo[head]][group] & ~head_annual)
            # the seat added that made a charge a month (`_monthly_prorations`) goes with that month, and only with it
            followed = owner[u[todo]]
            inside = np.where(followed >= 0, followed == u[todo[head]][group], inside)
            opens[u[todo[head]]] = True
            annual[u[todo[head]]] = annual_u[todo[head]]
            prorated[u[todo[inside]]] = True
            todo = todo[~head & ~inside]
    ti = np.flatnonzero(opens)
    # a term runs to its slot a month or a year later; an annual one renewed a year later within the tolerance runs
    # to that renewal (early or late: no gap, no overlap), and one whose renewal may still come runs to slot + tolerance
    term_end = renewal_window_end(add_months(log.t[ti], np.where(annual[ti], 12, 1)), as_of, log.tol_ns)
    term_end = np.where(annual[ti] & (yearly[ti] >= 0), log.t[np.maximum(yearly[ti], 0)], term_end)
    spans = Spans(cust=log.cust[ti], start=log.t[ti], end=term_end, series=np.full(len(ti), -1), charge=ti,
                  annual=annual[ti])
    terms = Terms(opens=opens, annual=annual, follower=follower, follower_charge=follower_charge,
                  follower_k=follower_k, follower_price=follower_price, smaller=smaller, switch=switch & opens,
                  prorated=prorated,
                  orphan=orphan, pending=pending, due=due, switch_rate=np.where(switch, switch_rate, 0.0),
                  yearly=yearly, renews=renews, spans=spans,
                  cut_by=np.full(len(series.spans.cust) + len(ti), -1, dtype=np.int64))
    return terms


def end_switched(log: Log, series: Series, terms: Terms) -> tuple[Series, Terms]:
    """Step c: an annual term starting inside the last piece of a monthly series, or inside a monthly term, of its
    customer (or within the renewal tolerance after its end), worth six months of it or more, ends that series or
    term at its start. Returns both with their ends moved and `terms.cut_by` set."""
    spans = Spans.concat(series.spans, terms.spans)
    n_series = len(series.spans.cust)
    last_t = np.full(len(spans.cust), np.iinfo(np.int64).min)
    last_t[series.member_series[series.last]] = log.t[series.member_index[series.last]]
    last_t[n_series:] = spans.start[n_series:]
    rate = log.amount[spans.charge]  # a monthly term's rate; a series' last renewal's
    rate[series.member_series[series.last]] = log.amount[series.member_index[series.last]]
    ann = np.flatnonzero(spans.annual)
    mon = np.flatnonzero(~spans.annual)
    if not len(ann) or not len(mon):
        return series, terms
    a = pd.DataFrame({"cust": spans.cust[ann], "annual": ann, "t": spans.start[ann], "amount": rate[ann]})
    m = pd.DataFrame({"cust": spans.cust[mon], "span": mon, "start": spans.start[mon], "end": spans.end[mon],
                      "last_t": last_t[mon], "rate": rate[mon]})
    hit = a.merge(m, on="cust")
    # a switch buys the year of the plan it replaces: an annual term worth a few months of it (a seat bought for a
    # year beside a bigger monthly plan ends nothing)
    # (up to a late renewal's tolerance after its end: a switch paid late at the slot leaves no gap)
    hit = hit.loc[(hit["start"] < hit["t"]) & (hit["last_t"] < hit["t"]) & (hit["t"] < hit["end"] + log.tol_ns)
                  & (hit["amount"] >= MIN_ANNUAL_MONTHS * hit["rate"])]
    if hit.empty:
        return series, terms
    hit = hit.sort_values(["span", "t"], kind="stable").drop_duplicates("span")
    span, at, by = hit["span"].to_numpy(), hit["t"].to_numpy(), hit["annual"].to_numpy()
    cut_by = terms.cut_by.copy()
    cut_by[span] = by
    end = spans.end.copy()
    end[span] = at
    piece_end = series.piece_end.copy()
    is_series = span < n_series
    if is_series.any():
        last_member = np.flatnonzero(series.last)
        where = np.full(n_series, -1, dtype=np.int64)
        where[series.member_series[last_member]] = last_member
        piece_end[where[span[is_series]]] = at[is_series]
    series = dataclasses.replace(series, piece_end=piece_end,
                                 spans=dataclasses.replace(series.spans, end=end[:n_series]))
    terms = dataclasses.replace(terms, spans=dataclasses.replace(terms.spans, end=end[n_series:]), cut_by=cut_by)
    return series, terms
