"""Before/after timing of two commands, run in turn (A B A B ...), each as a whole process from outside.

Usage:
    python benchmarks/ab.py [-n RUNS] [--warmup W] --a "COMMAND A" --b "COMMAND B"

Each command is split as a shell splits words and started RUNS times (default 3) after W warm-up runs of each
(default 1, not counted), alternating so that a drift in the machine's speed falls on both. Per run: wall seconds
(a monotonic clock around the child), user and system seconds and the peak resident memory of the largest process
the command waited for, as the kernel accounts them for the finished child (/usr/bin/time -v when present, else
RUSAGE_CHILDREN), and on Linux the peak of the summed resident memory of the command and every process it started
("all procs", read from /proc every 0.1 s: what a run with helper processes holds together; a poll can miss a peak
shorter than that). Prints min / median / max of each figure and of the ratios A/B taken pair by pair; quote the
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
import tempfile
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


POLL_SECONDS = 0.1  # how often the summed memory of the command's processes is read


@dataclass
class Run:
    wall: float
    user: float
    system: float
    peak_mib: float
    code: int
    all_mib: float = float("nan")  # the peak of the summed RSS of the command and its descendants (Linux /proc)


def _tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants now (0 where /proc cannot say)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
                total += next((int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total


def run_once(command: list[str]) -> Run:
    """One run of `command` as a child process, its output thrown away; on Linux, the summed RSS of its process tree
    is read every POLL_SECONDS (a command that spawns helper processes: `[engine] processes`, a dask cluster)."""
    full = [TIME, "-v", *command] if os.access(TIME, os.X_OK) else [sys.executable, "-c", _WRAPPER, *command]
    polled = os.path.isdir("/proc/self")
    peak = 0
    began = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as err:
        child = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, text=True)
        while child.poll() is None:
            if polled:
                peak = max(peak, _tree_rss(child.pid))
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - began
        err.seek(0)
        stderr = err.read()

    def figure(label: str) -> float:
        found = re.search(rf"{re.escape(label)}: ([\d.]+)", stderr)
        return float(found.group(1)) if found else float("nan")

    return Run(wall, figure("User time (seconds)"), figure("System time (seconds)"),
               figure("Maximum resident set size (kbytes)") / 1024, child.returncode,
               peak / 2**20 if polled and peak else float("nan"))


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
        print(f"{name} all procs MiB {spread([r.all_mib for r in rs])}")
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
