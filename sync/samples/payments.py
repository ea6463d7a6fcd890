"""A deterministic, realistic payment log shaped like shared/data/payments-log.

`generate` returns two frames with the shared data's field names:
invoices [customerId int, amountPaid float, timestampPaid epoch seconds int] (one row per charge,
shuffled like the real log) and customers [customerId int, nrSessions int, nrSeats Int64, null
for ~15%]. `write_sample` writes them as NDJSON (invoices.json, customers.json).

What the log holds, all from one numpy Generator (same seed and arguments -> same bytes):
- monthly plans at 8/18/36/54/90 per seat, renewing at the anchor's time of day (slot k = anchor
  + k calendar months, day clamped to the month's end), most to the second, a few up to 5 minutes
  late (well inside the 2 h renewal tolerance);
- annual plans (10 months' price per seat, always >= 1000), renewing a year later; some with an
  add-on annual charge a minute after the main one, some with a monthly plan beside them;
- seat prorations: small odd amounts between renewals (seat price x share of the period left),
  one charge per seat in bursts minutes apart, then a higher renewal; on monthly and annual plans;
- upgrades and downgrades (seats or price tier change from a renewal on), discounts;
- churn (a series stops), reactivation (a new series months later, at a new anchor);
- zero-amount charges (a free month in place of a renewal, trials, stray zeros), a few refunds
  (negative amounts), trial-only customers whose one charge is 0;
- customers with no seat count (null nrSeats) and a session count.

Everything is vectorized over series, periods and events: a million charges take seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kpi.billing import add_months as billing_add_months
from sync.errors import ConfigError

DEFAULT_START = "2016-01-01"
DEFAULT_END = "2017-12-31 23:59:59"

SEAT_PRICES = np.array([8.0, 18.0, 36.0, 54.0, 90.0])  # monthly price per seat, by tier
TIER_SHARES = np.array([0.08, 0.55, 0.15, 0.12, 0.10])
ANNUAL_MONTHS_PAID = 10  # an annual plan costs ten months ("two months free")
ANNUAL_MIN_AMOUNT = 1000.0

DAY = 86_400
HOUR = 3_600


def _seconds(value: str | pd.Timestamp) -> int:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.timestamp())


def add_months(seconds: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Epoch seconds + whole calendar months, the day clamped to the month's last day, same time of day.

    The calendar rule is the billing inference's own (kpi.billing.add_months), so the sample's
    renewals fall exactly on the slots the job looks for.
    """
    ns = np.asarray(seconds, dtype=np.int64) * 1_000_000_000
    return billing_add_months(ns, np.asarray(months, dtype=np.int64)) // 1_000_000_000


def _slots_until(anchor: np.ndarray, step: np.ndarray, end: int) -> np.ndarray:
    """How many slots anchor + k*step months (k = 0, 1, ...) fall at or before `end`."""
    month_of = (anchor // DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    end_month = np.datetime64(end // DAY, "D").astype("datetime64[M]").astype(np.int64)
    k = np.maximum(end_month - month_of, 0) // step
    return np.where(add_months(anchor, k * step) <= end, k + 1, k)


def _segment_cumsum(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each segment (segments laid end to end, given by start and length)."""
    total = np.cumsum(values)
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    return total - np.repeat(before, lengths)


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day: mostly European working hours in UTC, a few on the hour (manual entries)."""
    hours = np.mod(rng.normal(14.0, 4.0, n), 24.0)
    seconds = (hours * HOUR).astype(np.int64)
    on_the_hour = rng.random(n) < 0.03
    return np.where(on_the_hour, seconds // HOUR * HOUR, seconds)


def _series(rng: np.random.Generator, customer: np.ndarray, annual: np.ndarray, anchor: np.ndarray,
            start: int, end: int) -> dict[str, np.ndarray]:
    """Draw a plan per series: tier, seats, discount, seat-change rates and length (censored at `end`)."""
    n = len(customer)
    tier = rng.choice(len(SEAT_PRICES), size=n, p=TIER_SHARES)
    discount = rng.choice([0.0, 0.1, 0.2], size=n, p=[0.85, 0.10, 0.05])
    # annual plans need enough seats to cost at least ANNUAL_MIN_AMOUNT after the discount
    annual_seat = SEAT_PRICES[tier] * ANNUAL_MONTHS_PAID * (1.0 - discount)
    min_seats = np.where(annual, np.ceil(ANNUAL_MIN_AMOUNT / annual_seat - 1e-9), 1).astype(np.int64)
    extra = np.where(annual, rng.poisson(np.exp(rng.normal(1.0, 1.0, n))), rng.geometric(0.55, n) - 1)
    seats = min_seats + extra
    step = np.where(annual, 12, 1)
    # seat additions per year (a few customers add seats all the time) and removals per renewal
    adds_per_year = np.where(annual, np.exp(rng.normal(0.7, 1.2, n)), np.exp(rng.normal(-0.3, 1.0, n)))
    remove_prob = np.where(annual, 0.15, np.minimum(adds_per_year / 12 * 0.5, 0.2))
    # length in periods: monthly churn hazard per customer, plus early churn after the first month
    hazard = np.where(annual, 0.22, rng.beta(1.3, 22.0, n))
    periods = rng.geometric(np.clip(hazard, 1e-3, 1.0))
    periods = np.where(~annual & (rng.random(n) < 0.10), 1, periods)
    possible = _slots_until(anchor, step, end)
    return {
        "customer": customer, "annual": annual, "anchor": anchor, "tier": tier, "seats": seats,
        "min_seats": min_seats, "discount": discount, "step": step, "adds_per_year": adds_per_year,
        "remove_prob": remove_prob, "drawn": periods, "periods": np.minimum(periods, possible),
        "churned": periods < possible,
    }


def _concat(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _take(series: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {key: value[mask] for key, value in series.items()}


def generate(customers: int = 300, seed: int = 7, start: str | pd.Timestamp = DEFAULT_START,
             end: str | pd.Timestamp = DEFAULT_END) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A payment log of `customers` customers signing up between `start` and `end` (UTC).

    Returns (invoices, customers): invoices [customerId, amountPaid, timestampPaid] one row per
    charge, every timestamp within [start, end], rows shuffled; customers [customerId, nrSessions,
    nrSeats] one row per customer, shuffled. Raises ConfigError on a non-positive count or an empty window.
    """
    if customers < 1:
        raise ConfigError(f"customers = {customers}: expected at least 1")
    t0, t1 = _seconds(start), _seconds(end)
    if t1 - t0 < 31 * DAY:
        raise ConfigError(f"sample window {start} .. {end}: expected at least a month")
    rng = np.random.default_rng(seed)
    n = customers

    # --- customers: kind and signup (more signups as the business grows: 3x from start to end)
    kind = rng.choice(4, size=n, p=[0.02, 0.09, 0.02, 0.87])  # trial only, annual, annual + monthly, monthly
    growth = np.log(3.0)
    share = np.log1p(rng.random(n) * (np.exp(growth) - 1.0)) / growth
    signup_day = t0 // DAY + (share * ((t1 - t0) // DAY - 1)).astype(np.int64)
    signup = signup_day * DAY + _time_of_day(rng, n)
    signup = np.minimum(signup, t1 - HOUR)
    ids = rng.choice(max(999_999, 20 * n), size=n, replace=False).astype(np.int64) + 1

    # --- series: the customer's first plan, a monthly plan beside some annual ones, add-ons, reactivations
    idx = np.arange(n)
    has_annual = (kind == 1) | (kind == 2)
    main = _series(rng, idx[kind >= 1], has_annual[kind >= 1], signup[kind >= 1], t0, t1)
    side_customer = idx[kind == 2]
    side_anchor = (signup[kind == 2] // DAY + rng.integers(0, 200, len(side_customer))) * DAY + _time_of_day(rng, len(side_customer))
    side = _series(rng, side_customer, np.zeros(len(side_customer), bool), side_anchor, t0, t1)
    side = _take(side, side["anchor"] <= t1)
    # add-on: a second annual charge a minute after the main one, same length, flat price
    addon = _take(main, main["annual"] & (rng.random(len(main["customer"])) < 0.2))
    m = len(addon["customer"])
    addon.update(anchor=addon["anchor"] + rng.integers(10, 90, m), tier=np.ones(m, np.int64),
                 seats=rng.integers(6, 16, m), min_seats=np.zeros(m, np.int64), discount=np.zeros(m),
                 adds_per_year=np.zeros(m), remove_prob=np.zeros(m))
    addon["periods"] = np.minimum(addon["periods"], _slots_until(addon["anchor"], addon["step"], t1))
    first = _concat(main, side, addon)
    # reactivation: some churned series come back 1-8 months after they stopped, on a new anchor
    back = first["churned"] & (rng.random(len(first["customer"])) < 0.2)
    stopped = add_months(first["anchor"][back], first["periods"][back] * first["step"][back])
    k = int(back.sum())
    again_anchor = (stopped // DAY + rng.integers(30, 240, k)) * DAY + _time_of_day(rng, k)
    keep = again_anchor <= t1
    again = _series(rng, first["customer"][back][keep], np.zeros(int(keep.sum()), bool), again_anchor[keep], t0, t1)
    series = _concat(first, again)
    series = _take(series, series["periods"] > 0)

    # --- periods: one row per renewal slot
    lengths = series["periods"]
    starts = np.cumsum(lengths) - lengths
    rows = int(lengths.sum())
    sid = np.repeat(np.arange(len(lengths)), lengths)
    k = np.arange(rows) - np.repeat(starts, lengths)
    annual = series["annual"][sid]
    step = series["step"][sid]
    anchor = series["anchor"][sid]
    slot = add_months(anchor, k * step)
    next_slot = add_months(anchor, (k + 1) * step)
    late = np.where(rng.random(rows) < 0.85, 0, np.minimum(rng.exponential(40.0, rows) + 1, 300)).astype(np.int64)
    paid_at = slot + np.where(k > 0, late, 0)

    # seat additions during a period (paid as prorations) raise the next renewal; removals lower it
    event_count = rng.poisson(series["adds_per_year"][sid] * step / 12.0)
    event_period = np.repeat(np.arange(rows), event_count)
    events = len(event_period)
    event_seats = rng.geometric(0.6, events)
    added = np.bincount(event_period, weights=event_seats, minlength=rows).astype(np.int64)
    removed = np.where((k > 0) & (rng.random(rows) < series["remove_prob"][sid]), rng.geometric(0.6, rows), 0)
    seats = series["seats"][sid] + _segment_cumsum(added, starts, lengths) - added - _segment_cumsum(removed, starts, lengths)
    seats = np.maximum(seats, series["min_seats"][sid])
    # price tier: monthly plans sometimes move up (upgrade) or down (downgrade) a tier
    tier_step = np.where(annual | (k == 0), 0, rng.choice([-1, 0, 1], size=rows, p=[0.008, 0.977, 0.015]))
    tier = np.clip(series["tier"][sid] + _segment_cumsum(tier_step, starts, lengths), 0, len(SEAT_PRICES) - 1)
    unit = SEAT_PRICES[tier] * np.where(annual, ANNUAL_MONTHS_PAID, 1) * (1.0 - series["discount"][sid])
    amount = np.round(unit * seats, 2)
    # a free month in place of a renewal (100 % coupon)
    amount = np.where((k > 0) & ~annual & (rng.random(rows) < 0.006), 0.0, amount)

    # proration charges: one per added seat, minutes apart (one charge for a big batch)
    period_length = next_slot - paid_at
    event_at = paid_at[event_period] + (rng.uniform(0.02, 0.97, events) * period_length[event_period]).astype(np.int64)
    split = event_seats <= 4
    charges_per_event = np.where(split, event_seats, 1)
    ev = np.repeat(np.arange(events), charges_per_event)
    ev_starts = np.cumsum(charges_per_event) - charges_per_event
    gaps = np.where(np.arange(len(ev)) == np.repeat(ev_starts, charges_per_event), 0, rng.exponential(90.0, len(ev)))
    pro_at = event_at[ev] + _segment_cumsum(gaps, ev_starts, charges_per_event).astype(np.int64)
    pro_period = event_period[ev]
    left = np.clip((next_slot[pro_period] - pro_at) / period_length[pro_period], 0.0, 1.0)
    pro_seats = np.where(split[ev], 1, event_seats[ev])
    pro_amount = np.maximum(np.round(unit[pro_period] * pro_seats * left, 2), 0.01)
    # a tier upgrade is paid pro rata in the period before the higher renewal
    prev = np.arange(rows) - 1
    up = (k > 0) & (tier > tier[np.maximum(prev, 0)])
    up_period = prev[up]
    up_at = paid_at[up_period] + (rng.uniform(0.05, 0.95, len(up_period)) * period_length[up_period]).astype(np.int64)
    up_left = (next_slot[up_period] - up_at) / period_length[up_period]
    up_amount = np.maximum(np.round((unit[up] - unit[up_period]) * seats[up_period] * up_left, 2), 0.01)

    # refunds of a few renewals, zeros: trials before the first charge, trial-only customers, strays
    refunded = (amount > 0) & (rng.random(rows) < 0.003)
    refund_at = paid_at[refunded] + rng.integers(2 * HOUR, 12 * DAY, int(refunded.sum()))
    full = rng.random(int(refunded.sum())) < 0.7
    refund = -np.where(full, amount[refunded], np.round(amount[refunded] * rng.uniform(0.2, 0.8, len(full)), 2))
    trial = main["customer"][rng.random(len(main["customer"])) < 0.06]
    trial_at = signup[trial] - rng.integers(7 * DAY, 30 * DAY, len(trial))
    trial_only = idx[kind == 0]
    stray = annual & (rng.random(rows) < 0.05)
    stray_at = paid_at[stray] + (rng.uniform(0.05, 0.95, int(stray.sum())) * period_length[stray]).astype(np.int64)

    customer = series["customer"][sid]
    who = np.concatenate([customer, customer[pro_period], customer[up_period], customer[refunded], trial, trial_only,
                          customer[stray]])
    when = np.concatenate([paid_at, pro_at, up_at, refund_at, trial_at, signup[trial_only], stray_at])
    what = np.concatenate([amount, pro_amount, up_amount, refund, np.zeros(len(trial) + len(trial_only)),
                           np.zeros(int(stray.sum()))])
    inside = (when >= t0) & (when <= t1)
    who, when, what = who[inside], when[inside], what[inside]
    order = rng.permutation(len(who))
    invoices = pd.DataFrame({
        "customerId": ids[who[order]],
        "amountPaid": what[order].astype(np.float64),
        "timestampPaid": when[order].astype(np.int64),
    })

    # --- customers: current seats (the latest period's), sessions growing with tenure and seats
    latest = np.lexsort((paid_at, customer))
    last_row = latest[np.r_[customer[latest][1:] != customer[latest][:-1], True]]
    current_seats = np.ones(n, np.int64)
    current_seats[customer[last_row]] = seats[last_row] + added[last_row]
    first_at = np.full(n, t1, np.int64)
    last_at = np.full(n, t0, np.int64)
    np.minimum.at(first_at, who, when)
    np.maximum.at(last_at, who, when)
    tenure = np.maximum(last_at - first_at, 0) / (30.44 * DAY) + 1.0
    rate = np.exp(rng.normal(1.9, 0.9, n))
    sessions = rng.poisson(rate * tenure ** 0.8 * current_seats ** 0.3)
    seat_count = pd.array(current_seats, dtype="Int64")
    seat_count[rng.random(n) < 0.15] = pd.NA
    order = rng.permutation(n)
    customers_frame = pd.DataFrame({
        "customerId": ids[order],
        "nrSessions": sessions[order].astype(np.int64),
        "nrSeats": seat_count[order],
    })
    return invoices, customers_frame


def _write_ndjson(frame: pd.DataFrame, path: Path) -> None:
    frame.to_json(path, orient="records", lines=True, double_precision=10)


def write_sample(out_dir: str | Path, customers: int = 300, seed: int = 7, *,
                 start: str | pd.Timestamp = DEFAULT_START,
                 end: str | pd.Timestamp = DEFAULT_END) -> list[tuple[str, int]]:
    """Write invoices.json and customers.json (NDJSON) into out_dir; returns [(path, rows)] per file."""
    invoices, customer_frame = generate(customers, seed, start=start, end=end)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("invoices.json", invoices), ("customers.json", customer_frame)):
            path = out / name
            _write_ndjson(frame, path)
            written.append((str(path), len(frame)))
    except OSError as exc:
        raise ConfigError(f"cannot write the sample to {out}: {exc.strerror or exc}") from None
    return written
