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

from kpi.billing.citations import citations, seat_sources
from kpi.billing.log import ANNUAL, AUTO, MONTHLY, Log
from kpi.billing.pieces import term_rate, utc
from kpi.billing.pricebook import (
    ANNUAL_BESIDE,
    ANNUAL_CODES,
    ANNUAL_LIKELY,
    ANNUAL_UNLISTED,
    ANNUAL_UNPRICED,
    ANNUAL_WITH,
    MONTHLY_CODES,
    MONTHLY_LIKELY,
    MONTHLY_SEATS,
    PriceBook,
    Verdict,
)
from kpi.billing.prices import MIN_ANNUAL_MONTHS
from kpi.billing.prorations import Prorations
from kpi.billing.series import Series, Spans
from kpi.billing.terms import Terms
from kpi.billing.timeline import add_months
from kpi.billing.words import durations, formatted, ints, join, minutes, plural_s, some, to_minute
from kpi.params import BillingRules

# the book's readings that weigh the amount (and would have weighed today's seat count)
WEIGHED_CODES = (ANNUAL_LIKELY, MONTHLY_LIKELY, ANNUAL_UNLISTED, ANNUAL_UNPRICED, ANNUAL_BESIDE, ANNUAL_WITH)

BILLING_COLUMNS: tuple[str, ...] = (
    "customer_id", "ref", "kind", "interval", "anchor", "first_charge", "last_charge", "charges", "renewals",
    "prorations", "current_rate", "covered_until", "reason", "guessed",
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
            "covered_until": pd.Series(dtype="datetime64[ns, UTC]"),
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
    ref = join(log.ids[spans.cust], np.where(is_series, ":series-", ":term-").astype(object), ints(number)) \
        if n_spans else np.zeros(0, dtype=object)
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


@dataclass(frozen=True)
class _Facts:
    """What the reasons say of each span (one entry per span, in `spans`' order), gathered once by `_facts`."""

    charge: np.ndarray  # the anchor charge
    is_series: np.ndarray
    mode: np.ndarray  # billing_overrides: AUTO / MONTHLY / ANNUAL
    amount: np.ndarray
    money: np.ndarray  # the amount as text
    code: np.ndarray  # the price book's verdict on the anchor charge, and its figures
    price: np.ndarray
    multiple: np.ndarray
    book_says: np.ndarray  # that verdict in words ("" for a series: it cites no price)
    n_members: np.ndarray  # a series' charges
    renewals: np.ndarray
    offset: np.ndarray  # a series' largest renewal offset from its slot, ns
    drifted: np.ndarray  # a series' renewals on the month-end drift slot
    prorations: np.ndarray  # charges placed inside it as prorations
    pairs: np.ndarray  # of those, dissolved pairs (step 3)
    last_charge: np.ndarray  # ns
    rate: np.ndarray  # current rate
    pending: np.ndarray  # a single term whose first renewal is not yet due (not set to annual by an override)
    provisional_month: np.ndarray
    provisional_year: np.ndarray  # a pending annual reading that rests on the price book (a renewal would make it a
    # month of a series)
    due: np.ndarray  # the pending ones' first renewal, as text
    ended: np.ndarray  # a provisional month's host that ended before as_of (-1: none)
    ended_at: np.ndarray
    cut_by: np.ndarray  # the switch to annual that ended it (-1: none)
    until: np.ndarray  # its end, as text
    extended: np.ndarray  # a series whose next slot has passed while its renewal may still come
    slot_at: np.ndarray
    switch: np.ndarray  # a single charge that is a switch to annual
    switch_rate: np.ndarray
    yearly: np.ndarray  # the charge renewing it 12 calendar months later (-1: none)
    yearly_at: np.ndarray
    renews: np.ndarray  # the charge it renews, 12 calendar months before (-1: none)
    follower_charge: np.ndarray  # the later charge that decided its interval (kpi.billing.followers; -1: none)
    follower_at: np.ndarray
    smaller: np.ndarray  # the smallest charge within its year that renews nothing (NaN: none)

    @property
    def bare(self) -> np.ndarray:
        """The single terms."""
        return ~self.is_series


def _facts(log: Log, rules: BillingRules, series: Series, terms: Terms, spans: Spans, placed: Prorations,
           book: PriceBook, verdict: Verdict) -> _Facts:
    """Each span's figures and flags that its reason uses (`_Facts`)."""
    members, ms, mi, last = series.members, series.member_series, series.member_index, series.last
    pi, host = placed.charge, placed.host
    charge = spans.charge
    single_term = spans.series < 0
    pending = terms.pending[charge] & single_term & (log.mode[charge] != ANNUAL)
    provisional_month = pending & ~spans.annual
    ended = _ended_hosts(spans, provisional_month, log.as_of)
    n_spans = len(spans.cust)
    is_series = spans.series >= 0
    last_charge = spans.start.copy()
    np.maximum.at(last_charge, ms, log.t[mi])
    np.maximum.at(last_charge, host, log.t[pi])
    offset = np.zeros(n_spans)
    drifted = np.zeros(n_spans, dtype=np.int64)
    if len(mi):
        slot = members["slot"].to_numpy()
        np.maximum.at(offset, ms, np.abs(log.t[mi] - slot).astype("float64"))
        drifted = np.bincount(ms, weights=slot != add_months(log.t[charge[ms]], members["k"].to_numpy()),
                              minlength=n_spans).astype(np.int64)
    n_members = np.bincount(ms, minlength=n_spans)  # series come first among spans, numbered like `ms`
    rate = np.where(is_series, 0.0, term_rate(log, spans))
    rate[ms[last]] = log.amount[mi[last]]
    amount = log.amount[charge]
    code, price, multiple = verdict.code[charge], verdict.price[charge], verdict.multiple[charge]
    next_slot = np.where(is_series, np.r_[series.due, 0][spans.series], spans.end)  # (a term's -1: the padding 0)
    extended = is_series & (spans.end != next_slot) & (terms.cut_by < 0)  # its next slot's renewal may still come
    yearly, follower_charge = terms.yearly[charge], terms.follower_charge[charge]
    return _Facts(
        charge=charge, is_series=is_series, mode=log.mode[charge], amount=amount, money=formatted(amount, ".2f"),
        code=code, price=price, multiple=multiple,
        book_says=citations(book, code.astype(bool) & ~is_series, code, price, multiple, amount,
                             verdict.other_price[charge], verdict.other_multiple[charge],
                             f"{rules.renewal_tolerance_hours:g}"),
        n_members=n_members, renewals=np.where(is_series, n_members - 1, 0).astype(np.int64), offset=offset,
        drifted=drifted, prorations=np.bincount(host, minlength=n_spans),
        pairs=np.bincount(host[series.dissolved[pi]], minlength=n_spans) if len(pi) else
        np.zeros(n_spans, dtype=np.int64),
        last_charge=last_charge, rate=rate, pending=pending, provisional_month=provisional_month,
        provisional_year=pending & spans.annual & (log.mode[charge] == AUTO) & (amount < log.annual_min)
        & ~terms.switch[charge],
        due=minutes(terms.due[charge], pending), ended=ended,
        ended_at=minutes(spans.end[np.maximum(ended, 0)], ended >= 0), cut_by=terms.cut_by,
        until=to_minute(spans.end), extended=extended, slot_at=minutes(next_slot, extended),
        switch=terms.switch[charge] & single_term, switch_rate=terms.switch_rate[charge], yearly=yearly,
        yearly_at=minutes(log.t[np.maximum(yearly, 0)], yearly >= 0), renews=terms.renews[charge],
        follower_charge=follower_charge,
        follower_at=minutes(log.t[np.maximum(follower_charge, 0)], follower_charge >= 0),
        smaller=terms.smaller[charge],
    )


def _series_reasons(f: _Facts, ref: np.ndarray, tol_h: str) -> np.ndarray:
    """The reason of each series ("" for a term): its renewals, how closely they hit their slots, and its end."""
    text = np.full(len(f.charge), "", dtype=object)
    rows = np.flatnonzero(f.is_series)
    if not len(rows):
        return text
    ri = f.renewals[rows]
    seconds = np.rint(f.offset[rows] / 1e9).astype(np.int64)
    cut, ext, until = f.cut_by[rows] >= 0, f.extended[rows], f.until[rows]
    nth = ints(ri + 1)
    ends = np.where(cut, some(cut, "ended ", until, " UTC by the switch to annual ", ref[np.maximum(f.cut_by[rows], 0)]),
                    np.where(ext, some(ext & ~cut, "slot ", nth, ", ", f.slot_at[rows], " UTC, has passed at as_of "
                                        "but its renewal may still come: covered until ", until, " UTC, unless "
                                        "renewed"),
                             some(~ext & ~cut, "covered until slot ", nth, ", ", until, " UTC, unless renewed")))
    d = f.drifted[rows]
    text[rows] = join(ints(ri), " renewal", plural_s(ri), f" 1 calendar month apart within ±{tol_h}h of the "
                       "anchor's slot (largest offset ", durations(seconds), "); ", ends,
                       some(d != 0, "; ", ints(d), " renewal", plural_s(d), " on the previous renewal's day + 1 "
                             "calendar month (month-end drift: the billing system counts from the previous charge), "
                             "not the anchor's day"),
                       np.where(f.mode[rows] == MONTHLY, " (billing_overrides: monthly)", "").astype(object))
    return text


@dataclass
class _Said:
    """What the reasons say so far: the single terms' reasons are written rule by rule in the order they are tried: each rule takes the rows no rule before it
    took (`take`). `text`: the reason so far; `by_book`: the rows whose reason is the price book's reading (no renewal,
    size, switch or override)."""

    rest: np.ndarray
    text: np.ndarray
    by_book: np.ndarray

    def take(self, condition: np.ndarray) -> np.ndarray:
        """The rows left that this rule reads (the rules before it took theirs)."""
        rows = self.rest & condition
        self.rest[rows] = False
        return np.flatnonzero(rows)


def _reasons_of_plans(said: _Said, f: _Facts, log: Log, rules: BillingRules, spans: Spans, terms: Terms,
                      book: PriceBook, ref: np.ndarray) -> None:
    """The rules that read a single term by its customer's plans: billing_overrides, a seat added to a month, a
    pending month, a switch to annual (and the month it ended), a renewal 12 calendar months apart."""
    money, text, amount, charge = f.money, said.text, f.amount, f.charge
    tol_h = f"{rules.renewal_tolerance_hours:g}"
    rows = said.take(f.mode == ANNUAL)
    text[rows] = join("single charge of ", money[rows], " read as an annual term: billing_overrides sets this customer "
                       "to annual")
    follower_charge = f.follower_charge
    # a month the book had read as a year (kpi.billing.followers.monthly_prorations)
    rows = said.take(~spans.annual & (follower_charge >= 0))
    if len(rows):
        k, m_price = terms.follower_k[charge[rows]].astype(np.int64), terms.follower_price[charge[rows]].astype("float64")
        months = np.rint(amount[rows] / m_price).astype(np.int64)
        a_price, multiple = f.price[rows].astype("float64"), f.multiple[rows]
        text[rows] = join("single charge of ", money[rows], " = ", formatted(months, "g"), " seat", plural_s(months),
                           " x ", formatted(m_price, ".2f"), " a month",
                           seat_sources(book, m_price, book.monthly_seat, "monthly"), ": ",
                           formatted(log.amount[follower_charge[rows]], ".2f"), " on ", f.follower_at[rows], " UTC is ",
                           formatted(k, "g"), " seat", plural_s(k), " x ", formatted(m_price, ".2f"),
                           " x the share of its month left (a seat added to a month; no annual seat price x the share "
                           "of its year left gives it), not ", money[rows], " = ", formatted(multiple, "g"),
                           " seat", plural_s(multiple), " x ", formatted(a_price, ".2f"), " a year",
                           seat_sources(book, a_price, book.annual_seat, "annual"), ", the price book's reading: one "
                           "month",
                           some(f.pending[rows], " (provisional: its first renewal is due by ", f.due[rows], " UTC)"))
    rows = said.take(f.provisional_month)
    said.by_book[rows] = f.book_says[rows] != ""
    if len(rows):
        says, e = f.book_says[rows], f.ended[rows]
        text[rows] = join(
            "single charge of ", money[rows], " whose first renewal is due by ", f.due[rows], " UTC, not yet at as_of: "
            "one month for now (provisional; it may be the first month of a new plan)",
            some(says != "", "; ", says),
            some(e >= 0, "; it falls inside ", ref[np.maximum(e, 0)], ", which ended ", f.ended_at[rows], " UTC with "
                  "no renewal, so it is not read as a proration of that one"),
            np.where(f.mode[rows] == MONTHLY, " (billing_overrides: monthly)", "").astype(object))
    rows = said.take(f.mode == MONTHLY)
    text[rows] = join("single charge of ", money[rows], f" with no renewal within ±{tol_h}h of a month later: one month "
                       "(billing_overrides: monthly)")
    rows = said.take(f.switch)
    if len(rows):
        host_rate = f.switch_rate[rows].astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            times = amount[rows] / host_rate
        text[rows] = join("single charge of ", money[rows], " = ", formatted(times, ".4g"), " x ",
                           formatted(host_rate, ".2f"), ", the monthly rate of the plan it falls in or renewed: an annual "
                           "price for it (10 or 12 months",
                           some(np.isin(f.code[rows], ANNUAL_CODES), ", or ", f.book_says[rows]),
                           "), a switch to annual: annual term")
    # a month that a switch to annual ended, which the book or the amount alone would read as a year (item 54: the
    # first month of the plan switched from): say why it is a month
    rows = said.take(~spans.annual & (f.cut_by >= 0) & (np.isin(f.code, ANNUAL_CODES) | (amount >= rules.annual_min_amount)))
    if len(rows):
        by = spans.charge[np.maximum(f.cut_by[rows], 0)]
        text[rows] = join("single charge of ", money[rows], " followed within its month by ",
                           formatted(log.amount[by], ".2f"), " = ", formatted(log.amount[by] / amount[rows], ".4g"),
                           " x it, a switch to annual: the month of the plan switched from, one month")
    rows = said.take((f.yearly >= 0) | (f.renews >= 0))
    if len(rows):
        nxt, prev = f.yearly[rows], f.renews[rows]
        text[rows] = join(
            "single charge of ", money[rows], ", ",
            some(nxt >= 0, "renewed 12 calendar months later (", f.yearly_at[rows], " UTC, ",
                  formatted(log.amount[np.maximum(nxt, 0)], ".2f"), ")"),
            np.where((nxt >= 0) & (prev >= 0), " and ", "").astype(object),
            some(prev >= 0, "the renewal of ", formatted(log.amount[np.maximum(prev, 0)], ".2f"),
                  " paid 12 calendar months before"),
            ": an annual plan, annual term")


def _reasons_of_amounts(said: _Said, f: _Facts, log: Log, rules: BillingRules, spans: Spans, terms: Terms,
                        book: PriceBook) -> None:
    """The rules that read the rest by the amount and what follows it: a big month of the customer's seats,
    annual_min_amount, the price book's reading, prorations on a year, and the months no year could be."""
    money, text, amount, code, charge = f.money, said.text, f.amount, f.code, f.charge
    tol_h, minimum = f"{rules.renewal_tolerance_hours:g}", f"{rules.annual_min_amount:g}"
    # a settled month of exactly the customer's seats today, however big (terms._big_month_of_seats, item 68)
    rows = said.take(~spans.annual & (amount >= rules.annual_min_amount) & np.isin(code, (MONTHLY_SEATS, MONTHLY_LIKELY))
                     & (f.multiple == log.seats[charge]))
    text[rows] = join("single charge of ", f.book_says[rows], "; exactly the customer's seat count: a big monthly "
                       f"plan's month, not a year for being >= annual_min_amount {minimum}; with no renewal within "
                       f"±{tol_h}h of a month later: one month")
    rows = said.take(amount >= rules.annual_min_amount)
    text[rows] = join("single charge of ", money[rows], f" >= annual_min_amount {minimum}: annual term")
    # ... a tier the book guessed (ANNUAL_UNPRICED) gives way to a proration that confirms the year (394628)
    follower_charge = f.follower_charge
    rows = said.take(np.isin(code, ANNUAL_CODES) & ~((code == ANNUAL_UNPRICED) & spans.annual & (follower_charge >= 0)))
    said.by_book[rows] = True
    text[rows] = join("single charge of ", f.book_says[rows], ": annual term")
    rows = said.take(spans.annual & (follower_charge >= 0))
    if len(rows):
        k = terms.follower_k[charge[rows]].astype(np.int64)
        seat_price = terms.follower_price[charge[rows]].astype("float64")
        text[rows] = join("single charge of ", money[rows], f" < annual_min_amount {minimum}, followed on ",
                           f.follower_at[rows], " UTC by ", formatted(log.amount[follower_charge[rows]], ".2f"), " = ",
                           formatted(k, "g"), " seat", plural_s(k), " x ", formatted(seat_price, ".2f"),
                           " a year", seat_sources(book, seat_price, book.annual_seat, "annual"), " x the share of its "
                           "year left: a proration on an annual term")
    rows = said.take(spans.annual)
    text[rows] = join("single charge of ", money[rows], f" < annual_min_amount {minimum}, followed within a year by "
                       "smaller charges that renew nothing (smallest ", formatted(terms.follower[charge[rows]], ".2f"),
                       "): prorations on an annual term")
    rows = said.take(np.isin(code, MONTHLY_CODES))
    said.by_book[rows] = True
    text[rows] = join("single charge of ", f.book_says[rows], f", with no renewal within ±{tol_h}h of a month later: "
                       "one month")
    smaller = f.smaller
    # (item 66: a charge below the least a year costs is no year, whatever follows it)
    rows = said.take(~np.isnan(smaller) & bool(book.annual_seat) & ~book.a_year_at_all(amount))
    if len(rows):
        least = book.least_year
        cheapest = least / MIN_ANNUAL_MONTHS
        text[rows] = join("single charge of ", money[rows], f" < annual_min_amount {minimum} with no renewal within "
                           f"±{tol_h}h of a month later, below the least a year costs ({least:.2f}: "
                           f"{MIN_ANNUAL_MONTHS:g} months of the smallest monthly seat price {cheapest:.2f}), so the "
                           "smaller charges within a year (smallest ", formatted(smaller[rows], ".2f"),
                           ") are no prorations of a year of it: one month")
    rows = said.take(~np.isnan(smaller) & bool(book.annual_seat))
    text[rows] = join("single charge of ", money[rows], f" < annual_min_amount {minimum} with no renewal within "
                       f"±{tol_h}h of a month later; the smaller charges within a year (smallest ",
                       formatted(smaller[rows], ".2f"), ") are not annual prorations of it (seats x an annual seat "
                       "price x the share of its year left): one month")
    rows = said.take(np.ones(len(charge), dtype=bool))
    text[rows] = join("single charge of ", money[rows], f" < annual_min_amount {minimum} with no renewal within "
                       f"±{tol_h}h of a month later and no smaller charge within a year: one month")


def _clauses(said: _Said, f: _Facts, log: Log, rules: BillingRules, ref: np.ndarray,
             spoken_by: np.ndarray | None) -> np.ndarray:
    """Every reason with what it adds whatever rule read it: today's seats that are a later plan's, a provisional
    year, the switch to annual that ended it, its prorations and dissolved pairs."""
    n = len(f.charge)
    spoken = np.full(n, -1, dtype=np.int64) if spoken_by is None else np.where(f.bare, spoken_by[f.charge], -1)
    # (only where the book's weighing gave the reading: today's seats would have counted there)
    spoken[~(said.by_book & np.isin(f.code, WEIGHED_CODES))] = -1
    by = np.maximum(spoken, 0)
    prorate = "ignored (prorations = ignore)" if rules.prorations == "ignore" else "spread to its next boundary"
    prorations, pairs = f.prorations, f.pairs
    return join(
        said.text,
        some(spoken >= 0, "; the customer's ", formatted(log.seats[by], "g"), " seats today are those of a later plan "
              "(its latest charge, ", formatted(log.amount[by], ".2f"), " on ", minutes(log.t[by], spoken >= 0),
              " UTC, is that many seats x a seat price), not weighed for this charge"),
        some(f.provisional_year, " (provisional: its first renewal is due by ", f.due, " UTC; a renewal then would "
              "make it the first month of a monthly series)"),
        some(f.bare & (f.cut_by >= 0), "; ended ", f.until, " UTC by the switch to annual ",
              ref[np.maximum(f.cut_by, 0)]),
        some(prorations != 0, "; ", ints(prorations), " proration", plural_s(prorations), f" inside it, {prorate}"),
        some(pairs != 0, "; ", ints(pairs), " pair", plural_s(pairs), " of charges one month apart inside it read "
              "as prorations, not a monthly series (one renewal inside another plan is not evidence enough)"))


def billing_table(log: Log, rules: BillingRules, series: Series, terms: Terms, spans: Spans, refs: Refs,
                  placed: Prorations, book: PriceBook, verdict: Verdict, spoken_by: np.ndarray | None = None
                  ) -> pd.DataFrame:
    """The Billing tab's rows (BILLING_COLUMNS), one per span, sorted by customer and anchor. `spoken_by`: per charge,
    the later charge whose plan today's seat count is (kpi.billing.surroundings.seats_for_reading; -1: none).

    A reason is one sentence per series or term, built column-wise: each rule's rows take its words and their figures
    together (numbers are formatted once per distinct value), in the order the rules are tried: the series
    (`_series_reasons`), then the single terms by their customer's plans (`_reasons_of_plans`) and by their amount
    and what follows it (`_reasons_of_amounts`), and last what every reason adds (`_clauses`)."""
    ref = refs.ref
    f = _facts(log, rules, series, terms, spans, placed, book, verdict)
    said = _Said(rest=f.bare.copy(), text=_series_reasons(f, ref, f"{rules.renewal_tolerance_hours:g}"),
                 by_book=np.zeros(len(f.charge), dtype=bool))
    _reasons_of_plans(said, f, log, rules, spans, terms, book, ref)
    _reasons_of_amounts(said, f, log, rules, spans, terms, book)
    is_series, mode, yearly, renews = f.is_series, f.mode, f.yearly, f.renews
    # labels as shared str objects (np.where(...).astype(object) made one per row)
    kind = np.asarray(["monthly term", "annual term", "monthly series"], dtype=object)[
        np.where(is_series, 2, spans.annual.astype(np.intp))]
    out = pd.DataFrame(
        {
            "customer_id": log.ids[spans.cust],
            "ref": ref,
            "kind": kind,
            "interval": np.asarray(["annual", "monthly"], dtype=object)[(is_series | ~spans.annual).astype(np.intp)],
            "anchor": utc(spans.start),
            "first_charge": utc(spans.start),
            "last_charge": utc(f.last_charge),
            "charges": np.where(is_series, f.n_members, 1) + f.prorations,
            "renewals": f.renewals,
            "prorations": f.prorations.astype("int64"),
            "current_rate": f.rate.astype("float64"),
            "covered_until": utc(spans.end),  # the end of its last piece: when it stops paying unless renewed
            "reason": _clauses(said, f, log, rules, ref, spoken_by),
            # a term read from one charge, unless it renewed a year later or renews one (a renewal seen)
            "guessed": ~is_series & (mode == AUTO) & (yearly < 0) & (renews < 0),
        }
    )
    return out.iloc[refs.order].loc[:, list(BILLING_COLUMNS)].reset_index(drop=True)
