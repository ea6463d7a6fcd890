"""One sink interface: publish a set of named tables, all or nothing.

A sink is chosen by URI:  xlsx:PATH  |  csv:DIR  |  gsheet:SPREADSHEET_ID
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kpi.tables import Table
from sync.settings import check_sink_uri

if TYPE_CHECKING:
    from sync.settings import Settings


@dataclass
class PublishResult:
    destination: str
    written: list[str] = field(default_factory=list)  # tabs whose content was (re)written
    unchanged: list[str] = field(default_factory=list)  # tabs skipped because they were already up to date
    requests: int = 0  # network requests made (0 for local sinks)
    notes: list[str] = field(default_factory=list)


class Sink(Protocol):
    destination: str

    def publish(self, tables: Sequence[Table], *, force: bool = False) -> PublishResult:
        """Write every table, atomically: readers see the old output or the new one, never a mix."""
        ...


def open_sink(uri: str, settings: Settings) -> Sink:
    """Turn a sink URI into a sink. Relative local paths resolve against the current directory."""
    check_sink_uri(uri)
    scheme, _, target = uri.partition(":")
    if scheme in ("xlsx", "csv"):
        # One destination, one name: the guard's memory and the summary use the absolute path.
        target = str(Path(target).expanduser().absolute())
    if scheme == "xlsx":
        from sync.sinks.xlsx import XlsxSink

        publish = settings.section("publish")
        return XlsxSink(target, currency=settings.params.currency, timezone=settings.params.timezone,
                        max_rows_per_tab=max(0, publish.max_rows_per_tab), dashboard_tab=publish.dashboard_tab)
    if scheme == "csv":
        from sync.sinks.csv import CsvSink

        return CsvSink(target, timezone=settings.params.timezone,
                       neutralize_formulas=settings.output.csv_neutralize_formulas)
    if scheme == "gsheet":
        from sync.sinks.gsheet import open_gsheet_sink

        return open_gsheet_sink(target, settings)
    raise AssertionError(f"sink kind {scheme!r} checked but not opened")
