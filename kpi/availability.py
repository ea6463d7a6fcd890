"""Staff availability for one month, from HR data (metrics.md 9). Pure: frames in, frames out.

`HRData` is what sync/sources/lucca.py reads from the Lucca API; this module never talks to it.
Its frames (all days are tz-naive calendar days):

    employees   employee_id str, name str, department str, legal_entity str,
                contract_start datetime64 (NaT = unknown, taken as "always"),
                contract_end datetime64 (last day of the contract, included; NaT = open-ended)
    leaves      employee_id str, date datetime64, half "AM" | "PM", account str (leave type name),
                confirmed bool (False = pending approval)
    userdates   employee_id str, date datetime64, half "AM" | "PM", working bool
                (the employee's own schedule, from Lucca); None when it could not be read
    holidays    date datetime64, name str: the public holidays of the configured calendar in the month

The numbers, per employee active in the month (contract overlaps it):
    working half-days  = half-days the schedule says are worked (userdates), or, without a schedule,
                         Monday-Friday minus public holidays; never outside the contract dates
    absent half-days   = working half-days with a leave (deduplicated by employee, date and half;
                         pending leaves only if `count_pending`; remote-work accounts never)
    working days = working half-days / 2, absence days = absent half-days / 2,
    available days = working - absence, availability = available / working (empty when 0 working days).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from kpi.params import AvailabilityParams
from kpi.tables import Column, Context, Tab

EMPLOYEE_COLUMNS = ("employee_id", "name", "department", "legal_entity", "contract_start", "contract_end")
LEAVE_COLUMNS = ("employee_id", "date", "half", "account", "confirmed")
USERDATE_COLUMNS = ("employee_id", "date", "half", "working")
HOLIDAY_COLUMNS = ("date", "name")
HALVES = ("AM", "PM")
SCHEDULE_SOURCE = "Lucca schedule"


@dataclass(frozen=True)
class HRData:
    """One month of HR data as read from the HR API (see the module docstring for the frames).

    `working_days_source` says where working days came from: "userdates" (the employees' Lucca
    schedules) or "calendar" (weekdays minus the public holidays of `calendar`, e.g. "FR").
    """

    month: pd.Timestamp
    employees: pd.DataFrame
    leaves: pd.DataFrame
    userdates: pd.DataFrame | None
    holidays: pd.DataFrame
    working_days_source: Literal["userdates", "calendar"]
    calendar: str = "FR"
    requests: int = 0


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with these columns and no rows (days as datetime64, flags as bool, the rest text)."""
    kinds = {
        "date": "datetime64[ns]",
        "contract_start": "datetime64[ns]",
        "contract_end": "datetime64[ns]",
        "confirmed": "bool",
        "working": "bool",
    }
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, "object")) for c in columns})


def month_start(month: pd.Timestamp) -> pd.Timestamp:
    """The first day of the month holding `month`, tz-naive."""
    ts = pd.Timestamp(month)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.to_period("M").to_timestamp()


def month_days(month: pd.Timestamp) -> pd.DatetimeIndex:
    """Every calendar day of the month, as tz-naive midnight timestamps."""
    start = month_start(month)
    return pd.date_range(start, start + pd.offsets.MonthEnd(0), freq="D").astype("datetime64[ns]")


def _days(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[ns]").dt.normalize()


def active_employees(employees: pd.DataFrame, month: pd.Timestamp) -> pd.DataFrame:
    """The employees whose contract overlaps the month: start <= last day and (no end or end >= first day)."""
    days = month_days(month)
    start = _days(employees["contract_start"])
    end = _days(employees["contract_end"])
    active = (start.isna() | (start <= days[-1])) & (end.isna() | (end >= days[0]))
    return (
        employees.loc[active]
        .assign(contract_start=start[active], contract_end=end[active])
        .reset_index(drop=True)
    )


def _fold(text: str) -> str:
    """Lower case without accents, so "Télétravail" matches "teletravail"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def is_remote_work(accounts: pd.Series, patterns: tuple[str, ...]) -> pd.Series:
    """True where a leave account's name contains one of the remote-work patterns (accent and case blind)."""
    folded = [p for p in (_fold(p) for p in patterns) if p]
    names = accounts.fillna("").astype(str).map(_fold)
    if not folded:
        return pd.Series(False, index=accounts.index)
    return names.map(lambda name: any(p in name for p in folded)).astype(bool)


def counted_leaves(leaves: pd.DataFrame, params: AvailabilityParams) -> pd.DataFrame:
    """The leaves that make a half-day absent: one row per (employee_id, date, half).

    Pending leaves count only with `count_pending`; remote-work accounts never count.
    """
    if leaves.empty:
        return empty_frame(("employee_id", "date", "half"))
    keep = ~is_remote_work(leaves["account"], params.remote_work_accounts)
    if not params.count_pending:
        keep &= leaves["confirmed"].astype(bool)
    return (
        leaves.loc[keep, ["employee_id", "date", "half"]]
        .assign(employee_id=lambda f: f["employee_id"].astype(str), date=lambda f: _days(f["date"]))
        .drop_duplicates()
        .reset_index(drop=True)
    )


def half_days(hr: HRData, params: AvailabilityParams) -> pd.DataFrame:
    """Grain: one row per active employee, day of the month and half-day (AM, PM).

    Columns: employee_id, date, half, working (bool), absent (bool), source (where `working` came from).
    """
    employees = active_employees(hr.employees, hr.month)
    keys = ["employee_id", "date", "half"]
    grid = (
        employees[["employee_id", "contract_start", "contract_end"]]
        .assign(employee_id=lambda f: f["employee_id"].astype(str))
        .merge(pd.DataFrame({"date": month_days(hr.month)}), how="cross")
        .merge(pd.DataFrame({"half": list(HALVES)}), how="cross")
    )
    in_contract = (grid["contract_start"].isna() | (grid["date"] >= grid["contract_start"])) & (
        grid["contract_end"].isna() | (grid["date"] <= grid["contract_end"])
    )
    holidays = _days(hr.holidays["date"]) if len(hr.holidays) else pd.Series([], dtype="datetime64[ns]")
    calendar = ((grid["date"].dt.day_of_week < 5) & ~grid["date"].isin(holidays)).to_numpy()
    index = pd.MultiIndex.from_frame(grid[keys])

    scheduled = np.zeros(len(grid), dtype=bool)
    has_schedule = np.zeros(len(grid), dtype=bool)
    if hr.userdates is not None and len(hr.userdates):
        ud = hr.userdates.assign(
            employee_id=lambda f: f["employee_id"].astype(str), date=lambda f: _days(f["date"])
        )
        worked = ud.loc[ud["working"].astype(bool), keys]
        scheduled = index.isin(pd.MultiIndex.from_frame(worked)) if len(worked) else scheduled
        has_schedule = grid["employee_id"].isin(ud["employee_id"]).to_numpy()
    working = np.where(has_schedule, scheduled, calendar) & in_contract.to_numpy()

    leaves = counted_leaves(hr.leaves, params)
    on_leave = (
        index.isin(pd.MultiIndex.from_frame(leaves[keys])) if len(leaves) else np.zeros(len(grid), dtype=bool)
    )
    return pd.DataFrame(
        {
            "employee_id": grid["employee_id"],
            "date": grid["date"],
            "half": grid["half"],
            "working": working,
            "absent": working & on_leave,
            "source": np.where(has_schedule, SCHEDULE_SOURCE, f"calendar {hr.calendar}"),
        }
    )


def availability_by_employee(hr: HRData, params: AvailabilityParams) -> pd.DataFrame:
    """Grain: one row per employee active in the month, ordered by department then name.

    Columns: employee_id, name, department, legal_entity, working_days, absence_days,
    available_days, availability (fraction; NaN when no working day), source.
    """
    employees = active_employees(hr.employees, hr.month).assign(
        employee_id=lambda f: f["employee_id"].astype(str)
    )
    halves = half_days(hr, params)
    sums = halves.groupby("employee_id", sort=False).agg(
        working=("working", "sum"), absent=("absent", "sum"), source=("source", "first")
    )
    out = employees[["employee_id", "name", "department", "legal_entity"]].merge(
        sums, left_on="employee_id", right_index=True, how="left"
    )
    working = out["working"].fillna(0).astype(float) / 2
    absence = out["absent"].fillna(0).astype(float) / 2
    return (
        out.assign(
            working_days=working,
            absence_days=absence,
            available_days=working - absence,
            availability=(working - absence) / working.where(working > 0),
            department=out["department"].fillna("").astype(str),
            legal_entity=out["legal_entity"].fillna("").astype(str),
            name=out["name"].fillna("").astype(str),
        )
        .drop(columns=["working", "absent"])
        .sort_values(["department", "name", "employee_id"], key=lambda s: s.str.casefold(), kind="stable")
        .reset_index(drop=True)
    )


def day_label(day: pd.Timestamp, holiday: bool) -> str:
    """A grid column header: "Mo 01"; weekends read "Sa 06"; public holidays "Fr 15 holiday"."""
    label = f"{day.day_name()[:2]} {day.day:02d}"
    return f"{label} holiday" if holiday else label


def availability_grid(hr: HRData, params: AvailabilityParams) -> pd.DataFrame:
    """Grain: one row per active employee, then a "Total" row; one column per day of the month.

    Columns: employee_id, name, department, available_days, then one column per day labelled by
    `day_label`. A day cell is the share of the day available: 1, 0.5 or 0 on days with at least one
    working half-day, empty (NaN) on days off (weekend, public holiday, outside the contract).
    The "Total" row sums each day: staff available that day, in days.
    """
    people = availability_by_employee(hr, params)
    halves = half_days(hr, params)
    days = month_days(hr.month)
    holiday_days = set(_days(hr.holidays["date"])) if len(hr.holidays) else set()
    labels = [day_label(d, d in holiday_days) for d in days]

    per_day = (
        halves.assign(free=halves["working"] & ~halves["absent"])
        .groupby(["employee_id", "date"], sort=False)
        .agg(working=("working", "sum"), free=("free", "sum"))
    )
    cells = (per_day["free"] / 2).where(per_day["working"] > 0)
    wide = cells.unstack("date").reindex(columns=days)
    wide.columns = labels
    body = people[["employee_id", "name", "department", "available_days"]].merge(
        wide, left_on="employee_id", right_index=True, how="left"
    )
    if body.empty:
        return body.set_axis(["Employee id", "Name", "Department", "Available days", *labels], axis=1)
    total = {
        "employee_id": None,
        "name": "Total",
        "department": None,
        "available_days": body["available_days"].sum(),
    }
    total.update({label: body[label].sum(min_count=1) for label in labels})
    body = pd.concat([body, pd.DataFrame([total])], ignore_index=True)
    return body.set_axis(["Employee id", "Name", "Department", "Available days", *labels], axis=1)


def _hr(ctx: Context) -> HRData:
    if not isinstance(ctx.hr, HRData):
        raise TypeError("the availability tabs need HRData in Context.hr")
    return ctx.hr


def availability_table(hr: HRData, params: AvailabilityParams) -> pd.DataFrame:
    """The "Availability" tab: employees grouped by department, each group followed by a
    "Total <department>" row, then a "Total, all departments" row. Total rows have no employee id.
    """
    people = availability_by_employee(hr, params)
    month = month_start(hr.month)
    numbers = ["working_days", "absence_days", "available_days"]

    def total(rows: pd.DataFrame, name: str, department: str | None) -> dict[str, object]:
        sums = {c: float(rows[c].sum()) for c in numbers}
        ratio = sums["available_days"] / sums["working_days"] if sums["working_days"] > 0 else np.nan
        return {
            "employee_id": None,
            "name": name,
            "department": department,
            "legal_entity": None,
            **sums,
            "availability": ratio,
            "source": None,
        }

    blocks: list[pd.DataFrame] = []
    for department, rows in people.groupby("department", sort=False):
        label = str(department) or "(no department)"
        blocks.extend([rows, pd.DataFrame([total(rows, f"Total {label}", str(department))])])
    if len(people):
        blocks.append(pd.DataFrame([total(people, "Total, all departments", None)]))
    columns = ["employee_id", "name", "department", "legal_entity", *numbers, "availability", "source"]
    body = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=columns)
    return (
        body[columns]
        .assign(month=month)
        .loc[:, ["month", *columns]]
        .set_axis([c.name for c in AVAILABILITY_COLUMNS], axis=1)
        .reset_index(drop=True)
    )


def _build_availability(ctx: Context) -> pd.DataFrame:
    return availability_table(_hr(ctx), ctx.params.availability)


def _build_grid(ctx: Context) -> pd.DataFrame:
    hr = _hr(ctx)
    grid = availability_grid(hr, ctx.params.availability)
    return grid.assign(Month=month_start(hr.month)).loc[:, ["Month", *grid.columns]]


AVAILABILITY_COLUMNS = (
    Column("Month", "month", "The month the numbers are for (next month unless configured)."),
    Column("Employee id", "text", "Lucca user id; empty on total rows."),
    Column("Name", "text", 'First and last name; total rows read "Total <department>".'),
    Column("Department", "text", "Department in Lucca."),
    Column("Legal entity", "text", "Legal entity (employer) in Lucca."),
    Column(
        "Working days", "number", "Days the employee is expected to work in the month, in half-day steps."
    ),
    Column("Absence days", "number", "Working half-days covered by an approved leave, / 2."),
    Column("Available days", "number", "Working days - absence days."),
    Column("Availability %", "percent", "Available days / working days; empty when there is no working day."),
    Column(
        "Working days from",
        "text",
        '"Lucca schedule" (the employee\'s work cycle) or "calendar XX" '
        "(weekdays minus public holidays of country XX).",
    ),
)

GRID_COLUMNS = (
    Column("Month", "month", "The month of the grid."),
    Column("Employee id", "text", "Lucca user id; empty on the Total row."),
    Column("Name", "text", "First and last name."),
    Column("Department", "text", "Department in Lucca."),
    Column("Available days", "number", "Sum of the day columns."),
)

TABS: list[Tab] = [
    Tab(
        name="Availability",
        description=(
            "Next month's staff availability from Lucca: per employee active in the month, working days, "
            "days on approved leave and days available; a total row after each department and one for all."
        ),
        columns=AVAILABILITY_COLUMNS,
        build=_build_availability,
        requires=("hr",),
    ),
    Tab(
        name="Availability grid",
        description=(
            "One row per employee, one column per day of the month: 1 available, 0.5 half a day, 0 absent; "
            'an empty cell is a day off (weekend "Sa"/"Su", public holiday "holiday", outside the contract).'
        ),
        columns=GRID_COLUMNS,
        build=_build_grid,
        requires=("hr",),
        wide_kind="number",
    ),
]
