"""Where an export's bytes go, who may write them, and how local file errors are reported.

``-o`` may name a regular file (written as ``FILE.part`` beside it, then renamed onto it), a
symbolic link (followed: the file it points to is written, and the link stays a link), or
anything else a shell can hand over: a character device (``/dev/null``), a FIFO,
``/dev/stdout`` or a process substitution (``/dev/fd/N``). Those are streams: written to
directly, with no ``.part``, no rename and no checkpoint.

:func:`resolve` checks a name before any request; :func:`only_writer` holds the OS lock that
makes one process the only writer of a file and its companions; :class:`Sink` writes the
output and turns its errors into :class:`LocalFileError` or, for a reader that went away,
:class:`OutputClosedError`.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, Literal

import attrs
import filelock

from .._lockfile import holds
from ._arguments import UsageError
from ._atomic import replace_file

__all__ = [
    "STDOUT",
    "LocalFileError",
    "OutputClosedError",
    "OutputLockedError",
    "Sink",
    "Target",
    "UsageError",
    "companion",
    "describe",
    "local_errors",
    "only_writer",
    "open_stream",
    "remove_temporaries",
    "resolve",
    "silence_stdout",
    "stdout_target",
]

#: The ``-o`` value that means standard output.
STDOUT: Final = "-"
# Linux gives up after 40 links (MAXSYMLINKS); so does resolve().
_MAX_LINKS: Final = 40
# A name in one of these directories is an open file of some process, not a place on disk:
# /dev/fd/N and /dev/stdout lead here (Linux: /proc/PID/fd/N; macOS and the BSDs: /dev/fd/N).
_FD_DIRECTORY: Final = re.compile(r"/proc/(?:\d+|self|thread-self)(?:/task/\d+)?/fd|/dev/fd")
_OWN_DESCRIPTOR: Final = re.compile(r"/proc/(\d+)(?:/task/\d+)?/fd/(\d+)|/dev/fd/(\d+)")

Kind = Literal["stdout", "file", "stream"]


class OutputLockedError(UsageError):
    """Another process is writing the same output file (exit code 2).

    Attributes:
        pid: The other process's id, when it could be read.
    """

    def __init__(self, path: Path, pid: int | None) -> None:
        self.pid = pid
        who = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"{path} is being written by {who} (another export): wait for it to end, or stop it"
        )


class LocalFileError(Exception):
    """A local file could not be written while the export ran (exit code 4).

    Attributes:
        path: The file, as it was opened (``.part``, the checkpoint, a device, ...).
        error: The operating system's error.
    """

    def __init__(self, path: str, error: OSError, *, doing: str = "write") -> None:
        self.path = path
        self.error = error
        super().__init__(f"cannot {doing} {path}: {describe(error)}")


class OutputClosedError(Exception):
    """The reader of the output went away (``export | head``): the export ends quietly.

    Attributes:
        stdout: Whether the output was this process's standard output.
    """

    def __init__(self, *, stdout: bool) -> None:
        self.stdout = stdout
        super().__init__("the reader of the output went away")


def describe(error: OSError) -> str:
    """The OS error as a person reads it: ``No space left on device (ENOSPC)``."""
    text = error.strerror or str(error)
    name = errno.errorcode.get(error.errno) if error.errno is not None else None
    return f"{text} ({name})" if name else text


@contextlib.contextmanager
def local_errors(path: str | Path, *, doing: str = "write") -> Iterator[None]:
    """Turn an :class:`OSError` raised inside into a :class:`LocalFileError` naming *path*."""
    try:
        yield
    except OSError as exc:
        raise LocalFileError(str(path), exc, doing=doing) from exc


def companion(path: Path, suffix: str) -> Path:
    """The file beside *path* that belongs to it: ``FILE.part``, ``FILE.lock``, ..."""
    return path.with_name(path.name + suffix)


# --- resolving a name ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Target:
    """What a name given on the command line leads to.

    Attributes:
        kind: ``"stdout"``; ``"file"``, a regular file (or one to create), replaced atomically;
            or ``"stream"``, anything else, written to directly.
        name: The name as given, for messages.
        path: The file to write, symbolic links followed (``None`` for standard output).
        descriptor: A stream that is one of this process's own open files (``/dev/stdout``,
            ``/dev/fd/N``): that descriptor is duplicated rather than the name reopened.
        mode: A file that exists already: its permission bits, which its replacement keeps.
    """

    kind: Kind
    name: str
    path: Path | None = None
    descriptor: int | None = None
    mode: int | None = None

    @property
    def label(self) -> str:
        """How messages name it."""
        return "standard output" if self.path is None else str(self.path)


def stdout_target() -> Target:
    """Standard output, as ``-o -`` names it."""
    return Target(kind="stdout", name=STDOUT)


def resolve(name: str, *, option: str, probe: bool = True) -> Target:
    """Find out what *name* is before anything is written, and whether it can be written.

    Args:
        name: The name given to *option*.
        option: The option, for messages (``-o``, ``--rejects``).
        probe: Make sure a file can be created in the directory of a regular file.

    Raises:
        UsageError: An empty name, a directory, a missing directory, a directory where no file
            can be created, a file that may not be written, or any other OS error on the way.
    """
    if not name.strip():
        raise UsageError(f"{option} names no file: the name is empty")
    if name.endswith(("/", os.sep)):
        what = "it is a directory" if Path(name).is_dir() else "the name ends with a slash"
        raise UsageError(f"cannot write {name}: {what}, so it can only name a directory")
    path, through_descriptor = _follow(name)
    try:
        info: os.stat_result | None = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"cannot write {name}: {describe(exc)}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write {name}: it is a directory")
    if through_descriptor:
        if info is None:
            raise UsageError(f"cannot write {name}: there is no such open file")
        return Target(kind="stream", name=name, path=path, descriptor=_own_descriptor(path))
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISSOCK(info.st_mode):
            raise UsageError(f"cannot write {name}: it is a socket, which cannot be opened")
        return Target(kind="stream", name=name, path=path)
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"cannot write {name}: there is no directory {directory}")
    if probe:
        _probe(directory, name)
        # The file is replaced by a rename, which needs only the directory: a file the user
        # may not write (or an immutable one) is refused here rather than silently replaced.
        if info is not None and not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {name}: {describe(_os_error(errno.EACCES))}")
    mode = None if info is None else stat.S_IMODE(info.st_mode)
    return Target(kind="file", name=name, path=path, mode=mode)


def _follow(name: str) -> tuple[Path, bool]:
    """The path *name* leads to, symbolic links followed one at a time.

    Also says whether the way passed through a descriptor directory (``/dev/stdout`` is a link
    to ``/proc/self/fd/1``): such a name is an open file, written as a stream even when it is
    a regular file, since the link's target is no place to put a ``.part`` beside.
    """
    try:
        cwd = Path.cwd()
    except OSError as exc:  # the working directory was removed
        raise UsageError(f"cannot write {name}: {describe(exc)}") from None
    # pathlib keeps "..": "link/.." goes where the kernel goes once resolve() has the link.
    path = cwd / name
    for _ in range(_MAX_LINKS):
        # realpath, not Path.resolve(): on Python < 3.13 that raises RuntimeError on a loop.
        parent = Path(os.path.realpath(path.parent))
        path = parent / path.name
        if _FD_DIRECTORY.fullmatch(str(parent)):
            return path, True
        try:
            link = path.readlink()
        except OSError:  # not a link, or nothing there: the end of the way
            return path, False
        path = parent / link  # an absolute link replaces the parent
    raise UsageError(f"cannot write {name}: {describe(_os_error(errno.ELOOP))}")


def _os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


def _own_descriptor(path: Path) -> int | None:
    match = _OWN_DESCRIPTOR.fullmatch(str(path))
    if match is None:
        return None
    pid, number, bsd_number = match.groups()
    if bsd_number is not None:
        return int(bsd_number)
    return int(number) if int(pid) == os.getpid() else None


def _probe(directory: Path, name: str) -> None:
    """Create and remove a file in *directory*: the surest test that the export can write there."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".tengrai-probe-", dir=directory)
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        raise UsageError(
            f"cannot write {name}: no file can be created in {directory}: {describe(exc)}"
        ) from None


# --- one writer ----------------------------------------------------------------------------


@contextlib.contextmanager
def only_writer(path: Path) -> Iterator[None]:
    """Be the only process writing *path* and its companions, or raise at once.

    The lock is an OS file lock on ``FILE.lock``: the OS releases it when the process ends,
    even by ``kill -9``. ``FILE.pid`` names the holder for the message of the next one.

    Raises:
        OutputLockedError: Another process holds the lock (its pid named when known).
        UsageError: The lock file cannot be created.
    """
    lock_path, pid_path = companion(path, ".lock"), companion(path, ".pid")
    lock = filelock.FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise OutputLockedError(path, _read_pid(pid_path)) from None
    except OSError as exc:
        raise UsageError(f"cannot lock {lock_path}: {describe(exc)}") from None
    if not holds(lock, lock_path):
        # Locked a file its holder had just removed: the holder was still there a moment ago.
        lock.release()
        raise OutputLockedError(path, _read_pid(pid_path))
    try:
        remove_temporaries(pid_path)
        try:
            replace_file(pid_path, f"{os.getpid()}\n".encode("ascii"))
        except OSError as exc:
            raise UsageError(f"cannot write {pid_path}: {describe(exc)}") from None
        yield
    finally:
        # The lock file goes while it is still held: a process that opened it a moment ago
        # then locks a file that has no name any more, and holds() tells it so.
        for stale in (pid_path, lock_path):
            with contextlib.suppress(OSError):
                stale.unlink()
        lock.release()


def _read_pid(pid_path: Path) -> int | None:
    try:
        with pid_path.open("rb") as file:
            return int(file.read(32).strip())
    except (OSError, ValueError):
        return None


def remove_temporaries(path: Path) -> None:
    """Remove the temporary files a killed process left while it replaced *path* atomically.

    Call it holding :func:`only_writer`'s lock: then no one else is writing one.
    """
    # Exactly what tempfile.mkstemp(prefix=".NAME.", suffix=".tmp") makes, and nothing else.
    made = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if made.fullmatch(candidate.name):
            with contextlib.suppress(OSError):
                candidate.unlink()


# --- writing -------------------------------------------------------------------------------


@contextlib.contextmanager
def open_stream(target: Target) -> Iterator[BinaryIO]:
    """Open a stream target for writing (a FIFO waits here for its reader).

    Raises:
        UsageError: It cannot be opened (nothing was written yet).
    """
    assert target.path is not None  # noqa: S101 - a stream target has a path
    try:
        if target.descriptor is not None:
            fd = os.dup(target.descriptor)
        else:
            # O_APPEND: a regular file reached this way (rare) is added to, never cut short.
            fd = os.open(target.path, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        raise UsageError(f"cannot write {target.name}: {describe(exc)}") from None
    file = os.fdopen(fd, "wb")
    try:
        yield file
    finally:
        # Everything was flushed page by page; a reader gone away was reported then.
        with contextlib.suppress(OSError):
            file.close()


class Sink:
    """The export's output: it writes whole pages and reports each failure as what it is.

    A reader that went away (``EPIPE``) is :class:`OutputClosedError`; any other OS error is a
    :class:`LocalFileError` naming the file.

    Args:
        file: The open output (``.part``, a stream, or standard output's buffer).
        label: How messages name it.
        kind: The target's kind: only a ``"file"`` is synced to disk.
    """

    def __init__(self, file: BinaryIO, *, label: str, kind: Kind) -> None:
        self.file = file
        self.label = label
        self.kind: Kind = kind

    def write(self, data: bytes) -> None:
        """Write *data*, flush it, and on a file sync it to disk."""
        with self._errors():
            self.file.write(data)
            self.file.flush()
            if self.kind == "file":
                os.fsync(self.file.fileno())

    def close(self) -> None:
        """Close a file (a stream is closed by whoever opened it)."""
        if self.kind == "file":
            with self._errors():
                self.file.close()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise OutputClosedError(stdout=self.kind == "stdout") from None
        except OSError as exc:
            raise LocalFileError(self.label, exc) from exc


def silence_stdout() -> None:
    """Point standard output at the null device after its reader went away.

    Python flushes ``sys.stdout`` at exit; on a closed pipe that fails again and prints
    "Exception ignored ... BrokenPipeError". Writing into the null device instead succeeds.
    """
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # replaced by something with no descriptor
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)
