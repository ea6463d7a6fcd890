"""The Summary of contract data (kpi/portfolio_summary.py): one sentence per portfolio question.

Two kinds of test per sentence:
- on the hand-computed fixture (tests/fixtures/contracts, as_of 2024-06-30; see tests/kpi/test_portfolio.py for the
  per-customer table), the whole sentence, each figure worked out by hand in the comments;
- on the shipped sample (config/contracts.toml, as_of 2024-12-28: December is partial), the figures of the sentence
  read from the cells of the published tabs they come from (never recomputed from the data).

Item 8 (availability) uses the hand-computed HR month of tests/kpi/test_availability.py on the fixture, and the fake
Lucca API on the sample.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import responses

from kpi import portfolio_summary as ps
from kpi.about import about
from kpi.tables import Context, Figure, RunInfo, all_tabs, build_table
from sync.run import RunOutcome, build_context, load_dataset, resolve_as_of, run_once
from sync.settings import load_settings
from tests.fakes.lucca import API_KEY, BASE_URL, FakeLucca
from tests.kpi.test_availability import hr as july_hr

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "contracts"
NAN = float("nan")


def fixture_context(as_of: str | None = None) -> Context:
    settings = load_settings(FIXTURE / "config.toml", {})
    loaded = load_dataset(settings)
    return build_context(settings, loaded, resolve_as_of(settings, loaded, as_of), RunInfo())


def summary_of(ctx: Context) -> dict[str, tuple[str, str]]:
    """Topic -> (Value as its cell shows it, Sentence) of the Summary tab, built through its declaration as a run
    builds it; every Value is a typed Figure (or empty)."""
    tab = next(t for t in all_tabs() if t.name == "Summary")
    frame = build_table(tab, ctx).frame
    assert frame["Topic"].is_unique
    assert all(v is None or isinstance(v, Figure) for v in frame["Value"])
    return {r.Topic: ("" if r.Value is None else r.Value.text("EUR"), r.Sentence) for r in frame.itertuples()}


@pytest.fixture(scope="module")
def fixture() -> dict[str, tuple[str, str]]:
    return summary_of(fixture_context())


@pytest.fixture(scope="module")
def partial() -> dict[str, tuple[str, str]]:
    """as_of 2024-04-15: April (and 2024-Q2) are partial, so the sentences speak of March and 2024-Q1."""
    return summary_of(fixture_context("2024-04-15"))


# ---------------------------------------------------------------- the fixture, by hand


def test_fixture_topics_in_reading_order(fixture: dict[str, tuple[str, str]]) -> None:
    """The portfolio rows sit among the rows every kind of data has; no spend is configured, so LTV:CAC and CAC
    payback give way to one Unit economics row."""
    assert list(fixture) == [
        "Customers", "MRR", "MRR trend", "MRR movements", "Data quality", "Churn", "Churn per quarter",
        "Revenue retention", "Solutions per customer", "Projects deployed", "Solutions per project", "Sectors",
        "Unit economics", "Cohort retention",
    ]


def test_fixture_customers(fixture: dict[str, tuple[str, str]]) -> None:
    # June: A, D (a Revendeur is direct), E direct; C (IntegraTwo) and F (IntegraOne) indirect: 2 of 5 = 40%.
    # B (IntegraOne) left in April, so each integrator has one. The data starts in 2023-10: no June 2023.
    assert fixture["Customers"] == ("5 customers (2 indirect)", (
        "At the end of 2024-06, the last complete month, the portfolio held 5 customers: 3 direct and 2 indirect "
        "(40.0%, through Integrateur partners; the most through IntegraOne and IntegraTwo, 1 each); not enough history "
        "for a 12-month comparison (it needs the end of 2023-06; the data starts in 2023-10)."))


def test_fixture_projects_deployed(fixture: dict[str, tuple[str, str]]) -> None:
    # Apr-Jun: P8 (Mid Market, May), P5 (Enterprise, Jun) = 2; Jan-Mar: P3, P9 (Mid Market, Jan), P6 (Outsourced,
    # Feb), P4 (Mid Market, Mar) = 4, so down 2 / 4; Enterprise 0 -> 1 is the only type that grew
    assert fixture["Projects deployed"] == ("2 in 3 months", (
        "In 2024-04 to 2024-06, the last three complete months, 2 projects were deployed (Enterprise 1, Mid Market 1, "
        "Outsourced 0), against 4 in 2024-01 to 2024-03 (down 50.0%); Enterprise grew most (+1, from 0 to 1)."))


def test_fixture_solutions_per_project(fixture: dict[str, tuple[str, str]]) -> None:
    # Apr-Jun: P8 2 solutions + P5 1 = 3 over 2 projects = 1.50; Jan-Mar: P3 2 + P9 1 + P6 1 + P4 1 = 5 over 4 = 1.25;
    # Mid Market 2 / 1 against (2 + 1 + 1) / 3; Enterprise 1 / 1, none before; Outsourced none now, 1 / 1 before
    assert fixture["Solutions per project"] == ("1.50", (
        "Solutions per deployed project in 2024-04 to 2024-06 against 2024-01 to 2024-03: 1.50 (up from 1.25) over all "
        "types; Enterprise 1.00 (none deployed before); Mid Market 2.00 (up from 1.33); Outsourced none deployed (1.00 "
        "before)."))


def test_fixture_solutions_per_customer(fixture: dict[str, tuple[str, str]]) -> None:
    # June: A 2, C 2, D 1, E 1, F 1 = 7 over 5 = 1.40; March: A 2, B 1, C 1 = 4 over 3 = 1.33, so rising;
    # one solution only: D, E, F (3 of 5) against B, C (2 of 3) in March
    assert fixture["Solutions per customer"] == ("1.40", (
        "At the end of 2024-06, the last complete month, customers used 1.40 solutions on average (7 across 5 "
        "customers), against 1.33 three months earlier (2024-03); not enough history for 12 months (it needs the end "
        "of 2023-06; the data starts in 2023-10); cross-sell is rising over three months (more solutions per customer); "
        "3 of 5 customers (60.0%) have one solution only, against 66.7% in 2024-03."))


def test_fixture_mrr_trend(fixture: dict[str, tuple[str, str]]) -> None:
    # MRR 2200 (May) -> 2600 (June): +400 / 2200 = 18.2%. Net new MRR Nov..Jun: +600, 0, +200, +100, -200, -200,
    # +400, +400 (October has no month before it): the largest is November's +600, all new (B)
    assert fixture["MRR trend"] == ("+18.2% in 2024-06", (
        "MRR grew 18.2% in 2024-06, the last complete month (from 2,200.00 EUR to 2,600.00 EUR); compound monthly growth over "
        "12 months: not enough history (it needs MRR at the end of 2023-06; the data starts in 2023-10); the largest "
        "monthly change from 2023-11 to 2024-06 (the months the data has) was +600.00 EUR in 2023-11, mostly new MRR "
        "(600.00 EUR)."))


def test_fixture_churn_per_quarter(fixture: dict[str, tuple[str, str]]) -> None:
    # Q2: B's Payroll (6000 ARR, 500 MRR) ends Mar 31; Q1: D's Expenses (2400 ARR) ends Feb 29, B drops Absences
    # (1200 ARR, 100 MRR) in February; Q4: nothing lost. Worst: Q2 (500) before Q1 (200 + 100).
    assert fixture["Churn per quarter"] == ("500.00 EUR churned MRR (2024-Q2)", (
        "In 2024-Q2, the last complete quarter, churn took 500.00 EUR of MRR (6,000.00 EUR of ARR, 1 customer lost), with no "
        "contraction; in 2024-Q1, the quarter before, churn took 200.00 EUR of MRR (2,400.00 EUR of ARR, 1 customer lost) and contraction 100.00 EUR "
        "(1,200.00 EUR of ARR); 2023-Q2, the same quarter a year earlier: not enough history (the data starts in 2023-Q4); "
        "the worst of the 3 complete quarters from 2023-Q4 to 2024-Q2 (the quarters the data has) was 2024-Q2, with "
        "500.00 EUR of MRR lost, mostly churned customers (500.00 EUR, 1 customer, against 0.00 EUR of contraction)."))


def test_fixture_sectors(fixture: dict[str, tuple[str, str]]) -> None:
    # the Sectors tab's own sentence (its cells are pinned in tests/kpi/test_portfolio.py)
    from tests.kpi.test_portfolio import SECTOR_SENTENCE

    assert fixture["Sectors"] == ("Health: 48.1% of MRR", SECTOR_SENTENCE)


def test_fixture_unit_economics_without_a_spend(fixture: dict[str, tuple[str, str]]) -> None:
    # June: ARPA 2600 / 5 = 520, trailing logo churn (1/3 + 0 + 0) / 3 = 1/9, LTV 520 x 9 = 4680
    assert fixture["Unit economics"] == ("LTV 4,680.00 EUR", (
        "LTV:CAC and CAC payback are not stated: no acquisition spend is configured, and a ratio on the default of "
        "4,000.00 EUR a month would describe no real business (set acquisition_spend_per_month, spend_file or "
        "spend_by_month under [economics]; see docs/growth-and-retention.md, Settings); in 2024-06, LTV was 4,680.00 EUR "
        "(ARPA 520.00 EUR x gross margin 100.0% (the default: set gross_margin) / trailing logo churn 11.1%)."))


def test_a_configured_spend_keeps_ltv_cac_and_payback() -> None:
    """With a spend in the config, the LTV:CAC and CAC payback rows of every kind of data stand."""
    ctx = fixture_context()
    economics = dataclasses.replace(ctx.params.economics, stated=frozenset({"acquisition_spend_per_month"}))
    got = summary_of(dataclasses.replace(ctx, params=dataclasses.replace(ctx.params, economics=economics)))
    assert "Unit economics" not in got and "LTV:CAC" in got and "CAC payback" in got
    spent = dataclasses.replace(ctx, params=dataclasses.replace(ctx.params, economics=economics))
    rows = about(spent)
    assert "Unit economics" not in rows.loc[rows["Section"] == "Summary sentence", "Item"].tolist()


def test_fixture_availability() -> None:
    """July 2025 (tests/kpi/test_availability.py): Alice 22 working days, 1 on leave; Chloé 12 (from the 16th);
    Bruno 10 (to the 15th); Denis 22; Eve left in June. Engineering 33 of 34, Sales 32 of 32."""
    ctx = dataclasses.replace(fixture_context(), hr=july_hr([("1", "2025-07-07", "AM", "CP", True),
                                                             ("1", "2025-07-07", "PM", "CP", True)]))
    got = summary_of(ctx)
    assert list(got)[-1] == "Availability"
    assert got["Availability"] == ("98.5% available in 2025-07", (
        "In 2025-07, 4 employees are expected to work 66 days, of which 1 day on approved leave, so 65 days available "
        "(98.5%); the department with the least availability is Engineering (97.1%, 33 of 34 days available)."))


# ---------------------------------------------------------------- partial periods, short history


def test_a_partial_month_is_left_out(partial: dict[str, tuple[str, str]]) -> None:
    """as_of 2024-04-15: every comparison ends with March (2024-Q1 for quarters); B's churn in April is not in them."""
    # March: A direct, B and C indirect; at as_of A, C and F
    assert partial["Customers"][1].startswith(
        "At the end of 2024-03, the last complete month, the portfolio held 3 customers (3 on 2024-04-15, as_of): "
        "1 direct and 2 indirect (66.7%")
    # March: D's churn, 2200 -> 2000
    assert partial["MRR trend"][1].startswith("MRR fell 9.1% in 2024-03, the last complete month (from 2,200.00 EUR to "
                                              "2,000.00 EUR)")
    assert partial["Churn per quarter"][1].startswith(
        "In 2024-Q1, the last complete quarter, churn took 200.00 EUR of MRR (2,400.00 EUR of ARR, 1 customer lost) and "
        "contraction 100.00 EUR (1,200.00 EUR of ARR); in 2023-Q4, the quarter before, no customer churned, with no contraction;")
    # Jan-Mar: P3, P9, P6, P4 = 4; Oct-Dec: P1, P2 = 2
    assert partial["Projects deployed"][1].startswith(
        "In 2024-01 to 2024-03, the last three complete months, 4 projects were deployed (Mid Market 3, Outsourced 1, "
        "Enterprise 0), against 2 in 2023-10 to 2023-12 (up 100.0%)")
    # March 4 solutions / 3 customers; December (A 1, B 2, C 1) the same
    assert partial["Solutions per customer"][1].startswith(
        "At the end of 2024-03, the last complete month, customers used 1.33 solutions on average (4 across 3 "
        "customers), against 1.33 three months earlier (2023-12)")
    assert "cross-sell is flat over three months" in partial["Solutions per customer"][1]
    assert ("Fastest churning: not enough history (no sector had a paying customer at the end of 2023-03, 12 months "
            "before the window's end") in partial["Sectors"][1]
    for topic in ps.METHODS:  # as_of's day is named only as the count at as_of
        if topic in partial:
            assert "2024-04" not in partial[topic][1].replace("on 2024-04-15, as_of", ""), topic


def test_not_enough_history_for_the_three_month_windows() -> None:
    """as_of 2024-02-29: six complete months would start in 2023-09, before the data; no trend is stated."""
    got = summary_of(fixture_context("2024-02-29"))
    needs = ("not enough history for comparing the last three complete months with the three before (it needs six "
             "complete months, from 2023-09 to 2024-02; the data starts in 2023-10).")
    assert got["Projects deployed"] == ("", "Projects deployed: " + needs)
    assert got["Solutions per project"] == ("", "Solutions per project: " + needs)


def test_twelve_month_comparisons_on_a_hand_made_portfolio() -> None:
    """Thirteen complete months and a partial one: the 12-month comparison of the Customers sentence, by hand."""
    months = pd.date_range("2023-01-01", "2024-02-01", freq="MS")
    direct = [10, 11, 11, 12, 12, 12, 13, 13, 14, 14, 15, 15, 16, 17]
    indirect = [10, 10, 10, 10, 10, 11, 11, 11, 11, 12, 12, 12, 12, 12]
    frame = pd.DataFrame({
        "Month": months, "Period": ["complete"] * 13 + ["partial, to 2024-02-10"],
        "Direct": direct, "Indirect": indirect, "Total": [d + i for d, i in zip(direct, indirect, strict=True)],
        "Indirect share": [i / (d + i) for d, i in zip(direct, indirect, strict=True)],
        "Via Acme": [6] * 14, "Via Bolt": [i - 6 for i in indirect],
    })
    # Jan 2024: 16 + 12 = 28, 12 / 28 = 42.9%, Acme 6 and Bolt 6; Jan 2023: 10 + 10, 50.0%: down 7.1 points
    row = ps.customers_row(frame, ("Integrateur",))
    assert row["Value"] == Figure(28, "int", suffix=" customers (12 indirect)")
    assert row["Sentence"] == (
        "At the end of 2024-01, the last complete month, the portfolio held 28 customers (29 on 2024-02-10, as_of): "
        "16 direct and 12 indirect (42.9%, through Integrateur partners; the most through Acme and Bolt, 6 each); "
        "12 months earlier, at the end of 2023-01, it held 20: 10 direct and 10 indirect (50.0%), so direct +6 and "
        "indirect +2, and the indirect share fell 7.1 points.")


def test_cmgr_on_a_hand_made_mrr_table() -> None:
    """MRR doubling over 12 months is 2^(1/12) - 1 = 5.9% a month; the largest change is named with its movement."""
    months = pd.date_range("2023-01-01", "2024-01-01", freq="MS")
    mrr = [1000.0 * 2 ** (i / 12) for i in range(13)]
    mrr[6] = mrr[5] - 300  # July: a loss of 300, mostly churn
    frame = pd.DataFrame({"Month": months, "Period": "complete", "MRR": mrr})
    frame["Net new MRR"] = frame["MRR"].diff().fillna(frame["MRR"].iloc[0])
    frame["MRR growth %"] = frame["MRR"].pct_change()
    gains = frame["Net new MRR"].clip(lower=0)
    frame = frame.assign(**{"New MRR": gains, "Expansion MRR": 0.0, "Reactivation MRR": 0.0,
                            "Contraction MRR": 0.0, "Churned MRR": (-frame["Net new MRR"]).clip(lower=0)})
    row = ps.mrr_trend_row(frame, "EUR")
    # August climbs back from the July dip: 1498.31 - (1334.84 - 300) = 463.47, more than July's -300 and any
    # month's ordinary growth (at most 2000 - 1887.75 = 112.25)
    assert "compound monthly growth over the 12 months to 2024-01 was 5.9% (from 1,000.00 EUR at the end of 2023-01)" \
        in row["Sentence"]
    assert row["Sentence"].endswith("the largest monthly change of the 12 months to 2024-01 was +463.47 EUR in 2023-08, "
                                    "mostly new MRR (463.47 EUR).")


def test_about_says_how_each_sentence_is_computed() -> None:
    ctx = fixture_context()
    table = about(ctx)
    rows = table.loc[table["Section"] == "Summary sentence"]
    assert rows["Item"].tolist() == [t for t in ps.METHODS if t != "Availability"]
    assert all(len(v) > 80 for v in rows["Value"])
    with_hr = about(dataclasses.replace(ctx, hr=july_hr([])))
    assert "Availability" in with_hr.loc[with_hr["Section"] == "Summary sentence", "Item"].tolist()


# ---------------------------------------------------------------- the shipped sample, against its tabs

NOW = pd.Timestamp("2025-06-15 09:00", tz="UTC")  # the fake Lucca's today: availability is for July 2025


@pytest.fixture(scope="module")
def sample() -> RunOutcome:
    """A dry run of config/contracts.toml with a (fake) Lucca configured, so every contract tab and Availability are built."""
    lucca = FakeLucca(holidays={dt.date(2025, 7, 14)})
    lucca.add_user(101, "Alice", "Martin", "2022-03-01")
    lucca.add_user(102, "Bruno", "Petit", "2019-09-16", "2025-07-15", department="Sales")
    lucca.add_user(103, "Chloé", "Durand", "2025-07-16")
    lucca.add_user(106, "Gina", "Roux", "2021-01-04", department="Sales")
    lucca.add_leave(101, "2025-07-07")
    lucca.add_leave(106, "2025-07-21")
    lucca.add_leave(106, "2025-07-22")
    settings = load_settings(ROOT / "config" / "contracts.toml", {"LUCCA_BASE_URL": BASE_URL, "LUCCA_API_KEY": API_KEY})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        lucca.register(mock)
        return run_once(settings, sink_uri="csv:unused", dry_run=True, clock=lambda: NOW)


@pytest.fixture(scope="module")
def tabs(sample: RunOutcome) -> dict[str, pd.DataFrame]:
    return {t.name: t.frame for t in sample.tables}


@pytest.fixture(scope="module")
def said(tabs: dict[str, pd.DataFrame]) -> dict[str, str]:
    return dict(zip(tabs["Summary"]["Topic"], tabs["Summary"]["Sentence"], strict=True))


def last_complete(frame: pd.DataFrame, key: str = "Month") -> tuple[pd.Series, pd.DataFrame]:
    """The last complete row, and the complete rows indexed by `key`."""
    done = frame.loc[frame["Period"] == "complete"].set_index(key, drop=False)
    return done.iloc[-1], done


def back(month: pd.Timestamp, n: int) -> pd.Timestamp:
    return pd.Timestamp(month) - pd.DateOffset(months=n)


def label(month: pd.Timestamp) -> str:
    return pd.Timestamp(month).strftime("%Y-%m")


def eur(x: float) -> str:
    return f"{x:,.2f} EUR"


def assert_in(sentence: str, *fragments: str) -> None:
    missing = [f for f in fragments if f not in sentence]
    assert not missing, f"{missing} not in {sentence!r}"


def test_sample_as_of_is_partial(tabs: dict[str, pd.DataFrame]) -> None:
    """The sample ends on 2024-12-28: December is partial in every month table, so the sentences speak of November."""
    assert tabs["Portfolio"]["Period"].iloc[-1] == "partial, to 2024-12-28"
    assert label(last_complete(tabs["Portfolio"])[0]["Month"]) == "2024-11"


def test_sample_customers(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    row, done = last_complete(tabs["Portfolio"])
    year = done.loc[back(row["Month"], 12)]
    now = tabs["Portfolio"].iloc[-1]
    assert_in(said["Customers"],
              f"At the end of {label(row['Month'])}, the last complete month, the portfolio held {row['Total']:,} "
              f"customers ({now['Total']:,} on 2024-12-28, as_of): {row['Direct']:,} direct and {row['Indirect']:,} "
              f"indirect ({row['Indirect share']:.1%}",
              f"12 months earlier, at the end of {label(year['Month'])}, it held {year['Total']:,}: {year['Direct']:,} "
              f"direct and {year['Indirect']:,} indirect ({year['Indirect share']:.1%})",
              f"direct {row['Direct'] - year['Direct']:+,d} and indirect {row['Indirect'] - year['Indirect']:+,d}")
    via = row[[c for c in tabs["Portfolio"].columns if c.startswith("Via ")]].astype(int)
    assert_in(said["Customers"], f"the most through {via.idxmax()[4:]}, {via.max()}")


def test_sample_projects(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    row, done = last_complete(tabs["Projects"])
    last = row["Month"]
    recent = done.loc[done["Month"].between(back(last, 2), last)].groupby("Project type")["Projects deployed"].sum()
    before = done.loc[done["Month"].between(back(last, 5), back(last, 3))].groupby("Project type")[
        "Projects deployed"].sum()
    assert_in(said["Projects deployed"],
              f"In {label(back(last, 2))} to {label(last)}, the last three complete months, {recent.sum():,} projects",
              *[f"{kind} {n:,}" for kind, n in recent.items()],
              f"against {before.sum():,} in {label(back(last, 5))} to {label(back(last, 3))}")
    growth = (recent - before.reindex(recent.index, fill_value=0))
    top = growth.sort_values(ascending=False, kind="stable").index[0]
    assert_in(said["Projects deployed"], f"{top} grew most ({growth[top]:+d}, from {before.get(top, 0)} to {recent[top]})")


def test_sample_solutions_per_project(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    row, done = last_complete(tabs["Projects"])
    last = row["Month"]
    windows = [done.loc[done["Month"].between(back(last, a), back(last, b))] for a, b in ((2, 0), (5, 3))]
    overall = [w["Solutions deployed"].sum() / w["Projects deployed"].sum() for w in windows]
    direction = "up" if round(overall[0], 2) > round(overall[1], 2) else "down"
    assert_in(said["Solutions per project"], f"{overall[0]:.2f} ({direction} from {overall[1]:.2f}) over all types")
    for kind in windows[0]["Project type"].unique():
        now, then = (w.loc[w["Project type"] == kind, ["Solutions deployed", "Projects deployed"]].sum() for w in windows)
        if now["Projects deployed"] and then["Projects deployed"]:
            assert_in(said["Solutions per project"],
                      f"{kind} {now['Solutions deployed'] / now['Projects deployed']:.2f} (",
                      f"{then['Solutions deployed'] / then['Projects deployed']:.2f})")


def test_sample_solutions_per_customer(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    row, done = last_complete(tabs["Solutions"])
    three, twelve = (done.loc[back(row["Month"], n)] for n in (3, 12))
    trend = ("rising" if round(row["Solutions per customer"], 2) > round(twelve["Solutions per customer"], 2) else
             "falling" if round(row["Solutions per customer"], 2) < round(twelve["Solutions per customer"], 2) else "flat")
    assert_in(said["Solutions per customer"],
              f"customers used {row['Solutions per customer']:.2f} solutions on average ({row['Active solutions']:,} "
              f"across {row['Active customers']:,} customers)",
              f"{three['Solutions per customer']:.2f} three months earlier ({label(three['Month'])})",
              f"{twelve['Solutions per customer']:.2f} twelve months earlier ({label(twelve['Month'])})",
              f"cross-sell is {trend} over twelve months",
              f"{row['Customers with one solution']:,} of {row['Active customers']:,} customers "
              f"({row['One-solution share']:.1%}) have one solution only, against {twelve['One-solution share']:.1%}")


def test_sample_mrr_trend(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    row, done = last_complete(tabs["MRR"])
    prev, base = done.loc[back(row["Month"], 1)], done.loc[back(row["Month"], 12)]
    window = done.loc[done["Month"] > base["Month"]]
    assert len(window) == 12
    big = window.iloc[window["Net new MRR"].abs().to_numpy().argmax()]
    movements = ["New MRR", "Expansion MRR", "Reactivation MRR"] if big["Net new MRR"] >= 0 else \
        ["Churned MRR", "Contraction MRR"]
    main = max(movements, key=lambda c: big[c])
    assert_in(said["MRR trend"],
              f"MRR {'grew' if row['MRR growth %'] > 0 else 'fell'} {abs(row['MRR growth %']):.1%} in "
              f"{label(row['Month'])}, the last complete month (from {eur(prev['MRR'])} to {eur(row['MRR'])})",
              f"compound monthly growth over the 12 months to {label(row['Month'])} was "
              f"{(row['MRR'] / base['MRR']) ** (1 / 12) - 1:.1%} (from {eur(base['MRR'])} at the end of "
              f"{label(base['Month'])})",
              f"the largest monthly change of the 12 months to {label(row['Month'])} was "
              f"{'+' if big['Net new MRR'] > 0 else '-'}{eur(abs(big['Net new MRR']))} in {label(big['Month'])}, "
              f"mostly", f"({eur(big[main])})")


def test_sample_churn_per_quarter(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    q, done = last_complete(tabs["MRR by quarter"], "Quarter start")
    assert q["Quarter"] == "2024-Q3"  # 2024-Q4 ends at as_of, partial
    before, year = done.loc[back(q["Quarter start"], 3)], done.loc[back(q["Quarter start"], 12)]

    def loss(r: pd.Series) -> str:
        return f"churn took {eur(r['Churned MRR'])} of MRR ({eur(r['Churned ARR'])} of ARR, {r['Churned customers']}"

    assert_in(said["Churn per quarter"], f"In {q['Quarter']}, the last complete quarter, {loss(q)}",
              f"in {before['Quarter']}, the quarter before, {loss(before)}",
              f"in {year['Quarter']}, the same quarter a year earlier, {loss(year)}")
    if q["Contraction MRR"]:
        assert_in(said["Churn per quarter"], f"contraction {eur(q['Contraction MRR'])} ({eur(q['Contraction ARR'])} "
                                             "of ARR)")
    four = done.loc[done["Quarter start"] > back(q["Quarter start"], 12)]
    lost = four["Churned MRR"] + four["Contraction MRR"]
    worst = four.loc[lost.idxmax()]
    cause = "churned customers" if worst["Churned MRR"] >= worst["Contraction MRR"] else "contraction"
    assert_in(said["Churn per quarter"], f"the worst of the last four complete quarters was {worst['Quarter']}, with "
                                         f"{eur(lost.max())} of MRR lost, mostly {cause}")


def test_sample_sectors(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    sectors = tabs["Sectors"]
    assert said["Sectors"] == sectors["Summary"].iloc[0]
    named = sectors.loc[sectors["Sector"] != "Unknown"]
    top = named.iloc[0]
    growing = named.loc[named["MRR growth"].idxmax()]
    start = growing["MRR at the window's start"]
    churning = named.sort_values(["Logo churn rate", "Churned MRR"], ascending=False, kind="stable").iloc[0]
    base = churning["Customers at the window's start"]
    assert_in(said["Sectors"],
              f"Largest sector: {top['Sector']}, {top['Share of MRR']:.1%} of MRR ({top['MRR']:,.2f} EUR, "
              f"{top['Customers']} customers)",
              f"Fastest growing: {growing['Sector']}, MRR up {growing['MRR growth']:.1%} in the 12 months to 2024-11 "
              f"(from {start:,.2f} EUR at the end of 2023-11",
              f"Fastest churning: {churning['Sector']}, {churning['Churned customers']} of its {base} customers at "
              f"the end of 2023-11 lost in the 12 months to 2024-11 ({churning['Logo churn rate']:.1%})")


def test_sample_unit_economics(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    row, _ = last_complete(tabs["Unit economics"])
    assert "LTV:CAC" not in list(tabs["Summary"]["Topic"])
    assert_in(said["Unit economics"], f"in {label(row['Month'])}, LTV was {eur(row['LTV'])} (ARPA {eur(row['ARPA'])}",
              f"trailing logo churn {row['Logo churn (trailing)']:.1%})")


def test_sample_availability(tabs: dict[str, pd.DataFrame], said: dict[str, str]) -> None:
    table = tabs["Availability"]
    total = table.loc[table["Name"] == "Total, all departments"].iloc[0]
    departments = table.loc[table["Employee id"].isna() & table["Department"].notna()]
    low = departments.loc[departments["Availability %"].idxmin()]
    people = int(table["Employee id"].notna().sum())

    def days(n: float) -> str:
        return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"

    assert_in(said["Availability"],
              f"In 2025-07, {people} employees are expected to work {days(total['Working days'])} days, of which "
              f"{days(total['Absence days'])} days on approved leave, so {days(total['Available days'])} days available "
              f"({total['Availability %']:.1%})",
              f"the department with the least availability is {low['Department']} ({low['Availability %']:.1%}")
    assert list(tabs["Summary"]["Topic"])[-1] == "Availability"


def test_sample_about_lists_every_sentence(tabs: dict[str, pd.DataFrame]) -> None:
    about_tab = tabs["About"]
    items = about_tab.loc[about_tab["Section"] == "Summary sentence", "Item"].tolist()
    assert items == list(ps.METHODS)
    assert set(items) <= set(tabs["Summary"]["Topic"])


def test_dashboard_charts_of_the_portfolio_tabs_draw_from_their_columns(sample: RunOutcome) -> None:
    """The Dashboard charts added for the Summary's questions (one-solution share, MRR by sector) name columns their
    tab has, and render to a Sheets chart spec over the tab's rows."""
    from sync.sinks.gsheet_plan import chart_spec, render_table

    for table in sample.tables:
        for chart in table.tab.charts:
            spec = chart_spec(chart, render_table(table), sheet_id=7)
            assert spec["title"] == chart.title
    titles = {c.title for t in sample.tables for c in t.tab.charts}
    assert {"Customers with one solution only", "MRR by sector"} <= titles


def test_no_deployed_project_is_said_plainly() -> None:
    """A Projects tab without rows (projects file with nothing deployed yet) gives a sentence saying so."""
    empty = pd.DataFrame(columns=["Month", "Period", "Project type", "Projects deployed", "Solutions deployed",
                                  "Average solutions per project"])
    assert ps.projects_row(empty) == {"Topic": "Projects deployed", "Value": None,
                                      "Sentence": "Projects deployed: no project was deployed up to as_of."}
    assert ps.project_solutions_row(empty)["Sentence"] == "Solutions per project: no project was deployed up to as_of."


def test_the_summary_reads_the_tabs_the_run_publishes_built_once() -> None:
    """The contract Summary reads Portfolio, Solutions, ... through `built_table`: the run then publishes those very
    tables (built once); a context made with dataclasses.replace starts with nothing built (other params, other tabs)."""
    from kpi.tables import built_table

    ctx = fixture_context()
    tabs = {t.name: t for t in all_tabs()}
    summary = built_table(tabs["Summary"], ctx)
    assert {"Portfolio", "Solutions", "MRR", "MRR by quarter"} <= set(ctx.built)
    portfolio = ctx.built["Portfolio"]
    assert built_table(tabs["Portfolio"], ctx) is portfolio and built_table(tabs["Summary"], ctx) is summary
    assert build_table(tabs["Portfolio"], ctx).frame.equals(portfolio.frame)
    assert dataclasses.replace(ctx, hr=None).built == {}
