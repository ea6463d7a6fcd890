"""The command line: a thin layer that turns SyncErrors into one line on stderr and an exit code.

Exit codes: 0 success, 1 run error, 2 bad usage, 3 another run holds the lock.

Logs go to stderr through one redacting handler (sync/logs.py): human lines by default, JSON lines
with --log-format json (or KPI_SYNC_LOG_FORMAT=json). `now` logs warnings and errors in human
format (its summary goes to stdout) and every event in JSON; the worker logs every event.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sync import __version__
from sync.errors import ConfigError, SyncError, UsageError
from sync.logs import LOG_FORMATS, Redactor, format_exception, get_logger, setup_logging

if TYPE_CHECKING:
    from sync.run import RunOutcome
    from sync.settings import Settings

log = get_logger("cli")

PAYMENT_SCHEMES = ("seat10", "seat12", "noseats", "seat11")  # sync.samples.payments.SCHEMES, without importing numpy here


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"Error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _add_global(p: argparse.ArgumentParser, *, top: bool, config: bool = True) -> None:
    """The options every command takes, accepted before or after the command: `kpi-sync --debug now` and
    `kpi-sync now --debug` are the same. On the top-level parser they carry the defaults; on a command's parser
    their default is SUPPRESS, so an option given before the command is not reset by the command's parser."""
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    if config:
        p.add_argument("--config", metavar="PATH", default=default(None),
                       help="TOML config file (default: config/default.toml of the current folder, else of the checkout)")
    p.add_argument("--debug", action="store_true", default=default(False), help="show tracebacks on errors")
    p.add_argument("--log-format", choices=LOG_FORMATS, default=default(None),
                   help="human (default) or json: one JSON object per line (env: KPI_SYNC_LOG_FORMAT)")


def _add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["local", "dask"], help="where the per-customer work runs (default: the "
                   "config's [engine], else local); dask needs `pip install 'kpi-sync[dask]'` (docs/scale.md)")
    p.add_argument("--workers", type=_positive, metavar="N", help="dask: start a local cluster of N worker processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask: a running cluster's scheduler, e.g. tcp://host:8786")
    p.add_argument("--partitions", type=_positive, metavar="N", help="dask: customer partitions (default: 2 per thread)")
    p.add_argument("--processes", type=_processes, metavar="N|auto",
                   help="local: processes that read the log's slices (0: one per CPU; default: the config's, else auto: "
                   "2 from 3,000,000 charges)")


def _processes(text: str) -> int | str:
    """`--processes`: a whole number of 0 or more, or auto, for argparse."""
    return text if text == "auto" else _whole(text, 0, ": expected a whole number or auto")


def _positive(text: str) -> int:
    """A whole number of 1 or more for argparse."""
    return _whole(text, 1, " is not a whole number")


def _whole(text: str, least: int, not_whole: str) -> int:
    """`text` as a whole number of `least` or more, else an argparse error (`not_whole`: the words after the text when
    it is no whole number)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}{not_whole}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r}: expected {least} or more")
    return value


def _settings(args: argparse.Namespace) -> Settings:
    """The config's settings, with the engine flags given on the command line."""
    from sync.settings import load_settings, with_engine

    settings = load_settings(args.config, _environ())
    flags = any(getattr(args, k, None) is not None for k in ("workers", "scheduler", "partitions"))
    if flags and getattr(args, "engine", None) is None and settings.engine.name != "dask":
        raise UsageError("--workers, --scheduler and --partitions apply to the dask engine: add --engine dask")
    try:
        return with_engine(settings, name=getattr(args, "engine", None), workers=getattr(args, "workers", None),
                           scheduler=getattr(args, "scheduler", None), partitions=getattr(args, "partitions", None),
                           processes=getattr(args, "processes", None))
    except UsageError:
        raise
    except ConfigError as exc:  # the flags given do not go together (with the config's engine): bad usage, exit 2
        raise UsageError(str(exc)) from None


def _day(text: str) -> str | None:
    """--as-of: a YYYY-MM-DD day for argparse (a bad one is a usage error, exit 2; one after today is refused by the
    run, which knows the config's time zone). Empty (a script's `--as-of "$AS_OF"` with the variable unset): not
    given, the config's as_of or the newest charge, as before the flag was checked here."""
    from sync.settings import parse_day

    return _checked(parse_day, text, "as_of ") if text.strip() else None


def _sink(text: str) -> str:
    """--sink: KIND:TARGET of a known kind, for argparse (a bad one is a usage error, exit 2; a target that cannot be
    opened is found when the run opens it)."""
    from sync.settings import check_sink_uri

    return _checked(check_sink_uri, text, "sink ")


def _checked(check: Callable[[str], object], text: str, prefix: str) -> str:
    """`text` when the config's own `check` of such a value passes, else its message (less the config key's name
    `prefix`: argparse names the flag) as an argparse error."""
    try:
        check(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(prefix)) from None
    return text


def _month(text: str) -> str:
    """A YYYY-MM month for argparse (a bad one is a usage error, exit 2)."""
    import re

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month: expected YYYY-MM")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kpi-sync",
        description="Turn billing and customer data into growth and retention KPIs and publish them.",
    )
    parser.add_argument("--version", action="version", version=f"kpi-sync {__version__}",
                        help="print the version and exit")
    _add_global(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    now = sub.add_parser(
        "now", help="run the job once and publish",
        description="Read the configured data, compute every tab, check the invariants and the guard, then publish "
                    "to the sink (default: Google Sheets when configured, else xlsx:out/kpis.xlsx). Prints what it "
                    "published; --dry-run computes and checks everything and publishes nothing.")
    _add_global(now, top=False)
    now.add_argument("--sink", metavar="URI", type=_sink, help="xlsx:PATH, csv:DIR or gsheet:SPREADSHEET_ID")
    now.add_argument("--as-of", metavar="YYYY-MM-DD", type=_day, help="compute as of the end of this day")
    now.add_argument("--dry-run", action="store_true", help="compute and check everything, publish nothing")
    now.add_argument("--force", action="store_true", help="publish even unchanged tabs and past the guard")
    now.add_argument("--availability-month", metavar="YYYY-MM", type=_month, help="month for the availability tabs")
    _add_engine(now)

    worker = sub.add_parser(
        "worker", help="run the job on the schedule in the config, until stopped",
        description="Run `now` once at start, then on the config's [schedule] (every = \"1h\" or daily_at = "
                    "\"06:00\"; default every hour), until stopped by SIGTERM or Ctrl-C (exit 0; a publish in "
                    "progress is never cut off).")
    _add_global(worker, top=False)
    worker.add_argument("--sink", metavar="URI", type=_sink, help="xlsx:PATH, csv:DIR or gsheet:SPREADSHEET_ID")
    _add_engine(worker)

    check = sub.add_parser(
        "check", help="check the Google Sheets setup and show what `now` would send",
        description="Check the Google Sheets setup (config, service account key, access to the spreadsheet) and "
                    "print what `now` would add, update or leave, without writing. For a local sink (xlsx, csv) "
                    "use `kpi-sync now --dry-run` instead.")
    _add_global(check, top=False)
    check.add_argument("--sink", metavar="URI", type=_sink, help="gsheet:SPREADSHEET_ID (default: from the config/env)")
    check.add_argument("--as-of", metavar="YYYY-MM-DD", type=_day, help="compute as of the end of this day")
    check.add_argument("--force", action="store_true", help="plan as `now --force` would (rewrite every tab)")

    sample = sub.add_parser(
        "sample", help="write a deterministic generated dataset",
        description="Write a generated dataset (NDJSON files) to try kpi-sync without real data: the same options "
                    "always write the same files. Point a config's [sources] at the folder written.")
    _add_global(sample, top=False, config=False)
    sample.add_argument("--kind", choices=["payments", "contracts"], default="payments",
                        help="a payment log (default) or contract data")
    sample.add_argument("--out", metavar="DIR", required=True, help="folder to write the NDJSON files into")
    sample.add_argument("--customers", type=int, default=300, metavar="N", help="number of customers (default 300)")
    sample.add_argument("--seed", type=int, default=7, metavar="S", help="random seed: same seed, same files (default 7)")
    sample.add_argument("--scheme", choices=list(PAYMENT_SCHEMES), default=None,
                        help="payment log pricing: seat10 (default: 18 per seat, annual = 10 months), seat12 "
                             "(25/45 per seat, annual = 12 months), noseats (seat10 without a seat column) or "
                             "seat11 (12/29/59 per seat, annual = 11 months; flat plans 10x)")
    sample.add_argument("--truth", action="store_true",
                        help="payment log: also write truth.csv, the true revenue schedule behind the charges")
    return parser


def _summary(outcome: RunOutcome) -> str:
    verb = "Would publish" if outcome.dry_run else "Published"
    lines = [
        f"{verb} {len(outcome.tables)} tabs, {outcome.rows} rows to {outcome.destination} "
        f"(as of {outcome.as_of:%Y-%m-%d %H:%M:%S} UTC) in {outcome.seconds:.1f}s"
    ]
    for table in outcome.tables:
        lines.append(f"  {table.name:<24} {len(table.frame):>7} rows")
    result = outcome.result
    if result is not None and result.unchanged:
        lines.append(f"  unchanged, not rewritten: {', '.join(result.unchanged)}")
    if result is not None:  # tabs the sink cut (sheet row or cell limits, [publish] max_rows_per_tab)
        lines.extend(f"  {note}" for note in result.notes)
    for name, reason in outcome.skipped:
        lines.append(f"  skipped {name}: {reason}")
    quality = _quality_line(outcome)
    if quality:
        lines.append(f"  {quality}")
    lines.extend(f"  {note}" for note in outcome.notes)
    return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _quality_line(outcome: RunOutcome) -> str:
    """The Data quality tab in one line: the lines dropped as bad (the reader's count: a line with two fields missing
    is two errors, one line; the tab's rows stop listing them one by one past 1,000 of a reason), the warnings (lines
    kept, worth a look) and the informational notes (zero amounts, refunds: nothing to fix), these two counted as the
    tab's rows."""
    table = next((t for t in outcome.tables if t.name == "Data quality"), None)
    if table is None:
        return f"{_count(outcome.issues, 'data-quality issue')}: see the Data quality tab" if outcome.issues else ""
    counts = table.frame["Severity"].value_counts()
    errors, warnings, notes = (int(counts.get(s, 0)) for s in ("error", "warning", "info"))
    if not errors + warnings + notes:
        return ""
    dropped = f"{_count(outcome.dropped, 'line')} dropped as bad" if outcome.dropped else _count(errors, "error")
    kinds = [dropped if errors else "", f"{_count(warnings, 'warning')} (lines kept, worth a look)" if warnings else ""]
    problems = " and ".join(k for k in kinds if k) or "no problems"
    info = f"; {_count(notes, 'informational note')} (e.g. zero amounts, refunds: nothing to fix)" if notes else ""
    return f"Data quality: {problems}{info}; see the Data quality tab"


def _cmd_now(args: argparse.Namespace) -> int:
    from sync.run import run_once

    settings = _settings(args)
    outcome = run_once(
        settings,
        sink_uri=args.sink,
        as_of=args.as_of,
        dry_run=args.dry_run,
        force=args.force,
        hr_month=args.availability_month,
    )
    print(_redactor(_summary(outcome)))
    if not args.config:  # which config/default.toml was read: the current folder's or the checkout's
        print(_redactor(f"  config: {settings.config_path}"))
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from sync.worker import run_worker

    settings = _settings(args)
    return run_worker(settings, sink_uri=args.sink)


def _cmd_check(args: argparse.Namespace) -> int:
    from sync.settings import load_settings
    from sync.sinks.gsheet_check import run_check

    settings = load_settings(args.config, _environ())
    print(_redactor(f"Config:          {settings.config_path}"))
    print(_redactor(run_check(settings, sink_uri=args.sink, as_of=args.as_of, force=args.force)))
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    if args.config:
        print("Error: --config does not apply to sample (it writes generated data; see --out)", file=sys.stderr)
        return 2
    if args.kind == "payments":
        from sync.samples.payments import DEFAULT_SCHEME
        from sync.samples.payments import write_sample as write_payments

        written = write_payments(args.out, customers=args.customers, seed=args.seed,
                                 scheme=args.scheme or DEFAULT_SCHEME, truth=args.truth)
    else:
        from sync.samples.contracts import write_sample

        if args.scheme or args.truth:
            print("Error: --scheme and --truth apply to --kind payments only", file=sys.stderr)
            return 2
        written = write_sample(args.out, customers=args.customers, seed=args.seed)
    for path, rows in written:
        print(f"wrote {rows} rows to {path}")
    return 0


COMMANDS = {"now": _cmd_now, "worker": _cmd_worker, "check": _cmd_check, "sample": _cmd_sample}


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    environ = _environ()
    fmt = args.log_format or environ.get("KPI_SYNC_LOG_FORMAT", "").strip().lower() or "human"
    if fmt not in LOG_FORMATS:
        print(f"Error: KPI_SYNC_LOG_FORMAT={fmt!r}: expected one of {', '.join(LOG_FORMATS)}", file=sys.stderr)
        return 2
    global _redactor
    _redactor = Redactor.from_environ(environ)
    setup_logging(fmt, redactor=_redactor, debug=args.debug)
    if fmt == "human" and args.command == "now" and not args.debug:
        logging.getLogger("kpi_sync").setLevel(logging.WARNING)  # the summary on stdout says the rest
    try:
        return COMMANDS[args.command](args)
    except SyncError as exc:
        _report(fmt, exc, f"Error: {exc}", show_traceback=args.debug)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # whoever read stdout stopped (`kpi-sync now | head`): not a bug of ours
        _silence_stdout()
        print("Error: standard output was closed before everything was printed (e.g. piped into head); "
              "whatever the command did before that stands (Sync status and the log tell)", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: say so, with the traceback (secrets removed)
        _report(fmt, exc, f"Error: internal error ({type(exc).__name__}: {exc}); please report it", show_traceback=True)
        return 1


_redactor: Redactor = Redactor()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit raises no second BrokenPipeError (Python's docs, signal)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no real file (captured, closed): nothing to silence
        pass


def _report(fmt: str, exc: BaseException, line: str, *, show_traceback: bool) -> None:
    """The final error: one `Error: ...` line on stderr (a JSON line with --log-format json), secrets removed."""
    if fmt == "json":
        code = getattr(exc, "exit_code", 1)
        log.error(line.removeprefix("Error: "), exc_info=exc if show_traceback else None,
                  extra={"fields": {"error": type(exc).__name__, "exit_code": code}})
        return
    if show_traceback:
        print(format_exception(exc, _redactor), file=sys.stderr, end="")
    print(_redactor(line), file=sys.stderr)
