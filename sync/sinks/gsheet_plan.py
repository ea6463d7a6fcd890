"""Plan a Google Sheets publish: tables -> typed cells -> the requests of one atomic batchUpdate.

Pure: no network. `render_table` turns a Table into Sheets `RowData` (typed cells only: numberValue,
stringValue, boolValue; dates as serial numbers with a DATE format; never formulaValue), built column-wise as
JSON text (`gsheet_rows.RowsJson`: no Python object per cell), and a fingerprint hashing that text;
`fit_rows` finds the row cap that keeps a workbook within Google's cells; `make_plan` compares the renders with the spreadsheet's metadata (as Google returns it
for `METADATA_FIELDS`) and returns the batchUpdate bodies to send: usually one. When one body would
pass `max_request_bytes`, the new content is first written into hidden staging tabs over as many
requests as needed, then one final batchUpdate switches every tab at once (each visible tab is resized,
gets its header, and copies its data from its staging tab, keeping its sheet id; the staging tabs are
deleted in that same request). Readers see the old workbook or the new one, never a mix: a failure
before the switch leaves every visible tab as it was, and the next run deletes the staging tabs left.

Ownership: a tab is ours when it carries developer metadata with key `META_KEY`; its value is JSON
{"tab": name, "fingerprint": ..., "charts": {...}}. Tabs without it are never touched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from kpi.tables import Chart, Table
from sync.errors import LimitError, PublishError
from sync.sinks.cells import ScaleRange, formats, safe_text, scale_ranges
from sync.sinks.gsheet_rows import RowsJson, json_size, table_row_texts

# Bump when the rendering changes: every tab is rewritten once. 2: colour scales; 3: fingerprints hash the rows'
# JSON text (sync/sinks/gsheet_rows.py); 4: colour scales leave the partial period out (an unchanged tab would keep
# its old rules, which a fingerprint of its rows does not see).
FORMAT_VERSION = "4"
META_KEY = "kpi-sync"
STAGING_KEY = "kpi-sync-staging"  # developer metadata of a hidden staging tab; value {"tab": name}
STAGING_TITLE = "kpi-sync staging {}"
MAX_CELLS = 10_000_000
MAX_COLUMNS = 18_278
MAX_CELL_CHARS = 50_000
MAX_TABS = 200
MAX_REQUEST_BYTES = 2_000_000
CELL_FIELDS = "userEnteredValue,userEnteredFormat,note"
METADATA_FIELDS = (
    "spreadsheetId,properties.title,"
    "sheets(properties(sheetId,title,index,sheetType,gridProperties(rowCount,columnCount,frozenRowCount)),"
    "developerMetadata(metadataId,metadataKey,metadataValue,location),charts(chartId),conditionalFormats(ranges(sheetId)))"
)
CHART_ROWS = 20  # dashboard rows per chart
CHART_TYPES = {"line": "LINE", "column": "COLUMN", "stacked_column": "COLUMN", "area": "AREA"}
DASHBOARD_TEXT = "Charts drawn from the tabs of this workbook; kpi-sync redraws them when the data changes."

Json = dict[str, Any]


# ---------------------------------------------------------------- the spreadsheet as read


@dataclass(frozen=True)
class Existing:
    """One sheet of the spreadsheet as read. `owner` is the tab name our metadata gives, None if not ours."""

    sheet_id: int
    title: str
    index: int
    rows: int
    cols: int
    grid: bool
    owner: str | None = None
    fingerprint: str = ""
    chart_map: tuple[tuple[str, int], ...] = ()  # dashboard: chart key -> chart id we made
    chart_ids: tuple[int, ...] = ()  # charts on this sheet
    staging: bool = False  # a hidden staging tab of ours (a run stopped before its switch left it)
    conditional_formats: int = 0  # conditional format rules on this sheet (ours: redrawn with the tab)

    @property
    def cells(self) -> int:
        return self.rows * self.cols if self.grid else 0


@dataclass(frozen=True)
class Workbook:
    spreadsheet_id: str
    title: str
    sheets: tuple[Existing, ...]

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> Workbook:
        """Parse a spreadsheets.get answer (fields mask METADATA_FIELDS)."""
        sheets = []
        for sheet in meta.get("sheets", []):
            props = sheet.get("properties", {})
            grid = props.get("gridProperties", {})
            owner: str | None = None
            fingerprint = ""
            chart_map: tuple[tuple[str, int], ...] = ()
            staging = False
            for md in sheet.get("developerMetadata", []):
                if md.get("metadataKey") == STAGING_KEY:
                    staging = True
                    continue
                if md.get("metadataKey") != META_KEY:
                    continue
                try:
                    value = json.loads(md.get("metadataValue", ""))
                    name = value["tab"]
                except (ValueError, KeyError, TypeError):
                    continue  # not a value we wrote: the tab is not ours
                if isinstance(name, str):
                    owner = name
                    fingerprint = str(value.get("fingerprint", ""))
                    charts = value.get("charts") or {}
                    chart_map = tuple(sorted((str(k), int(v)) for k, v in charts.items()))
            sheets.append(
                Existing(
                    sheet_id=int(props.get("sheetId", 0)),
                    title=str(props.get("title", "")),
                    index=int(props.get("index", 0)),
                    rows=int(grid.get("rowCount", 0)),
                    cols=int(grid.get("columnCount", 0)),
                    grid=props.get("sheetType", "GRID") == "GRID",
                    owner=owner,
                    fingerprint=fingerprint,
                    chart_map=chart_map,
                    chart_ids=tuple(int(c["chartId"]) for c in sheet.get("charts", []) if "chartId" in c),
                    conditional_formats=len(sheet.get("conditionalFormats", [])),
                    staging=staging,
                )
            )
        return cls(
            spreadsheet_id=str(meta.get("spreadsheetId", "")),
            title=str(meta.get("properties", {}).get("title", "")),
            sheets=tuple(sorted(sheets, key=lambda s: s.index)),
        )

    def owned(self) -> dict[str, Existing]:
        """Our tabs by name. Should two sheets claim one name (a tab duplicated by hand), the one whose
        title is the name wins, then the lowest id; the other is treated as not ours."""
        found: dict[str, Existing] = {}
        for s in self.sheets:
            if s.owner is None or s.staging:
                continue
            best = found.get(s.owner)
            if best is None or (s.title == s.owner, -s.sheet_id) > (best.title == best.owner, -best.sheet_id):
                found[s.owner] = s
        return found

    @property
    def chart_ids(self) -> set[int]:
        return {c for s in self.sheets for c in s.chart_ids}


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    """A tab as cells: header + data rows as RowData, number formats per column run, a fingerprint."""

    name: str
    rows: RowsJson  # header + data rows, as RowData JSON text
    n_rows: int  # grid rows (header included)
    n_cols: int
    formats: list[tuple[int, int, Json]]  # (first column, end column, numberFormat) for the data rows
    fingerprint: str
    columns: tuple[str, ...] = ()
    charts: tuple[Chart, ...] = ()
    scales: tuple[ScaleRange, ...] = ()  # colour scales on the data rows (sync.sinks.cells.scale_ranges)
    notes: tuple[str, ...] = ()
    volatile: bool = False  # changes every run (run time, history): rewritten only along with a real change

    @property
    def cells(self) -> int:
        return self.n_rows * self.n_cols


def _fingerprint(payload: Any) -> str:
    text = json.dumps([FORMAT_VERSION, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _rows_fingerprint(rows: RowsJson, payload: Any) -> str:
    """A tab's fingerprint: its format runs and size (`payload`), then its rows' JSON text, header included."""
    digest = hashlib.sha256(
        json.dumps([FORMAT_VERSION, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    for chunk in rows.chunks():
        digest.update(chunk)
    return digest.hexdigest()[:32]


def _text(value: str, tab: str, where: str) -> str:
    if len(value) > MAX_CELL_CHARS:
        raise LimitError(
            f"tab {tab!r}: {where} holds {len(value):,} characters, over Google Sheets' limit of "
            f"{MAX_CELL_CHARS:,} per cell"
        )
    return value


SUMMED_KINDS = ("int", "number", "money")


def _summary_row(rest: pd.DataFrame, table: Table) -> pa.Array:
    """One row standing for the rows a cap leaves out: a label in the first column, the sums of the whole-number,
    number and money columns under the others, the rest empty. The row's text ends with a comma, like a body row."""
    cells: list[Json] = []
    for i, column in enumerate(table.columns):
        if i == 0:
            label = f"{len(rest):,} more rows not shown; this row sums them"
            cells.append({"userEnteredValue": {"stringValue": label},
                          "userEnteredFormat": {"textFormat": {"italic": True}}})
            continue
        if column.kind not in SUMMED_KINDS:
            cells.append({})
            continue
        numbers = pd.to_numeric(rest.iloc[:, i], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        numbers = numbers[np.isfinite(numbers)]
        total = float(numbers.sum()) if len(numbers) else 0.0
        if not np.isfinite(total):
            cells.append({})
        elif column.kind == "int":
            cells.append({"userEnteredValue": {"numberValue": int(round(total))}})
        else:
            cells.append({"userEnteredValue": {"numberValue": round(total, 2) if column.kind == "money" else total}})
    text = json.dumps({"values": cells}, separators=(",", ":"), ensure_ascii=False) + ","
    return pa.array([text], pa.large_string())


def render_table(
    table: Table, *, timezone: str = "UTC", currency: str = "EUR", max_rows: int = 0, why: str = ""
) -> Rendered:
    """A table as Sheets rows: a bold header (column descriptions as notes), then typed cells.

    Raises LimitError (naming the tab) for more columns or longer text than a sheet holds.
    With `max_rows` > 0 a longer table is capped at `max_rows` rows under its header: the first `max_rows - 1`
    rows, then one row summing the others (`_summary_row`); the header's first cell and the notes say so, with
    `why` (default: the [publish] max_rows_per_tab setting). Cells are built column-wise (`gsheet_rows`).
    """
    name = table.name
    columns = table.columns
    if len(columns) > MAX_COLUMNS:
        raise LimitError(
            f"tab {name!r}: {len(columns):,} columns, over Google Sheets' limit of {MAX_COLUMNS:,}"
        )
    frame = table.frame
    total = len(frame)
    notes: list[str] = []
    first_note = [table.tab.description] if table.tab.description else []
    if table.note:
        first_note.append(table.note)
    summary = None
    if max_rows and total > max_rows:
        keep = max_rows - 1
        cut = (f"Capped: the first {keep:,} of {total:,} rows, then one row summing the other {total - keep:,} "
               f"({why or '[publish] max_rows_per_tab'}).")
        first_note.append(cut)
        notes.append(f"tab {name!r}: {cut}")
        summary = _summary_row(frame.iloc[keep:], table)
        frame = frame.iloc[:keep]
    header: list[Json] = []
    for i, col in enumerate(columns):
        cell: Json = {
            "userEnteredValue": {"stringValue": _text(safe_text(col.name), name, "a column name")},
            "userEnteredFormat": {"textFormat": {"bold": True}},
        }
        note = "\n\n".join([*(first_note if i == 0 else []), *([col.description] if col.description else [])])
        if note:
            cell["note"] = _text(note, name, "a header note")
        header.append(cell)
    body = table_row_texts(frame, columns, timezone, name, currency)
    if summary is not None:
        body = summary if body is None else pa.concat_arrays([body, summary])
    rows = RowsJson.build(header, body)
    fmt = formats(currency)
    runs: list[tuple[int, int, Json]] = []
    for c, col in enumerate(columns):
        kf = fmt[col.kind]
        if kf.sheets_type in (None, "TEXT") or kf.pattern is None:
            continue
        number_format = {"type": kf.sheets_type, "pattern": kf.pattern}
        if runs and runs[-1][1] == c and runs[-1][2] == number_format:
            runs[-1] = (runs[-1][0], c + 1, number_format)
        else:
            runs.append((c, c + 1, number_format))
    n_rows = max(2, len(rows))  # a frozen header needs a row under it
    n_cols = max(1, len(columns))
    return Rendered(
        name=name,
        rows=rows,
        n_rows=n_rows,
        n_cols=n_cols,
        formats=runs if len(rows) > 1 else [],
        fingerprint=_rows_fingerprint(rows, {"formats": runs, "size": [n_rows, n_cols]}),
        columns=tuple(c.name for c in columns),
        charts=table.charts,
        scales=tuple(scale_ranges(table)),
        notes=tuple(notes),
        volatile=table.tab.volatile,
    )


def table_shape(table: Table) -> tuple[int, int]:
    """(data rows, columns) of a table as `render_table` would lay it out uncapped."""
    return len(table.frame), len(table.columns)


# ---------------------------------------------------------------- planning


def stable_id(key: str, taken: set[int]) -> int:
    """A positive int32 derived from `key` (so reruns and re-plans choose the same), avoiding `taken`."""
    n = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % (2**31 - 2) + 1
    while n in taken:
        n = n % (2**31 - 2) + 1
    return n


@dataclass
class Unit:
    """The requests for one tab (or one chunk of a large tab), in phases applied in this order."""

    name: str
    shrink: list[Json] = field(default_factory=list)
    add: list[Json] = field(default_factory=list)
    grow: list[Json] = field(default_factory=list)
    cells: list[Json] = field(default_factory=list)
    meta: list[Json] = field(default_factory=list)
    charts: list[Json] = field(default_factory=list)
    shrinks_workbook: bool = False
    final: bool = True  # False for the first chunks of a tab written in several batches

    PHASES = ("shrink", "add", "grow", "cells", "meta", "charts")

    def requests(self) -> list[Json]:
        return [r for phase in self.PHASES for r in getattr(self, phase)]


@dataclass(frozen=True)
class Batch:
    """One spreadsheets.batchUpdate body and the tabs it (re)writes."""

    body: Json
    tabs: tuple[str, ...]  # visible tabs this batch finishes (staging batches: none; the switch: all)
    size: int  # bytes of the JSON body
    staging: bool = False  # writes hidden staging tabs only: readers see nothing of it


@dataclass(frozen=True)
class TabPlan:
    name: str
    action: Literal["add", "update", "unchanged"]
    sheet_id: int
    title: str
    rows: int
    cols: int


@dataclass
class Plan:
    workbook: Workbook
    tabs: list[TabPlan]
    batches: list[Batch]
    cells_after: int
    notes: list[str] = field(default_factory=list)

    def names(self, action: str) -> list[str]:
        return [t.name for t in self.tabs if t.action == action]

    @property
    def requests(self) -> int:
        return sum(len(b.body["requests"]) for b in self.batches)

    @property
    def bytes(self) -> int:
        return sum(b.size for b in self.batches)


def _meta_value(name: str, fingerprint: str, charts: dict[str, int] | None = None) -> str:
    value: Json = {"tab": name, "fingerprint": fingerprint}
    if charts:
        value["charts"] = charts
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _meta_requests(sheet_id: int, value: str, create: bool) -> Json:
    if create:
        return {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": META_KEY,
                    "metadataValue": value,
                    "location": {"sheetId": sheet_id},
                    "visibility": "DOCUMENT",
                }
            }
        }
    return {
        "updateDeveloperMetadata": {
            "dataFilters": [
                {
                    "developerMetadataLookup": {
                        "metadataKey": META_KEY,
                        "metadataLocation": {"sheetId": sheet_id},
                        "locationMatchingStrategy": "EXACT_LOCATION",
                    }
                }
            ],
            "developerMetadata": {"metadataValue": value},
            "fields": "metadataValue",
        }
    }


def _grid(sheet_id: int, rows: int, cols: int, frozen: bool) -> Json:
    grid: Json = {"rowCount": rows, "columnCount": cols}
    fields = "gridProperties.rowCount,gridProperties.columnCount"
    if frozen:
        grid["frozenRowCount"] = 1
        fields += ",gridProperties.frozenRowCount"
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": grid},
            "fields": fields,
        }
    }


def _size(obj: Any) -> int:
    """Bytes of `obj` as the sink sends it (compact UTF-8 JSON, rows spliced in: gsheet_rows.encode)."""
    return json_size(obj)


def _chunk_bounds(sizes: np.ndarray, start: int, budget: int) -> list[tuple[int, int]]:
    """Rows start.. in consecutive chunks, each as many rows as fit in `budget` bytes (at least one row)."""
    cum = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    bounds: list[tuple[int, int]] = []
    a, n = start, len(sizes)
    while a < n:
        b = max(a + 1, int(np.searchsorted(cum, cum[a] + budget, side="right")) - 1)
        bounds.append((a, b))
        a = b
    return bounds


def _tab_units(
    r: Rendered, sheet_id: int, existing: Existing | None, budget: int, index: int | None
) -> list[Unit]:
    """The requests that rewrite one tab, as one unit, or as chunks of rows when it passes `budget` bytes.

    A chunked tab is marked in progress (empty fingerprint) by its first chunk and gets its fingerprint
    with its last one, so a run stopped in between rewrites it next time.
    """
    first = Unit(r.name)
    first.shrinks_workbook = existing is not None and r.cells < existing.cells
    if existing is None:
        props: Json = {
            "sheetId": sheet_id,
            "title": r.name,
            "gridProperties": {"rowCount": r.n_rows, "columnCount": r.n_cols, "frozenRowCount": 1},
        }
        if index is not None:
            props["index"] = index
        first.add.append({"addSheet": {"properties": props}})
    else:
        if r.n_rows < existing.rows or r.n_cols < existing.cols:
            first.shrink.append(
                _grid(sheet_id, min(r.n_rows, existing.rows), min(r.n_cols, existing.cols), False)
            )
        first.grow.append(_grid(sheet_id, r.n_rows, r.n_cols, True))
    full_range = {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": r.n_rows,
        "startColumnIndex": 0,
        "endColumnIndex": r.n_cols,
    }
    formats = [
        {
            "repeatCell": {
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 1,
                    "endRowIndex": len(r.rows),
                    "startColumnIndex": c0,
                    "endColumnIndex": c1,
                },
                "cell": {"userEnteredFormat": {"numberFormat": nf}},
                "fields": "userEnteredFormat.numberFormat",
            }
        }
        for c0, c1, nf in r.formats
    ]
    final_meta = _meta_requests(sheet_id, _meta_value(r.name, r.fingerprint), existing is None)
    whole = {"updateCells": {"rows": r.rows, "fields": CELL_FIELDS, "range": full_range}}
    first.cells = [whole, *formats]
    first.meta = [final_meta]
    if _size(first.requests()) <= budget:
        return [first]

    # Too large for one request body: split the rows.
    fixed = _size([first.shrink, first.add, first.grow, formats]) + 2048
    chunks = _chunk_bounds(r.rows.row_sizes(), 0, max(1, budget - fixed))
    units: list[Unit] = []
    for k, (a, b) in enumerate(chunks):
        unit = first if k == 0 else Unit(r.name)
        if k == 0:
            unit.cells = [{"updateCells": {"rows": r.rows[a:b], "fields": CELL_FIELDS, "range": full_range}}]
            unit.meta = [_meta_requests(sheet_id, _meta_value(r.name, ""), existing is None)]
        else:
            start_at = {"sheetId": sheet_id, "rowIndex": a, "columnIndex": 0}
            unit.cells = [{"updateCells": {"rows": r.rows[a:b], "fields": CELL_FIELDS, "start": start_at}}]
        unit.final = k == len(chunks) - 1
        if unit.final:
            unit.cells.extend(formats)
            unit.meta.append(_meta_requests(sheet_id, _meta_value(r.name, r.fingerprint), False))
        units.append(unit)
    return units


def chart_spec(chart: Chart, r: Rendered, sheet_id: int) -> Json:
    """A native chart of columns of one tab (header row = series names)."""
    where = {name: i for i, name in enumerate(r.columns)}
    missing = [c for c in (chart.x, *chart.series) if c not in where]
    if missing:
        raise PublishError(
            f"tab {r.name!r}: chart {chart.title!r} names columns the tab lacks: {', '.join(missing)}"
        )

    def source(col: str) -> Json:
        c = where[col]
        return {
            "sourceRange": {
                "sources": [
                    {
                        "sheetId": sheet_id,
                        "startRowIndex": 0,
                        "endRowIndex": len(r.rows) if chart.rows is None else min(len(r.rows), 1 + chart.rows),
                        "startColumnIndex": c,
                        "endColumnIndex": c + 1,
                    }
                ]
            }
        }

    basic: Json = {
        "chartType": CHART_TYPES[chart.kind],
        "legendPosition": "BOTTOM_LEGEND",
        "headerCount": 1,
        "axis": [{"position": "BOTTOM_AXIS", "title": chart.x}, {"position": "LEFT_AXIS"}],
        "domains": [{"domain": source(chart.x)}],
        "series": [{"series": source(s), "targetAxis": "LEFT_AXIS"} for s in chart.series],
    }
    if chart.kind == "stacked_column":
        basic["stackedType"] = "STACKED"
    return {"title": chart.title, "basicChart": basic}


def _dashboard_unit(
    name: str,
    charts: list[tuple[str, Json]],
    existing: Existing | None,
    sheet_id: int,
    taken_chart_ids: set[int],
    force: bool,
) -> tuple[Unit | None, int, int]:
    """The dashboard's requests (None when it is up to date), its grid rows and columns."""
    n_rows, n_cols = 1 + CHART_ROWS * len(charts), 10
    old = dict(existing.chart_map) if existing else {}
    present = taken_chart_ids
    ids: dict[str, int] = {}
    used = set(taken_chart_ids) | set(old.values())  # a new chart never takes an id in use or once ours
    for key, _ in charts:
        chart_id = old.get(key) or stable_id(f"chart:{key}", used)
        used.add(chart_id)
        ids[key] = chart_id
    rows = [
        {
            "values": [
                {
                    "userEnteredValue": {"stringValue": DASHBOARD_TEXT},
                    "userEnteredFormat": {"textFormat": {"italic": True}},
                }
            ]
        }
    ]
    fingerprint = _fingerprint(
        {"rows": rows, "charts": [[k, ids[k], spec] for k, spec in charts], "size": [n_rows, n_cols]}
    )
    all_there = all(i in present for i in ids.values())
    if (
        existing
        and not force
        and all_there
        and existing.fingerprint == fingerprint
        and (existing.rows, existing.cols) == (n_rows, n_cols)
    ):
        return None, n_rows, n_cols
    unit = Unit(name)
    if existing is None:
        unit.add.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": name,
                        "index": 0,
                        "gridProperties": {"rowCount": n_rows, "columnCount": n_cols},
                    }
                }
            }
        )
    else:
        if n_rows < existing.rows or n_cols < existing.cols:
            unit.shrink.append(_grid(sheet_id, min(n_rows, existing.rows), min(n_cols, existing.cols), False))
        unit.grow.append(_grid(sheet_id, n_rows, n_cols, False))
    unit.cells.append(
        {
            "updateCells": {
                "rows": rows,
                "fields": CELL_FIELDS,
                "range": {
                    "sheetId": sheet_id,
                    "startRowIndex": 0,
                    "endRowIndex": n_rows,
                    "startColumnIndex": 0,
                    "endColumnIndex": n_cols,
                },
            }
        }
    )
    for i, (key, spec) in enumerate(charts):
        chart_id = ids[key]
        if chart_id in present:
            unit.charts.append({"updateChartSpec": {"chartId": chart_id, "spec": spec}})
        else:
            unit.charts.append(
                {
                    "addChart": {
                        "chart": {
                            "chartId": chart_id,
                            "spec": spec,
                            "position": {
                                "overlayPosition": {
                                    "anchorCell": {
                                        "sheetId": sheet_id,
                                        "rowIndex": 1 + CHART_ROWS * i,
                                        "columnIndex": 0,
                                    },
                                    "widthPixels": 900,
                                    "heightPixels": 380,
                                }
                            },
                        }
                    }
                }
            )
    for key, chart_id in old.items():
        if key not in ids and chart_id in present:
            unit.charts.append({"deleteEmbeddedObject": {"objectId": chart_id}})
    unit.meta.append(_meta_requests(sheet_id, _meta_value(name, fingerprint, ids), existing is None))
    return unit, n_rows, n_cols


def _pack(units: list[Unit], limit: int) -> list[Batch]:
    """Units -> batch bodies: one when everything fits in `limit` bytes, else as few as fit, in order."""

    def batch(group: list[Unit]) -> Batch:
        requests = [r for phase in Unit.PHASES for u in group for r in getattr(u, phase)]
        body = {"requests": requests}
        tabs = tuple(dict.fromkeys(u.name for u in group if u.final))
        return Batch(body=body, tabs=tabs, size=_size(body))

    if not units:
        return []
    whole = batch(units)
    if whole.size <= limit:
        return [whole]
    batches: list[Batch] = []
    group: list[Unit] = []
    size = 0
    for unit in units:
        unit_size = _size(unit.requests())
        if group and size + unit_size > limit - 64:
            batches.append(batch(group))
            group, size = [], 0
        group.append(unit)
        size += unit_size
    if group:
        batches.append(batch(group))
    return batches


def _staging_units(r: Rendered, stage_id: int, budget: int) -> list[Unit]:
    """Requests that write a tab's data rows (not its header) into a new hidden staging tab, in chunks under `budget`."""
    first = Unit(r.name)
    first.add.append({"addSheet": {"properties": {
        "sheetId": stage_id,
        "title": STAGING_TITLE.format(stage_id),
        "hidden": True,
        "gridProperties": {"rowCount": r.n_rows, "columnCount": r.n_cols},
    }}})
    first.meta.append({"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": STAGING_KEY,
        "metadataValue": json.dumps({"tab": r.name}, ensure_ascii=False),
        "location": {"sheetId": stage_id},
        "visibility": "DOCUMENT",
    }}})
    formats = [
        {"repeatCell": {
            "range": {"sheetId": stage_id, "startRowIndex": 1, "endRowIndex": len(r.rows),
                      "startColumnIndex": c0, "endColumnIndex": c1},
            "cell": {"userEnteredFormat": {"numberFormat": nf}},
            "fields": "userEnteredFormat.numberFormat",
        }}
        for c0, c1, nf in r.formats
    ]
    units = [first]
    chunk_budget = max(1, budget - _size([first.add, first.meta, formats]) - 2048)
    bounds = _chunk_bounds(r.rows.row_sizes(), 1, chunk_budget)
    for k, (a, b) in enumerate(bounds):
        unit = first if k == 0 else Unit(r.name)
        unit.cells.append({"updateCells": {"rows": r.rows[a:b], "fields": CELL_FIELDS,
                                           "start": {"sheetId": stage_id, "rowIndex": a, "columnIndex": 0}}})
        if unit is not first:
            units.append(unit)
    units[-1].cells.extend(formats)
    return units


def _switch_requests(r: Rendered, sheet_id: int, existing: Existing | None, stage_id: int) -> list[Json]:
    """The final, atomic step for one tab: size the visible tab, write its header, copy its rows from the staging
    tab (the visible tab keeps its sheet id), set its fingerprint, delete the staging tab."""
    out: list[Json] = []
    if existing is None:
        out.append({"addSheet": {"properties": {
            "sheetId": sheet_id, "title": r.name,
            "gridProperties": {"rowCount": r.n_rows, "columnCount": r.n_cols, "frozenRowCount": 1},
        }}})
    else:
        if r.n_rows < existing.rows or r.n_cols < existing.cols:
            out.append(_grid(sheet_id, min(r.n_rows, existing.rows), min(r.n_cols, existing.cols), False))
        out.append(_grid(sheet_id, r.n_rows, r.n_cols, True))
    # The header carries the notes: written here, since a paste is not documented to copy notes.
    out.append({"updateCells": {"rows": r.rows[:1], "fields": CELL_FIELDS, "range": {
        "sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": r.n_cols}}})

    def grid(sid: int) -> Json:
        return {"sheetId": sid, "startRowIndex": 1, "endRowIndex": r.n_rows, "startColumnIndex": 0,
                "endColumnIndex": r.n_cols}

    out.append({"copyPaste": {"source": grid(stage_id), "destination": grid(sheet_id),
                              "pasteType": "PASTE_NORMAL", "pasteOrientation": "NORMAL"}})
    out.append(_meta_requests(sheet_id, _meta_value(r.name, r.fingerprint), existing is None))
    out.append({"deleteSheet": {"sheetId": stage_id}})
    return out


def _staged(changed: list[tuple[Rendered, int, Existing | None]], dashboard_units: list[Unit], cleanup: list[Json],
            taken_ids: set[int], budget: int, max_request_bytes: int) -> list[Batch]:
    """The batches of a publish too large for one request: staging batches (hidden tabs only), then one switch."""
    staging: list[Unit] = []
    switch: list[Json] = []
    for r, sheet_id, existing in changed:
        stage_id = stable_id(f"staging:{r.name}", taken_ids)
        taken_ids.add(stage_id)
        staging.extend(_staging_units(r, stage_id, budget))
        switch.extend(with_scales_switched(_switch_requests(r, sheet_id, existing, stage_id), r, sheet_id, existing))
    switch.extend(req for unit in dashboard_units for req in unit.requests())
    batches = [dataclasses.replace(b, tabs=(), staging=True) for b in _pack(staging, max_request_bytes)]
    if cleanup:
        body = {"requests": cleanup + batches[0].body["requests"]}
        batches[0] = Batch(body=body, tabs=(), size=_size(body), staging=True)
    names = tuple(dict.fromkeys([r.name for r, _, _ in changed] + [u.name for u in dashboard_units]))
    body = {"requests": switch}
    final = Batch(body=body, tabs=names, size=_size(body))
    if final.size > max_request_bytes:
        raise PublishError(
            f"the final switch of {len(changed)} tabs is {final.size:,} bytes, over the {max_request_bytes:,} bytes "
            f"one request may carry: publish fewer tabs"
        )
    return [*batches, final]


class CellLimitError(LimitError):
    """The spreadsheet would pass MAX_CELLS. `staged`: counting the staging copy of a publish in several requests."""

    def __init__(self, message: str, *, staged: bool):
        super().__init__(message)
        self.staged = staged


def dashboard_cells(charts: int) -> int:
    """Grid cells of a dashboard holding `charts` charts (0 without charts)."""
    return (1 + CHART_ROWS * charts) * 10 if charts else 0


def grid_cells(rows: int, cols: int, cap: int = 0) -> int:
    """Grid cells of a tab of `rows` data rows and `cols` columns, capped at `cap` rows (0: no cap)."""
    shown = min(rows, cap) if cap else rows
    return max(2, 1 + shown) * max(1, cols)


def fit_rows(shapes: Sequence[tuple[str, int, int]], workbook: Workbook, *, staged: bool, extra_cells: int = 0,
             max_rows: int = 0) -> int | None:
    """The largest row cap with which tabs of these (name, data rows, columns) fit in MAX_CELLS, or None if none does.

    Counts the other tabs of the spreadsheet, `extra_cells` (the dashboard) and, when `staged`, the staging copy
    of every tab next to its visible grid at the larger of its old and new size (what make_plan checks).
    A cap at or above a tab's rows leaves it whole, so only the longest tabs (one row per customer, charge or
    movement) are cut. `max_rows` (the configured cap, 0 for none) is never exceeded.
    """
    owned = workbook.owned()
    names = {name for name, _, _ in shapes}
    mine = {owned[n].sheet_id for n in names if n in owned}
    others = sum(s.cells for s in workbook.sheets if s.sheet_id not in mine and not s.staging) + extra_cells

    def peak(cap: int) -> int:
        total = others
        for name, rows, cols in shapes:
            new = grid_cells(rows, cols, cap)
            old = owned[name].cells if name in owned else 0
            total += new + max(old, new) if staged else new
        return total

    longest = max((rows for _, rows, _ in shapes), default=0)
    high = min(max_rows, longest) if max_rows else longest
    if high < 1 or peak(1) > MAX_CELLS:
        return None
    low = 1
    while low < high:  # the largest cap in [1, high] that fits
        mid = (low + high + 1) // 2
        if peak(mid) <= MAX_CELLS:
            low = mid
        else:
            high = mid - 1
    return low


def make_plan(
    workbook: Workbook,
    renders: Sequence[Rendered],
    *,
    force: bool | Iterable[str] = False,
    dashboard: str = "Dashboard",
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> Plan:
    """What to send so the spreadsheet shows `renders`: tabs to add, update or leave, and the bodies.

    `force`: True rewrites every tab; a set of names rewrites those. Raises LimitError (nothing sent)
    when the workbook would pass Google's limits, PublishError when a tab we would add collides with
    a tab we don't own.
    """
    forced = set(r.name for r in renders) | {dashboard} if force is True else set(force or ())
    owned = workbook.owned()
    names = [r.name for r in renders]
    if dashboard and dashboard in names:
        raise PublishError(
            f"a tab is named {dashboard!r} like the dashboard: set [publish] dashboard_tab to another name"
        )
    titles = {s.title.casefold(): s for s in workbook.sheets}
    taken_ids = {s.sheet_id for s in workbook.sheets}
    budget = max(1024, max_request_bytes - 1024)

    tabs: list[TabPlan] = []
    units: list[Unit] = []
    sheet_ids: dict[str, int] = {}
    sizes: dict[str, int] = {}
    adds = 0
    deferred: list[tuple[int, Rendered, int, Existing]] = []  # volatile tabs to update only with a real change
    changed: list[tuple[Rendered, int, Existing | None]] = []  # what the units rewrite, for a staged publish
    def claim(name: str, remedy: str) -> tuple[Existing | None, int]:
        """Our tab of that name and its sheet id, or a new stable id for it; refuses a hand-made namesake."""
        existing = owned.get(name)
        if existing is not None:
            return existing, existing.sheet_id
        clash = titles.get(name.casefold())
        if clash is not None:
            raise PublishError(f"the spreadsheet has a tab {clash.title!r} that kpi-sync did not make; {remedy}")
        sheet_id = stable_id(f"tab:{name}", taken_ids)
        taken_ids.add(sheet_id)
        return None, sheet_id

    for r in renders:
        existing, sheet_id = claim(r.name, f"rename or delete it so kpi-sync can add its own {r.name!r} tab")
        if existing is None:
            action: Literal["add", "update", "unchanged"] = "add"
            adds += 1
        else:
            same = existing.fingerprint == r.fingerprint and (existing.rows, existing.cols) == (
                r.n_rows,
                r.n_cols,
            )
            action = "unchanged" if same and r.name not in forced else "update"
        sheet_ids[r.name] = sheet_id
        sizes[r.name] = r.cells
        title = existing.title if existing else r.name
        tabs.append(TabPlan(r.name, action, sheet_id, title, r.n_rows, r.n_cols))
        if action == "update" and r.volatile and r.name not in forced:
            assert existing is not None  # an update has an existing tab
            deferred.append((len(tabs) - 1, r, sheet_id, existing))
        elif action != "unchanged":
            units.extend(with_scales(_tab_units(r, sheet_id, existing, budget, None), r, sheet_id, existing))
            changed.append((r, sheet_id, existing))
    # A run whose only news is its own run time and history sends nothing (sheets.md: 0 writes when nothing changed).
    if units:
        for _i, r, sheet_id, existing in deferred:
            units.extend(with_scales(_tab_units(r, sheet_id, existing, budget, None), r, sheet_id, existing))
            changed.append((r, sheet_id, existing))
    else:
        for i, *_rest in deferred:
            tabs[i] = dataclasses.replace(tabs[i], action="unchanged")

    charts: list[tuple[str, Json]] = []
    for r in renders:
        for chart in r.charts:
            charts.append((f"{r.name}/{chart.title}", chart_spec(chart, r, sheet_ids[r.name])))
    if dashboard and charts:
        existing, sheet_id = claim(dashboard, "rename or delete it, or set [publish] dashboard_tab to another name")
        unit, n_rows, n_cols = _dashboard_unit(
            dashboard, charts, existing, sheet_id, workbook.chart_ids, dashboard in forced
        )
        action = "unchanged" if unit is None else ("add" if existing is None else "update")
        adds += existing is None
        sizes[dashboard] = n_rows * n_cols
        tabs.insert(
            0, TabPlan(dashboard, action, sheet_id, existing.title if existing else dashboard, n_rows, n_cols)
        )
        dashboard_units = [unit] if unit else []
    else:
        dashboard_units = []

    # Limits, on the workbook as it would be after the change (tabs we don't own included; staging tabs a stopped
    # run left are deleted by the first request, before anything grows).
    ours = {sheet_ids.get(n) for n in sizes} | {t.sheet_id for t in tabs}
    others = sum(s.cells for s in workbook.sheets if s.sheet_id not in ours and not s.staging)
    cells_after = others + sum(sizes.values())
    if len(workbook.sheets) + adds > MAX_TABS:
        first_new = next(t.name for t in reversed(tabs) if t.action == "add")
        raise LimitError(
            f"adding tab {first_new!r} would make {len(workbook.sheets) + adds} tabs, over Google Sheets' limit of "
            f"{MAX_TABS}: delete unused tabs from the spreadsheet"
        )
    if cells_after > MAX_CELLS:
        biggest = max(renders, key=lambda r: r.cells) if renders else None
        which = f"; largest tab {biggest.name!r} has {biggest.cells:,} cells" if biggest else ""
        raise CellLimitError(
            f"the spreadsheet would hold {cells_after:,} cells, over Google Sheets' limit of {MAX_CELLS:,}{which} "
            f"(set [publish] max_rows_per_tab, or remove other tabs holding {others:,} cells)",
            staged=False,
        )

    # Shrinking tabs go first, so no intermediate state passes the cell limit.
    order = sorted(range(len(units)), key=lambda i: (not units[i].shrinks_workbook, i))
    batches = _pack([units[i] for i in order] + dashboard_units, max_request_bytes)
    cleanup = [{"deleteSheet": {"sheetId": s.sheet_id}} for s in workbook.sheets if s.staging]
    if len(batches) > 1:
        ordered = sorted(changed, key=lambda c: (not (c[2] is not None and c[0].cells < c[2].cells)))
        # While staging, each changed tab is there twice: its visible grid at its old size (or the new one, once
        # switched) and its staging copy.
        staged_peak = cells_after + sum(r.cells + max(0, e.cells - r.cells if e else 0) for r, _, e in changed)
        if staged_peak > MAX_CELLS:
            raise CellLimitError(
                f"publishing in several requests stages a copy of the changed tabs, and the spreadsheet would then hold "
                f"{staged_peak:,} cells, over Google Sheets' limit of {MAX_CELLS:,} (set [publish] max_rows_per_tab, "
                f"or remove other tabs)",
                staged=True,
            )
        batches = _staged(ordered, dashboard_units, cleanup, taken_ids, budget, max_request_bytes)
    elif cleanup:
        first = batches[0] if batches else None
        requests = cleanup + (first.body["requests"] if first else [])
        body = {"requests": requests}
        batches = [Batch(body=body, tabs=first.tabs if first else (), size=_size(body))]
    notes = [n for r in renders for n in r.notes]
    return Plan(workbook=workbook, tabs=tabs, batches=batches, cells_after=cells_after, notes=notes)


# ---------------------------------------------------------------- colour scales (conditional formats)
# Every rewrite of one of our tabs redraws its rules: the rules on it are deleted (a tab of ours is rewritten
# whole, as its cells are) and the declared scales added, in the same batchUpdate as its cells.


def _color(hex_rgb: str) -> Json:
    return {"red": int(hex_rgb[0:2], 16) / 255, "green": int(hex_rgb[2:4], 16) / 255,
            "blue": int(hex_rgb[4:6], 16) / 255}


def clear_scale_requests(sheet_id: int, existing: Existing | None) -> list[Json]:
    """Delete every conditional format rule of one of our tabs (none on a new tab)."""
    n = existing.conditional_formats if existing is not None else 0
    return [{"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": 0}} for _ in range(n)]


def add_scale_requests(r: Rendered, sheet_id: int) -> list[Json]:
    """The tab's colour scales (red - yellow - green, from its lowest value through the median to its highest)
    on its data rows (a partial period left out: sync.sinks.cells.complete_rows); none for a tab without data rows."""
    if len(r.rows) < 2:
        return []
    return [
        {"addConditionalFormatRule": {"index": i, "rule": {
            "ranges": [{"sheetId": sheet_id, "startRowIndex": 1 + scale.top,
                        "endRowIndex": len(r.rows) if scale.bottom < 0 else min(len(r.rows), 2 + scale.bottom),
                        "startColumnIndex": scale.first, "endColumnIndex": scale.last + 1}],
            "gradientRule": {
                "minpoint": {"color": _color(scale.low), "type": "MIN"},
                "midpoint": {"color": _color(scale.mid), "type": "PERCENTILE", "value": "50"},
                "maxpoint": {"color": _color(scale.high), "type": "MAX"},
            },
        }}}
        for i, scale in enumerate(r.scales)
    ]


def with_scales(units: list[Unit], r: Rendered, sheet_id: int, existing: Existing | None) -> list[Unit]:
    """A tab's units with its colour scales redrawn by its last one (a tab's units share one batch unless the
    publish is staged, where with_scales_switched applies)."""
    units[-1].cells.extend(clear_scale_requests(sheet_id, existing) + add_scale_requests(r, sheet_id))
    return units


def with_scales_switched(switch: list[Json], r: Rendered, sheet_id: int, existing: Existing | None) -> list[Json]:
    """A tab's switch requests with its old rules deleted first and its scales added after its rows are copied in."""
    return clear_scale_requests(sheet_id, existing) + switch + add_scale_requests(r, sheet_id)
