"""Contracts -> the canonical revenue schedule and the one-shot (non-recurring) items (metrics.md 2a).

The contracts frame (built by sync/sources/contracts.py) has one row per valid contract line:

    contract_id  str                 the contract
    customer_id  str                 the customer
    solution     str                 the solution (product) sold
    kind         str                 "subscription" or "one-shot"
    amount       float               ARR for a subscription, the one-off amount for a one-shot
    start_date   datetime64 (naive)  first day of service (a calendar day)
    end_date     datetime64 (naive)  last day of service, inclusive; NaT while the contract runs

A subscription is one schedule piece: rate amount / 12, active from the start of `start_date` to the
start of the day after `end_date` (the schedule's end is exclusive), days taken in the configured
timezone. A one-shot is never MRR: it is listed as non-recurring revenue of the month of `start_date`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.schedule import pieces_from_periods

CONTRACT_COLUMNS: tuple[str, ...] = ("contract_id", "customer_id", "solution", "kind", "amount", "start_date", "end_date")
SUBSCRIPTION = "subscription"
ONE_SHOT = "one-shot"
KINDS: tuple[str, ...] = (SUBSCRIPTION, ONE_SHOT)
ONE_SHOT_COLUMNS: tuple[str, ...] = ("month", "date", "customer_id", "solution", "amount", "contract_id")


def _local_midnight_utc(days: pd.Series, timezone: str) -> pd.Series:
    """Calendar days (naive) -> the UTC instant their day starts in `timezone` (NaT stays NaT)."""
    days = pd.to_datetime(days).astype("datetime64[ns]")
    local = days.dt.tz_localize(
        timezone,
        ambiguous=np.zeros(len(days), dtype=bool),  # a repeated midnight: take the later (standard-time) one
        nonexistent="shift_forward",  # a skipped midnight: the day starts when the clock resumes
    )
    return local.dt.tz_convert("UTC")


def schedule_from_contracts(contracts: pd.DataFrame, timezone: str = "UTC") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Contracts -> (schedule, one_shots).

    schedule: the canonical revenue schedule (kpi.schedule), one piece per subscription contract with a
    positive amount; source "contract", ref = contract_id.
    one_shots: one row per one-shot contract [month (first day, naive), date (naive day), customer_id,
    solution, amount, contract_id], sorted by date and contract.
    """
    subs = contracts.loc[contracts["kind"] == SUBSCRIPTION]
    periods = pd.DataFrame(
        {
            "customer_id": subs["customer_id"].astype(str),
            "start": _local_midnight_utc(subs["start_date"], timezone),
            "end": _local_midnight_utc(subs["end_date"] + pd.Timedelta(days=1), timezone),
            "mrr": subs["amount"].astype("float64") / 12.0,
            "ref": subs["contract_id"].astype(str),
        }
    )
    schedule = pieces_from_periods(periods, source="contract")

    shots = contracts.loc[contracts["kind"] == ONE_SHOT]
    dates = pd.to_datetime(shots["start_date"]).astype("datetime64[ns]")
    one_shots = (
        pd.DataFrame(
            {
                "month": dates.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]"),
                "date": dates,
                "customer_id": shots["customer_id"].astype(str),
                "solution": shots["solution"].astype(str),
                "amount": shots["amount"].astype("float64"),
                "contract_id": shots["contract_id"].astype(str),
            }
        )
        .sort_values(["date", "contract_id"], kind="stable")
        .reset_index(drop=True)
    )
    return schedule, one_shots
