"""Values into prices (kpi.billing.pricebook.groups): 3+ customers agreeing, whole multiples of a better supported
price are seats counted today, distinct customers counted per group."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.kpi.billing.logs import (
    charges,
    monthly,
    read,
    rows_of,
    seat_company,
    seats,
)


def test_evidence_of_fewer_than_three_customers_teaches_nothing():
    """Two annual customers are not evidence enough: a one-seat 180 charge stays one month (the amount rules)."""
    log, counts = seat_company(annual_customers=2, monthly_customers=2)
    log = pd.concat([log, charges(("x", "2017-03-01 12:00", 180.0))])
    result = read(log, seat_counts=pd.concat([counts, seats(x=1)]))
    assert result.price_book.annual_seat == () and result.price_book.monthly_seat == ()
    assert list(rows_of(result, "x")["kind"]) == ["monthly term"]


def test_one_customer_whose_seats_changed_does_not_move_the_price():
    """Today's seat counts are noisy: a customer who doubled its seats since gives 9 a seat, the others still 18."""
    log, counts = seat_company()
    counts["m0"] = 4
    book = read(log, seat_counts=counts).price_book
    assert [p.amount for p in book.monthly_seat] == [18.0]


def test_a_whole_multiple_of_the_list_price_is_no_evidence_of_a_tier():
    """90 a month by customers with 6 seats today is 5 seats x 18 (seats changed), not a 15.00 tier."""
    log, counts = seat_company()
    drift = []
    for i in range(4):
        drift += monthly(f"d{i}", f"2017-01-1{i} 10:00", 90.0, 3)
        counts[f"d{i}"] = 6
    book = read(pd.concat([log, charges(*drift)]), seat_counts=counts).price_book
    assert [p.amount for p in book.monthly_seat] == [18.0]


def test_price_groups_count_distinct_customers_per_group():
    """`price_groups` (customers counted for every group at once) against the plain definition, group by group: values
    within TOLERANCE of the previous one are one group; a group is a price when MIN_CUSTOMERS distinct customers and
    MIN_SHARE of all support it; its amount the median, most supported first."""
    from kpi.billing.pricebook import MIN_CUSTOMERS, MIN_SHARE, TOLERANCE
    from kpi.billing.pricebook.groups import price_groups

    rng = np.random.default_rng(5)
    for trial in range(60):
        n = int(rng.integers(1, 300))
        values = rng.choice([18.0, 14.4, 180.0, 144.0, 12.6, 9.0], n) * (1 + rng.normal(0, 0.003, n) * (rng.random(n) < .3))
        cust = np.array([f"c{x}" for x in rng.integers(0, int(rng.integers(1, 40)), n)], dtype=object)
        order = np.argsort(values, kind="stable")
        v, c = values[order], cust[order]
        blocks, at = [], 0
        for i in range(1, n + 1):
            if i == n or v[i] > v[i - 1] * (1 + TOLERANCE) + 0.01:
                blocks.append((v[at:i], set(c[at:i].tolist())))
                at = i
        total = len(set(cust.tolist()))
        want = sorted(((len(who), round(float(np.median(vals)), 2), len(vals)) for vals, who in blocks
                       if len(who) >= MIN_CUSTOMERS and len(who) >= MIN_SHARE * total), key=lambda x: (-x[0], x[1]))
        got = [(p.customers, p.amount, p.charges) for p in price_groups(values, cust, "basis", None)]
        assert got == want, trial


def test_value_groups_are_the_groups_price_groups_forms():
    """`value_groups` names each value's group in the values' own order; the groups it calls supported are exactly
    the prices `price_groups` lists (3 customers and 2% of all: 3 customers among 200 at another amount are not)."""
    from kpi.billing.pricebook.groups import price_groups, value_groups

    rng = np.random.default_rng(7)
    cases = [(np.r_[np.full(200, 126.0), np.full(3, 162.0)], np.array([f"c{i}" for i in range(203)], dtype=object))]
    for _ in range(60):
        n = int(rng.integers(1, 300))
        values = rng.choice([18.0, 14.4, 180.0, 144.0, 12.6, 9.0], n) * (1 + rng.normal(0, 0.003, n) * (rng.random(n) < .3))
        cases.append((values, np.array([f"c{x}" for x in rng.integers(0, int(rng.integers(1, 40)), n)], dtype=object)))
    for values, cust in cases:
        group, supported = value_groups(values, cust)
        assert len(group) == len(values)
        got = sorted((len(set(cust[group == g].tolist())), round(float(np.median(values[group == g])), 2),
                      int((group == g).sum())) for g in np.flatnonzero(supported).tolist())
        want = sorted((p.customers, p.amount, p.charges) for p in price_groups(values, cust, "", None))
        assert got == want
    group, supported = value_groups(*cases[0])
    assert supported[group[0]] and not supported[group[-1]]  # 3 of 203 customers is under 2%
