"""One run at a time across processes, and a way to stop a run that never cuts a publish in half.

The run lock is an OS lock (`flock` on Unix, through `filelock`) on a small file. The operating
system releases it when its holder exits, however it exits (crash, SIGKILL, OOM kill, a dyno
restart), so a lock left by a dead process never blocks anyone: the file may stay on disk, the
lock does not. The holder writes who it is into the file, for the message the loser prints.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from sync.errors import LockedError, SyncError


class Cancelled(SyncError):
    """The run was asked to stop before it published: nothing was published."""


def _holder_text(now: pd.Timestamp | None = None) -> str:
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:2])) or "python"
    return f"pid {os.getpid()} on {socket.gethostname()} ({command}), since {now:%Y-%m-%d %H:%M:%S} UTC"


def _read_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()[:200]
    except OSError:
        return ""


@contextlib.contextmanager
def run_lock(path: str | Path, *, timeout: float = 0) -> Iterator[None]:
    """Hold the run lock at `path` for the duration of the block.

    Raises LockedError (exit code 3) at once (or after `timeout` seconds) when another process
    holds it, naming that process.
    """
    file = Path(path)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SyncError(f"cannot create the folder for the lock file {file}: {exc.strerror}") from None
    lock = FileLock(str(file), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        holder = _read_holder(file)
        who = f" ({holder})" if holder else ""
        raise LockedError(
            f"another kpi-sync run holds the lock {file}{who}: nothing was done; try again when it has finished "
            "(the lock frees itself when that process ends)"
        ) from None
    except OSError as exc:
        raise SyncError(f"cannot take the lock {file}: {exc.strerror or exc}") from None
    try:
        _write_holder(file)
        yield
    finally:
        lock.release()


def _write_holder(file: Path) -> None:
    # A second descriptor: the flock belongs to filelock's own descriptor and stays untouched.
    with contextlib.suppress(OSError), file.open("r+", encoding="utf-8") as handle:
        handle.truncate(0)
        handle.write(_holder_text() + "\n")


class StopGate:
    """Lets the worker stop a run between steps, and never in the middle of its publish.

    The run calls `checkpoint(step)` between steps (raises Cancelled once a stop was asked) and
    publishes inside `with gate.publishing():`. The worker calls `close(timeout)`: it asks the
    run to stop, waits for a publish in progress to finish, and from then on no publish starts.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._publish = threading.Lock()
        self.publishing_now = False

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def checkpoint(self, step: str) -> None:
        if self._stop.is_set():
            raise Cancelled(f"stopped before {step}: nothing was published")

    @contextlib.contextmanager
    def publishing(self) -> Iterator[None]:
        while not self._publish.acquire(timeout=0.1):
            self.checkpoint("publishing")  # the gate was closed: never wait for it to reopen
        try:
            self.checkpoint("publishing")
            self.publishing_now = True
            yield
        finally:
            self.publishing_now = False
            self._publish.release()

    def close(self, timeout: float) -> bool:
        """Ask the run to stop; wait up to `timeout` s for a publish in progress. True when none is left running."""
        self._stop.set()
        # The lock is never released again: a run that reaches its publish after this finds the gate shut.
        return self._publish.acquire(timeout=timeout)
