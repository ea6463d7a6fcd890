"""sync.sinks.ordered.in_order: slices built by threads, results in order, memory bounded, errors where they belong."""

from __future__ import annotations

import threading
import time

import pytest

from sync.sinks.ordered import in_order


def test_results_come_in_the_items_order_whatever_order_they_finish_in() -> None:
    def slow_first(i: int) -> int:
        time.sleep(0.02 if i % 3 == 0 else 0.0)  # the first of each three finishes last
        return i * i

    assert list(in_order(slow_first, range(20))) == [i * i for i in range(20)]
    assert list(in_order(slow_first, [])) == []
    assert list(in_order(slow_first, [3])) == [9]


def test_at_most_threads_plus_one_results_are_held_ahead_of_the_consumer() -> None:
    """The consumer writes one slice while `threads` more are built: never more slices' text in memory."""
    started: list[int] = []
    lock = threading.Lock()

    def build(i: int) -> int:
        with lock:
            started.append(i)
        return i

    consumed = 0
    for got in in_order(build, range(50), threads=2):
        time.sleep(0.001)
        with lock:
            ahead = len(started) - consumed
        assert ahead <= 3, (got, ahead)
        consumed += 1
    assert consumed == 50


def test_an_error_of_one_slice_is_raised_in_its_place() -> None:
    def build(i: int) -> int:
        if i == 5:
            raise ValueError("slice 5")
        return i

    got: list[int] = []
    with pytest.raises(ValueError, match="slice 5"):
        for value in in_order(build, range(10)):
            got.append(value)
    assert got == [0, 1, 2, 3, 4]
    assert not [t for t in threading.enumerate() if t.name.startswith("kpi-sync-sink")]  # its threads are gone
