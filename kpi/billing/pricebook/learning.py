"""The price book learned from the log (kpi.billing.pricebook, step 4): `book_from_evidence` takes the steps in order.

- monthly seat price: the last renewal of each monthly series / its customer's seats (where known); a tier only one
  seat count pays, whose amount 3+ customers at other seat counts pay too, is a flat plan's price (`_seat_tiers`).
  Without seat counts, from seats added to monthly plans (`_prorated_monthly`); before any series renews, paired among
  single charges (kpi.billing.pricebook.pairs).
- annual seat price: (a) single charges >= annual_min_amount or renewed a year later / seats; (b) prorations on
  annual terms, read by the amount rules alone: a proration is the seat price x the seats added x the share of the term
  left, so amount / share left is the seat price times a whole number. On the shared log 38232 pays 720 for an annual
  term and 179.59 a day later: 180 x 364/365; (c) until a single charge is a year old, a per-seat price that 3+
  customers paid once, 6 to 12 months of a monthly seat price, whose monthly renewal came at most half as often as the
  monthly seat prices' did (kpi.billing.pricebook.lapses.lapsed_seat_prices; exact seat matches only: not weighed, not
  a list price by multiples, not a year ratio). Without seat counts, by amount (lapses.amount_points): unless
  prorations taught one, the smallest amount paired 10 or 12 times another among single charges stands as the annual
  list price (its whole multiples are annual points), else the best supported lapsed amount (a whole multiple of the
  commonest monthly amount); the other lapsed amounts are points.
- An annual seat price must be at least MIN_ANNUAL_MONTHS times the monthly list price (one learned from what lapsed:
  of the monthly price it is a year of): anything smaller is a monthly proration misread, not a year's price. A
  monthly tier with no annual evidence gets the book's months a year (`_derived`; derived: the ratio of the best
  supported monthly and annual prices that make a plausible year, kpi.billing.pricebook.book.year_ratio); with no
  annual evidence at all, 10 or 12 months of the monthly list price stand in (assumed), for seat matches and for the
  weighing.
- annual price points (flat plans): from renewals a year later (kpi.billing.pricebook.renewals.renewed_points) and,
  at any age of the log, from what did not renew a month later (lapses.lapsed_plan_points).
- the log's mix of plans, to weigh two readings of one amount (`with_mix`), and, without seat counts, whether tier
  multiples are years (renewals.with_tier_points, lapses.with_young_tier_points).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from kpi.billing.log import Log
from kpi.billing.pricebook.book import (
    ANNUAL_SEATS,
    MAX_SEATS,
    MIN_CUSTOMERS,
    MIN_MIX_EVIDENCE,
    MONTHLY_SEATS,
    OFF,
    SWITCH_RATIOS,
    TOLERANCE,
    PriceBook,
    close,
    configured_book,
    year_ratio,
)
from kpi.billing.pricebook.evidence import PriceEvidence, price_evidence
from kpi.billing.pricebook.groups import accepted, price_groups, whole_ratio
from kpi.billing.pricebook.lapses import (
    amount_points,
    lapse_years,
    lapsed_plan_points,
    lapsed_seat_prices,
    pooled_years,
)
from kpi.billing.pricebook.pairs import paired_prices, union_of_pairs
from kpi.billing.pricebook.reading import read_amounts
from kpi.billing.pricebook.renewals import renewed_points, with_tier_points
from kpi.billing.prices import MIN_ANNUAL_MONTHS, Price
from kpi.billing.series import Series, Spans
from kpi.params import BillingRules, PriceList

ONE_SEAT_COUNT = 0.8  # of a tier's customers at one seat count, the rest strays: a flat plan's price over it


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
    monthly = _seat_tiers(accepted(ev.monthly_value, monthly_cust, "last renewal of a monthly series / seats",
                                    amounts=ev.monthly_amount), ev.monthly_value, ev.monthly_amount, monthly_cust)
    if isinstance(rules.price_book, PriceList):  # as given; the log only says how often each is used
        book = configured_book(rules.price_book)
        book = replace(book, monthly_seat=_used(book.monthly_seat, ev.monthly_value, monthly_cust),
                       annual_seat=_used(book.annual_seat, ev.annual_value, cust))
        return with_mix(book, ev)
    plans = monthly_plan_amounts(ev)
    values, cust, from_prorations, annual_amount = _without_plans_bought_beside(ev, cust, plans)
    annual = accepted(values, cust, "", detail=from_prorations, amounts=annual_amount)
    no_seats = len(ev.first_seats) > 0 and bool(np.isnan(ev.first_seats).all())
    monthly_considered = len(ev.monthly_value)
    if not monthly and no_seats:  # no seat counts: a seat added to a monthly plan costs its price x the share left
        monthly_considered = len(ev.prorated_value)
        monthly = _prorated_monthly(ev, annual)
    if not monthly:  # no monthly series yet (a log's first month): prices paired among single charges
        monthly, paired = paired_prices(ev.opening_value, ev.opening_cust)
        if np.isfinite(ev.first_seats).any() and not len(ev.aged_amount):
            # seat counts of today scatter the per-seat values: one seat's month and year still pair as amounts (a log
            # without seat counts pairs amounts in amount_points); the better supported pairing stands (three
            # customers' 28.43 and 255.00 a seat, 9 x, are today's seats scattering 25 and 300, which eleven and five
            # customers pay)
            amount_pairs = paired_prices(ev.opening_amount, ev.opening_cust, by_amount=True,
                                         below=rules.annual_min_amount)
            monthly, paired = union_of_pairs((monthly, paired), amount_pairs)
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
        # prices the book has no other way to know yet (exact seat matches)
        annual += lapsed_seat_prices(ev, monthly, annual)
    book = PriceBook(mode="learned", monthly_seat=tuple(monthly), annual_seat=tuple(annual),
                     considered={"monthly seat price": monthly_considered, "annual seat price": len(ev.annual_value)})
    if no_seats:  # no seat counts at all: what amounts say
        book = amount_points(ev, book, rules.annual_min_amount)
    book = lapsed_plan_points(ev, book, plans, rules.annual_min_amount)
    if no_seats:  # ... and what lapsed, beside the points those taught
        book = lapse_years(ev, book, rules.annual_min_amount)
    book = renewed_points(ev, book)
    book = replace(book, monthly_amounts=plans, unlisted=rules.unlisted_tiers == "year")
    book = with_mix(book, ev)
    if no_seats:  # ... and, after the tiers' multiples, the amounts too rarely lapsed to judge alone, together
        book = pooled_years(ev, book, rules.annual_min_amount)
    return book


def monthly_plan_amounts(ev: PriceEvidence) -> tuple[float, ...]:
    """The amounts, to the cent, that anchor the monthly series of MIN_CUSTOMERS+ distinct customers, ascending: a
    month's price of some plan (seats x a price, or a flat plan's month). One or two series at an amount may be a
    coincidence of seats and tiers: 584.10 is 11 seats x 53.10 a month, and one seat's year at 11 months of it."""
    ok = np.isfinite(ev.anchor_amount)
    if not ok.any():
        return ()
    amount_code, amounts = pd.factorize(np.rint(ev.anchor_amount[ok] * 100).astype(np.int64))
    cust = pd.factorize(ev.anchor_cust[ok])[0].astype(np.int64)
    width = int(cust.max()) + 1
    pairs = pd.unique(amount_code.astype(np.int64) * width + cust)  # each (amount, customer) once: hashed, not sorted
    customers = np.bincount(pairs // width, minlength=len(amounts))
    return tuple((np.sort(np.asarray(amounts)[customers >= MIN_CUSTOMERS]) / 100).tolist())


def _seat_tiers(prices: list[Price], values: np.ndarray, amounts: np.ndarray, cust: np.ndarray) -> list[Price]:
    """The monthly seat prices learned from series / seats, less the tiers (all but the list price) that are a flat
    plan's price divided by the one seat count its customers share: every charge behind the tier is the same amount, k
    seats x it for one k, strays aside (`_one_seat_count`: generated seat11 seed 6, seats of then, nine 2-seat
    customers of the flat 49 taught "24.50 a seat", and 440.80, 16 seats x 27.55 by a customer with 18 seats then,
    read 24.49 a seat), and MIN_CUSTOMERS+ customers at other seat counts, whose charges no other price of the
    book reads per seat, pay that amount too (generated seat11: 19 customers with 4 seats on the flat 49 taught "12.25
    a seat", while customers with 2, 3 and 8 seats paid 49 as well; 490, ten months of 49, then read as 40 seats x
    12.25 for a month, and was kept from being an annual point). The list price is not checked (docs/billing.md items
    40 and 48, Known limits)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a series of 0 (a fuzzed log): no seat count, near no price
        seats = np.rint(amounts / values)
    out = prices[:1]
    for p in prices[1:]:
        near = np.abs(values - p.amount) <= TOLERANCE * p.amount
        k = _one_seat_count(seats[near], cust[near])
        if k is not None:
            near &= seats == k
            plan = float(np.median(amounts[near]))
            others = close(amounts, np.full(len(amounts), plan)) & (seats != k)
            for q in prices:  # a charge another price reads per seat is that price's, not the plan's
                if q is not p:
                    others &= ~(np.abs(values - q.amount) <= TOLERANCE * q.amount)
            if len(np.unique(cust[others])) >= MIN_CUSTOMERS:
                continue
        out.append(p)
    return out


def _one_seat_count(seats: np.ndarray, cust: np.ndarray) -> float | None:
    """The one seat count behind a tier's charges (`seats`, by customers `cust`), strays aside: other seat counts, each
    held by a single customer, that together hold at most 1 - ONE_SEAT_COUNT of its customers (nine 2-seat customers
    and one with 18), beside a seat count of 2 or more. None otherwise: a seat price several seat counts pay (14.40 by
    1, 1, 5, 7 and 13 seats; 24.50 by two 2-seat customers beside eight 4-seat ones at 12.25), or one seat and
    strays (14.40 by eight one-seat customers and a 5-seat one: with today's seat counts a customer who grew since
    pays a one-seat price at another count, as a flat plan's customer would)."""
    held = pd.DataFrame({"k": seats, "c": cust}).drop_duplicates().groupby("k")["c"].nunique()
    if not len(held):
        return None
    main = held.idxmax()
    others = held.drop(main)
    if main < 2 or (others > 1).any() or held[main] < ONE_SEAT_COUNT * held.sum():
        return None  # one seat: customers who grew since look like a plan's at any other count
    return float(main)


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
    found = price_groups(values[ok], cust[ok], "prorations on monthly series / share of the period left", None)

    def a_years_month(p: Price) -> bool:
        months = [y / p.amount for y in years]
        return any(MIN_ANNUAL_MONTHS <= round(m) <= 12 and abs(m - round(m)) <= TOLERANCE * m for m in months)

    out: list[Price] = []
    for price in (p for p in found if a_years_month(p)):  # whole multiples / fractions of a better one are seat counts
        if not any(whole_ratio(price.amount, kept.amount) for kept in out):
            out.append(price)
    return out


def _without_plans_bought_beside(ev: PriceEvidence, cust: np.ndarray, plans: tuple[float, ...]
                                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The annual evidence (values, customer codes, from prorations, amounts) without the prorations on annual terms
    that are likelier a monthly plan bought beside the year than a seat added to it: still pending (a pending charge
    may be a new plan's first month), made within the renewal tolerance of the term's start, at the very amount 3+
    customers' monthly series start at (`plans`: `monthly_plan_amounts`), and, as a year's price, no more than the log's most
    common monthly amount (the anchor of the most monthly series, as `lapses._lapsed_points` takes it: a year costs
    more than the month most plans renew at). Four one-seat monthly plans of 18 bought a minute after a year (1,260)
    made 18 / 0.99999 the annual seat price of a young log without seat counts, and every multiple of 18 a year (a
    month end 12% under the truth). A seat added to a year within minutes costs that seat's year to the cent, which
    may be a plan's month too (180 = 12 x 15, 144 = 8 x 18): above the commonest month, it still teaches the price;
    so do plan amounts later in a term (108.00 = 162 x 2/3 left). Before any series renews (a log's first month), no
    amount is known to start plans and nothing is dropped."""
    beside = np.isfinite(ev.annual_beside_amount) & ev.annual_from_prorations
    if not beside.any() or not len(ev.anchor_amount):
        return ev.annual_value, cust, ev.annual_from_prorations, ev.annual_amount
    commonest = ev.commonest_month()
    plan_cents = np.rint(np.asarray(plans) * 100).astype(np.int64)
    cents = np.rint(np.where(beside, ev.annual_beside_amount, 0.0) * 100).astype(np.int64)
    keep = ~(beside & np.isin(cents, plan_cents) & (ev.annual_value <= commonest * (1 + TOLERANCE)))
    return ev.annual_value[keep], cust[keep], ev.annual_from_prorations[keep], ev.annual_amount[keep]


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


def _used(prices: tuple[Price, ...], values: np.ndarray, cust: np.ndarray) -> tuple[Price, ...]:
    """Configured prices with the customers whose evidence (values of the same kind) matches each: how often each is
    used, to weigh one against another (at least 1 each)."""
    return tuple(replace(p, customers=max(1, len(np.unique(cust[np.abs(values - p.amount) <= TOLERANCE * p.amount]))))
                 for p in prices)


MIN_SEAT_COUNTS = 20  # customers with a known seat count needed to weigh seat counts


def with_mix(book: PriceBook, evidence: PriceEvidence) -> PriceBook:
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
        return with_tier_points(book, evidence)
    counts = np.bincount(seats)[1:].astype("float64")
    prior = tuple(((counts + 0.5) / (counts.sum() + 0.5 * len(counts))).tolist())
    exact = read_amounts(book, evidence.single_amount, evidence.single_seats).code
    annual, monthly = int((exact == ANNUAL_SEATS).sum()), int((exact == MONTHLY_SEATS).sum())
    if annual + monthly < MIN_MIX_EVIDENCE or evidence.series < MIN_MIX_EVIDENCE:
        if not book.monthly_seat and book.mode != "configured":
            return with_tier_points(book, evidence)  # no monthly price to weigh an annual one against
        # too young a log to say what its plans are: weigh by the prices and the seat counts alone, interval even
        return replace(book, annual_share_single=0.5, annual_share_new=0.5, seat_prior=prior, mix_known=False)
    single_share = (annual + 1) / (annual + monthly + 2)
    plans = len(evidence.single_amount) + evidence.series
    new_share = single_share * len(evidence.single_amount) / plans if plans else single_share
    return replace(book, annual_share_single=single_share, annual_share_new=new_share, seat_prior=prior)
