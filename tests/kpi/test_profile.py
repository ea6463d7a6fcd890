"""Customer profile (metrics.md 7): segments and core users on a hand-computed fixture and on the shared log."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.mrr import paid_revenue as lifetime_revenue
from kpi.params import SegmentParams
from kpi.profile import (
    CORE_COLUMNS,
    PROFILE_COLUMNS,
    SEGMENT_COLUMNS,
    core_users,
    customer_profile,
    last_interval,
    quantile_segments,
    seat_labels,
    segments,
)
from tests.kpi.test_cohorts import fixture_customer_months, shared_context_or_skip

NAN = float("nan")
M = pd.Timestamp
APRIL = M("2024-04-01")


def fixture_customers() -> pd.DataFrame:
    """Attributes of a, b, c, d (see fixture_customer_months) and e, who never paid; b has no seat count."""
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "seats": [1.0, NAN, 7.0, 3.0, 25.0],
            "sessions": [10.0, 5.0, 70.0, NAN, 50.0],
        }
    )


def fixture_charges() -> pd.DataFrame:
    """Charges giving lifetime revenue a 70, b 60, c 10, d 100 (a refund and a later charge are left out)."""
    rows = [("a", "2024-01-05", 10.0), ("a", "2024-02-05", 20.0), ("a", "2024-03-05", 20.0), ("a", "2024-04-05", 20.0),
            ("b", "2024-01-09", 30.0), ("b", "2024-03-09", 30.0), ("b", "2024-03-10", -30.0),
            ("c", "2024-03-02", 5.0), ("c", "2024-04-02", 5.0), ("c", "2024-05-02", 5.0),
            ("d", "2024-02-03", 40.0), ("d", "2024-03-03", 40.0), ("d", "2024-04-03", 20.0)]
    return pd.DataFrame({"customer_id": [r[0] for r in rows],
                         "paid_at": pd.to_datetime([r[1] for r in rows]).tz_localize("UTC"),
                         "amount": [r[2] for r in rows]})


AS_OF = pd.Timestamp("2024-04-15", tz="UTC")
INTERVALS = pd.Series({"a": "annual", "b": "monthly", "c": "monthly", "d": "monthly"})


def fixture_profile(intervals: pd.Series | None = INTERVALS) -> pd.DataFrame:
    return customer_profile(fixture_customers(), fixture_customer_months(), lifetime_revenue(fixture_charges(), AS_OF),
                            APRIL, SegmentParams(), intervals)


def test_lifetime_revenue_sums_positive_charges_up_to_as_of():
    """Lifetime revenue ignores refunds and charges after as_of."""
    assert lifetime_revenue(fixture_charges(), AS_OF).to_dict() == {"a": 70.0, "b": 60.0, "c": 10.0, "d": 100.0}


def test_customer_profile_by_hand():
    """One row per customer, including the one who never paid and attributes of customers with no attributes row."""
    p = fixture_profile().set_index("customer_id")
    assert list(fixture_profile().columns) == PROFILE_COLUMNS
    assert list(p.index) == ["a", "b", "c", "d", "e"]
    assert p["mrr"].tolist() == [20.0, 0.0, 5.0, 20.0, 0.0]
    assert p["active"].tolist() == [True, False, True, True, False]
    assert p["ever_active"].tolist() == [True, True, True, True, False]
    assert p["tenure_months"].tolist() == [4, 2, 2, 3, 0]
    np.testing.assert_allclose(p["sessions_per_seat"], [10.0, NAN, 10.0, NAN, 2.0], equal_nan=True)
    extra = customer_profile(fixture_customers().iloc[:2], fixture_customer_months(), pd.Series({"z": 5.0}),
                             APRIL, SegmentParams())
    assert set(extra["customer_id"]) == {"a", "b", "c", "d", "z"}  # paying without an attributes row: kept
    assert extra.set_index("customer_id").loc["z", ["seats", "sessions"]].isna().all()


def test_seat_segments_by_hand():
    """Seat buckets 1 / 2-5 / 6-10 / 11-20 / 21+ / unknown with counts, shares, MRR, retention, tenure, revenue."""
    seg = segments(fixture_profile(), SegmentParams())
    assert list(seg.columns) == SEGMENT_COLUMNS
    seats = seg.loc[seg["Dimension"] == "Seats"].set_index("Segment")
    assert list(seats.index) == ["1", "2-5", "6-10", "11-20", "21+", "unknown"]
    assert seats["Customers"].tolist() == [1, 1, 1, 0, 1, 1]
    np.testing.assert_allclose(seats["Share of customers"], [0.2, 0.2, 0.2, 0.0, 0.2, 0.2])
    assert seats["Active customers"].tolist() == [1, 1, 1, 0, 0, 0]
    assert seats["MRR"].tolist() == [20.0, 20.0, 5.0, 0.0, 0.0, 0.0]
    np.testing.assert_allclose(seats["Share of MRR"], [20 / 45, 20 / 45, 5 / 45, 0, 0, 0])
    # empty denominators: no active customer -> no average MRR; nobody ever active -> no retention, no tenure
    np.testing.assert_allclose(seats["Average MRR"], [20, 20, 5, NAN, NAN, NAN], equal_nan=True)
    np.testing.assert_allclose(seats["Logo retention"], [1, 1, 1, NAN, NAN, 0], equal_nan=True)
    np.testing.assert_allclose(seats["Average tenure (months)"], [4, 3, 2, NAN, NAN, 2], equal_nan=True)
    assert seats["Lifetime revenue"].tolist() == [70.0, 100.0, 10.0, 0.0, 0.0, 60.0]


def test_sessions_per_seat_segments_by_hand():
    """Sessions per seat: tied quartile edges merge groups; missing seats or sessions are unknown, not dropped."""
    seg = segments(fixture_profile(), SegmentParams())
    sps = seg.loc[seg["Dimension"] == "Sessions per seat"].set_index("Segment")
    # known values e 2, a 10, c 10: quartile edges 2, 6, 10, 10, 10 -> two groups
    assert list(sps.index) == ["Q1 (2.00 to 6.00)", "Q2 (6.00 to 10.00)", "unknown"]
    assert sps["Customers"].tolist() == [1, 2, 2]
    assert sps["MRR"].tolist() == [0.0, 25.0, 20.0]
    assert sps["Customers"].sum() == 5


def test_quantile_segments_split_evenly():
    """Eight distinct values make four groups of two; NaN is unknown."""
    values = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, NAN])
    segment, order = quantile_segments(values, 4)
    assert order == ["Q1 (1.00 to 2.75)", "Q2 (2.75 to 4.50)", "Q3 (4.50 to 6.25)", "Q4 (6.25 to 8.00)", "unknown"]
    assert segment.value_counts().reindex(order).tolist() == [2, 2, 2, 2, 1]


def test_seat_labels_from_bounds():
    """Bucket labels come from the configured lower bounds."""
    assert seat_labels((1, 2, 6, 11, 21)) == ["1", "2-5", "6-10", "11-20", "21+"]
    assert seat_labels((0, 10)) == ["0-9", "10+"]


def test_core_users_by_hand():
    """Core users = lifetime revenue at or above the 75th percentile (70 here): a and d, against b, c and e."""
    core = core_users(fixture_profile()).set_index("Group")
    assert list(core.reset_index().columns) == CORE_COLUMNS
    assert list(core.index) == ["Core users", "Everyone else", "All customers"]
    assert core["Customers"].tolist() == [2, 3, 5]
    np.testing.assert_allclose(core["Share of customers"], [0.4, 0.6, 1.0])
    assert core["Active customers"].tolist() == [2, 1, 3]
    assert core["MRR"].tolist() == [40.0, 5.0, 45.0]
    np.testing.assert_allclose(core["Share of MRR"], [40 / 45, 5 / 45, 1.0])
    assert core["Lifetime revenue"].tolist() == [170.0, 70.0, 240.0]
    np.testing.assert_allclose(core["Share of lifetime revenue"], [170 / 240, 70 / 240, 1.0])
    assert core["Median lifetime revenue"].tolist() == [85.0, 10.0, 60.0]
    assert core["Median seats"].tolist() == [2.0, 16.0, 5.0]  # b's unknown seats left out
    assert core["Seats unknown"].tolist() == [0, 1, 1]
    assert core["Median sessions"].tolist() == [10.0, 50.0, 30.0]
    assert core["Median sessions per seat"].tolist() == [10.0, 6.0, 10.0]
    assert core["Median tenure (months)"].tolist() == [3.5, 2.0, 2.5]  # e never active: left out
    np.testing.assert_allclose(core["Annual plan share"], [0.5, 0.0, 0.25])


def test_core_users_empty_denominators():
    """No billing intervals known: the annual share is empty; no MRR at all: the MRR shares are empty."""
    core = core_users(fixture_profile(intervals=None)).set_index("Group")
    assert core["Annual plan share"].isna().all()
    flat = customer_profile(fixture_customers(), fixture_customer_months().iloc[:0], pd.Series(dtype="float64"),
                            APRIL, SegmentParams())
    nothing = core_users(flat).set_index("Group")
    assert nothing["Customers"].tolist() == [0, 5, 5]
    assert nothing["Share of MRR"].isna().all()
    assert segments(flat, SegmentParams())["Share of MRR"].isna().all()


def test_missing_attribute_columns_put_everyone_in_unknown():
    """A customers table without seats or sessions columns still gives every customer a segment: unknown."""
    bare = fixture_customers()[["customer_id"]]
    p = customer_profile(bare, fixture_customer_months(), pd.Series(dtype="float64"), APRIL, SegmentParams())
    seg = segments(p, SegmentParams())
    unknown = seg.loc[seg["Segment"] == "unknown"]
    assert unknown["Customers"].tolist() == [5, 5]


def test_last_interval_takes_the_latest_series():
    """A customer's plan interval is that of its latest series or term."""
    billing = pd.DataFrame({"customer_id": ["x", "x", "y"], "interval": ["monthly", "annual", "monthly"],
                            "start": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"])})
    assert last_interval(billing).to_dict() == {"x": "annual", "y": "monthly"}
    assert last_interval(None).empty


def test_shared_log_unknown_seats_bucket_holds_the_84_null_seat_customers():
    """On the shared log the 84 customers with null seats form the unknown seats bucket; nobody is dropped."""
    ctx = shared_context_or_skip()
    seg = segments(ctx.profile, ctx.params.segments)
    seats = seg.loc[seg["Dimension"] == "Seats"].set_index("Segment")
    null_seats = ctx.customers.loc[ctx.customers["seats"].isna(), "customer_id"]
    assert len(null_seats) == 84
    assert seats.loc["unknown", "Customers"] == 84
    assert seats["Customers"].sum() == len(ctx.customers) == 550
    sps = seg.loc[seg["Dimension"] == "Sessions per seat"]
    assert sps["Customers"].sum() == 550
    assert sps.set_index("Segment").loc["unknown", "Customers"] >= 84
    np.testing.assert_allclose(seats["Share of customers"].sum(), 1.0)
    np.testing.assert_allclose(seats["Share of MRR"].sum(), 1.0)


def test_shared_log_segments_and_core_users_add_up_to_the_mrr_tab_to_the_cent():
    """Each customer's MRR counts to the cent, as in the MRR tab: every dimension's segments and the core users with
    everyone else add up to the MRR tab's 39,894.12 (it was 39,881.97 until 537552's 217.80 became a year,
    docs/billing.md item 37, then 39,900.12 until 384943's 36 stayed a month beside its year, item 52; a group's
    unrounded sum rounded on its own once gave 39,881.98)."""
    ctx = shared_context_or_skip()
    total = round(float(ctx.mrr_by_month["mrr"].iloc[-1]), 2)
    assert total == 39894.12
    seg = segments(ctx.profile, ctx.params.segments)
    for dimension, rows in seg.groupby("Dimension"):
        assert round(float(rows["MRR"].sum()), 2) == total, dimension
    core = core_users(ctx.profile).set_index("Group")
    assert round(float(core.loc["Core users", "MRR"] + core.loc["Everyone else", "MRR"]), 2) == total
    assert round(float(core.loc["All customers", "MRR"]), 2) == total


def test_customers_by_a_day_leave_out_those_whose_charges_all_come_later():
    """customers_by: a customer whose every charge is after the day is no customer yet; one with an earlier charge, or
    with no charge at all, stays. The same with ids coded as categories (the reader's) and as plain text."""
    from kpi.partition import customers_by

    customers = pd.DataFrame({"customer_id": ["1", "2", "3", "4"], "seats": [1.0, 2.0, 3.0, 4.0]})
    for coded in (False, True):
        charges = pd.DataFrame({"customer_id": ["1", "2", "2", "3"],
                                "paid_at": pd.to_datetime(["2024-01-05", "2024-01-10", "2024-03-01", "2024-03-02"],
                                                          utc=True)})
        if coded:
            charges["customer_id"] = charges["customer_id"].astype("category")
        paid = charges.loc[charges["paid_at"] <= pd.Timestamp("2024-01-31", tz="UTC")]
        kept = customers_by(customers, charges, paid)
        assert kept["customer_id"].tolist() == ["1", "2", "4"], coded
        assert kept["seats"].tolist() == [1.0, 2.0, 4.0]
