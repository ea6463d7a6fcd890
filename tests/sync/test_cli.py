"""The command line: exit codes, one-line errors, the run summary, dry runs, --as-of and the default sink."""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from sync import __version__
from sync.cli import build_parser, main
from sync.errors import ConfigError
from sync.settings import load_settings
from tests.sync.test_loading import BASE, good_customers, good_invoices, make_config, write_lines


def test_version(capsys: pytest.CaptureFixture) -> None:
    """--version prints the package version and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"kpi-sync {__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture) -> None:
    """--help exits 0 and names every command."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("now", "worker", "sample"):
        assert command in out


@pytest.mark.parametrize(
    "argv", [[], ["frobnicate"], ["now", "--as-of"], ["now", "--bogus"], ["now", "--availability-month", "2017-13"]]
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    """No command, an unknown command or a bad option is a usage error: exit 2."""
    assert main(argv) == 2


def test_run_summary_and_xlsx_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`now` prints the tabs, rows, destination and time, and writes a workbook with those tabs."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    path = tmp_path / "out" / "kpis.xlsx"
    assert main(["now", "--config", str(config), "--sink", f"xlsx:{path}"]) == 0
    out = capsys.readouterr().out
    assert f"to xlsx:{path}" in out and "MRR" in out and "rows" in out
    book = openpyxl.load_workbook(path)
    assert {"MRR", "MRR by quarter", "Customers", "Billing", "Data quality", "About"} <= set(book.sheetnames)


def test_dry_run_publishes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--dry-run computes and checks everything, says what it would publish, and writes nothing."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    out = tmp_path / "out"
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}", "--dry-run"]) == 0
    assert "Would publish" in capsys.readouterr().out
    assert not out.exists()


def test_as_of_cuts_the_months(tmp_path: Path) -> None:
    """--as-of YYYY-MM-DD computes as of the end of that day: no later month appears."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    out = tmp_path / "out"
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}", "--as-of", "2017-04-15"]) == 0
    months = [line.split(",")[0] for line in (out / "mrr.csv").read_text(encoding="utf-8").splitlines()[1:]]
    assert months == ["2017-03", "2017-04"]


@pytest.mark.parametrize("value", ["0000-01-01", "9999-12-31"])
def test_an_as_of_past_what_timestamps_hold_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                        value: str) -> None:
    """A day of year 0 parsed, then crashed the run ("internal error ... strftime", a review): refused as bad usage
    on the command line, as a config error in the file."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    assert main(["now", "--config", str(config), "--as-of", value, "--dry-run"]) == 2
    assert "expected a day between 1677 and 2262" in capsys.readouterr().err
    config.write_text(f'as_of = "{value}"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["now", "--config", str(config), "--dry-run"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_an_empty_as_of_is_not_given(tmp_path: Path) -> None:
    """`--as-of ""` (a script's `--as-of "$AS_OF"` with the variable unset) reads as no --as-of, as it did before
    the flag was checked by argparse."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'o'}", "--as-of", ""]) == 0


@pytest.mark.parametrize("value", ["2017-13-01", "yesterday", "2017-04-15T10:00:00"])
def test_bad_as_of_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture, value: str) -> None:
    """A malformed --as-of is bad usage (exit 2, as README says; a review found exit 1): the usage, then one Error
    line naming the flag, no traceback; the same value in the config is a config error (exit 1)."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    for command in (["now", "--sink", f"csv:{tmp_path / 'o'}"], ["check"]):
        assert main([*command, "--config", str(config), "--as-of", value]) == 2
        err = capsys.readouterr().err
        assert err.splitlines()[-1].startswith(f"Error: argument --as-of: {value!r}: ")
        assert ("no such day" if value == "2017-13-01" else "expected a day") in err
        assert "Traceback" not in err
    config.write_text(f'as_of = "{value}"\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    for command in (["now", "--sink", f"csv:{tmp_path / 'o'}"], ["worker"]):  # the worker stops at start
        assert main([*command, "--config", str(config)]) == 1
        assert capsys.readouterr().err.startswith(f"Error: {config}: as_of {value!r}: ")


@pytest.mark.parametrize(("uri", "said"), [("ftp:somewhere", "unknown kind 'ftp'"),
                                           ("xlsx:", "expected xlsx:PATH, csv:DIR or gsheet:SPREADSHEET_ID"),
                                           ("out.xlsx", "expected xlsx:PATH"),
                                           ("XLSX:out.xlsx", "write the kind 'xlsx' in lower case"),
                                           (" csv:out", "write the kind 'csv' in lower case, with no space"),
                                           ("xlsx:out.xlsx ", "the path begins or ends with a space")])
def test_bad_sink_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture, uri: str, said: str) -> None:
    """A --sink of no known kind is bad usage (exit 2): the usage, then one Error line naming the flag, before any work, for
    every command that takes it; in the config's [output] sink it is a config error (exit 1)."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    for command in ("now", "worker", "check"):
        assert main([command, "--config", str(config), "--sink", uri]) == 2
        err = capsys.readouterr().err
        assert err.splitlines()[-1].startswith(f"Error: argument --sink: {uri!r}: ") and said in err
        assert "Traceback" not in err
    config.write_text(config.read_text(encoding="utf-8") + f'\n[output]\nsink = "{uri}"\n', encoding="utf-8")
    for command in ("now", "worker", "check"):  # refused as the config is read: the worker stops at start (a review
        # found it failing every hour), and check does not call it "a local one"
        assert main([command, "--config", str(config)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"Error: {config}: output.sink: sink {uri!r}: ") and said in err


def test_default_sink_is_local_without_google(tmp_path: Path) -> None:
    """With no Google credentials the default sink is xlsx:out/kpis.xlsx; with them and an id it is the sheet."""
    from sync.run import default_sink_uri

    config = make_config(tmp_path, good_invoices(), good_customers())
    assert default_sink_uri(load_settings(config, {})) == "xlsx:out/kpis.xlsx"
    env = {"GOOGLE_SERVICE_ACCOUNT_FILE": "/k.json", "KPI_SYNC_SPREADSHEET_ID": "abc123"}
    assert default_sink_uri(load_settings(config, env)) == "gsheet:abc123"


@pytest.mark.parametrize("env, words", [
    ({"KPI_SYNC_SPREADSHEET_ID": "abc123"}, "a spreadsheet to publish to is set (KPI_SYNC_SPREADSHEET_ID or [publish] "
                                            "spreadsheet_id) but no Google credentials: set GOOGLE_SERVICE_ACCOUNT_JSON"),
    ({"GOOGLE_SERVICE_ACCOUNT_JSON": "{}"}, "Google credentials are set (GOOGLE_SERVICE_ACCOUNT_JSON or "
                                           "GOOGLE_SERVICE_ACCOUNT_FILE) but no spreadsheet to publish to"),
])
def test_google_configured_by_halves_is_an_error_not_a_local_file(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                    monkeypatch: pytest.MonkeyPatch, env: dict,
                                                                    words: str) -> None:
    """A spreadsheet id without credentials (or credentials without an id) fails before any work, naming what is
    missing: it published to a local out/kpis.xlsx and exited 0 (a worker would do so every hour, and the sheet its
    readers open would never change). The worker fails at start, not at each run. --sink still publishes locally."""
    from sync.worker import run_worker

    config = make_config(tmp_path, good_invoices(), good_customers())
    for name in ("KPI_SYNC_SPREADSHEET_ID", "GOOGLE_SERVICE_ACCOUNT_JSON", "GOOGLE_SERVICE_ACCOUNT_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["now", "--config", str(config)]) == 1
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    with pytest.raises(ConfigError, match="or give --sink xlsx:PATH to publish locally"):
        run_worker(load_settings(config, env), install_signals=False)
    assert main(["now", "--config", str(config), "--sink", f"xlsx:{tmp_path / 'local.xlsx'}"]) == 0


def test_a_sink_in_the_config_is_relative_to_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """[output] sink = "xlsx:out/k.xlsx" is the config folder's out/k.xlsx whatever the current folder (README: relative
    paths are relative to the config file's folder); an absolute one and a gsheet: one are as given."""
    from sync.run import default_sink_uri

    config = make_config(tmp_path, good_invoices(), good_customers())
    text = config.read_text(encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for sink, expected in (("xlsx:out/k.xlsx", f"xlsx:{tmp_path / 'out' / 'k.xlsx'}"),
                           ("csv:folder", f"csv:{tmp_path / 'folder'}"),
                           (f"xlsx:{elsewhere / 'a.xlsx'}", f"xlsx:{elsewhere / 'a.xlsx'}"),
                           ("gsheet:abc123", "gsheet:abc123")):
        config.write_text(f'{text}\n[output]\nsink = "{sink}"\n', encoding="utf-8")
        assert default_sink_uri(load_settings(config, {})) == expected
    config.write_text(f'{text}\n[output]\nsink = "xlsx:out/k.xlsx"\n', encoding="utf-8")
    assert main(["now", "--config", str(config)]) == 0
    assert (tmp_path / "out" / "k.xlsx").is_file() and not (elsewhere / "out").exists()


def test_the_run_summary_says_which_tabs_the_sink_cut(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A tab cut to what the sheet holds is said in the printed summary, under its row count (the summary said
    "Movements 40 rows" of a sheet that held 7, and only a warning on stderr told)."""
    from sync.sinks import xlsx

    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 10)
    config = make_config(tmp_path, good_invoices(), good_customers())
    assert main(["now", "--config", str(config), "--sink", f"xlsx:{tmp_path / 'k.xlsx'}"]) == 0
    printed = capsys.readouterr()
    assert "  tab 'Movements': Truncated: the first 7 of " in printed.out
    assert "Truncated" not in printed.err  # said once (the worker's log has it as an info event)


def test_python_dash_m_sync_is_the_cli(tmp_path: Path) -> None:
    """`python -m sync --version` runs the same entry point as the console script."""
    done = subprocess.run([sys.executable, "-m", "sync", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"kpi-sync {__version__}"


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Errors are one line; --debug adds the traceback."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    (tmp_path / "invoices.json").unlink()
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'o'}", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("before", [True, False], ids=["before the command", "after the command"])
def test_global_options_go_before_or_after_the_command(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       before: bool) -> None:
    """--config, --debug and --log-format mean the same before the command (`kpi-sync --debug now`) and after it."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    (tmp_path / "invoices.json").unlink()
    options = ["--config", str(config), "--debug", "--log-format", "human"]
    rest = ["--sink", f"csv:{tmp_path / 'o'}"]
    argv = [*options, "now", *rest] if before else ["now", *rest, *options]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "invoices" in err and "config/default.toml" not in err


def test_config_before_sample_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`sample` reads no config: a --config given before it is refused rather than silently ignored."""
    assert main(["--config", "kpi.toml", "sample", "--out", str(tmp_path / "s")]) == 2
    assert "--config does not apply to sample" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def _parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The top-level parser and each command's parser, by command name ("" for the top level)."""
    found = {"": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def test_every_command_and_option_is_explained() -> None:
    """`kpi-sync COMMAND --help` says what the command does and what each of its options means."""
    parsers = _parsers(build_parser())
    assert set(parsers) == {"", "now", "worker", "check", "sample"}
    for name, parser in parsers.items():
        assert parser.description and len(parser.description) > 40, f"{name or 'kpi-sync'} has no description"
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, f"{name}: {action.option_strings} unexplained"


def test_data_quality_separates_problems_from_notes_and_names_files_from_the_config(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The run's summary counts problems (errors, warnings) apart from informational notes (zero amounts, refunds),
    and the Data quality tab names files as the config does (relative to its folder), never by a machine path."""
    (tmp_path / "project" / "config").mkdir(parents=True)
    (tmp_path / "project" / "data").mkdir()
    invoices = good_invoices()
    invoices[3] = {**invoices[3], "amountPaid": 0.0}
    invoices[7] = {**invoices[7], "amountPaid": -10.0}
    invoices.append({"customerId": 1, "amountPaid": "ten", "timestampPaid": BASE})
    write_lines(tmp_path / "project" / "data" / "invoices.json", invoices)
    write_lines(tmp_path / "project" / "data" / "customers.json", good_customers())
    config = tmp_path / "project" / "config" / "kpi.toml"
    config.write_text('[sources]\ninvoices = "../data/invoices.json"\ncustomers = "../data/customers.json"\n',
                      encoding="utf-8")
    out = tmp_path / "out"
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "Data quality:" in x)
    with (out / "data_quality.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # 1 error (the unreadable amount); info: the zero, the refund and the tab's rows that total them
    assert [r["Severity"] for r in rows].count("error") == 1
    notes = [r["Severity"] for r in rows].count("info")
    assert notes >= 2 and f"; {notes} informational notes" in line, line
    assert "Data quality: 1 line dropped as bad;" in line, line
    assert {r["File"] for r in rows} == {"../data/invoices.json"}
    assert str(tmp_path) not in (out / "data_quality.csv").read_text(encoding="utf-8")


def test_as_of_before_any_revenue_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An as_of before the first charge would publish empty tables: it fails with one line instead."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'o'}", "--as-of", "2010-01-01"]) == 1
    assert "before the first revenue in the data (2017-03-01)" in capsys.readouterr().err


def test_a_folder_given_as_an_input_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An input path that is a folder says so, rather than "not found"."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    (tmp_path / "invoices.json").unlink()
    (tmp_path / "invoices.json").mkdir()
    assert main(["now", "--config", str(config), "--sink", f"csv:{tmp_path / 'o'}"]) == 1
    assert "invoices is a folder, not a file" in capsys.readouterr().err


def test_the_run_reads_billing_as_of_its_as_of_not_the_newest_charge(tmp_path: Path) -> None:
    """With --as-of past a missed renewal, 18 followed by a smaller charge is an annual term (active), not a lapsed month."""
    day = 86_400
    first = 1_484_042_400  # 2017-01-10 10:00 UTC
    invoices = [
        {"customerId": 1, "amountPaid": 18.0, "timestampPaid": first},
        {"customerId": 1, "amountPaid": 5.0, "timestampPaid": first + 10 * day},
    ]
    config = make_config(tmp_path, invoices, [{"customerId": 1, "nrSessions": 3, "nrSeats": 1}])
    out = tmp_path / "o"
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}", "--as-of", "2017-02-15"]) == 0
    rows = (out / "customers.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1].split(",")[4] == "active"


def test_a_closed_stdout_is_a_clear_error_not_an_internal_one(tmp_path: Path) -> None:
    """`kpi-sync now | head`: when the reader of stdout goes away the run still publishes, and the command ends
    with one clear line on stderr (was 'internal error (BrokenPipeError) ... please report it')."""
    config = make_config(tmp_path, good_invoices(), good_customers())
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "sync", "now", "--config", str(config), "--sink", f"csv:{out}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the run prints its summary
    err = child.stderr.read().decode()
    assert child.wait(timeout=120) == 1
    assert "standard output was closed" in err and "internal error" not in err and "Traceback" not in err
    assert (out / "mrr.csv").exists()  # the publish happened before the summary was printed
