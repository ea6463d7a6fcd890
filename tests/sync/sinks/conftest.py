"""Fixtures for the Google Sheets sink: a real RSA service account key, the HTTP fake, a fake clock, tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses

from sync.retry import RetryPolicy
from sync.sinks.gsheet import GSheetSink
from tests.fakes.keys import service_account_key
from tests.fakes.sheets import FakeSheets


@pytest.fixture(scope="session")
def service_key() -> dict[str, Any]:
    """A service account key like the one Google lets you download, with a real RSA key made here."""
    return service_account_key("kpi-test", private_key_id="0123456789abcdef", client_id="1234567890")


@pytest.fixture
def fake(service_key: dict[str, Any]) -> Iterator[FakeSheets]:
    """The Sheets API fake; any request it does not serve fails the test (responses refuses it)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sheets = FakeSheets(rsps, service_key)
        yield sheets
        assert sheets.schema_errors == [], sheets.schema_errors


@dataclass
class FakeClock:
    """Time that moves only when the code under test sleeps."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_sink(fake: FakeSheets, service_key: dict[str, Any], clock: FakeClock):
    """Build a sink on the fake; keyword arguments override GSheetSink options."""

    def build(**options: Any) -> GSheetSink:
        defaults: dict[str, Any] = {
            "sleep": clock.sleep,
            "clock": clock,
            "rand": lambda: 0.5,
            "policy": RetryPolicy(max_retries=4, deadline_seconds=120),
        }
        defaults.update(options)
        return GSheetSink(fake.spreadsheet_id, service_key, **defaults)

    return build
