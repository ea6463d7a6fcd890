"""Before/after timing of two commands, run in turn (A B A B ...), each as a whole process from outside.

Usage:
    python benchmarks/ab.py [-n RUNS] [--warmup W] --a "COMMAND A" --b "COMMAND B"

Each command is split as a shell splits words and started RUNS times (default 3) after W warm-up runs of each
(default 1, not counted), alternating so that a drift in the machine's speed falls on both. Per run: wall seconds
(a monotonic clock around the child), user and system seconds and the peak resident memory of the largest process
the command waited for, as the kernel accounts them for the finished child (/usr/bin/time -v when present, else
RUSAGE_CHILDREN). Prints min / median / max of each figure and of the ratios A/B taken pair by pair; quote the
median. Every figure of "A/B" in benchmarks/results.md since stop 33 comes from this script, e.g.

    python benchmarks/ab.py -n 3 --a "env PYTHONPATH=<after> python -m sync now --config <bench.toml> \\
        --sink csv:/tmp/a --force" --b "env PYTHONPATH=<before> python -m sync now --config <bench.toml> \\
        --sink csv:/tmp/b --force"

Run it from a folder that holds no `sync` package (not a checkout's root: `python -m sync` would import the
checkout in the current folder whatever PYTHONPATH says).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

TIME = "/usr/bin/time"
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "sys.stderr.write(f'\\tUser time (seconds): {r.ru_utime}\\n\\tSystem time (seconds): {r.ru_stime}\\n'\n"
    "                 f'\\tMaximum resident set size (kbytes): {r.ru_maxrss}\\n')\n"
    "sys.exit(code)\n"
)


@dataclass
class Run:
    wall: float
    user: float
    system: float
    peak_mib: float
    code: int


def run_once(command: list[str]) -> Run:
    """One run of `command` as a child process, its output thrown away."""
    full = [TIME, "-v", *command] if os.access(TIME, os.X_OK) else [sys.executable, "-c", _WRAPPER, *command]
    began = time.perf_counter()
    done = subprocess.run(full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - began

    def figure(label: str) -> float:
        found = re.search(rf"{re.escape(label)}: ([\d.]+)", done.stderr)
        return float(found.group(1)) if found else float("nan")

    return Run(wall, figure("User time (seconds)"), figure("System time (seconds)"),
               figure("Maximum resident set size (kbytes)") / 1024, done.returncode)


def spread(values: list[float]) -> str:
    return f"{min(values):10.3f} {statistics.median(values):10.3f} {max(values):10.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--a", required=True, help="the command measured (after)")
    parser.add_argument("--b", required=True, help="the baseline (before)")
    args = parser.parse_args(argv)
    a, b = shlex.split(args.a), shlex.split(args.b)
    for _ in range(args.warmup):
        run_once(a)
        run_once(b)
    runs: dict[str, list[Run]] = {"A": [], "B": []}
    for _ in range(args.runs):
        runs["A"].append(run_once(a))
        runs["B"].append(run_once(b))
    print(f"{'':16} {'min':>10} {'median':>10} {'max':>10}   (n = {args.runs} each, after {args.warmup} warm-up)")
    for name, rs in runs.items():
        print(f"{name} wall s        {spread([r.wall for r in rs])}")
        print(f"{name} user s        {spread([r.user for r in rs])}")
        print(f"{name} sys s         {spread([r.system for r in rs])}")
        print(f"{name} peak MiB      {spread([r.peak_mib for r in rs])}")
        failed = [r.code for r in rs if r.code]
        if failed:
            print(f"{name} FAILED runs: exit codes {failed}")
    for label, key in (("wall", "wall"), ("user", "user"), ("cpu", None)):
        def value(r: Run, key: str | None = key) -> float:
            return getattr(r, key) if key else r.user + r.system
        ratios = [value(x) / value(y) if value(y) else float("nan")
                  for x, y in zip(runs["A"], runs["B"], strict=True)]
        print(f"A/B {label:12} {spread(ratios)}")
    return 1 if any(r.code for rs in runs.values() for r in rs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
