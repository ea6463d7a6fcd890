"""The price book itself (kpi.billing.pricebook, step 4): the prices a reading uses, its verdict codes, and the
tolerances every step of the book shares.

A `PriceBook` is learned (kpi.billing.pricebook.learning), configured (`configured_book`, from `[billing] price_book`)
or OFF (the amount rules alone). Each price (kpi.billing.prices.Price) says what it rests on; `PriceBook.rows` is what
the About tab shows. A `Verdict` is what the book says of each charge (kpi.billing.pricebook.reading): one of the
codes below, the price matched and the multiple (seats, or k seats bought for a year).

Values are one price when within TOLERANCE of each other; an amount equals seats x a price within AMOUNT_TOLERANCE
(0.1 %, at least one cent). An annual price is SWITCH_RATIOS (10 or 12) months of a monthly one unless the log says
otherwise (`year_ratio`: the book's own months a year).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kpi.billing.prices import MIN_ANNUAL_MONTHS, Price
from kpi.params import PriceList

TOLERANCE = 0.005  # prices learned: values this close are one price
AMOUNT_TOLERANCE = 0.001  # an amount equals seats x a price to the cent, or within 0.1 %
MIN_CUSTOMERS = 3
MIN_SHARE = 0.02
SWITCH_RATIOS = (10.0, 12.0)  # an annual price is ten months' price ("two months free") or twelve

NONE, MONTHLY_SEATS, ANNUAL_SEATS, ANNUAL_POINT, ANNUAL_LIKELY, MONTHLY_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE = (
    0, 1, 2, 3, 4, 5, 6, 7)
MONTHLY_RESUMED = 8  # not the book's: a month of the plan that starts again on its slot (Verdict.resumed)
ANNUAL_UNPRICED = 9
ANNUAL_WITH = 10  # ANNUAL_BESIDE for a dearer monthly plan bought with it (within the renewal tolerance)
NO_SEAT_COUNT = -1  # Verdict.other_multiple of an ANNUAL_UNPRICED reading whose customer has no seat count
ANNUAL_CODES = (ANNUAL_SEATS, ANNUAL_POINT, ANNUAL_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE, ANNUAL_UNPRICED,
                ANNUAL_WITH)
MONTHLY_CODES = (MONTHLY_SEATS, MONTHLY_LIKELY, MONTHLY_RESUMED)
MAX_SEATS = 10_000
MIN_MIX_EVIDENCE = 10  # single charges matching seats x a price exactly, and monthly series, needed to weigh the mix
MIN_AGED = 10  # year-old single charges at the list price and at tiers needed to compare their renewals


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
    # renewals.TIER_RENEWAL_RATIO times as often as those at the list price (until those are enough:
    # `lapses.with_young_tier_points`)
    tier_points: bool = False
    tier_renewals: tuple[int, ...] = ()  # (list renewed, list aged, tier renewed, tier aged), when compared
    # before renewals a year later can say: (months renewed, months lapsed, tier renewed, tier lapsed; tier multiples
    # lapsed only among charges not yet a year old)
    tier_lapses: tuple[int, ...] = ()
    tier_units: tuple[float, ...] = ()  # ... and the year prices whose multiples those are (the tiers)
    tier_aged: tuple[int, ...] = ()  # ... and the year-old charges too few to compare, as tier_renewals counts them
    # no seat counts, a young log: amounts whose lapsed charges are years (`lapses.lapse_years`), for charges whose
    # renewal was due only; and (months renewed, months lapsed) of the months of several seats they were compared with
    lapse_years: tuple[Price, ...] = ()
    # ... and the amounts too rarely lapsed to judge alone, judged together (`lapses.pooled_years`); not tiers
    pooled_years: tuple[Price, ...] = ()
    seat_month_lapses: tuple[int, ...] = ()

    def source_of(self, amount: float) -> str:
        """How the book knows the price `amount` (Price.source), "configured" if it is none of its prices."""
        for p in (*self.monthly_seat, *self.annual_seat, *self.annual_points, *self.lapse_years, *self.pooled_years):
            if p.amount == amount:
                return p.source
        return "configured"

    @property
    def least_year(self) -> float:
        """The least a year's price can be: MIN_ANNUAL_MONTHS months of the book's smallest monthly seat price (0.0:
        it has none). A charge below it is no year of any seat (a seat added minutes after a renewal, 16.19, that
        recurs a year later is a coincidence of a customer who adds seats every month, not an annual plan)."""
        return MIN_ANNUAL_MONTHS * min(p.amount for p in self.monthly_seat) if self.monthly_seat else 0.0

    def a_year_at_all(self, amount: np.ndarray) -> np.ndarray:
        """Per amount: is it at least `least_year` (to AMOUNT_TOLERANCE), a year's price at all?"""
        return np.asarray(amount) >= self.least_year * (1 - AMOUNT_TOLERANCE)

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
                short = (f" (fewer than {MIN_AGED}, but even if the rest of {MIN_AGED} renewed, under half the list "
                         "price's rate)") if ta < MIN_AGED else ""
                out.append(("tier multiples", f"single charges a year old or more: {lr} of {la} at k x the list price "
                                              f"renewed a year later, {tr} of {ta} at k x a tier price{short}: tier "
                                              f"multiples are {verdict}"))
            elif self.tier_lapses:
                mr, ml, tr, tl = self.tier_lapses
                units = ", ".join(f"{u:.2f}" for u in self.tier_units)
                if self.tier_aged:
                    lr, la, tr_, ta = self.tier_aged
                    before = (f"too few single charges a year old to compare their renewals ({lr} of {la} at k x the "
                              f"list price renewed a year later, {tr_} of {ta} at k x a tier price; {MIN_AGED} of "
                              "each needed), so what did not renew a month later (tier multiples not yet a year "
                              "old)")
                else:
                    before = "no single charge a year old yet"
                out.append(("tier multiples", f"{before}: {ml} of {mr + ml} months of 2 seats or more lapsed after "
                                              f"their first month, and {tl} of {tr + tl} charges "
                                              f"at k x a tier price ({units}), where such months would give about "
                                              f"{(tr + 1) * (ml + 1) / mr:.1f} (years when more than twice that): "
                                              f"tier multiples whose renewal was due are {verdict}"))
        for p in self.lapse_years:
            out.append(("a year once lapsed", f"{p.amount:.2f}, {p.source} ({p.basis})"))
        for p in self.pooled_years:
            out.append(("a year once lapsed, judged with others", f"{p.amount:.2f}, {p.source} ({p.basis})"))
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
        `months` > 0 months later, at its amount (kpi.billing.surroundings.resumed_on_a_slot), made MONTHLY_RESUMED: price =
        the amount, multiple = those months, other_price / other_multiple = the annual reading it replaces."""
        hit = (months > 0) & self.annual
        if not hit.any():
            return self
        code, price, multiple = self.code.copy(), self.price.copy(), self.multiple.copy()
        other_price, other_multiple = self.other_price.copy(), self.other_multiple.copy()
        other_price[hit], other_multiple[hit] = price[hit], multiple[hit]
        code[hit], price[hit], multiple[hit] = MONTHLY_RESUMED, amount[hit], months[hit]
        return Verdict(code=code, price=price, multiple=multiple, other_price=other_price, other_multiple=other_multiple)


def year_ratio(monthly: tuple[Price, ...], annual: tuple[Price, ...]) -> float:
    """How many months of a monthly seat price the book's year costs: annual / monthly for the best supported pair of
    a monthly and an annual price (the fewer customers of the two) whose ratio is a plausible year (MIN_ANNUAL_MONTHS
    to 12 months); among pairs with at least half the best one's support, a whole number of months first; 0.0 when
    none is. With two products (25 and 45 a month, 300 and 540 a year) the best supported monthly and annual prices
    need not be one product's: 540 / 25 is no year; nor need a discounted tier's year be its list price's (287.10 =
    11 months of 26.10, 9.9 of the list 29.00: the list year is 11 months, 319 = 11 x 29, as well supported). A
    rarely paid pair does not outvote the list prices by being whole (240 a year for the list 25, 9.6 months, is not
    8 months because three customers pay 30 a month). Prices the book assumed (10 or 12 months, SWITCH_RATIOS) or
    learned from what did not renew say nothing of it."""
    pairs = []
    for m in monthly:
        for a in annual:
            if a.lapsed or a.assumed:
                continue
            r = a.amount / m.amount
            if MIN_ANNUAL_MONTHS <= r <= 12 * (1 + TOLERANCE):
                pairs.append((min(max(m.customers, 1), max(a.customers, 1)), r))
    if not pairs:
        return 0.0
    most = max(support for support, _ in pairs)
    # the first pair of the best (whole, support), in the order the prices are listed
    best = max(((abs(r - round(r)) <= TOLERANCE * r and 2 * support >= most, support), -i)
               for i, (support, r) in enumerate(pairs))
    return pairs[-best[1]][1]


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


def close(a: np.ndarray, b: np.ndarray, tolerance: float = AMOUNT_TOLERANCE) -> np.ndarray:
    return np.abs(a - b) <= np.maximum(0.01, tolerance * np.abs(b))


def times(values: np.ndarray, price: float, least: int = 1) -> np.ndarray:
    """Is each value k x `price` for a whole k >= `least`, within `close`'s tolerance (a price the book learned, not
    to the cent as `whole_multiple`)?"""
    k = np.rint(values / price)
    return (k >= least) & close(values, k * price)
