"""A list price and the arithmetic of prices that every step shares: is a charge k seats x a price for the share of a
period left (a proration)? are two amounts the same? how many months of a monthly price is an annual one at least?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Price:
    """One list price and the evidence it rests on (`charges` and `customers` count that evidence; 0 if configured)."""

    amount: float
    charges: int = 0
    customers: int = 0
    basis: str = "configured"
    assumed: bool = False  # not learned: 10 or 12 months of the monthly seat price, until annual evidence comes
    derived: bool = False  # not learned: a monthly tier times the list prices' annual / monthly ratio
    lapsed: bool = False  # learned from single charges that never renewed a month later: exact seat matches only
    by_amount: bool = False  # a flat plan's price paired among amounts (a log's first month): customers pay this very
    # amount, whatever their seat counts say

    @property
    def source(self) -> str:
        """How the price is known, in words: 'learned from 31 charges of 17 customers', 'configured' or 'assumed ...'."""
        if self.basis == "configured" or self.assumed or self.derived:
            return self.basis
        return (f"learned from {self.charges} charge{'s' if self.charges != 1 else ''} of {self.customers} "
                f"customer{'s' if self.customers != 1 else ''}")


MIN_ANNUAL_MONTHS = 6.0  # an annual price is at least this many months of the monthly one it is the year of


def same_amount(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Equal to the cent (a renewal charges the period's price again; a proration never repeats it)."""
    return np.abs(np.asarray(a, dtype="float64") - np.asarray(b, dtype="float64")) < 0.005


PRORATION_TOLERANCE = 0.01  # of one seat's price: a proration's implied price is a charge over a share of time
MAX_SEATS_ADDED = 100
MIN_MONTH_SHARE = 0.1  # a few days before a month's end, a proration's share rounds too coarsely to say a price


def seats_in(implied: np.ndarray, price: np.ndarray | float) -> np.ndarray:
    """k where implied = k x price (k >= 1) within PRORATION_TOLERANCE of one price (a proration's implied price, a
    charge over a share of time, is never exact); 0 elsewhere. `price` may differ row by row."""
    k = np.rint(implied / price).astype(np.int64)
    return np.where((k >= 1) & (np.abs(implied - k * price) <= PRORATION_TOLERANCE * price), k, 0)


def whole_multiple(amount: np.ndarray, price: np.ndarray | float) -> np.ndarray:
    """Is each amount a whole number (>= 1) of `price` to the cent (a price charged whole, not a share of it)?"""
    k = np.rint(amount / price)
    return (k >= 1) & same_amount(amount, k * price)


def upgrade_fit(prices: tuple[Price, ...], implied: np.ndarray, host: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """For a charge inside a plan that charges `host` a period (implied = its amount / the share of the period left):
    is it k seats moved from the plan's own seat price to a higher one of `prices` (implied = k x the difference,
    within PRORATION_TOLERANCE of one seat's difference), the plan being whole seats n of the lower price to the cent,
    and k no more than the seats it can hold: twice n (seats added since), or the customer's seat count `seats` where
    known? 1116.04 with 283 of 365 days left of a year of 900 = 3 x 300 is 6 seats moved from 300 to 540 a year (1440
    = 6 x 240): a price upgrade, what no seat price alone reads. (Without the bound on k, an 8-tier book fits about one
    big amount in ten as some upgrade of a 2400 year.)"""
    out = np.zeros(len(implied), dtype=bool)
    implied = np.where(np.isfinite(implied) & (implied > 0), implied, 0.0)
    known = np.where(np.isfinite(seats), seats, 0.0)
    amounts = sorted({p.amount for p in prices})
    for i, low in enumerate(amounts):
        own = whole_multiple(host, low)
        if not own.any():
            continue
        most = np.minimum(np.maximum(2.0 * np.rint(host / low), known), MAX_SEATS_ADDED)
        for high in amounts[i + 1:]:
            k = seats_in(implied, high - low)
            out |= own & (k >= 1) & (k <= most)
    return out


def proration_fit(prices: tuple[Price, ...], implied: np.ndarray) -> np.ndarray:
    """For a charge that adds seats to a plan (implied = its amount / the share of the plan's period left): the
    smallest whole number of seats k (1 .. MAX_SEATS_ADDED) for which implied = k x one of `prices`, within
    PRORATION_TOLERANCE of one seat's price (not of k seats': with several tiers, k x some tier is near most
    amounts); 0 where no price fits."""
    return proration_fit_price(prices, implied)[0]


def proration_fit_price(prices: tuple[Price, ...], implied: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`proration_fit`'s k and the price of `prices` it fits (the first listed at that k; NaN where none fits): what a
    Billing reason cites (180.00 of the book, not the 180.03 a charge over its share of a year implies)."""
    best = np.zeros(len(implied), dtype=np.int64)
    price = np.full(len(implied), np.nan)
    implied = np.where(np.isfinite(implied) & (implied > 0), implied, 0.0)
    for p in prices:
        k = seats_in(implied, p.amount)
        better = (k >= 1) & (k <= MAX_SEATS_ADDED) & ((best == 0) | (k < best))
        best, price = np.where(better, k, best), np.where(better, p.amount, price)
    return best, price
