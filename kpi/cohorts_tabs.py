"""The Cohorts (logos), Cohorts (revenue) and Retention by age tabs: their columns and builders, from kpi.cohorts.

Declared here rather than in kpi/cohorts.py so that kpi.tables.Context can compute its cohort
matrices with kpi.cohorts without kpi.cohorts importing Context back.
"""

from __future__ import annotations

import pandas as pd

from kpi.cohorts import as_of_month, cohort_tables, retention_by_age
from kpi.tables import PERIOD_DEFINITION, Chart, ColorScale, Column, Context, Tab

AGE_HEADER = "Month {}"  # the header of the cohort grids' age columns: "Month 0" is the cohort's own month


def _with_period(ctx: Context, table: pd.DataFrame) -> pd.DataFrame:
    """kpi.cohorts.cohort_tables' table with the Period column after Cohort and its age columns "0", "1", ...
    headed "Month 0", "Month 1", ..."""
    head = ["Cohort", "Cohort size", "Starting MRR"]
    ages = {c: AGE_HEADER.format(c) for c in table.columns if c not in head}
    return table.assign(Period=ctx.periods(table["Cohort"])).loc[
        :, ["Cohort", "Period", *[c for c in table.columns if c != "Cohort"]]].rename(columns=ages)


def _build_logos(ctx: Context) -> pd.DataFrame:
    return _with_period(ctx, cohort_tables(ctx.customer_months, as_of_month(ctx.as_of, ctx.timezone), ctx.cohorts)[0])


def _build_revenue(ctx: Context) -> pd.DataFrame:
    return _with_period(ctx, cohort_tables(ctx.customer_months, as_of_month(ctx.as_of, ctx.timezone), ctx.cohorts)[1])


def _build_by_age(ctx: Context) -> pd.DataFrame:
    return retention_by_age(ctx.customer_months, as_of_month(ctx.as_of, ctx.timezone), ctx.cohorts)


_HEAD = (
    Column("Cohort", "month", "The month of the cohort's customers' first MRR"),
    Column("Period", "text", "Of the cohort's month: " + PERIOD_DEFINITION),
    Column("Cohort size", "int", "Customers whose first MRR is in this month"),
    Column("Starting MRR", "money", "The cohort's MRR at the end of its first month"),
)

TABS: list[Tab] = [
    Tab(
        name="Cohorts (logos)",
        description=(
            "Logo retention by monthly signup cohort: column Month n = the share of the cohort's customers "
            "with MRR > 0 n months after their first month (Month 0). Empty after as_of, and in the month of as_of while it "
            "is partial (a cell read at as_of would look like a whole month's retention)."
        ),
        columns=_HEAD,
        build=_build_logos,
        wide_kind="percent",
        scales=(ColorScale(wide=True, good="high"),),
    ),
    Tab(
        name="Cohorts (revenue)",
        description=(
            "Revenue retention by monthly signup cohort: column Month n = the cohort's MRR n months after "
            "its first month (Month 0) / its starting MRR (above 100% when expansion outweighs churn). Empty after as_of, "
            "and in the month of as_of while it is partial."
        ),
        columns=_HEAD,
        build=_build_revenue,
        wide_kind="percent",
        scales=(ColorScale(wide=True, good="high"),),
    ),
    Tab(
        name="Retention by age",
        description=(
            "Cohorts pooled by age: of all customers (and starting MRR) in cohorts that have reached "
            "age n, the share still active (and the MRR kept) n months after their first month. Complete months "
            "only: a cohort's cell in the partial month of as_of is not counted."
        ),
        columns=(
            Column("Age", "int", "Months since the cohort's first month"),
            Column("Cohorts", "int", "Non-empty cohorts old enough to have this age by as_of"),
            Column("Customers", "int", "Customers in those cohorts"),
            Column("Logo retention", "percent", "Of those customers, the share with MRR > 0 at this age"),
            Column("Revenue retention", "percent", "Their MRR at this age / their MRR in their first month"),
        ),
        build=_build_by_age,
        charts=(Chart("Retention by months since start", "line", "Age", ("Logo retention", "Revenue retention")),),
        scales=(ColorScale(("Logo retention", "Revenue retention"), good="high"),),
    ),
]
