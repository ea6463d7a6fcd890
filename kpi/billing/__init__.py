"""Payment log -> revenue schedule (metrics.md 2b): the service periods no billing export states.

`infer(charges, rules, as_of=..., seats=...)` returns an `Inference` (`infer_schedule`: its first two):

- schedule: kpi.schedule.SCHEDULE_COLUMNS, one row per piece of recurring revenue;
- billing: one row per series or term (BILLING_COLUMNS), with the reason it was read that way, so an
  analyst can check it and correct it with `billing_overrides` or `price_book`;
- price_book: the list prices the reading used (kpi.billing.pricebook.PriceBook; About shows it).

`as_of` is the instant the log is read at (None: its newest charge; later charges are ignored). A
rule that waits for a future charge never concludes from the absence of a charge that is not yet due
at as_of: a charge's first renewal is due by charge + 1 calendar month + renewal_tolerance, and until
then the charge is *pending* (it may be the first month of a new plan whose renewal we cannot have
seen yet).

The steps, in the order `infer` takes them, a module or two each (every step is vectorized over all
customers; the Python loops are rounds bounded by the number of series per customer, and the Billing
tab's one sentence per series or term):

1. `log`: the positive charges paid by as_of, sorted; billing_overrides and seats per charge.
2-3. `series`: monthly series (month-end drift included), then single-renewal pairs inside another
   plan dissolved into prorations.
4. `pricebook`: the list prices, learned from a first reading of the log by the amount rules alone
   (or configured, or off), with the log's mix of plans, and its verdict on every charge; then the
   series settled with it (customers whose series anchor on an annual price linked again; a last
   renewal that is an annual price detached as a switch to annual; pairs inside annual prices
   dissolved). `surroundings` gives the book's reading what the customer's monthly plans say around each charge
   (the piece it falls in, the seat count to read it at, a plan that starts after it or again on its slot).
5. `terms`: single charges -> annual or one-month terms, or prorations; pending charges; an annual
   term opened inside a monthly plan's last month ends that plan (switch to annual). `followers` says what later
   charges within a charge's year or month make of it (prorations of a year or of a month, a renewal a year later).
6. `prorations`: the series or term each proration belongs to, and the boundary it is spread to.
7. `pieces`: the schedule.
8. `reasons`: the Billing tab, one sentence per series or term, citing the prices that decided it (`citations`:
   what the price book said, in words; `words`: numbers, instants and counts as text, column-wise). Its rules
   are tried in one order: the series, then a single term by its customer's plans, then by its amount.

`timeline` holds the calendar arithmetic and the searches they share; `prices` a list price and the
proration arithmetic (is a charge k seats x a price x the share of a period left?).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.log import AUTO, Log, prepare
from kpi.billing.pieces import schedule_pieces
from kpi.billing.pricebook import (
    OFF,
    PriceBook,
    PriceEvidence,
    book_from_evidence,
    learn_price_book,
    price_evidence,
    read_amounts,
)
from kpi.billing.prices import Price
from kpi.billing.prorations import place_prorations
from kpi.billing.reasons import BILLING_COLUMNS, billing_table, empty_billing, name_spans
from kpi.billing.series import Series, Spans, annual_proration_of, find_series, relink, settle_series
from kpi.billing.surroundings import (
    before_a_monthly_plan,
    rate_of_piece,
    renewal_switches,
    resumed_on_a_slot,
    seats_for_reading,
)
from kpi.billing.terms import end_switched, read_single_charges
from kpi.billing.timeline import Keys, add_months
from kpi.params import BillingRules
from kpi.schedule import Codes, empty_schedule

__all__ = ["BILLING_COLUMNS", "Inference", "PriceBook", "PriceEvidence", "Reading", "add_months", "empty_billing",
           "evidence_of", "finish", "infer", "infer_schedule", "learned_book", "read_log"]


@dataclass(frozen=True)
class Inference:
    """A payment log read at as_of: the revenue schedule, the Billing tab's rows and the price book used."""

    schedule: pd.DataFrame
    billing: pd.DataFrame
    price_book: PriceBook
    codes: Codes | None = None  # the schedule's customers and refs as integer codes (kpi.schedule.Codes)


@dataclass(frozen=True)
class Reading:
    """A payment log's first steps (1-3), before the price book: what `price_evidence` and `finish` read."""

    log: Log
    series: Series | None  # None: no positive charge by as_of


def read_log(charges: pd.DataFrame, rules: BillingRules, *, as_of: pd.Timestamp | None = None,
             seats: pd.Series | None = None, keys: Keys | None = None) -> Reading:
    """Steps 1-3 of `infer`. `keys`: the key fit of the whole log when `charges` are a partition of it."""
    log = prepare(charges, rules, as_of, seats, keys)  # 1
    return Reading(log, find_series(log) if len(log) else None)  # 2-3


def evidence_of(reading: Reading) -> PriceEvidence:
    """What the price book is learned from in this reading (kpi.billing.pricebook.PriceEvidence)."""
    if reading.series is None:
        return PriceEvidence.concat([])
    return price_evidence(reading.log, reading.series, *_first_reading(reading.log, reading.series))


def learned_book(evidence: PriceEvidence, rules: BillingRules) -> PriceBook:
    """The price book `infer` uses for a log with this evidence (of the whole log: of every partition together)."""
    return book_from_evidence(evidence, rules)


def infer(charges: pd.DataFrame, rules: BillingRules, *, as_of: pd.Timestamp | None = None,
          seats: pd.Series | None = None, book: PriceBook | None = None, keys: Keys | None = None) -> Inference:
    """Payment log -> revenue schedule, billing classification and price book (metrics.md 2b; see the module docstring).

    `charges`: customer_id, paid_at (UTC), amount; zero and negative amounts are ignored.
    `as_of`: the instant the log is read at (charges after it are ignored); None = the newest charge.
    `seats`: each customer's seat count (today's) by customer id; unknown where missing.
    `book`, `keys`: when `charges` are one partition (a set of customers) of a larger log, the price book learned
    from the whole log (`learned_book` of every partition's `evidence_of`) and the whole log's key fit
    (kpi.billing.log.fit_keys): the reading of each customer is then exactly its reading in the whole log. None:
    learned from (fitted to) `charges` themselves.
    The schedule has kpi.schedule.SCHEDULE_COLUMNS, one row per piece, sorted by customer and start;
    the billing table BILLING_COLUMNS, one row per series or term, sorted by customer and anchor (`ref`
    links the two).
    """
    return finish(read_log(charges, rules, as_of=as_of, seats=seats, keys=keys), rules, book)


def finish(reading: Reading, rules: BillingRules, book: PriceBook | None = None) -> Inference:
    """Steps 4-8 of `infer` on a reading, with `book` (None: learned from this reading)."""
    log, series = reading.log, reading.series
    if series is None:
        if book is None:
            book = OFF if rules.price_book == "off" else PriceBook("learned")
        return Inference(empty_schedule(), empty_billing(), book)
    if book is None:
        book = learn_price_book(log, rules, series, *_first_reading(log, series)) if rules.price_book != "off" else OFF  # 4
    # a pending charge inside a running monthly plan may be seats added or a switch: never priced at a tier the book
    # has not learned (kpi.billing.pricebook.reading._unlisted)
    alone = rate_of_piece(log, series, np.arange(len(log))) == 0
    reading_seats, spoken_by = seats_for_reading(log, series, book)
    verdict = read_amounts(book, log.amount, reading_seats, log.pending, alone, *before_a_monthly_plan(log, series, alone))
    verdict = verdict.resumed(log.amount, resumed_on_a_slot(log, series, verdict.annual))
    annual_like = verdict.annual & (log.mode == AUTO)
    annual_prices = tuple(a for a in book.annual_seat if not a.assumed)
    again = _anchors_an_annual_price(log, series, annual_like, annual_prices)
    if again.any():
        series = relink(log, series, again, annual_like, annual_prices)
    annual_singles = verdict.annual & (series.number < 0) & (log.mode == AUTO)
    series, switched = settle_series(log, series, annual_singles,
                                     renewal_switches(log, series, verdict, book.switch_ratios))
    terms = read_single_charges(log, series, book, verdict, switched)  # 5
    series, terms = end_switched(log, series, terms)
    spans = Spans.concat(series.spans, terms.spans)
    prorations = place_prorations(log, series, spans, terms.prorated, terms.orphan, terms.cut_by >= 0, book,
                                  terms.yearly)  # 6
    refs = name_spans(log, spans)
    schedule, codes = schedule_pieces(log, rules, series, spans, refs.ref, prorations)  # 7
    billing = billing_table(log, rules, series, terms, spans, refs, prorations, book, verdict, spoken_by)  # 8
    return Inference(schedule, billing, book, codes)


def _anchors_an_annual_price(log: Log, series: Series, annual_like: np.ndarray, annual_prices: tuple[Price, ...]
                             ) -> np.ndarray:
    """Per charge: is it of a customer with a series anchored on a charge the price book reads as annual, renewed by
    what is a proration of it (that customer's series are linked again)?"""
    mi, k = series.member_index, series.members["k"].to_numpy()
    first = np.flatnonzero(k == 1)
    anchor = mi[first - 1]
    wrong = anchor[annual_like[anchor] & annual_proration_of(log, anchor, mi[first], annual_prices)]
    return np.isin(log.cust, log.cust[wrong])


def _first_reading(log: Log, series: Series) -> tuple[Spans, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """The log read by the amount rules alone (its terms, the prorations placed in them and in the series, its
    annual renewals): the evidence the price book is learned from."""
    verdict = read_amounts(OFF, log.amount, log.seats)
    terms = read_single_charges(log, series, OFF, verdict, np.zeros(len(log)), first_reading=True)
    spans = Spans.concat(series.spans, terms.spans)
    placed = place_prorations(log, series, spans, terms.prorated, terms.orphan)
    return spans, placed.charge, placed.host, placed.boundary, placed.start, terms.yearly, terms.renews


def infer_schedule(charges: pd.DataFrame, rules: BillingRules, *, as_of: pd.Timestamp | None = None,
                   seats: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`infer` without the price book: (revenue schedule, billing classification)."""
    result = infer(charges, rules, as_of=as_of, seats=seats)
    return result.schedule, result.billing
