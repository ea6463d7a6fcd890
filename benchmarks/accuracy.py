"""Accuracy benchmark: the job's MRR from a generated payment log against the truth behind that log.

Usage:
    python benchmarks/accuracy.py [--schemes seat10,seat12,noseats,seat11] [--seeds 1 2] [--customers 3000]
        [--months 24] [--quick] [--jobs 2] [--job-repo PATH] [--billing 'KEY = VALUE' ...]
        [--markdown PATH] [--json PATH] [--keep DIR]

For each scheme and seed, `sync.samples.payments.generate_with_truth` writes a log (invoices.json,
customers.json) and its true revenue schedule (truth.csv) over `--months` months from 2016-01-01,
with a config like benchmarks/bench.py's ([billing] at its defaults, plus any --billing lines).
A child process whose PYTHONPATH is the job's checkout (--job-repo, default this one) reads it the
way the job does: sync.settings.load_settings, sync.run.load_dataset once, then for each as_of
resolve_as_of, check_as_of, build_context (where the billing inference runs, with the config's
[billing]), check_invariants and ctx.mrr_by_month, as `kpi-sync now [--as-of DAY]` does. The
readings: the final one (as_of = the newest charge, the job's default) and one at the last second
of every month with only the charges up to then (what an hourly worker publishes at that moment).
The truth goes through the same kpi.mrr functions (customer_months -> mrr_by_month) at the same
instants. Nothing in kpi/ is changed or re-implemented; the per-customer comparisons (error by
customer pattern, false and missed churn) use kpi.mrr.movements on both sides.

Figures, per scheme and seed (and the worst over seeds per scheme):
- final: each month's MRR in the final reading against the truth (worst month, and which);
- month end: each month read at its own month end against the truth at that instant;
- restatement: how far each month-end reading moves in the final reading (complete months);
- churned MRR, churned customers, new MRR summed over all months, and the first month's MRR,
  against the truth (relative error); churned MRR also as published (each month at its month end);
- single charges below 1000 that the Billing table reads as a one-month term (kind "monthly term"),
  and what the truth says they are (annual, monthly, a seat addition); small annual plans (a first
  annual charge below 1000) and how many the Billing table reads as annual;
- where the error comes from: absolute MRR error, false churn and missed churn by customer pattern;
- customer-level error: |MRR error| per customer summed over customers and months, over the true MRR (at month
  ends, with the part of it from customers whose first charge is less than a month old there, and in the final
  reading), where misreadings of opposite sign do not cancel as in a month's total.
Targets: every month within 2% of the truth, in the final reading and at its own month end;
churned MRR and churned customers within 5%. Prints a markdown report; --markdown PATH writes it as
a section (command, machine, commits) into PATH, replacing an earlier one (so it can live in
benchmarks/results.md); --json writes every figure, each month's included. --quick: one seed,
800 customers, 12 months. The default run (4 schemes x 2 seeds x 3,000 customers x 24 month ends)
takes about 30 s on 2 cores. seat11 is the held-out price list (sync/samples/payments.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

START = "2016-01-01"
SCHEMES = ("seat10", "seat12", "noseats", "seat11")
MONTH_TARGET = 0.02
CHURN_TARGET = 0.05
STEADY_FROM = 3  # "from the 4th month": the first months' small MRR makes any error there large
# the log's age at a month end, in months (1 = its first month): before its 4th month, before its first year is out
# (no single charge a year old: no renewal a year later has yet shown what a year is), and after
AGE_BANDS = ((1, 3), (4, 12), (13, None))
SECTION = "## Accuracy of the billing inference against the generator's truth"

CONFIG = """\
timezone = "UTC"
[dataset]
kind = "payments"
[sources]
invoices = "{invoices}"
customers = "{customers}"
[billing]
{billing}
[quality]
max_bad_share = 0.01
"""

PATTERNS = (  # a customer's pattern: the first that applies, in this order
    ("switch to annual", "a monthly plan switched to annual mid-cycle"),
    ("annual + monthly", "an annual plan with a monthly plan beside it"),
    ("annual + add-on", "an annual plan and an annual add-on bought a minute later"),
    ("annual < 1000", "an annual plan whose first charge is below 1000"),
    ("annual >= 1000", "an annual plan whose first charge is 1000 or more"),
    ("reactivated", "monthly, churned and came back on a new plan"),
    ("flat monthly", "a monthly flat plan"),
    ("seat monthly", "a monthly per-seat plan"),
)


# ----------------------------------------------------------------------------- the job's readings (child process)


def job_readings(config: str | Path, days: list[str], seats_by_day: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the job's load and context steps on `config`: the final reading and one at the end of each day in `days`
    (with `seats_by_day`, each day's reading sees that day's seat counts, customer id -> seats, as an export made
    then would hold them; without, the customers file's).

    Returns final (as_of, mrr_by_month, customer_months, billing), readings (per day: day, as_of,
    the month's row of mrr_by_month, the customer_months of that month), seconds, and the files of
    the job's modules used (to show which checkout ran).
    """
    import kpi.billing
    import sync.run
    from kpi.tables import RunInfo
    from sync.run import build_context, check_as_of, check_invariants, load_dataset, resolve_as_of
    from sync.settings import load_settings

    began = time.perf_counter()
    settings = load_settings(config, {})
    loaded = load_dataset(settings)

    def context(day: str | None) -> Any:
        data = loaded
        if day is not None and seats_by_day is not None:
            customers = loaded.customers.copy()
            then = customers["customer_id"].astype(str).map(seats_by_day[day])
            customers["seats"] = then.where(then.notna(), customers["seats"]).astype("float64")
            data = dataclasses.replace(loaded, customers=customers)
        as_of = resolve_as_of(settings, data, day)
        check_as_of(as_of, data)
        ctx = build_context(settings, data, as_of, RunInfo())
        check_invariants(ctx)
        return ctx

    final = context(None)
    readings = []
    for day in days:
        ctx = context(day)
        table, months = ctx.mrr_by_month, ctx.customer_months
        last = table["month"].max()
        readings.append({"day": day, "as_of": ctx.as_of, "row": table.loc[table["month"] == last],
                         "customer_months": months.loc[months["month"] == last]})
    return {
        "final": {"as_of": final.as_of, "mrr_by_month": final.mrr_by_month, "customer_months": final.customer_months,
                  "billing": final.billing},
        "readings": readings,
        "seconds": time.perf_counter() - began,
        "modules": [sync.run.__file__, kpi.billing.__file__],
    }


# ----------------------------------------------------------------------------- one dataset


@dataclass
class Dataset:
    scheme: str
    seed: int
    folder: Path
    config: Path
    charges: int
    customers: int
    log: Any  # sync.samples.payments.SampleLog
    seats_then: Path | None = None  # each month end's seat counts (pickled {day: Series}), for --seats then


def month_ends(start: str, months: int) -> tuple[list[str], str]:
    """The last day (YYYY-MM-DD) of each of `months` months from `start`, and the window's last second."""
    import pandas as pd

    first = pd.Timestamp(start)
    days = [(first + pd.offsets.MonthEnd(i + 1)).strftime("%Y-%m-%d") for i in range(months)]
    return days, f"{days[-1]} 23:59:59"


def seats_then(log: Any, at: Any) -> Any:
    """The seat count a customers export made at instant `at` would hold: for a customer with a per-seat plan running
    at `at` (the latest started, if several), the seats it held then (the generator's `truth_seats` of that plan's
    pieces running at `at`: the period's seat count and the seats added since, whatever the price per seat, upgrades
    included); for anyone else, today's export value. Null where today's export is null (an export that lacks the
    count)."""
    truth = log.truth.assign(seats=log.truth_seats)
    running = truth.loc[(truth["start"] <= at) & (truth["end"] > at)]
    by_plan = running.groupby("ref", sort=False)["seats"].sum().rename("held").reset_index().merge(log.plans, on="ref")
    by_plan = by_plan.loc[by_plan["held"] > 0]
    latest = by_plan.sort_values("start").drop_duplicates("customer_id", keep="last").set_index("customer_id")["held"]
    today = log.customers.set_index(log.customers["customerId"].astype(str))["nrSeats"].astype("Float64")
    then = today.copy()
    known = latest.index.intersection(today.index[today.notna()])
    then.loc[known] = latest.loc[known].to_numpy()
    return then.astype("float64")


BILLING = ("renewal_tolerance_hours = 2", "annual_min_amount = 1000", 'prorations = "normalize"')


def billing_lines(extra: list[str]) -> str:
    """The config's [billing] lines: BILLING, a line of `extra` replacing the default of its key."""
    keys = {line.split("=", 1)[0].strip() for line in extra}
    return "\n".join([*(line for line in BILLING if line.split("=", 1)[0].strip() not in keys), *extra])


def make_dataset(scheme: str, seed: int, customers: int, months: int, billing: list[str], root: Path,
                 seats: str = "today") -> Dataset:
    """Generate one log with its truth and write it, truth.csv and a config into root/<scheme>-<seed>; with seats =
    "then" (and a seat column), also each month end's seat counts (`seats_then`) into seats_then.pkl."""
    import pandas as pd

    from sync.samples.payments import generate_with_truth, write_truth

    days, end = month_ends(START, months)
    log = generate_with_truth(customers, seed, start=START, end=end, scheme=scheme)
    folder = root / f"{scheme}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("invoices.json", log.invoices), ("customers.json", log.customers)):
        frame.to_json(folder / name, orient="records", lines=True, double_precision=10)
    write_truth(log.truth, folder / "truth.csv")
    config = folder / "accuracy.toml"
    config.write_text(CONFIG.format(invoices=folder / "invoices.json", customers=folder / "customers.json",
                                    billing=billing_lines(billing)), encoding="utf-8")
    then = None
    if seats == "then" and "nrSeats" in log.customers.columns:
        then = folder / "seats_then.pkl"
        with open(then, "wb") as fh:
            pickle.dump({day: seats_then(log, pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=23, minutes=59, seconds=59))
                         for day in days}, fh)
    return Dataset(scheme, seed, folder, config, len(log.invoices), len(log.customers), log, then)


def start_reader(ds: Dataset, days: list[str], job_repo: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(job_repo), os.environ.get("PYTHONPATH")]))}
    if job_repo != REPO:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # read another checkout, write nothing into it
    command = [sys.executable, str(Path(__file__).resolve()), "--read", str(ds.config), "--out",
               str(ds.folder / "readings.pkl"), *(["--seats-then", str(ds.seats_then)] if ds.seats_then else []),
               "--days", *days]
    return subprocess.Popen(command, cwd=ds.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _rel(got: float, want: float) -> float | None:
    return None if want == 0 else (got - want) / want


def lone_charges(truth: Any) -> tuple[Any, Any]:
    """The truth's lone charges: plans of one period and no other piece (no seat added, no upgrade), a month then
    gone or a year not renewed. Returns them and their amounts (a year's: 12 x its rate)."""
    import numpy as np
    import pandas as pd

    pieces = truth.groupby("ref")["source"].agg(["size", "first"])
    lone = truth.loc[truth["ref"].isin(pieces.index[(pieces["size"] == 1) & pieces["first"].isin(["monthly", "annual"])])]
    return lone, pd.Series(np.where(lone["source"] == "annual", lone["mrr"] * 12, lone["mrr"]).round(2), index=lone.index)


def lone_counts(truth: Any) -> Any:
    """Lone charges by amount: columns monthly and annual (how many of each)."""
    import pandas as pd

    lone, amount = lone_charges(truth)
    return pd.crosstab(amount, lone["source"]).reindex(columns=["monthly", "annual"], fill_value=0)


def majority_oracle(truth: Any, as_of: Any, counts: Any) -> dict[str, Any]:
    """Churned MRR of the truth with every lone charge (`lone_charges`) at an amount where both kinds occur read the
    way `counts` (lone charges by amount over every log of the scheme in the run: the price list's and customers' mix,
    not one log's luck) says is commoner: the majority-rule oracle, which misreads as few lone charges as any reading
    that decides a lone charge by its amount alone can (as a log without seat counts must: 180 is 10 seats for a
    month, or 1 seat for a year). A month read as a year misses its churn (the year's churn of amount / 12 comes
    later, if at all), a year read as a month churns at once. It is no floor of the signed error: misreads the other
    way round cancel some of it (reading more lone charges against the odds can land closer in total)."""
    import pandas as pd

    from kpi.mrr import customer_months, movements

    lone, amount = lone_charges(truth)
    both = counts.loc[(counts["monthly"] > 0) & (counts["annual"] > 0)]
    ambiguous = amount.isin(both.index)
    reads_annual = amount.map(both["annual"] >= both["monthly"]).astype("boolean").fillna(False).astype(bool)
    flip = lone.loc[ambiguous & (reads_annual != (lone["source"] == "annual"))]
    read = truth.copy()
    to_year = flip.loc[flip["source"] == "monthly"]
    to_month = flip.loc[flip["source"] == "annual"]
    read.loc[to_year.index, "end"] = to_year["start"] + pd.DateOffset(months=12)
    read.loc[to_year.index, "mrr"] = to_year["mrr"] / 12
    read.loc[to_month.index, "end"] = to_month["start"] + pd.DateOffset(months=1)
    read.loc[to_month.index, "mrr"] = to_month["mrr"] * 12

    def churned(schedule: Any) -> float:
        mv = movements(customer_months(schedule, as_of, "UTC"))
        return float(mv.loc[mv["movement"] == "churn", "mrr_prev"].sum())

    got, want = churned(read), churned(truth)
    return {"inferred": got, "true": want, "error": _rel(got, want), "ambiguous": int(ambiguous.sum()),
            "misread": len(flip)}


def score(ds: Dataset, readings: dict[str, Any], days: list[str], lone: Any) -> dict[str, Any]:
    """Every figure of one dataset (see the module docstring); `lone`: the scheme's lone charges by amount
    (`lone_counts` summed over the run's logs of that scheme)."""
    import pandas as pd

    from kpi.mrr import customer_months, mrr_by_month

    truth = ds.log.truth
    final = readings["final"]
    as_of = final["as_of"]
    inferred = final["mrr_by_month"].set_index("month")
    true_cm = customer_months(truth, as_of, "UTC")
    true_final = mrr_by_month(true_cm).set_index("month")
    window_end = pd.Timestamp(days[-1], tz="UTC") + pd.Timedelta(hours=23, minutes=59, seconds=59)
    true_month_end_cm = customer_months(truth, window_end, "UTC")
    true_month_end = mrr_by_month(true_month_end_cm).set_index("month")

    months = []
    for reading in readings["readings"]:
        row = reading["row"].iloc[0]
        month = row["month"]
        want_end = float(true_month_end.loc[month, "mrr"]) if month in true_month_end.index else 0.0
        in_final = month in inferred.index
        final_mrr = float(inferred.loc[month, "mrr"]) if in_final else 0.0
        want_final = float(true_final.loc[month, "mrr"]) if month in true_final.index else 0.0
        complete = month < inferred.index.max()
        months.append({
            "month": f"{month:%Y-%m}",
            "true_mrr": want_final,
            "final_mrr": final_mrr,
            "final_error": _rel(final_mrr, want_final),
            "month_end_true_mrr": want_end,
            "month_end_mrr": float(row["mrr"]),
            "month_end_error": _rel(float(row["mrr"]), want_end),
            "restatement": _rel(final_mrr, float(row["mrr"])) if complete else None,
            "month_end_churned_mrr": float(row["churned_mrr"]),
            "true_churned_mrr": float(true_month_end.loc[month, "churned_mrr"]) if month in true_month_end.index else 0.0,
        })
    frame = pd.DataFrame(months)

    def worst(column: str) -> dict[str, Any]:
        values = frame[column].dropna()
        if values.empty:
            return {"error": None, "month": None, "mean_abs": None, "steady": None, "steady_month": None}
        i = values.abs().idxmax()
        later = values.loc[values.index >= STEADY_FROM]
        j = later.abs().idxmax() if len(later) else None
        return {"error": float(values[i]), "month": frame.loc[i, "month"], "mean_abs": float(values.abs().mean()),
                "steady": float(later[j]) if j is not None else None,
                "steady_month": frame.loc[j, "month"] if j is not None else None}

    def total(column: str, table: pd.DataFrame) -> float:
        return float(table[column].sum())

    sums = {}
    for column in ("churned_mrr", "churned_customers", "new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr"):
        got, want = total(column, inferred), total(column, true_final)
        sums[column] = {"inferred": got, "true": want, "error": _rel(got, want)}
    first = min(inferred.index.min(), true_final.index.min())
    got = float(inferred["mrr"].get(first, 0.0))
    want = float(true_final["mrr"].get(first, 0.0))
    sums["first_month_mrr"] = {"inferred": got, "true": want, "error": _rel(got, want)}
    sums["churned_mrr_majority_oracle"] = majority_oracle(truth, as_of, lone)
    published = float(frame["month_end_churned_mrr"].sum())
    sums["churned_mrr_as_published"] = {"inferred": published, "true": float(frame["true_churned_mrr"].sum()),
                                        "error": _rel(published, float(frame["true_churned_mrr"].sum()))}
    year_one = frame.iloc[1:13]  # months 2-13: the twelve month ends after the log's first (by_age: its bands)
    published, want = float(year_one["month_end_churned_mrr"].sum()), float(year_one["true_churned_mrr"].sum())
    sums["churned_mrr_as_published_year_one"] = {"inferred": published, "true": want, "error": _rel(published, want)}

    by_pattern = patterns(ds, final["customer_months"], true_cm)
    at_ends = month_end_errors(ds, readings["readings"], true_month_end_cm)
    # each month end's customer-level error, and its part from customers under a month old there (by_age pools them)
    wrong = at_ends.assign(abs_error=at_ends["net"].abs(), key=at_ends["month"].dt.strftime("%Y-%m"))
    by_month = wrong.groupby("key")["abs_error"].sum()
    young_by_month = wrong.loc[wrong["young"]].groupby("key")["abs_error"].sum()
    for m in months:
        m["month_end_abs_error"] = float(by_month.get(m["month"], 0.0))
        m["month_end_young_abs_error"] = float(young_by_month.get(m["month"], 0.0))
    by_pattern_at_ends = month_end_patterns(ds, at_ends)
    # customer-level error: |job - truth| per customer, summed over customers and months, over the true MRR (errors
    # of opposite sign in two customers add up here, where they cancel in a month's total)
    wrong_final = sum(p["abs_error"] for p in by_pattern if not p["pattern"].startswith("_"))
    wrong_ends = float(by_month.sum())
    young = at_ends.loc[at_ends["young"], "net"]  # customers whose first charge is under a month old there
    true_all, true_ends = float(true_cm["mrr"].sum()), float(frame["month_end_true_mrr"].sum())
    customer_error = {"final": {"abs": wrong_final, "true": true_all, "error": wrong_final / true_all if true_all else None},
                      "month_end": {"abs": wrong_ends, "true": true_ends,
                                    "error": wrong_ends / true_ends if true_ends else None},
                      # ... of which customers whose first charge is less than a month old at that month end
                      "month_end_young": {"abs": float(young_by_month.sum()), "net": float(young.sum()), "true": true_ends,
                                          "error": float(young_by_month.sum()) / true_ends if true_ends else None}}
    return {
        "scheme": ds.scheme, "seed": ds.seed, "charges": ds.charges, "customers": ds.customers,
        "final_as_of": f"{as_of:%Y-%m-%d %H:%M:%S}", "reader_seconds": readings["seconds"],
        "months": months,
        "final": worst("final_error"), "month_end": worst("month_end_error"), "restatement": worst("restatement"),
        "sums": sums,
        "customer_error": customer_error,
        "singles": singles(ds, final["billing"]),
        "patterns": by_pattern,
        "month_end_patterns": by_pattern_at_ends,
    }


def singles(ds: Dataset, billing: Any) -> dict[str, Any]:
    """Billing's one-month terms below 1000 against the truth, and small annual plans against Billing.

    A term is matched to the truth piece that starts at its charge (customer and second); terms whose
    Billing reason says "provisional" (first renewal not yet due at as_of) are counted apart.
    """
    truth = ds.log.truth
    terms = billing.loc[(billing["kind"] == "monthly term") & (billing["current_rate"] < 1000)]
    provisional = terms["reason"].str.contains("provisional")
    starts = truth.drop_duplicates(["customer_id", "start"])[["customer_id", "start", "source"]]
    found = terms.merge(starts, left_on=["customer_id", "anchor"], right_on=["customer_id", "start"], how="left")
    what = found.loc[~provisional.to_numpy(), "source"].fillna("no piece").value_counts().to_dict()
    periods = truth.loc[truth["source"] == "annual"].sort_values("start").drop_duplicates("ref")
    small = periods.loc[periods["mrr"] * 12 < 1000]
    read = small.merge(billing[["customer_id", "anchor", "kind"]], left_on=["customer_id", "start"],
                       right_on=["customer_id", "anchor"], how="left")
    return {
        "monthly_terms_below_1000": int((~provisional).sum()),
        "provisional": int(provisional.sum()),
        "truly": {str(k): int(v) for k, v in what.items()},
        "truly_annual": int(what.get("annual", 0)),
        "small_annual_plans": len(small),
        "small_annual_read_as": {str(k): int(v) for k, v in read["kind"].fillna("not a term or series").value_counts().items()},
    }


def customer_patterns(ds: Dataset) -> Any:
    """customer_id -> pattern (PATTERNS), from the generator's plans and truth."""
    import pandas as pd

    plans, truth = ds.log.plans, ds.log.truth
    first_annual = truth.loc[truth["source"] == "annual"].sort_values("start").drop_duplicates("ref")
    small = set(first_annual.loc[first_annual["mrr"] * 12 < 1000, "ref"])
    by = plans.assign(small=plans["ref"].isin(small))
    label = pd.Series("seat monthly", index=pd.Index(plans["customer_id"].unique(), name="customer_id"))
    rules = [
        ("seat monthly", by["interval"] == "monthly"),
        ("flat monthly", by["ref"].str.contains(":monthly-flat-")),
        ("reactivated", by["origin"] == "reactivation"),
        ("annual >= 1000", (by["interval"] == "annual") & ~by["small"]),
        ("annual < 1000", (by["interval"] == "annual") & by["small"]),
        ("annual + add-on", by["origin"] == "add-on"),
        ("annual + monthly", by["origin"] == "side"),
        ("switch to annual", by["origin"] == "switch"),
    ]
    for name, mask in rules:  # later rules win: PATTERNS order, reversed
        label[by.loc[mask, "customer_id"].unique()] = name
    return label


def _compare(inferred_cm: Any, true_cm: Any) -> Any:
    """Per customer and month: inferred and true MRR and movements, outer-joined (0 where one side has no row)."""
    from kpi.mrr import movements

    keys = ["month", "customer_id"]
    a = movements(inferred_cm)[[*keys, "mrr", "movement", "mrr_prev"]]
    b = movements(true_cm)[[*keys, "mrr", "movement", "mrr_prev"]]
    both = a.merge(b, on=keys, how="outer", suffixes=("_inf", "_true"))
    return both.fillna({"mrr_inf": 0.0, "mrr_true": 0.0, "mrr_prev_inf": 0.0, "mrr_prev_true": 0.0,
                        "movement_inf": "none", "movement_true": "none"})


def patterns(ds: Dataset, inferred_cm: Any, true_cm: Any) -> list[dict[str, Any]]:
    """By customer pattern (final reading): customers, |MRR error| summed over months, false and missed churn."""
    both = _compare(inferred_cm, true_cm)
    label = customer_patterns(ds)
    both["pattern"] = both["customer_id"].map(label).fillna("seat monthly")
    both["abs_error"] = (both["mrr_inf"] - both["mrr_true"]).abs()
    false_churn = (both["movement_inf"] == "churn") & (both["movement_true"] != "churn")
    missed_churn = (both["movement_true"] == "churn") & (both["movement_inf"] != "churn")
    both["false_churn"] = both["mrr_prev_inf"].where(false_churn, 0.0)
    both["false_churns"] = false_churn.astype(int)
    both["missed_churn"] = both["mrr_prev_true"].where(missed_churn, 0.0)
    both["missed_churns"] = missed_churn.astype(int)
    both["net"] = both["mrr_inf"] - both["mrr_true"]
    grouped = both.groupby("pattern").agg(abs_error=("abs_error", "sum"), net_error=("net", "sum"),
                                          false_churn=("false_churn", "sum"), false_churns=("false_churns", "sum"),
                                          missed_churn=("missed_churn", "sum"), missed_churns=("missed_churns", "sum"))
    customers = label.value_counts()
    out = []
    for name, _ in PATTERNS:
        row = grouped.loc[name] if name in grouped.index else None
        out.append({"pattern": name, "customers": int(customers.get(name, 0)),
                    **({k: float(row[k]) for k in grouped.columns} if row is not None else
                       dict.fromkeys(grouped.columns, 0.0))})
    top = both.groupby("customer_id")["abs_error"].sum().sort_values(ascending=False).head(5)
    out.append({"pattern": "_top_customers", "customers": 0,
                "list": [{"customer_id": c, "pattern": str(label.get(c, "?")), "abs_error": float(e)} for c, e in top.items()]})
    return out


def month_end_errors(ds: Dataset, readings: list[dict[str, Any]], true_cm: Any) -> Any:
    """Per customer and month end: its reading's MRR error (inferred - true, `net`) and whether the customer's first
    paid charge is less than a calendar month old there (`young`: its first renewal not yet due, a pending single
    charge read before anything else of the customer is known)."""
    import pandas as pd

    inferred = pd.concat([r["customer_months"] for r in readings], ignore_index=True)
    keys = ["month", "customer_id"]
    both = inferred[[*keys, "mrr"]].merge(true_cm[[*keys, "mrr"]], on=keys, how="outer", suffixes=("_inf", "_true"))
    both = both.loc[both["month"].isin(inferred["month"].unique())].fillna({"mrr_inf": 0.0, "mrr_true": 0.0})
    both["net"] = both["mrr_inf"] - both["mrr_true"]
    invoices = ds.log.invoices
    paid = invoices.loc[invoices["amountPaid"] > 0]
    first = pd.to_datetime(paid.groupby(paid["customerId"].astype(str))["timestampPaid"].min(), unit="s", utc=True)
    as_of = pd.Series({r["customer_months"]["month"].max(): r["as_of"] for r in readings if len(r["customer_months"])})
    both["young"] = (both["customer_id"].map(first) > both["month"].map(as_of) - pd.DateOffset(months=1)).to_numpy()
    return both


def month_end_patterns(ds: Dataset, errors: Any) -> list[dict[str, Any]]:
    """By customer pattern: the month-end readings' net and absolute MRR error (`month_end_errors`), summed over the
    month ends."""
    label = customer_patterns(ds)
    errors = errors.assign(pattern=errors["customer_id"].map(label).fillna("seat monthly"), abs_error=errors["net"].abs())
    grouped = errors.groupby("pattern")[["net", "abs_error"]].sum()
    return [{"pattern": name, "net_error": float(grouped.loc[name, "net"]) if name in grouped.index else 0.0,
             "abs_error": float(grouped.loc[name, "abs_error"]) if name in grouped.index else 0.0}
            for name, _ in PATTERNS]


# ----------------------------------------------------------------------------- the report


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:+.{digits}f}%"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def _worst_of(runs: list[dict[str, Any]], key: str, within: str | None = None) -> dict[str, Any]:
    """The run whose figure `key` (under `within`, e.g. "sums") has the largest |error|: the figure and its seed."""
    def figure(run: dict[str, Any]) -> dict[str, Any]:
        return run[within][key] if within else run[key]

    best = max(runs, key=lambda run: abs(figure(run)["error"] or 0.0))
    out = {**figure(best), "seed": best["seed"]}
    if "steady" in out:  # the worst from the 4th month on, over every seed
        steady = max(runs, key=lambda run: abs(figure(run)["steady"] or 0.0))
        out.update(steady=figure(steady)["steady"], steady_month=figure(steady)["steady_month"], steady_seed=steady["seed"])
    return out


def by_age(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per AGE_BANDS band of the log's age (a month's position in its run, 1 = the log's first month), pooled over
    the runs: the months read beyond MONTH_TARGET of the truth at their own month end, out of the months that have
    a month-end error (none where the true MRR is 0), and in the final reading, out of those that have a final
    error; the worst month-end error; and the churned MRR the band's month ends published against the truth's, over
    all its months from the log's 2nd (its first has no churn to publish); and the customer-level error at its month
    ends, with its part from customers whose first charge is under a month old there (`month_end_errors`)."""
    out = []
    for first, last in AGE_BANDS:
        in_band = [m for r in runs for i, m in enumerate(r["months"], start=1)
                   if i >= first and (last is None or i <= last)]
        ends = [m["month_end_error"] for m in in_band if m["month_end_error"] is not None]
        finals = [m["final_error"] for m in in_band if m["final_error"] is not None]
        churn = [m for r in runs for i, m in enumerate(r["months"], start=1)
                 if max(first, 2) <= i and (last is None or i <= last)]
        published = sum(m["month_end_churned_mrr"] for m in churn)
        want = sum(m["true_churned_mrr"] for m in churn)
        measured = [m for m in in_band if "month_end_abs_error" in m]  # (a run's JSON from before they were kept)
        true_mrr = sum(m["month_end_true_mrr"] for m in measured)
        wrong = sum(m["month_end_abs_error"] for m in measured)
        young = sum(m["month_end_young_abs_error"] for m in measured)
        out.append({"band": f"{first}-{last}" if last else f"{first}+", "month_ends": len(ends),
                    "beyond_at_month_end": sum(abs(e) > MONTH_TARGET for e in ends),
                    "finals": len(finals), "beyond_final": sum(abs(e) > MONTH_TARGET for e in finals),
                    "worst_at_month_end": max(ends, key=abs) if ends else None,
                    "churned_mrr_as_published": {"inferred": published, "true": want, "error": _rel(published, want)},
                    # the customer-level error at these month ends (|job - truth| per customer, over the true MRR), and
                    # its part from customers whose first charge is under a month old there
                    "customer_error": wrong / true_mrr if true_mrr else None,
                    "customer_error_young": young / true_mrr if true_mrr else None})
    return out


def per_scheme(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Worst figures over the seeds of each scheme, with pass/fail against the targets."""
    out: dict[str, dict[str, Any]] = {}
    for scheme in dict.fromkeys(run["scheme"] for run in results):
        runs = [run for run in results if run["scheme"] == scheme]
        figures = {key: _worst_of(runs, key) for key in ("final", "month_end", "restatement")}
        figures.update({key: _worst_of(runs, key, "sums") for key in (
            "churned_mrr", "churned_customers", "new_mrr", "first_month_mrr", "churned_mrr_as_published",
            "churned_mrr_as_published_year_one", "churned_mrr_majority_oracle")})
        figures["customer_error"] = {
            at: (sum(r["customer_error"][at]["abs"] for r in runs) / total
                 if (total := sum(r["customer_error"][at]["true"] for r in runs)) else None)
            for at in ("month_end", "month_end_young", "final")}
        figures["by_age"] = by_age(runs)
        figures["targets"] = {
            "every month within 2% (final)": abs(figures["final"]["error"] or 0) <= MONTH_TARGET,
            "every month within 2% (own month end)": abs(figures["month_end"]["error"] or 0) <= MONTH_TARGET,
            "churned MRR within 5%": abs(figures["churned_mrr"]["error"] or 0) <= CHURN_TARGET,
            "churned customers within 5%": abs(figures["churned_customers"]["error"] or 0) <= CHURN_TARGET,
        }
        out[scheme] = figures
    return out


def report(results: list[dict[str, Any]], summary: dict[str, dict[str, Any]]) -> str:
    year_one = f"months 2-{min(13, max((len(r['months']) for r in results), default=13))}"
    lines = ["### Targets (worst over seeds)", "",
             "| scheme | every month within 2% (final) | within 2% at its own month end | churned MRR within 5% | "
             f"churned customers within 5% | churned MRR, majority-rule oracle | churned MRR as published, {year_one} |",
             "|---|---|---|---|---|---|---|"]
    for scheme, f in summary.items():
        t = f["targets"]
        lines.append(
            f"| {scheme} | {_verdict(t['every month within 2% (final)'])} ({_pct(f['final']['error'])} "
            f"{f['final']['month']} seed {f['final']['seed']}; from the 4th month {_pct(f['final']['steady'])} "
            f"{f['final']['steady_month']}) "
            f"| {_verdict(t['every month within 2% (own month end)'])} ({_pct(f['month_end']['error'])} "
            f"{f['month_end']['month']} seed {f['month_end']['seed']}; from the 4th month "
            f"{_pct(f['month_end']['steady'])} {f['month_end']['steady_month']}) "
            f"| {_verdict(t['churned MRR within 5%'])} ({_pct(f['churned_mrr']['error'])}) "
            f"| {_verdict(t['churned customers within 5%'])} ({_pct(f['churned_customers']['error'])}) "
            f"| {_pct(f['churned_mrr_majority_oracle']['error'])} "
            f"| {_pct(f['churned_mrr_as_published_year_one']['error'])} |")
    lines += ["", "Majority-rule oracle: churned MRR of the truth with every lone charge (a plan of one period, "
              "nothing else: a month then gone, or a year not renewed) read by whichever of the two is commoner at its "
              "amount over all the run's logs of the scheme, where both occur (180: 10 seats for a month or 1 seat for "
              "a year): the fewest misread lone charges any amount-only reading, as a log without seat counts must "
              "make, can get; the worst seed's error is shown. Not a floor of the signed error: misreads the other way "
              f"round cancel some of it. Churned MRR as published, {year_one}: each month's churned MRR as its own "
              "month-end reading gave it (what an hourly worker publishes), summed over the twelve month ends after "
              "the log's first (fewer in a shorter run), against the truth; worst seed.", "",
              "### By the log's age (all seeds of a scheme)", "",
              "Each month by its place in the log (1: the log's first month), pooled over the seeds: the months "
              "beyond 2% of the truth when read at their own month end, and in the final reading, out of how many; "
              "the worst month-end error; the churned MRR the band's month ends published (from the log's 2nd month) "
              "against the truth's; the customer-level error at the band's month ends, and in brackets its part from "
              "customers whose first charge is under a month old there (pending single charges). Until the 13th month's end no single charge has been a year old, so no renewal a "
              "year later has shown which amounts are years; before the 4th, the price book rests on a few weeks of "
              "charges.", "",
              "| scheme | log's months | beyond 2% at own month end | beyond 2%, final | worst at month end "
              "| churned MRR as published | customer-level error at month ends (first charge under a month old) |",
              "|---|---|---:|---:|---:|---:|---:|",
              *[f"| {scheme} | {b['band']} | {b['beyond_at_month_end']} of {b['month_ends']} "
                f"| {b['beyond_final']} of {b['finals']} | {_pct(b['worst_at_month_end'])} "
                f"| {b['churned_mrr_as_published']['inferred']:,.0f} vs {b['churned_mrr_as_published']['true']:,.0f} "
                f"({_pct(b['churned_mrr_as_published']['error'])}) "
                f"| {_pct(b['customer_error'], 2).lstrip('+')} ({_pct(b['customer_error_young'], 2).lstrip('+')}) |"
                for scheme, f in summary.items() for b in f["by_age"] if b["month_ends"] or b["finals"]],
              "", "### Customer-level error (all seeds of a scheme)", "",
              "The absolute error of each customer's MRR (job - truth), summed over customers and months, over the "
              "true MRR summed over the same months: errors of opposite sign in two customers add up here, where they cancel in a month's total "
              "(a rule that reads more plans right lowers it even where the month totals move either way). Month "
              "ends: each month at its own month end (and the part of it from customers whose first charge is less "
              "than a calendar month old there: pending single charges, read before anything else of the customer "
              "is known); final: every month of the final reading.", "",
              "| scheme | at month ends | of which: first charge under a month old | final reading |",
              "|---|---:|---:|---:|",
              *[f"| {scheme} | {_pct(f['customer_error']['month_end'], 3).lstrip('+')} "
                f"| {_pct(f['customer_error']['month_end_young'], 3).lstrip('+')} "
                f"| {_pct(f['customer_error']['final'], 3).lstrip('+')} |" for scheme, f in summary.items()],
              "", "### Per scheme and seed",
              "",
              "Errors are (job - truth) / truth. Final: the whole log read at its newest charge; month end: each month read "
              "at its last second with the charges up to then; restatement: final - month-end reading, over the month-end "
              "reading (complete months). Each: the worst month; the worst from the 4th month on (the first months' "
              "small MRR makes any error there large); mean |error| over months in brackets.", "",
              "| scheme | seed | charges | customers | final: worst month | month end: worst month | restatement: worst "
              "| churned MRR | churned customers | churned MRR as published | new MRR | first month MRR "
              "| churned MRR, majority-rule oracle |",
              "|---|---:|---:|---:|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        s = r["sums"]

        def w(key: str, r: dict[str, Any] = r) -> str:
            f = r[key]
            return (f"{_pct(f['error'])} {f['month']}; {_pct(f['steady'])} {f['steady_month']} "
                    f"({_pct(f['mean_abs'], 2).lstrip('+')})")

        def t(key: str, money: bool = True, s: dict[str, Any] = s) -> str:
            fmt = "{:,.0f}" if money else "{:,.0f}"
            return f"{fmt.format(s[key]['inferred'])} vs {fmt.format(s[key]['true'])} ({_pct(s[key]['error'])})"

        lines.append(f"| {r['scheme']} | {r['seed']} | {r['charges']:,} | {r['customers']:,} | {w('final')} "
                     f"| {w('month_end')} | {w('restatement')} | {t('churned_mrr')} | {t('churned_customers', False)} "
                     f"| {t('churned_mrr_as_published')} | {t('new_mrr')} | {t('first_month_mrr')} "
                     f"| {t('churned_mrr_majority_oracle')}, {s['churned_mrr_majority_oracle']['misread']} of "
                     f"{s['churned_mrr_majority_oracle']['ambiguous']} ambiguous lone charges misread |")
    lines += ["", "### Single charges below 1000 read as one month (final reading, Billing tab)", "",
              "| scheme | seed | monthly terms < 1000 (not provisional) | truly annual | truly monthly | truly a seat "
              "addition / upgrade | provisional | small annual plans (first charge < 1000) | read as annual term |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        s = r["singles"]
        truly = s["truly"]
        lines.append(f"| {r['scheme']} | {r['seed']} | {s['monthly_terms_below_1000']} | {s['truly_annual']} "
                     f"| {truly.get('monthly', 0)} | {truly.get('seats added', 0) + truly.get('upgrade', 0)} "
                     f"| {s['provisional']} | {s['small_annual_plans']} | {s['small_annual_read_as'].get('annual term', 0)} |")
    lines += ["", "### Where the error comes from (all seeds of a scheme)", "",
              "Per customer pattern (a customer's first matching plan): |MRR error| summed over customer-months of the "
              "final reading (share of all), net error of the final and of the month-end readings (job - truth, summed "
              "over months), churn the job reports that the truth does not have (false) and churn it misses.", "",
              "| scheme | pattern | customers | abs error (share) | net final | net month ends | false churn MRR (n) "
              "| missed churn MRR (n) |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for scheme in summary:
        runs = [r for r in results if r["scheme"] == scheme]
        rows: dict[str, dict[str, float]] = {}
        for r in runs:
            for p in r["patterns"]:
                if p["pattern"].startswith("_"):
                    continue
                acc = rows.setdefault(p["pattern"], dict.fromkeys(
                    ("customers", "abs_error", "net_error", "false_churn", "false_churns", "missed_churn",
                     "missed_churns", "net_month_end"), 0.0))
                for k in ("customers", "abs_error", "net_error", "false_churn", "false_churns", "missed_churn",
                          "missed_churns"):
                    acc[k] += p[k]
            for p in r["month_end_patterns"]:
                rows[p["pattern"]]["net_month_end"] += p["net_error"]
        total = sum(v["abs_error"] for v in rows.values()) or 1.0
        for name, v in rows.items():
            lines.append(f"| {scheme} | {name} | {v['customers']:,.0f} | {v['abs_error']:,.0f} "
                         f"({v['abs_error'] / total:.0%}) | {v['net_error']:+,.0f} | {v['net_month_end']:+,.0f} "
                         f"| {v['false_churn']:,.0f} ({v['false_churns']:,.0f}) "
                         f"| {v['missed_churn']:,.0f} ({v['missed_churns']:,.0f}) |")
    lines += ["", "### Months beyond 2% (final / at its own month end)", ""]
    for r in results:
        bad_final = [f"{m['month']} {_pct(m['final_error'])}" for m in r["months"]
                     if m["final_error"] is not None and abs(m["final_error"]) > MONTH_TARGET]
        bad_end = [f"{m['month']} {_pct(m['month_end_error'])}" for m in r["months"]
                   if m["month_end_error"] is not None and abs(m["month_end_error"]) > MONTH_TARGET]
        lines.append(f"- {r['scheme']} seed {r['seed']}: final {', '.join(bad_final) or 'none'}; "
                     f"month end {', '.join(bad_end) or 'none'}")
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Write `section` (starting with its "## " heading line) into path: in place of an earlier section with the same
    heading, else appended (else a new file)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    heading = section.split("\n", 1)[0]
    start = text.find(heading + "\n")
    if start < 0:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    else:
        after = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[after + 1:] if after >= 0 else "")
    path.write_text(text, encoding="utf-8")


def commit_of(repo: Path) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    # (markdown files do not run: the report this run writes into results.md is no change to the code measured)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)*.md"],
                           cwd=repo, capture_output=True, text=True).stdout.strip()
    return (commit or "?") + (" with uncommitted changes" if dirty else "")


def machine() -> str:
    import numpy
    import pandas

    return (f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"pandas {pandas.__version__}, numpy {numpy.__version__}")


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--schemes", default=",".join(SCHEMES), help=f"comma-separated schemes (default {','.join(SCHEMES)})")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2], help="generator seeds (default 1 2)")
    parser.add_argument("--customers", type=int, default=3000, help="customers per log (default 3000)")
    parser.add_argument("--months", type=int, default=24, help="months from 2016-01, one month-end reading each (default 24)")
    parser.add_argument("--quick", action="store_true", help="a smaller run: one seed, 800 customers, 12 months")
    parser.add_argument("--jobs", type=int, default=2, help="child processes at once (default 2)")
    parser.add_argument("--job-repo", metavar="PATH", default=str(REPO),
                        help="the checkout whose job (sync, kpi) reads the logs (default: this one)")
    parser.add_argument("--billing", metavar="'KEY = VALUE'", action="append", default=[],
                        help="an extra line for the config's [billing] section (repeatable)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report, with command and machine, to PATH")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON to PATH")
    parser.add_argument("--keep", metavar="DIR", help="write the logs, truth and readings into DIR and keep them")
    parser.add_argument("--seats", choices=("today", "then"), default="today",
                        help="the seat counts each month-end reading sees: today's (the customers file of the log's "
                             "end, the default: pessimistic) or then's (as an export made at that month end holds "
                             "them: what an hourly worker sees)")
    parser.add_argument("--read", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--seats-then", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--days", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.read:  # the child: the job's own code, from PYTHONPATH
        seats_by_day = None
        if args.seats_then:
            with open(args.seats_then, "rb") as fh:
                seats_by_day = pickle.load(fh)
        with open(args.out, "wb") as fh:
            pickle.dump(job_readings(args.read, args.days or [], seats_by_day), fh)
        return 0

    sys.path.insert(0, str(REPO))
    if args.quick:
        args.seeds, args.customers, args.months = args.seeds[:1], 800, 12
    schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
    unknown = sorted(set(schemes) - set(SCHEMES))
    if unknown:
        parser.error(f"unknown scheme {unknown[0]!r} (known: {', '.join(SCHEMES)})")
    job_repo = Path(args.job_repo).resolve()
    began = time.perf_counter()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kpi-accuracy-"))
    days, _ = month_ends(START, args.months)
    results: list[dict[str, Any]] = []
    modules: set[str] = set()
    try:
        datasets = [make_dataset(s, seed, args.customers, args.months, args.billing, root, args.seats)
                    for s in schemes for seed in args.seeds]
        pending = list(datasets)
        running: list[tuple[Dataset, subprocess.Popen[str]]] = []
        while pending or running:
            while pending and len(running) < max(args.jobs, 1):
                ds = pending.pop(0)
                running.append((ds, start_reader(ds, days, job_repo)))
            ds, proc = running.pop(0)
            _, err = proc.communicate()
            if proc.returncode:
                print(f"{ds.scheme} seed {ds.seed}: the job failed:\n{err}", file=sys.stderr)
                return 1
        lone: dict[str, Any] = {}
        for ds in datasets:
            counts = lone_counts(ds.log.truth)
            lone[ds.scheme] = counts if ds.scheme not in lone else lone[ds.scheme].add(counts, fill_value=0)
        for ds in datasets:
            with open(ds.folder / "readings.pkl", "rb") as fh:
                readings = pickle.load(fh)
            modules.update(readings["modules"])
            result = score(ds, readings, days, lone[ds.scheme])
            results.append(result)
            print(f"{ds.scheme} seed {ds.seed}: final worst {_pct(result['final']['error'])} "
                  f"({result['final']['month']}), month end worst {_pct(result['month_end']['error'])} "
                  f"({result['month_end']['month']}), churned MRR {_pct(result['sums']['churned_mrr']['error'])}, "
                  f"job {result['reader_seconds']:.1f}s", file=sys.stderr, flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    seconds = time.perf_counter() - began
    summary = per_scheme(results)
    text = report(results, summary)
    command = " ".join(["python benchmarks/accuracy.py", *(argv if argv is not None else sys.argv[1:])])
    header = (f"{SECTION}{' (month ends with the seat counts of then)' if args.seats == 'then' else ''}\n\n"
              f"Command: `{command}`\n\n"
              f"Logs: {args.customers:,} customers each, {args.months} months from {START}, schemes "
              f"{', '.join(schemes)}, seeds {' '.join(map(str, args.seeds))}; [billing] at its defaults"
              f"{' plus ' + '; '.join(args.billing) if args.billing else ''}; month-end readings see "
              f"{'the seat counts of their month end' if args.seats == 'then' else 'the customers file of the log end'}"
              f". Job: {'this checkout' if job_repo == REPO else job_repo} (commit "
              f"{commit_of(job_repo)}); generator: commit {commit_of(REPO)}.\n\n"
              f"Machine: {machine()}, {time.strftime('%Y-%m-%d')}; {seconds:.0f} s wall for the whole run.\n")
    print(header + "\n" + text)
    if args.markdown:
        write_section(Path(args.markdown), header + "\n" + text + "\n")
    if args.json:
        payload = {"command": command, "machine": machine(), "generator_commit": commit_of(REPO),
                   "job_repo": str(job_repo), "job_commit": commit_of(job_repo), "job_modules": sorted(modules),
                   "customers": args.customers, "months": args.months, "seats": args.seats, "start": START, "billing": args.billing,
                   "seconds": seconds, "targets": {"month": MONTH_TARGET, "churn": CHURN_TARGET},
                   "schemes": summary, "runs": results}
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
