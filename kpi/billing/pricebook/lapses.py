"""A young log (kpi.billing.pricebook, step 4): what did not renew a month later, until a single charge is a year old
(two rules longer: below).

A year lapses after its first month by nature; a month of several seats rarely does (on the shared log none of the 140
plans at 36 to 108 did, while 33 of 185 at 18 did). So the charges whose first monthly renewal was due and never came
(each its customer's last) teach the years a young log holds:
- `lapsed_seat_prices`: a per-seat price, 6 to 12 months of a monthly seat price, that renewed at most half as often
  as the monthly seat prices (an annual seat price, exact seat matches only);
- `amount_points` / `_lapsed_points`: without seat counts, such amounts (whole multiples of the commonest monthly
  amount) are annual points, the best supported one the list price when neither prorations nor a pair of amounts 10
  or 12 times apart (kpi.billing.pricebook.pairs) taught one;
- `lapsed_plan_points`: 6 to 12 whole months of a flat plan's monthly price (490 = ten months of 49), seat counts or
  not, at any age of the log;
- `lapse_years`: without seat counts, an amount that is a month of 2+ seats and can be a year (126) whose lapses
  outnumber twice what its renewed months would give;
- `with_young_tier_points`: without seat counts, whether whole multiples of the tiers are years (also in an older log
  while its year-old charges are too few to compare);
- `pooled_years` (after those two): without seat counts, the amounts too rarely lapsed to judge alone, judged
  together with every other lapse no rule read as a year.
Once a charge is a year old, renewals a year later decide instead (kpi.billing.pricebook.renewals), but for two rules:
a flat plan's year is one at any age, and tier multiples are judged by lapses until the year-old ones are enough.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from kpi.billing.pricebook.book import MIN_CUSTOMERS, TOLERANCE, PriceBook, close, times
from kpi.billing.pricebook.evidence import PriceEvidence
from kpi.billing.pricebook.groups import near, near_count, price_groups, value_groups, whole_ratio
from kpi.billing.pricebook.pairs import paired_prices
from kpi.billing.prices import MIN_ANNUAL_MONTHS, Price, whole_multiple

MAX_LAPSED_RENEWAL = 0.5  # a price renewed a month later at most this share of the monthly prices' rate
MIN_LAPSED_EVIDENCE = 10  # charges at the monthly prices (renewed or not) needed to say how often months renew


def lapsed_seat_prices(ev: PriceEvidence, monthly: list[Price], annual: list[Price]) -> list[Price]:
    """Annual seat prices a log teaches before any of them renews a year later: a per-seat price paid by
    MIN_CUSTOMERS+ customers in single charges whose first monthly renewal was due and never came (each its customer's
    last charge, and not a whole multiple of an annual price the book has: seats added since, before as_of or after
    it, make 600 for 2 seats read 200 a seat by today's 3, 720 for 4 seats 120 by today's 6), at least
    MIN_ANNUAL_MONTHS and at most 12 times one of the book's monthly seat prices (319 a seat is 11 months of a 29
    tier, 26.6 of the list 12), that renewed a month later at most MAX_LAPSED_RENEWAL times as often as the monthly
    seat prices did, pooled (a young log has few months of each; MIN_LAPSED_EVIDENCE of them together), or as the
    price it is a year of did where that one alone has the evidence and renewed less; a year of a tier, not of the
    list price, at most half that again (a premium tier's one-month customers are no year). A month of seats renews as
    monthly plans do; 144 a seat, paid by three customers and renewed by none a month later while most 18s renewed,
    is a year's price (a discount tier of 180). A price the book has already, or a whole multiple of one (seats
    counted today), is not listed again. Only until a single charge is a year old, and only for exact seat matches
    (`Price.lapsed`: not weighed against a month of seats)."""
    if not len(ev.lapsed_value) or len(ev.aged_amount):
        return []  # a year on, renewals a year later say what is annual; seats counted today blur what lapsed long ago
    ok = np.zeros(len(ev.lapsed_value), dtype=bool)
    for m in monthly:  # a year of some monthly seat price: 319 a seat is 11 months of the 29 tier, not the list 12's
        ok |= (ev.lapsed_value >= MIN_ANNUAL_MONTHS * m.amount * (1 - TOLERANCE)) & \
            (ev.lapsed_value <= 12 * m.amount * (1 + TOLERANCE))
    ok &= np.isfinite(ev.lapsed_value)
    for a in annual:  # k x a price the book knows is that price for k seats, whatever today's count divides it into
        ok &= ~times(ev.lapsed_amount, a.amount)
    anchors, lapsed = ev.anchor_value, ev.lapsed_value
    pooled = tuple(m.amount for m in monthly)
    renewed = near_count(anchors, pooled)
    charges = renewed + near_count(lapsed, pooled)
    if charges < MIN_LAPSED_EVIDENCE or renewed == 0:
        return []
    out: list[Price] = []
    for g in price_groups(lapsed[ok], ev.lapsed_cust[ok], "", None):
        of = [m.amount for m in monthly if MIN_ANNUAL_MONTHS * (1 - TOLERANCE) <= g.amount / m.amount <=
              12 * (1 + TOLERANCE)]
        if not of or any(abs(g.amount - a.amount) <= TOLERANCE * a.amount or whole_ratio(g.amount, a.amount)
                         for a in (*annual, *out)):
            continue
        # the months it is compared with: all the monthly seat prices pooled, or the price it is a year of where that
        # one alone renews less (a year of a plan its customers often leave after a month must lapse more still)
        base, label = renewed / charges, (f"the monthly seat price{'s' if len(monthly) > 1 else ''} " +
                                          ", ".join(f"{m:.2f}" for m in pooled[:3]) +
                                          (f" and {len(pooled) - 3} more" if len(pooled) > 3 else ""))
        base_renewed, base_charges = renewed, charges
        for price in of:
            r = near_count(anchors, price)
            c = r + near_count(lapsed, price)
            if c >= MIN_LAPSED_EVIDENCE and r / c < base:
                base, label, base_renewed, base_charges = r / c, f"{price:.2f}", r, c
        # a year of a tier, not of the list price: half that again (a premium tier's one-month customers are no year)
        share = MAX_LAPSED_RENEWAL if monthly[0].amount in of else MAX_LAPSED_RENEWAL / 2
        anchored = near_count(anchors, g.amount)
        if anchored / (anchored + g.charges) > share * base:
            continue
        out.append(replace(g, lapsed=True, basis=f"single charges / seats whose monthly renewal never came: {anchored} "
                                                 f"of {anchored + g.charges} charges at {g.amount:.2f} a seat renewed a "
                                                 f"month later, {base_renewed} of {base_charges} at {label}; "
                                                 f"{g.amount / of[0]:.1f} months of {of[0]:.2f}"))
    return out


def _never_renewed(anchors: np.ndarray, lapsed: np.ndarray, cust: np.ndarray, base: float | tuple[float, ...],
                   ok: np.ndarray, rate: tuple[int, int] | None = None) -> tuple[list[tuple[Price, int]], int, int]:
    """The groups of lapsed[ok] (values of single charges whose monthly renewal was due and never came: per seat, or
    amounts) paid by MIN_CUSTOMERS+ customers that renewed a month later at most MAX_LAPSED_RENEWAL times as often as
    `base` did (a price, or several pooled: the charges at any of them), counting each monthly series' anchor
    (`anchors`, same unit) as renewed and each lapsed charge as not; each with its anchors, then base's anchors and
    charges (none when base has fewer than MIN_LAPSED_EVIDENCE). `rate`: base's (renewed, charges) counted elsewhere
    (in another unit) instead."""
    renewed = near_count(anchors, base)
    charges = renewed + near_count(lapsed, base)
    if rate is not None:
        renewed, charges = rate
    if charges < MIN_LAPSED_EVIDENCE or renewed == 0:
        return [], renewed, charges
    out = []
    for g in price_groups(lapsed[ok], cust[ok], "", None):
        anchored = near_count(anchors, g.amount)
        if anchored / (anchored + g.charges) <= MAX_LAPSED_RENEWAL * renewed / charges:
            out.append((g, anchored))
    return out, renewed, charges


def amount_points(ev: PriceEvidence, book: PriceBook, annual_min: float) -> PriceBook:
    """The book of a log with no seat counts, until a single charge is a year old: with no annual list price learned
    from prorations, the smallest amount among single charges that is 10 or 12 times another, each paid by 3+
    customers, stands as one (`paired_prices` by amount: 18 and 180), before any lapsed amount; then amounts that lapsed
    (`_lapsed_points`) are annual points, the best supported one the list price when there is still none."""
    if len(ev.aged_amount):
        return book
    if not any(not a.assumed and not a.derived for a in book.annual_seat):
        paired = paired_prices(ev.opening_amount, ev.opening_cust, by_amount=True, below=annual_min,
                         why="no seat counts, no proration teaches a year yet")[1][:1]
        book = replace(book, annual_seat=(*paired, *book.annual_seat))
    points = _lapsed_points(ev, book, annual_min)
    if points and not any(not a.assumed and not a.derived for a in book.annual_seat):
        # the best supported one is a seat's year, as a price learned from prorations would be
        return replace(book, annual_seat=(points[0], *book.annual_seat), annual_points=tuple(points[1:]))
    return replace(book, annual_points=tuple(points))


def _lapsed_points(ev: PriceEvidence, book: PriceBook, annual_min: float) -> list[Price]:
    """Without seat counts, `lapsed_seat_prices` by amount (`amount_points` calls it in a young log only): an amount
    that MIN_CUSTOMERS+ customers paid in single charges whose first monthly renewal was due and never came, a whole
    multiple, at least MIN_ANNUAL_MONTHS, of the log's most common monthly amount (the anchor of the most monthly
    series: one seat's month; 150, a flat plan's month of 8.33 x 18, is no seats' year), renewed a month later at
    most MAX_LAPSED_RENEWAL times as often as that amount did, is an annual price point: 180 paid once by five
    customers, none renewed, while 40 of 52 18s renewed. A whole multiple of a learned annual seat price is one
    already, and an amount of annual_min_amount or more is annual anyway: neither is listed."""
    if not len(ev.anchor_amount):
        return []
    base = ev.commonest_month()
    k = np.rint(ev.lapsed_amount / base)
    ok = np.isfinite(ev.lapsed_amount) & (ev.lapsed_amount >= MIN_ANNUAL_MONTHS * base * (1 - TOLERANCE)) & \
        (ev.lapsed_amount < annual_min) & close(ev.lapsed_amount, k * base)  # k months of the base: seats' years
    found, renewed, charges = _never_renewed(ev.anchor_amount, ev.lapsed_amount, ev.lapsed_cust, base, ok)
    learned = [a.amount for a in book.annual_seat if not a.assumed and not a.derived]
    return [replace(g, basis=f"single charges whose monthly renewal never came: {anchored} of {anchored + g.charges} "
                             f"charges of {g.amount:.2f} renewed a month later, {renewed} of {charges} of {base:.2f}, "
                             "the most common monthly amount")
            for g, anchored in found
            if not any(abs(g.amount - round(g.amount / a) * a) <= TOLERANCE * g.amount for a in learned)]


def _months_of_seats(values: np.ndarray, prices: list[float]) -> np.ndarray:
    """Is each value a month of 2 seats or more at one of `prices` (36 and 54 at 18)?"""
    out = np.zeros(len(values), dtype=bool)
    for m in prices:
        out |= times(values, m, 2)
    return out


def lapse_years(ev: PriceEvidence, book: PriceBook, annual_min: float) -> PriceBook:
    """Without seat counts, until a single charge is a year old: the amounts whose lapsed charges are years. An amount
    that is a month of 2 seats or more at a monthly seat price, at least MIN_ANNUAL_MONTHS months of the cheapest one
    (so that it can be a year of some seats) and below annual_min_amount, may be a year or a month of several seats
    (126: 7 seats x 18, or one seat's year at a 12.60 tier), and the log holds both. A month of several seats rarely
    lapses after its first month (on the shared log none of the 140 plans at 36 to 108 did); a year always does. So
    the months of 2 seats or more that cannot be a year (below MIN_ANNUAL_MONTHS months of the cheapest price: 36, 54,
    72, 90) say how often a month lapses, and at each amount A the lapses beyond what its renewed months would give are
    years: when the single charges at A whose renewal was due and never came (the customer's last; amounts within
    TOLERANCE grouped, MIN_CUSTOMERS+ customers and MIN_SHARE of those lapsed at such amounts) number at least twice
    what its monthly series' first charges at A would give, (renewed at A + 1) x (months lapsed + 1) / months renewed
    (one of each added so that none seen is no certainty), most of its lapsed charges are years, and a charge at A
    whose renewal was due is read as one (a pending one may still be a month of a monthly plan: 126 starts seven-seat
    monthly plans too). A flat plan's price (149, 250: no month of seats) is no such amount: its one-month customers
    are churn. Needs MIN_LAPSED_EVIDENCE such months; a learned book only. Whole multiples of the annual list price and
    the annual price points are read as years already: not listed. Amounts too rarely lapsed to judge alone are
    judged together later (`pooled_years`)."""
    found = _candidates(ev, book, annual_min)
    if found is None:
        return book
    ok, mr, ml = found
    if not ok.any():
        return replace(book, seat_month_lapses=(mr, ml))
    lapsed, anchors = ev.lapsed_amount, ev.anchor_amount
    years = []
    for g in price_groups(lapsed[ok], ev.lapsed_cust[ok], "", None):
        anchored = near_count(anchors, g.amount)
        expected = (anchored + 1) * (ml + 1) / mr
        if g.charges >= 2 * expected:
            years.append(replace(g, basis=f"single charges whose monthly renewal never came: {g.charges} lapsed after "
                                          f"their first month and {anchored} renewed, where months of several seats "
                                          f"would give about {expected:.1f} lapsed ({ml} of {mr + ml} months of 2 "
                                          "seats or more lapsed); a year once its renewal was due"))
    return replace(book, lapse_years=tuple(years), seat_month_lapses=(mr, ml))


def _candidates(ev: PriceEvidence, book: PriceBook, annual_min: float) -> tuple[np.ndarray, int, int] | None:
    """`lapse_years`' candidates among the lapsed charges (a month of 2 seats or more that can be a year, below
    annual_min_amount, no multiple of the annual list price nor an annual point), with the months of 2 seats or more
    that cannot be a year renewed (mr) and lapsed (ml); None when a charge is a year old or nothing lapsed. The mask is
    empty when fewer than MIN_LAPSED_EVIDENCE such months (or none renewed) say how often months lapse."""
    if len(ev.aged_amount) or not len(ev.lapsed_amount) or not len(ev.anchor_amount):
        return None
    prices = [m.amount for m in book.monthly_seat]
    if not prices:  # none learned yet: the most common monthly amount, one seat's month
        prices = [ev.commonest_month()]
    least = MIN_ANNUAL_MONTHS * min(prices) * (1 - TOLERANCE)
    lapsed, anchors = ev.lapsed_amount, ev.anchor_amount
    seats_lapsed = _months_of_seats(lapsed, prices)
    mr = int((_months_of_seats(anchors, prices) & (anchors < least)).sum())
    ml = int((seats_lapsed & (lapsed < least)).sum())
    if mr + ml < MIN_LAPSED_EVIDENCE or mr == 0:
        return np.zeros(len(lapsed), dtype=bool), mr, ml
    ok = np.isfinite(lapsed) & seats_lapsed & (lapsed >= least) & (lapsed < annual_min)
    for a in [a for a in book.annual_seat if not a.assumed and not a.derived][:1]:
        ok &= ~times(lapsed, a.amount)
    for pt in book.annual_points:
        ok &= ~close(lapsed, np.full(len(lapsed), pt.amount))
    return ok, mr, ml


def pooled_years(ev: PriceEvidence, book: PriceBook, annual_min: float) -> PriceBook:
    """The book with its pooled years: `lapse_years` for the amounts too rarely lapsed to judge alone, judged
    together (without seat counts, until a single charge is a year old; after item 39's tier multiples,
    `with_young_tier_points`). In a young log most amounts lapse once or twice (756, 648, 162 each once in a log's
    second month), which no amount's own count can judge. Among `lapse_years`' candidates, the pool is every lapsed
    charge no rule read as a year: those in groups too small to judge (fewer than MIN_CUSTOMERS customers, or
    MIN_SHARE of them: rare), those `lapse_years` judged months, and tier multiples item 39 judged months (its years,
    and `lapse_years`', are left out). When the pool holds MIN_CUSTOMERS lapses or more and at least twice what its
    renewed months would give at the rate months of 2 to 5 seats lapse, (renewed at its amounts + 1) x (months lapsed
    + 1) / months renewed, most of its lapses are years, and each rare group whose own lapses are also twice what its
    own renewed months would give, and that no more customers renewed monthly than let lapse (an amount plans start
    at is mostly a month: on generated logs a small group the rest of this rule reads as a year was truly one 20
    times of 62 where its amount renewed more often than it lapsed, 72 of 89 where it never renewed; docs/billing.md
    item 44), is read as a year once its renewal was due."""
    found = _candidates(ev, book, annual_min)
    if found is None or not found[0].any():
        return book
    ok, mr, ml = found
    lapsed, anchors, cust = ev.lapsed_amount, ev.anchor_amount, ev.lapsed_cust
    values, who = lapsed[ok], cust[ok]
    group, supported = value_groups(values, who)  # groups numbered 0 .. n - 1
    # each group's median to the cent, rounded as price_groups rounds the Price it makes of a group
    median = np.array([round(float(m), 2) for m in pd.Series(values).groupby(group).median()])
    tier = _tier_multiples(book, values)  # item 39 judged these (none when it compared nothing)
    in_year = (supported & np.isin(median, [p.amount for p in book.lapse_years]))[group] | (tier & book.tier_points)
    rare = ~supported[group] & ~tier
    pool = ~in_year
    # the renewals at the pool's amounts, and, where item 39 judged tier multiples months, at every tier multiple
    renewing = near(anchors, tuple(np.unique(np.round(values[pool], 2)).tolist()))
    if not book.tier_points:
        renewing |= _tier_multiples(book, anchors)
    renewed = int(renewing.sum())
    expected = (renewed + 1) * (ml + 1) / mr
    n_pool = int(pool.sum())
    if n_pool < MIN_CUSTOMERS or n_pool < 2 * expected:
        return book
    out = []
    small = pd.DataFrame({"group": group[rare], "amount": np.round(values[rare], 2), "customer": who[rare]})
    for g, members in small.groupby("group"):
        n = len(members)
        anchored = near_count(anchors, tuple(members["amount"].unique().tolist()))
        if n >= 2 * (anchored + 1) * (ml + 1) / mr and anchored <= n:
            at = float(median[g])
            out.append(Price(at, n, int(members["customer"].nunique()),
                             f"single charges whose monthly renewal never came; too few at {at:.2f} to judge "
                             f"alone ({n} lapsed after their first month, {anchored} renewed), so judged with every "
                             f"lapse at an amount that can be a year or a month of several seats that no rule read as "
                             f"a year, the amounts judged months included: {n_pool} lapsed and {renewed} renewed, "
                             f"where months of several seats would give about {expected:.1f} lapsed ({ml} of "
                             f"{mr + ml} months of 2 seats or more lapsed); a year once its renewal was due, a guess"))
    return replace(book, pooled_years=tuple(out)) if out else book


def lapsed_plan_points(ev: PriceEvidence, book: PriceBook, plans: tuple[float, ...], annual_min: float) -> PriceBook:
    """The book with the flat plans' years a log teaches by what did not renew, seat counts or not: an amount
    below annual_min_amount that MIN_CUSTOMERS+ customers paid in single charges whose first monthly renewal was due
    and never came, that is a whole number of months, MIN_ANNUAL_MONTHS to 12, to the cent, of a flat plan's monthly
    price (`_flat_plans`), and that renewed a month later at most MAX_LAPSED_RENEWAL times as often as the monthly
    plans' prices together did (`_never_renewed`; while fewer than MIN_LAPSED_EVIDENCE charges at those say how often,
    as months of 1 to 5 seats at the monthly seat prices did: generated seat11 seed 1 at its second month end, five
    490s of January beside four customers of 49), is an annual price point: 490 paid once by eight customers,
    renewed by none a month later, is ten months of 49, a plan customers renew every month. Seat amounts are left to
    the seat prices (`lapsed_seat_prices`: exact seat matches): as points, 126 = ten months of a 12.60 seat tier
    would read every pending 126 as a year, monthly plans of 7 seats x 18 too. A point is still a month where it is
    exactly the customer's seats x a monthly seat price (`reading._read_amounts`). At any age of the log: renewals a
    year later list an amount only once three customers have renewed it (`renewals.renewed_points`), and whole months
    of a flat plan are no month of anything, young log or not (generated seat11 seed 6 at its 13th month end, seats
    of then: six 490s of December, ten months of the flat 49, read as "20 seats x 24.50 a month" and churned, as two
    of January 2016's had renewed a year later). An amount that is a whole multiple of an annual seat price the book
    has learned is left to it, and a point the book has is not listed twice."""
    if not plans or not len(ev.lapsed_amount) or not len(ev.anchor_amount):
        return book
    flat = _flat_plans(ev, book, plans)
    amount = np.round(ev.lapsed_amount, 2)  # to the cent: a year is whole months of a plan's price

    def months_of(plan: float) -> np.ndarray:
        k = np.rint(amount / plan)
        return whole_multiple(amount, plan) & (k >= MIN_ANNUAL_MONTHS) & (k <= 12)

    ok = np.isfinite(amount) & (amount < annual_min)
    year = np.zeros(len(amount), dtype=bool)
    for f in flat:
        year |= months_of(f)
    ok &= year
    for a in book.annual_seat:
        if not (a.assumed or a.derived or a.lapsed):
            ok &= ~whole_multiple(amount, a.amount)
    for pt in book.annual_points:
        ok &= ~close(amount, np.full(len(amount), pt.amount))
    if not ok.any():
        return book
    found, renewed, charges = _never_renewed(ev.anchor_amount, amount, ev.lapsed_cust, plans, ok)
    rate_of = "the monthly plans' prices"
    if charges < MIN_LAPSED_EVIDENCE and book.monthly_seat:
        # too few months at the plans' prices yet (a log's second month: four customers of 49): how often months of 1 to
        # 5 seats at the monthly seat prices renewed (by amount: a customer gone may have no seat count left)
        def seat_months(values: np.ndarray) -> int:
            out = np.zeros(len(values), dtype=bool)
            for m in book.monthly_seat:
                out |= times(values, m.amount) & (values < MIN_ANNUAL_MONTHS * m.amount * (1 - TOLERANCE))
            for a in book.annual_seat:  # ... and no year the book reads already (180, a seat's year, is 4 x 45)
                out &= ~times(values, a.amount)
            for pt in book.annual_points:
                out &= ~close(values, np.full(len(values), pt.amount))
            return int(out.sum())

        renewed = seat_months(ev.anchor_amount)
        charges = renewed + seat_months(ev.lapsed_amount)
        found, renewed, charges = _never_renewed(ev.anchor_amount, amount, ev.lapsed_cust, plans, ok,
                                                 rate=(renewed, charges))
        rate_of = "months of 1 to 5 seats at the monthly seat prices (too few months at the plans' own yet)"
    points = []
    for g, anchored in found:
        at = np.array([g.amount])
        of = next((p for p in flat if whole_multiple(at, p)[0] and MIN_ANNUAL_MONTHS <= round(g.amount / p) <= 12),
                  None)
        if of is None:  # amounts within TOLERANCE grouped around one that no plan makes whole months of
            continue
        points.append(replace(g, basis=f"single charges whose monthly renewal never came: {anchored} of "
                                       f"{anchored + g.charges} charges of {g.amount:.2f} renewed a month later, "
                                       f"{renewed} of {charges} at {rate_of}; "
                                       f"{round(g.amount / of)} months of {of:.2f}, a monthly plan's price"))
    return replace(book, annual_points=(*book.annual_points, *points)) if points else book


def _flat_plans(ev: PriceEvidence, book: PriceBook, plans: tuple[float, ...]) -> list[float]:
    """The amounts among `plans` (monthly plans' prices) that are no whole number of seats at a seat price: with seat
    counts, at a monthly seat price of the book that customers at two seat counts or more pay as such (18 as 18 and
    36, by one- and two-seat customers): a price only one seat count shows may be a flat plan's own customers
    divided by their seats (49 by four one-seat customers is 49 a seat, or a flat plan); without seat counts, at one
    the book learned from seats added to monthly plans, or at the most common monthly amount when it learned none
    (a seat's month; its years are `_lapsed_points`')."""
    known = np.isfinite(ev.anchor_value) & (ev.anchor_value > 0)
    if known.any():
        seats = np.rint(ev.anchor_amount[known] / ev.anchor_value[known])
        value = ev.anchor_value[known]
        prices = [m.amount for m in book.monthly_seat
                  if len(np.unique(seats[close(value, np.full(len(value), m.amount))])) >= 2]
    else:
        prices = [m.amount for m in book.monthly_seat]
        if not prices:
            prices = [ev.commonest_month()]
    return [p for p in plans if not whole_multiple(np.full(len(prices), p), np.asarray(prices, dtype="float64")).any()]


def with_young_tier_points(book: PriceBook, evidence: PriceEvidence, learned: list[Price]) -> PriceBook:
    """`renewals.with_tier_points` before renewals a year later can say (no single charge a year old, or too few), from
    what did not renew a month later. A
    month of several seats rarely lapses after its first month (on the shared log none of the 140 plans at 36 to 108
    did, while 33 of 185 at 18 did: the most common amount, one seat's month, is no measure of them), and a year
    always does. Count, among monthly series' anchors and lapsed single charges (the customer's last, renewal due and
    absent), those at months of 2 seats or more of a monthly seat price that no learned annual price reads (36, 54,
    72 beside 144 and 180), and those at k x a tier price that are not k x the list price. When the tier multiples
    lapsed at least twice as often as such months would give them, (tier renewed + 1) x (months lapsed + 1) / months
    renewed (one of each added so that none seen is no certainty), at least half of their lapsed charges are years,
    and tier multiples whose renewal was due are read as annual. Needs MIN_LAPSED_EVIDENCE such months and
    MIN_CUSTOMERS lapsed tier multiples; a learned book only (configured prices say nothing of how plans lapse). The
    tiers: those learned from the prorations or the annual charges (not `lapsed_seat_prices`'s, taught by these very
    lapses), k = 1 up; and, with no seat counts at all, the years the log taught by what lapsed (`lapse_years`, and
    the points of `_lapsed_points` that are months of seats), counted from k = 2 only (their own lapses taught them:
    432 = 3 x 144 counts, 144 does not), each a multiple of no smaller tier."""
    learned = [a for a in learned if not a.lapsed]
    seat_months = [m.amount for m in book.monthly_seat]
    if book.mode != "learned" or not seat_months or not learned:
        return book
    taught = _taught(book) if not np.isfinite(evidence.first_seats).any() else []
    units: tuple[float, ...] = ()
    for u in sorted({*(p.amount for p in learned[1:]), *taught}):
        if not any(times(np.array([u]), v)[0] for v in units):  # 288 = 2 x 144 is 144's multiple already
            units += (u,)
    if not units:
        return book
    anchors, lapsed = evidence.anchor_amount, evidence.lapsed_amount

    def months_of_seats(values: np.ndarray) -> np.ndarray:
        out = _months_of_seats(values, seat_months)
        for u in (learned[0].amount, *units):
            out &= ~times(values, u)
        return out

    mr, ml = int(months_of_seats(anchors).sum()), int(months_of_seats(lapsed).sum())
    tr = int(_at_tier(anchors, units, taught, learned[0].amount).sum())
    # a tier multiple a year old that lapsed did not renew a year later either: renewals judge it
    # (`renewals.with_tier_points`), and most such are months; a month of seats lapsed is one at any age
    tl = int((_at_tier(lapsed, units, taught, learned[0].amount) & ~evidence.lapsed_aged).sum())
    if mr + ml < MIN_LAPSED_EVIDENCE or mr == 0 or tl < MIN_CUSTOMERS:
        return book
    return replace(book, tier_points=tl * mr >= 2 * (tr + 1) * (ml + 1), tier_lapses=(mr, ml, tr, tl),
                   tier_units=units)


def _taught(book: PriceBook) -> list[float]:
    """The years a young log without seat counts taught by what lapsed (`lapse_years`, and the points of
    `_lapsed_points`) that are months of 2 seats or more (seats' years, not a flat plan's): tier units from k = 2."""
    return [p.amount for p in (*book.lapse_years, *book.annual_points)
            if any(times(np.array([p.amount]), m.amount, 2)[0] for m in book.monthly_seat)]


def _at_tier(values: np.ndarray, units: tuple[float, ...], taught: list[float], list_price: float) -> np.ndarray:
    """Is each value k x a tier unit (k from 2 for a unit the lapses taught, `_taught`), and no multiple of the annual
    list price: the charges `with_young_tier_points` compares?"""
    out = np.zeros(len(values), dtype=bool)
    for u in units:
        out |= times(values, u, 2 if u in taught else 1)
    return out & ~times(values, list_price)


def _tier_multiples(book: PriceBook, values: np.ndarray) -> np.ndarray:
    """`_at_tier` with the book's own tier units, as `with_young_tier_points` compared them (no seat counts)."""
    listed = [a for a in book.annual_seat if not (a.assumed or a.derived or a.lapsed)]
    if not listed or not book.tier_units:
        return np.zeros(len(values), dtype=bool)
    return _at_tier(values, book.tier_units, _taught(book), listed[0].amount)
