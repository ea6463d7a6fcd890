"""The Lucca HR API (legacy v3) -> HRData for the availability tabs.

What the client does, and why (../shared/docs/lucca-api.md):
- `Authorization: lucca application=<key>` and `Accept: application/json` on every request; the key
  is never logged nor put in an error message.
- `fields` on every call (without it v3 returns only id, name, url); `paging=offset,limit` with
  limit 1000, looping until a short page; owner ids in comma lists, in batches.
- A timeout on every request; bounded retries on 408, 429, 5xx and connection errors, honouring
  `Retry-After` (sync/retry.py), with a fresh budget for each request.
- 401, 403, 404 become `SourceAPIError`s saying what to fix; a 403 on `/api/v3/userdates` is not an
  error: working days then come from the calendar (weekdays minus public holidays).
- Tolerant reading: `isAm` or `isAM`, dates with or without `T00:00:00`, unknown keys ignored,
  error bodies that are not JSON. A body that is not what the API documents stops the run.

Requests per run, for N users in the directory and A of them active in the month:
ceil((N + 1) / 1000) for users + ceil(A / 100) for leaves (more if a batch has over 1000 half-days of
leave) + ceil(A / 10) for userdates (1 when the key may not read them).
"""

from __future__ import annotations

import datetime as dt
import logging
import random as _random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pandas as pd
import requests

from kpi.availability import (
    EMPLOYEE_COLUMNS,
    HOLIDAY_COLUMNS,
    LEAVE_COLUMNS,
    USERDATE_COLUMNS,
    HRData,
    active_employees,
    empty_frame,
    month_days,
)
from sync.errors import ConfigError, SourceAPIError
from sync.logs import clip, current_redactor
from sync.retry import Backoff, GaveUp, Retry, RetryPolicy, call_with_retry, parse_retry_after

log = logging.getLogger(__name__)

PAGE_SIZE = 1000  # the v3 maximum
LEAVE_OWNERS_PER_CALL = 100  # keeps the URL short; paging covers busy months
USERDATE_OWNERS_PER_CALL = 10  # one item per owner and day: 10 x 31 < 1000, one page per call

USER_FIELDS = (
    "id,name,firstName,lastName,dtContractStart,dtContractEnd,department[id,name],legalEntity[id,name]"
)
LEAVE_FIELDS = "id,date,isAm,isActive,leaveAccount[id,name],leavePeriod[id,ownerId,isConfirmed]"
USERDATE_FIELDS = (
    "ownerId,date,dtt,isHoliday,isWeeklyRest,am[dtt,isHoliday,isWeeklyRest],pm[dtt,isHoliday,isWeeklyRest]"
)

# What a 403 on each endpoint means, for the message.
RIGHTS = {
    "/api/v3/users": "the user directory (Directory: view users, including former employees)",
    "/api/v3/leaves": "absences (Timmi Absences: view leaves of the population)",
    "/api/v3/userdates": "work schedules (userdates)",
}


# --- retries (sync/retry.py does the counting, waiting and giving up) ------------------------------

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RetryableStatus(Exception):
    """A response worth retrying (408, 429, 5xx), raised so sync.retry can retry it."""

    def __init__(self, response: requests.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def classify(exc: Exception, now: float | None = None) -> Retry | None:
    """Retry 408/429/5xx (honouring Retry-After) and connection errors or timeouts; nothing else."""
    if isinstance(exc, RetryableStatus):
        return Retry(parse_retry_after(exc.response.headers.get("Retry-After"), now))
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return Retry()
    return None


# --- the client -------------------------------------------------------------------------------------


class LuccaForbidden(SourceAPIError):
    """403: the key's role may not read this resource."""


class LuccaClient:
    """A small client for the v3 endpoints the availability tabs need. `requests` counts calls made."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] | None = None,
    ):
        base = base_url.strip().rstrip("/")
        if not base.startswith(("https://", "http://")) or len(base.split("/", 3)) > 3:
            raise ConfigError(
                "LUCCA_BASE_URL must be the tenant's address, e.g. https://<account>.ilucca.net (no path)"
            )
        self.base_url = base
        self._key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._random = random or _random.random
        self.requests = 0

    def __repr__(self) -> str:
        return f"LuccaClient({self.base_url!r})"

    def _redact(self, text: str) -> str:
        """The key masked, and every credential shape the log redactor knows. Always before any cut."""
        return current_redactor()(text.replace(self._key, "***") if self._key else text)

    def _send(self, path: str, params: dict[str, str]) -> requests.Response:
        self.requests += 1
        return self.session.get(
            self.base_url + path,
            params=params,
            headers={"Authorization": f"lucca application={self._key}", "Accept": "application/json"},
            timeout=self.timeout,
        )

    def _send_checked(self, path: str, params: dict[str, str]) -> requests.Response:
        response = self._send(path, params)
        if response.status_code in RETRY_STATUSES:
            raise RetryableStatus(response)
        return response

    def _backoff(self) -> Backoff:
        return Backoff(self.retry, sleep=self._sleep, clock=self._clock, random=self._random)

    @staticmethod
    def _describe(exc: BaseException) -> str:
        return str(exc) if isinstance(exc, RetryableStatus) else type(exc).__name__

    def get(self, path: str, params: dict[str, str]) -> Any:
        """GET a v3 path; returns the decoded JSON body or raises SourceAPIError."""
        try:
            response = call_with_retry(lambda: self._send_checked(path, params), classify, self._backoff())
        except requests.RequestException as exc:  # not retryable: a malformed URL, too many redirects...
            raise SourceAPIError(
                f"Lucca API: GET {path} failed ({type(exc).__name__}): check LUCCA_BASE_URL"
            ) from None
        except GaveUp as exc:
            raise SourceAPIError(
                f"Lucca API: GET {path} still failing after {exc.attempts} attempts "
                f"({self._describe(exc.last)}; {exc.reason}): the API is overloaded or down, try again later"
            ) from None
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError:
                raise SourceAPIError(
                    f"Lucca API: GET {path} answered something that is not JSON "
                    f"({self._snippet(response) or 'empty body'}): check LUCCA_BASE_URL"
                ) from None
        detail = self._detail(response)
        suffix = f" (Lucca says: {detail})" if detail else ""
        if status == 401:
            raise SourceAPIError(
                f"Lucca API refused the API key (401 on GET {path}): check LUCCA_API_KEY{suffix}"
            )
        if status == 403:
            what = RIGHTS.get(path, path)
            raise LuccaForbidden(
                f"Lucca API: the API key's role may not read {what} (403 on GET {path}): "
                f"grant it these rights in Lucca{suffix}"
            )
        if status == 404:
            raise SourceAPIError(
                f"Lucca API: GET {path} not found (404): check LUCCA_BASE_URL ({self.base_url}); "
                "it should be https://<account>.ilucca.net or your tenant's address"
            )
        raise SourceAPIError(f"Lucca API: GET {path} failed with HTTP {status}{suffix}")

    def _snippet(self, response: requests.Response, size: int = 120) -> str:
        return clip(self._redact(" ".join((response.text or "").split())), size)

    def _detail(self, response: requests.Response) -> str:
        """The error message in a body: legacy {Message}, RFC 7807 {title, detail}, or the raw text."""
        try:
            body = response.json()
        except ValueError:
            return self._snippet(response)
        if isinstance(body, dict):
            error = body.get("error")
            for value in (
                body.get("Message"),
                body.get("message"),
                body.get("detail"),
                body.get("title"),
                error.get("message") if isinstance(error, dict) else error,
            ):
                if isinstance(value, str) and value.strip():
                    return clip(self._redact(" ".join(value.split())), 200)  # redact, then cut: never a key's half
        return self._snippet(response)

    def collection(self, path: str, params: dict[str, str], fields: str) -> list[dict[str, Any]]:
        """Every item of a v3 collection, page after page until a short page."""
        items: list[dict[str, Any]] = []
        offset = 0
        previous_first: object = None
        while True:
            page = _items(
                self.get(path, {**params, "fields": fields, "paging": f"{offset},{PAGE_SIZE}"}), path
            )
            first = page[0].get("id", page[0]) if page else None
            if page and offset and first == previous_first:
                raise SourceAPIError(f"Lucca API: GET {path} ignores paging (the same page came back twice)")
            items.extend(page)
            if len(page) < PAGE_SIZE:
                return items
            previous_first = first
            offset += PAGE_SIZE

    def users(self) -> list[dict[str, Any]]:
        """Every user, former employees included."""
        return self.collection("/api/v3/users", {"formerEmployees": "true"}, USER_FIELDS)

    def leaves(self, owner_ids: Sequence[str], first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        """Active leaves (one item per half-day) of these owners between two days, both included."""
        out: list[dict[str, Any]] = []
        for batch in _batches(owner_ids, LEAVE_OWNERS_PER_CALL):
            params = {
                "leavePeriod.ownerId": ",".join(batch),
                "date": f"between,{first:%Y-%m-%d},{last:%Y-%m-%d}",
                "isActive": "true",
            }
            out.extend(self.collection("/api/v3/leaves", params, LEAVE_FIELDS))
        return out

    def userdates(self, owner_ids: Sequence[str], first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        """The owners' schedules, one item per owner and day. Raises LuccaForbidden without the rights."""
        out: list[dict[str, Any]] = []
        for batch in _batches(owner_ids, USERDATE_OWNERS_PER_CALL):
            params = {"ownerId": ",".join(batch), "date": f"between,{first:%Y-%m-%d},{last:%Y-%m-%d}"}
            out.extend(self.collection("/api/v3/userdates", params, USERDATE_FIELDS))
        return out


def _batches(values: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _items(body: Any, path: str) -> list[dict[str, Any]]:
    """The items of a collection body: {"data": {"items": [...]}} (also {"data": [...]} or {"items": [...]})."""
    data = body.get("data", body) if isinstance(body, dict) else None
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        shape = (
            type(body).__name__
            if not isinstance(body, dict)
            else "keys " + ", ".join(sorted(map(str, body))[:5])
        )
        raise SourceAPIError(
            f"Lucca API: GET {path} answered an unexpected body ({shape}), expected data.items"
        )
    return items


# --- tolerant parsing -------------------------------------------------------------------------------


def _get(item: dict[str, Any], *names: str) -> Any:
    """The first of these keys present in the item, compared without case (isAm / isAM, ownerID)."""
    lowered = {str(k).casefold(): v for k, v in item.items()}
    for name in names:
        if name.casefold() in lowered:
            return lowered[name.casefold()]
    return None


def parse_day(value: Any, what: str) -> dt.date | None:
    """A day from "2025-07-07" or "2025-07-07T00:00:00" (time and zone ignored); None for null."""
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise SourceAPIError(f"Lucca API: {what}: {str(value)[:40]!r} is not a date") from None


def _name_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(_get(value, "name") or "")
    return "" if value is None else str(value)


def _require_id(item: dict[str, Any], what: str, *names: str) -> str:
    value = _get(item, *names)
    if value is None or isinstance(value, dict | list) or str(value).strip() == "":
        raise SourceAPIError(f"Lucca API: {what} without {names[0]}: {str(item)[:120]}")
    return str(value).strip()


def parse_users(items: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Users -> the employees frame of HRData (contract_end is the last day of the contract)."""
    rows = []
    for item in items:
        uid = _require_id(item, "a user", "id")
        first, last = _get(item, "firstName") or "", _get(item, "lastName") or ""
        name = f"{first} {last}".strip() or str(_get(item, "name", "displayName") or "") or uid
        rows.append(
            {
                "employee_id": uid,
                "name": name,
                "department": _name_of(_get(item, "department")),
                "legal_entity": _name_of(_get(item, "legalEntity")),
                "contract_start": parse_day(_get(item, "dtContractStart"), f"user {uid} dtContractStart"),
                "contract_end": parse_day(_get(item, "dtContractEnd"), f"user {uid} dtContractEnd"),
            }
        )
    if not rows:
        return empty_frame(EMPLOYEE_COLUMNS)
    frame = pd.DataFrame(rows, columns=list(EMPLOYEE_COLUMNS))
    for col in ("contract_start", "contract_end"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame.drop_duplicates("employee_id", keep="last").reset_index(drop=True)


def _half(item: dict[str, Any], what: str) -> str:
    is_am = _get(item, "isAm", "isAM")
    if isinstance(is_am, bool):
        return "AM" if is_am else "PM"
    if isinstance(is_am, str) and is_am.lower() in ("true", "false"):
        return "AM" if is_am.lower() == "true" else "PM"
    ident = str(_get(item, "id") or "")
    if ident.upper().endswith(("-AM", "-PM")):  # the webhook id form {period}-{YYYYMMDD}-{AM|PM}
        return ident[-2:].upper()
    raise SourceAPIError(f"Lucca API: {what} without isAm: {str(item)[:120]}")


def parse_leaves(items: Iterable[dict[str, Any]], first: dt.date, last: dt.date) -> pd.DataFrame:
    """Leaves -> the leaves frame of HRData: active ones in [first, last], one row per owner, day, half."""
    rows = []
    for item in items:
        ident = _get(item, "id")
        what = f"leave {ident}" if ident is not None else "a leave"
        if _get(item, "isActive") is False:
            continue
        period = _get(item, "leavePeriod")
        period = period if isinstance(period, dict) else {}
        owner = _get(period, "ownerId")
        if owner is None and isinstance(_get(period, "owner"), dict):
            owner = _get(_get(period, "owner"), "id")
        if owner is None:
            owner = _get(item, "ownerId")
        if owner is None or isinstance(owner, dict | list):
            raise SourceAPIError(f"Lucca API: {what} without leavePeriod.ownerId")
        day = parse_day(_get(item, "date"), f"{what} date")
        if day is None:
            raise SourceAPIError(f"Lucca API: {what} without a date")
        if not first <= day <= last:
            continue
        confirmed = _get(period, "isConfirmed")
        rows.append(
            {
                "employee_id": str(owner),
                "date": day,
                "half": _half(item, what),
                "account": _name_of(_get(item, "leaveAccount")),
                # the endpoint lists approved leaves; only an explicit false marks one as pending
                "confirmed": confirmed is not False,
            }
        )
    if not rows:
        return empty_frame(LEAVE_COLUMNS)
    frame = pd.DataFrame(rows, columns=list(LEAVE_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    # one leave per half-day: a duplicate is the same absence (confirmed if any copy is)
    return (
        frame.sort_values("confirmed", ascending=False, kind="stable")
        .drop_duplicates(["employee_id", "date", "half"])
        .sort_values(["employee_id", "date", "half"], kind="stable")
        .reset_index(drop=True)
    )


def _duration_seconds(value: Any) -> float | None:
    """ "HH:MM:SS", "D.HH:MM:SS" (.NET) or a number of hours -> seconds; None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) * 3600
    text = str(value).strip()
    days = 0
    if "." in text.split(":")[0]:
        head, _, text = text.partition(".")
        days = int(head) if head.isdigit() else 0
    parts = text.split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    while len(numbers) < 3:
        numbers.append(0.0)
    return days * 86400 + numbers[0] * 3600 + numbers[1] * 60 + numbers[2]


def _half_worked(day: dict[str, Any], half: Any) -> bool:
    """Whether a half-day is worked: theoretical time > 0 and neither a holiday nor a weekly rest."""
    source = half if isinstance(half, dict) else day
    off = bool(
        _get(source, "isHoliday")
        or _get(day, "isHoliday")
        or _get(source, "isWeeklyRest")
        or _get(day, "isWeeklyRest")
    )
    seconds = _duration_seconds(_get(source, "dtt"))
    if seconds is None:
        return not off
    return seconds > 0 and not off


def parse_userdates(items: Iterable[dict[str, Any]], first: dt.date, last: dt.date) -> pd.DataFrame:
    """Userdates -> the userdates frame of HRData: one row per owner, day and half, `working` or not."""
    rows = []
    for item in items:
        owner = _require_id(item, "a userdate", "ownerId", "ownerID")
        day = parse_day(_get(item, "date"), f"userdate of user {owner}")
        if day is None:
            raise SourceAPIError(f"Lucca API: a userdate of user {owner} without a date")
        if not first <= day <= last:
            continue
        for half, key in (("AM", "am"), ("PM", "pm")):
            rows.append(
                {
                    "employee_id": owner,
                    "date": day,
                    "half": half,
                    "working": _half_worked(item, _get(item, key)),
                }
            )
    if not rows:
        return empty_frame(USERDATE_COLUMNS)
    frame = pd.DataFrame(rows, columns=list(USERDATE_COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    return frame.drop_duplicates(["employee_id", "date", "half"], keep="last").reset_index(drop=True)


# --- the month and its public holidays ------------------------------------------------------------


def resolve_month(month: str | None, configured: str, now: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """The month to report (its first day): --availability-month, else [availability] month, else
    the month after `now` in the configured timezone."""
    for text, where in ((month, "--availability-month"), (configured, "availability.month")):
        if text:
            try:
                parsed = dt.datetime.strptime(text.strip(), "%Y-%m")
            except ValueError:
                raise ConfigError(f"{where} = {text!r}: expected a month as YYYY-MM, e.g. 2025-07") from None
            return pd.Timestamp(parsed.year, parsed.month, 1)
    local = pd.Timestamp(now)
    local = local.tz_localize("UTC") if local.tzinfo is None else local
    return (local.tz_convert(timezone).tz_localize(None).to_period("M") + 1).to_timestamp()


def public_holidays(country: str, subdivision: str, month: pd.Timestamp) -> pd.DataFrame:
    """The public holidays of a country (and subdivision) in the month: date, name."""
    import holidays

    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision or None, years=month.year)
    except NotImplementedError:
        where = (
            f"availability.subdivision = {subdivision!r}"
            if subdivision
            else f"availability.country = {country!r}"
        )
        raise ConfigError(
            f"{where}: not known to the holidays package (use an ISO code such as FR, or a subdivision such as 57)"
        ) from None
    days = month_days(month)
    rows = [
        {"date": pd.Timestamp(d), "name": n}
        for d, n in sorted(calendar.items())
        if days[0] <= pd.Timestamp(d) <= days[-1]
    ]
    if not rows:
        return empty_frame(HOLIDAY_COLUMNS)
    return pd.DataFrame(rows, columns=list(HOLIDAY_COLUMNS)).astype({"date": "datetime64[ns]"})


# --- the entry point --------------------------------------------------------------------------------


def load_hr_data(
    settings: Any,
    now: pd.Timestamp,
    month: str | None = None,
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> HRData:
    """Employees active in the month, their leaves and (when readable) their schedules, from Lucca.

    Raises ConfigError for a bad month, country or base URL, SourceAPIError when the API fails.
    """
    section = settings.section("availability")
    first_day = resolve_month(month, section.month, now, settings.timezone)
    days = month_days(first_day)
    first, last = days[0].date(), days[-1].date()
    calendar = section.country + (f"-{section.subdivision}" if section.subdivision else "")
    holidays = public_holidays(section.country, section.subdivision, first_day)

    client = LuccaClient(
        settings.secrets.get("LUCCA_BASE_URL") or "",
        settings.secrets.get("LUCCA_API_KEY") or "",
        timeout=section.timeout_seconds,
        retry=RetryPolicy(max_retries=section.max_retries, deadline_seconds=section.retry_deadline_seconds),
        session=session,
        sleep=sleep,
        clock=clock,
    )
    employees = active_employees(parse_users(client.users()), first_day)
    ids = employees["employee_id"].astype(str).tolist()
    leaves = parse_leaves(client.leaves(ids, first, last), first, last) if ids else empty_frame(LEAVE_COLUMNS)

    userdates: pd.DataFrame | None
    source = "userdates"
    try:
        userdates = parse_userdates(client.userdates(ids, first, last), first, last) if ids else None
    except LuccaForbidden:
        log.warning(
            "Lucca: the API key may not read work schedules (userdates); "
            "working days = weekdays minus %s public holidays",
            calendar,
        )
        userdates = None
    if userdates is None:
        source = "calendar"
    log.info(
        "Lucca: %d employees active in %s, %d leave half-days, working days from %s, %d requests",
        len(employees),
        f"{first_day:%Y-%m}",
        len(leaves),
        source,
        client.requests,
    )
    return HRData(
        month=first_day,
        employees=employees,
        leaves=leaves,
        userdates=userdates,
        holidays=holidays,
        working_days_source=source,  # type: ignore[arg-type]
        calendar=calendar,
        requests=client.requests,
    )
