"""An OS file lock whose file goes with its holder: the check that makes removing it safe.

The export's output lock and the archive's directory lock remove their lock file while they
still hold it; a process that opened the file a moment earlier then holds a nameless one.
"""

from __future__ import annotations

import os
from pathlib import Path

import filelock

__all__ = ["holds"]


def holds(lock: filelock.BaseFileLock, lock_path: Path) -> bool:
    """Whether the locked file is still the one named *lock_path* (not one a holder removed)."""
    # filelock keeps the locked descriptor in its context (3.12 and later); recent versions make
    # this check themselves, older ones do not. Without a descriptor there is nothing to compare.
    fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
    if not isinstance(fd, int):
        return True
    try:
        return os.path.samestat(os.fstat(fd), lock_path.stat())
    except OSError:
        return False
