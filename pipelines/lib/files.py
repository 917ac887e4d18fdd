"""File writes a reader never sees half of, and one lock file per shared resource across processes.

Every write that replaces a file others read (lake Parquet and verdicts, downloads, the UCDP quota ledger)
goes through `atomic_output`; every read-modify-write that two processes could interleave (snapshot commits,
the quota ledger, publish) holds `file_lock`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the atomic rename alone keeps each file whole
    fcntl = None  # type: ignore[assignment]


class LockHeldError(BlockingIOError):
    """Another process holds the lock and the caller asked not to wait."""


@contextmanager
def atomic_output(path: Path, *, suffix: str = "") -> Iterator[Path]:
    """A fresh temp path beside `path` to write; renamed over `path` when the block ends cleanly, else removed.

    The temp file sits in the same directory so the rename stays on one filesystem (POSIX: atomic, and
    readers holding the old file keep reading it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp) to produce the new file, then rename it over `path` (see atomic_output)."""
    with atomic_output(path) as tmp:
        write(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if absent); the OS drops it if the process dies.

    With blocking=False a held lock raises LockHeldError at once instead of waiting.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError as exc:
                raise LockHeldError(exc.errno, f"lock {path} is held by another process") from exc
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
