"""Step 8: the Billing tab's rows: one per series or term, with the reason a reader sees.

`billing_table` returns BILLING_COLUMNS, sorted by customer and anchor: the series or term (`ref`, also
on its schedule pieces), its kind and interval, its charges, renewals and prorations, its current
rate, and the reason in words (the rule that decided it, with the figures it used), and whether the
interval was a guess (a term read from a single charge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.log import ANNUAL, AUTO, MONTHLY, Log
from kpi.billing.pieces import term_rate, utc
from kpi.billing.pricebook import (
    ANNUAL_LIKELY,
    ANNUAL_POINT,
    ANNUAL_SEATS,
    MONTHLY_LIKELY,
    MONTHLY_SEATS,
    PriceBook,
    Verdict,
)
from kpi.billing.prorations import Prorations
from kpi.billing.series import Series, Spans
from kpi.billing.terms import Terms
from kpi.billing.timeline import add_months
from kpi.params import BillingRules

ANNUAL_CODES = (ANNUAL_SEATS, ANNUAL_POINT, ANNUAL_LIKELY)

BILLING_COLUMNS: tuple[str, ...] = (
    "customer_id", "ref", "kind", "interval", "anchor", "first_charge", "last_charge", "charges", "renewals",
    "prorations", "current_rate", "reason", "guessed",
)


def empty_billing() -> pd.DataFrame:
    """A billing table with no rows and the right dtypes."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="object"),
            "ref": pd.Series(dtype="object"),
            "kind": pd.Series(dtype="object"),
            "interval": pd.Series(dtype="object"),
            "anchor": pd.Series(dtype="datetime64[ns, UTC]"),
            "first_charge": pd.Series(dtype="datetime64[ns, UTC]"),
            "last_charge": pd.Series(dtype="datetime64[ns, UTC]"),
            "charges": pd.Series(dtype="int64"),
            "renewals": pd.Series(dtype="int64"),
            "prorations": pd.Series(dtype="int64"),
            "current_rate": pd.Series(dtype="float64"),
            "reason": pd.Series(dtype="object"),
            "guessed": pd.Series(dtype="bool"),
        }
    )


@dataclass(frozen=True)
class Refs:
    """Names of the spans: `ref` "customer-id:series-N" / "customer-id:term-N", numbered by start within the
    customer; `order` sorts the spans by (customer, start)."""

    ref: np.ndarray
    order: np.ndarray


def name_spans(log: Log, spans: Spans) -> Refs:
    n_spans = len(spans.cust)
    order = np.lexsort((spans.charge, spans.start, spans.cust))
    number = np.empty(n_spans, dtype=np.int64)
    number[order] = pd.Series(spans.cust[order]).groupby(spans.cust[order]).cumcount().to_numpy() + 1
    is_series = spans.series >= 0
    ref = np.array([f"{cid}:{'series' if s else 'term'}-{num}"
                    for cid, s, num in zip(log.ids[spans.cust], is_series, number, strict=True)], dtype=object)
    return Refs(ref=ref, order=order)


def _ended_hosts(spans: Spans, provisional: np.ndarray, as_of: int) -> np.ndarray:
    """For each provisional term: a span of its customer that covers its charge and ended before as_of (-1: none)."""
    out = np.full(len(spans.cust), -1, dtype=np.int64)
    terms = np.flatnonzero(provisional)
    if not len(terms):
        return out
    p = pd.DataFrame({"term": terms, "cust": spans.cust[terms], "t": spans.start[terms]})
    s = pd.DataFrame({"cust": spans.cust, "span": np.arange(len(spans.cust)), "start": spans.start, "end": spans.end})
    m = p.merge(s, on="cust")
    m = m.loc[(m["span"] != m["term"]) & (m["start"] <= m["t"]) & (m["t"] < m["end"]) & (m["end"] <= as_of)]
    m = m.sort_values(["term", "end"], ascending=[True, False], kind="stable").drop_duplicates("term")
    out[m["term"].to_numpy()] = m["span"].to_numpy()
    return out


def _minutes(ns: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Instants as "YYYY-MM-DD HH:MM" (UTC) where `where` is set, "" elsewhere (formatting only what a reason shows)."""
    out = np.full(len(ns), "", dtype=object)
    if where.any():
        out[where] = np.asarray(utc(ns[where]).strftime("%Y-%m-%d %H:%M"), dtype=object)
    return out


def _duration(ns: float) -> str:
    seconds = int(round(ns / 1e9))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _plural(n: float, word: str) -> str:
    return f"{n:g} {word}{'s' if n != 1 else ''}"


def _book_citation(book: PriceBook, code: int, price: float, multiple: int, amount: float, other_price: float,
                   other_multiple: int) -> str:
    """What the price book said of one amount, with the price and the evidence it rests on."""
    def source(amount_: float) -> str:
        return book.source_of(amount_)

    if code == MONTHLY_SEATS:
        return f"{amount:.2f} = {_plural(multiple, 'seat')} x {price:.2f}, the monthly seat price {source(price)}"
    if code == ANNUAL_SEATS:
        return f"{amount:.2f} = {_plural(multiple, 'seat')} x {price:.2f}, the annual seat price {source(price)}"
    if code in (ANNUAL_LIKELY, MONTHLY_LIKELY):
        annual = code == ANNUAL_LIKELY
        kind, other_kind = ("a year", "a month") if annual else ("a month", "a year")
        text = (f"{amount:.2f} = {_plural(multiple, 'seat')} x {price:.2f} {kind} ({'annual' if annual else 'monthly'} "
                f"seat price {source(price)})")
        if other_multiple:
            text += (f", likelier than {_plural(other_multiple, 'seat')} x {other_price:.2f} {other_kind} given the "
                     f"log's mix of plans ({book.annual_share_single:.0%} of the single charges that match seats x a "
                     "price are annual) and its customers' seat counts")
        return text
    if any(a.amount == price for a in book.annual_seat):
        return (f"{amount:.2f} = {multiple} x {price:.2f}, the annual seat price {source(price)} (an annual price point: "
                f"{_plural(multiple, 'seat')} for a year)")
    return f"{amount:.2f} is an annual price point ({source(price)})"


def billing_table(log: Log, rules: BillingRules, series: Series, terms: Terms, spans: Spans, refs: Refs,
                  placed: Prorations, book: PriceBook, verdict: Verdict) -> pd.DataFrame:
    """The Billing tab's rows (BILLING_COLUMNS), one per span, sorted by customer and anchor."""
    ref, order = refs.ref, refs.order
    members, ms, mi, last = series.members, series.member_series, series.member_index, series.last
    pi, host = placed.charge, placed.host
    dissolved, follower = series.dissolved, terms.follower
    charge = spans.charge
    single_term = spans.series < 0
    pending = terms.pending[charge] & single_term & (log.mode[charge] != ANNUAL)
    provisional_month = pending & ~spans.annual
    # a pending annual reading that rests on the price book (a renewal would make it a month of a series)
    provisional_year = pending & spans.annual & (log.mode[charge] == AUTO) & (log.amount[charge] < log.annual_min) \
        & ~terms.switch[charge]
    ended = _ended_hosts(spans, provisional_month, log.as_of)
    n_spans = len(spans.cust)
    is_series = spans.series >= 0
    n_members = np.bincount(ms, minlength=n_spans)  # series come first among spans, numbered like `ms`
    prorations = np.bincount(host, minlength=n_spans)
    pairs = np.bincount(host[dissolved[pi]], minlength=n_spans) if len(pi) else np.zeros(n_spans, dtype=np.int64)
    last_charge = spans.start.copy()
    np.maximum.at(last_charge, ms, log.t[mi])
    np.maximum.at(last_charge, host, log.t[pi])
    anchor_t = spans.start
    offset = np.zeros(n_spans)
    drifted = np.zeros(n_spans, dtype=np.int64)
    if len(mi):
        slot = members["slot"].to_numpy()
        np.maximum.at(offset, ms, np.abs(log.t[mi] - slot).astype("float64"))
        drifted = np.bincount(ms, weights=slot != add_months(log.t[charge[ms]], members["k"].to_numpy()),
                              minlength=n_spans).astype(np.int64)
    rate = np.where(is_series, 0.0, term_rate(log, spans))
    rate[ms[last]] = log.amount[mi[last]]
    renewals = np.where(is_series, n_members - 1, 0)
    span_end = spans.end
    mode = log.mode[charge]
    amount = log.amount[charge]
    code, price, multiple = verdict.code[charge], verdict.price[charge], verdict.multiple[charge]
    other_price, other_multiple = verdict.other_price[charge], verdict.other_multiple[charge]
    switch = terms.switch[charge] & single_term
    switch_rate = terms.switch_rate[charge]
    cut_by = terms.cut_by
    tol_h = f"{rules.renewal_tolerance_hours:g}"
    minimum = f"{rules.annual_min_amount:g}"
    prorate = "spread to its next boundary" if rules.prorations == "normalize" else "ignored (prorations = ignore)"
    until = np.asarray(utc(span_end).strftime("%Y-%m-%d %H:%M"), dtype=object)  # an Index costs ~20 us per [j]
    next_slot = np.where(is_series, add_months(anchor_t, renewals + 1), span_end)
    extended = is_series & (span_end != next_slot) & (cut_by < 0)  # its next slot's renewal may still come at as_of
    slot_at = _minutes(next_slot, extended)
    due = _minutes(terms.due[charge], pending)
    yearly = terms.yearly[charge]
    yearly_at = _minutes(log.t[np.maximum(yearly, 0)], yearly >= 0)
    follower_at = _minutes(log.t[np.maximum(terms.follower_charge[charge], 0)], terms.follower_charge[charge] >= 0)
    ended_at = _minutes(spans.end[np.maximum(ended, 0)], ended >= 0)
    reasons = []
    cited: dict[tuple[int, float, int, float, float, int], str] = {}  # many spans share an amount: say it once
    for j in range(n_spans):  # one sentence per series or term, not per charge
        book_says = ""
        if code[j] and not is_series[j]:  # a series row cites no price
            key = (int(code[j]), float(price[j]), int(multiple[j]), float(amount[j]), float(other_price[j]),
                   int(other_multiple[j]))
            book_says = cited.get(key) or cited.setdefault(key, _book_citation(book, *key))
        if is_series[j]:
            r = int(renewals[j])
            text = (f"{r} renewal{'s' if r != 1 else ''} 1 calendar month apart within ±{tol_h}h of the anchor's slot "
                    f"(largest offset {_duration(offset[j])}); ")
            if cut_by[j] >= 0:
                text += f"ended {until[j]} UTC by the switch to annual {ref[cut_by[j]]}"
            elif extended[j]:
                text += (f"slot {r + 1}, {slot_at[j]} UTC, has passed at as_of but its renewal may still come: covered "
                         f"until {until[j]} UTC, unless renewed")
            else:
                text += f"covered until slot {r + 1}, {until[j]} UTC, unless renewed"
            if drifted[j]:
                d = int(drifted[j])
                text += (f"; {d} renewal{'s' if d != 1 else ''} on the previous renewal's day + 1 calendar month "
                         "(month-end drift: the billing system counts from the previous charge), not the anchor's day")
            if mode[j] == MONTHLY:
                text += " (billing_overrides: monthly)"
        elif mode[j] == ANNUAL:
            text = f"single charge of {amount[j]:.2f} read as an annual term: billing_overrides sets this customer to annual"
        elif provisional_month[j]:
            text = (f"single charge of {amount[j]:.2f} whose first renewal is due by {due[j]} UTC, not yet at as_of: "
                    "one month for now (provisional; it may be the first month of a new plan)")
            if book_says:
                text += f"; {book_says}"
            if ended[j] >= 0:
                text += (f"; it falls inside {ref[ended[j]]}, which ended {ended_at[j]} UTC with no renewal, so it is "
                         "not read as a proration of that one")
            if mode[j] == MONTHLY:
                text += " (billing_overrides: monthly)"
        elif mode[j] == MONTHLY:
            text = (f"single charge of {amount[j]:.2f} with no renewal within ±{tol_h}h of a month later: one month "
                    "(billing_overrides: monthly)")
        elif switch[j]:
            host_rate = float(switch_rate[j])
            text = (f"single charge of {amount[j]:.2f} = {amount[j] / host_rate:.4g} x {host_rate:.2f}, the monthly rate of the plan it "
                    "falls in or renewed: an annual price for it (10 or 12 months"
                    + (f", or {book_says}" if code[j] in ANNUAL_CODES else "")
                    + "), a switch to annual: annual term")
        elif terms.yearly[charge[j]] >= 0 or terms.renews[charge[j]] >= 0:
            nxt, prev = terms.yearly[charge[j]], terms.renews[charge[j]]
            parts = ([f"renewed 12 calendar months later ({yearly_at[j]} UTC, "
                      f"{log.amount[nxt]:.2f})"] if nxt >= 0 else [])
            parts += ([f"the renewal of {log.amount[prev]:.2f} paid 12 calendar months before"] if prev >= 0 else [])
            text = f"single charge of {amount[j]:.2f}, " + " and ".join(parts) + ": an annual plan, annual term"
        elif amount[j] >= rules.annual_min_amount:
            text = f"single charge of {amount[j]:.2f} >= annual_min_amount {minimum}: annual term"
        elif code[j] in ANNUAL_CODES:
            text = f"single charge of {book_says}: annual term"
        elif spans.annual[j] and terms.follower_charge[charge[j]] >= 0:
            f = terms.follower_charge[charge[j]]
            k, unit = int(terms.follower_k[charge[j]]), float(terms.follower_price[charge[j]])
            text = (f"single charge of {amount[j]:.2f} < annual_min_amount {minimum}, followed on "
                    f"{follower_at[j]} UTC by {log.amount[f]:.2f} = {_plural(k, 'seat')} x "
                    f"{unit:.2f} a year x the share of its year left: a proration on an annual term")
        elif spans.annual[j]:
            text = (f"single charge of {amount[j]:.2f} < annual_min_amount {minimum}, followed within a year by smaller "
                    f"charges that renew nothing (smallest {follower[charge[j]]:.2f}): prorations on an annual term")
        elif code[j] in (MONTHLY_SEATS, MONTHLY_LIKELY):
            text = (f"single charge of {book_says}, with no renewal within ±{tol_h}h of a month later: one month")
        elif not np.isnan(terms.smaller[charge[j]]) and book.annual_seat:
            text = (f"single charge of {amount[j]:.2f} < annual_min_amount {minimum} with no renewal within ±{tol_h}h "
                    f"of a month later; the smaller charges within a year (smallest {terms.smaller[charge[j]]:.2f}) are "
                    "not annual prorations of it (seats x an annual seat price x the share of its year left): one month")
        else:
            text = (f"single charge of {amount[j]:.2f} < annual_min_amount {minimum} with no renewal within ±{tol_h}h "
                    "of a month later and no smaller charge within a year: one month")
        if provisional_year[j]:
            text += (f" (provisional: its first renewal is due by {due[j]} UTC; a renewal then would make it the "
                     "first month of a monthly series)")
        if not is_series[j] and cut_by[j] >= 0:
            text += f"; ended {until[j]} UTC by the switch to annual {ref[cut_by[j]]}"
        if prorations[j]:
            p = int(prorations[j])
            text += f"; {p} proration{'s' if p != 1 else ''} inside it, {prorate}"
        if pairs[j]:
            text += (f"; {int(pairs[j])} pair{'s' if pairs[j] != 1 else ''} of charges one month apart inside it read "
                     "as prorations, not a monthly series (one renewal inside another plan is not evidence enough)")
        reasons.append(text)
    kind = np.where(is_series, "monthly series", np.where(spans.annual, "annual term", "monthly term")).astype(object)
    out = pd.DataFrame(
        {
            "customer_id": log.ids[spans.cust],
            "ref": ref,
            "kind": kind,
            "interval": np.where(is_series | ~spans.annual, "monthly", "annual").astype(object),
            "anchor": utc(anchor_t),
            "first_charge": utc(anchor_t),
            "last_charge": utc(last_charge),
            "charges": np.where(is_series, n_members, 1) + prorations,
            "renewals": renewals.astype("int64"),
            "prorations": prorations.astype("int64"),
            "current_rate": rate.astype("float64"),
            "reason": np.array(reasons, dtype=object),
            "guessed": ~is_series & (mode == AUTO),
        }
    )
    return out.iloc[order].loc[:, list(BILLING_COLUMNS)].reset_index(drop=True)
