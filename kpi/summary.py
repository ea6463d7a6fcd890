"""The Summary tab: the few numbers a reader wants first, each with one sentence built from the numbers.

Every sentence is an f-string over the computed tables (MRR, Unit economics, Retention by age, Core
users, Segments); none is fixed text. Which month a sentence speaks of:
- MRR and its movements: the month of as_of (to as_of when that month is not over: "so far").
- Churn and unit economics: the last complete month, since a rate over part of a month (a full
  month's spend over half a month's new customers) would mislead.
Payment-only topics (core users, segments) are left out when the data has no attribute or charge.
"""

from __future__ import annotations

import math
from pathlib import PurePath

import numpy as np
import pandas as pd

from kpi.cohorts import as_of_month, retention_by_age
from kpi.economics import economics_of
from kpi.mrr import customer_months, month_is_complete, to_cents
from kpi.params import Params
from kpi.schedule import Codes
from kpi.tables import Column, Context, Figure, Tab
from kpi.wording import COLUMNS, join, money, month_label, number, pct, plural, signed_money


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float | np.floating) and (math.isnan(x) or math.isinf(x)))


def _row(topic: str, value: Figure | str | None, sentence: str) -> dict[str, object]:
    """A Summary row; `value` is its headline number as a Figure (a number with its own display) or None."""
    return {"Topic": topic, "Value": None if value == "" else value, "Sentence": sentence}


def mrr_rows(mm: pd.DataFrame, as_of: pd.Timestamp, timezone: str, currency: str) -> list[dict[str, object]]:
    """MRR now and its change from the previous month end; the latest month's movements."""
    if mm.empty:
        return [_row("MRR", "", "There is no revenue in the data up to as_of, so there is no MRR to report.")]
    last = mm.iloc[-1]
    day = pd.Timestamp(as_of).tz_convert(timezone).strftime("%Y-%m-%d")
    complete = month_is_complete(as_of, timezone)
    when = f"at the end of {month_label(last['month'])}" if complete else f"on {day} (as_of)"
    mrr = float(last["mrr"])
    head = f"MRR {when} was {money(mrr, currency)} from {plural(int(last['customers']), 'paying customer')}"
    if len(mm) < 2:
        sentence = f"{head}; it is the first month with revenue, so there is no change to compare."
    else:
        prev = mm.iloc[-2]
        prev_mrr = float(prev["mrr"])
        change = mrr - prev_mrr
        growth = last.get("mrr_growth", np.nan)
        direction = "up" if change > 0 else "down" if change < 0 else "unchanged"
        rate = "" if _missing(growth) or change == 0 else f" {pct(abs(float(growth)))}"
        sentence = (f"{head}, {direction}{rate} ({signed_money(change, currency)}) from "
                    f"{money(prev_mrr, currency)} at the end of {month_label(prev['month'])}.")
    rows = [_row("MRR", Figure(mrr, "money"), sentence)]

    so_far = "" if complete else " so far"
    parts = [
        f"new {money(float(last['new_mrr']), currency)} ({plural(int(last['new_customers']), 'new customer')})",
        f"expansion {money(float(last['expansion_mrr']), currency)}",
        f"reactivation {money(float(last['reactivation_mrr']), currency)} "
        f"({plural(int(last['reactivated_customers']), 'customer')} back)",
        f"contraction {money(float(last['contraction_mrr']), currency)}",
        f"churned {money(float(last['churned_mrr']), currency)} ({plural(int(last['churned_customers']), 'customer')} lost)",
    ]
    net = float(last["net_new_mrr"])
    rows.append(_row(
        "MRR movements", Figure(net, "money", signed=True),
        f"In {month_label(last['month'])}{so_far}, net new MRR was {signed_money(net, currency)}: "
        + ", ".join(parts) + ".",
    ))
    return rows


def _complete_row(frame: pd.DataFrame, month_column: str, month: pd.Timestamp | None) -> pd.Series | None:
    if month is None:
        return None
    hit = frame.loc[frame[month_column] == month]
    return None if hit.empty else hit.iloc[-1]


def churn_row(mm: pd.DataFrame, month: pd.Timestamp | None) -> dict[str, object]:
    """Logo churn and gross / net MRR churn of the last complete month."""
    row = _complete_row(mm, "month", month)
    if row is None:
        return _row("Churn", "", "No month is complete yet, so no churn rate is reported.")
    label = month_label(row["month"])
    logo = row["logo_churn"]
    if _missing(logo):
        return _row("Churn", "", f"In {label} there were no paying customers at the start of the month, "
                                 "so churn rates have no denominator.")
    gross, net = row["gross_mrr_churn"], row["net_mrr_churn"]
    customers_prev = int(row["customers"]) - int(row["new_customers"]) - int(row["reactivated_customers"]) \
        + int(row["churned_customers"])
    sentence = (f"In {label}, logo churn was {pct(float(logo))} ({int(row['churned_customers'])} of "
                f"{customers_prev} customers at the start of the month left)")
    if not _missing(gross):
        sentence += f"; gross MRR churn was {pct(float(gross))} and net MRR churn {pct(float(net))}"
        if float(net) < 0:
            sentence += " (negative: expansion and reactivation outweighed the MRR lost)"
    return _row("Churn", Figure(float(logo), "percent"), sentence + ".")


def revenue_retention_row(mm: pd.DataFrame, quarters: pd.DataFrame | None, month: pd.Timestamp | None,
                          currency: str) -> dict[str, object] | None:
    """NRR and GRR over the 12 months to the last complete month, and the last complete quarter's rates, all on the
    customers paying at the period's start (metrics.md 4)."""
    row = _complete_row(mm, "month", month)
    if row is None or month is None:
        return None
    label = month_label(month)
    parts: list[str] = []
    value: Figure | None = None
    before = month - pd.DateOffset(months=12)
    base = mm.loc[mm["month"] == before]
    nrr, grr = row["nrr_12m"], row["grr_12m"]
    if not _missing(nrr) and not base.empty:
        start = base.iloc[0]
        parts.append(
            f"over the 12 months to the end of {label}, the {plural(int(start['customers']), 'customer')} paying at "
            f"the end of {month_label(before)} ({money(float(start['mrr']), currency)} of MRR) kept {pct(float(grr))} "
            f"of it counting only what they lost (GRR) and paid {pct(float(nrr))} of it at the end of {label}, expansion "
            "included (NRR)")
        value = Figure(float(nrr), "percent", prefix="NRR ")
    else:
        parts.append(f"NRR and GRR over 12 months need paying customers 12 months before {label}, and the data "
                     f"starts in {month_label(mm['month'].min())}")
    if quarters is not None and len(quarters):
        ends = pd.DatetimeIndex(quarters["quarter_start"]) + pd.DateOffset(months=2)
        done = quarters.loc[(ends <= month) & (quarters["customers_start"] > 0) & quarters["nrr"].notna()]
        if len(done):
            q = done.iloc[-1]
            parts.append(
                f"in {q['quarter']}, the last complete quarter, {int(q['base_customers_lost'])} of the "
                f"{int(q['customers_start'])} customers at its start {'was' if int(q['base_customers_lost']) == 1 else 'were'}"
                f" gone at its end (logo churn "
                f"{pct(float(q['logo_churn']))}), gross MRR churn was {pct(float(q['gross_mrr_churn']))} (GRR "
                f"{pct(float(q['grr']))}) and NRR {pct(float(q['nrr']))}")
            value = value or Figure(float(q["nrr"]), "percent", prefix="NRR ", suffix=f" ({q['quarter']})")
    sentence = "; ".join(parts)
    return _row("Revenue retention", value, sentence[0].upper() + sentence[1:] + ".")


def assumed_inputs(params: Params, month: str, spend: float) -> str | None:
    """What the verdicts of `month` ("YYYY-MM") rest on that is a default rather than the business's own figure,
    with where to set it; None when the spend and the gross margin are both configured."""
    e = params.economics
    what, keys = [], []
    if e.spend_is_default(month):
        what.append(f"the default acquisition spend of {money(spend, params.currency)} a month")
        keys.append("the spend (acquisition_spend_per_month, spend_file or spend_by_month)")
    if e.margin_is_default():
        what.append(f"the default gross margin of {pct(e.gross_margin)}")
        keys.append("gross_margin")
    if not what:
        return None
    return (f"on assumed inputs: {join(what)}, not this business's figures (set {join(keys)} under [economics] in "
            "the config; see docs/growth-and-retention.md, Settings)")


def economics_rows(ue: pd.DataFrame, month: pd.Timestamp | None, params: Params) -> list[dict[str, object]]:
    """LTV:CAC and CAC payback of the last complete month, with a verdict against the benchmarks.

    When the spend or the gross margin behind them is a default, each verdict says so, with where to set them, and
    is conditional: an assumed spend makes any "healthy" meaningless on a business it was not measured on."""
    e = params.economics
    cur = params.currency
    row = _complete_row(ue, "Month", month)
    if row is None:
        text = "No month is complete yet, so unit economics are not reported."
        return [_row("LTV:CAC", "", text), _row("CAC payback", "", text)]
    label = month_label(row["Month"])
    spend, new = float(row["Acquisition spend"]), int(row["New customers"])
    cac, ltv, ratio = row["CAC"], row["LTV"], row["LTV:CAC"]
    payback, per_new = row["CAC payback (months)"], row["New MRR per new customer"]
    basis = f"acquisition spend {money(spend, cur)}, {plural(new, 'new customer')}"
    caveat = assumed_inputs(params, label, spend)
    flag = " (assumed inputs)" if caveat else ""
    if _missing(ratio):
        if new == 0:
            why = "there were no new customers, so CAC has no denominator"
        elif _missing(row["Logo churn (trailing)"]):
            why = (f"trailing logo churn needs {e.churn_window_months} months of churn rates, "
                   "so LTV is not available yet")
        elif float(row["Logo churn (trailing)"]) == 0:
            why = f"no customer churned in the trailing {e.churn_window_months} months, so LTV has no finite value"
        else:
            why = "CAC is 0 (no acquisition spend), so the ratio has no denominator"
        ltv_row = _row("LTV:CAC", "", f"In {label}, LTV:CAC cannot be computed: {why} ({basis}).")
    else:
        above = float(ratio) >= e.ltv_cac_benchmark
        verdict = ("at or above the benchmark of " if above else "below the benchmark of ") + number(e.ltv_cac_benchmark)
        health = "healthy" if above else "acquisition costs more than it should return"
        judged = (f"{verdict}, which would be healthy, but {caveat}" if caveat and above
                  else f"{verdict}, which would mean {health}, but {caveat}" if caveat else f"{verdict}, {health}")
        ltv_row = _row(
            "LTV:CAC", Figure(float(ratio), "number", 2, suffix=flag),
            f"In {label}, LTV:CAC was {float(ratio):.2f} (LTV {money(float(ltv), cur)} = ARPA "
            f"{money(float(row['ARPA']), cur)} x gross margin {pct(e.gross_margin)} / trailing logo churn "
            f"{pct(float(row['Logo churn (trailing)']))}; CAC {money(float(cac), cur)} from {basis}): {judged}.",
        )
    if _missing(payback):
        why = ("there were no new customers" if new == 0 else "new customers brought no new MRR")
        pay_row = _row("CAC payback", "", f"In {label}, CAC payback cannot be computed: {why} ({basis}).")
    else:
        within = float(payback) <= e.payback_benchmark_months
        verdict = (f"within the {number(e.payback_benchmark_months)}-month benchmark" if within
                   else f"longer than the {number(e.payback_benchmark_months)}-month benchmark")
        pay_row = _row(
            "CAC payback", Figure(float(payback), "number", 1, suffix=f" months{flag}"),
            f"In {label}, CAC payback was {float(payback):.1f} months (CAC {money(float(cac), cur)} / new MRR per "
            f"new customer {money(float(per_new), cur)} x gross margin {pct(e.gross_margin)}): "
            + (f"{verdict}, but {caveat}." if caveat else f"{verdict}."),
        )
    return [ltv_row, pay_row]


def retention_row(by_age: pd.DataFrame, ages: tuple[int, ...] = (3, 6, 12)) -> dict[str, object] | None:
    """Pooled cohort retention at a few ages (those the data reaches)."""
    hit = by_age.loc[by_age["Age"].isin(ages) & by_age["Logo retention"].notna()]
    if hit.empty:
        return None
    logos = [pct(float(v)) for v in hit["Logo retention"]]
    months = [str(int(a)) for a in hit["Age"]]
    counts = [f"{int(n):,}" for n in hit["Customers"]]
    unit = "month" if months == ["1"] else "months"
    sentence = (f"Across signup cohorts (pooled), {join(logos)} of customers were still paying {join(months)} {unit} "
                f"after their first month (of {join(counts)} customers in cohorts old enough)")
    revenue = hit["Revenue retention"]
    if revenue.notna().all():
        sentence += f"; the cohorts kept {join([pct(float(v)) for v in revenue])} of their starting MRR at those ages"
    first = hit.iloc[0]
    return _row("Cohort retention", Figure(float(first["Logo retention"]), "percent",
                                           suffix=f" after {int(first['Age'])} month{'' if int(first['Age']) == 1 else 's'}"),
                sentence + ".")


def core_row(core: pd.DataFrame, currency: str) -> dict[str, object] | None:
    """The core users' median profile beside everyone else's, in one sentence."""
    groups = core.set_index("Group")
    if "Core users" not in groups.index or int(groups.loc["Core users", "Customers"]) == 0:
        return None
    c, o = groups.loc["Core users"], groups.loc["Everyone else"]

    def profile(r: pd.Series) -> str:
        bits = []
        for column, unit in (("Median seats", "seats"), ("Median sessions", "sessions"),
                             ("Median sessions per seat", "sessions per seat"),
                             ("Median tenure (months)", "months of tenure")):
            if not _missing(r[column]):
                bits.append(f"{number(float(r[column]))} {unit}")
        if not _missing(r["Annual plan share"]):
            bits.append(f"{pct(float(r['Annual plan share']))} on an annual plan")
        return ", ".join(bits) if bits else "no known attributes"

    share_mrr = "" if _missing(c["Share of MRR"]) else f"{pct(float(c['Share of MRR']))} of MRR and "
    share_life = "" if _missing(c["Share of lifetime revenue"]) else f"{pct(float(c['Share of lifetime revenue']))}"
    return _row(
        "Core users", Figure(int(c["Customers"]), "int", suffix=" customers"),
        f"The top quarter by lifetime revenue ({int(c['Customers'])} customers, "
        f"{pct(float(c['Share of customers']))} of all, median lifetime revenue "
        f"{money(float(c['Median lifetime revenue']), currency)}) hold {share_mrr}{share_life} of lifetime revenue; "
        f"their median profile is {profile(c)}, against {profile(o)} for everyone else.",
    )


def segment_row(seg: pd.DataFrame) -> dict[str, object] | None:
    """Which seat bucket carries the most MRR, and how many customers have no known seat count."""
    seats = seg.loc[(seg["Dimension"] == "Seats")]
    known = seats.loc[seats["Segment"] != "unknown"]
    unknown = seats.loc[seats["Segment"] == "unknown"]
    if known.empty or known["MRR"].sum() <= 0:
        return None
    top = known.loc[known["MRR"].idxmax()]
    n_unknown = int(unknown["Customers"].sum())
    tail = (f"; {plural(n_unknown, 'customer')} ({pct(float(unknown['Share of customers'].sum()))}) "
            f"{'has' if n_unknown == 1 else 'have'} no known seat count (the unknown bucket)") if n_unknown else ""
    label = f"{top['Segment']} seat" + ("" if top["Segment"] == "1" else "s")
    return _row(
        "Segments", Figure(float(top["Share of MRR"]), "percent", prefix=f"{label}: ", suffix=" of MRR"),
        f"Customers with {label} carry the most MRR: {pct(float(top['Share of MRR']))} of MRR from "
        f"{pct(float(top['Share of customers']))} of customers{tail}.",
    )


def guessed_mrr(schedule: pd.DataFrame, billing: pd.DataFrame, as_of: pd.Timestamp, timezone: str,
                codes: Codes | None = None) -> pd.DataFrame:
    """The part of each customer's month-end MRR that comes from intervals guessed from a single charge.

    Same grain and columns as kpi.mrr.customer_months (month, customer_id, mrr), over the pieces whose
    Billing row is `guessed` (a term read from one charge: one month, or a year). `codes`: the schedule's customers
    and refs as codes (kpi.schedule.Codes), when known: the pieces are then picked and grouped by code.
    """
    guessed = billing.loc[billing["guessed"], "ref"]
    if codes is None or len(codes.ref) != len(schedule):
        return customer_months(schedule.loc[schedule["ref"].isin(set(guessed))], as_of, timezone)
    wanted = pd.Index(codes.refs).get_indexer(pd.unique(guessed.to_numpy()))  # -1: a ref no piece has
    rows = np.isin(codes.ref, wanted[wanted >= 0])
    return customer_months(schedule.loc[rows], as_of, timezone, codes.rows(rows))


def guess_row(customer_months_: pd.DataFrame, guessed: pd.DataFrame, month: pd.Timestamp | None,
              as_of: pd.Timestamp, timezone: str, currency: str) -> dict[str, object]:
    """How much of the last complete month's churned MRR, and of MRR now, rests on intervals guessed from one charge."""
    now = as_of_month(as_of, timezone)
    g_month = guessed["month"].astype("datetime64[ns]")  # read a month at a time: no index of every guessed row
    cm = customer_months_.assign(month=lambda d: d["month"].astype("datetime64[ns]"))
    total_now = float(cm.loc[cm["month"] == now, "mrr"].sum())
    guessed_now = float(guessed["mrr"].loc[(g_month == now).to_numpy()].sum())
    day = pd.Timestamp(as_of).tz_convert(timezone).strftime("%Y-%m-%d")
    share_now = (f"{pct(guessed_now / total_now)} of MRR on {day} ({money(guessed_now, currency)})"
                 if total_now > 0 else f"no MRR on {day}")
    tail = " (Billing tab: Guessed = TRUE, the terms read from a single charge that no renewal confirmed; check those first)."
    if month is None or cm.empty:
        return _row("Guesses", "", f"{share_now[0].upper()}{share_now[1:]} rests on intervals guessed from a single "
                                    f"charge{tail}")
    # churn of the month (metrics.md 3): MRR > 0 at the previous snapshot, 0 at this one (customer months are dense)
    before = month - pd.DateOffset(months=1)
    prev = cm.loc[(cm["month"] == before) & (cm["mrr"] > 0)].set_index("customer_id")["mrr"]
    now_ = cm.loc[cm["month"] == month].set_index("customer_id")["mrr"].reindex(prev.index).fillna(0)
    gone = now_.index[now_.to_numpy() == 0]
    churn = pd.DataFrame({"customer_id": gone, "mrr_prev": to_cents(prev.loc[gone]) / 100})
    # in whole cents like the churn it is a part of: the Value is the sentence's "x of y" to the cent
    g_before = guessed.loc[(g_month == before).to_numpy()].set_index("customer_id")["mrr"]
    g_before = pd.Series(to_cents(g_before) / 100, index=g_before.index)
    from_guess = np.minimum(g_before.reindex(churn["customer_id"]).fillna(0).to_numpy(), churn["mrr_prev"].to_numpy())
    churned = float(churn["mrr_prev"].sum())
    label = month_label(month)
    if churned > 0:
        share = float(from_guess.sum()) / churned
        head = (f"In {label}, {pct(share)} of the churned MRR ({money(float(from_guess.sum()), currency)} of "
                f"{money(churned, currency)}; {int((from_guess > 0).sum())} of {plural(len(churn), 'churned customer')})"
                f" came from intervals guessed from a single charge, and so does {share_now}")
        return _row("Guesses", Figure(share, "percent", suffix=" of churned MRR"), head + tail)
    return _row("Guesses", "", f"In {label} no MRR churned; {share_now} rests on intervals guessed from a single "
                               f"charge{tail}")


def dropped_row(dropped: tuple[tuple[str, int], ...]) -> dict[str, object] | None:
    """Input lines dropped as bad (`dropped`: per file, as the reader counted them), when any were: every figure
    leaves them out, which the reader of the Summary should know without opening the Data quality tab (None: none)."""
    counts = [(PurePath(str(name)).name, n) for name, n in dropped if n > 0]
    total = sum(n for _, n in counts)
    if total == 0:
        return None
    files = ", ".join(f"{plural(n, 'line')} of {name}" for name, n in counts)
    are = "were" if total != 1 else "was", "are" if total != 1 else "is"
    return _row("Data quality", Figure(float(total), "int", suffix=" lines dropped" if total != 1 else " line dropped"),
                f"{plural(total, 'input line')} {are[0]} dropped as bad and {are[1]} left out of every figure here "
                f"({files}); the Data quality tab names each one's file, line, field and reason.")


def summary(mrr_by_month: pd.DataFrame, ue: pd.DataFrame, by_age: pd.DataFrame, as_of: pd.Timestamp,
            params: Params, core: pd.DataFrame | None = None, seg: pd.DataFrame | None = None,
            guesses: tuple[pd.DataFrame, pd.DataFrame] | None = None,
            quarters: pd.DataFrame | None = None, dropped: tuple[tuple[str, int], ...] = ()) -> pd.DataFrame:
    """Rows (Topic, Value, Sentence), in reading order. `core` / `seg` None: those topics are left out.

    `guesses`: (customer_months, guessed_mrr) of a payment log, for the row on guessed intervals; None: no such row.
    `quarters`: kpi.mrr.mrr_by_quarter, for the last complete quarter's rates in the Revenue retention row.
    `dropped`: per input file, the lines dropped as bad: a row of their own, after MRR's, when there are any.
    """
    mm = mrr_by_month.reset_index(drop=True)
    current = as_of_month(as_of, params.timezone)
    complete = current if month_is_complete(as_of, params.timezone) else current - pd.DateOffset(months=1)
    complete_month = complete if len(mm) and complete >= mm["month"].min() else None
    rows = mrr_rows(mm, as_of, params.timezone, params.currency)
    lost = dropped_row(dropped)
    if lost is not None:
        rows.append(lost)
    if not mm.empty:
        rows.append(churn_row(mm, complete_month))
        retention = revenue_retention_row(mm, quarters, complete_month, params.currency)
        if retention is not None:
            rows.append(retention)
        if guesses is not None:
            rows.append(guess_row(guesses[0], guesses[1], complete_month, as_of, params.timezone, params.currency))
        rows.extend(economics_rows(ue, complete_month, params))
    optional = [retention_row(by_age)]
    if core is not None:
        optional.append(core_row(core, params.currency))
    if seg is not None:
        optional.append(segment_row(seg))
    rows.extend(r for r in optional if r is not None)
    return pd.DataFrame(rows, columns=COLUMNS)


def _build(ctx: Context) -> pd.DataFrame:
    month = as_of_month(ctx.as_of, ctx.timezone)
    ue = economics_of(ctx)
    by_age = retention_by_age(ctx.customer_months, month, ctx.cohorts)
    core = seg = guesses = None
    if ctx.dataset == "payments" and ctx.charges is not None:
        from kpi.profile import core_users, segments

        profile = ctx.profile
        core = core_users(profile)
        seg = segments(profile, ctx.params.segments)
    if ctx.billing is not None:
        guesses = (ctx.customer_months, guessed_mrr(ctx.schedule, ctx.billing, ctx.as_of, ctx.timezone,
                                                    ctx.schedule_codes))
    frame = summary(ctx.mrr_by_month, ue, by_age, ctx.as_of, ctx.params, core, seg, guesses, ctx.mrr_by_quarter,
                    ctx.dropped)
    if ctx.dataset == "contracts":
        from kpi.portfolio_summary import contract_summary

        frame = contract_summary(ctx, frame)
    return frame


TABS: list[Tab] = [
    Tab(
        name="Summary",
        description=(
            "The headline numbers in one sentence each: MRR and its change, the latest month's movements, "
            "churn, NRR and GRR over 12 months and the last complete quarter, how much of the churned MRR and of MRR "
            "rests on intervals guessed from a single charge (payment logs), LTV:CAC and CAC payback against their "
            "benchmarks (settings economics.ltv_cac_benchmark, economics.payback_benchmark_months) with the inputs "
            "that are assumed defaults, cohort retention and the core users. Rates and unit economics are for the "
            "last complete month. For contract data also the portfolio: customers direct and indirect, the MRR "
            "trend, churn per quarter, solutions per customer and per project, projects deployed, sectors and, with "
            "Lucca, next month's availability, each over complete periods only (About, 'Summary sentence', says how "
            "each is computed)."
        ),
        columns=(
            Column("Topic", "text", "What the row is about"),
            Column("Value", "figure",
                   "The topic's headline figure as a number (money, a percentage, a count or a ratio), shown with its "
                   "unit and words that say what it is; empty when the sentence says why there is none"),
            Column("Sentence", "text", "One sentence built from the numbers of the other tabs"),
        ),
        build=_build,
    ),
]
