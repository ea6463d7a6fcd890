"""One run: load -> compute -> check invariants -> publish. The CLI and the worker both call `run_once`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from kpi.schedule import check_schedule
from kpi.syncstatus import count_this_run
from kpi.tables import Context, RunInfo, Table, all_tabs, built_table, empty_issues
from sync import __version__
from sync.engine import Engine, LocalEngine, freed_memory_reused, open_engine
from sync.errors import ConfigError, GuardError, InvariantError, SyncError
from sync.guard import (
    FAILED,
    FORCED,
    PUBLISHED,
    REFUSED,
    DestinationState,
    GuardSettings,
    RunRecord,
    Snapshot,
    StateFile,
    drops,
    guard_message,
    guard_settings,
    history_frame,
    snapshot,
)
from sync.lock import Cancelled, StopGate, run_lock
from sync.logs import Redactor, get_logger, one_line
from sync.paths import shown_inputs, shown_path
from sync.settings import DEFAULT_LOCAL_SINK, Settings, parse_day
from sync.sinks import PublishResult, Sink, open_sink
from sync.sinks.cells import publishable
from sync.sources.contracts import load_contracts
from sync.sources.loaded import Loaded
from sync.sources.payments import load_payments

log = get_logger("run")


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
    dropped: int = 0  # input lines dropped as bad (the reader's count: a line with two errors is one line)
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(t.frame) for t in self.tables)


def load_dataset(settings: Settings, now: pd.Timestamp | None = None, engine: Engine | None = None) -> Loaded:
    """Read the configured dataset's files (file, line and field named on every problem).

    `now`: the run's own clock; a timestamp after it (plus quality.clock_skew_hours) is a bad line.
    `engine`: reads a payment log's files on its workers (sync.engine; default: here)."""
    kind = settings.dataset.kind
    if kind == "payments":
        with freed_memory_reused():  # then the files' bytes and the parse (2.5 GB at 10M charges) handed back
            return load_payments(settings, now, engine.map if engine is not None else None)
    if kind == "contracts":
        return load_contracts(settings, now)
    raise ConfigError(f"dataset.kind = {kind!r}: expected payments or contracts")


def resolve_as_of(settings: Settings, loaded: Loaded, as_of: str | None, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """as_of from the command line (end of that day), the config, or the newest revenue timestamp (metrics.md 1).

    With `now` (the run's clock), a day after today (in the configured timezone) is refused: it would publish
    months that have not happened."""
    text = as_of or settings.as_of
    if text:
        day = parse_day(text)
        if now is not None:
            check_not_after_today(text, settings, now)
        end = (day + pd.Timedelta(days=1)).tz_localize(settings.timezone) - pd.Timedelta(seconds=1)
        return end.tz_convert("UTC")
    times = loaded.revenue_times.dropna()
    if times.empty:
        raise ConfigError("no revenue timestamps in the data: set as_of")
    return pd.Timestamp(times.max()).tz_convert("UTC")


def check_not_after_today(text: str, settings: Settings, now: pd.Timestamp) -> None:
    """A ConfigError when the as_of day `text` is after today in the configured timezone (by the clock `now`): it
    would publish months that have not happened. The worker checks its config's as_of at start with it."""
    day = parse_day(text)
    today = pd.Timestamp(now).tz_convert(settings.timezone).tz_localize(None).normalize()
    if day > today:
        raise ConfigError(f"as_of {text!r} is after today ({today:%Y-%m-%d} in {settings.timezone}): "
                          f"it would publish months that have not happened; give a day up to today")


def check_as_of(as_of: pd.Timestamp, loaded: Loaded) -> None:
    """An as_of before the first revenue would publish empty tables: refuse it."""
    times = loaded.revenue_times.dropna()
    if len(times) and as_of < times.min():
        raise ConfigError(
            f"as_of {as_of:%Y-%m-%d %H:%M:%S} UTC is before the first revenue in the data "
            f"({pd.Timestamp(times.min()):%Y-%m-%d}): nothing to compute"
        )


def build_context(settings: Settings, loaded: Loaded, as_of: pd.Timestamp, run: RunInfo, hr: object | None = None,
                  unavailable: tuple[tuple[str, str], ...] = (), history: pd.DataFrame | None = None,
                  engine: Engine | None = None) -> Context:
    """The canonical revenue schedule and everything builders read.

    A payment log's per-customer frames (schedule, billing, customer months...) come from `engine` (sync.engine:
    in this process by default, its customers in slices, or partitions on Dask; the same frames either way)."""
    params = settings.params
    billing = None
    price_book = None
    one_shots = None
    per_customer = None
    if settings.dataset.kind == "payments":
        from kpi.partition import charges_by, customers_by

        assert loaded.charges is not None
        charges = charges_by(loaded.charges, as_of)
        per_customer = (engine or LocalEngine(settings.engine.slice_charges, settings.engine.processes)).per_customer(
            loaded.charges, loaded.customers, params, as_of)
        schedule, billing, price_book = per_customer.schedule, per_customer.billing, per_customer.price_book
    else:
        from kpi.contracts import schedule_from_contracts

        assert loaded.contracts is not None
        schedule, one_shots = schedule_from_contracts(loaded.contracts, params.timezone)
        charges = None
    customers = loaded.customers
    if charges is not None and charges is not loaded.charges:  # a reading as of a day before some charges
        customers = customers_by(customers, loaded.charges, charges)
    started = (schedule["start"] <= as_of).to_numpy()
    if not started.all():  # else no copy of a schedule of millions of pieces
        schedule = schedule.loc[started].reset_index(drop=True)
    problems = check_schedule(schedule)
    if problems:
        raise InvariantError("; ".join(problems))
    return Context(
        dataset=settings.dataset.kind,
        as_of=as_of,
        params=params,
        schedule=schedule,
        customers=customers,
        issues=loaded.issues if loaded.issues is not None else empty_issues(),
        dropped=loaded.dropped,
        run=run,
        charges=charges,
        billing=billing,
        price_book=price_book,
        contracts=loaded.contracts,
        one_shots=one_shots,
        projects=loaded.projects,
        hr=hr,
        unavailable=unavailable,
        history=history,
        per_customer=per_customer,
    )


def compute_tables(ctx: Context, ready: dict[str, Table] | None = None) -> tuple[list[Table], list[tuple[str, str]]]:
    """Build every declared tab that applies; the others are returned with the reason they were skipped.

    Tabs of the other kind of dataset (e.g. Portfolio for a payment log) are neither built nor reported.
    Every text cell is made holdable by every sink here, before any sink runs (sync.sinks.cells.publishable).
    `ready`: tabs already built and made holdable (`tables_ahead`), published as they are, these very tables.
    """
    ready = ready or {}
    tables: list[Table] = []
    skipped: list[tuple[str, str]] = []
    with freed_memory_reused():  # the tabs' temporary arrays on the pages the last ones left (sync.engine)
        for tab in all_tabs():
            if ctx.dataset not in tab.datasets:
                continue
            reason = ctx.skip_reason(tab)
            if reason:
                skipped.append((tab.name, reason))
                continue
            tables.append(ready[tab.name] if tab.name in ready else built_table(tab, ctx))
        counted = count_this_run(tables)  # (counts rows: the same before and after `publishable`)
        return [t if ready.get(t.name) is t else publishable([t])[0] for t in counted], skipped


# Tall tabs a sink that can (`render_ahead`: the CSV folder) writes while the run goes on: built from the
# per-customer frames alone, before the invariants and the month tables, which keep one core busy and leave the
# other idle (10M charges: Billing is 444 of the 650 MB of CSV; written ahead, the run takes 4 s less).
AHEAD_TABS = ("Billing",)


def tables_ahead(ctx: Context, sink: object) -> dict[str, Table]:
    """The tabs of AHEAD_TABS the run publishes, built and made holdable now and handed to the sink's
    `render_ahead`; `compute_tables(ctx, ready)` then publishes these very tables. None for a sink without it."""
    render = getattr(sink, "render_ahead", None)
    if render is None:
        return {}
    ready: dict[str, Table] = {}
    for tab in all_tabs():
        if tab.name in AHEAD_TABS and ctx.dataset in tab.datasets and not ctx.skip_reason(tab):
            ready[tab.name] = publishable([built_table(tab, ctx)])[0]
            render(ready[tab.name])
    return ready


def discard_ahead(sink: object) -> None:
    """What the sink wrote ahead and no publish took, removed (`render_ahead`)."""
    discard = getattr(sink, "discard_ahead", None)
    if discard is not None:
        discard()


def check_invariants(ctx: Context) -> None:
    """Rules that must hold before anything is published (style.md 7)."""
    from kpi.mrr import check_identity, check_movements, local_month, repeated_customer_months

    with freed_memory_reused():  # the month tables' temporary arrays on the pages the last ones left (sync.engine)
        problems = check_identity(ctx.mrr_by_month)
        problems += check_movements(ctx.movements, ctx.mrr_by_month)
        months = ctx.mrr_by_month["month"]
        if months.duplicated().any():
            problems.append("the MRR table has a month twice")
        expected = pd.date_range(months.min(), months.max(), freq="MS") if len(months) else months
        if len(months) != len(expected):
            problems.append("the MRR table has gaps between months")
        if len(months) and months.max() > local_month(ctx.as_of, ctx.timezone):
            problems.append("the MRR table has months after as_of")
        dupes = repeated_customer_months(ctx.customer_months, ctx.month_codes)
        if dupes:
            problems.append(f"{dupes} customer-months appear twice")
        if problems:
            raise InvariantError("invariant broken, nothing published: " + "; ".join(problems[:5]))


def default_sink_uri(settings: Settings) -> str:
    """The config's [output] sink; else the spreadsheet when both it and the Google credentials are set; else the
    local workbook when neither is. One without the other is a ConfigError: a worker whose credentials were forgotten
    would otherwise publish to a local file every hour, exit 0, and leave the sheet its readers open as it was."""
    if settings.output.sink:
        return settings.output.sink
    spreadsheet = settings.secrets.get("KPI_SYNC_SPREADSHEET_ID") or _publish_spreadsheet_id(settings)
    if spreadsheet and settings.google_configured:
        return f"gsheet:{spreadsheet}"
    if spreadsheet:
        raise ConfigError("a spreadsheet to publish to is set (KPI_SYNC_SPREADSHEET_ID or [publish] spreadsheet_id) "
                          "but no Google credentials: set GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_SERVICE_ACCOUNT_FILE "
                          "(docs/google-sheets.md), or give --sink xlsx:PATH to publish locally")
    if settings.google_configured:
        raise ConfigError("Google credentials are set (GOOGLE_SERVICE_ACCOUNT_JSON or GOOGLE_SERVICE_ACCOUNT_FILE) but "
                          "no spreadsheet to publish to: set KPI_SYNC_SPREADSHEET_ID or [publish] spreadsheet_id "
                          "(docs/google-sheets.md), or give --sink xlsx:PATH to publish locally")
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
    gate: StopGate | None = None,
) -> RunOutcome:
    """Load, compute, check, guard and publish once. Raises a SyncError subclass on any failure; publishes nothing then.

    Holds the run lock from loading to recording (LockedError, exit 3, when another run holds it);
    a dry run takes no lock and records nothing. The guard compares the run with the last published
    one before anything is published; `force` publishes past it. Every published, refused or failed
    run is added to the history in the state file (the Sync status tab). `gate` lets the worker
    stop the run before its publish, never during it.
    """
    started = time.perf_counter()
    started_at = clock()
    uri = sink_uri or default_sink_uri(settings)
    sink = open_sink(uri, settings)  # a wrong sink fails before any work
    guard = guard_settings(settings)
    gate = gate or StopGate()
    attempt = _Attempt(started=started, started_at=started_at, destination=sink.destination)
    with contextlib.nullcontext() if dry_run else run_lock(guard.lock_file):
        state = StateFile(guard.state_file)
        past = state.read(sink.destination)
        if state.problem:
            log.warning(state.problem)
        log.info("run started: publishing to %s%s", sink.destination, " (dry run)" if dry_run else "")
        try:
            return _run_locked(settings, sink, state, past, guard, gate, attempt,
                               as_of=as_of, dry_run=dry_run, force=force, hr_month=hr_month)
        except Cancelled:
            raise
        except Exception as exc:
            if not dry_run:
                _record_failure(settings, state, attempt, exc, guard.keep_runs)
            raise
        finally:
            discard_ahead(sink)  # a run that failed or was stopped before its publish leaves nothing behind


@dataclass
class _Attempt:
    """What a run knows about itself so far, for its history line if it fails."""

    started: float
    started_at: pd.Timestamp
    destination: str
    snap: Snapshot | None = None


def prepare_context(
    settings: Settings,
    *,
    as_of: str | None,
    started_at: pd.Timestamp,
    destination: str,
    history: list,
    hr_data: Callable[[], tuple[object | None, tuple[tuple[str, str], ...]]],
    ahead: Callable[[Context], None] | None = None,
) -> Context:
    """Load, resolve as_of, build the context and check the invariants: everything before publishing,
    shared by `now`, the worker and `check`. `hr_data` fetches the HR data (or says why there is none).
    The engine of the settings (sync.engine) reads the files and computes the per-customer frames. `ahead` is
    called with the context before the invariants are checked (`tables_ahead`)."""
    with open_engine(settings.engine) as engine:
        loaded = load_dataset(settings, started_at, engine)
        when = resolve_as_of(settings, loaded, as_of, started_at)
        check_as_of(when, loaded)
        hr, unavailable = hr_data()
        config = str(settings.config_path)
        loaded, inputs = shown_inputs(loaded, config)  # no machine path in the workbook (sync/paths.py)
        run = RunInfo(
            version=__version__,
            started_at=started_at,
            config_path=str(shown_path(config, config)),  # its file name
            destination=destination,
            settings=settings.about_rows(),
            inputs=inputs,
        )
        ctx = build_context(settings, loaded, when, run, hr=hr, unavailable=unavailable,
                            history=history_frame(history), engine=engine)
    if ahead is not None:
        ahead(ctx)
    check_invariants(ctx)
    return ctx


def _run_locked(settings: Settings, sink: Sink, state: StateFile, past: DestinationState, guard: GuardSettings,
                gate: StopGate, attempt: _Attempt, *, as_of: str | None, dry_run: bool, force: bool,
                hr_month: str | None) -> RunOutcome:
    def hr_data() -> tuple[object | None, tuple[tuple[str, str], ...]]:
        gate.checkpoint("loading HR data")
        return load_hr(settings, attempt.started_at, hr_month)

    ready: dict[str, Table] = {}

    def ahead(ctx: Context) -> None:  # the sink's tall tabs begin (a dry run publishes nothing: none)
        if not dry_run:
            ready.update(tables_ahead(ctx, sink))

    gate.checkpoint("loading")
    ctx = prepare_context(settings, as_of=as_of, started_at=attempt.started_at, destination=sink.destination,
                          history=past.history, hr_data=hr_data, ahead=ahead)
    attempt.snap = snapshot(ctx, attempt.started_at)
    dropped = drops(past.last_good, attempt.snap, guard.max_drop)
    notes: list[str] = []
    if dropped and past.last_good is not None:
        if not force:
            raise GuardError(guard_message(dropped, past.last_good, guard.max_drop))
        notes.append("guard overridden with --force: " + "; ".join(dropped))
        log.warning(notes[-1])
    gate.checkpoint("computing the tables")
    tables, skipped = compute_tables(ctx, ready)

    result = None
    if not dry_run:
        with gate.publishing():
            result = sink.publish(tables, force=force)
            record = RunRecord(
                started_at=attempt.snap.started_at,
                seconds=round(time.perf_counter() - attempt.started, 3),
                destination=sink.destination,
                outcome=FORCED if dropped else PUBLISHED,
                tabs_changed=len(result.written),
                rows=sum(len(t.frame) for t in tables),
                mrr=attempt.snap.mrr,
                customers=attempt.snap.customers,
                error=_error_text(settings, notes[0]) if notes else "",
            )
            try:
                state.record(sink.destination, record, good=attempt.snap, keep_runs=guard.keep_runs)
            except OSError as exc:
                log.warning("published, but the state file %s could not be written (%s): the guard keeps the "
                            "previous reference", state.path, exc.strerror or exc)
    outcome = RunOutcome(
        as_of=ctx.as_of,
        destination=sink.destination,
        tables=tables,
        skipped=skipped,
        result=result,
        seconds=time.perf_counter() - attempt.started,
        issues=len(ctx.issues),
        dry_run=dry_run,
        dropped=sum(n for _, n in ctx.dropped),
        notes=notes,
    )
    if result is not None:
        log.info("published %d tabs (%d rewritten), %d rows to %s in %.1fs", len(tables), len(result.written),
                 outcome.rows, sink.destination, outcome.seconds)
        for note in result.notes:  # tabs the sink cut: the worker's log says so (`now` prints them in its summary)
            log.info("%s", note)
    return outcome


def _error_text(settings: Settings, text: str) -> str:
    """An error as one line without secrets, short enough for a cell."""
    line = one_line(Redactor.from_settings(settings)(text))
    return line if len(line) <= 500 else line[:497] + "..."


def _record_failure(settings: Settings, state: StateFile, attempt: _Attempt, exc: Exception, keep_runs: int) -> None:
    """Add a failed or refused run to the history; the guard's reference stays the last published run."""
    message = str(exc) if isinstance(exc, SyncError) else f"{type(exc).__name__}: {exc}"
    snap = attempt.snap
    record = RunRecord(
        started_at=_iso_utc(attempt.started_at),
        seconds=round(time.perf_counter() - attempt.started, 3),
        destination=attempt.destination,
        outcome=REFUSED if isinstance(exc, GuardError) else FAILED,
        mrr=snap.mrr if snap else None,
        customers=snap.customers if snap else None,
        error=_error_text(settings, message),
    )
    try:
        state.record(attempt.destination, record, good=None, keep_runs=keep_runs)
    except OSError as err:
        log.warning("the state file %s could not be written (%s)", state.path, err.strerror or err)


def _iso_utc(ts: pd.Timestamp) -> str:
    ts = pd.Timestamp(ts)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_hr(settings: Settings, now: pd.Timestamp, month: str | None) -> tuple[object | None, tuple[tuple[str, str], ...]]:
    """HR data for the availability tabs, or None and the reason they are skipped."""
    if not settings.secrets.get("LUCCA_BASE_URL") or not settings.secrets.get("LUCCA_API_KEY"):
        return None, (("hr", "Lucca is not configured (set LUCCA_BASE_URL and LUCCA_API_KEY)"),)
    from sync.sources.lucca import load_hr_data

    return load_hr_data(settings, now, month), ()
