"""Where one run's time goes: wall, user and system seconds and page faults of each step of `kpi-sync now`.

Usage:
    python benchmarks/phases.py CONFIG [--csv DIR]

Runs the job's own steps in one process, as sync.run does (load_dataset, resolve_as_of, build_context,
check_invariants, compute_tables, then the CSV sink into DIR when given) and prints, after each step, the
resource.getrusage deltas and the peak memory so far. System time and minor page faults show what the kernel spends handing out fresh
memory, which a profiler of Python frames does not show (at 10M charges, a quarter of the run).
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kpi.tables import RunInfo  # noqa: E402
from sync.run import build_context, check_invariants, compute_tables, load_dataset, resolve_as_of  # noqa: E402
from sync.settings import load_settings  # noqa: E402
from sync.sinks.csv import CsvSink  # noqa: E402


class Steps:
    """Prints the getrusage deltas since the previous step."""

    def __init__(self) -> None:
        self.last = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float, int]:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), r.ru_utime, r.ru_stime, r.ru_minflt

    def done(self, label: str) -> None:
        now = self._now()
        wall, user, system, faults = (a - b for a, b in zip(now, self.last, strict=True))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
        print(f"| {label} | {wall:.1f} | {user:.1f} | {system:.1f} | {faults / 1e3:,.0f}k | {peak:,.0f} |", flush=True)
        self.last = now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--csv", metavar="DIR", help="publish to a CSV folder too, and time it")
    args = parser.parse_args(argv)
    print("| step | wall s | user s | sys s | minor page faults | peak RSS so far, MB |\n|---|---:|---:|---:|---:|---:|")
    steps = Steps()
    settings = load_settings(args.config)
    # one process: getrusage(RUSAGE_SELF) sees nothing of the slice processes "auto" starts from 3M charges
    settings = dataclasses.replace(settings, engine=dataclasses.replace(settings.engine, processes=1))
    loaded = load_dataset(settings)
    steps.done("load")
    ctx = build_context(settings, loaded, resolve_as_of(settings, loaded, None), RunInfo())
    steps.done("per-customer inference and frames")
    check_invariants(ctx)
    steps.done("invariants")
    tables, _ = compute_tables(ctx)
    steps.done("tables")
    if args.csv:
        CsvSink(args.csv, timezone=settings.timezone).publish(tables)
        steps.done("CSV sink")
    return 0


if __name__ == "__main__":
    sys.exit(main())
