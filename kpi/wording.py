"""How the Summary words its numbers: money to the cent, percents, plurals, lists, months; and its columns.

Shared by kpi.summary (every kind of data) and kpi.portfolio_summary (contract data), so neither imports the other's
sentence builders for them."""

from __future__ import annotations

import pandas as pd

COLUMNS = ["Topic", "Value", "Sentence"]


def money(x: float, currency: str) -> str:
    """12345.6 -> "12,345.60 EUR": always to the cent, as every money column and the Summary's values show money
    (rounded as they are, half to even on the cents: a median of 1280.17 and 1280.18 reads 1,280.18 in both)."""
    return f"{round(x * 100) / 100:,.2f} {currency}".strip()


def signed_money(x: float, currency: str) -> str:
    return ("+" if x > 0 else "-" if x < 0 else "") + money(abs(x), currency)


def pct(x: float) -> str:
    return f"{x:.1%}"


def number(x: float) -> str:
    return f"{x:,.1f}" if abs(x - round(x)) > 1e-9 else f"{x:,.0f}"


def plural(n: int, word: str) -> str:
    """1 customer, 2 customers."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def join(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def month_label(month: pd.Timestamp) -> str:
    return pd.Timestamp(month).strftime("%Y-%m")
