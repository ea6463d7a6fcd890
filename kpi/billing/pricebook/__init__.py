"""Step 4: the price book (metrics.md 2b "Price book"): the company's list prices, and what they say of a charge.

A fixed amount threshold cannot tell a one-seat annual plan (180) from a month of a ten-seat plan (10 x 18), so
before single charges are classified the job learns the list prices from the log's own unambiguous evidence, or
takes them from `[billing] price_book`. One module per step, in the order a run takes them:

1. `evidence`: what a book is learned from, gathered in a first reading of the log by the amount rules alone
   (`price_evidence`; a run partitioned by customer concatenates every partition's and learns one book).
2. `learning`: the book learned from that evidence (`book_from_evidence`, whose body takes the learning steps in
   order), the configured one (`book.configured_book`), or OFF. Its steps use
   - `groups`: values within TOLERANCE of each other are one price when MIN_CUSTOMERS customers support it;
   - `pairs`: a seat's month and year paired among single charges, before any monthly series renews (a log's first
     month) and, without seat counts, until a single charge is a year old;
   - `lapses`: until a single charge is a year old (a flat plan's year at any age; tier multiples until the year-old
     ones are enough), what did not renew a month later (a year lapses after its first month; a month of several
     seats rarely does);
   - `renewals`: once single charges are a year old, what renewed a year later.
3. `reading`: what the book says of each charge (`read_amounts`: a month of seats, a year of seats, an annual price
   point, or the likelier of two readings), which kpi.billing.terms turns into terms and kpi.billing.reasons cites.

`book` holds the PriceBook itself (what About shows: `PriceBook.rows`), its verdict codes and the tolerances every step
shares.
"""

from kpi.billing.pricebook.book import (
    AMOUNT_TOLERANCE,
    ANNUAL_BESIDE,
    ANNUAL_CODES,
    ANNUAL_LIKELY,
    ANNUAL_POINT,
    ANNUAL_SEATS,
    ANNUAL_UNLISTED,
    ANNUAL_UNPRICED,
    ANNUAL_WITH,
    MIN_CUSTOMERS,
    MIN_SHARE,
    MONTHLY_CODES,
    MONTHLY_LIKELY,
    MONTHLY_RESUMED,
    MONTHLY_SEATS,
    NO_SEAT_COUNT,
    NONE,
    OFF,
    TOLERANCE,
    PriceBook,
    Verdict,
    configured_book,
    months_a_year,
    year_ratio,
)
from kpi.billing.pricebook.evidence import PriceEvidence, price_evidence
from kpi.billing.pricebook.learning import book_from_evidence, learn_price_book
from kpi.billing.pricebook.reading import DISTINCT_FROM, read_amounts, year_of_unlisted

__all__ = ["AMOUNT_TOLERANCE", "ANNUAL_BESIDE", "ANNUAL_CODES", "ANNUAL_LIKELY", "ANNUAL_POINT",
           "ANNUAL_SEATS", "ANNUAL_UNLISTED", "ANNUAL_UNPRICED", "ANNUAL_WITH", "DISTINCT_FROM",
           "MIN_CUSTOMERS", "MIN_SHARE", "MONTHLY_CODES", "MONTHLY_LIKELY", "MONTHLY_RESUMED",
           "MONTHLY_SEATS", "NONE", "NO_SEAT_COUNT", "OFF", "TOLERANCE", "PriceBook", "PriceEvidence",
           "Verdict", "book_from_evidence", "configured_book", "learn_price_book", "months_a_year",
           "price_evidence", "read_amounts", "year_of_unlisted", "year_ratio"]
