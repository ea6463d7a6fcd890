"""benchmarks/tail.py: a context saved once and the tail run on it give the tables `kpi-sync now` computes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from sync.run import build_context, check_invariants, compute_tables, load_dataset, resolve_as_of
from sync.samples.payments import write_sample
from sync.settings import load_settings
from tests.benchmarks import load


def test_saved_context_gives_the_run_s_tables_and_a_fingerprint_that_tells_them_apart(tmp_path: Path) -> None:
    write_sample(tmp_path, customers=60, seed=3)
    config = tmp_path / "config.toml"
    config.write_text('timezone = "UTC"\n[dataset]\nkind = "payments"\n[sources]\ninvoices = "invoices.json"\n'
                      'customers = "customers.json"\n', encoding="utf-8")
    tail = load("tail")
    tail.save(str(config), str(tmp_path / "ctx.pkl"))
    prints = tail.run(str(tmp_path / "ctx.pkl"), str(tmp_path / "out.json"))
    assert json.loads((tmp_path / "out.json").read_text())["tables"] == prints
    from kpi.tables import RunInfo

    settings = load_settings(config)
    loaded = load_dataset(settings)
    ctx = build_context(settings, loaded, resolve_as_of(settings, loaded, None), RunInfo())
    check_invariants(ctx)
    tables, _ = compute_tables(ctx)
    direct = {t.name: tail.fingerprint(t) for t in tables}
    assert {k: v for k, v in prints.items() if k not in ("About", "Sync status")} == {
        k: v for k, v in direct.items() if k not in ("About", "Sync status")}
    assert {"MRR", "Movements", "Customers", "Billing"} <= set(prints)
    mrr = next(t for t in tables if t.name == "MRR")
    money = next(c for c in mrr.frame.columns if mrr.frame[c].dtype.kind == "f")
    changed = type(mrr)(mrr.tab, mrr.columns, mrr.frame.assign(**{money: mrr.frame[money] + 0.01}), mrr.note)
    assert tail.fingerprint(changed) != tail.fingerprint(mrr)
    signed = type(mrr)(mrr.tab, mrr.columns, mrr.frame.assign(**{money: -0.0}), mrr.note)
    unsigned = type(mrr)(mrr.tab, mrr.columns, mrr.frame.assign(**{money: 0.0}), mrr.note)
    assert tail.fingerprint(signed) != tail.fingerprint(unsigned)  # the sinks write -0 and 0
    kinds = tuple(dataclasses.replace(c, kind="number") if c.kind == "money" else c for c in mrr.columns)
    assert kinds != mrr.columns and tail.fingerprint(type(mrr)(mrr.tab, kinds, mrr.frame, mrr.note)) != \
        tail.fingerprint(mrr)  # a kind is how every sink formats the column
    texts = pd.DataFrame({"v": pd.Series([1, "1"], dtype=object)})
    numbers = pd.DataFrame({"v": pd.Series(["1", "1"], dtype=object)})
    assert tail.fingerprint(type(mrr)(mrr.tab, mrr.columns, texts, None)) != \
        tail.fingerprint(type(mrr)(mrr.tab, mrr.columns, numbers, None))  # 1 and "1" hash alike in pandas


def test_a_job_repo_that_is_no_checkout_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.benchmarks import REPO

    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "tail.py"), "--job-repo", str(tmp_path), "run",
                           "x.pkl"], capture_output=True, text=True)
    assert done.returncode != 0 and "not a checkout of this project" in done.stderr
