"""Steps 2-3: monthly series (metrics.md 2b "Monthly series", "Month-end drift"), and the pairs that are not one.

Step 2. A charge anchors a series when the charge closest to anchor + 1 calendar month (within
+-renewal_tolerance) is free; slot k = anchor + k calendar months (day clamped, same time of day) is
renewed by the free charge closest to it; the series ends at the first slot with none. Month-end
drift: slot k is also renewed by a charge within the tolerance of the slot the previous renewal hit
+ 1 calendar month (day clamped), which differs from anchor + k months only for anchors on the
29th-31st (billing systems that count from the previous charge: 10-31, 11-30, 12-30, ...); the
closer of the two wins, the anchor's slot on a tie; a charge of the series' own amount (the last
renewal's) within the tolerance renews it rather than a closer one of another amount; with none, among
the charges within 15 minutes of the closest, one on the slot's second, else, when the closest can be no
month of the plan (a year renewing the same minute as an upgraded month), the one closest in amount to the
last renewal. Per customer,
series are found oldest first, one per round; when several charges compete for the same first
renewal, one whose slot it hits to the second anchors, else, among those within 15 minutes of the one
it hits most closely, the one closest to it in amount, else the one whose slot it hits most closely
(a seat added minutes before the real subscription, or a year bought beside a month, must not become
the anchor). A charge >= annual_min_amount is not the first month of a
plan whose next charge is below annual_min_amount: it stays a single (annual) charge; once the price
book is known (`relink`), neither is a charge it reads as annual followed by a proration of it (on the
second of its slot, only a charge under a sixth of it is: a billing system renews at the plan's own second).

Step 3. Prorations posing as renewals: a series with a single renewal of a different amount, both charges
below annual_min_amount, that lies inside a running series with two renewals or more, or inside the year of an
annual-sized single charge (or, once the price book is known, of one it reads as annual), is noise (seat
prorations that happen to fall a month apart): its two charges are read as prorations. One renewal inside
another plan is not evidence enough for a second plan; two are; and the same amount again is a renewal, and so
is a charge to the second of its slot at a price a month of the same plan can have (a billing system renews at
the plan's own second; a seat is added whenever the customer adds it), unless the anchor too is on the second
of a slot of the plan it falls in (docs/billing.md item 74). `settle_series` also detaches a renewal that is
an annual price for the series (a switch to annual, or a year bought beside the plan).

A series piece runs from the charge to the next renewal when there is one (early or late within
the tolerance: never a gap, never counted twice), else to the next slot; when that slot has passed
at as_of while its renewal may still come (as_of < slot + tolerance), to slot + tolerance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.log import ANNUAL, AUTO, Log
from kpi.billing.prices import MIN_ANNUAL_MONTHS, Price, proration_fit, same_amount
from kpi.billing.timeline import MONTH_NS, SECOND_NS, add_months, group_starts, nearest, renewal_window_end

NEAR_NS = 15 * 60 * SECOND_NS  # charges this close are one purchase's: the amount tells which a renewal continues


@dataclass(frozen=True)
class Spans:
    """Series and terms, one entry each: the hosts of prorations and the rows of the Billing tab."""

    cust: np.ndarray
    start: np.ndarray  # ns
    end: np.ndarray  # ns, exclusive
    series: np.ndarray  # series number, -1 for a term
    charge: np.ndarray  # the anchor charge's index
    annual: np.ndarray  # bool

    @classmethod
    def concat(cls, *parts: Spans) -> Spans:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


@dataclass(frozen=True)
class Series:
    """The monthly series of a log.

    Per charge: `number` (its series, 0..n-1, -1: none), `slot` (k, 0 = the anchor; -1: none),
    `slot_at` (the slot it hit, ns) and `dissolved` (the renewal of a pair read as prorations in step 3).
    `members`: one row per charge of a series [i (charge index), series, k, t, slot], sorted by
    (series, k); `piece_end` and `last` align with it. `spans`: one per series, numbered like `number`; `due`: per
    series, the slot after its last renewal (ns; its span's end unless a renewal may still come at as_of).
    """

    number: np.ndarray
    slot: np.ndarray
    slot_at: np.ndarray
    dissolved: np.ndarray
    members: pd.DataFrame
    piece_end: np.ndarray
    last: np.ndarray
    spans: Spans
    due: np.ndarray

    @property
    def member_index(self) -> np.ndarray:
        return self.members["i"].to_numpy()

    @property
    def member_series(self) -> np.ndarray:
        return self.members["series"].to_numpy()


def find_series(log: Log) -> Series:
    """Steps 2 and 3 over the whole log (see the module docstring)."""
    number, slot, slot_at = _link(log, None)
    return _dissolve(log, number, slot, slot_at, np.zeros(len(log), dtype=bool), np.zeros(len(log), dtype=bool))


def relink(log: Log, series: Series, customers: np.ndarray, annual_like: np.ndarray,
           annual_prices: tuple[Price, ...]) -> Series:
    """Step 2 again for the charges of some customers (`customers`: per charge), with the price book's annual
    readings: a charge of `annual_like` followed a month later by a charge under a sixth of it, or by an annual
    proration of it (seats x one of `annual_prices` x the share of its year left), anchors no series either. The
    other customers' series stand as found."""
    part = dataclasses.replace(log, cust=log.cust[customers], t=log.t[customers], amount=log.amount[customers],
                               mode=log.mode[customers], seats=log.seats[customers], pending=log.pending[customers])
    number, slot, slot_at = _link(part, annual_like[customers], annual_prices)
    all_number, all_slot, all_at = series.number.copy(), series.slot.copy(), series.slot_at.copy()
    base = int(all_number.max()) + 1 if len(all_number) else 0
    all_number[customers] = np.where(number >= 0, number + base, -1)
    all_slot[customers], all_at[customers] = slot, slot_at
    dissolved = series.dissolved.copy()
    dissolved[customers] = False
    return _dissolve(log, all_number, all_slot, all_at, dissolved, np.zeros(len(log), dtype=bool))


def settle_series(log: Log, series: Series, annual_singles: np.ndarray, annual_at_renewal: np.ndarray
                  ) -> tuple[Series, np.ndarray]:
    """Steps 3 and "switch to annual" once the price book is known. Returns the series and, per charge, the rate of
    the renewal it was detached from (0: not detached).

    `annual_singles`: single charges the price book reads as annual; a single-renewal pair inside one's year is
    prorations too. `annual_at_renewal`: per charge, the previous renewal's rate when the charge is an annual price
    for it (10 or 12 times it, or what the price book calls annual; else 0): when such a charge is its series' last,
    it is not a renewal but a switch to annual, and when the series comes back down after it, a year bought beside
    the monthly plan; it is detached (a series left with its anchor alone is no series).
    """
    number, slot = series.number.copy(), series.slot.copy()
    mi, last = series.member_index, series.last
    prev = np.r_[-1, mi[:-1]]
    nxt = np.r_[mi[1:], -1]
    # the last renewal, or one the series comes back down from (75, 750, 75: a year bought, not a month at 750)
    back_down = ~last & (log.amount[np.maximum(nxt, 0)] <= 2 * log.amount[np.maximum(prev, 0)])
    detach = (last | back_down) & (series.members["k"].to_numpy() >= 1) & (annual_at_renewal[mi] > 0)
    detach &= log.amount[mi] > log.amount[np.maximum(prev, 0)]
    switched = np.zeros(len(log))
    if detach.any():
        switched[mi[detach]] = annual_at_renewal[mi[detach]]
        number[mi[detach]], slot[mi[detach]] = -1, -1
        alone = np.bincount(number[number >= 0], minlength=len(series.spans.cust)) == 1
        lone = (number >= 0) & alone[np.maximum(number, 0)]
        number[lone], slot[lone] = -1, -1
    if not detach.any() and not _weak(log, number, slot, series.slot_at, annual_singles & (number < 0)).any():
        return series, switched  # nothing to settle: the series stand as found
    return _dissolve(log, number, slot, series.slot_at, series.dissolved, annual_singles & (number < 0)), switched


def _dissolve(log: Log, number: np.ndarray, slot: np.ndarray, slot_at: np.ndarray, dissolved: np.ndarray,
              extra_hosts: np.ndarray) -> Series:
    """Step 3 (pairs inside another plan become prorations), then the members, pieces and spans."""
    weak = _weak(log, number, slot, slot_at, extra_hosts)
    dissolved = dissolved.copy()
    if weak.any():
        undone = (number >= 0) & weak[np.maximum(number, 0)]
        dissolved |= undone & (slot == 1)  # one per pair, its renewal: counted in the host's reason
        number = np.where(undone, -1, number)
        slot = np.where(undone, -1, slot)
    return _assemble(log, _renumber(number), slot, slot_at, dissolved)


def _link(log: Log, annual_like: np.ndarray | None, annual_prices: tuple[Price, ...] = ()
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2: per charge, its series number (-1: none), slot index (0 = anchor) and slot hit.

    The slot hit (ns) is anchor + k months, or the month-end drift slot (the previous renewal's slot +
    1 month, day clamped) when that one is closer to the charge; the anchor's own time for slot 0.
    """
    n, keys, tol, annual_min = len(log), log.keys, log.tol, log.annual_min
    series = np.full(n, -1, dtype=np.int64)
    slot_of = np.full(n, -1, dtype=np.int64)
    slot_at = np.zeros(n, dtype=np.int64)
    free = log.mode != ANNUAL
    key = log.key
    slot1 = keys(log.cust, add_months(log.t, 1))
    bounds = np.searchsorted(log.cust, np.arange(int(log.cust.max()) + 2 if n else 1))  # charges of code c: [b_c, b_c+1)

    def free_of(customers: np.ndarray) -> np.ndarray:
        """The free charges of these customers (each round works on the customers still linking, not the whole log:
        one customer with a thousand series must not cost a thousand passes over everyone)."""
        codes = np.unique(customers)
        lo, hi = bounds[codes], bounds[codes + 1]
        length = hi - lo
        idx = np.repeat(lo, length) + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
        return idx[free[idx]]

    next_id = 0
    cand = np.flatnonzero(free)
    avail = cand
    while len(cand):
        pos, dist = nearest(key[avail], slot1[cand], tol)
        ok = pos >= 0
        renewal = np.where(ok, avail[np.maximum(pos, 0)], -1)
        # a charge >= annual_min_amount followed a month later by a smaller-than-annual charge is an annual payment
        big_then_small = (log.mode[cand] == AUTO) & (log.amount[cand] >= annual_min) & ok
        big_then_small[ok] &= log.amount[renewal[ok]] < annual_min
        if annual_like is not None:  # an annual price followed by a small charge: a proration, not a renewal; on the
            # second of the month's slot only under a sixth of it is (a billing system renews at the plan's own second,
            # a seat is added whenever the customer adds it: 442950's 450 = 10 x 45, then 495 at its second a month
            # later, also 1 x 540 a year x 11/12 of it, is a renewal; 720 then 90 is a seat added, on the second or not)
            on_slot = _on_its_second(log, cand, np.maximum(renewal, 0))
            prorates = np.where(on_slot, annual_proration_of(log, cand, renewal, ()),
                                annual_proration_of(log, cand, renewal, annual_prices))
            big_then_small |= annual_like[cand] & (log.mode[cand] == AUTO) & ok & prorates
        ok &= ~big_then_small
        cand, renewal, dist = cand[ok], renewal[ok], dist[ok]
        if not len(cand):
            break
        # per customer: the earliest candidate names the first renewal; the candidate hitting it closest anchors
        first = group_starts(log.cust[cand])
        group = np.cumsum(first) - 1
        contested = renewal == renewal[first][group]
        c2, r2, d2, g2 = cand[contested], renewal[contested], dist[contested], group[contested]
        # ... one whose slot the renewal hits to the second (a billing system renews at the plan's time: 827887's 75,
        # then an upgrade to 150 67 s later, renewed at the 75's second), else the one whose amount is closest to the
        # renewal's (a year of 303.05 and a month of 1475 paid 24 s apart, renewed by 1534 34 s off the year's slot and
        # 58 s off the month's: the month anchors), then the closest in time
        off = ~_on_its_second(log, c2, r2)
        apart = np.abs(np.log(np.maximum(log.amount[c2], 0.01) / np.maximum(log.amount[r2], 0.01)))
        # (amount decides only between charges within NEAR_NS of the closest in time, one checkout: 18 at 10:00, then
        # 161.89 for nine seats at 10:30, renewed by 180 at 10:03, is the 10:00 plan's)
        by_time = np.lexsort((log.t[c2], d2, g2))
        heads = by_time[group_starts(g2[by_time])]  # per group, the candidate closest in time
        closest_t = np.zeros(int(g2.max()) + 1 if len(g2) else 0, dtype=np.int64)
        closest_t[g2[heads]] = log.t[c2[heads]]
        far = np.abs(log.t[c2] - closest_t[g2]) > NEAR_NS
        pick = np.lexsort((log.t[c2], d2, np.where(far, np.inf, np.round(apart, 6)), far, off, g2))
        pick = pick[group_starts(g2[pick])]
        anchors, firsts = c2[pick], r2[pick]
        ids = next_id + np.arange(len(anchors))
        next_id += len(anchors)
        series[anchors], slot_of[anchors], free[anchors] = ids, 0, False
        series[firsts], slot_of[firsts], free[firsts] = ids, 1, False
        prev = add_months(log.t[anchors], 1)  # per new series: the slot its latest renewal hit
        slot_at[anchors], slot_at[firsts] = log.t[anchors], prev
        # later slots: a member just claimed is >= 28 days from any later slot, so `avail` needs no refresh
        avail = free_of(log.cust[anchors])
        live, k = np.arange(len(anchors)), 1
        latest = firsts.copy()  # per new series: its latest member
        priced = _SameAmount(log, avail)
        while len(live):
            k += 1
            cust = log.cust[anchors[live]]
            slot = add_months(log.t[anchors[live]], k)
            pos, dist = nearest(key[avail], keys(cust, slot), tol)
            drift = add_months(prev[live], 1)  # differs from `slot` only for anchors on the 29th-31st
            other = np.flatnonzero(drift != slot)
            if len(other):
                pos_d, dist_d = nearest(key[avail], keys(cust[other], drift[other]), tol)
                closer = (pos_d >= 0) & ((pos[other] < 0) | (dist_d < dist[other]))
                pos[other[closer]], slot[other[closer]] = pos_d[closer], drift[other[closer]]
            # a charge of the series' own amount within the tolerance renews it rather than a closer one of another
            # amount (an annual plan beside it renewing the same minute)
            differ = np.flatnonzero(pos >= 0)
            differ = differ[~same_amount(log.amount[avail[pos[differ]]], log.amount[latest[live[differ]]])]
            if len(differ):
                same = priced.nearest(cust[differ], log.amount[latest[live[differ]]], slot[differ], tol)
                pos[differ[same >= 0]] = same[same >= 0]
                # ... and with none, of the charges within NEAR_NS of the closest (one checkout), the one closest in
                # amount to the last renewal, as for the first renewal (501894, generated seat11 seed 15: 59 a month
                # upgraded to 177 and a year of 957 bought beside it the same minute, renewed by 7018 42 s before the
                # month's slot and 177 100 s after it: the month takes the 177, the year its 7018)
                rest = differ[same < 0]
                if len(rest):
                    # (a closest charge whose amount its customer paid 12 months before, free of any series, is an
                    # annual plan renewing: no month of this one)
                    closest = avail[pos[rest]]
                    a_year = priced.nearest(cust[rest], log.amount[closest], add_months(log.t[closest], -12), tol) >= 0
                    pos[rest] = _closest_in_amount(log, avail, pos[rest], cust[rest], slot[rest],
                                                   log.amount[latest[live[rest]]], a_year)
            renewed = pos >= 0
            live, pos, slot = live[renewed], pos[renewed], slot[renewed]
            hit = avail[pos]
            series[hit], slot_of[hit], free[hit], slot_at[hit] = ids[live], k, False, slot
            prev[live] = slot
            latest[live] = hit
        cand = avail = free_of(log.cust[anchors])
    return series, slot_of, slot_at


CONTESTED_LOOKED_AT = 3  # charges on each side of the closest one that may contest a slot with it


def _closest_in_amount(log: Log, avail: np.ndarray, pos: np.ndarray, cust: np.ndarray, slot: np.ndarray,
                       rate: np.ndarray, a_year: np.ndarray) -> np.ndarray:
    """Per slot (`pos`: its closest charge's position in `avail`, sorted by customer and time): the position of the
    charge of the customer within the renewal tolerance of `slot` and within NEAR_NS of that closest one that comes to
    the slot's second (a billing system renews at the plan's own second: 708 on it, not 255.20 81 s before it, after
    348), else, when the closest one can be no month of the plan (at least annual_min_amount, or MIN_ANNUAL_MONTHS
    times `rate` or more, or a MIN_ANNUAL_MONTHS-th of it or less: 7018 after 59 a month; or `a_year`: a year renewing,
    900 a year to the second after 900, after 175 a month), the one whose amount is
    nearest `rate` (by ratio), the closest in time on a tie. A renewal at another plausible price keeps the slot: 42.50
    six minutes after the slot of a plan of 21.25, then a seat at 21.24 seven minutes later (the seat's charge would
    take the month and leave the 42.50 a proration of a few minutes at 30 times its price: a review of item 70)."""

    def rank(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dist = np.abs(log.t[c] - slot)
        apart = np.round(np.abs(np.log(np.maximum(log.amount[c], 0.01) / np.maximum(rate, 0.01))), 6)
        return dist >= SECOND_NS, apart, dist

    best = pos.copy()
    b_off, b_apart, b_dist = rank(avail[pos])
    closest = log.amount[avail[pos]]
    no_month = (closest >= log.annual_min) | (closest >= MIN_ANNUAL_MONTHS * rate) | \
        (closest * MIN_ANNUAL_MONTHS <= rate) | a_year
    for offset in (*range(-CONTESTED_LOOKED_AT, 0), *range(1, CONTESTED_LOOKED_AT + 1)):
        q = pos + offset
        inside = (q >= 0) & (q < len(avail))
        c = avail[np.clip(q, 0, len(avail) - 1)]
        off, apart, dist = rank(c)
        ok = inside & (log.cust[c] == cust) & (dist <= log.tol_ns) & (np.abs(log.t[c] - log.t[avail[pos]]) <= NEAR_NS)
        better = ok & ((off < b_off) | ((off == b_off) & no_month & (
            (apart < b_apart) | ((apart == b_apart) & (dist < b_dist)))))
        best = np.where(better, q, best)
        b_off, b_apart, b_dist = np.where(better, off, b_off), np.where(better, apart, b_apart), \
            np.where(better, dist, b_dist)
    return best


def _on_its_second(log: Log, anchor: np.ndarray, renewal: np.ndarray) -> np.ndarray:
    """Per pair: does `renewal` come to the second of `anchor` + 1 calendar month (as a billing system renews a plan)?"""
    return np.abs(log.t[renewal] - add_months(log.t[anchor], 1)) < SECOND_NS


class _SameAmount:
    """Searches among some charges (`avail`, indices into the log) for one of a given customer and amount (to the
    cent) nearest to an instant."""

    def __init__(self, log: Log, avail: np.ndarray) -> None:
        self.log, self.avail = log, avail
        # (customer, cents) as one int64 (customer code x distinct amounts + amount's code): hashed as integers,
        # never as a MultiIndex of tuples
        cents = np.rint(log.amount[avail] * 100).astype(np.int64)
        self.amounts = pd.Index(pd.unique(cents))
        pair = log.cust[avail].astype(np.int64) * len(self.amounts) + self.amounts.get_indexer(cents)
        codes = pd.factorize(pair)[0].astype(np.int64)  # groups numbered by first appearance
        self.pairs, first = np.unique(pair, return_index=True)
        self.pair_code = codes[first]
        self.order = np.lexsort((log.t[avail], codes))
        self.sorted_keys = log.keys(codes[self.order], log.t[avail][self.order])

    def nearest(self, cust: np.ndarray, amount: np.ndarray, at: np.ndarray, tol: int) -> np.ndarray:
        """Position in `avail` of the charge of that customer and amount nearest to `at` within `tol` (-1: none)."""
        amount_code = self.amounts.get_indexer(np.rint(amount * 100).astype(np.int64))
        pair = np.asarray(cust, dtype=np.int64) * len(self.amounts) + amount_code
        where = np.minimum(np.searchsorted(self.pairs, pair), max(len(self.pairs) - 1, 0))
        known = (amount_code >= 0) & (self.pairs[where] == pair) if len(self.pairs) else np.zeros(len(pair), dtype=bool)
        out = np.full(len(cust), -1, dtype=np.int64)
        if not known.any():
            return out
        code = self.pair_code[where[known]]
        pos, _ = nearest(self.sorted_keys, self.log.keys(code, at[known]), tol)
        out[known] = np.where(pos >= 0, self.order[np.maximum(pos, 0)], -1)
        return out


def annual_proration_of(log: Log, anchor: np.ndarray, charge: np.ndarray, annual_prices: tuple[Price, ...]
                        ) -> np.ndarray:
    """Per pair: is `charge` (after `anchor`, within its year) a proration of an annual term opened by `anchor`:
    under a sixth of it, or seats x one of `annual_prices` x the share of the anchor's year left? The same amount
    again is a renewal, never a proration (that is 11/12 of the price a month in)."""
    a, c = anchor, np.maximum(charge, 0)
    ok = (charge >= 0) & ~same_amount(log.amount[c], log.amount[a])
    small = log.amount[c] * MIN_ANNUAL_MONTHS < log.amount[a]
    if annual_prices:
        year_end = add_months(log.t[a], 12)
        share = (year_end - log.t[c]) / np.maximum(year_end - log.t[a], 1)
        small |= (share > 0) & (proration_fit(annual_prices, log.amount[c] / np.maximum(share, 1e-9)) > 0)
    return ok & small


def _weak(log: Log, series: np.ndarray, slot_of: np.ndarray, slot_at: np.ndarray, extra_hosts: np.ndarray) -> np.ndarray:
    """Step 3, per series: read it as prorations instead?

    True for a series with a single renewal of a different amount (that is no month of the plan on the second of
    its slot: item 74), both charges below annual_min_amount, lying inside a running series with two renewals or
    more, or inside the year of an annual-sized single charge (>= annual_min_amount, or one of `extra_hosts`:
    single charges the price book reads as annual), that started by the pair's anchor, or at most the renewal
    tolerance after it when the pair's renewal comes after that host's first slot (docs/billing.md item 58).
    """
    keys, annual_min = log.keys, log.annual_min
    n_series = int(series.max()) + 1 if len(series) and series.max() >= 0 else 0
    if n_series == 0:
        return np.zeros(0, dtype=bool)
    inside_any = series >= 0
    members = np.bincount(series[inside_any], minlength=n_series)
    small = np.ones(n_series, dtype=bool)
    np.logical_and.at(small, series[inside_any], log.amount[inside_any] < annual_min)
    anchor_of = np.zeros(n_series, dtype=np.int64)
    last_of = np.zeros(n_series, dtype=np.int64)
    anchor_of[series[slot_of == 0]] = np.flatnonzero(slot_of == 0)
    np.maximum.at(last_of, series[inside_any], np.flatnonzero(inside_any))
    # the same amount a month later, to the cent, is a renewal: prorations differ as the share of the term left shrinks
    candidate = (members == 2) & small & (log.mode[anchor_of] == AUTO)
    candidate &= ~same_amount(log.amount[anchor_of], log.amount[last_of])
    # ... and so, mostly, is a charge to the second of the slot it hit (a billing system renews at the plan's own
    # second, a seat is added whenever the customer adds it: item 74), at a price a month of the same plan can have (a
    # switch to annual billed on the renewal's second is settle_series' to read), unless the anchor too is on the
    # second of a slot of the plan it falls in (charges added up and billed on that plan's own monthly slots)
    if not candidate.any():
        return candidate
    ratio = log.amount[last_of] / np.maximum(log.amount[anchor_of], 0.01)
    on_second = (np.abs(log.t[last_of] - slot_at[last_of]) < SECOND_NS) & (ratio < MIN_ANNUAL_MONTHS) \
        & (ratio * MIN_ANNUAL_MONTHS > 1)
    # strong hosts: series with >= 2 renewals (anchor to last renewal's next slot), annual-sized single charges' years
    strong = np.flatnonzero(members >= 3)
    big = np.flatnonzero((series < 0) & ((log.amount >= annual_min) | extra_hosts) & (log.mode == AUTO))
    # (a host runs to the slot after its last renewal, the drift's on a series that renews on it: only an anchor on
    # the 29th-31st can drift)
    due = np.zeros(n_series, dtype=np.int64)
    due[strong] = add_months(log.t[anchor_of[strong]], slot_of[last_of[strong]] + 1)
    late = np.zeros(n_series, dtype=bool)
    late[strong] = _may_drift(log.t[anchor_of[strong]])
    m = np.flatnonzero((series >= 0) & late[np.maximum(series, 0)])
    if len(m):
        m = m[np.lexsort((slot_of[m], series[m]))]
        m_last = np.r_[series[m][1:] != series[m][:-1], True]
        nxt = _next_slots(log, series[m], slot_of[m], log.t[m], slot_at[m], log.t[anchor_of[series[m]]])
        due[series[m][m_last]] = nxt[m_last]
    starts = np.r_[keys(log.cust[anchor_of[strong]], log.t[anchor_of[strong]]), keys(log.cust[big], log.t[big])]
    ends = np.r_[keys(log.cust[anchor_of[strong]], due[strong]),
                 keys(log.cust[big], add_months(log.t[big], 12))]
    if len(starts) == 0:
        return np.zeros(n_series, dtype=bool)
    order = np.argsort(starts, kind="stable")
    s, reach = starts[order], np.maximum.accumulate(ends[order])
    host_t = np.r_[log.t[anchor_of[strong]], log.t[big]][order]
    r = keys(log.cust[last_of], log.t[last_of])
    pos = np.searchsorted(s, keys(log.cust[anchor_of], log.t[anchor_of]), side="right") - 1
    inside = (pos >= 0) & (reach[np.maximum(pos, 0)] > r)
    # ... or one that starts up to the renewal tolerance after the pair's anchor, when the pair's renewal comes after
    # that host's own first slot (649 at 12:35, 192.85 a month from 12:36 renewed at 12:39, then 27.54 at 12:45: a seat
    # added to the month; not 10 at 11:59 renewed at 12 at 11:50, before a 50 plan's 12:00: a small plan of its own)
    late = np.searchsorted(s, keys(log.cust[anchor_of], log.t[anchor_of] + log.tol_ns), side="right") - 1
    at = np.maximum(late, 0)
    after = (late > pos) & (reach[at] > r) & (log.t[last_of] > add_months(host_t[at], 1))
    host = np.where(inside, np.maximum(pos, 0), at)  # (the latest host to start by the anchor, for the slot check)
    renews = on_second & ~_on_a_slot_of(log.t[anchor_of], host_t[host])
    return candidate & (inside | after) & ~renews


def _on_a_slot_of(t: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Is each instant, to the second, `start` + k calendar months for a whole k >= 1?"""
    k = np.rint((t - start) / MONTH_NS).astype(np.int64)
    hit = np.zeros(len(t), dtype=bool)
    for d in (-1, 0, 1):  # (a month is 28 to 31 days: the nearest whole k, or one either side)
        months = np.maximum(k + d, 1)
        hit |= (k + d >= 1) & (np.abs(add_months(start, months) - t) < SECOND_NS)
    return hit


def _renumber(series: np.ndarray) -> np.ndarray:
    """Series numbers 0..n-1 with no holes (after dissolving some)."""
    kept = series >= 0
    out = np.full(len(series), -1, dtype=np.int64)
    if kept.any():  # each number's rank among those left (np.unique's inverse, without its sort)
        numbers = series[kept]
        present = np.zeros(int(numbers.max()) + 1, dtype=bool)
        present[numbers] = True
        out[kept] = (np.cumsum(present) - 1)[numbers]
    return out


def _next_slots(log: Log, ms: np.ndarray, mk: np.ndarray, t: np.ndarray, slot_hit: np.ndarray,
                anchor_t: np.ndarray) -> np.ndarray:
    """Per member of a series (arrays sorted by series, then k): the slot after it. The anchor + (k + 1) months, or,
    on a series that counts from the previous charge (month-end drift: the previous slot + 1 month, day clamped), that
    slot + 1 month: 2016-04-29 after 2016-01-31, 02-29 and 03-29 (metrics.md 2b "Month-end drift").
    Only a renewal whose two slots differ says which a series does (one on 2016-02-29 after 01-31 fits both; then
    the renewal before it decides), and only where the anchor's slot could not have taken it within the tolerance."""
    nxt = add_months(anchor_t, mk + 1)
    # only an anchor on the 29th-31st can drift: the other series (most) look no further
    late = _may_drift(anchor_t)
    if not late.any():
        return nxt
    ms, mk, t, slot_hit, anchor_t = ms[late], mk[late], t[late], slot_hit[late], anchor_t[late]
    anchor_slot = add_months(anchor_t, mk)
    first = np.r_[True, ms[1:] != ms[:-1]]
    prev_hit = np.r_[0, slot_hit[:-1]]
    tells = ~first & (add_months(prev_hit, 1) != anchor_slot)
    drift_now = (slot_hit < anchor_slot) & (np.abs(t - anchor_slot) > log.tol_ns)
    # each member takes the verdict of the latest renewal that tells, its series' first member none (forward fill)
    said = np.where(tells | first, np.arange(len(ms)), 0)
    drifted = (drift_now & tells)[np.maximum.accumulate(said)]
    nxt[late] = np.where(drifted, add_months(slot_hit, 1), nxt[late])
    return nxt


def _may_drift(anchor_t: np.ndarray) -> np.ndarray:
    """Per anchor (int64 ns): is it on the 29th-31st (UTC), the only days whose series can renew on a drift slot?"""
    t = np.asarray(anchor_t, dtype="datetime64[ns]")
    return (t.astype("datetime64[D]") - t.astype("datetime64[M]")).astype(np.int64) >= 28


def _assemble(log: Log, number: np.ndarray, slot: np.ndarray, slot_at: np.ndarray, dissolved: np.ndarray) -> Series:
    """The members table, each member's piece end and the series spans."""
    is_member = number >= 0
    members = pd.DataFrame({"i": np.flatnonzero(is_member), "series": number[is_member], "k": slot[is_member],
                            "t": log.t[is_member], "slot": slot_at[is_member]}).sort_values(["series", "k"],
                                                                                           kind="stable")
    mi = members["i"].to_numpy()
    ms = members["series"].to_numpy()
    mk = members["k"].to_numpy()
    last = np.r_[ms[1:] != ms[:-1], True] if len(ms) else np.zeros(0, dtype=bool)
    anchor_i = np.zeros(int(ms.max()) + 1 if len(ms) else 0, dtype=np.int64)
    anchor_i[ms[mk == 0]] = mi[mk == 0]
    # the slot after each member: the anchor's, or the drift's on a series that renews on it (_next_slots)
    next_slot = _next_slots(log, ms, mk, log.t[mi], members["slot"].to_numpy(), log.t[anchor_i[ms]])
    piece_end = np.where(last, renewal_window_end(next_slot, log.as_of, log.tol_ns), np.r_[log.t[mi][1:], 0])
    n_series = len(anchor_i)
    series_end = np.zeros(n_series, dtype=np.int64)
    series_end[ms[last]] = piece_end[last]
    due = np.zeros(n_series, dtype=np.int64)
    due[ms[last]] = next_slot[last]
    spans = Spans(cust=log.cust[anchor_i], start=log.t[anchor_i], end=series_end, series=np.arange(n_series),
                  charge=anchor_i, annual=np.zeros(n_series, dtype=bool))
    return Series(number=number, slot=slot, slot_at=slot_at, dissolved=dissolved, members=members,
                  piece_end=piece_end, last=last, spans=spans, due=due)
