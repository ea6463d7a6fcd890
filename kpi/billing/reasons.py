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
    ANNUAL_BESIDE,
    ANNUAL_CODES,
    ANNUAL_LIKELY,
    ANNUAL_SEATS,
    ANNUAL_UNLISTED,
    ANNUAL_UNPRICED,
    ANNUAL_WITH,
    MIN_CUSTOMERS,
    MONTHLY_CODES,
    MONTHLY_LIKELY,
    MONTHLY_RESUMED,
    MONTHLY_SEATS,
    NO_SEAT_COUNT,
    PriceBook,
    Verdict,
    months_a_year,
    year_of_unlisted,
)
from kpi.billing.prices import MIN_ANNUAL_MONTHS, Price
from kpi.billing.prorations import Prorations
from kpi.billing.series import Series, Spans
from kpi.billing.terms import Terms
from kpi.billing.timeline import add_months
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
    ref = _join(log.ids[spans.cust], np.where(is_series, ":series-", ":term-").astype(object), _ints(number)) \
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


def _minutes(ns: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Instants as "YYYY-MM-DD HH:MM" (UTC) where `where` is set, "" elsewhere (formatting only what a reason shows)."""
    out = np.full(len(ns), "", dtype=object)
    if where.any():
        out[where] = _to_minute(ns[where])
    return out


def _to_minute(ns: np.ndarray) -> np.ndarray:
    """Instants (int64 ns, UTC) as "YYYY-MM-DD HH:MM", as strftime writes them: numpy's ISO text ("YYYY-MM-DDTHH:MM")
    with a space for the T, for years 1000-9999; other instants through pandas."""
    ns = np.asarray(ns, dtype=np.int64)
    minutes = ns.view("datetime64[ns]").astype("datetime64[m]")
    years = minutes.astype("datetime64[Y]").view(np.int64) + 1970
    if not len(ns) or not ((years >= 1000) & (years <= 9999)).all():
        return np.asarray(utc(ns).strftime("%Y-%m-%d %H:%M"), dtype=object)
    text = np.datetime_as_string(minutes, unit="m")  # fixed width: 16 characters
    chars = text.view("U1").reshape(len(text), -1)
    chars[:, 10] = " "
    return chars.reshape(-1).view(text.dtype).astype(object)


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
                   other_multiple: int, tol_h: str = "2") -> str:
    """What the price book said of one amount, with the price and the evidence it rests on."""
    def source(amount_: float) -> str:
        return book.source_of(amount_)

    if code == MONTHLY_SEATS:
        return f"{amount:.2f} = {_plural(multiple, 'seat')} x {price:.2f}, the monthly seat price {source(price)}"
    if code == ANNUAL_SEATS:
        return f"{amount:.2f} = {_plural(multiple, 'seat')} x {price:.2f}, the annual seat price {source(price)}"
    if code == ANNUAL_UNPRICED:
        of = float(year_of_unlisted(book, np.array([amount / multiple]), months_a_year(book))[0])
        whose = "(no seat count: the commonest count that makes it a year)" if other_multiple == NO_SEAT_COUNT else \
            "(the customer's)"
        return (f"{amount:.2f} = {_plural(multiple, 'seat')} {whose} x {price:.2f} a year, taken for a price "
                f"the book has not learned ({amount / multiple / of:.1f} months of the monthly seat price {of:.2f}: a "
                "discounted tier?), as no price of the book reads it as a month or a year and no monthly plans of "
                f"{MIN_CUSTOMERS}+ customers start at it; a guess")
    if code in (ANNUAL_LIKELY, MONTHLY_LIKELY, ANNUAL_UNLISTED, ANNUAL_BESIDE, ANNUAL_WITH):
        annual = code != MONTHLY_LIKELY
        kind, other_kind = ("a year", "a month") if annual else ("a month", "a year")
        if code == ANNUAL_UNLISTED:
            of = float(year_of_unlisted(book, np.array([amount / multiple]))[0])
            text = (f"{amount:.2f} = {_plural(multiple, 'seat')} (the customer's) x {price:.2f} {kind}, a "
                    f"price not in the book: {amount / multiple / of:.1f} months of the monthly seat price "
                    f"{of:.2f}, a tier not learned yet, while the charge is pending")
        else:
            text = (f"{amount:.2f} = {_plural(multiple, 'seat')} x {price:.2f} {kind} "
                    f"({'annual' if annual else 'monthly'} seat price {source(price)})")
        if code in (ANNUAL_BESIDE, ANNUAL_WITH):
            plan = ("a monthly plan of the customer starts after it within a month, at a smaller amount"
                    if code == ANNUAL_BESIDE else
                    f"bought with a dearer monthly plan of the customer that starts within {tol_h}h after it")
            text += (f", not {_plural(other_multiple, 'seat')} x {other_price:.2f} {other_kind}" if other_multiple
                     else "") + f": {plan}, and that one is its monthly plan"
        elif other_multiple:
            text += (f", likelier than {_plural(other_multiple, 'seat')} x {other_price:.2f} {other_kind} given the "
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
                f"{_plural(multiple, 'seat')} for a year)")
    if multiple > 1:  # k x a year the log taught by what lapsed (a young log without seat counts: tiers are years)
        return (f"{amount:.2f} = {multiple} x {price:.2f}, a seat's year the log taught by what did not renew "
                f"({source(price)}): {multiple} seats for a year, as charges at whole multiples of such years lapse "
                "after their first month far more often than months of seats do (About: tier multiples)")
    return f"{amount:.2f} is an annual price point ({source(price)})"


def _seat_sources(book: PriceBook, prices: np.ndarray, listed_prices: tuple[Price, ...], kind: str) -> np.ndarray:
    """Per price: " (the <kind> seat price learned from ...)" where it is one of `listed_prices` (what the reading rests
    on), "" where it is not (a year's own price its prorations show, items 61 and 71, said so by the reason itself).
    Each distinct price is worded once."""
    listed = {p.amount for p in listed_prices}
    distinct, at = np.unique(prices, return_inverse=True)
    said = [f" (the {kind} seat price {book.source_of(v)})" if v in listed else "" for v in distinct.tolist()]
    return np.array(said, dtype=object)[at.reshape(-1)]


def _join(*parts: np.ndarray | str) -> np.ndarray:
    """Texts joined row by row: arrays (one text per row, all of one length; at least one) and words (the same in
    every row)."""
    out: np.ndarray | None = None
    words = ""
    for part in parts:
        if isinstance(part, str):
            words += part
            continue
        column = np.asarray(part, dtype=object)
        out = (column if not words else words + column) if out is None else (out + words + column if words else
                                                                            out + column)
        words = ""
    if out is None:
        raise ValueError("_join needs at least one column")
    return out + words if words else out


def _some(where: np.ndarray, *parts: np.ndarray | str) -> np.ndarray:
    """`_join` of `parts` (arrays of one text per row) on the rows `where` is set, "" elsewhere; built only there."""
    out = np.full(len(where), "", dtype=object)
    rows = np.flatnonzero(where)
    if len(rows):
        out[rows] = _join(*(p if isinstance(p, str) else np.asarray(p, dtype=object)[rows] for p in parts))
    return out


def _formatted(values: np.ndarray, spec: str) -> np.ndarray:
    """Each number as format(number, spec): each distinct value formatted once."""
    values = np.asarray(values)
    if not len(values):
        return np.zeros(0, dtype=object)
    distinct, at = np.unique(values, return_inverse=True)
    return np.array([format(v, spec) for v in distinct.tolist()], dtype=object)[at.reshape(-1)]


def _ints(values: np.ndarray) -> np.ndarray:
    """Whole numbers as text."""
    return _formatted(np.asarray(values, dtype=np.int64), "d")


def _plural_s(n: np.ndarray) -> np.ndarray:
    """"s" where the count is not 1."""
    return np.where(np.asarray(n) != 1, "s", "").astype(object)


def _durations(seconds: np.ndarray) -> np.ndarray:
    """`_duration` of whole seconds, row by row."""
    s = np.asarray(seconds, dtype=np.int64)
    return np.where(s < 60, _some(s < 60, _ints(s), " s"),
                    np.where(s < 3600, _some((s >= 60) & (s < 3600), _ints(s // 60), " min ", _ints(s % 60), " s"),
                             _some(s >= 3600, _ints(s // 3600), " h ", _ints(s % 3600 // 60), " min")))


def _citations(book: PriceBook, where: np.ndarray, code: np.ndarray, price: np.ndarray, multiple: np.ndarray,
               amount: np.ndarray, other_price: np.ndarray, other_multiple: np.ndarray, tol_h: str = "2") -> np.ndarray:
    """`_book_citation` for the rows `where` is set ("" elsewhere): once per distinct reading, since many spans share
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
    said = np.array([_book_citation(book, int(c), float(p), int(m), float(a), float(op), int(om), tol_h)
                     for c, p, m, a, op, om in distinct.itertuples(index=False, name=None)], dtype=object)
    out[rows] = said[group]
    return out


def billing_table(log: Log, rules: BillingRules, series: Series, terms: Terms, spans: Spans, refs: Refs,
                  placed: Prorations, book: PriceBook, verdict: Verdict, spoken_by: np.ndarray | None = None
                  ) -> pd.DataFrame:
    """The Billing tab's rows (BILLING_COLUMNS), one per span, sorted by customer and anchor. `spoken_by`: per charge,
    the later charge whose plan today's seat count is (kpi.billing.surroundings.seats_for_reading; -1: none)."""
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
    prorate = "ignored (prorations = ignore)" if rules.prorations == "ignore" else "spread to its next boundary"
    until = _to_minute(span_end)
    next_slot = np.where(is_series, np.r_[series.due, 0][spans.series], span_end)  # (a term's -1: the padding 0)
    extended = is_series & (span_end != next_slot) & (cut_by < 0)  # its next slot's renewal may still come at as_of
    slot_at = _minutes(next_slot, extended)
    due = _minutes(terms.due[charge], pending)
    yearly = terms.yearly[charge]
    yearly_at = _minutes(log.t[np.maximum(yearly, 0)], yearly >= 0)
    follower_at = _minutes(log.t[np.maximum(terms.follower_charge[charge], 0)], terms.follower_charge[charge] >= 0)
    ended_at = _minutes(spans.end[np.maximum(ended, 0)], ended >= 0)
    # One sentence per series or term, built column-wise: each rule's rows take its words and their figures
    # together (numbers are formatted once per distinct value), in the order the rules are tried.
    n = n_spans
    book_says = _citations(book, code.astype(bool) & ~is_series, code, price, multiple, amount, other_price,
                           other_multiple, tol_h)  # a series row cites no price
    money = _formatted(amount, ".2f")
    r = renewals.astype(np.int64)
    bare = ~is_series
    rest = bare.copy()

    def rule(condition: np.ndarray) -> np.ndarray:
        """The rows left that this rule reads (the rules before it took theirs)."""
        rows = rest & condition
        rest[rows] = False
        return np.flatnonzero(rows)

    text = np.full(n, "", dtype=object)
    by_book = np.zeros(n, dtype=bool)  # rows whose reason is the book's reading (no renewal, size, switch or override)
    rows = np.flatnonzero(is_series)
    if len(rows):
        ri = r[rows]
        seconds = np.rint(offset[rows] / 1e9).astype(np.int64)
        cut, ext = cut_by[rows] >= 0, extended[rows]
        nth = _ints(ri + 1)
        ends = np.where(cut, _some(cut, "ended ", until[rows], " UTC by the switch to annual ",
                                   ref[np.maximum(cut_by[rows], 0)]),
                        np.where(ext, _some(ext & ~cut, "slot ", nth, ", ", slot_at[rows], " UTC, has passed at as_of "
                                            "but its renewal may still come: covered until ", until[rows], " UTC, unless "
                                            "renewed"),
                                 _some(~ext & ~cut, "covered until slot ", nth, ", ", until[rows], " UTC, unless renewed")))
        d = drifted[rows]
        text[rows] = _join(_ints(ri), " renewal", _plural_s(ri), f" 1 calendar month apart within ±{tol_h}h of the "
                           "anchor's slot (largest offset ", _durations(seconds), "); ", ends,
                           _some(d != 0, "; ", _ints(d), " renewal", _plural_s(d), " on the previous renewal's day + 1 "
                                 "calendar month (month-end drift: the billing system counts from the previous charge), "
                                 "not the anchor's day"),
                           np.where(mode[rows] == MONTHLY, " (billing_overrides: monthly)", "").astype(object))
    rows = rule(mode == ANNUAL)
    text[rows] = _join("single charge of ", money[rows], " read as an annual term: billing_overrides sets this customer "
                       "to annual")
    follower_charge = terms.follower_charge[charge]
    rows = rule(~spans.annual & (follower_charge >= 0))  # a month the book had read as a year (followers.monthly_prorations)
    if len(rows):
        k, m_price = terms.follower_k[charge[rows]].astype(np.int64), terms.follower_price[charge[rows]].astype("float64")
        months = np.rint(amount[rows] / m_price).astype(np.int64)
        a_price = price[rows].astype("float64")
        text[rows] = _join("single charge of ", money[rows], " = ", _formatted(months, "g"), " seat", _plural_s(months),
                           " x ", _formatted(m_price, ".2f"), " a month",
                           _seat_sources(book, m_price, book.monthly_seat, "monthly"), ": ",
                           _formatted(log.amount[follower_charge[rows]], ".2f"), " on ", follower_at[rows], " UTC is ",
                           _formatted(k, "g"), " seat", _plural_s(k), " x ", _formatted(m_price, ".2f"),
                           " x the share of its month left (a seat added to a month; no annual seat price x the share "
                           "of its year left gives it), not ", money[rows], " = ", _formatted(multiple[rows], "g"),
                           " seat", _plural_s(multiple[rows]), " x ", _formatted(a_price, ".2f"), " a year",
                           _seat_sources(book, a_price, book.annual_seat, "annual"), ", the price book's reading: one "
                           "month",
                           _some(pending[rows], " (provisional: its first renewal is due by ", due[rows], " UTC)"))
    rows = rule(provisional_month)
    by_book[rows] = book_says[rows] != ""
    if len(rows):
        says, e = book_says[rows], ended[rows]
        text[rows] = _join(
            "single charge of ", money[rows], " whose first renewal is due by ", due[rows], " UTC, not yet at as_of: one "
            "month for now (provisional; it may be the first month of a new plan)",
            _some(says != "", "; ", says),
            _some(e >= 0, "; it falls inside ", ref[np.maximum(e, 0)], ", which ended ", ended_at[rows], " UTC with no "
                  "renewal, so it is not read as a proration of that one"),
            np.where(mode[rows] == MONTHLY, " (billing_overrides: monthly)", "").astype(object))
    rows = rule(mode == MONTHLY)
    text[rows] = _join("single charge of ", money[rows], f" with no renewal within ±{tol_h}h of a month later: one month "
                       "(billing_overrides: monthly)")
    rows = rule(switch)
    if len(rows):
        host_rate = switch_rate[rows].astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            times = amount[rows] / host_rate
        text[rows] = _join("single charge of ", money[rows], " = ", _formatted(times, ".4g"), " x ",
                           _formatted(host_rate, ".2f"), ", the monthly rate of the plan it falls in or renewed: an annual "
                           "price for it (10 or 12 months",
                           _some(np.isin(code[rows], ANNUAL_CODES), ", or ", book_says[rows]),
                           "), a switch to annual: annual term")
    # a month that a switch to annual ended, which the book or the amount alone would read as a year (item 54: the
    # first month of the plan switched from): say why it is a month
    rows = rule(~spans.annual & (cut_by >= 0) & (np.isin(code, ANNUAL_CODES) | (amount >= rules.annual_min_amount)))
    if len(rows):
        by = spans.charge[np.maximum(cut_by[rows], 0)]
        text[rows] = _join("single charge of ", money[rows], " followed within its month by ",
                           _formatted(log.amount[by], ".2f"), " = ", _formatted(log.amount[by] / amount[rows], ".4g"),
                           " x it, a switch to annual: the month of the plan switched from, one month")
    renews = terms.renews[charge]
    rows = rule((yearly >= 0) | (renews >= 0))
    if len(rows):
        nxt, prev = yearly[rows], renews[rows]
        text[rows] = _join(
            "single charge of ", money[rows], ", ",
            _some(nxt >= 0, "renewed 12 calendar months later (", yearly_at[rows], " UTC, ",
                  _formatted(log.amount[np.maximum(nxt, 0)], ".2f"), ")"),
            np.where((nxt >= 0) & (prev >= 0), " and ", "").astype(object),
            _some(prev >= 0, "the renewal of ", _formatted(log.amount[np.maximum(prev, 0)], ".2f"),
                  " paid 12 calendar months before"),
            ": an annual plan, annual term")
    # a settled month of exactly the customer's seats today, however big (terms._big_month_of_seats, item 68)
    rows = rule(~spans.annual & (amount >= rules.annual_min_amount) & np.isin(code, (MONTHLY_SEATS, MONTHLY_LIKELY))
                & (multiple == log.seats[charge]))
    text[rows] = _join("single charge of ", book_says[rows], "; exactly the customer's seat count: a big monthly plan's "
                       f"month, not a year for being >= annual_min_amount {minimum}; with no renewal within ±{tol_h}h of "
                       "a month later: one month")
    rows = rule(amount >= rules.annual_min_amount)
    text[rows] = _join("single charge of ", money[rows], f" >= annual_min_amount {minimum}: annual term")
    # ... a tier the book guessed (ANNUAL_UNPRICED) gives way to a proration that confirms the year (394628)
    rows = rule(np.isin(code, ANNUAL_CODES) & ~((code == ANNUAL_UNPRICED) & spans.annual & (follower_charge >= 0)))
    by_book[rows] = True
    text[rows] = _join("single charge of ", book_says[rows], ": annual term")
    rows = rule(spans.annual & (follower_charge >= 0))
    if len(rows):
        k = terms.follower_k[charge[rows]].astype(np.int64)
        seat_price = terms.follower_price[charge[rows]].astype("float64")
        text[rows] = _join("single charge of ", money[rows], f" < annual_min_amount {minimum}, followed on ",
                           follower_at[rows], " UTC by ", _formatted(log.amount[follower_charge[rows]], ".2f"), " = ",
                           _formatted(k, "g"), " seat", _plural_s(k), " x ", _formatted(seat_price, ".2f"),
                           " a year", _seat_sources(book, seat_price, book.annual_seat, "annual"), " x the share of its year left: a "
                           "proration on an annual term")
    rows = rule(spans.annual)
    text[rows] = _join("single charge of ", money[rows], f" < annual_min_amount {minimum}, followed within a year by "
                       "smaller charges that renew nothing (smallest ", _formatted(follower[charge[rows]], ".2f"),
                       "): prorations on an annual term")
    rows = rule(np.isin(code, MONTHLY_CODES))
    by_book[rows] = True
    text[rows] = _join("single charge of ", book_says[rows], f", with no renewal within ±{tol_h}h of a month later: "
                       "one month")
    smaller = terms.smaller[charge]
    # (item 66: a charge below the least a year costs is no year, whatever follows it)
    rows = rule(~np.isnan(smaller) & bool(book.annual_seat) & ~book.a_year_at_all(amount))
    if len(rows):
        least = book.least_year
        cheapest = least / MIN_ANNUAL_MONTHS
        text[rows] = _join("single charge of ", money[rows], f" < annual_min_amount {minimum} with no renewal within "
                           f"±{tol_h}h of a month later, below the least a year costs ({least:.2f}: "
                           f"{MIN_ANNUAL_MONTHS:g} months of the smallest monthly seat price {cheapest:.2f}), so the "
                           "smaller charges within a year (smallest ", _formatted(smaller[rows], ".2f"),
                           ") are no prorations of a year of it: one month")
    rows = rule(~np.isnan(smaller) & bool(book.annual_seat))
    text[rows] = _join("single charge of ", money[rows], f" < annual_min_amount {minimum} with no renewal within "
                       f"±{tol_h}h of a month later; the smaller charges within a year (smallest ",
                       _formatted(smaller[rows], ".2f"), ") are not annual prorations of it (seats x an annual seat "
                       "price x the share of its year left): one month")
    rows = rule(np.ones(n, dtype=bool))
    text[rows] = _join("single charge of ", money[rows], f" < annual_min_amount {minimum} with no renewal within "
                       f"±{tol_h}h of a month later and no smaller charge within a year: one month")
    spoken = np.full(n, -1, dtype=np.int64) if spoken_by is None else np.where(bare, spoken_by[charge], -1)
    # (only where the book's weighing gave the reading: today's seats would have counted there)
    spoken[~(by_book & np.isin(code, WEIGHED_CODES))] = -1
    by = np.maximum(spoken, 0)
    text = _join(
        text,
        _some(spoken >= 0, "; the customer's ", _formatted(log.seats[by], "g"), " seats today are those of a later plan "
              "(its latest charge, ", _formatted(log.amount[by], ".2f"), " on ", _minutes(log.t[by], spoken >= 0),
              " UTC, is that many seats x a seat price), not weighed for this charge"),
        _some(provisional_year, " (provisional: its first renewal is due by ", due, " UTC; a renewal then would make "
              "it the first month of a monthly series)"),
        _some(bare & (cut_by >= 0), "; ended ", until, " UTC by the switch to annual ", ref[np.maximum(cut_by, 0)]),
        _some(prorations != 0, "; ", _ints(prorations), " proration", _plural_s(prorations), f" inside it, {prorate}"),
        _some(pairs != 0, "; ", _ints(pairs), " pair", _plural_s(pairs), " of charges one month apart inside it read "
              "as prorations, not a monthly series (one renewal inside another plan is not evidence enough)"))
    reasons = text
    # labels as shared str objects (np.where(...).astype(object) made one per row)
    kind = np.asarray(["monthly term", "annual term", "monthly series"], dtype=object)[
        np.where(is_series, 2, spans.annual.astype(np.intp))]
    out = pd.DataFrame(
        {
            "customer_id": log.ids[spans.cust],
            "ref": ref,
            "kind": kind,
            "interval": np.asarray(["annual", "monthly"], dtype=object)[(is_series | ~spans.annual).astype(np.intp)],
            "anchor": utc(anchor_t),
            "first_charge": utc(anchor_t),
            "last_charge": utc(last_charge),
            "charges": np.where(is_series, n_members, 1) + prorations,
            "renewals": renewals.astype("int64"),
            "prorations": prorations.astype("int64"),
            "current_rate": rate.astype("float64"),
            "covered_until": utc(span_end),  # the end of its last piece: when it stops paying unless renewed
            "reason": reasons,
            # a term read from one charge, unless it renewed a year later or renews one (a renewal seen)
            "guessed": ~is_series & (mode == AUTO) & (yearly < 0) & (renews < 0),
        }
    )
    return out.iloc[order].loc[:, list(BILLING_COLUMNS)].reset_index(drop=True)
