"""Step 4: the price book (metrics.md 2b "Price book"): the company's list prices, and what they say of a charge.

A fixed amount threshold cannot tell a one-seat annual plan (180) from a month of a ten-seat plan
(10 x 18), so before single charges are classified the job learns the list prices from the log's
own unambiguous evidence (`learn_price_book`), or takes them from `[billing] price_book`:

- monthly seat price: the last renewal of each monthly series / its customer's seats (where known); a tier only one
  seat count pays, whose amount 3+ customers at other seat counts pay too, is a flat plan's price (`_seat_tiers`);
- annual seat price: (a) single charges >= annual_min_amount or renewed a year later / seats; (b)
  prorations on annual terms, read by the amount rules alone: a proration is the seat price x the
  seats added x the share of the term left, so amount / share left is the seat price times a whole
  number. On the shared log 38232 pays 720 for an annual term and 179.59 a day later: 180 x 364/365; (c) until a
  single charge is a year old, a per-seat price that 3+ customers paid once, 6 to 12 months of a monthly seat price,
  whose monthly renewal came at most half as often as the monthly seat prices' did (`_lapsed`; exact seat matches
  only: not weighed, not a list price by
  multiples, not a year ratio). Without seat counts, by amount (`_amount_points`): unless prorations taught one, the
  smallest amount paired 10 or 12 times another among single charges stands as the annual list price (its whole
  multiples are annual points), else the best supported lapsed amount (a whole multiple of the commonest monthly
  amount, `_lapsed_points`); the other lapsed amounts are points.

Annual price points (flat plans) are learned from renewals too (`_renewed_points`): an amount that MIN_CUSTOMERS+
customers paid in single charges renewed 12 months later at the same amount, and that is no whole multiple of an annual
or a monthly seat price (490, ten months of a flat 49); and, until a single charge is a year old, from what did not
renew a month later (`_lapsed_plan_points`): 6 to 12 whole months of a flat plan's monthly price that 3+ customers
paid once and that renewed at most half as often as the monthly plans' prices.

Values are grouped when within TOLERANCE of each other; a group becomes a price when at least
MIN_CUSTOMERS distinct customers and MIN_SHARE of its kind's customers support it (seat counts in a
customers file are today's, so one customer's evidence can be off; several customers agreeing is
the evidence), unless it is a whole multiple or fraction of a better supported price (9 = 18 / 2:
a customer with twice the seats today); a charge that is a whole multiple of the list price is no
evidence of another price. The best supported price of a kind is the list price; the others are
tiers (discounts, products). An annual seat price must be at least MIN_ANNUAL_MONTHS times the
monthly list price (one learned from what lapsed: of the monthly price it is a year of): anything smaller is a monthly
proration misread, not a year's price. A monthly
tier with no annual evidence gets the book's months a year (derived: the ratio of the best supported
monthly and annual prices that make a plausible year, `year_ratio`; with two products the best
supported prices of each kind need not be one product's); with no annual evidence at all, 10 or 12
months of the monthly list price stand in (assumed), for seat matches and for the weighing below.
Before any monthly series has renewed (a log's first month), two per-seat prices among the single
charges, one a whole number of times the other (6 to 12 months) and each paid by MIN_CUSTOMERS+ customers, are
a month's and a year's seat price (`_paired`); with today's seat counts scattering per-seat values, amounts 10 or
12 times another pair too, and the pairs of both are listed, best supported first (`_union`).

What it says of a charge of amount A whose customer has S seats (S may be unknown) (`read_amounts`):
- MONTHLY_SEATS: A = S x a monthly seat price. This wins: the book calls A annual only when it is not that.
- ANNUAL_SEATS: A = S x an annual seat price.
- ANNUAL_POINT: A = a configured annual price point (flat plans); or, when the log gives no seat counts
  to weigh, A = k x the annual list price (k seats bought for a year), or, for a charge whose renewal was
  due, k x a learned tier price when the log's year-old tier multiples renewed at least half as often as
  its list multiples (`_with_tier_points`), or, before any charge is a year old, when they lapsed after a month
  at least twice as often as months of several seats would (`_with_young_tier_points`; its tiers include the amounts
  below and the points a young log learned by lapses); or, before any charge is a year old and for a charge whose
  renewal was due, an amount whose lapses outnumber twice what its renewed months would give (`_lapse_years`).
- ANNUAL_LIKELY / MONTHLY_LIKELY: S settles nothing, and the likelier of k seats x an annual price and
  k' seats x a monthly price (a log too young to say its mix weighs the two intervals evenly), given the log's mix (`_with_mix`: the share of annual plans among single
  charges and among new plans, each price's share, P(k seats) from the customers' seat counts, and
  k's distance from today's S, none for once a flat plan's price paired among amounts in a log's first month).
- ANNUAL_BESIDE: S settles nothing, a monthly series of the customer starts after the charge within a month at a
  smaller amount (kpi.billing.terms.before_a_monthly_plan), and an annual price reads it: annual whatever the
  weighing says (that series is the customer's monthly plan; 180 then a 3-seat monthly plan a minute later is 1 seat
  for a year, not 10 seats for a month beside 3). Without seat counts to weigh, such a charge at a tier multiple is
  annual too (other_price NaN).
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

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from kpi.billing.log import AUTO, Log
from kpi.billing.prices import MIN_ANNUAL_MONTHS, MIN_MONTH_SHARE, Price, same_amount, whole_multiple
from kpi.billing.series import Series, Spans
from kpi.billing.timeline import add_months
from kpi.params import BillingRules, PriceList

TOLERANCE = 0.005  # prices learned: values this close are one price
AMOUNT_TOLERANCE = 0.001  # an amount equals seats x a price to the cent, or within 0.1 %
MIN_CUSTOMERS = 3
MIN_SHARE = 0.02
SWITCH_RATIOS = (10.0, 12.0)  # an annual price is ten months' price ("two months free") or twelve

NONE, MONTHLY_SEATS, ANNUAL_SEATS, ANNUAL_POINT, ANNUAL_LIKELY, MONTHLY_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE = (
    0, 1, 2, 3, 4, 5, 6, 7)
MONTHLY_RESUMED = 8  # not the book's: a month of the plan that starts again on its slot (Verdict.resumed)
ANNUAL_UNPRICED = 9
NO_SEAT_COUNT = -1  # Verdict.other_multiple of an ANNUAL_UNPRICED reading whose customer has no seat count
ANNUAL_CODES = (ANNUAL_SEATS, ANNUAL_POINT, ANNUAL_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE, ANNUAL_UNPRICED)
MONTHLY_CODES = (MONTHLY_SEATS, MONTHLY_LIKELY, MONTHLY_RESUMED)
MAX_SEATS = 10_000


@dataclass(frozen=True)
class PriceBook:
    """The list prices a reading uses. `mode`: learned (from the log), configured, or off (amount rules only)."""

    mode: Literal["learned", "configured", "off"]
    monthly_seat: tuple[Price, ...] = ()
    annual_seat: tuple[Price, ...] = ()
    annual_points: tuple[Price, ...] = ()
    # the amounts, to the cent, that anchor the monthly series of MIN_CUSTOMERS+ customers (a month's price of some
    # plan: seats x a price, or a flat plan's month): never read as a year at a tier not learned yet (ANNUAL_UNPRICED)
    monthly_amounts: tuple[float, ...] = ()
    considered: dict[str, int] = field(default_factory=dict)  # evidence looked at, by kind (for About)
    # the log's mix, to weigh two readings of one amount: the share of annual plans among single charges whose first
    # renewal was due and did not come (annual, or a month and gone) and among new plans (a pending charge may be the
    # first month of a series), and P(k seats), k = 1 ..
    annual_share_single: float = 0.0
    annual_share_new: float = 0.0
    seat_prior: tuple[float, ...] = ()
    mix_known: bool = True  # False: too young a log to say its mix; the two intervals weigh evenly
    unlisted: bool = True  # a charge at a tier not learned yet may be a year (ANNUAL_UNLISTED, ANNUAL_UNPRICED)
    # no seat counts to weigh: whole multiples of every learned annual seat price (tiers too) are annual points, for
    # charges whose renewal was due, when the log's year-old single charges at a tier renewed a year later at least
    # TIER_RENEWAL_RATIO times as often as those at the list price (a young log: `_with_young_tier_points`)
    tier_points: bool = False
    tier_renewals: tuple[int, ...] = ()  # (list renewed, list aged, tier renewed, tier aged), when compared
    tier_lapses: tuple[int, ...] = ()  # in a young log: (months renewed, months lapsed, tier renewed, tier lapsed)
    tier_units: tuple[float, ...] = ()  # in a young log: the year prices whose multiples those are (the tiers)
    # no seat counts, a young log: amounts whose lapsed charges are years (`_lapse_years`), for charges whose renewal
    # was due only; and (months renewed, months lapsed) of the months of several seats they were compared with
    lapse_years: tuple[Price, ...] = ()
    seat_month_lapses: tuple[int, ...] = ()

    def source_of(self, amount: float) -> str:
        """How the book knows the price `amount` (Price.source), "configured" if it is none of its prices."""
        for p in (*self.monthly_seat, *self.annual_seat, *self.annual_points, *self.lapse_years):
            if p.amount == amount:
                return p.source
        return "configured"

    @property
    def least_year(self) -> float:
        """The least a year's price can be: MIN_ANNUAL_MONTHS months of the book's smallest monthly seat price (0.0:
        it has none). A charge below it is no year of any seat (a seat added minutes after a renewal, 16.19, that
        recurs a year later is a coincidence of a customer who adds seats every month, not an annual plan)."""
        return MIN_ANNUAL_MONTHS * min(p.amount for p in self.monthly_seat) if self.monthly_seat else 0.0

    @property
    def switch_ratios(self) -> tuple[float, ...]:
        """Annual price / monthly rate ratios that mark a switch to annual: 10 and 12, and the book's own."""
        ratios = set(SWITCH_RATIOS)
        ratio = year_ratio(self.monthly_seat, self.annual_seat)
        if ratio:
            ratios.add(round(ratio, 4))
        return tuple(sorted(ratios))

    def rows(self) -> list[tuple[str, str]]:
        """(item, value) lines for the About tab."""
        if self.mode == "off":
            return [("price book", "off: single charges are read by the amount rules alone")]
        out: list[tuple[str, str]] = [("price book", self.mode)]
        for label, prices, unit in (("monthly seat price", self.monthly_seat, "per seat per month"),
                                    ("annual seat price", self.annual_seat, "per seat per year"),
                                    ("annual price point", self.annual_points, "a year")):
            for p in prices:
                out.append((label, f"{p.amount:.2f} {unit}, {p.source}" + (f" ({p.basis})" if p.charges and not
                                                                            p.derived else "")))
            if not prices and label != "annual price point":
                seen = self.considered.get(label)
                out.append((label, "none" + (f" (no price shared by {MIN_CUSTOMERS}+ customers among {seen} pieces of "
                                              "evidence)" if seen else "")))
        if self.seat_prior and not self.mix_known:
            out.append(("weighing two readings", "an amount that today's seats do not settle is read as k seats x an "
                                                 "annual price or k' seats x a monthly one, whichever is likelier given "
                                                 "each price's share of its kind and how common k seats is among the "
                                                 "customers (closer to today's count: likelier); the log is too young "
                                                 f"(fewer than {MIN_MIX_EVIDENCE} single charges matching seats x a "
                                                 f"price, or fewer than {MIN_MIX_EVIDENCE} monthly series) to say how "
                                                 "many plans are annual, so the two intervals weigh evenly"))
        elif self.seat_prior:
            out.append(("weighing two readings", f"an amount that today's seats do not settle is read as k seats x an "
                                                 f"annual price or k' seats x a monthly one, whichever is likelier given "
                                                 f"the log: {self.annual_share_single:.0%} of the single charges that "
                                                 f"match seats x a price exactly are annual ({self.annual_share_new:.0%} "
                                                 "of new plans), each price's share of its kind, and how common k "
                                                 "seats is among the customers (closer to today's count: likelier)"))
        elif self.annual_seat and not self.annual_seat[0].assumed:
            tiers = sorted({p.amount for p in self.annual_seat[1:] if not p.assumed and not p.derived} |
                           set(self.tier_units)) if self.tier_points else []
            out.append(("annual price points", f"every whole multiple of {self.annual_seat[0].amount:.2f} (k seats "
                                               "bought for a year at the list price)" + (
                                                   ", and of " + ", ".join(f"{t:.2f}" for t in tiers) +
                                                   " once their renewal was due" if tiers else "") + (
                                                   ", and the points above" if self.annual_points else "")))
            verdict = "read as annual" if self.tier_points else "not read as annual (they may be months of seats)"
            if self.tier_renewals:
                lr, la, tr, ta = self.tier_renewals
                out.append(("tier multiples", f"single charges a year old or more: {lr} of {la} at k x the list price "
                                              f"renewed a year later, {tr} of {ta} at k x a tier price: tier multiples "
                                              f"are {verdict}"))
            elif self.tier_lapses:
                mr, ml, tr, tl = self.tier_lapses
                units = ", ".join(f"{u:.2f}" for u in self.tier_units)
                out.append(("tier multiples", f"no single charge a year old yet: {ml} of {mr + ml} months of 2 seats "
                                              f"or more lapsed after their first month, and {tl} of {tr + tl} charges "
                                              f"at k x a tier price ({units}), where such months would give about "
                                              f"{(tr + 1) * (ml + 1) / mr:.1f} (years when more than twice that): "
                                              f"tier multiples whose renewal was due are {verdict}"))
        for p in self.lapse_years:
            out.append(("a year once lapsed", f"{p.amount:.2f}, {p.source} ({p.basis})"))
        if self.seat_prior and self.mix_known and self.mode == "learned" and self.monthly_seat and self.unlisted:
            out.append(("tiers not learned yet", "a single charge that no price reads, as a month or as a year, by a "
                                                 "customer with a known seat count (or none, once its renewal was due: "
                                                 "then the commonest seat count that fits) is read as those seats for "
                                                 "a year "
                                                 f"when amount / seats is {MIN_ANNUAL_MONTHS:g} to "
                                                 f"{months_a_year(self):.4g} months of a monthly seat price, unless it "
                                                 f"is one of the {len(self.monthly_amounts)} amounts that start the "
                                                 f"monthly series of {MIN_CUSTOMERS}+ customers (a flat plan's month)"))
        return out


OFF = PriceBook(mode="off")


@dataclass(frozen=True)
class Verdict:
    """What the price book says of each charge: `code` (NONE, MONTHLY_SEATS, ANNUAL_SEATS, ANNUAL_POINT), the
    price matched (per seat, or the point) and the multiple (seats, or k seats bought for a year)."""

    code: np.ndarray
    price: np.ndarray
    multiple: np.ndarray
    other_price: np.ndarray  # for ANNUAL_LIKELY / MONTHLY_LIKELY / ANNUAL_UNLISTED: the reading it beat (NaN: none)
    other_multiple: np.ndarray

    @property
    def annual(self) -> np.ndarray:
        return np.isin(self.code, ANNUAL_CODES)

    @property
    def monthly(self) -> np.ndarray:
        return np.isin(self.code, MONTHLY_CODES)

    def resumed(self, amount: np.ndarray, months: np.ndarray) -> Verdict:
        """This verdict with every annual reading of a charge whose plan starts again on one of its monthly slots
        `months` > 0 months later, at its amount (kpi.billing.terms.resumed_on_a_slot), made MONTHLY_RESUMED: price =
        the amount, multiple = those months, other_price / other_multiple = the annual reading it replaces."""
        hit = (months > 0) & self.annual
        if not hit.any():
            return self
        code, price, multiple = self.code.copy(), self.price.copy(), self.multiple.copy()
        other_price, other_multiple = self.other_price.copy(), self.other_multiple.copy()
        other_price[hit], other_multiple[hit] = price[hit], multiple[hit]
        code[hit], price[hit], multiple[hit] = MONTHLY_RESUMED, amount[hit], months[hit]
        return Verdict(code=code, price=price, multiple=multiple, other_price=other_price, other_multiple=other_multiple)


def _close(a: np.ndarray, b: np.ndarray, tolerance: float = AMOUNT_TOLERANCE) -> np.ndarray:
    return np.abs(a - b) <= np.maximum(0.01, tolerance * np.abs(b))


def _times(values: np.ndarray, price: float, least: int = 1) -> np.ndarray:
    """Is each value k x `price` for a whole k >= `least`, within `_close`'s tolerance (a price the book learned, not
    to the cent as `whole_multiple`)?"""
    k = np.rint(values / price)
    return (k >= least) & _close(values, k * price)


DISTINCT_FROM = 4096  # read_amounts reads each distinct (amount, seats, pending) once from this many charges on


def read_amounts(book: PriceBook, amount: np.ndarray, seats: np.ndarray, pending: np.ndarray | None = None,
                 alone: np.ndarray | None = None, beside: np.ndarray | None = None) -> Verdict:
    """The price book's verdict on each amount, given its customer's seats (NaN: unknown) and whether it is pending
    (its first renewal not yet due: then it may be the first month of a series); see the module docstring. `alone`:
    the charges outside every running monthly plan of their customer, the only ones a pending reading may price at a
    tier the book has not learned (`_unlisted`); None: none. `beside`: the charges a monthly plan of their customer
    starts after, within a month (kpi.billing.terms.before_a_monthly_plan): weighed, they are annual wherever an
    annual price reads them (the customer's monthly plan is that series); None: none.

    A verdict depends on nothing but those values, so a long log (a million charges, a few tens of thousands of
    distinct ones) is weighed once per distinct (amount, seats, pending, alone, beside) and spread back to every
    charge."""
    flags = [f for f in (pending, alone, beside) if f is not None]
    if len(amount) >= DISTINCT_FROM and book.seat_prior:  # the weighing is what costs: cheaper books read directly
        key = pd.factorize(np.asarray(amount, dtype="float64").view(np.int64))[0].astype(np.int64)
        for part in (np.asarray(seats, dtype="float64").view(np.int64), *(np.asarray(f, dtype=np.int64) for f in flags)):
            codes, uniques = pd.factorize(part)
            key = key * len(uniques) + codes
        inverse = pd.factorize(key)[0]
        first = np.unique(inverse, return_index=True)[1]  # each distinct reading's first charge
        if len(first) < len(amount) // 2:
            v = _read_amounts(book, amount[first], seats[first], None if pending is None else pending[first],
                              None if alone is None else alone[first], None if beside is None else beside[first])
            return Verdict(code=v.code[inverse], price=v.price[inverse], multiple=v.multiple[inverse],
                           other_price=v.other_price[inverse], other_multiple=v.other_multiple[inverse])
    return _read_amounts(book, amount, seats, pending, alone, beside)


def _read_amounts(book: PriceBook, amount: np.ndarray, seats: np.ndarray, pending: np.ndarray | None,
                  alone: np.ndarray | None = None, beside: np.ndarray | None = None) -> Verdict:
    """`read_amounts`, charge by charge."""
    n = len(amount)
    code = np.full(n, NONE, dtype=np.int8)
    price = np.full(n, np.nan)
    multiple = np.zeros(n, dtype=np.int64)
    other_price = np.full(n, np.nan)
    other_multiple = np.zeros(n, dtype=np.int64)
    known = ~np.isnan(seats)
    whole = np.where(known, seats, 0).astype(np.int64)

    def mark(hit: np.ndarray, what: int, p: float | np.ndarray, k: np.ndarray) -> None:
        hit = hit & (code == NONE)
        code[hit], price[hit], multiple[hit] = what, np.broadcast_to(p, n)[hit], k[hit]

    for m in book.monthly_seat:
        mark(known & _close(amount, whole * m.amount), MONTHLY_SEATS, m.amount, whole)
    for a in book.annual_seat:
        mark(known & _close(amount, whole * a.amount), ANNUAL_SEATS, a.amount, whole)
    for pt in book.annual_points:
        mark(_close(amount, np.full(n, pt.amount)), ANNUAL_POINT, pt.amount, np.ones(n, dtype=np.int64))
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
            mark(beside & np.isfinite(a_score) & np.isfinite(m_score), ANNUAL_BESIDE, a_price, a_k)
            annual_wins |= beside & np.isfinite(a_score)
        mark(~annual_wins & np.isfinite(m_score), MONTHLY_LIKELY, m_price, m_k)
        decided = np.isin(code, (ANNUAL_LIKELY, MONTHLY_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE))
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
            hit = (k >= 1) & _close(amount, k * a.amount)
            mark(hit & (settled & book.tier_points if i else True), ANNUAL_POINT, a.amount, k)
            if i and beside is not None:
                mark(hit & beside, ANNUAL_BESIDE, a.amount, k)
        for pt in book.lapse_years:  # ... and, in a young log, amounts whose lapsed charges are years
            mark(settled & _close(amount, np.full(n, pt.amount)), ANNUAL_POINT, pt.amount, np.ones(n, dtype=np.int64))
        if book.tier_points:  # ... and their multiples, with the other years a young log taught, when tiers are years
            for u in book.tier_units:
                k = np.rint(amount / u).astype(np.int64)
                mark(settled & (k >= 2) & _close(amount, k * u), ANNUAL_POINT, u, k)
    return Verdict(code=code, price=price, multiple=multiple, other_price=other_price, other_multiple=other_multiple)


WEIGHED_TOLERANCE = 0.0002  # k seats x a price, k free: the amount within 0.02% (490.00 is no 43 x 11.40 = 490.20)
SEAT_DRIFT = 2.0  # P(k seats then | S seats today) falls as exp(-SEAT_DRIFT x |ln(k / S)|): half or twice is 1/4


def _likeliest(book: PriceBook, prices: list[Price], amount: np.ndarray, share: np.ndarray, seats: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each amount, the likeliest reading as k seats x one of `prices` (all annual or all monthly; `share`: the
    probability of that interval, per amount): its log score (log P(interval) + log P(this price among its kind) +
    log P(k seats) - SEAT_DRIFT x |ln(k / today's seats)| where known, but for once a flat plan's price paired among
    amounts (`_flat_amount`), which customers pay as such whatever their seats; -inf where no price divides the amount
    into whole seats), the price and k."""
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
        ok = (k >= 1) & (k <= MAX_SEATS) & _close(amount, k * p.amount, WEIGHED_TOLERANCE)
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


def months_a_year(book: PriceBook) -> float:
    """How many months of a monthly seat price the book's year costs (`year_ratio`), 12 when it cannot say: a
    discounted year costs at most that many months of its product's monthly price."""
    return year_ratio(book.monthly_seat, book.annual_seat) or 12.0


def configured_book(prices: PriceList) -> PriceBook:
    """The price book stated in the config."""
    def listed(values: tuple[float, ...]) -> tuple[Price, ...]:
        return tuple(Price(float(v)) for v in values)

    return PriceBook(mode="configured", monthly_seat=listed(prices.monthly_seat),
                     annual_seat=listed(prices.annual_seat), annual_points=listed(prices.annual_points))


@dataclass(frozen=True)
class PriceEvidence:
    """What a price book is learned from (`learn_price_book`), as plain arrays: the evidence of a set of customers.

    The evidence of several sets of customers is their concatenation (`PriceEvidence.concat`), and the book learned
    from it is the book learned from all their charges at once: every rule of the book counts distinct customers,
    takes medians or counts matches over these arrays, none depends on their order. A run partitioned by customer
    gathers the evidence of every partition, learns the book once and hands it to every partition (kpi.partition).
    Customers are named by id (`*_cust`), so that they stay distinct across partitions.
    """

    charges: int  # positive charges read (0: no book to learn)
    monthly_value: np.ndarray  # each monthly series' last renewal / its customer's seats (where known)
    monthly_cust: np.ndarray
    monthly_amount: np.ndarray
    annual_value: np.ndarray  # annual charges / seats, then prorations on annual terms / share of the term left
    annual_cust: np.ndarray
    annual_from_prorations: np.ndarray
    annual_amount: np.ndarray  # the charge behind each annual value (NaN for a proration)
    first_seats: np.ndarray  # each customer's seat count (NaN: unknown), for the seat prior
    single_amount: np.ndarray  # single charges whose first renewal was due (amount, seats), for the mix
    single_seats: np.ndarray
    series: int  # monthly series in the first reading
    aged_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))  # single charges a year old or more at as_of
    aged_renewed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # ... renewed a year later
    # single charges renewed a year later at the very same amount (an annual plan's price, flat or per seat), and
    # their customers: the annual price points a log with flat plans teaches (`_renewed_points`)
    kept_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kept_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    opening_value: np.ndarray = field(default_factory=lambda: np.zeros(0))  # every single charge / seats (NaN:
    opening_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # unknown), pending too: pairs
    opening_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))  # ... and its amount
    # for prices a young log teaches by what did not renew (`_lapsed`, `_lapsed_points`): each monthly series' anchor
    # charge, and each single charge whose first monthly renewal was due and did not come (its customer's last):
    # amounts, and per seat (NaN where seats are unknown)
    anchor_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    anchor_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    anchor_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    lapsed_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lapsed_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lapsed_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    # prorations on monthly series / the share of the series' period left (a log without seat counts learns its
    # monthly seat prices from these)
    prorated_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    prorated_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    @classmethod
    def concat(cls, parts: list[PriceEvidence]) -> PriceEvidence:
        """The evidence of all these sets of customers together (no customer is in two of them)."""
        def cat(name: str, dtype: object) -> np.ndarray:
            arrays = [getattr(p, name) for p in parts]
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)  # type: ignore[call-overload]

        return cls(charges=sum(p.charges for p in parts), series=sum(p.series for p in parts),
                   monthly_value=cat("monthly_value", float), monthly_cust=cat("monthly_cust", object),
                   monthly_amount=cat("monthly_amount", float), annual_value=cat("annual_value", float),
                   annual_cust=cat("annual_cust", object), annual_from_prorations=cat("annual_from_prorations", bool),
                   annual_amount=cat("annual_amount", float), first_seats=cat("first_seats", float),
                   single_amount=cat("single_amount", float), single_seats=cat("single_seats", float),
                   opening_value=cat("opening_value", float), opening_cust=cat("opening_cust", object),
                   opening_amount=cat("opening_amount", float),
                   aged_amount=cat("aged_amount", float), aged_renewed=cat("aged_renewed", bool),
                   kept_amount=cat("kept_amount", float), kept_cust=cat("kept_cust", object),
                   anchor_amount=cat("anchor_amount", float), anchor_value=cat("anchor_value", float),
                   anchor_cust=cat("anchor_cust", object),
                   lapsed_amount=cat("lapsed_amount", float), lapsed_value=cat("lapsed_value", float),
                   lapsed_cust=cat("lapsed_cust", object), prorated_value=cat("prorated_value", float),
                   prorated_cust=cat("prorated_cust", object))


def price_evidence(log: Log, series: Series, spans: Spans, proration_charges: np.ndarray, host: np.ndarray,
                   boundary: np.ndarray, period_start: np.ndarray, yearly: np.ndarray, renews: np.ndarray
                   ) -> PriceEvidence:
    """The evidence a price book is learned from, in a first reading of the log by the amount rules alone (no price
    book): its monthly series, its terms (annual ones are evidence) and its prorations (charge indices) with the span
    each was placed in; `yearly` and `renews` its annual renewals (kpi.billing.terms.yearly_renewals)."""
    has_seats = ~np.isnan(log.seats)

    # monthly: each series' last renewal / seats
    last = series.member_index[series.last]
    last = last[has_seats[last]]

    # annual: single charges >= annual_min_amount or renewed a year later / seats, and prorations on annual terms /
    # share of the term left
    big = spans.charge[(spans.series < 0) & spans.annual]
    big = big[((log.amount[big] >= log.annual_min) | (yearly[big] >= 0) | (renews[big] >= 0))
              & (log.mode[big] == AUTO) & has_seats[big]]
    # ... and prorations on monthly series / share of the series' period left (what a log without seat counts has)
    on_series = spans.series[host] >= 0
    mpc = proration_charges[on_series]
    with np.errstate(divide="ignore", invalid="ignore"):
        month_left = (boundary[on_series] - log.t[mpc]) / (boundary[on_series] - period_start[on_series])
    keep = month_left > MIN_MONTH_SHARE
    mpc, month_left = mpc[keep], month_left[keep]
    on_annual = spans.annual[host] & (spans.series[host] < 0)
    pc, host = proration_charges[on_annual], host[on_annual]
    share_left = (spans.end[host] - log.t[pc]) / (spans.end[host] - spans.start[host])
    ok = share_left > 0.02  # a few days before the term's end, the share rounds too coarsely to say a price
    pc, share_left = pc[ok], share_left[ok]

    first = np.r_[True, log.cust[1:] != log.cust[:-1]] if len(log) else np.zeros(0, dtype=bool)
    every_single = spans.charge[(spans.series < 0) & (log.mode[spans.charge] == AUTO)]
    singles = spans.charge[(spans.series < 0) & ~log.pending[spans.charge]]
    aged = singles[(log.mode[singles] == AUTO) & (add_months(log.t[singles], 12) + log.tol_ns <= log.as_of)]
    anchors = spans.charge[spans.series >= 0]
    last_of_customer = np.r_[log.cust[1:] != log.cust[:-1], True] if len(log) else np.zeros(0, dtype=bool)
    # ... the customer's last charge: seats added since would make today's count no longer the one it paid for
    lapsed = singles[(log.mode[singles] == AUTO) & last_of_customer[singles]]
    renewed = aged[yearly[aged] >= 0]
    kept = renewed[same_amount(log.amount[renewed], log.amount[yearly[renewed]])]
    return PriceEvidence(
        charges=len(log),
        monthly_value=log.amount[last] / log.seats[last],
        monthly_cust=log.ids[log.cust[last]],
        monthly_amount=log.amount[last],
        annual_value=np.r_[log.amount[big] / log.seats[big], log.amount[pc] / share_left],
        annual_cust=np.r_[log.ids[log.cust[big]], log.ids[log.cust[pc]]],
        annual_from_prorations=np.r_[np.zeros(len(big), dtype=bool), np.ones(len(pc), dtype=bool)],
        annual_amount=np.r_[log.amount[big], np.full(len(pc), np.nan)],
        first_seats=log.seats[first],
        single_amount=log.amount[singles],
        single_seats=log.seats[singles],
        series=len(series.spans.cust),
        opening_value=log.amount[every_single] / log.seats[every_single],
        opening_cust=log.ids[log.cust[every_single]],
        opening_amount=log.amount[every_single],
        aged_amount=log.amount[aged],
        aged_renewed=yearly[aged] >= 0,
        kept_amount=log.amount[kept],
        kept_cust=log.ids[log.cust[kept]],
        anchor_amount=log.amount[anchors],
        anchor_value=log.amount[anchors] / log.seats[anchors],
        anchor_cust=log.ids[log.cust[anchors]],
        lapsed_amount=log.amount[lapsed],
        lapsed_value=log.amount[lapsed] / log.seats[lapsed],
        lapsed_cust=log.ids[log.cust[lapsed]],
        prorated_value=log.amount[mpc] / month_left,
        prorated_cust=log.ids[log.cust[mpc]],
    )


def learn_price_book(log: Log, rules: BillingRules, series: Series, spans: Spans, proration_charges: np.ndarray,
                     host: np.ndarray, boundary: np.ndarray, period_start: np.ndarray, yearly: np.ndarray,
                     renews: np.ndarray) -> PriceBook:
    """The price book of `rules.price_book`: OFF, the configured prices, or prices learned from this log.

    The arguments are a first reading of the log by the amount rules alone (`price_evidence`).
    """
    if rules.price_book == "off":
        return OFF
    return book_from_evidence(price_evidence(log, series, spans, proration_charges, host, boundary, period_start,
                                             yearly, renews), rules)


def book_from_evidence(evidence: PriceEvidence, rules: BillingRules) -> PriceBook:
    """The price book of `rules.price_book` learned from `evidence` (of one log, or of every partition of one)."""
    if rules.price_book == "off":
        return OFF
    if evidence.charges == 0:
        return PriceBook("learned")
    ev = evidence
    # customers as whole numbers (ids are distinct across partitions; only their count matters)
    codes = pd.factorize(np.r_[ev.monthly_cust, ev.annual_cust])[0].astype(np.int64)
    monthly_cust, cust = codes[:len(ev.monthly_cust)], codes[len(ev.monthly_cust):]
    monthly = _seat_tiers(_accepted(ev.monthly_value, monthly_cust, "last renewal of a monthly series / seats",
                                    amounts=ev.monthly_amount), ev.monthly_value, ev.monthly_amount, monthly_cust)
    values = ev.annual_value
    if isinstance(rules.price_book, PriceList):  # as given; the log only says how often each is used
        book = configured_book(rules.price_book)
        book = replace(book, monthly_seat=_used(book.monthly_seat, ev.monthly_value, monthly_cust),
                       annual_seat=_used(book.annual_seat, values, cust))
        return _with_mix(book, ev)
    annual = _accepted(values, cust, "", detail=ev.annual_from_prorations, amounts=ev.annual_amount)
    no_seats = len(ev.first_seats) > 0 and bool(np.isnan(ev.first_seats).all())
    monthly_considered = len(ev.monthly_value)
    if not monthly and no_seats:  # no seat counts: a seat added to a monthly plan costs its price x the share left
        monthly_considered = len(ev.prorated_value)
        monthly = _prorated_monthly(ev, annual)
    if not monthly:  # no monthly series yet (a log's first month): prices paired among single charges
        monthly, paired = _paired(ev.opening_value, ev.opening_cust)
        if np.isfinite(ev.first_seats).any() and not len(ev.aged_amount):
            # seat counts of today scatter the per-seat values: one seat's month and year still pair as amounts (a log
            # without seat counts pairs amounts in _amount_points); the better supported pairing stands (three
            # customers' 28.43 and 255.00 a seat, 9 x, are today's seats scattering 25 and 300, which eleven and five
            # customers pay)
            monthly, paired = _union((monthly, paired), _paired(ev.opening_amount, ev.opening_cust, by_amount=True,
                                                                below=rules.annual_min_amount))
        if monthly:
            annual = [a for a in annual if a.amount >= MIN_ANNUAL_MONTHS * monthly[0].amount]
            annual += [p for p in paired  # a price the annual charges taught already is not listed twice
                       if not any(abs(p.amount - a.amount) <= TOLERANCE * a.amount for a in annual)]
    if monthly:
        annual = [a for a in annual if a.amount >= MIN_ANNUAL_MONTHS * monthly[0].amount]
        if not annual:  # no annual evidence yet: an annual seat costs 10 or 12 months of a monthly one
            m = monthly[0]
            annual = [Price(round(r * m.amount, 2), 0, 0, f"assumed ({r:g} x the monthly seat price {m.amount:.2f}; "
                            "no annual evidence yet)", assumed=True) for r in SWITCH_RATIOS]
        else:
            annual += _derived(monthly, annual)
        annual += _lapsed(ev, monthly, annual)  # prices the book has no other way to know yet (exact seat matches)
    book = PriceBook(mode="learned", monthly_seat=tuple(monthly), annual_seat=tuple(annual),
                     considered={"monthly seat price": monthly_considered, "annual seat price": len(values)})
    if no_seats:  # no seat counts at all: what amounts say
        book = _amount_points(ev, book, rules.annual_min_amount)
    plans = _monthly_amounts(ev)
    book = _lapsed_plan_points(ev, book, plans, rules.annual_min_amount)
    if no_seats:  # ... and what lapsed, beside the points those taught
        book = _lapse_years(ev, book, rules.annual_min_amount)
    book = _renewed_points(ev, book)
    book = replace(book, monthly_amounts=plans, unlisted=rules.unlisted_tiers == "year")
    return _with_mix(book, ev)


def _seat_tiers(prices: list[Price], values: np.ndarray, amounts: np.ndarray, cust: np.ndarray) -> list[Price]:
    """The monthly seat prices learned from series / seats, less the tiers (all but the list price) that are a flat
    plan's price divided by the one seat count its customers share: every charge behind the tier is the same amount,
    k seats x it for one k, and MIN_CUSTOMERS+ customers at other seat counts, whose charges no other price of the
    book reads per seat, pay that amount too (generated seat11: 19 customers with 4 seats on the flat 49 taught
    "12.25 a seat", while customers with 2, 3 and 8 seats paid 49 as well; 490, ten months of 49, then read as 40
    seats x 12.25 for a month, and was kept from being an annual point). The list price is not checked (docs/billing.md
    item 40, Known limits)."""
    seats = np.rint(amounts / values)
    out = prices[:1]
    for p in prices[1:]:
        near = np.abs(values - p.amount) <= TOLERANCE * p.amount
        if len(np.unique(seats[near])) == 1:
            plan = float(np.median(amounts[near]))
            others = _close(amounts, np.full(len(amounts), plan)) & (seats != seats[near][0])
            for q in prices:  # a charge another price reads per seat is that price's, not the plan's
                if q is not p:
                    others &= ~(np.abs(values - q.amount) <= TOLERANCE * q.amount)
            if len(np.unique(cust[others])) >= MIN_CUSTOMERS:
                continue
        out.append(p)
    return out


def _prorated_monthly(ev: PriceEvidence, annual: list[Price]) -> list[Price]:
    """Monthly seat prices of a log without seat counts, from prorations on monthly series / the share of the period
    left (`price_evidence`): a group of them is a seat's month only when a learned annual seat price is a whole number
    of months of it, MIN_ANNUAL_MONTHS to 12 (180 = 10 x 18, 126 = 10 x 12.60). A proration says nothing of how many
    seats it adds, nor whether it is a seat at all: a flat plan's upgrade (75 -> 150 mid-month) costs 75 x the share
    left, as a seat of 75 would; two seats at once cost 36 x it. Neither is the month of a learned year (180 / 75 =
    2.4, 180 / 36 = 5), so neither is listed, nor does it hide the seat price it is a multiple of. With no annual
    price learned yet (a young log), none is listed."""
    years = [a.amount for a in annual if not (a.assumed or a.derived or a.lapsed)]
    if not years:
        return []
    cust = pd.factorize(ev.prorated_cust)[0].astype(np.int64)
    values = ev.prorated_value
    ok = np.isfinite(values) & (values > 0)
    found = _groups(values[ok], cust[ok], "prorations on monthly series / share of the period left", None)

    def a_years_month(p: Price) -> bool:
        months = [y / p.amount for y in years]
        return any(MIN_ANNUAL_MONTHS <= round(m) <= 12 and abs(m - round(m)) <= TOLERANCE * m for m in months)

    out: list[Price] = []
    for price in (p for p in found if a_years_month(p)):  # whole multiples / fractions of a better one are seat counts
        if not any(_whole_ratio(price.amount, kept.amount) for kept in out):
            out.append(price)
    return out


def _paired(values: np.ndarray, cust: np.ndarray, *, by_amount: bool = False, below: float = np.inf,
            why: str = "no monthly series yet") -> tuple[list[Price], list[Price]]:
    """Monthly and annual seat prices from single charges alone (pending ones too): two per-seat prices among them,
    each paid by MIN_CUSTOMERS+ customers, one a whole number of times the other, MIN_ANNUAL_MONTHS to 12 (132 = 11 x
    12), are a month's and a year's price of one seat (a customer who pays ten times the price for the same seats
    buys ten months or more at once); amounts pair at SWITCH_RATIOS (10 or 12) only: 126 = 7 x 18 is as likely
    seven seats for a month.
    Each pair is a monthly and an annual price, best supported pair first; none when no two groups pair up. Per-seat
    values are paired best supported first (9 and 90 may be 18 and 180 divided by seats counted today); amounts
    smallest first (an amount is never a fraction of a seat: 36 and 360 are 2 x 18 and 2 x 180 even when more
    customers pay them)."""
    ok = np.isfinite(values) & (values > 0) & (values < below)
    groups = _groups(values[ok], cust[ok], "", None)
    monthly: list[Price] = []
    annual: list[Price] = []
    unit = "amounts" if by_amount else "single charges / seats"
    for low in sorted(groups, key=lambda g: g.amount) if by_amount else groups:
        for high in groups:
            ratio = high.amount / low.amount
            if by_amount and not any(abs(ratio - r) <= TOLERANCE * r for r in SWITCH_RATIOS):
                continue
            if not (MIN_ANNUAL_MONTHS <= round(ratio) <= 12 and abs(ratio - round(ratio)) <= TOLERANCE * ratio):
                continue
            if any(m.amount == low.amount or _whole_ratio(m.amount, low.amount) for m in monthly) or \
                    any(a.amount == high.amount for a in annual):
                continue  # a multiple of a paired price is seats counted today (36 and 360: 2 x 18 and 2 x 180)
            basis = (f"paired among {unit}: {low.amount:.2f} ({low.customers} customers) and "
                     f"{high.amount:.2f} ({high.customers} customers), {ratio:.4g} times it; {why}")
            flat = by_amount and _flat_amount(values[ok], cust[ok], low.amount)
            monthly.append(replace(low, basis=basis, by_amount=flat))
            annual.append(replace(high, basis=basis, by_amount=flat))
    order = sorted(range(len(monthly)), key=lambda i: -(monthly[i].customers + annual[i].customers))
    return [monthly[i] for i in order], [annual[i] for i in order]


def _flat_amount(amounts: np.ndarray, cust: np.ndarray, month: float) -> bool:
    """Is `month`, an amount paired with its year, a flat plan's price: fewer than MIN_CUSTOMERS customers pay 2 to 5
    times it (a seat's month is also paid for 2, 3, 4 seats: 36, 54, 72 beside 18; a flat 49 is paid as 49)?"""
    k = np.rint(amounts / month)
    several = (k >= 2) & (k <= 5) & (np.abs(amounts - k * month) <= TOLERANCE * amounts + 0.01)
    return len(np.unique(cust[several])) < MIN_CUSTOMERS


def _union(*pairings: tuple[list[Price], list[Price]]) -> tuple[list[Price], list[Price]]:
    """The pairs of several `_paired` results, best supported first as `_paired` ranks them (the customers of a pair's
    two prices together: the list price stays the one most customers pay), each price once: the first pair that has it
    keeps it."""
    pairs = sorted(((m, a) for monthly, annual in pairings for m, a in zip(monthly, annual, strict=True)),
                   key=lambda pair: -(pair[0].customers + pair[1].customers))
    monthly: list[Price] = []
    annual: list[Price] = []
    for m, a in pairs:
        if any(abs(m.amount - k.amount) <= TOLERANCE * k.amount for k in monthly) or \
                any(abs(a.amount - k.amount) <= TOLERANCE * k.amount for k in annual):
            continue
        monthly.append(m)
        annual.append(a)
    return monthly, annual


MAX_LAPSED_RENEWAL = 0.5  # a price renewed a month later at most this share of the monthly prices' rate
MIN_LAPSED_EVIDENCE = 10  # charges at the monthly prices (renewed or not) needed to say how often months renew


def _near_count(values: np.ndarray, value: float | tuple[float, ...]) -> int:
    """How many of `values` are within TOLERANCE of `value` (or of any of several, each value counted once)."""
    near = np.zeros(len(values), dtype=bool)
    for v in (value if isinstance(value, tuple) else (value,)):
        near |= np.abs(values - v) <= TOLERANCE * v + 0.01
    return int(near.sum())


def _never_renewed(anchors: np.ndarray, lapsed: np.ndarray, cust: np.ndarray, base: float | tuple[float, ...],
                   ok: np.ndarray) -> tuple[list[tuple[Price, int]], int, int]:
    """The groups of lapsed[ok] (values of single charges whose monthly renewal was due and never came: per seat, or
    amounts) paid by MIN_CUSTOMERS+ customers that renewed a month later at most MAX_LAPSED_RENEWAL times as often as
    `base` did (a price, or several pooled: the charges at any of them), counting each monthly series' anchor
    (`anchors`, same unit) as renewed and each lapsed charge as not; each with its anchors, then base's anchors and
    charges (none when base has fewer than MIN_LAPSED_EVIDENCE)."""
    renewed = _near_count(anchors, base)
    charges = renewed + _near_count(lapsed, base)
    if charges < MIN_LAPSED_EVIDENCE or renewed == 0:
        return [], renewed, charges
    out = []
    for g in _groups(lapsed[ok], cust[ok], "", None):
        anchored = _near_count(anchors, g.amount)
        if anchored / (anchored + g.charges) <= MAX_LAPSED_RENEWAL * renewed / charges:
            out.append((g, anchored))
    return out, renewed, charges


def _lapsed(ev: PriceEvidence, monthly: list[Price], annual: list[Price]) -> list[Price]:
    """Annual seat prices a log teaches before any of them renews a year later: a per-seat price paid by
    MIN_CUSTOMERS+ customers in single charges whose first monthly renewal was due and never came (each its customer's
    last charge, and not a whole multiple of an annual price the book has: seats added since, before as_of or after
    it, make 600 for 2 seats read 200 a seat by today's 3, 720 for 4 seats 120 by today's 6), at least
    MIN_ANNUAL_MONTHS and at most 12 times one of the book's monthly seat prices (319 a seat is 11 months of a 29
    tier, 26.6 of the list 12), that renewed a month later at most MAX_LAPSED_RENEWAL times as often as the monthly
    seat prices did, pooled (a young log has few months of each; MIN_LAPSED_EVIDENCE of them together), or as the
    price it is a year of did where that one alone has the evidence and renewed less; a year of a tier, not of the
    list price, at most half that again (a premium tier's one-month customers are no year). A month of seats renews as
    monthly plans do; 144 a seat, paid by three customers and renewed by none a month later while most 18s renewed,
    is a year's price (a discount tier of 180). A price the book has already, or a whole multiple of one (seats
    counted today), is not listed again. Only until a single charge is a year old, and only for exact seat matches
    (`Price.lapsed`: not weighed against a month of seats)."""
    if not len(ev.lapsed_value) or len(ev.aged_amount):
        return []  # a year on, renewals a year later say what is annual; seats counted today blur what lapsed long ago
    ok = np.zeros(len(ev.lapsed_value), dtype=bool)
    for m in monthly:  # a year of some monthly seat price: 319 a seat is 11 months of the 29 tier, not the list 12's
        ok |= (ev.lapsed_value >= MIN_ANNUAL_MONTHS * m.amount * (1 - TOLERANCE)) & \
            (ev.lapsed_value <= 12 * m.amount * (1 + TOLERANCE))
    ok &= np.isfinite(ev.lapsed_value)
    for a in annual:  # k x a price the book knows is that price for k seats, whatever today's count divides it into
        ok &= ~_times(ev.lapsed_amount, a.amount)
    anchors, lapsed = ev.anchor_value, ev.lapsed_value
    pooled = tuple(m.amount for m in monthly)
    renewed = _near_count(anchors, pooled)
    charges = renewed + _near_count(lapsed, pooled)
    if charges < MIN_LAPSED_EVIDENCE or renewed == 0:
        return []
    out: list[Price] = []
    for g in _groups(lapsed[ok], ev.lapsed_cust[ok], "", None):
        of = [m.amount for m in monthly if MIN_ANNUAL_MONTHS * (1 - TOLERANCE) <= g.amount / m.amount <=
              12 * (1 + TOLERANCE)]
        if not of or any(abs(g.amount - a.amount) <= TOLERANCE * a.amount or _whole_ratio(g.amount, a.amount)
                         for a in (*annual, *out)):
            continue
        # the months it is compared with: all the monthly seat prices pooled, or the price it is a year of where that
        # one alone renews less (a year of a plan its customers often leave after a month must lapse more still)
        base, label = renewed / charges, (f"the monthly seat price{'s' if len(monthly) > 1 else ''} " +
                                          ", ".join(f"{m:.2f}" for m in pooled[:3]) +
                                          (f" and {len(pooled) - 3} more" if len(pooled) > 3 else ""))
        base_renewed, base_charges = renewed, charges
        for price in of:
            r = _near_count(anchors, price)
            c = r + _near_count(lapsed, price)
            if c >= MIN_LAPSED_EVIDENCE and r / c < base:
                base, label, base_renewed, base_charges = r / c, f"{price:.2f}", r, c
        # a year of a tier, not of the list price: half that again (a premium tier's one-month customers are no year)
        share = MAX_LAPSED_RENEWAL if monthly[0].amount in of else MAX_LAPSED_RENEWAL / 2
        anchored = _near_count(anchors, g.amount)
        if anchored / (anchored + g.charges) > share * base:
            continue
        out.append(replace(g, lapsed=True, basis=f"single charges / seats whose monthly renewal never came: {anchored} "
                                                 f"of {anchored + g.charges} charges at {g.amount:.2f} a seat renewed a "
                                                 f"month later, {base_renewed} of {base_charges} at {label}; "
                                                 f"{g.amount / of[0]:.1f} months of {of[0]:.2f}"))
    return out


def _amount_points(ev: PriceEvidence, book: PriceBook, annual_min: float) -> PriceBook:
    """The book of a log with no seat counts, until a single charge is a year old: with no annual list price learned
    from prorations, the smallest amount among single charges that is 10 or 12 times another, each paid by 3+
    customers, stands as one (`_paired` by amount: 18 and 180), before any lapsed amount; then amounts that lapsed
    (`_lapsed_points`) are annual points, the best supported one the list price when there is still none."""
    if len(ev.aged_amount):
        return book
    if not any(not a.assumed and not a.derived for a in book.annual_seat):
        paired = _paired(ev.opening_amount, ev.opening_cust, by_amount=True, below=annual_min,
                         why="no seat counts, no proration teaches a year yet")[1][:1]
        book = replace(book, annual_seat=(*paired, *book.annual_seat))
    points = _lapsed_points(ev, book, annual_min)
    if points and not any(not a.assumed and not a.derived for a in book.annual_seat):
        # the best supported one is a seat's year, as a price learned from prorations would be
        return replace(book, annual_seat=(points[0], *book.annual_seat), annual_points=tuple(points[1:]))
    return replace(book, annual_points=tuple(points))


def _lapsed_points(ev: PriceEvidence, book: PriceBook, annual_min: float) -> list[Price]:
    """Without seat counts, `_lapsed` by amount (`_amount_points` calls it in a young log only): an amount that
    MIN_CUSTOMERS+ customers paid in single charges whose first monthly renewal was due and never came, a whole
    multiple, at least MIN_ANNUAL_MONTHS, of the log's most common monthly amount (the anchor of the most monthly
    series: one seat's month; 150, a flat plan's month of 8.33 x 18, is no seats' year), renewed a month later at most
    MAX_LAPSED_RENEWAL times as often as that amount did, is an annual price point: 180 paid once by five customers,
    none renewed, while 40 of 52 18s renewed. A whole multiple of a learned annual seat price is one already, and an
    amount of annual_min_amount or more is annual anyway: neither is listed."""
    if not len(ev.anchor_amount):
        return []
    amounts, counts = np.unique(np.round(ev.anchor_amount, 2), return_counts=True)
    base = float(amounts[np.argmax(counts)])
    k = np.rint(ev.lapsed_amount / base)
    ok = np.isfinite(ev.lapsed_amount) & (ev.lapsed_amount >= MIN_ANNUAL_MONTHS * base * (1 - TOLERANCE)) & \
        (ev.lapsed_amount < annual_min) & _close(ev.lapsed_amount, k * base)  # k months of the base: seats' years
    found, renewed, charges = _never_renewed(ev.anchor_amount, ev.lapsed_amount, ev.lapsed_cust, base, ok)
    learned = [a.amount for a in book.annual_seat if not a.assumed and not a.derived]
    return [replace(g, basis=f"single charges whose monthly renewal never came: {anchored} of {anchored + g.charges} "
                             f"charges of {g.amount:.2f} renewed a month later, {renewed} of {charges} of {base:.2f}, "
                             "the most common monthly amount")
            for g, anchored in found
            if not any(abs(g.amount - round(g.amount / a) * a) <= TOLERANCE * g.amount for a in learned)]


def _months_of_seats(values: np.ndarray, prices: list[float]) -> np.ndarray:
    """Is each value a month of 2 seats or more at one of `prices` (36 and 54 at 18)?"""
    out = np.zeros(len(values), dtype=bool)
    for m in prices:
        out |= _times(values, m, 2)
    return out


def _lapse_years(ev: PriceEvidence, book: PriceBook, annual_min: float) -> PriceBook:
    """Without seat counts, until a single charge is a year old: the amounts whose lapsed charges are years. An amount
    that is a month of 2 seats or more at a monthly seat price, at least MIN_ANNUAL_MONTHS months of the cheapest one
    (so that it can be a year of some seats) and below annual_min_amount, may be a year or a month of several seats
    (126: 7 seats x 18, or one seat's year at a 12.60 tier), and the log holds both. A month of several seats rarely
    lapses after its first month (on the shared log none of the 140 plans at 36 to 108 did); a year always does. So
    the months of 2 seats or more that cannot be a year (below MIN_ANNUAL_MONTHS months of the cheapest price: 36, 54,
    72, 90) say how often a month lapses, and at each amount A the lapses beyond what its renewed months would give are
    years: when the single charges at A whose renewal was due and never came (the customer's last; amounts within
    TOLERANCE grouped, MIN_CUSTOMERS+ customers and MIN_SHARE of those lapsed at such amounts) number at least twice
    what its monthly series' first charges at A would give, (renewed at A + 1) x (months lapsed + 1) / months renewed
    (one of each added so that none seen is no certainty), most of its lapsed charges are years, and a charge at A
    whose renewal was due is read as one (a pending one may still be a month of a monthly plan: 126 starts seven-seat
    monthly plans too). A flat plan's price (149, 250: no month of seats) is no such amount: its one-month customers
    are churn. Needs MIN_LAPSED_EVIDENCE such months; a learned book only. Whole multiples of the annual list price and
    the annual price points are read as years already: not listed."""
    if len(ev.aged_amount) or not len(ev.lapsed_amount) or not len(ev.anchor_amount):
        return book
    prices = [m.amount for m in book.monthly_seat]
    if not prices:  # none learned yet: the most common monthly amount, one seat's month
        amounts, counts = np.unique(np.round(ev.anchor_amount, 2), return_counts=True)
        prices = [float(amounts[np.argmax(counts)])]
    least = MIN_ANNUAL_MONTHS * min(prices) * (1 - TOLERANCE)
    lapsed, anchors = ev.lapsed_amount, ev.anchor_amount
    seats_lapsed = _months_of_seats(lapsed, prices)
    mr = int((_months_of_seats(anchors, prices) & (anchors < least)).sum())
    ml = int((seats_lapsed & (lapsed < least)).sum())
    if mr + ml < MIN_LAPSED_EVIDENCE or mr == 0:
        return replace(book, seat_month_lapses=(mr, ml))
    ok = np.isfinite(lapsed) & seats_lapsed & (lapsed >= least) & (lapsed < annual_min)
    for a in [a for a in book.annual_seat if not a.assumed and not a.derived][:1]:
        ok &= ~_times(lapsed, a.amount)
    for pt in book.annual_points:
        ok &= ~_close(lapsed, np.full(len(lapsed), pt.amount))
    years = []
    for g in _groups(lapsed[ok], ev.lapsed_cust[ok], "", None):
        anchored = _near_count(anchors, g.amount)
        expected = (anchored + 1) * (ml + 1) / mr
        if g.charges >= 2 * expected:
            years.append(replace(g, basis=f"single charges whose monthly renewal never came: {g.charges} lapsed after "
                                          f"their first month and {anchored} renewed, where months of several seats "
                                          f"would give about {expected:.1f} lapsed ({ml} of {mr + ml} months of 2 "
                                          "seats or more lapsed); a year once its renewal was due"))
    return replace(book, lapse_years=tuple(years), seat_month_lapses=(mr, ml))


def _lapsed_plan_points(ev: PriceEvidence, book: PriceBook, plans: tuple[float, ...], annual_min: float) -> PriceBook:
    """The book with the flat plans' years a young log teaches by what did not renew, seat counts or not: an amount
    below annual_min_amount that MIN_CUSTOMERS+ customers paid in single charges whose first monthly renewal was due
    and never came, that is a whole number of months, MIN_ANNUAL_MONTHS to 12, to the cent, of a flat plan's monthly
    price (`_flat_plans`), and that renewed a month later at most MAX_LAPSED_RENEWAL times as often as the monthly
    plans' prices together did (`_never_renewed`), is an annual price point: 490 paid once by eight customers,
    renewed by none a month later, is ten months of 49, a plan customers renew every month. Seat amounts are left to
    the seat prices (`_lapsed`: exact seat matches): as points, 126 = ten months of a 12.60 seat tier would read
    every pending 126 as a year, monthly plans of 7 seats x 18 too. A point is still a month where it is exactly the
    customer's seats x a monthly seat price (`_read_amounts`). Only until a single charge is a year old: then
    renewals a year later say which amounts are years (`_renewed_points`). An amount that is a whole multiple of an
    annual seat price the book has learned is left to it, and a point the book has is not listed twice."""
    if len(ev.aged_amount) or not plans or not len(ev.lapsed_amount) or not len(ev.anchor_amount):
        return book
    flat = _flat_plans(ev, book, plans)
    amount = np.round(ev.lapsed_amount, 2)  # to the cent: a year is whole months of a plan's price

    def months_of(plan: float) -> np.ndarray:
        k = np.rint(amount / plan)
        return whole_multiple(amount, plan) & (k >= MIN_ANNUAL_MONTHS) & (k <= 12)

    ok = np.isfinite(amount) & (amount < annual_min)
    year = np.zeros(len(amount), dtype=bool)
    for f in flat:
        year |= months_of(f)
    ok &= year
    for a in book.annual_seat:
        if not (a.assumed or a.derived or a.lapsed):
            ok &= ~whole_multiple(amount, a.amount)
    for pt in book.annual_points:
        ok &= ~_close(amount, np.full(len(amount), pt.amount))
    if not ok.any():
        return book
    found, renewed, charges = _never_renewed(ev.anchor_amount, amount, ev.lapsed_cust, plans, ok)
    points = []
    for g, anchored in found:
        at = np.array([g.amount])
        of = next((p for p in flat if whole_multiple(at, p)[0] and MIN_ANNUAL_MONTHS <= round(g.amount / p) <= 12),
                  None)
        if of is None:  # amounts within TOLERANCE grouped around one that no plan makes whole months of
            continue
        points.append(replace(g, basis=f"single charges whose monthly renewal never came: {anchored} of "
                                       f"{anchored + g.charges} charges of {g.amount:.2f} renewed a month later, "
                                       f"{renewed} of {charges} at the monthly plans' prices; "
                                       f"{round(g.amount / of)} months of {of:.2f}, a monthly plan's price"))
    return replace(book, annual_points=(*book.annual_points, *points)) if points else book


def _flat_plans(ev: PriceEvidence, book: PriceBook, plans: tuple[float, ...]) -> list[float]:
    """The amounts among `plans` (monthly plans' prices) that are no whole number of seats at a seat price: with seat
    counts, at a monthly seat price of the book that customers at two seat counts or more pay as such (18 as 18 and
    36, by one- and two-seat customers): a price only one seat count shows may be a flat plan's own customers
    divided by their seats (49 by four one-seat customers is 49 a seat, or a flat plan); without seat counts, at one
    the book learned from seats added to monthly plans, or at the most common monthly amount when it learned none
    (a seat's month; its years are `_lapsed_points`')."""
    known = np.isfinite(ev.anchor_value) & (ev.anchor_value > 0)
    if known.any():
        seats = np.rint(ev.anchor_amount[known] / ev.anchor_value[known])
        value = ev.anchor_value[known]
        prices = [m.amount for m in book.monthly_seat
                  if len(np.unique(seats[_close(value, np.full(len(value), m.amount))])) >= 2]
    else:
        prices = [m.amount for m in book.monthly_seat]
        if not prices:
            amounts, counts = np.unique(np.round(ev.anchor_amount, 2), return_counts=True)
            prices = [float(amounts[np.argmax(counts)])]
    return [p for p in plans if not whole_multiple(np.full(len(prices), p), np.asarray(prices, dtype="float64")).any()]


def _renewed_points(ev: PriceEvidence, book: PriceBook) -> PriceBook:
    """The book with the annual price points its renewals teach: an amount that MIN_CUSTOMERS+ customers paid in
    single charges renewed 12 calendar months later at the very same amount (a plan renewing at its price) is an
    annual price, flat or not: 490, a flat plan's year at ten months of 49, read by no seat price (43 x 11.40 is
    490.20), would otherwise be a month and then churn; 1490, one of annual_min_amount or more, is annual anyway, but
    known as a whole price bought beside a plan, not seats added to it (kpi.billing.terms._big_annual_proration).
    A whole multiple, to the cent, of an annual seat price the book has learned is read annual by seats already, and
    one of a monthly seat price is also a month of seats (144 = 8 x 18, a year of one seat at 144 or a month of eight:
    the seat counts weigh it, or, without them, the tier renewals of `_with_tier_points`): neither is listed; nor is a
    point the book has."""
    if not len(ev.kept_amount):
        return book
    ok = np.isfinite(ev.kept_amount) & (ev.kept_amount > 0)
    for a in (*(a for a in book.annual_seat if not a.assumed), *book.monthly_seat):
        ok &= ~whole_multiple(ev.kept_amount, a.amount)
    for pt in book.annual_points:
        ok &= ~_close(ev.kept_amount, np.full(len(ev.kept_amount), pt.amount))
    found = _groups(ev.kept_amount[ok], ev.kept_cust[ok], "", None)
    points = [replace(g, basis=f"{g.charges} single charge{'s' if g.charges != 1 else ''} of {g.customers} customers "
                               "renewed a year later at the same amount, no whole number of seats at a seat price")
              for g in found]
    return replace(book, annual_points=(*book.annual_points, *points)) if points else book


def _monthly_amounts(ev: PriceEvidence) -> tuple[float, ...]:
    """The amounts, to the cent, that anchor the monthly series of MIN_CUSTOMERS+ distinct customers, ascending: a
    month's price of some plan (seats x a price, or a flat plan's month). One or two series at an amount may be a
    coincidence of seats and tiers: 584.10 is 11 seats x 53.10 a month, and one seat's year at 11 months of it."""
    ok = np.isfinite(ev.anchor_amount)
    if not ok.any():
        return ()
    amount_code, amounts = pd.factorize(np.rint(ev.anchor_amount[ok] * 100).astype(np.int64))
    cust = pd.factorize(ev.anchor_cust[ok])[0].astype(np.int64)
    width = int(cust.max()) + 1
    pairs = np.unique(amount_code.astype(np.int64) * width + cust)  # each (amount, customer) once
    customers = np.bincount(pairs // width, minlength=len(amounts))
    return tuple((np.sort(np.asarray(amounts)[customers >= MIN_CUSTOMERS]) / 100).tolist())


def _used(prices: tuple[Price, ...], values: np.ndarray, cust: np.ndarray) -> tuple[Price, ...]:
    """Configured prices with the customers whose evidence (values of the same kind) matches each: how often each is
    used, to weigh one against another (at least 1 each)."""
    return tuple(replace(p, customers=max(1, len(np.unique(cust[np.abs(values - p.amount) <= TOLERANCE * p.amount]))))
                 for p in prices)


def year_ratio(monthly: tuple[Price, ...], annual: tuple[Price, ...]) -> float:
    """How many months of a monthly seat price the book's year costs: annual / monthly for the best supported pair of
    a monthly and an annual price (the fewer customers of the two) whose ratio is a plausible year (MIN_ANNUAL_MONTHS
    to 12 months); 0.0 when none is. With two products (25 and 45 a month, 300 and 540 a year) the best supported
    monthly and annual prices need not be one product's: 540 / 25 is no year."""
    best, ratio = 0, 0.0
    for m in monthly:
        for a in annual:
            if a.lapsed:  # a tier learned from what did not renew says nothing of how many months a year costs
                continue
            r = a.amount / m.amount
            support = min(max(m.customers, 1), max(a.customers, 1))
            if MIN_ANNUAL_MONTHS <= r <= 12 * (1 + TOLERANCE) and support > best:
                best, ratio = support, r
    return ratio


def _derived(monthly: list[Price], annual: list[Price]) -> list[Price]:
    """Annual prices for the monthly tiers that have none yet: the book's months a year (`year_ratio`) times the tier
    (a discount or a product costs as many months a year at every tier), supported like the list annual price in
    proportion; none when no annual price is a year of a monthly one."""
    ratio = year_ratio(tuple(monthly), tuple(annual))
    if not ratio:
        return []
    out = []
    for m in monthly:
        amount = round(ratio * m.amount, 2)
        if any(abs(a.amount - amount) <= TOLERANCE * amount for a in annual):
            continue
        customers = max(1, round(m.customers * annual[0].customers / monthly[0].customers))
        out.append(Price(amount, 0, customers, f"derived ({ratio:.4g} x the monthly seat price {m.amount:.2f}, as "
                                               "between the list prices; no annual evidence at this price yet)",
                         derived=True))
    return out


MIN_SEAT_COUNTS = 20  # customers with a known seat count needed to weigh seat counts
MIN_MIX_EVIDENCE = 10  # single charges matching seats x a price exactly, and monthly series, needed to weigh the mix


def _with_mix(book: PriceBook, evidence: PriceEvidence) -> PriceBook:
    """The book with the log's mix of plans, from a first reading (its series and terms):

    - annual_share_single: among single charges whose first renewal was due and did not come, the share that are
      annual by an exact seat match (seats x an annual seat price) among those matching exactly either way;
    - annual_share_new: the share of annual plans among new plans (those singles and the monthly series);
    - seat_prior: P(k seats), k = 1 .. the most seen, from the customers' seat counts, smoothed so that an unseen
      count stays possible.
    All three stay unset (no weighing: exact seat matches and list-price multiples only) with fewer than
    MIN_SEAT_COUNTS known seat counts, or fewer than MIN_MIX_EVIDENCE exact single matches or monthly series
    (a young log); configured prices are weighed from the first day, the two intervals even until then.
    """
    seats = evidence.first_seats
    seats = np.rint(seats[~np.isnan(seats)]).astype(np.int64)
    seats = seats[(seats >= 1) & (seats <= MAX_SEATS)]
    if len(seats) < MIN_SEAT_COUNTS or not (book.annual_seat or book.monthly_seat):
        return _with_tier_points(book, evidence)
    counts = np.bincount(seats)[1:].astype("float64")
    prior = tuple(((counts + 0.5) / (counts.sum() + 0.5 * len(counts))).tolist())
    exact = read_amounts(book, evidence.single_amount, evidence.single_seats).code
    annual, monthly = int((exact == ANNUAL_SEATS).sum()), int((exact == MONTHLY_SEATS).sum())
    if annual + monthly < MIN_MIX_EVIDENCE or evidence.series < MIN_MIX_EVIDENCE:
        if not book.monthly_seat and book.mode != "configured":
            return _with_tier_points(book, evidence)  # no monthly price to weigh an annual one against
        # too young a log to say what its plans are: weigh by the prices and the seat counts alone, interval even
        return replace(book, annual_share_single=0.5, annual_share_new=0.5, seat_prior=prior, mix_known=False)
    single_share = (annual + 1) / (annual + monthly + 2)
    plans = len(evidence.single_amount) + evidence.series
    new_share = single_share * len(evidence.single_amount) / plans if plans else single_share
    return replace(book, annual_share_single=single_share, annual_share_new=new_share, seat_prior=prior)


MIN_AGED = 10  # year-old single charges at the list price and at tiers needed to compare their renewals
TIER_RENEWAL_RATIO = 0.5  # tier multiples are annual when they renew at least half as often as list multiples


def _with_tier_points(book: PriceBook, evidence: PriceEvidence) -> PriceBook:
    """With no seat counts to weigh, a whole multiple of a learned tier price (126, 144, 162 beside the list 180) may
    be k seats for a year at that tier or a month of k' seats (126 = 7 x 18). The log says which is likelier: an annual
    plan renews a year later unless it churns, a month of seats never does. Among single charges a year old or more
    at as_of, compare the share renewed a year later at k x a tier price with the share at k x the list price (whose
    multiples are annual points already): at least TIER_RENEWAL_RATIO of it, and tier multiples are annual points
    too. Needs MIN_AGED such charges of each kind. A log younger than a year compares what did not renew a month
    later instead (`_with_young_tier_points`)."""
    learned = [a for a in book.annual_seat if not a.assumed and not a.derived]
    if not len(evidence.aged_amount):
        return _with_young_tier_points(book, evidence, learned)
    if len(learned) < 2:
        return book
    amount, renewed = evidence.aged_amount, evidence.aged_renewed
    at_list = _times(amount, learned[0].amount)
    at_tier = np.zeros(len(amount), dtype=bool)
    for p in learned[1:]:
        at_tier |= _times(amount, p.amount)
    at_tier &= ~at_list
    la, ta = int(at_list.sum()), int(at_tier.sum())
    lr, tr = int((renewed & at_list).sum()), int((renewed & at_tier).sum())
    if la < MIN_AGED or ta < MIN_AGED or lr == 0:
        return book
    return replace(book, tier_points=(tr / ta) >= TIER_RENEWAL_RATIO * (lr / la), tier_renewals=(lr, la, tr, ta))


def _accepted(values: np.ndarray, cust: np.ndarray, basis: str, detail: np.ndarray | None = None,
              amounts: np.ndarray | None = None) -> list[Price]:
    """Groups of values within TOLERANCE of each other supported by MIN_CUSTOMERS customers and MIN_SHARE of all
    the customers giving evidence, most supported first (the first is the list price). `detail` marks values that
    came from prorations (the basis then says how many of each kind). `amounts`: the charge behind each value
    (amount / seats; NaN for a proration): a charge that is a whole multiple of the list price is no evidence of
    another price (72 by a customer with 5 seats today is 4 seats x 18 as much as 5 x 14.40)."""
    ok = np.isfinite(values) & (values > 0)
    found = _groups(values[ok], cust[ok], basis, None if detail is None else detail[ok])
    if not found:
        return []
    listed = found[0]
    if amounts is not None:
        k = np.rint(amounts[ok] / listed.amount)
        drifted = (k >= 1) & (np.abs(amounts[ok] - k * listed.amount) <= np.maximum(0.01, AMOUNT_TOLERANCE * amounts[ok]))
        drifted &= ~(np.abs(values[ok] - listed.amount) <= TOLERANCE * listed.amount)
        found = [listed] + [p for p in _groups(values[ok][~drifted], cust[ok][~drifted], basis,
                                                None if detail is None else detail[ok][~drifted])
                            if abs(p.amount - listed.amount) > TOLERANCE * listed.amount]
    out: list[Price] = []
    for price in found:  # a whole multiple or fraction of a better supported price is seats counted today, not a price
        if not any(_whole_ratio(price.amount, kept.amount) for kept in out):
            out.append(price)
    return out


def _groups(v: np.ndarray, c: np.ndarray, basis: str, d: np.ndarray | None) -> list[Price]:
    """The groups of `_accepted`, most supported first (each group's distinct customers counted at once, with the
    customers as integer codes: a log of millions of charges has thousands of distinct per-seat values)."""
    if not len(v):
        return []
    order = np.argsort(v, kind="stable")
    v = v[order]
    code = pd.factorize(c)[0].astype(np.int64)[order]
    group = np.cumsum(np.r_[False, v[1:] > v[:-1] * (1 + TOLERANCE) + 0.01])
    n_groups = int(group[-1]) + 1
    total = int(code.max()) + 1 if len(code) else 0
    customers = np.bincount(np.unique(group * total + code) // total, minlength=n_groups)
    start = np.searchsorted(group, np.arange(n_groups))
    size = np.bincount(group, minlength=n_groups)
    n_pro = np.bincount(group, weights=d[order].astype(np.float64), minlength=n_groups).astype(np.int64) \
        if d is not None else None
    found: list[tuple[int, Price]] = []
    for g in np.flatnonzero((customers >= MIN_CUSTOMERS) & (customers >= MIN_SHARE * total)).tolist():
        text = basis
        if n_pro is not None:
            pro, big = int(n_pro[g]), int(size[g] - n_pro[g])
            text = ", ".join(part for part in (
                f"{pro} proration{'s' if pro != 1 else ''} on annual terms / share of the term left" if pro else "",
                f"{big} annual charge{'s' if big != 1 else ''} (>= annual_min_amount or renewed a year later) / "
                "seats" if big else "") if part)
        found.append((int(customers[g]), Price(round(float(np.median(v[start[g]:start[g] + size[g]])), 2),
                                               int(size[g]), int(customers[g]), text)))
    found.sort(key=lambda x: (-x[0], x[1].amount))
    return [p for _, p in found]


def _whole_ratio(a: float, b: float) -> bool:
    """Is a / b or b / a a whole number of 2 or more (within TOLERANCE)?"""
    ratio = max(a, b) / min(a, b)
    return round(ratio) >= 2 and abs(ratio - round(ratio)) <= TOLERANCE * round(ratio)


def _with_young_tier_points(book: PriceBook, evidence: PriceEvidence, learned: list[Price]) -> PriceBook:
    """`_with_tier_points` before any single charge is a year old, from what did not renew a month later. A month of
    several seats rarely lapses after its first month (on the shared log none of the 140 plans at 36 to 108 did,
    while 33 of 185 at 18 did: the most common amount, one seat's month, is no measure of them), and a year always
    does. Count, among monthly series' anchors and lapsed single charges (the customer's last, renewal due and
    absent), those at months of 2 seats or more of a monthly seat price that no learned annual price reads (36, 54,
    72 beside 144 and 180), and those at k x a tier price that are not k x the list price. When the tier multiples
    lapsed at least twice as often as such months would give them, (tier renewed + 1) x (months lapsed + 1) / months
    renewed (one of each added so that none seen is no certainty), at least half of their lapsed charges are years,
    and tier multiples whose renewal was due are read as annual. Needs MIN_LAPSED_EVIDENCE such months and
    MIN_CUSTOMERS lapsed tier multiples; a learned book only (configured prices say nothing of how plans lapse). The
    tiers: those learned from the prorations or the annual charges (not `_lapsed`'s, taught by these very lapses),
    k = 1 up; and, with no seat counts at all, the years the log taught by what lapsed (`_lapse_years`, and the points
    of `_lapsed_points` that are months of seats), counted from k = 2 only (their own lapses taught them: 432 = 3 x
    144 counts, 144 does not), each a multiple of no smaller tier."""
    learned = [a for a in learned if not a.lapsed]
    seat_months = [m.amount for m in book.monthly_seat]
    if book.mode != "learned" or not seat_months or not learned:
        return book
    taught: list[float] = []
    if not np.isfinite(evidence.first_seats).any():
        taught = [p.amount for p in (*book.lapse_years, *book.annual_points)
                  if any(_times(np.array([p.amount]), m, 2)[0] for m in seat_months)]  # seats' years, not a flat plan's
    units: tuple[float, ...] = ()
    for u in sorted({*(p.amount for p in learned[1:]), *taught}):
        if not any(_times(np.array([u]), v)[0] for v in units):  # 288 = 2 x 144 is 144's multiple already
            units += (u,)
    if not units:
        return book
    anchors, lapsed = evidence.anchor_amount, evidence.lapsed_amount

    def months_of_seats(values: np.ndarray) -> np.ndarray:
        out = _months_of_seats(values, seat_months)
        for u in (learned[0].amount, *units):
            out &= ~_times(values, u)
        return out

    def at_tier(values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(values), dtype=bool)
        for u in units:
            out |= _times(values, u, 2 if u in taught else 1)
        return out & ~_times(values, learned[0].amount)

    mr, ml = int(months_of_seats(anchors).sum()), int(months_of_seats(lapsed).sum())
    tr, tl = int(at_tier(anchors).sum()), int(at_tier(lapsed).sum())
    if mr + ml < MIN_LAPSED_EVIDENCE or mr == 0 or tl < MIN_CUSTOMERS:
        return book
    return replace(book, tier_points=tl * mr >= 2 * (tr + 1) * (ml + 1), tier_lapses=(mr, ml, tr, tl),
                   tier_units=units)
