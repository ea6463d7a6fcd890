"""The "Sync status" tab: this run and the last runs that targeted this destination, newest first.

The tab is written by the run it describes, so that run's row says what is known while it publishes: when it
started, the tabs and rows it publishes (filled by `count_this_run` once every tab is built), MRR and customers;
its duration and the tabs the destination actually rewrote are known only after the publish, and are in the
row the next run shows for it. Times are in UTC, and the column says so.
"""

from __future__ import annotations

import pandas as pd

from kpi.tables import Column, Context, Tab, Table

NAME = "Sync status"
THIS_RUN = "this run: publishing"
PENDING = "its duration and the tabs rewritten are known when it ends and show from the next run on"


def this_run_outcome(tabs: int | None) -> str:
    """The Outcome of the run that writes the tab: "this run: publishing 15 tabs (its duration ...)"."""
    what = f"{THIS_RUN} {tabs:,} tab{'' if tabs == 1 else 's'}" if tabs is not None else THIS_RUN
    return f"{what} ({PENDING})"


def _utc(values: list) -> pd.Series:
    """Instants as naive UTC datetimes (a naive one is taken as UTC): sinks write naive times as they are, under a
    column whose name says (UTC)."""
    out = []
    for value in values:
        if value is None or pd.isna(value):
            out.append(pd.NaT)
            continue
        ts = pd.Timestamp(value)
        out.append((ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).tz_localize(None))
    return pd.Series(out, dtype="datetime64[ns]")


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
            "Started (UTC)": _utc(started),
            "Duration (s)": pd.Series([None, *past["seconds"].tolist()], dtype="float64"),
            "Outcome": pd.Series([this_run_outcome(None), *past["outcome"].tolist()], dtype="object"),
            "Tabs changed": pd.Series([None, *past["tabs_changed"].tolist()], dtype="Int64"),
            "Rows": pd.Series([None, *past["rows"].tolist()], dtype="Int64"),
            "MRR": pd.Series([mrr, *past["mrr"].tolist()], dtype="float64"),
            "Customers": pd.Series([customers, *past["customers"].tolist()], dtype="Int64"),
            "Error": pd.Series(["", *past["error"].tolist()], dtype="object"),
        }
    )
    return frame


def count_this_run(tables: list[Table]) -> list[Table]:
    """The tables with this run's row of Sync status (its first) counting the tabs and rows the run publishes, Sync
    status included; the tables as they are when there is no Sync status tab."""
    at = next((i for i, t in enumerate(tables) if t.name == NAME), None)
    if at is None or not len(tables[at].frame):
        return tables
    table = tables[at]
    frame = table.frame.copy()
    frame.loc[0, "Outcome"] = this_run_outcome(len(tables))
    frame["Rows"] = frame["Rows"].astype("Int64")
    frame.loc[0, "Rows"] = sum(len(t.frame) for t in tables)
    return [*tables[:at], Table(tab=table.tab, columns=table.columns, frame=frame, note=table.note), *tables[at + 1:]]


TABS = [
    Tab(
        name=NAME,
        description=(
            "The runs of kpi-sync that targeted this workbook, newest first: when, how long, what they changed, "
            "and why a run failed or was refused. A run whose input rows, MRR or customers fell by more than "
            "guard.max_drop against the last published run is refused unless forced (see docs/operations.md)."
        ),
        columns=(
            Column("Started (UTC)", "datetime", "When the run started, in UTC."),
            Column("Duration (s)", "number",
                   "How long the run took, in seconds; empty for this run, which is still publishing when it writes "
                   "this tab (the next run shows it)."),
            Column("Outcome", "text",
                   "published; published with --force (past the guard); refused by the guard (nothing published); "
                   "failed (nothing published); for the run that wrote this tab, \"this run: publishing N tabs\" "
                   "and what is recorded only when it ends."),
            Column("Tabs changed", "int",
                   "Tabs the run rewrote (unchanged tabs are not rewritten); empty when nothing was published, and "
                   "for this run, whose count of tabs published is in its Outcome."),
            Column("Rows", "int", "Rows published over every tab (for this run: the rows it is publishing)."),
            Column("MRR", "money", "MRR of the latest month as that run computed it."),
            Column("Customers", "int", "Paying customers of the latest month as that run computed it."),
            Column("Error", "text", "Why the run failed or was refused, or what a forced run overrode; empty otherwise."),
        ),
        build=sync_status,
        requires=("history",),
        volatile=True,
    )
]
