"""The worker: runs the same code as `kpi-sync now` once at start and then on the schedule in the config, until stopped.

- `[schedule] every = "1h"` (s, m, h or d) or `daily_at = "06:00"` in `schedule.timezone` (default:
  the top-level timezone); neither: every hour. Scheduling is the `schedule` package's.
- A failed run is logged and the schedule goes on; a run that finds the lock taken (a `kpi-sync
  now` in progress) is skipped.
- SIGTERM or SIGINT stop the worker within about a second and it exits 0. A run in flight is
  stopped before it publishes (nothing is published), or, if it is publishing, its publish is
  allowed to finish (up to STOP_GRACE_SECONDS; Heroku kills a dyno 30 s after SIGTERM).

Each run runs in a thread so the main thread stays free to notice a stop; the signal handler
only sets a flag (it never takes a lock, so it cannot deadlock the thread it interrupts).
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import schedule

from sync.errors import ConfigError, LockedError, SyncError
from sync.lock import Cancelled, StopGate
from sync.logs import get_logger
from sync.settings import Settings

log = get_logger("worker")

STOP_GRACE_SECONDS = 20.0
MAX_IDLE_SECONDS = 60.0  # look at the schedule at least this often
_POLL_SECONDS = 0.2
_EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

Job = Callable[[StopGate], Any]


def plan_jobs(settings: Settings, scheduler: schedule.Scheduler, job: Callable[[], Any]) -> schedule.Job:
    """Register `job` on `scheduler` as [schedule] says: `every = "1h"` or `daily_at = "06:00"` (default every 1h)."""
    conf = settings.schedule
    where = f"{settings.config_path}: schedule"
    if conf.every and conf.daily_at:
        raise ConfigError(f"{where}: set either every or daily_at, not both")
    if conf.daily_at:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", conf.daily_at):
            raise ConfigError(f"{where}.daily_at = {conf.daily_at!r}: expected HH:MM, e.g. 06:00")
        tz = conf.timezone or settings.timezone
        try:
            return scheduler.every().day.at(conf.daily_at, tz).do(job)
        except ModuleNotFoundError:  # schedule needs pytz for time zones
            raise ConfigError(f"{where}.daily_at needs the pytz package (pip install pytz)") from None
        except Exception as exc:  # pytz.UnknownTimeZoneError and schedule's errors
            raise ConfigError(f"{where}: timezone {tz!r} not usable for daily_at ({exc})") from None
    match = _EVERY.match(conf.every or "1h")
    if not match or int(match[1]) <= 0:
        raise ConfigError(f"{where}.every = {conf.every!r}: expected a positive number and a unit s, m, h or d, e.g. 30m, 1h, 1d")
    count, unit = int(match[1]), match[2]
    return getattr(scheduler.every(count), _UNITS[unit]).do(job)


def describe_plan(settings: Settings) -> str:
    conf = settings.schedule
    if conf.daily_at:
        return f"daily at {conf.daily_at} {conf.timezone or settings.timezone}"
    return f"every {(conf.every or '1h').strip()}"


def _next_run_utc(job: schedule.Job) -> str:
    if job.next_run is None:
        return "?"
    # schedule keeps next_run as naive local time
    return job.next_run.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Worker:
    """The schedule loop. Everything it waits on is injectable: the job, the scheduler, the wait, the stop event."""

    def __init__(
        self,
        settings: Settings,
        job: Job,
        *,
        scheduler: schedule.Scheduler | None = None,
        wait: Callable[[float], None] | None = None,
        stop: threading.Event | None = None,
        grace: float = STOP_GRACE_SECONDS,
        poll: float = _POLL_SECONDS,
    ):
        self.settings = settings
        self.job = job
        self.scheduler = scheduler or schedule.Scheduler()
        self.wait = wait or self._sleep
        self.stop_event = stop or threading.Event()
        self.grace = grace
        self.poll = poll
        self.signal_name: str | None = None  # set by the signal handler, nothing else
        self.runs = 0
        self._gate: StopGate | None = None
        self._done: threading.Event | None = None

    @property
    def stopping(self) -> bool:
        return self.signal_name is not None or self.stop_event.is_set()

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(self.poll, left))

    def run(self) -> int:
        """Run at start, then on the schedule, until stopped. Returns the exit code (0)."""
        planned = plan_jobs(self.settings, self.scheduler, self.run_job)
        log.info("worker started (config %s): one run now, then %s", self.settings.config_path,
                 describe_plan(self.settings))
        self.run_job()
        announced = None
        while not self.stopping:
            self.scheduler.run_pending()
            if self.stopping:
                break
            upcoming = _next_run_utc(planned)
            if upcoming != announced:  # once after each run: an operator reading the log knows when the next one is
                log.info("next run at %s", upcoming)
                announced = upcoming
            idle = self.scheduler.idle_seconds
            self.wait(MAX_IDLE_SECONDS if idle is None else min(max(idle, 0.0), MAX_IDLE_SECONDS))
        self._shutdown()
        return 0

    def run_job(self) -> None:
        """One run in a thread; returns when it ends or when a stop is asked. Never raises."""
        if self.stopping:
            return
        self.runs += 1
        gate = StopGate()
        done = threading.Event()
        self._gate, self._done = gate, done

        def target() -> None:
            try:
                self.job(gate)
            except Cancelled as exc:
                log.info("run stopped: %s", exc)
            except LockedError as exc:
                log.warning("run skipped: %s", exc)
            except SyncError as exc:
                log.error("run failed: %s", exc)
            except Exception:
                log.exception("run crashed (a bug, please report it); the worker keeps its schedule")
            finally:
                done.set()

        thread = threading.Thread(target=target, name=f"kpi-sync-run-{self.runs}", daemon=True)
        thread.start()
        while not done.wait(self.poll):
            if self.stopping:
                return

    def _shutdown(self) -> None:
        why = f" ({self.signal_name})" if self.signal_name else ""
        gate, done = self._gate, self._done
        if gate is not None and done is not None and not done.is_set():
            publishing = gate.publishing_now
            if publishing:
                log.info("stopping%s: waiting up to %.0fs for the publish in progress", why, self.grace)
            if not gate.close(self.grace):
                log.warning("stopping%s: the publish did not finish within %.0fs; leaving it", why, self.grace)
            elif publishing:
                done.wait(2.0)  # let the run log its result
            else:
                log.info("stopping%s: the run in progress stopped before publishing; nothing was published", why)
        log.info("worker stopped%s", why)

    def install_signal_handlers(self) -> Callable[[], None]:
        """SIGTERM and SIGINT ask the worker to stop. Returns a function that restores the previous handlers."""
        previous: dict[int, Any] = {}

        def handler(signum: int, frame: object) -> None:
            self.signal_name = signal.Signals(signum).name

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, handler)

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore


def run_worker(
    settings: Settings,
    *,
    sink_uri: str | None = None,
    job: Job | None = None,
    scheduler: schedule.Scheduler | None = None,
    wait: Callable[[float], None] | None = None,
    stop: threading.Event | None = None,
    install_signals: bool = True,
    grace: float = STOP_GRACE_SECONDS,
) -> int:
    """Run the job once at start, then on the schedule, until SIGTERM/SIGINT (or `stop`). Returns 0."""
    if job is None:
        from sync.run import check_not_after_today, default_sink_uri, run_once
        from sync.sinks import open_sink

        sink_uri = sink_uri or default_sink_uri(settings)  # a sink configured by halves fails at start, not every hour
        open_sink(sink_uri, settings)  # so does one that cannot be opened (a malformed spreadsheet id, no Google key):
        # it reads the key and checks the id's shape, and sends nothing
        if settings.as_of:  # and a configured as_of after today, which every run would refuse
            check_not_after_today(settings.as_of, settings, pd.Timestamp.now(tz="UTC"))

        def job(gate: StopGate) -> Any:
            return run_once(settings, sink_uri=sink_uri, gate=gate)

    worker = Worker(settings, job, scheduler=scheduler, wait=wait, stop=stop, grace=grace)
    restore = worker.install_signal_handlers() if install_signals else None
    try:
        return worker.run()
    finally:
        if restore is not None:
            restore()
