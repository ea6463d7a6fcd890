"""Step 8: what the price book said of a charge, in the words a Billing reason cites (the price, the evidence it
rests on, and the reading it beat)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.billing.pricebook import (
    ANNUAL_BESIDE,
    ANNUAL_LIKELY,
    ANNUAL_SEATS,
    ANNUAL_UNLISTED,
    ANNUAL_UNPRICED,
    ANNUAL_WITH,
    MIN_CUSTOMERS,
    MONTHLY_LIKELY,
    MONTHLY_RESUMED,
    MONTHLY_SEATS,
    NO_SEAT_COUNT,
    PriceBook,
    months_a_year,
    year_of_unlisted,
)
from kpi.billing.prices import Price
from kpi.billing.words import plural


def book_citation(book: PriceBook, code: int, price: float, multiple: int, amount: float, other_price: float,
                  other_multiple: int, tol_h: str = "2") -> str:
    """What the price book said of one amount, with the price and the evidence it rests on."""
    def source(amount_: float) -> str:
        return book.source_of(amount_)

    if code == MONTHLY_SEATS:
        return f"{amount:.2f} = {plural(multiple, 'seat')} x {price:.2f}, the monthly seat price {source(price)}"
    if code == ANNUAL_SEATS:
        return f"{amount:.2f} = {plural(multiple, 'seat')} x {price:.2f}, the annual seat price {source(price)}"
    if code == ANNUAL_UNPRICED:
        of = float(year_of_unlisted(book, np.array([amount / multiple]), months_a_year(book))[0])
        whose = "(no seat count: the commonest count that makes it a year)" if other_multiple == NO_SEAT_COUNT else \
            "(the customer's)"
        return (f"{amount:.2f} = {plural(multiple, 'seat')} {whose} x {price:.2f} a year, taken for a price "
                f"the book has not learned ({amount / multiple / of:.1f} months of the monthly seat price {of:.2f}: a "
                "discounted tier?), as no price of the book reads it as a month or a year and no monthly plans of "
                f"{MIN_CUSTOMERS}+ customers start at it; a guess")
    if code in (ANNUAL_LIKELY, MONTHLY_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE, ANNUAL_WITH):
        annual = code != MONTHLY_LIKELY
        kind, other_kind = ("a year", "a month") if annual else ("a month", "a year")
        if code == ANNUAL_UNLISTED:
            of = float(year_of_unlisted(book, np.array([amount / multiple]))[0])
            text = (f"{amount:.2f} = {plural(multiple, 'seat')} (the customer's) x {price:.2f} {kind}, a "
                    f"price not in the book: {amount / multiple / of:.1f} months of the monthly seat price "
                    f"{of:.2f}, a tier not learned yet, while the charge is pending")
        else:
            text = (f"{amount:.2f} = {plural(multiple, 'seat')} x {price:.2f} {kind} "
                    f"({'annual' if annual else 'monthly'} seat price {source(price)})")
        if code in (ANNUAL_BESIDE, ANNUAL_WITH):
            plan = ("a monthly plan of the customer starts after it within a month, at a smaller amount"
                    if code == ANNUAL_BESIDE else
                    f"bought with a dearer monthly plan of the customer that starts within {tol_h}h after it")
            text += (f", not {plural(other_multiple, 'seat')} x {other_price:.2f} {other_kind}" if other_multiple
                     else "") + f": {plan}, and that one is its monthly plan"
        elif other_multiple:
            text += (f", likelier than {plural(other_multiple, 'seat')} x {other_price:.2f} {other_kind} given the "
                     f"log's mix of plans ({book.annual_share_single:.0%} of the single charges that match seats x a "
                     "price are annual) and its customers' seat counts")
        return text
    if code == MONTHLY_RESUMED:
        return (f"{amount:.2f}, the price of the monthly plan of the customer that starts again on its slot {multiple} "
                f"months later (the same plan, resumed), not {other_multiple} x {other_price:.2f} a year")
    # a year the lapses taught, read as itself (before the annual seat prices: the amount may also be a tier's, which
    # without seat counts is no year by itself)
    lapsed = next((p for p in book.lapse_years if p.amount == price), None) if multiple == 1 else None
    if lapsed is not None:
        return (f"{amount:.2f} is a year's price the log taught by what did not renew ({lapsed.source}: such charges "
                "lapse after their first month far more often than months of seats do; About: a year once lapsed)")
    pooled = next((p for p in book.pooled_years if p.amount == price), None) if multiple == 1 else None
    if pooled is not None:
        return (f"{amount:.2f} is taken for a year's price by what did not renew ({pooled.source}: too few charges at "
                "it to judge alone, but the charges that lapsed at amounts like it lapse after their first month far "
                "more often than months of seats do; About: a year once lapsed, judged with others; a guess)")
    if any(a.amount == price for a in book.annual_seat):
        return (f"{amount:.2f} = {multiple} x {price:.2f}, the annual seat price {source(price)} (an annual price point: "
                f"{plural(multiple, 'seat')} for a year)")
    if multiple > 1:  # k x a year the log taught by what lapsed (a young log without seat counts: tiers are years)
        return (f"{amount:.2f} = {multiple} x {price:.2f}, a seat's year the log taught by what did not renew "
                f"({source(price)}): {multiple} seats for a year, as charges at whole multiples of such years lapse "
                "after their first month far more often than months of seats do (About: tier multiples)")
    return f"{amount:.2f} is an annual price point ({source(price)})"


def seat_sources(book: PriceBook, prices: np.ndarray, listed_prices: tuple[Price, ...], kind: str) -> np.ndarray:
    """Per price: " (the <kind> seat price learned from ...)" where it is one of `listed_prices` (what the reading rests
    on), "" where it is not (a year's own price its prorations show, items 61 and 71, said so by the reason itself).
    Each distinct price is worded once."""
    listed = {p.amount for p in listed_prices}
    distinct, at = np.unique(prices, return_inverse=True)
    said = [f" (the {kind} seat price {book.source_of(v)})" if v in listed else "" for v in distinct.tolist()]
    return np.array(said, dtype=object)[at.reshape(-1)]


def citations(book: PriceBook, where: np.ndarray, code: np.ndarray, price: np.ndarray, multiple: np.ndarray,
               amount: np.ndarray, other_price: np.ndarray, other_multiple: np.ndarray, tol_h: str = "2") -> np.ndarray:
    """`book_citation` for the rows `where` is set ("" elsewhere): once per distinct reading, since many spans share
    an amount."""
    out = np.full(len(code), "", dtype=object)
    rows = np.flatnonzero(where)
    if not len(rows):
        return out
    keys = pd.DataFrame({"code": code[rows].astype(np.int64), "price": price[rows].astype("float64"),
                         "multiple": multiple[rows].astype(np.int64), "amount": amount[rows].astype("float64"),
                         "other_price": other_price[rows].astype("float64"),
                         "other_multiple": other_multiple[rows].astype(np.int64)})
    group = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    distinct = keys.drop_duplicates()
    said = np.array([book_citation(book, int(c), float(p), int(m), float(a), float(op), int(om), tol_h)
                     for c, p, m, a, op, om in distinct.itertuples(index=False, name=None)], dtype=object)
    out[rows] = said[group]
    return out
