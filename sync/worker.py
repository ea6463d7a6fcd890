"""The worker: runs the same code as `kpi-sync now` on the schedule in the config, until stopped."""

from __future__ import annotations

import logging
import re
import time

import schedule

from sync.errors import ConfigError, SyncError
from sync.settings import Settings

log = logging.getLogger("kpi_sync.worker")

_EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def plan_jobs(settings: Settings, scheduler: schedule.Scheduler, job) -> schedule.Job:  # type: ignore[no-untyped-def]
    """Register `job` on `scheduler` as [schedule] says: `every = "1h"` or `daily_at = "06:00"`."""
    conf = settings.schedule
    if conf.every and conf.daily_at:
        raise ConfigError("[schedule]: set either every or daily_at, not both")
    if conf.daily_at:
        if not re.fullmatch(r"\d{2}:\d{2}", conf.daily_at):
            raise ConfigError(f"schedule.daily_at = {conf.daily_at!r}: expected HH:MM")
        return scheduler.every().day.at(conf.daily_at, conf.timezone or settings.timezone).do(job)
    match = _EVERY.match(conf.every or "1h")
    if not match:
        raise ConfigError(f"schedule.every = {conf.every!r}: expected a number and a unit, e.g. 30m, 1h, 1d")
    count, unit = int(match[1]), match[2]
    if count <= 0:
        raise ConfigError(f"schedule.every = {conf.every!r}: must be positive")
    every = scheduler.every(count)
    return {"s": every.seconds, "m": every.minutes, "h": every.hours, "d": every.days}[unit].do(job)


def run_worker(settings: Settings, *, sink_uri: str | None = None) -> int:
    """Run once at start, then on the schedule. A failed run is logged; the schedule goes on."""
    from sync.run import run_once

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def job() -> None:
        try:
            outcome = run_once(settings, sink_uri=sink_uri)
            log.info("run published %d tabs to %s", len(outcome.tables), outcome.destination)
        except SyncError as exc:
            log.error("run failed: %s", exc)

    scheduler = schedule.Scheduler()
    plan_jobs(settings, scheduler, job)
    job()
    while True:
        scheduler.run_pending()
        time.sleep(1)
