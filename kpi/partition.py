"""A payment log read partition by partition: the per-customer frames of a set of customers, and their combination.

Everything a payment-log run derives per customer depends on that customer's charges and attributes alone, with
two exceptions that are shared by the whole log and handed to every partition:

- the price book (kpi.billing.pricebook), learned from the evidence of all customers: each partition gives its
  `evidence` (a first reading by the amount rules alone), the evidence of all partitions is concatenated and the
  book learned once (`shared_book`), exactly as one reading of the whole log learns it;
- the key resolution the billing searches run at (kpi.billing.timeline.Keys), fitted to the whole log's first and
  last charge and its number of charges (`shared_keys`).

With both, `finish` gives each customer exactly the frames one reading of the whole log gives it, and `combine`
puts the partitions' frames back in the whole log's order, so the tables computed from them are the same cell for
cell (tests/sync/test_engine.py checks it on every published tab). The month tables are then computed from the
combined customer-month frame (sums of whole cents per month: kpi.mrr.mrr_by_month), as in a single run.

A log of at most `[engine] slice_charges` charges is one partition whose book and keys are its own (`run_partition`
with `book=None`, `keys=None`); a larger one is read in slices, ranges of its customers (`Slices`,
`run_slices`), in this process or in several (sync/engine.py). sync/engine.py runs the same functions on Dask, one
task per range of customers; docs/scale.md shows them under Spark (customers in buckets of a hash of their id).
Each per-customer sum adds that customer's own rows in their order (np.bincount), so a slice gives the same floats
as the whole log.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import pandas as pd

from kpi import mrr
from kpi.billing import Inference, Reading, evidence_of, finish, learned_book, read_log
from kpi.billing.log import Extent, fit_keys
from kpi.billing.pricebook import PriceBook, PriceEvidence
from kpi.billing.timeline import Keys
from kpi.params import Params
from kpi.schedule import SCHEDULE_COLUMNS, Codes, CustomerCodes, check_schedule, same_ids, text_codes


@dataclass(frozen=True)
class PerCustomer:
    """The per-customer frames of a set of customers (one partition, or all of them combined).

    schedule: kpi.schedule.SCHEDULE_COLUMNS, pieces starting by as_of, sorted by customer, start, end;
    billing: kpi.billing.BILLING_COLUMNS, sorted by customer and anchor;
    customer_months: kpi.mrr.customer_months (month, customer_id, mrr), sorted by customer and month;
    ref_months: kpi.mrr.ref_months (month, customer_id, ref, mrr), sorted by month, customer, ref;
    paid: kpi.mrr.paid_revenue, customer_id -> positive charges paid by as_of, sorted by customer;
    price_book: the book the reading used (the shared one in a partitioned run);
    ref_codes: kpi.mrr.coded_ref_months' codes of ref_months, so the Movements tab does not hash its texts again
    (kept when partitions in order are put end to end, None when hashed partitions are merged);
    month_codes: kpi.mrr.coded_customer_months' codes of customer_months, so the tables built on it do not hash its
    ids again; codes: the reading's codes of the schedule (kpi.billing.Inference.codes), likewise (both kept or not
    as ref_codes).
    """

    schedule: pd.DataFrame
    billing: pd.DataFrame
    customer_months: pd.DataFrame
    ref_months: pd.DataFrame
    paid: pd.Series
    price_book: PriceBook
    ref_codes: Codes | None = None  # ref_months' customers and refs as codes, row by row (None: not kept)
    month_codes: CustomerCodes | None = None  # customer_months' customers as codes, row by row (None: not kept)
    codes: Codes | None = None  # the schedule's customers and refs as codes, row by row (None: not kept)


@dataclass(frozen=True)
class Started:
    """A partition after its first steps (the reading before the price book), kept where it was computed, and its
    paid revenue (kpi.mrr.paid_revenue): its charges are not needed after."""

    paid: pd.Series
    reading: Reading


def charges_by(charges: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The charges a run reads: those paid by as_of (every amount: the inference drops the non-positive ones).
    The frame itself when that is all of them (no copy of millions of rows)."""
    paid = (charges["paid_at"] <= as_of).to_numpy()
    return charges if paid.all() else charges.loc[paid]


def customers_by(customers: pd.DataFrame, charges: pd.DataFrame, paid: pd.DataFrame) -> pd.DataFrame:
    """The customers of a reading as of a day: those of the customers file but the ones whose every charge in the log
    comes later (they were no customers yet: read as of 2016-08-31, the shared log's 535 later customers made its
    "top quarter by lifetime revenue" 2.7% of all). A customer with no charge at all stays: nothing says when it came.
    `paid`: the charges by that day, a subset of `charges`."""
    ids = customers["customer_id"].astype(str)
    later = ~ids.isin(_ids(paid)) & ids.isin(_ids(charges))
    return customers.loc[~later.to_numpy()].reset_index(drop=True) if later.any() else customers


def _ids(charges: pd.DataFrame) -> pd.Index:
    """The distinct customer ids of some charges, as text (of a categorical: its used categories, no text per row)."""
    column = charges["customer_id"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.unique(column.cat.codes.to_numpy())
        return pd.Index(column.cat.categories.take(codes[codes >= 0]).astype(str))
    return pd.Index(pd.unique(column.to_numpy())).astype(str)  # the distinct ids first: text for each once


def seats_of(customers: pd.DataFrame, params: Params) -> pd.Series | None:
    """Each customer's seat count by id (the configured seats column), None when the customers have none."""
    column = params.segments.seats_column
    return customers.set_index("customer_id")[column] if column in customers.columns else None


def extent(charges: pd.DataFrame, as_of: pd.Timestamp) -> Extent:
    """What the shared key fit needs of this partition (Extent.of keeps the charges paid by as_of itself: no copy of
    those, as `charges_by` makes when some come later)."""
    return Extent.of(charges, as_of)


def shared_keys(extents: list[Extent], params: Params) -> Keys:
    """The key fit of the whole log, from every partition's `extent`."""
    return fit_keys(Extent.union(extents), params.billing)


def start(charges: pd.DataFrame, customers: pd.DataFrame, params: Params, as_of: pd.Timestamp,
          keys: Keys | None = None) -> Started:
    """Steps 1-3 of the inference on a partition's charges (kpi.billing.read_log)."""
    paid = charges_by(charges, as_of)
    return Started(mrr.paid_revenue(paid, as_of),
                   read_log(paid, params.billing, as_of=as_of, seats=seats_of(customers, params), keys=keys))


def evidence(started: Started) -> PriceEvidence:
    """The partition's price-book evidence, to be concatenated with every other partition's."""
    return evidence_of(started.reading)


def shared_book(evidences: list[PriceEvidence], params: Params) -> PriceBook:
    """The price book of the whole log, from every partition's `evidence`."""
    return learned_book(PriceEvidence.concat(evidences), params.billing)


def complete(started: Started, params: Params, as_of: pd.Timestamp, book: PriceBook | None = None) -> PerCustomer:
    """Steps 4-8 and the per-customer frames of a started partition, with the shared book (None: its own)."""
    return _frames(finish(started.reading, params.billing, book), started.paid, params, as_of)


def _frames(inferred: Inference, paid: pd.Series, params: Params, as_of: pd.Timestamp) -> PerCustomer:
    """The per-customer frames of a finished reading and its paid revenue."""
    schedule, codes = inferred.schedule, inferred.codes  # ids and refs as codes, hashed once
    keep = (schedule["start"] <= as_of).to_numpy()
    if not keep.all():  # else no copy of a schedule of millions of pieces
        schedule = schedule.loc[keep].reset_index(drop=True)
        codes = codes.rows(keep) if codes is not None else None
    refs, ref_codes = mrr.coded_ref_months(schedule, as_of, params.timezone, codes)
    months, month_codes = mrr.coded_customer_months(schedule, as_of, params.timezone, codes)
    return PerCustomer(
        schedule=schedule,
        billing=inferred.billing,
        customer_months=months,
        ref_months=refs,
        paid=paid,
        price_book=inferred.price_book,
        ref_codes=ref_codes,
        month_codes=month_codes,
        codes=codes,
    )


def run_partition(charges: pd.DataFrame, customers: pd.DataFrame, params: Params, as_of: pd.Timestamp,
                  keys: Keys | None = None, book: PriceBook | None = None) -> PerCustomer:
    """The per-partition function: the charges and customers of a set of customers -> their per-customer frames.

    `keys` and `book`: the whole log's (`shared_keys`, `shared_book`) when this is one partition of several; None
    when it is the whole log (a single-process run). `complete(start(...))`, with the reading (the sorted log and
    its series, hundreds of MB at 10M charges) let go before the per-customer frames are computed.
    """
    started = start(charges, customers, params, as_of, keys)
    paid = started.paid
    inferred = finish(started.reading, params.billing, book)
    del started
    return _frames(inferred, paid, params, as_of)


def combine(parts: list[PerCustomer]) -> PerCustomer:
    """The per-customer frames of several partitions (no customer in two), in the order one reading of all their
    customers gives: sorted by customer (each customer's rows as its partition gave them); ref_months by month,
    customer and ref. Every partition must have used the same price book.

    Each partition's frames are already in that order within the partition. Partitions that are ranges of the
    sorted customers, in order (`Slices`), are put end to end, their codes with them (`_in_order`: it
    empties `parts`, letting each part's frames go once they are put end to end);
    others (a hash of the id) are merged by a stable sort on the customer's rank (and the month, for ref_months):
    no string comparisons beyond ranking the customer ids once, but their codes are not kept.

    A partition may come without the text columns its codes stand for (`CODED`, as sync.engine's slice processes
    send them): the frames returned have them, in their places, whatever the path."""
    if not parts:
        raise ValueError("no partitions to combine")
    if len(parts) == 1:
        return with_text(parts[0])
    book = parts[0].price_book
    if any(p.price_book != book for p in parts[1:]):
        raise ValueError("partitions read with different price books: learn it once (shared_book) and hand it to all")
    ordered = _in_order(parts)
    if ordered is not None:
        return ordered
    parts = [with_text(p) for p in parts]
    ids = np.unique(np.concatenate([p.paid.index.astype(str).to_numpy(dtype=object) for p in parts]
                                   + [p.schedule["customer_id"].astype(str).unique() for p in parts]
                                   + [p.billing["customer_id"].astype(str).unique() for p in parts]))
    rank = pd.Index(ids)


    def rank_of(frame: pd.DataFrame) -> np.ndarray:
        ranks = rank.get_indexer(frame["customer_id"].astype(str))
        if (ranks < 0).any():  # every frame's customers are the schedule's, billing's or paid revenue's
            raise ValueError("a partition's frame names a customer none of its frames ranks")
        return ranks

    def by_customer(frames: list[pd.DataFrame]) -> pd.DataFrame:
        out = _concat(frames)
        return out.take(np.argsort(rank_of(out), kind="stable")).reset_index(drop=True)

    refs = _concat([p.ref_months for p in parts])
    month = refs["month"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    refs = refs.take(np.lexsort((rank_of(refs), month))).reset_index(drop=True)  # stable: refs stay sorted
    paid = pd.concat([p.paid for p in parts if len(p.paid)] or [parts[0].paid]).sort_index(kind="stable")
    return PerCustomer(
        schedule=by_customer([p.schedule for p in parts]),
        billing=by_customer([p.billing for p in parts]),
        customer_months=by_customer([p.customer_months for p in parts]),
        ref_months=refs,
        paid=paid,
        price_book=book,
    )


class Slices:
    """The log cut into ranges of its customers sorted by id, in that order, each with about `charges_per_slice`
    charges (a customer's charges are never split): partitions `combine` puts end to end. Customers with no charge
    go with the first slice. Each slice keeps its rows in the log's order.

    Where each charge and customer goes is worked out at once; a slice's rows are copied only when `slice(i)` is
    asked for, so a process handing the slices out one by one (sync/engine.py) holds one copy at a time."""

    def __init__(self, charges: pd.DataFrame, customers: pd.DataFrame, charges_per_slice: int):
        self.charges, self.customers = charges, customers
        self._of_charge: np.ndarray | None = None
        self._of_customer: np.ndarray | None = None
        self._count = 1
        if charges_per_slice <= 0 or len(charges) <= charges_per_slice:
            return
        code, names = text_codes(charges["customer_id"])
        counts = np.bincount(code[code >= 0], minlength=len(names))
        n = -(-len(charges) // charges_per_slice)
        cut = np.searchsorted(np.cumsum(counts), np.arange(1, n) * (counts.sum() / n), side="right")
        bounds = np.unique(np.r_[cut[(cut > 0) & (cut < len(names))], len(names)])  # each slice's first code after
        if len(bounds) == 1:
            return
        self._of_charge = np.searchsorted(bounds, code, side="right")  # codes < 0 (no id) go with the first slice
        found = pd.Index(names).get_indexer(customers["customer_id"].astype(str))
        self._of_customer = np.where(found >= 0, np.searchsorted(bounds, found, side="right"), 0)
        self._count = len(bounds)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        return (self.slice(i) for i in range(self._count))

    def slice(self, i: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Slice i's charges and customers (a copy of their rows; the whole log when it is one slice)."""
        if not 0 <= i < self._count:
            raise IndexError(f"slice {i} of {self._count}")
        if self._of_charge is None or self._of_customer is None:
            return self.charges, self.customers
        return (self.charges.take(np.flatnonzero(self._of_charge == i)),
                self.customers.take(np.flatnonzero(self._of_customer == i)))


def run_slices(slices: Slices, params: Params, as_of: pd.Timestamp) -> PerCustomer:
    """`run_partition` on each slice of `slices`, one after the other, with the key fit and the price book of the
    whole log: the frames one reading of the whole log gives (tests/sync/test_engine.py). Each slice's copy of its
    rows is cut when it is read and let go once read (its reading keeps only the arrays it needs), so no two slices'
    copies are held at once: a 10M-charge log read in slices of 500k spends half the time it takes read at once, as
    every step's arrays are 20 times smaller."""
    if len(slices) == 1:
        return run_partition(*slices.slice(0), params, as_of)
    keys = shared_keys([extent(slices.charges, as_of)], params)  # (the slices' extents together: the log's)
    started: list[Started | None] = [start(*slices.slice(i), params, as_of, keys) for i in range(len(slices))]
    book = shared_book([evidence(s) for s in started if s is not None], params)
    done = []
    for i, one in enumerate(started):
        assert one is not None
        started[i] = None  # its reading let go once its frames are made
        done.append(complete(one, params, as_of, book))
        del one
    return combine(done)


def _in_order(parts: list[PerCustomer]) -> PerCustomer | None:
    """The partitions end to end, with their codes, when each one's customers all sort before the next one's
    (`Slices`); None when they do not, or a partition kept no codes (`combine` then ranks the customers).

    The text columns the codes stand for (`CODED`: 60M strings at 10M charges) are not put end to end: the other
    columns are, and those are taken once from the distinct texts by the codes put end to end (0.3 s where putting
    the texts end to end, and sorting the ref months' by month, took 2-3 s). A part may come without them
    (sync.engine leaves them out of what crosses between processes)."""
    kept = [p for p in parts if len(p.schedule) or len(p.billing) or len(p.paid) or len(p.customer_months)]
    if not kept or any(p.codes is None or not len(p.codes.ids) for p in kept):
        return None
    spans = [_span(p) for p in kept]
    if any(a[1] >= b[0] for a, b in pairwise(spans)):
        return None
    codes = [p.codes for p in kept if p.codes is not None]
    offsets = np.cumsum([0] + [len(c.ids) for c in codes])[:-1]
    ids = np.concatenate([np.asarray(c.ids, dtype=object) for c in codes])
    refs, ref_maps = _merged_refs([np.asarray(c.refs, dtype=object) for c in codes])

    def end_to_end(each: list[Codes]) -> Codes:
        return Codes(cust=np.concatenate([c.cust + o for c, o in zip(each, offsets, strict=True)]), ids=ids,
                     ref=np.concatenate([m[c.ref] for c, m in zip(each, ref_maps, strict=True)]), refs=refs)

    each_ref = [_codes_of(p.ref_codes, p.ref_months, c) for p, c in zip(kept, codes, strict=True)]
    each_month = [p.month_codes if p.month_codes is not None and (
        not len(p.customer_months) or same_ids(p.month_codes.ids, c.ids)) else None
        for p, c in zip(kept, codes, strict=True)]
    # which frames' coded texts the codes put end to end rebuild: those whose every part's codes are its rows'
    # (and that have rows: frames of none keep the dtypes their parts' columns had, text or object)
    coded = {"schedule": all(len(c.cust) == len(p.schedule) for p, c in zip(kept, codes, strict=True)),
             "ref_months": all(r is not None and len(r.cust) == len(p.ref_months)
                               for p, r in zip(kept, each_ref, strict=True)),
             "customer_months": all(m is not None and len(m.cust) == len(p.customer_months)
                                    for p, m in zip(kept, each_month, strict=True))}
    coded = {name: fits and any(len(getattr(p, name)) for p in kept) for name, fits in coded.items()}
    if not all(coded.values()):
        kept = [with_text(p) for p in kept]  # a part without its texts where they cannot be rebuilt at the end
    book = kept[0].price_book
    # each kind of frame put end to end in turn, the parts' own let go after it: the parts are emptied (`parts`
    # cleared), so at 10M charges the peak holds one kind twice, not every kind
    frames = {name: [_without_texts(getattr(p, name), name) if coded.get(name) else getattr(p, name) for p in kept]
              for name in ("schedule", "billing", "customer_months", "ref_months", "paid")}
    kept.clear()
    parts.clear()
    ref_months = _concat(frames.pop("ref_months"))
    by_month = np.argsort(ref_months["month"].to_numpy(dtype="datetime64[ns]").view(np.int64), kind="stable")
    ref_months = ref_months.take(by_month).reset_index(drop=True)  # each month's rows: the partitions in order
    ref_codes: Codes | None = None
    if all(c is not None for c in each_ref):
        joined = end_to_end([c for c in each_ref if c is not None])
        ref_codes = Codes(joined.cust[by_month], ids, joined.ref[by_month], refs)
    month_codes: CustomerCodes | None = None
    if all(m is not None for m in each_month):
        month_codes = CustomerCodes(np.concatenate([m.cust + o for m, o in zip(each_month, offsets, strict=True)
                                                    if m is not None]), ids)
    schedule_codes = end_to_end(codes)
    combined = {"schedule": schedule_codes, "ref_months": ref_codes, "customer_months": month_codes}
    out = {"ref_months": ref_months, "schedule": _concat(frames.pop("schedule")), "billing": _concat(frames.pop("billing")),
           "customer_months": _concat(frames.pop("customer_months"))}
    for name, column, _, rows, values in CODED:
        if coded[name]:
            out[name] = _put(out[name], name, column, texts(getattr(combined[name], values),
                                                            getattr(combined[name], rows)))
    return PerCustomer(
        schedule=out["schedule"],
        billing=out["billing"],
        customer_months=out["customer_months"],
        ref_months=out["ref_months"],
        paid=pd.concat([p for p in frames["paid"] if len(p)] or frames["paid"][:1]),
        price_book=book,
        ref_codes=ref_codes,
        month_codes=month_codes,
        codes=schedule_codes,
    )


# The text columns a partition's frames keep codes of: (frame, column, the PerCustomer field of its codes, the codes
# of its rows, the texts they index). `combine` rebuilds them from the codes put end to end, and a partition may
# leave them out (`with_text` puts them back).
CODED = (("schedule", "customer_id", "codes", "cust", "ids"), ("schedule", "ref", "codes", "ref", "refs"),
         ("ref_months", "customer_id", "ref_codes", "cust", "ids"), ("ref_months", "ref", "ref_codes", "ref", "refs"),
         ("customer_months", "customer_id", "month_codes", "cust", "ids"))
# their frames' columns in order (kpi.schedule.SCHEDULE_COLUMNS, kpi.mrr.coded_ref_months, coded_customer_months)
COLUMNS = {"schedule": SCHEDULE_COLUMNS, "ref_months": ("month", "customer_id", "ref", "mrr"),
           "customer_months": ("month", "customer_id", "mrr")}


def texts(values: np.ndarray, rows: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """`values[rows]` as a text column, as pandas infers it from those strings (its "str" dtype), made from the
    distinct texts once and taken row by row: not each row's string checked again (2 s per 15M rows). No rows: an
    empty object array (`with_text` of a part whose frame has no rows; `combine` rebuilds no frame of none)."""
    if not len(rows):
        return np.asarray(values, dtype=object)[rows]
    return pd.array(np.asarray(values, dtype=object), dtype="str").take(rows)


def with_text(part: PerCustomer) -> PerCustomer:
    """The partition with the coded text columns it left out (`CODED`) put back from its codes, each in its place."""
    changed: dict[str, pd.DataFrame] = {}
    for name, column, codes_name, rows, values in CODED:
        frame = changed.get(name, getattr(part, name))
        if column in frame.columns:
            continue
        codes = getattr(part, codes_name)
        if codes is None or len(getattr(codes, rows)) != len(frame):
            raise ValueError(f"a partition's {name} has no {column} column, and no codes of its rows to rebuild it")
        changed[name] = _put(frame, name, column, texts(getattr(codes, values), getattr(codes, rows)))
    return replace(part, **changed) if changed else part


def without_text(part: PerCustomer) -> PerCustomer:
    """The partition without the coded text columns (`CODED`) its codes can rebuild (those whose codes are the
    frame's rows): what `with_text` and `combine` put back (sync.engine sends a slice's frames so)."""
    changed: dict[str, pd.DataFrame] = {}
    for name, column, codes_name, rows, _ in CODED:
        frame, codes = changed.get(name, getattr(part, name)), getattr(part, codes_name)
        if codes is not None and len(getattr(codes, rows)) == len(frame) and column in frame.columns:
            changed[name] = frame.drop(columns=column)
    return replace(part, **changed) if changed else part


def _without_texts(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The frame without its coded text columns (`CODED`), when it has them."""
    present = [column for frame_name, column, *_ in CODED if frame_name == name and column in frame.columns]
    return frame.drop(columns=present) if present else frame


def _put(frame: pd.DataFrame, name: str, column: str, values: object) -> pd.DataFrame:
    """The frame with `column` inserted at its place in `COLUMNS[name]` (after those of its columns that go before)."""
    order = COLUMNS[name]
    at = sum(c in frame.columns for c in order[:order.index(column)])
    out = frame.copy(deep=False)
    out.insert(at, column, pd.Series(values, index=out.index, copy=False))  # (an array would be copied: 1.3 s at 10M)
    return out


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames one after the other; the empty ones left out (their columns' dtypes may be object where the others'
    are str)."""
    full = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(full, ignore_index=True) if len(full) > 1 else full[0].reset_index(drop=True)


def _span(part: PerCustomer) -> tuple[str, str]:
    """The first and last customer a partition's frames name (each frame is sorted by customer)."""
    firsts, lasts = [], []
    assert part.codes is not None
    # (a schedule without its customer_id column has codes of its rows: codes.ids names its customers)
    columns = [part.codes.ids, part.paid.index, part.billing["customer_id"]]
    if "customer_id" in part.schedule.columns:
        columns.append(part.schedule["customer_id"])
    for column in columns:
        if len(column):
            ends = np.asarray(column[[0, -1]] if isinstance(column, np.ndarray | pd.Index) else column.iloc[[0, -1]],
                              dtype=object)
            firsts.append(str(ends[0]))
            lasts.append(str(ends[-1]))
    return min(firsts), max(lasts)


def _merged_refs(each: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The refs of several partitions as one sorted array, and each partition's refs' positions in it: end to end
    when they already sort that way (refs begin with the customer id, but "12:" sorts after "123:")."""
    joined = np.concatenate(each)
    starts = np.cumsum([0] + [len(r) for r in each])
    nonempty = [r for r in each if len(r)]
    if all(str(a[-1]) < str(b[0]) for a, b in pairwise(nonempty)):
        return joined, [np.arange(s, s + len(r)) for s, r in zip(starts[:-1], each, strict=True)]
    refs, inverse = np.unique(joined, return_inverse=True)
    return refs, [inverse[s:s + len(r)] for s, r in zip(starts[:-1], each, strict=True)]


def _codes_of(ref_codes: Codes | None, ref_months: pd.DataFrame, codes: Codes) -> Codes | None:
    """A partition's ref-month codes into its schedule's ids and refs (empty when it has no ref months); None when
    they use others."""
    if not len(ref_months):
        return Codes(np.zeros(0, dtype=np.int64), codes.ids, np.zeros(0, dtype=np.int64), codes.refs)
    if ref_codes is None or not same_ids(ref_codes.ids, codes.ids) or not same_ids(ref_codes.refs, codes.refs):
        return None
    return ref_codes


def schedule_problems(per_customer: PerCustomer) -> list[str]:
    """kpi.schedule.check_schedule on the combined schedule."""
    return check_schedule(per_customer.schedule)
