"""`kpi-sync now` and `kpi-sync check` against the Sheets fake, on the shipped sample data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sync.cli import main
from sync.run import run_once
from sync.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "data" / "sample" / "payments"
ENV_NAMES = (
    "GOOGLE_SERVICE_ACCOUNT_FILE",
    "GOOGLE_SERVICE_ACCOUNT_JSON",
    "KPI_SYNC_SPREADSHEET_ID",
    "LUCCA_BASE_URL",
    "LUCCA_API_KEY",
    "KPI_SYNC_LOG_FORMAT",
)

pytestmark = pytest.mark.skipif(
    not (SAMPLE / "invoices.json").exists(), reason="the shipped sample data is absent"
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "kpi.toml"
    path.write_text(
        f'[sources]\ninvoices = "{SAMPLE / "invoices.json"}"\ncustomers = "{SAMPLE / "customers.json"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def google_env(fake, service_key, monkeypatch) -> dict[str, str]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    env = {
        "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(service_key),
        "KPI_SYNC_SPREADSHEET_ID": fake.spreadsheet_id,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_sample_run_uses_one_read_and_one_write(fake, config, google_env):
    """On the sample data a first run sends token + 1 read + 1 write; an hour later, with the same data, no write at all."""
    settings = load_settings(config, google_env)
    outcome = run_once(settings, clock=lambda: pd.Timestamp("2024-01-01 08:00", tz="UTC"))
    assert [c.kind for c in fake.calls] == ["token", "get", "batchUpdate"]
    assert outcome.result is not None and outcome.result.requests == 2
    assert {"MRR", "Customers", "Dashboard"} <= set(fake.titles())
    assert len(fake.sheet("Dashboard").charts) >= 1
    calls = len(fake.calls)
    again = run_once(settings, clock=lambda: pd.Timestamp("2024-01-01 09:00", tz="UTC"))
    assert [c.kind for c in fake.calls[calls:]] == ["token", "get"]
    assert again.result is not None and again.result.written == [] and again.result.requests == 1
    # Only the run's own record (About's run time, Sync status) differed: not worth a write.
    assert {"MRR", "About", "Sync status"} <= set(again.result.unchanged)


def test_now_defaults_to_google_sheets_when_configured(fake, config, google_env, capsys):
    """With a spreadsheet id and a key in the environment, `now` publishes to Google Sheets."""
    assert main(["now", "--config", str(config)]) == 0
    assert fake.count("batchUpdate") == 1
    assert "docs.google.com/spreadsheets" in capsys.readouterr().out


def test_check_prints_account_tabs_and_plan_without_writing(fake, config, google_env, service_key, capsys):
    """`check` shows the service account, the tabs, and what `now` would add, update or skip; writes nothing."""
    fake.add_by_hand("Notes")
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"Service account: {service_key['client_email']}" in out
    assert "Tabs now:        Sheet1, Notes" in out
    assert "  add        MRR" in out and "Would send 1 batchUpdate request" in out
    assert "skipped    Availability" in out and "Nothing was written." in out
    assert fake.count("batchUpdate") == 0 and fake.count("get") == 1

    assert main(["now", "--config", str(config)]) == 0
    capsys.readouterr()
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "  unchanged  MRR" in out and "MRR (kpi-sync)" in out


def test_check_says_what_is_missing(config, monkeypatch, capsys):
    """Without Google settings `check` fails with the variables to set."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "set KPI_SYNC_SPREADSHEET_ID (or [publish] spreadsheet_id) and GOOGLE_SERVICE_ACCOUNT_FILE" in err
    # ... and that kpi-sync works without Google: which local sinks there are, and how to check a run on them.
    assert "`kpi-sync now --dry-run`" in err and "xlsx:PATH" in err and "csv:DIR" in err


@pytest.mark.parametrize("present, missing", [
    ("KPI_SYNC_SPREADSHEET_ID", "GOOGLE_SERVICE_ACCOUNT_FILE or GOOGLE_SERVICE_ACCOUNT_JSON"),
    ("GOOGLE_SERVICE_ACCOUNT_JSON", "KPI_SYNC_SPREADSHEET_ID (or [publish] spreadsheet_id)"),
])
def test_check_with_google_set_by_halves_names_the_other_half(config, monkeypatch, capsys, present, missing):
    """`check` with only the id (or only the key) says which setting is missing, not `--sink xlsx:PATH` (a sink
    `check` itself refuses), which `now`'s error offers."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(present, "{}" if present.startswith("GOOGLE") else "1AbC")
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"check verifies Google Sheets publishing, and half of it is set: set {missing}" in err
    assert "--sink xlsx:PATH" not in err


def test_check_reports_an_unshared_spreadsheet(fake, config, google_env, service_key, capsys):
    """`check` on a spreadsheet not shared with the account exits 1 with the email to share with."""
    fake.access = None
    assert main(["check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"share the spreadsheet with {service_key['client_email']} as Editor" in err
    assert "PRIVATE KEY" not in err
