"""Parameters of the KPI computations: plain frozen values, built by sync/settings.py from TOML.

Defaults here are the defaults of ../shared/docs/metrics.md; the About tab prints the active values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class BillingRules:
    """How a payment log is turned into a revenue schedule (metrics.md 2b)."""

    renewal_tolerance_hours: float = 2.0
    annual_min_amount: float = 1000.0
    prorations: Literal["normalize", "ignore"] = "normalize"
    # customer id (as text) -> "monthly" | "annual"
    billing_overrides: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Params:
    """Every parameter a kpi/ builder may read."""

    timezone: str = "UTC"
    currency: str = "EUR"
    billing: BillingRules = field(default_factory=BillingRules)
