"""Replacing a small file all at once: readers see the old content or the new, never half.

The checkpoint and the export's pid file are written this way.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["replace_file"]


def replace_file(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write *data* to a temporary file beside *path*, then rename it onto *path*.

    The rename is atomic (within one filesystem, hence beside), and a link planted at the name
    is replaced, not followed. *durable* syncs the data to disk before the rename, so that a
    power cut leaves the old file or the whole new one.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
