"""benchmarks/tail.py: a context saved once and the tail run on it give the tables `kpi-sync now` computes."""

from __future__ import annotations

import json
from pathlib import Path

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
