"""One run: load -> compute -> check invariants -> publish. The CLI and the worker both call `run_once`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from kpi.schedule import check_schedule
from kpi.tables import Context, InputFile, RunInfo, Table, all_tabs, build_table, empty_issues
from sync import __version__
from sync.errors import ConfigError, InvariantError
from sync.settings import DEFAULT_LOCAL_SINK, Settings
from sync.sinks import PublishResult, open_sink


@dataclass(frozen=True)
class Loaded:
    """A dataset as read and validated from its files (no KPI logic yet)."""

    customers: pd.DataFrame
    issues: pd.DataFrame
    inputs: tuple[InputFile, ...]
    revenue_times: pd.Series  # every revenue timestamp, for the default as_of
    charges: pd.DataFrame | None = None
    contracts: pd.DataFrame | None = None
    projects: pd.DataFrame | None = None


@dataclass
class RunOutcome:
    as_of: pd.Timestamp
    destination: str
    tables: list[Table]
    skipped: list[tuple[str, str]]
    result: PublishResult | None
    seconds: float
    issues: int
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(t.frame) for t in self.tables)


def load_dataset(settings: Settings) -> Loaded:
    """Read the configured dataset's files (file, line and field named on every problem)."""
    kind = settings.dataset.kind
    if kind == "payments":
        from sync.sources.payments import load_payments

        return load_payments(settings)
    if kind == "contracts":
        from sync.sources.contracts import load_contracts

        return load_contracts(settings)
    raise ConfigError(f"dataset.kind = {kind!r}: expected payments or contracts")


def resolve_as_of(settings: Settings, loaded: Loaded, as_of: str | None) -> pd.Timestamp:
    """as_of from the command line (end of that day), the config, or the newest revenue timestamp (metrics.md 1)."""
    text = as_of or settings.as_of
    if text:
        try:
            day = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise ConfigError(f"as_of {text!r}: expected YYYY-MM-DD") from None
        if day.tzinfo is not None or day != day.normalize():
            raise ConfigError(f"as_of {text!r}: expected a day, YYYY-MM-DD")
        end = (day + pd.Timedelta(days=1)).tz_localize(settings.timezone) - pd.Timedelta(seconds=1)
        return end.tz_convert("UTC")
    times = loaded.revenue_times.dropna()
    if times.empty:
        raise ConfigError("no revenue timestamps in the data: set as_of")
    return pd.Timestamp(times.max()).tz_convert("UTC")


def build_context(settings: Settings, loaded: Loaded, as_of: pd.Timestamp, run: RunInfo, hr: object | None = None,
                  unavailable: tuple[tuple[str, str], ...] = ()) -> Context:
    """The canonical revenue schedule and everything builders read."""
    params = settings.params
    billing = None
    one_shots = None
    if settings.dataset.kind == "payments":
        from kpi.billing import infer_schedule

        assert loaded.charges is not None
        charges = loaded.charges.loc[loaded.charges["paid_at"] <= as_of]
        schedule, billing = infer_schedule(charges, params.billing)
    else:
        from kpi.contracts import schedule_from_contracts

        assert loaded.contracts is not None
        schedule, one_shots = schedule_from_contracts(loaded.contracts)
        charges = None
    schedule = schedule.loc[schedule["start"] <= as_of].reset_index(drop=True)
    problems = check_schedule(schedule)
    if problems:
        raise InvariantError("; ".join(problems))
    return Context(
        dataset=settings.dataset.kind,
        as_of=as_of,
        params=params,
        schedule=schedule,
        customers=loaded.customers,
        issues=loaded.issues if loaded.issues is not None else empty_issues(),
        run=run,
        charges=charges,
        billing=billing,
        contracts=loaded.contracts,
        one_shots=one_shots,
        projects=loaded.projects,
        hr=hr,
        unavailable=unavailable,
    )


def compute_tables(ctx: Context) -> tuple[list[Table], list[tuple[str, str]]]:
    """Build every declared tab that applies; the others are returned with the reason they were skipped."""
    tables: list[Table] = []
    skipped: list[tuple[str, str]] = []
    for tab in all_tabs():
        reason = ctx.skip_reason(tab)
        if reason:
            skipped.append((tab.name, reason))
            continue
        tables.append(build_table(tab, ctx))
    return tables, skipped


def check_invariants(ctx: Context) -> None:
    """Rules that must hold before anything is published (style.md 7)."""
    from kpi.mrr import check_identity

    problems = check_identity(ctx.mrr_by_month)
    months = ctx.mrr_by_month["month"]
    if months.duplicated().any():
        problems.append("the MRR table has a month twice")
    expected = pd.date_range(months.min(), months.max(), freq="MS") if len(months) else months
    if len(months) != len(expected):
        problems.append("the MRR table has gaps between months")
    as_of_month = ctx.as_of.tz_convert(ctx.timezone).tz_localize(None).to_period("M").to_timestamp()
    if len(months) and months.max() > as_of_month:
        problems.append("the MRR table has months after as_of")
    dupes = ctx.customer_months.duplicated(["customer_id", "month"]).sum()
    if dupes:
        problems.append(f"{dupes} customer-months appear twice")
    if problems:
        raise InvariantError("invariant broken, nothing published: " + "; ".join(problems[:5]))


def default_sink_uri(settings: Settings) -> str:
    if settings.output.sink:
        return settings.output.sink
    spreadsheet = settings.secrets.get("KPI_SYNC_SPREADSHEET_ID") or _publish_spreadsheet_id(settings)
    if spreadsheet and settings.google_configured:
        return f"gsheet:{spreadsheet}"
    return DEFAULT_LOCAL_SINK


def _publish_spreadsheet_id(settings: Settings) -> str:
    publish = settings.sections.get("publish")
    return getattr(publish, "spreadsheet_id", "") if publish is not None else ""


def run_once(
    settings: Settings,
    *,
    sink_uri: str | None = None,
    as_of: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    clock: Callable[[], pd.Timestamp] = lambda: pd.Timestamp.now(tz="UTC"),
    hr_month: str | None = None,
) -> RunOutcome:
    """Load, compute, check and publish once. Raises a SyncError subclass on any failure; publishes nothing then."""
    started = time.perf_counter()
    started_at = clock()
    uri = sink_uri or default_sink_uri(settings)
    sink = open_sink(uri, settings)  # a wrong sink fails before any work

    loaded = load_dataset(settings)
    when = resolve_as_of(settings, loaded, as_of)
    hr, unavailable = load_hr(settings, started_at, hr_month)
    run = RunInfo(
        version=__version__,
        started_at=started_at,
        config_path=str(settings.config_path),
        settings=settings.about_rows(),
        inputs=loaded.inputs,
    )
    ctx = build_context(settings, loaded, when, run, hr=hr, unavailable=unavailable)
    check_invariants(ctx)
    tables, skipped = compute_tables(ctx)

    result = None if dry_run else sink.publish(tables, force=force)
    return RunOutcome(
        as_of=when,
        destination=sink.destination,
        tables=tables,
        skipped=skipped,
        result=result,
        seconds=time.perf_counter() - started,
        issues=len(ctx.issues),
        dry_run=dry_run,
    )


def load_hr(settings: Settings, now: pd.Timestamp, month: str | None) -> tuple[object | None, tuple[tuple[str, str], ...]]:
    """HR data for the availability tabs, or None and the reason they are skipped."""
    if not settings.secrets.get("LUCCA_BASE_URL") or not settings.secrets.get("LUCCA_API_KEY"):
        return None, (("hr", "Lucca is not configured (set LUCCA_BASE_URL and LUCCA_API_KEY)"),)
    from sync.sources.lucca import load_hr_data

    return load_hr_data(settings, now, month), ()
