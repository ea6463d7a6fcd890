"""The guard: a run whose input, MRR or customers collapsed is refused unless forced; the state file and history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from kpi.syncstatus import this_run_outcome
from sync.cli import main
from sync.errors import ConfigError, GuardError
from sync.guard import (
    FAILED,
    FORCED,
    PUBLISHED,
    REFUSED,
    RunRecord,
    Snapshot,
    StateFile,
    check,
    destination_key,
    drops,
    guard_settings,
    history_frame,
)
from sync.settings import load_settings

BASE = 1_700_000_000  # 2023-11-14
DAY = 86_400


# --- a tiny payment log, shared by the other ops tests -------------------------------------------------------


def invoices(customers: int = 20, months: int = 6, amount: float = 100.0) -> list[dict]:
    """Monthly charges of `amount` for each customer over `months` months, ordered by customer."""
    return [
        {"customerId": c, "amountPaid": amount, "timestampPaid": BASE + c * 60 + m * 31 * DAY}
        for c in range(1, customers + 1)
        for m in range(months)
    ]


def customers(n: int = 20) -> list[dict]:
    return [{"customerId": c, "nrSessions": 5 * c, "nrSeats": 2} for c in range(1, n + 1)]


def write_ndjson(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def make_ops_config(folder: Path, *, extra: str = "", records: list[dict] | None = None) -> Path:
    """A config in `folder` over invoices.json + customers.json (state in folder/state, the default)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_ndjson(folder / "invoices.json", invoices() if records is None else records)
    write_ndjson(folder / "customers.json", customers())
    config = folder / "kpi.toml"
    config.write_text(f'[sources]\ninvoices = "invoices.json"\ncustomers = "customers.json"\n{extra}', encoding="utf-8")
    return config


def truncate(path: Path, share: float) -> None:
    """Keep the first `share` of a file's lines (a truncated export)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: max(1, int(len(lines) * share))]), encoding="utf-8")


def history(config: Path) -> list[dict]:
    data = json.loads((config.parent / "state" / "last_run.json").read_text(encoding="utf-8"))
    (entry,) = data["destinations"].values()
    return entry["history"]


# --- the rule ------------------------------------------------------------------------------------------------


def snap(**changes: object) -> Snapshot:
    values: dict = {"started_at": "2024-05-01T06:00:00Z", "dataset": "payments", "as_of": "2024-05-01T05:00:00Z",
                    "inputs": {"invoices": 1000, "customers": 100}, "mrr": 10_000.0, "customers": 100}
    values.update(changes)
    return Snapshot(**values)


def test_nothing_dropped_within_the_share() -> None:
    """A drop of exactly max_drop, or a rise, passes the guard."""
    assert drops(snap(), snap(inputs={"invoices": 500, "customers": 100}, mrr=5_000.0, customers=50), 0.5) == []
    assert drops(snap(), snap(inputs={"invoices": 5000, "customers": 900}, mrr=1e6), 0.5) == []


def test_each_drop_is_named_with_before_and_after() -> None:
    """The message names every input, MRR and customer count that fell too far, with both values."""
    found = drops(snap(), snap(inputs={"invoices": 100, "customers": 100}, mrr=4_000.0, customers=10), 0.5)
    assert found == [
        "invoices rows read 1,000 -> 100 (-90%)",
        "MRR of the latest month 10,000.00 -> 4,000.00 (-60%)",
        "paying customers of the latest month 100 -> 10 (-90%)",
    ]
    with pytest.raises(GuardError, match=r"invoices rows read 1,000 -> 100.*--force"):
        check(snap(), snap(inputs={"invoices": 100, "customers": 100}), 0.5)


def test_a_missing_input_counts_as_empty() -> None:
    """An input the last run read and this run did not is a 100% drop."""
    assert drops(snap(), snap(inputs={"invoices": 1000}), 0.5) == ["customers rows read 100 -> 0 (-100%)"]


def test_no_reference_no_comparison() -> None:
    """The first run, or a run over another kind of dataset, is not compared."""
    assert drops(None, snap(mrr=1.0), 0.5) == []
    assert drops(snap(), snap(dataset="contracts", mrr=1.0), 0.5) == []


def test_guard_settings_default_paths_beside_the_config(tmp_path: Path) -> None:
    """state_file and lock_file default to state/ beside the config file; relative values too."""
    config = make_ops_config(tmp_path)
    g = guard_settings(load_settings(config, {}))
    assert (g.max_drop, g.keep_runs) == (0.5, 100)
    assert g.state_file == tmp_path / "state" / "last_run.json"
    assert g.lock_file == tmp_path / "state" / "kpi-sync.lock"
    config.write_text(config.read_text() + '[guard]\nstate_file = "s/x.json"\nlock_file = "/tmp/l.lock"\nmax_drop = 1\n')
    g = guard_settings(load_settings(config, {}))
    assert (g.state_file, g.lock_file, g.max_drop) == (tmp_path / "s" / "x.json", Path("/tmp/l.lock"), 1.0)


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2"])
def test_guard_max_drop_must_be_a_share(tmp_path: Path, value: str) -> None:
    """guard.max_drop outside (0, 1] is a config error naming the key."""
    config = make_ops_config(tmp_path, extra=f"[guard]\nmax_drop = {value}\n")
    with pytest.raises(ConfigError, match="guard.max_drop"):
        guard_settings(load_settings(config, {}))


def test_unknown_guard_key_is_rejected(tmp_path: Path) -> None:
    """A typo in [guard] is an error that lists the known keys."""
    config = make_ops_config(tmp_path, extra="[guard]\nmax_dorp = 0.3\n")
    with pytest.raises(ConfigError, match="guard.max_dorp.*max_drop"):
        load_settings(config, {})


# --- the state file ------------------------------------------------------------------------------------------


def test_failed_runs_keep_the_reference_and_history_is_capped(tmp_path: Path) -> None:
    """A failed run is added to the history without replacing the last good numbers; only keep_runs are kept."""
    state = StateFile(tmp_path / "state" / "last_run.json")
    good = snap()
    state.record("csv:out", RunRecord("2024-05-01T06:00:00Z", 1.0, "csv:out", PUBLISHED, 3, 30), good=good, keep_runs=3)
    for i in range(4):
        state.record("csv:out", RunRecord(f"2024-05-0{i + 2}T06:00:00Z", 1.0, "csv:out", FAILED, error="boom"),
                     good=None, keep_runs=3)
    entry = state.read("csv:out")
    assert entry.last_good == good
    assert [r.started_at[:10] for r in entry.history] == ["2024-05-03", "2024-05-04", "2024-05-05"]
    assert list((tmp_path / "state").iterdir()) == [tmp_path / "state" / "last_run.json"]  # no temporary left


def test_destinations_are_kept_apart(tmp_path: Path) -> None:
    """Each destination has its own reference: a forced local run does not move the sheet's."""
    state = StateFile(tmp_path / "s.json")
    state.record("gsheet:abc", RunRecord("t", 1.0, "gsheet:abc", PUBLISHED), good=snap(), keep_runs=5)
    state.record("xlsx:/tmp/x.xlsx", RunRecord("t", 1.0, "xlsx:/tmp/x.xlsx", FORCED), good=snap(mrr=1.0), keep_runs=5)
    assert state.read("gsheet:abc").last_good == snap()
    assert state.read("xlsx:/tmp/x.xlsx").last_good == snap(mrr=1.0)
    assert destination_key("xlsx:out/k.xlsx") == f"xlsx:{Path('out/k.xlsx').absolute()}"


def test_a_broken_state_file_is_reported_not_fatal(tmp_path: Path) -> None:
    """An unreadable state file reads as empty with a problem to log, and the next record replaces it."""
    path = tmp_path / "last_run.json"
    path.write_text("{not json", encoding="utf-8")
    state = StateFile(path)
    assert state.read("csv:out").last_good is None and "unreadable" in (state.problem or "")
    state.record("csv:out", RunRecord("t", 1.0, "csv:out", PUBLISHED), good=snap(), keep_runs=5)
    assert StateFile(path).read("csv:out").last_good == snap()


def test_history_frame_types() -> None:
    """The history frame has the documented columns, typed, with missing numbers as NA."""
    frame = history_frame([RunRecord("2024-05-01T06:00:00Z", 1.5, "csv:out", FAILED, error="boom")])
    assert list(frame.columns) == ["started_at", "seconds", "destination", "outcome", "tabs_changed", "rows", "mrr",
                                   "customers", "error"]
    assert str(frame["started_at"].dtype) == "datetime64[ns, UTC]" and frame["rows"].isna().all()


# --- end to end ----------------------------------------------------------------------------------------------


def test_truncated_input_is_refused_then_forced(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An input truncated to 10% is refused (nothing published, message says what dropped); --force publishes it."""
    config = make_ops_config(tmp_path)
    book = tmp_path / "out" / "kpis.xlsx"
    sink = ["--sink", f"xlsx:{book}"]
    assert main(["now", "--config", str(config), *sink]) == 0
    published = book.read_bytes()

    truncate(tmp_path / "invoices.json", 0.10)
    capsys.readouterr()
    assert main(["now", "--config", str(config), *sink]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: guard: refusing to publish")
    assert "invoices rows read 120 -> 12 (-90%)" in err and "MRR of the latest month 2,000.00 -> 200.00" in err
    assert "--force" in err
    assert book.read_bytes() == published

    assert main(["now", "--config", str(config), *sink, "--force"]) == 0
    assert book.read_bytes() != published
    runs = history(config)
    assert [r["outcome"] for r in runs] == [PUBLISHED, REFUSED, FORCED]
    assert runs[1]["tabs_changed"] is None and runs[1]["mrr"] == 200.0 and "invoices rows read" in runs[1]["error"]
    assert runs[2]["error"].startswith("guard overridden with --force")

    # The forced numbers are the new reference: the same small input now passes without --force.
    assert main(["now", "--config", str(config), *sink]) == 0
    assert history(config)[-1]["outcome"] == PUBLISHED


def test_mrr_collapse_without_fewer_lines_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The same number of lines with amounts cut by 90% is refused for MRR, not for input size."""
    config = make_ops_config(tmp_path)
    out = ["--sink", f"csv:{tmp_path / 'out'}"]
    assert main(["now", "--config", str(config), *out]) == 0
    write_ndjson(tmp_path / "invoices.json", invoices(amount=10.0))
    capsys.readouterr()
    assert main(["now", "--config", str(config), *out]) == 1
    err = capsys.readouterr().err
    assert "MRR of the latest month 2,000.00 -> 200.00 (-90%)" in err and "rows read" not in err


def test_a_smaller_share_is_configurable(tmp_path: Path) -> None:
    """guard.max_drop = 0.2 refuses a 30% drop that the default lets through."""
    config = make_ops_config(tmp_path, extra="[guard]\nmax_drop = 0.2\n")
    out = ["--sink", f"csv:{tmp_path / 'out'}"]
    assert main(["now", "--config", str(config), *out]) == 0
    write_ndjson(tmp_path / "invoices.json", invoices(customers=14))
    assert main(["now", "--config", str(config), *out]) == 1
    assert history(config)[-1]["outcome"] == REFUSED


def test_dry_run_checks_the_guard_and_records_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--dry-run applies the guard but writes neither the output nor the history."""
    config = make_ops_config(tmp_path)
    out = ["--sink", f"csv:{tmp_path / 'out'}"]
    assert main(["now", "--config", str(config), *out]) == 0
    truncate(tmp_path / "invoices.json", 0.10)
    assert main(["now", "--config", str(config), *out, "--dry-run"]) == 1
    assert "guard: refusing" in capsys.readouterr().err
    assert [r["outcome"] for r in history(config)] == [PUBLISHED]


def test_failed_run_is_in_the_history_and_sync_status_tab(tmp_path: Path) -> None:
    """A failing run is recorded (outcome failed, its error); the next published workbook lists it in Sync status."""
    config = make_ops_config(tmp_path)
    book = tmp_path / "kpis.xlsx"
    sink = ["--sink", f"xlsx:{book}"]
    assert main(["now", "--config", str(config), *sink]) == 0
    (tmp_path / "customers.json").write_text("", encoding="utf-8")
    assert main(["now", "--config", str(config), *sink]) == 1
    write_ndjson(tmp_path / "customers.json", customers())
    assert main(["now", "--config", str(config), *sink]) == 0

    workbook = openpyxl.load_workbook(book)
    sheet = workbook["Sync status"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Started (UTC)", "Duration (s)", "Outcome", "Tabs changed", "Rows", "MRR", "Customers", "Error")
    outcomes = [r[2] for r in rows[1:]]
    tabs = [n for n in workbook.sheetnames if n != "Dashboard"]  # the charts' sheet is drawn, not a published tab
    assert outcomes == [this_run_outcome(len(tabs)), FAILED, PUBLISHED]  # newest first
    this_run, failed, first = rows[1:]
    assert this_run[5] == 2000.0 and this_run[6] == 20 and this_run[1] is None
    # what is known while it publishes: the tabs (in Outcome) and rows it publishes, its start in UTC
    assert outcomes[0].startswith(f"this run: publishing {len(tabs)} tabs (its duration")
    assert this_run[4] == history(config)[-1]["rows"] > 0  # as recorded once the publish is done
    assert this_run[0] >= first[0] and abs(this_run[0] - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds() < 600
    assert "customers file is empty" in failed[7] and failed[3] is None
    assert first[3] > 0 and first[4] > 0 and first[7] is None  # tabs changed, rows; no error


@pytest.mark.parametrize("spelling", ["dotdot", "symlinked parent"])
def test_the_guard_knows_a_destination_by_its_resolved_path(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                            spelling: str) -> None:
    """csv:DIR/x/../out and csv:LINK/out (LINK -> DIR) are the destination csv:DIR/out: a truncated input is refused there too."""
    config = make_ops_config(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "link").symlink_to(tmp_path, target_is_directory=True)
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'out'}"]) == 0
    before = (tmp_path / "out" / "mrr.csv").read_bytes()
    truncate(tmp_path / "invoices.json", 0.40)
    other = tmp_path / "x" / ".." / "out" if spelling == "dotdot" else tmp_path / "link" / "out"
    capsys.readouterr()
    assert main(["now", "--config", str(config), "--sink", f"csv:{other}"]) == 1
    assert capsys.readouterr().err.startswith("Error: guard: refusing to publish")
    assert (tmp_path / "out" / "mrr.csv").read_bytes() == before


def test_state_file_temporaries_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    """A temporary a killed run left beside the state file (.last_run.json.*.tmp) is removed by the next write."""
    config = make_ops_config(tmp_path)
    state = guard_settings(load_settings(config, {})).state_file
    state.parent.mkdir(parents=True, exist_ok=True)
    (state.parent / f".{state.name}.x7k2.tmp").write_text("{", encoding="utf-8")
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'out'}"]) == 0
    assert sorted(p.name for p in state.parent.iterdir() if p.name.startswith(".")) == []


def test_the_billing_tab_written_ahead_is_published_and_a_refused_run_leaves_nothing_beside(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV sink writes the Billing tab while the run computes the others (sync.run.tables_ahead): the files are
    those of a run that writes every tab at its publish, and a run refused by the guard, or a dry run, leaves no
    temporary beside the folder and the folder as it was."""
    from sync import run
    from sync.sinks.csv import CsvSink

    given: list[str] = []
    real = CsvSink.render_ahead
    monkeypatch.setattr(CsvSink, "render_ahead", lambda self, table: given.append(table.name) or real(self, table))
    config = make_ops_config(tmp_path)
    out = tmp_path / "out"
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}"]) == 0
    assert given == ["Billing"]
    ahead = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(run, "AHEAD_TABS", ())
    plain = tmp_path / "plain" / "out"
    assert main(["now", "--config", str(config), "--sink", f"csv:{plain}"]) == 0
    assert given == ["Billing"]
    same = {p.name: p.read_bytes() for p in plain.iterdir()}
    assert ahead.keys() == same.keys() and ahead["billing.csv"] == same["billing.csv"]
    assert {n for n in ahead if ahead[n] != same[n]} <= {"about.csv", "sync_status.csv"}  # (the run's time, path)
    monkeypatch.undo()
    monkeypatch.setattr(CsvSink, "render_ahead", lambda self, table: given.append(table.name) or real(self, table))
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}", "--dry-run"]) == 0
    assert given == ["Billing"]
    truncate(tmp_path / "invoices.json", 0.10)
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}"]) == 1
    assert given == ["Billing", "Billing"]  # (refused by the guard after the tab began: it sees the inputs first)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == ahead
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == []
