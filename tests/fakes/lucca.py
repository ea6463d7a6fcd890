"""An HTTP-level fake of the Lucca legacy v3 API, registered with `responses`.

The real client (requests, our LuccaClient) runs above it. It enforces what Lucca requires and a
little more, so a client mistake fails loudly:
- `Authorization: lucca application=<key>` exactly, else 401 with the legacy {Status, Message} body;
- `fields` on every call, else 400 (Lucca itself would silently answer only id, name, url);
  answers carry only the requested fields, matched without case as .NET does (`isAm` finds `isAM`);
- `paging=offset,limit` with 0 < limit <= 1000, else 400;
- on /api/v3/leaves: a `date` filter and one owner filter, else 400; `isActive=true` honoured;
- on /api/v3/users: former employees hidden unless `formerEmployees=true`;
- on /api/v3/userdates: 403 when `userdates_forbidden`.
Every answer adds a root "header" key (as Lucca's own mocks do) that clients must ignore.
`fail_next` scripts answers (429, 500, a malformed body...) served before the normal ones.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

BASE_URL = "https://acme.ilucca-demo.net"
API_KEY = "fake-key-0f3c9a"
PATHS = ("/api/v3/users", "/api/v3/leaves", "/api/v3/userdates")


@dataclass
class Scripted:
    status: int
    body: str
    headers: dict[str, str]


@dataclass
class FakeLucca:
    base_url: str = BASE_URL
    api_key: str = API_KEY
    today: dt.date = dt.date(2025, 6, 15)
    users: list[dict[str, Any]] = field(default_factory=list)
    leaves: list[dict[str, Any]] = field(default_factory=list)
    holidays: set[dt.date] = field(default_factory=set)
    # owner id -> {(weekday 0-6, "AM"|"PM")} not worked (part-time schedules)
    days_off: dict[int, set[tuple[int, str]]] = field(default_factory=dict)
    userdates_forbidden: bool = False
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _scripted: dict[str, list[Scripted]] = field(default_factory=dict)
    _next_leave: int = 1

    # --- state -----------------------------------------------------------------------------------

    def add_user(
        self,
        uid: int,
        first: str,
        last: str,
        start: str | None,
        end: str | None = None,
        *,
        department: str = "Engineering",
        legal_entity: str = "Acme SAS",
    ) -> None:
        self.users.append(
            {
                "id": uid,
                "name": f"{first} {last}",
                "url": f"{self.base_url}/api/v3/users/{uid}",
                "firstName": first,
                "lastName": last,
                "displayName": f"{first} {last}",
                "dtContractStart": f"{start}T00:00:00" if start else None,
                "dtContractEnd": f"{end}T00:00:00" if end else None,
                "departmentId": abs(hash(department)) % 100,
                "department": {"id": abs(hash(department)) % 100, "name": department},
                "legalEntityId": 1,
                "legalEntity": {"id": 1, "name": legal_entity},
                "mail": f"{first.lower()}@example.com",
                "habilitedRoles": [],
                "userWorkCycles": [],
            }
        )

    def add_leave(
        self,
        owner: int,
        day: str,
        half: str = "both",
        *,
        account: str = "Congés payés",
        confirmed: bool = True,
        active: bool = True,
        am_key: str = "isAm",
        with_time: bool = False,
    ) -> None:
        """Half "AM", "PM" or "both" (two items, as Lucca stores a full day)."""
        period = self._next_leave
        self._next_leave += 1
        for h in ["AM", "PM"] if half == "both" else [half]:
            self.leaves.append(
                {
                    "id": f"{period}-{day.replace('-', '')}-{h}",
                    "date": f"{day}T00:00:00" if with_time else day,
                    am_key: h == "AM",
                    "isActive": active,
                    "value": None,
                    "comment": "",
                    "creationDate": "2025-05-01T10:00:00",
                    "leaveAccountId": 12,
                    "leaveAccount": {"id": 12, "name": account, "url": "x"},
                    "leavePeriodId": period,
                    "leavePeriod": {"id": period, "ownerId": owner, "isConfirmed": confirmed, "logs": []},
                }
            )

    def fail_next(
        self, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        """Serve this answer for the next `times` calls to `path` (body: dict/list -> JSON, str as is)."""
        text = (
            body
            if isinstance(body, str)
            else json.dumps(body if body is not None else {"Status": status, "Message": "scripted"})
        )
        self._scripted.setdefault(path, []).extend(
            Scripted(status, text, headers or {}) for _ in range(times)
        )

    def register(self, rsps: responses.RequestsMock) -> None:
        pattern = re.compile(re.escape(self.base_url) + r"(/[^?]*)(\?.*)?$")
        rsps.add_callback(responses.GET, pattern, callback=self._handle)

    def calls_to(self, path: str) -> list[dict[str, str]]:
        return [params for p, params in self.calls if p == path]

    # --- HTTP ------------------------------------------------------------------------------------

    def _handle(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        path = url.path
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self.calls.append((path, params))
        if request.headers.get("Authorization") != f"lucca application={self.api_key}":
            return self._error(401, "Authentication failed: unknown API key.")
        if self._scripted.get(path):
            answer = self._scripted[path].pop(0)
            return answer.status, {"Content-Type": "application/json", **answer.headers}, answer.body
        if path not in PATHS:
            return 404, {"Content-Type": "text/html"}, "<html><body>Page not found</body></html>"
        if "fields" not in params:
            return self._error(400, "fields is required by this fake (Lucca would answer id, name, url only)")
        paging = re.fullmatch(r"(\d+),(\d+)", params.get("paging", ""))
        if not paging or not 0 < int(paging.group(2)) <= 1000:
            return self._error(
                400, f"paging must be offset,limit with limit <= 1000, got {params.get('paging')!r}"
            )
        offset, limit = int(paging.group(1)), int(paging.group(2))
        if path == "/api/v3/users":
            items = self._users(params)
        elif path == "/api/v3/leaves":
            problem = self._check_leaves(params)
            if problem:
                return self._error(400, problem)
            items = self._leaves(params)
        else:
            if self.userdates_forbidden:
                return self._error(403, "You are not allowed to access this resource.")
            if "ownerId" not in params or "date" not in params:
                return self._error(400, "ownerId and date are required")
            items = self._userdates(params)
        tree = parse_fields(params["fields"])
        page = [project(item, tree) for item in items[offset : offset + limit]]
        data: dict[str, Any] = {"items": page}
        if "collection" in tree:
            data["count"] = len(items)
        body = {"header": {"generated": "2025-06-15T08:00:00", "principal": "api"}, "data": data}
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body)

    @staticmethod
    def _error(status: int, message: str) -> tuple[int, dict[str, str], str]:
        return (
            status,
            {"Content-Type": "application/json"},
            json.dumps({"Status": status, "Message": message}),
        )

    def _users(self, params: dict[str, str]) -> list[dict[str, Any]]:
        former = params.get("formerEmployees") == "true"
        out = []
        for user in self.users:
            end = user["dtContractEnd"]
            if not former and end and dt.date.fromisoformat(end[:10]) < self.today:
                continue
            out.append(user)
        return out

    @staticmethod
    def _check_leaves(params: dict[str, str]) -> str | None:
        if "date" not in params:
            return "date is required"
        if not any(
            k in params
            for k in (
                "leavePeriod.ownerId",
                "leavePeriod.owner.departmentId",
                "leavePeriod.owner.legalEntityId",
            )
        ):
            return "a population filter is required (leavePeriod.ownerId, ...)"
        if date_filter(params["date"]) is None:
            return f"bad date filter {params['date']!r}"
        return None

    def _leaves(self, params: dict[str, str]) -> list[dict[str, Any]]:
        low, high = date_filter(params["date"])  # type: ignore[misc]
        owners = id_filter(params.get("leavePeriod.ownerId"))
        active_only = params.get("isActive") == "true"
        out = []
        for leave in self.leaves:
            day = dt.date.fromisoformat(leave["date"][:10])
            if not low <= day <= high:
                continue
            if owners is not None and leave["leavePeriod"]["ownerId"] not in owners:
                continue
            if active_only and not leave["isActive"]:
                continue
            out.append(leave)
        return out

    def _userdates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        low, high = date_filter(params["date"]) or (self.today, self.today)
        owners = id_filter(params["ownerId"]) or set()
        out = []
        for user in self.users:
            if user["id"] not in owners:
                continue
            day = low
            while day <= high:
                out.append(self._userdate(user, day))
                day += dt.timedelta(days=1)
        return out

    def _userdate(self, user: dict[str, Any], day: dt.date) -> dict[str, Any]:
        rest = day.weekday() >= 5
        holiday = day in self.holidays
        off = self.days_off.get(user["id"], set())

        def half(h: str) -> dict[str, Any]:
            worked = not rest and not holiday and (day.weekday(), h) not in off
            return {"dtt": "04:00:00" if worked else "00:00:00", "isHoliday": holiday, "isWeeklyRest": rest}

        am, pm = half("AM"), half("PM")
        hours = 4 * ((am["dtt"] != "00:00:00") + (pm["dtt"] != "00:00:00"))
        return {
            "ownerId": user["id"],
            "date": f"{day.isoformat()}T00:00:00",
            "dtt": f"{hours:02d}:00:00",
            "drt": "00:00:00",
            "isHoliday": holiday,
            "isWeeklyRest": rest,
            "am": am,
            "pm": pm,
            "items": [],
        }


# --- query helpers --------------------------------------------------------------------------------


def date_filter(text: str) -> tuple[dt.date, dt.date] | None:
    """`2025-07-01`, `between,a,b`, `since,a`, `until,b` -> (low, high), both included."""
    parts = text.split(",")
    try:
        if len(parts) == 1:
            day = dt.date.fromisoformat(parts[0][:10])
            return day, day
        op, *days = parts
        dates = [dt.date.fromisoformat(d[:10]) for d in days]
    except ValueError:
        return None
    if op == "between" and len(dates) == 2:
        return dates[0], dates[1]
    if op == "since" and len(dates) == 1:
        return dates[0], dt.date.max
    if op == "until" and len(dates) == 1:
        return dt.date.min, dates[0]
    return None


def id_filter(text: str | None) -> set[int] | None:
    if text is None:
        return None
    if text.startswith("greaterthan,"):
        return None  # everyone (Lucca's own recipe)
    return {int(v) for v in text.split(",") if v.strip()}


def parse_fields(text: str) -> dict[str, Any]:
    """`a,b[c,d[e]],collection.count` -> {"a": {}, "b": {"c": {}, "d": {"e": {}}}, "collection": {"count": {}}}."""
    tree: dict[str, Any] = {}
    stack = [tree]
    name = ""
    for ch in text + ",":
        if ch == "[":
            node = stack[-1].setdefault(name.strip(), {})
            stack.append(node)
            name = ""
        elif ch in ",]":
            if name.strip():
                node = stack[-1]
                *parents, leaf = name.strip().split(".")
                for p in parents:
                    node = node.setdefault(p, {})
                node.setdefault(leaf, {})
            name = ""
            if ch == "]":
                stack.pop()
        else:
            name += ch
    return tree


def project(item: dict[str, Any], tree: dict[str, Any]) -> dict[str, Any]:
    """Keep the requested fields (keys matched without case); nested objects keep their sub-selection."""
    lowered = {k.casefold(): k for k in item}
    out: dict[str, Any] = {}
    for name, sub in tree.items():
        key = lowered.get(name.casefold())
        if key is None:
            continue
        value = item[key]
        if sub and isinstance(value, dict):
            value = project(value, sub)
        elif sub and isinstance(value, list):
            value = [project(v, sub) if isinstance(v, dict) else v for v in value]
        elif isinstance(value, dict):
            value = {k: value[k] for k in ("id", "name", "url") if k in value}
        out[key] = value
    return out
