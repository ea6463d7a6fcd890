"""Fixtures shared by the billing and MRR tests: the shared payment log, inferred once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi.billing import Inference, infer
from kpi.mrr import customer_months
from kpi.params import BillingRules

PAYMENTS_LOG = Path(__file__).parents[2].parent / "shared" / "data" / "payments-log"
PAYMENTS_AS_OF = pd.Timestamp("2017-10-17 10:53:42", tz="UTC")


def load_charges(folder: Path = PAYMENTS_LOG) -> pd.DataFrame:
    """The shared invoices as charges [customer_id str, paid_at UTC, amount]."""
    raw = pd.read_json(folder / "invoices_per_customer.json", lines=True)
    return pd.DataFrame(
        {
            "customer_id": raw["customerId"].astype(str),
            "paid_at": pd.to_datetime(raw["timestampPaid"], unit="s", utc=True).astype("datetime64[ns, UTC]"),
            "amount": raw["amountPaid"].astype("float64"),
        }
    )


def load_seats(folder: Path = PAYMENTS_LOG) -> pd.Series:
    """The shared customers' seat counts (today's; NaN where unknown) by customer id (str), as the job passes them."""
    raw = pd.read_json(folder / "information_customer.json", lines=True)
    return pd.Series(raw["nrSeats"].astype("float64").to_numpy(), index=raw["customerId"].astype(str), name="seats")


@pytest.fixture(scope="session")
def shared_charges() -> pd.DataFrame:
    if not (PAYMENTS_LOG / "invoices_per_customer.json").exists():
        pytest.skip(f"the shared payment log is not at {PAYMENTS_LOG}")
    return load_charges()


@pytest.fixture(scope="session")
def shared_seats(shared_charges: pd.DataFrame) -> pd.Series:
    return load_seats()


@pytest.fixture(scope="session")
def shared_inference(shared_charges: pd.DataFrame, shared_seats: pd.Series) -> Inference:
    """The shared log read with the default rules and the customers' seats, as the job reads it."""
    return infer(shared_charges, BillingRules(), seats=shared_seats)


@pytest.fixture(scope="session")
def shared_inferred(shared_inference: Inference) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(schedule, billing) of the shared log with the default rules and seats."""
    return shared_inference.schedule, shared_inference.billing


@pytest.fixture(scope="session")
def shared_customer_months(shared_inferred: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """Month-end MRR snapshots (UTC) of the shared log up to its newest charge."""
    return customer_months(shared_inferred[0], PAYMENTS_AS_OF, "UTC")
