"""`in_order`: a function over the slices of a tall tab in a few threads, its results in the slices' order.

The sinks build a tab's text (CSV records, SpreadsheetML rows) slice by slice with Arrow's compute kernels, which
run without the GIL, and write each slice as it comes (the text of a whole tab is never held at once). Building the
next slices while the current one is written (and, for the workbook, compressed: zlib runs without the GIL too)
keeps both cores of a small worker busy (benchmarks/results.md, stop 35: at 10M charges the CSV sink 20 -> 12 s
with two threads, the .xlsx sink 45 -> 41 s with one). The bytes written are the same: every slice's text depends on
its rows alone.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

THREADS = 2  # slices built at once, besides the one being written


def in_order(fn: Callable[[T], R], items: Iterable[T], threads: int = THREADS) -> Iterator[R]:
    """fn of each item, in the items' order, at most `threads` computed at once ahead of the one being consumed (the
    memory of threads + 1 results). An exception of fn is raised where its result would have come; the slices
    submitted after it are finished (or cancelled) before it leaves."""
    items = iter(items)
    head = list(itertools.islice(items, 2))
    if len(head) < 2:  # no slice, or one (most tabs): no thread
        yield from map(fn, head)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="kpi-sync-sink") as pool:
        pending: deque[Future[R]] = deque(pool.submit(fn, item) for item in head)
        try:
            for item in items:
                if len(pending) >= threads + 1:
                    yield pending.popleft().result()
                pending.append(pool.submit(fn, item))
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
