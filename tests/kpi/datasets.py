"""The datasets the job ships with or is run on, each as the run's Context, built once per session.

shared: the real payment log next to the repository (skipped when it is not there); payments sample and
contracts sample: the shipped samples (config/default.toml, config/contracts.toml); contracts fixture: the
hand-computed tests/fixtures/contracts; generated: a payment log from sync.samples.payments.generate, written
to a temporary folder and read by the job's own loader, with as_of in the middle of a month.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest

from kpi.tables import Context, RunInfo

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "payments-log"
CONFIGS = {
    "shared": REPO / "config" / "shared-payments-log.toml",
    "payments sample": REPO / "config" / "default.toml",
    "contracts sample": REPO / "config" / "contracts.toml",
    "contracts fixture": REPO / "tests" / "fixtures" / "contracts" / "config.toml",
}
DATASETS = (*CONFIGS, "generated")
GENERATED_AS_OF = "2017-09-14"


@functools.cache
def _context(name: str) -> Context:
    from sync.run import build_context, load_dataset, resolve_as_of
    from sync.settings import load_settings

    as_of = None
    if name == "generated":
        from sync.samples.payments import write_sample

        folder = Path(tempfile.mkdtemp(prefix="kpi-generated-"))
        write_sample(folder, customers=400, seed=11)
        config = folder / "config.toml"
        config.write_text('[dataset]\nkind = "payments"\n[sources]\ninvoices = "invoices.json"\n'
                          'customers = "customers.json"\n', encoding="utf-8")
        as_of = GENERATED_AS_OF
    else:
        config = CONFIGS[name]
    settings = load_settings(config, {})
    loaded = load_dataset(settings)
    return build_context(settings, loaded, resolve_as_of(settings, loaded, as_of), RunInfo())


def dataset_context(name: str) -> Context:
    """The Context of dataset `name` (one of DATASETS); skips the test when the shared log is not there."""
    if name == "shared" and not SHARED.is_dir():
        pytest.skip(f"the shared payment log is not at {SHARED}")
    return _context(name)
