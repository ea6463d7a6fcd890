"""Values into prices (kpi.billing.pricebook, step 4): the rule every price the book learns passes.

Values (per-seat amounts, amounts, prorations / the share of a period left) are grouped when within TOLERANCE of each
other; a group becomes a price when at least MIN_CUSTOMERS distinct customers and MIN_SHARE of its kind's customers
support it (seat counts in a customers file are today's, so one customer's evidence can be off; several customers
agreeing is the evidence), unless it is a whole multiple or fraction of a better supported price (9 = 18 / 2: a
customer with twice the seats today); a charge that is a whole multiple of the list price is no evidence of another
price. The best supported price of a kind is the list price; the others are tiers (discounts, products).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.billing.pricebook.book import AMOUNT_TOLERANCE, MIN_CUSTOMERS, MIN_SHARE, TOLERANCE
from kpi.billing.prices import Price


def accepted(values: np.ndarray, cust: np.ndarray, basis: str, detail: np.ndarray | None = None,
              amounts: np.ndarray | None = None) -> list[Price]:
    """Groups of values within TOLERANCE of each other supported by MIN_CUSTOMERS customers and MIN_SHARE of all
    the customers giving evidence, most supported first (the first is the list price). `detail` marks values that
    came from prorations (the basis then says how many of each kind). `amounts`: the charge behind each value
    (amount / seats; NaN for a proration): a charge that is a whole multiple of the list price is no evidence of
    another price (72 by a customer with 5 seats today is 4 seats x 18 as much as 5 x 14.40)."""
    ok = np.isfinite(values) & (values > 0)
    found = price_groups(values[ok], cust[ok], basis, None if detail is None else detail[ok])
    if not found:
        return []
    listed = found[0]
    if amounts is not None:
        k = np.rint(amounts[ok] / listed.amount)
        drifted = (k >= 1) & (np.abs(amounts[ok] - k * listed.amount) <= np.maximum(0.01, AMOUNT_TOLERANCE * amounts[ok]))
        drifted &= ~(np.abs(values[ok] - listed.amount) <= TOLERANCE * listed.amount)
        found = [listed] + [p for p in price_groups(values[ok][~drifted], cust[ok][~drifted], basis,
                                                None if detail is None else detail[ok][~drifted])
                            if abs(p.amount - listed.amount) > TOLERANCE * listed.amount]
    out: list[Price] = []
    for price in found:  # a whole multiple or fraction of a better supported price is seats counted today, not a price
        if not any(whole_ratio(price.amount, kept.amount) for kept in out):
            out.append(price)
    return out


def price_groups(v: np.ndarray, c: np.ndarray, basis: str, d: np.ndarray | None) -> list[Price]:
    """The groups of `accepted`, most supported first (each group's distinct customers counted at once, with the
    customers as integer codes: a log of millions of charges has thousands of distinct per-seat values)."""
    if not len(v):
        return []
    order = np.argsort(v, kind="stable")
    v = v[order]
    code = pd.factorize(c)[0].astype(np.int64)[order]
    group, customers, total = _chain(v, code)
    n_groups = len(customers)
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


def whole_ratio(a: float, b: float) -> bool:
    """Is a / b or b / a a whole number of 2 or more (within TOLERANCE)?"""
    ratio = max(a, b) / min(a, b)
    return round(ratio) >= 2 and abs(ratio - round(ratio)) <= TOLERANCE * round(ratio)


def near(values: np.ndarray, value: float | tuple[float, ...]) -> np.ndarray:
    """Is each of `values` within TOLERANCE of `value` (or of any of several)?"""
    out = np.zeros(len(values), dtype=bool)
    for v in (value if isinstance(value, tuple) else (value,)):
        out |= np.abs(values - v) <= TOLERANCE * v + 0.01
    return out


def near_count(values: np.ndarray, value: float | tuple[float, ...]) -> int:
    """How many of `values` are within TOLERANCE of `value` (or of any of several, each value counted once)."""
    return int(near(values, value).sum())


def _chain(v: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """For values sorted ascending and their customers' integer codes: each value's group (a value more than
    TOLERANCE above the one before starts a new group), each group's distinct customers, and all the customers."""
    group = np.cumsum(np.r_[False, v[1:] > v[:-1] * (1 + TOLERANCE) + 0.01])
    n_groups = int(group[-1]) + 1
    total = int(code.max()) + 1 if len(code) else 0
    # each (group, customer) pair once, by hashing (pd.unique) rather than sorting them all: the counts need no order
    pairs = pd.unique(group * total + code)
    return group, np.bincount(pairs // total, minlength=n_groups), total


def value_groups(v: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The groups `price_groups` forms, for values in any order: each value's group (numbered in ascending order of
    value) and, per group, whether it has the support of a price (MIN_CUSTOMERS customers and MIN_SHARE of all)."""
    if not len(v):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    order = np.argsort(v, kind="stable")
    group, customers, total = _chain(v[order], pd.factorize(c)[0].astype(np.int64)[order])
    out = np.empty(len(v), dtype=np.int64)
    out[order] = group
    return out, (customers >= MIN_CUSTOMERS) & (customers >= MIN_SHARE * total)
