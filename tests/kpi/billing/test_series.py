"""Monthly series (metrics.md 2b): renewals, pairs that are prorations, and what the price book changes in them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.billing.log import prepare
from kpi.billing.series import find_series, settle_series
from kpi.params import BillingRules, PriceList
from tests.kpi.billing.logs import charges, month_ends, monthly, read, rows_of, seats

BOOK = BillingRules(price_book=PriceList(monthly_seat=(18.0,), annual_seat=(180.0,)))


def test_series_members_and_slots():
    """Three charges a calendar month apart are one series: slots 0, 1, 2, the last piece to the next slot."""
    log = prepare(charges(*monthly("c", "2017-01-31 10:00", 18.0, 2)), BillingRules(), None)
    series = find_series(log)
    assert list(series.number) == [0, 0, 0] and list(series.slot) == [0, 1, 2]
    assert series.spans.end[0] == np.datetime64("2017-04-30T10:00", "ns").astype(np.int64)


def test_seat_prorations_a_month_apart_inside_an_annual_term_are_prorations():
    """Two different small charges a month apart inside a 1,800 annual term are seat prorations, not a plan."""
    log = charges(("c", "2017-01-10 10:00", 1800.0), ("c", "2017-03-05 15:00", 135.0), ("c", "2017-04-05 15:30", 120.0))
    assert list(read(log).billing["kind"]) == ["annual term"]


def test_the_same_amount_a_month_apart_inside_an_annual_term_is_a_plan_beside_it():
    """144 and 144 a month apart inside a 1,440 annual term are a monthly plan beside it (995451): prorations differ."""
    log = charges(("c", "2016-11-15 11:12", 1440.0), ("c", "2016-11-15 11:13", 144.0), ("c", "2016-12-15 11:13", 144.0))
    assert list(read(log, "2016-12-31 23:59:59").billing["kind"]) == ["annual term", "monthly series"]


def test_a_pair_renewed_to_the_second_inside_an_annual_term_is_a_plan_beside_it():
    """634304 on the shared log: 720 (4 seats for a year), then a monthly plan of 72 (4 seats) two days later, renewed
    at 90 (5 seats) a month later to the second. Read at the 2017-01 month end, before its second renewal, that pair
    was two seat prorations of the year (one renewal inside another plan is no plan). A billing system renews at the
    plan's own second; seats are added whenever the customer adds them: it is the plan beside the year (docs/billing.md
    item 74). Off the second (29 minutes late, within the renewal tolerance) the pair is dissolved, as before."""
    as_of = "2017-01-31 23:59:59"
    for seat_counts in (seats(c=4), None):
        log = charges(("c", "2016-12-18 16:21:42", 720.0), ("c", "2016-12-20 17:48:35", 72.0),
                      ("c", "2017-01-18 16:40:03", 1.19), ("c", "2017-01-20 17:48:35", 90.0))
        result = read(log, as_of, rules=BOOK, seat_counts=seat_counts)
        assert list(rows_of(result, "c")["kind"]) == ["annual term", "monthly series"]
        assert 149.99 < month_ends(result, as_of, "c")["2017-01"] < 151.2  # 60 + 90 (and the 1.19 seat, where it ends)
        late = charges(("c", "2016-12-18 16:21:42", 720.0), ("c", "2016-12-20 17:48:35", 72.0),
                       ("c", "2017-01-18 16:40:03", 1.19), ("c", "2017-01-20 18:17:35", 90.0))
        result = read(late, as_of, rules=BOOK, seat_counts=seat_counts)
        assert "monthly series" not in list(rows_of(result, "c")["kind"])  # the pair dissolved
        assert month_ends(result, as_of, "c")["2017-01"] < 100.0  # not 60 + 90


def test_item_74_holds_a_pair_on_its_slots_second_only_at_a_months_price_and_off_its_hosts_slots():
    """A review's cases for item 74, inside a year of 1200 (or 1440). A switch to annual billed on the renewal's second
    at a ratio the book does not know (75, then 810 = 10.8 x 75) is no month of the plan: the pair stays prorations
    (not 910 in February, then 100 a month with the 810 year lost). Charges on the host's own monthly slots (a year
    bought 2017-01-10 09:00, then 108 and 49.50 on its 10th at 09:00: prorations added up and billed monthly) stay
    the year's. A pair whose renewal hit slot 2 to the second after a year bought beside it was taken out (75, 900,
    then 90) is the plan: 265 in March, as the truth."""
    as_of = "2017-04-30 23:59:59"
    switch = read(charges(("c", "2017-01-05 08:00:00", 1200.0), ("c", "2017-01-20 10:00:00", 75.0),
                          ("c", "2017-02-20 10:00:00", 810.0)), as_of)
    assert list(rows_of(switch, "c")["kind"]) == ["annual term"]
    assert month_ends(switch, as_of, "c")["2017-02"] < 200.0
    items = read(charges(("c", "2017-01-10 09:00:00", 1440.0), ("c", "2017-02-10 09:00:00", 108.0),
                         ("c", "2017-03-10 09:00:00", 49.5)), as_of)
    assert list(rows_of(items, "c")["kind"]) == ["annual term"]
    beside = read(charges(("c", "2017-01-05 08:00:00", 1200.0), ("c", "2017-01-20 10:00:00", 75.0),
                          ("c", "2017-02-20 10:00:00", 900.0), ("c", "2017-03-20 10:00:00", 90.0)), as_of)
    assert list(rows_of(beside, "c")["kind"]) == ["annual term", "monthly series", "annual term"]
    got = month_ends(beside, as_of, "c")
    assert abs(got["2017-02"] - 250.0) < 0.01 and abs(got["2017-03"] - 265.0) < 0.01
    # under a sixth of its anchor, a charge on the slot's second is a seat added, not the plan's month: 600 then 18
    seat = read(charges(("c", "2017-01-05 08:00:00", 1200.0), ("c", "2017-01-20 10:00:00", 600.0),
                        ("c", "2017-02-20 10:00:00", 18.0)), as_of)
    assert list(rows_of(seat, "c")["kind"]) == ["annual term"]


def test_a_series_ending_on_an_annual_price_loses_that_renewal():
    """settle_series detaches a last renewal of 12 x the previous one, and a series left with its anchor is no series."""
    log = prepare(charges(("c", "2017-01-17 10:00", 75.0), ("c", "2017-02-17 10:00", 900.0)), BillingRules(), None)
    series = find_series(log)
    assert list(series.number) == [0, 0]
    at_renewal = np.array([0.0, 75.0])
    settled, switched = settle_series(log, series, np.zeros(2, dtype=bool), at_renewal)
    assert list(settled.number) == [-1, -1] and list(switched) == [0.0, 75.0]


def test_an_annual_price_renewed_by_a_tiny_charge_anchors_no_series():
    """720 (4 seats for a year) and a 1.19 seat charge a month later (634304) are an annual term and a proration."""
    log = charges(("c", "2016-12-18 16:21", 720.0), ("c", "2017-01-18 16:40", 1.19))
    result = read(log, "2017-02-28 23:59:59", rules=BOOK, seat_counts=seats(c=4))
    assert list(rows_of(result, "c")["kind"]) == ["annual term"]
    assert rows_of(result, "c")["prorations"].iloc[0] == 1


def test_of_two_charges_seconds_apart_the_one_a_renewal_hits_to_the_second_anchors():
    """Like 827887 on the shared log: 75 at 13:32:52, an upgrade to 150 67 s later, then 150 a month renewed at the
    75's very second: the 75 anchors the series (the billing system renews at the plan's time), the 150 prorates it."""
    log = charges(("c", "2016-09-01 13:32:52", 75.0), ("c", "2016-09-01 13:33:59", 150.0),
                  *monthly("c", "2016-10-01 13:32:52", 150.0, 5))
    rows = rows_of(read(log, "2017-03-15 00:00:00", rules=BOOK), "c")
    assert list(rows["kind"]) == ["monthly series"]
    assert rows["first_charge"].iloc[0] == pd.Timestamp("2016-09-01 13:32:52", tz="UTC")


def test_else_of_two_charges_seconds_apart_the_one_closest_in_amount_to_the_renewal_anchors():
    """Like generated seat11 135181: a year of 303.05 at 00:58:31 and a 25-seat month of 1475 24 s later, renewed by
    1534 (a seat added) at 00:57:57, 34 s off the year's slot and 58 s off the month's, then monthly at 00:58:55. The
    month anchors the series: the first month is 1475 + the year's 25.25, not the year's 303.05 read as a month."""
    log = charges(("c", "2016-01-03 00:58:31", 303.05), ("c", "2016-01-03 00:58:55", 1475.0),
                  ("c", "2016-02-03 00:57:57", 1534.0), *monthly("c", "2016-03-03 00:58:55", 1652.0, 4))
    result = read(log, "2016-07-31 23:59:59", rules=BillingRules(price_book=PriceList(
        monthly_seat=(59.0,), annual_seat=(649.0,), annual_points=(303.05,))))
    rows = rows_of(result, "c").set_index("kind")
    assert sorted(rows.index) == ["annual term", "monthly series"]
    assert rows.loc["monthly series", "first_charge"] == pd.Timestamp("2016-01-03 00:58:55", tz="UTC")
    assert month_ends(result, "2016-07-31 23:59:59", "c")["2016-01"] == round(1475.0 + 303.05 / 12, 2)


def test_a_charge_on_the_slots_second_renews_what_the_book_reads_as_annual():
    """Like generated seat12 442950: 450 (10 seats x 45 a month, or 2 seats x 225 a year for a customer with 2 seats
    today), then 495 a month later to the second (also 1 x 540 a year x 11/12 of it), 585 and 720. A billing system
    renews at the plan's own second; a seat is added whenever the customer adds it: a monthly plan from the 450 on.
    48 minutes off its slot, the 495 may as well be a seat added to a year: the year stands, and a plan after it."""
    rules = BillingRules(price_book=PriceList(monthly_seat=(45.0,), annual_seat=(540.0, 225.0)))

    def read_with(second: str):
        log = charges(("c", "2017-09-10 08:22:04", 450.0), ("c", f"2017-10-10 {second}", 495.0),
                      ("c", "2017-11-10 08:22:04", 585.0), ("c", "2017-12-10 08:22:04", 720.0))
        return read(log, "2017-12-31 23:59:59", rules=rules, seat_counts=seats(c=2))

    on_slot = read_with("08:22:04")
    assert list(rows_of(on_slot, "c")["kind"]) == ["monthly series"]
    assert month_ends(on_slot, "2017-12-31 23:59:59", "c") == {"2017-09": 450.0, "2017-10": 495.0, "2017-11": 585.0,
                                                               "2017-12": 720.0}
    off_slot = read_with("09:10:00")
    assert list(rows_of(off_slot, "c")["kind"]) == ["annual term", "monthly series"]


def test_amount_decides_only_between_charges_within_minutes_of_each_other():
    """18 at 10:00, then 161.89 for nine seats added at 10:30, renewed by 180 at 10:03: the 10:00 plan anchors (the
    180 is closer to the 161.89 in amount, but half an hour apart is two purchases, and time decides between them)."""
    log = charges(("c", "2016-09-05 10:00:00", 18.0), ("c", "2016-09-05 10:30:00", 161.89),
                  ("c", "2016-10-05 10:03:00", 180.0), *monthly("c", "2016-11-05 10:00:00", 180.0, 3))
    rows = rows_of(read(log, "2017-02-28 23:59:59", seat_counts=seats(c=10)), "c")
    assert list(rows["kind"]) == ["monthly series"]
    assert rows["first_charge"].iloc[0] == pd.Timestamp("2016-09-05 10:00:00", tz="UTC")


def test_a_pair_whose_anchor_is_bought_minutes_before_the_plan_it_falls_in_is_prorations():
    """649 (a year) at 12:35, then 192.85 a month from 12:36, and 27.54 (a seat added to the month) a month after the
    649 within ten minutes of its slot: 649 and 27.54 posed as a monthly series of one renewal (the year read as one
    month, then a 96% cut) because the running plan started 72 s after the pair's anchor. A host may start up to the
    renewal tolerance after it (docs/billing.md item 58; generated seat11 seed 1, 99569)."""
    log = charges(("c", "2016-11-12 12:35:14", 649.0), *monthly("c", "2016-11-12 12:36:26", 192.85, 6),
                  ("c", "2016-12-12 12:45:41", 27.54), ("c", "2017-11-12 12:35:14", 649.0))
    result = read(log, "2017-11-30 23:59:59", rules=BillingRules(price_book="off"))  # no book says 649 is a year
    got = month_ends(result, "2017-11-30 23:59:59", "c")
    assert 246.0 < got["2016-11"] < 247.5 and 246.0 < got["2017-01"] < 247.5  # 54.08 + 192.85, not 841.85 then 192.85
    assert list(rows_of(result, "c")["kind"])[0] == "annual term"


def test_a_small_plan_bought_a_minute_before_a_bigger_one_keeps_its_renewal():
    """Item 58's bound (a review of stop 30): the host may start after the pair's anchor only when the pair's renewal
    comes after that host's first slot. 10 at 11:59 renewed at 12 at 11:50 beside 50 a month from 12:00 is a plan
    of its own (62 in February); 300 renewed at 500 at 11:40 is no switch to annual of the 50 plan; 18 renewed at 36
    on its second beside a 1200 bought a minute later keeps January's 18."""
    as_of = "2017-07-31 23:59:59"
    cases = {
        "a": ([("a", "2017-01-10 11:59", 10.0), ("a", "2017-02-10 11:50", 12.0), *monthly("a", "2017-01-10 12:00", 50.0, 6)],
              (60.0, 62.0, 50.0)),
        "b": ([("b", "2017-01-10 11:59", 300.0), ("b", "2017-02-10 11:40", 500.0), *monthly("b", "2017-01-10 12:00", 50.0, 6)],
              (350.0, 550.0, 50.0)),
        "c": ([("c", "2017-01-10 11:30", 18.0), ("c", "2017-02-10 11:30", 36.0), ("c", "2017-01-10 11:31", 1200.0)],
              (118.0, 136.0, 100.0)),
    }
    result = read(charges(*[row for rows, _ in cases.values() for row in rows]), as_of)
    for customer, (_, want) in cases.items():
        got = month_ends(result, as_of, customer)
        assert tuple(round(got[m], 2) for m in ("2017-01", "2017-02", "2017-03")) == want, customer


def test_a_series_that_renews_on_a_drift_slot_is_due_on_the_next_drift_slot():
    """18 a month from 2016-01-31 23:30, renewed on 2016-02-29, 2016-03-29 and 2016-04-29 (the month-end drift: the
    previous slot + 1 month, not the anchor's 30th or 31st), then nothing: it is due on 2016-05-29, not on the anchor's
    2016-05-31, so a reading on 2016-05-30 finds it lapsed. A series that renews on its anchor's slot keeps that slot."""
    drift = charges(("c", "2016-01-31 23:30", 18.0), ("c", "2016-02-29 23:30", 18.0), ("c", "2016-03-29 23:30", 18.0),
                    ("c", "2016-04-29 23:30", 18.0))
    result = read(drift, "2016-05-30 12:00")
    assert str(rows_of(result, "c")["covered_until"].iloc[0])[:16] == "2016-05-29 23:30"
    assert month_ends(result, "2016-05-30 12:00", "c").get("2016-05", 0.0) == 0.0  # lapsed by as_of
    assert "covered until slot 4, 2016-05-29 23:30 UTC, unless renewed" in rows_of(result, "c")["reason"].iloc[0]
    anchored = charges(("c", "2016-01-31 23:30", 18.0), ("c", "2016-02-29 23:30", 18.0), ("c", "2016-03-31 23:30", 18.0),
                       ("c", "2016-04-30 23:30", 18.0))
    result = read(anchored, "2016-05-30 12:00")
    assert str(rows_of(result, "c")["covered_until"].iloc[0])[:16] == "2016-05-31 23:30"
    assert month_ends(result, "2016-05-30 12:00", "c")["2016-05"] == 18.0


def test_a_drifting_series_stays_on_the_drift_where_both_slots_coincide():
    """A review of item 63: the last renewal may fall where the drift and the anchor's slot coincide (a 30-day month
    for an anchor on the 31st, any February); the renewal before it says the series counts from the previous charge.
    metrics.md's own example, 10-31, 11-30, 12-30, 01-30, 02-28: due 03-28, not 03-31. And with a wide tolerance, a
    renewal paid hours early on the anchor's day is no drift: the anchor's slot could take it."""
    days = ("2016-03-31", "2016-04-30", "2016-05-30", "2016-06-30")
    a = charges(*[("c", f"{d} 10:00", 18.0) for d in days])
    assert str(rows_of(read(a, "2016-07-30 20:00"), "c")["covered_until"].iloc[0])[:16] == "2016-07-30 10:00"
    example = charges(*[("c", f"{d} 10:00", 18.0) for d in ("2016-10-31", "2016-11-30", "2016-12-30", "2017-01-30",
                                                             "2017-02-28")])
    result = read(example, "2017-03-29 12:00")
    assert str(rows_of(result, "c")["covered_until"].iloc[0])[:16] == "2017-03-28 10:00"
    assert month_ends(result, "2017-03-29 12:00", "c").get("2017-03", 0.0) == 0.0
    early = charges(("c", "2016-01-30 10:00", 18.0), ("c", "2016-02-29 10:00", 18.0), ("c", "2016-03-29 21:00", 18.0))
    wide = BillingRules(renewal_tolerance_hours=14)
    assert str(rows_of(read(early, "2016-04-30 02:00", rules=wide), "c")["covered_until"].iloc[0])[:16] == \
        "2016-04-30 10:00"


def test_a_pair_after_a_drifting_series_lapsed_stands_as_its_own_series():
    """18 a month on the drift (due 2016-05-29 23:30), then 5 on 2016-04-30 and 7 on 05-30: the pair's renewal comes
    after the drifting series lapsed, so step 3 does not read the pair as that series' prorations (it measured the
    host to the anchor's 05-31 and made the 7 a lone month)."""
    log = charges(("c", "2016-01-31 23:30", 18.0), ("c", "2016-02-29 23:30", 18.0), ("c", "2016-03-29 23:30", 18.0),
                  ("c", "2016-04-29 23:30", 18.0), ("c", "2016-04-30 10:00", 5.0), ("c", "2016-05-30 10:00", 7.0))
    result = read(log, "2016-06-30 23:59:59")
    assert list(rows_of(result, "c")["kind"]) == ["monthly series", "monthly series"]
    assert month_ends(result, "2016-06-30 23:59:59", "c")["2016-04"] == 23.0


def test_a_slot_contested_by_two_charges_goes_to_the_one_nearer_the_plans_price():
    """Like 501894 (generated seat11 seed 15): a year of 957 and a monthly plan of 59 bought the same minute; a year
    later the year renews at 7018 (42 s before the month's slot) and the month, upgraded to 177, 100 s after it. The
    month takes the 177 (three times its price), not the 7018 (119 times), and the year its renewal: no month at 7018,
    and 177 a month from then on. A charge of the plan's own price still wins, and far from the closest charge (more
    than 15 minutes) the amount decides nothing."""
    year = [("c", "2016-10-28 13:49:55", 957.0), ("c", "2017-10-28 13:49:56", 7018.0)]
    months = [*monthly("c", "2016-10-28 13:50:38", 59.0, 11), *monthly("c", "2017-10-28 13:52:18", 177.0, 2)]
    off = BillingRules(price_book="off")
    got = read(charges(*year, *months), "2017-12-31 23:59:59", rules=off)
    rows = rows_of(got, "c")
    assert list(rows["kind"]) == ["annual term", "monthly series", "annual term"]
    assert list(rows["charges"]) == [1, 15, 1]
    ends = month_ends(got, "2017-12-31 23:59:59", "c")
    assert ends["2017-09"] == round(957 / 12 + 59, 2)
    assert ends["2017-11"] == round(7018 / 12 + 177, 2)
    # the plan's own price renewing 100 s after the slot wins as before (a 59 then the upgrade a month later)
    same = [*monthly("c", "2016-10-28 13:50:38", 59.0, 11), *monthly("c", "2017-10-28 13:52:18", 59.0, 2)]
    rows = rows_of(read(charges(*year, *same), "2017-12-31 23:59:59", rules=off), "c")
    assert list(rows["charges"]) == [1, 15, 1]
    # a year renewing to the second, closer to the slot than the upgraded month (985983, seat12 seed 17: 900 a year and
    # 175 a month, then 900 107 s before the month's slot and 225 129 s after it): the month takes the 225
    year3 = [("e", "2016-06-18 13:48:36", 900.0), ("e", "2017-06-18 13:48:36", 900.0)]
    up = [*monthly("e", "2016-06-18 13:50:23", 175.0, 11), *monthly("e", "2017-06-18 13:52:32", 225.0, 1)]
    got = read(charges(*year3, *up), "2017-07-31 23:59:59", rules=off)
    assert month_ends(got, "2017-07-31 23:59:59", "e")["2017-06"] == 300.0
    # a charge on the slot's second renews the month whatever its amount (601280, seat11 seed 17: 348 a month, then
    # 708 on its second and the year's 255.20 81 s before it)
    year2 = [("d", "2016-11-18 16:11:49", 105.6), ("d", "2017-11-18 16:11:49", 255.2)]
    on_second = [*monthly("d", "2016-11-18 16:13:10", 348.0, 11), *monthly("d", "2017-11-18 16:13:10", 708.0, 1)]
    got = read(charges(*year2, *on_second), "2017-12-31 23:59:59", rules=off)
    assert month_ends(got, "2017-12-31 23:59:59", "d")["2017-12"] == round(255.2 / 12 + 708, 2)
    # 20 minutes from the closest charge, two purchases: the closest in time renews the month, as before
    late = [*monthly("c", "2016-10-28 13:50:38", 59.0, 11), *monthly("c", "2017-10-28 14:10:00", 177.0, 2)]
    rows = rows_of(read(charges(*year, *late), "2017-12-31 23:59:59", rules=off), "c")
    assert 7018.0 not in set(rows.loc[rows["kind"] == "annual term", "current_rate"] * 12)


def test_a_renewal_at_a_plausible_price_keeps_its_slot_against_a_nearer_priced_charge():
    """Item 70 after a review: the amount decides a contested slot only when the closest charge can be no month of the
    plan (7018 after 59). A plan of 21.25 renewed at 42.50 a minute after its slot, then a seat at 21.24 six minutes
    later: the 42.50 renews it (42.50 at the April month end), not the 21.24, which would leave the 42.50 a proration
    of six minutes at some 1,300 a month. A cheap year renewing 3 minutes after an upgraded month's slot (120 against
    300 after 100) does not take the month either. And a neighbour's charge never contests a customer's slot."""
    off = BillingRules(price_book="off")
    log = charges(*monthly("c", "2017-01-30 23:58:00", 21.25, 2), ("c", "2017-04-30 23:59:00", 42.50),
                  ("c", "2017-05-01 00:05:00", 21.24), *monthly("c", "2017-05-30 23:59:00", 42.50, 3))
    got = read(log, "2017-08-31 23:59:59", rules=off)
    assert month_ends(got, "2017-08-31 23:59:59", "c")["2017-04"] == 42.5
    assert got.schedule.loc[got.schedule["customer_id"] == "c", "mrr"].max() < 100
    year = [("c", "2016-10-10 10:03:00", 120.0), ("c", "2017-10-10 10:03:00", 120.0)]
    log = charges(*year, *monthly("c", "2016-10-10 10:00:00", 100.0, 11), *monthly("c", "2017-10-10 10:00:20", 300.0, 2))
    ends = month_ends(read(log, "2017-12-31 23:59:59", rules=off), "2017-12-31 23:59:59", "c")
    assert [ends[m] for m in ("2017-10", "2017-11", "2017-12")] == [310.0, 310.0, 310.0]
    log = charges(*monthly("c", "2017-02-10 10:00:00", 50.0, 2), ("c", "2017-05-10 10:00:30", 5000.0),
                  *monthly("d", "2017-02-20 10:00:00", 70.0, 4), ("d", "2017-05-10 10:02:00", 50.0))
    got = read(log, "2017-06-30 23:59:59", rules=off)
    assert list(rows_of(got, "d")["prorations"]) == [1]  # d's 50 is a seat on d's plan, not c's May renewal


def test_series_are_renumbered_as_np_unique_would() -> None:
    """_renumber gives each series number its rank among the numbers left (0..n-1 with no holes), -1 kept."""
    import numpy as np

    from kpi.billing.series import _renumber

    rng = np.random.default_rng(4)
    for _ in range(50):
        series = rng.integers(-1, rng.integers(1, 400), size=rng.integers(0, 2000))
        expected = np.full(len(series), -1, dtype=np.int64)
        if (series >= 0).any():
            expected[series >= 0] = np.unique(series[series >= 0], return_inverse=True)[1]
        assert np.array_equal(_renumber(series), expected)
    assert _renumber(np.array([-1, -1])).tolist() == [-1, -1]
