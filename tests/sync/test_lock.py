"""One run at a time: the lock (exit 3 for the loser, freed when its holder dies) and the stop gate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sync.cli import main
from sync.errors import LockedError
from sync.lock import Cancelled, StopGate, run_lock
from tests.sync.test_guard import history, make_ops_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")

# A test-only hook, loaded by the child interpreter through sitecustomize (never part of kpi-sync): it
# makes a run wait, at loading or at publishing, until the test creates a "go" file, and says it is waiting
# by creating "waiting-<pid>". That puts a run deterministically in flight, with no sleeps in the test.
_HOOK = textwrap.dedent(
    """
    import os, pathlib, time
    _phase = os.environ.get("KPI_TEST_HOOK_PHASE")
    if _phase:
        _dir = pathlib.Path(os.environ["KPI_TEST_HOOK_DIR"])

        def _hold():
            (_dir / f"waiting-{os.getpid()}").write_text("")
            deadline = time.monotonic() + 60
            while not (_dir / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.02)

        if _phase == "load":
            import sync.run as _run
            _load = _run.load_dataset

            def load_dataset(settings, *args, **kwargs):
                _hold()
                return _load(settings, *args, **kwargs)

            _run.load_dataset = load_dataset
        elif _phase == "publish":
            import sync.sinks.xlsx as _xlsx
            _publish = _xlsx.XlsxSink.publish

            def publish(self, tables, *, force=False):
                _hold()
                return _publish(self, tables, force=force)

            _xlsx.XlsxSink.publish = publish
    """
)


def hook_env(tmp_path: Path, phase: str) -> tuple[dict[str, str], Path]:
    """Environment for a child `python -m sync` whose run waits at `phase` until `<dir>/go` exists."""
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(_HOOK, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "LUCCA_", "KPI_SYNC_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(hook_dir), str(ROOT)]),
        KPI_TEST_HOOK_PHASE=phase,
        KPI_TEST_HOOK_DIR=str(hook_dir),
    )
    return env, hook_dir


def wait_for(predicate: Callable[[], object], what: str, seconds: float = 60.0) -> None:
    """Poll until `predicate()` holds; a deadline only so that a broken build fails instead of hanging."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def test_second_holder_gets_locked_error_naming_the_first(tmp_path: Path) -> None:
    """While the lock is held, another taker fails at once with LockedError (exit code 3) naming the holder."""
    path = tmp_path / "state" / "kpi-sync.lock"
    with run_lock(path):
        with pytest.raises(LockedError) as caught, run_lock(path):
            pass
        assert caught.value.exit_code == 3
        assert f"pid {os.getpid()}" in str(caught.value) and str(path) in str(caught.value)
    with run_lock(path):  # released at the end of the block
        pass


def test_lock_of_a_killed_process_does_not_block(tmp_path: Path) -> None:
    """A process killed with SIGKILL while holding the lock leaves it free: the OS releases flock locks."""
    path = tmp_path / "kpi-sync.lock"
    code = f"from sync.lock import run_lock\nimport time\nwith run_lock({str(path)!r}):\n    print('held', flush=True)\n    time.sleep(120)\n"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(LockedError), run_lock(path):
            pass
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    assert path.exists()  # the file stays, the lock does not
    with run_lock(path):
        pass


def test_now_while_a_run_holds_the_lock_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`now` while another run holds the lock exits 3 with a one-line message and publishes nothing."""
    config = make_ops_config(tmp_path)
    out = tmp_path / "out"
    with run_lock(tmp_path / "state" / "kpi-sync.lock"):
        assert main(["now", "--config", str(config), "--sink", f"csv:{out}"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Error: another kpi-sync run holds the lock") and err.count("\n") == 1
    assert not out.exists()
    assert not (tmp_path / "state" / "last_run.json").exists()  # a locked-out run records nothing


def test_two_processes_racing_one_publishes_the_other_exits_3(tmp_path: Path) -> None:
    """Two `kpi-sync now` started together: the one that gets the lock publishes, the other exits 3 at once."""
    config = make_ops_config(tmp_path)
    book = tmp_path / "out" / "kpis.xlsx"
    env, hook_dir = hook_env(tmp_path, "load")  # the winner waits at loading, holding the lock
    argv = [sys.executable, "-m", "sync", "now", "--config", str(config), "--sink", f"xlsx:{book}"]
    procs = [subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        wait_for(lambda: any(p.poll() is not None for p in procs), "one process to exit")
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        assert loser.returncode == 3
        assert "another kpi-sync run holds the lock" in loser.communicate()[1]
        assert winner.poll() is None and list(hook_dir.glob("waiting-*")) == [hook_dir / f"waiting-{winner.pid}"]
        assert not book.exists()

        (hook_dir / "go").touch()
        out, err = winner.communicate(timeout=120)
        assert winner.returncode == 0, err
        assert "Published" in out
    finally:
        for p in procs:
            p.kill()
    assert book.exists()
    assert [r["outcome"] for r in history(config)] == ["published"]


def test_gate_waits_for_a_publish_in_progress() -> None:
    """close() returns only after a publish in progress ends; a publish that would start afterwards is cancelled."""
    gate = StopGate()
    events: list[str] = []
    inside, release = threading.Event(), threading.Event()

    def publisher() -> None:
        with gate.publishing():
            inside.set()
            release.wait(30)
            events.append("published")

    thread = threading.Thread(target=publisher)
    thread.start()
    assert inside.wait(30)
    closer = threading.Thread(target=lambda: events.append(f"closed {gate.close(timeout=30)}"))
    closer.start()
    wait_for(lambda: gate.stopping, "the stop to be asked")
    release.set()
    thread.join(30)
    closer.join(30)
    assert events == ["published", "closed True"]
    with pytest.raises(Cancelled, match="nothing was published"), gate.publishing():
        events.append("never")
    assert "never" not in events


def test_checkpoint_raises_after_a_stop() -> None:
    """Between steps, a run stops with Cancelled once a stop was asked, and not before."""
    gate = StopGate()
    gate.checkpoint("loading")
    assert gate.close(timeout=1)
    with pytest.raises(Cancelled, match="stopped before loading"):
        gate.checkpoint("loading")
