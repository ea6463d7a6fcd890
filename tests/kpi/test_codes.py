"""Customers grouped, sorted and matched by integer code give exactly the tables the ids as text give.

A payment-log run keeps its customers as codes (kpi.schedule.CustomerCodes, Codes) and the tables read them; each
function also runs without them (contract data, or a caller that has none) by hashing the ids. Both must give the
same frames, cell for cell, in the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi import mrr
from kpi.cohorts import as_of_month, cohort_matrices
from kpi.profile import customer_profile, last_interval
from kpi.schedule import CustomerCodes
from kpi.summary import guessed_mrr
from kpi.tables import Context
from tests.kpi.datasets import dataset_context

PAYMENT_LOGS = ("generated", "shared")


def _coded(name: str) -> tuple[Context, CustomerCodes]:
    ctx = dataset_context(name)
    assert ctx.per_customer is not None and ctx.per_customer.month_codes is not None  # the reading kept its codes
    codes = ctx.month_codes
    assert codes is ctx.per_customer.month_codes
    assert (codes.ids[codes.cust] == ctx.customer_months["customer_id"].to_numpy(dtype=object)).all()
    return ctx, codes


@pytest.mark.parametrize("name", PAYMENT_LOGS)
def test_movements_and_month_tables_are_the_same_with_codes(name: str) -> None:
    ctx, codes = _coded(name)
    cm = ctx.customer_months
    coded, text = mrr.classify(cm, codes), mrr.classify(cm)
    pd.testing.assert_frame_equal(coded.frame, text.frame, check_exact=True)
    assert (coded.ids[coded.cust] == text.ids[text.cust]).all()
    for field in ("code", "prev", "cents", "active"):
        assert np.array_equal(getattr(coded, field), getattr(text, field)), field
    mm = mrr.mrr_by_month(cm, coded)
    pd.testing.assert_frame_equal(mm, mrr.mrr_by_month(cm, text), check_exact=True)
    pd.testing.assert_frame_equal(mrr.mrr_by_quarter(mm, cm, codes), mrr.mrr_by_quarter(mm, cm), check_exact=True)
    refs, ref_codes = ctx.per_customer.ref_months, ctx.per_customer.ref_codes
    assert ref_codes is not None
    moved = mrr.movement_table(cm, refs, coded, ref_codes)
    assert (moved["ref"] != "").any()  # the refs were matched by code, not all left empty
    pd.testing.assert_frame_equal(moved, mrr.movement_table(cm, refs, text), check_exact=True)


@pytest.mark.parametrize("name", PAYMENT_LOGS)
def test_cohorts_profile_and_customers_are_the_same_with_codes(name: str) -> None:
    ctx, codes = _coded(name)
    cm, month = ctx.customer_months, as_of_month(ctx.as_of, ctx.timezone)
    for partial in (False, True):
        coded, text = cohort_matrices(cm, month, partial, codes), cohort_matrices(cm, month, partial)
        pd.testing.assert_series_equal(coded.size, text.size, check_exact=True)
        pd.testing.assert_series_equal(coded.start_mrr, text.start_mrr, check_exact=True)
        pd.testing.assert_frame_equal(coded.logos, text.logos, check_exact=True)
        pd.testing.assert_frame_equal(coded.revenue, text.revenue, check_exact=True)
    ids = mrr.customer_ids(ctx.customers, cm, ctx.lifetime, month, codes)
    assert ids.equals(mrr.customer_ids(ctx.customers, cm, ctx.lifetime, month))
    intervals = last_interval(ctx.billing)
    segments = ctx.params.segments
    pd.testing.assert_frame_equal(
        customer_profile(ctx.customers, cm, ctx.lifetime, month, segments, intervals, codes, ids),
        customer_profile(ctx.customers, cm, ctx.lifetime, month, segments, intervals), check_exact=True)
    summary = mrr.customer_summary(cm, ctx.customers, ctx.lifetime, month, codes, ids)
    assert summary["customer_id"].is_unique and len(summary) == len(ids)
    pd.testing.assert_frame_equal(summary, mrr.customer_summary(cm, ctx.customers, ctx.lifetime, month),
                                  check_exact=True)


@pytest.mark.parametrize("name", PAYMENT_LOGS)
def test_guessed_mrr_is_the_same_with_the_schedules_codes(name: str) -> None:
    ctx = dataset_context(name)
    assert ctx.billing is not None and ctx.schedule_codes is not None
    coded = guessed_mrr(ctx.schedule, ctx.billing, ctx.as_of, ctx.timezone, ctx.schedule_codes)
    assert len(coded)
    pd.testing.assert_frame_equal(coded, guessed_mrr(ctx.schedule, ctx.billing, ctx.as_of, ctx.timezone),
                                  check_exact=True)


def test_a_repeated_customer_month_is_counted_with_codes_as_without() -> None:
    ctx, codes = _coded("generated")
    cm = ctx.customer_months
    assert mrr.repeated_customer_months(cm, codes) == 0 == mrr.repeated_customer_months(cm)
    twice = pd.concat([cm, cm.iloc[[5, 5, 9]]], ignore_index=True)
    again = CustomerCodes(np.r_[codes.cust, codes.cust[[5, 5, 9]]], codes.ids)
    assert mrr.repeated_customer_months(twice, again) == 3 == mrr.repeated_customer_months(twice)
    # counted by rows only when one row per customer and month: a repeat in place is counted as without codes
    assert codes.one_row_per_month(cm["month"]) and not again.one_row_per_month(twice["month"])
    rows = np.sort(np.r_[np.arange(len(cm)), [5, 5, 9]])
    in_place, in_place_codes = cm.iloc[rows].reset_index(drop=True), CustomerCodes(codes.cust[rows], codes.ids)
    assert not in_place_codes.one_row_per_month(in_place["month"])
    month = as_of_month(ctx.as_of, ctx.timezone)
    pd.testing.assert_frame_equal(cohort_matrices(in_place, month, False, in_place_codes).logos,
                                  cohort_matrices(in_place, month).logos, check_exact=True)
    shuffled = cm.iloc[::-1].reset_index(drop=True)  # no longer in code order: still no repeat
    assert mrr.repeated_customer_months(shuffled, CustomerCodes(codes.cust[::-1].copy(), codes.ids)) == 0


def test_codes_that_do_not_fit_the_frame_are_not_used() -> None:
    ctx, codes = _coded("generated")
    cm = ctx.customer_months
    short = CustomerCodes(codes.cust[:-1], codes.ids)
    assert not short.fits(len(cm)) and codes.fits(len(cm))
    pd.testing.assert_frame_equal(mrr.classify(cm, short).frame, mrr.classify(cm).frame, check_exact=True)
    month = as_of_month(ctx.as_of, ctx.timezone)
    pd.testing.assert_frame_equal(mrr.customer_summary(cm, ctx.customers, ctx.lifetime, month, short),
                                  mrr.customer_summary(cm, ctx.customers, ctx.lifetime, month), check_exact=True)


# ----------------------------------------------------------------------------- ids coded when the log is loaded


def _ids(n: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    texts = np.array(["10", "2", "002", "a", "B", "é", " 7", "100000000000000000001", "7"], dtype=object)
    values = texts[rng.integers(0, len(texts), n)].astype(object)
    values[rng.random(n) < 0.05] = None
    return pd.Series(values, dtype=object)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_coded_ids_give_the_codes_of_the_texts(seed: int) -> None:
    """`text_codes` of ids coded at load (`coded_ids`) equals `text_codes` of the texts, on the whole column and on
    any subset of its rows (a run filters by as_of, a partition by customer): same codes, same sorted ids."""
    from kpi.schedule import coded_ids, text_codes

    raw = _ids(500, seed)
    coded = coded_ids(raw)
    assert isinstance(coded.dtype, pd.CategoricalDtype)
    assert (coded.astype(object).where(raw.notna()) == raw).where(raw.notna(), True).all()  # same values, as text
    rng = np.random.default_rng(seed)
    for rows in (np.ones(len(raw), dtype=bool), rng.random(len(raw)) < 0.3, np.zeros(len(raw), dtype=bool)):
        want_codes, want_ids = text_codes(raw[rows])
        got_codes, got_ids = text_codes(coded[rows])
        assert np.array_equal(got_codes, want_codes) and list(got_ids) == list(want_ids)
        # a categorical in any order, with one text twice (7 and "7"), as the columnar reader may hand over
        loose = pd.Series(pd.Categorical(raw.where(raw != "7", 7)[rows]))
        got_codes, got_ids = text_codes(loose)
        assert np.array_equal(got_codes, want_codes) and list(got_ids) == list(want_ids)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=5), st.sampled_from(["\ud800", "a\udfff", "\U0001f600", "\uffff", "\x00",
                                                               "é", "e\u0301", ""])), max_size=30))
def test_sorted_factorize_is_pandas_factorize_sorted(texts: list[str]) -> None:
    """`sorted_factorize` (the distinct texts sorted by pyarrow, or numpy where one holds a lone surrogate) gives
    exactly `pd.factorize(sort=True)`: Python's order of str (code points), astral and private-use characters,
    NUL, combining marks, empty texts and repeats included."""
    from kpi.schedule import sorted_factorize

    values = np.empty(len(texts), dtype=object)
    values[:] = texts
    want_codes, want = pd.factorize(values, sort=True)
    got_codes, got = sorted_factorize(values)
    assert got.dtype == object
    assert np.array_equal(got_codes, want_codes) and list(got) == list(want)


def test_a_loaded_payment_log_has_its_ids_coded(tmp_path) -> None:
    """load_payments codes the charges' ids once, over every invoices file; Data quality still names, per file and
    line, the charges of unknown customers and the identical repeats."""
    import json

    from sync.settings import load_settings
    from sync.sources.payments import load_payments

    day = 86_400
    first = [{"customerId": c, "amountPaid": 18.0, "timestampPaid": 1_480_000_000 + c * 60 + m * 31 * day}
             for c in (1, 2, 10) for m in range(3)]
    second = [{"customerId": 99, "amountPaid": 18.0, "timestampPaid": 1_480_000_000},  # not in the customers file
              {"customerId": 2, "amountPaid": 5.0, "timestampPaid": 1_481_000_000},
              {"customerId": 2, "amountPaid": 5.0, "timestampPaid": 1_481_000_000}]  # identical to the line before
    for name, rows in (("a.json", first), ("b.json", second)):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "customers.json").write_text("".join(json.dumps({"customerId": c, "nrSeats": 1}) + "\n"
                                                     for c in (1, 2, 10, 50)), encoding="utf-8")
    config = tmp_path / "kpi.toml"
    config.write_text('[sources]\ninvoices = "*[ab].json"\ncustomers = "customers.json"\n', encoding="utf-8")
    loaded = load_payments(load_settings(config))
    ids = loaded.charges["customer_id"]
    assert isinstance(ids.dtype, pd.CategoricalDtype) and list(ids.cat.categories) == ["1", "10", "2", "99"]
    assert ids.astype(str).tolist() == [str(r["customerId"]) for r in first + second]
    notes = loaded.issues
    unknown = notes.loc[notes["reason"].str.contains("not in the customers file")]
    assert unknown[["file", "line", "value"]].astype(str).values.tolist() == [[str(tmp_path / "b.json"), "1", "99"]]
    repeated = notes.loc[notes["reason"].str.startswith("identical to line")]
    assert repeated[["file", "line"]].astype(str).values.tolist() == [[str(tmp_path / "b.json"), "3"]]


def test_customers_showing_the_same_amounts_are_listed_by_id() -> None:
    """The Customers tab orders by its amounts to the cent, then by id: a lifetime revenue of 0.1 + 0.2 (a last bit
    above 0.3) does not put customer 9 before customer 10."""
    month = pd.Timestamp("2017-03-01")
    cm = pd.DataFrame({"month": [month] * 3, "customer_id": ["10", "9", "8"], "mrr": [18.0, 18.0, 36.0]})
    customers = pd.DataFrame({"customer_id": ["8", "9", "10"]})
    lifetime = pd.Series([0.3, 0.1 + 0.2, 5.0], index=pd.Index(["10", "9", "8"], name="customer_id"))
    assert 0.1 + 0.2 > 0.3
    for codes in (None, CustomerCodes.of(cm["customer_id"])):
        out = mrr.customer_summary(cm, customers, lifetime, month, codes)
        assert list(out["customer_id"]) == ["8", "10", "9"]  # 36 first; then 18 and 0.30 each, by id as text
