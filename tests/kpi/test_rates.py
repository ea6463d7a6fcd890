"""Period rates (metrics.md 4): measured on the customers present at the period's start, never above 100% for churn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.mrr import mrr_by_month, mrr_by_quarter, to_cents
from tests.kpi.datasets import DATASETS, dataset_context

MONTHS = pd.date_range("2023-01-01", periods=30, freq="MS")


def assert_rates_possible(mm: pd.DataFrame, q: pd.DataFrame) -> None:
    """Logo and gross MRR churn within [0, 1] for every month, quarter and trailing 12 months; the base adds up."""
    for frame, columns in ((mm, ("logo_churn", "gross_mrr_churn")), (q, ("logo_churn", "gross_mrr_churn", "grr"))):
        for column in columns:
            values = frame[column].dropna()
            assert ((values >= 0) & (values <= 1 + 1e-12)).all(), (column, values.max())
    grr = mm["grr_12m"].dropna()
    assert ((grr >= -1e-12) & (grr <= 1 + 1e-12)).all()
    assert (mm["nrr_12m"].dropna() >= 0).all() and (q["nrr"].dropna() >= 0).all()
    assert (q["base_customers_lost"] <= q["customers_start"]).all()
    assert (to_cents(q["base_mrr_lost"]) <= to_cents(q["mrr_start"])).all()
    assert (to_cents(q["mrr_start"].iloc[1:]) == to_cents(q["mrr"].iloc[:-1])).all()
    both = q["nrr"].notna()
    np.testing.assert_allclose(q.loc[both, "net_mrr_churn"], 1 - q.loc[both, "nrr"], atol=1e-12)


@st.composite
def customer_months(draw) -> pd.DataFrame:
    """Up to 12 customers over up to 30 months, each paying from its first month with gaps, rises and falls."""
    rows = []
    for customer in range(draw(st.integers(1, 12))):
        first = draw(st.integers(0, len(MONTHS) - 1))
        values = draw(st.lists(st.sampled_from([0.0, 0.0, 0.004, 10.0, 18.0, 25.5, 99.99, 400.0]),
                               min_size=1, max_size=len(MONTHS) - first))
        rows += [(f"c{customer}", MONTHS[first + i], v) for i, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cm=customer_months())
def test_no_period_churn_rate_passes_one_hundred_percent(cm: pd.DataFrame) -> None:
    """For any customer months: monthly, quarterly and trailing-12-month logo and gross churn stay within 0-100%."""
    if not (cm["mrr"] > 0).any():
        return
    mm = mrr_by_month(cm)
    assert_rates_possible(mm, mrr_by_quarter(mm, cm))


@pytest.mark.parametrize("name", DATASETS)
def test_no_period_churn_rate_passes_one_hundred_percent_on_the_datasets(name: str) -> None:
    """On every shipped dataset, the shared log and a generated log, no logo or gross churn rate passes 100%."""
    ctx = dataset_context(name)
    assert_rates_possible(ctx.mrr_by_month, ctx.mrr_by_quarter)
