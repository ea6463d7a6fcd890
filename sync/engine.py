"""Where the per-customer work of a payment-log run runs: here (local), or on a Dask cluster (dask).

Both run the same pure functions of kpi.partition, and give the same tables cell for cell:

- local: the log's customers in slices of about `slice_charges` charges (`kpi.partition.customer_slices`), read one
  after the other with the key fit and the price book of the whole log (`kpi.partition.run_slices`);
- dask: each input file is read by a Dask task (the same validating reader; a glob gives one task per file, a URL
  is read through fsspec on the worker); the charges and customers are cut into `partitions` ranges of the sorted
  customer ids, about even in charges (`customer_slices`), and scattered to the workers; each partition computes its extent, then its first reading and its
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
    customer_slices,
    evidence,
    extent,
    run_slices,
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
    """Everything in this process: the log read in slices of its customers (`kpi.partition.customer_slices`, about
    `slice_charges` charges each; 0: the whole log at once), one after the other, with one price book."""

    name = "local"

    def __init__(self, slice_charges: int = EngineSection.slice_charges):
        self.slice_charges = slice_charges

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]

    def per_customer(self, charges: pd.DataFrame, customers: pd.DataFrame, params: Params,
                     as_of: pd.Timestamp) -> PerCustomer:
        slices = customer_slices(charges, customers, self.slice_charges)
        if len(slices) > 1:
            log.info("local: %d charges in %d slices of their customers", len(charges), len(slices))
        return run_slices(slices, params, as_of)



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
        slices = customer_slices(charges, customers, -(-len(charges) // n))
        parts = [(_own_ids(c), cu) for c, cu in slices]
        count = len(parts)
        del slices
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
        log.info("dask: %d charges in %d customer partitions on %d workers in %.1fs", len(charges), count,
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
        yield LocalEngine(engine.slice_charges)
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
