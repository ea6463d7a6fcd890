"""Prices paired among single charges (kpi.billing.pricebook.pairs): a log's first month, and a young log without
seat counts."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.kpi.billing.logs import (
    charges,
    month_ends,
    read,
    rows_of,
    seats,
)


def first_month(annual: dict[str, int], monthly_seats: dict[str, int], price: float = 18.0, year: float = 180.0
                ) -> tuple[pd.DataFrame, pd.Series]:
    """A log's first month: one charge per customer, seats x `year` for `annual`, seats x `price` for the others."""
    rows = [(c, f"2017-01-{3 + i:02d} 10:00", n * year) for i, (c, n) in enumerate(annual.items())]
    rows += [(c, f"2017-01-{3 + i:02d} 11:00", n * price) for i, (c, n) in enumerate(monthly_seats.items())]
    return charges(*rows), seats(**annual, **monthly_seats)


def test_a_logs_first_month_pairs_a_month_and_a_year_of_a_seat():
    """No series has renewed yet: 18 a seat (5 customers) and 180 a seat (3 customers), ten times it, are the monthly
    and annual seat prices; a 360 charge of a 2-seat customer is read as a year at once, not a month then churn."""
    log, counts = first_month({"a1": 1, "a2": 2, "a3": 1, "x": 2}, {f"m{i}": i % 3 + 1 for i in range(5)})
    result = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [18.0] and [p.amount for p in book.annual_seat] == [180.0]
    assert "paired among single charges / seats: 18.00 (5 customers) and 180.00 (4 customers)" in \
        book.annual_seat[0].basis
    assert month_ends(result, "2017-01-31 23:59:59", "x") == {"2017-01": 30.0}
    assert "annual" in rows_of(result, "x")["kind"].iloc[0]


def test_a_year_of_eleven_months_pairs_per_seat_but_not_by_amount():
    """Generated seat11's price list: 12 a seat a month, a year at 11 months (132). Per seat, 132 is 11 x 12: a month
    and a year (any whole number of months from 6 to 12); a 2-seat customer's 264 is a year at once. An amount 11 (or
    7) times another is as likely that many seats for a month: without seat counts, amounts pair at 10 and 12 only."""
    log, counts = first_month({"a1": 1, "a2": 2, "a3": 1, "x": 2}, {f"m{i}": i % 3 + 1 for i in range(5)},
                              price=12.0, year=132.0)
    result = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [12.0] and [p.amount for p in book.annual_seat] == [132.0]
    assert "132.00 (4 customers), 11 times it" in book.annual_seat[0].basis
    assert month_ends(result, "2017-01-31 23:59:59", "x") == {"2017-01": 22.0}
    no_seats = read(log, as_of="2017-01-31 23:59:59").price_book
    assert 132.0 not in [p.amount for p in no_seats.annual_seat]


def test_a_first_month_lists_the_pairs_of_per_seat_prices_and_of_amounts_together():
    """25 and 300 a seat pair per seat (customers whose seats have not changed); 45 and 540 only as amounts (one seat
    then, 2 to 6 seats today, which scatters their per-seat values): both pairs are the book's, the better supported
    first, and a one-seat customer's 540 is a year."""
    log, counts = first_month({f"a{i}": 1 for i in range(4)}, {f"m{i}": i % 3 + 1 for i in range(6)}, price=25.0,
                              year=300.0)
    rows = [(f"p{i}", f"2017-01-{3 + i:02d} 12:00", 45.0) for i in range(4)]
    rows += [(f"q{i}", f"2017-01-{3 + i:02d} 13:00", 540.0) for i in range(3)] + [("z", "2017-01-25 13:00", 540.0)]
    counts = pd.concat([counts, seats(**{f"p{i}": i + 2 for i in range(4)}, **{f"q{i}": i + 2 for i in range(3)}, z=1)])
    result = read(pd.concat([log, charges(*rows)], ignore_index=True), as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [25.0, 45.0]
    assert [p.amount for p in book.annual_seat if not p.derived] == [300.0, 540.0]
    assert book.annual_seat[1].basis.startswith("paired among amounts: 45.00 (4 customers) and 540.00 (4 customers)")
    assert month_ends(result, "2017-01-31 23:59:59", "z") == {"2017-01": 45.0}


def test_pairs_of_two_products_keep_the_list_price_most_customers_pay_first():
    """A first month: 18 a seat (10 customers) and 180 (4), 45 (5) and 540 (5). 18 / 180 stays the list pair (14
    customers to 10), so 180 a seat stays an annual price: a 180 and a 360 by customers with no seat count are a year
    (one seat, two), not a month (a review of this stop found 45 first and 180 dropped)."""
    rows, counts = [], {}
    for prefix, n, amount, hour in (("m", 10, 18.0, 10), ("a", 3, 180.0, 11), ("n", 5, 45.0, 12), ("b", 5, 540.0, 13)):
        for i in range(n):
            rows.append((f"{prefix}{i}", f"2017-01-{3 + i:02d} {hour}:00", amount))
            counts[f"{prefix}{i}"] = 1
    rows += [("x", "2017-01-20 09:00", 360.0), ("w", "2017-01-22 09:00", 180.0), ("v", "2017-01-23 09:00", 360.0)]
    counts["x"] = 2
    result = read(charges(*rows), as_of="2017-01-31 23:59:59", seat_counts=seats(**counts))
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [18.0, 45.0]
    assert [p.amount for p in book.annual_seat if not p.derived] == [180.0, 540.0]
    assert month_ends(result, "2017-01-31 23:59:59", "w") == {"2017-01": 15.0}
    assert month_ends(result, "2017-01-31 23:59:59", "v") == {"2017-01": 30.0}


def test_prices_pair_only_with_three_customers_each_and_a_year_between_them():
    """Two customers at 180 a seat are no price; nor is 54 a seat (3 times 18: no year) however many pay it."""
    log, counts = first_month({"a1": 1, "a2": 2}, {f"m{i}": 1 for i in range(5)})
    assert read(log, as_of="2017-01-31 23:59:59", seat_counts=counts).price_book.annual_seat == ()
    log, counts = first_month({f"a{i}": 1 for i in range(4)}, {f"m{i}": 1 for i in range(5)}, year=54.0)
    book = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts).price_book
    assert book.monthly_seat == () and book.annual_seat == ()


def test_a_paired_price_the_annual_charges_taught_already_is_listed_once():
    """1800 by 10-seat customers teaches 180 a seat a year (>= annual_min_amount); the 18 / 180 pair among single
    charges says the same: one annual price, not two halves of its weight."""
    log, counts = first_month({f"a{i}": 10 for i in range(5)}, {f"m{i}": i % 3 + 1 for i in range(5)})
    book = read(log, as_of="2017-01-31 23:59:59", seat_counts=counts).price_book
    assert [p.amount for p in book.annual_seat] == [180.0] and [p.amount for p in book.monthly_seat] == [18.0]


def test_without_seats_a_logs_first_month_pairs_a_month_and_a_year_by_amount():
    """No seat counts, no series yet: 18 (5 customers) and 180 (3 customers), ten times it, are a month and a year;
    180 stands as the annual list price, so the pending 180s and a 540 are years at once; with 180 paid by 2
    customers only, nothing pairs."""
    rows = [(f"m{i}", f"2017-01-{3 + i:02d} 11:00", 18.0) for i in range(5)]
    rows += [(f"y{i}", f"2017-01-{10 + i:02d} 10:00", 180.0) for i in range(3)] + [("q", "2017-01-20 10:00", 540.0)]
    result = read(charges(*rows), as_of="2017-01-31 23:59:59")
    book = result.price_book
    assert [p.amount for p in book.annual_seat] == [180.0]
    assert "paired among amounts: 18.00 (5 customers) and 180.00 (3 customers), 10 times it; no seat counts" in \
        book.annual_seat[0].basis
    assert month_ends(result, "2017-01-31 23:59:59", "y0") == {"2017-01": 15.0}
    assert month_ends(result, "2017-01-31 23:59:59", "q") == {"2017-01": 45.0}
    assert read(charges(*rows[:7], rows[-1]), as_of="2017-01-31 23:59:59").price_book.annual_seat == ()


def test_a_first_month_pairs_amounts_when_todays_seats_scatter_the_per_seat_prices():
    """A first month read with today's seat counts: 12 customers paid 18 (one seat then, 2 to 13 seats today) and 8
    paid 180 (2 to 9 seats today), so no per-seat price is shared by 3 customers; 18 and 180 still pair as amounts
    (one seat's month and year), and a 2-seat customer's 360 is read as 2 seats for a year, not 20 for a month."""
    rows = [(f"m{i}", f"2017-01-{3 + i:02d} 11:00", 18.0) for i in range(12)]
    rows += [(f"y{i}", f"2017-01-{3 + i:02d} 10:00", 180.0) for i in range(8)] + [("p", "2017-01-25 10:00", 360.0)]
    counts = seats(**{f"m{i}": i + 2 for i in range(12)}, **{f"y{i}": i + 2 for i in range(8)}, p=2)
    result = read(charges(*rows), as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [18.0] and [p.amount for p in book.annual_seat] == [180.0]
    assert book.annual_seat[0].basis.startswith("paired among amounts: 18.00 (12 customers) and 180.00 (8 customers)")
    assert month_ends(result, "2017-01-31 23:59:59", "p") == {"2017-01": 30.0}


@pytest.mark.parametrize("seat_months", [0, 3])
def test_a_flat_price_paired_among_amounts_paid_once_needs_no_seat_count_to_match(seat_months):
    """A first month read with today's seat counts: 49 (10 customers) and 490 (11 customers), ten times it, pair only
    as amounts (today's seats, 2 to 31, scatter their per-seat values); 21 seat counts are enough to weigh two
    readings. When nobody pays 2 to 5 times 49, 49 is a flat plan's price, paid as such whatever the seats: z's 490
    (31 seats today) is the year it is paid as, 40.83 a month, not 10 seats x 49 for a month because 10 is nearer 31
    than 1 is; w's 490, exactly its 10 seats x 49, is that month. When three customers pay 98 or 147 (2 and 3 seats),
    49 is a seat's price and the seat counts weigh z's 490 as before: 10 seats for a month."""
    rows = [(f"m{i}", f"2017-01-{3 + i:02d} 11:00", 49.0) for i in range(10)]
    rows += [(f"y{i}", f"2017-01-{3 + i:02d} 10:00", 490.0) for i in range(9)]
    rows += [(f"s{i}", f"2017-01-{3 + i:02d} 12:00", 49.0 * (2 + i % 2)) for i in range(seat_months)]
    rows += [("z", "2017-01-25 10:00", 490.0), ("w", "2017-01-26 10:00", 490.0)]
    counts = seats(**{f"m{i}": i + 2 for i in range(10)}, **{f"y{i}": 3 * i + 3 for i in range(9)},
                   **{f"s{i}": 2 + i % 2 for i in range(seat_months)}, z=31, w=10)
    result = read(charges(*rows), as_of="2017-01-31 23:59:59", seat_counts=counts)
    book = result.price_book
    assert [p.amount for p in book.monthly_seat] == [49.0] and [p.amount for p in book.annual_seat] == [490.0]
    assert book.annual_seat[0].by_amount == (seat_months == 0)
    assert month_ends(result, "2017-01-31 23:59:59", "z") == {"2017-01": 40.83 if seat_months == 0 else 490.0}
    assert month_ends(result, "2017-01-31 23:59:59", "w") == {"2017-01": 490.0}


def test_amounts_pair_smallest_first():
    """No seat counts, a first month: 36 (6 customers) and 360 (4) are better supported than 18 (4) and 180 (3), but
    an amount is never a fraction of a seat: 18 and 180 are a seat's month and year, 36 and 360 two seats'."""
    rows = [(f"a{i}", f"2017-01-{3 + i:02d} 11:00", 36.0) for i in range(6)]
    rows += [(f"b{i}", f"2017-01-{3 + i:02d} 12:00", 360.0) for i in range(4)]
    rows += [(f"c{i}", f"2017-01-{3 + i:02d} 13:00", 18.0) for i in range(4)]
    rows += [(f"d{i}", f"2017-01-{3 + i:02d} 14:00", 180.0) for i in range(3)]
    result = read(charges(*rows), as_of="2017-01-31 23:59:59")
    assert [p.amount for p in result.price_book.annual_seat] == [180.0]
    assert month_ends(result, "2017-01-31 23:59:59", "d0") == {"2017-01": 15.0}
