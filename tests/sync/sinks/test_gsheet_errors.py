"""The Google Sheets sink when things go wrong: retries, ambiguous failures, access errors, bad keys."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from sync.errors import ConfigError, PublishError
from sync.retry import RetryPolicy
from sync.settings import Secrets, load_settings
from sync.sinks import open_sink
from sync.sinks.gsheet import GSheetSink, load_service_account, spreadsheet_id_from
from tests.fakes.sheets import Fault
from tests.sync.sinks.gsheet_tables import customers_table, empty_table, mrr_table, workbook

# ---------------------------------------------------------------- retries


def test_429_then_200_succeeds_and_honours_retry_after(fake, make_sink, clock):
    """A 429 with Retry-After: 7 waits at least 7 seconds, then resends the same body (no re-read)."""
    fake.fail("batchUpdate", Fault(429, headers={"Retry-After": "7"}, message="Quota exceeded"))
    result = make_sink().publish(workbook())
    assert [c.kind for c in fake.calls] == ["token", "get", "batchUpdate", "batchUpdate"]
    assert clock.sleeps == [7.0]
    first, second = fake.bodies()
    assert first == second
    assert "MRR" in fake.titles()
    assert result.requests == 3


def test_429_on_the_read_is_retried(fake, make_sink, clock):
    """The metadata read is retried too, with jittered backoff when no Retry-After is given."""
    fake.fail("get", Fault(429), Fault(503))
    make_sink().publish(workbook())
    assert fake.count("get") == 3
    assert clock.sleeps == [0.5, 1.0]  # rand 0.5 times 1s, then 2s


def test_repeated_500s_fail_clearly_and_leave_the_workbook_as_it_was(fake, make_sink, clock):
    """Five 500s in a row give up with a clear error after bounded retries; nothing was applied."""
    make_sink().publish(workbook())
    before = fake.snapshot()
    fake.fail("batchUpdate", *[Fault(500)] * 10)
    with pytest.raises(PublishError) as info:
        make_sink().publish([mrr_table(months=6), customers_table(extra="?"), empty_table()])
    message = str(info.value)
    assert "kept failing while writing the tabs (HTTP 500" in message
    assert "gave up after 5 attempts" in message and "a rerun finishes the job" in message
    assert fake.snapshot() == before
    assert len(clock.sleeps) == 4 and sum(clock.sleeps) < 120


def test_ambiguous_500_that_landed_is_not_applied_twice(fake, make_sink):
    """A 500 after the batch was applied leads to a re-read; fingerprints show it landed, no second addSheet."""
    fake.fail("batchUpdate", Fault(500, apply=True))
    result = make_sink().publish(workbook())
    assert [c.kind for c in fake.calls] == ["token", "get", "batchUpdate", "get"]
    assert fake.titles().count("MRR") == 1
    assert set(result.written) == {"Dashboard", "MRR", "Customers", "Issues"}


def test_timeout_on_the_write_re_reads_and_re_plans(fake, make_sink):
    """A read timeout on batchUpdate (maybe applied, maybe not) is followed by a re-read and a fresh plan."""
    fake.fail("batchUpdate", Fault(raises=requests.ReadTimeout("read timed out")))
    make_sink().publish(workbook())
    assert [c.kind for c in fake.calls] == ["token", "get", "batchUpdate", "get", "batchUpdate"]
    assert "addSheet" in json.dumps(fake.bodies()[-1])
    assert fake.titles().count("Customers") == 1


def test_connection_error_on_the_read_is_retried(fake, make_sink):
    """A dropped connection is retried like a 5xx."""
    fake.fail("get", Fault(raises=requests.ConnectionError("connection reset")))
    make_sink().publish(workbook())
    assert fake.count("get") == 2 and fake.count("batchUpdate") == 1


def test_retry_after_past_the_deadline_gives_up_at_once(fake, make_sink, clock):
    """A Retry-After longer than the retry deadline fails now instead of sleeping for an hour."""
    fake.fail("get", Fault(429, headers={"Retry-After": "3600"}))
    with pytest.raises(PublishError, match="the server asked to wait 3600s"):
        make_sink(policy=RetryPolicy(max_retries=5, deadline_seconds=120)).publish(workbook())
    assert clock.sleeps == []


def test_bad_request_is_not_retried(fake, make_sink, clock):
    """A 400 is a bug or a bad sheet, not bad luck: no retry, Google's message shown."""
    fake.fail("batchUpdate", Fault(400, message="Invalid requests[0].addSheet: nope"))
    with pytest.raises(
        PublishError, match=r"HTTP 400 \(Invalid requests\[0\].addSheet: nope\); nothing was written"
    ):
        make_sink().publish(workbook())
    assert clock.sleeps == []


# ---------------------------------------------------------------- access


def test_403_says_to_share_with_the_service_account(fake, make_sink, service_key):
    """A spreadsheet not shared with the service account: the message names the email to share with."""
    fake.access = None
    with pytest.raises(PublishError) as info:
        make_sink().publish(workbook())
    assert f"share the spreadsheet with {service_key['client_email']} as Editor" in str(info.value)
    assert fake.count("get") == 1  # not retried


def test_403_on_write_when_shared_as_viewer(fake, make_sink, service_key):
    """Shared read-only: the read works, the write is refused, and the message asks for Editor."""
    fake.access = "reader"
    with pytest.raises(
        PublishError, match=f"share the spreadsheet with {service_key['client_email']} as Editor"
    ):
        make_sink().publish(workbook())


def test_403_when_the_api_is_disabled(fake, make_sink):
    """A project without the Sheets API enabled gets told to enable it, not to share the sheet."""
    fake.fail(
        "get",
        Fault(403, message="Google Sheets API has not been used in project 42 before or it is disabled."),
    )
    with pytest.raises(PublishError, match="Google Sheets API is not enabled"):
        make_sink().publish(workbook())


def test_404_says_to_check_the_id(fake, make_sink):
    """A wrong spreadsheet id: 'no spreadsheet <id>: check the id'."""
    fake.exists = False
    with pytest.raises(PublishError, match=f"no spreadsheet {fake.spreadsheet_id}: check the id"):
        make_sink().publish(workbook())


def test_revoked_key_is_a_config_error_without_the_key(fake, make_sink, service_key):
    """Google refusing the key's signed token is reported with the account email, never the key."""
    fake.fail(
        "token",
        Fault(
            400, body=json.dumps({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        ),
    )
    with pytest.raises(ConfigError) as info:
        make_sink().publish(workbook())
    message = str(info.value)
    assert service_key["client_email"] in message and "invalid_grant" in message
    assert "PRIVATE KEY" not in message


@pytest.mark.parametrize("status", [500, 503, 429])
def test_token_endpoint_outage_is_named_and_its_retries_are_ours(fake, make_sink, clock, status):
    """A sign-in endpoint that keeps failing: one token request per attempt of our bounded budget (google-auth's own
    retries do not multiply it), waits on our clock, and a message that names Google's sign-in endpoint and the status."""
    fake.fail("token", *[Fault(status, body=json.dumps({"error": "internal_failure"}))] * 30)
    with pytest.raises(PublishError) as info:
        make_sink(policy=RetryPolicy(max_retries=4, deadline_seconds=120)).publish(workbook())
    message = str(info.value)
    assert fake.count("token") == 5 and fake.count("get") == 0
    assert "sign-in" in message and f"HTTP {status}" in message and "RefreshError" not in message
    assert len(clock.sleeps) == 4


# ---------------------------------------------------------------- credentials and settings


def _secrets(**env: str) -> Secrets:
    return Secrets(env)


def _body(service_key) -> str:
    return service_key["private_key"].splitlines()[2]


def test_key_from_a_file(tmp_path, service_key):
    """GOOGLE_SERVICE_ACCOUNT_FILE points at the key file as downloaded."""
    path = tmp_path / "key.json"
    path.write_text(json.dumps(service_key))
    info, source = load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_FILE=str(path)))
    assert info["client_email"] == service_key["client_email"] and str(path) in source


def test_key_from_json_or_base64_in_the_environment(service_key):
    """GOOGLE_SERVICE_ACCOUNT_JSON holds the key's JSON or base64 of it (standard or URL-safe)."""
    text = json.dumps(service_key)
    for value in (
        text,
        base64.b64encode(text.encode()).decode(),
        base64.urlsafe_b64encode(text.encode()).decode(),
    ):
        info, _ = load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_JSON=value))
        assert info == service_key


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"client_email": None}, "field 'client_email' is missing"),
        ({"type": "authorized_user"}, "field 'type' is 'authorized_user', expected 'service_account'"),
        ({"private_key": "not a key"}, "field 'private_key' is not a PEM private key"),
        ({"token_uri": "http://x"}, "field 'token_uri' is not an https URL"),
    ],
)
def test_malformed_key_names_the_field(service_key, change, expected):
    """A malformed key fails with a ConfigError naming the wrong field."""
    key = {k: v for k, v in {**service_key, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match=expected) as info:
        load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_JSON=json.dumps(key)))
    assert _body(service_key) not in str(info.value)


def test_an_oauth_user_file_is_named_as_such():
    """A real authorized_user file (gcloud's application default credentials) has no client_email or private_key:
    its type is named first, not "field 'client_email' is missing", which points at a damaged download (a
    reviewer's repro, with `kpi-sync check`)."""
    user = {"client_id": "123.apps.googleusercontent.com", "client_secret": "x", "refresh_token": "1//x",
            "type": "authorized_user"}
    with pytest.raises(ConfigError, match="field 'type' is 'authorized_user', expected 'service_account'"):
        load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_JSON=json.dumps(user)))


@pytest.mark.parametrize(("key", "said"), [
    ({"installed": {"client_id": "x.apps.googleusercontent.com", "client_secret": "GOCSPX-secret",
                    "redirect_uris": ["http://localhost"]}}, "this is an OAuth client ID file"),
    ({"web": {"client_id": "x.apps.googleusercontent.com", "client_secret": "GOCSPX-secret"}},
     "this is an OAuth client ID file"),
    ({"client_id": "x", "client_secret": "GOCSPX-secret", "refresh_token": "1//secret"},
     "this holds an OAuth user's credentials"),
    ({"type": 7, "client_email": "a@b"}, "field 'type' is not text"),
    ({"type": ["service_account"]}, "field 'type' is not text"),
    ({"type": "external_account", "audience": "x"}, "field 'type' is 'external_account', expected 'service_account' "
                                                    r"\(not a service account key"),
    ({"type": "x" * 500}, "field 'type' is not a type's name"),
    ({"type": "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"}, "field 'type' is not a type's name"),
])
def test_other_google_files_are_named_and_no_secret_is_shown(key: dict, said: str) -> None:
    """The files a user may take for a service account key (a review's list: the console's OAuth client ID file,
    installed or web; gcloud's user credentials without a type; a type that is no text; another type) are named as
    what they are, pointing at step 4, never as a damaged download, and no secret of theirs is printed."""
    with pytest.raises(ConfigError, match=said) as info:
        load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_JSON=json.dumps(key)))
    assert "secret" not in str(info.value).replace("a client secret", "") and "xxx" not in str(info.value)


def test_a_service_account_key_beside_an_oauth_client_is_still_a_key(service_key):
    """A real service account key that also holds an "installed" object is read as the key it is."""
    info, _ = load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_JSON=json.dumps({**service_key,
                                                                                     "installed": {"x": 1}})))
    assert info["client_email"] == service_key["client_email"]


def test_unreadable_private_key_is_named_but_never_shown(service_key):
    """A PEM block that is not a key fails on private_key without echoing any of it."""
    pem = service_key["private_key"]
    broken = {**service_key, "private_key": pem.replace(_body(service_key), "A" * 64)}
    with pytest.raises(ConfigError, match="field 'private_key' could not be read") as info:
        GSheetSink("1FakeSheetId_abcdef", broken)
    assert "AAAA" not in str(info.value) and _body(service_key) not in str(info.value)


def test_not_json_nor_base64_is_refused_without_echo(service_key):
    """Garbage in GOOGLE_SERVICE_ACCOUNT_JSON is refused without printing it."""
    with pytest.raises(ConfigError, match="neither a service account key's JSON nor base64") as info:
        load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_JSON="secret-ish value!"))
    assert "secret-ish" not in str(info.value)
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_JSON='{"type": '))


def test_missing_key_file_and_missing_credentials(tmp_path):
    """A key path that does not exist, or no credentials at all, say what to set."""
    with pytest.raises(ConfigError, match="no such file"):
        load_service_account(_secrets(GOOGLE_SERVICE_ACCOUNT_FILE=str(tmp_path / "nope.json")))
    with pytest.raises(
        ConfigError, match="set GOOGLE_SERVICE_ACCOUNT_FILE .* or GOOGLE_SERVICE_ACCOUNT_JSON"
    ):
        load_service_account(_secrets())


def test_spreadsheet_id_or_url():
    """gsheet: takes the id or the spreadsheet's URL; something else is refused."""
    sid = "1AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-ab"
    assert spreadsheet_id_from(sid) == sid
    assert spreadsheet_id_from(f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0") == sid
    with pytest.raises(ConfigError, match="does not look like one"):
        spreadsheet_id_from("my sheet")


def test_open_sink_builds_the_gsheet_sink_from_settings(tmp_path, service_key):
    """open_sink('gsheet:ID') reads [publish] and the key from the environment."""
    config = tmp_path / "kpi.toml"
    config.write_text('[publish]\nmax_rows_per_tab = 100\ntimeout_seconds = 20\ndashboard_tab = "Charts"\n')
    env = {"GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(service_key)}
    sink = open_sink("gsheet:1FakeSheetId_abcdef", load_settings(config, env))
    assert isinstance(sink, GSheetSink)
    assert sink.max_rows_per_tab == 100 and sink.dashboard_tab == "Charts"
    assert sink.service_account_email == service_key["client_email"]
    assert sink.destination.endswith("/1FakeSheetId_abcdef")
    config.write_text("[publish]\nmax_rows_per_tab = -1\n")
    with pytest.raises(ConfigError, match="max_rows_per_tab"):
        open_sink("gsheet:1FakeSheetId_abcdef", load_settings(config, env))
