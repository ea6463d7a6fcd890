"""Small payment logs written by hand for the billing tests, and how to read them."""

from __future__ import annotations

import pandas as pd

from kpi.billing import Inference, infer
from kpi.mrr import customer_months
from kpi.params import BillingRules


def charges(*rows: tuple[str, str, float]) -> pd.DataFrame:
    """Charges from (customer, UTC timestamp, amount) rows."""
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "paid_at": pd.to_datetime([r[1] for r in rows], utc=True, format="ISO8601").astype("datetime64[ns, UTC]"),
            "amount": [float(r[2]) for r in rows],
        }
    )


def monthly(customer: str, first: str, amount: float, renewals: int) -> list[tuple[str, str, float]]:
    """A monthly series: `amount` on `first` and `renewals` times more, one calendar month apart."""
    start = pd.Timestamp(first)
    return [(customer, str(start + pd.DateOffset(months=k)), amount) for k in range(renewals + 1)]


def seats(**by_customer: float) -> pd.Series:
    """Seat counts by customer id."""
    return pd.Series(by_customer, dtype="float64")


def read(frame: pd.DataFrame, as_of: str | None = None, rules: BillingRules | None = None,
         seat_counts: pd.Series | None = None) -> Inference:
    """The log (charges paid by as_of) read at as_of (None: its newest charge)."""
    when = pd.Timestamp(as_of, tz="UTC") if as_of else None
    seen = frame if when is None else frame.loc[frame["paid_at"] <= when]
    return infer(seen, rules or BillingRules(), as_of=when, seats=seat_counts)


def month_ends(result: Inference, as_of: str, customer: str) -> dict[str, float]:
    """A customer's month-end MRR {"YYYY-MM": mrr} (rounded to the cent) up to as_of."""
    cm = customer_months(result.schedule, pd.Timestamp(as_of, tz="UTC"), "UTC")
    rows = cm.loc[cm["customer_id"] == customer]
    return {f"{m:%Y-%m}": round(float(v), 2) for m, v in zip(rows["month"], rows["mrr"], strict=True)}


def rows_of(result: Inference, customer: str) -> pd.DataFrame:
    """The customer's Billing rows."""
    return result.billing.loc[result.billing["customer_id"] == customer]


def annual_with_proration(customer: str, start: str, seat_count: int, price: float = 180.0, after_days: int = 90
                          ) -> list[tuple[str, str, float]]:
    """An annual term of `seat_count` seats, then one seat added `after_days` later at price x share of the term left."""
    t0 = pd.Timestamp(start)
    end = t0 + pd.DateOffset(months=12)
    at = t0 + pd.Timedelta(days=after_days)
    return [(customer, str(t0), seat_count * price), (customer, str(at), round(price * (end - at) / (end - t0), 2))]



def seat_company(annual_customers: int = 4, monthly_customers: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    """A small per-seat company: 2-seat monthly plans at 36 (18 a seat), 4-seat annual plans at 720 with a seat added."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, float] = {}
    for i in range(monthly_customers):
        rows += monthly(f"m{i}", f"2017-01-{5 + i:02d} 10:00", 36.0, 4)
        counts[f"m{i}"] = 2
    for i in range(annual_customers):
        rows += annual_with_proration(f"a{i}", f"2017-02-{10 + i:02d} 09:00", 4)
        counts[f"a{i}"] = 5
    return charges(*rows), seats(**counts)
