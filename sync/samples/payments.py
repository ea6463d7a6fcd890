"""A deterministic, realistic payment log that knows the revenue schedule behind its charges.

`generate_with_truth(customers, seed, start=, end=, scheme=)` returns a `SampleLog`:

    invoices   one row per charge, shuffled like the real log: customerId int, amountPaid float,
               timestampPaid int (epoch seconds), every timestamp within [start, end]
    customers  one row per customer, shuffled: customerId int, nrSessions int, nrSeats Int64 (today's
               billed seats, null for ~15%; no nrSeats column at all for the "noseats" scheme)
    truth      the true revenue schedule (kpi.schedule.SCHEDULE_COLUMNS), one row per piece:
               customer_id str, start / end datetime64[ns, UTC] (end exclusive), mrr float (monthly
               rate), source ("monthly", "annual", "seats added", "upgrade"), ref (the plan, below)
    plans      one row per subscription (PLAN_COLUMNS): customer_id, ref ("<customer>:<interval>-<seat|
               flat>-<n>", n counting the customer's plans by start), interval, product, list_price,
               discount, seats (at its start), start, periods (charges of it in the window), origin
               (first / side / add-on / reactivation / switch), ended (churn / switch to annual / trial
               only / running)
    truth_seats the seats each truth row holds (int array aligned with truth: a paid period of a per-seat
               plan, its seat count; a seat addition, the seats added; flat plans and upgrades, 0): a
               plan's seats at an instant are the sum over its rows running then

`generate(...)` returns just (invoices, customers), the shared data's field names, as before;
`write_sample(out_dir, ..., scheme=, truth=)` writes invoices.json and customers.json (NDJSON) and,
with truth=True, truth.csv (TRUTH_CSV_COLUMNS, instants as ISO 8601 UTC, read back by `read_truth`).

The log imitates a Stripe-like billing system and what shared/data/payments-log shows; nothing in it
is tuned to an inference rule. Pricing schemes (`SCHEMES`, chosen by name):

- "seat10" (default; the shared log's price list): 18 per seat a month, discount tiers 0.9 / 0.8 /
  0.7 (16.20, 14.40, 12.60); annual = 10 months' price per seat, from one seat (180, 360, 540 ...);
  flat plans of 75 / 150 / 250 a month (upgrades along that chain) whose annual price is 12x.
- "seat12" (another company): Standard 25 and Pro 45 per seat a month (upgrade Standard -> Pro),
  discount tiers 0.85 / 0.75, annual = 12 months' price; flat Team 99 / Business 199, annual 12x.
- "noseats": "seat10" with no seat column in the customers file (inference must use amounts alone).
- "seat11" (held out: added after the inference's rules were written, and measured before any rule looked at it):
  three per-seat tiers Basic 12, Plus 29 and Enterprise 59 a month (upgrades along that chain), discount tiers
  0.95 / 0.9 / 0.8, annual = 11 months' price per seat (132, 319, 649 for one seat); flat Starter 49 and Studio 149
  a month whose annual price is 10x (490, 1490); more annual plans than the others.

What the billing system does (all of it from one numpy Generator: same arguments -> same bytes):
- a plan renews at its anchor's time of day, ~88% to the second, the rest minutes early or late;
  months are counted from the previous slot, so anchors on the 29th-31st drift (10-31, 11-30,
  12-30, 01-30, 02-28, 03-28 ...), as on the shared log;
- a seat added mid-period is charged at once: seat price x the share of the period left (one charge
  per seat, minutes apart, for up to 4 seats; 10% of additions minutes after the purchase); a tier or
  flat-plan upgrade mid-period is charged the price difference x the share left, or takes effect at a
  renewal; seats removed take effect at the next renewal;
- monthly plans churn with a per-customer hazard (and 15% right after the first month); annual plans
  renew with probability 0.75; a monthly plan may switch to annual mid-cycle (the annual price is
  charged in full that day, as 68136 on the shared log: 75 a month, then 900); some customers run an
  annual plan beside a monthly one, some buy an annual add-on a minute after their annual plan,
  some come back months after churning (a new plan, a new anchor);
- zero charges: trial months billed at 0 before the first paid month (some never convert), a 100%
  coupon in place of a renewal, stray zeros; a few refunds (negative, hours to days later).

The truth, by construction from the same arrays: a period's piece runs from its charge to the next
renewal (or, for the last paid period, to the next slot: churn there; or to the switch charge) at
rate = amount (monthly) or amount / 12 (annual); a seat or upgrade bought mid-period adds its
monthly-equivalent price (monthly price, or annual price / 12, after the customer's discount) from
the moment it was bought to that period's end; free periods have no piece; refunds change nothing.
Pieces of charges in the window are kept whole, even when they end after `end`.

Everything is vectorized over plans, periods and charges: a million charges take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from kpi.billing import add_months as billing_add_months
from kpi.schedule import SCHEDULE_COLUMNS
from sync.errors import ConfigError

DEFAULT_START = "2016-01-01"
DEFAULT_END = "2017-12-31 23:59:59"
DEFAULT_SCHEME = "seat10"

DAY = 86_400
HOUR = 3_600

TRUTH_CSV_COLUMNS = SCHEDULE_COLUMNS
PLAN_COLUMNS: tuple[str, ...] = (
    "customer_id", "ref", "interval", "product", "list_price", "discount", "seats", "start", "periods", "origin",
    "ended",
)
ORIGINS = ("first", "side", "add-on", "reactivation", "switch")
ENDINGS = ("running", "churn", "switch to annual", "trial only")


@dataclass(frozen=True)
class Scheme:
    """A company's price list and customer mix.

    Products are per-seat tiers then flat plans; `upgrade_to[p]` is the product an upgrade of p moves
    to (-1: none). Prices are monthly list prices; an annual plan costs `annual_months[p]` of them.
    `mix` gives the shares of customers' first plans: monthly per-seat, annual per-seat, monthly flat,
    annual flat, annual per-seat with a monthly plan beside it.
    """

    name: str
    products: tuple[str, ...]
    prices: tuple[float, ...]
    per_seat: tuple[bool, ...]
    annual_months: tuple[int, ...]
    upgrade_to: tuple[int, ...]
    seat_shares: tuple[float, ...]  # first plans on a per-seat product: which product
    flat_shares: tuple[float, ...]  # first plans on a flat product: which product
    discounts: tuple[float, ...]  # per-seat price multipliers
    discount_shares: tuple[float, ...]
    mix: tuple[float, float, float, float, float]
    seats_column: bool = True


SEAT10 = Scheme(
    name="seat10",
    products=("seat 18", "flat 75", "flat 150", "flat 250"),
    prices=(18.0, 75.0, 150.0, 250.0),
    per_seat=(True, False, False, False),
    annual_months=(10, 12, 12, 12),
    upgrade_to=(-1, 2, 3, -1),
    seat_shares=(1.0,),
    flat_shares=(0.45, 0.40, 0.15),
    discounts=(1.0, 0.9, 0.8, 0.7),
    discount_shares=(0.80, 0.05, 0.06, 0.09),
    mix=(0.73, 0.16, 0.07, 0.01, 0.03),
)
SEAT12 = Scheme(
    name="seat12",
    products=("seat 25 (Standard)", "seat 45 (Pro)", "flat 99 (Team)", "flat 199 (Business)"),
    prices=(25.0, 45.0, 99.0, 199.0),
    per_seat=(True, True, False, False),
    annual_months=(12, 12, 12, 12),
    upgrade_to=(1, -1, 3, -1),
    seat_shares=(0.7, 0.3),
    flat_shares=(0.6, 0.4),
    discounts=(1.0, 0.85, 0.75),
    discount_shares=(0.80, 0.12, 0.08),
    mix=(0.60, 0.25, 0.08, 0.03, 0.04),
)
SEAT11 = Scheme(
    name="seat11",
    products=("seat 12 (Basic)", "seat 29 (Plus)", "seat 59 (Enterprise)", "flat 49 (Starter)", "flat 149 (Studio)"),
    prices=(12.0, 29.0, 59.0, 49.0, 149.0),
    per_seat=(True, True, True, False, False),
    annual_months=(11, 11, 11, 10, 10),
    upgrade_to=(1, 2, -1, 4, -1),
    seat_shares=(0.5, 0.35, 0.15),
    flat_shares=(0.7, 0.3),
    discounts=(1.0, 0.95, 0.9, 0.8),
    discount_shares=(0.75, 0.10, 0.10, 0.05),
    mix=(0.52, 0.30, 0.09, 0.05, 0.04),
)
SCHEMES: dict[str, Scheme] = {
    "seat10": SEAT10,
    "seat12": SEAT12,
    "noseats": replace(SEAT10, name="noseats", seats_column=False),
    "seat11": SEAT11,
}

# plan behaviour (modeled on the shared log where it shows it; industry-typical where it cannot)
EARLY_CHURN = 0.12  # monthly plans that stop after their first paid month
ANNUAL_RENEWAL = 0.75
SWITCH_HAZARD = 0.006  # per month, a monthly plan switches to annual
UPGRADE_HAZARD_MONTHLY = 0.015
UPGRADE_PER_ANNUAL_TERM = 0.08
TRIAL_SHARE, TRIAL_CONVERSION = 0.02, 0.7
COUPON_SHARE = 0.004  # renewals replaced by a 100% coupon
REACTIVATION_SHARE = 0.15
ADDON_SHARE = 0.05  # annual per-seat plans with an annual flat add-on a minute later
REFUND_SHARE = 0.002
MAX_ADDS_PER_YEAR = 50.0  # the shared log's busiest account (472419) adds seats ~50 times in 7 months
NULL_SEATS_SHARE = 0.15


def _seconds(value: str | pd.Timestamp) -> int:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.timestamp())


def add_months(seconds: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Epoch seconds + whole calendar months, the day clamped to the month's last day, same time of day.

    The calendar rule is the billing inference's own (kpi.billing.add_months).
    """
    ns = np.asarray(seconds, dtype=np.int64) * 1_000_000_000
    return billing_add_months(ns, np.asarray(months, dtype=np.int64)) // 1_000_000_000


def _calendar(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(months since 1970-01, day of the month 1-31, seconds into the day) of epoch seconds."""
    day = np.asarray(seconds, dtype=np.int64) // DAY
    d = day.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64) + 1
    return month.astype(np.int64), dom, np.asarray(seconds, dtype=np.int64) - day * DAY


def _month_length(month: np.ndarray) -> np.ndarray:
    m = np.asarray(month, dtype=np.int64).astype("datetime64[M]")
    return ((m + 1).astype("datetime64[D]") - m.astype("datetime64[D]")).astype(np.int64)


def _instant(month: np.ndarray, dom: np.ndarray, tod: np.ndarray) -> np.ndarray:
    first = np.asarray(month, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return (first + dom - 1) * DAY + tod


def _slots_until(anchor: np.ndarray, step: np.ndarray, end: int) -> np.ndarray:
    """How many slots anchor + k*step months (k = 0, 1, ...) fall at or before `end` (no drift)."""
    month_of = (anchor // DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    end_month = np.datetime64(end // DAY, "D").astype("datetime64[M]").astype(np.int64)
    k = np.maximum(end_month - month_of, 0) // step
    return np.where(add_months(anchor, k * step) <= end, k + 1, k)


def _segment_cumsum(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each segment (segments laid end to end, given by start and length)."""
    total = np.cumsum(values)
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    return total - np.repeat(before, lengths)


def _segment_cummin(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Running minimum restarting at each segment (small non-negative ints, segments sorted ascending)."""
    offset = (int(segment.max()) + 1 - segment) * 1000 if len(segment) else segment
    return np.minimum.accumulate(values + offset) - offset


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day: spread over the day with a European-afternoon peak in UTC, a few on the hour."""
    hours = np.mod(rng.normal(14.0, 4.5, n), 24.0)
    seconds = (hours * HOUR).astype(np.int64)
    on_the_hour = rng.random(n) < 0.03
    return np.where(on_the_hour, seconds // HOUR * HOUR, seconds)


def _initial_seats(rng: np.random.Generator, annual: np.ndarray) -> np.ndarray:
    """Seats at purchase, mostly 1-5 with a long tail.

    Monthly: 35% solo, teams of mostly 2-8. Annual: 45% solo, 17% duos, the rest 3 seats or more,
    up to teams of dozens (the shared log's first annual charges: mostly 180 and 360, then a tail).
    """
    n = len(annual)
    draw = rng.random(n)
    monthly = np.where(draw < 0.35, 1.0, np.ceil(np.exp(rng.normal(1.2, 0.9, n))))
    team = np.maximum(np.ceil(np.exp(rng.normal(1.7, 1.1, n))), 3.0)
    yearly = np.where(draw < 0.45, 1.0, np.where(draw < 0.62, 2.0, team))
    return np.minimum(np.where(annual, yearly, monthly), 400).astype(np.int64)


# ----------------------------------------------------------------------------- plans


@dataclass
class _Plans:
    """One entry per subscription (arrays of equal length)."""

    customer: np.ndarray
    annual: np.ndarray
    anchor: np.ndarray
    product: np.ndarray
    discount: np.ndarray
    seats: np.ndarray
    life: np.ndarray  # periods it would run, free ones included, if the window never ended
    trial: np.ndarray  # leading free periods
    switch_k: np.ndarray  # period in which it switches to annual (-1: never)
    switch_frac: np.ndarray
    up_k: np.ndarray  # period of its upgrade (-1: none)
    up_mid: np.ndarray  # the upgrade is bought mid-period (else it takes effect at that renewal)
    adds_per_year: np.ndarray
    remove_prob: np.ndarray
    origin: np.ndarray

    def __len__(self) -> int:
        return len(self.customer)

    def take(self, mask: np.ndarray) -> _Plans:
        return _Plans(**{k: v[mask] for k, v in vars(self).items()})

    @staticmethod
    def concat(*parts: _Plans) -> _Plans:
        return _Plans(**{k: np.concatenate([vars(p)[k] for p in parts]) for k in vars(parts[0])})


def _new_plans(rng: np.random.Generator, scheme: Scheme, customer: np.ndarray, annual: np.ndarray,
               product: np.ndarray, anchor: np.ndarray, origin: int, seats: np.ndarray | None = None,
               discount: np.ndarray | None = None, trials: bool = False) -> _Plans:
    """Draw a plan per entry: seats, discount, length, trial, switch, upgrade, seat-change rates."""
    n = len(customer)
    per_seat = np.asarray(scheme.per_seat)[product]
    if discount is None:
        discount = rng.choice(np.asarray(scheme.discounts), size=n, p=np.asarray(scheme.discount_shares))
    discount = np.where(per_seat, discount, 1.0)
    if seats is None:
        seats = _initial_seats(rng, annual)
    seats = np.where(per_seat, seats, 1)
    # length in periods: a monthly churn hazard per customer, some stop after the first month
    hazard = rng.beta(1.2, 30.0, n)
    early = rng.random(n) < np.where(per_seat & (seats == 1), 2.0, 0.5) * EARLY_CHURN  # solo buyers try and leave more often
    monthly_life = np.where(early, 1, rng.geometric(np.clip(hazard, 1e-3, 1.0)))
    life = np.where(annual, rng.geometric(1.0 - ANNUAL_RENEWAL, n), monthly_life)
    trial = np.where(trials & ~annual & (rng.random(n) < TRIAL_SHARE), rng.choice([1, 2, 3], n, p=[0.5, 0.2, 0.3]), 0)
    converts = rng.random(n) < TRIAL_CONVERSION
    life = np.where(trial > 0, trial + np.where(converts, life, 0), life)
    # a monthly plan may switch to annual mid-cycle (not during a trial)
    switch_k = rng.geometric(SWITCH_HAZARD, n) - 1
    switch_k = np.where(~annual & (switch_k < life) & (switch_k >= trial), switch_k, -1)
    # one upgrade along the product's chain, where there is one: a monthly hazard, or a chance per annual term
    can_upgrade = np.asarray(scheme.upgrade_to)[product] >= 0
    up_k = np.where(annual, rng.geometric(UPGRADE_PER_ANNUAL_TERM, n), rng.geometric(UPGRADE_HAZARD_MONTHLY, n)) - 1
    end_k = np.where(switch_k >= 0, switch_k + 1, life)
    up_k = np.where(can_upgrade & (up_k >= trial) & (up_k < end_k), up_k, -1)
    up_mid = annual | (up_k == trial) | (rng.random(n) < 0.5)
    # seat additions per year (a few customers add seats all the time) and removal chance per renewal
    adds = np.where(annual, np.exp(rng.normal(-1.2, 1.5, n)), np.exp(rng.normal(-0.6, 1.3, n)))
    adds = np.where(per_seat, adds, 0.0) * np.where(seats == 1, 0.4, 1.0)  # solo buyers seldom add colleagues
    adds = np.minimum(adds, MAX_ADDS_PER_YEAR)
    remove_prob = np.where(per_seat, np.where(annual, 0.15, 0.03), 0.0)
    return _Plans(
        customer=customer, annual=annual, anchor=anchor, product=product, discount=discount,
        seats=seats.astype(np.int64), life=life.astype(np.int64), trial=trial.astype(np.int64),
        switch_k=switch_k.astype(np.int64), switch_frac=rng.uniform(0.05, 0.95, n), up_k=up_k.astype(np.int64),
        up_mid=up_mid, adds_per_year=adds, remove_prob=remove_prob, origin=np.full(n, origin, np.int64),
    )


# ----------------------------------------------------------------------------- periods and charges


@dataclass
class _Expanded:
    """What a set of plans charged and earned."""

    charges: tuple[np.ndarray, np.ndarray, np.ndarray]  # customer, time, amount
    truth: tuple[np.ndarray, ...]  # customer, start, end, mrr, source code, plan index, seats
    # per plan
    periods_in_window: np.ndarray
    stop: np.ndarray  # when it stopped (next slot after its last period, or its switch), if it did
    ended: np.ndarray  # index into ENDINGS
    seats_end: np.ndarray  # seats when it stopped (a plan that stops after the window: of the period it stops in) or at
    # the window end, with the seats added later in that period
    seats_known: np.ndarray  # what an export made at the window end holds: the seats of the period running then
    product_end: np.ndarray
    # per period (for refunds and stray zeros)
    period_customer: np.ndarray
    period_at: np.ndarray
    period_amount: np.ndarray


SOURCES = ("monthly", "annual", "seats added", "upgrade")


def _expand(rng: np.random.Generator, scheme: Scheme, plans: _Plans, t1: int) -> _Expanded:
    """Periods, renewals, prorations, upgrades and their truth pieces for `plans` (window end t1)."""
    prices = np.asarray(scheme.prices)
    per_seat_of = np.asarray(scheme.per_seat)
    months_of = np.asarray(scheme.annual_months)
    upgrade_to = np.asarray(scheme.upgrade_to)
    n_plans = len(plans)
    step = np.where(plans.annual, 12, 1)
    switched = plans.switch_k >= 0
    life = np.where(switched, plans.switch_k + 1, plans.life)
    # rows: every period up to the first slot after t1 (drift only moves slots earlier, by days)
    possible = _slots_until(plans.anchor, step, t1)
    rows_per = np.minimum(life, possible + 2)
    starts = np.cumsum(rows_per) - rows_per
    sid = np.repeat(np.arange(n_plans), rows_per)
    k = np.arange(len(sid)) - np.repeat(starts, rows_per)

    # slots, counted from the previous slot: the day is clamped by every month passed (month-end drift)
    m0, dom0, tod = _calendar(plans.anchor)
    month = m0[sid] + k * step[sid]
    length = _month_length(month)
    passed = _segment_cummin(np.where(k == 0, 99, length), sid)
    day = np.minimum(dom0[sid], passed)
    slot = _instant(month, day, tod[sid])
    next_month = month + step[sid]
    next_slot = _instant(next_month, np.minimum(day, _month_length(next_month)), tod[sid])
    # keep rows up to the first one starting after t1 (it only ends the one before)
    prev_slot = np.r_[0, slot[:-1]]
    keep = (k == 0) | (prev_slot <= t1)
    sid, k, slot, next_slot = sid[keep], k[keep], slot[keep], next_slot[keep]
    rows_per = np.bincount(sid, minlength=n_plans)
    starts = np.cumsum(rows_per) - rows_per
    rows = len(sid)
    last_row = k == rows_per[sid] - 1
    life_ends_here = last_row & (k == life[sid] - 1)

    # renewals at the anchor's time of day: most to the second, some minutes early or late
    offset = np.where(rng.random(rows) < 0.88, 0, np.minimum(rng.exponential(150.0, rows) + 1, 1800)).astype(np.int64)
    offset = np.where(rng.random(rows) < 0.3, -offset, offset)
    paid_at = np.where(k > 0, slot + offset, slot)
    next_paid = np.r_[paid_at[1:], 0]
    switch_at = paid_at + (plans.switch_frac[sid] * (next_slot - paid_at)).astype(np.int64)
    end = np.where(~last_row, next_paid,
                   np.where(life_ends_here & switched[sid], switch_at, next_slot))
    ended = np.where(switched, 2, np.where(plans.trial >= plans.life, 3, 1))
    stop_row = starts + rows_per - 1
    finished = life_ends_here[stop_row]
    stop = np.where(finished, end[stop_row], np.iinfo(np.int64).max)
    ended = np.where(finished & (stop <= t1), ended, 0)

    # product by period: one upgrade, mid-period (effective after it) or at a renewal
    has_up = plans.up_k >= 0
    up_row = has_up[sid] & (k == plans.up_k[sid])
    after_up = has_up[sid] & ((k > plans.up_k[sid]) | ((k == plans.up_k[sid]) & ~plans.up_mid[sid]))
    product = np.where(after_up, upgrade_to[plans.product[sid]], plans.product[sid])
    mid_up = up_row & plans.up_mid[sid]
    up_to = np.where(mid_up, upgrade_to[plans.product[sid]], product)
    annual = plans.annual[sid]
    per_seat = per_seat_of[product]
    coupon = (k > plans.trial[sid]) & ~annual & (rng.random(rows) < COUPON_SHARE) & ~(life_ends_here & switched[sid])
    free = (k < plans.trial[sid]) | coupon
    months_paid = np.where(annual, months_of[product], 1)
    unit = prices[product] * plans.discount[sid] * months_paid
    unit_up = prices[up_to] * plans.discount[sid] * np.where(annual, months_of[up_to], 1)
    per_month = np.where(annual, 12, 1)

    def share_left(at: np.ndarray, r: np.ndarray) -> np.ndarray:
        """The share of row r's billing period (slot to next slot) left at instant `at`: what a proration charges."""
        return np.clip((next_slot[r] - at) / (next_slot[r] - slot[r]), 0.0, 1.0)

    # seat additions: events inside paid periods, one charge per seat minutes apart (one for a big batch)
    n_events = rng.poisson(np.where(free, 0.0, plans.adds_per_year[sid] * step[sid] / 12.0))
    event_row = np.repeat(np.arange(rows), n_events)
    events = len(event_row)
    event_seats = rng.geometric(0.6, events)
    span = end[event_row] - paid_at[event_row]
    soon = rng.random(events) < 0.1
    frac = np.where(soon, rng.uniform(20, 1800, events) / np.maximum(span, 1), rng.uniform(0.02, 0.97, events))
    event_at = paid_at[event_row] + (frac * span).astype(np.int64)
    split = event_seats <= 4
    per_event = np.where(split, event_seats, 1)
    ev = np.repeat(np.arange(events), per_event)
    ev_starts = np.cumsum(per_event) - per_event
    first_of = np.arange(len(ev)) == np.repeat(ev_starts, per_event)
    gaps = np.where(first_of, 0, rng.exponential(90.0, len(ev)) + 5)
    seat_at = event_at[ev] + _segment_cumsum(gaps, ev_starts, per_event).astype(np.int64)
    seat_row = event_row[ev]
    seat_n = np.where(split[ev], 1, event_seats[ev])
    inside = seat_at < end[seat_row]
    seat_at, seat_row, seat_n = seat_at[inside], seat_row[inside], seat_n[inside]
    up_at = paid_at + (rng.uniform(0.05, 0.95, rows) * (end - paid_at)).astype(np.int64)
    after_mid_up = mid_up[seat_row] & (seat_at >= up_at[seat_row])
    seat_unit = np.where(after_mid_up, unit_up[seat_row], unit[seat_row])
    seat_amount = np.maximum(np.round(seat_unit * seat_n * share_left(seat_at, seat_row), 2), 0.01)
    added = np.bincount(seat_row, weights=seat_n, minlength=rows).astype(np.int64)

    # seats by period: additions count from the next period on, removals at a renewal
    removed = np.where((k > 0) & (rng.random(rows) < plans.remove_prob[sid]), rng.geometric(0.6, rows), 0)
    seats = np.maximum(plans.seats[sid] + _segment_cumsum(added - removed, starts, rows_per) - added, 1)
    seats = np.where(per_seat, seats, 1)
    amount = np.where(free, 0.0, np.round(unit * seats, 2))

    # a mid-period upgrade: the price difference for the seats held then, pro rata
    ur = np.flatnonzero(mid_up & ~free)
    before = np.zeros(rows, np.int64)
    early = mid_up[seat_row] & (seat_at < up_at[seat_row])
    np.add.at(before, seat_row[early], seat_n[early])
    up_seats = np.where(per_seat, seats + before, 1)[ur]
    up_amount = np.maximum(np.round((unit_up[ur] - unit[ur]) * up_seats * share_left(up_at[ur], ur), 2), 0.01)

    # truth pieces: periods, seats added, upgrades
    paid = ~free
    customer = plans.customer[sid]
    truth = (
        np.concatenate([customer[paid], customer[seat_row], customer[ur]]),
        np.concatenate([paid_at[paid], seat_at, up_at[ur]]),
        np.concatenate([end[paid], end[seat_row], end[ur]]),
        np.concatenate([amount[paid] / per_month[paid], seat_unit * seat_n / per_month[seat_row],
                        (unit_up[ur] - unit[ur]) * up_seats / per_month[ur]]),
        np.concatenate([np.where(annual[paid], 1, 0), np.full(len(seat_at), 2), np.full(len(ur), 3)]),
        np.concatenate([sid[paid], sid[seat_row], sid[ur]]),
        np.concatenate([np.where(per_seat, seats, 0)[paid], seat_n, np.zeros(len(ur), np.int64)]),
    )
    charges = (
        np.concatenate([customer, customer[seat_row], customer[ur]]),
        np.concatenate([paid_at, seat_at, up_at[ur]]),
        np.concatenate([amount, seat_amount, up_amount]),
    )
    in_window = paid_at <= t1
    periods_in_window = np.bincount(sid[in_window], minlength=n_plans)
    last_in_window = starts + np.maximum(periods_in_window - 1, 0)
    end_row = np.where(finished, stop_row, last_in_window)
    seats_end = np.where(per_seat_of[product[end_row]], seats[end_row] + added[end_row], 0)
    # what an export at t1 holds: the period running then (not the one after t1 a plan that ends later stops in),
    # with the seats added by t1
    by_t1 = seat_at <= t1
    added_by_t1 = np.bincount(seat_row[by_t1], weights=seat_n[by_t1], minlength=rows).astype(np.int64)
    known_row = np.where(finished & (stop <= t1), stop_row, last_in_window)
    seats_known = np.where(per_seat_of[product[known_row]], seats[known_row] + added_by_t1[known_row], 0)
    return _Expanded(
        charges=charges, truth=truth, periods_in_window=periods_in_window,
        stop=stop, ended=ended, seats_end=seats_end, seats_known=seats_known, product_end=up_to[end_row],
        period_customer=customer, period_at=paid_at, period_amount=amount,
    )


# ----------------------------------------------------------------------------- the log


@dataclass(frozen=True)
class SampleLog:
    """A generated payment log and the truth behind it (see the module docstring for the columns)."""

    invoices: pd.DataFrame
    customers: pd.DataFrame
    truth: pd.DataFrame
    plans: pd.DataFrame
    scheme: Scheme
    truth_seats: np.ndarray | None = None  # per truth row: the seats it holds (a paid period of a per-seat plan: its
    # seat count; a seat addition: the seats added; 0 for flat plans and upgrades): a plan's seats at an instant are
    # the sum over its pieces running then


def scheme_named(name: str) -> Scheme:
    """The pricing scheme called `name`; ConfigError naming the known ones otherwise."""
    try:
        return SCHEMES[name]
    except KeyError:
        raise ConfigError(f"scheme {name!r}: expected one of {', '.join(SCHEMES)}") from None


def generate_with_truth(customers: int = 300, seed: int = 7, start: str | pd.Timestamp = DEFAULT_START,
                        end: str | pd.Timestamp = DEFAULT_END, scheme: str = DEFAULT_SCHEME) -> SampleLog:
    """A payment log of `customers` customers signing up between `start` and `end` (UTC), with its truth.

    Returns a SampleLog (invoices, customers, truth, plans, scheme). Raises ConfigError on a
    non-positive count, a window shorter than a month or an unknown scheme.
    """
    prices = scheme_named(scheme)
    if customers < 1:
        raise ConfigError(f"customers = {customers}: expected at least 1")
    t0, t1 = _seconds(start), _seconds(end)
    if t1 - t0 < 31 * DAY:
        raise ConfigError(f"sample window {start} .. {end}: expected at least a month")
    rng = np.random.default_rng(seed)
    n = customers
    seat_products = np.flatnonzero(prices.per_seat)
    flat_products = np.flatnonzero(~np.asarray(prices.per_seat))

    # --- customers: first plan and signup (more signups as the business grows: 3x from start to end)
    kind = rng.choice(5, size=n, p=np.asarray(prices.mix) / sum(prices.mix))
    growth = np.log(3.0)
    share = np.log1p(rng.random(n) * (np.exp(growth) - 1.0)) / growth
    signup_day = t0 // DAY + (share * ((t1 - t0) // DAY - 1)).astype(np.int64)
    signup = np.minimum(signup_day * DAY + _time_of_day(rng, n), t1 - HOUR)
    ids = rng.choice(max(999_999, 20 * n), size=n, replace=False).astype(np.int64) + 1
    idx = np.arange(n)
    flat = (kind == 2) | (kind == 3)
    product = np.where(flat, rng.choice(flat_products, size=n, p=np.asarray(prices.flat_shares)),
                       rng.choice(seat_products, size=n, p=np.asarray(prices.seat_shares)))
    annual = (kind == 1) | (kind == 3) | (kind == 4)
    first = _new_plans(rng, prices, idx, annual, product, signup, 0, trials=True)

    # a monthly per-seat plan beside an annual one: a minute after it, or days to months later
    side_c = idx[kind == 4]
    m = len(side_c)
    later = (signup[side_c] // DAY + rng.integers(1, 200, m)) * DAY + _time_of_day(rng, m)
    side_at = np.where(rng.random(m) < 0.4, signup[side_c] + rng.integers(20, 120, m), later)
    side = _new_plans(rng, prices, side_c, np.zeros(m, bool), rng.choice(seat_products, m), side_at, 1)
    # an annual flat add-on bought a minute after an annual per-seat plan, renewed with it
    addon_c = idx[annual & ~flat & (rng.random(n) < ADDON_SHARE)]
    a = len(addon_c)
    addon = _new_plans(rng, prices, addon_c, np.ones(a, bool), rng.choice(flat_products, a), signup[addon_c] + rng.integers(10, 90, a), 2)
    addon.life = first.life[addon_c]
    addon.up_k[:] = -1
    level1 = _Plans.concat(first, side.take(side.anchor <= t1), addon)
    done1 = _expand(rng, prices, level1, t1)

    # a switch to annual opens an annual plan at the switch charge, with the seats and price held then
    sw = np.flatnonzero((done1.ended == 2) & (done1.stop <= t1))
    switch = _new_plans(rng, prices, level1.customer[sw], np.ones(len(sw), bool), done1.product_end[sw],
                        done1.stop[sw], 4, seats=np.maximum(done1.seats_end[sw], 1), discount=level1.discount[sw])
    switch.up_k[:] = -1
    # reactivation: some churned plans come back 1-8 months after they stopped, on a new monthly plan
    back = np.flatnonzero((done1.ended == 1) & (rng.random(len(level1)) < REACTIVATION_SHARE))
    b = len(back)
    again_at = (done1.stop[back] // DAY + rng.integers(30, 240, b)) * DAY + _time_of_day(rng, b)
    again = _new_plans(rng, prices, level1.customer[back], np.zeros(b, bool), done1.product_end[back], again_at, 3)
    level2 = _Plans.concat(switch, again.take(again.anchor <= t1))
    done2 = _expand(rng, prices, level2, t1)
    plans = _Plans.concat(level1, level2)
    offset = len(level1)

    # --- charges: periods, prorations, upgrades; refunds and stray zeros; drop what falls outside the window
    who = np.concatenate([done1.charges[0], done2.charges[0]])
    when = np.concatenate([done1.charges[1], done2.charges[1]])
    what = np.concatenate([done1.charges[2], done2.charges[2]])
    period_customer = np.concatenate([done1.period_customer, done2.period_customer])
    period_at = np.concatenate([done1.period_at, done2.period_at])
    period_amount = np.concatenate([done1.period_amount, done2.period_amount])
    refunded = (period_amount > 0) & (rng.random(len(period_amount)) < REFUND_SHARE)
    r = int(refunded.sum())
    refund_at = period_at[refunded] + rng.integers(2 * HOUR, 12 * DAY, r)
    full = rng.random(r) < 0.7
    refund = -np.where(full, period_amount[refunded], np.round(period_amount[refunded] * rng.uniform(0.2, 0.8, r), 2))
    stray = (period_amount >= 500) & (rng.random(len(period_amount)) < 0.03)
    stray_at = period_at[stray] + rng.integers(HOUR, 20 * DAY, int(stray.sum()))
    who = np.concatenate([who, period_customer[refunded], period_customer[stray]])
    when = np.concatenate([when, refund_at, stray_at])
    what = np.concatenate([what, refund, np.zeros(int(stray.sum()))])
    inside = (when >= t0) & (when <= t1)
    who, when, what = who[inside], when[inside], what[inside]
    order = rng.permutation(len(who))
    invoices = pd.DataFrame({
        "customerId": ids[who[order]],
        "amountPaid": what[order].astype(np.float64),
        "timestampPaid": when[order].astype(np.int64),
    })

    # --- plans table and the truth
    periods = np.concatenate([done1.periods_in_window, done2.periods_in_window])
    listed = periods > 0
    number = _plan_numbers(plans.customer, plans.anchor, listed)
    interval = np.where(plans.annual, "annual", "monthly")
    plan_kind = np.where(np.asarray(prices.per_seat)[plans.product], "seat", "flat")
    cid = ids[plans.customer].astype(str)
    ref = pd.Series(cid, dtype=object) + ":" + interval + "-" + plan_kind + "-" + number.astype(str)
    ref = ref.to_numpy(dtype=object)
    ended = np.concatenate([done1.ended, done2.ended])
    plan_frame = pd.DataFrame({
        "customer_id": cid,
        "ref": ref,
        "interval": interval.astype(object),
        "product": np.asarray(prices.products, dtype=object)[plans.product],
        "list_price": np.asarray(prices.prices)[plans.product],
        "discount": plans.discount,
        "seats": plans.seats,
        "start": pd.to_datetime(plans.anchor, unit="s", utc=True).astype("datetime64[ns, UTC]"),
        "periods": periods,
        "origin": np.asarray(ORIGINS, dtype=object)[plans.origin],
        "ended": np.asarray(ENDINGS, dtype=object)[ended],
    }).loc[listed].sort_values(["customer_id", "start", "ref"]).reset_index(drop=True)
    truth, truth_seats = _truth_frame(ids, ref, done1.truth, done2.truth, offset, t1)

    # --- customers: today's seats (latest per-seat plan's; churned accounts drift), sessions
    seats_end = np.concatenate([done1.seats_end, done2.seats_end])
    has_seats = seats_end > 0
    latest = np.lexsort((plans.anchor, has_seats, plans.customer))
    last_plan = latest[np.r_[plans.customer[latest][1:] != plans.customer[latest][:-1], True]]
    current_seats = np.ceil(np.exp(rng.normal(1.6, 0.7, n))).astype(np.int64)  # flat plans: users on the account
    seated = has_seats[last_plan]
    current_seats[plans.customer[last_plan][seated]] = seats_end[last_plan][seated]
    gone = np.ones(n, bool)
    gone[plans.customer[ended == 0]] = False
    drift = gone & (rng.random(n) < 0.35)
    current_seats = np.where(drift, np.maximum(np.round(current_seats * np.exp(rng.normal(0.0, 0.8, n))), 1),
                             current_seats).astype(np.int64)
    first_at = np.full(n, t1, np.int64)
    last_at = np.full(n, t0, np.int64)
    np.minimum.at(first_at, who, when)
    np.maximum.at(last_at, who, when)
    tenure = np.maximum(last_at - first_at, 0) / (30.44 * DAY) + 1.0
    rate = np.exp(rng.normal(1.9, 0.9, n))
    sessions = rng.poisson(rate * tenure ** 0.8 * current_seats ** 0.3)
    # the export holds no seat added after the window's end (seats_end, which the sessions drawn above rest on, does)
    later = np.zeros(n, np.int64)
    known = np.concatenate([done1.seats_known, done2.seats_known])
    later[plans.customer[last_plan][seated]] = (seats_end - known)[last_plan][seated]
    seat_count = pd.array(np.maximum(current_seats - later, 1), dtype="Int64")
    seat_count[rng.random(n) < NULL_SEATS_SHARE] = pd.NA
    order = rng.permutation(n)
    customers_frame = pd.DataFrame({"customerId": ids[order], "nrSessions": sessions[order].astype(np.int64)})
    if prices.seats_column:
        customers_frame["nrSeats"] = seat_count[order]
    return SampleLog(invoices=invoices, customers=customers_frame, truth=truth, plans=plan_frame, scheme=prices,
                     truth_seats=truth_seats)


def _plan_numbers(customer: np.ndarray, anchor: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """Each listed plan's number within its customer, 1, 2, ... by start (0 for unlisted plans)."""
    order = np.lexsort((np.arange(len(customer)), anchor, ~listed, customer))
    c = customer[order]
    first = np.r_[True, c[1:] != c[:-1]] if len(c) else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))
    out = np.zeros(len(customer), np.int64)
    out[order] = np.arange(len(c)) - group_start + 1
    return np.where(listed, out, 0)


def _truth_frame(ids: np.ndarray, ref: np.ndarray, part1: tuple[np.ndarray, ...], part2: tuple[np.ndarray, ...],
                 offset: int, t1: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The truth pieces as a schedule (SCHEDULE_COLUMNS), those starting in the window, sorted by customer and start;
    and the seats each holds (SampleLog.truth_seats)."""
    customer, start, end, mrr, source, plan, seats = (np.concatenate([a, b]) for a, b in zip(part1, part2, strict=True))
    plan = np.where(np.arange(len(plan)) < len(part1[5]), plan, plan + offset)
    keep = (start <= t1) & (mrr > 0) & (end > start)
    customer, start, end, mrr, source, plan, seats = (x[keep] for x in (customer, start, end, mrr, source, plan, seats))
    order = np.lexsort((end, start, ids[customer]))
    return pd.DataFrame({
        "customer_id": ids[customer[order]].astype(str),
        "start": pd.to_datetime(start[order], unit="s", utc=True).astype("datetime64[ns, UTC]"),
        "end": pd.to_datetime(end[order], unit="s", utc=True).astype("datetime64[ns, UTC]"),
        "mrr": mrr[order].astype(np.float64),
        "source": np.asarray(SOURCES, dtype=object)[source[order]],
        "ref": ref[plan[order]],
    }).loc[:, list(SCHEDULE_COLUMNS)].reset_index(drop=True), seats[order].astype(np.int64)


def generate(customers: int = 300, seed: int = 7, start: str | pd.Timestamp = DEFAULT_START,
             end: str | pd.Timestamp = DEFAULT_END, scheme: str = DEFAULT_SCHEME) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A payment log of `customers` customers signing up between `start` and `end` (UTC).

    Returns (invoices, customers): invoices [customerId, amountPaid, timestampPaid] one row per
    charge, every timestamp within [start, end], rows shuffled; customers [customerId, nrSessions,
    nrSeats (not for "noseats")] one row per customer, shuffled. Raises ConfigError on a
    non-positive count, an empty window or an unknown scheme.
    """
    log = generate_with_truth(customers, seed, start=start, end=end, scheme=scheme)
    return log.invoices, log.customers


def _write_ndjson(frame: pd.DataFrame, path: Path) -> None:
    frame.to_json(path, orient="records", lines=True, double_precision=10)


def _iso(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_truth(truth: pd.DataFrame, path: str | Path) -> None:
    """Write a truth schedule as CSV: TRUTH_CSV_COLUMNS, instants as ISO 8601 UTC (seconds), rates in full precision."""
    truth.assign(start=_iso(truth["start"]), end=_iso(truth["end"])).loc[:, list(TRUTH_CSV_COLUMNS)].to_csv(
        path, index=False, float_format="%.10g", lineterminator="\n")


def read_truth(path: str | Path) -> pd.DataFrame:
    """A truth.csv written by write_sample -> a schedule (SCHEDULE_COLUMNS with their dtypes)."""
    frame = pd.read_csv(path, dtype={"customer_id": str, "source": str, "ref": str})
    return frame.assign(
        start=pd.to_datetime(frame["start"], utc=True).astype("datetime64[ns, UTC]"),
        end=pd.to_datetime(frame["end"], utc=True).astype("datetime64[ns, UTC]"),
        mrr=frame["mrr"].astype("float64"),
    ).loc[:, list(SCHEDULE_COLUMNS)]


def write_sample(out_dir: str | Path, customers: int = 300, seed: int = 7, *,
                 start: str | pd.Timestamp = DEFAULT_START, end: str | pd.Timestamp = DEFAULT_END,
                 scheme: str = DEFAULT_SCHEME, truth: bool = False) -> list[tuple[str, int]]:
    """Write invoices.json and customers.json (NDJSON), and truth.csv when `truth`, into out_dir.

    Returns [(path, rows)] per file written. Raises ConfigError on bad arguments or a folder it cannot write.
    """
    log = generate_with_truth(customers, seed, start=start, end=end, scheme=scheme)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("invoices.json", log.invoices), ("customers.json", log.customers)):
            path = out / name
            _write_ndjson(frame, path)
            written.append((str(path), len(frame)))
        if truth:
            path = out / "truth.csv"
            write_truth(log.truth, path)
            written.append((str(path), len(log.truth)))
    except OSError as exc:
        raise ConfigError(f"cannot write the sample to {out}: {exc.strerror or exc}") from None
    return written
