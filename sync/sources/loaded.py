"""`Loaded`: what every dataset loader returns and the run reads: validated frames, no KPI logic yet."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kpi.tables import InputFile


@dataclass(frozen=True)
class Loaded:
    """A dataset as read and validated from its files (no KPI logic yet)."""

    customers: pd.DataFrame
    issues: pd.DataFrame
    inputs: tuple[InputFile, ...]
    revenue_times: pd.Series  # every revenue timestamp, for the default as_of
    charges: pd.DataFrame | None = None
    contracts: pd.DataFrame | None = None
    projects: pd.DataFrame | None = None
    dropped: tuple[tuple[str, int], ...] = ()  # per file, the lines dropped as bad (ndjson.dropped_lines)
