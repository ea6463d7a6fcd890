"""What renewed a year later (kpi.billing.pricebook.renewals): annual price points, and tier multiples without
seat counts."""

from __future__ import annotations

import pandas as pd

from tests.kpi.billing.logs import (
    annual_with_proration,
    charges,
    month_ends,
    monthly,
    read,
    rows_of,
    seats,
)


def no_seat_company(tiers_renew: bool) -> pd.DataFrame:
    """No seat column. 14 customers buy 180 x k for a year in 2016 (a seat added later) and renew a year later; 12
    others buy at the 144 tier the same way, renewing (`tiers_renew`) or never paying again."""
    rows: list[tuple[str, str, float]] = []
    for i in range(14):
        rows += annual_with_proration(f"l{i}", f"2016-01-{i + 3:02d} 09:00", 1 + i % 3)
        rows.append((f"l{i}", f"2017-01-{i + 3:02d} 09:00", 180.0 * (2 + i % 3)))
    for i in range(12):
        rows += annual_with_proration(f"t{i}", f"2016-02-{i + 3:02d} 09:00", 1 + i % 3, price=144.0)
        if tiers_renew:
            rows.append((f"t{i}", f"2017-02-{i + 3:02d} 09:00", 144.0 * (2 + i % 3)))
    return charges(*rows, ("x", "2017-03-01 12:00", 288.0), ("y", "2017-05-25 12:00", 288.0))


def test_without_seats_tier_multiples_are_annual_when_the_logs_tier_plans_renew():
    """Year-old charges at k x 144 renewed as often as those at k x 180: 288 (2 x 144) is a year, not a month then
    churn; About says what the comparison was. A pending 288 may be a new monthly plan's first month (what renewals
    of year-old charges do not measure): one provisional month."""
    result = read(no_seat_company(tiers_renew=True), "2017-06-01 00:00:00")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0, 144.0] and book.tier_points
    assert month_ends(result, "2017-06-01 00:00:00", "x") == dict.fromkeys(["2017-03", "2017-04", "2017-05", "2017-06"],
                                                                          24.0)
    assert month_ends(result, "2017-06-01 00:00:00", "y") == {"2017-05": 288.0, "2017-06": 288.0}
    rows = dict(book.rows())
    assert rows["tier multiples"].startswith("single charges a year old or more: 14 of 14 at k x the list price "
                                             "renewed a year later, 12 of 12 at k x a tier price")


def test_without_seats_tier_multiples_stay_months_when_the_logs_tier_plans_never_renew():
    """The same log where no k x 144 charge ever renewed: 288 may be a month of 16 seats at 18; one month, then churn."""
    result = read(no_seat_company(tiers_renew=False), "2017-06-01 00:00:00")
    assert not result.price_book.tier_points
    assert month_ends(result, "2017-06-01 00:00:00", "x") == {"2017-03": 288.0, "2017-04": 0.0, "2017-05": 0.0,
                                                              "2017-06": 0.0}
    assert "not read as annual" in dict(result.price_book.rows())["tier multiples"]


def test_an_amount_renewed_a_year_later_by_three_customers_is_an_annual_price_point():
    """A flat plan's year (490: ten months of 49) is no seats x a seat price. Once three customers have paid it and
    paid it again twelve months later, it is an annual price point: a fourth customer's single 490 is a year, not a
    month and then churn (generated seat11: churned MRR +73% of the truth before). 144 = 8 x 18, renewed as often, is
    also a month of eight seats, and 360 = 2 x 180 is read by seats already: neither is listed."""
    rows = [*monthly("m1", "2016-01-05 10:00", 18.0, 20), *monthly("m2", "2016-02-07 10:00", 18.0, 18),
            *monthly("m3", "2016-03-09 10:00", 18.0, 16)]
    for i, day in enumerate(("03", "11", "19")):
        rows += [(f"f{i}", f"2016-02-{day} 09:00", 490.0), (f"f{i}", f"2017-02-{day} 09:00", 490.0),
                 (f"e{i}", f"2016-04-{day} 09:00", 144.0), (f"e{i}", f"2017-04-{day} 09:00", 144.0),
                 (f"a{i}", f"2016-05-{day} 09:00", 180.0), (f"a{i}", f"2017-05-{day} 09:00", 180.0),
                 (f"t{i}", f"2016-06-{day} 09:00", 360.0), (f"t{i}", f"2017-06-{day} 09:00", 360.0)]
        rows += [(f"p{i}", f"2016-07-{day} 09:00", 1355.0), (f"p{i}", f"2017-07-{day} 09:00", 1355.0),
                 (f"r{i}", f"2016-08-{day} 09:00", 290.0), (f"r{i}", f"2017-08-{day} 10:30", 310.0)]
    # a flat year of 1355 bought about half-way through a 10-seat plan: also 15 seats x 180 x the share left
    start, end = pd.Timestamp("2016-09-01"), pd.Timestamp("2017-09-01")
    rows += [("new", "2017-07-12 09:00", 490.0), ("x", str(start), 1800.0),
             ("x", str((end - (end - start) * 1355.0 / 2700.0).floor("s")), 1355.0)]
    counts = seats(m1=1, m2=1, m3=1, new=3, x=10, **{f"a{i}": 1 for i in range(3)}, **{f"t{i}": 2 for i in range(3)})
    result = read(charges(*rows), "2017-10-01", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.annual_points] == [490.0, 1355.0]  # not 290 (renewed at 310), nor 144 or 360
    assert (book.annual_points[0].charges, book.annual_points[0].customers) == (3, 3)
    assert list(rows_of(result, "x")["kind"]) == ["annual term", "annual term"]  # a plan beside it, not 15 seats
    assert "renewed a year later at the same amount" in dict(book.rows())["annual price point"]
    assert month_ends(result, "2017-10-01", "new") == {"2017-07": 40.83, "2017-08": 40.83, "2017-09": 40.83,
                                                     "2017-10": 40.83}
    reason = rows_of(result, "new")["reason"].iloc[0]
    assert "490.00 is an annual price point (learned from 3 charges of 3 customers)" in reason
