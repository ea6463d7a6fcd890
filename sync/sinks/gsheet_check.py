"""`kpi-sync check`: is Google Sheets publishing set up right, and what would `now` send?

Validates the config and the service account key, opens the spreadsheet (one metadata read),
computes the tables like `now` does (HR data is not fetched) and prints the plan without writing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from kpi.tables import Table
from sync.errors import ConfigError
from sync.settings import DEFAULT_LOCAL_SINK, Settings
from sync.sinks.gsheet import GSheetSink
from sync.sinks.gsheet_plan import Plan, Workbook


def _missing_google(settings: Settings) -> str:
    missing = []
    publish = settings.sections.get("publish")
    if not (settings.secrets.get("KPI_SYNC_SPREADSHEET_ID") or getattr(publish, "spreadsheet_id", "")):
        missing.append("KPI_SYNC_SPREADSHEET_ID (or [publish] spreadsheet_id)")
    if not settings.google_configured:
        missing.append("GOOGLE_SERVICE_ACCOUNT_FILE or GOOGLE_SERVICE_ACCOUNT_JSON")
    return " and ".join(missing)


def open_checked_sink(settings: Settings, sink_uri: str | None) -> GSheetSink:
    """The Google Sheets sink `now` would use; a ConfigError saying what is missing otherwise."""
    from sync.run import default_sink_uri
    from sync.sinks import open_sink

    try:
        uri = sink_uri or default_sink_uri(settings)
    except ConfigError:  # Google set by halves: what check needs, not `--sink xlsx:PATH` (a sink check refuses)
        raise ConfigError(f"check verifies Google Sheets publishing, and half of it is set: set "
                          f"{_missing_google(settings)} (see docs/google-sheets.md)") from None
    if not uri.startswith("gsheet:"):
        missing = _missing_google(settings)
        google = (f"to publish to Google Sheets instead, set {missing} (see docs/google-sheets.md)" if missing
                  else "to check a Google Sheets destination, give --sink gsheet:SPREADSHEET_ID")
        raise ConfigError(
            f"check verifies Google Sheets publishing, and the destination is {uri}, a local one: "
            f"`kpi-sync now --dry-run` checks everything for it and writes nothing. Without Google, kpi-sync "
            f"publishes to an .xlsx workbook (xlsx:PATH, the default {DEFAULT_LOCAL_SINK}) or a folder of CSV files "
            f"(csv:DIR); {google}"
        )
    sink = open_sink(uri, settings)
    assert isinstance(sink, GSheetSink)
    return sink


def compute_for_check(
    settings: Settings, as_of: str | None, destination: str, started_at: pd.Timestamp
) -> tuple[list[Table], list[tuple[str, str]], str]:
    """The tables `now` would publish (HR data not fetched; run history read, not written),
    the skipped tabs with their reasons, and the as-of day."""
    from sync.guard import StateFile, guard_settings
    from sync.run import compute_tables, prepare_context

    past = StateFile(guard_settings(settings).state_file).read(destination)
    ctx = prepare_context(settings, as_of=as_of, started_at=started_at, destination=destination,
                          history=past.history, hr_data=lambda: (None, (("hr", "HR data is not fetched by check"),)))
    tables, skipped = compute_tables(ctx)
    return tables, skipped, f"{ctx.as_of:%Y-%m-%d}"


def report(
    sink: GSheetSink,
    workbook: Workbook,
    plan: Plan | None,
    skipped: Sequence[tuple[str, str]] = (),
    as_of: str = "",
) -> str:
    """The check's text: who we are, what the spreadsheet holds, what `now` would change."""
    owned = {s.sheet_id for s in workbook.owned().values()}
    tabs = ", ".join(f"{s.title}{' (kpi-sync)' if s.sheet_id in owned else ''}" for s in workbook.sheets)
    lines = [
        f"Service account: {sink.service_account_email} (key from {sink.key_source})",
        f"Spreadsheet:     {workbook.title!r} {sink.destination}",
        f"Tabs now:        {tabs or '(none)'}",
    ]
    if plan is None:
        return "\n".join(lines)
    lines.append(f"Plan for `kpi-sync now`{f' (as of {as_of})' if as_of else ''}:")
    width = max((len(t.name) for t in plan.tabs), default=0)
    for tab in plan.tabs:
        size = f"{tab.rows - 1:,} rows x {tab.cols} columns" if tab.action != "unchanged" else "up to date"
        title = f" (tab {tab.title!r})" if tab.title != tab.name else ""
        lines.append(f"  {tab.action:<10} {tab.name:<{width}}  {size}{title}")
    for name, reason in skipped:
        lines.append(f"  {'skipped':<10} {name:<{width}}  {reason}")
    lines.extend(f"  note: {note}" for note in plan.notes)
    if plan.batches:
        lines.append(
            f"Would send {len(plan.batches)} batchUpdate request{'s' if len(plan.batches) > 1 else ''} "
            f"({plan.requests} changes, {plan.bytes / 1024:,.0f} KiB); the workbook would hold "
            f"{plan.cells_after:,} cells of 10,000,000."
        )
    else:
        lines.append("Nothing to write: every tab is up to date.")
    lines.append("Nothing was written.")
    return "\n".join(lines)


def run_check(
    settings: Settings,
    *,
    sink_uri: str | None = None,
    as_of: str | None = None,
    force: bool = False,
    clock: Callable[[], pd.Timestamp] = lambda: pd.Timestamp.now(tz="UTC"),
) -> str:
    """Validate, open, compute and plan; never write. Raises a SyncError saying what to fix."""
    sink = open_checked_sink(settings, sink_uri)
    workbook = sink.read()
    tables, skipped, day = compute_for_check(settings, as_of, sink.destination, clock())
    plan = sink.plan(tables, force=force, workbook=workbook)
    return report(sink, workbook, plan, skipped, day)
