"""Where the per-customer work of a payment-log run runs: here (local), or on a Dask cluster (dask).

Both run the same pure functions of kpi.partition, and give the same tables cell for cell:

- local: the log's customers in slices of about `slice_charges` charges (`kpi.partition.Slices`), read one
  after the other with the key fit and the price book of the whole log (`kpi.partition.run_slices`); with
  `processes` > 1 (or "auto" on a log of millions of charges: 2), by that many processes of this machine (`_in_processes`: each reads its share of the slices, the
  price book is learned here from all their evidence and handed back, and their frames come back to be combined);
- dask: the files of a glob (or several URLs) are read by a Dask task each (the same validating reader; a URL is read
  through fsspec on the worker; a single file is read here, as the local engine reads it); the charges and customers are cut into `partitions` ranges of the sorted
  customer ids, about even in charges (`Slices`), and scattered to the workers; each partition computes its extent, then its first reading and its
  price-book evidence (kept on its worker); the driver learns the one price book and the key fit of the whole log
  from them and hands both to every partition, which finishes its reading and its per-customer frames; the driver
  combines them (kpi.partition.combine) and computes the tables from them as the local engine does.

The driver holds the validated charges (about 40 bytes a charge) and the per-customer frames; the inference and
the per-customer frames, the bulk of the work, run on the workers. docs/scale.md says how to run on a cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import dataclasses
import importlib
import logging
import multiprocessing
import multiprocessing.util  # its exit hook registered before `_kill_slice_processes` (atexit: last in, first out)
import os
import pickle
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from kpi.billing.pricebook import PriceEvidence
from kpi.params import Params
from kpi.partition import (
    PerCustomer,
    Slices,
    Started,
    combine,
    complete,
    evidence,
    extent,
    run_slices,
    shared_book,
    shared_keys,
    start,
    without_text,
)
from sync.errors import ConfigError, SyncError
from sync.logs import get_logger
from sync.settings import AUTO_PROCESSES_FROM, EngineSection

log = get_logger("engine")

T = TypeVar("T")
R = TypeVar("R")


class LocalEngine:
    """This machine: the log read in slices of its customers (`kpi.partition.Slices`, about `slice_charges`
    charges each; 0: the whole log at once) with one price book, in this process or in `processes` of them (0: one
    per CPU; "auto": `auto_processes`; never more than there are slices)."""

    name = "local"

    def __init__(self, slice_charges: int = EngineSection.slice_charges,
                 processes: int | str = EngineSection.processes):
        if processes != "auto" and (isinstance(processes, bool) or not isinstance(processes, int) or processes < 0):
            raise ValueError(f"processes = {processes!r}: expected a whole number, 0 or more, or 'auto'")
        self.slice_charges = slice_charges
        self.processes = processes

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]

    def per_customer(self, charges: pd.DataFrame, customers: pd.DataFrame, params: Params,
                     as_of: pd.Timestamp) -> PerCustomer:
        slices = Slices(charges, customers, self.slice_charges)
        wanted = auto_processes(len(charges), cpus()) if isinstance(self.processes, str) else self.processes or cpus()
        processes = min(wanted, len(slices))
        if len(slices) > 1:
            log.info("local: %d charges in %d slices of their customers, %d process%s", len(charges), len(slices),
                     processes, "" if processes == 1 else "es")
        if processes > 1:
            done = _in_processes(slices, params, as_of, processes)
        else:
            done = run_slices(slices, params, as_of)
        give_back_memory()
        return done


def auto_processes(charges: int, cpus: int) -> int:
    """`processes = "auto"`: 2 for a log of AUTO_PROCESSES_FROM charges or more on a machine of 2+ CPUs, else 1.
    Measured on 2 cores (benchmarks/results.md, stop 34; paired runs): at 3,001,983 charges 33.0 -> 29.8 s with all
    processes together at about the memory of one (2,362 MiB against 2,430); at 10M 122 -> 108 s, 6,643 against 6,971 MiB (the slice
    processes end before the main process's own peak, in the tables and the sink). At 1M 2 processes are faster too
    but hold 1,636 MiB together against 958 in one, past the 1.5 GB a million charges may take; more than 2 was not
    measured, so "auto" takes 2 at most (`processes = 0` takes one per CPU)."""
    return 2 if charges >= AUTO_PROCESSES_FROM and cpus >= 2 else 1


def give_back_memory() -> None:
    """Hand the heap's free pages back to the system (glibc's malloc_trim; nothing elsewhere). The slices' readings
    leave gigabytes free but mapped at 10M charges (5.8 GB resident after the per-customer work, 3.7 GB once
    trimmed), which the tables and the sink would otherwise stack their own memory on. A tenth of a second."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
# Where `freed_memory_reused` leaves glibc: the ceiling of its own dynamic tuning, reached once a program has freed a
# mapped block of 32 MiB (it maps blocks above the threshold and trims the heap's top past twice it). Setting any of
# these turns that tuning off for good: its start-up trim threshold (128 KiB) would then trim every block freed at
# the heap's top, to be faulted in again, for the rest of the process (a worker's next runs). The cost: a process
# whose own tuning would have stayed lower keeps up to 64 MiB of free heap top resident. (32-bit glibc refuses a
# 32 MiB threshold; its own stays.)
_SETTLED = ((_M_MMAP_MAX, 65536), (_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 64 << 20))
_reusing = 0  # `freed_memory_reused` blocks in progress (nested blocks; runs in two threads)
_reusing_lock = threading.Lock()


@contextlib.contextmanager
def freed_memory_reused() -> Iterator[None]:
    """Meanwhile, memory this process frees is kept for its next arrays instead of handed back to the system; after,
    its free pages are handed back (`give_back_memory`) and glibc left as its own tuning leaves a program that has
    freed big blocks (`_SETTLED`). glibc only (mallopt); when malloc was tuned for this process (`_malloc_tuned`),
    which mallopt cannot read back, its tuning is left as set and only the free pages are handed back after.

    glibc serves a block above its mmap threshold (32 MiB at most) from a fresh mapping and unmaps it once freed, so
    each of the month tables' big temporary arrays (15.7M rows at 10M charges: 125 MB each) is new memory the kernel
    must fault in and zero. Served from the heap instead (no mapping for any size, no trim when one is freed), the
    next array reuses the pages the last one left. Measured on this job (benchmarks/results.md, stop 37): the 10M
    bench's invariants and tabs 40-42 -> 29-30 s, their page faults 200,000 -> 30,000; the whole job 0.94 of the
    time at 10M charges, within noise at 1M (its arrays, ~12 MB, are probably below the threshold glibc had raised
    itself to; not measured). Around the reading too (sync.run.load_dataset, stop 39): the 10M load alone
    16.5 -> 9.9 s (system time 7-8 -> 1 s), the whole job 0.951 of the time (n = 3), its peak 6,012 -> 6,148 MiB.
    Not around the slice processes, nor the main process's receiving and combining of their frames: the combine
    alone took half the time (10 -> 5 s), but the invariants and tabs after it took 2-4 s more (their system time
    doubled), and the whole job gained less than its noise (0.982, n = 3). With the Dask engine and several input
    files, the frames its workers read are received inside the block: not measured.

    In a thread other than the main one (the worker's runs), glibc's heaps for that thread hold up to 64 MiB each and
    one that becomes wholly free is unmapped: bigger arrays are still mapped afresh, and so are smaller ones that
    fill a heap together (a review measured three 40 MiB arrays at once, ten times: 122,910 faults in a thread,
    30,583 in the main one). A worker gains less, on small arrays only."""
    global _reusing, _huge_before
    if _LIBC is None or not hasattr(_LIBC, "mallopt") or _malloc_tuned():
        try:
            yield
        finally:  # handed back all the same (a load's parse leaves gigabytes free)
            give_back_memory()
        return
    with _reusing_lock:
        if _reusing == 0:
            _LIBC.mallopt(_M_MMAP_MAX, 0)
            _LIBC.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
            # numpy's huge-page advice off, unless the operator chose it (numpy reads NUMPY_MADVISE_HUGEPAGE at import)
            _huge_before = None if "NUMPY_MADVISE_HUGEPAGE" in os.environ else _numpy_huge_pages(False)
        _reusing += 1
    try:
        yield
    finally:
        with _reusing_lock:
            _reusing -= 1
            if _reusing == 0:
                for param, value in _SETTLED:
                    _LIBC.mallopt(param, value)
                if _huge_before is not None:  # set off on entering: back as it was, whatever the environment says now
                    _numpy_huge_pages(_huge_before)
                    _huge_before = None
                give_back_memory()


_huge_before: bool | None = None  # numpy's huge-page advice before the outermost block (None: left alone)


def _numpy_huge_pages(enabled: bool) -> bool | None:
    """Set whether numpy advises the kernel to back its big arrays with huge pages (madvise MADV_HUGEPAGE, for arrays
    of 4 MiB or more on Linux) and return the setting it replaced; None where numpy has no such switch.
    `freed_memory_reused` sets it off on entering (unless NUMPY_MADVISE_HUGEPAGE is set: the operator chose) and, when
    it did, back on leaving, whatever the environment says by then.

    Inside the block the arrays come from heap pages already faulted in, and advising each one again costs system
    time instead of saving it. Measured in the main thread (benchmarks/results.md, stop 38): twenty rounds of four
    fresh 125 MB arrays with glibc reusing freed memory took 2.8 s (1.2 s system) with the advice, 2.0 s (0.1 s)
    without; the 10M bench's invariants and tabs on its pickled context 28.0 / 28.4 s (system 8.1 / 7.9) with it,
    25.2 / 27.4 s (5.6 / 6.6) without. Off the block, a fresh mapping faults in 2 MiB at a time with the advice (the
    same rounds without reuse: 51,513 faults against 2,453,213), so it is given back: stops 19 and 36 found it off
    for the whole job worse or no better. The switch is numpy's, for the whole process: while a worker's run is
    inside the block in its thread, the main thread's arrays are not advised either (it only waits for the next
    run meanwhile); off the main thread the gain was not measured."""
    switch = _huge_page_switch()
    return bool(switch(enabled)) if switch is not None else None


def _huge_page_switch() -> Callable[[bool], bool] | None:
    """numpy's `_set_madvise_hugepage` (numpy._core in numpy 2, numpy.core before), None where it has none."""
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            switch = getattr(importlib.import_module(module), "_set_madvise_hugepage", None)
        except ImportError:
            continue
        if switch is not None:
            return cast(Callable[[bool], bool], switch)
    return None


_TUNED = ("mmap_max", "mmap_threshold", "trim_threshold", "top_pad")  # what `freed_memory_reused` would set over


def _malloc_tuned(environ: Mapping[str, str] = os.environ) -> bool:
    """True when glibc's malloc was tuned for this process in what `freed_memory_reused` sets (MALLOC_MMAP_MAX_ and
    the like, or the same glibc.malloc tunables in GLIBC_TUNABLES): an operator's choice, left alone."""
    tunables = environ.get("GLIBC_TUNABLES", "")
    return any(f"MALLOC_{name.upper()}_" in environ or f"glibc.malloc.{name}=" in tunables for name in _TUNED)


def _glibc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        if hasattr(libc, "mallopt"):
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]  # C ints (ctypes cuts a bigger value short)
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # no C library by that name (not Linux)
        return None


_LIBC = _glibc()


def cpus() -> int:
    """The CPUs this process may use: its affinity (a cpuset), else the machine's, and no more than a CPU quota of its
    cgroup allows (Docker's --cpus, a Kubernetes CPU limit: these leave the affinity at every CPU of the host)."""
    try:
        cpus = len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    quota = _cpu_quota()
    return max(1, min(cpus, int(quota))) if quota else cpus


def _cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """The CPUs a CPU quota of the cgroup mounted at `root` allows (quota / period: a container's own cgroup, as Docker
    and Kubernetes mount it), None when none is set or none can be read: cgroup v2's cpu.max ("max 100000", or
    "150000 100000" for 1.5 CPUs), else v1's cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us, under cpu/ or
    cpu,cpuacct/. A quota set on a parent cgroup, or a systemd CPUQuota= seen from the host, is not read."""
    try:
        with open(os.path.join(root, "cpu.max"), encoding="ascii") as fh:
            quota, period = fh.read().split()[:2]
        return None if quota == "max" else _share(float(quota), float(period))
    except (OSError, ValueError):
        pass
    for v1 in ("cpu", "cpu,cpuacct"):
        try:
            with open(os.path.join(root, v1, "cpu.cfs_quota_us"), encoding="ascii") as fh:
                quota_us = float(fh.read().strip())
            with open(os.path.join(root, v1, "cpu.cfs_period_us"), encoding="ascii") as fh:
                period_us = float(fh.read().strip())
            return _share(quota_us, period_us)
        except (OSError, ValueError):
            continue
    return None


def _share(quota: float, period: float) -> float | None:
    """quota / period, None unless both are positive (-1: no quota)."""
    return quota / period if quota > 0 and period > 0 else None


def _in_processes(slices: Slices, params: Params, as_of: pd.Timestamp, processes: int) -> PerCustomer:
    """`run_slices` with the slices shared among `processes` fresh processes (spawned: nothing of this one's threads
    or locks is inherited), slice i to process i % processes. The processes start first (their imports while this one
    works out the slices); then each slice is cut and sent as its process is ready for it, so the first slices are
    read while later ones are cut (`_hand_out`). Each process reads its slices (kept there) and sends their
    price-book evidence; the book is learned here from all of it, in slice order, as `run_slices` learns it, and sent
    to each; each then sends its slices' frames, which are combined here in slice order. The same frames as one
    process (tests/sync/test_engine.py). A process that fails makes the run fail with its error; one that dies (out of
    memory, killed) with its exit code, also while it is sent its slices; the others are stopped either way.

    The processes leave SIGTERM and Ctrl-C to this one (`_quiet_signals`): a platform stopping the worker signals its
    whole process group, and the worker lets a run finish (it never cuts off a publish) where a slice process killed
    by that signal would fail it. They end with this process all the same (`_end_with_parent`)."""
    keys = shared_keys([extent(slices.charges, as_of)], params)  # the whole log's extent: the union of the slices'
    context = multiprocessing.get_context("spawn")
    if os.name == "posix":  # started now, not by the first process.start(): it unblocks the signals `_signals_held` holds
        from multiprocessing import resource_tracker
        resource_tracker.ensure_running()
    workers: list[tuple[Any, Connection]] = []
    try:
        for w in range(processes):
            here, there = context.Pipe()
            process = context.Process(target=_slice_worker, name=f"kpi-sync slices {w + 1}/{processes}", daemon=True,
                                      args=(there, params, as_of, keys, _parent_pid()))
            workers.append((process, here))  # before it starts: a Ctrl-C during start() still stops it (finally)
            _LIVE.add(process)
            try:
                with _signals_held():  # born with them blocked: none arrives before the process ignores them
                    process.start()
            finally:
                there.close()
        _hand_out(slices, workers)
        count = len(slices)
        evidences: list[list[PriceEvidence]] = [_receive(process, conn) for process, conn in workers]
        book = shared_book([evidences[i % processes][i // processes] for i in range(count)], params)
        for process, conn in workers:
            _send(process, conn, book)
        done = [_unpacked(_receive(*workers[i % processes])) for i in range(count)]
        for process, _ in workers:
            process.join(timeout=30)
        return combine(done)
    finally:
        for process, conn in workers:
            conn.close()
            if process.is_alive():  # (SIGKILL: the processes ignore SIGTERM, and hold nothing to clean up)
                process.kill()
                process.join(timeout=5)
            _LIVE.discard(process)


def _hand_out(slices: Slices, workers: list[tuple[Any, Connection]]) -> None:
    """Slice i to process i % len(workers), then None to each (no more). A round of slices, one per process, is cut
    and pickled before any of it is sent: a process finishing its slice meanwhile finds the next one ready while
    this one waits for the other (a send waits until its process reads)."""
    processes = len(workers)
    for first in range(0, len(slices), processes):
        ready: list[Any] = [ForkingPickler.dumps(_own_slice(slices.slice(i)), protocol=5)
                            for i in range(first, min(first + processes, len(slices)))]
        for w, data in enumerate(ready):
            _send(*workers[w], data, pickled=True)
            ready[w] = data = None  # let each go once sent
    for process, conn in workers:
        _send(process, conn, None)


def _send(process: Any, conn: Connection, value: Any, pickled: bool = False) -> None:
    """Send to a slice process; one that ended meanwhile raises its error here, or the way it ended."""
    try:
        if pickled:
            conn.send_bytes(value)
        else:
            conn.send(value)
    except OSError:  # it ended: the error it sent first, else how it died
        _receive(process, conn)
        raise _died(process) from None


_LIVE: set[Any] = set()  # slice processes of runs in progress


def _kill_slice_processes() -> None:
    """At exit: SIGKILL the slice processes of a run still in progress (a worker stopped before its run's publish
    exits at once, leaving that run's thread). It runs before multiprocessing's own exit hook, which would send them
    SIGTERM, which they ignore, then wait for them to finish their whole share; that hook reaps them now (not this
    one: the run's thread may be waiting for the same process, and only one wait gets its exit code)."""
    for process in list(_LIVE):
        if process.is_alive():
            process.kill()


atexit.register(_kill_slice_processes)


def _parent_pid() -> int:
    """This process's id, which the slice processes check their parent against (`_end_with_parent`)."""
    return os.getpid()


def _own_slice(one: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A slice to send to a process: its own customers only among its ids' categories (`_own_ids`)."""
    charges, customers = one
    return _own_ids(charges), customers


_STOPS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked in this thread meanwhile (a process started now inherits the mask; a signal sent
    to this process meanwhile waits, or goes to another thread)."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _quiet_signals() -> None:
    """In a slice process: SIGINT and SIGTERM ignored (the parent decides when the run ends), and unblocked, which
    drops any that came while the process started."""
    for sig in _STOPS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


def _end_with_parent(parent: int) -> None:
    """In a slice process on Linux: SIGKILL when the thread that started it ends (prctl PR_SET_PDEATHSIG), so a
    parent killed past its grace leaves no process computing for nothing; a process whose parent is already gone
    ends now."""
    if sys.platform.startswith("linux") and _LIBC is not None and hasattr(_LIBC, "prctl"):
        _LIBC.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def _slice_worker(conn: Connection, params: Params, as_of: pd.Timestamp, keys: Any, parent: int) -> None:
    """In a process of `_in_processes`: read the slices as they come, send their evidence, receive the book, send
    their frames."""
    _quiet_signals()
    _end_with_parent(parent)
    try:
        started: list[Started | None] = []
        while (one := conn.recv()) is not None:
            charges, customers = one
            started.append(start(charges, customers, params, as_of, keys))
            del one, charges, customers
        conn.send(("ok", [evidence(s) for s in started if s is not None]))
        book = conn.recv()
        for i in range(len(started)):
            one, started[i] = started[i], None
            assert one is not None
            _send_out_of_band(conn, _packed(complete(one, params, as_of, book)))
            del one
    except _MidFrames:  # half a message sent: nothing more can be (the parent sees the exit, this stderr the cause)
        traceback.print_exc()
        os._exit(1)
    except BaseException as exc:  # to the parent, which raises it: a traceback printed here would be lost
        _stop_reading(conn)
        where = traceback.format_exc()[-20_000:]
        try:
            pickle.loads(pickle.dumps(exc))  # it must come back whole, or as text
            conn.send(("error", (exc, where)))
        except Exception:
            conn.send(("error", (RuntimeError(f"{type(exc).__name__}: {str(exc)[:20_000]}"), where)))
    finally:
        conn.close()


def _stop_reading(conn: Connection) -> None:
    """In a slice process that failed: nothing more read from the parent (POSIX: the socket's read side shut), so a
    parent blocked sending it a slice gets EPIPE at once and reads the error instead, however long: else both would
    wait for ever, each writing to the other (an error larger than the socket's buffer, 208 KiB on Linux)."""
    if os.name == "posix":
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as sock:
            sock.shutdown(socket.SHUT_RD)


# Text columns of a few distinct labels, sent as categories (codes and the labels once) and turned back into text:
# pickled and unpickled as text, `source` alone took a third of a slice's frames' time.
_LABELS = (("schedule", "source"), ("billing", "kind"), ("billing", "interval"))
Packed = tuple[PerCustomer, tuple[tuple[str, str, Any], ...]]


def _packed(frames: PerCustomer) -> Packed:
    """A slice's frames to send: without the text columns their codes rebuild (kpi.partition.without_text: sent
    without them, a 10M-charge log's frames pickle in a third of the time, and `combine` rebuilds them from the codes
    put end to end); the labels of `_LABELS` as categories, and the dtype each had."""
    labelled: list[tuple[str, str, Any]] = []
    frames = without_text(frames)
    changed: dict[str, pd.DataFrame] = {}
    for frame_name, column in _LABELS:
        frame = changed.get(frame_name, getattr(frames, frame_name))
        # (a missing label would come back NaN, whatever it was: such a column is sent as it is)
        if column in frame.columns and not isinstance(frame[column].dtype, pd.CategoricalDtype) \
                and not frame[column].isna().any():
            labelled.append((frame_name, column, frame[column].dtype))
            changed[frame_name] = frame.astype({column: "category"})
    return dataclasses.replace(frames, **changed), tuple(labelled)


def _unpacked(packed: Packed) -> PerCustomer:
    """`_packed`'s frames with their labels as the text they were; still without the coded text columns, which
    `combine` rebuilds for all slices at once (kpi.partition.with_text puts back one slice's)."""
    frames, labelled = packed
    changed: dict[str, pd.DataFrame] = {}
    for frame_name, column, dtype in labelled:
        changed[frame_name] = changed.get(frame_name, getattr(frames, frame_name)).astype({column: dtype})
    return dataclasses.replace(frames, **changed)


# Large results cross from a slice process as a pickle (protocol 5) whose buffers (the frames' numeric columns) follow
# it out of band, written from their own memory and read into arrays of the parent's own: no copy into and out of a
# pickled byte string, no memory handed out a read at a time (multiprocessing's recv). POSIX; elsewhere a plain send.
_OUT_OF_BAND = os.name == "posix" and hasattr(os, "readv")


def _send_out_of_band(conn: Connection, value: Any) -> None:
    """("ok", value) to the parent, for `_receive`: its pickle's size and its buffers' sizes, then their bytes."""
    if not _OUT_OF_BAND:
        conn.send(("ok", value))
        return
    buffers: list[pickle.PickleBuffer] = []
    meta = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    conn.send(("bytes", (len(meta), [r.nbytes for r in raws])))
    try:
        for raw in (memoryview(meta), *raws):
            _write_all(conn.fileno(), raw)
    except BaseException as exc:  # the parent reads bytes now: an error message would be read as frames
        raise _MidFrames from exc


class _MidFrames(Exception):
    """Raised by `_send_out_of_band` when writing the raw bytes failed: no message may follow on that connection
    (its reader would take it for frame bytes); a slice process ends at once instead, and the parent names its exit."""


def _write_all(fd: int, view: memoryview) -> None:
    while len(view):
        view = view[os.write(fd, view):]


def _read_into(fd: int, buffer: Any) -> Any:
    """`buffer` filled from `fd` (EOFError when it ends first)."""
    view, got = memoryview(buffer).cast("B"), 0
    while got < len(view):
        n = os.readv(fd, [view[got:]])
        if n == 0:
            raise EOFError
        got += n
    return buffer


def _receive(process: Any, conn: Connection) -> Any:
    """The next result of a slice process; its error raised here; a process that died is an error naming its exit."""
    try:
        status, value = conn.recv()
        if status == "bytes":  # `_send_out_of_band`
            size, sizes = value
            meta = _read_into(conn.fileno(), bytearray(size))
            buffers = [_read_into(conn.fileno(), np.empty(n, dtype=np.uint8)) for n in sizes]
            status, value = "ok", pickle.loads(meta, buffers=buffers)
    except (EOFError, OSError):  # gone before a message, or in the middle of one
        raise _died(process) from None
    if status == "error":
        exc, where = value
        log.error("%s failed:\n%s", process.name, where)
        raise exc
    return value


def _died(process: Any) -> RuntimeError:
    """The error of a slice process that ended without sending its results, naming its exit code."""
    process.join(timeout=5)
    return RuntimeError(f"{process.name} ended before sending its results (exit code {process.exitcode}: -9 is "
                        "usually the out-of-memory killer; fewer [engine] processes or smaller slice_charges need "
                        "less memory)")



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
        done = self.client.gather(self.client.map(_Explained(fn), list(items), pure=False))
        for result in done:
            if isinstance(result, _Failed):
                raise result.error
        return list(done)

    def per_customer(self, charges: pd.DataFrame, customers: pd.DataFrame, params: Params,
                     as_of: pd.Timestamp) -> PerCustomer:
        client, n = self.client, self.partitions
        began = time.perf_counter()
        # each slice cut as it is owned (`Slices`): the raw copies are never all held beside the owned ones
        parts = [_own_slice(one) for one in Slices(charges, customers, -(-len(charges) // n))]
        count = len(parts)
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
        yield LocalEngine(engine.slice_charges, engine.processes)
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
            _check_scheduler(engine.scheduler)
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


@dataclasses.dataclass(frozen=True)
class _Failed:
    """A task's SyncError, returned as its value: raised on the driver as the one-line error it is."""

    error: SyncError


@dataclasses.dataclass(frozen=True)
class _Explained:
    """fn as a task that returns the SyncError it raises (a bad input file: file, line, field) instead of raising it:
    a task that raises is logged by its worker as "Compute Failed" with a multi-line traceback, on stderr and outside
    --log-format json, before the driver reports the same error in one line."""

    fn: Callable[[Any], Any]

    def __call__(self, item: Any) -> Any:
        try:
            return self.fn(item)
        except SyncError as exc:
            return _Failed(exc)


def _check_scheduler(address: str, seconds: float = 20.0) -> None:
    """A ConfigError unless a Dask scheduler completes distributed's handshake at `address` within `seconds`:
    distributed's own connect waits for the handshake without a deadline (a web server on that port, such as the
    dashboard's 8787, makes the run hang for ever) and decodes any other reply as a frame length (MemoryError)."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    # the TLS context (and any other connection setting) of the dask config, as the Client below takes it: without
    # it a tls:// scheduler is refused ("TLS expects a `ssl_context` argument") before the Client is even tried
    try:
        args = Security().get_connection_args("client")
    except (OSError, ValueError) as exc:  # a certificate or key the dask config names is missing or unreadable
        raise ConfigError(f"engine.scheduler {address}: the dask config's TLS settings (distributed.comm.tls) are not "
                          f"usable ({type(exc).__name__}: {str(exc)[:200]})") from None

    async def probe() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=seconds, **args), seconds + 1)
        await comm.close()

    try:
        asyncio.run(probe())
    except TimeoutError:
        raise ConfigError(f"engine.scheduler {address}: no Dask scheduler answers (no handshake within "
                          f"{seconds:.0f} s: is this the scheduler's port, e.g. 8786, not the dashboard's?)") from None
    except Exception as exc:  # a reply that is no Dask handshake
        raise ConfigError(f"engine.scheduler {address}: no Dask scheduler answers ({type(exc).__name__}: "
                          f"{str(exc)[:200]})") from None


def _own_ids(charges: pd.DataFrame) -> pd.DataFrame:
    """A partition's charges with only its own customers among the ids' categories (kpi.schedule.coded_ids): the
    categories of the whole log, sent to every worker, would grow with partitions x customers."""
    ids = charges["customer_id"]
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return charges.assign(customer_id=ids.cat.remove_unused_categories())
    return charges
