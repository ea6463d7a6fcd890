"""What the price book says of a charge (kpi.billing.pricebook, step 4; metrics.md 2b "Single-charge terms").

For a charge of amount A whose customer has S seats (S may be unknown), `read_amounts` gives one code of
kpi.billing.pricebook.book:
- MONTHLY_SEATS: A = S x a monthly seat price. This wins: the book calls A annual only when it is not that.
- ANNUAL_SEATS: A = S x an annual seat price.
- ANNUAL_POINT: A = a configured annual price point (flat plans); or, when the log gives no seat counts
  to weigh, A = k x the annual list price (k seats bought for a year), or, for a charge whose renewal was
  due, k x a learned tier price when the log's year-old tier multiples renewed at least half as often as
  its list multiples (kpi.billing.pricebook.renewals.with_tier_points), or, before those renewals can say, when they
  lapsed after a month at least twice as often as months of several seats would
  (kpi.billing.pricebook.lapses.with_young_tier_points; its tiers include the amounts below and the points a young log
  learned by lapses); or, before any charge is a year old and for a charge whose renewal was due, an amount whose
  lapses outnumber twice what its renewed months would give (kpi.billing.pricebook.lapses.lapse_years).
- ANNUAL_LIKELY / MONTHLY_LIKELY: S settles nothing, and the likelier of k seats x an annual price and
  k' seats x a monthly price (a log too young to say its mix weighs the two intervals evenly), given the log's mix
  (kpi.billing.pricebook.learning.with_mix: the share of annual plans among single charges and among new plans, each
  price's share, P(k seats) from the customers' seat counts, and k's distance from today's S, none for once a flat
  plan's price paired among amounts in a log's first month: `_likeliest`).
- ANNUAL_BESIDE: S settles nothing, a monthly series of the customer starts after the charge within a month at a
  smaller amount (kpi.billing.surroundings.before_a_monthly_plan), and an annual price reads it: annual whatever the
  weighing says (that series is the customer's monthly plan; 180 then a 3-seat monthly plan a minute later is 1 seat
  for a year, not 10 seats for a month beside 3). Without seat counts to weigh, such a charge at a tier multiple is
  annual too (other_price NaN).
- ANNUAL_WITH: ANNUAL_BESIDE for a dearer monthly series that starts within the renewal tolerance after a settled
  charge outside every running monthly plan (`together`): two plans bought together, of which the one that renews
  monthly is the monthly plan (180, then a monthly plan of 270 a minute later, is 1 seat for a year beside it, not 10
  seats for a month that stopped while the other went on; docs/billing.md item 67).
- MONTHLY_RESUMED (set after the book's reading, `Verdict.resumed`): whatever annual reading the book gave, a monthly
  series of the customer anchors on one of the charge's monthly slots 2 to 11 months later at its very amount: a
  month of that plan, which stopped and started again on its own day and hour (116726: 126 on 2016-03-07 11:38, then
  126 monthly from 2016-05-07 11:38), not 1 x 126 a year beside it.
- ANNUAL_UNPRICED: no price reads A at all (neither interval, at any seat count), the customer's S seats are known
  (or, for a charge whose renewal was due, unknown: then S is the commonest seat count that makes the rest hold, and
  other_multiple is NO_SEAT_COUNT),
  the charge is outside every running monthly plan of its customer and A is none of the amounts that start the monthly
  series of MIN_CUSTOMERS+ customers (`monthly_amounts`: a flat plan's month): S seats for a year at A / S when that is
  MIN_ANNUAL_MONTHS to the book's months a year (`months_a_year`) of one of its monthly seat prices, pending or not
  (616.55 by one seat: 10.4 months of 59, a discounted seat's year the log has not taught); a learned book whose mix is
  known only.
- ANNUAL_UNLISTED: while a charge is pending and outside every running monthly plan of its customer, when no
  annual price reads it and a monthly one only at k' != S seats, S seats for a year at A / S (6-12 months of
  one of the book's monthly seat prices: a tier the log has not taught yet), if likelier (`_unlisted`; learned
  books only).
Equal means within AMOUNT_TOLERANCE (0.1 %, at least one cent).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.billing.pricebook.book import (
    AMOUNT_TOLERANCE,
    ANNUAL_BESIDE,
    ANNUAL_LIKELY,
    ANNUAL_POINT,
    ANNUAL_SEATS,
    ANNUAL_UNLISTED,
    ANNUAL_UNPRICED,
    ANNUAL_WITH,
    MAX_SEATS,
    MONTHLY_LIKELY,
    MONTHLY_SEATS,
    NO_SEAT_COUNT,
    NONE,
    PriceBook,
    Verdict,
    close,
    months_a_year,
)
from kpi.billing.prices import MIN_ANNUAL_MONTHS, Price

DISTINCT_FROM = 4096  # read_amounts reads each distinct (amount, seats, pending) once from this many charges on


def read_amounts(book: PriceBook, amount: np.ndarray, seats: np.ndarray, pending: np.ndarray | None = None,
                 alone: np.ndarray | None = None, beside: np.ndarray | None = None,
                 together: np.ndarray | None = None) -> Verdict:
    """The price book's verdict on each amount, given its customer's seats (NaN: unknown) and whether it is pending
    (its first renewal not yet due: then it may be the first month of a series); see the module docstring. `alone`:
    the charges outside every running monthly plan of their customer, the only ones a pending reading may price at a
    tier the book has not learned (`_unlisted`); None: none. `beside`: the charges a monthly plan of their customer
    starts after, within a month (kpi.billing.surroundings.before_a_monthly_plan): weighed, they are annual wherever an
    annual price reads them (the customer's monthly plan is that series); None: none. `together`: those of them
    bought with a dearer monthly plan (kpi.billing.surroundings.before_a_monthly_plan: ANNUAL_WITH); None: none.

    A verdict depends on nothing but those values, so a long log (a million charges, a few tens of thousands of
    distinct ones) is weighed once per distinct (amount, seats, pending, alone, beside, together) and spread back to
    every charge."""
    flags = [f for f in (pending, alone, beside, together) if f is not None]
    if len(amount) >= DISTINCT_FROM and book.seat_prior:  # the weighing is what costs: cheaper books read directly
        key = pd.factorize(np.asarray(amount, dtype="float64").view(np.int64))[0].astype(np.int64)
        for part in (np.asarray(seats, dtype="float64").view(np.int64), *(np.asarray(f, dtype=np.int64) for f in flags)):
            codes, uniques = pd.factorize(part)
            key = key * len(uniques) + codes
        inverse = pd.factorize(key)[0]
        first = np.unique(inverse, return_index=True)[1]  # each distinct reading's first charge
        if len(first) < len(amount) // 2:
            v = _read_amounts(book, amount[first], seats[first], None if pending is None else pending[first],
                              None if alone is None else alone[first], None if beside is None else beside[first],
                              None if together is None else together[first])
            return Verdict(code=v.code[inverse], price=v.price[inverse], multiple=v.multiple[inverse],
                           other_price=v.other_price[inverse], other_multiple=v.other_multiple[inverse])
    return _read_amounts(book, amount, seats, pending, alone, beside, together)


def _read_amounts(book: PriceBook, amount: np.ndarray, seats: np.ndarray, pending: np.ndarray | None,
                  alone: np.ndarray | None = None, beside: np.ndarray | None = None,
                  together: np.ndarray | None = None) -> Verdict:
    """`read_amounts`, charge by charge."""
    n = len(amount)
    code = np.full(n, NONE, dtype=np.int8)
    price = np.full(n, np.nan)
    multiple = np.zeros(n, dtype=np.int64)
    other_price = np.full(n, np.nan)
    other_multiple = np.zeros(n, dtype=np.int64)
    known = ~np.isnan(seats)
    whole = np.where(known, seats, 0).astype(np.int64)
    if beside is not None and together is not None:
        together = together & beside

    def mark(hit: np.ndarray, what: int, p: float | np.ndarray, k: np.ndarray) -> None:
        hit = hit & (code == NONE)
        code[hit], price[hit], multiple[hit] = what, np.broadcast_to(p, n)[hit], k[hit]

    for m in book.monthly_seat:
        mark(known & close(amount, whole * m.amount), MONTHLY_SEATS, m.amount, whole)
    for a in book.annual_seat:
        mark(known & close(amount, whole * a.amount), ANNUAL_SEATS, a.amount, whole)
    for pt in book.annual_points:
        mark(close(amount, np.full(n, pt.amount)), ANNUAL_POINT, pt.amount, np.ones(n, dtype=np.int64))
    if book.seat_prior:  # today's seats do not say: weigh k seats for a year against k' seats for a month
        share = np.where(np.zeros(n, dtype=bool) if pending is None else pending, book.annual_share_new,
                         book.annual_share_single)
        # until annual evidence comes, the assumed ones; a price learned from what did not renew is as sure as the seat
        # counts it was divided by, and matches them exactly or not at all
        learned = [a for a in book.annual_seat if not a.assumed and not a.lapsed]
        weighed = learned or [a for a in book.annual_seat if not a.lapsed]
        a_score, a_price, a_k = _likeliest(book, weighed, amount, share, seats)
        m_score, m_price, m_k = _likeliest(book, list(book.monthly_seat), amount, 1 - share, seats)
        unlisted = unpriced = np.zeros(n, dtype=bool)
        tiers = alone is not None and book.monthly_seat and book.mode != "configured" and book.unlisted

        def as_year(where: np.ndarray, most: float = 12.0, unknown_seats: bool = False) -> np.ndarray:
            """`_unlisted` on the charges `where`, its reading taking the annual one's place where it has one."""
            nonlocal a_score, a_price, a_k
            score, per_seat, k = _unlisted(book, weighed, amount, share, seats, where, most, unknown_seats, pending)
            found = np.isfinite(score)
            a_score, a_price, a_k = np.where(found, score, a_score), np.where(found, per_seat, a_price), \
                np.where(found, k, a_k)
            return found

        if tiers and pending is not None:  # pending, a monthly price reads it only at another seat count
            unlisted = as_year(pending & alone & np.isfinite(m_score) & ~np.isfinite(a_score))
        if tiers and book.mix_known:
            # read by no price at all, pending or not: the customer's seats for a year at a tier not learned yet (at
            # most the book's months a year of a monthly seat price: a discount makes a year cheaper, never dearer),
            # unless the amount is some monthly plan's month (a flat plan's: 150 by a one-seat customer)
            unpriced = as_year(alone & ~np.isfinite(m_score) & ~np.isfinite(a_score) & ~_a_monthly_amount(book, amount),
                               months_a_year(book), unknown_seats=True)
        annual_wins = a_score > m_score
        mark(annual_wins & unlisted, ANNUAL_UNLISTED, a_price, a_k)
        mark(annual_wins & unpriced, ANNUAL_UNPRICED, a_price, a_k)
        other_multiple[(code == ANNUAL_UNPRICED) & ~known] = NO_SEAT_COUNT  # its k is a guess, and the reason says so
        mark(annual_wins & np.isfinite(a_score), ANNUAL_LIKELY, a_price, a_k)
        if beside is not None:  # a monthly plan of its own starts right after: this one is no second monthly plan
            if together is not None:
                mark(together & np.isfinite(a_score) & np.isfinite(m_score), ANNUAL_WITH, a_price, a_k)
            mark(beside & np.isfinite(a_score) & np.isfinite(m_score), ANNUAL_BESIDE, a_price, a_k)
            annual_wins |= beside & np.isfinite(a_score)
        mark(~annual_wins & np.isfinite(m_score), MONTHLY_LIKELY, m_price, m_k)
        decided = np.isin(code, (ANNUAL_LIKELY, MONTHLY_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE, ANNUAL_WITH))
        other_price[decided] = np.where(annual_wins, m_price, a_price)[decided]
        other_multiple[decided] = np.where(annual_wins, m_k, a_k)[decided]
    else:
        learned = [a for a in book.annual_seat if not a.assumed and not a.derived and not a.lapsed]
        # no seat counts to weigh: multiples of the annual list price only (tiers are too dense: 126 = 7 x 18), never
        # of a guess; of the tiers too when the log's renewals say so, for charges whose renewal was due (what the
        # renewals measured; a pending one may as well be a new monthly plan's first month)
        settled = np.ones(n, dtype=bool) if pending is None else ~pending
        # ... and of the tiers for a charge a monthly plan of its customer starts after (no second monthly plan)
        for i, a in enumerate(learned):
            k = np.rint(amount / a.amount).astype(np.int64)
            hit = (k >= 1) & close(amount, k * a.amount)
            mark(hit & (settled & book.tier_points if i else True), ANNUAL_POINT, a.amount, k)
            if i and beside is not None:
                if together is not None:
                    mark(hit & together, ANNUAL_WITH, a.amount, k)
                mark(hit & beside, ANNUAL_BESIDE, a.amount, k)
        for pt in book.lapse_years:  # ... and, in a young log, amounts whose lapsed charges are years
            mark(settled & close(amount, np.full(n, pt.amount)), ANNUAL_POINT, pt.amount, np.ones(n, dtype=np.int64))
        if book.tier_points:  # ... and their multiples, with the other years a young log taught, when tiers are years
            for u in book.tier_units:
                k = np.rint(amount / u).astype(np.int64)
                mark(settled & (k >= 2) & close(amount, k * u), ANNUAL_POINT, u, k)
        for pt in book.pooled_years:  # ... and amounts too rarely lapsed to judge alone, judged together
            mark(settled & close(amount, np.full(n, pt.amount)), ANNUAL_POINT, pt.amount, np.ones(n, dtype=np.int64))
    return Verdict(code=code, price=price, multiple=multiple, other_price=other_price, other_multiple=other_multiple)


WEIGHED_TOLERANCE = 0.0002  # k seats x a price, k free: the amount within 0.02% (490.00 is no 43 x 11.40 = 490.20)
SEAT_DRIFT = 2.0  # P(k seats then | S seats today) falls as exp(-SEAT_DRIFT x |ln(k / S)|): half or twice is 1/4


def _likeliest(book: PriceBook, prices: list[Price], amount: np.ndarray, share: np.ndarray, seats: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each amount, the likeliest reading as k seats x one of `prices` (all annual or all monthly; `share`: the
    probability of that interval, per amount): its log score (log P(interval) + log P(this price among its kind) +
    log P(k seats) - SEAT_DRIFT x |ln(k / today's seats)| where known, but for once a flat plan's price paired among
    amounts (`pairs._flat_amount`), which customers pay as such whatever their seats; -inf where no price divides the
    amount into whole seats), the price and k."""
    n = len(amount)
    best = np.full(n, -np.inf)
    best_price = np.full(n, np.nan)
    best_k = np.zeros(n, dtype=np.int64)
    support = sum(max(p.customers, 1) for p in prices)
    if not prices:
        return best, best_price, best_k
    with np.errstate(divide="ignore"):
        log_share = np.log(share)
    for p in prices:
        k = np.rint(amount / p.amount).astype(np.int64)
        ok = (k >= 1) & (k <= MAX_SEATS) & close(amount, k * p.amount, WEIGHED_TOLERANCE)
        score = log_share + np.log(max(p.customers, 1) / support) + _log_seat_prior(book, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            drift = np.where(np.isnan(seats) | (seats <= 0), 0.0, np.abs(np.log(np.maximum(k, 1) / seats)))
        if p.by_amount:  # customers pay this very amount, whatever their seats: once is no seat count to drift from
            drift = np.where(k == 1, 0.0, drift)
        score = score - SEAT_DRIFT * drift
        better = ok & (score > best)
        best, best_price, best_k = np.where(better, score, best), np.where(better, p.amount, best_price), \
            np.where(better, k, best_k)
    return best, best_price, best_k


def _log_seat_prior(book: PriceBook, k: np.ndarray) -> np.ndarray:
    """log P(k seats) from the book's seat prior; beyond the largest count seen, rarer still (a tenth of the rarest)."""
    prior = np.log(np.r_[book.seat_prior, min(book.seat_prior) / 10])
    return prior[np.clip(k, 1, len(prior)) - 1]


def _unlisted(book: PriceBook, annual: list[Price], amount: np.ndarray, share: np.ndarray, seats: np.ndarray,
              where: np.ndarray, most: float = 12.0, unknown_seats: bool = False, pending: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the charges `where` (pending, read by no annual price, and by a monthly one only at some other seat count;
    or, ANNUAL_UNPRICED, read by no price at all):
    the customer's own S seats for a year at amount / S a seat, when that is MIN_ANNUAL_MONTHS to `most` months of one of
    the book's monthly seat prices (`year_of_unlisted`: a discount tier the log has not taught yet, 144 = 1 seat x 8
    months of 18, not 8 seats for a month by a one-seat customer). Its score is `_likeliest`'s with the support of
    one customer among the annual prices' and no seat drift; -inf elsewhere. Returns the score, the price a seat and
    S. `most`: 12, or for ANNUAL_UNPRICED the book's months a year (`months_a_year`). `unknown_seats`: a charge of a
    customer with no seat count, not `pending`, takes the commonest seat count (the book's seat prior) that makes it
    such a year (217.80 on the shared log, likely 180 + 21% VAT: 2 x 108.90, 6.05 months of 18; 1 x 217.80 would be
    12.1 months, more than the book's year)."""
    n = len(amount)
    known = where & ~np.isnan(seats) & (seats >= 1) & (seats <= MAX_SEATS)
    whole = np.where(known, seats, 1).astype(np.int64)  # as `_read_amounts` counts them
    per_seat = amount / whole
    ok = known & ~np.isnan(year_of_unlisted(book, per_seat, most))
    if unknown_seats and book.monthly_seat:  # no seat count: the commonest seat count k that makes it such a year
        # (a charge under MIN_ANNUAL_MONTHS of the cheapest seat is a year at no seat count: none is tried)
        cheapest = min(p.amount for p in book.monthly_seat)
        todo = np.flatnonzero(where & np.isnan(seats) & (amount >= MIN_ANNUAL_MONTHS * cheapest) &
                              (True if pending is None else ~pending))
        for k in np.argsort(-np.asarray(book.seat_prior), kind="stable") + 1:
            if not len(todo):
                break
            fits = ~np.isnan(year_of_unlisted(book, amount[todo] / k, most))
            hit = todo[fits]
            whole[hit], per_seat[hit], ok[hit] = k, amount[hit] / k, True
            todo = todo[~fits]
    if not ok.any():
        return np.full(n, -np.inf), np.full(n, np.nan), np.zeros(n, dtype=np.int64)
    support = sum(max(p.customers, 1) for p in annual) + 1
    with np.errstate(divide="ignore"):
        score = np.log(share) + np.log(1 / support) + _log_seat_prior(book, whole)
    return np.where(ok, score, -np.inf), np.where(ok, np.round(per_seat, 2), np.nan), np.where(ok, whole, 0)


def _a_monthly_amount(book: PriceBook, amount: np.ndarray) -> np.ndarray:
    """Is each amount, to the cent, one that anchors the monthly series of several customers (`monthly_amounts`)?"""
    cents = np.rint(np.asarray(book.monthly_amounts, dtype="float64") * 100).astype(np.int64)
    return np.isin(np.rint(np.where(np.isfinite(amount), amount, -1) * 100).astype(np.int64), cents)


def year_of_unlisted(book: PriceBook, per_seat: np.ndarray, most: float = 12.0) -> np.ndarray:
    """The first of the book's monthly seat prices (list price first; every product's) of which each per-seat amount is
    MIN_ANNUAL_MONTHS to `most` months (NaN: none): what makes it a year at a tier the book has not learned."""
    of = np.full(len(per_seat), np.nan)
    for m in book.monthly_seat:
        months = per_seat / m.amount
        of = np.where(np.isnan(of) & (months >= MIN_ANNUAL_MONTHS) & (months <= most * (1 + AMOUNT_TOLERANCE)),
                      m.amount, of)
    return of
