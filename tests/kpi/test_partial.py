"""The partial period (metrics.md 4): the month and quarter of as_of are marked, and left out of averages and ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi.cohorts import cohort_matrices, cohort_tables, retention_by_age
from kpi.economics import unit_economics
from kpi.mrr import mrr_by_month, period_labels
from kpi.params import EconomicsParams
from kpi.tables import all_tabs, build_table
from tests.kpi.datasets import dataset_context
from tests.kpi.test_cohorts import fixture_customer_months

APRIL = pd.Timestamp("2024-04-01")


def test_period_labels_mark_the_month_and_quarter_of_as_of():
    """The month and quarter of as_of are partial, named with as_of's day; at their last second they are complete."""
    months = pd.DatetimeIndex(["2024-04-01", "2024-05-01", "2024-06-01"])
    mid_june = pd.Timestamp("2024-06-14 08:00", tz="UTC")
    assert list(period_labels(months, mid_june, "UTC")) == ["complete", "complete", "partial, to 2024-06-14"]
    end_june = pd.Timestamp("2024-06-30 23:59:59", tz="UTC")
    assert list(period_labels(months, end_june, "UTC")) == ["complete"] * 3
    quarters = pd.DatetimeIndex(["2024-01-01", "2024-04-01"])
    assert list(period_labels(quarters, end_june, "UTC", quarterly=True)) == ["complete", "complete"]
    end_may = pd.Timestamp("2024-05-31 23:59:59", tz="UTC")  # May is over, the quarter is not
    assert list(period_labels(quarters, end_may, "UTC", quarterly=True)) == ["complete", "partial, to 2024-05-31"]
    # the last second of June in Paris is 21:59:59 UTC: complete there, not in UTC
    paris_end = pd.Timestamp("2024-06-30 21:59:59", tz="UTC")
    assert period_labels(months, paris_end, "Europe/Paris")[-1] == "complete"
    assert period_labels(months, paris_end, "UTC")[-1] == "partial, to 2024-06-30"


def test_partial_month_cells_are_left_out_of_the_cohorts_and_their_pooled_retention():
    """With April partial, each cohort's April cell is empty and Retention by age pools complete months only."""
    cm = fixture_customer_months()
    whole = cohort_matrices(cm, APRIL)
    part = cohort_matrices(cm, APRIL, partial=True)
    assert list(part.logos.columns) == [0, 1, 2]  # age 3 was read in April only
    assert part.logos.loc["2024-01-01"].tolist() == whole.logos.loc["2024-01-01", [0, 1, 2]].tolist()
    assert np.isnan(part.logos.loc["2024-02-01", 2]) and not np.isnan(whole.logos.loc["2024-02-01", 2])
    assert part.logos.loc["2024-04-01"].isna().all()  # April's own cohort: nothing read yet
    assert part.size.equals(whole.size) and part.start_mrr.equals(whole.start_mrr)  # April's starters so far
    logos, _ = cohort_tables(cm, APRIL, part)
    assert logos["Cohort size"].tolist() == [2, 1, 1, 0]
    by_age = retention_by_age(cm, APRIL, part).set_index("Age")
    # age 1: Jan cohort (a, b) -> a only in Feb; Feb cohort (d) -> d in Mar; Mar's age 1 is April: left out
    assert (by_age.loc[1, "Cohorts"], by_age.loc[1, "Customers"], by_age.loc[1, "Logo retention"]) == (2, 3, 2 / 3)
    assert 3 not in by_age.index


def test_partial_month_ratios_of_unit_economics_are_empty():
    """In a partial month, CAC, payback, trailing churn, LTV and LTV:CAC are empty; spend and new customers stay."""
    cm = fixture_customer_months()
    mm = mrr_by_month(cm)
    params = EconomicsParams(acquisition_spend_per_month=30, churn_window_months=1)
    whole = unit_economics(mm, cm, params, APRIL)
    part = unit_economics(mm, cm, params, APRIL, cohort_matrices(cm, APRIL, partial=True), partial=True)
    ratios = ["CAC", "CAC payback (months)", "Logo churn (trailing)", "LTV", "LTV:CAC"]
    assert part.iloc[-1][ratios].isna().all() and whole.iloc[-1][["Logo churn (trailing)"]].notna().all()
    kept = ["Month", "Acquisition spend", "New customers", "New MRR per new customer", "ARPA"]
    pd.testing.assert_frame_equal(part[kept], whole[kept])
    pd.testing.assert_frame_equal(part.iloc[:-1, :-1], whole.iloc[:-1, :-1])  # complete months unchanged


@pytest.mark.parametrize("name", ["shared", "contracts sample", "generated", "contracts fixture"])
def test_every_month_and_quarter_table_marks_the_partial_period(name: str) -> None:
    """Every published table with a Month, Quarter or Cohort column says which of its rows are partial, and only those."""
    ctx = dataset_context(name)
    day = ctx.as_of.tz_convert(ctx.timezone).strftime("%Y-%m-%d")
    current = ctx.as_of.tz_convert(ctx.timezone).tz_localize(None).to_period("M")
    checked = []
    for tab in all_tabs():
        if ctx.skip_reason(tab) or tab.name in ("About", "Sync status", "Data quality"):
            continue
        frame = build_table(tab, ctx).frame
        key = next((c for c in ("Month", "Cohort", "Quarter") if c in frame.columns), None)
        if key is None:
            continue
        checked.append(tab.name)
        assert frame.columns[1] == "Period", tab.name
        if key == "Quarter":
            in_current = frame["Quarter"] == f"{current.year}-Q{current.quarter}"
            done = ctx.as_of == (current.asfreq("Q").end_time.tz_localize(ctx.timezone).floor("s"))
        else:
            in_current = pd.DatetimeIndex(frame[key]).to_period("M") == current
            done = not ctx.partial
        expected = np.where(in_current & (not done), f"partial, to {day}", "complete")
        assert frame["Period"].tolist() == expected.tolist(), tab.name
    assert {"MRR", "MRR by quarter", "Movements", "Cohorts (logos)", "Cohorts (revenue)", "Unit economics"} <= set(checked)
    if ctx.dataset == "contracts":
        assert {"Portfolio", "Solutions", "Projects", "Non-recurring revenue"} <= set(checked)


def test_shared_log_october_no_longer_reads_like_a_whole_month():
    """On the shared log (as_of 2017-10-17): October is marked partial, its CAC is empty, the cohorts stop at September."""
    ctx = dataset_context("shared")
    tabs = {t.name: t for t in all_tabs()}
    mrr = build_table(tabs["MRR"], ctx).frame.set_index("Month")
    assert mrr.loc["2017-10-01", "Period"] == "partial, to 2017-10-17"
    economics = build_table(tabs["Unit economics"], ctx).frame.set_index("Month")
    assert np.isnan(economics.loc["2017-10-01", "CAC"]) and economics.loc["2017-09-01", "CAC"] > 0
    logos = build_table(tabs["Cohorts (logos)"], ctx).frame.set_index("Cohort")
    assert np.isnan(logos.loc["2017-09-01", "Month 1"])  # was 100.0%: October read on the 17th
    assert logos.loc["2017-09-01", "Month 0"] == 1.0
