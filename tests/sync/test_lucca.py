"""The Lucca client and load_hr_data against an HTTP fake of the API (tests/fakes/lucca.py).

The real requests stack runs; only the network is replaced. Month under test: July 2025
(23 weekdays, Monday 14 July is a French public holiday: 22 working days).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import responses

from kpi.availability import availability_by_employee
from kpi.params import AvailabilityParams
from sync.errors import ConfigError, SourceAPIError
from sync.retry import RetryPolicy
from sync.settings import Settings, load_settings
from sync.sources.lucca import (
    LuccaClient,
    load_hr_data,
    parse_leaves,
    parse_users,
    resolve_month,
)
from tests.fakes.lucca import API_KEY, BASE_URL, FakeLucca

NOW = pd.Timestamp("2025-06-15 08:00", tz="UTC")  # next month: July 2025
JULY = (dt.date(2025, 7, 1), dt.date(2025, 7, 31))


def settings(tmp_path: Path, availability: str = "", *, key: str = API_KEY, base: str = BASE_URL) -> Settings:
    config = tmp_path / "kpi.toml"
    config.write_text(f"[availability]\n{availability}\n", encoding="utf-8")
    return load_settings(config, {"LUCCA_BASE_URL": base, "LUCCA_API_KEY": key})


@pytest.fixture
def fake() -> FakeLucca:
    lucca = FakeLucca(holidays={dt.date(2025, 7, 14)})
    lucca.add_user(101, "Alice", "Martin", "2022-03-01")
    lucca.add_user(102, "Bruno", "Petit", "2019-09-16", "2025-07-15", department="Sales")  # leaves mid-month
    lucca.add_user(103, "Chloé", "Durand", "2025-07-16")  # starts mid-month
    lucca.add_user(104, "Eve", "Old", "2018-01-01", "2025-05-31", department="Sales")  # gone before July
    lucca.add_user(105, "Farid", "Later", "2025-08-01")  # starts after July
    return lucca


@pytest.fixture
def rsps(fake: FakeLucca):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.register(mock)
        yield mock


class Sleeps(list):
    """Records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def load(tmp_path: Path, availability: str = "", month: str | None = None, **kw) -> tuple[object, Sleeps]:
    sleeps = Sleeps()
    hr = load_hr_data(settings(tmp_path, availability, **kw), NOW, month, sleep=sleeps)
    return hr, sleeps


def per_employee(hr, params: AvailabilityParams | None = None) -> dict[str, tuple[float, float]]:
    out = availability_by_employee(hr, params or AvailabilityParams())
    return {r.employee_id: (r.working_days, r.absence_days) for r in out.itertuples()}


# --- the happy path -------------------------------------------------------------------------------


def test_loads_next_month_with_schedules(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """By default the month after the run date is loaded; employees are filtered by contract dates."""
    fake.add_leave(101, "2025-07-07")  # a full day: AM + PM
    fake.add_leave(101, "2025-07-11", "PM", account="RTT", am_key="isAM", with_time=True)  # a half day
    hr, sleeps = load(tmp_path)
    assert hr.month == pd.Timestamp("2025-07-01")
    assert hr.working_days_source == "userdates"
    assert hr.employees["employee_id"].tolist() == ["101", "102", "103"]
    assert per_employee(hr) == {"101": (22, 1.5), "102": (10, 0), "103": (12, 0)}
    assert hr.employees.set_index("employee_id").loc["102", "department"] == "Sales"
    assert sleeps == []
    assert hr.requests == 3  # users, leaves, userdates


def test_every_call_carries_auth_fields_and_paging(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """Each request has the key header, Accept JSON, explicit fields and paging; users include former employees."""
    load(tmp_path)
    for call in rsps.calls:
        assert call.request.headers["Authorization"] == f"lucca application={API_KEY}"
        assert call.request.headers["Accept"] == "application/json"
    for path, params in fake.calls:
        assert params["fields"] and params["paging"] == "0,1000", path
    assert fake.calls_to("/api/v3/users")[0]["formerEmployees"] == "true"
    leaves = fake.calls_to("/api/v3/leaves")[0]
    assert leaves["date"] == "between,2025-07-01,2025-07-31"
    assert leaves["leavePeriod.ownerId"] == "101,102,103" and leaves["isActive"] == "true"


def test_more_than_1000_leaves_across_pages(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """2,520 half-days of leave come back in three pages, all counted."""
    for uid in range(200, 260):  # 60 people on leave every weekday but the 14th and 31st
        fake.add_user(uid, f"P{uid}", "Busy", "2020-01-01")
        for day in pd.bdate_range("2025-07-01", "2025-07-30"):
            if day.day != 14:
                fake.add_leave(uid, f"{day:%Y-%m-%d}")
    hr, _ = load(tmp_path)
    assert len(hr.leaves) == 60 * 21 * 2
    assert [p["paging"] for p in fake.calls_to("/api/v3/leaves")] == ["0,1000", "1000,1000", "2000,1000"]
    assert per_employee(hr)["230"] == (22, 21)


def test_a_full_last_page_asks_once_more(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """Exactly 1,000 items: the client asks for the next page and stops on the empty one."""
    for uid in range(1000, 1997):
        fake.add_user(uid, f"P{uid}", "X", "2020-01-01", "2020-12-31")  # 997 + 3 = 1000 users
    hr, _ = load(tmp_path)
    assert [p["paging"] for p in fake.calls_to("/api/v3/users")] == ["0,1000", "1000,1000"]
    assert len(hr.employees) == 3


def test_owner_ids_are_batched(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """250 active employees: leaves in 3 calls of at most 100 owners, userdates in 10-owner calls."""
    for uid in range(300, 547):
        fake.add_user(uid, f"P{uid}", "X", "2020-01-01")
    hr, _ = load(tmp_path)
    owners = [p["leavePeriod.ownerId"].split(",") for p in fake.calls_to("/api/v3/leaves")]
    assert [len(o) for o in owners] == [100, 100, 50]
    assert len(fake.calls_to("/api/v3/userdates")) == 25
    assert hr.requests == 1 + 3 + 25


def test_leaves_on_weekend_holiday_and_outside_contract_are_not_counted(
    tmp_path: Path, fake: FakeLucca, rsps
) -> None:
    """A leave on a Saturday, on 14 July, or after a contract's end does not reduce availability."""
    fake.add_leave(101, "2025-07-05")
    fake.add_leave(101, "2025-07-14")
    fake.add_leave(102, "2025-07-21")
    fake.add_leave(103, "2025-07-10")  # before Chloé starts
    hr, _ = load(tmp_path)
    assert per_employee(hr) == {"101": (22, 0), "102": (10, 0), "103": (12, 0)}


def test_pending_and_remote_work_leaves(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """Pending leaves count only with count_pending; a Télétravail account never counts."""
    fake.add_leave(101, "2025-07-08", "AM", confirmed=False)
    fake.add_leave(101, "2025-07-09", account="Télétravail")
    hr, _ = load(tmp_path)
    assert per_employee(hr)["101"] == (22, 0)
    counted = load_settings(_config(tmp_path, "count_pending = true"), {}).params.availability
    assert counted.count_pending and per_employee(hr, counted)["101"] == (22, 0.5)


def _config(tmp_path: Path, availability: str) -> Path:
    path = tmp_path / "other.toml"
    path.write_text(f"[availability]\n{availability}\n", encoding="utf-8")
    return path


def test_tolerant_parsing_of_leaves() -> None:
    """isAM or isAm, dates with T00:00:00, unknown keys, inactive items and duplicates are all handled."""
    items = [
        {
            "id": "1-20250707-AM",
            "date": "2025-07-07T00:00:00",
            "isAM": True,
            "extra": {"x": 1},
            "leavePeriod": {"ownerId": 7, "isConfirmed": True},
            "leaveAccount": {"name": "CP"},
        },
        {"id": "1-20250707-PM", "date": "2025-07-07", "isAm": False, "leavePeriod": {"ownerID": 7}},
        {
            "id": "2-20250707-PM",
            "date": "2025-07-07",
            "isAm": False,
            "leavePeriod": {"ownerId": 7, "isConfirmed": False},
        },
        {"id": "3-20250708-PM", "date": "2025-07-08", "leavePeriod": {"ownerId": 7}},  # half from the id
        {"id": "4", "date": "2025-07-09", "isAm": True, "isActive": False, "leavePeriod": {"ownerId": 7}},
        {"id": "5", "date": "2025-08-01", "isAm": True, "leavePeriod": {"ownerId": 7}},  # outside the month
    ]
    out = parse_leaves(items, *JULY)
    assert list(zip(out["date"].dt.day, out["half"], out["confirmed"], strict=True)) == [
        (7, "AM", True),
        (7, "PM", True),
        (8, "PM", True),
    ]
    assert out["employee_id"].unique().tolist() == ["7"]


def test_tolerant_parsing_of_users() -> None:
    """Users without names, departments or an end date still parse; names fall back to `name`."""
    out = parse_users([{"id": 1, "name": "Zoe Z", "dtContractStart": "2020-01-01", "department": None}])
    assert out.iloc[0]["name"] == "Zoe Z" and out.iloc[0]["department"] == ""
    assert pd.isna(out.iloc[0]["contract_end"])


# --- failures -------------------------------------------------------------------------------------


def test_429_with_retry_after_then_success(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """A 429 is retried after the Retry-After delay, then the run goes on."""
    fake.add_leave(101, "2025-07-07")
    fake.fail_next("/api/v3/leaves", 429, {"Message": "Too many requests"}, headers={"Retry-After": "7"})
    hr, sleeps = load(tmp_path)
    assert sleeps == [7.0]
    assert per_employee(hr)["101"] == (22, 1)
    assert len(fake.calls_to("/api/v3/leaves")) == 2


def test_5xx_retries_are_bounded(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """A server that keeps failing is tried 1 + max_retries times, then a clear error."""
    fake.fail_next("/api/v3/users", 503, "<html>Service Unavailable</html>", times=10)
    with pytest.raises(SourceAPIError, match=r"still failing after 3 attempts \(HTTP 503; 2 retries\)"):
        load(tmp_path, "max_retries = 2")
    assert len(fake.calls_to("/api/v3/users")) == 3


def test_retry_after_longer_than_allowed_fails_at_once(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """A Retry-After that would end past retry_deadline_seconds is not waited for."""
    fake.fail_next("/api/v3/users", 429, headers={"Retry-After": "3600"})
    with pytest.raises(SourceAPIError, match="asked to wait 3600s"):
        load(tmp_path)


def test_connection_errors_are_retried() -> None:
    """A dropped connection is retried like a 503."""
    policy = RetryPolicy(max_retries=1, base_seconds=0.5)
    sleeps = Sleeps()
    session = requests.Session()
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE_URL}/api/v3/users", body=requests.ConnectionError("reset"))
        mock.get(f"{BASE_URL}/api/v3/users", json={"data": {"items": []}})
        client = LuccaClient(BASE_URL, API_KEY, retry=policy, session=session, sleep=sleeps)
        assert client.users() == []
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.5


def test_401_names_the_key_setting_never_the_key(tmp_path: Path, fake: FakeLucca, rsps, caplog) -> None:
    """A wrong key fails with a message naming LUCCA_API_KEY and never the key itself."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceAPIError) as err:
        load(tmp_path, key="wrong-key-123")
    message = str(err.value)
    assert "401" in message and "check LUCCA_API_KEY" in message and "unknown API key" in message
    assert "wrong-key-123" not in message and "wrong-key-123" not in caplog.text


def test_error_bodies_echoing_the_key_are_redacted(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """An error body that quotes the key has it masked in the message."""
    fake.fail_next("/api/v3/users", 400, {"Message": f"bad request for application={API_KEY}"})
    with pytest.raises(SourceAPIError) as err:
        load(tmp_path)
    assert API_KEY not in str(err.value) and "***" in str(err.value)


def test_403_on_users_says_which_rights(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """A key without rights on the directory gets a message naming the missing rights."""
    fake.fail_next("/api/v3/users", 403, "Forbidden")
    with pytest.raises(SourceAPIError, match=r"role may not read the user directory .*403"):
        load(tmp_path)


def test_404_points_at_the_base_url(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """A 404 with an HTML body says to check LUCCA_BASE_URL."""
    fake.fail_next("/api/v3/users", 404, "<html><body>Not found</body></html>")
    with pytest.raises(SourceAPIError, match="404.*check LUCCA_BASE_URL"):
        load(tmp_path)


def test_base_url_with_a_path_is_a_config_error(tmp_path: Path) -> None:
    """LUCCA_BASE_URL must be the tenant's address only."""
    with pytest.raises(ConfigError, match="LUCCA_BASE_URL"):
        load(tmp_path, base=f"{BASE_URL}/api/v3")


def test_userdates_forbidden_falls_back_to_the_calendar(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """Without rights on userdates, working days are weekdays minus French holidays within the contract."""
    fake.userdates_forbidden = True
    fake.days_off[101] = {(2, "PM")}  # ignored: the schedule can't be read
    fake.add_leave(101, "2025-07-14")
    hr, _ = load(tmp_path)
    assert hr.working_days_source == "calendar" and hr.userdates is None
    assert hr.holidays["date"].tolist() == [pd.Timestamp("2025-07-14")]
    assert per_employee(hr) == {"101": (22, 0), "102": (10, 0), "103": (12, 0)}
    assert availability_by_employee(hr, AvailabilityParams())["source"].unique().tolist() == ["calendar FR"]


def test_userdates_part_time_schedule(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """With userdates readable, a part-timer off on Wednesday afternoons has 2.5 fewer working days."""
    fake.days_off[101] = {(2, "PM")}
    fake.add_leave(101, "2025-07-09", "PM")  # on the afternoon off: not an absence
    hr, _ = load(tmp_path)
    assert per_employee(hr)["101"] == (19.5, 0)


@pytest.mark.parametrize(
    "body",
    [
        "<html>maintenance</html>",
        "",
        '{"data": {"items": "oops"}}',
        '{"data": {"items": [{"date": "2025-07-07"}]}}',
        "[1, 2]",
    ],
    ids=["html", "empty", "items not a list", "leave without owner", "a list"],
)
def test_malformed_body_is_a_clear_error(tmp_path: Path, fake: FakeLucca, rsps, body: str) -> None:
    """A 200 whose body is not a documented collection raises SourceAPIError naming the endpoint."""
    fake.fail_next("/api/v3/leaves", 200, body)
    with pytest.raises(SourceAPIError, match="Lucca API: .*leave"):
        load(tmp_path)


def test_malformed_body_publishes_nothing(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """A run whose HR data is unreadable fails before publishing: the sink folder is never written."""
    from sync.run import run_once
    from tests.sync.test_loading import good_customers, good_invoices, make_config

    fake.fail_next("/api/v3/users", 200, "<html>login</html>")
    config = make_config(tmp_path, good_invoices(), good_customers())
    run_settings = load_settings(config, {"LUCCA_BASE_URL": BASE_URL, "LUCCA_API_KEY": API_KEY})
    out = tmp_path / "out"
    with pytest.raises(SourceAPIError, match="not JSON"):
        run_once(run_settings, sink_uri=f"csv:{out}", clock=lambda: NOW)
    assert not out.exists() or not any(out.iterdir())


# --- the month and the calendar -------------------------------------------------------------------


def test_month_resolution() -> None:
    """The flag wins over the setting, which wins over next month; next month is taken in the timezone."""
    assert resolve_month("2025-09", "2025-08", NOW, "UTC") == pd.Timestamp("2025-09-01")
    assert resolve_month(None, "2025-08", NOW, "UTC") == pd.Timestamp("2025-08-01")
    assert resolve_month(None, "", pd.Timestamp("2025-12-20", tz="UTC"), "UTC") == pd.Timestamp("2026-01-01")
    late = pd.Timestamp("2025-06-30 23:30", tz="UTC")  # already July in Paris
    assert resolve_month(None, "", late, "Europe/Paris") == pd.Timestamp("2025-08-01")
    with pytest.raises(ConfigError, match="--availability-month"):
        resolve_month("2025-13", "", NOW, "UTC")
    with pytest.raises(ConfigError, match="availability.month"):
        resolve_month(None, "July", NOW, "UTC")


def test_month_from_the_command_line(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """--availability-month picks the month sent to Lucca."""
    hr, _ = load(tmp_path, month="2025-08")
    assert hr.month == pd.Timestamp("2025-08-01")
    assert fake.calls_to("/api/v3/leaves")[0]["date"] == "between,2025-08-01,2025-08-31"
    assert "105" in hr.employees["employee_id"].tolist() and "102" not in hr.employees["employee_id"].tolist()


def test_unknown_country_is_a_config_error(tmp_path: Path) -> None:
    """A holidays country the package does not know fails before any request."""
    with pytest.raises(ConfigError, match="availability.country = 'XX'"):
        load(tmp_path, 'country = "XX"')


def test_subdivision_holidays(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """Alsace-Moselle (FR-57) adds 26 December to the calendar used by the fallback."""
    fake.userdates_forbidden = True
    hr, _ = load(tmp_path, 'subdivision = "57"', month="2025-12")
    assert hr.calendar == "FR-57"
    assert [d.day for d in hr.holidays["date"]] == [25, 26]


# --- the fake itself ------------------------------------------------------------------------------


def test_the_fake_enforces_what_lucca_requires(fake: FakeLucca, rsps) -> None:
    """The fake answers 401 on a wrong header and 400 without fields, paging, date or an owner filter."""
    url = f"{BASE_URL}/api/v3/leaves"
    good = {"Authorization": f"lucca application={API_KEY}"}
    full = {"fields": "id", "paging": "0,1000", "date": "2025-07-01", "leavePeriod.ownerId": "101"}
    assert requests.get(url, params=full, headers={"Authorization": API_KEY}).status_code == 401
    assert requests.get(url, params=full, headers=good).status_code == 200
    for missing in full:
        params = {k: v for k, v in full.items() if k != missing}
        assert requests.get(url, params=params, headers=good).status_code == 400, missing
    assert requests.get(url, params={**full, "paging": "0,5000"}, headers=good).status_code == 400


def _run(tmp_path: Path, environ: dict[str, str]):
    pytest.importorskip("kpi.mrr_tabs", reason="the revenue tabs (kpi.mrr_tabs) are not written yet")
    from sync.run import run_once
    from tests.sync.test_loading import good_customers, good_invoices, make_config

    config = make_config(tmp_path, good_invoices(), good_customers())
    out = tmp_path / "out"
    outcome = run_once(load_settings(config, environ), sink_uri=f"csv:{out}", clock=lambda: NOW)
    return outcome, out


def test_a_run_publishes_both_tabs(tmp_path: Path, fake: FakeLucca, rsps) -> None:
    """With Lucca configured, a run publishes Availability and Availability grid for next month."""
    import csv

    fake.add_leave(101, "2025-07-07")
    outcome, out = _run(tmp_path, {"LUCCA_BASE_URL": BASE_URL, "LUCCA_API_KEY": API_KEY})
    names = [t.name for t in outcome.tables]
    assert "Availability" in names and "Availability grid" in names
    with (out / "availability.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["Name"] == "Alice Martin" and float(rows[0]["Absence days"]) == 1
    with (out / "availability_grid.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert "Mo 14 holiday" in header and "Sa 05" in header


def test_a_run_without_lucca_skips_the_tabs(tmp_path: Path) -> None:
    """Without LUCCA_BASE_URL and LUCCA_API_KEY the tabs are skipped and the reason is given."""
    outcome, _ = _run(tmp_path, {})
    skipped = dict(outcome.skipped)
    assert "Lucca is not configured" in skipped["Availability"]
    assert "Lucca is not configured" in skipped["Availability grid"]


# A 38-character key of capitals and digits: no fragment of it can come from the message's own words.
STRADDLING_KEY = "LK7Q2W9E4R8T1Y6U3I5O0PZ8X2C7V4B9N1M6A3"


def _key_fragments(text: str, size: int = 5) -> list[str]:
    return [STRADDLING_KEY[i:i + size] for i in range(len(STRADDLING_KEY) - size + 1) if STRADDLING_KEY[i:i + size] in text]


@pytest.mark.parametrize("shape", ["json message", "raw body"])
def test_a_key_straddling_every_cut_point_never_leaks(shape: str) -> None:
    """Error bodies that echo the key at every offset around the 120/200-character cuts leave no 5-character piece of it in the message."""
    for offset in range(0, 240):
        text = "." * offset + STRADDLING_KEY + " is not allowed"
        body: Any = {"Message": text} if shape == "json message" else text
        with responses.RequestsMock() as mock:
            if shape == "json message":
                mock.get(f"{BASE_URL}/api/v3/users", status=400, json=body)
            else:
                mock.get(f"{BASE_URL}/api/v3/users", status=400, body=body)
            client = LuccaClient(BASE_URL, STRADDLING_KEY, retry=RetryPolicy(max_retries=0), sleep=lambda s: None)
            with pytest.raises(SourceAPIError) as err:
                client.get("/api/v3/users", {})
        assert _key_fragments(str(err.value)) == [], (offset, str(err.value))
