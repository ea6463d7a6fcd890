"""Month snapshots, MRR movements, rates and quarters (metrics.md 1, 3, 4): frames in, frames out.

The tabs that show them are declared in kpi/mrr_tabs.py; kpi.tables.Context computes and keeps
customer_months and mrr_by_month with the functions here, so this module knows nothing of Context.

Tables, by grain:

    month_snapshots   one row per month: month (tz-naive first day), snapshot (UTC instant)
    customer_months   one row per customer and month, from the customer's first month with MRR to
                      the month of as_of (zeros included after it stops paying): month, customer_id, mrr
    movements         customer_months + mrr_prev, movement, delta
    movement_table    the Movements tab: the customer-months that moved, with the refs behind each movement
    mrr_by_month      one row per month: MRR, counts, movements, rates, trailing-12-month NRR and GRR (MONTH_COLUMNS)
    mrr_by_quarter    one row per calendar quarter (QUARTER_COLUMNS): flows summed, rates on the starting customers
    base_retention    per (start, end) pair of months: what the customers paying at the start pay at the end

Rates (metrics.md 4). A month's rates compare two consecutive snapshots, so they are already measured on
the customers present at the month's start. Over a longer period (a quarter, 12 months) the flows of
customers who joined during it must not be set against the MRR at its start (a customer who joined and
left inside a quarter would be churn of a base it was never part of, and rates would pass 100%), so
those rates follow the customers paying at the start to the end (`base_retention`), each compared
start to end; logo and gross MRR churn can then never exceed 100%.

Cents. customer_months keeps each customer's MRR as the exact sum of its active pieces, so
"MRR > 0" (active, customers, churn) means the same in every table built on it. Movements and
totals round each customer's MRR to the cent and sum integer cents, so the identity
MRR = MRR_prev + new + expansion + reactivation - contraction - churn holds exactly, to the cent,
in every published number (totals are sums of the rounded customer figures). A movement's kind is
decided on the exact values; since rounding never reverses an order, its amount has the right sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi.billing.timeline import group_starts
from kpi.schedule import Codes, CustomerCodes, same_ids, text_codes

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "flat")

MONTH_COLUMNS: tuple[str, ...] = (
    "month", "mrr", "customers", "arpa", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
    "reactivation_mrr", "net_new_mrr", "new_customers", "reactivated_customers", "churned_customers", "mrr_growth",
    "new_mrr_rate", "expansion_mrr_rate", "contraction_mrr_rate", "churned_mrr_rate", "logo_churn",
    "gross_mrr_churn", "net_mrr_churn", "quick_ratio", "nrr_12m", "grr_12m",
)
_MONEY = ("mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr")
_COUNTS = ("customers", "new_customers", "reactivated_customers", "churned_customers")
_FLOWS = ("new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr",
          "new_customers", "reactivated_customers", "churned_customers")
QUARTER_COLUMNS: tuple[str, ...] = (
    "quarter", "quarter_start", "months", "mrr_start", "customers_start", "mrr", "customers", "arpa",
    "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr", "net_new_mrr",
    "new_customers", "reactivated_customers", "churned_customers", "churned_arr", "contraction_arr",
    "base_customers_lost", "base_mrr_lost", "base_mrr_end",
    "mrr_growth", "logo_churn", "gross_mrr_churn", "net_mrr_churn", "grr", "nrr", "quick_ratio",
)
BASE_COLUMNS: tuple[str, ...] = ("start_customers", "start_mrr", "lost_customers", "lost_mrr", "gained_mrr",
                                 "end_mrr")


# ----------------------------------------------------------------------------- snapshots


def local_month(ts: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """The first day (tz-naive) of the month containing instant `ts`, in `timezone`."""
    return pd.Timestamp(ts).tz_convert(timezone).tz_localize(None).to_period("M").to_timestamp()


def month_is_complete(as_of: pd.Timestamp, timezone: str) -> bool:
    """True when as_of is the last second of its month (in `timezone`): the month's snapshot is final."""
    local = pd.Timestamp(as_of).tz_convert(timezone)
    return (local + pd.Timedelta(seconds=1)).month != local.month


PARTIAL = "partial"
COMPLETE = "complete"


def period_labels(starts: pd.Series | pd.DatetimeIndex, as_of: pd.Timestamp, timezone: str,
                  quarterly: bool = False) -> np.ndarray:
    """The Period column of a month (or quarter) table: "complete", or "partial, to YYYY-MM-DD" (the day of as_of).

    `starts` are months' (quarters') first days. The month of as_of is partial unless as_of is its last second
    (metrics.md 4); so is its quarter, unless that second also ends the quarter. A period after as_of cannot
    occur in these tables and is labelled partial too.
    """
    as_of_month = local_month(as_of, timezone)
    current = as_of_month.to_period("Q").to_timestamp() if quarterly else as_of_month
    done = month_is_complete(as_of, timezone) and (not quarterly or as_of_month.month % 3 == 0)
    day = pd.Timestamp(as_of).tz_convert(timezone).strftime("%Y-%m-%d")
    index = pd.DatetimeIndex(starts)
    partial = (index > current) | ((index == current) & (not done))
    # one str object per label, shared by every row (np.where(...).astype(object) made one per row)
    return np.array([COMPLETE, f"{PARTIAL}, to {day}"], dtype=object)[np.asarray(partial, dtype=np.intp)]


def month_snapshots(as_of: pd.Timestamp, first: pd.Timestamp, timezone: str) -> pd.DataFrame:
    """One row per month from the month of `first` to the month of `as_of` (in `timezone`), no gaps.

    Columns: month (tz-naive first day of the month), snapshot (UTC instant at which its MRR is read:
    the month's last second in `timezone`, or `as_of` for the month of `as_of`). Empty when `first`
    is after `as_of`.
    """
    as_of, first = pd.Timestamp(as_of), pd.Timestamp(first)
    months = pd.date_range(local_month(first, timezone), local_month(as_of, timezone), freq="MS")
    if first > as_of:
        months = months[:0]
    next_start = (months + pd.offsets.MonthBegin(1)).tz_localize(timezone, ambiguous=False, nonexistent="shift_forward")
    snapshot = pd.Series((next_start - pd.Timedelta(seconds=1)).tz_convert("UTC").as_unit("ns"))
    if len(snapshot):
        snapshot.iloc[-1] = as_of.tz_convert("UTC")
    return pd.DataFrame(
        {
            "month": months.astype("datetime64[ns]"),
            "snapshot": snapshot.astype("datetime64[ns, UTC]").to_numpy(),
        }
    ).assign(snapshot=lambda d: d["snapshot"].astype("datetime64[ns, UTC]"))


def _empty_customer_months() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": pd.Series(dtype="datetime64[ns]"),
            "customer_id": pd.Series(dtype="object"),
            "mrr": pd.Series(dtype="float64"),
        }
    )


def _ns(values: pd.Series) -> np.ndarray:
    """UTC instants as int64 ns (NaT -> int64 max: an open end)."""
    stamps = pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
    out = stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    out[stamps.isna().to_numpy()] = np.iinfo(np.int64).max
    return out


def customer_months(schedule: pd.DataFrame, as_of: pd.Timestamp, timezone: str, codes: Codes | None = None
                    ) -> pd.DataFrame:
    """MRR per customer at each month snapshot.

    One row per customer and month, from the customer's first month with MRR > 0 to the month of
    `as_of`, zeros included (so a stop shows as churn and a restart as reactivation). Columns:
    month (tz-naive first day), customer_id (str), mrr (float, the exact sum of its pieces). A piece counts
    at a snapshot iff start <= snapshot < end; pieces starting after `as_of` are ignored. `codes`: the schedule's
    customers as integer codes (kpi.schedule.Codes), when known: its ids are not hashed again.
    """
    return coded_customer_months(schedule, as_of, timezone, codes)[0]


def coded_customer_months(schedule: pd.DataFrame, as_of: pd.Timestamp, timezone: str, codes: Codes | None = None
                          ) -> tuple[pd.DataFrame, CustomerCodes]:
    """`customer_months`, and its rows' customers as codes (kpi.schedule.CustomerCodes: into the schedule's ids when
    `codes` gives them), so the tables built on it group, sort and match customers without hashing their ids."""
    as_of = pd.Timestamp(as_of)
    pieces, start, rows_kept = _counted_pieces(schedule, as_of)
    if pieces.empty:
        return _empty_customer_months(), CustomerCodes(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    snaps = month_snapshots(as_of, pd.Timestamp(start.min(), tz="UTC"), timezone)
    snap = snaps["snapshot"].dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    n_months = len(snap)
    first = np.searchsorted(snap, start, side="left")  # first snapshot at or after the start
    stop = np.searchsorted(snap, _ns(pieces["end"]), side="left")  # snapshots before the end
    count = np.maximum(stop - first, 0)
    if codes is not None:
        codes_, ids = codes.cust[rows_kept], codes.ids
    else:
        codes_, ids = pd.factorize(pieces["customer_id"].astype(str), sort=True)
    rows = np.repeat(np.arange(len(count)), count)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    month_ix = first[rows] + within
    cell = codes_[rows].astype(np.int64) * n_months + month_ix
    cells, inverse = np.unique(cell, return_inverse=True)
    total = np.bincount(inverse, weights=pieces["mrr"].to_numpy(dtype="float64")[rows])
    active = total > 0
    cells, total = cells[active], total[active]
    # dense from each customer's first month with MRR to the month of as_of
    cust = cells // n_months
    cust_ids, cust_first = np.unique(cust, return_index=True)
    start_month = (cells % n_months)[cust_first]
    length = n_months - start_month
    grid_cust = np.repeat(cust_ids, length)
    grid_month = np.repeat(start_month, length) + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
    grid = grid_cust * n_months + grid_month
    values = np.zeros(len(grid), dtype="float64")
    values[np.searchsorted(grid, cells)] = total
    ids = np.asarray(ids, dtype=object)
    frame = pd.DataFrame(
        {
            "month": snaps["month"].to_numpy()[grid_month],
            "customer_id": ids[grid_cust],
            "mrr": values,
        }
    )
    return frame, CustomerCodes(grid_cust.astype(np.int64), ids)


# ----------------------------------------------------------------------------- movements


def to_cents(values: pd.Series | np.ndarray) -> np.ndarray:
    """Money as integer cents (rounded half to even, like the published cells)."""
    return np.rint(np.asarray(values, dtype="float64") * 100).astype(np.int64)


def _dense(customer_months: pd.DataFrame, codes: CustomerCodes | None = None
           ) -> tuple[pd.DataFrame, CustomerCodes]:
    """customer_months with every month from each customer's first row to the last month of the table (0 filled),
    and each row's customer as a code (rows are sorted by it, then by month). `codes`: customer_months' customers as
    codes (kpi.schedule.CustomerCodes), when known: the ids are then not hashed again."""
    cm = customer_months.loc[:, ["month", "customer_id", "mrr"]].assign(
        customer_id=lambda d: d["customer_id"].astype(str), month=lambda d: d["month"].astype("datetime64[ns]"))
    if cm.empty:
        return _empty_customer_months(), CustomerCodes(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    month_no = month_number(cm["month"])
    sorted_ = False
    if codes is not None and codes.fits(len(cm)):
        cust, ids = codes.cust, np.asarray(codes.ids, dtype=object)
        sorted_ = bool((np.diff(cust * (int(month_no.max()) + 1) + month_no) > 0).all())
    if not sorted_:
        cust, ids = pd.factorize(cm["customer_id"], sort=True)
        # kpi.mrr.customer_months comes sorted by customer and month, one row each: only other input needs summing
        if not (np.diff(cust.astype(np.int64) * (int(month_no.max()) + 1) + month_no) > 0).all():
            cm = cm.groupby(["customer_id", "month"], as_index=False, sort=True)["mrr"].sum()
            cust, ids = pd.factorize(cm["customer_id"], sort=True)
            month_no = month_number(cm["month"])
        cust, ids = cust.astype(np.int64), np.asarray(ids, dtype=object)
    cm = cm.reset_index(drop=True)
    last = int(month_no.max())
    starts = np.r_[0, np.flatnonzero(cust[1:] != cust[:-1]) + 1]  # each customer's first row (rows sorted by it)
    first = month_no[starts]
    length = last - first + 1
    if length.sum() == len(cm):
        return cm.loc[:, ["month", "customer_id", "mrr"]].reset_index(drop=True), CustomerCodes(cust, ids)
    grid_cust = np.repeat(cust[starts], length)
    grid_no = np.repeat(first, length) + (np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length))
    span = last + 1
    values = np.zeros(len(grid_no))
    values[np.searchsorted(grid_cust * span + grid_no, cust * span + month_no)] = cm["mrr"].to_numpy()
    months = pd.to_datetime({"year": grid_no // 12, "month": grid_no % 12 + 1, "day": 1}).astype("datetime64[ns]")
    return pd.DataFrame({"month": months.to_numpy(), "customer_id": ids[grid_cust],
                         "mrr": values}), CustomerCodes(grid_cust, ids)


@dataclass(frozen=True)
class Classified:
    """customer_months made dense and read (`classify`): what the MRR tab and the Movements tab are both built from.

    frame: month, customer_id, mrr (every month from each customer's first to the table's last, 0 filled), sorted by
    customer and month; cust: each row's customer as a code into `ids` (the customer ids sorted as text, so codes sort
    as the ids do); code: its movement, as its position in KINDS (`kinds` gives the names); prev and cents: its MRR at
    the previous snapshot and at this one, in cents; active: MRR > 0."""

    frame: pd.DataFrame
    cust: np.ndarray
    ids: np.ndarray
    code: np.ndarray
    prev: np.ndarray
    cents: np.ndarray
    active: np.ndarray

    def kinds(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The movement names of `rows` (positions; None: all), one shared str object per name."""
        return np.asarray(KINDS, dtype=object)[self.code if rows is None else self.code[rows]]


KINDS: tuple[str, ...] = ("new", "reactivation", "churn", "expansion", "contraction", "flat")  # classify's order


def classify(customer_months: pd.DataFrame, codes: CustomerCodes | None = None) -> Classified:
    """Each customer-month's movement (metrics.md 3), computed once for `mrr_by_month` and `movements`. `codes`:
    customer_months' customers as codes (kpi.schedule.CustomerCodes), when known."""
    cm, coded = _dense(customer_months, codes)
    cust = coded.cust
    b = cm["mrr"].to_numpy(dtype="float64")
    first = group_starts(cust)
    a = np.where(first, 0.0, np.r_[0.0, b[:-1]])
    # had: paid before, within the customer's rows so far (a running count of paying rows, less the count its
    # first row starts from: no grouped cummax, whose casts cost seconds at 10M customer-months)
    paying = np.cumsum(a > 0)
    had = paying > np.maximum.accumulate(np.where(first, paying - (a > 0), 0)) if len(cm) else first
    code = np.select(
        [(a == 0) & (b > 0) & ~had, (a == 0) & (b > 0), (a > 0) & (b == 0), (a > 0) & (a < b), (b > 0) & (b < a)],
        list(range(len(KINDS) - 1)),
        default=len(KINDS) - 1,
    )
    return Classified(frame=cm, cust=cust, ids=coded.ids, code=code.astype(np.int8), prev=to_cents(a),
                      cents=to_cents(b), active=b > 0)


def movements(customer_months: pd.DataFrame, classified: Classified | None = None) -> pd.DataFrame:
    """One row per customer and month (customer_months made dense) with its MRR movement (metrics.md 3).

    Columns: month, customer_id, mrr_prev (its MRR at the previous snapshot, 0 before its first
    month), mrr, movement (new / expansion / contraction / churn / reactivation / flat), delta
    (mrr - mrr_prev); amounts rounded to the cent. Churn is the month the MRR falls to 0 (a row with
    mrr 0); new is the first rise from 0, reactivation any later one. `classified`: classify(customer_months), when
    already computed.
    """
    return _movement_rows(classified if classified is not None else classify(customer_months), None)


def _movement_rows(c: Classified, keep: np.ndarray | None) -> pd.DataFrame:
    """`movements` of the rows `keep` (positions; None: all) of a classification."""
    cm, kind, a, b = c.frame, c.kinds(keep), c.prev, c.cents
    if keep is not None:
        cm, a, b = cm.take(keep), a[keep], b[keep]
    return cm.assign(mrr=b / 100, mrr_prev=a / 100, movement=kind, delta=(b - a) / 100).loc[
        :, ["month", "customer_id", "mrr_prev", "mrr", "movement", "delta"]
    ].reset_index(drop=True)


MOVEMENT_TABLE_COLUMNS: tuple[str, ...] = ("month", "customer_id", "movement", "mrr_prev", "mrr", "delta", "ref")
_GAINS = ("new", "expansion", "reactivation")


def _counted_pieces(schedule: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The pieces a snapshot can count (MRR > 0, starting by as_of), their starts (ns) and their row positions."""
    positive = (schedule["mrr"] > 0).to_numpy()
    pieces = schedule.loc[positive]
    start = _ns(pieces["start"])
    keep = start <= as_of.value
    return pieces.loc[keep], start[keep], np.flatnonzero(positive)[keep]


def ref_months(schedule: pd.DataFrame, as_of: pd.Timestamp, timezone: str, codes: Codes | None = None
               ) -> pd.DataFrame:
    """MRR per customer, ref and month snapshot, where the ref has an active piece (`coded_ref_months`' frame)."""
    return coded_ref_months(schedule, as_of, timezone, codes)[0]


def coded_ref_months(schedule: pd.DataFrame, as_of: pd.Timestamp, timezone: str, codes: Codes | None = None
                     ) -> tuple[pd.DataFrame, Codes | None]:
    """MRR per customer, ref and month snapshot, where the ref has an active piece.

    Columns: month (tz-naive first day), customer_id (str), ref (the series, term or contract of the schedule),
    mrr (the exact sum of that ref's pieces active at the snapshot). Same snapshots and the same rule as
    customer_months (start <= snapshot < end; pieces starting after as_of ignored), without the zero rows.
    `codes`: the schedule's customers and refs as integer codes (kpi.schedule.Codes), when known. Also returns the
    frame's own customers and refs as codes, row by row (for `movement_refs`; None when there are no rows).
    """
    as_of = pd.Timestamp(as_of)
    pieces, start, rows_kept = _counted_pieces(schedule, as_of)
    columns = {"month": "datetime64[ns]", "customer_id": "object", "ref": "object", "mrr": "float64"}
    if pieces.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()}), None
    snaps = month_snapshots(as_of, pd.Timestamp(start.min(), tz="UTC"), timezone)
    snap = snaps["snapshot"].dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    first = np.searchsorted(snap, start, side="left")
    count = np.maximum(np.searchsorted(snap, _ns(pieces["end"]), side="left") - first, 0)
    rows = np.repeat(np.arange(len(count)), count)
    month_ix = first[rows] + (np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count))
    # (month, customer, ref) as one int64 of sorted codes: grouped as integers, in the order of the text
    if codes is not None:
        cust, cust_ids, ref, ref_ids = codes.cust[rows_kept], codes.ids, codes.ref[rows_kept], codes.refs
    else:
        cust, cust_ids = pd.factorize(pieces["customer_id"].astype(str), sort=True)
        ref, ref_ids = pd.factorize(pieces["ref"].astype(str), sort=True)
    n_cust, n_ref = max(len(cust_ids), 1), max(len(ref_ids), 1)
    if len(snap) * n_cust * n_ref >= 2**62:
        cells = pd.DataFrame({"month": snaps["month"].to_numpy()[month_ix],
                              "customer_id": np.asarray(cust_ids, dtype=object)[cust[rows]],
                              "ref": np.asarray(ref_ids, dtype=object)[ref[rows]],
                              "mrr": pieces["mrr"].to_numpy(dtype="float64")[rows]})
        return cells.groupby(["month", "customer_id", "ref"], as_index=False, sort=True)["mrr"].sum(), None
    key = (month_ix.astype(np.int64) * n_cust + cust[rows]) * n_ref + ref[rows]
    # each cell summed alone, in the pieces' order (as `paid_revenue`: the same sums in a slice as in the whole log)
    cell, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=pieces["mrr"].to_numpy(dtype="float64")[rows], minlength=len(cell))
    cust_ids, ref_ids = np.asarray(cust_ids, dtype=object), np.asarray(ref_ids, dtype=object)
    out_cust, out_ref = cell // n_ref % n_cust, cell % n_ref
    frame = pd.DataFrame(
        {
            "month": snaps["month"].to_numpy()[cell // (n_cust * n_ref)],
            "customer_id": cust_ids[out_cust],
            "ref": ref_ids[out_ref],
            "mrr": total,
        }
    )
    return frame, Codes(cust=out_cust, ids=cust_ids, ref=out_ref, refs=ref_ids)


def month_number(months: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Months as a running month number (year * 12 + month - 1), for month arithmetic (zoned ones read in their
    zone). Through pandas' year and month fields: numpy's cast to datetime64[M] is slower (15.7M rows: 0.3 against
    0.9-1.3 s here with the test suite running beside it; stop 36 measured 0.30 against 0.56 s)."""
    index = pd.DatetimeIndex(months)
    return np.asarray(index.year * 12 + index.month - 1, dtype=np.int64)


def movement_refs(moves: pd.DataFrame, ref_months_: pd.DataFrame, ref_codes: Codes | None = None,
                  moves_cust: np.ndarray | None = None) -> pd.Series:
    """For each row of `moves` (month, customer_id, movement), the refs behind it, joined by ", " ("" if none).

    The refs whose own MRR, in cents, moved the way the customer's did between the previous snapshot and this
    one: for churn and contraction those that fell or ended, for new, reactivation and expansion those that
    rose or started. A churn thus names every series or term the customer had (the one whose renewal did not
    come), a new customer the ones it started with. Sorted by ref within a row. `ref_codes`: ref_months_'s customers
    and refs as codes, row by row (`coded_ref_months`), when known; `moves_cust`: the customers of `moves` as codes
    into the same ids as ref_codes', when known.
    """
    out = pd.Series("", index=moves.index, dtype=object)
    if moves.empty or ref_months_.empty:
        return out
    # integer keys throughout: (customer, ref) pair x month number, so no merge on text is needed at scale
    if ref_codes is not None and len(ref_codes.cust) == len(ref_months_):
        cust, cust_ids, ref, ref_ids = ref_codes.cust, ref_codes.ids, ref_codes.ref, ref_codes.refs
    else:  # refs numbered in the order of their text, like kpi.schedule.Codes' refs
        moves_cust = None  # codes into ids these refs do not use
        cust, cust_ids = pd.factorize(ref_months_["customer_id"].astype(str))
        ref, ref_ids = pd.factorize(ref_months_["ref"].astype(str), sort=True)
    month = month_number(ref_months_["month"])
    m_month = month_number(moves["month"])
    last = max(int(month.max()), int(m_month.max()))  # a movement row may come after every ref's last month
    low, span = int(month.min()), last - int(month.min()) + 2  # room for the month after the last
    pair = cust.astype(np.int64) * len(ref_ids) + ref
    key = pair * span + (month - low)
    order = np.argsort(key, kind="stable")
    key, cents, cust, ref, month = key[order], to_cents(ref_months_["mrr"])[order], cust[order], ref[order], month[order]
    prev, ends = _ref_neighbours(key, cents, month, last)
    moved = cents != prev
    ev_cust = np.r_[cust[moved], cust[ends]]
    ev_month = np.r_[month[moved], month[ends] + 1]
    ev_ref = np.r_[ref[moved], ref[ends]]
    ev_rise = np.r_[cents[moved] > prev[moved], np.zeros(int(ends.sum()), dtype=bool)]
    months_span = span + 1
    ev_key = ((ev_cust.astype(np.int64) * months_span + (ev_month - low)) * 2 + ev_rise)
    ev_names = np.asarray(ref_ids, dtype=object)[ev_ref]
    ev_order = np.lexsort((ev_ref, ev_key))  # refs by code: the order of their text
    ev_key, ev_names = ev_key[ev_order], ev_names[ev_order]
    if moves_cust is not None and len(moves_cust) == len(moves):
        m_cust = np.asarray(moves_cust, dtype=np.int64)
    else:
        m_cust = pd.Index(cust_ids).get_indexer(moves["customer_id"].astype(str))
    m_key = (m_cust.astype(np.int64) * months_span + (m_month - low)) * 2 + moves["movement"].isin(_GAINS).to_numpy()
    lo, hi = np.searchsorted(ev_key, m_key, "left"), np.searchsorted(ev_key, m_key, "right")
    unknown = (m_cust < 0) | (m_month < low)  # a customer with no ref at all, or a month before every ref
    lo[unknown] = hi[unknown]
    single = np.flatnonzero(hi - lo == 1)
    values = out.to_numpy(dtype=object).copy()
    values[single] = ev_names[lo[single]]
    for i in np.flatnonzero(hi - lo > 1):
        values[i] = ", ".join(ev_names[lo[i]:hi[i]])
    return pd.Series(values, index=moves.index, dtype=object)


def _ref_neighbours(key: np.ndarray, cents: np.ndarray, month: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
    """For ref-months sorted by `key` (a (customer, ref) pair x month number): each one's MRR in cents the month
    before (0 when its ref had no row then), and whether its ref ends there (no row the month after, that month still
    in the table: month < `last`). With one row per ref and month (keys strictly increasing), the months around a row
    are its neighbours in key order (10M charges: 1.4 s of searches saved); else they are searched."""
    if len(key) and (key[1:] > key[:-1]).all():
        prev = np.where(np.r_[False, key[:-1] == key[1:] - 1], np.r_[0, cents[:-1]], 0)
        return prev, ~np.r_[key[1:] == key[:-1] + 1, False] & (month < last)
    return _searched_neighbours(key, cents, month, last)


def _searched_neighbours(key: np.ndarray, cents: np.ndarray, month: np.ndarray, last: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """`_ref_neighbours` by binary search: the first row of the month before, and any row of the month after."""
    at = np.searchsorted(key, key - 1)
    had = (at < len(key)) & (key[np.minimum(at, len(key) - 1)] == key - 1)
    prev = np.where(had, cents[np.minimum(at, len(key) - 1)], 0)
    nxt = np.searchsorted(key, key + 1)
    return prev, ~((nxt < len(key)) & (key[np.minimum(nxt, len(key) - 1)] == key + 1)) & (month < last)


def movement_table(customer_months: pd.DataFrame, ref_months_: pd.DataFrame | None = None,
                   classified: Classified | None = None, ref_codes: Codes | None = None) -> pd.DataFrame:
    """One row per customer and month where its MRR moved (every movement but flat): MOVEMENT_TABLE_COLUMNS.

    month, customer_id, movement (new / expansion / contraction / churn / reactivation), mrr_prev and mrr (to the
    cent, as summed in the MRR tab), delta = mrr - mrr_prev, ref (movement_refs; "" without `ref_months_`).
    Newest month first, then the largest changes, then customer_id: a table cut to its first rows keeps the
    latest and largest movements. Summed by month and movement, it is the MRR tab's movements (check_movements).
    """
    c = classified if classified is not None else classify(customer_months)
    keep = np.flatnonzero(c.code != KINDS.index("flat"))  # the flat rows never made: most rows
    moved = _movement_rows(c, keep)
    cust = c.cust[keep]  # codes into c.ids, which sort as the ids do
    if ref_months_ is None:
        refs = pd.Series("", index=moved.index)
    elif ref_codes is not None and same_ids(ref_codes.ids, c.ids):
        refs = movement_refs(moved, ref_months_, ref_codes, moves_cust=cust)
    else:
        refs = movement_refs(moved, ref_months_, ref_codes)
    table = moved.assign(ref=refs.to_numpy(dtype=object), _size=-moved["delta"].abs(), _cust=cust)
    return table.sort_values(["month", "_size", "_cust"], ascending=[False, True, True], kind="stable").loc[
        :, list(MOVEMENT_TABLE_COLUMNS)].reset_index(drop=True)


def repeated_customer_months(customer_months: pd.DataFrame, codes: CustomerCodes | None = None) -> int:
    """How many rows of customer_months repeat the customer and month of an earlier row (0 in a valid table).
    `codes`: its customers as codes (kpi.schedule.CustomerCodes), when known: the ids are then not hashed."""
    if codes is None or not codes.fits(len(customer_months)):
        return int(customer_months.duplicated(["customer_id", "month"]).sum())
    if codes.one_row_per_month(customer_months["month"]):
        return 0  # sorted by customer and month, one row each, as kpi.mrr.customer_months makes it
    return int(pd.DataFrame({"customer": codes.cust, "month": customer_months["month"].to_numpy()}).duplicated().sum())


def check_movements(movement_table_: pd.DataFrame, mrr_by_month_: pd.DataFrame) -> list[str]:
    """Where the Movements rows do not add up to the MRR tab, to the cent: one sentence per broken month.

    Each row's change must be its MRR after - before; summed by month, each category's changes must be the MRR
    tab's movement of that name (contraction and churn with their sign turned) and its rows the tab's counts of
    new, reactivated and churned customers; no row may fall in a month the MRR tab does not have.
    """
    t = movement_table_
    problems: list[str] = []
    cents = {c: to_cents(t[c]) for c in ("mrr_prev", "mrr", "delta")}
    wrong = int((cents["mrr"] - cents["mrr_prev"] != cents["delta"]).sum())
    if wrong:
        problems.append(f"{wrong} Movements rows whose change is not MRR after - MRR before")
    months = pd.DatetimeIndex(mrr_by_month_["month"])
    at = months.get_indexer(pd.DatetimeIndex(t["month"]))
    kept = at >= 0
    if not kept.all():
        problems.append(f"{int((~kept).sum())} Movements rows in months the MRR table does not have")
    checks = (("new", "new_mrr", 1, "new_customers"), ("expansion", "expansion_mrr", 1, None),
              ("reactivation", "reactivation_mrr", 1, "reactivated_customers"),
              ("contraction", "contraction_mrr", -1, None), ("churn", "churned_mrr", -1, "churned_customers"))
    for movement, column, sign, count in checks:
        rows = kept & (t["movement"].to_numpy() == movement)
        got = np.bincount(at[rows], weights=cents["delta"][rows], minlength=len(months)).round().astype(np.int64) * sign
        n = np.bincount(at[rows], minlength=len(months))
        want = to_cents(mrr_by_month_[column])
        for i in np.flatnonzero(got != want):
            problems.append(f"{months[i]:%Y-%m}: Movements {movement} rows sum to {got[i] / 100:.2f}, the MRR tab's "
                            f"{column} is {want[i] / 100:.2f}")
        if count is not None:
            want_n = mrr_by_month_[count].to_numpy(dtype=np.int64)
            for i in np.flatnonzero(n != want_n):
                problems.append(f"{months[i]:%Y-%m}: {n[i]} Movements {movement} rows, the MRR tab's {count} is "
                                f"{want_n[i]}")
    return problems


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, NaN where den is 0 (an empty cell, never 0 or inf)."""
    return (num / den.where(den != 0)).astype("float64")


def _rates(frame: pd.DataFrame, mrr_prev: pd.Series, customers_prev: pd.Series) -> pd.DataFrame:
    lost = frame["churned_mrr"] + frame["contraction_mrr"]
    gained = frame["new_mrr"] + frame["expansion_mrr"] + frame["reactivation_mrr"]
    return frame.assign(
        arpa=_ratio(frame["mrr"], frame["customers"]),
        mrr_growth=_ratio(frame["mrr"] - mrr_prev, mrr_prev),
        new_mrr_rate=_ratio(frame["new_mrr"], mrr_prev),
        expansion_mrr_rate=_ratio(frame["expansion_mrr"], mrr_prev),
        contraction_mrr_rate=_ratio(frame["contraction_mrr"], mrr_prev),
        churned_mrr_rate=_ratio(frame["churned_mrr"], mrr_prev),
        logo_churn=_ratio(frame["churned_customers"], customers_prev),
        gross_mrr_churn=_ratio(lost, mrr_prev),
        net_mrr_churn=_ratio(lost - frame["expansion_mrr"] - frame["reactivation_mrr"], mrr_prev),
        quick_ratio=_ratio(gained, lost),
    )


def mrr_by_month(customer_months: pd.DataFrame, classified: Classified | None = None) -> pd.DataFrame:
    """One row per month, from the first to the last month of `customer_months`, no gaps: MONTH_COLUMNS.

    Money columns are exact to the cent (summed in integer cents); counts are ints; rates are
    fractions against the previous month (NaN when the denominator is 0). `classified`: classify(customer_months),
    when already computed.
    """
    c = classified if classified is not None else classify(customer_months)
    cm, a, b, active = c.frame, c.prev, c.cents, c.active
    new, expansion, contraction, churn, reactivation = (c.code == KINDS.index(k) for k in (
        "new", "expansion", "contraction", "churn", "reactivation"))
    if cm.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "month" else "float64") for c in MONTH_COLUMNS})
    month = cm["month"].to_numpy(dtype="datetime64[ns]")
    months = pd.date_range(month.min(), month.max(), freq="MS")
    at = (month.astype("datetime64[M]") - month.min().astype("datetime64[M]")).astype(np.int64)  # row -> month
    if len(months) != int(at.max()) + 1 or not (months.to_numpy(dtype="datetime64[ns]")[at] == month).all():
        raise ValueError("customer_months has a month that is not a first day")

    def total(rows: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Per month of `months`, the sum of `values` (1 each without) over the rows `rows` (a mask): exact int64."""
        out = np.zeros(len(months), dtype=np.int64)
        np.add.at(out, at[rows], 1 if values is None else values[rows])
        return out

    # summed month by month without a frame of 11 columns x every customer-month
    sums = pd.DataFrame(
        {
            "mrr": total(np.ones(len(b), dtype=bool), b),
            "customers": total(active),
            "new_mrr": total(new, b),
            "expansion_mrr": total(expansion, b - a),
            "contraction_mrr": total(contraction, a - b),
            "churned_mrr": total(churn, a),
            "reactivation_mrr": total(reactivation, b),
            "new_customers": total(new),
            "reactivated_customers": total(reactivation),
            "churned_customers": total(churn),
        },
        index=months,
    )
    sums["net_new_mrr"] = (sums["new_mrr"] + sums["expansion_mrr"] + sums["reactivation_mrr"]
                           - sums["contraction_mrr"] - sums["churned_mrr"])
    frame = sums.assign(**{c: sums[c] / 100 for c in _MONEY}).rename_axis("month").reset_index()
    frame["month"] = frame["month"].astype("datetime64[ns]")
    mrr_prev = frame["mrr"].shift(1, fill_value=0.0)
    customers_prev = frame["customers"].shift(1, fill_value=0)
    months_index = pd.DatetimeIndex(frame["month"])
    base = base_retention(cm, months_index - pd.DateOffset(months=12), months_index, cust=c.cust)
    frame = frame.assign(nrr_12m=_ratio(base["end_mrr"], base["start_mrr"]),
                         grr_12m=1 - _ratio(base["lost_mrr"], base["start_mrr"]))
    return _rates(frame, mrr_prev, customers_prev).loc[:, list(MONTH_COLUMNS)]


def base_retention(customer_months: pd.DataFrame, starts: pd.DatetimeIndex | pd.Series,
                   ends: pd.DatetimeIndex | pd.Series, cust: np.ndarray | None = None) -> pd.DataFrame:
    """What the customers paying at each start snapshot pay at the matching end snapshot (metrics.md 4, periods).

    `customer_months`: one row per customer and month (a month without a row is 0). `starts` and `ends` are
    months of equal length, pair by pair (a start may lie before the data: nobody paid then). One row per pair, in order, columns BASE_COLUMNS: start_customers (MRR > 0 at the start), start_mrr
    (their MRR then: the MRR at the start), and, each of them compared start to end: lost_customers (MRR 0 at the
    end), lost_mrr (what they lost: all of it for those at 0, the decrease for those paying less = churn +
    contraction of the starting base), gained_mrr (the increase of those paying more) and end_mrr (what they pay at
    the end, whoever else joined meanwhile). Money is summed in integer cents like the MRR tab, so
    end_mrr = start_mrr - lost_mrr + gained_mrr exactly, lost_customers <= start_customers and lost_mrr <= start_mrr.
    """
    start_no = month_number(pd.Series(pd.DatetimeIndex(starts)))
    end_no = month_number(pd.Series(pd.DatetimeIndex(ends)))
    n_pairs = len(start_no)
    if cust is None:  # `cust`: each row's customer as an int code (any one-to-one labelling), when known
        cust, _ = pd.factorize(customer_months["customer_id"].astype(str))
    month = month_number(customer_months["month"])
    exact = customer_months["mrr"].to_numpy(dtype="float64")
    sums = np.zeros((len(BASE_COLUMNS), n_pairs), dtype=np.int64)
    if len(month) and n_pairs:
        # every (row active at a start month, pair with that start), and what that row's customer pays at the end
        followed = _followed_in_order(cust, month, exact, start_no, end_no)
        rows, pair, b = followed if followed is not None else _followed(cust, month, exact, start_no, end_no)
        a_cents, b_cents = to_cents(exact[rows]), to_cents(b)
        values = (np.ones(len(rows), np.int64), a_cents, (b <= 0).astype(np.int64),
                  np.maximum(a_cents - b_cents, 0), np.maximum(b_cents - a_cents, 0), b_cents)
        for i, v in enumerate(values):
            sums[i] = np.bincount(pair, weights=v, minlength=n_pairs).round().astype(np.int64)
    out = pd.DataFrame(dict(zip(BASE_COLUMNS, sums, strict=True)))
    money = ["start_mrr", "lost_mrr", "gained_mrr", "end_mrr"]
    return out.assign(**{c: out[c] / 100 for c in money})


def _followed(cust: np.ndarray, month: np.ndarray, exact: np.ndarray, start_no: np.ndarray, end_no: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`base_retention`'s (row, pair) couples, each row active (MRR > 0) at its pair's start month, in row order, and
    the MRR of that row's customer at the pair's end (0 without a row then), through sorted integer keys."""
    low = min(int(month.min()), int(end_no.min()))
    span = max(int(month.max()), int(end_no.max())) - low + 1
    key = cust.astype(np.int64) * span + (month - low)
    order = np.argsort(key, kind="stable")
    key = key[order]
    by_start = np.argsort(start_no, kind="stable")  # pairs sorted by start month
    first = np.searchsorted(start_no[by_start], month, "left")
    count = np.where(exact > 0, np.searchsorted(start_no[by_start], month, "right") - first, 0)
    rows = np.repeat(np.arange(len(month)), count)
    pair = by_start[np.repeat(first, count) + (np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count))]
    end_key = cust[rows].astype(np.int64) * span + (end_no[pair] - low)
    at = np.minimum(np.searchsorted(key, end_key), len(key) - 1)
    return rows, pair, np.where(key[at] == end_key, exact[order[at]], 0.0)


def _followed_in_order(cust: np.ndarray, month: np.ndarray, exact: np.ndarray, start_no: np.ndarray,
                       end_no: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`_followed` without a sort or a search, for rows as kpi.mrr.classify makes them (sorted by customer, each
    customer's months one after the other up to the table's last month) and pairs of distinct starts, each ending
    no earlier than it starts: a row's end is then the row as many places on as there are months between (its
    customer's, when the end is within the table). None for other rows or pairs. The 10M bench's
    15.7M customer-months, pairs 12 months apart: 1.1 and 2.1 s against 2.5 and 3.5 s searched (stop 38,
    benchmarks/results.md)."""
    last = int(month.max())
    same = cust[1:] == cust[:-1]
    if not (((month[1:] == month[:-1] + 1) & same) | (~same & (cust[1:] > cust[:-1]) & (month[:-1] == last))).all():
        return None
    if month[-1] != last or (end_no < start_no).any() or len(np.unique(start_no)) != len(start_no):
        return None
    low = int(month.min())
    pair_at = np.full(last - low + 1, -1, dtype=np.int64)  # month -> the pair starting then (-1: none)
    within = (start_no >= low) & (start_no <= last)
    pair_at[start_no[within] - low] = np.flatnonzero(within)
    rows = np.flatnonzero((exact > 0) & (pair_at[month - low] >= 0))
    pair = pair_at[month[rows] - low]
    ends = end_no[pair]
    reach = ends <= last  # else its customer has no row then: 0
    at = np.where(reach, rows + (ends - month[rows]), 0)
    return rows, pair, np.where(reach, exact[at], 0.0)


def mrr_by_quarter(mrr_by_month: pd.DataFrame, customer_months: pd.DataFrame, codes: CustomerCodes | None = None
                   ) -> pd.DataFrame:
    """One row per calendar quarter of `mrr_by_month`: QUARTER_COLUMNS.

    quarter ("2017-Q1"), quarter_start (its first month), months (months of the quarter in the data: fewer
    than 3 for a quarter not over, or the first one); mrr_start and customers_start at the end of the
    previous quarter (0 before the first month); mrr and customers at the quarter's last month; movements and
    counts summed over its months (churned_arr, contraction_arr = x 12). Rates are measured on the customers
    paying at the start, followed to the end (base_retention): base_customers_lost, base_mrr_lost and
    base_mrr_end are their figures; logo_churn = base_customers_lost / customers_start, gross_mrr_churn =
    base_mrr_lost / mrr_start, net_mrr_churn = (lost - gained) / mrr_start = 1 - nrr, grr = 1 - gross_mrr_churn, nrr = base_mrr_end /
    mrr_start (NaN when the denominator is 0). mrr_growth compares the quarter's end with its start;
    quick_ratio divides the summed gains by the summed losses. `codes`: customer_months' customers as codes
    (kpi.schedule.CustomerCodes), when known.
    """
    mm = mrr_by_month
    if mm.empty:
        return pd.DataFrame({c: pd.Series(dtype="object" if c == "quarter" else "float64") for c in QUARTER_COLUMNS})
    period = pd.DatetimeIndex(mm["month"]).to_period("Q")
    money = {c: to_cents(mm[c]) for c in _MONEY if c in _FLOWS}
    grouped = mm.assign(_q=period, **money).groupby("_q", sort=True)
    frame = grouped[list(_FLOWS)].sum()
    frame = frame.assign(
        mrr=grouped["mrr"].last(),
        customers=grouped["customers"].last().astype(np.int64),
        months=grouped.size().astype(np.int64),
        end_month=grouped["month"].last(),
        **{c: frame[c] / 100 for c in _FLOWS if c in money},
    )
    frame = frame.assign(
        quarter=[f"{p.year}-Q{p.quarter}" for p in frame.index],
        quarter_start=frame.index.to_timestamp(how="start").astype("datetime64[ns]"),
    ).reset_index(drop=True)
    starts = pd.DatetimeIndex(frame["quarter_start"]) - pd.DateOffset(months=1)
    cust = codes.cust if codes is not None and codes.fits(len(customer_months)) else None
    base = base_retention(customer_months, starts, pd.DatetimeIndex(frame["end_month"]), cust=cust)
    start_mrr = base["start_mrr"]
    lost = frame["churned_mrr"] + frame["contraction_mrr"]
    gained = frame["new_mrr"] + frame["expansion_mrr"] + frame["reactivation_mrr"]
    frame = frame.assign(
        mrr_start=start_mrr,
        customers_start=base["start_customers"],
        arpa=_ratio(frame["mrr"], frame["customers"]),
        churned_arr=(to_cents(frame["churned_mrr"]) * 12) / 100,
        contraction_arr=(to_cents(frame["contraction_mrr"]) * 12) / 100,
        base_customers_lost=base["lost_customers"],
        base_mrr_lost=base["lost_mrr"],
        base_mrr_end=base["end_mrr"],
        mrr_growth=_ratio(frame["mrr"] - start_mrr, start_mrr),
        logo_churn=_ratio(base["lost_customers"].astype("float64"), base["start_customers"].astype("float64")),
        gross_mrr_churn=_ratio(base["lost_mrr"], start_mrr),
        net_mrr_churn=_ratio(base["lost_mrr"] - base["gained_mrr"], start_mrr),
        grr=1 - _ratio(base["lost_mrr"], start_mrr),
        nrr=_ratio(base["end_mrr"], start_mrr),
        quick_ratio=_ratio(gained, lost),
    )
    return frame.loc[:, list(QUARTER_COLUMNS)]


def check_identity(mrr_by_month: pd.DataFrame) -> list[str]:
    """Months where MRR != previous MRR + new + expansion + reactivation - contraction - churn, to the cent.

    Returns one sentence per broken month (empty = the identity holds everywhere).
    """
    mm = mrr_by_month
    c = {name: to_cents(mm[name]) for name in ("mrr", "new_mrr", "expansion_mrr", "reactivation_mrr",
                                                "contraction_mrr", "churned_mrr")}
    prev = np.r_[0, c["mrr"][:-1]]
    expected = prev + c["new_mrr"] + c["expansion_mrr"] + c["reactivation_mrr"] - c["contraction_mrr"] - c["churned_mrr"]
    broken = np.flatnonzero(expected != c["mrr"])
    months = pd.DatetimeIndex(mm["month"])
    return [
        f"{months[i]:%Y-%m}: MRR {c['mrr'][i] / 100:.2f} but previous {prev[i] / 100:.2f} + new "
        f"{c['new_mrr'][i] / 100:.2f} + expansion {c['expansion_mrr'][i] / 100:.2f} + reactivation "
        f"{c['reactivation_mrr'][i] / 100:.2f} - contraction {c['contraction_mrr'][i] / 100:.2f} - churn "
        f"{c['churned_mrr'][i] / 100:.2f} = {expected[i] / 100:.2f}"
        for i in broken
    ]


# ----------------------------------------------------------------------------- customers


def paid_revenue(charges: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """customer_id -> sum of positive charge amounts paid at or before as_of (refunds are not netted)."""
    paid = ((charges["amount"] > 0) & (charges["paid_at"] <= as_of)).to_numpy()
    # grouped by integer codes of the ids' text (sorted as the text): neither the charges nor their ids copied as text
    codes, ids = text_codes(charges["customer_id"] if paid.all() else charges["customer_id"][paid])
    known = codes >= 0
    # summed in the rows' order, each customer's alone (np.bincount): pandas' groupby sum is compensated or not
    # depending on whether the whole key column is sorted, so a customer's total would depend on the other rows,
    # and a slice of the log (kpi.partition.Slices) could differ from the whole in the last bit
    amounts = charges["amount"].to_numpy(dtype="float64")[paid][known]
    cents = to_cents(amounts)
    exact = np.array_equal(cents / 100, amounts)  # money to the cent: summed exactly, in whole cents
    sums = np.asarray(np.bincount(codes[known], weights=cents if exact else amounts, minlength=len(ids)),
                      dtype=np.float64)
    if exact:
        sums = sums / 100
    # every id of text_codes has a row here: they are the ids of these very rows
    return pd.Series(sums, index=pd.Index(ids, dtype="str", name="customer_id"), name="lifetime_revenue")


def lifetime_revenue(charges: pd.DataFrame | None, as_of: pd.Timestamp,
                     customer_months: pd.DataFrame) -> pd.Series:
    """customer_id -> lifetime revenue.

    Payment logs: the sum of the customer's positive charges paid up to as_of (refunds not netted).
    Contracts (no charges): the sum of its month-snapshot MRR over customer_months, i.e. one month of
    recurring revenue per month it was active (one-shot items are not included).
    """
    if charges is not None:
        return paid_revenue(charges, as_of)
    cm = customer_months
    return cm.groupby(cm["customer_id"].astype(str))["mrr"].sum().round(2)


def customer_keys(customer_months: pd.DataFrame, codes: CustomerCodes | None = None
                  ) -> tuple[pd.Series, np.ndarray | None]:
    """Each row's customer as a key to group customer_months by: its code when `codes` (kpi.schedule.CustomerCodes)
    fit the frame, with the ids the codes stand for; else its id as text, and None. A code stands for one id and codes
    sort as the ids do, so grouping by either gives the same groups in the same order (`id_index`, `keys_at`)."""
    if codes is not None and codes.fits(len(customer_months)):
        return (pd.Series(codes.cust, index=customer_months.index, name="customer_id"),
                np.asarray(codes.ids, dtype=object))
    return customer_months["customer_id"].astype(str), None


@dataclass(frozen=True)
class PayingMonths:
    """customer_months' months with MRR > 0 up to a month, per customer code (`paying_months`); each Series indexed
    by the codes of the customers it has a value for, in code order, as grouping the rows by code gives it.

    first, last: the first and last such month; months: how many; current: the MRR in the month itself (those paying
    then); listed: the codes of every customer with a row up to that month (paying or not), in code order. codes and
    as_of_month: what they were read with."""

    first: pd.Series
    last: pd.Series
    months: pd.Series
    current: pd.Series
    listed: np.ndarray
    codes: CustomerCodes
    as_of_month: pd.Timestamp


def paying_months(customer_months: pd.DataFrame, codes: CustomerCodes | None, as_of_month: pd.Timestamp,
                  known: PayingMonths | None = None) -> PayingMonths | None:
    """`PayingMonths` of customer_months as kpi.mrr.coded_customer_months makes it (sorted by customer code, then
    month, one row per customer and month: `codes.one_row_per_month`), read from its columns as arrays: no copy of
    the frame's rows, no grouping (10M charges: 15.7M rows, for the Customers tab, the profile and the customer ids).
    None for other frames, which the callers group. `known`: these, already read (Context reads them once), taken
    when they were read with these very codes and month."""
    if codes is None:
        return None
    if known is not None and known.codes is codes and known.as_of_month == as_of_month:
        return known
    if not codes.one_row_per_month(customer_months["month"]):
        return None
    month = customer_months["month"].to_numpy(dtype="datetime64[ns]")
    exact = customer_months["mrr"].to_numpy(dtype="float64")
    then = pd.Timestamp(as_of_month).as_unit("ns").to_datetime64()
    by_then = month <= then
    counted = by_then & (exact > 0)
    cust, when = codes.cust[counted], month[counted]
    heads = np.flatnonzero(group_starts(cust))  # each customer's first counted row (rows sorted by customer)
    tails = np.r_[heads[1:] - 1, len(cust) - 1] if len(heads) else heads
    index = pd.Index(cust[heads], name="customer_id")
    now = counted & (month == then)
    listed = codes.cust[by_then]
    return PayingMonths(
        first=pd.Series(when[heads], index=index, name="min"),
        last=pd.Series(when[tails], index=index, name="max"),
        months=pd.Series(np.diff(np.r_[heads, len(cust)]).astype(np.int64), index=index),
        current=pd.Series(exact[now], index=pd.Index(codes.cust[now], name="customer_id"), name="mrr"),
        listed=listed[group_starts(listed)],
        codes=codes,
        as_of_month=pd.Timestamp(as_of_month),
    )


def id_index(grouped: pd.Series | pd.DataFrame, key_ids: np.ndarray | None) -> pd.Index:
    """The customer ids (text) of a result grouped by `customer_keys`, in its order."""
    if key_ids is None:
        return pd.Index(grouped.index)
    return pd.Index(key_ids[grouped.index.to_numpy(dtype=np.int64)], dtype="str", name="customer_id")


def keys_at(ids: pd.Index, key_ids: np.ndarray | None) -> pd.Index:
    """The keys (`customer_keys`) of these customer ids, to read results grouped by key at them with `reindex`:
    the ids themselves, or their codes (-1 for an id without one, so it reads as missing). One lookup of the ids
    serves every such result."""
    if key_ids is None:
        return ids
    return pd.Index(pd.Index(key_ids, dtype="str").get_indexer(ids), dtype=np.int64)


def _sorted_ids(ids: pd.Index) -> np.ndarray | None:
    """Each id's rank in text order when `ids` are distinct and already in that order (a union of indexes is): an
    integer column to sort by in place of the text; None otherwise."""
    return np.arange(len(ids)) if ids.is_unique and ids.is_monotonic_increasing else None


def union_ids(customers: pd.DataFrame, active: pd.Index, lifetime: pd.Series) -> pd.Index:
    """The ids (text) of the customers in the attributes, of those with MRR (`active`, text) and of those with
    lifetime revenue, as one index: the union, in text order."""
    attrs = pd.Index(customers["customer_id"].astype(str).to_numpy(), name="customer_id")
    paid = pd.Index(lifetime.index.astype(str))
    if not (len(active) or len(paid)) or not (active.is_monotonic_increasing and active.is_unique
                                              and paid.is_monotonic_increasing and paid.is_unique):
        return attrs.drop_duplicates().union(active).union(paid)
    # two sorted indexes merge without hashing; of the attributes' (unsorted) ids only those not among them are sorted
    # (1M ids each: 6.4 s -> under 1 s)
    known = active.union(paid)
    extra = attrs[known.get_indexer(attrs) < 0].drop_duplicates()  # (Index.isin of 1M texts in 1M took 9 s)
    return attrs[:0].union(known.union(extra.sort_values()) if len(extra) else known)


def customer_ids(customers: pd.DataFrame, customer_months: pd.DataFrame, lifetime: pd.Series,
                 as_of_month: pd.Timestamp, codes: CustomerCodes | None = None,
                 paying: PayingMonths | None = None) -> pd.Index:
    """Every customer that `customer_summary` and kpi.profile.customer_profile list (the customers of customer_months
    that are not among these have no month with MRR by as_of; the summary adds them): `union_ids` with the customers
    that have MRR > 0 in a month up to `as_of_month`. Each computes it when not given it, so that one run computes it
    once for both. `codes`: customer_months' customers as codes (kpi.schedule.CustomerCodes), when known; `paying`:
    `paying_months` of these inputs, when already computed."""
    key, key_ids = customer_keys(customer_months, codes)
    paying = paying_months(customer_months, codes, as_of_month, paying)
    if paying is not None and key_ids is not None:
        return union_ids(customers, id_index(paying.months, key_ids), lifetime)
    counted = ((customer_months["month"] <= as_of_month) & (customer_months["mrr"] > 0)).to_numpy()
    key = key.loc[counted]
    return union_ids(customers, id_index(key.groupby(key).size(), key_ids), lifetime)


def customer_summary(customer_months: pd.DataFrame, customers: pd.DataFrame, lifetime: pd.Series,
                     as_of_month: pd.Timestamp, codes: CustomerCodes | None = None,
                     ids: pd.Index | None = None,
                     paying: PayingMonths | None = None) -> pd.DataFrame:
    """One row per customer (in the attributes, with MRR, or with revenue).

    Columns: customer_id, first_month, last_month (first / last month with MRR > 0, NaT if never),
    current_mrr (at the month of as_of, rounded to the cent like the MRR tab), status (active / churned / never active), lifetime_revenue,
    then every other column of `customers` as it is. Sorted by current MRR, then lifetime revenue,
    both descending. `codes`: customer_months' customers as codes (kpi.schedule.CustomerCodes), when known: its rows
    are then grouped by code, and only the customers' ids are text. `ids` and `paying`: `customer_ids` and
    `paying_months` of these inputs, when already computed.
    """
    key, key_ids = customer_keys(customer_months, codes)
    coded = paying_months(customer_months, codes, as_of_month, paying)
    if coded is not None and key_ids is not None:  # read from the columns as arrays: no copy of the rows
        spans = pd.DataFrame({"min": coded.first, "max": coded.last})
        current = coded.current
        listed = pd.Index(key_ids[coded.listed], dtype="str")  # every customer of the table, in code order
    else:
        in_range = (customer_months["month"] <= as_of_month).to_numpy()
        cm, key = customer_months.loc[in_range], key.loc[in_range]
        positive = (cm["mrr"] > 0).to_numpy()
        active, key_active = cm.loc[positive], key.loc[positive]
        spans = active["month"].groupby(key_active).agg(["min", "max"])  # by key: read at the ids through keys_at
        now = (active["month"] == as_of_month).to_numpy()
        current = active["mrr"].loc[now].groupby(key_active.loc[now]).sum()
        listed = (pd.Index(key.unique()) if key_ids is None  # every customer of the table, in the order of its rows
                  else pd.Index(key_ids[pd.unique(key.to_numpy())], dtype="str"))
    attrs = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    lifetime = lifetime.set_axis(lifetime.index.astype(str))
    base = ids if ids is not None else union_ids(customers, id_index(spans, key_ids), lifetime)
    ids = base.union(listed).drop_duplicates()
    at = keys_at(ids, key_ids)
    first = spans["min"].reindex(at)
    current = current.reindex(at, fill_value=0.0)
    status = np.asarray(["active", "churned", "never active"], dtype=object)[  # one str per label, shared by the rows
        np.select([current.to_numpy() > 0, first.notna().to_numpy()], [0, 1], 2)]
    same = key_ids is not None and same_ids(lifetime.index.to_numpy(dtype=object), key_ids)
    out = pd.DataFrame(
        {
            "customer_id": ids.astype(str),
            "first_month": first.to_numpy(),
            "last_month": spans["max"].reindex(at).to_numpy(),
            "current_mrr": to_cents(current.to_numpy(dtype="float64")) / 100,  # as summed in the MRR tab
            "status": status,
            "lifetime_revenue": (lifetime.set_axis(pd.RangeIndex(len(lifetime))).reindex(at, fill_value=0.0) if same
                                 else lifetime.reindex(ids, fill_value=0.0)).to_numpy(dtype="float64"),
        }
    )
    extra = attrs.set_index("customer_id").reindex(ids).reset_index(drop=True)
    out = pd.concat([out, extra.set_axis(out.index)], axis=1)
    # ordered by the amounts as published, to the cent: customers who show the same figures are in id order, not in
    # the order of a last bit that depends on how a sum was added up
    keys = {"_mrr": to_cents(out["current_mrr"]), "_revenue": to_cents(out["lifetime_revenue"])}
    rank = _sorted_ids(ids)  # the order of the ids' text, without sorting the text again (None: sort the text)
    by_id = "customer_id" if rank is None else "_rank"
    order = out.assign(**keys, **({} if rank is None else {"_rank": rank})).sort_values(
        ["_mrr", "_revenue", by_id], ascending=[False, False, True], kind="stable").index
    return out.take(order).reset_index(drop=True)
