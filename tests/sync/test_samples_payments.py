"""The payment-log sample generator: deterministic, realistic, consistent with the truth it returns, and the shipped sample is what it produces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi.mrr import check_identity, customer_months, mrr_by_month
from kpi.schedule import SCHEDULE_COLUMNS, check_schedule
from sync import cli
from sync.cli import main
from sync.errors import ConfigError
from sync.samples.payments import (
    DEFAULT_END,
    DEFAULT_START,
    SCHEMES,
    SampleLog,
    add_months,
    generate,
    generate_with_truth,
    read_truth,
    write_sample,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "data" / "sample" / "payments"
SHARED = REPO / ".." / "shared" / "data" / "payments-log"
DAY = 86_400
WINDOW_END = pd.Timestamp(DEFAULT_END, tz="UTC")


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return generate()


@pytest.fixture(scope="module", params=sorted(SCHEMES))
def log(request: pytest.FixtureRequest) -> SampleLog:
    """A 1,500-customer log with its truth, once per scheme."""
    return generate_with_truth(1500, seed=3, scheme=request.param)


@pytest.fixture(scope="module")
def seat10() -> SampleLog:
    return generate_with_truth(1500, seed=3, scheme="seat10")


def _charges(log: SampleLog) -> pd.DataFrame:
    """Invoices with the truth's customer_id (str) and start (UTC instant) beside the shared field names."""
    inv = log.invoices
    return inv.assign(customer_id=inv["customerId"].astype(str),
                      start=pd.to_datetime(inv["timestampPaid"], unit="s", utc=True).astype("datetime64[ns, UTC]"))


def _periods(log: SampleLog) -> pd.DataFrame:
    """The truth's period pieces (monthly and annual), sorted by plan and start."""
    truth = log.truth
    return truth.loc[truth["source"].isin(["monthly", "annual"])].sort_values(["ref", "start"]).reset_index(drop=True)


# ----------------------------------------------------------------------------- determinism and files


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    """Two runs with the same seed write byte-identical files, truth included; another seed writes different ones."""
    a = write_sample(tmp_path / "a", customers=60, seed=11, truth=True)
    b = write_sample(tmp_path / "b", customers=60, seed=11, truth=True)
    c = write_sample(tmp_path / "c", customers=60, seed=12, truth=True)
    assert len(a) == 3
    for (pa, na), (pb, nb) in zip(a, b, strict=True):
        assert Path(pa).read_bytes() == Path(pb).read_bytes()
        assert na == nb
    assert Path(a[0][0]).read_bytes() != Path(c[0][0]).read_bytes()


def test_generate_is_generate_with_truth_without_the_truth() -> None:
    """generate() returns exactly the invoices and customers of generate_with_truth() with the same arguments."""
    invoices, customers = generate(80, seed=4, scheme="seat12")
    full = generate_with_truth(80, seed=4, scheme="seat12")
    pd.testing.assert_frame_equal(invoices, full.invoices)
    pd.testing.assert_frame_equal(customers, full.customers)


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


def test_truth_file_reads_back_as_the_truth(tmp_path: Path) -> None:
    """truth.csv read with read_truth equals the generated truth schedule (instants to the second, rates exactly)."""
    write_sample(tmp_path, customers=120, seed=5, scheme="seat12", truth=True)
    back = read_truth(tmp_path / "truth.csv")
    truth = generate_with_truth(120, seed=5, scheme="seat12").truth
    pd.testing.assert_frame_equal(back, truth, check_exact=False, rtol=1e-9)
    assert (tmp_path / "truth.csv").read_text().splitlines()[0] == ",".join(SCHEDULE_COLUMNS)


def test_cli_sample_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`kpi-sync sample --out DIR --customers N --seed S` writes both NDJSON files and says how many rows."""
    out = tmp_path / "new" / "dir"
    assert main(["sample", "--out", str(out), "--customers", "25", "--seed", "3"]) == 0
    customers = (out / "customers.json").read_text().splitlines()
    invoices = (out / "invoices.json").read_text().splitlines()
    assert len(customers) == 25
    assert len(invoices) > 25
    assert not (out / "truth.csv").exists()
    said = capsys.readouterr().out
    assert f"wrote {len(invoices)} rows to {out / 'invoices.json'}" in said
    assert f"wrote 25 rows to {out / 'customers.json'}" in said


def test_cli_sample_scheme_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`--scheme noseats --truth` writes customers without seats and truth.csv, the same files write_sample writes."""
    assert main(["sample", "--out", str(tmp_path / "cli"), "--customers", "40", "--seed", "2", "--scheme", "noseats",
                 "--truth"]) == 0
    write_sample(tmp_path / "api", customers=40, seed=2, scheme="noseats", truth=True)
    for name in ("invoices.json", "customers.json", "truth.csv"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "api" / name).read_bytes()
    assert f"rows to {tmp_path / 'cli' / 'truth.csv'}" in capsys.readouterr().out
    assert "nrSeats" not in (tmp_path / "cli" / "customers.json").read_text()


def test_cli_sample_rejects_payment_options_for_contracts(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--scheme or --truth with --kind contracts is a usage error (exit 2) and writes nothing; an unknown scheme too."""
    assert main(["sample", "--out", str(tmp_path / "x"), "--kind", "contracts", "--truth"]) == 2
    assert "apply to --kind payments" in capsys.readouterr().err
    assert main(["sample", "--out", str(tmp_path / "x"), "--scheme", "seat13"]) == 2
    assert not (tmp_path / "x").exists()


def test_cli_lists_every_scheme() -> None:
    """The CLI's --scheme choices are the generator's schemes."""
    assert set(cli.PAYMENT_SCHEMES) == set(SCHEMES)


def test_cli_sample_rejects_zero_customers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A customer count below 1 is a one-line error and exit 1, with nothing written."""
    assert main(["sample", "--out", str(tmp_path / "x"), "--customers", "0"]) == 1
    assert capsys.readouterr().err.startswith("Error: customers = 0")
    assert not (tmp_path / "x").exists()


def test_short_window_and_unknown_scheme_are_refused() -> None:
    """A window shorter than a month, or a scheme that does not exist, is a ConfigError."""
    with pytest.raises(ConfigError, match="at least a month"):
        generate(10, start="2017-01-01", end="2017-01-15")
    with pytest.raises(ConfigError, match="seat10, seat12, noseats, seat11"):
        generate(10, scheme="flat")


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


def test_noseats_has_no_seat_column_and_seat10s_charges() -> None:
    """The noseats customers file has no seat column at all; its charges and truth are seat10's."""
    plain = generate_with_truth(200, seed=9, scheme="seat10")
    bare = generate_with_truth(200, seed=9, scheme="noseats")
    assert list(bare.customers.columns) == ["customerId", "nrSessions"]
    assert "nrSeats" in plain.customers.columns
    pd.testing.assert_frame_equal(plain.invoices, bare.invoices)
    pd.testing.assert_frame_equal(plain.truth, bare.truth)


# ----------------------------------------------------------------------------- the log looks like the real one


def test_every_charge_has_a_known_customer_and_falls_in_the_window(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Customer ids are unique, every charge's customer is listed, and every timestamp is within [start, end]."""
    invoices, customers = sample
    assert customers["customerId"].is_unique
    assert len(customers) == 300
    assert invoices["customerId"].isin(customers["customerId"]).all()
    start = pd.Timestamp(DEFAULT_START, tz="UTC").timestamp()
    assert invoices["timestampPaid"].between(start, WINDOW_END.timestamp()).all()


def test_rows_are_shuffled_like_the_real_log(sample: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Charges are not in time or customer order (loaders must not rely on an order)."""
    invoices = sample[0]
    assert not invoices["timestampPaid"].is_monotonic_increasing
    assert not invoices["customerId"].is_monotonic_increasing


def test_renewals_keep_the_anchor_time_of_day(seat10: SampleLog) -> None:
    """Most renewals land on their plan's time of day to the second, all within 30 minutes of it (inside a 2 h tolerance)."""
    periods = _periods(seat10)
    tod = periods["start"].dt.hour * 3600 + periods["start"].dt.minute * 60 + periods["start"].dt.second
    anchor_tod = tod.groupby(periods["ref"]).transform("first")
    renewal = periods["ref"].duplicated()
    off = (tod - anchor_tod)[renewal].abs()
    off = np.minimum(off, DAY - off)
    assert renewal.sum() > 1000
    assert (off == 0).mean() > 0.8
    assert off.max() <= 1800


def test_month_end_anchors_drift_like_the_real_billing_system(seat10: SampleLog) -> None:
    """A plan anchored on the 31st renews on the 30th after a 30-day month and stays on the 30th (10-31, 11-30, 12-30, ...)."""
    periods = _periods(seat10).loc[lambda d: d["ref"].str.contains(":monthly-")]
    days = periods.groupby("ref")["start"].agg(list)
    drifted = [d for d in days if len(d) >= 4 and d[0].day == 31]
    assert drifted, "no monthly plan anchored on the 31st"
    for stamps in drifted:
        day_of_month = [t.day for t in stamps]
        assert all(b <= a for a, b in zip(day_of_month, day_of_month[1:], strict=False)), day_of_month
        assert day_of_month[-1] < 31


def test_prices_are_the_schemes(log: SampleLog) -> None:
    """Monthly per-seat periods cost seats x a (discounted) seat price; flat ones a flat price; annual ones 10, 11 or 12 of those."""
    scheme = log.scheme
    periods = _periods(log).assign(kind=lambda d: d["ref"].str.extract(r":(\w+-\w+)-\d+$", expand=False))
    seat_prices = np.array([p * d for p, s in zip(scheme.prices, scheme.per_seat, strict=True) if s for d in scheme.discounts])
    flat_prices = np.array([p for p, s in zip(scheme.prices, scheme.per_seat, strict=True) if not s])
    months_of = {kind: {m for m, s in zip(scheme.annual_months, scheme.per_seat, strict=True) if s == (kind == "seat")}
                 for kind in ("seat", "flat")}
    assert all(len(m) == 1 for m in months_of.values())  # one year's length for each kind of plan
    months = {kind: m.pop() for kind, m in months_of.items()}
    for kind, frame in periods.groupby("kind"):
        interval, plan = kind.split("-")
        full = frame["mrr"].to_numpy() * (12 / months[plan] if interval == "annual" else 1)  # in monthly list prices
        if plan == "seat":
            seats = full[:, None] / seat_prices[None, :]
            assert (np.abs(seats - np.round(seats)) < 1e-6).any(axis=1).all(), kind
        else:
            assert np.isin(np.round(full, 2), flat_prices).all(), kind
    if scheme.name == "seat10":
        assert set(flat_prices) == {75.0, 150.0, 250.0}
        assert set(np.round(seat_prices, 2)) == {18.0, 16.2, 14.4, 12.6}


def test_single_annual_charges_below_1000(seat10: SampleLog) -> None:
    """seat10 has customers whose only charge is one annual term below 1000 (180, 360 ... for 1, 2 ... seats), many of them one-seat."""
    charges = _charges(seat10).loc[lambda d: d["amountPaid"] > 0]
    counts = charges.groupby("customer_id").size()
    single = charges.loc[charges["customer_id"].isin(counts.index[counts == 1])]
    truth = single.merge(seat10.truth, on=["customer_id", "start"])
    small_annual = truth.loc[(truth["source"] == "annual") & (truth["amountPaid"] < 1000)]
    assert len(small_annual) >= 20
    assert (small_annual["amountPaid"] == 180).sum() >= 10
    assert (small_annual["mrr"] == small_annual["amountPaid"] / 12).all()


def test_prorations_between_renewals_on_monthly_and_annual_plans(seat10: SampleLog) -> None:
    """Seat additions are charged as odd amounts inside a period of monthly and of annual plans, in bursts minutes apart."""
    added = seat10.truth.loc[seat10.truth["source"] == "seats added"]
    assert added["ref"].str.contains(":monthly-").sum() >= 100
    assert added["ref"].str.contains(":annual-").sum() >= 20
    charges = _charges(seat10).merge(added, on=["customer_id", "start"])
    odd = charges["amountPaid"] != charges["amountPaid"].round()
    assert odd.mean() > 0.9
    gap = charges.sort_values(["customer_id", "start"]).groupby("customer_id")["timestampPaid"].diff()
    assert (gap < 600).sum() >= 20


def test_annual_seat_proration_is_the_seat_price_times_the_share_left(seat10: SampleLog) -> None:
    """A seat added to an annual plan costs the annual seat price x the share of the term left (38232: 180 x 364/365 = 179.59)."""
    added = seat10.truth.loc[(seat10.truth["source"] == "seats added") & seat10.truth["ref"].str.contains(":annual-")]
    charges = _charges(seat10).merge(added, on=["customer_id", "start"])
    term_end = seat10.truth.loc[seat10.truth["source"] == "annual"].set_index(["ref", "end"]).index
    charges = charges.loc[pd.MultiIndex.from_arrays([charges["ref"], charges["end"]]).isin(term_end)]
    left = (charges["end"] - charges["start"]).dt.total_seconds() / (365 * DAY)
    seat_price = charges["mrr"] * 12  # one seat per charge for small additions
    ratio = charges["amountPaid"] / (seat_price * left)
    assert len(charges) >= 10
    assert ((ratio - 1).abs() < 0.01).mean() > 0.7  # the rest: batches of more than 4 seats, renewals a minute off


def test_seat_removals_and_upgrades_change_renewals(log: SampleLog) -> None:
    """Some renewals of a plan are lower than the one before (seats removed), some higher (seats added, upgrades)."""
    periods = _periods(log)
    before = periods.groupby("ref")["mrr"].shift()
    assert (periods["mrr"] < before - 0.001).sum() >= 10
    assert (periods["mrr"] > before + 0.001).sum() >= 50
    if log.scheme.name == "seat12":
        assert (log.truth["source"] == "upgrade").sum() >= 20


def test_churn_reactivation_switches_and_side_plans(log: SampleLog) -> None:
    """Plans churn, some customers come back on a new plan, some switch from monthly to annual, some run two plans at once."""
    plans = log.plans
    assert (plans["ended"] == "churn").sum() >= 200
    assert (plans["origin"] == "reactivation").sum() >= 10
    assert (plans["origin"] == "switch").sum() >= 10
    assert (plans["origin"] == "side").sum() >= 10
    assert (plans["origin"] == "add-on").sum() >= 5
    assert (plans["ended"] == "trial only").sum() >= 1


def test_a_switch_to_annual_starts_where_the_monthly_plan_ends(log: SampleLog) -> None:
    """The annual plan of a switch starts at the charge that ends the customer's monthly plan, mid-cycle."""
    periods = _periods(log)
    switched = log.plans.loc[log.plans["origin"] == "switch"]
    last_monthly = periods.loc[periods["ref"].str.contains(":monthly-")].groupby("customer_id")["end"].apply(set)
    for row in switched.itertuples():
        assert row.start in last_monthly[row.customer_id]


def test_zero_amounts_refunds_and_trial_only_customers(seat10: SampleLog) -> None:
    """The log holds zero-amount charges, a few refunds (negative), and customers whose only charges are 0."""
    invoices = seat10.invoices
    assert (invoices["amountPaid"] == 0).sum() >= 10
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
    """A few thousand customers over three years give several charges each."""
    invoices, customers = generate(3000, seed=1, start="2015-01-01", end="2017-12-31 23:59:59")
    assert len(customers) == 3000
    assert len(invoices) > 7 * 3000


# ----------------------------------------------------------------------------- the truth


def test_truth_is_a_valid_schedule(log: SampleLog) -> None:
    """The truth has the schedule's columns and dtypes, passes kpi.schedule's checks, and starts inside the window."""
    truth = log.truth
    assert tuple(truth.columns) == SCHEDULE_COLUMNS
    assert str(truth["start"].dtype) == "datetime64[ns, UTC]" and str(truth["end"].dtype) == "datetime64[ns, UTC]"
    assert truth["customer_id"].map(type).eq(str).all()  # text ids, like kpi.billing's schedule
    assert check_schedule(truth) == []
    assert (truth["end"] > truth["start"]).all()
    assert (truth["start"] <= WINDOW_END).all()
    assert (truth["end"] > WINDOW_END).sum() >= 100, "running plans keep their paid period past the window end"
    assert set(truth["source"]) <= {"monthly", "annual", "seats added", "upgrade"}
    assert truth["customer_id"].isin(log.invoices["customerId"].astype(str)).all()


def test_every_positive_charge_opens_a_truth_piece(log: SampleLog) -> None:
    """Each positive charge has a truth piece of its customer starting at its second, and each piece starts at such a charge."""
    charges = _charges(log)
    positive = charges.loc[charges["amountPaid"] > 0, ["customer_id", "start"]].drop_duplicates()
    merged = positive.merge(log.truth[["customer_id", "start"]].drop_duplicates(), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both"].head()


def test_zero_charges_and_refunds_open_no_piece(log: SampleLog) -> None:
    """Zero-amount charges (trials, coupons) and refunds have no truth piece starting at them."""
    charges = _charges(log)
    other = charges.loc[charges["amountPaid"] <= 0, ["customer_id", "start"]]
    paid = charges.loc[charges["amountPaid"] > 0, ["customer_id", "start"]]
    lone = other.merge(paid, how="left", indicator=True).loc[lambda d: d["_merge"] == "left_only"]
    assert len(lone) >= 10
    assert lone[["customer_id", "start"]].merge(log.truth, on=["customer_id", "start"]).empty


def test_period_rates_are_their_charges(log: SampleLog) -> None:
    """A monthly period's rate is its charge; an annual period's is its charge / 12 and it lasts a year (to a renewal minutes off)."""
    merged = _charges(log).merge(_periods(log), on=["customer_id", "start"])
    monthly = merged.loc[merged["source"] == "monthly"]
    annual = merged.loc[merged["source"] == "annual"]
    assert np.allclose(monthly["mrr"], monthly["amountPaid"])
    assert np.allclose(annual["mrr"] * 12, annual["amountPaid"])
    days = (annual["end"] - annual["start"]).dt.total_seconds() / DAY
    assert days.between(364.9, 366.1).all()


def test_plan_periods_neither_overlap_nor_leave_gaps_while_renewed(log: SampleLog) -> None:
    """Within a plan, each period piece ends where the next one starts, unless a free month lies between them."""
    periods = _periods(log)
    same = periods["ref"].eq(periods["ref"].shift(-1))
    next_start = periods["start"].shift(-1)
    assert (periods.loc[same, "end"] <= next_start[same]).all()
    assert (periods.loc[same, "end"] == next_start[same]).mean() > 0.98


def test_seat_additions_show_in_the_next_renewal(log: SampleLog) -> None:
    """The truth's MRR of a plan just before a renewal equals the renewal's rate, unless seats were removed at it."""
    truth = log.truth
    periods = _periods(log)
    renewals = periods.loc[periods["ref"].duplicated()]
    at = renewals["start"] - pd.Timedelta(seconds=1)
    pieces = truth.merge(renewals[["ref", "start"]].rename(columns={"start": "renewal"}), on="ref")
    pieces = pieces.loc[(pieces["start"] <= pieces["renewal"] - pd.Timedelta(seconds=1)) & (pieces["end"] >= pieces["renewal"])]
    before = pieces.groupby(["ref", "renewal"])["mrr"].sum()
    rate = renewals.set_index(["ref", "start"])["mrr"]
    before = before.reindex(rate.index)
    assert len(at) > 500
    equal = np.isclose(before.to_numpy(), rate.to_numpy(), atol=0.01)
    lower = rate.to_numpy() < before.to_numpy() - 0.01  # seats removed at the renewal
    assert (equal | lower).mean() > 0.98  # the rest: a plan upgraded at that renewal
    assert equal.mean() > 0.85


def test_truth_through_kpi_mrr_keeps_the_identity(log: SampleLog) -> None:
    """The truth fed through kpi.mrr gives month-end MRR that satisfies the MRR identity to the cent, with churn and reactivation."""
    table = mrr_by_month(customer_months(log.truth, WINDOW_END, "UTC"))
    assert check_identity(table) == []
    assert len(table) == 24
    assert table["churned_mrr"].sum() > 0
    assert table["reactivation_mrr"].sum() > 0
    assert table["mrr"].iloc[-1] > table["mrr"].iloc[6]


def test_todays_seats_know_no_seat_added_after_the_window() -> None:
    """A customer with one per-seat plan, running at the window's end: the export holds the seats its pieces running
    then hold (a seat bought after the end, in the same period, was in the export before: an export made at the end
    cannot know it)."""
    end = "2017-06-30 23:59:59"
    log = generate_with_truth(1500, seed=3, end=end, scheme="seat11")
    at = pd.Timestamp(end, tz="UTC")
    truth = log.truth.assign(seats=log.truth_seats)
    one_plan = log.plans.groupby("customer_id")["ref"].count().loc[lambda s: s == 1].index
    running = truth.loc[(truth["start"] <= at) & (truth["end"] > at) & truth["customer_id"].isin(one_plan)]
    held = running.groupby("customer_id")["seats"].sum().loc[lambda s: s > 0]
    export = log.customers.set_index(log.customers["customerId"].astype(str))["nrSeats"].astype("float64")
    both = pd.concat([held.rename("held"), export.reindex(held.index).rename("export")], axis=1).dropna()
    assert len(both) > 300
    assert (both["held"] == both["export"]).all(), both.loc[both["held"] != both["export"]].head()
