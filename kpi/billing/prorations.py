"""Step 6: prorations (metrics.md 2b "Prorations"): which series or term each one belongs to, and until when.

A proration spreads its amount from its timestamp to the next boundary of the series or term it falls
in; when several run, the one it adds seats to by the price book (k seats x a price of its kind x the
share of its period left, the fewest seats first), else the one with the nearest boundary among those it
would not make more than MAX_GROWTH times what they charge a period (docs/billing.md item 51); for a
pending charge that no running series or annual term covers, only the term still running at as_of
that took it in. Rate = amount / span in months of 365.25/12 days, a day at least, or with `prorations =
"share"` amount / the share of its host's period left (kpi.billing.pieces); `prorations = "ignore"` drops these
pieces, and they are still counted in the Billing tab.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.log import Log
from kpi.billing.pricebook import OFF, PriceBook
from kpi.billing.prices import proration_fit
from kpi.billing.series import Series, Spans
from kpi.billing.timeline import add_months

MAX_GROWTH = 3.0  # a proration adds at most this many times what its host charges a period (seats or an upgrade)
CARRIED_TOLERANCE = 0.01  # ... unless the host's next renewal grew by just what it adds, to 1%


@dataclass(frozen=True)
class Prorations:
    """Per proration charge (`charge`, indices into the log): its host span, the boundary it is spread to, and the
    start and end of its host's period it falls in (ns: the renewal before it in a series, the term's start; the
    boundary, or a calendar month or year from that start where something cut the piece shorter: a switch to annual
    ends a series mid-month, and the company billed the whole period)."""

    charge: np.ndarray
    host: np.ndarray
    boundary: np.ndarray
    start: np.ndarray
    period_end: np.ndarray


def place_prorations(log: Log, series: Series, spans: Spans, prorated: np.ndarray, orphan: np.ndarray,
                     switched: np.ndarray | None = None, book: PriceBook = OFF,
                     yearly: np.ndarray | None = None) -> Prorations:
    """For each charge flagged `prorated`: the span it falls in that the price book says it adds seats to, else the
    one with the nearest next boundary; and that boundary.

    With a price book, a proration is k seats x a price of its host's kind (annual for an annual term, monthly for a
    series or a one-month term) x the share of the host's current period left: when several spans run, the one
    where it is so with the fewest seats is its host (an annual plan's seat bought beside a monthly plan is not a
    month's spike); where none is, the nearest boundary of a host it would not make more than MAX_GROWTH times what
    that host charges a period (a year's price upgrade beside a monthly plan). Where `orphan` is set (pending charges with no running series or annual host), only spans
    still running at as_of qualify: the term that took the charge in, even if a switch to annual (`switched`, per
    span) ended it. `yearly` (per charge, its renewal 12 months later; None: the first reading): where no price fits,
    a host whose next renewal carries the charge (grew by at least what it adds a period: a series' next renewal, an
    annual term's renewal a year later) comes first (a year's price upgrade, docs/billing.md items 53 and 56).
    """
    switched = np.zeros(len(spans.cust), dtype=bool) if switched is None else switched
    pi = np.flatnonzero(prorated)
    members = series.members
    keys = log.keys
    p = pd.DataFrame({"p": np.arange(len(pi)), "cust": log.cust[pi], "t": log.t[pi], "running_only": orphan[pi]})
    s = pd.DataFrame({"cust": spans.cust, "span": np.arange(len(spans.cust)), "start": spans.start,
                      "end": spans.end, "series": spans.series, "switched": switched})
    m = p.merge(s, on="cust")
    m = m.loc[(m["start"] <= m["t"]) & (m["t"] < m["end"]) & ~(m["running_only"] & (m["end"] <= log.as_of) & ~m["switched"])]
    span = m["span"].to_numpy()
    amount = log.amount[pi[m["p"].to_numpy()]]
    boundary = m["end"].to_numpy().copy()
    period_start = m["start"].to_numpy().copy()
    price = log.amount[spans.charge[span]]  # what the host charges a period: its anchor charge, or
    in_series = m["series"].to_numpy() >= 0
    carried = np.zeros(len(m))
    if in_series.any() and len(members):
        # the renewals around the proration bound the piece it falls in
        mkey = keys(members["series"].to_numpy(), members["t"].to_numpy())
        q = keys(m["series"].to_numpy()[in_series], m["t"].to_numpy()[in_series])
        pos = np.searchsorted(mkey, q, side="right")
        at = np.minimum(pos, len(mkey) - 1)
        same = (pos < len(mkey)) & (members["series"].to_numpy()[at] == m["series"].to_numpy()[in_series])
        nxt = members["t"].to_numpy()[at]
        boundary[in_series] = np.where(same, np.minimum(nxt, boundary[in_series]), boundary[in_series])
        period_start[in_series] = members["t"].to_numpy()[np.maximum(pos - 1, 0)]
        price[in_series] = log.amount[members["i"].to_numpy()[np.maximum(pos - 1, 0)]]  # ... the renewal before it
        # what the next renewal charges more than that one (what the period's prorations carried into it)
        carried[in_series] = np.where(same, log.amount[members["i"].to_numpy()[at]] - price[in_series], 0.0)
    # the share of the period billed that is left: a piece a switch to annual cut short still bills its month
    annual = spans.annual[span]
    period_end = np.maximum(boundary, add_months(period_start, np.where(annual, 12, 1)))
    share = (period_end - m["t"].to_numpy()) / np.maximum(period_end - period_start, 1)
    implied = amount / np.maximum(share, 1e-9)  # what it adds a period of its host
    if yearly is not None:  # an annual term's renewal a year later carries what was added to it
        anchor = spans.charge[span]
        renewal = yearly[anchor]
        term = ~in_series & annual & (renewal >= 0)
        carried[term] = log.amount[np.maximum(renewal, 0)][term] - log.amount[anchor][term]
    # a carrier's renewal grew by what this charge adds, to 1% (not by more: a growth that other charges explain does
    # not carry a one-off 20 onto the year); by at least that for a charge of annual_min_amount or more (item 53's
    # upgrades, whose year's renewal also carries the seats added beside them)
    carrier = (carried > 0) & (yearly is not None) & (
        (np.abs(carried - implied) <= implied * CARRIED_TOLERANCE) |
        ((amount >= log.annual_min) & (carried >= implied * (1 - CARRIED_TOLERANCE))))
    seats = np.zeros(len(m), dtype=np.int64)
    overgrown = np.zeros(len(m), dtype=bool)
    if book.monthly_seat or book.annual_seat:
        seats = np.where(annual, proration_fit(book.annual_seat, implied), proration_fit(book.monthly_seat, implied))
        # where no price fits, the nearest boundary, but not of a host it would make more than MAX_GROWTH times what
        # it charges a period (493.44 with 18 days left of a 25-a-month plan would add 822 a month, 33 times it; with
        # 221 days left of a year of 1020, 815 a year: a price upgrade of that year), unless the host's next renewal
        # carries it (66 with 18 days left of a 25 month renewed at 135: the plan's own upgrade). Not without a book
        # (the first reading, which learns annual seat prices from the prorations of annual terms, keeps the nearest
        # boundary)
        overgrown = (seats == 0) & (implied > MAX_GROWTH * price) & ~carrier
    unfit = np.where(seats > 0, seats, np.iinfo(np.int64).max)  # a fitting host first, the fewest seats first
    m = m.assign(boundary=boundary, period_start=period_start, period_end=period_end, unfit=unfit,
                 uncarried=~(carrier & (seats == 0)), overgrown=overgrown).sort_values(
        ["p", "unfit", "uncarried", "overgrown", "boundary", "span"], kind="stable")
    m = m.drop_duplicates("p")
    if len(m) != len(pi):
        raise AssertionError("a proration fell inside no series or term")  # by construction, never
    return Prorations(charge=pi, host=m["span"].to_numpy(), boundary=m["boundary"].to_numpy(),
                      start=m["period_start"].to_numpy(), period_end=m["period_end"].to_numpy())
