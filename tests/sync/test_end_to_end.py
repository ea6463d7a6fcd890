"""The whole job on the real payment log and on the shipped sample, read back from what it published."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from sync.cli import main

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "payments-log"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"the real payment log is not at {SHARED}")


def read(out: Path, name: str) -> list[dict]:
    with (out / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def shared_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the real payment log is not at {SHARED}")
    out = tmp_path_factory.mktemp("shared") / "csv"
    assert main(["now", "--config", str(ROOT / "config" / "shared-payments-log.toml"), "--sink", f"csv:{out}"]) == 0
    return out


@needs_shared
def test_customers_tab_has_one_row_per_customer(shared_out: Path) -> None:
    """The Customers tab lists each of the 550 customers once, with its attributes."""
    rows = read(shared_out, "customers.csv")
    assert len(rows) == 550 == len({r["Customer"] for r in rows})
    assert sum(1 for r in rows if r["Seats"] == "") == 84


@needs_shared
def test_published_mrr_identity_holds_to_the_cent(shared_out: Path) -> None:
    """In the published MRR tab, MRR = previous + new + expansion + reactivation - contraction - churn, to the cent, every month."""
    rows = read(shared_out, "mrr.csv")
    assert [r["Month"] for r in rows][0] == "2016-08" and rows[-1]["Month"] == "2017-10" and len(rows) == 15
    previous = Decimal(0)
    for r in rows:
        d = {k: Decimal(r[k] or "0") for k in ("MRR", "New MRR", "Expansion MRR", "Reactivation MRR", "Contraction MRR", "Churned MRR")}
        expected = previous + d["New MRR"] + d["Expansion MRR"] + d["Reactivation MRR"] - d["Contraction MRR"] - d["Churned MRR"]
        assert abs(d["MRR"] - expected) < Decimal("0.005"), r["Month"]
        previous = d["MRR"]


@needs_shared
def test_about_tab_names_each_input_with_rows_and_sha256(shared_out: Path) -> None:
    """The About tab gives as_of, each input file's lines read and sha256, and the settings used."""
    rows = read(shared_out, "about.csv")
    items = {(r["Section"], r["Item"]): r["Value"] for r in rows}
    assert items[("Run", "as_of (UTC)")] == "2017-10-17 10:53:42"
    inputs = [r for r in rows if r["Section"] == "Input"]
    assert len(inputs) == 2 and all("sha256 " in r["Value"] for r in inputs)
    assert any("3177 lines read" in r["Value"] for r in inputs)
    # inputs named as the config's [sources] names them, the config by its name: no machine path in the workbook
    # (how many ../ depends on where the checkout and ../shared really are: symlinks are resolved)
    shown = sorted(r["Item"] for r in inputs)
    assert [s.split(": ", 1)[0] for s in shown] == ["customers", "invoices"]
    assert all(s.split(": ", 1)[1].startswith("../") for s in shown)
    assert shown[0].endswith("/shared/data/payments-log/information_customer.json")
    assert shown[1].endswith("/shared/data/payments-log/invoices_per_customer.json")
    assert items[("Run", "config file")] == "shared-payments-log.toml"
    assert items[("Setting", "billing.renewal_tolerance_hours")] == "2.0"
    assert items[("Run", "published to")] == f"csv:{shared_out}"


def test_default_config_runs_on_the_shipped_sample(tmp_path: Path) -> None:
    """`kpi-sync now` with the default config publishes the core tabs from the shipped sample."""
    out = tmp_path / "csv"
    assert main(["now", "--sink", f"csv:{out}"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"summary.csv", "mrr.csv", "mrr_by_quarter.csv", "customers.csv", "billing.csv", "data_quality.csv", "about.csv"} <= names


def test_contract_days_are_taken_in_the_configured_timezone(tmp_path: Path) -> None:
    """A contract day is a day in the configured timezone: a February contract in New York is not in January's MRR (it would be, read in UTC)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "customers.json").write_text(
        '{"customerId": "c1", "name": "Acme", "sector": "Retail", "partnerType": null, "partnerName": null}\n', encoding="utf-8")
    (data / "contracts.json").write_text(
        '{"contractId": "k1", "customerId": "c1", "solution": "Payroll", "kind": "subscription", "amount": 1200, '
        '"startDate": "2024-02-01", "endDate": "2024-02-29"}\n', encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(
        'timezone = "America/New_York"\nas_of = "2024-03-31"\n[dataset]\nkind = "contracts"\n'
        '[sources]\ncustomers = "data/customers.json"\ncontracts = "data/contracts.json"\n', encoding="utf-8")
    out = tmp_path / "csv"
    assert main(["now", "--config", str(config), "--sink", f"csv:{out}"]) == 0
    mrr = {r["Month"]: r["MRR"] for r in read(out, "mrr.csv")}
    assert mrr == {"2024-02": "100", "2024-03": "0"}


@needs_shared
def test_cohort_starting_mrr_is_the_months_new_mrr(shared_out: Path) -> None:
    """Every customer of cohort C is new in month C, so its Starting MRR equals C's New MRR to the cent."""
    new = {r["Month"]: r["New MRR"] for r in read(shared_out, "mrr.csv")}
    for row in read(shared_out, "cohorts_revenue.csv"):
        assert Decimal(row["Starting MRR"] or "0") == Decimal(new[row["Cohort"]] or "0"), row["Cohort"]


@needs_shared
def test_a_month_end_run_does_not_churn_a_customer_who_just_paid(tmp_path: Path) -> None:
    """Run as of 2016-12-31 (what the hourly worker sees then): 203362, who paid on 12-30, is active, not churned."""
    out = tmp_path / "csv"
    config = str(ROOT / "config" / "shared-payments-log.toml")
    assert main(["now", "--config", config, "--sink", f"csv:{out}", "--as-of", "2016-12-31"]) == 0
    customers = {r["Customer"]: r for r in read(out, "customers.csv")}
    assert customers["203362"]["Status"] == "active"
    assert customers["203362"]["Last month"] == "2016-12"


@needs_shared
def test_a_reading_as_of_a_past_day_counts_only_the_customers_of_then(tmp_path: Path) -> None:
    """As of 2016-08-31 the shared log had 15 paying customers: the 535 whose first charge came later are no customers
    of that reading (they made its "top quarter by lifetime revenue" 15 customers and "2.7% of all")."""
    out = tmp_path / "csv"
    assert main(["now", "--config", str(ROOT / "config" / "shared-payments-log.toml"), "--sink", f"csv:{out}",
                 "--as-of", "2016-08-31"]) == 0
    customers = read(out, "customers.csv")
    assert len(customers) == 15 and all(r["Status"] == "active" for r in customers)
    core = {r["Group"]: r for r in read(out, "core_users.csv")}
    assert core["All customers"]["Customers"] == "15" and core["Core users"]["Customers"] == "4"
    summary = {r["Topic"]: r["Sentence"] for r in read(out, "summary.csv")}
    assert "(4 customers, 26.7% of all," in summary["Core users"]
    assert "43.6% of MRR from 20.0% of customers." in summary["Segments"]
