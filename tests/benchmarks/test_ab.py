"""benchmarks/ab.py: paired runs report wall, CPU and memory, of the largest process and of the whole process tree."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from tests.benchmarks import load

# a parent that holds little and starts a child holding 200 MiB for a second
CHILD = "import time; x = bytearray(200 * 2**20); x[::4096] = b'1' * len(x[::4096]); time.sleep(1.0)"
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}], check=True)"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="the process tree is read from Linux's /proc")
def test_a_run_counts_the_memory_of_the_processes_it_starts() -> None:
    ab = load("ab")
    run = ab.run_once([sys.executable, "-c", PARENT])
    assert run.code == 0
    assert run.wall >= 1.0
    assert run.all_mib >= 200  # the child's 200 MiB, with the parent's own
    assert not math.isnan(run.peak_mib) and run.all_mib >= run.peak_mib - 1


def test_the_report_pairs_a_against_b(capsys: pytest.CaptureFixture) -> None:
    ab = load("ab")
    assert ab.main(["-n", "1", "--warmup", "0", "--a", f"{sys.executable} -c pass", "--b", f"{sys.executable} -c pass"]) == 0
    out = capsys.readouterr().out
    for label in ("A wall s", "B peak MiB", "A all procs MiB", "A/B wall", "A/B cpu"):
        assert label in out
