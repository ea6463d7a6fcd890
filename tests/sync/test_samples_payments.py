"""The payment-log sample generator: deterministic, realistic, and the shipped sample is what it produces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sync.cli import main
from sync.errors import ConfigError
from sync.samples.payments import DEFAULT_END, DEFAULT_START, add_months, generate, write_sample

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "data" / "sample" / "payments"
SHARED = REPO / ".." / "shared" / "data" / "payments-log"
TOLERANCE = 2 * 3600
DAY = 86_400


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate()


@pytest.fixture(scope="module")
def charges(sample: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    """Positive charges sorted per customer, each flagged `renewed` when a charge of the same
    customer falls within 2 h of one calendar month later (`late` = how far from that slot)."""
    invoices = sample[0]
    paid = invoices.loc[invoices["amountPaid"] > 0].sort_values(["customerId", "timestampPaid"]).reset_index(drop=True)
    target = paid.assign(slot=add_months(paid["timestampPaid"].to_numpy(), np.ones(len(paid), np.int64)))
    found = pd.merge_asof(
        target.sort_values("slot"),
        paid.rename(columns={"timestampPaid": "next_at", "amountPaid": "next_amount"}).sort_values("next_at"),
        left_on="slot", right_on="next_at", by="customerId", direction="nearest", tolerance=TOLERANCE,
    )
    found = found.assign(renewed=found["next_at"].notna(), late=(found["next_at"] - found["slot"]).abs())
    return found.sort_values(["customerId", "timestampPaid"]).reset_index(drop=True)


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    """Two runs with the same seed write byte-identical files; another seed writes different ones."""
    a = write_sample(tmp_path / "a", customers=60, seed=11)
    b = write_sample(tmp_path / "b", customers=60, seed=11)
    c = write_sample(tmp_path / "c", customers=60, seed=12)
    for (pa, na), (pb, nb) in zip(a, b, strict=True):
        assert Path(pa).read_bytes() == Path(pb).read_bytes()
        assert na == nb
    assert Path(a[0][0]).read_bytes() != Path(c[0][0]).read_bytes()


def test_shipped_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    """data/sample/payments holds exactly what write_sample writes with its defaults (regenerate it on change)."""
    written = write_sample(tmp_path)
    for path, _rows in written:
        shipped = SHIPPED / Path(path).name
        assert shipped.read_bytes() == Path(path).read_bytes(), (
            f"{shipped} drifted from the generator: run `kpi-sync sample --out data/sample/payments`"
        )


def test_shipped_sample_is_small() -> None:
    """The shipped sample stays well under 1 MB."""
    assert sum(p.stat().st_size for p in SHIPPED.glob("*.json")) < 500_000


def test_cli_sample_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`kpi-sync sample --out DIR --customers N --seed S` writes both NDJSON files and says how many rows."""
    out = tmp_path / "new" / "dir"
    assert main(["sample", "--out", str(out), "--customers", "25", "--seed", "3"]) == 0
    customers = (out / "customers.json").read_text().splitlines()
    invoices = (out / "invoices.json").read_text().splitlines()
    assert len(customers) == 25
    assert len(invoices) > 25
    said = capsys.readouterr().out
    assert f"wrote {len(invoices)} rows to {out / 'invoices.json'}" in said
    assert f"wrote 25 rows to {out / 'customers.json'}" in said


def test_cli_sample_rejects_zero_customers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A customer count below 1 is a one-line error and exit 1, with nothing written."""
    assert main(["sample", "--out", str(tmp_path / "x"), "--customers", "0"]) == 1
    assert capsys.readouterr().err.startswith("Error: customers = 0")
    assert not (tmp_path / "x").exists()


def test_short_window_is_refused() -> None:
    """A window shorter than a month is a ConfigError."""
    with pytest.raises(ConfigError, match="at least a month"):
        generate(10, start="2017-01-01", end="2017-01-15")


def test_files_have_the_shared_field_names_and_types(tmp_path: Path) -> None:
    """Every line is a JSON object with the shared log's keys: integer ids and epoch seconds, float amounts, int or null seats."""
    write_sample(tmp_path, customers=40, seed=5)
    invoices = [json.loads(line) for line in (tmp_path / "invoices.json").read_text().splitlines()]
    customers = [json.loads(line) for line in (tmp_path / "customers.json").read_text().splitlines()]
    assert all(list(r) == ["customerId", "amountPaid", "timestampPaid"] for r in invoices)
    assert all(list(r) == ["customerId", "nrSessions", "nrSeats"] for r in customers)
    assert all(type(r["customerId"]) is int and type(r["timestampPaid"]) is int for r in invoices)
    assert all(type(r["amountPaid"]) is float and round(r["amountPaid"], 2) == r["amountPaid"] for r in invoices)
    assert all(type(r["nrSessions"]) is int and (r["nrSeats"] is None or type(r["nrSeats"]) is int) for r in customers)


def test_keys_match_the_shared_payment_log() -> None:
    """The generated files use the same keys as the real log in shared/data/payments-log."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    real_invoice = json.loads((SHARED / "invoices_per_customer.json").open().readline())
    real_customer = json.loads((SHARED / "information_customer.json").open().readline())
    invoices, customers = generate(10)
    assert set(real_invoice) == set(invoices.columns)
    assert set(real_customer) == set(customers.columns)


def test_every_charge_has_a_known_customer_and_falls_in_the_window(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Customer ids are unique, every charge's customer is listed, and every timestamp is within [start, end]."""
    invoices, customers = sample
    assert customers["customerId"].is_unique
    assert len(customers) == 300
    assert invoices["customerId"].isin(customers["customerId"]).all()
    start = pd.Timestamp(DEFAULT_START, tz="UTC").timestamp()
    end = pd.Timestamp(DEFAULT_END, tz="UTC").timestamp()
    assert invoices["timestampPaid"].between(start, end).all()


def test_rows_are_shuffled_like_the_real_log(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Charges are not in time or customer order (loaders must not rely on an order)."""
    invoices = sample[0]
    assert not invoices["timestampPaid"].is_monotonic_increasing
    assert not invoices["customerId"].is_monotonic_increasing


def test_monthly_renewals_keep_the_anchor_time_of_day(charges: pd.DataFrame) -> None:
    """Most renewals land on the anchor's second and all within 5 minutes of the slot, far inside the 2 h tolerance."""
    renewals = charges.loc[charges["renewed"]]
    assert len(renewals) > 500
    assert (renewals["late"] == 0).mean() > 0.7
    assert (renewals["late"] <= 300).mean() > 0.99


def test_plans_are_the_real_logs_prices(charges: pd.DataFrame) -> None:
    """Monthly renewals are per-seat prices of 8/18/36/54/90 (before discounts), the single-seat ones included."""
    renewals = charges.loc[charges["renewed"], "amountPaid"]
    for price in (8.0, 18.0, 36.0, 54.0, 90.0):
        assert (renewals == price).any(), price


def test_annual_charges(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """There are annual charges (>= 1000), some renewed a year later at the same time of day."""
    invoices = sample[0]
    annual = invoices.loc[invoices["amountPaid"] >= 1000]
    assert len(annual) >= 10
    later = annual.assign(year=add_months(annual["timestampPaid"].to_numpy(), np.full(len(annual), 12)))
    pairs = later.merge(annual, on="customerId", suffixes=("", "_next"))
    assert ((pairs["timestampPaid_next"] - pairs["year"]).abs() <= 300).any()


def test_prorations_between_renewals(charges: pd.DataFrame) -> None:
    """Small odd amounts fall strictly between a monthly customer's renewals, and on annual plans too."""
    odd = charges["amountPaid"] != charges["amountPaid"].round()
    first_renewal = charges.loc[charges["renewed"]].groupby("customerId")["timestampPaid"].min()
    last_renewed = charges.loc[charges["renewed"]].groupby("customerId")["next_at"].max()
    bounds = pd.DataFrame({"first": first_renewal, "last": last_renewed})
    inside = charges.join(bounds, on="customerId")
    between = odd & ~charges["renewed"] & inside["timestampPaid"].gt(inside["first"]) & inside["timestampPaid"].lt(inside["last"])
    assert between.sum() >= 30
    on_annual = []
    for customer, rows in charges.groupby("customerId"):
        big = rows.loc[rows["amountPaid"] >= 1000, "timestampPaid"]
        for at in big:
            after = rows.loc[rows["timestampPaid"].between(at + DAY, at + 360 * DAY) & (rows["amountPaid"] < 1000)]
            if (after["amountPaid"] != after["amountPaid"].round()).any():
                on_annual.append(customer)
    assert len(set(on_annual)) >= 3


def test_prorations_come_in_bursts(charges: pd.DataFrame) -> None:
    """Adding several seats gives several equal-ish charges minutes apart, like the real log."""
    odd = charges.loc[charges["amountPaid"] != charges["amountPaid"].round()]
    gap = odd.groupby("customerId")["timestampPaid"].diff()
    assert (gap < 600).sum() >= 10


def test_upgrades_and_downgrades(charges: pd.DataFrame) -> None:
    """Some renewals are followed by a higher renewal (upgrade), some by a lower non-zero one (downgrade)."""
    renewals = charges.loc[charges["renewed"] & (charges["next_amount"] > 0)]
    up = renewals.loc[renewals["next_amount"] > renewals["amountPaid"], "customerId"].nunique()
    down = renewals.loc[renewals["next_amount"] < renewals["amountPaid"], "customerId"].nunique()
    assert up >= 10
    assert down >= 5


def test_churn_and_reactivation(charges: pd.DataFrame) -> None:
    """Some monthly series stop months before the end (churn); some customers pay again months after a stop."""
    end = pd.Timestamp(DEFAULT_END, tz="UTC").timestamp()
    last = charges.groupby("customerId")["timestampPaid"].max()
    assert (last < end - 90 * DAY).sum() >= 30
    gaps = charges.groupby("customerId")["timestampPaid"].diff()
    back = charges.loc[gaps > 70 * DAY]
    assert back["renewed"].any(), "a reactivated customer renews monthly again"
    assert back["customerId"].nunique() >= 5


def test_side_by_side_annual_and_monthly(charges: pd.DataFrame) -> None:
    """Some customers with an annual charge also renew a smaller monthly plan in the same year."""
    annual = charges.loc[charges["amountPaid"] >= 1000, ["customerId", "timestampPaid"]]
    monthly = charges.loc[charges["renewed"] & (charges["amountPaid"] < 1000), ["customerId", "timestampPaid"]]
    both = annual.merge(monthly, on="customerId", suffixes=("_annual", "_monthly"))
    near = (both["timestampPaid_monthly"] - both["timestampPaid_annual"]).abs() < 300 * DAY
    assert both.loc[near, "customerId"].nunique() >= 1


def test_zero_amounts_refunds_and_trial_only_customers(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The log holds zero-amount charges, a few refunds (negative), and customers whose only charge is 0."""
    invoices = sample[0]
    assert (invoices["amountPaid"] == 0).sum() >= 5
    refunds = invoices.loc[invoices["amountPaid"] < 0]
    assert 1 <= len(refunds) <= 0.01 * len(invoices)
    best = invoices.groupby("customerId")["amountPaid"].max()
    assert (best == 0).sum() >= 1


def test_customers_have_sessions_and_some_missing_seats(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """nrSessions is a non-negative count for everyone; nrSeats is null for some customers and >= 1 otherwise."""
    customers = sample[1]
    assert (customers["nrSessions"] >= 0).all()
    assert customers["nrSessions"].median() > 5
    missing = customers["nrSeats"].isna().mean()
    assert 0.05 < missing < 0.3
    assert (customers["nrSeats"].dropna() >= 1).all()


def test_add_months_clamps_to_the_month_end_and_keeps_the_time() -> None:
    """Jan 31 + 1 month is the last day of February at the same time; + 2 months is Mar 31."""
    t = int(pd.Timestamp("2016-01-31 13:56:05", tz="UTC").timestamp())
    got = add_months(np.array([t, t, t]), np.array([1, 2, 12]))
    assert [str(pd.Timestamp(s, unit="s")) for s in got] == [
        "2016-02-29 13:56:05", "2016-03-31 13:56:05", "2017-01-31 13:56:05",
    ]


def test_a_larger_log_has_the_requested_customers() -> None:
    """A few thousand customers over three years give roughly ten or more charges each."""
    invoices, customers = generate(3000, seed=1, start="2015-01-01", end="2017-12-31 23:59:59")
    assert len(customers) == 3000
    assert len(invoices) > 10 * 3000
