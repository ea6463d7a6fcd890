"""No secret in any output: the service-account key, its private key and the Lucca API key never appear in logs,
errors, tracebacks (--debug too), the workbook or the state file, whether the run succeeds or fails."""

from __future__ import annotations

import base64
import io
import json
import logging
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import responses

from sync.cli import main
from sync.logs import REDACTED, Redactor, setup_logging
from sync.settings import Secrets
from tests.fakes.keys import service_account_key
from tests.fakes.lucca import BASE_URL, FakeLucca
from tests.sync.test_guard import make_ops_config, truncate
from tests.sync.test_lock import hook_env, wait_for

LUCCA_KEY = "lk-live-7c1e0b9a4f2d48e6a35b90c1d7e2f846"


@pytest.fixture(scope="module")
def key_info() -> dict[str, Any]:
    """A service-account key as Google hands it out, with a real 2048-bit RSA key."""
    return service_account_key(
        "kpi-prod", private_key_id="9a8b7c6d5e4f30211203f4e5d6c7b8a9f0e1d2c3", client_id="109876543210987654321"
    )


def forbidden(info: dict[str, Any]) -> list[str]:
    """Every piece of a secret that must not be found anywhere: the key text, each line of the PEM body, ids."""
    body = [line for line in info["private_key"].splitlines() if line and "-----" not in line]
    text = json.dumps(info)
    return [LUCCA_KEY, info["private_key_id"], text, base64.b64encode(text.encode()).decode(), *body,
            "BEGIN PRIVATE KEY"]


def assert_clean(text: str, info: dict[str, Any]) -> None:
    assert text, "nothing was captured"
    leaked = [s[:24] for s in forbidden(info) if s in text]
    assert not leaked, f"secret found in output: {leaked}"


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch, key_info: dict[str, Any]) -> dict[str, str]:
    env = {
        "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(key_info),
        "LUCCA_BASE_URL": BASE_URL,
        "LUCCA_API_KEY": LUCCA_KEY,
    }
    for name in ("GOOGLE_SERVICE_ACCOUNT_FILE", "KPI_SYNC_SPREADSHEET_ID", "KPI_SYNC_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def lucca() -> Iterator[FakeLucca]:
    """The Lucca fake on `responses`: any other HTTP request (Google included) is refused, so no network."""
    fake = FakeLucca(api_key=LUCCA_KEY)
    fake.add_user(101, "Alice", "Martin", "2022-03-01")
    fake.add_user(102, "Bruno", "Petit", "2019-09-16", department="Sales")
    fake.add_leave(101, "2025-07-07")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.register(rsps)
        yield fake


def workbook_text(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v is not None)


# --- the redactor on its own -----------------------------------------------------------------------------------


def test_redactor_removes_values_and_credential_shapes(key_info: dict[str, Any]) -> None:
    """Known values, their JSON-escaped and base64 forms, PEM blocks (even cut short), Lucca headers, tokens."""
    env = {"GOOGLE_SERVICE_ACCOUNT_JSON": base64.b64encode(json.dumps(key_info).encode()).decode(),
           "LUCCA_API_KEY": LUCCA_KEY, "LUCCA_BASE_URL": BASE_URL, "KPI_SYNC_SPREADSHEET_ID": "1AbCdEf"}
    redact = Redactor.from_environ(env)
    pem = key_info["private_key"]
    assert redact(f"key={LUCCA_KEY}!") == f"key={REDACTED}!"
    assert "PRIVATE" not in redact(f"oops {pem} end") and redact(f"oops {pem} end").endswith(" end")
    assert "MII" not in redact(json.dumps({"private_key": pem}))  # \n-escaped inside JSON
    assert "MII" not in redact("truncated: " + pem[:300])
    assert redact(key_info["private_key_id"]) == REDACTED
    assert redact("Authorization: lucca application=some-other-key") == f"Authorization: lucca application={REDACTED}"
    assert redact("Authorization: Bearer ya29.a0AfH6SMBxyz-123") == f"Authorization: Bearer {REDACTED}"
    assert redact('{"access_token": "abc.def", "x": 1}') == f'{{"access_token": "{REDACTED}", "x": 1}}'
    assert redact("assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrcGkifQ.c2lnbmF0dXJlc2ln") == f"assertion={REDACTED}"
    # identifiers are not credentials: they stay readable
    assert redact(f"published to gsheet:1AbCdEf at {BASE_URL}") == f"published to gsheet:1AbCdEf at {BASE_URL}"


@pytest.mark.parametrize("shape", ["wrapped base64", "url-safe base64 without padding", "JSON with raw newlines"])
def test_every_accepted_key_shape_teaches_the_redactor(key_info: dict[str, Any], shape: str) -> None:
    """A key given in any shape the loader accepts (wrapped or URL-safe base64, raw newlines) has its key material redacted."""
    from sync.sinks.gsheet import load_service_account

    text = json.dumps(key_info)
    if shape == "wrapped base64":
        value = base64.encodebytes(text.encode()).decode()  # 76-character lines
    elif shape == "url-safe base64 without padding":
        value = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    else:
        value = text.replace("\\n", "\n")  # the PEM's escaped newlines pasted as real ones
    env = {"GOOGLE_SERVICE_ACCOUNT_JSON": value}
    info, _source = load_service_account(Secrets(env))  # the loader accepts it...
    assert info["private_key_id"] == key_info["private_key_id"]
    redact = Redactor.from_environ(env)  # ...so the redactor must know what it holds
    assert redact(f"id {key_info['private_key_id']}") == f"id {REDACTED}"
    body = key_info["private_key"].splitlines()[1]
    assert body not in redact(f"leak {body}")


def test_key_file_contents_are_redacted_not_its_path(tmp_path: Path, key_info: dict[str, Any]) -> None:
    """With GOOGLE_SERVICE_ACCOUNT_FILE, the file's key material is redacted; the path stays readable."""
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(key_info), encoding="utf-8")
    redact = Redactor.from_environ({"GOOGLE_SERVICE_ACCOUNT_FILE": str(path)})
    assert redact(f"{path}: {key_info['private_key_id']}") == f"{path}: {REDACTED}"
    pasted = Redactor.from_environ({"GOOGLE_SERVICE_ACCOUNT_FILE": json.dumps(key_info)})  # the key where a path goes
    assert_clean(pasted(f"cannot open {json.dumps(key_info)}") + " ", key_info)


def test_log_records_arguments_and_tracebacks_are_redacted(key_info: dict[str, Any]) -> None:
    """A secret in a message, in its arguments or in an exception's traceback never reaches the stream."""
    stream = io.StringIO()
    secrets = Secrets({"LUCCA_API_KEY": LUCCA_KEY, "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(key_info)})
    for fmt in ("human", "json"):
        setup_logging(fmt, redactor=Redactor.from_environ(
            {n: secrets.get(n) or "" for n in Secrets.NAMES}), stream=stream)
        log = logging.getLogger("kpi_sync.test")
        log.warning("header lucca application=%s", LUCCA_KEY)
        log.error(f"inline {key_info['private_key']}")
        try:
            raise ValueError(f"bad key {json.dumps(key_info)}")
        except ValueError:
            log.exception("failed with %r", key_info)
    setup_logging("human")
    text = stream.getvalue()
    assert_clean(text, key_info)
    human, js = text.split("\n{", 1)
    assert len(human.splitlines()) == 3  # one line per event, the traceback included
    assert all(json.loads(line) for line in ("{" + js).splitlines())


# --- whole runs ----------------------------------------------------------------------------------------------


def test_runs_with_real_looking_keys_leak_nothing(
    tmp_path: Path, secrets_env: dict[str, str], key_info: dict[str, Any], lucca: FakeLucca,
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Good, refused, failing and crashing runs, in both log formats and with --debug: no key anywhere."""
    config = make_ops_config(tmp_path, extra="[availability]\nmax_retries = 0\n[publish]\nmax_retries = 0\n")
    book = tmp_path / "out" / "kpis.xlsx"
    now = ["now", "--config", str(config), "--availability-month", "2025-07", "--debug"]
    captured: list[str] = []

    def run(*argv: str) -> int:
        code = main([*argv])
        out, err = capsys.readouterr()
        captured.append(out + err)
        return code

    # A good run, with the Lucca fake answering: availability tabs published.
    assert run(*now, "--sink", f"xlsx:{book}") == 0
    assert "Availability" in captured[-1] and len(lucca.calls) >= 2
    # The guard refuses a truncated input (the error goes to the history and the Sync status tab).
    truncate(tmp_path / "invoices.json", 0.1)
    assert run(*now, "--sink", f"xlsx:{book}", "--log-format", "json") == 1
    # Lucca refuses the key, with a body that repeats the header it got.
    lucca.fail_next("/api/v3/users", 401, {"Status": 401, "Message": f"unknown key: lucca application={LUCCA_KEY}"})
    assert run(*now, "--sink", f"xlsx:{book}", "--force") == 1
    assert "Lucca API refused the API key" in captured[-1]
    # The Google Sheets sink with the real key: the token request is refused (no network under responses).
    lucca.api_key = "not-the-key"  # Lucca now 401s too; first check Sheets by skipping Lucca
    monkeypatch.delenv("LUCCA_API_KEY")
    assert run(*now, "--sink", "gsheet:1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEF", "--force") == 1
    assert "Error:" in captured[-1]
    monkeypatch.setenv("LUCCA_API_KEY", LUCCA_KEY)
    # A bug whose message carries the secrets: the traceback is printed, redacted.
    import sync.run

    def crash(settings: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"bug near {LUCCA_KEY} and {json.dumps(key_info)}")

    monkeypatch.setattr(sync.run, "load_dataset", crash)
    for fmt in ("human", "json"):
        assert run(*now, "--sink", f"xlsx:{book}", "--log-format", fmt) == 1
        assert "Traceback" in captured[-1] or '"traceback"' in captured[-1]

    everything = "\n".join(captured)
    assert_clean(everything, key_info)
    assert_clean(workbook_text(book), key_info)
    state = (tmp_path / "state" / "last_run.json").read_text(encoding="utf-8")
    assert_clean(state, key_info)
    assert '"refused by the guard"' in state and '"failed"' in state


def _until_failures(argv: list[str], env: dict[str, str], folder: Path, failures: int) -> tuple[int, str, str]:
    """Run a worker until the state file holds `failures` failed runs, then SIGTERM it: (exit code, stdout, stderr)."""
    state = folder / "state" / "last_run.json"
    proc = subprocess.Popen(argv, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (state.exists() and state.read_text().count('"failed"') >= failures)
                 or proc.poll() is not None, "the failed run to be recorded")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    return proc.returncode, out, err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_worker_process_with_keys_leaks_nothing(tmp_path: Path, key_info: dict[str, Any]) -> None:
    """A worker process whose Lucca calls fail (connection refused on a local port) logs no secret, JSON or not."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused, nothing leaves the machine
    port = closed.getsockname()[1]
    try:
        config = make_ops_config(tmp_path, extra='[availability]\nmax_retries = 0\n[schedule]\nevery = "1h"\n')
        for fmt in ("human", "json"):
            env, _ = hook_env(tmp_path, "none")  # a clean environment, no hook
            env.update(GOOGLE_SERVICE_ACCOUNT_JSON=base64.b64encode(json.dumps(key_info).encode()).decode(),
                       LUCCA_BASE_URL=f"http://127.0.0.1:{port}", LUCCA_API_KEY=LUCCA_KEY)
            argv = [sys.executable, "-m", "sync", "worker", "--config", str(config), "--debug", "--log-format", fmt,
                    "--sink", f"xlsx:{tmp_path / 'out.xlsx'}"]
            code, out, err = _until_failures(argv, env, tmp_path, failures=1 + (fmt == "json"))
            assert code == 0, err
            assert "run failed: Lucca API" in err
            assert_clean(out + err, key_info)
        assert_clean((tmp_path / "state" / "last_run.json").read_text(encoding="utf-8"), key_info)
    finally:
        closed.close()
