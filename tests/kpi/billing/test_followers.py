"""What later charges say of a single charge (kpi.billing.followers), each function on a small log of its own.

Each test builds the log the way kpi.billing.terms hands it over (every charge, sorted by customer and time, `hi` the
end of each one's year among them) and calls one function, with the book of the shared log's prices (18 a seat a
month, 180 a year) stated, so that what each rule finds does not depend on the other steps of the inference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.billing.followers import (
    annual_prorations,
    monthly_prorations,
    own_price_prorations,
    year_share_seats,
    yearly_renewals,
)
from kpi.billing.log import Log, prepare
from kpi.billing.pricebook import configured_book
from kpi.billing.timeline import add_months
from kpi.params import BillingRules, PriceList
from tests.kpi.billing.logs import charges

BOOK = configured_book(PriceList(monthly_seat=(18.0,), annual_seat=(180.0,)))
START = "2017-03-02 15:41"


def _log(*rows: tuple[str, str, float]) -> tuple[Log, np.ndarray, np.ndarray]:
    """The log of `rows` (one customer or more), every charge in order (`u`), and the end of each one's year (`hi`)."""
    log = prepare(charges(*rows), BillingRules(), None)
    u = np.arange(len(log))
    hi = np.searchsorted(log.key[u], log.keys(log.cust[u], add_months(log.t[u], 12)), side="left")
    return log, u, hi


def _year_share(at: str, price: float, k: int = 1, start: str = START) -> float:
    """k seats x price x the share left, at `at`, of the year that started at `start` (to the cent)."""
    t0, t = pd.Timestamp(start), pd.Timestamp(at)
    end = t0 + pd.DateOffset(years=1)
    return round(k * price * (end - t) / (end - t0), 2)


def test_own_price_prorations_find_a_year_at_a_seat_price_the_book_has_not_learned():
    """510.40 = 2 x 255.20, then 211.54 = 1 x 255.20 x the year's share two months later (item 71); 957 = 3 x 319,
    then 318.99 = 1 x 319 x the year's share twelve minutes later, where the month's would be 318.91 (item 73)."""
    later = _year_share("2017-05-04 02:19", 255.20)
    log, u, hi = _log(("c", START, 510.40), ("c", "2017-05-04 02:19", later))
    charge, seats, price = own_price_prorations(log, u, hi, BOOK, np.ones(len(u), dtype=bool))
    assert (charge[0], seats[0], price[0]) == (1, 1, 255.20)
    within = _year_share("2017-03-02 15:53", 319.0)
    assert within == 318.99
    log, u, hi = _log(("c", START, 957.0), ("c", "2017-03-02 15:53", within))
    charge, seats, price = own_price_prorations(log, u, hi, BOOK, np.ones(len(u), dtype=bool))
    assert (charge[0], seats[0], price[0]) == (1, 1, 319.0)
    assert charge[1] == -1  # the follower is no anchor of its own here: nothing follows it


def test_own_price_prorations_within_the_month_take_no_follower_a_months_share_reads():
    """Within the month, a follower that a month's share also reads to the cent says nothing: 8 x 18 x the month's
    share after 720 = 40 x 18 (also 1 x 120 x the year's share: a review's case), the seat price again minutes later,
    and a follower the anchor's own seat price reads at a month's share."""
    cases = [(720.0, "2017-03-08 05:08", 118.17), (510.40, "2017-03-02 15:47", 255.20),
             (510.40, "2017-03-18 20:11", 243.88)]
    for anchor, at, follower in cases:
        log, u, hi = _log(("c", START, anchor), ("c", at, follower))
        charge, _, _ = own_price_prorations(log, u, hi, BOOK, np.ones(len(u), dtype=bool))
        assert charge[0] == -1, (anchor, at, follower)
    # the todo mask is honoured: a charge not asked about gets nothing
    log, u, hi = _log(("c", START, 957.0), ("c", "2017-03-02 15:53", 318.99))
    charge, _, _ = own_price_prorations(log, u, hi, BOOK, np.zeros(len(u), dtype=bool))
    assert list(charge) == [-1, -1]


def test_annual_prorations_read_seats_added_at_the_books_annual_price():
    """720 = 4 x 180 then, a day later, 1 x 180 x the year's share (38232 on the shared log: 179.59 the day after);
    a seat bought again at the month's price (18, a minute later) is a month's share, not a year's."""
    added = _year_share("2017-03-03 10:00", 180.0)
    log, u, hi = _log(("c", START, 720.0), ("c", "2017-03-03 10:00", added))
    charge, seats, price = annual_prorations(log, u, hi, BOOK)
    assert (charge[0], seats[0], price[0]) == (1, 1, 180.0)
    log, u, hi = _log(("c", START, 720.0), ("c", "2017-03-02 15:42", 18.0))
    charge, _, _ = annual_prorations(log, u, hi, BOOK)
    assert charge[0] == -1


def test_monthly_prorations_read_a_seat_added_at_the_months_share():
    """144 read as a year by the book, then 17.99 23 minutes later: 1 x 18 x the share of its month left, and no
    annual seat price x the share of its year left: the 144 was a month (8 seats)."""
    log, u, hi = _log(("c", START, 144.0), ("c", "2017-03-02 16:04", 17.99))
    charge, seats, price = monthly_prorations(log, u, hi, BOOK)
    assert (charge[0], seats[0], price[0]) == (1, 1, 18.0)


def test_year_share_seats_need_the_years_share_to_show_in_the_cents():
    """649 then 648.99 five minutes later (649 x the year's share; a month's would be 648.93): a year from the start.
    18 bought again an hour later is 18 x the year's share to the cent too, and shows nothing (item 62)."""
    log, _, _ = _log(("c", START, 649.0), ("c", "2017-03-02 15:46", 648.99))
    every = np.ones(len(log), dtype=bool)
    out, follower, seats = year_share_seats(log, every, every)
    assert list(out) == [True, False] and follower[0] == 1 and seats[0] == 1
    log, _, _ = _log(("c", START, 18.0), ("c", "2017-03-02 16:41", 18.0))
    every = np.ones(len(log), dtype=bool)
    out, _, _ = year_share_seats(log, every, every)
    assert not out.any()


def test_yearly_renewals_pair_a_single_charge_with_the_one_twelve_months_later():
    """540 on 2016-02-08 14:57 and 1440 on 2017-02-08 14:57 (542135, generated seat10 seed 5): a year renewed at a new
    price. Another customer's charge at that instant, or one 3 hours off the slot, renews nothing."""
    log, _, _ = _log(("a", "2016-02-08 14:57", 540.0), ("a", "2017-02-08 14:57", 1440.0),
                     ("b", "2016-02-08 14:57", 540.0), ("b", "2017-02-08 17:57", 540.0),
                     ("c", "2017-02-08 14:57", 540.0))
    yearly, renews = yearly_renewals(log, np.ones(len(log), dtype=bool))
    first, second = np.flatnonzero(yearly >= 0), np.flatnonzero(renews >= 0)
    assert len(first) == len(second) == 1
    assert yearly[first[0]] == second[0] and renews[second[0]] == first[0]
    assert (log.amount[first[0]], log.amount[second[0]]) == (540.0, 1440.0)
