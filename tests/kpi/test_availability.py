"""Availability (metrics.md 9) computed by hand on a small July 2025 fixture.

July 2025: 31 days, 23 weekdays, Monday the 14th is a French public holiday, so 22 working days.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from kpi.availability import (
    TABS,
    HRData,
    active_employees,
    availability_by_employee,
    availability_grid,
    availability_table,
    day_label,
    empty_frame,
    half_days,
    is_remote_work,
)
from kpi.params import AvailabilityParams, Params
from kpi.tables import TAB_MODULES, Context, build_table
from sync.sinks.cells import table_rows

JULY = pd.Timestamp("2025-07-01")


def employees() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": ["1", "2", "3", "4", "5"],
            "name": ["Alice Martin", "Bruno Petit", "Chloé Durand", "Denis Roy", "Eve Old"],
            "department": ["Engineering", "Sales", "Engineering", "Sales", "Sales"],
            "legal_entity": ["Acme SAS"] * 5,
            # Chloé starts on Wednesday the 16th, Bruno leaves after Tuesday the 15th, Eve left in June
            "contract_start": pd.to_datetime(["2020-01-01", "2019-09-16", "2025-07-16", None, "2018-01-01"]),
            "contract_end": pd.to_datetime([None, "2025-07-15", None, None, "2025-06-30"]),
        }
    )


def leaves(rows: list[tuple[str, str, str, str, bool]]) -> pd.DataFrame:
    if not rows:
        return empty_frame(("employee_id", "date", "half", "account", "confirmed"))
    frame = pd.DataFrame(rows, columns=["employee_id", "date", "half", "account", "confirmed"])
    return frame.assign(date=pd.to_datetime(frame["date"]))


HOLIDAYS = pd.DataFrame({"date": pd.to_datetime(["2025-07-14"]), "name": ["National Day"]})


def hr(leave_rows: list[tuple[str, str, str, str, bool]], userdates: pd.DataFrame | None = None) -> HRData:
    return HRData(
        month=JULY,
        employees=employees(),
        leaves=leaves(leave_rows),
        userdates=userdates,
        holidays=HOLIDAYS,
        working_days_source="calendar" if userdates is None else "userdates",
    )


def row(frame: pd.DataFrame, employee_id: str) -> pd.Series:
    return frame.loc[frame["employee_id"] == employee_id].iloc[0]


def test_active_employees_overlap_the_month() -> None:
    """An employee is active when the contract overlaps the month; a missing start counts as always."""
    assert active_employees(employees(), JULY)["employee_id"].tolist() == ["1", "2", "3", "4"]


def test_working_days_are_weekdays_minus_holidays_within_the_contract() -> None:
    """22 working days for a full month; a mid-month start or end counts only the contract days."""
    out = availability_by_employee(hr([]), AvailabilityParams())
    assert row(out, "1")["working_days"] == 22
    assert row(out, "3")["working_days"] == 12  # 16th-31st: 12 weekdays
    assert row(out, "2")["working_days"] == 10  # 1st-15th: 11 weekdays minus the 14th
    assert row(out, "4")["availability"] == 1.0


def test_full_day_and_half_day() -> None:
    """AM + PM on one day is one absence day; a single PM is half a day."""
    data = hr(
        [
            ("1", "2025-07-07", "AM", "CP", True),
            ("1", "2025-07-07", "PM", "CP", True),
            ("1", "2025-07-11", "PM", "RTT", True),
        ]
    )
    alice = row(availability_by_employee(data, AvailabilityParams()), "1")
    assert (alice["absence_days"], alice["available_days"]) == (1.5, 20.5)
    assert alice["availability"] == pytest.approx(20.5 / 22)


def test_duplicate_leaves_count_once() -> None:
    """The same half-day twice (two items for one half) is one half-day of absence."""
    data = hr([("1", "2025-07-08", "AM", "CP", True), ("1", "2025-07-08", "AM", "CP", True)])
    assert row(availability_by_employee(data, AvailabilityParams()), "1")["absence_days"] == 0.5


def test_leaves_on_weekends_holidays_and_outside_the_contract_are_not_counted() -> None:
    """A leave on Saturday, on the 14 July holiday, or after the contract's end is not an absence."""
    data = hr(
        [
            ("1", "2025-07-05", "AM", "CP", True),
            ("1", "2025-07-14", "AM", "CP", True),
            ("1", "2025-07-14", "PM", "CP", True),
            ("2", "2025-07-21", "AM", "CP", True),
        ]
    )
    out = availability_by_employee(data, AvailabilityParams())
    assert row(out, "1")["absence_days"] == 0
    assert row(out, "2")["absence_days"] == 0


def test_pending_leaves_follow_the_setting() -> None:
    """A pending leave is ignored by default and counted with count_pending."""
    data = hr([("1", "2025-07-08", "AM", "CP", False)])
    assert row(availability_by_employee(data, AvailabilityParams()), "1")["absence_days"] == 0
    assert (
        row(availability_by_employee(data, AvailabilityParams(count_pending=True)), "1")["absence_days"]
        == 0.5
    )


def test_remote_work_is_not_an_absence() -> None:
    """A leave on a "Télétravail" account (any case, with or without accents) leaves the person available."""
    data = hr(
        [("1", "2025-07-08", "AM", "TELETRAVAIL", True), ("1", "2025-07-09", "AM", "Télétravail", True)]
    )
    assert row(availability_by_employee(data, AvailabilityParams()), "1")["absence_days"] == 0
    names = pd.Series(["Télétravail exceptionnel", "Congés payés", None])
    assert is_remote_work(names, ("teletravail",)).tolist() == [True, False, False]


def test_userdates_schedule_replaces_the_calendar() -> None:
    """With userdates, a part-timer off on Wednesday afternoons works 22 - 5 x 0.5 days; a leave on that half is not counted."""
    halves = half_days(hr([]), AvailabilityParams())
    schedule = halves.loc[halves["employee_id"] == "1", ["employee_id", "date", "half", "working"]]
    wednesday_pm = (schedule["date"].dt.day_of_week == 2) & (schedule["half"] == "PM")
    schedule = schedule.assign(working=schedule["working"] & ~wednesday_pm)
    data = hr(
        [("1", "2025-07-09", "PM", "CP", True), ("1", "2025-07-10", "AM", "CP", True)], userdates=schedule
    )
    out = availability_by_employee(data, AvailabilityParams())
    alice = row(out, "1")
    assert (alice["working_days"], alice["absence_days"], alice["source"]) == (19.5, 0.5, "Lucca schedule")
    # employees without any userdate fall back to the calendar
    assert (row(out, "4")["working_days"], row(out, "4")["source"]) == (22, "calendar FR")


def test_availability_tab_has_department_totals() -> None:
    """Each department is followed by its total row, then one total for all; totals have no employee id."""
    data = hr([("1", "2025-07-07", "AM", "CP", True), ("1", "2025-07-07", "PM", "CP", True)])
    tab = availability_table(data, AvailabilityParams())
    assert tab["Name"].tolist() == [
        "Alice Martin",
        "Chloé Durand",
        "Total Engineering",
        "Bruno Petit",
        "Denis Roy",
        "Total Sales",
        "Total, all departments",
    ]
    eng = tab.loc[tab["Name"] == "Total Engineering"].iloc[0]
    assert pd.isna(eng["Employee id"]) and pd.isna(eng["Legal entity"])
    assert (eng["Department"], eng["Working days"], eng["Absence days"], eng["Available days"]) == (
        "Engineering",
        34,
        1,
        33,
    )
    assert eng["Availability %"] == pytest.approx(33 / 34)
    everyone = tab.iloc[-1]
    assert everyone["Working days"] == 22 + 12 + 10 + 22
    assert (tab["Month"] == JULY).all()


def test_grid_cells_and_headers() -> None:
    """Grid cells are 1, 0.5 or 0 on working days and empty on days off; headers mark weekends and holidays."""
    data = hr(
        [
            ("1", "2025-07-07", "AM", "CP", True),
            ("1", "2025-07-07", "PM", "CP", True),
            ("1", "2025-07-11", "PM", "RTT", True),
        ]
    )
    grid = availability_grid(data, AvailabilityParams())
    alice = grid.loc[grid["Employee id"] == "1"].iloc[0]
    assert (alice["Mo 07"], alice["Fr 11"], alice["Tu 08"]) == (0.0, 0.5, 1.0)
    assert math.isnan(alice["Sa 05"]) and math.isnan(alice["Mo 14 holiday"])
    chloe = grid.loc[grid["Employee id"] == "3"].iloc[0]
    assert math.isnan(chloe["Tu 15"]) and chloe["We 16"] == 1.0
    assert alice["Available days"] == 20.5
    total = grid.iloc[-1]
    assert total["Name"] == "Total" and total["Tu 08"] == 3.0 and math.isnan(total["Su 06"])
    assert len(grid.columns) == 4 + 31


def test_day_label() -> None:
    """Day headers read "Tu 01", "Sa 05", and "Mo 14 holiday" on a public holiday."""
    assert day_label(pd.Timestamp("2025-07-01"), False) == "Tu 01"
    assert day_label(pd.Timestamp("2025-07-05"), False) == "Sa 05"
    assert day_label(pd.Timestamp("2025-07-14"), True) == "Mo 14 holiday"


def test_no_working_day_gives_an_empty_percentage() -> None:
    """An employee with no working day in the month has an empty availability, not 0 or an error."""
    emp = (
        employees()
        .iloc[[0]]
        .assign(contract_start=pd.Timestamp("2025-07-26"), contract_end=pd.Timestamp("2025-07-27"))
    )
    data = HRData(JULY, emp, leaves([]), None, HOLIDAYS, "calendar")
    out = availability_by_employee(data, AvailabilityParams())
    assert out["working_days"].tolist() == [0] and math.isnan(out["availability"].iloc[0])


def test_tabs_build_through_the_declarations() -> None:
    """Both tabs are declared, their module is published before Data quality, and they build with their columns."""
    assert TAB_MODULES.index("kpi.availability") < TAB_MODULES.index("kpi.quality")
    data = hr([("1", "2025-07-07", "AM", "CP", True)])
    ctx = Context(
        dataset="payments",
        as_of=pd.Timestamp("2025-06-15", tz="UTC"),
        params=Params(),
        schedule=pd.DataFrame(),
        customers=pd.DataFrame(),
        hr=data,
    )
    tabs = {t.name: t for t in TABS}
    table = build_table(tabs["Availability"], ctx)
    assert len(table.frame) == 7
    grid = build_table(tabs["Availability grid"], ctx)
    assert [c.name for c in grid.columns[:5]] == [
        "Month",
        "Employee id",
        "Name",
        "Department",
        "Available days",
    ]
    assert {c.kind for c in grid.columns[5:]} == {"number"} and len(grid.columns) == 5 + 31
    # typed cells: empty cells for total-row ids and days off, numbers for days
    cells = table_rows(table)
    assert cells[2][:3] == [dt.date(2025, 7, 1), None, "Total Engineering"]
    alice = table_rows(grid)[0]
    assert alice[1] == "1" and alice[5] == 1.0 and alice[5 + 4] is None  # Tu 01 worked, Sa 05 off


def test_tabs_are_skipped_without_hr_data() -> None:
    """Without HR data the tabs are skipped with the reason the run gave."""
    ctx = Context(
        dataset="payments",
        as_of=pd.Timestamp("2025-06-15", tz="UTC"),
        params=Params(),
        schedule=pd.DataFrame(),
        customers=pd.DataFrame(),
        unavailable=(("hr", "Lucca is not configured"),),
    )
    tabs = {t.name: t for t in TABS}
    assert ctx.skip_reason(tabs["Availability"]) == "Lucca is not configured"
    assert ctx.skip_reason(tabs["Availability grid"]) == "Lucca is not configured"


def test_empty_month() -> None:
    """No active employee gives empty tabs with the declared columns."""
    data = HRData(
        JULY,
        empty_frame(("employee_id", "name", "department", "legal_entity", "contract_start", "contract_end")),
        leaves([]),
        None,
        HOLIDAYS,
        "calendar",
    )
    assert availability_table(data, AvailabilityParams()).empty
    assert availability_grid(data, AvailabilityParams()).empty
