"""The Summary of contract data: the portfolio questions a customer-success or revenue-operations lead asks first.

Each function reads one published tab (the frame its builder returns, with the tab's column names) and writes one
Summary row (Topic, Value, Sentence); none recomputes a figure the tab holds. Which periods a sentence compares:
- the tabs' Period column decides what is complete: the month (quarter) of as_of is left out when it is partial
  (metrics.md 4), so "the last complete month" is the last row whose Period is "complete";
- a comparison names its periods, and when the tab does not reach back that far the sentence says "not enough
  history" instead of stating a trend from fewer periods than it names.

`contract_summary` puts these rows among the rows every kind of data has (kpi.summary), in reading order.
`METHODS` says how each sentence is computed; the About tab lists it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kpi.params import Params
from kpi.tables import Context, Figure, Tab, built_table
from kpi.wording import COLUMNS, join, money, month_label, pct, plural, signed_money

COMPLETE = "complete"
# how each contract sentence is computed (the About tab lists these under "Summary sentence")
METHODS: dict[str, str] = {
    "Customers": (
        "Portfolio tab, the last complete month (Period = complete): Total, Direct, Indirect, Indirect share and the "
        "largest 'Via <partner>' column, against the same columns 12 months earlier; 'not enough history' when the "
        "tab does not reach 12 months back. The count at as_of is the tab's last row when its month is partial."
    ),
    "MRR trend": (
        "MRR tab, complete months only: the last complete month's MRR growth % (month over month); compound monthly "
        "growth over 12 months = (MRR of the last complete month / MRR 12 months earlier)^(1/12) - 1; the largest "
        "monthly change = the largest Net new MRR in absolute value over the 12 complete months to the last one (or "
        "the months the data has, named), with its largest movement in the same direction (new, expansion or "
        "reactivation for a rise; churned or contraction for a fall)."
    ),
    "Churn per quarter": (
        "MRR by quarter tab, complete quarters only: Churned MRR, Churned ARR, Churned customers, Contraction MRR and "
        "ARR of the last complete quarter, of the quarter before and of the same quarter a year earlier; the worst "
        "quarter = the most Churned + Contraction MRR among the last four complete quarters (or those the data has, "
        "named), and its main cause = the larger of the two."
    ),
    "Solutions per customer": (
        "Solutions tab, the last complete month: Solutions per customer (active solutions / active customers) against "
        "3 and 12 months earlier; cross-sell is called rising (falling) when the figure, to two decimals, is higher "
        "(lower) than at the longest of those comparisons the data reaches; Customers with one solution and "
        "One-solution share of the same months."
    ),
    "Projects deployed": (
        "Projects tab, complete months only: Projects deployed summed per project type over the last three complete "
        "months and over the three before; the type that grew most = the largest increase in projects."
    ),
    "Solutions per project": (
        "Projects tab, the same two three-month windows: Solutions deployed / Projects deployed summed over each window "
        "(all types, then per type), so months with more projects weigh more."
    ),
    "Sectors": (
        "The Sectors tab's Summary cell: the largest sector by MRR at as_of, the fastest growing by MRR growth over the "
        "window and the fastest churning by logo churn rate over the window, measured on the customers paying at its "
        "start (the window ends with the last complete month)."
    ),
    "Unit economics": (
        "Given in place of LTV:CAC and CAC payback when the last complete month's acquisition spend is the default "
        "constant (not configured): the Unit economics tab's LTV, ARPA and trailing logo churn of that month."
    ),
    "Availability": (
        "Availability tab: employees = rows with an employee id; working, absence and available days and Availability % "
        "of the 'Total, all departments' row; the department with the least availability = the department total row "
        "with the lowest Availability %."
    ),
}
# reading order of the contract Summary; topics not listed (from kpi.summary) keep their order after these
ORDER = (
    "Customers", "MRR", "MRR trend", "MRR movements", "Data quality", "Churn", "Churn per quarter", "Revenue retention",
    "Solutions per customer", "Projects deployed", "Solutions per project", "Sectors", "Unit economics",
)


def _row(topic: str, value: Figure | None, sentence: str) -> dict[str, object]:
    """A Summary row; `value` is its headline number (kpi.tables.Figure), None when the sentence says why there is none."""
    return {"Topic": topic, "Value": value, "Sentence": sentence}


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float | np.floating) and math.isnan(x))


def _months_back(month: pd.Timestamp, n: int) -> pd.Timestamp:
    return pd.Timestamp(month) - pd.DateOffset(months=n)


def _complete(frame: pd.DataFrame, key: str = "Month") -> pd.DataFrame:
    """The rows of complete periods, oldest first."""
    done = frame.loc[frame["Period"] == COMPLETE]
    return done.assign(**{key: pd.to_datetime(done[key])}).sort_values(key, kind="stable")


def _at(done: pd.DataFrame, month: pd.Timestamp, key: str = "Month") -> pd.Series | None:
    hit = done.loc[done[key] == pd.Timestamp(month)]
    return None if hit.empty else hit.iloc[-1]


def _partial_day(frame: pd.DataFrame) -> str | None:
    """as_of's day when the table's last period is partial ("partial, to 2024-12-28" -> "2024-12-28")."""
    if frame.empty:
        return None
    period = str(frame["Period"].iloc[-1])
    return period.rsplit(" ", 1)[-1] if period != COMPLETE else None


def _count(n: float) -> str:
    """12 -> "12", 12.5 -> "12.5" (days in half-day steps)."""
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def _days(n: float) -> str:
    """1 day, 0.5 day, 12.5 days."""
    return f"{_count(n)} {'day' if n <= 1 else 'days'}"


def _signed(n: int) -> str:
    return f"{n:+,d}"


def _points(change: float) -> str:
    return f"{abs(change) * 100:.1f} points"


def _ratio2(x: float) -> str:
    return f"{x:.2f}"


WORDS = {3: "three", 12: "twelve"}


def _no_history(what: str | None, needed: str, first: pd.Timestamp | str) -> str:
    start = month_label(first) if isinstance(first, pd.Timestamp) else first
    return f"not enough history{'' if what is None else ' for ' + what} (it needs {needed}; the data starts in {start})"


# ---------------------------------------------------------------- 1. customers, direct and indirect


def customers_row(portfolio: pd.DataFrame, indirect_types: tuple[str, ...]) -> dict[str, object]:
    """How many customers now, direct and indirect, and how the split moved over the last 12 months (Portfolio tab)."""
    done = _complete(portfolio)
    if done.empty:
        return _row("Customers", None, "No month is complete yet, so the portfolio is not compared over time.")
    last = done.iloc[-1]
    month = last["Month"]
    label = month_label(month)
    day = _partial_day(portfolio)
    now = f" ({int(portfolio['Total'].iloc[-1]):,} on {day}, as_of)" if day else ""
    partners = [c for c in portfolio.columns if str(c).startswith("Via ")]
    top = ""
    if partners and int(last["Indirect"]) > 0:
        counts = last[partners].astype("int64")
        most = int(counts.max())
        leaders = [str(c)[4:] for c in partners if int(counts[c]) == most]
        top = (f"; the most through {leaders[0]}, {most:,}" if len(leaders) == 1 else
               f"; the most through {join(leaders)}, {most:,} each")
    kinds = join(list(indirect_types)) if indirect_types else "indirect"
    share = "" if _missing(last["Indirect share"]) else f"{pct(float(last['Indirect share']))}, "
    sentence = (
        f"At the end of {label}, the last complete month, the portfolio held {plural(int(last['Total']), 'customer')}"
        f"{now}: {int(last['Direct']):,} direct and {int(last['Indirect']):,} indirect ({share}through {kinds} "
        f"partners{top})"
    )
    before = _months_back(month, 12)
    prev = _at(done, before)
    if prev is None:
        sentence += "; " + _no_history("a 12-month comparison", f"the end of {month_label(before)}",
                                       pd.Timestamp(portfolio["Month"].min()))
    else:
        d_direct = int(last["Direct"]) - int(prev["Direct"])
        d_indirect = int(last["Indirect"]) - int(prev["Indirect"])
        sentence += (
            f"; 12 months earlier, at the end of {month_label(before)}, it held {int(prev['Total']):,}: "
            f"{int(prev['Direct']):,} direct and {int(prev['Indirect']):,} indirect"
        )
        if not _missing(prev["Indirect share"]) and not _missing(last["Indirect share"]):
            change = float(last["Indirect share"]) - float(prev["Indirect share"])
            sentence += f" ({pct(float(prev['Indirect share']))})"
            moved = (f"rose {_points(change)}" if round(change, 3) > 0 else
                     f"fell {_points(change)}" if round(change, 3) < 0 else "was unchanged")
            sentence += f", so direct {_signed(d_direct)} and indirect {_signed(d_indirect)}, and the indirect share {moved}"
        else:
            sentence += f", so direct {_signed(d_direct)} and indirect {_signed(d_indirect)}"
    return _row("Customers", Figure(int(last["Total"]), "int", suffix=f" customers ({int(last['Indirect']):,} indirect)"),
                sentence + ".")


# ---------------------------------------------------------------- 2-3. projects


def _project_windows(projects: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.Timestamp], list[pd.Timestamp]] | str:
    """(complete rows, last three complete months, the three before), or why they cannot be compared."""
    if projects.empty:
        return "no project was deployed up to as_of"
    done = _complete(projects)
    months = sorted(pd.DatetimeIndex(done["Month"].unique()))
    if not months:
        return "no month is complete yet, so deployments are not compared"
    last = months[-1]
    recent = [_months_back(last, n) for n in (2, 1, 0)]
    before = [_months_back(last, n) for n in (5, 4, 3)]
    if before[0] < months[0]:
        return _no_history(
            "comparing the last three complete months with the three before",
            f"six complete months, from {month_label(before[0])} to {month_label(last)}", months[0])
    return done, recent, before


def _span(months: list[pd.Timestamp]) -> str:
    return f"{month_label(months[0])} to {month_label(months[-1])}"


def projects_row(projects: pd.DataFrame) -> dict[str, object]:
    """Projects deployed per type, the last three complete months against the three before (Projects tab)."""
    windows = _project_windows(projects)
    if isinstance(windows, str):
        return _row("Projects deployed", None, f"Projects deployed: {windows}.")
    done, recent, before = windows
    now_ = done.loc[done["Month"].isin(recent)].groupby("Project type")["Projects deployed"].sum()
    then = done.loc[done["Month"].isin(before)].groupby("Project type")["Projects deployed"].sum()
    types = sorted(set(now_.index) | set(then.index), key=lambda t: (-int(now_.get(t, 0)), str(t).casefold()))
    n, m = int(now_.sum()), int(then.sum())
    listed = ", ".join(f"{t} {int(now_.get(t, 0)):,}" for t in types)
    change = ("none before" if m == 0 else "unchanged" if n == m else
              f"{'up' if n > m else 'down'} {pct(abs(n - m) / m)}")
    growth = {t: int(now_.get(t, 0)) - int(then.get(t, 0)) for t in types}
    grew = [t for t in types if growth[t] > 0]
    if grew:
        top = max(grew, key=lambda t: (growth[t], int(now_.get(t, 0))))
        most = f"{top} grew most ({_signed(growth[top])}, from {int(then.get(top, 0)):,} to {int(now_.get(top, 0)):,})"
    else:
        most = "no type deployed more than in the three months before"
    sentence = (
        f"In {_span(recent)}, the last three complete months, {plural(n, 'project')} {'was' if n == 1 else 'were'} "
        f"deployed ({listed}), against {m:,} in {_span(before)} ({change}); {most}."
    )
    return _row("Projects deployed", Figure(n, "int", suffix=" in 3 months"), sentence)


def project_solutions_row(projects: pd.DataFrame) -> dict[str, object]:
    """Average solutions per deployed project, overall and per type, in the same two windows (Projects tab)."""
    windows = _project_windows(projects)
    if isinstance(windows, str):
        return _row("Solutions per project", None, f"Solutions per project: {windows}.")
    done, recent, before = windows

    def sums(months: list[pd.Timestamp]) -> pd.DataFrame:
        return done.loc[done["Month"].isin(months)].groupby("Project type")[
            ["Projects deployed", "Solutions deployed"]].sum()

    now_, then = sums(recent), sums(before)

    def average(frame: pd.DataFrame, kind: str | None = None) -> float:
        part = frame if kind is None else frame.loc[[kind]] if kind in frame.index else frame.iloc[0:0]
        projects_ = int(part["Projects deployed"].sum())
        return float(part["Solutions deployed"].sum()) / projects_ if projects_ else math.nan

    overall_now, overall_then = average(now_), average(then)

    def versus(a: float, b: float) -> str:
        if math.isnan(a) and math.isnan(b):
            return "no project in either window"
        if math.isnan(a):
            return f"none deployed ({_ratio2(b)} before)"
        if math.isnan(b):
            return f"{_ratio2(a)} (none deployed before)"
        word = "up from" if round(a, 2) > round(b, 2) else "down from" if round(a, 2) < round(b, 2) else "as before,"
        return f"{_ratio2(a)} ({word} {_ratio2(b)})"

    types = sorted(set(now_.index) | set(then.index), key=str.casefold)
    if not types:
        return _row("Solutions per project", None,
                    f"No project was deployed in {_span(before)} or {_span(recent)}, so there is no average.")
    per_type = "; ".join(f"{t} {versus(average(now_, t), average(then, t))}" for t in types)
    sentence = (f"Solutions per deployed project in {_span(recent)} against {_span(before)}: "
                f"{versus(overall_now, overall_then)} over all types; {per_type}.")
    return _row("Solutions per project", None if math.isnan(overall_now) else Figure(overall_now, "number", 2), sentence)


# ---------------------------------------------------------------- 4. solutions per customer


def solutions_row(solutions: pd.DataFrame) -> dict[str, object]:
    """Solutions per customer against 3 and 12 months earlier, what it implies, and the single-solution share."""
    done = _complete(solutions)
    if done.empty:
        return _row("Solutions per customer", None, "No month is complete yet, so solutions per customer are not compared.")
    last = done.iloc[-1]
    month = last["Month"]
    first = pd.Timestamp(solutions["Month"].min())
    if _missing(last["Solutions per customer"]):
        return _row("Solutions per customer", None, f"At the end of {month_label(month)} no customer had an active "
                                                  "solution.")
    spc = float(last["Solutions per customer"])
    head = (f"At the end of {month_label(month)}, the last complete month, customers used {_ratio2(spc)} solutions "
            f"on average ({int(last['Active solutions']):,} across {plural(int(last['Active customers']), 'customer')})")
    known: list[str] = []
    unknown: list[str] = []
    verdict_from: tuple[int, pd.Series] | None = None
    for n in (3, 12):
        back = _months_back(month, n)
        prev = _at(done, back)
        if prev is None or _missing(prev["Solutions per customer"]):
            unknown.append(_no_history(f"{n} months", f"the end of {month_label(back)}", first))
        else:
            known.append(f"{_ratio2(float(prev['Solutions per customer']))} {WORDS[n]} months earlier "
                         f"({month_label(back)})")
            verdict_from = (n, prev)
    parts = [head + (", against " + " and ".join(known) if known else ""), *unknown]
    one = (f"{int(last['Customers with one solution']):,} of {int(last['Active customers']):,} customers "
           f"({pct(float(last['One-solution share']))}) have one solution only")
    if verdict_from is None:
        verdict = "no trend is stated"
    else:
        n, prev = verdict_from
        a, b = round(spc, 2), round(float(prev["Solutions per customer"]), 2)
        verdict = (f"cross-sell is {'rising' if a > b else 'falling' if a < b else 'flat'} over {WORDS[n]} months "
                   f"({'more' if a > b else 'fewer' if a < b else 'as many'} solutions per customer)")
        if not _missing(prev["One-solution share"]):
            one += f", against {pct(float(prev['One-solution share']))} in {month_label(prev['Month'])}"
    sentence = "; ".join([*parts, verdict, one]) + "."
    return _row("Solutions per customer", Figure(spc, "number", 2), sentence)


# ---------------------------------------------------------------- 5. MRR trend

GAINS = (("New MRR", "new MRR"), ("Expansion MRR", "expansion"), ("Reactivation MRR", "reactivation"))
LOSSES = (("Churned MRR", "churned MRR"), ("Contraction MRR", "contraction"))


def mrr_trend_row(mrr: pd.DataFrame, currency: str) -> dict[str, object]:
    """Month-over-month growth, compound monthly growth over 12 months, the largest monthly change (MRR tab)."""
    done = _complete(mrr)
    if done.empty:
        return _row("MRR trend", None, "No month is complete yet, so MRR growth is not reported.")
    first = pd.Timestamp(mrr["Month"].min())
    last = done.iloc[-1]
    month = last["Month"]
    label = month_label(month)
    growth = last["MRR growth %"]
    prev = _at(done, _months_back(month, 1))
    if _missing(growth) or prev is None:
        head = (f"MRR was {money(float(last['MRR']), currency)} at the end of {label}, the last complete month, with "
                f"no MRR the month before to measure growth from")
        value = None
    else:
        g = float(growth)
        verb = "grew" if g > 0 else "fell" if g < 0 else "was flat"
        amount = "" if g == 0 else f" {pct(abs(g))}"
        head = (f"MRR {verb}{amount} in {label}, the last complete month (from {money(float(prev['MRR']), currency)} to "
                f"{money(float(last['MRR']), currency)})")
        value = Figure(g, "percent", signed=True, suffix=f" in {label}")
    base_month = _months_back(month, 12)
    base = _at(done, base_month)
    if base is None or float(base["MRR"]) <= 0:
        cmgr = "compound monthly growth over 12 months: " + _no_history(
            None, f"MRR at the end of {month_label(base_month)}", first)
    else:
        rate = (float(last["MRR"]) / float(base["MRR"])) ** (1 / 12) - 1
        cmgr = (f"compound monthly growth over the 12 months to {label} was {pct(rate)} (from "
                f"{money(float(base['MRR']), currency)} at the end of {month_label(base_month)})")
    window = done.loc[(done["Month"] > base_month) & (done["Month"] > first)]
    if window.empty:
        largest = "no month has a previous month to measure a change from"
    else:
        size = window["Net new MRR"].abs().to_numpy()
        pick = window.iloc[int(np.flatnonzero(size == size.max())[-1])]  # ties: the most recent
        net = float(pick["Net new MRR"])
        movements = GAINS if net >= 0 else LOSSES
        column, name = max(movements, key=lambda m: float(pick[m[0]]))
        where = (f"of the 12 months to {label}" if len(window) == 12 else
                 f"from {month_label(window['Month'].iloc[0])} to {label} (the months the data has)")
        largest = (f"the largest monthly change {where} was {signed_money(net, currency)} in "
                   f"{month_label(pick['Month'])}, mostly {name} ({money(float(pick[column]), currency)})")
    return _row("MRR trend", value, f"{head}; {cmgr}; {largest}.")


# ---------------------------------------------------------------- 6. churn per quarter


def _quarter_loss(q: pd.Series, currency: str) -> str:
    if float(q["Churned MRR"]) == 0 and int(q["Churned customers"]) == 0:
        churn = "no customer churned"
    else:
        churn = (f"churn took {money(float(q['Churned MRR']), currency)} of MRR "
                 f"({money(float(q['Churned ARR']), currency)} of ARR, "
                 f"{plural(int(q['Churned customers']), 'customer')} lost)")
    if float(q["Contraction MRR"]) == 0:
        return f"{churn}, with no contraction"
    return (f"{churn} and contraction {money(float(q['Contraction MRR']), currency)} "
            f"({money(float(q['Contraction ARR']), currency)} of ARR)")


def churn_quarter_row(quarters: pd.DataFrame, currency: str) -> dict[str, object]:
    """The last complete quarter's churn in MRR, ARR and customers, against the quarter before and a year earlier,
    and the worst of the last four complete quarters with its main cause (MRR by quarter tab)."""
    done = _complete(quarters, "Quarter start")
    if done.empty:
        return _row("Churn per quarter", None, "No quarter is complete yet, so churn per quarter is not reported.")
    first = str(quarters["Quarter"].iloc[0])
    q = done.iloc[-1]
    start = q["Quarter start"]
    parts = [f"In {q['Quarter']}, the last complete quarter, {_quarter_loss(q, currency)}"]
    for n, what in ((3, "the quarter before"), (12, "the same quarter a year earlier")):
        other = _at(done, _months_back(start, n), "Quarter start")
        if other is None:
            label = str(pd.Period(_months_back(start, n), "Q")).replace("Q", "-Q")
            parts.append(f"{label}, {what}: not enough history (the data starts in {first})")
        else:
            parts.append(f"in {other['Quarter']}, {what}, {_quarter_loss(other, currency)}")
    window = done.loc[done["Quarter start"] > _months_back(start, 12)]
    lost = window["Churned MRR"].astype(float) + window["Contraction MRR"].astype(float)
    where = ("of the last four complete quarters" if len(window) == 4 else
             f"of the {len(window)} complete quarters from {window['Quarter'].iloc[0]} to {q['Quarter']} "
             f"(the quarters the data has)" if len(window) > 1 else "")
    if len(window) > 1 and float(lost.max()) <= 0:
        parts.append(f"no MRR was lost to churn or contraction in any quarter {where}")
    elif len(window) > 1:
        worst = window.iloc[int(np.flatnonzero(lost.to_numpy() == lost.max())[-1])]
        churned, contraction = float(worst["Churned MRR"]), float(worst["Contraction MRR"])
        cause = (f"mostly churned customers ({money(churned, currency)}, {plural(int(worst['Churned customers']), 'customer')},"
                 f" against {money(contraction, currency)} of contraction)" if churned >= contraction else
                 f"mostly contraction ({money(contraction, currency)}, against {money(churned, currency)} from "
                 f"{plural(int(worst['Churned customers']), 'churned customer')})")
        parts.append(f"the worst {where} was {worst['Quarter']}, with {money(churned + contraction, currency)} of MRR "
                     f"lost, {cause}")
    sentence = "; ".join(parts) + "."
    return _row("Churn per quarter", Figure(float(q["Churned MRR"]), "money", suffix=f" churned MRR ({q['Quarter']})"),
                sentence)


# ---------------------------------------------------------------- 7. sectors


def sectors_row(sectors: pd.DataFrame) -> dict[str, object] | None:
    """The Sectors tab's own sentence (largest, fastest growing, fastest churning), as its Summary cell has it."""
    if sectors.empty or _missing(sectors["Summary"].iloc[0]):
        return None
    top = sectors.loc[sectors["Sector"] != "Unknown"]
    value = None if top.empty or float(top["MRR"].iloc[0]) <= 0 else Figure(
        float(top["Share of MRR"].iloc[0]), "percent", prefix=f"{top['Sector'].iloc[0]}: ", suffix=" of MRR")
    return _row("Sectors", value, str(sectors["Summary"].iloc[0]))


# ---------------------------------------------------------------- 8. availability


def availability_row(availability: pd.DataFrame) -> dict[str, object] | None:
    """The month's staff availability in one sentence (Availability tab)."""
    if availability.empty:
        return None
    month = month_label(pd.Timestamp(availability["Month"].iloc[0]))
    people = availability.loc[availability["Employee id"].notna()]
    everyone = availability.loc[availability["Name"] == "Total, all departments"]
    if people.empty or everyone.empty:
        return _row("Availability", None, f"No employee is active in {month}, so there is no availability to report.")
    total = everyone.iloc[0]
    working, absent, available = (float(total[c]) for c in ("Working days", "Absence days", "Available days"))
    if _missing(total["Availability %"]):
        return _row("Availability", None, f"In {month}, {plural(len(people), 'employee')} are active but none has a "
                                        "working day, so availability has no denominator.")
    departments = availability.loc[availability["Employee id"].isna() & availability["Department"].notna()
                                   & availability["Availability %"].notna()]
    sentence = (f"In {month}, {plural(len(people), 'employee')} {'is' if len(people) == 1 else 'are'} expected to work "
                f"{_days(working)}, of which {_days(absent)} on approved leave, so {_days(available)} available "
                f"({pct(float(total['Availability %']))})")
    if len(departments) > 1:
        low = departments.sort_values(["Availability %", "Department"], kind="stable").iloc[0]
        sentence += (f"; the department with the least availability is {low['Department']} "
                     f"({pct(float(low['Availability %']))}, {_count(float(low['Available days']))} of "
                     f"{_days(float(low['Working days']))} available)")
    return _row("Availability", Figure(float(total["Availability %"]), "percent", suffix=f" available in {month}"),
                sentence + ".")


# ---------------------------------------------------------------- unit economics without a spend


def unassumed_economics_row(economics: pd.DataFrame, params: Params) -> dict[str, object] | None:
    """One row in place of LTV:CAC and CAC payback when the last complete month's acquisition spend is the default
    constant: a ratio on a spend that is not the business's says nothing, so only LTV (which needs no spend) is given.
    None when the spend is configured: the rows of kpi.summary stand."""
    done = _complete(economics)
    if done.empty:
        return None
    last = done.iloc[-1]
    label = month_label(last["Month"])
    e = params.economics
    if not e.spend_is_default(label):
        return None
    margin = f"gross margin {pct(e.gross_margin)}" + (" (the default: set gross_margin)" if e.margin_is_default() else "")
    if _missing(last["LTV"]):
        ltv = f"LTV has no value in {label} (the trailing logo churn is {'' if _missing(last['Logo churn (trailing)']) else 'zero or '}not available)"
        value = None
    else:
        ltv = (f"in {label}, LTV was {money(float(last['LTV']), params.currency)} (ARPA "
               f"{money(float(last['ARPA']), params.currency)} x {margin} / trailing logo churn "
               f"{pct(float(last['Logo churn (trailing)']))})")
        value = Figure(float(last["LTV"]), "money", prefix="LTV ")
    return _row(
        "Unit economics", value,
        "LTV:CAC and CAC payback are not stated: no acquisition spend is configured, and a ratio on the default of "
        f"{money(float(last['Acquisition spend']), params.currency)} a month would describe no real business (set "
        "acquisition_spend_per_month, spend_file or spend_by_month under [economics]; see docs/growth-and-retention.md, "
        f"Settings); {ltv}.",
    )


# ---------------------------------------------------------------- assembly


def _tabs(ctx: Context) -> dict[str, pd.DataFrame]:
    """The frames of the tabs the sentences read, built through their declarations as a run builds them."""
    from kpi.tables import all_tabs

    wanted = {"Portfolio", "Solutions", "Projects", "MRR", "MRR by quarter", "Sectors", "Availability",
              "Unit economics"}
    found: dict[str, Tab] = {t.name: t for t in all_tabs() if t.name in wanted}
    return {name: built_table(tab, ctx).frame for name, tab in found.items() if ctx.skip_reason(tab) is None}


def portfolio_rows(ctx: Context) -> list[dict[str, object]]:
    """The contract Summary rows, from the tabs this run publishes (a tab that is skipped gives no row)."""
    frames = _tabs(ctx)
    currency = ctx.params.currency
    rows: list[dict[str, object] | None] = []
    if "Portfolio" in frames:
        rows.append(customers_row(frames["Portfolio"], tuple(ctx.params.portfolio.indirect_partner_types)))
    if "MRR" in frames and len(frames["MRR"]):
        rows.append(mrr_trend_row(frames["MRR"], currency))
    if "MRR by quarter" in frames and len(frames["MRR by quarter"]):
        rows.append(churn_quarter_row(frames["MRR by quarter"], currency))
    if "Solutions" in frames:
        rows.append(solutions_row(frames["Solutions"]))
    if "Projects" in frames:
        rows.append(projects_row(frames["Projects"]))
        rows.append(project_solutions_row(frames["Projects"]))
    if "Sectors" in frames:
        rows.append(sectors_row(frames["Sectors"]))
    if "Unit economics" in frames:
        rows.append(unassumed_economics_row(frames["Unit economics"], ctx.params))
    if "Availability" in frames:
        rows.append(availability_row(frames["Availability"]))
    return [r for r in rows if r is not None]


def contract_summary(ctx: Context, generic: pd.DataFrame) -> pd.DataFrame:
    """The Summary of contract data: the rows of every kind of data (`generic`, from kpi.summary) and the portfolio
    rows, in the reading order of ORDER (then the generic rows it does not name, then Availability)."""
    extra = portfolio_rows(ctx)
    rows = generic.to_dict("records")
    if any(r["Topic"] == "Unit economics" for r in extra):  # no spend configured: LTV:CAC and payback say nothing
        rows = [r for r in rows if r["Topic"] not in ("LTV:CAC", "CAC payback")]
    rows += extra
    rank = {topic: i for i, topic in enumerate(ORDER)}
    last = len(ORDER) + len(rows)
    ordered = sorted(enumerate(rows), key=lambda ir: (
        rank.get(ir[1]["Topic"], last if ir[1]["Topic"] == "Availability" else len(ORDER)), ir[0]))
    return pd.DataFrame([r for _, r in ordered], columns=COLUMNS)


def about_rows(ctx: Context) -> list[tuple[str, str, str]]:
    """(Section, Item, Value) rows for the About tab: how each contract Summary sentence is computed."""
    if ctx.dataset != "contracts":
        return []
    current = ctx.as_of.tz_convert(ctx.timezone).tz_localize(None).to_period("M").to_timestamp()
    complete = month_label(current - pd.DateOffset(months=1) if ctx.partial else current)
    spend_default = ctx.params.economics.spend_is_default(complete)
    topics = [t for t in METHODS if (t != "Availability" or ctx.hr is not None)
              and (t != "Unit economics" or spend_default)]
    if ctx.projects is None:
        topics = [t for t in topics if t not in ("Projects deployed", "Solutions per project")]
    return [("Summary sentence", topic, METHODS[topic]) for topic in topics]
