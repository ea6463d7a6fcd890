"""The guard against publishing bad news that is really bad data, and the run history behind it.

A small JSON state file keeps, per destination, the numbers of the last published run (rows
read per input file, MRR and paying customers of the latest month) and the last runs with their
outcome. Before a run publishes, its numbers are compared with the last published ones: when an
input shrank, or MRR or the customer count dropped, by more than `guard.max_drop` (a share,
default 0.5), the run is refused with GuardError saying what dropped; `--force` publishes anyway
(and its numbers become the new reference). Failed and refused runs are added to the history and
never replace the reference.

The file is replaced atomically (temporary file + rename), so a reader sees the old state or the
new one. Only a run that holds the run lock writes it.

State file layout (version 1):
    {"version": 1,
     "destinations": {"xlsx:/abs/out/kpis.xlsx": {"last_good": {...Snapshot...},
                                                    "history": [{...RunRecord...}, ...]}}}
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sync.errors import ConfigError, GuardError

if TYPE_CHECKING:
    from kpi.tables import Context
    from sync.settings import Settings

STATE_VERSION = 1
MAX_DESTINATIONS = 20  # destinations kept in the state file, most recently used first
HISTORY_COLUMNS = ("started_at", "seconds", "destination", "outcome", "tabs_changed", "rows", "mrr", "customers", "error")

# Outcomes, as shown in the Sync status tab.
PUBLISHED = "published"
FORCED = "published with --force"
REFUSED = "refused by the guard"
FAILED = "failed"


@dataclass(frozen=True)
class GuardSettings:
    max_drop: float
    state_file: Path
    lock_file: Path
    keep_runs: int


def guard_settings(settings: Settings) -> GuardSettings:
    """The [guard] section with its paths made absolute (relative to the config file's folder, defaults included)."""
    from sync.settings import GuardSection

    section = settings.sections.get("guard") or GuardSection()
    where = f"{settings.config_path}: guard"
    if not (isinstance(section.max_drop, float) and 0 < section.max_drop <= 1):
        raise ConfigError(f"{where}.max_drop = {section.max_drop!r}: expected a share between 0 (exclusive) and 1, e.g. 0.5")
    if section.keep_runs < 1:
        raise ConfigError(f"{where}.keep_runs = {section.keep_runs!r}: expected at least 1")
    if not section.state_file:
        raise ConfigError(f"{where}.state_file is empty: give a path, e.g. state/last_run.json")
    base = Path(settings.config_path).parent
    state = (base / Path(section.state_file).expanduser()).absolute()
    lock = (base / Path(section.lock_file).expanduser()).absolute() if section.lock_file else state.with_name("kpi-sync.lock")
    return GuardSettings(max_drop=section.max_drop, state_file=state, lock_file=lock, keep_runs=section.keep_runs)


def destination_key(destination: str) -> str:
    """The state key of a sink destination: local paths resolved (absolute, `..` and symlinks followed), so
    `out/x.xlsx`, its full path, `dir/../out/x.xlsx` and a path through a symlinked folder all agree."""
    scheme, _, target = destination.partition(":")
    if scheme in ("xlsx", "csv") and target:
        return f"{scheme}:{Path(target).expanduser().resolve()}"
    return destination


@dataclass(frozen=True)
class Snapshot:
    """What the guard compares: one run's input sizes and headline numbers."""

    started_at: str  # ISO UTC
    dataset: str
    as_of: str  # ISO UTC
    inputs: dict[str, int]  # role -> rows read
    mrr: float | None  # MRR of the latest month
    customers: int | None  # paying customers of the latest month

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            started_at=str(data.get("started_at", "")),
            dataset=str(data.get("dataset", "")),
            as_of=str(data.get("as_of", "")),
            inputs={str(k): int(v) for k, v in (data.get("inputs") or {}).items()},
            mrr=_num(data.get("mrr")),
            customers=None if data.get("customers") is None else int(data["customers"]),
        )


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def snapshot(ctx: Context, started_at: pd.Timestamp) -> Snapshot:
    """The guard's numbers for a computed run: rows per input file; MRR and customers of the last month."""
    inputs: dict[str, int] = {}
    for f in ctx.run.inputs:
        inputs[f.role] = inputs.get(f.role, 0) + int(f.rows)
    mrr: float | None = None
    customers: int | None = None
    table = ctx.mrr_by_month
    if len(table):
        last = table.iloc[-1]
        if "mrr" in table.columns and pd.notna(last["mrr"]):
            mrr = float(last["mrr"])
        if "customers" in table.columns and pd.notna(last["customers"]):
            customers = int(last["customers"])
    return Snapshot(
        started_at=_iso(started_at),
        dataset=ctx.dataset,
        as_of=_iso(ctx.as_of),
        inputs=inputs,
        mrr=mrr,
        customers=customers,
    )


def _iso(ts: pd.Timestamp) -> str:
    ts = pd.Timestamp(ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def drops(previous: Snapshot | None, current: Snapshot, max_drop: float) -> list[str]:
    """What fell by more than `max_drop` against the last published run, one phrase each ([] = nothing)."""
    if previous is None or previous.dataset != current.dataset:
        return []
    found: list[str] = []

    def check(label: str, before: float | None, now: float | None, shown: str) -> None:
        if before is None or now is None or before <= 0:
            return
        share = (before - now) / before
        if share > max_drop:
            found.append(f"{label} {shown.format(before)} -> {shown.format(now)} (-{share:.0%})")

    for role, before in sorted(previous.inputs.items()):
        check(f"{role} rows read", before, current.inputs.get(role, 0), "{:,.0f}")
    check("MRR of the latest month", previous.mrr, current.mrr, "{:,.2f}")
    check("paying customers of the latest month", previous.customers, current.customers, "{:,.0f}")
    return found


def guard_message(found: list[str], previous: Snapshot, max_drop: float) -> str:
    return (
        f"guard: refusing to publish, compared with the last published run ({previous.started_at}): "
        + "; ".join(found)
        + f", more than guard.max_drop = {max_drop:.0%}: nothing was published. If the data is right, "
        "run `kpi-sync now --force`."
    )


def check(previous: Snapshot | None, current: Snapshot, max_drop: float) -> None:
    """Raise GuardError when `current` dropped too far against `previous`."""
    found = drops(previous, current, max_drop)
    if found:
        assert previous is not None
        raise GuardError(guard_message(found, previous, max_drop))


@dataclass
class RunRecord:
    """One line of the run history (the Sync status tab)."""

    started_at: str
    seconds: float
    destination: str
    outcome: str
    tabs_changed: int | None = None
    rows: int | None = None
    mrr: float | None = None
    customers: int | None = None
    error: str = ""


@dataclass
class DestinationState:
    last_good: Snapshot | None = None
    history: list[RunRecord] = field(default_factory=list)


class StateFile:
    """The guard's state file: read leniently (a broken file is reported, never fatal), written atomically."""

    def __init__(self, path: Path):
        self.path = path
        self.problem: str | None = None  # why the file could not be read, if it could not

    def read_all(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": STATE_VERSION, "destinations": {}}
        except (OSError, ValueError) as exc:
            self.problem = f"state file {self.path} unreadable ({exc.__class__.__name__}); starting a new one"
            return {"version": STATE_VERSION, "destinations": {}}
        if not isinstance(data, dict) or not isinstance(data.get("destinations"), dict):
            self.problem = f"state file {self.path} has an unknown layout; starting a new one"
            return {"version": STATE_VERSION, "destinations": {}}
        return data

    def read(self, destination: str) -> DestinationState:
        entry = self.read_all()["destinations"].get(destination_key(destination)) or {}
        try:
            last = Snapshot.from_dict(entry["last_good"]) if entry.get("last_good") else None
            history = [RunRecord(**{k: r.get(k) for k in RunRecord.__dataclass_fields__ if k in r})
                       for r in entry.get("history") or []]
        except (TypeError, ValueError, KeyError) as exc:
            self.problem = f"state file {self.path}: entry for {destination} unreadable ({exc}); ignoring it"
            return DestinationState()
        return DestinationState(last_good=last, history=history)

    def record(self, destination: str, run: RunRecord, *, good: Snapshot | None, keep_runs: int) -> None:
        """Add `run` to the destination's history; with `good`, it also becomes the guard's reference."""
        data = self.read_all()
        data["version"] = STATE_VERSION
        key = destination_key(destination)
        entry = data["destinations"].setdefault(key, {})
        history = [*(entry.get("history") or []), asdict(run)]
        entry["history"] = history[-keep_runs:]
        if good is not None:
            entry["last_good"] = asdict(good)
        data["destinations"] = _most_recent(data["destinations"], keep=key)
        self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        from sync.sinks.local import remove_stale_temporaries

        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.path)  # what a killed run left beside the state file
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.{os.getpid()}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, ensure_ascii=False)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(name, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)


def _most_recent(destinations: dict[str, Any], *, keep: str) -> dict[str, Any]:
    """At most MAX_DESTINATIONS entries: `keep` and the others most recently run (one-off sinks age out)."""
    if len(destinations) <= MAX_DESTINATIONS:
        return destinations

    def last_run(item: tuple[str, Any]) -> str:
        history = item[1].get("history") or [{}]
        return str(history[-1].get("started_at") or "")

    others = sorted((i for i in destinations.items() if i[0] != keep), key=last_run, reverse=True)
    kept = dict(others[: MAX_DESTINATIONS - 1])
    kept[keep] = destinations[keep]
    return kept


def history_frame(history: list[RunRecord]) -> pd.DataFrame:
    """The run history as the Context's `history` frame: one row per run, oldest first.

    Columns: started_at (UTC), seconds, destination, outcome, tabs_changed, rows, mrr, customers, error.
    """
    rows = [asdict(r) for r in history]
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    return pd.DataFrame(
        {
            "started_at": pd.to_datetime(frame["started_at"], utc=True, errors="coerce").astype("datetime64[ns, UTC]"),
            "seconds": pd.to_numeric(frame["seconds"], errors="coerce").astype("float64"),
            "destination": frame["destination"].astype("object"),
            "outcome": frame["outcome"].astype("object"),
            "tabs_changed": pd.to_numeric(frame["tabs_changed"], errors="coerce").astype("Int64"),
            "rows": pd.to_numeric(frame["rows"], errors="coerce").astype("Int64"),
            "mrr": pd.to_numeric(frame["mrr"], errors="coerce").astype("float64"),
            "customers": pd.to_numeric(frame["customers"], errors="coerce").astype("Int64"),
            "error": frame["error"].fillna("").astype("object"),
        }
    )


def empty_history() -> pd.DataFrame:
    return history_frame([])
