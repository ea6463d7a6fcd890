"""Parameters of the KPI computations: plain frozen values, built by sync/settings.py from TOML.

Defaults here are the defaults of ../shared/docs/metrics.md; the About tab prints the active values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class PriceList:
    """List prices stated in the config instead of learned from the log (metrics.md 2b, price book).

    monthly_seat: prices per seat per month; annual_seat: prices per seat per year (their whole
    multiples are annual price points too); annual_points: other annual prices (flat plans).
    """

    monthly_seat: tuple[float, ...] = ()
    annual_seat: tuple[float, ...] = ()
    annual_points: tuple[float, ...] = ()


@dataclass(frozen=True)
class BillingRules:
    """How a payment log is turned into a revenue schedule (metrics.md 2b)."""

    renewal_tolerance_hours: float = 2.0
    annual_min_amount: float = 1000.0
    prorations: Literal["normalize", "share", "ignore"] = "normalize"
    # customer id (as text) -> "monthly" | "annual"
    billing_overrides: tuple[tuple[str, str], ...] = ()
    # "auto": learned from the log's own evidence; "off": amount rules only; a PriceList: these prices
    price_book: Literal["auto", "off"] | PriceList = "auto"
    # a single charge that no learned price reads but that is the customer's seats x 6 to 12 months (the book's months
    # a year, once settled) of a monthly seat price: "year" (a tier the book has not learned yet; docs/billing.md items
    # 20 and 29) or "month" (metrics.md 2b read literally: what the book does not price is one month)
    unlisted_tiers: Literal["year", "month"] = "year"


DEFAULT_SPEND_PER_MONTH = 4000.0  # metrics.md 6; an assumption, not any company's figure
DEFAULT_GROSS_MARGIN = 1.0


@dataclass(frozen=True)
class EconomicsParams:
    """Unit economics (metrics.md 6): acquisition spend, gross margin, benchmarks for the Summary verdicts."""

    acquisition_spend_per_month: float = DEFAULT_SPEND_PER_MONTH
    # month "YYYY-MM" -> spend; a month listed here overrides the constant above
    spend_by_month: tuple[tuple[str, float], ...] = ()
    gross_margin: float = DEFAULT_GROSS_MARGIN
    churn_window_months: int = 3  # LTV divides by the logo churn rate averaged over this many trailing months
    ltv_cac_benchmark: float = 3.0  # LTV:CAC at or above this is healthy
    payback_benchmark_months: float = 12.0  # CAC payback at or below this is healthy
    # The [economics] keys the configuration sets (sync/settings.py fills it). None: not built from a
    # configuration, so a value equal to its default is taken to be that default.
    stated: frozenset[str] | None = None

    def spend_is_default(self, month: str) -> bool:
        """True when the spend of `month` ("YYYY-MM") is the default constant: the month is not in spend_by_month
        (the spend file or table) and acquisition_spend_per_month is not set."""
        return month not in dict(self.spend_by_month) and self.constant_is_default()

    def constant_is_default(self) -> bool:
        """True when acquisition_spend_per_month (the spend of every month without its own) is not set."""
        if self.stated is None:
            return self.acquisition_spend_per_month == DEFAULT_SPEND_PER_MONTH
        return "acquisition_spend_per_month" not in self.stated

    def margin_is_default(self) -> bool:
        """True when gross_margin is not set: the default 100% (no cost of serving a customer)."""
        if self.stated is None:
            return self.gross_margin == DEFAULT_GROSS_MARGIN
        return "gross_margin" not in self.stated


@dataclass(frozen=True)
class SegmentParams:
    """Customer segments (metrics.md 7): which attribute columns hold seats and sessions, and the buckets."""

    # lower bounds of the seat buckets: 1 / 2-5 / 6-10 / 11-20 / 21+
    seat_buckets: tuple[int, ...] = (1, 2, 6, 11, 21)
    sessions_per_seat_quantiles: int = 4
    seats_column: str = "seats"
    sessions_column: str = "sessions"


@dataclass(frozen=True)
class AvailabilityParams:
    """How leaves count against availability (metrics.md 9)."""

    count_pending: bool = False  # leaves still awaiting approval count as absences
    # leave accounts whose name contains one of these (accent and case blind) are remote work, not absences
    remote_work_accounts: tuple[str, ...] = ("Télétravail", "Remote work", "Home office", "Work from home")


@dataclass(frozen=True)
class PortfolioParams:
    """Contract portfolios (metrics.md 8): which partner types make a customer indirect."""

    # customers whose partnerType is one of these are indirect (served through that partner); others are direct
    indirect_partner_types: tuple[str, ...] = ("Integrateur",)
    sector_churn_window_months: int = 12  # the Sectors tab counts churn over this many trailing months


@dataclass(frozen=True)
class Params:
    """Every parameter a kpi/ builder may read."""

    timezone: str = "UTC"
    currency: str = "EUR"
    billing: BillingRules = field(default_factory=BillingRules)
    economics: EconomicsParams = field(default_factory=EconomicsParams)
    segments: SegmentParams = field(default_factory=SegmentParams)
    availability: AvailabilityParams = field(default_factory=AvailabilityParams)
    portfolio: PortfolioParams = field(default_factory=PortfolioParams)
