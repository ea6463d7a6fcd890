"""Step 5, its evidence: what the charges around a single charge say of it (metrics.md 2b "Single-charge terms":
"when smaller charges that renew nothing follow it within a year (prorations on an annual term)"), mostly those after
it.

kpi.billing.terms reads each single charge with these, over the charges sorted by customer and time (`u`, and `hi`:
the end of each one's year among them):
- `annual_prorations`: a later charge within its year that is k seats x an annual seat price of the book x the share
  of its year left (the charge is a year), better so than a seat of its month; `own_price_prorations`: the same at
  the charge's own seat price (its amount / its seats), when the book has no such price; `year_share_seats`: a
  charge whose prorations within its month, at its whole amount, say it is a year from the start;
- `monthly_prorations`: a later charge within its month that is k seats x a monthly seat price x the share of its
  month left (a charge the book read as a year is a month after all);
- `big_annual_proration`: a big charge that is seats added to an earlier year, not a year of its own, settled on
  the year it belongs to (`latest_before`: a customer's latest year before a charge);
- `yearly_renewals`: the single charge that renews each one 12 calendar months later (an annual plan renewing).
"""

from __future__ import annotations

import numpy as np

from kpi.billing.log import MONTHLY, Log
from kpi.billing.pricebook import PriceBook
from kpi.billing.prices import (
    MAX_SEATS_ADDED,
    MIN_MONTH_SHARE,
    proration_fit,
    proration_fit_price,
    same_amount,
    seats_in,
    upgrade_fit,
    whole_multiple,
)
from kpi.billing.timeline import DAY_NS, add_months, nearest

UPGRADE_TOLERANCE = 0.01  # a renewal carries a price upgrade: it grew by at least what the upgrade adds a year, to 1%
MAX_RENEWAL_ROUNDS = 64  # plans that lost a shared renewal to a closer one look again (each round settles one at least)
CENT_ROUNDING = 0.0051  # a proration is rounded to the cent
READ_HOSTS_LOOKED_AT = 3  # the years read from their amount a big proration may belong to (big_annual_proration)
MAX_PRORATION_ROUNDS = 8  # big seat prorations on one annual term settled one after the other (big_annual_proration)
FOLLOWERS_LOOKED_AT = 3  # the first later charges of a year that may be annual prorations of it


def annual_prorations(log: Log, u: np.ndarray, hi: np.ndarray, book: PriceBook
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


MAX_OWN_SEATS = 40  # the seat counts an anchor's amount is divided by to find its own seat price (own_price_prorations)
MAX_OWN_SEATS_ADDED = 20  # ... and the seats one of its prorations may add (generated logs: 17 at most)


def own_price_prorations(log: Log, u: np.ndarray, hi: np.ndarray, book: PriceBook, todo: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each charge u[i] of `todo` (as `annual_prorations`): the first of its next FOLLOWERS_LOOKED_AT charges
    within its year, after its own month is out (or within it where the year's share shows in the cents, as
    `year_share_seats` asks of one seat at the whole amount: docs/billing.md item 73), that is k seats x its own seat
    price x the share of its year left, to the cent: its own seat price is its amount / k0 seats (k0 = 1 ..
    MAX_OWN_SEATS, the fewest first), a whole number of cents and at least the least a year costs
    (`PriceBook.least_year`), k at most MAX_OWN_SEATS_ADDED, and the follower no whole multiple of a price of the book
    nor the anchor's amount again (so many seat counts tried make a chance fit to the cent possible: about 1 anchor in
    500 with followers at random amounts, a review found; the whole cents and the seats added cap cut that about six
    times). 510.40 = 2 seats x 255.20, a price the book has not learned, then 211.54 two months later = 1 x 255.20 x
    the 302.6 days of 365 left, and more like it (306787, generated seat11 seed 3): the billing system prorated seats
    on a year bought at 255.20 a seat, which the book's own annual prices do not read (its followers were "no annual
    prorations of it": a month, then churn). A month's plan is over by then, and a seat added to it
    costs a month's share: only a year's share leaves these cents (docs/billing.md item 71). Within the month the two
    shares differ by cents only: 957 = 3 x 319, then 318.99 twelve minutes later is 319 x the year's share, where the
    month's would be 318.91 (generated seat11 seed 18, 78301, at its first month end). With k and that price (-1, 0,
    NaN where none)."""
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
        ok = (cand + offset < hi[cand]) & ~whole_price[j] & ~same_amount(log.amount[f], log.amount[h])
        later = log.t[f] >= month_end
        share = (year_end - log.t[f]) / np.maximum(year_end - log.t[h], 1)
        share_m = np.clip((month_end - log.t[f]) / np.maximum(month_end - log.t[h], 1), 0.0, 1.0)
        # within its month, a follower that any month's share reads to the cent is no evidence of a year: seats at a
        # monthly seat price of the book, or at any seat price the anchor's amount splits into (720 = 40 x 18, then
        # 118.17 = 8 x 18 x the month's share, also 1 x 120 x the year's: a month of 40 seats)
        # (asked only of the followers within the anchor's month that may fit at all)
        month_read = np.zeros(len(cand), dtype=bool)
        near = np.flatnonzero(ok & ~later)
        if len(near):
            amount_f, share_near, read = log.amount[f[near]], share_m[near], np.zeros(len(near), dtype=bool)
            for by_month in (*(p.amount * share_near for p in book.monthly_seat),
                             *(log.amount[h[near]] / k0 * share_near for k0 in range(1, MAX_OWN_SEATS + 1))):
                read |= _seats_at(amount_f, by_month, MAX_OWN_SEATS_ADDED) > 0
            month_read[near] = read
        found_k0 = np.zeros(len(cand), dtype=np.int64)
        found_k = np.zeros(len(cand), dtype=np.int64)
        for k0 in range(MAX_OWN_SEATS, 0, -1):  # the fewest seats (the dearest seat price) wins: written last
            unit = log.amount[h] / k0
            by_year = unit * share
            k = _seats_at(log.amount[f], by_year, MAX_OWN_SEATS_ADDED)
            # within its month, as `year_share_seats` reads one seat at the whole amount: the year's share must show
            # in the cents, and no month's share reads the follower (`month_read`)
            shows = _year_shows(k, log.amount[f], unit, by_year, unit * share_m) & ~month_read
            fit = ok & (later | shows) & (unit >= least) & (cents % k0 == 0) & (k > 0)
            found_k0[fit], found_k[fit] = k0, k[fit]
        hit = found_k0 > 0
        charge[cand[hit]], seats[cand[hit]] = f[hit], found_k[hit]
        price[cand[hit]] = log.amount[h[hit]] / found_k0[hit]
    return charge, seats, price


def monthly_prorations(log: Log, u: np.ndarray, hi: np.ndarray, book: PriceBook
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each charge u[i] (as `annual_prorations`): the first of its next FOLLOWERS_LOOKED_AT charges within its
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


def year_share_seats(log: Log, anchors: np.ndarray, followers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        k = _seats_at(log.amount[f], by_year, MAX_SEATS_ADDED)
        hit = ok & (k > 0) & _year_shows(k, log.amount[f], log.amount[h], by_year, by_month)
        out[h[hit]], follower[h[hit]], seats[h[hit]] = True, f[hit], k[hit]
    return out, follower, seats


def _seats_at(amount: np.ndarray, each: np.ndarray, most: int) -> np.ndarray:
    """k where each amount is k x `each` (k = 1 .. most) to the cent, as a billing system rounds a proration; 0
    elsewhere."""
    k = np.rint(amount / np.maximum(each, 1e-9))
    return np.where((k >= 1) & (k <= most) & (np.abs(amount - k * each) <= CENT_ROUNDING), k, 0).astype(np.int64)


def _year_shows(k: np.ndarray, amount: np.ndarray, seat_price: np.ndarray, by_year: np.ndarray,
                by_month: np.ndarray) -> np.ndarray:
    """Does `amount`, k seats x a seat price x the year's share left (`by_year` a seat), show the year's share in
    its cents: far enough from the month's share (`by_month` a seat), and from the seat price whole, that rounding to
    the cent cannot make one look like the other (docs/billing.md items 61-62)?"""
    return (k * np.abs(by_year - by_month) >= 2 * CENT_ROUNDING + 0.01) & \
        (np.abs(amount - k * seat_price) > CENT_ROUNDING)


def latest_before(log: Log, among: np.ndarray, charges: np.ndarray) -> np.ndarray:
    """For each charge: the latest of `among` (charge indices, sorted) of its customer at or before it (the charge
    itself where none: callers ask only where one exists)."""
    key = log.key
    pos = np.searchsorted(key[among], key[charges], side="right") - 1
    found = among[np.maximum(pos, 0)]
    return np.where((pos >= 0) & (log.cust[found] == log.cust[charges]), found, charges)


def big_annual_proration(log: Log, book: PriceBook, strong: np.ndarray, big: np.ndarray,
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
