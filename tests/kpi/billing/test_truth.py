"""The inference against the truth: generated logs whose true schedule is known (sync.samples.payments).

Seeds are drawn by hypothesis (derandomized, so CI sees the same ones), away from the seeds the rules were looked
at with (1 and 2, benchmarks/accuracy.py's defaults). The bounds are the issue's targets where the product meets
them on every seed tried (the final reading; churn), and a looser guard where it does not (a month read at its own
month end: see benchmarks/results.md).
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.billing import infer
from kpi.mrr import check_identity, customer_months, movements, mrr_by_month
from kpi.params import BillingRules
from sync.samples.payments import SampleLog, generate_with_truth

CUSTOMERS = 3000
END = "2017-12-31 23:59:59"
MONTH_TARGET = 0.02
CHURN_TARGET = 0.05
MONTH_END_GUARD = 0.06  # a month's own month-end reading, from the 4th month on (the target, 2%, is not met yet;
# worst over the 12 logs of benchmarks/accuracy.py: +5.0%)
NO_SEATS_CHURN_GUARD = 0.10  # churned MRR without a seat column (the target, 5%, is not met: -1.7% to -7.4% on
# seeds 1-6, -9.5% on held-out seed 14; benchmarks/results.md)

SEEDS = st.integers(min_value=100, max_value=10**6)
SLOW = settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def charges_of(log: SampleLog) -> tuple[pd.DataFrame, pd.Series | None]:
    """The log as the job reads it: charges [customer_id, paid_at, amount] and seats by customer (None: no column)."""
    inv = log.invoices
    charges = pd.DataFrame({
        "customer_id": inv["customerId"].astype(str),
        "paid_at": pd.to_datetime(inv["timestampPaid"], unit="s", utc=True).astype("datetime64[ns, UTC]"),
        "amount": inv["amountPaid"].astype("float64"),
    })
    seats = None
    if "nrSeats" in log.customers.columns:
        seats = pd.Series(log.customers["nrSeats"].astype("float64").to_numpy(),
                          index=log.customers["customerId"].astype(str))
    return charges, seats


def tables(schedule: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    cm = customer_months(schedule, as_of, "UTC")
    return cm, mrr_by_month(cm)


def errors(job: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """(job - truth) / truth of MRR per month (month index)."""
    j, t = job.set_index("month")["mrr"], truth.set_index("month")["mrr"]
    return (j - t) / t


def churned(cm: pd.DataFrame) -> tuple[float, int]:
    mv = movements(cm)
    churn = mv.loc[mv["movement"] == "churn"]
    return float(churn["mrr_prev"].sum()), len(churn)


@SLOW
@given(seed=SEEDS, scheme=st.sampled_from(["seat10", "seat12"]))
def test_the_final_reading_is_within_the_targets(seed: int, scheme: str) -> None:
    """Read whole, a 3,000-customer log keeps the identity, every month from the 4th is within 2% of the truth, and
    churned MRR and churned customers over two years are within 5%."""
    log = generate_with_truth(CUSTOMERS, seed, end=END, scheme=scheme)
    charges, seats = charges_of(log)
    as_of = charges.loc[charges["amount"] > 0, "paid_at"].max()
    job_cm, job = tables(infer(charges, BillingRules(), as_of=as_of, seats=seats).schedule, as_of)
    truth_cm, truth = tables(log.truth, as_of)
    assert check_identity(job) == []
    worst = errors(job, truth).iloc[3:].abs().max()
    assert worst <= MONTH_TARGET, f"{scheme} seed {seed}: a month {worst:.1%} off the truth"
    (job_mrr, job_n), (true_mrr, true_n) = churned(job_cm), churned(truth_cm)
    assert abs(job_mrr / true_mrr - 1) <= CHURN_TARGET, f"churned MRR {job_mrr:,.0f} vs {true_mrr:,.0f}"
    assert abs(job_n / true_n - 1) <= CHURN_TARGET, f"churned customers {job_n} vs {true_n}"


@settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_without_a_seat_column_the_final_reading_still_holds_the_months(seed: int) -> None:
    """With no seat column at all (amount rules and what prorations teach), every month from the 4th is within 2%
    of the truth and the identity holds; churned MRR within 10% (a guard: the 5% target is not met there,
    benchmarks/results.md) and churned customers within 5%."""
    log = generate_with_truth(CUSTOMERS, seed, end=END, scheme="noseats")
    charges, seats = charges_of(log)
    assert seats is None
    as_of = charges.loc[charges["amount"] > 0, "paid_at"].max()
    job_cm, job = tables(infer(charges, BillingRules(), as_of=as_of).schedule, as_of)
    truth_cm, truth = tables(log.truth, as_of)
    assert check_identity(job) == []
    assert errors(job, truth).iloc[3:].abs().max() <= MONTH_TARGET
    (job_mrr, job_n), (true_mrr, true_n) = churned(job_cm), churned(truth_cm)
    assert abs(job_mrr / true_mrr - 1) <= NO_SEATS_CHURN_GUARD, f"churned MRR {job_mrr:,.0f} vs {true_mrr:,.0f}"
    assert abs(job_n / true_n - 1) <= CHURN_TARGET, f"churned customers {job_n} vs {true_n}"


@settings(max_examples=1, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS, scheme=st.sampled_from(["seat10", "seat12"]))
def test_each_month_read_at_its_own_month_end_stays_near_the_truth(seed: int, scheme: str) -> None:
    """Read at each month end with only the charges paid by then (the hourly worker), every month from the 4th keeps
    the identity and stays within 6% of the truth at that instant (a guard; the 2% target is reported, not met)."""
    log = generate_with_truth(CUSTOMERS, seed, end=END, scheme=scheme)
    charges, seats = charges_of(log)
    for month in pd.period_range("2016-04", "2017-11", freq="M"):
        at = pd.Timestamp(month.end_time.floor("s"), tz="UTC")
        _, job = tables(infer(charges.loc[charges["paid_at"] <= at], BillingRules(), as_of=at, seats=seats).schedule,
                        at)
        _, truth = tables(log.truth, at)
        assert check_identity(job) == []
        error = errors(job, truth).iloc[-1]
        assert abs(error) <= MONTH_END_GUARD, f"{scheme} seed {seed}: {month} read at its end {error:+.1%}"


YOUNG_NO_SEATS_GUARD = {1: 0.45, 2: 0.15, 3: 0.15, 4: 0.15}  # months 1-4 read at their month ends, no seat column.
# On 14 logs (benchmarks/accuracy.py --schemes noseats, seeds 1-6 and 11-18), stop 17 read month 1 +22% to +116%,
# month 2 up to +56%; with what a young log's own renewals teach (docs/billing.md items 17-18): month 1 -16% to +37%,
# months 2-4 within -12.2% (seed 16's 2016-04, as before) and +11.8%


@settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_without_a_seat_column_a_young_log_reads_its_first_months_near_the_truth(seed: int) -> None:
    """No seat column, each of the first four months read at its own month end: amounts paired while none has lapsed
    yet and amounts that never renewed a month later keep pending years from being read as a month at full price."""
    log = generate_with_truth(CUSTOMERS, seed, end=END, scheme="noseats")
    charges, _ = charges_of(log)
    for i, month in enumerate(pd.period_range("2016-01", "2016-04", freq="M"), start=1):
        at = pd.Timestamp(month.end_time.floor("s"), tz="UTC")
        _, job = tables(infer(charges.loc[charges["paid_at"] <= at], BillingRules(), as_of=at).schedule, at)
        _, truth = tables(log.truth, at)
        assert check_identity(job) == []
        error = errors(job, truth).iloc[-1]
        assert abs(error) <= YOUNG_NO_SEATS_GUARD[i], f"noseats seed {seed}: {month} read at its end {error:+.1%}"
