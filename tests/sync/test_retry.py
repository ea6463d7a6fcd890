"""The generic retry policy: bounded, jittered, Retry-After honoured, a total deadline; time injected."""

from __future__ import annotations

import pytest

from sync.retry import Backoff, GaveUp, Retry, RetryPolicy, call_with_retry, parse_retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Flaky(Exception):
    def __init__(self, after: float | None = None):
        super().__init__("flaky")
        self.after = after


def _classify(exc: Exception) -> Retry | None:
    return Retry(exc.after) if isinstance(exc, Flaky) else None


def _backoff(clock: Clock, rand: float = 1.0, **policy: float) -> Backoff:
    return Backoff(RetryPolicy(**policy), sleep=clock.sleep, clock=clock, random=lambda: rand)  # type: ignore[arg-type]


def _failing(times: int, after: float | None = None):
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise Flaky(after)
        return "ok"

    return fn, calls


def test_succeeds_after_transient_failures_with_exponential_delays():
    """Three failures then success: delays double from the base (full jitter with random=1)."""
    clock = Clock()
    fn, calls = _failing(3)
    assert call_with_retry(fn, _classify, _backoff(clock)) == "ok"
    assert calls["n"] == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_jitter_scales_the_delay():
    """The delay is random() times the exponential step."""
    clock = Clock()
    fn, _ = _failing(2)
    call_with_retry(fn, _classify, _backoff(clock, rand=0.25))
    assert clock.sleeps == [0.25, 0.5]


def test_delays_are_capped():
    """No delay exceeds cap_seconds."""
    clock = Clock()
    fn, _ = _failing(6)
    call_with_retry(fn, _classify, _backoff(clock, max_retries=10, cap_seconds=5, deadline_seconds=1000))
    assert clock.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_retry_after_is_a_floor():
    """A server's Retry-After is waited at least, even when the backoff step is shorter."""
    clock = Clock()
    fn, _ = _failing(1, after=9)
    call_with_retry(fn, _classify, _backoff(clock))
    assert clock.sleeps == [9]


def test_gives_up_after_max_retries():
    """After max_retries retries the last failure is raised inside GaveUp."""
    clock = Clock()
    fn, calls = _failing(100)
    with pytest.raises(GaveUp) as info:
        call_with_retry(fn, _classify, _backoff(clock, max_retries=3))
    assert calls["n"] == 4 and info.value.attempts == 4
    assert isinstance(info.value.last, Flaky)


def test_deadline_bounds_the_total_time():
    """No retry starts that would end after the deadline."""
    clock = Clock()
    fn, _ = _failing(100)
    with pytest.raises(GaveUp, match="deadline 10s"):
        call_with_retry(fn, _classify, _backoff(clock, max_retries=50, deadline_seconds=10))
    assert sum(clock.sleeps) <= 10


def test_non_retryable_failures_are_raised_at_once():
    """A failure classify maps to None is not retried."""
    clock = Clock()

    def fn() -> None:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        call_with_retry(fn, _classify, _backoff(clock))
    assert clock.sleeps == []


def test_one_backoff_is_a_budget_shared_by_calls():
    """Retries spent by one call count against the next call on the same Backoff."""
    clock = Clock()
    backoff = _backoff(clock, max_retries=3)
    call_with_retry(_failing(2)[0], _classify, backoff)
    with pytest.raises(GaveUp):
        call_with_retry(_failing(2)[0], _classify, backoff)
    assert backoff.retries == 3


def test_parse_retry_after_seconds_and_dates():
    """Retry-After as seconds or as an HTTP date; junk and absence give None."""
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    now = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now=now) == 30.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
