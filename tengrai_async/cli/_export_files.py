"""The export's own files on disk: checked before a resume, opened new or resumed.

And the rejects file, opened on the first invalid item only. Errors become ``UsageError`` (a
resume that cannot go on) or ``LocalFileError`` (a file that failed while it was written).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, Final

from .._errors import ResponseValidationError
from .._json import encode_json
from ._arguments import UsageError
from ._output import Target, describe, local_errors
from ._progress import plural

__all__ = ["Rejects", "check_resumable", "open_new", "open_resumable"]

# O_NOFOLLOW where there is one: a link planted at FILE.part is not followed into another file.
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)


def check_resumable(path: Path, size: int, *, what: str) -> None:
    """Make sure *path* holds at least *size* bytes of complete lines."""
    try:
        with path.open("rb") as file:
            actual = file.seek(0, os.SEEK_END)
            last = b"\n"
            if size and actual >= size:
                file.seek(size - 1)
                last = file.read(1)
    except FileNotFoundError:
        raise UsageError(
            f"cannot resume: {what} {path} is missing; use --force to start over"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot resume: cannot read {what} {path}: {describe(exc)}") from None
    if actual < size:
        raise _too_short(path, actual, size, what=what)
    if last != b"\n":
        raise UsageError(
            f"cannot resume: {what} {path} has no line end at byte {size}, where the "
            "checkpoint says its complete lines end; use --force to start over"
        )


def open_resumable(path: Path, size: int, *, what: str) -> BinaryIO:
    """Open *path* for appending after its first *size* bytes, dropping any partial tail."""
    # plan() checked the file; checked again here, as truncate() would pad a shorter one.
    with local_errors(path, doing="open"):
        file = os.fdopen(os.open(path, os.O_RDWR | _NOFOLLOW), "r+b")
    try:
        with local_errors(path):
            actual = file.seek(0, os.SEEK_END)
            if actual >= size:
                file.truncate(size)
                file.seek(size)
    except BaseException:
        file.close()
        raise
    if actual < size:
        file.close()
        raise _too_short(path, actual, size, what=what)
    return file


def _too_short(path: Path, actual: int, size: int, *, what: str) -> UsageError:
    return UsageError(
        f"cannot resume: {what} {path} holds {plural(actual, 'byte')}, fewer than the "
        f"{size} the checkpoint recorded; use --force to start over"
    )


def open_new(path: Path, *, mode: int | None) -> BinaryIO:
    """Create *path* afresh (whatever was there, a link included, is removed first)."""
    with local_errors(path, doing="create"):
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
        if mode is not None:
            # The file it replaces kept others out, say: so does its replacement.
            with contextlib.suppress(OSError):
                path.chmod(mode)
        return os.fdopen(fd, "wb")


class Rejects:
    """The rejects file: opened on the first invalid item only, appended to, counted."""

    def __init__(self, target: Target, *, count: int, size: int, resume: bool) -> None:
        assert target.path is not None  # noqa: S101 - never standard output
        self.path = target.path
        self.count = count
        self.size = size
        self.new = 0
        self._stream = target.kind == "stream"
        self._file: BinaryIO | None = None
        if self._stream:
            return  # a device or a FIFO: never removed, never cut short
        if resume and size:
            self._file = open_resumable(self.path, size, what="the rejects file")
        elif self.path.exists():
            # Stale lines of an earlier run would read as this run's rejects.
            with local_errors(self.path, doing="remove"):
                self.path.unlink()

    def write(self, errors: list[ResponseValidationError]) -> None:
        if not errors:
            return
        data = b"".join(
            encode_json(
                {"offset": e.offset, "path": e.path, "error": str(e), "raw": e.raw},
                newline=True,
                # A raw value that is not JSON still lands in the file, as its repr.
                default=repr,
            )
            for e in errors
        )
        with local_errors(self.path):
            if self._file is None:
                flags = os.O_WRONLY | (os.O_APPEND if self._stream else os.O_CREAT | os.O_TRUNC)
                self._file = os.fdopen(os.open(self.path, flags, 0o666), "wb")
            self._file.write(data)
            self._file.flush()
            if not self._stream:
                os.fsync(self._file.fileno())
        self.size += len(data)
        self.count += len(errors)
        self.new += len(errors)

    def close(self) -> None:
        if self._file is not None:
            # Every line was flushed already; closing cannot lose any.
            with contextlib.suppress(OSError):
                self._file.close()
