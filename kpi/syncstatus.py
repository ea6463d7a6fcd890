"""The "Sync status" tab: this run and the last runs that targeted this destination, newest first."""

from __future__ import annotations

import pandas as pd

from kpi.tables import Column, Context, Tab

THIS_RUN = "this run (publishing)"


def _latest(ctx: Context) -> tuple[float | None, int | None]:
    """MRR and paying customers of the latest month of this run."""
    table = ctx.mrr_by_month
    if not len(table):
        return None, None
    last = table.iloc[-1]
    mrr = float(last["mrr"]) if "mrr" in table.columns and pd.notna(last["mrr"]) else None
    customers = int(last["customers"]) if "customers" in table.columns and pd.notna(last["customers"]) else None
    return mrr, customers


def sync_status(ctx: Context) -> pd.DataFrame:
    """One row per run, newest first: this run, then ctx.history (outcome, tabs changed, rows, MRR, error)."""
    history = ctx.history
    assert history is not None  # Tab.requires
    past = history.iloc[::-1]  # the history is in run order; times have whole seconds and can tie
    mrr, customers = _latest(ctx)
    started = [ctx.run.started_at, *past["started_at"].tolist()]
    frame = pd.DataFrame(
        {
            "Started": pd.Series(
                [pd.NaT if s is None or pd.isna(s) else pd.Timestamp(s) for s in started], dtype="datetime64[ns, UTC]"
            ),
            "Duration (s)": pd.Series([None, *past["seconds"].tolist()], dtype="float64"),
            "Outcome": pd.Series([THIS_RUN, *past["outcome"].tolist()], dtype="object"),
            "Tabs changed": pd.Series([None, *past["tabs_changed"].tolist()], dtype="Int64"),
            "Rows": pd.Series([None, *past["rows"].tolist()], dtype="Int64"),
            "MRR": pd.Series([mrr, *past["mrr"].tolist()], dtype="float64"),
            "Customers": pd.Series([customers, *past["customers"].tolist()], dtype="Int64"),
            "Error": pd.Series(["", *past["error"].tolist()], dtype="object"),
        }
    )
    return frame


TABS = [
    Tab(
        name="Sync status",
        description=(
            "The runs of kpi-sync that targeted this workbook, newest first: when, how long, what they changed, "
            "and why a run failed or was refused. A run whose input rows, MRR or customers fell by more than "
            "guard.max_drop against the last published run is refused unless forced (see docs/operations.md)."
        ),
        columns=(
            Column("Started", "datetime", "When the run started."),
            Column("Duration (s)", "number", "How long the run took, in seconds; empty for this run."),
            Column("Outcome", "text",
                   "published; published with --force (past the guard); refused by the guard (nothing published); "
                   "failed (nothing published); this run (publishing) for the run that wrote this tab."),
            Column("Tabs changed", "int", "Tabs the run rewrote (unchanged tabs are not rewritten); empty when nothing was published."),
            Column("Rows", "int", "Rows published over every tab."),
            Column("MRR", "money", "MRR of the latest month as that run computed it."),
            Column("Customers", "int", "Paying customers of the latest month as that run computed it."),
            Column("Error", "text", "Why the run failed or was refused, or what a forced run overrode; empty otherwise."),
        ),
        build=sync_status,
        requires=("history",),
        volatile=True,
    )
]
