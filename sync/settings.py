"""TOML + environment -> one frozen Settings object, read once at the edge and passed down.

Every section is a frozen dataclass; its fields are the only keys the section accepts, so a
typo is an error that names the key. Paths are resolved against the config file's folder.
Secrets come only from the environment (see `Secrets`), never from the TOML file.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from kpi.params import (
    AvailabilityParams,
    BillingRules,
    EconomicsParams,
    Params,
    PortfolioParams,
    PriceList,
    SegmentParams,
)
from sync.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "default.toml"  # the checkout's
DEFAULT_LOCAL_SINK = "xlsx:out/kpis.xlsx"


def default_config(cwd: Path | None = None) -> Path:
    """The config a command without --config reads: config/default.toml of the current folder when there is one (an
    app installed with `pip install .`, as a platform runs the Procfile from the app's folder: the package then lives
    in site-packages, away from any config folder), else the checkout's (`pip install -e .`, run from anywhere)."""
    here = (cwd or Path.cwd()) / "config" / "default.toml"
    return here if here.is_file() else DEFAULT_CONFIG


def is_url(path: str) -> bool:
    """Is this input a URL (s3://..., gs://..., memory://...: read through fsspec) rather than a local path?"""
    return re.match(r"[a-zA-Z][a-zA-Z0-9+.-]+://", path) is not None


def _path(default: str = "") -> Any:
    """A field holding a file path, resolved against the config file's folder."""
    return field(default=default, metadata={"path": True})


@dataclass(frozen=True)
class DatasetSection:
    kind: Literal["payments", "contracts"] = "payments"


@dataclass(frozen=True)
class SourcesSection:
    """Input files. Payment log: invoices + customers. Contracts: customers + contracts + projects."""

    invoices: str = _path()
    customers: str = _path()
    contracts: str = _path()
    projects: str = _path()
    # canonical field name -> the name used in the files (defaults: the shared data's names)
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BillingSection:
    renewal_tolerance_hours: float = 2.0
    annual_min_amount: float = 1000.0
    prorations: Literal["normalize", "share", "ignore"] = "normalize"
    billing_overrides: tuple[tuple[str, str], ...] = ()
    # "auto" (learned from the log), "off" (amount rules only), or a table of list prices:
    # { monthly_seat = [18.0], annual_seat = [180.0], annual_points = [900.0] }
    price_book: str | tuple[tuple[str, tuple[float, ...]], ...] = "auto"
    # a single charge no learned price reads, at the customer's seats x 6-12 months of a monthly seat price: "year" (a
    # tier the book has not learned) or "month" (what the book does not price is one month)
    unlisted_tiers: Literal["year", "month"] = "year"
    timezone: str = ""  # kept for configs that put it here; the top-level `timezone` wins


@dataclass(frozen=True)
class QualitySection:
    max_bad_share: float = 0.01  # more bad lines than this share of a file fails the run
    max_timestamp_year: int = 2100  # later timestamps are "absurd"
    min_timestamp_year: int = 2000  # the floor: earlier timestamps are bad lines
    clock_skew_hours: float = 1.0  # a timestamp later than the run's own clock plus this is a bad line


@dataclass(frozen=True)
class OutputSection:
    # empty: gsheet when Google is configured, else xlsx:out/kpis.xlsx (of the current folder); an xlsx: or csv: path
    # given here is relative to the config file's folder, as every path of the file
    sink: str = field(default="", metadata={"sink": True})
    currency: str = "EUR"
    # CSV text starting with = + - @ (a formula to a spreadsheet) gets a leading ' (OWASP); false: raw text
    csv_neutralize_formulas: bool = True


@dataclass(frozen=True)
class ScheduleSection:
    """When `kpi-sync worker` runs the job (besides once at start): every N s/m/h/d, or daily at HH:MM."""

    every: str = ""  # e.g. "1h", "30m", "1d"; neither set: every hour
    daily_at: str = ""  # e.g. "06:00", in `timezone`
    timezone: str = ""  # for daily_at; default: the top-level timezone


@dataclass(frozen=True)
class GuardSection:
    """The guard against publishing bad data, and the run lock (see docs/operations.md).

    Like every path here, relative paths are relative to the config file's folder (defaults too).
    """

    max_drop: float = 0.5  # refuse a run whose input rows, MRR or customers fell by more than this share
    state_file: str = _path("state/last_run.json")  # last published numbers and the run history
    lock_file: str = _path()  # default: kpi-sync.lock beside state_file
    keep_runs: int = 100  # runs kept in the history (the Sync status tab)


@dataclass(frozen=True)
class AvailabilitySection:
    """The availability tabs (Lucca HR API; URL and key come from LUCCA_BASE_URL and LUCCA_API_KEY)."""

    month: str = ""  # YYYY-MM; empty: the month after the run date
    country: str = "FR"  # public holidays (the `holidays` package) when Lucca schedules can't be read
    subdivision: str = ""  # e.g. "57" for Moselle; empty: national holidays only
    count_pending: bool = False  # leaves awaiting approval count as absences
    remote_work_accounts: tuple[str, ...] = ("Télétravail", "Remote work", "Home office", "Work from home")
    timeout_seconds: float = 30.0  # per HTTP request
    max_retries: int = 4  # per request, on 408, 429, 5xx and connection errors
    retry_deadline_seconds: float = 300.0  # a request is given up when a retry would end later than this


@dataclass(frozen=True)
class PortfolioSection:
    """Contract portfolios: partner types whose customers count as indirect; the Sectors churn window."""

    indirect_partner_types: tuple[str, ...] = ("Integrateur",)
    sector_churn_window_months: int = 12


@dataclass(frozen=True)
class PublishSection:
    """Google Sheets publishing (credentials come from GOOGLE_SERVICE_ACCOUNT_FILE or _JSON, never from here)."""

    spreadsheet_id: str = ""  # KPI_SYNC_SPREADSHEET_ID wins when set
    max_rows_per_tab: int = 0  # 0: no cap; N: a longer tab shows its first N-1 rows and one row summing the rest
    over_limit: str = "cap"  # past Google's 10M cells: "cap" the longest tabs at the rows that fit, or "fail"
    dashboard_tab: str = "Dashboard"  # the tab holding the native charts; "" for no dashboard
    timeout_seconds: float = 60.0  # per HTTP request (connect and read)
    max_retries: int = 5  # in total for one run, on 408, 429, 5xx and connection errors
    retry_deadline_seconds: float = 300.0  # no retry starts that would end later than this after the first


@dataclass(frozen=True)
class EconomicsSection:
    """Unit economics: acquisition spend (a constant, a spend file and/or a table), gross margin, benchmarks."""

    acquisition_spend_per_month: float = 4000.0  # every month not listed in spend_file / spend_by_month
    spend_file: str = _path()  # CSV (month,spend) or NDJSON ({"month", "spend"}) of month -> spend
    spend_by_month: tuple[tuple[str, float], ...] = ()  # {"2017-01" = 3500, ...}; wins over spend_file
    gross_margin: float = 1.0  # a fraction in (0, 1]
    churn_window_months: int = 3  # LTV uses logo churn averaged over this many trailing months
    ltv_cac_benchmark: float = 3.0  # Summary verdict: LTV:CAC at or above this is healthy
    payback_benchmark_months: float = 12.0  # Summary verdict: CAC payback at or below this is healthy


@dataclass(frozen=True)
class SegmentsSection:
    """Customer segments: seat buckets (lower bounds), sessions-per-seat quantiles, attribute column names."""

    seat_buckets: tuple[int, ...] = (1, 2, 6, 11, 21)  # 1 / 2-5 / 6-10 / 11-20 / 21+
    sessions_per_seat_quantiles: int = 4
    seats_column: str = "seats"
    sessions_column: str = "sessions"


ENGINES = ("local", "dask")
AUTO_PROCESSES_FROM = 3_000_000  # charges from which `processes = "auto"` reads the slices in 2 processes


@dataclass(frozen=True)
class EngineSection:
    """Where the per-customer work runs (docs/scale.md). local: this machine, the customers in slices of about
    `slice_charges` charges read one after the other, by this process or by `processes` spawned ones. dask: on dask.distributed, the customers cut into `partitions`
    ranges of their ids, on a local cluster of `workers` processes or on the running cluster whose scheduler is at
    `scheduler` (e.g. tcp://10.0.0.5:8786). Same tables either way."""

    name: Literal["local", "dask"] = "local"
    workers: int = 0  # dask: start a local cluster of this many worker processes
    scheduler: str = ""  # dask: the address of a running cluster's scheduler
    partitions: int = 0  # dask: customer partitions (0: 2 per worker thread, at least 2)
    threads_per_worker: int = 1  # dask local cluster: threads per worker process
    slice_charges: int = 500_000  # local: read the log in slices of its customers of about this many charges (0: at once)
    # local: processes that read the slices (0: one per CPU); "auto": 2 for a log of AUTO_PROCESSES_FROM charges or
    # more on a machine of 2+ CPUs (faster there, in about the memory of one: docs/scale.md), else 1
    processes: int | Literal["auto"] = "auto"


def check_engine(engine: EngineSection, where: str, dataset: str = "payments") -> EngineSection:
    """The engine settings, or a ConfigError saying what is wrong with them (`where`: the config file or the flags)."""
    if engine.name not in ENGINES:
        raise ConfigError(f"{where}: engine.name = {engine.name!r}: expected one of {', '.join(ENGINES)}")
    if engine.processes != "auto" and (isinstance(engine.processes, bool) or not isinstance(engine.processes, int)):
        raise ConfigError(f"{where}: engine.processes = {engine.processes!r}: expected a whole number or 'auto'")
    for key in ("workers", "partitions", "slice_charges", "processes"):
        if getattr(engine, key) != "auto" and getattr(engine, key) < 0:
            raise ConfigError(f"{where}: engine.{key} = {getattr(engine, key)}: expected 0 or more")
    if engine.threads_per_worker < 1:
        raise ConfigError(f"{where}: engine.threads_per_worker = {engine.threads_per_worker}: expected 1 or more")
    if engine.name == "local":
        dask_only = [k for k, default in (("workers", 0), ("scheduler", ""), ("partitions", 0),
                                          ("threads_per_worker", 1)) if getattr(engine, k) != default]
        if dask_only:  # (the config is refused as it is read: no --engine flag gets past this)
            keys = ", ".join(f"engine.{k}" for k in dask_only)
            raise ConfigError(f"{where}: {keys} appl{'ies' if len(dask_only) == 1 else 'y'} to the dask engine only: "
                              "set engine.name = \"dask\", or leave the key out of a config for the local engine")
        return engine
    if engine.processes not in (1, "auto"):
        raise ConfigError(f"{where}: engine.processes = {engine.processes} applies to the local engine only (the dask "
                          "engine's processes are its workers: engine.workers)")
    if engine.workers and engine.scheduler:
        raise ConfigError(f"{where}: give engine.workers (a local Dask cluster) or engine.scheduler (a running one), "
                          "not both")
    if engine.scheduler and engine.threads_per_worker != 1:
        raise ConfigError(f"{where}: engine.threads_per_worker sizes a local cluster's workers (engine.workers); a "
                          "running cluster's workers have the threads they were started with")
    if not engine.workers and not engine.scheduler:
        raise ConfigError(f"{where}: the dask engine needs engine.workers (a local cluster of N processes) or "
                          "engine.scheduler (the address of a running cluster's scheduler)")
    if engine.scheduler and not re.fullmatch(r"(tcp|tls|ucx|inproc|ws|wss)://\S+|[\w.-]+:\d+", engine.scheduler):
        raise ConfigError(f"{where}: engine.scheduler = {engine.scheduler!r}: expected an address such as "
                          "tcp://10.0.0.5:8786")
    if dataset != "payments":
        raise ConfigError(f"{where}: the dask engine partitions payment logs by customer; a {dataset} dataset runs "
                          "on the local engine")
    return engine


def with_engine(settings: Settings, *, name: str | None = None, workers: int | None = None,
                scheduler: str | None = None, partitions: int | None = None,
                processes: int | Literal["auto"] | None = None) -> Settings:
    """The settings with the engine given on the command line (each flag given overrides the config's)."""
    if name is None and workers is None and scheduler is None and partitions is None and processes is None:
        return settings
    current = settings.engine
    changes: dict[str, Any] = {}
    if processes is not None:
        changes["processes"] = processes
    if workers is not None and scheduler is not None:
        raise ConfigError("command line: give --workers (a local Dask cluster) or --scheduler (a running one), not both")
    if name is not None:
        changes["name"] = name
        if name == "local":  # the config's dask cluster does not apply to this run
            changes.update(workers=0, scheduler="", partitions=0, threads_per_worker=1)
        elif name == "dask" and processes is None and current.name != "dask":
            changes["processes"] = "auto"  # the config's local processes do not apply to this run
    if workers is not None:
        changes.update(workers=workers, scheduler="")
    if scheduler is not None:  # a running cluster: the config's local cluster (its size, its threads) does not apply
        changes.update(scheduler=scheduler, workers=0, threads_per_worker=1)
    if partitions is not None:
        changes["partitions"] = partitions
    if changes.get("name", current.name) == "dask" and name is not None and workers is None and scheduler is None \
            and not current.workers and not current.scheduler:
        changes["workers"] = 1
    engine = check_engine(dataclasses.replace(current, **changes), "command line", settings.dataset.kind)
    return dataclasses.replace(settings, engine=engine)


SECTIONS: dict[str, type] = {
    "dataset": DatasetSection,
    "sources": SourcesSection,
    "billing": BillingSection,
    "quality": QualitySection,
    "output": OutputSection,
    "schedule": ScheduleSection,
    "guard": GuardSection,
    "availability": AvailabilitySection,
    "portfolio": PortfolioSection,
    "economics": EconomicsSection,
    "segments": SegmentsSection,
    "publish": PublishSection,
}
TOP_LEVEL_KEYS = {"timezone": str, "as_of": str}


class Secrets:
    """Secrets from the environment. Its repr never shows a value."""

    NAMES = (
        "GOOGLE_SERVICE_ACCOUNT_FILE",
        "GOOGLE_SERVICE_ACCOUNT_JSON",
        "KPI_SYNC_SPREADSHEET_ID",
        "LUCCA_BASE_URL",
        "LUCCA_API_KEY",
    )

    def __init__(self, environ: Mapping[str, str]):
        self._values = {n: environ[n] for n in self.NAMES if environ.get(n)}

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def values(self) -> list[str]:
        """Every secret value, for log redaction."""
        return [v for v in self._values.values() if v]

    def __repr__(self) -> str:
        return f"Secrets(set={sorted(self._values)})"


@dataclass(frozen=True)
class Settings:
    config_path: Path
    timezone: str
    as_of: str
    dataset: DatasetSection
    sources: SourcesSection
    billing: BillingSection
    quality: QualitySection
    output: OutputSection
    schedule: ScheduleSection
    secrets: Secrets
    params: Params
    sections: Mapping[str, Any] = field(default_factory=dict)  # every section by name, for About
    # where the work runs: not a setting of the numbers (About does not list it: the tables are the same on every
    # engine)
    engine: EngineSection = field(default_factory=EngineSection)

    def section(self, name: str) -> Any:
        """Any section by its TOML name (sections added later are reached this way)."""
        return self.sections[name]

    @property
    def google_configured(self) -> bool:
        return bool(self.secrets.get("GOOGLE_SERVICE_ACCOUNT_FILE") or self.secrets.get("GOOGLE_SERVICE_ACCOUNT_JSON"))

    def about_rows(self) -> tuple[tuple[str, str], ...]:
        """Every active setting as (key, value) text, for the About tab. Secrets are not settings."""
        rows: list[tuple[str, str]] = [("timezone", self.timezone), ("as_of", self.as_of or "(newest revenue timestamp)")]
        economics = self.params.economics
        # the defaults the unit economics rest on where no month's own spend is given (kpi.params.EconomicsParams)
        assumed = {"acquisition_spend_per_month": economics.constant_is_default(),
                   "gross_margin": economics.margin_is_default()}
        for name, value in self.sections.items():
            for f in dataclasses.fields(value):
                shown = getattr(value, f.name)
                if isinstance(shown, tuple):
                    shown = ", ".join(f"{k}={v}" for k, v in shown) if shown and isinstance(shown[0], tuple) else ", ".join(map(str, shown))
                if name == "economics" and assumed.get(f.name):  # a default the unit economics rest on: not a fact
                    shown = f"{shown} (default, not set in the config: an assumption, not this business's figure" + (
                        ", for every month without a spend of its own)" if f.name == "acquisition_spend_per_month"
                        else ")")
                rows.append((f"{name}.{f.name}", str(shown)))
        return tuple(rows)


def _describe(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check a TOML value against a field annotation; convert tables/lists to tuples."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{where} = {value!r}: expected one of {', '.join(map(repr, allowed))}")
        return value
    if origin in (types.UnionType, typing.Union):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        errors: list[str] = []
        in_order: list[str] = []
        for a in members:
            try:
                return _coerce(value, a, where)
            except ConfigError as exc:
                # the member of the value's own shape (a table or list for tuples) says what is wrong best
                shaped = (typing.get_origin(a) is tuple) == isinstance(value, dict | list)
                errors.insert(0 if shaped else len(errors), str(exc))
                in_order.append(str(exc))
        hint = _UNION_HINTS.get(where.rpartition(": ")[2])  # where: "<config file>: section.key"
        if hint and not isinstance(value, dict):  # a value of no member's shape: what the setting takes
            raise ConfigError(f"{where} = {value!r}: {hint}")
        if not isinstance(value, dict | list) and all(typing.get_origin(a) is not tuple for a in members):
            # scalars only (a whole number or 'auto'): every member's expectation, joined
            prefix = f"{where} = {value!r}: expected "
            wants = [e.removeprefix(prefix).removeprefix("one of ") for e in in_order if e.startswith(prefix)]
            if len(wants) == len(in_order):
                raise ConfigError(f"{where} = {value!r}: expected {' or '.join(wants)}")
        raise ConfigError(errors[0])
    if origin is tuple:
        args = typing.get_args(tp)
        if args and typing.get_origin(args[0]) is tuple:  # tuple[tuple[str, X], ...] <- a TOML table
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of key = value")
            inner = typing.get_args(args[0])
            return tuple((str(k), _coerce(v, inner[1], f"{where}.{k}")) for k, v in value.items())
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        item = args[0] if args else Any
        return tuple(_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} = {value!r}: expected a number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} = {value!r}: expected a whole number")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} = {value!r}: expected true or false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} = {value!r}: expected a string")
        return value
    raise ConfigError(f"{where}: unsupported setting type {_describe(tp)}")


def _section(cls: type, raw: Any, name: str, base: Path, source: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {name}.{unknown[0]} (known keys in [{name}]: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        coerced = _coerce(value, hints[key], f"{source}: {name}.{key}")
        if known[key].metadata.get("path") and coerced and not is_url(coerced):
            coerced = str((base / coerced).resolve())
        if known[key].metadata.get("sink") and coerced:
            try:  # a config error when the config is read: a worker stops at start, not at every run
                check_sink_uri(coerced)
            except ConfigError as exc:
                raise ConfigError(f"{source}: {name}.{key}: {exc}") from None
            coerced = _sink_beside(coerced, base)
        values[key] = coerced
    return cls(**values)


SINK_KINDS = ("xlsx", "csv", "gsheet")


def check_sink_uri(uri: str) -> None:
    """A ConfigError unless `uri` reads KIND:TARGET with a known kind (checked for --sink, the config's [output] sink
    when the config is read, and by sync.sinks.open_sink)."""
    scheme, sep, target = uri.partition(":")
    if not sep or not target:
        raise ConfigError(f"sink {uri!r}: expected xlsx:PATH, csv:DIR or gsheet:SPREADSHEET_ID")
    if scheme not in SINK_KINDS:
        if scheme.strip().lower() in SINK_KINDS:
            raise ConfigError(f"sink {uri!r}: write the kind {scheme.strip().lower()!r} in lower case, with no space "
                              "before the colon")
        raise ConfigError(f"sink {uri!r}: unknown kind {scheme!r} (use xlsx, csv or gsheet)")
    if scheme in ("xlsx", "csv") and target != target.strip():
        raise ConfigError(f"sink {uri!r}: the path begins or ends with a space, which would be part of the file's "
                          "name: remove it")


def parse_day(text: str) -> pd.Timestamp:
    """An as_of day, YYYY-MM-DD (checked for --as-of, the config's as_of when the config is read, and by the run)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise ConfigError(f"as_of {text!r}: expected a day, YYYY-MM-DD")
    try:
        day = pd.Timestamp(text.strip())
    except (ValueError, TypeError, OverflowError):
        raise ConfigError(f"as_of {text!r}: no such day (expected YYYY-MM-DD)") from None
    if not pd.Timestamp.min < day < pd.Timestamp.max:  # a day the tables' nanosecond timestamps cannot hold
        raise ConfigError(f"as_of {text!r}: expected a day between {pd.Timestamp.min:%Y} and {pd.Timestamp.max:%Y}")
    return day


def _sink_beside(uri: str, base: Path) -> str:
    """A configured xlsx:PATH or csv:DIR with its relative path resolved against the config file's folder (a worker
    started from another folder publishes where the config says, beside the guard's state); other sinks as given."""
    kind, sep, target = uri.partition(":")
    if sep and kind in ("xlsx", "csv") and target and not Path(target).expanduser().is_absolute():
        return f"{kind}:{(base / target).resolve()}"
    return uri


def _check_timezone(tz: str, where: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown timezone {tz!r} (use an IANA name such as Europe/Paris)") from None
    return tz


def build_params(sections: Mapping[str, Any], timezone: str, economics_keys: frozenset[str] = frozenset()) -> Params:
    """The pure KPI parameters from the parsed sections (the only thing kpi/ sees).

    `economics_keys`: the keys the config's [economics] table sets, so the Summary can say which inputs of its
    verdicts are defaults."""
    billing: BillingSection = sections["billing"]
    output: OutputSection = sections["output"]
    # The currency goes into every money cell's number format ('#,##0.00 "EUR"'): a quote, a backslash or a
    # control character there makes a format Excel refuses or a workbook no reader opens.
    if len(output.currency) > 10 or any(c in '"\\' or ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in output.currency):
        raise ConfigError(f"output.currency = {output.currency!r}: expected a currency code or symbol such as EUR or "
                          "€ (at most 10 characters, no quotes, backslashes or control characters)")
    availability: AvailabilitySection = sections.get("availability", AvailabilitySection())
    portfolio: PortfolioSection = sections.get("portfolio", PortfolioSection())
    economics = _economics_params(sections.get("economics", EconomicsSection()), economics_keys)
    segments = _segment_params(sections.get("segments", SegmentsSection()))
    return Params(
        timezone=timezone,
        currency=output.currency,
        billing=BillingRules(
            renewal_tolerance_hours=billing.renewal_tolerance_hours,
            annual_min_amount=billing.annual_min_amount,
            prorations=billing.prorations,
            billing_overrides=billing.billing_overrides,
            price_book=_price_book(billing.price_book),
            unlisted_tiers=billing.unlisted_tiers,
        ),
        availability=AvailabilityParams(
            count_pending=availability.count_pending,
            remote_work_accounts=availability.remote_work_accounts,
        ),
        portfolio=PortfolioParams(
            indirect_partner_types=portfolio.indirect_partner_types,
            sector_churn_window_months=portfolio.sector_churn_window_months,
        ),
        economics=economics,
        segments=segments,
    )


PRICE_LIST_KEYS = ("monthly_seat", "annual_seat", "annual_points")
_PRICE_BOOK_WANTS = ('expected "auto", "off" or a table of prices such as '
                     '{ monthly_seat = [18.0], annual_seat = [180.0] }')
# Settings of several shapes whose members' own errors would not say what the setting takes (metrics.md 2b writes
# price_book = ["auto"]: its "expected a table of key = value" offered neither "auto" nor "off").
_UNION_HINTS = {"billing.price_book": _PRICE_BOOK_WANTS}


def _price_book(value: str | tuple[tuple[str, tuple[float, ...]], ...]) -> Literal["auto", "off"] | PriceList:
    """billing.price_book -> "auto", "off" or the configured PriceList (every key known, every price > 0 and finite)."""
    if isinstance(value, str):
        if value not in ("auto", "off"):
            raise ConfigError(f"billing.price_book = {value!r}: {_PRICE_BOOK_WANTS}")
        return "auto" if value == "auto" else "off"
    prices = dict(value)
    unknown = sorted(set(prices) - set(PRICE_LIST_KEYS))
    if unknown:
        raise ConfigError(f"billing.price_book.{unknown[0]}: unknown key (known: {', '.join(PRICE_LIST_KEYS)})")
    for key, listed in prices.items():
        bad = [p for p in listed if not (p > 0 and math.isfinite(p))]
        if bad:
            raise ConfigError(f"billing.price_book.{key} = {list(listed)}: prices must be > 0 and finite")
    if not any(prices.values()):
        raise ConfigError("billing.price_book: the table lists no price (use \"off\" for no price book)")
    return PriceList(**{k: tuple(prices.get(k, ())) for k in PRICE_LIST_KEYS})


def _economics_params(section: EconomicsSection, stated: frozenset[str] = frozenset()) -> EconomicsParams:
    """[economics] -> EconomicsParams; reads the spend file (a small month -> spend table) when one is set."""
    from sync.sources.spend import load_spend, parse_month

    if section.acquisition_spend_per_month < 0:
        raise ConfigError(f"economics.acquisition_spend_per_month = {section.acquisition_spend_per_month}: expected >= 0")
    if not 0 < section.gross_margin <= 1:
        raise ConfigError(f"economics.gross_margin = {section.gross_margin}: expected a fraction in (0, 1]")
    if section.churn_window_months < 1:
        raise ConfigError(f"economics.churn_window_months = {section.churn_window_months}: expected 1 or more")
    spend = dict(load_spend(section.spend_file)) if section.spend_file else {}
    for key, value in section.spend_by_month:
        month = parse_month(key)
        if month is None:
            raise ConfigError(f"economics.spend_by_month.{key}: the key must be a month, YYYY-MM")
        if value < 0:
            raise ConfigError(f"economics.spend_by_month.{key} = {value}: expected >= 0")
        spend[month] = value
    return EconomicsParams(
        acquisition_spend_per_month=section.acquisition_spend_per_month,
        spend_by_month=tuple(sorted(spend.items())),
        gross_margin=section.gross_margin,
        churn_window_months=section.churn_window_months,
        ltv_cac_benchmark=section.ltv_cac_benchmark,
        payback_benchmark_months=section.payback_benchmark_months,
        stated=frozenset(stated),
    )


def _segment_params(section: SegmentsSection) -> SegmentParams:
    """[segments] -> SegmentParams (seat bucket bounds must be increasing whole numbers >= 0)."""
    bounds = section.seat_buckets
    if not bounds or any(b < 0 for b in bounds) or any(b >= c for b, c in zip(bounds, bounds[1:], strict=False)):
        raise ConfigError(f"segments.seat_buckets = {list(bounds)}: expected increasing lower bounds >= 0, e.g. [1, 2, 6, 11, 21]")
    if section.sessions_per_seat_quantiles < 1:
        raise ConfigError(f"segments.sessions_per_seat_quantiles = {section.sessions_per_seat_quantiles}: expected 1 or more")
    return SegmentParams(
        seat_buckets=bounds,
        sessions_per_seat_quantiles=section.sessions_per_seat_quantiles,
        seats_column=section.seats_column,
        sessions_column=section.sessions_column,
    )


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read a TOML config (default: `default_config()`) and the environment into Settings."""
    config_path = Path(path) if path else default_config()
    source = str(config_path)
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if not path:  # neither the current folder's config/default.toml nor the checkout's (none beside a package
            # installed with `pip install .`: not named, it never exists)
            raise ConfigError(f"no config/default.toml in {Path.cwd()}: give --config PATH, or run from the folder "
                              "that holds config/") from None
        raise ConfigError(f"config file {source} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {source}: {exc.strerror}") from None
    base = config_path.resolve().parent

    unknown = sorted(k for k in raw if k not in SECTIONS and k not in TOP_LEVEL_KEYS and k != "engine")
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]} (known: {', '.join(sorted([*SECTIONS, *TOP_LEVEL_KEYS, 'engine']))})"
        )
    sections = {name: _section(cls, raw.get(name, {}), name, base, source) for name, cls in SECTIONS.items()}
    engine = check_engine(_section(EngineSection, raw.get("engine", {}), "engine", base, source), source,
                          sections["dataset"].kind)
    top = {k: _coerce(raw[k], t, f"{source}: {k}") for k, t in TOP_LEVEL_KEYS.items() if k in raw}
    if top.get("as_of"):
        try:  # checked when the config is read, as the sink: a worker stops at start
            parse_day(top["as_of"])
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    timezone = top.get("timezone") or sections["billing"].timezone or "UTC"
    _check_timezone(timezone, f"{source}: timezone")
    if sections["schedule"].timezone:
        _check_timezone(sections["schedule"].timezone, f"{source}: schedule.timezone")

    return Settings(
        config_path=config_path.resolve(),
        timezone=timezone,
        as_of=top.get("as_of", ""),
        secrets=Secrets(environ if environ is not None else {}),
        params=build_params(sections, timezone, frozenset(raw.get("economics", {}))),
        sections=sections,
        engine=engine,
        **{f.name: sections[f.name] for f in dataclasses.fields(Settings) if f.name in sections},
    )
