"""Unit economics (metrics.md 6) on a hand-computed fixture and on the shared payment log."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.economics import COLUMNS, spend_by_month, unit_economics
from kpi.params import EconomicsParams
from tests.kpi.test_cohorts import fixture_customer_months, shared_context_or_skip

NAN = float("nan")
M = pd.Timestamp


def fixture_mrr_by_month() -> pd.DataFrame:
    """The MRR table of tests.kpi.test_cohorts.fixture_customer_months, computed by hand.

    Jan: a 10 + b 30 new.           Feb: d 40 new, a +10 expansion, b 30 churned.
    Mar: c 5 new, b 30 reactivated. Apr: d -20 contraction, b 30 churned.
    """
    months = pd.date_range("2024-01-01", periods=4, freq="MS")
    mm = pd.DataFrame(
        {
            "month": months,
            "mrr": [40.0, 60.0, 95.0, 45.0],
            "customers": [2, 2, 4, 3],
            "new_mrr": [40.0, 40.0, 5.0, 0.0],
            "expansion_mrr": [0.0, 10.0, 0.0, 0.0],
            "contraction_mrr": [0.0, 0.0, 0.0, 20.0],
            "churned_mrr": [0.0, 30.0, 0.0, 30.0],
            "reactivation_mrr": [0.0, 0.0, 30.0, 0.0],
            "new_customers": [2, 1, 1, 0],
            "reactivated_customers": [0, 0, 1, 0],
            "churned_customers": [0, 1, 0, 1],
        }
    )
    prev_mrr = mm["mrr"].shift(1)
    prev_customers = mm["customers"].shift(1)
    return mm.assign(
        arpa=mm["mrr"] / mm["customers"],
        net_new_mrr=mm["mrr"] - prev_mrr.fillna(0.0),
        mrr_growth=(mm["mrr"] - prev_mrr) / prev_mrr,
        logo_churn=[NAN, 1 / 2, 0 / 2, 1 / 4],
        gross_mrr_churn=(mm["churned_mrr"] + mm["contraction_mrr"]) / prev_mrr,
        net_mrr_churn=(mm["churned_mrr"] + mm["contraction_mrr"] - mm["expansion_mrr"] - mm["reactivation_mrr"])
        / prev_mrr,
        customers_prev=prev_customers,
        nrr_12m=NAN,  # four months: nobody paid 12 months before any of them
        grr_12m=NAN,
    )


def column(frame: pd.DataFrame, name: str) -> list[float]:
    return frame[name].astype("float64").tolist()


def assert_column(frame: pd.DataFrame, name: str, expected: list[float]) -> None:
    np.testing.assert_allclose(column(frame, name), expected, equal_nan=True, err_msg=name)


def test_unit_economics_by_hand_with_constant_spend():
    """Spend 30 a month: CAC, new MRR per new customer, payback, trailing churn, LTV, cohort payback by hand."""
    ue = unit_economics(fixture_mrr_by_month(), fixture_customer_months(),
                        EconomicsParams(acquisition_spend_per_month=30), M("2024-04-01"))
    assert list(ue.columns) == list(COLUMNS)
    assert list(ue["Month"]) == list(pd.date_range("2024-01-01", periods=4, freq="MS"))
    assert_column(ue, "Acquisition spend", [30, 30, 30, 30])
    assert list(ue["New customers"]) == [2, 1, 1, 0]
    assert_column(ue, "CAC", [15, 30, 30, NAN])  # April: no new customer -> empty, not 0 or inf
    assert_column(ue, "New MRR per new customer", [20, 40, 5, NAN])
    assert_column(ue, "CAC payback (months)", [0.75, 0.75, 6.0, NAN])
    assert_column(ue, "ARPA", [20, 30, 23.75, 15])
    # three months of rates are needed: January has none (no previous month), so only April has one
    assert_column(ue, "Logo churn (trailing)", [NAN, NAN, NAN, (0.5 + 0 + 0.25) / 3])
    assert_column(ue, "LTV", [NAN, NAN, NAN, 15 / 0.25])
    assert_column(ue, "LTV:CAC", [NAN, NAN, NAN, NAN])  # April's CAC is empty
    # Jan cohort: 40 >= 30 at age 0; Feb: 40 at age 0; Mar: 5, 10 never reach 30; Apr: no cohort
    assert_column(ue, "Cohort payback month", [0, 0, NAN, NAN])


def test_unit_economics_by_hand_with_spend_table_margin_and_window():
    """A spend table overrides the constant per month; gross margin 0.5 doubles payback and halves LTV."""
    params = EconomicsParams(acquisition_spend_per_month=30, spend_by_month=(("2024-02", 100.0), ("2024-03", 3.0)),
                             gross_margin=0.5, churn_window_months=2)
    ue = unit_economics(fixture_mrr_by_month(), fixture_customer_months(), params, M("2024-04-01"))
    assert_column(ue, "Acquisition spend", [30, 100, 3, 30])
    assert_column(ue, "CAC", [15, 100, 3, NAN])
    assert_column(ue, "CAC payback (months)", [15 / (20 * 0.5), 100 / (40 * 0.5), 3 / (5 * 0.5), NAN])
    assert_column(ue, "Logo churn (trailing)", [NAN, NAN, 0.25, 0.125])
    assert_column(ue, "LTV", [NAN, NAN, 23.75 * 0.5 / 0.25, 15 * 0.5 / 0.125])
    assert_column(ue, "LTV:CAC", [NAN, NAN, 23.75 * 0.5 / 0.25 / 3, NAN])
    # Feb cohort (d): cumulative 40, 80, 100 -> reaches 100 at age 2; Mar cohort (c): 5 >= 3 at age 0
    assert_column(ue, "Cohort payback month", [0, 2, 0, NAN])


def test_zero_trailing_churn_leaves_ltv_empty():
    """A trailing churn rate of 0 gives no LTV (an empty cell), not infinity."""
    ue = unit_economics(fixture_mrr_by_month(), fixture_customer_months(),
                        EconomicsParams(churn_window_months=1), M("2024-04-01"))
    assert_column(ue, "Logo churn (trailing)", [NAN, 0.5, 0.0, 0.25])
    assert np.isnan(ue.loc[2, "LTV"]) and np.isnan(ue.loc[2, "LTV:CAC"])
    assert ue.loc[1, "LTV"] == 30 / 0.5


def test_zero_spend_gives_empty_ltv_cac_and_immediate_cohort_payback():
    """With no spend, CAC is 0 so LTV:CAC has no denominator; every cohort pays back at age 0."""
    ue = unit_economics(fixture_mrr_by_month(), fixture_customer_months(),
                        EconomicsParams(acquisition_spend_per_month=0, churn_window_months=1), M("2024-04-01"))
    assert_column(ue, "CAC", [0, 0, 0, NAN])
    assert_column(ue, "LTV:CAC", [NAN, NAN, NAN, NAN])
    assert_column(ue, "Cohort payback month", [0, 0, 0, NAN])


def test_empty_mrr_table_gives_empty_unit_economics():
    """No months: the declared columns and no rows."""
    ue = unit_economics(fixture_mrr_by_month().iloc[:0], fixture_customer_months().iloc[:0], EconomicsParams())
    assert list(ue.columns) == list(COLUMNS) and ue.empty


def test_spend_by_month_falls_back_to_the_constant():
    """Months missing from the spend table use acquisition_spend_per_month."""
    months = pd.Series(pd.date_range("2024-01-01", periods=3, freq="MS"))
    spend = spend_by_month(months, EconomicsParams(acquisition_spend_per_month=7, spend_by_month=(("2024-02", 1.5),)))
    assert spend.tolist() == [7.0, 1.5, 7.0]


def test_shared_log_new_customers_match_the_mrr_tab():
    """On the shared log, Unit economics' New customers equal the MRR table's new customers month by month."""
    ctx = shared_context_or_skip()
    from kpi.cohorts import as_of_month
    from kpi.tables import all_tabs, build_table

    ue = unit_economics(ctx.mrr_by_month, ctx.customer_months, ctx.params.economics,
                        as_of_month(ctx.as_of, ctx.timezone))
    assert ue["Month"].tolist() == ctx.mrr_by_month["month"].tolist()
    assert ue["New customers"].tolist() == ctx.mrr_by_month["new_customers"].astype("int64").tolist()
    tabs = {t.name: t for t in all_tabs()}
    mrr_tab = build_table(tabs["MRR"], ctx).frame
    ue_tab = build_table(tabs["Unit economics"], ctx).frame
    assert ue_tab["New customers"].tolist() == mrr_tab["New customers"].astype("int64").tolist()
    assert ue_tab["Acquisition spend"].eq(4000.0).all()
    assert ue["New customers"].sum() == ctx.customer_months.loc[ctx.customer_months["mrr"] > 0, "customer_id"].nunique()


def test_assumed_inputs_name_the_defaults_month_by_month() -> None:
    """Unit economics' Assumed inputs column: the default spend where a month has no spend of its own and the
    constant is not set, the default gross margin while it is not set; empty once both are the business's."""
    from kpi.economics import assumed

    months = pd.Series(pd.date_range("2017-01-01", periods=2, freq="MS"))
    unset = assumed(months, EconomicsParams(stated=frozenset()), "EUR")
    assert list(unset) == ["spend: the default 4,000.00 EUR a month, not set; gross margin: the default 100.0%, not set"] * 2
    table = EconomicsParams(spend_by_month=(("2017-01", 3500.0),), gross_margin=0.8,
                            stated=frozenset({"spend_by_month", "gross_margin"}))
    assert list(assumed(months, table, "EUR")) == ["", "spend: the default 4,000.00 EUR a month, not set"]
    both = EconomicsParams(acquisition_spend_per_month=2500.0, gross_margin=0.8,
                           stated=frozenset({"acquisition_spend_per_month", "gross_margin"}))
    assert list(assumed(months, both, "EUR")) == ["", ""]
