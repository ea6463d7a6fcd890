"""The worker: runs at start and on the schedule, survives failed runs, and stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import schedule

from sync.cli import main
from sync.errors import ConfigError, InputDataError, LockedError
from sync.lock import Cancelled, StopGate
from sync.settings import Settings, load_settings
from sync.worker import plan_jobs, run_worker
from tests.sync.test_guard import history, make_ops_config
from tests.sync.test_lock import hook_env, wait_for

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)


class FakeClock:
    """The time the `schedule` package sees; only the test moves it."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Injects a fake clock into `schedule` (it reads datetime.datetime.now() and nothing else)."""
    fake = FakeClock(dt.datetime(2024, 3, 30, 0, 0, tzinfo=UTC))

    class FakeDateTime(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            # schedule wants naive local time without tz, aware time in tz with it
            return fake.now.astimezone(tz) if tz is not None else fake.now.astimezone().replace(tzinfo=None)

    shim = types.ModuleType("datetime")
    shim.__dict__.update({k: getattr(dt, k) for k in dir(dt) if not k.startswith("__")})
    shim.datetime = FakeDateTime  # type: ignore[attr-defined]
    monkeypatch.setattr(schedule, "datetime", shim)
    return fake


def settings_with(tmp_path: Path, schedule_toml: str) -> Settings:
    return load_settings(make_ops_config(tmp_path, extra=f"[schedule]\n{schedule_toml}\n"), {})


def utc(job: schedule.Job) -> dt.datetime:
    assert job.next_run is not None
    return job.next_run.astimezone(UTC)  # schedule keeps naive local time


# --- the schedule ----------------------------------------------------------------------------------------------


def test_worker_keeps_its_schedule_after_a_failed_run(tmp_path: Path, clock: FakeClock,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Every 1h: a run at start, a failing run an hour later, and the next run an hour after that all happen."""
    caplog.set_level(logging.INFO, logger="kpi_sync")
    settings = settings_with(tmp_path, 'every = "1h"')
    stop = threading.Event()
    runs: list[dt.datetime] = []

    def job(gate: StopGate) -> None:
        runs.append(clock.now)
        if len(runs) == 2:
            raise InputDataError("invoices.json: invoices file is empty")
        if len(runs) == 3:
            stop.set()

    assert run_worker(settings, job=job, wait=clock.advance, stop=stop, install_signals=False) == 0
    start = runs[0]
    assert [r - start for r in runs] == [dt.timedelta(0), HOUR, 2 * HOUR]
    messages = [r.getMessage() for r in caplog.records]
    assert f"worker started (config {settings.config_path}): one run now, then every 1h" in messages
    assert "run failed: invoices.json: invoices file is empty" in messages
    assert messages[-1] == "worker stopped"
    # after each run (failed or not) the log says once when the next one is, in UTC
    nexts = [m for m in messages if m.startswith("next run at ")]
    assert nexts == [f"next run at {(start + k * HOUR).astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" for k in (1, 2)]


def test_locked_and_crashing_runs_do_not_stop_the_worker(tmp_path: Path, clock: FakeClock,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A run that finds the lock taken is skipped, a run that hits a bug is logged with its traceback; both go on."""
    caplog.set_level(logging.INFO, logger="kpi_sync")
    settings = settings_with(tmp_path, 'every = "30m"')
    stop = threading.Event()
    runs: list[dt.datetime] = []

    def job(gate: StopGate) -> None:
        runs.append(clock.now)
        if len(runs) == 1:
            raise LockedError("another kpi-sync run holds the lock")
        if len(runs) == 2:
            raise ZeroDivisionError("a bug")
        stop.set()

    assert run_worker(settings, job=job, wait=clock.advance, stop=stop, install_signals=False) == 0
    assert [r - runs[0] for r in runs] == [dt.timedelta(0), HOUR / 2, HOUR]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings[0].getMessage() == "run skipped: another kpi-sync run holds the lock"
    assert warnings[1].getMessage().startswith("run crashed") and warnings[1].exc_info is not None


def test_daily_at_follows_the_timezone_across_dst(tmp_path: Path, clock: FakeClock) -> None:
    """daily_at = 06:00 Europe/Paris is 05:00 UTC before the spring change and 04:00 UTC after it."""
    settings = settings_with(tmp_path, 'daily_at = "06:00"\ntimezone = "Europe/Paris"')
    scheduler = schedule.Scheduler()
    ran: list[dt.datetime] = []
    job = plan_jobs(settings, scheduler, lambda: ran.append(clock.now))
    assert utc(job) == dt.datetime(2024, 3, 30, 5, 0, tzinfo=UTC)
    clock.now = utc(job)
    scheduler.run_pending()
    assert ran == [dt.datetime(2024, 3, 30, 5, 0, tzinfo=UTC)]
    assert utc(job) == dt.datetime(2024, 3, 31, 4, 0, tzinfo=UTC)


def test_daily_at_defaults_to_the_top_level_timezone(tmp_path: Path, clock: FakeClock) -> None:
    """Without schedule.timezone, daily_at is read in the config's timezone."""
    config = make_ops_config(tmp_path, extra='[schedule]\ndaily_at = "06:00"\n')
    config.write_text('timezone = "America/New_York"\n' + config.read_text())
    job = plan_jobs(load_settings(config, {}), schedule.Scheduler(), lambda: None)
    assert utc(job) == dt.datetime(2024, 3, 30, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('every = "1h"\ndaily_at = "06:00"', "either every or daily_at"),
        ('every = "1x"', "schedule.every = '1x'"),
        ('every = "0h"', "positive"),
        ('daily_at = "25:00"', "expected HH:MM"),
        ('daily_at = "6am"', "expected HH:MM"),
    ],
)
def test_bad_schedule_is_a_config_error(tmp_path: Path, toml: str, words: str) -> None:
    """A schedule the worker cannot follow fails at start with a message naming the key."""
    with pytest.raises(ConfigError, match=words):
        plan_jobs(settings_with(tmp_path, toml), schedule.Scheduler(), lambda: None)


@pytest.mark.parametrize(("sink", "words"), [("gsheet:abc", "does not look like one"),
                                              ("gsheet:1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg",
                                               "needs a service account key")])
def test_a_sink_that_cannot_be_opened_stops_the_worker_at_start(tmp_path: Path, sink: str, words: str) -> None:
    """A sink the run could never open (a malformed spreadsheet id; a sheet without a Google key) is a config error
    at start, not a "run failed" every hour (a review's repro)."""
    stop = threading.Event()
    stop.set()
    settings = settings_with(tmp_path, "")
    with pytest.raises(ConfigError, match=words):
        run_worker(settings, sink_uri=sink, install_signals=False, stop=stop)


def test_an_as_of_after_today_stops_the_worker_at_start(tmp_path: Path) -> None:
    """A configured as_of after today, which every run refuses, is a config error at start (a review: the worker
    started and logged "run failed" every hour)."""
    import dataclasses

    stop = threading.Event()
    stop.set()
    settings = dataclasses.replace(settings_with(tmp_path, ""), as_of="2199-01-01")
    with pytest.raises(ConfigError, match="is after today"):
        run_worker(settings, sink_uri=f"csv:{tmp_path / 'out'}", install_signals=False, stop=stop)


def test_every_units(tmp_path: Path, clock: FakeClock) -> None:
    """every accepts s, m, h and d; nothing set means every hour."""
    for text, seconds in (("45s", 45), ("30m", 1800), ("2h", 7200), ("1d", 86400)):
        job = plan_jobs(settings_with(tmp_path / text, f'every = "{text}"'), schedule.Scheduler(), lambda: None)
        assert (utc(job) - clock.now).total_seconds() == seconds
    job = plan_jobs(load_settings(make_ops_config(tmp_path / "none"), {}), schedule.Scheduler(), lambda: None)
    assert (utc(job) - clock.now).total_seconds() == 3600


# --- stopping ----------------------------------------------------------------------------------------------------


def _worker_in_thread(settings: Settings, job: Callable[[StopGate], None], stop: threading.Event,
                      events: list[str]) -> threading.Thread:
    def target() -> None:
        code = run_worker(settings, job=job, stop=stop, install_signals=False, grace=30)
        events.append(f"worker returned {code}")

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_stop_before_publishing_publishes_nothing(tmp_path: Path) -> None:
    """A stop asked while a run is still computing ends the worker at once; that run never publishes."""
    settings = settings_with(tmp_path, 'every = "1h"')
    stop, computing, ended = threading.Event(), threading.Event(), threading.Event()
    gates: list[StopGate] = []
    events: list[str] = []

    def job(gate: StopGate) -> None:
        gates.append(gate)
        computing.set()
        try:
            wait_for(lambda: gate.stopping, "the stop")
            with gate.publishing():
                events.append("published")
        except Cancelled:
            events.append("cancelled")
            raise
        finally:
            ended.set()

    worker = _worker_in_thread(settings, job, stop, events)
    assert computing.wait(30)
    stop.set()
    worker.join(30)
    assert ended.wait(30)
    assert sorted(events) == ["cancelled", "worker returned 0"]


def test_stop_during_publishing_waits_for_the_publish(tmp_path: Path) -> None:
    """A stop asked while a run publishes lets that publish finish before the worker returns."""
    settings = settings_with(tmp_path, 'every = "1h"')
    stop, publishing, release = threading.Event(), threading.Event(), threading.Event()
    gates: list[StopGate] = []
    events: list[str] = []

    def job(gate: StopGate) -> None:
        gates.append(gate)
        with gate.publishing():
            publishing.set()
            release.wait(30)
            events.append("published")

    worker = _worker_in_thread(settings, job, stop, events)
    assert publishing.wait(30)
    stop.set()
    wait_for(lambda: gates[0].stopping, "the worker to ask the run to stop")
    assert events == []
    release.set()
    worker.join(30)
    assert events == ["published", "worker returned 0"]


# --- the real thing, in a child process --------------------------------------------------------------------------


def _start_worker(tmp_path: Path, phase: str, *extra: str) -> tuple[subprocess.Popen, Path, Path, Path]:
    config = make_ops_config(tmp_path, extra='[schedule]\nevery = "1h"\n')
    book = tmp_path / "out" / "kpis.xlsx"
    assert main(["now", "--config", str(config), "--sink", f"xlsx:{book}"]) == 0  # the workbook readers have now
    env, hook_dir = hook_env(tmp_path, phase)
    argv = [sys.executable, "-m", "sync", "worker", "--config", str(config), "--sink", f"xlsx:{book}", *extra]
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, config, book, hook_dir


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_while_loading_exits_0_and_keeps_the_old_workbook(tmp_path: Path) -> None:
    """SIGTERM while the first run is still loading: exit 0 within 5 s, the old workbook untouched, JSON log lines."""
    proc, config, book, hook_dir = _start_worker(tmp_path, "load", "--log-format", "json")
    old = book.read_bytes()
    try:
        wait_for(lambda: any(hook_dir.glob("waiting-*")) or proc.poll() is not None, "the run to start")
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
    finally:
        proc.kill()
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert book.read_bytes() == old
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON event
    messages = [e["message"] for e in lines]
    assert "stopping (SIGTERM): the run in progress stopped before publishing; nothing was published" in messages
    assert messages[-1] == "worker stopped (SIGTERM)"
    assert [r["outcome"] for r in history(config)] == ["published"]  # the stopped run left no trace


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_while_publishing_finishes_the_publish_then_exits_0(tmp_path: Path) -> None:
    """SIGTERM in the middle of a publish: the publish completes (new workbook, recorded), then exit 0 within 5 s."""
    proc, config, book, hook_dir = _start_worker(tmp_path, "publish")
    old = book.read_bytes()
    try:
        wait_for(lambda: any(hook_dir.glob("waiting-*")) or proc.poll() is not None, "the publish to start")
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # the worker says it waits for the publish before we let the publish go on
            seen.append(line)
            if "waiting up to" in line:
                break
        assert "waiting up to 20s for the publish in progress" in seen[-1]
        (hook_dir / "go").touch()
        proc.wait(timeout=5)
    finally:
        proc.kill()
    err = "".join(seen) + proc.communicate()[1]
    assert proc.returncode == 0, err
    assert book.read_bytes() != old
    assert [r["outcome"] for r in history(config)] == ["published", "published"]
    sheet = openpyxl.load_workbook(book)["Sync status"]
    outcomes = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert outcomes[0].startswith("this run: publishing ") and outcomes[1:] == ["published"]
    assert err.strip().splitlines()[-1].endswith("worker stopped (SIGTERM)")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_stops_the_worker_too(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) stops the worker like SIGTERM: exit 0, no traceback."""
    proc, _, _, hook_dir = _start_worker(tmp_path, "load")
    try:
        wait_for(lambda: any(hook_dir.glob("waiting-*")) or proc.poll() is not None, "the run to start")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
    finally:
        proc.kill()
    _, err = proc.communicate()
    assert proc.returncode == 0 and "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("worker stopped (SIGINT)")
