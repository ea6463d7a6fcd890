"""Prices paired among single charges (kpi.billing.pricebook, step 4): a log's first month, and a young log without
seat counts.

Before any monthly series has renewed, two per-seat prices among the single charges, one a whole number of times the
other (6 to 12 months) and each paid by MIN_CUSTOMERS+ customers, are a month's and a year's seat price
(`paired_prices`); with today's seat counts scattering per-seat values, amounts 10 or 12 times another pair too, and
the pairs of both are listed, best supported first (`union_of_pairs`). Without seat counts, until a single charge is a
year old, the smallest amount paired 10 or 12 times another stands as the annual list price when no proration taught
one (kpi.billing.pricebook.lapses.amount_points).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from kpi.billing.pricebook.book import MIN_CUSTOMERS, SWITCH_RATIOS, TOLERANCE
from kpi.billing.pricebook.groups import price_groups, whole_ratio
from kpi.billing.prices import MIN_ANNUAL_MONTHS, Price


def paired_prices(values: np.ndarray, cust: np.ndarray, *, by_amount: bool = False, below: float = np.inf,
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
    groups = price_groups(values[ok], cust[ok], "", None)
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
            if any(m.amount == low.amount or whole_ratio(m.amount, low.amount) for m in monthly) or \
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


def union_of_pairs(*pairings: tuple[list[Price], list[Price]]) -> tuple[list[Price], list[Price]]:
    """The pairs of several `paired_prices` results, best supported first as `paired_prices` ranks them (the
    customers of a pair's two prices together: the list price stays the one most customers pay), each price once: the
    first pair that has it keeps it."""
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
