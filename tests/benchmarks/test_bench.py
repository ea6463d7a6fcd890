"""benchmarks/bench.py: a tiny run on the Sheets fake gives a table with the floor, the ratio and the request bytes."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmarks import load


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load("bench")


def test_tiny_run_reports_floor_ratio_and_sheets_requests(bench: ModuleType, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    """One run on ~1,500 generated charges to the Sheets fake (the whole job, in a child): exit 0, a floor, a ratio."""
    report = tmp_path / "results.md"
    code = bench.main(["1500", "--runs", "1", "--sinks", "gsheet", "--no-shared", "--cache", str(tmp_path),
                       "--markdown", str(report)])
    assert code == 0, capsys.readouterr().err
    rows = [line for line in report.read_text(encoding="utf-8").splitlines() if line.startswith("| generated")]
    assert [r.split(" | ")[4] for r in rows] == ["gsheet"]
    sheets = rows[0].split(" | ")
    assert float(sheets[10]) > 0 and sheets[11].endswith("x") and sheets[-1] == "0 |"
    assert int(sheets[12].split(" ")[0]) >= 2 and float(sheets[13]) > 0  # a read and a write at least; a plan
    assert (tmp_path / "generated-1500-seed7" / "invoices.json").is_file()  # kept for the next run


def test_engine_options_reach_the_job(bench: ModuleType, tmp_path: Path) -> None:
    """--engine dask --workers 2 is passed to every job (the Dask engine itself is issue 13 item 4)."""
    config = tmp_path / "bench.toml"
    for sink in ("csv", "xlsx", "gsheet"):
        command = bench.job_command(config, sink, tmp_path, "dask", 2, validate=False)
        assert command[-4:] == ["--engine", "dask", "--workers", "2"]
        assert "--engine" not in bench.job_command(config, sink, tmp_path, "single", 1, validate=False)
