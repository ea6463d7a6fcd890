"""Reading one NDJSON file: the columnar reader (sync/sources/columnar.py) where its checks vouch for the lines,
the line-by-line reader (sync/sources/ndjson.py) for the rest. Its own module so that neither reader imports the
other's dispatcher: columnar.py builds on ndjson.py's line reader, and this module on both."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from sync.errors import InputDataError
from sync.sources import ndjson as nd
from sync.sources.columnar import read_columnar

_HASHED_APART = 1 << 24  # bytes from which a file is hashed in a thread (16 MiB: about 0.02 s of SHA-256)


def read_ndjson(
    path: str | Path,
    role: str,
    fields: Sequence[nd.Field],
    limits: nd.Limits,
    *,
    unique: str | None = None,
    extras: bool = False,
    engine: Literal["auto", "lines"] = "auto",
    coded: bool = False,
) -> nd.ReadResult:
    """Read and validate one NDJSON file.

    Returns valid rows as a frame with one column per canonical field (timestamps as
    datetime64[ns, UTC], dates as tz-naive datetime64, ids as str) plus `line`; with `extras`,
    other scalar keys of the records become extra columns (attributes; None where a record has
    none). With `unique`, a later row repeating that field's value is reported: a warning when it
    is identical, a bad line when it differs (the first row is kept either way).
    `engine`: "auto" reads the file with pyarrow and vectorized checks (sync/sources/columnar.py),
    going line by line only for the lines (or the file) it cannot vouch for; "lines" reads every
    line with `json`. Both give the same result.
    `coded`: the id fields may come as categoricals of their texts (when pyarrow read the whole file: the ids are
    hashed once there, and kpi.schedule.coded_ids does not hash 10M Python strings again); as str otherwise.
    Raises InputDataError when the file is missing or empty, or too many lines are bad.
    """
    file = Path(path)
    name = str(path)
    if file.is_dir():
        raise InputDataError(f"{name}: {role} is a folder, not a file")
    if not file.is_file():
        raise InputDataError(f"{name}: {role} file not found")
    checker = nd._Checker(limits)
    if engine == "auto":
        data = file.read_bytes()
        # a big file hashed meanwhile in a thread: hashlib lets go of the GIL, the columnar reader's byte scans hold
        # it (a small one here: starting the thread would cost more than the hash)
        with ThreadPoolExecutor(1, thread_name_prefix="kpi-sync sha256") as pool:
            try:
                hashed: Future[Any] | None = pool.submit(hashlib.sha256, data) if len(data) >= _HASHED_APART else None
            except RuntimeError:  # the interpreter is shutting down (a worker's run in its last moments): here
                hashed = None
            fast = read_columnar(data, name, fields, checker, unique=unique, extras=extras, coded=coded)
            digest = (hashed.result() if hashed is not None else hashlib.sha256(data)).hexdigest()
        if fast is not None:
            return nd._result(name, role, limits, fast.frame, fast.issues, fast.bad, fast.read, digest)
        with io.BytesIO(data) as raw:
            return nd._read_lines(raw, name, role, fields, checker, limits, unique=unique, extras=extras)
    with file.open("rb") as raw:
        return nd._read_lines(raw, name, role, fields, checker, limits, unique=unique, extras=extras)
