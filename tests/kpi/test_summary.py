"""The Summary tab: one sentence per topic, built from the numbers of the other tables."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from kpi.cohorts import retention_by_age
from kpi.economics import unit_economics
from kpi.params import EconomicsParams, Params, SegmentParams
from kpi.profile import core_users, segments
from kpi.summary import COLUMNS, month_is_complete, summary
from kpi.tables import Figure
from tests.kpi.test_cohorts import fixture_customer_months, shared_context_or_skip
from tests.kpi.test_economics import fixture_mrr_by_month
from tests.kpi.test_profile import fixture_profile

APRIL = pd.Timestamp("2024-04-01")
MID_APRIL = pd.Timestamp("2024-04-15 12:00", tz="UTC")
END_APRIL = pd.Timestamp("2024-04-30 23:59:59", tz="UTC")


CONFIGURED = frozenset({"acquisition_spend_per_month", "gross_margin"})


def build(as_of: pd.Timestamp = MID_APRIL, economics: EconomicsParams | None = None, with_profile: bool = True,
          mm: pd.DataFrame | None = None, stated: frozenset[str] | None = CONFIGURED) -> dict[str, tuple[str, str]]:
    """The Summary of the cohorts fixture as {topic: (value, sentence)}; spend and margin configured unless `stated`."""
    economics = economics or EconomicsParams(acquisition_spend_per_month=30, churn_window_months=2)
    params = Params(economics=dataclasses.replace(economics, stated=stated))
    cm = fixture_customer_months()
    mm = fixture_mrr_by_month() if mm is None else mm
    ue = unit_economics(mm, cm, params.economics, APRIL)
    profile = fixture_profile()
    frame = summary(mm, ue, retention_by_age(cm, APRIL), as_of, params,
                    core_users(profile) if with_profile else None,
                    segments(profile, SegmentParams()) if with_profile else None)
    assert list(frame.columns) == COLUMNS
    return {r.Topic: (shown(r.Value), r.Sentence) for r in frame.itertuples()}


def shown(value: object) -> str:
    """A Summary value as its cell shows it ("" when empty); every value is a typed Figure, never text."""
    assert value is None or isinstance(value, Figure), value
    return "" if value is None else value.text("EUR")


def test_summary_sentences_by_hand():
    """Each sentence carries the fixture's own numbers: MRR 45 down from 95, March's churn and unit economics."""
    rows = build()
    assert list(rows) == ["MRR", "MRR movements", "Churn", "Revenue retention", "LTV:CAC", "CAC payback",
                          "Cohort retention", "Core users", "Segments"]
    assert rows["Revenue retention"] == ("", "NRR and GRR over 12 months need paying customers 12 months before "
                                             "2024-03, and the data starts in 2024-01.")
    assert rows["MRR"] == ("45.00 EUR", "MRR on 2024-04-15 (as_of) was 45.00 EUR from 3 paying customers, "
                                        "down 52.6% (-50.00 EUR) from 95.00 EUR at the end of 2024-03.")
    value, sentence = rows["MRR movements"]
    assert value == "-50.00 EUR"
    assert sentence.startswith("In 2024-04 so far, net new MRR was -50.00 EUR: new 0.00 EUR (0 new customers)")
    assert "contraction 20.00 EUR, churned 30.00 EUR (1 customer lost)" in sentence
    value, sentence = rows["Churn"]
    assert value == "0.0%" and sentence.startswith("In 2024-03, logo churn was 0.0% (0 of 2 customers")
    assert "net MRR churn -50.0%" in sentence
    value, sentence = rows["LTV:CAC"]
    assert value == "3.17"  # LTV 23.75 / ((0.5 + 0) / 2) = 95, CAC 30
    assert "LTV 95.00 EUR" in sentence and "CAC 30.00 EUR" in sentence and "at or above the benchmark of 3" in sentence
    value, sentence = rows["CAC payback"]
    assert value == "6.0 months" and "within the 12-month benchmark" in sentence
    value, sentence = rows["Cohort retention"]
    assert value == "50.0% after 3 months"
    assert sentence == ("Across signup cohorts (pooled), 50.0% of customers were still paying 3 months after their "
                        "first month (of 2 customers in cohorts old enough); the cohorts kept 50.0% of their "
                        "starting MRR at those ages.")
    value, sentence = rows["Core users"]
    assert value == "2 customers"
    assert "hold 88.9% of MRR and 70.8% of lifetime revenue" in sentence
    assert "2 seats, 10 sessions, 10 sessions per seat, 3.5 months of tenure, 50.0% on an annual plan" in sentence
    assert rows["Segments"][1].endswith("1 customer (20.0%) has no known seat count (the unknown bucket).")


def test_verdicts_follow_the_benchmarks():
    """A higher spend turns both verdicts: LTV:CAC below 3 and payback longer than 12 months."""
    rows = build(economics=EconomicsParams(acquisition_spend_per_month=300, churn_window_months=2))
    assert rows["LTV:CAC"][0] == "0.32" and "below the benchmark of 3" in rows["LTV:CAC"][1]
    assert rows["CAC payback"][0] == "60.0 months" and "longer than the 12-month benchmark" in rows["CAC payback"][1]
    stricter = build(economics=EconomicsParams(acquisition_spend_per_month=30, churn_window_months=2,
                                               ltv_cac_benchmark=4, payback_benchmark_months=5))
    assert "below the benchmark of 4" in stricter["LTV:CAC"][1]
    assert "longer than the 5-month benchmark" in stricter["CAC payback"][1]


def test_empty_denominators_are_explained_not_zero():
    """Without enough churn history LTV:CAC has no value and the sentence says why."""
    rows = build(economics=EconomicsParams(acquisition_spend_per_month=30, churn_window_months=3))
    value, sentence = rows["LTV:CAC"]
    assert value == ""
    assert "cannot be computed" in sentence and "3 months of churn rates" in sentence


def test_complete_month_is_reported_when_as_of_is_its_last_second():
    """as_of at the month's last second: MRR is 'at the end of' April and churn speaks of April."""
    rows = build(as_of=END_APRIL)
    assert rows["MRR"][1].startswith("MRR at the end of 2024-04 was 45.00 EUR")
    assert "so far" not in rows["MRR movements"][1]
    assert rows["Churn"] == ("25.0%", rows["Churn"][1])
    assert rows["Churn"][1].startswith("In 2024-04, logo churn was 25.0% (1 of 4 customers")
    assert rows["LTV:CAC"][1].startswith("In 2024-04, LTV:CAC cannot be computed: there were no new customers")
    assert month_is_complete(END_APRIL, "UTC") and not month_is_complete(MID_APRIL, "UTC")


def test_contracts_summary_leaves_out_the_profile():
    """Without a profile (contract data) the profile topics are left out, the rest stays."""
    rows = build(with_profile=False)
    assert "Core users" not in rows and "Segments" not in rows and "LTV:CAC" in rows


def test_first_month_only():
    """A single month: no change to compare and no complete month for rates, each said in words."""
    mm = fixture_mrr_by_month().iloc[:1]
    rows = build(as_of=pd.Timestamp("2024-01-10", tz="UTC"), mm=mm, with_profile=False)
    assert "first month with revenue" in rows["MRR"][1]
    assert rows["Churn"] == ("", "No month is complete yet, so no churn rate is reported.")


def test_no_revenue_at_all():
    """No MRR table at all: one sentence saying there is nothing to report."""
    rows = build(mm=fixture_mrr_by_month().iloc[:0], with_profile=False)
    assert rows["MRR"][1].startswith("There is no revenue")


def test_shared_log_summary_sentences():
    """On the shared log every topic has a sentence, each with at least one number from the data."""
    ctx = shared_context_or_skip()
    from kpi.tables import all_tabs, build_table

    tabs = all_tabs()
    assert tabs[0].name == "Summary"
    frame = build_table(tabs[0], ctx).frame
    topics = frame["Topic"].tolist()
    assert topics == ["MRR", "MRR movements", "Churn", "Revenue retention", "Guesses", "LTV:CAC", "CAC payback",
                      "Cohort retention", "Core users", "Segments"]
    assert frame["Sentence"].str.contains(r"\d").all()
    assert frame.set_index("Topic").loc["Guesses", "Sentence"].startswith("In 2017-09, ")
    assert "84 customers" in frame.set_index("Topic").loc["Segments", "Sentence"]
    # NRR is the end of the last complete month's, not as_of's ("now" said so of 2017-09 in a reading of 2017-10-17)
    assert "and paid 45.5% of it at the end of 2017-09, expansion included (NRR)" in \
        frame.set_index("Topic").loc["Revenue retention", "Sentence"]
    for sentence in frame["Sentence"]:
        print(sentence)


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris"])
def test_month_is_complete_in_the_timezone(tz):
    """The last second of a month in the configured zone is complete; one second earlier is not."""
    end = pd.Timestamp("2024-04-30 23:59:59").tz_localize(tz)
    assert month_is_complete(end, tz)
    assert not month_is_complete(end - pd.Timedelta(seconds=1), tz)


def test_guess_row_names_the_share_of_churn_and_mrr_resting_on_single_charges():
    """Of March's churn (b's guessed month, d's series) 40% came from a guess; c's guessed year is 13% of MRR now."""
    from kpi.mrr import customer_months
    from kpi.summary import guess_row, guessed_mrr

    def piece(customer: str, start: str, end: str, mrr: float, ref: str) -> dict:
        return {"customer_id": customer, "start": pd.Timestamp(start, tz="UTC"), "end": pd.Timestamp(end, tz="UTC"),
                "mrr": mrr, "source": "x", "ref": ref}

    schedule = pd.DataFrame([
        piece("a", "2024-01-10", "2024-05-10", 100.0, "a:series-1"),  # a monthly series, still paying in April
        piece("b", "2024-02-05", "2024-03-05", 40.0, "b:term-1"),  # one month from one charge: churns in March
        piece("c", "2024-02-20", "2025-02-20", 15.0, "c:term-1"),  # a year from one charge
        piece("d", "2024-01-03", "2024-03-03", 60.0, "d:series-1"),  # a series that stops: churns in March
    ])
    billing = pd.DataFrame({"ref": ["a:series-1", "b:term-1", "c:term-1", "d:series-1"],
                            "guessed": [False, True, True, False]})
    cm = customer_months(schedule, MID_APRIL, "UTC")
    guessed = guessed_mrr(schedule, billing, MID_APRIL, "UTC")
    value, sentence = tuple(guess_row(cm, guessed, pd.Timestamp("2024-03-01"), MID_APRIL, "UTC", "EUR").values())[1:]
    assert shown(value) == "40.0% of churned MRR"  # 40 of the 100 churned in March (b 40 guessed, d 60 not)
    assert sentence.startswith("In 2024-03, 40.0% of the churned MRR (40.00 EUR of 100.00 EUR; 1 of 2 churned "
                               "customers) came from intervals guessed from a single charge, and so does 13.0% of "
                               "MRR on 2024-04-15 (15.00 EUR)")


def test_guess_row_value_is_its_sentence_to_the_cent():
    """A guessed month of 10.006 that churns: the churn is 10.01 to the cent, and so is its guessed part: the Value is
    exactly 100% (it was 10.006 / 10.01 = 0.9996 beside a sentence saying 10.01 of 10.01)."""
    from kpi.mrr import customer_months
    from kpi.summary import guess_row, guessed_mrr

    schedule = pd.DataFrame([{"customer_id": "b", "start": pd.Timestamp("2024-02-05", tz="UTC"),
                              "end": pd.Timestamp("2024-03-05", tz="UTC"), "mrr": 10.006, "source": "x",
                              "ref": "b:term-1"}])
    billing = pd.DataFrame({"ref": ["b:term-1"], "guessed": [True]})
    cm = customer_months(schedule, MID_APRIL, "UTC")
    guessed = guessed_mrr(schedule, billing, MID_APRIL, "UTC")
    value, sentence = tuple(guess_row(cm, guessed, pd.Timestamp("2024-03-01"), MID_APRIL, "UTC", "EUR").values())[1:]
    assert value.value == 1.0
    assert sentence.startswith("In 2024-03, 100.0% of the churned MRR (10.01 EUR of 10.01 EUR; 1 of 1 churned customer)")


def test_verdicts_on_default_inputs_say_so_and_where_to_set_them():
    """On the default spend and margin, neither verdict is plain: each names the defaults and where to set them."""
    rows = build(economics=EconomicsParams(churn_window_months=2), stated=None)  # 4000 a month, 100%: defaults
    value, sentence = rows["LTV:CAC"]
    assert value.endswith(" (assumed inputs)")
    assert ("but on assumed inputs: the default acquisition spend of 4,000.00 EUR a month and the default gross margin "
            "of 100.0%, not this business's figures (set the spend (acquisition_spend_per_month, spend_file or "
            "spend_by_month) and gross_margin under [economics] in the config") in sentence
    value, sentence = rows["CAC payback"]
    assert value.endswith(" (assumed inputs)") and "but on assumed inputs: the default acquisition spend" in sentence


def test_a_configured_spend_leaves_only_the_margin_caveat():
    """With the spend configured and the margin not, the caveat names the margin alone; with both set there is none."""
    spend_only = build(stated=frozenset({"acquisition_spend_per_month"}))
    assert "on assumed inputs: the default gross margin of 100.0%" in spend_only["LTV:CAC"][1]
    assert "acquisition spend of" not in spend_only["LTV:CAC"][1]
    both = build()
    assert "assumed" not in both["LTV:CAC"][1] and both["LTV:CAC"][1].endswith("at or above the benchmark of 3, healthy.")
    table_month = build(economics=EconomicsParams(spend_by_month=(("2024-03", 30.0),), churn_window_months=2),
                        stated=frozenset({"spend_by_month", "gross_margin"}))
    assert "assumed" not in table_month["CAC payback"][1]  # March's spend is in the table


@pytest.mark.parametrize("name", ["shared", "contracts sample", "generated", "payments sample"])
def test_no_healthy_verdict_without_its_caveat_on_the_datasets(name):
    """On the datasets (none configures [economics]) no Summary sentence calls anything healthy without the caveat."""
    from kpi.tables import all_tabs, build_table
    from tests.kpi.datasets import dataset_context

    ctx = dataset_context(name)
    frame = build_table(all_tabs()[0], ctx).frame.set_index("Topic")
    for sentence in frame["Sentence"]:
        assert "healthy" not in sentence or "which would be healthy, but on assumed inputs" in sentence
    if ctx.dataset == "contracts":  # no spend configured: no ratio at all, and the row says why (portfolio_summary)
        assert "LTV:CAC" not in frame.index
        assert "LTV:CAC and CAC payback are not stated: no acquisition spend is configured" in \
            frame.loc["Unit economics", "Sentence"]
    else:
        assert "on assumed inputs" in frame.loc["LTV:CAC", "Sentence"]
