"""Single charges (metrics.md 2b): switch to annual, annual prices beside a monthly plan, pending charges, the book."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.mrr import customer_months, movements
from kpi.params import BillingRules, PriceList
from tests.kpi.billing.logs import charges, month_ends, monthly, read, rows_of, seats

BOOK = BillingRules(price_book=PriceList(monthly_seat=(18.0,), annual_seat=(180.0,)))
OFF = BillingRules(price_book="off")


def churned(result, as_of: str) -> list[tuple[str, str]]:
    """(customer, month) of every churn movement up to as_of."""
    mv = movements(customer_months(result.schedule, pd.Timestamp(as_of, tz="UTC"), "UTC"))
    churn = mv.loc[mv["movement"] == "churn"]
    return [(c, f"{m:%Y-%m}") for c, m in zip(churn["customer_id"], churn["month"], strict=True)]


# ----------------------------------------------------------------------------- switch to annual


def test_twelve_times_the_rate_inside_the_series_is_a_switch_even_without_a_price_book():
    """75 a month, then 900 six days after a renewal (like 68136): 75 a month on, no spike, no churn."""
    log = charges(*monthly("c", "2017-02-17 11:57", 75.0, 4), ("c", "2017-06-23 10:42", 900.0))
    result = read(log, "2017-12-31 23:59:59", rules=OFF)
    assert set(month_ends(result, "2017-12-31 23:59:59", "c").values()) == {75.0}
    assert churned(result, "2017-12-31 23:59:59") == []
    reasons = list(rows_of(result, "c")["reason"])
    assert "ended 2017-06-23 10:42 UTC by the switch to annual c:term-2" in reasons[0]
    assert reasons[1].startswith("single charge of 900.00 = 12 x 75.00, the monthly rate of the plan it falls in")


def test_an_annual_price_at_the_renewal_slot_is_a_switch_not_a_renewal():
    """75 a month, then 900 at the slot where 75 was due, then nothing: the 900 is a year, not a month at 900."""
    log = charges(*monthly("c", "2017-02-17 11:57", 75.0, 3), ("c", "2017-06-17 11:57", 900.0))
    result = read(log, "2017-12-31 23:59:59", rules=OFF)
    assert set(month_ends(result, "2017-12-31 23:59:59", "c").values()) == {75.0}
    assert list(rows_of(result, "c")["kind"]) == ["monthly series", "annual term"]


def test_an_annual_price_after_a_single_month_is_a_switch_too():
    """One month at 75 then 900 at the next slot: 75 all along (the lone first month is no series)."""
    log = charges(("c", "2017-02-17 11:57", 75.0), ("c", "2017-03-17 11:57", 900.0))
    result = read(log, "2017-09-30 23:59:59", rules=OFF)
    assert set(month_ends(result, "2017-09-30 23:59:59", "c").values()) == {75.0}


def test_a_monthly_plan_that_goes_on_renewing_keeps_an_annual_one_beside_it():
    """An annual price inside a series that keeps renewing is an annual plan beside it: both count."""
    log = charges(*monthly("c", "2017-02-17 11:57", 75.0, 6), ("c", "2017-04-23 10:42", 900.0))
    result = read(log, "2017-08-31 23:59:59", rules=OFF)
    got = month_ends(result, "2017-08-31 23:59:59", "c")
    assert got["2017-03"] == 75.0 and got["2017-05"] == 150.0 and got["2017-08"] == 150.0


def test_a_one_seat_annual_price_inside_a_monthly_plan_is_no_proration_spike():
    """36 a month for 2 seats, then 180 (1 seat for a year) mid-cycle while the plan goes on: 36 + 15, no spike."""
    log = charges(*monthly("c", "2017-01-05 10:00", 36.0, 6), ("c", "2017-03-20 10:00", 180.0))
    result = read(log, "2017-07-31 23:59:59", rules=BOOK, seat_counts=seats(c=3))
    got = month_ends(result, "2017-07-31 23:59:59", "c")
    assert got["2017-03"] == 51.0 and got["2017-06"] == 51.0


def test_an_annual_price_inside_a_one_month_term_ends_it():
    """18 once, then 180 (1 seat for a year) two weeks later: the month ends where the year starts."""
    log = charges(("c", "2017-01-05 10:00", 18.0), ("c", "2017-01-19 10:00", 180.0))
    result = read(log, "2017-06-30 23:59:59", rules=BOOK, seat_counts=seats(c=1))
    assert month_ends(result, "2017-06-30 23:59:59", "c") == dict.fromkeys(
        ["2017-01", "2017-02", "2017-03", "2017-04", "2017-05", "2017-06"], 15.0)
    assert "ended 2017-01-19 10:00 UTC by the switch to annual c:term-2" in rows_of(result, "c")["reason"].iloc[0]


# ----------------------------------------------------------------------------- pending charges and the book


def test_a_pending_charge_the_book_calls_annual_is_a_year_from_the_start():
    """180 by a one-seat customer, read ten days later: 15 a month (annual), marked provisional, not 180 then restated."""
    log = charges(("c", "2017-03-01 12:00", 180.0))
    result = read(log, "2017-03-11 00:00:00", rules=BOOK, seat_counts=seats(c=1))
    assert month_ends(result, "2017-03-11 00:00:00", "c") == {"2017-03": 15.0}
    reason = rows_of(result, "c")["reason"].iloc[0]
    assert "annual term (provisional: its first renewal is due by 2017-04-01 14:00 UTC" in reason


def test_a_renewal_of_a_pending_annual_reading_makes_it_a_monthly_series():
    """If the 180 renews a month later after all, it was the first month of 10 seats a month: 180 a month."""
    log = charges(*monthly("c", "2017-03-01 12:00", 180.0, 2))
    result = read(log, "2017-05-10 00:00:00", rules=BOOK)
    assert month_ends(result, "2017-05-10 00:00:00", "c") == {"2017-03": 180.0, "2017-04": 180.0, "2017-05": 180.0}


def test_a_pending_charge_of_seats_times_the_monthly_price_is_one_month():
    """36 by a two-seat customer is 2 seats x 18: one provisional month, whatever the annual prices."""
    log = charges(("c", "2017-03-01 12:00", 36.0))
    result = read(log, "2017-03-11 00:00:00", rules=BOOK, seat_counts=seats(c=2))
    row = rows_of(result, "c").iloc[0]
    assert row["kind"] == "monthly term" and "provisional" in row["reason"]
    assert "36.00 = 2 seats x 18.00, the monthly seat price configured" in row["reason"]


def test_a_big_pending_charge_of_seats_times_the_monthly_price_is_one_month_not_a_year():
    """1800 by a 100-seat customer, ten days in, is 100 seats x 18 (a big monthly plan's first month), not a year at
    150 a month because it is >= annual_min_amount; once its renewal is due and has not come, still one month, which
    churned (docs/billing.md item 68: exactly today's seats x a monthly seat price), not a year at 150."""
    log = charges(("c", "2017-03-01 12:00", 1800.0))
    pending = read(log, "2017-03-11 00:00:00", rules=BOOK, seat_counts=seats(c=100))
    row = rows_of(pending, "c").iloc[0]
    assert row["kind"] == "monthly term" and "provisional" in row["reason"]
    assert month_ends(pending, "2017-03-11 00:00:00", "c") == {"2017-03": 1800.0}
    due = read(log, "2017-04-11 00:00:00", rules=BOOK, seat_counts=seats(c=100))
    row = rows_of(due, "c").iloc[0]
    assert row["kind"] == "monthly term"
    assert row["reason"] == (
        "single charge of 1800.00 = 100 seats x 18.00, the monthly seat price configured; exactly the customer's seat "
        "count: a big monthly plan's month, not a year for being >= annual_min_amount 1000; with no renewal within ±2h "
        "of a month later: one month")
    assert month_ends(due, "2017-04-11 00:00:00", "c") == {"2017-03": 1800.0, "2017-04": 0.0}
    assert churned(due, "2017-04-11 00:00:00") == [("c", "2017-04")]


@pytest.mark.parametrize("seat_count", [95, 10, None])
def test_a_big_settled_charge_not_exactly_a_month_of_todays_seats_is_a_year(seat_count):
    """1800 settled by a customer with 95 or 10 seats today, or no seat count: not exactly a month of its seats (a
    pending one within SEAT_SLACK is read as a month while its renewal may come; settled, only the exact count is), so
    the amount rule holds: a year at 150."""
    log = charges(("c", "2017-03-01 12:00", 1800.0))
    got = read(log, "2017-04-11 00:00:00", rules=BOOK, seat_counts=None if seat_count is None else seats(c=seat_count))
    assert rows_of(got, "c")["kind"].iloc[0] == "annual term"
    assert month_ends(got, "2017-04-11 00:00:00", "c") == {"2017-03": 150.0, "2017-04": 150.0}


def test_a_big_month_of_todays_seats_inside_a_monthly_plan_is_a_plan_of_its_own():
    """1800 = 100 seats x 18 by a 100-seat customer in the middle of a monthly plan of 49: a month of a plan of its
    own, then churn, pending or settled, not a proration of the 49 plan spread to its next renewal (3272.45 in March),
    nor a year (review of item 68)."""
    log = charges(*monthly("c", "2017-01-01 12:00", 49.0, 8), ("c", "2017-03-15 12:05", 1800.0))
    got = read(log, "2017-08-15 00:00:00", rules=BOOK, seat_counts=seats(c=100))
    assert list(rows_of(got, "c")["kind"]) == ["monthly series", "monthly term"]
    ends = month_ends(got, "2017-08-15 00:00:00", "c")
    assert ends["2017-03"] == 1849.0 and ends["2017-04"] == 49.0
    assert month_ends(read(log, "2017-03-20 00:00:00", rules=BOOK, seat_counts=seats(c=100)), "2017-03-20 00:00:00",
                      "c")["2017-03"] == 1849.0


def test_a_big_month_of_seats_inside_a_year_that_is_seats_added_to_it_stays_the_years():
    """Like 24565 (generated seat12 seed 1): 8100 = 15 seats x 540 a year, then 3240 eight minutes later, 6 seats x 540
    x the share left and also 72 x 45 by a customer with 72 seats today: read while pending, it is seats added to the
    year (a proration of it), not a month of 72 seats escaping it (a month-end spike of 4050)."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0,), annual_seat=(540.0,)))
    added = _added("2016-09-27 03:00:29", "2016-09-27 03:08:21", 6, 540.0)
    log = charges(("c", "2016-09-27 03:00:29", 8100.0), ("c", "2016-09-27 03:08:21", added))
    got = read(log, "2016-09-30 23:59:59", rules=book, seat_counts=seats(c=72))
    assert list(rows_of(got, "c")["kind"]) == ["annual term"]
    assert abs(month_ends(got, "2016-09-30 23:59:59", "c")["2016-09"] - 945.0) < 0.5


def test_a_big_settled_month_of_seats_must_be_one_to_the_cent_and_at_todays_count():
    """1799 by a 100-seat customer is within the book's 0.1 % of 100 x 18 but no month of seats to the cent; 1800 = 100
    x 18 by a 60-seat customer (likelier 100 seats a month than 10 x 180 a year, given the other customers) is not
    today's count: both stay years by the amount rule (review of item 68)."""
    got = read(charges(("c", "2017-03-01 12:00", 1799.0)), "2017-04-11 00:00:00", rules=BOOK, seat_counts=seats(c=100))
    assert rows_of(got, "c")["kind"].iloc[0] == "annual term"
    rows, counts = [("c", "2017-03-01 12:00", 1800.0)], {}
    for i in range(25):  # other customers, seats known (the seat counts the book weighs with): 1-3 seats, monthly
        rows.append((f"m{i}", f"2017-02-{(i % 27) + 1:02d} 10:00", 18.0 * (1 + i % 3)))
        counts[f"m{i}"] = 1 + i % 3
    got = read(charges(*rows), "2017-04-11 00:00:00", rules=BOOK, seat_counts=seats(c=60, **counts))
    row = rows_of(got, "c").iloc[0]
    assert row["kind"] == "annual term"


def _added(start: str, at: str, k: int, price: float = 180.0) -> float:
    """k seats x price x the share left, at `at`, of the year that started at `start` (rounded to the cent)."""
    t0, t = pd.Timestamp(start), pd.Timestamp(at)
    end = t0 + pd.DateOffset(years=1)
    return round(k * price * (end - t) / (end - t0), 2)


def test_a_big_month_of_todays_seats_that_a_year_proration_follows_is_that_year():
    """1080 = 60 x 18 by a customer with 60 seats today, but also 6 seats x 180 a year; two months later 54 seats x 180
    x the share left (60 seats now): the 1080 was a year of 6 seats the proration added to, one annual term, not a
    month then churn with the proration a year of its own (review of item 68)."""
    big = _added("2017-01-10 10:00", "2017-03-12 10:00", 54)
    log = charges(("c", "2017-01-10 10:00", 1080.0), ("c", "2017-03-12 10:00", big))
    got = read(log, "2017-06-30 23:59:59", rules=BOOK, seat_counts=seats(c=60))
    assert list(rows_of(got, "c")["kind"]) == ["annual term"]
    ends = month_ends(got, "2017-06-30 23:59:59", "c")
    assert ends["2017-02"] == 90.0 and abs(ends["2017-06"] - 900.0) < 1.0
    assert churned(got, "2017-06-30 23:59:59") == []
    # ... also with a small proration first (one seat a month in): each is the year's
    small = _added("2017-01-10 10:00", "2017-02-10 10:00", 1)
    big = _added("2017-01-10 10:00", "2017-03-12 10:00", 53)
    log = charges(("c", "2017-01-10 10:00", 1080.0), ("c", "2017-02-10 10:00", small), ("c", "2017-03-12 10:00", big))
    got = read(log, "2017-06-30 23:59:59", rules=BOOK, seat_counts=seats(c=60))
    assert list(rows_of(got, "c")["kind"]) == ["annual term"]
    assert abs(month_ends(got, "2017-06-30 23:59:59", "c")["2017-06"] - 900.0) < 1.0


def test_a_big_month_of_todays_seats_at_an_annual_price_point_is_a_year():
    """1200 by a 60-seat customer is 60 x 20 a month, but 1200 is also the book's annual price point (a plan of its
    own): the settled charge keeps the amount rule, a year at 100 (review of item 68)."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(20.0,), annual_points=(1200.0,)))
    log = charges(("c", "2017-03-01 12:00", 1200.0))
    got = read(log, "2017-04-11 00:00:00", rules=rules, seat_counts=seats(c=60))
    assert rows_of(got, "c")["kind"].iloc[0] == "annual term"
    assert month_ends(got, "2017-04-11 00:00:00", "c") == {"2017-03": 100.0, "2017-04": 100.0}


def test_a_big_month_of_todays_seats_renewed_a_year_later_is_a_year_after_all():
    """The price of item 68: 1800 by a 100-seat customer that was 10 seats x 180 a year reads as a month, then churn,
    until its renewal a year later shows the plan: then both are years at 150, restated (docs/billing.md item 68)."""
    log = charges(("c", "2017-03-01 12:00", 1800.0), ("c", "2018-03-01 12:00", 1800.0))
    got = read(log, "2018-03-11 00:00:00", rules=BOOK, seat_counts=seats(c=100))
    assert list(rows_of(got, "c")["kind"]) == ["annual term", "annual term"]
    assert set(month_ends(got, "2018-03-11 00:00:00", "c").values()) == {150.0}
    assert churned(got, "2018-03-11 00:00:00") == []


def test_a_big_pending_month_of_seats_a_few_seats_off_today_is_one_month_not_a_year():
    """Like 602545 (generated, seat12): 2430 = 54 seats x 45 by a customer with 53 seats today (seats drift) is a big
    monthly plan's first month while pending, not a year at 45.85 a seat because it is >= annual_min_amount. At a seat
    count far from today's (100 seats x 18 by a 60-seat customer) the amount rule holds: a year."""
    rows, counts = [("c", "2017-03-01 12:00", 1800.0)], {}
    for i in range(25):  # other customers, seats known (the seat counts the book weighs with): 1-3 seats, monthly
        rows.append((f"m{i}", f"2017-02-{(i % 27) + 1:02d} 10:00", 18.0 * (1 + i % 3)))
        counts[f"m{i}"] = 1 + i % 3
    log = charges(*rows)
    near = read(log, "2017-03-11 00:00:00", rules=BOOK, seat_counts=seats(c=95, **counts))
    row = rows_of(near, "c").iloc[0]
    assert row["kind"] == "monthly term" and "provisional" in row["reason"]
    assert month_ends(near, "2017-03-11 00:00:00", "c") == {"2017-03": 1800.0}
    far = read(log, "2017-03-11 00:00:00", rules=BOOK, seat_counts=seats(c=60, **counts))
    assert rows_of(far, "c")["kind"].iloc[0] == "annual term"
    assert month_ends(far, "2017-03-11 00:00:00", "c") == {"2017-03": 150.0}


def test_a_pending_month_of_seats_after_a_book_annual_charge_is_a_plan_beside_it():
    """Like 491172: 180 = 1 seat x 180 for a year, then 18 = 1 seat x 18 the next day (a monthly plan beside it, not a
    seat added to the year: that would cost 180 x the share left); read two days later, 15 + 18 = 33."""
    log = charges(("c", "2016-11-27 10:49", 180.0), ("c", "2016-11-28 13:52", 18.0))
    result = read(log, "2016-11-30 23:59:59", rules=BOOK, seat_counts=seats(c=1))
    assert list(rows_of(result, "c")["kind"]) == ["annual term", "monthly term"]
    assert month_ends(result, "2016-11-30 23:59:59", "c") == {"2016-11": 33.0}
    seat_added = charges(("c", "2016-11-27 10:49", 180.0), ("c", "2016-11-28 13:52", 179.51))  # 180 x 364/365
    assert list(rows_of(read(seat_added, "2016-11-30 23:59:59", rules=BOOK, seat_counts=seats(c=1)), "c")["kind"]) == [
        "annual term"]


def test_a_pending_likely_month_to_the_cent_beside_an_annual_plan_is_a_plan_not_a_proration():
    """Like 634304: 720 = 4 seats x 180 a year, then 90 a month later by a customer with 2 seats today (5 x 18, likelier
    than anything annual): a monthly plan beside the year, read so while pending. 150.10 is no whole price (12 x 12.50
    + 0.10, like 472419's seat charges): a proration of the year, as before."""
    rows = [("c", "2016-11-20 17:48", 720.0), ("c", "2016-12-20 17:48", 90.0),
            ("p", "2016-11-20 17:48", 720.0), ("p", "2016-12-22 09:13", 150.10)]
    counts = {"c": 2, "p": 2}
    for i in range(25):  # other customers, seats known: 1-3 seats, monthly
        rows.append((f"m{i}", f"2016-11-{(i % 27) + 1:02d} 10:00", 18.0 * (1 + i % 3)))
        counts[f"m{i}"] = 1 + i % 3
    rules = BillingRules(price_book=PriceList(monthly_seat=(18.0, 12.5), annual_seat=(180.0,)))
    result = read(charges(*rows), "2016-12-31 23:59:59", rules=rules, seat_counts=seats(**counts))
    assert list(rows_of(result, "c")["kind"]) == ["annual term", "monthly term"]
    assert month_ends(result, "2016-12-31 23:59:59", "c")["2016-12"] == 150.0
    assert list(rows_of(result, "p")["kind"]) == ["annual term"]


def test_smaller_charges_after_a_month_of_seats_do_not_make_it_annual():
    """36 for two seats then 20 two months later: the book reads 36 as a month of seats, so no annual term by followers."""
    log = charges(("c", "2017-01-05 10:00", 36.0), ("c", "2017-03-20 10:00", 20.0))
    result = read(log, "2017-06-30 23:59:59", rules=BOOK, seat_counts=seats(c=2))
    assert list(rows_of(result, "c")["interval"]) == ["monthly", "monthly"]
    assert read(log, "2017-06-30 23:59:59", rules=OFF).billing["interval"].iloc[0] == "annual"


def test_a_seat_added_to_a_book_annual_term_is_spread_to_the_term_end():
    """720 for 4 seats a year, a seat added a day later (179.59): one annual term with a proration, about 75 a month."""
    log = charges(("c", "2017-05-19 10:00", 720.0), ("c", "2017-05-20 10:00", 179.59))
    result = read(log, "2017-06-30 23:59:59", rules=BOOK, seat_counts=seats(c=5))
    assert list(rows_of(result, "c")["kind"]) == ["annual term"]
    assert abs(month_ends(result, "2017-06-30 23:59:59", "c")["2017-06"] - 75.0) < 0.2


# ----------------------------------------------------------------------------- annual plans renewing, annual prorations


def test_a_charge_renewed_twelve_months_later_is_an_annual_plan_whatever_its_price():
    """432 on 2016-06-24 and 432 on 2017-06-24 at the same time of day are two years of 36 a month, no price book needed."""
    log = charges(("c", "2016-06-24 10:14:52", 432.0), ("c", "2017-06-24 10:14:52", 432.0))
    result = read(log, "2017-12-31 23:59:59", rules=OFF)
    assert set(month_ends(result, "2017-12-31 23:59:59", "c").values()) == {36.0}
    reasons = list(rows_of(result, "c")["reason"])
    assert reasons[0] == ("single charge of 432.00, renewed 12 calendar months later (2017-06-24 10:14 UTC, 432.00): "
                          "an annual plan, annual term")
    assert reasons[1].startswith("single charge of 432.00, the renewal of 432.00 paid 12 calendar months before")
    # a renewal seen: neither year is a guess (the Billing tab's Guessed, and the Summary's share of guessed MRR)
    assert not rows_of(result, "c")["guessed"].any()
    alone = read(charges(("d", "2016-06-24 10:14:52", 432.0)), "2017-12-31 23:59:59", rules=OFF)
    assert rows_of(alone, "d")["guessed"].all()


def test_a_seat_added_at_the_same_hour_a_year_apart_is_no_annual_plan_below_a_years_price():
    """33 seats at 18 a month, a seat added 25 minutes after the July renewal in 2016 and again in 2017 (17.99 each,
    like generated noseats 822290): two prorations of the monthly plan, not a year of 1.50 a month renewed, which kept
    the customer alive (a contraction) when the plan stopped. A year costs at least six months of a monthly seat price
    (108 here); the same pair at 432 is still an annual plan (the test above)."""
    log = charges(*monthly("c", "2016-06-12 08:40", 594.0, 13), ("c", "2016-07-12 09:05", 17.99),
                  ("c", "2017-07-12 09:04", 17.99))
    result = read(log, "2017-12-31 23:59:59", rules=BOOK)
    assert list(rows_of(result, "c")["kind"]) == ["monthly series"]
    assert churned(result, "2017-12-31 23:59:59") == [("c", "2017-08")]
    assert month_ends(result, "2017-12-31 23:59:59", "c")["2017-08"] == 0.0


def test_each_annual_plan_takes_its_own_renewal_the_closest_pairs_first():
    """132 (a seat's year) and 490 (a flat plan's year) 43 s apart, renewed a year later 43 s early and 166 s late:
    the 490 was renewed by the 132, the closer charge to its slot, and its own renewal was spread as a proration (2,021
    in one month, then 98). Each plan takes one renewal and each renewal one plan, the closest pairs first; so a year
    renewed at a new price at its very slot (450 for two seats) and a seat bought again minutes later (225) go one
    to each of the two 225 plans (generated seat11 seed 2, 208798; seat12 seed 14, 64346)."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(12.0,), annual_seat=(132.0,)))
    log = charges(("a", "2016-05-27 15:39:55", 132.0), ("a", "2016-05-27 15:40:38", 490.0),
                  ("a", "2017-05-27 15:39:55", 132.0), ("a", "2017-05-27 15:43:24", 490.0),
                  ("b", "2016-01-23 14:07:48", 225.0), ("b", "2016-01-23 14:13:09", 225.0),
                  ("b", "2017-01-23 14:07:48", 450.0), ("b", "2017-01-23 14:19:17", 225.0))
    result = read(log, "2017-12-31 23:59:59", rules=rules)
    a = month_ends(result, "2017-12-31 23:59:59", "a")
    assert {m: round(v, 2) for m, v in a.items() if m in ("2017-04", "2017-05", "2017-06", "2017-12")} == {
        "2017-04": 51.83, "2017-05": 51.83, "2017-06": 51.83, "2017-12": 51.83}
    assert "renewed 12 calendar months later (2017-05-27 15:43 UTC, 490.00)" in rows_of(result, "a")["reason"].iloc[1]
    b = month_ends(result, "2017-12-31 23:59:59", "b")
    assert b["2016-06"] == 37.5 and b["2017-01"] == b["2017-12"] == 56.25


def test_five_plans_renewed_minutes_early_each_keep_their_year_and_a_carrier_is_no_catch_all():
    """A review of stop 30: five 300 years bought a minute apart and renewed 5-10 minutes early, each competing for
    the latest free renewal (one settles a round: four rounds left two without their year, 100 instead of 125).
    And a year renewed at double its price carries only what adds just that growth: a one-off 20 in the last month
    of a monthly plan stays that month's, not the year's for six months."""
    rows = [("c", f"2016-03-10 10:{i:02d}:00", 300.0) for i in range(5)] + \
        [("c", f"2017-03-10 09:{50 + i:02d}:00", 300.0) for i in range(5)]
    result = read(charges(*rows), "2018-02-28 23:59:59", rules=BillingRules(price_book="off"))
    assert {round(v, 1) for v in month_ends(result, "2018-02-28 23:59:59", "c").values()} == {125.0}
    log = charges(("d", "2016-01-15 10:00", 1200.0), *monthly("d", "2016-02-03 12:00", 50.0, 4),
                  ("d", "2016-06-20 09:00", 20.0), ("d", "2017-01-15 10:00", 2400.0))
    got = month_ends(read(log, "2017-03-31 23:59:59", rules=BillingRules(price_book="off")), "2017-03-31 23:59:59", "d")
    assert got["2016-07"] == got["2016-12"] == 100.0 and got["2016-06"] > 190.0


def test_a_years_price_is_six_months_of_the_smallest_monthly_seat_price():
    """With monthly seat prices of 18 and 12.60, a year costs at least 75.60 (6 x 12.60): 100 paid twice a year apart,
    at the same second, is an annual plan (it would not be at 6 x 18 = 108); 70 paid so is none."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(18.0, 12.6), annual_seat=(180.0,)))
    for amount, kinds in ((100.0, ["annual term", "annual term"]), (70.0, ["monthly term", "monthly term"])):
        log = charges(("c", "2016-06-24 10:14:52", amount), ("c", "2017-06-24 10:14:52", amount))
        result = read(log, "2017-12-31 23:59:59", rules=rules)
        assert list(rows_of(result, "c")["kind"]) == kinds, amount
    assert result.price_book.least_year == pytest.approx(75.6)


def test_a_seat_charge_a_month_later_is_an_annual_proration_only_if_it_fits_an_annual_price():
    """306 for 17 seats (18 today), then 2.40 26 days later (a month's seat for 4 days): one month, not a year."""
    log = charges(("c", "2017-11-14 12:16", 306.0), ("c", "2017-12-10 12:27", 2.40))
    result = read(log, "2018-03-31 23:59:59", rules=BOOK, seat_counts=seats(c=18))
    assert list(rows_of(result, "c")["interval"])[0] == "monthly"


def test_seats_added_minutes_after_a_purchase_at_the_annual_price_make_it_annual_at_once():
    """504 then four 180s minutes later (a seat each at a year's price), read ten days later: annual, not 504 a month."""
    log = charges(("c", "2016-02-05 20:31", 504.0), *[("c", f"2016-02-05 20:4{i}", 180.0) for i in range(4)])
    result = read(log, "2016-02-15 00:00:00", rules=BOOK, seat_counts=seats(c=7))
    row = rows_of(result, "c").iloc[0]
    assert row["kind"] == "annual term" and row["prorations"] == 4
    assert "followed on 2016-02-05 20:40 UTC by 180.00 = 1 seat x 180.00 a year (the annual seat price configured) x " \
        "the share of its year left" in row["reason"]
    assert abs(month_ends(result, "2016-02-15 00:00:00", "c")["2016-02"] - (42 + 60)) < 0.2  # 42 + 4 seats x ~15


def test_an_annual_proration_cites_the_book_price_it_fits_not_the_price_its_share_implies():
    """394628 on the shared log: 156.00, then 180.00 81 minutes later (180.00 / 0.99985 of the year left = 180.03 a
    seat). The reason cites the book's 180.00 and what it rests on, never a 180.03 no price book holds."""
    log = charges(("c", "2016-12-12 11:16:48", 156.0), ("c", "2016-12-12 12:38:17", 180.0))
    result = read(log, "2017-10-17 10:53:42", rules=BOOK, seat_counts=seats(c=2))
    row = rows_of(result, "c").iloc[0]
    assert row["interval"] == "annual"
    assert "by 180.00 = 1 seat x 180.00 a year (the annual seat price configured) x the share of its year left: a " \
        "proration on an annual term" in row["reason"]
    assert "180.03" not in row["reason"]


TIERS = BillingRules(price_book=PriceList(monthly_seat=(18.0, 14.4), annual_seat=(180.0, 144.0)))


def test_a_seat_added_at_a_months_share_makes_a_charge_the_book_reads_as_a_year_a_month():
    """37240 of generated log noseats seed 2: 144, then 17.99 23 minutes later and 10.16 two weeks later, then nothing
    (8 seats x 18 a month that churned; one seat today). The book reads 144 as 1 seat x 144 a year, but a year's seat
    bought 23 minutes later would cost about 144 again: 17.99 is 1 seat x 18 x the 29.98 days of 30 left of a month.
    One month (about 162), then churn; read while pending, a provisional month already."""
    log = charges(("c", "2016-05-27 16:04", 144.0), ("c", "2016-05-27 16:27", 17.99), ("c", "2016-06-10 04:17", 10.16))
    result = read(log, "2016-08-31 23:59:59", rules=TIERS, seat_counts=seats(c=1))
    row = rows_of(result, "c").iloc[0]
    assert (row["kind"], row["prorations"]) == ("monthly term", 2)
    # both readings cite the price they rest on and its evidence (here configured)
    assert row["reason"].startswith(
        "single charge of 144.00 = 8 seats x 18.00 a month (the monthly seat price configured): 17.99 on 2016-05-27 "
        "16:27 UTC is 1 seat x 18.00 x the share of its month left (a seat added to a month; no annual seat price x "
        "the share of its year left gives it), not 144.00 = 1 seat x 144.00 a year (the annual seat price configured), "
        "the price book's reading: one month")
    got = month_ends(result, "2016-08-31 23:59:59", "c")
    assert got["2016-05"] > 160 and got["2016-06"] == 0.0
    pending = read(log, "2016-06-15 00:00:00", rules=TIERS, seat_counts=seats(c=1))
    assert rows_of(pending, "c").iloc[0]["reason"].endswith(" (provisional: its first renewal is due by 2016-06-27 18:04 "
                                                            "UTC); 2 prorations inside it, spread to its next boundary")


def test_a_whole_price_or_a_years_share_after_a_charge_leaves_the_year_the_book_read():
    """18.00 a minute after 360 (two seats a year) is a monthly plan starting beside it, not a share of a month (a
    share of a price is never the whole price to the cent); 143.99 a minute after 144 is a year's seat (144 x the share
    of the year left), which no monthly seat price times a month's share gives. Both stay years; and so does 360 when
    a 36 plan starts a minute after it and 9.29 (a seat for the 16 days of 31 left) follows: that seat may be the 36
    plan's."""
    log = charges(("a", "2017-01-10 10:00", 360.0), ("a", "2017-01-10 10:01", 18.0),
                  ("b", "2017-01-10 10:00", 144.0), ("b", "2017-01-10 10:01", 143.99),
                  ("d", "2017-01-10 10:00", 360.0), ("d", "2017-01-10 10:01", 36.0), ("d", "2017-01-25 10:00", 9.29))
    result = read(log, "2017-03-31 23:59:59", rules=TIERS, seat_counts=seats(a=2, b=1, d=2))
    assert rows_of(result, "a").iloc[0]["kind"] == "annual term"
    assert rows_of(result, "b").iloc[0]["kind"] == "annual term"
    assert rows_of(result, "d").iloc[0]["kind"] == "annual term"
    without_the_plan = read(log.loc[~((log["customer_id"] == "d") & (log["amount"] == 36.0))], "2017-03-31 23:59:59",
                            rules=TIERS, seat_counts=seats(a=2, b=1, d=2))
    assert rows_of(without_the_plan, "d").iloc[0]["kind"] == "monthly term"  # the seat is then the 360's (20 x 18)


def test_a_month_made_by_a_seat_added_is_its_own_term_and_keeps_its_seat():
    """Found in review. 18 (a month of one seat), then 144 nine days later and 17.99 twenty minutes after it: the 144
    is 8 seats for a month with a seat added (item 24), a plan of its own, neither spread over what is left of the
    18 month nor a switch to annual; the 17.99 is its seat, not the 18 month's. And 144 then 4.06 24 days later
    (1 seat x 18 x 7 / 31), read on 06-05 while the 4.06 is pending and the 144's month has ended: the seat is the
    144's (as it is read later), not a provisional plan of its own."""
    log = charges(("c", "2016-05-01 10:00", 18.0), ("c", "2016-05-10 10:00", 144.0), ("c", "2016-05-10 10:20", 17.99))
    result = read(log, "2016-08-31 00:00", rules=TIERS, seat_counts=seats(c=1))
    rows = rows_of(result, "c")
    assert list(rows["kind"]) == ["monthly term", "monthly term"]
    assert list(rows["prorations"]) == [0, 1]
    got = month_ends(result, "2016-08-31 00:00", "c")
    assert abs(got["2016-05"] - (18 + 144 + 18)) < 0.5 and got["2016-06"] == 0.0
    # 180 = 10 x 18 inside the 18 month (not right after it: 5.00 between) is no switch to annual either
    ten = charges(("c", "2016-05-01 10:00", 18.0), ("c", "2016-05-05 10:00", 5.0), ("c", "2016-05-10 10:00", 180.0),
                  ("c", "2016-05-10 10:20", 17.99))
    rows = rows_of(read(ten, "2016-08-31 00:00", rules=TIERS, seat_counts=seats(c=1)), "c")
    assert list(rows["kind"]) == ["monthly term", "monthly term"] and "switch" not in " ".join(rows["reason"])
    late = charges(("c", "2016-05-01 10:00", 144.0), ("c", "2016-05-25 10:00", 4.06))
    for as_of in ("2016-06-05 00:00", "2016-07-31 00:00"):
        rows = rows_of(read(late, as_of, rules=TIERS, seat_counts=seats(c=1)), "c")
        assert list(rows["kind"]) == ["monthly term"] and list(rows["prorations"]) == [1]


def test_only_a_plausible_seat_at_a_months_share_makes_a_month():
    """Found in review: near the month's end any small charge is some number of seats x a price x a tiny share (3.00
    two hours before it, 62 x 18): a tenth of the month left at least, at most MAX_SEATS_ADDED seats. A charge that is
    no whole number of a monthly seat price (170, a year at a price of 170 a seat) is no month of seats, whatever
    follows it. And a later annual proration of the charge (108 = 144 x the three quarters of its year left) keeps it
    the year the book read, month-share seat or not."""
    for when, amount in (("2016-06-01 08:00", 3.00), ("2016-06-01 09:59", 0.01)):
        log = charges(("c", "2016-05-01 10:00", 144.0), ("c", when, amount))
        assert rows_of(read(log, "2016-09-30 23:59:59", rules=TIERS, seat_counts=seats(c=1)), "c")["kind"].iloc[0] \
            == "annual term"
    odd = BillingRules(price_book=PriceList(monthly_seat=(18.0,), annual_seat=(170.0,)))
    log = charges(("c", "2016-05-27 16:04", 170.0), ("c", "2016-05-27 16:27", 17.99))
    assert rows_of(read(log, "2016-09-30 23:59:59", rules=odd, seat_counts=seats(c=1)), "c")["kind"].iloc[0] \
        == "annual term"
    log = charges(("c", "2016-05-27 16:04", 144.0), ("c", "2016-05-27 16:27", 17.99), ("c", "2016-08-27 16:04", 108.0))
    assert rows_of(read(log, "2016-09-30 23:59:59", rules=TIERS, seat_counts=seats(c=1)), "c")["kind"].iloc[0] \
        == "annual term"


def test_the_same_amount_again_months_later_is_a_purchase_not_a_proration():
    """150 (a flat month), a free month, then 150 again: no annual term made by a look-alike proration."""
    log = charges(("c", "2016-03-04 06:15", 150.0), ("c", "2016-05-04 06:15", 150.0))
    result = read(log, "2016-09-30 23:59:59", rules=BOOK, seat_counts=seats(c=9))
    assert set(rows_of(result, "c")["interval"]) == {"monthly"}


def test_a_seat_bought_for_a_year_goes_to_the_annual_plan_beside_a_monthly_one():
    """3060 for 17 annual seats and 36 a month beside it; 173.74 two weeks later is an annual seat (about +15), not a
    month's spike on the monthly plan."""
    log = charges(("c", "2017-09-15 12:44", 3060.0), *monthly("c", "2017-09-15 12:46", 36.0, 2),
                  ("c", "2017-09-28 05:11", 173.74))
    result = read(log, "2017-11-30 23:59:59", rules=BOOK, seat_counts=seats(c=2))
    got = month_ends(result, "2017-11-30 23:59:59", "c")
    assert abs(got["2017-09"] - (255 + 36 + 15)) < 0.3 and abs(got["2017-10"] - (255 + 36 + 15)) < 0.3
    assert rows_of(result, "c").iloc[0]["prorations"] == 1  # counted in the annual term's row


def test_a_price_upgrade_of_a_year_beside_a_monthly_plan_is_no_months_spike():
    """An annual plan of 1020 and a 25-a-month plan beside it; 493.44 on 2016-11-13 is no whole number of seats at a
    price of either (a price upgrade of the year: 816 a year x the 221 days left of it). Spread to the monthly plan's
    next renewal 18 days later it would add 822 a month to a plan of 25, then fall off: the year is its host (+68 a
    month to the year's end). Generated seat12 seed 1, 187579."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-06-22 14:27", 1020.0), *monthly("c", "2016-10-01 16:00", 25.0, 8),
                  ("c", "2016-11-13 21:12", 493.44))
    result = read(log, "2017-05-31 23:59:59", rules=book)
    got = month_ends(result, "2017-05-31 23:59:59", "c")
    assert got["2016-10"] == 110.0
    assert all(abs(got[m] - 178.0) < 0.5 for m in ("2016-11", "2016-12", "2017-03", "2017-05")), got
    assert list(rows_of(result, "c")["prorations"]) == [1, 0]  # counted in the annual term's row


def test_a_seat_added_to_a_small_monthly_plan_beside_a_year_stays_with_the_month():
    """A year of 1020 and 38.40 a month (4 seats at 9.60) beside it; 9.60 with 22 of 30 days left is a seat added at a
    tier the book does not list: no price fits, and it adds 13.09 a month to a plan of 38.40, a third of it, so the
    nearest boundary (the month's) takes it, not the year, where any small charge looks smaller still. Item 51's
    bound, from below (a review of stop 30)."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-06-22 14:27", 1020.0), *monthly("c", "2016-10-01 16:00", 38.40, 1),
                  ("c", "2016-11-09 16:00", 9.60), *monthly("c", "2016-12-01 16:00", 52.80, 3))
    got = month_ends(read(log, "2017-02-28 23:59:59", rules=book), "2017-02-28 23:59:59", "c")
    assert 136.0 < got["2016-11"] < 137.0 and got["2016-12"] == 137.80


def test_a_monthly_plans_own_upgrade_its_next_renewal_carries_stays_with_it():
    """A year of 1020 and 25 a month beside it; 66 with 18 of 30 days left adds 110 a month, more than three times 25,
    but the next renewal charges 135 = 25 + 110: the plan's own upgrade, not the year's (a review of stop 30)."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-06-22 14:27", 1020.0), *monthly("c", "2016-10-01 16:00", 25.0, 1),
                  ("c", "2016-11-13 16:00", 66.0), *monthly("c", "2016-12-01 16:00", 135.0, 5))
    got = month_ends(read(log, "2017-05-31 23:59:59", rules=book), "2017-05-31 23:59:59", "c")
    assert 219.0 < got["2016-11"] < 222.0 and got["2016-12"] == got["2017-05"] == 220.0


def test_a_seat_added_days_before_a_switch_is_measured_on_the_month_billed():
    """25 a month beside a year of 1020; 20 on 2016-11-13, then 300 = 12 x 25 on 11-15 (the switch cuts the piece two
    days later). The 20 is measured on the month billed (to 12-01: 18 days), not on the two days left of the cut
    piece, where it would add 140 a month and be sent to the year (a review of stop 30)."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-06-22 14:27", 1020.0), *monthly("c", "2016-09-01 16:00", 25.0, 2),
                  ("c", "2016-11-13 16:00", 20.0), ("c", "2016-11-15 16:00", 300.0))
    got = month_ends(read(log, "2017-05-31 23:59:59", rules=book), "2017-05-31 23:59:59", "c")
    assert got["2016-10"] == 110.0 and got["2016-11"] == got["2017-05"] == 110.0


def test_a_month_a_switch_replaces_is_its_own_inside_a_year_the_book_read_too():
    """A year of 540 read as one by the book (the annual list price, under annual_min_amount, not renewed; no seat
    count), then 90 and three days later 1080 = 12 x 90: the 90 is the month switched from, not a seat added to the
    year (item 50 in any year; a review of stop 30)."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-08-10 14:18", 540.0), ("c", "2016-10-27 05:55", 90.0), ("c", "2016-10-30 12:30", 1080.0))
    got = month_ends(read(log, "2017-06-30 23:59:59", rules=book), "2017-06-30 23:59:59", "c")
    assert got["2016-09"] == 45.0 and got["2016-10"] == got["2017-06"] == 135.0


def test_a_month_a_switch_to_annual_replaces_is_its_own_not_a_proration_of_a_year_beside_it():
    """A year of 600 renewed a year later, then 360 (8 seats x 45 a month) and three days later 4320 = 12 x 360: the
    360 was the first month of the plan switched to annual, ended by the switch, not a seat added to the year (which
    spread 38 a month over the ten months left of it). Generated seat12 seed 1, 596454."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-08-10 14:18", 600.0), ("c", "2016-10-27 05:55", 360.0), ("c", "2016-10-30 12:30", 4320.0),
                  ("c", "2017-08-10 14:18", 600.0))
    result = read(log, "2017-09-30 23:59:59", rules=book, seat_counts=seats(c=10))
    got = month_ends(result, "2017-09-30 23:59:59", "c")
    assert got["2016-09"] == 50.0 and got["2016-10"] == 410.0 and got["2017-07"] == 410.0 and got["2017-09"] == 410.0
    rows = rows_of(result, "c")
    assert list(rows["kind"]) == ["annual term", "monthly term", "annual term", "annual term"]
    assert "by the switch to annual c:term-3" in rows["reason"].iloc[1]


def test_a_month_of_the_customers_seats_beside_a_year_stays_a_month_once_its_renewal_was_due():
    """2700 for a year, then 175 = 7 seats x 25 a month a minute later (the customer's 7 seats), never renewed: a
    monthly plan of one month beside the year, not a seat added to it (no annual seat price x the share of the year
    left gives 175). While pending it was read so; once its renewal was due it became a proration of the year, 14.58
    a month for twelve months. Generated seat12 seed 1, 473356."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-08-19 09:26", 2700.0), ("c", "2016-08-19 09:27", 175.0))
    result = read(log, "2016-11-30 23:59:59", rules=book, seat_counts=seats(c=7))
    assert month_ends(result, "2016-11-30 23:59:59", "c") == {"2016-08": 400.0, "2016-09": 225.0, "2016-10": 225.0,
                                                             "2016-11": 225.0}
    assert list(rows_of(result, "c")["kind"]) == ["annual term", "monthly term"]


def test_a_settled_month_beside_a_year_needs_the_cent_an_annual_price_and_no_override():
    """Item 52's limits (a review of stop 30): once its renewal was due, a charge inside a year is a month of the
    customer's seats only to the cent (179.85 by 10 seats at 18 is a proration), only where the book has an annual
    seat price to say it is no seat added to the year (with monthly prices only, 180 five minutes into a 9-seat year
    stays its seat), never under billing_overrides = annual; and such a month takes no later seat of the year as its
    own follower (36 beside a year of 360, then 149.86 = 1 seat x 180 x the share of the year left)."""
    as_of = "2017-06-30 23:59:59"
    log = charges(("a", "2016-08-19 09:00", 1800.0), ("a", "2016-11-19 09:00", 179.85),
                  ("b", "2016-08-19 09:00", 1800.0), ("b", "2017-02-19 09:00", 180.0),
                  ("d", "2016-08-19 09:00", 360.0), ("d", "2016-08-19 09:01", 36.0), ("d", "2016-10-19 12:00", 149.86))
    rules = BillingRules(price_book=PriceList(monthly_seat=(18.0,), annual_seat=(180.0,)),
                         billing_overrides=(("b", "annual"),))
    result = read(log, as_of, rules=rules, seat_counts=seats(a=10, b=10, d=2))
    assert list(rows_of(result, "a")["kind"]) == ["annual term"]
    assert abs(month_ends(result, as_of, "a")["2016-12"] - 170.05) < 0.1
    assert list(rows_of(result, "b")["kind"]) == ["annual term"]
    got = month_ends(result, as_of, "d")
    assert list(rows_of(result, "d")["kind"]) == ["annual term", "monthly term"]
    assert got["2016-08"] == 66.0 and got["2016-09"] == 30.0 and abs(got["2016-10"] - 45.0) < 0.1
    monthly_only = read(charges(("c", "2016-08-19 09:00", 1620.0), ("c", "2016-08-19 09:05", 180.0)), as_of,
                        rules=BillingRules(price_book=PriceList(monthly_seat=(18.0,))), seat_counts=seats(c=10))
    assert set(month_ends(monthly_only, as_of, "c").values()) == {150.01}


def test_a_month_a_switch_replaced_says_it_is_a_month_not_a_year():
    """540 (1 seat x 540 a year by the book) or 1200 (>= annual_min_amount), then 12 or 10 times it within the month:
    the first is the month of the plan switched from, a monthly term, and its Billing reason says so, not "annual
    term" (a review of stop 30)."""
    book = BillingRules(price_book=PriceList(monthly_seat=(45.0, 25.0), annual_seat=(540.0, 300.0)))
    log = charges(("c", "2016-10-27 05:55", 540.0), ("c", "2016-10-30 12:30", 6480.0),
                  ("e", "2016-10-27 05:55", 1200.0), ("e", "2016-10-30 12:30", 12000.0))
    result = read(log, "2017-06-30 23:59:59", rules=book, seat_counts=seats(c=1))
    for customer, ratio in (("c", "12"), ("e", "10")):
        first = rows_of(result, customer).iloc[0]
        assert first["kind"] == "monthly term" and "annual term" not in first["reason"].split(";")[0]
        assert f" = {ratio} x it, a switch to annual: the month of the plan switched from, one month" in first["reason"]


def test_a_small_annual_term_does_not_end_a_bigger_monthly_plan():
    """A seat charge renewed a year later (an annual term of 1.38 a month) inside a 180 monthly plan ends nothing."""
    log = charges(*monthly("c", "2016-06-07 17:23", 180.0, 13), ("c", "2016-06-10 02:39", 16.57),
                  ("c", "2017-06-10 03:21", 16.55))
    result = read(log, "2017-07-31 23:59:59", rules=OFF)
    got = month_ends(result, "2017-07-31 23:59:59", "c")
    assert got["2017-06"] > 180 and "switch" not in " ".join(rows_of(result, "c")["reason"])


# ----------------------------------------------------------------------------- found in review

def test_an_annual_plan_renewed_late_or_early_within_the_tolerance_leaves_no_gap_and_no_overlap():
    """600 renewed 90 minutes late or early a year later: 50 a month at every month end, no churn, no double count."""
    for first, second in (("2016-12-31 23:00", "2018-01-01 00:30"), ("2017-01-01 00:30", "2017-12-31 23:30")):
        log = charges(("c", first, 600.0), ("c", second, 600.0))
        result = read(log, "2018-02-28 23:59:59", rules=OFF)
        assert set(month_ends(result, "2018-02-28 23:59:59", "c").values()) == {50.0}


def test_a_switch_paid_late_at_the_last_slot_leaves_no_gap():
    """75 a month from 01-31 23:00, then 900 at 06-01 00:30 (the 05-31 slot, 90 minutes late): May is 75, not 0."""
    log = charges(*monthly("c", "2017-01-31 23:00", 75.0, 3), ("c", "2017-06-01 00:30", 900.0))
    result = read(log, "2017-08-31 23:59:59", rules=OFF)
    assert set(month_ends(result, "2017-08-31 23:59:59", "c").values()) == {75.0}


def test_an_annual_price_the_series_comes_back_down_from_is_a_year_beside_it():
    """75, 75, 75, 75, 750 (at the slot), 75, 75: a year bought beside the plan (75 + 62.50), not a month at 750."""
    rows = monthly("c", "2017-01-15 10:00", 75.0, 6)
    rows[4] = ("c", rows[4][1], 750.0)
    result = read(charges(*rows), "2017-07-31 23:59:59", rules=OFF)
    got = month_ends(result, "2017-07-31 23:59:59", "c")
    assert got["2017-04"] == 75.0 and got["2017-05"] == 137.5 and got["2017-07"] == 137.5


def test_a_charge_minutes_before_a_boundary_is_spread_over_a_day_at_least():
    """50 thirty minutes before a renewal that comes 90 minutes late counts as a day's share at most (50 x 30.44 a
    month for that hour), not 50 / half an hour (36,000)."""
    log = charges(*monthly("c", "2017-03-31 23:00", 18.0, 1), ("c", "2017-05-31 23:30", 50.0),
                  ("c", "2017-06-01 00:30", 18.0), ("c", "2017-07-01 00:30", 18.0))
    result = read(log, "2017-07-31 23:59:59", rules=OFF)
    assert month_ends(result, "2017-07-31 23:59:59", "c")["2017-05"] == round(18 + 50 * 365.25 / 12, 2)


def test_smaller_charges_that_are_no_annual_prorations_are_said_so():
    """500 then 40, 35 and 30 months apart, with a price book: one month each, and the reason says why not a year."""
    log = charges(("c", "2017-01-10 10:00", 500.0), ("c", "2017-04-10 10:00", 40.0), ("c", "2017-06-10 10:00", 35.0),
                  ("c", "2017-08-10 10:00", 30.0))
    result = read(log, "2017-12-31 23:59:59", rules=BOOK)
    reason = rows_of(result, "c")["reason"].iloc[0]
    assert "the smaller charges within a year (smallest 30.00) are not annual prorations of it" in reason


def test_a_seat_bought_minutes_into_an_annual_term_is_its_proration_even_if_it_matches_a_month_of_seats():
    """1,620 for a year, then 404.99 fourteen minutes later (405 x the year left), 12 seats today: 404.99 is also
    12 x 33.75 a month, but it is a proration of the year, not a monthly plan starting beside it."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(45.0, 33.75), annual_seat=(540.0, 405.0)))
    log = charges(("c", "2016-01-29 14:18:52", 1620.0), ("c", "2016-01-29 14:32:32", 404.99))
    result = read(log, "2016-01-31 23:59:59", rules=rules, seat_counts=seats(c=12))
    assert list(rows_of(result, "c")["kind"]) == ["annual term"]


def test_configured_prices_weigh_readings_from_a_logs_first_day():
    """With the prices configured and seat counts known, 540 by a customer with no seat count, read in the log's
    first month, is 1 seat x 540 a year rather than 12 x 45 a month."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(45.0,), annual_seat=(540.0,)))
    rows = [("x", "2016-01-16 21:43", 540.0)]
    counts = {}
    for i in range(25):  # other customers, seats known: 1-3 seats mostly
        rows.append((f"m{i}", f"2016-01-{(i % 27) + 1:02d} 10:00", 45.0 * (1 + i % 3)))
        counts[f"m{i}"] = 1 + i % 3
    result = read(charges(*rows), "2016-01-31 23:59:59", rules=rules, seat_counts=seats(**counts))
    assert list(rows_of(result, "x")["kind"]) == ["annual term"]


def test_a_big_seat_proration_on_an_annual_term_is_that_terms_not_a_year_of_its_own():
    """5400 for 12 seats at 450 a year, then 1529.89 on 2017-07-11: five seats at 540 x the 206 days of 365 left
    (generated seat12 286429). The amount rule alone would open a year of its own at 127.49 a month, under-reading
    the term's five seats (about 225 a month) until its end and then out-living it by five months; it is the term's
    proration. A whole price a minute after a plan (1800 = 10 x 180 beside 10800: 766972 on the shared log) is a
    second plan still, as is a big charge that no seat price divides."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(45.0,), annual_seat=(540.0, 450.0)))
    log = charges(("c", "2017-02-03 06:45:46", 5400.0), ("c", "2017-07-11 11:07:00", 1529.89),
                  ("w", "2017-03-30 10:00:00", 10800.0), ("w", "2017-03-30 10:01:00", 1800.0),
                  ("o", "2017-03-01 10:00:00", 5400.0), ("o", "2017-06-01 10:00:00", 1234.56))
    result = read(log, "2018-03-31 23:59:59", rules=rules, seat_counts=seats(c=17, w=25, o=12))
    assert list(rows_of(result, "c")["kind"]) == ["annual term"]
    ends = month_ends(result, "2018-03-31 23:59:59", "c")
    assert ends["2017-06"] == 450.0 and 224.0 < ends["2018-01"] - 450.0 < 227.0  # 1529.89 over the 6.8 months left
    assert ends.get("2018-02", 0.0) == 0.0  # nothing of it outlives the term's year (2018-02-03)
    assert list(rows_of(result, "w")["kind"]) == ["annual term", "annual term"]
    assert list(rows_of(result, "o")["kind"]) == ["annual term", "annual term"]


def test_a_big_price_upgrade_the_renewal_carries_is_the_terms_not_a_year_of_its_own():
    """4785 for a year, 4594.98 on 2016-10-08 (no seats x a price: a price upgrade, 5610 a year for the 299 days
    left), and the year renewed at 10395 (grown by that): the upgrade is the term's proration (about 467.5 a month
    to the renewal), not a year of its own at 382.92 a month that under-reads the months left and then outlives the
    renewal by two months
    (generated seat11 seed 2, 901540). Without the renewal's growth (renewed at 4785: an add-on year that lapsed,
    or the log's last word) the amount rule stands; so it does before the renewal is seen."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(29.0,), annual_seat=(319.0,)))
    log = charges(("c", "2016-08-03 15:28", 4785.0), ("c", "2016-10-08 16:25", 4594.98), ("c", "2017-08-03 15:28", 10395.0),
                  ("o", "2016-08-03 15:28", 4785.0), ("o", "2016-10-08 16:25", 4594.98), ("o", "2017-08-03 15:28", 4785.0))
    result = read(log, "2017-12-31 23:59:59", rules=rules)
    assert list(rows_of(result, "c")["kind"]) == ["annual term", "annual term"]
    ends = month_ends(result, "2017-12-31 23:59:59", "c")
    assert ends["2016-09"] == 398.75 and 865.0 < ends["2016-10"] < 868.0 and 865.0 < ends["2017-07"] < 868.0
    assert ends["2017-08"] == ends["2017-09"] == 866.25  # the renewal alone: nothing of the upgrade outlives it
    assert list(rows_of(result, "o")["kind"]) == ["annual term", "annual term", "annual term"]
    early = read(log, "2017-07-31 23:59:59", rules=rules)
    assert list(rows_of(early, "c")["kind"]) == ["annual term", "annual term"]  # the upgrade's own year, for now
    assert "annual_min_amount" in rows_of(early, "c")["reason"].iloc[1]


def test_a_big_upgrade_goes_to_the_year_whose_renewal_carries_it_not_to_a_plan_beside_it():
    """Item 53's upgrade with a monthly plan of 29 beside the year (a review of stop 30): the 4594.98 went to the
    nearest boundary, the month's, a spike of two days, then nothing. The year whose renewal carries it is its host,
    with or without a price book. And a big upgrade still pending (its month not out) when the year's renewal is
    seen stays a year of its own for now, as the amount says, not a provisional month."""
    log = charges(("c", "2016-08-03 15:28", 4785.0), *monthly("c", "2016-09-10 10:00", 29.0, 16),
                  ("c", "2016-10-08 16:25", 4594.98), ("c", "2017-08-03 15:28", 10395.0))
    for rules in (BillingRules(price_book="off"), BillingRules(price_book=PriceList(monthly_seat=(29.0,),
                                                                                    annual_seat=(319.0,)))):
        got = month_ends(read(log, "2017-12-31 23:59:59", rules=rules), "2017-12-31 23:59:59", "c")
        assert 893.0 < got["2016-10"] < 897.0 and 893.0 < got["2017-07"] < 897.0, (rules.price_book, got)
        assert got["2017-08"] == got["2017-12"] == 866.25 + 29.0
    pending = charges(("p", "2016-08-03 15:28", 12000.0), ("p", "2017-07-21 15:28", 1000.0),
                      ("p", "2017-08-03 15:28", 40000.0))
    result = read(pending, "2017-08-10 00:00", rules=BillingRules(price_book=PriceList(monthly_seat=(29.0,),
                                                                                         annual_seat=(319.0,))))
    assert list(rows_of(result, "p")["kind"]) == ["annual term", "annual term", "annual term"]
    assert round(month_ends(result, "2017-08-10 00:00", "p")["2017-07"], 2) == round(1000 + 1000 / 12, 2)


def test_big_seat_prorations_one_after_another_on_one_term_and_under_an_annual_override_are_the_terms():
    """Two big prorations on one 5400 term (5 seats at 540 for the 274 days left, then 4 more for the 182 left): the
    second is measured from the term, not from the first (which opens no year); and a customer set to annual by
    billing_overrides reads them so too. Nothing of them outlives the term's year."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(45.0,), annual_seat=(540.0, 450.0)),
                         billing_overrides=(("o", "annual"),))
    start, end = pd.Timestamp("2017-02-03 06:45:46"), pd.Timestamp("2018-02-03 06:45:46")
    at1, at2 = pd.Timestamp("2017-05-05 06:45:46"), pd.Timestamp("2017-08-04 06:45:46")
    first = round(5 * 540 * (end - at1) / (end - start), 2)
    second = round(4 * 540 * (end - at2) / (end - start), 2)
    rows = []
    for c in ("c", "o"):
        rows += [(c, str(start), 5400.0), (c, str(at1), first), (c, str(at2), second)]
    result = read(charges(*rows), "2018-06-30 23:59:59", rules=rules, seat_counts=seats(c=20, o=20))
    for c in ("c", "o"):
        assert list(rows_of(result, c)["kind"]) == ["annual term"], c
        ends = month_ends(result, "2018-06-30 23:59:59", c)
        assert ends["2018-01"] == pytest.approx(450.0 + 5 * 45.0 + 4 * 45.0, abs=1.0), c
        assert all(ends.get(f"2018-0{m}", 0.0) == 0.0 for m in range(2, 7)), c


def test_a_switch_to_annual_is_ten_or_twelve_times_the_rate_to_a_tenth_of_a_percent():
    """125.40 (one seat's year at a tier), then a flat year of 1490 a minute later (generated seat11 219181): 1490 is
    11.88 x 125.40, within 1% of 12, and was read as the switch to annual of a month of 125.40, which made a term
    the book read as a year a one-minute month, with a reason saying "annual term". A switch is 10 or 12 times the
    rate to 0.1%: here two plans; 75 then 900 (68136) is still a switch."""
    log = charges(("c", "2017-08-25 00:15:34", 125.4), ("c", "2017-08-25 00:16:36", 1490.0),
                  *monthly("s", "2017-02-17 10:00", 75.0, 4), ("s", "2017-06-23 10:00", 900.0))
    rules = BillingRules(price_book=PriceList(monthly_seat=(11.4, 18.0), annual_seat=(125.4, 180.0)))
    result = read(log, "2017-12-31 23:59:59", rules=rules, seat_counts=seats(c=1, s=4))
    assert list(rows_of(result, "c")["kind"]) == ["annual term", "annual term"]
    assert "switch" not in " ".join(rows_of(result, "c")["reason"])
    assert month_ends(result, "2017-12-31 23:59:59", "c")["2017-12"] == round(125.4 / 12 + 1490 / 12, 2)
    assert "switch to annual" in rows_of(result, "s")["reason"].iloc[-1]
    assert month_ends(result, "2017-12-31 23:59:59", "s")["2017-12"] == 75.0


def test_a_big_price_upgrade_of_the_years_seats_is_the_terms_whatever_its_renewal():
    """900 = 3 seats x 300 a year, three seats added (300, 300, 272.47), then 1116.04 with 283 of 365 days left:
    6 seats moved from 300 to 540 a year (1440 = 6 x 240 a year), no seats x a price alone. The year was not renewed
    (generated seat12 seed 1, 252239): read as a year of its own, the upgrade under-read the months left (93 a month
    against 120) and outlived the churn by two and a half months. It is the term's proration, read so before the
    renewal is due and while its own month is pending; a charge of another amount, or beside a year that is no whole
    number of seats at 300 (1950), stays a year of its own."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(25.0, 45.0), annual_seat=(300.0, 540.0)))
    year = (("c", "2016-11-06 14:28", 900.0), ("c", "2016-11-06 14:33", 300.0), ("c", "2016-11-06 14:34", 300.0),
            ("c", "2016-12-10 02:29", 272.47))
    log = charges(*year, ("c", "2017-01-27 17:12", 1116.04))
    for as_of in ("2017-12-31 23:59:59", "2017-03-31 23:59:59", "2017-02-01 00:00"):
        result = read(log, as_of, rules=rules)
        assert list(rows_of(result, "c")["kind"]) == ["annual term"], as_of
    ends = month_ends(read(log, "2017-12-31 23:59:59", rules=rules), "2017-12-31 23:59:59", "c")
    assert 269.0 < ends["2017-02"] < 272.0 and 269.0 < ends["2017-10"] < 272.0  # 150 (6 seats) + 120 (the upgrade)
    assert ends.get("2017-11", 0.0) == 0.0 and ends.get("2017-12", 0.0) == 0.0  # churned with its year
    other = charges(*year, ("c", "2017-01-27 17:12", 1200.0))
    assert list(rows_of(read(other, "2017-12-31 23:59:59", rules=rules), "c")["kind"]) == ["annual term"] * 2
    # a 1-seat year bought in between (300 on 2016-12-20, renewed a year later: a plan of its own) is not the
    # upgrade's host: the year that fits is, a few years back
    beside = charges(*year, ("c", "2016-12-20 10:00", 300.0), ("c", "2017-01-27 17:12", 1116.04),
                     ("c", "2017-12-20 10:00", 300.0))
    rows = rows_of(read(beside, "2017-12-31 23:59:59", rules=rules), "c")
    assert list(rows["kind"]) == ["annual term"] * 3  # the big year, the small one and its renewal
    ends = month_ends(read(beside, "2017-12-31 23:59:59", rules=rules), "2017-12-31 23:59:59", "c")
    assert 294.0 < ends["2017-10"] < 297.0 and ends["2017-11"] == 25.0  # 150 + 120 + the 1-seat year's 25
    odd = charges(("c", "2016-11-06 14:28", 1950.0), ("c", "2017-01-27 17:12", 1116.04))  # 6.5 seats at 300
    kinds = list(rows_of(read(odd, "2017-12-31 23:59:59", rules=rules), "c")["kind"])
    assert len(kinds) == 2 and kinds[-1] == "annual term"


def test_an_upgrade_fit_takes_no_new_year_and_leaves_no_month():
    """Item 59 after a review. A genuine new year of 2040 (8 seats at 300 less 15%, no price of the book) inside a 2400
    year of 8 seats at 300 is 24 x (432 - 300) x the share left, three times the seats the year holds: a year of its
    own, not an upgrade. And a big charge that fits a year the book reads from its amount (300) that is itself inside
    another year (1200, ended before it) opens a year, not a month of 1113.86: the read year opens no term around it."""
    book = PriceList(monthly_seat=(25.0, 45.0), annual_seat=(300.0, 540.0, 285.0, 513.0, 270.0, 486.0, 240.0, 432.0))
    new_year = charges(("c", "2016-03-01 10:00", 2400.0), ("c", "2016-07-09 10:00", 2040.0))
    result = read(new_year, "2016-12-31 23:59:59", rules=BillingRules(price_book=book))
    assert list(rows_of(result, "c")["kind"]) == ["annual term", "annual term"]
    assert month_ends(result, "2016-12-31 23:59:59", "c")["2016-12"] == 370.0
    rules = BillingRules(price_book=PriceList(monthly_seat=(25.0, 45.0), annual_seat=(300.0, 540.0)))
    inside = charges(("c", "2016-01-10 10:00", 1200.0), ("c", "2016-10-10 10:00", 300.0),
                     ("c", "2017-02-10 10:00", 1113.86))
    for as_of in ("2017-12-31 23:59:59", "2017-02-11 00:00"):
        rows = rows_of(read(inside, as_of, rules=rules), "c")
        assert "monthly term" not in set(rows["kind"]), (as_of, list(rows["reason"]))


def test_a_year_its_own_seat_prorations_show():
    """649 by a new customer, then three seats at 648.99 within ten minutes: 649 x the share of a year left, to the
    cent, not of a month (648.92, 648.87): the billing system prorated on a year (generated seat11 seed 4, 786167,
    read at its month end as a month of 649 and three seats of a month, 2,560.98 of MRR against a true 216.33). A
    year from its month end on, the reason says why; the same charges at the month's share stay a provisional month.
    No price book knows 649 here."""
    t0 = pd.Timestamp("2016-01-17 18:14:26")

    def share(t: str, months: int) -> float:
        end = t0 + pd.DateOffset(months=months)
        return (end - pd.Timestamp(t)) / (end - t0)

    later = ("2016-01-17 18:19:41", "2016-01-17 18:23:27", "2016-01-17 18:23:37")
    year = charges(("c", str(t0), 649.0), *[("c", t, round(649 * share(t, 12), 2)) for t in later])
    month = charges(("c", str(t0), 649.0), *[("c", t, round(649 * share(t, 1), 2)) for t in later])
    assert [a for _, _, a in [("c", t, round(649 * share(t, 12), 2)) for t in later]] == [648.99] * 3
    result = read(year, "2016-01-31 23:59:59")
    rows = rows_of(result, "c")
    assert list(rows["kind"]) == ["annual term"]
    assert "648.99 = 1 seat x 649.00 a year x the share of its year left" in rows["reason"].iloc[0]
    assert 215.5 < month_ends(result, "2016-01-31 23:59:59", "c")["2016-01"] < 216.7
    assert list(rows_of(read(month, "2016-01-31 23:59:59"), "c")["kind"]) == ["monthly term"]


def test_a_year_shows_only_in_cents_a_month_cannot_make():
    """Item 61 after a review: what the cents do not show stays as it was. An 18 bought again an hour later (a second
    plan, a full-price seat, a retried charge) is 18 x the year's share to the cent too, but it is the price again, not
    a share of it; so is 49 = 49 x 1.00 half an hour after a 1.00. A switch to annual minutes after a month (18, then
    216 = 12 x 18) stays a switch. Seats at the year's share after the anchor's month (2 x 300 x the share), or two
    cents off the year's share, show nothing."""
    t0 = pd.Timestamp("2017-03-05 10:00")

    def at(minutes: float) -> str:
        return str(t0 + pd.Timedelta(minutes=minutes))

    def year_share(t: str) -> float:
        end = t0 + pd.DateOffset(months=12)
        return (end - pd.Timestamp(t)) / (end - t0)

    as_of = "2017-03-31 23:59:59"
    again = charges(("c", str(t0), 18.0), ("c", at(60), 18.0))
    assert set(rows_of(read(again, as_of), "c")["kind"]) == {"monthly term"}
    small = charges(("c", str(t0), 1.0), ("c", at(30), 49.0))
    assert set(rows_of(read(small, as_of), "c")["kind"]) == {"monthly term"}
    switch = charges(("c", str(t0), 18.0), ("c", at(8), 216.0))
    assert month_ends(read(switch, as_of), as_of, "c")["2017-03"] == 18.0
    late = str(t0 + pd.DateOffset(months=1) + pd.Timedelta(hours=3))
    after_month = charges(("c", str(t0), 300.0), ("c", late, round(2 * 300 * year_share(late), 2)))
    assert list(rows_of(read(after_month, "2017-04-30 23:59:59"), "c")["kind"])[0] == "monthly term"
    off = charges(("c", str(t0), 649.0), ("c", at(5), round(649 * year_share(at(5)), 2) - 0.02))
    assert list(rows_of(read(off, as_of), "c")["kind"]) == ["monthly term"]


def test_the_seat_that_shows_a_year_is_its_proration_also_when_big():
    """A review of item 61: 649, then 1287.33 three days later (2 seats x 649 x the year's share left, >= 1000): the
    follower that shows the year is that year's proration, not a second year of its own (which outlived the first by
    three days and contradicted its reason); one term, with the seats spread to its end."""
    log = charges(("a", "2021-01-10 09:00", 649.0), ("a", "2021-01-13 09:00", 1287.33))
    result = read(log, "2022-02-15")
    rows = rows_of(result, "a")
    assert list(rows["kind"]) == ["annual term"]
    assert "1 proration inside it" in rows["reason"].iloc[0]
    ends = month_ends(result, "2022-02-15", "a")
    assert 160.0 < ends["2021-06"] < 163.0 and ends.get("2022-01", 0.0) == 0.0


def test_a_charge_below_the_least_a_year_costs_is_no_year_a_seat_joins():
    """Item 66: 18.00 (a month of one seat at 18), then months later 1 seat x 180 a year x the share of the year from
    the 18 left. Read as that year's proration, the 18 was a year of a tenth of a seat that a whole seat joined, and
    the customer never churned; a charge below the least a year costs (6 months of the smallest monthly seat price,
    108) is no year, whatever follows it. The 18 is a month, then churn, and the reason says why when a smaller charge
    follows. At or above that least, a follower still shows a year: a 10%-off year (162 = 9 x 18 too) and 198 = 11 x 18
    (no book price reads it) each take the seat added as their proration."""
    t0 = pd.Timestamp("2017-09-01 09:32", tz="UTC")

    def seat_at(t: pd.Timestamp) -> float:
        return round(180.0 * (t0 + pd.DateOffset(months=12) - t) / (t0 + pd.DateOffset(months=12) - t0), 2)

    later = pd.Timestamp("2017-12-17 22:52", tz="UTC")
    as_of = "2018-03-31 23:59:59"
    month = read(charges(("c", str(t0), 18.0), ("c", str(later), seat_at(later))), as_of, rules=BOOK)
    rows = rows_of(month, "c")
    assert rows["kind"].iloc[0] == "monthly term" and rows["current_rate"].iloc[0] == 18.0
    assert "proration" not in rows["reason"].iloc[0]
    assert ("c", "2017-10") in churned(month, as_of)
    june = pd.Timestamp("2018-06-02 09:32", tz="UTC")
    small = read(charges(("c", str(t0), 90.0), ("c", str(june), seat_at(june))), "2018-12-31 23:59:59", rules=BOOK)
    reason = rows_of(small, "c")["reason"].iloc[0]
    assert rows_of(small, "c")["kind"].iloc[0] == "monthly term"
    assert "below the least a year costs (108.00: 6 months of the smallest monthly seat price 18.00)" in reason
    for year in (162.0, 198.0):
        held = read(charges(("c", str(t0), year), ("c", str(later), seat_at(later))), as_of, rules=BOOK)
        assert list(rows_of(held, "c")["kind"]) == ["annual term"], year
        assert "1 proration inside it" in rows_of(held, "c")["reason"].iloc[0], year


def test_a_charge_bought_with_a_monthly_plan_is_no_second_monthly_plan():
    """Item 67: 180 (10 seats x 18 a month, or 1 seat x 180 a year), then a monthly plan of 270 (15 seats) a minute
    later that renews month after month, by a customer with 15 seats today. Weighed alone, 180 is likelier 10 seats for
    a month (then churn, while the other plan went on); bought together, the plan that renews monthly is the monthly
    plan, and 180 is 1 seat for a year beside it, even though that plan is dearer. Only within the renewal tolerance
    (2 h): two and a half hours or three days later, a dearer plan is an upgrade after a month (222712: 75, then 150 a
    week later) and says nothing of the charge; nor does the same amount again a minute later (a retried or doubled
    charge, then the plan)."""
    t0 = pd.Timestamp("2017-03-02 00:16")
    rows = [("c", str(t0), 180.0), *monthly("c", str(t0 + pd.Timedelta(minutes=1)), 270.0, 5),
            ("d", str(t0), 180.0), *monthly("d", str(t0 + pd.Timedelta(days=3)), 270.0, 5),
            ("e", str(t0), 180.0), *monthly("e", str(t0 + pd.Timedelta(minutes=150)), 270.0, 5),
            ("f", str(t0), 180.0), *monthly("f", str(t0 + pd.Timedelta(minutes=1)), 180.0, 5)]
    counts = {"c": 15, "d": 15, "e": 15, "f": 12}
    for i in range(25):  # other customers, seats known: 1-3 seats, monthly
        rows.append((f"m{i}", f"2017-03-{(i % 27) + 1:02d} 10:00", 18.0 * (1 + i % 3)))
        counts[f"m{i}"] = 1 + i % 3
    rules = BillingRules(price_book=PriceList(monthly_seat=(18.0,), annual_seat=(180.0,)))
    as_of = "2017-09-30 23:59:59"
    result = read(charges(*rows), as_of, rules=rules, seat_counts=seats(**counts))
    c = rows_of(result, "c")
    assert list(c["kind"]) == ["annual term", "monthly series"]
    assert "bought with a dearer monthly plan of the customer that starts within 2h after it" in c["reason"].iloc[0]
    assert month_ends(result, as_of, "c")["2017-05"] == 285.0  # 15 + 270
    assert not [m for who, m in churned(result, as_of) if who == "c"]
    for other in ("d", "e", "f"):
        assert list(rows_of(result, other)["kind"]) == ["monthly term", "monthly series"], other


# ----------------------------------------------------------------------------- today's seats, spoken for


def _with_others(*rows: tuple[str, str, float]) -> tuple[list[tuple[str, str, float]], dict[str, float]]:
    """`rows` plus 25 other customers whose seats are known (1-3 seats, monthly): the seat counts the book weighs with."""
    out, counts = list(rows), {}
    for i in range(25):
        out.append((f"m{i}", f"2017-01-{(i % 27) + 1:02d} 10:00", 45.0 * (1 + i % 3)))
        counts[f"m{i}"] = 1 + i % 3
    return out, counts


SEAT45 = BillingRules(price_book=PriceList(monthly_seat=(45.0,), annual_seat=(540.0,)))


def test_todays_seats_of_a_later_plan_say_nothing_of_an_earlier_charge():
    """Like 580100 (generated seat12 seed 1): 540 on 2017-01-10, then 1305 = 29 seats x 45 a month from 2017-07-10, 29
    seats today. The 29 seats are the later plan's: 540 is weighed as 1 seat x 540 a year or 12 seats x 45 a month by
    the log's seat counts, not by 12's nearness to 29 (docs/billing.md item 69): a year, no churn in February. Without
    the later plan, the 29 seats are the 540's customer's own and the weighing reads a month of 12."""
    rows, counts = _with_others(("c", "2017-01-10 10:00", 540.0), *monthly("c", "2017-07-10 10:00", 1305.0, 4))
    got = read(charges(*rows), "2017-10-31 23:59:59", rules=SEAT45, seat_counts=seats(c=29, **counts))
    assert list(rows_of(got, "c")["kind"]) == ["annual term", "monthly series"]
    assert month_ends(got, "2017-10-31 23:59:59", "c")["2017-03"] == 45.0
    assert [m for c, m in churned(got, "2017-10-31 23:59:59") if c == "c"] == []
    assert rows_of(got, "c")["reason"].iloc[0].endswith(
        ": annual term; the customer's 29 seats today are those of a later plan (its latest charge, 1305.00 on "
        "2017-10-10 10:00 UTC, is that many seats x a seat price), not weighed for this charge")
    rows, counts = _with_others(("c", "2017-01-10 10:00", 540.0))
    alone = read(charges(*rows), "2017-10-31 23:59:59", rules=SEAT45, seat_counts=seats(c=29, **counts))
    assert list(rows_of(alone, "c")["kind"]) == ["monthly term"]


def test_a_later_plan_within_the_charges_month_leaves_todays_seats_to_it():
    """A plan starting within the charge's month (a week later: an upgrade, 222712's shape, which before_a_monthly_plan
    weighs) or a latest charge that is no seat price at today's count leaves the seat count to the earlier charge: 540 by
    a 29-seat customer is still weighed at 29 (a month of 12)."""
    rows, counts = _with_others(("c", "2017-01-10 10:00", 540.0), *monthly("c", "2017-01-17 10:00", 1305.0, 4))
    got = read(charges(*rows), "2017-05-31 23:59:59", rules=SEAT45, seat_counts=seats(c=29, **counts))
    assert list(rows_of(got, "c")["kind"]) == ["monthly term", "monthly series"]
    rows, counts = _with_others(("c", "2017-01-10 10:00", 540.0), *monthly("c", "2017-07-10 10:00", 1260.0, 4))
    got = read(charges(*rows), "2017-10-31 23:59:59", rules=SEAT45, seat_counts=seats(c=29, **counts))
    assert list(rows_of(got, "c")["kind"]) == ["monthly term", "monthly series"]  # 1260 = 28 x 45: not today's 29


def test_todays_seats_spoken_for_are_cited_only_where_the_book_weighed():
    """Item 69 after a review: the reason's sentence on a later plan's seats only where the book's weighing gave the
    reading. 540 renewed a year later at 1080 (2 seats x 540 today) is read by its renewal: no sentence, though the
    1080 holds today's count; a billing_overrides year neither."""
    rows, counts = _with_others(("c", "2016-01-10 10:00", 540.0), ("c", "2017-01-10 10:00", 1080.0))
    got = read(charges(*rows), "2017-06-30 23:59:59", rules=SEAT45, seat_counts=seats(c=2, **counts))
    assert not any("later plan" in r for r in rows_of(got, "c")["reason"])
    rows, counts = _with_others(("c", "2017-01-10 10:00", 540.0), *monthly("c", "2017-07-10 10:00", 1305.0, 4))
    annual = BillingRules(price_book=SEAT45.price_book, billing_overrides=(("c", "annual"),))
    got = read(charges(*rows), "2017-10-31 23:59:59", rules=annual, seat_counts=seats(c=29, **counts))
    assert "billing_overrides" in rows_of(got, "c")["reason"].iloc[0]
    assert not any("later plan" in r for r in rows_of(got, "c")["reason"])


def test_todays_seats_spoken_for_leave_series_and_file_order_alone():
    """Item 69 after a review: a monthly series keeps today's count for its charges (135 a month, then 1080 at its
    slot, then 1305 = 29 x 45 monthly half a year later: one series of five, 1080 its last month, as before, not a switch
    to 2 x 540 a year); and charges at the customer's latest instant count whatever their order in the file (a 30
    listed before or after the last 1305 of the same second)."""
    rows, counts = _with_others(*monthly("c", "2016-09-10 10:00", 135.0, 3), ("c", "2017-01-10 10:00", 1080.0),
                                *monthly("c", "2017-07-10 10:00", 1305.0, 4))
    got = read(charges(*rows), "2017-11-30 23:59:59", rules=SEAT45, seat_counts=seats(c=29, **counts))
    assert list(rows_of(got, "c")["kind"]) == ["monthly series", "monthly series"]
    assert list(rows_of(got, "c")["charges"]) == [5, 5]
    for order in ([("c", "2017-11-10 10:00", 30.0), *monthly("c", "2017-07-10 10:00", 1305.0, 4)],
                  [*monthly("c", "2017-07-10 10:00", 1305.0, 4), ("c", "2017-11-10 10:00", 30.0)]):
        rows, counts = _with_others(("c", "2017-01-10 10:00", 540.0), *order)
        got = read(charges(*rows), "2017-11-30 23:59:59", rules=SEAT45, seat_counts=seats(c=29, **counts))
        assert list(rows_of(got, "c")["kind"]) == ["annual term", "monthly series"]


# ----------------------------------------------------------------------------- a year its own seat price shows


def test_a_year_at_a_seat_price_the_book_has_not_learned_shows_in_its_later_prorations():
    """Like 306787 (generated seat11 seed 3): 510.40 = 2 seats x 255.20 a year, a price the book (18 a month, 180 a
    year) has not learned, then 1 seat x 255.20 x the share of its year left two and three months later (211.54 ...):
    a year of 42.53 a month whose seats the billing system prorated, not a month of 510.40 then churn (docs/billing.md
    item 71). A price below the least a year costs (6 x 18 = 108) shows nothing of the kind. Within the charge's first
    month (item 73) the year's share shows too when its cents do, as `year_share_seats` reads a seat at the whole amount:
    a month's share of that seat price, or the seat price again minutes later, shows nothing."""
    def later(start: str, at: str, unit: float, k: int = 1) -> tuple[str, str, float]:
        return ("c", at, _added(start, at, k, unit))

    start = "2017-03-02 15:41"
    log = charges(("c", start, 510.40), later(start, "2017-05-04 02:19", 255.20), later(start, "2017-06-09 14:35", 255.20))
    got = read(log, "2017-07-31 23:59:59", rules=BOOK, seat_counts=seats(c=4))
    rows = rows_of(got, "c")
    assert list(rows["kind"]) == ["annual term"]
    assert "= 1 seat x 255.20 a year x the share of its year left: a proration on an annual term" in rows["reason"].iloc[0]
    assert round(month_ends(got, "2017-07-31 23:59:59", "c")["2017-03"], 2) == 42.53
    assert [m for c, m in churned(got, "2017-07-31 23:59:59") if c == "c"] == []
    within = charges(("c", start, 510.40), later(start, "2017-03-20 10:00", 255.20))
    rows = rows_of(read(within, "2017-07-31 23:59:59", rules=BOOK, seat_counts=seats(c=4)), "c")
    assert list(rows["kind"]) == ["annual term"]
    assert "by 242.78 = 1 seat x 255.20 a year x the share of its year left" in rows["reason"].iloc[0]
    month_end = pd.Timestamp(start) + pd.DateOffset(months=1)
    by_month = round(255.20 * (month_end - pd.Timestamp("2017-03-20 10:00")) / (month_end - pd.Timestamp(start)), 2)
    a_month = charges(("c", start, 510.40), ("c", "2017-03-20 10:00", by_month))  # a seat added to a month of 2
    assert rows_of(read(a_month, "2017-07-31 23:59:59", rules=BOOK, seat_counts=seats(c=4)), "c")["kind"].iloc[0] == \
        "monthly term"
    again = charges(("c", start, 510.40), ("c", "2017-03-02 15:43", 255.20))  # the seat price again: shows nothing
    assert rows_of(read(again, "2017-03-31 23:59:59", rules=BOOK, seat_counts=seats(c=4)), "c")["kind"].iloc[0] == \
        "monthly term"
    cheap = charges(("c", start, 90.0), later(start, "2017-05-04 02:19", 90.0), later(start, "2017-06-09 14:35", 90.0))
    assert rows_of(read(cheap, "2017-07-31 23:59:59", rules=BOOK, seat_counts=seats(c=4)), "c")["kind"].iloc[0] == \
        "monthly term"
    # after a review (chance fits to the cent): 21 seats added at 150 x the quarter of a year left is more seats than a
    # proration plausibly adds (at most 20), and 500.02 / 3 is no seat price in whole cents: both stay months
    many = charges(("c", start, 150.0), later(start, "2017-12-02 15:41", 150.0, 21))
    assert list(rows_of(read(many, "2018-01-31 23:59:59", rules=BOOK, seat_counts=seats(c=4)), "c")["kind"]) == [
        "monthly term", "monthly term"]
    odd = charges(("c", start, 500.02), later(start, "2017-05-04 02:19", 500.02 / 3))
    assert list(rows_of(read(odd, "2017-07-31 23:59:59", rules=BOOK, seat_counts=seats(c=4)), "c")["kind"]) == [
        "monthly term", "monthly term"]


def test_a_pending_year_whose_seats_were_added_minutes_later_is_a_year_at_its_first_month_end():
    """Like 78301 (generated seat11 seed 18, the log's first month): 957 = 3 seats x 319 a year, a price the book
    (18 a month, 180 a year) has not learned, then three seats at 318.99 twelve minutes later: 319 x the share of a
    year left, to the cent, where a month's share would be 318.91. At its first month end, its renewal not yet due,
    it is a year (957 / 12 + 3 x 319 / 12 = 159.50 in the truth; the prorations spread over the 11.99 months left:
    159.34), not a month of 957 with three seats of a month (1,896.87)."""
    start = "2016-01-20 11:24"
    added = [("c", f"2016-01-20 11:{m}", _added(start, f"2016-01-20 11:{m}", 1, 319.0)) for m in (36, 36, 37)]
    assert {a for _, _, a in added} == {318.99}
    got = read(charges(("c", start, 957.0), *added), "2016-01-31 23:59:59", rules=BOOK, seat_counts=seats(c=3))
    rows = rows_of(got, "c")
    assert list(rows["kind"]) == ["annual term"]
    assert "by 318.99 = 1 seat x 319.00 a year x the share of its year left" in rows["reason"].iloc[0]
    assert month_ends(got, "2016-01-31 23:59:59", "c") == {"2016-01": 159.34}



@pytest.mark.parametrize(("anchor", "at", "follower", "seat_count"), [
    (720.0, "2017-03-08 05:08", 118.17, 48),  # 40 seats x 18 a month, 8 added: 8 x 18 x the month's share (a review)
    (600.0, "2017-03-09 07:21", 117.81, 5),  # 4 seats x 150 a month, 1 added at 150 x the month's share (a review)
    (510.40, "2017-03-18 20:11", 243.88, 4),  # 2 seats x 255.20 x the month's share, also 1 x 255.20 x the year's
    (510.40, "2017-03-02 15:47", 255.20, 4),  # the seat price again six minutes later: 255.20 x 0.99999 rounds to it
])
def test_a_follower_within_its_month_that_a_months_share_reads_shows_no_year(anchor: float, at: str, follower: float,
                                                                               seat_count: int) -> None:
    """Item 73 reads a year from a follower within the charge's month only where the cents show a year's share and
    nothing else: not where a month's share of a monthly seat price of the book, or of any seat price the amount
    splits into, reads the follower too (118.17 = 8 x 18 x the month's share, and 1 x 120 = 720 / 6 x the year's), nor
    where the follower is the seat price again. Each case is a month that did not renew: one month, then churn."""
    got = read(charges(("c", "2017-03-02 15:41", anchor), ("c", at, follower)), "2017-07-31 23:59:59", rules=BOOK,
               seat_counts=seats(c=seat_count))
    assert list(rows_of(got, "c")["kind"]) == ["monthly term"]
    assert [m for c, m in churned(got, "2017-07-31 23:59:59") if c == "c"] == ["2017-04"]
