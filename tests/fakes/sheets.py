"""An HTTP-level fake of the Google Sheets API v4 (and Google's token endpoint) under `responses`.

The real gspread and google-auth run above it. It keeps a workbook's state (tabs, grid sizes, cells,
developer metadata, charts), validates every request body against the Sheets v4 discovery document
shipped in google-api-python-client, applies a batchUpdate atomically (all sub-requests or none, as
Google does) and checks Google's limits after each sub-request. Failures can be scripted per
endpoint: an HTTP status (applied or not), Retry-After, or a raised connection error, for the next
requests (`fail`) or for any one request by its number (`fail_request`).

copyPaste with PASTE_NORMAL copies values and formats (Google: "values, formulas, formats and merges");
notes are not copied, since Google does not document that they are.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import itertools
import json
import math
import re
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import googleapiclient
import requests
import responses
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"
API = "https://sheets.googleapis.com/v4/spreadsheets/"
SCOPE = "https://www.googleapis.com/auth/spreadsheets"
TOKEN = "fake-access-token"

MAX_CELLS = 10_000_000
MAX_COLUMNS = 18_278
MAX_CELL_CHARS = 50_000
MAX_TABS = 200


# ---------------------------------------------------------------- the discovery document as a validator


class Discovery:
    """Google's schema format (type/properties/items/additionalProperties/$ref/enum/format) checked
    like JSON Schema with additionalProperties false: an unknown field, a wrong type, an int32 out of
    range or a value outside an enum is an error. Google's one-of unions are checked too."""

    ONE_OF = {
        "Request": None,  # exactly one kind of request
        "ExtendedValue": None,  # exactly one typed value
        "DataFilter": None,
        "UpdateCellsRequest": ("range", "start"),
    }

    def __init__(self, path: Path = DISCOVERY):
        self.doc = json.loads(path.read_text(encoding="utf-8"))
        self.schemas: dict[str, Any] = self.doc["schemas"]

    def errors(self, value: Any, schema_name: str) -> list[str]:
        found: list[str] = []
        self._check(value, {"$ref": schema_name}, schema_name, found)
        return found

    def _check(self, value: Any, schema: dict[str, Any], path: str, out: list[str]) -> None:
        name = schema.get("$ref")
        if name:
            schema = self.schemas[name]
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                out.append(f"{path}: expected an object, got {type(value).__name__}")
                return
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if key in props:
                    self._check(item, props[key], f"{path}.{key}", out)
                elif extra is not None:
                    self._check(item, extra, f"{path}.{key}", out)
                else:
                    out.append(f"{path}: unknown field {key!r} (not in {schema.get('id', 'the schema')})")
            if name in self.ONE_OF:
                among = self.ONE_OF[name] or tuple(props)
                present = [k for k in among if k in value]
                if len(present) != 1:
                    out.append(f"{path}: {name} needs exactly one of its union fields, got {present}")
        elif kind == "array":
            if not isinstance(value, list):
                out.append(f"{path}: expected an array")
                return
            for i, item in enumerate(value):
                self._check(item, schema["items"], f"{path}[{i}]", out)
        elif kind == "string":
            if not isinstance(value, str):
                out.append(f"{path}: expected a string, got {value!r}")
            elif "enum" in schema and value not in schema["enum"]:
                out.append(f"{path}: {value!r} is not one of {schema['enum']}")
            elif schema.get("format") == "google-fieldmask":
                try:
                    parse_mask(value)
                except ValueError as exc:
                    out.append(f"{path}: bad field mask {value!r}: {exc}")
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                out.append(f"{path}: expected an integer, got {value!r}")
            elif schema.get("format") == "int32" and not -(2**31) <= value < 2**31:
                out.append(f"{path}: {value} is out of int32 range")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                out.append(f"{path}: expected a finite number, got {value!r}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                out.append(f"{path}: expected true or false, got {value!r}")
        elif kind == "any":
            pass
        else:
            out.append(f"{path}: schema type {kind!r} not understood by the fake")

    def mask_errors(self, mask: str, schema_name: str) -> list[str]:
        """Names in a `fields` mask that the response schema does not have."""
        out: list[str] = []

        def walk(tree: dict[str, Any] | None, schema: dict[str, Any], path: str) -> None:
            if tree is None:
                return
            while "$ref" in schema or schema.get("type") == "array":
                schema = self.schemas[schema["$ref"]] if "$ref" in schema else schema["items"]
            props = schema.get("properties", {})
            for key, sub in tree.items():
                if key == "*":
                    continue
                if key not in props:
                    out.append(f"{path}{key}: not a field of {schema.get('id')}")
                else:
                    walk(sub, props[key], f"{path}{key}.")

        walk(parse_mask(mask), {"$ref": schema_name}, "")
        return out


# ---------------------------------------------------------------- field masks


def parse_mask(mask: str) -> dict[str, Any]:
    """'a,b.c,d(e,f(g))' -> {'a': None, 'b': {'c': None}, 'd': {'e': None, 'f': {'g': None}}} (None: all)."""
    pos = 0

    def merge(node: dict[str, Any], key: str, sub: dict[str, Any] | None) -> None:
        if key in node and node[key] is None:
            return
        if sub is None or key not in node:
            node[key] = sub
        else:
            for k, v in sub.items():
                merge(node[key], k, v)

    def parse_list() -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while True:
            m = re.match(r"[A-Za-z0-9_*]+(?:\.[A-Za-z0-9_*]+)*", mask[pos:])
            if not m:
                raise ValueError(f"expected a field name at {pos}")
            pos += len(m.group(0))
            sub = None
            if pos < len(mask) and mask[pos] == "(":
                pos += 1
                sub = parse_list()
                if pos >= len(mask) or mask[pos] != ")":
                    raise ValueError("unbalanced parentheses")
                pos += 1
            parts = m.group(0).split(".")
            node = tree
            for part in parts[:-1]:
                if part in node and node[part] is None:
                    break
                node = node.setdefault(part, {})
            else:
                merge(node, parts[-1], sub)
            if pos < len(mask) and mask[pos] == ",":
                pos += 1
                continue
            return tree

    tree = parse_list()
    if pos != len(mask):
        raise ValueError(f"unexpected {mask[pos]!r} at {pos}")
    return tree


def select(value: Any, tree: dict[str, Any] | None) -> Any:
    """A partial response: keep only what the mask names."""
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [select(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: select(value[k], sub) for k, sub in tree.items() if k in value}
    return value


def apply_mask(target: dict[str, Any], source: dict[str, Any], mask: str) -> None:
    """Set each masked path of `target` from `source`, clearing it where `source` lacks it (Google's rule)."""

    def walk(t: dict[str, Any], s: dict[str, Any] | None, tree: dict[str, Any] | None) -> None:
        assert tree is not None
        for key, sub in tree.items():
            if key == "*":
                t.clear()
                t.update(copy.deepcopy(s or {}))
                continue
            value = (s or {}).get(key)
            if sub is None:
                if value is None:
                    t.pop(key, None)
                else:
                    t[key] = copy.deepcopy(value)
            else:
                child = t.setdefault(key, {})
                walk(child, value if isinstance(value, dict) else None, sub)
                if not child:
                    t.pop(key, None)

    walk(target, source, parse_mask(mask))


# ---------------------------------------------------------------- the workbook


class Invalid(Exception):
    """A request Google would refuse with 400 INVALID_ARGUMENT."""


@dataclass
class Sheet:
    props: dict[str, Any]
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    charts: list[dict[str, Any]] = field(default_factory=list)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)  # ConditionalFormatRule, in order

    @property
    def id(self) -> int:
        return self.props["sheetId"]

    @property
    def rows(self) -> int:
        return self.props["gridProperties"]["rowCount"]

    @property
    def cols(self) -> int:
        return self.props["gridProperties"]["columnCount"]


@dataclass
class Book:
    title: str
    sheets: list[Sheet]
    metadata: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Fault:
    """A scripted answer: an HTTP status (after applying the request when `apply`), or an exception.
    Status 200 lets that request through, to script a failure of a later one."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Internal error encountered."
    apply: bool = False
    raises: Exception | None = None
    body: str | None = None  # a raw body instead of Google's error JSON (e.g. an OAuth error)


@dataclass
class Call:
    method: str
    kind: str  # token | get | batchUpdate | other
    query: dict[str, list[str]]
    body: Any
    status: int = 0
    timeout: Any = None  # what the client passed to requests: must never be None


_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
}


def _error(
    status: int, message: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    body = {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body)


def _timeout(request: requests.PreparedRequest) -> Any:
    return getattr(request, "req_kwargs", {}).get("timeout")


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeSheets:
    """One spreadsheet behind the Sheets API, plus the token endpoint of the service account key."""

    def __init__(
        self, rsps: responses.RequestsMock, key: dict[str, Any], spreadsheet_id: str = "1FakeSheetId_abcdef"
    ):
        self.spreadsheet_id = spreadsheet_id
        self.key = key
        self.discovery = Discovery()
        self.access: str | None = "writer"  # writer | reader | None (not shared)
        self.exists = True
        self.book = Book(
            "KPIs",
            [
                Sheet(
                    {
                        "sheetId": 0,
                        "title": "Sheet1",
                        "index": 0,
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": 1000, "columnCount": 26},
                    }
                )
            ],
        )
        self.calls: list[Call] = []
        self.schema_errors: list[str] = []
        self.faults: dict[str, deque[Fault]] = {"token": deque(), "get": deque(), "batchUpdate": deque()}
        self.numbered: dict[tuple[str, int], Fault] = {}  # (kind, n): the n-th request of that kind, from 1
        self._ids = itertools.count(1_000_000)
        public = serialization.load_pem_private_key(key["private_key"].encode(), password=None).public_key()
        self._public_key = public
        rsps.add_callback(responses.POST, key["token_uri"], callback=self._token)
        rsps.add_callback(responses.GET, re.compile(re.escape(API) + r"[^/:?]+(\?.*)?$"), callback=self._get)
        rsps.add_callback(
            responses.POST, re.compile(re.escape(API) + r"[^/:?]+:batchUpdate(\?.*)?$"), callback=self._batch
        )

    # -- scripting and reading back

    def fail(self, kind: str, *faults: Fault) -> None:
        """Answer the next requests of `kind` (token, get, batchUpdate) with these faults, in order."""
        self.faults[kind].extend(faults)

    def fail_request(self, kind: str, n: int, fault: Fault) -> None:
        """Answer the n-th request of `kind` (counted from 1 over the fake's life) with `fault`; the others pass."""
        self.numbered[(kind, n)] = fault

    def visible(self) -> dict[str, list[list[Any]]]:
        """What a reader sees: every tab that is not hidden, by title, with its values."""
        return {s.props["title"]: self.values(s.props["title"]) for s in self._sorted() if not s.props.get("hidden")}

    def count(self, kind: str) -> int:
        return sum(1 for c in self.calls if c.kind == kind)

    def bodies(self) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.kind == "batchUpdate"]

    def titles(self) -> list[str]:
        return [s.props["title"] for s in self._sorted()]

    def sheet(self, title: str) -> Sheet:
        for s in self.book.sheets:
            if s.props["title"] == title:
                return s
        raise KeyError(title)

    def sheet_ids(self) -> dict[str, int]:
        return {s.props["title"]: s.id for s in self.book.sheets}

    def values(self, title: str) -> list[list[Any]]:
        """What a reader sees, typed: numbers, strings, booleans, ('formula', text), None for empty."""
        s = self.sheet(title)
        out = []
        for r in range(s.rows):
            row = []
            for c in range(s.cols):
                v = s.cells.get((r, c), {}).get("userEnteredValue")
                if not v:
                    row.append(None)
                elif "formulaValue" in v:
                    row.append(("formula", v["formulaValue"]))
                else:
                    row.append(next(iter(v.values())))
            out.append(row)
        return out

    def cell(self, title: str, row: int, col: int) -> dict[str, Any]:
        return self.sheet(title).cells.get((row, col), {})

    def metadata(self, title: str) -> list[dict[str, Any]]:
        sid = self.sheet(title).id
        return [m for m in self.book.metadata if m["location"].get("sheetId") == sid]

    def snapshot(self) -> Book:
        return copy.deepcopy(self.book)

    @staticmethod
    def snapshot_of(book: Book) -> Book:
        """A copy of a snapshot, to put back as the workbook (`fake.book = fake.snapshot_of(saved)`)."""
        return copy.deepcopy(book)

    def add_by_hand(
        self,
        title: str,
        rows: int = 5,
        cols: int = 3,
        values: dict[tuple[int, int], Any] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> int:
        """A tab a person made in the browser (not through the API calls under test)."""
        sid = next(self._ids)
        sheet = Sheet(
            {
                "sheetId": sid,
                "title": title,
                "index": len(self.book.sheets),
                "sheetType": "GRID",
                "gridProperties": {"rowCount": rows, "columnCount": cols},
            }
        )
        for (r, c), v in (values or {}).items():
            kind = "numberValue" if isinstance(v, int | float) else "stringValue"
            sheet.cells[(r, c)] = {"userEnteredValue": {kind: v}}
        self.book.sheets.append(sheet)
        for k, v in (metadata or {}).items():
            self.book.metadata.append(
                {
                    "metadataId": next(self._ids),
                    "metadataKey": k,
                    "metadataValue": v,
                    "location": {"locationType": "SHEET", "sheetId": sid},
                    "visibility": "DOCUMENT",
                }
            )
        return sid

    # -- endpoints

    def _token(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        form = urllib.parse.parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
        self.calls.append(Call("POST", "token", {}, form, timeout=_timeout(request)))
        fault = self._fault("token")
        if fault is not None:
            return fault
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"], form
        head, payload, signature = form["assertion"][0].split(".")
        self._public_key.verify(
            _b64url(signature), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        claims = json.loads(_b64url(payload))
        assert claims["iss"] == self.key["client_email"], claims
        assert claims["aud"] == self.key["token_uri"], claims
        assert claims["scope"] == SCOPE, f"scope must be spreadsheets only, got {claims['scope']!r}"
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"}),
        )

    def _fault(self, kind: str, apply: Any = None) -> tuple[int, dict[str, str], str] | None:
        numbered = self.numbered.pop((kind, self.count(kind)), None)
        if numbered is None and not self.faults[kind]:
            return None
        fault = numbered if numbered is not None else self.faults[kind].popleft()
        if fault.status == 200 and fault.raises is None:
            return None  # this one goes through
        if fault.raises is not None:
            raise fault.raises
        if fault.apply and apply is not None:
            apply()
        self.calls[-1].status = fault.status
        if fault.body is not None:
            return fault.status, {"Content-Type": "application/json", **fault.headers}, fault.body
        return _error(fault.status, fault.message, fault.headers)

    def _check_access(
        self, request: requests.PreparedRequest, write: bool
    ) -> tuple[int, dict[str, str], str] | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, "Request had invalid authentication credentials.")
        sid = urllib.parse.urlparse(request.url).path.split("/")[-1].split(":")[0]
        if sid != self.spreadsheet_id or not self.exists:
            return _error(404, "Requested entity was not found.")
        if self.access is None or (write and self.access != "writer"):
            return _error(403, "The caller does not have permission")
        return None

    def _get(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(request.url).query)
        self.calls.append(Call("GET", "get", query, None, timeout=_timeout(request)))
        fault = self._fault("get")
        if fault is not None:
            return fault
        denied = self._check_access(request, write=False)
        if denied:
            return denied
        if "fields" not in query:
            return _error(400, "fake: a fields mask is required (never read grid data)")
        mask = query["fields"][0]
        self.schema_errors.extend(self.discovery.mask_errors(mask, "Spreadsheet"))
        tree = parse_mask(mask)
        if "data" in (tree.get("sheets") or {}):
            return _error(400, "fake: grid data must not be read")
        return 200, {"Content-Type": "application/json"}, json.dumps(select(self._resource(), tree))

    def _resource(self) -> dict[str, Any]:
        sheets = []
        for s in self._sorted():
            entry: dict[str, Any] = {"properties": copy.deepcopy(s.props)}
            md = [copy.deepcopy(m) for m in self.book.metadata if m["location"].get("sheetId") == s.id]
            if md:
                entry["developerMetadata"] = md
            if s.charts:
                entry["charts"] = copy.deepcopy(s.charts)
            if s.conditional_formats:
                entry["conditionalFormats"] = copy.deepcopy(s.conditional_formats)
            sheets.append(entry)
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {"title": self.book.title, "locale": "en_US", "timeZone": "Etc/GMT"},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }

    def _batch(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        self.calls.append(Call("POST", "batchUpdate", {}, body, timeout=_timeout(request)))
        errors = self.discovery.errors(body, "BatchUpdateSpreadsheetRequest")
        if errors:
            self.schema_errors.extend(errors)
            return _error(400, "Invalid JSON payload received. " + "; ".join(errors[:3]))
        denied = self._check_access(request, write=True)
        if denied:
            return denied
        holder: dict[str, Any] = {}

        def apply() -> None:
            holder["replies"] = self._apply(body)

        fault = self._fault("batchUpdate", apply)
        if fault is not None:
            return fault
        try:
            apply()
        except Invalid as exc:
            self.calls[-1].status = 400
            return _error(400, str(exc))
        self.calls[-1].status = 200
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"spreadsheetId": self.spreadsheet_id, "replies": holder["replies"]}),
        )

    # -- batchUpdate semantics (atomic)

    @staticmethod
    def _fork(book: Book) -> Book:
        """The book a batchUpdate is applied to (kept only if every sub-request succeeds): properties, charts and
        metadata copied deeply, the cells shallowly, since a cell is copied before it changes (`_set_cell`) and
        the other handlers put new cell dicts in. A batch costs one dict copy per sheet, not a copy of every cell
        (a deep copy per batch made a large publish through the fake quadratic)."""
        def fork(sheet: Sheet) -> Sheet:
            copied = {f.name: copy.deepcopy(getattr(sheet, f.name)) for f in dataclasses.fields(sheet) if f.name != "cells"}
            return Sheet(cells=dict(sheet.cells), **copied)

        copied = {f.name: copy.deepcopy(getattr(book, f.name)) for f in dataclasses.fields(book) if f.name != "sheets"}
        return Book(sheets=[fork(s) for s in book.sheets], **copied)

    def _apply(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        work = self._fork(self.book)
        replies = []
        for i, req in enumerate(body.get("requests", [])):
            ((kind, args),) = req.items()
            handler = getattr(self, f"_do_{kind}", None)
            if handler is None:
                raise Invalid(f"fake: requests[{i}].{kind} is not supported by the fake")
            try:
                reply = handler(work, args)
                self._limits(work)
            except Invalid as exc:
                raise Invalid(f"Invalid requests[{i}].{kind}: {exc}") from None
            replies.append({kind: reply} if reply is not None else {})
        self.book = work
        return replies

    def _sorted(self, book: Book | None = None) -> list[Sheet]:
        return sorted((book or self.book).sheets, key=lambda s: s.props["index"])

    def _find(self, book: Book, sheet_id: int) -> Sheet:
        for s in book.sheets:
            if s.id == sheet_id:
                return s
        raise Invalid(f"No grid with id: {sheet_id}")

    def _limits(self, book: Book) -> None:
        if len(book.sheets) > MAX_TABS:
            raise Invalid(f"too many sheets ({len(book.sheets)})")
        total = 0
        for s in book.sheets:
            if s.cols > MAX_COLUMNS:
                raise Invalid(f"sheet {s.props['title']!r} has more than {MAX_COLUMNS} columns")
            total += s.rows * s.cols
        if total > MAX_CELLS:
            raise Invalid(
                f"This action would increase the number of cells in the workbook above the limit of "
                f"{MAX_CELLS} cells."
            )

    def _check_range(self, book: Book, rng: dict[str, Any]) -> tuple[Sheet, int, int, int, int]:
        s = self._find(book, rng.get("sheetId", 0))
        r0, r1 = rng.get("startRowIndex", 0), rng.get("endRowIndex", s.rows)
        c0, c1 = rng.get("startColumnIndex", 0), rng.get("endColumnIndex", s.cols)
        if not (0 <= r0 <= r1 <= s.rows and 0 <= c0 <= c1 <= s.cols):
            raise Invalid(
                f"Range ({s.props['title']}!R{r0}C{c0}:R{r1}C{c1}) exceeds grid limits. "
                f"Max rows: {s.rows}, max columns: {s.cols}"
            )
        return s, r0, r1, c0, c1

    def _check_frozen(self, s: Sheet) -> None:
        frozen = s.props["gridProperties"].get("frozenRowCount", 0)
        if frozen and frozen >= s.rows:
            raise Invalid("You can't freeze all visible rows on the sheet.")

    def _set_cell(self, s: Sheet, r: int, c: int, data: dict[str, Any], mask: str) -> None:
        old = s.cells.get((r, c))
        cell = copy.deepcopy(old) if old else {}  # the committed book may share this dict (_fork)
        apply_mask(cell, data, mask)
        for v in (cell.get("userEnteredValue") or {}).values():
            if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
                raise Invalid(
                    f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell."
                )
        if cell:
            s.cells[(r, c)] = cell
        else:
            s.cells.pop((r, c), None)

    def _do_addSheet(self, book: Book, args: dict[str, Any]) -> dict[str, Any]:
        props = copy.deepcopy(args.get("properties", {}))
        sid = props.get("sheetId", next(self._ids))
        if any(s.id == sid for s in book.sheets):
            raise Invalid(f"A sheet with id {sid} already exists.")
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if any(s.props["title"].casefold() == title.casefold() for s in book.sheets):
            raise Invalid(f'A sheet with the name "{title}" already exists. Please enter another name.')
        grid = {"rowCount": 1000, "columnCount": 26, **props.get("gridProperties", {})}
        index = props.get("index", len(book.sheets))
        for s in book.sheets:
            if s.props["index"] >= index:
                s.props["index"] += 1
        sheet = Sheet(
            {
                "sheetId": sid,
                "title": title,
                "index": min(index, len(book.sheets)),
                "sheetType": "GRID",
                "gridProperties": grid,
                **({"hidden": True} if props.get("hidden") else {}),
            }
        )
        book.sheets.append(sheet)
        self._check_frozen(sheet)
        return {"properties": copy.deepcopy(sheet.props)}

    def _do_updateSheetProperties(self, book: Book, args: dict[str, Any]) -> None:
        props = args["properties"]
        s = self._find(book, props.get("sheetId", 0))
        if "sheetId" in parse_mask(args["fields"]) or "index" in parse_mask(args["fields"]):
            raise Invalid("fake: changing sheetId or index is not supported")
        apply_mask(s.props, props, args["fields"])
        s.props.setdefault("gridProperties", {})
        if "title" not in s.props:
            raise Invalid("title cleared")
        s.cells = {(r, c): v for (r, c), v in s.cells.items() if r < s.rows and c < s.cols}
        self._check_frozen(s)

    def _do_updateCells(self, book: Book, args: dict[str, Any]) -> None:
        rows = args.get("rows", [])
        mask = args["fields"]
        if "range" in args:
            s, r0, r1, c0, c1 = self._check_range(book, args["range"])
            if len(rows) > r1 - r0 or any(len(row.get("values", [])) > c1 - c0 for row in rows):
                raise Invalid("rows do not fit in the range")
        else:
            start = args["start"]
            s = self._find(book, start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            r1 = r0 + len(rows)
            c1 = c0 + max((len(row.get("values", [])) for row in rows), default=0)
            self._check_range(
                book,
                {
                    "sheetId": s.id,
                    "startRowIndex": r0,
                    "endRowIndex": r1,
                    "startColumnIndex": c0,
                    "endColumnIndex": c1,
                },
            )
        for r in range(r0, r1):
            values = rows[r - r0].get("values", []) if r - r0 < len(rows) else []
            for c in range(c0, c1):
                data = values[c - c0] if c - c0 < len(values) else {}
                self._set_cell(s, r, c, data, mask)

    def _do_copyPaste(self, book: Book, args: dict[str, Any]) -> None:
        if args.get("pasteType", "PASTE_NORMAL") != "PASTE_NORMAL" or args.get("pasteOrientation", "NORMAL") != "NORMAL":
            raise Invalid("fake: only PASTE_NORMAL in NORMAL orientation is supported")
        src, r0, r1, c0, c1 = self._check_range(book, args["source"])
        dst, d0, d1, e0, e1 = self._check_range(book, args["destination"])
        if (d1 - d0, e1 - e0) != (r1 - r0, c1 - c0):
            raise Invalid("fake: copyPaste needs a destination of the source's size")
        copied = {(r, c): {k: copy.deepcopy(v) for k, v in src.cells.get((r, c), {}).items()
                           if k in ("userEnteredValue", "userEnteredFormat")}
                  for r in range(r0, r1) for c in range(c0, c1)}
        for (r, c), data in copied.items():
            cell = {k: v for k, v in dst.cells.get((r - r0 + d0, c - c0 + e0), {}).items() if k == "note"}
            cell.update(data)
            if cell:
                dst.cells[(r - r0 + d0, c - c0 + e0)] = cell
            else:
                dst.cells.pop((r - r0 + d0, c - c0 + e0), None)

    def _do_repeatCell(self, book: Book, args: dict[str, Any]) -> None:
        s, r0, r1, c0, c1 = self._check_range(book, args["range"])
        for r in range(r0, r1):
            for c in range(c0, c1):
                self._set_cell(s, r, c, args["cell"], args["fields"])

    def _do_createDeveloperMetadata(self, book: Book, args: dict[str, Any]) -> dict[str, Any]:
        md = copy.deepcopy(args["developerMetadata"])
        if not md.get("metadataKey") or md.get("visibility") not in ("DOCUMENT", "PROJECT"):
            raise Invalid("Developer metadata must have a key and a visibility")
        loc = md.get("location", {})
        if "sheetId" in loc:
            self._find(book, loc["sheetId"])
            md["location"] = {"locationType": "SHEET", "sheetId": loc["sheetId"]}
        elif loc.get("spreadsheet"):
            md["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
        else:
            raise Invalid("fake: only sheet or spreadsheet metadata locations are supported")
        md.setdefault("metadataId", next(self._ids))
        if any(m["metadataId"] == md["metadataId"] for m in book.metadata):
            raise Invalid(f"metadata id {md['metadataId']} already exists")
        book.metadata.append(md)
        return {"developerMetadata": copy.deepcopy(md)}

    def _matches(self, m: dict[str, Any], lookup: dict[str, Any]) -> bool:
        if "metadataId" in lookup and m["metadataId"] != lookup["metadataId"]:
            return False
        if "metadataKey" in lookup and m["metadataKey"] != lookup["metadataKey"]:
            return False
        if "metadataValue" in lookup and m.get("metadataValue") != lookup["metadataValue"]:
            return False
        loc = lookup.get("metadataLocation")
        if loc is not None:
            if "sheetId" in loc and m["location"].get("sheetId") != loc["sheetId"]:
                return False
            if loc.get("spreadsheet") and m["location"].get("locationType") != "SPREADSHEET":
                return False
        return True

    def _do_updateDeveloperMetadata(self, book: Book, args: dict[str, Any]) -> dict[str, Any]:
        hits = [
            m
            for m in book.metadata
            if any(self._matches(m, f.get("developerMetadataLookup", {})) for f in args["dataFilters"])
        ]
        if not hits:
            raise Invalid("No developer metadata matches the data filters")
        for m in hits:
            apply_mask(m, args["developerMetadata"], args["fields"])
        return {"developerMetadata": copy.deepcopy(hits)}

    def _chart_ids(self, book: Book) -> set[int]:
        return {c["chartId"] for s in book.sheets for c in s.charts}

    def _check_spec(self, book: Book, spec: dict[str, Any]) -> None:
        basic = spec.get("basicChart")
        if basic is None:
            raise Invalid("fake: only basic charts are supported")
        ranges = [d["domain"] for d in basic.get("domains", [])] + [
            s["series"] for s in basic.get("series", [])
        ]
        for ref in ranges:
            for rng in ref["sourceRange"]["sources"]:
                self._check_range(book, rng)

    def _do_addChart(self, book: Book, args: dict[str, Any]) -> dict[str, Any]:
        chart = copy.deepcopy(args["chart"])
        chart.setdefault("chartId", next(self._ids))
        if chart["chartId"] in self._chart_ids(book):
            raise Invalid(f"An object with id {chart['chartId']} already exists")
        self._check_spec(book, chart["spec"])
        anchor = chart["position"]["overlayPosition"]["anchorCell"]
        s = self._find(book, anchor.get("sheetId", 0))
        if anchor.get("rowIndex", 0) >= s.rows or anchor.get("columnIndex", 0) >= s.cols:
            raise Invalid("anchor cell outside the grid")
        s.charts.append(chart)
        return {"chart": copy.deepcopy(chart)}

    def _do_updateChartSpec(self, book: Book, args: dict[str, Any]) -> None:
        self._check_spec(book, args["spec"])
        for s in book.sheets:
            for c in s.charts:
                if c["chartId"] == args["chartId"]:
                    c["spec"] = copy.deepcopy(args["spec"])
                    return
        raise Invalid(f"No chart with id: {args['chartId']}")

    def _do_deleteEmbeddedObject(self, book: Book, args: dict[str, Any]) -> None:
        for s in book.sheets:
            for c in list(s.charts):
                if c["chartId"] == args["objectId"]:
                    s.charts.remove(c)
                    return
        raise Invalid(f"No object with id: {args['objectId']}")

    def _do_addConditionalFormatRule(self, book: Book, args: dict[str, Any]) -> None:
        rule = copy.deepcopy(args["rule"])
        ranges = rule.get("ranges") or []
        if not ranges or ("gradientRule" in rule) == ("booleanRule" in rule):
            raise Invalid("A conditional format rule needs ranges and exactly one of gradientRule, booleanRule")
        sheets = {self._check_range(book, rng)[0].id for rng in ranges}
        if len(sheets) != 1:
            raise Invalid("All ranges of a conditional format rule must be on one sheet")
        target = self._find(book, sheets.pop())
        index = args.get("index", 0)
        if not 0 <= index <= len(target.conditional_formats):
            raise Invalid(f"Invalid index {index}: the sheet has {len(target.conditional_formats)} rules")
        target.conditional_formats.insert(index, rule)

    def _do_deleteConditionalFormatRule(self, book: Book, args: dict[str, Any]) -> dict[str, Any]:
        s = self._find(book, args.get("sheetId", 0))
        index = args.get("index", 0)
        if not 0 <= index < len(s.conditional_formats):
            raise Invalid(f"Invalid index {index}: the sheet has {len(s.conditional_formats)} rules")
        return {"rule": s.conditional_formats.pop(index)}

    def _do_deleteSheet(self, book: Book, args: dict[str, Any]) -> None:
        s = self._find(book, args["sheetId"])
        book.sheets.remove(s)
        book.metadata = [m for m in book.metadata if m["location"].get("sheetId") != s.id]
        for other in book.sheets:
            if other.props["index"] > s.props["index"]:
                other.props["index"] -= 1
