"""The Google Sheets sink: one metadata read, then one atomic batchUpdate per run (a change too large for one
request is staged in hidden tabs first and switched by one final batchUpdate: see gsheet_plan).

gspread 6 and google-auth carry the traffic (a service account, scope `spreadsheets` only, a timeout
on every request); the plan itself is made in `gsheet_plan` and is pure. Retries are ours
(`sync.retry`): 408, 429, 5xx and connection errors, bounded, jittered, Retry-After honoured.
After an ambiguous failure of a write (5xx, timeout, connection lost) the spreadsheet is read again
and the plan is made again, since `addSheet` must not run twice; fingerprints tell what landed.

See docs/google-sheets.md for the Google setup and /work/shared/docs/sheets.md for the contract.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gspread
import requests
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import AuthorizedSession
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2.service_account import Credentials
from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

from kpi.tables import Table
from sync.errors import ConfigError, LimitError, PublishError, SyncError
from sync.logs import clip, current_redactor, decode_base64_text
from sync.retry import Backoff, GaveUp, Retry, RetryPolicy, parse_retry_after
from sync.sinks import PublishResult, gsheet_plan
from sync.sinks.gsheet_plan import (
    MAX_REQUEST_BYTES,
    METADATA_FIELDS,
    CellLimitError,
    Plan,
    Rendered,
    Workbook,
    dashboard_cells,
    fit_rows,
    grid_cells,
    make_plan,
    render_table,
)
from sync.sinks.gsheet_rows import encode

if TYPE_CHECKING:
    from sync.settings import Settings

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
OVER_LIMIT = ("cap", "fail")
SHEET_URL = "https://docs.google.com/spreadsheets/d/{}"
_ID = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_URL_ID = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_REQUIRED = ("type", "client_email", "private_key", "token_uri")
_SETUP = "see docs/google-sheets.md"


# ---------------------------------------------------------------- credentials


def _parse_key_text(text: str, source: str) -> Mapping[str, Any]:
    """A key's JSON, or base64 of it (for hosts that only have environment variables)."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        decoded = decode_base64_text(stripped)  # the redactor decodes keys the same way (sync.logs)
        if decoded is None:
            raise ConfigError(
                f"{source} is neither a service account key's JSON nor base64 of it ({_SETUP})"
            )
        stripped = decoded.strip()
    try:
        info = json.loads(stripped, strict=False)  # strict=False: keys pasted with raw newlines still load
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}); use the key file exactly as downloaded"
        ) from None
    if not isinstance(info, dict):
        raise ConfigError(f"{source}: expected a JSON object (the service account key file)")
    return info


def check_key(info: Mapping[str, Any], source: str) -> None:
    """Name the first wrong field of a service account key. Never shows the private key. A key of another type (an
    OAuth user's authorized_user file) is named as such first: it has no client_email or
    private_key, and "field 'client_email' is missing" would send its owner looking for a damaged download."""
    kind = info.get("type")
    if kind != "service_account" and (isinstance(info.get("installed"), dict) or isinstance(info.get("web"), dict)):
        raise ConfigError(f"{source}: this is an OAuth client ID file (\"OAuth 2.0 Client IDs\" in the console), not "
                          "a service account key: create a key for a service account (docs/google-sheets.md, step 4)")
    if "type" in info and kind is not None and not isinstance(kind, str):
        raise ConfigError(f"{source}: field 'type' is not text (use the key file as downloaded)")
    if isinstance(kind, str) and kind.strip() and kind != "service_account":
        # a type's name is shown (authorized_user, external_account...); other text (a secret pasted there) is not
        shown = repr(kind) if re.fullmatch(r"[a-z_]{1,40}", kind) else "not a type's name"
        what = ("an OAuth user's credentials, not a service account key" if kind == "authorized_user"
                else "not a service account key")
        raise ConfigError(
            f"{source}: field 'type' is {shown}, expected 'service_account' ({what}: create a key for a service "
            f"account, docs/google-sheets.md step 4)"
        )
    if not kind and "private_key" not in info and ("client_secret" in info or "refresh_token" in info):
        raise ConfigError(f"{source}: this holds an OAuth user's credentials (a client secret or refresh token, no "
                          "private key), not a service account key: create a key for a service account "
                          "(docs/google-sheets.md, step 4)")
    for name in _REQUIRED:
        if not isinstance(info.get(name), str) or not info[name].strip():
            raise ConfigError(
                f"{source}: field {name!r} is missing or empty (use the key file as downloaded)"
            )
    if "@" not in info["client_email"]:
        raise ConfigError(f"{source}: field 'client_email' is not an email address")
    if (
        "-----BEGIN PRIVATE KEY-----" not in info["private_key"]
        or "-----END PRIVATE KEY-----" not in info["private_key"]
    ):
        raise ConfigError(
            f"{source}: field 'private_key' is not a PEM private key (-----BEGIN PRIVATE KEY----- ...)"
        )
    if not info["token_uri"].startswith("https://"):
        raise ConfigError(f"{source}: field 'token_uri' is not an https URL")


def load_service_account(secrets: Any) -> tuple[Mapping[str, Any], str]:
    """The service account key from GOOGLE_SERVICE_ACCOUNT_FILE (a path, preferred) or
    GOOGLE_SERVICE_ACCOUNT_JSON (JSON or base64 of it), checked; and where it came from."""
    path = secrets.get("GOOGLE_SERVICE_ACCOUNT_FILE")
    if path:
        source = f"GOOGLE_SERVICE_ACCOUNT_FILE ({path})"
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{source}: cannot read it ({getattr(exc, 'strerror', None) or exc.__class__.__name__})"
            ) from None
    else:
        text = secrets.get("GOOGLE_SERVICE_ACCOUNT_JSON") or ""
        source = "GOOGLE_SERVICE_ACCOUNT_JSON"
        if not text:
            raise ConfigError(
                "Google Sheets needs a service account key: set GOOGLE_SERVICE_ACCOUNT_FILE (a path) or "
                f"GOOGLE_SERVICE_ACCOUNT_JSON (the key's JSON, or base64 of it); {_SETUP}"
            )
    info = _parse_key_text(text, source)
    check_key(info, source)
    return info, source


def spreadsheet_id_from(target: str) -> str:
    """A spreadsheet id from `gsheet:ID` or a pasted spreadsheet URL."""
    text = target.strip()
    found = _URL_ID.search(text)
    if found:
        text = found.group(1)
    if not _ID.match(text):
        raise ConfigError(
            f"spreadsheet id {target!r} does not look like one: copy the part of the spreadsheet's URL "
            f"between /d/ and /edit"
        )
    return text


# ---------------------------------------------------------------- sign-in


class TokenEndpointDown(auth_exceptions.TransportError):
    """Google's sign-in (token) endpoint answered a status worth retrying (408, 429, 5xx)."""

    def __init__(self, status: int, url: str):
        super().__init__(f"Google's sign-in endpoint ({url}) answered HTTP {status}")
        self.status = status


class _TokenRequest(AuthRequest):
    """google-auth's transport for its token requests, without google-auth's own retries.

    google-auth retries a failing token endpoint 3 times per refresh, sleeping on the real clock, and our
    retries would multiply that (6 attempts x 3 = 18 requests). Here a retryable answer is raised at once
    as TokenEndpointDown, so each token request is one attempt of the run's single retry budget.
    (Without an `auth_request`, AuthorizedSession would also mount a urllib3 adapter retrying connections 3 times.)
    """

    def __init__(self) -> None:
        super().__init__(requests.Session())
        self.calls = 0

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> Any:
        self.calls += 1
        response = super().__call__(url, method=method, body=body, headers=headers, timeout=timeout, **kwargs)
        if response.status in (408, 429) or response.status >= 500:
            raise TokenEndpointDown(response.status, url)
        return response


# ---------------------------------------------------------------- failures


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, APIError):
        return exc.response.status_code
    return None


def classify(exc: Exception) -> Retry | None:
    """Which failures are worth another try: 408, 429, 5xx, connection errors and timeouts."""
    status = _status(exc)
    if status is not None:
        if status in (408, 429) or status >= 500:
            return Retry(parse_retry_after(exc.response.headers.get("Retry-After")))  # type: ignore[attr-defined]
        return None
    if isinstance(
        exc, requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError
    ):
        return Retry()
    if isinstance(exc, auth_exceptions.TransportError):
        return Retry()
    if isinstance(exc, auth_exceptions.RefreshError) and getattr(exc, "retryable", False):
        return Retry()
    return None


def _describe(exc: BaseException) -> str:
    status = _status(exc)
    if status is not None:
        message = current_redactor()(str(getattr(exc, "error", {}).get("message", ""))).splitlines()[0:1]
        return f"HTTP {status}" + (f" ({clip(message[0], 200)})" if message and message[0] else "")
    if isinstance(exc, TokenEndpointDown):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return "no answer within the timeout"
    if isinstance(exc, requests.ConnectionError | auth_exceptions.TransportError):
        return "connection failed"
    return exc.__class__.__name__


# ---------------------------------------------------------------- the sink


class GSheetSink:
    """Publishes tables to one spreadsheet. Construct with `open_gsheet_sink` from settings."""

    def __init__(
        self,
        spreadsheet_id: str,
        key: Mapping[str, Any],
        *,
        currency: str = "EUR",
        timezone: str = "UTC",
        max_rows_per_tab: int = 0,
        over_limit: str = "cap",
        dashboard_tab: str = "Dashboard",
        timeout_seconds: float = 60.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        key_source: str = "the service account key",
    ):
        check_key(key, key_source)
        self.spreadsheet_id = spreadsheet_id
        self.destination = SHEET_URL.format(spreadsheet_id)
        self.service_account_email = str(key["client_email"])
        self.key_source = key_source
        self.currency = currency
        self.timezone = timezone
        self.max_rows_per_tab = max_rows_per_tab
        if over_limit not in OVER_LIMIT:
            raise ConfigError(f"publish.over_limit = {over_limit!r}: expected \"cap\" or \"fail\"")
        self.over_limit = over_limit
        self.dashboard_tab = dashboard_tab
        self.policy = policy or RetryPolicy()
        self.max_request_bytes = max_request_bytes
        self._sleep, self._clock, self._rand = sleep, clock, rand
        try:
            credentials = Credentials.from_service_account_info(dict(key), scopes=list(SCOPES))
            self._token_request = _TokenRequest()
            session = AuthorizedSession(credentials, auth_request=self._token_request)
            self._client = gspread.Client(auth=credentials, session=session)
        except (ValueError, TypeError):
            # google-auth could not load the private key; its message may quote the key, so say only which field.
            raise ConfigError(
                f"{key_source}: field 'private_key' could not be read as an RSA private key "
                f"(use the key file exactly as downloaded)"
            ) from None
        # (connect, read) seconds, on every request, the token request included.
        self._client.set_timeout((min(10.0, timeout_seconds), timeout_seconds))
        self.requests = 0  # Sheets API requests made, retries included (not the token request)
        self._staged = False

    # -- HTTP, one request each

    def _read_once(self) -> Workbook:
        self.requests += 1
        meta = self._client.http_client.fetch_sheet_metadata(
            self.spreadsheet_id, params={"fields": METADATA_FIELDS, "includeGridData": "false"}
        )
        return Workbook.from_metadata(meta)

    def _write_once(self, body: Mapping[str, Any]) -> None:
        """One batchUpdate. The body is sent as `gsheet_rows.encode` writes it: compact UTF-8 JSON, the rows'
        text spliced in as rendered (gspread's batch_update would have requests serialise it again)."""
        self.requests += 1
        self._client.http_client.request(
            "post", SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id, data=encode(body),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    # -- errors a person can act on

    def _error(self, exc: BaseException, doing: str, written: Iterable[str] = ()) -> SyncError:
        if isinstance(exc, SyncError):
            return exc
        if isinstance(exc, GaveUp):
            done = sorted(written)
            state = (
                f"tabs written before the failure: {', '.join(done)}; a rerun finishes the rest"
                if done
                else "every tab shows either its old or its new content; a rerun finishes the job"
            )
            return PublishError(
                f"Google Sheets kept failing while {doing} ({_describe(exc.last)}); gave up after {exc.attempts} "
                f"attempts in {exc.elapsed:.0f}s ({exc.reason}). {state}"
            )
        status = _status(exc)
        if status == 403:
            message = str(getattr(exc, "error", {}).get("message", ""))
            if (
                "has not been used" in message
                or "disabled" in message
                or "SERVICE_DISABLED" in json.dumps(getattr(exc, "error", {}))
            ):
                return PublishError(
                    "the Google Sheets API is not enabled in the service account's Google Cloud project: "
                    f"enable it (APIs & Services > Library > Google Sheets API), then rerun; {_SETUP}"
                )
            return PublishError(
                f"Google Sheets refused access to spreadsheet {self.spreadsheet_id} while {doing}: share the "
                f"spreadsheet with {self.service_account_email} as Editor"
            )
        if status == 404:
            return PublishError(
                f"no spreadsheet {self.spreadsheet_id}: check the id (KPI_SYNC_SPREADSHEET_ID, [publish] "
                f"spreadsheet_id or gsheet:ID)"
            )
        if status == 401:
            return PublishError(
                f"Google Sheets rejected the service account's token (HTTP 401) while {doing}; rerun"
            )
        if status is not None:
            done = sorted(written)
            landed = (
                f"; tabs written before the failure: {', '.join(done)}" if done
                else "; no visible tab changed (the next run removes the hidden staging tabs)" if self._staged
                else "; nothing was written"
            )
            return PublishError(f"Google Sheets refused the request while {doing}: {_describe(exc)}{landed}")
        if isinstance(exc, auth_exceptions.RefreshError):
            reason = clip(current_redactor()(str(exc.args[0] if exc.args else exc)), 200)
            return ConfigError(
                f"Google refused the service account key of {self.service_account_email} ({reason}): "
                f"the key may be deleted or revoked; create a new key ({_SETUP})"
            )
        if isinstance(exc, gspread.exceptions.GSpreadException | requests.RequestException):
            return PublishError(f"Google Sheets failed while {doing}: {_describe(exc)}")
        raise exc

    def _backoff(self) -> Backoff:
        return Backoff(self.policy, sleep=self._sleep, clock=self._clock, random=self._rand)

    def read(self, backoff: Backoff | None = None) -> Workbook:
        """The spreadsheet's tabs and our metadata: one request (more only when retried)."""
        backoff = backoff or self._backoff()
        while True:
            try:
                return self._read_once()
            except Exception as exc:
                retry = classify(exc)
                if retry is None:
                    raise self._error(exc, "reading the spreadsheet") from None
                try:
                    backoff.wait(exc, retry)
                except GaveUp as gave_up:
                    raise self._error(gave_up, "reading the spreadsheet") from None

    # -- planning

    def render(self, tables: Sequence[Table], cap: int = 0, why: str = "") -> list[Rendered]:
        """Every table as cells, long ones capped at `cap` rows (default: [publish] max_rows_per_tab); raises
        LimitError before anything is sent when a tab cannot fit."""
        return [
            render_table(t, timezone=self.timezone, currency=self.currency, max_rows=cap or self.max_rows_per_tab,
                         why=why)
            for t in tables
        ]

    def _plan(self, workbook: Workbook, renders: Sequence[Rendered], force: bool | Iterable[str]) -> Plan:
        return make_plan(
            workbook,
            renders,
            force=force,
            dashboard=self.dashboard_tab,
            max_request_bytes=self.max_request_bytes,
        )

    def _fitted(self, tables: Sequence[Table], renders: list[Rendered], workbook: Workbook,
                force: bool | Iterable[str]) -> tuple[list[Rendered], Plan]:
        """The renders and the plan, within Google's 10 million cells: when the tabs would pass it and
        [publish] over_limit = "cap", the longest tabs are capped (the rest summarised in one row) at the most rows
        that fit, and a warning says so before anything is sent; with "fail" the LimitError stands.
        `renders`: the tables rendered as configured (before the read, so a tab no sheet holds fails first)."""
        for _attempt in range(3):  # uncapped, capped for one request, capped for a staged publish
            try:
                return renders, self._plan(workbook, renders, force)
            except CellLimitError as exc:
                if self.over_limit != "cap":
                    raise
                shapes = [(t.name, len(t.frame), len(t.columns)) for t in tables]
                charts = sum(len(t.tab.charts) for t in tables) if self.dashboard_tab else 0
                cap = fit_rows(shapes, workbook, staged=exc.staged, extra_cells=dashboard_cells(charts),
                               max_rows=self.max_rows_per_tab)
                if cap is None:
                    raise LimitError(f"{exc}; even one row per tab does not fit") from None
                capped = [name for name, rows, _ in shapes if rows > cap]
                why = (f"the spreadsheet would pass Google Sheets' limit of {gsheet_plan.MAX_CELLS:,} cells; "
                       f"[publish] over_limit = \"cap\"")
                log.warning(
                    "%s: tabs %s capped at %s rows each (the last one sums the rest: %s cells in all); "
                    "set [publish] over_limit = \"fail\" to fail instead",
                    clip(str(exc), 300), ", ".join(repr(n) for n in capped), f"{cap:,}",
                    f"{sum(grid_cells(r, c, cap) for _, r, c in shapes):,}",
                )
                renders = self.render(tables, cap=cap, why=why)
        raise LimitError("the tabs do not fit in Google Sheets' limit of cells even capped")

    def plan(self, tables: Sequence[Table], force: bool = False, workbook: Workbook | None = None) -> Plan:
        """What `publish` would send, without writing: one metadata read (none if `workbook` is given)."""
        renders = self.render(tables)
        return self._fitted(tables, renders, workbook or self.read(), force)[1]

    # -- publishing

    def publish(self, tables: Sequence[Table], *, force: bool = False) -> PublishResult:
        """Make the spreadsheet show `tables`: 1 read, then 0 writes (nothing changed), 1 write, or, when the body
        passes the payload limit, staging writes to hidden tabs and one switch. Tabs we don't own are untouched."""
        self.requests = 0
        self._staged = False  # a staging batch landed: hidden tabs only, nothing a reader sees
        backoff = self._backoff()
        renders = self.render(tables)
        renders, plan = self._fitted(tables, renders, self.read(backoff), force)
        changed = plan.names("add") + plan.names("update")
        result = PublishResult(
            destination=self.destination,
            written=changed,
            unchanged=plan.names("unchanged"),
            notes=list(plan.notes),
        )
        pending = list(plan.batches)
        written: set[str] = set()
        stale = False
        while pending:
            try:
                if stale:
                    # The last write may or may not have landed: read again, plan again.
                    remaining: bool | set[str] = {n for n in changed if n not in written} if force else False
                    plan = self._plan(self._read_once(), renders, remaining)
                    pending = list(plan.batches)
                    stale = False
                    continue
                batch = pending[0]
                self._write_once(batch.body)
                written.update(batch.tabs)
                self._staged = self._staged or batch.staging
                pending.pop(0)
            except Exception as exc:
                if isinstance(exc, SyncError):
                    raise
                retry = classify(exc)
                doing = "writing the tabs" if not stale else "reading the spreadsheet again"
                if retry is None:
                    raise self._error(exc, doing, written) from None
                if _status(exc) != 429:  # a 429 was refused whole; anything else may have landed
                    stale = True
                try:
                    backoff.wait(exc, retry)
                except GaveUp as gave_up:
                    raise self._error(gave_up, doing, written) from None
        result.requests = self.requests
        return result


def open_gsheet_sink(target: str, settings: Settings, **overrides: Any) -> GSheetSink:
    """The sink for `gsheet:TARGET` (an id or a spreadsheet URL), configured from [publish] and the env."""
    publish = settings.section("publish")
    if publish.max_rows_per_tab < 0:
        raise ConfigError(
            f"publish.max_rows_per_tab = {publish.max_rows_per_tab}: expected 0 (no limit) or more"
        )
    if publish.timeout_seconds <= 0:
        raise ConfigError(f"publish.timeout_seconds = {publish.timeout_seconds}: expected a positive number")
    if publish.max_retries < 0 or publish.retry_deadline_seconds < 0:
        raise ConfigError("publish.max_retries and publish.retry_deadline_seconds must not be negative")
    spreadsheet_id = spreadsheet_id_from(target)
    key, source = load_service_account(settings.secrets)
    options: dict[str, Any] = {
        "currency": settings.params.currency,
        "timezone": settings.params.timezone,
        "max_rows_per_tab": publish.max_rows_per_tab,
        "over_limit": publish.over_limit,
        "dashboard_tab": publish.dashboard_tab,
        "timeout_seconds": publish.timeout_seconds,
        "policy": RetryPolicy(
            max_retries=publish.max_retries, deadline_seconds=publish.retry_deadline_seconds
        ),
        "key_source": source,
    }
    options.update(overrides)
    return GSheetSink(spreadsheet_id, key, **options)
