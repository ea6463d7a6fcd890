"""The Google Sheets sink at scale, through the test fake (tests/fakes/sheets.py): no network.

Usage (from the repository, with its test extra installed):
    PYTHONPATH=. python benchmarks/sheets.py CONFIG [--tables PICKLE] [--no-fake]

Computes the config's tables once (or loads them from PICKLE, written on the first run with that option), then
measures, in this process:
- plan: rendering every tab into cells and planning the requests against an empty spreadsheet (`GSheetSink.plan`);
- publish: a whole first publish through the fake (real gspread and google-auth above it; the fake validates every
  body against the discovery document, applies it and checks Google's limits), the request count and the bytes
  of the request bodies as sent;
- rerun: the same tables again (nothing changed: 1 read, no write).
Peak RSS is the process's own (ru_maxrss), so it covers the fake's copy of the workbook too.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import resource
import sys
import time
from pathlib import Path

import pandas as pd
import responses


def tables_for(config: str, cache: str | None) -> list:
    if cache and Path(cache).exists():
        with open(cache, "rb") as handle:
            return pickle.load(handle)
    from sync.run import compute_tables, prepare_context
    from sync.settings import load_settings

    settings = load_settings(config)
    # one process: the peak RSS reported is this process's (RUSAGE_SELF), which sees nothing of the slice processes
    # `processes = "auto"` starts from 3M charges
    settings = dataclasses.replace(settings, engine=dataclasses.replace(settings.engine, processes=1))
    ctx = prepare_context(settings, as_of=None, started_at=pd.Timestamp.now(tz="UTC"), destination="bench",
                          history=[], hr_data=lambda: (None, ()))
    tables, _ = compute_tables(ctx)
    if cache:
        with open(cache, "wb") as handle:
            pickle.dump(tables, handle)
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--tables", metavar="PICKLE", help="cache of the computed tables")
    parser.add_argument("--no-fake", action="store_true", help="measure the plan only")
    args = parser.parse_args(argv)

    from sync.retry import RetryPolicy
    from sync.settings import load_settings
    from sync.sinks.gsheet import GSheetSink
    from tests.fakes.keys import service_account_key
    from tests.fakes.sheets import FakeSheets

    settings = load_settings(args.config)
    tables = tables_for(args.config, args.tables)
    cells = sum(len(t.frame) * len(t.columns) for t in tables)
    print(f"{len(tables)} tabs, {sum(len(t.frame) for t in tables):,} rows, {cells:,} cells")
    key = service_account_key("kpi-bench")
    sizes: list[int] = []
    original = FakeSheets._batch

    def counted(self, request):  # the bytes of each batchUpdate body as sent
        body = request.body or b""
        sizes.append(len(body.encode("utf-8") if isinstance(body, str) else body))
        return original(self, request)

    FakeSheets._batch = counted  # type: ignore[method-assign]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeSheets(rsps, key)

        def sink() -> GSheetSink:
            return GSheetSink(fake.spreadsheet_id, key, currency=settings.params.currency,
                              timezone=settings.params.timezone, policy=RetryPolicy(max_retries=0))

        began = time.perf_counter()
        plan = sink().plan(tables)
        planned = time.perf_counter() - began
        print(f"plan: {planned:.2f} s, {len(plan.batches)} requests, {plan.bytes:,} bytes planned")
        if not args.no_fake:
            began = time.perf_counter()
            result = sink().publish(tables)
            took = time.perf_counter() - began
            print(f"publish through the fake: {took:.2f} s, {result.requests} requests "
                  f"({len(sizes)} batchUpdate), {sum(sizes):,} bytes sent, largest body {max(sizes):,} bytes")
            assert fake.schema_errors == [], fake.schema_errors[:3]
            sent = len(sizes)
            began = time.perf_counter()
            again = sink().publish(tables)
            print(f"rerun, nothing changed: {time.perf_counter() - began:.2f} s, {again.requests} requests, "
                  f"{len(sizes) - sent} writes")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
