"""Recipe: the per-partition function of kpi.partition under Spark (docs/scale.md). Not an engine of the CLI.

Tested by tests/sync/test_spark_recipe.py when pyspark is installed (it is in no extra of this package: `pip
install pyspark`, with Java 17). The same three rounds as the dask engine, each a
`groupBy(bucket).cogroup(...).applyInPandas(...)`, where bucket is a hash of the customer id (with `buckets` equal
to the number of customers it would be `groupBy(customer_id)`: the same frames, far more Python calls):

1. each bucket's extent (first and last charge, count) -> the driver fits the keys of the whole log;
2. each bucket's price-book evidence (with those keys) -> the driver learns the one price book;
3. each bucket's per-customer frames (with the keys and the book) -> the driver combines them.

Each round's result is one row per bucket holding the pickled result (Spark schemas cannot hold a PriceBook or
five frames; these are small next to the log). Spark does not keep a group's rows in order: each bucket sorts its
charges by `row` (their position in the log) first, so sums of floats add in the log's order, as in one process.
Spark timestamps are microseconds: charges at a finer instant would be rounded (payment logs give seconds).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from kpi.params import Params
from kpi.partition import (
    PerCustomer,
    combine,
    complete,
    evidence,
    extent,
    shared_book,
    shared_keys,
    start,
)

RESULT_SCHEMA = "bucket long, blob binary"


def spark_frames(spark: Any, charges: pd.DataFrame, customers: pd.DataFrame, params: Params,
                 buckets: int) -> tuple[Any, Any]:
    """The charges and customers as Spark DataFrames with a `bucket` column (a real job reads them from its
    warehouse instead: charges customer_id, paid_at, amount, row; customers customer_id and the seats column)."""
    from pyspark.sql import functions as F

    seats = params.segments.seats_column
    ch = charges.loc[:, ["customer_id", "paid_at", "amount"]].assign(row=np.arange(len(charges), dtype=np.int64))
    ch["customer_id"] = ch["customer_id"].astype(str)
    cu = customers.loc[:, ["customer_id", *([seats] if seats in customers.columns else [])]].copy()
    cu["customer_id"] = cu["customer_id"].astype(str)
    if seats in cu.columns:
        cu[seats] = pd.to_numeric(cu[seats], errors="coerce").astype("float64")
    bucket = F.pmod(F.hash("customer_id"), F.lit(buckets)).cast("long")
    return (spark.createDataFrame(ch).withColumn("bucket", bucket),
            spark.createDataFrame(cu).withColumn("bucket", bucket))


def _in_order(charges: pd.DataFrame, customers: pd.DataFrame, seats: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A bucket's rows as kpi.partition reads them: charges in the log's order, paid_at in UTC."""
    charges = charges.sort_values("row", kind="stable").reset_index(drop=True)
    paid = pd.to_datetime(charges["paid_at"])
    charges = charges.assign(paid_at=paid.dt.tz_localize("UTC") if paid.dt.tz is None else paid.dt.tz_convert("UTC"))
    if customers.empty:  # a bucket with charges of customers missing from the customers file only
        customers = pd.DataFrame({"customer_id": pd.Series(dtype="object")})
    return charges.loc[:, ["customer_id", "paid_at", "amount"]], customers.drop(columns="bucket", errors="ignore")


def _round(charges_sdf: Any, customers_sdf: Any, step: Callable[[pd.DataFrame, pd.DataFrame], Any]) -> list[Any]:
    """`step` on every bucket (its charges and customers), through cogroup + applyInPandas; the results in any
    order."""
    def apply(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
        if left.empty:
            return pd.DataFrame({"bucket": pd.Series(dtype="int64"), "blob": pd.Series(dtype="object")})
        return pd.DataFrame({"bucket": [int(left["bucket"].iloc[0])], "blob": [pickle.dumps(step(left, right))]})

    grouped = charges_sdf.groupBy("bucket").cogroup(customers_sdf.groupBy("bucket"))
    return [pickle.loads(row["blob"]) for row in grouped.applyInPandas(apply, schema=RESULT_SCHEMA).collect()]


def spark_per_customer(charges_sdf: Any, customers_sdf: Any, params: Params, as_of: pd.Timestamp) -> PerCustomer:
    """kpi.partition on Spark: the per-customer frames of the whole log, exactly as one process computes them."""
    seats = params.segments.seats_column

    def extent_of(ch: pd.DataFrame, cu: pd.DataFrame) -> Any:
        return extent(_in_order(ch, cu, seats)[0], as_of)

    keys = shared_keys(_round(charges_sdf, customers_sdf, extent_of), params)

    def evidence_of(ch: pd.DataFrame, cu: pd.DataFrame) -> Any:
        return evidence(start(*_in_order(ch, cu, seats), params, as_of, keys))

    book = shared_book(_round(charges_sdf, customers_sdf, evidence_of), params)

    def frames_of(ch: pd.DataFrame, cu: pd.DataFrame) -> PerCustomer:
        return complete(start(*_in_order(ch, cu, seats), params, as_of, keys), params, as_of, book)

    return combine(_round(charges_sdf, customers_sdf, frames_of))
