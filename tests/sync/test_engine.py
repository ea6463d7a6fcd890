"""Partitioned runs give exactly the tables of the single-process run (issue 13, item 4).

kpi.partition run partition by partition (here, in one process), and the dask engine on a dask.distributed
LocalCluster, on the shared payment log (skipped when absent) and on generated logs: every published tab, cell
for cell, the same as the single-process run's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import operator
import os
import signal
import threading
import time
import types
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi.partition import (
    CODED,
    COLUMNS,
    PerCustomer,
    Slices,
    combine,
    complete,
    evidence,
    extent,
    run_partition,
    run_slices,
    shared_book,
    shared_keys,
    start,
    with_text,
    without_text,
)
from kpi.tables import Table
from sync.errors import ConfigError, InputDataError
from sync.run import compute_tables, prepare_context
from sync.samples.payments import write_sample
from sync.settings import EngineSection, Settings, load_settings, with_engine

REPO = Path(__file__).resolve().parents[2]
SHARED_CONFIG = REPO / "config" / "shared-payments-log.toml"
SHARED_LOG = REPO.parent / "shared" / "data" / "payments-log" / "invoices_per_customer.json"  # ../shared beside the checkout
STARTED = pd.Timestamp("2026-01-15 12:00", tz="UTC")


def _config(folder: Path, invoices: str, customers: str, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(f"""timezone = "UTC"
[dataset]
kind = "payments"
[sources]
invoices = "{invoices}"
customers = "{customers}"
[guard]
state_file = "{folder / 'state.json'}"
lock_file = "{folder / 'run.lock'}"
{extra}
""", encoding="utf-8")
    return path


def _generated(folder: Path, customers: int, seed: int, scheme: str = "seat10") -> Settings:
    write_sample(folder, customers=customers, seed=seed, scheme=scheme)
    return load_settings(_config(folder, "invoices.json", "customers.json"), {})


def _shared() -> Settings:
    if not SHARED_LOG.is_file():
        pytest.skip(f"the shared payment log is absent ({SHARED_LOG})")
    return load_settings(SHARED_CONFIG, {})


def tables(settings: Settings) -> list[Table]:
    """Every tab the run would publish, at a fixed clock (the About tab shows it)."""
    ctx = prepare_context(settings, as_of=None, started_at=STARTED, destination="csv:out", history=[],
                          hr_data=lambda: (None, (("hr", "not configured"),)))
    return compute_tables(ctx)[0]


def assert_same_tables(got: list[Table], want: list[Table]) -> None:
    assert [t.name for t in got] == [t.name for t in want]
    for a, b in zip(got, want, strict=True):
        assert a.columns == b.columns, a.name
        assert a.note == b.note, a.name
        pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True, obj=f"tab {a.name}")
    assert sum(len(t.frame) for t in want) > 0


def partition_of(ids: pd.Series, partitions: int) -> np.ndarray:
    """Each customer's partition by a stable hash of its id's text, as Spark buckets them (docs/scale.md): partitions
    that are no ranges of the ids, which `combine` merges by ranking the customers."""
    hashed = pd.util.hash_pandas_object(ids.astype(str).reset_index(drop=True), index=False).to_numpy()
    return (hashed % np.uint64(partitions)).astype(np.int64)


def assert_same_frames(done: PerCustomer, whole: PerCustomer, codes: bool = True) -> None:
    """The per-customer frames (and, with `codes`, their codes) of a partitioned reading are one reading's."""
    for name in ("schedule", "billing", "customer_months", "ref_months"):
        pd.testing.assert_frame_equal(getattr(done, name), getattr(whole, name), check_exact=True, obj=name)
    pd.testing.assert_series_equal(done.paid, whole.paid, check_exact=True)
    assert done.price_book == whole.price_book
    if codes:
        assert_same_codes(done, whole)


def _partitioned(settings: Settings, n: int) -> PerCustomer:
    """kpi.partition as an engine runs it, one partition after the other in this process."""
    from sync.run import load_dataset, resolve_as_of

    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    params = settings.params
    assert loaded.charges is not None
    by_charge = partition_of(loaded.charges["customer_id"], n)
    by_customer = partition_of(loaded.customers["customer_id"], n)
    parts = [(loaded.charges.loc[by_charge == i], loaded.customers.loc[by_customer == i]) for i in range(n)]
    keys = shared_keys([extent(c, as_of) for c, _ in parts], params)
    started = [start(c, cu, params, as_of, keys) for c, cu in parts]
    book = shared_book([evidence(s) for s in started], params)
    done = combine([complete(s, params, as_of, book) for s in started])
    assert_same_frames(done, run_partition(loaded.charges, loaded.customers, params, as_of), codes=False)
    return done


@pytest.mark.parametrize("scheme", ["seat10", "seat12", "noseats", "seat11"])
def test_partitions_give_the_frames_of_one_reading_on_generated_logs(tmp_path: Path, scheme: str) -> None:
    settings = _generated(tmp_path, 400, 3, scheme)
    for n in (2, 5):
        _partitioned(settings, n)


def test_partitions_give_the_frames_of_one_reading_on_a_young_log(tmp_path: Path) -> None:
    """Two months of charges and no seat column: the book pairs 18 and 180 among the single charges (and looks for
    amounts that never renewed a month later) over every partition's evidence at once, as one process does."""
    write_sample(tmp_path, customers=150, seed=5, start="2016-01-01", end="2016-02-29", scheme="noseats")
    settings = load_settings(_config(tmp_path, "invoices.json", "customers.json"), {})
    for n in (2, 3):
        book = _partitioned(settings, n).price_book
        assert book.annual_seat[0].basis.startswith("paired among amounts: 18.00"), book.rows()


def test_partitions_give_the_frames_of_one_reading_on_the_shared_log() -> None:
    settings = _shared()
    done = _partitioned(settings, 3)
    assert done.price_book.mode == "learned" and done.price_book.monthly_seat  # a book learned across partitions


@pytest.mark.parametrize("ranges", [True, False], ids=["ranges of ids", "hashed"])
def test_partitions_without_their_coded_texts_combine_to_the_frames_of_one_reading(
        tmp_path: Path, ranges: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Partitions that left out the text columns their codes stand for (kpi.partition.CODED), all or some of them,
    combine to the frames of one reading of the whole log: rebuilt once from the codes put end to end (ranges of the
    ids, as `Slices` cuts them: no partition's texts rebuilt on its own), or partition by partition where the codes
    cannot rebuild them (hashed ids; a part whose customer-month codes are gone). One part alone comes back whole."""
    from kpi import partition
    from sync.run import load_dataset, resolve_as_of

    settings = _generated(tmp_path, 300, 4)
    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    params = settings.params
    assert loaded.charges is not None
    if ranges:
        slices = Slices(loaded.charges, loaded.customers, len(loaded.charges) // 4)
        parts = [slices.slice(i) for i in range(len(slices))]
    else:
        by_charge = partition_of(loaded.charges["customer_id"], 3)
        by_customer = partition_of(loaded.customers["customer_id"], 3)
        parts = [(loaded.charges.loc[by_charge == i], loaded.customers.loc[by_customer == i]) for i in range(3)]
    assert len(parts) >= 3
    keys = shared_keys([extent(c, as_of) for c, _ in parts], params)
    started = [start(c, cu, params, as_of, keys) for c, cu in parts]
    book = shared_book([evidence(s) for s in started], params)
    made = [complete(s, params, as_of, book) for s in started]
    one = run_partition(loaded.charges, loaded.customers, params, as_of)
    rebuilt_alone: list[PerCustomer] = []
    monkeypatch.setattr(partition, "with_text", lambda p: rebuilt_alone.append(p) or with_text(p))
    every = [without_text(p) for p in made]
    assert all(c not in getattr(p, f).columns for p in every for f, c, *_ in CODED)  # as a slice process sends it
    done = combine(list(every))  # (combine empties its list)
    assert_same_frames(done, one, codes=ranges)
    assert (done.codes is not None) == ranges and (not rebuilt_alone) == ranges  # the path each case is for
    assert_same_frames(combine([without_text(p) if i % 2 else p for i, p in enumerate(made)]), one,
                       codes=ranges)
    no_month_codes = [dataclasses.replace(made[0], month_codes=None), *every[1:]]
    assert_same_frames(combine(no_month_codes), one, codes=False)
    assert_same_frames(with_text(every[1]), made[1])
    assert_same_frames(combine([every[1]]), made[1])
    assert [list(getattr(done, name).columns) for name in COLUMNS] == [list(c) for c in COLUMNS.values()]
    # schedules of no rows (as_of before every piece) keep the dtypes their parts' columns had
    empty = [dataclasses.replace(p, schedule=p.schedule.iloc[:0],
                                 codes=p.codes.rows(np.zeros(len(p.schedule), dtype=bool))) for p in made if p.codes]
    assert dict(combine(empty).schedule.dtypes) == dict(made[0].schedule.dtypes)


def test_a_book_learned_per_partition_would_differ_so_it_is_learned_once(tmp_path: Path) -> None:
    """Why the book is shared: a partition's own evidence learns another book (here: too few customers)."""
    settings = _generated(tmp_path, 400, 3)
    from sync.run import load_dataset, resolve_as_of

    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    small = loaded.charges.loc[partition_of(loaded.charges["customer_id"], 40) == 0]
    alone = run_partition(small, loaded.customers, settings.params, as_of)
    whole = run_partition(loaded.charges, loaded.customers, settings.params, as_of)
    assert alone.price_book != whole.price_book
    with pytest.raises(ValueError, match="different price books"):
        combine([alone, whole])


def test_hashed_partitions_are_stable_and_spread() -> None:
    """The test device above makes several partitions of every size, so combine's ranking path is exercised."""
    ids = pd.Series([f"c{i}" for i in range(1000)])
    first = partition_of(ids, 4)
    assert (first == partition_of(ids.sample(frac=1, random_state=1).sort_index(), 4)).all()
    assert sorted(set(first)) == [0, 1, 2, 3] and min(pd.Series(first).value_counts()) > 150
    assert list(partition_of(pd.Series(["42"]), 7)) == list(partition_of(pd.Series([42]), 7))  # ids are text


# ---------------------------------------------------------------------------------------------- local slices


def _with_slices(settings: Settings, charges: int) -> Settings:
    return dataclasses.replace(settings, engine=dataclasses.replace(settings.engine, slice_charges=charges))


def assert_same_codes(got: PerCustomer, want: PerCustomer) -> None:
    """The codes of sliced frames are those of one reading (ids and refs sorted as text, row by row), and name the
    frames' own rows."""
    for name in ("codes", "ref_codes"):
        a, b = getattr(got, name), getattr(want, name)
        assert a is not None and b is not None, name
        for field in ("cust", "ids", "ref", "refs"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), (name, field)
    assert got.month_codes is not None and want.month_codes is not None
    assert np.array_equal(got.month_codes.cust, want.month_codes.cust)
    assert np.array_equal(got.month_codes.ids, want.month_codes.ids)
    assert got.codes is not None and got.ref_codes is not None
    assert (got.codes.ids[got.codes.cust] == got.schedule["customer_id"].to_numpy()).all()
    assert (got.codes.refs[got.codes.ref] == got.schedule["ref"].to_numpy()).all()
    assert (got.ref_codes.refs[got.ref_codes.ref] == got.ref_months["ref"].to_numpy()).all()
    assert (got.month_codes.ids[got.month_codes.cust] == got.customer_months["customer_id"].to_numpy()).all()


class _Watched(Slices):
    """Slices that note each slice cut (`cut`) and whether the previous slice's charges were still alive then."""

    def __init__(self, charges: pd.DataFrame, customers: pd.DataFrame, charges_per_slice: int):
        super().__init__(charges, customers, charges_per_slice)
        self.cut: list[int] = []
        self.alive: list[bool] = []
        self._previous: weakref.ref | None = None

    def slice(self, i: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        self.alive.append(self._previous is not None and self._previous() is not None)
        charges, customers = super().slice(i)
        self.cut.append(i)
        self._previous = weakref.ref(charges)
        return charges, customers


def _sliced(settings: Settings, charges_per_slice: int) -> int:
    """The log read in customer slices of about `charges_per_slice` charges: the frames and codes of one reading.
    Returns the number of slices."""
    from sync.run import load_dataset, resolve_as_of

    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    slices = list(Slices(loaded.charges, loaded.customers, charges_per_slice))
    assert sum(len(c) for c, _ in slices) == len(loaded.charges)
    assert sum(len(cu) for _, cu in slices) == len(loaded.customers)
    firsts = [c["customer_id"].astype(str).min() for c, _ in slices]
    lasts = [c["customer_id"].astype(str).max() for c, _ in slices]
    assert all(last < first for last, first in zip(lasts, firsts[1:], strict=False))  # ranges, in order
    sizes = [len(c) for c, _ in slices]  # about even: a slice ends at the first customer past its share
    assert max(sizes) <= charges_per_slice + max(loaded.charges["customer_id"].value_counts())
    count = len(slices)
    del slices
    cutter = _Watched(loaded.charges, loaded.customers, charges_per_slice)
    done = run_slices(cutter, settings.params, as_of)
    assert cutter.cut == list(range(count))  # each slice cut once, in order,
    assert not any(cutter.alive)  # ... and the one before it let go by then: no two slices' copies held at once
    whole = run_partition(loaded.charges, loaded.customers, settings.params, as_of)
    assert_same_frames(done, whole)
    return count


@pytest.mark.parametrize("scheme", ["seat10", "seat12", "noseats", "seat11"])
def test_slices_give_the_frames_and_codes_of_one_reading_on_generated_logs(tmp_path: Path, scheme: str) -> None:
    settings = _generated(tmp_path, 400, 3, scheme)
    assert _sliced(settings, 500) >= 4
    assert _sliced(settings, 10**9) == 1


def test_slices_give_the_frames_of_one_reading_on_the_shared_log() -> None:
    assert _sliced(_shared(), 700) >= 5


def test_slices_whose_refs_do_not_sort_end_to_end(tmp_path: Path) -> None:
    """Customers 12 and 123 in two slices: "12" < "123", but their refs "12:series-1" > "123:series-1" (':' after
    '3'), so the slices' refs are merged by sorting them, not put end to end."""
    rows = [{"customerId": cid, "amountPaid": amount, "timestampPaid": int(pd.Timestamp(f"2016-{m:02d}-05").timestamp())}
            for cid, amount in (("12", 50.0), ("123", 80.0), ("2", 30.0)) for m in range(1, 8)]
    (tmp_path / "invoices.json").write_text("\n".join(pd.Series(rows).map(json.dumps)) + "\n", encoding="utf-8")
    (tmp_path / "customers.json").write_text("\n".join(json.dumps({"customerId": c}) for c in ("12", "123", "2")) + "\n",
                                             encoding="utf-8")
    settings = load_settings(_config(tmp_path, "invoices.json", "customers.json"), {})
    assert _sliced(settings, 7) == 3
    assert_same_tables(tables(_with_slices(settings, 7)), tables(_with_slices(settings, 0)))


def test_slices_of_a_log_sorted_by_customer_give_the_same_floats(tmp_path: Path) -> None:
    """A log exported customer by customer, ids of five and six digits: a slice's id column can be sorted where the
    whole log's is not. Every per-customer sum adds that customer's rows alone (np.bincount), so the lifetime
    revenue and the ref months are the same floats in a slice as in the whole log (pandas' groupby sum is
    compensated or not depending on whether the whole key column is sorted: it differed in the last bit)."""
    write_sample(tmp_path, customers=300, seed=5)
    rows = [json.loads(line) for line in (tmp_path / "invoices.json").read_text(encoding="utf-8").splitlines()]
    old_ids = sorted({r["customerId"] for r in rows})
    new_id = {old: 99_850 + i for i, old in enumerate(old_ids)}
    rows = sorted(({**r, "customerId": new_id[r["customerId"]]} for r in rows),
                  key=lambda r: (r["customerId"], r["timestampPaid"]))
    (tmp_path / "invoices.json").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    customers = [json.loads(line) for line in (tmp_path / "customers.json").read_text(encoding="utf-8").splitlines()]
    (tmp_path / "customers.json").write_text("".join(json.dumps({**c, "customerId": new_id.get(c["customerId"], 1)})
                                                     + "\n" for c in customers), encoding="utf-8")
    settings = load_settings(_config(tmp_path, "invoices.json", "customers.json"), {})
    for size in (500, 1000, 2000):
        assert _sliced(settings, size) > 1
    assert_same_tables(tables(_with_slices(settings, 700)), tables(_with_slices(settings, 0)))


def test_slices_of_ids_coded_as_integers(tmp_path: Path) -> None:
    """kpi used as a library: ids in a categorical of integers are sliced by their texts' order, and each customer's
    attributes go with its charges."""
    from sync.run import load_dataset, resolve_as_of

    settings = _generated(tmp_path, 200, 6)
    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    charges = loaded.charges.assign(customer_id=pd.Categorical(loaded.charges["customer_id"].astype(int)))
    customers = loaded.customers.assign(customer_id=loaded.customers["customer_id"].astype(int))
    slices = Slices(charges, customers, 400)
    assert len(slices) > 2 and all(len(cu) for _, cu in slices)  # the customers are spread with their charges
    done = run_slices(slices, settings.params, as_of)
    whole = run_partition(charges, customers, settings.params, as_of)
    assert_same_frames(done, whole)


def test_local_engine_in_slices_gives_the_tables_of_one_reading(tmp_path: Path) -> None:
    settings = _generated(tmp_path, 300, 8)
    assert_same_tables(tables(_with_slices(settings, 500)), tables(_with_slices(settings, 0)))


def test_local_engine_in_slices_gives_the_tables_of_one_reading_on_the_shared_log() -> None:
    settings = _shared()
    assert_same_tables(tables(_with_slices(settings, 1000)), tables(_with_slices(settings, 0)))


def _in_processes(settings: Settings, charges_per_slice: int, processes: int | str) -> PerCustomer:
    """The local engine with its slices read by `processes` processes: the frames and codes of one reading."""
    from sync.engine import LocalEngine
    from sync.run import load_dataset, resolve_as_of

    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    done = LocalEngine(charges_per_slice, processes).per_customer(loaded.charges, loaded.customers, settings.params,
                                                                   as_of)
    whole = run_partition(loaded.charges, loaded.customers, settings.params, as_of)
    assert_same_frames(done, whole)
    return done


def test_slices_read_by_two_processes_give_the_frames_of_one_reading(tmp_path: Path) -> None:
    _in_processes(_generated(tmp_path, 300, 8, "seat12"), 400, 2)


def test_auto_processes_reads_millions_of_charges_in_two_processes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`processes = "auto"` (the default): 2 processes from AUTO_PROCESSES_FROM charges on 2+ CPUs (faster there in
    about the memory of one, benchmarks/results.md stop 34), else 1; never more than there are slices; the same frames
    either way. The engine asks with the log's charges and the CPUs it may use."""
    from sync import engine
    from sync.settings import AUTO_PROCESSES_FROM

    assert engine.auto_processes(AUTO_PROCESSES_FROM - 1, 8) == 1
    assert engine.auto_processes(AUTO_PROCESSES_FROM, 8) == 2 == engine.auto_processes(10 * AUTO_PROCESSES_FROM, 2)
    assert engine.auto_processes(10 * AUTO_PROCESSES_FROM, 1) == 1
    used: list[int] = []
    asked: list[tuple[int, int]] = []
    real_in_processes = engine._in_processes

    def spy(slices, params, as_of, processes):  # type: ignore[no-untyped-def]
        used.append(processes)
        return real_in_processes(slices, params, as_of, processes)

    def auto(charges: int, cpus: int) -> int:  # the threshold at 1,000 charges instead of millions
        asked.append((charges, cpus))
        return 2 if charges >= 1000 and cpus >= 2 else 1

    monkeypatch.setattr(engine, "_in_processes", spy)
    monkeypatch.setattr(engine, "cpus", lambda: 2)
    settings = _generated(tmp_path, 300, 8, "seat12")
    _in_processes(settings, 400, "auto")  # the real threshold: a small log stays in one process
    assert used == []
    monkeypatch.setattr(engine, "auto_processes", auto)
    _in_processes(settings, 400, "auto")
    assert used == [2] and asked[-1][1] == 2
    from sync.run import load_dataset
    loaded = load_dataset(settings, STARTED)
    assert loaded.charges is not None and asked[-1][0] == len(loaded.charges) > 1000
    monkeypatch.setattr(engine, "cpus", lambda: 1)  # one CPU: one process
    _in_processes(settings, 400, "auto")
    assert used == [2] and asked[-1][1] == 1
    monkeypatch.setattr(engine, "cpus", lambda: 2)
    _in_processes(settings, 0, "auto")  # the whole log in one slice: one process, whatever "auto" says
    assert used == [2]
    with pytest.raises(ValueError, match="expected a whole number, 0 or more, or 'auto'"):
        engine.LocalEngine(400, "3")


def test_cpus_counts_a_cgroup_cpu_quota(tmp_path: Path) -> None:
    """A container's CPU quota (Docker --cpus, a Kubernetes limit) leaves the affinity at every CPU of the host: the
    engine reads the quota, cgroup v2 or v1, so that "auto" and `processes = 0` do not start more processes than it
    allows."""
    from sync import engine

    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert engine._cpu_quota(str(v2)) == 1.5
    (v2 / "cpu.max").write_text("max 100000\n")
    assert engine._cpu_quota(str(v2)) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert engine._cpu_quota(str(v1)) == 1.0
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert engine._cpu_quota(str(v1)) is None
    assert engine._cpu_quota(str(tmp_path / "none")) is None
    (v2 / "cpu.max").write_text("100000 0\n")  # no period: no quota, not a crash of every run
    assert engine._cpu_quota(str(v2)) is None
    v1b = tmp_path / "v1b"
    (v1b / "cpu,cpuacct").mkdir(parents=True)  # v1 hosts with no cpu/ link
    (v1b / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("50000\n")
    (v1b / "cpu,cpuacct" / "cpu.cfs_period_us").write_text("100000\n")
    assert engine._cpu_quota(str(v1b)) == 0.5
    assert engine.cpus() >= 1


class _FakeLibc:
    """glibc's mallopt and malloc_trim, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad))
        return 1


def test_freed_memory_is_reused_meanwhile_then_handed_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables run with glibc keeping freed memory for the next arrays (no mapping of its own for a big block, no
    trim when one is freed); after, glibc is left where its own tuning settles and the free pages are handed back,
    once, after the outermost of nested blocks, also when the block raises. Malloc tuned by the operator is left as
    set, and its free pages handed back after all the same (a load's parse leaves gigabytes free); a libc without
    mallopt is left alone."""
    from sync import engine

    tuned = engine._malloc_tuned
    assert tuned({"MALLOC_MMAP_MAX_": "0"})
    assert tuned({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000:glibc.cpu.x86_shstk=0"})
    assert not tuned({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2", "MALLOC_ARENA_MAX": "2"})
    assert tuned({"MALLOC_TRIM_THRESHOLD_": ""})  # glibc reads an empty value as 0
    assert not tuned({})
    libc = _FakeLibc()
    monkeypatch.setattr(engine, "_LIBC", libc)
    monkeypatch.setattr(engine, "_malloc_tuned", lambda: False)
    monkeypatch.setattr(engine, "_numpy_huge_pages", lambda on: libc.calls.append(("huge pages", on)) or True)
    reuse = [("mallopt", -4, 0), ("mallopt", -1, 2**31 - 1), ("huge pages", False)]
    back = [("mallopt", -4, 65536), ("mallopt", -3, 32 << 20), ("mallopt", -1, 64 << 20), ("huge pages", True),
            ("malloc_trim", 0)]
    with engine.freed_memory_reused():
        assert libc.calls == reuse
        with engine.freed_memory_reused():
            pass
        assert libc.calls == reuse
    assert libc.calls == reuse + back
    libc.calls.clear()
    with pytest.raises(KeyError), engine.freed_memory_reused():
        raise KeyError("x")
    assert libc.calls == reuse + back and engine._reusing == 0
    libc.calls.clear()
    monkeypatch.setattr(engine, "_malloc_tuned", lambda: True)
    with engine.freed_memory_reused():
        assert libc.calls == []
    assert libc.calls == [("malloc_trim", 0)]
    monkeypatch.setattr(engine, "_LIBC", None)  # not glibc: nothing to set
    with engine.freed_memory_reused():
        pass


def test_numpy_huge_page_advice_is_off_meanwhile_then_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside the block numpy stops advising huge pages for its arrays (heap pages already faulted in); after it,
    the advice is as it was, whichever it was. NUMPY_MADVISE_HUGEPAGE set by the operator is left alone."""
    from sync import engine

    if engine._LIBC is None or not hasattr(engine._LIBC, "mallopt") or engine._malloc_tuned():
        pytest.skip("not glibc, or malloc tuned by the environment: the block sets nothing")
    _set_madvise_hugepage = engine._huge_page_switch()
    if _set_madvise_hugepage is None:
        pytest.skip("this numpy has no huge-page switch")
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    original = _set_madvise_hugepage(True)
    try:
        for before in (True, False):
            _set_madvise_hugepage(before)
            with engine.freed_memory_reused():
                assert _set_madvise_hugepage(False) is False  # off inside (the call returns the setting it replaced)
            assert _set_madvise_hugepage(before) is before  # as it was after
        _set_madvise_hugepage(True)
        with engine.freed_memory_reused():
            monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")  # set meanwhile: what the block set off goes back
        assert _set_madvise_hugepage(True) is True
        with engine.freed_memory_reused():
            assert _set_madvise_hugepage(True) is True  # the operator's choice (set before) stands
    finally:
        _set_madvise_hugepage(original)


_GLIBC_PROBE = """
import ctypes, json
from sync import engine
libc = engine._LIBC
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks "
                                                "fordblks keepcost").split()]
libc.mallinfo2.restype = Info
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
libc.free(libc.malloc(30 << 20))  # as a reading does: glibc raises its mmap threshold to this block's size
def probe(size):
    before = libc.mallinfo2()
    p = libc.malloc(size)
    mid = libc.mallinfo2()
    libc.free(p)
    return [mid.hblks > before.hblks, libc.mallinfo2().arena < mid.arena]  # mapped of its own? trimmed once freed?
out = {"before": [probe(4 << 20), probe(64 << 20)]}
with engine.freed_memory_reused():
    out["inside"] = [probe(4 << 20), probe(64 << 20)]
out["after"] = [probe(4 << 20), probe(64 << 20)]
print(json.dumps(out))
"""


def test_glibc_reuses_freed_blocks_meanwhile_and_is_as_it_was_after() -> None:
    """On glibc itself (a fresh process): inside the block a 64 MiB block comes from the heap, not a mapping of its
    own; after it, glibc maps and trims as it did before (a 4 MiB block neither mapped nor trimmed, 64 MiB mapped),
    not as its start-up values would (every freed block at the heap's top trimmed, for the rest of the process)."""
    import subprocess
    import sys

    from sync import engine

    if engine._LIBC is None or not hasattr(engine._LIBC, "mallinfo2") or engine._malloc_tuned():
        pytest.skip("not glibc 2.33 or later, or malloc tuned by the environment")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _GLIBC_PROBE], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
    got = json.loads(done.stdout)
    assert got["before"] == [[False, False], [True, False]]
    assert got["inside"] == [[False, False], [False, False]]
    assert got["after"] == got["before"]


def test_the_tables_are_computed_with_freed_memory_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reading, the invariants and the tabs (the run's many temporary arrays) each run inside a block of their
    own, entered with none open; the per-customer step between them outside (the slices' frames received and combined
    there made the tabs after them slower)."""
    from sync import engine

    seen: list[str] = []
    real = engine.freed_memory_reused

    @contextlib.contextmanager
    def spy():
        seen.append("in")
        with real():
            yield
        seen.append("out")

    import sync.run as run

    monkeypatch.setattr(run, "freed_memory_reused", spy)
    loads = run.load_dataset

    def load(*a, **k):
        assert engine._reusing == 0
        seen.append("load")
        return loads(*a, **k)

    monkeypatch.setattr(run, "load_dataset", load)
    payments = run.load_payments

    def read(*a, **k):
        assert engine._reusing == 1  # the files read inside the block
        return payments(*a, **k)

    monkeypatch.setattr(run, "load_payments", read)
    per_customer = engine.LocalEngine.per_customer

    def outside(*a, **k):
        assert engine._reusing == 0
        seen.append("per customer")
        return per_customer(*a, **k)

    monkeypatch.setattr(engine.LocalEngine, "per_customer", outside)
    tables(_generated(tmp_path, 60, 3))
    assert seen == ["load", "in", "out", "per customer", "in", "out", "in", "out"] and engine._reusing == 0


def test_slices_read_by_processes_on_the_shared_log_give_its_tables() -> None:
    settings = _shared()
    _in_processes(settings, 1500, 3)
    two = dataclasses.replace(settings, engine=dataclasses.replace(settings.engine, slice_charges=1500, processes=2))
    assert_same_tables(tables(two), tables(_with_slices(settings, 0)))


def _signal_slice_processes_while(run: threading.Thread, *signals: int) -> set[int]:
    """Send `signals` to every slice process as soon as it exists, while `run` runs; their pids."""
    sent: set[int] = set()
    while run.is_alive():
        for child in multiprocessing.active_children():
            if child.pid and child.pid not in sent and child.name.startswith("kpi-sync slices"):
                for sig in signals:
                    with contextlib.suppress(ProcessLookupError):  # (ended meanwhile)
                        os.kill(child.pid, sig)
                sent.add(child.pid)
        time.sleep(0.005)
    return sent


def test_slice_processes_leave_a_stop_signal_to_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform stopping the worker signals its whole process group (SIGTERM; Ctrl-C sends SIGINT): the slice
    processes ignore both, from their first instant (the first one too, started with the resource tracker), and the
    run ends as the parent decides (the worker lets it finish and publish). Before, SIGTERM killed them and the run
    crashed as if out of memory. A slice process whose parent is not the one that started it (gone meanwhile) ends at
    once; and at exit the slice processes of a run still in progress are killed, not waited for."""
    from sync import engine
    from sync.run import load_dataset, resolve_as_of

    settings = _generated(tmp_path, 300, 8, "seat12")
    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None

    def read(into: list) -> threading.Thread:
        def target() -> None:
            try:
                into.append(engine.LocalEngine(400, 2).per_customer(loaded.charges, loaded.customers, settings.params,
                                                                    as_of))
            except RuntimeError as exc:
                into.append(exc)
        run = threading.Thread(target=target)
        run.start()
        return run

    got: list = []
    run = read(got)
    assert len(_signal_slice_processes_while(run, signal.SIGTERM, signal.SIGINT)) == 2
    assert len(got) == 1 and isinstance(got[0], PerCustomer)
    assert_same_frames(got[0], run_partition(loaded.charges, loaded.customers, settings.params, as_of))
    killed: list = []
    run = read(killed)
    deadline = time.monotonic() + 60
    while (not engine._LIVE or not all(p.pid for p in engine._LIVE)) and time.monotonic() < deadline:
        time.sleep(0.005)
    engine._kill_slice_processes()  # what the interpreter's exit runs
    run.join(timeout=60)
    assert not run.is_alive() and "ended before sending its results (exit code -9" in str(killed[0])
    assert not multiprocessing.active_children() and not engine._LIVE
    monkeypatch.setattr(engine, "_parent_pid", lambda: -1)  # the pid the processes are told their parent has
    with pytest.raises(RuntimeError, match=r"ended before sending its results \(exit code 1"):
        engine.LocalEngine(400, 2).per_customer(loaded.charges, loaded.customers, settings.params, as_of)
    assert not multiprocessing.active_children()


def test_a_slice_process_that_fails_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error in a slice process is raised by the run, with its own message; a process that dies is named."""
    from sync import engine

    settings = _generated(tmp_path, 120, 2)
    from sync.run import load_dataset, resolve_as_of

    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    bad = dataclasses.replace(settings.params, timezone="Not/AZone")  # every slice's month snapshots fail
    from zoneinfo import ZoneInfoNotFoundError

    with pytest.raises(ZoneInfoNotFoundError, match="Not/AZone"):  # the worker's own error, raised here
        engine.LocalEngine(300, 2).per_customer(loaded.charges, loaded.customers, bad, as_of)
    assert not multiprocessing.active_children()  # the other process was stopped

    class Exits:
        """Unpickled in a slice process, it ends that process (as the out-of-memory killer would)."""

        def __reduce__(self) -> tuple:
            return (os._exit, (3,))

    monkeypatch.setattr(engine, "shared_keys", lambda *a: Exits())  # handed to each process with its slices
    with pytest.raises(RuntimeError, match=r"ended before sending its results \(exit code 3"):
        engine.LocalEngine(300, 2).per_customer(loaded.charges, loaded.customers, settings.params, as_of)
    assert not multiprocessing.active_children()


class _Exits:
    """Unpickled in a slice process, it ends that process (as the out-of-memory killer would)."""

    def __reduce__(self) -> tuple:
        return (os._exit, (3,))


class _Fails:
    """Unpickled in a slice process, it raises there: a KeyError whose message is the whole of `text`."""

    def __init__(self, text: str):
        self.text = text

    def __reduce__(self) -> tuple:
        return (operator.getitem, ({}, self.text))


def test_a_slice_process_that_fails_while_it_is_sent_its_slices_fails_the_run(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The slices are cut and sent while the processes read the first ones (`_hand_out`). The first process fails
    on its first slice, or dies, while this one is writing it its next (8 MB, more than a socket holds): the run
    ends at once with its error, or its exit code, without cutting the rest. Also when the error is larger than
    the socket's buffer: the failed process reads no more (`_stop_reading`), else both would wait for ever, each
    writing to the other."""
    from sync import engine
    from sync.run import load_dataset, resolve_as_of

    settings = _generated(tmp_path, 300, 8, "seat12")
    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    slices = len(engine.Slices(loaded.charges, loaded.customers, 250))
    assert slices >= 6
    real = engine._own_slice
    sent: list[int] = []

    def spoiled(by: object):  # type: ignore[no-untyped-def]
        def own(one):  # type: ignore[no-untyped-def]
            charges, customers = real(one)
            sent.append(len(charges))
            if len(sent) in (1, 3):  # the first process's first slice fails it; its second is 8 MB
                charges = charges.copy()
                charges.attrs = {"spoiled": by} if len(sent) == 1 else {"padding": b"x" * (8 << 20)}
            return charges, customers
        return own

    loud = "\u00e9" * 300_000  # its message alone, 900 KB of UTF-8, is more than the socket's buffer
    for by, error, match in ((_Fails("a slice that cannot be read"), KeyError, "a slice that cannot be read"),
                             (_Fails(loud), KeyError, "\u00e9" * 1000),
                             (_Exits(), RuntimeError, r"slices 1/2 ended before sending its results \(exit code 3")):
        sent.clear()
        monkeypatch.setattr(engine, "_own_slice", spoiled(by))
        began = time.monotonic()
        with pytest.raises(error, match=match):
            engine.LocalEngine(250, 2).per_customer(loaded.charges, loaded.customers, settings.params, as_of)
        assert time.monotonic() - began < 60
        assert not multiprocessing.active_children() and not engine._LIVE
        assert 3 <= len(sent) < slices  # stopped while slices were still being handed out


# ---------------------------------------------------------------------------------------------------- dask engine

try:
    import distributed
except ImportError:  # the test extra installs it; without it only the dask engine's tests are skipped
    distributed = None


@pytest.fixture(scope="module")
def cluster():
    """A dask.distributed cluster in this process (threads): seconds to start, the same tasks as processes."""
    if distributed is None:
        pytest.skip("dask.distributed is not installed (pip install '.[dask]')")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        yield c


def _on(settings: Settings, cluster, partitions: int = 4) -> Settings:
    return with_engine(settings, name="dask", scheduler=cluster.scheduler_address, partitions=partitions)


def test_dask_engine_gives_the_same_tables_on_a_generated_log(tmp_path: Path, cluster) -> None:
    settings = _generated(tmp_path, 300, 8)
    assert_same_tables(tables(_on(settings, cluster)), tables(settings))


def test_dask_engine_gives_the_same_tables_on_the_shared_log(cluster) -> None:
    settings = _shared()
    assert_same_tables(tables(_on(settings, cluster, 3)), tables(settings))


def test_dask_engine_reads_a_glob_of_files_as_the_one_file(tmp_path: Path, cluster) -> None:
    """A log split in three files (a glob, one read task each) gives the tables of the whole file, but for the
    About tab's list of input files."""
    whole = _generated(tmp_path, 200, 9)
    lines = (tmp_path / "invoices.json").read_text(encoding="utf-8").splitlines(keepends=True)
    split = tmp_path / "split"
    split.mkdir()
    third = len(lines) // 3 + 1
    for i in range(3):  # in order: the concatenation is the whole file (a sum of floats depends on its order)
        (split / f"invoices-{i}.json").write_text("".join(lines[i * third:(i + 1) * third]), encoding="utf-8")
    (split / "customers.json").write_bytes((tmp_path / "customers.json").read_bytes())
    parts = load_settings(_config(split, "invoices-*.json", "customers.json"), {})
    got = {t.name: t for t in tables(_on(parts, cluster))}
    want = {t.name: t for t in tables(whole)}
    assert got.keys() == want.keys()
    for name in want:
        if name == "About":
            about = got[name].frame
            inputs = about.loc[about["Section"] == "Input"]
            assert sum(inputs.astype(str).apply(lambda r: r.str.contains("invoices-").any(), axis=1)) >= 3
            continue
        if name == "Sync status":  # this run's row count: Data quality has a total per file
            continue
        if name == "Data quality":  # line numbers are per file, totals ("in all") too: the same lines' issues
            def lines(frame: pd.DataFrame) -> list[tuple]:
                rows = frame.loc[frame["Line"].notna(), ["Severity", "Field", "Reason", "Value"]]
                return sorted(map(tuple, rows.astype(str).to_numpy()))
            assert lines(got[name].frame) == lines(want[name].frame) and lines(want[name].frame)
            continue
        pd.testing.assert_frame_equal(got[name].frame, want[name].frame, check_exact=True, obj=name)


def test_dask_engine_reads_urls_through_fsspec(tmp_path: Path, cluster) -> None:
    """Inputs on object storage: here fsspec's in-memory file system, shared by this process's workers."""
    fsspec = pytest.importorskip("fsspec")
    settings = _generated(tmp_path, 120, 4)
    fs = fsspec.filesystem("memory")
    for name in ("invoices.json", "customers.json"):
        fs.pipe(f"/kpi-test/{name}", (tmp_path / name).read_bytes())
    remote = load_settings(_config(tmp_path, "memory://kpi-test/invoices.json", "memory://kpi-test/customers.json"), {})
    got, want = tables(_on(remote, cluster)), tables(settings)
    for a, b in zip(got, want, strict=True):
        if a.name in ("About", "Data quality"):  # they name the files: URLs here
            continue
        pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True, obj=a.name)
    about = next(t for t in got if t.name == "About").frame
    assert about.astype(str).apply(lambda r: r.str.contains("memory://kpi-test/invoices.json").any(), axis=1).any()


def test_a_bad_line_in_a_remote_file_is_named_by_its_url(tmp_path: Path, cluster) -> None:
    fsspec = pytest.importorskip("fsspec")
    _generated(tmp_path, 60, 4)
    fs = fsspec.filesystem("memory")
    data = (tmp_path / "invoices.json").read_bytes().splitlines(keepends=True)
    data[4] = b'{"customerId": "x", "amountPaid": "lots", "timestampPaid": 1500000000}\n'
    fs.pipe("/kpi-bad/invoices.json", b"".join(data))
    fs.pipe("/kpi-bad/customers.json", (tmp_path / "customers.json").read_bytes())
    remote = load_settings(_config(tmp_path, "memory://kpi-bad/invoices.json", "memory://kpi-bad/customers.json"), {})
    quality = next(t for t in tables(_on(remote, cluster)) if t.name == "Data quality").frame
    bad = quality.loc[(quality["File"] == "memory://kpi-bad/invoices.json") & (quality["Line"] == 5)]
    assert list(bad["Field"]) == ["amountPaid"]


def test_local_engine_reads_a_glob_too_and_names_a_glob_that_matches_nothing(tmp_path: Path) -> None:
    whole = _generated(tmp_path, 80, 6)
    lines = (tmp_path / "invoices.json").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "split").mkdir()
    half = len(lines) // 2
    (tmp_path / "split" / "a.json").write_text("".join(lines[:half]), encoding="utf-8")
    (tmp_path / "split" / "b.json").write_text("".join(lines[half:]), encoding="utf-8")
    (tmp_path / "split" / "customers.json").write_bytes((tmp_path / "customers.json").read_bytes())
    split = load_settings(_config(tmp_path / "split", "[ab].json", "customers.json"), {})
    got = {t.name: t.frame for t in tables(split)}
    for t in tables(whole):
        if t.name not in ("About", "Data quality", "Sync status"):
            pd.testing.assert_frame_equal(got[t.name], t.frame, check_exact=True, obj=t.name)
    nothing = load_settings(_config(tmp_path / "split", "missing-*.json", "customers.json"), {})
    with pytest.raises(InputDataError, match=r"missing-\*\.json: no invoices file matches"):
        tables(nothing)


# ---------------------------------------------------------------------------------------------------- settings


def test_engine_settings_are_checked(tmp_path: Path) -> None:
    def config(text: str) -> Settings:
        return load_settings(_config(tmp_path, "i.json", "c.json", text), {})

    assert config("").engine == EngineSection()
    assert config('[engine]\nname = "dask"\nworkers = 2').engine.workers == 2
    assert config('[engine]\nprocesses = 0\nslice_charges = 0').engine.processes == 0
    assert config("").engine.processes == "auto" == config('[engine]\nprocesses = "auto"').engine.processes
    assert config('[engine]\nname = "dask"\nworkers = 2\nprocesses = "auto"').engine.processes == "auto"
    for bad, words in [('[engine]\nname = "spark"', "expected one of"),
                       ('[engine]\nname = "dask"', "needs engine.workers"),
                       ('[engine]\nname = "dask"\nworkers = 2\nscheduler = "tcp://h:8786"', "not both"),
                       ('[engine]\nworkers = 2', "dask engine only"),
                       ('[engine]\npartitions = 8', r"engine.partitions applies to the dask engine only"),
                       ('[engine]\nthreads_per_worker = 2\nscheduler = "tcp://h:8786"\npartitions = 3',
                        r"engine.scheduler, engine.partitions, engine.threads_per_worker apply to the dask engine "
                        r"only: set engine.name = \"dask\", or leave the key out"),
                       ('[engine]\nname = "dask"\nthreads_per_worker = 2\nscheduler = "tcp://h:8786"',
                        "sizes a local cluster's workers"),
                       ('[engine]\nname = "dask"\nscheduler = "h"', "expected an address"),
                       ('[engine]\nname = "dask"\nworkers = -1', "0 or more"),
                       ('[engine]\nprocesses = -1', "0 or more"),
                       ('[engine]\nprocesses = "many"', "processes = 'many': expected a whole number or 'auto'"),
                       ('[engine]\nprocesses = 2.5', "processes = 2.5: expected a whole number or 'auto'"),
                       ('[engine]\nprocesses = "x: expected y"', r"processes = 'x: expected y': expected a whole number "
                        r"or 'auto'$"),
                       ('[engine]\nslice_charges = -5', "0 or more"),
                       ('[engine]\nname = "dask"\nworkers = 2\nprocesses = 2', "local engine only"),
                       ('[engine]\ncores = 2', "unknown key engine.cores")]:
        with pytest.raises(ConfigError, match=words):
            config(bad)
    settings = config("")
    assert with_engine(settings, name="dask").engine.workers == 1
    on_dask = config('[engine]\nname = "dask"\nworkers = 2\npartitions = 8\nthreads_per_worker = 2')
    assert with_engine(on_dask, name="local").engine == EngineSection()  # --engine local: the cluster's keys go too
    running = with_engine(on_dask, scheduler="tcp://10.0.0.5:8786").engine  # a review: refused as a local cluster's
    assert (running.scheduler, running.workers, running.threads_per_worker) == ("tcp://10.0.0.5:8786", 0, 1)
    assert with_engine(settings, name="dask", scheduler="tcp://10.0.0.5:8786").engine.scheduler
    with pytest.raises(ConfigError, match="contracts"):
        with_engine(dataclasses.replace(settings, dataset=dataclasses.replace(settings.dataset, kind="contracts")),
                    name="dask", workers=2)


def test_cli_engine_flags(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from sync.cli import main

    write_sample(tmp_path, customers=40, seed=2)
    cfg = _config(tmp_path, "invoices.json", "customers.json")
    assert main(["now", "--config", str(cfg), "--workers", "2", "--dry-run"]) == 2  # bad usage
    assert "add --engine dask" in capsys.readouterr().err
    assert main(["now", "--config", str(cfg), "--engine", "dask", "--workers", "0", "--dry-run"]) == 2
    assert "expected 1 or more" in capsys.readouterr().err
    # --processes: the local engine's processes (a whole number, 0: one per CPU, or auto), over the config's
    assert main(["now", "--config", str(cfg), "--processes", "many", "--dry-run"]) == 2
    assert "'many': expected a whole number or auto" in capsys.readouterr().err
    assert main(["now", "--config", str(cfg), "--processes", "-1", "--dry-run"]) == 2
    assert "expected 0 or more" in capsys.readouterr().err
    settings = load_settings(cfg, {})
    assert with_engine(settings, processes=1).engine.processes == 1
    assert with_engine(settings, processes="auto").engine.processes == "auto"
    with pytest.raises(ConfigError, match="expected a whole number or 'auto'"):
        with_engine(settings, processes="many")  # type: ignore[arg-type]


def test_engine_flags_override_the_config_engine(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The command-line flags override the config's [engine] (docs/scale.md): --engine local runs a dask-configured
    job here for one run (its cluster is down), --engine dask runs a job whose config sets local processes; --workers
    with --scheduler is bad usage (exit 2), as the same pair in the config is an error. Each was refused, or accepted
    silently, before."""
    from sync.cli import main

    write_sample(tmp_path, customers=40, seed=2)
    cfg = _config(tmp_path, "invoices.json", "customers.json")
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text + '\n[engine]\nname = "dask"\nworkers = 2\n', encoding="utf-8")
    local = with_engine(load_settings(cfg, {}), name="local").engine
    assert (local.name, local.workers, local.scheduler) == ("local", 0, "")
    cfg.write_text(text + "\n[engine]\nprocesses = 4\n", encoding="utf-8")
    dask = with_engine(load_settings(cfg, {}), name="dask", workers=2).engine
    assert (dask.name, dask.workers, dask.processes) == ("dask", 2, "auto")
    assert with_engine(load_settings(cfg, {}), name="local").engine.processes == 4  # the config's, for its engine
    assert main(["now", "--config", str(cfg), "--engine", "dask", "--workers", "2", "--scheduler", "tcp://h:8786",
                 "--dry-run"]) == 2
    assert "give --workers (a local Dask cluster) or --scheduler (a running one), not both" in capsys.readouterr().err
    assert main(["now", "--config", str(cfg), "--engine", "dask", "--workers", "1", "--processes", "2",
                 "--dry-run"]) == 2
    assert "applies to the local engine only" in capsys.readouterr().err


def _server(reply: bytes | None):
    """A TCP server on a free local port that answers each connection with `reply` at once (None: never answers,
    as a web server waiting for a request does), and its address."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return listener, held, f"tcp://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("reply", [None, b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4])
def test_a_scheduler_address_where_no_dask_scheduler_answers_is_a_clean_error(reply: bytes | None) -> None:
    """At a port where something listens but no Dask scheduler answers (the dashboard's 8787, any web server), the
    run hung for ever (distributed's handshake has no deadline), or, when the service answered at once, failed with
    MemoryError (its bytes read as a frame length) and a traceback. Now a ConfigError within the deadline."""
    if distributed is None:
        pytest.skip("dask.distributed is not installed (pip install '.[dask]')")
    from sync.engine import _check_scheduler

    listener, held, address = _server(reply)
    began = time.monotonic()
    try:
        with pytest.raises(ConfigError, match=f"engine.scheduler {address}: no Dask scheduler answers"):
            _check_scheduler(address, seconds=1.0)
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert time.monotonic() - began < 10


def test_the_scheduler_probe_connects_as_the_client_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe takes the dask config's connection settings (a tls:// cluster's ssl_context), as Client() does: without
    them every TLS cluster was refused ("TLS expects a `ssl_context` argument")."""
    comm = pytest.importorskip("distributed.comm", reason="dask.distributed is not installed (pip install '.[dask]')")
    security = pytest.importorskip("distributed.security")
    from sync.engine import _check_scheduler

    seen: dict = {}

    class Comm:
        async def close(self) -> None:
            seen["closed"] = True

    async def connect(address: str, timeout: float, **kwargs: object) -> Comm:
        seen.update(address=address, **kwargs)
        return Comm()

    context = object()
    monkeypatch.setattr(comm, "connect", connect)
    monkeypatch.setattr(security.Security, "get_connection_args",
                        lambda self, role: {"ssl_context": context, "require_encryption": True})
    _check_scheduler("tls://10.0.0.5:8786", seconds=1.0)
    assert seen == {"address": "tls://10.0.0.5:8786", "ssl_context": context, "require_encryption": True,
                    "closed": True}


def test_a_tls_config_naming_a_missing_file_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dask config whose TLS files are missing: a ConfigError naming the scheduler, not an internal error (before the
    probe took the TLS settings, the Client's OSError was reported so)."""
    dask = pytest.importorskip("dask", reason="dask.distributed is not installed (pip install '.[dask]')")
    pytest.importorskip("distributed.security")
    from sync.engine import _check_scheduler

    missing = {"distributed.comm.tls.ca-file": "/nonexistent/ca.pem",
               "distributed.comm.tls.client.cert": "/nonexistent/client.pem"}
    with dask.config.set(missing), pytest.raises(ConfigError, match="engine.scheduler tcp://127.0.0.1:9: the dask "
                                                                    "config's TLS settings"):
        _check_scheduler("tcp://127.0.0.1:9", seconds=1.0)


def test_a_real_scheduler_passes_the_check(cluster) -> None:
    from sync.engine import _check_scheduler

    _check_scheduler(cluster.scheduler_address, seconds=5.0)


def test_a_bad_file_read_by_a_dask_task_is_one_line_not_a_worker_traceback(tmp_path: Path, cluster,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    """A glob's file with too many bad lines, read by a task: the run fails with the reader's one-line error (file,
    line, field), and the worker logs no "Compute Failed" traceback beside it (on stderr and outside
    --log-format json): the task returns the error, the driver raises it."""
    import logging

    _generated(tmp_path, 60, 4)
    lines = (tmp_path / "invoices.json").read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    (tmp_path / "inv-1.json").write_bytes(b"".join(lines[:half]))
    lines[half + 2] = b'{"customerId": "x", "amountPaid": "lots", "timestampPaid": 1500000000}\n'
    (tmp_path / "inv-2.json").write_bytes(b"".join(lines[half:]))
    cfg = _config(tmp_path, "inv-*.json", "customers.json")
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[quality]\nmax_bad_share = 0.0\n", encoding="utf-8")
    with caplog.at_level(logging.INFO), pytest.raises(InputDataError, match=r"inv-2.json: 1 of \d+ lines are bad "
                                                                              r".*line 3, field amountPaid"):
        tables(_on(load_settings(cfg, {}), cluster))
    assert not [r for r in caplog.records if "Compute Failed" in r.getMessage()]


def test_frames_packed_to_cross_between_processes_come_back_as_they_were(tmp_path: Path) -> None:
    """`_packed` leaves out the text columns codes rebuild and sends few-label columns as categories; `_unpacked`
    gives the frames back as made but those columns, which `with_text` puts back (combine rebuilds them for all
    slices at once), and through the out-of-band transport too. A label column with a missing value
    is sent as it is (a category would bring it back NaN, whatever it was)."""
    from sync import engine
    from sync.run import load_dataset, resolve_as_of

    settings = _generated(tmp_path, 120, 2)
    loaded = load_dataset(settings, STARTED)
    as_of = resolve_as_of(settings, loaded, None, STARTED)
    assert loaded.charges is not None
    frames = run_partition(loaded.charges, loaded.customers, settings.params, as_of)
    kind = frames.billing["kind"].astype(object)
    kind.iloc[0] = None
    gappy = dataclasses.replace(frames, billing=frames.billing.assign(kind=kind))
    for made in (frames, gappy):
        packed = engine._packed(made)
        labelled = {(f, c) for f, c, _ in packed[1]}
        assert "customer_id" not in engine._unpacked(packed).schedule.columns
        assert ("schedule", "source") in labelled and (("billing", "kind") in labelled) == (made is frames)
        assert_same_frames(with_text(engine._unpacked(packed)), made)
        here, there = multiprocessing.Pipe()
        try:
            sender = threading.Thread(target=engine._send_out_of_band, args=(there, packed))
            sender.start()
            sending = types.SimpleNamespace(name="the sender", exitcode=None, join=lambda timeout=None: None)
            received = engine._receive(sending, here)
            sender.join()
        finally:
            here.close()
            there.close()
        assert_same_frames(with_text(engine._unpacked(received)), made)
    assert gappy.billing["kind"].iloc[0] is None


def test_frame_bytes_cut_short_raise_in_the_sender_which_a_slice_process_turns_into_its_exit() -> None:
    """A write of frame bytes that fails (the reader gone) raises `_MidFrames` where it is called: a slice process
    then ends (nothing may follow half a message), but `_send_out_of_band` itself never ends the process it runs in."""
    from sync import engine

    here, there = multiprocessing.Pipe()

    def read_the_header_and_go() -> None:
        here.recv()
        here.close()

    reader = threading.Thread(target=read_the_header_and_go)
    reader.start()
    try:
        with pytest.raises(engine._MidFrames):
            engine._send_out_of_band(there, np.zeros(4 << 20))  # 32 MB: more than the socket holds
    finally:
        reader.join()
        there.close()
