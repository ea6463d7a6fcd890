"""Calendar arithmetic and the vectorized searches every step of the inference uses.

Instants are int64 nanoseconds since the epoch (UTC). Searches run over all customers at once: a
(customer, instant) pair is folded into one sortable int64 key (`Keys`), so one `searchsorted`
answers "the charge of this customer nearest to this instant" for every query together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
SECOND_NS = 10**9
MONTH_NS = 365.25 / 12 * DAY_NS  # the month prorations are normalized by
MAX_TOLERANCE_HOURS = 14 * 24  # slots are >= 28 days apart: a wider window would let one charge renew two slots


_TABLE_DAYS = 1 << 22  # past this many days between the first and last instant, add_months computes directly


def add_months(t_ns: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Instants (int64 ns since the epoch, UTC) + whole calendar months: day clamped to the month's end, same time of day.

    The calendar work is done once per distinct day in the range of `t_ns` (a log spans thousands of days, not
    millions of charges), then looked up: 10x faster than converting every instant to months and back."""
    t = np.asarray(t_ns, dtype=np.int64)
    if not t.size:
        return _add_months_direct(t, months)
    days = t // DAY_NS
    lo, hi = int(days.min()), int(days.max())
    if hi - lo > _TABLE_DAYS:
        return _add_months_direct(t, months)
    time_of_day = t - days * DAY_NS
    at = days - lo
    span = np.arange(lo, hi + 1, dtype=np.int64).astype("datetime64[D]")
    if np.ndim(months) == 0:
        landed = _add_months_direct(span.astype("datetime64[ns]").view(np.int64), int(months)) // DAY_NS
        return landed[at] * DAY_NS + time_of_day
    month = span.astype("datetime64[M]")
    day_of_month = (span - month.astype("datetime64[D]")).view(np.int64)
    target = month.view(np.int64)[at] + np.asarray(months, dtype=np.int64)  # months since 1970-01
    first_month = int(target.min())
    firsts = np.arange(first_month, int(target.max()) + 2, dtype=np.int64).astype("datetime64[M]")
    first_day = firsts.astype("datetime64[D]").view(np.int64)
    length = np.diff(first_day)
    month_at = target - first_month
    landed = first_day[month_at] + np.minimum(day_of_month[at], length[month_at] - 1)
    return landed * DAY_NS + time_of_day


def _add_months_direct(t_ns: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """add_months instant by instant."""
    t = np.asarray(t_ns, dtype=np.int64)
    day = t.astype("datetime64[ns]").astype("datetime64[D]")
    time_of_day = t - day.astype("datetime64[ns]").view(np.int64)
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64)
    first = target.astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[D]") - first).astype(np.int64)
    landed = first + np.minimum(day_of_month, length - 1)
    return landed.astype("datetime64[ns]").view(np.int64) + time_of_day


@dataclass(frozen=True)
class Keys:
    """(group, instant) -> one sortable int64, so one searchsorted serves every customer at once.

    Groups are `stride` apart, wider than any instant queried, so a match within the tolerance is
    always in the same group. The unit is the finest (ns, us, ms, s) that keeps keys below 2**62.
    """

    t0: int
    unit: int
    stride: int

    @classmethod
    def fit(cls, t_min: int, t_max: int, groups: int, tol_ns: int) -> Keys:
        t0 = t_min - tol_ns - DAY_NS
        span = t_max + 400 * DAY_NS + 2 * tol_ns - t0  # the latest instant ever keyed: a term end or a slot
        for unit in (1, 10**3, 10**6, 10**9):
            stride = span // unit + 2
            if stride * max(groups, 1) < 2**62:
                return cls(t0, unit, stride)
        raise ValueError("payment log too large to index: too many customers over too long a period")

    def __call__(self, group: np.ndarray, t_ns: np.ndarray) -> np.ndarray:
        return np.asarray(group, dtype=np.int64) * self.stride + (np.asarray(t_ns, dtype=np.int64) - self.t0) // self.unit

    def span(self, ns: int) -> int:
        return ns // self.unit


def nearest(sorted_keys: np.ndarray, queries: np.ndarray, tol: int) -> tuple[np.ndarray, np.ndarray]:
    """Position in `sorted_keys` of the key closest to each query within `tol` (-1: none), and the distance.

    Ties go to the earlier key.
    """
    n = len(sorted_keys)
    if n == 0 or len(queries) == 0:
        return np.full(len(queries), -1, dtype=np.int64), np.zeros(len(queries), dtype=np.int64)
    pos = np.searchsorted(sorted_keys, queries, side="left")
    left = np.clip(pos - 1, 0, n - 1)
    right = np.clip(pos, 0, n - 1)
    big = np.iinfo(np.int64).max
    d_left = np.where(pos > 0, queries - sorted_keys[left], big)
    d_right = np.where(pos < n, sorted_keys[right] - queries, big)
    best = np.where(d_right < d_left, right, left)
    dist = np.minimum(d_left, d_right)
    return np.where(dist <= tol, best, -1), dist


def group_starts(group: np.ndarray) -> np.ndarray:
    """True at the first element of each run of equal values (the array is sorted by group)."""
    return np.r_[True, group[1:] != group[:-1]] if len(group) else np.zeros(0, dtype=bool)


def range_min(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """min(values[lo:hi]) for each (lo, hi) pair, +inf where the range is empty (a sparse table)."""
    out = np.full(len(lo), np.inf)
    length = hi - lo
    ok = length > 0
    if not ok.any():
        return out
    levels = [values.astype("float64")]
    while (1 << len(levels)) <= length[ok].max():
        prev, half = levels[-1], 1 << (len(levels) - 1)
        levels.append(np.minimum(prev, np.r_[prev[half:], np.full(half, np.inf)]))
    level = np.zeros(len(lo), dtype=np.int64)
    level[ok] = np.floor(np.log2(length[ok])).astype(np.int64)
    for j, table in enumerate(levels):
        sel = ok & (level == j)
        if sel.any():
            out[sel] = np.minimum(table[lo[sel]], table[hi[sel] - (1 << j)])
    return out


def renewal_window_end(end: np.ndarray, as_of: int, tol_ns: int) -> np.ndarray:
    """Monthly ends (a slot with no renewal seen): the ones passed at as_of whose renewal may still come (as_of <
    slot + tolerance) run to slot + tolerance, so a renewal that is late but not yet due is no churn."""
    return np.where((end <= as_of) & (as_of < end + tol_ns), end + tol_ns, end)


def covering(starts: np.ndarray, ends: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For keyed intervals [start, end) and keyed instants: is each instant inside at least one interval?"""
    if len(starts) == 0:
        return np.zeros(len(queries), dtype=bool)
    order = np.argsort(starts, kind="stable")
    s, reach = starts[order], np.maximum.accumulate(ends[order])
    pos = np.searchsorted(s, queries, side="right") - 1
    # reach never leaks across customers: every key of an earlier customer is below any key of a later one
    return (pos >= 0) & (reach[np.maximum(pos, 0)] > queries)
