"""Payment log -> revenue schedule (metrics.md 2b): the service periods no billing export states.

`infer_schedule(charges, rules, as_of=...)` returns `(schedule, billing)`:

- schedule: kpi.schedule.SCHEDULE_COLUMNS, one row per piece of recurring revenue;
- billing: one row per series or term (BILLING_COLUMNS), with the reason it was read that way, so an
  analyst can check it and correct it with `billing_overrides`.

`as_of` is the instant the log is read at (None: its newest charge; later charges are ignored). A
rule that waits for a future charge never concludes from the absence of a charge that is not yet due
at as_of: a charge's first renewal is due by charge + 1 calendar month + renewal_tolerance, and until
then the charge is *pending* (it may be the first month of a new plan whose renewal we cannot have
seen yet).

The steps, in the order `infer_schedule` takes them, one module each (every step is vectorized over
all customers; the only Python loops are rounds bounded by the number of series per customer or
months in the data):

1. `log`: the positive charges paid by as_of, sorted; billing_overrides per charge.
2-3. `series`: monthly series (month-end drift included), then single-renewal pairs inside another
   plan dissolved into prorations.
4-5. `terms`: single charges -> annual or one-month terms, or prorations; pending charges.
6. `prorations`: the series or term each proration belongs to, and the boundary it is spread to.
7. `pieces`: the schedule.
8. `reasons`: the Billing tab, one sentence per series or term.

`timeline` holds the calendar arithmetic and the searches they share.
"""

from __future__ import annotations

import pandas as pd

from kpi.billing.log import prepare
from kpi.billing.pieces import schedule_pieces
from kpi.billing.prorations import place_prorations
from kpi.billing.reasons import BILLING_COLUMNS, billing_table, empty_billing, name_spans
from kpi.billing.series import Spans, find_series
from kpi.billing.terms import read_single_charges
from kpi.billing.timeline import add_months
from kpi.params import BillingRules
from kpi.schedule import empty_schedule

__all__ = ["BILLING_COLUMNS", "add_months", "empty_billing", "infer_schedule"]


def infer_schedule(charges: pd.DataFrame, rules: BillingRules, *, as_of: pd.Timestamp | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Payment log -> (revenue schedule, billing classification), metrics.md 2b (see the module docstring).

    `charges`: customer_id, paid_at (UTC), amount; zero and negative amounts are ignored.
    `as_of`: the instant the log is read at (charges after it are ignored); None = the newest charge.
    Returns the schedule (kpi.schedule.SCHEDULE_COLUMNS, one row per piece, sorted by customer and
    start) and the billing table (BILLING_COLUMNS, one row per series or term, sorted by customer and
    anchor; `ref` links the two).
    """
    log = prepare(charges, rules, as_of)  # 1
    if len(log) == 0:
        return empty_schedule(), empty_billing()
    series = find_series(log)  # 2-3
    terms = read_single_charges(log, series)  # 4-5
    spans = Spans.concat(series.spans, terms.spans)
    prorations = place_prorations(log, series, spans, terms.prorated, terms.orphan)  # 6
    refs = name_spans(log, spans)
    schedule = schedule_pieces(log, rules, series, spans, refs.ref, prorations)  # 7
    billing = billing_table(log, rules, series, terms, spans, refs, prorations)  # 8
    return schedule, billing
