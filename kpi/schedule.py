"""The revenue schedule: the one canonical table every MRR number is computed from (metrics.md 2).

Grain: one row per piece of recurring revenue.

    customer_id  str                    the customer
    start        datetime64[ns, UTC]    first instant the piece is active
    end          datetime64[ns, UTC]    first instant it is no longer active (NaT = open-ended)
    mrr          float                  monthly rate while active
    source       str                    what produced it ("renewal", "proration", "annual term",
                                        "monthly term", "contract", ...)
    ref          str                    the series, term or contract it belongs to

A customer's MRR at instant t is the sum of `mrr` over its pieces with start <= t < end.
Payment logs are turned into pieces by kpi.billing; contract periods by `pieces_from_periods`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SCHEDULE_COLUMNS: tuple[str, ...] = ("customer_id", "start", "end", "mrr", "source", "ref")


@dataclass(frozen=True)
class Codes:
    """A schedule's customer ids and refs as integer codes, row by row, when its maker knows them (a payment-log
    reading does): row i is customer `ids[cust[i]]` and ref `refs[ref[i]]`. `ids` and `refs` are sorted as text (no
    repeats), so ordering or grouping by code is ordering or grouping by the text, without hashing it again."""

    cust: np.ndarray
    ids: np.ndarray
    ref: np.ndarray
    refs: np.ndarray

    def rows(self, keep: np.ndarray) -> Codes:
        """The codes of the rows kept (a boolean mask or positions over the schedule's rows)."""
        return Codes(self.cust[keep], self.ids, self.ref[keep], self.refs)


@dataclass(frozen=True)
class CustomerCodes:
    """A frame's customer ids as integer codes, row by row: row i is customer `ids[cust[i]]`. `ids` are sorted as
    text (no repeats), so grouping, ordering or matching rows by code is doing it by the text, without hashing it."""

    cust: np.ndarray
    ids: np.ndarray

    @classmethod
    def of(cls, values: pd.Series) -> CustomerCodes:
        """The codes of a column of ids, hashed once (`text_codes`: each value as its text)."""
        codes, ids = text_codes(values)
        return cls(codes.astype(np.int64), ids)

    def fits(self, rows: int) -> bool:
        """True when these are the codes of a frame of `rows` rows, each row with a customer."""
        return len(self.cust) == rows and (rows == 0 or int(self.cust.min()) >= 0)

    def one_row_per_month(self, months: pd.Series) -> bool:
        """True when these are the codes of a frame sorted by customer then month, with one row per customer and month
        (as kpi.mrr.coded_customer_months makes customer_months): then counting a customer's rows, or any subset's,
        counts its distinct months, without hashing them."""
        if not self.fits(len(months)) or months.isna().any():
            return False
        ns = months.to_numpy(dtype="datetime64[ns]").view(np.int64)
        c = self.cust
        return bool(((c[1:] > c[:-1]) | ((c[1:] == c[:-1]) & (ns[1:] > ns[:-1]))).all())


def same_ids(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays of distinct ids are the same ones in the same order (codes into one mean the same in the
    other)."""
    return a is b or (len(a) == len(b) and bool((np.asarray(a, dtype=object) == np.asarray(b, dtype=object)).all()))


def text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(values.astype(str).to_numpy(), sort=True)`: each value's code into the sorted distinct texts
    (an object array). The values are hashed as they are and only the distinct ones turned into text: the text of
    every row made a str object per row (10M of them at 10M charges, left behind as fragmented memory).

    Ids already coded (a categorical: `coded_ids`' of distinct texts in that order, or the columnar reader's) are not
    hashed again: only their categories are turned into text (and sorted, unless coded_ids made them), and the codes
    renumbered over the texts present."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        # the categories' texts sorted (none to sort when coded_ids made them), then the codes renumbered over the
        # texts present: the rows are never hashed
        cat = values.cat.codes.to_numpy().astype(np.int64)
        categories = values.dtype.categories
        if _sorted_texts(categories):
            to_text, texts = np.arange(len(categories)), np.asarray(categories, dtype=object)
        else:
            to_text, texts = sorted_factorize(np.asarray(pd.Index(categories).astype(str), dtype=object))
        cat = np.where(cat >= 0, to_text[np.maximum(cat, 0)], -1)
        present = np.bincount(cat[cat >= 0], minlength=len(texts)) > 0
        renumber = np.cumsum(present) - 1
        return np.where(cat >= 0, renumber[np.maximum(cat, 0)], -1), texts[present]
    raw_codes, raw = pd.factorize(values)
    text = np.asarray(pd.Index(raw).astype(str), dtype=object)
    text_codes_, uniques = sorted_factorize(text)  # two raw values may have one text (1 and "1")
    codes = np.where(raw_codes >= 0, text_codes_[np.maximum(raw_codes, 0)], -1) if len(text) else raw_codes
    return codes, uniques


def sorted_factorize(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(texts, sort=True)` for an object array of str, the sorted distinct texts as an object array: the
    texts hashed in the order they come, then only the distinct ones sorted, by pyarrow (UTF-8's byte order is the
    order of code points, which is how Python compares str) or, for texts pyarrow cannot hold (a lone surrogate),
    by numpy. A 10M-charge log's 1M distinct customer ids: 1.6 s in pandas' factorize, 0.3 s so. Texts only
    (`text_codes` passes the texts of its values): pyarrow would take bytes as text, and numpy refuses to order
    an int against a str, where pandas' factorize orders such mixtures."""
    codes, uniques = pd.factorize(texts)
    uniques = np.asarray(uniques, dtype=object)
    order = _text_order(uniques)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), uniques[order]


def _text_order(texts: np.ndarray) -> np.ndarray:
    """The positions of distinct str values in sorted order."""
    try:
        held = pa.array(texts, type=pa.string())
    except (pa.ArrowException, UnicodeError, TypeError):
        held = None
    if held is None or held.null_count:
        return np.argsort(texts, kind="stable")
    return np.asarray(pc.array_sort_indices(held).to_numpy(zero_copy_only=False), dtype=np.int64)


def coded_ids(values: pd.Series) -> pd.Series:
    """A column of ids as a categorical of their texts, sorted (`text_codes`): hashed once, when a file is loaded, and
    never again by `text_codes`. Compares, groups and prints as the texts do."""
    codes, ids = text_codes(values)
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(ids, dtype=object)), index=values.index,
                     name=values.name)


def _sorted_texts(categories: pd.Index) -> bool:
    """Are these categories distinct texts in `text_codes`' order (as `coded_ids` makes them)?"""
    return categories.dtype == object and categories.is_monotonic_increasing and bool(
        pd.api.types.infer_dtype(categories, skipna=False) == "string")


def empty_schedule() -> pd.DataFrame:
    """A schedule with no pieces and the right dtypes."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="object"),
            "start": pd.Series(dtype="datetime64[ns, UTC]"),
            "end": pd.Series(dtype="datetime64[ns, UTC]"),
            "mrr": pd.Series(dtype="float64"),
            "source": pd.Series(dtype="object"),
            "ref": pd.Series(dtype="object"),
        }
    )


def check_schedule(schedule: pd.DataFrame) -> list[str]:
    """The schedule's invariants; returns the broken ones as sentences (empty = all hold)."""
    problems: list[str] = []
    missing = [c for c in SCHEDULE_COLUMNS if c not in schedule.columns]
    if missing:
        return [f"revenue schedule lacks columns {missing}"]
    if schedule["customer_id"].isna().any():
        problems.append("revenue schedule has pieces without a customer")
    if schedule["start"].isna().any():
        problems.append("revenue schedule has pieces without a start")
    backwards = schedule["end"].notna() & (schedule["end"] < schedule["start"])
    if backwards.any():
        problems.append(f"revenue schedule has {int(backwards.sum())} pieces that end before they start")
    if not schedule["mrr"].notna().all() or (schedule["mrr"] < 0).any():
        problems.append("revenue schedule has missing or negative rates")
    return problems


def pieces_from_periods(
    periods: pd.DataFrame,
    *,
    source: str = "contract",
) -> pd.DataFrame:
    """Explicit periods (metrics.md 2a) -> schedule pieces.

    `periods` has customer_id, start, end (exclusive, NaT = open), mrr and ref; rows with a
    zero rate are dropped. Rates are already monthly (ARR sources divide by 12 before this).
    """
    out = periods.loc[periods["mrr"] > 0, ["customer_id", "start", "end", "mrr", "ref"]].assign(
        customer_id=lambda d: d["customer_id"].astype(str),
        start=lambda d: pd.to_datetime(d["start"], utc=True).astype("datetime64[ns, UTC]"),
        end=lambda d: pd.to_datetime(d["end"], utc=True).astype("datetime64[ns, UTC]"),
        mrr=lambda d: d["mrr"].astype("float64"),
        source=source,
        ref=lambda d: d["ref"].astype(str),
    )
    return out.loc[:, list(SCHEDULE_COLUMNS)].reset_index(drop=True)
