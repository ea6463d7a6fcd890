"""What the local sinks share: atomic replacement of a file or a folder, and refusing targets that are not ours.

A CSV folder carries a marker file (MARKER); a folder without it that holds anything is never
replaced, so `--sink csv:~/Documents` cannot delete a person's files. An .xlsx target must be a
regular file (or not exist). Output gets the permissions the umask gives, like any file the user writes.

Temporaries sit beside the target as `.NAME.<pid>.<random>.tmp` (and `.NAME.old` for a folder swapped
without an atomic exchange). A run that was killed leaves them; the next run removes those whose process
is gone (or that its own pid names and it is not writing: an earlier process's), a process removes at its exit
those it was writing, and puts back a folder that a kill left only as `.NAME.old`. On Linux a folder is swapped with
one atomic exchange (renameat2 RENAME_EXCHANGE), so there is never a moment without the folder.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sync.errors import PublishError

MARKER = ".kpi-sync"

# The temporaries this process is writing now (atomic_path's; the CSV sink's tabs written ahead). Any other
# temporary named with this process's pid is a killed process's (a container's worker is PID 1 again after each
# restart), and these are removed when the process exits: a worker stopped while a run computes leaves that run's
# thread, and the tab it was writing ahead, to the exit (sync/worker.py).
_LIVE: set[str] = set()


def writing(path: Path) -> None:
    """`path` is a temporary this process is writing (see _LIVE)."""
    _LIVE.add(str(path))


def written(path: Path) -> None:
    """`path` is no longer written here (renamed into place, or removed)."""
    _LIVE.discard(str(path))


@atexit.register
def _remove_live() -> None:
    for name in list(_LIVE):
        with contextlib.suppress(OSError):
            _remove(name)


def _remove(path: str | Path) -> None:
    """A temporary file, or folder and all it holds (a symlink itself, not what it points to)."""
    shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)


def temporary_file(target: Path, label: str = "") -> Path:
    """A new empty file beside `target` (`.NAME.<pid>.<label><random>.tmp`) with the mode the umask gives a file the
    user writes, which this process is writing (_LIVE) until `written`. OSError when it cannot be made (nothing is
    left then)."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.{label}", suffix=".tmp", dir=target.parent)
    os.close(fd)
    path = Path(name)
    writing(path)
    try:
        path.chmod(0o666 & ~_umask())
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        written(path)
        raise
    return path


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
    parent = target.parent
    if directory and parent.is_dir():
        restore_killed_swap(target)
    (check_folder_target if directory else check_file_target)(target)
    tmp: Path | None = None
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=parent))
            writing(tmp)
            tmp.chmod(0o777 & ~_umask())
            (tmp / MARKER).write_text("written by kpi-sync: this folder is replaced whole on every run\n",
                                      encoding="utf-8")
        else:
            tmp = temporary_file(target)
        yield tmp
        if directory:
            _swap_directory(tmp, target)
        else:
            _fsync(tmp)  # the bytes are on disk before the name points at them
            os.replace(tmp, target)
    except OSError as exc:
        raise PublishError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            if tmp.exists():
                _remove(tmp)
            written(tmp)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process (or we cannot tell): leave its file alone
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporaries of `target` that killed runs left (`.NAME.<pid>.*.tmp` of a dead process, and
    those of older versions without a pid); return what was removed. A live run's temporaries are kept: another
    live process's, and those this process is writing (_LIVE); one of this process's pid that it is not writing is
    an earlier process's that had the same pid."""
    pattern = re.compile(re.escape(f".{target.name}.") + r"(?:(\d+)\.)?[^/]*\.tmp")
    removed: list[Path] = []
    for path in target.parent.glob(f".{glob_escape(target.name)}.*.tmp"):
        found = pattern.fullmatch(path.name)
        if not found or str(path) in _LIVE:
            continue
        pid = int(found.group(1)) if found.group(1) else None
        if pid is not None and pid != os.getpid() and _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            _remove(path)
            removed.append(path)
    old = target.with_name(f".{target.name}.old")
    if old.is_dir() and not old.is_symlink() and target.exists():
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old)
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def restore_killed_swap(target: Path) -> None:
    """A folder a kill left only as `.NAME.old` (between the two renames of a swap) is put back in place."""
    old = target.with_name(f".{target.name}.old")
    if not target.exists() and old.is_dir() and (old / MARKER).is_file():
        with contextlib.suppress(OSError):
            os.replace(old, target)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE). False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # an old kernel or a file system without it
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_directory(new: Path, target: Path) -> None:
    """Replace a folder by another: one atomic exchange where the system has it, else two renames (a kill
    between them leaves `.NAME.old`, which the next run puts back)."""
    if not target.exists():
        os.replace(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old folder
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
