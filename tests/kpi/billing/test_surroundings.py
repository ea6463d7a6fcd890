"""What a charge's customer's monthly plans say around it (kpi.billing.surroundings): the piece it falls in."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.params import BillingRules


def _rate_of_piece_by_lexsort(log, series, charges):  # type: ignore[no-untyped-def]
    """rate_of_piece as it was (members ordered by a lexsort on customer and time), the reference."""
    import numpy as np

    mi = series.member_index
    order = np.lexsort((log.t[mi], log.cust[mi]))
    m, end = mi[order], series.piece_end[order]
    mkey = log.keys(log.cust[m], log.t[m])
    pos = np.searchsorted(mkey, log.key[charges], side="right") - 1
    at = np.maximum(pos, 0)
    inside = (pos >= 0) & (log.cust[m[at]] == log.cust[charges]) & (log.t[charges] < end[at])
    return np.where(inside, log.amount[m[at]], 0.0)


@pytest.mark.parametrize("unit", [None, 10**9])
@pytest.mark.parametrize("scheme", ["seat10", "seat12"])
def test_the_piece_a_charge_falls_in_is_found_as_the_lexsort_found_it(scheme: str, unit: int) -> None:
    """rate_of_piece orders the series members by a stable sort of their key, unless two of a customer share a key at
    different instants (within one key unit: a microsecond on a small log, a second here): then by the lexsort.
    Either way each charge gets the piece the lexsort gave it, charges at the very instant of another (duplicated
    charges) and a key unit apart included, whatever order the members come in."""
    import dataclasses

    import numpy as np

    from kpi.billing import read_log
    from kpi.billing.log import Extent, fit_keys
    from kpi.billing.surroundings import rate_of_piece
    from kpi.billing.timeline import Keys
    from sync.samples.payments import generate_with_truth
    from tests.kpi.billing.test_truth import charges_of

    log_charges, seat_counts = charges_of(generate_with_truth(300, 5, end="2017-12-31", scheme=scheme))
    twins = log_charges.sample(frac=0.05, random_state=1)  # the same customer and instant twice
    near = log_charges.sample(frac=0.05, random_state=3)  # and a few hundred ms apart
    log_charges = pd.concat([log_charges, twins.assign(amount=twins["amount"] / 2),
                             near.assign(paid_at=near["paid_at"] + pd.Timedelta("300ms"))], ignore_index=True)
    rules = BillingRules()
    keys = fit_keys(Extent.of(log_charges, None), rules)
    if unit is not None:  # a second: renewals a few hundred ms apart (below) share a key
        keys = Keys(keys.t0, unit, keys.stride * keys.unit // unit + 2)
    reading = read_log(log_charges, rules, seats=seat_counts, keys=keys)
    log, series = reading.log, reading.series
    assert series is not None and len(series.member_index) > 1000
    mi = series.member_index
    order = np.lexsort((log.t[mi], log.cust[mi]))
    key, t = log.keys(log.cust[mi[order]], log.t[mi[order]]), log.t[mi[order]]
    apart = (key[1:] == key[:-1]) & (t[1:] != t[:-1])  # members sharing a key at different instants: the lexsort
    assert apart.any() == (unit is not None)
    every = np.arange(len(log))
    assert np.array_equal(rate_of_piece(log, series, every), _rate_of_piece_by_lexsort(log, series, every))
    assert (rate_of_piece(log, series, every) > 0).mean() > 0.5
    shuffled = dataclasses.replace(series, members=series.members.sample(frac=1.0, random_state=2))
    assert np.array_equal(rate_of_piece(log, shuffled, every), _rate_of_piece_by_lexsort(log, shuffled, every))
