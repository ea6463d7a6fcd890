"""The price book (metrics.md 2b): list prices learned from a log's own evidence, configured, or off; its verdicts."""

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
    DISTINCT_FROM,
    MONTHLY_LIKELY,
    MONTHLY_SEATS,
    NO_SEAT_COUNT,
    NONE,
    PriceBook,
    configured_book,
    read_amounts,
    year_ratio,
)
from kpi.billing.pricebook.learning import _derived
from kpi.billing.pricebook.reading import _read_amounts
from kpi.billing.prices import Price
from kpi.params import BillingRules, PriceList
from tests.kpi.billing.logs import charges, month_ends, monthly, read, rows_of, seats

BOOK = PriceBook("configured", monthly_seat=(Price(18.0),), annual_seat=(Price(180.0),))


def verdict(amount: float, seat_count: float = np.nan, book: PriceBook = BOOK) -> tuple[int, float, int]:
    v = read_amounts(book, np.array([amount]), np.array([seat_count]))
    return int(v.code[0]), float(v.price[0]), int(v.multiple[0])


# ----------------------------------------------------------------------------- what the book says of an amount


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


# ----------------------------------------------------------------------------- learning from the log


def annual_with_proration(customer: str, start: str, seat_count: int, price: float = 180.0, after_days: int = 90
                          ) -> list[tuple[str, str, float]]:
    """An annual term of `seat_count` seats, then one seat added `after_days` later at price x share of the term left."""
    t0 = pd.Timestamp(start)
    end = t0 + pd.DateOffset(months=12)
    at = t0 + pd.Timedelta(days=after_days)
    return [(customer, str(t0), seat_count * price), (customer, str(at), round(price * (end - at) / (end - t0), 2))]


def seat_company(annual_customers: int = 4, monthly_customers: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    """A small per-seat company: 2-seat monthly plans at 36 (18 a seat), 4-seat annual plans at 720 with a seat added."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, float] = {}
    for i in range(monthly_customers):
        rows += monthly(f"m{i}", f"2017-01-{5 + i:02d} 10:00", 36.0, 4)
        counts[f"m{i}"] = 2
    for i in range(annual_customers):
        rows += annual_with_proration(f"a{i}", f"2017-02-{10 + i:02d} 09:00", 4)
        counts[f"a{i}"] = 5
    return charges(*rows), seats(**counts)


def test_prices_are_learned_from_series_annual_terms_and_their_prorations():
    """Monthly series give 18 a seat; 720 annual terms and the seat added later (180 x share left) give 180 a seat."""
    log, counts = seat_company()
    book = read(log, seat_counts=counts).price_book
    assert book.mode == "learned"
    assert [(p.amount, p.customers) for p in book.monthly_seat] == [(18.0, 5)]
    assert [(p.amount, p.customers) for p in book.annual_seat] == [(180.0, 4)]
    assert "prorations on annual terms" in book.annual_seat[0].basis


def test_a_single_one_seat_charge_at_the_learned_annual_price_is_a_year():
    """Beside the company's evidence, one 180 charge of a one-seat customer is 15 a month for twelve months."""
    log, counts = seat_company()
    log = pd.concat([log, charges(("x", "2017-03-01 12:00", 180.0))])
    result = read(log, seat_counts=pd.concat([counts, seats(x=1)]))
    assert month_ends(result, "2018-02-27", "x") == dict.fromkeys(
        [f"{m:%Y-%m}" for m in pd.date_range("2017-03-01", "2018-02-01", freq="MS")], 15.0)
    assert rows_of(result, "x")["reason"].iloc[0].startswith(
        "single charge of 180.00 = 1 seat x 180.00, the annual seat price learned from 4 charges of 4 customers")


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


def test_no_seat_column_learns_the_annual_price_from_prorations_alone():
    """Without seats, prorations still reveal 180 a seat a year, and a 360 charge is an annual price point."""
    log, _ = seat_company()
    log = pd.concat([log, charges(("x", "2017-03-01 12:00", 360.0))])
    result = read(log)
    assert result.price_book.monthly_seat == ()  # no seat was added to a monthly plan
    assert [p.amount for p in result.price_book.annual_seat] == [180.0]
    assert "(an annual price point: 2 seats for a year)" in rows_of(result, "x")["reason"].iloc[0]
    assert month_ends(result, "2017-04-30", "x") == {"2017-03": 30.0, "2017-04": 30.0}


def test_no_seat_column_learns_the_monthly_price_from_seats_added_to_monthly_plans():
    """Without seats, a seat added to a monthly plan costs its price x the share of the month left: 9.29 sixteen days
    before a renewal 31 days after the last one is 18 a seat a month (two seats at once, 18.58, is no other price:
    a whole multiple of it). With it, a 144 followed by 17.99 23 minutes later is a month (docs/billing.md item
    24), as it is in a log with seat counts; About says what the price rests on."""
    rows: list[tuple[str, str, float]] = []
    for i in range(5):
        rows += monthly(f"m{i}", f"2017-01-0{5 + i} 10:00", 36.0, 4)
        rows.append((f"m{i}", f"2017-01-{20 + i} 10:00", 18.58 if i == 1 else 9.29))
    log, _ = seat_company(monthly_customers=0)
    log = pd.concat([log, charges(*rows, ("x", "2017-05-27 16:04", 144.0), ("x", "2017-05-27 16:27", 17.99))])
    result = read(log)
    book = result.price_book
    assert [(p.amount, p.customers) for p in book.monthly_seat] == [(18.0, 4)]
    assert [p.amount for p in book.annual_seat] == [180.0]
    assert ("monthly seat price", "18.00 per seat per month, learned from 4 charges of 4 customers (prorations on "
            "monthly series / share of the period left)") in book.rows()
    assert rows_of(result, "x")["kind"].iloc[0] == "monthly term"


def test_prorations_on_monthly_plans_teach_only_a_learned_years_month():
    """Found in review: a flat plan's upgrade mid-month (75 -> 150: 75 x the share left) looks like a seat of 75, and
    two seats added at once (36 x the share left) like a seat of 36. Neither is a whole number of months of the learned
    180 a year, so neither is a monthly seat price, nor hides 18 nor evicts the 180 it would be too small a year of.
    The seats may be added in a later month of the plan (the share is of that month); a proration in the month's last
    tenth says no price; and a log where any customer has a seat count learns its monthly prices from those."""
    log, _ = seat_company(monthly_customers=0)  # teaches 180 a year
    rows: list[tuple[str, str, float]] = []
    for i in range(5):  # 3 one-seat additions in a plan's third month (36 + 18 x 16 / 31), 2 of two seats at once
        rows += monthly(f"m{i}", f"2017-01-0{5 + i} 10:00", 36.0, 4)
        rows.append((f"m{i}", f"2017-03-{20 + i} 10:00", 9.29 if i < 3 else 18.58))
        rows.append((f"m{i}", f"2017-04-0{3 + i} 10:00", 0.58))  # 2 days before the renewal: no evidence
    for i in range(6):  # 6 flat upgrades 75 -> 150 on 02-20
        rows += monthly(f"f{i}", f"2017-01-0{1 + i} 10:00", 75.0, 1)
        start, end, at = pd.Timestamp(f"2017-02-0{1 + i} 10:00"), pd.Timestamp(f"2017-03-0{1 + i} 10:00"), \
            pd.Timestamp("2017-02-20 10:00")
        rows.append((f"f{i}", str(at), round(75 * (end - at) / (end - start), 2)))
        rows += monthly(f"f{i}", f"2017-03-0{1 + i} 10:00", 150.0, 3)
    both = pd.concat([log, charges(*rows, ("y", "2017-03-01 12:00", 360.0))])
    result = read(both)
    assert [p.amount for p in result.price_book.monthly_seat] == [18.0]
    assert [p.amount for p in result.price_book.annual_seat] == [180.0]
    assert rows_of(result, "y")["kind"].iloc[0] == "annual term"
    with_a_seat_count = read(both, seat_counts=seats(a0=5))
    assert with_a_seat_count.price_book.monthly_seat == ()  # one series / seats teaches nothing; no proration either


def test_an_annual_price_must_be_many_months_of_the_monthly_one():
    """A proration-made cluster under six months of the monthly seat price is not taken for an annual price."""
    log, counts = seat_company(annual_customers=0)
    rows = []
    for i in range(4):  # 36 a month, then "annual" 40s followed by smaller charges: 10-ish a seat, not a year's price
        rows += [(f"b{i}", f"2017-03-0{i + 1} 10:00", 40.0), (f"b{i}", f"2017-03-1{i + 1} 10:00", 20.0)]
    result = read(pd.concat([log, charges(*rows)]), seat_counts=counts)
    assert all(p.amount >= 6 * 18 for p in result.price_book.annual_seat)


def test_no_annual_evidence_assumes_ten_or_twelve_months_for_seat_matches():
    """With a monthly seat price and no annual evidence yet, seats x 10 or 12 months reads as annual, marked assumed."""
    log, counts = seat_company(annual_customers=0)
    log = pd.concat([log, charges(("x", "2017-03-01 12:00", 180.0), ("y", "2017-03-01 12:00", 180.0))])
    result = read(log, seat_counts=pd.concat([counts, seats(x=1)]))
    assert [(p.amount, p.assumed) for p in result.price_book.annual_seat] == [(180.0, True), (216.0, True)]
    assert "the annual seat price assumed (10 x the monthly seat price 18.00" in rows_of(result, "x")["reason"].iloc[0]
    assert list(rows_of(result, "y")["kind"]) == ["monthly term"]  # seats unknown: no assumed price point


def test_price_book_off_reads_by_amount_alone():
    """price_book = "off": the 1-seat 180 charge is one month, as before the price book; About says so."""
    log, counts = seat_company()
    log = pd.concat([log, charges(("x", "2017-03-01 12:00", 180.0))])
    result = read(log, rules=BillingRules(price_book="off"), seat_counts=pd.concat([counts, seats(x=1)]))
    assert list(rows_of(result, "x")["kind"]) == ["monthly term"]
    assert result.price_book.rows() == [("price book", "off: single charges are read by the amount rules alone")]


def test_configured_prices_replace_the_learning():
    """A configured price book is used as given, even where the log would teach nothing."""
    log = charges(("x", "2017-03-01 12:00", 180.0))
    rules = BillingRules(price_book=PriceList(monthly_seat=(18.0,), annual_seat=(180.0,)))
    result = read(log, rules=rules, seat_counts=seats(x=1))
    assert result.price_book.mode == "configured"
    assert list(rows_of(result, "x")["kind"]) == ["annual term"]
    assert "the annual seat price configured" in rows_of(result, "x")["reason"].iloc[0]


def test_about_rows_say_what_each_price_rests_on():
    """The About rows name each learned price with its evidence."""
    log, counts = seat_company()
    rows = dict(read(log, seat_counts=counts).price_book.rows())
    assert rows["price book"] == "learned"
    assert rows["monthly seat price"].startswith("18.00 per seat per month, learned from 5 charges of 5 customers")
    assert rows["annual seat price"].startswith("180.00 per seat per year, learned from 4 charges of 4 customers")


# ----------------------------------------------------------------------------- weighing two readings of one amount

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


def test_monthly_tiers_without_annual_evidence_get_the_list_ratio():
    """A 12.60 monthly tier and annual evidence only at 180 give a derived 126 annual seat price."""
    log, counts = seat_company()
    tier = []
    for i in range(4):
        tier += monthly(f"t{i}", f"2017-01-1{i} 10:00", 25.2, 3)
        counts[f"t{i}"] = 2
    book = read(pd.concat([log, charges(*tier)]), seat_counts=counts).price_book
    assert [p.amount for p in book.monthly_seat] == [18.0, 12.6]
    derived = [p for p in book.annual_seat if p.derived]
    assert [p.amount for p in derived] == [126.0]
    assert derived[0].source.startswith("derived (10 x the monthly seat price 12.60")


def test_a_whole_multiple_of_the_list_price_is_no_evidence_of_a_tier():
    """90 a month by customers with 6 seats today is 5 seats x 18 (seats changed), not a 15.00 tier."""
    log, counts = seat_company()
    drift = []
    for i in range(4):
        drift += monthly(f"d{i}", f"2017-01-1{i} 10:00", 90.0, 3)
        counts[f"d{i}"] = 6
    book = read(pd.concat([log, charges(*drift)]), seat_counts=counts).price_book
    assert [p.amount for p in book.monthly_seat] == [18.0]


# ----------------------------------------------------------------------------- a young log, several products


def first_month(annual: dict[str, int], monthly_seats: dict[str, int], price: float = 18.0, year: float = 180.0
                ) -> tuple[pd.DataFrame, pd.Series]:
    """A log's first month: one charge per customer, seats x `year` for `annual`, seats x `price` for the others."""
    rows = [(c, f"2017-01-{3 + i:02d} 10:00", n * year) for i, (c, n) in enumerate(annual.items())]
    rows += [(c, f"2017-01-{3 + i:02d} 11:00", n * price) for i, (c, n) in enumerate(monthly_seats.items())]
    return charges(*rows), seats(**annual, **monthly_seats)


def test_a_logs_first_month_pairs_a_month_and_a_year_of_a_seat():
    """No series has renewed yet: 18 a seat (5 customers) and 180 a seat (3 customers), ten times it, are the monthly
    and annual seat prices; a 360 charge of a 2-seat customer is read as a year at once, not a month then churn."""
    log, counts = first_month({"a1": 1, "a2": 2, "a3": 1, "x": 2}, {f"m{i}": i % 3 + 1 for i in range(5)})
    result = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [18.0] and [p.amount for p in book.annual_seat] == [180.0]
    assert "paired among single charges / seats: 18.00 (5 customers) and 180.00 (4 customers)" in \
        book.annual_seat[0].basis
    assert month_ends(result, "2017-01-31 23:59:59", "x") == {"2017-01": 30.0}
    assert "annual" in rows_of(result, "x")["kind"].iloc[0]


def test_a_year_of_eleven_months_pairs_per_seat_but_not_by_amount():
    """Generated seat11's price list: 12 a seat a month, a year at 11 months (132). Per seat, 132 is 11 x 12: a month
    and a year (any whole number of months from 6 to 12); a 2-seat customer's 264 is a year at once. An amount 11 (or
    7) times another is as likely that many seats for a month: without seat counts, amounts pair at 10 and 12 only."""
    log, counts = first_month({"a1": 1, "a2": 2, "a3": 1, "x": 2}, {f"m{i}": i % 3 + 1 for i in range(5)},
                              price=12.0, year=132.0)
    result = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [12.0] and [p.amount for p in book.annual_seat] == [132.0]
    assert "132.00 (4 customers), 11 times it" in book.annual_seat[0].basis
    assert month_ends(result, "2017-01-31 23:59:59", "x") == {"2017-01": 22.0}
    no_seats = read(log, as_of="2017-01-31 23:59:59").price_book
    assert 132.0 not in [p.amount for p in no_seats.annual_seat]


def test_a_first_month_lists_the_pairs_of_per_seat_prices_and_of_amounts_together():
    """25 and 300 a seat pair per seat (customers whose seats have not changed); 45 and 540 only as amounts (one seat
    then, 2 to 6 seats today, which scatters their per-seat values): both pairs are the book's, the better supported
    first, and a one-seat customer's 540 is a year."""
    log, counts = first_month({f"a{i}": 1 for i in range(4)}, {f"m{i}": i % 3 + 1 for i in range(6)}, price=25.0,
                              year=300.0)
    rows = [(f"p{i}", f"2017-01-{3 + i:02d} 12:00", 45.0) for i in range(4)]
    rows += [(f"q{i}", f"2017-01-{3 + i:02d} 13:00", 540.0) for i in range(3)] + [("z", "2017-01-25 13:00", 540.0)]
    counts = pd.concat([counts, seats(**{f"p{i}": i + 2 for i in range(4)}, **{f"q{i}": i + 2 for i in range(3)}, z=1)])
    result = read(pd.concat([log, charges(*rows)], ignore_index=True), as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [25.0, 45.0]
    assert [p.amount for p in book.annual_seat if not p.derived] == [300.0, 540.0]
    assert book.annual_seat[1].basis.startswith("paired among amounts: 45.00 (4 customers) and 540.00 (4 customers)")
    assert month_ends(result, "2017-01-31 23:59:59", "z") == {"2017-01": 45.0}


def test_pairs_of_two_products_keep_the_list_price_most_customers_pay_first():
    """A first month: 18 a seat (10 customers) and 180 (4), 45 (5) and 540 (5). 18 / 180 stays the list pair (14
    customers to 10), so 180 a seat stays an annual price: a 180 and a 360 by customers with no seat count are a year
    (one seat, two), not a month (a review of this stop found 45 first and 180 dropped)."""
    rows, counts = [], {}
    for prefix, n, amount, hour in (("m", 10, 18.0, 10), ("a", 3, 180.0, 11), ("n", 5, 45.0, 12), ("b", 5, 540.0, 13)):
        for i in range(n):
            rows.append((f"{prefix}{i}", f"2017-01-{3 + i:02d} {hour}:00", amount))
            counts[f"{prefix}{i}"] = 1
    rows += [("x", "2017-01-20 09:00", 360.0), ("w", "2017-01-22 09:00", 180.0), ("v", "2017-01-23 09:00", 360.0)]
    counts["x"] = 2
    result = read(charges(*rows), as_of="2017-01-31 23:59:59", seat_counts=seats(**counts))
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [18.0, 45.0]
    assert [p.amount for p in book.annual_seat if not p.derived] == [180.0, 540.0]
    assert month_ends(result, "2017-01-31 23:59:59", "w") == {"2017-01": 15.0}
    assert month_ends(result, "2017-01-31 23:59:59", "v") == {"2017-01": 30.0}


def test_prices_pair_only_with_three_customers_each_and_a_year_between_them():
    """Two customers at 180 a seat are no price; nor is 54 a seat (3 times 18: no year) however many pay it."""
    log, counts = first_month({"a1": 1, "a2": 2}, {f"m{i}": 1 for i in range(5)})
    assert read(log, as_of="2017-01-31 23:59:59", seat_counts=counts).price_book.annual_seat == ()
    log, counts = first_month({f"a{i}": 1 for i in range(4)}, {f"m{i}": 1 for i in range(5)}, year=54.0)
    book = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts).price_book
    assert book.monthly_seat == () and book.annual_seat == ()


def test_the_year_of_two_products_is_read_within_one_product():
    """25 and 45 a seat a month, 300 and 540 a year: 540 is best supported among annual prices and 25 among monthly
    ones, but the year is 12 months (300 / 25), not 21.6 (540 / 25): a 21.25 tier's year is 255."""
    monthly_prices = (Price(25.0, 23, 23, "x"), Price(21.25, 7, 7, "x"), Price(38.25, 4, 4, "x"))
    annual_prices = (Price(540.0, 11, 8, "x"), Price(300.0, 8, 6, "x"))
    assert year_ratio(monthly_prices, annual_prices) == pytest.approx(12.0)
    derived = [p.amount for p in _derived(list(monthly_prices), list(annual_prices))]
    assert derived == [255.0, 459.0]  # 25 x 12 = 300 is known already
    book = PriceBook("learned", monthly_seat=monthly_prices, annual_seat=annual_prices)
    assert book.switch_ratios == (10.0, 12.0)
    assert year_ratio((Price(25.0, 9, 9, "x"),), (Price(100.0, 9, 9, "x"),)) == 0.0  # 4 months: no year, no ratio


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


# ----------------------------------------------------------------------------- no seat counts: tier multiples


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


def young_no_seat_company(months_lapse: int = 0, tier_series: int = 0, months: int = 7) -> pd.DataFrame:
    """No seat column, a log five months old: 5 two-seat monthly plans at 36 with a seat added (18 a seat a month),
    `months` three-seat plans at 54 and `months_lapse` more paid once, 6 customers buying 180 x k and 4 buying 144 x k
    for a year with a seat added (both annual prices learned from the prorations, 180 the list price), 3 customers
    paying 288 (2 x 144) once in February, and `tier_series` customers renewing 288 every month."""
    rows: list[tuple[str, str, float]] = []
    for i in range(5):
        rows += monthly(f"m{i}", f"2017-01-0{5 + i} 10:00", 36.0, 4)
        rows.append((f"m{i}", f"2017-01-{20 + i} 10:00", 9.29))
    for i in range(months):
        rows += monthly(f"n{i}", f"2017-01-{10 + i} 10:00", 54.0, 4)
    for i in range(months_lapse):
        rows.append((f"o{i}", f"2017-02-{10 + i} 10:00", 54.0))
    for i in range(6):
        rows += annual_with_proration(f"l{i}", f"2017-01-{3 + i:02d} 09:00", 1 + i % 3, after_days=30)
    for i in range(4):
        rows += annual_with_proration(f"t{i}", f"2017-01-{13 + i:02d} 09:00", 1 + i % 3, price=144.0, after_days=30)
    for i in range(tier_series):
        rows += monthly(f"s{i}", f"2017-01-{20 + i} 11:00", 288.0, 4)
    for i in range(3):
        rows.append((f"x{i}", f"2017-02-{3 + i:02d} 12:00", 288.0))
    return charges(*rows)


def test_without_seats_a_young_log_reads_tier_multiples_as_annual_when_months_of_seats_do_not_lapse():
    """No charge is a year old, so no renewal a year later can say what 288 (2 x 144, or 16 seats x 18 for a month)
    is. What did not renew a month later can: none of the 12 plans at months of 2 seats or more lapsed after its first
    month, while the three 288s all did. At least half of them are years: 288 whose renewal was due is 2 seats x 144
    for a year, not a month then churn; About says what the comparison was."""
    result = read(young_no_seat_company(), "2017-05-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0, 144.0] and book.tier_points
    assert month_ends(result, "2017-05-31 23:59:59", "x0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 24.0)
    assert dict(book.rows())["tier multiples"] == (
        "no single charge a year old yet: 0 of 12 months of 2 seats or more lapsed after their first month, and 3 of "
        "3 charges at k x a tier price (144.00), where such months would give about 0.1 (years when more than twice "
        "that): "
        "tier multiples whose renewal was due are read as annual")


@pytest.mark.parametrize(("months", "months_lapse", "tier_series", "years"), [
    (7, 7, 0, True),  # 7 of 19 months lapsed, no 288 renewed: 1 x 8 / 12 = 0.7, and 3 lapsed 288s are years
    (7, 7, 6, False),  # ... and six 288 plans renewed: (6 + 1) x 8 / 12 = 4.7, more than half of 3
    (1, 9, 0, False),  # 9 of 15 months lapsed: even with no 288 renewed, 1 x 10 / 6 = 1.7, and 3 is under twice it
    (7, 3, 6, False),  # 3 of 15 months lapsed, six 288 plans: 7 x 4 / 12 = 2.3; 3 lapsed is under twice that
])
def test_without_seats_a_young_log_keeps_tier_multiples_months_when_months_of_seats_lapse_as_often(
        months, months_lapse, tier_series, years):
    """Tier multiples are years only when they lapsed at least twice as often as months of several seats would give
    them ((288 plans renewed + 1) x (such months lapsed + 1) / such months renewed); otherwise 288 stays a month,
    then churn."""
    log = young_no_seat_company(months_lapse=months_lapse, tier_series=tier_series, months=months)
    result = read(log, "2017-05-31 23:59:59")
    assert result.price_book.tier_points == years
    assert month_ends(result, "2017-05-31 23:59:59", "x0")["2017-04"] == (24.0 if years else 0.0)


def test_a_configured_book_reads_no_tier_multiples_from_a_young_logs_lapses():
    """Configured prices say what the prices are, not how the log's plans lapse: the young-log comparison is the
    learned book's."""
    rules = replace(BillingRules(), price_book=PriceList(monthly_seat=(18.0,), annual_seat=(180.0, 144.0)))
    result = read(young_no_seat_company(), "2017-05-31 23:59:59", rules=rules)
    assert not result.price_book.tier_points and result.price_book.tier_lapses == ()


def lapse_company(series_126: int = 0, months_lapse: int = 0, lapsed_126: int = 4, lapsed_252: int = 0,
                  series_252: int = 0, extra: tuple[tuple[str, str, float], ...] = ()) -> pd.DataFrame:
    """No seat column, a log five months old: 5 two-seat monthly plans at 36 with a seat added (18 a seat a month), 7
    three-seat plans at 54 and `months_lapse` more paid once, 6 customers buying 180 x k for a year with a seat added
    (the list price, learned from the prorations; no tier learned), `series_126` customers renewing 126 (7 seats x
    18) every month, `lapsed_126` paying 126 once in February and `lapsed_252` paying 252 once then, `series_252`
    renewing 252 every month, p paying 126 on 2017-05-20 (pending at the end of May), and the `extra` charges."""
    rows: list[tuple[str, str, float]] = []
    for i in range(5):
        rows += monthly(f"m{i}", f"2017-01-0{5 + i} 10:00", 36.0, 4)
        rows.append((f"m{i}", f"2017-01-{20 + i} 10:00", 9.29))
    for i in range(7):
        rows += monthly(f"n{i}", f"2017-01-{10 + i} 10:00", 54.0, 4)
    for i in range(months_lapse):
        rows.append((f"o{i}", f"2017-02-{10 + i} 10:00", 54.0))
    for i in range(6):
        rows += annual_with_proration(f"l{i}", f"2017-01-{3 + i:02d} 09:00", 1 + i % 3, after_days=30)
    for i in range(series_126):
        rows += monthly(f"s{i}", f"2017-01-{20 + i} 11:00", 126.0, 4)
    for i in range(lapsed_126):
        rows.append((f"x{i}", f"2017-02-{3 + i:02d} 12:00", 126.0))
    for i in range(lapsed_252):
        rows.append((f"y{i}", f"2017-02-{13 + i:02d} 12:00", 252.0))
    for i in range(series_252):
        rows += monthly(f"v{i}", f"2017-01-{12 + i} 11:00", 252.0, 4)
    return charges(*rows, ("p", "2017-05-20 12:00", 126.0), *extra)


def test_without_seats_a_young_log_reads_an_amount_that_lapses_unlike_months_of_seats_as_a_year():
    """126 is 7 seats x 18 for a month, or a seat's year at a tier the log has not taught (no proration at it yet). No
    charge is a year old. None of the 12 plans at months of 2-3 seats lapsed after its first month, while all four
    126s did: they are years, 10.50 a month once their renewal was due, not a month then churn. A pending 126 may still
    be a seven-seat monthly plan's first month: one provisional month. About and the Billing reason say why."""
    result = read(lapse_company(), "2017-05-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0] and [p.amount for p in book.lapse_years] == [126.0]
    assert book.seat_month_lapses == (12, 0)
    assert month_ends(result, "2017-05-31 23:59:59", "x0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 10.5)
    assert month_ends(result, "2017-05-31 23:59:59", "p") == {"2017-05": 126.0}
    assert dict(book.rows())["a year once lapsed"] == (
        "126.00, learned from 4 charges of 4 customers (single charges whose monthly renewal never came: 4 lapsed after "
        "their first month and 0 renewed, where months of several seats would give about 0.1 lapsed (0 of 12 months of "
        "2 seats or more lapsed); a year once its renewal was due)")
    assert "126.00 is a year's price the log taught by what did not renew (learned from 4 charges of 4 customers" in \
        rows_of(result, "x0")["reason"].iloc[0]


@pytest.mark.parametrize(("series_126", "months_lapse", "lapsed_126", "year"), [
    (0, 0, 4, True),
    (6, 3, 4, False),  # six 126 plans renewed and 3 of 15 months lapsed: 7 x 4 / 12 = 2.3, and 4 is under twice it
    (6, 0, 4, True),  # ... none lapsed: 7 x 1 / 12 = 0.6
    (0, 0, 2, False),  # two customers are too few to say
    (2, 12, 4, False),  # 12 of 24 months lapsed: 3 x 13 / 12 = 3.3
])
def test_without_seats_a_young_log_keeps_an_amount_a_month_when_it_lapses_as_months_of_seats_do(
        series_126, months_lapse, lapsed_126, year):
    """An amount's lapsed charges are years only when MIN_CUSTOMERS+ of them lapsed and at least twice as many as its
    own renewed months would give at the rate months of several seats lapse ((126 plans renewed + 1) x (such months
    lapsed + 1) / such months renewed); otherwise 126 stays a month, then churn."""
    result = read(lapse_company(series_126, months_lapse, lapsed_126), "2017-05-31 23:59:59")
    assert (126.0 in [p.amount for p in result.price_book.lapse_years]) == year
    assert month_ends(result, "2017-05-31 23:59:59", "x0")["2017-04"] == (10.5 if year else 0.0)


def test_without_seats_multiples_of_a_year_that_lapsed_are_years_too():
    """252 (2 x 126, or 14 seats x 18) paid once by two customers and 378 (3 x 126) by one: too few to be years on
    their own, but 126 is one (above), and the charges at its multiples (126's own lapses, which taught it, not counted)
    lapsed far more often than months of seats do (item 39's comparison, with 126 as a tier): 2 seats for a year,
    21.00 a month; About names the tier. A pending 252 may be a new monthly plan's first month: one provisional
    month."""
    log = lapse_company(lapsed_252=2, extra=(("w", "2017-02-20 12:00", 378.0), ("q", "2017-05-22 12:00", 252.0)))
    result = read(log, "2017-05-31 23:59:59")
    book = result.price_book
    assert book.tier_points and book.tier_units == (126.0,) and book.tier_lapses == (12, 0, 0, 3)
    assert month_ends(result, "2017-05-31 23:59:59", "y0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 21.0)
    assert month_ends(result, "2017-05-31 23:59:59", "q") == {"2017-05": 252.0}
    assert "252.00 = 2 x 126.00, a seat's year the log taught by what did not renew (learned from 4 charges of 4 " \
           "customers): 2 seats for a year" in rows_of(result, "y0")["reason"].iloc[0]
    assert "at k x a tier price (126.00)" in dict(book.rows())["tier multiples"]
    assert "and of 126.00 once their renewal was due" in dict(book.rows())["annual price points"]


def test_without_seats_multiples_that_lapse_as_months_of_seats_do_stay_months():
    """Ten customers renew 252 every month and four paid it once: at the rate months of several seats lapse (2 of 14),
    252's own renewals account for most of its lapses, and 126's being a year says nothing of them: each lapsed 252 is
    a month of 14 seats, then churn."""
    result = read(lapse_company(months_lapse=2, lapsed_252=4, series_252=10), "2017-05-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.lapse_years] == [126.0] and not book.tier_points
    assert month_ends(result, "2017-05-31 23:59:59", "y0") == {"2017-02": 252.0, "2017-03": 0.0, "2017-04": 0.0,
                                                               "2017-05": 0.0}


def test_without_seats_a_flat_plans_one_month_customers_are_churn():
    """149 a month is a flat plan (no month of seats at 18): ten customers renew it, five paid it once. Months of seats
    lapse rarely, but a flat plan's lapses say nothing of years: 149 once is a month, then churn."""
    extra = tuple(row for i in range(10) for row in monthly(f"f{i}", f"2017-01-{3 + i:02d} 13:00", 149.0, 4)) + \
        tuple((f"g{i}", f"2017-02-{3 + i:02d} 13:00", 149.0) for i in range(5))
    result = read(lapse_company(extra=extra), "2017-05-31 23:59:59")
    assert [p.amount for p in result.price_book.lapse_years] == [126.0]
    assert month_ends(result, "2017-05-31 23:59:59", "g0") == {"2017-02": 149.0, "2017-03": 0.0, "2017-04": 0.0,
                                                               "2017-05": 0.0}


def test_without_seats_a_flat_plans_year_is_no_seat_tier():
    """Without seat counts, 490 (ten months of a flat 49 that four customers renew) paid once by six customers is an
    annual point the lapses taught, beside 126 (a seat's year); tier multiples are years (252 and 378 lapsed), but
    980 is no "2 seats x 490": a flat plan's year is no seat's, and 980 is a month, then churn."""
    extra = tuple(row for i in range(4) for row in monthly(f"f{i}", f"2017-01-{10 + i:02d} 11:00", 49.0, 4)) + \
        tuple((f"h{i}", f"2017-02-{3 + i:02d} 14:00", 490.0) for i in range(6)) + \
        (("w", "2017-02-20 12:00", 378.0), ("z", "2017-02-21 12:00", 980.0))
    result = read(lapse_company(lapsed_252=2, extra=extra), "2017-05-31 23:59:59")
    book = result.price_book
    assert 490.0 in [p.amount for p in book.annual_points] and book.tier_points and book.tier_units == (126.0,)
    assert month_ends(result, "2017-05-31 23:59:59", "h0")["2017-04"] == 40.83
    assert month_ends(result, "2017-05-31 23:59:59", "z") == {"2017-02": 980.0, "2017-03": 0.0, "2017-04": 0.0,
                                                              "2017-05": 0.0}


def test_a_small_seat_file_reads_no_multiples_of_a_flat_plans_year():
    """Seat counts for a few customers only (fewer than the weighing needs): the book compares tier multiples by what
    lapsed, as without seats, but only at tiers learned from prorations or annual charges. 490 (ten months of a flat
    49) is a point the lapses taught; 980 is not two seats of it: a month, then churn."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, float] = {}
    for i in range(12):
        counts[f"m{i}"] = 1 + i % 3
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0 * counts[f"m{i}"], 4)
    for i in range(6):
        rows += annual_with_proration(f"l{i}", f"2017-01-{3 + i:02d} 10:00", 1 + i % 3, after_days=30)
        rows += monthly(f"f{i}", f"2017-01-{10 + i:02d} 11:00", 49.0, 4)
        rows.append((f"y{i}", f"2017-02-{3 + i:02d} 12:00", 490.0))
    rows.append(("z", "2017-02-20 12:00", 980.0))
    result = read(charges(*rows), "2017-05-31 23:59:59", seat_counts=seats(**counts))
    assert 490.0 in [p.amount for p in result.price_book.annual_points] and result.price_book.tier_units == ()
    assert month_ends(result, "2017-05-31 23:59:59", "z") == {"2017-02": 980.0, "2017-03": 0.0, "2017-04": 0.0,
                                                              "2017-05": 0.0}


def test_lapsed_years_are_a_young_no_seat_logs_evidence_only():
    """With seat counts, the seats weigh 126 (`lapsed_seat_prices` reads exact seat matches); a year on, renewals a year later say
    what is annual: no lapsed years either way."""
    log = lapse_company()
    counts = pd.Series({c: {"m": 3.0, "n": 3.0, "l": 2.0}.get(c[0], 1.0) for c in log["customer_id"].unique()})
    assert read(log, "2017-05-31 23:59:59", seat_counts=counts).price_book.lapse_years == ()
    aged = pd.concat([log, charges(("old", "2016-01-04 10:00", 54.0))], ignore_index=True)
    assert read(aged, "2017-05-31 23:59:59").price_book.lapse_years == ()


def flat_plan_and_seat_customers(others: tuple[int, ...], plan: float = 49.0, plan_seats: int = 4,
                                 extra: tuple[tuple[str, float, int], ...] = ()) -> tuple[pd.DataFrame, pd.Series]:
    """12 customers on 18 a seat a month (1 to 4 seats), 4 customers with `plan_seats` seats on a plan of `plan` a
    month, customers with `others` seats on that plan too, and `extra` (customer, monthly amount, seats); every plan
    renews for three months."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for c, amount, n in extra:
        counts[c] = n
        rows += monthly(c, "2017-01-20 12:00", amount, 3)
    for i in range(12):
        counts[f"m{i}"] = 1 + i % 4
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0 * counts[f"m{i}"], 3)
    for i in range(4):
        counts[f"f{i}"] = plan_seats
        rows += monthly(f"f{i}", f"2017-01-{5 + i:02d} 11:00", plan, 3)
    for i, n in enumerate(others):
        counts[f"g{i}"] = n
        rows += monthly(f"g{i}", f"2017-01-{10 + i:02d} 11:00", plan, 3)
    return charges(*rows), seats(**counts)


def test_a_flat_plans_price_over_its_customers_shared_seat_count_is_no_seat_price():
    """Four customers with 4 seats on a flat 49 make "12.25 a seat"; customers with 2, 3 and 8 seats paying 49 as well
    say it is a plan's price, not a seat's (generated seat11: 490, ten months of 49, was then read as 40 seats x 12.25
    for a month)."""
    log, counts = flat_plan_and_seat_customers(others=(2, 3, 8))
    book = read(log, as_of="2017-04-30 23:59:59", seat_counts=counts).price_book
    assert [p.amount for p in book.monthly_seat] == [18.0]


def test_a_flat_price_that_seats_do_not_divide_to_the_cent_is_no_seat_price_either():
    """49 over 3 seats is 16.33 a seat, and 3 x 16.33 is 48.99: the customers at other seat counts paying 49 still
    show a plan's price."""
    log, counts = flat_plan_and_seat_customers(others=(2, 4, 8), plan_seats=3)
    book = read(log, as_of="2017-04-30 23:59:59", seat_counts=counts).price_book
    assert [p.amount for p in book.monthly_seat] == [18.0]


def test_a_tier_two_seat_counts_pay_stays_and_other_prices_customers_do_not_count_against_one():
    """12.25 paid per seat by 4-seat customers (49) and by 2-seat ones (24.50) is a seat price, whoever else pays
    49; and a real tier of 10.80 that only 4-seat customers pay (43.20) keeps its place when three 3-seat customers on
    the 14.40 tier pay 43.20 too: their charges are that tier's, not a plan's."""
    log, counts = flat_plan_and_seat_customers(others=(3, 8, 5), extra=(("h0", 24.5, 2), ("h1", 24.5, 2)))
    assert [p.amount for p in read(log, as_of="2017-04-30 23:59:59", seat_counts=counts).price_book.monthly_seat] == \
        [18.0, 12.25]
    fourteen = tuple((f"q{i}", 43.2, 3) for i in range(3)) + tuple((f"r{i}", 57.6, 4) for i in range(3))
    log, counts = flat_plan_and_seat_customers(others=(), plan=43.2, extra=fourteen)
    assert [p.amount for p in read(log, as_of="2017-04-30 23:59:59", seat_counts=counts).price_book.monthly_seat] == \
        [18.0, 14.4, 10.8]


def test_a_tier_only_one_seat_count_pays_is_a_tier_when_no_other_seat_count_pays_its_amount():
    """The same four 4-seat customers at 57.60 (4 x 14.40, a discount of 18), and no one at another seat count paying
    57.60: 14.40 a seat is a tier."""
    log, counts = flat_plan_and_seat_customers(others=(), plan=57.6)
    book = read(log, as_of="2017-04-30 23:59:59", seat_counts=counts).price_book
    assert [p.amount for p in book.monthly_seat] == [18.0, 14.4]
    log, counts = flat_plan_and_seat_customers(others=(2, 3), plan=49.0)  # two customers elsewhere: not enough to say
    assert [p.amount for p in read(log, as_of="2017-04-30 23:59:59", seat_counts=counts).price_book.monthly_seat] == \
        [18.0, 12.25]


def test_a_paired_price_the_annual_charges_taught_already_is_listed_once():
    """1800 by 10-seat customers teaches 180 a seat a year (>= annual_min_amount); the 18 / 180 pair among single
    charges says the same: one annual price, not two halves of its weight."""
    log, counts = first_month({f"a{i}": 10 for i in range(5)}, {f"m{i}": i % 3 + 1 for i in range(5)})
    book = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts).price_book
    assert [p.amount for p in book.annual_seat] == [180.0] and [p.amount for p in book.monthly_seat] == [18.0]


# ----------------------------------------------------------------------------- a young log: what did not renew


def second_month(tier_renews: bool) -> tuple[pd.DataFrame, pd.Series]:
    """A log's second month: 12 customers on 18 a seat a month in January (10 renew in February), 1 customer's
    180 a seat for a year, and 3 customers paying 144 a seat (1, 2 and 1 seats) in January that renew a month later
    only when `tier_renews`; then, in February, a pending 288 by a 2-seat customer."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for i in range(12):
        counts[f"m{i}"] = i % 3 + 1
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0 * counts[f"m{i}"], 1 if i < 10 else 0)
    counts["y"] = 6
    rows.append(("y", "2017-01-05 12:00", 1080.0))
    for c, n, day in (("t1", 1, 4), ("t2", 2, 6), ("t3", 1, 9)):
        counts[c] = n
        rows += monthly(c, f"2017-01-{day:02d} 15:00", 144.0 * n, 1 if tier_renews else 0)
    counts["p"] = 2
    rows.append(("p", "2017-02-20 10:00", 288.0))
    return charges(*rows), seats(**counts)


def test_a_seat_price_that_never_renewed_a_month_later_is_a_years_price():
    """January's three 144-a-seat charges had their February renewal due and none came, while 10 of 12 18-a-seat
    ones renewed: 144 is a year's seat price (a tier of 180). January's charges are years, not a month then churn,
    and February's pending 288 (2 seats) is a year from the start; the book says what the price rests on."""
    log, counts = second_month(tier_renews=False)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    tier = [p for p in result.price_book.annual_seat if p.amount == 144.0]
    assert len(tier) == 1 and tier[0].customers == 3
    assert "whose monthly renewal never came: 0 of 3 charges at 144.00 a seat renewed a month later, 10 of 12 at " \
           "the monthly seat price 18.00" in tier[0].basis
    assert month_ends(result, "2017-02-28 23:59:59", "t2") == {"2017-01": 24.0, "2017-02": 24.0}
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 24.0}


def test_a_seat_price_that_renews_monthly_is_no_years_price():
    """The same log where the 144-a-seat plans renewed in February: 144 a seat is a monthly plan (a premium one),
    not a year; the pending 288 stays a month for now."""
    log, counts = second_month(tier_renews=True)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert 144.0 not in [p.amount for p in result.price_book.annual_seat]
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 288.0}


def second_month_two_tiers(on_list: int, on_tier: int) -> tuple[pd.DataFrame, pd.Series]:
    """A log's second month with two monthly seat prices: `on_list` customers on 12 a seat a month in January and
    `on_tier` on 29 (all but one of each renew in February), and 3 customers paying 319 a seat (11 months of 29) once
    in January, 1, 2 and 1 seats: a year of the 29 tier, renewal due in February and absent."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for prefix, price, n in (("m", 12.0, on_list), ("k", 29.0, on_tier)):
        for i in range(n):
            counts[f"{prefix}{i}"] = i % 3 + 1
            rows += monthly(f"{prefix}{i}", f"2017-01-{3 + i:02d} 09:00", price * counts[f"{prefix}{i}"],
                            1 if i else 0)
    for c, n, day in (("t1", 1, 4), ("t2", 2, 6), ("t3", 1, 9)):
        counts[c] = n
        rows.append((c, f"2017-01-{day:02d} 15:00", 319.0 * n))
    return charges(*rows), seats(**counts)


@pytest.mark.parametrize(("on_list", "on_tier"), [(11, 4), (6, 5)])
def test_a_seat_price_that_never_renewed_is_a_year_of_any_monthly_seat_price(on_list, on_tier):
    """319 a seat is 26.6 months of the list price 12 but 11 months of the 29 tier: a year's price of that tier
    (generated seat11, whose tiers are 12 / 29 / 59). The renewal rate it is compared with pools every monthly seat
    price's charges (six customers on 12 are too few to say how often months renew; with five more on 29 they say
    it). January's 319s are years, not a month then churn."""
    log, counts = second_month_two_tiers(on_list, on_tier)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert [p.amount for p in result.price_book.monthly_seat] == [12.0, 29.0]
    tier = [p for p in result.price_book.annual_seat if p.amount == 319.0]
    assert len(tier) == 1 and tier[0].lapsed
    assert (f"0 of 3 charges at 319.00 a seat renewed a month later, {on_list + on_tier - 2} of {on_list + on_tier} "
            "at the monthly seat prices 12.00, 29.00") in tier[0].basis
    assert month_ends(result, "2017-02-28 23:59:59", "t2") == {"2017-01": 53.17, "2017-02": 53.17}


def test_a_premium_tiers_one_month_customers_are_no_years_price():
    """Tiers 10 and 25 (the list price) a seat a month, and a premium 70 a seat (7 months of 10) that two of five
    customers renewed in February: 70 renewed far less often than the others, but a year of a tier, not of the list
    price, must lapse twice as clearly (at most a quarter of the months' rate): the three who left are a month, then
    churn."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for prefix, price, n in (("c", 10.0, 4), ("m", 25.0, 12)):
        for i in range(n):
            counts[f"{prefix}{i}"] = i % 3 + 1
            rows += monthly(f"{prefix}{i}", f"2017-01-{3 + i:02d} 09:00", price * counts[f"{prefix}{i}"], 1 if i else 0)
    for i in range(5):
        counts[f"p{i}"] = i % 2 + 1
        rows += monthly(f"p{i}", f"2017-01-{5 + i:02d} 11:00", 70.0 * counts[f"p{i}"], 1 if i < 2 else 0)
    result = read(charges(*rows), as_of="2017-02-28 23:59:59", seat_counts=seats(**counts))
    assert 70.0 not in [p.amount for p in result.price_book.annual_seat]
    assert month_ends(result, "2017-02-28 23:59:59", "p3") == {"2017-01": 140.0, "2017-02": 0.0}


def test_a_year_of_the_list_price_is_weighed_against_the_list_prices_own_renewals():
    """The list price 12 renews 7 times of 12, the 29 tier 5 of 5; 132 a seat (11 months of 12) renewed 2 of 6
    times. Pooled (12 of 17), the 29 tier's loyal customers would make 132 look lapsed; against the list price's own
    rate it renewed as its months do: no year, and the four who left are a month, then churn."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for prefix, price, n, renew in (("m", 12.0, 12, 7), ("k", 29.0, 5, 5), ("t", 132.0, 6, 2)):
        for i in range(n):
            counts[f"{prefix}{i}"] = i % 3 + 1 if prefix != "t" else 1
            rows += monthly(f"{prefix}{i}", f"2017-01-{3 + i:02d} 09:00", price * counts[f"{prefix}{i}"],
                            1 if i < renew else 0)
    result = read(charges(*rows), as_of="2017-02-28 23:59:59", seat_counts=seats(**counts))
    assert 132.0 not in [p.amount for p in result.price_book.annual_seat]
    assert month_ends(result, "2017-02-28 23:59:59", "t5") == {"2017-01": 132.0, "2017-02": 0.0}


def no_seat_second_month(year_renews_monthly: bool) -> pd.DataFrame:
    """No seat column, a log's second month: 12 customers pay 18 a month from January (10 renew in February), 4 pay
    180 once in January (renewed a month later only when `year_renews_monthly`), and in February 2 customers pay a
    pending 360 and 540."""
    rows: list[tuple[str, str, float]] = []
    for i in range(12):
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0, 1 if i < 10 else 0)
    for i in range(4):
        rows += monthly(f"y{i}", f"2017-01-{4 + i:02d} 15:00", 180.0, 1 if year_renews_monthly else 0)
    rows += [("p", "2017-02-20 10:00", 360.0), ("q", "2017-02-21 10:00", 540.0)]
    return charges(*rows)


def test_without_seats_an_amount_that_never_renewed_a_month_later_is_a_year():
    """No seat counts, no prorations, no year-old charge: 180 paid once by 4 customers, none renewed a month later
    while 10 of 12 18s did, is a year (the annual list price, about what it rests on), and so are February's pending
    360 and 540 (its whole multiples), at once; January's 180s are years, not a month then churn."""
    result = read(no_seat_second_month(False), as_of="2017-02-28 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0]
    assert "0 of 4 charges of 180.00 renewed a month later, 10 of 12 of 18.00, the most common monthly amount" in \
        book.annual_seat[0].basis
    assert month_ends(result, "2017-02-28 23:59:59", "y0") == {"2017-01": 15.0, "2017-02": 15.0}
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 30.0}
    assert month_ends(result, "2017-02-28 23:59:59", "q") == {"2017-02": 45.0}


def test_without_seats_an_amount_that_renews_monthly_stays_a_month():
    """The same log where the 180s renewed in February: 180 is a monthly plan's price; nothing is a year."""
    result = read(no_seat_second_month(True), as_of="2017-02-28 23:59:59")
    assert result.price_book.annual_seat == () and result.price_book.annual_points == ()
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 360.0}


def test_without_seats_a_logs_first_month_pairs_a_month_and_a_year_by_amount():
    """No seat counts, no series yet: 18 (5 customers) and 180 (3 customers), ten times it, are a month and a year;
    180 stands as the annual list price, so the pending 180s and a 540 are years at once; with 180 paid by 2
    customers only, nothing pairs."""
    rows = [(f"m{i}", f"2017-01-{3 + i:02d} 11:00", 18.0) for i in range(5)]
    rows += [(f"y{i}", f"2017-01-{10 + i:02d} 10:00", 180.0) for i in range(3)] + [("q", "2017-01-20 10:00", 540.0)]
    result = read(charges(*rows), as_of="2017-01-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0]
    assert "paired among amounts: 18.00 (5 customers) and 180.00 (3 customers), 10 times it; no seat counts" in \
        book.annual_seat[0].basis
    assert month_ends(result, "2017-01-31 23:59:59", "y0") == {"2017-01": 15.0}
    assert month_ends(result, "2017-01-31 23:59:59", "q") == {"2017-01": 45.0}
    assert read(charges(*rows[:7], rows[-1]), as_of="2017-01-31 23:59:59").price_book.annual_seat == ()


def test_a_first_month_pairs_amounts_when_todays_seats_scatter_the_per_seat_prices():
    """A first month read with today's seat counts: 12 customers paid 18 (one seat then, 2 to 13 seats today) and 8
    paid 180 (2 to 9 seats today), so no per-seat price is shared by 3 customers; 18 and 180 still pair as amounts
    (one seat's month and year), and a 2-seat customer's 360 is read as 2 seats for a year, not 20 for a month."""
    rows = [(f"m{i}", f"2017-01-{3 + i:02d} 11:00", 18.0) for i in range(12)]
    rows += [(f"y{i}", f"2017-01-{3 + i:02d} 10:00", 180.0) for i in range(8)] + [("p", "2017-01-25 10:00", 360.0)]
    counts = seats(**{f"m{i}": i + 2 for i in range(12)}, **{f"y{i}": i + 2 for i in range(8)}, p=2)
    result = read(charges(*rows), as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [18.0] and [p.amount for p in book.annual_seat] == [180.0]
    assert book.annual_seat[0].basis.startswith("paired among amounts: 18.00 (12 customers) and 180.00 (8 customers)")
    assert month_ends(result, "2017-01-31 23:59:59", "p") == {"2017-01": 30.0}


@pytest.mark.parametrize("seat_months", [0, 3])
def test_a_flat_price_paired_among_amounts_paid_once_needs_no_seat_count_to_match(seat_months):
    """A first month read with today's seat counts: 49 (10 customers) and 490 (11 customers), ten times it, pair only
    as amounts (today's seats, 2 to 31, scatter their per-seat values); 21 seat counts are enough to weigh two
    readings. When nobody pays 2 to 5 times 49, 49 is a flat plan's price, paid as such whatever the seats: z's 490
    (31 seats today) is the year it is paid as, 40.83 a month, not 10 seats x 49 for a month because 10 is nearer 31
    than 1 is; w's 490, exactly its 10 seats x 49, is that month. When three customers pay 98 or 147 (2 and 3 seats),
    49 is a seat's price and the seat counts weigh z's 490 as before: 10 seats for a month."""
    rows = [(f"m{i}", f"2017-01-{3 + i:02d} 11:00", 49.0) for i in range(10)]
    rows += [(f"y{i}", f"2017-01-{3 + i:02d} 10:00", 490.0) for i in range(9)]
    rows += [(f"s{i}", f"2017-01-{3 + i:02d} 12:00", 49.0 * (2 + i % 2)) for i in range(seat_months)]
    rows += [("z", "2017-01-25 10:00", 490.0), ("w", "2017-01-26 10:00", 490.0)]
    counts = seats(**{f"m{i}": i + 2 for i in range(10)}, **{f"y{i}": 3 * i + 3 for i in range(9)},
                   **{f"s{i}": 2 + i % 2 for i in range(seat_months)}, z=31, w=10)
    result = read(charges(*rows), as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [49.0] and [p.amount for p in book.annual_seat] == [490.0]
    assert book.annual_seat[0].by_amount == (seat_months == 0)
    assert month_ends(result, "2017-01-31 23:59:59", "z") == {"2017-01": 40.83 if seat_months == 0 else 490.0}
    assert month_ends(result, "2017-01-31 23:59:59", "w") == {"2017-01": 490.0}


def test_a_lapsed_tier_is_no_list_price_and_no_year_ratio():
    """The second month's lapsed 144 (3 customers; the annual prices are otherwise assumed, 180 and 216) matches exact
    seat counts only: a pending 432 of a customer with no seat count stays a month for now (not 3 x 144 by multiples),
    and the switch ratios stay 10 and 12 (144 / 18 = 8 is no year)."""
    log, counts = second_month(tier_renews=False)
    log = pd.concat([log, charges(("u", "2017-02-22 10:00", 432.0))], ignore_index=True)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert 144.0 in [p.amount for p in result.price_book.annual_seat if p.lapsed]
    assert result.price_book.switch_ratios == (10.0, 12.0)
    assert month_ends(result, "2017-02-28 23:59:59", "u") == {"2017-02": 432.0}


def test_amounts_pair_smallest_first():
    """No seat counts, a first month: 36 (6 customers) and 360 (4) are better supported than 18 (4) and 180 (3), but
    an amount is never a fraction of a seat: 18 and 180 are a seat's month and year, 36 and 360 two seats'."""
    rows = [(f"a{i}", f"2017-01-{3 + i:02d} 11:00", 36.0) for i in range(6)]
    rows += [(f"b{i}", f"2017-01-{3 + i:02d} 12:00", 360.0) for i in range(4)]
    rows += [(f"c{i}", f"2017-01-{3 + i:02d} 13:00", 18.0) for i in range(4)]
    rows += [(f"d{i}", f"2017-01-{3 + i:02d} 14:00", 180.0) for i in range(3)]
    result = read(charges(*rows), as_of="2017-01-31 23:59:59")
    assert [p.amount for p in result.price_book.annual_seat] == [180.0]
    assert month_ends(result, "2017-01-31 23:59:59", "d0") == {"2017-01": 15.0}


def test_a_lapsed_charge_at_a_multiple_of_a_known_annual_price_teaches_no_tier():
    """180 a seat is known (three 1080 charges of 6-seat customers); three customers paid 720 (4 seats for a year)
    and have 6 seats today: 120 a seat, never renewed, is those seats counted later, not a price."""
    log, counts = second_month(tier_renews=False)
    extra = [(f"k{i}", f"2017-01-{10 + i:02d} 12:00", 1080.0) for i in range(3)]
    extra += [(f"s{i}", f"2017-01-{14 + i:02d} 12:00", 720.0) for i in range(3)]
    log = pd.concat([log, charges(*extra)], ignore_index=True)
    counts = pd.concat([counts, seats(**{f"k{i}": 6 for i in range(3)}, **{f"s{i}": 6 for i in range(3)})])
    book = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts).price_book
    amounts = [p.amount for p in book.annual_seat]
    assert 180.0 in amounts and 120.0 not in amounts and 144.0 in amounts, book.rows()


def test_lapsed_prices_are_a_young_logs_evidence_only():
    """The same second month with one single charge a year older (the log is a year old): renewals a year later
    say what is annual from then on, and nothing is learned from what did not renew a month later."""
    log, counts = second_month(tier_renews=False)
    log = pd.concat([charges(("old", "2016-01-20 10:00", 18.0)), log], ignore_index=True)
    book = read(log, as_of="2017-02-28 23:59:59", seat_counts=pd.concat([counts, seats(old=1)])).price_book
    assert not any(p.lapsed for p in book.annual_seat), book.rows()


def test_a_lapsed_charge_followed_by_a_seat_added_is_no_evidence():
    """The 144-a-seat customers each added a seat after their charge (a proration): today's seat counts are no
    longer the ones they paid for, so their charges teach no price."""
    log, counts = second_month(tier_renews=False)
    extra = [(c, f"2017-01-{day + 9:02d} 15:00", 120.0) for c, day in (("t1", 4), ("t2", 6), ("t3", 9))]
    book = read(pd.concat([log, charges(*extra)], ignore_index=True), as_of="2017-02-28 23:59:59",
                seat_counts=counts).price_book
    assert not any(p.lapsed for p in book.annual_seat), book.rows()


def test_a_long_log_is_weighed_once_per_distinct_amount_seats_and_pending():
    """read_amounts on more than DISTINCT_FROM charges (each distinct reading weighed once) gives every charge the
    verdict it gets read one by one, unknown seat counts and pending charges included."""
    rng = np.random.default_rng(3)
    n = DISTINCT_FROM * 3
    amount = rng.choice([18.0, 36.0, 144.0, 180.0, 360.0, 900.0, 5.65], n) * rng.integers(1, 4, n)
    seat_counts = rng.choice([1.0, 2.0, 5.0, np.nan], n)
    pending = rng.random(n) < 0.2
    beside = rng.random(n) < 0.1
    book = PriceBook("learned", monthly_seat=(Price(18.0, 9, 9, "x"),), annual_seat=(Price(180.0, 5, 5, "x"),),
                     annual_share_single=0.6, annual_share_new=0.3, seat_prior=(0.5, 0.3, 0.1, 0.1))
    got = read_amounts(book, amount, seat_counts, pending, beside=beside)
    want = _read_amounts(book, amount, seat_counts, pending, beside=beside)
    for name in ("code", "price", "multiple", "other_price", "other_multiple"):
        assert np.array_equal(getattr(got, name), getattr(want, name), equal_nan=True), name
    assert len(set(got.code.tolist())) >= 3  # the weighing decided both ways, not one verdict for all


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



# ----------------------------------------------------------------------------- what a held-out price list taught


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


def flat_second_month(renewing: int = 0, plan: float = 49.0, plan_seats: tuple[int, ...] = (3, 5, 8, 2),
                      year: float = 490.0, years: tuple[int, ...] = (3, 14, 31),
                      extra: tuple[tuple[str, str, float], ...] = ()) -> tuple[pd.DataFrame, pd.Series]:
    """A log's second month: 12 one-seat customers on 18 a month from January (10 renew in February), 4 customers
    on a plan of `plan` a month (with `plan_seats` seats; all renew), customers with `years` seats paying `year`
    once in January (the first `renewing` of them renew it a month later), `extra` charges, and in February a
    pending `year` by a 6-seat customer."""
    rows: list[tuple[str, str, float]] = list(extra)
    counts: dict[str, int] = {}
    for i in range(12):
        counts[f"m{i}"] = 1
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0, 1 if i < 10 else 0)
    for i in range(4):
        counts[f"f{i}"] = plan_seats[i]
        rows += monthly(f"f{i}", f"2017-01-{5 + i:02d} 11:00", plan, 1)
    for i, n in enumerate(years):
        counts[f"y{i}"] = n
        rows += monthly(f"y{i}", f"2017-01-{4 + 2 * i:02d} 15:00", year, 1 if i < renewing else 0)
    counts["p"] = 6
    rows.append(("p", "2017-02-20 10:00", year))
    return charges(*rows), seats(**counts)


@pytest.mark.parametrize("plan_seats", [(3, 5, 8, 2), (1, 1, 1, 1), (5, 5, 5, 2)])
def test_a_flat_plans_year_that_never_renewed_a_month_later_is_an_annual_price_point(plan_seats):
    """490 is ten months of 49, a flat plan four customers renew every month. Paid once by three customers in
    January and renewed by none in February, while 14 of the 16 charges at the monthly plans' prices renewed, it is a
    year's price in the log's second month, long before any renewal a year later could say so (generated seat11:
    the flat plan's years were a month and then churn at every month end of the log's first year). January's 490s
    are years, whatever their seat counts, and February's pending one is a year from the start. The plan's own
    customers make 49 (one seat each) or 9.80 (five seats) a seat price the book lists, but no other seat count
    pays it: that is no seat price to make 49 a month of seats."""
    log, counts = flat_second_month(plan_seats=plan_seats)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    points = result.price_book.annual_points
    assert [p.amount for p in points] == [490.0] and points[0].customers == 3
    assert "0 of 3 charges of 490.00 renewed a month later, 14 of 16 at the monthly plans' prices; 10 months of " \
           "49.00, a monthly plan's price" in points[0].basis
    for c in ("y0", "y1", "y2"):
        assert month_ends(result, "2017-02-28 23:59:59", c) == {"2017-01": 40.83, "2017-02": 40.83}, c
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 40.83}
    assert "490.00 is an annual price point" in rows_of(result, "p")["reason"].iloc[0]


@pytest.mark.parametrize("renewing", [3, 6])
def test_a_flat_amount_that_renews_monthly_is_no_years_price(renewing):
    """The same log with six customers paying 490 in January: where half of them renewed it in February (3 of 6,
    more than half the monthly plans' rate of 14 in 16), or all of them, 490 is a monthly plan's price; no point,
    and the pending 490 is a month."""
    log, counts = flat_second_month(renewing=renewing, years=(3, 14, 31, 2, 4, 7))
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert result.price_book.annual_points == ()
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 490.0}


def test_months_of_a_seat_amount_are_no_flat_plans_year():
    """36 is two seats x 18: four 2-seat customers renewing it monthly are a seat plan, not a flat one, and 288
    (eight months of it, or 16 seats for a month) lapsed by three customers is left to the seat prices, never an
    annual point: as points, seat amounts read every pending one as a year, monthly plans of those seats too."""
    log, counts = flat_second_month(plan=36.0, plan_seats=(2, 2, 2, 2), year=288.0)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert result.price_book.annual_points == ()


@pytest.mark.parametrize("year", [245.0, 637.0])
def test_months_of_a_flat_plan_are_a_year_only_from_six_to_twelve(year):
    """245 is five months of 49 and 637 thirteen: neither is a year's price, lapsed or not."""
    log, counts = flat_second_month(year=year)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert result.price_book.annual_points == ()


def test_without_seats_a_flat_plans_year_is_a_point_beside_the_seat_years():
    """No seat column: 490, ten months of the flat 49, lapsed by three customers, is an annual point; 126, seven
    months of 18 (the most common monthly amount, a seat's month), lapsed by three others, is read by amount as the
    annual list price (`_lapsed_points`), its whole multiples years, and is not listed again as a point."""
    extra = tuple(r for i in range(3) for r in monthly(f"s{i}", f"2017-01-{11 + i:02d} 16:00", 126.0, 0))
    log, _ = flat_second_month(extra=extra)
    book = read(log, as_of="2017-02-28 23:59:59").price_book
    assert [p.amount for p in book.annual_points] == [490.0]
    assert [p.amount for p in book.annual_seat] == [126.0]
    result = read(log, as_of="2017-02-28 23:59:59")
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 40.83}


def test_the_amounts_monthly_plans_start_at_are_those_of_three_customers_or_more():
    """The amounts that keep a charge no price reads from being taken for a year (ANNUAL_UNPRICED) are those the
    monthly series of three customers or more start at: 99 (three flat plans) is one, 149 (two) is not; each to the
    cent."""
    rows = [*monthly("a", "2016-01-05 10:00", 99.0, 3), *monthly("b", "2016-02-05 10:00", 99.0, 3),
            *monthly("c", "2016-03-05 10:00", 99.0, 3), *monthly("d", "2016-01-07 10:00", 149.0, 3),
            *monthly("e", "2016-02-07 10:00", 149.0, 3), *monthly("f", "2016-02-09 10:00", 149.01, 3)]
    assert read(charges(*rows), "2016-07-01").price_book.monthly_amounts == (99.0,)
    literal = read(charges(*rows), "2016-07-01", rules=BillingRules(unlisted_tiers="month")).price_book
    assert not literal.unlisted and "tiers not learned yet" not in dict(literal.rows())  # [billing] unlisted_tiers


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
    from kpi.billing.reasons import _book_citation

    said = dict(ELEVEN.rows())["tiers not learned yet"]
    assert "is 6 to 11 months of a monthly seat price, unless it is one of the 5 amounts" in said
    assert "(or none, once its renewal was due: then the commonest seat count that fits)" in said
    text = _book_citation(ELEVEN, ANNUAL_UNPRICED, 616.55, 1, 616.55, np.nan, 0)
    assert text == ("616.55 = 1 seat (the customer's) x 616.55 a year, taken for a price the book has not learned (10.4 "
                    "months of the monthly seat price 59.00: a discounted tier?), as no price of the book reads it as a "
                    "month or a year and no monthly plans of 3+ customers start at it; a guess")
    assert _book_citation(ELEVEN, ANNUAL_UNPRICED, 616.55, 1, 616.55, np.nan, NO_SEAT_COUNT).startswith(
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
