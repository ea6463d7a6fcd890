"""A young log, what did not renew a month later (kpi.billing.pricebook.lapses): years of seat prices and of flat
plans, lapsed amounts and tier multiples without seat counts."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from kpi.params import BillingRules, PriceList
from tests.kpi.billing.logs import (
    annual_with_proration,
    charges,
    month_ends,
    monthly,
    read,
    rows_of,
    seats,
)


def young_no_seat_company(months_lapse: int = 0, tier_series: int = 0, months: int = 7) -> pd.DataFrame:
    """No seat column, a log five months old: 5 two-seat monthly plans at 36 with a seat added (18 a seat a month),
    `months` three-seat plans at 54 and `months_lapse` more paid once, 6 customers buying 180 x k and 4 buying 144 x k
    for a year with a seat added (both annual prices learned from the prorations, 180 the list price), 3 customers
    paying 288 (2 x 144) once in February, and `tier_series` customers renewing 288 every month."""
    rows: list[tuple[str, str, float]] = []
    for i in range(5):
        rows += monthly(f"m{i}", f"2017-01-0{5 + i} 10:00", 36.0, 4)
        rows.append((f"m{i}", f"2017-01-{20 + i} 10:00", 9.29))
    for i in range(months):
        rows += monthly(f"n{i}", f"2017-01-{10 + i} 10:00", 54.0, 4)
    for i in range(months_lapse):
        rows.append((f"o{i}", f"2017-02-{10 + i} 10:00", 54.0))
    for i in range(6):
        rows += annual_with_proration(f"l{i}", f"2017-01-{3 + i:02d} 09:00", 1 + i % 3, after_days=30)
    for i in range(4):
        rows += annual_with_proration(f"t{i}", f"2017-01-{13 + i:02d} 09:00", 1 + i % 3, price=144.0, after_days=30)
    for i in range(tier_series):
        rows += monthly(f"s{i}", f"2017-01-{20 + i} 11:00", 288.0, 4)
    for i in range(3):
        rows.append((f"x{i}", f"2017-02-{3 + i:02d} 12:00", 288.0))
    return charges(*rows)


def test_without_seats_a_young_log_reads_tier_multiples_as_annual_when_months_of_seats_do_not_lapse():
    """No charge is a year old, so no renewal a year later can say what 288 (2 x 144, or 16 seats x 18 for a month)
    is. What did not renew a month later can: none of the 12 plans at months of 2 seats or more lapsed after its first
    month, while the three 288s all did. At least half of them are years: 288 whose renewal was due is 2 seats x 144
    for a year, not a month then churn; About says what the comparison was."""
    result = read(young_no_seat_company(), "2017-05-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0, 144.0] and book.tier_points
    assert month_ends(result, "2017-05-31 23:59:59", "x0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 24.0)
    assert dict(book.rows())["tier multiples"] == (
        "no single charge a year old yet: 0 of 12 months of 2 seats or more lapsed after their first month, and 3 of "
        "3 charges at k x a tier price (144.00), where such months would give about 0.1 (years when more than twice "
        "that): "
        "tier multiples whose renewal was due are read as annual")


def test_without_seats_tier_multiples_are_judged_by_lapses_until_enough_charges_are_a_year_old():
    """The same young log with a few single charges a year older (180 renewed a year later, a 288 that was not): the
    log is a year old, but two year-old charges cannot say how often tier multiples renew; what did not renew a month
    later among the charges not yet a year old still can (the year-old 288 is not counted: it did not renew a year
    later either), and 288 is still a year. Before, tier multiples went back to months from a log's 13th month end
    until 10 year-old charges of each kind had come (generated noseats: 24% more churn published than the truth in
    months 13 and 14)."""
    aged = charges(("old", "2016-04-04 10:00", 180.0), ("old", "2017-04-04 10:00", 180.0),
                   ("gone", "2016-04-06 10:00", 288.0))
    result = read(pd.concat([aged, young_no_seat_company()], ignore_index=True), "2017-05-31 23:59:59")
    book = result.price_book
    assert book.tier_points and not book.tier_renewals, book.rows()
    assert book.tier_lapses[3] == 3  # the three 288s of February 2017, not the year-old one
    assert month_ends(result, "2017-05-31 23:59:59", "x0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 24.0)
    assert dict(book.rows())["tier multiples"].startswith(
        "too few single charges a year old to compare their renewals (1 of 1 at k x the list price renewed a year "
        "later, 0 of 1 at k x a tier price; 10 of each needed), so what did not renew a month later (tier multiples "
        "not yet a year old): 0 of 12 months")


def test_without_seats_a_list_rate_from_one_year_old_charge_vetoes_nothing():
    """One year-old 180 renewed (1 of 1) and six year-old 288s not renewed: 0 of 10 could still be under half of 1 in
    1, but one charge is no rate of the list price; what lapsed a month later decides, and 288 is a year (a review's
    case against a veto that trusted any list rate)."""
    rows = [("old", "2016-04-04 10:00", 180.0), ("old", "2017-04-04 10:00", 180.0)]
    rows += [(f"gone{i}", f"2016-04-{6 + i:02d} 10:00", 288.0) for i in range(6)]
    result = read(pd.concat([charges(*rows), young_no_seat_company()], ignore_index=True), "2017-05-31 23:59:59")
    assert result.price_book.tier_points and not result.price_book.tier_renewals
    assert month_ends(result, "2017-05-31 23:59:59", "x0")["2017-05"] == 24.0


def test_without_seats_year_old_tier_multiples_that_cannot_reach_the_ratio_say_months():
    """Ten year-old charges at 180 x k (six renewed a year later) and nine at 288, none renewed: even if a tenth came
    and renewed, 1 in 10 is under half the list price's 6 in 10. The tier multiples are months, whatever the young
    charges' lapses say (a review's case: before, the nine 288s that never renewed counted as lapses of years)."""
    rows = []
    for i in range(10):
        rows.append((f"old{i}", f"2016-03-{i + 1:02d} 10:00", 180.0 * (1 + i % 3)))
        if i < 6:
            rows.append((f"old{i}", f"2017-03-{i + 1:02d} 10:00", 180.0 * (1 + i % 3)))
    rows += [(f"gone{i}", f"2016-04-{i + 1:02d} 10:00", 288.0) for i in range(9)]
    result = read(pd.concat([charges(*rows), young_no_seat_company()], ignore_index=True), "2017-05-31 23:59:59")
    book = result.price_book
    assert not book.tier_points and book.tier_renewals == (6, 10, 0, 9), book.rows()
    assert month_ends(result, "2017-05-31 23:59:59", "x0")["2017-03"] == 0.0


@pytest.mark.parametrize(("months", "months_lapse", "tier_series", "years"), [
    (7, 7, 0, True),  # 7 of 19 months lapsed, no 288 renewed: 1 x 8 / 12 = 0.7, and 3 lapsed 288s are years
    (7, 7, 6, False),  # ... and six 288 plans renewed: (6 + 1) x 8 / 12 = 4.7, more than half of 3
    (1, 9, 0, False),  # 9 of 15 months lapsed: even with no 288 renewed, 1 x 10 / 6 = 1.7, and 3 is under twice it
    (7, 3, 6, False),  # 3 of 15 months lapsed, six 288 plans: 7 x 4 / 12 = 2.3; 3 lapsed is under twice that
])
def test_without_seats_a_young_log_keeps_tier_multiples_months_when_months_of_seats_lapse_as_often(
        months, months_lapse, tier_series, years):
    """Tier multiples are years only when they lapsed at least twice as often as months of several seats would give
    them ((288 plans renewed + 1) x (such months lapsed + 1) / such months renewed); otherwise 288 stays a month,
    then churn."""
    log = young_no_seat_company(months_lapse=months_lapse, tier_series=tier_series, months=months)
    result = read(log, "2017-05-31 23:59:59")
    assert result.price_book.tier_points == years
    assert month_ends(result, "2017-05-31 23:59:59", "x0")["2017-04"] == (24.0 if years else 0.0)


def test_a_configured_book_reads_no_tier_multiples_from_a_young_logs_lapses():
    """Configured prices say what the prices are, not how the log's plans lapse: the young-log comparison is the
    learned book's."""
    rules = replace(BillingRules(), price_book=PriceList(monthly_seat=(18.0,), annual_seat=(180.0, 144.0)))
    result = read(young_no_seat_company(), "2017-05-31 23:59:59", rules=rules)
    assert not result.price_book.tier_points and result.price_book.tier_lapses == ()


def lapse_company(series_126: int = 0, months_lapse: int = 0, lapsed_126: int = 4, lapsed_252: int = 0,
                  series_252: int = 0, extra: tuple[tuple[str, str, float], ...] = ()) -> pd.DataFrame:
    """No seat column, a log five months old: 5 two-seat monthly plans at 36 with a seat added (18 a seat a month), 7
    three-seat plans at 54 and `months_lapse` more paid once, 6 customers buying 180 x k for a year with a seat added
    (the list price, learned from the prorations; no tier learned), `series_126` customers renewing 126 (7 seats x
    18) every month, `lapsed_126` paying 126 once in February and `lapsed_252` paying 252 once then, `series_252`
    renewing 252 every month, p paying 126 on 2017-05-20 (pending at the end of May), and the `extra` charges."""
    rows: list[tuple[str, str, float]] = []
    for i in range(5):
        rows += monthly(f"m{i}", f"2017-01-0{5 + i} 10:00", 36.0, 4)
        rows.append((f"m{i}", f"2017-01-{20 + i} 10:00", 9.29))
    for i in range(7):
        rows += monthly(f"n{i}", f"2017-01-{10 + i} 10:00", 54.0, 4)
    for i in range(months_lapse):
        rows.append((f"o{i}", f"2017-02-{10 + i} 10:00", 54.0))
    for i in range(6):
        rows += annual_with_proration(f"l{i}", f"2017-01-{3 + i:02d} 09:00", 1 + i % 3, after_days=30)
    for i in range(series_126):
        rows += monthly(f"s{i}", f"2017-01-{20 + i} 11:00", 126.0, 4)
    for i in range(lapsed_126):
        rows.append((f"x{i}", f"2017-02-{3 + i:02d} 12:00", 126.0))
    for i in range(lapsed_252):
        rows.append((f"y{i}", f"2017-02-{13 + i:02d} 12:00", 252.0))
    for i in range(series_252):
        rows += monthly(f"v{i}", f"2017-01-{12 + i} 11:00", 252.0, 4)
    return charges(*rows, ("p", "2017-05-20 12:00", 126.0), *extra)


def test_without_seats_a_young_log_reads_an_amount_that_lapses_unlike_months_of_seats_as_a_year():
    """126 is 7 seats x 18 for a month, or a seat's year at a tier the log has not taught (no proration at it yet). No
    charge is a year old. None of the 12 plans at months of 2-3 seats lapsed after its first month, while all four
    126s did: they are years, 10.50 a month once their renewal was due, not a month then churn. A pending 126 may still
    be a seven-seat monthly plan's first month: one provisional month. About and the Billing reason say why."""
    result = read(lapse_company(), "2017-05-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0] and [p.amount for p in book.lapse_years] == [126.0]
    assert book.seat_month_lapses == (12, 0)
    assert month_ends(result, "2017-05-31 23:59:59", "x0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 10.5)
    assert month_ends(result, "2017-05-31 23:59:59", "p") == {"2017-05": 126.0}
    assert dict(book.rows())["a year once lapsed"] == (
        "126.00, learned from 4 charges of 4 customers (single charges whose monthly renewal never came: 4 lapsed after "
        "their first month and 0 renewed, where months of several seats would give about 0.1 lapsed (0 of 12 months of "
        "2 seats or more lapsed); a year once its renewal was due)")
    assert "126.00 is a year's price the log taught by what did not renew (learned from 4 charges of 4 customers" in \
        rows_of(result, "x0")["reason"].iloc[0]


@pytest.mark.parametrize(("series_126", "months_lapse", "lapsed_126", "year"), [
    (0, 0, 4, True),
    (6, 3, 4, False),  # six 126 plans renewed and 3 of 15 months lapsed: 7 x 4 / 12 = 2.3, and 4 is under twice it
    (6, 0, 4, True),  # ... none lapsed: 7 x 1 / 12 = 0.6
    (0, 0, 2, False),  # two customers are too few to say
    (2, 12, 4, False),  # 12 of 24 months lapsed: 3 x 13 / 12 = 3.3
])
def test_without_seats_a_young_log_keeps_an_amount_a_month_when_it_lapses_as_months_of_seats_do(
        series_126, months_lapse, lapsed_126, year):
    """An amount's lapsed charges are years only when MIN_CUSTOMERS+ of them lapsed and at least twice as many as its
    own renewed months would give at the rate months of several seats lapse ((126 plans renewed + 1) x (such months
    lapsed + 1) / such months renewed); otherwise 126 stays a month, then churn."""
    result = read(lapse_company(series_126, months_lapse, lapsed_126), "2017-05-31 23:59:59")
    assert (126.0 in [p.amount for p in result.price_book.lapse_years]) == year
    assert month_ends(result, "2017-05-31 23:59:59", "x0")["2017-04"] == (10.5 if year else 0.0)


RARE = (("r0", "2017-02-20 12:00", 162.0), ("r1", "2017-02-21 12:00", 378.0), ("r2", "2017-02-22 12:00", 648.0))


def test_without_seats_amounts_too_rarely_lapsed_to_judge_alone_are_judged_together():
    """162, 378 and 648 (9, 21 and 36 seats x 18 for a month, or years at tiers the log has not taught) each lapsed
    once, too few for any of them to say (item 41 needs 3 customers). Together, 3 lapses where months of several seats
    (none of 12 lapsed) would give about 0.1: most are years, each is read as one once its renewal was due (162 / 12 =
    13.50 a month), not a month then churn. A pending 378 may be a 21-seat monthly plan's first month: one
    provisional month. About and the Billing reason say it is a guess judged with other amounts."""
    log = lapse_company(lapsed_126=0, extra=(*RARE, ("q", "2017-05-21 12:00", 378.0)))
    result = read(log, "2017-05-31 23:59:59")
    book = result.price_book
    assert book.lapse_years == () and [p.amount for p in book.pooled_years] == [162.0, 378.0, 648.0]
    assert month_ends(result, "2017-05-31 23:59:59", "r0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 13.5)
    assert month_ends(result, "2017-05-31 23:59:59", "q") == {"2017-05": 378.0}
    assert dict(book.rows())["a year once lapsed, judged with others"] == (
        "648.00, learned from 1 charge of 1 customer (single charges whose monthly renewal never came; too few at 648.00 "
        "to judge alone (1 lapsed after their first month, 0 renewed), so judged with every lapse at an amount that can "
        "be a year or a month of several seats that no rule read as a year, the amounts judged months included: 3 "
        "lapsed and 0 renewed, where months of several seats would give about 0.1 lapsed (0 of 12 months of 2 seats or "
        "more lapsed); a year once its renewal was due, a guess)")
    assert "162.00 is taken for a year's price by what did not renew" in rows_of(result, "r0")["reason"].iloc[0]
    assert "a guess" in rows_of(result, "r0")["reason"].iloc[0]


@pytest.mark.parametrize(("rare", "months_lapse", "series_162", "years"), [
    (RARE[:2], 0, 0, []),  # two lapses are too few to judge, together too
    (RARE, 6, 0, []),  # 6 of 18 months of several seats lapsed: one lapse at an amount is what its month would give
    (RARE, 0, 2, [378.0, 648.0]),  # two customers renew 162 monthly, one let it lapse: 162 is no year
])
def test_without_seats_amounts_judged_together_stay_months_where_months_lapse_as_often(
        rare, months_lapse, series_162, years):
    """The pooled reading needs MIN_CUSTOMERS lapses in the pool, twice what their renewed months would give, and at
    each amount twice what its own renewed months would give and no more renewals than lapses."""
    extra = rare + tuple(row for i in range(series_162) for row in monthly(f"t{i}", f"2017-01-{22 + i} 11:00", 162.0, 4))
    result = read(lapse_company(lapsed_126=0, months_lapse=months_lapse, extra=extra), "2017-05-31 23:59:59")
    assert [p.amount for p in result.price_book.pooled_years] == years
    assert month_ends(result, "2017-05-31 23:59:59", "r0")["2017-04"] == (13.5 if 162.0 in years else 0.0)


def test_without_seats_the_pool_counts_the_amounts_judged_months_too():
    """252 renewed monthly by 20 customers and paid once by 4 is a month of 14 seats by its own count (item 41); its
    lapses and renewals join the pool, where 7 lapses against about 5.2 that months would give are no majority of
    years: 162, 378 and 648, each lapsed once, stay months."""
    log = lapse_company(lapsed_126=0, months_lapse=2, lapsed_252=4, series_252=20, extra=RARE)
    result = read(log, "2017-05-31 23:59:59")
    assert result.price_book.lapse_years == () and result.price_book.pooled_years == ()
    assert month_ends(result, "2017-05-31 23:59:59", "r1")["2017-04"] == 0.0


def test_without_seats_amounts_within_the_tolerance_are_judged_as_one():
    """162.00 and 162.01 are one amount, as every rule groups them (within 0.5%): with two customers renewing 162
    monthly, its two lapses (and 378 and 648 lapsed once) make it a year's price, listed once; each cent judged alone
    had one lapse against two renewals, and stayed a month."""
    extra = (("r0", "2017-02-20 12:00", 162.0), ("r3", "2017-02-23 12:00", 162.01), *RARE[1:],
             *(row for i in range(2) for row in monthly(f"t{i}", f"2017-01-{22 + i} 11:00", 162.0, 4)))
    result = read(lapse_company(lapsed_126=0, extra=extra), "2017-05-31 23:59:59")
    assert [p.amount for p in result.price_book.pooled_years] == [162.0, 378.0, 648.0]
    assert month_ends(result, "2017-05-31 23:59:59", "r3")["2017-04"] == 13.5


def test_without_seats_the_pool_leaves_out_what_other_rules_read_as_years():
    """126 lapsed by four customers is a year by its own count (item 41): its lapses are no evidence for the others.
    With 252 judged a month (4 lapsed, 20 renewing it) the pool is 162, 378, 648 and the 252s: 7 lapses against about
    5.2 from months, no majority of years; counting 126's four would make it one."""
    log = lapse_company(lapsed_126=4, months_lapse=2, lapsed_252=4, series_252=20, extra=RARE)
    result = read(log, "2017-05-31 23:59:59")
    assert [p.amount for p in result.price_book.lapse_years] == [126.0] and result.price_book.pooled_years == ()


def test_without_seats_tier_multiples_item_39_read_are_not_pooled():
    """Item 39 reads multiples of the tier 126 as years (252 twice, 378): they leave the pool, and 162 and 648 alone
    are too few to judge; 378 is "3 x 126", not a pooled year."""
    extra = (("w", "2017-02-20 12:00", 378.0), *RARE[::2])
    result = read(lapse_company(lapsed_252=2, extra=extra), "2017-05-31 23:59:59")
    assert result.price_book.tier_points and result.price_book.pooled_years == ()
    assert month_ends(result, "2017-05-31 23:59:59", "r0")["2017-04"] == 0.0
    assert "378.00 = 3 x 126.00" in rows_of(result, "w")["reason"].iloc[0]


def test_without_seats_tier_multiples_item_39_judged_months_stay_months():
    """Ten customers renew 252 (2 x 126) monthly: item 39 judges 126's multiples months. 378, 504 and 630 (3, 4 and 5
    x 126), each lapsed once, are such multiples: the pool does not make years of them."""
    extra = (("u0", "2017-02-20 12:00", 378.0), ("u1", "2017-02-21 12:00", 504.0), ("u2", "2017-02-22 12:00", 630.0))
    result = read(lapse_company(months_lapse=2, series_252=10, extra=extra), "2017-05-31 23:59:59")
    assert result.price_book.tier_lapses and not result.price_book.tier_points
    assert result.price_book.pooled_years == ()
    assert month_ends(result, "2017-05-31 23:59:59", "u0")["2017-04"] == 0.0

def test_without_seats_the_pool_counts_tier_multiples_item_39_judged_months_with_their_renewals():
    """Twenty customers renew 252 (2 x 126) monthly: item 39 judges 126's multiples months, and 378, 504 and 630,
    each lapsed once, stay months. Their lapses and the 252 renewals join the pool: 162, 306 and 648 (no multiples of
    126), each lapsed once, are 6 lapses against 20 renewals, about 5.2 from months: no majority of years."""
    extra = (("u0", "2017-02-20 12:00", 378.0), ("u1", "2017-02-21 12:00", 504.0), ("u2", "2017-02-22 12:00", 630.0),
             ("r0", "2017-02-23 12:00", 162.0), ("r1", "2017-02-24 12:00", 306.0), ("r2", "2017-02-25 12:00", 648.0))
    result = read(lapse_company(months_lapse=2, series_252=20, extra=extra), "2017-05-31 23:59:59")
    assert result.price_book.tier_lapses and not result.price_book.tier_points
    assert result.price_book.pooled_years == ()
    assert month_ends(result, "2017-05-31 23:59:59", "r1")["2017-04"] == 0.0


def test_a_pooled_year_at_a_tiers_own_amount_says_it_was_pooled():
    """144 is a tier learned from prorations, but without seat counts a tier's own amount is no year by itself (item
    39 compares its multiples, and here has too few). Lapsed once, with 378 and 648, it is a pooled year, and its
    reason says so (a guess), not "the annual seat price"."""
    log = young_no_seat_company()
    log = log.loc[~log["customer_id"].isin(["x0", "x1", "x2"])]
    log = pd.concat([log, charges(("r0", "2017-02-20 12:00", 144.0), *RARE[1:])])
    result = read(log, "2017-05-31 23:59:59")
    assert 144.0 in [p.amount for p in result.price_book.pooled_years]
    reason = rows_of(result, "r0")["reason"].iloc[0]
    assert "144.00 is taken for a year's price by what did not renew" in reason and "a guess" in reason


def test_without_seats_multiples_of_a_year_that_lapsed_are_years_too():
    """252 (2 x 126, or 14 seats x 18) paid once by two customers and 378 (3 x 126) by one: too few to be years on
    their own, but 126 is one (above), and the charges at its multiples (126's own lapses, which taught it, not counted)
    lapsed far more often than months of seats do (item 39's comparison, with 126 as a tier): 2 seats for a year,
    21.00 a month; About names the tier. A pending 252 may be a new monthly plan's first month: one provisional
    month."""
    log = lapse_company(lapsed_252=2, extra=(("w", "2017-02-20 12:00", 378.0), ("q", "2017-05-22 12:00", 252.0)))
    result = read(log, "2017-05-31 23:59:59")
    book = result.price_book
    assert book.tier_points and book.tier_units == (126.0,) and book.tier_lapses == (12, 0, 0, 3)
    assert month_ends(result, "2017-05-31 23:59:59", "y0") == dict.fromkeys(
        ["2017-02", "2017-03", "2017-04", "2017-05"], 21.0)
    assert month_ends(result, "2017-05-31 23:59:59", "q") == {"2017-05": 252.0}
    assert "252.00 = 2 x 126.00, a seat's year the log taught by what did not renew (learned from 4 charges of 4 " \
           "customers): 2 seats for a year" in rows_of(result, "y0")["reason"].iloc[0]
    assert "at k x a tier price (126.00)" in dict(book.rows())["tier multiples"]
    assert "and of 126.00 once their renewal was due" in dict(book.rows())["annual price points"]


def test_without_seats_multiples_that_lapse_as_months_of_seats_do_stay_months():
    """Ten customers renew 252 every month and four paid it once: at the rate months of several seats lapse (2 of 14),
    252's own renewals account for most of its lapses, and 126's being a year says nothing of them: each lapsed 252 is
    a month of 14 seats, then churn."""
    result = read(lapse_company(months_lapse=2, lapsed_252=4, series_252=10), "2017-05-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.lapse_years] == [126.0] and not book.tier_points
    assert month_ends(result, "2017-05-31 23:59:59", "y0") == {"2017-02": 252.0, "2017-03": 0.0, "2017-04": 0.0,
                                                               "2017-05": 0.0}


def test_without_seats_a_flat_plans_one_month_customers_are_churn():
    """149 a month is a flat plan (no month of seats at 18): ten customers renew it, five paid it once. Months of seats
    lapse rarely, but a flat plan's lapses say nothing of years: 149 once is a month, then churn."""
    extra = tuple(row for i in range(10) for row in monthly(f"f{i}", f"2017-01-{3 + i:02d} 13:00", 149.0, 4)) + \
        tuple((f"g{i}", f"2017-02-{3 + i:02d} 13:00", 149.0) for i in range(5))
    result = read(lapse_company(extra=extra), "2017-05-31 23:59:59")
    assert [p.amount for p in result.price_book.lapse_years] == [126.0]
    assert month_ends(result, "2017-05-31 23:59:59", "g0") == {"2017-02": 149.0, "2017-03": 0.0, "2017-04": 0.0,
                                                               "2017-05": 0.0}


def test_without_seats_a_flat_plans_year_is_no_seat_tier():
    """Without seat counts, 490 (ten months of a flat 49 that four customers renew) paid once by six customers is an
    annual point the lapses taught, beside 126 (a seat's year); tier multiples are years (252 and 378 lapsed), but
    980 is no "2 seats x 490": a flat plan's year is no seat's, and 980 is a month, then churn."""
    extra = tuple(row for i in range(4) for row in monthly(f"f{i}", f"2017-01-{10 + i:02d} 11:00", 49.0, 4)) + \
        tuple((f"h{i}", f"2017-02-{3 + i:02d} 14:00", 490.0) for i in range(6)) + \
        (("w", "2017-02-20 12:00", 378.0), ("z", "2017-02-21 12:00", 980.0))
    result = read(lapse_company(lapsed_252=2, extra=extra), "2017-05-31 23:59:59")
    book = result.price_book
    assert 490.0 in [p.amount for p in book.annual_points] and book.tier_points and book.tier_units == (126.0,)
    assert month_ends(result, "2017-05-31 23:59:59", "h0")["2017-04"] == 40.83
    assert month_ends(result, "2017-05-31 23:59:59", "z") == {"2017-02": 980.0, "2017-03": 0.0, "2017-04": 0.0,
                                                              "2017-05": 0.0}


def test_a_small_seat_file_reads_no_multiples_of_a_flat_plans_year():
    """Seat counts for a few customers only (fewer than the weighing needs): the book compares tier multiples by what
    lapsed, as without seats, but only at tiers learned from prorations or annual charges. 490 (ten months of a flat
    49) is a point the lapses taught; 980 is not two seats of it: a month, then churn."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, float] = {}
    for i in range(12):
        counts[f"m{i}"] = 1 + i % 3
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0 * counts[f"m{i}"], 4)
    for i in range(6):
        rows += annual_with_proration(f"l{i}", f"2017-01-{3 + i:02d} 10:00", 1 + i % 3, after_days=30)
        rows += monthly(f"f{i}", f"2017-01-{10 + i:02d} 11:00", 49.0, 4)
        rows.append((f"y{i}", f"2017-02-{3 + i:02d} 12:00", 490.0))
    rows.append(("z", "2017-02-20 12:00", 980.0))
    result = read(charges(*rows), "2017-05-31 23:59:59", seat_counts=seats(**counts))
    assert 490.0 in [p.amount for p in result.price_book.annual_points] and result.price_book.tier_units == ()
    assert month_ends(result, "2017-05-31 23:59:59", "z") == {"2017-02": 980.0, "2017-03": 0.0, "2017-04": 0.0,
                                                              "2017-05": 0.0}


def test_lapsed_years_are_a_young_no_seat_logs_evidence_only():
    """With seat counts, the seats weigh 126 (`lapsed_seat_prices` reads exact seat matches); a year on, renewals a year later say
    what is annual: no lapsed years either way."""
    log = lapse_company()
    counts = pd.Series({c: {"m": 3.0, "n": 3.0, "l": 2.0}.get(c[0], 1.0) for c in log["customer_id"].unique()})
    assert read(log, "2017-05-31 23:59:59", seat_counts=counts).price_book.lapse_years == ()
    aged = pd.concat([log, charges(("old", "2016-01-04 10:00", 54.0))], ignore_index=True)
    assert read(aged, "2017-05-31 23:59:59").price_book.lapse_years == ()


def second_month(tier_renews: bool) -> tuple[pd.DataFrame, pd.Series]:
    """A log's second month: 12 customers on 18 a seat a month in January (10 renew in February), 1 customer's
    180 a seat for a year, and 3 customers paying 144 a seat (1, 2 and 1 seats) in January that renew a month later
    only when `tier_renews`; then, in February, a pending 288 by a 2-seat customer."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for i in range(12):
        counts[f"m{i}"] = i % 3 + 1
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0 * counts[f"m{i}"], 1 if i < 10 else 0)
    counts["y"] = 6
    rows.append(("y", "2017-01-05 12:00", 1080.0))
    for c, n, day in (("t1", 1, 4), ("t2", 2, 6), ("t3", 1, 9)):
        counts[c] = n
        rows += monthly(c, f"2017-01-{day:02d} 15:00", 144.0 * n, 1 if tier_renews else 0)
    counts["p"] = 2
    rows.append(("p", "2017-02-20 10:00", 288.0))
    return charges(*rows), seats(**counts)


def test_a_seat_price_that_never_renewed_a_month_later_is_a_years_price():
    """January's three 144-a-seat charges had their February renewal due and none came, while 10 of 12 18-a-seat
    ones renewed: 144 is a year's seat price (a tier of 180). January's charges are years, not a month then churn,
    and February's pending 288 (2 seats) is a year from the start; the book says what the price rests on."""
    log, counts = second_month(tier_renews=False)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    tier = [p for p in result.price_book.annual_seat if p.amount == 144.0]
    assert len(tier) == 1 and tier[0].customers == 3
    assert "whose monthly renewal never came: 0 of 3 charges at 144.00 a seat renewed a month later, 10 of 12 at " \
           "the monthly seat price 18.00" in tier[0].basis
    assert month_ends(result, "2017-02-28 23:59:59", "t2") == {"2017-01": 24.0, "2017-02": 24.0}
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 24.0}


def test_a_seat_price_that_renews_monthly_is_no_years_price():
    """The same log where the 144-a-seat plans renewed in February: 144 a seat is a monthly plan (a premium one),
    not a year; the pending 288 stays a month for now."""
    log, counts = second_month(tier_renews=True)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert 144.0 not in [p.amount for p in result.price_book.annual_seat]
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 288.0}


def second_month_two_tiers(on_list: int, on_tier: int) -> tuple[pd.DataFrame, pd.Series]:
    """A log's second month with two monthly seat prices: `on_list` customers on 12 a seat a month in January and
    `on_tier` on 29 (all but one of each renew in February), and 3 customers paying 319 a seat (11 months of 29) once
    in January, 1, 2 and 1 seats: a year of the 29 tier, renewal due in February and absent."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for prefix, price, n in (("m", 12.0, on_list), ("k", 29.0, on_tier)):
        for i in range(n):
            counts[f"{prefix}{i}"] = i % 3 + 1
            rows += monthly(f"{prefix}{i}", f"2017-01-{3 + i:02d} 09:00", price * counts[f"{prefix}{i}"],
                            1 if i else 0)
    for c, n, day in (("t1", 1, 4), ("t2", 2, 6), ("t3", 1, 9)):
        counts[c] = n
        rows.append((c, f"2017-01-{day:02d} 15:00", 319.0 * n))
    return charges(*rows), seats(**counts)


@pytest.mark.parametrize(("on_list", "on_tier"), [(11, 4), (6, 5)])
def test_a_seat_price_that_never_renewed_is_a_year_of_any_monthly_seat_price(on_list, on_tier):
    """319 a seat is 26.6 months of the list price 12 but 11 months of the 29 tier: a year's price of that tier
    (generated seat11, whose tiers are 12 / 29 / 59). The renewal rate it is compared with pools every monthly seat
    price's charges (six customers on 12 are too few to say how often months renew; with five more on 29 they say
    it). January's 319s are years, not a month then churn."""
    log, counts = second_month_two_tiers(on_list, on_tier)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert [p.amount for p in result.price_book.monthly_seat] == [12.0, 29.0]
    tier = [p for p in result.price_book.annual_seat if p.amount == 319.0]
    assert len(tier) == 1 and tier[0].lapsed
    assert (f"0 of 3 charges at 319.00 a seat renewed a month later, {on_list + on_tier - 2} of {on_list + on_tier} "
            "at the monthly seat prices 12.00, 29.00") in tier[0].basis
    assert month_ends(result, "2017-02-28 23:59:59", "t2") == {"2017-01": 53.17, "2017-02": 53.17}


def test_a_premium_tiers_one_month_customers_are_no_years_price():
    """Tiers 10 and 25 (the list price) a seat a month, and a premium 70 a seat (7 months of 10) that two of five
    customers renewed in February: 70 renewed far less often than the others, but a year of a tier, not of the list
    price, must lapse twice as clearly (at most a quarter of the months' rate): the three who left are a month, then
    churn."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for prefix, price, n in (("c", 10.0, 4), ("m", 25.0, 12)):
        for i in range(n):
            counts[f"{prefix}{i}"] = i % 3 + 1
            rows += monthly(f"{prefix}{i}", f"2017-01-{3 + i:02d} 09:00", price * counts[f"{prefix}{i}"], 1 if i else 0)
    for i in range(5):
        counts[f"p{i}"] = i % 2 + 1
        rows += monthly(f"p{i}", f"2017-01-{5 + i:02d} 11:00", 70.0 * counts[f"p{i}"], 1 if i < 2 else 0)
    result = read(charges(*rows), as_of="2017-02-28 23:59:59", seat_counts=seats(**counts))
    assert 70.0 not in [p.amount for p in result.price_book.annual_seat]
    assert month_ends(result, "2017-02-28 23:59:59", "p3") == {"2017-01": 140.0, "2017-02": 0.0}


def test_a_year_of_the_list_price_is_weighed_against_the_list_prices_own_renewals():
    """The list price 12 renews 7 times of 12, the 29 tier 5 of 5; 132 a seat (11 months of 12) renewed 2 of 6
    times. Pooled (12 of 17), the 29 tier's loyal customers would make 132 look lapsed; against the list price's own
    rate it renewed as its months do: no year, and the four who left are a month, then churn."""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, int] = {}
    for prefix, price, n, renew in (("m", 12.0, 12, 7), ("k", 29.0, 5, 5), ("t", 132.0, 6, 2)):
        for i in range(n):
            counts[f"{prefix}{i}"] = i % 3 + 1 if prefix != "t" else 1
            rows += monthly(f"{prefix}{i}", f"2017-01-{3 + i:02d} 09:00", price * counts[f"{prefix}{i}"],
                            1 if i < renew else 0)
    result = read(charges(*rows), as_of="2017-02-28 23:59:59", seat_counts=seats(**counts))
    assert 132.0 not in [p.amount for p in result.price_book.annual_seat]
    assert month_ends(result, "2017-02-28 23:59:59", "t5") == {"2017-01": 132.0, "2017-02": 0.0}


def no_seat_second_month(year_renews_monthly: bool) -> pd.DataFrame:
    """No seat column, a log's second month: 12 customers pay 18 a month from January (10 renew in February), 4 pay
    180 once in January (renewed a month later only when `year_renews_monthly`), and in February 2 customers pay a
    pending 360 and 540."""
    rows: list[tuple[str, str, float]] = []
    for i in range(12):
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0, 1 if i < 10 else 0)
    for i in range(4):
        rows += monthly(f"y{i}", f"2017-01-{4 + i:02d} 15:00", 180.0, 1 if year_renews_monthly else 0)
    rows += [("p", "2017-02-20 10:00", 360.0), ("q", "2017-02-21 10:00", 540.0)]
    return charges(*rows)


def test_without_seats_an_amount_that_never_renewed_a_month_later_is_a_year():
    """No seat counts, no prorations, no year-old charge: 180 paid once by 4 customers, none renewed a month later
    while 10 of 12 18s did, is a year (the annual list price, about what it rests on), and so are February's pending
    360 and 540 (its whole multiples), at once; January's 180s are years, not a month then churn."""
    result = read(no_seat_second_month(False), as_of="2017-02-28 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0]
    assert "0 of 4 charges of 180.00 renewed a month later, 10 of 12 of 18.00, the most common monthly amount" in \
        book.annual_seat[0].basis
    assert month_ends(result, "2017-02-28 23:59:59", "y0") == {"2017-01": 15.0, "2017-02": 15.0}
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 30.0}
    assert month_ends(result, "2017-02-28 23:59:59", "q") == {"2017-02": 45.0}


def test_without_seats_an_amount_that_renews_monthly_stays_a_month():
    """The same log where the 180s renewed in February: 180 is a monthly plan's price; nothing is a year."""
    result = read(no_seat_second_month(True), as_of="2017-02-28 23:59:59")
    assert result.price_book.annual_seat == () and result.price_book.annual_points == ()
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 360.0}


def test_a_lapsed_tier_is_no_list_price_and_no_year_ratio():
    """The second month's lapsed 144 (3 customers; the annual prices are otherwise assumed, 180 and 216) matches exact
    seat counts only: a pending 432 of a customer with no seat count stays a month for now (not 3 x 144 by multiples),
    and the switch ratios stay 10 and 12 (144 / 18 = 8 is no year)."""
    log, counts = second_month(tier_renews=False)
    log = pd.concat([log, charges(("u", "2017-02-22 10:00", 432.0))], ignore_index=True)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert 144.0 in [p.amount for p in result.price_book.annual_seat if p.lapsed]
    assert result.price_book.switch_ratios == (10.0, 12.0)
    assert month_ends(result, "2017-02-28 23:59:59", "u") == {"2017-02": 432.0}


def test_a_lapsed_charge_at_a_multiple_of_a_known_annual_price_teaches_no_tier():
    """180 a seat is known (three 1080 charges of 6-seat customers); three customers paid 720 (4 seats for a year)
    and have 6 seats today: 120 a seat, never renewed, is those seats counted later, not a price."""
    log, counts = second_month(tier_renews=False)
    extra = [(f"k{i}", f"2017-01-{10 + i:02d} 12:00", 1080.0) for i in range(3)]
    extra += [(f"s{i}", f"2017-01-{14 + i:02d} 12:00", 720.0) for i in range(3)]
    log = pd.concat([log, charges(*extra)], ignore_index=True)
    counts = pd.concat([counts, seats(**{f"k{i}": 6 for i in range(3)}, **{f"s{i}": 6 for i in range(3)})])
    book = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts).price_book
    amounts = [p.amount for p in book.annual_seat]
    assert 180.0 in amounts and 120.0 not in amounts and 144.0 in amounts, book.rows()


def test_lapsed_prices_are_a_young_logs_evidence_only():
    """The same second month with one single charge a year older (the log is a year old): renewals a year later
    say what is annual from then on, and nothing is learned from what did not renew a month later."""
    log, counts = second_month(tier_renews=False)
    log = pd.concat([charges(("old", "2016-01-20 10:00", 18.0)), log], ignore_index=True)
    book = read(log, as_of="2017-02-28 23:59:59", seat_counts=pd.concat([counts, seats(old=1)])).price_book
    assert not any(p.lapsed for p in book.annual_seat), book.rows()


def test_a_lapsed_charge_followed_by_a_seat_added_is_no_evidence():
    """The 144-a-seat customers each added a seat after their charge (a proration): today's seat counts are no
    longer the ones they paid for, so their charges teach no price."""
    log, counts = second_month(tier_renews=False)
    extra = [(c, f"2017-01-{day + 9:02d} 15:00", 120.0) for c, day in (("t1", 4), ("t2", 6), ("t3", 9))]
    book = read(pd.concat([log, charges(*extra)], ignore_index=True), as_of="2017-02-28 23:59:59",
                seat_counts=counts).price_book
    assert not any(p.lapsed for p in book.annual_seat), book.rows()


def flat_second_month(renewing: int = 0, plan: float = 49.0, plan_seats: tuple[int, ...] = (3, 5, 8, 2),
                      year: float = 490.0, years: tuple[int, ...] = (3, 14, 31),
                      extra: tuple[tuple[str, str, float], ...] = (), seat_mix: bool = False
                      ) -> tuple[pd.DataFrame, pd.Series]:
    """A log's second month: 12 one-seat customers (with `seat_mix`, 1 to 6 seats, two customers at each count) on 18
    a seat a month from January (10 renew in February), 4 customers
    on a plan of `plan` a month (with `plan_seats` seats; all renew), customers with `years` seats paying `year`
    once in January (the first `renewing` of them renew it a month later), `extra` charges, and in February a
    pending `year` by a 6-seat customer."""
    rows: list[tuple[str, str, float]] = list(extra)
    counts: dict[str, int] = {}
    for i in range(12):
        counts[f"m{i}"] = i % 6 + 1 if seat_mix else 1
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0 * counts[f"m{i}"], 1 if i < 10 else 0)
    for i in range(4):
        counts[f"f{i}"] = plan_seats[i]
        rows += monthly(f"f{i}", f"2017-01-{5 + i:02d} 11:00", plan, 1)
    for i, n in enumerate(years):
        counts[f"y{i}"] = n
        rows += monthly(f"y{i}", f"2017-01-{4 + 2 * i:02d} 15:00", year, 1 if i < renewing else 0)
    counts["p"] = 6
    rows.append(("p", "2017-02-20 10:00", year))
    return charges(*rows), seats(**counts)


@pytest.mark.parametrize("plan_seats", [(3, 5, 8, 2), (1, 1, 1, 1), (5, 5, 5, 2)])
def test_a_flat_plans_year_that_never_renewed_a_month_later_is_an_annual_price_point(plan_seats):
    """490 is ten months of 49, a flat plan four customers renew every month. Paid once by three customers in
    January and renewed by none in February, while 14 of the 16 charges at the monthly plans' prices renewed, it is a
    year's price in the log's second month, long before any renewal a year later could say so (generated seat11:
    the flat plan's years were a month and then churn at every month end of the log's first year). January's 490s
    are years, whatever their seat counts, and February's pending one is a year from the start. The plan's own
    customers make 49 (one seat each) or 9.80 (five seats) a seat price the book lists, but no other seat count
    pays it: that is no seat price to make 49 a month of seats."""
    log, counts = flat_second_month(plan_seats=plan_seats)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    points = result.price_book.annual_points
    assert [p.amount for p in points] == [490.0] and points[0].customers == 3
    assert "0 of 3 charges of 490.00 renewed a month later, 14 of 16 at the monthly plans' prices; 10 months of " \
           "49.00, a monthly plan's price" in points[0].basis
    for c in ("y0", "y1", "y2"):
        assert month_ends(result, "2017-02-28 23:59:59", c) == {"2017-01": 40.83, "2017-02": 40.83}, c
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 40.83}
    assert "490.00 is an annual price point" in rows_of(result, "p")["reason"].iloc[0]


def test_a_flat_plans_year_that_never_renewed_a_month_later_is_a_point_in_an_older_log_too():
    """The same log a year older (one single charge of January 2016): no renewal a year later can list 490 until three
    customers have renewed it, and ten months of the flat 49 are no month of anything at any age. Before, the rule
    stopped at a log's first birthday (generated seat11 seed 6 at its 13th month end, seats of then: six 490s of
    December read as months and churned)."""
    log, counts = flat_second_month()
    log = pd.concat([charges(("old", "2016-01-20 10:00", 18.0)), log], ignore_index=True)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=pd.concat([counts, seats(old=1)]))
    assert [p.amount for p in result.price_book.annual_points] == [490.0]
    for c in ("y0", "y1", "y2"):
        assert month_ends(result, "2017-02-28 23:59:59", c) == {"2017-01": 40.83, "2017-02": 40.83}, c
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 40.83}


def test_a_flat_plans_year_is_weighed_against_the_seat_prices_months_while_the_plans_own_are_few():
    """The seat customers pay 18 a seat at six seat counts, two customers at each: no amount but the flat 49 starts
    the monthly series of three customers, and its four renewals are too few to say how often months renew. Months of
    1 to 5 seats at the seat prices say it, by amount (9 of 10 renewed): 490, lapsed by three customers, is the flat
    plan's year.
    Before, nothing was learned (generated seat11 seed 1 at its second month end: five 490s of January, beside four
    customers of 49, read as months and churned)."""
    log, counts = flat_second_month(seat_mix=True)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    points = result.price_book.annual_points
    assert [p.amount for p in points] == [490.0]
    assert "9 of 10 at months of 1 to 5 seats at the monthly seat prices (too few months at the plans' own yet)" in \
        points[0].basis
    for c in ("y0", "y1", "y2"):
        assert month_ends(result, "2017-02-28 23:59:59", c) == {"2017-01": 40.83, "2017-02": 40.83}, c


@pytest.mark.parametrize("gone_seats", [None, float("nan"), 0.0])
def test_the_seat_prices_months_count_the_customers_gone_whatever_their_seat_count(gone_seats):
    """20 customers on 18 a seat (1 to 5 seats), half of them gone after a month, whose seat count the export may no
    longer hold (NaN, 0); two customers renew 490 every month and three pay it once. Counted by amount, months renewed
    10 of 20 times, and 490's 2 of 5 is no lapse rate of a year: no point, and a pending 490 is a month. (Counted by
    seat value, the gone customers without a seat count fell out of the rate, 10 of 10 renewed, and 490 was a year:
    a review's case.)"""
    rows: list[tuple[str, str, float]] = []
    counts: dict[str, float] = {}
    for i in range(20):
        counts[f"m{i}"] = i % 5 + 1
        rows += monthly(f"m{i}", f"2017-01-{3 + i:02d} 09:00", 18.0 * (i % 5 + 1), 1 if i < 10 else 0)
        if i >= 10 and gone_seats is not None:
            counts[f"m{i}"] = gone_seats
    for i, n in enumerate((3, 5, 8, 2)):
        counts[f"f{i}"] = n
        rows += monthly(f"f{i}", f"2017-01-{5 + i:02d} 11:00", 49.0, 1)
    for i, n in enumerate((3, 14, 3, 14, 31)):
        counts[f"y{i}"] = n
        rows += monthly(f"y{i}", f"2017-01-{4 + 2 * i:02d} 15:00", 490.0, 1 if i < 2 else 0)
    counts["p"] = 6
    rows.append(("p", "2017-02-20 10:00", 490.0))
    result = read(charges(*rows), as_of="2017-02-28 23:59:59", seat_counts=pd.Series(counts))
    assert result.price_book.annual_points == ()
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 490.0}


def test_the_seat_prices_months_leave_out_the_years_the_book_reads():
    """Seat prices 18 and 45 in a log's second month, 490 lapsed by three customers and renewed monthly by two, and
    three one-seat customers' 180 (a seat's year the book reads, also 4 x 45) lapsed: those are years, not lapsed
    months of 4 seats at 45, and the months' rate stays what months did (a review's case: counted as months, the
    rate fell and 490 was no longer a year)."""
    extra: list[tuple[str, str, float]] = []
    for i in range(3):
        extra += monthly(f"q{i}", f"2017-01-{10 + i:02d} 08:00", 45.0, 1)
    extra += [(f"a{i}", f"2017-01-{15 + i:02d} 08:00", 180.0) for i in range(3)]
    log, counts = flat_second_month(seat_mix=True, renewing=2, years=(3, 14, 31, 3, 14), extra=tuple(extra))
    counts = pd.concat([counts, seats(**{f"q{i}": 1 for i in range(3)}, **{f"a{i}": 1 for i in range(3)})])
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert [p.amount for p in result.price_book.annual_points] == [490.0], result.price_book.rows()
    assert month_ends(result, "2017-02-28 23:59:59", "y2") == {"2017-01": 40.83, "2017-02": 40.83}


@pytest.mark.parametrize("renewing", [3, 6])
def test_a_flat_amount_that_renews_monthly_is_no_years_price(renewing):
    """The same log with six customers paying 490 in January: where half of them renewed it in February (3 of 6,
    more than half the monthly plans' rate of 14 in 16), or all of them, 490 is a monthly plan's price; no point,
    and the pending 490 is a month."""
    log, counts = flat_second_month(renewing=renewing, years=(3, 14, 31, 2, 4, 7))
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert result.price_book.annual_points == ()
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 490.0}


def test_months_of_a_seat_amount_are_no_flat_plans_year():
    """36 is two seats x 18: four 2-seat customers renewing it monthly are a seat plan, not a flat one, and 288
    (eight months of it, or 16 seats for a month) lapsed by three customers is left to the seat prices, never an
    annual point: as points, seat amounts read every pending one as a year, monthly plans of those seats too."""
    log, counts = flat_second_month(plan=36.0, plan_seats=(2, 2, 2, 2), year=288.0)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert result.price_book.annual_points == ()


@pytest.mark.parametrize("year", [245.0, 637.0])
def test_months_of_a_flat_plan_are_a_year_only_from_six_to_twelve(year):
    """245 is five months of 49 and 637 thirteen: neither is a year's price, lapsed or not."""
    log, counts = flat_second_month(year=year)
    result = read(log, as_of="2017-02-28 23:59:59", seat_counts=counts)
    assert result.price_book.annual_points == ()


def test_without_seats_a_flat_plans_year_is_a_point_beside_the_seat_years():
    """No seat column: 490, ten months of the flat 49, lapsed by three customers, is an annual point; 126, seven
    months of 18 (the most common monthly amount, a seat's month), lapsed by three others, is read by amount as the
    annual list price (`_lapsed_points`), its whole multiples years, and is not listed again as a point."""
    extra = tuple(r for i in range(3) for r in monthly(f"s{i}", f"2017-01-{11 + i:02d} 16:00", 126.0, 0))
    log, _ = flat_second_month(extra=extra)
    book = read(log, as_of="2017-02-28 23:59:59").price_book
    assert [p.amount for p in book.annual_points] == [490.0]
    assert [p.amount for p in book.annual_seat] == [126.0]
    result = read(log, as_of="2017-02-28 23:59:59")
    assert month_ends(result, "2017-02-28 23:59:59", "p") == {"2017-02": 40.83}
