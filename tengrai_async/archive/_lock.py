"""The archive directory's lock: one run at a time writes an archive.

An OS file lock (released by the OS even if the process is killed) and a pid file naming its
holder, both removed when the run ends; :class:`ArchiveLockedError` when another run holds it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import filelock

from .._errors import TengrAIError
from .._lockfile import holds

__all__ = ["ArchiveLockedError", "locked"]

_LOCK_NAME: Final = "archive.lock"
_PID_NAME: Final = "archive.pid"


class ArchiveLockedError(TengrAIError):
    """Another run holds the archive directory's lock.

    Attributes:
        pid: The other run's process id, when it could be read.
    """

    def __init__(self, directory: Path, pid: int | None) -> None:
        self.pid = pid
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"{directory} is being archived by {who}; try again when it is done")


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the directory's OS file lock (released by the OS even if the process is killed)."""
    lock_file = directory / _LOCK_NAME
    lock = filelock.FileLock(lock_file)
    pid_file = directory / _PID_NAME
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise ArchiveLockedError(directory, _read_pid(pid_file)) from None
    if not holds(lock, lock_file):
        # Locked a file its holder had just removed: the holder was still there a moment ago.
        lock.release()
        raise ArchiveLockedError(directory, _read_pid(pid_file))
    try:
        pid_file.write_text(f"{os.getpid()}\n", encoding="ascii")
        yield
    finally:
        # Both go while the lock is held (a run that opened the lock file a moment ago then
        # holds a file with no name, and holds() tells it so): a finished run leaves neither.
        for stale in (pid_file, lock_file):
            with contextlib.suppress(OSError):
                stale.unlink()
        lock.release()


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
