"""benchmarks/accuracy.py: its scoring reports no error for a job that returns the truth, and a tiny run writes its report."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from kpi.billing import empty_billing
from kpi.mrr import customer_months, mrr_by_month
from tests.benchmarks import REPO, load


@pytest.fixture(scope="module")
def accuracy() -> ModuleType:
    return load("accuracy")


def _truth_reading(truth: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = customer_months(truth, as_of, "UTC")
    return months, mrr_by_month(months)


def test_a_job_that_returns_the_truth_scores_zero(accuracy: ModuleType, tmp_path: Path) -> None:
    """Readings computed from the truth itself give 0 error in every month, sum and pattern, and pass every target."""
    ds = accuracy.make_dataset("seat10", 5, 200, 6, [], tmp_path)
    days, _ = accuracy.month_ends(accuracy.START, 6)
    truth = ds.log.truth
    invoices = ds.log.invoices
    as_of = pd.Timestamp(int(invoices.loc[invoices["amountPaid"] > 0, "timestampPaid"].max()), unit="s", tz="UTC")
    months, table = _truth_reading(truth, as_of)
    readings = []
    for day in days:
        at = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=23, minutes=59, seconds=59)
        m, t = _truth_reading(truth, at)
        last = t["month"].max()
        readings.append({"day": day, "as_of": at, "row": t.loc[t["month"] == last],
                         "customer_months": m.loc[m["month"] == last]})
    result = accuracy.score(ds, {"final": {"as_of": as_of, "mrr_by_month": table, "customer_months": months,
                                           "billing": empty_billing()},
                                 "readings": readings, "seconds": 0.0, "modules": []}, days,
                            accuracy.lone_counts(truth))
    assert len(result["months"]) == 6
    assert all(m["final_error"] == 0 and m["month_end_error"] == 0 for m in result["months"])
    # (the majority-rule oracle is the truth read by an oracle, not the job: it has an error of its own)
    assert all(s["error"] in (0, None) for k, s in result["sums"].items() if k != "churned_mrr_majority_oracle")
    assert all(p.get("abs_error", 0) == 0 for p in result["patterns"] if not p["pattern"].startswith("_"))
    assert result["singles"]["monthly_terms_below_1000"] == 0 and result["singles"]["small_annual_plans"] > 0
    assert result["customer_error"]["final"]["error"] == 0 and result["customer_error"]["month_end"]["error"] == 0
    summary = accuracy.per_scheme([result])
    assert all(summary["seat10"]["targets"].values())
    assert summary["seat10"]["customer_error"] == {"month_end": 0.0, "month_end_young": 0.0, "final": 0.0}


def test_the_month_end_error_of_customers_whose_first_charge_is_under_a_month_old(accuracy: ModuleType,
                                                                                  tmp_path: Path) -> None:
    """At one month end, a customer whose first charge is less than a month old and one whose first charge is older
    are each read 1.00 high: both count in the month-end customer-level error, only the first in its young part."""
    ds = accuracy.make_dataset("seat10", 5, 200, 6, [], tmp_path)
    days, _ = accuracy.month_ends(accuracy.START, 6)
    truth = ds.log.truth
    invoices = ds.log.invoices
    paid = invoices.loc[invoices["amountPaid"] > 0]
    first = pd.to_datetime(paid.groupby(paid["customerId"].astype(str))["timestampPaid"].min(), unit="s", utc=True)
    as_of = pd.Timestamp(int(paid["timestampPaid"].max()), unit="s", tz="UTC")
    months, table = _truth_reading(truth, as_of)
    readings = []
    for i, day in enumerate(days):
        at = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=23, minutes=59, seconds=59)
        m, t = _truth_reading(truth, at)
        last = t["month"].max()
        m = m.loc[m["month"] == last].copy()
        if i == 3:  # the 4th month end: one young customer and one older, each 1.00 high
            age = at - m["customer_id"].map(first)
            young = m.index[(age < pd.Timedelta(days=28)) & (m["mrr"] > 0)][0]
            old = m.index[(age > pd.Timedelta(days=62)) & (m["mrr"] > 0)][0]
            m.loc[[young, old], "mrr"] += 1.0
        readings.append({"day": day, "as_of": at, "row": t.loc[t["month"] == last], "customer_months": m})
    result = accuracy.score(ds, {"final": {"as_of": as_of, "mrr_by_month": table, "customer_months": months,
                                           "billing": empty_billing()},
                                 "readings": readings, "seconds": 0.0, "modules": []}, days,
                            accuracy.lone_counts(truth))
    error = result["customer_error"]
    assert error["month_end"]["abs"] == pytest.approx(2.0)
    assert error["month_end_young"]["abs"] == pytest.approx(1.0) and error["month_end_young"]["net"] == pytest.approx(1.0)
    assert error["final"]["abs"] == 0


def test_errors_that_cancel_in_a_months_total_add_up_customer_by_customer(accuracy: ModuleType, tmp_path: Path
                                                                          ) -> None:
    """Two customers misread by the same amount in opposite directions every month: every month's total is exact, and
    the customer-level error is twice that amount per month over the true MRR."""
    ds = accuracy.make_dataset("seat10", 5, 200, 6, [], tmp_path)
    days, _ = accuracy.month_ends(accuracy.START, 6)
    truth = ds.log.truth
    invoices = ds.log.invoices
    as_of = pd.Timestamp(int(invoices.loc[invoices["amountPaid"] > 0, "timestampPaid"].max()), unit="s", tz="UTC")

    def shifted(months: pd.DataFrame) -> pd.DataFrame:
        """One customer 1.00 up and another 1.00 down in every month where both have MRR above 1."""
        out = months.copy()
        for _, rows in out.groupby("month"):
            both = rows.loc[rows["mrr"] > 1].index[:2]
            if len(both) == 2:
                out.loc[both[0], "mrr"] += 1.0
                out.loc[both[1], "mrr"] -= 1.0
        return out

    months, table = _truth_reading(truth, as_of)
    readings, true_ends = [], 0.0
    for day in days:
        at = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=23, minutes=59, seconds=59)
        m, t = _truth_reading(truth, at)
        last = t["month"].max()
        readings.append({"day": day, "as_of": at, "row": t.loc[t["month"] == last],
                         "customer_months": shifted(m.loc[m["month"] == last])})
        true_ends += float(t.loc[t["month"] == last, "mrr"].iloc[0])
    result = accuracy.score(ds, {"final": {"as_of": as_of, "mrr_by_month": table, "customer_months": shifted(months),
                                           "billing": empty_billing()},
                                 "readings": readings, "seconds": 0.0, "modules": []}, days,
                            accuracy.lone_counts(truth))
    assert all(m["final_error"] == 0 and m["month_end_error"] == 0 for m in result["months"])  # totals: exact
    n_final = sum(1 for _, rows in months.groupby("month") if (rows["mrr"] > 1).sum() >= 2)
    assert result["customer_error"]["final"]["abs"] == pytest.approx(2.0 * n_final)
    assert result["customer_error"]["final"]["error"] == pytest.approx(2.0 * n_final / months["mrr"].sum())
    assert result["customer_error"]["month_end"]["abs"] == pytest.approx(2.0 * len(days))
    assert result["customer_error"]["month_end"]["error"] == pytest.approx(2.0 * len(days) / true_ends)


def test_the_majority_oracle_reads_every_lone_charge_the_commoner_way_at_its_amount(accuracy: ModuleType) -> None:
    """Three lone years at 180 and one lone month at 180 (10 seats): the oracle reads all four as years, so the
    month's churn of 180 is missed and a year's churn of 15 comes instead, a year later. A lone month at 54 (no year
    there) and a plan of two months are read as they are."""
    utc = "datetime64[ns, UTC]"
    rows = [("a", "a:1", "2016-01-05", "2017-01-05", 15.0, "annual"), ("b", "b:1", "2016-01-06", "2017-01-06", 15.0,
            "annual"), ("c", "c:1", "2016-01-07", "2017-01-07", 15.0, "annual"),
            ("m", "m:1", "2016-01-10", "2016-02-10", 180.0, "monthly"),
            ("s", "s:1", "2016-01-11", "2016-02-11", 54.0, "monthly"),
            ("t", "t:1", "2016-01-12", "2016-02-12", 36.0, "monthly"), ("t", "t:1", "2016-02-12", "2016-03-12", 36.0,
                                                                          "monthly")]
    truth = pd.DataFrame(rows, columns=["customer_id", "ref", "start", "end", "mrr", "source"])
    truth["start"] = pd.to_datetime(truth["start"], utc=True).astype(utc)
    truth["end"] = pd.to_datetime(truth["end"], utc=True).astype(utc)
    counts = accuracy.lone_counts(truth)
    assert counts.loc[180.0].tolist() == [1, 3] and counts.loc[54.0].tolist() == [1, 0] and 36.0 not in counts.index
    floor = accuracy.majority_oracle(truth, pd.Timestamp("2017-12-31", tz="UTC"), counts)
    assert floor["true"] == 180.0 + 54.0 + 36.0 + 3 * 15.0
    assert floor["inferred"] == 54.0 + 36.0 + 4 * 15.0 and floor["ambiguous"] == 4 and floor["misread"] == 1


def test_months_are_counted_by_the_logs_age(accuracy: ModuleType) -> None:
    """Two runs of 14 months: a month end beyond 2% counts in the band of its place in the log (1-3, 4-12, 13+), the
    worst is the largest in size whatever its sign, a month without a month-end error (or a final one) is left out
    of those counts but not of the churn its month end published, and the churn counts from the log's 2nd month."""
    def month(end: float | None, final: float | None = 0.0, published: float = 10.0, true: float = 10.0) -> dict:
        return {"month_end_error": end, "final_error": final, "month_end_churned_mrr": published,
                "true_churned_mrr": true}

    one = [month(0.5, published=99.0, true=0.0), month(-0.03, final=0.025), month(0.0)] + [month(0.0)] * 8 + [
        month(0.0, final=None), month(0.021, published=12.0), month(None, final=-0.03)]
    two = [month(0.01)] * 3 + [month(-0.05, published=5.0)] + [month(0.0)] * 10
    bands = accuracy.by_age([{"months": one}, {"months": two}])
    assert [b["band"] for b in bands] == ["1-3", "4-12", "13+"]
    assert [b["month_ends"] for b in bands] == [6, 18, 3]
    assert [b["beyond_at_month_end"] for b in bands] == [2, 1, 1]
    assert [b["finals"] for b in bands] == [6, 17, 4]
    assert [b["beyond_final"] for b in bands] == [1, 0, 1]
    assert [b["worst_at_month_end"] for b in bands] == [0.5, -0.05, 0.021]
    assert bands[0]["churned_mrr_as_published"] == {"inferred": 40.0, "true": 40.0, "error": 0.0}  # from the 2nd month
    assert bands[1]["churned_mrr_as_published"]["inferred"] == 175.0 and bands[1]["churned_mrr_as_published"]["true"] == 180
    assert bands[2]["churned_mrr_as_published"] == {"inferred": 42.0, "true": 40.0, "error": pytest.approx(0.05)}
    assert bands[0]["customer_error"] is None  # no month with a customer-level error: none to pool


def test_the_customer_level_error_is_pooled_by_the_logs_age(accuracy: ModuleType) -> None:
    """Months 1 and 4 of one run: each band's customer-level error is its months' |error| over their true MRR, and its
    young part the same over the same MRR."""
    def month(abs_error: float, young: float, true: float) -> dict:
        return {"month_end_error": 0.0, "final_error": 0.0, "month_end_churned_mrr": 0.0, "true_churned_mrr": 0.0,
                "month_end_true_mrr": true, "month_end_abs_error": abs_error, "month_end_young_abs_error": young}

    run = [month(30.0, 20.0, 100.0), month(0.0, 0.0, 100.0), month(10.0, 10.0, 200.0), month(8.0, 2.0, 400.0)]
    first, later, _ = accuracy.by_age([{"months": run}])
    assert first["customer_error"] == pytest.approx(40.0 / 400.0)
    assert first["customer_error_young"] == pytest.approx(30.0 / 400.0)
    assert later["customer_error"] == pytest.approx(0.02) and later["customer_error_young"] == pytest.approx(0.005)


def test_a_tiny_run_writes_the_report_and_the_figures(accuracy: ModuleType, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    """A 150-customer, 3-month run reads the log with this checkout's job and writes markdown and JSON with every month."""
    md, js = tmp_path / "acc.md", tmp_path / "acc.json"
    assert accuracy.main(["--schemes", "seat12", "--seeds", "3", "--customers", "150", "--months", "3", "--jobs", "1",
                          "--seats", "then", "--markdown", str(md), "--json", str(js)]) == 0
    figures = json.loads(js.read_text())
    run = figures["runs"][0]
    assert [m["month"] for m in run["months"]] == ["2016-01", "2016-02", "2016-03"]
    assert all(str(REPO) in f for f in figures["job_modules"])
    assert set(figures["schemes"]["seat12"]["targets"]) == {
        "every month within 2% (final)", "every month within 2% (own month end)", "churned MRR within 5%",
        "churned customers within 5%"}
    text = md.read_text()
    assert figures["seats"] == "then" and "month-end readings see the seat counts of their month end" in text
    assert text.startswith("## Accuracy of the billing inference") and "Command: `python benchmarks/accuracy.py" in text
    assert "| seat12 | 3 |" in capsys.readouterr().out
    ages = figures["schemes"]["seat12"]["by_age"]  # three months: only the first band has month ends
    assert [b["month_ends"] for b in ages] == [3, 0, 0] and "| seat12 | 1-3 | " in text and "| seat12 | 4-12 |" not in text


def test_the_markdown_section_replaces_its_earlier_self(accuracy: ModuleType, tmp_path: Path) -> None:
    """--markdown into a file with other sections replaces only its own section, or appends it the first time."""
    path = tmp_path / "results.md"
    path.write_text("# Benchmarks\n\nspeed table\n\n## Where the time goes\n\nprofile\n")
    accuracy.write_section(path, accuracy.SECTION + "\n\nfirst\n\n### Targets\n\nx\n")
    accuracy.write_section(path, accuracy.SECTION + "\n\nsecond\n")
    text = path.read_text()
    assert text.count(accuracy.SECTION) == 1 and "second" in text and "first" not in text
    assert text.startswith("# Benchmarks\n\nspeed table\n\n## Where the time goes\n\nprofile\n")
    path.write_text(text.replace("second\n", "second\n\n## Later section\n\nkept\n"))
    accuracy.write_section(path, accuracy.SECTION + "\n\nthird\n")
    assert "third" in path.read_text() and "## Later section\n\nkept" in path.read_text()


def test_sections_with_different_headings_live_side_by_side(accuracy: ModuleType, tmp_path: Path) -> None:
    """The --seats then report has a heading of its own: writing it keeps the default report, and the other way round."""
    path = tmp_path / "results.md"
    then = accuracy.SECTION + " (month ends with the seat counts of then)"
    accuracy.write_section(path, accuracy.SECTION + "\n\ntoday's\n")
    accuracy.write_section(path, then + "\n\nthen's\n")
    accuracy.write_section(path, accuracy.SECTION + "\n\ntoday's again\n")
    text = path.read_text()
    assert "today's again" in text and "then's" in text and "today's\n" not in text.replace("today's again", "")


def test_seats_then_are_the_seats_a_plan_held_at_that_instant(accuracy: ModuleType) -> None:
    """An annual 5-seat plan at 18 x 10 months (75 a month) with a seat added in June and upgraded in September to a
    price of 36 a seat (the upgrade's piece holds no seat), 33 seats in today's export: 5 in April, 6 in July, still 6
    in October (the MRR over one seat's price would say 12); a flat-plan customer and a customer whose export has no
    count keep today's value."""
    import numpy as np

    from sync.samples.payments import SCHEMES, SampleLog

    utc = "datetime64[ns, UTC]"
    plans = pd.DataFrame({"customer_id": ["a", "f"], "ref": ["a:annual-seat-1", "f:monthly-flat-1"],
                          "interval": ["annual", "monthly"], "product": ["seat 18", "flat 75"],
                          "list_price": [18.0, 75.0], "discount": [1.0, 1.0], "seats": [5, 1],
                          "start": pd.to_datetime(["2016-03-19", "2016-03-01"], utc=True).astype(utc)})
    truth = pd.DataFrame({"customer_id": ["a", "a", "a", "f"],
                          "ref": ["a:annual-seat-1", "a:annual-seat-1", "a:annual-seat-1", "f:monthly-flat-1"],
                          "start": pd.to_datetime(["2016-03-19", "2016-06-01", "2016-09-01", "2016-03-01"],
                                                  utc=True).astype(utc),
                          "end": pd.to_datetime(["2017-03-19", "2017-03-19", "2017-03-19", "2016-12-01"],
                                                utc=True).astype(utc),
                          "mrr": [75.0, 15.0, 90.0, 75.0], "source": ["annual", "seats added", "upgrade", "monthly"]})
    customers = pd.DataFrame({"customerId": ["a", "f", "n"], "nrSessions": [1, 1, 1],
                              "nrSeats": pd.array([33, 4, pd.NA], dtype="Int64")})
    log = SampleLog(invoices=pd.DataFrame(), customers=customers, truth=truth, plans=plans, scheme=SCHEMES["seat10"],
                    truth_seats=np.array([5, 1, 0, 0]))
    april, july, october = (accuracy.seats_then(log, pd.Timestamp(day, tz="UTC"))
                            for day in ("2016-04-30 23:59:59", "2016-07-31 23:59:59", "2016-10-31 23:59:59"))
    assert (april.loc["a"], july.loc["a"], october.loc["a"]) == (5.0, 6.0, 6.0)
    assert april.loc["f"] == 4.0 and pd.isna(april.loc["n"])


def test_the_generators_seats_add_up_to_the_plans_seats() -> None:
    """The generator's truth_seats: each paid period of a per-seat plan holds its seat count, each seat addition its
    seats, flat plans and upgrades none; a plan's first period holds the seats it was drawn with."""
    from sync.samples.payments import generate_with_truth

    log = generate_with_truth(400, seed=5, scheme="seat11")
    truth = log.truth.assign(seats=log.truth_seats)
    assert len(log.truth_seats) == len(log.truth)
    assert (truth.loc[truth["ref"].str.contains(":(?:annual|monthly)-flat-"), "seats"] == 0).all()
    assert (truth.loc[truth["source"] == "upgrade", "seats"] == 0).all()
    assert (truth.loc[truth["source"] == "seats added", "seats"] >= 1).all()
    first = truth.loc[truth["source"].isin(["monthly", "annual"])].sort_values("start").drop_duplicates("ref")
    seat_plans = log.plans.loc[log.plans["ref"].str.contains("-seat-")].set_index("ref")["seats"]
    held = first.set_index("ref")["seats"].reindex(seat_plans.index).dropna()
    assert len(held) > 100 and (held == seat_plans.loc[held.index]).mean() > 0.95  # a trial's first period is free


def test_a_billing_line_replaces_the_default_of_its_key(accuracy: ModuleType) -> None:
    """`--billing 'prorations = "share"'` replaces the default prorations line (appended, TOML refused the run:
    'Cannot overwrite a value'); other keys keep their defaults and new keys are added."""
    import tomllib

    text = accuracy.billing_lines(['prorations = "share"', 'unlisted_tiers = "month"'])
    billing = tomllib.loads(text)
    assert billing == {"renewal_tolerance_hours": 2, "annual_min_amount": 1000, "prorations": "share",
                       "unlisted_tiers": "month"}
    assert tomllib.loads(accuracy.billing_lines([]))["prorations"] == "normalize"
