"""What the local sinks share: atomic replacement of a file or a folder, and refusing targets that are not ours.

A CSV folder carries a marker file (MARKER); a folder without it that holds anything is never
replaced, so `--sink csv:~/Documents` cannot delete a person's files. An .xlsx target must be a
regular file (or not exist). Output gets the permissions the umask gives, like any file the user writes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sync.errors import PublishError

MARKER = ".kpi-sync"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_file_target(target: Path) -> None:
    """An .xlsx destination must be a regular file or not exist yet."""
    if target.exists() and not target.is_file():
        raise PublishError(f"{target} exists and is not a regular file: choose another destination")
    if target.is_dir():
        raise PublishError(f"{target} is a folder: give a file path such as {target / 'kpis.xlsx'}")


def check_folder_target(target: Path) -> None:
    """A CSV destination must be a folder kpi-sync wrote (it has the marker), an empty folder, or not exist yet."""
    if not target.exists():
        return
    if not target.is_dir():
        raise PublishError(f"{target} exists and is not a folder: choose a folder for the CSV files")
    if (target / MARKER).is_file():
        return
    if any(target.iterdir()):
        raise PublishError(
            f"{target} already holds files that kpi-sync did not write: it replaces its CSV folder whole, "
            f"so choose a new or empty folder"
        )


@contextlib.contextmanager
def atomic_path(target: Path, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename.

    On any error the temporary is removed and `target` is left as it was.
    """
    target = target.expanduser().absolute()
    (check_folder_target if directory else check_file_target)(target)
    parent = target.parent
    tmp: Path | None = None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
            tmp.chmod(0o777 & ~_umask())
            (tmp / MARKER).write_text("written by kpi-sync: this folder is replaced whole on every run\n",
                                      encoding="utf-8")
        else:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
            os.close(fd)
            tmp = Path(name)
            tmp.chmod(0o666 & ~_umask())
        yield tmp
        if directory:
            _swap_directory(tmp, target)
        else:
            _fsync(tmp)  # the bytes are on disk before the name points at them
            os.replace(tmp, target)
    except OSError as exc:
        raise PublishError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_directory(new: Path, target: Path) -> None:
    """Replace a folder by another: two renames, so the old folder is whole until the new one is in place."""
    if not target.exists():
        os.replace(new, target)
        return
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
