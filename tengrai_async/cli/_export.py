"""``tengrai-async export``: every artwork to a file, page by page, resumable.

Each page is written whole and flushed to ``FILE.part``, then the checkpoint is replaced, so the
checkpoint never claims more than the ``.part`` holds; a finished export is renamed to ``FILE``.
``--resume`` takes the query (format, filters, page size, budget, demo data) from the
checkpoint: options left out are the checkpoint's, options given must agree with it.
One process at a time writes a file (an OS lock, see :mod:`._output`). Standard output and
other streams (devices, FIFOs, ``/dev/fd/N``) are written to directly and cannot resume.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as _dt
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final, TextIO

import attrs

from .._client import TengrAI
from .._clock import SYSTEM_CLOCK, Clock
from .._errors import ResponseValidationError
from .._json import encode_json
from .._models import Artwork
from .._pagination import ArtworkIterator
from . import _checkpoint
from ._checkpoint import QUERY_KEYS, QUERY_OPTIONS, Checkpoint, CheckpointError, utc_text
from ._demo import DemoOptions
from ._exits import EXIT_OK, EXIT_REJECTS
from ._formats import Format, Writer, writer_for
from ._heartbeat import heartbeat
from ._output import (
    STDOUT,
    LocalFileError,
    OutputClosedError,
    Sink,
    Target,
    UsageError,
    companion,
    describe,
    local_errors,
    only_writer,
    open_stream,
    remove_temporaries,
    resolve,
    stdout_target,
)
from ._progress import Progress, Summary, plural

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "QUERY_OPTIONS",
    "STDOUT",
    "ExportOptions",
    "ExportPlan",
    "LocalFileError",
    "OutputClosedError",
    "UsageError",
    "export",
    "plan",
]

#: Where invalid items go when the export itself goes to standard output or another stream.
STDOUT_REJECTS: Final = "tengrai-rejects.jsonl"
# Ids of this many recent pages are kept in the checkpoint to drop repeats after a resume.
_RECENT_PAGES: Final = 2
# O_NOFOLLOW where there is one: a link planted at FILE.part is not followed into another file.
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
#: Artworks per request when ``--page-size`` is not given (and no checkpoint says otherwise).
DEFAULT_PAGE_SIZE: Final = 500


@attrs.frozen(kw_only=True)
class ExportOptions:
    """What ``export`` was asked to do (parsed and checked by the argument parser).

    Attributes:
        output: The output path, or ``"-"`` for standard output.
        fmt: ``"jsonl"`` or ``"csv"``.
        rejects: Where invalid items go; ``None`` for the default beside the output.
        resume: Continue from the checkpoint.
        force: Discard a checkpoint and start over.
        quiet: No progress bar and no summary.
        types: Keep only these artwork types.
        statuses: Keep only these statuses.
        since: Keep artworks created at or after this aware datetime; the first older one
            ends the listing unless ``scan_all``.
        scan_all: Read the whole listing and filter by ``since`` instead.
        until: Keep artworks created before this aware datetime.
        page_size: Artworks per request.
        prefetch: Requests in flight at once.
        max_items: Stop after this many artworks (over all resumed runs).
        demo: The demo data, when exporting from ``--demo``.
        given: The keys of :meth:`query` the command line gave; on ``--resume`` the others
            are taken from the checkpoint. ``None``: all of them (nothing is taken).
    """

    output: str = STDOUT
    fmt: Format = "jsonl"
    rejects: str | None = None
    resume: bool = False
    force: bool = False
    quiet: bool = False
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: _dt.datetime | None = None
    scan_all: bool = False
    until: _dt.datetime | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    prefetch: int = 4
    max_items: int | None = None
    demo: DemoOptions | None = None
    given: frozenset[str] | None = None

    @property
    def filtering(self) -> bool:
        """Whether a filter may drop artworks."""
        return bool(self.types or self.statuses or self.since or self.until)

    def query(self) -> dict[str, Any]:
        """What the checkpoint records: everything that decides which bytes are written."""
        return {
            "format": self.fmt,
            "types": sorted(set(self.types)),
            "statuses": sorted(set(self.statuses)),
            "since": utc_text(self.since),
            "until": utc_text(self.until),
            "scan_all": self.scan_all,
            "page_size": self.page_size,
            "max_items": self.max_items,
            "demo": None
            if self.demo is None
            else {"count": self.demo.count, "seed": self.demo.seed},
        }

    def with_query(self, query: dict[str, Any]) -> ExportOptions:
        """These options asking for *query* (one :func:`_checkpoint.load` let through)."""
        demo = query["demo"]
        if demo is not None:
            # The demo server's latency and faults are not part of the query: they are kept.
            base = self.demo or DemoOptions()
            demo = attrs.evolve(base, count=demo["count"], seed=demo["seed"])
        return attrs.evolve(
            self,
            fmt=query["format"],
            types=tuple(query["types"]),
            statuses=tuple(query["statuses"]),
            since=_moment(query["since"]),
            until=_moment(query["until"]),
            scan_all=query["scan_all"],
            page_size=query["page_size"],
            max_items=query["max_items"],
            demo=demo,
        )


def _moment(text: str | None) -> _dt.datetime | None:
    return None if text is None else _dt.datetime.fromisoformat(text)


@attrs.frozen(kw_only=True)
class _Paths:
    """The files of one export.

    ``part``, ``checkpoint`` and the lock live beside the file the output leads to (a symbolic
    link's target), so that the finished ``.part`` can be renamed onto it.
    """

    output: Target
    part: Path | None  # None: a stream, written directly
    checkpoint: Path | None
    rejects: Target


def _paths(options: ExportOptions) -> _Paths:
    """Resolve ``-o`` and ``--rejects``: every check that needs no request and no lock."""
    output = stdout_target() if options.output == STDOUT else resolve(options.output, option="-o")
    if output.kind != "file":
        if options.resume:
            if output.kind == "stdout":
                raise UsageError(
                    "--resume needs an output file (-o FILE): standard output cannot resume"
                )
            raise UsageError(
                f"--resume needs an output file (-o FILE): {output.name} is not a regular file, "
                "so it is written directly, as a stream, and cannot resume"
            )
        # Beside a device or a FIFO is no place for a file: the rejects go to the working
        # directory, as with standard output, and are created only when there is one.
        rejects = _rejects_target(options.rejects, default=STDOUT_REJECTS)
        return _Paths(output=output, part=None, checkpoint=None, rejects=rejects)
    assert output.path is not None  # noqa: S101 - a file target has a path
    part = companion(output.path, ".part")
    checkpoint = companion(output.path, ".checkpoint.json")
    default = str(companion(output.path, ".rejects.jsonl"))
    rejects = _rejects_target(options.rejects, default=default)
    own = {output.path, part, checkpoint, *(companion(output.path, s) for s in (".lock", ".pid"))}
    if rejects.path in own:
        raise UsageError(f"--rejects {rejects.name} is one of the export's own files: name another")
    for path in (part, checkpoint):
        # A directory (or a FIFO) at a companion's name would fail the export after its start.
        if path.exists() and not path.is_file():
            raise UsageError(f"{path} is in the way and is not a regular file: remove it")
    return _Paths(output=output, part=part, checkpoint=checkpoint, rejects=rejects)


def _rejects_target(name: str | None, *, default: str) -> Target:
    if name is not None:
        return resolve(name, option="--rejects")
    # The default is not probed: an export with no invalid item never creates it.
    return resolve(default, option="--rejects", probe=False)


def _starting_point(options: ExportOptions, paths: _Paths) -> tuple[ExportOptions, Checkpoint]:
    """The options to run and the checkpoint to start from.

    A fresh checkpoint, or, when resuming, the saved one, with the query it records.
    """
    fresh = Checkpoint(query=options.query())
    if paths.checkpoint is None:
        return options, fresh
    exists = paths.checkpoint.exists()
    if options.resume:
        if not exists:
            raise UsageError(f"nothing to resume: there is no checkpoint {paths.checkpoint}")
        try:
            saved = _checkpoint.load(paths.checkpoint)
            _check_same_query(paths.checkpoint, saved.query, fresh.query, given=options.given)
            options = options.with_query(saved.query)
            _check_consistent(paths.checkpoint, saved, options)
        except CheckpointError as exc:
            raise UsageError(str(exc)) from None
        if paths.part is not None:
            _check_resumable(paths.part, saved.part_bytes, what="the partial output")
        if saved.rejects_bytes and paths.rejects.kind == "file":
            assert paths.rejects.path is not None  # noqa: S101 - a file target has a path
            _check_resumable(paths.rejects.path, saved.rejects_bytes, what="the rejects file")
        return options, saved
    if exists and not options.force:
        raise UsageError(
            f"an interrupted export left {paths.checkpoint}: add --resume to continue it, "
            "or --force to start over"
        )
    return options, fresh


def _check_same_query(
    path: Path, saved: dict[str, Any], asked: dict[str, Any], *, given: frozenset[str] | None
) -> None:
    """Refuse a resume whose options disagree with the query the checkpoint records."""
    differences = [
        f"{as_option(key, saved[key])} where this command asks for {as_option(key, asked[key])}"
        for key in QUERY_KEYS
        if (given is None or key in given) and _canonical(saved[key]) != _canonical(asked[key])
    ]
    if differences:
        those = (
            "that option out to take it"
            if len(differences) == 1
            else "those options out to take them"
        )
        raise CheckpointError(
            f"--resume must ask for the same export as the interrupted run (the checkpoint "
            f"{path}), which ran with {', and with '.join(differences)}: leave {those} "
            "from the checkpoint, or use --force to discard it and start over"
        )


def _canonical(value: Any) -> Any:
    # --type a --type b asks for what --type b --type a --type a asks for.
    return sorted(set(value)) if isinstance(value, list) else value


def as_option(key: str, value: Any) -> str:
    """A value of a checkpoint's query as the command line says it: ``--page-size 100``."""
    option = QUERY_OPTIONS[key]
    if value is None or value is False or value == []:
        return f"no {option}"
    if value is True:
        return option
    if isinstance(value, list):
        return " ".join(f"{option} {item}" for item in value)
    if key == "demo":
        seed = f" --demo-seed {value['seed']}" if value["seed"] else ""
        return f"--demo {value['count']}{seed}"
    return f"{option} {value}"


def _check_consistent(path: Path, saved: Checkpoint, options: ExportOptions) -> None:
    """Refuse a checkpoint that the query it matches could not have produced."""
    header = len(writer_for(options.fmt, options.types).header())
    if options.max_items is not None and saved.items > options.max_items:
        raise _checkpoint.refused(
            path,
            f"counts {plural(saved.items, 'artwork')}, more than its --max-items "
            f"{options.max_items}",
        )
    # Every artwork is at least one line ending: the .part holds the header and one per item.
    if saved.part_bytes < header + saved.items or (saved.items == 0) != (
        saved.part_bytes == header
    ):
        raise _checkpoint.refused(path, "counts bytes that cannot hold its artworks")
    if len(saved.recent_ids) > _RECENT_PAGES * options.page_size:
        raise _checkpoint.refused(path, "lists more recent ids than two pages hold")


def _check_resumable(path: Path, size: int, *, what: str) -> None:
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


def _open_resumable(path: Path, size: int, *, what: str) -> BinaryIO:
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


def _open_new(path: Path, *, mode: int | None) -> BinaryIO:
    """Create *path* afresh (whatever was there, a link included, is removed first)."""
    with local_errors(path, doing="create"):
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
        if mode is not None:
            # The file it replaces kept others out, say: so does its replacement.
            with contextlib.suppress(OSError):
                path.chmod(mode)
        return os.fdopen(fd, "wb")


class _Rejects:
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
            self._file = _open_resumable(self.path, size, what="the rejects file")
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


def _artwork_id(artwork: Artwork) -> str | None:
    return None if artwork.id is None else str(artwork.id)


@attrs.frozen(kw_only=True)
class ExportPlan:
    """An export checked against the files on disk, ready to run.

    Attributes:
        options: What was asked.
        paths: The output, ``.part``, checkpoint and rejects paths.
        state: Where to start: a fresh checkpoint, or the saved one when resuming.
        stream: The output when it is a stream, opened already.
    """

    options: ExportOptions
    paths: _Paths
    state: Checkpoint
    stream: BinaryIO | None = None


@contextlib.contextmanager
def plan(options: ExportOptions) -> Iterator[ExportPlan]:
    """Check *options* against the files on disk and take the output, before any request.

    Inside, this process is the only writer of the output file (an OS lock, released on the
    way out, or by the OS if the process dies); a stream output is open (a FIFO's reader has
    come).

    Raises:
        UsageError: The output cannot be written, another export is writing it, a checkpoint
            is in the way, or there is none (or no usable one) to resume.
    """
    paths = _paths(options)
    with contextlib.ExitStack() as stack:
        if paths.output.kind == "file":
            assert paths.output.path is not None  # noqa: S101 - a file target has a path
            # Locked before the checkpoint is read: what it says is then this run's to change.
            stack.enter_context(only_writer(paths.output.path))
            if paths.checkpoint is not None:
                remove_temporaries(paths.checkpoint)
        options, state = _starting_point(options, paths)
        stream = None
        if paths.output.kind == "stream":
            stream = stack.enter_context(open_stream(paths.output))
        yield ExportPlan(options=options, paths=paths, state=state, stream=stream)


async def export(
    client: TengrAI,
    ready: ExportPlan,
    *,
    stdout: BinaryIO,
    stderr: TextIO,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Run one export; return its exit code (0, or 3 when items were rejected).

    A fresh file export that ends before its first page (a wrong key, a refused connection)
    leaves no ``.part`` and no checkpoint: the same command then runs plainly. Off a terminal,
    a progress line goes to *stderr* every 10 s.

    Raises:
        UsageError: The resumed files do not match the checkpoint.
        LocalFileError: A local file could not be written; the checkpoint is kept.
        OutputClosedError: The reader of the output went away; nothing was reported.
        TengrAIError: The API failed (after retries); the checkpoint is kept.
        asyncio.CancelledError: Interrupted; the checkpoint matches the ``.part`` file.
    """
    options, paths, state = ready.options, ready.paths, ready.state
    output = paths.output
    if paths.part is not None:
        file = (
            _open_resumable(paths.part, state.part_bytes, what="the partial output")
            if options.resume
            else _open_new(paths.part, mode=output.mode)
        )
        out = Sink(file, label=str(paths.part), kind="file")
    elif ready.stream is not None:
        out = Sink(ready.stream, label=output.label, kind="stream")
    else:
        out = Sink(stdout, label=output.label, kind="stdout")
    try:
        rejects = _Rejects(
            paths.rejects, count=state.rejects, size=state.rejects_bytes, resume=options.resume
        )
    except BaseException:
        with contextlib.suppress(LocalFileError):
            out.close()
        raise
    run = _Run(options=options, paths=paths, state=state, out=out, rejects=rejects)
    started = time.perf_counter()
    outcome = "failed"
    progress = Progress(
        stderr,
        enabled=not options.quiet and stderr.isatty(),
        total=options.max_items,
        initial=state.items,
        filtering=options.filtering,
        scanned=state.next_offset,
    )
    iterator = client.artworks.iterate(
        offset=state.next_offset,
        page_size=options.page_size,
        prefetch=options.prefetch,
        max_items=None if options.max_items is None else options.max_items - state.items,
        artwork_type=options.types or None,
        status=options.statuses or None,
        created_after=options.since,
        newest_first=not options.scan_all,
        created_before=options.until,
        on_invalid="skip",
        # After a resume the listing may have shifted: what the last run wrote is dropped.
        seen_ids=state.recent_ids,
    )
    before = 0

    def line(elapsed: float) -> str:
        scanned = f" ({iterator.stats.items_received:,} scanned)" if options.filtering else ""
        written = run.state.items - state.items
        return f"tengrai-async: exporting: {written:,} artworks written{scanned}; {elapsed:.0f} s"

    try:
        async with heartbeat(
            stderr, line, enabled=not options.quiet and not stderr.isatty(), clock=clock
        ):
            async with iterator:
                async for page in iterator.pages():
                    scanned = iterator.stats.items_received
                    written = run.write_page(iterator, page.items)
                    progress.update(written, scanned=scanned - before)
                    before = scanned
            run.finish()
        outcome = "done"
    except BaseException as exc:
        # Ctrl-C reaches here as the main task's cancellation (asyncio.run's SIGINT handler).
        if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
            outcome = "interrupted"
        elif isinstance(exc, OutputClosedError):
            outcome = "closed"
        raise
    finally:
        progress.close()
        run.close()
        if not run.started:
            run.discard()
        if outcome != "closed":  # `export | head`: the reader has what it wanted; no noise
            summary = Summary(
                outcome=outcome,
                stats=iterator.stats,
                filtering=options.filtering,
                items=run.state.items - state.items,
                total_items=run.state.items,
                rejects=rejects.new,
                duplicates=iterator.stats.duplicates_dropped,
                elapsed=time.perf_counter() - started,
            )
            _report(summary, paths, rejects, quiet=options.quiet, stderr=stderr)
    return EXIT_REJECTS if rejects.count else EXIT_OK


def _report(
    summary: Summary, paths: _Paths, rejects: _Rejects, *, quiet: bool, stderr: TextIO
) -> None:
    """The closing lines on stderr: the summary, a checkpoint kept, the rejects file."""
    if not quiet:
        stderr.write(summary.format() + "\n")
    checkpoint = paths.checkpoint
    if summary.outcome != "done" and checkpoint is not None and checkpoint.exists():
        stderr.write(
            f"tengrai-async: {checkpoint} kept: run the same command with --resume to continue\n"
        )
    if rejects.count and summary.outcome != "failed":
        invalid = plural(rejects.count, "invalid artwork")
        stderr.write(f"tengrai-async: {invalid} written to {rejects.path}\n")


@attrs.define(kw_only=True)
class _Run:
    """The files of one export and the state the checkpoint records."""

    options: ExportOptions
    paths: _Paths
    state: Checkpoint
    out: Sink
    rejects: _Rejects
    _recent: collections.deque[tuple[str, ...]] = attrs.field(init=False)
    _writer: Writer = attrs.field(init=False)

    started: bool = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        # A resumed output has its header already; a new one gets it with its first page.
        self.started = self.options.resume
        self._recent = collections.deque(maxlen=_RECENT_PAGES)
        if self.state.recent_ids:
            self._recent.append(self.state.recent_ids)
        self._writer = writer_for(self.options.fmt, self.options.types)

    def start(self) -> None:
        """Begin a new output: its header, and the first checkpoint beside it."""
        header = self._writer.header()
        self.out.write(header)
        self.started = True
        self._save(part_bytes=len(header))

    def discard(self) -> None:
        """Remove what a new output that never got a page left: its ``.part`` and checkpoint.

        Nothing was exported, so there is nothing to resume; a checkpoint that ``--force``
        was to replace goes too, as its ``.part`` was replaced already.
        """
        for path in (self.paths.part, self.paths.checkpoint):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)

    def write_page(self, iterator: ArtworkIterator, items: tuple[Artwork, ...]) -> int:
        """Append one page (and its rejects), then checkpoint; return the artworks written."""
        if not self.started:
            self.start()
        data = self._writer.page(items)
        self.out.write(data)
        # iterator.invalid holds this run's rejects; those past the ones written are new.
        self.rejects.write(iterator.invalid[self.rejects.new :])
        self._recent.append(tuple(i for a in items if (i := _artwork_id(a)) is not None))
        self._save(
            next_offset=iterator.next_offset,
            part_bytes=self.state.part_bytes + len(data),
            items=self.state.items + len(items),
        )
        return len(items)

    def _save(self, **changes: Any) -> None:
        self.state = attrs.evolve(
            self.state,
            rejects=self.rejects.count,
            rejects_bytes=self.rejects.size,
            recent_ids=tuple(i for ids in self._recent for i in ids),
            **changes,
        )
        if self.paths.checkpoint is not None:
            with local_errors(self.paths.checkpoint):
                _checkpoint.save(self.paths.checkpoint, self.state)

    def finish(self) -> None:
        """Move the complete output into place and drop the checkpoint."""
        if not self.started:
            self.start()  # an empty listing: the header alone
        if self.paths.part is None:
            return
        target = self.paths.output.path
        assert target is not None  # noqa: S101 - a .part belongs to a file target
        self.out.close()
        with local_errors(target, doing=f"rename {self.paths.part} onto"):
            self.paths.part.replace(target)
        if self.paths.checkpoint is not None:
            with local_errors(self.paths.checkpoint, doing="remove"):
                _checkpoint.remove(self.paths.checkpoint)

    def close(self) -> None:
        """Close the files; what was written is on disk already, so errors here add nothing."""
        with contextlib.suppress(LocalFileError):
            self.out.close()
        self.rejects.close()
