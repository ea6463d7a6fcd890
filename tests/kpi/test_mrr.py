"""Month snapshots, movements, rates and quarters (metrics.md 1, 3, 4) by hand, on the shared log, and as properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.billing import add_months, infer_schedule
from kpi.mrr import (
    BASE_COLUMNS,
    MONTH_COLUMNS,
    QUARTER_COLUMNS,
    base_retention,
    check_identity,
    customer_months,
    month_snapshots,
    movements,
    mrr_by_month,
    mrr_by_quarter,
)
from kpi.mrr_tabs import TABS
from kpi.params import BillingRules, Params
from kpi.schedule import check_schedule
from kpi.tables import Context, build_table

M = pd.Timestamp
NAN = float("nan")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def schedule(*rows: tuple[str, str, str | None, float]) -> pd.DataFrame:
    """A revenue schedule from (customer, start, end or None, mrr) rows."""
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "start": pd.to_datetime([r[1] for r in rows], utc=True, format="ISO8601").astype("datetime64[ns, UTC]"),
            "end": pd.to_datetime([r[2] for r in rows], utc=True, format="ISO8601").astype("datetime64[ns, UTC]"),
            "mrr": [float(r[3]) for r in rows],
            "source": "contract",
            "ref": [f"{r[0]}-{i}" for i, r in enumerate(rows)],
        }
    )


def fixture_customer_months(sparse: bool = False) -> pd.DataFrame:
    """A: 100, 150, 120, 0, 80 (new, expansion, contraction, churn, reactivation); B: from Feb at 50; C: 20 in May."""
    rows = [
        ("A", "2024-01-01", 100), ("A", "2024-02-01", 150), ("A", "2024-03-01", 120), ("A", "2024-04-01", 0),
        ("A", "2024-05-01", 80),
        ("B", "2024-02-01", 50), ("B", "2024-03-01", 50), ("B", "2024-04-01", 50), ("B", "2024-05-01", 50),
        ("C", "2024-05-01", 20),
    ]
    frame = pd.DataFrame({"customer_id": [r[0] for r in rows], "month": pd.to_datetime([r[1] for r in rows]),
                          "mrr": [float(r[2]) for r in rows]})
    return frame.loc[frame["mrr"] > 0] if sparse else frame


def assert_close(actual: float, expected: float) -> None:
    if math.isnan(expected):
        assert math.isnan(actual), f"expected an empty cell, got {actual}"
    else:
        assert actual == pytest.approx(expected, abs=1e-9)


# ----------------------------------------------------------------------------- snapshots


def test_snapshots_are_month_ends_in_the_timezone_and_as_of_last():
    """Snapshots fall on each month's last second in the timezone (UTC instants), and on as_of for its month."""
    snaps = month_snapshots(utc("2024-07-10 08:00"), utc("2024-01-20"), "Europe/Paris")
    assert list(snaps["month"]) == list(pd.date_range("2024-01-01", "2024-07-01", freq="MS"))
    assert snaps["snapshot"].iloc[0] == utc("2024-01-31 22:59:59")  # CET
    assert snaps["snapshot"].iloc[5] == utc("2024-06-30 21:59:59")  # CEST
    assert snaps["snapshot"].iloc[-1] == utc("2024-07-10 08:00")


def test_snapshots_take_months_in_the_timezone():
    """An instant after midnight in the timezone but not yet in UTC belongs to the next month."""
    snaps = month_snapshots(utc("2024-03-31 22:30"), utc("2024-01-31 23:30"), "Europe/Paris")
    assert [f"{m:%Y-%m}" for m in snaps["month"]] == ["2024-02", "2024-03", "2024-04"]


def test_no_snapshot_when_first_is_after_as_of():
    """No months at all when the first revenue comes after as_of."""
    assert month_snapshots(utc("2024-01-10"), utc("2024-02-01"), "UTC").empty


# ----------------------------------------------------------------------------- customer months


def test_customer_months_reads_pieces_at_the_snapshots():
    """A piece counts iff start <= snapshot < end; customers run dense from their first month with MRR to as_of."""
    sched = schedule(
        ("x", "2024-01-15", "2024-03-01", 10),
        ("y", "2024-01-31 23:59:59", "2024-02-29 23:59:59", 7),  # starts on January's snapshot, ends on February's
        ("z", "2024-03-10", None, 5),
        ("late", "2024-04-10 13:00", None, 99),  # after as_of: ignored
    )
    cm = customer_months(sched, utc("2024-04-10 12:00"), "UTC")
    got = {(c, f"{m:%Y-%m}"): v for c, m, v in zip(cm["customer_id"], cm["month"], cm["mrr"], strict=True)}
    assert got == {
        ("x", "2024-01"): 10.0, ("x", "2024-02"): 10.0, ("x", "2024-03"): 0.0, ("x", "2024-04"): 0.0,
        ("y", "2024-01"): 7.0, ("y", "2024-02"): 0.0, ("y", "2024-03"): 0.0, ("y", "2024-04"): 0.0,
        ("z", "2024-03"): 5.0, ("z", "2024-04"): 5.0,
    }
    assert not cm.duplicated(["customer_id", "month"]).any()


def test_customer_mrr_is_exact_and_money_is_rounded_to_the_cent():
    """customer_months keeps the exact sum of pieces; the MRR table rounds each customer to the cent and sums cents."""
    sched = schedule(("x", "2024-01-01", None, 10.004), ("x", "2024-01-02", None, 0.0049), ("y", "2024-01-03", None, 0.001))
    cm = customer_months(sched, utc("2024-01-20"), "UTC")
    assert list(cm["mrr"]) == [pytest.approx(10.0089), pytest.approx(0.001)]
    mm = mrr_by_month(cm)
    assert (mm["mrr"].iloc[0], mm["new_mrr"].iloc[0], mm["customers"].iloc[0]) == (10.01, 10.01, 2)
    assert list(movements(cm)["mrr"]) == [10.01, 0.0]


def test_empty_schedule_gives_no_customer_months():
    """No pieces: no customer months and an empty MRR table with its columns."""
    cm = customer_months(schedule(("x", "2024-05-01", None, 3)), utc("2024-04-01"), "UTC")
    assert cm.empty and list(cm.columns) == ["month", "customer_id", "mrr"]
    mm = mrr_by_month(cm)
    assert mm.empty and tuple(mm.columns) == MONTH_COLUMNS
    assert check_identity(mm) == []
    assert mrr_by_quarter(mm, cm).empty


# ----------------------------------------------------------------------------- movements and rates


def test_movements_by_hand():
    """Each customer-month gets the movement of metrics.md 3, churn on the month MRR falls to 0."""
    mv = movements(fixture_customer_months())
    got = {(c, f"{m:%m}"): (k, d) for c, m, k, d in zip(mv["customer_id"], mv["month"], mv["movement"], mv["delta"],
                                                          strict=True)}
    assert got == {
        ("A", "01"): ("new", 100.0), ("A", "02"): ("expansion", 50.0), ("A", "03"): ("contraction", -30.0),
        ("A", "04"): ("churn", -120.0), ("A", "05"): ("reactivation", 80.0),
        ("B", "02"): ("new", 50.0), ("B", "03"): ("flat", 0.0), ("B", "04"): ("flat", 0.0), ("B", "05"): ("flat", 0.0),
        ("C", "05"): ("new", 20.0),
    }


def test_movements_fill_months_missing_from_a_sparse_input():
    """Rows with MRR > 0 only give the same movements: the missing months are zeros."""
    dense = movements(fixture_customer_months())
    sparse = movements(fixture_customer_months(sparse=True))
    pd.testing.assert_frame_equal(dense, sparse)


EXPECTED_MONTHS = {
    # month: mrr, customers, arpa, new, expansion, contraction, churned, reactivation, net new, new c, react c, churned c
    "2024-01": (100, 1, 100, 100, 0, 0, 0, 0, 100, 1, 0, 0),
    "2024-02": (200, 2, 100, 50, 50, 0, 0, 0, 100, 1, 0, 0),
    "2024-03": (170, 2, 85, 0, 0, 30, 0, 0, -30, 0, 0, 0),
    "2024-04": (50, 1, 50, 0, 0, 0, 120, 0, -120, 0, 0, 1),
    "2024-05": (150, 3, 50, 20, 0, 0, 0, 80, 100, 1, 1, 0),
}
EXPECTED_RATES = {
    # growth, new %, expansion %, contraction %, churned %, logo churn, gross churn, net churn, quick ratio
    "2024-01": (NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN),
    "2024-02": (1.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, -0.5, NAN),
    "2024-03": (-0.15, 0.0, 0.0, 0.15, 0.0, 0.0, 0.15, 0.15, 0.0),
    "2024-04": (-120 / 170, 0.0, 0.0, 0.0, 120 / 170, 0.5, 120 / 170, 120 / 170, 0.0),
    "2024-05": (2.0, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0, -1.6, NAN),
}


def test_mrr_by_month_by_hand():
    """Totals, counts and rates of the hand fixture, with empty cells where the denominator is 0."""
    mm = mrr_by_month(fixture_customer_months())
    assert tuple(mm.columns) == MONTH_COLUMNS
    assert [f"{m:%Y-%m}" for m in mm["month"]] == list(EXPECTED_MONTHS)
    values = mm.loc[:, ["mrr", "customers", "arpa", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
                        "reactivation_mrr", "net_new_mrr", "new_customers", "reactivated_customers",
                        "churned_customers"]]
    rates = mm.loc[:, ["mrr_growth", "new_mrr_rate", "expansion_mrr_rate", "contraction_mrr_rate", "churned_mrr_rate",
                       "logo_churn", "gross_mrr_churn", "net_mrr_churn", "quick_ratio"]]
    for i, month in enumerate(EXPECTED_MONTHS):
        assert tuple(values.iloc[i]) == pytest.approx(EXPECTED_MONTHS[month]), month
        for actual, expected in zip(rates.iloc[i], EXPECTED_RATES[month], strict=True):
            assert_close(float(actual), expected)
    assert check_identity(mm) == []


def test_counts_are_integers():
    """Customer counts come out as integers, money as floats."""
    mm = mrr_by_month(fixture_customer_months())
    assert all(pd.api.types.is_integer_dtype(mm[c]) for c in ("customers", "new_customers", "churned_customers"))
    assert pd.api.types.is_float_dtype(mm["mrr"])


def test_a_month_with_nobody_is_a_row_of_zeros():
    """A month between two paying months with no customer at all is a row of zeros, not a missing row."""
    cm = pd.DataFrame({"customer_id": ["A", "B"], "month": pd.to_datetime(["2024-01-01", "2024-03-01"]),
                       "mrr": [10.0, 20.0]})
    mm = mrr_by_month(cm)
    assert [f"{m:%m}" for m in mm["month"]] == ["01", "02", "03"]
    feb = mm.iloc[1]
    assert (feb["mrr"], feb["customers"], feb["churned_mrr"]) == (0.0, 0, 10.0)
    assert math.isnan(mm.iloc[2]["logo_churn"])  # nobody paid in February


def test_mrr_by_quarter_by_hand():
    """Quarters sum the monthly movements; their rates follow the customers at the previous quarter's end to its end."""
    cm = fixture_customer_months()
    q = mrr_by_quarter(mrr_by_month(cm), cm)
    assert tuple(q.columns) == QUARTER_COLUMNS
    assert list(q["quarter"]) == ["2024-Q1", "2024-Q2"]
    assert list(q["quarter_start"]) == [M("2024-01-01"), M("2024-04-01")]
    q1, q2 = q.iloc[0], q.iloc[1]
    assert (q1["months"], q1["mrr_start"], q1["customers_start"], q1["mrr"], q1["customers"], q1["new_mrr"],
            q1["expansion_mrr"], q1["contraction_mrr"], q1["net_new_mrr"], q1["new_customers"],
            q1["contraction_arr"]) == (3, 0.0, 0, 170.0, 2, 150.0, 50.0, 30.0, 170.0, 2, 360.0)
    for rate in ("mrr_growth", "logo_churn", "gross_mrr_churn", "net_mrr_churn", "grr", "nrr"):
        assert math.isnan(q1[rate]), rate  # nobody paid at the start of the first quarter
    # Q2 from March (A 120, B 50) to May (A 80 after churning in April and coming back, B 50, C new 20):
    # the flows count A's churn and reactivation; compared start to end, A lost 40 and nobody is at 0
    assert (q2["months"], q2["mrr_start"], q2["customers_start"], q2["mrr"], q2["customers"], q2["churned_mrr"],
            q2["reactivation_mrr"], q2["net_new_mrr"], q2["churned_customers"], q2["reactivated_customers"],
            q2["churned_arr"]) == (2, 170.0, 2, 150.0, 3, 120.0, 80.0, -20.0, 1, 1, 1440.0)
    assert (q2["base_customers_lost"], q2["base_mrr_lost"], q2["base_mrr_end"]) == (0, 40.0, 130.0)
    assert_close(q2["mrr_growth"], -20 / 170)
    assert_close(q2["logo_churn"], 0.0)
    assert_close(q2["gross_mrr_churn"], 40 / 170)
    assert_close(q2["net_mrr_churn"], 40 / 170)
    assert_close(q2["grr"], 130 / 170)
    assert_close(q2["nrr"], 130 / 170)
    assert_close(q2["quick_ratio"], 100 / 120)


def test_a_customer_who_joins_and_leaves_inside_a_quarter_is_not_churn_of_its_base():
    """Two customers at the start, three who join and leave inside the quarter: logo churn 1/2, not 4/2 = 200%."""
    rows = [("A", "2024-03-01", 100), ("A", "2024-04-01", 100), ("A", "2024-05-01", 100), ("A", "2024-06-01", 0),
            ("B", "2024-03-01", 50), ("B", "2024-04-01", 50), ("B", "2024-05-01", 50), ("B", "2024-06-01", 60)]
    rows += [(c, "2024-04-01", 30) for c in "CDE"] + [(c, "2024-05-01", 0) for c in "CDE"]
    cm = pd.DataFrame({"customer_id": [r[0] for r in rows], "month": pd.to_datetime([r[1] for r in rows]),
                       "mrr": [float(r[2]) for r in rows]})
    q = mrr_by_quarter(mrr_by_month(cm), cm).set_index("quarter")
    q2 = q.loc["2024-Q2"]
    assert (q2["churned_customers"], q2["churned_mrr"]) == (4, 190.0)  # the monthly flows: A, C, D, E
    assert (q2["customers_start"], q2["base_customers_lost"], q2["base_mrr_lost"]) == (2, 1, 100.0)
    assert_close(q2["logo_churn"], 1 / 2)
    assert_close(q2["gross_mrr_churn"], 100 / 150)
    assert_close(q2["nrr"], 60 / 150)  # B pays 60 of the 150 the base paid: 50 -> 60, A 100 -> 0
    assert_close(q2["grr"], 50 / 150)  # B's expansion does not make up for A in GRR
    assert_close(q2["net_mrr_churn"], 90 / 150)


def test_base_retention_by_hand_and_with_nobody_at_the_start():
    """base_retention follows the customers paying at each start to the end; a start before the data has nobody."""
    cm = fixture_customer_months()
    base = base_retention(cm, pd.DatetimeIndex(["2024-02-01", "2023-12-01", "2024-03-01"]),
                          pd.DatetimeIndex(["2024-05-01", "2024-03-01", "2024-04-01"]))
    assert tuple(base.columns) == BASE_COLUMNS
    # Feb (A 150, B 50) -> May (A 80, B 50): nobody at 0, A lost 70
    assert tuple(base.iloc[0]) == (2, 200.0, 0, 70.0, 0.0, 130.0)
    assert tuple(base.iloc[1]) == (0, 0.0, 0, 0.0, 0.0, 0.0)
    # Mar (A 120, B 50) -> Apr (A 0, B 50): A lost
    assert tuple(base.iloc[2]) == (2, 170.0, 1, 120.0, 0.0, 50.0)


def test_trailing_twelve_month_nrr_and_grr_by_hand():
    """NRR and GRR (12 months) follow the customers paying 12 snapshots earlier; empty before 12 months of history."""
    def months(customer: str, first: str, last: str, mrr: float) -> list[tuple[str, pd.Timestamp, float]]:
        return [(customer, m, mrr) for m in pd.date_range(first, last, freq="MS")]

    rows = (months("A", "2023-01", "2023-12", 100) + months("A", "2024-01", "2024-05", 130)
            + months("B", "2023-01", "2023-12", 50) + months("C", "2023-06", "2024-05", 40)
            + months("C", "2024-06", "2024-06", 20) + months("D", "2024-01", "2024-06", 500))
    cm = pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])  # A and B are at 0 after their last month
    mm = mrr_by_month(cm).set_index("month")
    assert mm["nrr_12m"].loc[:"2023-12-01"].isna().all() and mm["grr_12m"].loc[:"2023-12-01"].isna().all()
    # Jan 2024 against Jan 2023: A 100 -> 130, B 50 -> 0 (D, new, is not of the base): NRR 130 / 150, GRR 100 / 150
    assert_close(mm.loc["2024-01-01", "nrr_12m"], 130 / 150)
    assert_close(mm.loc["2024-01-01", "grr_12m"], 100 / 150)
    # Jun 2024 against Jun 2023 (A 100, B 50, C 40 = 190): A and B at 0, C down to 20
    assert_close(mm.loc["2024-06-01", "nrr_12m"], 20 / 190)
    assert_close(mm.loc["2024-06-01", "grr_12m"], 20 / 190)


def test_check_identity_names_the_broken_month():
    """A month whose MRR disagrees with its movements by one cent is reported in a sentence."""
    mm = mrr_by_month(fixture_customer_months())
    mm.loc[2, "mrr"] = 170.01
    problems = check_identity(mm)
    assert len(problems) == 2  # March itself, and April whose previous MRR is now off
    assert problems[0].startswith("2024-03: MRR 170.01 but previous 200.00")


# ----------------------------------------------------------------------------- the shared log


def test_shared_log_identity_holds_every_month(shared_customer_months):
    """On the shared log the MRR identity holds to the cent in every month from 2016-08 to 2017-10, with no gaps."""
    mm = mrr_by_month(shared_customer_months)
    assert check_identity(mm) == []
    assert list(mm["month"]) == list(pd.date_range("2016-08-01", "2017-10-01", freq="MS"))
    assert (mm["mrr"] > 0).all()
    q = mrr_by_quarter(mm, shared_customer_months)
    assert q["net_new_mrr"].sum() == pytest.approx(mm["mrr"].iloc[-1], abs=0.001)
    assert q["mrr"].iloc[-1] == mm["mrr"].iloc[-1]
    assert list(q["mrr_start"].iloc[1:]) == list(q["mrr"].iloc[:-1])


# ----------------------------------------------------------------------------- properties

AMOUNTS = st.sampled_from([-20.0, 0.0, 0.04, 5.0, 18.0, 36.0, 150.0, 999.99, 1000.0, 2400.0])
START = pd.Timestamp("2023-01-01", tz="UTC").value
HOUR = 3_600 * 10**9


@st.composite
def payment_logs(draw) -> pd.DataFrame:
    """Charge sets mixing monthly series (renewals on or near the slot) and stray charges, with zeros and refunds."""
    rows: list[tuple[str, int, float]] = []
    for _ in range(draw(st.integers(0, 4))):
        customer = draw(st.sampled_from("abcde"))
        anchor = START + draw(st.integers(0, 400 * 24)) * HOUR + draw(st.integers(0, 3_599)) * 10**9
        count = draw(st.integers(1, 8))
        amount = draw(AMOUNTS)
        jitter = draw(st.lists(st.integers(-3 * HOUR, 3 * HOUR), min_size=count, max_size=count))
        times = add_months(np.full(count, anchor), np.arange(count)) + np.array(jitter)
        rows += [(customer, int(t), amount) for t in times]
    for _ in range(draw(st.integers(0, 12))):
        t = START + draw(st.integers(0, 500 * 24 * 3_600)) * 10**9
        rows.append((draw(st.sampled_from("abcde")), t, draw(AMOUNTS)))
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "paid_at": pd.to_datetime(np.array([r[1] for r in rows], dtype=np.int64), utc=True).astype(
                "datetime64[ns, UTC]"),
            "amount": [r[2] for r in rows],
        }
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=payment_logs(),
    timezone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo"]),
    cut=st.floats(0.3, 1.0),
    rules=st.builds(BillingRules, renewal_tolerance_hours=st.sampled_from([0.5, 2.0, 6.0]),
                    prorations=st.sampled_from(["normalize", "share", "ignore"])),
)
def test_properties_on_generated_logs(log, timezone, cut, rules):
    """For any charge set: a valid schedule, one row per customer-month, months without gaps up to as_of, the identity."""
    positive = log.loc[log["amount"] > 0, "paid_at"]
    if positive.empty:
        as_of = utc("2024-01-01")
    else:
        lo, hi = positive.min().value, positive.max().value
        as_of = pd.Timestamp(int(lo + (hi - lo) * cut), tz="UTC")
    sched, billing = infer_schedule(log.loc[log["paid_at"] <= as_of], rules)
    assert check_schedule(sched) == []
    assert set(sched["ref"]) <= set(billing["ref"])
    cm = customer_months(sched, as_of, timezone)
    assert not cm.duplicated(["customer_id", "month"]).any()
    mm = mrr_by_month(cm)
    assert check_identity(mm) == []
    if mm.empty:
        return
    as_of_month = as_of.tz_convert(timezone).tz_localize(None).to_period("M").to_timestamp()
    assert list(mm["month"]) == list(pd.date_range(mm["month"].iloc[0], as_of_month, freq="MS"))
    assert cm["month"].max() == as_of_month
    assert (mm["customers"] >= 0).all()
    for column in ("logo_churn", "gross_mrr_churn", "quick_ratio", "mrr_growth"):
        assert not np.isinf(mm[column]).any()


# ----------------------------------------------------------------------------- tabs


MRR_TAB = [
    "Month", "Period", "MRR", "Customers", "ARPA", "New MRR", "Expansion MRR", "Contraction MRR", "Churned MRR",
    "Reactivation MRR", "Net new MRR", "New customers", "Reactivated customers", "Churned customers", "MRR growth %",
    "New MRR %", "Expansion MRR %", "Contraction MRR %", "Churned MRR %", "Logo churn %", "Gross MRR churn %",
    "Net MRR churn %", "Quick ratio", "NRR (12 months)", "GRR (12 months)",
]


def payments_context(dataset: str = "payments") -> Context:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c"],
            "paid_at": pd.to_datetime(["2024-01-05 10:00", "2024-02-05 10:00", "2024-03-05 10:00", "2024-01-20",
                                       "2024-01-25"], utc=True, format="ISO8601").astype("datetime64[ns, UTC]"),
            "amount": [30.0, 30.0, 30.0, 12.0, 0.0],
        }
    )
    sched, billing = infer_schedule(frame, BillingRules())
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "seats": [2.0, None, 1.0, 3.0],
                              "sector": ["Retail", "Banking", None, "Retail"]})
    return Context(dataset=dataset, as_of=utc("2024-03-20"), params=Params(), schedule=sched, customers=customers,
                   charges=frame if dataset == "payments" else None, billing=billing if dataset == "payments" else None)


def test_tab_declarations():
    """The MRR tabs are declared with their exact column names, each column with a one-sentence definition."""
    tabs = {t.name: t for t in TABS}
    assert list(tabs) == ["MRR", "MRR by quarter", "Movements", "Customers", "Billing"]
    assert tabs["MRR"].column_names == MRR_TAB
    assert all(c.description.endswith(".") for t in TABS for c in t.columns)
    assert tabs["Billing"].datasets == frozenset({"payments"})
    chart_columns = {s for chart in tabs["MRR"].charts for s in (chart.x, *chart.series)}
    assert chart_columns <= set(MRR_TAB)


def test_tabs_build_on_a_payment_log():
    """Every tab builds on a small payment log with its declared columns; Customers carries status and attributes."""
    ctx = payments_context()
    tables = {t.name: build_table(t, ctx) for t in TABS}
    assert list(tables["MRR"].frame["MRR"]) == [42.0, 30.0, 30.0]
    customers = tables["Customers"].frame.set_index("Customer")
    assert customers.loc["a", "Status"] == "active"
    assert customers.loc["b", "Status"] == "churned"
    assert customers.loc["d", "Status"] == "never active"
    assert customers.loc["a", "Lifetime revenue"] == 90.0
    assert list(customers.columns[-2:]) == ["Seats", "Sector"]
    assert [c.kind for c in tables["Customers"].columns[-2:]] == ["int", "text"]  # numbers stay numbers
    assert list(tables["Billing"].frame["Kind"]) == ["monthly series", "monthly term"]


def test_contract_data_skips_billing_and_sums_snapshots_for_lifetime_revenue():
    """Without charges the Billing tab is skipped and lifetime revenue is the sum of the month snapshots."""
    ctx = payments_context(dataset="contracts")
    billing = next(t for t in TABS if t.name == "Billing")
    assert ctx.skip_reason(billing) is not None
    customers = build_table(next(t for t in TABS if t.name == "Customers"), ctx).frame.set_index("Customer")
    assert customers.loc["a", "Lifetime revenue"] == 90.0
    assert customers.loc["b", "Lifetime revenue"] == 12.0
