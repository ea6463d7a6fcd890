"""The invariants and the tabs alone, on a context built once: their time, and a fingerprint of every table.

Usage:
    python benchmarks/tail.py save CONFIG CONTEXT.pkl      # load and build_context once, pickle the context
    python benchmarks/tail.py run CONTEXT.pkl [--json F]   # check_invariants + compute_tables on it, timed
    python benchmarks/tail.py load CONFIG [--json F]        # load_dataset alone, timed, its frames fingerprinted

`run` prints the wall, user and system seconds and the page faults of the two steps (resource.getrusage), and one
fingerprint per table (SHA-1 of its columns, dtypes, note and pandas' hash of its rows); --json writes them to F.
Two checkouts compared on the same context: `python benchmarks/tail.py --job-repo <checkout> run CONTEXT.pkl` for
each (before the command; default: this checkout; it must hold kpi/ and sync/, and the code imported is checked to
be its own), then the fingerprints side by side (a table that differs names itself). The 10M bench's context
takes about two minutes to build and 2.3 GB as a pickle; the tail itself 20-30 s (benchmarks/results.md, stop 38).
A context pickled by one checkout is read by another only while their Context classes agree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _job_repo(argv: list[str]) -> Path:
    """The checkout whose code runs: --job-repo PATH, else this one (put first on sys.path before kpi and sync are
    imported: an editable install of another checkout would otherwise win)."""
    for i, arg in enumerate(argv):
        if arg == "--job-repo" and i + 1 < len(argv):
            return Path(argv[i + 1]).resolve()
        if arg.startswith("--job-repo="):
            return Path(arg.split("=", 1)[1]).resolve()
    return REPO


JOB_REPO = _job_repo(sys.argv[1:])
if not all((JOB_REPO / package / "__init__.py").is_file() for package in ("kpi", "sync")):
    sys.exit(f"tail.py: {JOB_REPO} holds no kpi/ and sync/ packages: not a checkout of this project")
sys.path.insert(0, str(JOB_REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import kpi  # noqa: E402
from kpi.tables import Table  # noqa: E402

if not Path(kpi.__file__).resolve().is_relative_to(JOB_REPO):  # another install's kpi found first
    sys.exit(f"tail.py: kpi was imported from {kpi.__file__}, not from {JOB_REPO}")


def fingerprint(table: Table) -> str:
    """The table's columns (names and dtypes, the declared columns with their kinds), note and rows, hashed: equal
    when the tab is. pandas' row hash reads -0.0 as 0.0 and an object cell as its text (1 and "1" alike), which the
    sinks write differently: the sign of each float and the type of each object cell are hashed too."""
    frame = table.frame
    digest = hashlib.sha1()
    digest.update(repr([(str(c), str(frame[c].dtype)) for c in frame.columns]).encode())
    digest.update(repr([(c.name, c.kind) for c in table.columns]).encode())
    digest.update(repr(table.note).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    _cell_kinds(digest, frame)
    return digest.hexdigest()[:16]


def _cell_kinds(digest: Any, frame: pd.DataFrame) -> None:
    """What pandas' row hash does not tell apart, into `digest`: the sign of each float (-0.0), the type of each
    object cell (1 and "1")."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind == "f":
            digest.update(np.signbit(values.to_numpy(dtype="float64", na_value=np.nan)).tobytes())
        elif values.dtype == object:
            digest.update(repr([type(v).__name__ for v in values.tolist()]).encode())


def save(config: str, out: str) -> None:
    from kpi.tables import RunInfo
    from sync.run import build_context, load_dataset, resolve_as_of
    from sync.settings import load_settings

    settings = load_settings(config)
    loaded = load_dataset(settings)
    ctx = build_context(settings, loaded, resolve_as_of(settings, loaded, None), RunInfo())
    with open(out, "wb") as f:
        pickle.dump(ctx, f, protocol=5)
    print(f"context of {config} pickled to {out}")


def run(context: str, json_out: str | None) -> dict[str, str]:
    from sync.run import check_invariants, compute_tables

    with open(context, "rb") as f:
        ctx = pickle.load(f)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    check_invariants(ctx)
    tables, _ = compute_tables(ctx)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    prints = {t.name: fingerprint(t) for t in tables}
    _report("invariants + tabs", wall, before, after, "", prints, "tables", json_out)
    return prints


def _report(label: str, wall: float, before: Any, after: Any, more: str, prints: dict[str, str], key: str,
            json_out: str | None) -> None:
    """A timed step's figures (resource usage before and after it) and fingerprints, printed; written to json_out."""
    print(f"{label}: {wall:.2f} s wall, user {after.ru_utime - before.ru_utime:.1f} s, system "
          f"{after.ru_stime - before.ru_stime:.1f} s, {after.ru_minflt - before.ru_minflt} page faults{more}")
    for name, value in prints.items():
        print(f"  {name:24s} {value}")
    if json_out:
        Path(json_out).write_text(json.dumps({"seconds": wall, key: prints}, indent=1))


def frame_print(frame: pd.DataFrame) -> str:
    """A frame's columns (labels as repr: 1 is not "1"), dtypes, index (its kind, name and values) and rows hashed
    (`fingerprint`'s way, the sign of each float and the type of each object cell included; a categorical's rows by
    their values, then its categories in order and whether they are ordered)."""
    digest = hashlib.sha1()
    digest.update(repr([(repr(c), str(frame[c].dtype)) for c in frame.columns]).encode())
    index = frame.index
    digest.update(repr((type(index).__name__, str(index.dtype), index.name)).encode())
    if index.dtype.kind == "f":
        digest.update(np.signbit(index.to_numpy(dtype="float64")).tobytes())
    digest.update(pd.util.hash_pandas_object(frame, index=True, categorize=False).to_numpy().tobytes())
    _cell_kinds(digest, frame)
    for column in frame.columns:  # a categorical's categories and their order, not only its values
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            digest.update(repr((column, values.cat.ordered, values.cat.categories.tolist())).encode())
    return digest.hexdigest()[:16]


def load(config: str, json_out: str | None) -> dict[str, str]:
    """`load_dataset` alone: its wall, user and system seconds, page faults and the process's peak memory by then
    (imports included), and a fingerprint of each frame it loads (charges, customers, contracts, projects, issues:
    the Data quality rows, revenue times) and of its dropped lines and inputs. The issues and inputs name each file
    by its path: compare two checkouts on the same config (the same files), not on two copies of the data."""
    from sync.run import load_dataset
    from sync.settings import load_settings

    settings = load_settings(config)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    loaded = load_dataset(settings)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    prints = {name: frame_print(getattr(loaded, name))
              for name in ("charges", "customers", "contracts", "projects", "issues")
              if getattr(loaded, name, None) is not None}
    prints["revenue_times"] = frame_print(loaded.revenue_times.to_frame())
    prints["dropped, inputs"] = hashlib.sha1(repr((loaded.dropped, loaded.inputs)).encode()).hexdigest()[:16]
    _report("load", wall, before, after, f", peak {after.ru_maxrss // 1024} MiB", prints, "frames", json_out)
    return prints


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job-repo", metavar="PATH", help="the checkout whose kpi and sync run (default: this one)")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save", help="build a context once and pickle it")
    s.add_argument("config")
    s.add_argument("out")
    r = sub.add_parser("run", help="time the invariants and tabs on a pickled context")
    r.add_argument("context")
    r.add_argument("--json", dest="json_out")
    ld = sub.add_parser("load", help="time load_dataset alone and fingerprint what it loads")
    ld.add_argument("config")
    ld.add_argument("--json", dest="json_out")
    args = parser.parse_args(argv)
    if args.command == "save":
        save(args.config, args.out)
    elif args.command == "load":
        load(args.config, args.json_out)
    else:
        run(args.context, args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
