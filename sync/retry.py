"""Bounded retries for HTTP clients: jittered exponential backoff, Retry-After honoured, a total deadline.

Generic on purpose (the Google Sheets sink and the Lucca client share it): the caller says which
failures are worth retrying with a `classify` function; sleep, clock and randomness are injected so
tests never wait.

    backoff = Backoff(RetryPolicy(max_retries=5, deadline_seconds=120))
    data = call_with_retry(fetch, classify, backoff)

One `Backoff` can be shared by several calls of one job: its retry count and deadline are totals,
so a run with several requests still gives up in bounded time.
"""

from __future__ import annotations

import email.utils
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Delays: full jitter over min(cap, base * 2**n), at least what Retry-After asks."""

    max_retries: int = 5  # retries after the first attempt, in total for one Backoff
    base_seconds: float = 1.0
    cap_seconds: float = 32.0
    deadline_seconds: float = 120.0  # no retry is started that would end after this, counted from the start

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.base_seconds < 0 or self.cap_seconds < 0 or self.deadline_seconds < 0:
            raise ValueError("retry policy values must not be negative")


@dataclass(frozen=True)
class Retry:
    """A failure worth retrying; `after` is the server's Retry-After in seconds, if it sent one."""

    after: float | None = None


class GaveUp(Exception):
    """Retries are exhausted. `last` is the final failure; `reason` says which bound was hit."""

    def __init__(self, last: BaseException, attempts: int, elapsed: float, reason: str):
        super().__init__(f"gave up after {attempts} attempts in {elapsed:.0f}s ({reason}): {last}")
        self.last = last
        self.attempts = attempts
        self.elapsed = elapsed
        self.reason = reason


class Backoff:
    """The retry budget of one job: counts retries, keeps the deadline, computes and sleeps the delays."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ):
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._start = clock()
        self.retries = 0
        self.slept: list[float] = []

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    def delay(self, retry: Retry) -> float:
        """The next delay: full jitter on the exponential step, never less than Retry-After."""
        p = self.policy
        step = min(p.cap_seconds, p.base_seconds * (2**self.retries))
        delay = self._random() * step
        if retry.after is not None:
            delay = max(delay, retry.after)
        return delay

    def wait(self, failure: BaseException, retry: Retry) -> None:
        """Sleep before the next attempt, or raise GaveUp when the retry count or the deadline is used up."""
        attempts = self.retries + 1
        if self.retries >= self.policy.max_retries:
            raise GaveUp(failure, attempts, self.elapsed, f"{self.policy.max_retries} retries") from failure
        delay = self.delay(retry)
        if self.elapsed + delay > self.policy.deadline_seconds:
            reason = f"deadline {self.policy.deadline_seconds:.0f}s"
            if retry.after is not None:
                reason += f", the server asked to wait {retry.after:.0f}s"
            raise GaveUp(failure, attempts, self.elapsed, reason) from failure
        self.retries += 1
        self.slept.append(delay)
        self._sleep(delay)


def call_with_retry(
    fn: Callable[[], T],
    classify: Callable[[Exception], Retry | None],
    backoff: Backoff,
    *,
    on_retry: Callable[[Exception, int], None] | None = None,
) -> T:
    """Call `fn` until it returns. A failure `classify` maps to None is raised at once; others are
    retried within the backoff's budget, then raised as GaveUp (with the last failure attached)."""
    while True:
        try:
            return fn()
        except Exception as exc:
            retry = classify(exc)
            if retry is None:
                raise
            backoff.wait(exc, retry)
            if on_retry is not None:
                on_retry(exc, backoff.retries)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (then `now`, epoch
    seconds, defaults to the wall clock). None when absent or unreadable; never negative."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
