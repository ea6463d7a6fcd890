"""The month tables' fast paths against their general paths, on random frames with the cases that send a frame down
the general path (ties, missing anchors, unsorted rows, a ref with two rows in one month).

Each fast path skips a sort, a grouping or a hash that the general path runs; it must give the same frame, dtypes
and index included. The general path is the code as it was before the fast path (a grouped cummax, groupby cells,
a sort by anchor, searchsorted neighbours), so these compare two independent computations of one number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi import cohorts, mrr, profile
from kpi.cohorts import cohort_matrices
from kpi.mrr import classify, coded_customer_months, month_number, movement_refs
from kpi.profile import last_interval
from kpi.schedule import CustomerCodes


def random_customer_months(seed: int, customers: int = 300, months: int = 30) -> pd.DataFrame:
    """One row per customer and month from its first month to its last, sorted by customer (as text) then month;
    MRR 0 in some months (churn, then reactivation), some customers never paying."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        first = int(rng.integers(0, months))
        last = int(rng.integers(first, months))
        for m in range(first, last + 1):
            mrr = 0.0 if rng.random() < 0.2 or c % 17 == 0 else float(rng.choice([18.0, 15.0, 99.99, 180.0 / 12]))
            rows.append((pd.Timestamp("2016-01-01") + pd.DateOffset(months=m), f"c{c}", mrr))
    frame = pd.DataFrame(rows, columns=["month", "customer_id", "mrr"])
    frame["month"] = frame["month"].astype("datetime64[ns]")
    return frame.sort_values(["customer_id", "month"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_classify_had_is_the_grouped_cummax(seed):
    """A customer's row with MRR up from 0 is new until it has paid at an earlier snapshot, reactivation after."""
    c = classify(random_customer_months(seed))
    first = np.r_[True, c.cust[1:] != c.cust[:-1]]
    had = pd.Series(c.prev > 0).groupby(np.cumsum(first)).cummax().to_numpy(dtype=bool)
    rising = (c.prev == 0) & (c.cents > 0)
    assert ((c.code == mrr.KINDS.index("new")) == (rising & ~had)).all()
    assert ((c.code == mrr.KINDS.index("reactivation")) == (rising & had)).all()
    assert (c.code == mrr.KINDS.index("reactivation")).any() and (c.code == mrr.KINDS.index("new")).any()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("partial", [False, True])
def test_cohort_matrices_counted_by_code_equal_the_grouped_ones(seed, partial):
    cm = random_customer_months(seed)
    codes = CustomerCodes.of(cm["customer_id"])
    assert codes.one_row_per_month(cm["month"])  # the fast path's condition
    for as_of in (cm["month"].max(), cm["month"].max() - pd.DateOffset(months=7)):
        fast = cohort_matrices(cm, as_of, partial=partial, codes=codes)
        grouped = cohort_matrices(cm, as_of, partial=partial)  # no codes: the general path
        pd.testing.assert_series_equal(fast.size, grouped.size, check_exact=True)
        pd.testing.assert_series_equal(fast.start_mrr, grouped.start_mrr, check_exact=True)
        pd.testing.assert_frame_equal(fast.logos, grouped.logos, check_exact=True)
        pd.testing.assert_frame_equal(fast.revenue, grouped.revenue, check_exact=True)
        assert fast.size.sum() > 0


def test_cohort_matrices_take_the_general_path_when_rows_are_not_sorted(monkeypatch):
    cm = random_customer_months(4)
    shuffled = cm.sample(frac=1, random_state=4).reset_index(drop=True)
    monkeypatch.setattr(cohorts, "_counted", lambda *a: pytest.fail("counted rows that are not one per month"))
    grouped = cohort_matrices(shuffled, cm["month"].max(), codes=CustomerCodes.of(shuffled["customer_id"]))
    monkeypatch.undo()
    fast = cohort_matrices(cm, cm["month"].max(), codes=CustomerCodes.of(cm["customer_id"]))
    pd.testing.assert_frame_equal(fast.revenue, grouped.revenue, check_exact=True)


def random_billing(seed: int, customers: int = 400) -> pd.DataFrame:
    """Billing rows sorted by customer (as text) and anchor, several per customer, ties of anchor included."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        for _ in range(int(rng.integers(1, 5))):
            rows.append((str(c), str(rng.choice(["monthly", "annual"])),
                         pd.Timestamp("2016-01-01") + pd.Timedelta(days=int(rng.integers(0, 40)) * 30)))
    frame = pd.DataFrame(rows, columns=["customer_id", "interval", "anchor"])
    return frame.sort_values(["customer_id", "anchor"], kind="stable").reset_index(drop=True)


def general_last_interval(billing: pd.DataFrame) -> pd.Series:
    latest = billing.sort_values(["anchor"], kind="stable")
    latest = latest.assign(customer_id=latest["customer_id"].astype(str)).drop_duplicates("customer_id", keep="last")
    return latest.set_index("customer_id")["interval"].astype("str").rename("interval")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_last_interval_of_a_sorted_billing_table_is_the_sorted_one(seed):
    billing = random_billing(seed)
    assert profile._last_by_anchor(billing) is not None  # the fast path ran
    pd.testing.assert_series_equal(last_interval(billing), general_last_interval(billing), check_exact=True)


def latest_by_loop(billing: pd.DataFrame) -> dict:
    """Each customer's interval on its row of the latest anchor (a missing one latest of all, as a sort puts it),
    the later row of a tie: one row at a time, no sort."""
    best: dict = {}
    for i, (customer, interval, anchor) in enumerate(billing[["customer_id", "interval", "anchor"]].itertuples(
            index=False)):
        key = (pd.isna(anchor), anchor if not pd.isna(anchor) else pd.Timestamp(0), i)
        if customer not in best or key > best[customer][0]:
            best[customer] = (key, interval)
    return {("nan" if pd.isna(c) else str(c)) if not isinstance(c, str) else c: v for c, (_, v) in best.items()}


def test_last_interval_falls_back_when_the_table_is_not_in_order():
    billing = random_billing(5)
    shuffled = billing.sample(frac=1, random_state=5).reset_index(drop=True)
    missing = billing.assign(anchor=billing["anchor"].where(billing.index % 7 != 3))
    anchors = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
    apart = pd.DataFrame({"customer_id": ["a", "b", "a"], "interval": ["monthly", "annual", "annual"],
                          "anchor": anchors})  # a's rows not together, each block in order
    lone_nat = pd.DataFrame({"customer_id": ["a", "b", "b"], "interval": ["annual", "monthly", "annual"],
                             "anchor": [pd.NaT, *anchors[:2]]})  # no anchor on a customer's only row
    no_id = pd.DataFrame({"customer_id": ["a", "a", None], "interval": ["monthly", "annual", "monthly"],
                          "anchor": anchors})
    for frame in (shuffled, missing, apart, lone_nat, no_id):
        assert profile._last_by_anchor(frame) is None
        got = last_interval(frame).to_dict()
        assert {str(k): v for k, v in got.items()} == latest_by_loop(frame)
    assert last_interval(apart).to_dict() == {"b": "annual", "a": "annual"}
    assert last_interval(lone_nat)["a"] == "annual"


def random_ref_months(seed: int, duplicated: bool = False) -> pd.DataFrame:
    """Refs of customers month by month (gaps: a ref that ends and comes back), sorted by month, customer, ref."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(120):
        for r in range(int(rng.integers(1, 4))):
            start = int(rng.integers(0, 20))
            for m in range(start, start + int(rng.integers(1, 12))):
                if rng.random() < 0.15:
                    continue
                rows.append((pd.Timestamp("2016-01-01") + pd.DateOffset(months=m), f"c{c}", f"c{c}:s{r}",
                             float(rng.choice([18.0, 36.0, 15.0]))))
                if duplicated and rng.random() < 0.05:  # a second row of the same ref and month
                    rows.append(rows[-1][:3] + (9.0,))
    frame = pd.DataFrame(rows, columns=["month", "customer_id", "ref", "mrr"])
    frame["month"] = frame["month"].astype("datetime64[ns]")
    return frame.sort_values(["month", "customer_id", "ref"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ref_neighbours_of_one_row_per_ref_and_month_are_the_searched_ones(seed):
    """Keys of (pair, month) with gaps (a ref that stops and comes back) and pairs that end before the last month."""
    rng = np.random.default_rng(seed)
    span = 40
    key = np.unique(rng.integers(0, 500, 3000) * span + rng.integers(0, span - 1, 3000))
    month = key % span
    cents = rng.integers(1, 10_000, len(key))
    fast = mrr._ref_neighbours(key, cents, month, span - 2)
    searched = mrr._searched_neighbours(key, cents, month, span - 2)
    assert (fast[0] == searched[0]).all() and (fast[1] == searched[1]).all()
    assert 0 < (fast[0] > 0).sum() < len(key) and 0 < fast[1].sum() < len(key)


def test_movement_refs_with_two_rows_of_one_ref_in_a_month_are_searched(monkeypatch):
    """A ref with two rows in a month (keys not strictly increasing) is not read by position: the neighbours are
    searched, and every churn still names the refs that ended."""
    refs = random_ref_months(3, duplicated=True)
    months = refs.groupby(["customer_id", "month"], as_index=False)["mrr"].sum()
    moves = mrr.movement_table(months.loc[:, ["month", "customer_id", "mrr"]])
    searched = []
    real = mrr._searched_neighbours
    monkeypatch.setattr(mrr, "_searched_neighbours", lambda *a: searched.append(1) or real(*a))
    named = movement_refs(moves, refs)
    assert searched == [1]
    churn = moves["movement"].to_numpy() == "churn"
    assert (named[churn] != "").all()
    searched.clear()
    movement_refs(moves, random_ref_months(3))  # one row per ref and month: by position
    assert searched == []


def test_customer_months_of_a_schedule_keep_their_codes():
    """(The fast paths read customer_months' codes: coded_customer_months makes them one row per month.)"""
    schedule = pd.DataFrame({"customer_id": ["b", "a", "a"], "ref": ["b:1", "a:1", "a:2"],
                             "start": pd.to_datetime(["2024-01-10", "2024-01-05", "2024-03-01"], utc=True),
                             "end": pd.to_datetime(["2024-04-10", "2024-02-05", "2024-05-01"], utc=True),
                             "mrr": [10.0, 20.0, 5.0]})
    months, codes = coded_customer_months(schedule, pd.Timestamp("2024-06-01", tz="UTC"), "UTC")
    assert codes is not None and codes.one_row_per_month(months["month"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_base_retention_of_dense_months_follows_each_row_as_the_search_does(seed, monkeypatch):
    """Pairs 12, 3 and 1 months apart, some starting before the data, some ending after it, some of no length; on
    customer months made dense by classify (months at 0 included) and on the same months with only the paying rows."""
    c = classify(random_customer_months(seed))
    months = pd.DatetimeIndex(sorted(c.frame["month"].unique()))
    cases = [(months - pd.DateOffset(months=12), months), (months - pd.DateOffset(months=1), months),
             (months - pd.DateOffset(months=3), months + pd.DateOffset(months=2)), (months, months)]
    followed = mrr._followed_in_order
    for starts, ends in cases:
        fast = mrr.base_retention(c.frame, starts, ends, cust=c.cust)
        monkeypatch.setattr(mrr, "_followed_in_order", lambda *a: None)
        searched = mrr.base_retention(c.frame, starts, ends, cust=c.cust)
        paying = c.frame.loc[c.frame["mrr"] > 0].reset_index(drop=True)  # not dense: the searched path anyway
        sparse = mrr.base_retention(paying, starts, ends)
        monkeypatch.setattr(mrr, "_followed_in_order", followed)
        pd.testing.assert_frame_equal(fast, searched, check_exact=True)
        pd.testing.assert_frame_equal(fast, sparse, check_exact=True)
        assert fast["start_customers"].sum() > 0
        assert fast["lost_customers"].sum() > 0 or (starts == ends).all()
    month = month_number(c.frame["month"])
    start_no = month_number(pd.Series(cases[0][0]))
    end_no = month_number(pd.Series(cases[0][1]))
    assert followed(c.cust, month, c.frame["mrr"].to_numpy(), start_no, end_no) is not None
    inside = np.r_[False, c.cust[1:-1] == c.cust[:-2], False] & np.r_[False, c.cust[1:-1] == c.cust[2:], False]
    gap = np.flatnonzero(inside)[5]  # a month inside a customer's run left out: not dense
    keep = np.ones(len(month), dtype=bool)
    keep[gap] = False
    assert followed(c.cust[keep], month[keep], c.frame["mrr"].to_numpy()[keep], start_no, end_no) is None
    assert followed(c.cust, month, c.frame["mrr"].to_numpy(), np.r_[start_no, start_no[:1]],
                    np.r_[end_no, end_no[:1]]) is None  # two pairs of one start


@pytest.mark.parametrize("seed", [1, 2])
def test_customer_tables_read_from_coded_months_equal_the_grouped_ones(seed):
    """The Customers tab, the profile and the customer ids from paying_months (the columns as arrays) against the
    same from customer_months grouped by id; as of the last month, and of an earlier one (later rows left out)."""
    from kpi.params import SegmentParams
    from kpi.profile import customer_profile

    cm = random_customer_months(seed)
    codes = CustomerCodes.of(cm["customer_id"])
    rng = np.random.default_rng(seed)
    listed = [f"c{c}" for c in range(0, 330, 2)]  # some never in customer_months (c300..), some of it not listed
    customers = pd.DataFrame({"customer_id": listed, "seats": rng.integers(1, 9, len(listed)).astype(float),
                              "sessions": rng.integers(0, 50, len(listed)).astype(float)})
    lifetime = pd.Series(rng.random(200) * 1000, index=pd.Index([f"c{c}" for c in range(0, 400, 2)], dtype="str"))
    lifetime = lifetime.sort_index()
    for as_of in (cm["month"].max(), cm["month"].max() - pd.DateOffset(months=9)):
        paying = mrr.paying_months(cm, codes, as_of)
        assert paying is not None and len(paying.current) > 0
        ids = mrr.customer_ids(customers, cm, lifetime, as_of, codes)
        pd.testing.assert_index_equal(ids, mrr.customer_ids(customers, cm, lifetime, as_of))
        fast = mrr.customer_summary(cm, customers, lifetime, as_of, codes, paying=paying)
        pd.testing.assert_frame_equal(fast, mrr.customer_summary(cm, customers, lifetime, as_of), check_exact=True)
        assert set(fast["status"]) == {"active", "churned", "never active"}
        params = SegmentParams()
        pd.testing.assert_frame_equal(customer_profile(customers, cm, lifetime, as_of, params, codes=codes),
                                      customer_profile(customers, cm, lifetime, as_of, params), check_exact=True)
    assert mrr.paying_months(cm.sample(frac=1, random_state=seed), codes, cm["month"].max()) is None
    # months read for other codes or another month are not taken for these
    last, earlier = cm["month"].max(), cm["month"].max() - pd.DateOffset(months=9)
    read = mrr.paying_months(cm, codes, last)
    assert mrr.paying_months(cm, codes, earlier, read).as_of_month == earlier
    pd.testing.assert_index_equal(mrr.customer_ids(customers, cm, lifetime, last, None, read),
                                  mrr.customer_ids(customers, cm, lifetime, last))
    pd.testing.assert_frame_equal(
        customer_profile(customers, cm, lifetime, earlier, SegmentParams(), codes=codes, paying=read),
        customer_profile(customers, cm, lifetime, earlier, SegmentParams()), check_exact=True)
    pd.testing.assert_frame_equal(mrr.customer_summary(cm, customers, lifetime, last, None, paying=read),
                                  mrr.customer_summary(cm, customers, lifetime, last), check_exact=True)
