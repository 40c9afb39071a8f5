"""``tengrai-async export``: every artwork to a file, page by page, resumable.

Each page is written whole and flushed to ``FILE.part``, then the checkpoint is replaced, so the
checkpoint never claims more than the ``.part`` holds; a finished export is renamed to ``FILE``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as _dt
import os
import time
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, TextIO

import attrs
import orjson

from .._client import TengrAI
from .._errors import ResponseValidationError
from .._models import Artwork
from .._pagination import ArtworkIterator
from . import _checkpoint
from ._checkpoint import Checkpoint, CheckpointError
from ._demo import DemoOptions
from ._formats import Format, Writer, writer_for
from ._progress import Progress, Summary

__all__ = ["STDOUT", "ExportOptions", "ExportPlan", "UsageError", "export", "plan"]

#: The ``-o`` value that means standard output.
STDOUT: Final = "-"
#: Where invalid items go when the export itself goes to standard output.
STDOUT_REJECTS: Final = "tengrai-rejects.jsonl"
# Ids of this many recent pages are kept in the checkpoint to drop repeats after a resume.
_RECENT_PAGES: Final = 2

EXIT_OK: Final = 0
EXIT_REJECTS: Final = 3


class UsageError(Exception):
    """The command cannot run as asked (exit code 2)."""


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
    page_size: int = 500
    prefetch: int = 4
    max_items: int | None = None
    demo: DemoOptions | None = None

    def query(self) -> dict[str, Any]:
        """What a checkpoint must match: everything that decides which bytes are written."""
        return {
            "format": self.fmt,
            "types": sorted(self.types),
            "statuses": sorted(self.statuses),
            "since": _utc_text(self.since),
            "until": _utc_text(self.until),
            "page_size": self.page_size,
            "max_items": self.max_items,
            "demo": None
            if self.demo is None
            else {"count": self.demo.count, "seed": self.demo.seed},
        }


def _utc_text(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(_dt.timezone.utc).isoformat()


@attrs.define(kw_only=True)
class _Paths:
    output: Path | None  # None: standard output
    part: Path | None
    checkpoint: Path | None
    rejects: Path


def _paths(options: ExportOptions) -> _Paths:
    if options.output == STDOUT:
        if options.resume:
            raise UsageError(
                "--resume needs an output file (-o FILE): standard output cannot resume"
            )
        rejects = Path(options.rejects or STDOUT_REJECTS)
        return _Paths(output=None, part=None, checkpoint=None, rejects=rejects)
    output = Path(options.output)
    if not output.parent.is_dir():
        raise UsageError(f"cannot write {output}: there is no directory {output.parent}")
    return _Paths(
        output=output,
        part=output.with_name(output.name + ".part"),
        checkpoint=output.with_name(output.name + ".checkpoint.json"),
        rejects=Path(options.rejects or output.with_name(output.name + ".rejects.jsonl")),
    )


def _starting_point(options: ExportOptions, paths: _Paths) -> Checkpoint:
    """The checkpoint to start from: a fresh one, or the saved one when resuming."""
    fresh = Checkpoint(query=options.query())
    if paths.checkpoint is None:
        return fresh
    exists = paths.checkpoint.exists()
    if options.resume:
        if not exists:
            raise UsageError(f"nothing to resume: there is no checkpoint {paths.checkpoint}")
        try:
            saved = _checkpoint.load(paths.checkpoint)
        except CheckpointError as exc:
            raise UsageError(str(exc)) from None
        _check_same_query(saved.query, fresh.query)
        if paths.part is not None:
            _check_resumable(
                paths.part, saved.part_bytes, _size(paths.part), what="the partial output"
            )
        if saved.rejects_bytes:
            _check_resumable(
                paths.rejects, saved.rejects_bytes, _size(paths.rejects), what="the rejects file"
            )
        return saved
    if exists and not options.force:
        raise UsageError(
            f"an interrupted export left {paths.checkpoint}: add --resume to continue it, "
            "or --force to start over"
        )
    return fresh


def _check_same_query(saved: dict[str, Any], asked: dict[str, Any]) -> None:
    differences = [
        f"{key} was {saved.get(key)!r}, now {asked[key]!r}"
        for key in asked
        if saved.get(key) != asked[key]
    ]
    if differences:
        raise UsageError(
            "--resume must ask for the same export as the interrupted run: "
            + "; ".join(differences)
            + " (or use --force to start over)"
        )


def _check_resumable(path: Path, size: int, actual: int | None, *, what: str) -> None:
    if actual is None:
        raise UsageError(f"cannot resume: {what} {path} is missing; use --force to start over")
    if actual < size:
        raise UsageError(
            f"cannot resume: {what} {path} holds {actual} bytes, fewer than the {size} "
            "the checkpoint recorded; use --force to start over"
        )


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _open_resumable(path: Path, size: int, *, what: str) -> BinaryIO:
    """Open *path* for appending after its first *size* bytes, dropping any partial tail."""
    # plan() checked the file; checked again here, as truncate() would pad a shorter one.
    file = path.open("r+b")
    try:
        _check_resumable(path, size, file.seek(0, os.SEEK_END), what=what)
        file.truncate(size)
        file.seek(size)
    except BaseException:
        file.close()
        raise
    return file


class _Rejects:
    """The rejects file: opened on the first invalid item only, appended to, counted."""

    def __init__(self, path: Path, *, count: int, size: int, resume: bool) -> None:
        self.path = path
        self.count = count
        self.size = size
        self.new = 0
        self._file: BinaryIO | None = None
        if resume and size:
            self._file = _open_resumable(path, size, what="the rejects file")
        elif path.exists():
            # Stale lines of an earlier run would read as this run's rejects.
            path.unlink()

    def write(self, errors: list[ResponseValidationError]) -> None:
        if not errors:
            return
        if self._file is None:
            self._file = self.path.open("wb")
        data = b"".join(
            orjson.dumps(
                {"offset": e.offset, "path": e.path, "error": str(e), "raw": e.raw},
                # A raw value orjson cannot encode still lands in the file, as its repr.
                default=repr,
                option=orjson.OPT_APPEND_NEWLINE,
            )
            for e in errors
        )
        self._file.write(data)
        _sync(self._file)
        self.size += len(data)
        self.count += len(errors)
        self.new += len(errors)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _sync(file: IO[bytes]) -> None:
    file.flush()
    # A pipe or a captured stream cannot be synced: flushed is as far as it goes.
    with contextlib.suppress(OSError, ValueError):
        os.fsync(file.fileno())


def _artwork_id(artwork: Artwork) -> str | None:
    return None if artwork.id is None else str(artwork.id)


@attrs.frozen(kw_only=True)
class ExportPlan:
    """An export checked against the files on disk, ready to run.

    Attributes:
        options: What was asked.
        paths: The output, ``.part``, checkpoint and rejects paths.
        state: Where to start: a fresh checkpoint, or the saved one when resuming.
    """

    options: ExportOptions
    paths: _Paths
    state: Checkpoint


def plan(options: ExportOptions) -> ExportPlan:
    """Check *options* against the files on disk, before any request.

    Raises:
        UsageError: A checkpoint is in the way, or there is none (or no usable one) to resume.
    """
    paths = _paths(options)
    return ExportPlan(options=options, paths=paths, state=_starting_point(options, paths))


async def export(client: TengrAI, ready: ExportPlan, *, stdout: BinaryIO, stderr: TextIO) -> int:
    """Run one export; return its exit code (0, or 3 when items were rejected).

    Raises:
        UsageError: The resumed files do not match the checkpoint.
        TengrAIError: The API failed (after retries); the checkpoint is kept.
        asyncio.CancelledError: Interrupted; the checkpoint matches the ``.part`` file.
    """
    options, paths, state = ready.options, ready.paths, ready.state
    if paths.part is not None:
        out: BinaryIO = (
            _open_resumable(paths.part, state.part_bytes, what="the partial output")
            if options.resume
            else paths.part.open("wb")
        )
    else:
        out = stdout
    try:
        rejects = _Rejects(
            paths.rejects, count=state.rejects, size=state.rejects_bytes, resume=options.resume
        )
    except BaseException:
        if out is not stdout:
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
    try:
        if not options.resume:
            run.start()
        async with iterator:
            async for page in iterator.pages():
                progress.update(run.write_page(iterator, page.items))
        run.finish()
        outcome = "done"
    except BaseException as exc:
        # Ctrl-C reaches here as the main task's cancellation (asyncio.run's SIGINT handler).
        if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
            outcome = "interrupted"
        raise
    finally:
        progress.close()
        run.close()
        if not options.quiet:
            summary = Summary(
                outcome=outcome,
                stats=iterator.stats,
                items=run.state.items - state.items,
                total_items=run.state.items,
                rejects=rejects.new,
                duplicates=iterator.stats.duplicates_dropped,
                elapsed=time.perf_counter() - started,
            )
            stderr.write(summary.format() + "\n")
        if outcome != "done" and paths.checkpoint is not None and paths.checkpoint.exists():
            stderr.write(
                f"tengrai-async: {paths.checkpoint} kept: run the same command with --resume "
                "to continue\n"
            )
        if rejects.count and outcome != "failed":
            stderr.write(
                f"tengrai-async: {rejects.count} invalid artworks written to {rejects.path}\n"
            )
    return EXIT_REJECTS if rejects.count else EXIT_OK


@attrs.define(kw_only=True)
class _Run:
    """The files of one export and the state the checkpoint records."""

    options: ExportOptions
    paths: _Paths
    state: Checkpoint
    out: BinaryIO
    rejects: _Rejects
    _recent: collections.deque[tuple[str, ...]] = attrs.field(init=False)
    _writer: Writer = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._recent = collections.deque(maxlen=_RECENT_PAGES)
        if self.state.recent_ids:
            self._recent.append(self.state.recent_ids)
        self._writer = writer_for(self.options.fmt, self.options.types)

    def start(self) -> None:
        """Open a new output: its header, and the first checkpoint beside it."""
        header = self._writer.header()
        self.out.write(header)
        _sync(self.out)
        self._save(part_bytes=len(header))

    def write_page(self, iterator: ArtworkIterator, items: tuple[Artwork, ...]) -> int:
        """Append one page (and its rejects), then checkpoint; return the artworks written."""
        data = self._writer.page(items)
        self.out.write(data)
        _sync(self.out)
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
            _checkpoint.save(self.paths.checkpoint, self.state)

    def finish(self) -> None:
        """Move the complete output into place and drop the checkpoint."""
        if self.paths.part is None or self.paths.output is None:
            return
        self.out.close()
        self.paths.part.replace(self.paths.output)
        if self.paths.checkpoint is not None:
            _checkpoint.remove(self.paths.checkpoint)

    def close(self) -> None:
        """Close the files (the output stays open when it is standard output)."""
        if self.paths.part is not None:
            self.out.close()
        else:
            # Every page was flushed already; a reader gone away (a broken pipe) is reported
            # where the write failed, not again here.
            with contextlib.suppress(OSError):
                self.out.flush()
        self.rejects.close()
