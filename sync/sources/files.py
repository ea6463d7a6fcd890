"""An input named in the config: one local file (as always), a glob of several, or a URL read through fsspec.

Every file, local or remote, is read by the same validating reader (sync.sources.reader.read_ndjson), so every
problem still names its file (the path or URL as given), line and field. A remote file is copied to a local
temporary file first (streamed, never whole in memory) and read from there; its name in every issue, in the About
tab and in every error is its URL. URLs need fsspec and the file system's package (s3fs for s3://, gcsfs for
gs://, adlfs for az://), which come with the `dask` extra (fsspec) or are installed beside it (docs/scale.md).
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sync.errors import ConfigError, InputDataError
from sync.settings import is_url
from sync.sources.ndjson import Field, Limits, ReadResult
from sync.sources.reader import read_ndjson

T = TypeVar("T")
R = TypeVar("R")
Mapper = Callable[[Callable[[T], R], Sequence[T]], list[R]]

_GLOB = set("*?[")


def local_map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Apply fn to every item here, in order (an engine maps the same work onto its workers)."""
    return [fn(item) for item in items]


def is_glob(spec: str) -> bool:
    return any(c in _GLOB for c in spec)


def expand(spec: str, role: str) -> list[str]:
    """The files an input names: itself, or the files a glob matches (sorted; none is an error naming the glob)."""
    if is_url(spec):
        fs = _filesystem(spec, role)
        if not is_glob(spec):
            return [spec]
        protocol = spec.split("://", 1)[0]
        found = sorted(fs.glob(spec.split("://", 1)[1]))
        files = [f"{protocol}://{p}" for p in found if not fs.isdir(p)]
    else:
        if not is_glob(spec):
            return [spec]
        files = sorted(p for p in glob.glob(spec) if not os.path.isdir(p))
    if not files:
        raise InputDataError(f"{spec}: no {role} file matches")
    return files


def _filesystem(url: str, role: str) -> Any:
    try:
        import fsspec
    except ImportError:
        raise ConfigError(f"{url}: reading {role} from a URL needs fsspec (pip install 'kpi-sync[dask]')") from None
    protocol = url.split("://", 1)[0]
    try:
        return fsspec.filesystem(protocol)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"{url}: no file system for {protocol}:// ({exc}); install its fsspec package "
                          "(s3fs, gcsfs, adlfs...)") from None


@dataclasses.dataclass(frozen=True)
class FileRead:
    """One file's reading, as a task: picklable, so an engine may run it on another machine."""

    role: str
    fields: tuple[Field, ...]
    limits: Limits
    unique: str | None = None
    extras: bool = False
    coded: bool = False  # ids may come as categoricals of their texts (read_ndjson)

    def __call__(self, path: str) -> ReadResult:
        if not is_url(path):
            return read_ndjson(path, self.role, self.fields, self.limits, unique=self.unique, extras=self.extras,
                               coded=self.coded)
        return self._remote(path)

    def _remote(self, url: str) -> ReadResult:
        fs = _filesystem(url, self.role)
        with tempfile.TemporaryDirectory(prefix="kpi-sync-input-") as folder:
            local = Path(folder) / "input.ndjson"
            try:
                with fs.open(url.split("://", 1)[1], "rb") as src, local.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except FileNotFoundError:
                raise InputDataError(f"{url}: {self.role} file not found") from None
            except OSError as exc:
                raise InputDataError(f"{url}: {self.role} file could not be read ({exc})") from None
            try:
                read = read_ndjson(local, self.role, self.fields, self.limits, unique=self.unique, extras=self.extras,
                                   coded=self.coded)
            except InputDataError as exc:
                raise InputDataError(str(exc).replace(str(local), url)) from None
        return dataclasses.replace(
            read,
            issues=[dataclasses.replace(i, file=url) if i.file == str(local) else i for i in read.issues],
            info=dataclasses.replace(read.info, path=url),
        )


def read_all(spec: str, reader: FileRead, mapper: Mapper | None = None) -> list[tuple[str, ReadResult]]:
    """Every file of an input read by `reader`, through `mapper` (default: here, one after the other)."""
    files = expand(spec, reader.role)
    results = (mapper or local_map)(reader, files)
    return list(zip(files, results, strict=True))
