"""End-to-end benchmark: payment logs of N charges through `kpi-sync now` on every sink, against pyarrow's parse floor.

Usage:
    python benchmarks/bench.py [N ...] [--sinks csv,xlsx,gsheet] [--runs R] [--engine single|local|dask] [--workers W]
                               [--seed S] [--cache DIR] [--data DIR] [--no-shared] [--markdown PATH]

N (default 100000 1000000) is the number of charges wanted; the generator is asked for enough customers
over three years (2015-01-01 .. 2017-12-31) to give about that many (`--cache DIR` keeps the generated
files there and reuses them; `--data DIR` benchmarks an existing invoices.json + customers.json instead).

Per N and sink, each job runs R times (default 3; min / median / max reported) in its own process under
/usr/bin/time -v when present (else a small wrapper reading RUSAGE_CHILDREN), in a fresh folder (its own
run lock and guard state: a first run):
- csv:    `python -m sync now --config <cfg> --sink csv:<dir>` (with `--engine single`, the default, plus
          `--processes 1`: one process at any size; `--engine local` runs the default local engine, 2 processes
          from 3M charges, and its peak RSS is then the largest process's, not their sum: see benchmarks/ab.py)
- xlsx:   `python -m sync now --config <cfg> --sink xlsx:<file>`
- gsheet: the same job with `--sink gsheet:<id>` against tests/fakes/sheets.py (the HTTP-level fake of the
          Sheets API, with a generated service-account key), in this script's `--sheets-job` mode. It also
          reports the requests sent to the Sheets API, their bytes, and the time spent building the plan
          (GSheetSink.render + GSheetSink._plan: the cells, then the requests).
          The fake's check of every request against Google's discovery document is off (it is the fake's
          cost, not the sink's; `--sheets-validate` turns it on).
The parse floor is pyarrow.json.read_json of the same input files (invoices + customers; best of 3, in a
child process); ratio = median wall / floor. `--engine dask --workers W` passes `--engine dask --workers W`
to the job (the Dask engine is issue 13 item 4; a job that does not know the option fails, and the table
says so). The shared payment log (config/shared-payments-log.toml) is run too unless --no-shared.
Prints a markdown table; --markdown also writes it, with the command and the machine, to PATH.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

START, END = "2015-01-01", "2017-12-31 23:59:59"
SHARED_CONFIG = REPO / "config" / "shared-payments-log.toml"
TIME = "/usr/bin/time"
SINKS = ("csv", "xlsx", "gsheet")
FAKE_SPREADSHEET = "1FakeSheetId_abcdef"

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
# The parse floor: pyarrow.json.read_json of the files, best of 3, in a fresh process.
_FLOOR = (
    "import sys, time, pyarrow.json as pj\n"
    "best = []\n"
    "for _ in range(3):\n"
    "    t = time.perf_counter()\n"
    "    for path in sys.argv[1:]:\n"
    "        pj.read_json(path)\n"
    "    best.append(time.perf_counter() - t)\n"
    "print(min(best))\n"
)


@dataclass
class Dataset:
    name: str
    charges: int
    customers: int
    input_mb: float
    generate_s: float | None
    config: Path
    files: list[Path]
    floor_s: float | None = None


@dataclass
class Result:
    dataset: Dataset
    sink: str
    engine: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # user + system seconds: what a shared CPU does not inflate
    rss_mb: list[float] = field(default_factory=list)
    exit_code: int = 0
    error: str = ""
    sheets: dict[str, float] = field(default_factory=dict)  # request_mb, requests, plan_s

    @property
    def median(self) -> float:
        return statistics.median(self.walls)


def customers_for(charges: int, seed: int) -> int:
    """Customers needed for about `charges` charges over the benchmark window (from a 5,000-customer draw)."""
    from sync.samples.payments import generate

    invoices, _ = generate(5000, seed, start=START, end=END)
    return max(1, math.ceil(charges * 5000 / len(invoices)))


def _lines(path: Path) -> int:
    """Lines of a file (a last line without a newline counts)."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 24), b""):
            count, last = count + chunk.count(b"\n"), chunk[-1:]
    return count + (last != b"\n")


def generated(charges: int, seed: int, workdir: Path, cache: Path | None) -> Dataset:
    folder = (cache or workdir) / f"generated-{charges}-seed{seed}"
    invoices, customer_file = folder / "invoices.json", folder / "customers.json"
    generate_s = None
    if not (invoices.is_file() and customer_file.is_file()):
        from sync.samples.payments import write_sample

        began = time.perf_counter()
        write_sample(folder, customers=customers_for(charges, seed), seed=seed, start=START, end=END)
        generate_s = time.perf_counter() - began
    return _dataset(f"generated (seed {seed})", invoices, customer_file, folder, generate_s)


def existing(folder: Path) -> Dataset:
    return _dataset(str(folder), folder / "invoices.json", folder / "customers.json", folder, None)


def _dataset(name: str, invoices: Path, customers: Path, folder: Path, generate_s: float | None) -> Dataset:
    config = folder / "bench.toml"
    config.write_text(CONFIG.format(invoices=invoices.resolve(), customers=customers.resolve()), encoding="utf-8")
    size = (invoices.stat().st_size + customers.stat().st_size) / 1e6
    return Dataset(name, _lines(invoices), _lines(customers), size, generate_s, config, [invoices, customers])


def shared() -> Dataset | None:
    import tomllib

    raw = tomllib.loads(SHARED_CONFIG.read_text(encoding="utf-8"))
    files = [(SHARED_CONFIG.parent / raw["sources"][k]).resolve() for k in ("invoices", "customers")]
    if not all(f.is_file() for f in files):
        print(f"shared payment log not found ({files[0]}): skipped", file=sys.stderr)
        return None
    size = sum(f.stat().st_size for f in files) / 1e6
    return Dataset("shared/data/payments-log", _lines(files[0]), _lines(files[1]), size, None, SHARED_CONFIG, files)


def parse_floor(files: list[Path]) -> float | None:
    done = subprocess.run([sys.executable, "-c", _FLOOR, *map(str, files)], capture_output=True, text=True)
    return float(done.stdout.strip()) if done.returncode == 0 else None


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def job_command(config: Path, sink: str, folder: Path, engine: str, workers: int, validate: bool) -> list[str]:
    """The child command of one job on one sink (the gsheet one runs this script against the fake)."""
    # single: one process, whatever the default engine ("auto") would do with a log of millions of charges
    extra = ["--processes", "1"] if engine == "single" else [] if engine == "local" else \
        ["--engine", engine, "--workers", str(workers)]
    if sink == "gsheet":
        stats = folder / "sheets.json"
        return [sys.executable, str(Path(__file__).resolve()), "--sheets-job", str(config.resolve()), str(stats),
                *(["--sheets-validate"] if validate else []), "--", *extra]
    target = f"csv:{(folder / 'out').resolve()}" if sink == "csv" else f"xlsx:{(folder / 'kpis.xlsx').resolve()}"
    return [sys.executable, "-m", "sync", "now", "--config", str(config.resolve()), "--sink", target, *extra]


def run_job(command: list[str], folder: Path) -> tuple[float, float | None, float | None, int, str]:
    """Run one job in a child process in `folder` (its own lock and state).

    Returns (wall s, CPU s (user + system; None without /usr/bin/time), peak RSS MB, exit, last error line)."""
    full = [TIME, "-v", *command] if os.access(TIME, os.X_OK) else [sys.executable, "-c", _WRAPPER, *command]
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    done = subprocess.run(full, cwd=folder, env=_env(), capture_output=True, text=True)
    wall = time.perf_counter() - began
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    rss = int(found.group(1)) / 1024 if found else None
    times = [float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)]
    cpu = sum(times) if len(times) == 2 else None
    job_lines = [line for line in done.stderr.splitlines() if line and not line.startswith(("\t", "Command exited"))]
    return wall, cpu, rss, done.returncode, (job_lines[-1] if done.returncode and job_lines else "")


def bench(data: Dataset, sink: str, runs: int, engine: str, workers: int, workdir: Path, validate: bool) -> Result:
    label = engine if engine in ("single", "local") else f"{engine} x{workers}"
    result = Result(data, sink, label)
    for i in range(runs):
        folder = workdir / f"run-{data.charges}-{sink}-{i}"
        wall, cpu, rss, code, error = run_job(job_command(data.config, sink, folder, engine, workers, validate), folder)
        result.walls.append(wall)
        if cpu is not None:
            result.cpus.append(cpu)
        if rss is not None:
            result.rss_mb.append(rss)
        stats = folder / "sheets.json"
        if stats.is_file():
            result.sheets = json.loads(stats.read_text(encoding="utf-8"))
        shutil.rmtree(folder, ignore_errors=True)
        if code:
            result.exit_code, result.error = code, error
            break  # a failing job fails the same way again
    return result


HEADER = ("| dataset | charges | customers | input MB | sink | engine | runs | wall s median [min-max] | CPU s median | "
          "peak RSS MB | parse floor s | ratio | Sheets requests (MB) | plan s | exit |")


def table(results: list[Result]) -> str:
    rows = [HEADER, "|---|---:|---:|---:|---|---|---:|---|---:|---:|---:|---:|---|---:|---|"]
    rows += [row(r) for r in results]
    return "\n".join(rows)


def row(r: Result) -> str:
    d = r.dataset
    wall = f"{r.median:.1f} [{min(r.walls):.1f}-{max(r.walls):.1f}]" if r.walls else "-"
    rss = f"{max(r.rss_mb):.0f}" if r.rss_mb else "?"
    cpu = f"{statistics.median(r.cpus):.1f}" if r.cpus else "?"
    floor = f"{d.floor_s:.3f}" if d.floor_s else "?"
    ratio = f"{r.median / d.floor_s:.1f}x" if d.floor_s and r.walls and not r.exit_code else "-"
    sheets = (f"{int(r.sheets['requests'])} ({r.sheets['request_mb']:.1f})" if r.sheets else "-")
    # three significant digits: a small plan takes hundredths of a second, which one decimal would print as 0.0
    plan = f"{r.sheets['plan_s']:.3g}" if r.sheets and r.sheets.get("plan_s") is not None else "-"
    exit_text = str(r.exit_code) + (f" ({r.error})" if r.error else "")
    return (f"| {d.name} | {d.charges:,} | {d.customers:,} | {d.input_mb:.1f} | {r.sink} | {r.engine} | {len(r.walls)} | "
            f"{wall} | {cpu} | {rss} | {floor} | {ratio} | {sheets} | {plan} | {exit_text} |")


def machine() -> str:
    import numpy
    import pandas
    import pyarrow

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           capture_output=True, text=True).stdout.strip()
    commit = (commit or "?") + (" with uncommitted changes" if dirty else "")
    return (f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, pandas "
            f"{pandas.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}, commit {commit}")


def sheets_job(config: str, stats_path: str, validate: bool, extra: list[str]) -> int:
    """`kpi-sync now` to the Google Sheets sink, served by the test fake; writes request bytes and plan time."""
    import responses

    from sync.cli import main as cli_main
    from sync.sinks.gsheet import GSheetSink
    from tests.fakes.keys import service_account_key
    from tests.fakes.sheets import Discovery, FakeSheets

    if not validate:
        Discovery.errors = lambda self, value, schema_name: []  # type: ignore[method-assign]
    planned: list[float] = []

    def timed(method: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                planned.append(time.perf_counter() - began)
        return wrapper

    # The plan: every table rendered as cells, then the requests made from them (names as of issue 13).
    for name in ("render", "_plan"):
        if hasattr(GSheetSink, name):
            setattr(GSheetSink, name, timed(getattr(GSheetSink, name)))
    key = service_account_key("kpi-bench")
    os.environ["GOOGLE_SERVICE_ACCOUNT_JSON"] = json.dumps(key)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSheets(rsps, key, spreadsheet_id=FAKE_SPREADSHEET)
        code = cli_main(["now", "--config", config, "--sink", f"gsheet:{FAKE_SPREADSHEET}", *extra])
        sent = [len(cast(bytes | str, call.request.body or b"")) for call in rsps.calls
                if "sheets.googleapis.com" in str(call.request.url)]
        stats = {"requests": len(sent), "request_mb": sum(sent) / 1e6, "plan_s": sum(planned) if planned else None,
                 "schema_errors": len(fake.schema_errors)}
    Path(stats_path).write_text(json.dumps(stats), encoding="utf-8")
    return code


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--sheets-job"]:
        rest = args_in[1:]
        extra = rest[rest.index("--") + 1:] if "--" in rest else []
        head = rest[:rest.index("--")] if "--" in rest else rest
        return sheets_job(head[0], head[1], "--sheets-validate" in head, extra)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("charges", nargs="*", type=int, default=[100_000, 1_000_000],
                        help="charges to generate (several: one dataset each)")
    parser.add_argument("--sinks", default="csv,xlsx,gsheet", help=f"comma-separated, from {', '.join(SINKS)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per dataset and sink (median reported)")
    parser.add_argument("--engine", default="single", help="single (one process), local (the default local engine: "
                        "processes = \"auto\", 2 processes from 3M charges) or dask (issue 13 item 4)")
    parser.add_argument("--workers", type=int, default=1, help="workers for --engine dask")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", metavar="DIR", help="keep generated datasets in DIR and reuse them")
    parser.add_argument("--data", metavar="DIR", action="append", default=[],
                        help="also benchmark DIR/invoices.json + DIR/customers.json (repeatable)")
    parser.add_argument("--no-shared", action="store_true", help="skip the shared payment log")
    parser.add_argument("--sheets-validate", action="store_true", help="let the Sheets fake validate every request")
    parser.add_argument("--markdown", metavar="PATH", help="also write the results as markdown to PATH")
    args = parser.parse_args(args_in)
    sinks = [s.strip() for s in args.sinks.split(",") if s.strip()]
    unknown = sorted(set(sinks) - set(SINKS))
    if unknown:
        parser.error(f"unknown sink {unknown[0]} (known: {', '.join(SINKS)})")

    workdir = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    cache = Path(args.cache) if args.cache else None
    results: list[Result] = []
    print(HEADER, file=sys.stderr, flush=True)

    def measure(data: Dataset) -> None:
        data.floor_s = parse_floor(data.files)
        for sink in sinks:
            results.append(bench(data, sink, args.runs, args.engine, args.workers, workdir, args.sheets_validate))
            print(row(results[-1]), file=sys.stderr, flush=True)

    try:
        for data in ([] if args.no_shared else [d for d in [shared()] if d]) + [existing(Path(f)) for f in args.data]:
            measure(data)
        for n in args.charges:
            measure(generated(n, args.seed, workdir, cache))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = table(results)
    print(text)
    if args.markdown:
        command = " ".join(["python benchmarks/bench.py", *args_in])
        Path(args.markdown).write_text(
            "# Benchmarks\n\n"
            f"Command: `{command}`\n\n"
            "Each job is `kpi-sync now` on one sink in its own process (the Google Sheets sink against "
            "tests/fakes/sheets.py); wall time from the parent, peak RSS from "
            f"{'/usr/bin/time -v' if os.access(TIME, os.X_OK) else 'getrusage'}; parse floor = pyarrow.json.read_json "
            "of the same input files (best of 3); ratio = median wall / floor. Generated logs span 2015-01-01 .. "
            "2017-12-31.\n\n"
            f"Machine: {machine()}, {time.strftime('%Y-%m-%d')}\n\n{text}\n",
            encoding="utf-8",
        )
    return 0 if all(r.exit_code == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
