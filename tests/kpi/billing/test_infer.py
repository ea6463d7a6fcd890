"""Payment log -> revenue schedule (metrics.md 2b): the worked examples on the shared log, then small cases by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi.billing import BILLING_COLUMNS, add_months, infer_schedule
from kpi.mrr import customer_months, movements
from kpi.params import BillingRules
from kpi.schedule import SCHEDULE_COLUMNS, check_schedule

RULES = BillingRules()


def by_month(cm: pd.DataFrame, customer: str) -> dict[str, float]:
    """A customer's month-end MRR as {"YYYY-MM": mrr}."""
    rows = cm.loc[cm["customer_id"] == customer]
    return {f"{m:%Y-%m}": float(v) for m, v in zip(rows["month"], rows["mrr"], strict=True)}


def months(first: str, last: str) -> list[str]:
    return [f"{m:%Y-%m}" for m in pd.date_range(first, last, freq="MS")]


def charges(*rows: tuple[str, str, float]) -> pd.DataFrame:
    """Charges from (customer, UTC timestamp, amount) rows."""
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "paid_at": pd.to_datetime([r[1] for r in rows], utc=True, format="ISO8601").astype("datetime64[ns, UTC]"),
            "amount": [float(r[2]) for r in rows],
        }
    )


def month_ends(frame: pd.DataFrame, as_of: str, rules: BillingRules = RULES, customer: str = "c") -> dict[str, float]:
    schedule, _ = infer_schedule(frame, rules)
    return by_month(customer_months(schedule, pd.Timestamp(as_of, tz="UTC"), "UTC"), customer)


# ----------------------------------------------------------------------------- worked examples (metrics.md 2b)


def test_803098_monthly_on_the_12th(shared_customer_months):
    """18.00 every month on the 12th is 18.00 at every month end from 2016-10 through 2017-10."""
    assert by_month(shared_customer_months, "803098") == dict.fromkeys(months("2016-10", "2017-10"), 18.0)


def test_197623_upgrade_after_the_first_month(shared_customer_months):
    """150 then 250 monthly from 2016-08-03 is 150 in 2016-08, then 250 through 2017-10."""
    expected = {"2016-08": 150.0} | dict.fromkeys(months("2016-09", "2017-10"), 250.0)
    assert by_month(shared_customer_months, "197623") == expected


def test_766972_annual_charge_with_an_add_on_a_minute_later(shared_customer_months, shared_inferred):
    """10800 and 1800 within a minute is about 1050 a month from 2017-03 through 2017-10, read as annual."""
    got = by_month(shared_customer_months, "766972")
    assert list(got) == months("2017-03", "2017-10")
    assert all(abs(v - 1050) <= 0.5 for v in got.values())
    billing = shared_inferred[1]
    assert set(billing.loc[billing["customer_id"] == "766972", "interval"]) == {"annual"}


def test_274354_single_small_charge_churns_the_next_month(shared_customer_months):
    """One 8.00 charge on 2016-08-25 is 8 in 2016-08 and 0 after, with the churn in 2016-09."""
    got = by_month(shared_customer_months, "274354")
    assert got["2016-08"] == 8.0
    assert all(v == 0 for m, v in got.items() if m > "2016-08")
    mv = movements(shared_customer_months)
    churn = mv.loc[(mv["customer_id"] == "274354") & (mv["movement"] == "churn"), "month"]
    assert [f"{m:%Y-%m}" for m in churn] == ["2016-09"]


def test_886009_reactivates_in_july(shared_customer_months):
    """18 in 2017-03, nothing until monthly again from 2017-07-05: 18, 0, 0, 0, then 18 with a reactivation in 2017-07."""
    got = by_month(shared_customer_months, "886009")
    assert got == {"2017-03": 18.0, "2017-04": 0.0, "2017-05": 0.0, "2017-06": 0.0,
                   "2017-07": 18.0, "2017-08": 18.0, "2017-09": 18.0, "2017-10": 18.0}
    mv = movements(shared_customer_months)
    rows = mv.loc[mv["customer_id"] == "886009"].set_index(mv.loc[mv["customer_id"] == "886009", "month"]
                                                             .dt.strftime("%Y-%m"))["movement"]
    assert rows["2017-07"] == "reactivation"
    assert rows["2017-04"] == "churn"


def test_158428_gap_month_and_end(shared_customer_months):
    """36 on 2016-10-10, none in November (a 0.00 charge), monthly 2016-12 .. 2017-03: 36, 0, 36, 36, 36, 36, then 0."""
    got = by_month(shared_customer_months, "158428")
    assert [got[m] for m in months("2016-10", "2017-04")] == [36.0, 0.0, 36.0, 36.0, 36.0, 36.0, 0.0]
    assert all(v == 0 for m, v in got.items() if m >= "2017-04")


def test_23466_annual_term_then_a_normalized_proration(shared_customer_months):
    """2340 on 2017-01-26 then 600 on 2017-05-25: 195 for 2017-01 .. 2017-04, then about 270 (600 over the 8 months left)."""
    got = by_month(shared_customer_months, "23466")
    assert [got[m] for m in months("2017-01", "2017-04")] == [195.0] * 4
    later = [got[m] for m in months("2017-05", "2017-10")]
    assert all(abs(v - 270) < 2 for v in later)
    assert len(set(later)) == 1


def test_472419_seat_prorations_never_lower_the_annual_plan(shared_customer_months, shared_inferred):
    """4359.60 on 2017-03-24 then ~50 seat prorations: never below 363.30 from 2017-03, never decreasing."""
    got = [v for m, v in by_month(shared_customer_months, "472419").items() if m >= "2017-03"]
    assert len(got) == 8
    assert min(got) >= 363.30
    assert all(b >= a for a, b in zip(got, got[1:], strict=False))
    billing = shared_inferred[1]
    rows = billing.loc[billing["customer_id"] == "472419"]
    assert list(rows["kind"]) == ["annual term"]  # charge pairs a month apart did not become monthly series


def test_62079_one_seat_annual_at_180(shared_customer_months, shared_inferred):
    """One 180.00 charge on 2016-11-22, 1 seat: 15.00 from 2016-11 through 2017-10, an annual term (1 seat x 180)."""
    assert by_month(shared_customer_months, "62079") == dict.fromkeys(months("2016-11", "2017-10"), 15.0)
    row = shared_inferred[1].loc[shared_inferred[1]["customer_id"] == "62079"].iloc[0]
    assert row["kind"] == "annual term"
    assert row["reason"].startswith("single charge of 180.00 = 1 seat x 180.00, the annual seat price learned from ")


def test_110988_two_seats_annual_at_360(shared_customer_months, shared_inferred):
    """One 360.00 charge on 2016-11-09, 2 seats: 30.00 from 2016-11 through 2017-10 (2 seats x 180)."""
    assert by_month(shared_customer_months, "110988") == dict.fromkeys(months("2016-11", "2017-10"), 30.0)
    row = shared_inferred[1].loc[shared_inferred[1]["customer_id"] == "110988"].iloc[0]
    assert "360.00 = 2 seats x 180.00, the annual seat price" in row["reason"]


def test_884806_ten_seats_monthly_at_180(shared_customer_months, shared_inferred):
    """180.00 every month from 2017-06-15, 10 seats: a monthly series of 180 (10 x 18), not an annual seat.

    July also holds the 8.73 seat proration of 2017-07-31, spread to the 08-15 renewal (metrics.md 2b prorations).
    """
    got = by_month(shared_customer_months, "884806")
    span = (pd.Timestamp("2017-08-15 15:28:40") - pd.Timestamp("2017-07-31 14:35:05")) / pd.Timedelta(days=365.25 / 12)
    assert got == {"2017-06": 180.0, "2017-07": pytest.approx(180 + 8.73 / span), "2017-08": 180.0, "2017-09": 180.0,
                   "2017-10": 180.0}
    assert list(shared_inferred[1].loc[shared_inferred[1]["customer_id"] == "884806", "kind"]) == ["monthly series"]


def test_68136_switch_to_annual_keeps_75_a_month(shared_customer_months, shared_inferred):
    """75 monthly 2017-02-17 .. 06-17, then 900 on 06-23 (12 x 75): 75 through 2017-10, no spike, no churn."""
    assert by_month(shared_customer_months, "68136") == dict.fromkeys(months("2017-02", "2017-10"), 75.0)
    rows = shared_inferred[1].loc[shared_inferred[1]["customer_id"] == "68136"]
    assert list(rows["kind"]) == ["monthly series", "annual term"]
    assert "ended 2017-06-23 10:42 UTC" in rows["reason"].iloc[0] and "switch to annual 68136:term-2" in rows["reason"].iloc[0]
    assert "a switch to annual" in rows["reason"].iloc[1]


def test_shared_log_price_book(shared_inference):
    """The shared log's own evidence gives 18 per seat a month and 180 per seat a year (ten months' price)."""
    book = shared_inference.price_book
    assert book.mode == "learned"
    assert book.monthly_seat[0].amount == 18.0 and book.annual_seat[0].amount == 180.0  # the list prices, then tiers
    assert all(p.customers < book.monthly_seat[0].customers / 10 for p in book.monthly_seat[1:])
    assert book.annual_seat[0].customers >= 10 and book.monthly_seat[0].customers >= 100


def test_shared_log_single_charges_at_annual_prices_are_annual(shared_inferred, shared_seats):
    """No single charge of 180, 360 or 720 is read as one month unless it is seats x 18 (none on the shared log)."""
    billing = shared_inferred[1]
    months_ = billing.loc[(billing["kind"] == "monthly term") & ~billing["reason"].str.contains("provisional")]
    assert not months_["current_rate"].isin([180.0, 360.0, 720.0]).any()
    assert len(months_) < 70  # 105 before the price book


def test_shared_log_schedule_is_well_formed(shared_inferred):
    """The shared log's schedule passes check_schedule and every piece's ref is a row of the billing table."""
    schedule, billing = shared_inferred
    assert tuple(schedule.columns) == SCHEDULE_COLUMNS
    assert tuple(billing.columns) == BILLING_COLUMNS
    assert check_schedule(schedule) == []
    assert set(schedule["ref"]) <= set(billing["ref"])
    assert billing["ref"].is_unique
    assert str(schedule["start"].dtype) == "datetime64[ns, UTC]"
    assert str(billing["anchor"].dtype) == "datetime64[ns, UTC]"


# ----------------------------------------------------------------------------- small cases by hand


def test_day_is_clamped_to_the_month_end():
    """A series anchored on Jan 31 renews on Feb 28, Mar 31 and Apr 30 (the anchor's slots; no month-end drift used)."""
    frame = charges(("c", "2017-01-31 10:00", 20), ("c", "2017-02-28 10:00", 20), ("c", "2017-03-31 10:00", 20),
                    ("c", "2017-04-30 10:00", 20))
    schedule, billing = infer_schedule(frame, RULES)
    assert list(billing["kind"]) == ["monthly series"]
    assert int(billing["renewals"].iloc[0]) == 3
    assert "previous renewal's day" not in billing["reason"].iloc[0]
    assert schedule["end"].iloc[-1] == pd.Timestamp("2017-05-31 10:00", tz="UTC")
    assert month_ends(frame, "2017-05-20") == {"2017-01": 20.0, "2017-02": 20.0, "2017-03": 20.0, "2017-04": 20.0,
                                               "2017-05": 20.0}


def test_add_months_clamps_and_keeps_the_time_of_day():
    """add_months moves whole calendar months, clamps the day (leap years too) and keeps the time of day."""
    t = pd.DatetimeIndex(["2016-01-31 23:59:59", "2017-01-31 06:00", "2017-12-15 00:00:01"]).as_unit("ns").asi8
    got = pd.DatetimeIndex(add_months(t, np.array([1, 1, 2])))
    assert list(got) == [pd.Timestamp("2016-02-29 23:59:59"), pd.Timestamp("2017-02-28 06:00"),
                         pd.Timestamp("2018-02-15 00:00:01")]


def test_add_months_by_table_matches_the_direct_calendar_arithmetic():
    """add_months looks the calendar up per distinct day: the same instants as converting each one, for every day
    of two centuries (month ends, leap days, before 1970) and month steps either way, scalar or per instant."""
    from kpi.billing.timeline import _add_months_direct

    days = np.arange(np.datetime64("1899-12-01"), np.datetime64("2101-02-01")).astype("datetime64[ns]").view(np.int64)
    t = days + np.random.default_rng(3).integers(0, 86_400 * 10**9, len(days))
    for months in (1, 12, -1, 0, 25):
        assert (add_months(t, months) == _add_months_direct(t, months)).all()
    steps = np.random.default_rng(4).integers(-30, 30, len(t))
    assert (add_months(t, steps) == _add_months_direct(t, steps)).all()
    assert len(add_months(t[:0], 1)) == 0


def test_late_renewal_within_tolerance_leaves_no_gap_at_the_month_end():
    """A renewal 90 minutes late, after midnight, extends the previous piece: the month-end snapshot still counts it."""
    frame = charges(("c", "2017-01-31 23:00", 30), ("c", "2017-03-01 00:30", 30), ("c", "2017-03-31 23:00", 30))
    assert month_ends(frame, "2017-04-10") == {"2017-01": 30.0, "2017-02": 30.0, "2017-03": 30.0, "2017-04": 30.0}


def test_early_renewal_is_not_counted_twice():
    """A renewal 90 minutes early, before midnight, ends the previous piece: the month end counts the rate once."""
    frame = charges(("c", "2017-01-01 00:30", 30), ("c", "2017-01-31 23:00", 30), ("c", "2017-03-01 00:30", 30))
    assert month_ends(frame, "2017-03-10") == {"2017-01": 30.0, "2017-02": 30.0, "2017-03": 30.0}


def test_charge_outside_the_tolerance_is_no_renewal():
    """A charge 3 hours off its slot renews nothing: two one-month terms, and the month in between shows 0."""
    frame = charges(("c", "2017-01-10 10:00", 30), ("c", "2017-02-10 13:00", 30), ("c", "2017-03-25 10:00", 30))
    _, billing = infer_schedule(frame, RULES)
    assert list(billing["kind"]) == ["monthly term"] * 3
    assert billing["guessed"].all()
    got = month_ends(frame, "2017-03-31")
    assert got == {"2017-01": 30.0, "2017-02": 30.0, "2017-03": 30.0}


def test_zero_and_negative_amounts_are_ignored():
    """A 0.00 charge on a slot renews nothing and a refund removes nothing; a customer with only those has no piece."""
    frame = charges(("c", "2017-01-10 10:00", 50), ("c", "2017-02-10 10:00", 0), ("c", "2017-02-12 10:00", -50),
                    ("c", "2017-03-10 10:00", 50), ("c", "2017-04-10 10:00", 50), ("z", "2017-01-05", 0),
                    ("z", "2017-02-05", -10))
    schedule, billing = infer_schedule(frame, RULES)
    assert "z" not in set(schedule["customer_id"]) | set(billing["customer_id"])
    assert list(billing["kind"]) == ["monthly term", "monthly series"]
    assert month_ends(frame, "2017-04-20") == {"2017-01": 50.0, "2017-02": 0.0, "2017-03": 50.0, "2017-04": 50.0}


def test_annual_min_amount_makes_a_single_charge_annual():
    """A single charge of 1200 is 100 a month for 12 months, then 0 (a guess, said so)."""
    frame = charges(("c", "2017-01-15 09:00", 1200))
    got = month_ends(frame, "2018-02-01")
    assert got == dict.fromkeys(months("2017-01", "2017-12"), 100.0) | {"2018-01": 0.0, "2018-02": 0.0}
    _, billing = infer_schedule(frame, RULES)
    row = billing.iloc[0]
    assert (row["kind"], row["interval"], bool(row["guessed"])) == ("annual term", "annual", True)
    assert "1200.00 >= annual_min_amount 1000" in row["reason"]


def test_annual_term_with_normalized_prorations():
    """A 1200 annual term plus 300 exactly 6 calendar months later: 100, then 100 + 300 / (months left) ≈ 150."""
    frame = charges(("c", "2017-01-15 09:00", 1200), ("c", "2017-07-15 09:00", 300))
    schedule, billing = infer_schedule(frame, RULES)
    proration = schedule.loc[schedule["source"] == "proration"].iloc[0]
    span = (proration["end"] - proration["start"]) / pd.Timedelta(days=365.25 / 12)
    assert proration["end"] == pd.Timestamp("2018-01-15 09:00", tz="UTC")
    assert proration["mrr"] == pytest.approx(300 / span)
    got = month_ends(frame, "2017-12-31")
    assert got["2017-06"] == 100.0
    assert got["2017-07"] == pytest.approx(100 + 300 / span, abs=0.005)
    assert (int(billing["prorations"].iloc[0]), int(billing["charges"].iloc[0])) == (1, 2)


def test_smaller_charges_that_follow_make_a_small_charge_annual():
    """600 then 100 three months later: 600 is an annual term (50 a month) and 100 its proration, not two monthly terms."""
    frame = charges(("c", "2017-01-10 09:00", 600), ("c", "2017-04-20 09:00", 100))
    _, billing = infer_schedule(frame, RULES)
    assert list(billing["kind"]) == ["annual term"]
    assert "smaller" in billing["reason"].iloc[0]
    got = month_ends(frame, "2017-12-31")
    assert got["2017-03"] == 50.0
    assert 50 + 100 / 9 - 0.5 < got["2017-05"] < 50 + 100 / 8.5
    assert got["2017-12"] == got["2017-05"]


def test_prorations_ignore_drops_their_pieces_but_counts_them():
    """With prorations = ignore a proration adds no MRR, and the Billing row still counts it."""
    frame = charges(("c", "2017-01-15 09:00", 1200), ("c", "2017-07-15 09:00", 300))
    rules = BillingRules(prorations="ignore")
    schedule, billing = infer_schedule(frame, rules)
    assert set(schedule["source"]) == {"annual term"}
    assert int(billing["prorations"].iloc[0]) == 1
    assert set(month_ends(frame, "2017-12-31", rules).values()) == {100.0}


def test_monthly_series_prorations_end_at_the_next_renewal():
    """A seat added mid-cycle on a monthly plan is spread to the next renewal, where the new price takes over."""
    frame = charges(("c", "2017-01-01 08:00", 36), ("c", "2017-01-16 20:00", 9), ("c", "2017-02-01 08:00", 54),
                    ("c", "2017-03-01 08:00", 54))
    schedule, _ = infer_schedule(frame, RULES)
    proration = schedule.loc[schedule["source"] == "proration"].iloc[0]
    assert proration["end"] == pd.Timestamp("2017-02-01 08:00", tz="UTC")
    span = (proration["end"] - proration["start"]) / pd.Timedelta(days=365.25 / 12)
    got = month_ends(frame, "2017-03-20")
    assert got["2017-01"] == pytest.approx(36 + 9 / span, abs=0.005)
    assert (got["2017-02"], got["2017-03"]) == (54.0, 54.0)


@pytest.mark.parametrize(("day", "renewal"), [("2017-01-16 20:00", "2017-02-01 08:00"),
                                               ("2017-02-15 08:00", "2017-03-01 08:00")])
def test_prorations_by_the_share_of_the_period_left_give_the_seat_price(day, renewal):
    """`prorations = "share"`: a seat added half way through a 2-seat plan's month at 36 pays 9.00 (18 x half the
    period), and its rate is 18.00 a month, in a 31-day January as in a 28-day February; the spec's "normalize"
    (metrics.md 2a: amount / months left of 365.25/12 days) reads 17.67 and 19.57 (docs/billing.md item 49: on the
    shared log 557 of 748 proration rates are whole seats x a learned price this way, 23 the spec's way)."""
    frame = charges(("c", "2017-01-01 08:00", 36), ("c", day, 9), ("c", "2017-02-01 08:00", 36),
                    ("c", "2017-03-01 08:00", 36), ("c", "2017-04-01 08:00", 36))
    schedule, _ = infer_schedule(frame, BillingRules(prorations="share"))
    proration = schedule.loc[schedule["source"] == "proration"].iloc[0]
    assert proration["end"] == pd.Timestamp(renewal, tz="UTC")
    assert proration["mrr"] == pytest.approx(18.0)
    normalized, _ = infer_schedule(frame, RULES)
    rate = normalized.loc[normalized["source"] == "proration", "mrr"].iloc[0]
    assert rate == pytest.approx(17.67 if day.startswith("2017-01") else 19.57, abs=0.005)


def test_a_proration_on_an_annual_term_by_the_share_of_the_year_left_gives_the_seat_price():
    """`prorations = "share"`: 90 paid half way through a 1,080 annual term (6 seats x 180) is a seat's 180 x half
    the year: 15.00 a month, the seat's year / 12."""
    frame = charges(("c", "2017-01-15 09:00", 1080), ("c", "2017-07-16 21:00", 90))
    schedule, _ = infer_schedule(frame, BillingRules(prorations="share"))
    proration = schedule.loc[schedule["source"] == "proration"].iloc[0]
    assert proration["end"] == pd.Timestamp("2018-01-15 09:00", tz="UTC")
    assert proration["mrr"] == pytest.approx(15.0, abs=0.01)


def test_a_proration_by_the_share_of_the_period_where_a_switch_cut_the_month_short():
    """75 a month, a seat added on 03-11 for 12.19 (18 x 21/31 of March), then 900 a year on 03-21: the seat's piece
    ends at the switch, but the company billed it against the whole month: 18.00 a month, not 12.19 over 10/20 of
    a month cut short (24.38; a review's case); and a seat added in a renewed annual plan's second year is read
    against that year."""
    frame = charges(("c", "2017-01-01 08:00", 75), ("c", "2017-02-01 08:00", 75), ("c", "2017-03-01 08:00", 75),
                    ("c", "2017-03-11 08:00", 12.19), ("c", "2017-03-21 08:00", 900))
    schedule, _ = infer_schedule(frame, BillingRules(prorations="share"))
    assert schedule.loc[schedule["source"] == "proration", "mrr"].iloc[0] == pytest.approx(18.0, abs=0.01)
    frame = charges(("d", "2017-01-15 09:00", 1080), ("d", "2018-01-15 09:00", 1080), ("d", "2018-07-16 21:00", 90))
    schedule, _ = infer_schedule(frame, BillingRules(prorations="share"))
    assert schedule.loc[schedule["source"] == "proration", "mrr"].iloc[0] == pytest.approx(15.0, abs=0.01)


def test_override_monthly_reads_a_large_single_charge_as_one_month():
    """billing_overrides monthly: a single 1200 charge is one month at 1200, and not a guess."""
    frame = charges(("c", "2017-01-15 09:00", 1200))
    rules = BillingRules(billing_overrides=(("c", "monthly"),))
    assert month_ends(frame, "2017-03-01", rules) == {"2017-01": 1200.0, "2017-02": 0.0, "2017-03": 0.0}
    _, billing = infer_schedule(frame, rules)
    assert (billing["kind"].iloc[0], bool(billing["guessed"].iloc[0])) == ("monthly term", False)
    assert "billing_overrides" in billing["reason"].iloc[0]


def test_override_monthly_on_a_series_says_so_in_its_reason():
    """billing_overrides monthly on a customer with a monthly series: its Billing row reads as any series and ends by
    naming the override (the Billing reasons are built column by column: this rule has its own words)."""
    frame = charges(("c", "2017-01-15 09:00", 30), ("c", "2017-02-15 09:00", 30), ("c", "2017-03-15 09:00", 30))
    _, billing = infer_schedule(frame, BillingRules(billing_overrides=(("c", "monthly"),)), as_of=pd.Timestamp(
        "2017-03-20", tz="UTC"))
    assert list(billing["reason"]) == [
        "2 renewals 1 calendar month apart within ±2h of the anchor's slot (largest offset 0 s); covered until slot 3, "
        "2017-04-15 09:00 UTC, unless renewed (billing_overrides: monthly)"]


def test_override_annual_reads_a_small_single_charge_as_a_year():
    """billing_overrides annual: a single 120 charge is 10 a month for 12 months; other customers are untouched."""
    frame = charges(("c", "2017-01-15 09:00", 120), ("d", "2017-01-15 09:00", 120))
    rules = BillingRules(billing_overrides=(("c", "annual"),))
    assert set(month_ends(frame, "2017-12-31", rules).values()) == {10.0}
    assert month_ends(frame, "2017-03-01", rules, customer="d") == {"2017-01": 120.0, "2017-02": 0.0, "2017-03": 0.0}


def test_unknown_override_is_an_error():
    """An override other than monthly or annual raises a ValueError naming it."""
    with pytest.raises(ValueError, match="weekly"):
        infer_schedule(charges(("c", "2017-01-15", 10)), BillingRules(billing_overrides=(("c", "weekly"),)))


def test_prorations_a_month_apart_inside_an_annual_term_are_not_a_series():
    """Two small charges one month apart inside an annual term are prorations, not a monthly plan that later churns."""
    frame = charges(("c", "2017-01-10 09:00", 2400), ("c", "2017-03-05 14:00", 150), ("c", "2017-04-05 14:30", 140))
    schedule, billing = infer_schedule(frame, RULES)
    assert list(billing["kind"]) == ["annual term"]
    assert "pair of charges one month apart" in billing["reason"].iloc[0]
    got = month_ends(frame, "2017-12-31")
    values = [got[m] for m in months("2017-01", "2017-12")]
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))


def test_a_real_monthly_plan_beside_an_annual_one_is_kept():
    """A monthly plan with several renewals next to an annual term is its own series (several series per customer)."""
    frame = charges(("c", "2017-01-10 09:00", 1200), ("c", "2017-01-12 18:00", 90), ("c", "2017-02-12 18:00", 90),
                    ("c", "2017-03-12 18:00", 90))
    _, billing = infer_schedule(frame, RULES)
    assert sorted(billing["kind"]) == ["annual term", "monthly series"]
    assert month_ends(frame, "2017-04-20") == {"2017-01": 190.0, "2017-02": 190.0, "2017-03": 190.0, "2017-04": 100.0}


def test_large_charge_followed_by_a_small_one_a_month_later_stays_annual():
    """2000 then 30 exactly one month later: an annual term and its proration, not a 2000-a-month plan."""
    frame = charges(("c", "2017-01-10 09:00", 2000), ("c", "2017-02-10 09:00", 30))
    _, billing = infer_schedule(frame, RULES)
    assert list(billing["kind"]) == ["annual term"]
    assert month_ends(frame, "2017-03-01")["2017-01"] == pytest.approx(2000 / 12, abs=0.005)


def test_seat_charges_minutes_before_a_subscription_do_not_anchor_it():
    """When several charges could anchor the same renewal, the one hitting the slot most closely anchors the series."""
    frame = charges(("c", "2017-01-10 09:20", 18), ("c", "2017-01-10 09:30", 36), ("c", "2017-02-10 09:30", 36),
                    ("c", "2017-03-10 09:30", 36))
    _, billing = infer_schedule(frame, RULES)
    series = billing.loc[billing["kind"] == "monthly series"].iloc[0]
    assert series["anchor"] == pd.Timestamp("2017-01-10 09:30", tz="UTC")
    assert "largest offset 0 s" in series["reason"]


def test_billing_row_describes_a_series():
    """A series' billing row counts charges, renewals and prorations and carries the rate of its last renewal."""
    frame = charges(("c", "2017-01-05 10:00", 20), ("c", "2017-01-20 10:00", 5), ("c", "2017-02-05 10:00", 20),
                    ("c", "2017-03-05 10:00", 25))
    _, billing = infer_schedule(frame, RULES)
    row = billing.iloc[0]
    assert (row["kind"], row["interval"], row["ref"]) == ("monthly series", "monthly", "c:series-1")
    assert (int(row["charges"]), int(row["renewals"]), int(row["prorations"])) == (4, 2, 1)
    assert row["current_rate"] == 25.0
    assert row["last_charge"] == pd.Timestamp("2017-03-05 10:00", tz="UTC")
    assert not row["guessed"]
    assert row["reason"].startswith("2 renewals 1 calendar month apart within ±2h")


def test_no_positive_charge_gives_empty_tables():
    """Only zero and negative charges: an empty schedule and an empty billing table, with their columns."""
    schedule, billing = infer_schedule(charges(("c", "2017-01-05", 0)), RULES)
    assert schedule.empty and tuple(schedule.columns) == SCHEDULE_COLUMNS
    assert billing.empty and tuple(billing.columns) == BILLING_COLUMNS


# ----------------------------------------------------------------------------- scale


def synthetic_log(customers: int, months_: int = 24, seed: int = 1) -> pd.DataFrame:
    """A vectorized payment log: monthly plans with seat prorations, annual plans with prorations, one-off charges."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2016-01-01", tz="UTC").value
    anchor = start + rng.integers(0, 365 * 86_400, customers) * 10**9
    length = rng.integers(1, months_, customers)
    kind = rng.choice(3, customers, p=[0.7, 0.2, 0.1])  # monthly, annual, one-off
    n = np.where(kind == 0, length, 1)
    cust = np.repeat(np.arange(customers), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    t = add_months(anchor[cust], k)
    amount = np.where(kind[cust] == 1, 1800.0, 36.0)
    extra = rng.integers(0, 3, len(t))  # seat prorations between renewals
    pc = np.repeat(cust, extra)
    pt = np.repeat(t, extra) + rng.integers(3_600, 25 * 86_400, extra.sum()) * 10**9
    ids = np.r_[cust, pc].astype(str)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "paid_at": pd.to_datetime(np.r_[t, pt], utc=True).astype("datetime64[ns, UTC]"),
            "amount": np.r_[amount, rng.uniform(1, 30, extra.sum()).round(2)],
        }
    )


def test_synthetic_log_of_many_customers_is_classified_whole():
    """A synthetic log of 2,000 customers with seat prorations gives a well-formed schedule with every customer in it.

    Speed at 1M charges is measured by benchmarks/bench.py, not asserted here.
    """
    log = synthetic_log(2_000)
    schedule, billing = infer_schedule(log, RULES)
    assert check_schedule(schedule) == []
    assert billing["customer_id"].nunique() == 2_000
    assert set(billing["interval"]) == {"monthly", "annual"}


def test_billing_tab_lists_numeric_ids_in_numeric_order():
    """The Billing tab sorts customer ids as numbers (5582 before 15481), then text ids, each customer's rows by anchor."""
    from types import SimpleNamespace

    from kpi.mrr_tabs import _billing_tab

    log = charges(("15481", "2017-01-05", 1800.0), ("5582", "2017-03-05", 2000.0), ("5582", "2016-01-05", 2000.0),
                  ("acme", "2017-01-05", 18.0))
    schedule, billing = infer_schedule(log, RULES)
    as_of = pd.Timestamp("2017-03-05", tz="UTC")
    tab = _billing_tab(SimpleNamespace(billing=billing, as_of=as_of))  # type: ignore[arg-type]
    # the end of each one's last piece in the schedule
    assert list(tab["Covered until"]) == [schedule.loc[schedule["ref"] == r, "end"].max() for r in tab["Ref"]]
    assert list(tab["Customer"]) == ["5582", "5582", "15481", "acme"]
    assert list(tab["Anchor"].dt.strftime("%Y-%m"))[:2] == ["2016-01", "2017-03"]
    # what still pays at as_of: 5582's first year ended, acme's month ended (its rate is no part of MRR any more)
    assert list(tab["Covered until"].dt.strftime("%Y-%m-%d")) == ["2017-01-05", "2018-03-05", "2018-01-05", "2017-02-05"]
    assert list(tab["Running"]) == [False, True, True, False]


def test_billing_tab_order_is_the_plain_sort_of_numbers_texts_and_anchors():
    """The Billing tab's order (distinct ids ranked once, rows put in that order by integer rank) is exactly the plain
    stable sort by (id as a number, id as text, anchor), missing numbers and anchors last, on ids that look alike."""
    from types import SimpleNamespace

    import numpy as np

    from kpi.billing import BILLING_COLUMNS
    from kpi.mrr_tabs import _billing_tab

    rng = np.random.default_rng(11)
    n = 3000
    pool = np.array(["10", "2", "002", "a", "B", " 7", "100000000000000000001", "7", "5582", "15481", "x1", "-3", "3.5"],
                    dtype=object)
    billing = pd.DataFrame({c: np.arange(n) for c in BILLING_COLUMNS})
    billing["customer_id"] = rng.choice(pool, n)
    anchor = pd.Series(pd.to_datetime(rng.integers(1_400_000_000, 1_400_000_050, n), unit="s", utc=True))  # ties
    billing["anchor"] = anchor.where(rng.random(n) > 0.02)
    billing["ref"] = np.arange(n).astype(str)
    want = billing.assign(_number=pd.to_numeric(billing["customer_id"], errors="coerce")).sort_values(
        ["_number", "customer_id", "anchor"], na_position="last", kind="stable")["ref"].tolist()
    billing["covered_until"] = pd.NaT
    tab = _billing_tab(SimpleNamespace(billing=billing, as_of=pd.Timestamp("2017-01-01", tz="UTC")))  # type: ignore[arg-type]
    assert tab["Ref"].tolist() == want
    assert tab["Covered until"].isna().all() and not tab["Running"].any()
