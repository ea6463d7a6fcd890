"""Cohort tables (metrics.md 5) on a hand-computed fixture and on the shared payment log."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi.cohorts import as_of_month, cohort_tables, retention_by_age
from kpi.tables import Context, RunInfo

NAN = float("nan")
M = pd.Timestamp


def fixture_customer_months() -> pd.DataFrame:
    """Four customers over 2024-01 .. 2024-04 (snapshots with MRR > 0 only).

    a: 10, 20, 20, 20    b: 30, -, 30, -  (churns, comes back, churns)
    c:  -,  -,  5,  5    d:  -, 40, 40, 20
    """
    rows = [
        ("2024-01", "a", 10.0), ("2024-02", "a", 20.0), ("2024-03", "a", 20.0), ("2024-04", "a", 20.0),
        ("2024-01", "b", 30.0), ("2024-03", "b", 30.0),
        ("2024-03", "c", 5.0), ("2024-04", "c", 5.0),
        ("2024-02", "d", 40.0), ("2024-03", "d", 40.0), ("2024-04", "d", 20.0),
    ]
    return pd.DataFrame(
        {"month": [M(m + "-01") for m, _, _ in rows], "customer_id": [c for _, c, _ in rows],
         "mrr": [v for _, _, v in rows]}
    )


def assert_rows(frame: pd.DataFrame, expected: list[list[float]]) -> None:
    got = frame.to_numpy(dtype="float64")
    np.testing.assert_allclose(got, np.array(expected, dtype="float64"), equal_nan=True)


def test_logo_cohorts_by_hand():
    """Logo retention: active customers of the cohort at each age / cohort size; empty after as_of and for size 0."""
    logos, _ = cohort_tables(fixture_customer_months(), M("2024-04-01"))
    assert list(logos.columns) == ["Cohort", "Cohort size", "Starting MRR", "0", "1", "2", "3"]
    assert list(logos["Cohort"]) == [M("2024-01-01"), M("2024-02-01"), M("2024-03-01"), M("2024-04-01")]
    assert list(logos["Cohort size"]) == [2, 1, 1, 0]
    assert list(logos["Starting MRR"]) == [40.0, 40.0, 5.0, 0.0]
    assert_rows(logos[["0", "1", "2", "3"]], [
        [1.0, 0.5, 1.0, 0.5],   # a, b | a | a, b (b back) | a
        [1.0, 1.0, 1.0, NAN],   # d
        [1.0, 1.0, NAN, NAN],   # c
        [NAN, NAN, NAN, NAN],   # nobody started in April: empty cells, not 0
    ])


def test_revenue_cohorts_by_hand():
    """Revenue retention: the cohort's MRR at each age / its starting MRR, above 100% after a reactivation."""
    _, revenue = cohort_tables(fixture_customer_months(), M("2024-04-01"))
    assert list(revenue.columns[:3]) == ["Cohort", "Cohort size", "Starting MRR"]
    assert_rows(revenue[["0", "1", "2", "3"]], [
        [1.0, 20 / 40, 50 / 40, 20 / 40],
        [1.0, 1.0, 0.5, NAN],
        [1.0, 1.0, NAN, NAN],
        [NAN, NAN, NAN, NAN],
    ])


def test_cells_after_as_of_are_empty_even_with_later_snapshots():
    """With as_of in March, April snapshots are ignored and the table stops at March."""
    logos, revenue = cohort_tables(fixture_customer_months(), M("2024-03-01"))
    assert list(logos.columns[3:]) == ["0", "1", "2"]
    assert_rows(logos[["0", "1", "2"]], [[1.0, 0.5, 1.0], [1.0, 1.0, NAN], [1.0, NAN, NAN]])
    assert revenue.shape == logos.shape


def test_zero_mrr_rows_do_not_start_a_cohort():
    """A snapshot row with MRR 0 neither starts a cohort nor counts as retained."""
    cm = pd.concat([fixture_customer_months(),
                    pd.DataFrame({"month": [M("2024-02-01")], "customer_id": ["b"], "mrr": [0.0]})])
    logos, _ = cohort_tables(cm, M("2024-04-01"))
    assert logos.loc[0, "1"] == 0.5


def test_no_revenue_gives_empty_tables():
    """No customer ever had MRR: both tables have the declared columns and no rows."""
    logos, revenue = cohort_tables(fixture_customer_months().iloc[:0], M("2024-04-01"))
    assert list(logos.columns) == ["Cohort", "Cohort size", "Starting MRR"] and logos.empty and revenue.empty


def test_retention_by_age_pools_cohorts_by_hand():
    """Pooled retention at age n sums retained customers and MRR over the cohorts that reached n."""
    by_age = retention_by_age(fixture_customer_months(), M("2024-04-01"))
    assert list(by_age.columns) == ["Age", "Cohorts", "Customers", "Logo retention", "Revenue retention"]
    assert list(by_age["Age"]) == [0, 1, 2, 3]
    assert list(by_age["Cohorts"]) == [3, 3, 2, 1]
    assert list(by_age["Customers"]) == [4, 4, 3, 2]
    np.testing.assert_allclose(by_age["Logo retention"], [1.0, 3 / 4, 3 / 3, 1 / 2])
    np.testing.assert_allclose(by_age["Revenue retention"], [1.0, 65 / 85, 70 / 80, 20 / 40])


def test_as_of_month_uses_the_timezone():
    """as_of just after midnight UTC on the 1st is still the previous month in a zone west of UTC."""
    as_of = pd.Timestamp("2024-05-01 02:00", tz="UTC")
    assert as_of_month(as_of, "UTC") == M("2024-05-01")
    assert as_of_month(as_of, "America/New_York") == M("2024-04-01")


# --- the shared payment log -------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared" / "data" / "payments-log"


@functools.cache
def load_shared_context() -> Context:
    """The run's Context for the shared payment log (config/shared-payments-log.toml), built once per session."""
    from sync.run import build_context, load_dataset, resolve_as_of
    from sync.settings import load_settings

    settings = load_settings(REPO / "config" / "shared-payments-log.toml")
    loaded = load_dataset(settings)
    return build_context(settings, loaded, resolve_as_of(settings, loaded, None), RunInfo())


def shared_context_or_skip() -> Context:
    """The shared log's Context; skips when the data or the payment-log modules are not there."""
    if not SHARED.is_dir():
        pytest.skip(f"shared payment log not found at {SHARED}")
    for module in ("kpi.billing", "kpi.mrr"):
        pytest.importorskip(module, reason=f"{module} not written yet")
    return load_shared_context()


def test_shared_log_cohort_sizes():
    """On the shared log the cohort sizes are pinned and add up to every customer who ever had MRR."""
    ctx = shared_context_or_skip()
    logos, revenue = cohort_tables(ctx.customer_months, as_of_month(ctx.as_of, ctx.timezone))
    sizes = dict(zip(logos["Cohort"].dt.strftime("%Y-%m"), logos["Cohort size"], strict=True))
    assert sizes == EXPECTED_SHARED_SIZES
    active = ctx.customer_months.loc[ctx.customer_months["mrr"] > 0, "customer_id"].nunique()
    assert sum(sizes.values()) == active == 548
    assert (logos["0"].dropna() == 1.0).all() and (revenue["0"].dropna() == 1.0).all()
    assert logos.iloc[-1, 4:].isna().all()  # the as_of month's cohort has only age 0


# New customers per month on the shared log (548 of its 550 customers ever had MRR).
EXPECTED_SHARED_SIZES: dict[str, int] = {
    "2016-08": 15, "2016-09": 29, "2016-10": 29, "2016-11": 26, "2016-12": 33, "2017-01": 35, "2017-02": 51,
    "2017-03": 48, "2017-04": 40, "2017-05": 31, "2017-06": 43, "2017-07": 49, "2017-08": 47, "2017-09": 45,
    "2017-10": 27,
}
