"""What the payment-log inference says on the real shared log, and how far its month-end readings move later.

Usage:
    python benchmarks/shared_log.py [--config PATH] [--markdown PATH] [--json PATH]

Runs the job's own code path (sync.settings -> sync.run.load_dataset -> build_context) on
config/shared-payments-log.toml (or --config) and reports:

- single charges read as one month: Billing rows of kind "monthly term", split into provisional
  (first renewal not yet due at as_of) and final, with the most common amounts;
- churned MRR and churned customers by month (the MRR tab);
- the Summary's sentences;
- restatement: each month read at its own month end (as_of = its last second, only the charges paid
  by then: what the hourly worker publishes at that moment) against the same month read at the full
  log's as_of. A reading that moves once later charges arrive was a guess the log later contradicted.
  Every reading sees the one customers file the log comes with (today's seat counts): an hourly worker
  reading a fresh export at each month end would see that instant's counts, which this log cannot give
  (benchmarks/accuracy.py --seats then measures that case on generated logs).

Prints markdown; --markdown writes it to PATH with the command and commit, --json the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kpi.tables import RunInfo  # noqa: E402
from sync.run import build_context, check_invariants, compute_tables, load_dataset, resolve_as_of  # noqa: E402
from sync.settings import load_settings  # noqa: E402

DEFAULT_CONFIG = REPO / "config" / "shared-payments-log.toml"


def month_ends(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    """The last second (UTC) of every month from `first`'s month up to the month before `last`'s."""
    months = pd.period_range(first.tz_convert("UTC").tz_localize(None).to_period("M"),
                             last.tz_convert("UTC").tz_localize(None).to_period("M") - 1, freq="M")
    return [pd.Timestamp(m.end_time.floor("s"), tz="UTC") for m in months]


def report(config: Path) -> dict:
    """The figures of the report as plain values (see the module docstring)."""
    settings = load_settings(config)
    loaded = load_dataset(settings)
    as_of = resolve_as_of(settings, loaded, None)
    ctx = build_context(settings, loaded, as_of, RunInfo())
    check_invariants(ctx)
    mm = ctx.mrr_by_month
    billing = ctx.billing
    assert billing is not None
    terms = billing.loc[billing["kind"] == "monthly term"]
    provisional = terms["reason"].str.contains("provisional")
    tables, _ = compute_tables(ctx)
    summary = next(t.frame for t in tables if t.name == "Summary")

    full = dict(zip(mm["month"].dt.strftime("%Y-%m"), mm["mrr"].astype(float), strict=True))
    by_customer = ctx.customer_months.set_index(["month", "customer_id"])["mrr"]
    readings = []
    for end in month_ends(loaded.revenue_times.min(), as_of):
        early = build_context(settings, loaded, end, RunInfo())
        row = early.mrr_by_month.iloc[-1]
        month = f"{row['month']:%Y-%m}"
        then = early.customer_months.loc[early.customer_months["month"] == row["month"]].set_index("customer_id")["mrr"]
        later = by_customer.xs(row["month"], level="month") if row["month"] in by_customer.index.levels[0] else then * 0
        moved = then.sub(later, fill_value=0).abs()
        readings.append({
            "customers_restated": int((moved > 0.01).sum()),
            "restated_mrr": round(float(moved.sum()), 2),
            "month": month,
            "at_month_end": round(float(row["mrr"]), 2),
            "full_log": round(full[month], 2),
            "high_pct": round((float(row["mrr"]) - full[month]) / full[month] * 100, 2) if full[month] else None,
            "churned_customers_at_month_end": int(row["churned_customers"]),
            "churned_mrr_at_month_end": round(float(row["churned_mrr"]), 2),
        })
    return {
        "config": str(config),
        "as_of": f"{as_of:%Y-%m-%d %H:%M:%S}",
        "mrr": round(float(mm["mrr"].iloc[-1]), 2),
        "customers": int(mm["customers"].iloc[-1]),
        "billing_rows": billing["kind"].value_counts().to_dict(),
        "one_month_terms": int((~provisional).sum()),
        "one_month_terms_provisional": int(provisional.sum()),
        "one_month_amounts": {f"{k:.2f}": int(v) for k, v in
                              terms.loc[~provisional, "current_rate"].round(2).value_counts().head(8).items()},
        "by_month": [
            {"month": f"{r.month:%Y-%m}", "mrr": round(float(r.mrr), 2), "churned_mrr": round(float(r.churned_mrr), 2),
             "churned_customers": int(r.churned_customers), "new_mrr": round(float(r.new_mrr), 2)}
            for r in mm.itertuples()
        ],
        "summary": [str(s) for s in summary["Sentence"]],
        "month_end_readings": readings,
    }


def markdown(fig: dict) -> str:
    lines = [
        f"Shared log, as_of {fig['as_of']} UTC: MRR {fig['mrr']:,.2f} from {fig['customers']} customers; "
        f"Billing rows {fig['billing_rows']}.",
        "",
        f"Single charges read as one month: {fig['one_month_terms']} final, "
        f"{fig['one_month_terms_provisional']} provisional (first renewal not yet due); most common final amounts: "
        + ", ".join(f"{k} x{v}" for k, v in fig["one_month_amounts"].items()) + ".",
        "",
        "| month | MRR | new MRR | churned MRR | churned customers | read at its own month end | its error against the "
        "full log | customers restated (their MRR moved) | churned MRR as its month end published it |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    early = {r["month"]: r for r in fig["month_end_readings"]}
    for r in fig["by_month"]:
        e = early.get(r["month"])
        at_end = f"{e['at_month_end']:,.2f}" if e else "(partial month)"
        moved = f"{e['high_pct']:+.1f}%" if e and e["high_pct"] is not None else ""
        restated = f"{e['customers_restated']} ({e['restated_mrr']:,.2f})" if e else ""
        published = f"{e['churned_mrr_at_month_end']:,.2f}" if e else ""
        lines.append(f"| {r['month']} | {r['mrr']:,.2f} | {r['new_mrr']:,.2f} | {r['churned_mrr']:,.2f} | "
                     f"{r['churned_customers']} | {at_end} | {moved} | {restated} | {published} |")
    moves = [abs(r["high_pct"]) for r in fig["month_end_readings"] if r["high_pct"] is not None]
    churned = sum(r["churned_mrr"] for r in fig["by_month"])
    complete = {r["month"] for r in fig["month_end_readings"]}
    as_published = sum(r["churned_mrr_at_month_end"] for r in fig["month_end_readings"])
    full_complete = sum(r["churned_mrr"] for r in fig["by_month"] if r["month"] in complete)
    lines += [
        "",
        f"Churned MRR over the log: {churned:,.2f}; churned customers: "
        f"{sum(r['churned_customers'] for r in fig['by_month'])}. Largest error of a month-end reading: "
        f"{max(moves) if moves else 0:.1f}%. Churned MRR of the complete months as each month end published it: "
        f"{as_published:,.2f}, against {full_complete:,.2f} in the full log"
        + (f" ({(as_published - full_complete) / full_complete * 100:+.1f}%)." if full_complete else "."),
        "",
        "Summary:",
        "",
        *[f"- {s}" for s in fig["summary"]],
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the payment-log config to run")
    parser.add_argument("--markdown", type=Path, help="write the markdown report here too")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    fig = report(args.config)
    text = markdown(fig)
    print(text)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    if args.markdown:
        args.markdown.write_text(f"Command: `python benchmarks/shared_log.py` (commit {commit})\n\n{text}")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
