"""What the price book says of a charge (kpi.billing.pricebook.reading): exact seat matches, price points, the
weighing of two readings, a plan beside or resumed, tiers the book has not learned."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from kpi.billing import infer
from kpi.billing.pricebook import (
    ANNUAL_BESIDE,
    ANNUAL_LIKELY,
    ANNUAL_POINT,
    ANNUAL_SEATS,
    ANNUAL_UNLISTED,
    ANNUAL_UNPRICED,
    ANNUAL_WITH,
    DISTINCT_FROM,
    MONTHLY_LIKELY,
    MONTHLY_SEATS,
    NO_SEAT_COUNT,
    NONE,
    PriceBook,
    configured_book,
    read_amounts,
)
from kpi.billing.pricebook.reading import _read_amounts
from kpi.billing.prices import Price
from kpi.params import BillingRules, PriceList
from tests.kpi.billing.logs import (
    charges,
    month_ends,
    monthly,
    read,
    rows_of,
    seat_company,
    seats,
)

BOOK = PriceBook("configured", monthly_seat=(Price(18.0),), annual_seat=(Price(180.0),))


def verdict(amount: float, seat_count: float = np.nan, book: PriceBook = BOOK) -> tuple[int, float, int]:
    v = read_amounts(book, np.array([amount]), np.array([seat_count]))
    return int(v.code[0]), float(v.price[0]), int(v.multiple[0])


@pytest.mark.parametrize(("amount", "seat_count", "expected"), [
    (180.0, 1, (ANNUAL_SEATS, 180.0, 1)),  # 1 seat x 180
    (360.0, 2, (ANNUAL_SEATS, 180.0, 2)),
    (180.0, 10, (MONTHLY_SEATS, 18.0, 10)),  # 10 seats x 18 wins over the 180 price point
    (36.0, 2, (MONTHLY_SEATS, 18.0, 2)),
    (180.0, np.nan, (ANNUAL_POINT, 180.0, 1)),  # seats unknown: a price point, 1 seat for a year
    (360.0, 3, (ANNUAL_POINT, 180.0, 2)),  # today's 3 seats, 2 bought for a year
    (179.9, np.nan, (ANNUAL_POINT, 180.0, 1)),  # within 0.1 %
    (179.5, np.nan, (NONE, np.nan, 0)),  # a proration of a day, not a price
    (90.0, np.nan, (NONE, np.nan, 0)),
    (170.0, 1, (NONE, np.nan, 0)),
])
def test_verdicts_of_a_seat_priced_book(amount, seat_count, expected):
    """With 18 a seat a month and 180 a year: seats x price decides, monthly first; whole multiples of 180 are points."""
    code, price, multiple = verdict(amount, seat_count)
    assert (code, multiple) == (expected[0], expected[2])
    assert price == pytest.approx(expected[1], nan_ok=True)


def test_configured_annual_points_are_flat_annual_prices():
    """A configured annual point (a flat plan's year, e.g. 12 x 75) is annual for any seat count."""
    book = configured_book(PriceList(annual_points=(900.0,)))
    assert verdict(900.0, 3, book)[0] == ANNUAL_POINT
    assert verdict(75.0, np.nan, book)[0] == NONE


def test_an_assumed_annual_price_needs_seats():
    """An assumed annual seat price (no annual evidence yet) matches seats x price, never as a multiple."""
    book = PriceBook("learned", monthly_seat=(Price(18.0, 9, 9, "x"),),
                     annual_seat=(Price(180.0, 0, 0, "assumed", assumed=True),))
    assert verdict(180.0, 1, book)[0] == ANNUAL_SEATS
    assert verdict(180.0, np.nan, book)[0] == NONE
    assert verdict(360.0, 3, book)[0] == NONE


TIERED = PriceBook(
    "learned",
    monthly_seat=(Price(18.0, 1, 80), Price(14.4, 1, 20)),
    annual_seat=(Price(180.0, 1, 60), Price(144.0, 1, 40)),
    annual_share_single=0.6,
    annual_share_new=0.2,
    seat_prior=(0.3, 0.25, 0.15, 0.1, 0.05) + (0.005,) * 30,
)


def test_a_tier_price_with_seats_that_changed_is_weighed_not_matched():
    """432 by a customer with 7 seats today: 3 seats x 144 a year is likelier than 24 seats x 18 a month."""
    v = read_amounts(TIERED, np.array([432.0]), np.array([7.0]))
    assert (int(v.code[0]), float(v.price[0]), int(v.multiple[0])) == (ANNUAL_LIKELY, 144.0, 3)
    assert (float(v.other_price[0]), int(v.other_multiple[0])) == (18.0, 24)


def test_todays_seat_count_weighs_the_reading():
    """The same 432 by a customer with 25 seats today is 24 seats x 18 a month: k seats then near S seats now."""
    v = read_amounts(TIERED, np.array([432.0]), np.array([25.0]))
    assert (int(v.code[0]), float(v.price[0]), int(v.multiple[0])) == (MONTHLY_LIKELY, 18.0, 24)


def test_a_pending_charge_is_weighed_with_the_share_of_annual_among_new_plans():
    """360 with seats unknown: annual as a lone charge (60% of those are annual), monthly as a new plan (20%)."""
    done = read_amounts(TIERED, np.array([360.0]), np.array([np.nan]), np.array([False]))
    pending = read_amounts(TIERED, np.array([360.0]), np.array([np.nan]), np.array([True]))
    assert int(done.code[0]) == ANNUAL_LIKELY
    assert int(pending.code[0]) == ANNUAL_LIKELY  # 2 seats a year still beats 20 seats a month at 20%
    book = replace(TIERED, annual_share_new=0.01)
    assert int(read_amounts(book, np.array([360.0]), np.array([np.nan]), np.array([True])).code[0]) == MONTHLY_LIKELY


def test_a_charge_a_monthly_plan_starts_after_is_annual_wherever_an_annual_price_reads_it():
    """432 by a customer with 25 seats today is 24 seats x 18 a month when alone, but 3 seats x 144 a year when a
    monthly plan of the customer starts after it: that series is its monthly plan. An amount no annual price reads
    stays what it was; without seat counts to weigh, a tier multiple is an annual point there too."""
    alone = read_amounts(TIERED, np.array([432.0, 30.0]), np.array([25.0, 25.0]))
    beside = read_amounts(TIERED, np.array([432.0, 30.0]), np.array([25.0, 25.0]), beside=np.array([True, True]))
    assert [int(c) for c in alone.code] == [MONTHLY_LIKELY, NONE]
    assert [int(c) for c in beside.code] == [ANNUAL_BESIDE, NONE]
    assert (float(beside.price[0]), int(beside.multiple[0])) == (144.0, 3)
    assert (float(beside.other_price[0]), int(beside.other_multiple[0])) == (18.0, 24)
    unweighed = replace(TIERED, seat_prior=())
    assert int(read_amounts(unweighed, np.array([432.0]), np.array([np.nan])).code[0]) == NONE
    got = read_amounts(unweighed, np.array([432.0, 360.0]), np.array([np.nan, np.nan]), beside=np.array([True, True]))
    assert (int(got.code[0]), float(got.price[0]), int(got.multiple[0])) == (ANNUAL_BESIDE, 144.0, 3)
    assert np.isnan(got.other_price[0])
    assert (int(got.code[1]), float(got.price[1]), int(got.multiple[1])) == (ANNUAL_POINT, 180.0, 2)  # the list price's


def test_an_annual_plan_with_a_monthly_plan_started_beside_it_is_a_year():
    """432 (3 seats x 144 a year), then a 3-seat monthly plan a minute later, 25 seats today (as 923634 of generated
    log seat10 seed 1: 180, then 3 seats at 18 a month, 11 seats today). Read alone, 432 is 24 seats for a month and
    churns; with the plan that follows it, a year beside it, and its Billing reason says why. A monthly plan starting
    more than a month after it says nothing of it."""
    log = charges(("a", "2017-01-10 10:00", 432.0), *monthly("a", "2017-01-10 10:01", 54.0, 5),
                  ("b", "2017-01-10 10:00", 432.0), *monthly("b", "2017-02-20 10:01", 54.0, 5))
    got = infer(log, BillingRules(), seats=seats(a=25, b=25), book=TIERED)
    assert list(rows_of(got, "a")["kind"]) == ["annual term", "monthly series"]
    assert rows_of(got, "a")["reason"].iloc[0].startswith(
        "single charge of 432.00 = 3 seats x 144.00 a year (annual seat price configured), not 24 seats x 18.00 a month: "
        "a monthly plan of the customer starts after it within a month, at a smaller amount, and that one is its "
        "monthly plan")
    assert month_ends(got, "2017-06-30", "a") == {f"2017-0{m}": 90.0 for m in range(1, 7)}
    assert list(rows_of(got, "b")["kind"]) == ["monthly term", "monthly series"]
    # without seat counts to weigh, a tier multiple there is a year too, and its reason says why (no weighed other)
    unweighed = infer(log, BillingRules(), book=replace(TIERED, seat_prior=()))
    assert rows_of(unweighed, "a")["reason"].iloc[0] == (
        "single charge of 432.00 = 3 seats x 144.00 a year (annual seat price configured): a monthly plan of the "
        "customer starts after it within a month, at a smaller amount, and that one is its monthly plan: annual term")


def test_a_bigger_monthly_plan_after_a_month_is_an_upgrade_not_a_plan_beside_it():
    """180 (10 seats x 18 a month, 20 seats today), then a 360 monthly plan a week later: an upgrade (222712's shape),
    so the 180 stays the month the book weighs it as; and another customer's plan starting a minute after a
    charge says nothing of it."""
    log = charges(("a", "2017-01-10 10:00", 180.0), *monthly("a", "2017-01-17 10:00", 360.0, 5),
                  ("d", "2017-01-10 10:00", 432.0), *monthly("e", "2017-01-10 10:01", 54.0, 5))
    got = infer(log, BillingRules(), seats=seats(a=20, d=25, e=3), book=TIERED)
    assert list(rows_of(got, "a")["kind"]) == ["monthly term", "monthly series"]
    assert month_ends(got, "2017-07-31", "a")["2017-07"] == 0.0
    assert list(rows_of(got, "d")["kind"]) == ["monthly term"]


def test_a_charge_whose_plan_starts_again_on_its_slot_at_its_amount_is_a_month_of_it():
    """116726 of generated log noseats seed 2: 144 on 2016-03-07 11:38, nothing in April, 144 monthly from 2016-05-07
    11:38. The book reads 144 as 1 x 144 a year (a tier point); the plan that starts again on its slot two months
    later at that very amount says it was a month of it: churn in April, reactivation in May. Started at another
    amount, or on another hour, the plan says nothing of it."""
    book = replace(TIERED, seat_prior=(), tier_points=True)
    log = charges(("a", "2016-03-07 11:38", 144.0), *monthly("a", "2016-05-07 11:38", 144.0, 4),
                  ("b", "2016-03-07 11:38", 144.0), *monthly("b", "2016-05-07 11:38", 162.0, 4),
                  ("c", "2016-03-07 11:38", 144.0), *monthly("c", "2016-05-07 16:38", 144.0, 4))
    got = infer(log, BillingRules(), book=book)
    assert list(rows_of(got, "a")["kind"]) == ["monthly term", "monthly series"]
    assert rows_of(got, "a")["reason"].iloc[0].startswith(
        "single charge of 144.00, the price of the monthly plan of the customer that starts again on its slot 2 months "
        "later (the same plan, resumed), not 1 x 144.00 a year")
    assert month_ends(got, "2016-09-30", "a") == {"2016-03": 144.0, "2016-04": 0.0, "2016-05": 144.0, "2016-06": 144.0,
                                                  "2016-07": 144.0, "2016-08": 144.0, "2016-09": 144.0}
    assert list(rows_of(got, "b")["kind"]) == ["annual term", "monthly series"]
    assert list(rows_of(got, "c")["kind"]) == ["annual term", "monthly series"]


def test_a_resumed_month_is_its_own_month_inside_another_plan_and_the_nearest_slot_is_named():
    """The 144 of a plan that starts again on its slot is a month of that plan also inside another running plan (a
    54 monthly one, or a month of 90: not spread over its days left); with the plan starting again on two slots, the reason names the
    nearest. 12 months later is an annual term's own renewal slot: a 144 year, then 144 a month from its
    anniversary, is a year then a monthly plan; 11 months later, a month that resumed."""
    book = replace(TIERED, seat_prior=(), tier_points=True)
    log = charges(*monthly("a", "2016-01-05 09:00", 54.0, 8), ("a", "2016-03-07 11:38", 144.0),
                  *monthly("a", "2016-05-07 11:38", 144.0, 1), *monthly("a", "2016-08-07 11:38", 144.0, 2),
                  ("y", "2016-03-07 11:38", 144.0), *monthly("y", "2017-03-07 11:38", 144.0, 2),
                  ("z", "2016-03-07 11:38", 144.0), *monthly("z", "2017-02-07 11:38", 144.0, 2),
                  ("w", "2016-03-01 08:00", 90.0), ("w", "2016-03-07 11:38", 144.0),
                  *monthly("w", "2016-05-07 11:38", 144.0, 1))
    got = infer(log, BillingRules(), book=book)
    assert list(rows_of(got, "w")["kind"]) == ["monthly term", "monthly term", "monthly series"]  # not the 90's proration
    rows = rows_of(got, "a")
    term = rows.loc[rows["anchor"] == pd.Timestamp("2016-03-07 11:38", tz="UTC")]
    assert list(term["kind"]) == ["monthly term"]
    assert "starts again on its slot 2 months later" in term["reason"].iloc[0]
    months = month_ends(got, "2016-05-31", "a")
    assert (months["2016-03"], months["2016-04"], months["2016-05"]) == (54.0 + 144.0, 54.0, 54.0 + 144.0)
    assert list(rows_of(got, "y")["kind"]) == ["annual term", "monthly series"]
    assert list(rows_of(got, "z")["kind"]) == ["monthly term", "monthly series"]


def test_assumed_annual_prices_are_weighed_in_a_young_log():
    """No annual evidence yet (180 assumed), today's 8 seats: 900 is 5 seats for a year sooner than 50 seats for a
    month; the book was learned from too young a log to weigh the intervals by its mix, and About says so."""
    young = PriceBook("learned", monthly_seat=(Price(18.0, 8, 8, "x"),),
                      annual_seat=(Price(180.0, assumed=True, basis="assumed"), Price(216.0, assumed=True,
                                                                                      basis="assumed")),
                      annual_share_single=0.5, annual_share_new=0.5,
                      seat_prior=(0.3, 0.25, 0.15, 0.1, 0.05) + (0.005,) * 30, mix_known=False)
    v = read_amounts(young, np.array([900.0, 36.0]), np.array([8.0, 3.0]))
    assert (int(v.code[0]), float(v.price[0]), int(v.multiple[0])) == (ANNUAL_LIKELY, 180.0, 5)
    assert int(v.code[1]) == MONTHLY_LIKELY  # 36 is no year of any seat count
    assert "too young" in dict(young.rows())["weighing two readings"]


def test_a_long_log_is_weighed_once_per_distinct_amount_seats_and_pending():
    """read_amounts on more than DISTINCT_FROM charges (each distinct reading weighed once) gives every charge the
    verdict it gets read one by one, unknown seat counts and pending charges included."""
    rng = np.random.default_rng(3)
    n = DISTINCT_FROM * 3
    amount = rng.choice([18.0, 36.0, 144.0, 180.0, 360.0, 900.0, 5.65], n) * rng.integers(1, 4, n)
    seat_counts = rng.choice([1.0, 2.0, 5.0, np.nan], n)
    pending = rng.random(n) < 0.2
    beside = rng.random(n) < 0.1
    together = beside & (rng.random(n) < 0.5)
    book = PriceBook("learned", monthly_seat=(Price(18.0, 9, 9, "x"),), annual_seat=(Price(180.0, 5, 5, "x"),),
                     annual_share_single=0.6, annual_share_new=0.3, seat_prior=(0.5, 0.3, 0.1, 0.1))
    got = read_amounts(book, amount, seat_counts, pending, beside=beside, together=together)
    want = _read_amounts(book, amount, seat_counts, pending, beside=beside, together=together)
    for name in ("code", "price", "multiple", "other_price", "other_multiple"):
        assert np.array_equal(getattr(got, name), getattr(want, name), equal_nan=True), name
    assert len(set(got.code.tolist())) >= 3  # the weighing decided both ways, not one verdict for all


def test_a_pending_year_at_a_tier_the_book_has_not_learned_is_read_as_the_customers_own_seats():
    """144 by a one-seat customer, pending, in a book of 18 a month and 180 a year: 1 seat for a year at 144 (8 months
    of 18, a discount the log has not shown yet) is likelier than 8 seats for a month; what the book does not list, the
    reason says. Once its renewal was due and did not come, only a tier learned from 3+ customers' charges (`lapsed_seat_prices`)
    makes it a year: settled, it is 8 seats for a month again (measured: applying the rule to settled charges too took
    generated churned MRR from -4.2% to -5.3% on seat12 seed 1)."""
    book = replace(TIERED, monthly_seat=(Price(18.0, 1, 80),), annual_seat=(Price(180.0, 1, 60),),
                   monthly_amounts=(18.0, 150.0))  # 150: the monthly series of 3+ customers start at it
    amounts = np.array([144.0, 144.0, 144.0, 90.0, 150.0, 252.0])
    seat_counts = np.array([1.0, 1.0, np.nan, 1.0, 1.0, 2.0])
    pending = np.array([True, False, True, True, True, True])
    alone = np.ones(len(amounts), dtype=bool)
    v = read_amounts(book, amounts, seat_counts, pending, alone)
    assert (int(v.code[0]), float(v.price[0]), int(v.multiple[0])) == (ANNUAL_UNLISTED, 144.0, 1)
    assert (float(v.other_price[0]), int(v.other_multiple[0])) == (18.0, 8)
    assert int(read_amounts(book, amounts[:1], seat_counts[:1], pending[:1], ~alone[:1]).code[0]) == MONTHLY_LIKELY
    assert (int(v.code[1]), int(v.multiple[1])) == (MONTHLY_LIKELY, 8)  # settled: not this rule's
    assert int(v.code[2]) == MONTHLY_LIKELY  # no seat count: no seats of its own to price a year at
    assert (int(v.code[3]), int(v.multiple[3])) == (MONTHLY_LIKELY, 5)  # 90 a seat is 5 months: no year
    assert int(v.code[4]) == NONE  # 150 is no whole number of seats at 18, and a monthly plan's month in this log
    assert (int(v.code[5]), float(v.price[5]), int(v.multiple[5])) == (ANNUAL_UNLISTED, 126.0, 2)
    configured = replace(book, mode="configured")  # prices stated in the config are the whole book: nothing unlisted
    assert int(read_amounts(configured, amounts[:1], seat_counts[:1], pending[:1], alone[:1]).code[0]) == MONTHLY_LIKELY
    literal = replace(book, unlisted=False)  # [billing] unlisted_tiers = "month"
    assert int(read_amounts(literal, amounts[:1], seat_counts[:1], pending[:1], alone[:1]).code[0]) == MONTHLY_LIKELY


def test_a_pending_charge_at_an_unlearned_tier_is_a_year_from_its_month_end():
    """In a company read by seats (24 seat counts), a one-seat customer's single 144 reads 12.00 at its own month end,
    not 144 restated later; the Billing reason names the reading it beat."""
    log, counts = seat_company(monthly_customers=20)
    log = pd.concat([log, charges(("x", "2017-05-20 12:00", 144.0))])
    counts = pd.concat([counts, seats(x=1)])
    result = read(log, "2017-05-31 23:59:59", seat_counts=counts)
    assert month_ends(result, "2017-05-31 23:59:59", "x") == {"2017-05": 12.0}
    reason = rows_of(result, "x")["reason"].iloc[0]
    assert "144.00 = 1 seat (the customer's) x 144.00 a year, a price not in the book: 8.0 months of the monthly " \
        "seat price 18.00" in reason
    assert "likelier than 8 seats x 18.00 a month" in reason


def test_a_pending_charge_inside_a_running_monthly_plan_is_not_priced_at_an_unlearned_tier():
    """A one-seat customer paying 18 a month pays 126 once, inside its plan's month: seats added, or a switch at a
    price the book would know; not a year at a tier it has not learned (which, worth 7 months of the plan, would end
    the plan at the month end and be restated once the plan renews). Its reading is the one it had before the rule."""
    log, counts = seat_company(monthly_customers=20)
    log = pd.concat([log, charges(*monthly("y", "2017-01-03 08:00", 18.0, 6), ("y", "2017-05-20 12:00", 126.0))])
    counts = pd.concat([counts, seats(y=1)])
    pending = read(log, "2017-05-31 23:59:59", seat_counts=counts)
    settled = read(log, "2017-07-31 23:59:59", seat_counts=counts)
    assert list(rows_of(pending, "y")["kind"]) == ["monthly series"]  # the 126 a proration of it, as once settled
    assert month_ends(pending, "2017-05-31 23:59:59", "y")["2017-05"] == \
        month_ends(settled, "2017-07-31 23:59:59", "y")["2017-05"]


def test_an_unlearned_tier_is_a_year_of_any_product_s_monthly_price():
    """Two products at 25 and 45 a seat a month, 300 a year learned: 810 by a two-seat customer, pending, is 2 seats x
    405 (9 months of 45, the second product's price) for a year, not 18 seats x 45 (or 32.4 x 25) for a month."""
    book = replace(TIERED, monthly_seat=(Price(25.0, 1, 60), Price(45.0, 1, 30)), annual_seat=(Price(300.0, 1, 40),))
    v = read_amounts(book, np.array([810.0]), np.array([2.0]), np.array([True]), np.array([True]))
    assert (int(v.code[0]), float(v.price[0]), int(v.multiple[0])) == (ANNUAL_UNLISTED, 405.0, 2)
    assert (float(v.other_price[0]), int(v.other_multiple[0])) == (45.0, 18)


# 12, 29 and 59 a seat a month, a year 11 months of each; the log's mix known; 49 and 99 start monthly series (flat)
ELEVEN = PriceBook(
    "learned",
    monthly_seat=(Price(12.0, 1, 300), Price(29.0, 1, 250), Price(59.0, 1, 120)),
    annual_seat=(Price(132.0, 1, 150), Price(319.0, 1, 120), Price(649.0, 1, 80)),
    monthly_amounts=(12.0, 24.0, 29.0, 49.0, 99.0),
    annual_share_single=0.8,
    annual_share_new=0.4,
    seat_prior=(0.3, 0.25, 0.15, 0.1, 0.05) + (0.005,) * 30,
)


def test_a_charge_no_price_reads_is_the_customers_seats_for_a_year_at_a_tier_not_learned_yet():
    """616.55 by a one-seat customer, its renewal due and not come: no price of the book reads it, as a month or as a
    year, at any seat count. 1 seat x 616.55 is 10.4 months of 59, the Enterprise seat at a 5% discount the log has not
    taught: a year. Not so for an amount monthly series start at (99, a flat plan's month, though 8.25 months of 12),
    for a year dearer than the
    book's 11 months of a seat price (560.50 by four seats: 11.7 months of 12; generated seat11 seed 15, truly a
    month), for a charge inside a running monthly plan, in a log too young to know its mix, or with configured
    prices, or with [billing] unlisted_tiers = "month". A customer with no seat count, its renewal due: the commonest
    seat count that makes it such a year (1 here), and the reason says it is a guess; while pending, none."""
    amounts = np.array([616.55, 99.0, 560.50, 616.55, 616.55])
    seat_counts = np.array([1.0, 1.0, 4.0, 1.0, np.nan])
    pending = np.zeros(len(amounts), dtype=bool)
    alone = np.array([True, True, True, False, True])
    v = read_amounts(ELEVEN, amounts, seat_counts, pending, alone)
    assert (int(v.code[0]), float(v.price[0]), int(v.multiple[0])) == (ANNUAL_UNPRICED, 616.55, 1)
    assert [int(c) for c in v.code[1:4]] == [NONE, NONE, NONE]
    assert (int(v.code[4]), int(v.multiple[4]), int(v.other_multiple[4])) == (ANNUAL_UNPRICED, 1, NO_SEAT_COUNT)
    assert int(v.other_multiple[0]) == 0
    assert int(read_amounts(ELEVEN, amounts[4:], seat_counts[4:], ~pending[4:], alone[4:]).code[0]) == NONE
    for book in (replace(ELEVEN, mix_known=False), replace(ELEVEN, mode="configured"), replace(ELEVEN, unlisted=False)):
        assert int(read_amounts(book, amounts[:1], seat_counts[:1], pending[:1], alone[:1]).code[0]) == NONE
    assert int(read_amounts(ELEVEN, amounts[:1], seat_counts[:1], ~pending[:1], alone[:1]).code[0]) == ANNUAL_UNPRICED
    from kpi.billing.citations import book_citation

    said = dict(ELEVEN.rows())["tiers not learned yet"]
    assert "is 6 to 11 months of a monthly seat price, unless it is one of the 5 amounts" in said
    assert "(or none, once its renewal was due: then the commonest seat count that fits)" in said
    text = book_citation(ELEVEN, ANNUAL_UNPRICED, 616.55, 1, 616.55, np.nan, 0)
    assert text == ("616.55 = 1 seat (the customer's) x 616.55 a year, taken for a price the book has not learned (10.4 "
                    "months of the monthly seat price 59.00: a discounted tier?), as no price of the book reads it as a "
                    "month or a year and no monthly plans of 3+ customers start at it; a guess")
    assert book_citation(ELEVEN, ANNUAL_UNPRICED, 616.55, 1, 616.55, np.nan, NO_SEAT_COUNT).startswith(
        "616.55 = 1 seat (no seat count: the commonest count that makes it a year) x 616.55 a year, taken for a price")


def test_a_weighed_reading_of_k_seats_matches_the_amount_to_a_fiftieth_of_a_percent():
    """Weighing k seats x a price, k free, a 0.1% tolerance read 490.00 (a flat plan's year) as 43 seats x 11.40 a
    month (490.20) by a 53-seat customer, then a churn (generated seat11). The weighed reading now matches within
    0.02% (or a cent): 490.20 is still 43 x 11.40; a learned price a few cents off its list price still reads its
    multiples (900 = 5 x 180.03, a price learned from prorations)."""
    book = PriceBook("learned", monthly_seat=(Price(12.0, 1, 300), Price(11.4, 1, 50)),
                     annual_seat=(Price(132.0, 1, 150), Price(180.03, 1, 20)), annual_share_single=0.8,
                     annual_share_new=0.4, seat_prior=(0.3, 0.25, 0.15, 0.1, 0.05) + (0.005,) * 60)
    v = read_amounts(book, np.array([490.0, 490.2, 900.0]), np.array([53.0, 53.0, 9.0]))
    assert int(v.code[0]) == NONE
    assert (int(v.code[1]), float(v.price[1]), int(v.multiple[1])) == (MONTHLY_LIKELY, 11.4, 43)
    assert (int(v.code[2]), float(v.price[2]), int(v.multiple[2])) == (ANNUAL_LIKELY, 180.03, 5)


def test_a_charge_bought_with_a_monthly_plan_cites_that_plan():
    """Item 67: `together` (a monthly plan starting within the renewal tolerance after the charge) reads it as
    `beside` does, and says so (ANNUAL_WITH); a charge only `together`, not `beside`, is read as before."""
    both = np.array([True, True])
    got = read_amounts(TIERED, np.array([432.0, 30.0]), np.array([25.0, 25.0]), beside=both, together=both)
    assert [int(c) for c in got.code] == [ANNUAL_WITH, NONE]
    assert (float(got.price[0]), int(got.multiple[0]), float(got.other_price[0])) == (144.0, 3, 18.0)
    only = read_amounts(TIERED, np.array([432.0]), np.array([25.0]), together=np.array([True]))
    assert int(only.code[0]) == MONTHLY_LIKELY
    unweighed = replace(TIERED, seat_prior=())
    got = read_amounts(unweighed, np.array([432.0]), np.array([np.nan]), beside=both[:1], together=both[:1])
    assert (int(got.code[0]), float(got.price[0]), int(got.multiple[0])) == (ANNUAL_WITH, 144.0, 3)
