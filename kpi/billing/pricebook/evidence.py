"""What a price book is learned from (kpi.billing.pricebook, step 4): the evidence of a set of customers, gathered in
a first reading of the log by the amount rules alone (no price book), as plain arrays that concatenate across the
partitions of a run (kpi.partition).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kpi.billing.log import AUTO, Log
from kpi.billing.prices import MIN_MONTH_SHARE, same_amount
from kpi.billing.series import Series, Spans
from kpi.billing.timeline import add_months


@dataclass(frozen=True)
class PriceEvidence:
    """What a price book is learned from (`learning.learn_price_book`), as plain arrays: the evidence of a set of
    customers.

    The evidence of several sets of customers is their concatenation (`PriceEvidence.concat`), and the book learned
    from it is the book learned from all their charges at once: every rule of the book counts distinct customers,
    takes medians or counts matches over these arrays, none depends on their order. A run partitioned by customer
    gathers the evidence of every partition, learns the book once and hands it to every partition (kpi.partition).
    Customers are named by id (`*_cust`), so that they stay distinct across partitions.
    """

    charges: int  # positive charges read (0: no book to learn)
    monthly_value: np.ndarray  # each monthly series' last renewal / its customer's seats (where known)
    monthly_cust: np.ndarray
    monthly_amount: np.ndarray
    annual_value: np.ndarray  # annual charges / seats, then prorations on annual terms / share of the term left
    annual_cust: np.ndarray
    annual_from_prorations: np.ndarray
    annual_amount: np.ndarray  # the charge behind each annual value (NaN for a proration)
    first_seats: np.ndarray  # each customer's seat count (NaN: unknown), for the seat prior
    single_amount: np.ndarray  # single charges whose first renewal was due (amount, seats), for the mix
    single_seats: np.ndarray
    series: int  # monthly series in the first reading
    aged_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))  # single charges a year old or more at as_of
    aged_renewed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # ... renewed a year later
    # single charges renewed a year later at the very same amount (an annual plan's price, flat or per seat), and
    # their customers: the annual price points a log with flat plans teaches (`renewals.renewed_points`)
    kept_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kept_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    opening_value: np.ndarray = field(default_factory=lambda: np.zeros(0))  # every single charge / seats (NaN:
    opening_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # unknown), pending too: pairs
    opening_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))  # ... and its amount
    # for prices a young log teaches by what did not renew (kpi.billing.pricebook.lapses): each monthly series' anchor
    # charge, and each single charge whose first monthly renewal was due and did not come (its customer's last):
    # amounts, and per seat (NaN where seats are unknown)
    anchor_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    anchor_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    anchor_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    lapsed_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lapsed_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lapsed_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    lapsed_aged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # ... a year old or more at as_of
    # prorations on monthly series / the share of the series' period left (a log without seat counts learns its
    # monthly seat prices from these)
    prorated_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    prorated_cust: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    # per annual value: a proration's amount while it is pending and within the renewal tolerance of its term's start
    # (NaN otherwise: later, settled, or an annual charge): it may be a monthly plan bought beside the year
    annual_beside_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def commonest_month(self) -> float:
        """The amount, to the cent, that the most monthly series start at (the smallest on a tie): one seat's month, as
        the rules of a log without seat counts take it (call only with anchors)."""
        amounts, counts = np.unique(np.round(self.anchor_amount, 2), return_counts=True)
        return float(amounts[np.argmax(counts)])

    @classmethod
    def concat(cls, parts: list[PriceEvidence]) -> PriceEvidence:
        """The evidence of all these sets of customers together (no customer is in two of them)."""
        def cat(name: str, dtype: object) -> np.ndarray:
            arrays = [getattr(p, name) for p in parts]
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)  # type: ignore[call-overload]

        return cls(charges=sum(p.charges for p in parts), series=sum(p.series for p in parts),
                   monthly_value=cat("monthly_value", float), monthly_cust=cat("monthly_cust", object),
                   monthly_amount=cat("monthly_amount", float), annual_value=cat("annual_value", float),
                   annual_cust=cat("annual_cust", object), annual_from_prorations=cat("annual_from_prorations", bool),
                   annual_amount=cat("annual_amount", float), first_seats=cat("first_seats", float),
                   single_amount=cat("single_amount", float), single_seats=cat("single_seats", float),
                   opening_value=cat("opening_value", float), opening_cust=cat("opening_cust", object),
                   opening_amount=cat("opening_amount", float),
                   aged_amount=cat("aged_amount", float), aged_renewed=cat("aged_renewed", bool),
                   kept_amount=cat("kept_amount", float), kept_cust=cat("kept_cust", object),
                   anchor_amount=cat("anchor_amount", float), anchor_value=cat("anchor_value", float),
                   anchor_cust=cat("anchor_cust", object),
                   lapsed_amount=cat("lapsed_amount", float), lapsed_value=cat("lapsed_value", float),
                   lapsed_cust=cat("lapsed_cust", object), lapsed_aged=cat("lapsed_aged", bool),
                   prorated_value=cat("prorated_value", float),
                   prorated_cust=cat("prorated_cust", object),
                   annual_beside_amount=cat("annual_beside_amount", float))


def price_evidence(log: Log, series: Series, spans: Spans, proration_charges: np.ndarray, host: np.ndarray,
                   boundary: np.ndarray, period_start: np.ndarray, yearly: np.ndarray, renews: np.ndarray
                   ) -> PriceEvidence:
    """The evidence a price book is learned from, in a first reading of the log by the amount rules alone (no price
    book): its monthly series, its terms (annual ones are evidence) and its prorations (charge indices) with the span
    each was placed in; `yearly` and `renews` its annual renewals (kpi.billing.followers.yearly_renewals)."""
    has_seats = ~np.isnan(log.seats)

    # monthly: each series' last renewal / seats
    last = series.member_index[series.last]
    last = last[has_seats[last]]

    # annual: single charges >= annual_min_amount or renewed a year later / seats, and prorations on annual terms /
    # share of the term left
    big = spans.charge[(spans.series < 0) & spans.annual]
    big = big[((log.amount[big] >= log.annual_min) | (yearly[big] >= 0) | (renews[big] >= 0))
              & (log.mode[big] == AUTO) & has_seats[big]]
    # ... and prorations on monthly series / share of the series' period left (what a log without seat counts has)
    on_series = spans.series[host] >= 0
    mpc = proration_charges[on_series]
    with np.errstate(divide="ignore", invalid="ignore"):
        month_left = (boundary[on_series] - log.t[mpc]) / (boundary[on_series] - period_start[on_series])
    keep = month_left > MIN_MONTH_SHARE
    mpc, month_left = mpc[keep], month_left[keep]
    on_annual = spans.annual[host] & (spans.series[host] < 0)
    pc, host = proration_charges[on_annual], host[on_annual]
    share_left = (spans.end[host] - log.t[pc]) / (spans.end[host] - spans.start[host])
    ok = share_left > 0.02  # a few days before the term's end, the share rounds too coarsely to say a price
    pc, share_left = pc[ok], share_left[ok]
    beside = log.pending[pc] & (log.t[pc] - spans.start[host[ok]] <= log.tol_ns)

    first = np.r_[True, log.cust[1:] != log.cust[:-1]] if len(log) else np.zeros(0, dtype=bool)
    every_single = spans.charge[(spans.series < 0) & (log.mode[spans.charge] == AUTO)]
    singles = spans.charge[(spans.series < 0) & ~log.pending[spans.charge]]
    year_due = add_months(log.t[singles], 12) + log.tol_ns <= log.as_of  # per single charge
    aged = singles[(log.mode[singles] == AUTO) & year_due]
    anchors = spans.charge[spans.series >= 0]
    last_of_customer = np.r_[log.cust[1:] != log.cust[:-1], True] if len(log) else np.zeros(0, dtype=bool)
    # ... the customer's last charge: seats added since would make today's count no longer the one it paid for
    lapsing = (log.mode[singles] == AUTO) & last_of_customer[singles]
    lapsed = singles[lapsing]
    renewed = aged[yearly[aged] >= 0]
    kept = renewed[same_amount(log.amount[renewed], log.amount[yearly[renewed]])]
    return PriceEvidence(
        charges=len(log),
        monthly_value=log.amount[last] / log.seats[last],
        monthly_cust=log.ids[log.cust[last]],
        monthly_amount=log.amount[last],
        annual_value=np.r_[log.amount[big] / log.seats[big], log.amount[pc] / share_left],
        annual_cust=np.r_[log.ids[log.cust[big]], log.ids[log.cust[pc]]],
        annual_from_prorations=np.r_[np.zeros(len(big), dtype=bool), np.ones(len(pc), dtype=bool)],
        annual_amount=np.r_[log.amount[big], np.full(len(pc), np.nan)],
        first_seats=log.seats[first],
        single_amount=log.amount[singles],
        single_seats=log.seats[singles],
        series=len(series.spans.cust),
        opening_value=log.amount[every_single] / log.seats[every_single],
        opening_cust=log.ids[log.cust[every_single]],
        opening_amount=log.amount[every_single],
        aged_amount=log.amount[aged],
        aged_renewed=yearly[aged] >= 0,
        kept_amount=log.amount[kept],
        kept_cust=log.ids[log.cust[kept]],
        anchor_amount=log.amount[anchors],
        anchor_value=log.amount[anchors] / log.seats[anchors],
        anchor_cust=log.ids[log.cust[anchors]],
        lapsed_amount=log.amount[lapsed],
        lapsed_value=log.amount[lapsed] / log.seats[lapsed],
        lapsed_cust=log.ids[log.cust[lapsed]],
        lapsed_aged=year_due[lapsing],
        prorated_value=log.amount[mpc] / month_left,
        prorated_cust=log.ids[log.cust[mpc]],
        annual_beside_amount=np.r_[np.full(len(big), np.nan), np.where(beside, log.amount[pc], np.nan)],
    )
