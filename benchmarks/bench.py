"""End-to-end benchmark: generate a payment log of N charges, run `kpi-sync now` on it, measure time and memory.

Usage:
    .venv/bin/python benchmarks/bench.py [N ...] [--seed S] [--no-shared] [--markdown PATH]

N (default 1000000) is the number of charges wanted; the generator is asked for enough customers
over three years (2015-01-01 .. 2017-12-31) to give about that many. Each job runs in its own
process (`python -m sync now --config <tmp config> --sink csv:<tmp>/out`) under /usr/bin/time -v
when present (else a small wrapper reading RUSAGE_CHILDREN), so the peak RSS is the job's own.
Each job runs in its own temporary folder, so its run lock and guard state are fresh (a first run).
The shared payment log (config/shared-payments-log.toml) is run too unless --no-shared.
Prints a markdown table; --markdown also writes it, with the command and the machine, to PATH.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sync.samples.payments import generate, write_sample  # noqa: E402

START, END = "2015-01-01", "2017-12-31 23:59:59"
SHARED_CONFIG = REPO / "config" / "shared-payments-log.toml"
TIME = "/usr/bin/time"

CONFIG = """\
timezone = "UTC"
[dataset]
kind = "payments"
[sources]
invoices = "{invoices}"
customers = "{customers}"
[billing]
renewal_tolerance_hours = 2
annual_min_amount = 1000
prorations = "normalize"
[quality]
max_bad_share = 0.01
"""

# Reports RUSAGE_CHILDREN of the one job it runs: used when /usr/bin/time is missing.
_WRAPPER = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "sys.stderr.write('Maximum resident set size (kbytes): %d\\n' % "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"
)


@dataclass
class Result:
    dataset: str
    charges: int
    customers: int
    input_mb: float
    generate_s: float | None
    wall_s: float
    peak_rss_mb: float | None
    exit_code: int
    error: str = ""


def customers_for(charges: int, seed: int) -> int:
    """Customers needed for about `charges` charges over the benchmark window (from a 5,000-customer draw)."""
    invoices, _ = generate(5000, seed, start=START, end=END)
    return max(1, math.ceil(charges * 5000 / len(invoices)))


def run_job(config: Path, out: Path) -> tuple[float, float | None, int, str]:
    """Run the job once in a child process; returns (wall seconds, peak RSS MB, exit code, last stderr line).

    The child runs in `out`'s parent folder, so its run lock and state (relative to the current
    folder) are its own: no other run's lock blocks it and no earlier run's numbers trip the guard.
    """
    job = [sys.executable, "-m", "sync", "now", "--config", str(config.resolve()), "--sink", f"csv:{out.resolve()}"]
    command = [TIME, "-v", *job] if os.access(TIME, os.X_OK) else [sys.executable, "-c", _WRAPPER, *job]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    out.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    done = subprocess.run(command, cwd=out.parent, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    rss = int(found.group(1)) / 1024 if found else None
    job_lines = [line for line in done.stderr.splitlines() if line and not line.startswith(("\t", "Command exited"))]
    return wall, rss, done.returncode, (job_lines[-1] if done.returncode and job_lines else "")


def bench_generated(charges: int, seed: int, workdir: Path) -> Result:
    customers = customers_for(charges, seed)
    folder = workdir / f"generated-{charges}"
    began = time.perf_counter()
    written = write_sample(folder, customers=customers, seed=seed, start=START, end=END)
    generate_s = time.perf_counter() - began
    (invoices, n_charges), (customer_file, n_customers) = written
    config = folder / "bench.toml"
    config.write_text(CONFIG.format(invoices=invoices, customers=customer_file), encoding="utf-8")
    wall, rss, code, error = run_job(config, folder / "out")
    size = (Path(invoices).stat().st_size + Path(customer_file).stat().st_size) / 1e6
    return Result(f"generated (seed {seed})", n_charges, n_customers, size, generate_s, wall, rss, code, error)


def bench_shared(workdir: Path) -> Result | None:
    import tomllib

    raw = tomllib.loads(SHARED_CONFIG.read_text(encoding="utf-8"))
    files = [(SHARED_CONFIG.parent / raw["sources"][k]).resolve() for k in ("invoices", "customers")]
    if not all(f.is_file() for f in files):
        print(f"shared payment log not found ({files[0]}): skipped", file=sys.stderr)
        return None
    lines = [sum(1 for line in f.open("rb") if line.strip()) for f in files]
    wall, rss, code, error = run_job(SHARED_CONFIG, workdir / "shared" / "out")
    size = sum(f.stat().st_size for f in files) / 1e6
    return Result("shared/data/payments-log", lines[0], lines[1], size, None, wall, rss, code, error)


def table(results: list[Result]) -> str:
    rows = [
        "| dataset | charges | customers | input MB | generate s | job wall s | job peak RSS MB | exit |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        generate_s = f"{r.generate_s:.1f}" if r.generate_s is not None else "-"
        rss = f"{r.peak_rss_mb:.0f}" if r.peak_rss_mb is not None else "?"
        exit_text = str(r.exit_code) + (f" ({r.error})" if r.error else "")
        rows.append(f"| {r.dataset} | {r.charges:,} | {r.customers:,} | {r.input_mb:.1f} | {generate_s} | "
                    f"{r.wall_s:.1f} | {rss} | {exit_text} |")
    return "\n".join(rows)


def machine() -> str:
    import numpy
    import pandas

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    commit = (commit or "?") + (" with uncommitted changes" if dirty else "")
    return (f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"pandas {pandas.__version__}, numpy {numpy.__version__}, commit {commit}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("charges", nargs="*", type=int, default=[1_000_000], help="charges to generate (several: one run each)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-shared", action="store_true", help="skip the shared payment log")
    parser.add_argument("--markdown", metavar="PATH", help="also write the results as markdown to PATH")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    try:
        results = [] if args.no_shared else [r for r in [bench_shared(workdir)] if r]
        for n in args.charges:
            results.append(bench_generated(n, args.seed, workdir))
            print(table(results[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = table(results)
    print(text)
    if args.markdown:
        command = " ".join(["python benchmarks/bench.py", *(argv if argv is not None else sys.argv[1:])])
        Path(args.markdown).write_text(
            "# Benchmarks\n\n"
            f"Command: `{command}`\n\n"
            "Each job is `python -m sync now --config <config> --sink csv:<tmp>/out` in its own process; "
            f"wall time from the parent, peak RSS from {'/usr/bin/time -v' if os.access(TIME, os.X_OK) else 'getrusage'}. "
            "Generated logs span 2015-01-01 .. 2017-12-31.\n\n"
            f"Machine: {machine()}, {time.strftime('%Y-%m-%d')}\n\n{text}\n",
            encoding="utf-8",
        )
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
