"""Step 5: single charges (metrics.md 2b "Single-charge terms", "Switch to annual", "Pending charges").

A single charge is one that no monthly series took. In order (a: `_strong_singles`; b: `_hosted`, then the followers
and the rounds of `read_single_charges`, with kpi.billing.followers; c: `end_switched`):

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
   annual seat price x the share of its year left (`monthly_prorations`: 144, then 17.99 23 minutes later).
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

from kpi.billing.followers import (
    annual_prorations,
    big_annual_proration,
    latest_before,
    monthly_prorations,
    own_price_prorations,
    year_share_seats,
    yearly_renewals,
)
from kpi.billing.log import ANNUAL, AUTO, MONTHLY, Log
from kpi.billing.pricebook import (
    MONTHLY_LIKELY,
    MONTHLY_RESUMED,
    MONTHLY_SEATS,
    PriceBook,
    Verdict,
)
from kpi.billing.prices import (
    MIN_ANNUAL_MONTHS,
    proration_fit,
    same_amount,
    seats_in,
    whole_multiple,
)
from kpi.billing.series import Series, Spans
from kpi.billing.surroundings import annual_price_for, rate_of_piece
from kpi.billing.timeline import (
    add_months,
    covering,
    group_starts,
    range_min,
    renewal_window_end,
)

SEAT_SLACK = 0.1  # a big pending charge is a month of k seats when k is today's seats within 10% (or one seat)


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


@dataclass(frozen=True)
class _Strong:
    """Step 5a per charge (see the module docstring): the switches to annual, and the single charges that open a year
    whatever falls inside them (`strong`). Arrays the later steps go on writing into: `book_annual`, `switch_rate`,
    `switch`."""

    book_annual: np.ndarray  # the book reads it as annual (AUTO mode); a month of the plan a switch replaced is not
    switch_rate: np.ndarray  # the monthly rate it is an annual price for (0: none)
    month_first: np.ndarray  # a month of the plan that 10 or 12 times it, within its month, switched to annual
    switch: np.ndarray  # a switch to annual
    yearly: np.ndarray  # the single charge that renews it 12 months later (-1: none)
    renews: np.ndarray  # the single charge it renews from 12 months before (-1: none)
    seat_month: np.ndarray  # a big month of its customer's seats, a plan of its own
    by_share: np.ndarray  # a year its own prorations within its month show (`year_share_seats`) ...
    share_follower: np.ndarray  # ... and that proration
    share_k: np.ndarray  # ... and its seats
    strong: np.ndarray  # opens an annual term, never a proration
    demoted: np.ndarray  # a big charge that is a seat proration on a year, not a year of its own


@dataclass(frozen=True)
class _Hosted:
    """Step 5b per charge: where the single charges that are not strong fall (inside a running series or strong year:
    a proration of it, unless it escapes) and which of them go on to open terms of their own (`rest[keep]`)."""

    rest: np.ndarray  # the single charges that are not strong (indices, by customer and time)
    covered: np.ndarray  # per `rest`: inside a series or a strong year
    new_plan: np.ndarray  # per `rest`: pending, every host it falls in ended before as_of: a new plan
    keep: np.ndarray  # per `rest`: opens a term or is placed by the rounds of step 5c
    prorated: np.ndarray  # per charge: a proration of its host
    orphan: np.ndarray  # per charge: pending, it may only prorate a term still running at as_of
    month_beside: np.ndarray  # per charge: a month of its customer's seats beside a year (takes no follower)
    resumed: np.ndarray  # per charge: a month of a plan that starts again on its slot (MONTHLY_RESUMED)
    switched_month: np.ndarray  # per charge: the month of a plan a switch to annual replaced


def _strong_singles(log: Log, series: Series, book: PriceBook, verdict: Verdict, switched: np.ndarray,
                    first_reading: bool) -> _Strong:
    """Step 5a (the module docstring's a): switches to annual, then the charges that are a year whatever follows
    them: big ones, renewed a year later, switches, and years their own prorations show; less the big seat
    prorations on a year (`big_annual_proration`)."""
    n, keys = len(log), log.keys
    ratios = () if first_reading else book.switch_ratios
    single = series.number < 0
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
    by_share, share_follower, share_k = year_share_seats(log, single & (log.mode == AUTO), single)
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
        demoted = big_annual_proration(log, book, strong, big & ~switch & (yearly < 0) & (renews < 0),
                                        None if first_reading else yearly, read)
        strong &= ~demoted
    return _Strong(book_annual=book_annual, switch_rate=switch_rate, month_first=month_first, switch=switch,
                   yearly=yearly, renews=renews, seat_month=seat_month, by_share=by_share,
                   share_follower=share_follower, share_k=share_k, strong=strong, demoted=demoted)


def _hosted(log: Log, series: Series, book: PriceBook, verdict: Verdict, s: _Strong) -> _Hosted:
    """Step 5b (the module docstring's b, its first half): each single charge that is not strong, inside a running
    series or strong year, prorates it, except those that escape (an annual price inside a monthly series, a
    month of seats beside a year, a month of a plan resumed or switched from, a big month of seats inside a
    series) and a pending charge whose every host ended before as_of (a new plan: an orphan)."""
    n, keys, as_of = len(log), log.keys, log.as_of
    single, pending, key = series.number < 0, log.pending, log.key
    strong, month_first, book_annual, seat_month = s.strong, s.month_first, s.book_annual, s.seat_month
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
        host = latest_before(log, np.flatnonzero(strong), rest[beside])
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
    return _Hosted(rest=rest, covered=covered, new_plan=new_plan, keep=keep, prorated=prorated, orphan=orphan,
                   month_beside=month_beside, resumed=resumed, switched_month=switched_month)


def read_single_charges(log: Log, series: Series, book: PriceBook, verdict: Verdict, switched: np.ndarray,
                        first_reading: bool = False) -> Terms:
    """Step 5 over the charges no series took (see the module docstring). `verdict`: the price book's reading of
    every charge; `switched`: per charge, the rate of the series renewal it was detached from as a switch to annual
    (0: none). `first_reading`: the reading the price book is learned from (amount rules only, no switch)."""
    n, keys, as_of = len(log), log.keys, log.as_of
    ratios = () if first_reading else book.switch_ratios
    due = add_months(log.t, 1) + log.tol_ns  # by then a charge's first renewal, if any, has been seen
    pending = log.pending
    key = log.key
    s = _strong_singles(log, series, book, verdict, switched, first_reading)  # a
    book_annual, switch_rate, switch, yearly, renews = s.book_annual, s.switch_rate, s.switch, s.yearly, s.renews
    strong, demoted, by_share = s.strong, s.demoted, s.by_share
    share_follower, share_k = s.share_follower, s.share_k
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
    h = _hosted(log, series, book, verdict, s)  # b
    rest, covered, new_plan, keep, prorated, orphan = h.rest, h.covered, h.new_plan, h.keep, h.prorated, h.orphan
    month_beside, resumed, switched_month = h.month_beside, h.resumed, h.switched_month
    # c: the rest, oldest first: followers that make them years (or months), then the terms they open
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
            fit_charge, fit_k, fit_price = annual_prorations(log, u, hi, book)
            # ... or of its own seat price, one the book has not learned (item 71)
            own_charge, own_k, own_price = own_price_prorations(log, u, hi, book, fit_charge < 0)
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
            m_charge, m_k, m_price = monthly_prorations(log, u, hi, book)
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
            # the seat added that made a charge a month (`monthly_prorations`) goes with that month, and only with it
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
