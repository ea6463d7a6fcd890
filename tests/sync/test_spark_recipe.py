"""The Spark recipe (sync/spark.py, docs/scale.md) gives exactly the per-customer frames of one process.

Runs only where pyspark and Java are installed (pyspark is in no extra: CI skips this); a local Spark session takes
a minute to start on a busy machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpi.partition import run_partition
from sync.run import load_dataset, resolve_as_of
from sync.samples.payments import write_sample
from sync.settings import Settings, load_settings

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark; it needs Java 17)")
if shutil.which("java") is None:
    pytest.skip("no java on PATH for pyspark", allow_module_level=True)

from sync.spark import spark_frames, spark_per_customer  # noqa: E402

STARTED = pd.Timestamp("2026-01-15 12:00", tz="UTC")
SHARED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "shared-payments-log.toml"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("kpi-sync-test")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    yield session
    session.stop()


def _same(settings: Settings, spark, buckets: int) -> None:
    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    want = run_partition(loaded.charges, loaded.customers, settings.params, as_of)
    charges, customers = spark_frames(spark, loaded.charges, loaded.customers, settings.params, buckets)
    got = spark_per_customer(charges, customers, settings.params, as_of)
    for name in ("schedule", "billing", "customer_months", "ref_months"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True, obj=name)
    pd.testing.assert_series_equal(got.paid, want.paid, check_exact=True)
    assert got.price_book == want.price_book and len(want.schedule)


def test_spark_recipe_gives_the_frames_of_one_process(tmp_path: Path, spark) -> None:
    write_sample(tmp_path, customers=300, seed=5)
    (tmp_path / "config.toml").write_text('timezone = "UTC"\n[sources]\ninvoices = "invoices.json"\n'
                                          'customers = "customers.json"\n', encoding="utf-8")
    _same(load_settings(tmp_path / "config.toml", {}), spark, 5)


def test_spark_recipe_on_the_shared_log(spark) -> None:
    if not (SHARED_CONFIG.parents[2] / "shared" / "data" / "payments-log" / "invoices_per_customer.json").is_file():
        pytest.skip("the shared payment log is absent")
    _same(load_settings(SHARED_CONFIG, {}), spark, 4)
