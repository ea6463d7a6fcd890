"""A log a year old (kpi.billing.pricebook, step 4): what renewed a year later says which amounts are years.

- `renewed_points`: an amount that MIN_CUSTOMERS+ customers paid once and renewed 12 months later at the same amount,
  no whole number of seats at a seat price, is an annual price point (490, a flat plan's year);
- `with_tier_points`: without seat counts, whole multiples of the tier prices are years when the log's year-old
  tier multiples renewed at least TIER_RENEWAL_RATIO times as often as its list multiples (a younger log, or too few
  year-old ones: the lapses of kpi.billing.pricebook.lapses.with_young_tier_points).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from kpi.billing.pricebook.book import MIN_AGED, PriceBook, close, times
from kpi.billing.pricebook.evidence import PriceEvidence
from kpi.billing.pricebook.groups import price_groups
from kpi.billing.pricebook.lapses import with_young_tier_points
from kpi.billing.prices import whole_multiple

TIER_RENEWAL_RATIO = 0.5  # tier multiples are annual when they renew at least half as often as list multiples


def renewed_points(ev: PriceEvidence, book: PriceBook) -> PriceBook:
    """The book with the annual price points its renewals teach: an amount that MIN_CUSTOMERS+ customers paid in
    single charges renewed 12 calendar months later at the very same amount (a plan renewing at its price) is an
    annual price, flat or not: 490, a flat plan's year at ten months of 49, read by no seat price (43 x 11.40 is
    490.20), would otherwise be a month and then churn; 1490, one of annual_min_amount or more, is annual anyway, but
    known as a whole price bought beside a plan, not seats added to it (kpi.billing.followers.big_annual_proration).
    A whole multiple, to the cent, of an annual seat price the book has learned is read annual by seats already, and
    one of a monthly seat price is also a month of seats (144 = 8 x 18, a year of one seat at 144 or a month of eight:
    the seat counts weigh it, or, without them, the tier renewals of `with_tier_points`): neither is listed; nor is a
    point the book has."""
    if not len(ev.kept_amount):
        return book
    ok = np.isfinite(ev.kept_amount) & (ev.kept_amount > 0)
    for a in (*(a for a in book.annual_seat if not a.assumed), *book.monthly_seat):
        ok &= ~whole_multiple(ev.kept_amount, a.amount)
    for pt in book.annual_points:
        ok &= ~close(ev.kept_amount, np.full(len(ev.kept_amount), pt.amount))
    found = price_groups(ev.kept_amount[ok], ev.kept_cust[ok], "", None)
    points = [replace(g, basis=f"{g.charges} single charge{'s' if g.charges != 1 else ''} of {g.customers} customers "
                               "renewed a year later at the same amount, no whole number of seats at a seat price")
              for g in found]
    return replace(book, annual_points=(*book.annual_points, *points)) if points else book


def with_tier_points(book: PriceBook, evidence: PriceEvidence) -> PriceBook:
    """With no seat counts to weigh, a whole multiple of a learned tier price (126, 144, 162 beside the list 180) may
    be k seats for a year at that tier or a month of k' seats (126 = 7 x 18). The log says which is likelier: an annual
    plan renews a year later unless it churns, a month of seats never does. Among single charges a year old or more
    at as_of, compare the share renewed a year later at k x a tier price with the share at k x the list price (whose
    multiples are annual points already): at least TIER_RENEWAL_RATIO of it, and tier multiples are annual points
    too. Needs MIN_AGED such charges of each kind and one renewed at the list price. Until then (a log younger than a
    year, or one whose year-old charges are still too few) what did not renew a month later decides
    (`with_young_tier_points`, on the charges not yet a year old): before, every tier multiple read as a month again
    from a log's 13th month end until the year-old ones were enough (generated noseats seed 5: the 13th to the 17th;
    summed over seeds, 24% more churn published than the truth at the 13th and 14th). Unless the year-old charges
    at tier multiples already say months: even if every one still to come renewed, MIN_AGED of them could not reach
    the ratio to the list price's own rate, once MIN_AGED charges at the list price say it (0 of 9 renewed, where
    the list price renews 6 in 10)."""
    learned = [a for a in book.annual_seat if not a.assumed and not a.derived]
    if not len(evidence.aged_amount):
        return with_young_tier_points(book, evidence, learned)
    if len(learned) < 2:
        return book
    amount, renewed = evidence.aged_amount, evidence.aged_renewed
    at_list = times(amount, learned[0].amount)
    at_tier = np.zeros(len(amount), dtype=bool)
    for p in learned[1:]:
        at_tier |= times(amount, p.amount)
    at_tier &= ~at_list
    la, ta = int(at_list.sum()), int(at_tier.sum())
    lr, tr = int((renewed & at_list).sum()), int((renewed & at_tier).sum())
    aged = (lr, la, tr, ta)
    if la >= MIN_AGED and ta >= MIN_AGED:
        if not lr:  # nothing at the list price renewed: no rate to compare with
            return book
        return replace(book, tier_points=(tr / ta) >= TIER_RENEWAL_RATIO * (lr / la), tier_renewals=aged)
    if la >= MIN_AGED and lr and ta and (tr + MIN_AGED - ta) / MIN_AGED < TIER_RENEWAL_RATIO * (lr / la):
        return replace(book, tier_points=False, tier_renewals=aged)  # the rest renewing could not make them years
    return replace(with_young_tier_points(book, evidence, learned), tier_aged=aged)
