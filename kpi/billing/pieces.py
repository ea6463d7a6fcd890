"""Step 7: the revenue schedule (kpi.schedule.SCHEDULE_COLUMNS) from the series, terms and prorations.

Pieces: each series member from its charge to `piece_end` at rate = its amount ("renewal"); each term
from its charge to its end at amount / 12 ("annual term") or amount ("monthly term"); each proration
from its charge to its boundary ("proration") at amount / (span in months of 365.25/12 days, at least a day)
with `prorations = "normalize"` (metrics.md 2a), or with "share" at amount / (the share of its host's period left
x the months of that period: 1 for a monthly plan, 12 for an annual term; the period a calendar month or year from
its start, even where a switch to annual cut the piece short), what the seat costs a month when the
company prorates by the days of the period, as the shared log's does (docs/billing.md item 49); none with
"ignore".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.billing.log import Log
from kpi.billing.prorations import Prorations
from kpi.billing.series import Series, Spans
from kpi.billing.timeline import DAY_NS, MONTH_NS
from kpi.params import BillingRules
from kpi.schedule import SCHEDULE_COLUMNS, Codes


def utc(ns: np.ndarray) -> pd.DatetimeIndex:
    """int64 ns -> a UTC DatetimeIndex."""
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("datetime64[ns]")).tz_localize("UTC")


def term_rate(log: Log, spans: Spans) -> np.ndarray:
    """The monthly rate a term's charge gives: amount / 12 for an annual term, the amount for a monthly one."""
    amount = log.amount[spans.charge]
    return np.where(spans.annual, amount / 12, amount)


def schedule_pieces(log: Log, rules: BillingRules, series: Series, spans: Spans, ref: np.ndarray,
                    prorations: Prorations) -> tuple[pd.DataFrame, Codes]:
    """The schedule, one row per piece, sorted by (customer, start, end), and its customers and refs as codes (into
    log.ids, and into the sorted names of the spans); `ref` names each span (series or term)."""
    mi, ms = series.member_index, series.member_series
    terms = np.flatnonzero(spans.series < 0)
    parts = [
        (log.cust[mi], log.t[mi], series.piece_end, log.amount[mi], np.full(len(mi), "renewal", dtype=object), ms),
        (spans.cust[terms], spans.start[terms], spans.end[terms], term_rate(log, spans)[terms],
         np.asarray(["monthly term", "annual term"], dtype=object)[spans.annual[terms].astype(np.intp)], terms),
    ]
    pi, host, boundary = prorations.charge, prorations.host, prorations.boundary
    if rules.prorations != "ignore" and len(pi):
        span_months = (boundary - log.t[pi]) / MONTH_NS
        keep = span_months > 0
        # a charge minutes before a boundary pays for a day at least: its rate is never amount / a few minutes
        if rules.prorations == "share":
            # the period the company billed (`Prorations.period_end`: a switch to annual may cut the piece short)
            months = np.where(spans.annual[host], 12, 1)
            period_end = prorations.period_end
            share = np.maximum(period_end - log.t[pi], DAY_NS) / np.maximum(period_end - prorations.start, DAY_NS)
            rate = log.amount[pi] / (share * months)
        else:
            rate = log.amount[pi] / np.maximum(span_months, DAY_NS / MONTH_NS)
        parts.append((log.cust[pi][keep], log.t[pi][keep], boundary[keep], rate[keep],
                      np.full(int(keep.sum()), "proration", dtype=object), host[keep]))
    cust, start, end, mrr, source, span = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((end, start, cust))
    ref_code, refs = pd.factorize(np.asarray(ref, dtype=object), sort=True)  # the spans' names, sorted as text
    out = pd.DataFrame(
        {
            "customer_id": log.ids[cust[order]],
            "start": utc(start[order]),
            "end": utc(end[order]),
            "mrr": mrr[order].astype("float64"),
            "source": source[order],
            "ref": ref[span[order]],
        }
    )
    codes = Codes(cust=cust[order].astype(np.int64), ids=np.asarray(log.ids, dtype=object),
                  ref=ref_code[span[order]].astype(np.int64), refs=np.asarray(refs, dtype=object))
    return out.loc[:, list(SCHEDULE_COLUMNS)].reset_index(drop=True), codes
