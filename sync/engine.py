"""Where the per-customer work of a payment-log run runs: here (local), or on a Dask cluster (dask).

Both run the same pure functions of kpi.partition, and give the same tables cell for cell:

- local: the whole log is one partition (`kpi.partition.run_partition`, its price book learned from itself);
- dask: each input file is read by a Dask task (the same validating reader; a glob gives one task per file, a URL
  is read through fsspec on the worker); the charges and customers are split by a hash of the customer id into
  `partitions` and scattered to the workers; each partition computes its extent, then its first reading and its
  price-book evidence (kept on its worker); the driver learns the one price book and the key fit of the whole log
  from them and hands both to every partition, which finishes its reading and its per-customer frames; the driver
  combines them (kpi.partition.combine) and computes the tables from them as the local engine does.

The driver holds the validated charges (about 40 bytes a charge) and the per-customer frames; the inference and
the per-customer frames, the bulk of the work, run on the workers. docs/scale.md says how to run on a cluster.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import pandas as pd

from kpi.params import Params
from kpi.partition import (
    PerCustomer,
    combine,
    complete,
    evidence,
    extent,
    partition_of,
    run_partition,
    shared_book,
    shared_keys,
    start,
)
from sync.errors import ConfigError
from sync.logs import get_logger
from sync.settings import EngineSection

log = get_logger("engine")

T = TypeVar("T")
R = TypeVar("R")


class LocalEngine:
    """Everything in this process: the whole log is one partition."""

    name = "local"

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]

    def per_customer(self, charges: pd.DataFrame, customers: pd.DataFrame, params: Params,
                     as_of: pd.Timestamp) -> PerCustomer:
        return run_partition(charges, customers, params, as_of)


LOCAL = LocalEngine()


class DaskEngine:
    """The per-customer work on dask.distributed, one task per customer partition."""

    name = "dask"

    def __init__(self, client: Any, partitions: int):
        self.client = client
        self.partitions = partitions

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """fn over items, one task each on the workers (results in order; a task's exception is raised here)."""
        if len(items) <= 1:  # one file: no task to spread (read here, as the local engine does)
            return [fn(item) for item in items]
        return list(self.client.gather(self.client.map(fn, list(items), pure=False)))

    def per_customer(self, charges: pd.DataFrame, customers: pd.DataFrame, params: Params,
                     as_of: pd.Timestamp) -> PerCustomer:
        client, n = self.client, self.partitions
        began = time.perf_counter()
        by_charge = partition_of(charges["customer_id"], n)
        by_customer = partition_of(customers["customer_id"], n)
        parts = [(_own_ids(charges.loc[by_charge == i]), customers.loc[by_customer == i]) for i in range(n)]
        charge_futures = client.scatter([c for c, _ in parts], hash=False)
        customer_futures = client.scatter([c for _, c in parts], hash=False)
        del parts
        extents = client.gather(client.map(extent, charge_futures, as_of=as_of, pure=False))
        keys = shared_keys(extents, params)
        started = client.map(start, charge_futures, customer_futures, params=params, as_of=as_of, keys=keys,
                             pure=False)
        book = shared_book(client.gather(client.map(evidence, started, pure=False)), params)
        done = client.gather(client.map(complete, started, params=params, as_of=as_of, book=book, pure=False))
        for futures in (started, charge_futures, customer_futures):
            client.cancel(futures)
        combined = combine(done)
        log.info("dask: %d charges in %d customer partitions on %d workers in %.1fs", len(charges), n,
                 len(client.nthreads()), time.perf_counter() - began)
        return combined


def default_partitions(engine: EngineSection, threads: int) -> int:
    """engine.partitions, or two per worker thread (at least 2): a slow partition then holds up half a thread."""
    return engine.partitions or max(2, 2 * threads)


Engine = LocalEngine | DaskEngine


@contextlib.contextmanager
def open_engine(engine: EngineSection) -> Iterator[Engine]:
    """The engine of the settings, for one run: a Dask client (and the local cluster it started) is closed after."""
    if engine.name == "local":
        yield LOCAL
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("the dask engine needs dask.distributed: pip install 'kpi-sync[dask]'") from None
    with contextlib.ExitStack() as stack:
        chatty = logging.getLogger("distributed")  # its INFO lines (scheduler started, workers joined...) are noise
        level = chatty.level
        chatty.setLevel(max(level, logging.WARNING))
        stack.callback(chatty.setLevel, level)
        if engine.scheduler:
            try:
                client = stack.enter_context(Client(engine.scheduler, timeout="20s"))
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"engine.scheduler {engine.scheduler}: no Dask scheduler answers ({exc})") from None
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=engine.workers, threads_per_worker=engine.threads_per_worker, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR,
            ))
            client = stack.enter_context(Client(cluster))
        threads = sum(client.nthreads().values()) or 1
        yield DaskEngine(client, default_partitions(engine, threads))


def _own_ids(charges: pd.DataFrame) -> pd.DataFrame:
    """A partition's charges with only its own customers among the ids' categories (kpi.schedule.coded_ids): the
    categories of the whole log, sent to every worker, would grow with partitions x customers."""
    ids = charges["customer_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return charges.assign(customer_id=ids.cat.remove_unused_categories())
    return charges
